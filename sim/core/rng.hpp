// Random streams. Every agent (and the kernel, and each exogenous process) owns a Boost.Random
// generator seeded from (master seed, run index, stream id) through a SplitMix64 mix, so adding an
// agent never shifts another agent's draws and runs are reproducible on any thread or rank.
// Boost's distributions are used (not <random>'s) because their output is specified by the Boost
// source, identical across standard libraries.
#pragma once
#include <boost/random/mersenne_twister.hpp>
#include <cstdint>

namespace sl {

using Rng = boost::random::mt19937_64;

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Well-known stream ids; agents use kAgentStreamBase + agent id.
enum StreamId : std::uint64_t {
  kStreamKernel = 1,        // agent activation order
  kStreamReference = 2,     // exogenous reference price (shared by all policies: common random numbers)
  kStreamLiquidation = 3,   // liquidator competition order
  kStreamFlagOrder = 4,     // ties in the order flagged accounts are handed to the policy
  kStreamPassivePositions = 5,  // agents.passive_positions: one counter-based stream (sim/core/counter_rng.hpp)
  kStreamAgentBase = 1'000,
};

inline std::uint64_t derive_seed(std::uint64_t master, std::uint64_t run_index, std::uint64_t stream) {
  return splitmix64(splitmix64(splitmix64(master) ^ run_index) ^ stream);
}

inline Rng make_rng(std::uint64_t master, std::uint64_t run_index, std::uint64_t stream) {
  return Rng(derive_seed(master, run_index, stream));
}

}  // namespace sl
