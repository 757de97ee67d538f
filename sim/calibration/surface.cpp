#include "sim/calibration/surface.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/core/rng.hpp"

namespace sl {

double objective(const SeedMetrics& m, double lambda) {
  return m.bad_debt + m.unrealised_bad_debt + m.fund_drawdown + lambda * (m.penalties_paid + m.slippage_cost);
}

SeedMetrics seed_metrics_from_summary(const RunResult& run) {
  auto get = [&](const char* name) {
    for (const auto& [k, v] : run.summary)
      if (k == name) return v;
    throw std::runtime_error(std::string("calibration: run ") + run.run_id + " has no summary metric '" + name + "'");
  };
  SeedMetrics m;
  m.bad_debt = get("bad_debt");
  m.unrealised_bad_debt = get("underwater_equity_at_end");
  m.fund_drawdown = get("insurance_fund_drawdown");
  m.penalties_paid = get("penalties_paid");
  m.slippage_cost = get("slippage_cost");
  return m;
}

bool MetricCollector::record(std::int64_t run_index, const SeedMetrics& m) {
  if (run_index < 0 || static_cast<std::size_t>(run_index) >= seen_.size()) return false;
  const auto i = static_cast<std::size_t>(run_index);
  t_.values[i] = m;
  if (!seen_[i]) seen_[i] = 1, ++filled_;
  return true;
}

double percentile_nearest_rank(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

namespace {

// Uniform index in [0, n) from a SplitMix64 counter stream; the multiply-shift keeps it portable
// (no standard-library distribution, whose output is implementation-defined).
class IndexStream {
 public:
  explicit IndexStream(std::uint64_t seed) : state_(seed) {}
  std::size_t next(std::size_t n) {
    state_ = splitmix64(state_);
    return static_cast<std::size_t>((static_cast<unsigned __int128>(state_) * n) >> 64);
  }

 private:
  std::uint64_t state_;
};

std::size_t argmin_first(const std::vector<double>& v) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < v.size(); ++k)
    if (v[k] < v[best]) best = k;
  return best;
}

}  // namespace

CellSurface calibrate_cell(const std::vector<double>& J, const std::vector<Candidate>& candidates,
                           std::size_t n_seeds, const SurfaceOptions& opt, std::size_t cell_index) {
  const std::size_t n_cand = candidates.size();
  if (n_seeds == 0 || n_cand == 0) throw std::invalid_argument("calibration: no seeds or no candidates");
  if (J.size() != n_cand * n_seeds) throw std::invalid_argument("calibration: objective table has the wrong size");
  for (double v : J)
    if (!std::isfinite(v)) throw std::invalid_argument("calibration: non-finite objective value");
  CellSurface c;
  std::vector<double> means(n_cand);
  for (std::size_t k = 0; k < n_cand; ++k) {
    const std::vector<double> row(J.begin() + static_cast<std::ptrdiff_t>(k * n_seeds),
                                  J.begin() + static_cast<std::ptrdiff_t>((k + 1) * n_seeds));
    c.objective.push_back(mean_ci95(row));
    means[k] = c.objective.back().mean;
  }
  c.best = argmin_first(means);
  for (std::size_t k = 0; k < n_cand; ++k) {
    std::vector<double> d(n_seeds);
    for (std::size_t s = 0; s < n_seeds; ++s) d[s] = J[k * n_seeds + s] - J[c.best * n_seeds + s];
    c.paired_diff.push_back(mean_ci95(d));
    const Interval& i = c.paired_diff.back();
    c.near_optimal.push_back(k == c.best || (i.lo <= 0.0 && 0.0 <= i.hi));
  }

  // Paired seed bootstrap of the argmin.
  const int B = std::max(1, opt.bootstrap_resamples);
  IndexStream rng(splitmix64(opt.bootstrap_seed) ^ splitmix64(0xCA11B4A7E0000000ULL + cell_index));
  std::vector<std::size_t> pick(n_seeds);
  std::vector<double> sums(n_cand), pen(static_cast<std::size_t>(B)), mmr(static_cast<std::size_t>(B));
  std::vector<std::size_t> count(n_cand, 0);
  for (int b = 0; b < B; ++b) {
    for (auto& p : pick) p = rng.next(n_seeds);
    for (std::size_t k = 0; k < n_cand; ++k) {
      double s = 0;
      for (std::size_t p : pick) s += J[k * n_seeds + p];
      sums[k] = s;  // same seed count for every candidate: the sum orders like the mean
    }
    const std::size_t a = argmin_first(sums);
    ++count[a];
    pen[static_cast<std::size_t>(b)] = candidates[a].penalty_bps;
    mmr[static_cast<std::size_t>(b)] = candidates[a].mmr_bps;
  }
  for (std::size_t k = 0; k < n_cand; ++k) c.argmin_share.push_back(static_cast<double>(count[k]) / B);
  c.penalty_lo_bps = percentile_nearest_rank(pen, 0.025);
  c.penalty_hi_bps = percentile_nearest_rank(pen, 0.975);
  c.mmr_lo_bps = percentile_nearest_rank(mmr, 0.025);
  c.mmr_hi_bps = percentile_nearest_rank(std::move(mmr), 0.975);
  return c;
}

std::vector<CellSurface> calibrate(const MetricTable& t, const std::vector<Candidate>& candidates,
                                   const SurfaceOptions& opt) {
  if (candidates.size() != t.n_candidates) throw std::invalid_argument("calibration: candidate count mismatch");
  std::vector<CellSurface> out;
  out.reserve(t.n_cells);
  for (std::size_t cell = 0; cell < t.n_cells; ++cell) {
    std::vector<double> J;
    J.reserve(t.n_candidates * t.n_seeds);
    for (std::size_t k = 0; k < t.n_candidates; ++k)
      for (std::size_t s = 0; s < t.n_seeds; ++s) J.push_back(objective(t.at(cell, k, s), opt.lambda));
    CellSurface c = calibrate_cell(J, candidates, t.n_seeds, opt, cell);
    for (auto& v : c.component_mean) v.assign(t.n_candidates, 0.0);
    for (std::size_t k = 0; k < t.n_candidates; ++k) {
      for (std::size_t s = 0; s < t.n_seeds; ++s) {
        const SeedMetrics& m = t.at(cell, k, s);
        c.component_mean[0][k] += m.bad_debt;
        c.component_mean[1][k] += m.unrealised_bad_debt;
        c.component_mean[2][k] += m.fund_drawdown;
        c.component_mean[3][k] += m.penalties_paid;
        c.component_mean[4][k] += m.slippage_cost;
      }
      for (auto& v : c.component_mean) v[k] /= static_cast<double>(t.n_seeds);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sl
