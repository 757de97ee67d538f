// Liquidation under the `market` policy, computed by hand.
//
// Market: BTC at 10,000 USDT, tick 1, lot 0.001, no fees, a constant reference (zero volatility)
// until a scheduled jump at step 10. Two ladder makers re-centre on the reference every step, one on
// spot and one on the perp: levels 1, 11, 21, ... ticks from the centre, 0.4 BTC each, so every mid
// equals the reference. Oracle: median over 1 step, lag 0 (index at step t = spot mid at the end of
// step t-1). Mark: EMA over 1 step (alpha = 1) clamped to +-50 bps of the index. One leveraged trader
// goes long 1 BTC at 10x (margin 1,000 USDT, isolated); one liquidator bot (latency 0, tx cost 1).
//
// Entry (step 0 or 1): market buy 1 BTC into asks 10,001 / 10,011 / 10,021 (0.4 each):
//   0.4 x 10,001 + 0.4 x 10,011 + 0.2 x 10,021 = 4,000.4 + 4,004.4 + 2,004.2 = 10,009.0
//   cash = 1,000 - 10,009 = -9,009; contracts = +1.
// Step 10: the reference jumps; the ladders re-centre; the index is still 10,000 (yesterday's
// spot mid) and the mark is clamped at 10,000 x (1 - 0.005) = 9,950: equity -9,009 + 9,950 = 941,
// healthy. Step 11: index = new spot mid = reference, premium EMA = 0, mark = reference.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/event_check.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)


TEST_CASE("market policy, solvent close: -9.6% jump, penalty capped at the remaining equity") {
  // Reference after the jump: 10,000 x 0.904 = 9,040. Step 11: mark 9,040, equity -9,009 + 9,040 = 31
  // < maintenance 0.5% x 9,040 = 45.2: liquidatable at step 11; the bot (latency 0) acts at once.
  // Close: sell 1 BTC into bids 9,039 / 9,029 / 9,019 (0.4 each):
  //   3,615.6 + 3,611.6 + 0.2 x 9,019 = 1,803.8  ->  9,031.0, average 9,031.0
  //   slippage vs mark = (9,040 - 9,031) / 9,040 = 9.95575 bps
  // Cash after = -9,009 + 9,031 = 22 = equity. Penalty 1% x 9,031 = 90.31, capped at 22:
  //   11 to the liquidator, 11 to the insurance fund (100 -> 111). No deficit, no bad debt.
  // Healthy at the reference (9,040)? equity 31 < 45.2: no, so the liquidation is exogenous.
  const RunResult r = run_world(ladder_world(-9.6));
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  // agent ids: ladders 0, 1; trader 2; bot 3
  check_event(e, {.step = 11, .agent_type = "leveraged_trader", .policy_path = "market",
                  .notional = approx(9031.0, 1e-12), .price = approx(9031.0, 1e-12), .mark = approx(9040.0, 1e-9),
                  .slippage_bps = approx(1e4 * 9.0 / 9040.0, 1e-9), .penalty = approx(22.0, 1e-12), .liquidator = 3,
                  .steps_to_complete = 0, .bad_debt = exactly(0.0), .endogenous = false});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(111.0).epsilon(1e-12));
  CHECK(metric(r, "insurance_fund_min") == doctest::Approx(100.0).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "penalties_paid") == doctest::Approx(22.0).epsilon(1e-12));
  CHECK(metric(r, "cascade_amplification") == doctest::Approx(1.0));
  // Row k of the series is the state at the end of step k: the clamp binds at step 10, the new level at 11.
  CHECK(series(r, "mark")[9] == doctest::Approx(10000.0));
  CHECK(series(r, "mark")[10] == doctest::Approx(10000.0 * 0.995));
  CHECK(series(r, "mark")[11] == doctest::Approx(9040.0));
}

