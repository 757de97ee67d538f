// Proactive de-risking ahead of the maintenance threshold (perp.liquidation.proactive).
#include <doctest/doctest.h>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::metric;
using sl::test::series;

namespace {
}  // namespace

TEST_CASE("proactive de-risking closes part of thin-book positions before they are liquidated") {
  double liq_off = 0, liq_on = 0, derisked = 0;
  std::size_t proactive_events = 0, bad_events = 0;
  for (int s = 1; s <= 5; ++s) {
    RunOptions o;
    o.seed = static_cast<std::uint64_t>(s);
    const std::string file = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";
    // Liquidations by V1 market orders into the book (perp.liquidation.market_order=market): the
    // forced selling de-risking is meant to pre-empt. Under the Binance IOC (default) most flagged
    // positions go to the fund instead, and de-risking cuts liquidated notional by 10.5%, not 20%
    // (5 seeds: 2.39e7 -> 2.14e7).
    const std::string v1 = "perp.liquidation.market_order=market";
    const RunResult off = run_simulation(load_scenario_file(file, {v1}), o);
    const RunResult on = run_simulation(load_scenario_file(file, {"perp.liquidation.proactive.enabled=true", v1}), o);
    CHECK(metric(off, "proactive_derisk_count") == 0);
    liq_off += metric(off, "liquidated_notional");
    liq_on += metric(on, "liquidated_notional");
    derisked += metric(on, "proactive_derisk_notional");
    for (const auto& e : on.liquidations) {
      if (e.policy_path != "proactive") continue;
      ++proactive_events;
      // A de-risking is taken by the protocol from an account that was not liquidatable.
      bad_events += e.liquidator != -1 || e.endogenous || e.notional <= 0;
    }
  }
  MESSAGE("liquidated notional over 5 seeds: " << liq_off << " without, " << liq_on << " with de-risking (" << derisked
          << " de-risked in " << proactive_events << " events)");
  CHECK(proactive_events > 0);
  CHECK(bad_events == 0);
  CHECK(liq_on < 0.8 * liq_off);  // fewer forced liquidations once positions are cut ahead of time
}

TEST_CASE("proactive de-risking depends on the depth a position would be sold into") {
  // No shock; every account is a candidate (trigger 10x maintenance); the predicted move over
  // 600 s of the (median-smoothed) index is about 8 bps, so the depth that counts is the makers'
  // first levels. With
  // 0.05 BTC per maker level most positions (lognormal, mean 40,000 USDT = 1.3 BTC) are larger and
  // get cut; with 100 BTC per level none is.
  auto count = [](const char* size) {
    RunOptions o;
    o.seed = 3;
    const RunResult r = run_simulation(
        load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash_scheduled.json",  // makers that always quote their size
                           {"perp.liquidation.proactive.enabled=true", "perp.liquidation.proactive.trigger_ratio=10",
                            "perp.liquidation.proactive.horizon_s=600", std::string("agents.market_makers.quote_size=") + size,
                            "shocks=[]", "horizon_steps=300"}),
        o);
    return metric(r, "proactive_derisk_count");
  };
  const double thin = count("0.05"), deep = count("100");
  MESSAGE("de-riskings: " << thin << " with 0.05 BTC per maker level, " << deep << " with 100 BTC");
  CHECK(thin > 50);
  CHECK(deep == 0);
}
