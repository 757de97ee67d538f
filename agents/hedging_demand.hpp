// Hedging demand (issue #14 item 4): holders of spot outside the model who, after a fall, hedge
// with perp shorts, and lift the hedge as the fall is forgotten.
//
// The mechanism it stands for (documented in agents/README.md "Traders after the fall"): after the
// March 2020 crash, miners, funds and other holders who could not or would not sell their coins
// hedged them on the perpetual; the short demand met a limited long side (the arbitrage of a
// discount needs borrowed spot, scarce and costly then: ArbitrageurConfig::long_perp_borrow_bps),
// so the perp stayed below the index and funding negative for days.
//
// Each hedger, every interval_steps on its own phase (drawn at construction):
//   high     <- max(index, index + (high - index) x 2^(-elapsed_s / memory_half_life_s))
//               (starts at the first index it sees; a new high is remembered at once, an old one
//               fades toward the index with the half-life)
//   drawdown  = 1 - index / high                                   in [0, 1)
//   vol ratio = sqrt(EWMA of squared index log changes between its actions / calm variance)
//               (EWMA weight 2 / (vol_window_steps / interval_steps + 1); the calm variance is the
//               asset's calm step variance x interval_steps)
//   stress    = short_qty_per_drawdown x max(0, drawdown - drawdown_threshold)
//               x (1 + vol_weight x max(0, vol ratio - 1))
//   target   <- max(stress, target x 2^(-elapsed_s / memory_half_life_s))
//               (up at once with stress, down only with the half-life: a rebound does not lift it)
// and trades toward a short of `target` contracts: short by less than target - one lot -> sells IOC
// at the limit index x (1 - max_discount_bps), at most max_order_qty; short by more than target +
// one lot -> buys back IOC at asks no higher than the index (a hedger does not pay a premium to
// lift a hedge). Its account is a cross-margin account (issue #12 item 3, registered by
// sim/run/simulation.cpp): `quote_cash` is its collateral, its short a negative contract balance;
// it is flagged, liquidated (then retired: it never acts again), deleveraged and charged funding
// like any account. A buy-back is still paid from the cash it holds.
#pragma once
#include <cstdint>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"
#include "sim/market/market.hpp"

namespace sl {

class HedgingDemand {
 public:
  HedgingDemand(const HedgingDemandConfig& cfg, AccountId account, std::size_t asset, Rng rng);

  bool wants_to_act(std::int64_t step) const { return (step + phase_) % interval_ == 0; }
  std::int64_t next_wake(std::int64_t step) const { return next_multiple_after(step, interval_, phase_); }
  void act(Market& m);

  AccountId account() const { return account_; }
  // The state of its last action (tests read it): the remembered high, the drawdown, the vol ratio
  // and the target short in asset units.
  double high() const { return high_; }
  double drawdown() const { return drawdown_; }
  double vol_ratio() const { return vol_ratio_; }
  double target_short() const { return target_; }

 private:
  HedgingDemandConfig cfg_;
  AccountId account_;
  std::size_t asset_;
  std::int64_t interval_;
  std::int64_t phase_ = 0;
  double high_ = 0.0;
  double last_index_ = 0.0;
  std::int64_t last_step_ = -1;
  double ewma_var_ = -1.0;
  double drawdown_ = 0.0;
  double vol_ratio_ = 1.0;
  double target_ = 0.0;
};

}  // namespace sl
