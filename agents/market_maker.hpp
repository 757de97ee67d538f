// Market maker: quotes `levels` price levels per side around a fair value that blends the reference
// price with its own book's mid. Spread widens and quoted size shrinks as the realized volatility
// it observes rises (depth evaporates in a spike), and quotes are skewed against inventory; beyond
// max_inventory it stops quoting the side that would add to it. With hedging on, inventory means net
// inventory across the asset's two venues, and excess is offset on the other venue.
#pragma once
#include <cstdint>
#include <vector>

#include "agents/agent.hpp"
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
};

}  // namespace sl
