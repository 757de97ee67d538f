#include "agents/hedging_demand.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>

namespace sl {

HedgingDemand::HedgingDemand(const HedgingDemandConfig& cfg, AccountId account, std::size_t asset, Rng rng)
    : cfg_(cfg), account_(account), asset_(asset), interval_(std::max(1, cfg.interval_steps)) {
  boost::random::uniform_int_distribution<std::int64_t> phase(0, interval_ - 1);
  phase_ = phase(rng);
}

void HedgingDemand::act(Market& m) {
  AssetMarket& am = m.assets[asset_];
  Venue& v = *am.perp;
  const double index = am.index_or_reference();
  // The remembered high fades toward the index with the half-life, and jumps to a new high at once.
  double keep = 0.0;  // share of the remembered high's excess (and of the hedge) kept since the last action
  if (last_step_ < 0) {
    high_ = index;
  } else {
    const double elapsed_s = static_cast<double>(m.step - last_step_) * m.dt_s;
    keep = std::exp2(-elapsed_s / cfg_.memory_half_life_s);
    high_ = std::max(index, index + (high_ - index) * keep);
  }
  drawdown_ = high_ > 0 ? std::max(0.0, 1.0 - index / high_) : 0.0;
  // Realized volatility of the index between its actions, against the calm regime's.
  const double calm_var = am.calm_step_vol * am.calm_step_vol * static_cast<double>(interval_);
  if (ewma_var_ < 0) ewma_var_ = calm_var;
  if (last_index_ > 0 && index > 0) {
    const double alpha = 2.0 / (static_cast<double>(cfg_.vol_window_steps) / static_cast<double>(interval_) + 1.0);
    const double r = std::log(index / last_index_);
    ewma_var_ = (1.0 - std::min(1.0, alpha)) * ewma_var_ + std::min(1.0, alpha) * r * r;
  }
  vol_ratio_ = calm_var > 0 ? std::sqrt(ewma_var_ / calm_var) : 1.0;
  last_index_ = index;
  last_step_ = m.step;
  // The hedge follows stress up at once and comes down only with the half-life: a rebound does not
  // lift it (a hedge is lifted as the fall is forgotten, not on the first bounce).
  const double stress_target = cfg_.short_qty_per_drawdown * std::max(0.0, drawdown_ - cfg_.drawdown_threshold) *
                               (1.0 + cfg_.vol_weight * std::max(0.0, vol_ratio_ - 1.0));
  target_ = std::max(stress_target, target_ * keep);

  const Lots lot_gap = v.qty_to_lots(target_) + m.ledger.balance(account_, am.perp_asset) / v.spec().lot_micros;
  const Lots max_lots = v.qty_to_lots(cfg_.max_order_qty);
  const double tick = v.spec().tick_size;
  if (lot_gap > 1) {  // short by less than the target: sell down to index x (1 - max discount)
    const Tick floor_px = static_cast<Tick>(std::ceil(index * (1.0 - cfg_.max_discount_bps * 1e-4) / tick - 1e-9));
    if (v.book().best_bid() >= floor_px && floor_px > 0) v.limit(account_, Side::Sell, floor_px, std::min(max_lots, lot_gap), TimeInForce::IOC);
  } else if (lot_gap < -1) {  // short by more than the target: buy back, never above the index
    const Tick cap_px = static_cast<Tick>(std::floor(index / tick + 1e-9));
    const Tick ask = v.book().best_ask();
    if (ask > 0 && ask <= cap_px) {
      // Cash for the notional and the taker fee (one micro of slack per lot for the fee's rounding).
      const Micros per_lot = v.notional(cap_px, 1);
      const Micros cash = m.ledger.balance(account_, m.quote_asset);
      const Lots by_cash = cash > 0 ? cash / (per_lot + v.fee(per_lot, false) + 1) : 0;
      const Lots q = std::min({max_lots, -lot_gap, by_cash});
      if (q > 0) v.limit(account_, Side::Buy, cap_px, q, TimeInForce::IOC);
    }
  }
}

}  // namespace sl
