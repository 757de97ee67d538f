// stresslab._core: the in-process entry point of the Python package `stresslab`
// (analysis/stresslab/, which wraps these functions and reads the results with pandas).
//
// Every function here is the command line's code path without the command line: the same scenario
// loader (with --set overrides), the same checks and plan (sim/sweep/run_plan.hpp, shared with
// `stresslab run`), the same sweep-file loader (`stresslab sweep`) and the same sweep runner and
// results writer (sim/sweep). A run therefore writes the file the CLI would write for the same
// arguments; the Python side reads it back. Runs execute with the GIL released on a worker thread
// while the calling thread polls for Ctrl-C (KeyboardInterrupt cancels the sweep like SIGINT does
// for the CLI: finished runs are kept in a partial file with root attribute complete = 0).
//
// Errors are Python exceptions carrying the CLI's exit-2 message text: ScenarioError (file, field,
// allowed range), SweepError (policies, seeds, threads, sweep parts dir), DataError (replay CSVs).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/loader.hpp"
#include "scenarios/sweep_spec.hpp"
#include "sim/book/ledger.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/market/replay_path.hpp"
#include "sim/run/simulation.hpp"
#include "sim/sweep/results_writer.hpp"
#include "sim/sweep/run_plan.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/version.hpp"

namespace py = pybind11;

namespace {

// How often the waiting Python thread checks for a pending KeyboardInterrupt.
constexpr auto kSignalPoll = std::chrono::milliseconds(50);

// The scenario from a file path (origin = the path) or from JSON text (origin names it in messages).
sl::ScenarioConfig load_scenario(const std::optional<std::string>& path, const std::optional<std::string>& text,
                                 const std::string& origin, const std::vector<std::string>& overrides) {
  if (path) return sl::load_scenario_file(*path, overrides);
  if (text) return sl::load_scenario_text(*text, origin, overrides);
  throw sl::ScenarioError(origin + ": no scenario given (a file path or a dict)");
}

py::dict scenario_info(const sl::ScenarioConfig& sc) {
  py::dict d;
  d["name"] = sc.name;
  d["source_file"] = sc.source_file;
  d["assets"] = sc.assets.size();
  d["horizon_steps"] = sc.horizon_steps;
  d["dt_s"] = sc.dt_s;
  d["seed"] = sc.seed;
  d["policy"] = sc.perp.liquidation.policy;
  d["resolved_json"] = sc.source_json;
  return d;
}

// run_sweep on a worker thread with the GIL released; the calling thread wakes every kSignalPoll to
// let Python run its signal handlers. A KeyboardInterrupt (or any exception a handler raises)
// cancels the sweep, waits for the worker, and is re-raised.
sl::SweepOutcome run_sweep_releasing_gil(const std::vector<sl::SweepPoint>& points,
                                         const std::vector<sl::SweepRunSpec>& runs, sl::SweepOptions options) {
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  sl::SweepOutcome outcome;
  std::exception_ptr failure;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool python_error = false;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        outcome = sl::run_sweep(points, runs, options);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, kSignalPoll, [&] { return done; })) {
      if (python_error) continue;  // already cancelled; wait for the worker to stop
      lock.unlock();
      {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) python_error = true;  // the error stays set on this thread
      }
      if (python_error) cancel.store(true);
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (python_error) throw py::error_already_set();
  if (failure) std::rethrow_exception(failure);
  return outcome;
}

py::dict outcome_info(const sl::SweepOutcome& o, const std::string& out) {
  py::dict d;
  d["out"] = out;
  d["runs_total"] = o.runs_total;
  d["runs_done"] = o.runs_done;
  d["runs_reused"] = o.runs_reused;
  d["complete"] = o.complete;
  return d;
}

