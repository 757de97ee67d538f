// Tests of the HDF5 results writer: write with sl::ResultsWriter, read back with the raw HDF5 C API.
// Set STRESSLAB_KEEP_H5=<path> to keep a copy of the two-run file (e.g. to try tests/py checks on it).
#include <doctest/doctest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "sim/sweep/results_writer.hpp"

#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace sl;

namespace {

struct TempDir : sl::test::TempDir {
  TempDir() : sl::test::TempDir("sl_test_results") {}
};

// Minimal RAII for the reading side of the tests.
struct H {
  hid_t id;
  herr_t (*close)(hid_t);
  H(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) { REQUIRE(id >= 0); }
  ~H() { if (id >= 0) close(id); }
  H(const H&) = delete;
  H& operator=(const H&) = delete;
  operator hid_t() const { return id; }
};

FileAttributes test_attrs() {
  FileAttributes a;
  a.tool_version = "0.1.0-test";
  a.git_commit = "abcdef123456";
  a.scenario_json = R"({"name":"unit","seed":42,"dt_s":1.0})";
  a.master_seed = 0xFFFF'FFFF'FFFF'FF01ull;  // above INT64_MAX: must survive as uint64
  return a;
}

RunResult make_run(const std::string& id, std::int64_t index, std::size_t n_steps, std::size_t n_liq) {
  RunResult r;
  r.run_id = id;
  r.run_index = index;
  r.policy = index % 2 ? "dutch" : "market";
  r.seed = 1000 + static_cast<std::uint64_t>(index);
  r.params = {{"policy.penalty_bps", std::to_string(50 + index)}, {"label", "x" + id}};
  SeriesColumn t{"time_s", "s", {}}, ref{"reference", "quote", {}};
  for (std::size_t i = 0; i < n_steps; ++i) {
    t.values.push_back(static_cast<double>(i + 1));
    ref.values.push_back(30000.0 + static_cast<double>(index) * 100.0 + static_cast<double>(i) * 0.5);
  }
  r.series = {t, ref};
  for (std::size_t i = 0; i < n_liq; ++i) {
    LiquidationEvent e;
    e.step = static_cast<std::int64_t>(10 * i + 3);
    e.account = static_cast<std::uint32_t>(7 + i);
    e.agent_type = i % 2 ? "basis_trader" : "leveraged_long";
    e.policy_path = i % 2 ? "dutch>insurance" : "market";
    e.notional = 1234.5 * static_cast<double>(i + 1);
    e.price = 29950.25;
    e.mark = 30000.0;
    e.slippage_bps = 16.58;
    e.penalty = 12.5;
    e.liquidator = i % 2 ? 42 : -1;
    e.steps_to_complete = static_cast<std::int32_t>(i);
    e.bad_debt = i == 1 ? 99.75 : 0.0;
    e.endogenous = i % 2 == 1;
    r.liquidations.push_back(e);
  }
  r.summary = {{"max_drawdown", 0.125 + static_cast<double>(index)},
               {"bad_debt_total", 99.75 * static_cast<double>(index)},
               {"n_liquidations", static_cast<double>(n_liq)}};
  return r;
}

std::string read_str_attr(hid_t loc, const char* name) {
  H a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  H ft(H5Aget_type(a), H5Tclose);
  REQUIRE(H5Tget_class(ft) == H5T_STRING);
  CHECK(H5Tis_variable_str(ft) > 0);
  CHECK(H5Tget_cset(ft) == H5T_CSET_UTF8);
  H mt(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mt, H5T_VARIABLE);
  H5Tset_cset(mt, H5T_CSET_UTF8);
  char* p = nullptr;
  REQUIRE(H5Aread(a, mt, &p) >= 0);
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

template <class T>
T read_num_attr(hid_t loc, const char* name, hid_t expected_file_type, hid_t mem_type) {
  H a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  H ft(H5Aget_type(a), H5Tclose);
  CHECK(H5Tequal(ft, expected_file_type) > 0);
  T v{};
  REQUIRE(H5Aread(a, mem_type, &v) >= 0);
  return v;
}

struct FilterInfo {
  bool chunked = false;
  hsize_t chunk = 0;
  bool shuffle = false;
  bool deflate = false;
  unsigned deflate_level = 0;
};

FilterInfo filters_of(hid_t ds) {
  FilterInfo fi;
  H dcpl(H5Dget_create_plist(ds), H5Pclose);
  fi.chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
  if (!fi.chunked) return fi;
  REQUIRE(H5Pget_chunk(dcpl, 1, &fi.chunk) == 1);
  int n = H5Pget_nfilters(dcpl);
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, cd[8] = {0};
    size_t ncd = 8;
    char name[64];
    unsigned config = 0;
    H5Z_filter_t f = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &ncd, cd, sizeof name, name, &config);
    if (f == H5Z_FILTER_SHUFFLE) fi.shuffle = true;
    if (f == H5Z_FILTER_DEFLATE) {
      fi.deflate = true;
      fi.deflate_level = ncd > 0 ? cd[0] : 0;
    }
  }
  return fi;
}

