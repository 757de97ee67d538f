#include "bench/bench_scale.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"

namespace {

struct ScaleResult {
  double wall_s = 0;
  long long messages = 0;
  long peak_rss_kb = 0;
  double cpu_s = 0;  // the child's user + system CPU: set-up and run (wall time also counts waiting for a shared core)
  double setup_s = 0;       // of wall_s: building the world (opening and funding every account)
  double first_step_s = 0;  // of wall_s: step 0 (its mark values and indexes every margined account)
  bool ok = false;
};

// The margined accounts of one size: `passive_positions` (one counter-based stream for the
// population, agents/passive_positions.hpp) or, as measured before, `leveraged_traders` booked at
// step 0 (each trader its own mt19937_64 stream). Both at 2-3x, so the crash liquidates none of them.
enum class Population { Passive, Leveraged };

std::vector<std::string> population_sets(Population p, int accounts) {
  if (p == Population::Passive)
    return {"agents.leveraged_traders.count=0",
            "agents.passive_positions.count=" + std::to_string(accounts),
            "agents.passive_positions.leverage_min=2",
            "agents.passive_positions.leverage_max=3"};
  return {"agents.leveraged_traders.count=" + std::to_string(accounts),
          "agents.leveraged_traders.leverage_min=2",
          "agents.leveraged_traders.leverage_max=3",
          "agents.leveraged_traders.notional_mean=2000",
          "agents.leveraged_traders.entry_mode=\"initial\""};
}

// One size in a forked child: the child runs and writes (wall, messages) to a pipe; the parent
// reads them and the child's peak RSS from wait4.
ScaleResult run_size(const std::string& scenario_path, Population p, int accounts) {
  std::vector<std::string> sets{"horizon_steps=3600", "dt_s=1", "agents.noise_traders.count=1000"};
  for (std::string& s : population_sets(p, accounts)) sets.push_back(std::move(s));
  const sl::ScenarioConfig sc = sl::load_scenario_file(scenario_path, sets);  // bad input: thrown here, in the parent
  int fd[2];
  if (pipe(fd) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    close(fd[0]);
    sl::RunOptions ro;
    ro.seed = 42;
    sl::RunCounters c;
    const auto t0 = std::chrono::steady_clock::now();
    sl::run_simulation(sc, ro, &c);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double msg[4] = {secs, static_cast<double>(c.messages), c.setup_s, c.first_step_s};
    const ssize_t w = write(fd[1], msg, sizeof msg);
    _exit(w == static_cast<ssize_t>(sizeof msg) ? 0 : 1);
  }
  close(fd[1]);
  double msg[4] = {0, 0, 0, 0};
  const ssize_t r = read(fd[0], msg, sizeof msg);
  close(fd[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  ScaleResult out;
  out.ok = r == static_cast<ssize_t>(sizeof msg) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  out.wall_s = msg[0];
  out.messages = static_cast<long long>(msg[1]);
  out.setup_s = msg[2];
  out.first_step_s = msg[3];
  out.peak_rss_kb = ru.ru_maxrss;  // kilobytes on Linux
  out.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  return out;
}

}  // namespace

int run_scale_bench(const std::string& scenario_path, int repeat, std::ostream& out) {
  const int sizes[] = {10'000, 100'000, 1'000'000};
  constexpr int kSizes = 3;
  char buf[400];
  for (Population p : {Population::Passive, Population::Leveraged}) {
    const char* what = p == Population::Passive ? "passive_positions" : "leveraged_traders (each its own stream)";
    out << "scale: " << what << " (" << repeat << (repeat == 1 ? " run" : " runs") << " of each size, in turn; the median run)\n" << std::flush;
    std::vector<ScaleResult> runs[kSizes];
    double load_sum = 0;
    for (int rep = 0; rep < repeat; ++rep)
      for (int i = 0; i < kSizes; ++i) {
        const ScaleResult r = run_size(scenario_path, p, sizes[i]);
        if (!r.ok) {
          out << "scale: " << sizes[i] << " accounts: the run failed\n";
          return 1;
        }
        runs[i].push_back(r);
        double load[1] = {-1};
        getloadavg(load, 1);  // the machine's 1-minute load average (a shared machine's figures move with it)
        load_sum += load[0];
      }
    double median_wall[kSizes] = {0, 0, 0};
    for (int i = 0; i < kSizes; ++i) {
      std::vector<ScaleResult>& v = runs[i];
      std::sort(v.begin(), v.end(), [](const ScaleResult& a, const ScaleResult& b) { return a.wall_s < b.wall_s; });
      const ScaleResult& r = v[v.size() / 2];  // the median (the upper one of an even count)
      median_wall[i] = r.wall_s;
      long peak_kb = 0;
      for (const ScaleResult& x : v) peak_kb = std::max(peak_kb, x.peak_rss_kb);
      std::snprintf(buf, sizeof buf,
                    "scale: %9d margined accounts: %7.3f s for 1 h of 1 s steps (runs %.3f-%.3f s; set-up %.3f s, step 0 %.3f s, "
                    "steps 1.. %.3f s; process CPU %.2f s), %.2f M order messages/s, peak RSS %.0f MB\n",
                    sizes[i], r.wall_s, v.front().wall_s, v.back().wall_s, r.setup_s, r.first_step_s, r.wall_s - r.setup_s - r.first_step_s,
                    r.cpu_s, static_cast<double>(r.messages) / r.wall_s / 1e6, static_cast<double>(peak_kb) / 1024.0);
      out << buf;
    }
    std::snprintf(buf, sizeof buf, "scale: %s: wall-time ratio 1M / 10k accounts = %.1f (target <= 3; medians; mean load %.2f)\n", what,
                  median_wall[kSizes - 1] / median_wall[0], load_sum / (repeat * kSizes));
    out << buf << std::flush;
  }
  return 0;
}
