// `delta_neutral` policy (model.md section 5; the seeds' "delta-neutral liquidation"): for accounts
// whose legs hedge each other, close the perpetual leg and sell (or buy back) the spot collateral
// together, so that neither the account nor the venue is left with a directional position while the
// unwind runs.
//
// Hedged account: a flagged margin account that, for some asset a, holds perpetual contracts AND
// spot collateral of a in the margin account itself (spot in a wallet or in transit does not count)
// with opposite delta (short perp + long spot, or long perp + short spot). Per asset a:
//     delta_a = spot units + contracts (units),  gross_a = |spot| + |contracts|.
// Accounts that are not hedged get the baseline (the `market` policy's liquidation order, the same
// code: sim/liquidation/book_liquidation.hpp: close_factor of each position by an IOC at the
// bankruptcy price, penalty; what the IOC leaves is taken over by the insurance fund at the
// bankruptcy price, then ADL, then bad debt; a flat account's deficit to the fund, then bad debt)
// with policy_path "delta_neutral>market" ("delta_neutral>insurance" / ">adl" for the takeover); so
// do the perp positions of a hedged account in assets where it holds no opposite spot.
//
// One *stage* on a hedged asset (working in |units|, S = |spot|, P = |contracts|, n0 = S - P the
// net delta signed so that closing the perp adds to it and selling the spot takes from it; band
// B = delta_band x (S + P) before the stage; caps perp_cap and spot_cap in units):
//   S_max  = min(S, spot_cap)                                (what the spot leg can trade)
//   perp   = min(P, perp_cap, S_max - n0 + B), in lots      (so that the band can be kept)
//   -> the venue's liquidation order closing `perp`; it fills q_p
//   spot   = clamp(n0 + q_p, 0, S_max), in lots             (re-hedge to net delta 0)
//   -> market order on the spot book; it fills q_s
// The perp leg's order follows perp.liquidation.market_order, as `market`'s does (issue #12: one
// venue rule for every policy; book_liquidation.hpp): "ioc_bankruptcy" (default, Binance) an IOC
// limited at the account's bankruptcy price for that leg (MarginEngine::bankruptcy_price at this
// step's marks, limit tick bankruptcy_limit_tick), the rest cancelled; "market" (V1) an unlimited
// market order. The spot leg re-hedges what the perp leg actually filled, so the band holds either
// way. When the IOC left lots unfilled and, after the spot leg and the penalty, an IOC at the
// recomputed bankruptcy price could still fill nothing (the account is at or past its bankruptcy),
// the insurance fund takes over everything the account holds, both legs, at the bankruptcy prices,
// then ADL, then bad debt: the same FundAbsorber path liquidate_on_book uses
// ("delta_neutral>insurance" / ">adl"); the account is closed.
// so |net delta| after the stage = |n0 + q_p - q_s| <= B whenever the account entered the stage
// within the band and the spot book filled what was visible (spot_cap never exceeds the visible
// depth). An account that enters under-hedged (|perp| > |spot| + B) has its excess perp closed
// first: its |net delta| falls monotonically toward the band and never rises. Spot left after the
// perp is gone (over-hedge, rounding) stays in the account as collateral, as in the baseline.
//
// Modes (perp.liquidation.delta_neutral.mode):
// - `atomic`: one stage per liquidation, perp_cap = close_factor x P (lots rounded as in
//   close_via_book), spot_cap = the whole visible opposite side of the spot book. The liquidator is
//   chosen as in the market policy; penalty_bps is charged on the perp leg's notional
//   (charge_penalty). With close_factor < 1 the account stays flagged and is liquidated again.
// - `staged`: the liquidator is chosen once; the account is in_liquidation until done and gets one
//   stage per step (the first in the step it starts) with
//       slice = slice_depth_share x min(perp depth, spot depth), each the depth resting on the side
//       the leg hits within 1% of that venue's mid (at least one lot when both are non-zero);
//   perp_cap = slice, spot_cap = the spot depth within 1% (the re-hedge may exceed the slice by the
//   imbalance the account brought in). The band uses the gross before each stage. A step with an
//   empty side does nothing (the account waits). Penalty per perp slice.
// - `backstop`: the BackstopProvider (ctx.backstop) takes the whole portfolio: every spot unit and
//   contract of the margin account, every asset. Each leg of q units (signed) at price x (index for
//   spot, mark for contracts) transfers at x (1 - d sgn(q)), d = backstop_discount_bps: long legs
//   are bought below their value, short legs taken over above it. The provider pays the account
//       sum_legs q x - d x sum_legs |q| x  =  portfolio mark value - d x gross portfolio value
//   in quote (negative: the account pays the provider); the account keeps its quote. For a one-
//   directional portfolio this is exactly value x (1 - d); for a hedged one (value ~ 0) the discount
//   applies to what the provider must unwind, the gross. Capacity is consumed by the gross value.
//   The provider keeps at most the account's margin, by the one backstop rule hierarchy's backstop
//   stage uses (backstop_take, sim/liquidation/backstop.hpp): when d x gross exceeds the account's
//   equity at the takeover values E_t, d is lowered to E_t / gross, so the account ends at zero at
//   worst and the insurance fund pays nothing; with E_t <= 0 the provider takes nothing.
//   No penalty (the discount is the provider's fee); event liquidator = -1. Then settle_deficit
//   and the account is closed; the provider unwinds in its own act(). If there is no provider, the
//   gross value exceeds its remaining capacity, the account is at or past its bankruptcy (E_t <= 0),
//   or either side cannot pay (a plain account short of cash or of spot), the account falls back to
//   `atomic` (policy_path "delta_neutral>atomic").
//
// The insurance fund unwinds what it took over (from a baseline close, or a hedged account at its
// bankruptcy: both legs) at the best two levels per venue per step as under `market`, but a hedged
// pair by the pair rule (FundAbsorber::unwind, paired; plan_pair_unwind in
// agents/inventory_unwind.hpp): the directional excess first, then both legs together only while the
// pair closes at a non-negative basis after fees, so the fund's net delta never grows and it never
// buys the perp back above the spot it sells. Under `market` the fund unwinds each venue on its own
// and, the spot book being deeper, holds the short perp leg unhedged for minutes (traced in
// scenarios/README.md, basis_loop).
//
// As in the market policy, no liquidator is chosen (no transaction cost paid) for an account whose
// perp positions all face an empty book side; it waits, flagged.
//
// Events: one per leg per stage, policy_path "delta_neutral>atomic" / ">staged" / ">backstop"
// (spot legs: mark = index price, slippage against it). The final deficit appends ">insurance" /
// ">bad_debt" to the account's last event as in the market policy. stats_: count and notional per
// event (both legs count: both are liquidated), bad debt per account.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "agents/backstop_provider.hpp"
#include "sim/liquidation/backstop.hpp"
#include "sim/liquidation/book_liquidation.hpp"
#include "sim/liquidation/common.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

