// The first draws of a stream without building the whole generator (issue #15: a million passive
// accounts each draw five parameters from their own stream at construction).
//
// Rng (boost::random::mt19937_64) seeded with s computes its 312-word state by a serial recurrence,
// then twists all 312 words before the first output. Output j < 156 (= n - m) is the tempered
//     x'[j] = x[j + 156] ^ (((x[j] & upper) | (x[j + 1] & lower)) >> 1) ^ ((x[j + 1] & 1) * a)
// of the seeded words x[j], x[j + 1], x[j + 156] alone (the twist writes x'[j] in index order, so
// for j < 156 those three are still the seeded values). Boost's normalize_state only rewrites the
// low 31 bits of x[0], which no output j < 156 reads (x[0] enters y through its upper bits only).
// So Mt64Prefix computes the seeded words up to j + 156 as they are needed and gives the same
// numbers; past draw 156 it continues with a real Rng advanced to the same point. engine() returns
// an Rng in exactly the state the Rng would be in after the same draws.
#pragma once
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>

#include "sim/core/mt64_early_output.hpp"
#include "sim/core/rng.hpp"

namespace sl {

class Mt64Prefix {
 public:
  using result_type = std::uint64_t;
  explicit Mt64Prefix(std::uint64_t seed) : seed_(seed) { x_[0] = seed; }
  Mt64Prefix(const Mt64Prefix& o) : seed_(o.seed_), have_(o.have_), drawn_(o.drawn_) {
    for (std::size_t i = 0; i < have_; ++i) x_[i] = o.x_[i];
    if (o.full_) full_ = std::make_unique<Rng>(*o.full_);
  }
  Mt64Prefix& operator=(const Mt64Prefix&) = delete;

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  result_type operator()() {
    if (drawn_ >= kPrefix) {
      if (!full_) {
        full_ = std::make_unique<Rng>(seed_);
        full_->discard(drawn_);
      }
      ++drawn_;
      return (*full_)();
    }
    const std::size_t j = drawn_++;
    seeded_upto(j + kM);
    return mt64_early_output(x_[j], x_[j + 1], x_[j + kM]);
  }
  std::uint64_t drawn() const { return drawn_; }
  // Computes the seeded words 0..upto (< 312) of n generators together: their recurrences are
  // independent, so interleaving them hides the multiply's latency. The same words as one by one.
  static void seed_together(Mt64Prefix* g, std::size_t n, std::size_t upto) {
    std::size_t from = upto + 1;
    for (std::size_t k = 0; k < n; ++k) from = std::min(from, g[k].have_);
    for (std::size_t i = from; i <= upto; ++i)
      for (std::size_t k = 0; k < n; ++k)
        if (g[k].have_ == i) {
          g[k].x_[i] = kF * (g[k].x_[i - 1] ^ (g[k].x_[i - 1] >> 62)) + i;
          g[k].have_ = i + 1;
        }
  }
  // The Rng of the same seed after the same number of draws.
  Rng engine() const {
    Rng r(seed_);
    r.discard(drawn_);
    return r;
  }

 private:
  static constexpr std::size_t kN = 312, kM = 156, kPrefix = kN - kM;
  static constexpr std::uint64_t kF = 6364136223846793005ULL;
  void seeded_upto(std::size_t i) {
    for (; have_ <= i; ++have_) x_[have_] = kF * (x_[have_ - 1] ^ (x_[have_ - 1] >> 62)) + have_;
  }
  std::uint64_t seed_;
  std::uint64_t x_[kN];  // seeded words 0 .. have_-1 (the rest never written)
  std::size_t have_ = 1;
  std::uint64_t drawn_ = 0;
  std::unique_ptr<Rng> full_;  // past the prefix
};

}  // namespace sl
