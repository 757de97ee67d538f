#include "scenarios/position_file.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include "scenarios/loader.hpp"

namespace sl {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t b = 0;
  for (;;) {
    const std::size_t e = line.find(',', b);
    out.push_back(trim(line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b)));
    if (e == std::string_view::npos) return;
    b = e + 1;
  }
}

bool parse_number(std::string_view s, double& v) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(v);
}

std::string num(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", x);
  return b;
}

struct Errors {
  std::string path;
  std::vector<std::string> lines;
  std::size_t more = 0;
  void add(std::size_t line, const std::string& field, const std::string& msg) {
    if (lines.size() < kMaxReportedErrors - 1) lines.push_back(path + ":" + std::to_string(line) + ": " + field + ": " + msg);
    else ++more;
  }
  void add_file(const std::string& msg) { lines.push_back(path + ": " + msg); }
  [[noreturn]] void raise() const {
    std::string all;
    for (const std::string& l : lines) all += (all.empty() ? "" : "\n") + l;
    if (more > 0) all += "\n(" + std::to_string(more) + " more errors not shown)";
    throw ScenarioError(all);
  }
};

enum Col : int { kSide, kSize, kEntry, kQuote, kMode, kAsset, kLeverage, kTier, kNamedCols };
constexpr const char* kColNames[kNamedCols] = {"side", "size", "entry_price", "quote_collateral", "margin_mode",
                                              "asset", "leverage", "tier"};
constexpr int kRequiredCols = 5;  // the first five

}  // namespace

std::string resolve_position_file(const std::string& file, const std::string& base_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> tried;
  const fs::path p(file);
  if (p.is_absolute() || base_dir.empty()) tried.push_back(file);
  else {
    tried.push_back((fs::path(base_dir) / p).string());
    tried.push_back(file);
  }
  for (const std::string& t : tried) {
    std::error_code ec;
    if (fs::is_regular_file(t, ec)) return t;
  }
  std::string msg = "accounts.file: position file not found (tried: ";
  for (std::size_t i = 0; i < tried.size(); ++i) msg += (i ? ", " : "") + tried[i];
  throw ScenarioError(msg + ")");
}

