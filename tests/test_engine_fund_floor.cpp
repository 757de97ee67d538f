// The insurance fund's equity floor (-fund_borrow_limit) when the fund's OWN inventory is marked down
// below it, computed by hand: `socialized` (and `hierarchy`) socialize the shortfall by their loss
// rule (ADL of the fund's inventory at its bankruptcy price, or a haircut of winners' profits);
// `market` books it as bad debt (FundAbsorber::floor, LiquidationPolicy::apply_fund_floor).
//
// The world is tests/support/hand_world.hpp: BTC, tick 1, lot 0.001, no fees, mark = index set by
// hand. The fund bought 2 BTC at 9,000 with a loan of 18,000 from the bad-debt account (as after
// absorbing a long it could not yet sell): quote 0, 2 BTC, borrowed 18,000, limit 30. At mark 8,885
// its equity is 2 x 8,885 - 18,000 = -230 < -30: shortfall S = -30 - (-230) = 200.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/policy.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using namespace sl::test;

namespace {

LiquidationConfig cfg(const std::string& policy, const std::string& rule) {
  LiquidationConfig c;
  c.policy = policy;
  c.socialized.loss_rule = rule;
  c.fund_borrow_limit = 30;
  c.protocol_fallback_steps = 0;
  if (policy == "hierarchy") {  // straight to the fund and ADL stages
    c.hierarchy.internal_match = false;
    c.hierarchy.auction_timeout_steps = 0;
    c.hierarchy.backstop = false;
  }
  return c;
}

// The fund's inventory as stated in the header: 2 BTC bought at 9,000 on a loan of 18,000.
void give_fund_inventory(HandWorld& w, LiquidationPolicy& pol) {
  w.L.transfer(w.sys.bad_debt, w.sys.insurance_fund, kUsd, U(18'000));
  pol.fund_credit().borrowed = U(18'000);
  w.L.transfer(w.sys.insurance_fund, w.book_maker, kUsd, U(18'000));
  w.L.transfer(w.book_maker, w.sys.insurance_fund, kPerp, U(2.0));
}

Micros fund_equity(HandWorld& w, const LiquidationPolicy& p) { return insurance_fund_equity(w.m, w.sys.insurance_fund, p.fund_borrowed()); }

// The fund after the floor, as each case's hand computation states it; every case ends with the
// fund's equity exactly at its floor, -limit = -30.
struct FundAfter {
  Micros borrowed;
  Micros bad_debt_account;  // the bad-debt account's quote: minus the loan, minus the bad debt paid
  Micros floor_bad_debt;
  Micros floor_socialized;
};
void check_fund_after(HandWorld& w, const LiquidationPolicy& pol, const FundAfter& f) {
  CHECK(pol.fund_borrowed() == f.borrowed);
  CHECK(fund_equity(w, pol) == -U(30));
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == f.bad_debt_account);
  CHECK(pol.fund_credit().floor_bad_debt == f.floor_bad_debt);
  CHECK(pol.fund_credit().floor_socialized == f.floor_socialized);
}

// What the kernel does after every policy step (sim/run/simulation.cpp).
Micros kernel_floor(HandWorld& w, LiquidationPolicy& pol, std::int64_t step) {
  LiquidationContext ctx = w.context(w.m, *w.me, step);
  ctx.fund = &pol.fund_credit();
  pol.reset_step_stats();
  return pol.apply_fund_floor(ctx);
}

}  // namespace

TEST_CASE("fund floor, socialized adl: the fund's 2 BTC are deleveraged at M + S/Q against the profitable short - no bad debt") {
  // A: short 2 BTC opened at 10,000, cash 22,000 (margin 2,000); at 8,885 profitable (pnl% 0.1115).
  // The fund's bankruptcy price: p = M + S / Q = 8,885 + 200 / 2 = 8,985. A buys the 2 BTC back at
  // 8,985: pays 17,970 (cash 22,000 -> 4,030; its equity 22,000 - 17,770 = 4,230 -> 4,030: it carries
  // S = 200). The fund receives 17,970 and repays its loan: borrowed 30, quote 0, no contracts:
  // equity 0 - 30 = -30 = -limit exactly. No bad debt: the bad-debt account holds -30 (the loan).
  HandWorld w(0);
  const std::uint32_t a = w.account("A", 22'000, -2.0);
  auto pol = make_socialized_policy(cfg("socialized", "adl"));
  give_fund_inventory(w, *pol);
  w.shock(9'000, 8'885);
  REQUIRE(fund_equity(w, *pol) == -U(230));
  CHECK(kernel_floor(w, *pol, 1) == 0);
  CHECK(w.fund(kPerp) == 0);
  CHECK(w.bal(a, kPerp) == 0);
  CHECK(w.bal(a, kUsd) == U(22'000 - 17'970));
  check_fund_after(w, *pol, {.borrowed = U(30), .bad_debt_account = -U(30), .floor_bad_debt = 0, .floor_socialized = U(200)});
  CHECK(pol->fund_credit().exhausted_now);
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(pol->step_stats().adl_queue_empty == 0);
  CHECK(pol->step_stats().adl_taken == doctest::Approx(200.0).epsilon(1e-12));  // 17,970 - 2 x 8,885
  REQUIRE(w.events.size() == 1);
  check_event(w.events[0], {.account = w.me->account(a).account, .policy_path = "socialized>fund_adl>deleveraged",
                            .notional = approx(17'970.0), .price = approx(8'985.0), .mark = approx(8'885.0)});
  w.L.check_conservation();
}

TEST_CASE("fund floor, socialized adl: what the queue cannot match stays bad debt") {
  // A short only 0.5 BTC (cash 5,500, opened at 10,000): the fund's price is still 8,985; A buys
  // 0.5 at 8,985 = 4,492.5, carrying 0.5 x 100 = 50 of the 200. The fund repays 4,492.5: borrowed
  // 13,507.5, 1.5 BTC: equity 1.5 x 8,885 - 13,507.5 = -180; the floor books 150 of bad debt (paid
  // to the fund, which repays: borrowed 13,357.5, equity -30). Bad-debt account: -13,357.5 - 150.
  HandWorld w(0);
  const std::uint32_t a = w.account("A", 5'500, -0.5);
  auto pol = make_socialized_policy(cfg("socialized", "adl"));
  give_fund_inventory(w, *pol);
  w.shock(9'000, 8'885);
  CHECK(kernel_floor(w, *pol, 1) == U(150));
  CHECK(w.bal(a, kPerp) == 0);
  CHECK(w.bal(a, kUsd) == U(5'500 - 4'492.5));
  CHECK(w.fund(kPerp) == U(1.5));
  check_fund_after(w, *pol, {.borrowed = U(13'357.5), .bad_debt_account = -U(13'357.5) - U(150), .floor_bad_debt = U(150), .floor_socialized = U(50)});
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(pol->step_stats().adl_queue_empty == 1);
  w.L.check_conservation();
}

TEST_CASE("fund floor, socialized haircut: S is collected pro rata from winners' profits - exact integer split") {
  // A: short 2 BTC from 10,000 (cash 22,000): profit 2 x (10,000 - 8,885) = 2,230. B: short 1 BTC
  // from 9,885 (cash 10,885): profit 1 x (9,885 - 8,885) = 1,000. Total 3,230; S = 200 micro-exact:
  // A 200e6 x 2,230 / 3,230 = 138,080,495.35 -> 138,080,495; B 200e6 x 1,000 / 3,230 = 61,919,504.64
  // -> 61,919,504; one micro left goes to the larger remainder (B, .64): B 61,919,505. The fund
  // repays 200 of its loan: borrowed 17,800, equity 2 x 8,885 - 17,800 = -30. No bad debt, no ADL.
  HandWorld w(0);
  const std::uint32_t a = w.account("A", 22'000, -2.0);
  const std::uint32_t b = w.account("B", 10'885, -1.0, 9'885.0);
  auto pol = make_socialized_policy(cfg("socialized", "haircut"));
  give_fund_inventory(w, *pol);
  w.shock(9'000, 8'885);
  CHECK(kernel_floor(w, *pol, 1) == 0);
  CHECK(w.bal(a, kUsd) == U(22'000) - 138'080'495);
  CHECK(w.bal(b, kUsd) == U(10'885) - 61'919'505);
  CHECK(w.bal(a, kPerp) == -U(2.0));
  CHECK(w.fund(kPerp) == U(2.0));
  check_fund_after(w, *pol, {.borrowed = U(17'800), .bad_debt_account = -U(17'800), .floor_bad_debt = 0, .floor_socialized = U(200)});
  CHECK(pol->step_stats().haircut_taken == 200.0);  // 138,080,495 + 61,919,505 micro-units: a cost to A and B (user_cost)
  CHECK(pol->step_stats().adl_count == 0);
  CHECK(w.events.empty());
  w.L.check_conservation();
}

TEST_CASE("fund floor, hierarchy adl: its fund/ADL stages socialize the floor too - the unwind at the start of its step") {
  // The same world as the first case, the floor reached through hierarchy's step (FundAbsorber::unwind
  // ends with the floor; no bids, nothing sold): A buys the 2 BTC at 8,985, the fund ends at -30.
  HandWorld w(0);
  const std::uint32_t a = w.account("A", 22'000, -2.0);
  auto pol = make_hierarchy_policy(cfg("hierarchy", "adl"));
  give_fund_inventory(w, *pol);
  w.shock(9'000, 8'885);
  w.run(*pol, 1);
  CHECK(w.bal(a, kUsd) == U(22'000 - 17'970));
  CHECK(fund_equity(w, *pol) == -U(30));
  CHECK(pol->fund_credit().floor_bad_debt == 0);
  CHECK(pol->step_stats().bad_debt == 0.0);
  CHECK(pol->step_stats().adl_count == 1);
  REQUIRE(w.events.size() == 1);
  CHECK(w.events[0].policy_path == "hierarchy>fund_adl>deleveraged");
  w.L.check_conservation();
}

TEST_CASE("fund floor, market: no socialization in its design - the same 200 is bad debt, the short untouched") {
  // The floor_fund_equity rule: the bad-debt account pays the fund 200 (bad debt), which repays its
  // loan: borrowed 17,800, equity 2 x 8,885 - 17,800 = -30; bad-debt account -17,800 - 200.
  HandWorld w(0);
  const std::uint32_t a = w.account("A", 22'000, -2.0);
  auto pol = make_market_policy(cfg("market", "adl"));
  give_fund_inventory(w, *pol);
  w.shock(9'000, 8'885);
  CHECK(kernel_floor(w, *pol, 1) == U(200));
  CHECK(w.bal(a, kUsd) == U(22'000));
  CHECK(w.bal(a, kPerp) == -U(2.0));
  CHECK(w.fund(kPerp) == U(2.0));
  check_fund_after(w, *pol, {.borrowed = U(17'800), .bad_debt_account = -U(17'800) - U(200), .floor_bad_debt = U(200), .floor_socialized = 0});
  CHECK(w.events.empty());
  w.L.check_conservation();
}
