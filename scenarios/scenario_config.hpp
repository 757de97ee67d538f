// The in-memory form of a scenario file. Every field has a default and a unit in its name; the
// loader (scenarios/loader.*) fills it from JSON after validating types and ranges, and converts
// decimal money/price/quantity fields to fixed-point exactly once, there.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/fixed_point.hpp"

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

// Historical replay of a recorded price path (see sim/market/replay_path.hpp). Empty `file` = synthetic.
struct ReplayConfig {
  std::string file;                   // CSV path, relative to the scenario file's folder, then the working directory
  std::string format = "auto";        // "auto" | "plain" (timestamp,price) | "kline" (exchange kline export)
  std::int64_t start_time_ms = -1;    // first timestamp replayed (-1: the file's first)
  double time_shift_s = 0.0;          // added to the file's timestamps before the window is taken
  bool rescale_to_initial = false;    // multiply the path so its first price equals initial_price
  double rescale = 1.0;               // extra multiplicative factor
  std::string intrabar = "ohlc";      // kline only: "ohlc" (documented O-H-L-C path with bounded noise) | "close" (closes only)
  double intrabar_noise = 0.25;       // noise scale as a share of the bar's range (never leaves [low, high])
  std::string on_gap = "error";       // "error" | "interpolate": what to do with missing observations
};

