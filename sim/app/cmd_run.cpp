// `stresslab run`: one scenario, one or more policies x seeds, one results file and the comparison table.
// Runs through sim/sweep_runner (one grid point, no params), so an interrupted run is resumable.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/app/cli_common.hpp"
#include "sim/app/sweep_cli.hpp"
#include "sim/app/table_format.hpp"
#include "sim/run/stats.hpp"
#include "sim/run/simulation.hpp"
#include "sim/sweep/run_plan.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace sl::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRunUsage =
    "Usage: stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b] [--threads N] [--out FILE.h5] [--set PATH=VALUE ...] [--resume] [--quiet] [--format table|csv|json]";

struct Metric {
  const char* key;
  const char* label;
  std::string unit;
};

// One metric's values per seed for one policy (NaN where the run's value is not finite or missing).
std::map<std::uint64_t, double> by_seed(const std::vector<SummaryRow>& rows, const std::string& policy, const std::string& metric) {
  std::map<std::uint64_t, double> out;
  for (const SummaryRow& r : rows) {
    if (r.policy != policy) continue;
    for (const auto& [k, x] : r.metrics)
      if (k == metric) out[r.seed] = x;
  }
  return out;
}

// A table cell: "mean [lo, hi]" in engineering notation, "n/a" without a finite value, and " n=K"
// when only K of the `runs` values entered the interval.
std::string interval_cell(const sl::Interval& ci, std::size_t runs) {
  std::string cell = ci.n == 0 ? "n/a" : eng(ci.mean) + " [" + eng(ci.lo) + ", " + eng(ci.hi) + "]";
  if (ci.n > 0 && ci.n < runs) cell += " n=" + std::to_string(ci.n);
  return cell;
}

// The policies ran on common random numbers (seed k: the same exogenous path and agents' draws under
// every policy), so the statistic for "does policy p differ from the first policy" is the per-seed
// difference v_p(k) - v_first(k), whose spread over seeds is far smaller than either policy's own
// when both move with the seed. One row per metric (pooled amplification left out: it is one ratio
// over all seeds, not a per-seed value), one column per other policy: mean and 95% Student-t
// interval of the differences over the seeds where both values are finite (n=K as above).
void print_paired_differences(const std::vector<std::string>& policies, const std::vector<SummaryRow>& rows,
                              const std::vector<Metric>& metrics) {
  if (policies.size() < 2) return;
  const std::string& base = policies.front();
  if (by_seed(rows, base, "bad_debt").size() < 2) return;  // one seed: no interval
  TextTable t;
  t.key_headers = {"paired \u0394 vs " + base + " [95% CI]", "unit"};
  t.value_headers.assign(policies.begin() + 1, policies.end());
  for (const Metric& m : metrics) {
    if (std::string(m.key).rfind("pooled:", 0) == 0) continue;
    TextTable::Row row{{std::string("\u0394 ") + m.label, m.unit}, {}};
    const std::map<std::uint64_t, double> b = by_seed(rows, base, m.key);
    for (std::size_t j = 1; j < policies.size(); ++j) {
      std::vector<double> d;
      std::size_t seeds = 0;
      for (const auto& [seed, x] : by_seed(rows, policies[j], m.key)) {
        const auto it = b.find(seed);
        if (it == b.end()) continue;
        ++seeds;
        if (std::isfinite(x) && std::isfinite(it->second)) d.push_back(x - it->second);
      }
      const sl::Interval ci = sl::mean_ci95(d);
      row.values.push_back(interval_cell(ci, seeds));
    }
    t.rows.push_back(std::move(row));
  }
  std::printf("\n%s", render(t).c_str());
  std::printf("(\u0394: per-seed difference policy - %s on the same seed (common random numbers), mean and 95%%\n"
              " Student-t interval over seeds; an interval that excludes 0 is a difference the seeds agree on)\n",
              base.c_str());
}

