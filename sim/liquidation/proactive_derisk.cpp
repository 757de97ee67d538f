#include "sim/liquidation/proactive_derisk.hpp"

#include <algorithm>
#include <cmath>

#include "sim/liquidation/common.hpp"

namespace sl {

ProactiveDerisker::ProactiveDerisker(const ProactiveConfig& cfg, std::size_t n_assets, double dt_s)
    : cfg_(cfg), dt_s_(dt_s), last_index_(n_assets, 0.0), ewma_var_(n_assets, 0.0) {}

double ProactiveDerisker::predicted_move(std::size_t asset) const {
  return std::sqrt(ewma_var_[asset] * std::max(1.0, cfg_.horizon_s / dt_s_));
}

std::int64_t ProactiveDerisker::on_step(LiquidationContext& ctx, double* notional_out) {
  if (notional_out) *notional_out = 0;
  Market& m = ctx.market;
  const double alpha = 2.0 / (cfg_.vol_window_steps + 1.0);
  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    const double idx = m.assets[i].index_or_reference();
    if (last_index_[i] > 0) {
      const double r = std::log(idx / last_index_[i]);
      ewma_var_[i] = (1.0 - alpha) * ewma_var_[i] + alpha * r * r;
    }
    last_index_[i] = idx;
  }
  // No prediction before the volatility window has filled once.
  if (++observations_ < cfg_.vol_window_steps) return 0;
  std::int64_t added = 0;
  double notional = 0;
  // The accounts under the trigger, in ledger account id order (the order accounts were opened,
  // whether or not the margin engine watched a position before adding it: MarginEngine::watch).
  // De-risking one changes no other account's last valuation, so listing them first selects the
  // same ones as checking each in turn.
  std::vector<MarginAccount>& all = ctx.margin.accounts();
  under_.clear();
  for (std::uint32_t id = 0; id < all.size(); ++id) {
    const MarginAccount& acc = all[id];
    if (acc.closed || acc.liquidatable || acc.in_liquidation || acc.maintenance <= 0) continue;
    if (acc.equity >= cfg_.trigger_ratio * acc.maintenance) continue;
    under_.push_back(id);
  }
  std::sort(under_.begin(), under_.end(), [&all](std::uint32_t x, std::uint32_t y) { return all[x].account < all[y].account; });
  for (const std::uint32_t id : under_) {
    MarginAccount& acc = all[id];
    for (std::size_t i = 0; i < m.assets.size(); ++i) {
      const double pos = ctx.margin.position(acc, i);
      if (pos == 0) continue;
      AssetMarket& am = m.assets[i];
      const Venue& v = *am.perp;
      const Side closing = pos > 0 ? Side::Buy : Side::Sell;  // the book side a close trades against
      // Depth within one predicted move of the best price on the closing side.
      const Tick best = closing == Side::Buy ? v.book().best_bid() : v.book().best_ask();
      const double depth =
          best > 0 ? v.lots_to_qty(v.book().depth_within(closing, std::max<Tick>(1, static_cast<Tick>(static_cast<double>(best) * predicted_move(i)))))
                   : 0.0;
      if (std::abs(pos) <= depth) continue;
      const double mark = am.mark_or_reference();
      const CloseResult c = close_via_book(ctx, acc, i, cfg_.fraction);
      if (c.qty <= 0) continue;
      const Liquidator protocol{-1, ctx.accounts.protocol, true};
      const Micros penalty = charge_penalty(ctx, acc, c.notional_micros, cfg_.penalty_bps, 0.0, protocol);
      LiquidationEvent e;
      e.step = ctx.step;
      e.account = acc.account;
      e.agent_type = owner_kind_name(ctx, acc);
      e.policy_path = "proactive";
      e.notional = c.notional;
      e.price = c.avg_price;
      e.mark = mark;
      e.slippage_bps = slippage_bps(pos > 0, c.avg_price, mark);
      e.penalty = from_micros(penalty);
      e.liquidator = -1;
      e.steps_to_complete = 0;
      e.endogenous = false;
      ctx.events.push_back(e);
      ++added;
      notional += c.notional;
      // A hedged account (spot of the same asset on the other side in the margin account) is
      // de-risked on both legs: the spot matching the contracts just closed is traded back at once,
      // so de-risking never leaves it with a directional position (header).
      const Micros spot = ctx.market.ledger.balance(acc.account, am.spot_asset);
      if ((pos < 0 && spot > 0) || (pos > 0 && spot < 0)) {
        Venue& sv = *am.spot;
        const Lots lots = std::min(std::abs(spot), to_fixed(c.qty, 1e6)) / sv.spec().lot_micros;
        if (lots > 0) {
          const Side side = spot > 0 ? Side::Sell : Side::Buy;
          const SubmitResult s = sv.market(acc.account, side, lots);
          if (s.filled > 0) {
            LiquidationEvent se = e;
            se.notional = from_micros(sv.last_notional());
            se.price = se.notional / sv.lots_to_qty(s.filled);
            se.mark = am.index_or_reference();
            se.slippage_bps = slippage_bps(spot > 0, se.price, se.mark);
            se.penalty = 0.0;
            ctx.events.push_back(se);
            ++added;
            notional += se.notional;
          }
        }
      }
    }
  }
  if (notional_out) *notional_out = notional;
  return added;
}

}  // namespace sl
