#include "bench/bench_book.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "sim/book/order_book.hpp"

namespace {

using namespace sl;

// xoshiro256** seeded by splitmix64: cheap enough not to dominate a ~50 ns book operation.
__extension__ typedef unsigned __int128 Wide;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& v : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      v = z ^ (z >> 31);
    }
  }
  std::uint64_t operator()() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, n) (multiply-shift; bias is negligible for the small n used here).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<Wide>((*this)()) * n) >> 64);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

constexpr Tick kMaxTick = 1'200'000;  // e.g. price 30000 at tick 0.1, times 4 headroom
constexpr Tick kAnchor = 600'000;
constexpr double kMeanDistance = 4.0;  // mean distance of near passive adds from the mid, in ticks
constexpr std::uint64_t kDeepWidth = 200;   // deep adds: uniform 1..kDeepWidth ticks from the mid
constexpr std::size_t kTargetLive = 5000;  // book size the deep share steers towards

struct Workload {
  OrderBook book{BookConfig{kMaxTick, 1u << 16, false}};
  Rng rng;
  std::vector<OrderId> live;          // ids of live orders, for random cancels
  std::vector<std::uint32_t> pos;     // pool slot -> index in `live`
  std::vector<OrderId> touched;       // makers hit by the current taker
  std::uint16_t near_distance[4096];  // geometric distance table (ticks away from the mid)
  Tick last_mid = kAnchor;
  std::uint64_t adds = 0, cancels = 0, markets = 0, fills = 0;

  explicit Workload(std::uint64_t seed) : rng(seed) {
    live.reserve(1u << 16);
    pos.resize(1u << 16);
    touched.reserve(1024);
    // Near adds: geometric distance from the mid with mean kMeanDistance ticks (d >= 1).
    const double p = 1.0 / kMeanDistance;
    for (int i = 0; i < 4096; ++i) {
      const double u = (i + 0.5) / 4096.0;
      const double d = 1.0 + std::floor(std::log(1.0 - u) / std::log(1.0 - p));
      near_distance[i] = static_cast<std::uint16_t>(std::min(d, 100.0));
    }
  }

  void track(OrderId id) {
    const std::uint32_t slot = static_cast<std::uint32_t>(id & 0xFFFFFFFFu);
    if (slot >= pos.size()) pos.resize(std::max<std::size_t>(pos.size() * 2, slot + 1));
    pos[slot] = static_cast<std::uint32_t>(live.size());
    live.push_back(id);
  }
  void untrack_index(std::size_t i) {
    const OrderId last = live.back();
    live[i] = last;
    pos[static_cast<std::uint32_t>(last & 0xFFFFFFFFu)] = static_cast<std::uint32_t>(i);
    live.pop_back();
  }
  void untrack_filled() {
    for (OrderId id : touched)
      if (book.find(id) == nullptr) untrack_index(pos[static_cast<std::uint32_t>(id & 0xFFFFFFFFu)]);
    touched.clear();
  }

  // Out of 1024: share of adds placed deep (75% while the book is below target, else 50%).
  std::uint64_t deep_cut_1024() const { return book.order_count() < kTargetLive ? 768 : 512; }

  Tick mid() {
    const Tick b = book.best_bid(), a = book.best_ask();
    if (b != 0 && a != 0) last_mid = (a + b) / 2;
    else if (b != 0) last_mid = b + 1;
    else if (a != 0) last_mid = a - 1;
    return last_mid;
  }

  void step() {
    auto on_fill = [this](const Fill& f) {
      touched.push_back(f.maker_order);
      ++fills;
      return FillDecision::Accept;
    };
    const std::uint64_t r = rng();
    const unsigned kind = static_cast<unsigned>((r & 0xFFFF) * 100 >> 16);  // 0..99
    const Side side = (r >> 16) & 1 ? Side::Buy : Side::Sell;
    if (kind < 55 || live.empty()) {
      // Passive limit add near the mid (geometric, mean kMeanDistance ticks) or, for a share of adds,
      // deeper (uniform within kDeepWidth ticks). Random cancels remove a fixed share of operations
      // whatever the book size, so the deep share is nudged (50% / 75%) to hold the book near
      // kTargetLive orders; without it the book either drains to a few dozen orders or grows
      // without bound. 1 add in 16 is marketable by a tick.
      const Tick m = mid();
      const std::uint64_t deep_cut = deep_cut_1024();
      Tick d = ((r >> 50) & 1023) < deep_cut ? 1 + static_cast<Tick>(rng.below(kDeepWidth))
                                             : near_distance[(r >> 20) & 4095];
      if (((r >> 32) & 15) == 0) d = -1;
      const Tick px = std::clamp<Tick>(side == Side::Buy ? m - d : m + 1 + d, 1, kMaxTick);
      const Lots qty = 1 + static_cast<Lots>((r >> 36) % 10);
      const SubmitResult res = book.limit(1 + static_cast<OwnerId>((r >> 40) & 255), side, px, qty,
                                          TimeInForce::GTC, on_fill);
      if (!touched.empty()) untrack_filled();
      if (res.id != 0) track(res.id);
      ++adds;
    } else if (kind < 90) {
      const std::size_t i = static_cast<std::size_t>(rng.below(live.size()));
      book.cancel(live[i]);
      untrack_index(i);
      ++cancels;
    } else {
      // Market order eating the best level and part of the next. Its side leans against the
      // mid's excursion from the anchor (60/40), which keeps the price mean-reverting.
      const Side mside = ((r >> 48) % 10 < 6) == (mid() > kAnchor) ? Side::Sell : Side::Buy;
      const Side opp = opposite(mside);
      Lots l[2] = {0, 0};
      int n = 0;
      book.for_each_level(opp, 2, [&](Tick, Lots q) {
        l[n++] = q;
        return true;
      });
      const Lots qty = std::max<Lots>(1, l[0] + l[1] * static_cast<Lots>((r >> 40) & 127) / 128);
      book.market(1000, mside, qty, on_fill);
      untrack_filled();
      ++markets;
    }
  }
};

}  // namespace

int run_book_bench(double seconds, std::uint64_t seed, std::ostream& out) {
  if (!(seconds > 0.0) || !std::isfinite(seconds)) {
    out << "book: invalid benchmark duration\n";
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  Workload w(seed);
  constexpr int kBatch = 1024;

  // Warm-up (a fixed number of operations, so the measured stream depends only on the seed): builds
  // the book to its steady state (~kTargetLive orders) and warms caches and branch predictors.
  for (int i = 0; i < 2'000'000; ++i) w.step();

  w.adds = w.cancels = w.markets = w.fills = 0;
  std::uint64_t ops = 0, live_sum = 0, samples = 0;
  const auto t0 = Clock::now();
  double elapsed = 0.0;
  do {
    for (int i = 0; i < kBatch; ++i) w.step();
    ops += kBatch;
    live_sum += w.book.order_count();
    ++samples;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);

  const double mops = static_cast<double>(ops) / elapsed / 1e6;
  const double pct = 100.0 / static_cast<double>(ops);
  char line[256];
  std::snprintf(line, sizeof line,
                "book: %.1f M ops/s (adds %.0f%%, cancels %.0f%%, market %.0f%%), %llu live orders avg, "
                "%.1f fills per market order\n",
                mops,
                static_cast<double>(w.adds) * pct, static_cast<double>(w.cancels) * pct,
                static_cast<double>(w.markets) * pct,
                static_cast<unsigned long long>(samples ? live_sum / samples : 0),
                w.markets ? static_cast<double>(w.fills) / static_cast<double>(w.markets) : 0.0);
  out << line;
  return 0;
}
