// Whole-run properties of the kernel: determinism, seed sensitivity, common random numbers,
// conservation, and the market makers' response to volatility.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "scenarios/loader.hpp"
#include "sim/market/reference_process.hpp"
#include "sim/run/simulation.hpp"

using namespace sl;

namespace {
const std::string kCalm = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/calm.json";

ScenarioConfig calm(std::vector<std::string> sets = {}) {
  sets.insert(sets.begin(), {"horizon_steps=600", "agents.noise_traders.count=60"});
  return load_scenario_file(kCalm, sets);
}

const SeriesColumn& column(const RunResult& r, const std::string& name) {
  for (const auto& c : r.series)
    if (c.name == name) return c;
  FAIL("no column " << name);
  throw;
}

double summary(const RunResult& r, const std::string& name) {
  for (const auto& [k, v] : r.summary)
    if (k == name) return v;
  FAIL("no summary metric " << name);
  return 0;
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
}  // namespace

TEST_CASE("sim: same scenario and seed give bit-identical series - another seed differs") {
  const ScenarioConfig sc = calm();
  RunOptions o;
  o.seed = 7;
  const RunResult a = run_simulation(sc, o), b = run_simulation(sc, o);
  REQUIRE(a.series.size() == b.series.size());
  for (std::size_t i = 0; i < a.series.size(); ++i) {
    CHECK(a.series[i].name == b.series[i].name);
    REQUIRE(a.series[i].values.size() == b.series[i].values.size());
    CHECK(std::memcmp(a.series[i].values.data(), b.series[i].values.data(), a.series[i].values.size() * sizeof(double)) == 0);
  }
  o.seed = 8;
  const RunResult c = run_simulation(sc, o);
  CHECK(column(a, "reference").values != column(c, "reference").values);
  CHECK(column(a, "spot_mid").values != column(c, "spot_mid").values);
}

TEST_CASE("sim: the reference path is common to every agent population (common random numbers)") {
  RunOptions o;
  o.seed = 11;
  const RunResult few = run_simulation(calm({"agents.noise_traders.count=5"}), o);
  const RunResult many = run_simulation(calm({"agents.noise_traders.count=80", "agents.market_makers.levels=8"}), o);
  CHECK(column(few, "reference").values == column(many, "reference").values);
  CHECK(column(few, "spot_mid").values != column(many, "spot_mid").values);
}

TEST_CASE("sim: a calm run trades, conserves every asset and keeps mids near the reference") {
  RunOptions o;
  o.seed = 3;
  RunCounters c;
  const RunResult r = run_simulation(calm(), o, &c);  // throws ConservationError if any sum != 0
  CHECK(summary(r, "conservation_ok") == 1.0);
  CHECK(c.trades > 50);  // ~90 noise market orders expected: 60 traders x 6/h x 600 s
  CHECK(c.messages > c.trades);
  const auto& ref = column(r, "reference").values;
  const auto& mid = column(r, "spot_mid").values;
  REQUIRE(ref.size() == 600);
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(mid[i] / ref[i] - 1.0));
  CHECK(worst < 0.005);  // within 50 bps of the reference at every step in a calm market
  CHECK(summary(r, "mean_spot_spread_bps") > 0.0);
  CHECK(summary(r, "mean_spot_spread_bps") < 30.0);
}

TEST_CASE("sim: market makers thin their depth and widen spreads when volatility rises") {
  RunOptions o;
  o.seed = 5;
  // Same calm-regime volatility (the makers' yardstick); in `wild` the stress regime (5x vol) starts
  // within seconds and never ends.
  const std::vector<std::string> quiet{"assets.0.reference.p_calm_to_stress_per_hour=0"};
  const std::vector<std::string> wild{"assets.0.reference.p_calm_to_stress_per_hour=3600",
                                      "assets.0.reference.p_stress_to_calm_per_hour=0",
                                      "assets.0.reference.vol_stress_annual=2.5"};
  const RunResult q = run_simulation(calm(quiet), o), w = run_simulation(calm(wild), o);
  const double depth_q = mean(column(q, "spot_bid_depth_1pct").values), depth_w = mean(column(w, "spot_bid_depth_1pct").values);
  CHECK(depth_w < 0.8 * depth_q);
  CHECK(summary(w, "mean_spot_spread_bps") > 1.5 * summary(q, "mean_spot_spread_bps"));
}

