// The `dutch` liquidation policy (sim/liquidation/dutch.cpp): its price curves in closed form, the
// reset rule, and auctions computed by hand.
//
// Market (as tests/test_engine_liquidation.cpp): BTC at 10,000 USDT, tick 1, lot 0.001, no fees, a
// constant reference until a scheduled jump at step 10; ladder makers on spot and perp re-centre on
// the reference every step at 1, 11, 21, ... ticks, 0.4 BTC each. Oracle lag 0 over 1 step, mark EMA
// 1 step clamped to +-50 bps: from step 11 on index = mark = the new reference. One leveraged trader
// 1 BTC at 10x (margin 1,000, isolated); one liquidator bot (agent id 3, latency 0). dt_s = 1, so
// an auction's elapsed seconds = steps since it (re)started.
//
// Long entry: buy 1 BTC at 10,001/10,011/10,021 -> 10,009.0: cash -9,009, contracts +1.
// Short entry: sell 1 BTC at 9,999/9,989/9,979 -> 9,991.0: cash 10,991, contracts -1.
#include <doctest/doctest.h>

#include <cmath>

#include "sim/liquidation/dutch_curve.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)

namespace {

// The ladder world (tests/support/ladder_world.hpp) with a bot of capital 20,000, the hand Dutch
// curve, and a trader long (long_share 1) or short (0).
RunResult run_dutch(double jump_pct, double long_share, const std::vector<std::string>& overrides = {}) {
  nlohmann::json w = sl::test::ladder_world(jump_pct);
  w["agents"]["leveraged_traders"]["long_share"] = long_share;
  w["agents"]["liquidators"]["capital"] = 20000;
  w["perp"]["liquidation"]["dutch"] = sl::test::hand_dutch_curve();
  // "dutch" is not in the schema's policy list yet: RunOptions bypasses it
  return sl::test::run_world(w, overrides, "dutch");
}

// Notional of 1 BTC at price p as the policy settles it (rounded to a micro-unit).
double settled(double p) { return std::llround(p * 1e6) / 1e6; }

}  // namespace

