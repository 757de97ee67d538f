// Declarative scenario schema: one table row per JSON field, driving validation, filling the config
// structs, writing the fully-resolved config back to JSON, resolving --set paths and the field
// reference (scenario_schema_reference()).
//
// Adding a field is one line in scenarios/schema.cpp, in the table of the struct that holds it:
//   field("dt_s", &ScenarioConfig::dt_s, {.required = true, .range = open_closed(0, 86400),
//                                          .unit = "s", .doc = "simulated seconds per step"}),
// The member's C++ type picks the JSON type: double -> number, int/int64 -> integer, uint64 ->
// unsigned integer, bool -> boolean, std::string -> string (.one_of makes it an enum). Nested
// structs use object_field(), std::vector<struct> uses array_field(); both take the child's table.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario_config.hpp"
#include "sim/core/number_format.hpp"
#include "sim/core/fixed_point.hpp"

namespace sl::schema {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // output keeps the schema's field order

enum class Kind { Number, Integer, Unsigned, Boolean, String, Object, Array };

// A numeric interval; bounds are inclusive or exclusive. `full` = the whole range of the C++ type
// (used for the uint64 seed).
struct Limits {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_incl = true;
  bool hi_incl = true;
  bool full = false;
};
constexpr Limits closed(double lo, double hi) { return {lo, hi, true, true, false}; }
constexpr Limits open_closed(double lo, double hi) { return {lo, hi, false, true, false}; }
constexpr Limits closed_open(double lo, double hi) { return {lo, hi, true, false, false}; }
constexpr Limits open(double lo, double hi) { return {lo, hi, false, false, false}; }
constexpr Limits full_range() { Limits l; l.full = true; return l; }

// Everything a table row may say; designated initializers keep rows short.
struct Opt {
  bool required = false;
  Limits range = {};                     // numbers and integers (mandatory for them)
  std::vector<std::string> one_of = {};  // strings: allowed values (an enum)
  const char* unit = "";
  const char* doc = "";
  bool micros = false;                   // number becomes fixed-point micro-units (1e-6) at load
  std::size_t min_len = 0;               // strings: length; arrays: item count
  std::size_t max_len = 256;
  bool identifier = false;               // strings: only [A-Za-z0-9_.-]
};

class ObjectInfo;

// The type-independent part of a row.
struct FieldMeta {
  std::string name;
  Kind kind = Kind::Number;
  Opt opt;
  const ObjectInfo* child = nullptr;  // Object: its table; Array: the element's table
  // Human-readable type+range, e.g. "a number in (0, 86400]".
  std::string expectation() const;
};

// Type-erased view of one struct's table (for --set path resolution and the field reference).
class ObjectInfo {
 public:
  virtual ~ObjectInfo() = default;
  virtual std::size_t size() const = 0;
  virtual const FieldMeta& at(std::size_t i) const = 0;
  virtual ojson defaults() const = 0;  // the struct's defaults, as JSON
  const FieldMeta* find(const std::string& name) const;
  std::vector<std::string> names() const;
};

// Collects errors as "PATH: MESSAGE" lines (the origin is prefixed by the loader).
struct Errors {
  std::vector<std::string> lines;
  void add(const std::string& path, const std::string& msg) { lines.push_back(path + ": " + msg); }
  bool empty() const { return lines.empty(); }
};

// ----- helpers shared by the readers (schema.cpp) -----
std::string join_path(const std::string& parent, const std::string& name);
std::string index_path(const std::string& parent, std::size_t i);
std::string preview(const json& v);   // short rendering of a JSON value for "got ..."
using sl::format_number;            // sim/core/number_format.hpp
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
std::string quoted_list(const std::vector<std::string>& v);

bool read_number(const FieldMeta& m, const json& v, const std::string& path, Errors& e, double& out);
bool read_signed(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::int64_t& out);
bool read_unsigned(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::uint64_t& out);
bool read_bool(const FieldMeta& m, const json& v, const std::string& path, Errors& e, bool& out);
bool read_string(const FieldMeta& m, const json& v, const std::string& path, Errors& e, std::string& out);

// ----- typed tables -----
template <class T>
struct Field : FieldMeta {
  std::function<void(const FieldMeta&, T&, const json&, const std::string&, Errors&)> read;
  std::function<ojson(const T&)> write;
};

template <class T>
class ObjectSchema : public ObjectInfo {
 public:
  ObjectSchema(std::vector<Field<T>> fields) : fields_(std::move(fields)) {}
  std::size_t size() const override { return fields_.size(); }
  const FieldMeta& at(std::size_t i) const override { return fields_[i]; }
  const std::vector<Field<T>>& fields() const { return fields_; }
  ojson defaults() const override { return write(T{}); }

