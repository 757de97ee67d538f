// The `hierarchy` liquidation policy (sim/liquidation/hierarchy.cpp): internal match -> Dutch
// auction -> backstop -> insurance fund -> ADL, computed by hand.
//
// Two kinds of tests:
//  - policy level (the internal match): a hand-built one-asset world, balances and the mark set by
//    hand, one call of on_step, balances checked to the micro-unit, the book checked untouched;
//  - end to end through run_simulation on ladder books (as tests/test_engine_policy_dutch.cpp and
//    _socialized.cpp): BTC at 10,000, tick 1, lot 0.001, no fees, a constant reference until a jump
//    at step 10; ladders re-centred on the reference every step at 1, 11, 21, ... ticks, 0.4 BTC
//    each; oracle lag 0 over 1 step, mark EMA 1 step clamped to +-50 bps, so from step 11 on
//    index = mark = the new reference. One 10x isolated long entered at step 0 at 10,000 against the
//    passive counterparty ("initial" entry): N BTC -> cash N x 1,000 - N x 10,000, contracts +N.
//    run_simulation checks the ledger's conservation at the end of every run (it throws otherwise).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "scenarios/loader.hpp"
#include "sim/sweep/run_plan.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/sweep/results_writer.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the hand world, its assets and U(), metric(), series()

namespace {

LiquidationConfig hierarchy_cfg() {
  LiquidationConfig c;
  c.policy = "hierarchy";
  c.penalty_bps = 10;
  c.hierarchy.auction_timeout_steps = 0;  // straight from the internal match to the later stages
  return c;
}

}  // namespace

