// Liquidation-price index (issue #15 item 2): which margined accounts the margin engine must value
// this step. Every account that was healthy at its last valuation gets, per asset it is exposed to,
// a price band for the mark (its contracts) and for the index (its spot collateral): as long as
// every price stays strictly inside its bands the account cannot have become liquidatable, so it
// is not valued again until a price leaves one of them or its balances change. The bands sit in
// price-ordered heaps per (asset, price, direction), so a step pops exactly the accounts whose band
// the price crossed: the cost follows the price move and the activity, not the number of accounts.
// A heap filled in bulk (the first mark indexes every account) is left unordered with its nearest
// edge (the highest lower edge, the lowest upper edge) kept aside: it is ordered only on the first
// step a price reaches that edge, so a population whose bands the prices never reach is never sorted.
//
// Bands (liquidation_bands below). With H = equity - k x maintenance (k = 1, or the proactive
// de-risker's trigger ratio when one reads every account's ratio), healthy means H >= 0. H is a
// sum of terms each depending on one price:
//     H = quote + sum_a s_a (1 - h_a) I_a + sum_a [ c_a M_a - k |c_a| M_a mmr(|c_a| M_a) ]
// (s spot units, h haircut, I index, c contracts, M mark). The account's margin H0 (less a
// rounding allowance) is split equally over its n non-zero terms: a band keeps its term's loss
// under H0 / n, so the sum of all losses stays under H0 whatever the other prices do (cross-margin
// and multi-asset accounts included: a conservative bound; the exact valuation follows whenever a
// band is left). Per term, at prices I0, M0 and budget b:
//   spot s > 0:  I > I0 - b / (s (1 - h));   spot s < 0: I < I0 + b / (|s| (1 - h))
//   long c > 0:  M > M0 - b / (c (1 - k mmr0)), and M below the current tier's upper edge (a long
//                that grows into a dearer tier may lose margin);
//   short c < 0: M < M0 + b / (|c| (1 + k mmr0)), and below the tier edge.
// Within a tier these are exact; across tiers they hold because mmr does not decrease with notional
// (the engine uses the index only for such tiers; otherwise it values every account every step).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/core/huge_pages.hpp"

namespace sl {

// A price interval: the account must be looked at again when the price is <= lo or >= hi.
struct PriceBand {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};

// One account's exposure to one asset at its last valuation.
struct AssetExposure {
  double spot = 0.0;        // spot collateral units (may be negative in an account that may go negative)
  double haircut = 0.0;     // collateral haircut of that spot, [0, 1]
  double index = 0.0;       // index price it was valued at
  double contracts = 0.0;   // perpetual contracts (negative = short)
  double mark = 0.0;        // mark price it was valued at
};

struct MarginTierRate {
  double max_notional;  // quote units
  double mmr;           // fraction
};

// Per-asset bands for an account with margin `h0` = equity - k x maintenance (>= 0) and rounding
// allowance `slack` (>= 0, quote units). Writes one (mark band, index band) pair per asset into
// mark_bands / index_bands (sized to exposures.size()). Returns false when no band can be given (the
// margin does not exceed the allowance, or k x mmr >= 1): the account must be valued every step.
bool liquidation_bands(const std::vector<AssetExposure>& exposures, double h0, double slack, double k,
                       const std::vector<MarginTierRate>& tiers, std::vector<PriceBand>& mark_bands,
                       std::vector<PriceBand>& index_bands);

namespace band_detail {
// First tier whose max_notional covers the notional (the last one beyond it), as MarginEngine::mmr.
inline std::size_t tier_of(const std::vector<MarginTierRate>& tiers, double notional) {
  for (std::size_t t = 0; t < tiers.size(); ++t)
    if (notional <= tiers[t].max_notional) return t;
  return tiers.size() - 1;
}
// Mark at which a position of `units` (> 0) leaves tier t upwards; +inf in the last tier. Lowered
// by a relative 1e-12 so that a price the valuation would put in the next tier is never inside.
inline double tier_edge(const std::vector<MarginTierRate>& tiers, std::size_t t, double units) {
  if (t + 1 >= tiers.size()) return std::numeric_limits<double>::infinity();
  return tiers[t].max_notional / units * (1.0 - 1e-12);
}
}  // namespace band_detail

// liquidation_bands for an account exposed to one asset only (the others' bands unbounded): the
// same bands, without the vectors (a million watched positions are banded at set-up; inline, so
// that loop keeps several positions in flight).
inline bool liquidation_bands_one(const AssetExposure& x, double h0, double slack, double k, const std::vector<MarginTierRate>& tiers,
                           PriceBand& mark_band, PriceBand& index_band) {
  mark_band = PriceBand{};
  index_band = PriceBand{};
  const bool spot_term = x.spot != 0 && x.haircut < 1.0;
  const int terms = spot_term + (x.contracts != 0);
  if (terms == 0) return h0 >= 0;
  const double budget = (h0 - slack) / terms;
  if (!(budget > 0)) return false;
  if (spot_term) {
    const double move = budget / (std::abs(x.spot) * (1.0 - x.haircut));
    if (x.spot > 0) index_band.lo = x.index - move;
    else index_band.hi = x.index + move;
  }
  if (x.contracts != 0) {
    const double units = std::abs(x.contracts);
    const std::size_t t = band_detail::tier_of(tiers, units * x.mark);
    const double rate = k * tiers[t].mmr;
    if (x.contracts > 0) {
      if (!(rate < 1.0)) return false;
      mark_band.lo = x.mark - budget / (units * (1.0 - rate));
      mark_band.hi = band_detail::tier_edge(tiers, t, units);
    } else {
      mark_band.hi = std::min(x.mark + budget / (units * (1.0 + rate)), band_detail::tier_edge(tiers, t, units));
    }
    if (!(mark_band.hi > x.mark)) return false;
  }
  return true;
}


class LiquidationPriceIndex {
 public:
  explicit LiquidationPriceIndex(std::size_t n_assets)
      : n_assets_(n_assets), heaps_(4 * n_assets), unordered_(4 * n_assets, 0), nearest_(4 * n_assets, 0.0) {}

