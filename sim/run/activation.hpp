// Event-driven agent activation (issue #15): agents are woken by the step they next want to act
// at, instead of being asked `wants_to_act` every step, so a population of passive accounts (a
// leveraged trader that entered and has nothing left to decide) costs nothing per step.
//
// Each agent type gives `next_wake(step)` (sim/core/wake.hpp): the first step after `step` at which
// wants_to_act can be true given its state after this step (kNeverWakes: never again, absent
// outside events). Agents
// whose wish to act is set from outside (a liquidator bot or the backstop handed inventory by a
// policy) are woken every step. A woken agent still acts only if wants_to_act(step) holds, and the
// woken agents of a step come out in the polling order of the kernel (kind, then index), so the
// active list, and the seeded permutation of it, are exactly those of polling everyone.
//
// Cost per step: O(woken x log scheduled); no allocation once the heap has reached its size.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/core/wake.hpp"

namespace sl {

// A min-heap of (wake step, key); keys order agents within a step (the kernel's polling order).
class ActivationQueue {
 public:
  void reserve(std::size_t n) { heap_.reserve(n); }
  void schedule(std::int64_t wake_step, std::uint64_t key) {
    if (wake_step == kNeverWakes) return;
    heap_.push_back({wake_step, key});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  // Appends to `out` the keys due at or before `step`, in key order among equal steps (every entry
  // is due at its own step when the kernel pops every step, so `out` is in key order).
  void pop_due(std::int64_t step, std::vector<std::uint64_t>& out) {
    while (!heap_.empty() && heap_.front().step <= step) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      out.push_back(heap_.back().key);
      heap_.pop_back();
    }
  }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    std::int64_t step;
    std::uint64_t key;
  };
  static bool later(const Entry& a, const Entry& b) { return a.step != b.step ? a.step > b.step : a.key > b.key; }
  std::vector<Entry> heap_;
};

}  // namespace sl
