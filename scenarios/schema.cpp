// The scenario schema tables (one row per JSON field) and the generic readers they use.
#include "scenarios/schema.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sl::schema {

// ---------------------------------------------------------------------------------------------
// The tables. Ranges are part of the user-facing contract: keep them documented and sensible.
// Money (quote units) and quantities (asset units) are capped so that their micro-unit
// fixed-point value fits int64 with headroom (quote_cash <= 1e12 -> 1e18 micros).

namespace {

// perp.liquidation.policy: the policies the engine implements. The one place to extend when it
// learns more (#4 adds "dutch", "batch", "socialized", "delta_neutral", "hierarchy").
const std::vector<std::string>& liquidation_policies() {
  static const std::vector<std::string> v{"market", "dutch", "batch", "socialized", "delta_neutral", "hierarchy"};
  return v;
}

// Upper bound of step counts and step indices (horizon_steps' own maximum).
constexpr double kMaxSteps = 1e8;
// Upper bound of windows/lags whose history the engine keeps in memory.
constexpr double kMaxHistorySteps = 1e6;

const ObjectSchema<ReferenceConfig>& reference_schema() {
  using R = ReferenceConfig;
  static const ObjectSchema<R> s({
      field("drift_annual", &R::drift_annual, {.range = closed(-10, 10), .unit = "1/year", .doc = "GBM drift mu"}),
      field("vol_calm_annual", &R::vol_calm_annual, {.range = closed(0, 50), .unit = "1/sqrt(year)", .doc = "volatility in the calm regime"}),
      field("vol_stress_annual", &R::vol_stress_annual, {.range = closed(0, 50), .unit = "1/sqrt(year)", .doc = "volatility in the stress regime"}),
      field("p_calm_to_stress_per_hour", &R::p_calm_to_stress_per_hour, {.range = closed(0, 36000), .unit = "1/hour", .doc = "calm -> stress switching intensity (Markov rate; per-step probability 1 - exp(-rate * dt))"}),
      field("p_stress_to_calm_per_hour", &R::p_stress_to_calm_per_hour, {.range = closed(0, 36000), .unit = "1/hour", .doc = "stress -> calm switching intensity (Markov rate)"}),
      field("jump_intensity_per_day", &R::jump_intensity_per_day, {.range = closed(0, 1000), .unit = "1/day", .doc = "Poisson jump rate"}),
      field("jump_mean_log", &R::jump_mean_log, {.range = closed(-5, 5), .unit = "log-return", .doc = "mean log jump size"}),
      field("jump_stdev_log", &R::jump_stdev_log, {.range = closed(0, 5), .unit = "log-return", .doc = "stdev of log jump size"}),
  });
  return s;
}

const ObjectSchema<ReplayConfig>& replay_schema() {
  using P = ReplayConfig;
  static const ObjectSchema<P> s({
      field("file", &P::file, {.doc = "CSV price path to replay (see sim/market/replay_path.hpp); relative to the scenario file's folder, then the working directory; empty: synthetic reference", .max_len = 4096}),
      field("format", &P::format, {.one_of = {"auto", "plain", "kline"}, .doc = "auto: 2 columns = plain (timestamp,price), >= 5 = kline (open_time_ms,open,high,low,close,...)"}),
      field("start_time_ms", &P::start_time_ms, {.range = closed(-1, 1e15), .unit = "ms since epoch", .doc = "first replayed time (after time_shift_s); -1: the file's first"}),
      field("time_shift_s", &P::time_shift_s, {.range = closed(-1e10, 1e10), .unit = "s", .doc = "added to the file's timestamps before the window is taken"}),
      field("rescale_to_initial", &P::rescale_to_initial, {.doc = "multiply the path so its first price equals initial_price (else it must start within 10% of it)"}),
      field("rescale", &P::rescale, {.range = open_closed(0, 1e6), .unit = "x", .doc = "extra multiplicative factor on the path"}),
      field("intrabar", &P::intrabar, {.one_of = {"ohlc", "close"}, .doc = "kline: ohlc = open -> extremes -> close path inside each bar with bounded noise; close = closes only, linear"}),
      field("intrabar_noise", &P::intrabar_noise, {.range = closed(0, 10), .unit = "x bar range", .doc = "Brownian-bridge noise scale between the ohlc waypoints (the path never leaves [low, high])"}),
      field("on_gap", &P::on_gap, {.one_of = {"error", "interpolate"}, .doc = "missing data (spacing > 1.5x the bar interval / median spacing): error, or bridge linearly"}),
  });
  return s;
}

const ObjectSchema<AssetConfig>& asset_schema() {
  using A = AssetConfig;
  static const ObjectSchema<A> s({
      field("symbol", &A::symbol, {.required = true, .doc = "asset symbol, unique", .min_len = 1, .max_len = 16, .identifier = true}),
      field("initial_price", &A::initial_price, {.required = true, .range = open(0, 1e12), .unit = "quote units", .doc = "initial price; a multiple of tick_size", .micros = true}),
      field("tick_size", &A::tick_size, {.required = true, .range = open_closed(0, 1e6), .unit = "quote units", .doc = "price increment", .micros = true}),
      field("lot_size", &A::lot_size, {.required = true, .range = open_closed(0, 1e6), .unit = "asset units", .doc = "quantity increment", .micros = true}),
      field("correlation_to_first", &A::correlation_to_first, {.range = closed(-1, 1), .unit = "correlation", .doc = "correlation of this asset's diffusion shocks with asset 0's in the calm regime (ignored for asset 0)"}),
      field("correlation_to_first_stress", &A::correlation_to_first_stress, {.range = closed(-1, 1), .unit = "correlation", .doc = "the same in the stress regime (the regime is market-wide, driven by asset 0)"}),
      field("collateral_haircut", &A::collateral_haircut, {.range = closed_open(0, 1), .unit = "fraction", .doc = "share of the spot value not counted as margin collateral"}),
      field("haircut_vol_z", &A::haircut_vol_z, {.range = closed(0, 100), .unit = "sigmas", .doc = "volatility-linked haircut: adds haircut_vol_z x the index's realized volatility over haircut_vol_horizon_s (0: off)"}),
      field("haircut_vol_horizon_s", &A::haircut_vol_horizon_s, {.range = open_closed(0, 1e8), .unit = "s", .doc = "horizon of the volatility-linked haircut (time to sell the collateral)"}),
      field("haircut_vol_window_steps", &A::haircut_vol_window_steps, {.range = closed(2, kMaxHistorySteps), .unit = "steps", .doc = "index log returns in the realized-volatility estimate"}),
      field("haircut_vol_cap", &A::haircut_vol_cap, {.range = closed(0, 1), .unit = "fraction", .doc = "the volatility-linked haircut never exceeds this (nor 1)"}),
      object_field("reference", &A::reference, reference_schema(), {.doc = "synthetic reference price process"}),
      object_field("replay", &A::replay, replay_schema(), {.doc = "historical replay of a recorded price path (replaces the synthetic process)"}),
  });
  return s;
}

const ObjectSchema<VenueFeesConfig>& fees_schema() {
  using F = VenueFeesConfig;
  static const ObjectSchema<F> s({
      field("maker_fee_bps", &F::maker_fee_bps, {.range = closed(0, 1000), .unit = "bps", .doc = "fee on maker notional (rebates not supported)"}),
      field("taker_fee_bps", &F::taker_fee_bps, {.range = closed(0, 1000), .unit = "bps", .doc = "fee on taker notional"}),
  });
  return s;
}

const ObjectSchema<VenuesConfig>& venues_schema() {
  using V = VenuesConfig;
  static const ObjectSchema<V> s({
      object_field("spot", &V::spot, fees_schema(), {.doc = "spot venue fees"}),
      object_field("perp", &V::perp, fees_schema(), {.doc = "perpetual venue fees"}),
      field("max_price_multiple", &V::max_price_multiple, {.range = open_closed(1, 1000), .unit = "x initial price", .doc = "book price range"}),
      field("self_trade_prevention", &V::self_trade_prevention, {.doc = "cancel resting orders of the same account instead of trading"}),
  });
  return s;
}

const ObjectSchema<MakerWithdrawalConfig>& maker_withdrawal_schema() {
  using W = MakerWithdrawalConfig;
  static const ObjectSchema<W> s({
      field("enabled", &W::enabled, {.doc = "makers pull levels on short-horizon volatility, inventory and a loss limit (false: fixed levels, one lot minimum)"}),
      field("vol_window_steps", &W::vol_window_steps, {.range = closed(1, 1000000), .unit = "requotes", .doc = "short EWMA window of squared index log changes between requotes"}),
      field("vol_ratio_threshold", &W::vol_ratio_threshold, {.range = closed(0, 1e6), .unit = "x calm vol", .doc = "short realized vol / calm vol above which levels are pulled"}),
      field("levels_per_vol_ratio", &W::levels_per_vol_ratio, {.range = closed(0, 1e6), .unit = "levels", .doc = "levels pulled per unit of vol ratio beyond the threshold (floor)"}),
      field("widen_bps_per_vol_ratio", &W::widen_bps_per_vol_ratio, {.range = closed(0, 10000), .unit = "bps", .doc = "half-spread widening per unit of short vol ratio above 1"}),
      field("inventory_threshold", &W::inventory_threshold, {.range = open_closed(0, 1), .unit = "fraction of max_inventory", .doc = "beyond it the side adding to inventory loses levels linearly, all at max_inventory (1: off)"}),
      field("loss_limit_quote", &W::loss_limit_quote, {.range = closed(0, 1e12), .unit = "quote units", .doc = "drawdown of trading PnL from its peak that pulls every level for the cool-down (0: off); scale-dependent: the default 20,000 suits crash.json (BTC at 30,000, quote size 0.6), rescale with price x size"}),
      field("cooldown_s", &W::cooldown_s, {.range = closed(0, 1e8), .unit = "s", .doc = "pulled levels come back only this long after their cause ended"}),
  });
  return s;
}

const ObjectSchema<MarketMakerConfig>& market_maker_schema() {
  using M = MarketMakerConfig;
  static const ObjectSchema<M> s({
      field("count_per_venue", &M::count_per_venue, {.range = closed(0, 100000), .unit = "agents", .doc = "market makers per venue"}),
      field("base_spread_bps", &M::base_spread_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "full spread at zero volatility"}),
      field("reference_weight", &M::reference_weight, {.range = closed(0, 1), .unit = "fraction", .doc = "fair value = w * reference + (1 - w) * own book mid"}),
      field("vol_spread_mult", &M::vol_spread_mult, {.range = closed(0, 1000), .unit = "", .doc = "half-spread widening per unit of realized vol"}),
      field("levels", &M::levels, {.range = closed(1, 1000), .unit = "levels", .doc = "quote levels per side"}),
      field("level_spacing_bps", &M::level_spacing_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "distance between levels"}),
      field("quote_size", &M::quote_size, {.range = closed(0, 1e9), .unit = "asset units", .doc = "size per level at calm volatility", .micros = true}),
      field("spot_size_multiplier", &M::spot_size_multiplier, {.range = closed(0, 1000), .unit = "x quote_size", .doc = "spot makers quote this multiple of quote_size (spot depth relative to perp depth)"}),
      field("depth_vol_sensitivity", &M::depth_vol_sensitivity, {.range = closed(0, 1000), .unit = "", .doc = "depth reduction per excess volatility"}),
      field("inventory_skew_bps", &M::inventory_skew_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "quote shift per max_inventory held"}),
      field("max_inventory", &M::max_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "stop quoting a side beyond this", .micros = true}),
      field("vol_window_steps", &M::vol_window_steps, {.range = closed(1, 1000000), .unit = "steps", .doc = "realized-volatility window"}),
      field("requote_every_steps", &M::requote_every_steps, {.range = closed(1, 1000000), .unit = "steps", .doc = "requote period"}),
      field("anchor_band_bps", &M::anchor_band_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "own book mid is clamped to the oracle index +- this band before it enters the fair value"}),
      field("hedge", &M::hedge, {.doc = "offset net inventory beyond hedge_threshold on the other venue of the asset"}),
      field("hedge_threshold", &M::hedge_threshold, {.range = closed(0, 1e9), .unit = "asset units", .doc = "net inventory tolerated before hedging", .micros = true}),
      field("hedge_max_qty", &M::hedge_max_qty, {.range = closed(0, 1e9), .unit = "asset units", .doc = "largest hedge order per requote", .micros = true}),
      field("quote_cash", &M::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "starting quote balance", .micros = true}),
      field("base_inventory", &M::base_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "starting asset balance (spot)", .micros = true}),
      field("fair_value", &M::fair_value, {.one_of = {"reference", "visible"}, .doc = "reference: blend of the exogenous reference and own mid (reference_weight); visible: index, other venue's mid and own mid only (index_weight, other_venue_weight)"}),
      field("index_weight", &M::index_weight, {.range = closed(0, 1), .unit = "fraction", .doc = "visible fair value: weight of the oracle index"}),
      field("other_venue_weight", &M::other_venue_weight, {.range = closed(0, 1), .unit = "fraction", .doc = "visible fair value: weight of the asset's other venue's mid (own mid gets 1 - index_weight - other_venue_weight)"}),
      object_field("withdrawal", &M::withdrawal, maker_withdrawal_schema(), {.doc = "endogenous liquidity withdrawal (issue #14; on by default, enabled false: the makers before #14)"}),
  });
  return s;
}

