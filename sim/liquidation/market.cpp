// `market` policy, the baseline, as Binance's liquidation engine runs it (model.md section 9,
// "Binance liquidation": the position is closed with IOC orders at the bankruptcy price; what
// cannot fill is taken over by the insurance fund, and when the fund cannot, ADL closes opposite
// positions at the bankruptcy price).
//
// Every step, the insurance fund first unwinds what earlier takeovers left it (FundAbsorber::unwind:
// at most the best two opposite levels per venue) and repays its loan. Then, for every flagged
// account (not closed, not in liquidation), in the margin engine's order (worst margin ratio first,
// exact ties in a seeded random order: MarginEngine::mark_all):
// 1. A liquidator acts: the first bot, in a seeded random order, that sees the account (latency)
//    and finds liquidator_share of the expected penalty (gross notional x close_factor x
//    penalty_bps) worth its transaction cost; after protocol_fallback_steps without one, the venue's
//    engine. Nobody acts: the account waits, flagged.
// 2. Per asset with a position, one IOC order for close_factor of the position (whole lots, at
//    least one) limited at the account's bankruptcy price in that asset, p_b
//    (MarginEngine::bankruptcy_price at this step's marks, recomputed before each asset's order):
//    a sell fills only at or above p_b (limit tick = ceil(p_b / tick)), a buy only at or below it
//    (floor(p_b / tick)); the unfilled rest is cancelled. So no fill leaves the user below zero
//    equity at the fill price (taker fees aside). p_b = 0 for a long (no positive price makes its
//    equity zero) sends an unlimited order; for a short (equity negative at every positive price)
//    no order can fill, none is sent. Of the filled notional the user pays penalty_bps (capped at
//    its remaining equity at mark), liquidator_share to the liquidator (all of it to the insurance
//    fund when the venue's engine liquidates). One event per asset filled, "market".
// 3. When an order left part of its slice unfilled (the book had nothing at or better than p_b),
//    the insurance fund takes over everything the account still holds at its bankruptcy prices
//    (FundAbsorber::absorb, as under `socialized` with loss_rule "adl"): the fund carries the loss
//    while its equity stays >= -fund_borrow_limit; the shortfall is auto-deleveraged against the
//    ADL queue (profitable opposite positions ranked by PnL% x effective leverage) at the
//    bankruptcy price; what the queue cannot cover is bad debt (and counts in adl_queue_empty).
//    Events "market>insurance", "market>adl" (absorbed account and every ADL'd account),
//    ">bad_debt" when some was left.
// 4. Otherwise, when no position is left: spot collateral is sold while the quote balance is
//    negative, and the remaining deficit is paid by the fund within its limit, the rest is bad debt
//    (settle_deficit); ">insurance" / ">bad_debt" on the account's last event.
// Departure from Binance: the user pays penalty_bps of the filled notional, not the whole remaining
// maintenance margin ("clearance fee"); the rest of the margin stays the user's.
//
// market_order = "market" (V1, the baseline before #12): unlimited market orders instead (a sell
// takes every bid, a buy every ask, down the book); nothing is taken over by the fund; an account
// whose positions all face an empty book side waits, flagged (nobody sends a transaction that
// would fail), and the deficit of a flat account goes through step 4.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/liquidation/book_liquidation.hpp"
#include "sim/liquidation/common.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

class MarketPolicy final : public LiquidationPolicy {
 public:
  explicit MarketPolicy(const LiquidationConfig& cfg)
      : cfg_(cfg),
        ioc_(ioc_at_bankruptcy(cfg)),
        fund_("adl", FundPaths{"market>insurance", "market>adl", "market>haircut"}, credit_) {
    credit_.limit = fund_borrow_limit_micros(cfg);
  }
  const char* name() const override { return "market"; }

  void on_step(LiquidationContext& ctx) override {
    fund_.unwind(ctx, stats_);
    for_each_new_flagged(ctx, [&](std::uint32_t, MarginAccount& acc) { liquidate(ctx, acc); });
  }

 private:
  // V1: a close needs something on the other side of the book; without it nobody sends a
  // transaction (it would fail and still cost its fee), and the account waits, flagged.
  static bool closable(const LiquidationContext& ctx, const MarginAccount& acc) {
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const Micros c = ctx.market.ledger.balance(acc.account, ctx.market.assets[i].perp_asset);
      if (c != 0 && !ctx.market.assets[i].perp->book().empty(c > 0 ? Side::Buy : Side::Sell)) return true;
    }
    return !has_positions(ctx, acc);  // collateral-only debt: settled without the perp book
  }

  void liquidate(LiquidationContext& ctx, MarginAccount& acc) {
    if (!ioc_ && !closable(ctx, acc)) return;
    const double expected_penalty = acc.gross_notional * cfg_.close_factor * cfg_.penalty_bps * 1e-4;
    const Liquidator liq = choose_liquidator(ctx, acc, expected_penalty * cfg_.liquidator_share, cfg_.protocol_fallback_steps);
    if (!liq.found) return;  // nobody acts this step: the account stays flagged and may get worse
    const std::size_t first_event = ctx.events.size();
    orders_.clear();
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      const Lots pos_lots = std::abs(ctx.market.ledger.balance(acc.account, am.perp_asset)) / am.perp->spec().lot_micros;
      if (pos_lots == 0) continue;  // none, or dust below one lot
      const Lots lots = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, pos_lots);
      orders_.push_back({i, lots, 0});
    }
    BookLiquidationTerms t;
    t.ioc_at_bankruptcy = ioc_;
    t.penalty_bps = cfg_.penalty_bps;
    t.liquidator_share = cfg_.liquidator_share;
    t.liquidator = liq;
    t.path = "market";
    t.endogenous = acc.endogenous_at_flag;
    const BookLiquidationResult r = liquidate_on_book(ctx, acc, orders_.data(), orders_.size(), t, &fund_, stats_);
    if (r.taken_over) return;
    if (!has_positions(ctx, acc)) {
      const DeficitResult d = close_flat_account(ctx, acc, &credit_, stats_);
      if (ctx.events.size() > first_event) mark_deficit(ctx.events.back(), d);
    }
  }

  LiquidationConfig cfg_;
  bool ioc_ = true;  // market_order "ioc_bankruptcy"
  FundAbsorber fund_;
  std::vector<BookOrder> orders_;  // scratch, reused
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_market_policy(const LiquidationConfig& cfg) { return std::make_unique<MarketPolicy>(cfg); }

}  // namespace sl
