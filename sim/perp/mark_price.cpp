#include "sim/perp/mark_price.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/book/venue.hpp"

namespace sl {

MarkPrice::MarkPrice(const MarkConfig& cfg) {
  if (cfg.ema_steps < 1) throw std::invalid_argument("mark price: ema_steps must be >= 1");
  if (!(cfg.clamp_bps >= 0.0)) throw std::invalid_argument("mark price: clamp_bps must be >= 0");
  alpha_ = 2.0 / (static_cast<double>(cfg.ema_steps) + 1.0);
  clamp_frac_ = cfg.clamp_bps / 1e4;
}

double perp_mark_sample(const Venue& perp) {
  return perp.ticks_to_price(perp.two_sided_mid_ticks_or(std::numeric_limits<double>::quiet_NaN()));
}

double MarkPrice::update(double index, double perp_mid) {
  if (std::isfinite(perp_mid) && perp_mid > 0.0) {
    const double sample = perp_mid - index;
    if (!initialised_) {
      ema_ = sample;
      initialised_ = true;
    } else {
      ema_ += alpha_ * (sample - ema_);
    }
  }
  const double bound = std::abs(clamp_frac_ * index);
  mark_ = index + std::clamp(ema_, -bound, bound);
  return mark_;
}

}  // namespace sl