const ObjectSchema<NoiseTraderConfig>& noise_trader_schema() {
  using N = NoiseTraderConfig;
  static const ObjectSchema<N> s({
      field("count", &N::count, {.range = closed(0, 100000), .unit = "agents", .doc = "number of noise traders"}),
      field("market_orders_per_hour", &N::market_orders_per_hour, {.range = closed(0, 36000), .unit = "1/hour", .doc = "market order rate per trader"}),
      field("limit_orders_per_hour", &N::limit_orders_per_hour, {.range = closed(0, 36000), .unit = "1/hour", .doc = "limit order rate per trader"}),
      field("mean_size", &N::mean_size, {.range = open_closed(0, 1e6), .unit = "asset units", .doc = "mean of the exponential order size", .micros = true}),
      field("limit_offset_bps_mean", &N::limit_offset_bps_mean, {.range = closed(0, 10000), .unit = "bps", .doc = "mean distance of limit orders from mid"}),
      field("limit_lifetime_steps", &N::limit_lifetime_steps, {.range = closed(1, 100000000), .unit = "steps", .doc = "resting limit orders are cancelled after this"}),
      field("quote_cash", &N::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "starting quote balance", .micros = true}),
      field("base_inventory", &N::base_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "starting asset balance", .micros = true}),
  });
  return s;
}

