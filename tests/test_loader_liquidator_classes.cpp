// agents.liquidator_classes (issue #14 item 3): read, checked, mutually exclusive with the single
// form agents.liquidators, and written back so that the resolved scenario re-loads identically.
#include <doctest/doctest.h>

#include <string>

#include "scenarios/loader.hpp"

using sl::ScenarioConfig;
using sl::ScenarioError;

namespace {

std::string with_agents(const std::string& agents, const std::string& liquidation = "") {
  return R"({"name":"t","horizon_steps":10,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":30000,)"
         R"("tick_size":0.1,"lot_size":0.001}],"agents":{)" +
         agents + "}" + (liquidation.empty() ? "" : R"(,"perp":{"liquidation":{)" + liquidation + "}}") + "}";
}

std::string error_of(const std::string& text) {
  try {
    (void)sl::load_scenario_text(text, "x.json");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "<no error>";
}

const char* kTwoClasses =
    R"("liquidator_classes":[{"name":"searcher","count":2,"latency_steps":1,"tx_cost":2,"min_profit":1,)"
    R"("price_risk_share":0.1,"bid_share_min":0.3,"bid_share_max":0.9},)"
    R"({"name":"keeper","count":3,"latency_steps":5,"capital":50000}])";

}  // namespace

TEST_CASE("liquidator classes are read with their own fields and defaults") {
  const ScenarioConfig c = sl::load_scenario_text(
      with_agents(kTwoClasses, R"("protocol_fallback_cost":25,"priority_fee":{"fee_capture_share":0.5,"target_bids_per_step":2})"), "x.json");
  REQUIRE(c.agents.liquidator_classes.size() == 2);
  const auto& s = c.agents.liquidator_classes[0];
  CHECK(s.name == "searcher");
  CHECK(s.count == 2);
  CHECK(s.tx_cost == 2.0);
  CHECK(s.price_risk_share == 0.1);
  CHECK(s.bid_share_min == 0.3);
  CHECK(s.bid_share_max == 0.9);
  const auto& k = c.agents.liquidator_classes[1];
  CHECK(k.latency_steps == 5);
  CHECK(k.capital == 50'000.0);
  CHECK(k.tx_cost == 5.0);         // LiquidatorConfig's default
  CHECK(k.bid_share_min == 0.5);   // default
  CHECK(c.perp.liquidation.protocol_fallback_cost == 25.0);
  CHECK(c.perp.liquidation.priority_fee.fee_capture_share == 0.5);
  CHECK(c.perp.liquidation.priority_fee.target_bids_per_step == 2);
  CHECK(c.perp.liquidation.priority_fee.max_change_denominator == 8);
  // The resolved scenario has one form only and re-loads to the same text.
  CHECK(c.source_json.find("\"liquidators\"") == std::string::npos);
  const ScenarioConfig again = sl::load_scenario_text(c.source_json, "again.json");
  CHECK(again.source_json == c.source_json);
  CHECK(again.agents.liquidator_classes.size() == 2);
}

TEST_CASE("liquidator classes: clear errors") {
  CHECK(error_of(with_agents(std::string(R"("liquidators":{"count":2},)") + kTwoClasses)) ==
        "x.json: agents.liquidator_classes: cannot be given together with agents.liquidators (one class: "
        "agents.liquidators; several competing classes: agents.liquidator_classes); remove one");
  CHECK(error_of(with_agents(R"("liquidator_classes":[{"name":"a","bid_share_min":0.8,"bid_share_max":0.2}])")) ==
        "x.json: agents.liquidator_classes[0].bid_share_min: 0.8 is above bid_share_max (0.2); u is drawn in "
        "[bid_share_min, bid_share_max]");
  CHECK(error_of(with_agents(R"("liquidator_classes":[{"name":"a"},{"name":"a"}])")) ==
        "x.json: agents.liquidator_classes[1].name: duplicate class name \"a\" (names must be unique)");
  const std::string missing_name = error_of(with_agents(R"("liquidator_classes":[{"count":1}])"));
  CHECK(missing_name.find("agents.liquidator_classes[0].name") != std::string::npos);
  const std::string bad_share = error_of(with_agents(R"("liquidator_classes":[{"name":"a","price_risk_share":1.5}])"));
  CHECK(bad_share.find("agents.liquidator_classes[0].price_risk_share") != std::string::npos);
  const std::string bad_capture = error_of(with_agents("", R"("priority_fee":{"fee_capture_share":-0.1})"));
  CHECK(bad_capture.find("perp.liquidation.priority_fee.fee_capture_share") != std::string::npos);
  // The single form alone, or an empty list with it, stays valid.
  CHECK(error_of(with_agents(R"("liquidators":{"count":2},"liquidator_classes":[])")) == "<no error>");
}
