#include "sim/sweep/run_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/liquidation/dutch_curve.hpp"
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

namespace {

std::string fmt(double x, const char* f = "%.4g") {
  char b[64];
  std::snprintf(b, sizeof b, f, x);
  return b;
}

// The Dutch curve's description for messages: "buf 1.3, stairstep_exponential cut 0.99 per 90 s".
std::string curve_text(const DutchConfig& d) {
  std::string s = "perp.liquidation.dutch buf " + fmt(d.buf) + ", " + d.curve;
  if (d.curve == "linear") return s + " tau_s " + fmt(d.tau_s);
  return s + " cut " + fmt(d.cut) + " per " + fmt(d.step_s) + " s";
}

}  // namespace

void check_auction_reaches_index(const ScenarioConfig& sc, const std::string& policy, const std::string& where) {
  const DutchConfig& d = sc.perp.liquidation.dutch;
  const DutchCurve curve = parse_dutch_curve(d.curve);
  const double dt = sc.dt_s;
  // The price multiple of the index at t seconds after the kick, and whether the auction still
  // runs then (the reset rule ends a hierarchy stage and redoes a `dutch` auction).
  auto multiple = [&](double t) { return d.buf * dutch_price_factor(curve, d, t); };
  auto running = [&](double t) { return !dutch_needs_reset(d, t, dutch_price_factor(curve, d, t)); };
  // First step k >= 0 after the kick at which the price is at or below the index while running.
  constexpr std::int64_t kLimit = 10'000'000;
  std::int64_t first = -1;
  for (std::int64_t k = 0; k < kLimit; ++k) {
    const double t = static_cast<double>(k) * dt;
    if (!running(t)) break;
    if (multiple(t) <= 1.0) {
      first = k;
      break;
    }
  }
  if (policy == "dutch") {
    if (first < 0)
      throw SweepError(where + ": policy dutch: the auction's price never reaches the index before its reset rule "
                       "(perp.liquidation.dutch tail_s " + fmt(d.tail_s) + ", cusp " + fmt(d.cusp) + ") redoes it (" +
                       curve_text(d) + "), so no bidder can take; lower buf, cut faster or raise tail_s / lower cusp");
    return;
  }
  if (policy != "hierarchy") return;
  const int timeout = sc.perp.liquidation.hierarchy.auction_timeout_steps;
  if (timeout <= 0) return;
  const double t_last = static_cast<double>(timeout - 1) * dt;
  if (first >= 0 && first <= timeout - 1) return;
  std::string msg = where + ": perp.liquidation.hierarchy.auction_timeout_steps " + std::to_string(timeout) + " (" +
                    fmt(static_cast<double>(timeout) * dt) + " s at dt_s " + fmt(dt) +
                    "): the auction stage's price at its last step is still " + fmt(multiple(t_last), "%.3f") +
                    " x the index (" + curve_text(d) + "), so no bidder valuing a lot at or below the index can take and the "
                    "stage is a wait, not a sale; allowed: ";
  if (first >= 0)
    msg += "a timeout of at least " + std::to_string(first + 1) + " steps, ";
  else
    msg += "(no timeout works: the reset rule, tail_s " + fmt(d.tail_s) + " / cusp " + fmt(d.cusp) + ", ends the stage first) ";
  msg += "a Dutch curve that reaches the index sooner, or 0 (no auction stage)";
  throw SweepError(msg);
}

void check_auctions_reach_index(const std::vector<SweepPoint>& points, const std::vector<std::string>& policies,
                                const std::string& origin) {
  for (const SweepPoint& pt : points) {
    std::string where = origin;
    if (!pt.params.empty()) {
      where += " (grid point";
      for (std::size_t i = 0; i < pt.params.size(); ++i)
        where += (i ? ", " : " ") + pt.params[i].first + "=" + pt.params[i].second;
      where += ")";
    }
    for (const auto& p : policies) check_auction_reaches_index(pt.scenario, p, where);
  }
}

RunPlan plan_run(const ScenarioConfig& scenario, const std::vector<std::string>& policies, std::uint64_t first_seed,
                 std::int64_t n_seeds, const std::string& policy_option, const std::string& seeds_option) {
  check_seed_count(n_seeds, seeds_option);
  check_policy_list(policies, policy_option);
  const std::string where = scenario.source_file.empty() ? std::string("scenario") : scenario.source_file;
  for (const auto& p : policies) check_auction_reaches_index(scenario, p, where);
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