const ObjectSchema<LadderConfig>& ladder_schema() {
  using L = LadderConfig;
  static const ObjectSchema<L> s({
      field("venue", &L::venue, {.one_of = {"spot", "perp"}, .doc = "venue the ladder quotes on"}),
      field("asset_index", &L::asset_index, {.range = closed(0, 7), .unit = "index", .doc = "index into assets"}),
      field("levels", &L::levels, {.range = closed(1, 10000), .unit = "levels", .doc = "levels per side"}),
      field("first_offset_ticks", &L::first_offset_ticks, {.range = closed(1, 20000000), .unit = "ticks", .doc = "distance of the first level from the centre"}),
      field("tick_spacing", &L::tick_spacing, {.range = closed(1, 20000000), .unit = "ticks", .doc = "ticks between levels"}),
      field("size_per_level", &L::size_per_level, {.range = open_closed(0, 1e9), .unit = "asset units", .doc = "size of each level", .micros = true}),
      field("refill", &L::refill, {.one_of = {"never", "every_step", "every_n_steps"}, .doc = "when consumed levels are restored"}),
      field("refill_every_steps", &L::refill_every_steps, {.range = closed(1, 100000000), .unit = "steps", .doc = "period for refill = every_n_steps"}),
      field("center", &L::center, {.one_of = {"initial", "reference", "index"}, .doc = "centre price: fixed initial price, the live reference (which no real maker sees) or the oracle index"}),
      field("quote_cash", &L::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "starting quote balance", .micros = true}),
      field("base_inventory", &L::base_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "starting asset balance", .micros = true}),
  });
  return s;
}

const ObjectSchema<ArbitrageurConfig>& arbitrageur_schema() {
  using A = ArbitrageurConfig;
  static const ObjectSchema<A> s({
      field("count", &A::count, {.range = closed(0, 100000), .unit = "agents", .doc = "number of arbitrageurs"}),
      field("latency_steps", &A::latency_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "acts every latency_steps steps"}),
      field("threshold_bps", &A::threshold_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "minimum dislocation, after taker fees, to trade"}),
      field("max_order_qty", &A::max_order_qty, {.range = open_closed(0, 1e9), .unit = "asset units", .doc = "size of one order", .micros = true}),
      field("max_position", &A::max_position, {.range = closed(0, 1e9), .unit = "asset units", .doc = "position limit per venue (its capital limit)", .micros = true}),
      field("unwind", &A::unwind, {.doc = "close inventory back toward flat once prices are within the taker fee of the reference"}),
      field("long_perp_borrow_bps", &A::long_perp_borrow_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "cost of borrowing the spot that hedges a long perp, added to the edge of every trade buying the perp (below the reference or the spot)"}),
      field("sweep_levels", &A::sweep_levels, {.doc = "orders toward the reference take every level up to the threshold price (one IOC, up to max_order_qty), not only the best level"}),
      field("quote_cash", &A::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "starting quote balance", .micros = true}),
      field("base_inventory", &A::base_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "starting asset balance (spot)", .micros = true}),
  });
  return s;
}

const ObjectSchema<BasisTraderConfig>& basis_trader_schema() {
  using B = BasisTraderConfig;
  static const ObjectSchema<B> s({
      field("count", &B::count, {.range = closed(0, 100000), .unit = "agents", .doc = "number of basis traders (long spot, short perp)"}),
      field("entry_basis_annual", &B::entry_basis_annual, {.range = closed(-100, 100), .unit = "1/year", .doc = "enter when the annualized basis (perp/spot - 1) or funding exceeds this; negative: enter at step 0"}),
      field("notional_mean", &B::notional_mean, {.range = open_closed(0, 1e12), .unit = "quote units", .doc = "mean notional of the short perp leg (lognormal across traders)", .micros = true}),
      field("notional_dispersion", &B::notional_dispersion, {.range = closed(0, 3), .unit = "log", .doc = "lognormal sigma of the notional"}),
      field("leverage", &B::leverage, {.range = closed(1, 200), .unit = "x", .doc = "short-leg notional / quote margin posted at entry"}),
      field("spot_collateral_share", &B::spot_collateral_share, {.range = closed(0, 1), .unit = "fraction", .doc = "share of the spot leg posted as collateral at entry (arrives after transfer_delay_steps)"}),
      field("transfer_delay_steps", &B::transfer_delay_steps, {.range = closed(0, kMaxSteps), .unit = "steps", .doc = "delay before spot sent to the margin account counts there"}),
      field("top_up", &B::top_up, {.doc = "send spot collateral when the margin ratio falls below topup_ratio"}),
      field("topup_ratio", &B::topup_ratio, {.range = open_closed(1, 100), .unit = "ratio", .doc = "equity / maintenance requirement that triggers a top-up"}),
      field("topup_share", &B::topup_share, {.range = open_closed(0, 1), .unit = "fraction", .doc = "share of the remaining spot wallet sent per top-up"}),
      field("decision_every_steps", &B::decision_every_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "decision period"}),
      field("quote_cash_extra", &B::quote_cash_extra, {.range = closed(0, 1e12), .unit = "quote units", .doc = "idle quote kept in the wallet (not margin)", .micros = true}),
      field("entry_mode", &B::entry_mode, {.one_of = {"book", "initial"}, .doc = "book: build through the books in slices; initial: position exists at step 0 against the passive counterparty"}),
      field("margin_asset_index", &B::margin_asset_index, {.range = closed(-1, 7), .unit = "index", .doc = "-1: the entry margin (notional / leverage) is quote cash; k >= 1: it is spot of assets[k], notional / leverage / assets[k].initial_price units (collateral in another asset than the hedge)"}),
      field("unified_share", &B::unified_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a trader is of kind unified: spot (share drawn in [spot_collateral_share, spot_collateral_share_max]) held and bought on margin inside the margin account; with cross_asset_share, 0 and 0 = every trader as the other fields say"}),
      field("cross_asset_share", &B::cross_asset_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a trader is of kind cross_asset: entry margin in spot of margin_asset_index; the rest are kind wallet (quote margin, spot in the wallet)"}),
      field("leverage_max", &B::leverage_max, {.range = closed(-1, 200), .unit = "x", .doc = "-1: every trader uses leverage; else leverage is drawn log-uniformly in [leverage, leverage_max] per trader"}),
      field("spot_collateral_share_max", &B::spot_collateral_share_max, {.range = closed(-1, 1), .unit = "fraction", .doc = "-1: fixed; else a unified trader's share is drawn uniformly in [spot_collateral_share, spot_collateral_share_max]"}),
  });
  return s;
}

const ObjectSchema<LeveragedTraderConfig>& leveraged_trader_schema() {
  using L = LeveragedTraderConfig;
  static const ObjectSchema<L> s({
      field("count", &L::count, {.range = closed(0, 10000000), .unit = "agents", .doc = "number of leveraged directional traders (each its own margined account; up to a venue-sized population)"}),
      field("long_share", &L::long_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a trader is long"}),
      field("leverage_min", &L::leverage_min, {.range = closed(1, 200), .unit = "x", .doc = "leverage is drawn log-uniformly in [leverage_min, leverage_max]"}),
      field("leverage_max", &L::leverage_max, {.range = closed(1, 200), .unit = "x", .doc = "at most 10000 / perp.margin_tiers[0].imr_bps when count > 0"}),
      field("notional_mean", &L::notional_mean, {.range = open_closed(0, 1e12), .unit = "quote units", .doc = "mean position notional (lognormal across traders)", .micros = true}),
      field("notional_dispersion", &L::notional_dispersion, {.range = closed(0, 3), .unit = "log", .doc = "lognormal sigma of the notional"}),
      field("entry_window_steps", &L::entry_window_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "entries spread uniformly over the first entry_window_steps steps"}),
      field("margin_mode", &L::margin_mode, {.one_of = {"isolated", "cross"}, .doc = "margin account mode"}),
      field("add_margin_probability", &L::add_margin_probability, {.range = closed(0, 1), .unit = "probability", .doc = "chance per decision to add margin when near liquidation"}),
      field("add_margin_share", &L::add_margin_share, {.range = closed(0, 10), .unit = "x initial margin", .doc = "margin added per top-up, as a multiple of the initial margin"}),
      field("decision_every_steps", &L::decision_every_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "decision period"}),
      field("quote_cash_extra", &L::quote_cash_extra, {.range = closed(0, 1e12), .unit = "quote units", .doc = "wallet cash available for adding margin", .micros = true}),
      field("entry_mode", &L::entry_mode, {.one_of = {"book", "initial"}, .doc = "book: market order at the entry step; initial: position exists at step 0 against the passive counterparty"}),
  });
  return s;
}

