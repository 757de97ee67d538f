// `stresslab sweep SWEEP.json --out FILE.h5`: a grid of scenario variants x policies x seeds into one
// results file with `param:<name>` columns (scenarios/sweep_spec.hpp describes the file format).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "scenarios/sweep_spec.hpp"
#include "sim/app/cli_common.hpp"
#include "sim/app/sweep_cli.hpp"
#include "sim/app/table_format.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/sweep/run_plan.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace sl::cli {

namespace {

constexpr const char* kSweepUsage =
    "Usage: stresslab sweep SWEEP.json --out FILE.h5 [--threads N] [--resume] [--quiet] [--set PATH=VALUE ...] [--format table|csv|json]";

// Per (point, policy): mean over seeds of a few headline metrics (finite values only).
struct CellMeans {
  static constexpr const char* kMetrics[] = {"bad_debt", "liquidated_notional", "cascade_amplification"};
  double sum[3] = {0, 0, 0};
  std::size_t n[3] = {0, 0, 0};
  void add(const std::vector<std::pair<std::string, double>>& summary) {
    for (const auto& [k, v] : summary)
      for (int m = 0; m < 3; ++m)
        if (k == kMetrics[m] && std::isfinite(v)) sum[m] += v, ++n[m];
  }
  double mean(int m) const { return n[m] ? sum[m] / static_cast<double>(n[m]) : NAN; }
};

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description opts = command_options("sweep options", "sweep", "sweep file");
  opts.add_options()("out", po::value<std::string>(), "results file (required)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE of the base scenario (repeatable)");
  add_run_control_options(opts, resume_into_out_help("sweep"));
  add_format_option(opts, "table (default): means per grid point and policy; csv or json: every run's summary row "
                          "(the results file's /summary, param:* columns included) on stdout");
  po::variables_map vm;
  if (auto rc = parse_command(args, opts, "sweep", kSweepUsage, vm)) return *rc;
  if (!vm.count("out")) throw UsageError("sweep: --out FILE.h5 is required");
  const bool quiet = vm.count("quiet") > 0;
  const OutputFormat format = format_option(vm);
  threads_option(vm);  // a bad --threads is a usage error before any run starts
  const std::vector<std::string> sets = set_overrides(vm);
  const std::string out = vm["out"].as<std::string>();
  // Everything is validated (every grid point's scenario too) before any run starts.
  const sl::SweepSpec spec = sl::load_sweep_file(vm["sweep"].as<std::string>(), sets, sl::implemented_policies());
  sl::check_auctions_reach_index(spec.points, spec.policies, spec.source_file);
  check_out_path(out, false);

  const std::vector<sl::SweepRunSpec> runs = sl::plan_sweep(spec.points.size(), spec.policies, spec.first_seed, spec.seeds);
  const std::size_t n_pol = spec.policies.size();
  std::vector<CellMeans> cells(spec.points.size() * n_pol);
  std::vector<SummaryRow> rows;
  const auto t0 = std::chrono::steady_clock::now();
  SweepCliOptions so = sweep_cli_options(vm, out, spec.base.source_json, spec.first_seed);
  so.on_result = [&](const sl::RunResult& r) {
    const sl::SweepRunSpec& s = runs[static_cast<std::size_t>(r.run_index)];
    cells[s.point * n_pol + static_cast<std::size_t>(std::find(spec.policies.begin(), spec.policies.end(), s.policy) -
                                                      spec.policies.begin())]
        .add(r.summary);
    if (format != OutputFormat::table) rows.push_back(summary_row(r));
  };
  const SweepCommandRun done = run_sweep_command(spec.points, runs, so, t0);
  if (done.exit_code) return *done.exit_code;

  if (!print_summary_rows(format, rows) && !quiet) {
    std::printf("stresslab %s  sweep %s  %zu point(s) x %zu polic%s x %d seed(s) from %llu = %zu runs (%zu reused), %.2f s wall\n",
                sl::kVersion, spec.source_file.c_str(), spec.points.size(), n_pol, n_pol == 1 ? "y" : "ies", spec.seeds,
                static_cast<unsigned long long>(spec.first_seed), runs.size(), done.outcome.runs_reused, done.wall_s);
    std::printf("  conservation: exact in every run (every asset sums to 0 over all accounts)\n");
    const std::string& q = spec.base.quote_asset;
    TextTable t;
    t.key_headers = {"point", "policy"};
    t.value_headers = {"bad debt " + q, "liq. notional " + q, "cascade x"};
    for (std::size_t p = 0; p < spec.points.size(); ++p) {
      std::string label;
      for (const auto& [k, v] : spec.points[p].params) label += (label.empty() ? "" : " ") + k + "=" + v;
      for (std::size_t k = 0; k < n_pol; ++k) {
        const CellMeans& c = cells[p * n_pol + k];
        t.rows.push_back({{k == 0 ? label : "", spec.policies[k]}, {eng(c.mean(0)), eng(c.mean(1)), eng(c.mean(2))}});
      }
    }
    std::printf("\n%s", render(t).c_str());
    std::printf("  (means over seeds; nan: no run had a finite value; k = 1e3, M = 1e6)\n");
    std::printf("  results: %s   (python: stresslab.read(\"%s\").summary)\n", out.c_str(), out.c_str());
  }
  return kExitOk;
}

}  // namespace sl::cli
