// Sweep execution. Phases (every rank runs them in this order; `barrier` separates them):
//   1. check: an existing parts dir needs --resume and the same plan hash (every rank sees the same
//      directory, so every rank reaches the same verdict before anything is written);
//   2. rank 0 creates the parts dir and its manifest, and removes temp files left by a kill -9;
//   3. every rank runs the runs of its shard that have no valid segment, in parallel (oneTBB),
//      each finished run going straight to its own segment file;
//   4. rank 0 merges the segments present, in run_index order, into the results file.
// Determinism: a run depends only on (scenario, policy, seed), and the file is written in run_index
// order from the segments, so neither the thread count, the rank count nor interruptions matter.
#include "sim/sweep/sweep_runner.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include "sim/market/replay_path.hpp"
#include "sim/sweep/run_store.hpp"
#include "sim/run/simulation.hpp"

namespace sl {

namespace fs = std::filesystem;

std::vector<SweepRunSpec> plan_sweep(std::size_t n_points, const std::vector<std::string>& policies,
                                     std::uint64_t first_seed, int n_seeds) {
  std::vector<SweepRunSpec> out;
  const std::size_t k = static_cast<std::size_t>(std::max(0, n_seeds));
  out.reserve(n_points * policies.size() * k);
  std::int64_t idx = 0;
  for (std::size_t p = 0; p < n_points; ++p)
    for (const std::string& pol : policies)
      for (std::size_t s = 0; s < k; ++s) out.push_back(SweepRunSpec{p, pol, first_seed + s, idx++});
  return out;
}

std::uint64_t sweep_plan_hash(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                              const std::string& build) {
  Hash64 h;
  h.str("stresslab sweep plan");
  h.u64(kSegmentFormat);
  h.str(build);
  h.u64(points.size());
  for (const SweepPoint& p : points) {
    h.str(p.scenario.source_json);
    h.u64(p.params.size());
    for (const auto& [k, v] : p.params) h.str(k), h.str(v);
  }
  h.u64(runs.size());
  for (const SweepRunSpec& r : runs) {
    h.u64(r.point);
    h.str(r.policy);
    h.u64(r.seed);
    h.u64(static_cast<std::uint64_t>(r.run_index));
  }
  return h.value();
}

namespace {

bool has_segments(const std::string& parts) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parts, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".seg") == 0) return true;
  }
  return false;
}

// Phase 1. Throws SweepError; identical on every rank.
void check_parts_dir(const std::string& parts, const std::string& out, bool resume, std::uint64_t plan_hash) {
  std::error_code ec;
  if (!fs::exists(parts, ec)) return;
  if (!fs::is_directory(parts, ec))
    throw SweepError(parts + ": exists and is not a directory; the sweep keeps its finished runs there. Remove it.");
  if (!resume)
    throw SweepError(parts + ": holds the finished runs of an earlier, interrupted run/sweep into " + out +
                     "; continue it with --resume, or delete the directory to start over");
  const std::optional<std::string> text = read_whole_file(manifest_path(parts));
  const std::optional<std::uint64_t> stored = text ? manifest_plan_hash(*text) : std::nullopt;
  if (!stored) {
    // Killed between creating the directory and writing the manifest: nothing to lose.
    if (!has_segments(parts)) return;
    throw SweepError(manifest_path(parts) + ": missing or damaged, so the runs in " + parts +
                     " cannot be matched to this sweep; delete the directory to start over");
  }
  if (*stored != plan_hash)
    throw SweepError(manifest_path(parts) + ": the sweep changed since these runs were made (scenario, --set, grid, "
                     "stresslab build, "
                     "policies or seeds differ), so they cannot be resumed; rerun the original command with "
                     "--resume, or delete " + parts + " to start over");
}

// Replayed data files are bad input (DataError, exit 2) that a run would only find when it starts:
// load each distinct one once here, on every rank, before anything is written.
void check_replay_data(const std::vector<SweepPoint>& points) {
  std::vector<std::string> seen;
  for (const SweepPoint& p : points) {
    const ScenarioConfig& sc = p.scenario;
    const std::string& src = sc.source_file;
    const std::string base_dir = src.find('/') == std::string::npos ? "" : src.substr(0, src.find_last_of('/'));
    for (const AssetConfig& ac : sc.assets) {
      if (ac.replay.file.empty()) continue;
      // Everything the load depends on except the seed (which only draws intrabar noise).
      const ReplayConfig& r = ac.replay;
      std::string key;
      for (const std::string& part :
           {base_dir, r.file, r.format, r.intrabar, r.on_gap, std::to_string(r.start_time_ms), std::to_string(r.time_shift_s),
            std::to_string(r.rescale_to_initial), std::to_string(r.rescale), std::to_string(r.intrabar_noise),
            std::to_string(ac.initial_price), std::to_string(sc.dt_s), std::to_string(sc.horizon_steps)})
        key += part + '\n';
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(std::move(key));
      load_replay_path(ac.replay, sc.dt_s, sc.horizon_steps, ac.initial_price, 0, base_dir);
    }
  }
}

