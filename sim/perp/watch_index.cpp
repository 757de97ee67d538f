#include "sim/perp/watch_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "sim/core/huge_pages.hpp"

namespace sl {

namespace {
// Lo heaps are max-heaps (the highest lower edge is reached first as a price falls), hi heaps
// min-heaps.
bool lo_before(const auto& x, const auto& y) { return x.edge < y.edge; }
bool hi_before(const auto& x, const auto& y) { return x.edge > y.edge; }
bool is_lo(std::size_t heap) { return heap % 2 == 0; }
}  // namespace

WatchIndex::WatchIndex(std::size_t n_assets) : heaps_(4 * n_assets), ordered_(4 * n_assets, 0), nearest_(4 * n_assets, 0.0f) {}

void WatchIndex::reserve(std::size_t n) {
  for (auto& h : heaps_) reserve_huge(h, n);
}

void WatchIndex::clear() {
  for (auto& h : heaps_) h.clear();
  std::fill(ordered_.begin(), ordered_.end(), 0);
}

// Edges are positive here (add_one stores no lower edge <= 0: no positive price reaches it, and
// upper edges lie above a positive price), so the next float up or down is one step of the bits.
float WatchIndex::lower_edge(double lo) {
  if (lo >= static_cast<double>(std::numeric_limits<float>::max())) return std::numeric_limits<float>::max();
  float f = static_cast<float>(lo);
  if (static_cast<double>(f) < lo) f = std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) + 1u);
  return f;
}

float WatchIndex::upper_edge(double hi) {
  if (hi >= static_cast<double>(std::numeric_limits<float>::max())) return std::numeric_limits<float>::max();
  float f = static_cast<float>(hi);
  if (static_cast<double>(f) > hi) f = std::bit_cast<float>(std::bit_cast<std::uint32_t>(f) - 1u);
  return f;
}

void WatchIndex::push(std::size_t heap, float edge, std::uint32_t k) {
  std::vector<Entry>& h = heaps_[heap];
  if (h.empty() || ordered_[heap]) {
    // An ordered heap gets entries only after clear() (rebuilds add in bulk): start unordered.
    if (ordered_[heap]) {
      nearest_[heap] = h.empty() ? edge : h.front().edge;
      ordered_[heap] = 0;
    } else {
      nearest_[heap] = edge;
    }
  }
  h.push_back({edge, k});
  nearest_[heap] = is_lo(heap) ? std::max(nearest_[heap], edge) : std::min(nearest_[heap], edge);
}

void WatchIndex::add_one(std::uint32_t k, std::size_t asset, const PriceBand& mark_band, const PriceBand& index_band) {
  // A lower edge <= 0 (or -inf) is never reached by a positive price (prices that are not positive
  // make every watched position a margin account: MarginEngine::mark_indexed); +inf is no edge.
  if (mark_band.lo > 0) push(4 * asset + kMarkLo, lower_edge(mark_band.lo), k);
  if (std::isfinite(mark_band.hi)) push(4 * asset + kMarkHi, upper_edge(mark_band.hi), k);
  if (index_band.lo > 0) push(4 * asset + kIndexLo, lower_edge(index_band.lo), k);
  if (std::isfinite(index_band.hi)) push(4 * asset + kIndexHi, upper_edge(index_band.hi), k);
}

void WatchIndex::add(std::uint32_t k, const std::vector<PriceBand>& mark_bands, const std::vector<PriceBand>& index_bands) {
  for (std::size_t a = 0; a < heaps_.size() / 4; ++a) add_one(k, a, mark_bands[a], index_bands[a]);
}

void WatchIndex::pop_crossed(std::size_t heap, double price, std::vector<std::uint32_t>& out) {
  std::vector<Entry>& h = heaps_[heap];
  if (h.empty()) return;
  const bool lo = is_lo(heap);
  if (!ordered_[heap]) {
    // Every stored edge is at or beyond nearest_: a price that has not reached it reaches none.
    const double nearest = nearest_[heap];
    if (lo ? !(price <= nearest) : !(price >= nearest)) return;
    if (lo) std::make_heap(h.begin(), h.end(), lo_before<Entry, Entry>);
    else std::make_heap(h.begin(), h.end(), hi_before<Entry, Entry>);
    ordered_[heap] = 1;
  }
  while (!h.empty() && (lo ? price <= static_cast<double>(h.front().edge) : price >= static_cast<double>(h.front().edge))) {
    out.push_back(h.front().k);
    if (lo) std::pop_heap(h.begin(), h.end(), lo_before<Entry, Entry>);
    else std::pop_heap(h.begin(), h.end(), hi_before<Entry, Entry>);
    h.pop_back();
  }
}

void WatchIndex::crossed(const std::vector<double>& mark, const std::vector<double>& index, std::vector<std::uint32_t>& out) {
  for (std::size_t a = 0; a < heaps_.size() / 4; ++a) {
    pop_crossed(4 * a + kMarkLo, mark[a], out);
    pop_crossed(4 * a + kMarkHi, mark[a], out);
    pop_crossed(4 * a + kIndexLo, index[a], out);
    pop_crossed(4 * a + kIndexHi, index[a], out);
  }
}

std::size_t WatchIndex::stored_entries() const {
  std::size_t n = 0;
  for (const auto& h : heaps_) n += h.size();
  return n;
}

}  // namespace sl