enum class Mode { Atomic, Staged, Backstop };

Mode parse_mode(const std::string& s) {
  if (s == "atomic") return Mode::Atomic;
  if (s == "staged") return Mode::Staged;
  if (s == "backstop") return Mode::Backstop;
  throw std::invalid_argument("unknown delta_neutral mode '" + s + "' (atomic | staged | backstop)");
}

// Hedged in asset i: contracts and margin-account spot of opposite sign.
bool hedged_in(const LiquidationContext& ctx, const MarginAccount& acc, std::size_t i) {
  const AssetMarket& am = ctx.market.assets[i];
  const Micros p = ctx.market.ledger.balance(acc.account, am.perp_asset);
  const Micros s = ctx.market.ledger.balance(acc.account, am.spot_asset);
  return (p < 0 && s > 0) || (p > 0 && s < 0);
}

bool hedged(const LiquidationContext& ctx, const MarginAccount& acc) {
  for (std::size_t i = 0; i < ctx.market.assets.size(); ++i)
    if (hedged_in(ctx, acc, i)) return true;
  return false;
}

Lots total_depth(const Venue& v, Side resting) { return v.book().depth_between(resting, 1, v.spec().max_tick); }

// Depth resting on `resting` within 1% of the venue's mid.
Lots depth_within_1pct(const AssetMarket& am, const Venue& v, Side resting) {
  const double mid = am.visible_mid_ticks(v);  // the index when a side is missing (issue #14)
  if (resting == Side::Sell) return v.book().depth_between(Side::Sell, 1, static_cast<Tick>(std::floor(mid * 1.01)));
  return v.book().depth_between(Side::Buy, static_cast<Tick>(std::ceil(mid * 0.99)), v.spec().max_tick);
}