TEST_CASE("market policy (V1 market orders), bankrupt close: -12% jump, insurance fund exhausted, the rest is bad debt") {
  // Reference 8,800. Step 11: mark 8,800, equity -9,009 + 8,800 = -209 (already bankrupt).
  // Close into bids 8,799 / 8,789 / 8,779: 3,519.6 + 3,515.6 + 1,755.8 = 8,791.0; slippage 9/8,800.
  // Cash after = -9,009 + 8,791 = -218: no penalty (no equity); deficit 218: the insurance fund
  // pays its 100, bad debt 118. The bot earned nothing and paid its 1 USDT transaction cost.
  const RunResult r = run_world(ladder_world(-12.0), {"perp.liquidation.market_order=market"});
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 11, .policy_path = "market>insurance>bad_debt", .notional = approx(8791.0, 1e-12),
                  .slippage_bps = approx(1e4 * 9.0 / 8800.0, 1e-9), .penalty = exactly(0.0),
                  .bad_debt = approx(118.0, 1e-12)});
  CHECK(metric(r, "insurance_fund_end") == 0.0);
  CHECK(metric(r, "bad_debt") == doctest::Approx(118.0).epsilon(1e-12));
  CHECK(series(r, "bad_debt_cum").back() == doctest::Approx(118.0).epsilon(1e-12));
  CHECK(series(r, "liquidations")[11] == 1.0);
}

