#include "agents/market_maker.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

MarketMaker::MarketMaker(const MarketMakerConfig& cfg, AccountId account, std::size_t asset, VenueKind venue,
                         Micros base_start, Rng rng)
    : cfg_(cfg),
      account_(account),
      asset_(asset),
      venue_(venue),
      base_start_(base_start),
      rng_(rng),
      visible_(cfg.fair_value == "visible"),
      quote_start_(to_fixed(cfg.quote_cash, 1e6)),
      withdrawal_(cfg.withdrawal, cfg.max_inventory) {
  live_.reserve(static_cast<std::size_t>(2 * std::max(cfg.levels, 1)));
}

// Visible fair value (issue #14 item 1): the index, the other venue's mid and its own mid, the mids
// clamped to the index band; an empty or one-sided book falls back to the index (not its last trade).
double MarketMaker::fair_value(const AssetMarket& am, const Venue& v, double index) const {
  const Venue& other = am.venue(venue_ == VenueKind::Spot ? VenueKind::Perp : VenueKind::Spot);
  const double band = cfg_.anchor_band_bps * 1e-4;
  const auto clamped_mid = [&](const Venue& x) {
    const double mid = x.ticks_to_price(x.two_sided_mid_ticks_or(index / x.spec().tick_size));
    return std::clamp(mid, index * (1.0 - band), index * (1.0 + band));
  };
  const double own_weight = 1.0 - cfg_.index_weight - cfg_.other_venue_weight;
  return cfg_.index_weight * index + cfg_.other_venue_weight * clamped_mid(other) + own_weight * clamped_mid(v);
}

// What its trading made, marked at the index: quote gained or spent plus the spot and perp
// inventory it took on (the spot it started with is not counted, so a fall alone is no loss).
double MarketMaker::trading_pnl_quote(const Market& m, double index) const {
  const AssetMarket& am = m.assets[asset_];
  const double quote = from_micros(m.ledger.balance(account_, m.quote_asset) - quote_start_);
  const double inv = from_micros(m.ledger.balance(account_, am.spot_asset) - base_start_) + from_micros(m.ledger.balance(account_, am.perp_asset));
  return quote + inv * index;
}

double MarketMaker::net_inventory(const Market& m) const {
  const AssetMarket& am = m.assets[asset_];
  return from_micros(m.ledger.balance(account_, am.spot_asset) - base_start_) + from_micros(m.ledger.balance(account_, am.perp_asset));
}

double MarketMaker::inventory_units(const Market& m) const {
  if (cfg_.hedge && venue_ == VenueKind::Perp) return net_inventory(m);
  const AssetMarket& am = m.assets[asset_];
  const Micros own = venue_ == VenueKind::Spot ? m.ledger.balance(account_, am.spot_asset) - base_start_
                                               : m.ledger.balance(account_, am.perp_asset);
  return from_micros(own);
}

Lots MarketMaker::inventory_room_lots(const Market& m, bool buy) const {
  const double inv = inventory_units(m);
  const double room = buy ? cfg_.max_inventory - inv : cfg_.max_inventory + inv;
  if (room <= 0) return 0;
  const Venue& v = m.assets[asset_].venue(venue_);
  return static_cast<Lots>(std::floor(room / v.spec().lot_size + 1e-9));
}

double MarketMaker::realized_step_vol() const { return ewma_var_ > 0 ? std::sqrt(ewma_var_) : 0.0; }

