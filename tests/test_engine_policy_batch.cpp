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
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using sl::test::metric;
using sl::test::series;

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
// One bot (agent id 7, tx cost 2); optionally one market maker (mm_bid_share 0.5).
struct Harness {
  Ledger L{{"USDT", "BTC", "BTC-PERP"}, {false, false, true}};
  Market m{L};
  PerpConfig pc;
  std::unique_ptr<MarginEngine> margin;
  std::vector<LiquidatorBot> bots;
  std::vector<std::int32_t> kinds;
  Rng rng = make_rng(1, 0, 3);
  LiquidationAccounts sys;
  std::vector<LiquidationEvent> events;
  std::vector<std::vector<AccountId>> makers{1};
  std::unique_ptr<LiquidationPolicy> policy;
  AccountId a = 0, b = 0, cp = 0, depth = 0, mm = 0;
  std::uint32_t ida = 0, idb = 0;

  Harness(double bot_capital, bool with_maker) {
    m.quote_asset = 0;
    sys.insurance_fund = L.open_account("insurance_fund");
    sys.bad_debt = L.open_account("bad_debt", true);
    sys.network_fees = L.open_account("network_fees");
    sys.protocol = L.open_account("protocol");
    cp = L.open_account("counterparty", true);
    AssetMarket am{"BTC", 1, 2, ReferenceProcess(ReferenceConfig{0, 0, 0, 0, 0, 0, 0, 0}, 10000, 1, make_rng(1, 0, 9)), nullptr, nullptr};
    sl::test::add_hand_venues(m, L, am, 100'000);
    m.assets.push_back(std::move(am));
    margin = std::make_unique<MarginEngine>(pc, m);
    m.margin = margin.get();
    L.mint(sys.insurance_fund, 0, 1'000'000'000);  // 1,000 USDT
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
    lc.latency_steps = 5;  // irrelevant to sealed bids
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
    cfg.close_factor = 1;
    cfg.penalty_bps = 100;
    cfg.liquidator_share = 0.5;
    policy = make_liquidation_policy(cfg);
  }

  void step(std::int64_t t) {
    const double mark = t == 0 ? 10000 : t <= 2 ? 9500 : 8990;
    m.step = t;
    m.assets[0].index_price = mark;
    m.assets[0].mark_price = mark;
    margin->mark_all(t);
    policy->reset_step_stats();
    LiquidationContext ctx{m, *margin, bots, kinds, rng, t, sys, events, makers, nullptr};
    policy->on_step(ctx);
  }
  double usdt(AccountId acc) const { return from_micros(L.balance(acc, 0)); }
  double btc_perp(AccountId acc) const { return from_micros(L.balance(acc, 2)); }
};

}  // namespace

TEST_CASE("batch policy, hand-built market: two longs flagged at steps 1 and 3 clear in one batch at one price") {
  // Step 4: pool Q = 2,000 lots (B 1,000 joined at step 1, A 1,000 at step 3).
  // Bot: walks the bids for 2,000 lots: 1 BTC @ 8,990 + 1 BTC @ 8,980 = 17,970; less tx 2 ->
  //   17,968 / 2 BTC = 8,984 per BTC (exact tick); capital (50,000 - 2) / 8.984 per lot > 2,000.
  // Maker (one, share 0.5): 500 lots @ 8,990, 500 @ 8,980, 500 @ 8,970.
  // Clearing: 500 @ 8,990 (maker), then the bot's 2,000 @ 8,984 takes the remaining 1,500;
  //   uniform price 8,984 (the lowest accepted bid); the maker's lower bids fill nothing.
  // Allocation 1,000 / 1,000; pairing in order: B <- bot 1,000; A <- bot 500, maker 500.
  // B: cash -9,500 + 8,984 = -516: no equity, no penalty; deficit 516 paid by the insurance fund.
  // A: cash -8,950 + 8,984 = 34: penalty min(1% x 8,984, 34) = 34; bots' notional share 1/2 ->
  //   34 x 0.5 x 1/2 = 8.5 to the bot, 25.5 to the fund. Fund: 1,000 + 25.5 - 516 = 509.5.
  // Bot: 50,000 - 1,500 x 8.984 - 2 + 8.5 = 36,530.5 and +1.5 BTC; maker: 100,000 - 4,492, +0.5 BTC.
  Harness h(50'000, true);
  for (std::int64_t t = 0; t < 4; ++t) h.step(t);
  CHECK(h.events.empty());
  CHECK(h.margin->account(h.idb).in_liquidation);
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK(h.margin->account(h.idb).flagged_since == 1);
  CHECK(h.margin->account(h.ida).flagged_since == 3);
  h.step(4);
  REQUIRE(h.events.size() == 2);
  const LiquidationEvent& eb = h.events[0];
  const LiquidationEvent& ea = h.events[1];
  CHECK(eb.account == h.b);
  CHECK(ea.account == h.a);
  for (const LiquidationEvent* e : {&eb, &ea}) {
    CHECK(e->step == 4);
    CHECK(e->price == 8984.0);
    CHECK(e->notional == doctest::Approx(8984.0).epsilon(1e-12));
    CHECK(e->mark == 8990.0);
    CHECK(e->slippage_bps == doctest::Approx(1e4 * 6.0 / 8990.0).epsilon(1e-9));
    CHECK(e->liquidator == 7);
    CHECK(e->agent_type == "leveraged_trader");
  }
  CHECK(eb.policy_path == "batch>insurance");
  CHECK(eb.penalty == 0.0);
  CHECK(eb.bad_debt == 0.0);
  CHECK(eb.steps_to_complete == 3);
  CHECK(ea.policy_path == "batch");
  CHECK(ea.penalty == doctest::Approx(34.0).epsilon(1e-12));
  CHECK(ea.steps_to_complete == 1);
  CHECK(h.policy->step_stats().count == 2);
  CHECK(h.policy->step_stats().notional == doctest::Approx(2 * 8984.0));
  CHECK(h.usdt(h.a) == 0.0);
  CHECK(h.usdt(h.b) == 0.0);
  CHECK(h.btc_perp(h.a) == 0.0);
  CHECK(h.btc_perp(h.b) == 0.0);
  CHECK(h.margin->account(h.ida).closed);
  CHECK(h.margin->account(h.idb).closed);
  CHECK_FALSE(h.margin->account(h.ida).in_liquidation);
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(509.5).epsilon(1e-12));
  CHECK(h.usdt(h.sys.bad_debt) == 0.0);
  CHECK(h.usdt(h.sys.network_fees) == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(h.usdt(h.bots[0].account()) == doctest::Approx(36'530.5).epsilon(1e-12));
  CHECK(h.btc_perp(h.bots[0].account()) == doctest::Approx(1.5).epsilon(1e-12));
  CHECK(h.bots[0].wants_to_act(5));  // note_inventory: it will unwind on the book
  CHECK(h.usdt(h.mm) == doctest::Approx(100'000.0 - 4'492.0).epsilon(1e-12));
  CHECK(h.btc_perp(h.mm) == doctest::Approx(0.5).epsilon(1e-12));
  // Off-book: the depth account's resting bids are untouched.
  CHECK(h.m.assets[0].perp->book().volume_at(Side::Buy, 8990) == 1000);
  h.L.check_conservation();
}

TEST_CASE("batch policy, hand-built market: too little bid quantity carries the remainder to the next batch") {
  // No maker; bot capital 9,000. Step 4: bot bid 8,984 for floor((9,000 - 2) / 8.984) = 1,001 lots.
  // Filled 1,001 at 8,984, 999 carried. Allocation of 1,001 over 1,000 / 1,000: 500.5 each ->
  //   500 / 500 and the last lot to the first entry (B): B 501, A 500.
  // B: cash -9,500 + 501 x 8.984 = -4,999.016, 0.499 BTC: equity at 8,990 = -513.006, no penalty.
  // A: cash -8,950 + 4,492 = -4,458, 0.5 BTC: equity 37 -> penalty min(44.92, 37) = 37, all lots
  //   from the bot: 18.5 to the bot, 18.5 to the fund. Bot: 9,000 - 8,992.984 - 2 + 18.5 = 23.516.
  // The test adds 20,000 to the bot before step 9. Step 9: Q = 499 + 500 = 999: the bot walks
  //   999 lots @ 8,990 = 8,981.01, less 2 -> 8,979.01 / 999 lots = 8,987.998 -> 8,987 per BTC;
  //   capital (20,023.516 - 2) / 8.987 per lot > 999. Filled 999 at 8,987.
  // B: -4,999.016 + 499 x 8.987 (4,484.513) = -514.503: deficit paid by the fund.
  // A: -4,458 - 37 + 500 x 8.987 (4,493.5) = -1.5: deficit paid by the fund.
  // Fund: 1,000 + 18.5 - 514.503 - 1.5 = 502.497.
  Harness h(9'000, false);
  for (std::int64_t t = 0; t <= 4; ++t) h.step(t);
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].account == h.b);
  CHECK(h.events[0].price == 8984.0);
  CHECK(h.events[0].notional == doctest::Approx(4500.984).epsilon(1e-12));
  CHECK(h.events[0].penalty == 0.0);
  CHECK(h.events[0].policy_path == "batch");
  CHECK(h.events[1].account == h.a);
  CHECK(h.events[1].notional == doctest::Approx(4492.0).epsilon(1e-12));
  CHECK(h.events[1].penalty == doctest::Approx(37.0).epsilon(1e-12));
  CHECK(h.btc_perp(h.b) == doctest::Approx(0.499).epsilon(1e-12));
  CHECK(h.btc_perp(h.a) == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(h.usdt(h.bots[0].account()) == doctest::Approx(23.516).epsilon(1e-12));
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK_FALSE(h.margin->account(h.ida).closed);
  for (std::int64_t t = 5; t <= 8; ++t) h.step(t);
  CHECK(h.events.size() == 2);  // nothing between batches
  h.L.mint(h.bots[0].account(), 0, 20'000'000'000);
  h.step(9);
  REQUIRE(h.events.size() == 4);
  CHECK(h.events[2].account == h.b);
  CHECK(h.events[2].step == 9);
  CHECK(h.events[2].price == 8987.0);
  CHECK(h.events[2].notional == doctest::Approx(4484.513).epsilon(1e-12));
  CHECK(h.events[2].steps_to_complete == 8);
  CHECK(h.events[2].policy_path == "batch>insurance");
  CHECK(h.events[3].account == h.a);
  CHECK(h.events[3].notional == doctest::Approx(4493.5).epsilon(1e-12));
  CHECK(h.events[3].steps_to_complete == 6);
  CHECK(h.events[3].penalty == 0.0);
  CHECK(h.events[3].policy_path == "batch>insurance");
  CHECK(h.margin->account(h.ida).closed);
  CHECK(h.margin->account(h.idb).closed);
  CHECK(h.usdt(h.sys.insurance_fund) == doctest::Approx(502.497).epsilon(1e-12));
  CHECK(h.usdt(h.sys.network_fees) == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(h.btc_perp(h.bots[0].account()) == doctest::Approx(2.0).epsilon(1e-12));
  h.L.check_conservation();
}

TEST_CASE("batch policy, hand-built market: no bids at all leaves the whole pool waiting") {
  Harness h(1.0, false);  // the bot cannot even pay its transaction cost
  for (std::int64_t t = 0; t <= 9; ++t) h.step(t);
  CHECK(h.events.empty());
  CHECK(h.margin->account(h.ida).in_liquidation);
  CHECK(h.btc_perp(h.a) == 1.0);
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

TEST_CASE("batch policy, full run: flagged at step 11, cleared in the step-14 batch at the bot's price") {
  // Step 14: Q = 1,000 lots. The bot walks the bids 9,039 / 9,029 / 9,019 (0.4, 0.4, 0.2 BTC):
  //   3,615.6 + 3,611.6 + 1,803.8 = 9,031.0; less tx 1 -> 9,030 / 1 BTC = 9,030 (exact tick).
  // Filled 1,000 at 9,030. Cash -9,009 + 9,030 = 21 -> penalty min(90.3, 21) = 21: 10.5 to the bot,
  // 10.5 to the fund (100 -> 110.5). run_simulation checks ledger conservation.
  const RunResult r = run_batch({"perp.liquidation.batch.batch_interval_steps=5"});
  CHECK(r.policy == "batch");
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  CHECK(e.step == 14);
  CHECK(e.policy_path == "batch");
  CHECK(e.price == 9030.0);
  CHECK(e.notional == doctest::Approx(9030.0).epsilon(1e-12));
  CHECK(e.mark == doctest::Approx(9040.0).epsilon(1e-9));
  CHECK(e.slippage_bps == doctest::Approx(1e4 * 10.0 / 9040.0).epsilon(1e-9));
  CHECK(e.penalty == doctest::Approx(21.0).epsilon(1e-12));
  CHECK(e.liquidator == 3);
  CHECK(e.steps_to_complete == 3);
  CHECK_FALSE(e.endogenous);
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(110.5).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == 0.0);
  CHECK(metric(r, "conservation_ok") == 1.0);
}

TEST_CASE("batch policy, full run: carry-over when the bot's capital is short") {
  // Capital 5,000. Step 14: bid 9,030 for floor(4,999 / 9.03) = 553 lots; filled 553 at 9,030
  //   (4,993.59), 447 carried. Cash -9,009 + 4,993.59 = -4,015.41 with 0.447 BTC: equity at 9,040 =
  //   25.47 -> penalty min(49.9359, 25.47) = 25.47 (12.735 to the bot, 12.735 to the fund).
  //   Bot: 5,000 - 4,993.59 - 1 + 12.735 = 18.145, then at step 15 it sells its 0.553 BTC into
  //   9,039 x 0.4 + 9,029 x 0.153 = 4,997.037 -> 5,015.182.
  // Step 19: Q = 447: walk 400 @ 9,039 + 47 @ 9,029 = 4,039.963, less 1 -> 4,038.963 / 447 lots =
  //   9,035.71 -> bid 9,035; capital (5,015.182 - 1) / 9.035 > 447. Filled 447 at 9,035 (4,038.645).
  //   Cash -4,015.41 - 25.47 + 4,038.645 = -2.235: no penalty; the fund pays 2.235 -> 110.5.
  const RunResult r = run_batch({"perp.liquidation.batch.batch_interval_steps=5", "agents.liquidators.capital=5000"});
  REQUIRE(r.liquidations.size() == 2);
  CHECK(r.liquidations[0].step == 14);
  CHECK(r.liquidations[0].price == 9030.0);
  CHECK(r.liquidations[0].notional == doctest::Approx(4993.59).epsilon(1e-12));
  CHECK(r.liquidations[0].penalty == doctest::Approx(25.47).epsilon(1e-12));
  CHECK(r.liquidations[0].policy_path == "batch");
  CHECK(r.liquidations[1].step == 19);
  CHECK(r.liquidations[1].price == 9035.0);
  CHECK(r.liquidations[1].notional == doctest::Approx(4038.645).epsilon(1e-12));
  CHECK(r.liquidations[1].penalty == 0.0);
  CHECK(r.liquidations[1].steps_to_complete == 8);
  CHECK(r.liquidations[1].policy_path == "batch>insurance");
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(110.5).epsilon(1e-12));
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