  // Makes room for account ids below n.
  void resize(std::size_t n) {
    if (gen_.size() < n) {
      gen_.resize(n, 0);
      entries_.resize(n, kNotIndexed);
    }
  }
  // Room for one entry per account in every heap: reserved address space only; the pages a heap
  // never fills are never touched, and the first build copies nothing.
  void reserve(std::size_t n_accounts) {
    for (auto& h : heaps_) reserve_huge(h, n_accounts);
  }
  // Room for account ids below n (the per-account arrays), before resize fills them.
  void reserve_ids(std::size_t n) {
    reserve_huge(gen_, n);
    reserve_huge(entries_, n);
  }
  // Bulk building (the first mark indexes every account): between begin_bulk and end_bulk,
  // insert appends its entries without ordering them and keeps each heap's nearest edge; a heap is
  // ordered once (O(n), instead of a sift per entry) on the first crossed() whose price reaches that
  // edge, never if no price does. The heaps hold the same entries as with one insert at a time, so
  // crossed() returns the same accounts (in another order, which mark_all does not depend on).
  void begin_bulk() { bulk_ = true; }
  void end_bulk();
  // Heaps left unordered (for tests: a bulk-built heap no price has reached).
  std::size_t unordered_heaps() const {
    std::size_t n = 0;
    for (const std::uint8_t u : unordered_) n += u;
    return n;
  }
  bool indexed(std::uint32_t id) const { return entries_[id] != kNotIndexed; }
  // Forgets the account's bands: its heap entries become stale and are skipped when popped.
  void remove(std::uint32_t id);
  // Indexes the account with these bands (one mark band and one index band per asset; infinite
  // edges are not stored).
  void insert(std::uint32_t id, const std::vector<PriceBand>& mark_bands, const std::vector<PriceBand>& index_bands);
  // Appends (possibly repeated) ids of indexed accounts whose band the prices left: mark[a] or
  // index[a] at or beyond an edge. Their entries are popped; the caller values them and removes or
  // re-inserts them.
  void crossed(const std::vector<double>& mark, const std::vector<double>& index, std::vector<std::uint32_t>& out);

  std::size_t live_entries() const { return live_; }
  std::size_t stored_entries() const;

 private:
  static constexpr std::uint8_t kNotIndexed = 0xFF;
  struct Entry {
    double price;
    std::uint32_t id;
    std::uint32_t gen;
  };
  // Heap k of asset a: 4a + {0: mark lo, 1: mark hi, 2: index lo, 3: index hi}. Lo heaps are
  // max-heaps (the highest lower edge is crossed first), hi heaps min-heaps.
  enum : std::size_t { kMarkLo = 0, kMarkHi = 1, kIndexLo = 2, kIndexHi = 3 };
  bool live(const Entry& e) const { return entries_[e.id] != kNotIndexed && gen_[e.id] == e.gen; }
  void push(std::size_t heap, double price, std::uint32_t id);
  void pop_crossed(std::size_t heap, double price, std::vector<std::uint32_t>& out);
  void order(std::size_t heap);
  void compact();

  std::size_t n_assets_;
  std::vector<std::vector<Entry>> heaps_;
  // Per heap: its entries are not in heap order (filled in bulk, or compacted, and not reached since);
  // nearest_ is then the edge a price reaches first (the highest lower edge / lowest upper edge).
  std::vector<std::uint8_t> unordered_;
  std::vector<double> nearest_;
  std::vector<std::uint32_t> gen_;     // per account: entries with another generation are stale
  std::vector<std::uint8_t> entries_;  // per account: its live entries, kNotIndexed if none are kept
  std::size_t live_ = 0;               // live entries over all heaps
  bool bulk_ = false;
};

}  // namespace sl
