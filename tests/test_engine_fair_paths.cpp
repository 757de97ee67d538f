// Issue #12: one mechanism per job, shared by every policy that needs it, computed by hand.
// 1. The protocol's book close (sim/liquidation/book_liquidation.hpp): batch's `batch>book`
//    fallback sends the same IOC at the bankruptcy price as `market`, and the fund takes the rest
//    over at that price.
// 2. The backstop rule (backstop_take, sim/liquidation/backstop.hpp): delta_neutral's backstop
//    mode, like hierarchy's stage, keeps at most the account's margin: the fund pays nothing.
// 3. A flat account's deficit once the fund is at its floor (FundAbsorber, sim/liquidation/fund.cpp):
//    `socialized` and `hierarchy` treat it identically: haircut of winners under loss_rule
//    "haircut", counted bad debt under "adl" (no position to deleverage against).
//
// World: tests/support/hand_world.hpp (BTC, tick 1, lot 0.001, no fees, maintenance 0.5% of the
// notional, spot haircut 0.1).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "agents/backstop_provider.hpp"
#include "agents/liquidator_bot.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/policy.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using namespace sl::test;

// ------------------------------------------------------------------------------------------------
// 1. batch>book: IOC at the bankruptcy price, the fund takes the rest
// ------------------------------------------------------------------------------------------------

