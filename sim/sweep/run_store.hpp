// Checkpoint store of a sweep: one segment file per finished run in `<out>.parts/`, plus a manifest
// naming the sweep plan the segments belong to. Segments are the unit of resume and of kill -9
// safety: each is written to a temp name, fsync'd and renamed, so a segment either exists complete
// or not at all under its final name; a damaged one (bad checksum, truncated, wrong plan) is
// reported as invalid and the run is simply done again.
//
// Segment layout (all integers little-endian as stored by this machine; the store is a scratch
// area of one sweep on one cluster, not an exchange format):
//   magic "SLSEG\r\n\x1a" (8 bytes) | format u32 | reserved u32 | run_index i64 | plan_hash u64 |
//   payload_bytes u64 | payload (RunResult, see serialize_run) | checksum u64 of everything before it
// Doubles are stored as their bit patterns, so a run read back is bit-identical to the one written.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/run/run_result.hpp"

namespace sl {

inline constexpr std::uint32_t kSegmentFormat = 1;

// 64-bit non-cryptographic hash (corruption detection and plan identity, not security).
class Hash64 {
 public:
  void bytes(const void* data, std::size_t n);
  void u64(std::uint64_t v);
  void str(std::string_view s);  // length-prefixed, so ("ab","c") and ("a","bc") differ
  std::uint64_t value() const;

 private:
  std::uint64_t h_ = 0x243f6a8885a308d3ull;
  std::uint64_t n_ = 0;
};
std::uint64_t hash64(std::string_view data);

// RunResult <-> bytes. deserialize_run returns nullopt for malformed input (never reads out of bounds).
std::string serialize_run(const RunResult& run);
std::optional<RunResult> deserialize_run(std::string_view bytes);

// The whole segment file content for one run, and its parser. parse_segment returns nullopt unless
// the magic, format, checksum, plan hash and run index all match.
std::string encode_segment(const RunResult& run, std::uint64_t plan_hash);
std::optional<RunResult> decode_segment(std::string_view file, std::uint64_t plan_hash, std::int64_t run_index);

// File names inside the parts directory.
std::string parts_dir_for(const std::string& out_path);      // "<out>.parts"
std::string segment_path(const std::string& parts_dir, std::int64_t run_index);  // ".../run-000000042.seg"
std::string manifest_path(const std::string& parts_dir);     // ".../manifest"

// Writes `content` to `path` crash-safely: temp file in the same directory, fsync, rename, fsync of
// the directory. Throws std::runtime_error naming the file on any I/O failure.
void write_file_atomic(const std::string& path, std::string_view content);
// Whole file, or nullopt if it cannot be read.
std::optional<std::string> read_whole_file(const std::string& path);

void write_segment(const std::string& parts_dir, const RunResult& run, std::uint64_t plan_hash);
// nullopt if missing or invalid.
std::optional<RunResult> read_segment(const std::string& parts_dir, std::int64_t run_index, std::uint64_t plan_hash);

// Manifest: a short text file "stresslab sweep parts\nformat 1\nplan_hash <16 hex>\nruns <n>\n".
std::string encode_manifest(std::uint64_t plan_hash, std::size_t runs);
// The plan hash recorded in a manifest, or nullopt if the text is not a manifest.
std::optional<std::uint64_t> manifest_plan_hash(std::string_view text);

}  // namespace sl
