#include "agents/liquidator_bot.hpp"
#include "agents/inventory_unwind.hpp"

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


void LiquidatorBot::act(Market& m) { holds_inventory_ = unwind_inventory_step(m, account_); }

}  // namespace sl
