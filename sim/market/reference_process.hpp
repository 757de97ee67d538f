// Exogenous reference price: the "true" price the market is pushed by. GBM whose volatility
// switches between a calm and a stress regime (two-state continuous-time Markov chain, discretised
// per step) plus Merton jumps (Poisson arrivals, normal log sizes). Each asset's process draws from
// its own stream, so every policy and every agent population sees the same path for one seed.
#pragma once
#include "scenarios/scenario_config.hpp"
#include "sim/core/rng.hpp"

#include <vector>

namespace sl {

class ReferenceProcess {
 public:
  ReferenceProcess(const ReferenceConfig& cfg, double initial_price, double dt_s, Rng rng);

  // Advances one step of dt_s with its own stream and returns the new price. Draws a fixed pattern
  // per step (switch uniform, diffusion normal, jump count, then one normal per jump).
  double step();
  // Advances one step given the diffusion shock z ~ N(0,1) and the regime decided elsewhere (the
  // multi-asset model correlates z across assets and shares one regime); jumps draw from `rng`.
  double advance(double z, bool stressed, Rng& rng);
  // Decides the regime switch for this step from a uniform draw (used by the multi-asset model).
  bool next_regime(double u) const;
  // Historical replay: from now on the price follows `path` (path[k] is the price after the k-th
  // call to step()/advance(); the last value is held beyond the end). Jumps from shocks still apply
  // on top, as a multiplicative offset; the random draws are still made so streams stay aligned.
  void set_replay(std::vector<double> path) { replay_ = std::move(path); }
  bool replaying() const { return !replay_.empty(); }
  // vol_regime shocks scale the volatility of both regimes while active (1 = none).
  void set_vol_multiplier(double m) { vol_multiplier_ = m; }
  // Multiplies the price by exp(log_size) now (scheduled jump shocks).
  void apply_jump(double log_size);

  double price() const { return price_; }
  bool stressed() const { return stressed_; }
  double vol_annual() const { return vol_multiplier_ * (stressed_ ? cfg_.vol_stress_annual : cfg_.vol_calm_annual); }
  // Per-step standard deviation of log returns in the calm regime (for agents' vol normalisation).
  double calm_step_vol() const;

 private:
  ReferenceConfig cfg_;
  double dt_years_;
  double p_to_stress_, p_to_calm_, jump_rate_step_;
  double log_price_;
  double price_;
  bool stressed_ = false;
  double vol_multiplier_ = 1.0;
  std::vector<double> replay_;
  std::size_t replay_pos_ = 0;
  double replay_log_offset_ = 0.0;  // accumulated shock jumps during a replay
  Rng rng_;
};

// All assets' reference prices, stepped together from one stream: one market-wide regime chain
// (asset 0's switching rates), diffusion shocks correlated with asset 0's by each asset's
// correlation_to_first (or correlation_to_first_stress in the stress regime), own jumps. With one
// asset it reproduces ReferenceProcess::step() draw for draw.
class ReferenceModel {
 public:
  ReferenceModel(std::vector<ReferenceProcess*> assets, std::vector<double> corr_calm, std::vector<double> corr_stress, Rng rng)
      : assets_(std::move(assets)), corr_calm_(std::move(corr_calm)), corr_stress_(std::move(corr_stress)), rng_(rng) {}
  void step();
  bool stressed() const { return stressed_; }

 private:
  std::vector<ReferenceProcess*> assets_;
  std::vector<double> corr_calm_, corr_stress_;
  Rng rng_;
  bool stressed_ = false;
};

}  // namespace sl