TEST_CASE("calm.json (switched, issue #14): the makers' pull rules never fire at calm volatility, and do under stress") {
  // calm.json's makers pull levels on short-horizon volatility (ratio to calm vol above 2), inventory
  // (beyond half of max_inventory) and a 20,000 USDT loss limit. A calm market must not trip them:
  // the same file with every pull trigger disabled (threshold 1e6, inventory threshold 1, no loss
  // limit; the vol widening of the spread kept) must give a bit-identical run when the reference is
  // a plain GBM at the calm 50% annual vol (no stress regime), over the file's whole hour, 10 seeds.
  // Not vacuous: with the stress regime forced (5x the vol from the first seconds) the two differ.
  // Counted with a scratch build (instrumented MakerWithdrawal::update, never committed; summaries
  // equal to the release binary's): 48 h of calm.json as shipped (regime switching, seeds 42-51)
  // trip the vol rule on 354-972 of 1,036,800 requotes (0.03-0.09%), the inventory and loss rules
  // never; some level is held pulled (cool-down 60 s) on 0.8-2.3% of requotes, 0.19-0.49% of the
  // level slots. As a plain GBM (seeds 42-51, 48 h) no rule ever fires.
  const std::string kFile = kCalm;
  const std::vector<std::string> no_pulls{"agents.market_makers.withdrawal.vol_ratio_threshold=1e6",
                                          "agents.market_makers.withdrawal.inventory_threshold=1",
                                          "agents.market_makers.withdrawal.loss_limit_quote=0"};
  auto with = [&](std::vector<std::string> sets, const std::vector<std::string>& extra) {
    sets.insert(sets.end(), extra.begin(), extra.end());
    return load_scenario_file(kFile, sets);
  };
  const ScenarioConfig shipped = load_scenario_file(kFile);
  REQUIRE(shipped.agents.market_makers.withdrawal.enabled);
  REQUIRE(shipped.agents.market_makers.withdrawal.vol_ratio_threshold == 2.0);
  const std::vector<std::string> gbm{"assets.0.reference.p_calm_to_stress_per_hour=0"};
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    CAPTURE(seed);
    RunOptions o;
    o.seed = seed;
    const RunResult a = run_simulation(with(gbm, {}), o), b = run_simulation(with(gbm, no_pulls), o);
    REQUIRE(column(a, "spot_mid").values.size() == 3600);
    CHECK(column(a, "spot_mid").values == column(b, "spot_mid").values);
    CHECK(column(a, "perp_mid").values == column(b, "perp_mid").values);
    CHECK(column(a, "perp_bid_depth_1pct").values == column(b, "perp_bid_depth_1pct").values);
    CHECK(summary(a, "trades") == summary(b, "trades"));
  }
  const std::vector<std::string> wild{"assets.0.reference.p_calm_to_stress_per_hour=3600",
                                      "assets.0.reference.p_stress_to_calm_per_hour=0",
                                      "assets.0.reference.vol_stress_annual=2.5"};
  RunOptions o;
  o.seed = 1;
  const RunResult a = run_simulation(with(wild, {}), o), b = run_simulation(with(wild, no_pulls), o);
  CHECK(column(a, "perp_bid_depth_1pct").values != column(b, "perp_bid_depth_1pct").values);
  MESSAGE("stress regime forced, seed 1: mean perp bid depth within 1% " << mean(column(a, "perp_bid_depth_1pct").values)
          << " BTC with the pull rules, " << mean(column(b, "perp_bid_depth_1pct").values) << " without");
  // Pulled levels thin the book: less 1% depth on average than with the rules off (measured 3.95
  // against 4.82 BTC).
  CHECK(mean(column(a, "perp_bid_depth_1pct").values) < mean(column(b, "perp_bid_depth_1pct").values));
}

TEST_CASE("reference process: log returns have the GBM mean and variance - regimes occupy their stationary share") {
  ReferenceConfig rc;
  rc.drift_annual = 0.0;
  rc.vol_calm_annual = 0.8;
  rc.vol_stress_annual = 0.8;
  rc.p_calm_to_stress_per_hour = 0.0;
  const double dt = 60.0;
  ReferenceProcess p(rc, 100.0, dt, make_rng(1, 0, kStreamReference));
  const int n = 200'000;
  double s = 0, s2 = 0, prev = std::log(100.0);
  for (int i = 0; i < n; ++i) {
    const double x = std::log(p.step());
    s += x - prev;
    s2 += (x - prev) * (x - prev);
    prev = x;
  }
  const double dty = dt / (365.0 * 86400.0);
  const double var = s2 / n - (s / n) * (s / n);
  CHECK(var == doctest::Approx(0.64 * dty).epsilon(0.01));  // sampling error of the variance ~ sqrt(2/n) = 0.3%
  CHECK(std::abs(s / n - (-0.5 * 0.64 * dty)) < 4.0 * std::sqrt(0.64 * dty / n));

  ReferenceConfig sw;
  sw.p_calm_to_stress_per_hour = 0.5;
  sw.p_stress_to_calm_per_hour = 1.5;
  ReferenceProcess q(sw, 100.0, dt, make_rng(2, 0, kStreamReference));
  int stressed = 0;
  for (int i = 0; i < n; ++i) {
    q.step();
    stressed += q.stressed();
  }
  // Stationary share of the stress regime: p_cs / (p_cs + p_sc) with per-step switch probabilities.
  const double a = 1 - std::exp(-0.5 * dt / 3600), b = 1 - std::exp(-1.5 * dt / 3600);
  CHECK(static_cast<double>(stressed) / n == doctest::Approx(a / (a + b)).epsilon(0.05));
}

TEST_CASE("reference process: Merton jumps add their mean to the drift of log returns") {
  ReferenceConfig rc;
  rc.vol_calm_annual = 0.0;
  rc.vol_stress_annual = 0.0;
  rc.p_calm_to_stress_per_hour = 0.0;
  rc.jump_intensity_per_day = 24.0 * 60.0;  // one per minute on average
  rc.jump_mean_log = -0.001;
  rc.jump_stdev_log = 0.0;
  ReferenceProcess p(rc, 100.0, 60.0, make_rng(3, 0, kStreamReference));
  const int n = 100'000;
  for (int i = 0; i < n; ++i) p.step();
  // log(P_n / P_0) = -0.001 * N, N ~ Poisson(n): expect -100 +- 4 * sqrt(n) * 0.001 = +-1.26
  CHECK(std::log(p.price() / 100.0) == doctest::Approx(-0.001 * n).epsilon(0.013));
}
