// libFuzzer entry for the scenario loader. Any exception other than sl::ScenarioError, any crash,
// sanitizer report or hang is a bug in the loader.
//
// Input: the scenario text. If it starts with "SET:", the lines before the first empty line are
// --set overrides ("SET:" stripped from the first) and the rest is the scenario text, so the
// override path/value handling is fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  if (text.substr(0, 4) == "SET:") {
    text.remove_prefix(4);
    const std::size_t end = text.find("\n\n");
    std::string_view head = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
    while (!head.empty() && overrides.size() < 16) {
      const std::size_t nl = head.find('\n');
      overrides.emplace_back(head.substr(0, nl));
      head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    }
  }
  try {
    const sl::ScenarioConfig c = sl::load_scenario_text(text, "fuzz.json", overrides);
    // A config that loads must round-trip through its resolved JSON.
    const sl::ScenarioConfig again = sl::load_scenario_text(c.source_json, "fuzz-resolved.json");
    if (again.source_json != c.source_json) __builtin_trap();
  } catch (const sl::ScenarioError&) {
  }
  return 0;
}
