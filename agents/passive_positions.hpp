// Passive positions (issue #15 items 4 and 5, scenario agents.passive_positions): open positions in
// the first asset that never act. Each is booked at step 0 exactly as a row of accounts.file is
// (sim/run/own_positions.hpp: its collateral minted, its contracts booked at the entry price against
// the passive counterparty account) and is from then on a margined account like any other: valued,
// flagged, liquidated, deleveraged, charged or paid funding (owner kind "position").
//
// THE DRAWS come from one counter-based stream for the whole population (sim/core/counter_rng.hpp,
// stream kStreamPassivePositions): position i's draw d is counter_u64(key, i x kPassiveDraws + d),
// key = derive_seed(run seed, 0, kStreamPassivePositions). A position is a pure function of (run
// seed, i): no engine is seeded per account, any block of positions can be drawn on its own, and
// the result is the same whatever the thread or rank count. The shape is that of
// scripts/make_example_positions (its defaults are the config's defaults; the formulas are in
// scenarios/scenario_config.hpp, PassivePositionsConfig), in the venue's units:
//   d0 notional  notional_scale x u^(-1/alpha), capped at notional_max
//   d1 side      long if u < long_share
//   d2, d3       z = sqrt(-2 ln u2) cos(2 pi u3) (Box-Muller); entry = initial_price x exp(sigma z),
//                rounded to the nearest tick (at least one tick)
// (u^(-1/alpha), ln u, cos and exp through sim/core/table_math.hpp: log2 / exp2 / cos(2 pi u) by
// table and linear interpolation, relative errors below 3e-7, far below the rounding to lots and
// ticks that follows; no libm call per position)
//   d4 leverage  the level whose cumulative weight (within [leverage_min, leverage_max]) first
//                exceeds u x total weight
//   d5 margin    isolated if u < isolated_share
//   d6           cross extra margin: -cross_extra_margin_mean x ln u
//   d7, d8       cross spot collateral if u7 < spot_probability, share spot_share_min + (max - min) u8
// then, as the script: size = max(1, round(notional / entry / lot)) lots; leverage lowered to
// floor(10000 / imr_bps) of the tier of size x entry; cross quote = size x entry / leverage x (1 +
// extra), of which the spot share is held as spot units = value / (initial_price x (1 - haircut)),
// rounded to micro-units; an entry too far on the losing side is moved to the nearest tick at
// which equity at the initial price >= (1 + health_margin) x maintenance (closed form, below); an
// isolated position's quote = size x entry / leverage at its final entry, in micro-units.
// draw() evaluates exactly these formulas, in the same order, in passes over chunks of positions,
// without branches on the data: four positions at a time where the CPU has AVX2 (asked once; the
// counter's SplitMix64 outputs too), else two (SSE2); the same IEEE operations on every lane, no FMA,
// so both widths give the same bits. At 1M positions in blocks of 2,048 (bench --only scale's
// config, AMD EPYC, 2026-12-07, a shared and loaded machine): about 33 ns a position on four lanes,
// 47 on two (runs in the machine's fast mode; 45 and 71 in its slow one; bench/README.md).
// test_engine_passive_positions holds both widths equal bit for bit to a frozen
// one-position-at-a-time copy of the code it replaced, and to each other (sim/core/table_math.hpp:
// set_simd_double_lanes_for_testing forces a width).
#pragma once
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/core/table_math.hpp"

namespace sl {

// Draw slots per position in the counter stream (9 used; the rest left for later fields, so
// adding one does not move the others).
inline constexpr std::uint64_t kPassiveDraws = 16;

class PassivePositionDrawer {
 public:
  PassivePositionDrawer(const ScenarioConfig& sc, std::uint64_t run_seed);
  // Positions [first, first + n): rows[k] (line = first + k + 1, asset 0) and spot_units[k] (units of
  // asset 0's spot held as collateral, 0 for none).
  void draw(std::size_t first, std::size_t n, PositionRow* rows, double* spot_units) const;

 private:
  const PassivePositionsConfig& cfg_;
  std::uint64_t key_;
  TableMath math_;  // log2, exp2, cos(2 pi u) by table: no libm call per position
  double p0_, tick_, lot_, spot_value_per_unit_, inv_alpha_, inv_tick_, inv_lot_;
  // Tiers: the tier of a notional is the first whose max_notional it does not exceed, else the
  // last, as MarginEngine::mmr / imr read it; with max_notional strictly increasing (the loader's
  // rule, checked by the constructor) that is the number of tiers below the last whose max_notional
  // it exceeds: a count over all of them, the same work for every position (no data branch).
  int n_tiers_ = 0;
  // Per tier t: max_notional; floor(10000 / imr_bps), the highest leverage the venue allows; and
  // the health target per unit, target = (1 + health_margin) x p0 x mmr_bps x 1e-4, and p0 -/+ it.
  std::vector<double> tier_max_notional_, tier_max_leverage_, tier_target_, tier_p0_minus_target_, tier_p0_plus_target_;
  // The allowed levels (n_levels_ of them) and their cumulative weights; the cumulative weights
  // past the second-last are +inf, so the level's index is a count (see draw).
  double levels_[11], cumulative_[11];
  int n_levels_ = 0;
  double total_weight_ = 0;
  // A position's leverage is a level (slot li < 11) or a tier's maximum (slot 11 + t): per slot its
  // value, 1 - 1 / value (1 where the value is 1: unused) and 1 + 1 / value, computed once here as
  // the formulas compute them; and the floor of an isolated long's health limit: -inf (none), or
  // +inf at leverage 1 (such a long is never moved).
  static constexpr int kTierSlot0 = 11;
  std::vector<double> slot_leverage_, slot_one_minus_inv_, slot_one_plus_inv_, slot_long_limit_floor_;
};

// The whole population as a PositionBook (spot per row and scenario asset), for tests and for
// writing it as an accounts.file CSV.
PositionBook draw_passive_positions(const ScenarioConfig& sc, std::uint64_t run_seed);

// Writes `book` as an accounts.file CSV (scenarios/position_file.hpp) that reads back to the same
// doubles (17 significant digits): side, size, entry_price, quote_collateral, spot_<SYMBOL> per
// asset, margin_mode.
void write_position_csv(const PositionBook& book, const ScenarioConfig& sc, std::ostream& out);

}  // namespace sl
