// choose_liquidator (sim/liquidation/common.cpp): every bot of the scenario is a candidate, however
// many there are (an earlier version only ever shuffled the first 64), and the chosen bot pays its
// transaction cost to the network-fees account.
#include <doctest/doctest.h>

#include "sim/liquidation/common.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using sl::test::HandWorld;
using sl::test::kUsd;
using sl::test::U;

TEST_CASE("choose_liquidator: the only bot able to pay is found among 80, and pays its cost") {
  HandWorld w(1'000);
  LiquidatorConfig cfg;
  cfg.latency_steps = 0;
  cfg.tx_cost = 5.0;
  // 80 bots; only the last one has the capital to pay a 5-quote transaction.
  for (std::int32_t i = 0; i < 80; ++i) {
    const AccountId a = w.L.open_account("bot:" + std::to_string(i));
    if (i == 79) w.L.mint(a, kUsd, U(100));
    w.bots.emplace_back(cfg, a, 1000 + i, make_rng(1, 0, 100 + static_cast<std::uint64_t>(i)));
  }
  // Long 1 BTC, cash -9,000: at mark 9,040 its equity 40 is under the 45.2 maintenance: flagged.
  const std::uint32_t id = w.account("long", -9'000, 1.0);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 1);
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, nullptr};
  const Liquidator l = choose_liquidator(ctx, w.me->account(id), 1'000.0, -1);
  CHECK(l.found);
  CHECK(l.agent_id == 1079);
  CHECK(w.L.balance(w.bots.back().account(), kUsd) == U(95));
  CHECK(w.L.balance(w.sys.network_fees, kUsd) == U(5));
  // Nobody able to pay and no fallback: nobody.
  const Liquidator none = choose_liquidator(ctx, w.me->account(id), 1.0, -1);  // reward 1 < cost 5
  CHECK_FALSE(none.found);
  w.L.check_conservation();
}
