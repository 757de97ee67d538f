// HDF5 results writer (C API only). See results_writer.hpp for the layout and the guarantees.
#include "sim/sweep/results_writer.hpp"

#include <hdf5.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

namespace sl {
namespace {

constexpr hsize_t kSeriesChunk = 4096;
constexpr hsize_t kLiquidationChunk = 1024;
constexpr hsize_t kSummaryChunkMaxRows = 256;
constexpr std::size_t kSummaryChunkMaxBytes = 1u << 20;
constexpr unsigned kDeflateLevel = 4;

// ---------------------------------------------------------------------------------------------------
// Error handling

// Turns HDF5's automatic error-stack printing off for the current thread (the library is built
// thread-safe, so the setting is per thread) and restores the previous handler afterwards.
class ErrorSilencer {
 public:
  ErrorSilencer() {
    if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0) saved_ = true;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~ErrorSilencer() {
    if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
  }
  ErrorSilencer(const ErrorSilencer&) = delete;
  ErrorSilencer& operator=(const ErrorSilencer&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

herr_t collect_error(unsigned n, const H5E_error2_t* err, void* client) {
  auto* out = static_cast<std::vector<std::string>*>(client);
  if (out->size() >= 8) return 0;
  std::string line = err->func_name ? std::string(err->func_name) + "(): " : std::string();
  line += err->desc ? err->desc : "";
  std::replace(line.begin(), line.end(), '\n', ' ');
  char minor[128] = {0};
  if (err->min_num > 0 && H5Eget_msg(err->min_num, nullptr, minor, sizeof minor) > 0) {
    line += std::string(" [") + minor + "]";
  }
  out->push_back(std::move(line));
  (void)n;
  return 0;
}

// HDF5's current error stack of this thread as one line (outermost call first); clears the stack.
std::string hdf5_reason() {
  std::vector<std::string> lines;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &lines);
  H5Eclear2(H5E_DEFAULT);
  if (lines.empty()) return "unknown HDF5 error";
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "; ";
    out += lines[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// RAII for hid_t

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  // Closes now; returns the closer's status (0 when there was nothing to close).
  herr_t reset() {
    herr_t status = 0;
    if (id_ >= 0 && closer_) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// ---------------------------------------------------------------------------------------------------
// Small helpers

std::string iso8601_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string creation_time() {
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(sde, &end, 10);
    if (errno == 0 && end && *end == '\0' && v >= 0) return iso8601_utc(static_cast<std::time_t>(v));
  }
  return iso8601_utc(std::time(nullptr));
}

void require_link_name(const std::string& name, const char* what) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw std::invalid_argument(std::string("results: invalid ") + what + " '" + name +
                                "' (must be non-empty, not '.', without '/')");
  }
}

void require_fits(const std::string& value, std::size_t width, const char* what) {
  if (value.size() > width || value.find('\0') != std::string::npos) {
    throw std::invalid_argument(std::string("results: ") + what + " '" + value + "' is longer than " +
                                std::to_string(width) + " bytes (or contains NUL)");
  }
}

std::string join_names(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

// ---------------------------------------------------------------------------------------------------
// Packed compound types: the same byte layout in memory and in the file (file types are explicit
// little-endian, memory types native), rows filled into a zeroed byte buffer so padding never leaks.

enum class Kind { F64, I64, U64, I32, U32, U8, Str };

struct Field {
  std::string name;
  Kind kind;
  std::size_t width = 0;  // Str only
  std::size_t offset = 0;
};

std::size_t kind_size(const Field& f) {
  switch (f.kind) {
    case Kind::F64:
    case Kind::I64:
    case Kind::U64: return 8;
    case Kind::I32:
    case Kind::U32: return 4;
    case Kind::U8: return 1;
    case Kind::Str: return f.width;
  }
  return 0;
}

class Compound {
 public:
  void add(std::string name, Kind kind, std::size_t width = 0) {
    Field f{std::move(name), kind, width, size_};
    size_ += kind_size(f);
    fields_.push_back(std::move(f));
  }
  std::size_t size() const { return size_; }
  const std::vector<Field>& fields() const { return fields_; }
  std::size_t offset(std::size_t i) const { return fields_[i].offset; }

 private:
  std::vector<Field> fields_;
  std::size_t size_ = 0;
};

// Raw row buffer writer.
class RowBuffer {
 public:
  RowBuffer(const Compound& c, std::size_t rows) : c_(c), bytes_(c.size() * rows, 0) {}
  unsigned char* data() { return bytes_.data(); }
  template <class T>
  void put(std::size_t row, std::size_t field, T v) {
    std::memcpy(bytes_.data() + row * c_.size() + c_.offset(field), &v, sizeof v);
  }
  void put_str(std::size_t row, std::size_t field, const std::string& s) {
    // The buffer is zeroed; validated to fit beforehand.
    std::memcpy(bytes_.data() + row * c_.size() + c_.offset(field), s.data(),
                std::min(s.size(), c_.fields()[field].width));
  }

 private:
  const Compound& c_;
  std::vector<unsigned char> bytes_;
};

// ---------------------------------------------------------------------------------------------------

}  // namespace

struct ResultsWriter::Impl {
  std::string final_path;
  std::string tmp_path;
  Handle file;
  Handle runs_group;
  Handle summary_ds;
  Handle summary_mem_type;
  Compound summary_layout;
  bool have_layout = false;
  std::vector<std::string> metric_names;
  std::vector<std::string> param_names;
  std::set<std::string> run_ids;
  std::size_t runs = 0;
  bool closed = false;     // the HDF5 file has been closed
  bool committed = false;  // renamed to final_path
  bool failed = false;     // an HDF5 error left the file in an unknown state

