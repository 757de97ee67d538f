// Scenario loading: file reading, safe JSON parsing, --set overrides, schema validation
// (scenarios/schema.cpp) and cross-field checks/derivations.
#include "scenarios/loader.hpp"
#include "scenarios/position_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "scenarios/schema.hpp"

namespace sl {

using nlohmann::json;
namespace sc = schema;

namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& where, const std::string& msg) {
  throw ScenarioError(origin + ": " + where + ": " + msg);
}

[[noreturn]] void fail_all(const std::string& origin, const std::vector<std::string>& lines) {
  std::string msg;
  const std::size_t n = lines.size();
  const std::size_t shown = n > kMaxReportedErrors ? kMaxReportedErrors - 1 : n;
  for (std::size_t i = 0; i < shown; ++i) {
    if (i) msg += '\n';
    msg += origin + ": " + lines[i];
  }
  if (shown < n) msg += "\n" + origin + ": ... and " + std::to_string(n - shown) + " more errors";
  throw ScenarioError(msg);
}

// Makes arbitrary bytes printable (parse error messages can quote raw input).
std::string sanitize(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    if (out.size() > 300) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string line_col(std::size_t line, std::size_t col) {
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// Rejects NUL bytes and nesting deeper than kMaxScenarioDepth before the parser sees the text.
void check_depth(std::string_view text, const std::string& origin, const std::string& where_prefix) {
  int depth = 0;
  bool in_string = false, escaped = false;
  std::size_t line = 1, col = 0;
  for (const char c : text) {
    ++col;
    if (c == '\n') {
      ++line;
      col = 0;
    }
    // nlohmann's lexer takes NUL for the end of input ("{}\0junk" would parse): reject it here.
    if (c == '\0') fail(origin, where_prefix + line_col(line, col), "invalid JSON: NUL byte (binary data?)");
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxScenarioDepth)
        fail(origin, where_prefix + line_col(line, col),
             "nesting deeper than " + std::to_string(kMaxScenarioDepth) + " levels");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

// Tracks the position in the document during parsing, to report duplicate keys with their path.
struct DupTracker {
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    std::size_t index = 0;
  };
  std::vector<Frame> stack;
  std::vector<std::string> errors;

  std::string path_to_top() const {  // path of the innermost container
    std::string p;
    for (std::size_t i = 0; i + 1 < stack.size(); ++i) {
      const Frame& f = stack[i];
      p = f.object ? sc::join_path(p, f.key) : sc::index_path(p, f.index);
    }
    return p;
  }
  void value_done() {
    if (!stack.empty() && !stack.back().object) ++stack.back().index;
  }
  bool operator()(int, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start: stack.push_back({true, {}, {}, 0}); break;
      case json::parse_event_t::array_start: stack.push_back({false, {}, {}, 0}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        value_done();
        break;
      case json::parse_event_t::key:
        if (!stack.empty() && parsed.is_string()) {
          Frame& f = stack.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second && errors.size() < 100)
            errors.push_back(sc::join_path(path_to_top(), f.key) + ": duplicate key (each field may appear once)");
        }
        break;
      case json::parse_event_t::value: value_done(); break;
    }
    return true;
  }
};

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// Exact decimal rendering of a micro-unit amount: 1000 -> "0.001", 30000000000 -> "30000".
std::string micros_text(std::int64_t m) {
  const bool neg = m < 0;
  const std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>(m);
  std::string s = std::to_string(u / 1000000);
  std::string frac = std::to_string(u % 1000000);
  frac = std::string(6 - frac.size(), '0') + frac;
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) s += "." + frac;
  return (neg ? "-" : "") + s;
}

std::string whole_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}

// asset_index of a fault or shock: -1 (every asset) or an index into assets.
void check_asset_index_or_all(int idx, std::size_t n_assets, const std::string& path, std::vector<std::string>& errors) {
  if (idx >= -1 && static_cast<std::int64_t>(idx) < static_cast<std::int64_t>(n_assets)) return;
  errors.push_back(path + ".asset_index: " + std::to_string(idx) + " is out of range: the scenario has " +
                   std::to_string(n_assets) + " asset" + (n_assets == 1 ? "" : "s") +
                   " (valid: -1 for every asset, or 0 to " + std::to_string(n_assets - 1) + ")");
}