const ObjectSchema<PassivePositionsConfig>& passive_positions_schema() {
  using P = PassivePositionsConfig;
  static const ObjectSchema<P> s({
      field("count", &P::count, {.range = closed(0, 10000000), .unit = "accounts", .doc = "open positions in the first asset that never act, booked at step 0 (agents/passive_positions.hpp)"}),
      field("notional_scale", &P::notional_scale, {.range = open_closed(0, 1e9), .unit = "quote units", .doc = "Pareto minimum of the notional", .micros = true}),
      field("notional_tail_alpha", &P::notional_tail_alpha, {.range = closed(0.5, 10), .unit = "exponent", .doc = "Pareto tail exponent of the notional"}),
      field("notional_max", &P::notional_max, {.range = open_closed(0, 1e12), .unit = "quote units", .doc = "cap on the notional; at least notional_scale", .micros = true}),
      field("long_share", &P::long_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a position is long"}),
      field("entry_dispersion", &P::entry_dispersion, {.range = closed(0, 1), .unit = "log", .doc = "lognormal sigma of entry price / initial price"}),
      field("leverage_min", &P::leverage_min, {.range = closed(1, 125), .unit = "x", .doc = "leverage levels 1 2 3 5 10 20 25 50 75 100 125 within [leverage_min, leverage_max] (at least one)"}),
      field("leverage_max", &P::leverage_max, {.range = closed(1, 125), .unit = "x", .doc = "highest leverage level drawn (then lowered to the tier's 10000 / imr_bps)"}),
      field("isolated_share", &P::isolated_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability of isolated margin (margin = notional / leverage)"}),
      field("cross_extra_margin_mean", &P::cross_extra_margin_mean, {.range = closed(0, 100), .unit = "x margin", .doc = "a cross position posts margin x (1 + Exp(this mean))"}),
      field("spot_probability", &P::spot_probability, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a cross position holds part of its collateral as spot of its asset"}),
      field("spot_share_min", &P::spot_share_min, {.range = closed(0, 1), .unit = "fraction", .doc = "spot share of the collateral, uniform in [spot_share_min, spot_share_max]"}),
      field("spot_share_max", &P::spot_share_max, {.range = closed(0, 1), .unit = "fraction", .doc = "at least spot_share_min"}),
      field("health_margin", &P::health_margin, {.range = closed(0, 10), .unit = "fraction", .doc = "entries moved so equity at the initial price >= (1 + this) x maintenance"}),
  });
  return s;
}

const ObjectSchema<LiquidatorConfig>& liquidator_schema() {
  using Q = LiquidatorConfig;
  static const ObjectSchema<Q> s({
      field("count", &Q::count, {.range = closed(0, 100000), .unit = "agents", .doc = "number of liquidator bots"}),
      field("latency_steps", &Q::latency_steps, {.range = closed(0, kMaxSteps), .unit = "steps", .doc = "an account must have been liquidatable this long before the bot sees it"}),
      field("tx_cost", &Q::tx_cost, {.range = closed(0, 1e12), .unit = "quote units", .doc = "cost per liquidation transaction", .micros = true}),
      field("capital", &Q::capital, {.range = closed(0, 1e12), .unit = "quote units", .doc = "capital available to take over positions", .micros = true}),
      field("min_profit", &Q::min_profit, {.range = closed(0, 1e12), .unit = "quote units", .doc = "skip liquidations whose expected reward - tx_cost is below this", .micros = true}),
      field("max_inventory", &Q::max_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "per asset: what a bot may hold of taken lots beyond what it can resell into the visible book", .micros = true}),
  });
  return s;
}

const ObjectSchema<HedgingDemandConfig>& hedging_demand_schema() {
  using H = HedgingDemandConfig;
  static const ObjectSchema<H> s({
      field("count", &H::count, {.range = closed(0, 100000), .unit = "agents", .doc = "number of hedgers (spot holders outside the model who short the perp after a fall)"}),
      field("interval_steps", &H::interval_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "acts every interval_steps (own phase)"}),
      field("short_qty_per_drawdown", &H::short_qty_per_drawdown, {.range = closed(0, 1e9), .unit = "asset units per unit drawdown", .doc = "target perp short per hedger at a drawdown of 1 (100%)"}),
      field("drawdown_threshold", &H::drawdown_threshold, {.range = closed(0, 1), .unit = "fraction", .doc = "drawdowns up to this are not hedged: target x (drawdown - drawdown_threshold)+"}),
      field("vol_weight", &H::vol_weight, {.range = closed(0, 1000), .unit = "per unit excess vol", .doc = "target x (1 + vol_weight x (realized / calm volatility - 1)+)"}),
      field("vol_window_steps", &H::vol_window_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "EWMA window of the index's realized volatility"}),
      field("memory_half_life_s", &H::memory_half_life_s, {.range = open_closed(0, 1e9), .unit = "s", .doc = "half-life with which the remembered high fades toward the index"}),
      field("max_discount_bps", &H::max_discount_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "sells only into bids at or above index x (1 - this); covers only at asks at or below the index"}),
      field("max_order_qty", &H::max_order_qty, {.range = open_closed(0, 1e9), .unit = "asset units", .doc = "size of one order", .micros = true}),
      field("quote_cash", &H::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "starting quote balance of each hedger", .micros = true}),
  });
  return s;
}

const ObjectSchema<ReentryConfig>& reentry_schema() {
  using R = ReentryConfig;
  static const ObjectSchema<R> s({
      field("probability", &R::probability, {.range = closed(0, 1), .unit = "probability", .doc = "chance that a liquidated leveraged trader re-enters (0: off)"}),
      field("delay_mean_s", &R::delay_mean_s, {.range = open_closed(0, 1e9), .unit = "s", .doc = "mean of the exponential delay between the liquidation and the re-entry"}),
      field("short_share", &R::short_share, {.range = closed(0, 1), .unit = "probability", .doc = "probability that a re-entry is a short"}),
      field("notional_share", &R::notional_share, {.range = open_closed(0, 100), .unit = "fraction", .doc = "re-entry notional / the liquidated position's last notional"}),
      field("scan_every_steps", &R::scan_every_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "period of the scan for liquidations and of the re-entries"}),
      field("quote_cash", &R::quote_cash, {.range = closed(0, 1e12), .unit = "quote units", .doc = "capital of the re-entering traders (one cross-margin account: its collateral)", .micros = true}),
      field("leverage", &R::leverage, {.range = closed(0, 125), .unit = "x", .doc = "0: every re-entry trades from the pool's account; > 0: each from its own cross-margin account holding notional / leverage of the pool's cash"}),
  });
  return s;
}

