#include "bench/bench_sweep.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "scenarios/loader.hpp"
#include "sim/app/mpi_env.hpp"
#include "sim/sweep/sweep_runner.hpp"

namespace {

std::size_t agent_count(const sl::ScenarioConfig& sc) {
  const auto& a = sc.agents;
  return 2 * sc.assets.size() * static_cast<std::size_t>(a.market_makers.count_per_venue) + a.ladders.size() +
         static_cast<std::size_t>(a.noise_traders.count + a.arbitrageurs.count + a.basis_traders.count +
                                  a.leveraged_traders.count + a.liquidators.count);
}

}  // namespace

int run_sweep_bench(const std::string& scenario_path, int runs, int threads, std::ostream& out) {
  namespace fs = std::filesystem;
  const sl::cli::MpiEnv& mpi = sl::cli::mpi_env();
  const int penalties[] = {50, 100, 200, 400};
  std::vector<sl::SweepPoint> points;
  for (int p : penalties) {
    sl::SweepPoint pt;
    pt.scenario = sl::load_scenario_file(scenario_path, {"horizon_steps=900", "perp.liquidation.penalty_bps=" + std::to_string(p)});
    pt.params = {{"penalty_bps", std::to_string(p)}};
    points.push_back(std::move(pt));
  }
  const int seeds = std::max(1, (runs + 3) / 4);
  const std::vector<sl::SweepRunSpec> plan = sl::plan_sweep(points.size(), {"market"}, 1, seeds);

  // One directory every rank agrees on (rank 0's pid is not known to the others): under the
  // working directory when launched by mpirun (shared), else a private temp directory.
  const fs::path dir = mpi.size > 1 ? fs::current_path() / "bench_sweep.tmp"
                                    : fs::temp_directory_path() / ("stresslab_bench_sweep_" + std::to_string(::getpid()));
  if (mpi.rank == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  sl::cli::mpi_barrier();
  sl::SweepOptions so;
  so.threads = threads;
  so.out_path = (dir / "bench.h5").string();
  so.mpi_rank = mpi.rank;
  so.mpi_size = mpi.size;
  so.barrier = [] { sl::cli::mpi_barrier(); };
  const auto t0 = std::chrono::steady_clock::now();
  const sl::SweepOutcome o = sl::run_sweep(points, plan, so);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (mpi.rank == 0) {
    fs::remove_all(dir);
    const double agent_steps = static_cast<double>(agent_count(points[0].scenario)) *
                               static_cast<double>(points[0].scenario.horizon_steps) * static_cast<double>(o.runs_done);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "sweep: %.2f runs/s, %.2f M agent-steps/s (%zu runs of %zu agents x %lld steps, %d thread(s)%s x %d "
                  "rank(s), %.2f s wall incl. segments and the HDF5 merge)\n",
                  static_cast<double>(o.runs_done) / secs, agent_steps / secs / 1e6, o.runs_done,
                  agent_count(points[0].scenario), static_cast<long long>(points[0].scenario.horizon_steps), threads,
                  threads == 0 ? " (all cores)" : "", mpi.size, secs);
    out << buf;
  }
  return o.complete ? 0 : 1;
}
