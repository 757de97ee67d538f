#include "sim/calibration/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scenarios/loader.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/sweep/run_plan.hpp"

namespace sl {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxAxisValues = 50;
constexpr std::size_t kMaxPenalties = 100;
constexpr std::size_t kMaxRuns = 1'000'000;

[[noreturn]] void bad(const std::string& file, const std::string& where, const std::string& msg) {
  throw ScenarioError(file + ": " + where + ": " + msg);
}

std::string found(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return "got " + s;
}

// A number as written by hand: 0, 0.5, 10000, 1e+09 (not nlohmann's 0.0).
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

void check_keys(const std::string& file, const std::string& where, const json& obj,
                const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : obj.items())
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      bad(file, where.empty() ? k : where + "." + k, "unknown field (allowed here: " + join(allowed) + ")");
}

// A strictly increasing array of numbers in [lo, hi] (lo excluded when lo_open), n_min..n_max long.
std::vector<double> number_list(const std::string& file, const std::string& where, const json& v, std::size_t n_min,
                                std::size_t n_max, double lo, bool lo_open, double hi) {
  const std::string range = std::string(lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + "]";
  const std::string what = "must be an array of " + std::to_string(n_min) + " to " + std::to_string(n_max) +
                           " strictly increasing numbers in " + range;
  if (!v.is_array() || v.size() < n_min || v.size() > n_max) bad(file, where, what + ", " + found(v));
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string w = where + "[" + std::to_string(i) + "]";
    if (!v[i].is_number()) bad(file, w, "must be a number in " + range + ", " + found(v[i]));
    const double x = v[i].get<double>();
    if (!std::isfinite(x) || x > hi || x < lo || (lo_open && x == lo))
      bad(file, w, "must be a number in " + range + ", " + found(v[i]));
    if (!out.empty() && !(x > out.back()))
      bad(file, w, "values must be strictly increasing, " + found(v[i]) + " after " + num(out.back()));
    out.push_back(x);
  }
  return out;
}

double number(const std::string& file, const std::string& where, const json& v, double lo, double hi) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi)
    bad(file, where, "must be a number in [" + num(lo) + ", " + num(hi) + "], " + found(v));
  return v.get<double>();
}

std::int64_t integer(const std::string& file, const std::string& where, const json& v, std::int64_t lo, std::int64_t hi) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.is_number_integer()) bad(file, where, "must be an integer in " + range + ", " + found(v));
  const bool out_of_range = v.is_number_unsigned()
                                ? (v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi) ||
                                   static_cast<std::int64_t>(v.get<std::uint64_t>()) < lo)
                                : (v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi);
  if (out_of_range)
    bad(file, where, "must be an integer in " + range + ", " + found(v));
  return v.get<std::int64_t>();
}

std::string text(const std::string& file, const std::string& where, const json& v) {
  if (!v.is_string()) bad(file, where, "must be a string, " + found(v));
  return v.get<std::string>();
}

std::string read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) bad(path, "file", "cannot open: no such file or directory");
  if (fs::is_directory(path, ec)) bad(path, "file", "is a directory, expected a calibration JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(path, "file", "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > kMaxScenarioBytes) bad(path, "file", "too large (more than 16 MiB)");
  return ss.str();
}

// Applies `pointer=value_text` to a copy of the resolved base scenario and validates it.
ScenarioConfig point_scenario(const json& base_doc, const std::vector<std::string>& assignments,
                              const std::string& scenario_path) {
  json doc = base_doc;
  for (const auto& a : assignments) apply_override(doc, a, scenario_path);
  ScenarioConfig sc = scenario_from_json(doc, scenario_path);
  sc.source_file = scenario_path;  // replay files are found relative to the scenario file
  return sc;
}

// Where an axis is written in the calibration file and what its values may be.
struct AxisSpec {
  std::string where;              // e.g. "axes.sigma"; errors name where.pointer / values_where[i]
  const json* pointer = nullptr;  // the "pointer" member, if given
  const json* values = nullptr;   // the values array, if given
  std::string values_where;       // e.g. "axes.sigma.values" or "penalty_bps"
  std::size_t max_values = kMaxAxisValues;
  double lo = -1e300, hi = 1e300;  // further limits come from the scenario validator
};