// One class of agents.liquidator_classes: the single form's fields plus the class's name, its
// price risk and its bidding in the priority-fee auction (sim/liquidation/priority_fee_auction.hpp).
const ObjectSchema<LiquidatorConfig>& liquidator_class_schema() {
  using Q = LiquidatorConfig;
  static const ObjectSchema<Q> s({
      field("name", &Q::name, {.required = true, .doc = "class label", .min_len = 1, .max_len = 32, .identifier = true}),
      field("count", &Q::count, {.range = closed(0, 100000), .unit = "agents", .doc = "bots of this class"}),
      field("latency_steps", &Q::latency_steps, {.range = closed(0, kMaxSteps), .unit = "steps", .doc = "an account must have been liquidatable this long before the bot sees it"}),
      field("tx_cost", &Q::tx_cost, {.range = closed(0, 1e12), .unit = "quote units", .doc = "its own cost per liquidation transaction (before the base and priority fees)", .micros = true}),
      field("capital", &Q::capital, {.range = closed(0, 1e12), .unit = "quote units", .doc = "quote each bot starts with; it must cover the costs and fees it bids", .micros = true}),
      field("min_profit", &Q::min_profit, {.range = closed(0, 1e12), .unit = "quote units", .doc = "the bot enters only if its expected reward net of costs, fees and price risk exceeds this", .micros = true}),
      field("max_inventory", &Q::max_inventory, {.range = closed(0, 1e9), .unit = "asset units", .doc = "per asset: what a bot may hold of taken lots beyond what it can resell into the visible book", .micros = true}),
      field("price_risk_share", &Q::price_risk_share, {.range = closed(0, 1), .unit = "fraction", .doc = "share of the account's expected absolute price move over (latency + 1) steps the bot counts as a cost (its inventory risk)"}),
      field("bid_share_min", &Q::bid_share_min, {.range = closed(0, 1), .unit = "fraction", .doc = "priority fee = u x surplus, u uniform in [bid_share_min, bid_share_max] from the bot's own stream"}),
      field("bid_share_max", &Q::bid_share_max, {.range = closed(0, 1), .unit = "fraction", .doc = "upper end of u; at least bid_share_min"}),
  });
  return s;
}

const ObjectSchema<CounterpartiesConfig>& counterparties_schema() {
  using C = CounterpartiesConfig;
  static const ObjectSchema<C> s({
      field("count", &C::count, {.range = closed(1, 1000000), .unit = "accounts", .doc = "margined accounts splitting the opposite side of the positions booked at step 0"}),
      field("leverage", &C::leverage, {.range = closed(1, 200), .unit = "x", .doc = "margin each posts = its share of the entry notional / leverage"}),
      field("collateral_quote", &C::collateral_quote, {.range = closed(0, 1e12), .unit = "quote units", .doc = "extra collateral per account on top of that margin", .micros = true}),
  });
  return s;
}

const ObjectSchema<AgentsConfig>& agents_schema() {
  using G = AgentsConfig;
  static const ObjectSchema<G> s({
      object_field("market_makers", &G::market_makers, market_maker_schema(), {.doc = "volatility/inventory-aware market makers"}),
      object_field("noise_traders", &G::noise_traders, noise_trader_schema(), {.doc = "Poisson noise traders"}),
      array_field("ladders", &G::ladders, ladder_schema(), {.doc = "fixed-depth ladder makers", .min_len = 0, .max_len = 64}),
      object_field("arbitrageurs", &G::arbitrageurs, arbitrageur_schema(), {.doc = "spot/perp/reference arbitrageurs"}),
      object_field("basis_traders", &G::basis_traders, basis_trader_schema(), {.doc = "long spot / short perp basis traders"}),
      object_field("leveraged_traders", &G::leveraged_traders, leveraged_trader_schema(), {.doc = "leveraged directional perp traders"}),
      object_field("liquidators", &G::liquidators, liquidator_schema(), {.doc = "liquidator bots"}),
      object_field("hedgers", &G::hedgers, hedging_demand_schema(), {.doc = "hedging demand: spot holders shorting the perp after a fall"}),
      object_field("reentry", &G::reentry, reentry_schema(), {.doc = "re-entry of liquidated leveraged traders"}),
      array_field("liquidator_classes", &G::liquidator_classes, liquidator_class_schema(), {.doc = "heterogeneous liquidator classes competing in the priority-fee auction; not with liquidators", .min_len = 0, .max_len = 16}),
      object_field("counterparties", &G::counterparties, counterparties_schema(), {.doc = "margined counterparties of the positions booked at step 0"}),
      object_field("passive_positions", &G::passive_positions, passive_positions_schema(), {.doc = "passive open positions drawn like the synthetic positions file"}),
  });
  return s;
}

const ObjectSchema<OracleFaultConfig>& oracle_fault_schema() {
  using F = OracleFaultConfig;
  static const ObjectSchema<F> s({
      field("kind", &F::kind, {.one_of = {"freeze", "extra_lag", "bias"}, .doc = "freeze the index, add lag, or bias it"}),
      field("start_step", &F::start_step, {.range = closed(0, kMaxSteps), .unit = "step", .doc = "first step of the fault; before horizon_steps"}),
      field("end_step", &F::end_step, {.range = closed(0, kMaxSteps), .unit = "step", .doc = "end of the fault (exclusive); after start_step"}),
      field("asset_index", &F::asset_index, {.range = closed(-1, 7), .unit = "index", .doc = "index into assets; -1: every asset"}),
      field("extra_lag_steps", &F::extra_lag_steps, {.range = closed(0, kMaxHistorySteps), .unit = "steps", .doc = "additional oracle lag (kind extra_lag)"}),
      field("bias_bps", &F::bias_bps, {.range = open_closed(-10000, 10000), .unit = "bps", .doc = "index x (1 + bias_bps / 1e4) (kind bias); above -10000 so the index stays positive"}),
  });
  return s;
}

const ObjectSchema<OracleConfig>& oracle_schema() {
  using O = OracleConfig;
  static const ObjectSchema<O> s({
      field("method", &O::method, {.one_of = {"median", "twap"}, .doc = "aggregation of the spot mids in the window"}),
      field("window_steps", &O::window_steps, {.range = closed(1, kMaxHistorySteps), .unit = "steps", .doc = "number of end-of-step spot mids aggregated"}),
      field("lag_steps", &O::lag_steps, {.range = closed(0, kMaxHistorySteps), .unit = "steps", .doc = "the window ends lag_steps before the previous step"}),
      field("outside_weight", &O::outside_weight, {.range = closed(0, 1), .unit = "fraction", .doc = "share of each observation from spot venues outside the model (the reference stands for them); 0: the model's spot book alone"}),
      array_field("faults", &O::faults, oracle_fault_schema(), {.doc = "scheduled oracle faults", .min_len = 0, .max_len = 256}),
  });
  return s;
}

const ObjectSchema<MarkConfig>& mark_schema() {
  using M = MarkConfig;
  static const ObjectSchema<M> s({
      field("ema_steps", &M::ema_steps, {.range = closed(1, kMaxHistorySteps), .unit = "steps", .doc = "EMA of (perp mid - index), alpha = 2 / (ema_steps + 1)"}),
      field("clamp_bps", &M::clamp_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "|mark - index| <= clamp_bps x index"}),
  });
  return s;
}

const ObjectSchema<FundingConfig>& funding_schema() {
  using F = FundingConfig;
  static const ObjectSchema<F> s({
      field("enabled", &F::enabled, {.doc = "charge funding between longs and shorts"}),
      field("interval_s", &F::interval_s, {.range = open_closed(0, 31536000), .unit = "s", .doc = "funding interval (28800 = 8 h); at least dt_s when enabled"}),
      field("interest_bps", &F::interest_bps, {.range = closed(-10000, 10000), .unit = "bps per interval", .doc = "interest rate component I"}),
      field("interest_clamp_bps", &F::interest_clamp_bps, {.range = closed(0, 10000), .unit = "bps per interval", .doc = "clamp(I - P, -c, +c)"}),
      field("cap_bps", &F::cap_bps, {.range = closed(0, 10000), .unit = "bps per interval", .doc = "|funding rate| <= cap_bps"}),
      field("impact_notional", &F::impact_notional, {.range = open_closed(0, 1e12), .unit = "quote units", .doc = "impact bid/ask = average fill price for this notional", .micros = true}),
  });
  return s;
}

const ObjectSchema<MarginTierConfig>& margin_tier_schema() {
  using T = MarginTierConfig;
  static const ObjectSchema<T> s({
      field("max_notional", &T::max_notional, {.required = true, .range = open_closed(0, 1e12), .unit = "quote units", .doc = "the tier applies to positions up to this notional; strictly increasing", .micros = true}),
      field("imr_bps", &T::imr_bps, {.required = true, .range = open_closed(0, 10000), .unit = "bps", .doc = "initial margin rate (max leverage = 10000 / imr_bps)"}),
      field("mmr_bps", &T::mmr_bps, {.required = true, .range = open_closed(0, 10000), .unit = "bps", .doc = "maintenance margin rate; below imr_bps"}),
  });
  return s;
}

