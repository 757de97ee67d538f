#pragma once
#include <ostream>
#include <string>

// Sweep throughput: the documented small sweep below, through sim/sweep_runner exactly as
// `stresslab sweep` runs it (segments, merge, HDF5), into a temporary directory that is removed
// afterwards. Prints runs/s and agent-steps/s (agents x steps x runs / wall seconds).
//
// The sweep: scenarios/crash.json with horizon_steps = 900 (the crash starts at step 600), policy
// market, perp.liquidation.penalty_bps in {50, 100, 200, 400}, seeds 1..ceil(runs / 4).
// Under mpirun the runs are sharded across ranks as in a real sweep; rank 0 prints.
int run_sweep_bench(const std::string& scenario_path, int runs, int threads, std::ostream& out);