// Splits an axis object {pointer, values} into an AxisSpec.
AxisSpec axis_object(const std::string& file, const std::string& where, const json* obj) {
  AxisSpec a;
  a.where = where;
  a.values_where = where + ".values";
  if (!obj) return a;
  if (!obj->is_object()) bad(file, where, "must be an object {\"pointer\": ..., \"values\": [...]}, " + found(*obj));
  check_keys(file, where, *obj, {"pointer", "values"});
  if (auto it = obj->find("pointer"); it != obj->end()) a.pointer = &*it;
  if (auto it = obj->find("values"); it != obj->end()) a.values = &*it;
  return a;
}

// Reads an axis; every value is checked alone against the base scenario, so a bad one is reported
// where it is written.
CalibrationAxis read_axis(const std::string& file, const AxisSpec& spec, const std::string& name,
                          const std::string& default_pointer, const json& base_doc, const std::string& scenario_path) {
  CalibrationAxis ax;
  ax.name = name;
  ax.pointer = default_pointer;
  const std::string pw = spec.where + ".pointer";
  if (spec.pointer) {
    ax.pointer = text(file, pw, *spec.pointer);
    if (ax.pointer.empty() || ax.pointer[0] != '/')
      bad(file, pw, "must be a JSON pointer into the scenario such as '" + default_pointer + "', " + found(*spec.pointer));
  }
  json::json_pointer jp;
  try {
    jp = json::json_pointer(ax.pointer);
  } catch (const json::exception&) {
    bad(file, pw, "is not a valid JSON pointer, got \"" + ax.pointer + "\"");
  }
  if (!base_doc.contains(jp))
    bad(file, pw, "'" + ax.pointer + "' names no field of the scenario " + scenario_path + " (defaults filled in)");
  const json& base_value = base_doc.at(jp);
  if (!base_value.is_number())
    bad(file, pw, "'" + ax.pointer + "' must name a numeric scenario field, it holds " + base_value.dump());
  if (spec.values) {
    ax.values = number_list(file, spec.values_where, *spec.values, 1, spec.max_values, spec.lo, false, spec.hi);
    for (const json& v : *spec.values) ax.texts.push_back(v.dump());
  } else {
    ax.from_base = true;
    ax.values = {base_value.get<double>()};
    ax.texts = {base_value.dump()};
  }
  for (std::size_t i = 0; i < ax.values.size(); ++i) {
    try {
      (void)point_scenario(base_doc, {ax.pointer + "=" + ax.texts[i]}, scenario_path);
    } catch (const ScenarioError& e) {
      const std::string w = ax.from_base ? pw : spec.values_where + "[" + std::to_string(i) + "]";
      bad(file, w, ax.texts[i] + " is rejected by the scenario:\n" + e.what());
    }
  }
  return ax;
}

}  // namespace

