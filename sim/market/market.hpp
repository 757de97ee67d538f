// The simulated world agents act on: per asset an exogenous reference price, a spot venue and a
// perpetual venue, all settling through one ledger. The kernel owns it; agents get a reference.
#pragma once
#include <cstdint>
#include <deque>
#include <limits>
#include <vector>

#include "sim/book/ledger.hpp"
#include "sim/market/reference_process.hpp"
#include "sim/book/venue.hpp"

namespace sl {

class MarginEngine;

struct AssetMarket {
  std::string symbol;
  AssetId spot_asset = 0;      // ledger asset of the spot coin
  AssetId perp_asset = 0;      // ledger asset of the perpetual contract
  ReferenceProcess reference;
  // Venues live in deques so references stay valid; index by VenueKind.
  Venue* spot = nullptr;
  Venue* perp = nullptr;
  Venue& venue(VenueKind k) { return k == VenueKind::Spot ? *spot : *perp; }
  const Venue& venue(VenueKind k) const { return k == VenueKind::Spot ? *spot : *perp; }
  double initial_price = 0.0;
  double calm_step_vol = 0.0;  // calm-regime stdev of log returns per step
  // Perpetual state, updated by the kernel each step (model.md section 4):
  double index_price = 0.0;    // oracle index published this step (step 2)
  double mark_price = 0.0;     // index + clamped EMA premium (step 4)
  double funding_rate = 0.0;   // last settled funding rate, fraction per interval
  double funding_estimate = 0.0;  // rate the current interval would settle at now (premium so far)
  // This step's Binance premium index sample P_i (fraction; impact prices against the index, the
  // funding_shock excluded), set by step 6 when funding is on; NaN when it is off.
  double premium_index = std::numeric_limits<double>::quiet_NaN();
  double collateral_haircut = 0.0;
  // Published prices, falling back to the reference before the first publication.
  double index_or_reference() const { return index_price > 0 ? index_price : reference.price(); }
  double mark_or_reference() const { return mark_price > 0 ? mark_price : reference.price(); }
  // What a market-seeing trader takes as a venue's price, in ticks: its two-sided mid, the index
  // (the reference before the first publication) when a side is missing (issue #14).
  double visible_mid_ticks(const Venue& v) const { return v.two_sided_mid_ticks_or(index_or_reference() / v.spec().tick_size); }
};

struct Market {
  explicit Market(Ledger& l) : ledger(l) {}
  Ledger& ledger;
  AssetId quote_asset = 0;
  double dt_s = 1.0;
  std::int64_t step = 0;
  std::vector<AssetMarket> assets;
  std::deque<Venue> venues;
  AccountId transit_account = 0;  // system account holding collateral in transfer between wallets and margin accounts
  // The rest of the market: takes the other side of positions that exist before step 0 ("initial"
  // entry modes, accounts.file). It may go negative in every asset, like an issuer; once every
  // population is built its contracts (and their cash leg) go to the margined counterparty
  // population (sim/run/counterparties.hpp); it keeps the spot it sold to basis traders.
  AccountId counterparty_account = 0;
  // Per asset: the quote the counterparty account received (+) / paid (-) for the contracts booked
  // against it (book_against_counterparty), so that its net position's entry price is known when
  // the kernel splits it among the counterparty population (sim/run/counterparties.hpp).
  std::vector<Micros> counterparty_perp_cash;
  MarginEngine* margin = nullptr;  // set by the kernel; agents read their account's health from it
  // Congestion (the congestion shock, sim/market/shocks.hpp): multipliers on liquidator transaction cost
  // and latency, set by the kernel every step (1 outside congestion windows).
  double liquidator_cost_multiplier = 1.0;
  double liquidator_latency_multiplier = 1.0;
};

}  // namespace sl