// Phase 2 (rank 0).
void prepare_parts_dir(const std::string& parts, std::uint64_t plan_hash, std::size_t n_runs) {
  fs::create_directories(parts);
  // Temp files of writers killed mid-write never became segments; they are garbage now (no other
  // process of this sweep is running: every rank is waiting at the barrier that follows).
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(parts, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) stale.push_back(e.path());
  for (const auto& p : stale) fs::remove(p, ec);
  const std::string manifest = encode_manifest(plan_hash, n_runs);
  const std::optional<std::string> have = read_whole_file(manifest_path(parts));
  if (!have || *have != manifest) write_file_atomic(manifest_path(parts), manifest);
}

// An exclusive, non-blocking flock on `<parts>/lock` (the parts dir is created for it).
class ProcessLock {
 public:
  ProcessLock() = default;
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;
  ProcessLock(ProcessLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ProcessLock& operator=(ProcessLock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~ProcessLock() { release(); }
  bool held() const { return fd_ >= 0; }

  // create: make the parts dir and the lock file if missing; otherwise an absent lock file means
  // nobody holds it (returns an unheld lock).
  static ProcessLock acquire(const std::string& parts, const std::string& out, bool create = true) {
    std::error_code ec;
    if (create) fs::create_directories(parts, ec);
    ProcessLock l;
    const std::string path = parts + "/lock";
    l.fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (l.fd_ < 0 && !create && errno == ENOENT) return l;
    if (l.fd_ < 0) throw SweepError(path + ": cannot create the lock file: " + std::strerror(errno));
    if (::flock(l.fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        throw SweepError(out + ": another stresslab process is writing this output right now (lock " + path +
                         "); wait for it to finish or interrupt it, or choose another --out");
      throw SweepError(path + ": cannot lock: " + std::strerror(errno));
    }
    return l;
  }

 private:
  void release() {
    if (fd_ >= 0) ::close(fd_);  // closing drops the flock
    fd_ = -1;
  }
  int fd_ = -1;
};

// A results writer killed mid-merge (kill -9, power loss) leaves `<out>.tmp-<pid>` next to the
// output; the segments survive and this sweep redoes the merge, so such a file is garbage once its
// process is gone. Only files of processes that no longer exist on this host are removed (a live
// writer's temp file is left alone).
void remove_dead_writers_temp_files(const std::string& out_path) {
  const fs::path out = fs::absolute(fs::path(out_path));
  const std::string prefix = out.filename().string() + ".tmp-";
  std::error_code ec;
  std::vector<fs::path> dead;
  for (const auto& e : fs::directory_iterator(out.parent_path(), ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() <= prefix.size() || n.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = n.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) dead.push_back(e.path());
  }
  for (const auto& p : dead) fs::remove(p, ec);
}

}  // namespace

SweepOutcome run_sweep(const std::vector<SweepPoint>& points, const std::vector<SweepRunSpec>& runs,
                       const SweepOptions& opt) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].point >= points.size()) throw std::logic_error("run_sweep: run refers to a point that does not exist");
    if (runs[i].run_index != static_cast<std::int64_t>(i)) throw std::logic_error("run_sweep: run_index must be 0..n-1 in order");
  }
  if (opt.mpi_size < 1 || opt.mpi_rank < 0 || opt.mpi_rank >= opt.mpi_size) throw std::logic_error("run_sweep: bad MPI rank/size");
  const auto barrier = [&] {
    if (opt.mpi_size > 1 && opt.barrier) opt.barrier();
  };
  const bool root = opt.mpi_rank == 0;
  const std::string parts = parts_dir_for(opt.out_path);
  const std::uint64_t plan_hash = sweep_plan_hash(points, runs, opt.attrs.tool_version + "\n" + opt.attrs.git_commit);

  SweepOutcome outcome;
  outcome.runs_total = runs.size();

  // One process at a time per output: a second `--resume` of a sweep still running would redo its
  // runs and remove its temp files. The lock is an flock on `<parts>/lock`, held until this call
  // returns (the kernel drops it if the process dies). It is tried before the parts dir is judged,
  // so a second process is told that another one is running, not invited to delete its checkpoints.
  // Single-process runs only: under MPI a refusal on rank 0 alone would leave the other ranks
  // waiting at the barrier.
  ProcessLock lock;
  if (opt.mpi_size == 1) lock = ProcessLock::acquire(parts, opt.out_path, /*create=*/false);
  check_parts_dir(parts, opt.out_path, opt.resume, plan_hash);
  check_replay_data(points);
  if (opt.mpi_size == 1 && !lock.held()) lock = ProcessLock::acquire(parts, opt.out_path);
  barrier();
  if (root) {
    prepare_parts_dir(parts, plan_hash, runs.size());
    remove_dead_writers_temp_files(opt.out_path);
  }
  barrier();

  // Phase 3: this rank's shard; runs with a valid segment are reused.
  std::vector<std::size_t> pending;
  std::size_t mine = 0, reused = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(opt.mpi_size)) != opt.mpi_rank) continue;
    ++mine;
    if (opt.resume && read_segment(parts, runs[i].run_index, plan_hash)) {
      ++reused;
      continue;
    }
    pending.push_back(i);
  }
  {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = opt.threads > 0 ? opt.threads : hw;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    std::mutex progress_mutex;
    std::size_t done = reused;
    if (root && opt.progress) opt.progress(done, mine);
    try {
      // One run per task (grain 1, simple partitioner): runs differ in length, so dynamic scheduling
      // keeps every worker busy. A worker holds one run in memory at a time.
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, pending.size(), 1),
          [&](const tbb::blocked_range<std::size_t>& range) {
            for (std::size_t k = range.begin(); k != range.end(); ++k) {
              if (opt.cancel && opt.cancel->load()) return;
              const SweepRunSpec& spec = runs[pending[k]];
              RunOptions ro;
              ro.seed = spec.seed;
              ro.run_index = spec.run_index;
              ro.policy = spec.policy;
              ro.cancel = opt.cancel;
              RunResult r;
              try {
                r = run_simulation(points[spec.point].scenario, ro);
              } catch (const Interrupted&) {
                return;  // abandoned; redone on --resume
              }
              r.params = points[spec.point].params;
              write_segment(parts, r, plan_hash);
              std::lock_guard<std::mutex> lock(progress_mutex);
              ++done;
              if (root && opt.progress) opt.progress(done, mine);
            }
          },
          tbb::simple_partitioner());
    } catch (...) {
      // A failed run (e.g. a conservation error) ends the sweep. A parts dir holding no finished run
      // has nothing to resume: remove it so the next attempt is not refused for want of --resume.
      if (opt.mpi_size == 1 && !has_segments(parts)) {
        std::error_code ec;
        fs::remove_all(parts, ec);
      }
      throw;
    }
  }
  barrier();

  // Phase 4: merge (rank 0), one segment in memory at a time.
  if (!root) {
    outcome.runs_reused = reused;
    outcome.complete = !(opt.cancel && opt.cancel->load());
    return outcome;
  }
  ResultsWriter writer(opt.out_path, opt.attrs);
  std::size_t present = 0;
  {
    // A pipeline: segments are read, decoded and their series compressed in parallel (the bulk of
    // the merge's work), then stored by this one writer in run_index order. At most `tokens` runs
    // are in memory at once.
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // Under MPI the other ranks are done by now (they return after the barrier), so rank 0 may use
    // the cores they leave on its node: up to ranks x threads, never more than the hardware has.
    const int per_rank = opt.threads > 0 ? opt.threads : hw;
    const int threads = opt.mpi_size > 1 ? std::min(hw, per_rank * opt.mpi_size) : per_rank;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    struct Loaded {
      std::optional<RunResult> run;
      PreparedSeries series;
    };
    std::size_t next = 0;
    tbb::parallel_pipeline(
        static_cast<std::size_t>(threads) * 2,
        tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                            [&](tbb::flow_control& fc) -> std::size_t {
                                              if (next == runs.size()) {
                                                fc.stop();
                                                return 0;
                                              }
                                              return next++;
                                            }) &
            tbb::make_filter<std::size_t, std::shared_ptr<Loaded>>(
                tbb::filter_mode::parallel,
                [&](std::size_t i) {
                  auto l = std::make_shared<Loaded>();
                  l->run = read_segment(parts, runs[i].run_index, plan_hash);
                  if (l->run) l->series = prepare_series(*l->run);
                  return l;
                }) &
            tbb::make_filter<std::shared_ptr<Loaded>, void>(tbb::filter_mode::serial_in_order,
                                                            [&](const std::shared_ptr<Loaded>& l) {
                                                              if (!l->run) return;
                                                              writer.append(*l->run, &l->series);
                                                              if (opt.on_result) opt.on_result(*l->run);
                                                              ++present;
                                                            }));
  }
  outcome.runs_done = present;
  outcome.runs_reused = reused;
  outcome.complete = present == runs.size();
  writer.set_root_attribute("complete", outcome.complete ? 1 : 0);
  writer.set_root_attribute("runs_planned", static_cast<std::int64_t>(runs.size()));
  writer.commit();
  if (outcome.complete) {
    std::error_code ec;
    fs::remove_all(parts, ec);
  }
  return outcome;
}

}  // namespace sl