TEST_CASE("dutch curves: closed forms") {
  DutchConfig c;
  c.curve = "stairstep_exponential";
  c.cut = 0.99;
  c.step_s = 90;
  CHECK(dutch_price_factor(c, 0) == 1.0);
  CHECK(dutch_price_factor(c, 89) == 1.0);
  CHECK(dutch_price_factor(c, 90) == doctest::Approx(0.99).epsilon(1e-15));
  CHECK(dutch_price_factor(c, 179) == doctest::Approx(0.99).epsilon(1e-15));
  CHECK(dutch_price_factor(c, 180) == doctest::Approx(0.9801).epsilon(1e-15));
  CHECK(dutch_price_factor(c, 900) == doctest::Approx(std::pow(0.99, 10)).epsilon(1e-15));
  c.curve = "exponential";
  CHECK(dutch_price_factor(c, 45) == doctest::Approx(std::sqrt(0.99)).epsilon(1e-15));
  CHECK(dutch_price_factor(c, 90) == doctest::Approx(0.99).epsilon(1e-15));
  c.curve = "linear";
  c.tau_s = 3600;
  CHECK(dutch_price_factor(c, 0) == 1.0);
  CHECK(dutch_price_factor(c, 900) == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(dutch_price_factor(c, 3600) == 0.0);
  CHECK(dutch_price_factor(c, 4000) == 0.0);
  c.curve = "quadratic";
  CHECK_THROWS_AS(dutch_price_factor(c, 1), std::invalid_argument);
}

TEST_CASE("dutch reset rule: tail and cusp") {
  // First step n (elapsed n x dt_s) at which the auction would reset.
  auto first_reset = [](const DutchConfig& c, double dt_s) {
    for (int n = 0; n < 100000; ++n) {
      const double el = n * dt_s;
      if (dutch_needs_reset(c, el, dutch_price_factor(c, el))) return n;
    }
    return -1;
  };
  DutchConfig c;  // stairstep, cut 0.5 every 10 s, cusp 0.4: factors 1 (0-9 s), 0.5 (10-19 s), 0.25 (20 s)
  c.curve = "stairstep_exponential";
  c.cut = 0.5;
  c.step_s = 10;
  c.cusp = 0.4;
  c.tail_s = 8400;
  CHECK_FALSE(dutch_needs_reset(c, 19, 0.5));
  CHECK(dutch_needs_reset(c, 20, 0.25));
  CHECK(first_reset(c, 1.0) == 20);  // dt 1 s: step 20
  CHECK(first_reset(c, 3.0) == 7);   // dt 3 s: elapsed 18 s (0.5), then 21 s (0.25) at step 7
  // Tail: a flat curve (cut 1) resets only at the first elapsed strictly above tail_s.
  c.cut = 1.0;
  c.tail_s = 8400;
  CHECK_FALSE(dutch_needs_reset(c, 8400, 1.0));
  CHECK(first_reset(c, 1.0) == 8401);
  CHECK(first_reset(c, 7.0) == 1201);  // 1,200 x 7 = 8,400 is not > tail; 8,407 is
}

TEST_CASE("dutch, insolvent long: the bot takes at its reservation price, the insurance fund pays the deficit") {
  // -9.6% jump: reference 9,040. Step 11: mark 9,040, equity -9,009 + 9,040 = 31 < 45.2: flagged.
  // Kick at step 11 by the bot (latency 0; incentive tip 5 >= tx cost 1): the fund pays it 5
  // (100 -> 95). Lot 1 BTC, start = index 9,040 x buf 1.02 = 9,220.8, cut 0.99 every 1 s.
  // Bot's reservation price for 1 BTC: resale into bids 9,039/9,029/9,019 = 9,031.0, minus tx 1:
  // 9,030 per BTC. Prices: step 11: 9,220.8; 12: 9,128.592; 13: 9,037.306; 14: 8,946.933 <= 9,030.
  // Take at step 14 (steps_to_complete 3): cash -9,009 + 8,946.933019 = -62.066981, no equity so no
  // penalty; deficit 62.066981 paid by the fund: 95 -> 32.933019. No bad debt.
  const RunResult r = run_dutch(-9.6, 1.0);
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  const double p = 9040.0 * 1.02 * std::pow(0.99, 3);
  CHECK(9040.0 * 1.02 * std::pow(0.99, 2) > 9030.0);  // not yet at step 13
  CHECK(p == doctest::Approx(8946.9330192).epsilon(1e-12));
  check_event(e, {.step = 14, .agent_type = "leveraged_trader", .policy_path = "dutch>insurance",
                  .notional = approx(settled(p), 1e-12), .price = approx(p, 1e-12), .mark = approx(9040.0, 1e-9),
                  .slippage_bps = approx(1e4 * (9040.0 - p) / 9040.0, 1e-9), .penalty = exactly(0.0),
                  .liquidator = 3, .steps_to_complete = 3, .bad_debt = exactly(0.0), .endogenous = false});
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[10] == doctest::Approx(100.0));
  CHECK(fund[11] == doctest::Approx(95.0));  // the kick incentive
  CHECK(fund[13] == doctest::Approx(95.0));
  CHECK(fund[14] == doctest::Approx(95.0 - (9009.0 - settled(p))).epsilon(1e-12));
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(32.933019).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(series(r, "liquidations")[14] == 1.0);
}

