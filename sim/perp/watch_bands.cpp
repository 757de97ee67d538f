#include "sim/perp/watch_bands.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "sim/core/simd_lanes.hpp"
#include "sim/core/table_math.hpp"
#include "sim/perp/liquidation_price_index.hpp"
#include "sim/perp/watch_index.hpp"

namespace sl {

namespace {

using namespace simd;

constexpr double kInf = std::numeric_limits<double>::infinity();

// WatchIndex::lower_edge / upper_edge on every lane: the float nearest the double (the double
// capped at the largest float), one step up if below it (lower) or down if above it (upper).
template <int W>
[[gnu::always_inline]] inline typename Lanes<W>::F lower_edges(const typename Lanes<W>::V& lo, const typename Lanes<W>::V& float_max) {
  using L = Lanes<W>;
  const typename L::F f = __builtin_convertvector(vmin<typename L::V, typename L::M>(lo, float_max), typename L::F);
  const typename L::I up = __builtin_convertvector(__builtin_convertvector(f, typename L::V) < lo, typename L::I);  // -1 or 0
  return reinterpret_cast<typename L::F>(reinterpret_cast<typename L::I>(f) - up);
}
template <int W>
[[gnu::always_inline]] inline typename Lanes<W>::F upper_edges(const typename Lanes<W>::V& hi, const typename Lanes<W>::V& float_max) {
  using L = Lanes<W>;
  const typename L::F f = __builtin_convertvector(vmin<typename L::V, typename L::M>(hi, float_max), typename L::F);
  const typename L::I down = __builtin_convertvector(__builtin_convertvector(f, typename L::V) > hi, typename L::I);
  return reinterpret_cast<typename L::F>(reinterpret_cast<typename L::I>(f) + down);
}

// The block on W lanes: band_position_reference's operations, lane by lane, on whole groups.
template <int W>
[[gnu::always_inline]] inline void band_lanes(const WatchBandPrices& p, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in,
                                              std::size_t n, const WatchBandEdges& out, WatchFarEdges& far) {
  using L = Lanes<W>;
  using V = typename L::V;
  using M = typename L::M;
  using F = typename L::F;
  using I = typename L::I;
  const V index = vector_of<V, W>(p.index), mark = vector_of<V, W>(p.mark), one_minus_haircut = vector_of<V, W>(1.0 - p.haircut), k = vector_of<V, W>(p.k);
  const V inf = vector_of<V, W>(kInf), minus_inf = vector_of<V, W>(-kInf), zero = vector_of<V, W>(0.0), one = vector_of<V, W>(1.0), half = vector_of<V, W>(0.5);
  const V mark_far_lo = vector_of<V, W>(p.mark * p.inv_far_factor), mark_far_hi = vector_of<V, W>(p.mark * p.far_factor);
  const V index_far_lo = vector_of<V, W>(p.index * p.inv_far_factor), index_far_hi = vector_of<V, W>(p.index * p.far_factor);
  const V tier_edge_factor = vector_of<V, W>(1.0 - 1e-12), slack_factor = vector_of<V, W>(1e-9);
  const V float_max = vector_of<V, W>(static_cast<double>(std::numeric_limits<float>::max()));
  const M sign_bit = reinterpret_cast<M>(vector_of<V, W>(-0.0));
  const M spot_counts = (vector_of<V, W>(p.haircut) < one);  // a holder's spot is a term (haircut < 1)
  F float_inf;
  for (int i = 0; i < W; ++i) float_inf[i] = std::numeric_limits<float>::infinity();
  V far_mark_lo = minus_inf, far_mark_hi = inf, far_index_lo = minus_inf, far_index_hi = inf;
  for (std::size_t j = 0; j < n; j += W) {
    const V quote = load<V>(in.quote + j), spot = load<V>(in.spot + j), contracts = load<V>(in.contracts + j);
    const M has_spot = spot != zero, has_contracts = contracts != zero, is_long = contracts > zero;
    // Equity and requirement (mark_one's terms for one asset).
    const V eq_spot = pick<V, M>(has_spot, quote + spot * index * one_minus_haircut, quote);
    const V notional = vabs<V, M>(contracts, sign_bit) * mark;
    // Its tier (band_detail::tier_of: the first whose max_notional covers it, else the last): the
    // tiers from the last down, each taken where it covers the notional. Its rate, and its cap
    // (max_notional; +inf in the last tier, whose edge is none).
    V mmr = vector_of<V, W>(tiers.back().mmr), cap = inf;
    for (std::size_t t = tiers.size() - 1; t-- > 0;) {
      const V max_notional = vector_of<V, W>(tiers[t].max_notional);
      const M covers = notional <= max_notional;
      mmr = pick<V, M>(covers, vector_of<V, W>(tiers[t].mmr), mmr);
      cap = pick<V, M>(covers, max_notional, cap);
    }
    const V req = pick<V, M>(has_contracts, notional * mmr, zero);
    const V eq = pick<V, M>(has_contracts, eq_spot + contracts * mark, eq_spot);
    const M liquidatable = (has_contracts & (eq < req)) | (eq < zero);
    const V scale = vabs<V, M>(quote, sign_bit) + k * req + vabs<V, M>(spot, sign_bit) * index + vabs<V, M>(contracts, sign_bit) * mark;
    // liquidation_bands_one(x, eq - k x req, 1e-9 x scale, k, tiers, ...); its division of the
    // budget by the number of terms (1 or 2) as a product by 1 or 0.5: the same double.
    const V h0 = eq - k * req, slack = slack_factor * scale;
    const M spot_term = has_spot & spot_counts;
    const V budget = (h0 - slack) * pick<V, M>(spot_term & has_contracts, half, one);
    const V move = budget / (vabs<V, M>(spot, sign_bit) * one_minus_haircut);
    V index_lo = pick<V, M>(spot_term & (spot > zero), index - move, minus_inf);
    V index_hi = pick<V, M>(spot_term & (spot < zero), index + move, inf);
    const V units = vabs<V, M>(contracts, sign_bit);
    const V rate = k * mmr;
    const V tier_edge = cap / units * tier_edge_factor;  // +inf in the last tier (cap +inf)
    const V to_edge = budget / (units * pick<V, M>(is_long, one - rate, one + rate));
    V mark_lo = pick<V, M>(has_contracts & is_long, mark - to_edge, minus_inf);
    V mark_hi = pick<V, M>(has_contracts, pick<V, M>(is_long, tier_edge, vmin<V, M>(mark + to_edge, tier_edge)), inf);
    const M no_terms = ~spot_term & ~has_contracts;
    M ok = (no_terms & (h0 >= zero)) | (~no_terms & (budget > zero));
    ok &= ~(has_contracts & is_long & ~(rate < one));
    ok &= ~has_contracts | (mark_hi > mark);
    ok &= ~liquidatable;
    // Far edges: kept only as the nearest per (price, side).
    const M far_mlo = ok & (mark_lo < mark_far_lo), far_mhi = ok & (mark_hi > mark_far_hi);
    const M far_ilo = ok & (index_lo < index_far_lo), far_ihi = ok & (index_hi > index_far_hi);
    far_mark_lo = pick<V, M>(far_mlo, vmax<V, M>(far_mark_lo, mark_lo), far_mark_lo);
    far_mark_hi = pick<V, M>(far_mhi, vmin<V, M>(far_mark_hi, mark_hi), far_mark_hi);
    far_index_lo = pick<V, M>(far_ilo, vmax<V, M>(far_index_lo, index_lo), far_index_lo);
    far_index_hi = pick<V, M>(far_ihi, vmin<V, M>(far_index_hi, index_hi), far_index_hi);
    // The edges stored: a lower edge > 0, an upper edge finite; as floats rounded outward.
    mark_lo = pick<V, M>(ok & ~far_mlo & (mark_lo > zero), mark_lo, minus_inf);
    index_lo = pick<V, M>(ok & ~far_ilo & (index_lo > zero), index_lo, minus_inf);
    const I has_mark_hi = __builtin_convertvector(ok & ~far_mhi & (mark_hi < inf), I);
    const I has_index_hi = __builtin_convertvector(ok & ~far_ihi & (index_hi < inf), I);
    store(out.mark_lo + j, lower_edges<W>(mark_lo, float_max));
    store(out.index_lo + j, lower_edges<W>(index_lo, float_max));
    store(out.mark_hi + j, pick<F, I>(has_mark_hi, upper_edges<W>(mark_hi, float_max), float_inf));
    store(out.index_hi + j, pick<F, I>(has_index_hi, upper_edges<W>(index_hi, float_max), float_inf));
    // 0: no spot, 1: spot holder, 2: not banded.
    const M which = pick<M, M>(ok, has_spot & 1, splat_int<M, W>(2));
    store(out.which + j, __builtin_convertvector(which, typename L::B));
  }
  // The nearest far edges: a maximum (minimum) of the same values whatever the order.
  for (int i = 0; i < W; ++i) {
    far.mark_lo = std::max(far.mark_lo, far_mark_lo[i]);
    far.mark_hi = std::min(far.mark_hi, far_mark_hi[i]);
    far.index_lo = std::max(far.index_lo, far_index_lo[i]);
    far.index_hi = std::min(far.index_hi, far_index_hi[i]);
  }
}

#if defined(SL_HAVE_AVX2_LANES)
SL_AVX2 void band_avx2(const WatchBandPrices& p, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in, std::size_t n,
                       const WatchBandEdges& out, WatchFarEdges& far) {
  band_lanes<4>(p, tiers, in, n, out, far);
}
#endif

}  // namespace

void band_watched_positions(const WatchBandPrices& prices, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in,
                            std::size_t n, const WatchBandEdges& out, WatchFarEdges& far) {
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) {
    band_avx2(prices, tiers, in, n, out, far);
    return;
  }
#endif
  band_lanes<2>(prices, tiers, in, n, out, far);
}