// The [start_step, end_step) window of a fault or shock. `what` is "fault" or "shock".
void check_window(std::int64_t start, std::int64_t end, bool end_zero_ok, std::int64_t horizon,
                  const std::string& path, const char* what, std::vector<std::string>& errors) {
  if (end <= start && !(end_zero_ok && end == 0))
    errors.push_back(path + ".end_step: " + std::to_string(end) + " is not after start_step (" + std::to_string(start) +
                     "); a " + what + " is active in [start_step, end_step)" +
                     (end_zero_ok ? " (for price_jump, end_step 0 means start_step + 1)" : ""));
  if (start >= horizon)
    errors.push_back(path + ".start_step: " + std::to_string(start) + " is not before horizon_steps (" +
                     std::to_string(horizon) + "); the " + what + " would never happen");
}

// The type-specific fields of a shock and the type each belongs to. A field of another type must
// keep its default (the resolved scenario writes every field, so "absent" cannot be required).
template <auto Member>
bool at_default(const ShockConfig& k) {
  return k.*Member == ShockConfig{}.*Member;
}
struct ShockTypeField {
  const char* field;
  bool (*at_default)(const ShockConfig&);
};
// Per shock type, the fields it owns (in the order the errors name them).
const std::pair<const char*, std::vector<ShockTypeField>> kShockTypeFields[] = {
    {"price_jump", {{"size_pct", at_default<&ShockConfig::size_pct>}}},
    {"vol_regime", {{"vol_multiplier", at_default<&ShockConfig::vol_multiplier>}}},
    {"liquidity_withdrawal",
     {{"depth_multiplier", at_default<&ShockConfig::depth_multiplier>},
      {"size_multiplier", at_default<&ShockConfig::size_multiplier>}}},
    {"oracle_fault",
     {{"kind", at_default<&ShockConfig::kind>}, {"extra_lag_steps", at_default<&ShockConfig::extra_lag_steps>},
      {"bias_bps", at_default<&ShockConfig::bias_bps>}}},
    {"congestion",
     {{"cost_multiplier", at_default<&ShockConfig::cost_multiplier>},
      {"latency_multiplier", at_default<&ShockConfig::latency_multiplier>}}},
    {"funding_shock", {{"premium_bps", at_default<&ShockConfig::premium_bps>}}},
    {"collateral_depeg",
     {{"haircut_add", at_default<&ShockConfig::haircut_add>}, {"depeg_pct", at_default<&ShockConfig::depeg_pct>}}},
};

