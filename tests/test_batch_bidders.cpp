// The batch auction with real bidders (issue #12 item 2; sim/liquidation/batch.cpp): each bidder
// bids from its own capacity and resale plan (sim/liquidation/bid_valuation.hpp), depth is claimed
// once across the batch, makers bid only from their own quotes, the reserve price binds, latency
// and congestion remove bids, and the limiting case against `market`.
//
// Hand world (tests/support/hand_world.hpp): BTC perp, tick 1, lot 0.001, no fees, mark set by
// hand; maintenance margin 50 bps of the notional (first tier). An isolated long of 1 BTC with cash
// -8,960 at mark 9,000 has equity 40 < 45: flagged; its bankruptcy price is 9,000 - 40 = 8,960.
#include <doctest/doctest.h>

#include <cmath>

#include "agents/liquidator_bot.hpp"
#include "agents/market_maker.hpp"
#include "sim/liquidation/bid_valuation.hpp"
#include "tests/support/bid_book.hpp"
#include "tests/support/event_check.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/ladder_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;  // the shared test worlds and their checks (tests/support/)

namespace {

struct BatchWorld {
  sl::test::HandWorld w{1000.0};
  std::unique_ptr<LiquidationPolicy> pol;
  std::uint32_t id = 0;

  // `bots` bots with tx cost 2, the given latency and max_inventory; batch every step.
  BatchWorld(int bots, int latency_steps, double max_inventory, const std::string& reserve = "bankruptcy") {
    for (int k = 0; k < bots; ++k) {
      LiquidatorConfig lc;
      lc.tx_cost = 2;
      lc.latency_steps = latency_steps;
      lc.max_inventory = max_inventory;
      const AccountId acc = w.L.open_account("bot" + std::to_string(k));
      w.L.mint(acc, kUsd, U(100'000));
      w.bots.emplace_back(lc, acc, 10 + k, make_rng(1, 0, 20 + static_cast<std::uint64_t>(k)));
    }
    LiquidationConfig cfg;
    cfg.policy = "batch";
    cfg.batch.batch_interval_steps = 1;
    cfg.batch.reserve = reserve;
    cfg.penalty_bps = 100;
    cfg.liquidator_share = 0.5;
    pol = make_liquidation_policy(cfg);
    id = w.account("A", -8960.0, 1.0);
  }
  void bid_book(Tick px, Lots lots) { w.m.assets[0].perp->limit(w.book_maker, Side::Buy, px, lots); }
  void step(std::int64_t t) {
    w.set_mark(9000.0, t);
    w.run(*pol, t);
  }
  double perp(AccountId a) const { return from_micros(w.L.balance(a, kPerp)); }
};

}  // namespace

TEST_CASE("batch: two bots facing the same depth do not both count it") {
  // One bid in the book: 500 lots @ 8,990. Two bots, no hold room (max_inventory 0). The first bot
  // (seeded order) prices its resale on the 500 lots: fixed cost 2 / 500 lots = 4 per BTC: bid
  // 500 @ 8,986, and claims them; the second finds no unclaimed depth and no room: no bid.
  // Clearing 1,000 pooled lots: 500 filled at 8,986 (>= the reserve 8,960); 500 stay pooled.
  // Counting the depth twice would have filled all 1,000.
  BatchWorld b(2, 0, 0.0);
  b.bid_book(8990, 500);
  b.step(1);
  REQUIRE(b.w.events.size() == 1);
  check_event(b.w.events[0], {.notional = approx(4493.0, 1e-12), .price = exactly(8986.0)});
  const double p0 = b.perp(b.w.bots[0].account()), p1 = b.perp(b.w.bots[1].account());
  CHECK(p0 + p1 == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(p0 * p1 == 0.0);  // one bot only
  CHECK(b.w.L.balance(b.w.sys.network_fees, kUsd) == U(2));  // one transaction
  CHECK(b.w.bal(b.id, kPerp) == U(0.5));
  CHECK(b.w.me->account(b.id).in_liquidation);
  b.w.L.check_conservation();
}

TEST_CASE("batch: a market maker bids only from its own quotes, within its room and cash") {
  // The maker rests bids 300 lots @ 8,995 and 200 @ 8,985 and an ask; another trader rests a better
  // bid, 500 @ 8,999. Share 0.5: the maker bids 150 @ 8,995 and 100 @ 8,985, never at 8,999.
  sl::test::BidBook b;
  const AccountId mm = b.L.open_account("maker");
  b.L.mint(mm, 0, 1'000'000'000'000);
  b.rest(Side::Buy, {{8999, 500}}, b.other);
  const OrderId q1 = b.v.limit(mm, Side::Buy, 8995, 300).id;
  const OrderId q2 = b.v.limit(mm, Side::Buy, 8985, 200).id;
  const OrderId q3 = b.v.limit(mm, Side::Sell, 9005, 300).id;
  const std::vector<OrderId> own{q1, q3, q2};
  std::vector<SealedBid> out;
  CHECK(own_quote_bids(b.v, own, true, 0.5, 1000, U(1e9), 9, out) == 250);
  REQUIRE(out.size() == 2);
  CHECK(out[0].bidder == 9);
  CHECK(out[0].price == 8995);
  CHECK(out[0].qty == 150);
  CHECK(out[1].price == 8985);
  CHECK(out[1].qty == 100);
  // Inventory room 200 lots: 150 + 50.
  out.clear();
  CHECK(own_quote_bids(b.v, own, true, 0.5, 200, U(1e9), 9, out) == 200);
  CHECK(out[1].qty == 50);
  // Cash 150 x 8.995 + 5 = 1,354.25: the second quote gets floor(5 / 8.985) = 0 lots.
  out.clear();
  CHECK(own_quote_bids(b.v, own, true, 0.5, 1000, U(1354.25), 9, out) == 150);
  CHECK(out.size() == 1);
  // Offers (the pool buys back): its ask only, 150 @ 9,005 (no cash needed to sell).
  out.clear();
  CHECK(own_quote_bids(b.v, own, false, 0.5, 1000, 0, 9, out) == 150);
  REQUIRE(out.size() == 1);
  CHECK(out[0].price == 9005);
}

TEST_CASE("batch: the reserve (bankruptcy) price binds") {
  // Bid 1 BTC @ 8,962 in the book, one bot, fixed cost 2 / 1,000 lots = 2 per BTC: bid 8,960 =
  // the reserve 8,960: it clears with the bot at 8,960 (cash 0, no penalty, no deficit).
  {
    BatchWorld b(1, 0, 0.0);
    b.bid_book(8962, 1000);
    b.step(1);
    REQUIRE(b.w.events.size() == 1);
    check_event(b.w.events[0], {.policy_path = "batch", .price = exactly(8960.0)});
    CHECK(b.w.fund() == U(1000));
  }
  // Bid @ 8,961: the bot bids 8,959 < 8,960: the account leaves the batch; the protocol sells its
  // 1 BTC into the book at 8,961 (cash +1: penalty min(89.61, 1) = 1 to the fund).
  {
    BatchWorld b(1, 0, 0.0);
    b.bid_book(8961, 1000);
    b.step(1);
    REQUIRE(b.w.events.size() == 1);
    check_event(b.w.events[0], {.policy_path = "batch>book", .price = exactly(8961.0), .liquidator = -1});
    CHECK(b.w.fund() == U(1001));
    CHECK(b.perp(b.w.bots[0].account()) == 0.0);
  }
  // Reserve "none": the bot's 8,959 clears; cash -1, the fund pays it.
  {
    BatchWorld b(1, 0, 0.0, "none");
    b.bid_book(8961, 1000);
    b.step(1);
    REQUIRE(b.w.events.size() == 1);
    check_event(b.w.events[0], {.policy_path = "batch>insurance", .price = exactly(8959.0)});
    CHECK(b.w.fund() == U(999));
  }
}

TEST_CASE("batch: latency, and congestion's latency multiplier, remove a bot's bid") {
  // Bot latency 1; the account is flagged at step 1 and joins the pool; batches every step. Step 1:
  // 1 - 1 = 0 < 1, the bot has not seen it: no bid; the account joined this step (no bidding window
  // yet), so it waits. Step 2: the bot bids (8,960 on a bid of 1 BTC @ 8,962) and it clears.
  // Congestion (latency multiplier 3): latency ceil(3) = 3: at step 2 the bot still has not seen it,
  // nothing clears, and the account, offered and unfilled, goes to the venue's own order: an IOC
  // at its bankruptcy price 8,960 sells 1 BTC into the 8,962 bid: cash -8,960 + 8,962 = 2, penalty
  // min(89.62, 2) = 2, all to the fund (no liquidator): the fund ends at 1,002.
  for (const double mult : {1.0, 3.0}) {
    CAPTURE(mult);
    BatchWorld b(1, 1, 0.0);
    b.w.m.liquidator_latency_multiplier = mult;
    b.bid_book(8962, 1000);
    b.step(1);
    CHECK(b.w.events.empty());
    b.step(2);
    REQUIRE(b.w.events.size() == 1);
    if (mult == 1.0) {
      check_event(b.w.events[0], {.step = 2, .policy_path = "batch", .price = exactly(8960.0)});
    } else {
      check_event(b.w.events[0], {.step = 2, .policy_path = "batch>book", .price = exactly(8962.0), .penalty = approx(2.0, 1e-12),
                                  .liquidator = -1});
      CHECK(b.w.fund() == U(1002));
    }
  }
}

TEST_CASE("limiting case: batch every step with one bidder vs the market policy on a deep book") {
  // Ladder world, 5 BTC per perp level, 5 bps taker fee (as tests/test_dutch_clipper.cpp). `market`
  // nets 9,039 x (1 - 0.0005) = 9,034.4805 per BTC. The batch's one bot bids the whole lot at
  // floor_tick(9,039 x (1 - 0.0005) - tx 1 / 1 BTC) = floor(9,033.4805) = 9,033: the account gets
  // 9,033 (no venue fee off-book). Derived tolerance: the bid lies in (net - F/q - 1 tick,
  // net - F/q], so 1 <= market net - batch < 1 + 1 tick = 2 per BTC.
  nlohmann::json w = sl::test::ladder_world(-9.6);
  w["agents"]["ladders"][1]["size_per_level"] = 5.0;
  w["agents"]["liquidators"]["capital"] = 20000;
  w["venues"]["perp"]["taker_fee_bps"] = 5;
  w["perp"]["liquidation"]["batch"] = {{"batch_interval_steps", 1}};
  const RunResult m = sl::test::run_world(w, {}, "market");
  const RunResult b = sl::test::run_world(w, {}, "batch");
  REQUIRE(m.liquidations.size() == 1);
  REQUIRE(b.liquidations.size() == 1);
  check_event(b.liquidations[0], {.step = 11, .price = exactly(9033.0)});
  const double diff = m.liquidations[0].notional * (1.0 - 0.0005) - b.liquidations[0].notional;
  CHECK(diff >= 1.0);
  CHECK(diff < 2.0);
  CHECK(metric(b, "bad_debt") == 0.0);
}

TEST_CASE("batch: a real market maker (ctx.perp_makers) wins lots at its own quote, never at others' orders") {
  // Hand world, no bot. A MarketMaker on the perp (1 level, 0.5 BTC, fair = the reference 10,000,
  // spread 20 bps, max_inventory 0.2 BTC) quotes one bid near 9,990; another trader rests 500 lots
  // @ 8,990. Share 0.5: the maker bids 250 lots at its quote price, capped by its inventory room
  // 0.2 BTC = 200 lots. The pool of 1,000 lots fills 200 at the maker's price (>= the reserve
  // 8,960); the other trader's bid is neither bid into the batch nor touched.
  BatchWorld b(0, 0, 0.0);
  b.bid_book(8990, 500);
  // fair_value reference, skew 5 bps, no withdrawal (the makers before #14): quotes around the reference as computed here.
  const MarketMakerConfig mc{.base_spread_bps = 20, .reference_weight = 1.0, .vol_spread_mult = 0, .levels = 1,
                             .quote_size = 0.5, .depth_vol_sensitivity = 0, .inventory_skew_bps = 5.0, .max_inventory = 0.2,
                             .hedge = false, .fair_value = "reference", .withdrawal = {.enabled = false}};
  const AccountId mm_acc = b.w.L.open_account("maker");
  b.w.L.mint(mm_acc, kUsd, U(1e6));
  MarketMaker mm(mc, mm_acc, 0, VenueKind::Perp, 0, make_rng(1, 0, 30));
  b.w.set_mark(9000.0, 1);
  mm.act(b.w.m);
  REQUIRE(mm.quotes().size() == 2);  // one bid, one ask
  const RestingOrder* q = b.w.m.assets[0].perp->book().find(mm.quotes()[0]);
  REQUIRE(q != nullptr);
  CHECK(q->side == Side::Buy);
  CHECK(q->qty == 500);
  CHECK(q->price > 8990);
  const std::vector<std::vector<const MarketMaker*>> makers{{&mm}};
  b.w.makers = {{mm_acc}};
  LiquidationContext ctx{b.w.m, *b.w.me, b.w.bots, b.w.kinds, b.w.rng, 1, b.w.sys, b.w.events, b.w.makers, nullptr};
  ctx.perp_makers = &makers;
  b.pol->on_step(ctx);
  REQUIRE(b.w.events.size() == 1);
  // makers only
  check_event(b.w.events[0], {.price = exactly(static_cast<double>(q->price)), .liquidator = -1});
  CHECK(b.w.L.balance(mm_acc, kPerp) == U(0.2));
  CHECK(b.w.L.balance(mm_acc, kUsd) == U(1e6) - b.w.m.assets[0].perp->notional(q->price, 200));
  CHECK(b.w.m.assets[0].perp->book().volume_at(Side::Buy, 8990) == 500);
  CHECK(b.w.bal(b.id, kPerp) == U(0.8));
  b.w.L.check_conservation();
}

TEST_CASE("batch: an account healthy again at the batch leaves the pool and keeps its position") {
  // The account (1 BTC, cash -8,960) is flagged at step 1 (mark 9,000: equity 40 < 45) and pooled;
  // the bot (latency 1) has not seen it and it joined this step: it waits. Step 2: the mark is back
  // at 9,100: equity 140 >= 0.5% x 9,100 = 45.5, not liquidatable: the batch releases it (no event,
  // no fund takeover; it keeps 1 BTC and its cash). Before 2026-12-06 it stayed pooled: the bot,
  // now seeing it, bid under the book's only bid (1 BTC at 8,900), below its reserve (the
  // bankruptcy price 8,960), which sent the healthy account to the fallback, whose IOC at 8,960
  // fills nothing there, and the fund took it at 8,960, 140 below the mark: its whole margin.
  // Step 3: mark 9,000 again: flagged again, it joins the pool again.
  BatchWorld b(1, 1, 10.0);
  b.bid_book(8900, 1000);
  b.w.set_mark(9000.0, 1);
  b.w.run(*b.pol, 1);
  CHECK(b.w.events.empty());
  CHECK(b.w.me->account(b.id).in_liquidation);
  b.w.set_mark(9100.0, 2);
  b.w.run(*b.pol, 2);
  CHECK(b.w.events.empty());
  CHECK_FALSE(b.w.me->account(b.id).in_liquidation);
  CHECK_FALSE(b.w.me->account(b.id).closed);
  CHECK(b.perp(b.w.me->account(b.id).account) == 1.0);
  CHECK(b.w.fund() == U(1000));
  b.w.set_mark(9000.0, 3);
  b.w.run(*b.pol, 3);
  CHECK(b.w.me->account(b.id).in_liquidation);
  b.w.L.check_conservation();
}