TEST_CASE("batch>book: a missed reserve sends the market policy's IOC, stopping at the bankruptcy price - the fund takes the rest there") {
  // Account A: long 1 BTC, cash -8,960, mark 9,000: equity 40 < 0.5% x 9,000 = 45: flagged;
  // bankruptcy price p_b = 9,000 - 40 / 1 = 8,960. Book bids 0.4 @ 8,960 and 0.6 @ 8,950.
  // One bot (tx cost 2, no inventory room): it bids its resale value less its fixed cost 2 spread over
  // its 1,000 lots (2 per BTC): 0.4 @ 8,958 and 0.6 @ 8,948. The batch would clear 1 BTC at 8,948 <
  // 8,960: the reserve is missed, A leaves the batch for the fallback. Penalty 0.
  // - ioc_bankruptcy (default): IOC sell 1 BTC limited at 8,960: fills 0.4 @ 8,960 = 3,584 and stops
  //   (8,950 < p_b). Cash -8,960 + 3,584 = -5,376 for 0.6 BTC: the rest's bankruptcy price is
  //   5,376 / 0.6 = 8,960. The fund takes 0.6 BTC at 8,960 and pays the cash leg 5,376: 1,000 of its
  //   own, 4,376 lent (its equity after, 1,000 + 0.6 x 9,000 - 5,376 = 1,024, backs the loan). A ends
  //   at exactly 0; the 8,950 level is untouched; the bot gets nothing.
  // - market (V1): a market order sells 0.4 @ 8,960 + 0.6 @ 8,950 = 3,584 + 5,370 = 8,954: cash -6,
  //   the user charged beyond bankruptcy; the fund pays the 6 (1,000 -> 994).
  for (const std::string mode : {"ioc_bankruptcy", "market"}) {
    CAPTURE(mode);
    HandWorld w(1'000);
    LiquidatorConfig lc;
    lc.tx_cost = 2;
    lc.latency_steps = 0;
    lc.max_inventory = 0;
    const AccountId bot = w.L.open_account("bot");
    w.L.mint(bot, kUsd, U(100'000));
    w.bots.emplace_back(lc, bot, 10, make_rng(1, 0, 20));
    LiquidationConfig cfg;
    cfg.policy = "batch";
    cfg.batch.batch_interval_steps = 1;
    cfg.penalty_bps = 0;
    cfg.market_order = mode;
    auto pol = make_liquidation_policy(cfg);
    const std::uint32_t a = w.account("A", -8'960, 1.0);
    w.m.assets[0].perp->limit(w.book_maker, Side::Buy, 8'960, 400);
    w.m.assets[0].perp->limit(w.book_maker, Side::Buy, 8'950, 600);
    w.set_mark(9'000, 1);
    REQUIRE(w.me->flagged().size() == 1);
    CHECK(w.me->bankruptcy_price(w.me->account(a), 0) == doctest::Approx(8'960.0).epsilon(1e-12));
    w.run(*pol, 1);
    CHECK(w.L.balance(bot, kPerp) == 0);
    CHECK(w.bal(a, kPerp) == 0);
    CHECK(w.me->account(a).closed);
    REQUIRE(w.events.size() >= 1);
    CHECK(w.events[0].policy_path.rfind("batch>book", 0) == 0);
    CHECK(w.events[0].liquidator == -1);
    if (mode == "ioc_bankruptcy") {
      CHECK(w.bal(a, kUsd) == 0);
      CHECK(w.m.assets[0].perp->book().best_bid() == 8'950);
      CHECK(w.m.assets[0].perp->book().depth_between(Side::Buy, 8'950, 8'950) == 600);
      CHECK(w.fund(kPerp) == U(0.6));
      CHECK(w.fund() == 0);
      CHECK(pol->fund_borrowed() == U(4'376));
      CHECK(insurance_fund_equity(w.m, w.sys.insurance_fund, pol->fund_borrowed()) == U(1'024));
      REQUIRE(w.events.size() == 2);
      check_event(w.events[0], {.policy_path = "batch>book", .notional = approx(3'584.0, 1e-12),
                                .price = approx(8'960.0, 1e-12)});
      check_event(w.events[1], {.policy_path = "batch>insurance", .notional = approx(5'376.0, 1e-9),
                                .price = approx(8'960.0, 1e-9), .bad_debt = exactly(0.0)});
      CHECK(pol->step_stats().bad_debt == 0.0);
    } else {
      CHECK(w.bal(a, kUsd) == 0);
      CHECK(w.fund() == U(994));
      CHECK(w.fund(kPerp) == 0);
      REQUIRE(w.events.size() == 1);
      check_event(w.events[0], {.policy_path = "batch>book>insurance", .notional = approx(8'954.0, 1e-12)});
    }
    w.L.check_conservation();
  }
}

// ------------------------------------------------------------------------------------------------
// 2. delta_neutral's backstop: one rule with hierarchy's
// ------------------------------------------------------------------------------------------------

namespace {

// delta_neutral in backstop mode, the configured discount 300 bps.
LiquidationConfig delta_neutral_backstop_cfg() {
  LiquidationConfig cfg;
  cfg.policy = "delta_neutral";
  cfg.delta_neutral.mode = "backstop";
  cfg.delta_neutral.backstop_discount_bps = 300;
  return cfg;
}

// A backstop provider with 30,000 of quote and capacity, and a hedged basis account (quote
// `quote_usd`, spot +1 BTC, contracts -1 against the book maker, cross margin) marked at step 1 with
// index 10,000 and mark 13,000 set directly.
struct BackstopCase {
  AccountId bp_acc;
  BackstopProvider bp;
  AccountId acc;
  std::uint32_t id;

  BackstopCase(HandWorld& w, double quote_usd)
      : bp_acc(w.L.open_account("backstop")), bp(30'000, bp_acc), acc(w.L.open_account("basis", true)) {
    w.L.mint(bp_acc, kUsd, U(30'000));
    w.L.mint(acc, kUsd, U(quote_usd));
    w.L.mint(acc, kBtc, U(1.0));
    w.L.transfer(acc, w.book_maker, kPerp, U(1.0));
    id = w.me->add_account(acc, -1, AgentKind::BasisTrader, MarginMode::Cross);
    w.m.assets[0].index_price = 10'000;
    w.m.assets[0].mark_price = 13'000;
    w.me->mark_all(1);
  }
  // One step (step 1) of the policy of `cfg` with this provider as the backstop.
  std::unique_ptr<LiquidationPolicy> step(HandWorld& w, const LiquidationConfig& cfg) {
    auto pol = make_liquidation_policy(cfg);
    LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 1, w.sys, w.events, w.makers, &bp};
    ctx.fund = &pol->fund_credit();
    pol->on_step(ctx);
    return pol;
  }
};

}  // namespace

TEST_CASE("delta_neutral backstop: the provider keeps at most the account's margin, the fund pays nothing") {
  // Index 10,000, mark 13,000 (set directly). Hedged account: quote 3,200, spot +1, contracts -1.
  // Margin equity 3,200 + 1 x 10,000 x (1 - 0.1) - 13,000 = -800: flagged.
  // Equity at the takeover values E_t = 3,200 + 10,000 - 13,000 = 200 > 0; gross = 10,000 + 13,000 =
  // 23,000. The configured 300 bps would take 690 > 200 (old rule: the account pays 3,690 out of
  // 3,200, ends at -490, the fund pays its 100 and 390 is bad debt). The shared rule lowers d to
  // floor(200 / 23,000 x 1e4 x 1e6) / 1e6 = 86.956521 bps: the provider pays
  //   spot  10,000 - 10,000 x 0.0086956521 = 9,913.043479
  //   perp -13,000 - 13,000 x 0.0086956521 = -13,113.043477 (to micro-units)
  // net -3,199.999998: the account pays 3,199.999998 and keeps 2 micro-units; nothing to settle:
  // the fund keeps its 1,000 and there is no bad debt.
  HandWorld w(1'000);
  BackstopCase c(w, 3'200);
  const AccountId bp_acc = c.bp_acc, acc = c.acc;
  const std::uint32_t id = c.id;
  REQUIRE(w.me->flagged().size() == 1);
  // margin equity: 3,200 + 10,000 x 0.9 - 13,000 = -800
  CHECK(w.me->account(id).equity == doctest::Approx(-800.0).epsilon(1e-12));
  LiquidationConfig cfg = delta_neutral_backstop_cfg();
  cfg.delta_neutral.backstop_capacity = 30'000;
  auto pol = c.step(w, cfg);
  CHECK(w.me->account(id).closed);
  CHECK(w.L.balance(acc, kBtc) == 0);
  CHECK(w.L.balance(acc, kPerp) == 0);
  CHECK(w.L.balance(acc, kUsd) == 2);  // 3,200 - 3,199.999998
  CHECK(w.L.balance(bp_acc, kUsd) == U(30'000) + U(3'199.999998));
  CHECK(w.L.balance(bp_acc, kBtc) == U(1.0));
  CHECK(w.L.balance(bp_acc, kPerp) == -U(1.0));
  CHECK(w.fund() == U(1'000));                        // the fund paid nothing
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == 0);      // and there is no bad debt
  CHECK(pol->step_stats().bad_debt == 0.0);
  REQUIRE(w.events.size() == 2);
  check_event(w.events[0], {.policy_path = "delta_neutral>backstop", .price = approx(9'913.043479, 1e-12)});
  CHECK(w.events[1].price == doctest::Approx(13'113.0434773).epsilon(1e-12));
  w.L.check_conservation();
}

TEST_CASE("delta_neutral backstop: an account past bankruptcy at the takeover values is not taken by the provider") {
  // Quote 2,900: E_t = 2,900 + 10,000 - 13,000 = -100 <= 0: the provider takes nothing (it would pay
  // above the value); the account falls back to atomic (here: no perp asks at all, an empty book).
  HandWorld w(1'000);
  BackstopCase c(w, 2'900);
  const AccountId bp_acc = c.bp_acc, acc = c.acc;
  auto pol = c.step(w, delta_neutral_backstop_cfg());
  CHECK(c.bp.taken_total() == 0.0);
  CHECK(w.L.balance(bp_acc, kUsd) == U(30'000));
  CHECK(w.L.balance(acc, kPerp) == -U(1.0));
  w.L.check_conservation();
}

// ------------------------------------------------------------------------------------------------
// 3. A flat account's deficit with the fund at its floor: socialized and hierarchy alike
// ------------------------------------------------------------------------------------------------

namespace {

LiquidationConfig fund_stage_cfg(const std::string& policy, const std::string& loss_rule) {
  LiquidationConfig c;
  c.policy = policy;
  c.socialized.loss_rule = loss_rule;
  c.hierarchy.internal_match = false;
  c.hierarchy.auction_timeout_steps = 0;
  c.hierarchy.backstop = false;
  return c;
}

}  // namespace

TEST_CASE("a flat account's deficit, fund at its floor: haircut of winners, or counted bad debt under ADL - socialized and hierarchy alike") {
  // Fund 0, limit 0: at its floor. F: no position, cash -100 (e.g. what a Dutch auction that sold
  // below the bankruptcy price left): equity -100 < 0: flagged. W: short 1 BTC with cash 11,000
  // opened at mark 10,000 (opening equity 1,000); at mark 9,400 its equity is 1,600: profit 600.
  // - "haircut": the 100 is taken from W's profit (the only winner): W 11,000 -> 10,900; the fund
  //   hands it to the bad-debt account, which had paid F's deficit: bad debt 0.
  // - "adl": there is no position of F to deleverage W against: 100 is bad debt, counted once in
  //   flat_deficit_bad_debt_events (100 in flat_deficit_bad_debt); W keeps 11,000.
  for (const std::string policy : {"socialized", "hierarchy"}) {
    for (const std::string rule : {"haircut", "adl"}) {
      CAPTURE(policy);
      CAPTURE(rule);
      HandWorld w(0);
      const std::uint32_t wid = w.account("W", 11'000, -1.0);
      w.set_mark(10'000, 0);
      const std::uint32_t f = w.account("F", -100, 0.0);
      w.set_mark(9'400, 1);
      REQUIRE(w.me->flagged().size() == 1);
      REQUIRE(w.me->flagged()[0] == f);
      CHECK(w.me->account(wid).opening_equity == doctest::Approx(1'000.0));
      auto pol = make_liquidation_policy(fund_stage_cfg(policy, rule));
      w.run(*pol, 1);
      CHECK(w.me->account(f).closed);
      CHECK(w.bal(f, kUsd) == 0);
      CHECK(w.fund() == 0);
      if (rule == "haircut") {
        CHECK(w.bal(wid, kUsd) == U(10'900));
        CHECK(w.L.balance(w.sys.bad_debt, kUsd) == 0);
        CHECK(pol->step_stats().bad_debt == 0.0);
        CHECK(pol->step_stats().flat_deficit_bad_debt_events == 0);
      } else {
        CHECK(w.bal(wid, kUsd) == U(11'000));
        CHECK(w.bal(wid, kPerp) == -U(1.0));
        CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(100));
        CHECK(pol->step_stats().bad_debt == doctest::Approx(100.0).epsilon(1e-12));
        CHECK(pol->step_stats().flat_deficit_bad_debt_events == 1);
        CHECK(pol->step_stats().flat_deficit_bad_debt == doctest::Approx(100.0).epsilon(1e-12));
        CHECK(pol->step_stats().adl_count == 0);
      }
      w.L.check_conservation();
    }
  }
}
