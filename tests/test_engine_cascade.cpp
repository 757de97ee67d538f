// The long cascade of scenarios/crash.json over 20 seeds: liquidations beyond those the exogenous
// fall alone would cause, and the channel that carries them. Figures are pooled over seeds
// (sum of all liquidated notional / sum of exogenous liquidated notional) so one seed with little
// exogenous notional cannot dominate; the per-configuration values are printed for the record.
#include <doctest/doctest.h>

#include "scenarios/loader.hpp"
#include "sim/simulation.hpp"

using namespace sl;

namespace {

struct Pooled {
  double total = 0, exogenous = 0, bad_debt = 0;
  double amplification() const { return exogenous > 0 ? total / exogenous : 0; }
};

double metric(const RunResult& r, const std::string& name) {
  for (const auto& [k, v] : r.summary)
    if (k == name) return v;
  FAIL("no metric " << name);
  return 0;
}

Pooled pooled(const std::vector<std::string>& sets, int seeds = 20) {
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json", sets);
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
