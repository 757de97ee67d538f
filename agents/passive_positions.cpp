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

// LANE TYPES. The rules run on several positions side by side, each operation the same IEEE
// operation on each lane as on one double: D2, two lanes (SSE2, x86-64's baseline; elsewhere two
// plain doubles), and D4, four lanes (AVX2, used only where the CPU has it, agents/passive_positions.hpp).
// Both have the same operations under the same names, so the rule passes (draw_lanes below) are
// written once for either. vmin / vmax / vselect_lt keep std::min / std::max / `?:` exactly, signed
// zeros included.
#if defined(__SSE2__)
struct D2 {
  static constexpr std::size_t kLanes = 2;
  __m128d v;
  explicit D2(__m128d x) : v(x) {}
  explicit D2(double x) : v(_mm_set1_pd(x)) {}  // x on every lane
  static D2 load(const double* p) { return D2(_mm_loadu_pd(p)); }
  static D2 gather(const double* tab, const int* i) { return D2(_mm_set_pd(tab[i[1]], tab[i[0]])); }  // tab[i[lane]]
};
inline void store(double* p, D2 a) { _mm_storeu_pd(p, a.v); }
inline void store_int(int* p, D2 a) {  // a's whole values (below 2^31) as ints
  p[0] = _mm_cvttsd_si32(a.v);
  p[1] = _mm_cvttsd_si32(_mm_unpackhi_pd(a.v, a.v));
}
inline D2 operator+(D2 a, D2 b) { return D2(_mm_add_pd(a.v, b.v)); }
inline D2 operator-(D2 a, D2 b) { return D2(_mm_sub_pd(a.v, b.v)); }
inline D2 operator*(D2 a, D2 b) { return D2(_mm_mul_pd(a.v, b.v)); }
inline D2 operator/(D2 a, D2 b) { return D2(_mm_div_pd(a.v, b.v)); }
inline D2 vmin(D2 a, D2 b) { return D2(_mm_min_pd(b.v, a.v)); }  // b < a ? b : a, as std::min(a, b)
inline D2 vmax(D2 a, D2 b) { return D2(_mm_max_pd(b.v, a.v)); }  // a < b ? b : a, as std::max(a, b)
inline D2 vselect_lt(D2 a, D2 b, D2 if_true, D2 if_false) {  // a < b ? if_true : if_false, per lane
  const __m128d m = _mm_cmplt_pd(a.v, b.v);
  return D2(_mm_or_pd(_mm_and_pd(m, if_true.v), _mm_andnot_pd(m, if_false.v)));
}
inline D2 vcount_le(D2 a, D2 b, D2 count) {  // count + (a <= b ? 1 : 0), per lane
  return D2(_mm_add_pd(count.v, _mm_and_pd(_mm_cmple_pd(a.v, b.v), _mm_set1_pd(1.0))));
}
inline D2 vcount_lt(D2 a, D2 b, D2 count) {  // count + (a < b ? 1 : 0), per lane
  return D2(_mm_add_pd(count.v, _mm_and_pd(_mm_cmplt_pd(a.v, b.v), _mm_set1_pd(1.0))));
}
inline D2 vsqrt(D2 a) { return D2(_mm_sqrt_pd(a.v)); }
inline D2 vneg(D2 a) { return D2(_mm_xor_pd(a.v, _mm_set1_pd(-0.0))); }  // -a: the sign bit flipped
inline D2 vabs(D2 a) { return D2(_mm_andnot_pd(_mm_set1_pd(-0.0), a.v)); }
inline D2 vcopysign(D2 magnitude, D2 sign) {
  return D2(_mm_or_pd(_mm_andnot_pd(_mm_set1_pd(-0.0), magnitude.v), _mm_and_pd(_mm_set1_pd(-0.0), sign.v)));
}
inline D2 vlog2(const TableMathView& tm, D2 x) { return D2(tm.log2_2(x.v)); }
inline D2 vexp2(const TableMathView& tm, D2 y) { return D2(tm.exp2_2(y.v)); }
inline D2 vcos_2pi(const TableMathView& tm, D2 u) { return D2(TableMathView::interpolate_2(tm.cos_tab, u.v)); }
#else
struct D2 {
  static constexpr std::size_t kLanes = 2;
  double a, b;
  D2(double x, double y) : a(x), b(y) {}
  explicit D2(double x) : a(x), b(x) {}
  static D2 load(const double* p) { return D2(p[0], p[1]); }
  static D2 gather(const double* tab, const int* i) { return D2(tab[i[0]], tab[i[1]]); }
};
inline void store(double* p, D2 x) { p[0] = x.a, p[1] = x.b; }
inline void store_int(int* p, D2 x) { p[0] = static_cast<int>(x.a), p[1] = static_cast<int>(x.b); }
inline D2 operator+(D2 x, D2 y) { return D2(x.a + y.a, x.b + y.b); }
inline D2 operator-(D2 x, D2 y) { return D2(x.a - y.a, x.b - y.b); }
inline D2 operator*(D2 x, D2 y) { return D2(x.a * y.a, x.b * y.b); }
inline D2 operator/(D2 x, D2 y) { return D2(x.a / y.a, x.b / y.b); }
inline D2 vmin(D2 x, D2 y) { return D2(std::min(x.a, y.a), std::min(x.b, y.b)); }
inline D2 vmax(D2 x, D2 y) { return D2(std::max(x.a, y.a), std::max(x.b, y.b)); }
inline D2 vselect_lt(D2 x, D2 y, D2 t, D2 f) { return D2(x.a < y.a ? t.a : f.a, x.b < y.b ? t.b : f.b); }
inline D2 vcount_le(D2 x, D2 y, D2 c) { return D2(c.a + (x.a <= y.a ? 1.0 : 0.0), c.b + (x.b <= y.b ? 1.0 : 0.0)); }
inline D2 vcount_lt(D2 x, D2 y, D2 c) { return D2(c.a + (x.a < y.a ? 1.0 : 0.0), c.b + (x.b < y.b ? 1.0 : 0.0)); }
inline D2 vsqrt(D2 x) { return D2(std::sqrt(x.a), std::sqrt(x.b)); }
inline D2 vneg(D2 x) { return D2(-x.a, -x.b); }
inline D2 vabs(D2 x) { return D2(std::fabs(x.a), std::fabs(x.b)); }
inline D2 vcopysign(D2 m, D2 s) { return D2(std::copysign(m.a, s.a), std::copysign(m.b, s.b)); }
inline D2 vlog2(const TableMathView& tm, D2 x) { return D2(tm.log2(x.a), tm.log2(x.b)); }
inline D2 vexp2(const TableMathView& tm, D2 y) { return D2(tm.exp2(y.a), tm.exp2(y.b)); }
inline D2 vcos_2pi(const TableMathView& tm, D2 u) { return D2(tm.cos_2pi(u.a), tm.cos_2pi(u.b)); }
#endif