sl::SweepOptions sweep_options(const std::string& out, std::int64_t threads, const sl::FileAttributes& attrs) {
  sl::check_thread_count(threads, "threads");
  sl::SweepOptions so;
  so.threads = static_cast<int>(threads);
  so.out_path = out;
  so.attrs = attrs;
  return so;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "stresslab engine, in process (use the `stresslab` package, not this module)";
  m.attr("version") = sl::kVersion;
  m.attr("git_commit") = sl::kGitCommit;
  m.attr("dislocation_warn_bps") = sl::kDislocationWarnBps;

  // Bad input: ValueError subclasses, messages as the CLI prints them after "error: ".
  py::register_exception<sl::ScenarioError>(m, "ScenarioError", PyExc_ValueError);
  py::register_exception<sl::SweepError>(m, "SweepError", PyExc_ValueError);
  py::register_exception<sl::DataError>(m, "DataError", PyExc_ValueError);
  // Failures: RuntimeError subclasses (the CLI's exit 1).
  py::register_exception<sl::ResultsError>(m, "ResultsError", PyExc_RuntimeError);
  py::register_exception<sl::ConservationError>(m, "ConservationError", PyExc_RuntimeError);

  m.def("policies", [] { return sl::implemented_policies(); }, "the implemented liquidation policies");

  m.def(
      "validate",
      [](std::optional<std::string> path, std::optional<std::string> text, const std::string& origin,
         const std::vector<std::string>& overrides) {
        return scenario_info(load_scenario(path, text, origin, overrides));
      },
      py::arg("path"), py::arg("text"), py::arg("origin"), py::arg("overrides"),
      "load and validate a scenario (file `path`, or JSON `text` named `origin` in messages) with overrides");

  m.def(
      "run",
      [](std::optional<std::string> path, std::optional<std::string> text, const std::string& origin,
         const std::vector<std::string>& overrides, std::optional<std::vector<std::string>> policies,
         std::optional<std::uint64_t> seed, std::int64_t seeds, std::int64_t threads, const std::string& out) {
        // The order of cmd_run: scenario, then threads, then seeds and policies (plan_run).
        const sl::ScenarioConfig sc = load_scenario(path, text, origin, overrides);
        sl::check_thread_count(threads, "threads");
        const std::vector<std::string> pol = policies ? *policies : std::vector<std::string>{sc.perp.liquidation.policy};
        const std::uint64_t first_seed = seed ? *seed : sc.seed;
        const sl::RunPlan plan = sl::plan_run(sc, pol, first_seed, seeds, "policies", "seeds");
        const sl::SweepOutcome o =
            run_sweep_releasing_gil(plan.points, plan.runs, sweep_options(out, threads, plan.attrs));
        return outcome_info(o, out);
      },
      py::arg("path"), py::arg("text"), py::arg("origin"), py::arg("overrides"), py::arg("policies"), py::arg("seed"),
      py::arg("seeds"), py::arg("threads"), py::arg("out"),
      "stresslab run: policies x seeds of one scenario into the results file `out`");

  m.def(
      "sweep",
      [](std::optional<std::string> path, std::optional<std::string> text, const std::string& origin,
         const std::string& base_dir, const std::vector<std::string>& overrides, std::int64_t threads,
         const std::string& out) {
        sl::check_thread_count(threads, "threads");
        const sl::SweepSpec spec =
            path ? sl::load_sweep_file(*path, overrides, sl::implemented_policies())
                 : sl::load_sweep_text(text.value_or(""), origin, base_dir, overrides, sl::implemented_policies());
        sl::check_auctions_reach_index(spec.points, spec.policies, spec.source_file);
        const std::vector<sl::SweepRunSpec> runs =
            sl::plan_sweep(spec.points.size(), spec.policies, spec.first_seed, spec.seeds);
        const sl::SweepOutcome o = run_sweep_releasing_gil(
            spec.points, runs,
            sweep_options(out, threads, sl::results_file_attributes(spec.base.source_json, spec.first_seed)));
        return outcome_info(o, out);
      },
      py::arg("path"), py::arg("text"), py::arg("origin"), py::arg("base_dir"), py::arg("overrides"),
      py::arg("threads"), py::arg("out"),
      "stresslab sweep: a sweep file (path, or JSON text whose base resolves against base_dir) into `out`");
}