void MarketMaker::act(Market& m) {
  AssetMarket& am = m.assets[asset_];
  Venue& v = am.venue(venue_);
  for (OrderId id : live_) v.cancel(id);
  live_.clear();

  double index, fair;
  if (visible_) {
    index = am.index_price > 0 ? am.index_price : am.initial_price;
    fair = fair_value(am, v, index);
  } else {
    const double ref = am.reference.price();
    const double mid = v.ticks_to_price(v.mid_ticks(v.price_to_ticks(ref)));
    // The own book's mid anchors the quotes, but only within a band around the published index: a
    // swept, one-sided book must not drag the maker's fair value (and its volatility estimate) away.
    index = am.index_price > 0 ? am.index_price : ref;
    const double band = cfg_.anchor_band_bps * 1e-4;
    const double anchor = std::clamp(mid, index * (1.0 - band), index * (1.0 + band));
    fair = cfg_.reference_weight * ref + (1.0 - cfg_.reference_weight) * anchor;
  }

  // Realized volatility: EWMA of squared log changes of the published index between requotes
  // (the market-wide price every maker watches; its own book's mid is too noisy once the book is
  // thin), seeded with the calm-regime variance so the first quotes are calm ones.
  const double alpha = 2.0 / (cfg_.vol_window_steps + 1.0);
  const double calm_var = am.calm_step_vol * am.calm_step_vol * cfg_.requote_every_steps;
  if (ewma_var_ < 0) ewma_var_ = calm_var;
  const bool withdraw = cfg_.withdrawal.enabled;
  if (withdraw && short_var_ < 0) short_var_ = calm_var;
  if (last_index_ > 0) {
    const double r = std::log(index / last_index_);
    ewma_var_ = (1.0 - alpha) * ewma_var_ + alpha * r * r;
    if (withdraw) {
      const double a_short = 2.0 / (cfg_.withdrawal.vol_window_steps + 1.0);
      short_var_ = (1.0 - a_short) * short_var_ + a_short * r * r;
    }
  }
  last_index_ = index;
  const double vol = std::sqrt(ewma_var_);
  const double vol_ratio = calm_var > 0 ? vol / std::sqrt(calm_var) : 1.0;
  if (withdraw) short_vol_ratio_ = calm_var > 0 ? std::sqrt(short_var_ / calm_var) : 1.0;

  double inv_units;
  if (cfg_.hedge && venue_ == VenueKind::Perp) {
    // Perp makers offset net inventory beyond the threshold on the spot book (market order,
    // capped). Spot makers do not hedge: with both sides hedging into each other, their hedges
    // would bounce between the two books and build gross positions without end.
    const double net = net_inventory(m);
    if (std::abs(net) > cfg_.hedge_threshold) {
      Venue& h = am.venue(venue_ == VenueKind::Spot ? VenueKind::Perp : VenueKind::Spot);
      const Lots lots = h.qty_to_lots(std::min(std::abs(net) - cfg_.hedge_threshold * 0.5, cfg_.hedge_max_qty));
      if (lots > 0 && h.market(account_, net > 0 ? Side::Sell : Side::Buy, lots).filled > 0) ++hedges_;
    }
  }
  inv_units = inventory_units(m);
  const double skew_bps = cfg_.max_inventory > 0 ? -cfg_.inventory_skew_bps * inv_units / cfg_.max_inventory : 0.0;
  const double center = fair * (1.0 + skew_bps * 1e-4);
  double half_bps = 0.5 * cfg_.base_spread_bps + cfg_.vol_spread_mult * vol * 1e4;
  const double thin = 1.0 / (1.0 + cfg_.depth_vol_sensitivity * std::max(0.0, vol_ratio - 1.0));
  // Without withdrawal, at least one lot per level: makers thin their quotes under stress but keep
  // a presence. With it, the size may round to zero lots and levels are pulled (issue #14).
  const double size = cfg_.quote_size * (venue_ == VenueKind::Spot ? cfg_.spot_size_multiplier : 1.0);
  const Lots raw_lots = v.qty_to_lots(size * thin * size_mult_);
  const Lots lots = withdraw ? raw_lots : std::max<Lots>(1, raw_lots);
  if (size_mult_ <= 0 || cfg_.quote_size <= 0) return;
  const int levels = std::max(1, static_cast<int>(std::lround(cfg_.levels * depth_mult_)));
  if (withdraw) {
    pulled_ = withdrawal_.update(static_cast<double>(m.step) * m.dt_s, levels, short_vol_ratio_, inv_units,
                                 trading_pnl_quote(m, index));
    half_bps += withdrawal_.widen_bps(short_vol_ratio_);
    if (lots <= 0) return;
  }
  const bool quote_bids = inv_units < cfg_.max_inventory;
  const bool quote_asks = inv_units > -cfg_.max_inventory;
  const double tick = v.spec().tick_size;
  for (int i = 0; i < levels; ++i) {
    const double off = (half_bps + i * cfg_.level_spacing_bps) * 1e-4;
    // Pulled levels are the outermost ones (pulled_ stays 0 without withdrawal).
    if (quote_bids && i < levels - pulled_.bid) {
      const Tick p = static_cast<Tick>(std::floor(center * (1.0 - off) / tick));
      if (p >= 1) {
        const SubmitResult r = v.limit(account_, Side::Buy, p, lots);
        if (r.id) live_.push_back(r.id);
      }
    }
    if (quote_asks && i < levels - pulled_.ask) {
      const Tick p = static_cast<Tick>(std::ceil(center * (1.0 + off) / tick));
      if (p <= v.spec().max_tick) {
        const SubmitResult r = v.limit(account_, Side::Sell, p, lots);
        if (r.id) live_.push_back(r.id);
      }
    }
  }
}

}  // namespace sl
