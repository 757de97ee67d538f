// A set of runs of one scenario: every (policy, seed) pair, run in parallel with oneTBB and handed
// to a consumer in a fixed order (policy-major, then seed), so the results file and every figure
// derived from it are bit-identical whatever the thread count. Policies are compared on common
// random numbers: seed k gives the same exogenous path and the same agents' draws under every
// policy; only the liquidation mechanism differs.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/run_result.hpp"

namespace sl {

struct RunSpec {
  std::string policy;
  std::uint64_t seed = 0;
  std::int64_t run_index = 0;
};

// Policy-major order: run_index = policy_position * n_seeds + seed_position.
std::vector<RunSpec> plan_runs(const std::vector<std::string>& policies, std::uint64_t first_seed, int n_seeds);

struct RunSetOptions {
  int threads = 0;                      // 0: all cores
  const std::atomic<bool>* cancel = nullptr;
  // Called (from the calling thread, in run order) with each finished run.
  std::function<void(RunResult&&)> consume;
  // Called after each chunk with (runs done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// Runs everything; memory stays bounded by processing chunks of a few runs per thread and
// consuming each chunk in order before starting the next.
void run_set(const ScenarioConfig& scenario, const std::vector<RunSpec>& runs, const RunSetOptions& options);

// Mean and 95% confidence interval (Student t) of the finite values; n = how many were finite.
struct Interval {
  double mean = 0, lo = 0, hi = 0;
  std::size_t n = 0;
};
Interval mean_ci95(const std::vector<double>& values);

}  // namespace sl
