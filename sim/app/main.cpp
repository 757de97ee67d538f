// stresslab command line: run, validate, bench. Exit codes: 0 ok, 1 internal failure, 2 bad input,
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

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

constexpr int kExitOk = 0, kExitInternal = 1, kExitBadInput = 2, kExitInterrupted = 130;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kTopHelp = R"(stresslab - agent-based market stress simulator for crypto spot and perpetual markets

Usage:
  stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b,...] [--threads N] [--out FILE.h5]
                [--set PATH=VALUE ...] [--quiet]
  stresslab validate SCENARIO.json [--set PATH=VALUE ...]
  stresslab bench [--seconds S] [--agents N] [--steps N]
  stresslab --help | --version

Examples:
  stresslab run scenarios/calm.json --out results/calm.h5
  stresslab run scenarios/calm.json --seed 7 --set horizon_steps=600 --set agents.noise_traders.count=50
  stresslab run scenarios/crash.json --policy market --seeds 50 --threads 2 --out results/crash.h5
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

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

// The comparison table of model.md section 7 / issue #4: mean and 95% interval per metric per policy.
void print_comparison(const std::vector<std::string>& policies,
                      const std::vector<std::vector<std::pair<std::string, double>>>& summaries,
                      const std::vector<std::string>& run_policy) {
  const char* metrics[][2] = {{"bad_debt", "bad debt"},
                              {"underwater_equity_at_end", "unrealised bad debt"},
                              {"fund_borrowed_at_end", "fund borrowed at end"},
                              {"flagged_at_end", "flagged at end"},
                              {"insurance_fund_min", "insurance fund min"},
                              {"liquidated_notional", "liquidated notional"},
                              {"mean_slippage_bps", "mean slippage bps"},
                              {"p95_slippage_bps", "p95 slippage bps"},
                              {"cascade_amplification", "cascade amplification"},
                              {"adl_count", "ADL count"},
                              {"penalties_paid", "user penalties"},
                              {"liquidator_profit", "liquidator profit"}};
  std::printf("\n%-24s", "metric (mean [95% CI])");
  for (const auto& p : policies) std::printf(" %34s", p.c_str());
  std::printf("\n");
  for (const auto& m : metrics) {
    std::printf("%-24s", m[1]);
    for (const auto& p : policies) {
      std::vector<double> v;
      for (std::size_t i = 0; i < summaries.size(); ++i) {
        if (run_policy[i] != p) continue;
        for (const auto& [k, x] : summaries[i])
          if (k == m[0]) v.push_back(x);
      }
      const sl::Interval ci = sl::mean_ci95(v);
      char cell[96];
      if (ci.n == 0)
        std::snprintf(cell, sizeof cell, "n/a");
      else if (ci.n < v.size())
        std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g] n=%zu", ci.mean, ci.lo, ci.hi, ci.n);
      else
        std::snprintf(cell, sizeof cell, "%.4g [%.4g, %.4g]", ci.mean, ci.lo, ci.hi);
      std::printf(" %34s", cell);
    }
    std::printf("\n");
  }
  std::printf("(n=K: only K runs had a finite value, e.g. no liquidation -> no slippage or amplification)\n");
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("run options");
  opts.add_options()("help,h", "show help")("scenario", po::value<std::string>(), "scenario file")(
      "seed", po::value<std::uint64_t>(), "first seed (default: the scenario's seed)")(
      "seeds", po::value<int>()->default_value(1), "number of seeds: seed, seed+1, ...")(
      "policy", po::value<std::string>(), "comma-separated liquidation policies (default: the scenario's)")(
      "threads", po::value<int>()->default_value(0), "worker threads (0: all cores); results do not depend on it")(
      "out", po::value<std::string>(), "results file (default: results/<scenario name>.h5)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override PATH=VALUE (repeatable)")(
      "quiet,q", "no progress or summary output");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  auto vm = parse(args, opts, pos);
  if (vm.count("help") || !vm.count("scenario")) {
    std::cout << "Usage: stresslab run SCENARIO.json [--seed N] [--seeds K] [--policy a,b] [--threads N] [--out FILE.h5] "
                 "[--set PATH=VALUE ...]\n"
              << opts;
    return vm.count("help") ? kExitOk : kExitBadInput;
  }
  const bool quiet = vm.count("quiet") > 0;
  std::vector<std::string> sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const sl::ScenarioConfig sc = sl::load_scenario_file(vm["scenario"].as<std::string>(), sets);
  const std::uint64_t seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : sc.seed;
  const int n_seeds = vm["seeds"].as<int>();
  if (n_seeds < 1 || n_seeds > 1'000'000) throw UsageError("--seeds " + std::to_string(n_seeds) + ": must be in [1, 1000000]");
  const int threads = vm["threads"].as<int>();
  if (threads < 0 || threads > 1024) throw UsageError("--threads " + std::to_string(threads) + ": must be in [0, 1024]");
  std::vector<std::string> policies =
      vm.count("policy") ? split_list(vm["policy"].as<std::string>()) : std::vector<std::string>{sc.perp.liquidation.policy};
  if (policies.empty()) throw UsageError("--policy: empty list");
  for (const auto& p : policies) {
    const auto& ok = sl::implemented_policies();
    if (std::find(ok.begin(), ok.end(), p) == ok.end()) {
      std::string allowed;
      for (const auto& a : ok) allowed += (allowed.empty() ? "" : ", ") + a;
      throw UsageError("--policy " + p + ": unknown or not implemented (allowed: " + allowed + ")");
    }
    if (std::count(policies.begin(), policies.end(), p) > 1) throw UsageError("--policy " + p + ": listed twice");
  }
  std::string out = vm.count("out") ? vm["out"].as<std::string>() : "results/" + sc.name + ".h5";
  // Check the output location before spending time on the runs (bad path = bad input).
  const fs::path out_dir = fs::absolute(fs::path(out)).parent_path();
  if (!vm.count("out")) fs::create_directories(out_dir);
  if (!fs::is_directory(out_dir))
    throw UsageError("--out " + out + ": directory " + out_dir.string() + " does not exist");
  if (access(out_dir.c_str(), W_OK) != 0)
    throw UsageError("--out " + out + ": directory " + out_dir.string() + " is not writable");

  install_signal_handlers();
  const std::vector<sl::RunSpec> runs = sl::plan_runs(policies, seed, n_seeds);
  const bool tty = isatty(STDERR_FILENO);
  const bool single = runs.size() == 1;
  sl::ResultsWriter writer(out, sl::FileAttributes{sl::kVersion, sl::kGitCommit, sc.source_json, seed});
  std::vector<std::vector<std::pair<std::string, double>>> summaries;
  std::vector<std::string> run_policy;
  sl::RunResult first;
  const auto t0 = std::chrono::steady_clock::now();
  sl::RunSetOptions ro;
  ro.threads = threads;
  ro.cancel = &g_interrupted;
  ro.consume = [&](sl::RunResult&& r) {
    writer.append(r);
    summaries.push_back(r.summary);
    run_policy.push_back(r.policy);
    if (single) first = std::move(r);
  };
  if (!quiet && tty && !single) {
    ro.progress = [&](std::size_t done, std::size_t total) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = static_cast<double>(done) / std::max(secs, 1e-9);
      std::fprintf(stderr, "\r  runs %zu / %zu, %.1f runs/s, ETA %.0f s   ", done, total, rate,
                   static_cast<double>(total - done) / std::max(rate, 1e-9));
      std::fflush(stderr);
    };
  }
  sl::run_set(sc, runs, ro);
  if (g_interrupted.load()) throw sl::Interrupted();
  writer.commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet && tty && !single) std::fprintf(stderr, "\r%70s\r", "");

  if (!quiet) {
    std::cout << "stresslab " << sl::kVersion << "  scenario " << sc.name << "  " << runs.size() << " run(s): "
              << policies.size() << " polic" << (policies.size() == 1 ? "y" : "ies") << " x " << n_seeds
              << " seed(s) from " << seed << ", " << fmt(secs, 2) << " s wall\n";
    std::cout << "  conservation: exact in every run (every asset sums to 0 over all accounts)\n";
    if (single) {
      for (const auto& [k, v] : first.summary) std::printf("  %-30s %14.4f\n", k.c_str(), v);
    } else {
      print_comparison(policies, summaries, run_policy);
    }
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
