// The message a user sees for bad input: what `load` throws as a ScenarioError, or "" when it loads.
// Shared by the bad-input tests of the scenario, sweep, positions and calibration loaders.
#pragma once
#include <string>

#include "scenarios/loader.hpp"

namespace sl::test {

template <class Load>
std::string scenario_error_of(Load&& load) {
  try {
    load();
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace sl::test
