// Sweep files: grid expansion (cartesian, listed) into validated scenarios, and the exact messages
// for bad sweep files.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "scenarios/sweep_spec.hpp"
#include "tests/support/scenario_error.hpp"

using namespace sl;

namespace {

const std::string kScenarios = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios";
const std::vector<std::string> kPolicies = {"market", "dutch"};

SweepSpec load(const std::string& text, const std::vector<std::string>& sets = {}) {
  return load_sweep_text(text, "x.json", kScenarios, sets, kPolicies);
}

// The error message of loading `text`, or "" if it loads.
std::string error_of(const std::string& text) {
  return sl::test::scenario_error_of([&] { load(text); });
}

const std::string kGrid = R"("grid": {"mode": "cartesian", "axes": [{"pointer": "/perp/liquidation/penalty_bps", "values": [50]}]})";

}  // namespace

TEST_CASE("cartesian grid: last axis fastest, values applied to the resolved base, params as text") {
  const SweepSpec s = load(R"({
    "description": "d", "base": "calm.json",
    "grid": {"mode": "cartesian", "axes": [
      {"pointer": "/perp/liquidation/penalty_bps", "name": "penalty_bps", "values": [50, 100]},
      {"pointer": "/perp/margin_tiers/0/mmr_bps", "values": [40, 60.5, 80]}]},
    "policies": ["dutch", "market"], "seeds": 3, "first_seed": 11})");
  CHECK(s.description == "d");
  CHECK(s.base_file == kScenarios + "/calm.json");
  CHECK(s.param_names == std::vector<std::string>{"penalty_bps", "/perp/margin_tiers/0/mmr_bps"});
  CHECK(s.policies == std::vector<std::string>{"dutch", "market"});
  CHECK(s.seeds == 3);
  CHECK(s.first_seed == 11);
  REQUIRE(s.points.size() == 6);
  const double pen[] = {50, 50, 50, 100, 100, 100};
  const double mmr[] = {40, 60.5, 80, 40, 60.5, 80};
  const char* mmr_text[] = {"40", "60.5", "80", "40", "60.5", "80"};
  for (std::size_t k = 0; k < 6; ++k) {
    CHECK(s.points[k].scenario.perp.liquidation.penalty_bps == pen[k]);
    REQUIRE(!s.points[k].scenario.perp.margin_tiers.empty());  // calm.json sets no tiers: the default one is swept
    CHECK(s.points[k].scenario.perp.margin_tiers[0].mmr_bps == mmr[k]);
    CHECK(s.points[k].params[0] == std::make_pair(std::string("penalty_bps"), std::to_string(static_cast<int>(pen[k]))));
    CHECK(s.points[k].params[1].second == mmr_text[k]);
    CHECK(s.points[k].scenario.horizon_steps == s.base.horizon_steps);  // everything else from the base
  }
}

TEST_CASE("defaults: policy and first seed from the base scenario, one seed - --set applies to the base") {
  const SweepSpec s = load(R"({"base": "calm.json", )" + kGrid + "}", {"horizon_steps=77", "seed=5"});
  CHECK(s.policies == std::vector<std::string>{s.base.perp.liquidation.policy});
  CHECK(s.first_seed == 5);
  CHECK(s.seeds == 1);
  REQUIRE(s.points.size() == 1);
  CHECK(s.points[0].scenario.horizon_steps == 77);
  CHECK(s.param_names == std::vector<std::string>{"/perp/liquidation/penalty_bps"});
}

TEST_CASE("listed grid: points in file order - columns named by axes, else sorted pointers") {
  const SweepSpec a = load(R"({"base": "calm.json", "grid": {"mode": "listed", "points": [
      {"/perp/liquidation/penalty_bps": 10, "/horizon_steps": 100},
      {"/horizon_steps": 200, "/perp/liquidation/penalty_bps": 20}]}})");
  REQUIRE(a.points.size() == 2);
  CHECK(a.param_names == std::vector<std::string>{"/horizon_steps", "/perp/liquidation/penalty_bps"});
  CHECK(a.points[1].scenario.horizon_steps == 200);
  CHECK(a.points[1].scenario.perp.liquidation.penalty_bps == 20);
  CHECK(a.points[0].params[0].second == "100");

  const SweepSpec b = load(R"({"base": "calm.json", "grid": {"mode": "listed",
      "axes": [{"pointer": "/perp/liquidation/penalty_bps", "name": "pen"}, {"pointer": "/horizon_steps", "name": "h"}],
      "points": [{"/perp/liquidation/penalty_bps": 10, "/horizon_steps": 100}]}})");
  CHECK(b.param_names == std::vector<std::string>{"pen", "h"});
  CHECK(b.points[0].params[0] == std::make_pair(std::string("pen"), std::string("10")));
}

