// `dutch` policy: a Clipper-style descending-price auction (MakerDAO Liquidations 2.0; model.md
// section 5). Parameters: perp.liquidation.dutch (DutchConfig) plus close_factor, penalty_bps,
// liquidator_share and protocol_fallback_steps of LiquidationConfig.
//
// Kick. A flagged account (not closed, not already in auction) is kicked by the first liquidator
// bot that sees it and finds the kick incentive worth its transaction cost (choose_liquidator:
// latency, tx cost, seeded competition); when no bot does and protocol_fallback_steps have passed
// since the flag, the venue's protocol kicks (and is paid nothing). A bot kicker is paid
// tip + chip x (auctioned notional at the index) by the insurance fund, capped at the fund's
// balance. The account is marked in_liquidation. One auction per asset in which the account holds
// contracts; its lot = close_factor x the position, in whole lots (at least one lot, like
// close_via_book).
//
// Price. With index0 the asset's index when the auction (re)starts and f(t) = dutch_price_factor
// (sim/dutch_curve.hpp) of the seconds elapsed since then ((step - start_step) x dt_s):
//   long lot  (the auction SELLS the account's contracts):   price(t) = index0 x buf x f(t)
//   short lot (the auction BUYS contracts back for the account): price(t) = index0 x (2 - buf x f(t))
// The short mirrors the long around index0: both start buf - 1 away from the index on the side
// unattractive to the taker and move by the same discount, index0 x (1 - buf x f), towards the
// side attractive to the taker (a long lot towards 0, a short lot towards 2 x index0).
//
// Reset. Each step, before any take, a live auction whose elapsed > tail_s or f < cusp is redone:
// it restarts at the CURRENT index (start_step = this step) and a new incentive
// tip + chip x (remaining lot notional at the index) is paid by the insurance fund to the first
// bot that sees the account (latency counted from the kick) and finds it worth its tx cost; when
// no bot does, the protocol redoes it unpaid (so auctions reset even with no bot at all). Takers'
// events carry the number of resets in policy_path ("dutch>reset", "dutch>reset2", ...; saturates
// at 99 so the path fits the results file's 32 characters).
//
// Takes. Each step the live auctions are offered to the bots in a seeded order (ctx.rng), per
// auction. A bot must see the account (its latency, x the congestion multiplier, counted from the
// kick). Its quantity is min(remaining lot, what its capital covers: price x qty + its tx cost
// <= its quote balance); for a short lot also at most the ask depth it could buy back. Its
// reservation price for that quantity:
//   long lot:  (proceeds of selling the quantity into the current perp bids, walking the levels,
//              net of taker fees; inventory the book cannot absorb now is valued at zero
//              - tx cost - min_profit) / qty
//   short lot: (cost of buying the quantity back from the asks, plus taker fees, + tx cost
//              + min_profit) / qty
// It takes when the auction price is at least as good for it (long: price <= reservation; short:
// price >= reservation). Depth counted by an earlier taker in the same step is skipped by the next
// one (bots do not double count the same bids); a bot's older inventory is not netted.
// Settlement (ledger transfers): contracts account -> bot for a long lot (bot -> account for a short
// lot), cash at the auction price the other way; the bot pays its tx cost to network_fees and calls
// note_inventory(), so its act() unwinds the inventory into the books in later steps (its own
// flow moves prices). Then charge_penalty on the taken notional (capped at remaining equity at
// mark; liquidator_share to the taker, the rest to the insurance fund). Several bots may take
// parts of a lot in one step.
//
// Completion. When every lot of an account is done: if no contracts are left, settle_deficit
// (collateral conversion, insurance fund, bad debt; ">insurance" / ">bad_debt" appended to the
// last take's policy_path) and the account is closed; otherwise (close_factor < 1) it leaves the
// auction and may be kicked again while it stays flagged.
//
// Zero and near-zero prices are reachable: with no bot, or bots whose reservation price is far
// below the index (thin books, congestion via ctx.market.liquidator_cost_multiplier), the price
// keeps falling until someone takes, even near 0 (then bad debt), or the auction resets.
//
// One LiquidationEvent per take: notional, price = auction price, mark of that step, slippage vs
// mark, penalty, liquidator = the taker's agent id, steps_to_complete = steps since the account was
// flagged (the flag that led to the kick), endogenous = acc.endogenous_at_flag at the kick.
#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "sim/dutch_curve.hpp"
#include "sim/liquidation_common.hpp"

