// TEMPORARY stand-in for the sweep runner (sim/sweep_runner.hpp) so `stresslab calibrate` can be
// built and tested before the real implementation lands. DELETE THIS FILE when merging the real
// sim/sweep_runner.cpp. It implements only the part of the contract calibrate needs: plan_sweep, runs in
// parallel with oneTBB (chunks of two runs per thread, results written in run_index order, so the file
// does not depend on the thread count), params attached to every run, on_result/progress callbacks.
// Not implemented: resume (an interrupted sweep leaves no file and --resume simply reruns
// everything), MPI. On cancel it throws sl::Interrupted and the writer deletes its temp file.
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "sim/simulation.hpp"
#include "sim/sweep_runner.hpp"

namespace sl {

std::vector<SweepRunSpec> plan_sweep(std::size_t n_points, const std::vector<std::string>& policies,
                                     std::uint64_t first_seed, int n_seeds) {
  std::vector<SweepRunSpec> out;
  std::int64_t idx = 0;
  for (std::size_t p = 0; p < n_points; ++p)
    for (const auto& pol : policies)
      for (int k = 0; k < n_seeds; ++k) out.push_back(SweepRunSpec{p, pol, first_seed + static_cast<std::uint64_t>(k), idx++});
  return out;
}

SweepOutcome run_sweep(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                       const SweepOptions& opt) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = opt.threads > 0 ? opt.threads : hw;
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  ResultsWriter writer(opt.out_path, opt.attrs);
  const std::size_t chunk = static_cast<std::size_t>(threads) * 2;
  std::vector<std::optional<RunResult>> slots(chunk);
  SweepOutcome out;
  out.runs_total = runs.size();
  for (std::size_t begin = 0; begin < runs.size(); begin += chunk) {
    const std::size_t end = std::min(runs.size(), begin + chunk);
    tbb::parallel_for(begin, end, [&](std::size_t i) {
      RunOptions ro;
      ro.seed = runs[i].seed;
      ro.run_index = runs[i].run_index;
      ro.policy = runs[i].policy;
      ro.cancel = opt.cancel;
      RunResult r = run_simulation(points.at(runs[i].point).scenario, ro);
      r.params = points[runs[i].point].params;
      slots[i - begin] = std::move(r);
    });
    for (std::size_t i = begin; i < end; ++i) {
      writer.append(*slots[i - begin]);
      if (opt.on_result) opt.on_result(*slots[i - begin]);
      slots[i - begin].reset();
    }
    out.runs_done = end;
    if (opt.progress) opt.progress(end, runs.size());
    if (opt.cancel && opt.cancel->load()) throw Interrupted();
  }
  writer.commit();
  out.complete = true;
  return out;
}

}  // namespace sl
