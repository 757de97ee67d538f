#pragma once
#include <ostream>
#include <string>

// Venue-scale cost (issue #15): the crash scenario over 1 h of 1 s steps with 10k, 100k and 1M
// margined accounts that hold positions but do not trade (leveraged traders booked at step 0 at
// 2-3x, so the crash does not liquidate them), next to the usual active market (1,000 noise
// traders, the scenario's makers, arbitrageurs and bots). Each size runs in a child process so its
// peak RSS is its own; prints wall time, order messages/s and peak RSS per size and the wall-time
// ratio of the largest to the smallest size (the target: cost follows activity, not accounts).
int run_scale_bench(const std::string& scenario_path, std::ostream& out);