// The comparison table of model.md section 7 / issue #4: mean and 95% interval per metric per
// policy, one row per metric with its unit, one column per policy (split into blocks of policies
// when they do not fit in kMaxTableWidth columns).
void print_comparison(const std::vector<std::string>& policies, const std::vector<SummaryRow>& rows,
                      const std::string& quote_unit) {
  const std::vector<Metric> metrics = {{"bad_debt", "bad debt", quote_unit},
                                       {"underwater_equity_at_end", "unrealised bad debt", quote_unit},
                                       {"fund_borrowed_at_end", "fund borrowed at end", quote_unit},
                                       {"flagged_at_end", "flagged at end", "accounts"},
                                       {"insurance_fund_min", "insurance fund min", quote_unit},
                                       {"liquidated_notional", "liquidated notional", quote_unit},
                                       {"mean_slippage_bps", "mean slippage", "bps"},
                                       {"notional_slippage_bps", "  notional-weighted", "bps"},
                                       {"p95_slippage_bps", "p95 slippage", "bps"},
                                       {"cascade_amplification", "cascade amplification", "x"},
                                       {"pooled:cascade_amplification", "  pooled over seeds", "x"},
                                       {"adl_count", "ADL count", "count"},
                                       {"penalties_paid", "user penalties", quote_unit},
                                       {"liquidator_profit", "liquidator profit", quote_unit},
                                       // The basis loop (issue #13, sim/run/loop_metrics.hpp).
                                       {"basis_traders_liquidated", "basis traders liquidated", "accounts"},
                                       {"basis_traders_liquidated_endogenous", "  of them endogenous", "accounts"},
                                       {"basis_traders_closed_out", "  of them closed out", "accounts"},
                                       {"basis_loop_chain_max", "basis loop chain", "accounts"},
                                       {"funding_paid_hedged", "funding paid by hedged", quote_unit},
                                       {"delta_leakage", "delta leakage", quote_unit + "-s"},
                                       {"delta_leakage_hedged", "  of hedged accounts", quote_unit + "-s"},
                                       {"delta_leakage_inherited", "  of fund and backstop", quote_unit + "-s"},
                                       {"max_abs_premium_bps", "max |premium|", "bps"}};
  auto values_of = [&](const std::string& policy, const std::string& metric) {
    std::vector<double> v;
    for (const SummaryRow& r : rows) {
      if (r.policy != policy) continue;
      for (const auto& [k, x] : r.metrics)
        if (k == metric) v.push_back(x);
    }
    return v;
  };
  TextTable t;
  t.key_headers = {"metric: mean [95% CI]", "unit"};
  t.value_headers = policies;
  for (const Metric& m : metrics) {
    TextTable::Row row{{m.label, m.unit}, {}};
    const bool pooled = std::string(m.key) == "pooled:cascade_amplification";
    for (const auto& p : policies) {
      // Pooled amplification: all runs' liquidated notional / all runs' exogenous part, with a
      // bootstrap interval over seeds (the per-run ratio above explodes on runs with a tiny
      // exogenous part). Runs without liquidations add 0 / 0 and so do not change it.
      const std::vector<double> v = pooled ? values_of(p, "liquidated_notional") : values_of(p, m.key);
      const sl::Interval ci =
          pooled ? sl::pooled_ratio_ci95(v, values_of(p, "exogenous_liquidated_notional")) : sl::mean_ci95(v);
      row.values.push_back(interval_cell(ci, v.size()));
    }
    t.rows.push_back(std::move(row));
  }
  std::printf("\n%s", render(t).c_str());
  std::printf("(95%% CI: Student t over seeds; n=K: only K runs had a finite value, e.g. no liquidation -> no\n"
              " slippage or amplification; pooled amplification = sum of liquidated / sum of exogenous notional,\n"
              " 95%% bootstrap over seeds; k = 1e3, M = 1e6, G = 1e9)\n");
  print_paired_differences(policies, rows, metrics);
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
  add_format_option(opts, "table (default): the comparison table; csv or json: every run's summary row (the "
                          "results file's /summary) on stdout");
  PrintingCommand cmd;
  if (auto rc = parse_printing_command(args, opts, "scenario", kRunUsage, cmd)) return *rc;
  const po::variables_map& vm = cmd.vm;
  const sl::ScenarioConfig sc = sl::load_scenario_file(vm["scenario"].as<std::string>(), set_overrides(vm));
  const std::uint64_t seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : sc.seed;
  const int n_seeds = vm["seeds"].as<int>();
  threads_option(vm);  // a bad --threads is a usage error before any run starts
  std::vector<std::string> policies =
      vm.count("policy") ? split_list(vm["policy"].as<std::string>()) : std::vector<std::string>{sc.perp.liquidation.policy};
  // The same checks and plan as stresslab.run in Python (sim/sweep/run_plan.hpp).
  const sl::RunPlan plan = sl::plan_run(sc, policies, seed, n_seeds, "--policy", "--seeds");
  std::string out = vm.count("out") ? vm["out"].as<std::string>() : "results/" + sc.name + ".h5";
  // Check the output location before spending time on the runs (bad path = bad input).
  check_out_path(out, !vm.count("out"));

  // One grid point, no params: the same resumable machinery as `stresslab sweep`.
  const std::vector<sl::SweepPoint>& points = plan.points;
  const std::vector<sl::SweepRunSpec>& runs = plan.runs;
  const bool single = runs.size() == 1;
  std::vector<SummaryRow> rows;
  sl::RunResult first;
  const auto t0 = std::chrono::steady_clock::now();
  SweepCliOptions so = sweep_cli_options(vm, out, sc.source_json, seed);
  so.on_result = [&](const sl::RunResult& r) {
    rows.push_back(summary_row(r));
    if (single) first = r;
  };
  const SweepCommandRun done = run_sweep_command(points, runs, so, t0);
  if (done.exit_code) return *done.exit_code;

  if (!print_summary_rows(cmd.format, rows) && !cmd.quiet) {
    std::cout << "stresslab " << sl::kVersion << "  scenario " << sc.name << "  " << runs.size() << " run(s): "
              << policies.size() << " polic" << (policies.size() == 1 ? "y" : "ies") << " x " << n_seeds
              << " seed(s) from " << seed << ", " << fmt(done.wall_s, 2) << " s wall\n";
    std::cout << "  conservation: exact in every run (every asset sums to 0 over all accounts)\n";
    if (single) {
      for (const auto& [k, v] : first.summary) std::printf("  %-30s %14.4f\n", k.c_str(), v);
    } else {
      print_comparison(policies, rows, sc.quote_asset);
    }
    std::cout << "  results: " << out << "\n";
  }
  return kExitOk;
}

}  // namespace sl::cli
