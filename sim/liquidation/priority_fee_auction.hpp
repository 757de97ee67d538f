// The priority-fee auction among heterogeneous liquidator classes (issue #14 item 3), used instead
// of the seeded first-come choice when the scenario gives agents.liquidator_classes.
//
// For a flagged account at step t, every bot that has seen it (its latency x the congestion latency
// multiplier, as before) computes, in quote units,
//   R        = the expected reward the policy offers (under `market`: liquidator_share x penalty_bps
//              x close_factor x gross notional; under `dutch`: the keeper's tip + chip x notional)
//   gas      = tx_cost x congestion cost multiplier + b_t            (b_t: this step's base fee)
//   risk     = price_risk_share x sqrt(2/pi) x sum_k |q_k| mark_k sigma_k x sqrt(latency + 1)
//              (the expected absolute move of the account's positions over the bot's latency plus
//              the step its transaction needs, sigma_k the EWMA per-step volatility of index k's log
//              returns, the same estimate for every bot)
//   surplus  = R - gas - risk - min_profit
// and enters only if surplus > 0 and its quote balance covers gas. So a penalty too low for every
// class means nobody comes; the account then waits for the protocol fallback.
// Each entrant submits a sealed priority fee f = min(u x surplus, balance - gas), u uniform in
// [bid_share_min, bid_share_max] from the bot's own stream (its agent stream), rounded down to a
// micro-unit. The highest fee wins (first price: the winner pays its own bid); exact ties go to the
// first of a seeded random order (the liquidation stream). The winner pays tx_cost to
// network_fees (as before), b_t to network_fees (burnt, EIP-1559) and its fee f: fee_capture_share
// x f (rounded to the micro-unit) to the insurance fund, the rest to network_fees. Losers pay
// nothing (a sealed, bundle-style auction: a losing transaction is never included).
//
// Base fee (EIP-1559, eips.ethereum.org/EIPS/eip-1559, with one liquidation bid = one unit of gas,
// target T = target_bids_per_step, elasticity 2, d = max_change_denominator): after a step with
// n bids, used = min(n, 2T),
//   used > T: b' = b + max(b (used - T) / T / d, 1 micro)
//   used < T: b' = b - b (T - used) / T / d
//   used = T: b' = b
// in integer micro-units (integer division, as the EIP), then b' = max(b', base_fee_min). Steps
// with no bid lower it by b / d each (toward the floor).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/liquidation/common.hpp"

namespace sl {

class PriorityFeeAuction {
 public:
  PriorityFeeAuction(const PriorityFeeConfig& cfg, const Market& m);

  // The kernel calls this every step before the policy: updates the index volatility estimate
  // (EWMA of squared log returns, alpha = 2 / (vol_window_steps + 1)).
  void observe(const Market& m);

  // The winner of the account's liquidation this step (and its payments), or the protocol fallback
  // (protocol_fallback in common.hpp), or nobody (found == false).
  Liquidator choose(LiquidationContext& ctx, const MarginAccount& acc, double expected_reward, int protocol_fallback_steps);

  // The base fee in force at `step` (micro-units of quote); advances the fee through the steps since
  // the last call.
  Micros base_fee(std::int64_t step);
  // One EIP-1559 update (formula above), pure.
  static Micros next_base_fee(Micros base, std::int64_t bids, std::int64_t target, std::int64_t denominator, Micros floor);
  // sigma_k: the current per-step volatility estimate of asset k's index.
  double step_vol(std::size_t asset) const { return std::sqrt(var_[asset]); }
  // The expected absolute move of the account's positions over `horizon_steps` (quote units).
  double expected_move(const LiquidationContext& ctx, const MarginAccount& acc, double horizon_steps) const;

  // What the auction moved over the run (micro-units of quote) and how often.
  struct Totals {
    Micros base_fees = 0;        // burnt to network_fees
    Micros priority_fees = 0;    // all winners' priority fees
    Micros captured = 0;         // the part paid to the insurance fund
    std::int64_t auctions = 0;   // decisions with at least one entrant
    std::int64_t contested = 0;  // decisions with two or more entrants
    std::int64_t bids = 0;
  };
  const Totals& totals() const { return totals_; }

 private:
  struct Entrant {
    std::size_t bot = 0;
    Micros fee = 0;
    Micros gas_tx = 0;  // its own tx cost
  };

  PriorityFeeConfig cfg_;
  Micros base_ = 0, floor_ = 0;
  std::int64_t fee_step_ = 0;         // the step base_ is for
  std::int64_t bids_in_step_ = 0;     // bids submitted at fee_step_
  double alpha_ = 0.0;
  std::vector<double> var_, last_index_;
  std::vector<std::size_t> order_;    // scratch, reused: the seeded order of the bots
  std::vector<Entrant> entrants_;     // scratch, reused
  Totals totals_;
};

}  // namespace sl