hsize_t extent_1d(hid_t ds) {
  H space(H5Dget_space(ds), H5Sclose);
  REQUIRE(H5Sget_simple_extent_ndims(space) == 1);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  return n;
}

std::vector<double> read_series(hid_t file, const std::string& path) {
  H ds(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  H ft(H5Dget_type(ds), H5Tclose);
  CHECK(H5Tequal(ft, H5T_IEEE_F64LE) > 0);
  std::vector<double> v(extent_1d(ds));
  if (!v.empty()) REQUIRE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  return v;
}

bool link_exists(hid_t loc, const char* path) { return H5Lexists(loc, path, H5P_DEFAULT) > 0; }

hid_t fixed_str(std::size_t n) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, n);
  H5Tset_strpad(t, H5T_STR_NULLPAD);  // cset ASCII, as the writer labels fixed-width fields
  return t;
}

// Memory-side mirror of the liquidation row, read by field name through HDF5's conversion.
struct LiqRow {
  std::int64_t step;
  std::uint32_t account;
  char agent_type[24];
  char policy_path[64];
  double notional, price, mark, slippage_bps, penalty;
  std::int32_t liquidator, steps_to_complete;
  double bad_debt;
  std::uint8_t endogenous;
};

std::vector<LiqRow> read_liquidations(hid_t file, const std::string& path) {
  H ds(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  H ft(H5Dget_type(ds), H5Tclose);
  REQUIRE(H5Tget_class(ft) == H5T_COMPOUND);
  CHECK(H5Tget_nmembers(ft) == 13);
  H s24(fixed_str(24), H5Tclose), s64(fixed_str(64), H5Tclose);
  H mt(H5Tcreate(H5T_COMPOUND, sizeof(LiqRow)), H5Tclose);
  H5Tinsert(mt, "step", HOFFSET(LiqRow, step), H5T_NATIVE_INT64);
  H5Tinsert(mt, "account", HOFFSET(LiqRow, account), H5T_NATIVE_UINT32);
  H5Tinsert(mt, "agent_type", HOFFSET(LiqRow, agent_type), s24);
  H5Tinsert(mt, "policy_path", HOFFSET(LiqRow, policy_path), s64);
  H5Tinsert(mt, "notional", HOFFSET(LiqRow, notional), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "price", HOFFSET(LiqRow, price), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "mark", HOFFSET(LiqRow, mark), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "slippage_bps", HOFFSET(LiqRow, slippage_bps), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "penalty", HOFFSET(LiqRow, penalty), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "liquidator", HOFFSET(LiqRow, liquidator), H5T_NATIVE_INT32);
  H5Tinsert(mt, "steps_to_complete", HOFFSET(LiqRow, steps_to_complete), H5T_NATIVE_INT32);
  H5Tinsert(mt, "bad_debt", HOFFSET(LiqRow, bad_debt), H5T_NATIVE_DOUBLE);
  H5Tinsert(mt, "endogenous", HOFFSET(LiqRow, endogenous), H5T_NATIVE_UINT8);
  std::vector<LiqRow> rows(extent_1d(ds));
  if (!rows.empty()) {
    herr_t st = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data());
    if (st < 0) H5Eprint2(H5E_DEFAULT, stderr);
    REQUIRE(st >= 0);
  }
  return rows;
}

