// Liquidator bot: watches the margin engine with latency, pays a transaction cost per liquidation
// (multiplied under congestion), needs capital to pay it, and competes with other bots: the
// liquidation policy offers each flagged account to the bots in a seeded random order and the
// first bot that sees it and finds it worth the cost wins. Whatever inventory a bot ends up
// holding (auction policies hand it collateral) it sells back into the books in slices, so its
// own flow moves prices.
#pragma once
#include <cstdint>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/liquidation/bid_valuation.hpp"

namespace sl {

class LiquidatorBot {
 public:
  LiquidatorBot(const LiquidatorConfig& cfg, AccountId account, std::int32_t agent_id, Rng rng);

  // Inventory management (step 3): unwinds spot and perp inventory toward zero with IOC orders.
  bool wants_to_act(std::int64_t step) const { return holds_inventory_; }
  void act(Market& m);

  // Has this bot noticed the account yet? It must have been liquidatable for at least the bot's
  // latency (x congestion multiplier, rounded up) steps.
  bool sees(const MarginAccount& a, std::int64_t step, double latency_multiplier) const;
  // Its latency in steps under a congestion latency multiplier: ceil(latency_steps x multiplier).
  std::int64_t latency(double latency_multiplier) const;
  double tx_cost(double cost_multiplier) const { return cfg_.tx_cost * cost_multiplier; }
  // Worth it: expected reward - tx cost >= min_profit, and the bot can pay the tx cost.
  bool worth_it(double expected_reward, double cost_multiplier, const Ledger& ledger, AssetId quote) const;
  void note_inventory() { holds_inventory_ = true; }
  // Its own margin account was flagged (every perp position is margined, issue #12 item 3): it
  // stops bidding and acting for the rest of the run (the policy liquidates what it holds).
  void retire() {
    retired_ = true;
    holds_inventory_ = false;
  }
  bool retired() const { return retired_; }
  // What it brings to a lot of asset `asset` (sim/liquidation/bid_valuation.hpp): capital = quote
  // balance less the tx cost; hold room = max_inventory less the contracts it already holds in the
  // lot's direction (long lot: its long perp; short lot: its short perp), in lots; fixed cost = tx
  // cost (x congestion) + min_profit.
  BidderCapacity capacity(const Market& m, std::size_t asset, bool buy_contracts, double cost_multiplier) const;

  AccountId account() const { return account_; }
  std::int32_t agent_id() const { return agent_id_; }
  const LiquidatorConfig& config() const { return cfg_; }
  // Its own stream (agent stream): the priority-fee auction draws its bid share from it.
  Rng& rng() { return rng_; }

 private:
  LiquidatorConfig cfg_;
  AccountId account_;
  std::int32_t agent_id_;
  Rng rng_;
  bool holds_inventory_ = false;
  bool retired_ = false;
};

}  // namespace sl
