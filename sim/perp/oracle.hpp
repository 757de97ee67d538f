// Oracle: the index price of one asset (model.md section 1, step 2, and section 4: index = oracle price).
//
// publish(step) aggregates the end-of-step spot mids observed at steps
//   [step - 1 - lag - window + 1, step - 1 - lag]      (window = cfg.window_steps, lag = cfg.lag_steps + faults)
// by median (even count: mean of the two middle values) or TWAP (arithmetic mean). A step of the window
// that lies before the first observation counts as the initial price, so the index starts at the
// initial price and blends into observed mids as history accumulates. A step after the last observation
// (observe() not yet called for it) counts as the last observed mid (carry forward); a step skipped by
// observe() (steps jumped) also carries the previous mid forward.
//
// Faults active at `step` (start_step <= step < end_step, asset_index == -1 or this asset) are applied
// as a pipeline, in this order:
//   1. extra_lag: the window is shifted back by extra_lag_steps. When several extra_lag faults overlap,
//      the LARGEST extra lag applies (they are concurrent delays of one feed, not consecutive ones; this
//      is also what the history buffer is sized for).
//   2. freeze: while any freeze fault is active, the oracle keeps the value it produced (before bias) at
//      the last publish before the freeze began (the initial price if nothing was published yet).
//      Back-to-back or overlapping freezes form one continuous freeze. Without an active bias fault
//      this is exactly the value published just before the freeze.
//   3. bias: the result is multiplied by (1 + bias_bps / 1e4) for every active bias fault (overlapping
//      biases compound).
// index() returns the value after the whole pipeline.
//
// Storage: a ring buffer of window + lag + max extra lag + 2 mids plus a scratch array of window values,
// both allocated once in the constructor; publish() and observe() never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scenarios/scenario_config.hpp"

namespace sl {

class Oracle {
 public:
  // Throws std::invalid_argument for an unknown method or fault kind, window_steps < 1, a negative lag
  // or extra lag, or an initial price that is not a positive finite number.
  Oracle(const OracleConfig& cfg, std::size_t asset_index, double initial_price);

  // Step 2 of the loop: publishes (and returns) the index for `step`.
  double publish(std::int64_t step);
  // Step 7: records the spot mid at the end of `step` (once per step, steps strictly increasing; a
  // non-increasing step throws std::invalid_argument). A mid that is not a positive finite number
  // (e.g. a one-sided book) is not an observation: the previous mid is carried forward.
  // With outside_weight w > 0 the observation is the composite (1 - w) x own + w x outside_price,
  // own = this mid, or the last valid one (the initial price before any) when it is not valid;
  // outside_price (the reference: the other venues' price) must then be positive and finite.
  void observe(std::int64_t step, double spot_mid, double outside_price = 0.0);
  double index() const { return index_; }  // last published (the initial price before any publish)

  // Introspection (tests, recorder).
  std::size_t capacity() const { return ring_.size(); }
  bool frozen() const { return frozen_; }

 private:
  bool applies(const OracleFaultConfig& f, std::int64_t step) const;
  double mid_at(std::int64_t step) const;  // the mid used for `step` (see the header comment)
  std::size_t slot(std::int64_t step) const;

  OracleConfig cfg_;
  bool twap_ = false;
  double own_last_ = 0.0;  // last valid own spot mid (outside_weight > 0); 0 before any
  std::int64_t asset_;
  double initial_;
  std::vector<double> ring_;     // ring_[slot(s)] = mid at end of step s, for s in (last_ - capacity, last_]
  std::vector<double> scratch_;  // window values for the median
  bool has_obs_ = false;
  std::int64_t first_ = 0;       // first observed step
  std::int64_t last_ = 0;        // last observed step
  double index_;                 // last published (after bias)
  double raw_;                   // last produced before bias (what a freeze holds)
  bool frozen_ = false;
  double frozen_value_ = 0.0;
};

}  // namespace sl