#if defined(SL_HAVE_AVX2_LANES)
// Every D4 operation is compiled for AVX2 (SL_AVX2, sim/core/table_math.hpp: not FMA) and called
// only from draw_avx2, itself compiled for AVX2 and called only on a CPU that has it.
struct D4 {
  static constexpr std::size_t kLanes = 4;
  __m256d v;
  SL_AVX2 explicit D4(__m256d x) : v(x) {}
  SL_AVX2 explicit D4(double x) : v(_mm256_set1_pd(x)) {}
  SL_AVX2 static D4 load(const double* p) { return D4(_mm256_loadu_pd(p)); }
  SL_AVX2 static D4 gather(const double* tab, const int* i) { return D4(_mm256_set_pd(tab[i[3]], tab[i[2]], tab[i[1]], tab[i[0]])); }
};
SL_AVX2 inline void store(double* p, D4 a) { _mm256_storeu_pd(p, a.v); }
SL_AVX2 inline void store_int(int* p, D4 a) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvttpd_epi32(a.v)); }
SL_AVX2 inline D4 operator+(D4 a, D4 b) { return D4(_mm256_add_pd(a.v, b.v)); }
SL_AVX2 inline D4 operator-(D4 a, D4 b) { return D4(_mm256_sub_pd(a.v, b.v)); }
SL_AVX2 inline D4 operator*(D4 a, D4 b) { return D4(_mm256_mul_pd(a.v, b.v)); }
SL_AVX2 inline D4 operator/(D4 a, D4 b) { return D4(_mm256_div_pd(a.v, b.v)); }
SL_AVX2 inline D4 vmin(D4 a, D4 b) { return D4(_mm256_min_pd(b.v, a.v)); }  // as D2's
SL_AVX2 inline D4 vmax(D4 a, D4 b) { return D4(_mm256_max_pd(b.v, a.v)); }
SL_AVX2 inline D4 vselect_lt(D4 a, D4 b, D4 if_true, D4 if_false) {
  return D4(_mm256_blendv_pd(if_false.v, if_true.v, _mm256_cmp_pd(a.v, b.v, _CMP_LT_OS)));  // the mask's lanes are all ones or zeros
}
SL_AVX2 inline D4 vcount_le(D4 a, D4 b, D4 count) {
  return D4(_mm256_add_pd(count.v, _mm256_and_pd(_mm256_cmp_pd(a.v, b.v, _CMP_LE_OS), _mm256_set1_pd(1.0))));
}
SL_AVX2 inline D4 vcount_lt(D4 a, D4 b, D4 count) {
  return D4(_mm256_add_pd(count.v, _mm256_and_pd(_mm256_cmp_pd(a.v, b.v, _CMP_LT_OS), _mm256_set1_pd(1.0))));
}
SL_AVX2 inline D4 vsqrt(D4 a) { return D4(_mm256_sqrt_pd(a.v)); }
SL_AVX2 inline D4 vneg(D4 a) { return D4(_mm256_xor_pd(a.v, _mm256_set1_pd(-0.0))); }
SL_AVX2 inline D4 vabs(D4 a) { return D4(_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v)); }
SL_AVX2 inline D4 vcopysign(D4 magnitude, D4 sign) {
  return D4(_mm256_or_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), magnitude.v), _mm256_and_pd(_mm256_set1_pd(-0.0), sign.v)));
}
SL_AVX2 inline D4 vlog2(const TableMathView& tm, D4 x) { return D4(tm.log2_4(x.v)); }
SL_AVX2 inline D4 vexp2(const TableMathView& tm, D4 y) { return D4(tm.exp2_4(y.v)); }
SL_AVX2 inline D4 vcos_2pi(const TableMathView& tm, D4 u) { return D4(tm.cos_2pi_4(u.v)); }
#endif

