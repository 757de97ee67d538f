// Mt64Prefix (sim/core/rng_prefix.hpp) gives exactly the numbers of boost's mt19937_64 of the same
// seed, draw for draw, inside the prefix it computes lazily and past it; engine() continues the
// same stream; distributions drawn through it give the same values.
#include <doctest/doctest.h>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include <vector>

#include "sim/core/rng_lanes.hpp"
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

TEST_CASE("Mt64Prefix: engine() is the Rng after the same draws - distributions agree") {
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

TEST_CASE("Mt64Prefix::seed_together: generators seeded side by side draw what each would alone") {
  std::vector<Mt64Prefix> g;
  g.reserve(5);
  for (std::uint64_t k = 0; k < 5; ++k) g.emplace_back(derive_seed(7, 0, kStreamAgentBase + k));
  g[2]();  // one already part-seeded (words up to 156): the batch starts from the least seeded
  Mt64Prefix::seed_together(g.data(), g.size(), 170);
  for (std::uint64_t k = 0; k < 5; ++k) {
    Rng ref(derive_seed(7, 0, kStreamAgentBase + k));
    if (k == 2) ref();
    for (int i = 0; i < 200; ++i) REQUIRE(g[k]() == ref());
  }
}

TEST_CASE("Mt64Lanes: each lane draws what mt19937_64 of its seed draws, within the words and past them") {
  // A full batch and a part batch (the population's last, n < kLanes: the unused lanes are seeded 0).
  // Both seeding paths: the vector one (AVX-512 where the CPU has it) and the portable loop.
  for (const bool vectors : {true, false})
  for (std::size_t n : {Mt64Lanes::kLanes, std::size_t{5}}) {
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t k = 0; k < n; ++k) seeds.push_back(derive_seed(42, 0, kStreamAgentBase + 1000 + k));
    seeds[0] = ~std::uint64_t{0};  // extreme seeds too
    if (n > 1) seeds[1] = 0;
    Mt64Lanes lanes;
    lanes.seed(seeds.data(), n, vectors);
    for (std::size_t k = 0; k < n; ++k) {
      Rng ref(seeds[k]);
      Mt64Lane lane(lanes, k);
      // kDraws = 8 draws come from the kept words; the rest from a full generator.
      for (int i = 0; i < 40; ++i) REQUIRE(lane() == ref());
    }
  }
}

TEST_CASE("Mt64Lane: engine() continues the stream - distributions agree with the Rng's") {
  const std::uint64_t seeds[2] = {777, 778};
  Mt64Lanes lanes;
  lanes.seed(seeds, 2);
  for (int n : {0, 3, 7, 8, 9, 20}) {
    Rng ref(778);
    Mt64Lane lane(lanes, 1);
    for (int i = 0; i < n; ++i) REQUIRE(lane() == ref());
    Rng cont = lane.engine();
    for (int i = 0; i < 50; ++i) REQUIRE(cont() == ref());
  }
  Rng ref(777);
  Mt64Lane lane(lanes, 0);
  boost::random::normal_distribution<double> z(0.0, 1.0);
  boost::random::uniform_int_distribution<int> pick(0, 6);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(z(lane) == z(ref));
    REQUIRE(pick(lane) == pick(ref));
  }
}
