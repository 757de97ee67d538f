// `market` policy, the baseline (CEX V1 style): the first liquidator to act closes close_factor of
// every position of the account with market orders into the perpetual book; the user pays
// penalty_bps of the closed notional (liquidator_share to the liquidator, the rest to the
// insurance fund); once no position is left, spot collateral is sold to repay negative cash and any
// remaining deficit is paid by the insurance fund, then recorded as bad debt.
#include <cmath>

#include "sim/liquidation/common.hpp"

namespace sl {

namespace {

class MarketPolicy final : public LiquidationPolicy {
 public:
  explicit MarketPolicy(const LiquidationConfig& cfg) : cfg_(cfg) {}
  const char* name() const override { return "market"; }

  void on_step(LiquidationContext& ctx) override {
    for (std::uint32_t id : ctx.margin.flagged()) {
      MarginAccount& acc = ctx.margin.account(id);
      if (acc.closed || acc.in_liquidation) continue;
      liquidate(ctx, acc);
    }
  }

 private:
  // A close needs something on the other side of the book; without it nobody sends a transaction
  // (it would fail and still cost its fee), and the account waits, flagged.
  static bool closable(const LiquidationContext& ctx, const MarginAccount& acc) {
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const Micros c = ctx.market.ledger.balance(acc.account, ctx.market.assets[i].perp_asset);
      if (c != 0 && !ctx.market.assets[i].perp->book().empty(c > 0 ? Side::Buy : Side::Sell)) return true;
    }
    return !has_positions(ctx, acc);  // collateral-only debt: settled without the perp book
  }

  void liquidate(LiquidationContext& ctx, MarginAccount& acc) {
    if (!closable(ctx, acc)) return;
    const double expected_penalty = acc.gross_notional * cfg_.close_factor * cfg_.penalty_bps * 1e-4;
    const Liquidator liq = choose_liquidator(ctx, acc, expected_penalty * cfg_.liquidator_share, cfg_.protocol_fallback_steps);
    if (!liq.found) return;  // nobody acts this step: the account stays flagged and may get worse
    const bool endogenous = acc.endogenous_at_flag;
    const std::int64_t waited = ctx.step - acc.flagged_since;
    std::size_t first_event = ctx.events.size();
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const double pos = ctx.margin.position(acc, i);
      if (pos == 0) continue;
      const double mark = ctx.market.assets[i].mark_or_reference();
      const CloseResult c = close_via_book(ctx, acc, i, cfg_.close_factor);
      if (c.qty <= 0) continue;  // empty book side: nothing closed this step
      const Micros penalty = charge_penalty(ctx, acc, c.notional_micros, cfg_.penalty_bps, cfg_.liquidator_share, liq);
      LiquidationEvent e;
      e.step = ctx.step;
      e.account = acc.account;
      e.agent_type = owner_kind_name(ctx, acc);
      e.policy_path = "market";
      e.notional = c.notional;
      e.price = c.avg_price;
      e.mark = mark;
      e.slippage_bps = slippage_bps(pos > 0, c.avg_price, mark);
      e.penalty = from_micros(penalty);
      e.liquidator = liq.agent_id;
      e.steps_to_complete = static_cast<std::int32_t>(waited);
      e.endogenous = endogenous;
      ctx.events.push_back(e);
      ++stats_.count;
      stats_.notional += c.notional;
    }
    if (!has_positions(ctx, acc)) {
      const DeficitResult d = settle_deficit(ctx, acc);
      if (ctx.events.size() > first_event) {
        LiquidationEvent& last = ctx.events.back();
        if (d.insurance_paid > 0) last.policy_path += ">insurance";
        if (d.bad_debt > 0) last.policy_path += ">bad_debt";
        last.bad_debt = from_micros(d.bad_debt);
      }
      stats_.bad_debt += from_micros(d.bad_debt);
      acc.closed = true;
    }
  }

  LiquidationConfig cfg_;
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_market_policy(const LiquidationConfig& cfg) { return std::make_unique<MarketPolicy>(cfg); }

}  // namespace sl
