// Watched positions (MarginEngine::watch, issue #15): a passive position is a ledger account whose
// price bands the margin engine keeps, made a margin account only when a price leaves a band or
// when funding, ADL, a loss haircut, a haircut change or a full scan reaches it. The limiting case:
// a run in which every position is a margin account from set-up (the same positions loaded through
// accounts.file) is the same run, bit for bit, whatever reaches the positions.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "agents/passive_positions.hpp"
#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/same_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sl;

namespace {

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";

struct WatchedRun {
  RunResult run;
  RunCounters counters;
};

// The population of `n` positions (watched) against the same positions as an accounts.file (every
// one a margin account from set-up): the same run. Returns the population's run and counters.
WatchedRun check_watched_equals_accounts(const std::vector<std::string>& sets, int n, const char* policy, std::uint64_t seed,
                                         const sl::test::TempDir& dir, const std::string& tag) {
  std::vector<std::string> with = sets;
  with.push_back("agents.passive_positions.count=" + std::to_string(n));
  const ScenarioConfig pop = load_scenario_file(kCrash, with);
  const std::string csv = dir.file("positions_" + tag + ".csv");
  {
    std::ofstream f(csv);
    write_position_csv(draw_passive_positions(pop, seed), pop, f);
  }
  std::vector<std::string> file_sets = sets;
  file_sets.push_back("accounts.file=\"" + csv + "\"");
  const ScenarioConfig from_file = load_scenario_file(kCrash, file_sets);
  RunOptions ro;
  ro.seed = seed;
  ro.policy = policy;
  WatchedRun w;
  w.run = run_simulation(pop, ro, &w.counters);  // conservation and the solvency invariants are checked inside
  RunCounters file_counters;
  sl::test::check_same_run(w.run, run_simulation(from_file, ro, &file_counters), "watched vs accounts, " + tag);
  CHECK(file_counters.positions_watched_at_end == 0);  // a file's rows are margin accounts from set-up
  CHECK(w.counters.positions_watched_at_end + w.counters.positions_made_accounts == n);
  return w;
}

// Distinct positions with a liquidation (or ADL) event: each was a margin account by then.
std::size_t positions_with_events(const RunResult& r) {
  std::set<AccountId> s;
  for (const LiquidationEvent& e : r.liquidations)
    if (e.agent_type == "position") s.insert(e.account);
  return s.size();
}

}  // namespace

TEST_CASE("watched positions: only those a price reaches become margin accounts, and the run is the accounts' run") {
  sl::test::TempDir dir("sl_watched");
  // crash.json's 3% fall at step 600 with 3,000 positions of the example's shape (up to 125x).
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=1200"}, 3000, "market", 42, dir, "market");
  const std::size_t liquidated = positions_with_events(w.run);
  MESSAGE("made margin accounts " << w.counters.positions_made_accounts << ", still watched " << w.counters.positions_watched_at_end
                                  << ", liquidated " << liquidated);
  CHECK(liquidated > 10);
  CHECK(w.counters.positions_made_accounts >= static_cast<std::int64_t>(liquidated));
  // No funding settles in 1,200 s (interval 8 h) and no ADL runs under `market`: the positions no
  // price band reached stay watched (the fall is 3%; a 2x position's band is ~45% away).
  CHECK(w.counters.positions_watched_at_end > 1500);
}

TEST_CASE("watched positions: funding reaches every position (all made margin accounts at the first settlement)") {
  sl::test::TempDir dir("sl_watched_f");
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=700", "perp.funding.interval_s=600"}, 2000, "market", 5, dir, "funding");
  CHECK(w.counters.positions_watched_at_end == 0);
  CHECK(w.counters.positions_made_accounts == 2000);
}

TEST_CASE("watched positions: ADL ranks every position (socialized with no fund)") {
  sl::test::TempDir dir("sl_watched_a");
  const WatchedRun w =
      check_watched_equals_accounts({"horizon_steps=1200", "perp.liquidation.insurance_fund_start=0"}, 3000, "socialized", 44, dir, "adl");
  bool adl = false;
  for (const LiquidationEvent& e : w.run.liquidations) adl |= e.agent_type == "position" && is_adl_fill(e);
  CHECK(adl);
  CHECK(w.counters.positions_watched_at_end == 0);
}

TEST_CASE("watched positions: the proactive de-risker and a volatility-linked haircut give the accounts' run") {
  sl::test::TempDir dir("sl_watched_p");
  // The de-risker reads every account's equity / maintenance against its trigger each step (bands
  // keep watched positions above it); the haircut moves with the index's volatility, so every
  // watched position's bands are computed again at each change (a quarter of cross positions hold
  // spot collateral).
  const WatchedRun p = check_watched_equals_accounts({"horizon_steps=1200", "perp.liquidation.proactive.enabled=true"}, 3000, "market", 7, dir,
                                                     "proactive");
  bool derisked = false;
  for (const LiquidationEvent& e : p.run.liquidations) derisked |= e.policy_path == "proactive";
  CHECK(derisked);
  const WatchedRun h = check_watched_equals_accounts({"horizon_steps=1200", "assets.0.collateral_haircut=0.05", "assets.0.haircut_vol_z=3",
                                                      "assets.0.haircut_vol_horizon_s=3600", "assets.0.haircut_vol_window_steps=60"},
                                                     3000, "dutch", 8, dir, "haircut");
  CHECK(h.counters.positions_watched_at_end > 0);
}
