// Lanes of doubles for the set-up's block loops (issue #15: a million passive positions' amounts
// and bands), as GCC's vector extensions: +, -, *, / and comparisons lane by lane are the same IEEE
// operations as on one double (never fused: no FMA), so code written on lanes gives the doubles the
// one-position code gives. W = 2 (SSE2, x86-64's baseline) or 4 (AVX2: only inside a function
// compiled for it, SL_AVX2 in sim/core/table_math.hpp, and called where the CPU has it).
//
// The helpers take their vectors by reference and are always inlined into the caller's lane code.
// GCC notes once per file that a 32-byte vector returned by a function not compiled for AVX would
// be passed another way than by AVX code; none is ever called (each is inlined), so the note is
// silenced for the files that include this header (it points at their lines, not at these).
#pragma once
#include <cstdint>
#include <cstring>

#pragma GCC diagnostic ignored "-Wpsabi"

namespace sl::simd {

// W doubles (V) and their masks (M: all ones or all zeros per lane), W floats (F) and int32s (I), W
// bytes (B); __builtin_convertvector converts lane by lane as static_cast does.
template <int W>
struct Lanes;
template <>
struct Lanes<2> {
  using V = double __attribute__((vector_size(16)));
  using M = std::int64_t __attribute__((vector_size(16)));
  using F = float __attribute__((vector_size(8)));
  using I = std::int32_t __attribute__((vector_size(8)));
  using B = std::uint8_t __attribute__((vector_size(2)));
};
template <>
struct Lanes<4> {
  using V = double __attribute__((vector_size(32)));
  using M = std::int64_t __attribute__((vector_size(32)));
  using F = float __attribute__((vector_size(16)));
  using I = std::int32_t __attribute__((vector_size(16)));
  using B = std::uint8_t __attribute__((vector_size(4)));
};

template <class T, class K>
[[gnu::always_inline]] inline T pick(const K& c, const T& if_true, const T& if_false) {  // c ? if_true : if_false, per lane
  return reinterpret_cast<T>((reinterpret_cast<K>(if_true) & c) | (reinterpret_cast<K>(if_false) & ~c));
}
template <class V, class M>
[[gnu::always_inline]] inline V vmax(const V& a, const V& b) {  // std::max(a, b): a < b ? b : a
  return pick<V, M>(a < b, b, a);
}
template <class V, class M>
[[gnu::always_inline]] inline V vmin(const V& a, const V& b) {  // std::min(a, b): b < a ? b : a
  return pick<V, M>(b < a, b, a);
}
template <class V, class M>
[[gnu::always_inline]] inline V vabs(const V& a, const M& sign_bit) {  // std::abs: the sign bit cleared
  return reinterpret_cast<V>(reinterpret_cast<M>(a) & ~sign_bit);
}
template <class V>
[[gnu::always_inline]] inline V load(const double* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T, class E>
[[gnu::always_inline]] inline void store(E* p, const T& v) {
  std::memcpy(p, &v, sizeof v);
}
template <class V, int W>
[[gnu::always_inline]] inline V vector_of(double x) {  // x on every lane
  V v;
  for (int i = 0; i < W; ++i) v[i] = x;
  return v;
}
template <class M, int W>
[[gnu::always_inline]] inline M splat_int(std::int64_t x) {
  M m;
  for (int i = 0; i < W; ++i) m[i] = x;
  return m;
}

// llround_in_range (sim/core/fixed_point.hpp) on every lane whose |x| < 2^51 (the others: any
// value; the caller checks), as the integral double and as the int64. Truncation: the nearest
// integer r by adding and subtracting 2^52 with x's sign (exact below 2^52), then one step toward
// zero if r is beyond x; then one step away from zero when the fraction x - t (exact) is at least a
// half, as llround_in_range. The int64 from the double's bits after adding 1.5 x 2^52 (below 2^51
// in magnitude the mantissa holds 2^51 + value).
template <int W>
[[gnu::always_inline]] inline typename Lanes<W>::V round_half_away(const typename Lanes<W>::V& x) {
  using V = typename Lanes<W>::V;
  using M = typename Lanes<W>::M;
  const V zero = vector_of<V, W>(0.0), one = vector_of<V, W>(1.0), half = vector_of<V, W>(0.5);
  const M sign_bit = reinterpret_cast<M>(vector_of<V, W>(-0.0));
  const V magic = reinterpret_cast<V>(reinterpret_cast<M>(vector_of<V, W>(0x1p52)) | (reinterpret_cast<M>(x) & sign_bit));
  const V r = (x + magic) - magic;
  const M non_negative = x >= zero;
  const V t = r - pick<V, M>(non_negative & (r > x), one, zero) + pick<V, M>(~non_negative & (r < x), one, zero);
  const V frac = x - t;
  return t + pick<V, M>(frac >= half, one, zero) - pick<V, M>(frac <= -half, one, zero);
}
template <int W>
[[gnu::always_inline]] inline typename Lanes<W>::M to_int64(const typename Lanes<W>::V& integral) {  // |integral| < 2^51
  using V = typename Lanes<W>::V;
  using M = typename Lanes<W>::M;
  const V shift = vector_of<V, W>(0x1.8p52);
  return reinterpret_cast<M>(integral + shift) - reinterpret_cast<M>(shift);
}

}  // namespace sl::simd

