// The in-memory form of a scenario file. Every field has a default and a unit in its name; the
// loader (scenarios/loader.*) fills it from JSON after validating types and ranges, and converts
// decimal money/price/quantity fields to fixed-point exactly once, there.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/fixed_point.hpp"

namespace sl {

// Synthetic reference price: GBM whose volatility switches between a calm and a stress regime
// (two-state Markov chain), plus Merton jumps (Poisson arrivals, normal log-jump sizes).
struct ReferenceConfig {
  double drift_annual = 0.0;                 // mu, per year (365 days)
  double vol_calm_annual = 0.5;              // sigma in calm regime, per sqrt(year)
  double vol_stress_annual = 1.5;            // sigma in stress regime, per sqrt(year)
  double p_calm_to_stress_per_hour = 0.05;   // regime switching intensities (Markov rates per hour)
  double p_stress_to_calm_per_hour = 0.5;
  double jump_intensity_per_day = 0.0;       // Poisson rate of jumps
  double jump_mean_log = 0.0;                // mean log jump size
  double jump_stdev_log = 0.0;               // stdev of log jump size
};

struct AssetConfig {
  std::string symbol = "BTC";
  double initial_price = 30000.0;     // quote units per unit of asset
  double tick_size = 0.1;             // quote units per tick
  double lot_size = 0.001;            // asset units per lot
  ReferenceConfig reference;
  // Derived at load time (exact integers):
  Micros tick_micros = 0;             // tick_size in quote micro-units
  Micros lot_micros = 0;              // lot_size in asset micro-units
  Micros quote_micros_per_tick_lot = 0;  // tick_micros * lot_micros / 1e6; must be a positive integer
  Tick max_tick = 0;                  // book price range: 1 .. max_price_multiple * initial_price
};

struct VenueFeesConfig {
  double maker_fee_bps = 1.0;   // charged on maker notional (negative = rebate not supported yet)
  double taker_fee_bps = 5.0;   // charged on taker notional
};

struct VenuesConfig {
  VenueFeesConfig spot;
  VenueFeesConfig perp;
  double max_price_multiple = 4.0;  // book price range as a multiple of the initial price
  bool self_trade_prevention = true;
};

// Volatility- and inventory-aware market maker (one population per venue).
struct MarketMakerConfig {
  int count_per_venue = 3;
  double base_spread_bps = 4.0;            // full spread at zero realized volatility
  double reference_weight = 0.5;           // fair value = w * reference + (1 - w) * own book mid
  double vol_spread_mult = 2.0;            // half-spread (bps) += mult * realized per-step vol (bps)
  int levels = 5;                          // quote levels per side
  double level_spacing_bps = 3.0;          // distance between successive levels
  double quote_size = 0.5;                 // asset units per level at calm volatility
  double depth_vol_sensitivity = 1.0;      // size multiplier = 1 / (1 + k * (vol / calm_vol - 1)+)
  double inventory_skew_bps = 5.0;         // quote shift per max_inventory held
  double max_inventory = 20.0;             // asset units; beyond it the MM stops quoting that side
  int vol_window_steps = 60;               // realized-volatility window
  int requote_every_steps = 1;
  double quote_cash = 5'000'000.0;         // starting quote balance
  double base_inventory = 100.0;           // starting asset balance (spot venue)
};

// Poisson noise traders: market orders and limit orders around the mid.
struct NoiseTraderConfig {
  int count = 200;
  double market_orders_per_hour = 6.0;     // per trader
  double limit_orders_per_hour = 12.0;     // per trader
  double mean_size = 0.05;                 // asset units, exponential size distribution
  double limit_offset_bps_mean = 15.0;     // exponential distance from mid for limit orders
  int limit_lifetime_steps = 300;          // resting limit orders are cancelled after this
  double quote_cash = 1'000'000.0;
  double base_inventory = 20.0;
};

// Ladder maker: a fixed, configurable depth profile around a centre price, so a scenario's outcome
// can be computed by hand.
struct LadderConfig {
  std::string venue = "perp";          // "spot" or "perp"
  int asset_index = 0;
  int levels = 10;                     // per side
  int first_offset_ticks = 1;          // distance of the first level from the centre
  int tick_spacing = 10;               // ticks between levels
  double size_per_level = 1.0;         // asset units
  std::string refill = "never";        // "never" | "every_step" | "every_n_steps"
  int refill_every_steps = 1;
  std::string center = "initial";      // "initial" (fixed at the initial price) | "reference"
  double quote_cash = 100'000'000.0;
  double base_inventory = 10'000.0;
};

struct AgentsConfig {
  MarketMakerConfig market_makers;
  NoiseTraderConfig noise_traders;
  std::vector<LadderConfig> ladders;
};

struct OutputConfig {
  int record_every_steps = 1;
};

struct ScenarioConfig {
  std::string name = "unnamed";
  std::string description;
  std::uint64_t seed = 1;
  std::int64_t horizon_steps = 3600;
  double dt_s = 1.0;
  std::string quote_asset = "USDT";
  std::vector<AssetConfig> assets;  // at least one
  VenuesConfig venues;
  AgentsConfig agents;
  OutputConfig output;
  std::string source_json;  // the validated scenario, as JSON text (after --set overrides)
  std::string source_file;  // path it was loaded from ("" if from a string)
};

}  // namespace sl
