// Price-time priority limit order book (the simulator's hot path).
//
// Layout:
//  * Price levels live in one contiguous array indexed by tick (0..max_tick; tick 0 is never used).
//    A level is 16 bytes: head/tail indices of an intrusive doubly linked FIFO of order nodes plus the
//    level's total resting quantity. Whether a level is a bid or an ask level is given by which
//    side's bitmap has its bit set; the book is never crossed, so at most one side rests at a tick.
//  * Each side has a hierarchical bitmap (one bit per tick, then one bit per non-zero 64-bit word of
//    the level below, ... up to a single word), so the next non-empty level in either direction is
//    found with a handful of word operations however sparse the book is.
//  * Order nodes live in a pool (std::vector) with an intrusive free list; the pool grows by doubling
//    and never allocates per order in steady state. An OrderId is (generation << 32) | slot; a slot's
//    generation is bumped when it is freed, so stale ids are detected in O(1) with no hash map.
//    Id 0 is never valid (generations start at 1).
//  * The fill callback is a template parameter (no virtual calls, no std::function).
//
// Re-entrancy: the fill callback may call the const members of this book (it sees a consistent book:
// the current fill has not been applied yet), but it must not call cancel/limit/market/modify/clear
// on the same book. Pointers returned by find() are invalidated by any mutating call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/core/fixed_point.hpp"

namespace sl {

enum class Side : std::uint8_t { Buy = 0, Sell = 1 };
inline constexpr Side opposite(Side s) { return s == Side::Buy ? Side::Sell : Side::Buy; }

using OrderId = std::uint64_t;  // (generation << 32) | pool slot; 0 is never valid
using OwnerId = std::uint32_t;

enum class TimeInForce : std::uint8_t { GTC, IOC };

struct Fill {
  OrderId maker_order;
  OwnerId maker;
  OwnerId taker;
  Side taker_side;
  Tick price;  // the maker's (resting) price
  Lots qty;
};

enum class FillDecision : std::uint8_t { Accept, CancelMaker, StopTaker };
enum class SubmitStatus : std::uint8_t { Ok, Rejected };

struct SubmitResult {
  SubmitStatus status = SubmitStatus::Ok;
  OrderId id = 0;  // id of the resting remainder, or 0 if nothing rests
  Lots filled = 0;
  Lots rested = 0;
};

struct BookConfig {
  Tick max_tick = 1'000'000;                    // valid prices are 1..max_tick
  std::uint32_t initial_order_capacity = 1024;  // node pool grows by doubling
  // If true, a taker reaching a resting order of its own owner cancels that resting order (no fill
  // callback is made for it) and keeps matching.
  bool self_trade_prevention = false;
};

struct RestingOrder {  // a view of a live order
  OrderId id;
  OwnerId owner;
  Side side;
  Tick price;
  Lots qty;
};

namespace detail {

// Hierarchical bitmap over positions 0..n-1. Level 0 has one bit per position; level k+1 has one bit
// per word of level k, set iff that word is non-zero. The top level is a single word.
class LevelBitmap {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  LevelBitmap() = default;
  explicit LevelBitmap(std::size_t n);

  std::size_t size() const { return n_; }

  bool test(std::size_t i) const { return (lv_[0][i >> 6] >> (i & 63)) & 1u; }

  void set(std::size_t i) {
    for (std::size_t k = 0; k < lv_.size(); ++k) {
      std::uint64_t& w = lv_[k][i >> 6];
      const bool was_zero = (w == 0);
      w |= std::uint64_t{1} << (i & 63);
      if (!was_zero) return;
      i >>= 6;
    }
  }

  void reset(std::size_t i) {
    for (std::size_t k = 0; k < lv_.size(); ++k) {
      std::uint64_t& w = lv_[k][i >> 6];
      w &= ~(std::uint64_t{1} << (i & 63));
      if (w != 0) return;
      i >>= 6;
    }
  }

  // Smallest set position >= i, or npos.
  std::size_t next(std::size_t i) const {
    const std::size_t levels = lv_.size();
    std::size_t k = 0;
    for (;; ++k) {
      if (k == levels) return npos;
      const std::size_t w = i >> 6;
      if (w >= lv_[k].size()) return npos;
      const std::uint64_t m = lv_[k][w] & (~std::uint64_t{0} << (i & 63));
      if (m != 0) {
        i = (w << 6) | static_cast<std::size_t>(__builtin_ctzll(m));
        break;
      }
      i = w + 1;
    }
    while (k > 0) {
      --k;
      i = (i << 6) | static_cast<std::size_t>(__builtin_ctzll(lv_[k][i]));
    }
    return i;
  }

