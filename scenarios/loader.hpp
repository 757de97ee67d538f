// Scenario loading and validation.
//
// A scenario is a JSON object whose layout mirrors ScenarioConfig (scenarios/scenario_config.hpp):
// JSON field names are the struct member names, nested objects are nested structs, `assets` and
// `agents.ladders` are arrays. Every field, its type, range, default and unit is declared once, in
// the schema tables of scenarios/schema.cpp; scenario_schema_reference() prints them.
//
// Error format. Every problem is reported as one line
//     ORIGIN: WHERE: MESSAGE
// where ORIGIN is the file path (or the `origin` given to load_scenario_text / scenario_from_json),
// WHERE is the dotted JSON path of the field ("assets[0].tick_size", "agents.noise_traders.count"),
// "(top level)" for the document itself, "line L, column C" for JSON syntax and nesting errors,
// "file" for problems opening/reading the file, or "--set ASSIGNMENT" for a malformed override.
// MESSAGE states what is allowed and what was found, e.g.
//     scenarios/x.json: assets[0].tick_size: must be a number in (0, 1e6], got "abc"
//     scenarios/x.json: agents.market_makers.base_sprad_bps: unknown field (did you mean 'base_spread_bps'?)
// All validation problems are collected and thrown together in one ScenarioError, one per line,
// at most 20 lines (the 20th then says how many more there were).
//
// Limits: files larger than 16 MiB and documents nested deeper than 64 levels are rejected before
// parsing; duplicate keys within one object are errors.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario_config.hpp"

namespace sl {

// Bad input (file, JSON or values). The CLI reports what() and exits with status 2.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMaxScenarioBytes = 16u * 1024u * 1024u;  // 16 MiB
inline constexpr int kMaxScenarioDepth = 64;                            // nesting of [ and {
inline constexpr std::size_t kMaxReportedErrors = 20;                   // lines in one ScenarioError
inline constexpr std::int64_t kMaxBookTicks = 20'000'000;               // memory guard for max_tick

// Reads and validates a scenario file. `overrides` are "path=value" strings from --set, applied
// in order before validation. Fills source_file with `path`.
ScenarioConfig load_scenario_file(const std::string& path, const std::vector<std::string>& overrides = {});

// Same from text; `origin` names the source in error messages (e.g. the file name). source_file
// is left empty.
ScenarioConfig load_scenario_text(std::string_view text, const std::string& origin,
                                  const std::vector<std::string>& overrides = {});

// Validates a JSON value already parsed (used by sweeps); origin as above. Fills every struct
// member, the derived AssetConfig members (tick_micros, lot_micros, quote_micros_per_tick_lot,
// max_tick) and source_json: the fully-resolved configuration (every field, defaults included)
// as dump(2); loading source_json again yields an identical configuration.
ScenarioConfig scenario_from_json(const nlohmann::json& j, const std::string& origin);

// Applies one "path=value" override to a JSON document (validation happens afterwards, in
// scenario_from_json). path is a JSON pointer ("/agents/noise_traders/count", "/assets/0/initial_price")
// or a dotted path ("agents.noise_traders.count", "assets.0.initial_price", "assets[0].initial_price").
// It must name a field of the schema; missing intermediate objects are created; array indices
// must exist. value is parsed as JSON if it parses (numbers, true/false, null, quoted strings,
// objects, arrays), else taken as a plain string (so "nan" is the string "nan"). Throws
// ScenarioError for an unknown path, an out-of-range index or a malformed assignment.
void apply_override(nlohmann::json& doc, const std::string& assignment, const std::string& origin);

// Parses scenario text into JSON with the loader's safety checks (size, depth, duplicate keys),
// without validating against the schema. Throws ScenarioError.
nlohmann::json parse_scenario_json(std::string_view text, const std::string& origin);

// A Markdown table of every scenario field: path, type, required/default, range, unit, meaning.
std::string scenario_schema_reference();

}  // namespace sl
