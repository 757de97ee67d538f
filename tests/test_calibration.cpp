// Calibration core (sim/calibration/surface.hpp) on synthetic tables whose optimum is known in closed form,
// the interval logic on hand cases, and the two recorder metrics the objective needs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/calibration/surface.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;

namespace {

// Synthetic metrics: bad_debt = (p - vertex)^2 + e, unrealised 200, fund_drawdown = 300 - e / 2, penalties_paid =
// B x p + e', slippage_cost = 0, where the noises e, e' are (+a, -a, +b, -b, +c, -c) over the six seeds,
// so their mean over seeds is exactly 0. Then mean J(p) = (p - vertex)^2 + 500 + lambda x B x p,
// minimised at p* = vertex - lambda x B / 2.
constexpr double kB = 40.0;
constexpr std::size_t kSeeds = 6;

double noise(std::size_t cell, std::size_t cand, std::size_t seed, double scale) {
  const double mag = scale * static_cast<double>(1 + (cell * 7 + cand * 3 + seed / 2) % 5);
  return seed % 2 == 0 ? mag : -mag;
}

MetricTable synthetic(const std::vector<double>& vertices, const std::vector<Candidate>& cands) {
  MetricTable t(vertices.size(), cands.size(), kSeeds);
  for (std::size_t c = 0; c < vertices.size(); ++c)
    for (std::size_t k = 0; k < cands.size(); ++k)
      for (std::size_t s = 0; s < kSeeds; ++s) {
        const double p = cands[k].penalty_bps, e = noise(c, k, s, 300.0), e2 = noise(c + 3, k, s, 50.0);
        t.at(c, k, s) = SeedMetrics{(p - vertices[c]) * (p - vertices[c]) + e, 200.0, 300.0 - e / 2, kB * p + e2, 0.0};
      }
  return t;
}

// Brute force, independent of sim/calibration/surface.cpp: the candidate with the smallest mean J.
std::size_t brute_argmin(const MetricTable& t, std::size_t cell, double lambda) {
  std::size_t best = 0;
  double best_mean = INFINITY;
  for (std::size_t k = 0; k < t.n_candidates; ++k) {
    double sum = 0;
    for (std::size_t s = 0; s < t.n_seeds; ++s) {
      const SeedMetrics& m = t.at(cell, k, s);
      sum += m.bad_debt + m.unrealised_bad_debt + m.fund_drawdown + lambda * (m.penalties_paid + m.slippage_cost);
    }
    if (sum / t.n_seeds < best_mean) best_mean = sum / t.n_seeds, best = k;
  }
  return best;
}

}  // namespace

TEST_CASE("synthetic quadratic objective: the calibrated optimum is the closed-form vertex, for two lambdas") {
  std::vector<Candidate> cands;
  for (int p = 0; p <= 300; p += 10) cands.push_back(Candidate{static_cast<double>(p), 50.0});
  const std::vector<double> vertices = {150, 200, 100};
  const MetricTable t = synthetic(vertices, cands);
  for (double lambda : {0.0, 1.0}) {
    CAPTURE(lambda);
    SurfaceOptions o;
    o.lambda = lambda;
    o.bootstrap_resamples = 500;
    const std::vector<CellSurface> surf = calibrate(t, cands, o);
    REQUIRE(surf.size() == 3);
    for (std::size_t c = 0; c < 3; ++c) {
      CAPTURE(c);
      const double closed_form = vertices[c] - lambda * kB / 2;  // 150/200/100, then 130/180/80
      CHECK(cands[surf[c].best].penalty_bps == closed_form);
      CHECK(surf[c].best == brute_argmin(t, c, lambda));
      // The mean is exact because the noise sums to zero over seeds.
      const double offset = lambda * kB / 2;  // distance of the optimum from the lambda = 0 vertex
      CHECK(surf[c].objective[surf[c].best].mean ==
            doctest::Approx(offset * offset + 500.0 + lambda * kB * closed_form).epsilon(1e-12));
      // The bootstrap interval of the optimum brackets it.
      CHECK(surf[c].penalty_lo_bps <= closed_form);
      CHECK(surf[c].penalty_hi_bps >= closed_form);
      // Component means: bad debt at the vertex is 0 (noise averages out); penalties B x p.
      CHECK(surf[c].component_mean[0][surf[c].best] == doctest::Approx(lambda * kB / 2 * lambda * kB / 2).epsilon(1e-9));
      CHECK(surf[c].component_mean[3][surf[c].best] == doctest::Approx(kB * closed_form).epsilon(1e-12));
    }
  }
}

