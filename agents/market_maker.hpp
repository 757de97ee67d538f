// Market maker: quotes `levels` price levels per side around a fair value that blends the reference
// price with its own book's mid. Spread widens and quoted size shrinks as the realized volatility
// it observes rises (depth evaporates in a spike), and quotes are skewed against inventory; beyond
// max_inventory it stops quoting the side that would add to it. With hedging on, inventory means net
// inventory across the asset's two venues, and excess is offset on the other venue.
//
// Issue #14 (both off by default, which is the behaviour above, bit for bit):
//  - fair_value "visible": the maker does not see the exogenous reference. fair = index_weight x
//    index + other_venue_weight x the other venue's mid + (1 - both) x its own mid, each mid clamped
//    to index +- anchor_band_bps (a one-sided or empty book falls back to the index; before the
//    first index, to the listing price). The reference reaches the books only through agents that
//    trade on it (arbitrageurs, noise traders' orders around it).
//  - withdrawal.enabled: it pulls levels by the rule of agents/maker_withdrawal.hpp (short-horizon
//    vol, inventory, loss limit, cool-down), widens by widen_bps_per_vol_ratio, and its size per
//    level may round to zero lots (no one-lot floor).
#pragma once
#include <cstdint>
#include <vector>

#include "agents/agent.hpp"
#include "agents/maker_withdrawal.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"

namespace sl {

class MarketMaker {
 public:
  MarketMaker(const MarketMakerConfig& cfg, AccountId account, std::size_t asset, VenueKind venue, Micros base_start, Rng rng);

  bool wants_to_act(std::int64_t step) const { return step % cfg_.requote_every_steps == 0; }
  // The next requote step (sim/core/wake.hpp).
  std::int64_t next_wake(std::int64_t step) const { return next_multiple_after(step, cfg_.requote_every_steps); }
  void act(Market& m);

  AccountId account() const { return account_; }
  std::size_t asset() const { return asset_; }
  VenueKind venue() const { return venue_; }
  double realized_step_vol() const;
  std::int64_t hedges() const { return hedges_; }
  // Net inventory in asset units: spot beyond the start plus perp contracts.
  double net_inventory(const Market& m) const;
  // Its resting quotes (live order ids, best level first per side), and the lots it may still add
  // in one direction before max_inventory (the inventory its quoting counts: net across venues when
  // it hedges, else its own venue's holding). Batch auctions bid from these only.
  const std::vector<OrderId>& quotes() const { return live_; }
  Lots inventory_room_lots(const Market& m, bool buy) const;
  // Levels pulled per side at the last requote (withdrawal on; 0 otherwise), and the short vol ratio.
  int pulled_bid_levels() const { return pulled_.bid; }
  int pulled_ask_levels() const { return pulled_.ask; }
  double short_vol_ratio() const { return short_vol_ratio_; }
  std::int64_t loss_trips() const { return withdrawal_.loss_trips(); }
  // Liquidity scaling set by shocks (liquidity_withdrawal); 1 = normal.
  void set_liquidity_multipliers(double depth_mult, double size_mult) { depth_mult_ = depth_mult; size_mult_ = size_mult; }

 private:
  MarketMakerConfig cfg_;
  AccountId account_;
  std::size_t asset_;
  VenueKind venue_;
  Micros base_start_;  // starting spot holding; spot inventory is measured against it
  std::int64_t hedges_ = 0;
  Rng rng_;
  std::vector<OrderId> live_;
  double inventory_units(const Market& m) const;
  double last_index_ = 0.0;  // index at the previous requote (volatility estimate)
  double ewma_var_ = -1.0;  // per-step variance of index log returns; < 0 until first observation
  double depth_mult_ = 1.0, size_mult_ = 1.0;
  bool visible_ = false;               // fair_value == "visible"
  Micros quote_start_ = 0;             // starting quote balance (trading PnL is measured against it)
  double short_var_ = -1.0;            // withdrawal: short-window EWMA variance; < 0 until first observation
  double short_vol_ratio_ = 1.0;
  MakerWithdrawal withdrawal_;
  MakerWithdrawal::Pulled pulled_;
  double fair_value(const AssetMarket& am, const Venue& v, double index) const;
  double trading_pnl_quote(const Market& m, double index) const;
};

}  // namespace sl
