// A lone perp venue for bidder-valuation tests (sim/liquidation/bid_valuation.hpp): BTC-PERP quoted
// in USDT, tick 1 USDT, lot 0.001 BTC (1 lot at 1 tick = 0.001 USDT = 1,000 micros), a taker fee
// given by the test, and a depth account that rests the orders the test names. Nothing computed.
#pragma once
#include <initializer_list>
#include <utility>

#include "sim/book/ledger.hpp"
#include "sim/book/venue.hpp"
#include "tests/support/venue_spec.hpp"

namespace sl::test {

struct BidBook {
  Ledger L{{"USDT", "BTC-PERP"}, {false, true}};
  AccountId fees = 0, depth = 0, other = 0;
  Venue v;

  static VenueSpec spec(double taker_fee_bps) {
    return venue_spec(VenueKind::Perp, "perp:BTC", 1,
                      {.tick_size = 1.0, .lot_size = 0.001, .taker_fee_bps = taker_fee_bps, .max_tick = 100'000});
  }
  explicit BidBook(double taker_fee_bps = 0.0) : v(spec(taker_fee_bps), L, L.open_account("fees")) {
    depth = L.open_account("depth");
    other = L.open_account("other");
    L.mint(depth, 0, 1'000'000'000'000);
    L.mint(other, 0, 1'000'000'000'000);
  }
  // Rests `lots` at each price on `side` for `owner` (default: the depth account).
  void rest(Side side, std::initializer_list<std::pair<Tick, Lots>> levels, AccountId owner = 0) {
    for (const auto& [px, q] : levels) v.limit(owner ? owner : depth, side, px, q);
  }
};

}  // namespace sl::test
