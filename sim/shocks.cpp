#include "sim/shocks.hpp"

#include <cmath>

namespace sl {

namespace {
std::int64_t end_of(const ShockConfig& s) { return s.end_step > s.start_step ? s.end_step : s.start_step + 1; }
bool applies(const ShockConfig& s, std::size_t asset) { return s.asset_index < 0 || static_cast<std::size_t>(s.asset_index) == asset; }
}  // namespace

ShockSchedule::ShockSchedule(std::vector<ShockConfig> shocks, std::size_t n_assets)
    : shocks_(std::move(shocks)), liquidity_(n_assets) {}

bool ShockSchedule::any_active(std::int64_t step) const {
  for (const auto& s : shocks_)
    if (step >= s.start_step && step < end_of(s)) return true;
  return false;
}

void ShockSchedule::apply(std::int64_t step, Market& m) {
  if (shocks_.empty()) return;
  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    double vol = 1.0;
    LiquidityState liq;
    for (const auto& s : shocks_) {
      if (step < s.start_step || step >= end_of(s) || !applies(s, i)) continue;
      if (s.type == "price_jump") {
        const double steps = static_cast<double>(end_of(s) - s.start_step);
        m.assets[i].reference.apply_jump(std::log1p(s.size_pct / 100.0) / steps);
      } else if (s.type == "vol_regime") {
        vol *= s.vol_multiplier;
      } else if (s.type == "liquidity_withdrawal") {
        liq.depth_multiplier *= s.depth_multiplier;
        liq.size_multiplier *= s.size_multiplier;
      }
    }
    m.assets[i].reference.set_vol_multiplier(vol);
    liquidity_[i] = liq;
  }
}

}  // namespace sl