namespace sl {

namespace {

struct Auction {
  std::uint32_t margin_id = 0;
  std::size_t asset = 0;
  bool sell = true;                 // long lot: the auction sells the account's contracts
  Lots remaining = 0;               // lots still to auction
  std::int64_t start_step = 0;      // (re)start of the price curve
  double index0 = 0.0;              // index at the (re)start
  std::int64_t kick_step = 0;       // bots' latency is counted from here
  std::int64_t flag_step = 0;       // first step of the flag spell that led to the kick
  bool endogenous = false;
  int resets = 0;
  bool done = false;
};

class DutchPolicy final : public LiquidationPolicy {
 public:
  explicit DutchPolicy(const LiquidationConfig& cfg) : cfg_(cfg), curve_(parse_dutch_curve(cfg.dutch.curve)) {
    const DutchConfig& d = cfg_.dutch;
    if (!(d.buf > 0) || !(d.cut > 0 && d.cut <= 1) || !(d.step_s > 0) || !(d.tau_s > 0) || d.tip < 0 || d.chip < 0)
      throw std::invalid_argument("dutch auction: need buf > 0, 0 < cut <= 1, step_s > 0, tau_s > 0, tip >= 0, chip >= 0");
  }
  const char* name() const override { return "dutch"; }

  void on_step(LiquidationContext& ctx) override {
    for (std::uint32_t id : ctx.margin.flagged()) {
      MarginAccount& acc = ctx.margin.account(id);
      if (acc.closed || acc.in_liquidation) continue;
      kick(ctx, id);
    }
    if (auctions_.empty()) return;
    claimed_bids_.assign(ctx.market.assets.size(), 0);
    claimed_asks_.assign(ctx.market.assets.size(), 0);
    const std::size_t n = auctions_.size();  // kicks happened above; nothing is added below
    for (std::size_t k = 0; k < n; ++k) advance(ctx, auctions_[k]);
    // Accounts whose every lot is done leave the auction (in kick order, deterministic).
    for (std::size_t k = 0; k < n; ++k) {
      if (!auctions_[k].done) continue;
      const std::uint32_t id = auctions_[k].margin_id;
      bool live = false;
      for (const Auction& a : auctions_)
        if (a.margin_id == id && !a.done) live = true;
      MarginAccount& acc = ctx.margin.account(id);
      if (!live && acc.in_liquidation) finish(ctx, id);
    }
    auctions_.erase(std::remove_if(auctions_.begin(), auctions_.end(), [](const Auction& a) { return a.done; }), auctions_.end());
  }

 private:
  // Insurance fund -> liquidator, capped at the fund's balance; nothing for the protocol.
  void pay_incentive(LiquidationContext& ctx, const Liquidator& liq, double amount) {
    if (liq.agent_id < 0 || amount <= 0) return;
    Ledger& L = ctx.market.ledger;
    const AssetId q = ctx.market.quote_asset;
    const Micros fund = std::max<Micros>(0, L.balance(ctx.accounts.insurance_fund, q));
    const Micros pay = std::min(fund, to_fixed(amount, 1e6));
    if (pay > 0) L.transfer(ctx.accounts.insurance_fund, liq.account, q, pay);
  }

  double lot_notional(const LiquidationContext& ctx, std::size_t asset, Lots lots) const {
    const AssetMarket& am = ctx.market.assets[asset];
    return am.perp->lots_to_qty(lots) * am.index_or_reference();
  }

  void kick(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    Ledger& L = ctx.market.ledger;
    std::vector<Auction> lots;
    double notional = 0;
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      const Micros held = L.balance(acc.account, am.perp_asset);
      if (held == 0) continue;
      const Lots pos_lots = std::abs(held) / am.perp->spec().lot_micros;
      if (pos_lots == 0) continue;  // dust below one lot cannot be traded
      Auction a;
      a.margin_id = id;
      a.asset = i;
      a.sell = held > 0;
      a.remaining = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, pos_lots);
      a.start_step = ctx.step;
      a.index0 = am.index_or_reference();
      a.kick_step = ctx.step;
      a.flag_step = acc.flagged_since >= 0 ? acc.flagged_since : ctx.step;
      a.endogenous = acc.endogenous_at_flag;
      notional += lot_notional(ctx, i, a.remaining);
      lots.push_back(a);
    }
    const double incentive = cfg_.dutch.tip + cfg_.dutch.chip * notional;
    const Liquidator liq = choose_liquidator(ctx, acc, incentive, cfg_.protocol_fallback_steps);
    if (!liq.found) return;  // nobody kicks this step: the account stays flagged
    if (lots.empty()) {      // only debt left (no tradable position): settle it directly
      const DeficitResult d = settle_deficit(ctx, acc);
      stats_.bad_debt += from_micros(d.bad_debt);
      acc.closed = true;
      return;
    }
    pay_incentive(ctx, liq, incentive);
    acc.in_liquidation = true;
    for (Auction& a : lots) auctions_.push_back(a);
  }

