#include "sim/sweep/run_plan.hpp"

#include <algorithm>

#include "sim/liquidation/policy.hpp"
#include "sim/version.hpp"

namespace sl {

void check_policy_list(const std::vector<std::string>& policies, const std::string& option) {
  if (policies.empty()) throw SweepError(option + ": empty list");
  const auto& ok = implemented_policies();
  for (const auto& p : policies) {
    if (std::find(ok.begin(), ok.end(), p) == ok.end()) {
      std::string allowed;
      for (const auto& a : ok) allowed += (allowed.empty() ? "" : ", ") + a;
      throw SweepError(option + " " + p + ": unknown or not implemented (allowed: " + allowed + ")");
    }
    if (std::count(policies.begin(), policies.end(), p) > 1) throw SweepError(option + " " + p + ": listed twice");
  }
}

void check_seed_count(std::int64_t n_seeds, const std::string& option) {
  if (n_seeds < 1 || n_seeds > kMaxRunSeeds)
    throw SweepError(option + " " + std::to_string(n_seeds) + ": must be in [1, " + std::to_string(kMaxRunSeeds) + "]");
}

void check_thread_count(std::int64_t threads, const std::string& option) {
  if (threads < 0 || threads > kMaxThreads)
    throw SweepError(option + " " + std::to_string(threads) + ": must be in [0, " + std::to_string(kMaxThreads) + "]");
}

RunPlan plan_run(const ScenarioConfig& scenario, const std::vector<std::string>& policies, std::uint64_t first_seed,
                 std::int64_t n_seeds, const std::string& policy_option, const std::string& seeds_option) {
  check_seed_count(n_seeds, seeds_option);
  check_policy_list(policies, policy_option);
  RunPlan plan;
  plan.points.push_back(SweepPoint{scenario, {}});
  plan.runs = plan_sweep(1, policies, first_seed, static_cast<int>(n_seeds));
  plan.attrs = results_file_attributes(scenario.source_json, first_seed);
  return plan;
}

FileAttributes results_file_attributes(const std::string& scenario_json, std::uint64_t first_seed) {
  return FileAttributes{kVersion, kGitCommit, scenario_json, first_seed};
}

}  // namespace sl
