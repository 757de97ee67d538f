// The Dutch auction as MakerDAO's Clipper / Dog run it (issue #12 item 1; model.md section 9): the
// bidder valuation every liquidation bidder uses (sim/liquidation/bid_valuation.hpp), partial takes,
// the multiplicative short mirror, Dog's hole / Hole with partial kicks, Clipper's chost (dust) in
// take and redo, the kick incentive only on a lot, and the limiting case against `market`.
//
// Worlds: tests/support/bid_book.hpp (a lone perp book, tick 1, lot 0.001) for the valuation, and
// the ladder world (tests/support/ladder_world.hpp: BTC 10,000, perp and spot ladders 1/11/21/31/41
// ticks from the reference at 0.4 BTC each, one trader 1 BTC at 10x, a -9.6% jump at step 10 to
// 9,040; the trader is flagged at step 11) for full runs. Every number below is derived by hand in
// the comment next to it.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "agents/liquidator_bot.hpp"
#include "sim/liquidation/bid_valuation.hpp"
#include "tests/support/bid_book.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)

namespace {

BidderCapacity capacity(double capital, Lots hold_room, double fixed_cost) {
  BidderCapacity c;
  c.capital = to_fixed(capital, 1e6);
  c.hold_room = hold_room;
  c.fixed_cost = to_fixed(fixed_cost, 1e6);
  return c;
}

// The ladder world with a bot of capital 20,000 and the hand Dutch curve (2% above the index,
// x0.99 every second, tip 5), the trader long (long_share 1) or short (0).
nlohmann::json dutch_world(double jump_pct, double long_share) {
  nlohmann::json w = sl::test::ladder_world(jump_pct);
  w["agents"]["leveraged_traders"]["long_share"] = long_share;
  w["agents"]["liquidators"]["capital"] = 20000;
  w["perp"]["liquidation"]["dutch"] = sl::test::hand_dutch_curve();
  return w;
}

RunResult run_dutch(double jump_pct, double long_share, const std::vector<std::string>& overrides = {}) {
  return sl::test::run_world(dutch_world(jump_pct, long_share), overrides, "dutch");
}

// One bot (transaction cost 1, latency 0, 1,000 of cash) in a hand world, and a `dutch` policy
// with tip 5 and the given protocol fallback delay.
AccountId add_tx1_bot(sl::test::HandWorld& w) {
  LiquidatorConfig lc;
  lc.tx_cost = 1;
  lc.latency_steps = 0;
  const AccountId bot_acc = w.L.open_account("bot");
  w.L.mint(bot_acc, sl::test::kUsd, sl::test::U(1000));
  w.bots.emplace_back(lc, bot_acc, 0, make_rng(1, 0, 7));
  return bot_acc;
}

std::unique_ptr<LiquidationPolicy> dutch_tip5(int protocol_fallback_steps) {
  LiquidationConfig cfg;
  cfg.policy = "dutch";
  cfg.dutch.tip = 5;
  cfg.protocol_fallback_steps = protocol_fallback_steps;
  return make_liquidation_policy(cfg);
}

}  // namespace

TEST_CASE("bid valuation: partial take = the lots whose resale value reaches the price") {
  // Bids 400 lots @ 9,039, 400 @ 9,029, 200 @ 9,019; no fee; fixed cost 1; no hold room.
  // At 9,030 only the 9,039 level is worth the price: n = 400, value 0.4 x 9,039 = 3,615.6,
  // cash 0.4 x 9,030 = 3,612, surplus 3.6 >= 1. Reservation (3,615.6 - 1) / 0.4 = 9,036.5.
  sl::test::BidBook b;
  b.rest(Side::Buy, {{9039, 400}, {9029, 400}, {9019, 200}});
  BidSchedule s;
  const BidderCapacity cap = capacity(1e6, 0, 1.0);
  s.build(b.v, true, 1000, 0, cap);
  BidSchedule::Take t = s.take(9030.0, 1000, cap);
  CHECK(t.lots == 400);
  CHECK(t.resold == 400);
  CHECK(t.value == to_fixed(3615.6, 1e6));
  CHECK(t.reservation == doctest::Approx(9036.5).epsilon(1e-12));
  // At 9,038.5 the same 400 lots qualify but the surplus 0.4 x 0.5 = 0.2 < 1: nothing.
  CHECK(s.take(9038.5, 1000, cap).lots == 0);
  // At 9,000 all 1,000 lots, surplus 9,031 - 9,000 = 31.
  t = s.take(9000.0, 1000, cap);
  CHECK(t.lots == 1000);
  CHECK(t.value == to_fixed(9031.0, 1e6));
  // At most what is left: 700 lots remaining.
  CHECK(s.take(9000.0, 700, cap).lots == 700);
}

