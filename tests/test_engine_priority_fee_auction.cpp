// The priority-fee auction among liquidator classes (sim/liquidation/priority_fee_auction.hpp,
// issue #14 item 3), by hand: who enters, who wins, what the winner pays and where it goes, the
// protocol fallback after its delay and at its cost, the EIP-1559 base fee under congestion.
#include <doctest/doctest.h>

#include <cmath>

#include "sim/liquidation/common.hpp"
#include "sim/liquidation/priority_fee_auction.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using sl::test::HandWorld;
using sl::test::kUsd;
using sl::test::U;

namespace {

LiquidatorConfig bot_class(const char* name, double tx_cost, double min_profit, double bid_share, int latency_steps = 0,
                           double price_risk_share = 0.0) {
  LiquidatorConfig c;
  c.name = name;
  c.latency_steps = latency_steps;
  c.tx_cost = tx_cost;
  c.min_profit = min_profit;
  c.capital = 1'000.0;
  c.bid_share_min = bid_share;
  c.bid_share_max = bid_share;
  c.price_risk_share = price_risk_share;
  return c;
}

void add_bot(HandWorld& w, const LiquidatorConfig& c, std::int32_t agent_id) {
  const AccountId a = w.L.open_account("bot:" + std::to_string(agent_id));
  w.L.mint(a, kUsd, U(c.capital));
  w.bots.emplace_back(c, a, agent_id, make_rng(1, 0, kStreamAgentBase + static_cast<std::uint64_t>(agent_id)));
}

// The two classes of the first tests: "fast" (agent 1000: tx cost 5, no minimum profit, bids half its
// surplus) and "rich" (agent 1001: tx cost 20, minimum profit 10, bids three quarters of it).
void add_fast_and_rich(HandWorld& w) {
  add_bot(w, bot_class("fast", 5.0, 0.0, 0.5), 1000);
  add_bot(w, bot_class("rich", 20.0, 10.0, 0.75), 1001);
}

// The liquidation context of step 1 with the bots of w bidding in `auction`.
LiquidationContext auction_context(HandWorld& w, PriorityFeeAuction& auction) {
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, nullptr};
  ctx.fee_auction = &auction;
  return ctx;
}

// Long 1 BTC with cash -9,000: flagged at step 1 (mark 9,040: equity 40 < maintenance 45.2).
std::uint32_t flagged_long(HandWorld& w) {
  const std::uint32_t id = w.account("long", -9'000, 1.0);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 1);
  REQUIRE(w.me->account(id).flagged_since == 1);
  return id;
}

}  // namespace

