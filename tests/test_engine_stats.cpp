// sim/stats: the t interval and the pooled ratio with its bootstrap interval, checked by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sim/run/stats.hpp"

using namespace sl;

TEST_CASE("mean_ci95: Student t interval of the finite values") {
  // {1, 2, 3, 6}: mean 3, sample sd sqrt(14/3), se = sd / 2, t(3) = 3.182.
  const Interval a = mean_ci95({1, 2, 3, 6, NAN, INFINITY});
  CHECK(a.n == 4);
  CHECK(a.mean == doctest::Approx(3.0));
  const double half = 3.182 * std::sqrt(14.0 / 3.0) / 2.0;
  CHECK(a.lo == doctest::Approx(3.0 - half));
  CHECK(a.hi == doctest::Approx(3.0 + half));
  const Interval one = mean_ci95({5});
  CHECK((one.mean == 5 && one.lo == 5 && one.hi == 5 && one.n == 1));
  CHECK(std::isnan(mean_ci95({NAN}).mean));
}

TEST_CASE("pooled_ratio_ci95: sum of numerators over sum of denominators, bootstrap interval") {
  // Per-run ratios 2, 3 and 100 (the last on a tiny denominator): their mean is 35, the pooled
  // ratio (20 + 30 + 100) / (10 + 10 + 1) = 150 / 21.
  const std::vector<double> num{20, 30, 100}, den{10, 10, 1};
  const Interval r = pooled_ratio_ci95(num, den);
  CHECK(r.n == 3);
  CHECK(r.mean == doctest::Approx(150.0 / 21.0));
  // Every resample's ratio lies between the smallest and the largest per-run ratio, and the
  // interval contains the pooled ratio.
  CHECK(r.lo >= 2.0);
  CHECK(r.hi <= 100.0);
  CHECK(r.lo <= r.mean);
  CHECK(r.hi >= r.mean);
  // Deterministic.
  const Interval again = pooled_ratio_ci95(num, den);
  CHECK((again.lo == r.lo && again.hi == r.hi));
  // Identical runs: no spread.
  const Interval same = pooled_ratio_ci95({4, 4, 4}, {2, 2, 2});
  CHECK((same.mean == 2.0 && same.lo == 2.0 && same.hi == 2.0));
  // Non-finite runs are left out; a zero pooled denominator gives NaN.
  const Interval part = pooled_ratio_ci95({6, NAN, 2}, {3, 1, 1});
  CHECK(part.n == 2);
  CHECK(part.mean == doctest::Approx(2.0));
  CHECK(std::isnan(pooled_ratio_ci95({0, 0}, {0, 0}).mean));
  CHECK(std::isnan(pooled_ratio_ci95({}, {}).mean));
  CHECK_THROWS(pooled_ratio_ci95({1}, {1, 2}));
}