  [[noreturn]] void fail(const std::string& what) {
    std::string reason = hdf5_reason();
    failed = true;
    throw ResultsError("results file '" + final_path + "' (temp '" + tmp_path + "'): " + what + ": " +
                       reason);
  }
  hid_t check(hid_t id, const std::string& what) {
    if (id < 0) fail(what);
    return id;
  }
  void check_status(herr_t st, const std::string& what) {
    if (st < 0) fail(what);
  }
  Handle make(hid_t id, Handle::Closer closer, const std::string& what) {
    return Handle(check(id, what), closer);
  }

  // --- property lists and types -------------------------------------------------------------------
  Handle object_cpl(hid_t cls, const std::string& what) {
    Handle p = make(H5Pcreate(cls), H5Pclose, what + ": H5Pcreate");
    check_status(H5Pset_obj_track_times(p.get(), false), what + ": H5Pset_obj_track_times");
    return p;
  }
  Handle chunked_dcpl(hsize_t chunk_rows, const std::string& what) {
    Handle dcpl = object_cpl(H5P_DATASET_CREATE, what);
    check_status(H5Pset_chunk(dcpl.get(), 1, &chunk_rows), what + ": H5Pset_chunk");
    check_status(H5Pset_shuffle(dcpl.get()), what + ": H5Pset_shuffle");
    check_status(H5Pset_deflate(dcpl.get(), kDeflateLevel), what + ": H5Pset_deflate");
    return dcpl;
  }
  Handle vlen_string_type() {
    Handle t = make(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
    check_status(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size(variable)");
    check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
    return t;
  }
  Handle fixed_string_type(std::size_t width) {
    Handle t = make(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
    check_status(H5Tset_size(t.get(), width), "H5Tset_size");
    check_status(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "H5Tset_strpad");
    // Labelled ASCII (HDF5's default for C strings): HDF5 will not convert between ASCII and UTF-8
    // fixed strings, so an ASCII label lets plain C readers (H5Tcopy(H5T_C_S1)) read the fields.
    check_status(H5Tset_cset(t.get(), H5T_CSET_ASCII), "H5Tset_cset");
    return t;
  }
  Handle compound_type(const Compound& c, bool file_type) {
    Handle t = make(H5Tcreate(H5T_COMPOUND, c.size()), H5Tclose, "H5Tcreate(compound)");
    for (const Field& f : c.fields()) {
      hid_t member = H5I_INVALID_HID;
      Handle str;
      switch (f.kind) {
        case Kind::F64: member = file_type ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE; break;
        case Kind::I64: member = file_type ? H5T_STD_I64LE : H5T_NATIVE_INT64; break;
        case Kind::U64: member = file_type ? H5T_STD_U64LE : H5T_NATIVE_UINT64; break;
        case Kind::I32: member = file_type ? H5T_STD_I32LE : H5T_NATIVE_INT32; break;
        case Kind::U32: member = file_type ? H5T_STD_U32LE : H5T_NATIVE_UINT32; break;
        case Kind::U8: member = file_type ? H5T_STD_U8LE : H5T_NATIVE_UINT8; break;
        case Kind::Str:
          str = fixed_string_type(f.width);
          member = str.get();
          break;
      }
      check_status(H5Tinsert(t.get(), f.name.c_str(), f.offset, member), "H5Tinsert('" + f.name + "')");
    }
    return t;
  }

  // --- attributes -----------------------------------------------------------------------------------
  void attr(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type, const void* value) {
    Handle space = make(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate(scalar)");
    Handle a = make(H5Acreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    H5Aclose, "create attribute '" + name + "'");
    check_status(H5Awrite(a.get(), mem_type, value), "write attribute '" + name + "'");
  }
  void attr_str(hid_t loc, const std::string& name, const std::string& value) {
    Handle t = vlen_string_type();
    const char* p = value.c_str();
    attr(loc, name, t.get(), t.get(), &p);
  }
  void attr_u64(hid_t loc, const std::string& name, std::uint64_t v) {
    attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
  }
  void attr_i64(hid_t loc, const std::string& name, std::int64_t v) {
    attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
  }
  void attr_i32(hid_t loc, const std::string& name, std::int32_t v) {
    attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
  }

  Handle create_group(hid_t loc, const std::string& name) {
    Handle gcpl = object_cpl(H5P_GROUP_CREATE, "group '" + name + "'");
    return make(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose,
                "create group '" + name + "'");
  }

  // A 1-D chunked+compressed dataset of `rows` rows; extent 0 => unlimited max dims.
  Handle create_1d(hid_t loc, const std::string& name, hid_t file_type, hsize_t rows, hsize_t chunk_rows,
                   bool unlimited) {
    hsize_t dims = rows;
    hsize_t maxdims = (unlimited || rows == 0) ? H5S_UNLIMITED : rows;
    Handle space = make(H5Screate_simple(1, &dims, &maxdims), H5Sclose, "H5Screate_simple");
    Handle dcpl = chunked_dcpl(std::max<hsize_t>(chunk_rows, 1), "dataset '" + name + "'");
    return make(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                H5Dclose, "create dataset '" + name + "'");
  }

  // --- summary --------------------------------------------------------------------------------------
  void build_summary_layout(const RunResult& run) {
    summary_layout = Compound{};
    summary_layout.add("run_id", Kind::Str, kRunIdWidth);
    summary_layout.add("run_index", Kind::I64);
    summary_layout.add("policy", Kind::Str, kPolicyWidth);
    summary_layout.add("seed", Kind::U64);
    metric_names.clear();
    param_names.clear();
    for (const auto& [name, value] : run.summary) {
      summary_layout.add(name, Kind::F64);
      metric_names.push_back(name);
    }
    for (const auto& [name, value] : run.params) {
      summary_layout.add("param:" + name, Kind::Str, kParamWidth);
      param_names.push_back(name);
    }
    have_layout = true;
  }

  void create_summary() {
    Handle file_type = compound_type(summary_layout, true);
    summary_mem_type = compound_type(summary_layout, false);
    hsize_t chunk = std::clamp<hsize_t>(kSummaryChunkMaxBytes / std::max<std::size_t>(summary_layout.size(), 1),
                                        1, kSummaryChunkMaxRows);
    summary_ds = create_1d(file.get(), "summary", file_type.get(), 0, chunk, true);
  }

  void append_summary_row(const RunResult& run) {
    RowBuffer row(summary_layout, 1);
    std::size_t f = 0;
    row.put_str(0, f++, run.run_id);
    row.put<std::int64_t>(0, f++, run.run_index);
    row.put_str(0, f++, run.policy);
    row.put<std::uint64_t>(0, f++, run.seed);
    for (const auto& kv : run.summary) row.put<double>(0, f++, kv.second);
    for (const auto& kv : run.params) row.put_str(0, f++, kv.second);

    hsize_t start = runs, one = 1, new_size = runs + 1;
    check_status(H5Dset_extent(summary_ds.get(), &new_size), "extend /summary");
    Handle fspace = make(H5Dget_space(summary_ds.get()), H5Sclose, "H5Dget_space(/summary)");
    check_status(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &one, nullptr),
                 "select /summary row");
    Handle mspace = make(H5Screate_simple(1, &one, nullptr), H5Sclose, "H5Screate_simple");
    check_status(H5Dwrite(summary_ds.get(), summary_mem_type.get(), mspace.get(), fspace.get(), H5P_DEFAULT,
                          row.data()),
                 "write /summary row");
  }

  // --- validation (before anything of the run is written) ------------------------------------------
  void validate(const RunResult& run) {
    require_link_name(run.run_id, "run_id");
    require_fits(run.run_id, kRunIdWidth, "run_id");
    require_fits(run.policy, kPolicyWidth, "policy");
    if (run_ids.count(run.run_id)) {
      throw std::logic_error("results: duplicate run_id '" + run.run_id + "'");
    }
    std::set<std::string> seen;
    for (const auto& [name, value] : run.summary) {
      if (name.empty() || name == "run_id" || name == "run_index" || name == "policy" || name == "seed" ||
          name.rfind("param:", 0) == 0) {
        throw std::logic_error("results: summary metric name '" + name + "' is reserved or empty");
      }
      if (!seen.insert(name).second) throw std::logic_error("results: duplicate summary metric '" + name + "'");
    }
    seen.clear();
    for (const auto& [name, value] : run.params) {
      if (name.empty()) throw std::logic_error("results: empty params name");
      if (!seen.insert(name).second) throw std::logic_error("results: duplicate params entry '" + name + "'");
      require_fits(value, kParamWidth, ("params value of '" + name + "'").c_str());
    }
    seen.clear();
    for (const SeriesColumn& c : run.series) {
      require_link_name(c.name, "series column name");
      if (!seen.insert(c.name).second) throw std::logic_error("results: duplicate series column '" + c.name + "'");
    }
    for (const LiquidationEvent& e : run.liquidations) {
      require_fits(e.agent_type, kAgentTypeWidth, "liquidation agent_type");
      require_fits(e.policy_path, kPolicyPathWidth, "liquidation policy_path");
    }
    if (have_layout) {
      std::vector<std::string> m, p;
      for (const auto& kv : run.summary) m.push_back(kv.first);
      for (const auto& kv : run.params) p.push_back(kv.first);
      if (m != metric_names) {
        throw std::logic_error("results: run '" + run.run_id + "' has summary metrics " + join_names(m) +
                               " but this file's runs have " + join_names(metric_names));
      }
      if (p != param_names) {
        throw std::logic_error("results: run '" + run.run_id + "' has params " + join_names(p) +
                               " but this file's runs have " + join_names(param_names));
      }
    }
  }

  // --- per-run content ------------------------------------------------------------------------------
  void write_series(hid_t run_group, const RunResult& run, const PreparedSeries* prepared) {
    Handle series = create_group(run_group, "series");
    if (prepared && prepared->chunks.size() != run.series.size())
      throw std::logic_error("results: prepared series do not match the run's columns");
    for (std::size_t col = 0; col < run.series.size(); ++col) {
      const SeriesColumn& c = run.series[col];
      const hsize_t n = c.values.size();
      const hsize_t chunk_rows = std::min(n, kSeriesChunk);
      Handle ds = create_1d(series.get(), c.name, H5T_IEEE_F64LE, n, chunk_rows, false);
      if (n > 0 && prepared) {
        const auto& chunks = prepared->chunks[col];
        if (chunks.size() != (n + chunk_rows - 1) / chunk_rows)
          throw std::logic_error("results: prepared series '" + c.name + "' has the wrong number of chunks");
        for (std::size_t k = 0; k < chunks.size(); ++k) {
          const hsize_t offset = static_cast<hsize_t>(k) * chunk_rows;
          check_status(H5Dwrite_chunk(ds.get(), H5P_DEFAULT, 0, &offset, chunks[k].size(), chunks[k].data()),
                       "write series '" + c.name + "' chunk " + std::to_string(k));
        }
      } else if (n > 0) {
        check_status(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.values.data()),
                     "write series '" + c.name + "'");
      }
      attr_str(ds.get(), "unit", c.unit);
    }
  }

  static Compound liquidation_layout() {
    Compound c;
    c.add("step", Kind::I64);
    c.add("account", Kind::U32);
    c.add("agent_type", Kind::Str, kAgentTypeWidth);
    c.add("policy_path", Kind::Str, kPolicyPathWidth);
    c.add("notional", Kind::F64);
    c.add("price", Kind::F64);
    c.add("mark", Kind::F64);
    c.add("slippage_bps", Kind::F64);
    c.add("penalty", Kind::F64);
    c.add("liquidator", Kind::I32);
    c.add("steps_to_complete", Kind::I32);
    c.add("bad_debt", Kind::F64);
    c.add("endogenous", Kind::U8);
    return c;
  }

  void write_liquidations(hid_t run_group, const RunResult& run) {
    static const Compound layout = liquidation_layout();
    Handle file_type = compound_type(layout, true);
    Handle mem_type = compound_type(layout, false);
    const hsize_t n = run.liquidations.size();
    Handle ds = create_1d(run_group, "liquidations", file_type.get(), n, std::min(n, kLiquidationChunk), false);
    if (n == 0) return;
    RowBuffer rows(layout, n);
    for (std::size_t i = 0; i < n; ++i) {
      const LiquidationEvent& e = run.liquidations[i];
      std::size_t f = 0;
      rows.put<std::int64_t>(i, f++, e.step);
      rows.put<std::uint32_t>(i, f++, e.account);
      rows.put_str(i, f++, e.agent_type);
      rows.put_str(i, f++, e.policy_path);
      rows.put<double>(i, f++, e.notional);
      rows.put<double>(i, f++, e.price);
      rows.put<double>(i, f++, e.mark);
      rows.put<double>(i, f++, e.slippage_bps);
      rows.put<double>(i, f++, e.penalty);
      rows.put<std::int32_t>(i, f++, e.liquidator);
      rows.put<std::int32_t>(i, f++, e.steps_to_complete);
      rows.put<double>(i, f++, e.bad_debt);
      rows.put<std::uint8_t>(i, f++, e.endogenous ? 1 : 0);
    }
    check_status(H5Dwrite(ds.get(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()),
                 "write liquidations");
  }

  // Closes every handle and the file; returns false if HDF5 reported an error on close.
  bool close_all() {
    bool ok = true;
    ok &= summary_ds.reset() >= 0;
    ok &= summary_mem_type.reset() >= 0;
    ok &= runs_group.reset() >= 0;
    ok &= file.reset() >= 0;
    closed = true;
    return ok;
  }
};

PreparedSeries prepare_series(const RunResult& run) {
  PreparedSeries out;
  out.chunks.resize(run.series.size());
  std::vector<unsigned char> shuffled;
  for (std::size_t col = 0; col < run.series.size(); ++col) {
    const std::vector<double>& v = run.series[col].values;
    const std::size_t n = v.size();
    if (n == 0) continue;
    const std::size_t rows = std::min<std::size_t>(n, kSeriesChunk);
    const std::size_t bytes = rows * sizeof(double);
    for (std::size_t first = 0; first < n; first += rows) {
      // HDF5's shuffle filter: byte j of element i goes to position j * rows + i (rows = elements
      // per chunk; an edge chunk is a full chunk whose tail holds the fill value 0.0).
      shuffled.assign(bytes, 0);
      const std::size_t count = std::min(rows, n - first);
      for (std::size_t i = 0; i < count; ++i) {
        unsigned char b[sizeof(double)];
        std::memcpy(b, &v[first + i], sizeof(double));
        for (std::size_t j = 0; j < sizeof(double); ++j) shuffled[j * rows + i] = b[j];
      }
      // HDF5's deflate filter: one zlib stream of the whole chunk at the dataset's level.
      uLongf dst_len = compressBound(static_cast<uLong>(bytes));
      std::vector<unsigned char> dst(dst_len);
      if (compress2(dst.data(), &dst_len, shuffled.data(), static_cast<uLong>(bytes), static_cast<int>(kDeflateLevel)) != Z_OK)
        throw std::runtime_error("results: zlib compress2 failed for series '" + run.series[col].name + "'");
      dst.resize(dst_len);
      out.chunks[col].push_back(std::move(dst));
    }
  }
  return out;
}

ResultsWriter::ResultsWriter(std::string final_path, const FileAttributes& attrs) : impl_(std::make_unique<Impl>()) {
  ErrorSilencer silence;
  Impl& m = *impl_;
  m.final_path = std::move(final_path);
  m.tmp_path = m.final_path + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  try {
    Handle fapl = m.make(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate(fapl)");
    m.check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
    Handle fcpl = m.object_cpl(H5P_FILE_CREATE, "file");
    m.file = m.make(H5Fcreate(m.tmp_path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose,
                    "cannot create file");
    const hid_t root = m.file.get();
    m.attr_str(root, "tool_version", attrs.tool_version);
    m.attr_str(root, "git_commit", attrs.git_commit);
    m.attr_str(root, "scenario_json", attrs.scenario_json);
    m.attr_u64(root, "master_seed", attrs.master_seed);
    m.attr_str(root, "created_utc", creation_time());
    m.attr_i32(root, "layout_version", kResultsLayoutVersion);
    m.runs_group = m.create_group(root, "runs");
    m.check_status(H5Fflush(root, H5F_SCOPE_LOCAL), "flush");
  } catch (...) {
    // The destructor does not run for a throwing constructor: abandon here.
    const bool created = static_cast<bool>(m.file);
    m.close_all();
    if (created) std::remove(m.tmp_path.c_str());
    throw;
  }
}

ResultsWriter::~ResultsWriter() {
  if (!impl_) return;
  try {
    ErrorSilencer silence;
    Impl& m = *impl_;
    if (!m.closed) m.close_all();
    H5Eclear2(H5E_DEFAULT);
    if (!m.committed) std::remove(m.tmp_path.c_str());
  } catch (...) {
  }
}

void ResultsWriter::append(const RunResult& run, const PreparedSeries* prepared) {
  ErrorSilencer silence;
  Impl& m = *impl_;
  if (m.closed) throw std::logic_error("results: append() after commit()");
  if (m.failed) throw ResultsError("results file '" + m.final_path + "': writer failed earlier; abandon it");
  m.validate(run);
  if (!m.have_layout) {
    m.build_summary_layout(run);
    m.create_summary();
  }
  Handle group = m.create_group(m.runs_group.get(), run.run_id);
  m.attr_str(group.get(), "policy", run.policy);
  m.attr_u64(group.get(), "seed", run.seed);
  m.attr_i64(group.get(), "run_index", run.run_index);
  for (const auto& [name, value] : run.params) m.attr_str(group.get(), "param:" + name, value);
  m.write_series(group.get(), run, prepared);
  m.write_liquidations(group.get(), run);
  m.append_summary_row(run);
  group.reset();
  m.run_ids.insert(run.run_id);
  ++m.runs;
}

void ResultsWriter::set_root_attribute(const std::string& name, std::int64_t value) {
  ErrorSilencer silence;
  Impl& m = *impl_;
  if (m.closed) throw std::logic_error("results: set_root_attribute() after commit()");
  if (m.failed) throw ResultsError("results file '" + m.final_path + "': writer failed earlier; abandon it");
  m.attr_i64(m.file.get(), name, value);
}

void ResultsWriter::commit() {
  ErrorSilencer silence;
  Impl& m = *impl_;
  if (m.committed || m.closed) throw std::logic_error("results: commit() called twice");
  if (m.failed) throw ResultsError("results file '" + m.final_path + "': writer failed earlier; not committing");
  if (!m.have_layout) {
    // No runs: still provide an (empty) /summary with the fixed fields so readers need no special case.
    m.build_summary_layout(RunResult{});
    m.create_summary();
  }
  if (!m.close_all()) m.fail("closing the file");
  if (std::rename(m.tmp_path.c_str(), m.final_path.c_str()) != 0) {
    const int err = errno;
    throw ResultsError("results file '" + m.final_path + "': cannot rename '" + m.tmp_path +
                       "' into place: " + std::strerror(err));
  }
  m.committed = true;
}

std::size_t ResultsWriter::runs_written() const { return impl_->runs; }
const std::string& ResultsWriter::temp_path() const { return impl_->tmp_path; }
const std::string& ResultsWriter::final_path() const { return impl_->final_path; }
bool ResultsWriter::committed() const { return impl_->committed; }

}  // namespace sl
