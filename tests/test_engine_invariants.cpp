// The kernel's per-step invariants (sim/run/invariants.hpp, issue #12 item 10): each check passes
// on a sound state and fires on a deliberately broken one; the test build checks every run.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/liquidation/fund.hpp"
#include "sim/run/invariants.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using namespace sl::test;

TEST_CASE("invariants are checked in every run of the test build") {
  CHECK(g_check_invariants_default);
  CHECK(RunOptions{}.check_invariants);
}

TEST_CASE("invariant 1, ledger conservation: exact totals pass, one micro-unit off fires") {
  HandWorld w(100);
  CHECK_NOTHROW(check_ledger_conservation(w.L, 0));
  CHECK_NOTHROW(check_asset_totals({"USDT", "BTC"}, {0, 0}, 3));
  CHECK_THROWS_WITH_AS(check_asset_totals({"USDT", "BTC"}, {0, 1}, 3),
                       "invariant violated at step 3: ledger conservation: asset BTC sums to 1 micro-units over all accounts (must be exactly 0)",
                       InvariantError);
}

TEST_CASE("invariant 2, fund equity >= -fund_borrow_limit") {
  // Fund cash 300. Owing 400 with limit 100: equity -100 = -limit, sound. Owing 401: -101, broken.
  HandWorld w(300);
  FundCredit c;
  c.limit = U(100);
  c.borrowed = U(400);
  CHECK_NOTHROW(check_fund_floor(w.m, w.sys, c, 5));
  c.borrowed = U(401);
  CHECK_THROWS_AS(check_fund_floor(w.m, w.sys, c, 5), InvariantError);
  // The floor function repairs exactly that: 1 of bad debt, the fund back at -100.
  LiquidationContext ctx{w.m, *w.me, w.bots, w.kinds, w.rng, 5, w.sys, w.events, w.makers, nullptr};
  CHECK(floor_fund_equity(ctx, c) == U(1));
  CHECK(insurance_fund_equity(w.m, w.sys.insurance_fund, c.borrowed) == -U(100));
  CHECK_NOTHROW(check_fund_floor(w.m, w.sys, c, 5));
  CHECK(c.first_exhausted_step == 5);
}

TEST_CASE("invariant 3, no user charged beyond the bankruptcy price: a closed account holds no negative quote") {
  HandWorld w(100);
  const std::uint32_t ok = w.account("settled", 0, 0.0);
  const std::uint32_t bad = w.account("left_in_debt", -5, 0.0);
  w.me->account(ok).closed = true;
  CHECK_NOTHROW(check_closed_accounts_settled(w.m, *w.me, 7));  // the open one in debt is not checked
  w.me->account(bad).closed = true;
  CHECK_THROWS_AS(check_closed_accounts_settled(w.m, *w.me, 7), InvariantError);
}

TEST_CASE("invariant 4, no negative quote or spot in a plain account - short contracts allowed") {
  HandWorld w(100);
  const AccountId maker = w.L.open_account("plain_maker");
  w.L.transfer(maker, w.book_maker, kPerp, U(1.0));  // a plain account may be short contracts
  CHECK_NOTHROW(check_plain_accounts_nonnegative(w.m, *w.me, w.sys, w.m.counterparty_account, 2));
  // An agent account opened as if it could go negative (a wiring mistake) and driven below 0.
  const AccountId wrong = w.L.open_account("wrongly_unbounded", true);
  w.L.transfer(wrong, w.book_maker, kUsd, U(3));
  CHECK_THROWS_AS(check_plain_accounts_nonnegative(w.m, *w.me, w.sys, w.m.counterparty_account, 2), InvariantError);
  // The margin accounts, the bad-debt account and the issuers may go negative by design.
  HandWorld v(100);
  v.account("margined_in_debt", -50, 0.0);
  v.L.transfer(v.sys.bad_debt, v.sys.insurance_fund, kUsd, U(10));
  CHECK_NOTHROW(check_plain_accounts_nonnegative(v.m, *v.me, v.sys, v.m.counterparty_account, 2));
}
