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
// (sim/liquidation/dutch_curve.hpp) of the seconds elapsed since then ((step - start_step) x dt_s):
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
// at 99 so the path fits the results file's 64 characters (kPolicyPathWidth)).
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
//
// The auction itself (kicks, curve, resets, reservation prices, takes) is the DutchAuctions stage
// (sim/liquidation/dutch_auction.*), shared with the `hierarchy` policy; this file adds what the
// `dutch` policy does around it: every flagged account is offered for a kick, and an account whose
// lots are all done settles its deficit.
#include "sim/liquidation/dutch_auction.hpp"

namespace sl {

namespace {

class DutchPolicy final : public LiquidationPolicy {
 public:
  explicit DutchPolicy(const LiquidationConfig& cfg) : auctions_(cfg, DutchAuctionOptions{}), fallback_steps_(cfg.protocol_fallback_steps) {}
  const char* name() const override { return "dutch"; }

  void on_step(LiquidationContext& ctx) override {
    for (std::uint32_t id : ctx.margin.flagged()) {
      MarginAccount& acc = ctx.margin.account(id);
      if (acc.closed || acc.in_liquidation) continue;
      if (auctions_.kick(ctx, id, fallback_steps_) == DutchAuctions::Kick::NoLots) {
        // Only debt left (no tradable position): settle it directly.
        const DeficitResult d = settle_deficit(ctx, acc);
        stats_.bad_debt += from_micros(d.bad_debt);
        acc.closed = true;
      }
    }
    for (const DutchAuctions::Outcome& o : auctions_.advance(ctx, stats_)) finish(ctx, o.id);
  }

 private:
  void finish(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    if (has_positions(ctx, acc)) return;  // close_factor < 1: may be kicked again while flagged
    const DeficitResult d = settle_deficit(ctx, acc);
    const std::int64_t last_idx = auctions_.last_event(id);
    if (last_idx >= 0 && static_cast<std::size_t>(last_idx) < ctx.events.size()) {
      LiquidationEvent& last = ctx.events[static_cast<std::size_t>(last_idx)];
      if (d.insurance_paid > 0) last.policy_path += ">insurance";
      if (d.bad_debt > 0) last.policy_path += ">bad_debt";
      last.bad_debt = from_micros(d.bad_debt);
    }
    stats_.bad_debt += from_micros(d.bad_debt);
    acc.closed = true;
  }

  DutchAuctions auctions_;
  int fallback_steps_;
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig& cfg) { return std::make_unique<DutchPolicy>(cfg); }

}  // namespace sl
