// The calibration surface file (HDF5, C API). Layout (calibration_layout_version 1), with
// S, D, L = sizes of the sigma, depth and latency axes, M = margins (1 when not swept), P = penalties,
// K = seeds; arrays are row-major in that order (candidate = m * P + p, cell = (s * D + d) * L + l):
//   /              attrs: tool_version, git_commit, created_utc, calibration_json (resolved calibration),
//                  scenario_json (resolved base scenario), runs_file (the sweep results file of every run,
//                  a plain stresslab results file, path relative to this file's folder),
//                  calibration_layout_version (int32 = 1)
//   /calibration   attrs: name, policy, lambda, objective (definition), first_seed, n_seeds,
//                  bootstrap_resamples, bootstrap_seed, method (how the intervals are computed)
//     sigma[S], depth[D], latency[L], penalty_bps[P], mmr_bps[M]   f64; attrs pointer, from_base / swept
//     seed[K]                                                         u64
//     objective_mean / _lo / _hi [S,D,L,M,P]      mean and 95% Student-t interval of J over seeds
//     objective_seeds [S,D,L,M,P,K]               J of every run
//     paired_diff_mean / _lo / _hi [S,D,L,M,P]    J - J(optimum) per seed: mean, 95% t interval
//     near_optimal [S,D,L,M,P] u8                 paired interval contains 0
//     argmin_share [S,D,L,M,P]                    share of bootstrap resamples where the candidate is optimal
//     bad_debt_mean, unrealised_bad_debt_mean, fund_drawdown_mean, penalties_paid_mean,
//     slippage_cost_mean [S,D,L,M,P]   the objective's parts, means over seeds
//     optimal_penalty_bps, optimal_penalty_lo_bps, optimal_penalty_hi_bps [S,D,L]
//     optimal_mmr_bps, optimal_mmr_lo_bps, optimal_mmr_hi_bps [S,D,L]
//     optimal_objective_mean / _lo / _hi [S,D,L]
// Written as `<path>.tmp-<pid>` and renamed to path when complete; on failure the temp file is removed.
#pragma once
#include <string>
#include <vector>

#include "sim/calibration/surface.hpp"
#include "sim/calibration/config.hpp"
#include "sim/sweep/results_writer.hpp"

namespace sl {

inline constexpr int kCalibrationLayoutVersion = 1;

struct CalibrationFileInputs {
  const CalibrationConfig* config = nullptr;
  const CalibrationPlan* plan = nullptr;
  const MetricTable* table = nullptr;
  const std::vector<CellSurface>* surface = nullptr;
  std::string runs_file;                  // as stored in the runs_file attribute
  std::string tool_version, git_commit;
};

// Throws ResultsError (naming the file and HDF5's reason) on failure.
void write_calibration_file(const std::string& path, const CalibrationFileInputs& in);

}  // namespace sl
