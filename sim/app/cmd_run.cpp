// `stresslab run`: one scenario, one or more policies x seeds, one results file and the comparison table.
// Runs through sim/sweep_runner (one grid point, no params), so an interrupted run is resumable.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/app/cli_common.hpp"
#include "sim/app/sweep_cli.hpp"
#include "sim/run/stats.hpp"
#include "sim/run/simulation.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace sl::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRunUsage =
    "Usage: stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b] [--threads N] [--out FILE.h5] [--set PATH=VALUE ...] [--resume] [--quiet]";

// The comparison table of model.md section 7 / issue #4: mean and 95% interval per metric per policy.
void print_comparison(const std::vector<std::string>& policies,
                      const std::vector<std::vector<std::pair<std::string, double>>>& summaries,
                      const std::vector<std::string>& run_policy) {
  const char* metrics[][2] = {{"bad_debt", "bad debt"},
                              {"underwater_equity_at_end", "unrealised bad debt"},
                              {"fund_borrowed_at_end", "fund borrowed at end"},
                              {"flagged_at_end", "flagged at end"},
                              {"insurance_fund_min", "insurance fund min"},
                              {"liquidated_notional", "liquidated notional"},
                              {"mean_slippage_bps", "mean slippage bps"},
                              {"p95_slippage_bps", "p95 slippage bps"},
                              {"cascade_amplification", "cascade amplification"},
                              {"pooled:cascade_amplification", "  pooled over seeds"},
                              {"adl_count", "ADL count"},
                              {"penalties_paid", "user penalties"},
                              {"liquidator_profit", "liquidator profit"},
                              // The basis loop (issue #13, sim/run/loop_metrics.hpp).
                              {"basis_traders_liquidated", "basis traders liquidated"},
                              {"basis_traders_liquidated_endogenous", "  of them endogenous"},
                              {"basis_traders_closed_out", "  of them closed out"},
                              {"basis_loop_chain_max", "basis loop chain"},
                              {"funding_paid_hedged", "funding paid by hedged"},
                              {"delta_leakage", "delta leakage quote-s"},
                              {"delta_leakage_hedged", "  of hedged accounts"},
                              {"max_abs_premium_bps", "max |premium| bps"}};
  std::printf("\n%-24s", "metric (mean [95% CI])");
  for (const auto& p : policies) std::printf(" %34s", p.c_str());
  std::printf("\n");
  auto values_of = [&](const std::string& policy, const std::string& metric) {
    std::vector<double> v;
    for (std::size_t i = 0; i < summaries.size(); ++i) {
      if (run_policy[i] != policy) continue;
      for (const auto& [k, x] : summaries[i])
        if (k == metric) v.push_back(x);
    }
    return v;
  };
  for (const auto& m : metrics) {
    std::printf("%-24s", m[1]);
    const bool pooled = std::string(m[0]) == "pooled:cascade_amplification";
    for (const auto& p : policies) {
      // Pooled amplification: all runs' liquidated notional / all runs' exogenous part, with a
      // bootstrap interval over seeds (the per-run ratio above explodes on runs with a tiny
      // exogenous part). Runs without liquidations add 0 / 0 and so do not change it.
      const std::vector<double> v = pooled ? values_of(p, "liquidated_notional") : values_of(p, m[0]);
      const sl::Interval ci =
          pooled ? sl::pooled_ratio_ci95(v, values_of(p, "exogenous_liquidated_notional")) : sl::mean_ci95(v);
      char cell[96];
      if (ci.n == 0)
        std::snprintf(cell, sizeof cell, "n/a");
      else if (ci.n < v.size())
        std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g] n=%zu", ci.mean, ci.lo, ci.hi, ci.n);
      else
        std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g]", ci.mean, ci.lo, ci.hi);
      std::printf(" %34s", cell);
    }
    std::printf("\n");
  }
  std::printf("(n=K: only K runs had a finite value, e.g. no liquidation -> no slippage or amplification;\n"
              " pooled amplification = sum of liquidated / sum of exogenous notional, 95%% bootstrap over seeds)\n");
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts = command_options("run options", "scenario", "scenario file");
  opts.add_options()("seed", po::value<std::uint64_t>(), "first seed (default: the scenario's seed)")(
      "seeds", po::value<int>()->default_value(1), "number of seeds: seed, seed+1, ...")(
      "policy", po::value<std::string>(), "comma-separated liquidation policies (default: the scenario's)")(
      "out", po::value<std::string>(), "results file (default: results/<scenario name>.h5)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE (repeatable)");
  add_run_control_options(opts, resume_into_out_help("run"));
  po::variables_map vm;
  if (auto rc = parse_command(args, opts, "scenario", kRunUsage, vm)) return *rc;
  const bool quiet = vm.count("quiet") > 0;
  std::vector<std::string> sets = set_overrides(vm);
  const sl::ScenarioConfig sc = sl::load_scenario_file(vm["scenario"].as<std::string>(), sets);
  const std::uint64_t seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : sc.seed;
  const int n_seeds = vm["seeds"].as<int>();
  if (n_seeds < 1 || n_seeds > 1'000'000) throw UsageError("--seeds " + std::to_string(n_seeds) + ": must be in [1, 1000000]");
  threads_option(vm);  // a bad --threads is a usage error before any run starts
  std::vector<std::string> policies =
      vm.count("policy") ? split_list(vm["policy"].as<std::string>()) : std::vector<std::string>{sc.perp.liquidation.policy};
  check_policies(policies);
  std::string out = vm.count("out") ? vm["out"].as<std::string>() : "results/" + sc.name + ".h5";
  // Check the output location before spending time on the runs (bad path = bad input).
  check_out_path(out, !vm.count("out"));

  // One grid point, no params: the same resumable machinery as `stresslab sweep`.
  const std::vector<sl::SweepPoint> points{sl::SweepPoint{sc, {}}};
  const std::vector<sl::SweepRunSpec> runs = sl::plan_sweep(1, policies, seed, n_seeds);
  const bool single = runs.size() == 1;
  std::vector<std::vector<std::pair<std::string, double>>> summaries;
  std::vector<std::string> run_policy;
  sl::RunResult first;
  const auto t0 = std::chrono::steady_clock::now();
  SweepCliOptions so = sweep_cli_options(vm, out, sc.source_json, seed);
  so.on_result = [&](const sl::RunResult& r) {
    summaries.push_back(r.summary);
    run_policy.push_back(r.policy);
    if (single) first = r;
  };
  const sl::SweepOutcome outcome = execute_sweep(points, runs, so);
  if (!is_printing_rank()) return outcome.complete ? kExitOk : kExitInterrupted;
  if (!outcome.complete) return report_incomplete(outcome, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!quiet) {
    std::cout << "stresslab " << sl::kVersion << "  scenario " << sc.name << "  " << runs.size() << " run(s): "
              << policies.size() << " polic" << (policies.size() == 1 ? "y" : "ies") << " x " << n_seeds
              << " seed(s) from " << seed << ", " << fmt(secs, 2) << " s wall\n";
    std::cout << "  conservation: exact in every run (every asset sums to 0 over all accounts)\n";
    if (single) {
      for (const auto& [k, v] : first.summary) std::printf("  %-30s %14.4f\n", k.c_str(), v);
    } else {
      print_comparison(policies, summaries, run_policy);
    }
    std::cout << "  results: " << out << "\n";
  }
  return kExitOk;
}

}  // namespace sl::cli
