#include "agents/passive_positions.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>

#include "sim/core/counter_rng.hpp"

namespace sl {

PassivePositionDrawer::PassivePositionDrawer(const ScenarioConfig& sc, std::uint64_t run_seed)
    : cfg_(sc.agents.passive_positions), key_(derive_seed(run_seed, 0, kStreamPassivePositions)) {
  const AssetConfig& a = sc.assets.at(0);
  p0_ = a.initial_price;
  tick_ = a.tick_size;
  lot_ = a.lot_size;
  spot_value_per_unit_ = a.initial_price * (1.0 - a.collateral_haircut);
  inv_tick_ = 1.0 / tick_;
  inv_lot_ = 1.0 / lot_;
  inv_alpha_ = 1.0 / cfg_.notional_tail_alpha;

  const std::vector<MarginTierConfig>& tiers = sc.perp.margin_tiers;
  if (tiers.empty()) throw std::invalid_argument("passive positions: perp.margin_tiers is empty (at least one tier)");
  n_tiers_ = static_cast<int>(tiers.size());
  for (std::size_t t = 0; t < tiers.size(); ++t) {
    if (t > 0 && !(tiers[t].max_notional > tiers[t - 1].max_notional))
      throw std::invalid_argument("passive positions: perp.margin_tiers[" + std::to_string(t) +
                                  "].max_notional is not above the tier before it (strictly increasing)");
    tier_max_notional_.push_back(tiers[t].max_notional);
    tier_max_leverage_.push_back(floor_fast(10000.0 / tiers[t].imr_bps));
    const double target_per_unit = (1.0 + cfg_.health_margin) * p0_ * tiers[t].mmr_bps * 1e-4;
    tier_target_.push_back(target_per_unit);
    tier_p0_minus_target_.push_back(p0_ - target_per_unit);
    tier_p0_plus_target_.push_back(p0_ + target_per_unit);
  }

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
  total_weight_ = cumulative_[n_levels_ - 1];
  for (int k = n_levels_ - 1; k < 11; ++k) cumulative_[k] = std::numeric_limits<double>::infinity();
  for (int k = n_levels_; k < 11; ++k) levels_[k] = levels_[n_levels_ - 1];

  const auto add_slot = [&](double lev) {
    slot_leverage_.push_back(lev);
    slot_one_minus_inv_.push_back(lev > 1.0 ? 1.0 - 1.0 / lev : 1.0);
    slot_one_plus_inv_.push_back(1.0 + 1.0 / lev);
    slot_long_limit_floor_.push_back(lev > 1.0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
  };
  for (int k = 0; k < kTierSlot0; ++k) add_slot(levels_[k]);
  for (double l : tier_max_leverage_) add_slot(l);
}

namespace {

// The new entry in ticks when the health rule moves it to `limit` (a price): a long goes down to
// floor(limit / tick), at least one tick; a short up to ceil(limit / tick). One truncation serves
// both. It is computed for every position, moved or not (no branch), so x is first clamped to
// [-2^63, the largest double below 2^63]: the truncation is then defined for every limit, +inf
// included, and x is unchanged wherever the one-position code's floor_fast / ceil_fast were defined.
// `u_side` < `long_share`: a long.
inline double moved_ticks(double u_side, double long_share, double limit, double inv_tick) {
  const double x = std::min(std::max(limit * inv_tick, -0x1p63), 0x1.fffffffffffffp62);
  const double t = static_cast<double>(static_cast<std::int64_t>(x));  // toward zero
  const double down = select_lt(x, t, t - 1.0, t);                      // floor_fast(x)
  const double up = select_lt(t, x, t + 1.0, t);                        // ceil_fast(x)
  return select_lt(u_side, long_share, std::max(1.0, down), up);
}

// The entry in ticks after the health rule: moved to `limit` if a long's entry is above it or a
// short's below it. side = +1 for a long, -1 for a short: side x (entry - limit) > 0 is exactly
// "entry > limit" for a long and "entry < limit" for a short (a difference of finite doubles is
// zero only when they are equal and always has the sign of the comparison; x -1 is exact).
inline double health_ticks(double u_side, double long_share, double entry, double limit, double ticks0, double inv_tick) {
  const double side = select_lt(u_side, long_share, 1.0, -1.0);
  return select_lt(0.0, side * (entry - limit), moved_ticks(u_side, long_share, limit, inv_tick), ticks0);
}

}  // namespace

void PassivePositionDrawer::draw(std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) const {
  constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
  // Everything the loops read, hoisted into locals (no reloads through this or a vector).
  const TableMathView tm = math_.view();
  const double p0 = p0_, tick = tick_, lot = lot_, svu = spot_value_per_unit_, inv_tick = inv_tick_, inv_lot = inv_lot_;
  const double notional_scale = cfg_.notional_scale, notional_max = cfg_.notional_max, inv_alpha = inv_alpha_;
  const double dispersion_log2e = cfg_.entry_dispersion * kLog2e;   // as (entry_dispersion x log2 e) x z
  const double extra_per_log2 = -cfg_.cross_extra_margin_mean * kLn2;  // as (-mean x ln 2) x log2 u
  const double long_share = cfg_.long_share, isolated_share = cfg_.isolated_share, spot_probability = cfg_.spot_probability;
  const double share_min = cfg_.spot_share_min, share_span = cfg_.spot_share_max - cfg_.spot_share_min;
  const double total_weight = total_weight_;
  const int n_level_steps = n_levels_ - 1, n_tiers = n_tiers_;
  const double* const cumulative = cumulative_;
  const double* const levels = levels_;
  const double* const max_notional = tier_max_notional_.data();
  const double* const tier_max_lev = tier_max_leverage_.data();
  const double* const target = tier_target_.data();
  const double* const p0_minus_target = tier_p0_minus_target_.data();
  const double* const p0_plus_target = tier_p0_plus_target_.data();
  const double* const slot_lev = slot_leverage_.data();
  const double* const slot_omi = slot_one_minus_inv_.data();
  const double* const slot_opi = slot_one_plus_inv_.data();
  const double* const slot_long_floor = slot_long_limit_floor_.data();
  constexpr double kInf = std::numeric_limits<double>::infinity();

  // In passes over a chunk, each over independent positions and each a short chain of dependent
  // steps per position: the processor then has many positions in flight at once (one position's
  // whole chain, a hundred dependent steps, would leave it waiting). The cross and the isolated
  // positions' rules each run over their own list: no branch on the margin mode, and no division a
  // position does not need. Arrays are reused in place once their values are no longer read.
  constexpr std::size_t kChunk = 128;
  double u[9][kChunk], notional[kChunk], ticks0[kChunk], entry0[kChunk], size[kChunk], quote[kChunk], spot[kChunk], limit[kChunk];
  int slot[kChunk], mmr_tier[kChunk];
  std::uint32_t cross_list[kChunk], isolated_list[kChunk];
  constexpr std::uint64_t kPositionStride = kPassiveDraws * kSplitMixGamma;  // mod 2^64
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - c0);
    // Position i's draw d is counter_u64(key, i x kPassiveDraws + d).
    std::uint64_t state = counter_state(key_, static_cast<std::uint64_t>(first + c0) * kPassiveDraws);
    for (std::size_t k = 0; k < m; ++k, state += kPositionStride)
      for (int d = 0; d < 9; ++d) u[d][k] = counter_open01(splitmix64(state + static_cast<std::uint64_t>(d) * kSplitMixGamma));

    // u^(-1/alpha) = 2^(-log2(u) / alpha); ln u = ln 2 x log2(u); exp(x) = 2^(x log2 e). The
    // logarithms and the cosine, then the exponents' arguments, then each exponential.
    double* const y_notional = u[0];  // -log2(u0) / alpha
    double* const y_entry = u[2];     // entry_dispersion x log2 e x z
    double* const extra = u[6];       // the cross extra margin, -mean x ln u6
    tm.log2_n(u[0], u[0], m);
    tm.log2_n(u[2], u[2], m);
    tm.cos_2pi_n(u[3], u[3], m);
    tm.log2_n(u[6], u[6], m);
    for (std::size_t k = 0; k < m; ++k) {
      y_notional[k] = -u[0][k] * inv_alpha;
      const double z = std::sqrt(std::max(0.0, -2.0 * kLn2 * u[2][k])) * u[3][k];  // max: rounding at u2 -> 1
      y_entry[k] = dispersion_log2e * z;
      extra[k] = extra_per_log2 * u[6][k];
    }
    tm.exp2_n(y_notional, notional, m);
    tm.exp2_n(y_entry, ticks0, m);
    for (std::size_t k = 0; k < m; ++k) {
      notional[k] = std::min(notional_scale * notional[k], notional_max);
      ticks0[k] = std::max(1.0, round_nonneg_fast(p0 * ticks0[k] * inv_tick));
    }

    std::size_t n_cross = 0, n_isolated = 0;
    for (std::size_t k = 0; k < m; ++k) {
      const double entry = ticks0[k] * tick;
      const double lots = std::max(1.0, round_nonneg_fast(notional[k] * inv_lot / entry));
      entry0[k] = entry;
      size[k] = lots * lot;
      const bool isolated = u[5][k] < isolated_share;
      cross_list[n_cross] = static_cast<std::uint32_t>(k);
      isolated_list[n_isolated] = static_cast<std::uint32_t>(k);
      n_cross += !isolated;
      n_isolated += isolated;
    }
    for (std::size_t k = 0; k < m; ++k) {
      // The level whose cumulative weight first exceeds the pick (else the last): the weights
      // increase, so its index is the number of cumulative weights <= the pick (+inf past the
      // second-last level caps it at the last).
      const double pick = u[4][k] * total_weight;
      int li = 0;
      for (int j = 0; j < n_level_steps; ++j) li += cumulative[j] <= pick;
      // lev = min(level, the tier's maximum): std::min keeps the level unless the maximum is below it.
      const int t = tier_of(max_notional, n_tiers, size[k] * entry0[k]);
      slot[k] = tier_max_lev[t] < levels[li] ? kTierSlot0 + t : li;
      mmr_tier[k] = tier_of(max_notional, n_tiers, size[k] * p0);
    }

    // Cross: quote = size x entry / leverage x (1 + extra), a share of it as spot units; then the
    // entry the position can carry, equity = collateral + s x size x (p0 - entry) >= target, i.e.
    // a long's entry at most p0 + room, a short's at least p0 - room, room = collateral / size -
    // target, moved to the nearest tick on the healthy side.
    for (std::size_t j = 0; j < n_cross; ++j) {
      const std::size_t k = cross_list[j];
      quote[k] = size[k] * entry0[k] / slot_lev[slot[k]] * (1.0 + extra[k]);
    }
    for (std::size_t j = 0; j < n_cross; ++j) {
      const std::size_t k = cross_list[j];
      const double q = quote[k];
      const double share = share_min + share_span * u[8][k];
      const double spot_if = round_nonneg_fast(q * share / svu * 1e6) * 1e-6;
      spot[k] = select_lt(u[7][k], spot_probability, spot_if, 0.0);  // spot held if u7 < spot_probability
      quote[k] = round_nonneg_fast(select_lt(u[7][k], spot_probability, q - spot_if * svu, q) * 1e6) * 1e-6;
    }
    for (std::size_t j = 0; j < n_cross; ++j) {
      const std::size_t k = cross_list[j];
      const double room = (quote[k] + spot[k] * svu) / size[k] - target[mmr_tier[k]];
      limit[k] = select_lt(u[1][k], long_share, p0 + room, p0 - room);
    }
    for (std::size_t j = 0; j < n_cross; ++j) {
      const std::size_t k = cross_list[j];
      const double ticks = health_ticks(u[1][k], long_share, entry0[k], limit[k], ticks0[k], inv_tick);
      PositionRow& r = rows[c0 + k];
      r.line = static_cast<std::int32_t>(first + c0 + k + 1);
      r.asset = 0;
      r.is_long = u[1][k] < long_share;
      r.isolated = false;
      r.size = size[k];
      r.entry_price = ticks * tick;
      r.quote_collateral = quote[k];
      spot_units[c0 + k] = spot[k];
    }

    // Isolated: collateral = size x entry / leverage moves with the entry, so the entry solves
    // collateral + s x size x (p0 - entry) = target x size: a long's at most (p0 - target) / (1 -
    // 1 / leverage) (none at leverage 1: its collateral alone covers any fall), a short's at least
    // (p0 + target) / (1 + 1 / leverage); then the leverage is lowered to the tier of the new
    // notional and the quote is size x entry / leverage in micro-units.
    for (std::size_t j = 0; j < n_isolated; ++j) {
      const std::size_t k = isolated_list[j];
      const double us = u[1][k];
      const int s = slot[k], mt = mmr_tier[k];
      const double e = select_lt(us, long_share, p0_minus_target[mt], p0_plus_target[mt]) / select_lt(us, long_share, slot_omi[s], slot_opi[s]);
      // A long at leverage 1 is never moved: its limit is raised to +inf (max with -inf otherwise: e itself).
      limit[k] = std::max(e, select_lt(us, long_share, slot_long_floor[s], -kInf));
    }
    for (std::size_t j = 0; j < n_isolated; ++j) {
      const std::size_t k = isolated_list[j];
      entry0[k] = health_ticks(u[1][k], long_share, entry0[k], limit[k], ticks0[k], inv_tick) * tick;
    }
    for (std::size_t j = 0; j < n_isolated; ++j) {
      const std::size_t k = isolated_list[j];
      const double sz = size[k], new_entry = entry0[k];
      const double new_lev = std::min(slot_lev[slot[k]], tier_max_lev[tier_of(max_notional, n_tiers, sz * new_entry)]);
      PositionRow& r = rows[c0 + k];
      r.line = static_cast<std::int32_t>(first + c0 + k + 1);
      r.asset = 0;
      r.is_long = u[1][k] < long_share;
      r.isolated = true;
      r.size = sz;
      r.entry_price = new_entry;
      r.quote_collateral = round_nonneg_fast(sz * new_entry / new_lev * 1e6) * 1e-6;
      spot_units[c0 + k] = 0.0;
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