const ObjectSchema<DutchConfig>& dutch_schema() {
  using D = DutchConfig;
  static const ObjectSchema<D> s({
      field("curve", &D::curve, {.one_of = {"linear", "stairstep_exponential", "exponential"}, .doc = "price curve of the auction"}),
      field("buf", &D::buf, {.range = closed(1, 10), .unit = "x index", .doc = "starting price multiple (mirrored for shorts)"}),
      field("tau_s", &D::tau_s, {.range = open_closed(0, 1e8), .unit = "s", .doc = "linear curve: time for the discount to reach 100%"}),
      field("step_s", &D::step_s, {.range = open_closed(0, 1e8), .unit = "s", .doc = "stairstep: seconds between cuts; exponential: the time unit of cut"}),
      field("cut", &D::cut, {.range = open_closed(0, 1), .unit = "fraction per step_s", .doc = "price multiplier per step_s"}),
      field("tail_s", &D::tail_s, {.range = open_closed(0, 1e8), .unit = "s", .doc = "reset the auction when older than this"}),
      field("cusp", &D::cusp, {.range = open(0, 1), .unit = "fraction", .doc = "reset when price / start falls below this"}),
      field("tip", &D::tip, {.range = closed(0, 1e9), .unit = "quote units", .doc = "flat keeper incentive per kick or redo", .micros = true}),
      field("chip", &D::chip, {.range = closed(0, 1), .unit = "fraction", .doc = "keeper incentive as a share of the auctioned notional"}),
      field("hole_quote", &D::hole_quote, {.range = closed(0, 1e15), .unit = "quote units", .doc = "Dog hole per asset: max notional at the kick index in live auctions (0: no limit)", .micros = true}),
      field("hole_global_quote", &D::hole_global_quote, {.range = closed(0, 1e15), .unit = "quote units", .doc = "Dog Hole: the same over all assets (0: no limit)", .micros = true}),
      field("chost_quote", &D::chost_quote, {.range = closed(0, 1e12), .unit = "quote units", .doc = "Clipper chost: no take may leave a remainder worth less than this; redo pays its incentive only on a remainder worth at least this", .micros = true}),
  });
  return s;
}

const ObjectSchema<BatchConfig>& batch_schema() {
  using B = BatchConfig;
  static const ObjectSchema<B> s({
      field("batch_interval_steps", &B::batch_interval_steps, {.range = closed(1, kMaxHistorySteps), .unit = "steps", .doc = "liquidations are pooled and cleared every this many steps"}),
      field("mm_bid_share", &B::mm_bid_share, {.range = closed(0, 1), .unit = "fraction", .doc = "share of each of its own resting quotes a market maker bids into each batch"}),
      field("reserve", &B::reserve, {.one_of = {"bankruptcy", "none"}, .doc = "reserve price: no account filled beyond its bankruptcy price (unmet: the protocol closes it through the book, the fund covers the deficit)"}),
  });
  return s;
}

const ObjectSchema<SocializedConfig>& socialized_schema() {
  using S = SocializedConfig;
  static const ObjectSchema<S> s({
      field("loss_rule", &S::loss_rule, {.one_of = {"adl", "haircut"}, .doc = "when the insurance fund is exhausted: auto-deleveraging or pro-rata haircut of winners' profits"}),
  });
  return s;
}

const ObjectSchema<DeltaNeutralConfig>& delta_neutral_schema() {
  using N = DeltaNeutralConfig;
  static const ObjectSchema<N> s({
      field("mode", &N::mode, {.one_of = {"atomic", "staged", "backstop"}, .doc = "how hedged portfolios are unwound"}),
      field("delta_band", &N::delta_band, {.range = closed(0, 1), .unit = "fraction", .doc = "|net delta| / gross delta allowed after every stage"}),
      field("slice_depth_share", &N::slice_depth_share, {.range = open_closed(0, 10), .unit = "fraction", .doc = "staged: child slice as a share of the visible depth within 1% of the mid"}),
      field("backstop_discount_bps", &N::backstop_discount_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "backstop: discount to the portfolio's mark value"}),
      field("backstop_capacity", &N::backstop_capacity, {.range = closed(0, 1e12), .unit = "quote units", .doc = "backstop: total portfolio value it can take", .micros = true}),
  });
  return s;
}

const ObjectSchema<HierarchyConfig>& hierarchy_schema() {
  using H = HierarchyConfig;
  static const ObjectSchema<H> s({
      field("internal_match", &H::internal_match, {.doc = "cross opposite positions of accounts flagged in the same step against each other at the mark, without the book"}),
      field("auction_timeout_steps", &H::auction_timeout_steps, {.range = closed(0, kMaxSteps), .unit = "steps", .doc = "the Dutch auction (perp.liquidation.dutch curve) runs at most this long, or until its reset rule would fire; 0: no auction stage"}),
      field("backstop", &H::backstop, {.doc = "a backstop provider takes what the auction left, up to its capacity"}),
      field("backstop_discount_bps", &H::backstop_discount_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "backstop: contracts taken at their mark value less this (shorts: plus this)"}),
      field("backstop_capacity", &H::backstop_capacity, {.range = closed(0, 1e12), .unit = "quote units", .doc = "backstop: total position value it can take over the run", .micros = true}),
  });
  return s;
}

const ObjectSchema<ProactiveConfig>& proactive_schema() {
  using P = ProactiveConfig;
  static const ObjectSchema<P> s({
      field("enabled", &P::enabled, {.doc = "de-risk accounts before they become liquidatable"}),
      field("trigger_ratio", &P::trigger_ratio, {.range = open_closed(1, 100), .unit = "x maintenance", .doc = "equity below this multiple of maintenance is considered"}),
      field("horizon_s", &P::horizon_s, {.range = open_closed(0, 1e7), .unit = "s", .doc = "horizon of the predicted move"}),
      field("fraction", &P::fraction, {.range = open_closed(0, 1), .unit = "fraction", .doc = "share of the position closed per de-risking"}),
      field("penalty_bps", &P::penalty_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "penalty on the de-risked notional"}),
      field("vol_window_steps", &P::vol_window_steps, {.range = closed(1, kMaxHistorySteps), .unit = "steps", .doc = "EWMA window of the index volatility estimate"}),
  });
  return s;
}

const ObjectSchema<PriorityFeeConfig>& priority_fee_schema() {
  using P = PriorityFeeConfig;
  static const ObjectSchema<P> s({
      field("base_fee_initial", &P::base_fee_initial, {.range = closed(0, 1e9), .unit = "quote units", .doc = "base fee per liquidation transaction at step 0", .micros = true}),
      field("base_fee_min", &P::base_fee_min, {.range = closed(0, 1e9), .unit = "quote units", .doc = "floor of the base fee", .micros = true}),
      field("target_bids_per_step", &P::target_bids_per_step, {.range = closed(1, 1e6), .unit = "bids", .doc = "EIP-1559 target: the base fee rises when a step has more bids, falls when fewer (at most 2x target counted)"}),
      field("max_change_denominator", &P::max_change_denominator, {.range = closed(1, 1e6), .unit = "", .doc = "EIP-1559 BASE_FEE_MAX_CHANGE_DENOMINATOR: at most 1/d change per step"}),
      field("fee_capture_share", &P::fee_capture_share, {.range = closed(0, 1), .unit = "fraction", .doc = "share of every priority fee paid to the insurance fund (MEV capture); the rest to network_fees"}),
      field("vol_window_steps", &P::vol_window_steps, {.range = closed(1, kMaxHistorySteps), .unit = "steps", .doc = "EWMA span of the index volatility the bots price their risk with"}),
  });
  return s;
}

