// Proactive de-risking (model.md section 5, "V3"): runs before the liquidation policy each step.
// An open margined account that is not liquidatable yet, but whose equity is below
// trigger_ratio x maintenance, is de-risked when its position in an asset is larger than the
// visible depth it would have to be closed into within one predicted move: the depth on the
// closing side of the perp book within sigma_h of that side's best price, where sigma_h is the index's EWMA
// volatility scaled to horizon_s. It then closes `fraction` of that position with a market order
// and pays penalty_bps (to the insurance fund). Each de-risking is a liquidation event with
// policy_path "proactive" (not endogenous: the account was healthy). A hedged account (spot of the
// same asset on the other side in its margin account: a unified basis trade) is de-risked on both
// legs: right after the contracts, min(spot held, contracts closed) of the spot is traded back with a
// market order on the spot book (its own "proactive" event, no penalty, mark = index), so the
// de-risking removes risk without leaving the account directional.
#pragma once
#include <vector>

#include "sim/liquidation/policy.hpp"

namespace sl {

class ProactiveDerisker {
 public:
  ProactiveDerisker(const ProactiveConfig& cfg, std::size_t n_assets, double dt_s);
  // Updates the volatility estimates from this step's index and de-risks the accounts that qualify.
  // Returns the number of events added.
  std::int64_t on_step(LiquidationContext& ctx, double* notional_out);
  double predicted_move(std::size_t asset) const;  // sigma over horizon_s, as a fraction

 private:
  ProactiveConfig cfg_;
  double dt_s_;
  std::vector<double> last_index_, ewma_var_;
  std::vector<std::uint32_t> under_;  // scratch of on_step: margin ids under the trigger
  int observations_ = 0;
};

}  // namespace sl
