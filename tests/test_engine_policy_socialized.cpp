// The `socialized` liquidation policy, computed by hand: ADL ranking, absorption by the insurance
// fund at the bankruptcy price, auto-deleveraging and pro-rata haircuts when the fund cannot pay.
//
// Two kinds of tests:
//  - policy-level: a hand-built one-asset world (ledger, books, margin engine) with balances set
//    directly and the mark set by hand, one call of on_step, balances checked to the micro-unit;
//  - end to end through run_simulation (ladder books as in tests/test_engine_liquidation.cpp; the
//    run checks ledger conservation at its end).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "scenarios/loader.hpp"
#include "sim/adl_ranking.hpp"
#include "sim/liquidation.hpp"
#include "sim/margin_engine.hpp"
#include "sim/simulation.hpp"

using namespace sl;

// ------------------------------------------------------------------------------------------------
// ADL ranking
// ------------------------------------------------------------------------------------------------

TEST_CASE("ADL ranking: pnl% x effective leverage descending, losers dropped, ties to the lower id") {
  // id  pnl%   lev   score
  //  7  0.10   5     0.50
  //  3  0.50   2     1.00
  //  9  -0.2   20    (unprofitable: dropped)
  //  4  0.25   4     1.00  (tie with 3: lower id 3 first)
  //  1  0.05   1     0.05
  //  2  0.00   50    (pnl 0 is not a profit: dropped)
  std::vector<AdlCandidate> in{{7, 0.10, 5.0, -1.0}, {3, 0.50, 2.0, -2.0}, {9, -0.2, 20.0, -3.0},
                               {4, 0.25, 4.0, -4.0}, {1, 0.05, 1.0, -5.0}, {2, 0.0, 50.0, -6.0}};
  const std::vector<AdlCandidate> r = rank_adl_candidates(in);
  REQUIRE(r.size() == 4);
  CHECK(r[0].account == 3);
  CHECK(r[1].account == 4);
  CHECK(r[2].account == 7);
  CHECK(r[3].account == 1);
  CHECK(r[1].position == -4.0);  // the candidate's data travels with it
  // The formula helpers.
  CHECK(adl_pnl_pct(12'000.0, 10'000.0) == doctest::Approx(0.2));
  CHECK(adl_effective_leverage(60'000.0, 12'000.0) == doctest::Approx(5.0));
  CHECK(adl_pnl_pct(5.0, -1.0) == 0.0);            // no opening equity yet
  CHECK(adl_effective_leverage(1.0, -3.0) == 0.0);  // no positive equity
  CHECK(rank_adl_candidates({}).empty());
}

// ------------------------------------------------------------------------------------------------
// Policy-level world: BTC, tick 1, lot 0.001, no fees. Balances are set by hand; `mark` is set by
// hand; the index equals the mark.
// ------------------------------------------------------------------------------------------------

namespace {

constexpr AssetId kUsd = 0, kBtc = 1, kPerp = 2;

Micros U(double x) { return to_fixed(x, 1e6); }

struct HandWorld {
  Ledger L{{"USDT", "BTC", "BTC-PERP"}, {false, false, true}};
  Market m{L};
  PerpConfig pc;
  std::unique_ptr<MarginEngine> me;
  std::vector<LiquidatorBot> bots;
  std::vector<std::int32_t> kinds;
  Rng rng{make_rng(1, 0, 3)};
  LiquidationAccounts sys;
  std::vector<LiquidationEvent> events;
  std::vector<std::vector<AccountId>> makers{{}};
  AccountId book_maker = 0;