// The helpers below are templates over the lane type; on D4 they become AVX2 code by being inlined
// into draw_avx2. They take a V by reference: a function not compiled for AVX cannot pass a 32-byte
// vector by value the way AVX code does (GCC's psABI note).
// round_nonneg_fast on every lane: (x + 2^52) - 2^52 below 2^52, else x.
template <class V>
V vround_nonneg(const V& x) {
  const V k2p52(0x1p52);
  return vselect_lt(x, k2p52, (x + k2p52) - k2p52, x);
}
// floor and ceil on every lane without an integer conversion: below 2^52 in magnitude, adding and
// subtracting 2^52 with x's sign rounds x to the nearest integer r (exactly), then one less (floor)
// if r is above x, one more (ceil) if below; from 2^52 on x is an integer. The values of
// floor_fast / ceil_fast (the truncation's) wherever those are defined, and of std::floor /
// std::ceil for every finite x (but -0.0, which gives +0.0 as floor_fast does).
template <class V>
V nearest_below_2p52(const V& x) {
  const V magic = vcopysign(V(0x1p52), x);
  return (x + magic) - magic;
}
template <class V>
V vfloor(const V& x) {
  const V r = nearest_below_2p52(x);
  return vselect_lt(vabs(x), V(0x1p52), vselect_lt(x, r, r - V(1.0), r), x);
}
template <class V>
V vceil(const V& x) {
  const V r = nearest_below_2p52(x);
  return vselect_lt(vabs(x), V(0x1p52), vselect_lt(r, x, r + V(1.0), r), x);
}

// The tier of a notional on every lane (agents/passive_positions.hpp, n_tiers_): the number of
// max_notional below it among all but the last, as a double.
template <class V>
V vtier(const double* max_notional, int n_tiers, const V& notional) {
  V t(0.0);
  for (int k = 0; k + 1 < n_tiers; ++k) t = vcount_lt(V(max_notional[k]), notional, t);
  return t;
}

