// Ladder maker: posts a fixed depth profile (levels x size_per_level, first level first_offset_ticks
// from the centre, then every tick_spacing ticks) on one venue. With refill "never" the book it
// leaves is known exactly, so a scenario's fills, slippage and liquidation outcomes can be computed
// by hand. It never reacts to prices, volatility or inventory.
#pragma once
#include <cstdint>
#include <vector>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/core/wake.hpp"

namespace sl {

class LadderMaker {
 public:
  LadderMaker(const LadderConfig& cfg, AccountId account);

  bool wants_to_act(std::int64_t step) const;
  std::int64_t next_wake(std::int64_t step) const;
  void act(Market& m);
  AccountId account() const { return account_; }

 private:
  LadderConfig cfg_;
  AccountId account_;
  bool posted_ = false;
  std::vector<OrderId> live_;
};

}  // namespace sl
