// Venue settlement through the ledger, with every number computed by hand in the comments.
// Instrument: tick 0.1 USDT = 100,000 micro-USDT, lot 0.001 BTC = 1,000 micro-BTC, so one lot at a
// price of one tick is worth 100,000 * 1,000 / 1e6 = 100 micro-USDT.
#include <doctest/doctest.h>

#include "sim/book/ledger.hpp"
#include "sim/book/venue.hpp"
#include "tests/support/venue_spec.hpp"

using namespace sl;

namespace {
VenueSpec spec(VenueKind kind, AssetId base) {
  return sl::test::venue_spec(
      kind, "test", base,
      {.tick_size = 0.1, .lot_size = 0.001, .maker_fee_bps = 1.0, .taker_fee_bps = 5.0, .max_tick = 1'000'000});
}
}  // namespace

TEST_CASE("venue: a market buy sweeping three ladder levels settles to the micro-unit") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId fees = L.open_account("fees"), maker = L.open_account("maker"), taker = L.open_account("taker");
  L.mint(maker, 1, 10'000'000);            // 10 BTC
  L.mint(taker, 0, 100'000'000'000);       // 100,000 USDT
  Venue v(spec(VenueKind::Spot, 1), L, fees);
  // Asks of 1 BTC (1000 lots) at 30000.1, 30001.1, 30002.1 (ticks 300001, 300011, 300021).
  for (Tick t : {300001, 300011, 300021}) REQUIRE(v.limit(maker, Side::Sell, t, 1000).id != 0);
  const SubmitResult r = v.market(taker, Side::Buy, 2500);  // 2.5 BTC
  CHECK(r.filled == 2500);
  // Notionals: 300001*1000*100 = 30,000,100,000; 300011*1000*100 = 30,001,100,000;
  // 300021*500*100 = 15,001,050,000; total 75,002,250,000 micro-USDT (75,002.25 USDT).
  // Taker fee 5 bps: 15,000,050 + 15,000,550 + 7,500,525 = 37,501,125.
  // Maker fee 1 bps: 3,000,010 + 3,000,110 + 1,500,105 = 7,500,225.
  CHECK(L.balance(taker, 0) == 100'000'000'000 - 75'002'250'000 - 37'501'125);
  CHECK(L.balance(taker, 1) == 2'500'000);
  CHECK(L.balance(maker, 0) == 75'002'250'000 - 7'500'225);
  CHECK(L.balance(maker, 1) == 7'500'000);
  CHECK(L.balance(fees, 0) == 37'501'125 + 7'500'225);
  CHECK(v.book().best_ask() == 300021);
  CHECK(v.book().volume_at(Side::Sell, 300021) == 500);
  CHECK(v.step_stats().trades == 3);
  CHECK(v.step_stats().notional == 75'002'250'000);
  L.check_conservation();
}

TEST_CASE("venue: a maker that can no longer deliver is cancelled, the taker goes on to the next level") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId fees = L.open_account("fees"), m1 = L.open_account("m1"), m2 = L.open_account("m2"),
                  taker = L.open_account("taker");
  L.mint(m1, 1, 1'000'000);  // 1 BTC, but will have sold it elsewhere
  L.mint(m2, 1, 1'000'000);
  L.mint(taker, 0, 100'000'000'000);
  Venue v(spec(VenueKind::Spot, 1), L, fees);
  v.limit(m1, Side::Sell, 300000, 1000);
  v.limit(m2, Side::Sell, 300010, 1000);
  L.transfer(m1, m2, 1, 600'000);  // m1 now holds 0.4 BTC: its 1 BTC ask cannot settle
  const SubmitResult r = v.market(taker, Side::Buy, 1000);
  CHECK(r.filled == 1000);
  CHECK(L.balance(taker, 1) == 1'000'000);
  CHECK(L.balance(m1, 1) == 400'000);  // untouched
  CHECK(v.book().best_ask() == 0);     // m1's ask was cancelled, m2's filled
  L.check_conservation();
}

TEST_CASE("venue: a taker who cannot pay stops - nothing is settled beyond what it could pay") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId fees = L.open_account("fees"), maker = L.open_account("maker"), taker = L.open_account("taker");
  L.mint(maker, 1, 10'000'000);
  // Enough for one level: 1 BTC at 30000.0 = 30,000,000,000 + 5 bps fee 15,000,000.
  L.mint(taker, 0, 30'015'000'000 + 1'000);
  Venue v(spec(VenueKind::Spot, 1), L, fees);
  v.limit(maker, Side::Sell, 300000, 1000);
  v.limit(maker, Side::Sell, 300010, 1000);
  const SubmitResult r = v.market(taker, Side::Buy, 2000);
  CHECK(r.filled == 1000);
  CHECK(L.balance(taker, 0) == 1'000);
  CHECK(v.book().volume_at(Side::Sell, 300010) == 1000);  // the second level rests untouched
  L.check_conservation();
}

TEST_CASE("venue: perpetual contracts can be sold short - equity = cash + contracts x price") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId fees = L.open_account("fees"), longer = L.open_account("long"), shorter = L.open_account("short");
  L.mint(longer, 0, 10'000'000'000);   // 10,000 USDT
  L.mint(shorter, 0, 10'000'000'000);
  Venue v(spec(VenueKind::Perp, 2), L, fees);
  v.limit(longer, Side::Buy, 300000, 100);   // bid 0.1 BTC at 30,000
  v.market(shorter, Side::Sell, 100);        // short 0.1
  CHECK(L.balance(shorter, 2) == -100'000);
  CHECK(L.balance(longer, 2) == 100'000);
  // Notional 300000*100*100 = 3,000,000,000 (3,000 USDT); taker fee 1,500,000; maker fee 300,000.
  CHECK(L.balance(shorter, 0) == 10'000'000'000 + 3'000'000'000 - 1'500'000);
  CHECK(L.balance(longer, 0) == 10'000'000'000 - 3'000'000'000 - 300'000);
  // Equity at the trade price is the starting cash less fees for both sides.
  const Micros short_equity = L.balance(shorter, 0) + (L.balance(shorter, 2) / 1000) * 300000 * 100;
  CHECK(short_equity == 10'000'000'000 - 1'500'000);
  L.check_conservation();
}

TEST_CASE("venue: fees round half up to the micro-unit") {
  Ledger L({"USDT"}, {false});
  const AccountId fees = L.open_account("fees");
  Venue v(spec(VenueKind::Spot, 0), L, fees);
  CHECK(v.fee(30'000'100'000, false) == 15'000'050);  // exact
  CHECK(v.fee(100, false) == 0);                      // 0.05 micro rounds down
  CHECK(v.fee(1'000, false) == 1);                    // 0.5 micro rounds up
  CHECK(v.fee(999, false) == 0);                      // 0.4995
}
