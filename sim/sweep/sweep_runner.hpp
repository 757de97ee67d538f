// Sweep execution: many (grid point, policy, seed) runs, in parallel with oneTBB, sharded across MPI
// ranks, resumable after an interruption, into one HDF5 results file whose content does not depend
// on the thread count, the rank count or how many times the sweep was interrupted and resumed.
//
// Used by `stresslab run` (one point, no params), `stresslab sweep` (a grid from a sweep file) and
// `stresslab calibrate` (a generated grid). Common random numbers: a run's randomness depends only on
// its seed, so seed k gives the same exogenous path at every grid point and under every policy.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/sweep/results_writer.hpp"
#include "sim/run/run_result.hpp"

namespace sl {

// One grid point: a validated scenario (overrides applied) and the parameter values that define it,
// recorded as `param:<name>` summary columns. Every point of one sweep has the same param names in
// the same order (none for a plain run).
struct SweepPoint {
  ScenarioConfig scenario;
  std::vector<std::pair<std::string, std::string>> params;
};

struct SweepRunSpec {
  std::size_t point = 0;
  std::string policy;
  std::uint64_t seed = 0;
  std::int64_t run_index = 0;  // position in the final file; 0..n-1 in plan order
};

// Plan order (= run_index order, = row order of /summary): point-major, then policy, then seed.
std::vector<SweepRunSpec> plan_sweep(std::size_t n_points, const std::vector<std::string>& policies,
                                     std::uint64_t first_seed, int n_seeds);

struct SweepOptions {
  int threads = 0;            // oneTBB workers per process; 0 = all cores
  std::string out_path;       // final results file
  bool resume = false;        // reuse the runs an interrupted sweep into out_path already finished
  FileAttributes attrs;       // root attributes of the results file
  const std::atomic<bool>* cancel = nullptr;  // SIGINT/SIGTERM flag
  // Runs done (incl. reused) / total, called on the rank-0 process once before the first run and
  // after every finished run, serialized by a mutex but possibly from a oneTBB worker thread. With
  // several MPI ranks both numbers are rank 0's share of the runs.
  std::function<void(std::size_t done, std::size_t total)> progress;
  // Every run, in run_index order, as the final file is written (rank 0 only). Lets callers
  // (comparison table, calibration) use the results without reading the file back.
  std::function<void(const RunResult&)> on_result;
  int mpi_rank = 0, mpi_size = 1;  // set by the MPI entry point; 0/1 without MPI
  // Waits for every rank (MPI_Barrier); may be empty when mpi_size is 1.
  std::function<void()> barrier;
};

// The sweep cannot start as asked (bad input, exit 2): a parts directory exists without --resume,
// or --resume meets a parts directory of a different sweep. what() names the directory and says
// what to do.
struct SweepError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Identity of a sweep plan: every point's scenario.source_json and params, and every run's
// (point, policy, seed, run_index). Segments and the manifest carry it; --resume requires it equal.
// `build` identifies the code (run_sweep passes the tool version and git commit): runs made by another
// build are not resumed into this one's file.
std::uint64_t sweep_plan_hash(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                              const std::string& build = "");

struct SweepOutcome {
  std::size_t runs_total = 0;
  std::size_t runs_done = 0;     // finished, this invocation or an earlier one
  std::size_t runs_reused = 0;   // taken from an earlier interrupted invocation (--resume)
  bool complete = false;         // false: interrupted; out_path holds the valid partial result
};

// Runs the missing runs of this rank's shard (run_index % mpi_size == mpi_rank) into segments under
// `<out_path>.parts/`, then (rank 0) merges every segment present, in run_index order, into out_path
// (root attributes `complete` 0/1 and `runs_planned`) and, when complete, deletes the parts dir.
// On cancel: runs in flight are abandoned, the finished ones are kept and merged into a valid
// partial file, and the parts dir stays for --resume. Throws SweepError (see above), ResultsError,
// std::runtime_error (segment I/O) and whatever a run throws (e.g. ConservationError).
SweepOutcome run_sweep(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                       const SweepOptions& options);

}  // namespace sl