struct Work {
  std::uint32_t id = 0;
  Liquidator liq;
  std::int64_t flagged_since = 0;
  bool endogenous = false;
};

class DeltaNeutralPolicy final : public LiquidationPolicy {
 public:
  explicit DeltaNeutralPolicy(const LiquidationConfig& cfg)
      : cfg_(cfg),
        mode_(parse_mode(cfg.delta_neutral.mode)),
        fund_("adl", FundPaths{"delta_neutral>insurance", "delta_neutral>adl", "delta_neutral>haircut"}, credit_) {
    credit_.limit = fund_borrow_limit_micros(cfg);
  }
  const char* name() const override { return "delta_neutral"; }

  void on_step(LiquidationContext& ctx) override {
    // What the fund took over (baseline closes, hedged accounts at bankruptcy): a hedged pair in
    // pairs, so that the protocol does not carry the directional position this policy exists to avoid.
    fund_.unwind(ctx, stats_, /*paired=*/true);
    // Staged unwinds started in earlier steps advance first, in the order they started.
    for (std::size_t k = 0; k < work_.size();) {
      MarginAccount& acc = ctx.margin.account(work_[k].id);
      if (acc.closed || staged_step(ctx, acc, work_[k])) {
        acc.in_liquidation = false;
        work_.erase(work_.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
    for_each_new_flagged(ctx, [&](std::uint32_t id, MarginAccount& acc) { start(ctx, id, acc); });
  }

 private:
  struct Leg {
    double qty = 0.0;       // units filled (absolute)
    double notional = 0.0;  // quote
    Micros notional_micros = 0;
  };

  Liquidator pick(LiquidationContext& ctx, const MarginAccount& acc) {
    return choose_liquidator(ctx, acc, expected_penalty_reward(ctx, acc, cfg_), cfg_.protocol_fallback_steps);
  }

  // Something on the other side of a perp book the account must close into, or no position at all
  // (collateral-only debt); otherwise nobody sends a transaction and the account waits, flagged.
  static bool closable(const LiquidationContext& ctx, const MarginAccount& acc) {
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const Micros c = ctx.market.ledger.balance(acc.account, ctx.market.assets[i].perp_asset);
      if (c != 0 && !ctx.market.assets[i].perp->book().empty(c > 0 ? Side::Buy : Side::Sell)) return true;
    }
    return !has_positions(ctx, acc);
  }

  void start(LiquidationContext& ctx, std::uint32_t id, MarginAccount& acc) {
    const bool is_hedged = hedged(ctx, acc);
    if (is_hedged && mode_ == Mode::Backstop && backstop(ctx, acc)) return;
    // As in the market policy: under V1 market orders nobody sends a transaction into an empty book;
    // under the IOC an unhedged account goes through exactly the market policy's steps (the fund
    // takes over what the book cannot fill), so it is not held back.
    if (!(ioc_at_bankruptcy(cfg_) && !is_hedged) && !closable(ctx, acc)) return;
    const Liquidator liq = pick(ctx, acc);
    if (!liq.found) return;  // nobody acts this step: the account stays flagged
    Work w{id, liq, acc.flagged_since, acc.endogenous_at_flag};
    const std::size_t first_event = ctx.events.size();
    if (is_hedged && mode_ == Mode::Staged) {
      acc.in_liquidation = true;
      if (staged_step(ctx, acc, w)) {
        acc.in_liquidation = false;
      } else {
        work_.push_back(w);
      }
      return;
    }
    if (is_hedged) {
      for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
        if (!hedged_in(ctx, acc, i)) continue;
        const Venue& perp = *ctx.market.assets[i].perp;
        const Micros p = ctx.market.ledger.balance(acc.account, ctx.market.assets[i].perp_asset);
        const Lots pos_lots = std::abs(p) / perp.spec().lot_micros;
        const Lots cap = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, std::max<Lots>(pos_lots, 1));
        const Venue& spot = *ctx.market.assets[i].spot;
        const Micros s = ctx.market.ledger.balance(acc.account, ctx.market.assets[i].spot_asset);
        const Lots spot_cap = total_depth(spot, s > 0 ? Side::Buy : Side::Sell);
        if (take_over_if_bankrupt(ctx, acc, i, stage(ctx, acc, i, w, checked_mul(cap, perp.spec().lot_micros), checked_mul(spot_cap, spot.spec().lot_micros), "delta_neutral>atomic")))
          break;
      }
    }
    if (!acc.closed) close_unhedged(ctx, acc, w);
    finish_if_flat(ctx, acc, first_event);
  }