std::string fixed_field(const char* p, std::size_t n) { return std::string(p, strnlen(p, n)); }

// Type of a named member of a compound dataset's file type.
struct MemberInfo {
  H5T_class_t cls = H5T_NO_CLASS;
  std::size_t size = 0;
  bool found = false;
};

MemberInfo member_info(hid_t compound, const char* name, hid_t expect_equal = H5I_INVALID_HID,
                       bool* equal = nullptr) {
  MemberInfo mi;
  int idx = H5Tget_member_index(compound, name);
  if (idx < 0) return mi;
  mi.found = true;
  H t(H5Tget_member_type(compound, static_cast<unsigned>(idx)), H5Tclose);
  mi.cls = H5Tget_class(t);
  mi.size = H5Tget_size(t);
  if (equal) *equal = H5Tequal(t, expect_equal) > 0;
  return mi;
}

// True when `compound` has a member `name` of exactly the HDF5 type `type`.
bool has_member_type(hid_t compound, const char* name, hid_t type) {
  bool equal = false;
  return member_info(compound, name, type, &equal).found && equal;
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("two runs round-trip through the HDF5 layout") {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  TempDir dir;
  const std::string path = dir.file("out.h5");
  FileAttributes attrs = test_attrs();
  {
    ResultsWriter w(path, attrs);
    CHECK(w.temp_path() == path + ".tmp-" + std::to_string(::getpid()));
    CHECK(fs::exists(w.temp_path()));
    CHECK_FALSE(fs::exists(path));
    w.append(make_run("000000", 0, 5000, 3));  // > one series chunk
    w.append(make_run("000001", 1, 10, 2));
    CHECK(w.runs_written() == 2);
    w.commit();
    CHECK(w.committed());
    CHECK_FALSE(fs::exists(w.temp_path()));
  }
  REQUIRE(fs::exists(path));
  CHECK(dir.entries() == 1);
  if (const char* keep = std::getenv("STRESSLAB_KEEP_H5"); keep && *keep) {
    fs::copy_file(path, keep, fs::copy_options::overwrite_existing);
  }

  H file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);

  SUBCASE("root attributes") {
    CHECK(read_str_attr(file, "tool_version") == attrs.tool_version);
    CHECK(read_str_attr(file, "git_commit") == attrs.git_commit);
    CHECK(read_str_attr(file, "scenario_json") == attrs.scenario_json);
    const std::string created = read_str_attr(file, "created_utc");
    CHECK(created.size() == 20);
    CHECK(created[10] == 'T');
    CHECK(created.back() == 'Z');
    CHECK(read_num_attr<std::uint64_t>(file, "master_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64) == attrs.master_seed);
    CHECK(read_num_attr<std::int32_t>(file, "layout_version", H5T_STD_I32LE, H5T_NATIVE_INT32) == 1);
  }

  SUBCASE("run group attributes") {
    H g(H5Gopen2(file, "/runs/000001", H5P_DEFAULT), H5Gclose);
    CHECK(read_str_attr(g, "policy") == "dutch");
    CHECK(read_num_attr<std::uint64_t>(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64) == 1001);
    CHECK(read_num_attr<std::int64_t>(g, "run_index", H5T_STD_I64LE, H5T_NATIVE_INT64) == 1);
    CHECK(read_str_attr(g, "param:policy.penalty_bps") == "51");
    CHECK(read_str_attr(g, "param:label") == "x000001");
  }

  SUBCASE("series values, chunking, filters, unit") {
    auto t = read_series(file, "/runs/000000/series/time_s");
    auto ref = read_series(file, "/runs/000000/series/reference");
    REQUIRE(t.size() == 5000);
    REQUIRE(ref.size() == 5000);
    CHECK(t[0] == 1.0);
    CHECK(t[4999] == 5000.0);
    CHECK(ref[1234] == 30000.0 + 1234 * 0.5);
    auto ref1 = read_series(file, "/runs/000001/series/reference");
    REQUIRE(ref1.size() == 10);
    CHECK(ref1[3] == 30100.0 + 1.5);
    {
      H ds(H5Dopen2(file, "/runs/000000/series/reference", H5P_DEFAULT), H5Dclose);
      FilterInfo fi = filters_of(ds);
      CHECK(fi.chunked);
      CHECK(fi.chunk == 4096);
      CHECK(fi.shuffle);
      CHECK(fi.deflate);
      CHECK(fi.deflate_level == 4);
      CHECK(read_str_attr(ds, "unit") == "quote");
    }
    {
      H ds(H5Dopen2(file, "/runs/000001/series/time_s", H5P_DEFAULT), H5Dclose);
      FilterInfo fi = filters_of(ds);
      CHECK(fi.chunked);
      CHECK(fi.chunk == 10);
      CHECK(read_str_attr(ds, "unit") == "s");
    }
  }

  SUBCASE("liquidation events") {
    auto rows = read_liquidations(file, "/runs/000000/liquidations");
    REQUIRE(rows.size() == 3);
    CHECK(rows[1].step == 13);
    CHECK(rows[1].account == 8);
    CHECK(fixed_field(rows[1].agent_type, 24) == "basis_trader");
    CHECK(fixed_field(rows[1].policy_path, 64) == "dutch>insurance");
    CHECK(fixed_field(rows[0].policy_path, 64) == "market");
    CHECK(rows[2].notional == 1234.5 * 3);
    CHECK(rows[1].price == 29950.25);
    CHECK(rows[1].mark == 30000.0);
    CHECK(rows[1].slippage_bps == 16.58);
    CHECK(rows[1].penalty == 12.5);
    CHECK(rows[0].liquidator == -1);
    CHECK(rows[1].liquidator == 42);
    CHECK(rows[2].steps_to_complete == 2);
    CHECK(rows[1].bad_debt == 99.75);
    CHECK(rows[0].endogenous == 0);
    CHECK(rows[1].endogenous == 1);
    H ds(H5Dopen2(file, "/runs/000000/liquidations", H5P_DEFAULT), H5Dclose);
    FilterInfo fi = filters_of(ds);
    CHECK(fi.chunked);
    CHECK(fi.shuffle);
    CHECK(fi.deflate);
    H ft(H5Dget_type(ds), H5Tclose);
    CHECK(member_info(ft, "step").found);
    for (const auto& [name, type] : {std::pair{"step", H5T_STD_I64LE}, {"account", H5T_STD_U32LE},
                                     {"liquidator", H5T_STD_I32LE}, {"endogenous", H5T_STD_U8LE},
                                     {"bad_debt", H5T_IEEE_F64LE}}) {
      INFO(name);
      CHECK(has_member_type(ft, name, type));
    }
    auto at = member_info(ft, "agent_type");
    CHECK(at.cls == H5T_STRING);
    CHECK(at.size == 24);
    CHECK(member_info(ft, "policy_path").size == 64);
  }

  SUBCASE("summary compound") {
    H ds(H5Dopen2(file, "/summary", H5P_DEFAULT), H5Dclose);
    CHECK(extent_1d(ds) == 2);
    {
      H space(H5Dget_space(ds), H5Sclose);
      hsize_t dims = 0, maxdims = 0;
      H5Sget_simple_extent_dims(space, &dims, &maxdims);
      CHECK(maxdims == H5S_UNLIMITED);
    }
    FilterInfo fi = filters_of(ds);
    CHECK(fi.chunked);
    CHECK(fi.deflate);
    H ft(H5Dget_type(ds), H5Tclose);
    REQUIRE(H5Tget_nmembers(ft) == 4 + 3 + 2);
    // Field order: run_id, run_index, policy, seed, metrics..., params...
    const char* order[] = {"run_id", "run_index", "policy", "seed", "max_drawdown", "bad_debt_total",
                           "n_liquidations", "param:policy.penalty_bps", "param:label"};
    for (unsigned i = 0; i < 9; ++i) {
      char* n = H5Tget_member_name(ft, i);
      CHECK(std::string(n) == order[i]);
      H5free_memory(n);
    }
    CHECK(member_info(ft, "run_id").size == 16);
    CHECK(member_info(ft, "policy").size == 24);
    CHECK(member_info(ft, "param:label").size == 64);
    CHECK(member_info(ft, "param:label").cls == H5T_STRING);
    for (const auto& [name, type] :
         {std::pair{"seed", H5T_STD_U64LE}, {"run_index", H5T_STD_I64LE}, {"max_drawdown", H5T_IEEE_F64LE}}) {
      INFO(name);
      CHECK(has_member_type(ft, name, type));
    }

    struct Row {
      char run_id[16];
      std::int64_t run_index;
      char policy[24];
      std::uint64_t seed;
      double max_drawdown, bad_debt_total;
      char penalty[64];
    };
    H s16(fixed_str(16), H5Tclose), s24(fixed_str(24), H5Tclose), s64(fixed_str(64), H5Tclose);
    H mt(H5Tcreate(H5T_COMPOUND, sizeof(Row)), H5Tclose);  // a subset of fields, by name
    H5Tinsert(mt, "run_id", HOFFSET(Row, run_id), s16);
    H5Tinsert(mt, "run_index", HOFFSET(Row, run_index), H5T_NATIVE_INT64);
    H5Tinsert(mt, "policy", HOFFSET(Row, policy), s24);
    H5Tinsert(mt, "seed", HOFFSET(Row, seed), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "max_drawdown", HOFFSET(Row, max_drawdown), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "bad_debt_total", HOFFSET(Row, bad_debt_total), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "param:policy.penalty_bps", HOFFSET(Row, penalty), s64);
    Row rows[2];
    std::memset(rows, 0, sizeof rows);
    REQUIRE(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    CHECK(fixed_field(rows[0].run_id, 16) == "000000");
    CHECK(fixed_field(rows[1].run_id, 16) == "000001");
    CHECK(rows[1].run_index == 1);
    CHECK(fixed_field(rows[0].policy, 24) == "market");
    CHECK(fixed_field(rows[1].policy, 24) == "dutch");
    CHECK(rows[0].seed == 1000);
    CHECK(rows[1].seed == 1001);
    CHECK(rows[1].max_drawdown == 1.125);
    CHECK(rows[1].bad_debt_total == 99.75);
    CHECK(fixed_field(rows[1].penalty, 64) == "51");
  }
}

TEST_CASE("destructor without commit abandons: no temp file, no final file") {
  TempDir dir;
  const std::string path = dir.file("abandoned.h5");
  std::string tmp;
  {
    ResultsWriter w(path, test_attrs());
    tmp = w.temp_path();
    w.append(make_run("000000", 0, 20, 1));
    CHECK(fs::exists(tmp));
  }
  CHECK_FALSE(fs::exists(tmp));
  CHECK_FALSE(fs::exists(path));
  CHECK(dir.entries() == 0);
}

TEST_CASE("commit replaces an existing final file") {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  { std::ofstream(path) << "old"; }
  ResultsWriter w(path, test_attrs());
  w.append(make_run("000000", 0, 3, 0));
  w.commit();
  CHECK(H5Fis_hdf5(path.c_str()) > 0);
  CHECK(dir.entries() == 1);
  CHECK_THROWS_AS(w.commit(), std::logic_error);
  CHECK_THROWS_AS(w.append(make_run("000001", 1, 3, 0)), std::logic_error);
}

TEST_CASE("non-existent directory => ResultsError naming the path") {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/out.h5");
  try {
    ResultsWriter w(path, test_attrs());
    FAIL("expected ResultsError");
  } catch (const ResultsError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
    MESSAGE(msg);
  }
  CHECK(dir.entries() == 0);
}

TEST_CASE("summary or params name mismatch between runs => logic_error, writer stays usable") {
  TempDir dir;
  const std::string path = dir.file("mismatch.h5");
  ResultsWriter w(path, test_attrs());
  w.append(make_run("000000", 0, 5, 0));

  RunResult other_metric = make_run("000001", 1, 5, 0);
  other_metric.summary[1].first = "something_else";
  CHECK_THROWS_AS(w.append(other_metric), std::logic_error);

  RunResult fewer_metrics = make_run("000001", 1, 5, 0);
  fewer_metrics.summary.pop_back();
  CHECK_THROWS_AS(w.append(fewer_metrics), std::logic_error);

  RunResult reordered = make_run("000001", 1, 5, 0);
  std::swap(reordered.summary[0], reordered.summary[1]);
  CHECK_THROWS_AS(w.append(reordered), std::logic_error);

  RunResult other_params = make_run("000001", 1, 5, 0);
  other_params.params.push_back({"extra", "1"});
  CHECK_THROWS_AS(w.append(other_params), std::logic_error);

  CHECK_THROWS_AS(w.append(make_run("000000", 5, 5, 0)), std::logic_error);  // duplicate run_id

  CHECK(w.runs_written() == 1);
  w.append(make_run("000001", 1, 5, 0));
  w.commit();
  H file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  H ds(H5Dopen2(file, "/summary", H5P_DEFAULT), H5Dclose);
  CHECK(extent_1d(ds) == 2);
  H runs(H5Gopen2(file, "/runs", H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  H5Gget_info(runs, &info);
  CHECK(info.nlinks == 2);  // no partial group left by the rejected runs
}

TEST_CASE("strings that do not fit their fixed-width field are rejected before writing") {
  TempDir dir;
  ResultsWriter w(dir.file("long.h5"), test_attrs());
  RunResult long_id = make_run("00000000000000000", 0, 3, 0);  // 17 bytes > 16
  CHECK_THROWS_AS(w.append(long_id), std::invalid_argument);
  RunResult long_param = make_run("000000", 0, 3, 0);
  long_param.params[1].second = std::string(65, 'p');
  CHECK_THROWS_AS(w.append(long_param), std::invalid_argument);
  RunResult long_path = make_run("000000", 0, 3, 2);
  long_path.liquidations[1].policy_path = std::string(65, 'q');
  CHECK_THROWS_AS(w.append(long_path), std::invalid_argument);
  RunResult slash = make_run("a/b", 0, 3, 0);
  CHECK_THROWS_AS(w.append(slash), std::invalid_argument);
  RunResult exact = make_run("0123456789abcdef", 0, 3, 1);  // exactly 16 bytes fits
  exact.liquidations[0].policy_path = std::string(64, 'z');
  w.append(exact);
  CHECK(w.runs_written() == 1);
  w.commit();
  H file(H5Fopen(dir.file("long.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  auto rows = read_liquidations(file, "/runs/0123456789abcdef/liquidations");
  REQUIRE(rows.size() == 1);
  CHECK(fixed_field(rows[0].policy_path, 64) == std::string(64, 'z'));
}

TEST_CASE("empty series, empty liquidations and a file without runs are valid") {
  TempDir dir;
  const std::string path = dir.file("empty.h5");
  {
    ResultsWriter w(path, test_attrs());
    RunResult r = make_run("000000", 0, 0, 0);
    r.series.push_back({"spot_mid", "quote", {}});
    w.append(r);
    w.commit();
  }
  H file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  CHECK(read_series(file, "/runs/000000/series/time_s").empty());
  CHECK(read_series(file, "/runs/000000/series/spot_mid").empty());
  CHECK(read_liquidations(file, "/runs/000000/liquidations").empty());
  {
    H ds(H5Dopen2(file, "/runs/000000/series/spot_mid", H5P_DEFAULT), H5Dclose);
    CHECK(filters_of(ds).chunked);
    CHECK(filters_of(ds).deflate);
  }

  const std::string none = dir.file("none.h5");
  {
    ResultsWriter w(none, test_attrs());
    w.commit();
  }
  H f2(H5Fopen(none.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  CHECK(link_exists(f2, "/runs"));
  H ds(H5Dopen2(f2, "/summary", H5P_DEFAULT), H5Dclose);
  CHECK(extent_1d(ds) == 0);
  H ft(H5Dget_type(ds), H5Tclose);
  CHECK(H5Tget_nmembers(ft) == 4);
}

TEST_CASE("large scenario_json attribute round-trips") {
  TempDir dir;
  const std::string path = dir.file("big.h5");
  FileAttributes a = test_attrs();
  a.scenario_json = "{\"pad\":\"" + std::string(300'000, 'x') + "\"}";
  {
    ResultsWriter w(path, a);
    w.commit();
  }
  H file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  CHECK(read_str_attr(file, "scenario_json") == a.scenario_json);
}

TEST_CASE("same inputs => byte-identical files (created_utc pinned by SOURCE_DATE_EPOCH)") {
  TempDir dir;
  FileAttributes a = test_attrs();
  ::setenv("SOURCE_DATE_EPOCH", "1704164645", 1);
  for (const char* name : {"a.h5", "b.h5"}) {
    ResultsWriter w(dir.file(name), a);
    w.append(make_run("000000", 0, 700, 3));
    w.append(make_run("000001", 1, 700, 0));
    w.commit();
  }
  ::unsetenv("SOURCE_DATE_EPOCH");
  const auto x = slurp(dir.file("a.h5")), y = slurp(dir.file("b.h5"));
  CHECK(x.size() > 0);
  CHECK(x == y);
  H file(H5Fopen(dir.file("a.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  CHECK(read_str_attr(file, "created_utc") == "2024-01-02T03:04:05Z");
}

TEST_CASE("SOURCE_DATE_EPOCH pins created_utc") {
  TempDir dir;
  ::setenv("SOURCE_DATE_EPOCH", "86400", 1);
  {
    ResultsWriter w(dir.file("sde.h5"), test_attrs());
    w.commit();
  }
  ::unsetenv("SOURCE_DATE_EPOCH");
  H file(H5Fopen(dir.file("sde.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  CHECK(read_str_attr(file, "created_utc") == "1970-01-02T00:00:00Z");
}

TEST_CASE("series compressed off the writer thread (prepare_series) read back as the values written") {
  // Column lengths around the 4,096-row chunk: one partial chunk, exactly one chunk, and a full chunk
  // plus a 1-row edge chunk (padded with 0.0 on disk, cut off by the extent when read).
  TempDir dir;
  const std::string plain = dir.file("plain.h5"), pre = dir.file("prepared.h5");
  std::vector<RunResult> runs;
  for (std::size_t n : {1u, 4095u, 4096u, 4097u, 9000u}) {
    RunResult r = make_run("r" + std::to_string(n), static_cast<std::int64_t>(runs.size()), n, 1);
    // Values whose bytes all differ, so a wrong byte shuffle cannot go unnoticed.
    for (std::size_t i = 0; i < n; ++i) r.series[1].values[i] = std::sqrt(2.0 + static_cast<double>(i)) * -1.0e3;
    runs.push_back(r);
  }
  {
    ResultsWriter a(plain, test_attrs()), b(pre, test_attrs());
    for (const RunResult& r : runs) {
      a.append(r);
      const PreparedSeries p = prepare_series(r);
      REQUIRE(p.chunks.size() == 2);
      const std::size_t n = r.series[0].values.size();
      CHECK(p.chunks[0].size() == (n + 4095) / 4096);
      b.append(r, &p);
    }
    a.commit();
    b.commit();
  }
  H fa(H5Fopen(plain.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose), fb(H5Fopen(pre.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  for (const RunResult& r : runs) {
    for (const SeriesColumn& c : r.series) {
      const std::string path = "/runs/" + r.run_id + "/series/" + c.name;
      const std::vector<double> va = read_series(fa, path), vb = read_series(fb, path);
      REQUIRE(vb.size() == c.values.size());
      CHECK(std::memcmp(vb.data(), c.values.data(), vb.size() * sizeof(double)) == 0);
      CHECK(std::memcmp(va.data(), vb.data(), va.size() * sizeof(double)) == 0);
    }
  }
  // A prepared set that does not belong to the run is refused before anything of the run is written.
  ResultsWriter w(dir.file("mismatch.h5"), test_attrs());
  PreparedSeries wrong = prepare_series(runs[0]);
  wrong.chunks.pop_back();
  CHECK_THROWS_AS(w.append(runs[1], &wrong), std::logic_error);
}