  // Largest set position <= i, or npos. i may be >= size().
  std::size_t prev(std::size_t i) const {
    if (n_ == 0) return npos;
    if (i >= n_) i = n_ - 1;
    const std::size_t levels = lv_.size();
    std::size_t k = 0;
    for (;; ++k) {
      if (k == levels) return npos;
      const std::size_t w = i >> 6;
      const std::uint64_t m = lv_[k][w] & (~std::uint64_t{0} >> (63 - (i & 63)));
      if (m != 0) {
        i = (w << 6) | static_cast<std::size_t>(63 - __builtin_clzll(m));
        break;
      }
      if (w == 0) return npos;
      i = w - 1;
    }
    while (k > 0) {
      --k;
      i = (i << 6) | static_cast<std::size_t>(63 - __builtin_clzll(lv_[k][i]));
    }
    return i;
  }

  void clear_all();
  bool check() const;  // every summary bit equals "word below is non-zero"; no bits past n

 private:
  std::size_t n_ = 0;
  std::vector<std::vector<std::uint64_t>> lv_;
};

}  // namespace detail

class OrderBook {
 public:
  explicit OrderBook(const BookConfig& cfg);

  // Limit order: matches against the opposite side at prices at least as good as `price`, then the
  // remainder rests (GTC) or is dropped (IOC). Rejected (nothing happens) if price is outside
  // 1..max_tick or qty <= 0.
  template <class OnFill>
  SubmitResult limit(OwnerId owner, Side side, Tick price, Lots qty, TimeInForce tif, OnFill&& on_fill);

  // Market order: matches until filled or the opposite side is empty; never rests.
  // Rejected if qty <= 0. Empty opposite side => filled = 0, status Ok.
  template <class OnFill>
  SubmitResult market(OwnerId owner, Side side, Lots qty, OnFill&& on_fill);

  bool cancel(OrderId id);  // false if unknown or stale
  // Cancels every live order of `owner` (a venue cancelling a liquidated account's orders): a scan
  // of the order pool, for rare events only. Returns the number cancelled.
  std::size_t cancel_all_of(OwnerId owner);

  // Modify a resting order (new_qty is the new remaining quantity).
  //  * unknown/stale id => Rejected.  new_qty <= 0 => the order is cancelled, {Ok, id 0}.
  //  * new price outside 1..max_tick => Rejected, order untouched.
  //  * same price and new_qty <= current qty => quantity reduced in place, time priority kept,
  //    result {Ok, same id, filled 0, rested new_qty}.
  //  * otherwise (price change or quantity increase) => cancel + re-add as a GTC limit order of the
  //    same owner and side; it loses priority, may trade if it crosses, and gets a NEW id (the old
  //    id becomes stale). The result is that of the new limit order (so if the callback returns
  //    StopTaker the order is gone: id 0, rested 0).
  template <class OnFill>
  SubmitResult modify(OrderId id, Tick new_price, Lots new_qty, OnFill&& on_fill);

  // Convenience overloads that accept every fill.
  SubmitResult limit(OwnerId owner, Side side, Tick price, Lots qty, TimeInForce tif = TimeInForce::GTC) {
    return limit(owner, side, price, qty, tif, accept_all);
  }
  SubmitResult market(OwnerId owner, Side side, Lots qty) { return market(owner, side, qty, accept_all); }
  SubmitResult modify(OrderId id, Tick new_price, Lots new_qty) { return modify(id, new_price, new_qty, accept_all); }

