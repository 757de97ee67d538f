// Sweep files: a base scenario, a grid over scenario fields addressed by JSON pointer, policies and
// seeds. Loading expands the grid into fully validated scenarios (one per grid point) before any
// run starts, so a bad value anywhere in the grid is reported up front (exit 2, no output).
//
//   {
//     "description": "penalty x maintenance margin on the crash scenario",   (optional)
//     "base": "../crash.json",                  (required; relative to the sweep file's folder)
//     "grid": {                                 (required)
//       "mode": "cartesian",                    ("cartesian" | "listed")
//       "axes": [ {"pointer": "/perp/liquidation/penalty_bps", "name": "penalty_bps", "values": [50, 100]},
//                 {"pointer": "/perp/margin_tiers/0/mmr_bps", "values": [50, 100]} ]
//       -- or, with "mode": "listed" --
//       "points": [ {"/perp/liquidation/penalty_bps": 50, "/perp/margin_tiers/0/mmr_bps": 50}, ... ],
//       "axes": [ {"pointer": "/perp/liquidation/penalty_bps", "name": "penalty_bps"}, ... ]   (optional:
//                 names and column order; default: the pointers, sorted)
//     },
//     "policies": ["market", "dutch"],          (optional; default the base scenario's policy)
//     "seeds": 3,                               (optional; 1..1000000, default 1)
//     "first_seed": 1                           (optional; default the base scenario's seed)
//   }
//
// Pointers are applied (scenarios/loader.hpp apply_override) to the base scenario *after* it is
// resolved (every field present with its default), so a pointer may name a field the base file
// leaves out, e.g. /perp/margin_tiers/0/mmr_bps. Cartesian order: the last axis varies fastest.
// Each point's parameters become `param:<name>` columns (value as text: strings as-is, other
// values as compact JSON; at most 64 bytes).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/sweep/sweep_runner.hpp"

namespace sl {

inline constexpr int kMaxSweepSeeds = 1'000'000;
inline constexpr std::size_t kMaxSweepPoints = 100'000;
inline constexpr std::size_t kMaxSweepRuns = 10'000'000;

struct SweepSpec {
  std::string source_file;       // the sweep file
  std::string description;
  std::string base_file;         // resolved path of the base scenario
  ScenarioConfig base;           // base scenario with --set overrides, validated
  std::vector<std::string> param_names;
  std::vector<SweepPoint> points;
  std::vector<std::string> policies;
  std::uint64_t first_seed = 0;
  int seeds = 1;
};

// Reads and validates a sweep file. `base_overrides` (--set) apply to the base scenario before the
// grid. `allowed_policies` is the engine's list of implemented policies. Throws ScenarioError with
// "FILE: FIELD: message" (FIELD e.g. "grid.axes[1].values[2]").
SweepSpec load_sweep_file(const std::string& path, const std::vector<std::string>& base_overrides,
                          const std::vector<std::string>& allowed_policies);

// Same from text; `origin` names the file in messages and relative base paths resolve against
// `base_dir`.
SweepSpec load_sweep_text(std::string_view text, const std::string& origin, const std::string& base_dir,
                          const std::vector<std::string>& base_overrides,
                          const std::vector<std::string>& allowed_policies);

}  // namespace sl