// One shock: window, asset, fields of other types left at their defaults, and a magnitude that
// does something (a shock that cannot change anything is almost certainly a mistake).
void check_shock(const ScenarioConfig& c, std::size_t i, std::vector<std::string>& errors) {
  const ShockConfig& k = c.shocks[i];
  const std::string p = sc::index_path("shocks", i);
  const bool jump = k.type == "price_jump";
  check_window(k.start_step, k.end_step, jump, c.horizon_steps, p, "shock", errors);
  check_asset_index_or_all(k.asset_index, c.assets.size(), p, errors);
  const sc::ojson defaults = sc::scenario_schema().find("shocks")->child->defaults();
  for (const auto& [type, fields] : kShockTypeFields) {
    if (type == k.type) continue;
    for (const ShockTypeField& f : fields) {
      if (f.at_default(k)) continue;
      const sc::ojson& d = defaults.at(f.field);
      errors.push_back(p + "." + f.field + ": not used by a " + k.type + " shock (it belongs to " + type +
                       "); remove it or leave it at its default " + (d.is_number() ? sc::format_number(d.get<double>()) : d.dump()));
    }
  }
  if (jump && k.size_pct == 0.0)
    errors.push_back(p + ".size_pct: a price_jump needs a non-zero size_pct (the total move in percent, e.g. -20)");
  if (k.type == "vol_regime" && k.vol_multiplier == 1.0)
    errors.push_back(p + ".vol_multiplier: a vol_regime shock needs vol_multiplier > 0 and != 1; 1 leaves "
                         "volatility unchanged (the shock would do nothing)");
  if (k.type == "liquidity_withdrawal" && k.depth_multiplier == 1.0 && k.size_multiplier == 1.0)
    errors.push_back(p + ": a liquidity_withdrawal shock needs depth_multiplier or size_multiplier != 1 (both "
                         "in [0, 10]); with both 1 the shock would do nothing");
  if (k.type == "oracle_fault") {
    if (k.kind == "extra_lag" && k.extra_lag_steps == 0)
      errors.push_back(p + ".extra_lag_steps: an oracle_fault of kind extra_lag needs extra_lag_steps in [1, 1e6]");
    if (k.kind == "bias" && k.bias_bps == 0.0)
      errors.push_back(p + ".bias_bps: an oracle_fault of kind bias needs a non-zero bias_bps in (-10000, 10000]");
    if (k.kind != "extra_lag" && k.extra_lag_steps != 0)
      errors.push_back(p + ".extra_lag_steps: only an oracle_fault of kind extra_lag uses it (this one is " + k.kind +
                       "); leave it at 0");
    if (k.kind != "bias" && k.bias_bps != 0.0)
      errors.push_back(p + ".bias_bps: only an oracle_fault of kind bias uses it (this one is " + k.kind +
                       "); leave it at 0");
  }
  if (k.type == "congestion") {
    if (k.asset_index != -1)
      errors.push_back(p + ".asset_index: a congestion shock acts on every liquidator whatever the asset; it must be "
                           "-1, got " + std::to_string(k.asset_index));
    if (k.cost_multiplier == 1.0 && k.latency_multiplier == 1.0)
      errors.push_back(p + ": a congestion shock needs cost_multiplier or latency_multiplier != 1 (in (0, 1e6] and "
                           "(0, 1e4]); with both 1 the shock would do nothing");
  }
  if (k.type == "funding_shock" && k.premium_bps == 0.0)
    errors.push_back(p + ".premium_bps: a funding_shock needs a non-zero premium_bps in [-10000, 10000]");
  if (k.type == "collateral_depeg" && k.haircut_add == 0.0 && k.depeg_pct == 0.0)
    errors.push_back(p + ": a collateral_depeg shock needs haircut_add in (0, 1] or a non-zero depeg_pct in (-100, "
                         "1000); with neither the shock would do nothing");
}

