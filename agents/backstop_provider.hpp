// Backstop liquidity provider (delta_neutral policy, `backstop` mode; model.md section 5): a
// designated firm that takes over a failing hedged portfolio whole (every spot unit and perpetual
// contract of the margin account) at a fixed discount to its mark value, up to a total capacity in
// quote units of portfolio value, and then unwinds what it took itself, through the books, in
// slices (like LiquidatorBot::act: one IOC market order per venue per step, at most the size
// resting at the best two levels), so its own flow moves prices but never sweeps an empty book; a
// hedged pair (spot and contracts of one asset, opposite signs) in pairs, its net delta never
// growing (paired_unwind_inventory_step, agents/inventory_unwind.hpp).
//
// Capacity is consumed by the gross value of each portfolio taken (see
// sim/liquidation/delta_neutral.cpp for the valuation) and never replenished: it is "how much
// the backstop agreed to take in total" for the run. The kernel opens and funds the account
// (backstop_capacity quote) and puts the provider in the activation list.
#pragma once
#include <cstdint>

#include "sim/book/ledger.hpp"
#include "sim/market/market.hpp"

namespace sl {

class BackstopProvider {
 public:
  BackstopProvider(double capacity_quote, AccountId account);

  double remaining_capacity() const { return remaining_; }
  // A portfolio of this (gross) value fits in the remaining capacity.
  bool can_take(double portfolio_value) const { return portfolio_value >= 0 && portfolio_value <= remaining_ + 1e-9; }
  // Records a takeover: consumes capacity and marks inventory to unwind.
  void took(double value);

  // Inventory management (step 3): unwinds spot and perp inventory toward zero with IOC slices.
  bool wants_to_act(std::int64_t) const { return holds_inventory_; }
  void act(Market& m);

  AccountId account() const { return account_; }
  double taken_total() const { return taken_; }
  // Its own margin account was flagged: it takes nothing more and stops acting (the policy
  // liquidates what it holds).
  void retire() {
    remaining_ = 0.0;
    holds_inventory_ = false;
  }

 private:
  double capacity_;
  double remaining_;
  double taken_ = 0.0;
  AccountId account_;
  bool holds_inventory_ = false;
};

}  // namespace sl
