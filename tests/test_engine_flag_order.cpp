// The order in which flagged accounts reach every liquidation policy (MarginEngine::mark_all):
// worst margin ratio (equity / maintenance) first, an account with no position and negative equity
// before all, exact ties in the order of the seeded kStreamFlagOrder stream, never by account id.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "tests/support/hand_world.hpp"

using namespace sl;
using sl::test::HandWorld;

TEST_CASE("flag order: worst margin ratio first, whatever the account ids") {
  // Longs of 1 BTC opened against the book maker; the mark falls to 9,000. Maintenance of a
  // 9,000 notional at the first tier (50 bps) = 45. Equity = cash + 9,000:
  //   x: cash -8,980 -> equity 20, ratio 0.444;  y: -8,990 -> 10, 0.222;
  //   z: -9,010 -> -10, ratio -0.222;  w: no position, cash -100 -> equity -100, maintenance 0: first.
  //   h: -8,950 -> 50 >= 45: healthy, not flagged.
  HandWorld hw(0);
  const std::uint32_t x = hw.account("x", -8'980, 1.0);
  const std::uint32_t y = hw.account("y", -8'990, 1.0);
  const std::uint32_t h = hw.account("h", -8'950, 1.0);
  const std::uint32_t z = hw.account("z", -9'010, 1.0);
  const std::uint32_t w = hw.account("w", -100, 0.0);
  hw.set_mark(9'000, 1);
  CHECK(hw.me->account(x).equity == doctest::Approx(20.0));
  CHECK(hw.me->account(x).maintenance == doctest::Approx(45.0));
  CHECK_FALSE(hw.me->account(h).liquidatable);
  CHECK(hw.me->flagged() == std::vector<std::uint32_t>{w, z, y, x});
}

TEST_CASE("flag order: exact ties in a seeded random order, reproducible, every order possible") {
  // Three identical accounts (equity 5, maintenance 45 at 9,000) between a worse and a better one.
  auto order_for = [](std::uint64_t seed) {
    HandWorld hw(0);
    const std::uint32_t better = hw.account("better", -8'980, 1.0);
    for (const char* n : {"t0", "t1", "t2"}) hw.account(n, -8'995, 1.0);
    const std::uint32_t worse = hw.account("worse", -9'010, 1.0);
    hw.me->set_tie_rng(make_rng(seed, 0, kStreamFlagOrder));
    hw.set_mark(9'000, 1);
    const std::vector<std::uint32_t> f = hw.me->flagged();
    REQUIRE(f.size() == 5);
    CHECK(f.front() == worse);
    CHECK(f.back() == better);
    return std::vector<std::uint32_t>(f.begin() + 1, f.end() - 1);
  };
  std::set<std::vector<std::uint32_t>> seen;
  for (std::uint64_t s = 1; s <= 200; ++s) {
    const std::vector<std::uint32_t> ties = order_for(s);
    CHECK(std::is_permutation(ties.begin(), ties.end(), std::vector<std::uint32_t>{1, 2, 3}.begin()));
    seen.insert(ties);
  }
  // 6 orders; with a uniform shuffle the chance that one of them is missing from 200 seeds is below
  // 6 x (5/6)^200 < 1e-15, so a shuffle that favoured the id order would show here.
  CHECK(seen.size() == 6);
  CHECK(order_for(7) == order_for(7));
}
