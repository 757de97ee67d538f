// Unit and property tests of sl::OrderBook. Every expected number below can be checked by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/book/order_book.hpp"

using namespace sl;

namespace {

constexpr auto GTC = TimeInForce::GTC;
constexpr auto IOC = TimeInForce::IOC;

BookConfig small_cfg(Tick max_tick = 1000, bool stp = false, std::uint32_t cap = 64) {
  return BookConfig{max_tick, cap, stp};
}

// Records every fill offered to it and accepts it.
struct Recorder {
  std::vector<Fill> fills;
  FillDecision operator()(const Fill& f) {
    fills.push_back(f);
    return FillDecision::Accept;
  }
};

// Two fields of every fill, in order, e.g. (maker_order, qty): one CHECK per fill sequence.
using Pairs = std::vector<std::pair<std::int64_t, std::int64_t>>;
template <class A, class B>
Pairs fills(const Recorder& r, A Fill::*a, B Fill::*b) {
  Pairs out;
  for (const Fill& f : r.fills) out.emplace_back(static_cast<std::int64_t>(f.*a), static_cast<std::int64_t>(f.*b));
  return out;
}

std::vector<std::pair<Tick, Lots>> levels(const OrderBook& b, Side s, std::size_t max = 1000) {
  std::vector<std::pair<Tick, Lots>> out;
  b.for_each_level(s, max, [&](Tick p, Lots q) {
    out.emplace_back(p, q);
    return true;
  });
  return out;
}

using LV = std::vector<std::pair<Tick, Lots>>;

}  // namespace

TEST_CASE("opposite side and empty book") {
  CHECK(opposite(Side::Buy) == Side::Sell);
  CHECK(opposite(Side::Sell) == Side::Buy);
  OrderBook b(small_cfg());
  CHECK(b.best_bid() == 0);
  CHECK(b.best_ask() == 0);
  CHECK(b.empty(Side::Buy));
  CHECK(b.empty(Side::Sell));
  CHECK(b.order_count() == 0);
  CHECK(b.max_tick() == 1000);
  CHECK(b.find(0) == nullptr);
  CHECK_FALSE(b.cancel(0));
  CHECK(b.check_invariants());
}

TEST_CASE("resting orders: best prices, volume_at, find") {
  OrderBook b(small_cfg());
  auto r1 = b.limit(7, Side::Buy, 100, 5, GTC);
  CHECK(r1.status == SubmitStatus::Ok);
  CHECK(r1.id != 0);
  CHECK(r1.filled == 0);
  CHECK(r1.rested == 5);
  b.limit(8, Side::Buy, 99, 3, GTC);
  b.limit(9, Side::Buy, 100, 2, GTC);
  b.limit(7, Side::Sell, 103, 4, GTC);
  CHECK(b.best_bid() == 100);
  CHECK(b.best_ask() == 103);
  CHECK(b.volume_at(Side::Buy, 100) == 7);
  CHECK(b.volume_at(Side::Buy, 99) == 3);
  CHECK(b.volume_at(Side::Sell, 100) == 0);
  CHECK(b.volume_at(Side::Sell, 103) == 4);
  CHECK(b.volume_at(Side::Buy, 0) == 0);
  CHECK(b.volume_at(Side::Buy, 5000) == 0);
  CHECK(b.order_count() == 4);
  const RestingOrder* o = b.find(r1.id);
  REQUIRE(o != nullptr);
  CHECK(o->id == r1.id);
  CHECK(o->owner == 7);
  CHECK(o->side == Side::Buy);
  CHECK(o->price == 100);
  CHECK(o->qty == 5);
  CHECK(b.check_invariants());
}

TEST_CASE("price-time priority: better price first, then arrival order") {
  OrderBook b(small_cfg());
  auto a1 = b.limit(1, Side::Sell, 100, 5, GTC);
  auto a2 = b.limit(2, Side::Sell, 100, 5, GTC);
  auto a3 = b.limit(3, Side::Sell, 99, 5, GTC);
  Recorder rec;
  auto r = b.market(10, Side::Buy, 12, rec);
  CHECK(r.status == SubmitStatus::Ok);
  CHECK(r.filled == 12);
  CHECK(r.rested == 0);
  CHECK(r.id == 0);
  REQUIRE(rec.fills.size() == 3);
  // 99 is the better ask: a3 first (5 lots), then a1 (arrived before a2) 5 lots, then a2 2 lots.
  CHECK(rec.fills[0].maker_order == a3.id);
  CHECK(rec.fills[0].maker == 3);
  CHECK(rec.fills[0].price == 99);
  CHECK(rec.fills[0].qty == 5);
  CHECK(rec.fills[1].maker_order == a1.id);
  CHECK(rec.fills[1].price == 100);
  CHECK(rec.fills[1].qty == 5);
  CHECK(rec.fills[2].maker_order == a2.id);
  CHECK(rec.fills[2].price == 100);
  CHECK(rec.fills[2].qty == 2);
  for (const Fill& f : rec.fills) {
    CHECK(f.taker == 10);
    CHECK(f.taker_side == Side::Buy);
  }
  // a2 keeps 3 lots at the head of 100.
  REQUIRE(b.find(a2.id) != nullptr);
  CHECK(b.find(a2.id)->qty == 3);
  CHECK(b.find(a1.id) == nullptr);
  CHECK(b.find(a3.id) == nullptr);
  CHECK(b.best_ask() == 100);
  CHECK(b.volume_at(Side::Sell, 100) == 3);
  CHECK(b.order_count() == 1);
  CHECK(b.check_invariants());
}

