// The one valuation every liquidation bidder uses (Dutch keeper bots, batch bots), so that no
// policy wins or loses by how its bidders are coded (issue #12, the fairness core).
//
// A bidder that acquires a lot of contracts (a LONG lot: it buys the liquidated account's
// contracts; a SHORT lot: it sells the account contracts, i.e. it goes short) values each lot it
// would take in the order it would dispose of it:
//   1. Resale: the VISIBLE opposite side of the perp book (bids for a long lot, asks for a short
//      lot), best level first, skipping the depth an earlier taker of the same step (Dutch) or an
//      earlier bidder of the same batch already priced its resale on (DepthClaims: a shared count
//      of lots per asset and book side, taken from the best level outward). Each level is worth
//      its notional net of the venue's taker fee (long: notional - fee; short: the cost
//      notional + fee). Only the first `remaining` lots of depth are ever read.
//   2. Hold: beyond the unclaimed depth, up to `hold_room` lots (its inventory limit less what it
//      already holds in that direction, and never more than its capital pays) valued at the
//      RESERVATION RULE: the deepest visible level of that same book side, net of the taker fee
//      (long: the lowest bid x (1 - fee); short: the highest ask x (1 + fee)).
//      Why this rule: it uses only what every bidder sees (no forecast, no parameter that a policy
//      could be tuned through), it is the worst price at which the market visibly bids for the
//      asset now, so held lots are never worth more than the book pays for the asset today and
//      never more than any lot the bidder resells (the marginal value falls with quantity); and it
//      is never 0 while the side has any order. An empty side gives no hold value: the bidder takes
//      nothing it could neither resell nor price.
//   3. Nothing beyond resale + hold room.
// The bidder's fixed cost per transaction F = tx_cost x congestion multiplier + min_profit.
//
// Dutch take at auction price p (BidSchedule::take): the lots whose marginal value is at least p
// (long; at most p for a short lot), at most `remaining` and what the capital pays (lots x p x lot
// <= capital, both directions: a short is backed 1:1 by capital too); taken only if the surplus
// sum(value_i) - n x p (short: n x p - sum(cost_i)) is at least F. Since marginal values fall with
// quantity, this n maximises the surplus at p. Its reservation price for n lots
// (value(n) - F) / qty (short: (cost(n) + F) / qty) is what the event and the tests report.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/book/batch_clearing.hpp"
#include "sim/book/venue.hpp"
#include "sim/core/fixed_point.hpp"

namespace sl {

// Depth already claimed for resale in this step (Dutch) or batch: lots from the best level of each
// asset's perp bids and asks. Reset at the start of every step / batch.
class DepthClaims {
 public:
  void reset(std::size_t n_assets) {
    bids_.assign(n_assets, 0);
    asks_.assign(n_assets, 0);
  }
  Lots& on(std::size_t asset, Side side) { return side == Side::Buy ? bids_[asset] : asks_[asset]; }

 private:
  std::vector<Lots> bids_, asks_;
};

struct BidderCapacity {
  Micros capital = 0;     // quote it can pay for the lots (its balance less the tx cost)
  Lots hold_room = 0;     // lots it may keep beyond resale (inventory limit - inventory already held that way)
  Micros fixed_cost = 0;  // tx cost x congestion multiplier + min_profit
};

// A bidder's marginal value schedule for one lot, segment by segment (resale levels, then hold).
// Reused scratch: build() allocates only while a schedule is longer than any before.
class BidSchedule {
 public:
  struct Segment {
    Tick px = 0;          // the book level (resale) or the deepest level (hold)
    Lots lots = 0;
    bool resale = true;   // false: the hold segment
  };

  // The schedule of a bidder for up to `max_lots` lots of a long (`buy_contracts`) or short lot on
  // venue v, skipping `claimed` lots of depth; hold segment of cap.hold_room lots.
  void build(const Venue& v, bool buy_contracts, Lots max_lots, Lots claimed, const BidderCapacity& cap);

  // Value (long: resale proceeds net of fee) or cost (short: buy-back cost plus fee) of the first
  // n lots of the schedule, micros. Fees are computed per segment, as the venue charges per fill.
  Micros value(Lots n) const;
  // Lots of the first n priced on book depth (what a taker of n claims).
  Lots resold(Lots n) const;
  Lots total() const { return total_; }
  const std::vector<Segment>& segments() const { return segs_; }
  // Unit value (long) or unit cost (short) of segment k, micros per lot, net of the taker fee.
  double unit(std::size_t k) const;

  struct Take {
    Lots lots = 0;
    Lots resold = 0;
    Micros value = 0;     // value(lots) (long) or cost(lots) (short)
    double reservation = 0.0;  // per asset unit: (value - F) / qty (long), (cost + F) / qty (short)
  };
  // The largest amount taken at auction price `price` (quote per asset unit), at most max_lots, or
  // nothing when the surplus does not cover the fixed cost. `lot_micros`: contract micros per lot.
  Take take(double price, Lots max_lots, const BidderCapacity& cap) const;
  // The surplus check alone, for n lots at `price` (after a dust adjustment may have cut n).
  Take evaluate(double price, Lots n, const BidderCapacity& cap) const;

 private:
  const Venue* v_ = nullptr;
  bool buy_ = true;
  Lots total_ = 0;
  std::vector<Segment> segs_;
};

// Sealed bids of a batch bidder from its schedule (the batch policy): one bid per segment, at the
// segment's unit value less its share F / N of the fixed cost (N = lots in the schedule), rounded
// down to a tick (a short pool's offers: unit cost plus the share, rounded up), best first, until
// the bids' total at their own prices reaches the bidder's capital. Returns the lots bid; `resold`
// gets the lots of them priced on book depth (what the bidder claims).
Lots schedule_bids(const BidSchedule& sched, const Venue& v, bool buy_contracts, const BidderCapacity& cap,
                   std::int32_t bidder, std::vector<SealedBid>& out, Lots& resold);

// A market maker's batch bids from its OWN resting quotes only (the batch policy): for each of its
// live orders on the side that takes the pool (its bids when the pool sells contracts, its asks
// when the pool buys them back), best first, floor(order qty x share) lots at the order's price,
// until `room_lots` (its inventory room) is used up; when it buys, also until its quote balance
// `capital` pays for the lots at their prices. Orders of other traders are never read. Returns
// the lots bid.
Lots own_quote_bids(const Venue& v, const std::vector<OrderId>& own_orders, bool buy_contracts, double share,
                    Lots room_lots, Micros capital, std::int32_t bidder, std::vector<SealedBid>& out);

}  // namespace sl