// Cross-field checks of perp (margin tiers, oracle faults, funding), the leveraged traders and shocks.
void check_perp_and_shocks(const ScenarioConfig& c, std::vector<std::string>& errors) {
  const std::size_t n_assets = c.assets.size();

  // Margin tiers: strictly increasing max_notional, mmr < imr (mmr > 0 and imr > 0 are field ranges).
  const auto& tiers = c.perp.margin_tiers;
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    const std::string p = sc::index_path("perp.margin_tiers", i);
    if (i > 0 && !(tiers[i].max_notional > tiers[i - 1].max_notional))
      errors.push_back(p + ".max_notional: " + sc::format_number(tiers[i].max_notional) + " is not above " +
                       sc::index_path("perp.margin_tiers", i - 1) + ".max_notional (" +
                       sc::format_number(tiers[i - 1].max_notional) +
                       "); max_notional must be strictly increasing from tier to tier");
    if (!(tiers[i].mmr_bps < tiers[i].imr_bps))
      errors.push_back(p + ".mmr_bps: " + sc::format_number(tiers[i].mmr_bps) + " is not below imr_bps (" +
                       sc::format_number(tiers[i].imr_bps) +
                       "); the maintenance margin must be smaller than the initial margin in every tier");
  }

  // Leveraged traders: a sane leverage interval, reachable under the first tier's initial margin.
  const LeveragedTraderConfig& lt = c.agents.leveraged_traders;
  if (lt.leverage_min > lt.leverage_max)
    errors.push_back("agents.leveraged_traders.leverage_min: " + sc::format_number(lt.leverage_min) +
                     " is above leverage_max (" + sc::format_number(lt.leverage_max) +
                     "); leverage is drawn in [leverage_min, leverage_max]");
  if (lt.count > 0 && !tiers.empty() && lt.leverage_max * tiers[0].imr_bps > 10000.0 * (1.0 + 1e-12)) {
    char max_lev[32];
    std::snprintf(max_lev, sizeof max_lev, "%.6g", 10000.0 / tiers[0].imr_bps);
    errors.push_back("agents.leveraged_traders.leverage_max: " + sc::format_number(lt.leverage_max) +
                     " is more than the first margin tier allows: perp.margin_tiers[0].imr_bps = " +
                     sc::format_number(tiers[0].imr_bps) + " allows at most " + max_lev + "x (10000 / imr_bps)");
  }

  // Passive positions: ordered intervals, and at least one leverage level to draw from.
  const PassivePositionsConfig& pp = c.agents.passive_positions;
  if (pp.notional_scale > pp.notional_max)
    errors.push_back("agents.passive_positions.notional_scale: " + sc::format_number(pp.notional_scale) + " is above notional_max (" +
                     sc::format_number(pp.notional_max) + "); the notional is drawn in [notional_scale, notional_max]");
  if (pp.spot_share_min > pp.spot_share_max)
    errors.push_back("agents.passive_positions.spot_share_min: " + sc::format_number(pp.spot_share_min) + " is above spot_share_max (" +
                     sc::format_number(pp.spot_share_max) + "); the spot share is drawn in [spot_share_min, spot_share_max]");
  if (!passive_leverage_levels_exist(pp.leverage_min, pp.leverage_max))
    errors.push_back("agents.passive_positions.leverage_min: [" + sc::format_number(pp.leverage_min) + ", " + sc::format_number(pp.leverage_max) +
                     "] holds none of the leverage levels 1 2 3 5 10 20 25 50 75 100 125; leverage_min <= leverage_max must enclose one");

  // Makers' visible fair value: the own mid's weight 1 - index_weight - other_venue_weight must be >= 0.
  const MarketMakerConfig& mmc = c.agents.market_makers;
  if (mmc.index_weight + mmc.other_venue_weight > 1.0 + 1e-12)
    errors.push_back("agents.market_makers.index_weight: " + sc::format_number(mmc.index_weight) + " + other_venue_weight " +
                     sc::format_number(mmc.other_venue_weight) + " is above 1; the own mid gets the rest, in [0, 1]");

  // Basis traders' margin asset (collateral in another asset than the hedge).
  const int mai = c.agents.basis_traders.margin_asset_index;
  // Asset 0 is the hedge itself: margin posted in it would count as part of the hedge.
  if (mai == 0 || mai >= static_cast<int>(n_assets))
    errors.push_back("agents.basis_traders.margin_asset_index: " + std::to_string(mai) + " is out of range: the scenario has " +
                     std::to_string(n_assets) + " asset" + (n_assets == 1 ? "" : "s") +
                     (n_assets == 1 ? " (valid: -1 for quote cash; assets[0] is the hedge itself)"
                                    : " (valid: -1 for quote cash, or 1 to " + std::to_string(n_assets - 1) +
                                          "; assets[0] is the hedge itself)"));

  // Basis trader kinds and per-trader draws (issue #13).
  const BasisTraderConfig& bt = c.agents.basis_traders;
  if (bt.unified_share + bt.cross_asset_share > 1.0 + 1e-12)
    errors.push_back("agents.basis_traders.unified_share: " + sc::format_number(bt.unified_share) + " + cross_asset_share " +
                     sc::format_number(bt.cross_asset_share) + " is above 1; they are probabilities of exclusive kinds");
  if (bt.cross_asset_share > 0 && mai < 1)
    errors.push_back("agents.basis_traders.cross_asset_share: " + sc::format_number(bt.cross_asset_share) +
                     " needs margin_asset_index >= 1 (the asset the cross_asset kind posts its margin in), got " + std::to_string(mai));
  if (bt.leverage_max != -1.0 && bt.leverage_max < bt.leverage)
    errors.push_back("agents.basis_traders.leverage_max: " + sc::format_number(bt.leverage_max) + " must be -1 or >= leverage (" +
                     sc::format_number(bt.leverage) + ")");
  if (bt.spot_collateral_share_max != -1.0 && bt.spot_collateral_share_max < bt.spot_collateral_share)
    errors.push_back("agents.basis_traders.spot_collateral_share_max: " + sc::format_number(bt.spot_collateral_share_max) +
                     " must be -1 or >= spot_collateral_share (" + sc::format_number(bt.spot_collateral_share) + ")");

  // Oracle faults.
  for (std::size_t i = 0; i < c.perp.oracle.faults.size(); ++i) {
    const OracleFaultConfig& f = c.perp.oracle.faults[i];
    const std::string p = sc::index_path("perp.oracle.faults", i);
    check_window(f.start_step, f.end_step, false, c.horizon_steps, p, "fault", errors);
    check_asset_index_or_all(f.asset_index, n_assets, p, errors);
  }

  // Funding is settled at most once per step.
  if (c.perp.funding.enabled && c.perp.funding.interval_s < c.dt_s)
    errors.push_back("perp.funding.interval_s: " + sc::format_number(c.perp.funding.interval_s) +
                     " is shorter than dt_s (" + sc::format_number(c.dt_s) +
                     "); funding is settled at most once per step, so interval_s must be >= dt_s");

  // Shocks.
  for (std::size_t i = 0; i < c.shocks.size(); ++i) check_shock(c, i, errors);
}

