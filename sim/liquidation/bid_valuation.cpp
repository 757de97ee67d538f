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

}  // namespace sl
