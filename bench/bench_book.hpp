// Order-book throughput benchmark, called by `stresslab bench`. Global namespace, like run_sim_bench.
#pragma once

#include <cstdint>
#include <ostream>

// Runs a realistic single-threaded order-book workload on a 1.2M-tick book for `seconds` of measured
// time after a warm-up: 55% limit adds around the mid (a few ticks away, geometric with mean 4, or,
// for 50-75% of adds, uniformly up to 200 ticks deep; that share steers the book to ~5000 live
// orders, since random cancels alone cannot hold a book size), 35% cancels of random live orders,
// 10% market orders sized to eat the best level and part of the next (their side leans 60/40 against
// the mid's drift, keeping the price mean-reverting). Prints one line to `out`:
//   book: 12.3 M ops/s (adds 55%, cancels 35%, market 10%), 1234 live orders avg, 2.7 fills per market order
// The operation stream depends only on the seed (the warm-up is a fixed 2M operations); only how much
// of it is measured depends on the machine. Returns 0 on success, 1 on invalid arguments.
int run_book_bench(double seconds, std::uint64_t seed, std::ostream& out);
