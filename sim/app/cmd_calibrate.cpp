// `stresslab calibrate CALIBRATION.json`: the optimal liquidation-penalty surface (issue #7).
// Validates the calibration file and every grid point, runs the grid through the sweep runner into
// the runs file, scores every run (sim/calibration/surface.hpp), writes the surface file and prints it.
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/app/cli_common.hpp"
#include "sim/app/sweep_cli.hpp"
#include "sim/app/table_format.hpp"
#include "sim/calibration/surface.hpp"
#include "sim/calibration/config.hpp"
#include "sim/calibration/writer.hpp"
#include "sim/core/number_format.hpp"

#include <nlohmann/json.hpp>
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace sl::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCalibrateUsage =
    "Usage: stresslab calibrate CALIBRATION.json [--out FILE.h5] [--threads N] [--resume] [--quiet] [--format table|csv|json]";

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

// One row per (sigma, depth, latency) cell: the optimum with its intervals (the surface file's numbers).
struct SurfaceRow {
  std::string sigma, depth, latency;
  double penalty_bps, penalty_lo_bps, penalty_hi_bps, mmr_bps, mmr_lo_bps, mmr_hi_bps, j_mean, j_lo, j_hi;
  std::string near_optimal;  // penalties whose paired interval of J - J(optimum) contains 0, comma-separated
};

std::vector<SurfaceRow> surface_rows(const CalibrationConfig& c, const CalibrationPlan& p,
                                     const std::vector<CellSurface>& surf) {
  const auto &S = c.axes[0], &D = c.axes[1], &L = c.axes[2];
  const std::size_t P = c.penalty.values.size();
  std::vector<SurfaceRow> rows;
  std::size_t cell = 0;
  for (std::size_t i = 0; i < S.values.size(); ++i)
    for (std::size_t k = 0; k < D.values.size(); ++k)
      for (std::size_t t = 0; t < L.values.size(); ++t, ++cell) {
        const CellSurface& s = surf[cell];
        const Candidate& best = p.candidates[s.best];
        // Near-optimal penalties at the optimal margin.
        std::vector<std::size_t> near;
        const std::size_t m0 = s.best / P * P;
        for (std::size_t q = 0; q < P; ++q)
          if (s.near_optimal[m0 + q]) near.push_back(q);
        rows.push_back(SurfaceRow{S.texts[i], D.texts[k], L.texts[t], best.penalty_bps, s.penalty_lo_bps,
                                  s.penalty_hi_bps, best.mmr_bps, s.mmr_lo_bps, s.mmr_hi_bps,
                                  s.objective[s.best].mean, s.objective[s.best].lo, s.objective[s.best].hi,
                                  value_list(c.penalty.texts, near)});
      }
  return rows;
}

// The numeric columns of a surface row, in the order of the CSV and of the JSON (after sigma, depth,
// latency; before near_optimal_penalties_bps); the margin ones only when the margin is swept.
struct SurfaceColumn {
  const char* name;
  double SurfaceRow::*field;
  bool margin;
};
constexpr SurfaceColumn kSurfaceColumns[] = {
    {"optimal_penalty_bps", &SurfaceRow::penalty_bps, false}, {"penalty_lo_bps", &SurfaceRow::penalty_lo_bps, false},
    {"penalty_hi_bps", &SurfaceRow::penalty_hi_bps, false},   {"optimal_mmr_bps", &SurfaceRow::mmr_bps, true},
    {"mmr_lo_bps", &SurfaceRow::mmr_lo_bps, true},            {"mmr_hi_bps", &SurfaceRow::mmr_hi_bps, true},
    {"j_mean", &SurfaceRow::j_mean, false},                   {"j_lo", &SurfaceRow::j_lo, false},
    {"j_hi", &SurfaceRow::j_hi, false}};

bool shown(const CalibrationConfig& c, const SurfaceColumn& col) { return !col.margin || c.mmr_swept; }

void print_surface_csv(const CalibrationConfig& c, const std::vector<SurfaceRow>& rows) {
  std::string header = "sigma,depth,latency";
  for (const SurfaceColumn& col : kSurfaceColumns)
    if (shown(c, col)) header.append(",").append(col.name);
  std::printf("%s,near_optimal_penalties_bps\n", header.c_str());
  for (const SurfaceRow& r : rows) {
    std::string line = csv_field(r.sigma) + "," + csv_field(r.depth) + "," + csv_field(r.latency);
    for (const SurfaceColumn& col : kSurfaceColumns)
      if (shown(c, col)) line += "," + format_number(r.*col.field);
    std::printf("%s,%s\n", line.c_str(), csv_field(r.near_optimal).c_str());
  }
}

void print_surface_json(const CalibrationConfig& c, const std::vector<SurfaceRow>& rows) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const SurfaceRow& r : rows) {
    nlohmann::ordered_json o = {{"sigma", r.sigma}, {"depth", r.depth}, {"latency", r.latency}};
    for (const SurfaceColumn& col : kSurfaceColumns)
      if (shown(c, col)) o[col.name] = num(r.*col.field);
    o["near_optimal_penalties_bps"] = r.near_optimal;
    a.push_back(std::move(o));
  }
  std::printf("%s\n", a.dump(1).c_str());
}

