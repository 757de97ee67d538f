// What `run` and `sweep` share on top of sim/sweep_runner: output-path checks, the MPI wiring,
// progress on a terminal and the message after an interruption.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/app/cli_common.hpp"
#include "sim/sweep/sweep_runner.hpp"

namespace sl::cli {

// Throws UsageError unless the directory of `out` exists (created first when `create_dir`) and is
// writable. Bad path = bad input, found before any run starts.
void check_out_path(const std::string& out, bool create_dir, const std::string& option = "--out");

struct SweepCliOptions {
  std::string out_path;
  int threads = 0;
  bool resume = false;
  bool quiet = false;
  FileAttributes attrs;
  std::function<void(const RunResult&)> on_result;
};

// The options of a run or sweep command line (--threads, --resume, --quiet) writing `out_path`,
// whose file records `scenario_json` and `first_seed` with this build's version and commit.
SweepCliOptions sweep_cli_options(const po::variables_map& vm, const std::string& out_path,
                                  const std::string& scenario_json, std::uint64_t first_seed);

// Runs the sweep with SIGINT/SIGTERM cancellation, this process's MPI rank/size and (rank 0, stderr
// a terminal, not quiet) a progress line.
SweepOutcome execute_sweep(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                           const SweepCliOptions& options);

// After an incomplete sweep (rank 0 only): says what was saved and how to continue. Returns 130.
int report_incomplete(const SweepOutcome& outcome, const std::string& out_path);

// execute_sweep() as run and sweep end with it: the outcome, the wall time since the command's
// start `t0`, and the exit code to leave with at once when this process prints nothing more (a
// rank other than 0; an interrupted sweep, reported by report_incomplete() into `options.out_path`).
struct SweepCommandRun {
  SweepOutcome outcome;
  double wall_s = 0.0;
  std::optional<int> exit_code;
};
SweepCommandRun run_sweep_command(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                                  const SweepCliOptions& options, std::chrono::steady_clock::time_point t0);

// True on the process that prints (rank 0).
bool is_printing_rank();

}  // namespace sl::cli