  void redo(LiquidationContext& ctx, Auction& a) {
    const AssetMarket& am = ctx.market.assets[a.asset];
    a.start_step = ctx.step;
    a.index0 = am.index_or_reference();
    ++a.resets;
    const double incentive = cfg_.dutch.tip + cfg_.dutch.chip * lot_notional(ctx, a.asset, a.remaining);
    MarginAccount view = ctx.margin.account(a.margin_id);  // bots' latency counts from the kick
    view.flagged_since = a.kick_step;
    const Liquidator liq = choose_liquidator(ctx, view, incentive, 0);  // no bot: the protocol redoes it
    pay_incentive(ctx, liq, incentive);
  }

  double price_at(const Auction& a, double factor) const {
    const double b = cfg_.dutch.buf * factor;
    return a.sell ? a.index0 * b : a.index0 * (2.0 - b);
  }

  // Walks the side of the book the bot would unwind into (bids for a long lot, asks for a short
  // lot), skipping `skip` lots already counted this step, for at most `want` lots. Returns the
  // lots available and their notional (micros).
  static std::pair<Lots, Micros> walk(const Venue& v, Side side, Lots skip, Lots want) {
    Lots got = 0;
    Micros notional = 0;
    v.book().for_each_level(side, std::numeric_limits<std::size_t>::max(), [&](Tick px, Lots q) {
      const Lots s = std::min(skip, q);
      skip -= s;
      q -= s;
      const Lots t = std::min(q, want - got);
      if (t > 0) {
        got += t;
        notional = checked_add(notional, v.notional(px, t));
      }
      return got < want;
    });
    return {got, notional};
  }