  Tick best_bid() const;  // 0 if no bids
  Tick best_ask() const;  // 0 if no asks
  bool empty(Side s) const;
  Lots volume_at(Side s, Tick price) const;
  // Resting quantity on side s within distance_ticks of that side's best price
  // (bids: [best_bid - d, best_bid]; asks: [best_ask, best_ask + d]); 0 if the side is empty or d < 0.
  Lots depth_within(Side s, Tick distance_ticks) const;
  // Resting quantity on side s at prices in [lo, hi].
  Lots depth_between(Side s, Tick lo, Tick hi) const;
  // Resting quantity on side s from its best price out to `bound` inclusive (bids at or above it,
  // asks at or below it): depth_between(Buy, bound, max_tick) / depth_between(Sell, 1, bound), kept
  // up to date in tracked slot `slot` (0 .. kTrackedDepths - 1) by every change of a level's
  // quantity (issue #15 item 3: the recorder's depth within 1% and 5% of the mid, updated on fills
  // and orders, not recomputed by a walk). A call walks only the levels between the slot's previous
  // bound and this one: the levels the mid's move brought in or took out.
  static constexpr int kTrackedDepths = 2;
  Lots tracked_depth(Side s, int slot, Tick bound) const;
  // Visits price levels from the best outward: f(Tick price, Lots total_qty) -> bool (false = stop).
  template <class F>
  void for_each_level(Side s, std::size_t max_levels, F&& f) const;
  const RestingOrder* find(OrderId id) const;  // nullptr if not live
  std::size_t order_count() const;
  Tick max_tick() const;
  void clear();

  std::size_t pool_capacity() const;  // number of order nodes allocated (live + free)
  bool check_invariants() const;      // full O(book size) consistency check, for tests

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  struct Level {
    std::uint32_t head;  // meaningful only while the level's bit is set in its side's bitmap
    std::uint32_t tail;
    Lots qty;
  };
  static_assert(sizeof(Level) == 16);

  // While a node is free: o.id == 0, o.owner holds the generation its next order will get, and
  // `next` links the free list.
  struct Node {
    RestingOrder o;
    std::uint32_t prev;
    std::uint32_t next;
  };

  struct AcceptAll {
    FillDecision operator()(const Fill&) const { return FillDecision::Accept; }
  };
  static constexpr AcceptAll accept_all{};