// Cross-field checks and derived members; runs after every field validated.
void derive_and_check(ScenarioConfig& c, std::vector<std::string>& errors) {
  const double scale = static_cast<double>(kMicrosPerUnit);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < c.assets.size(); ++i) {
    AssetConfig& a = c.assets[i];
    const std::string p = sc::index_path("assets", i);
    if (!seen.insert(a.symbol).second)
      errors.push_back(p + ".symbol: duplicate symbol \"" + a.symbol + "\" (symbols must be unique)");
    if (a.symbol == c.quote_asset)
      errors.push_back(p + ".symbol: \"" + a.symbol + "\" is the quote_asset; an asset must differ from it");

    a.tick_micros = to_fixed(a.tick_size, scale);  // ranges keep these finite, in int64 and >= 1
    a.lot_micros = to_fixed(a.lot_size, scale);
    std::int64_t product = 0;
    const bool overflow = __builtin_mul_overflow(a.tick_micros, a.lot_micros, &product);
    if (overflow || product % kMicrosPerUnit != 0) {
      const std::int64_t g = std::gcd(a.tick_micros, kMicrosPerUnit);
      const std::int64_t lot_step = kMicrosPerUnit / g;
      std::string msg = p + ": tick_size (" + micros_text(a.tick_micros) + ") * lot_size (" +
                        micros_text(a.lot_micros) + ") ";
      if (overflow)
        msg += "is too large (the value of one tick on one lot must fit in 64-bit micro-units)";
      else
        msg += "is not a whole number of quote micro-units (0.000001): the value of one tick on one lot, "
               "tick_micros * lot_micros / 1e6, must be a positive integer; with tick_size " +
               micros_text(a.tick_micros) + ", lot_size must be a multiple of " + micros_text(lot_step);
      errors.push_back(msg);
      continue;
    }
    a.quote_micros_per_tick_lot = product / kMicrosPerUnit;

    const std::int64_t price_micros = to_fixed(a.initial_price, scale);
    if (price_micros % a.tick_micros != 0) {
      const std::int64_t lo = price_micros / a.tick_micros * a.tick_micros;
      errors.push_back(p + ".initial_price: " + sc::format_number(a.initial_price) + " is not a multiple of tick_size " +
                       micros_text(a.tick_micros) + " (nearest multiples: " + micros_text(lo) + " and " +
                       micros_text(lo + a.tick_micros) + ")");
      continue;
    }
    const std::int64_t price_ticks = price_micros / a.tick_micros;
    const double span = c.venues.max_price_multiple * static_cast<double>(price_ticks);
    if (span > static_cast<double>(kMaxBookTicks) + 0.5) {
      errors.push_back(p + ": the order book would span max_tick = venues.max_price_multiple (" +
                       sc::format_number(c.venues.max_price_multiple) + ") * initial_price (" +
                       sc::format_number(a.initial_price) + ") / tick_size (" + micros_text(a.tick_micros) +
                       ") = " + whole_text(span) + " ticks, more than the limit of " +
                       std::to_string(kMaxBookTicks) +
                       " ticks (memory guard); use a larger tick_size or a smaller venues.max_price_multiple");
      continue;
    }
    a.max_tick = static_cast<Tick>(std::llround(span));
    if (a.max_tick <= price_ticks)
      errors.push_back(p + ": the order book would have no price above initial_price (max_tick = " +
                       std::to_string(a.max_tick) + " = initial price in ticks); raise venues.max_price_multiple "
                       "or use a smaller tick_size");
  }

  for (std::size_t i = 0; i < c.agents.ladders.size(); ++i) {
    const LadderConfig& l = c.agents.ladders[i];
    if (l.asset_index < 0 || static_cast<std::size_t>(l.asset_index) >= c.assets.size())
      errors.push_back(sc::index_path("agents.ladders", i) + ".asset_index: " + std::to_string(l.asset_index) +
                       " is out of range: the scenario has " + std::to_string(c.assets.size()) + " asset" +
                       (c.assets.size() == 1 ? "" : "s") + " (valid: 0 to " + std::to_string(c.assets.size() - 1) + ")");
  }
  check_perp_and_shocks(c, errors);
}

