// Test helpers: look a summary metric or a series column up by name in a RunResult, failing the
// test (not crashing) when it is missing.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/run/run_result.hpp"

namespace sl::test {

inline double metric(const RunResult& r, const std::string& name) {
  for (const auto& [k, v] : r.summary)
    if (k == name) return v;
  FAIL("no summary metric " << name);
  return 0;
}

inline const std::vector<double>& series(const RunResult& r, const std::string& name) {
  for (const auto& c : r.series)
    if (c.name == name) return c.values;
  FAIL("no series column " << name);
  static const std::vector<double> none;
  return none;
}

}  // namespace sl::test
