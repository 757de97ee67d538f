// Calibration files: bad input is rejected with the exact message (file, field, allowed range, what
// was found); a good file resolves its defaults.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scenarios/loader.hpp"
#include "sim/calibration/config.hpp"

using namespace sl;
namespace fs = std::filesystem;

namespace {

struct TempCalibration {
  fs::path dir = fs::temp_directory_path() / ("sl_calib_cfg_" + std::to_string(::getpid()));
  std::string path;
  explicit TempCalibration(const std::string& body) {
    fs::create_directories(dir);
    path = (dir / "cal.json").string();
    std::ofstream(path) << body;
  }
  ~TempCalibration() { fs::remove_all(dir); }
};

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";

// A valid calibration with `extra` fields spliced in (later keys must not repeat earlier ones).
std::string body(const std::string& fields) {
  return R"({"name": "t", "scenario": ")" + kCrash + R"(", )" + fields + "}";
}

std::string error_of(const std::string& text) {
  TempCalibration t(text);
  try {
    (void)load_calibration_file(t.path);
  } catch (const ScenarioError& e) {
    std::string msg = e.what();
    // The temp path varies; replace it by "CAL".
    for (std::size_t p; (p = msg.find(t.path)) != std::string::npos;) msg.replace(p, t.path.size(), "CAL");
    return msg;
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("calibration file errors: exact messages") {
  const std::string ok = R"("lambda": 1, "penalty_bps": [0, 100])";
  CHECK(error_of(body(ok)) == "(accepted)");
  // One field swept twice (the later override would silently win): refused.
  CHECK(error_of(body(ok + R"(, "axes": {"depth": {"pointer": "/perp/liquidation/penalty_bps", "values": [10, 20]}})")) ==
        "CAL: penalty_bps.pointer: '/perp/liquidation/penalty_bps' is already swept by axes.depth");
  CHECK(error_of(body(ok + R"(, "axes": {"sigma": {"pointer": "/agents/liquidators/latency_steps", "values": [1, 2]}})")) ==
        "CAL: axes.latency.pointer: '/agents/liquidators/latency_steps' is already swept by axes.sigma");
  CHECK(error_of(body(R"("penalty_bps": [0, 100])")) == "CAL: lambda: required field is missing");
  CHECK(error_of(body(R"("lambda": -1, "penalty_bps": [0, 100])")) ==
        "CAL: lambda: must be a number in [0, 1000000000], got -1");
  CHECK(error_of(body(R"("lambda": 1, "penalty_bps": [0, 50, 50])")) ==
        "CAL: penalty_bps[2]: values must be strictly increasing, got 50 after 50");
  CHECK(error_of(body(R"("lambda": 1, "penalty_bps": [100])")) ==
        "CAL: penalty_bps: must be an array of 2 to 100 strictly increasing numbers in [0, 10000], got [100]");
  CHECK(error_of(body(R"("lambda": 1, "penalty_bps": [0, 20000])")) ==
        "CAL: penalty_bps[1]: must be a number in [0, 10000], got 20000");
  CHECK(error_of(body(ok + R"(, "seeds": 1)")) == "CAL: seeds: must be an integer in [2, 10000], got 1");
  CHECK(error_of(body(ok + R"(, "lamda": 1)")) ==
        "CAL: lamda: unknown field (allowed here: 'name', 'description', 'scenario', 'set', 'policy', 'first_seed', "
        "'seeds', 'lambda', 'penalty_bps', 'maintenance_margin_bps', 'axes', 'bootstrap')");
  CHECK(error_of(body(ok + R"(, "policy": "fast")")) ==
        "CAL: policy: must be one of 'market', 'dutch', 'batch', 'socialized', 'delta_neutral', 'hierarchy', 'delta_neutral:atomic', 'delta_neutral:staged', 'delta_neutral:backstop', got \"fast\"");
  CHECK(error_of(body(ok + R"(, "axes": {"liquidity": {}})")) ==
        "CAL: axes.liquidity: unknown field (allowed here: 'sigma', 'depth', 'latency')");
  CHECK(error_of(body(ok + R"(, "axes": {"latency": {"pointer": "/agents/liquidators/latncy"}})")) ==
        "CAL: axes.latency.pointer: '/agents/liquidators/latncy' names no field of the scenario " + kCrash +
            " (defaults filled in)");
  CHECK(error_of(body(ok + R"(, "axes": {"depth": {"pointer": "agents.market_makers.quote_size"}})")) ==
        "CAL: axes.depth.pointer: must be a JSON pointer into the scenario such as '/agents/market_makers/quote_size', "
        "got \"agents.market_makers.quote_size\"");
  CHECK(error_of(body(ok + R"(, "axes": {"latency": {"values": [1, -1]}})")) ==
        "CAL: axes.latency.values[1]: values must be strictly increasing, got -1 after 1");
  CHECK(error_of(body(ok + R"(, "axes": {"latency": {"values": [-1, 1]}})")) ==
        "CAL: axes.latency.values[0]: -1 is rejected by the scenario:\n" + kCrash +
            ": agents.liquidators.latency_steps: must be an integer in [0, 1e8], got -1");
  CHECK(error_of(body(ok + R"(, "maintenance_margin_bps": {"values": [50, 300]})")) ==
        "CAL: maintenance_margin_bps.values[1]: 300 is rejected by the scenario:\n" + kCrash +
            ": perp.margin_tiers[0].mmr_bps: 300 is not below imr_bps (100); the maintenance margin must be smaller "
            "than the initial margin in every tier");
  CHECK(error_of(R"({"name": "t", "scenario": "nowhere.json", "lambda": 1, "penalty_bps": [0, 1]})") ==
        "CAL: scenario: the base scenario " + (fs::temp_directory_path() / ("sl_calib_cfg_" + std::to_string(::getpid())) / "nowhere.json").string() +
            " (with `set`) is invalid:\n" + (fs::temp_directory_path() / ("sl_calib_cfg_" + std::to_string(::getpid())) / "nowhere.json").string() +
            ": file: cannot open: no such file or directory");
  CHECK(error_of("[1, 2]") == "CAL: (top level): must be a JSON object, got [1,2]");
  CHECK(error_of(body(R"("lambda": 1, "penalty_bps": [0, 100], "lambda": 2)")).find("duplicate") != std::string::npos);
}

TEST_CASE("calibration file: defaults and the resolved calibration") {
  TempCalibration t(body(R"("lambda": 0.25, "penalty_bps": [10, 20, 40], "axes": {"latency": {"values": [1, 3]}})"));
  const CalibrationConfig c = load_calibration_file(t.path);
  CHECK(c.policy == "market");
  CHECK(c.n_seeds == 10);
  CHECK(c.first_seed == 2020);  // crash.json's seed
  CHECK(c.surface.lambda == 0.25);
  CHECK(c.axes[0].pointer == "/assets/0/reference/vol_calm_annual");
  CHECK(c.axes[0].values == std::vector<double>{0.6});
  CHECK(c.axes[1].values == std::vector<double>{0.6});
  CHECK(c.axes[2].values == std::vector<double>{1, 3});
  CHECK_FALSE(c.mmr_swept);
  CHECK(c.mmr.values == std::vector<double>{50});  // the default first margin tier
  const CalibrationPlan p = plan_calibration(c);
  CHECK(p.points.size() == 6);
  CHECK(p.runs.size() == 60);
  // Point 4 = latency 3 (cell 1), penalty 20: both applied, everything else from crash.json.
  CHECK(p.points[4].scenario.agents.liquidators.latency_steps == 3);
  CHECK(p.points[4].scenario.perp.liquidation.penalty_bps == 20);
  CHECK(p.points[4].scenario.agents.market_makers.quote_size == 0.6);
  CHECK(p.points[4].params.size() == 4);
}
