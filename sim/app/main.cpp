// stresslab command line: run, validate, calibrate, bench. Exit codes: 0 ok, 1 internal failure, 2 bad input,
// 130 interrupted.
#include <boost/program_options.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench/bench_book.hpp"
#include "sim/app/cli_common.hpp"
#include "sim/app/mpi_env.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "bench/bench_scale.hpp"
#include "bench/bench_sim.hpp"
#include "bench/bench_sweep.hpp"
#include "scenarios/loader.hpp"
#include "sim/book/ledger.hpp"
#include "sim/market/replay_path.hpp"
#include "sim/sweep/results_writer.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/run/simulation.hpp"
#include "sim/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

using namespace sl::cli;

const char* kTopHelp = R"(stresslab - agent-based market stress simulator for crypto spot and perpetual markets

Usage:
  stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b,...] [--threads N] [--out FILE.h5]
                [--set PATH=VALUE ...] [--resume] [--quiet] [--format table|csv|json]
  stresslab sweep SWEEP.json --out FILE.h5 [--threads N] [--resume] [--quiet] [--set PATH=VALUE ...]
                  [--format table|csv|json]
  stresslab validate SCENARIO.json [--set PATH=VALUE ...]
  stresslab calibrate CALIBRATION.json [--out FILE.h5] [--threads N] [--resume] [--quiet]
                      [--format table|csv|json]
  stresslab bench [--seconds S] [--agents N] [--steps N] [--only book|sim|sweep|scale] [--runs N] [--repeat N] [--threads N]
  stresslab --help | --version

Examples:
  stresslab run scenarios/calm.json --out results/calm.h5
  stresslab run scenarios/calm.json --seed 7 --set horizon_steps=600 --set agents.noise_traders.count=50
  stresslab run scenarios/crash.json --policy market --seeds 50 --threads 2 --out results/crash.h5
  stresslab sweep scenarios/sweeps/penalty_x_mmr.json --out results/sweep.h5 --threads 2
  mpirun -n 4 stresslab sweep scenarios/sweeps/penalty_x_mmr.json --out results/sweep.h5
  stresslab validate scenarios/calm.json
  stresslab calibrate scenarios/calibration/crash_penalty.json --threads 2 --out results/penalty.h5
  stresslab bench --seconds 2

--set takes a dotted path (agents.market_makers.levels=8) or a JSON pointer
(/assets/0/initial_price=25000); the value is JSON (numbers, true, "text") or a bare string.

--format: table (default; engineering notation, 446.5 k = 446,500; at most 100 columns wide), or
csv / json on stdout: every run's /summary row (run, sweep) or the surface's cells (calibrate).

From Python (same engine, in process): PYTHONPATH=build/release/python /usr/bin/python3, then
import stresslab; stresslab.run("scenarios/crash.json", policies=["market", "batch"], seeds=3).

calibrate sweeps the liquidation penalty over a grid for every (sigma, depth, latency) cell of a
calibration file and reports the penalty minimising bad debt + insurance-fund drawdown +
lambda x (penalties + slippage paid by users), with bootstrap intervals over seeds (sim/calibration/README.md).

Exit codes: 0 ok, 1 internal failure, 2 bad input (message names file, field and allowed range),
130 interrupted (run/sweep: the results file holds the runs finished so far, with root attribute
complete = 0; the same command plus --resume does only the missing runs).
)";

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts = command_options("validate options", "scenario", "scenario file");
  opts.add_options()("set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE (repeatable)");
  po::variables_map vm;
  if (auto rc = parse_command(args, opts, "scenario", "Usage: stresslab validate SCENARIO.json [--set PATH=VALUE ...]", vm))
    return *rc;
  std::vector<std::string> sets = set_overrides(vm);
  const sl::ScenarioConfig sc = sl::load_scenario_file(vm["scenario"].as<std::string>(), sets);
  std::cout << sc.source_file << ": ok (" << sc.name << ", " << sc.assets.size() << " asset(s), "
            << sc.horizon_steps << " steps of " << sc.dt_s << " s)\n";
  return kExitOk;
}

