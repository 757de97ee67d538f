// The long cascade of scenarios/crash_scheduled.json (crash.json before issue #14 switched its makers:
// reference-anchored makers, the scheduled liquidity_withdrawal; the channel below was traced on it)
// over 20 seeds: liquidations beyond those the exogenous
// fall alone would cause, and the channel that carries them. Figures are pooled over seeds
// (sum of all liquidated notional / sum of exogenous liquidated notional) so one seed with little
// exogenous notional cannot dominate; the per-configuration values are printed for the record.
#include <doctest/doctest.h>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::metric;
using sl::test::series;

namespace {

struct Pooled {
  double total = 0, exogenous = 0, bad_debt = 0;
  double amplification() const { return exogenous > 0 ? total / exogenous : 0; }
};


Pooled pooled(const std::vector<std::string>& sets, int seeds = 20, const char* file = "crash_scheduled.json") {
  // The cascade channel studied here is forced selling into the book: the `market` policy's V1
  // orders (unlimited market orders). Under the Binance IOC at the bankruptcy price (the default
  // since #12) most flagged positions go to the insurance fund, whose unwinding becomes the seller;
  // there, without arbitrageurs, amplification is HIGHER (crash, 20 seeds: 3.62 vs 2.11 with them).
  std::vector<std::string> all = sets;
  all.push_back("perp.liquidation.market_order=market");
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/" + file, all);
  Pooled p;
  for (int s = 1; s <= seeds; ++s) {
    RunOptions o;
    o.seed = static_cast<std::uint64_t>(s);
    const RunResult r = run_simulation(sc, o);  // also checks conservation exactly
    p.total += metric(r, "liquidated_notional");
    p.exogenous += metric(r, "exogenous_liquidated_notional");
    p.bad_debt += metric(r, "bad_debt");
  }
  return p;
}

}  // namespace

TEST_CASE("crash: forced selling liquidates well beyond the exogenous fall, through hedging and arbitrage") {
  const Pooled base = pooled({});
  const Pooled no_hedge = pooled({"agents.market_makers.hedge=false"});
  const Pooled no_arbs = pooled({"agents.arbitrageurs.count=0"});
  MESSAGE("pooled amplification: base " << base.amplification() << " (total " << base.total << ", exogenous "
          << base.exogenous << "), makers not hedging " << no_hedge.amplification() << ", no arbitrageurs "
          << no_arbs.amplification());
  // A cascade: at least half as much again liquidated as the exogenous move explains.
  CHECK(base.amplification() > 1.5);
  // The channel: perp selling reaches the spot book (hence the index and the mark) through makers'
  // cross-venue hedges and arbitrageurs' perp-vs-spot trades; remove either and less of it is
  // endogenous.
  CHECK(no_hedge.amplification() < base.amplification());
  CHECK(no_arbs.amplification() < base.amplification());
}

TEST_CASE("crash: thinner spot depth (where the index is made) amplifies the cascade") {
  // The mark is the index plus a clamped premium, and the index is made on the spot books: the
  // cascade feeds on how far the perp's forced selling, passed on by hedges and arbitrage, moves
  // spot. Makers' spot quote size x2, x1, x0.5, x0.25 of the perp makers'.
  std::vector<double> amp;
  for (const char* m : {"2", "1", "0.5", "0.25"}) amp.push_back(pooled({std::string("agents.market_makers.spot_size_multiplier=") + m}).amplification());
  MESSAGE("pooled amplification by spot depth x2, x1, x0.5, x0.25: " << amp[0] << ", " << amp[1] << ", " << amp[2] << ", " << amp[3]);
  CHECK(amp[1] > amp[0]);
  CHECK(amp[2] > amp[1]);
  CHECK(amp[3] > amp[2]);
  // Maker depth on both venues works the other way for the ratio (recorded, not asserted): the
  // liquidated notional stays flat, but a deeper perp book takes more of each IOC before the fund
  // takes over the rest, the mark leads the reference down, and the same accounts are flagged a
  // few steps earlier, as endogenous (traced in scenarios/README.md, "Depth and amplification").
  const double deep_perp = pooled({"agents.market_makers.levels=12"}).amplification();
  const double thin_perp = pooled({"agents.market_makers.levels=3"}).amplification();
  MESSAGE("pooled amplification with maker levels 12 vs 3 (both venues): " << deep_perp << " vs " << thin_perp);
}

TEST_CASE("crash.json (switched): arbitrage and thinner spot books still carry the cascade, makers' hedges no longer do") {
  // The shipped crash since issue #14's switch (makers from what they see, own withdrawal,
  // sweeping arbitrageurs, index half outside venues). Measured, pooled over seeds 1-20 (V1
  // orders): base 2.122; no arbitrageurs 1.428; spot quote size x2 / x0.5 / x0.25: 1.841 / 2.274 /
  // 2.418; makers not hedging 2.322 (ABOVE the base, unlike crash_scheduled's 1.799 < 2.129; recorded,
  // not asserted: on the series, unhedged perp makers keep the selling in the perp's premium, which
  // the mark takes whole, while a hedge moves it to spot, of which the composite index passes half;
  // scenarios/README.md, "The crash family switched").
  // fix13 (issue #14 visible prices, 2026-12-07): base 2.122 -> 1.580; no arbitrageurs 1.428 -> 1.357;
  // spot x2 / x0.5 / x0.25: 1.841 / 2.274 / 2.418 -> 1.531 / 1.627 / 1.719; makers not hedging 2.322 -> 1.878.
  const Pooled base = pooled({}, 20, "crash.json");
  const Pooled no_arbs = pooled({"agents.arbitrageurs.count=0"}, 20, "crash.json");
  CHECK(base.amplification() > 1.5);
  CHECK(no_arbs.amplification() < base.amplification());
  std::vector<double> amp;
  for (const char* m : {"2", "1", "0.5", "0.25"})
    amp.push_back(pooled({std::string("agents.market_makers.spot_size_multiplier=") + m}, 20, "crash.json").amplification());
  MESSAGE("crash.json pooled amplification: base " << base.amplification() << ", no arbitrageurs " << no_arbs.amplification()
          << "; by spot depth x2, x1, x0.5, x0.25: " << amp[0] << ", " << amp[1] << ", " << amp[2] << ", " << amp[3]
          << "; makers not hedging " << pooled({"agents.market_makers.hedge=false"}, 20, "crash.json").amplification());
  CHECK(amp[1] > amp[0]);
  CHECK(amp[2] > amp[1]);
  CHECK(amp[3] > amp[2]);
}
