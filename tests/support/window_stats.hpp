// Test helpers for the stylised facts of stress (issue #14 item 6): a series column's mean over a
// time window, and a median over seeds.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"
#include "tests/support/run_lookup.hpp"

namespace sl::test {

// Mean of a series column over the rows whose time_s is in [from_s, to_s), skipping NaN (a
// one-sided book has no spread). time_s is the end of the step: step t has time_s (t + 1) x dt_s.
inline double window_mean(const RunResult& r, const std::string& column, double from_s, double to_s) {
  const std::vector<double>& t = series(r, "time_s");
  const std::vector<double>& x = series(r, column);
  double sum = 0;
  int n = 0;
  for (std::size_t i = 0; i < t.size() && i < x.size(); ++i)
    if (t[i] >= from_s && t[i] < to_s && std::isfinite(x[i])) {
      sum += x[i];
      ++n;
    }
  REQUIRE(n > 0);
  return sum / n;
}

// The perp's depth within 1% of its mid, both sides summed (base units), mean over [from_s, to_s).
inline double perp_depth_1pct(const RunResult& r, double from_s, double to_s) {
  return window_mean(r, "perp_bid_depth_1pct", from_s, to_s) + window_mean(r, "perp_ask_depth_1pct", from_s, to_s);
}

// The perp book before and during a shock: depth within 1% (both sides, base units) and spread
// (bps), each the mean over its window [from_s, to_s).
struct PerpThinning {
  double depth_before, depth_during, spread_before, spread_during;
  double depth_ratio() const { return depth_during / depth_before; }
  double spread_ratio() const { return spread_during / spread_before; }
};

inline PerpThinning perp_thinning(const RunResult& r, double before_from_s, double before_to_s, double during_from_s,
                                  double during_to_s) {
  return {perp_depth_1pct(r, before_from_s, before_to_s), perp_depth_1pct(r, during_from_s, during_to_s),
          window_mean(r, "perp_spread_bps", before_from_s, before_to_s),
          window_mean(r, "perp_spread_bps", during_from_s, during_to_s)};
}

inline double median_of(std::vector<double> v) {
  REQUIRE(!v.empty());
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace sl::test
