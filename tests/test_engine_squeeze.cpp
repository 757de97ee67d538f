// The basis loop of scenarios/short_squeeze.json over 20 seeds: basis traders' short perp legs are
// margin-called in a rally while the spot they send as collateral is still in transfer. With the
// transfer delay removed (the control), the same rally and the same seeds, their top-ups arrive in
// time and their liquidations all but disappear. Figures are printed for the record.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::metric;
using sl::test::series;

namespace {


struct Totals {
  double basis_liqs = 0, total = 0, exogenous = 0, max_premium = 0, max_funding = 0;
  int seeds_with_basis_liqs = 0;
};

Totals run(const std::vector<std::string>& sets) {
  std::vector<std::string> all{"horizon_steps=4000"};  // the rally ends at step 2700; basis failures end before 3600
  all.insert(all.end(), sets.begin(), sets.end());
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/short_squeeze.json", all);
  Totals t;
  for (int s = 1; s <= 20; ++s) {
    RunOptions o;
    o.seed = static_cast<std::uint64_t>(s);
    const RunResult r = run_simulation(sc, o);
    const double b = metric(r, "basis_traders_liquidated");  // distinct accounts
    t.basis_liqs += b;
    t.seeds_with_basis_liqs += b > 0;
    t.total += metric(r, "liquidated_notional");
    t.exogenous += metric(r, "exogenous_liquidated_notional");
    t.max_premium = std::max(t.max_premium, metric(r, "max_premium_bps"));
    t.max_funding = std::max(t.max_funding, metric(r, "max_funding_estimate"));
  }
  return t;
}

}  // namespace

TEST_CASE("short squeeze: collateral stuck in transfer is what liquidates the basis traders") {
  const Totals delayed = run({});
  const Totals control = run({"agents.basis_traders.transfer_delay_steps=0"});
  MESSAGE("basis traders liquidated (accounts, 40 per seed) over 20 seeds: delay " << delayed.basis_liqs << " (" << delayed.seeds_with_basis_liqs
          << " seeds), control " << control.basis_liqs << " (" << control.seeds_with_basis_liqs << " seeds); amplification "
          << delayed.total / delayed.exogenous << " vs " << control.total / control.exogenous << "; max premium "
          << delayed.max_premium << " bps vs " << control.max_premium << "; max funding estimate " << delayed.max_funding
          << " vs " << control.max_funding);
  CHECK(delayed.seeds_with_basis_liqs >= 15);                  // the loop fires on most seeds
  CHECK(control.basis_liqs <= 0.1 * delayed.basis_liqs);       // and mostly disappears without the delay
  CHECK(delayed.total > delayed.exogenous);                     // liquidations beyond the exogenous move
}

namespace {
struct SpotGap {
  double max_bps = 0, end_bps = 0;  // max |spot_mid / reference - 1| and its signed value at step 4000
};
// short_squeeze.json, market, first 4000 steps, with `room` BTC of arbitrage position each.
SpotGap squeeze_spot_gap(std::uint64_t seed, const std::string& room) {
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/short_squeeze.json",
                                               {"horizon_steps=4000", "agents.arbitrageurs.max_position=" + room});
  RunOptions o;
  o.seed = seed;
  const RunResult r = run_simulation(sc, o);
  const std::vector<double>& spot = series(r, "spot_mid");
  const std::vector<double>& ref = series(r, "reference");
  REQUIRE(spot.size() == 4000);
  SpotGap g;
  for (std::size_t i = 0; i < spot.size(); ++i) g.max_bps = std::max(g.max_bps, std::abs(spot[i] / ref[i] - 1.0) * 1e4);
  g.end_bps = (spot.back() / ref.back() - 1.0) * 1e4;
  MESSAGE("seed " << seed << ", max_position " << room << ": max |spot/reference - 1| " << g.max_bps << " bps, at step 4000 "
                  << g.end_bps << " bps");
  return g;
}
}  // namespace

TEST_CASE("short squeeze (switched, issue #14): with 100 BTC of arbitrage room each the spot book stays within 200 bps of the reference") {
  // The switched file's makers see no reference; only the arbitrageurs bring the outside price in.
  // The perp makers hedge the forced buy-backs they sell with spot buys (278 BTC by step 3500, seed
  // 2021, traced in scenarios/README.md "Why max_position 100"). Measured (market, first 4000 steps,
  // series spot_mid / reference): max |gap| 86.0 / 70.2 / 44.0 bps with the shipped 100 BTC (seeds
  // 2021-2023; fix13: 87.8 / 70.9 / 48.4). Bound: 200 bps (a real venue's spot does not trade 2% from
  // the others' for long). With 50 BTC it does not: the test case below.
  for (std::uint64_t seed : {2021, 2022, 2023}) {
    CAPTURE(seed);
    const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/short_squeeze.json");
    CHECK(sc.agents.arbitrageurs.max_position == 100.0);  // the shipped value
    CHECK(squeeze_spot_gap(seed, "100").max_bps < 200.0);
  }
}

// With half the room (50 BTC each, the file before the switch) the arbitrageurs run out and the spot
// book stays well above the reference, but no longer runs away. Before fix13 (main 42d8e95) each maker
// hedge lifted a noise trader's ask priced off the last trade of a one-sided book, and the gap ratcheted
// up: +1,071 / +726 / +875 bps at step 4000 (seeds 2021-2023; 44 of 50 runs of the full file ended
// more than 5% above the reference). fix13's noise traders price a one-sided book off the index, so
// the asks they add sit near the index and cap the gap. Measured on main 7a62a3b (market, first 4000
// steps, series spot_mid / reference), 50 BTC: max |gap| 288.6 / 298.7 / 269.4 bps, at step 4000
// +207.7 / +211.0 / +225.9; 100 BTC: max 87.8 / 70.9 / 48.4, at step 4000 +7.1 / +10.3 / +11.8.
// Over the full file's 50 seeds (7200 steps, market) with 50 BTC: 0 of 50 runs end more than 5% above
// the reference (median +225 bps, largest +354), every run passes 200 bps at some step (largest 391
// bps); with 100 BTC none does (largest 113 bps). Bounds: 50 BTC breaks the 200-bps bound that 100 BTC
// keeps (the case above), ends at least 100 bps above the reference and 100 bps above the 100-BTC run
// of the same seed, and stays under the 500-bps runaway threshold.
TEST_CASE("short squeeze (switched, issue #14): with 50 BTC of arbitrage room each the spot book stays 2-3% above the reference, bounded (no runaway since fix13)") {
  for (std::uint64_t seed : {2021, 2022, 2023}) {
    CAPTURE(seed);
    const SpotGap half = squeeze_spot_gap(seed, "50");
    const SpotGap full = squeeze_spot_gap(seed, "100");
    CHECK(half.max_bps > 200.0);                 // 269-299 measured: the shipped bound fails with 50 BTC
    CHECK(half.end_bps > 100.0);                 // +208 to +226 measured
    CHECK(half.end_bps > full.end_bps + 100.0);  // against +7 to +12 with 100 BTC
    CHECK(half.max_bps < 500.0);                 // no runaway: 269-299 (before fix13 871-1,201)
  }
}