  void advance(LiquidationContext& ctx, Auction& a) {
    MarginAccount& acc = ctx.margin.account(a.margin_id);
    Ledger& L = ctx.market.ledger;
    AssetMarket& am = ctx.market.assets[a.asset];
    const Venue& v = *am.perp;
    const Micros lot_micros = v.spec().lot_micros;
    // The position may have shrunk (owners may trade): never auction more than is held.
    const Micros held = L.balance(acc.account, am.perp_asset);
    const Lots held_lots = (a.sell ? std::max<Micros>(0, held) : std::max<Micros>(0, -held)) / lot_micros;
    a.remaining = std::min(a.remaining, held_lots);
    if (a.remaining <= 0) {
      a.done = true;
      return;
    }
    double elapsed = static_cast<double>(ctx.step - a.start_step) * ctx.market.dt_s;
    double factor = dutch_price_factor(curve_, cfg_.dutch, elapsed);
    if (dutch_needs_reset(cfg_.dutch, elapsed, factor)) {
      redo(ctx, a);
      elapsed = 0;
      factor = dutch_price_factor(curve_, cfg_.dutch, 0.0);
    }
    const double price = std::max(0.0, price_at(a, factor));
    const double mark = am.mark_or_reference();
    const AssetId q = ctx.market.quote_asset;
    const double cost_mult = ctx.market.liquidator_cost_multiplier;

    // Bots in a seeded order.
    order_.resize(ctx.bots.size());
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    for (std::size_t i = order_.size(); i > 1; --i) {
      boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
      std::swap(order_[i - 1], order_[pick(ctx.rng)]);
    }
    MarginAccount view = acc;
    view.flagged_since = a.kick_step;
    Lots& claimed = a.sell ? claimed_bids_[a.asset] : claimed_asks_[a.asset];
    for (std::size_t k = 0; k < order_.size() && a.remaining > 0; ++k) {
      LiquidatorBot& bot = ctx.bots[order_[k]];
      if (!bot.sees(view, ctx.step, ctx.market.liquidator_latency_multiplier)) continue;
      const double tx = bot.tx_cost(cost_mult);
      const Micros tx_micros = to_fixed(tx, 1e6);
      const Micros bal = L.balance(bot.account(), q);
      if (bal < tx_micros) continue;
      // Capital: price x qty + tx cost <= quote balance.
      Lots want = a.remaining;
      const double lot_cost = price * static_cast<double>(lot_micros);  // micros per lot
      if (lot_cost > 0) want = std::min<Lots>(want, static_cast<Lots>(std::floor(static_cast<double>(bal - tx_micros) / lot_cost)));
      if (want <= 0) continue;
      const Side unwind = a.sell ? Side::Buy : Side::Sell;  // book side the bot's unwind hits
      auto [avail, book_notional] = walk(v, unwind, claimed, want);
      if (!a.sell) {
        want = std::min(want, avail);  // a short it could not buy back is not taken
        if (want <= 0) continue;
      }
      const double qty = v.lots_to_qty(want);
      const double fee = from_micros(v.fee(book_notional, false));
      const double extra = tx + bot.config().min_profit;
      bool takes;
      if (a.sell) {
        const double reservation = (from_micros(book_notional) - fee - extra) / qty;  // missing depth worth 0
        takes = price <= reservation;
      } else {
        const double reservation = (from_micros(book_notional) + fee + extra) / qty;
        takes = price >= reservation;
      }
      if (!takes) continue;
      // Settlement.
      const Micros contracts = checked_mul(want, lot_micros);
      const Micros cash = to_fixed(price, static_cast<double>(contracts));  // price x contracts (micros)
      L.transfer(bot.account(), ctx.accounts.network_fees, q, tx_micros);
      if (a.sell) {
        L.transfer(acc.account, bot.account(), am.perp_asset, contracts);
        if (cash > 0) L.transfer(bot.account(), acc.account, q, cash);
      } else {
        L.transfer(bot.account(), acc.account, am.perp_asset, contracts);
        if (cash > 0) L.transfer(acc.account, bot.account(), q, cash);
      }
      bot.note_inventory();
      claimed += std::min(want, avail);
      a.remaining -= want;
      Liquidator taker;
      taker.agent_id = bot.agent_id();
      taker.account = bot.account();
      taker.found = true;
      const Micros penalty = charge_penalty(ctx, acc, cash, cfg_.penalty_bps, cfg_.liquidator_share, taker);
      LiquidationEvent e;
      e.step = ctx.step;
      e.account = acc.account;
      e.agent_type = owner_kind_name(ctx, acc);
      e.policy_path = path(a.resets);
      e.notional = from_micros(cash);
      e.price = price;
      e.mark = mark;
      e.slippage_bps = slippage_bps(a.sell, price, mark);
      e.penalty = from_micros(penalty);
      e.liquidator = bot.agent_id();
      e.steps_to_complete = static_cast<std::int32_t>(ctx.step - a.flag_step);
      e.endogenous = a.endogenous;
      ctx.events.push_back(e);
      last_event_[a.margin_id] = ctx.events.size() - 1;
      ++stats_.count;
      stats_.notional += e.notional;
    }
    if (a.remaining <= 0) a.done = true;
  }

  static std::string path(int resets) {
    if (resets <= 0) return "dutch";
    if (resets == 1) return "dutch>reset";
    return "dutch>reset" + std::to_string(std::min(resets, 99));
  }

  void finish(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    acc.in_liquidation = false;
    if (has_positions(ctx, acc)) return;  // close_factor < 1: may be kicked again while flagged
    const DeficitResult d = settle_deficit(ctx, acc);
    const auto it = last_event_.find(id);
    if (it != last_event_.end() && it->second < ctx.events.size()) {
      LiquidationEvent& last = ctx.events[it->second];
      if (d.insurance_paid > 0) last.policy_path += ">insurance";
      if (d.bad_debt > 0) last.policy_path += ">bad_debt";
      last.bad_debt = from_micros(d.bad_debt);
    }
    stats_.bad_debt += from_micros(d.bad_debt);
    acc.closed = true;
  }

  LiquidationConfig cfg_;
  DutchCurve curve_;
  std::vector<Auction> auctions_;
  std::vector<Lots> claimed_bids_, claimed_asks_;
  std::vector<std::size_t> order_;
  std::unordered_map<std::uint32_t, std::size_t> last_event_;  // margin id -> index of its last take event
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig& cfg) { return std::make_unique<DutchPolicy>(cfg); }

}  // namespace sl
