// `dutch` policy: a Clipper-style descending-price auction (MakerDAO Liquidations 2.0; model.md
// section 5). Parameters: perp.liquidation.dutch (DutchConfig) plus close_factor, penalty_bps,
// liquidator_share and protocol_fallback_steps of LiquidationConfig.
//
// Kick (Dog.bark). A flagged account (not closed, not already in auction) with at least one
// tradable lot is kicked by the first liquidator bot that sees it and finds the kick incentive
// worth its transaction cost (choose_liquidator: latency, tx cost, seeded competition); when no
// bot does and protocol_fallback_steps have passed since the flag, the venue's protocol kicks (and
// is paid nothing). A bot kicker is paid tip + chip x (auctioned notional at the index) by the
// insurance fund, capped at the fund's balance. The account is marked in_liquidation. One auction
// per asset in which the account holds contracts; its lot = close_factor x the position, in whole
// lots (at least one lot, like close_via_book). An account with no tradable lot (no position, or
// dust below one lot) is not kicked at all: nobody is asked, charged a transaction or paid an
// incentive, and its deficit is settled at once.
// Dog's limits on debt in auction: each auction carries a tab = its lot's notional at the kick
// index; the tabs of live auctions may not exceed hole_quote for the asset (Dog ilk.hole) nor
// hole_global_quote over all assets (Dog Hole); 0 disables a limit. A kick that finds less room
// than the lot's tab auctions the whole lots that fit (a partial kick; the account stays flagged
// with its rest and is kicked again once room frees up); if what would stay behind is worth less
// than chost_quote at the index, the whole lot goes anyway (as Dog does), and a partial lot worth
// less than chost is not kicked. With no room the account waits, flagged, and nothing is charged.
// A take digs its share of the tab (tab x lots taken / lots left), an auction that ends digs the rest.
//
// Price. With index0 the asset's index when the auction (re)starts and f(t) = dutch_price_factor
// (sim/liquidation/dutch_curve.hpp) of the seconds elapsed since then ((step - start_step) x dt_s):
//   long lot  (the auction SELLS the account's contracts):      price(t) = index0 x buf x f(t)
//   short lot (the auction BUYS contracts back for the account): price(t) = index0 / (buf x f(t))
// The short mirrors the long multiplicatively: both start a factor buf away from the index on the
// side unattractive to the taker and move by the same ratio f towards the taker's side; the short
// price stays > 0 for every buf > 0 (the additive mirror index0 x (2 - buf x f) it replaces was
// <= 0 from buf x f = 2 on, inside the schema's buf range up to 10).
//
// Reset (Clipper.redo). Each step, before any take, a live auction whose elapsed > tail_s or f <
// cusp is redone: it restarts at the CURRENT index (start_step = this step); the incentive
// tip + chip x (remaining lot notional at the index) is paid by the insurance fund, but only when
// that remaining notional is at least chost_quote (Clipper pays tip + chip only on a tab and lot
// worth >= chost), to the first bot that sees the account (latency counted from the kick) and finds
// it worth its tx cost; when no bot does, the protocol redoes it unpaid (so auctions reset even with
// no bot at all). Takers' events carry the number of resets in policy_path ("dutch>reset",
// "dutch>reset2", ...; saturates at 99 so the path fits the results file's 64 characters).
//
// Takes (Clipper.take). Each step the live auctions are offered to the bots in a seeded order
// (ctx.rng), per auction. A bot must see the account (its latency, x the congestion multiplier,
// counted from the kick). It takes ANY amount up to what is left: the lots its marginal value
// schedule (sim/liquidation/bid_valuation.hpp: resale into the visible unclaimed opposite side of
// the perp book net of the taker fee, then up to its inventory room valued at the deepest visible
// level, within its capital) values at least at the auction price (long lot; a short lot: costs at
// most the price), and only if the surplus over the auction price covers its tx cost + min_profit.
// Clipper's dust rule (chost_quote > 0): a take may not leave a remainder worth less than chost at
// the auction price; the take is cut to leave exactly enough lots, and when the whole remainder is
// worth <= chost only a take of all of it is allowed. The depth a taker priced its resale on is
// claimed for the rest of the step (DepthClaims, shared by every auction of the step), so no later
// taker counts the same bids or asks again; a bot's older inventory is not netted.
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
// Zero and near-zero prices are reachable for a long lot: with no bot, or bots whose marginal value
// is far below the index (empty books, congestion via ctx.market.liquidator_cost_multiplier), the
// price keeps falling until someone takes, even near 0 (then bad debt), or the auction resets.
//
// One LiquidationEvent per take: notional, price = auction price, mark of that step, slippage vs
// mark, penalty, liquidator = the taker's agent id, steps_to_complete = steps since the account was
// flagged (the flag that led to the kick), endogenous = acc.endogenous_at_flag at the kick.
//
// The auction itself (kicks, curve, resets, reservation prices, takes) is the DutchAuctions stage
// (sim/liquidation/dutch_auction.*), shared with the `hierarchy` policy; this file adds what the
// `dutch` policy does around it: every flagged account is offered for a kick, and an account whose
// lots are all done settles its deficit.
#include "sim/liquidation/common.hpp"
#include "sim/liquidation/dutch_auction.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

class DutchPolicy final : public LiquidationPolicy {
 public:
  explicit DutchPolicy(const LiquidationConfig& cfg)
      : auctions_(cfg, DutchAuctionOptions{}),
        fallback_steps_(cfg.protocol_fallback_steps),
        fund_("adl", FundPaths{"dutch>insurance", "dutch>adl", "dutch>haircut"}, credit_) {}
  const char* name() const override { return "dutch"; }

  void on_step(LiquidationContext& ctx) override {
    // Spot the fund took over from a closed account (settle_deficit) is sold into the book as under
    // every other policy (FundAbsorber::unwind: at most two levels a step). Only while it holds
    // some, so that a run in which the fund never takes inventory over is unchanged.
    if (fund_holds_inventory(ctx)) fund_.unwind(ctx, stats_);
    for_each_new_flagged(ctx, [&](std::uint32_t id, MarginAccount& acc) {
      // Only debt left (no tradable position): settle it directly, no kick, no incentive.
      if (auctions_.kick(ctx, id, fallback_steps_) == DutchAuctions::Kick::NoLots)
        close_flat_account(ctx, acc, ctx.fund, stats_);
    });
    for (const DutchAuctions::Outcome& o : auctions_.advance(ctx, stats_)) finish(ctx, o.id);
  }

 private:
  void finish(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    if (has_positions(ctx, acc)) return;  // close_factor < 1: may be kicked again while flagged
    const DeficitResult d = close_flat_account(ctx, acc, ctx.fund, stats_);
    const std::int64_t last_idx = auctions_.last_event(id);
    if (last_idx >= 0 && static_cast<std::size_t>(last_idx) < ctx.events.size())
      mark_deficit(ctx.events[static_cast<std::size_t>(last_idx)], d);
  }

  static bool fund_holds_inventory(const LiquidationContext& ctx) {
    for (const AssetMarket& am : ctx.market.assets)
      if (ctx.market.ledger.balance(ctx.accounts.insurance_fund, am.spot_asset) != 0 ||
          ctx.market.ledger.balance(ctx.accounts.insurance_fund, am.perp_asset) != 0)
        return true;
    return false;
  }

  DutchAuctions auctions_;
  int fallback_steps_;
  FundAbsorber fund_;  // unwinds what the fund took over; absorbs nothing under `dutch`
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig& cfg) { return std::make_unique<DutchPolicy>(cfg); }

}  // namespace sl
