#include "sim/run/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace sl {

namespace {
// Two-sided 95% Student t quantiles for 1..30 degrees of freedom; beyond, the normal value with
// the usual first-order correction.
double t975(std::size_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return NAN;
  if (df <= 30) return table[df - 1];
  return 1.959964 + 2.37 / static_cast<double>(df);
}
}  // namespace

Interval mean_ci95(const std::vector<double>& values) {
  Interval r;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++r.n;
  if (r.n == 0) {
    r.mean = r.lo = r.hi = NAN;
    return r;
  }
  r.mean = sum / static_cast<double>(r.n);
  if (r.n == 1) {
    r.lo = r.hi = r.mean;
    return r;
  }
  double ss = 0;
  for (double v : values)
    if (std::isfinite(v)) ss += (v - r.mean) * (v - r.mean);
  const double se = std::sqrt(ss / static_cast<double>(r.n - 1) / static_cast<double>(r.n));
  r.lo = r.mean - t975(r.n - 1) * se;
  r.hi = r.mean + t975(r.n - 1) * se;
  return r;
}


Interval pooled_ratio_ci95(const std::vector<double>& num, const std::vector<double>& den, int resamples) {
  if (num.size() != den.size()) throw std::invalid_argument("pooled_ratio_ci95: num and den differ in length");
  std::vector<double> x, y;
  for (std::size_t i = 0; i < num.size(); ++i)
    if (std::isfinite(num[i]) && std::isfinite(den[i])) x.push_back(num[i]), y.push_back(den[i]);
  Interval r;
  r.n = x.size();
  r.mean = r.lo = r.hi = NAN;
  double sx = 0, sy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i];
  if (x.empty() || sy == 0) return r;
  r.mean = sx / sy;
  if (x.size() == 1 || resamples < 1) {
    r.lo = r.hi = r.mean;
    return r;
  }
  std::uint64_t state = 0x5354524553534C42ull;  // fixed: "STRESSLB"
  auto next = [&state] {  // SplitMix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::vector<double> ratios;
  ratios.reserve(static_cast<std::size_t>(resamples));
  const std::uint64_t n = x.size();
  for (int b = 0; b < resamples; ++b) {
    double bx = 0, by = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::size_t i = static_cast<std::size_t>(next() % n);
      bx += x[i], by += y[i];
    }
    if (by != 0) ratios.push_back(bx / by);
  }
  if (ratios.empty()) return r;
  std::sort(ratios.begin(), ratios.end());
  auto rank = [&](double q) {  // nearest rank
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ratios.size())));
    return ratios[std::min(ratios.size() - 1, k == 0 ? 0 : k - 1)];
  };
  r.lo = rank(0.025);
  r.hi = rank(0.975);
  return r;
}

}  // namespace sl
