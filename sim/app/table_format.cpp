#include "sim/app/table_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "sim/core/number_format.hpp"

namespace sl::cli {

void add_format_option(po::options_description& opts, const char* what) {
  opts.add_options()("format", po::value<std::string>()->default_value("table"), what);
}

OutputFormat format_option(const po::variables_map& vm) {
  const std::string f = vm["format"].as<std::string>();
  if (f == "table") return OutputFormat::table;
  if (f == "csv") return OutputFormat::csv;
  if (f == "json") return OutputFormat::json;
  throw UsageError("--format " + f + ": must be table, csv or json");
}

std::optional<int> parse_printing_command(const std::vector<std::string>& args, const po::options_description& opts,
                                          const char* positional, const std::string& usage, PrintingCommand& cmd) {
  if (auto rc = parse_command(args, opts, positional, usage, cmd.vm)) return rc;
  cmd.quiet = cmd.vm.count("quiet") > 0;
  cmd.format = format_option(cmd.vm);
  return std::nullopt;
}

namespace {
// 4 significant digits of a mantissa in [1, 1000): "446.5", "12.35", "1.025", trailing zeros kept
// off ("2", "1.5").
std::string mantissa(double m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", m);
  return buf;
}
}  // namespace

std::string eng(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e3) {
    std::string s = mantissa(a);
    if (std::strtod(s.c_str(), nullptr) < 1e3) return std::string(v < 0 ? "-" : "").append(s);  // 999.96 -> "1 k" below
  }
  static const char* kBig[] = {"", " k", " M", " G", " T", " P", " E"};
  static const char* kSmall[] = {"", " m", " µ", " n", " p", " f", " a"};
  int group = static_cast<int>(std::floor(std::log10(a) / 3.0));  // 446500 -> 1 (k), 0.00012 -> -2 (µ)
  double m = a / std::pow(10.0, 3.0 * group);
  if (std::strtod(mantissa(m).c_str(), nullptr) >= 1e3) {  // rounding carried into the next prefix
    ++group;
    m /= 1e3;
  }
  if (group > 6 || group < -6) {  // beyond the prefixes: plain scientific
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3e", v);
    return buf;
  }
  const char* prefix = group >= 0 ? kBig[group] : kSmall[-group];
  return std::string(v < 0 ? "-" : "").append(mantissa(m)).append(prefix);
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count every byte that starts a code point
  return n;
}

namespace {

std::string pad_right(const std::string& s, std::size_t w) {
  const std::size_t d = display_width(s);
  return d >= w ? s : s + std::string(w - d, ' ');
}
std::string pad_left(const std::string& s, std::size_t w) {
  const std::size_t d = display_width(s);
  return d >= w ? s : std::string(w - d, ' ') + s;
}
// The first `w` display columns of s, "..." at the end when cut (ASCII assumed when cutting).
std::string cut(const std::string& s, std::size_t w) {
  if (display_width(s) <= w) return s;
  if (w <= 3) return std::string(w, '.');
  return s.substr(0, w - 3) + "...";
}

constexpr std::size_t kGap = 2;  // spaces between columns

}  // namespace

std::string render(const TextTable& t, std::size_t max_width) {
  const std::size_t nk = t.key_headers.size(), nv = t.value_headers.size();
  std::vector<std::size_t> kw(nk), vw(nv);
  for (std::size_t k = 0; k < nk; ++k) kw[k] = display_width(t.key_headers[k]);
  for (std::size_t v = 0; v < nv; ++v) vw[v] = display_width(t.value_headers[v]);
  for (const auto& r : t.rows) {
    for (std::size_t k = 0; k < nk && k < r.keys.size(); ++k) kw[k] = std::max(kw[k], display_width(r.keys[k]));
    for (std::size_t v = 0; v < nv && v < r.values.size(); ++v) vw[v] = std::max(vw[v], display_width(r.values[v]));
  }
  auto keys_width = [&] {
    std::size_t w = 0;
    for (std::size_t k = 0; k < nk; ++k) w += (k ? kGap : 0) + kw[k];
    return w;
  };
  // Room for the widest value column beside the keys: cut the first key column if needed.
  const std::size_t widest = nv ? *std::max_element(vw.begin(), vw.end()) : 0;
  if (nk && keys_width() + (nv ? kGap + widest : 0) > max_width) {
    const std::size_t rest = keys_width() - kw[0] + (nv ? kGap + widest : 0);
    kw[0] = rest + 4 < max_width ? max_width - rest : 4;
  }
  // Blocks of value columns: as many as fit, in order.
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // [begin, end)
  for (std::size_t v = 0; v < nv;) {
    std::size_t w = keys_width(), e = v;
    while (e < nv && (e == v || w + kGap + vw[e] <= max_width)) w += kGap + vw[e++];
    blocks.emplace_back(v, e);
    v = e;
  }
  if (blocks.empty()) blocks.emplace_back(0, 0);
  std::string out;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (b) out += "\n";
    auto line = [&](const std::vector<std::string>& keys, const std::vector<std::string>& values) {
      std::string s;
      for (std::size_t k = 0; k < nk; ++k)
        s += (k ? std::string(kGap, ' ') : "") + pad_right(cut(k < keys.size() ? keys[k] : "", kw[k]), kw[k]);
      for (std::size_t v = blocks[b].first; v < blocks[b].second; ++v)
        s += std::string(kGap, ' ') + pad_left(v < values.size() ? values[v] : "", vw[v]);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out += s + "\n";
    };
    line(t.key_headers, t.value_headers);
    for (const auto& r : t.rows) line(r.keys, r.values);
  }
  return out;
}

std::string wrap(const std::string& text, std::size_t width, std::size_t indent) {
  std::string out, line;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && display_width(line) + 1 + display_width(word) > width) {
      out += line + "\n";
      line = std::string(indent, ' ');
    }
    line += (line.empty() || line.back() == ' ' ? "" : " ") + word;
    start = end + 1;
  }
  return out + line + "\n";
}

SummaryRow summary_row(const RunResult& r) {
  return SummaryRow{r.run_id, r.policy, r.seed, r.run_index, r.summary, r.params};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string summary_csv(const std::vector<SummaryRow>& rows) {
  std::string out = "run_id,run_index,policy,seed";
  if (!rows.empty()) {
    for (const auto& [k, v] : rows[0].metrics) out.append(",").append(csv_field(k));
    for (const auto& [k, v] : rows[0].params) out.append(",").append(csv_field("param:" + k));
  }
  out += "\n";
  for (const auto& r : rows) {
    out += csv_field(r.run_id) + "," + std::to_string(r.run_index) + "," + csv_field(r.policy) + "," +
           std::to_string(r.seed);
    for (const auto& [k, v] : r.metrics) out.append(",").append(format_number(v));  // shortest round-trip text
    for (const auto& [k, v] : r.params) out.append(",").append(csv_field(v));
    out += "\n";
  }
  return out;
}

std::string summary_json(const std::vector<SummaryRow>& rows) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json o;
    o["run_id"] = r.run_id;
    o["run_index"] = r.run_index;
    o["policy"] = r.policy;
    o["seed"] = r.seed;
    for (const auto& [k, v] : r.metrics) o[k] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    for (const auto& [k, v] : r.params) o["param:" + k] = v;
    a.push_back(std::move(o));
  }
  return a.dump(1) + "\n";
}

bool print_summary_rows(OutputFormat format, const std::vector<SummaryRow>& rows) {
  if (format == OutputFormat::csv) std::cout << summary_csv(rows);
  else if (format == OutputFormat::json) std::cout << summary_json(rows);
  return format != OutputFormat::table;
}

}  // namespace sl::cli
