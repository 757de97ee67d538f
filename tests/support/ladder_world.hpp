// The hand-computed ladder market every end-to-end liquidation test starts from, as a scenario
// (JSON) a test edits before loading:
//
//   BTC at 10,000 USDT, tick 1, lot 0.001, no fees, a constant reference (zero volatility) until a
//   scheduled jump at step 10 (default -9.6%: reference 9,040). Two ladder makers re-centre on the
//   reference every step, one on spot and one on the perp: levels 1, 11, 21, 31, 41 ticks from the
//   centre, 0.4 BTC each, so every mid equals the reference. Oracle: median over 1 step, lag 0
//   (index at step t = spot mid at the end of step t-1). Mark: EMA over 1 step clamped to +-50 bps
//   of the index, so the new level reaches the mark at step 11. One leveraged trader goes long
//   1 BTC at 10x (margin 1,000 USDT, isolated) during step 0 or 1; one liquidator bot (latency 0,
//   tx cost 1, capital 1,000). Policy `market`, close factor 1, penalty 100 bps split half to the
//   liquidator, insurance fund 100, no protocol fallback, funding off, 20 steps.
//
// Entry: market buy 1 BTC into asks 10,001 / 10,011 / 10,021 (0.4 each) = 10,009.0 on average, so
// cash -9,009 and contracts +1 (a short entry sells at 9,999 / 9,989 / 9,979: 9,991.0).
// Agent ids: ladders 0 and 1, then the populations in the order of the scenario schema.
//
// Nothing here is a result: tests derive every number they check from the lines above.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"

namespace sl::test {

inline nlohmann::json ladder(const char* venue, double size_per_level) {
  return {{"venue", venue},          {"levels", 5},
          {"first_offset_ticks", 1}, {"tick_spacing", 10},
          {"size_per_level", size_per_level}, {"refill", "every_step"},
          {"center", "reference"}};
}

inline nlohmann::json flat_reference() {
  return {{"vol_calm_annual", 0}, {"vol_stress_annual", 0}, {"p_calm_to_stress_per_hour", 0}};
}

inline nlohmann::json price_jump(std::int64_t start_step, double size_pct) {
  return {{"type", "price_jump"}, {"start_step", start_step}, {"size_pct", size_pct}};
}

inline nlohmann::json ladder_world(double jump_pct = -9.6) {
  using nlohmann::json;
  json w;
  w["name"] = "hand_ladder_world";
  w["horizon_steps"] = 20;
  w["dt_s"] = 1;
  w["seed"] = 1;
  w["assets"] = json::array({{{"symbol", "BTC"}, {"initial_price", 10000}, {"tick_size", 1},
                              {"lot_size", 0.001}, {"reference", flat_reference()}}});
  const json no_fees = {{"maker_fee_bps", 0}, {"taker_fee_bps", 0}};
  w["venues"] = {{"spot", no_fees}, {"perp", no_fees}};
  w["agents"] = {
      {"market_makers", {{"count_per_venue", 0}}},
      {"noise_traders", {{"count", 0}}},
      {"arbitrageurs", {{"count", 0}}},
      {"ladders", json::array({ladder("spot", 0.4), ladder("perp", 0.4)})},
      {"leveraged_traders",
       {{"count", 1}, {"long_share", 1}, {"leverage_min", 10}, {"leverage_max", 10},
        {"notional_mean", 10000}, {"notional_dispersion", 0}, {"entry_window_steps", 1},
        {"margin_mode", "isolated"}}},
      {"liquidators", {{"count", 1}, {"latency_steps", 0}, {"tx_cost", 1}, {"capital", 1000}}}};
  // outside_weight 0 (the default before issue #14): the hand computations take the index as the own spot mid.
  w["perp"] = {
      {"oracle", {{"method", "median"}, {"window_steps", 1}, {"lag_steps", 0}, {"outside_weight", 0}}},
      {"mark", {{"ema_steps", 1}, {"clamp_bps", 50}}},
      {"funding", {{"enabled", false}}},
      {"liquidation",
       {{"policy", "market"}, {"close_factor", 1}, {"penalty_bps", 100}, {"liquidator_share", 0.5},
        {"insurance_fund_start", 100}, {"protocol_fallback_steps", -1}}}};
  w["shocks"] = json::array({price_jump(10, jump_pct)});
  return w;
}

// Basis traders (long spot / short perp) booked at step 0 against the passive counterparty.
inline nlohmann::json initial_basis_traders(int count, double leverage) {
  return {{"count", count},         {"notional_mean", 10000}, {"notional_dispersion", 0},
          {"leverage", leverage},   {"top_up", false},        {"entry_mode", "initial"}};
}

// The Dutch curve the hand tests price by hand: 2% above the index, x0.99 every second.
inline nlohmann::json hand_dutch_curve() {
  return {{"curve", "stairstep_exponential"}, {"buf", 1.02}, {"step_s", 1}, {"cut", 0.99},
          {"tail_s", 8400}, {"cusp", 0.4}, {"tip", 5}, {"chip", 0}};
}

inline ScenarioConfig load_world(const nlohmann::json& w, const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(w.dump(2), w.value("name", std::string("hand")) + ".json", overrides);
}

// One run of `w` on seed 1 (throws if the ledger does not conserve every asset). `policy` empty:
// the scenario's own; otherwise RunOptions selects it, as `stresslab run --policy` does.
inline RunResult run_world(const nlohmann::json& w, const std::vector<std::string>& overrides = {},
                           const std::string& policy = "") {
  RunOptions o;
  o.seed = 1;
  o.policy = policy;
  return run_simulation(load_world(w, overrides), o);
}

}  // namespace sl::test
