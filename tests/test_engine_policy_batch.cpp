// The `batch` liquidation policy (sealed bids, one uniform price per asset and side per batch),
// computed by hand: the pure clearing function, a hand-built market driven step by step, and two
// full runs of the ladder scenario of test_engine_liquidation.cpp (run_simulation checks ledger
// conservation at the end of each run).
#include <doctest/doctest.h>

#include <deque>
#include <memory>

#include "agents/liquidator_bot.hpp"
#include "scenarios/loader.hpp"
#include "sim/book/batch_clearing.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)

namespace {

Lots fill_of(const ClearingResult& r, std::int32_t bidder) {
  for (const BidderFill& f : r.fills)
    if (f.bidder == bidder) return f.qty;
  return 0;
}

const std::vector<SealedBid> kBids = {{0, 100, 5}, {1, 99, 3}, {2, 98, 4}, {3, 97, 10}};  // A, B, C, D

}  // namespace

TEST_CASE("batch clearing: uniform price = lowest accepted bid, fills down the book") {
  ClearingResult r = clear_sell(10, kBids);  // A 5 + B 3 = 8, C takes the last 2 at 98
  CHECK(r.price == 98);
  CHECK(r.filled == 10);
  CHECK(r.remainder == 0);
  CHECK(fill_of(r, 0) == 5);
  CHECK(fill_of(r, 1) == 3);
  CHECK(fill_of(r, 2) == 2);
  CHECK(fill_of(r, 3) == 0);
  CHECK(r.bid_fills == std::vector<Lots>{5, 3, 2, 0});
  r = clear_sell(20, kBids);  // A 5 + B 3 + C 4 = 12, D takes 8 at 97
  CHECK(r.price == 97);
  CHECK(r.filled == 20);
  CHECK(r.bid_fills == std::vector<Lots>{5, 3, 4, 8});
  r = clear_sell(30, kBids);  // only 22 bid: all fill at 97, 8 carried
  CHECK(r.price == 97);
  CHECK(r.filled == 22);
  CHECK(r.remainder == 8);
  r = clear_sell(10, {});
  CHECK(r.price == 0);
  CHECK(r.filled == 0);
  CHECK(r.remainder == 10);
  CHECK(r.fills.empty());
  r = clear_sell(0, kBids);
  CHECK(r.filled == 0);
  CHECK(r.price == 0);
}

TEST_CASE("batch clearing: ties at the marginal price are split pro rata, largest remainder, input order") {
  // 7 lots; X bids 6 @ 50, Y 3 @ 50, Z 2 @ 50 (11 tied). Exact shares 7 x (6, 3, 2) / 11 =
  // 3.818, 1.909, 1.273 -> floors 3, 1, 1 (5); 2 left to the largest remainders X (.818), Y (.909)
  // -> X 4, Y 2, Z 1.
  ClearingResult r = clear_sell(7, {{0, 50, 6}, {1, 50, 3}, {2, 50, 2}});
  CHECK(r.price == 50);
  CHECK(r.bid_fills == std::vector<Lots>{4, 2, 1});
  // Equal remainders: 1 lot between two equal bids goes to the first in input order.
  r = clear_sell(1, {{5, 10, 4}, {6, 10, 4}});
  CHECK(r.bid_fills == std::vector<Lots>{1, 0});
  r = clear_sell(1, {{6, 10, 4}, {5, 10, 4}});
  CHECK(fill_of(r, 6) == 1);
  // A bidder with several bids gets the sum; a tie above the marginal price fills in full.
  r = clear_sell(9, {{0, 12, 2}, {1, 12, 3}, {0, 11, 10}});
  CHECK(r.price == 11);
  CHECK(fill_of(r, 0) == 6);
  CHECK(fill_of(r, 1) == 3);
  // Zero / invalid bids are ignored.
  r = clear_sell(5, {{0, 0, 5}, {1, 10, 0}});
  CHECK(r.filled == 0);
  CHECK(r.remainder == 5);
}

