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
//
// Volatility-linked haircut (an asset option, not a shock: assets[i].haircut_vol_z > 0). Venues that
// count spot as margin collateral cut its value more when it is volatile, because the haircut must
// cover the move the collateral can make while it is being sold. Each step, before the reference
// advances, with r_t = ln(index_{t-1} / index_{t-2}) the index's last log return (the index the venue
// published; none before two indices exist) and W = haircut_vol_window_steps:
//     sigma_H = sqrt( mean(r^2 over the last min(W, available) returns) x H / dt_s ),  H = haircut_vol_horizon_s
//     h0      = min(1, collateral_haircut + the active collateral_depeg haircut_add)
//     haircut = max(h0, min(haircut_vol_cap, h0 + haircut_vol_z x sigma_H))
// (a fraction). So z = 3, H = 3600 s: the haircut covers a 3-sigma one-hour move; the vol term
// never lowers the haircut below h0 nor raises it above the cap. The margin engine's "healthy at
// the reference" test (the endogenous flag) uses the same haircut, which here follows the index's
// volatility, market-made moves included.
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
  // The same, with the volatility-linked haircut of the assets that enable it (haircut_vol_z > 0).
  ShockSchedule(std::vector<ShockConfig> shocks, const Market& m, const std::vector<AssetConfig>& assets);
  // The volatility term's sigma_H of asset i at the last apply() (0 when off or before two indices).
  double haircut_sigma(std::size_t asset) const { return vol_[asset].sigma_h; }
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
  // Volatility-linked haircut state per asset: a ring of the last W squared index log returns.
  struct VolHaircut {
    double z = 0, horizon_steps = 0, cap = 1, sigma_h = 0, sum_sq = 0;
    std::vector<double> ring;
    std::size_t next = 0, filled = 0;
    double prev_index = 0;
  };
  std::vector<VolHaircut> vol_;
  void update_vol_haircut(std::size_t i, const Market& m);
};

}  // namespace sl
