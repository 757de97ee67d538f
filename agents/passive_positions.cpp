#include "agents/passive_positions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "sim/core/counter_rng.hpp"

namespace sl {

PassivePositionDrawer::PassivePositionDrawer(const ScenarioConfig& sc, std::uint64_t run_seed)
    : cfg_(sc.agents.passive_positions),
      tiers_(sc.perp.margin_tiers),
      key_(derive_seed(run_seed, 0, kStreamPassivePositions)) {
  const AssetConfig& a = sc.assets.at(0);
  p0_ = a.initial_price;
  tick_ = a.tick_size;
  lot_ = a.lot_size;
  spot_value_per_unit_ = a.initial_price * (1.0 - a.collateral_haircut);
  inv_alpha_ = 1.0 / cfg_.notional_tail_alpha;
  double total = 0;
  for (std::size_t k = 0; k < std::size(kPassiveLeverageLevels); ++k) {
    const double l = kPassiveLeverageLevels[k];
    if (l < cfg_.leverage_min || l > cfg_.leverage_max) continue;
    total += kPassiveLeverageWeights[k];
    levels_[n_levels_] = l;
    cumulative_[n_levels_++] = total;
  }
  if (n_levels_ == 0) {  // the loader rejects such a range; a hand-made config falls back to leverage_min
    levels_[0] = cfg_.leverage_min;
    cumulative_[0] = 1.0;
    n_levels_ = 1;
  }
}

// The rate of the tier of `notional` (first with notional <= max_notional, else the last), as
// MarginEngine::mmr / imr read it.
double PassivePositionDrawer::tier_rate_bps(double notional, bool initial) const {
  for (const MarginTierConfig& t : tiers_)
    if (notional <= t.max_notional) return initial ? t.imr_bps : t.mmr_bps;
  return initial ? tiers_.back().imr_bps : tiers_.back().mmr_bps;
}

void PassivePositionDrawer::draw(std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) const {
  const double total_weight = cumulative_[n_levels_ - 1];
  constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t base = static_cast<std::uint64_t>(first + k) * kPassiveDraws;
    double u[9];
    for (int d = 0; d < 9; ++d) u[d] = counter_open01(counter_u64(key_, base + static_cast<std::uint64_t>(d)));
    // u^(-1/alpha) = 2^(-log2(u) / alpha); ln u = ln 2 x log2(u); exp(x) = 2^(x log2 e).
    const double notional = std::min(cfg_.notional_scale * math_.exp2(-math_.log2(u[0]) * inv_alpha_), cfg_.notional_max);
    const bool is_long = u[1] < cfg_.long_share;
    const double z = std::sqrt(std::max(0.0, -2.0 * kLn2 * math_.log2(u[2]))) * math_.cos_2pi(u[3]);  // max: rounding at u2 -> 1
    double entry_ticks = std::max(1.0, std::nearbyint(p0_ * math_.exp2(cfg_.entry_dispersion * kLog2e * z) / tick_));
    const double pick = u[4] * total_weight;
    int li = 0;
    while (li + 1 < n_levels_ && !(cumulative_[li] > pick)) ++li;
    double lev = levels_[li];
    const bool isolated = u[5] < cfg_.isolated_share;

    double entry = entry_ticks * tick_;
    const double lots = std::max(1.0, std::nearbyint(notional / entry / lot_));
    const double size = lots * lot_;
    lev = std::min(lev, std::floor(10000.0 / tier_rate_bps(size * entry, true)));
    double quote = 0, spot = 0;
    if (!isolated) {
      quote = size * entry / lev * (1.0 - cfg_.cross_extra_margin_mean * kLn2 * math_.log2(u[6]));
      if (u[7] < cfg_.spot_probability) {
        const double share = cfg_.spot_share_min + (cfg_.spot_share_max - cfg_.spot_share_min) * u[8];
        spot = std::nearbyint(quote * share / spot_value_per_unit_ * 1e6) * 1e-6;
        quote -= spot * spot_value_per_unit_;
      }
      quote = std::nearbyint(quote * 1e6) * 1e-6;
    }
    // Healthy at the initial price with the margin over maintenance: the entry the position can
    // carry, solved from equity = collateral + s x size x (p0 - entry) >= target (for an isolated
    // position collateral = size x entry / leverage moves with the entry), then the nearest tick
    // on the healthy side.
    const double target_per_unit = (1.0 + cfg_.health_margin) * p0_ * tier_rate_bps(size * p0_, false) * 1e-4;
    if (isolated) {
      if (is_long && lev > 1.0) {
        const double e_max = (p0_ - target_per_unit) / (1.0 - 1.0 / lev);
        if (entry > e_max) entry_ticks = std::max(1.0, std::floor(e_max / tick_));
      } else if (!is_long) {
        const double e_min = (p0_ + target_per_unit) / (1.0 + 1.0 / lev);
        if (entry < e_min) entry_ticks = std::ceil(e_min / tick_);
      }
      entry = entry_ticks * tick_;
      lev = std::min(lev, std::floor(10000.0 / tier_rate_bps(size * entry, true)));  // lower leverage: more margin, healthier still
      quote = std::nearbyint(size * entry / lev * 1e6) * 1e-6;
    } else {
      const double room = (quote + spot * spot_value_per_unit_) / size - target_per_unit;
      if (is_long && entry > p0_ + room) entry_ticks = std::max(1.0, std::floor((p0_ + room) / tick_));
      if (!is_long && entry < p0_ - room) entry_ticks = std::ceil((p0_ - room) / tick_);
      entry = entry_ticks * tick_;
    }
    PositionRow& r = rows[k];
    r.line = static_cast<std::int32_t>(first + k + 1);
    r.asset = 0;
    r.is_long = is_long;
    r.isolated = isolated;
    r.size = size;
    r.entry_price = entry;
    r.quote_collateral = quote;
    spot_units[k] = spot;
  }
}

PositionBook draw_passive_positions(const ScenarioConfig& sc, std::uint64_t run_seed) {
  const std::size_t n = static_cast<std::size_t>(std::max(0, sc.agents.passive_positions.count));
  const std::size_t n_assets = sc.assets.size();
  PositionBook book;
  book.rows.resize(n);
  book.spot.assign(n * n_assets, 0.0);
  std::vector<double> spot(n);
  PassivePositionDrawer(sc, run_seed).draw(0, n, book.rows.data(), spot.data());
  for (std::size_t k = 0; k < n; ++k) book.spot[k * n_assets] = spot[k];
  return book;
}

void write_position_csv(const PositionBook& book, const ScenarioConfig& sc, std::ostream& out) {
  const std::size_t n_assets = sc.assets.size();
  out << "side,size,entry_price,quote_collateral,margin_mode,asset";
  for (const AssetConfig& a : sc.assets) out << ",spot_" << a.symbol;
  out << '\n';
  char buf[64];
  const auto num = [&](double x) {
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
  };
  for (std::size_t k = 0; k < book.rows.size(); ++k) {
    const PositionRow& r = book.rows[k];
    out << (r.is_long ? "long," : "short,") << num(r.size) << ',';
    out << num(r.entry_price) << ',';
    out << num(r.quote_collateral) << ',' << (r.isolated ? "isolated," : "cross,") << sc.assets[static_cast<std::size_t>(r.asset)].symbol;
    for (std::size_t a = 0; a < n_assets; ++a) {
      out << ',';
      const double s = book.spot[k * n_assets + a];
      if (s > 0) out << num(s);  // empty: none (an isolated row may hold no spot)
    }
    out << '\n';
  }
}

}  // namespace sl