TEST_CASE("batch clearing, buy-back mirror: offers ascending, price = highest accepted offer") {
  const std::vector<SealedBid> offers = {{0, 100, 5}, {1, 101, 3}, {2, 102, 4}, {3, 103, 10}};
  ClearingResult r = clear_buy(10, offers);
  CHECK(r.price == 102);
  CHECK(r.bid_fills == std::vector<Lots>{5, 3, 2, 0});
  r = clear_buy(20, offers);
  CHECK(r.price == 103);
  CHECK(r.bid_fills == std::vector<Lots>{5, 3, 4, 8});
  r = clear_buy(30, offers);
  CHECK(r.filled == 22);
  CHECK(r.remainder == 8);
  r = clear_buy(4, {});
  CHECK(r.remainder == 4);
  CHECK(r.price == 0);
}

TEST_CASE("largest remainder allocation sums exactly") {
  CHECK(allocate_largest_remainder(1001, {1000, 1000}) == std::vector<Lots>{501, 500});
  CHECK(allocate_largest_remainder(10, {1, 1, 1}) == std::vector<Lots>{4, 3, 3});
  CHECK(allocate_largest_remainder(0, {1, 2}) == std::vector<Lots>{0, 0});
  CHECK(allocate_largest_remainder(5, {0, 3}) == std::vector<Lots>{0, 5});
}

namespace {

// A hand-built market: BTC perp, tick 1 USDT, lot 0.001 BTC (1 lot at 1 tick = 0.001 USDT), no fees.
// A depth account rests bids of 1 BTC at 8,990 / 8,980 / 8,970. The mark is set by hand each step.
// Two isolated longs of 1 BTC bought at 10,000 from the outside counterparty:
//   B: margin 500   -> cash -9,500, flagged when -9,500 + M < 0.5% M, i.e. M < 9,547.74
//   A: margin 1,050 -> cash -8,950, flagged when M < 8,994.97
// Marks: steps 0: 10,000; 1-2: 9,500 (B flagged at 1); 3-4: 8,990 (A flagged at 3:
// equity 40 < 44.95). batch_interval_steps 5: the batch clears at step 4 (4 % 5 == 4).
// One bot (agent id 7, tx cost 2, latency 0, max_inventory 10 BTC). Reserve = bankruptcy price:
// at mark 8,990 B (equity -510) has 9,500, A (equity 40) has 8,950.
// (Market makers' own-quote bids: tests/test_batch_bidders.cpp.)
struct Harness : sl::test::HandLedger, sl::test::PolicyParts {
  std::unique_ptr<MarginEngine> margin;
  std::unique_ptr<LiquidationPolicy> policy;
  AccountId a = 0, b = 0, cp = 0, depth = 0, mm = 0;
  std::uint32_t ida = 0, idb = 0;