TEST_CASE("partial fill leaves the maker remainder at the head of its level") {
  OrderBook b(small_cfg());
  auto m1 = b.limit(1, Side::Sell, 100, 10, GTC);
  auto m2 = b.limit(2, Side::Sell, 100, 4, GTC);
  Recorder rec;
  auto r = b.limit(3, Side::Buy, 100, 4, GTC, rec);
  CHECK(r.filled == 4);
  CHECK(r.rested == 0);
  CHECK(r.id == 0);
  REQUIRE(rec.fills.size() == 1);
  CHECK(rec.fills[0].maker_order == m1.id);
  CHECK(b.find(m1.id)->qty == 6);
  CHECK(b.volume_at(Side::Sell, 100) == 10);
  // The next taker still meets m1 first.
  rec.fills.clear();
  b.limit(3, Side::Buy, 100, 7, GTC, rec);
  CHECK(fills(rec, &Fill::maker_order, &Fill::qty) == Pairs{{m1.id, 6}, {m2.id, 1}});
  CHECK(b.find(m2.id)->qty == 3);
  CHECK(b.check_invariants());
}

TEST_CASE("crossing limit order trades at resting prices and rests its remainder") {
  OrderBook b(small_cfg());
  b.limit(1, Side::Sell, 100, 3, GTC);
  b.limit(1, Side::Sell, 101, 4, GTC);
  b.limit(1, Side::Sell, 102, 5, GTC);
  Recorder rec;
  auto r = b.limit(2, Side::Buy, 101, 10, GTC, rec);
  CHECK(r.status == SubmitStatus::Ok);
  CHECK(r.filled == 7);  // 3 @100 + 4 @101
  CHECK(r.rested == 3);
  REQUIRE(r.id != 0);
  CHECK(fills(rec, &Fill::price, &Fill::qty) == Pairs{{100, 3}, {101, 4}});
  CHECK(b.best_bid() == 101);
  CHECK(b.best_ask() == 102);
  CHECK(b.find(r.id)->qty == 3);
  CHECK(b.find(r.id)->price == 101);
  CHECK(b.volume_at(Side::Buy, 101) == 3);
  CHECK(b.volume_at(Side::Sell, 101) == 0);
  CHECK(b.check_invariants());

  // A sell limit crossing the bid trades at the bid's price (101), not its own (95).
  rec.fills.clear();
  auto s = b.limit(3, Side::Sell, 95, 5, GTC, rec);
  CHECK(s.filled == 3);
  CHECK(s.rested == 2);
  REQUIRE(rec.fills.size() == 1);
  CHECK(rec.fills[0].price == 101);
  CHECK(rec.fills[0].taker_side == Side::Sell);
  CHECK(b.best_bid() == 0);
  CHECK(b.best_ask() == 95);
  CHECK(b.check_invariants());
}

TEST_CASE("IOC remainder is dropped") {
  OrderBook b(small_cfg());
  b.limit(1, Side::Sell, 100, 3, GTC);
  b.limit(1, Side::Sell, 101, 4, GTC);
  b.limit(1, Side::Sell, 102, 5, GTC);
  auto r = b.limit(2, Side::Buy, 101, 10, IOC);
  CHECK(r.status == SubmitStatus::Ok);
  CHECK(r.filled == 7);
  CHECK(r.rested == 0);
  CHECK(r.id == 0);
  CHECK(b.best_bid() == 0);
  CHECK(b.best_ask() == 102);
  CHECK(b.order_count() == 1);
  // An IOC that does not cross does nothing.
  auto r2 = b.limit(2, Side::Buy, 50, 10, IOC);
  CHECK(r2.filled == 0);
  CHECK(r2.rested == 0);
  CHECK(b.order_count() == 1);
  CHECK(b.check_invariants());
}

