#include "agents/arbitrageur.hpp"

#include <algorithm>
#include <cmath>
#include <boost/random/uniform_int_distribution.hpp>

namespace sl {

Arbitrageur::Arbitrageur(const ArbitrageurConfig& cfg, AccountId account, Micros base_start, Rng rng)
    : cfg_(cfg),
      account_(account),
      base_start_(base_start),
      max_position_(to_fixed(cfg.max_position, 1e6)),
      max_order_qty_(cfg.max_order_qty),
      rng_(rng) {
  if (cfg_.latency_steps < 1) cfg_.latency_steps = 1;
  boost::random::uniform_int_distribution<std::int64_t> phase(0, cfg_.latency_steps - 1);
  phase_ = phase(rng_);
}

Lots Arbitrageur::buy_room(const Market& m, const AssetMarket& am, VenueKind kind, Tick price) const {
  const Venue& v = am.venue(kind);
  const bool spot = kind == VenueKind::Spot;
  const Micros pos = m.ledger.balance(account_, spot ? am.spot_asset : am.perp_asset) - (spot ? base_start_ : 0);
  const Lots by_limit = std::max<Micros>(0, max_position_ - pos) / v.spec().lot_micros;
  // Cash: notional plus the taker fee (one micro of slack per lot for the fee's rounding).
  const Micros per_lot = v.notional(price, 1);
  const Micros per_lot_all_in = per_lot + v.fee(per_lot, false) + 1;
  const Micros cash = m.ledger.balance(account_, m.quote_asset);
  const Lots by_cash = cash > 0 ? cash / per_lot_all_in : 0;
  return std::min(by_limit, by_cash);
}

Lots Arbitrageur::sell_room(const Market& m, const AssetMarket& am, VenueKind kind) const {
  const Venue& v = am.venue(kind);
  if (kind == VenueKind::Perp) {
    const Micros pos = m.ledger.balance(account_, am.perp_asset);
    return std::max<Micros>(0, max_position_ + pos) / v.spec().lot_micros;
  }
  const Micros held = m.ledger.balance(account_, am.spot_asset);
  const Micros room = std::min(max_position_ + (held - base_start_), held);
  return std::max<Micros>(0, room) / v.spec().lot_micros;
}

Lots Arbitrageur::ioc(Venue& v, Side side, Tick price, Lots lots) {
  if (lots <= 0) return 0;
  const SubmitResult r = v.limit(account_, side, price, lots, TimeInForce::IOC);
  filled_lots_ += r.filled;
  return r.filled;
}

void Arbitrageur::toward_reference(Market& m, AssetMarket& am, VenueKind kind) {
  Venue& v = am.venue(kind);
  const double ref = am.reference.price();
  const double edge = (cfg_.threshold_bps + v.spec().taker_fee_bps) * 1e-4;
  const Lots max_lots = v.qty_to_lots(max_order_qty_);
  const Tick ask = v.book().best_ask();
  // Buying the perp below the reference is hedged by a short spot elsewhere: borrowed coins.
  const double buy_edge = kind == VenueKind::Perp ? edge + cfg_.long_perp_borrow_bps * 1e-4 : edge;
  const double buy_below = ref * (1.0 - buy_edge), sell_above = ref * (1.0 + edge);
  if (ask > 0 && v.ticks_to_price(static_cast<double>(ask)) < buy_below) {
    if (cfg_.sweep_levels) {
      // The highest tick still below the trigger: every ask up to it is worth taking.
      Tick lim = static_cast<Tick>(std::ceil(buy_below / v.spec().tick_size));
      while (lim > ask && !(v.ticks_to_price(static_cast<double>(lim)) < buy_below)) --lim;
      ioc(v, Side::Buy, lim, std::min(max_lots, buy_room(m, am, kind, lim)));
    } else {
      const Lots q = std::min({max_lots, v.book().volume_at(Side::Sell, ask), buy_room(m, am, kind, ask)});
      ioc(v, Side::Buy, ask, q);
    }
  }
  const Tick bid = v.book().best_bid();
  if (bid > 0 && v.ticks_to_price(static_cast<double>(bid)) > sell_above) {
    if (cfg_.sweep_levels) {
      // The lowest tick still above the trigger: every bid down to it is worth hitting.
      Tick lim = static_cast<Tick>(std::floor(sell_above / v.spec().tick_size));
      while (lim < bid && !(v.ticks_to_price(static_cast<double>(lim)) > sell_above)) ++lim;
      ioc(v, Side::Sell, lim, std::min(max_lots, sell_room(m, am, kind)));
    } else {
      const Lots q = std::min({max_lots, v.book().volume_at(Side::Buy, bid), sell_room(m, am, kind)});
      ioc(v, Side::Sell, bid, q);
    }
  }
}

// Both legs are IOC at prices and sizes visible in the books now, so the second leg normally fills
// what the first did; if it cannot (cash), the small unhedged remainder is kept (it is inside the
// position limits).
void Arbitrageur::perp_vs_spot(Market& m, AssetMarket& am) {
  const double edge = (cfg_.threshold_bps + am.spot->spec().taker_fee_bps + am.perp->spec().taker_fee_bps) * 1e-4;
  const Lots max_lots = am.spot->qty_to_lots(max_order_qty_);
  // Sell at the best bid of `sell_k` and buy at the best ask of `buy_k` when the bid beats the ask by
  // more than the edge: perp rich (sell perp, buy spot) and perp cheap (sell spot, buy perp).
  const auto cross = [&](VenueKind sell_k, VenueKind buy_k) {
    Venue& sv = am.venue(sell_k);
    Venue& bv = am.venue(buy_k);
    const Tick bid = sv.book().best_bid(), ask = bv.book().best_ask();
    const double bid_px = sv.ticks_to_price(static_cast<double>(bid)), ask_px = bv.ticks_to_price(static_cast<double>(ask));
    // Long perp / short spot: the spot sold short is borrowed, at long_perp_borrow_bps.
    const double e = buy_k == VenueKind::Perp ? edge + cfg_.long_perp_borrow_bps * 1e-4 : edge;
    if (bid <= 0 || ask <= 0 || bid_px <= ask_px * (1.0 + e)) return;
    const Lots q = std::min({max_lots, sv.book().volume_at(Side::Buy, bid), bv.book().volume_at(Side::Sell, ask),
                             sell_room(m, am, sell_k), buy_room(m, am, buy_k, ask)});
    const Lots f = ioc(sv, Side::Sell, bid, q);
    ioc(bv, Side::Buy, ask, std::min(f, buy_room(m, am, buy_k, ask)));
  };
  cross(VenueKind::Perp, VenueKind::Spot);
  cross(VenueKind::Spot, VenueKind::Perp);
}

// Closing trades: once a venue's price is back within the taker fee of the reference, inventory
// taken on during a dislocation is sold (or bought) back toward flat, which frees the capital for
// the next dislocation. Without it an arbitrageur's capacity is used up once and for all.
void Arbitrageur::unwind(Market& m, AssetMarket& am, VenueKind kind) {
  Venue& v = am.venue(kind);
  const bool spot = kind == VenueKind::Spot;
  const Micros pos = m.ledger.balance(account_, spot ? am.spot_asset : am.perp_asset) - (spot ? base_start_ : 0);
  const Lots pos_lots = pos / v.spec().lot_micros;
  if (pos_lots == 0) return;
  const double ref = am.reference.price();
  const double fee = v.spec().taker_fee_bps * 1e-4;
  const Lots max_lots = v.qty_to_lots(max_order_qty_);
  if (pos_lots > 0) {
    // A long perp is hedged by borrowed spot: worth ref x (1 - borrow) to its holder, so it is sold
    // back only once the bid is within the fee of that (0 borrow: of the reference).
    const double carry = kind == VenueKind::Perp ? cfg_.long_perp_borrow_bps * 1e-4 : 0.0;
    const Tick bid = v.book().best_bid();
    if (bid > 0 && v.ticks_to_price(static_cast<double>(bid)) >= ref * (1.0 - fee - carry))
      ioc(v, Side::Sell, bid, std::min({max_lots, pos_lots, v.book().volume_at(Side::Buy, bid)}));
  } else {
    const Tick ask = v.book().best_ask();
    if (ask > 0 && v.ticks_to_price(static_cast<double>(ask)) <= ref * (1.0 + fee))
      ioc(v, Side::Buy, ask, std::min({max_lots, -pos_lots, v.book().volume_at(Side::Sell, ask), buy_room(m, am, kind, ask)}));
  }
}

void Arbitrageur::act(Market& m) {
  for (AssetMarket& am : m.assets) {
    toward_reference(m, am, VenueKind::Spot);
    toward_reference(m, am, VenueKind::Perp);
    perp_vs_spot(m, am);
    if (cfg_.unwind) {
      unwind(m, am, VenueKind::Spot);
      unwind(m, am, VenueKind::Perp);
    }
  }
}

}  // namespace sl