struct AssetConfig {
  std::string symbol = "BTC";
  // Correlation of this asset's diffusion shocks with asset 0's (ignored for asset 0), in the calm
  // and in the stress regime (the regime is market-wide, driven by asset 0's chain).
  double correlation_to_first = 0.8;
  double correlation_to_first_stress = 0.8;
  double collateral_haircut = 0.1;    // share of the spot value not counted as margin collateral
  // Volatility-linked haircut (sim/market/shocks.hpp): haircut = min(haircut_vol_cap, collateral_haircut
  // (+ collateral_depeg adds) + haircut_vol_z x sigma_H), sigma_H = realized volatility of the index
  // over the last haircut_vol_window_steps, scaled to haircut_vol_horizon_s. haircut_vol_z 0: off.
  double haircut_vol_z = 0.0;             // sigmas of the horizon move the haircut adds
  double haircut_vol_horizon_s = 3600.0;  // seconds: the horizon over which the collateral must be sold
  int haircut_vol_window_steps = 300;     // steps of index log returns in the estimate
  double haircut_vol_cap = 0.5;           // fraction: the haircut never exceeds this through the vol term
  double initial_price = 30000.0;     // quote units per unit of asset
  double tick_size = 0.1;             // quote units per tick
  double lot_size = 0.001;            // asset units per lot
  ReferenceConfig reference;
  ReplayConfig replay;
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
// Endogenous liquidity withdrawal of market makers (issue #14 item 2, agents/maker_withdrawal.hpp):
// makers widen and pull levels on short-horizon realized volatility, inventory and a loss limit,
// and put them back only after a cool-down. The defaults are scenarios/crash.json's block (issue #14:
// the defaults are the #14 agents); enabled false restores the makers before #14.
struct MakerWithdrawalConfig {
  bool enabled = true;
  int vol_window_steps = 10;               // short EWMA window (requotes) of squared index log changes
  double vol_ratio_threshold = 2.0;        // short vol / calm vol above which levels are pulled
  double levels_per_vol_ratio = 1.0;       // levels pulled per unit of vol ratio beyond the threshold
  double widen_bps_per_vol_ratio = 1.0;    // half-spread += this x (short vol ratio - 1)+
  double inventory_threshold = 0.5;        // fraction of max_inventory beyond which the adding side thins (1: off)
  // Drawdown of trading PnL from its peak that pulls every level (0: off). Scale-dependent: 20,000 quote
  // units suit crash.json's BTC at 30,000 with quote size 0.6; rescale it with price and size.
  double loss_limit_quote = 20'000.0;
  double cooldown_s = 60.0;                // pulled levels come back only this long after their cause ended
};

struct MarketMakerConfig {
  int count_per_venue = 3;
  double base_spread_bps = 4.0;            // full spread at zero realized volatility
  double reference_weight = 0.5;           // fair value = w * reference + (1 - w) * anchor
  double anchor_band_bps = 200.0;          // anchor = own book mid clamped to index +- this band
  double vol_spread_mult = 2.0;            // half-spread (bps) += mult * realized per-step vol (bps)
  int levels = 5;                          // quote levels per side
  double level_spacing_bps = 3.0;          // distance between successive levels
  double quote_size = 0.5;                 // asset units per level at calm volatility
  double spot_size_multiplier = 1.0;       // spot makers quote spot_size_multiplier x quote_size (spot depth vs perp depth)
  double depth_vol_sensitivity = 1.0;      // size multiplier = 1 / (1 + k * (vol / calm_vol - 1)+)
  double inventory_skew_bps = 100.0;       // quote shift per max_inventory held (crash.json's; before #14: 5)
  double max_inventory = 20.0;             // asset units; beyond it the MM stops quoting that side
  int vol_window_steps = 60;               // realized-volatility window
  int requote_every_steps = 1;
  // Delta hedging of perp makers: a perp maker whose net inventory (spot held beyond its start +
  // perp contracts) exceeds hedge_threshold offsets the excess with a market order on the spot
  // book, at most hedge_max_qty per requote; its skew and limits then apply to the net inventory.
  // This is how perp selling reaches the spot book (and the index). Spot makers do not hedge.
  bool hedge = true;
  double hedge_threshold = 1.0;            // asset units
  double hedge_max_qty = 3.0;              // asset units per requote
  double quote_cash = 5'000'000.0;         // starting quote balance
  double base_inventory = 100.0;           // starting spot balance (makers of both venues hold it, for hedging)
  // Issue #14 item 1. "reference" (the makers before #14): fair value = reference_weight x reference +
  // (1 - w) x anchor. "visible" (default): from what a maker can see, fair = index_weight x index + other_venue_weight x
  // the other venue's mid + the rest x its own mid (mids clamped to index +- anchor_band_bps); the
  // reference then reaches the books only through agents that trade on it (arbitrageurs, noise flow).
  std::string fair_value = "visible";
  double index_weight = 0.5;
  double other_venue_weight = 0.25;
  MakerWithdrawalConfig withdrawal;
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
  std::string center = "index";        // "index" (the oracle index; default) | "initial" (fixed at the initial price) | "reference"
  double quote_cash = 100'000'000.0;
  double base_inventory = 10'000.0;
};

// Arbitrageur: trades spot and perp toward the reference and toward each other, with finite capital
// (a position limit) and latency (acts every latency_steps).
struct ArbitrageurConfig {
  int count = 2;
  int latency_steps = 2;
  double threshold_bps = 10.0;        // minimum dislocation (after taker fees are included) to trade
  double max_order_qty = 2.0;         // asset units per order
  double max_position = 20.0;         // asset units per venue (its capital limit)
  bool unwind = true;                 // close inventory back toward flat once prices are within fees of the reference
  // Cost of borrowing spot to short it, bps, added to the edge of every trade that goes long the
  // perp (buying it below the reference or below the spot): the hedge of a long perp is a short
  // spot, which needs borrowed coins (issue #14 item 4). 0 (default): both directions cost the same.
  double long_perp_borrow_bps = 0.0;
  // true (default, issue #14): one IOC at the worst price still past the threshold, so it takes every
  // level up to there (up to max_order_qty), as an arbitrageur facing a wide dislocation would.
  // false (before #14): an order against the reference takes the best level only (its volume caps it).
  bool sweep_levels = true;
  double quote_cash = 2'000'000.0;
  double base_inventory = 50.0;       // spot asset units
};

// Basis trader: long spot in a wallet, short perp in a margin account. Enters when the annualized
// basis or funding exceeds entry_basis_annual (a negative threshold means: enter at step 0).
// Spot collateral moved to the margin account arrives only transfer_delay_steps later.
struct BasisTraderConfig {
  int count = 0;
  double entry_basis_annual = -1.0;   // enter when (perp/spot - 1) annualised over funding horizon, or funding, exceeds this
  double notional_mean = 300'000.0;   // quote units of the short leg (lognormal across traders)
  double notional_dispersion = 0.5;   // lognormal sigma of the notional
  double leverage = 5.0;              // short-leg notional / quote margin posted at entry
  double spot_collateral_share = 0.0; // share of the spot leg posted as collateral at entry (arrives after the delay)
  int transfer_delay_steps = 120;     // steps between sending spot to the margin account and it counting there
  bool top_up = true;                 // send spot collateral when the margin ratio falls below topup_ratio
  double topup_ratio = 1.5;           // equity / maintenance requirement that triggers a top-up
  double topup_share = 0.5;           // share of the remaining spot wallet sent per top-up
  int decision_every_steps = 5;
  double quote_cash_extra = 0.0;      // idle quote kept in the wallet (not margin)
  // "book": build the position through the books (slices, see agents/basis_trader.hpp);
  // "initial": the position already exists at step 0, booked at the initial price against the
  // passive counterparty (the rest of the market, outside the model), spot_collateral_share of the
  // spot already posted in the margin account.
  std::string entry_mode = "book";
  // Asset whose spot holds the margin posted at entry (notional / leverage, valued at that asset's
  // initial price) instead of quote cash; -1: quote cash (the default). Lets the collateral differ
  // from the hedged asset (asset 0), e.g. a basis trade on BTC margined in ETH.
  int margin_asset_index = -1;
  // Kinds of hedged account (issue #13; agents/basis_trader.hpp). Both 0 (the default): every trader
  // is as described above. Otherwise each trader draws its kind: `unified` with probability
  // unified_share (spot held inside the margin account, bought there on margin, valued at index x
  // (1 - haircut)), `cross_asset` with probability cross_asset_share (entry margin in spot of
  // margin_asset_index), else `wallet` (quote margin, spot in the wallet, delayed top-ups).
  double unified_share = 0.0;
  double cross_asset_share = 0.0;
  // Per-trader draws (only when set, so populations without them keep their random draws):
  double leverage_max = -1.0;               // > 0: leverage log-uniform in [leverage, leverage_max]
  double spot_collateral_share_max = -1.0;  // >= 0: unified share uniform in [spot_collateral_share, this]
};

// Leveraged directional trader: one perp position, leverage drawn log-uniformly in [min, max].
struct LeveragedTraderConfig {
  int count = 0;
  double long_share = 1.0;            // probability that a trader is long
  double leverage_min = 3.0;
  double leverage_max = 25.0;
  double notional_mean = 50'000.0;    // quote units (lognormal across traders)
  double notional_dispersion = 0.7;
  int entry_window_steps = 60;        // entries spread uniformly over the first steps
  std::string margin_mode = "isolated";  // "isolated" | "cross"
  double add_margin_probability = 0.0;   // chance per decision to add margin when near liquidation
  double add_margin_share = 0.5;      // of the initial margin
  int decision_every_steps = 10;
  double quote_cash_extra = 0.0;      // wallet cash available for adding margin
  // "book": enter with a market order at the entry step; "initial": the position exists at step 0,
  // booked at the initial price against the passive counterparty (outside the model).
  std::string entry_mode = "book";
};

// Passive positions (issue #15 items 4-5, agents/passive_positions.hpp): `count` open positions in
// the first asset that never act, booked at step 0 like accounts.file rows, drawn from one
// counter-based stream with the shape of scripts/make_example_positions (its defaults):
//   notional  notional_scale x U^(-1 / notional_tail_alpha) (Pareto), at most notional_max
//   side      long with probability long_share
//   entry     initial_price x exp(entry_dispersion x N(0, 1)), in ticks
//   leverage  the example's levels 1 2 3 5 10 20 25 50 75 100 125 (weights 6 8 8 14 22 16 8 9 3 4
//             2 %) within [leverage_min, leverage_max], lowered to the tier's 10000 / imr_bps
//   margin    isolated with probability isolated_share (margin = notional / leverage); cross
//             otherwise, margin x (1 + Exp(mean cross_extra_margin_mean)), a share of it held as
//             spot (uniform in [spot_share_min, spot_share_max]) with probability spot_probability
//   health    an entry too far on the losing side is moved so that equity at the initial price is
//             at least (1 + health_margin) x maintenance
// The example file's leverage levels and their weights in percent (scripts/make_example_positions).
inline constexpr double kPassiveLeverageLevels[] = {1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125};
inline constexpr double kPassiveLeverageWeights[] = {6, 8, 8, 14, 22, 16, 8, 9, 3, 4, 2};
inline bool passive_leverage_levels_exist(double leverage_min, double leverage_max) {
  for (double l : kPassiveLeverageLevels)
    if (l >= leverage_min && l <= leverage_max) return true;
  return false;
}
struct PassivePositionsConfig {
  int count = 0;                        // positions (margined accounts); 0: none
  double notional_scale = 100.0;        // quote units: the Pareto minimum
  double notional_tail_alpha = 1.2;     // Pareto tail exponent
  double notional_max = 5'000'000.0;    // quote units: the cap
  double long_share = 0.55;             // probability
  double entry_dispersion = 0.06;       // log sigma of entry / initial price
  double leverage_min = 1.0;            // x
  double leverage_max = 125.0;          // x
  double isolated_share = 0.4;          // probability
  double cross_extra_margin_mean = 0.5; // fraction of the margin (exponential mean)
  double spot_probability = 0.25;       // of cross positions
  double spot_share_min = 0.2;          // fraction of the collateral held as spot
  double spot_share_max = 0.8;
  double health_margin = 0.05;          // fraction over maintenance at the initial price
};

// Liquidator bot: watches the margin engine with latency, pays a per-transaction cost, needs
// capital, competes with other bots (first valid bot in the seeded order of a step wins).
struct LiquidatorConfig {
  int count = 2;
  int latency_steps = 1;              // an account must have been liquidatable this long before this bot sees it
  double tx_cost = 5.0;               // quote units per liquidation transaction
  double capital = 1'000'000.0;       // quote units
  double min_profit = 0.0;            // quote units: skip liquidations whose expected reward - tx_cost is below this
  // Asset units per asset: what a bot may hold of a liquidated lot beyond what it can resell into
  // the visible book (sim/liquidation/bid_valuation.hpp), counting inventory it already holds.
  double max_inventory = 10.0;
  // Used only by a class of agents.liquidator_classes (the single form agents.liquidators keeps
  // the seeded first-come choice): sim/liquidation/priority_fee_auction.hpp.
  std::string name;                   // class label, for errors and reports
  double price_risk_share = 0.0;      // share of the account's price move over its latency the bot bears (inventory cost)
  double bid_share_min = 0.5;         // its priority fee is u x its surplus, u drawn uniform in [min, max]
  double bid_share_max = 0.5;
};

// Hedging demand (issue #14 item 4, agents/hedging_demand.hpp): holders of spot outside the model
// who hedge with perp shorts after a fall. Target short per hedger = short_qty_per_drawdown x
// (drawdown - drawdown_threshold)+ x (1 + vol_weight x (realized / calm vol - 1)+), the drawdown
// measured from a high that fades toward the index with memory_half_life_s. count 0 (default): no hedgers.
struct HedgingDemandConfig {
  int count = 0;
  int interval_steps = 6;               // acts every interval_steps (own phase)
  double short_qty_per_drawdown = 0.0;  // asset units of perp short per unit of drawdown (1 = 100%)
  double drawdown_threshold = 0.0;      // fraction: drawdowns up to this are not hedged
  double vol_weight = 0.0;              // extra target per unit of excess realized volatility
  int vol_window_steps = 360;           // EWMA window of the index's realized volatility
  double memory_half_life_s = 86'400.0; // half-life of the remembered high
  double max_discount_bps = 50.0;       // sells only into bids >= index x (1 - this); covers at asks <= index
  double max_order_qty = 5.0;           // asset units per order
  double quote_cash = 10'000'000.0;
};

// Re-entry of liquidated directional traders (issue #14 item 4, agents/reentry_pool.hpp): each
// leveraged trader's liquidation is followed, with probability `probability`, by a new position
// after an exponential delay, short with probability short_share. probability 0 (default): off.
struct ReentryConfig {
  double probability = 0.0;
  double delay_mean_s = 3'600.0;        // mean of the exponential delay after the liquidation is seen
  double short_share = 0.5;             // probability a re-entry is a short
  double notional_share = 1.0;          // re-entry notional / the liquidated position's last notional
  int scan_every_steps = 6;             // how often liquidations are looked for and re-entries made
  double quote_cash = 100'000'000.0;    // the re-entering traders' capital (one cross-margin account)
  // x. 0 (default): every re-entry trades from the pool's one account, whose quote_cash backs them
  // all. > 0: each re-entry trades from its own cross-margin account, given notional / leverage of
  // the pool's cash as its margin when it enters, and is liquidated alone when that margin runs out.
  double leverage = 0.0;
};

// The counterparties of every position booked at step 0 (`initial` entry modes, accounts.file):
// a population of margined accounts that split the opposite side, each posting its share's entry
// notional / leverage (+ collateral_quote) as margin (sim/run/counterparties.hpp). Defaults chosen,
// not fitted: 10 accounts at 2x (liquidated only by a ~48% adverse move at 0.5% maintenance).
struct CounterpartiesConfig {
  int count = 10;                     // accounts
  double leverage = 2.0;              // x: margin posted = share of entry notional / leverage
  double collateral_quote = 0.0;      // quote units per account, on top of that margin
};

struct AgentsConfig {
  MarketMakerConfig market_makers;
  NoiseTraderConfig noise_traders;
  std::vector<LadderConfig> ladders;
  ArbitrageurConfig arbitrageurs;
  BasisTraderConfig basis_traders;
  LeveragedTraderConfig leveraged_traders;
  LiquidatorConfig liquidators;
  HedgingDemandConfig hedgers;
  ReentryConfig reentry;
  // Heterogeneous liquidators (issue #14): one entry per class, each `count` bots with its own
  // latency, costs, capital, minimum profit, inventory limit and bidding; they compete in the
  // priority-fee auction (perp.liquidation.priority_fee). Mutually exclusive with `liquidators`.
  std::vector<LiquidatorConfig> liquidator_classes;
  CounterpartiesConfig counterparties;
  PassivePositionsConfig passive_positions;  // issue #15: passive open positions (default none)
};

// Oracle: index from spot mids of the steps [t-1-lag-window+1, t-1-lag] (end-of-step mids).
struct OracleFaultConfig {
  std::string kind = "freeze";        // "freeze" | "extra_lag" | "bias"
  std::int64_t start_step = 0;
  std::int64_t end_step = 0;          // exclusive
  int asset_index = -1;               // -1: every asset
  int extra_lag_steps = 0;            // for extra_lag
  double bias_bps = 0.0;              // for bias: index x (1 + bias_bps / 1e4)
};

struct OracleConfig {
  std::string method = "median";      // "median" | "twap"
  int window_steps = 5;
  int lag_steps = 0;
  // Share of the index from spot venues outside the model, which the exogenous reference stands
  // for (a real index is a volume-weighted bucket of several exchanges' spot prices: Binance's
  // USDT-margined index, its "Price Index" FAQ of 2020-10-29, spans binance and eight other
  // venues). Default 0.5 (crash.json's, issue #14); 0: the index is this model's own spot book alone.
  double outside_weight = 0.5;
  std::vector<OracleFaultConfig> faults;
};

struct MarkConfig {
  int ema_steps = 30;                 // EMA of (perp mid - index), alpha = 2 / (ema_steps + 1)
  double clamp_bps = 50.0;            // |mark - index| <= clamp_bps x index
};

struct FundingConfig {
  bool enabled = true;
  double interval_s = 28'800.0;       // 8 h (CEX); 3600 for 1 h venues
  double interest_bps = 1.0;          // I per interval (0.01% / 8 h on Binance)
  double interest_clamp_bps = 5.0;    // clamp(I - P, -0.05%, +0.05%)
  double cap_bps = 30.0;              // |F| <= 0.30% per interval
  double impact_notional = 10'000.0;  // quote units; impact bid/ask = average fill price for this notional
};

struct MarginTierConfig {
  double max_notional = 1e12;         // quote units; tier applies to positions up to this notional
  double imr_bps = 100.0;             // initial margin
  double mmr_bps = 50.0;              // maintenance margin
};

// Clipper-style Dutch auction (MakerDAO Liquidations 2.0). Defaults: ETH-B parameters of 2021.
struct DutchConfig {
  std::string curve = "stairstep_exponential";  // "linear" | "stairstep_exponential" | "exponential"
  double buf = 1.3;          // start price = index x buf when the auction sells a long (index / buf when it buys back a short)
  double tau_s = 3600.0;     // linear: the discount reaches 100% at tau_s
  double step_s = 90.0;      // stairstep: price x cut every step_s; exponential: the same rate, continuously
  double cut = 0.99;
  double tail_s = 8400.0;    // reset when elapsed > tail_s
  double cusp = 0.4;         // reset when the price has moved to cusp of its start (price / start < cusp for a long)
  double tip = 0.0;          // keeper incentive per kick/redo, quote units (paid by the insurance fund)
  double chip = 0.0;         // keeper incentive as a share of the auctioned notional
  // Maker Dog `hole` / `Hole` and Clipper `chost` (model.md section 9; sim/liquidation/dutch_auction.hpp).
  double hole_quote = 0.0;         // per asset: max notional (at the kick index) in live auctions; 0 = no limit
  double hole_global_quote = 0.0;  // all assets: the same, summed; 0 = no limit
  double chost_quote = 0.0;        // dust: a take may not leave a remainder worth less than this (0 = no rule)
};

// Sealed-bid batch auction with one uniform clearing price per asset and side per batch.
struct BatchConfig {
  int batch_interval_steps = 30;
  double mm_bid_share = 0.5;   // market makers bid this share of each of their OWN resting quotes into each batch
  std::string reserve = "bankruptcy";  // "bankruptcy": no account is filled beyond its bankruptcy price | "none"
};

struct SocializedConfig {
  std::string loss_rule = "adl";  // "adl": auto-deleverage opposite profitable positions | "haircut": pro-rata haircut of winners' profits
};

struct DeltaNeutralConfig {
  std::string mode = "atomic";     // "atomic" | "staged" | "backstop"
  double delta_band = 0.05;        // |net delta| / gross delta allowed after every stage
  double slice_depth_share = 0.5;  // staged: child slice = this share of the visible depth within 1% of the mid
  double backstop_discount_bps = 300.0;   // backstop: portfolio taken at its mark value less this
  double backstop_capacity = 5'000'000.0; // backstop: quote units of portfolio value it can take in total
};

// The `hierarchy` policy's chain: internal match -> Dutch auction -> backstop -> insurance fund -> ADL
// (sim/liquidation/hierarchy.cpp). The auction uses perp.liquidation.dutch's curve and keeper
// incentive; the fund stage follows perp.liquidation.socialized.loss_rule.
struct HierarchyConfig {
  bool internal_match = true;             // cross opposite positions of accounts flagged in the same step at the mark
  int auction_timeout_steps = 60;         // the auction runs at most this many steps (0: no auction stage)
  bool backstop = true;                   // a backstop provider takes what the auction left, up to its capacity
  double backstop_discount_bps = 300.0;   // backstop: contracts taken at their mark value less this
  double backstop_capacity = 5'000'000.0; // backstop: quote units of position value it can take in total
};

// Proactive de-risking (V3 style, optional, applies before any policy): an account not yet
// liquidatable but with equity < trigger_ratio x maintenance whose position is larger than the
// visible depth (from the best price) it would have to be sold into within one predicted move
// (index volatility over horizon_s) closes `fraction` of it now, through the book, at penalty_bps.
struct ProactiveConfig {
  bool enabled = false;
  double trigger_ratio = 1.5;
  double horizon_s = 60.0;
  double fraction = 0.25;
  double penalty_bps = 0.0;
  int vol_window_steps = 60;
};

// The priority-fee auction among liquidator classes (sim/liquidation/priority_fee_auction.hpp):
// an EIP-1559 base fee per step plus a sealed first-price priority fee.
struct PriorityFeeConfig {
  double base_fee_initial = 1.0;      // quote units per liquidation transaction at step 0
  double base_fee_min = 0.1;          // quote units: the base fee never falls below this
  int target_bids_per_step = 1;       // EIP-1559 gas target, in liquidation bids per step
  int max_change_denominator = 8;     // EIP-1559 BASE_FEE_MAX_CHANGE_DENOMINATOR
  double fee_capture_share = 0.0;     // share of the priority fee paid to the insurance fund (the rest to network_fees)
  int vol_window_steps = 60;          // EWMA span of the index volatility the bots price their risk with
};

struct LiquidationConfig {
  std::string policy = "market";      // "market" | "dutch" | "batch" | "socialized" | "delta_neutral" | "hierarchy" (see liquidation_policies() in scenarios/schema.cpp)
  DutchConfig dutch;
  BatchConfig batch;
  SocializedConfig socialized;
  DeltaNeutralConfig delta_neutral;
  HierarchyConfig hierarchy;
  ProactiveConfig proactive;
  double close_factor = 1.0;          // share of the position closed per liquidation
  double penalty_bps = 100.0;         // on the closed notional
  double liquidator_share = 0.5;      // share of the penalty paid to the liquidator, rest to the insurance fund
  double insurance_fund_start = 1'000'000.0;  // quote units
  // How far below 0 the insurance fund's equity may go (quote units, a credit line from the
  // protocol's balance sheet); beyond it a loss is socialized (ADL / haircut) or bad debt.
  double fund_borrow_limit = 0.0;
  // `market` policy's order: "ioc_bankruptcy" (Binance: IOC limited at the bankruptcy price, the
  // rest to the insurance fund, then ADL) or "market" (V1: unlimited market orders, the deficit to
  // the fund's cash, then bad debt).
  std::string market_order = "ioc_bankruptcy";
  // When no liquidator bot acts on a flagged account for this many steps, the venue's own engine
  // liquidates it (CEX style). -1 disables the fallback (DeFi style: only bots liquidate).
  int protocol_fallback_steps = 10;
  // What one fallback liquidation costs the protocol (quote units, paid by the insurance fund to
  // network_fees, at most its cash): the venue's own keeper is a costly backstop, not a free one.
  double protocol_fallback_cost = 0.0;
  PriorityFeeConfig priority_fee;     // used with agents.liquidator_classes only
};

struct PerpConfig {
  OracleConfig oracle;
  MarkConfig mark;
  FundingConfig funding;
  std::vector<MarginTierConfig> margin_tiers{{100'000.0, 100.0, 50.0}, {1'000'000.0, 200.0, 100.0}, {1e12, 500.0, 250.0}};
  LiquidationConfig liquidation;
  // "index": the margin engine values only accounts whose balances changed or whose liquidation
  // price band was crossed (sim/perp/liquidation_price_index.hpp); "full": every account every
  // step. Same results either way; "full" is kept to check that.
  std::string margin_scan = "index";
  // Watched passive positions (sim/perp/README.md, "Watched positions"): band edges beyond this
  // factor of the price (or below the price divided by it) are kept only as the nearest such edge,
  // whose reach rebuilds every band. Speed only: results do not depend on it.
  double watch_far_factor = 2.0;
};

// Scheduled shocks (model.md section 3; semantics in sim/market/shocks.hpp). Each acts over
// [start_step, end_step) on one asset or all (asset_index -1). Only the fields of the shock's own
// type may differ from their defaults (the loader rejects the others).
struct ShockConfig {
  std::string type = "price_jump";    // "price_jump" | "vol_regime" | "liquidity_withdrawal" | "oracle_fault" | "congestion" | "funding_shock" | "collateral_depeg"
  std::int64_t start_step = 0;
  std::int64_t end_step = 0;          // exclusive; for price_jump: 0 = start_step + 1
  int asset_index = -1;               // -1: every asset (congestion: must be -1, liquidators are market-wide)
  double size_pct = 0.0;              // price_jump: total move in percent (e.g. -20), spread over the window
  double vol_multiplier = 1.0;        // vol_regime
  double depth_multiplier = 1.0;      // liquidity_withdrawal: market-maker levels multiplier
  double size_multiplier = 1.0;       // liquidity_withdrawal: market-maker quote size multiplier
  std::string kind = "freeze";        // oracle_fault: "freeze" | "extra_lag" | "bias" (as perp.oracle.faults)
  int extra_lag_steps = 0;            // oracle_fault extra_lag
  double bias_bps = 0.0;              // oracle_fault bias: index x (1 + bias_bps / 1e4)
  double cost_multiplier = 1.0;       // congestion: liquidator transaction cost multiplier
  double latency_multiplier = 1.0;    // congestion: liquidator latency multiplier
  double premium_bps = 0.0;           // funding_shock: added to every premium sample of the window
  double haircut_add = 0.0;           // collateral_depeg: added to the asset's collateral_haircut (total capped at 1)
  double depeg_pct = 0.0;             // collateral_depeg: reference moved by this at start_step, moved back at end_step
};

struct OutputConfig {
  int record_every_steps = 1;
  // The basis-loop measure (sim/run/loop_metrics.hpp): a hedged account flagged within
  // loop_window_steps after an earlier one's liquidation event, once the hedged stress (mark over
  // index plus haircut, bps) has jumped by at least loop_premium_move_bps in one step within the
  // oracle's lag + window + 1 steps after that event, is the next link of a chain.
  int loop_window_steps = 30;
  double loop_premium_move_bps = 10.0;
};

// The user's own open positions (scenarios/position_file.hpp): a CSV loaded as margined accounts
// next to the agent populations. `book` is filled by load_scenario_file (and, if still empty, when
// the run starts), shared by every copy of the configuration.
struct PositionRow {
  std::int32_t line = 0;        // in the file, for messages
  std::int32_t asset = 0;       // index into assets
  bool is_long = true;
  bool isolated = false;
  double size = 0.0;            // asset units, a whole number of lots
  double entry_price = 0.0;     // quote per asset unit
  double quote_collateral = 0.0;
};
struct PositionBook {
  std::vector<PositionRow> rows;
  std::vector<double> spot;     // rows.size() x assets.size(): spot collateral units per asset
};
struct AccountsConfig {
  std::string file;             // CSV of open positions; "" = none
  std::shared_ptr<const PositionBook> book;
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
  PerpConfig perp;
  std::vector<ShockConfig> shocks;
  OutputConfig output;
  AccountsConfig accounts;
  std::string source_json;  // the validated scenario, as JSON text (after --set overrides)
  std::string source_file;  // path it was loaded from ("" if from a string)
};

}  // namespace sl
