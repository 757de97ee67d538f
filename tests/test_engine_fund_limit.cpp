// Issue #12 items 4, 5, 7, 8 at policy level, computed by hand: the insurance fund's borrow limit
// (an equity floor at -fund_borrow_limit), the `market` policy's IOC at the bankruptcy price with
// the fund's takeover and ADL, the hierarchy's ADL stage leaving bad debt only when the ADL queue is
// empty, and the collateral haircut counted as a user cost.
//
// The world is tests/support/hand_world.hpp: BTC, tick 1, lot 0.001, no fees, spot collateral
// haircut 0.1, mark = index set by hand; margin tiers by default: maintenance 0.5% below 100k of
// notional. Balances are given directly; every number below follows from the lines of each test.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "scenarios/loader.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;

namespace {

LiquidationConfig market_cfg(double penalty_bps) {
  LiquidationConfig c;
  c.policy = "market";
  c.penalty_bps = penalty_bps;
  c.protocol_fallback_steps = 0;  // no bots in the hand world: the venue's engine acts at once
  return c;
}

LiquidationConfig socialized_cfg(double limit) {
  LiquidationConfig c;
  c.policy = "socialized";
  c.socialized.loss_rule = "adl";
  c.fund_borrow_limit = limit;
  return c;
}

LiquidationConfig hierarchy_direct_cfg() {  // straight to the fund and ADL stages
  LiquidationConfig c;
  c.policy = "hierarchy";
  c.hierarchy.internal_match = false;
  c.hierarchy.auction_timeout_steps = 0;
  c.hierarchy.backstop = false;
  return c;
}

Micros fund_equity(HandWorld& w, const LiquidationPolicy& p) {
  return insurance_fund_equity(w.m, w.sys.insurance_fund, p.fund_borrowed());
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Item 5: `market` as Binance runs it
// ------------------------------------------------------------------------------------------------

TEST_CASE("market IOC: the whole position fills at or above the bankruptcy price") {
  // Long 1 BTC, cash -9,500. Mark 9,540: equity 40 < maintenance 0.5% x 9,540 = 47.7: flagged.
  // p_b = 9,540 - 40 / 1 = 9,500. Bids 0.5 @ 9,530 and 0.5 @ 9,520, both >= 9,500: the IOC sells
  // 4,765 + 4,760 = 9,525 (average 9,525). Cash -9,500 + 9,525 = 25 = equity. Penalty 10 bps x 9,525
  // = 9.525 (< 25), all to the fund (the venue's engine liquidated). The user keeps 15.475.
  HandWorld w(1'000);
  const std::uint32_t lng = w.account("long", -9'500, 1.0);
  w.set_mark(10'000, 0);
  w.perp_bids({{9'530, 500}, {9'520, 500}});
  w.set_mark(9'540, 1);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = w.first_step(make_market_policy(market_cfg(10)), 1);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(lng, kUsd) == U(15.475));
  CHECK(w.me->account(lng).closed);
  CHECK(w.fund() == U(1'000 + 9.525));
  CHECK(w.fund(kPerp) == 0);
  REQUIRE(w.events.size() == 1);
  check_event(w.events[0], {.policy_path = "market", .price = approx(9'525.0, 1e-12),
                            .slippage_bps = approx(1e4 * 15.0 / 9'540.0, 1e-9), .penalty = approx(9.525, 1e-12)});
  CHECK(pol->step_stats().bad_debt == 0.0);
  CHECK_FALSE(pol->fund_credit().exhausted_now);
  w.L.check_conservation();
}

TEST_CASE("market IOC: stops at the bankruptcy price, the rest goes to the fund at that price") {
  // Same account, penalty 0. Bids 0.4 @ 9,500 (= p_b) and 0.6 @ 9,490 (below p_b). The IOC sells
  // 0.4 @ 9,500 = 3,800 and stops: cash -5,700, 0.6 BTC left, equity -5,700 + 0.6 x 9,540 = 24.
  // The fund takes 0.6 BTC at 9,540 - 24 / 0.6 = 9,500 (the same bankruptcy price) and pays 5,700:
  // 1,000 of its own, 4,700 lent (its equity after, 1,000 + 24 = 1,024, backs the loan).
  HandWorld w(1'000);
  const std::uint32_t lng = w.account("long", -9'500, 1.0);
  w.set_mark(10'000, 0);
  w.perp_bids({{9'500, 400}, {9'490, 600}});
  w.set_mark(9'540, 1);
  auto pol = w.first_step(make_market_policy(market_cfg(0)), 1);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.me->account(lng).closed);
  CHECK(w.m.assets[0].perp->book().best_bid() == 9'490);  // the level below p_b was not touched
  CHECK(w.fund(kPerp) == U(0.6));
  CHECK(w.fund() == 0);
  CHECK(pol->fund_borrowed() == U(4'700));
  CHECK(fund_equity(w, *pol) == U(1'024));
  REQUIRE(w.events.size() == 2);
  check_event(w.events[0], {.policy_path = "market", .notional = approx(3'800.0, 1e-12),
                            .price = approx(9'500.0, 1e-12)});
  check_event(w.events[1], {.policy_path = "market>insurance", .notional = approx(5'700.0, 1e-9),
                            .price = approx(9'500.0, 1e-9), .bad_debt = exactly(0.0)});
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(4'700));  // the loan, not a loss
  w.L.check_conservation();
}

TEST_CASE("market IOC: the fund exhausted - ADL at the bankruptcy price against the top-ranked short - empty queue -> bad debt") {
  // Long 1 BTC, cash -9,500. Mark 10,000 then 9,400: equity -100, p_b = 9,500 > every bid (9,390):
  // the IOC fills nothing. The fund (40, limit 0) carries 40 of the loss 100; shortfall 60:
  // T = 1 x 60 / 100 = 0.6 BTC deleveraged at 9,500.
  // Shorts opened at 10,000: A 1 BTC, cash 11,000: at 9,400 equity 1,600, pnl% against the entry
  //   (10,000 - 9,400) / 10,000 = 0.06, leverage 9,400 / 1,600 = 5.875, score 0.3525; B 1 BTC, cash
  //   22,000: equity 12,600, pnl% 0.06, leverage 0.746, score 0.0448. A first: it buys 0.6 back at
  //   9,500 (pays 5,700).
  // The fund takes the other 0.4 and cash -3,800: its equity 40 + 0.4 x 9,400 - 3,800 = 0 (its
  // floor), no bad debt; 3,760 of the 3,800 is lent.
  SUBCASE("ADL covers the shortfall") {
    HandWorld w(40);
    const auto [lng, b, a] = w.accounts({{"long", -9'500, 1.0}, {"B", 22'000, -1.0}, {"A", 11'000, -1.0}});
    w.set_mark(10'000, 0);
    w.perp_bids({{9'390, 1000}});
    w.set_mark(9'400, 1);
    REQUIRE(w.me->flagged().size() == 1);
    auto pol = w.first_step(make_market_policy(market_cfg(10)), 1);
    CHECK(pol->step_stats().adl_count == 1);
    CHECK(pol->step_stats().adl_queue_empty == 0);
    CHECK(pol->step_stats().bad_debt == 0.0);
    CHECK(w.bal(lng, kPerp) == 0);
    CHECK(w.bal(lng, kUsd) == 0);
    CHECK(w.bal(a, kPerp) == -U(0.4));
    CHECK(w.bal(a, kUsd) == U(11'000 - 5'700));
    CHECK(w.bal(b, kPerp) == -U(1.0));
    CHECK(w.bal(b, kUsd) == U(22'000));
    CHECK(w.fund(kPerp) == U(0.4));
    CHECK(w.fund() == 0);
    CHECK(pol->fund_borrowed() == U(3'760));
    CHECK(fund_equity(w, *pol) == 0);
    CHECK(w.m.assets[0].perp->book().best_bid() == 9'390);  // the IOC took nothing below p_b
    CHECK(pol->fund_credit().exhausted_now);
    CHECK(pol->fund_credit().first_exhausted_step == 1);
    REQUIRE(w.events.size() == 2);
    check_event(w.events[0], {.account = w.me->account(lng).account, .policy_path = "market>adl",
                              .price = approx(9'500.0, 1e-12), .bad_debt = exactly(0.0)});
    check_event(w.events[1], {.account = w.me->account(a).account, .policy_path = "market>adl>deleveraged",
                              .notional = approx(5'700.0, 1e-9)});
    w.L.check_conservation();
  }
  SUBCASE("no profitable short: the queue is empty, the shortfall is bad debt") {
    // The fund takes the whole 1 BTC and cash -9,500: equity 40 + 9,400 - 9,500 = -60 < 0: 60 is
    // bad debt (the bad-debt account pays it to the fund), 9,400 is lent.
    HandWorld w(40);
    const std::uint32_t lng = w.account("long", -9'500, 1.0);
    w.shock(10'000, 9'400);
    auto pol = w.first_step(make_market_policy(market_cfg(10)), 1);
    CHECK(pol->step_stats().adl_count == 0);
    CHECK(pol->step_stats().adl_queue_empty == 1);
    CHECK(pol->step_stats().bad_debt == doctest::Approx(60.0).epsilon(1e-12));
    CHECK(w.bal(lng, kUsd) == 0);
    CHECK(w.fund(kPerp) == U(1.0));
    CHECK(pol->fund_borrowed() == U(9'400));
    CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(9'400 + 60));
    CHECK(fund_equity(w, *pol) == 0);
    REQUIRE(w.events.size() == 1);
    check_event(w.events[0], {.policy_path = "market>insurance>bad_debt", .bad_debt = approx(60.0, 1e-12)});
    w.L.check_conservation();
  }
}

// ------------------------------------------------------------------------------------------------
// Item 4: the fund's borrow limit
// ------------------------------------------------------------------------------------------------

TEST_CASE("fund_borrow_limit: the fund carries a loss down to -limit, the rest is deleveraged - its marked-down inventory below the floor is deleveraged too, the unmatched rest is bad debt") {
  // Long 2 BTC, cash -18,000, at 8,900: equity -200, loss 200, p_b = 9,000. Fund 150, limit 30: it
  // carries 150 + 30 = 180; shortfall 20 -> T = 2 x 20 / 200 = 0.2 BTC deleveraged at 9,000 against
  // A (1 BTC short from 10,000, cash 11,000; the only profitable short): A pays 1,800.
  // The fund takes 1.8 BTC and cash -16,200: equity 150 + 1.8 x 8,900 - 16,200 = -30 = -limit, no
  // bad debt; it lends 16,050. Step 2, mark 8,800 (no bids: nothing unwound): the fund's 1.8 BTC
  // lose 180, its equity 1.8 x 8,800 - 16,050 = -210 < -30: shortfall S = 180, socialized by ADL of
  // the fund's own inventory (FundAbsorber::floor) at its bankruptcy price 8,800 + 180 / 1.8 = 8,900:
  // A (still short 0.8, profitable) buys 0.8 BTC back at 8,900 = 7,120, carrying 0.8 x 100 = 80; the
  // fund repays: borrowed 16,050 - 7,120 = 8,930, equity 1.0 x 8,800 - 8,930 = -130; the unmatched
  // 1.0 BTC's 100 is bad debt (the bad-debt account pays it, the fund repays: borrowed 8,830).
  HandWorld w(150);
  const auto [lng, a] = w.accounts({{"long", -18'000, 2.0}, {"A", 11'000, -1.0}});
  w.shock(10'000, 8'900);
  auto pol = make_socialized_policy(socialized_cfg(30));
  CHECK(pol->fund_credit().limit == U(30));
  w.run(*pol, 1);
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(pol->step_stats().bad_debt == 0.0);
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.bal(a, kPerp) == -U(0.8));
  CHECK(w.bal(a, kUsd) == U(11'000 - 1'800));
  CHECK(w.fund(kPerp) == U(1.8));
  CHECK(pol->fund_borrowed() == U(16'050));
  CHECK(fund_equity(w, *pol) == -U(30));
  CHECK(pol->fund_credit().exhausted_now);
  w.set_mark(8'800, 2);
  w.run(*pol, 2);
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(pol->step_stats().adl_queue_empty == 1);
  CHECK(w.bal(a, kPerp) == 0);
  CHECK(w.bal(a, kUsd) == U(11'000 - 1'800 - 7'120));
  CHECK(w.fund(kPerp) == U(1.0));
  CHECK(pol->step_stats().bad_debt == doctest::Approx(100.0).epsilon(1e-12));
  CHECK(pol->fund_credit().floor_bad_debt == U(100));
  CHECK(pol->fund_credit().floor_socialized == U(80));
  CHECK(fund_equity(w, *pol) == -U(30));
  CHECK(pol->fund_borrowed() == U(8'830));
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(8'830) - U(100));  // loan + recognized loss
  w.L.check_conservation();
}

TEST_CASE("fund_borrow_limit: a flat account's deficit is paid from cash, then lent up to the limit - the rest is bad debt") {
  // A flat account with cash -200 (equity -200 < 0: flagged). Fund 50, limit 100: it pays 50 of its
  // own and 100 lent (equity 50 - 200 + ... = -100 = -limit); 50 is bad debt. The loan is repaid
  // when the fund has quote again.
  HandWorld w(50);
  const std::uint32_t flat = w.account("flat", -200, 0.0);
  w.set_mark(10'000, 0);
  REQUIRE(w.me->flagged().size() == 1);
  LiquidationConfig c = market_cfg(0);
  c.fund_borrow_limit = 100;
  auto pol = w.first_step(make_market_policy(c), 0);
  CHECK(w.bal(flat, kUsd) == 0);
  CHECK(w.me->account(flat).closed);
  CHECK(pol->step_stats().bad_debt == doctest::Approx(50.0).epsilon(1e-12));
  CHECK(w.fund() == 0);
  CHECK(pol->fund_borrowed() == U(100));
  CHECK(fund_equity(w, *pol) == -U(100));
  CHECK(pol->fund_credit().exhausted_now);
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(150));  // 100 lent + 50 lost
  // Penalties bring the fund 30: repaid at once.
  w.L.mint(w.sys.insurance_fund, kUsd, U(30));
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, nullptr};
  repay_fund_loan(ctx, pol->fund_credit());
  CHECK(pol->fund_borrowed() == U(70));
  CHECK(w.fund() == 0);
  // With limit 0 the same deficit: 50 paid, 150 bad debt, nothing lent.
  HandWorld z(50);
  z.account("flat", -200, 0.0);
  z.set_mark(10'000, 0);
  auto p0 = z.first_step(make_market_policy(market_cfg(0)), 0);
  CHECK(p0->step_stats().bad_debt == doctest::Approx(150.0).epsilon(1e-12));
  CHECK(p0->fund_borrowed() == 0);
  CHECK(z.fund() == 0);
}

// ------------------------------------------------------------------------------------------------
// Item 7: once the ADL stage ran, bad debt only with an empty ADL queue
// ------------------------------------------------------------------------------------------------

TEST_CASE("hierarchy: once the ADL stage ran, bad debt is 0 unless the ADL queue was empty") {
  // The market IOC test's numbers, through hierarchy's fund and ADL stages (no internal match, no
  // auction, no backstop): loss 100, fund 40, shortfall 60 -> 0.6 BTC deleveraged at 9,500.
  SUBCASE("a profitable short in the queue: bad debt 0") {
    HandWorld w(40);
    const auto [lng, a] = w.accounts({{"long", -9'500, 1.0}, {"A", 11'000, -1.0}});
    w.shock(10'000, 9'400);
    auto pol = w.first_step(make_hierarchy_policy(hierarchy_direct_cfg()), 1);
    CHECK(pol->step_stats().adl_count == 1);
    CHECK(pol->step_stats().adl_queue_empty == 0);
    CHECK(pol->step_stats().bad_debt == 0.0);
    CHECK(w.bal(lng, kUsd) == 0);
    CHECK(w.bal(a, kPerp) == -U(0.4));
    CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(3'760));  // the loan only
    REQUIRE(w.events.size() == 2);
    CHECK(w.events[0].policy_path == "hierarchy>adl");
  }
  SUBCASE("a queue too short: the part it cannot cover is bad debt, and the run says so") {
    // A holds only 0.2 BTC short (cash 2,200: at 9,400 equity 320, pnl% 0.06 against its entry):
    // 0.2 of the 0.6 is deleveraged (A pays 1,900). The fund takes 0.8 BTC and cash -7,600: equity
    // 40 + 7,520 - 7,600 = -40: 40 is bad debt (the loss the queue could not take: 0.4 x 100).
    HandWorld w(40);
    const auto [lng, a] = w.accounts({{"long", -9'500, 1.0}, {"A", 2'200, -0.2}});
    w.shock(10'000, 9'400);
    auto pol = w.first_step(make_hierarchy_policy(hierarchy_direct_cfg()), 1);
    CHECK(pol->step_stats().adl_count == 1);
    CHECK(pol->step_stats().adl_queue_empty == 1);
    CHECK(pol->step_stats().bad_debt == doctest::Approx(40.0).epsilon(1e-12));
    CHECK(w.bal(lng, kUsd) == 0);
    CHECK(w.bal(a, kPerp) == 0);
    CHECK(w.bal(a, kUsd) == U(2'200 - 1'900));
    CHECK(w.fund(kPerp) == U(0.8));
    REQUIRE(w.events.size() == 2);
    check_event(w.events[0], {.policy_path = "hierarchy>adl>bad_debt", .bad_debt = approx(40.0, 1e-12)});
    w.L.check_conservation();
  }
}

// ------------------------------------------------------------------------------------------------
// Item 8: the collateral haircut is a user cost
// ------------------------------------------------------------------------------------------------

TEST_CASE("absorption: the haircut on spot collateral the fund takes over is counted as the user's cost") {
  // Long 1 BTC perp, cash -10,200, 0.1 BTC spot collateral (haircut 0.1). At 10,000: equity
  // -10,200 + 0.1 x 10,000 x 0.9 + 10,000 = 700. At 9,400: -10,200 + 846 + 9,400 = 46 < 47
  // (maintenance): flagged; p = 9,400 - 46 = 9,354. The fund takes the perp and the spot for the
  // cash leg 10,200. Worth at market 9,400 + 940 = 10,340: the user lost 140 = 46 (slippage against
  // the mark: 1 x (9,400 - 9,354)) + 94 (haircut: 0.1 x 9,400 x 0.1).
  HandWorld w(10'000);
  const std::uint32_t lng = w.account("long", -10'200, 1.0);
  w.L.mint(w.me->account(lng).account, kBtc, U(0.1));
  w.shock(10'000, 9'400);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = w.first_step(make_socialized_policy(socialized_cfg(0)), 1);
  CHECK(w.fund(kBtc) == U(0.1));
  CHECK(w.fund(kPerp) == U(1.0));
  CHECK(w.bal(lng, kUsd) == 0);
  REQUIRE(w.events.size() == 1);
  const LiquidationEvent& e = w.events[0];
  CHECK(e.price == doctest::Approx(9'354.0).epsilon(1e-12));
  const double slippage_cost = e.notional / e.price * e.mark * e.slippage_bps / 1e4;  // as the recorder
  CHECK(slippage_cost == doctest::Approx(46.0).epsilon(1e-9));
  CHECK(pol->step_stats().collateral_haircut == doctest::Approx(94.0).epsilon(1e-9));
  CHECK(slippage_cost + pol->step_stats().collateral_haircut == doctest::Approx(140.0).epsilon(1e-9));
}

TEST_CASE("hierarchy on crash with a small fund: every absorption left with bad debt found the ADL queue short") {
  // Not a hand computation: a property over a whole run. With a fund of 1,000 the fund is exhausted
  // early; each absorption whose event carries bad debt must be one that counted in
  // adl_queue_empty_events (the ADL stage ran and found too few profitable opposite positions).
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json",
                                               {"perp.liquidation.policy=hierarchy", "perp.liquidation.insurance_fund_start=1000"});
  for (std::uint64_t seed : {1, 2, 3}) {
    RunOptions o;
    o.seed = seed;
    const RunResult r = run_simulation(sc, o);
    int absorbed_with_bad_debt = 0;
    for (const LiquidationEvent& e : r.liquidations) {
      const bool absorption = e.policy_path.rfind("hierarchy>insurance", 0) == 0 || e.policy_path.rfind("hierarchy>adl", 0) == 0;
      if (absorption && e.bad_debt > 0) ++absorbed_with_bad_debt;
    }
    MESSAGE("seed " << seed << ": absorptions with bad debt " << absorbed_with_bad_debt << ", adl_queue_empty_events "
                    << metric(r, "adl_queue_empty_events") << ", adl_count " << metric(r, "adl_count") << ", bad_debt "
                    << metric(r, "bad_debt") << ", fund_exhausted_s " << metric(r, "fund_exhausted_s"));
    CHECK(metric(r, "fund_exhausted_step") >= 0);
    CHECK(absorbed_with_bad_debt <= metric(r, "adl_queue_empty_events"));
  }
}
