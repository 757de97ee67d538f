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

// Two positions' values side by side: the rules run on pairs of positions, each operation the same
// IEEE operation on each lane as on one double (SSE2, x86-64's baseline; elsewhere two doubles).
// min / max / select keep std::min / std::max / `?:` exactly, signed zeros included.
#if defined(__SSE2__)
struct D2 {
  __m128d v;
};
inline D2 d2(double x) { return {_mm_set1_pd(x)}; }
inline D2 load2(const double* p) { return {_mm_loadu_pd(p)}; }
inline void store2(double* p, D2 a) { _mm_storeu_pd(p, a.v); }
inline D2 gather2(const double* tab, int i0, int i1) { return {_mm_set_pd(tab[i1], tab[i0])}; }
inline double lane0(D2 a) { return _mm_cvtsd_f64(a.v); }
inline double lane1(D2 a) { return _mm_cvtsd_f64(_mm_unpackhi_pd(a.v, a.v)); }
inline D2 operator+(D2 a, D2 b) { return {_mm_add_pd(a.v, b.v)}; }
inline D2 operator-(D2 a, D2 b) { return {_mm_sub_pd(a.v, b.v)}; }
inline D2 operator*(D2 a, D2 b) { return {_mm_mul_pd(a.v, b.v)}; }
inline D2 operator/(D2 a, D2 b) { return {_mm_div_pd(a.v, b.v)}; }
inline D2 min2(D2 a, D2 b) { return {_mm_min_pd(b.v, a.v)}; }  // b < a ? b : a, as std::min(a, b)
inline D2 max2(D2 a, D2 b) { return {_mm_max_pd(b.v, a.v)}; }  // a < b ? b : a, as std::max(a, b)
inline D2 select_lt2(D2 a, D2 b, D2 if_true, D2 if_false) {  // a < b ? if_true : if_false, per lane
  const __m128d m = _mm_cmplt_pd(a.v, b.v);
  return {_mm_or_pd(_mm_and_pd(m, if_true.v), _mm_andnot_pd(m, if_false.v))};
}
inline D2 count_le2(D2 a, D2 b, D2 count) {  // count + (a <= b ? 1 : 0), per lane
  return {_mm_add_pd(count.v, _mm_and_pd(_mm_cmple_pd(a.v, b.v), _mm_set1_pd(1.0)))};
}
inline D2 sqrt2(D2 a) { return {_mm_sqrt_pd(a.v)}; }
inline D2 neg2(D2 a) { return {_mm_xor_pd(a.v, _mm_set1_pd(-0.0))}; }  // -a: the sign bit flipped
inline D2 count_lt2(D2 a, D2 b, D2 count) {  // count + (a < b ? 1 : 0), per lane
  return {_mm_add_pd(count.v, _mm_and_pd(_mm_cmplt_pd(a.v, b.v), _mm_set1_pd(1.0)))};
}
inline D2 abs2(D2 a) { return {_mm_andnot_pd(_mm_set1_pd(-0.0), a.v)}; }
inline D2 copysign2(D2 magnitude, D2 sign) {
  return {_mm_or_pd(_mm_andnot_pd(_mm_set1_pd(-0.0), magnitude.v), _mm_and_pd(_mm_set1_pd(-0.0), sign.v))};
}
#else
struct D2 {
  double a, b;
};
inline D2 d2(double x) { return {x, x}; }
inline D2 load2(const double* p) { return {p[0], p[1]}; }
inline void store2(double* p, D2 x) { p[0] = x.a, p[1] = x.b; }
inline D2 gather2(const double* tab, int i0, int i1) { return {tab[i0], tab[i1]}; }
inline double lane0(D2 x) { return x.a; }
inline double lane1(D2 x) { return x.b; }
inline D2 operator+(D2 x, D2 y) { return {x.a + y.a, x.b + y.b}; }
inline D2 operator-(D2 x, D2 y) { return {x.a - y.a, x.b - y.b}; }
inline D2 operator*(D2 x, D2 y) { return {x.a * y.a, x.b * y.b}; }
inline D2 operator/(D2 x, D2 y) { return {x.a / y.a, x.b / y.b}; }
inline D2 min2(D2 x, D2 y) { return {std::min(x.a, y.a), std::min(x.b, y.b)}; }
inline D2 max2(D2 x, D2 y) { return {std::max(x.a, y.a), std::max(x.b, y.b)}; }
inline D2 select_lt2(D2 x, D2 y, D2 t, D2 f) { return {x.a < y.a ? t.a : f.a, x.b < y.b ? t.b : f.b}; }
inline D2 count_le2(D2 x, D2 y, D2 c) { return {c.a + (x.a <= y.a ? 1.0 : 0.0), c.b + (x.b <= y.b ? 1.0 : 0.0)}; }
inline D2 sqrt2(D2 x) { return {std::sqrt(x.a), std::sqrt(x.b)}; }
inline D2 neg2(D2 x) { return {-x.a, -x.b}; }
inline D2 count_lt2(D2 x, D2 y, D2 c) { return {c.a + (x.a < y.a ? 1.0 : 0.0), c.b + (x.b < y.b ? 1.0 : 0.0)}; }
inline D2 abs2(D2 x) { return {std::fabs(x.a), std::fabs(x.b)}; }
inline D2 copysign2(D2 m, D2 s) { return {std::copysign(m.a, s.a), std::copysign(m.b, s.b)}; }
#endif

