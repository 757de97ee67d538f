// Mt64Prefix (sim/core/rng_prefix.hpp) gives exactly the numbers of boost's mt19937_64 of the same
// seed, draw for draw, inside the prefix it computes lazily and past it; engine() continues the
// same stream; distributions drawn through it give the same values.
#include <doctest/doctest.h>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include "sim/core/rng_prefix.hpp"

using namespace sl;

TEST_CASE("Mt64Prefix: the same 400 numbers as mt19937_64, for many seeds (the prefix is 156)") {
  for (std::uint64_t k = 0; k < 200; ++k) {
    const std::uint64_t seed = derive_seed(k, 0, kStreamAgentBase + k);
    Rng ref(seed);
    Mt64Prefix p(seed);
    for (int i = 0; i < 400; ++i) REQUIRE(p() == ref());
  }
  // Seeds with few bits set, where the seeding recurrence starts from small numbers.
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
    Rng ref(seed);
    Mt64Prefix p(seed);
    for (int i = 0; i < 320; ++i) REQUIRE(p() == ref());
  }
}

TEST_CASE("Mt64Prefix: engine() is the Rng after the same draws; distributions agree") {
  for (int n : {0, 1, 7, 155, 156, 157, 300}) {
    Rng ref(12345);
    Mt64Prefix p(12345);
    for (int i = 0; i < n; ++i) {
      ref();
      p();
    }
    Rng cont = p.engine();
    for (int i = 0; i < 50; ++i) REQUIRE(cont() == ref());
  }
  Rng ref(99);
  Mt64Prefix p(99);
  boost::random::normal_distribution<double> z(0.0, 1.0);
  boost::random::uniform_int_distribution<int> pick(0, 6);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(z(p) == z(ref));
    REQUIRE(pick(p) == pick(ref));
  }
}