  template <class F>
  static FillDecision decide(F& f, const Fill& fill) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const Fill&>>) {
      f(fill);
      return FillDecision::Accept;
    } else {
      return f(fill);
    }
  }

  static constexpr int sidx(Side s) { return static_cast<int>(s); }

  // Slot of the live order with this id, or kNil.
  std::uint32_t live_slot(OrderId id) const {
    const std::uint64_t slot = id & 0xFFFFFFFFu;
    if (id == 0 || slot >= nodes_.size() || nodes_[slot].o.id != id) return kNil;
    return static_cast<std::uint32_t>(slot);
  }

  std::uint32_t alloc_node() {
    if (free_head_ == kNil) grow_pool();
    const std::uint32_t slot = free_head_;
    free_head_ = nodes_[slot].next;
    ++live_;
    return slot;
  }

  void free_node(std::uint32_t slot) {
    Node& n = nodes_[slot];
    std::uint32_t gen = static_cast<std::uint32_t>(n.o.id >> 32) + 1;
    if (gen == 0) gen = 1;
    n.o.id = 0;
    n.o.owner = gen;
    n.next = free_head_;
    free_head_ = slot;
    --live_;
  }

  void unlink(Level& lv, std::uint32_t slot) {
    const Node& n = nodes_[slot];
    if (n.prev != kNil) nodes_[n.prev].next = n.next; else lv.head = n.next;
    if (n.next != kNil) nodes_[n.next].prev = n.prev; else lv.tail = n.prev;
  }

  // Clears the level's bit and moves the side's best price if that level was the best.
  void level_emptied(Side s, Tick px) {
    detail::LevelBitmap& b = bits_[sidx(s)];
    b.reset(static_cast<std::size_t>(px));
    if (best_[sidx(s)] != px) return;
    const std::size_t p = (s == Side::Buy) ? b.prev(static_cast<std::size_t>(px - 1))
                                           : b.next(static_cast<std::size_t>(px + 1));
    best_[sidx(s)] = (p == detail::LevelBitmap::npos) ? 0 : static_cast<Tick>(p);
  }

  // Removes a resting order (not filled) from its level and frees it.
  void remove_order(std::uint32_t slot) {
    Node& n = nodes_[slot];
    const Tick px = n.o.price;
    const Side s = n.o.side;
    Level& lv = levels_[static_cast<std::size_t>(px)];
    unlink(lv, slot);
    lv.qty -= n.o.qty;
    level_changed(s, px, -n.o.qty);
    free_node(slot);
    if (lv.head == kNil) level_emptied(s, px);
  }

  OrderId rest(OwnerId owner, Side side, Tick price, Lots qty) {
    const std::uint32_t slot = alloc_node();
    Node& n = nodes_[slot];
    const OrderId id = (static_cast<OrderId>(n.o.owner) << 32) | slot;
    n.o = RestingOrder{id, owner, side, price, qty};
    n.next = kNil;
    Level& lv = levels_[static_cast<std::size_t>(price)];
    detail::LevelBitmap& b = bits_[sidx(side)];
    if (!b.test(static_cast<std::size_t>(price))) {
      b.set(static_cast<std::size_t>(price));
      n.prev = kNil;
      lv.head = lv.tail = slot;
      lv.qty = qty;
      level_changed(side, price, qty);
      Tick& best = best_[sidx(side)];
      if (best == 0 || (side == Side::Buy ? price > best : price < best)) best = price;
    } else {
      n.prev = lv.tail;
      nodes_[lv.tail].next = slot;
      lv.tail = slot;
      lv.qty += qty;
      level_changed(side, price, qty);
    }
    return id;
  }

  // Matches a taker against the opposite side at prices no worse than `limit_px`. Returns the filled
  // quantity; sets `stopped` if the callback returned StopTaker.
  template <class OnFill>
  Lots match(OwnerId owner, Side side, Tick limit_px, Lots qty, OnFill& on_fill, bool& stopped) {
    const Side ms = opposite(side);
    Lots remaining = qty;
    while (remaining > 0) {
      const Tick px = best_[sidx(ms)];
      if (px == 0) break;
      if (side == Side::Buy ? px > limit_px : px < limit_px) break;
      Level& lv = levels_[static_cast<std::size_t>(px)];
      std::uint32_t slot = lv.head;
      while (slot != kNil) {
        Node& n = nodes_[slot];
        const std::uint32_t next = n.next;
        if (stp_ && n.o.owner == owner) {
          unlink(lv, slot);
          lv.qty -= n.o.qty;
          level_changed(ms, px, -n.o.qty);
          free_node(slot);
          slot = next;
          continue;
        }
        const Lots q = remaining < n.o.qty ? remaining : n.o.qty;
        const FillDecision d = decide(on_fill, Fill{n.o.id, n.o.owner, owner, side, px, q});
        if (d == FillDecision::Accept) {
          remaining -= q;
          lv.qty -= q;
          level_changed(ms, px, -q);
          n.o.qty -= q;
          if (n.o.qty == 0) {
            unlink(lv, slot);
            free_node(slot);
          }
          if (remaining == 0) break;
        } else if (d == FillDecision::CancelMaker) {
          unlink(lv, slot);
          lv.qty -= n.o.qty;
          level_changed(ms, px, -n.o.qty);
          free_node(slot);
        } else {
          stopped = true;
          break;
        }
        slot = next;
      }
      if (lv.head == kNil) level_emptied(ms, px);
      if (stopped) break;
    }
    return qty - remaining;
  }

  void grow_pool();
  void grow_pool_to(std::size_t new_cap);

  // One Level per tick of the whole price range (millions of ticks for a wide range), only a few
  // hundred of which are ever touched. The array is an anonymous private mapping: the kernel hands
  // out zero pages on first touch, so building a book costs nothing per tick and a run pays only for
  // the pages near the traded prices. (Writing every level up front was a quarter of a short run's
  // time, and the page-fault lock contention it caused kept parallel runs from scaling; calloc is
  // not enough, glibc's dynamic mmap threshold makes it memset recycled heap blocks.) A level's
  // contents are meaningful only while its bit is set in its side's bitmap (rest() fills it then),
  // so no initial value is needed.
  struct LevelMapping {
    Level* data = nullptr;
    std::size_t bytes = 0;
    LevelMapping() = default;
    explicit LevelMapping(std::size_t n);
    LevelMapping(LevelMapping&& o) noexcept : data(std::exchange(o.data, nullptr)), bytes(std::exchange(o.bytes, 0)) {}
    LevelMapping& operator=(LevelMapping&& o) noexcept;
    LevelMapping(const LevelMapping&) = delete;
    LevelMapping& operator=(const LevelMapping&) = delete;
    ~LevelMapping();
    Level& operator[](std::size_t i) const { return data[i]; }
  };
  LevelMapping levels_;
  std::size_t n_levels_ = 0;
  detail::LevelBitmap bits_[2];
  std::vector<Node> nodes_;
  std::uint32_t free_head_ = kNil;
  std::size_t live_ = 0;
  Tick best_[2] = {0, 0};  // [Buy] = best bid, [Sell] = best ask; 0 = side empty
  // tracked_depth's slots: per side, the bound and the resting quantity from the best price to it
  // (a bid bound of max_tick + 1 or an ask bound of 0: nothing counted). Mutable: moving a bound is
  // part of answering the const query; the sum is the book's state either way.
  mutable Tick depth_bound_[2][kTrackedDepths];
  mutable Lots depth_sum_[2][kTrackedDepths];
  void reset_tracked_depths();
  // A level's quantity changed by delta: counted in each slot whose bound it is within (two
  // compares, no branch; the book's one cost of tracking).
  void level_changed(Side s, Tick px, Lots delta) {
    const int si = sidx(s);
    for (int k = 0; k < kTrackedDepths; ++k) {
      const bool in = s == Side::Buy ? px >= depth_bound_[si][k] : px <= depth_bound_[si][k];
      depth_sum_[si][k] += in ? delta : 0;
    }
  }
  Tick max_tick_;
  bool stp_;
};

