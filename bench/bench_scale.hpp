#pragma once
#include <ostream>
#include <string>

// Venue-scale cost (issue #15): the crash scenario over 1 h of 1 s steps with 10k, 100k and 1M
// margined accounts that hold positions but do not trade, next to the usual active market (1,000
// noise traders, the scenario's makers, arbitrageurs and bots). Twice: the accounts as
// agents.passive_positions (the scenario's own leveraged traders removed; positions at 2-3x), then
// as before as leveraged traders booked at step 0 at 2-3x (each its own stream); at 2-3x the crash
// liquidates none of them. Each size runs in a child process so its peak RSS is its own; prints
// wall time, order messages/s and peak RSS per size and, per population, the wall-time ratio of
// the largest to the smallest size (the target: cost follows activity, not accounts).
// `repeat` runs of each size, taken in turn (10k, 100k, 1M, 10k, ...: a machine that slows down or
// speeds up meanwhile weighs on every size alike); each size's line is its median run, with the
// range of the wall times, and the ratio is that of the medians. On a shared machine one run of
// 0.05 s moves by half its time: single runs made ratios from 2.3 to 3.5 of the same binary.
int run_scale_bench(const std::string& scenario_path, int repeat, std::ostream& out);
