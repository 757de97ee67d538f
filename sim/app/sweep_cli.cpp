#include "sim/app/sweep_cli.hpp"

#include "sim/version.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "sim/app/cli_common.hpp"
#include "sim/app/mpi_env.hpp"
#include "sim/sweep/run_plan.hpp"
#include "sim/sweep/run_store.hpp"

namespace sl::cli {

namespace fs = std::filesystem;

void check_out_path(const std::string& out, bool create_dir, const std::string& option) {
  const fs::path out_dir = fs::absolute(fs::path(out)).parent_path();
  if (create_dir) fs::create_directories(out_dir);
  if (!fs::is_directory(out_dir))
    throw UsageError(option + " " + out + ": directory " + out_dir.string() + " does not exist");
  if (access(out_dir.c_str(), W_OK) != 0)
    throw UsageError(option + " " + out + ": directory " + out_dir.string() + " is not writable");
}

bool is_printing_rank() { return mpi_env().rank == 0; }

// kDislocationWarnBps: sim/sweep/run_plan.hpp (the Python package warns at the same level).

SweepCliOptions sweep_cli_options(const po::variables_map& vm, const std::string& out_path,
                                  const std::string& scenario_json, std::uint64_t first_seed) {
  SweepCliOptions so;
  so.out_path = out_path;
  so.threads = threads_option(vm);
  so.resume = vm.count("resume") > 0;
  so.quiet = vm.count("quiet") > 0;
  so.attrs = results_file_attributes(scenario_json, first_seed);
  return so;
}

SweepOutcome execute_sweep(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                           const SweepCliOptions& o) {
  install_signal_handlers();
  SweepOptions so;
  so.threads = o.threads;
  so.out_path = o.out_path;
  so.resume = o.resume;
  so.attrs = o.attrs;
  so.cancel = &interrupted();
  // Dislocation watch: a perp far from its index for a whole run usually means the scenario's perp
  // side cannot absorb its forced flow (arbitrage capital, makers' inventory limits), and the
  // numbers then describe that collapse more than the policy (scenarios/README.md, "How the arbitrage capacity
  // was chosen"). Counted on every run, reported once at the end.
  auto dislocated = std::make_shared<std::pair<std::size_t, double>>(0, 0.0);
  so.on_result = [dislocated, inner = o.on_result](const RunResult& r) {
    double worst = 0;
    for (const auto& [k, v] : r.summary)
      if (k.rfind("max_abs_premium_bps", 0) == 0 && std::isfinite(v)) worst = std::max(worst, v);
    if (worst > kDislocationWarnBps) ++dislocated->first;
    dislocated->second = std::max(dislocated->second, worst);
    if (inner) inner(r);
  };
  so.mpi_rank = mpi_env().rank;
  so.mpi_size = mpi_env().size;
  so.barrier = [] { mpi_barrier(); };
  const auto t0 = std::chrono::steady_clock::now();
  const bool show = !o.quiet && is_printing_rank() && isatty(STDERR_FILENO) && runs.size() > 1;
  if (show) {
    so.progress = [t0, first = std::make_shared<std::size_t>(SIZE_MAX)](std::size_t done, std::size_t total) {
      if (*first == SIZE_MAX) *first = done;  // reused runs do not count towards the rate
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = static_cast<double>(done - *first) / std::max(secs, 1e-9);
      if (rate > 0)
        std::fprintf(stderr, "\r  runs %zu / %zu, %.1f runs/s, ETA %.0f s   ", done, total, rate,
                     static_cast<double>(total - done) / rate);
      else
        std::fprintf(stderr, "\r  runs %zu / %zu   ", done, total);
      std::fflush(stderr);
    };
  }
  SweepOutcome outcome = run_sweep(points, runs, so);
  if (show) std::fprintf(stderr, "\r%70s\r", "");
  if (is_printing_rank() && dislocated->first > 0)
    std::fprintf(stderr,
                 "warning: in %zu of %zu run(s) the perp traded more than %.0f%% away from its index (worst %.0f bps): "
                 "the scenario's perp side (arbitrage capacity, makers' inventory limits) may be too small for its "
                 "forced flow; see scenarios/README.md, Scenario evidence\n",
                 dislocated->first, outcome.runs_done, kDislocationWarnBps / 100.0, dislocated->second);
  return outcome;
}

int report_incomplete(const SweepOutcome& outcome, const std::string& out_path) {
  if (is_printing_rank()) {
    std::cerr << "\ninterrupted: " << out_path << " holds the " << outcome.runs_done << " of " << outcome.runs_total
              << " runs finished so far (root attribute complete = 0); they are also kept in "
              << parts_dir_for(out_path) << "/.\n"
              << "Continue with the same command plus --resume: only the missing runs are done.\n";
  }
  return kExitInterrupted;
}

SweepCommandRun run_sweep_command(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                                  const SweepCliOptions& options, std::chrono::steady_clock::time_point t0) {
  SweepCommandRun run;
  run.outcome = execute_sweep(points, runs, options);
  if (!is_printing_rank()) run.exit_code = run.outcome.complete ? kExitOk : kExitInterrupted;
  else if (!run.outcome.complete) run.exit_code = report_incomplete(run.outcome, options.out_path);
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run;
}

}  // namespace sl::cli
