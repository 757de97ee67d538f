// Mark price (model.md section 4): mark = index + clamp(EMA(perp mid - index), +-clamp_bps x index).
#pragma once

#include "scenarios/scenario_config.hpp"

namespace sl {

class Venue;

// The mark's sample of a perp venue: its two-sided mid in quote units, NaN when a side is missing,
// so a one-sided book's last trade (Venue::mid_ticks) is never a sample (issue #14).
double perp_mark_sample(const Venue& perp);

class MarkPrice {
 public:
  // Throws std::invalid_argument if ema_steps < 1 or clamp_bps < 0.
  explicit MarkPrice(const MarkConfig& cfg);

  // Step 4: premium_ema <- EMA of (perp_mid - index) with alpha = 2 / (ema_steps + 1); the first sample
  // initialises the EMA. mark = index + clamp(premium_ema, -clamp_bps * index / 1e4, +clamp_bps * index / 1e4).
  // A perp_mid that is not a positive finite number (no two-sided perp book) is not a sample: the EMA
  // keeps its value (0 before the first sample) and the mark follows the new index. Returns the mark.
  double update(double index, double perp_mid);

  double mark() const { return mark_; }
  double premium_ema() const { return ema_; }  // unclamped, quote units
  bool initialised() const { return initialised_; }

 private:
  double alpha_;
  double clamp_frac_;  // clamp_bps / 1e4
  double ema_ = 0.0;
  double mark_ = 0.0;
  bool initialised_ = false;
};

}  // namespace sl
