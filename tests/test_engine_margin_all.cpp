// Every perpetual position margined (issue #12 item 3; model.md section 9): entry prices as Binance
// keeps them, the ADL queue over every margined account ranked by PnL% (against the entry price) x
// effective leverage, the ADL overshoot, the counterparty population of the positions booked at
// step 0, a maker whose collateral runs out being liquidated with its quotes cancelled, and a hedger
// and the re-entry pool (issue #14 populations) flagged and liquidated like any account.
// Every expected figure is computed by hand in the comment above it.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/run/counterparties.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::approx;
using sl::test::exactly;
using sl::test::check_event;
using sl::test::HandWorld;
using sl::test::kPerp;
using sl::test::kUsd;
using sl::test::U;
using sl::test::metric;
using sl::test::series;

namespace {

LiquidationConfig socialized_adl() {
  LiquidationConfig c;
  c.policy = "socialized";
  c.socialized.loss_rule = "adl";
  return c;
}

}  // namespace

TEST_CASE("entry price as Binance keeps it: volume-weighted on adds, unchanged on reductions, restarted on a flip") {
  // T trades through the perp venue, whose fills the margin engine observes; the book maker is not
  // margined (ignored).
  //  buy 1 @ 10,000                -> +1,   entry 10,000
  //  buy 1 @ 11,000                -> +2,   entry (10,000 + 11,000) / 2 = 10,500
  //  sell 0.5 @ 12,000 (reduces)   -> +1.5, entry 10,500
  //  sell 2 @ 9,000 (flips)        -> -0.5, entry 9,000
  //  buy 0.5 @ 8,500 (closes)      ->  0,   entry 0
  HandWorld w(0);
  Venue& v = *w.m.assets[0].perp;
  v.set_fill_observer(w.me.get());
  const std::uint32_t t = w.account("T", 100'000, 0.0);
  const AccountId ta = w.me->account(t).account;
  v.limit(w.book_maker, Side::Sell, 10'000, 1000);
  v.market(ta, Side::Buy, 1000);
  CHECK(w.me->entry_price(w.me->account(t), 0) == doctest::Approx(10'000.0));
  v.limit(w.book_maker, Side::Sell, 11'000, 1000);
  v.market(ta, Side::Buy, 1000);
  CHECK(w.bal(t, kPerp) == U(2.0));
  CHECK(w.me->entry_price(w.me->account(t), 0) == doctest::Approx(10'500.0));
  v.limit(w.book_maker, Side::Buy, 12'000, 500);
  v.market(ta, Side::Sell, 500);
  CHECK(w.me->entry_price(w.me->account(t), 0) == doctest::Approx(10'500.0));
  v.limit(w.book_maker, Side::Buy, 9'000, 2000);
  v.market(ta, Side::Sell, 2000);
  CHECK(w.bal(t, kPerp) == -U(0.5));
  CHECK(w.me->entry_price(w.me->account(t), 0) == doctest::Approx(9'000.0));
  v.limit(w.book_maker, Side::Sell, 8'500, 500);
  v.market(ta, Side::Buy, 500);
  CHECK(w.bal(t, kPerp) == 0);
  CHECK(w.me->entry_price(w.me->account(t), 0) == 0.0);
  w.L.check_conservation();
}

TEST_CASE("ADL queue over every margined account: a profitable counterparty and maker ranked by PnL% x effective leverage") {
  // Long 2 BTC (cash -18,000) at mark 8,900: equity -200, p_b = 8,900 + 200 / 2 = 9,000. Fund 0
  // (limit 0): the whole loss 200 is the shortfall, T = 2 BTC deleveraged at 9,000.
  // Shorts (contracts, entry, cash) and, at mark 8,900, equity, pnl% = (entry - 8,900) / entry,
  // effective leverage = |c| x 8,900 / equity, score:
  //   C counterparty  1.0 @ 10,000, 14,000: equity 5,100, 0.11,       1.745098, 0.191961
  //   M market maker  0.4 @  9,500,  4,800: equity 1,240, 0.0631579,  2.870968, 0.181324
  //   D trader        0.5 @ 10,000,  5,500 + a 2,000 deposit after the first mark: equity 3,050,
  //                                          0.11,       1.459016, 0.160492
  //   L trader        0.3 @  9,000,  3,000: equity 330,   0.0111111,  8.090909, 0.089899
  //   X trader        1.0 @  8,000, 13,000: equity 4,100, -0.1125: a loser, not in the queue.
  // (The pre-#12 rule, (equity - opening equity) / opening equity, would have put D first, its
  // deposit counted as profit, 2,550 / 500 x 1.459 = 7.44, and X second, 1,100 / 3,000 x 2.17 = 0.80.)
  // Queue C, M, D, L: C 1.0 (pays 9,000), M 0.4 (3,600), D 0.5 (4,500), L 0.1 of its 0.3 (900):
  // 2.0 in all; the long's cash -18,000 + 18,000 = 0. ADL took 2 x (9,000 - 8,900) = 200 from the
  // winners against the mark, exactly the shortfall: overshoot 0.
  HandWorld w(0);
  const std::uint32_t lng = w.account("long", -18'000, 2.0);
  const std::uint32_t c = w.account("C", 14'000, -1.0, 10'000, AgentKind::Counterparty);
  const std::uint32_t mm = w.account("M", 4'800, -0.4, 9'500, AgentKind::MarketMaker);
  const std::uint32_t d = w.account("D", 5'500, -0.5, 10'000);
  const std::uint32_t l = w.account("L", 3'000, -0.3, 9'000);
  const std::uint32_t x = w.account("X", 13'000, -1.0, 8'000);
  w.set_mark(10'000, 0);
  w.L.mint(w.me->account(d).account, kUsd, U(2'000));  // a deposit: not profit
  w.set_mark(8'900, 1);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = make_socialized_policy(socialized_adl());
  w.run(*pol, 1);
  CHECK(pol->step_stats().adl_count == 4);
  CHECK(pol->step_stats().bad_debt == 0.0);
  CHECK(pol->step_stats().adl_taken == doctest::Approx(200.0).epsilon(1e-12));
  CHECK(pol->step_stats().adl_overshoot == doctest::Approx(0.0));
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(c, kPerp) == 0);
  CHECK(w.bal(c, kUsd) == U(5'000));
  CHECK(w.bal(mm, kPerp) == 0);
  CHECK(w.bal(mm, kUsd) == U(1'200));
  CHECK(w.bal(d, kPerp) == 0);
  CHECK(w.bal(d, kUsd) == U(3'000));
  CHECK(w.bal(l, kPerp) == -U(0.2));
  CHECK(w.bal(l, kUsd) == U(2'100));
  CHECK(w.bal(x, kPerp) == -U(1.0));
  CHECK(w.bal(x, kUsd) == U(13'000));
  REQUIRE(w.events.size() == 5);
  CHECK(w.events[0].account == w.me->account(lng).account);
  const std::vector<std::uint32_t> order{c, mm, d, l};
  const std::vector<std::string> kinds{"counterparty", "market_maker", "leveraged_trader", "leveraged_trader"};
  const std::vector<double> notional{9'000.0, 3'600.0, 4'500.0, 900.0};
  for (std::size_t k = 0; k < order.size(); ++k) {
    CAPTURE(k);
    CHECK(w.events[k + 1].account == w.me->account(order[k]).account);
    CHECK(w.events[k + 1].agent_type == kinds[k]);
    CHECK(w.events[k + 1].policy_path == "socialized>adl>deleveraged");
    CHECK(w.events[k + 1].notional == doctest::Approx(notional[k]));
  }
  w.L.check_conservation();
}

TEST_CASE("ADL overshoot: the whole lots ADL took beyond the shortfall, by hand") {
  // Long 2 BTC (cash -18,000) at mark 8,900: loss 200, p_b 9,000. Fund 149.99: shortfall 50.01.
  // Target = 2 BTC x 50.01 / 200 = 0.50010 BTC, rounded up to a whole lot (0.001): 0.501 BTC.
  // A (short 1 @ 10,000) buys 0.501 at 9,000: pays 4,509; against the mark it gave up
  // 4,509 - 0.501 x 8,900 = 50.1 (adl_taken). Overshoot = 50.1 - 50.01 = 0.09.
  // The fund takes the other 1.499 BTC and the long's cash -13,491: its equity after is
  // 149.99 + 1.499 x 8,900 - 13,491 = 0.09 above its floor 0: the overshoot is what it kept.
  HandWorld w(149.99);
  w.account("long", -18'000, 2.0);
  const std::uint32_t a = w.account("A", 11'000, -1.0);
  w.set_mark(10'000, 0);
  w.set_mark(8'900, 1);
  auto pol = make_socialized_policy(socialized_adl());
  w.run(*pol, 1);
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(w.bal(a, kPerp) == -U(0.499));
  CHECK(w.bal(a, kUsd) == U(11'000 - 4'509));
  CHECK(pol->step_stats().adl_taken == doctest::Approx(50.1).epsilon(1e-12));
  CHECK(pol->step_stats().adl_overshoot == doctest::Approx(0.09).epsilon(1e-9));
  CHECK(pol->step_stats().bad_debt == 0.0);
  const double fund_equity = from_micros(w.fund()) + 1.499 * 8'900.0 - from_micros(pol->fund_borrowed());
  CHECK(fund_equity == doctest::Approx(0.09).epsilon(1e-9));
  w.L.check_conservation();
}

TEST_CASE("the counterparty population splits the booked opposite side: whole lots, the cash leg pro rata, margin at its leverage") {
  // Booked against the counterparty account at 10,000: T1 long 1.0 (cash 10,000), T2 long 0.5
  // (5,000), T3 short 0.299 (-2,990). The counterparty holds -1.201 BTC and +12,010 of cash leg:
  // entry 12,010 / 1.201 = 10,000. Four accounts, leverage 2, collateral 10: 1,201 lots = 4 x 300
  // + 1 -> -0.301, -0.300, -0.300, -0.300; cash leg 12,010 x 301 / 1,201 = 3,010 and 3,000 each;
  // margin 0.301 x 10,000 / 2 + 10 = 1,515 and 1,510: quote 4,525 and 4,510 each. Equity at
  // 10,000: 1,515 and 1,510 (the margin). The counterparty account ends flat in both assets.
  HandWorld w(0);
  w.m.counterparty_account = w.L.open_account("counterparty", true);
  const std::uint32_t t1 = w.account("T1", 2'000, 0.0);
  const std::uint32_t t2 = w.account("T2", 2'000, 0.0);
  const std::uint32_t t3 = w.account("T3", 2'000, 0.0);
  book_against_counterparty(w.m, *w.me, w.me->account(t1).account, 0, true, U(1.0), U(10'000));
  book_against_counterparty(w.m, *w.me, w.me->account(t2).account, 0, true, U(0.5), U(5'000));
  book_against_counterparty(w.m, *w.me, w.me->account(t3).account, 0, false, U(0.299), U(2'990));
  CHECK(w.me->entry_price(w.me->account(t3), 0) == doctest::Approx(10'000.0));
  const std::size_t before = w.me->accounts().size();
  CounterpartiesConfig cfg;
  cfg.count = 4;
  cfg.leverage = 2.0;
  cfg.collateral_quote = 10.0;
  REQUIRE(split_to_counterparties(cfg, w.m, *w.me, 100) == 4);
  REQUIRE(w.me->accounts().size() == before + 4);
  const std::vector<double> contracts{-0.301, -0.300, -0.300, -0.300};
  const std::vector<double> quote{4'525, 4'510, 4'510, 4'510};
  for (std::uint32_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    const MarginAccount& a = w.me->account(static_cast<std::uint32_t>(before) + k);
    CHECK(a.owner_kind == AgentKind::Counterparty);
    CHECK(a.owner_agent == 100 + static_cast<std::int32_t>(k));
    CHECK(w.L.balance(a.account, kPerp) == U(contracts[k]));
    CHECK(w.L.balance(a.account, kUsd) == U(quote[k]));
    CHECK(w.me->entry_price(a, 0) == doctest::Approx(10'000.0));
  }
  CHECK(w.L.balance(w.m.counterparty_account, kPerp) == 0);
  CHECK(w.L.balance(w.m.counterparty_account, kUsd) == 0);
  w.set_mark(10'000, 0);
  CHECK(w.me->account(static_cast<std::uint32_t>(before)).equity == doctest::Approx(1'515.0));
  CHECK(w.me->flagged().empty());
  w.L.check_conservation();
}

TEST_CASE("a perp maker with too little collateral is liquidated and its quotes vanish from the book") {
  // The ladder world (tests/support/ladder_world.hpp) with the perp ladder given 100 of quote and
  // no spot: its collateral. The 10x long buys 1 BTC from it at step 0 (10,001 / 10,011 / 10,021,
  // 0.4 each: 10,009 on average): the ladder is short 1 BTC with quote 100 + 10,009 = 10,109.
  // Equity = 10,109 - mark; maintenance 0.5% x mark.
  //   steps 0-9: mark 10,000: equity 109 >= 50: healthy.
  //   a +1% jump at step 10 (reference 10,100): mark = index 10,000 + premium clamped to 50 bps =
  //   10,050: equity 59 >= 50.25: healthy.
  //   step 11: index = mark = 10,100: equity 9 < 50.5: flagged. The venue cancels its quotes (the
  //   only perp quotes in this world) and it stops re-quoting: perp depth is 0 from step 11 on,
  //   2.0 BTC a side within 1% before (5 levels of 0.4, all within 41 ticks of the mid).
  //   The liquidation: the IOC at its bankruptcy price 10,109 finds no ask, the fund takes over.
  nlohmann::json w = sl::test::ladder_world(1.0);
  w["agents"]["ladders"][1]["quote_cash"] = 100;
  w["agents"]["ladders"][1]["base_inventory"] = 0;
  const RunResult r = sl::test::run_world(w);
  CHECK(metric(r, "agents_liquidated") == 1.0);
  const LiquidationEvent* ev = nullptr;
  for (const LiquidationEvent& e : r.liquidations)
    if (e.agent_type == std::string("ladder")) ev = &e;
  REQUIRE(ev != nullptr);
  CHECK(ev->step == 11);
  CHECK(ev->mark == doctest::Approx(10'100.0));
  const auto& bid = series(r, "perp_bid_depth_1pct");
  const auto& ask = series(r, "perp_ask_depth_1pct");
  CHECK(bid[10] == doctest::Approx(2.0));
  CHECK(ask[10] == doctest::Approx(2.0));
  for (std::size_t s = 11; s < bid.size(); ++s) {
    CAPTURE(s);
    CHECK(bid[s] == 0.0);
    CHECK(ask[s] == 0.0);
  }
}

TEST_CASE("haircut: winners pay pro rata to PnL against their entry, a deposit is not profit") {
  // Long 2 BTC (cash -18,000) at 8,900: loss 200; fund 150: shortfall 50. A and D are both short
  // 1 BTC entered at 10,000 (cash 11,000); D deposits 5,000 after the first mark. Profit =
  // 1 x (10,000 - 8,900) = 1,100 each: they pay 25 each. (The pre-#12 rule, equity - opening
  // equity, would have counted D's deposit: 6,100 against 1,100, D paying 50 x 6,100 / 7,200 = 42.36.)
  HandWorld w(150);
  w.account("long", -18'000, 2.0);
  const std::uint32_t a = w.account("A", 11'000, -1.0);
  const std::uint32_t d = w.account("D", 11'000, -1.0);
  w.set_mark(10'000, 0);
  w.L.mint(w.me->account(d).account, kUsd, U(5'000));
  w.set_mark(8'900, 1);
  LiquidationConfig c = socialized_adl();
  c.socialized.loss_rule = "haircut";
  auto pol = make_socialized_policy(c);
  w.run(*pol, 1);
  CHECK(w.bal(a, kUsd) == U(11'000 - 25));
  CHECK(w.bal(d, kUsd) == U(16'000 - 25));
  CHECK(pol->step_stats().bad_debt == 0.0);
  w.L.check_conservation();
}

TEST_CASE("a counterparty of the step-0 positions is margined: a +9.6% jump liquidates it like any account") {
  // The ladder world with the 10x long booked at step 0 (`initial`: 1 BTC at 10,000, cash -9,000)
  // and one counterparty at 10x: margin 10,000 / 10 = 1,000, quote 1,000 + 10,000 = 11,000, short
  // 1 BTC (entry 10,000). A +9.6% jump at step 10: reference 10,960.
  //   step 10: mark = 10,000 + premium clamped to 50 bps = 10,050: equity 950 >= 50.25, healthy;
  //   step 11: mark 10,960: equity 40 < 0.5% x 10,960 = 54.8: flagged. The bot (latency 0) sends the
  //   IOC buy of 1 BTC limited at the bankruptcy price 10,960 + 40 = 11,000: it fills 0.4 @ 10,961 +
  //   0.4 @ 10,971 + 0.2 @ 10,981 = 10,969 (slippage 9 / 10,960 = 8.2117 bps, bought above the
  //   mark). Penalty 100 bps of 10,969 = 109.69, capped at the equity left, 11,000 - 10,969 = 31.
  //   The counterparty ends flat with 0 quote; no bad debt.
  nlohmann::json w = sl::test::ladder_world(9.6);
  w["agents"]["leveraged_traders"]["entry_mode"] = "initial";
  w["agents"]["counterparties"] = {{"count", 1}, {"leverage", 10}};
  const RunResult r = sl::test::run_world(w);
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 11, .agent_type = "counterparty", .policy_path = "market", .notional = approx(10'969.0, 1e-12),
                   .price = approx(10'969.0, 1e-12), .mark = approx(10'960.0, 1e-12), .slippage_bps = approx(1e4 * 9.0 / 10'960.0, 1e-9),
                   .penalty = approx(31.0, 1e-12), .bad_debt = exactly(0.0)});
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "agents_liquidated") == 0.0);  // a counterparty is an account, not an acting agent
}

TEST_CASE("a market maker with too little collateral is liquidated: its quotes are cancelled and it never quotes again") {
  // The ladder world with the perp ladder replaced by one perp MarketMaker (no hedging, 100 of
  // quote, no spot: its whole collateral) and a spot MarketMaker alike. The 10x long buys 1 BTC
  // from the perp maker's asks (its fair value blends reference and its own mid, so exact quotes
  // are not stated here; they sit a few ticks around 10,000): the maker is short 1 BTC with
  // 100 + (its sale price, about 10,004) of quote; equity = that - mark, maintenance 0.5% x mark.
  // Up to step 9 the mark is the reference 10,000 (+ half the spread): equity about 100, healthy.
  // A +3% jump at step 10 (reference 10,300): the mark at step 10 is at most index 10,000 + 50 bps
  // = 10,050 (equity >= about 54 > 50.25: healthy), so the maker is flagged at step 11 at the
  // earliest. The index then follows the spot mid, which the spot maker's quotes (fair value at
  // least half-way to the reference each step) and the spot ladder re-centred on 10,300 move up:
  // its equity is gone (mark above about 10,055) within a step or two. The exact step is not
  // derived here (the makers' blended quotes); the window 11-12 is asserted. What the test pins:
  // from the step it is flagged the perp book (it was the only perp quoter) is empty for the rest
  // of the run: the venue cancelled its quotes and it never requotes; the step before it was not.
  nlohmann::json w = sl::test::ladder_world(3.0);
  w["agents"]["ladders"] = nlohmann::json::array({w["agents"]["ladders"][0]});
  w["agents"]["market_makers"] = {{"count_per_venue", 1}, {"hedge", false}, {"quote_cash", 100}, {"base_inventory", 0}};
  const RunResult r = sl::test::run_world(w);
  CHECK(metric(r, "agents_liquidated") == 1.0);
  const LiquidationEvent* ev = nullptr;
  for (const LiquidationEvent& e : r.liquidations)
    if (e.agent_type == std::string("market_maker") && ev == nullptr) ev = &e;
  REQUIRE(ev != nullptr);
  CHECK(ev->step >= 11);
  CHECK(ev->step <= 12);
  const auto s0 = static_cast<std::size_t>(ev->step);
  const auto& bid = series(r, "perp_bid_depth_5pct");
  const auto& ask = series(r, "perp_ask_depth_5pct");
  CHECK(bid[s0 - 1] > 0.0);
  CHECK(ask[s0 - 1] > 0.0);
  for (std::size_t s = s0; s < bid.size(); ++s) {
    CAPTURE(s);
    CHECK(bid[s] == 0.0);
    CHECK(ask[s] == 0.0);
  }
}

TEST_CASE("a hedger's perp short is margined: flagged at the hand-computed mark, liquidated, and it stops acting") {
  // The ladder world without the leveraged trader, with one hedger (acts every step, phase 0;
  // target short 10 BTC x drawdown, no threshold, no vol term, high remembered for 1e9 s) holding
  // 100 USDT of quote: its whole collateral. A -10% jump at step 10 (reference 9,000), +0.6% at
  // step 15 (reference 9,054).
  //   steps 0-10: index 10,000 (the spot mid of the step before): no drawdown, no trade.
  //   step 11: index 9,000; the high 10,000 has faded by 2^(-11 / 1e9) (7.6e-6 USDT): drawdown
  //   0.1 - 7e-10, target 10 x that = 1.000 BTC (nearest lot). It sells 1 BTC IOC down to
  //   9,000 x (1 - 1%) = 8,910 into the perp ladder's bids 8,999 / 8,989 / 8,979 (0.4, 0.4, 0.2):
  //   8,991 in all. Short 1 BTC, quote 100 + 8,991 = 9,091. Equity = 9,091 - mark, maintenance
  //   0.5% x mark.
  //   step 11-14: mark 9,000: equity 91 >= 45: healthy; it holds (target still 1.000 BTC).
  //   step 15: index 9,000, perp mid 9,054: mark clamped to 9,000 + 50 bps = 9,045: equity 46 >=
  //   45.225: healthy.
  //   step 16: index = mark = 9,054: equity 37 < 45.27: flagged (the hedger acted before the mark:
  //   drawdown 1 - 9,054 / 10,000 = 0.0946, target max(0.946, 1.000 x keep) = 1.000 BTC: no trade).
  //   The bot (latency 0) sends the IOC buy of 1 BTC limited at the bankruptcy price 9,054 + 37 =
  //   9,091 into asks 9,055 / 9,065 / 9,075: 0.4 + 0.4 + 0.2 = 9,063 (slippage 9 / 9,054 = 9.9404
  //   bps above the mark). Penalty 100 bps of 9,063 = 90.63, capped at the equity left, 9,091 -
  //   9,063 = 28. No bad debt; the hedger is retired (agents_liquidated 1) and never trades again:
  //   this is the run's only liquidation.
  nlohmann::json w = sl::test::ladder_world(-10.0);
  w["agents"]["leveraged_traders"]["count"] = 0;
  w["agents"]["hedgers"] = {{"count", 1},          {"interval_steps", 1},          {"short_qty_per_drawdown", 10},
                            {"drawdown_threshold", 0}, {"vol_weight", 0},           {"memory_half_life_s", 1e9},
                            {"max_discount_bps", 100}, {"max_order_qty", 5},        {"quote_cash", 100}};
  w["shocks"].push_back(sl::test::price_jump(15, 0.6));
  const RunResult r = sl::test::run_world(w);
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 16, .agent_type = "hedger", .policy_path = "market", .notional = approx(9'063.0, 1e-12),
                   .price = approx(9'063.0, 1e-12), .mark = approx(9'054.0, 1e-12), .slippage_bps = approx(1e4 * 9.0 / 9'054.0, 1e-9),
                   .penalty = approx(28.0, 1e-12), .bad_debt = exactly(0.0)});
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "agents_liquidated") == 1.0);
}

TEST_CASE("the re-entry pool's positions are margined: its re-entered short is flagged at the hand-computed mark") {
  // The ladder world (10x long of 1 BTC, liquidated at step 11 by the -9.6% jump: reference 9,040)
  // with a re-entry pool that re-enters every liquidation (probability 1), short (short_share 1),
  // after a delay of ceil(exponential(mean 1e-9 s) / 1 s) = 1 step, scanning every step, holding
  // 100 USDT of quote: its whole collateral. +0.7% at step 20: reference 9,040 x 1.007 = 9,103.28,
  // the ladders centred on the nearest tick 9,103. 25 steps.
  //   step 11: the pool's scan (agents act before the mark) sees the trader open: 1 BTC x index
  //   9,040 = 9,040 of notional. The trader is flagged and liquidated in the same step.
  //   step 12: the scan sees it closed: a re-entry due at step 13.
  //   step 13: market sell of 9,040 / perp mid 9,040 = 1 BTC into bids 9,039 / 9,029 / 9,019
  //   (0.4, 0.4, 0.2): 9,031 in all. Short 1 BTC, quote 100 + 9,031 = 9,131; equity 9,131 - mark,
  //   maintenance 0.5% x mark.
  //   steps 13-19: mark 9,040: equity 91: healthy.
  //   step 20: index 9,040, perp mid 9,103: mark clamped to 9,040 x 1.005 = 9,085.2: equity 45.8 >=
  //   45.426: healthy.
  //   step 21: index = mark = 9,103: equity 28 < 45.515: flagged. The bot's IOC buy of 1 BTC limited
  //   at the bankruptcy price 9,103 + 28 = 9,131 fills 0.4 @ 9,104 + 0.4 @ 9,114 + 0.2 @ 9,124 =
  //   9,112 (slippage 9 / 9,103 bps). Penalty 100 bps of 9,112 = 91.12, capped at the equity left,
  //   9,131 - 9,112 = 19. No bad debt. Two margined accounts liquidated; agents_liquidated counts
  //   the acting agents: the pool (the trader is a leveraged trader, counted apart).
  nlohmann::json w = sl::test::ladder_world(-9.6);
  w["horizon_steps"] = 25;
  w["agents"]["reentry"] = {{"probability", 1},      {"delay_mean_s", 1e-9}, {"short_share", 1},
                            {"notional_share", 1},   {"scan_every_steps", 1}, {"quote_cash", 100}};
  w["shocks"].push_back(sl::test::price_jump(20, 0.7));
  const RunResult r = sl::test::run_world(w);
  REQUIRE(r.liquidations.size() == 2);
  CHECK(r.liquidations[0].agent_type == std::string("leveraged_trader"));
  CHECK(r.liquidations[0].step == 11);
  const LiquidationEvent& e = r.liquidations[1];
  check_event(e, {.step = 21, .agent_type = "reentry", .policy_path = "market", .notional = approx(9'112.0, 1e-12),
                   .price = approx(9'112.0, 1e-12), .mark = approx(9'103.0, 1e-12), .slippage_bps = approx(1e4 * 9.0 / 9'103.0, 1e-9),
                   .penalty = approx(19.0, 1e-12), .bad_debt = exactly(0.0)});
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "agents_liquidated") == 1.0);
}
