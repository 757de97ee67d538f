// Unwinding inventory taken over in liquidations (liquidator bots, the backstop provider, the
// socialized insurance fund): per venue per step one market order for at most the size resting at
// the best two levels of the side it hits, so an unwinder never dumps everything into an empty
// book; dust below one lot is kept. Returns true while anything of at least one lot is left.
//
// Paired unwinding (issue #13: the backstop provider, and the insurance fund under `delta_neutral`)
// of an asset held as a hedged pair (spot and contracts of opposite signs, taken over whole), within
// the same best two levels per venue per step (plan_pair_unwind):
//  1. the directional excess first, at any price: with S = |spot|, P = |contracts|, the perp leg
//     closes min(P - S, perp room) when P > S, the spot leg min(S - P, spot room) when S > P;
//  2. then pairs, one unit of each leg together, only while the pair closes at a non-negative
//     basis after taker fees: the leg sold fetches at least what the leg bought costs,
//         price_sold x (1 - fee_sold) >= price_bought x (1 + fee_bought)
//     (buying back a short perp at the ask against selling spot at the bid: ask_p (1 + f_p) <=
//     bid_s (1 - f_s)), walking the two sides' levels best first, on what step 1 left of them.
// So the net delta S - P never grows (step 1 moves it toward 0, step 2 trades equal units, up to
// one lot of rounding), and a hedged pair is never closed by paying the premium: the protocol does
// not buy the perp back above the spot it sells, which is the forced buying that feeds the basis
// loop; it waits for the basis to close (a hedged pair carries no directional risk while it waits;
// it may still hold it at the horizon). The spot leg trades first, as in the per-venue rule (a
// seller's cash before a buyer's cost); both orders lie within the visible levels and fill whole.
#pragma once
#include <algorithm>
#include <cstdlib>

#include "sim/market/market.hpp"

namespace sl {

inline bool unwind_inventory_step(Market& m, AccountId account) {
  bool left = false;
  for (AssetMarket& am : m.assets) {
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      Venue& v = am.venue(k);
      const AssetId asset = k == VenueKind::Spot ? am.spot_asset : am.perp_asset;
      const Micros held = m.ledger.balance(account, asset);
      if (held == 0) continue;
      const Side side = held > 0 ? Side::Sell : Side::Buy;
      Lots visible = 0;
      v.book().for_each_level(opposite(side), 2, [&](Tick, Lots q) {
        visible += q;
        return true;
      });
      const Lots lots = std::min(std::abs(held) / v.spec().lot_micros, visible);
      if (lots > 0) v.market(account, side, lots);
      if (m.ledger.balance(account, asset) / v.spec().lot_micros != 0) left = true;
    }
  }
  return left;
}

// Lots resting at the best two levels of the side an order on `side` hits.
inline Lots two_level_lots(const Venue& v, Side side) {
  Lots visible = 0;
  v.book().for_each_level(opposite(side), 2, [&](Tick, Lots q) {
    visible += q;
    return true;
  });
  return visible;
}

struct PairUnwind {
  Lots spot = 0, perp = 0;  // lots to trade on each venue this step (spot first)
  Side spot_side = Side::Sell, perp_side = Side::Buy;
};

// The rule above for an asset held as spot `s` and contracts `c` (micro-units, opposite signs).
inline PairUnwind plan_pair_unwind(const AssetMarket& am, Micros s, Micros c) {
  const Venue& spot = *am.spot;
  const Venue& perp = *am.perp;
  PairUnwind u;
  u.spot_side = s > 0 ? Side::Sell : Side::Buy;
  u.perp_side = c > 0 ? Side::Sell : Side::Buy;
  struct Level {
    double price = 0.0;
    Micros units = 0;
  };
  auto levels = [](const Venue& v, Side side, Level* out) {
    int n = 0;
    v.book().for_each_level(opposite(side), 2, [&](Tick px, Lots q) {
      out[n++] = Level{v.ticks_to_price(static_cast<double>(px)), q * v.spec().lot_micros};
      return true;
    });
    return n;
  };
  Level spot_lv[2], perp_lv[2];
  const int ns = levels(spot, u.spot_side, spot_lv), np = levels(perp, u.perp_side, perp_lv);
  const Micros S = std::abs(s), P = std::abs(c);
  // 1. The excess, taken from the front of its side's levels.
  auto take_front = [](Level* lv, int n, Micros want) {
    Micros got = 0;
    for (int k = 0; k < n && got < want; ++k) {
      const Micros t = std::min(lv[k].units, want - got);
      lv[k].units -= t;
      got += t;
    }
    return got;
  };
  const Micros perp_excess = P > S ? take_front(perp_lv, np, P - S) : 0;
  const Micros spot_excess = S > P ? take_front(spot_lv, ns, S - P) : 0;
  // 2. Pairs at a non-negative basis after taker fees.
  const double fs = spot.spec().taker_fee_bps * 1e-4, fp = perp.spec().taker_fee_bps * 1e-4;
  auto closes_without_loss = [&](double spot_px, double perp_px) {
    return u.perp_side == Side::Buy ? perp_px * (1.0 + fp) <= spot_px * (1.0 - fs)   // buy perp, sell spot
                                    : perp_px * (1.0 - fp) >= spot_px * (1.0 + fs);  // sell perp, buy spot
  };
  Micros pairs = 0;
  const Micros pair_max = std::min(S, P);
  for (int i = 0, j = 0; i < ns && j < np && pairs < pair_max;) {
    if (spot_lv[i].units == 0) { ++i; continue; }
    if (perp_lv[j].units == 0) { ++j; continue; }
    if (!closes_without_loss(spot_lv[i].price, perp_lv[j].price)) break;  // deeper levels only widen the gap
    const Micros t = std::min({spot_lv[i].units, perp_lv[j].units, pair_max - pairs});
    spot_lv[i].units -= t;
    perp_lv[j].units -= t;
    pairs += t;
  }
  u.spot = (spot_excess + pairs) / spot.spec().lot_micros;
  u.perp = (perp_excess + pairs) / perp.spec().lot_micros;
  return u;
}

// One step of unwind_inventory_step with the pair rule for every asset the account holds as a hedged
// pair (spot and contracts of opposite signs); other assets exactly as unwind_inventory_step.
inline bool paired_unwind_inventory_step(Market& m, AccountId account) {
  bool left = false;
  for (AssetMarket& am : m.assets) {
    const Micros s = m.ledger.balance(account, am.spot_asset);
    const Micros c = m.ledger.balance(account, am.perp_asset);
    if ((s > 0 && c < 0) || (s < 0 && c > 0)) {
      const PairUnwind u = plan_pair_unwind(am, s, c);
      if (u.spot > 0) am.spot->market(account, u.spot_side, u.spot);
      if (u.perp > 0) am.perp->market(account, u.perp_side, u.perp);
    } else {
      for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
        Venue& v = am.venue(k);
        const Micros held = m.ledger.balance(account, k == VenueKind::Spot ? am.spot_asset : am.perp_asset);
        if (held == 0) continue;
        const Side side = held > 0 ? Side::Sell : Side::Buy;
        const Lots lots = std::min(std::abs(held) / v.spec().lot_micros, two_level_lots(v, side));
        if (lots > 0) v.market(account, side, lots);
      }
    }
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp})
      if (m.ledger.balance(account, k == VenueKind::Spot ? am.spot_asset : am.perp_asset) / am.venue(k).spec().lot_micros != 0) left = true;
  }
  return left;
}

}  // namespace sl
