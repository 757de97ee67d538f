// A counter-based random stream (issue #15): draw n of a stream is a pure function of the stream's
// key and n, so a population's draws can be computed in any order, in a tight loop, with no engine
// state to seed or carry per member.
//
// THE GENERATOR. counter_u64(key, n) = splitmix64(key + n x 0x9E3779B97F4A7C15) (mod 2^64), which is
// exactly output n (0-based) of the standard sequential SplitMix64 generator (Steele, Lea & Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014; the variant of Vigna's
// splitmix64.c) started from state `key`: that generator adds the golden-ratio gamma to its state
// and returns the mix of the new state, and sim/core/rng.hpp's splitmix64 adds the gamma itself.
// Seeded with 0 it gives 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, ... (test_engine_counter_rng).
// Integer arithmetic only: the same outputs on every machine, thread and rank.
//
// A population's key is derive_seed(run seed, 0, its stream id) (sim/core/rng.hpp), the same
// derivation as every other stream; member i's draw d is output i x draws_per_member + d.
#pragma once
#include <cstdint>

#include "sim/core/rng.hpp"

namespace sl {

inline constexpr std::uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ULL;

// Output n of the SplitMix64 stream started at `key`.
inline std::uint64_t counter_u64(std::uint64_t key, std::uint64_t n) { return splitmix64(key + n * kSplitMixGamma); }

// For a loop over consecutive outputs: with s = counter_state(key, n), output n + d is
// splitmix64(s + d x gamma) and the state of output n + m is s + m x gamma (all mod 2^64, so the
// same integers as counter_u64(key, n + d)); stepping s by an addition saves a multiply per output.
inline std::uint64_t counter_state(std::uint64_t key, std::uint64_t n) { return key + n * kSplitMixGamma; }

// A uniform double in (0, 1]: the top 53 bits, centred in their cell ((k + 0.5) / 2^53, k in
// [0, 2^53)), so log(u) and 1/u are always finite. k + 0.5 is rounded to a double (exact below
// 2^52, half to even above), so k = 2^53 - 1 gives exactly 1 (probability 2^-53).
inline double counter_open01(std::uint64_t x) { return (static_cast<double>(x >> 11) + 0.5) * 0x1p-53; }

}  // namespace sl