TEST_CASE("dutch, solvent long: slower cut, partial takes as the price falls through the bid levels") {
  // cut 0.999 per 1 s, penalty 10 bps. Price p_k = 9,220.8 x 0.999^k. The bot takes ANY amount up
  // to what is left (Clipper.take): the lots whose resale value is >= the price, if the surplus
  // covers its tx cost 1 (sim/liquidation/bid_valuation.hpp).
  //  k = 20 (step 31): p = 9,038.15 <= 9,039: 400 lots qualify, surplus 0.4 x 0.85 = 0.34 < 1: none.
  //  k = 21 (step 32): p = 9,029.087: the 9,039 level (400 lots) only (9,029 < p): surplus
  //    0.4 x 9.913 = 3.97 >= 1: takes 400 lots. Cash -9,009 + 3,611.634944 = -5,397.365.
  //  Step 33: the bot first unwinds its 0.4 BTC into the best bid (9,039, 0.4 BTC), which the
  //    ladder refills only the next step; the bids are 9,029 / 9,019 / ...  k = 22: p = 9,020.058:
  //    9,029 qualifies (400 lots), surplus 0.4 x 8.94 = 3.58: takes 400.
  //  Step 34, the same book: k = 23: p = 9,011.038: the last 200 lots at 9,029, surplus 3.59.
  // Penalty 10 bps of each take's notional (equity stays above it), half to the bot.
  const RunResult r = run_dutch(-9.6, 1.0, {"horizon_steps=40", "perp.liquidation.dutch.cut=0.999", "perp.liquidation.penalty_bps=10"});
  REQUIRE(r.liquidations.size() == 3);
  CHECK(9040.0 * 1.02 * std::pow(0.999, 20) > 9038.0);
  const int ks[3] = {21, 22, 23};
  const double qty[3] = {0.4, 0.4, 0.2};
  double fund = 95.0, pens = 0.0;
  for (int i = 0; i < 3; ++i) {
    const LiquidationEvent& e = r.liquidations[static_cast<std::size_t>(i)];
    const double p = 9040.0 * 1.02 * std::pow(0.999, ks[i]);
    CAPTURE(i);
    check_event(e, {.step = 11 + ks[i], .price = approx(p, 1e-12)});
    const double n = std::llround(p * qty[i] * 1e6) / 1e6;
    CHECK(e.notional == doctest::Approx(n).epsilon(1e-12));
    const double pen = std::llround(n * 1e6 * 10e-4) / 1e6;
    CHECK(e.penalty == doctest::Approx(pen).epsilon(1e-9));
    fund += pen - std::llround(pen * 1e6 * 0.5) / 1e6;
    pens += pen;
  }
  check_event(r.liquidations[2], {.policy_path = "dutch", .steps_to_complete = 23});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(fund).epsilon(1e-9));
  CHECK(metric(r, "penalties_paid") == doctest::Approx(pens).epsilon(1e-9));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("dutch, insolvent short: the auction buys back at a rising price (multiplicative mirror)") {
  // +9.6% jump: reference 10,960. Step 11: equity 10,991 - 10,960 = 31 < 54.8: flagged, kicked (fund
  // 95). Price(k) = 10,960 / (1.02 x 0.99^k): 10,745.098, 10,853.634, 10,963.267, 11,074.007.
  // Bot: buying back from asks 10,961 / 10,971 / 10,981 (0.4 BTC each). At k = 2 only the 10,961
  // level costs <= the price: surplus 0.4 x 2.27 = 0.91 < tx 1, no take. At k = 3 all 1 BTC
  // (cost 10,969.0): surplus 105 >= 1: the bot sells the account 1 BTC at step 14 for 11,074.007.
  // Cash 10,991 - 11,074.007 = -83.007: the fund pays it (95 -> 11.993).
  const RunResult r = run_dutch(9.6, 0.0);
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  const double p = 10960.0 / (1.02 * std::pow(0.99, 3));
  CHECK(0.4 * (10960.0 / (1.02 * std::pow(0.99, 2)) - 10961.0) < 1.0);
  check_event(e, {.step = 14, .policy_path = "dutch>insurance", .price = approx(p, 1e-12),
                  .mark = approx(10960.0, 1e-9), .slippage_bps = approx(1e4 * (p - 10960.0) / 10960.0, 1e-9),
                  .penalty = exactly(0.0), .liquidator = 3});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(95.0 - (settled(p) - 10991.0)).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("dutch under congestion: a huge tx cost means a take only at a deep discount, then bad debt") {
  // tx cost 2,000, tip 2,500 (the bot kicks: 2,500 - 2,000 >= 0), fund 3,000 -> 500 after the kick.
  // buf 1, cut 0.9 per 1 s, cusp 0.5: prices 9,040, 8,136, 7,322.4, 6,590.16. Reservation 9,031 -
  // 2,000 = 7,031: take at step 14 at 6,590.16 (27% under the mark). Cash -9,009 + 6,590.16 =
  // -2,418.84: the fund pays its 500, bad debt 1,918.84.
  const RunResult r = run_dutch(-9.6, 1.0,
                                {"agents.liquidators.tx_cost=2000", "agents.liquidators.capital=100000",
                                 "perp.liquidation.dutch.tip=2500", "perp.liquidation.insurance_fund_start=3000",
                                 "perp.liquidation.dutch.buf=1", "perp.liquidation.dutch.cut=0.9", "perp.liquidation.dutch.cusp=0.5"});
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 14, .policy_path = "dutch>insurance>bad_debt", .price = approx(6590.16, 1e-12),
                  .slippage_bps = approx(1e4 * (9040.0 - 6590.16) / 9040.0, 1e-9),
                  .bad_debt = approx(1918.84, 1e-12)});
  CHECK(series(r, "insurance_fund")[11] == doctest::Approx(500.0));
  CHECK(metric(r, "insurance_fund_end") == 0.0);
  CHECK(metric(r, "bad_debt") == doctest::Approx(1918.84).epsilon(1e-12));
}

