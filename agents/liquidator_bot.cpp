#include "agents/liquidator_bot.hpp"
#include "agents/inventory_unwind.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

LiquidatorBot::LiquidatorBot(const LiquidatorConfig& cfg, AccountId account, std::int32_t agent_id, Rng rng)
    : cfg_(cfg), account_(account), agent_id_(agent_id), rng_(rng) {}

std::int64_t LiquidatorBot::latency(double latency_multiplier) const {
  return static_cast<std::int64_t>(std::ceil(cfg_.latency_steps * latency_multiplier - 1e-9));
}

bool LiquidatorBot::sees(const MarginAccount& a, std::int64_t step, double latency_multiplier) const {
  if (retired_ || a.flagged_since < 0) return false;
  return step - a.flagged_since >= latency(latency_multiplier);
}

bool LiquidatorBot::worth_it(double expected_reward, double cost_multiplier, const Ledger& ledger, AssetId quote) const {
  const double cost = tx_cost(cost_multiplier);
  if (expected_reward - cost < cfg_.min_profit) return false;
  return from_micros(ledger.balance(account_, quote)) >= cost;  // its capital must cover the transaction
}

BidderCapacity LiquidatorBot::capacity(const Market& m, std::size_t asset, bool buy_contracts, double cost_multiplier) const {
  const AssetMarket& am = m.assets[asset];
  const Micros tx = to_fixed(tx_cost(cost_multiplier), 1e6);
  const Micros held = m.ledger.balance(account_, am.perp_asset);
  const Micros same_way = buy_contracts ? std::max<Micros>(0, held) : std::max<Micros>(0, -held);
  const Micros room = std::max<Micros>(0, to_fixed(cfg_.max_inventory, 1e6) - same_way);
  BidderCapacity c;
  c.capital = std::max<Micros>(0, m.ledger.balance(account_, m.quote_asset) - tx);
  c.hold_room = room / am.perp->spec().lot_micros;
  c.fixed_cost = tx + to_fixed(cfg_.min_profit, 1e6);
  return c;
}

void LiquidatorBot::act(Market& m) { holds_inventory_ = unwind_inventory_step(m, account_); }

}  // namespace sl
