// Calibration core (issue #7): from per-seed run metrics to the optimal liquidation-penalty surface.
// Pure functions on plain tables, independent of how the runs were executed (tested on synthetic
// tables with a known optimum in tests/test_calibration.cpp).
//
// Objective, per run (one cell, one candidate, one seed), quote units:
//   J = bad_debt + underwater_equity_at_end + insurance_fund_drawdown + lambda x (penalties_paid + slippage_cost)
// i.e. protocol loss (recognised bad debt, the negative equity of accounts still open at the horizon
// -- bad debt not yet recognised, without which "liquidate nothing" would score best -- and the
// fund's fall from its start to its minimum) plus lambda x what the liquidated users paid
// (penalties and execution cost against the mark).
//
// Per cell and candidate: mean and 95% Student-t interval of J over seeds. The optimum of a cell is
// the candidate with the smallest mean (ties: the first in (margin, penalty) order: the lowest margin, then the lowest penalty). Seeds are common
// random numbers (seed k is the same exogenous path and the same agents' draws at every candidate),
// so candidates are compared on paired differences: J_k - J_best per seed, with its 95% t interval
// (a candidate is "near-optimal" when that interval contains 0), and the optimum's uncertainty is a
// paired seed bootstrap: resample the seeds with replacement (one resample used for every candidate
// of the cell), take the argmin of the resampled means, and report the 2.5 / 97.5 percentiles
// (nearest rank) of the optimal penalty (and margin) over the resamples. The bootstrap stream is
// SplitMix64 from (bootstrap_seed, cell index), so results are bit-identical on every platform.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"
#include "sim/run/stats.hpp"

namespace sl {

// The run metrics the objective uses (all quote units).
struct SeedMetrics {
  double bad_debt = 0;
  double unrealised_bad_debt = 0;  // underwater_equity_at_end
  double fund_drawdown = 0;   // insurance_fund_drawdown: configured start - minimum, >= 0
  double penalties_paid = 0;
  double slippage_cost = 0;
};

inline constexpr const char* kObjectiveDefinition =
    "J = bad_debt + underwater_equity_at_end + insurance_fund_drawdown + lambda * (penalties_paid + slippage_cost), "
    "quote units per run; "
    "optimum = argmin over candidates of the mean of J over seeds";

double objective(const SeedMetrics& m, double lambda);

// Reads the four metrics from a run's summary; throws std::runtime_error naming a missing metric.
SeedMetrics seed_metrics_from_summary(const RunResult& run);

// One candidate of the grid: a penalty and, when the maintenance margin is swept, a margin.
struct Candidate {
  double penalty_bps = 0;
  double mmr_bps = 0;  // the base scenario's value when the margin is not swept
};

// All per-seed metrics of a calibration: index [(cell * n_candidates + candidate) * n_seeds + seed].
struct MetricTable {
  std::size_t n_cells = 0, n_candidates = 0, n_seeds = 0;
  std::vector<SeedMetrics> values;
  MetricTable() = default;
  MetricTable(std::size_t cells, std::size_t candidates, std::size_t seeds)
      : n_cells(cells), n_candidates(candidates), n_seeds(seeds), values(cells * candidates * seeds) {}
  SeedMetrics& at(std::size_t cell, std::size_t cand, std::size_t seed) {
    return values[(cell * n_candidates + cand) * n_seeds + seed];
  }
  const SeedMetrics& at(std::size_t cell, std::size_t cand, std::size_t seed) const {
    return values[(cell * n_candidates + cand) * n_seeds + seed];
  }
};

// Stores one run's metrics at its place in plan order: run_index = (cell * n_candidates + candidate)
// * n_seeds + seed (one policy). Counts each run once; returns false for an index outside the table.
class MetricCollector {
 public:
  explicit MetricCollector(MetricTable& table) : t_(table), seen_(table.values.size(), 0) {}
  bool record(std::int64_t run_index, const SeedMetrics& m);
  bool complete() const { return filled_ == seen_.size(); }
  std::size_t filled() const { return filled_; }

 private:
  MetricTable& t_;
  std::vector<char> seen_;
  std::size_t filled_ = 0;
};

struct SurfaceOptions {
  double lambda = 1.0;                  // weight of user cost against protocol loss
  int bootstrap_resamples = 2000;
  std::uint64_t bootstrap_seed = 7;
};

struct CellSurface {
  std::vector<Interval> objective;       // per candidate: mean and 95% t interval over seeds
  std::vector<Interval> paired_diff;     // per candidate: J_k - J_best per seed, mean and 95% t interval
  std::vector<double> argmin_share;      // per candidate: share of bootstrap resamples it was the argmin
  std::vector<bool> near_optimal;        // paired_diff interval contains 0 (the best itself: true)
  // Per candidate: means of bad_debt, unrealised_bad_debt, fund_drawdown, penalties_paid, slippage_cost.
  std::vector<double> component_mean[5];
  std::size_t best = 0;
  double penalty_lo_bps = 0, penalty_hi_bps = 0;  // bootstrap 2.5 / 97.5 percentiles of the optimal penalty
  double mmr_lo_bps = 0, mmr_hi_bps = 0;          // same for the margin
};

// One cell from its per-seed objective values J[cand * n_seeds + seed] (finite; throws
// std::invalid_argument otherwise or when n_seeds == 0). cell_index only seeds the bootstrap.
CellSurface calibrate_cell(const std::vector<double>& J, const std::vector<Candidate>& candidates,
                           std::size_t n_seeds, const SurfaceOptions& options, std::size_t cell_index);

// Every cell of a table.
std::vector<CellSurface> calibrate(const MetricTable& table, const std::vector<Candidate>& candidates,
                                   const SurfaceOptions& options);

// Nearest-rank percentile (q in (0, 1]) of values (sorted copy); NaN when empty.
double percentile_nearest_rank(std::vector<double> values, double q);

}  // namespace sl
