// `hierarchy` policy (model.md section 5, "Hierarchy (optional)"): every flagged account goes
// through a chain of stages, in order; each stage closes what it can and passes the rest on:
//
//   internal match -> Dutch auction -> backstop provider -> insurance fund -> ADL
//
// Parameters: perp.liquidation.hierarchy (HierarchyConfig); the auction uses perp.liquidation.dutch
// (curve, buf, keeper tip/chip) and penalty_bps / liquidator_share / close_factor; the fund stage
// follows perp.liquidation.socialized.loss_rule ("adl" or "haircut").
//
// Each step:
// 0. The insurance fund unwinds what earlier absorptions left it (FundAbsorber::unwind: at most the
//    best two opposite levels per venue) and repays its loan, as under `socialized`.
// 1. Internal match (internal_match = true). The ENTRANTS are the flagged accounts not closed and
//    not already in an auction, in account order. Per asset, their longs and their shorts (whole lots)
//    are crossed against each other at this step's mark, greedily in entrant order: the first long
//    against the first short for min(both) lots, the exhausted one replaced by the next on its side
//    (equal sizes: both closed). Contracts move long -> short and cash q x mark short -> long, by
//    ledger transfer; the book is not touched. Crossing at the mark leaves both accounts' equity at
//    mark unchanged. Each side pays penalty_bps of the crossed notional (capped at its equity, as
//    everywhere), all of it to the insurance fund (no liquidator did anything). One event per side
//    and fill, "hierarchy>internal", price = mark, slippage 0, liquidator -1. Only entrants of the
//    same step are crossed (not accounts already in an auction): a simplification.
// 2. Auction (auction_timeout_steps > 0). Every entrant with a position left is kicked into the
//    Dutch auction (DutchAuctions, shared with the `dutch` policy: same curve, reservation prices,
//    partial takes, penalty): a bot kicks when the tip + chip incentive is worth its transaction cost,
//    otherwise the protocol kicks at once (fallback delay 0: the chain never waits for a keeper). The
//    auction does NOT reset: it EXPIRES when auction_timeout_steps have passed since the kick (takes
//    are possible at steps kick .. kick + timeout - 1), when its reset rule (tail_s, cusp) would
//    fire, or when its price would pass the account's bankruptcy price (below it for a long lot,
//    above it for a short; checked before every take), and the account passes on, in the step it
//    expires. Takes are "hierarchy>dutch". The floor keeps the stage from selling below the
//    bankruptcy price, as Binance's liquidation order (an IOC at the bankruptcy price) and the
//    batch's reserve do: the later stages take the account at its bankruptcy price, so a sale
//    beyond it would only move a loss the fund stage prices correctly onto a realized deficit,
//    and ADL would then close the remainder at a bankruptcy price that carries that deficit
//    (until 2026-12-06: up to 26 x the mark on black_thursday_2020; scenarios/README.md).
//    An account whose lot the auction clears leaves it: if it is flat, its deficit is settled (see
//    below); with close_factor < 1 and a position left it enters the chain again if flagged again.
//    An expired auction passes its account on only if the account is still liquidatable (as
//    marked this step): one that partial takes made healthy again keeps the rest of its position.
// 3. Backstop (backstop = true and a provider exists; the kernel builds one with backstop_capacity
//    of cash). The provider takes the account's remaining contracts, per asset as many whole lots as
//    fit in its remaining capacity (capacity counted at mark value), at mark x (1 - d) for a long and
//    mark x (1 + d) for a short, d = backstop_discount_bps / 1e4 (sim/liquidation/backstop.*, shared
//    with delta_neutral's backstop mode), then unwinds them itself. When every contract fits, it
//    also takes the spot collateral the account's quote then lacks (at index x (1 - d), in asset
//    order, as much as covers the quote deficit: the account is taken over, as delta_neutral's
//    backstop takes the whole portfolio; the discount on it counts as collateral_haircut_cost). It keeps at most the account's
//    margin: when d x (value taken) exceeds the account's equity at mark E, d is lowered to
//    E / (value taken) (rounded down to 1e-6 bps), so the user ends at zero at worst and the fund
//    pays nothing for the takeover; with E <= 0 (already beyond the bankruptcy price) the provider
//    takes nothing and the account goes on to the fund. If the provider lacks the cash, nothing is
//    taken. No penalty (the discount is its fee). Events "hierarchy>backstop", liquidator -1.
// 4. Insurance fund. What is still open is absorbed by the fund at the bankruptcy price
//    (FundAbsorber::absorb, shared with `socialized`: the account ends at exactly 0, the fund may
//    borrow the cash leg from the bad-debt account while its equity backs the loan). Event
//    "hierarchy>insurance".
// 5. ADL. When the fund's equity cannot carry the absorbed loss, the shortfall is auto-deleveraged
//    against ranked opposite profitable positions at the bankruptcy price (loss_rule "adl": the
//    absorbed account's event and every ADL'd account's event are "hierarchy>adl") or taken pro rata
//    from winners' profits ("haircut": "hierarchy>haircut"); what remains is bad debt (">bad_debt").
//    The fund's own inventory marked below its floor (-fund_borrow_limit) is socialized the same
//    way (FundAbsorber::floor, after its unwinding and after the step): deleveraged at the fund's
//    bankruptcy price ("hierarchy>fund_adl>deleveraged" events) or a haircut; the rest bad debt.
// Dust: contracts below one lot cannot be traded. The stages work on whole lots; an account left
// with dust only counts as flat, and the dust stays in the closed account (as under `dutch`).
// A remainder whose bankruptcy price is <= 0 (the deficit earlier stages realized exceeds what the
// remaining contracts are worth, e.g. a short the auction bought back mostly at a loss) cannot be
// deleveraged (ADL needs a positive price) and its event reports the mark and the value at mark
// instead of the meaningless price; the money moves are those of the absorption.
// Flat accounts (closed by the internal match, the auction or the backstop) with negative quote
// settle their deficit through the same fund (FundAbsorber's no-position path: collateral
// conversion, fund cash, then a loan from the bad-debt account while the fund's equity stays >=
// -fund_borrow_limit, bad debt beyond), are closed, and their last event gets ">insurance" when the fund paid and no bad
// debt was left, ">bad_debt" when some was (the fund, earlier in the chain, was then exhausted); a
// flat account's deficit is not deleveraged (it has no position left to close against anyone).
// Suffixes are chosen so that every path fits the results file's 64 characters (kPolicyPathWidth).
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <vector>

