// Scheduled shocks (model.md section 3), applied at step 1 of the loop, just before the reference
// advances. Several may overlap; each acts on one asset or all (asset_index -1) over
// [start_step, end_step):
//  - price_jump: the reference moves by size_pct in total, split evenly in log terms over the window
//    (end_step 0 means a one-step jump at start_step);
//  - vol_regime: the reference volatility is multiplied by vol_multiplier (multipliers of
//    overlapping shocks multiply);
//  - liquidity_withdrawal: market makers quote depth_multiplier x levels and size_multiplier x size
//    (overlapping shocks multiply);
//  - oracle_fault: exactly a perp.oracle.faults entry (kind freeze | extra_lag | bias, same window
//    and asset); the kernel appends these to the oracle's faults when it builds the world
//    (oracle_config_with_shocks), so the Oracle's own fault pipeline applies them (sim/perp/oracle.hpp);
//  - congestion (asset_index -1 only): Market::liquidator_cost_multiplier and
//    liquidator_latency_multiplier are the products of the active shocks' cost_multiplier and
//    latency_multiplier, 1 outside every window. Every policy's bots read them: a bot sees a
//    flagged account after ceil(latency_steps x latency multiplier) steps and pays tx_cost x cost
//    multiplier per transaction (agents/liquidator_bot.hpp);
//  - funding_shock: premium_bps / 1e4 is added to every funding premium sample taken in the window
//    (overlapping shocks add), as if the perp traded that much above the index for funding
//    purposes only (the books are untouched). The settled rate then goes through the usual
//    interest clamp and cap: a shock covering a share s of an interval moves P by s x premium_bps;
//  - collateral_depeg: over the window the asset's collateral haircut is its configured
//    collateral_haircut + haircut_add (capped at 1), which lowers the value of that spot in every
//    margined account at once; and with depeg_pct the reference moves by depeg_pct at start_step
//    and back by the same log amount at end_step (a depeg and its re-peg; the books, the index and
//    so the margin value follow the reference as usual).
#pragma once
#include <cstdint>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"

namespace sl {

struct LiquidityState {
  double depth_multiplier = 1.0;
  double size_multiplier = 1.0;
};

// The oracle configuration with every oracle_fault shock appended to its faults.
OracleConfig oracle_config_with_shocks(const OracleConfig& oracle, const std::vector<ShockConfig>& shocks);

class ShockSchedule {
 public:
  // m: the built world; the configured collateral haircuts are read from it once, here.
  ShockSchedule(std::vector<ShockConfig> shocks, const Market& m);
  // Applies this step's jumps to the references, recomputes volatility multipliers, the congestion
  // multipliers and collateral haircuts in `m`, and the liquidity and funding-premium state below.
  // Allocates nothing.
  void apply(std::int64_t step, Market& m);
  const LiquidityState& liquidity(std::size_t asset) const { return liquidity_[asset]; }
  // Added to this step's funding premium sample of the asset (fraction; 0 without funding_shock).
  double funding_premium(std::size_t asset) const { return funding_premium_[asset]; }
  bool any_active(std::int64_t step) const;

 private:
  std::vector<ShockConfig> shocks_;
  std::vector<LiquidityState> liquidity_;
  std::vector<double> funding_premium_;
  std::vector<double> base_haircut_;
};

}  // namespace sl
