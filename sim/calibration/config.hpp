// Calibration files (`stresslab calibrate CALIBRATION.json`): reading, validation and the grid of
// sweep points they describe. Format and defaults: sim/calibration/README.md; example:
// scenarios/calibration/crash_penalty.json.
//
// Errors are ScenarioError (exit 2), one line "FILE: FIELD: MESSAGE" where FIELD is the dotted path in
// the calibration file (e.g. `axes.latency.values[2]`) and MESSAGE says what is allowed and what was
// found. A grid value the scenario rejects is reported at its calibration field, followed by the
// scenario validator's own message (which names the scenario file and field).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/calibration/surface.hpp"
#include "sim/sweep/sweep_runner.hpp"

namespace sl {

// One swept dimension: a JSON pointer into the scenario and its values (numbers).
struct CalibrationAxis {
  std::string name;      // "sigma", "depth", "latency", "penalty_bps", "mmr_bps": the param:<name> column
  std::string pointer;   // JSON pointer into the resolved scenario
  std::vector<double> values;
  std::vector<std::string> texts;  // the values as JSON text (what the override and the param column hold)
  bool from_base = false;          // values not given: the base scenario's single value
};

// Default pointers (sim/calibration/README.md, "Why these default axes").
inline constexpr const char* kSigmaPointer = "/assets/0/reference/vol_calm_annual";
inline constexpr const char* kDepthPointer = "/agents/market_makers/quote_size";
inline constexpr const char* kLatencyPointer = "/agents/liquidators/latency_steps";
inline constexpr const char* kPenaltyPointer = "/perp/liquidation/penalty_bps";
inline constexpr const char* kMmrPointer = "/perp/margin_tiers/0/mmr_bps";

struct CalibrationConfig {
  std::string source_file;     // the calibration file as given
  std::string name, description;
  std::string scenario_path;   // base scenario, resolved against the calibration file's folder
  std::vector<std::string> base_overrides;  // "set": applied to the base scenario before the grid
  std::string policy = "market";
  std::uint64_t first_seed = 0;   // default: the base scenario's seed
  int n_seeds = 10;
  SurfaceOptions surface;         // lambda, bootstrap
  CalibrationAxis axes[3];        // sigma, depth, latency (cells: sigma-major, then depth, then latency)
  CalibrationAxis penalty;
  CalibrationAxis mmr;            // from_base when the margin is not swept
  bool mmr_swept = false;
  std::string resolved_json;      // the calibration as understood (every default filled), for the output file
};

// Reads and validates a calibration file, including every axis value against the base scenario.
CalibrationConfig load_calibration_file(const std::string& path);

// The grid: points in plan order, point = cell * n_candidates + candidate, candidate =
// mmr_index * n_penalties + penalty_index; cell = (sigma_i * n_depth + depth_i) * n_latency + latency_i.
struct CalibrationPlan {
  ScenarioConfig base;                  // the base scenario with `set` applied
  std::vector<SweepPoint> points;
  std::vector<Candidate> candidates;
  std::size_t n_cells = 0;
  std::vector<SweepRunSpec> runs;       // plan_sweep(points, {policy}, first_seed, n_seeds)
};

// Builds and validates every point (each through the scenario validator). Throws ScenarioError.
CalibrationPlan plan_calibration(const CalibrationConfig& config);

}  // namespace sl
