// log2, exp2 and cos(2 pi u) from tables with linear interpolation (issue #15: a million passive
// positions' draws, sim/core/counter_rng.hpp, without six libm calls each). Integer and IEEE double
// arithmetic only once the tables are filled (by std::log2 / std::exp2 / std::cos at construction),
// so the same inputs give the same outputs on every thread; no branches on the data but the range
// split, so a loop over them stays tight.
//
// Error of linear interpolation over a cell of width h: at most h^2 / 8 x max |f''| (tested against
// libm on random inputs in test_engine_passive_positions):
// h^2 / 8 = 2^-24 / 8 = 7.45e-9, so
//   log2(m), m in [1, 2):      |f''| <= 1 / ln 2 = 1.443      -> 1.08e-8 absolute
//   exp2(f), f in [0, 1):      |f''| <= 2 (ln 2)^2 = 0.961    -> 7.2e-9 absolute on a value in [1, 2): relative
//   cos(2 pi u), u in [0, 1]:  |f''| <= (2 pi)^2 = 39.5       -> 2.9e-7 absolute
// For draws this is far below any rounding that follows (whole lots, whole ticks, micro-units).
#pragma once
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
// Functions on four doubles at a time (AVX2), compiled for AVX2 whatever the build's flags and
// called only when the CPU has it (simd_double_lanes() == 4). AVX2 alone, never FMA: a * b + c
// stays a multiply and an add, rounded twice, as on two lanes and in the scalar functions.
#define SL_HAVE_AVX2_LANES 1
#define SL_AVX2 __attribute__((target("avx2")))
#endif

namespace sl {

// How many doubles the lane code (these array functions, agents/passive_positions.cpp's draws) works
// on at once: 4 where the CPU has AVX2 (asked once), else 2 (SSE2, x86-64's baseline; elsewhere two
// plain doubles). Every width gives the same doubles: the same IEEE operations lane by lane.
int simd_double_lanes();
// For tests: 2 runs the two-lane code on any CPU, 4 the AVX2 code (refused, returning false and
// changing nothing, where the CPU lacks AVX2), 0 the CPU's own choice again. Not for use while
// another thread is drawing.
bool set_simd_double_lanes_for_testing(int lanes);

// Choices without a branch, for conditions on data (a price's side of a limit, a coin flip) that a
// branch predictor would miss half the time; the result is exactly one of the two doubles, unchanged.
// GCC turns `c ? a : b` on doubles back into a branch, so these pick by a mask: the SSE2 compare's
// (x86-64's baseline) or, elsewhere, an integer one.
inline double select_exact(bool c, double if_true, double if_false) {
  const std::uint64_t mask = 0 - static_cast<std::uint64_t>(c);
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(if_true) & mask) | (std::bit_cast<std::uint64_t>(if_false) & ~mask));
}
// a < b ? if_true : if_false
inline double select_lt(double a, double b, double if_true, double if_false) {
#if defined(__SSE2__)
  const __m128d mask = _mm_cmplt_sd(_mm_set_sd(a), _mm_set_sd(b));
  return _mm_cvtsd_f64(_mm_or_pd(_mm_and_pd(mask, _mm_set_sd(if_true)), _mm_andnot_pd(mask, _mm_set_sd(if_false))));
#else
  return select_exact(a < b, if_true, if_false);
#endif
}

// floor and round-to-nearest-even without a libm call (x86-64's baseline has no SSE4.1 roundsd, so
// std::floor / std::nearbyint are calls): the same values as std::floor(x) for |x| < 2^63 and
// std::nearbyint(x) (default rounding mode) for 0 <= x < 2^52. floor and ceil without a branch (x's
// sign is data: exp2 of a normal draw); round's x >= 2^52 never happens in practice: a branch.
inline double floor_fast(double x) {
  const double t = static_cast<double>(static_cast<std::int64_t>(x));  // truncation toward zero
  return select_lt(x, t, t - 1.0, t);
}
inline double ceil_fast(double x) {
  const double t = static_cast<double>(static_cast<std::int64_t>(x));
  return select_lt(t, x, t + 1.0, t);
}
inline double round_nonneg_fast(double x) {
  constexpr double k2p52 = 4503599627370496.0;  // adding 2^52 leaves no fraction bits: the FPU rounds half to even
  return x < k2p52 ? (x + k2p52) - k2p52 : x;
}

// The three tables by raw pointer: what a hot loop hoists out of it (no std::vector indirection per
// call). TableMath's own functions are these, so both give the same doubles.
struct TableMathView {
  static constexpr int kCells = 4096;  // 2^12 cells per table
  const double* log2_tab;  // log2(1 + t) at t = i / kCells, i in [0, kCells]
  const double* exp2_tab;  // 2^t
  const double* cos_tab;   // cos(2 pi t)