// round_nonneg_fast on two lanes: (x + 2^52) - 2^52 below 2^52, else x.
inline D2 round_nonneg2(D2 x) {
  const D2 k2p52 = d2(0x1p52);
  return select_lt2(x, k2p52, (x + k2p52) - k2p52, x);
}
// floor and ceil on two lanes without an integer conversion: below 2^52 in magnitude, adding and
// subtracting 2^52 with x's sign rounds x to the nearest integer r (exactly), then one less (floor)
// if r is above x, one more (ceil) if below; from 2^52 on x is an integer. The values of
// floor_fast / ceil_fast (the truncation's) wherever those are defined, and of std::floor /
// std::ceil for every finite x (but -0.0, which gives +0.0 as floor_fast does).
inline D2 nearest_below_2p52(D2 x) {
  const D2 magic = copysign2(d2(0x1p52), x);
  return (x + magic) - magic;
}
inline D2 floor2(D2 x) {
  const D2 r = nearest_below_2p52(x);
  return select_lt2(abs2(x), d2(0x1p52), select_lt2(x, r, r - d2(1.0), r), x);
}
inline D2 ceil2(D2 x) {
  const D2 r = nearest_below_2p52(x);
  return select_lt2(abs2(x), d2(0x1p52), select_lt2(r, x, r + d2(1.0), r), x);
}

