#include "scenarios/sweep_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace sl {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& where, const std::string& msg) {
  throw ScenarioError(origin + ": " + where + ": " + msg);
}

std::string type_name(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

std::string preview(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

void check_keys(const json& obj, const std::vector<std::string>& allowed, const std::string& origin,
                const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
    fail(origin, where.empty() ? it.key() : where + "." + it.key(), "unknown field (allowed here: " + list + ")");
  }
}

const json& require(const json& obj, const std::string& key, const std::string& origin, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(origin, where.empty() ? key : where + "." + key, "required field is missing");
  return *it;
}

std::string require_string(const json& v, const std::string& origin, const std::string& where) {
  if (!v.is_string()) fail(origin, where, "must be a string, got " + preview(v));
  return v.get<std::string>();
}

// A param value as its summary-column text.
std::string value_text(const json& v, const std::string& origin, const std::string& where) {
  if (!(v.is_number() || v.is_string() || v.is_boolean()))
    fail(origin, where, "must be a number, string or boolean, got " + type_name(v));
  std::string t = v.is_string() ? v.get<std::string>() : v.dump();
  if (t.size() > kParamWidth) fail(origin, where, "too long as a param column value (at most 64 bytes as text)");
  return t;
}

struct Axis {
  std::string pointer, name;
  std::vector<json> values;  // cartesian only
};

Axis parse_axis(const json& a, bool cartesian, const std::string& origin, const std::string& where) {
  if (!a.is_object()) fail(origin, where, "must be an object {\"pointer\": ..., \"name\": ...}, got " + preview(a));
  check_keys(a, cartesian ? std::vector<std::string>{"pointer", "name", "values"} : std::vector<std::string>{"pointer", "name"},
             origin, where);
  Axis ax;
  ax.pointer = require_string(require(a, "pointer", origin, where), origin, where + ".pointer");
  if (ax.pointer.empty() || ax.pointer[0] != '/')
    fail(origin, where + ".pointer", "must be a JSON pointer such as /perp/liquidation/penalty_bps, got \"" + ax.pointer + "\"");
  ax.name = ax.pointer;
  if (a.contains("name")) {
    ax.name = require_string(a["name"], origin, where + ".name");
    if (ax.name.empty() || ax.name.size() > 64) fail(origin, where + ".name", "must be 1..64 characters");
  }
  if (cartesian) {
    const json& vals = require(a, "values", origin, where);
    if (!vals.is_array()) fail(origin, where + ".values", "must be an array of values, got " + preview(vals));
    if (vals.empty()) fail(origin, where + ".values", "empty axis: give at least one value");
    for (std::size_t i = 0; i < vals.size(); ++i) {
      value_text(vals[i], origin, where + ".values[" + std::to_string(i) + "]");
      ax.values.push_back(vals[i]);
    }
  }
  return ax;
}

std::string read_text(const std::string& path, const std::string& origin, const std::string& where) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(origin, where, "cannot open '" + path + "': no such file or directory");
  if (fs::is_directory(path, ec)) fail(origin, where, "'" + path + "' is a directory, expected a JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(origin, where, "cannot open '" + path + "': " + std::strerror(errno));
  std::string text;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxScenarioBytes) fail(origin, where, "'" + path + "' is larger than 16 MiB");
  }
  return text;
}

std::string point_label(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string s;
  for (const auto& [k, v] : params) s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

}  // namespace