template <class OnFill>
SubmitResult OrderBook::limit(OwnerId owner, Side side, Tick price, Lots qty, TimeInForce tif,
                              OnFill&& on_fill) {
  if (price < 1 || price > max_tick_ || qty <= 0) return SubmitResult{SubmitStatus::Rejected, 0, 0, 0};
  bool stopped = false;
  SubmitResult r;
  r.filled = match(owner, side, price, qty, on_fill, stopped);
  const Lots remaining = qty - r.filled;
  if (!stopped && remaining > 0 && tif == TimeInForce::GTC) {
    r.id = rest(owner, side, price, remaining);
    r.rested = remaining;
  }
  return r;
}

template <class OnFill>
SubmitResult OrderBook::market(OwnerId owner, Side side, Lots qty, OnFill&& on_fill) {
  if (qty <= 0) return SubmitResult{SubmitStatus::Rejected, 0, 0, 0};
  bool stopped = false;
  SubmitResult r;
  r.filled = match(owner, side, side == Side::Buy ? max_tick_ : Tick{1}, qty, on_fill, stopped);
  return r;
}

template <class OnFill>
SubmitResult OrderBook::modify(OrderId id, Tick new_price, Lots new_qty, OnFill&& on_fill) {
  const std::uint32_t slot = live_slot(id);
  if (slot == kNil) return SubmitResult{SubmitStatus::Rejected, 0, 0, 0};
  if (new_qty <= 0) {
    remove_order(slot);
    return SubmitResult{SubmitStatus::Ok, 0, 0, 0};
  }
  if (new_price < 1 || new_price > max_tick_) return SubmitResult{SubmitStatus::Rejected, 0, 0, 0};
  Node& n = nodes_[slot];
  if (new_price == n.o.price && new_qty <= n.o.qty) {
    levels_[static_cast<std::size_t>(new_price)].qty -= n.o.qty - new_qty;
    level_changed(n.o.side, new_price, new_qty - n.o.qty);
    n.o.qty = new_qty;
    return SubmitResult{SubmitStatus::Ok, id, 0, new_qty};
  }
  const OwnerId owner = n.o.owner;
  const Side side = n.o.side;
  remove_order(slot);
  return limit(owner, side, new_price, new_qty, TimeInForce::GTC, on_fill);
}

template <class F>
void OrderBook::for_each_level(Side s, std::size_t max_levels, F&& f) const {
  const detail::LevelBitmap& b = bits_[sidx(s)];
  Tick px = best_[sidx(s)];
  for (std::size_t n = 0; n < max_levels && px != 0; ++n) {
    if (!f(px, levels_[static_cast<std::size_t>(px)].qty)) return;
    const std::size_t p = (s == Side::Buy) ? b.prev(static_cast<std::size_t>(px - 1))
                                           : b.next(static_cast<std::size_t>(px + 1));
    px = (p == detail::LevelBitmap::npos) ? 0 : static_cast<Tick>(p);
  }
}

}  // namespace sl
