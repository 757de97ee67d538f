// Funding of perpetuals (model.md section 4): impact prices, the premium clock and the funding
// settlement through the double-entry ledger.
#pragma once

#include <cstdint>

#include "scenarios/scenario_config.hpp"
#include "sim/core/fixed_point.hpp"
#include "sim/book/ledger.hpp"
#include "sim/book/order_book.hpp"

namespace sl {

// Average fill price of a market order of `notional_quote` (quote units) against one side of the book:
// Side::Sell walks the bids (impact bid), Side::Buy walks the asks (impact ask). Prices are
// ticks * tick_size, quantities lots * lot_size; the last level touched is taken in part, in continuous
// quantity (not rounded to lots), as venues define the impact price. Returns 0 if the side is empty; if
// the side holds less than the notional, the average over what is there; if notional_quote <= 0, the
// best price of the side (the limit of the average as the notional goes to 0).
double impact_price(const OrderBook& book, Side taker_side, double notional_quote, double tick_size, double lot_size);

class FundingClock {
 public:
  // dt_s: seconds per step. Throws std::invalid_argument unless dt_s and cfg.interval_s are > 0.
  FundingClock(const FundingConfig& cfg, double dt_s);

  // Step 6, every step: adds one premium sample by Binance's premium-index rule (model.md section 9),
  //   P_i = [max(0, impact_bid - index) - max(0, index - impact_ask)] / index,
  // which is 0 whenever the index lies between the impact prices. An impact price that is not a
  // positive finite number is missing and its term is 0; an index that is not positive gives 0.
  // premium_shock (fraction) is added to the sample: the funding_shock of sim/market/shocks.hpp.
  void sample(double impact_bid, double impact_ask, double index, double premium_shock = 0.0);
  // True at the step where an interval ends: once samples_per_interval() samples have accumulated.
  bool due() const { return count_ >= per_interval_; }
  // Computes F from the samples of the interval, P = the time-weighted average
  // (1 P_1 + 2 P_2 + ... + n P_n) / (1 + 2 + ... + n) as Binance averages the premium index over the
  // funding interval (P = 0 if there were no samples), resets the accumulator, returns F (fraction
  // per interval).
  double settle_rate();
  double last_premium() const { return last_premium_; }   // P of the last settled interval
  // The last sample P_i as the market made it (impact prices against the index), without the
  // scenario's premium_shock: the venue's published premium index at that step.
  double last_sample() const { return last_sample_; }
  double current_premium_estimate() const;                // weighted average of the current interval so far (0 if empty)
  std::int64_t samples_per_interval() const { return per_interval_; }  // round(interval_s / dt_s), >= 1
  std::int64_t samples_in_interval() const { return count_; }

  // The formula of model.md section 4, as a pure function (fractions per interval):
  // F = P + clamp(I - P, -clamp, +clamp), then clamped to [-cap, +cap]; I = interest_bps / 1e4,
  // clamp = interest_clamp_bps / 1e4, cap = cap_bps / 1e4. When |I - P| <= clamp the result is I
  // exactly (not P + (I - P), which may differ from I in the last bit).
  static double funding_rate(double premium, const FundingConfig& cfg);

 private:
  FundingConfig cfg_;
  std::int64_t per_interval_ = 1;
  std::int64_t count_ = 0;
  double weighted_sum_ = 0.0;  // sum of k x P_k over the interval's samples so far
  double last_premium_ = 0.0;
  double last_sample_ = 0.0;
  double weighted_average() const;
};

struct FundingSettlement {
  Micros collected = 0;      // total paid by payers into the pool
  Micros distributed = 0;    // total paid out to receivers (== collected, exactly)
  Micros shortfall = 0;      // what payers owed but could not pay (non-negative-balance accounts without enough quote)
  std::int64_t payers = 0;     // accounts on the paying side whose rounded owed amount is > 0 (paid in full or not)
  std::int64_t receivers = 0;  // accounts credited a non-zero amount
};

// Pays funding for one perpetual asset through the ledger at `mark_price` and `rate` (fraction per
// interval). Every ledger account with a non-zero balance of `perp_asset` (contracts in micro-units of the
// asset) takes part, except `pool`. Owed amount of an account = contracts / 1e6 * mark_price * rate quote
// units (computed as |contracts| * mark_price * |rate| micro-units); longs pay when rate > 0, shorts pay
// when rate < 0. Each payer's owed amount is rounded to the nearest micro-unit (half away from zero) and
// transferred payer -> pool; an account that may not go negative pays at most its quote balance (the rest
// is shortfall). The pool then pays everything it collected to the receivers pro rata to |contracts|, in
// exact integer arithmetic with the largest-remainder method (ties broken by lower account id), so the
// pool ends where it started (0 for a dedicated pool) and no micro-unit is lost or created.
// Nothing happens (all zeros) when rate or mark_price is 0, mark_price is negative, or one side of the
// open interest is empty (no receivers: nobody to pay, so nothing is collected). Throws
// std::invalid_argument for non-finite rate/mark or unknown ids; ledger errors propagate.
FundingSettlement settle_funding(Ledger& ledger, AssetId perp_asset, AssetId quote_asset, AccountId pool, double rate,
                                 double mark_price);

}  // namespace sl