// The uniforms of `count` positions from the counter state of the first (sim/core/counter_rng.hpp):
// u[d][k] = counter_open01(output d of position k).
constexpr std::size_t kChunk = 128;
constexpr std::uint64_t kPositionStride = kPassiveDraws * kSplitMixGamma;  // mod 2^64
inline void counter_uniforms(D2, std::uint64_t state, std::size_t count, double (*u)[kChunk]) {
  for (std::size_t k = 0; k < count; ++k, state += kPositionStride)
    for (int d = 0; d < 9; ++d) u[d][k] = counter_open01(splitmix64(state + static_cast<std::uint64_t>(d) * kSplitMixGamma));
}
#if defined(SL_HAVE_AVX2_LANES)
// The same integers on four positions at a time (measured: the four-lane draw takes 0.85x the time
// it takes with the scalar loop above, median of 15 paired runs). AVX2 has no 64-bit multiply: the
// low 64 bits of x c are lo(x) lo(c) + ((lo(x) hi(c) + hi(x) lo(c)) << 32) (mod 2^64), from three
// 32 x 32 -> 64-bit products (_mm256_mul_epu32 reads each lane's low 32 bits).
SL_AVX2 inline __m256i mul64(__m256i x, std::uint64_t c) {
  const __m256i c_lo = _mm256_set1_epi64x(static_cast<long long>(c & 0xFFFFFFFFULL)), c_hi = _mm256_set1_epi64x(static_cast<long long>(c >> 32));
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(x, c_hi), _mm256_mul_epu32(_mm256_srli_epi64(x, 32), c_lo));
  return _mm256_add_epi64(_mm256_mul_epu32(x, c_lo), _mm256_slli_epi64(cross, 32));
}
// splitmix64's mix of a state to which the gamma was already added (sim/core/rng.hpp).
SL_AVX2 inline __m256i splitmix64_mix4(__m256i z) {
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), 0xBF58476D1CE4E5B9ULL);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), 0x94D049BB133111EBULL);
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}
// counter_open01 on four lanes. AVX2 converts no 64-bit integer to double; k = x >> 11 < 2^53 is
// put together exactly from its halves: the doubles 2^84 + hi x 2^32 and 2^52 + lo (each half
// written into a mantissa), (2^84 + hi x 2^32) - (2^84 + 2^52) = hi x 2^32 - 2^52 exactly (a multiple
// of 2^32 below 2^53 in magnitude), plus 2^52 + lo = k exactly (below 2^53): static_cast<double>(k).
// Then the same + 0.5 and x 2^-53.
SL_AVX2 inline __m256d counter_open01_4(__m256i x) {
  const __m256i k = _mm256_srli_epi64(x, 11);
  const __m256d hi = _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(k, 32), _mm256_set1_epi64x(0x4530000000000000LL)));
  const __m256d lo = _mm256_castsi256_pd(_mm256_blend_epi32(k, _mm256_set1_epi64x(0x4330000000000000LL), 0xAA));  // high halves replaced
  const __m256d kd = _mm256_add_pd(_mm256_sub_pd(hi, _mm256_set1_pd(0x1p84 + 0x1p52)), lo);
  return _mm256_mul_pd(_mm256_add_pd(kd, _mm256_set1_pd(0.5)), _mm256_set1_pd(0x1p-53));
}
SL_AVX2 inline void counter_uniforms(D4, std::uint64_t state, std::size_t count, double (*u)[kChunk]) {
  // Lane j: position k + j's state plus the gamma splitmix64 adds.
  __m256i s = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(state + kSplitMixGamma)),
                               _mm256_set_epi64x(static_cast<long long>(3 * kPositionStride), static_cast<long long>(2 * kPositionStride),
                                                 static_cast<long long>(kPositionStride), 0));
  const __m256i gamma = _mm256_set1_epi64x(static_cast<long long>(kSplitMixGamma));
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(4 * kPositionStride));
  for (std::size_t k = 0; k < count; k += 4, s = _mm256_add_epi64(s, step)) {
    __m256i z = s;
    for (int d = 0; d < 9; ++d, z = _mm256_add_epi64(z, gamma)) _mm256_storeu_pd(u[d] + k, counter_open01_4(splitmix64_mix4(z)));
  }
}
#endif

