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
#include "bench/bench_sim.hpp"
#include "scenarios/loader.hpp"
#include "sim/ledger.hpp"
#include "sim/replay_path.hpp"
#include "sim/results_writer.hpp"
#include "sim/liquidation.hpp"
#include "sim/run_set.hpp"
#include "sim/simulation.hpp"
#include "sim/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

using namespace sl::cli;

const char* kTopHelp = R"(stresslab - agent-based market stress simulator for crypto spot and perpetual markets

Usage:
  stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b,...] [--threads N] [--out FILE.h5]
                [--set PATH=VALUE ...] [--quiet]
  stresslab validate SCENARIO.json [--set PATH=VALUE ...]
  stresslab calibrate CALIBRATION.json [--out FILE.h5] [--threads N] [--resume] [--quiet]
  stresslab bench [--seconds S] [--agents N] [--steps N]
  stresslab --help | --version

Examples:
  stresslab run scenarios/calm.json --out results/calm.h5
  stresslab run scenarios/calm.json --seed 7 --set horizon_steps=600 --set agents.noise_traders.count=50
  stresslab run scenarios/crash.json --policy market --seeds 50 --threads 2 --out results/crash.h5
  stresslab validate scenarios/calm.json
  stresslab calibrate scenarios/calibration/crash_penalty.json --threads 2 --out results/penalty.h5
  stresslab bench --seconds 2

--set takes a dotted path (agents.market_makers.levels=8) or a JSON pointer
(/assets/0/initial_price=25000); the value is JSON (numbers, true, "text") or a bare string.

calibrate sweeps the liquidation penalty over a grid for every (sigma, depth, latency) cell of a
calibration file and reports the penalty minimising bad debt + insurance-fund drawdown +
lambda x (penalties + slippage paid by users), with bootstrap intervals over seeds (README "Calibration").

Exit codes: 0 ok, 1 internal failure, 2 bad input (message names file, field and allowed range),
130 interrupted (no output file is left behind).
)";

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts("validate options");
  opts.add_options()("help,h", "show help")("scenario", po::value<std::string>(), "scenario file")(
      "set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE (repeatable)");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, opts, pos);
  if (vm.count("help") || !vm.count("scenario")) {
    std::cout << "Usage: stresslab validate SCENARIO.json [--set PATH=VALUE ...]\n" << opts;
    return vm.count("help") ? kExitOk : kExitBadInput;
  }
  std::vector<std::string> sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
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
      "only", po::value<std::string>(), "book | sim");
  auto vm = parse(args, opts, po::positional_options_description{});
  if (vm.count("help")) {
    std::cout << "Usage: stresslab bench [--seconds S] [--agents N] [--steps N]\n" << opts;
    return kExitOk;
  }
  const std::string only = vm.count("only") ? vm["only"].as<std::string>() : "";
  int rc = 0;
  if (only.empty() || only == "book") rc |= run_book_bench(vm["seconds"].as<double>(), 42, std::cout);
  if (only.empty() || only == "sim") {
    std::string path = vm.count("scenario") ? vm["scenario"].as<std::string>() : "scenarios/calm.json";
    rc |= run_sim_bench(path, vm["agents"].as<int>(), vm["steps"].as<std::int64_t>(), std::cout);
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
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
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "calibrate") return sl::cli::cmd_calibrate(rest);
    if (cmd == "bench") return cmd_bench(rest);
    throw UsageError("unknown command '" + cmd + "' (expected run, validate, calibrate, bench; see stresslab --help)");
  } catch (const sl::ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const sl::DataError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const sl::Interrupted&) {
    std::cerr << "\ninterrupted: no results file written\n";
    return kExitInterrupted;
  } catch (const sl::ConservationError& e) {
    std::cerr << "INTERNAL ERROR (money was created or destroyed): " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
