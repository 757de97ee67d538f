// Two runs are the same run: every field a results file holds of it (the run's identity, its
// params, /runs/<id>/series, /liquidations, /summary), doubles compared bit for bit (NaN payloads
// and -0.0 included). Used where a result must not depend on how it was obtained: written and read
// back, resumed, or computed with the margin index instead of the full scan.
#pragma once
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <utility>

#include "sim/run/run_result.hpp"

namespace sl::test {

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

inline void check_same_run(const RunResult& a, const RunResult& b, const std::string& what = "") {
  INFO(what);
  CHECK(a.run_id == b.run_id);
  CHECK(a.policy == b.policy);
  CHECK(a.seed == b.seed);
  CHECK(a.run_index == b.run_index);
  CHECK(a.params == b.params);
  REQUIRE(a.series.size() == b.series.size());
  for (std::size_t c = 0; c < a.series.size(); ++c) {
    INFO(a.series[c].name);
    CHECK(a.series[c].name == b.series[c].name);
    CHECK(a.series[c].unit == b.series[c].unit);
    REQUIRE(a.series[c].values.size() == b.series[c].values.size());
    for (std::size_t k = 0; k < a.series[c].values.size(); ++k) CHECK(same_bits(a.series[c].values[k], b.series[c].values[k]));
  }
  REQUIRE(a.liquidations.size() == b.liquidations.size());
  for (std::size_t i = 0; i < a.liquidations.size(); ++i) {
    const LiquidationEvent &x = a.liquidations[i], &y = b.liquidations[i];
    CHECK(x.step == y.step);
    CHECK(x.account == y.account);
    CHECK(x.agent_type == y.agent_type);
    CHECK(x.policy_path == y.policy_path);
    CHECK(x.liquidator == y.liquidator);
    CHECK(x.steps_to_complete == y.steps_to_complete);
    CHECK(x.endogenous == y.endogenous);
    for (auto [p, q] : {std::pair{x.notional, y.notional}, {x.price, y.price}, {x.mark, y.mark},
                        {x.slippage_bps, y.slippage_bps}, {x.penalty, y.penalty}, {x.bad_debt, y.bad_debt}})
      CHECK(same_bits(p, q));
  }
  REQUIRE(a.summary.size() == b.summary.size());
  for (std::size_t i = 0; i < a.summary.size(); ++i) {
    INFO(a.summary[i].first);
    CHECK(a.summary[i].first == b.summary[i].first);
    CHECK(same_bits(a.summary[i].second, b.summary[i].second));
  }
}

}  // namespace sl::test
