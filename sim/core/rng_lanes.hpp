// Thirty-two mt19937_64 streams seeded side by side, for a population whose members each draw a few
// numbers from their own stream at construction (issue #15: a million passive positions).
//
// Mt64Prefix (sim/core/rng_prefix.hpp) explains why output j < 156 of a seeded mt19937_64 needs
// only the seeded words x[j], x[j + 1] and x[j + 156]. Mt64Lanes runs the seeding recurrence
//     x[i] = 6364136223846793005 x (x[i-1] ^ (x[i-1] >> 62)) + i   (mod 2^64)
// of kLanes seeds at once, lane-minor so that it works on whole vectors (AVX-512: 8 lanes a
// multiply, four independent vectors; elsewhere the same loop, scalar), and keeps only the words
// the first kDraws outputs read: x[0 .. kDraws] and x[156 .. 155 + kDraws]. Mt64Lane is the engine
// of one lane: the same numbers as Rng(seed) draw for draw; past draw kDraws - 1 it continues
// with a real Rng.
// Integer arithmetic only, so every machine and instruction set gives the same numbers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sim/core/mt64_early_output.hpp"
#include "sim/core/rng.hpp"

namespace sl {

class Mt64Lanes {
 public:
  static constexpr std::size_t kLanes = 32;
  // Draws 0 .. 7 come from the kept words; a leveraged trader draws 4 or 5 (the normal's rare
  // rejections add one or two), so the full generator past them is almost never built.
  static constexpr std::size_t kDraws = 8;
  static constexpr std::size_t kM = 156;  // mt19937_64's middle distance (n - m = 312 - 156)
  // Seeds lanes 0 .. n-1 (n <= kLanes) with these seeds; the other lanes are seeded with 0.
  // `vectors`: AVX-512 where the CPU has it (false: the portable loop; the same words, for tests).
  void seed(const std::uint64_t* seeds, std::size_t n, bool vectors = true);
  // Seeded word x[i] of a lane, for i <= kDraws (low) and kM <= i < kM + kDraws (high).
  std::uint64_t low(std::size_t i, std::size_t lane) const { return low_[i][lane]; }
  std::uint64_t high(std::size_t i, std::size_t lane) const { return high_[i - kM][lane]; }
  std::uint64_t seed_of(std::size_t lane) const { return low_[0][lane]; }

 private:
  alignas(64) std::uint64_t low_[kDraws + 1][kLanes];
  alignas(64) std::uint64_t high_[kDraws][kLanes];
};

class Mt64Lane {
 public:
  using result_type = std::uint64_t;
  Mt64Lane(const Mt64Lanes& lanes, std::size_t lane) : lanes_(&lanes), lane_(lane) {}
  Mt64Lane(const Mt64Lane&) = delete;
  Mt64Lane& operator=(const Mt64Lane&) = delete;

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  result_type operator()() {
    const std::size_t j = drawn_++;
    if (j >= Mt64Lanes::kDraws) return past_words();
    return mt64_early_output(lanes_->low(j, lane_), lanes_->low(j + 1, lane_), lanes_->high(j + kM, lane_));
  }
  std::uint64_t drawn() const { return drawn_; }
  // The Rng of the same seed after the same number of draws.
  Rng engine() const {
    Rng r(lanes_->seed_of(lane_));
    r.discard(drawn_);
    return r;
  }

 private:
  static constexpr std::size_t kM = Mt64Lanes::kM;
  // Draw drawn_ - 1 from a full generator (rare: a trader draws about 5 numbers).
  result_type past_words() {
    if (!full_) {
      full_ = std::make_unique<Rng>(lanes_->seed_of(lane_));
      full_->discard(drawn_ - 1);
    }
    return (*full_)();
  }
  const Mt64Lanes* lanes_;
  std::size_t lane_;
  std::uint64_t drawn_ = 0;
  std::unique_ptr<Rng> full_;
};

}  // namespace sl
