// The price bands of a block of watched positions (MarginEngine::watch_block, issue #15), several
// positions at a time: liquidation_bands_one's bands for an account exposed to one asset, valued as
// mark_one values it, with the far edges set aside (MarginEngine's watch_far_), computed on SIMD
// lanes (four doubles with AVX2 where the CPU has it, else two: sim/core/table_math.hpp's
// simd_double_lanes). Each lane does the same IEEE operations, in the same order, as the one-position
// code (band_position_reference, kept for the tests), so every width gives the same doubles; every
// choice (a position's side, whether it holds spot, whether an edge is far: coin tosses a branch
// predictor misses) is a select between two values both computed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/perp/liquidation_price_index.hpp"

namespace sl {

// What every position of the block is valued at.
struct WatchBandPrices {
  double index = 0, mark = 0;    // the asset's index and mark prices
  double haircut = 0;            // its spot's collateral haircut, [0, 1]
  double k = 1;                  // the watch ratio (the highest multiple of maintenance anyone reads)
  double far_factor = 2;         // perp.watch_far_factor: an edge beyond price x f or below price / f is far
  double inv_far_factor = 0.5;   // 1 / far_factor, as MarginEngine keeps it
};

// The positions' balances (micro-units x 1e-6), a column each.
struct WatchBandColumns {
  const double* quote;
  const double* spot;
  const double* contracts;
};

// Outputs per position: its edges as WatchIndex stores them (WatchIndex::lower_edge / upper_edge;
// none, far or not banded: -inf for a lower edge, +inf for an upper one) and which index it goes to
// (0: the one of positions without spot, 1: that of spot holders, 2: neither: it could not be
// banded and must be a margin account).
struct WatchBandEdges {
  float* mark_lo;
  float* mark_hi;
  float* index_lo;
  float* index_hi;
  std::uint8_t* which;
};

// The nearest far edge per (price, side), updated by the positions banded.
struct WatchFarEdges {
  double mark_lo, mark_hi, index_lo, index_hi;
};

// Bands positions [0, n) of the columns. The columns and outputs hold whole groups of four: positions
// [n, n rounded up to 4) are read and written too (the caller fills them with a position of no
// balances, which is banded with no edge and leaves the far edges as they are).
constexpr std::size_t kWatchBandBlock = 256;  // the most positions per call (a multiple of 4)
constexpr std::size_t kWatchBandGroup = 4;
// tiers: the margin tiers (MarginEngine's tier_rates_), a position's tier that of its notional
// |contracts| x mark (band_detail::tier_of).
void band_watched_positions(const WatchBandPrices& prices, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in,
                            std::size_t n, const WatchBandEdges& out, WatchFarEdges& far);

// One position, the straightforward way (liquidation_bands_one and MarginEngine's former
// band_watched): the reference the lane code is tested against.
void band_position_reference(const WatchBandPrices& prices, const std::vector<MarginTierRate>& tiers, const WatchBandColumns& in,
                             std::size_t j, const WatchBandEdges& out, WatchFarEdges& far);

}  // namespace sl
