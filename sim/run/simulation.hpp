// The kernel: builds the market and agent populations from a scenario, runs the step loop of
// model.md section 1 and hands back a RunResult. One Simulation is one run: single-threaded and
// fully determined by (scenario, seed), so runs can execute on any thread in any order.
#pragma once
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <functional>
#include <memory>
#include <string>

#include "scenarios/scenario_config.hpp"
#include "sim/run/invariants.hpp"
#include "sim/run/run_result.hpp"

namespace sl {

struct RunOptions {
  std::uint64_t seed = 1;       // the run's seed; all random streams derive from it
  std::int64_t run_index = 0;   // position of the run in a file (not used for randomness)
  std::string policy;           // liquidation policy; empty = the scenario's perp.liquidation.policy
  // Called every `progress_every_steps` steps with (steps done, horizon); may be empty.
  std::function<void(std::int64_t, std::int64_t)> progress;
  std::int64_t progress_every_steps = 10'000;
  // Checked every step; when it becomes true the run stops by throwing Interrupted.
  const std::atomic<bool>* cancel = nullptr;
  // Check the invariants of sim/run/invariants.hpp after the liquidation stage of every step
  // (throws InvariantError). Default: on in the test and sanitizer builds, off otherwise.
  bool check_invariants = g_check_invariants_default;
};

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

struct RunCounters {
  std::int64_t steps = 0;
  std::int64_t messages = 0;     // order messages received by all venues (limit, market, cancel)
  std::int64_t trades = 0;
  std::int64_t agent_actions = 0;
  std::uint64_t ledger_transfers = 0;
  // Agent populations at the end of the run (for tests and diagnostics):
  std::int64_t arb_filled_lots = 0;    // lots traded by all arbitrageurs, all venues
  std::int64_t basis_entered = 0;      // basis traders that built a (hedged) position
  std::int64_t basis_hedged = 0;       // ... whose spot owned (wallet + margin + in transit) equals their short contracts exactly
  std::int64_t leveraged_entered = 0;  // leveraged traders whose entry order filled
  // Passive positions the margin engine still watched at the end (never made margin accounts:
  // MarginEngine::watch), and those it made margin accounts during the run or at set-up.
  std::int64_t positions_watched_at_end = 0;
  std::int64_t positions_made_accounts = 0;
  // Passive positions' ledger rows never written (Ledger: deferred rows): never read or moved.
  std::int64_t position_rows_unwritten_at_end = 0;
  std::int64_t watch_rebuilds = 0;  // rebuilds of every watched position's bands (haircut change, far edge reached)
  // Wall seconds (for the benches): building the world before step 0 (accounts, agents, the
  // recorder), and step 0 alone (its mark values and indexes every margined account).
  double setup_s = 0.0;
  double first_step_s = 0.0;
};

// Runs one scenario to the horizon. Throws ConservationError (a bug, exit 1) if any asset's ledger
// sum is not exactly zero at the end.
RunResult run_simulation(const ScenarioConfig& scenario, const RunOptions& options, RunCounters* counters = nullptr);

}  // namespace sl