SweepSpec load_sweep_text(std::string_view text, const std::string& origin, const std::string& base_dir,
                          const std::vector<std::string>& base_overrides,
                          const std::vector<std::string>& allowed_policies) {
  const json doc = parse_scenario_json(text, origin);  // size, depth and duplicate-key checks
  if (!doc.is_object()) fail(origin, "(top level)", "must be a JSON object");
  check_keys(doc, {"description", "base", "grid", "policies", "seeds", "first_seed"}, origin, "");

  SweepSpec spec;
  spec.source_file = origin;
  if (doc.contains("description")) spec.description = require_string(doc["description"], origin, "description");

  // Base scenario (+ --set), validated on its own, then resolved so pointers may name defaulted fields.
  const std::string base_rel = require_string(require(doc, "base", origin, ""), origin, "base");
  if (base_rel.empty()) fail(origin, "base", "must name the base scenario file (relative to the sweep file)");
  const fs::path base_path = fs::path(base_rel).is_absolute() ? fs::path(base_rel) : fs::path(base_dir) / base_rel;
  spec.base_file = base_path.lexically_normal().string();
  json base_doc = parse_scenario_json(read_text(spec.base_file, origin, "base"), spec.base_file);
  for (const std::string& ov : base_overrides) apply_override(base_doc, ov, spec.base_file);
  spec.base = scenario_from_json(base_doc, spec.base_file);
  spec.base.source_file = spec.base_file;
  const json resolved = json::parse(spec.base.source_json);

  // Policies and seeds.
  if (doc.contains("policies")) {
    const json& p = doc["policies"];
    if (!p.is_array() || p.empty()) fail(origin, "policies", "must be a non-empty array of policy names");
    std::string allowed;
    for (const auto& a : allowed_policies) allowed += (allowed.empty() ? "" : ", ") + a;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::string w = "policies[" + std::to_string(i) + "]";
      const std::string name = require_string(p[i], origin, w);
      if (std::find(allowed_policies.begin(), allowed_policies.end(), name) == allowed_policies.end())
        fail(origin, w, "unknown policy \"" + name + "\" (allowed: " + allowed + ")");
      if (std::find(spec.policies.begin(), spec.policies.end(), name) != spec.policies.end())
        fail(origin, w, "policy \"" + name + "\" listed twice");
      spec.policies.push_back(name);
    }
  } else {
    spec.policies = {spec.base.perp.liquidation.policy};
  }
  if (doc.contains("seeds")) {
    const json& s = doc["seeds"];
    if (!s.is_number_integer() || s.get<std::int64_t>() < 1 || s.get<std::int64_t>() > kMaxSweepSeeds)
      fail(origin, "seeds", "must be an integer in [1, 1000000], got " + preview(s));
    spec.seeds = static_cast<int>(s.get<std::int64_t>());
  }
  spec.first_seed = spec.base.seed;
  if (doc.contains("first_seed")) {
    const json& s = doc["first_seed"];
    if (!s.is_number_integer() || (s.is_number_integer() && !s.is_number_unsigned() && s.get<std::int64_t>() < 0))
      fail(origin, "first_seed", "must be an integer in [0, 2^64 - 1 - seeds], got " + preview(s));
    spec.first_seed = s.get<std::uint64_t>();
    if (spec.first_seed > UINT64_MAX - static_cast<std::uint64_t>(spec.seeds))
      fail(origin, "first_seed", "must be an integer in [0, 2^64 - 1 - seeds], got " + preview(s));
  }

  // Grid.
  const json& grid = require(doc, "grid", origin, "");
  if (!grid.is_object()) fail(origin, "grid", "must be an object {\"mode\": ..., ...}");
  const std::string mode = require_string(require(grid, "mode", origin, "grid"), origin, "grid.mode");
  if (mode != "cartesian" && mode != "listed")
    fail(origin, "grid.mode", "must be \"cartesian\" or \"listed\", got \"" + mode + "\"");
  const bool cartesian = mode == "cartesian";
  check_keys(grid, cartesian ? std::vector<std::string>{"mode", "axes"} : std::vector<std::string>{"mode", "axes", "points"},
             origin, "grid");

  std::vector<Axis> axes;
  if (grid.contains("axes") || cartesian) {
    const json& a = require(grid, "axes", origin, "grid");
    if (!a.is_array() || a.empty()) fail(origin, "grid.axes", "must be a non-empty array of axes");
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string w = "grid.axes[" + std::to_string(i) + "]";
      Axis ax = parse_axis(a[i], cartesian, origin, w);
      for (const Axis& o : axes) {
        if (o.pointer == ax.pointer) fail(origin, w + ".pointer", "\"" + ax.pointer + "\" is already an axis");
        if (o.name == ax.name) fail(origin, w + ".name", "\"" + ax.name + "\" is already an axis name");
      }
      axes.push_back(std::move(ax));
    }
  }

  // Each grid point as (pointer -> value) in axis order, plus where it was written (for messages).
  std::vector<std::vector<json>> point_values;
  std::vector<std::string> point_where;
  if (cartesian) {
    std::size_t n = 1;
    for (const Axis& ax : axes) {
      if (n > kMaxSweepPoints / ax.values.size())
        fail(origin, "grid.axes", "more than " + std::to_string(kMaxSweepPoints) + " grid points");
      n *= ax.values.size();
    }
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<json> vals(axes.size());
      std::size_t rem = k;
      for (std::size_t a = axes.size(); a-- > 0;) {  // last axis fastest
        vals[a] = axes[a].values[rem % axes[a].values.size()];
        rem /= axes[a].values.size();
      }
      point_values.push_back(std::move(vals));
      point_where.push_back("grid point " + std::to_string(k));
    }
  } else {
    const json& pts = require(grid, "points", origin, "grid");
    if (!pts.is_array() || pts.empty()) fail(origin, "grid.points", "must be a non-empty array of {pointer: value} objects");
    if (pts.size() > kMaxSweepPoints) fail(origin, "grid.points", "more than " + std::to_string(kMaxSweepPoints) + " grid points");
    if (axes.empty()) {  // the pointers of the first point, sorted, name the columns
      if (!pts[0].is_object() || pts[0].empty()) fail(origin, "grid.points[0]", "must be a non-empty object {pointer: value}");
      for (auto it = pts[0].begin(); it != pts[0].end(); ++it) {
        Axis ax;
        ax.pointer = ax.name = it.key();
        if (ax.pointer.empty() || ax.pointer[0] != '/')
          fail(origin, "grid.points[0]", "key \"" + ax.pointer + "\" must be a JSON pointer such as /perp/liquidation/penalty_bps");
        axes.push_back(std::move(ax));
      }
      std::sort(axes.begin(), axes.end(), [](const Axis& a, const Axis& b) { return a.pointer < b.pointer; });
    }
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const std::string w = "grid.points[" + std::to_string(i) + "]";
      const json& p = pts[i];
      if (!p.is_object()) fail(origin, w, "must be an object {pointer: value}, got " + preview(p));
      std::vector<json> vals;
      for (const Axis& ax : axes) {
        auto it = p.find(ax.pointer);
        if (it == p.end()) fail(origin, w, "missing \"" + ax.pointer + "\" (every point sets every axis)");
        vals.push_back(*it);
      }
      for (auto it = p.begin(); it != p.end(); ++it) {
        const bool known = std::any_of(axes.begin(), axes.end(), [&](const Axis& ax) { return ax.pointer == it.key(); });
        if (!known) fail(origin, w, "\"" + it.key() + "\" is not an axis (axes: every point sets the same pointers)");
      }
      point_values.push_back(std::move(vals));
      point_where.push_back(w);
    }
  }
  for (const Axis& ax : axes) spec.param_names.push_back(ax.name);

  const std::size_t n_runs_per_point = spec.policies.size() * static_cast<std::size_t>(spec.seeds);
  if (point_values.size() > kMaxSweepRuns / n_runs_per_point)
    fail(origin, "grid", "more than " + std::to_string(kMaxSweepRuns) + " runs (points x policies x seeds)");

  // Every point: apply its values to the resolved base, validate. A bad pointer is reported at its axis.
  for (std::size_t k = 0; k < point_values.size(); ++k) {
    json d = resolved;
    SweepPoint pt;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const std::string w = cartesian ? "grid.axes[" + std::to_string(a) + "]" : point_where[k] + "[\"" + axes[a].pointer + "\"]";
      const std::string text_value = value_text(point_values[k][a], origin, w);
      try {
        apply_override(d, axes[a].pointer + "=" + point_values[k][a].dump(), "base " + spec.base_file);
      } catch (const ScenarioError& e) {
        fail(origin, cartesian ? w + ".pointer" : w, std::string("bad pointer \"") + axes[a].pointer + "\": " + e.what());
      }
      pt.params.emplace_back(axes[a].name, text_value);
    }
    // Messages read "SWEEP.json: grid point 3 (penalty_bps=-5, ...): perp.liquidation.penalty_bps: ...".
    pt.scenario = scenario_from_json(d, origin + ": " + point_where[k] + " (" + point_label(pt.params) + ")");
    pt.scenario.source_file = spec.base_file;
    spec.points.push_back(std::move(pt));
  }
  return spec;
}

SweepSpec load_sweep_file(const std::string& path, const std::vector<std::string>& base_overrides,
                          const std::vector<std::string>& allowed_policies) {
  const std::string text = read_text(path, path, "file");
  const std::string dir = fs::path(path).parent_path().string();
  return load_sweep_text(text, path, dir.empty() ? "." : dir, base_overrides, allowed_policies);
}

}  // namespace sl
