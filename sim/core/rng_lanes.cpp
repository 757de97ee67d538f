#include "sim/core/rng_lanes.hpp"

#include <cstring>

namespace sl {

namespace {

constexpr std::uint64_t kF = 6364136223846793005ULL;  // mt19937_64's initialization multiplier
using Words = std::uint64_t[Mt64Lanes::kWords][Mt64Lanes::kLanes];

void seed_scalar(Words& w) {
  for (std::size_t i = 1; i < Mt64Lanes::kWords; ++i)
    for (std::size_t k = 0; k < Mt64Lanes::kLanes; ++k) w[i][k] = kF * (w[i - 1][k] ^ (w[i - 1][k] >> 62)) + i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_RNG_LANES_AVX512 1
using V8 = std::uint64_t __attribute__((vector_size(64)));
constexpr std::size_t kVectors = Mt64Lanes::kLanes / 8;
static_assert(Mt64Lanes::kLanes % 8 == 0, "whole vectors of eight lanes");

// The same recurrence on kVectors 8-lane vectors: independent chains hide the multiply's latency
// (a step is shift, xor, multiply, add: about 6 cycles of latency, one vector multiply a cycle).
__attribute__((target("avx512f,avx512dq"))) void seed_avx512(Words& w) {
  V8 v[kVectors];
  for (std::size_t k = 0; k < kVectors; ++k) std::memcpy(&v[k], &w[0][8 * k], sizeof(V8));
  for (std::size_t i = 1; i < Mt64Lanes::kWords; ++i) {
    for (std::size_t k = 0; k < kVectors; ++k) {
      v[k] = kF * (v[k] ^ (v[k] >> 62)) + i;
      std::memcpy(&w[i][8 * k], &v[k], sizeof(V8));
    }
  }
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return yes;
}
#endif

}  // namespace

void Mt64Lanes::seed(const std::uint64_t* seeds, std::size_t n) {
  for (std::size_t k = 0; k < kLanes; ++k) w_[0][k] = k < n ? seeds[k] : 0;
#ifdef SL_RNG_LANES_AVX512
  if (has_avx512()) {
    seed_avx512(w_);
    return;
  }
#endif
  seed_scalar(w_);
}

}  // namespace sl