// Splits a --set path into tokens: JSON pointer or dotted (with optional [i] indices).
bool split_path(const std::string& path, std::vector<std::string>& out) {
  out.clear();
  if (path.empty()) return false;
  if (path[0] == '/') {
    std::size_t pos = 1;
    while (true) {
      const std::size_t next = path.find('/', pos);
      std::string tok = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      std::string un;
      for (std::size_t i = 0; i < tok.size(); ++i) {
        if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
          un += tok[i + 1] == '0' ? '~' : '/';
          ++i;
        } else if (tok[i] == '~') {
          return false;
        } else {
          un += tok[i];
        }
      }
      if (un.empty()) return false;
      out.push_back(un);
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return true;
  }
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.') {
      if (cur.empty()) {
        if (i > 0 && path[i - 1] == ']') continue;  // "a[0].b"
        return false;
      }
      out.push_back(cur);
      cur.clear();
    } else if (c == '[') {
      if (!cur.empty()) out.push_back(cur);
      else if (out.empty()) return false;
      cur.clear();
      const std::size_t close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) return false;
      out.push_back(path.substr(i + 1, close - i - 1));
      i = close;
      if (i + 1 < path.size() && path[i + 1] != '.' && path[i + 1] != '[') return false;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  else if (path.back() == '.') return false;
  return !out.empty();
}

bool parse_index(const std::string& tok, std::size_t& idx) {
  if (tok.empty() || tok.size() > 9) return false;
  idx = 0;
  for (const char c : tok) {
    if (c < '0' || c > '9') return false;
    idx = idx * 10 + static_cast<std::size_t>(c - '0');
  }
  return !(tok.size() > 1 && tok[0] == '0');
}

// agents.liquidators (one class, the seeded first-come choice) and agents.liquidator_classes
// (several classes, the priority-fee auction) are two forms of one thing: at most one may be given.
void check_liquidator_forms(const ScenarioConfig& c, const json& j, std::vector<std::string>& errors) {
  const auto& cls = c.agents.liquidator_classes;
  if (cls.empty()) return;
  const auto agents = j.find("agents");
  if (agents != j.end() && agents->is_object() && agents->contains("liquidators"))
    errors.push_back("agents.liquidator_classes: cannot be given together with agents.liquidators (one class: "
                     "agents.liquidators; several competing classes: agents.liquidator_classes); remove one");
  for (std::size_t i = 0; i < cls.size(); ++i) {
    const std::string p = sc::index_path("agents.liquidator_classes", i);
    if (cls[i].bid_share_min > cls[i].bid_share_max)
      errors.push_back(p + ".bid_share_min: " + sc::format_number(cls[i].bid_share_min) + " is above bid_share_max (" +
                       sc::format_number(cls[i].bid_share_max) + "); u is drawn in [bid_share_min, bid_share_max]");
    for (std::size_t k = 0; k < i; ++k)
      if (cls[k].name == cls[i].name)
        errors.push_back(p + ".name: duplicate class name \"" + cls[i].name + "\" (names must be unique)");
  }
}

}  // namespace