TEST_CASE("bid valuation: depth claimed by an earlier taker is not counted again") {
  // Same bids; an earlier taker claimed 500 lots: the 9,039 level and 100 lots of 9,029 are gone,
  // the schedule is 300 @ 9,029, 200 @ 9,019. At 9,020: n = 300, surplus 0.3 x 9 = 2.7 >= 1.
  sl::test::BidBook b;
  b.rest(Side::Buy, {{9039, 400}, {9029, 400}, {9019, 200}});
  BidSchedule s;
  const BidderCapacity cap = capacity(1e6, 0, 1.0);
  s.build(b.v, true, 1000, 500, cap);
  CHECK(s.total() == 500);
  const BidSchedule::Take t = s.take(9020.0, 1000, cap);
  CHECK(t.lots == 300);
  CHECK(t.value == to_fixed(0.3 * 9029, 1e6));
  // Everything claimed and no hold room: nothing to take at any price.
  s.build(b.v, true, 1000, 1000, cap);
  CHECK(s.take(1.0, 1000, cap).lots == 0);
}

TEST_CASE("bid valuation: held lots are worth the deepest visible level, never 0, never more") {
  // Hold room 300 lots; the deepest bid is 9,019. Remaining 1,500 lots at 9,010: resale 1,000
  // lots (all >= 9,010) plus 300 held at 9,019 >= 9,010: n = 1,300; value 9,031 + 0.3 x 9,019 =
  // 11,736.7; cash 1.3 x 9,010 = 11,713; surplus 23.7.
  sl::test::BidBook b;
  b.rest(Side::Buy, {{9039, 400}, {9029, 400}, {9019, 200}});
  BidSchedule s;
  const BidderCapacity cap = capacity(1e6, 300, 1.0);
  s.build(b.v, true, 1500, 0, cap);
  CHECK(s.total() == 1300);
  BidSchedule::Take t = s.take(9010.0, 1500, cap);
  CHECK(t.lots == 1300);
  CHECK(t.resold == 1000);
  CHECK(t.value == to_fixed(11736.7, 1e6));
  // At 9,025 the held lots (9,019) are not worth the price: only the 800 resale lots >= 9,025.
  CHECK(s.take(9025.0, 1500, cap).lots == 800);
  // Book fully claimed: the held lots alone, at 9,019 each: at 9,015, n = 300, surplus 1.2.
  s.build(b.v, true, 1500, 1000, cap);
  t = s.take(9015.0, 1500, cap);
  CHECK(t.lots == 300);
  CHECK(t.resold == 0);
  // An empty side gives no value at all: nothing is taken even near 0.
  sl::test::BidBook empty;
  s.build(empty.v, true, 1500, 0, cap);
  CHECK(s.take(1.0, 1500, cap).lots == 0);
}

