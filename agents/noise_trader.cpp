#include "agents/noise_trader.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>

namespace sl {

NoiseTrader::NoiseTrader(const NoiseTraderConfig& cfg, AccountId account, double dt_s, Rng rng)
    : cfg_(cfg),
      account_(account),
      rng_(rng),
      market_rate_step_(cfg.market_orders_per_hour * dt_s / 3600.0),
      limit_rate_step_(cfg.limit_orders_per_hour * dt_s / 3600.0) {
  draw_next_event();
}

// The superposition of two Poisson processes: the next arrival comes after Exp(total rate), and is
// a market order with probability market_rate / total.
void NoiseTrader::draw_next_event() {
  const double total = market_rate_step_ + limit_rate_step_;
  if (total <= 0) {
    next_event_ = 1e300;
    return;
  }
  boost::random::exponential_distribution<double> gap(total);
  boost::random::bernoulli_distribution<double> is_market(market_rate_step_ / total);
  next_event_ += gap(rng_);
  next_is_market_ = is_market(rng_);
}

void NoiseTrader::expire(std::int64_t step) {
  std::size_t w = 0;
  next_expiry_ = INT64_MAX;
  for (std::size_t i = 0; i < n_live_; ++i) {
    LiveOrder& o = live_[i];
    if (o.expiry <= step) {
      o.venue->cancel(o.id);  // false if it already filled: nothing to do
    } else {
      next_expiry_ = std::min(next_expiry_, o.expiry);
      live_[w++] = o;
    }
  }
  n_live_ = w;
}

void NoiseTrader::trade(Market& m, bool market_order) {
  boost::random::uniform_int_distribution<std::size_t> pick_asset(0, m.assets.size() - 1);
  boost::random::bernoulli_distribution<double> coin(0.5);
  boost::random::exponential_distribution<double> size_dist(1.0 / cfg_.mean_size);
  AssetMarket& am = m.assets[pick_asset(rng_)];
  Venue& v = am.venue(coin(rng_) ? VenueKind::Spot : VenueKind::Perp);
  const Side side = coin(rng_) ? Side::Buy : Side::Sell;
  const Lots lots = std::max<Lots>(1, v.qty_to_lots(size_dist(rng_)));
  if (market_order) {
    v.market(account_, side, lots);
    return;
  }
  boost::random::exponential_distribution<double> offset_dist(1.0 / cfg_.limit_offset_bps_mean);
  // Priced off what a trader sees: the two-sided mid, the index when a side is missing (issue #14:
  // not a one-sided book's last trade, nor the hidden reference).
  const double mid = am.visible_mid_ticks(v);
  const double off = offset_dist(rng_) * 1e-4;
  const Tick price = side == Side::Buy ? static_cast<Tick>(std::floor(mid * (1.0 - off)))
                                       : static_cast<Tick>(std::ceil(mid * (1.0 + off)));
  if (price < 1 || price > v.spec().max_tick) return;
  if (n_live_ == kMaxLive) {  // cancel the oldest to make room
    live_[0].venue->cancel(live_[0].id);
    std::move(live_.begin() + 1, live_.begin() + n_live_, live_.begin());
    --n_live_;
  }
  const SubmitResult r = v.limit(account_, side, price, lots);
  if (r.id) {
    const std::int64_t expiry = m.step + cfg_.limit_lifetime_steps;
    live_[n_live_++] = LiveOrder{r.id, &v, expiry};
    next_expiry_ = std::min(next_expiry_, expiry);
  }
}

void NoiseTrader::act(Market& m) {
  if (m.step >= next_expiry_) expire(m.step);
  // Several arrivals can fall in one step when rates are high; each is handled in turn.
  while (next_event_ <= static_cast<double>(m.step)) {
    trade(m, next_is_market_);
    draw_next_event();
  }
}

}  // namespace sl