const ObjectSchema<LiquidationConfig>& liquidation_schema() {
  using L = LiquidationConfig;
  static const ObjectSchema<L> s({
      field("policy", &L::policy, {.one_of = liquidation_policies(), .doc = "how flagged positions are closed"}),
      field("close_factor", &L::close_factor, {.range = open_closed(0, 1), .unit = "fraction", .doc = "share of the position closed per liquidation"}),
      field("penalty_bps", &L::penalty_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "penalty on the closed notional"}),
      field("liquidator_share", &L::liquidator_share, {.range = closed(0, 1), .unit = "fraction", .doc = "share of the penalty paid to the liquidator; the rest goes to the insurance fund"}),
      field("insurance_fund_start", &L::insurance_fund_start, {.range = closed(0, 1e12), .unit = "quote units", .doc = "initial insurance fund", .micros = true}),
      field("fund_borrow_limit", &L::fund_borrow_limit, {.range = closed(0, 1e12), .unit = "quote units", .doc = "how far below 0 the insurance fund's equity may go before losses are socialized or bad debt", .micros = true}),
      field("market_order", &L::market_order, {.one_of = {"ioc_bankruptcy", "market"}, .doc = "market policy: IOC at the bankruptcy price, rest to the fund then ADL (Binance), or unlimited market orders (V1)"}),
      field("protocol_fallback_steps", &L::protocol_fallback_steps, {.range = closed(-1, kMaxSteps), .unit = "steps", .doc = "the venue liquidates an account no bot took for this long; -1: never (only bots)"}),
      field("protocol_fallback_cost", &L::protocol_fallback_cost, {.range = closed(0, 1e12), .unit = "quote units", .doc = "paid by the insurance fund (at most its cash) to network_fees for each fallback liquidation"}),
      object_field("priority_fee", &L::priority_fee, priority_fee_schema(), {.doc = "priority-fee auction among agents.liquidator_classes"}),
      object_field("dutch", &L::dutch, dutch_schema(), {.doc = "dutch policy parameters"}),
      object_field("batch", &L::batch, batch_schema(), {.doc = "batch policy parameters"}),
      object_field("socialized", &L::socialized, socialized_schema(), {.doc = "socialized policy parameters"}),
      object_field("delta_neutral", &L::delta_neutral, delta_neutral_schema(), {.doc = "delta_neutral policy parameters"}),
      object_field("hierarchy", &L::hierarchy, hierarchy_schema(), {.doc = "hierarchy policy: internal match -> auction -> backstop -> insurance fund -> ADL"}),
      object_field("proactive", &L::proactive, proactive_schema(), {.doc = "optional proactive de-risking before the maintenance threshold"}),
  });
  return s;
}

const ObjectSchema<PerpConfig>& perp_schema() {
  using P = PerpConfig;
  static const ObjectSchema<P> s({
      object_field("oracle", &P::oracle, oracle_schema(), {.doc = "index price from spot mids"}),
      object_field("mark", &P::mark, mark_schema(), {.doc = "mark price"}),
      object_field("funding", &P::funding, funding_schema(), {.doc = "funding payments"}),
      array_field("margin_tiers", &P::margin_tiers, margin_tier_schema(), {.doc = "margin tiers by position notional", .min_len = 1, .max_len = 16}),
      object_field("liquidation", &P::liquidation, liquidation_schema(), {.doc = "liquidation rules"}),
      field("margin_scan", &P::margin_scan, {.one_of = {"index", "full"}, .doc = "accounts the margin engine values each step: those a liquidation-price index selects, or all (same results)"}),
      field("watch_far_factor", &P::watch_far_factor, {.range = open_closed(1, 1000), .doc = "a watched passive position's band edge beyond this factor of the price is not stored; the nearest such edge triggers a rebuild (speed only: same results)"}),
  });
  return s;
}

// Shock rows. A field that belongs to another type must stay at its default: the loader
// (check_perp_and_shocks) rejects it, naming the type it belongs to.
const ObjectSchema<ShockConfig>& shock_schema() {
  using K = ShockConfig;
  static const ObjectSchema<K> s({
      field("type", &K::type, {.one_of = {"price_jump", "vol_regime", "liquidity_withdrawal", "oracle_fault", "congestion", "funding_shock", "collateral_depeg"}, .doc = "kind of shock (sim/market/shocks.hpp)"}),
      field("start_step", &K::start_step, {.range = closed(0, kMaxSteps), .unit = "step", .doc = "first step of the shock; before horizon_steps"}),
      field("end_step", &K::end_step, {.range = closed(0, kMaxSteps), .unit = "step", .doc = "end of the shock (exclusive); after start_step; price_jump: 0 = start_step + 1"}),
      field("asset_index", &K::asset_index, {.range = closed(-1, 7), .unit = "index", .doc = "index into assets; -1: every asset (congestion: must be -1)"}),
      field("size_pct", &K::size_pct, {.range = open(-100, 1000), .unit = "%", .doc = "price_jump: total move, spread over the window (non-zero)"}),
      field("vol_multiplier", &K::vol_multiplier, {.range = open_closed(0, 1000), .unit = "x", .doc = "vol_regime: volatility multiplier (not 1)"}),
      field("depth_multiplier", &K::depth_multiplier, {.range = closed(0, 10), .unit = "x", .doc = "liquidity_withdrawal: market-maker levels multiplier"}),
      field("size_multiplier", &K::size_multiplier, {.range = closed(0, 10), .unit = "x", .doc = "liquidity_withdrawal: market-maker quote size multiplier"}),
      field("kind", &K::kind, {.one_of = {"freeze", "extra_lag", "bias"}, .doc = "oracle_fault: freeze the index, add lag, or bias it (as perp.oracle.faults)"}),
      field("extra_lag_steps", &K::extra_lag_steps, {.range = closed(0, kMaxHistorySteps), .unit = "steps", .doc = "oracle_fault extra_lag: additional oracle lag (> 0)"}),
      field("bias_bps", &K::bias_bps, {.range = open_closed(-10000, 10000), .unit = "bps", .doc = "oracle_fault bias: index x (1 + bias_bps / 1e4) (non-zero)"}),
      field("cost_multiplier", &K::cost_multiplier, {.range = open_closed(0, 1e6), .unit = "x", .doc = "congestion: liquidator transaction-cost multiplier (overlapping shocks multiply)"}),
      field("latency_multiplier", &K::latency_multiplier, {.range = open_closed(0, 1e4), .unit = "x", .doc = "congestion: liquidator latency multiplier; a bot sees an account after ceil(latency_steps x multiplier) steps"}),
      field("premium_bps", &K::premium_bps, {.range = closed(-10000, 10000), .unit = "bps", .doc = "funding_shock: added to every funding premium sample of the window (non-zero; overlapping shocks add)"}),
      field("haircut_add", &K::haircut_add, {.range = closed(0, 1), .unit = "fraction", .doc = "collateral_depeg: added to the asset's collateral_haircut over the window (total capped at 1)"}),
      field("depeg_pct", &K::depeg_pct, {.range = open(-100, 1000), .unit = "%", .doc = "collateral_depeg: reference moved by this at start_step and back at end_step"}),
  });
  return s;
}

const ObjectSchema<OutputConfig>& output_schema() {
  using O = OutputConfig;
  static const ObjectSchema<O> s({
      field("record_every_steps", &O::record_every_steps, {.range = closed(1, 100000000), .unit = "steps", .doc = "time-series sampling period"}),
      field("loop_window_steps", &O::loop_window_steps, {.range = closed(1, kMaxSteps), .unit = "steps", .doc = "basis-loop measure: a hedged account flagged within this many steps after an earlier one's event whose stress push has landed links to it (sim/run/loop_metrics.hpp)"}),
      field("loop_premium_move_bps", &O::loop_premium_move_bps, {.range = closed(0, 10000), .unit = "bps", .doc = "basis-loop measure: one-step jump of the hedged stress (mark premium over the index plus the haircut) within the oracle's lag + window + 1 steps after a hedged account's event that counts as a push"}),
  });
  return s;
}

