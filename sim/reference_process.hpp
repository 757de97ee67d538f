// Exogenous reference price: the "true" price the market is pushed by. GBM whose volatility
// switches between a calm and a stress regime (two-state continuous-time Markov chain, discretised
// per step) plus Merton jumps (Poisson arrivals, normal log sizes). Each asset's process draws from
// its own stream, so every policy and every agent population sees the same path for one seed.
#pragma once
#include "scenarios/scenario_config.hpp"
#include "sim/rng.hpp"

namespace sl {

class ReferenceProcess {
 public:
  ReferenceProcess(const ReferenceConfig& cfg, double initial_price, double dt_s, Rng rng);

  // Advances one step of dt_s and returns the new price. Draws a fixed pattern per step (switch
  // uniform, diffusion normal, jump count, then one normal per jump) so paths are reproducible.
  double step();
  // Multiplies the price by exp(log_size) now (scheduled jump shocks).
  void apply_jump(double log_size);

  double price() const { return price_; }
  bool stressed() const { return stressed_; }
  double vol_annual() const { return stressed_ ? cfg_.vol_stress_annual : cfg_.vol_calm_annual; }
  // Per-step standard deviation of log returns in the calm regime (for agents' vol normalisation).
  double calm_step_vol() const;

 private:
  ReferenceConfig cfg_;
  double dt_years_;
  double p_to_stress_, p_to_calm_, jump_rate_step_;
  double log_price_;
  double price_;
  bool stressed_ = false;
  Rng rng_;
};

}  // namespace sl
