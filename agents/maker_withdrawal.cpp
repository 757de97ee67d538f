#include "agents/maker_withdrawal.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

namespace {
// floor() of a level count computed in doubles; the epsilon keeps exact products (2 x 1.5 = 3) at 3.
int floor_levels(double x, int levels) {
  if (!(x > 0)) return 0;
  return static_cast<int>(std::min<double>(levels, std::floor(x + 1e-9)));
}
}  // namespace

double MakerWithdrawal::widen_bps(double vol_ratio) const {
  return cfg_.widen_bps_per_vol_ratio * std::max(0.0, vol_ratio - 1.0);
}

int MakerWithdrawal::hold(int side, double time_s, int target) {
  int& held = held_[static_cast<std::size_t>(side)];
  double& release = release_s_[static_cast<std::size_t>(side)];
  if (target >= held) {
    held = target;
    if (target > 0) release = time_s + cfg_.cooldown_s;
  } else if (time_s >= release) {
    held = target;
  }
  return held;
}

MakerWithdrawal::Pulled MakerWithdrawal::update(double time_s, int levels, double vol_ratio, double inventory,
                                                double trading_pnl_quote) {
  // Volatility alone thins a side down to its outermost level: a maker that pulled everything on
  // volatility would leave a one-sided book whose jumping mid is itself the volatility it measures.
  const int k_vol = floor_levels(cfg_.levels_per_vol_ratio * (vol_ratio - cfg_.vol_ratio_threshold), std::max(0, levels - 1));

  int k_inv_bid = 0, k_inv_ask = 0;
  if (cfg_.inventory_threshold < 1.0 && max_inventory_ > 0) {
    const double excess = (std::abs(inventory) / max_inventory_ - cfg_.inventory_threshold) / (1.0 - cfg_.inventory_threshold);
    const int k = floor_levels(levels * excess, levels);
    (inventory > 0 ? k_inv_bid : k_inv_ask) = k;
  }

  int k_loss = 0;
  if (!have_peak_ || trading_pnl_quote > peak_pnl_) peak_pnl_ = trading_pnl_quote;
  have_peak_ = true;
  if (cfg_.loss_limit_quote > 0 && peak_pnl_ - trading_pnl_quote >= cfg_.loss_limit_quote) {
    k_loss = levels;
    peak_pnl_ = trading_pnl_quote;
    ++loss_trips_;
  }

  Pulled p;
  p.bid = hold(0, time_s, std::max({k_vol, k_inv_bid, k_loss}));
  p.ask = hold(1, time_s, std::max({k_vol, k_inv_ask, k_loss}));
  p.bid = std::min(p.bid, levels);
  p.ask = std::min(p.ask, levels);
  return p;
}

}  // namespace sl