  explicit HandWorld(double fund_start) {
    m.quote_asset = kUsd;
    ReferenceProcess ref(ReferenceConfig{}, 10'000.0, 1.0, make_rng(1, 0, 2));
    AssetMarket am{"BTC", kBtc, kPerp, ref};
    am.initial_price = 10'000.0;
    am.collateral_haircut = 0.1;
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      VenueSpec vs;
      vs.kind = k;
      vs.name = k == VenueKind::Spot ? "spot:BTC" : "perp:BTC";
      vs.base_asset = k == VenueKind::Spot ? kBtc : kPerp;
      vs.quote_asset = kUsd;
      vs.lot_micros = 1000;
      vs.tick_micros = 1'000'000;
      vs.quote_micros_per_tick_lot = 1000;
      vs.tick_size = 1.0;
      vs.lot_size = 0.001;
      vs.maker_fee_bps = 0;
      vs.taker_fee_bps = 0;
      vs.max_tick = 40'000;
      const AccountId fee = L.open_account("fees:" + vs.name);
      m.venues.emplace_back(vs, L, fee);
      (k == VenueKind::Spot ? am.spot : am.perp) = &m.venues.back();
    }
    m.assets.push_back(std::move(am));
    me = std::make_unique<MarginEngine>(pc, m);
    m.margin = me.get();
    sys.insurance_fund = L.open_account("insurance_fund");
    L.mint(sys.insurance_fund, kUsd, U(fund_start));
    sys.bad_debt = L.open_account("bad_debt", true);
    sys.network_fees = L.open_account("network_fees");
    sys.protocol = L.open_account("protocol");
    book_maker = L.open_account("book_maker");
    L.mint(book_maker, kUsd, U(1e8));
  }
  // A margined account holding `cash` quote and `contracts` (booked against the issuer-like
  // counterparty below, at no cash: the cash given is the whole quote balance).
  std::uint32_t account(const std::string& name, double cash, double contracts) {
    const AccountId a = L.open_account(name, true);
    if (cash >= 0) L.mint(a, kUsd, U(cash));
    else L.transfer(a, L.issuer(kUsd), kUsd, U(-cash));
    if (contracts > 0) L.transfer(book_maker, a, kPerp, U(contracts));
    if (contracts < 0) L.transfer(a, book_maker, kPerp, U(-contracts));
    return me->add_account(a, -1, AgentKind::LeveragedTrader, MarginMode::Isolated);
  }
  void set_mark(double p, std::int64_t step) {
    m.assets[0].mark_price = p;
    m.assets[0].index_price = p;
    me->mark_all(step);
  }
  void run(LiquidationPolicy& pol, std::int64_t step) {
    LiquidationContext ctx{m, *me, bots, kinds, rng, step, sys, events, makers, nullptr};
    pol.reset_step_stats();
    pol.on_step(ctx);
  }
  Micros bal(std::uint32_t id, AssetId a) { return L.balance(me->account(id).account, a); }
  Micros fund(AssetId a = kUsd) { return L.balance(sys.insurance_fund, a); }
};

LiquidationConfig socialized(const std::string& rule) {
  LiquidationConfig c;
  c.policy = "socialized";
  c.socialized.loss_rule = rule;
  return c;
}

}  // namespace

