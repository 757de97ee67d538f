#include "sim/calibration/writer.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>

namespace sl {

namespace {

// One open HDF5 object; closes it on scope exit.
struct H {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H() {
    if (id >= 0) close(id);
  }
};

class Writer {
 public:
  explicit Writer(std::string tmp) : tmp_(std::move(tmp)) {}

  void check(bool ok, const std::string& what) const {
    if (!ok) throw ResultsError("calibration file '" + tmp_ + "': HDF5 call failed: " + what);
  }

  void attr_str(hid_t loc, const char* name, const std::string& v) {
    H t{H5Tcopy(H5T_C_S1), H5Tclose};
    check(t.id >= 0 && H5Tset_size(t.id, H5T_VARIABLE) >= 0 && H5Tset_cset(t.id, H5T_CSET_UTF8) >= 0, "string type");
    H sp{H5Screate(H5S_SCALAR), H5Sclose};
    H a{H5Acreate2(loc, name, t.id, sp.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    const char* p = v.c_str();
    check(a.id >= 0 && H5Awrite(a.id, t.id, &p) >= 0, std::string("attribute ") + name);
  }
  template <class T>
  void attr_num(hid_t loc, const char* name, T v, hid_t file_type, hid_t mem_type) {
    H sp{H5Screate(H5S_SCALAR), H5Sclose};
    H a{H5Acreate2(loc, name, file_type, sp.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    check(a.id >= 0 && H5Awrite(a.id, mem_type, &v) >= 0, std::string("attribute ") + name);
  }
  void attr_f64(hid_t loc, const char* name, double v) { attr_num(loc, name, v, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE); }
  void attr_i64(hid_t loc, const char* name, std::int64_t v) { attr_num(loc, name, v, H5T_STD_I64LE, H5T_NATIVE_INT64); }
  void attr_u64(hid_t loc, const char* name, std::uint64_t v) { attr_num(loc, name, v, H5T_STD_U64LE, H5T_NATIVE_UINT64); }

  // A contiguous dataset; returns it open so attributes can be added.
  H dataset(hid_t loc, const char* name, const std::vector<hsize_t>& dims, const void* data, hid_t file_type,
            hid_t mem_type) {
    H sp{H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose};
    H ds{H5Dcreate2(loc, name, file_type, sp.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
    check(ds.id >= 0 && H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0, std::string("dataset ") + name);
    return H{std::exchange(ds.id, -1), H5Dclose};
  }
  H f64(hid_t loc, const char* name, const std::vector<hsize_t>& dims, const std::vector<double>& v) {
    return dataset(loc, name, dims, v.data(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
  }

 private:
  std::string tmp_;
};

std::string created_utc() {
  std::time_t t = std::time(nullptr);
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) t = static_cast<std::time_t>(std::strtoll(sde, nullptr, 10));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_all(Writer& w, hid_t file, const CalibrationFileInputs& in) {
  const CalibrationConfig& c = *in.config;
  const CalibrationPlan& p = *in.plan;
  const MetricTable& t = *in.table;
  const std::vector<CellSurface>& surf = *in.surface;
  w.attr_str(file, "tool_version", in.tool_version);
  w.attr_str(file, "git_commit", in.git_commit);
  w.attr_str(file, "created_utc", created_utc());
  w.attr_str(file, "calibration_json", c.resolved_json);
  w.attr_str(file, "scenario_json", p.base.source_json);
  w.attr_str(file, "runs_file", in.runs_file);
  w.attr_i64(file, "calibration_layout_version", kCalibrationLayoutVersion);

  H g{H5Gcreate2(file, "calibration", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
  w.check(g.id >= 0, "group /calibration");
  w.attr_str(g.id, "name", c.name);
  w.attr_str(g.id, "policy", c.policy);
  w.attr_f64(g.id, "lambda", c.surface.lambda);
  w.attr_str(g.id, "objective", kObjectiveDefinition);
  w.attr_u64(g.id, "first_seed", c.first_seed);
  w.attr_i64(g.id, "n_seeds", c.n_seeds);
  w.attr_i64(g.id, "bootstrap_resamples", c.surface.bootstrap_resamples);
  w.attr_u64(g.id, "bootstrap_seed", c.surface.bootstrap_seed);
  w.attr_str(g.id, "method",
             "objective_lo/hi: 95% Student-t interval of the mean over seeds; paired_diff: J - J(optimum) seed by "
             "seed (common random numbers), 95% t interval, near_optimal = it contains 0; optimal_*_lo/hi: 2.5 and "
             "97.5 nearest-rank percentiles of the argmin over a paired seed bootstrap");

  const CalibrationAxis* axes[5] = {&c.axes[0], &c.axes[1], &c.axes[2], &c.mmr, &c.penalty};
  const char* axis_names[5] = {"sigma", "depth", "latency", "mmr_bps", "penalty_bps"};
  std::vector<hsize_t> cell_dims, cand_dims, seed_dims;
  for (int a = 0; a < 5; ++a) {
    const hsize_t n = axes[a]->values.size();
    H ds = w.f64(g.id, axis_names[a], {n}, axes[a]->values);
    w.attr_str(ds.id, "pointer", axes[a]->pointer);
    if (a == 3)
      w.attr_i64(ds.id, "swept", c.mmr_swept ? 1 : 0);
    else if (a < 3)
      w.attr_i64(ds.id, "from_base", axes[a]->from_base ? 1 : 0);
    if (a < 3) cell_dims.push_back(n);
    cand_dims.push_back(n);
  }
  seed_dims = cand_dims;
  seed_dims.push_back(static_cast<hsize_t>(t.n_seeds));
  std::vector<std::uint64_t> seeds;
  for (int k = 0; k < c.n_seeds; ++k) seeds.push_back(c.first_seed + static_cast<std::uint64_t>(k));
  { H ds = w.dataset(g.id, "seed", {seeds.size()}, seeds.data(), H5T_STD_U64LE, H5T_NATIVE_UINT64); }

  const std::size_t nc = t.n_cells, nk = t.n_candidates;
  auto per_cand = [&](const char* name, auto get) {
    std::vector<double> v;
    v.reserve(nc * nk);
    for (std::size_t cell = 0; cell < nc; ++cell)
      for (std::size_t k = 0; k < nk; ++k) v.push_back(get(surf[cell], k));
    H ds = w.f64(g.id, name, cand_dims, v);
  };
  per_cand("objective_mean", [](const CellSurface& s, std::size_t k) { return s.objective[k].mean; });
  per_cand("objective_lo", [](const CellSurface& s, std::size_t k) { return s.objective[k].lo; });
  per_cand("objective_hi", [](const CellSurface& s, std::size_t k) { return s.objective[k].hi; });
  per_cand("paired_diff_mean", [](const CellSurface& s, std::size_t k) { return s.paired_diff[k].mean; });
  per_cand("paired_diff_lo", [](const CellSurface& s, std::size_t k) { return s.paired_diff[k].lo; });
  per_cand("paired_diff_hi", [](const CellSurface& s, std::size_t k) { return s.paired_diff[k].hi; });
  per_cand("argmin_share", [](const CellSurface& s, std::size_t k) { return s.argmin_share[k]; });
  per_cand("bad_debt_mean", [](const CellSurface& s, std::size_t k) { return s.component_mean[0][k]; });
  per_cand("unrealised_bad_debt_mean", [](const CellSurface& s, std::size_t k) { return s.component_mean[1][k]; });
  per_cand("fund_drawdown_mean", [](const CellSurface& s, std::size_t k) { return s.component_mean[2][k]; });
  per_cand("penalties_paid_mean", [](const CellSurface& s, std::size_t k) { return s.component_mean[3][k]; });
  per_cand("slippage_cost_mean", [](const CellSurface& s, std::size_t k) { return s.component_mean[4][k]; });
  {
    std::vector<std::uint8_t> near;
    for (std::size_t cell = 0; cell < nc; ++cell)
      for (std::size_t k = 0; k < nk; ++k) near.push_back(surf[cell].near_optimal[k] ? 1 : 0);
    H ds = w.dataset(g.id, "near_optimal", cand_dims, near.data(), H5T_STD_U8LE, H5T_NATIVE_UINT8);
  }
  {
    std::vector<double> js;
    js.reserve(t.values.size());
    for (const SeedMetrics& m : t.values) js.push_back(objective(m, c.surface.lambda));
    H ds = w.f64(g.id, "objective_seeds", seed_dims, js);
  }
  auto per_cell = [&](const char* name, auto get) {
    std::vector<double> v;
    for (const CellSurface& s : surf) v.push_back(get(s));
    H ds = w.f64(g.id, name, cell_dims, v);
  };
  const auto& cands = p.candidates;
  per_cell("optimal_penalty_bps", [&](const CellSurface& s) { return cands[s.best].penalty_bps; });
  per_cell("optimal_penalty_lo_bps", [](const CellSurface& s) { return s.penalty_lo_bps; });
  per_cell("optimal_penalty_hi_bps", [](const CellSurface& s) { return s.penalty_hi_bps; });
  per_cell("optimal_mmr_bps", [&](const CellSurface& s) { return cands[s.best].mmr_bps; });
  per_cell("optimal_mmr_lo_bps", [](const CellSurface& s) { return s.mmr_lo_bps; });
  per_cell("optimal_mmr_hi_bps", [](const CellSurface& s) { return s.mmr_hi_bps; });
  per_cell("optimal_objective_mean", [](const CellSurface& s) { return s.objective[s.best].mean; });
  per_cell("optimal_objective_lo", [](const CellSurface& s) { return s.objective[s.best].lo; });
  per_cell("optimal_objective_hi", [](const CellSurface& s) { return s.objective[s.best].hi; });
}

}  // namespace

void write_calibration_file(const std::string& path, const CalibrationFileInputs& in) {
  const std::string tmp = path + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  Writer w(tmp);
  try {
    H5E_auto2_t func = nullptr;
    void* data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    struct Restore {
      H5E_auto2_t f;
      void* d;
      ~Restore() { H5Eset_auto2(H5E_DEFAULT, f, d); }
    } restore{func, data};
    const hid_t file = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    w.check(file >= 0, "create");
    try {
      write_all(w, file, in);  // every object it opens is closed when it returns
    } catch (...) {
      H5Fclose(file);
      throw;
    }
    w.check(H5Fclose(file) >= 0, "close (data may not have reached the disk)");
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw ResultsError("calibration file '" + path + "': cannot rename '" + tmp + "' to it");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace sl