CalibrationConfig load_calibration_file(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string body = read_file(path);
  const json j = parse_scenario_json(body, path);  // size, depth and duplicate-key checks
  if (!j.is_object()) bad(path, "(top level)", "must be a JSON object, " + found(j));
  check_keys(path, "", j,
             {"name", "description", "scenario", "set", "policy", "first_seed", "seeds", "lambda", "penalty_bps",
              "maintenance_margin_bps", "axes", "bootstrap"});
  CalibrationConfig c;
  c.source_file = path;
  for (const char* req : {"name", "scenario", "lambda", "penalty_bps"})
    if (!j.contains(req)) bad(path, req, "required field is missing");
  c.name = text(path, "name", j["name"]);
  if (c.name.empty() || c.name.size() > 64 ||
      !std::all_of(c.name.begin(), c.name.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.'; }))
    bad(path, "name", "must be 1 to 64 characters of A-Z a-z 0-9 _ - . (it names the default output file), " + found(j["name"]));
  if (j.contains("description")) c.description = text(path, "description", j["description"]);

  // Base scenario, relative to the calibration file's folder.
  const std::string rel = text(path, "scenario", j["scenario"]);
  if (rel.empty()) bad(path, "scenario", "must name the base scenario file (relative to this file), got \"\"");
  fs::path sp(rel);
  if (sp.is_relative()) sp = fs::path(path).parent_path() / sp;
  c.scenario_path = sp.lexically_normal().string();
  if (j.contains("set")) {
    const json& s = j["set"];
    if (!s.is_array()) bad(path, "set", "must be an array of \"PATH=VALUE\" overrides (as for --set), " + found(s));
    for (std::size_t i = 0; i < s.size(); ++i) c.base_overrides.push_back(text(path, "set[" + std::to_string(i) + "]", s[i]));
  }
  ScenarioConfig base;
  try {
    base = load_scenario_file(c.scenario_path, c.base_overrides);
  } catch (const ScenarioError& e) {
    bad(path, "scenario", "the base scenario " + c.scenario_path + " (with `set`) is invalid:\n" + e.what());
  }
  const json base_doc = json::parse(base.source_json);

  if (j.contains("policy")) {
    c.policy = text(path, "policy", j["policy"]);
    const auto& ok = implemented_policies();
    if (std::find(ok.begin(), ok.end(), c.policy) == ok.end())
      bad(path, "policy", "must be one of " + join(ok) + ", " + found(j["policy"]));
  }
  c.first_seed = j.contains("first_seed") ? static_cast<std::uint64_t>(integer(path, "first_seed", j["first_seed"], 0, 9007199254740992LL))
                                          : base.seed;
  if (j.contains("seeds")) c.n_seeds = static_cast<int>(integer(path, "seeds", j["seeds"], 2, 10000));
  c.surface.lambda = number(path, "lambda", j["lambda"], 0, 1e9);
  if (j.contains("bootstrap")) {
    const json& b = j["bootstrap"];
    if (!b.is_object()) bad(path, "bootstrap", "must be an object {\"resamples\": N, \"seed\": S}, " + found(b));
    check_keys(path, "bootstrap", b, {"resamples", "seed"});
    if (b.contains("resamples"))
      c.surface.bootstrap_resamples = static_cast<int>(integer(path, "bootstrap.resamples", b["resamples"], 100, 1'000'000));
    if (b.contains("seed"))
      c.surface.bootstrap_seed = static_cast<std::uint64_t>(integer(path, "bootstrap.seed", b["seed"], 0, 9007199254740992LL));
  }

  // Axes of the surface.
  const json* axes = nullptr;
  if (j.contains("axes")) {
    axes = &j["axes"];
    if (!axes->is_object()) bad(path, "axes", "must be an object with any of 'sigma', 'depth', 'latency', " + found(*axes));
    check_keys(path, "axes", *axes, {"sigma", "depth", "latency"});
  }
  const char* names[3] = {"sigma", "depth", "latency"};
  const char* pointers[3] = {kSigmaPointer, kDepthPointer, kLatencyPointer};
  for (int a = 0; a < 3; ++a) {
    const json* obj = (axes && axes->contains(names[a])) ? &(*axes)[names[a]] : nullptr;
    c.axes[a] = read_axis(path, axis_object(path, std::string("axes.") + names[a], obj), names[a], pointers[a], base_doc,
                          c.scenario_path);
  }
  // The candidates: penalties (always swept) and, optionally, the maintenance margin.
  AxisSpec pen;
  pen.where = pen.values_where = "penalty_bps";
  pen.values = &j["penalty_bps"];
  pen.max_values = kMaxPenalties;
  pen.lo = 0;
  pen.hi = 10000;
  (void)number_list(path, "penalty_bps", j["penalty_bps"], 2, kMaxPenalties, 0, false, 10000);  // at least 2
  c.penalty = read_axis(path, pen, "penalty_bps", kPenaltyPointer, base_doc, c.scenario_path);
  const json* mm = j.contains("maintenance_margin_bps") ? &j["maintenance_margin_bps"] : nullptr;
  AxisSpec mspec = axis_object(path, "maintenance_margin_bps", mm);
  if (mm && !mspec.values) bad(path, "maintenance_margin_bps.values", "required field is missing (the margins to try, bps)");
  mspec.lo = 0;
  mspec.hi = 10000;
  c.mmr = read_axis(path, mspec, "mmr_bps", kMmrPointer, base_doc, c.scenario_path);
  c.mmr_swept = mm != nullptr;
  // Each swept field once: two axes on one pointer would silently leave only the later override.
  {
    std::vector<std::pair<std::string, std::string>> swept;  // (where, pointer)
    for (int a = 0; a < 3; ++a) swept.emplace_back(std::string("axes.") + names[a], c.axes[a].pointer);
    swept.emplace_back("penalty_bps", c.penalty.pointer);
    if (c.mmr_swept) swept.emplace_back("maintenance_margin_bps", c.mmr.pointer);
    for (std::size_t i = 1; i < swept.size(); ++i)
      for (std::size_t k = 0; k < i; ++k)
        if (swept[i].second == swept[k].second)
          bad(path, swept[i].first + ".pointer", "'" + swept[i].second + "' is already swept by " + swept[k].first);
  }

  const std::size_t runs = c.axes[0].values.size() * c.axes[1].values.size() * c.axes[2].values.size() *
                           c.penalty.values.size() * c.mmr.values.size() * static_cast<std::size_t>(c.n_seeds);
  if (runs > kMaxRuns)
    bad(path, "(top level)", "the grid needs " + std::to_string(runs) + " runs, more than the " + std::to_string(kMaxRuns) +
                                 " allowed (fewer axis values, penalties or seeds)");

  // The calibration as understood, every default filled in (stored in the output file).
  nlohmann::ordered_json r;
  r["name"] = c.name;
  r["description"] = c.description;
  r["scenario"] = c.scenario_path;
  r["set"] = c.base_overrides;
  r["policy"] = c.policy;
  r["first_seed"] = c.first_seed;
  r["seeds"] = c.n_seeds;
  r["lambda"] = c.surface.lambda;
  r["penalty_bps"] = c.penalty.values;
  for (const CalibrationAxis* ax : {&c.axes[0], &c.axes[1], &c.axes[2]})
    r["axes"][ax->name] = {{"pointer", ax->pointer}, {"values", ax->values}, {"from_base", ax->from_base}};
  r["maintenance_margin_bps"] = {{"pointer", c.mmr.pointer}, {"values", c.mmr.values}, {"swept", c.mmr_swept}};
  r["bootstrap"] = {{"resamples", c.surface.bootstrap_resamples}, {"seed", c.surface.bootstrap_seed}};
  c.resolved_json = r.dump(2);
  return c;
}

CalibrationPlan plan_calibration(const CalibrationConfig& c) {
  CalibrationPlan p;
  p.base = load_scenario_file(c.scenario_path, c.base_overrides);
  const json base_doc = json::parse(p.base.source_json);
  for (double m : c.mmr.values)
    for (double pen : c.penalty.values) p.candidates.push_back(Candidate{pen, m});
  const auto& s = c.axes[0], &d = c.axes[1], &l = c.axes[2];
  p.n_cells = s.values.size() * d.values.size() * l.values.size();
  for (std::size_t i = 0; i < s.values.size(); ++i)
    for (std::size_t k = 0; k < d.values.size(); ++k)
      for (std::size_t t = 0; t < l.values.size(); ++t)
        for (std::size_t m = 0; m < c.mmr.values.size(); ++m)
          for (std::size_t q = 0; q < c.penalty.values.size(); ++q) {
            std::vector<std::string> set = {s.pointer + "=" + s.texts[i], d.pointer + "=" + d.texts[k],
                                            l.pointer + "=" + l.texts[t], c.penalty.pointer + "=" + c.penalty.texts[q]};
            if (c.mmr_swept) set.push_back(c.mmr.pointer + "=" + c.mmr.texts[m]);  // else the base margin stays
            SweepPoint pt;
            try {
              pt.scenario = point_scenario(base_doc, set, c.scenario_path);
            } catch (const ScenarioError& e) {
              std::string where = "grid point";
              for (const auto& a : set) where += " " + a;
              bad(c.source_file, where, "this combination is rejected by the scenario:\n" + std::string(e.what()));
            }
            pt.params = {{s.name, s.texts[i]}, {d.name, d.texts[k]}, {l.name, l.texts[t]},
                         {c.penalty.name, c.penalty.texts[q]}};
            if (c.mmr_swept) pt.params.emplace_back(c.mmr.name, c.mmr.texts[m]);
            p.points.push_back(std::move(pt));
          }
  check_auctions_reach_index(p.points, {c.policy}, c.source_file);
  p.runs = plan_sweep(p.points.size(), {c.policy}, c.first_seed, c.n_seeds);
  return p;
}

}  // namespace sl
