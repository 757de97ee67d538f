// Price bands of watched positions (MarginEngine::watch, issue #15): which of a million passive
// positions a price has reached. The same bands as the liquidation-price index
// (liquidation_price_index.hpp), kept smaller because a watched position is banded once at set-up
// and again only when every band is rebuilt (a haircut change), never one at a time:
//   - an entry is 8 bytes: the band's edge as a float, rounded outward (towards the price it was
//     computed at: a lower edge up, an upper edge down), so a float edge is reached no later than
//     the exact one, and the position's number k;
//   - no generation per position: an entry of a position already made a margin account is skipped
//     by the caller, and a rebuild starts from empty heaps.
// Per asset four heaps (mark lo, mark hi, index lo, index hi), each an ordered heap part and an
// unordered part whose nearest edge is kept aside: when a price reaches that edge, the unordered
// entries within a window of the price (1% of it, doubled at each such reach) join the heap part,
// so a move orders only the edges near it.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/core/default_init_allocator.hpp"
#include "sim/core/huge_pages.hpp"
#include "sim/perp/liquidation_price_index.hpp"

namespace sl {

class WatchIndex {
 public:
  explicit WatchIndex(std::size_t n_assets = 0);
  // Room for n positions' entries in every heap (address space; only what is filled is touched).
  void reserve(std::size_t n);
  // Drops every entry.
  void clear();
  // Position k's bands (one mark band and one index band per asset; infinite edges not stored).
  void add(std::uint32_t k, const std::vector<PriceBand>& mark_bands, const std::vector<PriceBand>& index_bands);
  // The same for one asset's bands (the others unbounded).
  void add_one(std::uint32_t k, std::size_t asset, const PriceBand& mark_band, const PriceBand& index_band);
  // A block of positions' edges for one asset, in the order of ks: edges[h][j] is position ks[j]'s
  // edge in heap h (mark lo, mark hi, index lo, index hi) as lower_edge / upper_edge store it, or
  // none: -inf for a lower edge, +inf for an upper one, or NaN; only the positions with
  // which[j] == want are added (any n; up to kMaxBlock within the room reserve() makes). The heaps' entries and
  // nearest edges end as add_one called for each of them in turn leaves them (without a branch per
  // position: whether a position has an edge is its side, a coin toss).
  static constexpr std::size_t kMaxBlock = 256;
  void add_block(std::size_t asset, const float* const edges[4], const std::uint32_t* ks, const std::uint8_t* which, std::uint8_t want,
                 std::size_t n);
  // Appends the positions (possibly repeated, possibly already made margin accounts) with an edge
  // the prices reached: mark[a] or index[a] at or beyond it. Their entries are popped.
  void crossed(const std::vector<double>& mark, const std::vector<double>& index, std::vector<std::uint32_t>& out);
  std::size_t stored_entries() const;
  // The float an edge is stored as: >= lo for a lower edge, <= hi for an upper edge (for tests).
  static float lower_edge(double lo);
  static float upper_edge(double hi);

 private:
  struct Entry {
    float edge;
    std::uint32_t k;
  };
  enum : std::size_t { kMarkLo = 0, kMarkHi = 1, kIndexLo = 2, kIndexHi = 3 };
  void push(std::size_t heap, float edge, std::uint32_t k);
  void pop_crossed(std::size_t heap, double price, std::vector<std::uint32_t>& out);
  static constexpr double kFirstWindow = 0.01;
  using Heap = std::vector<Entry, DefaultInitAllocator<Entry, HugePageAllocator>>;  // add_block's resize leaves the room unwritten
  std::vector<Heap> heaps_;
  std::vector<std::size_t> ordered_;  // per heap: entries [0, ordered_) are in heap order
  std::vector<float> nearest_;        // per heap: the unordered part's edge a price reaches first
  std::vector<double> window_;        // per heap: the next window, a fraction of the price
};

// Edges are positive here (add_one stores no lower edge <= 0: no positive price reaches it, and
// upper edges lie above a positive price), so the next float up or down is one step of the bits.
// Branch-free: whether the conversion rounded up or down is a coin toss per edge.
inline float WatchIndex::lower_edge(double lo) {
  const float f = static_cast<float>(std::min(lo, static_cast<double>(std::numeric_limits<float>::max())));
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) + static_cast<std::uint32_t>(static_cast<double>(f) < lo));
}

inline float WatchIndex::upper_edge(double hi) {
  const float f = static_cast<float>(std::min(hi, static_cast<double>(std::numeric_limits<float>::max())));
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) - static_cast<std::uint32_t>(static_cast<double>(f) > hi));
}

inline void WatchIndex::push(std::size_t heap, float edge, std::uint32_t k) {
  Heap& h = heaps_[heap];
  if (h.size() == ordered_[heap]) nearest_[heap] = edge;  // the first entry of the unordered part
  h.push_back({edge, k});
  nearest_[heap] = heap % 2 == 0 ? std::max(nearest_[heap], edge) : std::min(nearest_[heap], edge);
}

inline void WatchIndex::add_one(std::uint32_t k, std::size_t asset, const PriceBand& mark_band, const PriceBand& index_band) {
  // A lower edge <= 0 (or -inf) is never reached by a positive price (prices that are not positive
  // make every watched position a margin account: MarginEngine::mark_indexed); +inf is no edge.
  if (mark_band.lo > 0) push(4 * asset + kMarkLo, lower_edge(mark_band.lo), k);
  if (std::isfinite(mark_band.hi)) push(4 * asset + kMarkHi, upper_edge(mark_band.hi), k);
  if (index_band.lo > 0) push(4 * asset + kIndexLo, lower_edge(index_band.lo), k);
  if (std::isfinite(index_band.hi)) push(4 * asset + kIndexHi, upper_edge(index_band.hi), k);
}

}  // namespace sl
