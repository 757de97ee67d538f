// Uniform-price clearing of one sealed-bid batch (the `batch` liquidation policy, model.md section 5).
// Pure functions: no ledger, no book, integer ticks and lots only.
//
// Selling a pool (clear_sell): `offered` lots are sold to sealed bids {bidder, limit price, qty}.
//   * Bids are ranked by price, highest first; bids with qty <= 0 or price <= 0 are ignored.
//   * The book is filled down from the top until the offered quantity is exhausted. Every bid
//     strictly above the marginal price fills in full.
//   * Ties at the marginal price (the price level where the offered quantity runs out) are split
//     PRO RATA to the tied bids' quantities: each gets floor(left x qty / tied_qty) lots, and the
//     lots still left go one each to the largest fractional remainders; equal remainders go to the
//     bid that comes first in the input (the caller's priority order: the policy shuffles the bids
//     with its seeded stream before clearing). Ties above the marginal price need no rule (they fill
//     in full).
//   * The uniform clearing price is the LOWEST ACCEPTED bid's price (the marginal price): every
//     filled lot trades at it, so no winner pays more than its own bid. 0 when nothing fills.
//   * remainder = offered - filled (carried to the next batch by the caller).
// Buying back (clear_buy) is the mirror: `wanted` lots are bought from sealed offers, ranked by
// price, lowest first; the uniform price is the HIGHEST ACCEPTED offer's price; same tie rule.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/core/fixed_point.hpp"

namespace sl {

struct SealedBid {
  std::int32_t bidder = -1;  // caller's id; several bids may share one bidder (a maker's levels)
  Tick price = 0;            // limit price in ticks (a bid's maximum, an offer's minimum)
  Lots qty = 0;              // lots
};

struct BidderFill {
  std::int32_t bidder = -1;
  Lots qty = 0;
};

struct ClearingResult {
  Tick price = 0;                  // uniform clearing price (ticks); 0 when nothing filled
  Lots filled = 0;
  Lots remainder = 0;              // offered (or wanted) - filled
  std::vector<Lots> bid_fills;     // per input bid, same order as the input
  std::vector<BidderFill> fills;   // per bidder with a non-zero fill, in order of first appearance in the input
};

// Sells `offered` lots to `bids` (ranked by price descending). See the header comment.
ClearingResult clear_sell(Lots offered, const std::vector<SealedBid>& bids);
// Buys `wanted` lots from `offers` (ranked by price ascending). See the header comment.
ClearingResult clear_buy(Lots wanted, const std::vector<SealedBid>& offers);

// Splits `total` lots in proportion to `weights` (all >= 0, sum > 0 unless total == 0): floor of
// each exact share, then one more lot to the largest remainders, ties to the lower index. The
// result sums to total exactly (largest remainder method).
std::vector<Lots> allocate_largest_remainder(Lots total, const std::vector<Lots>& weights);

}  // namespace sl
