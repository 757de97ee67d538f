#include "sim/market/shocks.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

namespace {
std::int64_t end_of(const ShockConfig& s) { return s.end_step > s.start_step ? s.end_step : s.start_step + 1; }
bool applies(const ShockConfig& s, std::size_t asset) { return s.asset_index < 0 || static_cast<std::size_t>(s.asset_index) == asset; }
}  // namespace

OracleConfig oracle_config_with_shocks(const OracleConfig& oracle, const std::vector<ShockConfig>& shocks) {
  OracleConfig out = oracle;
  for (const ShockConfig& s : shocks) {
    if (s.type != "oracle_fault") continue;
    OracleFaultConfig f;
    f.kind = s.kind;
    f.start_step = s.start_step;
    f.end_step = end_of(s);
    f.asset_index = s.asset_index;
    f.extra_lag_steps = s.extra_lag_steps;
    f.bias_bps = s.bias_bps;
    out.faults.push_back(f);
  }
  return out;
}

ShockSchedule::ShockSchedule(std::vector<ShockConfig> shocks, const Market& m)
    : shocks_(std::move(shocks)), liquidity_(m.assets.size()), funding_premium_(m.assets.size(), 0.0), vol_(m.assets.size()) {
  for (const AssetMarket& a : m.assets) base_haircut_.push_back(a.collateral_haircut);
}

ShockSchedule::ShockSchedule(std::vector<ShockConfig> shocks, const Market& m, const std::vector<AssetConfig>& assets)
    : ShockSchedule(std::move(shocks), m) {
  for (std::size_t i = 0; i < vol_.size() && i < assets.size(); ++i) {
    const AssetConfig& ac = assets[i];
    if (!(ac.haircut_vol_z > 0)) continue;
    VolHaircut& v = vol_[i];
    v.z = ac.haircut_vol_z;
    v.horizon_steps = ac.haircut_vol_horizon_s / m.dt_s;
    v.cap = std::min(1.0, ac.haircut_vol_cap);
    v.ring.assign(static_cast<std::size_t>(std::max(2, ac.haircut_vol_window_steps)), 0.0);
  }
}

// The index the venue published last step enters the window (once two exist); sigma_H from the mean.
void ShockSchedule::update_vol_haircut(std::size_t i, const Market& m) {
  VolHaircut& v = vol_[i];
  const double idx = m.assets[i].index_price;
  if (idx > 0 && v.prev_index > 0) {
    const double r = std::log(idx / v.prev_index);
    v.sum_sq += r * r - v.ring[v.next];
    v.ring[v.next] = r * r;
    v.next = (v.next + 1) % v.ring.size();
    v.filled = std::min(v.filled + 1, v.ring.size());
    if (v.sum_sq < 0) v.sum_sq = 0;
  }
  if (idx > 0) v.prev_index = idx;
  v.sigma_h = v.filled > 0 ? std::sqrt(v.sum_sq / static_cast<double>(v.filled) * v.horizon_steps) : 0.0;
}

bool ShockSchedule::any_active(std::int64_t step) const {
  for (const auto& s : shocks_)
    if (step >= s.start_step && step < end_of(s)) return true;
  return false;
}

void ShockSchedule::apply(std::int64_t step, Market& m) {
  bool vol_on = false;
  for (const VolHaircut& v : vol_) vol_on = vol_on || v.z > 0;
  if (shocks_.empty() && !vol_on) return;
  // Market-wide: congestion multiplies liquidators' costs and latencies.
  double cost = 1.0, latency = 1.0;
  for (const auto& s : shocks_) {
    if (s.type != "congestion" || step < s.start_step || step >= end_of(s)) continue;
    cost *= s.cost_multiplier;
    latency *= s.latency_multiplier;
  }
  m.liquidator_cost_multiplier = cost;
  m.liquidator_latency_multiplier = latency;

  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    double vol = 1.0, premium = 0.0, haircut = base_haircut_[i];
    LiquidityState liq;
    for (const auto& s : shocks_) {
      if (!applies(s, i)) continue;
      // A depeg's price move is a step at start_step and the reverse step at end_step (re-peg).
      if (s.type == "collateral_depeg" && s.depeg_pct != 0.0) {
        if (step == s.start_step) m.assets[i].reference.apply_jump(std::log1p(s.depeg_pct / 100.0));
        if (step == end_of(s)) m.assets[i].reference.apply_jump(-std::log1p(s.depeg_pct / 100.0));
      }
      if (step < s.start_step || step >= end_of(s)) continue;
      if (s.type == "price_jump") {
        const double steps = static_cast<double>(end_of(s) - s.start_step);
        m.assets[i].reference.apply_jump(std::log1p(s.size_pct / 100.0) / steps);
      } else if (s.type == "vol_regime") {
        vol *= s.vol_multiplier;
      } else if (s.type == "liquidity_withdrawal") {
        liq.depth_multiplier *= s.depth_multiplier;
        liq.size_multiplier *= s.size_multiplier;
      } else if (s.type == "funding_shock") {
        premium += s.premium_bps / 1e4;
      } else if (s.type == "collateral_depeg") {
        haircut += s.haircut_add;
      }
    }
    m.assets[i].reference.set_vol_multiplier(vol);
    m.assets[i].collateral_haircut = std::min(1.0, haircut);
    if (vol_[i].z > 0) {  // the volatility-linked haircut (header)
      update_vol_haircut(i, m);
      const double h0 = m.assets[i].collateral_haircut;
      m.assets[i].collateral_haircut = std::min(1.0, std::max(h0, std::min(vol_[i].cap, h0 + vol_[i].z * vol_[i].sigma_h)));
    }
    liquidity_[i] = liq;
    funding_premium_[i] = premium;
  }
}

}  // namespace sl