TEST_CASE("dutch resets: cusp and tail restart the auction, each redo pays the keeper incentive") {
  // Same congested bot (reservation 7,031) but cusp 0.8: factors 1, 0.9, 0.81, then 0.729 < 0.8,
  // so the auction kicked at step 11 resets at steps 14 and 17 (prices 9,040 / 8,136 / 7,322.4 are
  // never <= 7,031: nothing is taken). Fund 100,000: -2,500 at the kick and at each redo.
  const std::vector<std::string> base = {"agents.liquidators.tx_cost=2000", "agents.liquidators.capital=100000",
                                         "perp.liquidation.dutch.tip=2500", "perp.liquidation.insurance_fund_start=100000",
                                         "perp.liquidation.dutch.buf=1", "perp.liquidation.dutch.cut=0.9"};
  auto check_schedule = [](const RunResult& r) {
    CHECK(r.liquidations.empty());
    const auto& fund = series(r, "insurance_fund");
    CHECK(fund[10] == doctest::Approx(100000.0));
    CHECK(fund[11] == doctest::Approx(97500.0));
    CHECK(fund[13] == doctest::Approx(97500.0));
    CHECK(fund[14] == doctest::Approx(95000.0));
    CHECK(fund[16] == doctest::Approx(95000.0));
    CHECK(fund[17] == doctest::Approx(92500.0));
    CHECK(fund[19] == doctest::Approx(92500.0));
    CHECK(metric(r, "bad_debt") == 0.0);
  };
  std::vector<std::string> cusp = base;
  cusp.push_back("perp.liquidation.dutch.cusp=0.8");
  check_schedule(run_dutch(-9.6, 1.0, cusp));
  // Tail: a nearly flat linear curve (tau 1e6 s) with tail 2.5 s resets when elapsed = 3 s > 2.5:
  // the same steps 14 and 17.
  std::vector<std::string> tail = base;
  tail.insert(tail.end(), {"perp.liquidation.dutch.curve=linear", "perp.liquidation.dutch.tau_s=1000000",
                           "perp.liquidation.dutch.tail_s=2.5"});
  check_schedule(run_dutch(-9.6, 1.0, tail));
}

TEST_CASE("dutch with no bots: the protocol kicks and resets, nothing is ever taken") {
  // protocol_fallback_steps 0: the protocol kicks at step 11 and redoes the auction (unpaid) every
  // time it reaches the cusp; with no bidder nothing is taken, no money moves.
  RunResult r = run_dutch(-9.6, 1.0, {"agents.liquidators.count=0", "perp.liquidation.protocol_fallback_steps=0",
                                      "perp.liquidation.dutch.cut=0.5", "perp.liquidation.dutch.cusp=0.4"});
  CHECK(r.liquidations.empty());
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(100.0));
  CHECK(metric(r, "bad_debt") == 0.0);
  // protocol_fallback_steps -1 (DeFi style) and no bot: nobody even kicks.
  r = run_dutch(-9.6, 1.0, {"agents.liquidators.count=0"});
  CHECK(r.liquidations.empty());
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(100.0));
}

TEST_CASE("dutch: a take after a reset carries the reset in its policy_path") {
  // Congested bot (reservation 9,031 - 2,000 = 7,031 at the reference 9,040), buf 1, cut 0.9,
  // cusp 0.8: kicked at step 11, reset at step 14 (start 9,040 again), 8,136 at step 15, 7,322.4 at
  // step 16. A second jump of +10% at step 16 moves the reference to 9,944: the perp bids become
  // 9,943/9,933/9,923 (1 BTC resells for 9,935.0) and the reservation 7,935 >= 7,322.4: taken at
  // step 16, mark then clamped at 9,040 x 1.005 = 9,085.2. Cash -9,009 + 7,322.4 = -1,686.6, paid
  // by the fund: 100,000 - 2,500 (kick) - 2,500 (redo) - 1,686.6 = 93,313.4.
  const RunResult r = run_dutch(-9.6, 1.0,
                                {"agents.liquidators.tx_cost=2000", "agents.liquidators.capital=100000",
                                 "perp.liquidation.dutch.tip=2500", "perp.liquidation.insurance_fund_start=100000",
                                 "perp.liquidation.dutch.buf=1", "perp.liquidation.dutch.cut=0.9", "perp.liquidation.dutch.cusp=0.8",
                                 R"(shocks=[{"type": "price_jump", "start_step": 10, "size_pct": -9.6},
                                            {"type": "price_jump", "start_step": 16, "size_pct": 10}])"});
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 16, .policy_path = "dutch>reset>insurance", .price = approx(7322.4, 1e-12),
                  .mark = approx(9085.2, 1e-9), .steps_to_complete = 5});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(93313.4).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}