TEST_CASE("bid valuation: the taker fee and the capital bind") {
  // Taker fee 10 bps: the 9,039 level is worth 9,039 x 0.999 = 9,029.961 per BTC < 9,030: nothing.
  // At 9,020 the 400 lots qualify: value = 3,615.6 - fee 3.6156 (rounded to the micro) = 3,611.9844.
  sl::test::BidBook b(10.0);
  b.rest(Side::Buy, {{9039, 400}, {9029, 400}, {9019, 200}});
  BidSchedule s;
  BidderCapacity cap = capacity(1e6, 0, 1.0);
  s.build(b.v, true, 1000, 0, cap);
  CHECK(s.take(9030.0, 1000, cap).lots == 0);
  BidSchedule::Take t = s.take(9020.0, 1000, cap);
  CHECK(t.lots == 400);
  CHECK(t.value == 3'615'600'000 - 3'615'600);
  // Capital 1,806 at 9,000 per BTC (9 per lot): floor(1,806 / 9) = 200 lots.
  cap = capacity(1806.0, 0, 1.0);
  CHECK(s.take(9000.0, 1000, cap).lots == 200);
}

TEST_CASE("bid valuation: a short lot is bought back from the asks, fee added to the cost") {
  // Asks 400 @ 10,961, 400 @ 10,971; fee 10 bps: unit costs 10,971.961 and 10,981.971 per BTC.
  // At price 10,975: only the first level costs <= the price: n = 400; cost 4,384.4 + 4.3844 =
  // 4,388.7844; cash 4,390; surplus 1.2156 >= 1.
  sl::test::BidBook b(10.0);
  b.rest(Side::Sell, {{10961, 400}, {10971, 400}});
  BidSchedule s;
  const BidderCapacity cap = capacity(1e6, 0, 1.0);
  s.build(b.v, false, 1000, 0, cap);
  const BidSchedule::Take t = s.take(10975.0, 1000, cap);
  CHECK(t.lots == 400);
  CHECK(t.value == 4'384'400'000 + 4'384'400);
  CHECK(t.reservation == doctest::Approx((4388.7844 + 1.0) / 0.4).epsilon(1e-12));
  CHECK(s.take(10971.0, 1000, cap).lots == 0);  // 10,971 < 10,971.961
}

TEST_CASE("dutch short lot: multiplicative mirror index0 / (buf x f) stays > 0 even at buf 2.5") {
  // +9.6% jump (index 10,960), buf 2.5, cut 0.99, cusp 0.3. Price(k) = 10,960 / (2.5 x 0.99^k): at
  // k = 0, 4,384 (the additive mirror 10,960 x (2 - 2.5) = -5,480 was negative). The bot buys back
  // from the asks 10,961 / 10,971 / 10,981 (0.4 BTC each; 1 BTC costs 10,969.0, tx 1): the first
  // price with 10,960 / (2.5 x 0.99^k) - 10,969 >= 1 is k = 92 (0.99^92 = 0.39664:
  // 11,052.8; k = 91: 10,942.3 < 10,961), so the take is at step 11 + 92 = 103, before the cusp
  // (0.99^k < 0.3 only from k = 120).
  double p91 = 10960.0 / (2.5 * std::pow(0.99, 91)), p92 = 10960.0 / (2.5 * std::pow(0.99, 92));
  CHECK(p91 < 10961.0);
  CHECK(p92 - 10969.0 >= 1.0);
  const RunResult r = run_dutch(9.6, 0.0, {"horizon_steps=110", "perp.liquidation.dutch.buf=2.5", "perp.liquidation.dutch.cusp=0.3",
                                           "perp.liquidation.insurance_fund_start=1000"});
  REQUIRE(r.liquidations.size() == 1);
  const LiquidationEvent& e = r.liquidations[0];
  check_event(e, {.step = 103, .price = approx(p92, 1e-12)});
  CHECK(e.price > 0);
}

TEST_CASE("dutch chost: a take may not leave dust - a remainder worth <= chost must be taken whole") {
  // cut 0.999 (tests/test_engine_policy_dutch.cpp, solvent long): at k = 21 (step 32) the bot
  // would take 400 of 1,000 lots at p = 9,029.087, leaving 600 lots worth 5,417.45 at that price.
  // chost 6,000: the remainder must be worth >= 6,000: keep ceil(6,000 / 9.029087) = 665 lots,
  // take 335 (surplus 0.335 x 9.913 = 3.32 >= 1).
  const double p21 = 9040.0 * 1.02 * std::pow(0.999, 21);
  const std::vector<std::string> base = {"horizon_steps=40", "perp.liquidation.dutch.cut=0.999", "perp.liquidation.penalty_bps=10"};
  std::vector<std::string> o = base;
  o.push_back("perp.liquidation.dutch.chost_quote=6000");
  RunResult r = run_dutch(-9.6, 1.0, o);
  REQUIRE(!r.liquidations.empty());
  CHECK(r.liquidations[0].step == 32);
  CHECK(std::ceil(6000.0 / (p21 * 0.001)) == 665.0);
  CHECK(r.liquidations[0].notional == doctest::Approx(std::llround(p21 * 0.335 * 1e6) / 1e6).epsilon(1e-12));
  // chost 10,000 > the whole lot's 9,029 at k = 21: only a take of all 1,000 lots is allowed.
  // k = 21: 400 lots qualify; k = 22 (9,020.058): 800 (9,039 and 9,029); k = 23 (9,011.038):
  // all 1,000 (9,019 >= 9,011.038, surplus 9,031 - 9,011.038 = 19.96): one take at step 34.
  o = base;
  o.push_back("perp.liquidation.dutch.chost_quote=10000");
  r = run_dutch(-9.6, 1.0, o);
  REQUIRE(r.liquidations.size() == 1);
  check_event(r.liquidations[0], {.step = 34,
                                  .notional = approx(std::llround(9040.0 * 1.02 * std::pow(0.999, 23) * 1e6) / 1e6, 1e-12)});
}

TEST_CASE("dutch hole: a smaller room kicks a partial lot, the rest is kicked once the room frees") {
  // hole_quote 5,000 at index 9,040 (9.04 per lot): floor(5,000 / 9.04) = 553 lots fit; the 447
  // left behind are worth 4,040.88 >= chost 0: a partial kick of 553 lots at step 11. Prices as the
  // hand curve (9,220.8 x 0.99^k): at step 14 (8,946.933) the bot takes the 553 lots (resale
  // 400 @ 9,039 + 153 @ 9,029, surplus >= 1). Cash -9,009 + 553 x 8.946933 = -4,061.35;
  // 0.447 BTC at 9,040 = 4,040.88: equity -20.47, still flagged: kicked again at step 15 (the first
  // auction's tab left Dirt when it ended) for the 447 lots; taken at step 18 (k = 3) at 8,946.933.
  const double p3 = 9040.0 * 1.02 * std::pow(0.99, 3);
  RunResult r = run_dutch(-9.6, 1.0, {"horizon_steps=25", "perp.liquidation.dutch.hole_quote=5000"});
  REQUIRE(r.liquidations.size() == 2);
  CHECK(std::floor(5000.0 / 9.04) == 553.0);
  check_event(r.liquidations[0], {.step = 14, .notional = approx(std::llround(p3 * 0.553 * 1e6) / 1e6, 1e-12)});
  check_event(r.liquidations[1], {.step = 18, .notional = approx(std::llround(p3 * 0.447 * 1e6) / 1e6, 1e-12)});
  // Fund: tip 5 at each kick (steps 11 and 15); the deficit after the last take,
  // 9,009 - both notionals = 62.07, at step 18. No penalty: the equity was negative at each take.
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[11] == doctest::Approx(95.0));
  CHECK(fund[14] == doctest::Approx(95.0));
  CHECK(fund[15] == doctest::Approx(90.0));
  CHECK(metric(r, "insurance_fund_end") ==
        doctest::Approx(90.0 - (9009.0 - r.liquidations[0].notional - r.liquidations[1].notional)).epsilon(1e-12));
  // The same limit as the global Hole alone: the same two kicks.
  RunResult g = run_dutch(-9.6, 1.0, {"horizon_steps=25", "perp.liquidation.dutch.hole_global_quote=5000"});
  REQUIRE(g.liquidations.size() == 2);
  CHECK(g.liquidations[0].notional == r.liquidations[0].notional);
  // chost 4,100: the 447 lots left behind (4,040.88) would be dust: Dog kicks the whole lot.
  r = run_dutch(-9.6, 1.0, {"horizon_steps=25", "perp.liquidation.dutch.hole_quote=5000", "perp.liquidation.dutch.chost_quote=4100"});
  REQUIRE(r.liquidations.size() == 1);
  check_event(r.liquidations[0], {.step = 14, .notional = approx(std::llround(p3 * 1e6) / 1e6, 1e-12)});
  // hole 3,000: 331 lots fit (2,992.24) < chost 3,500 while the 669 left (6,047.76) are not dust:
  // a dusty partial auction is not kicked; nothing else ever frees room: no take, no incentive.
  r = run_dutch(-9.6, 1.0, {"horizon_steps=25", "perp.liquidation.dutch.hole_quote=3000", "perp.liquidation.dutch.chost_quote=3500"});
  CHECK(r.liquidations.empty());
  CHECK(metric(r, "insurance_fund_end") == doctest::Approx(100.0));
}

TEST_CASE("dutch incentive: no lot, no kick cost and no incentive - redo pays only on a lot worth >= chost") {
  // Hand world: an account of cash -10 holding 0.0005 BTC of contracts (half a lot: dust) at mark
  // 10,000: equity -5, flagged. Its kick finds no lot: no bot is asked, nobody pays a transaction,
  // no tip; its deficit 10 is settled at once by the fund (100 -> 90).
  sl::test::HandWorld w(100.0);
  const AccountId bot_acc = add_tx1_bot(w);
  const std::uint32_t id = w.account("dust", -10.0, 0.0005);
  auto pol = dutch_tip5(0);
  w.set_mark(10000.0, 1);
  w.run(*pol, 1);
  CHECK(w.me->account(id).closed);
  CHECK(w.L.balance(bot_acc, sl::test::kUsd) == sl::test::U(1000));
  CHECK(w.L.balance(w.sys.network_fees, sl::test::kUsd) == 0);
  CHECK(w.fund() == sl::test::U(90));
  // Redo with chost 10,000 > the lot's 9,040 at the index: tests/test_engine_policy_dutch.cpp's
  // congested resets (kick at step 11, redos at 14 and 17, tip 2,500 each) now pay only the kick.
  const RunResult r = run_dutch(-9.6, 1.0,
                                {"agents.liquidators.tx_cost=2000", "agents.liquidators.capital=100000",
                                 "perp.liquidation.dutch.tip=2500", "perp.liquidation.insurance_fund_start=100000",
                                 "perp.liquidation.dutch.buf=1", "perp.liquidation.dutch.cut=0.9", "perp.liquidation.dutch.cusp=0.8",
                                 "perp.liquidation.dutch.chost_quote=10000"});
  CHECK(r.liquidations.empty());
  const auto& fund = series(r, "insurance_fund");
  CHECK(fund[11] == doctest::Approx(97500.0));
  CHECK(fund[14] == doctest::Approx(97500.0));
  CHECK(fund[19] == doctest::Approx(97500.0));
}

TEST_CASE("limiting case: a bot taking at buf 1 on a deep book vs the market policy") {
  // Ladder world with 5 BTC per perp level (the whole 1 BTC lot fits the best bid, 9,039) and a
  // 5 bps taker fee. `market`: the account sells 1 BTC at 9,039 and pays the fee 4.5195: net
  // 9,034.4805. `dutch`, buf 1, cut 0.9999 per second: the bot's reservation for the whole lot is
  // r = 9,039 x (1 - 0.0005) - tx 1 = 9,033.4805; it takes the whole lot at the first curve price
  // <= r, which lies in (r x 0.9999, r] (the previous step's price was above r). So
  //   0 <= market net - dutch proceeds < tx + r x (1 - cut) = 1 + 0.9033 = 1.9033 per BTC,
  // the tolerance: the bot's fixed cost plus one curve step. (No lot rounding: 1 BTC = 1,000 lots
  // exactly; cash is rounded to the micro-unit, far inside.)
  nlohmann::json w = dutch_world(-9.6, 1.0);
  w["agents"]["ladders"][1]["size_per_level"] = 5.0;
  w["venues"]["perp"]["taker_fee_bps"] = 5;
  w["perp"]["liquidation"]["dutch"]["buf"] = 1.0;
  w["perp"]["liquidation"]["dutch"]["cut"] = 0.9999;
  w["horizon_steps"] = 40;
  const RunResult m = sl::test::run_world(w, {}, "market");
  const RunResult d = sl::test::run_world(w, {}, "dutch");
  REQUIRE(m.liquidations.size() == 1);
  REQUIRE(d.liquidations.size() == 1);
  CHECK(m.liquidations[0].price == doctest::Approx(9039.0).epsilon(1e-12));
  const double market_net = m.liquidations[0].notional * (1.0 - 0.0005);
  const double dutch_net = d.liquidations[0].notional;
  const double r = 9039.0 * (1.0 - 0.0005) - 1.0;
  CHECK(d.liquidations[0].price <= r);
  CHECK(market_net - dutch_net >= 0.0);
  CHECK(market_net - dutch_net < 1.0 + r * (1.0 - 0.9999));
  CHECK(metric(d, "bad_debt") == 0.0);
  CHECK(metric(m, "bad_debt") == 0.0);
}

TEST_CASE("dutch incentive: always paid, as Clipper's vat.suck - what the fund's cash lacks is system debt") {
  // Hand world: an account of 1 BTC with cash -8,960, flagged at mark 9,000 (equity 40 < 45). Tip
  // 5, the bot's transaction cost 1. The bot kicks at once and is paid 5 whatever the fund holds:
  // 1,000 - 1 + 5 = 1,004. With 100 in the fund, the fund pays (95 left). With 3, the fund pays 3
  // and the other 2 are new system debt (a transfer from the bad-debt account: bad debt 2). With an
  // empty fund all 5 are. Until 2026-12-06 the payment stopped at the fund's balance (the bot got 3,
  // or 0, having paid its 1).
  for (const double fund : {100.0, 3.0, 0.0}) {
    CAPTURE(fund);
    sl::test::HandWorld w(fund);
    const AccountId bot_acc = add_tx1_bot(w);
    const std::uint32_t id = w.account("A", -8960.0, 1.0);
    auto pol = dutch_tip5(3);
    w.set_mark(9000.0, 1);
    w.run(*pol, 1);
    CHECK(w.me->account(id).in_liquidation);
    CHECK(w.L.balance(bot_acc, sl::test::kUsd) == sl::test::U(1004));
    CHECK(w.fund() == sl::test::U(std::max(0.0, fund - 5.0)));
    CHECK(w.L.balance(w.sys.bad_debt, sl::test::kUsd) == -sl::test::U(std::max(0.0, 5.0 - fund)));
    w.L.check_conservation();
  }
}

TEST_CASE("dutch incentive: a fund whose equity is already below its floor pays none of it (fund_pay, as for a deficit)") {
  // The case above with 100 in the fund that had already borrowed 200 (equity 100 - 200 = -100,
  // below -limit = 0): the fund pays what it can without its equity falling below -limit, nothing,
  // as it would pay nothing of a deficit; the bot still gets its 5, all new system debt. Before
  // fund_pay was shared (2026-12-06), the incentive came out of the fund's cash regardless (95 left).
  sl::test::HandWorld w(100.0);
  const AccountId bot_acc = add_tx1_bot(w);
  w.account("A", -8960.0, 1.0);
  auto pol = dutch_tip5(3);
  pol->fund_credit().borrowed = sl::test::U(200);
  w.set_mark(9000.0, 1);
  w.run(*pol, 1);
  CHECK(w.L.balance(bot_acc, sl::test::kUsd) == sl::test::U(1004));
  CHECK(w.fund() == sl::test::U(100));
  CHECK(pol->fund_credit().incentive_bad_debt == sl::test::U(5));
  CHECK(w.L.balance(w.sys.bad_debt, sl::test::kUsd) == -sl::test::U(5));
  w.L.check_conservation();
}

TEST_CASE("dutch incentive end to end: an empty fund borrows the tip within its limit, beyond it the tip is bad debt (incentive_bad_debt)") {
  // The hand Dutch world (tests/support/ladder_world.hpp): the long bought 1 BTC at 10,009 on
  // average with 1,000 of margin (cash -9,009), is flagged at step 11 (equity 31 < 45.2) and the bot
  // kicks for the tip 5; the bot takes at step 14 at 9,040 x 1.02 x 0.99^3 = 8,946.933019, below
  // the bankruptcy price 9,009: a deficit of 62.066981. With insurance_fund_start 0 both are bad
  // debt: the tip as new system debt (incentive_bad_debt 5), the deficit as the flat account's.
  const RunResult r = run_dutch(-9.6, 1.0, {"perp.liquidation.insurance_fund_start=0"});
  REQUIRE(r.liquidations.size() == 1);
  CHECK(r.liquidations[0].price == doctest::Approx(9040.0 * 1.02 * std::pow(0.99, 3)).epsilon(1e-12));
  CHECK(metric(r, "incentive_bad_debt") == doctest::Approx(5.0).epsilon(1e-12));
  CHECK(metric(r, "bad_debt") == doctest::Approx(5.0 + 62.066981).epsilon(1e-9));
  CHECK(metric(r, "conservation_ok") == 1.0);
  // The fund could not carry the tip at the kick (step 11), three steps before the deficit's bad
  // debt (step 14): that is when it was first exhausted (before 2026-12-07 a minted incentive did
  // not count, and the summary said 14).
  CHECK(metric(r, "fund_exhausted_step") == 11.0);
  // With fund_borrow_limit 100 the empty fund borrows instead, as for a deficit (the model's Vow:
  // later surplus repays it): the tip is lent (equity -5, room 95 left), then the deficit 62.066981
  // too: no bad debt, 67.066981 borrowed at the end (the fund earns nothing afterwards).
  const RunResult b = run_dutch(-9.6, 1.0, {"perp.liquidation.insurance_fund_start=0", "perp.liquidation.fund_borrow_limit=100"});
  CHECK(metric(b, "incentive_bad_debt") == 0.0);
  CHECK(metric(b, "bad_debt") == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(metric(b, "fund_borrowed_at_end") == doctest::Approx(5.0 + 62.066981).epsilon(1e-9));
}
