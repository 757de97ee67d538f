// HDF5 results writer: one file per `stresslab run`/sweep, layout per model.md section 8.
//
// Layout (layout_version 1):
//   /                         attrs: tool_version, git_commit, scenario_json, created_utc (variable-length
//                             UTF-8 strings), master_seed (uint64), layout_version (int32 = 1)
//   /runs/<run_id>            group; attrs: policy (str), seed (uint64), run_index (int64),
//                             "param:<name>" (str) for every params entry
//   /runs/<run_id>/series/<c> 1-D float64, chunk = min(len, 4096), shuffle + gzip(4); attr `unit` (str)
//   /runs/<run_id>/liquidations  1-D compound (LiquidationEvent fields), chunked, shuffle + gzip(4)
//   /summary                  1-D compound, unlimited max dims, chunked, shuffle + gzip(4), one row per
//                             appended run, in append order:
//                               run_id S16, run_index i64, policy S24, seed u64,
//                               <metric> f64 ... (RunResult::summary order),
//                               param:<name> S64 ... (RunResult::params order; always text, never parsed)
// Fixed-length strings are NUL-padded (a value may use every byte), labelled ASCII (bytes stored as
// given; HDF5 cannot convert ASCII<->UTF-8, and C readers default to ASCII), and must fit: a longer value is
// rejected with std::invalid_argument before anything of that run is written. Zero-length series and
// empty liquidation tables are stored as chunked datasets of extent 0 (max dims unlimited).
//
// Determinism: apart from `created_utc`, the file content is a pure function of the inputs and the
// append order (object time tracking is off); with SOURCE_DATE_EPOCH set (seconds since the epoch,
// the reproducible-builds convention) `created_utc` is that time and the whole file is byte-identical.
//
// Crash safety: the file is written as `<final_path>.tmp-<pid>` and renamed to final_path only by
// commit(); the destructor of an uncommitted writer deletes the temp file. It is not flushed after
// every append: durability of finished runs is the sweep runner's checkpoint segments' job
// (sim/sweep/run_store.hpp), and a temp file is never read after a crash.
//
// Threads: not thread-safe; one writer must be used from one thread at a time. HDF5's automatic error
// printing is switched off (per thread, restored afterwards) inside every call; errors are reported as
// sl::ResultsError carrying the file path and HDF5's error stack.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"

namespace sl {

// An I/O or HDF5 failure. what() names the file and includes HDF5's reason.
class ResultsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FileAttributes {
  std::string tool_version, git_commit, scenario_json;
  std::uint64_t master_seed = 0;
};

inline constexpr int kResultsLayoutVersion = 1;
// Fixed string widths of the compound datasets, in bytes.
inline constexpr std::size_t kRunIdWidth = 16;
inline constexpr std::size_t kPolicyWidth = 24;
inline constexpr std::size_t kParamWidth = 64;
inline constexpr std::size_t kAgentTypeWidth = 24;
inline constexpr std::size_t kPolicyPathWidth = 64;

// A run's series columns already passed through the datasets' filter pipeline (byte shuffle of the
// 8-byte values, then zlib deflate at the writer's level), chunk by chunk, edge chunks padded with
// the fill value 0.0 as HDF5 stores them. Built by prepare_series() on any thread (zlib only, no
// HDF5 call), so the compression of a sweep's merge runs in parallel while the single writer thread
// only stores the chunks (H5Dwrite_chunk). Readers cannot tell the difference: the datasets carry
// the same filters and decompress to the same values.
struct PreparedSeries {
  std::vector<std::vector<std::vector<unsigned char>>> chunks;  // [column][chunk] -> filtered bytes
};
PreparedSeries prepare_series(const RunResult& run);

class ResultsWriter {
 public:
  // Creates `<final_path>.tmp-<pid>` and writes the root attributes. Throws ResultsError on failure.
  ResultsWriter(std::string final_path, const FileAttributes& attrs);
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;
  ~ResultsWriter();  // abandons (closes and deletes the temp file) unless committed; never throws

  // Writes /runs/<run_id> and appends the run's /summary row, then flushes.
  // std::logic_error: summary/params names (or their order) differ from the first run's, duplicate
  //   run_id, duplicate names, or use after commit(). std::invalid_argument: a name is not a valid HDF5
  //   link name or a string does not fit its fixed-width field. ResultsError: HDF5/I-O failure (the
  //   writer is then unusable; destroy it to abandon the file).
  // With `prepared` (= prepare_series(run)), the series chunks are stored as given.
  void append(const RunResult& run, const PreparedSeries* prepared = nullptr);
  // Adds (or fails on a duplicate) a scalar int64 attribute on the root group, e.g. a sweep's
  // `complete` and `runs_planned`. Throws ResultsError on failure, std::logic_error after commit().
  void set_root_attribute(const std::string& name, std::int64_t value);
  // Closes the file and renames the temp file to final_path (replacing an existing file).
  void commit();

  std::size_t runs_written() const;
  const std::string& temp_path() const;
  const std::string& final_path() const;
  bool committed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sl