// What draw reads, copied out of the drawer (so that the passes below need no access to it) and
// then into locals of the passes (so that no store to the rows makes the compiler reload it).
struct DrawParams {
  TableMathView tm;
  std::uint64_t key;
  double p0, tick, lot, svu, inv_tick, inv_lot, notional_scale, notional_max, inv_alpha, dispersion_log2e, extra_per_log2;
  double long_share, isolated_share, spot_probability, share_min, share_span, total_weight;
  int n_level_steps, n_tiers;
  const double *cumulative, *levels, *max_notional, *tier_max_lev, *target, *p0_minus_target, *p0_plus_target;
  const double *slot_lev, *slot_omi, *slot_opi, *slot_long_floor;
  int tier_slot0;
};

// The draw on lanes of type V (D2 or D4); see PassivePositionDrawer::draw.
//
// In passes over a chunk, each over independent positions and each a short chain of dependent
// steps per position: the processor then has many positions in flight at once (one position's
// whole chain, a hundred dependent steps, would leave it waiting). The table functions and the
// rules run on V::kLanes positions at a time; the rules compute both the cross and the isolated
// position's values and keep the one its margin mode asks for (no branch on the data). A chunk
// whose length is not a multiple of V::kLanes draws up to kLanes - 1 positions more (each a pure
// function of its index: nothing is read or written for them) so that every pass runs on whole
// groups.
template <class V>
void draw_lanes(const DrawParams& params, std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) {
  constexpr double kLn2 = 0.6931471805599453;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr std::size_t L = V::kLanes;
  static_assert(kChunk % L == 0, "whole groups of lanes in a full chunk");
  const DrawParams p = params;
  const TableMathView tm = p.tm;
  double u[9][kChunk], notional[kChunk], ticks0[kChunk], size[kChunk], entry[kChunk], quote[kChunk], spot[kChunk], limit[kChunk];
  int slot[kChunk], mmr_tier[kChunk];
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - c0);
    const std::size_t mv = (m + L - 1) / L * L;
    // Position i's draw d is counter_u64(key, i x kPassiveDraws + d).
    counter_uniforms(V(0.0), counter_state(p.key, static_cast<std::uint64_t>(first + c0) * kPassiveDraws), mv, u);

    // u^(-1/alpha) = 2^(-log2(u) / alpha); ln u = ln 2 x log2(u); exp(x) = 2^(x log2 e). The
    // logarithms and the cosine, then the exponents' arguments, then the exponentials.
    double* const y_notional = u[0];  // -log2(u0) / alpha
    double* const y_entry = u[2];     // entry_dispersion x log2 e x z
    double* const extra = u[6];       // the cross extra margin, -mean x ln u6
    for (std::size_t k = 0; k < mv; k += L) {
      store(u[0] + k, vlog2(tm, V::load(u[0] + k)));
      store(u[2] + k, vlog2(tm, V::load(u[2] + k)));
      store(u[3] + k, vcos_2pi(tm, V::load(u[3] + k)));
      store(u[6] + k, vlog2(tm, V::load(u[6] + k)));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      store(y_notional + k, vneg(V::load(u[0] + k)) * V(p.inv_alpha));
      const V z = vsqrt(vmax(V(0.0), V(-2.0 * kLn2) * V::load(u[2] + k))) * V::load(u[3] + k);  // max: rounding at u2 -> 1
      store(y_entry + k, V(p.dispersion_log2e) * z);
      store(extra + k, V(p.extra_per_log2) * V::load(u[6] + k));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      store(notional + k, vexp2(tm, V::load(y_notional + k)));
      store(ticks0 + k, vexp2(tm, V::load(y_entry + k)));
    }

    for (std::size_t k = 0; k < mv; k += L) {
      const V ticks0_k = vmax(V(1.0), vround_nonneg(V(p.p0) * V::load(ticks0 + k) * V(p.inv_tick)));
      const V notional_k = vmin(V(p.notional_scale) * V::load(notional + k), V(p.notional_max));
      const V entry0 = ticks0_k * V(p.tick);
      const V lots = vmax(V(1.0), vround_nonneg(notional_k * V(p.inv_lot) / entry0));
      store(ticks0 + k, ticks0_k);
      store(entry + k, entry0);
      store(size + k, lots * V(p.lot));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      // The level whose cumulative weight first exceeds the pick (else the last): the weights
      // increase, so its index is the number of cumulative weights <= the pick (+inf past the
      // second-last level caps it at the last). lev = min(level, the tier's maximum): std::min
      // keeps the level unless the maximum is below it; its slot says which.
      const V sz = V::load(size + k);
      const V pick = V::load(u[4] + k) * V(p.total_weight);
      V li(0.0);
      for (int j = 0; j < p.n_level_steps; ++j) li = vcount_le(V(p.cumulative[j]), pick, li);
      const V t_cap = vtier(p.max_notional, p.n_tiers, sz * V::load(entry + k));
      int li_k[L], tc_k[L];
      store_int(li_k, li);
      store_int(tc_k, t_cap);
      store_int(slot + k, vselect_lt(V::gather(p.tier_max_lev, tc_k), V::gather(p.levels, li_k), t_cap + V(p.tier_slot0), li));
      store_int(mmr_tier + k, vtier(p.max_notional, p.n_tiers, sz * V(p.p0)));
    }
    // Cross: quote = size x entry / leverage x (1 + extra), a share of it as spot units (if u7 <
    // spot_probability); then the entry the position can carry, equity = collateral + s x size x
    // (p0 - entry) >= target: a long's entry at most p0 + room, a short's at least p0 - room, room
    // = collateral / size - target.
    for (std::size_t k = 0; k < mv; k += L) {
      const V sz = V::load(size + k), lev = V::gather(p.slot_lev, slot + k);
      const V q = sz * V::load(entry + k) / lev * (V(1.0) + V::load(extra + k));
      const V share = V(p.share_min) + V(p.share_span) * V::load(u[8] + k);
      const V spot_if = vround_nonneg(q * share / V(p.svu) * V(1e6)) * V(1e-6);
      const V u7 = V::load(u[7] + k), sp(p.spot_probability);
      store(spot + k, vselect_lt(u7, sp, spot_if, V(0.0)));
      store(quote + k, vround_nonneg(vselect_lt(u7, sp, q - spot_if * V(p.svu), q) * V(1e6)) * V(1e-6));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      const V u1 = V::load(u[1] + k), u5 = V::load(u[5] + k), ls(p.long_share);
      const V room = (V::load(quote + k) + V::load(spot + k) * V(p.svu)) / V::load(size + k) - V::gather(p.target, mmr_tier + k);
      const V cross_limit = vselect_lt(u1, ls, V(p.p0) + room, V(p.p0) - room);
      // Isolated: collateral = size x entry / leverage moves with the entry, so the entry solves
      // collateral + s x size x (p0 - entry) = target x size: a long's at most (p0 - target) / (1 -
      // 1 / leverage) (none at leverage 1: its limit is raised to +inf), a short's at least (p0 +
      // target) / (1 + 1 / leverage).
      const V e = vselect_lt(u1, ls, V::gather(p.p0_minus_target, mmr_tier + k), V::gather(p.p0_plus_target, mmr_tier + k)) /
                  vselect_lt(u1, ls, V::gather(p.slot_omi, slot + k), V::gather(p.slot_opi, slot + k));
      const V iso_limit = vmax(e, vselect_lt(u1, ls, V::gather(p.slot_long_floor, slot + k), V(-kInf)));
      store(limit + k, vselect_lt(u5, V(p.isolated_share), iso_limit, cross_limit));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      // Moved to the nearest tick on the healthy side if a long's entry is above the limit or a
      // short's below: side x (entry - limit) > 0 with side +1 / -1 (a difference of finite doubles
      // is zero only when they are equal and has the comparison's sign; x -1 is exact). A long goes
      // down to floor(limit / tick), at least one tick; a short up to ceil(limit / tick).
      const V u1 = V::load(u[1] + k), ls(p.long_share), limit_k = V::load(limit + k);
      const V side = vselect_lt(u1, ls, V(1.0), V(-1.0));
      const V x = limit_k * V(p.inv_tick);
      const V moved = vselect_lt(u1, ls, vmax(V(1.0), vfloor(x)), vceil(x));
      store(entry + k, vselect_lt(V(0.0), side * (V::load(entry + k) - limit_k), moved, V::load(ticks0 + k)) * V(p.tick));
    }
    for (std::size_t k = 0; k < mv; k += L) {
      // An isolated position's leverage is lowered to the tier of its new notional; its quote is
      // size x entry / leverage in micro-units, and it holds no spot.
      const V sz = V::load(size + k), new_entry = V::load(entry + k), u5 = V::load(u[5] + k), iso(p.isolated_share);
      int t_new[L];
      store_int(t_new, vtier(p.max_notional, p.n_tiers, sz * new_entry));
      const V new_lev = vmin(V::gather(p.slot_lev, slot + k), V::gather(p.tier_max_lev, t_new));
      const V iso_quote = vround_nonneg(sz * new_entry / new_lev * V(1e6)) * V(1e-6);
      store(quote + k, vselect_lt(u5, iso, iso_quote, V::load(quote + k)));
      store(spot + k, vselect_lt(u5, iso, V(0.0), V::load(spot + k)));
    }
    for (std::size_t k = 0; k < m; ++k) {
      PositionRow& r = rows[c0 + k];
      r.line = static_cast<std::int32_t>(first + c0 + k + 1);
      r.asset = 0;
      r.is_long = u[1][k] < p.long_share;
      r.isolated = u[5][k] < p.isolated_share;
      r.size = size[k];
      r.entry_price = entry[k];
      r.quote_collateral = quote[k];
      spot_units[c0 + k] = spot[k];
    }
  }
}

