// `stresslab calibrate CALIBRATION.json`: the optimal liquidation-penalty surface (issue #7).
// Validates the calibration file and every grid point, runs the grid through the sweep runner into
// the runs file, scores every run (sim/calibration/surface.hpp), writes the surface file and prints it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/app/cli_common.hpp"
#include "sim/app/sweep_cli.hpp"
#include "sim/calibration/surface.hpp"
#include "sim/calibration/config.hpp"
#include "sim/calibration/writer.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace sl::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCalibrateUsage =
    "Usage: stresslab calibrate CALIBRATION.json [--out FILE.h5] [--threads N] [--resume] [--quiet]";

// FILE.h5 -> FILE.runs.h5 (the sweep results file next to the surface file).
std::string runs_path_for(const std::string& out) {
  const std::string stem = out.size() > 3 && out.compare(out.size() - 3, 3, ".h5") == 0 ? out.substr(0, out.size() - 3) : out;
  return stem + ".runs.h5";
}

std::string value_list(const std::vector<std::string>& texts, const std::vector<std::size_t>& pick) {
  std::string s;
  for (std::size_t k : pick) s += (s.empty() ? "" : ",") + texts[k];
  return s;
}

void print_surface(const CalibrationConfig& c, const CalibrationPlan& p, const std::vector<CellSurface>& surf) {
  const auto &S = c.axes[0], &D = c.axes[1], &L = c.axes[2];
  const std::size_t P = c.penalty.values.size();
  std::printf("objective: %s\n", kObjectiveDefinition);
  std::printf("axes: sigma = %s, depth = %s, latency = %s%s\n", S.pointer.c_str(), D.pointer.c_str(), L.pointer.c_str(),
              c.mmr_swept ? (", margin = " + c.mmr.pointer).c_str() : "");
  std::printf("\n%10s %10s %8s  %-28s%s  %-34s  %s\n", "sigma", "depth", "latency", "optimal penalty bps [95% boot]",
              c.mmr_swept ? "  optimal mmr bps [95% boot]  " : "", "J at optimum, mean [95% CI]", "near-optimal penalties");
  std::size_t cell = 0;
  for (std::size_t i = 0; i < S.values.size(); ++i)
    for (std::size_t k = 0; k < D.values.size(); ++k)
      for (std::size_t t = 0; t < L.values.size(); ++t, ++cell) {
        const CellSurface& s = surf[cell];
        const Candidate& best = p.candidates[s.best];
        char opt[64], mmr[64] = "", J[96];
        std::snprintf(opt, sizeof opt, "%g [%g, %g]", best.penalty_bps, s.penalty_lo_bps, s.penalty_hi_bps);
        if (c.mmr_swept) std::snprintf(mmr, sizeof mmr, "  %-27s  ", (fmt(best.mmr_bps, 0) + " [" + fmt(s.mmr_lo_bps, 0) + ", " + fmt(s.mmr_hi_bps, 0) + "]").c_str());
        std::snprintf(J, sizeof J, "%.4g [%.4g, %.4g]", s.objective[s.best].mean, s.objective[s.best].lo,
                      s.objective[s.best].hi);
        // Near-optimal penalties at the optimal margin.
        std::vector<std::size_t> near;
        const std::size_t m0 = s.best / P * P;
        for (std::size_t q = 0; q < P; ++q)
          if (s.near_optimal[m0 + q]) near.push_back(q);
        std::printf("%10s %10s %8s  %-28s%s  %-34s  %s\n", S.texts[i].c_str(), D.texts[k].c_str(), L.texts[t].c_str(), opt,
                    mmr, J, value_list(c.penalty.texts, near).c_str());
      }
  // Mean objective per candidate, one row per cell (at the optimal margin when it is swept).
  std::printf("\nmean J by penalty_bps%s:\n%10s %10s %8s", c.mmr_swept ? " (at the cell's optimal margin)" : "", "sigma",
              "depth", "latency");
  for (const auto& t : c.penalty.texts) std::printf(" %11s", t.c_str());
  std::printf("\n");
  cell = 0;
  for (std::size_t i = 0; i < S.values.size(); ++i)
    for (std::size_t k = 0; k < D.values.size(); ++k)
      for (std::size_t t = 0; t < L.values.size(); ++t, ++cell) {
        const CellSurface& s = surf[cell];
        std::printf("%10s %10s %8s", S.texts[i].c_str(), D.texts[k].c_str(), L.texts[t].c_str());
        const std::size_t m0 = s.best / P * P;
        for (std::size_t q = 0; q < P; ++q) std::printf(" %10.4g%s", s.objective[m0 + q].mean, m0 + q == s.best ? "*" : " ");
        std::printf("\n");
      }
  std::printf("(* = optimum; near-optimal: the paired 95%% interval of J - J(optimum) over common seeds contains 0)\n");
}

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args) {
  po::options_description opts = command_options("calibrate options", "calibration", "calibration file");
  opts.add_options()("out", po::value<std::string>(), "surface file (default: results/<calibration name>.h5); the runs go to FILE.runs.h5");
  add_run_control_options(opts, "reuse the runs an interrupted calibrate already wrote to FILE.runs.h5", "no progress or table output");
  po::variables_map vm;
  if (auto rc = parse_command(args, opts, "calibration", kCalibrateUsage, vm)) return *rc;
  const bool quiet = vm.count("quiet") > 0;
  const int threads = threads_option(vm);

  // Everything is validated before any output exists.
  const CalibrationConfig cfg = load_calibration_file(vm["calibration"].as<std::string>());
  const CalibrationPlan plan = plan_calibration(cfg);
  const std::string out = vm.count("out") ? vm["out"].as<std::string>() : "results/" + cfg.name + ".h5";
  check_out_path(out, !vm.count("out"));
  const std::string runs_path = runs_path_for(out);

  MetricTable table(plan.n_cells, plan.candidates.size(), static_cast<std::size_t>(cfg.n_seeds));
  MetricCollector collect(table);
  SweepCliOptions so;  // MPI rank/size, SIGINT/SIGTERM and the progress line come from here
  so.threads = threads;
  so.out_path = runs_path;
  so.resume = vm.count("resume") > 0;
  so.quiet = quiet;
  so.attrs = FileAttributes{kVersion, kGitCommit, plan.base.source_json, cfg.first_seed};
  so.on_result = [&](const RunResult& r) {
    if (!collect.record(r.run_index, seed_metrics_from_summary(r)))
      throw std::runtime_error("calibrate: run_index " + std::to_string(r.run_index) + " outside the plan");
  };
  const auto t0 = std::chrono::steady_clock::now();
  const SweepOutcome done = execute_sweep(plan.points, plan.runs, so);
  // Every rank ran its share; only rank 0 saw every result (on_result) and writes the surface.
  if (!is_printing_rank()) return done.complete ? kExitOk : kExitInterrupted;
  // Complete means every run is in the runs file (even if a signal came during the merge): write the
  // surface. Only missing runs make this an interrupted calibration.
  if (!done.complete) {
    std::cerr << "\ninterrupted: " << done.runs_done << " of " << done.runs_total << " runs kept in " << runs_path
              << " (rerun with --resume); no calibration file written\n";
    return kExitInterrupted;
  }
  if (!collect.complete())
    throw std::runtime_error("calibrate: the sweep reported " + std::to_string(collect.filled()) + " of " +
                             std::to_string(table.values.size()) + " runs");
  const std::vector<CellSurface> surface = calibrate(table, plan.candidates, cfg.surface);
  CalibrationFileInputs in;
  in.config = &cfg;
  in.plan = &plan;
  in.table = &table;
  in.surface = &surface;
  in.runs_file = fs::path(runs_path).filename().string();
  in.tool_version = kVersion;
  in.git_commit = kGitCommit;
  write_calibration_file(out, in);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!quiet) {
    std::printf("stresslab %s  calibration %s: scenario %s, policy %s, %zu cell(s) x %zu candidate(s) x %d seed(s) from %llu "
                "= %zu runs (%zu reused), lambda %g, %.2f s wall\n",
                kVersion, cfg.name.c_str(), plan.base.name.c_str(), cfg.policy.c_str(), plan.n_cells, plan.candidates.size(),
                cfg.n_seeds, static_cast<unsigned long long>(cfg.first_seed), done.runs_total, done.runs_reused,
                cfg.surface.lambda, secs);
    print_surface(cfg, plan, surface);
    std::printf("  surface: %s\n  runs: %s\n", out.c_str(), runs_path.c_str());
  }
  return kExitOk;
}

}  // namespace sl::cli
