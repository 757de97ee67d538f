// Small statistics over the runs of one policy (or one calibration cell): the mean with its
// Student-t 95% interval, and a pooled ratio (sum of numerators / sum of denominators over runs)
// with a percentile-bootstrap 95% interval over runs. Both are deterministic.
#pragma once
#include <cstddef>
#include <vector>

namespace sl {

// Mean and 95% confidence interval (Student t) of the finite values; n = how many were finite.
struct Interval {
  double mean = 0, lo = 0, hi = 0;
  std::size_t n = 0;
};
Interval mean_ci95(const std::vector<double>& values);

// Pooled ratio sum(num) / sum(den) over the runs whose num and den are both finite (n of them),
// with the 2.5 / 97.5 nearest-rank percentiles of the same ratio over `resamples` bootstrap
// resamples of those runs (SplitMix64 from a fixed seed: the interval is a pure function of the
// inputs). `mean` holds the pooled ratio. Why pooled: a per-run ratio such as cascade
// amplification (total / exogenous liquidated notional) explodes on runs with a tiny exogenous
// part, so the mean of per-run ratios is dominated by a few seeds; the pooled ratio weighs every
// run by its size. Empty input or a zero pooled denominator: all NaN.
Interval pooled_ratio_ci95(const std::vector<double>& num, const std::vector<double>& den, int resamples = 2000);

}  // namespace sl