json parse_scenario_json(std::string_view text, const std::string& origin) {
  if (text.size() > kMaxScenarioBytes)
    fail(origin, "file", "too large (" + std::to_string(text.size()) + " bytes; the limit is 16 MiB)");
  if (text.empty()) fail(origin, "(top level)", "empty document; expected a JSON object");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    fail(origin, "(top level)", "document contains only whitespace; expected a JSON object");
  check_depth(text, origin, "");
  DupTracker dups;
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), std::ref(dups), /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // what(): "[json.exception.parse_error.101] parse error at line L, column C: DETAIL"
    std::string w = e.what();
    const std::size_t at = w.find(" at line ");
    std::string where = "line ?, column ?";
    std::string detail = w;
    if (at != std::string::npos) {
      const std::size_t colon = w.find(": ", at);
      if (colon != std::string::npos) {
        where = w.substr(at + 4, colon - at - 4);
        detail = w.substr(colon + 2);
      }
    }
    fail(origin, sanitize(where), "invalid JSON: " + sanitize(detail));
  } catch (const json::out_of_range& e) {
    // 3.11 throws out_of_range.406 "number overflow parsing '1e400'" for literals beyond double.
    std::string w = e.what();
    const std::size_t q1 = w.find('\''), q2 = q1 == std::string::npos ? q1 : w.find('\'', q1 + 1);
    std::string where = "(top level)";
    std::string literal;
    if (q2 != std::string::npos) {
      literal = w.substr(q1 + 1, q2 - q1 - 1);
      const std::size_t pos = literal.empty() ? std::string_view::npos : text.find(literal);
      if (pos != std::string_view::npos) {
        std::size_t line = 1, col = 1;
        for (std::size_t i = 0; i < pos; ++i) {
          if (text[i] == '\n') {
            ++line;
            col = 1;
          } else {
            ++col;
          }
        }
        where = line_col(line, col);
      }
    }
    fail(origin, where, "invalid JSON: number " + sanitize(literal) + " is out of range (not a finite double)");
  }
  if (!dups.errors.empty()) fail_all(origin, dups.errors);
  return doc;
}

void apply_override(json& doc, const std::string& assignment, const std::string& origin) {
  const std::string where = "--set " + sanitize(assignment);
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) fail(origin, where, "expected PATH=VALUE, e.g. agents.noise_traders.count=50");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> toks;
  if (!split_path(path, toks))
    fail(origin, where, "malformed path '" + sanitize(path) +
                            "'; use a dotted path (assets.0.initial_price) or a JSON pointer (/assets/0/initial_price)");

  // The value: JSON if it parses, else the plain string.
  json value;
  {
    bool parsed = false;
    if (text.size() <= kMaxScenarioBytes) {
      try {
        check_depth(text, origin, where + ": value: ");
        value = json::parse(text, nullptr, /*allow_exceptions=*/false);
        parsed = !value.is_discarded();
      } catch (const ScenarioError&) {
        throw;
      }
    }
    if (!parsed) {
      if (!valid_utf8(text)) fail(origin, where, "value is not valid UTF-8");
      value = text;
    }
  }

  if (!doc.is_object()) fail(origin, "(top level)", "must be an object to apply " + where);
  const sc::ObjectInfo* info = &sc::scenario_schema();
  json* node = &doc;
  std::string shown;  // dotted path so far, for messages
  for (std::size_t i = 0; i < toks.size(); ++i) {
    const std::string& tok = toks[i];
    const bool last = i + 1 == toks.size();
    const sc::FieldMeta* f = info->find(tok);
    const std::string here = sc::join_path(shown, tok);
    if (f == nullptr) {
      std::string msg = "unknown field in " + where;
      const std::string s = sc::did_you_mean(tok, info->names());
      msg += s.empty() ? " (allowed here: " + sc::quoted_list(info->names()) + ")" : " (did you mean '" + s + "'?)";
      fail(origin, sanitize(here), msg);
    }
    shown = here;
    if (last) {
      (*node)[tok] = std::move(value);
      return;
    }
    if (f->kind == sc::Kind::Object) {
      auto it = node->find(tok);
      if (it == node->end()) {
        (*node)[tok] = json::object();
        it = node->find(tok);
      } else if (!it->is_object()) {
        fail(origin, shown, "cannot set a field inside it (" + where + "): it is " + sc::preview(*it) +
                                ", not an object");
      }
      node = &*it;
      info = f->child;
    } else if (f->kind == sc::Kind::Array) {
      const std::string& itok = toks[i + 1];
      std::size_t idx = 0;
      if (!parse_index(itok, idx))
        fail(origin, shown, "expected an array index after it in " + where + ", got '" + sanitize(itok) + "'");
      const auto it = node->find(tok);
      const std::size_t n = (it != node->end() && it->is_array()) ? it->size() : 0;
      if (idx >= n)
        fail(origin, sc::index_path(shown, idx),
             "index out of range in " + where + " (" + shown + " has " + std::to_string(n) + " element" +
                 (n == 1 ? "" : "s") + "; set the whole array to add elements)");
      json& elem = (*it)[idx];
      shown = sc::index_path(shown, idx);
      ++i;
      if (i + 1 == toks.size()) {
        elem = std::move(value);
        return;
      }
      if (!elem.is_object())
        fail(origin, shown, "cannot set a field inside it (" + where + "): it is " + sc::preview(elem) +
                                ", not an object");
      node = &elem;
      info = f->child;
    } else {
      fail(origin, sanitize(sc::join_path(shown, toks[i + 1])),
           "unknown field in " + where + ": " + shown + " is " + f->expectation() + " and has no fields");
    }
  }
}