void band_position_reference(const WatchBandPrices& p, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in,
                             std::size_t j, const WatchBandEdges& out, WatchFarEdges& far) {
  out.mark_lo[j] = out.index_lo[j] = -std::numeric_limits<float>::infinity();
  out.mark_hi[j] = out.index_hi[j] = std::numeric_limits<float>::infinity();
  out.which[j] = 2;
  AssetExposure x;
  const double quote = in.quote[j];
  x.spot = in.spot[j];
  x.haircut = p.haircut;
  x.index = p.index;
  x.contracts = in.contracts[j];
  x.mark = p.mark;
  double eq = quote;
  if (x.spot != 0) eq += x.spot * x.index * (1.0 - x.haircut);
  double req = 0;
  if (x.contracts != 0) {
    eq += x.contracts * x.mark;
    const double notional = std::abs(x.contracts) * x.mark;
    req = notional * tiers[band_detail::tier_of(tiers, notional)].mmr;  // MarginEngine::mmr(notional)
  }
  if ((x.contracts != 0 && eq < req) || eq < 0) return;
  const double scale = std::abs(quote) + p.k * req + std::abs(x.spot) * x.index + std::abs(x.contracts) * x.mark;
  PriceBand mark_band, index_band;
  if (!liquidation_bands_one(x, eq - p.k * req, 1e-9 * scale, p.k, tiers, mark_band, index_band)) return;
  const auto set_aside = [&p](PriceBand& b, double price, double& far_lo, double& far_hi) {
    if (b.lo < price * p.inv_far_factor) {
      far_lo = std::max(far_lo, b.lo);
      b.lo = -kInf;
    }
    if (b.hi > price * p.far_factor) {
      far_hi = std::min(far_hi, b.hi);
      b.hi = kInf;
    }
  };
  set_aside(mark_band, x.mark, far.mark_lo, far.mark_hi);
  set_aside(index_band, x.index, far.index_lo, far.index_hi);
  out.which[j] = x.spot != 0 ? 1 : 0;
  if (mark_band.lo > 0) out.mark_lo[j] = WatchIndex::lower_edge(mark_band.lo);
  if (std::isfinite(mark_band.hi)) out.mark_hi[j] = WatchIndex::upper_edge(mark_band.hi);
  if (index_band.lo > 0) out.index_lo[j] = WatchIndex::lower_edge(index_band.lo);
  if (std::isfinite(index_band.hi)) out.index_hi[j] = WatchIndex::upper_edge(index_band.hi);
}

}  // namespace sl
