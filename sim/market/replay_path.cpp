// Historical price replay: CSV loading, validation and resampling (rules in sim/market/replay_path.hpp).
#include "sim/market/replay_path.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <boost/random/normal_distribution.hpp>

#include "sim/core/number_format.hpp"
#include "sim/core/rng.hpp"

namespace sl {
namespace {

struct Row {
  double t = 0;                 // ms, shifted
  double raw_t = 0;             // as in the file
  double o = 0, h = 0, l = 0, c = 0;  // plain: all four = price
  std::size_t line = 0;
};

// One straight piece of the path; `noise` > 0 adds the bounded bridge noise within [lo, hi].
struct Segment {
  double ta, tb, pa, pb;
  double lo, hi, noise;
};

[[noreturn]] void fail_line(const std::string& file, std::size_t line, const std::string& msg) {
  throw DataError(file + ":" + std::to_string(line) + ": " + msg);
}
[[noreturn]] void fail_file(const std::string& file, const std::string& msg) { throw DataError(file + ": " + msg); }

// Timestamps: whole numbers in full (1600000000000, not 1.6e12).
std::string num_text(double x) {
  if (x == std::floor(x) && std::fabs(x) < 9e15) return std::to_string(static_cast<long long>(x));
  return format_number(x);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = line.find(',', pos);
    out.push_back(trim(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string shown(std::string_view s) {
  std::string v(s.substr(0, 40));
  if (s.size() > 40) v += "...";
  return "'" + v + "'";
}

std::string resolve(const std::string& file, const std::string& base_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> tried;
  const fs::path p(file);
  if (p.is_absolute()) {
    tried.push_back(file);
  } else {
    if (!base_dir.empty()) tried.push_back((fs::path(base_dir) / p).string());
    tried.push_back(file);
  }
  for (const std::string& t : tried) {
    std::error_code ec;
    if (fs::is_regular_file(t, ec)) return t;
  }
  std::string msg = "replay file not found (tried: ";
  for (std::size_t i = 0; i < tried.size(); ++i) msg += (i ? ", " : "") + tried[i];
  throw DataError(file + ": " + msg + ")");
}

struct Loaded {
  std::vector<Row> rows;
  bool kline = false;
};

Loaded read_rows(const std::string& path, const ReplayConfig& cfg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_file(path, "cannot open the replay file");
  Loaded L;
  static const char* kPlainNames[] = {"timestamp", "price"};
  static const char* kKlineNames[] = {"open_time_ms", "open", "high", "low", "close"};
  std::string line;
  std::size_t lineno = 0, ncols = 0, first_data_line = 0, header_line = 0, header_cols = 0;
  bool seen_nonblank = false, seconds = false;
  const double shift_ms = cfg.time_shift_s * 1000.0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string_view text = trim(line);
    if (text.empty()) continue;
    const std::vector<std::string_view> f = split(text);
    if (!seen_nonblank) {
      seen_nonblank = true;
      bool numeric = true;
      double x;
      for (std::string_view s : f) numeric = numeric && parse_number(s, x);
      if (!numeric) {
        header_line = lineno;
        header_cols = f.size();
        continue;
      }
    }
    if (ncols == 0) {
      ncols = f.size();
      first_data_line = lineno;
      const std::string expect =
          "expected 2 (timestamp,price) or at least 5 (kline: open_time_ms,open,high,low,close,...)";
      if (cfg.format == "plain") {
        if (ncols != 2) fail_line(path, lineno, std::to_string(ncols) + " columns; format \"plain\" expects 2 (timestamp,price)");
      } else if (cfg.format == "kline") {
        if (ncols < 5)
          fail_line(path, lineno, std::to_string(ncols) + " columns; format \"kline\" expects at least 5 (open_time_ms,open,high,low,close,...)");
      } else if (ncols != 2 && ncols < 5) {
        fail_line(path, lineno, std::to_string(ncols) + " columns; " + expect);
      }
      L.kline = ncols >= 5;
      if (header_line && header_cols != ncols)
        fail_line(path, header_line, "the header has " + std::to_string(header_cols) + " columns but the first data row (line " +
                                          std::to_string(lineno) + ") has " + std::to_string(ncols));
    } else if (f.size() != ncols) {
      fail_line(path, lineno, std::to_string(f.size()) + " columns; expected " + std::to_string(ncols) +
                                  " like the first data row (line " + std::to_string(first_data_line) + ")");
    }
    const std::size_t used = L.kline ? 5 : 2;
    double v[5];
    for (std::size_t i = 0; i < used; ++i) {
      if (!parse_number(f[i], v[i]))
        fail_line(path, lineno, "column " + std::to_string(i + 1) + " (" + (L.kline ? kKlineNames[i] : kPlainNames[i]) + "): " +
                                    shown(f[i]) + " is not a number");
      if (!std::isfinite(v[i]))
        fail_line(path, lineno, "column " + std::to_string(i + 1) + " (" + (L.kline ? kKlineNames[i] : kPlainNames[i]) +
                                    "): " + shown(f[i]) + " is not finite");
      if (i > 0 && !(v[i] > 0))
        fail_line(path, lineno, std::string(L.kline ? kKlineNames[i] : "price") + " must be positive, got " + shown(f[i]));
    }
    Row r;
    r.line = lineno;
    r.raw_t = v[0];
    if (L.kline) {
      r.o = v[1], r.h = v[2], r.l = v[3], r.c = v[4];
      if (r.l > std::min(r.o, r.c))
        fail_line(path, lineno, "low " + format_number(r.l) + " is above min(open, close) = " + format_number(std::min(r.o, r.c)) +
                                    "; a bar's low must be <= its open and close");
      if (r.h < std::max(r.o, r.c))
        fail_line(path, lineno, "high " + format_number(r.h) + " is below max(open, close) = " +
                                    format_number(std::max(r.o, r.c)) + "; a bar's high must be >= its open and close");
      r.t = v[0] + shift_ms;
    } else {
      r.o = r.h = r.l = r.c = v[1];
      if (L.rows.empty()) seconds = std::fabs(v[0]) < 1e11;
      r.t = (seconds ? v[0] * 1000.0 : v[0]) + shift_ms;
    }
    if (!L.rows.empty()) {
      const Row& p = L.rows.back();
      if (r.raw_t == p.raw_t)
        fail_line(path, lineno, "duplicate timestamp " + num_text(r.raw_t) + " (same as line " + std::to_string(p.line) + ")");
      if (r.raw_t < p.raw_t)
        fail_line(path, lineno, "timestamp " + num_text(r.raw_t) + " is earlier than line " + std::to_string(p.line) + "'s (" +
                                    num_text(p.raw_t) + "); rows must be sorted by time, ascending");
    }
    L.rows.push_back(r);
  }
  if (L.rows.empty()) fail_file(path, header_line ? "no data rows (only a header)" : "no data rows (empty file)");
  if (L.rows.size() < 2) fail_file(path, "only 1 data row; a replay needs at least 2");
  return L;
}

// kline: the most common difference (ties: the smallest); plain: the median difference.
double spacing(const std::vector<Row>& rows, bool kline) {
  std::vector<double> d;
  for (std::size_t i = 1; i < rows.size(); ++i) d.push_back(rows[i].t - rows[i - 1].t);
  std::sort(d.begin(), d.end());
  if (!kline) {
    const std::size_t n = d.size();
    return n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
  }
  double best = d[0];
  std::size_t best_n = 0;
  for (std::size_t i = 0; i < d.size();) {
    std::size_t j = i;
    while (j < d.size() && d[j] == d[i]) ++j;
    if (j - i > best_n) best_n = j - i, best = d[i];
    i = j;
  }
  return best;
}

std::string seconds_text(double ms) { return format_number(ms / 1000.0) + " s"; }

void check_spacing(const std::string& path, const std::vector<Row>& rows, bool kline, double interval, bool repair) {
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const double d = rows[i].t - rows[i - 1].t;
    const std::string prev = "line " + std::to_string(rows[i - 1].line);
    if (kline && d < interval)
      fail_line(path, rows[i].line, "open time is only " + seconds_text(d) + " after the previous bar's (" + prev +
                                        "), less than the bar interval of " + seconds_text(interval) + " (overlapping bars)");
    if (d > 1.5 * interval && !repair)
      fail_line(path, rows[i].line, "gap of " + seconds_text(d) + " since the previous row (" + prev + "), more than 1.5x the " +
                                        (kline ? "bar interval" : "median spacing") + " of " + seconds_text(interval) +
                                        " (missing data); fix the file or set replay.on_gap = \"interpolate\" to bridge gaps "
                                        "with a straight line");
  }
}

std::vector<Segment> build_segments(const std::vector<Row>& rows, bool kline, double interval, const ReplayConfig& cfg) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<Segment> segs;
  if (!kline) {
    for (std::size_t i = 1; i < rows.size(); ++i)
      segs.push_back({rows[i - 1].t, rows[i].t, rows[i - 1].c, rows[i].c, -inf, inf, 0.0});
    return segs;
  }
  if (cfg.intrabar == "close") {
    segs.push_back({rows[0].t, rows[0].t + interval, rows[0].o, rows[0].c, -inf, inf, 0.0});
    for (std::size_t i = 1; i < rows.size(); ++i)
      segs.push_back({rows[i - 1].t + interval, rows[i].t + interval, rows[i - 1].c, rows[i].c, -inf, inf, 0.0});
    return segs;
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const bool up = r.c >= r.o;
    const double e1 = up ? r.l : r.h, e2 = up ? r.h : r.l;
    const double t[4] = {r.t, r.t + interval / 3.0, r.t + 2.0 * interval / 3.0, r.t + interval};
    const double p[4] = {r.o, e1, e2, r.c};
    const double noise = cfg.intrabar_noise * (r.h - r.l);
    for (int k = 0; k < 3; ++k) segs.push_back({t[k], t[k + 1], p[k], p[k + 1], r.l, r.h, noise});
    if (i + 1 < rows.size() && rows[i + 1].t > t[3])
      segs.push_back({t[3], rows[i + 1].t, r.c, rows[i + 1].o, -inf, inf, 0.0});
  }
  return segs;
}

}  // namespace

std::vector<double> load_replay_path(const ReplayConfig& cfg, double dt_s, std::int64_t horizon_steps, double initial_price,
                                     std::uint64_t seed, const std::string& base_dir) {
  if (cfg.file.empty()) throw DataError("replay: no file given");
  if (!(dt_s > 0) || horizon_steps < 0) throw DataError("replay: invalid dt_s or horizon_steps");
  const std::string path = resolve(cfg.file, base_dir);
  const Loaded L = read_rows(path, cfg);
  const double interval = spacing(L.rows, L.kline);
  check_spacing(path, L.rows, L.kline, interval, cfg.on_gap == "interpolate");
  const std::vector<Segment> segs = build_segments(L.rows, L.kline, interval, cfg);

  const double first_t = segs.front().ta, last_t = segs.back().tb;
  const double dt_ms = dt_s * 1000.0;
  double t0 = first_t;
  if (cfg.start_time_ms >= 0) {
    t0 = static_cast<double>(cfg.start_time_ms);
    if (t0 < first_t || t0 > last_t)
      fail_file(path, "start_time_ms " + std::to_string(cfg.start_time_ms) + " is outside the data, which span " +
                          num_text(first_t) + " to " + num_text(last_t) + " ms (after time_shift_s)");
  }
  const double end_t = t0 + static_cast<double>(horizon_steps) * dt_ms;
  if (end_t > last_t + 1e-6) {
    const double covered = std::floor((last_t - t0) / dt_ms + 1e-9);
    fail_file(path, "the data cover only " + format_number(covered) + " steps of dt_s = " + format_number(dt_s) + " s from " +
                        num_text(t0) + " ms to the last observation at " + num_text(last_t) +
                        " ms; horizon_steps is " + std::to_string(horizon_steps));
  }

  Rng rng(seed);
  boost::random::normal_distribution<double> normal;
  std::vector<double> out(static_cast<std::size_t>(horizon_steps) + 1);
  std::size_t j = 0, bridge_seg = static_cast<std::size_t>(-1);
  double bu = 0, bx = 0;  // Brownian bridge state within segment bridge_seg (normalized time, value)
  for (std::size_t k = 0; k < out.size(); ++k) {
    const double t = std::min(t0 + static_cast<double>(k) * dt_ms, last_t);
    while (j + 1 < segs.size() && t >= segs[j].tb) ++j;
    const Segment& s = segs[j];
    const double u = std::clamp((t - s.ta) / (s.tb - s.ta), 0.0, 1.0);
    const double lin = u >= 1.0 ? s.pb : s.pa + (s.pb - s.pa) * u;
    double p = lin;
    if (s.noise > 0 && u > 0 && u < 1) {
      if (bridge_seg != j) bridge_seg = j, bu = 0, bx = 0;
      const double x = bx * (1 - u) / (1 - bu) + std::sqrt((u - bu) * (1 - u) / (1 - bu)) * normal(rng);
      bu = u, bx = x;
      const double n = s.noise * x;
      const double room = n > 0 ? s.hi - lin : lin - s.lo;
      if (room > 0) p = lin + (n > 0 ? 1.0 : -1.0) * room * std::tanh(std::fabs(n) / room);
      p = std::clamp(p, s.lo, s.hi);
      // tanh saturates to 1 in floating point: keep the extremes for their waypoints only.
      if ((p == s.lo && lin > s.lo) || (p == s.hi && lin < s.hi)) p = std::nextafter(p, lin);
    }
    out[k] = p;
  }

  double factor = cfg.rescale;
  if (cfg.rescale_to_initial) {
    factor *= initial_price / out[0];
  } else if (std::fabs(out[0] * factor / initial_price - 1.0) > 0.1) {
    fail_file(path, "the replay starts at " + format_number(out[0] * factor) + (cfg.rescale != 1.0 ? " (after rescale)" : "") +
                        ", more than 10% away from initial_price " + format_number(initial_price) +
                        "; set replay.rescale_to_initial = true or an initial_price near the data");
  }
  if (factor != 1.0)
    for (double& x : out) x *= factor;
  return out;
}

}  // namespace sl
