#include "sim/reference_process.hpp"

#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>

namespace sl {

namespace {
constexpr double kSecondsPerYear = 365.0 * 86400.0;
}

ReferenceProcess::ReferenceProcess(const ReferenceConfig& cfg, double initial_price, double dt_s, Rng rng)
    : cfg_(cfg),
      dt_years_(dt_s / kSecondsPerYear),
      // Probability of at least one switch in dt for a Markov chain with the given intensity.
      p_to_stress_(1.0 - std::exp(-cfg.p_calm_to_stress_per_hour * dt_s / 3600.0)),
      p_to_calm_(1.0 - std::exp(-cfg.p_stress_to_calm_per_hour * dt_s / 3600.0)),
      jump_rate_step_(cfg.jump_intensity_per_day * dt_s / 86400.0),
      log_price_(std::log(initial_price)),
      price_(initial_price),
      rng_(rng) {}

double ReferenceProcess::calm_step_vol() const { return cfg_.vol_calm_annual * std::sqrt(dt_years_); }

double ReferenceProcess::step() {
  boost::random::uniform_01<double> uni;
  boost::random::normal_distribution<double> normal;
  const double u = uni(rng_);
  if (stressed_) {
    if (u < p_to_calm_) stressed_ = false;
  } else if (u < p_to_stress_) {
    stressed_ = true;
  }
  const double sigma = vol_annual();
  const double z = normal(rng_);
  double dlog = (cfg_.drift_annual - 0.5 * sigma * sigma) * dt_years_ + sigma * std::sqrt(dt_years_) * z;
  if (jump_rate_step_ > 0.0) {
    boost::random::poisson_distribution<int, double> pois(jump_rate_step_);
    const int n = pois(rng_);
    boost::random::normal_distribution<double> jump(cfg_.jump_mean_log, cfg_.jump_stdev_log > 0 ? cfg_.jump_stdev_log : 1e-300);
    for (int i = 0; i < n; ++i) dlog += cfg_.jump_stdev_log > 0 ? jump(rng_) : cfg_.jump_mean_log;
  }
  log_price_ += dlog;
  price_ = std::exp(log_price_);
  return price_;
}

void ReferenceProcess::apply_jump(double log_size) {
  log_price_ += log_size;
  price_ = std::exp(log_price_);
}

}  // namespace sl