TEST_CASE("bad sweep files: exact messages naming file and field") {
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "seed": 3})") ==
        "x.json: seed: unknown field (allowed here: 'description', 'base', 'grid', 'policies', 'seeds', 'first_seed')");
  CHECK(error_of(R"({)" + kGrid + "}") == "x.json: base: required field is missing");
  CHECK(error_of(R"({"base": "nope.json", )" + kGrid + "}") ==
        "x.json: base: cannot open '" + kScenarios + "/nope.json': no such file or directory");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "diagonal", "axes": []}})") ==
        "x.json: grid.mode: must be \"cartesian\" or \"listed\", got \"diagonal\"");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": []}]}})") ==
        "x.json: grid.axes[0].values: empty axis: give at least one value");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "horizon_steps", "values": [1]}]}})") ==
        "x.json: grid.axes[0].pointer: must be a JSON pointer such as /perp/liquidation/penalty_bps, got \"horizon_steps\"");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": [1], "step": 2}]}})") ==
        "x.json: grid.axes[0].step: unknown field (allowed here: 'pointer', 'name', 'values')");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": [[1]]}]}})") ==
        "x.json: grid.axes[0].values[0]: must be a number, string or boolean, got an array");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": [1]}, {"pointer": "/horizon_steps", "values": [2]}]}})") ==
        "x.json: grid.axes[1].pointer: \"/horizon_steps\" is already an axis");
  // Unknown pointer: reported at the axis, with the loader's suggestion.
  const std::string unknown = error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/perp/liquidation/penalty_bp", "values": [1]}]}})");
  CHECK(unknown.rfind("x.json: grid.axes[0].pointer: bad pointer \"/perp/liquidation/penalty_bp\": ", 0) == 0);
  CHECK(unknown.find("did you mean 'penalty_bps'?") != std::string::npos);
  // Listed points must all set the same pointers.
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "listed", "points": [{"/horizon_steps": 10, "/seed": 1}, {"/horizon_steps": 20}]}})") ==
        "x.json: grid.points[1]: missing \"/seed\" (every point sets every axis)");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "listed", "points": [{"/horizon_steps": 10}, {"/horizon_steps": 20, "/seed": 1}]}})") ==
        "x.json: grid.points[1]: \"/seed\" is not an axis (axes: every point sets the same pointers)");
  CHECK(error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": [1]}], "points": []}})") ==
        "x.json: grid.points: unknown field (allowed here: 'mode', 'axes')");
  // Policies and seeds.
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "policies": ["market", "frob"]})") ==
        "x.json: policies[1]: unknown policy \"frob\" (allowed: market, dutch)");
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "policies": ["market", "market"]})") ==
        "x.json: policies[1]: policy \"market\" listed twice");
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "seeds": 0})") ==
        "x.json: seeds: must be an integer in [1, 1000000], got 0");
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "seeds": 1000001})") ==
        "x.json: seeds: must be an integer in [1, 1000000], got 1000001");
  CHECK(error_of(R"({"base": "calm.json", )" + kGrid + R"(, "first_seed": -1})") ==
        "x.json: first_seed: must be an integer in [0, 2^64 - 1 - seeds], got -1");
  // A value the scenario schema rejects: the point is named by its params, the field by its path.
  const std::string range = error_of(R"({"base": "calm.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/perp/liquidation/penalty_bps", "name": "pen", "values": [50, -5]}]}})");
  CHECK(range.rfind("x.json: grid point 1 (pen=-5): perp.liquidation.penalty_bps: ", 0) == 0);
  CHECK(range.find("[0, 10000]") != std::string::npos);
}
