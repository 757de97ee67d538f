// Liquidator classes in a whole run (scenarios/crash_classes.json, issue #14 item 3): participation
// depends on the penalty. Not hand computations: properties of a run that follow from the rule.
#include <doctest/doctest.h>

#include <string>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::metric;

namespace {

RunResult crash_classes(const std::string& penalty_bps) {
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash_classes.json",
                                               {"horizon_steps=1200", "perp.liquidation.penalty_bps=" + penalty_bps});
  RunOptions o;
  o.seed = 2020;
  return run_simulation(sc, o);
}

}  // namespace

TEST_CASE("liquidator classes on crash: at penalty 0 no bot comes and the venue acts only after its 30-step delay") {
  // Reward 0 < gas for every class: nobody enters; the fallback (protocol_fallback_steps 30) closes
  // every account, at least 30 steps after its flag, at a cost of 100 each to the fund.
  const RunResult r = crash_classes("0");
  REQUIRE(r.liquidations.size() > 0);
  int first_events = 0;
  for (const LiquidationEvent& e : r.liquidations) {
    CHECK(e.liquidator == -1);
    CHECK(e.penalty == 0.0);
    if (e.steps_to_complete > 0) {
      ++first_events;
      CHECK(e.steps_to_complete >= 30);
    }
  }
  MESSAGE("events " << r.liquidations.size() << ", with a delay " << first_events << ", liquidator_profit "
                    << metric(r, "liquidator_profit"));
  CHECK(first_events > 0);
  CHECK(metric(r, "liquidator_profit") == 0.0);  // no bot ever paid or earned anything
}

TEST_CASE("liquidator classes on crash: at penalty 100 bots win liquidations, sooner than the fallback") {
  const RunResult r = crash_classes("100");
  int by_bots = 0, by_bots_before_fallback = 0;
  for (const LiquidationEvent& e : r.liquidations)
    if (e.liquidator >= 0) {
      ++by_bots;
      if (e.steps_to_complete < 30) ++by_bots_before_fallback;
    }
  MESSAGE("events " << r.liquidations.size() << ", by bots " << by_bots << ", before step 30 " << by_bots_before_fallback);
  CHECK(by_bots > 0);
  CHECK(by_bots_before_fallback == by_bots);  // a bot only ever acts within its latency, well before 30
}
