// Scenario loader/validator tests: bad inputs with their exact error text, good cases, overrides,
// fixed-point rounding, round trip of the resolved config, and replay of fuzzer regressions.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"

namespace {

using sl::ScenarioConfig;
using sl::ScenarioError;

const std::string kSrc = STRESSLAB_SOURCE_DIR;
const std::string kCalm = kSrc + "/scenarios/calm.json";

// A valid minimal scenario with a placeholder for extra top-level fields.
std::string minimal(const std::string& extra_top = "", const std::string& asset_extra = "") {
  return R"({"name":"t","horizon_steps":10,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":30000,)"
         R"("tick_size":0.1,"lot_size":0.001)" +
         asset_extra + "}]" + (extra_top.empty() ? "" : "," + extra_top) + "}";
}

// A valid one-asset scenario with the given price/tick/lot literals.
std::string asset_scenario(const std::string& price, const std::string& tick, const std::string& lot) {
  return R"({"name":"t","horizon_steps":10,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":)" + price +
         R"(,"tick_size":)" + tick + R"(,"lot_size":)" + lot + "}]}";
}

// Returns the ScenarioError message, or a marker if something else happened.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    (void)sl::load_scenario_text(text, "x.json", overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<unexpected exception: ") + e.what() + ">";
  }
  return "<no error>";
}

struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> overrides;
  std::string expected;  // exact message, or (if `exact` is false) a required substring
  bool exact = true;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("bad inputs are rejected with precise messages") {
  const std::vector<BadCase> cases = {
      {"unknown top-level field", minimal(R"("horizon":5)"), {},
       "x.json: horizon: unknown field (did you mean 'horizon_steps'?)"},
      {"unknown top-level field without suggestion", minimal(R"("zzzzzzzzzz":5)"), {},
       "x.json: zzzzzzzzzz: unknown field (allowed here: 'name', 'description', 'seed', 'horizon_steps', "
       "'dt_s', 'quote_asset', 'assets', 'venues', 'agents', 'perp', 'shocks', 'output', 'accounts')"},
      {"unknown nested field with did-you-mean", minimal(R"("agents":{"market_makers":{"base_sprad_bps":3}})"), {},
       "x.json: agents.market_makers.base_sprad_bps: unknown field (did you mean 'base_spread_bps'?)"},
      {"string where number", minimal("", R"(,"reference":{"vol_calm_annual":"abc"})"), {},
       "x.json: assets[0].reference.vol_calm_annual: must be a number in [0, 50], got \"abc\""},
      {"string tick size", R"({"name":"t","horizon_steps":10,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":30000,"tick_size":"abc","lot_size":0.001}]})",
       {}, "x.json: assets[0].tick_size: must be a number in (0, 1e6], got \"abc\""},
      {"null where number", minimal(R"("venues":{"max_price_multiple":null})"), {},
       "x.json: venues.max_price_multiple: must be a number in (1, 1000], got null"},
      {"bool where number", minimal(R"("agents":{"noise_traders":{"mean_size":true}})"), {},
       "x.json: agents.noise_traders.mean_size: must be a number in (0, 1e6], got true"},
      {"array where number", minimal(R"("output":{"record_every_steps":[1]})"), {},
       "x.json: output.record_every_steps: must be an integer in [1, 1e8], got an array"},
      {"non-integer count", minimal(R"("agents":{"noise_traders":{"count":3.5}})"), {},
       "x.json: agents.noise_traders.count: must be an integer in [0, 100000], got 3.5"},
      {"negative count", minimal(R"("agents":{"market_makers":{"count_per_venue":-1}})"), {},
       "x.json: agents.market_makers.count_per_venue: must be an integer in [0, 100000], got -1"},
      {"negative seed", minimal(R"("seed":-1)"), {},
       "x.json: seed: must be an integer in [0, 18446744073709551615], got -1"},
      {"seed beyond uint64", minimal(R"("seed":18446744073709551616)"), {},
       "x.json: seed: must be an integer in [0, 18446744073709551615], got 1.8446744073709552e19"},
      {"integer overflowing int64", minimal(R"("output":{"record_every_steps":9223372036854775808})"), {},
       "x.json: output.record_every_steps: must be an integer in [1, 1e8], got 9223372036854775808"},
      {"out of range switching rate", minimal("", R"(,"reference":{"p_calm_to_stress_per_hour":-0.5})"), {},
       "x.json: assets[0].reference.p_calm_to_stress_per_hour: must be a number in [0, 36000], got -0.5"},
      {"dt_s zero (exclusive bound)", minimal(), {"dt_s=0"},
       "x.json: dt_s: must be a number in (0, 86400], got 0"},
      {"NaN via override is a string", minimal(), {"dt_s=nan"}, "x.json: dt_s: must be a number in (0, 86400], got \"nan\""},
      {"1e400 parses as infinity", minimal(R"("venues":{"max_price_multiple":1e400})"), {},
       "x.json: line 1, column 155: invalid JSON: number 1e400 is out of range (not a finite double)"},
      {"1e400 via override", minimal(), {"dt_s=1e400"},
       "x.json: dt_s: must be a number in (0, 86400], got \"1e400\""},
      {"empty file", "", {}, "x.json: (top level): empty document; expected a JSON object"},
      {"whitespace only", " \n\t ", {}, "x.json: (top level): document contains only whitespace; expected a JSON object"},
      {"truncated JSON", R"({"name":"t","horizon_steps":10,)", {},
       "x.json: line 1, column 32: invalid JSON: syntax error while parsing object key - unexpected end of input; "
       "expected string literal"},
      {"binary garbage", std::string("\x00\xff\xfe{", 4), {}, "x.json: line 1, column 1: invalid JSON: NUL byte (binary data?)"},
      {"NUL after a valid document", std::string("{}\0junk", 7), {}, "x.json: line 1, column 3: invalid JSON: NUL byte (binary data?)"},
      {"binary without NUL", "\xff\xfe\x01", {},
       "x.json: line 1, column 1: invalid JSON: syntax error while parsing value - invalid literal; last read: '\\xff'"},
      {"invalid UTF-8 in a string", "{\"name\":\"\xc3\x28\"}", {}, "x.json: line 1, column 11: invalid JSON: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '\"\\xc3('"},
      {"deep nesting 100k", std::string(100000, '['), {}, "x.json: line 1, column 65: nesting deeper than 64 levels"},
      {"top-level array", "[1,2]", {}, "x.json: (top level): must be an object, got an array"},
      {"missing required field",
       R"({"name":"t","dt_s":1,"assets":[{"symbol":"BTC","initial_price":30000,"tick_size":0.1,"lot_size":0.001}]})", {},
       "x.json: horizon_steps: required field is missing (an integer in [1, 1e8], steps)"},
      {"missing required asset field", R"({"name":"t","horizon_steps":1,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":30000,"tick_size":0.1}]})",
       {}, "x.json: assets[0].lot_size: required field is missing (a number in (0, 1e6], asset units)"},
      {"empty assets", R"({"name":"t","horizon_steps":1,"dt_s":1,"assets":[]})", {},
       "x.json: assets: must be an array of 1 to 8 objects, got an array"},
      {"bad tick/lot combination", asset_scenario("30000", "0.01", "0.00001"), {},
       "x.json: assets[0]: tick_size (0.01) * lot_size (0.00001) is not a whole number of quote micro-units (0.000001): "
       "the value of one tick on one lot, tick_micros * lot_micros / 1e6, must be a positive integer; "
       "with tick_size 0.01, lot_size must be a multiple of 0.0001"},
      {"tick size not representable", asset_scenario("30000", "1e-9", "1"), {},
       "x.json: assets[0].tick_size: must be at least 0.000001 (one micro-unit; values are stored as integer "
       "micro-units), got 1e-9"},
      {"initial price not a multiple of the tick", asset_scenario("30000.05", "0.1", "0.001"), {},
       "x.json: assets[0].initial_price: 30000.05 is not a multiple of tick_size 0.1 (nearest multiples: 30000 and "
       "30000.1)"},
      {"book too large", asset_scenario("30000", "0.001", "1"), {},
       "x.json: assets[0]: the order book would span max_tick = venues.max_price_multiple (4) * initial_price "
       "(30000) / tick_size (0.001) = 120000000 ticks, more than the limit of 20000000 ticks (memory guard); use a "
       "larger tick_size or a smaller venues.max_price_multiple"},
      {"duplicate symbols",
       R"({"name":"t","horizon_steps":1,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":1,"tick_size":0.1,"lot_size":1},{"symbol":"BTC","initial_price":1,"tick_size":0.1,"lot_size":1}]})",
       {}, "x.json: assets[1].symbol: duplicate symbol \"BTC\" (symbols must be unique)"},
      {"bad enum string", minimal(R"("agents":{"ladders":[{"venue":"spto"}]})"), {},
       "x.json: agents.ladders[0].venue: must be one of 'spot', 'perp', got \"spto\" (did you mean 'spot'?)"},
      {"bad refill enum", minimal(R"("agents":{"ladders":[{"refill":"always"}]})"), {},
       "x.json: agents.ladders[0].refill: must be one of 'never', 'every_step', 'every_n_steps', got \"always\""},
      {"ladder asset_index out of range", minimal(R"("agents":{"ladders":[{"asset_index":1}]})"), {},
       "x.json: agents.ladders[0].asset_index: 1 is out of range: the scenario has 1 asset (valid: 0 to 0)"},
      {"duplicate key", minimal(R"("dt_s":2)"), {}, "x.json: dt_s: duplicate key (each field may appear once)"},
      {"override of unknown path", minimal(), {"agents.noise_traders.cnt=5"},
       "x.json: agents.noise_traders.cnt: unknown field in --set agents.noise_traders.cnt=5 (did you mean 'count'?)"},
      {"override of unknown pointer path", minimal(), {"/venues/bogus_field_name=1"},
       "x.json: venues.bogus_field_name: unknown field in --set /venues/bogus_field_name=1 (allowed here: 'spot', "
       "'perp', 'max_price_multiple', 'self_trade_prevention')"},
      {"override with out-of-range index", minimal(), {"assets.3.initial_price=5"},
       "x.json: assets[3]: index out of range in --set assets.3.initial_price=5 (assets has 1 element; set the whole "
       "array to add elements)"},
      {"override without '='", minimal(), {"dt_s"}, "x.json: --set dt_s: expected PATH=VALUE, e.g. agents.noise_traders.count=50"},
      {"override value then validated", minimal(), {"/agents/noise_traders/count=-3"},
       "x.json: agents.noise_traders.count: must be an integer in [0, 100000], got -3"},
      // perp, new agents and shocks
      {"unknown field in perp.funding", minimal(R"("perp":{"funding":{"interval_sec":3600}})"), {},
       "x.json: perp.funding.interval_sec: unknown field (did you mean 'interval_s'?)"},
      {"bad oracle method enum", minimal(R"("perp":{"oracle":{"method":"vwap"}})"), {},
       "x.json: perp.oracle.method: must be one of 'median', 'twap', got \"vwap\" (did you mean 'twap'?)"},
      {"unknown liquidation policy", minimal(), {"perp.liquidation.policy=frobnicate"},
       "x.json: perp.liquidation.policy: must be one of 'market', 'dutch', 'batch', 'socialized', 'delta_neutral', 'hierarchy', got \"frobnicate\""},
      {"margin tiers not increasing",
       minimal(R"("perp":{"margin_tiers":[{"max_notional":100000,"imr_bps":100,"mmr_bps":50},)"
               R"({"max_notional":100000,"imr_bps":200,"mmr_bps":100}]})"),
       {},
       "x.json: perp.margin_tiers[1].max_notional: 100000 is not above perp.margin_tiers[0].max_notional (100000); "
       "max_notional must be strictly increasing from tier to tier"},
      {"mmr not below imr", minimal(), {R"(perp.margin_tiers=[{"max_notional":1e6,"imr_bps":100,"mmr_bps":100},{"max_notional":1e12,"imr_bps":1000,"mmr_bps":500}])"},
       "x.json: perp.margin_tiers[0].mmr_bps: 100 is not below imr_bps (100); the maintenance margin must be smaller "
       "than the initial margin in every tier"},
      {"mmr zero", minimal(), {R"(/perp/margin_tiers=[{"max_notional":1e6,"imr_bps":100,"mmr_bps":0},{"max_notional":1e12,"imr_bps":1000,"mmr_bps":500}])"},
       "x.json: perp.margin_tiers[0].mmr_bps: must be a number in (0, 10000], got 0"},
      {"no margin tiers", minimal(), {"perp.margin_tiers=[]"},
       "x.json: perp.margin_tiers: must be an array of 1 to 16 objects, got an array"},
      {"margin tier field required", minimal(R"("perp":{"margin_tiers":[{"imr_bps":100,"mmr_bps":50}]})"), {},
       "x.json: perp.margin_tiers[0].max_notional: required field is missing (a number in (0, 1e12], quote units)"},
      {"leverage_max above the first tier", minimal(),
       {"agents.leveraged_traders.count=10", R"(perp.margin_tiers=[{"max_notional":1e6,"imr_bps":500,"mmr_bps":50},{"max_notional":1e12,"imr_bps":1000,"mmr_bps":500}])"},
       "x.json: agents.leveraged_traders.leverage_max: 25 is more than the first margin tier allows: "
       "perp.margin_tiers[0].imr_bps = 500 allows at most 20x (10000 / imr_bps)"},
      {"leverage_min above leverage_max", minimal(), {"agents.leveraged_traders.leverage_min=30"},
       "x.json: agents.leveraged_traders.leverage_min: 30 is above leverage_max (25); leverage is drawn in "
       "[leverage_min, leverage_max]"},
      {"leverage out of range", minimal(), {"agents.basis_traders.leverage=0.5"},
       "x.json: agents.basis_traders.leverage: must be a number in [1, 200], got 0.5"},
      {"topup_share zero", minimal(), {"agents.basis_traders.topup_share=0"},
       "x.json: agents.basis_traders.topup_share: must be a number in (0, 1], got 0"},
      {"bad margin_mode", minimal(R"("agents":{"leveraged_traders":{"margin_mode":"crossed"}})"), {},
       "x.json: agents.leveraged_traders.margin_mode: must be one of 'isolated', 'cross', got \"crossed\" (did you "
       "mean 'cross'?)"},
      {"collateral haircut of 1", minimal("", R"(,"collateral_haircut":1)"), {},
       "x.json: assets[0].collateral_haircut: must be a number in [0, 1), got 1"},
      {"shock end before start",
       minimal(R"("shocks":[{"type":"vol_regime","start_step":5,"end_step":3,"vol_multiplier":3}])"), {},
       "x.json: shocks[0].end_step: 3 is not after start_step (5); a shock is active in [start_step, end_step)"},
      {"price_jump end before start", minimal(R"("shocks":[{"start_step":5,"end_step":3,"size_pct":-10}])"), {},
       "x.json: shocks[0].end_step: 3 is not after start_step (5); a shock is active in [start_step, end_step) "
       "(for price_jump, end_step 0 means start_step + 1)"},
      {"shock after the horizon", minimal(R"("shocks":[{"start_step":10,"size_pct":-10}])"), {},
       "x.json: shocks[0].start_step: 10 is not before horizon_steps (10); the shock would never happen"},
      {"price_jump of zero", minimal(R"("shocks":[{"start_step":3}])"), {},
       "x.json: shocks[0].size_pct: a price_jump needs a non-zero size_pct (the total move in percent, e.g. -20)"},
      {"price_jump of -100%", minimal(R"("shocks":[{"start_step":3,"size_pct":-100}])"), {},
       "x.json: shocks[0].size_pct: must be a number in (-100, 1000), got -100"},
      {"vol_regime without effect", minimal(R"("shocks":[{"type":"vol_regime","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0].vol_multiplier: a vol_regime shock needs vol_multiplier > 0 and != 1; 1 leaves volatility "
       "unchanged (the shock would do nothing)"},
      {"liquidity_withdrawal multiplier out of range",
       minimal(R"("shocks":[{"type":"liquidity_withdrawal","start_step":1,"end_step":5,"depth_multiplier":11}])"), {},
       "x.json: shocks[0].depth_multiplier: must be a number in [0, 10], got 11"},
      {"liquidity_withdrawal without effect",
       minimal(R"("shocks":[{"type":"liquidity_withdrawal","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0]: a liquidity_withdrawal shock needs depth_multiplier or size_multiplier != 1 (both in "
       "[0, 10]); with both 1 the shock would do nothing"},
      {"bad shock type", minimal(R"("shocks":[{"type":"price_jumps","start_step":1,"size_pct":5}])"), {},
       "x.json: shocks[0].type: must be one of 'price_jump', 'vol_regime', 'liquidity_withdrawal', 'oracle_fault', "
       "'congestion', 'funding_shock', 'collateral_depeg', got \"price_jumps\" (did you mean 'price_jump'?)"},
      // The rest of the shock library (sim/market/shocks.hpp): fields of another type, magnitudes, ranges.
      {"field of another shock type",
       minimal(R"("shocks":[{"type":"price_jump","start_step":1,"size_pct":-5,"vol_multiplier":3}])"), {},
       "x.json: shocks[0].vol_multiplier: not used by a price_jump shock (it belongs to vol_regime); remove it or "
       "leave it at its default 1"},
      {"congestion field on a funding_shock",
       minimal(R"("shocks":[{"type":"funding_shock","start_step":1,"end_step":5,"premium_bps":10,"cost_multiplier":4}])"), {},
       "x.json: shocks[0].cost_multiplier: not used by a funding_shock shock (it belongs to congestion); remove it "
       "or leave it at its default 1"},
      {"oracle_fault kind on a congestion shock",
       minimal(R"("shocks":[{"type":"congestion","start_step":1,"end_step":5,"latency_multiplier":4,"kind":"bias"}])"), {},
       "x.json: shocks[0].kind: not used by a congestion shock (it belongs to oracle_fault); remove it or leave it at "
       "its default \"freeze\""},
      {"congestion on one asset",
       minimal(R"("shocks":[{"type":"congestion","start_step":1,"end_step":5,"asset_index":0,"cost_multiplier":10}])"), {},
       "x.json: shocks[0].asset_index: a congestion shock acts on every liquidator whatever the asset; it must be -1, "
       "got 0"},
      {"congestion without effect", minimal(R"("shocks":[{"type":"congestion","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0]: a congestion shock needs cost_multiplier or latency_multiplier != 1 (in (0, 1e6] and "
       "(0, 1e4]); with both 1 the shock would do nothing"},
      {"congestion multiplier of 0",
       minimal(R"("shocks":[{"type":"congestion","start_step":1,"end_step":5,"latency_multiplier":0}])"), {},
       "x.json: shocks[0].latency_multiplier: must be a number in (0, 10000], got 0"},
      {"oracle_fault extra_lag of 0",
       minimal(R"("shocks":[{"type":"oracle_fault","kind":"extra_lag","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0].extra_lag_steps: an oracle_fault of kind extra_lag needs extra_lag_steps in [1, 1e6]"},
      {"oracle_fault bias_bps on a freeze",
       minimal(R"("shocks":[{"type":"oracle_fault","kind":"freeze","start_step":1,"end_step":5,"bias_bps":20}])"), {},
       "x.json: shocks[0].bias_bps: only an oracle_fault of kind bias uses it (this one is freeze); leave it at 0"},
      {"oracle_fault bias out of range",
       minimal(R"("shocks":[{"type":"oracle_fault","kind":"bias","start_step":1,"end_step":5,"bias_bps":-10000}])"), {},
       "x.json: shocks[0].bias_bps: must be a number in (-10000, 10000], got -10000"},
      {"oracle_fault without end_step", minimal(R"("shocks":[{"type":"oracle_fault","start_step":2}])"), {},
       "x.json: shocks[0].end_step: 0 is not after start_step (2); a shock is active in [start_step, end_step)"},
      {"funding_shock of zero", minimal(R"("shocks":[{"type":"funding_shock","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0].premium_bps: a funding_shock needs a non-zero premium_bps in [-10000, 10000]"},
      {"funding_shock out of range",
       minimal(R"("shocks":[{"type":"funding_shock","start_step":1,"end_step":5,"premium_bps":20000}])"), {},
       "x.json: shocks[0].premium_bps: must be a number in [-10000, 10000], got 20000"},
      {"collateral_depeg without effect",
       minimal(R"("shocks":[{"type":"collateral_depeg","start_step":1,"end_step":5}])"), {},
       "x.json: shocks[0]: a collateral_depeg shock needs haircut_add in (0, 1] or a non-zero depeg_pct in (-100, "
       "1000); with neither the shock would do nothing"},
      {"collateral_depeg haircut above 1",
       minimal(R"("shocks":[{"type":"collateral_depeg","start_step":1,"end_step":5,"haircut_add":1.5}])"), {},
       "x.json: shocks[0].haircut_add: must be a number in [0, 1], got 1.5"},
      {"collateral_depeg on a missing asset",
       minimal(R"("shocks":[{"type":"collateral_depeg","start_step":1,"end_step":5,"asset_index":1,"depeg_pct":-10}])"), {},
       "x.json: shocks[0].asset_index: 1 is out of range: the scenario has 1 asset (valid: -1 for every asset, or 0 "
       "to 0)"},
      {"basis traders' margin asset out of range", minimal(), {"agents.basis_traders.margin_asset_index=2"},
       "x.json: agents.basis_traders.margin_asset_index: 2 is out of range: the scenario has 1 asset (valid: -1 for "
       "quote cash; assets[0] is the hedge itself)"},
      {"basis traders' margin asset = the hedge", minimal(), {"agents.basis_traders.margin_asset_index=0"},
       "x.json: agents.basis_traders.margin_asset_index: 0 is out of range: the scenario has 1 asset (valid: -1 for "
       "quote cash; assets[0] is the hedge itself)"},
      {"fault asset_index out of range",
       minimal(R"("perp":{"oracle":{"faults":[{"kind":"freeze","start_step":2,"end_step":4,"asset_index":1}]}})"), {},
       "x.json: perp.oracle.faults[0].asset_index: 1 is out of range: the scenario has 1 asset (valid: -1 for every "
       "asset, or 0 to 0)"},
      {"fault without end_step", minimal(R"("perp":{"oracle":{"faults":[{"kind":"freeze","start_step":2}]}})"), {},
       "x.json: perp.oracle.faults[0].end_step: 0 is not after start_step (2); a fault is active in "
       "[start_step, end_step)"},
      {"fault after the horizon",
       minimal(R"("perp":{"oracle":{"faults":[{"kind":"bias","start_step":12,"end_step":20,"bias_bps":50}]}})"), {},
       "x.json: perp.oracle.faults[0].start_step: 12 is not before horizon_steps (10); the fault would never happen"},
      {"bad fault kind", minimal(R"("perp":{"oracle":{"faults":[{"kind":"stale"}]}})"), {},
       "x.json: perp.oracle.faults[0].kind: must be one of 'freeze', 'extra_lag', 'bias', got \"stale\""},
      {"funding interval shorter than a step", minimal(), {"dt_s=60", "perp.funding.interval_s=30"},
       "x.json: perp.funding.interval_s: 30 is shorter than dt_s (60); funding is settled at most once per step, so "
       "interval_s must be >= dt_s"},
  };
  for (const BadCase& c : cases) {
    CAPTURE(c.name);
    const std::string got = error_of(c.text, c.overrides);
    if (!c.exact) MESSAGE(got);
    if (c.exact)
      CHECK(got == c.expected);
    else
      CHECK(got.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("all validation errors are collected, one per line, capped") {
  const std::string text =
      R"({"name":"","horizon_steps":0,"dt_s":-1,"assets":[{"symbol":"BTC","initial_price":"x","tick_size":0.1,"lot_size":0.001}],"bogus":1})";
  const std::string msg = error_of(text);
  CHECK(msg ==
        "x.json: bogus: unknown field (allowed here: 'name', 'description', 'seed', 'horizon_steps', 'dt_s', "
        "'quote_asset', 'assets', 'venues', 'agents', 'perp', 'shocks', 'output', 'accounts')\n"
        "x.json: name: must be a string of 1 to 200 characters, got \"\"\n"
        "x.json: horizon_steps: must be an integer in [1, 1e8], got 0\n"
        "x.json: dt_s: must be a number in (0, 86400], got -1\n"
        "x.json: assets[0].initial_price: must be a number in (0, 1e12), got \"x\"");

  std::string many = R"({"name":"t","horizon_steps":1,"dt_s":1,"assets":[{"symbol":"BTC","initial_price":1,"tick_size":0.1,"lot_size":1}])";
  for (int i = 0; i < 30; ++i) many += ",\"unknown_field_number_" + std::to_string(i) + "\":1";
  many += "}";
  const std::string capped = error_of(many);
  CHECK(std::count(capped.begin(), capped.end(), '\n') == 19);
  CHECK(capped.find("x.json: ... and 11 more errors") != std::string::npos);
}

TEST_CASE("file errors") {
  CHECK_THROWS_WITH_AS(sl::load_scenario_file("/nonexistent/dir/x.json"),
                       "/nonexistent/dir/x.json: file: cannot open: no such file or directory", ScenarioError);
  CHECK_THROWS_WITH_AS(sl::load_scenario_file(kSrc + "/scenarios"),
                       (kSrc + "/scenarios: file: is a directory, expected a scenario JSON file").c_str(), ScenarioError);
  const auto tmp = std::filesystem::temp_directory_path() / "stresslab_test_loader_big.json";
  {
    std::ofstream out(tmp, std::ios::binary);
    const std::string chunk(1 << 20, ' ');
    for (int i = 0; i < 17; ++i) out << chunk;
  }
  CHECK_THROWS_WITH_AS(sl::load_scenario_file(tmp.string()),
                       (tmp.string() + ": file: too large (more than 16 MiB); a scenario file is a small JSON document").c_str(),
                       ScenarioError);
  std::filesystem::remove(tmp);
}

TEST_CASE("calm.json loads with defaults filled") {
  const ScenarioConfig c = sl::load_scenario_file(kCalm);
  CHECK(c.name == "calm");
  CHECK(!c.description.empty());
  CHECK(c.seed == 42);
  CHECK(c.horizon_steps == 3600);
  CHECK(c.dt_s == 1.0);
  REQUIRE(c.assets.size() == 1);
  const sl::AssetConfig& a = c.assets[0];
  CHECK(a.symbol == "BTC");
  CHECK(a.initial_price == 30000.0);
  CHECK(a.tick_micros == 100000);
  CHECK(a.lot_micros == 1000);
  CHECK(a.quote_micros_per_tick_lot == 100);
  CHECK(a.max_tick == 1200000);
  CHECK(c.agents.market_makers.count_per_venue == 3);
  CHECK(c.agents.noise_traders.count == 200);
  CHECK(c.agents.ladders.empty());
  // Issue #14's switch, written in calm.json: makers from what they see with their own withdrawal,
  // sweeping arbitrageurs, the index half the outside venues.
  CHECK(c.agents.market_makers.fair_value == "visible");
  CHECK(c.agents.market_makers.inventory_skew_bps == 100.0);
  CHECK(c.agents.market_makers.withdrawal.enabled);
  CHECK(c.agents.market_makers.withdrawal.loss_limit_quote == 20000.0);
  CHECK(c.agents.market_makers.withdrawal.cooldown_s == 60.0);
  CHECK(c.agents.arbitrageurs.sweep_levels);
  CHECK(c.perp.oracle.outside_weight == 0.5);
  CHECK(c.source_file == kCalm);
  // Defaults not written in calm.json:
  CHECK(c.agents.market_makers.base_spread_bps == 4.0);
  CHECK(c.agents.noise_traders.limit_lifetime_steps == 300);
  CHECK(a.reference.jump_stdev_log == 0.0);
  CHECK(c.venues.self_trade_prevention);
  // source_json holds every effective value, defaults included.
  const auto j = nlohmann::json::parse(c.source_json);
  CHECK(j.at("agents").at("market_makers").at("base_spread_bps") == 4.0);
  CHECK(j.at("agents").at("noise_traders").at("limit_lifetime_steps") == 300);
  CHECK(j.at("assets").at(0).at("reference").at("jump_stdev_log") == 0.0);
  // New sections take their defaults (calm.json does not mention them).
  CHECK(c.agents.arbitrageurs.count == 2);
  CHECK(c.agents.liquidators.count == 2);
  CHECK(c.agents.basis_traders.count == 0);
  CHECK(c.agents.leveraged_traders.count == 0);
  CHECK(c.perp.margin_tiers.size() == 3);
  CHECK(c.perp.liquidation.policy == "market");
  CHECK(c.shocks.empty());
  CHECK(j.at("assets").at(0).at("collateral_haircut") == 0.1);
  CHECK(j.at("agents").at("market_makers").at("reference_weight") == 0.5);
  CHECK(j.at("agents").at("liquidators").at("tx_cost") == 5.0);
  CHECK(j.at("perp").at("oracle").at("method") == "median");
  CHECK(j.at("perp").at("oracle").at("faults") == nlohmann::json::array());
  CHECK(j.at("perp").at("funding").at("interval_s") == 28800.0);
  CHECK(j.at("perp").at("margin_tiers").size() == 3);
  CHECK(j.at("perp").at("margin_tiers").at(2).at("max_notional") == 1e12);
  CHECK(j.at("perp").at("liquidation").at("protocol_fallback_steps") == 10);
  CHECK(j.at("shocks") == nlohmann::json::array());
}

TEST_CASE("defaults of a minimal scenario match the structs") {
  const ScenarioConfig c = sl::load_scenario_text(minimal(), "m.json");
  const ScenarioConfig d;
  CHECK(c.seed == d.seed);
  CHECK(c.quote_asset == "USDT");
  CHECK(c.description.empty());
  CHECK(c.venues.max_price_multiple == d.venues.max_price_multiple);
  CHECK(c.venues.spot.taker_fee_bps == d.venues.spot.taker_fee_bps);
  CHECK(c.agents.market_makers.levels == d.agents.market_makers.levels);
  CHECK(c.agents.noise_traders.count == d.agents.noise_traders.count);
  CHECK(c.output.record_every_steps == d.output.record_every_steps);
  CHECK(c.assets[0].reference.vol_stress_annual == sl::ReferenceConfig{}.vol_stress_annual);
  CHECK(c.source_file.empty());
}

TEST_CASE("defaults are crash.json's #14 agents: a minimal scenario (no agent fields) loads with them") {
  // Issue #14 items 1-2: the exogenous reference reaches the books only through agents that trade on
  // it, so a file that omits the agent fields gets crash.json's switched agents. Every value is read
  // from crash.json itself: this fails if the defaults or crash.json move without the other.
  const auto crash = nlohmann::json::parse(read_file(kSrc + "/scenarios/crash.json"));
  const auto& mm = crash.at("agents").at("market_makers");
  const auto& wd = mm.at("withdrawal");
  const ScenarioConfig c = sl::load_scenario_text(minimal(R"("agents":{"ladders":[{"venue":"spot"}]})"), "m.json");
  const sl::MarketMakerConfig& m = c.agents.market_makers;
  CHECK(m.fair_value == "visible");
  CHECK(m.fair_value == mm.at("fair_value").get<std::string>());
  CHECK(m.index_weight == mm.at("index_weight").get<double>());                // 0.5
  CHECK(m.other_venue_weight == mm.at("other_venue_weight").get<double>());    // 0.25
  CHECK(m.inventory_skew_bps == mm.at("inventory_skew_bps").get<double>());    // 100
  CHECK(m.withdrawal.enabled == wd.at("enabled").get<bool>());                 // true
  CHECK(m.withdrawal.enabled);
  CHECK(m.withdrawal.vol_window_steps == wd.at("vol_window_steps").get<int>());                // 10
  CHECK(m.withdrawal.vol_ratio_threshold == wd.at("vol_ratio_threshold").get<double>());       // 2
  CHECK(m.withdrawal.levels_per_vol_ratio == wd.at("levels_per_vol_ratio").get<double>());     // 1
  CHECK(m.withdrawal.widen_bps_per_vol_ratio == wd.at("widen_bps_per_vol_ratio").get<double>());  // 1
  CHECK(m.withdrawal.inventory_threshold == wd.at("inventory_threshold").get<double>());       // 0.5
  CHECK(m.withdrawal.loss_limit_quote == wd.at("loss_limit_quote").get<double>());             // 20,000
  CHECK(m.withdrawal.cooldown_s == wd.at("cooldown_s").get<double>());                         // 60
  CHECK(wd.size() == 8);  // a new withdrawal field in crash.json needs its default checked here
  CHECK(c.agents.arbitrageurs.sweep_levels == crash.at("agents").at("arbitrageurs").at("sweep_levels").get<bool>());
  CHECK(c.agents.arbitrageurs.sweep_levels);
  CHECK(c.perp.oracle.outside_weight == crash.at("perp").at("oracle").at("outside_weight").get<double>());  // 0.5
  // crash.json has no ladders: the #14 ladder centre is the oracle index, which every agent sees.
  REQUIRE(c.agents.ladders.size() == 1);
  CHECK(c.agents.ladders[0].center == "index");
  // The resolved scenario written back (source_json) carries the same values.
  const auto j = nlohmann::json::parse(c.source_json);
  CHECK(j.at("agents").at("market_makers").at("withdrawal") == wd);
  CHECK(j.at("perp").at("oracle").at("outside_weight") == 0.5);
  // The printed field reference takes its defaults from the same structs.
  const std::string ref = sl::scenario_schema_reference();
  CHECK(ref.find("| agents.market_makers.fair_value | one of 'reference', 'visible' | default \"visible\" |") != std::string::npos);
  CHECK(ref.find("| agents.ladders[].center | one of 'initial', 'reference', 'index' | default \"index\" |") != std::string::npos);
}

TEST_CASE("overrides with both path syntaxes") {
  const ScenarioConfig c = sl::load_scenario_file(
      kCalm, {"agents.noise_traders.count=17", "/assets/0/initial_price=25000.5", "assets[0].reference.drift_annual=0.1",
              "name=\"quoted name\"", "description=plain text", "venues.self_trade_prevention=false", "seed=7",
              "/agents/ladders=[{\"venue\":\"spot\",\"levels\":3}]", "agents.ladders.0.size_per_level=2.5"});
  CHECK(c.agents.noise_traders.count == 17);
  CHECK(c.assets[0].initial_price == 25000.5);
  CHECK(c.assets[0].reference.drift_annual == 0.1);
  CHECK(c.name == "quoted name");
  CHECK(c.description == "plain text");
  CHECK_FALSE(c.venues.self_trade_prevention);
  CHECK(c.seed == 7);
  REQUIRE(c.agents.ladders.size() == 1);
  CHECK(c.agents.ladders[0].venue == "spot");
  CHECK(c.agents.ladders[0].levels == 3);
  CHECK(c.agents.ladders[0].size_per_level == 2.5);
  // The overrides show in source_json.
  CHECK(nlohmann::json::parse(c.source_json).at("agents").at("noise_traders").at("count") == 17);

  // New sections: perp, agents.basis_traders, a whole shocks array; both path syntaxes.
  const ScenarioConfig p = sl::load_scenario_file(
      kCalm, {"perp.liquidation.penalty_bps=150", "/agents/basis_traders/count=10",
              R"(shocks=[{"type":"price_jump","start_step":10,"size_pct":-20}])", "/perp/oracle/method=twap",
              R"(/perp/margin_tiers=[{"max_notional":1e5,"imr_bps":100,"mmr_bps":50},{"max_notional":1e6,"imr_bps":200,"mmr_bps":100}])",
              "perp.margin_tiers[1].imr_bps=250", "/perp/margin_tiers/1/mmr_bps=120", "assets.0.collateral_haircut=0.25",
              R"(perp.oracle.faults=[{"kind":"extra_lag","start_step":100,"end_step":200,"extra_lag_steps":30}])"});
  CHECK(p.perp.liquidation.penalty_bps == 150.0);
  CHECK(p.agents.basis_traders.count == 10);
  REQUIRE(p.shocks.size() == 1);
  CHECK(p.shocks[0].type == "price_jump");
  CHECK(p.shocks[0].start_step == 10);
  CHECK(p.shocks[0].end_step == 0);  // 0 = start_step + 1 for price_jump
  CHECK(p.shocks[0].asset_index == -1);
  CHECK(p.shocks[0].size_pct == -20.0);
  CHECK(p.perp.oracle.method == "twap");
  REQUIRE(p.perp.margin_tiers.size() == 2);
  CHECK(p.perp.margin_tiers[1].imr_bps == 250.0);
  CHECK(p.perp.margin_tiers[1].mmr_bps == 120.0);
  CHECK(p.perp.margin_tiers[1].max_notional == 1'000'000.0);
  CHECK(p.assets[0].collateral_haircut == 0.25);
  REQUIRE(p.perp.oracle.faults.size() == 1);
  CHECK(p.perp.oracle.faults[0].kind == "extra_lag");
  CHECK(p.perp.oracle.faults[0].extra_lag_steps == 30);
  CHECK(p.perp.oracle.faults[0].bias_bps == 0.0);
  const auto pj = nlohmann::json::parse(p.source_json);
  CHECK(pj.at("shocks").at(0).at("vol_multiplier") == 1.0);  // defaults filled inside array items
  CHECK(pj.at("perp").at("liquidation").at("penalty_bps") == 150.0);
  CHECK(pj.at("agents").at("basis_traders").at("count") == 10);

  // Intermediate objects absent from the document are created.
  const ScenarioConfig m = sl::load_scenario_text(minimal(), "m.json", {"agents.market_makers.levels=2"});
  CHECK(m.agents.market_makers.levels == 2);

  nlohmann::json doc = nlohmann::json::parse(minimal());
  sl::apply_override(doc, "/agents/noise_traders/count=9", "d");
  CHECK(doc["agents"]["noise_traders"]["count"] == 9);
  CHECK_THROWS_WITH_AS(sl::apply_override(doc, "dt_s.x=1", "d"),
                       "d: dt_s.x: unknown field in --set dt_s.x=1: dt_s is a number in (0, 86400] and has no fields",
                       ScenarioError);
}

TEST_CASE("fixed-point conversion rounds, never truncates") {
  const ScenarioConfig c = sl::load_scenario_text(asset_scenario("29999.92", "0.29", "0.001"), "r.json");
  CHECK(c.assets[0].tick_size == 0.29);
  CHECK(c.assets[0].tick_micros == 290000);
  CHECK(c.assets[0].lot_micros == 1000);
  CHECK(c.assets[0].quote_micros_per_tick_lot == 290);
  CHECK(c.assets[0].max_tick == 413792);  // 4 * 29999.92 / 0.29 = 4 * 103448 ticks
  // 0.000001 is one micro-unit; 0.0000015 rounds to 2.
  const ScenarioConfig d = sl::load_scenario_text(asset_scenario("1", "0.0000015", "1000000"), "r.json");
  CHECK(d.assets[0].tick_micros == 2);
  CHECK(d.assets[0].quote_micros_per_tick_lot == 2000000);
}

TEST_CASE("resolved source_json re-loads to an identical config") {
  const std::string with_perp = minimal(
      R"("perp":{"oracle":{"faults":[{"kind":"bias","start_step":1,"end_step":5,"bias_bps":-12.5}]},)"
      R"("margin_tiers":[{"max_notional":50000.5,"imr_bps":66.7,"mmr_bps":33.3}]},)"
      R"("agents":{"leveraged_traders":{"count":3,"leverage_min":1.5,"leverage_max":149.9}},)"
      R"("shocks":[{"type":"vol_regime","start_step":2,"end_step":9,"vol_multiplier":2.5},)"
      R"({"type":"liquidity_withdrawal","start_step":3,"end_step":4,"asset_index":0,"depth_multiplier":0.2}])");
  for (const std::string& text :
       {read_file(kCalm), minimal(R"("agents":{"ladders":[{"venue":"spot"}]})"), with_perp}) {
    const ScenarioConfig a = sl::load_scenario_text(text, "a.json");
    const ScenarioConfig b = sl::load_scenario_text(a.source_json, "b.json");
    CHECK(a.source_json == b.source_json);
    CHECK(a.seed == b.seed);
    CHECK(a.dt_s == b.dt_s);
    REQUIRE(a.assets.size() == b.assets.size());
    for (std::size_t i = 0; i < a.assets.size(); ++i) {
      CHECK(a.assets[i].tick_micros == b.assets[i].tick_micros);
      CHECK(a.assets[i].lot_micros == b.assets[i].lot_micros);
      CHECK(a.assets[i].quote_micros_per_tick_lot == b.assets[i].quote_micros_per_tick_lot);
      CHECK(a.assets[i].max_tick == b.assets[i].max_tick);
    }
    CHECK(a.agents.ladders.size() == b.agents.ladders.size());
    CHECK(a.shocks.size() == b.shocks.size());
    CHECK(a.perp.oracle.faults.size() == b.perp.oracle.faults.size());
    CHECK(a.perp.margin_tiers.size() == b.perp.margin_tiers.size());
  }
}

TEST_CASE("schema reference lists every field") {
  const std::string ref = sl::scenario_schema_reference();
  CHECK(ref.find("| dt_s | a number in (0, 86400] | required | s |") != std::string::npos);
  CHECK(ref.find("| assets[].reference.vol_calm_annual | a number in [0, 50] | default 0.5 |") != std::string::npos);
  CHECK(ref.find("| agents.ladders[].refill | one of 'never', 'every_step', 'every_n_steps' | default \"never\" |") !=
        std::string::npos);
  CHECK(ref.find("| perp.margin_tiers | an array of 1 to 16 objects | default "
                 "[{\"max_notional\":100000.0,\"imr_bps\":100.0,\"mmr_bps\":50.0},") != std::string::npos);
  CHECK(ref.find("| perp.margin_tiers[].mmr_bps | a number in (0, 10000] | required | bps |") != std::string::npos);
  CHECK(ref.find("| perp.liquidation.policy | one of 'market', 'dutch', 'batch', 'socialized', 'delta_neutral', 'hierarchy' | default \"market\" |") != std::string::npos);
  CHECK(ref.find("| shocks[].size_pct | a number in (-100, 1000) | default 0.0 | % |") != std::string::npos);
  CHECK(ref.find("| agents.liquidators.capital | a number in [0, 1e12] | default 1000000.0 | quote units |") !=
        std::string::npos);
}

// Replays inputs the fuzzer once crashed on (tests/fuzz/regressions; format as in fuzz_loader.cpp).
TEST_CASE("fuzz regressions load or throw ScenarioError") {
  const std::filesystem::path dir = kSrc + "/tests/fuzz/regressions";
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    CAPTURE(entry.path().string());
    std::string text = read_file(entry.path().string());
    std::vector<std::string> overrides;
    if (text.rfind("SET:", 0) == 0) {
      const std::size_t end = text.find("\n\n", 4);
      std::string head = text.substr(4, end == std::string::npos ? std::string::npos : end - 4);
      text = end == std::string::npos ? std::string() : text.substr(end + 2);
      std::istringstream hs(head);
      for (std::string line; std::getline(hs, line) && overrides.size() < 16;) overrides.push_back(line);
    }
    try {
      const ScenarioConfig c = sl::load_scenario_text(text, entry.path().filename().string(), overrides);
      CHECK(sl::load_scenario_text(c.source_json, "resolved").source_json == c.source_json);
    } catch (const ScenarioError&) {
    } catch (const std::exception& e) {
      FAIL("unexpected exception: " << e.what());
    }
    ++replayed;
  }
  MESSAGE("replayed " << replayed << " regression inputs");
}
