// The `delta_neutral` liquidation policy, computed by hand (sim/liquidation/delta_neutral.cpp).
//
// Market (run_simulation tests): BTC at 10,000 USDT, tick 1, lot 0.001, no fees, constant reference
// until a +30% jump at step 10. Ladders on spot and perp re-centre on the reference every step:
// levels 1, 11, 21, 31, 41 ticks from the centre, `size` BTC each. Oracle: median over 1 step, lag 0
// (index at step t = spot mid at the end of step t-1); mark: EMA over 1 step, clamp 5,000 bps.
// Spot collateral haircut 90%.
//
// One basis trader, entry_mode "initial", notional 10,000, leverage 10, spot_collateral_share 1:
// its margin account holds quote 1,000 (margin) + 10,000 (perp sale proceeds) = 11,000, spot +1 BTC,
// contracts -1 BTC. Equity = 11,000 + 0.1 x index - mark: 2,000 before the jump, healthy.
// Step 10: reference 13,000; the ladders re-centre; index still 10,000; perp mid 13,000, premium
// 3,000 < clamp 5,000, so mark = 13,000: equity = 11,000 + 1,000 - 13,000 = -1,000 < maintenance
// 0.5% x 13,000 = 65: flagged at step 10 (a margin call the haircut makes, on a trade that is
// solvent at market prices: the story of the seeds). One liquidator bot (agent 3: ladders 0, 1,
// basis trader 2) with latency 0 acts at once.
//
// Pinned to V1 (perp.liquidation.market_order "market", unlimited orders) except the last test:
// these hand computations buy the perp leg back at 13,001+ from an account at equity -1,000, whose
// bankruptcy price for that leg is 13,000 - (-1,000) / (-1) = 12,000. Under the default IOC at the
// bankruptcy price that leg fills nothing and the insurance fund takes the account over; the last
// test case checks that path by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "agents/backstop_provider.hpp"
#include "scenarios/loader.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/market/market.hpp"
#include "sim/run/simulation.hpp"
#include "agents/liquidator_bot.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)

namespace {

// The ladder world (tests/support/ladder_world.hpp) turned into a squeeze: +30% at step 10, the mark
// clamp at 5,000 bps, `basis_count` 10x basis traders booked at step 0 with their whole spot leg in
// the margin account (haircut 0.9), no leveraged trader; ladder levels of `size_per_level` BTC
// (spot: `spot_size_per_level` when given).
std::string scenario(double size_per_level, int basis_count = 1, double spot_size_per_level = -1) {
  nlohmann::json w = sl::test::ladder_world(30);
  w["name"] = "hand_delta_neutral";
  w["assets"][0]["collateral_haircut"] = 0.9;
  auto& agents = w["agents"];
  agents["ladders"] = {sl::test::ladder("spot", spot_size_per_level > 0 ? spot_size_per_level : size_per_level),
                       sl::test::ladder("perp", size_per_level)};
  agents["basis_traders"] = sl::test::initial_basis_traders(basis_count, 10);
  agents["basis_traders"]["spot_collateral_share"] = 1;
  agents["basis_traders"]["entry_basis_annual"] = -1;
  agents["leveraged_traders"] = {{"count", 0}};
  w["perp"]["mark"]["clamp_bps"] = 5000;
  return w.dump(2);
}

// Perp legs buy back above 13,000 (asks 13,001+), spot legs sell below it (bids 12,999-).
bool is_perp_leg(const LiquidationEvent& e) { return e.price > 13000.0; }

}  // namespace

