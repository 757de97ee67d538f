#include "sim/perp/watch_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "sim/core/huge_pages.hpp"

namespace sl {

namespace {
// Lo heaps are max-heaps (the highest lower edge is reached first as a price falls), hi heaps
// min-heaps. Function objects, so the heap algorithms inline the comparison.
struct LoBefore {
  template <class E>
  bool operator()(const E& x, const E& y) const { return x.edge < y.edge; }
};
struct HiBefore {
  template <class E>
  bool operator()(const E& x, const E& y) const { return x.edge > y.edge; }
};
bool is_lo(std::size_t heap) { return heap % 2 == 0; }
}  // namespace

WatchIndex::WatchIndex(std::size_t n_assets)
    : heaps_(4 * n_assets), ordered_(4 * n_assets, 0), nearest_(4 * n_assets, 0.0f), window_(4 * n_assets, kFirstWindow) {}

void WatchIndex::reserve(std::size_t n) {
  for (auto& h : heaps_) reserve_huge(h, n + kMaxBlock);  // add_block makes room for a whole block first
}

void WatchIndex::clear() {
  for (auto& h : heaps_) h.clear();
  std::fill(ordered_.begin(), ordered_.end(), 0);
  std::fill(window_.begin(), window_.end(), kFirstWindow);
}

void WatchIndex::add(std::uint32_t k, const std::vector<PriceBand>& mark_bands, const std::vector<PriceBand>& index_bands) {
  for (std::size_t a = 0; a < heaps_.size() / 4; ++a) add_one(k, a, mark_bands[a], index_bands[a]);
}

// add_one's tests on an edge as a float: a lower edge > 0, an upper one finite (-inf, +inf or NaN:
// none).
namespace {
template <bool kLo>
bool has_edge(float e) {
  return kLo ? e > 0.0f : e < std::numeric_limits<float>::infinity();
}
// The entries of positions j with which[j] == want and an edge, in order, appended to h (whose
// entries [ordered, size) are its unordered part, nearest its nearest edge); first counted (a loop
// without stores, which the compiler vectorises: a heap no position of the block has an edge in, as
// the index heaps of a block without spot, costs only that), then written each at the next place,
// which advances only past an entry kept (no branch on the data).
template <bool kLo, class Heap, class Entry>
void append_edges(Heap& h, std::size_t ordered, float& nearest, const float* __restrict e, const std::uint32_t* __restrict ks,
                  const std::uint8_t* __restrict which, std::uint8_t want, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t j = 0; j < n; ++j) count += (which[j] == want) & has_edge<kLo>(e[j]);
  if (count == 0) return;
  const std::size_t old = h.size();
  h.resize(old + n);  // room for every position: the place after the last kept one is written too
  Entry* __restrict out = h.data() + old;
  std::size_t m = 0;
  for (std::size_t j = 0; j < n; ++j) {
    out[m] = Entry{e[j], ks[j]};
    m += (which[j] == want) & has_edge<kLo>(e[j]);
  }
  h.resize(old + m);
  // The unordered part's nearest edge as push leaves it: from the first entry if the part was empty.
  float near = old == ordered ? out[0].edge : nearest;
  for (std::size_t j = 0; j < m; ++j) near = kLo ? std::max(near, out[j].edge) : std::min(near, out[j].edge);
  nearest = near;
}
}  // namespace

void WatchIndex::add_block(std::size_t asset, const float* const edges[4], const std::uint32_t* ks, const std::uint8_t* which,
                           std::uint8_t want, std::size_t n) {
  const std::size_t h = 4 * asset;
  append_edges<true, Heap, Entry>(heaps_[h + kMarkLo], ordered_[h + kMarkLo], nearest_[h + kMarkLo], edges[kMarkLo], ks, which, want, n);
  append_edges<false, Heap, Entry>(heaps_[h + kMarkHi], ordered_[h + kMarkHi], nearest_[h + kMarkHi], edges[kMarkHi], ks, which, want, n);
  append_edges<true, Heap, Entry>(heaps_[h + kIndexLo], ordered_[h + kIndexLo], nearest_[h + kIndexLo], edges[kIndexLo], ks, which, want, n);
  append_edges<false, Heap, Entry>(heaps_[h + kIndexHi], ordered_[h + kIndexHi], nearest_[h + kIndexHi], edges[kIndexHi], ks, which, want, n);
}

// The heap part [0, ordered_) and the unordered part after it. When a price reaches the unordered
// part's nearest edge, the entries within the heap's window of the price (a fraction of it, doubled
// each time) join the heap part; the others stay unordered with their nearest edge recomputed. A
// fall reaches the nearest edges of a million positions without ordering them all.
void WatchIndex::pop_crossed(std::size_t heap, double price, std::vector<std::uint32_t>& out) {
  Heap& h = heaps_[heap];
  const bool lo = is_lo(heap);
  std::size_t& n_heap = ordered_[heap];
  while (n_heap < h.size() && (lo ? price <= static_cast<double>(nearest_[heap]) : price >= static_cast<double>(nearest_[heap]))) {
    const double w = window_[heap];
    window_[heap] = 2 * w;
    const double threshold = lo ? price * (1.0 - w) : price * (1.0 + w);
    // Every stored edge is at or beyond nearest_: a price that has not reached it reaches none.
    float nearest = lo ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    std::size_t joined = n_heap;
    for (std::size_t j = n_heap; j < h.size(); ++j) {
      const double e = h[j].edge;
      if (lo ? e >= threshold : e <= threshold) {
        std::swap(h[joined], h[j]);
        ++joined;
      } else {
        nearest = lo ? std::max(nearest, h[j].edge) : std::min(nearest, h[j].edge);
      }
    }
    nearest_[heap] = nearest;
    n_heap = joined;
    if (lo) std::make_heap(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n_heap), LoBefore{});
    else std::make_heap(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n_heap), HiBefore{});
  }
  while (n_heap > 0 && (lo ? price <= static_cast<double>(h.front().edge) : price >= static_cast<double>(h.front().edge))) {
    out.push_back(h.front().k);
    if (lo) std::pop_heap(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n_heap), LoBefore{});
    else std::pop_heap(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n_heap), HiBefore{});
    --n_heap;
    // The popped entry sits at n_heap: the vector's last entry (unordered part, or the popped one
    // itself) takes its place.
    h[n_heap] = h.back();
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