TEST_CASE("interval logic, hand case: seeds disagree, paired bootstrap share 7/27") {
  // Candidate 0 (10 bps): J = {0, 10, 0}; candidate 1 (20 bps): J = {5, 5, 5}.
  // Means 10/3 and 5: optimum 10 bps. s.d. of candidate 0 = sqrt(((10/3)^2 x 2 + (20/3)^2) / 2) = 5.7735,
  // s.e. 3.3333, t(2) = 4.303: interval 10/3 -+ 14.343.
  // Paired differences J1 - J0 = {5, -5, 5}: mean 5/3, the same s.e., interval 5/3 -+ 14.343, contains 0.
  // Bootstrap: candidate 1 wins a resample iff seed 1 is drawn at least twice of three:
  // P = 3 x (1/3)^2 x (2/3) + (1/3)^3 = 7/27 = 0.2593 > 2.5%, so the 97.5th percentile is 20 bps.
  const std::vector<Candidate> cands = {{10, 50}, {20, 50}};
  SurfaceOptions o;
  o.bootstrap_resamples = 20000;
  const CellSurface c = calibrate_cell({0, 10, 0, 5, 5, 5}, cands, 3, o, 0);
  CHECK(c.best == 0);
  const double se = std::sqrt(100.0 / 3.0) / std::sqrt(3.0);
  CHECK(c.objective[0].mean == doctest::Approx(10.0 / 3));
  CHECK(c.objective[0].lo == doctest::Approx(10.0 / 3 - 4.303 * se).epsilon(1e-9));
  CHECK(c.objective[0].hi == doctest::Approx(10.0 / 3 + 4.303 * se).epsilon(1e-9));
  CHECK(c.objective[1].lo == 5.0);
  CHECK(c.objective[1].hi == 5.0);
  CHECK(c.paired_diff[0].mean == 0.0);
  CHECK(c.paired_diff[1].mean == doctest::Approx(5.0 / 3));
  CHECK(c.paired_diff[1].lo == doctest::Approx(5.0 / 3 - 4.303 * se).epsilon(1e-9));
  CHECK(c.near_optimal[0]);
  CHECK(c.near_optimal[1]);
  CHECK(c.argmin_share[1] == doctest::Approx(7.0 / 27).epsilon(0.06));  // 3 s.e. of 20000 draws ~ 0.0093
  CHECK(c.argmin_share[0] + c.argmin_share[1] == doctest::Approx(1.0));
  CHECK(c.penalty_lo_bps == 10.0);
  CHECK(c.penalty_hi_bps == 20.0);
  // Same inputs, same bootstrap seed: identical; another seed gives another (still close) share.
  const CellSurface again = calibrate_cell({0, 10, 0, 5, 5, 5}, cands, 3, o, 0);
  CHECK(again.argmin_share == c.argmin_share);
}

TEST_CASE("interval logic, hand case: a candidate better on every common seed is optimal in every resample") {
  // J0 = {1, 2, 3}, J1 = {2, 3, 4}: J1 - J0 = 1 on every seed (s.d. 0): interval [1, 1] excludes 0.
  const std::vector<Candidate> cands = {{0, 30}, {100, 60}};
  const CellSurface c = calibrate_cell({1, 2, 3, 2, 3, 4}, cands, 3, SurfaceOptions{}, 4);
  CHECK(c.best == 0);
  CHECK(c.argmin_share[0] == 1.0);
  CHECK(c.penalty_lo_bps == 0.0);
  CHECK(c.penalty_hi_bps == 0.0);
  CHECK(c.mmr_lo_bps == 30.0);
  CHECK(c.mmr_hi_bps == 30.0);
  CHECK(c.paired_diff[1].lo == 1.0);
  CHECK(c.paired_diff[1].hi == 1.0);
  CHECK_FALSE(c.near_optimal[1]);
  // Ties go to the first (lowest) candidate.
  CHECK(calibrate_cell({3, 3, 3, 3}, cands, 2, SurfaceOptions{}, 0).best == 0);
  CHECK_THROWS_AS(calibrate_cell({1, NAN, 3, 4}, cands, 2, SurfaceOptions{}, 0), std::invalid_argument);
}

TEST_CASE("percentile_nearest_rank and objective by hand") {
  CHECK(percentile_nearest_rank({5, 1, 4, 2, 3}, 0.025) == 1.0);  // rank ceil(0.125) = 1
  CHECK(percentile_nearest_rank({5, 1, 4, 2, 3}, 0.975) == 5.0);  // rank ceil(4.875) = 5
  CHECK(percentile_nearest_rank({5, 1, 4, 2, 3}, 0.5) == 3.0);    // rank 3
  CHECK(std::isnan(percentile_nearest_rank({}, 0.5)));
  CHECK(objective(SeedMetrics{118, 7, 100, 0, 9}, 0.5) == 118 + 7 + 100 + 0.5 * 9);
}


TEST_CASE("recorder: slippage_cost and insurance_fund_drawdown by hand") {
  // The ladder world of tests/support/ladder_world.hpp (its arithmetic: tests/test_engine_liquidation.cpp).
  using sl::test::ladder_world;
  using sl::test::metric;
  using sl::test::run_world;
  SUBCASE("solvent close: 1 BTC sold at 9,031 against a mark of 9,040; the fund only gains") {
    const RunResult r = run_world(ladder_world(-9.6));
    CHECK(metric(r, "slippage_cost") == doctest::Approx(9.0).epsilon(1e-9));  // 1 x (9,040 - 9,031)
    CHECK(metric(r, "insurance_fund_drawdown") == 0.0);                     // 100 -> 111, never below 100
    const SeedMetrics m = seed_metrics_from_summary(r);
    CHECK(objective(m, 2.0) == doctest::Approx(0 + 0 + 2.0 * (22.0 + 9.0)).epsilon(1e-9));
  }
  SUBCASE("bankrupt close: sold at 8,791 against 8,800; the fund pays its whole 100, bad debt 118") {
    // V1 market orders: the account sells into the bids (tests/test_engine_liquidation.cpp).
    const RunResult r = run_world(ladder_world(-12.0), {"perp.liquidation.market_order=market"});
    CHECK(metric(r, "slippage_cost") == doctest::Approx(9.0).epsilon(1e-9));
    CHECK(metric(r, "insurance_fund_drawdown") == doctest::Approx(100.0).epsilon(1e-12));
    const SeedMetrics m = seed_metrics_from_summary(r);
    CHECK(objective(m, 0.5) == doctest::Approx(118.0 + 100.0 + 0.5 * 9.0).epsilon(1e-9));
  }
  SUBCASE("-1% jump: equity 891 stays above maintenance 49.5, no liquidation, no cost") {
    const RunResult r = run_world(ladder_world(-1.0));
    CHECK(r.liquidations.empty());
    CHECK(metric(r, "slippage_cost") == 0.0);
    CHECK(metric(r, "insurance_fund_drawdown") == 0.0);
  }
}