TEST_CASE("cancel: O(1) by id, stale ids rejected, best price moves to a far level") {
  OrderBook b(small_cfg(100'000));
  auto far_bid = b.limit(1, Side::Buy, 10, 2, GTC);
  auto best = b.limit(1, Side::Buy, 50'000, 3, GTC);
  auto far_ask = b.limit(1, Side::Sell, 99'990, 4, GTC);
  auto ask = b.limit(1, Side::Sell, 50'001, 5, GTC);
  CHECK(b.best_bid() == 50'000);
  CHECK(b.best_ask() == 50'001);
  CHECK(b.cancel(best.id));
  CHECK(b.best_bid() == 10);  // 49'990 empty ticks skipped
  CHECK(b.cancel(ask.id));
  CHECK(b.best_ask() == 99'990);
  CHECK(b.check_invariants());
  // Stale after cancel.
  CHECK_FALSE(b.cancel(best.id));
  CHECK(b.find(best.id) == nullptr);
  // The freed slot is reused with a new generation: the old id stays stale.
  auto reuse = b.limit(1, Side::Buy, 20, 1, GTC);
  CHECK(reuse.id != ask.id);
  CHECK((reuse.id & 0xFFFFFFFFu) == (ask.id & 0xFFFFFFFFu));  // same slot (LIFO free list), new generation
  CHECK((reuse.id >> 32) == (ask.id >> 32) + 1);
  CHECK_FALSE(b.cancel(ask.id));
  CHECK_FALSE(b.cancel(best.id));
  CHECK(b.find(reuse.id) != nullptr);
  // Stale after a full fill.
  auto f = b.market(2, Side::Sell, 1);
  CHECK(f.filled == 1);  // hits the bid at 20
  CHECK_FALSE(b.cancel(reuse.id));
  // Garbage ids.
  CHECK_FALSE(b.cancel(0));
  CHECK_FALSE(b.cancel(0xFFFFFFFFull));
  CHECK_FALSE(b.cancel((std::uint64_t{5} << 32) | 1));
  // Cancelling the last orders empties the sides.
  CHECK(b.cancel(far_bid.id));
  CHECK(b.cancel(far_ask.id));
  CHECK(b.empty(Side::Buy));
  CHECK(b.empty(Side::Sell));
  CHECK(b.order_count() == 0);
  CHECK(b.check_invariants());
}

TEST_CASE("cancel in the middle of a level keeps the FIFO order of the others") {
  OrderBook b(small_cfg());
  auto o1 = b.limit(1, Side::Buy, 100, 1, GTC);
  auto o2 = b.limit(2, Side::Buy, 100, 2, GTC);
  auto o3 = b.limit(3, Side::Buy, 100, 3, GTC);
  CHECK(b.cancel(o2.id));
  CHECK(b.volume_at(Side::Buy, 100) == 4);
  CHECK(b.check_invariants());
  Recorder rec;
  b.market(9, Side::Sell, 4, rec);
  REQUIRE(rec.fills.size() == 2);
  CHECK(rec.fills[0].maker_order == o1.id);
  CHECK(rec.fills[1].maker_order == o3.id);
  CHECK(b.empty(Side::Buy));
  CHECK(b.check_invariants());
}

TEST_CASE("modify: decrease keeps priority, increase and price change lose it") {
  SUBCASE("decrease at the same price keeps priority and id") {
    OrderBook b(small_cfg());
    auto a = b.limit(1, Side::Buy, 100, 5, GTC);
    auto c = b.limit(2, Side::Buy, 100, 5, GTC);
    auto m = b.modify(a.id, 100, 3);
    CHECK(m.status == SubmitStatus::Ok);
    CHECK(m.id == a.id);
    CHECK(m.rested == 3);
    CHECK(m.filled == 0);
    CHECK(b.volume_at(Side::Buy, 100) == 8);
    Recorder rec;
    b.market(9, Side::Sell, 4, rec);
    // still first
    CHECK(fills(rec, &Fill::maker_order, &Fill::qty) == Pairs{{a.id, 3}, {c.id, 1}});
    CHECK(b.check_invariants());
  }
  SUBCASE("increase loses priority and gets a new id") {
    OrderBook b(small_cfg());
    auto a = b.limit(1, Side::Buy, 100, 5, GTC);
    auto c = b.limit(2, Side::Buy, 100, 5, GTC);
    auto m = b.modify(a.id, 100, 8);
    CHECK(m.status == SubmitStatus::Ok);
    CHECK(m.id != 0);
    CHECK(m.id != a.id);
    CHECK(m.rested == 8);
    CHECK(b.find(a.id) == nullptr);
    CHECK(b.find(m.id)->owner == 1);
    CHECK(b.volume_at(Side::Buy, 100) == 13);
    Recorder rec;
    b.market(9, Side::Sell, 6, rec);
    // now first
    CHECK(fills(rec, &Fill::maker_order, &Fill::qty) == Pairs{{c.id, 5}, {m.id, 1}});
    CHECK(b.check_invariants());
  }
  SUBCASE("price change loses priority even with a smaller quantity") {
    OrderBook b(small_cfg());
    auto a = b.limit(1, Side::Sell, 105, 5, GTC);
    auto c = b.limit(2, Side::Sell, 104, 5, GTC);
    auto m = b.modify(a.id, 104, 2);
    CHECK(m.id != a.id);
    CHECK(m.rested == 2);
    CHECK(b.volume_at(Side::Sell, 105) == 0);
    CHECK(b.volume_at(Side::Sell, 104) == 7);
    Recorder rec;
    b.market(9, Side::Buy, 6, rec);
    REQUIRE(rec.fills.size() == 2);
    CHECK(rec.fills[0].maker_order == c.id);
    CHECK(rec.fills[1].maker_order == m.id);
    CHECK(rec.fills[1].qty == 1);
    CHECK(b.check_invariants());
  }
  SUBCASE("price change that crosses trades, then rests the remainder") {
    OrderBook b(small_cfg());
    auto ask = b.limit(1, Side::Sell, 105, 5, GTC);
    auto bid = b.limit(2, Side::Buy, 100, 8, GTC);
    Recorder rec;
    auto m = b.modify(bid.id, 106, 8, rec);
    CHECK(m.status == SubmitStatus::Ok);
    CHECK(m.filled == 5);
    CHECK(m.rested == 3);
    REQUIRE(rec.fills.size() == 1);
    CHECK(rec.fills[0].maker_order == ask.id);
    CHECK(rec.fills[0].price == 105);  // maker's price
    CHECK(rec.fills[0].taker == 2);
    CHECK(b.best_bid() == 106);
    CHECK(b.best_ask() == 0);
    CHECK(b.volume_at(Side::Buy, 100) == 0);
    CHECK(b.check_invariants());
  }
  SUBCASE("zero quantity cancels; stale and out-of-range are rejected") {
    OrderBook b(small_cfg());
    auto a = b.limit(1, Side::Buy, 100, 5, GTC);
    auto bad = b.modify(a.id, 0, 5);
    CHECK(bad.status == SubmitStatus::Rejected);
    CHECK(b.modify(a.id, 1001, 5).status == SubmitStatus::Rejected);
    CHECK(b.find(a.id)->qty == 5);  // untouched
    auto z = b.modify(a.id, 100, 0);
    CHECK(z.status == SubmitStatus::Ok);
    CHECK(z.id == 0);
    CHECK(b.find(a.id) == nullptr);
    CHECK(b.empty(Side::Buy));
    CHECK(b.modify(a.id, 100, 5).status == SubmitStatus::Rejected);
    CHECK(b.check_invariants());
  }
}

TEST_CASE("market order on an empty side fills nothing") {
  OrderBook b(small_cfg());
  b.limit(1, Side::Buy, 100, 5, GTC);
  Recorder rec;
  auto r = b.market(2, Side::Buy, 10, rec);
  CHECK(r.status == SubmitStatus::Ok);
  CHECK(r.filled == 0);
  CHECK(r.rested == 0);
  CHECK(r.id == 0);
  CHECK(rec.fills.empty());
  CHECK(b.order_count() == 1);
  CHECK(b.check_invariants());
}

TEST_CASE("market order sweeping several levels") {
  OrderBook b(small_cfg());
  b.limit(1, Side::Sell, 100, 2, GTC);
  b.limit(1, Side::Sell, 101, 3, GTC);
  b.limit(1, Side::Sell, 103, 5, GTC);
  Recorder rec;
  auto r = b.market(2, Side::Buy, 7, rec);
  CHECK(r.filled == 7);
  CHECK(fills(rec, &Fill::price, &Fill::qty) == Pairs{{100, 2}, {101, 3}, {103, 2}});
  Lots notional = 0;
  for (const Fill& f : rec.fills) notional += f.price * f.qty;
  CHECK(notional == 709);  // 200 + 303 + 206; VWAP = 709 / 7 = 101.29
  CHECK(static_cast<double>(notional) / 7.0 == doctest::Approx(101.2857).epsilon(1e-4));
  CHECK(b.best_ask() == 103);
  CHECK(b.volume_at(Side::Sell, 103) == 3);
  // More than the whole side: fills what there is, never rests.
  auto r2 = b.market(2, Side::Buy, 100);
  CHECK(r2.filled == 3);
  CHECK(r2.rested == 0);
  CHECK(b.empty(Side::Sell));
  CHECK(b.empty(Side::Buy));
  CHECK(b.check_invariants());
}

TEST_CASE("fill decisions: CancelMaker and StopTaker") {
  SUBCASE("CancelMaker removes the maker without a fill and matching continues") {
    OrderBook b(small_cfg());
    auto a = b.limit(1, Side::Sell, 100, 5, GTC);
    auto c = b.limit(2, Side::Sell, 100, 5, GTC);
    std::vector<Fill> accepted;
    auto r = b.limit(3, Side::Buy, 100, 6, GTC, [&](const Fill& f) {
      if (f.maker == 1) return FillDecision::CancelMaker;
      accepted.push_back(f);
      return FillDecision::Accept;
    });
    CHECK(r.filled == 5);
    CHECK(r.rested == 1);
    REQUIRE(accepted.size() == 1);
    CHECK(accepted[0].maker_order == c.id);
    CHECK(b.find(a.id) == nullptr);
    CHECK(b.find(c.id) == nullptr);
    CHECK(b.best_bid() == 100);  // remainder 1 rests at 100, no ask left
    CHECK(b.best_ask() == 0);
    CHECK(b.order_count() == 1);
    CHECK(b.check_invariants());
  }
  SUBCASE("StopTaker stops matching and the remainder neither fills nor rests") {
    OrderBook b(small_cfg());
    b.limit(1, Side::Sell, 100, 5, GTC);
    auto c = b.limit(2, Side::Sell, 101, 5, GTC);
    int calls = 0;
    auto r = b.limit(3, Side::Buy, 101, 8, GTC, [&](const Fill& f) {
      ++calls;
      return f.maker == 2 ? FillDecision::StopTaker : FillDecision::Accept;
    });
    CHECK(calls == 2);
    CHECK(r.status == SubmitStatus::Ok);
    CHECK(r.filled == 5);
    CHECK(r.rested == 0);
    CHECK(r.id == 0);
    CHECK(b.best_bid() == 0);
    CHECK(b.best_ask() == 101);
    CHECK(b.find(c.id)->qty == 5);  // untouched
    CHECK(b.check_invariants());
  }
  SUBCASE("StopTaker on a market order") {
    OrderBook b(small_cfg());
    b.limit(1, Side::Buy, 100, 5, GTC);
    auto r = b.market(3, Side::Sell, 4, [](const Fill&) { return FillDecision::StopTaker; });
    CHECK(r.filled == 0);
    CHECK(b.volume_at(Side::Buy, 100) == 5);
    CHECK(b.check_invariants());
  }
  SUBCASE("void callback means accept") {
    OrderBook b(small_cfg());
    b.limit(1, Side::Buy, 100, 5, GTC);
    Lots seen = 0;
    auto r = b.market(3, Side::Sell, 4, [&](const Fill& f) { seen += f.qty; });
    CHECK(r.filled == 4);
    CHECK(seen == 4);
  }
}

TEST_CASE("self-trade prevention cancels the resting order and keeps matching") {
  SUBCASE("on") {
    OrderBook b(small_cfg(1000, true));
    auto own = b.limit(1, Side::Sell, 100, 5, GTC);
    auto other = b.limit(2, Side::Sell, 100, 5, GTC);
    Recorder rec;
    auto r = b.limit(1, Side::Buy, 100, 8, GTC, rec);
    REQUIRE(rec.fills.size() == 1);  // no fill offered for the self-match
    CHECK(rec.fills[0].maker_order == other.id);
    CHECK(rec.fills[0].qty == 5);
    CHECK(r.filled == 5);
    CHECK(r.rested == 3);
    CHECK(b.find(own.id) == nullptr);
    CHECK(b.best_bid() == 100);
    CHECK(b.best_ask() == 0);
    CHECK(b.check_invariants());
  }
  SUBCASE("off: an owner may trade with itself") {
    OrderBook b(small_cfg(1000, false));
    auto own = b.limit(1, Side::Sell, 100, 5, GTC);
    Recorder rec;
    auto r = b.limit(1, Side::Buy, 100, 8, GTC, rec);
    REQUIRE(rec.fills.size() == 1);
    CHECK(rec.fills[0].maker_order == own.id);
    CHECK(rec.fills[0].maker == 1);
    CHECK(rec.fills[0].taker == 1);
    CHECK(r.filled == 5);
    CHECK(r.rested == 3);
  }
}

TEST_CASE("depth_within, depth_between, for_each_level") {
  OrderBook b(small_cfg());
  b.limit(1, Side::Buy, 100, 1, GTC);
  b.limit(1, Side::Buy, 98, 2, GTC);
  b.limit(1, Side::Buy, 95, 3, GTC);
  b.limit(1, Side::Sell, 102, 4, GTC);
  b.limit(1, Side::Sell, 103, 5, GTC);
  b.limit(1, Side::Sell, 110, 6, GTC);
  CHECK(b.depth_within(Side::Buy, 0) == 1);
  CHECK(b.depth_within(Side::Buy, 2) == 3);   // 100, 98
  CHECK(b.depth_within(Side::Buy, 4) == 3);
  CHECK(b.depth_within(Side::Buy, 5) == 6);   // 100, 98, 95
  CHECK(b.depth_within(Side::Buy, 1000) == 6);
  CHECK(b.depth_within(Side::Sell, 1) == 9);  // 102, 103
  CHECK(b.depth_within(Side::Sell, 8) == 15);
  CHECK(b.depth_within(Side::Sell, -1) == 0);
  CHECK(b.depth_between(Side::Sell, 103, 110) == 11);
  CHECK(b.depth_between(Side::Buy, 96, 99) == 2);
  CHECK(b.depth_between(Side::Buy, 101, 200) == 0);
  CHECK(b.depth_between(Side::Buy, -50, 5000) == 6);
  CHECK(b.depth_between(Side::Sell, 110, 102) == 0);
  CHECK(levels(b, Side::Buy) == LV{{100, 1}, {98, 2}, {95, 3}});
  CHECK(levels(b, Side::Sell) == LV{{102, 4}, {103, 5}, {110, 6}});
  CHECK(levels(b, Side::Buy, 2) == LV{{100, 1}, {98, 2}});
  CHECK(levels(b, Side::Sell, 0).empty());
  int visited = 0;
  b.for_each_level(Side::Sell, 10, [&](Tick, Lots) { return ++visited < 2; });
  CHECK(visited == 2);  // stopped by returning false
  OrderBook e(small_cfg());
  CHECK(e.depth_within(Side::Buy, 10) == 0);
  CHECK(levels(e, Side::Sell).empty());
}

TEST_CASE("rejections: out-of-range price, non-positive quantity") {
  OrderBook b(small_cfg(1000));
  b.limit(1, Side::Sell, 500, 5, GTC);
  int calls = 0;
  auto cb = [&](const Fill&) {
    ++calls;
    return FillDecision::Accept;
  };
  CHECK(b.limit(2, Side::Buy, 0, 5, GTC, cb).status == SubmitStatus::Rejected);
  CHECK(b.limit(2, Side::Buy, -3, 5, GTC, cb).status == SubmitStatus::Rejected);
  CHECK(b.limit(2, Side::Buy, 1001, 5, GTC, cb).status == SubmitStatus::Rejected);
  CHECK(b.limit(2, Side::Buy, 600, 0, GTC, cb).status == SubmitStatus::Rejected);
  CHECK(b.limit(2, Side::Buy, 600, -1, IOC, cb).status == SubmitStatus::Rejected);
  CHECK(b.market(2, Side::Buy, 0, cb).status == SubmitStatus::Rejected);
  auto r = b.limit(2, Side::Buy, 1001, 5, GTC, cb);
  CHECK(r.id == 0);
  CHECK(r.filled == 0);
  CHECK(r.rested == 0);
  CHECK(calls == 0);
  CHECK(b.volume_at(Side::Sell, 500) == 5);
  CHECK(b.order_count() == 1);
  // The extremes are valid.
  CHECK(b.limit(2, Side::Buy, 1, 1, GTC).status == SubmitStatus::Ok);
  CHECK(b.limit(2, Side::Sell, 1000, 1, GTC).status == SubmitStatus::Ok);
  CHECK(b.best_bid() == 1);
  CHECK(b.best_ask() == 500);
  CHECK(b.check_invariants());
  CHECK_THROWS(OrderBook(BookConfig{0, 16, false}));
}

TEST_CASE("sparse levels over a realistic 1.2M-tick range") {
  OrderBook b(BookConfig{1'200'000, 16, false});
  auto lo = b.limit(1, Side::Buy, 1, 1, GTC);
  auto mid = b.limit(1, Side::Buy, 600'000, 2, GTC);
  auto hi = b.limit(1, Side::Sell, 1'200'000, 3, GTC);
  auto a = b.limit(1, Side::Sell, 600'001, 4, GTC);
  b.limit(1, Side::Sell, 777'777, 5, GTC);
  CHECK(levels(b, Side::Buy) == LV{{600'000, 2}, {1, 1}});
  CHECK(levels(b, Side::Sell) == LV{{600'001, 4}, {777'777, 5}, {1'200'000, 3}});
  CHECK(b.cancel(mid.id));
  CHECK(b.best_bid() == 1);
  CHECK(b.cancel(a.id));
  CHECK(b.best_ask() == 777'777);
  auto r = b.market(2, Side::Buy, 6);
  CHECK(r.filled == 6);
  CHECK(b.best_ask() == 1'200'000);
  CHECK(b.volume_at(Side::Sell, 1'200'000) == 2);
  CHECK(b.depth_between(Side::Sell, 1, 1'200'000) == 2);
  CHECK(b.cancel(hi.id));
  CHECK(b.cancel(lo.id));
  CHECK(b.empty(Side::Buy));
  CHECK(b.empty(Side::Sell));
  CHECK(b.check_invariants());
}

TEST_CASE("clear removes everything and makes old ids stale") {
  OrderBook b(small_cfg());
  std::vector<OrderId> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(b.limit(1, i % 2 ? Side::Buy : Side::Sell, i % 2 ? 100 - i : 101 + i, 1).id);
  b.clear();
  CHECK(b.order_count() == 0);
  CHECK(b.empty(Side::Buy));
  CHECK(b.empty(Side::Sell));
  for (OrderId id : ids) {
    CHECK(b.find(id) == nullptr);
    CHECK_FALSE(b.cancel(id));
  }
  CHECK(b.check_invariants());
  auto r = b.limit(1, Side::Buy, 100, 1);
  CHECK(r.id != 0);
  CHECK(std::find(ids.begin(), ids.end(), r.id) == ids.end());
  CHECK(b.check_invariants());
}

TEST_CASE("pool grows by doubling and does not grow in steady state") {
  SUBCASE("growth") {
    OrderBook b(small_cfg(1000, false, 4));
    CHECK(b.pool_capacity() == 4);
    std::vector<OrderId> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(b.limit(1, Side::Buy, 1 + i % 50, 1).id);
    CHECK(b.pool_capacity() == 128);  // 4 -> 8 -> 16 -> 32 -> 64 -> 128
    for (OrderId id : ids) CHECK(b.find(id) != nullptr);
    CHECK(b.check_invariants());
  }
  SUBCASE("steady-state churn") {
    OrderBook b(small_cfg(10'000, false, 1024));
    std::mt19937_64 rng(42);
    std::vector<OrderId> live;
    // Warm up to 1000 live orders, then churn: each step cancels one random order and adds one.
    while (live.size() < 1000) {
      const bool buy = rng() % 2;
      const Tick p = buy ? 4000 + static_cast<Tick>(rng() % 1000) : 5001 + static_cast<Tick>(rng() % 1000);
      live.push_back(b.limit(1, buy ? Side::Buy : Side::Sell, p, 1 + static_cast<Lots>(rng() % 9)).id);
    }
    const std::size_t cap = b.pool_capacity();
    CHECK(cap == 1024);
    for (int i = 0; i < 200'000; ++i) {
      const std::size_t k = rng() % live.size();
      REQUIRE(b.cancel(live[k]));
      const bool buy = rng() % 2;
      const Tick p = buy ? 4000 + static_cast<Tick>(rng() % 1000) : 5001 + static_cast<Tick>(rng() % 1000);
      live[k] = b.limit(1, buy ? Side::Buy : Side::Sell, p, 1 + static_cast<Lots>(rng() % 9)).id;
    }
    CHECK(b.pool_capacity() == cap);
    CHECK(b.order_count() == 1000);
    CHECK(b.check_invariants());
  }
}

// ---------------------------------------------------------------------------------------------
// Randomized property test against a simple reference model.

namespace {

struct RefOrder {
  OrderId id;
  OwnerId owner;
  Lots qty;
};

struct RefBook {
  bool stp = false;
  Tick max_tick = 0;
  std::map<Tick, std::deque<RefOrder>> side[2];
  std::map<OrderId, std::pair<Side, Tick>> where;

  Tick best(Side s) const {
    const auto& m = side[static_cast<int>(s)];
    if (m.empty()) return 0;
    return s == Side::Buy ? m.rbegin()->first : m.begin()->first;
  }
  Lots total(Side s) const {
    Lots t = 0;
    for (const auto& [p, q] : side[static_cast<int>(s)])
      for (const RefOrder& o : q) t += o.qty;
    return t;
  }
  std::vector<std::pair<Tick, Lots>> lvls(Side s) const {
    std::vector<std::pair<Tick, Lots>> out;
    const auto& m = side[static_cast<int>(s)];
    auto add = [&](const auto& kv) {
      Lots t = 0;
      for (const RefOrder& o : kv.second) t += o.qty;
      out.emplace_back(kv.first, t);
    };
    if (s == Side::Buy)
      for (auto it = m.rbegin(); it != m.rend(); ++it) add(*it);
    else
      for (auto it = m.begin(); it != m.end(); ++it) add(*it);
    return out;
  }

  template <class D>
  Lots match(OwnerId owner, Side s, Tick limit, Lots qty, D& decide, std::vector<Fill>& fills, bool& stopped) {
    auto& opp = side[1 - static_cast<int>(s)];
    Lots rem = qty;
    while (rem > 0 && !opp.empty()) {
      auto it = s == Side::Buy ? opp.begin() : std::prev(opp.end());
      const Tick px = it->first;
      if (s == Side::Buy ? px > limit : px < limit) break;
      auto& q = it->second;
      while (!q.empty() && rem > 0) {
        RefOrder& o = q.front();
        if (stp && o.owner == owner) {
          where.erase(o.id);
          q.pop_front();
          continue;
        }
        const Lots f = std::min(rem, o.qty);
        const Fill fill{o.id, o.owner, owner, s, px, f};
        const FillDecision d = decide(fill);
        if (d == FillDecision::Accept) {
          fills.push_back(fill);
          o.qty -= f;
          rem -= f;
          if (o.qty == 0) {
            where.erase(o.id);
            q.pop_front();
          }
        } else if (d == FillDecision::CancelMaker) {
          where.erase(o.id);
          q.pop_front();
        } else {
          stopped = true;
          break;
        }
      }
      if (q.empty()) opp.erase(it);
      if (stopped) break;
    }
    return qty - rem;
  }

  void rest(OrderId id, OwnerId owner, Side s, Tick p, Lots q) {
    side[static_cast<int>(s)][p].push_back(RefOrder{id, owner, q});
    where[id] = {s, p};
  }

  bool cancel(OrderId id) {
    auto w = where.find(id);
    if (w == where.end()) return false;
    auto& m = side[static_cast<int>(w->second.first)];
    auto lit = m.find(w->second.second);
    auto& q = lit->second;
    q.erase(std::find_if(q.begin(), q.end(), [&](const RefOrder& o) { return o.id == id; }));
    if (q.empty()) m.erase(lit);
    where.erase(w);
    return true;
  }

  RefOrder* get(OrderId id, Side* s = nullptr, Tick* p = nullptr) {
    auto w = where.find(id);
    if (w == where.end()) return nullptr;
    if (s) *s = w->second.first;
    if (p) *p = w->second.second;
    auto& q = side[static_cast<int>(w->second.first)][w->second.second];
    return &*std::find_if(q.begin(), q.end(), [&](const RefOrder& o) { return o.id == id; });
  }
};

// Deterministic decision from the fill's contents, so book and model decide alike.
FillDecision pseudo_decision(const Fill& f) {
  const std::uint64_t h = (f.maker_order * 0x9E3779B97F4A7C15ull) ^ (static_cast<std::uint64_t>(f.qty) * 0xC2B2AE3D27D4EB4Full) ^
                          (static_cast<std::uint64_t>(f.taker) << 17);
  switch ((h >> 29) % 25) {
    case 0:
      return FillDecision::CancelMaker;
    case 1:
      return FillDecision::StopTaker;
    default:
      return FillDecision::Accept;
  }
}

bool same_fill(const Fill& a, const Fill& b) {
  return a.maker_order == b.maker_order && a.maker == b.maker && a.taker == b.taker && a.taker_side == b.taker_side &&
         a.price == b.price && a.qty == b.qty;
}

void run_property(std::uint64_t seed, bool stp, Tick max_tick, Tick center, Tick spread, int ops) {
  OrderBook book(BookConfig{max_tick, 8, stp});
  RefBook ref;
  ref.stp = stp;
  ref.max_tick = max_tick;
  std::mt19937_64 rng(seed);
  std::vector<OrderId> ids;  // every id ever issued (many stale)
  auto rnd = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
  auto rand_price = [&](Side s) {
    // Mostly passive around the center, sometimes aggressive.
    const Tick off = rnd(spread + 1);
    Tick p = s == Side::Buy ? center - off : center + off;
    if (rnd(5) == 0) p = s == Side::Buy ? p + spread / 2 : p - spread / 2;
    return std::clamp<Tick>(p, 1, max_tick);
  };
  int fills_seen = 0, tracked_moves = 0, tracked_nonzero = 0;
  for (int step = 0; step < ops; ++step) {
    INFO("seed " << seed << " step " << step);
    const int kind = static_cast<int>(rnd(100));
    const OwnerId owner = 1 + static_cast<OwnerId>(rnd(4));
    const Side s = rnd(2) ? Side::Buy : Side::Sell;
    std::vector<Fill> got, want;
    auto cb = [&](const Fill& f) {
      got.push_back(f);
      const FillDecision d = pseudo_decision(f);
      if (d != FillDecision::Accept) got.pop_back();
      return d;
    };
    if (kind < 45) {  // limit
      Tick p = rand_price(s);
      Lots q = 1 + rnd(10);
      if (rnd(50) == 0) p = rnd(2) ? 0 : max_tick + 1 + rnd(3);  // invalid price
      if (rnd(50) == 0) q = -rnd(2);                             // invalid qty
      const TimeInForce tif = rnd(5) == 0 ? IOC : GTC;
      const SubmitResult r = book.limit(owner, s, p, q, tif, cb);
      if (p < 1 || p > max_tick || q <= 0) {
        CHECK(r.status == SubmitStatus::Rejected);
        CHECK(got.empty());
      } else {
        bool stopped = false;
        const Lots filled = ref.match(owner, s, p, q, pseudo_decision, want, stopped);
        REQUIRE(r.status == SubmitStatus::Ok);
        REQUIRE(r.filled == filled);
        const bool rests = !stopped && filled < q && tif == GTC;
        REQUIRE((r.id != 0) == rests);
        REQUIRE(r.rested == (rests ? q - filled : 0));
        if (rests) {
          ref.rest(r.id, owner, s, p, q - filled);
          ids.push_back(r.id);
        }
      }
    } else if (kind < 55) {  // market
      Lots q = 1 + rnd(25);
      const SubmitResult r = book.market(owner, s, q, cb);
      bool stopped = false;
      const Lots filled = ref.match(owner, s, s == Side::Buy ? max_tick : 1, q, pseudo_decision, want, stopped);
      REQUIRE(r.status == SubmitStatus::Ok);
      REQUIRE(r.filled == filled);
      REQUIRE(r.id == 0);
      REQUIRE(r.rested == 0);
    } else if (kind < 80) {  // cancel (sometimes stale or garbage)
      OrderId id = ids.empty() ? 12345 : ids[static_cast<std::size_t>(rnd(static_cast<std::uint64_t>(ids.size())))];
      if (rnd(20) == 0) id = rng();
      REQUIRE(book.cancel(id) == ref.cancel(id));
    } else if (kind < 97) {  // modify
      if (ids.empty()) continue;
      const OrderId id = ids[static_cast<std::size_t>(rnd(static_cast<std::uint64_t>(ids.size())))];
      Side os{};
      Tick op = 0;
      RefOrder* ro = ref.get(id, &os, &op);
      const int how = static_cast<int>(rnd(4));
      Tick np = op;
      Lots nq = 0;
      if (ro) {
        if (how == 0) nq = std::max<Lots>(1, ro->qty - 1 - rnd(3));                 // decrease
        else if (how == 1) nq = ro->qty + 1 + rnd(3);                               // increase
        else if (how == 2) { np = rand_price(os); nq = 1 + rnd(10); }              // reprice
        else nq = -rnd(2);                                                          // cancel
      } else {
        np = 1 + rnd(static_cast<std::uint64_t>(max_tick));
        nq = 1 + rnd(5);
      }
      const SubmitResult r = book.modify(id, np, nq, cb);
      if (!ro) {
        REQUIRE(r.status == SubmitStatus::Rejected);
      } else if (nq <= 0) {
        REQUIRE(r.status == SubmitStatus::Ok);
        REQUIRE(r.id == 0);
        ref.cancel(id);
      } else if (np == op && nq <= ro->qty) {
        REQUIRE(r.status == SubmitStatus::Ok);
        REQUIRE(r.id == id);
        REQUIRE(r.rested == nq);
        ro->qty = nq;
      } else {
        const OwnerId mo = ro->owner;
        ref.cancel(id);
        bool stopped = false;
        const Lots filled = ref.match(mo, os, np, nq, pseudo_decision, want, stopped);
        REQUIRE(r.status == SubmitStatus::Ok);
        REQUIRE(r.filled == filled);
        const bool rests = !stopped && filled < nq;
        REQUIRE((r.id != 0) == rests);
        if (rests) {
          REQUIRE(r.id != id);
          REQUIRE(r.rested == nq - filled);
          ref.rest(r.id, mo, os, np, nq - filled);
          ids.push_back(r.id);
        }
      }
    } else {  // occasionally wipe a whole side by cancelling everything on it
      if (rnd(10) != 0) continue;
      std::vector<OrderId> to_cancel;
      for (const auto& [id, w] : ref.where)
        if (w.first == s) to_cancel.push_back(id);
      for (OrderId id : to_cancel) {
        REQUIRE(book.cancel(id));
        ref.cancel(id);
      }
    }
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(same_fill(got[i], want[i]));
    fills_seen += static_cast<int>(got.size());

    REQUIRE(book.check_invariants());
    REQUIRE(book.best_bid() == ref.best(Side::Buy));
    REQUIRE(book.best_ask() == ref.best(Side::Sell));
    REQUIRE(book.order_count() == ref.where.size());
    REQUIRE(book.depth_between(Side::Buy, 1, max_tick) == ref.total(Side::Buy));
    REQUIRE(book.depth_between(Side::Sell, 1, max_tick) == ref.total(Side::Sell));
    if (rnd(3) == 0) {  // a tracked depth moved to a new bound (sometimes off the grid), against the model's sum
      const Side ts = rnd(2) ? Side::Buy : Side::Sell;
      const int slot = static_cast<int>(rnd(OrderBook::kTrackedDepths));
      Tick bound = center + rnd(4 * static_cast<std::uint64_t>(spread) + 1) - 2 * spread;
      if (rnd(20) == 0) bound = rnd(2) ? -rnd(5) : max_tick + rnd(5);
      Lots want_depth = 0;
      for (const auto& [px, q] : ref.lvls(ts)) want_depth += (ts == Side::Buy ? px >= bound : px <= bound) ? q : 0;
      REQUIRE(book.tracked_depth(ts, slot, bound) == want_depth);
      ++tracked_moves;
      tracked_nonzero += want_depth != 0;
    }
    if (step % 16 == 0) {
      REQUIRE(levels(book, Side::Buy, 1u << 30) == ref.lvls(Side::Buy));
      REQUIRE(levels(book, Side::Sell, 1u << 30) == ref.lvls(Side::Sell));
      for (const auto& [id, w] : ref.where) {
        const RestingOrder* o = book.find(id);
        REQUIRE(o != nullptr);
        REQUIRE(o->side == w.first);
        REQUIRE(o->price == w.second);
        REQUIRE(o->qty == ref.get(id)->qty);
      }
    }
  }
  CHECK(fills_seen > ops / 10);  // the test really exercised matching
  CHECK(tracked_nonzero > tracked_moves / 4);  // the tracked depths were checked on books with orders inside their bounds
}

}  // namespace

TEST_CASE("randomized property test against a reference model") {
  SUBCASE("dense, no STP") { run_property(1, false, 200, 100, 12, 6000); }
  SUBCASE("dense, STP") { run_property(2, true, 200, 100, 12, 6000); }
  SUBCASE("near the tick bounds") { run_property(3, false, 30, 15, 20, 4000); }
  SUBCASE("sparse, wide range") { run_property(4, true, 300'000, 150'000, 20'000, 4000); }
}
