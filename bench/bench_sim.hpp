#pragma once
#include <cstdint>
#include <ostream>
#include <string>

// Whole-simulation throughput: runs the calm scenario with `agents` noise traders for `steps`
// steps (single thread) and reports order messages processed per wall-clock second.
int run_sim_bench(const std::string& scenario_path, int agents, std::int64_t steps, std::ostream& out);