  // One stage of a staged unwind; true when the account is done (closed).
  bool staged_step(LiquidationContext& ctx, MarginAccount& acc, const Work& w) {
    const std::size_t first_event = ctx.events.size();
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      if (!hedged_in(ctx, acc, i)) continue;
      AssetMarket& am = ctx.market.assets[i];
      const Micros p = ctx.market.ledger.balance(acc.account, am.perp_asset);
      const Micros s = ctx.market.ledger.balance(acc.account, am.spot_asset);
      const Side perp_hits = p < 0 ? Side::Sell : Side::Buy;  // buying back a short hits the asks
      const Side spot_hits = s > 0 ? Side::Buy : Side::Sell;  // selling spot hits the bids
      const Lots perp_depth = depth_within_1pct(am, *am.perp, perp_hits);
      const Lots spot_depth = depth_within_1pct(am, *am.spot, spot_hits);
      const Micros perp_depth_u = checked_mul(perp_depth, am.perp->spec().lot_micros);
      const Micros spot_depth_u = checked_mul(spot_depth, am.spot->spec().lot_micros);
      const Micros lot = am.perp->spec().lot_micros;
      const double slice_u = cfg_.delta_neutral.slice_depth_share * static_cast<double>(std::min(perp_depth_u, spot_depth_u));
      Lots slice = static_cast<Lots>(std::floor(slice_u / static_cast<double>(lot)));
      if (perp_depth > 0 && spot_depth > 0) slice = std::max<Lots>(slice, 1);
      if (take_over_if_bankrupt(ctx, acc, i, stage(ctx, acc, i, w, checked_mul(slice, lot), spot_depth_u, "delta_neutral>staged")))
        break;
    }
    if (!acc.closed) close_unhedged(ctx, acc, w);
    return finish_if_flat(ctx, acc, first_event);
  }

  // The stage described at the top of the file, on asset i. Caps in asset micro-units.
  // Returns true when the perp leg was sent as an IOC at the bankruptcy price and left lots unfilled.
  bool stage(LiquidationContext& ctx, MarginAccount& acc, std::size_t i, const Work& w, Micros perp_cap, Micros spot_cap,
             const char* path) {
    AssetMarket& am = ctx.market.assets[i];
    Ledger& L = ctx.market.ledger;
    Venue& perp = *am.perp;
    Venue& spot = *am.spot;
    const Micros p = L.balance(acc.account, am.perp_asset);
    const Micros s = L.balance(acc.account, am.spot_asset);
    const Micros P = std::abs(p), S = std::abs(s);
    const Micros n0 = S - P;
    const Micros band = static_cast<Micros>(std::floor(cfg_.delta_neutral.delta_band * static_cast<double>(S + P)));
    const Micros plot = perp.spec().lot_micros, slot = spot.spec().lot_micros;
    const Lots s_max_lots = std::min(S, std::max<Micros>(0, spot_cap)) / slot;
    const Micros s_max = checked_mul(s_max_lots, slot);
    const Micros perp_room = std::min({P, std::max<Micros>(0, perp_cap), s_max - n0 + band});
    const Lots perp_lots = perp_room > 0 ? perp_room / plot : 0;
    Leg pl;
    bool perp_unfilled = false;
    if (perp_lots > 0) {
      const Side perp_side = p < 0 ? Side::Buy : Side::Sell;
      if (ioc_at_bankruptcy(cfg_)) {
        // The venue's liquidation order (book_liquidation.hpp, the one `market` sends): an IOC limited
        // at the account's bankruptcy price for this leg, recomputed at this step's marks; a short
        // whose equity is negative at every positive price sends none.
        const Tick px = bankruptcy_limit_tick(perp, perp_side, ctx.margin.bankruptcy_price(acc, i));
        const Lots filled = px > 0 ? perp.limit(acc.account, perp_side, px, perp_lots, TimeInForce::IOC).filled : 0;
        perp_unfilled = filled < perp_lots;
      } else {
        perp.market(acc.account, perp_side, perp_lots);  // V1: unlimited
      }
      const Micros after = L.balance(acc.account, am.perp_asset);
      pl.qty = from_micros(std::abs(p - after));
      pl.notional_micros = perp.last_notional();
      pl.notional = from_micros(pl.notional_micros);
    }
    const Micros q_p = to_fixed(pl.qty, 1e6);
    const Micros want_s = std::clamp<Micros>(n0 + q_p, 0, s_max);
    const Lots spot_lots = static_cast<Lots>(std::llround(static_cast<double>(want_s) / static_cast<double>(slot)));
    Leg sl_;
    if (spot_lots > 0) {
      spot.market(acc.account, s > 0 ? Side::Sell : Side::Buy, std::min(spot_lots, s_max_lots));
      const Micros after = L.balance(acc.account, am.spot_asset);
      sl_.qty = from_micros(std::abs(s - after));
      sl_.notional_micros = spot.last_notional();
      sl_.notional = from_micros(sl_.notional_micros);
    }
    if (pl.qty > 0) {
      const Micros penalty = charge_penalty(ctx, acc, pl.notional_micros, cfg_.penalty_bps, cfg_.liquidator_share, w.liq);
      emit(ctx, acc, w, path, pl, am.mark_or_reference(), /*sold=*/p > 0, from_micros(penalty));
    }
    if (sl_.qty > 0) emit(ctx, acc, w, path, sl_, am.index_or_reference(), /*sold=*/s > 0, 0.0);
    return perp_unfilled;
  }

  // The IOC left part of the perp leg in asset i unfilled. The spot leg has since re-hedged and the
  // penalty was charged, so the bankruptcy price is recomputed: if an IOC at it could still fill
  // nothing (no resting order at or better than p_b on the side the leg hits, or no positive p_b for
  // a short), the account is at or past its bankruptcy for that leg and, as liquidate_on_book does
  // for `market`, the insurance fund takes over everything it still holds (both legs) at the
  // bankruptcy prices, then ADL, then bad debt (FundAbsorber::absorb; "delta_neutral>insurance" /
  // ">adl"); the account is closed. Otherwise (the spot sale restored enough equity to close more)
  // the account keeps its hedged remainder and is liquidated again while flagged. True when the
  // fund took the account over.
  bool take_over_if_bankrupt(LiquidationContext& ctx, MarginAccount& acc, std::size_t i, bool perp_unfilled) {
    if (!perp_unfilled || acc.closed || !has_positions(ctx, acc)) return false;
    const AssetMarket& am = ctx.market.assets[i];
    const Venue& perp = *am.perp;
    const Micros c = ctx.market.ledger.balance(acc.account, am.perp_asset);
    if (c != 0) {
      const Side side = c > 0 ? Side::Sell : Side::Buy;
      const Tick px = bankruptcy_limit_tick(perp, side, ctx.margin.bankruptcy_price(acc, i));
      const bool fillable = px > 0 && (side == Side::Buy ? perp.book().depth_between(Side::Sell, 1, px) > 0
                                                         : perp.book().depth_between(Side::Buy, px, perp.spec().max_tick) > 0);
      if (fillable) return false;
    }
    fund_.absorb(ctx, acc, stats_);  // closes the account
    fund_.repay(ctx);
    return true;
  }

  void emit(LiquidationContext& ctx, const MarginAccount& acc, const Work& w, const char* path, const Leg& leg, double mark,
            bool sold, double penalty) {
    LiquidationEvent e;
    e.step = ctx.step;
    e.account = acc.account;
    e.agent_type = owner_kind_name(ctx, acc);
    e.policy_path = path;
    e.notional = leg.notional;
    e.price = leg.qty > 0 ? leg.notional / leg.qty : 0.0;
    e.mark = mark;
    e.slippage_bps = slippage_bps(sold, e.price, mark);
    e.penalty = penalty;
    e.liquidator = w.liq.agent_id;
    e.steps_to_complete = static_cast<std::int32_t>(ctx.step - w.flagged_since);
    e.endogenous = w.endogenous;
    ctx.events.push_back(e);
    ++stats_.count;
    stats_.notional += leg.notional;
  }

  // Baseline close (the `market` policy's liquidation order, shared: liquidate_on_book) of the perp
  // positions in assets the account does not hedge: close_factor of each, an IOC at the bankruptcy
  // price; what it leaves is taken over, with everything the account holds, by the insurance fund at
  // the bankruptcy price, then ADL, then bad debt ("delta_neutral>insurance", ">adl").
  void close_unhedged(LiquidationContext& ctx, MarginAccount& acc, const Work& w) {
    orders_.clear();
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      if (hedged_in(ctx, acc, i)) continue;
      const AssetMarket& am = ctx.market.assets[i];
      const Lots pos_lots = std::abs(ctx.market.ledger.balance(acc.account, am.perp_asset)) / am.perp->spec().lot_micros;
      if (pos_lots == 0) continue;  // none, or dust below one lot
      const Lots lots = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, pos_lots);
      orders_.push_back({i, lots, 0});
    }
    if (orders_.empty()) return;
    BookLiquidationTerms t;
    t.ioc_at_bankruptcy = ioc_at_bankruptcy(cfg_);
    t.penalty_bps = cfg_.penalty_bps;
    t.liquidator_share = cfg_.liquidator_share;
    t.liquidator = w.liq;
    t.path = "delta_neutral>market";
    t.flagged_since = w.flagged_since;
    t.endogenous = w.endogenous;
    liquidate_on_book(ctx, acc, orders_.data(), orders_.size(), t, &fund_, stats_);
  }

  // With no contracts left: deficit (collateral conversion, insurance fund, bad debt), close.
  bool finish_if_flat(LiquidationContext& ctx, MarginAccount& acc, std::size_t first_event) {
    if (acc.closed) {  // the fund took it over (its events are written)
      acc.in_liquidation = false;
      return true;
    }
    if (has_positions(ctx, acc)) return false;
    const DeficitResult d = close_flat_account(ctx, acc, ctx.fund, stats_);
    if (ctx.events.size() > first_event) mark_deficit(ctx.events.back(), d);
    acc.in_liquidation = false;
    return true;
  }

  // The backstop takeover (sim/liquidation/backstop.*) of the whole portfolio; false (nothing done)
  // when the account must fall back to atomic.
  bool backstop(LiquidationContext& ctx, MarginAccount& acc) {
    BackstopProvider* bp = ctx.backstop;
    if (bp == nullptr) return false;
    Ledger& L = ctx.market.ledger;
    const double d_bps = cfg_.delta_neutral.backstop_discount_bps;
    std::vector<BackstopLeg> legs;
    double gross = 0.0;
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      for (bool is_spot : {true, false}) {
        const Micros u = L.balance(acc.account, is_spot ? am.spot_asset : am.perp_asset);
        if (u == 0) continue;
        const double px = is_spot ? am.index_or_reference() : am.mark_or_reference();
        legs.push_back(backstop_leg(i, is_spot, u, px, d_bps, &gross));
      }
    }
    // One backstop rule with hierarchy (backstop_take): the provider keeps at most the account's
    // margin (discount capped at its equity), takes nothing from an account past bankruptcy.
    double eff_bps = d_bps;
    if (!backstop_take(ctx, *bp, acc, legs, gross, d_bps, &eff_bps)) return false;
    const std::size_t first_event = ctx.events.size();
    const Work w{0, Liquidator{}, acc.flagged_since, acc.endogenous_at_flag};
    for (const BackstopLeg& g : legs) {
      const double qty = std::abs(from_micros(g.units));
      const double price = g.transfer_price(eff_bps);
      emit(ctx, acc, w, "delta_neutral>backstop", Leg{qty, qty * price, 0}, g.price, g.units > 0, 0.0);
    }
    finish_if_flat(ctx, acc, first_event);
    return true;
  }

  LiquidationConfig cfg_;
  Mode mode_;
  FundAbsorber fund_;
  std::vector<Work> work_;
  std::vector<BookOrder> orders_;  // scratch, reused
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_delta_neutral_policy(const LiquidationConfig& cfg) {
  return std::make_unique<DeltaNeutralPolicy>(cfg);
}

}  // namespace sl