TEST_CASE("market policy (Binance IOC), bankrupt: nothing fills at the bankruptcy price, the fund takes over, ADL covers the shortfall") {
  // Reference 8,800. Step 11: mark 8,800, equity -209, bankruptcy price p_b = 8,800 + 209 / 1 = 9,009.
  // The IOC sells 1 BTC at >= 9,009: the best bid is 8,799, nothing fills (no event of its own).
  // The fund takes the account over at p_b: loss 209, the fund's equity 100 (+ fund_borrow_limit 0)
  // carries 100; the shortfall 109 is deleveraged. Every perp position is margined (issue #12 item
  // 3): the perp ladder sold the long its 1 BTC at step 0 (0.4 @ 10,001, 0.4 @ 10,011, 0.2 @ 10,021:
  // entry 10,009) and is the one profitable short, so the queue is that ladder (before #12 item 3
  // it was not margined, the queue was empty and 109 was bad debt).
  // ADL target: 1 BTC x 109 / 209 = 0.521531 BTC, rounded up to a whole lot: 0.522 BTC, bought back by
  // the ladder at 9,009: 4,702.698. It gave up 4,702.698 - 0.522 x 8,800 = 109.098 against the mark
  // (adl_taken); overshoot 109.098 - 109 = 0.098.
  // The fund takes the other 0.478 BTC and the long's cash -9,009 + 4,702.698 = -4,306.302: its equity
  // after is 100 + 0.478 x 8,800 - 4,306.302 = 0.098 >= 0: no bad debt; it has 100 of cash, 4,206.302
  // is lent. Event: price 9,009, notional 9,009, slippage (8,800 - 9,009) / 8,800 = -237.5 bps.
  // Step 12: the fund unwinds 0.478 BTC into the best two bid levels: 0.4 @ 8,799 + 0.078 @ 8,789 =
  // 3,519.6 + 685.542 = 4,205.142 for 0.478 x 8,800 = 4,206.4 at mark: a loss of 1.258 takes its
  // equity to 0.098 - 1.258 = -1.16 below its floor 0: 1.16 is bad debt (the floor), the loan repaid.
  const RunResult r = run_world(ladder_world(-12.0));
  REQUIRE(r.liquidations.size() == 2);
  const LiquidationEvent& e = r.liquidations[0];
  CHECK(e.step == 11);
  CHECK(e.policy_path == "market>adl");
  CHECK(e.price == doctest::Approx(9009.0).epsilon(1e-12));
  CHECK(e.notional == doctest::Approx(9009.0).epsilon(1e-12));
  CHECK(e.slippage_bps == doctest::Approx(-237.5).epsilon(1e-9));
  CHECK(e.penalty == 0.0);
  CHECK(e.bad_debt == 0.0);
  const LiquidationEvent& adl = r.liquidations[1];
  CHECK(adl.step == 11);
  CHECK(adl.agent_type == std::string("ladder"));
  CHECK(adl.policy_path == "market>adl>deleveraged");
  // The ladder was deleveraged, not liquidated: the liquidation metrics count the absorbed long only.
  CHECK(metric(r, "liquidations") == 1.0);
  CHECK(metric(r, "accounts_liquidated") == 1.0);
  CHECK(metric(r, "liquidated_notional") == doctest::Approx(9009.0).epsilon(1e-12));
  CHECK(metric(r, "mean_slippage_bps") == doctest::Approx(-237.5).epsilon(1e-9));
  CHECK(adl.price == doctest::Approx(9009.0).epsilon(1e-12));
  CHECK(adl.notional == doctest::Approx(0.522 * 9009.0).epsilon(1e-12));
  CHECK(metric(r, "adl_queue_empty_events") == 0.0);
  CHECK(metric(r, "adl_count") == 1.0);
  CHECK(metric(r, "adl_taken") == doctest::Approx(109.098).epsilon(1e-9));
  CHECK(metric(r, "adl_overshoot") == doctest::Approx(0.098).epsilon(1e-7));
  CHECK(series(r, "adl_overshoot")[11] == doctest::Approx(0.098).epsilon(1e-7));
  CHECK(series(r, "bad_debt_cum")[11] == 0.0);
  CHECK(series(r, "fund_borrowed")[11] == doctest::Approx(4206.302).epsilon(1e-12));
  CHECK(series(r, "insurance_fund")[11] == doctest::Approx(0.098).epsilon(1e-9));
  CHECK(series(r, "bad_debt_cum")[12] == doctest::Approx(1.16).epsilon(1e-9));
  CHECK(series(r, "fund_borrowed")[12] == 0.0);
  CHECK(metric(r, "bad_debt") == doctest::Approx(1.16).epsilon(1e-9));
  CHECK(metric(r, "bad_debt_fund_floor") == doctest::Approx(1.16).epsilon(1e-9));
  CHECK(metric(r, "fund_borrowed_at_end") == 0.0);
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(metric(r, "fund_exhausted_step") == 11.0);
  CHECK(metric(r, "fund_exhausted_s") == 12.0);  // (step + 1) x dt_s, as time_s
  CHECK(series(r, "insurance_fund_exhausted")[10] == 0.0);
  CHECK(series(r, "insurance_fund_exhausted")[11] == 1.0);
  CHECK(series(r, "insurance_fund_exhausted")[14] == 0.0);
  // With a credit line of 200 the fund carries the whole loss: no bad debt at step 11, equity -109.
  const RunResult c = run_world(ladder_world(-12.0), {"perp.liquidation.fund_borrow_limit=200"});
  REQUIRE(c.liquidations.size() == 1);
  check_event(c.liquidations[0], {.policy_path = "market>insurance", .bad_debt = exactly(0.0)});
  CHECK(series(c, "bad_debt_cum")[11] == 0.0);
  CHECK(series(c, "insurance_fund")[11] == doctest::Approx(-109.0).epsilon(1e-12));
  CHECK(metric(c, "adl_queue_empty_events") == 0.0);
  CHECK(metric(c, "fund_exhausted_step") == -1.0);
  CHECK(metric(c, "insurance_fund_min") == doctest::Approx(-114.0).epsilon(1e-12));  // after its unwinding losses (5)
}

TEST_CASE("market policy: no bot in time and no protocol fallback means no liquidation, and losses grow") {
  // Same -9.6% jump but the only bot has latency 5 steps: it acts at step 16, not 11. Nothing else
  // moves the price, so the numbers are the same, only later.
  const RunResult r = run_world(ladder_world(-9.6), {"agents.liquidators.latency_steps=5"});
  REQUIRE(r.liquidations.size() == 1);
  check_event(r.liquidations[0], {.step = 16, .steps_to_complete = 5});
  // And with no bot at all (and fallback disabled), nobody liquidates.
  const RunResult none = run_world(ladder_world(-9.6), {"agents.liquidators.count=0"});
  CHECK(none.liquidations.empty());
}