void print_surface(const CalibrationConfig& c, const CalibrationPlan& p, const std::vector<CellSurface>& surf,
                   const std::vector<SurfaceRow>& rows, const std::string& quote_unit) {
  const auto &S = c.axes[0], &D = c.axes[1], &L = c.axes[2];
  const std::size_t P = c.penalty.values.size();
  std::printf("%s", wrap(std::string("objective: ") + kObjectiveDefinition).c_str());
  std::printf("%s", wrap("axes: sigma = " + S.pointer + ", depth = " + D.pointer + ", latency = " + L.pointer +
                         (c.mmr_swept ? ", margin = " + c.mmr.pointer : ""))
                        .c_str());
  TextTable t;
  t.key_headers = {"sigma", "depth", "latency"};
  t.value_headers = {"optimal penalty bps [95% boot]"};
  if (c.mmr_swept) t.value_headers.push_back("optimal mmr bps [95% boot]");
  t.value_headers.push_back("J at optimum " + quote_unit + " [95% CI]");
  t.value_headers.push_back("near-optimal penalties bps");
  for (const SurfaceRow& r : rows) {
    TextTable::Row row{{r.sigma, r.depth, r.latency}, {}};
    row.values.push_back(format_number(r.penalty_bps) + " [" + format_number(r.penalty_lo_bps) + ", " +
                         format_number(r.penalty_hi_bps) + "]");
    if (c.mmr_swept)
      row.values.push_back(fmt(r.mmr_bps, 0) + " [" + fmt(r.mmr_lo_bps, 0) + ", " + fmt(r.mmr_hi_bps, 0) + "]");
    row.values.push_back(eng(r.j_mean) + " [" + eng(r.j_lo) + ", " + eng(r.j_hi) + "]");
    row.values.push_back(r.near_optimal);
    t.rows.push_back(std::move(row));
  }
  std::printf("\n%s", render(t).c_str());
  // Mean objective per candidate, one row per cell (at the optimal margin when it is swept).
  std::printf("\nmean J (%s) by penalty_bps%s:\n", quote_unit.c_str(), c.mmr_swept ? " (at the cell's optimal margin)" : "");
  TextTable j;
  j.key_headers = {"sigma", "depth", "latency"};
  j.value_headers = c.penalty.texts;
  for (std::size_t cell = 0; cell < rows.size(); ++cell) {
    const CellSurface& s = surf[cell];
    TextTable::Row row{{rows[cell].sigma, rows[cell].depth, rows[cell].latency}, {}};
    const std::size_t m0 = s.best / P * P;
    for (std::size_t q = 0; q < P; ++q) row.values.push_back(eng(s.objective[m0 + q].mean) + (m0 + q == s.best ? "*" : " "));
    j.rows.push_back(std::move(row));
  }
  std::printf("%s", render(j).c_str());
  std::printf("(* = optimum; near-optimal: the paired 95%% interval of J - J(optimum) over common seeds contains 0;\n"
              " k = 1e3, M = 1e6)\n");
}

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args) {
  po::options_description opts = command_options("calibrate options", "calibration", "calibration file");
  opts.add_options()("out", po::value<std::string>(), "surface file (default: results/<calibration name>.h5); the runs go to FILE.runs.h5");
  add_run_control_options(opts, "reuse the runs an interrupted calibrate already wrote to FILE.runs.h5", "no progress or table output");
  add_format_option(opts, "table (default): the surface; csv or json: one row per (sigma, depth, latency) cell with the "
                          "optimum and its intervals, on stdout");
  PrintingCommand cmd;
  if (auto rc = parse_printing_command(args, opts, "calibration", kCalibrateUsage, cmd)) return *rc;
  const po::variables_map& vm = cmd.vm;
  const bool quiet = cmd.quiet;
  const OutputFormat format = cmd.format;
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

  const std::vector<SurfaceRow> rows = surface_rows(cfg, plan, surface);
  if (format == OutputFormat::csv) {
    print_surface_csv(cfg, rows);
  } else if (format == OutputFormat::json) {
    print_surface_json(cfg, rows);
  } else if (!quiet) {
    std::printf("stresslab %s  calibration %s: scenario %s, policy %s, %zu cell(s) x %zu candidate(s) x %d seed(s) from %llu "
                "= %zu runs (%zu reused), lambda %g, %.2f s wall\n",
                kVersion, cfg.name.c_str(), plan.base.name.c_str(), cfg.policy.c_str(), plan.n_cells, plan.candidates.size(),
                cfg.n_seeds, static_cast<unsigned long long>(cfg.first_seed), done.runs_total, done.runs_reused,
                cfg.surface.lambda, secs);
    print_surface(cfg, plan, surface, rows, plan.base.quote_asset);
    std::printf("  surface: %s\n  runs: %s\n", out.c_str(), runs_path.c_str());
  }
  return kExitOk;
}

}  // namespace sl::cli