int cmd_bench(const std::vector<std::string>& args) {
  po::options_description opts("bench options");
  opts.add_options()("help,h", "show help")("seconds", po::value<double>()->default_value(3.0), "book benchmark duration")(
      "agents", po::value<int>()->default_value(1000), "noise traders in the whole-simulation benchmark")(
      "steps", po::value<std::int64_t>()->default_value(3600), "steps of the whole-simulation benchmark")(
      "scenario", po::value<std::string>(), "scenario for the simulation benchmark (default scenarios/calm.json)")(
      "only", po::value<std::string>(), "book | sim | sweep | scale")(
      "runs", po::value<int>()->default_value(16), "runs of the sweep benchmark (penalty x seeds on crash.json, 900 steps)")(
      "repeat", po::value<int>()->default_value(9), "runs of each size of the scale benchmark (its lines: the median run)")(
      "threads", po::value<int>()->default_value(0), "worker threads of the sweep benchmark (0: all cores)");
  auto vm = parse(args, opts, po::positional_options_description{});
  if (vm.count("help")) {
    std::cout << "Usage: stresslab bench [--seconds S] [--agents N] [--steps N] [--only book|sim|sweep|scale] [--runs N] [--repeat N] [--threads N]\n"
              << opts;
    return kExitOk;
  }
  const std::string only = vm.count("only") ? vm["only"].as<std::string>() : "";
  if (!only.empty() && only != "book" && only != "sim" && only != "sweep" && only != "scale")
    throw UsageError("--only " + only + ": must be book, sim, sweep or scale");
  int rc = 0;
  if (only.empty() || only == "book") rc |= run_book_bench(vm["seconds"].as<double>(), 42, std::cout);
  if (only.empty() || only == "sim") {
    std::string path = vm.count("scenario") ? vm["scenario"].as<std::string>() : "scenarios/calm.json";
    rc |= run_sim_bench(path, vm["agents"].as<int>(), vm["steps"].as<std::int64_t>(), std::cout);
  }
  if (only == "scale") {  // not part of the default set: it takes tens of seconds
    const int repeat = vm["repeat"].as<int>();
    if (repeat < 1 || repeat > 1000) throw UsageError("--repeat " + std::to_string(repeat) + ": must be in [1, 1000]");
    rc |= run_scale_bench(vm.count("scenario") ? vm["scenario"].as<std::string>() : "scenarios/crash.json", repeat, std::cout);
  }
  if (only == "sweep") {  // not part of the default set: it takes tens of seconds
    const int runs = vm["runs"].as<int>(), threads = threads_option(vm);
    if (runs < 1 || runs > 100000) throw UsageError("--runs " + std::to_string(runs) + ": must be in [1, 100000]");
    rc |= run_sweep_bench(vm.count("scenario") ? vm["scenario"].as<std::string>() : "scenarios/crash.json", runs, threads,
                          std::cout);
  }
  return rc;
}

// Runs one command and maps exceptions to exit codes. Under MPI only rank 0 reports bad input (every
// rank validates the same files and fails alike); internal errors are reported by the rank that hit them.
int dispatch(const std::vector<std::string>& args) {
  const sl::cli::MpiEnv& mpi = sl::cli::mpi_env();
  const bool speak = mpi.rank == 0;
  const std::string who = mpi.size > 1 ? "rank " + std::to_string(mpi.rank) + ": " : "";
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kTopHelp;
      return args.empty() ? kExitBadInput : kExitOk;
    }
    if (args[0] == "--version" || args[0] == "-V") {
      std::cout << "stresslab " << sl::kVersion << " (git " << sl::kGitCommit << ")\n";
      return kExitOk;
    }
    const std::string cmd = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "run") return sl::cli::cmd_run(rest);
    if (cmd == "sweep") return sl::cli::cmd_sweep(rest);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "calibrate") return sl::cli::cmd_calibrate(rest);
    if (cmd == "bench") return cmd_bench(rest);
    throw UsageError("unknown command '" + cmd + "' (expected run, sweep, calibrate, validate, bench; see stresslab --help)");
  } catch (const sl::ScenarioError& e) {
    if (speak) std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const UsageError& e) {
    if (speak) std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const sl::DataError& e) {
    if (speak) std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const sl::SweepError& e) {
    if (speak) std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const sl::Interrupted&) {
    if (speak) std::cerr << "\ninterrupted: no results file written\n";
    return kExitInterrupted;
  } catch (const sl::ConservationError& e) {
    std::cerr << who << "INTERNAL ERROR (money was created or destroyed): " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << who << "internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace

int main(int argc, char** argv) {
  sl::cli::mpi_init(&argc, &argv);
  if (sl::cli::mpi_launched_without_support()) {
    std::cerr << "error: started by mpirun, but this stresslab was built without MPI support (configure with "
                 "-DSTRESSLAB_MPI=ON and OpenMPI installed); every process would run the whole job\n";
    return kExitBadInput;
  }
  const int rc = dispatch(std::vector<std::string>(argv + 1, argv + argc));
  // An internal failure on one rank would leave the others waiting at a barrier: end them all.
  if (rc == kExitInternal && sl::cli::mpi_env().size > 1) sl::cli::mpi_abort(rc);
  sl::cli::mpi_finalize();
  return rc;
}
