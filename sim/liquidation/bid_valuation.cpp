#include "sim/liquidation/bid_valuation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sl {

void BidSchedule::build(const Venue& v, bool buy_contracts, Lots max_lots, Lots claimed, const BidderCapacity& cap) {
  v_ = &v;
  buy_ = buy_contracts;
  segs_.clear();
  total_ = 0;
  if (max_lots <= 0) return;
  // A long lot is resold into the bids, a short lot bought back from the asks.
  const Side side = buy_contracts ? Side::Buy : Side::Sell;
  Lots skip = std::max<Lots>(0, claimed);
  Tick deepest = 0;
  v.book().for_each_level(side, std::numeric_limits<std::size_t>::max(), [&](Tick px, Lots q) {
    deepest = px;  // the walk continues to the last level to find the deepest one
    const Lots s = std::min(skip, q);
    skip -= s;
    const Lots t = std::min(q - s, max_lots - total_);
    if (t > 0) {
      segs_.push_back({px, t, true});
      total_ += t;
    }
    return true;
  });
  const Lots hold = std::min(std::max<Lots>(0, cap.hold_room), max_lots - total_);
  if (hold > 0 && deepest > 0) {
    segs_.push_back({deepest, hold, false});
    total_ += hold;
  }
}

double BidSchedule::unit(std::size_t k) const {
  const double gross = static_cast<double>(v_->notional(segs_[k].px, 1));
  const double fee = v_->spec().taker_fee_bps * 1e-4;
  return buy_ ? gross * (1.0 - fee) : gross * (1.0 + fee);
}

Micros BidSchedule::value(Lots n) const {
  Micros sum = 0;
  for (const Segment& s : segs_) {
    if (n <= 0) break;
    const Lots t = std::min(n, s.lots);
    const Micros gross = v_->notional(s.px, t);
    const Micros fee = v_->fee(gross, false);
    sum = checked_add(sum, buy_ ? gross - fee : gross + fee);
    n -= t;
  }
  return sum;
}

Lots BidSchedule::resold(Lots n) const {
  Lots r = 0;
  for (const Segment& s : segs_) {
    if (n <= 0 || !s.resale) break;
    const Lots t = std::min(n, s.lots);
    r += t;
    n -= t;
  }
  return r;
}

BidSchedule::Take BidSchedule::take(double price, Lots max_lots, const BidderCapacity& cap) const {
  if (!v_ || price <= 0) return {};
  const double p_lot = price * static_cast<double>(v_->spec().lot_micros);  // micros of cash per lot
  Lots n = 0;
  for (std::size_t k = 0; k < segs_.size(); ++k) {
    const double u = unit(k);
    if (buy_ ? u < p_lot : u > p_lot) break;  // marginal values fall (long) / costs rise (short)
    n += segs_[k].lots;
  }
  n = std::min(n, max_lots);
  n = std::min<Lots>(n, static_cast<Lots>(std::floor(static_cast<double>(std::max<Micros>(0, cap.capital)) / p_lot)));
  return evaluate(price, n, cap);
}

BidSchedule::Take BidSchedule::evaluate(double price, Lots n, const BidderCapacity& cap) const {
  Take t;
  if (!v_ || n <= 0 || price <= 0) return t;
  const Micros contracts = checked_mul(n, v_->spec().lot_micros);
  const Micros cash = to_fixed(price, static_cast<double>(contracts));  // as the settlement computes it
  if (cash > std::max<Micros>(0, cap.capital)) return t;
  const Micros val = value(n);
  const Micros surplus = buy_ ? val - cash : cash - val;
  if (surplus < cap.fixed_cost) return t;
  t.lots = n;
  t.resold = resold(n);
  t.value = val;
  const double qty = v_->lots_to_qty(n);
  t.reservation = buy_ ? from_micros(val - cap.fixed_cost) / qty : from_micros(val + cap.fixed_cost) / qty;
  return t;
}

Lots schedule_bids(const BidSchedule& sched, const Venue& v, bool buy_contracts, const BidderCapacity& cap,
                   std::int32_t bidder, std::vector<SealedBid>& out, Lots& resold) {
  resold = 0;
  const Lots n = sched.total();
  if (n <= 0) return 0;
  const double per_tick_lot = static_cast<double>(v.spec().quote_micros_per_tick_lot);
  const double fixed_share = static_cast<double>(cap.fixed_cost) / static_cast<double>(n);  // micros per lot
  Micros budget = std::max<Micros>(0, cap.capital);
  Lots bid = 0;
  for (std::size_t k = 0; k < sched.segments().size(); ++k) {
    const double per_lot = buy_contracts ? sched.unit(k) - fixed_share : sched.unit(k) + fixed_share;
    const Tick px = buy_contracts ? static_cast<Tick>(std::floor(per_lot / per_tick_lot + 1e-9))
                                  : static_cast<Tick>(std::ceil(per_lot / per_tick_lot - 1e-9));
    if (px <= 0) break;  // values only fall further down the schedule
    const Micros lot_cost = v.notional(px, 1);
    const Lots lots = std::min<Lots>(sched.segments()[k].lots, budget / lot_cost);
    if (lots <= 0) break;
    out.push_back({bidder, px, lots});
    budget -= v.notional(px, lots);
    bid += lots;
    if (lots < sched.segments()[k].lots) break;
  }
  resold = sched.resold(bid);
  return bid;
}

Lots own_quote_bids(const Venue& v, const std::vector<OrderId>& own_orders, bool buy_contracts, double share,
                    Lots room_lots, Micros capital, std::int32_t bidder, std::vector<SealedBid>& out) {
  const Side side = buy_contracts ? Side::Buy : Side::Sell;
  Lots bid = 0;
  Micros budget = std::max<Micros>(0, capital);
  for (OrderId id : own_orders) {
    if (bid >= room_lots) break;
    const RestingOrder* o = v.book().find(id);
    if (!o || o->side != side) continue;
    Lots lots = std::min<Lots>(static_cast<Lots>(std::floor(static_cast<double>(o->qty) * share + 1e-9)), room_lots - bid);
    if (buy_contracts) lots = std::min<Lots>(lots, budget / v.notional(o->price, 1));
    if (lots <= 0) continue;
    if (buy_contracts) budget -= v.notional(o->price, lots);
    out.push_back({bidder, o->price, lots});
    bid += lots;
  }
  return bid;
}

}  // namespace sl