  // log2(x) for a positive normal x: the exponent's bits plus the interpolated log2 of the mantissa.
  double log2(double x) const {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
    const int e = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);  // [1, 2)
    return e + interpolate(log2_tab, m - 1.0);
  }
  // 2^y for y in [-1022, 1023]: 2^floor(y) exactly (the exponent's bits) times the interpolated 2^frac.
  double exp2(double y) const {
    const double k = floor_fast(y);
    const double scale = std::bit_cast<double>(static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52);
    return scale * interpolate(exp2_tab, y - k);
  }
  // cos(2 pi u) for u in [0, 1].
  double cos_2pi(double u) const { return interpolate(cos_tab, u); }

  // The same functions over arrays (out may be in): out[k] = f(in[k]), the same doubles as the
  // functions above. Four values at a time with AVX2, else two with SSE2 (x86-64's baseline):
  // the same IEEE operations lane by lane (truncation to int32 and back is exact here: cells <
  // 4097, |floor(y)| <= 1023), a half or a quarter of the instructions of scalar calls.
  void log2_n(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
#if defined(SL_HAVE_AVX2_LANES)
    if (simd_double_lanes() == 4) k = log2_n4(in, out, n);
#endif
#if defined(__SSE2__)
    for (; k + 2 <= n; k += 2) _mm_storeu_pd(out + k, log2_2(_mm_loadu_pd(in + k)));
#endif
    for (; k < n; ++k) out[k] = log2(in[k]);
  }
  void exp2_n(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
#if defined(SL_HAVE_AVX2_LANES)
    if (simd_double_lanes() == 4) k = exp2_n4(in, out, n);
#endif
#if defined(__SSE2__)
    for (; k + 2 <= n; k += 2) _mm_storeu_pd(out + k, exp2_2(_mm_loadu_pd(in + k)));
#endif
    for (; k < n; ++k) out[k] = exp2(in[k]);
  }
  void cos_2pi_n(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
#if defined(SL_HAVE_AVX2_LANES)
    if (simd_double_lanes() == 4) k = cos_2pi_n4(in, out, n);
#endif
#if defined(__SSE2__)
    for (; k + 2 <= n; k += 2) _mm_storeu_pd(out + k, interpolate_2(cos_tab, _mm_loadu_pd(in + k)));
#endif
    for (; k < n; ++k) out[k] = cos_2pi(in[k]);
  }
