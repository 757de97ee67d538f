// Event-driven activation (sim/run/activation.hpp, sim/core/wake.hpp): wake-up arithmetic and the
// order agents come out of the queue in. That a run with the queue equals a run polling every agent
// every step was checked when it replaced polling (h5diff of all eight curated scenarios, 3 policies
// x 2 seeds); the hand-computed end-to-end tests pin the same behaviour.
#include <doctest/doctest.h>

#include <vector>

#include "sim/run/activation.hpp"

using namespace sl;

TEST_CASE("next_multiple_after: the first step after `step` with (s + phase) % period == 0") {
  CHECK(next_multiple_after(0, 1) == 1);
  CHECK(next_multiple_after(0, 5) == 5);
  CHECK(next_multiple_after(4, 5) == 5);
  CHECK(next_multiple_after(5, 5) == 10);  // strictly after
  CHECK(next_multiple_after(7, 5) == 10);
  // phase 2: steps 3, 8, 13 ... ((3 + 2) % 5 == 0)
  CHECK(next_multiple_after(0, 5, 2) == 3);
  CHECK(next_multiple_after(3, 5, 2) == 8);
  CHECK(next_multiple_after(7, 5, 2) == 8);
}

TEST_CASE("activation queue: due keys in (step, key) order - never-waking agents are not kept") {
  ActivationQueue q;
  q.schedule(3, 30);
  q.schedule(1, 20);
  q.schedule(1, 5);
  q.schedule(kNeverWakes, 1);
  q.schedule(2, 7);
  CHECK(q.size() == 4);
  std::vector<std::uint64_t> out;
  q.pop_due(0, out);
  CHECK(out.empty());
  q.pop_due(1, out);
  CHECK(out == std::vector<std::uint64_t>{5, 20});
  out.clear();
  q.pop_due(3, out);  // 2 and 3 both due: step order first
  CHECK(out == std::vector<std::uint64_t>{7, 30});
  CHECK(q.size() == 0);
}