std::shared_ptr<const PositionBook> load_position_file(const ScenarioConfig& c, const std::string& base_dir) {
  const std::string path = resolve_position_file(c.accounts.file, base_dir);
  Errors err{path, {}, 0};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err.add_file("cannot open");
    err.raise();
  }
  const std::size_t n_assets = c.assets.size();
  auto book = std::make_shared<PositionBook>();
  std::vector<int> col_of(kNamedCols, -1);       // named column -> position in the row
  std::vector<int> spot_col(n_assets, -1);       // asset -> position of spot_<SYMBOL>
  std::size_t n_cols = 0;
  bool have_header = false;
  std::string line;
  std::vector<std::string_view> f;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    split(t, f);
    if (!have_header) {
      have_header = true;
      n_cols = f.size();
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::string name(f[i]);
        int found = -1;
        for (int k = 0; k < kNamedCols; ++k)
          if (name == kColNames[k]) found = k;
        int* slot = found >= 0 ? &col_of[static_cast<std::size_t>(found)] : nullptr;
        for (std::size_t a = 0; a < n_assets && !slot; ++a)
          if (name == "spot_" + c.assets[a].symbol) slot = &spot_col[a];
        if (!slot) {
          std::string allowed;
          for (const char* k : kColNames) allowed += std::string(allowed.empty() ? "" : ", ") + k;
          for (const auto& a : c.assets) allowed += ", spot_" + a.symbol;
          err.add(line_no, "header", "unknown column \"" + name + "\" (allowed: " + allowed + ")");
        } else if (*slot >= 0) {
          err.add(line_no, "header", "column \"" + name + "\" appears twice");
        } else {
          *slot = static_cast<int>(i);
        }
      }
      for (int k = 0; k < kRequiredCols; ++k)
        if (col_of[static_cast<std::size_t>(k)] < 0) err.add(line_no, "header", std::string("missing required column \"") + kColNames[k] + "\"");
      if (!err.lines.empty()) err.raise();
      continue;
    }
    if (f.size() != n_cols) {
      err.add(line_no, "(row)", std::to_string(f.size()) + " fields, the header has " + std::to_string(n_cols));
      continue;
    }
    if (book->rows.size() >= kMaxPositionRows) {
      err.add(line_no, "(row)", "more than " + std::to_string(kMaxPositionRows) + " positions");
      break;
    }
    const auto field = [&](Col k) { return col_of[k] < 0 ? std::string_view{} : f[static_cast<std::size_t>(col_of[k])]; };
    PositionRow r;
    r.line = static_cast<std::int32_t>(line_no);
    // asset
    if (const std::string_view a = field(kAsset); !a.empty()) {
      r.asset = -1;
      for (std::size_t i = 0; i < n_assets; ++i)
        if (a == c.assets[i].symbol) r.asset = static_cast<std::int32_t>(i);
      if (r.asset < 0) {
        std::string allowed;
        for (const auto& x : c.assets) allowed += (allowed.empty() ? "" : ", ") + x.symbol;
        err.add(line_no, "asset", "must be one of the scenario's assets (" + allowed + "), got \"" + std::string(a) + "\"");
        continue;
      }
    }
    const AssetConfig& ac = c.assets[static_cast<std::size_t>(r.asset)];
    // side, margin_mode
    const std::string_view side = field(kSide);
    if (side == "long" || side == "short") r.is_long = side == "long";
    else err.add(line_no, "side", "must be \"long\" or \"short\", got \"" + std::string(side) + "\"");
    const std::string_view mode = field(kMode);
    if (mode == "cross" || mode == "isolated") r.isolated = mode == "isolated";
    else err.add(line_no, "margin_mode", "must be \"cross\" or \"isolated\", got \"" + std::string(mode) + "\"");
    // size: whole lots
    bool notional_ok = true;  // size and entry_price valid: the tier can be checked
    if (!parse_number(field(kSize), r.size) || !(r.size > 0 && r.size <= 1e9)) {
      err.add(line_no, "size", "must be a number in (0, 1e9] (" + ac.symbol + " units), got \"" + std::string(field(kSize)) + "\"");
      notional_ok = false;
    } else {
      const double lots = r.size / ac.lot_size;
      if (std::abs(lots - std::round(lots)) > 1e-6 * std::max(1.0, lots))
        err.add(line_no, "size", "must be a whole number of lots (lot_size " + num(ac.lot_size) + "), got " + num(r.size));
    }
    if (!parse_number(field(kEntry), r.entry_price) || !(r.entry_price > 0 && r.entry_price <= 1e12)) {
      err.add(line_no, "entry_price", "must be a number in (0, 1e12] (quote per unit), got \"" + std::string(field(kEntry)) + "\"");
      notional_ok = false;
    }
    // tier and leverage need the notional
    const double notional = r.size * r.entry_price;
    const auto& tiers = c.perp.margin_tiers;
    std::size_t tier = tiers.size() - 1;
    for (std::size_t t = 0; t < tiers.size(); ++t)
      if (notional <= tiers[t].max_notional) {
        tier = t;
        break;
      }
    if (const std::string_view tv = field(kTier); !tv.empty()) {
      double tn = 0;
      if (!parse_number(tv, tn) || tn != std::floor(tn) || tn < 0 || tn >= static_cast<double>(tiers.size()))
        err.add(line_no, "tier", "must be an integer in [0, " + std::to_string(tiers.size() - 1) + "] (perp.margin_tiers), got \"" + std::string(tv) + "\"");
      else if (notional_ok && static_cast<std::size_t>(tn) != tier)
        err.add(line_no, "tier", "is " + num(tn) + " but the notional size x entry_price = " + num(notional) + " is in tier " +
                                     std::to_string(tier) + " (max_notional " + num(tiers[tier].max_notional) + ")");
    }
    double leverage = 0;
    const double max_leverage = 10000.0 / tiers[tier].imr_bps;
    if (const std::string_view lv = field(kLeverage); !lv.empty()) {
      if (!parse_number(lv, leverage) || !(leverage >= 1 && leverage <= max_leverage * (1 + 1e-12))) {
        err.add(line_no, "leverage", "must be a number in [1, " + num(max_leverage) + "] (10000 / imr_bps of tier " + std::to_string(tier) +
                                         "), got \"" + std::string(lv) + "\"");
        leverage = 0;
      }
    }
    if (const std::string_view q = field(kQuote); !q.empty()) {
      if (!parse_number(q, r.quote_collateral) || !(r.quote_collateral >= 0 && r.quote_collateral <= 1e15))
        err.add(line_no, "quote_collateral", "must be a number in [0, 1e15] (quote units), got \"" + std::string(q) + "\"");
    } else if (leverage > 0) {
      r.quote_collateral = notional / leverage;
    } else if (field(kLeverage).empty()) {
      err.add(line_no, "quote_collateral", "is empty and no leverage is given to derive it from (size x entry_price / leverage)");
    }
    for (std::size_t a = 0; a < n_assets; ++a) {
      double units = 0;
      if (spot_col[a] >= 0) {
        const std::string_view sv = f[static_cast<std::size_t>(spot_col[a])];
        const std::string name = "spot_" + c.assets[a].symbol;
        if (!sv.empty() && (!parse_number(sv, units) || !(units >= 0 && units <= 1e12))) {
          err.add(line_no, name, "must be a number in [0, 1e12] (" + c.assets[a].symbol + " units), got \"" + std::string(sv) + "\"");
          units = 0;
        } else if (units > 0 && r.isolated) {
          err.add(line_no, name, "must be 0 or empty for an isolated position (it holds quote margin only), got " + num(units));
        }
      }
      book->spot.push_back(units);
    }
    book->rows.push_back(r);
  }
  if (in.bad()) err.add_file("read error");
  if (!have_header) err.add_file("no header line (an empty file?)");
  else if (book->rows.empty() && err.lines.empty()) err.add_file("no positions after the header");
  if (!err.lines.empty() || err.more > 0) err.raise();
  return book;
}

}  // namespace sl
