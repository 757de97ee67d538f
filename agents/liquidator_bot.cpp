#include "agents/liquidator_bot.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

LiquidatorBot::LiquidatorBot(const LiquidatorConfig& cfg, AccountId account, std::int32_t agent_id, Rng rng)
    : cfg_(cfg), account_(account), agent_id_(agent_id), rng_(rng) {}

bool LiquidatorBot::sees(const MarginAccount& a, std::int64_t step, double latency_multiplier) const {
  if (a.flagged_since < 0) return false;
  const auto latency = static_cast<std::int64_t>(std::ceil(cfg_.latency_steps * latency_multiplier - 1e-9));
  return step - a.flagged_since >= latency;
}

bool LiquidatorBot::worth_it(double expected_reward, double cost_multiplier, const Ledger& ledger, AssetId quote) const {
  const double cost = tx_cost(cost_multiplier);
  if (expected_reward - cost < cfg_.min_profit) return false;
  return from_micros(ledger.balance(account_, quote)) >= cost;  // its capital must cover the transaction
}

// Sells spot and flattens perp inventory in slices of at most 1% of visible depth... simply: one
// IOC market order per venue per step for at most the size resting at the best two levels, so a
// bot never dumps its whole inventory into an empty book.
void LiquidatorBot::act(Market& m) {
  bool left = false;
  for (AssetMarket& am : m.assets) {
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      Venue& v = am.venue(k);
      const AssetId asset = k == VenueKind::Spot ? am.spot_asset : am.perp_asset;
      const Micros held = m.ledger.balance(account_, asset);
      if (held == 0) continue;
      const Side side = held > 0 ? Side::Sell : Side::Buy;
      Lots visible = 0;
      v.book().for_each_level(opposite(side), 2, [&](Tick, Lots q) {
        visible += q;
        return true;
      });
      const Lots want = std::abs(held) / v.spec().lot_micros;
      const Lots lots = std::min(want, visible);
      if (lots > 0) v.market(account_, side, lots);
      if (m.ledger.balance(account_, asset) / v.spec().lot_micros != 0) left = true;
    }
  }
  holds_inventory_ = left;
}

}  // namespace sl