TEST_CASE("socialized, policy level: the fund absorbs a 10x long at the bankruptcy price") {
  // Long 1 BTC entered at 10,000 with 1,000 margin: cash -9,000, contracts +1. Opening mark 10,000.
  // Mark 9,040: equity -9,000 + 9,040 = 40 < maintenance 0.5% x 9,040 = 45.2 -> flagged.
  // p_b = 9,040 - 40 / 1 = 9,000. The fund (20,000) pays 9,000 and takes the contract.
  HandWorld w(20'000);
  const std::uint32_t lng = w.account("long", -9'000, 1.0);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = make_socialized_policy(socialized("adl"));
  w.run(*pol, 1);
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.me->account(lng).closed);
  CHECK(w.fund() == U(11'000));
  CHECK(w.fund(kPerp) == U(1.0));
  CHECK(pol->step_stats().count == 1);
  CHECK(pol->step_stats().adl_count == 0);
  CHECK(pol->step_stats().notional == doctest::Approx(9'000.0));
  REQUIRE(w.events.size() == 1);
  const LiquidationEvent& e = w.events[0];
  CHECK(e.policy_path == "socialized");
  CHECK(e.price == doctest::Approx(9'000.0));
  CHECK(e.mark == doctest::Approx(9'040.0));
  CHECK(e.notional == doctest::Approx(9'000.0));
  CHECK(e.slippage_bps == doctest::Approx(1e4 * 40.0 / 9'040.0));
  CHECK(e.penalty == 0.0);
  CHECK(e.liquidator == -1);
  CHECK(e.bad_debt == 0.0);
  // Next step the fund unwinds into the book: at most the best two bid levels (0.3 + 0.3 BTC).
  w.m.assets[0].perp->limit(w.book_maker, Side::Buy, 9'039, 300);
  w.m.assets[0].perp->limit(w.book_maker, Side::Buy, 9'029, 300);
  w.m.assets[0].perp->limit(w.book_maker, Side::Buy, 9'019, 300);
  w.set_mark(9'040, 2);
  w.run(*pol, 2);
  // 0.3 x 9,039 + 0.3 x 9,029 = 2,711.7 + 2,708.7 = 5,420.4
  CHECK(w.fund() == U(11'000 + 5'420.4));
  CHECK(w.fund(kPerp) == U(0.4));
  CHECK(pol->step_stats().count == 0);
}

TEST_CASE("socialized, policy level: an absorbed short pays its cash to the fund; rounding ends at exactly 0") {
  // Short 0.333 BTC at 10,000 with 333.3 margin at 10x: cash 3,330 + 333.3 = 3,663.3, contracts -0.333.
  // Mark 10,950: equity 3,663.3 - 3,646.35 = 16.95 < 0.5% x 3,646.35 = 18.23 -> flagged.
  // p_b = 10,950 + 16.95 / 0.333 = 11,000.9009...: not a whole micro-unit price; the account pays
  // its whole cash 3,663.3 (= 0.333 x p_b) to the fund and ends at exactly 0.
  HandWorld w(10);
  const std::uint32_t s = w.account("short", 3'663.3, -0.333);
  w.set_mark(10'000, 0);
  w.set_mark(10'950, 1);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = make_socialized_policy(socialized("adl"));
  w.run(*pol, 1);
  CHECK(w.bal(s, kUsd) == 0);
  CHECK(w.bal(s, kPerp) == 0);
  CHECK(w.fund() == U(10 + 3'663.3));
  CHECK(w.fund(kPerp) == -U(0.333));
  REQUIRE(w.events.size() == 1);
  CHECK(w.events[0].price == doctest::Approx(10'950.0 + 16.95 / 0.333));
  CHECK(w.events[0].policy_path == "socialized");  // the fund receives cash: never exhausted by a short
}

TEST_CASE("socialized adl, policy level: top-ranked opposite winners are closed at the bankruptcy price") {
  // Bankrupt long: 2 BTC at 10,000 with 2,000 margin (cash -18,000). Mark 9,040: equity 80 < 90.4.
  // p_b = 9,040 - 80 / 2 = 9,000. The fund holds 100 < 18,000: exhausted -> ADL.
  // Shorts, all opened at 10,000 (opening equity = margin at the first mark, 10,000):
  //   A: 1 BTC, margin 1,000 (10x): cash 11,000. At 9,040: equity 1,960, pnl% 0.96,
  //      lev 9,040 / 1,960 = 4.6122, score 4.4278
  //   B: 1.5 BTC, margin 3,000 (5x): cash 18,000. equity 4,440, pnl% 0.48, lev 13,560/4,440 = 3.0541, score 1.4659
  //   C: 3 BTC, margin 30,000 (1x): cash 60,000. equity 32,880, pnl% 0.096, lev 0.8248, score 0.0792
  // Order A, B, C. The long's 2 BTC: A takes 1 (all it has), B takes 1 of its 1.5. C untouched.
  HandWorld w(100);
  const std::uint32_t lng = w.account("long", -18'000, 2.0);
  const std::uint32_t c = w.account("C", 60'000, -3.0);
  const std::uint32_t b = w.account("B", 18'000, -1.5);
  const std::uint32_t a = w.account("A", 11'000, -1.0);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = make_socialized_policy(socialized("adl"));
  w.run(*pol, 1);
  CHECK(pol->step_stats().adl_count == 2);
  CHECK(pol->step_stats().count == 1);
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(a, kPerp) == 0);
  CHECK(w.bal(a, kUsd) == U(11'000 - 9'000));
  CHECK(w.bal(b, kPerp) == -U(0.5));
  CHECK(w.bal(b, kUsd) == U(18'000 - 9'000));
  CHECK(w.bal(c, kPerp) == -U(3.0));
  CHECK(w.bal(c, kUsd) == U(60'000));
  CHECK(w.fund() == U(100));  // untouched: no cash, no position
  CHECK(w.fund(kPerp) == 0);
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == 0);
  REQUIRE(w.events.size() == 3);
  CHECK(w.events[0].account == w.me->account(lng).account);
  CHECK(w.events[0].policy_path == "socialized>adl");
  CHECK(w.events[0].price == doctest::Approx(9'000.0));
  CHECK(w.events[1].account == w.me->account(a).account);
  CHECK(w.events[1].policy_path == "socialized>adl");
  CHECK(w.events[1].notional == doctest::Approx(9'000.0));
  CHECK(w.events[1].slippage_bps == doctest::Approx(1e4 * (9'000.0 - 9'040.0) / 9'040.0));  // a buy below mark
  CHECK(w.events[2].account == w.me->account(b).account);
  CHECK(w.events[2].notional == doctest::Approx(9'000.0));
  w.L.check_conservation();
}

TEST_CASE("socialized adl, policy level: no candidate left -> the fund takes the rest; its deficit is bad debt") {
  // As above with only A (1 BTC short): A takes 1 BTC at 9,000; the long keeps cash -9,000 and 1 BTC;
  // the fund (100) takes the contract and must pay 9,000: 8,900 comes from the bad-debt account.
  HandWorld w(100);
  const std::uint32_t lng = w.account("long", -18'000, 2.0);
  const std::uint32_t a = w.account("A", 11'000, -1.0);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  auto pol = make_socialized_policy(socialized("adl"));
  w.run(*pol, 1);
  CHECK(pol->step_stats().adl_count == 1);
  CHECK(pol->step_stats().bad_debt == doctest::Approx(8'900.0));
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.bal(a, kPerp) == 0);
  CHECK(w.fund() == 0);
  CHECK(w.fund(kPerp) == U(1.0));
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(8'900));
  REQUIRE(w.events.size() == 2);
  CHECK(w.events[0].policy_path == "socialized>adl>bad_debt");
  CHECK(w.events[0].bad_debt == doctest::Approx(8'900.0));
  w.L.check_conservation();
}

TEST_CASE("socialized haircut, policy level: winners pay pro rata to profit, exact integer split") {
  // Same long (needs 18,000); fund 17,000: lacking 1,000. Winners (profit = equity - opening equity):
  //   A 1 BTC short opened with 1,000 margin: profit 960;  B 1.5 BTC with 3,000: profit 1,440;
  //   C 0.7 BTC with 700: profit 0.7 x 960 = 672. Total 3,072.
  //   Shares of 1,000: A 312.5, B 468.75, C 218.75 (quote) = exact in micro-units: 312.5, 468.75, 218.75.
  HandWorld w(17'000);
  const std::uint32_t lng = w.account("long", -18'000, 2.0);
  const std::uint32_t a = w.account("A", 11'000, -1.0);
  const std::uint32_t b = w.account("B", 18'000, -1.5);
  const std::uint32_t c = w.account("C", 7'700, -0.7);
  w.set_mark(10'000, 0);
  w.set_mark(9'040, 1);
  auto pol = make_socialized_policy(socialized("haircut"));
  w.run(*pol, 1);
  CHECK(w.bal(a, kUsd) == U(11'000 - 312.5));
  CHECK(w.bal(b, kUsd) == U(18'000 - 468.75));
  CHECK(w.bal(c, kUsd) == U(7'700 - 218.75));
  CHECK(w.bal(a, kPerp) == -U(1.0));  // positions untouched
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.fund() == 0);  // 17,000 + 1,000 - 18,000
  CHECK(w.fund(kPerp) == U(2.0));
  CHECK(w.L.balance(w.sys.bad_debt, kUsd) == 0);
  CHECK(pol->step_stats().adl_count == 0);
  REQUIRE(w.events.size() == 1);
  CHECK(w.events[0].policy_path == "socialized>haircut");
  w.L.check_conservation();
}

TEST_CASE("socialized haircut, policy level: largest remainder, capped at profit, the rest is bad debt") {
  // Three equal winners (1 BTC shorts, profit 960 each) and a lacking of 100 micro-USDT:
  // 33 + 33 + 33 = 99, the spare micro-unit goes to the lowest account id.
  {
    HandWorld w(18'000 - 0.0001);
    const std::uint32_t lng = w.account("long", -18'000, 2.0);
    const std::uint32_t a = w.account("A", 11'000, -1.0);
    const std::uint32_t b = w.account("B", 11'000, -1.0);
    const std::uint32_t c = w.account("C", 11'000, -1.0);
    w.set_mark(10'000, 0);
    w.set_mark(9'040, 1);
    auto pol = make_socialized_policy(socialized("haircut"));
    w.run(*pol, 1);
    CHECK(w.bal(a, kUsd) == U(11'000) - 34);
    CHECK(w.bal(b, kUsd) == U(11'000) - 33);
    CHECK(w.bal(c, kUsd) == U(11'000) - 33);
    CHECK(w.bal(lng, kUsd) == 0);
    CHECK(w.fund() == 0);
  }
  {
    // Fund 100, one winner with profit 960: it pays 960; 18,000 - 100 - 960 = 16,940 is bad debt.
    HandWorld w(100);
    w.account("long", -18'000, 2.0);
    const std::uint32_t a = w.account("A", 11'000, -1.0);
    w.set_mark(10'000, 0);
    w.set_mark(9'040, 1);
    auto pol = make_socialized_policy(socialized("haircut"));
    w.run(*pol, 1);
    CHECK(w.bal(a, kUsd) == U(11'000 - 960));
    CHECK(w.L.balance(w.sys.bad_debt, kUsd) == -U(16'940));
    CHECK(pol->step_stats().bad_debt == doctest::Approx(16'940.0));
    REQUIRE(w.events.size() == 1);
    CHECK(w.events[0].policy_path == "socialized>haircut>bad_debt");
    w.L.check_conservation();
  }
}

TEST_CASE("socialized: an unknown loss rule is rejected") {
  CHECK_THROWS_AS(make_socialized_policy(socialized("lottery")), std::invalid_argument);
}

// ------------------------------------------------------------------------------------------------
// End to end (run_simulation). BTC at 10,000, tick 1, lot 0.001, no fees, constant reference until a
// -9.6% jump at step 10 (reference 9,040); ladders re-centred on the reference every step, levels
// 1, 11, 21, ... ticks away, 0.4 BTC each; index = spot mid of the previous step; mark clamped to
// +-50 bps of the index (so the new level reaches the mark at step 11). Positions exist at step 0
// ("initial" entry modes, booked at 10,000 against the passive counterparty).
// ------------------------------------------------------------------------------------------------

namespace {

std::string e2e_scenario(int longs_notional, int basis_count) {
  return R"({
  "name": "hand_socialized", "horizon_steps": 20, "dt_s": 1, "seed": 1,
  "assets": [{"symbol": "BTC", "initial_price": 10000, "tick_size": 1, "lot_size": 0.001,
              "reference": {"vol_calm_annual": 0, "vol_stress_annual": 0, "p_calm_to_stress_per_hour": 0}}],
  "venues": {"spot": {"maker_fee_bps": 0, "taker_fee_bps": 0}, "perp": {"maker_fee_bps": 0, "taker_fee_bps": 0}},
  "agents": {
    "market_makers": {"count_per_venue": 0}, "noise_traders": {"count": 0}, "arbitrageurs": {"count": 0},
    "ladders": [
      {"venue": "spot", "levels": 5, "first_offset_ticks": 1, "tick_spacing": 10, "size_per_level": 0.4, "refill": "every_step", "center": "reference"},
      {"venue": "perp", "levels": 5, "first_offset_ticks": 1, "tick_spacing": 10, "size_per_level": 0.4, "refill": "every_step", "center": "reference"}],
    "basis_traders": {"count": )" + std::to_string(basis_count) + R"(, "notional_mean": 10000, "notional_dispersion": 0, "leverage": 2,
                      "top_up": false, "entry_mode": "initial"},
    "leveraged_traders": {"count": 1, "long_share": 1, "leverage_min": 10, "leverage_max": 10, "notional_mean": )" +
         std::to_string(longs_notional) + R"(,
                          "notional_dispersion": 0, "entry_window_steps": 1, "margin_mode": "isolated", "entry_mode": "initial"},
    "liquidators": {"count": 0}
  },
  "perp": {
    "oracle": {"method": "median", "window_steps": 1, "lag_steps": 0},
    "mark": {"ema_steps": 1, "clamp_bps": 50},
    "funding": {"enabled": false},
    "liquidation": {"policy": "market", "insurance_fund_start": 20000, "protocol_fallback_steps": -1}
  },
  "shocks": [{"type": "price_jump", "start_step": 10, "size_pct": -9.6}]
})";
}

double metric(const RunResult& r, const std::string& name) {
  for (const auto& [k, v] : r.summary)
    if (k == name) return v;
  FAIL("no metric " << name);
  return 0;
}

const std::vector<double>& series(const RunResult& r, const std::string& name) {
  for (const auto& col : r.series)
    if (col.name == name) return col.values;
  FAIL("no series " << name);
  throw;
}

RunResult run_socialized(const std::string& text, const std::vector<std::string>& overrides) {
  const ScenarioConfig sc = load_scenario_text(text, "hand_socialized.json", overrides);
  RunOptions o;
  o.seed = 1;
  o.policy = "socialized";
  return run_simulation(sc, o);  // throws ConservationError if the ledger does not sum to zero
}

}  // namespace

TEST_CASE("socialized end to end: the fund absorbs a 10x long at the bankruptcy price and unwinds it") {
  // Long 1 BTC: cash 1,000 - 10,000 = -9,000. Step 11: mark 9,040, equity 40 < 45.2: flagged.
  // p_b = 9,040 - 40 = 9,000: the fund pays 9,000 (20,000 -> 11,000) and holds 1 BTC.
  // Step 12: it sells the best two bid levels, 0.4 @ 9,039 + 0.4 @ 9,029 = 7,227.2 -> 18,227.2;
  // step 13: 0.2 @ 9,039 = 1,807.8 -> 20,035.0. Income 40 (the margin left) - 5 of slippage.
  const RunResult r = run_socialized(e2e_scenario(10'000, 0), {});
  CHECK(r.policy == "socialized");
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  CHECK(e.step == 11);
  CHECK(e.agent_type == "leveraged_trader");
  CHECK(e.policy_path == "socialized");
  CHECK(e.price == doctest::Approx(9'000.0).epsilon(1e-12));
  CHECK(e.notional == doctest::Approx(9'000.0).epsilon(1e-12));
  CHECK(e.mark == doctest::Approx(9'040.0).epsilon(1e-12));
  CHECK(e.penalty == 0.0);
  CHECK(e.liquidator == -1);
  CHECK_FALSE(e.endogenous);
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[10] == doctest::Approx(20'000.0).epsilon(1e-12));
  CHECK(fund[11] == doctest::Approx(11'000.0).epsilon(1e-12));
  CHECK(fund[12] == doctest::Approx(18'227.2).epsilon(1e-12));
  CHECK(fund[13] == doctest::Approx(20'035.0).epsilon(1e-12));
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(20'035.0).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("socialized end to end: fund exhausted, ADL closes the profitable shorts at the bankruptcy price") {
  // Long 2 BTC at 10x (cash -18,000); two basis traders short 1 BTC each (margin 5,000, cash 15,000),
  // equal scores: the lower account id first. Fund 100 < 18,000. Step 11: p_b = 9,040 - 80/2 = 9,000;
  // each short buys 1 BTC back from the bankrupt long at 9,000. Two ADLs; the fund is untouched.
  const RunResult r = run_socialized(e2e_scenario(20'000, 2), {"perp.liquidation.insurance_fund_start=100"});
  REQUIRE(r.liquidations.size() == 3);
  CHECK(r.liquidations[0].policy_path == "socialized>adl");
  CHECK(r.liquidations[0].agent_type == "leveraged_trader");
  CHECK(r.liquidations[0].notional == doctest::Approx(18'000.0).epsilon(1e-12));
  for (int k = 1; k <= 2; ++k) {
    CHECK(r.liquidations[k].policy_path == "socialized>adl");
    CHECK(r.liquidations[k].agent_type == "basis_trader");
    CHECK(r.liquidations[k].price == doctest::Approx(9'000.0).epsilon(1e-12));
    CHECK(r.liquidations[k].notional == doctest::Approx(9'000.0).epsilon(1e-12));
  }
  CHECK(r.liquidations[1].account < r.liquidations[2].account);
  CHECK(series(r, "adl_count")[11] == 2.0);
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(100.0));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("socialized end to end: haircut of the winners when the fund cannot pay") {
  // Same long; three basis shorts with profit 960 each; fund 17,000: lacking 1,000 -> 333.333334,
  // 333.333333, 333.333333 (spare micro-unit to the lowest id). The fund: 17,000 + 1,000 - 18,000 = 0,
  // then it unwinds 2 BTC: 0.8 @ (9,039, 9,029) at steps 12 and 13 (7,227.2 each), 0.4 @ 9,039 at 14.
  const RunResult r = run_socialized(e2e_scenario(20'000, 3), {"perp.liquidation.insurance_fund_start=17000",
                                                               "perp.liquidation.socialized.loss_rule=haircut"});
  REQUIRE(r.liquidations.size() == 1);
  CHECK(r.liquidations[0].policy_path == "socialized>haircut");
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[11] == doctest::Approx(0.0));
  CHECK(fund[14] == doctest::Approx(7'227.2 * 2 + 3'615.6).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(series(r, "adl_count")[11] == 0.0);
}

TEST_CASE("socialized on the shipped crash and short-squeeze scenarios: both loss rules run and conserve") {
  // Not hand-computed: a robustness check on realistic books (fund unwinds, ADL with many ranked
  // candidates, haircuts) -- run_simulation throws if any asset's ledger sum is not exactly zero.
  for (const char* file : {"crash.json", "short_squeeze.json"}) {
    for (const char* rule : {"adl", "haircut"}) {
      CAPTURE(file);
      CAPTURE(rule);
      const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/" + file,
                                                   {std::string("perp.liquidation.socialized.loss_rule=") + rule,
                                                    "perp.liquidation.insurance_fund_start=20000"});
      RunOptions o;
      o.seed = 3;
      o.policy = "socialized";
      RunResult r;
      CHECK_NOTHROW(r = run_simulation(sc, o));
      double adl = 0;
      for (const auto& c : r.series)
        if (c.name == "adl_count")
          for (double v : c.values) adl += v;
      if (std::string(rule) == "haircut") CHECK(adl == 0.0);
      // Seed 3, fund 20,000: the crash exhausts the fund's cash on absorbed longs, so ADL happens;
      // the squeeze absorbs shorts, which bring cash in, so the fund is never exhausted.
      if (std::string(rule) == "adl" && std::string(file) == "crash.json") CHECK(adl > 0.0);
      MESSAGE(std::string(file) << " " << std::string(rule) << ": events " << r.liquidations.size() << ", adl " << adl << ", bad debt "
                                << metric(r, "bad_debt") << ", fund end (quote) " << metric(r, "insurance_fund_end"));
    }
  }
}