const ObjectSchema<AccountsConfig>& accounts_schema() {
  using A = AccountsConfig;
  static const ObjectSchema<A> s({
      field("file", &A::file, {.doc = "CSV of open positions loaded as margined accounts (format: scenarios/position_file.hpp); relative to the scenario file's folder, else to the working directory", .max_len = 4096}),
  });
  return s;
}

}  // namespace

const ObjectSchema<ScenarioConfig>& scenario_schema() {
  using S = ScenarioConfig;
  static const ObjectSchema<S> s({
      field("name", &S::name, {.required = true, .doc = "scenario name", .min_len = 1, .max_len = 200}),
      field("description", &S::description, {.doc = "free text", .max_len = 4000}),
      field("seed", &S::seed, {.range = full_range(), .doc = "random seed"}),
      field("horizon_steps", &S::horizon_steps, {.required = true, .range = closed(1, 100000000), .unit = "steps", .doc = "number of simulation steps"}),
      field("dt_s", &S::dt_s, {.required = true, .range = open_closed(0, 86400), .unit = "s", .doc = "simulated seconds per step"}),
      field("quote_asset", &S::quote_asset, {.doc = "quote (cash) asset symbol", .min_len = 1, .max_len = 16, .identifier = true}),
      array_field("assets", &S::assets, asset_schema(), {.required = true, .doc = "traded assets", .min_len = 1, .max_len = 8}),
      object_field("venues", &S::venues, venues_schema(), {.doc = "spot and perpetual venues"}),
      object_field("agents", &S::agents, agents_schema(), {.doc = "agent populations"}),
      object_field("perp", &S::perp, perp_schema(), {.doc = "perpetual contract: oracle, mark, funding, margin, liquidation"}),
      array_field("shocks", &S::shocks, shock_schema(), {.doc = "scheduled shocks", .min_len = 0, .max_len = 256}),
      object_field("output", &S::output, output_schema(), {.doc = "recording options"}),
      object_field("accounts", &S::accounts, accounts_schema(), {.doc = "the user's own open positions"}),
  });
  return s;
}

// ---------------------------------------------------------------------------------------------
// Generic helpers.

const FieldMeta* ObjectInfo::find(const std::string& name) const {
  for (std::size_t i = 0; i < size(); ++i)
    if (at(i).name == name) return &at(i);
  return nullptr;
}

std::vector<std::string> ObjectInfo::names() const {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < size(); ++i) v.push_back(at(i).name);
  return v;
}

namespace {

std::string range_text(const FieldMeta& m) {
  const Limits& l = m.opt.range;
  if (m.kind == Kind::Unsigned && l.full) return "[0, 18446744073709551615]";
  return std::string(l.lo_incl ? "[" : "(") + format_number(l.lo) + ", " + format_number(l.hi) +
         (l.hi_incl ? "]" : ")");
}

bool in_range(const Limits& l, double x) {
  if (l.lo_incl ? x < l.lo : x <= l.lo) return false;
  if (l.hi_incl ? x > l.hi : x >= l.hi) return false;
  return true;
}

// Escapes control bytes and non-ASCII so messages stay printable whatever the input held.
std::string printable(const std::string& s, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::string FieldMeta::expectation() const {
  switch (kind) {
    case Kind::Number: return "a number in " + range_text(*this);
    case Kind::Integer:
    case Kind::Unsigned: return "an integer in " + range_text(*this);
    case Kind::Boolean: return "true or false";
    case Kind::String:
      if (!opt.one_of.empty()) return "one of " + quoted_list(opt.one_of);
      return "a string of " + std::to_string(opt.min_len) + " to " + std::to_string(opt.max_len) +
             " characters" + (opt.identifier ? " (letters, digits, '_', '-', '.')" : "");
    case Kind::Object: return "an object";
    case Kind::Array:
      return "an array of " + std::to_string(opt.min_len) + " to " + std::to_string(opt.max_len) + " objects";
  }
  return "?";
}

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

std::string index_path(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

std::string preview(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: {
      const double x = v.get<double>();
      if (std::isinf(x)) return std::string(x > 0 ? "" : "-") + "infinity (number too large)";
      return format_number(x);
    }
    case json::value_t::string: return "\"" + printable(v.get_ref<const std::string&>(), 60) + "\"";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "nothing";
  }
  return "?";
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s;
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  if (a.size() > 64 || b.size() > 64) return 1000;  // never suggest for long junk keys
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    std::size_t d = edit_distance(word, c);
    // A prefix of a field name ("horizon" for "horizon_steps") is a likely abbreviation.
    if (word.size() >= 4 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) d = std::min<std::size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool read_number(const FieldMeta& m, const json& v, const std::string& path, Errors& e, double& out) {
  if (!v.is_number()) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  const double x = v.get<double>();
  if (!std::isfinite(x) || !in_range(m.opt.range, x)) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  if (m.opt.micros) {
    // Range caps keep to_fixed in int64; a positive value must not round to zero micro-units.
    const std::int64_t f = to_fixed(x, static_cast<double>(kMicrosPerUnit));
    if (x > 0 && f == 0) {
      e.add(path, "must be at least 0.000001 (one micro-unit; values are stored as integer micro-units), got " +
                      preview(v));
      return false;
    }
  }
  out = x;
  return true;
}

bool read_signed(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::int64_t& out) {
  bool ok = false;
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    const std::uint64_t u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      x = static_cast<std::int64_t>(u);
      ok = true;
    }
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
    ok = true;
  } else if (v.is_number_float()) {
    // Accept integral floats such as 3.0 (exactly representable ones only).
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
      x = static_cast<std::int64_t>(d);
      ok = true;
    }
  }
  if (!ok || !in_range(m.opt.range, static_cast<double>(x))) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  out = x;
  return true;
}

bool read_unsigned(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::uint64_t& out) {
  bool ok = false;
  std::uint64_t x = 0;
  if (v.is_number_unsigned()) {
    x = v.get<std::uint64_t>();
    ok = true;
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= 0 && d < 9007199254740992.0) {
      x = static_cast<std::uint64_t>(d);
      ok = true;
    }
  }
  if (ok && !m.opt.range.full && !in_range(m.opt.range, static_cast<double>(x))) ok = false;
  if (!ok) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  out = x;
  return true;
}

bool read_bool(const FieldMeta& m, const json& v, const std::string& path, Errors& e, bool& out) {
  if (!v.is_boolean()) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  out = v.get<bool>();
  return true;
}

bool read_string(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::string& out) {
  if (!v.is_string()) {
    e.add(path, "must be " + m.expectation() + ", got " + preview(v));
    return false;
  }
  const std::string& s = v.get_ref<const std::string&>();
  if (!m.opt.one_of.empty()) {
    if (std::find(m.opt.one_of.begin(), m.opt.one_of.end(), s) == m.opt.one_of.end()) {
      std::string msg = "must be " + m.expectation() + ", got " + preview(v);
      const std::string sug = did_you_mean(s, m.opt.one_of);
      if (!sug.empty()) msg += " (did you mean '" + sug + "'?)";
      e.add(path, msg);
      return false;
    }
  } else {
    bool ok = s.size() >= m.opt.min_len && s.size() <= m.opt.max_len;
    if (ok && m.opt.identifier)
      ok = std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
      });
    if (!ok) {
      e.add(path, "must be " + m.expectation() + ", got " + preview(v));
      return false;
    }
  }
  out = s;
  return true;
}

}  // namespace sl::schema
