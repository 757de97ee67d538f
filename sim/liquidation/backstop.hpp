// The backstop provider's takeover as a liquidation stage: the provider (agents/backstop_provider)
// takes legs of a margin account (spot units and/or perpetual contracts) at a fixed discount to their
// value, consuming its capacity, and then unwinds them itself. Used by the `delta_neutral` policy's
// `backstop` mode (the whole portfolio) and by the `hierarchy` policy's backstop stage (the perp
// contracts left, as many whole lots as fit in the remaining capacity).
//
// A leg of q units (signed, the account's balance) valued at price x (index for spot, mark for
// contracts) transfers at x (1 - d sgn(q)), d = discount_bps / 1e4: long legs are bought below their
// value, short legs are taken over above it. The provider pays the account
//     pay = sum_legs to_micros(q x - d |q x|)
// (negative: the account pays the provider); capacity is consumed by the gross value sum |q x|.
#pragma once
#include <cstddef>
#include <vector>

#include "sim/liquidation/common.hpp"

namespace sl {
class BackstopProvider;
}

namespace sl {

struct BackstopLeg {
  std::size_t asset = 0;
  bool spot = false;
  Micros units = 0;    // signed, the account's side (micro-units of the asset)
  double price = 0.0;  // value per unit: index (spot) or mark (contracts)
  Micros pay = 0;      // quote micros the provider pays for this leg (negative: receives)
  // The discounted transfer price per unit.
  double transfer_price(double discount_bps) const { return price * (1.0 - discount_bps * 1e-4 * (units > 0 ? 1.0 : -1.0)); }
};

// Values a leg; returns it with `pay` set. |units| x price is added to *gross.
BackstopLeg backstop_leg(std::size_t asset, bool spot, Micros units, double price, double discount_bps, double* gross);

// Settles the legs between the account and the provider when everything fits: the gross fits the
// remaining capacity, the paying side has the cash, the provider holds any spot it must deliver.
// Then moves every leg and the net cash in one transfer and records the takeover (capacity used).
// Returns false, with nothing moved, when any check fails.
bool backstop_settle(LiquidationContext& ctx, BackstopProvider& bp, AccountId account, const std::vector<BackstopLeg>& legs,
                     double gross);

// The one backstop rule of every policy that has a backstop (delta_neutral's `backstop` mode,
// hierarchy's backstop stage): the provider keeps at most the account's margin. Let E_t be the
// account's equity at mark with the legs taken valued at their takeover prices (MarginEngine::equity
// at mark, plus haircut x value for spot legs, which the margin engine counts at (1 - haircut) but
// the provider pays at the index). When d x gross > E_t the discount is lowered to
// E_t / gross (rounded down to 1e-6 bps, the account keeps the micro-units), so the user ends at
// zero at worst and the insurance fund pays nothing for a takeover; with E_t <= 0 (at or beyond the
// bankruptcy price) the provider takes nothing (returns false) and the account goes on to the next
// stage (issue #12 item 7: a 3% discount against ~0.5% of margin left the fund paying the rest of
// every takeover). Otherwise backstop_settle with the legs re-priced; *discount_bps_out = the
// discount applied. Returns false, with nothing moved, when nothing was taken.
bool backstop_take(LiquidationContext& ctx, BackstopProvider& bp, const MarginAccount& acc, std::vector<BackstopLeg>& legs,
                   double gross, double discount_bps, double* discount_bps_out);

}  // namespace sl