TEST_CASE("delta_neutral atomic: both legs in the liquidation step, net delta within the band") {
  // Hedged stage: S = P = 1, n0 = 0, band 0.05 x 2 = 0.1; spot depth 2 BTC, so perp = min(1, 1, 1 + 0.1) = 1.
  // Perp: buy 1 BTC from asks 13,001 / 13,011 / 13,021 (0.4 each):
  //   5,200.4 + 5,204.4 + 0.2 x 13,021 = 2,604.2 -> 13,009.0; slippage (13,009 - 13,000) / 13,000.
  // Spot: re-hedge to net 0: sell 1 BTC into bids 12,999 / 12,989 / 12,979:
  //   5,199.6 + 5,195.6 + 2,595.8 = 12,991.0; its mark is the (lagging) index 10,000.
  // Cash: 11,000 - 13,009 + 12,991 = 10,982 = equity (no positions). Penalty 1% x 13,009 = 130.09
  // (< equity): 65.045 to the bot, 65.045 to the insurance fund (100 -> 165.045). No deficit.
  const ScenarioConfig sc = load_scenario_text(scenario(0.4), "hand.json", {"perp.liquidation.delta_neutral.mode=atomic", "perp.liquidation.market_order=market"});
  RunOptions o;
  o.seed = 1;
  o.policy = "delta_neutral";
  const RunResult r = run_simulation(sc, o);  // checks conservation
  CHECK(r.policy == "delta_neutral");
  REQUIRE(r.liquidations.size() == 2);
  const LiquidationEvent& p = r.liquidations[0];
  const LiquidationEvent& s = r.liquidations[1];
  CHECK(p.step == 10);
  CHECK(s.step == 10);
  CHECK(p.policy_path == "delta_neutral>atomic");
  CHECK(s.policy_path == "delta_neutral>atomic");
  check_event(p, {.agent_type = "basis_trader", .notional = approx(13009.0, 1e-12), .price = approx(13009.0, 1e-12),
                  .mark = approx(13000.0, 1e-9), .slippage_bps = approx(1e4 * 9.0 / 13000.0, 1e-9),
                  .penalty = approx(130.09, 1e-12), .liquidator = 3});
  check_event(s, {.notional = approx(12991.0, 1e-12), .price = approx(12991.0, 1e-12),
                  .mark = approx(10000.0, 1e-9), .slippage_bps = approx(1e4 * (10000.0 - 12991.0) / 10000.0, 1e-9),
                  .penalty = exactly(0.0), .bad_debt = exactly(0.0)});
  // Net delta after the stage: +1 spot - 1 sold, -1 contracts + 1 bought = 0 <= 0.1.
  const double perp_qty = p.notional / p.price, spot_qty = s.notional / s.price;
  CHECK(std::abs((1.0 - spot_qty) + (-1.0 + perp_qty)) <= 0.05 * 2.0);
  CHECK(perp_qty == doctest::Approx(1.0));
  CHECK(spot_qty == doctest::Approx(1.0));
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(165.045).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "penalties_paid") == doctest::Approx(130.09).epsilon(1e-12));
}

