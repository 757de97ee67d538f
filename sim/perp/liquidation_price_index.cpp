#include "sim/perp/liquidation_price_index.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

using band_detail::tier_edge;
using band_detail::tier_of;
constexpr double kInf = std::numeric_limits<double>::infinity();

bool liquidation_bands(const std::vector<AssetExposure>& exposures, double h0, double slack, double k,
                       const std::vector<MarginTierRate>& tiers, std::vector<PriceBand>& mark_bands,
                       std::vector<PriceBand>& index_bands) {
  mark_bands.assign(exposures.size(), PriceBand{});
  index_bands.assign(exposures.size(), PriceBand{});
  int terms = 0;
  for (const AssetExposure& x : exposures) terms += (x.spot != 0 && x.haircut < 1.0) + (x.contracts != 0);
  if (terms == 0) return h0 >= 0;  // cash only: nothing but a transfer can change it
  const double budget = (h0 - slack) / terms;
  if (!(budget > 0)) return false;
  for (std::size_t a = 0; a < exposures.size(); ++a) {
    const AssetExposure& x = exposures[a];
    if (x.spot != 0 && x.haircut < 1.0) {
      const double move = budget / (std::abs(x.spot) * (1.0 - x.haircut));
      if (x.spot > 0) index_bands[a].lo = x.index - move;
      else index_bands[a].hi = x.index + move;
    }
    if (x.contracts != 0) {
      const double units = std::abs(x.contracts);
      const std::size_t t = tier_of(tiers, units * x.mark);
      const double rate = k * tiers[t].mmr;
      if (x.contracts > 0) {
        if (!(rate < 1.0)) return false;
        mark_bands[a].lo = x.mark - budget / (units * (1.0 - rate));
        mark_bands[a].hi = tier_edge(tiers, t, units);
      } else {
        mark_bands[a].hi = std::min(x.mark + budget / (units * (1.0 + rate)), tier_edge(tiers, t, units));
      }
      if (!(mark_bands[a].hi > x.mark)) return false;  // at a tier edge already: value it every step
    }
  }
  return true;
}

void LiquidationPriceIndex::remove(std::uint32_t id) {
  if (entries_[id] == kNotIndexed) return;
  live_ -= entries_[id];
  entries_[id] = kNotIndexed;
  ++gen_[id];
}

// Lo heaps are max-heaps (the highest lower edge is crossed first), hi heaps min-heaps.
namespace {
bool lo_before(const auto& x, const auto& y) { return x.price < y.price; }
bool hi_before(const auto& x, const auto& y) { return x.price > y.price; }
}  // namespace

void LiquidationPriceIndex::push(std::size_t heap, double price, std::uint32_t id) {
  std::vector<Entry>& h = heaps_[heap];
  const bool lo = heap % 2 == 0;
  if (bulk_ && !unordered_[heap]) {  // from now on unordered: its nearest edge is kept instead
    nearest_[heap] = h.empty() ? price : h.front().price;
    unordered_[heap] = 1;
  }
  h.push_back({price, id, gen_[id]});
  if (unordered_[heap]) {
    nearest_[heap] = lo ? std::max(nearest_[heap], price) : std::min(nearest_[heap], price);
    return;  // ordered when a price first reaches nearest_
  }
  if (lo) std::push_heap(h.begin(), h.end(), lo_before<Entry, Entry>);
  else std::push_heap(h.begin(), h.end(), hi_before<Entry, Entry>);
}

void LiquidationPriceIndex::order(std::size_t heap) {
  std::vector<Entry>& h = heaps_[heap];
  if (heap % 2 == 0) std::make_heap(h.begin(), h.end(), lo_before<Entry, Entry>);
  else std::make_heap(h.begin(), h.end(), hi_before<Entry, Entry>);
  unordered_[heap] = 0;
}

void LiquidationPriceIndex::insert(std::uint32_t id, const std::vector<PriceBand>& mark_bands,
                                   const std::vector<PriceBand>& index_bands) {
  remove(id);
  std::uint8_t n = 0;
  for (std::size_t a = 0; a < n_assets_; ++a) {
    if (std::isfinite(mark_bands[a].lo)) push(4 * a + kMarkLo, mark_bands[a].lo, id), ++n;
    if (std::isfinite(mark_bands[a].hi)) push(4 * a + kMarkHi, mark_bands[a].hi, id), ++n;
    if (std::isfinite(index_bands[a].lo)) push(4 * a + kIndexLo, index_bands[a].lo, id), ++n;
    if (std::isfinite(index_bands[a].hi)) push(4 * a + kIndexHi, index_bands[a].hi, id), ++n;
  }
  entries_[id] = n;
  live_ += n;
  if (!bulk_ && stored_entries() > 2 * live_ + 4096) compact();
}

void LiquidationPriceIndex::end_bulk() {
  bulk_ = false;
  if (stored_entries() > live_) compact();  // drops the entries of accounts valued again; the first build has none
}

void LiquidationPriceIndex::pop_crossed(std::size_t heap, double price, std::vector<std::uint32_t>& out) {
  std::vector<Entry>& h = heaps_[heap];
  const bool lo = heap % 2 == 0;
  if (unordered_[heap]) {
    // Every stored edge is at or beyond nearest_ (below it for lo, above for hi): a price that has
    // not reached nearest_ crosses none of them.
    if (lo ? !(nearest_[heap] >= price) : !(nearest_[heap] <= price)) return;
    order(heap);
  }
  while (!h.empty() && (lo ? h.front().price >= price : h.front().price <= price)) {
    const Entry e = h.front();
    if (lo) std::pop_heap(h.begin(), h.end(), lo_before<Entry, Entry>);
    else std::pop_heap(h.begin(), h.end(), hi_before<Entry, Entry>);
    h.pop_back();
    if (!live(e)) continue;
    // The entry is gone from its heap; the account's other entries stay live until the caller
    // removes or re-inserts it (it always does: a crossed account is valued this step).
    --entries_[e.id];
    --live_;
    out.push_back(e.id);
  }
}

void LiquidationPriceIndex::crossed(const std::vector<double>& mark, const std::vector<double>& index,
                                    std::vector<std::uint32_t>& out) {
  for (std::size_t a = 0; a < n_assets_; ++a) {
    pop_crossed(4 * a + kMarkLo, mark[a], out);
    pop_crossed(4 * a + kMarkHi, mark[a], out);
    pop_crossed(4 * a + kIndexLo, index[a], out);
    pop_crossed(4 * a + kIndexHi, index[a], out);
  }
}

std::size_t LiquidationPriceIndex::stored_entries() const {
  std::size_t n = 0;
  for (const auto& h : heaps_) n += h.size();
  return n;
}

// Drops stale entries (accounts re-valued since) so the heaps stay proportional to live ones. An
// unordered heap stays unordered (its nearest edge recomputed over what is left); the others are
// ordered again.
void LiquidationPriceIndex::compact() {
  for (std::size_t heap = 0; heap < heaps_.size(); ++heap) {
    std::vector<Entry>& h = heaps_[heap];
    h.erase(std::remove_if(h.begin(), h.end(), [this](const Entry& e) { return !live(e); }), h.end());
    if (!unordered_[heap]) {
      order(heap);
      continue;
    }
    if (h.empty()) {
      unordered_[heap] = 0;
      continue;
    }
    double nearest = h.front().price;
    for (const Entry& e : h) nearest = heap % 2 == 0 ? std::max(nearest, e.price) : std::min(nearest, e.price);
    nearest_[heap] = nearest;
  }
}

}  // namespace sl
