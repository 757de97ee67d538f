#include "sim/market/reference_process.hpp"

#include <boost/random/normal_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <algorithm>
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

bool ReferenceProcess::next_regime(double u) const {
  if (stressed_) return !(u < p_to_calm_);
  return u < p_to_stress_;
}

double ReferenceProcess::step() {
  boost::random::uniform_01<double> uni;
  boost::random::normal_distribution<double> normal;
  const bool s = next_regime(uni(rng_));
  const double z = normal(rng_);
  return advance(z, s, rng_);
}

double ReferenceProcess::advance(double z, bool stressed, Rng& rng) {
  stressed_ = stressed;
  const double sigma = vol_annual();
  double dlog = (cfg_.drift_annual - 0.5 * sigma * sigma) * dt_years_ + sigma * std::sqrt(dt_years_) * z;
  if (jump_rate_step_ > 0.0) {
    boost::random::poisson_distribution<int, double> pois(jump_rate_step_);
    const int n = pois(rng);
    boost::random::normal_distribution<double> jump(cfg_.jump_mean_log, cfg_.jump_stdev_log > 0 ? cfg_.jump_stdev_log : 1.0);
    for (int i = 0; i < n; ++i) dlog += cfg_.jump_stdev_log > 0 ? jump(rng) : cfg_.jump_mean_log;
  }
  if (!replay_.empty()) {
    const double p = replay_[std::min(replay_pos_, replay_.size() - 1)];
    ++replay_pos_;
    log_price_ = std::log(p) + replay_log_offset_;
    price_ = std::exp(log_price_);
    return price_;
  }
  log_price_ += dlog;
  price_ = std::exp(log_price_);
  return price_;
}

void ReferenceModel::step() {
  boost::random::uniform_01<double> uni;
  boost::random::normal_distribution<double> normal;
  stressed_ = assets_[0]->next_regime(uni(rng_));
  const double z0 = normal(rng_);
  assets_[0]->advance(z0, stressed_, rng_);
  for (std::size_t i = 1; i < assets_.size(); ++i) {
    const double rho = stressed_ ? corr_stress_[i] : corr_calm_[i];
    const double z = rho * z0 + std::sqrt(std::max(0.0, 1.0 - rho * rho)) * normal(rng_);
    assets_[i]->advance(z, stressed_, rng_);
  }
}

void ReferenceProcess::apply_jump(double log_size) {
  if (!replay_.empty()) replay_log_offset_ += log_size;
  log_price_ += log_size;
  price_ = std::exp(log_price_);
}

}  // namespace sl
