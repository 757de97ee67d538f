#include "sim/book/order_book.hpp"

#include <algorithm>
#include <stdexcept>
#include <new>
#include <sys/mman.h>
#include <type_traits>

namespace sl {

namespace detail {

LevelBitmap::LevelBitmap(std::size_t n) : n_(n) {
  std::size_t bits = n == 0 ? 1 : n;
  for (;;) {
    const std::size_t words = (bits + 63) / 64;
    lv_.emplace_back(words, 0);
    if (words == 1) break;
    bits = words;
  }
}

void LevelBitmap::clear_all() {
  for (auto& v : lv_) std::fill(v.begin(), v.end(), 0);
}

bool LevelBitmap::check() const {
  if (lv_.empty()) return false;
  // No bits past n at level 0.
  for (std::size_t i = n_; i < lv_[0].size() * 64; ++i)
    if ((lv_[0][i >> 6] >> (i & 63)) & 1u) return false;
  for (std::size_t k = 0; k + 1 < lv_.size(); ++k) {
    const auto& lo = lv_[k];
    const auto& hi = lv_[k + 1];
    for (std::size_t w = 0; w < hi.size() * 64; ++w) {
      const bool bit = (hi[w >> 6] >> (w & 63)) & 1u;
      const bool nonzero = w < lo.size() && lo[w] != 0;
      if (bit != nonzero) return false;
    }
  }
  return lv_.back().size() == 1;
}

}  // namespace detail

OrderBook::LevelMapping::LevelMapping(std::size_t n) : bytes(n * sizeof(Level)) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data = static_cast<Level*>(p);
}

OrderBook::LevelMapping& OrderBook::LevelMapping::operator=(LevelMapping&& o) noexcept {
  if (this != &o) {
    if (data) ::munmap(data, bytes);
    data = std::exchange(o.data, nullptr);
    bytes = std::exchange(o.bytes, 0);
  }
  return *this;
}

OrderBook::LevelMapping::~LevelMapping() {
  if (data) ::munmap(data, bytes);
}

OrderBook::OrderBook(const BookConfig& cfg) : max_tick_(cfg.max_tick), stp_(cfg.self_trade_prevention) {
  if (cfg.max_tick < 1 || cfg.max_tick > (Tick{1} << 32))
    throw std::invalid_argument("OrderBook: max_tick must be in 1..2^32");
  const std::size_t n = static_cast<std::size_t>(cfg.max_tick) + 1;
  static_assert(std::is_trivially_copyable_v<Level> && std::is_trivially_destructible_v<Level>);
  levels_ = LevelMapping(n);
  n_levels_ = n;
  reset_tracked_depths();
  bits_[0] = detail::LevelBitmap(n);
  bits_[1] = detail::LevelBitmap(n);
  const std::uint32_t cap = std::max<std::uint32_t>(cfg.initial_order_capacity, 1);
  nodes_.reserve(cap);
  grow_pool_to(cap);
}

void OrderBook::grow_pool_to(std::size_t new_cap) {
  const std::size_t old = nodes_.size();
  if (new_cap > std::size_t{kNil}) throw std::length_error("OrderBook: order pool exhausted");
  nodes_.resize(new_cap);
  // Push the new slots so that the lowest index is handed out first.
  for (std::size_t i = new_cap; i-- > old;) {
    Node& n = nodes_[i];
    n.o = RestingOrder{0, 1, Side::Buy, 0, 0};
    n.prev = kNil;
    n.next = free_head_;
    free_head_ = static_cast<std::uint32_t>(i);
  }
}

void OrderBook::grow_pool() { grow_pool_to(nodes_.empty() ? 1 : nodes_.size() * 2); }

bool OrderBook::cancel(OrderId id) {
  const std::uint32_t slot = live_slot(id);
  if (slot == kNil) return false;
  remove_order(slot);
  return true;
}

std::size_t OrderBook::cancel_all_of(OwnerId owner) {
  std::size_t n = 0;
  for (std::uint32_t slot = 0; slot < nodes_.size(); ++slot) {
    const RestingOrder& o = nodes_[slot].o;
    if (o.id == 0 || o.owner != owner || live_slot(o.id) != slot) continue;
    remove_order(slot);
    ++n;
  }
  return n;
}

Tick OrderBook::best_bid() const { return best_[sidx(Side::Buy)]; }
Tick OrderBook::best_ask() const { return best_[sidx(Side::Sell)]; }
bool OrderBook::empty(Side s) const { return best_[sidx(s)] == 0; }

Lots OrderBook::volume_at(Side s, Tick price) const {
  if (price < 1 || price > max_tick_) return 0;
  const std::size_t p = static_cast<std::size_t>(price);
  return bits_[sidx(s)].test(p) ? levels_[p].qty : 0;
}

Lots OrderBook::depth_within(Side s, Tick distance_ticks) const {
  const Tick best = best_[sidx(s)];
  if (best == 0 || distance_ticks < 0) return 0;
  return s == Side::Buy ? depth_between(s, best - distance_ticks, best)
                        : depth_between(s, best, best + distance_ticks);
}

Lots OrderBook::depth_between(Side s, Tick lo, Tick hi) const {
  lo = std::max<Tick>(lo, 1);
  hi = std::min<Tick>(hi, max_tick_);
  if (lo > hi) return 0;
  const detail::LevelBitmap& b = bits_[sidx(s)];
  Lots sum = 0;
  const std::size_t end = static_cast<std::size_t>(hi);
  for (std::size_t p = b.next(static_cast<std::size_t>(lo)); p != detail::LevelBitmap::npos && p <= end;
       p = b.next(p + 1))
    sum += levels_[p].qty;
  return sum;
}