TEST_CASE("hierarchy internal match: equal opposite liquidations are crossed at the mark - both closed - no book trade") {
  // Mark 9,040. Long 1 BTC with cash -9,000: equity 40 < maintenance 0.5% x 9,040 = 45.2: flagged.
  // Short 1 BTC with cash 9,080: equity 9,080 - 9,040 = 40 < 45.2: flagged.
  // Crossed at 9,040: the long receives 9,040 (cash 40), the short pays it (cash 40); both flat.
  // Penalty 10 bps x 9,040 = 9.04 each (below the equity 40), all to the fund: 1,000 + 18.08.
  // The accounts keep 30.96 each, have no deficit, and are closed.
  HandWorld w(1'000);
  const auto [lng, sht] = w.accounts({{"long", -9'000, 1.0}, {"short", 9'080, -1.0}});
  w.perp_bids({{9'030, 500}});
  w.m.assets[0].perp->limit(w.book_maker, Side::Sell, 9'050, 500);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 2);
  auto pol = make_liquidation_policy(hierarchy_cfg());
  CHECK(std::string(pol->name()) == "hierarchy");
  w.run(*pol, 1);
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(sht, kPerp) == 0);
  CHECK(w.bal(lng, kUsd) == U(30.96));
  CHECK(w.bal(sht, kUsd) == U(30.96));
  CHECK(w.fund() == U(1'018.08));
  CHECK(w.me->account(lng).closed);
  CHECK(w.me->account(sht).closed);
  // The book was not touched: no trade, both resting orders intact.
  CHECK(w.m.assets[0].perp->total_trades() == 0);
  CHECK(w.m.assets[0].perp->book().depth_between(Side::Buy, 1, 40'000) == 500);
  CHECK(w.m.assets[0].perp->book().depth_between(Side::Sell, 1, 40'000) == 500);
  REQUIRE(w.events.size() == 2);
  for (const LiquidationEvent& e : w.events) {
    check_event(e, {.policy_path = "hierarchy>internal", .notional = approx(9'040.0), .price = approx(9'040.0),
                    .mark = approx(9'040.0), .slippage_bps = exactly(0.0), .penalty = approx(9.04),
                    .liquidator = -1, .bad_debt = exactly(0.0)});
  }
  CHECK(w.events[0].account == w.me->account(lng).account);
  CHECK(w.events[1].account == w.me->account(sht).account);
  CHECK(pol->step_stats().count == 2);
  CHECK(pol->step_stats().notional == doctest::Approx(18'080.0));
  w.L.check_conservation();
}

TEST_CASE("hierarchy internal match: the remainder of the larger side passes on (here to the fund at the bankruptcy price)") {
  // Long 1.5 BTC with cash -13,500: at 9,040 equity -13,500 + 13,560 = 60 < 67.8: flagged.
  // Short 1 BTC with cash 9,080: equity 40 < 45.2: flagged.
  // Crossed: 1 BTC at 9,040. Long cash -13,500 + 9,040 = -4,460, 0.5 BTC left; penalty 9.04 (its
  // equity then is 60): cash -4,469.04. Short cash 40 - 9.04 = 30.96, flat, closed.
  // No auction (timeout 0) and no backstop provider: the fund absorbs the long's 0.5 BTC at the
  // bankruptcy price: equity E = -4,469.04 + 0.5 x 9,040 = 50.96, p_b = 9,040 - 50.96 / 0.5 = 8,938.08;
  // the fund pays the cash leg 4,469.04 (= 0.5 x p_b): 20,000 + 18.08 - 4,469.04 = 15,549.04.
  HandWorld w(20'000);
  const auto [lng, sht] = w.accounts({{"long", -13'500, 1.5}, {"short", 9'080, -1.0}});
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 2);
  auto pol = w.first_step(make_liquidation_policy(hierarchy_cfg()), 1);
  CHECK(w.bal(sht, kPerp) == 0);
  CHECK(w.bal(sht, kUsd) == U(30.96));
  CHECK(w.bal(lng, kPerp) == 0);
  CHECK(w.bal(lng, kUsd) == 0);
  CHECK(w.me->account(lng).closed);
  CHECK(w.fund() == U(15'549.04));
  CHECK(w.fund(kPerp) == U(0.5));
  CHECK(w.m.assets[0].perp->total_trades() == 0);
  REQUIRE(w.events.size() == 3);
  check_event(w.events[0], {.policy_path = "hierarchy>internal", .notional = approx(9'040.0)});
  CHECK(w.events[1].policy_path == "hierarchy>internal");
  check_event(w.events[2], {.account = w.me->account(lng).account, .policy_path = "hierarchy>insurance",
                            .notional = approx(4'469.04), .price = approx(8'938.08)});
  w.L.check_conservation();

  // Without the internal match both go to the fund: no internal events, the fund holds the net 0.5.
  HandWorld v(20'000);
  v.account("long", -13'500, 1.5);
  v.account("short", 9'080, -1.0);
  v.set_mark(9'040, 1);
  LiquidationConfig off = hierarchy_cfg();
  off.hierarchy.internal_match = false;
  auto pol2 = v.first_step(make_liquidation_policy(off), 1);
  REQUIRE(v.events.size() == 2);
  CHECK(v.events[0].policy_path == "hierarchy>insurance");
  CHECK(v.events[1].policy_path == "hierarchy>insurance");
  CHECK(v.fund(kPerp) == U(0.5));
  // The fund paid the long's cash leg 13,500 and received the short's 9,080 (both accounts end at 0).
  CHECK(v.fund() == U(20'000 - 13'500 + 9'080));
  v.L.check_conservation();
}

TEST_CASE("hierarchy: an account holding only dust below one lot settles as flat and keeps the dust") {
  // 0.0005 BTC (half a lot) and cash -100: at 9,040 equity -100 + 4.52 = -95.48 < 0: flagged.
  // Nothing can be traded: the deficit (quote -100) is paid by the fund's cash (1,000 -> 900), the
  // account is closed with its dust; no event (nothing was liquidated), no bad debt.
  HandWorld w(1'000);
  const std::uint32_t d = w.account("dust", -100, 0.0005);
  w.set_mark(9'040, 1);
  REQUIRE(w.me->flagged().size() == 1);
  LiquidationConfig cfg = hierarchy_cfg();
  cfg.hierarchy.auction_timeout_steps = 10;
  auto pol = w.first_step(make_liquidation_policy(cfg), 1);
  CHECK(w.me->account(d).closed);
  CHECK(w.bal(d, kUsd) == 0);
  CHECK(w.bal(d, kPerp) == U(0.0005));
  CHECK(w.fund() == U(900));
  CHECK(w.events.empty());
  CHECK(pol->step_stats().bad_debt == 0.0);
  w.L.check_conservation();
}

// ------------------------------------------------------------------------------------------------
// End to end
// ------------------------------------------------------------------------------------------------

namespace {

// The ladder world (tests/support/ladder_world.hpp) with positions booked at step 0: one 10x long
// of `long_btc` BTC and `basis_count` 2x basis traders; `bots` bots of capital 20,000; the hand
// Dutch curve; internal match, a 10-step auction timeout, a backstop of 10,000 at 300 bps; fund 20,000.
nlohmann::json e2e_scenario(double long_btc, int basis_count, double jump_pct, int bots, int horizon) {
  nlohmann::json w = sl::test::ladder_world(jump_pct);
  w["name"] = "hand_hierarchy";
  w["horizon_steps"] = horizon;
  auto& agents = w["agents"];
  agents["basis_traders"] = sl::test::initial_basis_traders(basis_count, 2);
  agents["leveraged_traders"]["notional_mean"] = long_btc * 10'000;
  agents["leveraged_traders"]["entry_mode"] = "initial";
  agents["liquidators"]["count"] = bots;
  agents["liquidators"]["capital"] = 20000;
  auto& liq = w["perp"]["liquidation"];
  liq["policy"] = "hierarchy";
  liq["insurance_fund_start"] = 20000;
  liq["dutch"] = sl::test::hand_dutch_curve();
  liq["hierarchy"] = {{"internal_match", true}, {"auction_timeout_steps", 10}, {"backstop", true},
                      {"backstop_discount_bps", 300}, {"backstop_capacity", 10000}};
  return w;
}

// The scenario's own policy; throws if the ledger does not conserve.
RunResult run_hierarchy(const nlohmann::json& w, const std::vector<std::string>& overrides = {}) {
  return sl::test::run_world(w, overrides);
}

}  // namespace

TEST_CASE("hierarchy end to end: the auction stage never sells below the bankruptcy price - it ends there and the backstop takes the account") {
  // -9.6% jump: reference 9,040. Long 1 BTC, cash -9,000: bankruptcy price 9,000. Step 11: equity
  // 40 < 45.2: flagged, no opposite entrant. The bot (latency 0, tx 1) kicks (tip 5 >= tx 1): the
  // fund pays it 5 (20,000 -> 19,995). Start 9,040 x 1.02 = 9,220.8, x 0.99 per step. The bot's
  // values: resale into 9,039 / 9,029 / 9,019 (0.4, 0.4, 0.2 BTC). Prices 9,220.8, 9,128.592,
  // 9,037.306 (above every resale value but 9,039's: 0.4 x (9,039 - 9,037.306) = 0.68 < tx 1, no
  // take), then 8,946.933 at step 14 < 9,000: the stage's floor ends it before any take (until
  // 2026-12-06 the bot took the whole BTC there and the fund paid the 53.07 deficit).
  // Backstop (capacity 10,000 >= 9,040): 3% of 9,040 = 271.2 > the margin 40, so d = 40 / 9,040:
  // it takes 1 BTC at 9,040 - 40 = 9,000 and pays 9,000: the account ends at 0, the fund keeps 19,995.
  const RunResult r = run_hierarchy(e2e_scenario(1.0, 0, -9.6, 1, 20));
  CHECK(r.policy == "hierarchy");
  REQUIRE(r.liquidations.size() == 1);
  check_event(r.liquidations[0], {.step = 14, .policy_path = "hierarchy>backstop", .notional = approx(9'000.0, 1e-9),
                                  .price = approx(9'000.0, 1e-9), .mark = approx(9040.0, 1e-12), .penalty = exactly(0.0),
                                  .liquidator = -1, .steps_to_complete = 3});
  CHECK(9040.0 * 1.02 * std::pow(0.99, 3) < 9000.0);
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[10] == doctest::Approx(20'000.0));
  CHECK(fund[11] == doctest::Approx(19'995.0));
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(19'995.0).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("hierarchy end to end: the auction sells above the bankruptcy price, then ends where the rest's bankruptcy price is passed") {
  // As above with buf 1 and cut 0.999 per step: prices 9,040 (step 11, above every resale value),
  // 9,030.96 (step 12), 9,021.919 (step 13). Step 12: the bot's values >= 9,030.96: the 9,039
  // level only, 0.4 BTC, surplus 0.4 x 8.04 = 3.216 >= tx 1: it takes 0.4 BTC for 3,612.384
  // (>= the bankruptcy price 9,000: allowed). Account: cash -5,387.616 with 0.6 BTC, equity at
  // 9,040 = 36.384; penalty min(1% x 3,612.384 = 36.12384, 36.384) = 36.12384, half (18.06192) to the
  // bot, half to the fund. Equity left 0.26016: the rest's bankruptcy price is 9,040 - 0.26016 /
  // 0.6 = 9,039.5664. Step 13: 9,021.919 < 9,039.5664: the stage ends; the backstop takes the
  // 0.6 BTC keeping only that margin (d = 0.26016 / 5,424, about 0.48 bps): price about 9,039.566.
  // Fund: 20,000 - 5 + 18.06192 = 20,013.06192; no deficit, no bad debt.
  const RunResult r = run_hierarchy(e2e_scenario(1.0, 0, -9.6, 1, 20),
                                    {"perp.liquidation.dutch.buf=1.0", "perp.liquidation.dutch.cut=0.999"});
  REQUIRE(r.liquidations.size() == 2);
  check_event(r.liquidations[0], {.step = 12, .policy_path = "hierarchy>dutch", .notional = approx(3'612.384, 1e-12),
                                  .price = approx(9'030.96, 1e-12), .penalty = approx(36.12384, 1e-9),
                                  .liquidator = 3, .steps_to_complete = 1});
  check_event(r.liquidations[1], {.step = 13, .policy_path = "hierarchy>backstop", .notional = approx(5'424.0 - 0.26016, 1e-8),
                                  .price = approx(9'040.0 - 0.26016 / 0.6, 1e-8), .liquidator = -1});
  CHECK(9040.0 * std::pow(0.999, 2) < 9040.0 - 0.26016 / 0.6);
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(20'013.06192).epsilon(1e-10));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("hierarchy end to end: no bots so the auction expires - the backstop takes what fits its capacity, keeping at most the margin, and the fund the rest") {
  // Long 2 BTC, cash -18,000. Step 11: equity -18,000 + 18,080 = 80 < 90.4: flagged; the protocol
  // kicks (no bot, no incentive). Timeout 3: takes possible at steps 11-13 (no bidder), the auction
  // expires at step 14, where the account passes on (mark 9,040, equity 80).
  // Backstop: capacity 10,000 at mark value, one lot = 0.001 x 9,040 = 9.04: floor(10,000 / 9.04) =
  // 1,106 lots = 1.106 BTC (9,998.24 of capacity). Its 3% discount would be 299.9472 > the account's
  // margin 80: the provider keeps the margin only, d = 80 / 9,998.24 (80.0141 bps): price
  // 9,040 x (1 - d) = 9,040 - 80 / 1.106 = 8,967.667, it pays 9,998.24 - 80 = 9,918.24.
  // Account: cash -8,081.76, 0.894 BTC; equity at mark -8,081.76 + 8,081.76 = 0.
  // Fund: absorbs 0.894 BTC at p_b = 9,040 (no loss), paying 8,081.76: 20,000 -> 11,918.24.
  const RunResult r = run_hierarchy(e2e_scenario(2.0, 0, -9.6, 0, 15), {"perp.liquidation.hierarchy.auction_timeout_steps=3"});
  REQUIRE(r.liquidations.size() == 2);
  const LiquidationEvent& b = r.liquidations[0];
  check_event(b, {.step = 14, .policy_path = "hierarchy>backstop", .notional = approx(9'918.24, 1e-9),
                  .price = approx(9'040.0 - 80.0 / 1.106, 1e-9)});
  CHECK(1.106 * 9'040.0 <= 10'000.0);
  CHECK(1.107 * 9'040.0 > 10'000.0);     // one more lot would not fit
  check_event(b, {.mark = approx(9'040.0, 1e-12), .slippage_bps = approx(1e4 * 80.0 / 9'998.24, 1e-6),
                  .steps_to_complete = 3});
  const LiquidationEvent& f = r.liquidations[1];
  check_event(f, {.step = 14, .policy_path = "hierarchy>insurance", .notional = approx(8'081.76, 1e-9),
                  .price = approx(9'040.0, 1e-9), .bad_debt = exactly(0.0)});
  const auto& fund = series(r, "insurance_fund_cash");
  CHECK(fund[13] == doctest::Approx(20'000.0));
  CHECK(fund[14] == doctest::Approx(11'918.24).epsilon(1e-9));
  // Its equity is unchanged: 11,918.24 + 0.894 x 9,040 = 20,000 (the backstop's takeover cost it nothing).
  CHECK(series(r, "insurance_fund")[14] == doctest::Approx(20'000.0).epsilon(1e-9));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(series(r, "adl_count")[14] == 0.0);

  // With capacity 100,000 the backstop takes both BTC for 18,080 - 80 = 18,000 (3% would be 542.4):
  // the account is flat with cash 0, the fund pays nothing (before #12 it paid the 462.4 the 3%
  // discount took beyond the margin).
  const RunResult all = run_hierarchy(e2e_scenario(2.0, 0, -9.6, 0, 15), {"perp.liquidation.hierarchy.auction_timeout_steps=3",
                                                                          "perp.liquidation.hierarchy.backstop_capacity=100000"});
  REQUIRE(all.liquidations.size() == 1);
  check_event(all.liquidations[0], {.policy_path = "hierarchy>backstop", .notional = approx(18'000.0, 1e-9)});
  CHECK(metric(all, "insurance_fund_end") == doctest::Approx(20'000.0).epsilon(1e-9));

  // Already beyond its bankruptcy price (a -11% jump: equity at step 14 = -18,000 + 17,800 = -200),
  // the account is not the provider's: the fund takes it at p_b = 8,900 + 100 = 9,000.
  const RunResult gap = run_hierarchy(e2e_scenario(2.0, 0, -11.0, 0, 15), {"perp.liquidation.hierarchy.auction_timeout_steps=3"});
  REQUIRE(gap.liquidations.size() == 1);
  check_event(gap.liquidations[0], {.policy_path = "hierarchy>insurance", .price = approx(9'000.0, 1e-9)});
}

TEST_CASE("hierarchy end to end: the fund exhausted - the shortfall is auto-deleveraged against the ranked short at the bankruptcy price") {
  // -11% jump: reference 8,900. Long 2 BTC (cash -18,000): step 11 equity -200, flagged; no bots,
  // the protocol kicks; timeout 2 (takes possible at steps 11-12). Its bankruptcy price is
  // 8,900 + 200 / 2 = 9,000: the stage's price is 1.02 x 8,900 = 9,078 at step 11 and 9,078 x 0.99
  // = 8,987.22 < 9,000 at step 12, so the floor ends the stage at step 12, a step before the
  // timeout would (13 until 2026-12-06). Backstop capacity 0: it takes nothing.
  // Fund: 150 of equity against the loss 200: shortfall 50 -> 2 x 50 / 200 = 0.5 BTC deleveraged at
  // p_b = 8,900 + 200 / 2 = 9,000 against the first of the two basis shorts (1 BTC each, equal
  // scores: the lower id): it buys 0.5 BTC back at 9,000 (pays 4,500). The fund takes 1.5 BTC and
  // pays 13,500 with 150: 13,350 lent by the bad-debt account (its equity after is 0: no bad debt).
  const RunResult r = run_hierarchy(e2e_scenario(2.0, 2, -11.0, 0, 15),
                                    {"perp.liquidation.hierarchy.auction_timeout_steps=2", "perp.liquidation.hierarchy.backstop_capacity=0",
                                     "perp.liquidation.insurance_fund_start=150"});
  REQUIRE(r.liquidations.size() == 3);
  const LiquidationEvent& a = r.liquidations[0];
  check_event(a, {.step = 12, .agent_type = "leveraged_trader", .policy_path = "hierarchy>adl",
                  .notional = approx(18'000.0, 1e-12), .price = approx(9'000.0, 1e-12), .bad_debt = exactly(0.0)});
  const LiquidationEvent& d = r.liquidations[1];
  check_event(d, {.step = 12, .agent_type = "basis_trader", .policy_path = "hierarchy>adl>deleveraged",
                  .notional = approx(4'500.0, 1e-12), .price = approx(9'000.0, 1e-12),
                  .slippage_bps = approx(1e4 * 100.0 / 8'900.0, 1e-9)});
  CHECK(metric(r, "adl_count") == 2.0);  // 1 at step 12, 1 of the fund's inventory at step 13 (below)
  CHECK(series(r, "adl_count")[12] == 1.0);
  CHECK(series(r, "insurance_fund_cash")[12] == 0.0);
  CHECK(series(r, "insurance_fund")[12] == doctest::Approx(0.0).epsilon(1e-9));  // 0 - 13,350 + 1.5 x 8,900
  CHECK(series(r, "fund_borrowed")[12] == doctest::Approx(13'350.0).epsilon(1e-12));
  CHECK(metric(r, "adl_queue_empty_events") == 0.0);  // the ADL stage ran and covered the shortfall
  // The deleveraged basis trader is not a liquidation: only the absorbed long's 18,000 counts.
  CHECK(metric(r, "liquidations") == 1.0);
  CHECK(metric(r, "liquidated_notional") == doctest::Approx(18'000.0).epsilon(1e-12));
  CHECK(metric(r, "basis_traders_liquidated") == 0.0);
  CHECK(series(r, "bad_debt_cum")[12] == 0.0);          // ... so the absorption left no bad debt
  CHECK(metric(r, "fund_exhausted_step") == 12.0);
  CHECK(series(r, "insurance_fund_exhausted")[11] == 0.0);
  CHECK(series(r, "insurance_fund_exhausted")[12] == 1.0);
  // Step 13: the fund (equity 0, its floor: fund_borrow_limit 0) unwinds the best two bid levels,
  // 0.4 @ 8,899 + 0.4 @ 8,889 = 7,115.2 for what is worth 0.8 x 8,900 = 7,120 at mark: its equity
  // is -4.8, below its floor: shortfall 4.8, socialized by the fund's ADL (FundAbsorber::floor): its
  // last 0.7 BTC go at its bankruptcy price 8,900 + 4.8 / 0.7 = 8,906.857... to the top-ranked short,
  // the second basis trader (1 BTC short against the first's 0.5 left, same pnl%, about the same
  // equity): 0.7 x 8,906.857... = 6,234.8, which repays the loan (13,350 - 7,115.2 = 6,234.8): the
  // fund is flat at equity 0. No bad debt (before the floor socialized: 4.8, then 3.7 at step 14).
  const LiquidationEvent& f = r.liquidations[2];
  check_event(f, {.step = 13, .agent_type = "basis_trader", .policy_path = "hierarchy>fund_adl>deleveraged",
                  .notional = approx(6'234.8, 1e-12), .price = approx(8'900.0 + 4.8 / 0.7, 1e-12)});
  CHECK(f.account != d.account);
  CHECK(series(r, "bad_debt_cum")[13] == 0.0);
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "fund_floor_socialized") == doctest::Approx(4.8).epsilon(1e-9));
  CHECK(series(r, "fund_borrowed")[13] == 0.0);
  CHECK(series(r, "insurance_fund")[13] == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(series(r, "insurance_fund")[14] == doctest::Approx(0.0).epsilon(1e-9));

  // loss_rule haircut: the shortfall 50 is taken from the two winners pro rata to profit (equal:
  // 25 each); the fund (150 + 50 = 200) takes the 2 BTC and pays 18,000 at step 12: 17,800 lent.
  // No ADL. It unwinds 0.8 BTC at steps 13 and 14, 4.8 below its floor each (as above): the floor
  // socializes both by the haircut rule (2.4 from each winner, equal profits): 9.6, no bad debt.
  const RunResult h = run_hierarchy(e2e_scenario(2.0, 2, -11.0, 0, 15),
                                    {"perp.liquidation.hierarchy.auction_timeout_steps=2", "perp.liquidation.hierarchy.backstop_capacity=0",
                                     "perp.liquidation.insurance_fund_start=150", "perp.liquidation.socialized.loss_rule=haircut"});
  REQUIRE(h.liquidations.size() == 1);
  check_event(h.liquidations[0], {.step = 12, .policy_path = "hierarchy>haircut"});
  CHECK(metric(h, "adl_count") == 0.0);
  CHECK(series(h, "fund_borrowed")[12] == doctest::Approx(17'800.0).epsilon(1e-12));
  CHECK(series(h, "insurance_fund_cash")[12] == 0.0);
  CHECK(series(h, "insurance_fund")[12] == doctest::Approx(0.0).epsilon(1e-9));  // 0 - 17,800 + 2 x 8,900
  // Step 13 repays 7,120 of the loan: the unwinding's 7,115.2 and the winners' 4.8.
  CHECK(series(h, "fund_borrowed")[13] == doctest::Approx(17'800.0 - 7'120.0).epsilon(1e-12));
  CHECK(metric(h, "bad_debt") == 0.0);
  CHECK(metric(h, "fund_floor_socialized") == doctest::Approx(9.6).epsilon(1e-9));
}

TEST_CASE("hierarchy on crash and short squeeze: runs and conserves - every policy_path fits the results file - reproducible") {
  // Not hand-computed: a robustness check on realistic books. run_simulation throws if any asset's
  // ledger sum is not exactly zero. The same seed run twice gives the same events and summary.
  for (const std::string file : {"crash.json", "short_squeeze.json"}) {
    for (std::uint64_t seed : {1, 2}) {
      CAPTURE(file);
      CAPTURE(seed);
      const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/" + file, {});
      RunOptions o;
      o.seed = seed;
      o.policy = "hierarchy";
      RunResult r;
      REQUIRE_NOTHROW(r = run_simulation(sc, o));
      CHECK(r.policy == "hierarchy");
      CHECK(metric(r, "conservation_ok") == 1.0);
      CHECK_FALSE(r.liquidations.empty());
      int stages = 0;
      for (const LiquidationEvent& e : r.liquidations) {
        CHECK(e.policy_path.size() < kPolicyPathWidth);
        const bool ours = e.policy_path.rfind("hierarchy>", 0) == 0 || e.policy_path == "proactive";
        CHECK(ours);
        if (e.policy_path.rfind("hierarchy>dutch", 0) == 0) stages |= 1;
        if (e.policy_path.rfind("hierarchy>internal", 0) == 0) stages |= 2;
        if (e.policy_path.rfind("hierarchy>backstop", 0) == 0) stages |= 4;
        if (e.policy_path.rfind("hierarchy>insurance", 0) == 0) stages |= 8;
      }
      MESSAGE(file << " seed " << seed << ": events " << r.liquidations.size() << ", stages mask " << stages << ", bad debt "
                   << metric(r, "bad_debt") << ", fund end " << metric(r, "insurance_fund_end"));
      const RunResult again = run_simulation(sc, o);
      REQUIRE(again.liquidations.size() == r.liquidations.size());
      for (std::size_t k = 0; k < r.liquidations.size(); ++k) {
        check_event(again.liquidations[k], {.policy_path = r.liquidations[k].policy_path,
                                            .notional = exactly(r.liquidations[k].notional)});
      }
      CHECK(metric(again, "insurance_fund_end") == metric(r, "insurance_fund_end"));
    }
  }
}

TEST_CASE("hierarchy is a scenario policy and its fields are validated") {
  const std::string text = e2e_scenario(1.0, 0, -9.6, 0, 15).dump();
  CHECK_NOTHROW(load_scenario_text(text, "h.json", {}));
  CHECK_THROWS(load_scenario_text(text, "h.json", {"perp.liquidation.hierarchy.auction_timeout_steps=-1"}));
  CHECK_THROWS(load_scenario_text(text, "h.json", {"perp.liquidation.hierarchy.backstop_discount_bps=20000"}));
  CHECK_THROWS(load_scenario_text(text, "h.json", {"perp.liquidation.hierarchy.internal_match=3"}));
  bool listed = false;
  for (const std::string& p : implemented_policies()) listed |= p == "hierarchy";
  CHECK(listed);
}

// The plan-time check (sim/sweep/run_plan.hpp check_auction_reaches_index): an auction stage that
// cannot reach the index before it ends is bad input, not a silent 10-minute wait. Hand computation
// for black_thursday_2020's configuration before 2026-12-06 (the DutchConfig defaults: buf 1.3,
// stairstep cut 0.99 every 90 s; dt_s 10; timeout 60 steps): the stage's last step is 59 x 10 =
// 590 s after the kick: floor(590 / 90) = 6 cuts: 1.3 x 0.99^6 = 1.2238 > 1. The price reaches the
// index after n cuts with 1.3 x 0.99^n <= 1: n >= ln(1.3) / -ln(0.99) = 26.1, so 27 cuts = 2,430 s
// = step 243 after the kick, i.e. a timeout of at least 244 steps.
TEST_CASE("hierarchy: a plan whose auction stage cannot reach the index is rejected, naming the timeout that works") {
  sl::ScenarioConfig sc;
  sc.dt_s = 10;
  sc.source_file = "bt.json";
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 60;
  std::string msg;
  try {
    sl::check_auction_reaches_index(sc, "hierarchy", "bt.json");
  } catch (const sl::SweepError& e) {
    msg = e.what();
  }
  CHECK(msg.find("bt.json: perp.liquidation.hierarchy.auction_timeout_steps 60 (600 s at dt_s 10)") != std::string::npos);
  CHECK(msg.find("still 1.224 x the index") != std::string::npos);
  CHECK(msg.find("at least 244 steps") != std::string::npos);
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 243;
  CHECK_THROWS_AS(sl::check_auction_reaches_index(sc, "hierarchy", "bt.json"), sl::SweepError);
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 244;
  CHECK_NOTHROW(sl::check_auction_reaches_index(sc, "hierarchy", "bt.json"));
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 0;  // no auction stage
  CHECK_NOTHROW(sl::check_auction_reaches_index(sc, "hierarchy", "bt.json"));
  // The same defaults under `dutch` reach the index (at 2,430 s) before the reset (tail_s 8,400,
  // cusp 0.4: 1.3 x 0.99^n < 0.4 only from n = 118): accepted, as is every policy without an auction.
  CHECK_NOTHROW(sl::check_auction_reaches_index(sc, "dutch", "bt.json"));
  CHECK_NOTHROW(sl::check_auction_reaches_index(sc, "market", "bt.json"));
  // The curated curve (buf 1.02, cut 0.998 every 1 s): 1.02 x 0.998^10 = 0.99984 at the first
  // step after the kick (10 s): a timeout of 2 steps is enough, 1 is not (only t = 0: 1.02).
  sc.perp.liquidation.dutch.buf = 1.02;
  sc.perp.liquidation.dutch.step_s = 1;
  sc.perp.liquidation.dutch.cut = 0.998;
  sc.perp.liquidation.dutch.tail_s = 600;
  sc.perp.liquidation.dutch.cusp = 0.7;
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 2;
  CHECK_NOTHROW(sl::check_auction_reaches_index(sc, "hierarchy", "bt.json"));
  sc.perp.liquidation.hierarchy.auction_timeout_steps = 1;
  CHECK_THROWS_AS(sl::check_auction_reaches_index(sc, "hierarchy", "bt.json"), sl::SweepError);
  // `dutch` whose reset comes first: with cusp 0.99 the first step after the kick (10 s, factor
  // 0.998^10 = 0.98018 < 0.99) already resets it; the only price it runs at is 1.02 x the index.
  sc.perp.liquidation.dutch.cusp = 0.99;
  CHECK_THROWS_AS(sl::check_auction_reaches_index(sc, "dutch", "bt.json"), sl::SweepError);
}
