#include "sim/perp/watch_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "sim/core/huge_pages.hpp"
#include "sim/core/table_math.hpp"

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

#if defined(SL_HAVE_AVX2_LANES)
// For each of the 16 masks of four positions kept or not: the 32-bit lanes of four interleaved
// entries (edge, k of position 0, then of 1, 2, 3) that put the kept entries first, in order.
struct KeepFirst {
  alignas(32) std::int32_t lanes[16][8];
  std::uint8_t kept[16];  // how many of the four are kept
  constexpr KeepFirst() : lanes{}, kept{} {
    for (int mask = 0; mask < 16; ++mask) {
      int to = 0;
      kept[mask] = static_cast<std::uint8_t>(((mask >> 0) & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1));
      for (int p = 0; p < 4; ++p)
        if (mask & (1 << p)) {
          lanes[mask][to++] = 2 * p;
          lanes[mask][to++] = 2 * p + 1;
        }
    }
  }
};
constexpr KeepFirst kKeepFirst;

// append_edges on four positions at a time (AVX2): whether each is kept (the same test), its entry
// (edge, k) and the kept ones moved to the front of a 32-byte store at the next place, which
// advances by the number kept (the stores past it are overwritten by the next or lie in the room
// made); the nearest edge as a running maximum (minimum) over the kept edges, lane by lane: edges
// kept are neither NaN nor zero, so the maximum is the same float whatever the order. The same
// entries and nearest edge as append_edges.
template <bool kLo, class Heap, class Entry>
SL_AVX2 void append_edges_avx2(Heap& h, std::size_t ordered, float& nearest, const float* __restrict e, const std::uint32_t* __restrict ks,
                               const std::uint8_t* __restrict which, std::uint8_t want, std::size_t n) {
  static_assert(sizeof(Entry) == 8 && offsetof(Entry, edge) == 0 && offsetof(Entry, k) == 4, "an entry is (edge, k), 8 bytes");
  // First counted, as append_edges does: a heap no position of the block has an edge in is not
  // written at all (its pages, as the index heaps' of a population without spot, stay untouched).
  std::size_t count = 0;
  for (std::size_t j = 0; j < n; ++j) count += (which[j] == want) & has_edge<kLo>(e[j]);
  if (count == 0) return;
  const std::size_t old = h.size();
  h.resize(old + n);  // room for every position: a store of four entries at m <= j ends by j + 4 <= n
  Entry* __restrict out = h.data() + old;
  const __m128i want4 = _mm_set1_epi32(want);
  const __m128 bound = kLo ? _mm_setzero_ps() : _mm_set1_ps(std::numeric_limits<float>::infinity());
  const __m128 none = _mm_set1_ps(kLo ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
  __m128 near4 = none;
  std::size_t m = 0, j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m128 ev = _mm_loadu_ps(e + j);
    const __m128i kv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ks + j));
    std::int32_t w4;
    std::memcpy(&w4, which + j, 4);
    const __m128i wv = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(w4));
    const __m128 has = kLo ? _mm_cmpgt_ps(ev, bound) : _mm_cmplt_ps(ev, bound);  // NaN: false, as has_edge
    const __m128 keep = _mm_and_ps(has, _mm_castsi128_ps(_mm_cmpeq_epi32(wv, want4)));
    const int mask = _mm_movemask_ps(keep);
    const __m256i entries = _mm256_castps_si256(_mm256_set_m128(_mm_unpackhi_ps(ev, _mm_castsi128_ps(kv)), _mm_unpacklo_ps(ev, _mm_castsi128_ps(kv))));
    const __m256i order = _mm256_load_si256(reinterpret_cast<const __m256i*>(kKeepFirst.lanes[mask]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + m), _mm256_permutevar8x32_epi32(entries, order));
    m += kKeepFirst.kept[mask];
    const __m128 kept_edges = _mm_blendv_ps(none, ev, keep);
    near4 = kLo ? _mm_max_ps(near4, kept_edges) : _mm_min_ps(near4, kept_edges);
  }
  float near_lanes[4];
  _mm_storeu_ps(near_lanes, near4);
  float near = old == ordered && m > 0 ? out[0].edge : nearest;  // as append_edges: from the first entry if the part was empty
  for (float x : near_lanes) near = kLo ? std::max(near, x) : std::min(near, x);  // a lane with none kept: -inf (+inf), no change
  const std::size_t m_lanes = m;
  for (; j < n; ++j) {
    out[m] = Entry{e[j], ks[j]};
    m += (which[j] == want) & has_edge<kLo>(e[j]);
  }
  if (m_lanes == 0 && old == ordered) near = out[0].edge;
  for (std::size_t i = m_lanes; i < m; ++i) near = kLo ? std::max(near, out[i].edge) : std::min(near, out[i].edge);
  h.resize(old + m);
  nearest = near;
}
#endif

template <bool kLo, class Heap, class Entry>
void append_edges_dispatch(Heap& h, std::size_t ordered, float& nearest, const float* e, const std::uint32_t* ks, const std::uint8_t* which,
                           std::uint8_t want, std::size_t n) {
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) return append_edges_avx2<kLo, Heap, Entry>(h, ordered, nearest, e, ks, which, want, n);
#endif
  append_edges<kLo, Heap, Entry>(h, ordered, nearest, e, ks, which, want, n);
}
}  // namespace

void WatchIndex::add_block(std::size_t asset, const float* const edges[4], const std::uint32_t* ks, const std::uint8_t* which,
                           std::uint8_t want, std::size_t n) {
  const std::size_t h = 4 * asset;
  append_edges_dispatch<true, Heap, Entry>(heaps_[h + kMarkLo], ordered_[h + kMarkLo], nearest_[h + kMarkLo], edges[kMarkLo], ks, which, want, n);
  append_edges_dispatch<false, Heap, Entry>(heaps_[h + kMarkHi], ordered_[h + kMarkHi], nearest_[h + kMarkHi], edges[kMarkHi], ks, which, want, n);
  append_edges_dispatch<true, Heap, Entry>(heaps_[h + kIndexLo], ordered_[h + kIndexLo], nearest_[h + kIndexLo], edges[kIndexLo], ks, which, want, n);
  append_edges_dispatch<false, Heap, Entry>(heaps_[h + kIndexHi], ordered_[h + kIndexHi], nearest_[h + kIndexHi], edges[kIndexHi], ks, which, want, n);
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
