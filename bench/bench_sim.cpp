#include "bench/bench_sim.hpp"

#include <chrono>
#include <cstdio>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"

int run_sim_bench(const std::string& scenario_path, int agents, std::int64_t steps, std::ostream& out) {
  const sl::ScenarioConfig sc = sl::load_scenario_file(
      scenario_path, {"agents.noise_traders.count=" + std::to_string(agents), "horizon_steps=" + std::to_string(steps)});
  sl::RunOptions ro;
  ro.seed = 42;
  sl::RunCounters warm;
  {  // short warm-up run so page faults and first-touch allocation are not measured
    sl::ScenarioConfig small = sc;
    small.horizon_steps = std::min<std::int64_t>(steps, 200);
    sl::run_simulation(small, ro, &warm);
  }
  sl::RunCounters c;
  const auto t0 = std::chrono::steady_clock::now();
  sl::run_simulation(sc, ro, &c);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::size_t n_agents = static_cast<std::size_t>(agents) +
                               2 * sc.assets.size() * static_cast<std::size_t>(sc.agents.market_makers.count_per_venue) +
                               sc.agents.ladders.size();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "sim: %.2f M order messages/s (%lld messages, %lld trades, %lld agent actions, %zu agents, %lld steps "
                "in %.3f s; %.0f steps/s, %.2f M agent-steps/s)\n",
                static_cast<double>(c.messages) / secs / 1e6, static_cast<long long>(c.messages),
                static_cast<long long>(c.trades), static_cast<long long>(c.agent_actions), n_agents,
                static_cast<long long>(c.steps), secs, static_cast<double>(c.steps) / secs,
                static_cast<double>(c.steps) * static_cast<double>(n_agents) / secs / 1e6);
  out << buf;
  return 0;
}