TEST_CASE("delta_neutral staged: slices sized to the depth within 1%, re-hedged, band kept after every stage") {
  // Ladders of 0.1 BTC per level: each side shows 0.5 BTC, all within 1% of the mid (130 ticks).
  // Slice = 0.5 x min(0.5, 0.5) = 0.25 BTC; the ladders refill every step, so each step is one stage:
  //   perp buy 0.25: 0.1 x 13,001 + 0.1 x 13,011 + 0.05 x 13,021 = 1,300.1 + 1,301.1 + 651.05 = 3,252.25
  //   spot sell 0.25: 0.1 x 12,999 + 0.1 x 12,989 + 0.05 x 12,979 = 1,299.9 + 1,298.9 + 648.95 = 3,247.75
  //   penalty 1% x 3,252.25 = 32.5225 (equity stays far above it).
  // Steps 10, 11, 12, 13; the account stays in liquidation even when no longer flagged (from step
  // 11 the index is the spot mid again and the haircut no longer makes it liquidatable).
  const ScenarioConfig sc = load_scenario_text(scenario(0.1), "hand.json", {"perp.liquidation.delta_neutral.mode=staged",
                                                                            "perp.liquidation.delta_neutral.slice_depth_share=0.5",
                                                                            "perp.liquidation.market_order=market"});
  RunOptions o;
  o.seed = 1;
  o.policy = "delta_neutral";
  const RunResult r = run_simulation(sc, o);
  REQUIRE(r.liquidations.size() == 8);
  double spot = 1.0, perp = -1.0;
  for (std::size_t k = 0; k < 4; ++k) {
    const LiquidationEvent& p = r.liquidations[2 * k];
    const LiquidationEvent& s = r.liquidations[2 * k + 1];
    CAPTURE(k);
    CHECK(p.step == 10 + static_cast<std::int64_t>(k));
    CHECK(s.step == p.step);
    CHECK(p.policy_path == "delta_neutral>staged");
    CHECK(s.policy_path == "delta_neutral>staged");
    CHECK(is_perp_leg(p));
    CHECK_FALSE(is_perp_leg(s));
    CHECK(p.notional == doctest::Approx(3252.25).epsilon(1e-12));
    CHECK(s.notional == doctest::Approx(3247.75).epsilon(1e-12));
    check_event(p, {.penalty = approx(32.5225, 1e-12), .liquidator = 3,
                    .steps_to_complete = static_cast<std::int32_t>(k)});
    const double gross_before = std::abs(spot) + std::abs(perp);
    perp += p.notional / p.price;
    spot -= s.notional / s.price;
    CHECK(std::abs(spot + perp) <= 0.05 * gross_before + 1e-12);  // the band after every stage
  }
  CHECK(std::abs(spot) < 1e-9);
  CHECK(std::abs(perp) < 1e-9);
  CHECK(metric(r, "penalties_paid") == doctest::Approx(4 * 32.5225).epsilon(1e-12));
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(100.0 + 2 * 32.5225).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("delta_neutral atomic: a thin spot book limits the perp leg to what keeps the band") {
  // Spot ladder 0.05 BTC per level (0.25 BTC of bids in all), perp 0.1. S = P = 1, n0 = 0, band
  // B = 0.05 x 2 = 0.1; S_max = min(1, 0.25) = 0.25, so perp = min(1, 1, 0.25 - 0 + 0.1) = 0.35.
  // Perp: buy 0.35 = 0.1 x (13,001 + 13,011 + 13,021) + 0.05 x 13,031 = 3,903.3 + 651.55 = 4,554.85.
  // Spot: re-hedge min(0 + 0.35, 0.25) = 0.25 = 0.05 x (12,999 + 12,989 + 12,979 + 12,969 + 12,959)
  //   = 3,244.75. Net delta after: (1 - 0.25) + (-1 + 0.35) = +0.1 <= 0.1 (the band binds).
  // Penalty 1% x 4,554.85 = 45.5485. Step 11: index = the swept spot book's mid (no bids: min(best
  // ask 13,001, last trade 12,959) = 12,959), mark 13,000; equity = 11,000 - 4,554.85 + 3,244.75
  // - 45.5485 + 0.75 x 12,959 x 0.1 - 0.65 x 13,000 = 2,166.27 > maintenance 42.25: no further stage.
  const ScenarioConfig sc = load_scenario_text(scenario(0.1, 1, 0.05), "hand.json", {"perp.liquidation.delta_neutral.mode=atomic", "perp.liquidation.market_order=market"});
  RunOptions o;
  o.policy = "delta_neutral";
  const RunResult r = run_simulation(sc, o);
  REQUIRE(r.liquidations.size() == 2);
  const LiquidationEvent& p = r.liquidations[0];
  const LiquidationEvent& s = r.liquidations[1];
  check_event(p, {.step = 10, .notional = approx(4554.85, 1e-12)});
  CHECK(p.notional / p.price == doctest::Approx(0.35).epsilon(1e-12));
  CHECK(p.penalty == doctest::Approx(45.5485).epsilon(1e-12));
  CHECK(s.notional == doctest::Approx(3244.75).epsilon(1e-12));
  CHECK(s.notional / s.price == doctest::Approx(0.25).epsilon(1e-12));
  const double net = (1.0 - s.notional / s.price) + (-1.0 + p.notional / p.price);
  CHECK(net == doctest::Approx(0.1).epsilon(1e-9));
  CHECK(net <= 0.05 * 2.0 + 1e-9);
  CHECK(metric(r, "bad_debt") == 0.0);
}

// ---- backstop: a LiquidationContext built by hand (no kernel wiring needed) -------------------------

namespace {

// BTC, tick 1, lot 0.001, no fees; one maker resting perp asks 0.4 at 13,001 / 13,011 / 13,021 and
// spot bids 0.4 at 9,999 / 9,989 / 9,979. Index 10,000, mark 13,000, haircut 0.9.
struct Rig : sl::test::HandLedger, sl::test::PolicyParts {
  MarginEngine margin{pc, m};
  AccountId maker = 0, cp = 0, bp_acc = 0;

  Rig() : PolicyParts(99) {
    ReferenceConfig rc;
    AssetMarket am{"BTC", 1, 2, ReferenceProcess(rc, 10000.0, 1.0, make_rng(1, 0, 1))};
    am.collateral_haircut = 0.9;
    am.initial_price = 10000.0;
    sl::test::add_hand_venues(m, L, am, 100'000);
    am.index_price = 10000.0;
    am.mark_price = 13000.0;
    m.assets.push_back(std::move(am));
    m.margin = &margin;
    sys = sl::test::open_system_accounts(L, to_fixed(100.0, 1e6), "protocol_liquidator");
    cp = L.open_account("counterparty", true);
    maker = L.open_account("maker");
    L.mint(maker, 0, to_fixed(1e7, 1e6));
    for (int k = 0; k < 3; ++k) {
      m.assets[0].perp->limit(maker, Side::Sell, 13001 + 10 * k, 400);
      m.assets[0].spot->limit(maker, Side::Buy, 9999 - 10 * k, 400);
    }
    bp_acc = L.open_account("backstop");
    L.mint(bp_acc, 0, to_fixed(30000.0, 1e6));
  }

  // The basis account: quote 11,000, spot +1, contracts -1 (equity 11,000 + 1,000 - 13,000 = -1,000).
  std::uint32_t hedged_account(const std::string& name) {
    const AccountId a = L.open_account(name, true);
    L.mint(a, 0, to_fixed(11000.0, 1e6));
    L.mint(a, 1, to_fixed(1.0, 1e6));
    L.transfer(a, cp, 2, to_fixed(1.0, 1e6));
    kinds.push_back(static_cast<std::int32_t>(AgentKind::BasisTrader));
    return margin.add_account(a, static_cast<std::int32_t>(kinds.size() - 1), AgentKind::BasisTrader, MarginMode::Cross);
  }
};

}  // namespace

TEST_CASE("delta_neutral backstop: capacity for one portfolio, the second falls back to atomic") {
  // Each portfolio: spot 1 x index 10,000, contracts -1 x mark 13,000; gross value 23,000.
  // Discount 300 bps: spot leg at 10,000 x 0.97 = 9,700, perp leg taken over at 13,000 x 1.03 =
  // 13,390; the provider pays 9,700 - 13,390 = -3,690 (value -3,000 less 3% of the gross 23,000):
  // the account pays it 3,690 and keeps 11,000 - 3,690 = 7,310; no deficit; closed.
  // The two accounts are identical (a tie in margin ratio): the seeded tie order decides which is
  // served first. Capacity 30,000: the first takes 23,000, 7,000 remain < 23,000: the second goes atomic
  // (no bots; protocol fallback after 0 steps): perp buy 1 = 13,009 (as above), spot sell 1 into
  // 9,999 / 9,989 / 9,979: 3,999.6 + 3,995.6 + 1,995.8 = 9,991; cash 11,000 - 13,009 + 9,991 =
  // 7,982; penalty 130.09, all to the insurance fund (the protocol liquidates).
  Rig g;
  const std::uint32_t a = g.hedged_account("basis:a");
  const std::uint32_t b = g.hedged_account("basis:b");
  LiquidationConfig cfg;
  cfg.policy = "delta_neutral";
  cfg.delta_neutral.mode = "backstop";
  cfg.delta_neutral.backstop_discount_bps = 300;
  cfg.delta_neutral.backstop_capacity = 30000;
  cfg.protocol_fallback_steps = 0;
  cfg.market_order = "market";  // the atomic fallback's numbers below follow V1's unlimited perp order
  BackstopProvider bp(cfg.delta_neutral.backstop_capacity, g.bp_acc);
  auto policy = make_liquidation_policy(cfg);
  CHECK(std::string(policy->name()) == "delta_neutral");
  LiquidationContext ctx = g.context(g.m, g.margin, 10);
  ctx.backstop = &bp;
  g.margin.mark_all(10);
  REQUIRE(g.margin.flagged().size() == 2);
  CHECK(g.margin.account(a).equity == doctest::Approx(-1000.0));
  CHECK(g.margin.account(b).equity == doctest::Approx(-1000.0));
  const std::uint32_t first = g.margin.flagged()[0], second = g.margin.flagged()[1];
  CHECK(((first == a && second == b) || (first == b && second == a)));
  policy->on_step(ctx);

  const AccountId acc_a = g.margin.account(first).account, acc_b = g.margin.account(second).account;
  CHECK(g.margin.account(a).closed);
  CHECK(g.margin.account(b).closed);
  // Provider: paid -3,690 (received 3,690), holds the portfolio, capacity 7,000 left.
  CHECK(g.L.balance(g.bp_acc, 0) == to_fixed(30000.0 + 3690.0, 1e6));
  CHECK(g.L.balance(g.bp_acc, 1) == to_fixed(1.0, 1e6));
  CHECK(g.L.balance(g.bp_acc, 2) == -to_fixed(1.0, 1e6));
  CHECK(bp.remaining_capacity() == doctest::Approx(7000.0));
  CHECK(bp.wants_to_act(11));
  CHECK(g.L.balance(acc_a, 0) == to_fixed(7310.0, 1e6));
  CHECK(g.L.balance(acc_a, 1) == 0);
  CHECK(g.L.balance(acc_a, 2) == 0);
  // The fallback account went through the books.
  CHECK(g.L.balance(acc_b, 0) == to_fixed(7982.0 - 130.09, 1e6));
  CHECK(g.L.balance(acc_b, 1) == 0);
  CHECK(g.L.balance(acc_b, 2) == 0);
  CHECK(g.L.balance(g.sys.insurance_fund, 0) == to_fixed(100.0 + 130.09, 1e6));

  REQUIRE(g.events.size() == 4);
  check_event(g.events[0], {.account = acc_a, .policy_path = "delta_neutral>backstop", .notional = approx(9700.0),
                            .price = approx(9700.0), .slippage_bps = approx(300.0), .liquidator = -1});
  check_event(g.events[1], {.policy_path = "delta_neutral>backstop", .price = approx(13390.0),
                            .slippage_bps = approx(300.0), .penalty = exactly(0.0)});
  check_event(g.events[2], {.account = acc_b, .policy_path = "delta_neutral>atomic",
                            .notional = approx(13009.0, 1e-12), .penalty = approx(130.09, 1e-12), .liquidator = -1});
  check_event(g.events[3], {.policy_path = "delta_neutral>atomic", .notional = approx(9991.0, 1e-12)});
  CHECK(policy->step_stats().count == 4);

  // The provider unwinds a hedged pair in pairs, only at a non-negative basis after fees
  // (plan_pair_unwind, agents/inventory_unwind.hpp). It holds spot +1 and contracts -1: no excess;
  // what is left after the atomic fallback is 0.2 BTC of spot bids at 9,979 and 0.2 BTC of perp asks
  // at 13,021, and buying the perp back at 13,021 against spot sold at 9,979 would pay the 3,042
  // premium: nothing trades, the provider keeps its hedged pair (net delta 0) and waits. (Before the
  // pair rule it sold 0.2 spot and bought back 0.2 perp here, each venue on its own.)
  bp.act(g.m);
  CHECK(g.L.balance(g.bp_acc, 1) == to_fixed(1.0, 1e6));
  CHECK(g.L.balance(g.bp_acc, 2) == -to_fixed(1.0, 1e6));
  CHECK(bp.wants_to_act(12));
  g.L.check_conservation();
}

TEST_CASE("delta_neutral backstop without a provider falls back to atomic") {
  Rig g;
  const std::uint32_t a = g.hedged_account("basis:a");
  LiquidationConfig cfg;
  cfg.delta_neutral.mode = "backstop";
  cfg.protocol_fallback_steps = 0;
  cfg.market_order = "market";  // V1: the perp leg buys at 13,001+ although the account is past bankruptcy
  auto policy = make_delta_neutral_policy(cfg);
  LiquidationContext ctx = g.context(g.m, g.margin, 10);
  g.margin.mark_all(10);
  policy->on_step(ctx);
  CHECK(g.margin.account(a).closed);
  REQUIRE(g.events.size() == 2);
  CHECK(g.events[0].policy_path == "delta_neutral>atomic");
  g.L.check_conservation();
}

TEST_CASE("delta_neutral: unknown mode is rejected") {
  LiquidationConfig cfg;
  cfg.delta_neutral.mode = "sideways";
  CHECK_THROWS_AS(make_delta_neutral_policy(cfg), std::invalid_argument);
}

// Through the kernel (a BackstopProvider funded with backstop_capacity, in the activation list
// and in LiquidationContext::backstop when mode == "backstop"). Two identical basis traders (agents 2 and 3, bot 4), capacity 30,000:
// the first is taken at step 10 (gross 10,000 + 13,000 = 23,000; the account pays 3,690), the
// second (7,000 left) falls back to atomic through the ladders.
TEST_CASE("delta_neutral backstop through run_simulation") {
  const ScenarioConfig sc = load_scenario_text(scenario(0.4, 2), "hand.json",
                                               {"perp.liquidation.delta_neutral.mode=backstop",
                                                "perp.liquidation.delta_neutral.backstop_capacity=30000",
                                                "perp.liquidation.delta_neutral.backstop_discount_bps=300",
                                                "perp.liquidation.market_order=market"});
  RunOptions o;
  o.policy = "delta_neutral";
  const RunResult r = run_simulation(sc, o);  // conservation checked
  REQUIRE(r.liquidations.size() == 4);
  check_event(r.liquidations[0], {.policy_path = "delta_neutral>backstop", .price = approx(9700.0)});
  check_event(r.liquidations[1], {.policy_path = "delta_neutral>backstop", .price = approx(13390.0)});
  check_event(r.liquidations[2], {.policy_path = "delta_neutral>atomic", .notional = approx(13009.0, 1e-12)});
  check_event(r.liquidations[3], {.policy_path = "delta_neutral>atomic", .notional = approx(12991.0, 1e-12)});
  CHECK(r.liquidations[2].liquidator == 4);
}

TEST_CASE("delta_neutral atomic under the IOC at the bankruptcy price: the perp leg stops at p_b, the fund takes the rest") {
  // The Rig (asks 0.4 at 13,001 / 13,011 / 13,021; spot bids 0.4 at 9,999 / 9,989 / 9,979; index
  // 10,000, mark 13,000) with haircut 0, so spot counts at the index. Account: quote 3,013, spot +1,
  // contracts -1. Equity E0 = 3,013 + 10,000 - 13,000 = 13 < maintenance 0.5% x 13,000 = 65: flagged.
  // Penalty 0 here, so that the bankruptcy prices below are the account's alone.
  // Bankruptcy price of the perp leg: p_b = mark - E / c = 13,000 - 13 / (-1) = 13,013: buy limit tick 13,013.
  // Stage (atomic): S = P = 1, n0 = 0, band floor(0.05 x 2) = 0.1, spot cap = all bids 1.2 -> S_max = 1,
  //   perp = min(1, 1, 1 - 0 + 0.1) = 1 BTC.
  //   IOC buy 1 at <= 13,013: 0.4 x 13,001 + 0.4 x 13,011 = 5,200.4 + 5,204.4 = 10,404.8 for 0.8 BTC
  //   (avg 13,006); 0.2 unfilled (next ask 13,021 > 13,013).
  //   Spot re-hedges what the perp filled: sell 0 + 0.8 = 0.4 x 9,999 + 0.4 x 9,989 = 7,995.2 (avg 9,994).
  //   Net delta after: (1 - 0.8) + (-1 + 0.8) = 0 <= 0.1.
  // After the stage: quote 3,013 - 10,404.8 + 7,995.2 = 603.4, spot 0.2, contracts -0.2;
  //   E = 603.4 + 0.2 x 10,000 - 0.2 x 13,000 = 3.4 (= 13 - 0.8 x 6 - 0.8 x 6);
  //   p_b = 13,000 + 3.4 / 0.2 = 13,017 < best ask 13,021: an IOC would fill nothing: at bankruptcy.
  // Fund takeover (FundAbsorber::absorb): contracts -0.2 at p_b 13,017 (event notional 0.2 x 13,017
  //   = 2,603.4), spot 0.2, the quote 603.4; loss 0, no ADL, no bad debt. Account flat, all balances 0.
  //   Fund: quote 100 + 603.4 = 703.4, spot 0.2, contracts -0.2; its equity at index / mark
  //   703.4 + 2,000 - 2,600 = 103.4 = 100 + the account's remaining 3.4.
  // (V1, market_order "market", would have bought all 1 BTC up to 13,021 at avg 13,009 and sold 1
  //  spot at avg 9,991: E = 13 - 9 - 9 = -5, a deficit.)
  Rig g;
  g.m.assets[0].collateral_haircut = 0.0;
  const AccountId acct = g.L.open_account("basis:ioc", true);
  g.L.mint(acct, 0, to_fixed(3013.0, 1e6));
  g.L.mint(acct, 1, to_fixed(1.0, 1e6));
  g.L.transfer(acct, g.cp, 2, to_fixed(1.0, 1e6));
  g.kinds.push_back(static_cast<std::int32_t>(AgentKind::BasisTrader));
  const std::uint32_t a = g.margin.add_account(acct, 0, AgentKind::BasisTrader, MarginMode::Cross);
  LiquidationConfig cfg;
  cfg.delta_neutral.mode = "atomic";
  cfg.protocol_fallback_steps = 0;
  cfg.penalty_bps = 0.0;
  REQUIRE(cfg.market_order == "ioc_bankruptcy");  // the default
  auto policy = make_delta_neutral_policy(cfg);
  LiquidationContext ctx = g.context(g.m, g.margin, 10);
  ctx.fund = &policy->fund_credit();
  g.margin.mark_all(10);
  REQUIRE(g.margin.flagged().size() == 1);
  CHECK(g.margin.account(a).equity == doctest::Approx(13.0).epsilon(1e-12));
  CHECK(g.margin.bankruptcy_price(g.margin.account(a), 0) == doctest::Approx(13013.0).epsilon(1e-12));
  policy->on_step(ctx);

  REQUIRE(g.events.size() == 3);
  const LiquidationEvent& p = g.events[0];
  const LiquidationEvent& s = g.events[1];
  const LiquidationEvent& f = g.events[2];
  check_event(p, {.policy_path = "delta_neutral>atomic", .notional = approx(10404.8, 1e-12),
                  .price = approx(13006.0, 1e-12)});
  CHECK(p.price <= 13013.0);  // no fill beyond the bankruptcy price
  CHECK(p.liquidator == -1);
  check_event(s, {.policy_path = "delta_neutral>atomic", .notional = approx(7995.2, 1e-12),
                  .price = approx(9994.0, 1e-12)});
  // The band after the stage: net = (1 - spot sold) + (-1 + perp bought) = 0 <= 0.05 x 2.
  const double perp_qty = p.notional / p.price, spot_qty = s.notional / s.price;
  CHECK(perp_qty == doctest::Approx(0.8).epsilon(1e-12));
  CHECK(spot_qty == doctest::Approx(0.8).epsilon(1e-12));
  CHECK(std::abs((1.0 - spot_qty) + (-1.0 + perp_qty)) <= 0.05 * 2.0);
  check_event(f, {.policy_path = "delta_neutral>insurance", .notional = approx(2603.4, 1e-12),
                  .price = approx(13017.0, 1e-12), .mark = approx(13000.0, 1e-12), .bad_debt = exactly(0.0)});
  // After the takeover the account holds nothing: net delta 0, within the band too.
  CHECK(g.margin.account(a).closed);
  CHECK(g.L.balance(acct, 0) == 0);
  CHECK(g.L.balance(acct, 1) == 0);
  CHECK(g.L.balance(acct, 2) == 0);
  CHECK(g.L.balance(g.sys.insurance_fund, 0) == to_fixed(703.4, 1e6));
  CHECK(g.L.balance(g.sys.insurance_fund, 1) == to_fixed(0.2, 1e6));
  CHECK(g.L.balance(g.sys.insurance_fund, 2) == -to_fixed(0.2, 1e6));
  CHECK(g.L.balance(g.sys.bad_debt, 0) == 0);
  CHECK(policy->step_stats().bad_debt == 0.0);
  // The remaining ask at 13,021 was not touched.
  CHECK(g.m.assets[0].perp->book().depth_between(Side::Sell, 1, 13021) == 400);
  g.L.check_conservation();
}

TEST_CASE("the insurance fund under delta_neutral unwinds a hedged pair in pairs, each venue on its own otherwise") {
  // The Rig's books: perp asks 0.4 at 13,001 / 13,011 / 13,021, spot bids 0.4 at 9,999 / 9,989 /
  // 9,979, no fees. The fund holds (as after taking over a unified account whose spot covers 5/6 of
  // its short) spot +1, contracts -1.2: net delta -0.2; quote 100 + 1,000,000 (no financing needed).
  // Per venue (FundAbsorber::unwind, paired = false, as `market`'s fund): spot sells the best two
  // levels, 0.4 x 9,999 + 0.4 x 9,989 = 7,995.2; perp buys the best two, 0.4 x 13,001 + 0.4 x
  // 13,011 = 10,404.8: spot 0.2, contracts -0.4, net -0.2 (and it would reach -0.4 once the spot is
  // gone); quote 1,000,100 + 7,995.2 - 10,404.8 = 997,690.4.
  // Paired (delta_neutral's fund): the excess 1.2 - 1 = 0.2 first, from the front of the asks: 0.2 at
  // 13,001 = 2,600.2; then pairs only while ask_perp <= bid_spot (no fees): 13,001 > 9,999, none.
  // Spot 1, contracts -1, net 0; quote 1,000,100 - 2,600.2 = 997,499.8. A second step: 13,001 (0.2
  // left) > 9,999: nothing; the fund holds its hedged pair.
  for (bool paired : {false, true}) {
    CAPTURE(paired);
    Rig g;
    const AccountId F = g.sys.insurance_fund;
    g.L.mint(F, 0, to_fixed(1e6, 1e6));
    g.L.mint(F, 1, to_fixed(1.0, 1e6));
    g.L.transfer(F, g.cp, 2, to_fixed(1.2, 1e6));
    FundCredit credit;
    FundAbsorber fund("adl", FundPaths{}, credit);
    LiquidationStepStats stats;
    LiquidationContext ctx = g.context(g.m, g.margin, 10);
    fund.unwind(ctx, stats, paired);
    if (!paired) {
      CHECK(g.L.balance(F, 1) == to_fixed(0.2, 1e6));
      CHECK(g.L.balance(F, 2) == -to_fixed(0.4, 1e6));
      CHECK(g.L.balance(F, 0) == to_fixed(997690.4, 1e6));
    } else {
      CHECK(g.L.balance(F, 1) == to_fixed(1.0, 1e6));
      CHECK(g.L.balance(F, 2) == -to_fixed(1.0, 1e6));
      CHECK(g.L.balance(F, 0) == to_fixed(997499.8, 1e6));
      fund.unwind(ctx, stats, paired);
      CHECK(g.L.balance(F, 1) == to_fixed(1.0, 1e6));
      CHECK(g.L.balance(F, 2) == -to_fixed(1.0, 1e6));
    }
    CHECK(fund.borrowed() == 0);
    CHECK(stats.bad_debt == 0.0);
    g.L.check_conservation();
  }
}

TEST_CASE("hierarchy's backstop takes the contracts and the spot collateral the quote needs, as delta_neutral's takes the portfolio") {
  // The Rig's hedged account at step 10: quote 11,000, spot +1 (index 10,000, haircut 0.9),
  // contracts -1 (mark 13,000): equity at mark -1,000 (the haircut), 8,000 at market value.
  // hierarchy without internal match or auction stage: the backstop (300 bps, capacity 30,000).
  // Contracts: -1 taken over at 13,000 x 1.03 = 13,390, paid by the account: quote -2,390.
  // Spot: the quote needs 2,390 / (10,000 x 0.97) = 0.24639175 BTC, rounded up to 0.246392 BTC:
  //   value 2,463.92, paid 2,463.92 x 0.97 = 2,390.0024. Quote left 0.0024, spot 0.753608.
  // Margin rule: E_t = -1,000 + 0.9 x 2,463.92 = 1,217.528 >= 3% of the gross 15,463.92 (463.9176):
  //   the full discount. The account, flat with quote >= 0, is closed and keeps 0.753608 BTC.
  // Summary stats: spot_taken_over 2,463.92, collateral_haircut 73.9176 (the discount on the spot).
  // Until 2026-12-06 the provider took the contracts only: E_t = -1,000 <= 0, nothing taken, and
  // the fund absorbed the account at its bankruptcy price.
  Rig g;
  const std::uint32_t a = g.hedged_account("basis:a");
  LiquidationConfig cfg;
  cfg.policy = "hierarchy";
  cfg.hierarchy.internal_match = false;
  cfg.hierarchy.auction_timeout_steps = 0;
  cfg.hierarchy.backstop_discount_bps = 300;
  cfg.hierarchy.backstop_capacity = 30000;
  BackstopProvider bp(cfg.hierarchy.backstop_capacity, g.bp_acc);
  auto policy = make_liquidation_policy(cfg);
  LiquidationContext ctx = g.context(g.m, g.margin, 10);
  ctx.backstop = &bp;
  g.margin.mark_all(10);
  REQUIRE(g.margin.flagged().size() == 1);
  policy->on_step(ctx);
  const AccountId acc = g.margin.account(a).account;
  CHECK(g.margin.account(a).closed);
  CHECK(g.L.balance(acc, 0) == to_fixed(0.0024, 1e6));
  CHECK(g.L.balance(acc, 1) == to_fixed(0.753608, 1e6));
  CHECK(g.L.balance(acc, 2) == 0);
  CHECK(g.L.balance(g.bp_acc, 0) == to_fixed(30000.0 + 13390.0 - 2390.0024, 1e6));
  CHECK(g.L.balance(g.bp_acc, 1) == to_fixed(0.246392, 1e6));
  CHECK(g.L.balance(g.bp_acc, 2) == -to_fixed(1.0, 1e6));
  CHECK(bp.remaining_capacity() == doctest::Approx(30000.0 - 15463.92).epsilon(1e-12));
  REQUIRE(g.events.size() == 1);
  check_event(g.events[0], {.account = acc, .policy_path = "hierarchy>backstop", .notional = approx(13390.0, 1e-12),
                            .price = approx(13390.0, 1e-12), .mark = approx(13000.0, 1e-12), .slippage_bps = approx(300.0, 1e-9)});
  CHECK(policy->step_stats().spot_taken_over == doctest::Approx(2463.92).epsilon(1e-12));
  CHECK(policy->step_stats().collateral_haircut == doctest::Approx(73.9176).epsilon(1e-9));
  CHECK(g.L.balance(g.sys.insurance_fund, 0) == to_fixed(100.0, 1e6));
  g.L.check_conservation();
}
