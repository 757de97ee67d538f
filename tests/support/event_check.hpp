// Checks one liquidation event against what a test states by hand: the fields given are checked,
// the ones left out are not. Amounts are exact or within a relative tolerance, as each test's hand
// computation allows (1e-12 for sums of whole-tick prices, 1e-9 for quotients such as slippage).
#pragma once
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "sim/run/run_result.hpp"

namespace sl::test {

// An expected amount: `rel` > 0: doctest::Approx(value).epsilon(rel); `rel` < 0: doctest::Approx(value)
// with doctest's default tolerance; `rel` == 0: exactly `value`.
struct Amount {
  double value;
  double rel;
};
inline Amount exactly(double value) { return {value, 0.0}; }
inline Amount approx(double value) { return {value, -1.0}; }
inline Amount approx(double value, double rel) { return {value, rel}; }

// The fields of LiquidationEvent (sim/run/run_result.hpp), in its order.
struct EventIs {
  std::optional<std::int64_t> step = {};
  std::optional<std::uint32_t> account = {};
  std::optional<std::string> agent_type = {};
  std::optional<std::string> policy_path = {};
  std::optional<Amount> notional = {}, price = {}, mark = {}, slippage_bps = {}, penalty = {};
  std::optional<std::int32_t> liquidator = {}, steps_to_complete = {};
  std::optional<Amount> bad_debt = {};
  std::optional<bool> endogenous = {};
};

inline void check_amount(const char* field, double got, const std::optional<Amount>& want) {
  if (!want) return;
  INFO("event field ", field);
  if (want->rel > 0) CHECK(got == doctest::Approx(want->value).epsilon(want->rel));
  else if (want->rel < 0) CHECK(got == doctest::Approx(want->value));
  else CHECK(got == want->value);
}

inline void check_event(const LiquidationEvent& e, const EventIs& want) {
  INFO("event at step ", e.step, " on path ", e.policy_path);
  if (want.step) CHECK(e.step == *want.step);
  if (want.account) CHECK(e.account == *want.account);
  if (want.agent_type) CHECK(e.agent_type == *want.agent_type);
  if (want.policy_path) CHECK(e.policy_path == *want.policy_path);
  check_amount("notional", e.notional, want.notional);
  check_amount("price", e.price, want.price);
  check_amount("mark", e.mark, want.mark);
  check_amount("slippage_bps", e.slippage_bps, want.slippage_bps);
  check_amount("penalty", e.penalty, want.penalty);
  if (want.liquidator) CHECK(e.liquidator == *want.liquidator);
  if (want.steps_to_complete) CHECK(e.steps_to_complete == *want.steps_to_complete);
  check_amount("bad_debt", e.bad_debt, want.bad_debt);
  if (want.endogenous) CHECK(e.endogenous == *want.endogenous);
}

}  // namespace sl::test