ScenarioConfig scenario_from_json(const json& j, const std::string& origin) {
  const auto& root = sc::scenario_schema();
  ScenarioConfig c;
  sc::Errors e;
  root.read(c, j, "", e);
  if (e.empty()) derive_and_check(c, e.lines);
  if (e.empty()) check_liquidator_forms(c, j, e.lines);
  if (!e.empty()) fail_all(origin, e.lines);
  auto resolved = root.write(c);
  // One form of liquidators in the resolved scenario, so that loading it again gives the same one.
  if (!c.agents.liquidator_classes.empty()) resolved["agents"].erase("liquidators");
  c.source_json = resolved.dump(2, ' ', false, sc::ojson::error_handler_t::replace);
  c.source_file.clear();
  return c;
}

ScenarioConfig load_scenario_text(std::string_view text, const std::string& origin,
                                  const std::vector<std::string>& overrides) {
  json doc = parse_scenario_json(text, origin);
  for (const std::string& ov : overrides) apply_override(doc, ov, origin);
  return scenario_from_json(doc, origin);
}

ScenarioConfig load_scenario_file(const std::string& path, const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "file", "cannot open: no such file or directory");
  if (ec) fail(path, "file", "cannot open: " + ec.message());
  if (fs::is_directory(st)) fail(path, "file", "is a directory, expected a scenario JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "file", std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxScenarioBytes)
      fail(path, "file", "too large (more than 16 MiB); a scenario file is a small JSON document");
  }
  if (in.bad()) fail(path, "file", std::string("read error: ") + std::strerror(errno));
  ScenarioConfig c = load_scenario_text(text, path, overrides);
  c.source_file = path;
  // The user's positions are read and validated now, so a bad row stops the command before any
  // output exists (and every run of the scenario shares the one parsed copy).
  if (!c.accounts.file.empty()) c.accounts.book = load_position_file(c, fs::path(path).parent_path().string());
  return c;
}

namespace {
void reference_rows(const sc::ObjectInfo& info, const std::string& prefix, std::string& out) {
  const sc::ojson defaults = info.defaults();
  for (std::size_t i = 0; i < info.size(); ++i) {
    const sc::FieldMeta& f = info.at(i);
    const std::string path = prefix.empty() ? f.name : prefix + "." + f.name;
    if (f.kind == sc::Kind::Object) {
      reference_rows(*f.child, path, out);
      continue;
    }
    std::string req = f.opt.required ? "required" : "default " + defaults.at(f.name).dump();
    out += "| " + path + " | " + f.expectation() + " | " + req + " | " + f.opt.unit + " | " + f.opt.doc + " |\n";
    if (f.kind == sc::Kind::Array) reference_rows(*f.child, path + "[]", out);
  }
}
}  // namespace

std::string scenario_schema_reference() {
  std::string out = "| field | type and range | required / default | unit | meaning |\n|---|---|---|---|---|\n";
  reference_rows(sc::scenario_schema(), "", out);
  return out;
}

}  // namespace sl
