// libFuzzer entry for the sweep-file loader (scenarios/sweep_spec.hpp). Any exception other than
// sl::ScenarioError, any crash, sanitizer report or hang is a bug in the loader.
//
// Input: the sweep file text. Relative `base` paths resolve against the project's scenarios/
// folder (STRESSLAB_SCENARIO_DIR), so the seed corpus can name the shipped scenarios.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.hpp"
#include "scenarios/sweep_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> policies{"market", "dutch", "batch", "socialized", "delta_neutral", "hierarchy"};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const sl::SweepSpec s = sl::load_sweep_text(text, "fuzz_sweep.json", STRESSLAB_SCENARIO_DIR, {}, policies);
    // What loads is consistent: every point has the same parameter names, and a point exists.
    if (s.points.empty()) __builtin_trap();
    for (const auto& p : s.points)
      if (p.params.size() != s.points.front().params.size()) __builtin_trap();
  } catch (const sl::ScenarioError&) {
  }
  return 0;
}