void OrderBook::reset_tracked_depths() {
  for (int k = 0; k < kTrackedDepths; ++k) {
    depth_bound_[sidx(Side::Buy)][k] = max_tick_ + 1;
    depth_bound_[sidx(Side::Sell)][k] = 0;
    depth_sum_[0][k] = depth_sum_[1][k] = 0;
  }
}

Lots OrderBook::tracked_depth(Side s, int slot, Tick bound) const {
  if (slot < 0 || slot >= kTrackedDepths) throw std::out_of_range("OrderBook::tracked_depth: no such slot");
  const int si = sidx(s);
  // Bids count prices >= bound, asks prices <= bound: a bound past the grid counts what its edge
  // does, so clamping it (to [1, max_tick + 1] / [0, max_tick]) changes nothing and keeps the
  // ranges below from overflowing.
  bound = s == Side::Buy ? std::clamp<Tick>(bound, 1, max_tick_ + 1) : std::clamp<Tick>(bound, 0, max_tick_);
  Tick& old = depth_bound_[si][slot];
  Lots& sum = depth_sum_[si][slot];
  if (s == Side::Buy) {
    if (bound < old) sum += depth_between(s, bound, old - 1);  // levels brought in
    else if (bound > old) sum -= depth_between(s, old, bound - 1);  // levels taken out
  } else {
    if (bound > old) sum += depth_between(s, old + 1, bound);
    else if (bound < old) sum -= depth_between(s, bound + 1, old);
  }
  old = bound;
  return sum;
}

const RestingOrder* OrderBook::find(OrderId id) const {
  const std::uint32_t slot = live_slot(id);
  return slot == kNil ? nullptr : &nodes_[slot].o;
}

std::size_t OrderBook::order_count() const { return live_; }
Tick OrderBook::max_tick() const { return max_tick_; }
std::size_t OrderBook::pool_capacity() const { return nodes_.size(); }

void OrderBook::clear() {
  // Free every live node (bumping its generation so old ids go stale), then rebuild the free list
  // in index order.
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].o.id != 0) free_node(static_cast<std::uint32_t>(i));
  free_head_ = kNil;
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    nodes_[i].next = free_head_;
    free_head_ = static_cast<std::uint32_t>(i);
  }
  bits_[0].clear_all();
  bits_[1].clear_all();
  best_[0] = best_[1] = 0;
  reset_tracked_depths();
  live_ = 0;
}

bool OrderBook::check_invariants() const {
  if (!bits_[0].check() || !bits_[1].check()) return false;
  const std::size_t n = n_levels_;
  std::size_t counted = 0;
  Tick highest_bid = 0, lowest_ask = 0;
  for (int si = 0; si < 2; ++si) {
    const Side side = static_cast<Side>(si);
    const detail::LevelBitmap& b = bits_[si];
    for (std::size_t p = b.next(0); p != detail::LevelBitmap::npos; p = b.next(p + 1)) {
      if (p == 0 || p >= n) return false;
      if (bits_[1 - si].test(p)) return false;  // both sides rest at one tick
      const Level& lv = levels_[p];
      if (lv.head == kNil || lv.tail == kNil) return false;
      Lots sum = 0;
      std::uint32_t prev = kNil;
      std::size_t steps = 0;
      for (std::uint32_t s = lv.head; s != kNil; s = nodes_[s].next) {
        if (s >= nodes_.size() || ++steps > live_) return false;
        const Node& nd = nodes_[s];
        if (nd.o.id == 0 || (nd.o.id & 0xFFFFFFFFu) != s || (nd.o.id >> 32) == 0) return false;
        if (nd.o.side != side || nd.o.price != static_cast<Tick>(p) || nd.o.qty <= 0) return false;
        if (nd.prev != prev) return false;
        sum += nd.o.qty;
        prev = s;
      }
      if (prev != lv.tail || sum != lv.qty) return false;
      counted += steps;
      if (side == Side::Buy) highest_bid = static_cast<Tick>(p);
      else if (lowest_ask == 0) lowest_ask = static_cast<Tick>(p);
    }
  }
  if (counted != live_) return false;
  if (best_[0] != highest_bid || best_[1] != lowest_ask) return false;
  if (highest_bid != 0 && lowest_ask != 0 && highest_bid >= lowest_ask) return false;
  // Tracked depths: each slot's sum is the resting quantity within its bound.
  for (int k = 0; k < kTrackedDepths; ++k) {
    if (depth_sum_[sidx(Side::Buy)][k] != depth_between(Side::Buy, depth_bound_[sidx(Side::Buy)][k], max_tick_)) return false;
    if (depth_sum_[sidx(Side::Sell)][k] != depth_between(Side::Sell, 1, depth_bound_[sidx(Side::Sell)][k])) return false;
  }
  // Pool: live nodes + free-list length == capacity; free nodes are marked free.
  std::size_t live_nodes = 0;
  for (const Node& nd : nodes_)
    if (nd.o.id != 0) ++live_nodes;
  if (live_nodes != live_) return false;
  std::size_t free_len = 0;
  for (std::uint32_t s = free_head_; s != kNil; s = nodes_[s].next) {
    if (s >= nodes_.size() || nodes_[s].o.id != 0 || ++free_len > nodes_.size()) return false;
  }
  return free_len + live_ == nodes_.size();
}

}  // namespace sl
