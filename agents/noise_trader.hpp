// Noise trader: Poisson arrivals of market orders and of limit orders placed an exponential
// distance from the mid; limit orders are cancelled after a lifetime. Side, asset and venue are
// drawn uniformly. Provides the uninformed flow that makers earn their spread from.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"

namespace sl {

class NoiseTrader {
 public:
  NoiseTrader(const NoiseTraderConfig& cfg, AccountId account, double dt_s, Rng rng);

  bool wants_to_act(std::int64_t step) const {
    return static_cast<double>(step) >= next_event_ || step >= next_expiry_;
  }
  // The first whole step at or after the next order event, or the next expiry of a resting order.
  std::int64_t next_wake(std::int64_t step) const {
    const double e = std::ceil(next_event_);
    const std::int64_t ev = e >= 9e18 ? kNeverWakes : static_cast<std::int64_t>(e);
    return std::max(step + 1, std::min(ev, next_expiry_));
  }
  void act(Market& m);
  AccountId account() const { return account_; }

 private:
  struct LiveOrder {
    OrderId id = 0;
    Venue* venue = nullptr;
    std::int64_t expiry = 0;
  };
  static constexpr std::size_t kMaxLive = 8;  // oldest is cancelled when full

  void draw_next_event();
  void expire(std::int64_t step);
  void trade(Market& m, bool market_order);

  NoiseTraderConfig cfg_;
  AccountId account_;
  Rng rng_;
  double market_rate_step_, limit_rate_step_;  // arrivals per step
  double next_event_ = 0.0;                    // in steps (continuous)
  bool next_is_market_ = true;
  std::array<LiveOrder, kMaxLive> live_{};
  std::size_t n_live_ = 0;
  std::int64_t next_expiry_ = INT64_MAX;
};

}  // namespace sl
