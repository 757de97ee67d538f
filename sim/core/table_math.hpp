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
#include <cstdint>
#include <vector>

namespace sl {

// floor and round-to-nearest-even without a libm call (x86-64's baseline has no SSE4.1 roundsd, so
// std::floor / std::nearbyint are calls): the same values as std::floor(x) for |x| < 2^63 and
// std::nearbyint(x) (default rounding mode) for 0 <= x < 2^52.
inline double floor_fast(double x) {
  const double t = static_cast<double>(static_cast<std::int64_t>(x));  // truncation toward zero
  return t > x ? t - 1.0 : t;
}
inline double ceil_fast(double x) {
  const double t = static_cast<double>(static_cast<std::int64_t>(x));
  return t < x ? t + 1.0 : t;
}
inline double round_nonneg_fast(double x) {
  constexpr double k2p52 = 4503599627370496.0;  // adding 2^52 leaves no fraction bits: the FPU rounds half to even
  return x < k2p52 ? (x + k2p52) - k2p52 : x;
}

class TableMath {
 public:
  static constexpr int kCells = 4096;  // 2^12 cells per table

  TableMath() : log2_(kCells + 1), exp2_(kCells + 1), cos_(kCells + 1) {
    for (int i = 0; i <= kCells; ++i) {
      const double t = static_cast<double>(i) / kCells;
      log2_[i] = std::log2(1.0 + t);
      exp2_[i] = std::exp2(t);
      cos_[i] = std::cos(6.283185307179586 * t);
    }
  }

  // log2(x) for a positive normal x: the exponent's bits plus the interpolated log2 of the mantissa.
  double log2(double x) const {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
    const int e = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);  // [1, 2)
    return e + interpolate(log2_, m - 1.0);
  }
  // 2^y for y in [-1022, 1023]: 2^floor(y) exactly (the exponent's bits) times the interpolated 2^frac.
  double exp2(double y) const {
    const double k = floor_fast(y);
    const double scale = std::bit_cast<double>(static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52);
    return scale * interpolate(exp2_, y - k);
  }
  // cos(2 pi u) for u in [0, 1].
  double cos_2pi(double u) const { return interpolate(cos_, u); }

 private:
  // Table value at t in [0, 1]: cell i = floor(t x kCells), linear between its two ends.
  static double interpolate(const std::vector<double>& tab, double t) {
    const double s = t * kCells;
    int i = static_cast<int>(s);
    if (i >= kCells) i = kCells - 1;  // t = 1 exactly: the last cell's right end
    const double g = s - i;
    return tab[static_cast<std::size_t>(i)] + g * (tab[static_cast<std::size_t>(i) + 1] - tab[static_cast<std::size_t>(i)]);
  }
  std::vector<double> log2_, exp2_, cos_;
};

}  // namespace sl
