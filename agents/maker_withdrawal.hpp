// Endogenous liquidity withdrawal of a market maker (issue #14 item 2): how many of its quote levels
// a maker pulls, per side, from what it measures itself. Called once per requote with
//   vol_ratio   short-horizon realized vol / calm vol (EWMA over withdrawal.vol_window_steps of the
//               squared index log changes between its requotes),
//   inventory   its inventory in asset units (net across venues when it hedges),
//   trading PnL quote units: (quote - starting quote) + (spot - starting spot + perp) x index, i.e.
//               what its trading made, not the revaluation of the spot it started with.
// Per side, with L = quoted levels:
//   k_vol  = min(L - 1, floor(levels_per_vol_ratio x (vol_ratio - vol_ratio_threshold)+))   (both sides;
//            volatility alone leaves the outermost level, whose size may still round to zero)
//   k_inv  = min(L, floor(L x (|inv| / max_inventory - inventory_threshold)+ / (1 - inventory_threshold)))
//            on the side that adds to inventory (bids when long, asks when short); 0 if the threshold is 1
//   k_loss = L on both sides on the requote the drawdown peak - PnL reaches loss_limit_quote (> 0);
//            the peak is then reset to the current PnL (a fresh limit once the maker is back)
//   target = max(k_vol, k_inv, k_loss)
// Cool-down: the pulled count `held` only rises at once; while target >= held > 0 the release time
// is reset to now + cooldown_s, and held falls to the target only once now >= that time.
// So levels come back cooldown_s after the condition that pulled them ended. The maker pulls its
// outermost levels first: pulling the inner ones would leave a wide, thin book whose jumping mid
// (and hence the index) is itself measured as volatility, a loop that kept books empty long after
// the shock when tried. The spread widens through widen_bps_per_vol_ratio and the vol spread term.
#pragma once
#include <array>
#include <cstdint>

#include "scenarios/scenario_config.hpp"

namespace sl {

class MakerWithdrawal {
 public:
  MakerWithdrawal(const MakerWithdrawalConfig& cfg, double max_inventory) : cfg_(cfg), max_inventory_(max_inventory) {}

  struct Pulled {
    int bid = 0;
    int ask = 0;
  };
  // Levels pulled per side out of `levels`, at time_s (market seconds). Updates the hold and the peak.
  Pulled update(double time_s, int levels, double vol_ratio, double inventory, double trading_pnl_quote);
  // Extra half-spread in bps at this short vol ratio.
  double widen_bps(double vol_ratio) const;
  std::int64_t loss_trips() const { return loss_trips_; }  // times the loss limit was reached

 private:
  int hold(int side, double time_s, int target);
  MakerWithdrawalConfig cfg_;
  double max_inventory_;
  bool have_peak_ = false;
  double peak_pnl_ = 0.0;
  std::array<int, 2> held_{0, 0};           // [bid, ask]
  std::array<double, 2> release_s_{0.0, 0.0};
  std::int64_t loss_trips_ = 0;
};

}  // namespace sl