#if defined(SL_HAVE_AVX2_LANES)
// draw_lanes on four lanes, all of it compiled for AVX2: flatten inlines draw_lanes<D4> and every
// function it calls into this one, so no AVX2 code is left outside it to be called by mistake.
SL_AVX2 __attribute__((flatten)) void draw_avx2(const DrawParams& params, std::size_t first, std::size_t n, PositionRow* rows,
                                                double* spot_units) {
  draw_lanes<D4>(params, first, n, rows, spot_units);
}
#endif

}  // namespace

void PassivePositionDrawer::draw(std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) const {
  constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
  DrawParams p;
  p.tm = math_.view();
  p.key = key_;
  p.p0 = p0_, p.tick = tick_, p.lot = lot_, p.svu = spot_value_per_unit_, p.inv_tick = inv_tick_, p.inv_lot = inv_lot_;
  p.notional_scale = cfg_.notional_scale, p.notional_max = cfg_.notional_max, p.inv_alpha = inv_alpha_;
  p.dispersion_log2e = cfg_.entry_dispersion * kLog2e;   // as (entry_dispersion x log2 e) x z
  p.extra_per_log2 = -cfg_.cross_extra_margin_mean * kLn2;  // as (-mean x ln 2) x log2 u
  p.long_share = cfg_.long_share, p.isolated_share = cfg_.isolated_share, p.spot_probability = cfg_.spot_probability;
  p.share_min = cfg_.spot_share_min, p.share_span = cfg_.spot_share_max - cfg_.spot_share_min;
  p.total_weight = total_weight_;
  p.n_level_steps = n_levels_ - 1, p.n_tiers = n_tiers_;
  p.cumulative = cumulative_, p.levels = levels_;
  p.max_notional = tier_max_notional_.data(), p.tier_max_lev = tier_max_leverage_.data();
  p.target = tier_target_.data(), p.p0_minus_target = tier_p0_minus_target_.data(), p.p0_plus_target = tier_p0_plus_target_.data();
  p.slot_lev = slot_leverage_.data(), p.slot_omi = slot_one_minus_inv_.data(), p.slot_opi = slot_one_plus_inv_.data();
  p.slot_long_floor = slot_long_limit_floor_.data();
  p.tier_slot0 = kTierSlot0;
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) return draw_avx2(p, first, n, rows, spot_units);
#endif
  draw_lanes<D2>(p, first, n, rows, spot_units);
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