  Harness(double bot_capital, bool with_maker) : PolicyParts(3) {
    m.quote_asset = 0;
    sys = sl::test::open_system_accounts(L, 1'000'000'000);  // 1,000 USDT
    cp = L.open_account("counterparty", true);
    AssetMarket am{"BTC", 1, 2, ReferenceProcess(ReferenceConfig{0, 0, 0, 0, 0, 0, 0, 0}, 10000, 1, make_rng(1, 0, 9)), nullptr, nullptr};
    sl::test::add_hand_venues(m, L, am, 100'000);
    m.assets.push_back(std::move(am));
    margin = std::make_unique<MarginEngine>(pc, m);
    m.margin = margin.get();
    depth = L.open_account("depth");
    L.mint(depth, 0, 1'000'000'000'000);
    for (Tick px : {8990, 8980, 8970}) m.assets[0].perp->limit(depth, Side::Buy, px, 1000);
    auto trader = [&](const char* name, Micros margin_micros, std::uint32_t& id) {
      const AccountId acc = L.open_account(name, true);
      L.mint(acc, 0, margin_micros);
      L.transfer(cp, acc, 2, 1'000'000);          // +1 BTC of contracts
      L.transfer(acc, cp, 0, 10'000'000'000);     // for 10,000 USDT
      id = margin->add_account(acc, -1, AgentKind::LeveragedTrader, MarginMode::Isolated);
      return acc;
    };
    b = trader("B", 500'000'000, idb);
    a = trader("A", 1'050'000'000, ida);
    LiquidatorConfig lc;
    lc.tx_cost = 2;
    lc.latency_steps = 0;
    const AccountId bot_acc = L.open_account("bot");
    L.mint(bot_acc, 0, to_fixed(bot_capital, 1e6));
    bots.emplace_back(lc, bot_acc, 7, make_rng(1, 0, 7));
    if (with_maker) {
      mm = L.open_account("maker");
      L.mint(mm, 0, 100'000'000'000);
      makers[0].push_back(mm);
    }
    LiquidationConfig cfg;
    cfg.policy = "batch";
    cfg.batch.batch_interval_steps = 5;
    cfg.batch.mm_bid_share = 0.5;
    // The fallback these hand computations follow is V1's market order (market_order "market"); the
    // default IOC at the bankruptcy price with the fund's takeover is computed by hand in
    // tests/test_engine_fair_paths.cpp.
    cfg.market_order = "market";
    cfg.close_factor = 1;
    cfg.penalty_bps = 100;
    cfg.liquidator_share = 0.5;
    policy = make_liquidation_policy(cfg);
  }

  void reserve_none() {
    LiquidationConfig cfg;
    cfg.policy = "batch";
    cfg.batch.batch_interval_steps = 5;
    cfg.batch.reserve = "none";
    cfg.market_order = "market";
    policy = make_liquidation_policy(cfg);
  }

  void step(std::int64_t t) {
    const double mark = t == 0 ? 10000 : t <= 2 ? 9500 : 8990;
    m.step = t;
    m.assets[0].index_price = mark;
    m.assets[0].mark_price = mark;
    margin->mark_all(t);
    policy->reset_step_stats();
    LiquidationContext ctx = context(m, *margin, t);
    policy->on_step(ctx);
  }
  double usdt(AccountId acc) const { return from_micros(L.balance(acc, 0)); }
  double btc_perp(AccountId acc) const { return from_micros(L.balance(acc, 2)); }
};

}  // namespace

TEST_CASE("batch policy, hand-built market: the reserve sends B to the book, A clears at the bot's bid") {
  // Step 4: pool Q = 2,000 lots (B 1,000 joined at step 1, A 1,000 at step 3); the bot saw both.
  // Bot's schedule (bid_valuation): resale 1,000 lots @ 8,990 and 1,000 @ 8,980 (no fees), fixed
  //   cost 2 over N = 2,000 lots = 1 per BTC: bids 1,000 @ 8,989 and 1,000 @ 8,979; capital
  //   49,998 pays both (17,968).
  // Clearing Q = 2,000: both fill, uniform price 8,979 < B's reserve 9,500: B leaves this batch.
  //   Q = 1,000 (A): the 8,989 bid fills all, 8,989 >= A's reserve 8,950.
  // A: cash -8,950 + 8,989 = 39: penalty min(89.89, 39) = 39, half to the bot (19.5), half to the fund.
  // B: the protocol sells its 1 BTC into the book (the batch left the depth untouched): 8,990;
  //   cash -9,500 + 8,990 = -510, no equity, no penalty; deficit 510 paid by the fund.
  // Fund: 1,000 + 19.5 - 510 = 509.5. Bot: 50,000 - 8,989 - 2 + 19.5 = 41,028.5 and +1 BTC.
  Harness h(50'000, false);
  for (std::int64_t t = 0; t < 4; ++t) h.step(t);
  CHECK(h.events.empty());
  CHECK(h.margin->account(h.idb).in_liquidation);
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK(h.margin->account(h.idb).flagged_since == 1);
  CHECK(h.margin->account(h.ida).flagged_since == 3);
  h.step(4);
  REQUIRE(h.events.size() == 2);
  const LiquidationEvent& ea = h.events[0];
  const LiquidationEvent& eb = h.events[1];
  check_event(ea, {.step = 4, .account = h.a, .policy_path = "batch", .notional = approx(8989.0, 1e-12),
                   .price = exactly(8989.0), .mark = exactly(8990.0),
                   .slippage_bps = approx(1e4 * 1.0 / 8990.0, 1e-9), .penalty = approx(39.0, 1e-12),
                   .liquidator = 7, .steps_to_complete = 1});
  check_event(eb, {.account = h.b, .policy_path = "batch>book>insurance", .price = exactly(8990.0),
                   .penalty = exactly(0.0), .liquidator = -1, .steps_to_complete = 3});
  CHECK(h.policy->step_stats().count == 2);
  CHECK(h.usdt(h.a) == 0.0);
  CHECK(h.usdt(h.b) == 0.0);
  CHECK(h.btc_perp(h.a) == 0.0);
  CHECK(h.btc_perp(h.b) == 0.0);
  CHECK(h.margin->account(h.ida).closed);
  CHECK(h.margin->account(h.idb).closed);
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(509.5).epsilon(1e-12));
  CHECK(h.usdt(h.sys.bad_debt) == 0.0);
  CHECK(h.usdt(h.sys.network_fees) == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(h.usdt(h.bots[0].account()) == doctest::Approx(41'028.5).epsilon(1e-12));
  CHECK(h.btc_perp(h.bots[0].account()) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(h.bots[0].wants_to_act(5));  // note_inventory: it will unwind on the book
  // The batch is off-book: only B's fallback market order took the 8,990 level.
  CHECK(h.m.assets[0].perp->book().volume_at(Side::Buy, 8990) == 0);
  CHECK(h.m.assets[0].perp->book().volume_at(Side::Buy, 8980) == 1000);
  h.L.check_conservation();
}

TEST_CASE("batch policy, hand-built market: too little capital carries the remainder to the next batch") {
  // Bot capital 4,500: budget 4,498 pays floor(4,498 / 8.989) = 500 lots of its 8,989 bid.
  // Step 4: filled 500 at 8,989; B's reserve 9,500 misses: B leaves for the book (as above: 8,990,
  //   fund pays 510). Q = 1,000 (A): the same 500 lots fill at 8,989 >= 8,950.
  // A: cash -8,950 + 4,494.5 = -4,455.5 with 0.5 BTC: equity at 8,990 = 39.5 -> penalty
  //   min(44.945, 39.5) = 39.5: 19.75 to the bot, 19.75 to the fund. 500 lots stay pooled.
  //   Fund: 1,000 - 510 + 19.75 = 509.75. Bot: 4,500 - 4,494.5 - 2 + 19.75 = 23.25.
  // The test adds 20,000 to the bot before step 9. Step 9: A: cash -4,495, 0.5 BTC: equity 0,
  //   reserve 8,990. The book's 8,990 level went to B: the bot's schedule is 500 lots @ 8,980,
  //   fixed cost 2 over 500 lots = 4 per BTC: bid 8,976 < 8,990: A leaves for the book: 500 lots
  //   at 8,980 = 4,490; cash -5: the fund pays 5 -> 504.75.
  Harness h(4'500, false);
  for (std::int64_t t = 0; t <= 4; ++t) h.step(t);
  REQUIRE(h.events.size() == 2);
  check_event(h.events[0], {.account = h.a, .policy_path = "batch", .notional = approx(4494.5, 1e-12),
                            .price = exactly(8989.0), .penalty = approx(39.5, 1e-12)});
  check_event(h.events[1], {.account = h.b, .policy_path = "batch>book>insurance"});
  CHECK(h.btc_perp(h.a) == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(h.usdt(h.bots[0].account()) == doctest::Approx(23.25).epsilon(1e-12));
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(509.75).epsilon(1e-12));
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK_FALSE(h.margin->account(h.ida).closed);
  for (std::int64_t t = 5; t <= 8; ++t) h.step(t);
  CHECK(h.events.size() == 2);  // nothing between batches
  h.L.mint(h.bots[0].account(), 0, 20'000'000'000);
  h.step(9);
  REQUIRE(h.events.size() == 3);
  check_event(h.events[2], {.step = 9, .account = h.a, .policy_path = "batch>book>insurance",
                            .notional = approx(4490.0, 1e-12), .price = exactly(8980.0), .steps_to_complete = 6});
  CHECK(h.margin->account(h.ida).closed);
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(504.75).epsilon(1e-12));
  CHECK(h.btc_perp(h.bots[0].account()) == doctest::Approx(0.5).epsilon(1e-12));
  h.L.check_conservation();
}

TEST_CASE("batch policy, hand-built market: a batch with no bid sends every account offered in it to the fallback") {
  // Issue #12 item 2: what clears nothing above its reserve goes to the fund stage. The bot cannot
  // pay its transaction cost, so the step-4 batch has no bid at all; both accounts were pooled
  // before step 4 (B at 1, A at 3), so both were offered and both leave for the venue's own order
  // (market_order "market" here), in pool order, B first, solvent or not:
  // B: 1 BTC into the 8,990 level: cash -9,500 + 8,990 = -510, no equity, no penalty; the fund pays
  //   the deficit: 1,000 - 510 = 490. Event "batch>book>insurance", 3 steps after its flag.
  // A (equity 40, solvent): 1 BTC into the next level, 8,980: cash -8,950 + 8,980 = 30, flat;
  //   penalty min(1% x 8,980 = 89.8, equity 30) = 30, all to the fund (no liquidator): 520.
  // Until 2026-12-06 such a batch kept both pooled for a batch that fills (none ever did here).
  Harness h(1.0, false);
  for (std::int64_t t = 0; t < 4; ++t) h.step(t);
  CHECK(h.events.empty());
  h.step(4);
  REQUIRE(h.events.size() == 2);
  check_event(h.events[0], {.step = 4, .account = h.b, .policy_path = "batch>book>insurance", .notional = approx(8990.0, 1e-12),
                            .price = exactly(8990.0), .penalty = exactly(0.0), .liquidator = -1, .steps_to_complete = 3});
  check_event(h.events[1], {.step = 4, .account = h.a, .policy_path = "batch>book", .notional = approx(8980.0, 1e-12),
                            .price = exactly(8980.0), .penalty = approx(30.0, 1e-12), .liquidator = -1,
                            .steps_to_complete = 1});
  CHECK(h.margin->account(h.ida).closed);
  CHECK(h.margin->account(h.idb).closed);
  CHECK(h.usdt(h.a) == 0.0);
  CHECK(h.usdt(h.b) == 0.0);
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(520.0).epsilon(1e-12));
  CHECK(h.usdt(h.sys.bad_debt) == 0.0);
  CHECK(h.m.assets[0].perp->book().volume_at(Side::Buy, 8970) == 1000);
  h.L.check_conservation();
}

TEST_CASE("batch policy, hand-built market: with reserve none a batch with no bid keeps the pool waiting") {
  // No reserve, no fund stage: lots nobody bid for stay pooled for the next batch.
  Harness h(1.0, false);
  h.reserve_none();
  for (std::int64_t t = 0; t <= 9; ++t) h.step(t);
  CHECK(h.events.empty());
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK(h.btc_perp(h.a) == 1.0);
  CHECK(h.btc_perp(h.b) == 1.0);
  h.L.check_conservation();
}

namespace {

// The ladder world (tests/support/ladder_world.hpp) over 25 steps with a bot of capital 100,000:
// the account is flagged at step 11 (equity 31 < 45.2) and joins the pool. Batches every 5 steps:
// 4, 9, 14, 19, 24.
RunResult run_batch(const std::vector<std::string>& overrides) {
  nlohmann::json w = sl::test::ladder_world(-9.6);
  w["horizon_steps"] = 25;
  w["agents"]["liquidators"]["capital"] = 100000;
  return sl::test::run_world(w, overrides, "batch");
}

}  // namespace

TEST_CASE("batch policy, full run: flagged at step 11, cleared in the step-14 batch at the bot's marginal bid") {
  // Step 14: Q = 1,000 lots. The bot's schedule: resale into the bids 9,039 / 9,029 / 9,019
  //   (400, 400, 200 lots), fixed cost 1 over 1,000 lots = 1 per BTC: bids 400 @ 9,038,
  //   400 @ 9,028, 200 @ 9,018. Uniform price = the lowest accepted bid: 9,018 (>= the reserve
  //   9,040 - 31 = 9,009). Cash -9,009 + 9,018 = 9 -> penalty min(90.18, 9) = 9: 4.5 to the bot,
  //   4.5 to the fund (100 -> 104.5). run_simulation checks ledger conservation.
  const RunResult r = run_batch({"perp.liquidation.batch.batch_interval_steps=5"});
  CHECK(r.policy == "batch");
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 14, .policy_path = "batch", .notional = approx(9018.0, 1e-12), .price = exactly(9018.0),
                  .mark = approx(9040.0, 1e-9), .slippage_bps = approx(1e4 * 22.0 / 9040.0, 1e-9),
                  .penalty = approx(9.0, 1e-12), .liquidator = 3, .steps_to_complete = 3, .endogenous = false});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(104.5).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "conservation_ok") == 1.0);
}

TEST_CASE("batch policy, full run: capital short, then the bankrupt rest goes to the book") {
  // Capital 5,000, budget 4,999: 400 lots @ 9,038 (3,615.2), then floor(1,383.8 / 9.028) = 153
  //   lots @ 9,028. Filled 553 at 9,028 (4,992.484), 447 carried. Cash -9,009 + 4,992.484 =
  //   -4,016.516 with 0.447 BTC: equity at 9,040 = 24.364 -> penalty min(49.92, 24.364) = 24.364
  //   (12.182 to the bot, 12.182 to the fund: 112.182).
  // Step 19: equity 0, so the reserve is the mark 9,040; every bid is below it: the protocol sells
  //   the 447 lots into 9,039 x 400 + 9,029 x 47 = 4,039.963; cash -0.917: the fund pays it (111.265).
  // V1 fallback (market_order "market"): the IOC's version is in tests/test_engine_fair_paths.cpp.
  const RunResult r = run_batch({"perp.liquidation.batch.batch_interval_steps=5", "agents.liquidators.capital=5000",
                                 "perp.liquidation.market_order=market"});
  REQUIRE(r.liquidations.size() == 2);
  check_event(r.liquidations[0], {.step = 14, .policy_path = "batch", .notional = approx(4992.484, 1e-12),
                                  .price = exactly(9028.0), .penalty = approx(24.364, 1e-12)});
  check_event(r.liquidations[1], {.step = 19, .policy_path = "batch>book>insurance",
                                  .notional = approx(4039.963, 1e-12), .price = approx(4039.963 / 0.447, 1e-12),
                                  .penalty = exactly(0.0), .steps_to_complete = 8});
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(111.265).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
}

TEST_CASE("batch policy on the crash and short-squeeze scenarios: runs, clears, conserves") {
  // Market makers bid here (perp_maker_accounts), the squeeze has short pools (buy-backs);
  // run_simulation throws if any asset's ledger sum is not zero at the end.
  for (const auto& [f, horizon] : {std::pair<std::string, const char*>{"/scenarios/crash.json", "horizon_steps=900"},
                                   {"/scenarios/short_squeeze.json", "horizon_steps=2400"}}) {
    CAPTURE(f);
    const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + f, {horizon});
    RunOptions o;
    o.seed = 3;
    o.policy = "batch";
    const RunResult r = run_simulation(sc, o);
    CHECK(metric(r, "conservation_ok") == 1.0);
    for (const LiquidationEvent& e : r.liquidations) {
      CHECK(e.policy_path.rfind("batch", 0) == 0);
      CHECK(e.step % sc.perp.liquidation.batch.batch_interval_steps == sc.perp.liquidation.batch.batch_interval_steps - 1);
      CHECK(e.notional > 0);
    }
    MESSAGE(f << ": " << r.liquidations.size() << " batch fills");
  }
}
