#include "sim/core/rng_lanes.hpp"

#include <cstring>

namespace sl {

namespace {

constexpr std::uint64_t kF = 6364136223846793005ULL;  // mt19937_64's initialization multiplier
constexpr std::size_t kLanes = Mt64Lanes::kLanes, kDraws = Mt64Lanes::kDraws, kM = Mt64Lanes::kM;
using Low = std::uint64_t[kDraws + 1][kLanes];
using High = std::uint64_t[kDraws][kLanes];

// x[1 .. kM + kDraws - 1] from x[0] (in low[0]); only the kept words are stored.
void seed_scalar(Low& low, High& high) {
  std::uint64_t x[kLanes];
  for (std::size_t k = 0; k < kLanes; ++k) x[k] = low[0][k];
  for (std::size_t i = 1; i < kM + kDraws; ++i) {
    for (std::size_t k = 0; k < kLanes; ++k) x[k] = kF * (x[k] ^ (x[k] >> 62)) + i;
    if (i <= kDraws) std::memcpy(low[i], x, sizeof x);
    if (i >= kM) std::memcpy(high[i - kM], x, sizeof x);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_RNG_LANES_AVX512 1
using V8 = std::uint64_t __attribute__((vector_size(64)));
constexpr std::size_t kVectors = kLanes / 8;
static_assert(kLanes % 8 == 0, "whole vectors of eight lanes");

// The same recurrence on kVectors 8-lane vectors: independent chains hide the multiply's latency
// (a step is shift, xor, multiply, add: about 6 cycles of latency, one vector multiply a cycle).
__attribute__((target("avx512f,avx512dq"))) void seed_avx512(Low& low, High& high) {
  V8 v[kVectors];
  for (std::size_t k = 0; k < kVectors; ++k) std::memcpy(&v[k], &low[0][8 * k], sizeof(V8));
  std::size_t i = 1;
  for (; i <= kDraws; ++i)
    for (std::size_t k = 0; k < kVectors; ++k) {
      v[k] = kF * (v[k] ^ (v[k] >> 62)) + i;
      std::memcpy(&low[i][8 * k], &v[k], sizeof(V8));
    }
  for (; i < kM; ++i)
    for (std::size_t k = 0; k < kVectors; ++k) v[k] = kF * (v[k] ^ (v[k] >> 62)) + i;
  for (; i < kM + kDraws; ++i)
    for (std::size_t k = 0; k < kVectors; ++k) {
      v[k] = kF * (v[k] ^ (v[k] >> 62)) + i;
      std::memcpy(&high[i - kM][8 * k], &v[k], sizeof(V8));
    }
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return yes;
}
#endif

}  // namespace

void Mt64Lanes::seed(const std::uint64_t* seeds, std::size_t n, bool vectors) {
  for (std::size_t k = 0; k < kLanes; ++k) low_[0][k] = k < n ? seeds[k] : 0;
#ifdef SL_RNG_LANES_AVX512
  if (vectors && has_avx512()) {
    seed_avx512(low_, high_);
    return;
  }
#else
  (void)vectors;
#endif
  seed_scalar(low_, high_);
}

}  // namespace sl
