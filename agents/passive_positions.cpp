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
  inv_tick_ = 1.0 / tick_;
  inv_lot_ = 1.0 / lot_;
  for (const MarginTierConfig& t : tiers_) max_leverage_.push_back(floor_fast(10000.0 / t.imr_bps));
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

// floor(10000 / imr_bps) of the tier of `notional`: the highest leverage the venue allows for it.
double PassivePositionDrawer::max_leverage(double notional) const {
  for (std::size_t t = 0; t < tiers_.size(); ++t)
    if (notional <= tiers_[t].max_notional) return max_leverage_[t];
  return max_leverage_.back();
}

void PassivePositionDrawer::draw(std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) const {
  const double total_weight = cumulative_[n_levels_ - 1];
  constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
  // In passes over a chunk, each over independent positions (the processor overlaps them; one
  // position's long chain of dependent steps would not be), then the per-position rules.
  constexpr std::size_t kChunk = 64;
  double u[9][kChunk], notional[kChunk], entry_ticks0[kChunk], extra[kChunk];
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - c0);
    for (std::size_t k = 0; k < m; ++k) {
      const std::uint64_t base = static_cast<std::uint64_t>(first + c0 + k) * kPassiveDraws;
      for (int d = 0; d < 9; ++d) u[d][k] = counter_open01(counter_u64(key_, base + static_cast<std::uint64_t>(d)));
    }
    // u^(-1/alpha) = 2^(-log2(u) / alpha); ln u = ln 2 x log2(u); exp(x) = 2^(x log2 e).
    for (std::size_t k = 0; k < m; ++k)
      notional[k] = std::min(cfg_.notional_scale * math_.exp2(-math_.log2(u[0][k]) * inv_alpha_), cfg_.notional_max);
    for (std::size_t k = 0; k < m; ++k) {
      const double z = std::sqrt(std::max(0.0, -2.0 * kLn2 * math_.log2(u[2][k]))) * math_.cos_2pi(u[3][k]);  // max: rounding at u2 -> 1
      entry_ticks0[k] = std::max(1.0, round_nonneg_fast(p0_ * math_.exp2(cfg_.entry_dispersion * kLog2e * z) * inv_tick_));
    }
    for (std::size_t k = 0; k < m; ++k) extra[k] = -cfg_.cross_extra_margin_mean * kLn2 * math_.log2(u[6][k]);
    for (std::size_t k = 0; k < m; ++k) {
      const bool is_long = u[1][k] < cfg_.long_share;
      double entry_ticks = entry_ticks0[k];
      const double pick = u[4][k] * total_weight;
      int li = 0;
      while (li + 1 < n_levels_ && !(cumulative_[li] > pick)) ++li;
      double lev = levels_[li];
      const bool isolated = u[5][k] < cfg_.isolated_share;

      double entry = entry_ticks * tick_;
      const double lots = std::max(1.0, round_nonneg_fast(notional[k] * inv_lot_ / entry));
      const double size = lots * lot_;
      lev = std::min(lev, max_leverage(size * entry));
      double quote = 0, spot = 0;
      if (!isolated) {
        quote = size * entry / lev * (1.0 + extra[k]);
        if (u[7][k] < cfg_.spot_probability) {
          const double share = cfg_.spot_share_min + (cfg_.spot_share_max - cfg_.spot_share_min) * u[8][k];
          spot = round_nonneg_fast(quote * share / spot_value_per_unit_ * 1e6) * 1e-6;
          quote -= spot * spot_value_per_unit_;
        }
        quote = round_nonneg_fast(quote * 1e6) * 1e-6;
      }
      // Healthy at the initial price with the margin over maintenance: the entry the position can
      // carry, solved from equity = collateral + s x size x (p0 - entry) >= target (for an isolated
      // position collateral = size x entry / leverage moves with the entry), then the nearest tick
      // on the healthy side.
      const double target_per_unit = (1.0 + cfg_.health_margin) * p0_ * tier_rate_bps(size * p0_, false) * 1e-4;
      if (isolated) {
        if (is_long && lev > 1.0) {
          const double e_max = (p0_ - target_per_unit) / (1.0 - 1.0 / lev);
          if (entry > e_max) entry_ticks = std::max(1.0, floor_fast(e_max * inv_tick_));
        } else if (!is_long) {
          const double e_min = (p0_ + target_per_unit) / (1.0 + 1.0 / lev);
          if (entry < e_min) entry_ticks = ceil_fast(e_min * inv_tick_);
        }
        entry = entry_ticks * tick_;
        lev = std::min(lev, max_leverage(size * entry));  // lower leverage: more margin, healthier still
        quote = round_nonneg_fast(size * entry / lev * 1e6) * 1e-6;
      } else {
        const double room = (quote + spot * spot_value_per_unit_) / size - target_per_unit;
        if (is_long && entry > p0_ + room) entry_ticks = std::max(1.0, floor_fast((p0_ + room) * inv_tick_));
        if (!is_long && entry < p0_ - room) entry_ticks = ceil_fast((p0_ - room) * inv_tick_);
        entry = entry_ticks * tick_;
      }
      PositionRow& r = rows[c0 + k];
      r.line = static_cast<std::int32_t>(first + c0 + k + 1);
      r.asset = 0;
      r.is_long = is_long;
      r.isolated = isolated;
      r.size = size;
      r.entry_price = entry;
      r.quote_collateral = quote;
      spot_units[c0 + k] = spot;
    }
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
