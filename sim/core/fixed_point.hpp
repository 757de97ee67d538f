// Fixed-point value types. Every amount the ledger holds is an int64 count of micro-units (1e-6)
// of its asset; prices are integer ticks, quantities integer lots. Decimal inputs become fixed-point
// once, at load time, by rounding to nearest (never by truncating value * scale).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace sl {

using Tick = std::int64_t;    // price in integer ticks of the venue's tick size
using Lots = std::int64_t;    // quantity in integer lots of the venue's lot size
using Micros = std::int64_t;  // amount of an asset in micro-units (1e-6 of one unit)

inline constexpr std::int64_t kMicrosPerUnit = 1'000'000;

// Rounds value * scale to the nearest integer (halves away from zero). Throws std::range_error for
// NaN, infinities and results outside int64. 0.29 * 1e6 = 289999.99999999994 in binary floating
// point: truncation would give 289999, rounding gives the intended 290000.
// std::llround(x) for |x| < 9.2e18, without the libm call (it is made for every booked position and
// every fill): the integer part by truncation, then one step away from zero when the fraction is at
// least a half. x - trunc(x) is exact in binary floating point, so the comparison with 0.5 is too:
// the same integer as llround for every such x (tested against it, halves included). The step is
// added as the comparisons' 0 / 1, not chosen by a branch: the fraction of a drawn or traded amount
// is as likely above a half as below, and a branch on it is mispredicted half the time (at set-up,
// a million positions' amounts, that was most of the cost of converting them).
inline std::int64_t llround_in_range(double x) {
  const auto t = static_cast<std::int64_t>(x);  // toward zero
  const double frac = x - static_cast<double>(t);
  return t + static_cast<std::int64_t>(frac >= 0.5) - static_cast<std::int64_t>(frac <= -0.5);
}

inline std::int64_t to_fixed(double value, double scale) {
  const double x = value * scale;
  if (!std::isfinite(x)) throw std::range_error("value is not a finite number");
  if (x >= 9.2e18 || x <= -9.2e18) throw std::range_error("value out of fixed-point range");
  return llround_in_range(x);
}

inline double from_micros(Micros m) { return static_cast<double>(m) / static_cast<double>(kMicrosPerUnit); }

// Exact signed multiply with overflow detection (used for notional = ticks * lots * unit).
inline std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw std::overflow_error("fixed-point multiply overflow");
  return r;
}
inline std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw std::overflow_error("fixed-point add overflow");
  return r;
}

}  // namespace sl
