#include "sim/perp/oracle.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sl {

Oracle::Oracle(const OracleConfig& cfg, std::size_t asset_index, double initial_price)
    : cfg_(cfg), asset_(static_cast<std::int64_t>(asset_index)), initial_(initial_price), index_(initial_price),
      raw_(initial_price) {
  if (cfg_.method == "twap") twap_ = true;
  else if (cfg_.method != "median") throw std::invalid_argument("oracle: unknown method '" + cfg_.method + "'");
  if (cfg_.window_steps < 1) throw std::invalid_argument("oracle: window_steps must be >= 1");
  if (cfg_.lag_steps < 0) throw std::invalid_argument("oracle: lag_steps must be >= 0");
  if (!(cfg_.outside_weight >= 0.0 && cfg_.outside_weight <= 1.0))
    throw std::invalid_argument("oracle: outside_weight must be in [0, 1]");
  if (!std::isfinite(initial_price) || initial_price <= 0.0)
    throw std::invalid_argument("oracle: initial price must be a positive finite number");
  std::int64_t max_extra = 0;
  for (const OracleFaultConfig& f : cfg_.faults) {
    if (f.kind == "extra_lag") {
      if (f.extra_lag_steps < 0) throw std::invalid_argument("oracle: extra_lag_steps must be >= 0");
      max_extra = std::max<std::int64_t>(max_extra, f.extra_lag_steps);
    } else if (f.kind != "freeze" && f.kind != "bias") {
      throw std::invalid_argument("oracle: unknown fault kind '" + f.kind + "'");
    }
  }
  const std::int64_t cap = std::int64_t{cfg_.window_steps} + cfg_.lag_steps + max_extra + 2;
  ring_.assign(static_cast<std::size_t>(cap), initial_price);
  scratch_.assign(static_cast<std::size_t>(cfg_.window_steps), 0.0);
}

bool Oracle::applies(const OracleFaultConfig& f, std::int64_t step) const {
  return f.start_step <= step && step < f.end_step && (f.asset_index < 0 || f.asset_index == asset_);
}

std::size_t Oracle::slot(std::int64_t step) const {
  const std::int64_t n = static_cast<std::int64_t>(ring_.size());
  const std::int64_t r = step % n;
  return static_cast<std::size_t>(r < 0 ? r + n : r);
}

double Oracle::mid_at(std::int64_t step) const {
  if (!has_obs_ || step < first_) return initial_;
  if (step >= last_) return ring_[slot(last_)];
  if (last_ - step >= static_cast<std::int64_t>(ring_.size()))
    throw std::logic_error("oracle: step " + std::to_string(step) + " is older than the history kept (last observed " +
                           std::to_string(last_) + ")");
  return ring_[slot(step)];
}

void Oracle::observe(std::int64_t step, double spot_mid, double outside_price) {
  const double w = cfg_.outside_weight;
  if (w > 0.0) {
    if (!(std::isfinite(outside_price) && outside_price > 0.0))
      throw std::invalid_argument("oracle: outside price must be a positive finite number when outside_weight > 0");
    if (std::isfinite(spot_mid) && spot_mid > 0.0) own_last_ = spot_mid;
    const double own = own_last_ > 0.0 ? own_last_ : initial_;
    spot_mid = (1.0 - w) * own + w * outside_price;  // always a valid observation
  }
  const bool valid = std::isfinite(spot_mid) && spot_mid > 0.0;
  if (!has_obs_) {
    if (!valid) return;  // nothing observed yet: the initial price keeps standing in
    has_obs_ = true;
    first_ = last_ = step;
    ring_[slot(step)] = spot_mid;
    return;
  }
  if (step <= last_)
    throw std::invalid_argument("oracle: observe(" + std::to_string(step) + ") after step " + std::to_string(last_) +
                                "; steps must increase");
  const double prev = ring_[slot(last_)];
  // Steps skipped since the last observation carry the previous mid forward (only the newest
  // capacity - 1 of them can still be read).
  const std::int64_t n = static_cast<std::int64_t>(ring_.size());
  for (std::int64_t s = std::max(last_ + 1, step - n + 1); s < step; ++s) ring_[slot(s)] = prev;
  ring_[slot(step)] = valid ? spot_mid : prev;
  last_ = step;
}

double Oracle::publish(std::int64_t step) {
  // 1. lag: configured lag plus the largest extra lag of the active extra_lag faults.
  std::int64_t extra = 0;
  bool freeze = false;
  double bias = 1.0;
  for (const OracleFaultConfig& f : cfg_.faults) {
    if (!applies(f, step)) continue;
    if (f.kind == "extra_lag") extra = std::max<std::int64_t>(extra, f.extra_lag_steps);
    else if (f.kind == "freeze") freeze = true;
    else if (f.kind == "bias") bias *= 1.0 + f.bias_bps / 1e4;
  }

  // 2. freeze: hold the pre-bias value of the last publish before the freeze began.
  if (freeze) {
    if (!frozen_) {
      frozen_ = true;
      frozen_value_ = raw_;
    }
    raw_ = frozen_value_;
  } else {
    frozen_ = false;
    const std::int64_t lag = std::int64_t{cfg_.lag_steps} + extra;
    const std::int64_t w = cfg_.window_steps;
    const std::int64_t hi = step - 1 - lag;
    const std::int64_t lo = hi - w + 1;
    double value;
    if (twap_) {
      double sum = 0.0;
      for (std::int64_t s = lo; s <= hi; ++s) sum += mid_at(s);
      value = sum / static_cast<double>(w);
    } else {
      for (std::int64_t s = lo; s <= hi; ++s) scratch_[static_cast<std::size_t>(s - lo)] = mid_at(s);
      const std::size_t n = scratch_.size();
      const auto mid = scratch_.begin() + static_cast<std::ptrdiff_t>(n / 2);
      std::nth_element(scratch_.begin(), mid, scratch_.end());
      value = *mid;
      if (n % 2 == 0) {
        const double lower = *std::max_element(scratch_.begin(), mid);
        value = (lower + value) / 2.0;
      }
    }
    raw_ = value;
  }

  // 3. bias.
  index_ = raw_ * bias;
  return index_;
}

}  // namespace sl