// The tier of a notional on two lanes (agents/passive_positions.hpp, n_tiers_): the number of
// max_notional below it among all but the last, as a double.
inline D2 tier2(const double* max_notional, int n_tiers, D2 notional) {
  D2 t = d2(0.0);
  for (int k = 0; k + 1 < n_tiers; ++k) t = count_lt2(d2(max_notional[k]), notional, t);
  return t;
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
  // whole chain, a hundred dependent steps, would leave it waiting). The table functions and the
  // rules run on two positions at a time (D2; the tables through TableMathView's array functions);
  // the rules compute both the cross and the isolated position's values and keep the one its margin
  // mode asks for (no branch on the data). A chunk of odd length draws one position more (a pure
  // function of its index: nothing is read or written for it) so that every pass runs on pairs.
  constexpr std::size_t kChunk = 128;
  double u[9][kChunk], notional[kChunk], ticks0[kChunk], size[kChunk], entry[kChunk], quote[kChunk], spot[kChunk], limit[kChunk];
  int slot[kChunk], mmr_tier[kChunk];
  constexpr std::uint64_t kPositionStride = kPassiveDraws * kSplitMixGamma;  // mod 2^64
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - c0);
    const std::size_t m2 = m + (m & 1);
    // Position i's draw d is counter_u64(key, i x kPassiveDraws + d).
    std::uint64_t state = counter_state(key_, static_cast<std::uint64_t>(first + c0) * kPassiveDraws);
    for (std::size_t k = 0; k < m2; ++k, state += kPositionStride)
      for (int d = 0; d < 9; ++d) u[d][k] = counter_open01(splitmix64(state + static_cast<std::uint64_t>(d) * kSplitMixGamma));

    // u^(-1/alpha) = 2^(-log2(u) / alpha); ln u = ln 2 x log2(u); exp(x) = 2^(x log2 e). The
    // logarithms and the cosine, then the exponents' arguments, then the exponentials.
    double* const y_notional = u[0];  // -log2(u0) / alpha
    double* const y_entry = u[2];     // entry_dispersion x log2 e x z
    double* const extra = u[6];       // the cross extra margin, -mean x ln u6
    tm.log2_n(u[0], u[0], m2);
    tm.log2_n(u[2], u[2], m2);
    tm.cos_2pi_n(u[3], u[3], m2);
    tm.log2_n(u[6], u[6], m2);
    for (std::size_t k = 0; k < m2; k += 2) {
      store2(y_notional + k, neg2(load2(u[0] + k)) * d2(inv_alpha));
      const D2 z = sqrt2(max2(d2(0.0), d2(-2.0 * kLn2) * load2(u[2] + k))) * load2(u[3] + k);  // max: rounding at u2 -> 1
      store2(y_entry + k, d2(dispersion_log2e) * z);
      store2(extra + k, d2(extra_per_log2) * load2(u[6] + k));
    }
    tm.exp2_n(y_notional, notional, m2);
    tm.exp2_n(y_entry, ticks0, m2);

    for (std::size_t k = 0; k < m2; k += 2) {
      const D2 ticks0_k = max2(d2(1.0), round_nonneg2(d2(p0) * load2(ticks0 + k) * d2(inv_tick)));
      const D2 notional_k = min2(d2(notional_scale) * load2(notional + k), d2(notional_max));
      const D2 entry0 = ticks0_k * d2(tick);
      const D2 lots = max2(d2(1.0), round_nonneg2(notional_k * d2(inv_lot) / entry0));
      store2(ticks0 + k, ticks0_k);
      store2(entry + k, entry0);
      store2(size + k, lots * d2(lot));
    }
    for (std::size_t k = 0; k < m2; k += 2) {
      // The level whose cumulative weight first exceeds the pick (else the last): the weights
      // increase, so its index is the number of cumulative weights <= the pick (+inf past the
      // second-last level caps it at the last). lev = min(level, the tier's maximum): std::min
      // keeps the level unless the maximum is below it; its slot says which.
      const D2 sz = load2(size + k);
      const D2 pick = load2(u[4] + k) * d2(total_weight);
      D2 li = d2(0.0);
      for (int j = 0; j < n_level_steps; ++j) li = count_le2(d2(cumulative[j]), pick, li);
      const D2 t_cap = tier2(max_notional, n_tiers, sz * load2(entry + k)), t_mmr = tier2(max_notional, n_tiers, sz * d2(p0));
      const int li0 = static_cast<int>(lane0(li)), li1 = static_cast<int>(lane1(li));
      const int tc0 = static_cast<int>(lane0(t_cap)), tc1 = static_cast<int>(lane1(t_cap));
      slot[k] = tier_max_lev[tc0] < levels[li0] ? kTierSlot0 + tc0 : li0;
      slot[k + 1] = tier_max_lev[tc1] < levels[li1] ? kTierSlot0 + tc1 : li1;
      mmr_tier[k] = static_cast<int>(lane0(t_mmr));
      mmr_tier[k + 1] = static_cast<int>(lane1(t_mmr));
    }
    // Cross: quote = size x entry / leverage x (1 + extra), a share of it as spot units (if u7 <
    // spot_probability); then the entry the position can carry, equity = collateral + s x size x
    // (p0 - entry) >= target: a long's entry at most p0 + room, a short's at least p0 - room, room
    // = collateral / size - target.
    for (std::size_t k = 0; k < m2; k += 2) {
      const D2 sz = load2(size + k), lev = gather2(slot_lev, slot[k], slot[k + 1]);
      const D2 q = sz * load2(entry + k) / lev * (d2(1.0) + load2(extra + k));
      const D2 share = d2(share_min) + d2(share_span) * load2(u[8] + k);
      const D2 spot_if = round_nonneg2(q * share / d2(svu) * d2(1e6)) * d2(1e-6);
      const D2 u7 = load2(u[7] + k), sp = d2(spot_probability);
      store2(spot + k, select_lt2(u7, sp, spot_if, d2(0.0)));
      store2(quote + k, round_nonneg2(select_lt2(u7, sp, q - spot_if * d2(svu), q) * d2(1e6)) * d2(1e-6));
    }
    for (std::size_t k = 0; k < m2; k += 2) {
      const D2 u1 = load2(u[1] + k), u5 = load2(u[5] + k), ls = d2(long_share);
      const int s0 = slot[k], s1 = slot[k + 1], mt0 = mmr_tier[k], mt1 = mmr_tier[k + 1];
      const D2 room = (load2(quote + k) + load2(spot + k) * d2(svu)) / load2(size + k) - gather2(target, mt0, mt1);
      const D2 cross_limit = select_lt2(u1, ls, d2(p0) + room, d2(p0) - room);
      // Isolated: collateral = size x entry / leverage moves with the entry, so the entry solves
      // collateral + s x size x (p0 - entry) = target x size: a long's at most (p0 - target) / (1 -
      // 1 / leverage) (none at leverage 1: its limit is raised to +inf), a short's at least (p0 +
      // target) / (1 + 1 / leverage).
      const D2 e = select_lt2(u1, ls, gather2(p0_minus_target, mt0, mt1), gather2(p0_plus_target, mt0, mt1)) /
                   select_lt2(u1, ls, gather2(slot_omi, s0, s1), gather2(slot_opi, s0, s1));
      const D2 iso_limit = max2(e, select_lt2(u1, ls, gather2(slot_long_floor, s0, s1), d2(-kInf)));
      store2(limit + k, select_lt2(u5, d2(isolated_share), iso_limit, cross_limit));
    }
    for (std::size_t k = 0; k < m2; k += 2) {
      // Moved to the nearest tick on the healthy side if a long's entry is above the limit or a
      // short's below: side x (entry - limit) > 0 with side +1 / -1 (a difference of finite doubles
      // is zero only when they are equal and has the comparison's sign; x -1 is exact). A long goes
      // down to floor(limit / tick), at least one tick; a short up to ceil(limit / tick).
      const D2 u1 = load2(u[1] + k), ls = d2(long_share), limit_k = load2(limit + k);
      const D2 side = select_lt2(u1, ls, d2(1.0), d2(-1.0));
      const D2 x = limit_k * d2(inv_tick);
      const D2 moved = select_lt2(u1, ls, max2(d2(1.0), floor2(x)), ceil2(x));
      store2(entry + k, select_lt2(d2(0.0), side * (load2(entry + k) - limit_k), moved, load2(ticks0 + k)) * d2(tick));
    }
    for (std::size_t k = 0; k < m2; k += 2) {
      // An isolated position's leverage is lowered to the tier of its new notional; its quote is
      // size x entry / leverage in micro-units, and it holds no spot.
      const D2 sz = load2(size + k), new_entry = load2(entry + k), u5 = load2(u[5] + k), iso = d2(isolated_share);
      const D2 t_new = tier2(max_notional, n_tiers, sz * new_entry);
      const D2 new_lev = min2(gather2(slot_lev, slot[k], slot[k + 1]),
                              gather2(tier_max_lev, static_cast<int>(lane0(t_new)), static_cast<int>(lane1(t_new))));
      const D2 iso_quote = round_nonneg2(sz * new_entry / new_lev * d2(1e6)) * d2(1e-6);
      store2(quote + k, select_lt2(u5, iso, iso_quote, load2(quote + k)));
      store2(spot + k, select_lt2(u5, iso, d2(0.0), load2(spot + k)));
    }
    for (std::size_t k = 0; k < m; ++k) {
      PositionRow& r = rows[c0 + k];
      r.line = static_cast<std::int32_t>(first + c0 + k + 1);
      r.asset = 0;
      r.is_long = u[1][k] < long_share;
      r.isolated = u[5][k] < isolated_share;
      r.size = size[k];
      r.entry_price = entry[k];
      r.quote_collateral = quote[k];
      spot_units[c0 + k] = spot[k];
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
