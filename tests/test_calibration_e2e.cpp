// Calibration end to end, small: a 2x1x1 grid (two calm volatilities) x 3 penalties x 3 seeds of a
// shortened crash scenario through plan_calibration + run_sweep + calibrate, checked against a brute
// force built here from individual run_simulation calls of the scenario file with the same overrides
// and seeds, with the objective's parts recomputed from the events and series (not the new summary
// metrics).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/calibration/surface.hpp"
#include "sim/calibration/config.hpp"
#include "sim/run/simulation.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
namespace fs = std::filesystem;

namespace {

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";
const std::vector<std::string> kBaseSet = {"horizon_steps=700", "agents.noise_traders.count=50",
                                           "agents.leveraged_traders.count=150"};
const double kSigmas[] = {0.3, 1.2};
const double kPenalties[] = {0, 50, 400};
constexpr double kLambda = 0.5;
constexpr int kSeeds = 3;

// J of one run from first principles: bad debt and unrealised bad debt (existing metrics), the fund's
// fall below its configured start (from the per-step series), penalties and quantity x (mark - price)
// summed over the events.
double brute_objective(const RunResult& r, double fund_start) {
  double penalties = 0, slippage = 0;
  for (const LiquidationEvent& e : r.liquidations) {
    penalties += e.penalty;
    slippage += e.notional / e.price * e.mark * e.slippage_bps / 1e4;
  }
  const auto& fund = sl::test::series(r, "insurance_fund");
  const double drawdown = std::max(0.0, fund_start - *std::min_element(fund.begin(), fund.end()));
  return sl::test::metric(r, "bad_debt") + sl::test::metric(r, "underwater_equity_at_end") + drawdown + kLambda * (penalties + slippage);
}

}  // namespace

TEST_CASE("calibrate end to end: the surface's optimum equals the brute-force argmin of individual runs") {
  const fs::path dir = fs::temp_directory_path() / ("sl_calib_e2e_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cal = (dir / "cal.json").string();
  {
    std::ofstream f(cal);
    f << R"({"name": "e2e", "scenario": ")" << kCrash << R"(",
      "set": ["horizon_steps=700", "agents.noise_traders.count=50", "agents.leveraged_traders.count=150"],
      "seeds": 3, "first_seed": 11, "lambda": 0.5, "penalty_bps": [0, 50, 400],
      "axes": {"sigma": {"values": [0.3, 1.2]}}, "bootstrap": {"resamples": 200}})";
  }
  const CalibrationConfig cfg = load_calibration_file(cal);
  CHECK(cfg.axes[0].pointer == kSigmaPointer);
  CHECK(cfg.axes[1].from_base);
  CHECK(cfg.axes[1].values == std::vector<double>{0.6});  // crash.json's quote_size
  CHECK(cfg.axes[2].values == std::vector<double>{1});    // crash.json's liquidator latency
  const CalibrationPlan plan = plan_calibration(cfg);
  REQUIRE(plan.n_cells == 2);
  REQUIRE(plan.candidates.size() == 3);
  REQUIRE(plan.runs.size() == 18);
  CHECK(plan.points[4].params[0] == std::pair<std::string, std::string>("sigma", "1.2"));
  CHECK(plan.points[4].params[3] == std::pair<std::string, std::string>("penalty_bps", "50"));

  MetricTable table(plan.n_cells, plan.candidates.size(), kSeeds);
  MetricCollector collect(table);
  SweepOptions so;
  so.threads = 2;
  so.out_path = (dir / "e2e.runs.h5").string();
  so.attrs = FileAttributes{"test", "test", plan.base.source_json, cfg.first_seed};
  so.on_result = [&](const RunResult& r) { REQUIRE(collect.record(r.run_index, seed_metrics_from_summary(r))); };
  const SweepOutcome out = run_sweep(plan.points, plan.runs, so);
  CHECK(out.complete);
  REQUIRE(collect.complete());
  CHECK(fs::exists(so.out_path));
  SurfaceOptions sopt = cfg.surface;
  const std::vector<CellSurface> surf = calibrate(table, plan.candidates, sopt);

  bool penalty_matters = false;
  for (std::size_t cell = 0; cell < 2; ++cell) {
    CAPTURE(cell);
    std::vector<double> means;
    for (std::size_t q = 0; q < 3; ++q) {
      std::vector<std::string> set = kBaseSet;
      set.push_back("/assets/0/reference/vol_calm_annual=" + std::to_string(kSigmas[cell]));
      set.push_back("perp.liquidation.penalty_bps=" + std::to_string(kPenalties[q]));
      const ScenarioConfig sc = load_scenario_file(kCrash, set);
      double sum = 0;
      for (int s = 0; s < kSeeds; ++s) {
        RunOptions o;
        o.seed = 11 + static_cast<std::uint64_t>(s);
        const RunResult r = run_simulation(sc, o);
        const double J = brute_objective(r, sc.perp.liquidation.insurance_fund_start);
        CHECK(objective(table.at(cell, q, static_cast<std::size_t>(s)), kLambda) == doctest::Approx(J).epsilon(1e-9));
        sum += J;
      }
      means.push_back(sum / kSeeds);
      CHECK(surf[cell].objective[q].mean == doctest::Approx(means.back()).epsilon(1e-9));
    }
    const auto brute = static_cast<std::size_t>(std::min_element(means.begin(), means.end()) - means.begin());
    CHECK(surf[cell].best == brute);
    CHECK(plan.candidates[surf[cell].best].penalty_bps == kPenalties[brute]);
    if (*std::max_element(means.begin(), means.end()) > means[brute] * 1.001) penalty_matters = true;
  }
  CHECK(penalty_matters);  // the penalty changes the objective, so the argmin is not a tie-break
  fs::remove_all(dir);
}