TEST_CASE("priority-fee auction: two bots, the higher sealed bid wins and pays it (first price)") {
  HandWorld w(1'000);
  add_fast_and_rich(w);
  const std::uint32_t id = flagged_long(w);
  PriorityFeeConfig pf;
  pf.base_fee_initial = 2.0;
  pf.base_fee_min = 0.1;
  pf.target_bids_per_step = 1;
  pf.max_change_denominator = 8;
  PriorityFeeAuction auction(pf, w.m);
  LiquidationContext ctx = auction_context(w, auction);
  // Base fee at step 1: step 0 had no bid (0 < target 1): 2 - 2 x 1/1/8 = 1.75.
  // R = 100 (the reward the policy offers).
  //  fast: gas = 5 + 1.75 = 6.75, surplus = 100 - 6.75 - 0 = 93.25, bid 0.5 x 93.25 = 46.625
  //  rich: gas = 20 + 1.75 = 21.75, surplus = 100 - 21.75 - 10 = 68.25, bid 0.75 x 68.25 = 51.1875
  // rich bids more: it wins and pays 20 (tx) + 1.75 (base) + 51.1875 (its own bid) = 72.9375.
  const Liquidator l = choose_liquidator(ctx, w.me->account(id), 100.0, -1);
  REQUIRE(l.found);
  CHECK(l.agent_id == 1001);
  CHECK(w.L.balance(w.bots[1].account(), kUsd) == U(1'000 - 72.9375));
  CHECK(w.L.balance(w.bots[0].account(), kUsd) == U(1'000));  // the loser pays nothing
  CHECK(w.L.balance(w.sys.network_fees, kUsd) == U(72.9375));  // capture share 0: all of it burnt
  CHECK(w.fund() == U(1'000));
  CHECK(auction.totals().priority_fees == U(51.1875));
  CHECK(auction.totals().base_fees == U(1.75));
  CHECK(auction.totals().contested == 1);
  CHECK(auction.totals().bids == 2);
  w.L.check_conservation();
}

TEST_CASE("priority-fee auction: fee_capture_share splits the winner's fee exactly between the fund and network fees") {
  HandWorld w(1'000);
  add_fast_and_rich(w);
  const std::uint32_t id = flagged_long(w);
  PriorityFeeConfig pf;
  pf.base_fee_initial = 2.0;
  pf.fee_capture_share = 0.3;
  PriorityFeeAuction auction(pf, w.m);
  LiquidationContext ctx = auction_context(w, auction);
  // Same bids as above; the winner's fee 51.1875: 0.3 x 51.1875 = 15.35625 to the insurance fund,
  // 35.83125 to network fees with the 20 tx cost and the 1.75 base fee: 57.58125.
  const Liquidator l = choose_liquidator(ctx, w.me->account(id), 100.0, -1);
  REQUIRE(l.found);
  CHECK(l.agent_id == 1001);
  CHECK(w.fund() == U(1'000 + 15.35625));
  CHECK(w.L.balance(w.sys.network_fees, kUsd) == U(57.58125));
  CHECK(w.L.balance(w.bots[1].account(), kUsd) == U(1'000 - 72.9375));
  CHECK(auction.totals().captured == U(15.35625));
  CHECK(U(15.35625) + U(35.83125) == auction.totals().priority_fees);
  w.L.check_conservation();
}

TEST_CASE("priority-fee auction: below the participation threshold nobody comes - the fallback fires after its delay, at its cost") {
  HandWorld w(1'000);
  // One slow class that prices its price risk: latency 3, tx cost 5, price_risk_share 0.5.
  add_bot(w, bot_class("slow", 5.0, 0.0, 0.5, /*latency_steps=*/3, /*price_risk_share=*/0.5), 1000);
  w.m.assets[0].calm_step_vol = 0.001;  // sigma per step before any index return is observed
  const std::uint32_t id = flagged_long(w);
  PriorityFeeConfig pf;
  pf.base_fee_initial = 1.0;
  pf.base_fee_min = 1.0;  // the base fee stays at 1
  PriorityFeeAuction auction(pf, w.m);
  CHECK(auction.step_vol(0) == doctest::Approx(0.001));
  LiquidationContext ctx = auction_context(w, auction);
  ctx.protocol_fallback_cost = U(50);
  // Threshold: gas 5 + 1 = 6; risk = 0.5 x sqrt(2/pi) x 1 BTC x 9,040 x 0.001 x sqrt(3 + 1)
  //          = 0.5 x 0.7978846 x 9.04 x 2 = 7.2128764; R must exceed 13.2128764.
  const double risk = 0.5 * std::sqrt(2.0 / M_PI) * 9'040.0 * 0.001 * 2.0;
  CHECK(risk == doctest::Approx(7.2128764).epsilon(1e-7));
  CHECK(auction.expected_move(ctx, w.me->account(id), 4.0) == doctest::Approx(2.0 * risk));
  // R = 13 < 13.2128764: nobody, at any step; with protocol_fallback_steps 5 the venue acts at
  // step 6 (flagged at 1: 6 - 1 >= 5) and its fund pays the fallback cost 50 to network fees.
  for (std::int64_t step = 1; step <= 5; ++step) {
    ctx.step = step;
    CHECK_FALSE(choose_liquidator(ctx, w.me->account(id), 13.0, 5).found);
  }
  CHECK(w.fund() == U(1'000));
  ctx.step = 6;
  const Liquidator fb = choose_liquidator(ctx, w.me->account(id), 13.0, 5);
  REQUIRE(fb.found);
  CHECK(fb.agent_id == -1);
  CHECK(fb.account == w.sys.protocol);
  CHECK(w.fund() == U(950));
  CHECK(w.L.balance(w.sys.network_fees, kUsd) == U(50));
  CHECK(auction.totals().bids == 0);
  // R = 13.5: it comes (it saw the account at step 4), surplus 0.2871236, bid 0.5 x that = 0.1435618,
  // rounded down to the micro-unit: 0.143561; it pays 5 + 1 + 0.143561.
  ctx.step = 7;
  const Liquidator bot = choose_liquidator(ctx, w.me->account(id), 13.5, 5);
  REQUIRE(bot.found);
  CHECK(bot.agent_id == 1000);
  const Micros bid = static_cast<Micros>(std::floor(0.5 * (13.5 - 6.0 - risk) * 1e6));
  CHECK(bid == 143'561);
  CHECK(w.L.balance(w.bots[0].account(), kUsd) == U(1'000) - U(6) - bid);
  w.L.check_conservation();
}

TEST_CASE("the fallback cost is at most the fund's cash") {
  HandWorld w(30);
  const std::uint32_t id = flagged_long(w);
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, nullptr};
  ctx.protocol_fallback_cost = U(50);
  const Liquidator fb = choose_liquidator(ctx, w.me->account(id), 0.0, 0);  // no bots, fallback at once
  REQUIRE(fb.found);
  CHECK(fb.agent_id == -1);
  CHECK(w.fund() == 0);
  CHECK(w.L.balance(w.sys.network_fees, kUsd) == U(30));
}

TEST_CASE("EIP-1559 base fee: rises with the bids of a step, at most 1/d, falls without them, floored") {
  // next = b + max(b (used - T) / T / d, 1) above target, b - b (T - used) / T / d below, used = min(n, 2T).
  const Micros b = 1'000'000;  // 1 quote
  CHECK(PriorityFeeAuction::next_base_fee(b, 4, 2, 8, 0) == 1'125'000);   // full step: +1/8
  CHECK(PriorityFeeAuction::next_base_fee(b, 10, 2, 8, 0) == 1'125'000);  // counted up to 2T only
  CHECK(PriorityFeeAuction::next_base_fee(b, 3, 2, 8, 0) == 1'062'500);   // + 1e6 x 1 / 2 / 8
  CHECK(PriorityFeeAuction::next_base_fee(b, 2, 2, 8, 0) == 1'000'000);   // at target: unchanged
  CHECK(PriorityFeeAuction::next_base_fee(b, 0, 2, 8, 0) == 875'000);     // empty step: -1/8
  CHECK(PriorityFeeAuction::next_base_fee(100'000, 0, 2, 8, 95'000) == 95'000);  // 87,500 floored
  CHECK(PriorityFeeAuction::next_base_fee(1, 4, 2, 8, 0) == 2);           // the increase is at least 1 micro

  // In the auction: three bots all bid at step 1 against a target of 1.
  HandWorld w(1'000);
  for (std::int32_t i = 0; i < 3; ++i) add_bot(w, bot_class("any", 5.0, 0.0, 0.5), 1000 + i);
  const std::uint32_t id = flagged_long(w);
  PriorityFeeConfig pf;
  pf.base_fee_initial = 1.0;
  pf.base_fee_min = 0.1;
  pf.target_bids_per_step = 1;
  PriorityFeeAuction auction(pf, w.m);
  LiquidationContext ctx = auction_context(w, auction);
  CHECK(auction.base_fee(1) == 875'000);  // step 0 was empty: 1 - 1/8
  REQUIRE(choose_liquidator(ctx, w.me->account(id), 100.0, -1).found);
  CHECK(auction.totals().bids == 3);
  // Step 1 had 3 bids, counted as min(3, 2) = 2: 875,000 + 875,000 x (2 - 1) / 1 / 8 = 984,375.
  CHECK(auction.base_fee(2) == 984'375);
  // Steps 2 to 4 empty: -1/8 each (integer division): 861,329, 753,663, 659,456.
  CHECK(auction.base_fee(5) == 659'456);
  // Far later it sits at its floor 0.1.
  CHECK(auction.base_fee(200) == 100'000);
}

TEST_CASE("with liquidator classes the expected penalty reward is capped at the account's equity at mark") {
  HandWorld w(1'000);
  const std::uint32_t id = flagged_long(w);  // long 1 BTC, cash -9,000, mark 9,040: equity 40
  LiquidationConfig cfg;
  cfg.penalty_bps = 100;
  cfg.close_factor = 1.0;
  cfg.liquidator_share = 0.5;
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, nullptr};
  // Single form: 0.5 x (9,040 x 1 x 100 / 1e4) = 0.5 x 90.4 = 45.2, as before.
  CHECK(expected_penalty_reward(ctx, w.me->account(id), cfg) == doctest::Approx(45.2));
  // Classes: the penalty cannot exceed the equity 40 (charge_penalty): 0.5 x 40 = 20.
  PriorityFeeAuction auction(PriorityFeeConfig{}, w.m);
  ctx.fee_auction = &auction;
  CHECK(expected_penalty_reward(ctx, w.me->account(id), cfg) == doctest::Approx(20.0));
  // An account under water promises nothing.
  w.set_mark(8'990, 2);
  CHECK(expected_penalty_reward(ctx, w.me->account(id), cfg) == 0.0);
}
