// Output j < 156 of a seeded mt19937_64 from the three seeded words it reads: the first twist's
// x'[j] = x[j + 156] ^ (((x[j] & upper) | (x[j + 1] & lower)) >> 1) ^ ((x[j + 1] & 1) * a), tempered.
// sim/core/rng_prefix.hpp says why those three words suffice; Mt64Prefix and Mt64Lane
// (sim/core/rng_lanes.hpp) both draw through this one function, so they cannot drift apart.
#pragma once
#include <cstdint>

namespace sl {

inline std::uint64_t mt64_early_output(std::uint64_t x_j, std::uint64_t x_j1, std::uint64_t x_j156) {
  constexpr std::uint64_t kA = 0xB5026F5AA96619E9ULL;  // mt19937_64's twist matrix
  constexpr std::uint64_t kUpper = ~std::uint64_t{0} << 31, kLower = ~kUpper;
  const std::uint64_t y = (x_j & kUpper) | (x_j1 & kLower);
  std::uint64_t z = x_j156 ^ (y >> 1) ^ ((x_j1 & 1) * kA);
  z ^= (z >> 29) & 0x5555555555555555ULL;
  z ^= (z << 17) & 0x71D67FFFEDA60000ULL;
  z ^= (z << 37) & 0xFFF7EEE000000000ULL;
  z ^= z >> 43;
  return z;
}

}  // namespace sl