#include "agents/backstop_provider.hpp"
#include "sim/liquidation/backstop.hpp"
#include "sim/liquidation/dutch_auction.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

class HierarchyPolicy final : public LiquidationPolicy {
 public:
  explicit HierarchyPolicy(const LiquidationConfig& cfg)
      : cfg_(cfg),
        auctions_(cfg, DutchAuctionOptions{"hierarchy>dutch", false, cfg.hierarchy.auction_timeout_steps, true}),
        fund_(cfg.socialized.loss_rule, FundPaths{"hierarchy>insurance", "hierarchy>adl", "hierarchy>haircut", "hierarchy>fund_adl"}, credit_) {
    credit_.limit = fund_borrow_limit_micros(cfg);
    fund_.set_socialize_floor(true);  // the fund/ADL stages socialize the fund's floor loss too
  }
  Micros apply_fund_floor(LiquidationContext& ctx) override { return fund_.floor(ctx, stats_); }
  const char* name() const override { return "hierarchy"; }

  void on_step(LiquidationContext& ctx) override {
    fund_.unwind(ctx, stats_);
    entrants_.clear();
    for (std::uint32_t id : ctx.margin.flagged()) {
      const MarginAccount& acc = ctx.margin.account(id);
      if (!acc.closed && !acc.in_liquidation) entrants_.push_back(id);
    }
    if (cfg_.hierarchy.internal_match) {
      for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) internal_match(ctx, i);
    }
    for (std::uint32_t id : entrants_) {
      MarginAccount& acc = ctx.margin.account(id);
      if (acc.closed) continue;
      if (!tradable(ctx, acc)) {
        settle_flat(ctx, id);
        continue;
      }
      if (cfg_.hierarchy.auction_timeout_steps > 0) {
        const DutchAuctions::Kick k = auctions_.kick(ctx, id, /*protocol_fallback_steps=*/0);
        if (k == DutchAuctions::Kick::Started) continue;
        if (k == DutchAuctions::Kick::None) continue;  // not reachable with fallback 0; waits, flagged
      }
      after_auction(ctx, id);  // no auction stage
    }
    for (const DutchAuctions::Outcome& o : auctions_.advance(ctx, stats_)) {
      MarginAccount& acc = ctx.margin.account(o.id);
      if (!tradable(ctx, acc)) settle_flat(ctx, o.id);
      else if (o.expired && acc.liquidatable) after_auction(ctx, o.id);
      // else: its lot was cleared (close_factor < 1) or it is healthy again after partial takes: it
      // keeps the rest and enters the chain again if it is flagged again
    }
  }

 private:
  struct Side_ {
    std::uint32_t id;
    Lots lots;
  };

  // At least one whole lot of contracts in some asset. Dust below a lot cannot be traded; an
  // account holding only dust is settled as flat and keeps it (as under `dutch`).
  static bool tradable(const LiquidationContext& ctx, const MarginAccount& acc) {
    for (const AssetMarket& am : ctx.market.assets)
      if (std::abs(ctx.market.ledger.balance(acc.account, am.perp_asset)) >= am.perp->spec().lot_micros) return true;
    return false;
  }

  std::int64_t last_event(std::uint32_t id) const {
    const auto it = last_event_.find(id);
    const std::int64_t mine = it == last_event_.end() ? -1 : static_cast<std::int64_t>(it->second);
    return std::max(mine, auctions_.last_event(id));
  }

  void emit(LiquidationContext& ctx, const MarginAccount& acc, std::uint32_t id, const char* path, double qty, double price,
            double mark, bool sold, double penalty) {
    LiquidationEvent e;
    e.step = ctx.step;
    e.account = acc.account;
    e.agent_type = owner_kind_name(ctx, acc);
    e.policy_path = path;
    e.notional = qty * price;
    e.price = price;
    e.mark = mark;
    e.slippage_bps = slippage_bps(sold, price, mark);
    e.penalty = penalty;
    e.liquidator = -1;
    e.steps_to_complete = static_cast<std::int32_t>(acc.flagged_since >= 0 ? ctx.step - acc.flagged_since : 0);
    e.endogenous = acc.endogenous_at_flag;
    ctx.events.push_back(e);
    last_event_[id] = ctx.events.size() - 1;
    ++stats_.count;
    stats_.notional += e.notional;
  }

  // Stage 1 on asset i: the entrants' longs against their shorts at the mark.
  void internal_match(LiquidationContext& ctx, std::size_t i) {
    Ledger& L = ctx.market.ledger;
    const AssetMarket& am = ctx.market.assets[i];
    const Micros lot = am.perp->spec().lot_micros;
    longs_.clear();
    shorts_.clear();
    for (std::uint32_t id : entrants_) {
      const Micros c = L.balance(ctx.margin.account(id).account, am.perp_asset);
      const Lots lots = std::abs(c) / lot;
      if (lots > 0) (c > 0 ? longs_ : shorts_).push_back({id, lots});
    }
    const double mark = am.mark_or_reference();
    const AssetId q = ctx.market.quote_asset;
    Liquidator protocol;  // agent -1: the whole penalty goes to the insurance fund
    protocol.account = ctx.accounts.protocol;
    protocol.found = true;
    std::size_t li = 0, si = 0;
    while (li < longs_.size() && si < shorts_.size()) {
      Side_& lg = longs_[li];
      Side_& sh = shorts_[si];
      const Lots n = std::min(lg.lots, sh.lots);
      MarginAccount& la = ctx.margin.account(lg.id);
      MarginAccount& sa = ctx.margin.account(sh.id);
      const Micros contracts = checked_mul(n, lot);
      const Micros cash = to_fixed(mark, static_cast<double>(contracts));  // mark x contracts (micros)
      if (!L.can_pay(sa.account, q, cash)) {  // a short that cannot pay is left to the next stages
        ++si;
        continue;
      }
      L.transfer(la.account, sa.account, am.perp_asset, contracts);
      L.transfer(sa.account, la.account, q, cash);
      ctx.margin.record_transfer(la.account, sa.account, i, contracts, mark);
      const double qty = from_micros(contracts);
      const Micros pl = charge_penalty(ctx, la, cash, cfg_.penalty_bps, cfg_.liquidator_share, protocol);
      emit(ctx, la, lg.id, "hierarchy>internal", qty, mark, mark, true, from_micros(pl));
      const Micros ps = charge_penalty(ctx, sa, cash, cfg_.penalty_bps, cfg_.liquidator_share, protocol);
      emit(ctx, sa, sh.id, "hierarchy>internal", qty, mark, mark, false, from_micros(ps));
      lg.lots -= n;
      sh.lots -= n;
      if (lg.lots == 0) ++li;
      if (sh.lots == 0) ++si;
    }
  }

  // Stages 3-5 for an account the auction did not close.
  void after_auction(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    if (cfg_.hierarchy.backstop && ctx.backstop != nullptr) backstop(ctx, id);
    if (!tradable(ctx, acc)) {
      settle_flat(ctx, id);
      return;
    }
    double at_mark = 0.0;  // the remaining contracts' value at mark
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i)
      at_mark += std::abs(ctx.margin.position(acc, i)) * ctx.market.assets[i].mark_or_reference();
    const std::size_t first_event = ctx.events.size();
    const FundAbsorber::Result r = fund_.absorb(ctx, acc, stats_);
    fund_.repay(ctx);
    // Reporting only (the money moved at the bankruptcy price): when the deficit that earlier stages
    // realized exceeds what the remaining contracts are worth, their bankruptcy price is <= 0; the
    // event then reports the mark and the value at mark, so that notional and slippage stay meaningful.
    if (r.had_positions && first_event < ctx.events.size()) {
      LiquidationEvent& e = ctx.events[first_event];
      if (e.account == acc.account && !(e.price > 0 && e.notional > 0)) {
        stats_.notional += at_mark - e.notional;
        e.notional = at_mark;
        e.price = e.mark;
        e.slippage_bps = 0.0;
      }
    }
  }

  // Stage 3: as many whole lots per asset as fit in the provider's remaining capacity and cash.
  void backstop(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    BackstopProvider& bp = *ctx.backstop;
    Ledger& L = ctx.market.ledger;
    const double d_bps = cfg_.hierarchy.backstop_discount_bps;
    legs_.clear();
    double gross = 0.0;
    bool whole = true;  // every contract of the account fits the provider's capacity and cash
    double cash_left = from_micros(L.balance(bp.account(), ctx.market.quote_asset));
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      const Micros c = L.balance(acc.account, am.perp_asset);
      if (c == 0) continue;
      const Micros lot = am.perp->spec().lot_micros;
      const double mark = am.mark_or_reference();
      const double lot_value = from_micros(lot) * mark;
      if (!(lot_value > 0)) continue;
      const double room = bp.remaining_capacity() - gross;
      Lots n = std::min<Lots>(std::abs(c) / lot, static_cast<Lots>(std::floor(std::max(0.0, room) / lot_value)));
      if (c > 0) {  // the provider pays for a long: its cash bounds the take too
        const double per_lot = lot_value * (1.0 - d_bps * 1e-4);
        if (per_lot > 0) n = std::min<Lots>(n, static_cast<Lots>(std::floor(std::max(0.0, cash_left) / per_lot)));
      }
      // Floating-point guard: never more than the remaining capacity.
      while (n > 0 && from_micros(checked_mul(n, lot)) * mark > room + 1e-9) --n;
      if (n <= 0) {
        if (std::abs(c) >= lot) whole = false;
        continue;
      }
      const Micros units = checked_mul(n, lot) * (c > 0 ? 1 : -1);
      legs_.push_back(backstop_leg(i, false, units, mark, d_bps, &gross));
      cash_left -= from_micros(legs_.back().pay);
      if (n < std::abs(c) / lot) whole = false;
    }
    if (legs_.empty()) return;
    // The spot collateral the account's quote needs once its contracts are gone: taken with them,
    // as delta_neutral's backstop takes the whole portfolio and the fund stage takes the account
    // with its collateral. Only when every contract fits (the provider takes over the account),
    // only as much as covers the quote deficit, in asset order, within capacity and cash. Until
    // 2026-12-06 the provider took the contracts only, and the account's spot was then sold on the
    // spot book by collateral conversion (basis_loop: a second wave of hedged accounts, traced on
    // seed 2062, scenarios/README.md).
    if (whole) add_spot_legs(ctx, bp, acc, d_bps, gross, cash_left);
    // One backstop rule with delta_neutral (backstop_take): the provider keeps at most the
    // account's margin; nothing is taken from an account at or beyond its bankruptcy price.
    double eff_bps = d_bps;
    if (!backstop_take(ctx, bp, acc, legs_, gross, d_bps, &eff_bps)) return;
    for (const BackstopLeg& g : legs_) {
      if (g.spot) {  // collateral, not a liquidated position: counted as the fund stage counts it
        const double qty = from_micros(g.units);
        stats_.spot_taken_over += qty * g.price;
        stats_.collateral_haircut += qty * (g.price - g.transfer_price(eff_bps));
        continue;
      }
      emit(ctx, acc, id, "hierarchy>backstop", std::abs(from_micros(g.units)), g.transfer_price(eff_bps), g.price, g.units > 0, 0.0);
    }
  }

  void add_spot_legs(LiquidationContext& ctx, BackstopProvider& bp, const MarginAccount& acc, double d_bps, double& gross,
                     double& cash_left) {
    Ledger& L = ctx.market.ledger;
    double quote = from_micros(L.balance(acc.account, ctx.market.quote_asset));
    for (const BackstopLeg& g : legs_) quote += from_micros(g.pay);
    for (std::size_t i = 0; i < ctx.market.assets.size() && quote < 0; ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      const Micros held = L.balance(acc.account, am.spot_asset);
      const double index = am.index_or_reference();
      const double unit_pay = index * (1.0 - d_bps * 1e-4);  // quote per unit the provider pays
      if (held <= 0 || !(unit_pay > 0)) continue;
      Micros units = std::min<Micros>(held, static_cast<Micros>(std::ceil(-quote / unit_pay * 1e6)));
      const double room = bp.remaining_capacity() - gross;
      units = std::min<Micros>(units, static_cast<Micros>(std::floor(std::max(0.0, room) / index * 1e6)));
      units = std::min<Micros>(units, static_cast<Micros>(std::floor(std::max(0.0, cash_left) / unit_pay * 1e6)));
      if (units <= 0) continue;
      legs_.push_back(backstop_leg(i, true, units, index, d_bps, &gross));
      cash_left -= from_micros(legs_.back().pay);
      quote += from_micros(legs_.back().pay);
    }
  }

  // A flat account (or one holding only dust): its deficit through the fund (cash, loan, then bad
  // debt); closed.
  void settle_flat(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    const FundAbsorber::Result r = fund_.settle_deficit_only(ctx, acc, stats_);
    fund_.repay(ctx);
    const std::int64_t idx = last_event(id);
    if (idx < 0 || static_cast<std::size_t>(idx) >= ctx.events.size()) return;
    LiquidationEvent& last = ctx.events[static_cast<std::size_t>(idx)];
    if (r.haircut_paid > 0) last.policy_path += ">haircut";
    if (r.bad_debt > 0) last.policy_path += ">bad_debt";
    else if (r.insurance_paid > 0 && r.haircut_paid == 0) last.policy_path += ">insurance";
    last.bad_debt = from_micros(r.bad_debt);
  }

  LiquidationConfig cfg_;
  DutchAuctions auctions_;
  FundAbsorber fund_;
  std::vector<std::uint32_t> entrants_;
  std::vector<Side_> longs_, shorts_;
  std::vector<BackstopLeg> legs_;
  std::unordered_map<std::uint32_t, std::size_t> last_event_;  // margin id -> its last internal/backstop event
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_hierarchy_policy(const LiquidationConfig& cfg) { return std::make_unique<HierarchyPolicy>(cfg); }

}  // namespace sl
