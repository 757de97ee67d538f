// Wake-up steps of agents (the event-driven activation of sim/run/activation.hpp): an agent says the
// first step after `step` at which it can want to act, or kNeverWakes.
#pragma once
#include <cstdint>
#include <limits>

namespace sl {

inline constexpr std::int64_t kNeverWakes = std::numeric_limits<std::int64_t>::max();

// The first step > `step` with (s + phase) % period == 0 (period >= 1).
inline std::int64_t next_multiple_after(std::int64_t step, std::int64_t period, std::int64_t phase = 0) {
  const std::int64_t s = step + 1;
  const std::int64_t r = ((s + phase) % period + period) % period;
  return r == 0 ? s : s + (period - r);
}

}  // namespace sl
