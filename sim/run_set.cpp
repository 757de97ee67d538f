#include "sim/run_set.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include "sim/simulation.hpp"

namespace sl {

std::vector<RunSpec> plan_runs(const std::vector<std::string>& policies, std::uint64_t first_seed, int n_seeds) {
  std::vector<RunSpec> out;
  out.reserve(policies.size() * static_cast<std::size_t>(std::max(0, n_seeds)));
  std::int64_t idx = 0;
  for (const auto& p : policies)
    for (int k = 0; k < n_seeds; ++k) out.push_back(RunSpec{p, first_seed + static_cast<std::uint64_t>(k), idx++});
  return out;
}

void run_set(const ScenarioConfig& sc, const std::vector<RunSpec>& runs, const RunSetOptions& opt) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = opt.threads > 0 ? opt.threads : hw;
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  const std::size_t chunk = static_cast<std::size_t>(threads) * 2;
  std::vector<std::optional<RunResult>> slots(chunk);
  for (std::size_t begin = 0; begin < runs.size(); begin += chunk) {
    const std::size_t end = std::min(runs.size(), begin + chunk);
    tbb::parallel_for(begin, end, [&](std::size_t i) {
      RunOptions ro;
      ro.seed = runs[i].seed;
      ro.run_index = runs[i].run_index;
      ro.policy = runs[i].policy;
      ro.cancel = opt.cancel;
      slots[i - begin] = run_simulation(sc, ro);
    });
    for (std::size_t i = begin; i < end; ++i) {
      if (opt.consume) opt.consume(std::move(*slots[i - begin]));
      slots[i - begin].reset();
    }
    if (opt.progress) opt.progress(end, runs.size());
  }
}

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

}  // namespace sl
