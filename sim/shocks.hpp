// Scheduled shocks, applied at step 1 of the loop, just before the reference advances (a vol_regime
// multiplier scales this step's diffusion; a jump is added to the log price). Several may
// overlap; each acts on one asset or all (asset_index -1) over [start_step, end_step):
//  - price_jump: the reference moves by size_pct in total, split evenly in log terms over the window
//    (end_step 0 means a one-step jump at start_step);
//  - vol_regime: the reference volatility is multiplied by vol_multiplier (multipliers of
//    overlapping shocks multiply);
//  - liquidity_withdrawal: market makers quote depth_multiplier x levels and size_multiplier x size.
#pragma once
#include <cstdint>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/market.hpp"

namespace sl {

struct LiquidityState {
  double depth_multiplier = 1.0;
  double size_multiplier = 1.0;
};

class ShockSchedule {
 public:
  ShockSchedule(std::vector<ShockConfig> shocks, std::size_t n_assets);
  // Applies this step's jumps to the references and recomputes volatility multipliers; returns the
  // liquidity multipliers per asset for the market makers.
  void apply(std::int64_t step, Market& m);
  const LiquidityState& liquidity(std::size_t asset) const { return liquidity_[asset]; }
  bool any_active(std::int64_t step) const;

 private:
  std::vector<ShockConfig> shocks_;
  std::vector<LiquidityState> liquidity_;
};

}  // namespace sl