  // Validates the JSON object `j` at `path` and fills `obj` (which starts with the struct's
  // defaults). All problems are appended to `e`.
  void read(T& obj, const json& j, const std::string& path, Errors& e) const {
    if (!j.is_object()) {
      e.add(path.empty() ? "(top level)" : path, "must be an object, got " + preview(j));
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (find(it.key()) == nullptr) {
        std::string msg = "unknown field";
        const std::string s = did_you_mean(it.key(), names());
        if (!s.empty())
          msg += " (did you mean '" + s + "'?)";
        else
          msg += " (allowed here: " + quoted_list(names()) + ")";
        e.add(join_path(path, it.key()), msg);
      }
    }
    for (const Field<T>& f : fields_) {
      const auto it = j.find(f.name);
      if (it == j.end()) {
        if (f.opt.required) {
          std::string msg = "required field is missing (" + f.expectation();
          if (*f.opt.unit) msg += ", " + std::string(f.opt.unit);
          e.add(join_path(path, f.name), msg + ")");
        }
        continue;
      }
      f.read(f, obj, *it, join_path(path, f.name), e);
    }
  }

  ojson write(const T& obj) const {
    ojson j = ojson::object();
    for (const Field<T>& f : fields_) j[f.name] = f.write(obj);
    return j;
  }

 private:
  std::vector<Field<T>> fields_;
};

// A scalar row: the member's type picks the JSON kind.
template <class T, class M>
Field<T> field(const char* name, M T::*mem, Opt opt) {
  Field<T> f;
  f.name = name;
  f.opt = std::move(opt);
  if constexpr (std::is_same_v<M, double>) {
    f.kind = Kind::Number;
    f.read = [mem](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
      double x;
      if (read_number(m, v, p, e, x)) o.*mem = x;
    };
  } else if constexpr (std::is_same_v<M, bool>) {
    f.kind = Kind::Boolean;
    f.read = [mem](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
      bool x;
      if (read_bool(m, v, p, e, x)) o.*mem = x;
    };
  } else if constexpr (std::is_same_v<M, std::string>) {
    f.kind = Kind::String;
    f.read = [mem](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
      std::string x;
      if (read_string(m, v, p, e, x)) o.*mem = std::move(x);
    };
  } else if constexpr (std::is_integral_v<M> && std::is_unsigned_v<M>) {
    static_assert(sizeof(M) == 8, "unsigned fields are uint64");
    f.kind = Kind::Unsigned;
    f.read = [mem](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
      std::uint64_t x;
      if (read_unsigned(m, v, p, e, x)) o.*mem = static_cast<M>(x);
    };
  } else if constexpr (std::is_integral_v<M>) {
    f.kind = Kind::Integer;
    f.read = [mem](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
      std::int64_t x;
      // read_signed enforces the row's range, which every table keeps inside M's range.
      if (read_signed(m, v, p, e, x)) o.*mem = static_cast<M>(x);
    };
  } else {
    static_assert(!sizeof(M), "unsupported member type; use object_field/array_field for structs");
  }
  f.write = [mem](const T& o) { return ojson(o.*mem); };
  return f;
}

// A nested struct.
template <class T, class M>
Field<T> object_field(const char* name, M T::*mem, const ObjectSchema<M>& child, Opt opt) {
  Field<T> f;
  f.name = name;
  f.kind = Kind::Object;
  f.opt = std::move(opt);
  f.child = &child;
  f.read = [mem, &child](const FieldMeta&, T& o, const json& v, const std::string& p, Errors& e) {
    child.read(o.*mem, v, p, e);
  };
  f.write = [mem, &child](const T& o) { return child.write(o.*mem); };
  return f;
}

// A std::vector of structs; opt.min_len/max_len bound the item count.
template <class T, class E>
Field<T> array_field(const char* name, std::vector<E> T::*mem, const ObjectSchema<E>& child, Opt opt) {
  Field<T> f;
  f.name = name;
  f.kind = Kind::Array;
  f.opt = std::move(opt);
  f.child = &child;
  f.read = [mem, &child](const FieldMeta& m, T& o, const json& v, const std::string& p, Errors& e) {
    if (!v.is_array() || v.size() < m.opt.min_len || v.size() > m.opt.max_len) {
      e.add(p, "must be " + m.expectation() + ", got " + preview(v));
      return;
    }
    std::vector<E> items(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) child.read(items[i], v[i], index_path(p, i), e);
    o.*mem = std::move(items);
  };
  f.write = [mem, &child](const T& o) {
    ojson a = ojson::array();
    for (const E& item : o.*mem) a.push_back(child.write(item));
    return a;
  };
  return f;
}

// The scenario's root table (scenarios/schema.cpp).
const ObjectSchema<ScenarioConfig>& scenario_schema();

}  // namespace sl::schema
