// stresslab command line: run, validate, bench. Exit codes: 0 ok, 1 internal failure, 2 bad input,
// 130 interrupted.
#include <boost/program_options.hpp>
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
#include "bench/bench_sim.hpp"
#include "scenarios/loader.hpp"
#include "sim/ledger.hpp"
#include "sim/replay_path.hpp"
#include "sim/results_writer.hpp"
#include "sim/simulation.hpp"
#include "sim/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

constexpr int kExitOk = 0, kExitInternal = 1, kExitBadInput = 2, kExitInterrupted = 130;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kTopHelp = R"(stresslab - agent-based market stress simulator for crypto spot and perpetual markets

Usage:
  stresslab run SCENARIO.json [--seed N] [--out FILE.h5] [--set PATH=VALUE ...] [--quiet]
  stresslab validate SCENARIO.json [--set PATH=VALUE ...]
  stresslab bench [--seconds S] [--agents N] [--steps N]
  stresslab --help | --version

Examples:
  stresslab run scenarios/calm.json --out results/calm.h5
  stresslab run scenarios/calm.json --seed 7 --set horizon_steps=600 --set agents.noise_traders.count=50
  stresslab validate scenarios/calm.json
  stresslab bench --seconds 2

--set takes a dotted path (agents.market_makers.levels=8) or a JSON pointer
(/assets/0/initial_price=25000); the value is JSON (numbers, true, "text") or a bare string.

Exit codes: 0 ok, 1 internal failure, 2 bad input (message names file, field and allowed range),
130 interrupted (no output file is left behind).
)";

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const po::positional_options_description& pos) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

std::string fmt(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

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

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("run options");
  opts.add_options()("help,h", "show help")("scenario", po::value<std::string>(), "scenario file")(
      "seed", po::value<std::uint64_t>(), "master seed (default: the scenario's seed)")(
      "out", po::value<std::string>(), "results file (default: results/<scenario name>.h5)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE (repeatable)")(
      "quiet,q", "no progress or summary output");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, opts, pos);
  if (vm.count("help") || !vm.count("scenario")) {
    std::cout << "Usage: stresslab run SCENARIO.json [--seed N] [--out FILE.h5] [--set PATH=VALUE ...]\n" << opts;
    return vm.count("help") ? kExitOk : kExitBadInput;
  }
  const bool quiet = vm.count("quiet") > 0;
  std::vector<std::string> sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const sl::ScenarioConfig sc = sl::load_scenario_file(vm["scenario"].as<std::string>(), sets);
  const std::uint64_t seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : sc.seed;
  std::string out = vm.count("out") ? vm["out"].as<std::string>() : "results/" + sc.name + ".h5";
  // Check the output location before spending time on the run (bad path = bad input).
  const fs::path out_dir = fs::absolute(fs::path(out)).parent_path();
  if (!vm.count("out")) fs::create_directories(out_dir);
  if (!fs::is_directory(out_dir))
    throw UsageError("--out " + out + ": directory " + out_dir.string() + " does not exist");
  if (access(out_dir.c_str(), W_OK) != 0)
    throw UsageError("--out " + out + ": directory " + out_dir.string() + " is not writable");

  install_signal_handlers();
  sl::RunOptions ro;
  ro.seed = seed;
  ro.cancel = &g_interrupted;
  const bool tty = isatty(STDERR_FILENO);
  if (!quiet && tty) {
    ro.progress_every_steps = std::max<std::int64_t>(1, sc.horizon_steps / 100);
    ro.progress = [](std::int64_t done, std::int64_t total) {
      std::fprintf(stderr, "\r  step %lld / %lld (%3.0f%%)", static_cast<long long>(done), static_cast<long long>(total),
                   100.0 * static_cast<double>(done) / static_cast<double>(total));
      std::fflush(stderr);
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  sl::RunCounters counters;
  sl::RunResult result = sl::run_simulation(sc, ro, &counters);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet && tty) std::fprintf(stderr, "\r%60s\r", "");

  sl::ResultsWriter writer(out, sl::FileAttributes{sl::kVersion, sl::kGitCommit, sc.source_json, seed});
  writer.append(result);
  if (g_interrupted.load()) throw sl::Interrupted();
  writer.commit();

  if (!quiet) {
    std::cout << "stresslab " << sl::kVersion << "  scenario " << sc.name << "  seed " << seed << "\n";
    std::cout << "  steps " << counters.steps << " x " << sc.dt_s << " s, " << counters.messages << " order messages, "
              << counters.trades << " trades, " << fmt(secs, 2) << " s wall ("
              << fmt(static_cast<double>(counters.messages) / std::max(secs, 1e-9) / 1e6, 2) << " M msg/s)\n";
    std::cout << "  conservation: exact (every asset sums to 0 over " << counters.ledger_transfers << " transfers)\n";
    for (const auto& [k, v] : result.summary) std::printf("  %-28s %14.4f\n", k.c_str(), v);
    std::cout << "  results: " << out << "\n";
  }
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
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "bench") return cmd_bench(rest);
    throw UsageError("unknown command '" + cmd + "' (expected run, validate, bench; see stresslab --help)");
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