#if defined(__SSE2__)
  // interpolate on two lanes: i = (int)(t x kCells) at most kCells - 1 (16-bit min: i's high half
  // is 0), g = s - i, tab[i] + g x (tab[i + 1] - tab[i]).
  static __m128d interpolate_2(const double* tab, __m128d t) {
    const __m128d s = _mm_mul_pd(t, _mm_set1_pd(kCells));
    const __m128i i = _mm_min_epi16(_mm_cvttpd_epi32(s), _mm_set1_epi32(kCells - 1));
    const __m128d g = _mm_sub_pd(s, _mm_cvtepi32_pd(i));
    const __m128d v0 = _mm_loadu_pd(tab + _mm_cvtsi128_si32(i));                          // tab[i0], tab[i0 + 1]
    const __m128d v1 = _mm_loadu_pd(tab + _mm_cvtsi128_si32(_mm_shuffle_epi32(i, 1)));  // tab[i1], tab[i1 + 1]
    const __m128d a = _mm_unpacklo_pd(v0, v1), b = _mm_unpackhi_pd(v0, v1);
    return _mm_add_pd(a, _mm_mul_pd(g, _mm_sub_pd(b, a)));
  }
  // log2 on two lanes: e = (2^52 + exponent field) - (2^52 + 1023), exact, plus the mantissa's.
  __m128d log2_2(__m128d x) const {
    const __m128i bits = _mm_castpd_si128(x);
    const __m128d m = _mm_castsi128_pd(_mm_or_si128(_mm_and_si128(bits, _mm_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                                    _mm_set1_epi64x(0x3FF0000000000000LL)));  // [1, 2)
    const __m128i field = _mm_and_si128(_mm_srli_epi64(bits, 52), _mm_set1_epi64x(0x7FF));
    const __m128d e = _mm_sub_pd(_mm_castsi128_pd(_mm_or_si128(field, _mm_set1_epi64x(0x4330000000000000LL))),
                                 _mm_set1_pd(0x1p52 + 1023.0));
    return _mm_add_pd(e, interpolate_2(log2_tab, _mm_sub_pd(m, _mm_set1_pd(1.0))));
  }
  // exp2 on two lanes: k = truncation, less one where y is below it (floor_fast); 2^k from the low
  // bits of k + (2^52 + 1023) (exact) shifted into the exponent.
  __m128d exp2_2(__m128d y) const {
    const __m128d t = _mm_cvtepi32_pd(_mm_cvttpd_epi32(y));
    const __m128d k = _mm_sub_pd(t, _mm_and_pd(_mm_cmplt_pd(y, t), _mm_set1_pd(1.0)));
    const __m128d scale = _mm_castsi128_pd(_mm_slli_epi64(_mm_castpd_si128(_mm_add_pd(k, _mm_set1_pd(0x1p52 + 1023.0))), 52));
    return _mm_mul_pd(scale, interpolate_2(exp2_tab, _mm_sub_pd(y, k)));
  }
#endif
#if defined(SL_HAVE_AVX2_LANES)
  // The two-lane functions on four lanes, operation for operation. The table's two ends of four
  // cells are four unaligned pairs (as interpolate_2 loads them), regrouped by two unpacks.
  SL_AVX2 static __m256d interpolate_4(const double* tab, __m256d t) {
    const __m256d s = _mm256_mul_pd(t, _mm256_set1_pd(kCells));
    const __m128i i = _mm_min_epi32(_mm256_cvttpd_epi32(s), _mm_set1_epi32(kCells - 1));
    const __m256d g = _mm256_sub_pd(s, _mm256_cvtepi32_pd(i));
    const __m256d v02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(tab + _mm_cvtsi128_si32(i))),
                                             _mm_loadu_pd(tab + _mm_extract_epi32(i, 2)), 1);  // tab[i0], tab[i0 + 1], tab[i2], tab[i2 + 1]
    const __m256d v13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(tab + _mm_extract_epi32(i, 1))),
                                             _mm_loadu_pd(tab + _mm_extract_epi32(i, 3)), 1);  // lanes 1 and 3
    const __m256d a = _mm256_unpacklo_pd(v02, v13), b = _mm256_unpackhi_pd(v02, v13);
    return _mm256_add_pd(a, _mm256_mul_pd(g, _mm256_sub_pd(b, a)));
  }
  SL_AVX2 __m256d log2_4(__m256d x) const {
    const __m256i bits = _mm256_castpd_si256(x);
    const __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                                          _mm256_set1_epi64x(0x3FF0000000000000LL)));  // [1, 2)
    const __m256i field = _mm256_and_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x7FF));
    const __m256d e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(field, _mm256_set1_epi64x(0x4330000000000000LL))),
                                    _mm256_set1_pd(0x1p52 + 1023.0));
    return _mm256_add_pd(e, interpolate_4(log2_tab, _mm256_sub_pd(m, _mm256_set1_pd(1.0))));
  }
  SL_AVX2 __m256d exp2_4(__m256d y) const {
    const __m256d t = _mm256_cvtepi32_pd(_mm256_cvttpd_epi32(y));
    const __m256d k = _mm256_sub_pd(t, _mm256_and_pd(_mm256_cmp_pd(y, t, _CMP_LT_OS), _mm256_set1_pd(1.0)));
    const __m256d scale =
        _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(_mm256_add_pd(k, _mm256_set1_pd(0x1p52 + 1023.0))), 52));
    return _mm256_mul_pd(scale, interpolate_4(exp2_tab, _mm256_sub_pd(y, k)));
  }
  SL_AVX2 __m256d cos_2pi_4(__m256d u) const { return interpolate_4(cos_tab, u); }
  // The array functions' whole groups of four; returns how many were done.
  SL_AVX2 std::size_t log2_n4(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4) _mm256_storeu_pd(out + k, log2_4(_mm256_loadu_pd(in + k)));
    return k;
  }
  SL_AVX2 std::size_t exp2_n4(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4) _mm256_storeu_pd(out + k, exp2_4(_mm256_loadu_pd(in + k)));
    return k;
  }
  SL_AVX2 std::size_t cos_2pi_n4(const double* in, double* out, std::size_t n) const {
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4) _mm256_storeu_pd(out + k, cos_2pi_4(_mm256_loadu_pd(in + k)));
    return k;
  }
#endif

  // Table value at t in [0, 1]: cell i = floor(t x kCells), linear between its two ends.
  static double interpolate(const double* tab, double t) {
    const double s = t * kCells;
    int i = static_cast<int>(s);
    if (i >= kCells) i = kCells - 1;  // t = 1 exactly: the last cell's right end
    const double g = s - i;
    return tab[i] + g * (tab[i + 1] - tab[i]);
  }
};

class TableMath {
 public:
  static constexpr int kCells = TableMathView::kCells;

  TableMath() : tables_(3 * (kCells + 1)) {
    for (int i = 0; i <= kCells; ++i) {
      const double t = static_cast<double>(i) / kCells;
      tables_[i] = std::log2(1.0 + t);
      tables_[(kCells + 1) + i] = std::exp2(t);
      tables_[2 * (kCells + 1) + i] = std::cos(6.283185307179586 * t);
    }
  }
  // Pointers into this object's tables: valid while it lives and is not assigned to.
  TableMathView view() const { return {tables_.data(), tables_.data() + (kCells + 1), tables_.data() + 2 * (kCells + 1)}; }
  double log2(double x) const { return view().log2(x); }
  double exp2(double y) const { return view().exp2(y); }
  double cos_2pi(double u) const { return view().cos_2pi(u); }

 private:
  std::vector<double> tables_;  // log2, exp2, cos: kCells + 1 values each
};

}  // namespace sl
