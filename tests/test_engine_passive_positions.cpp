// Passive positions (agents.passive_positions, agents/passive_positions.hpp) and their counter-based
// stream (sim/core/counter_rng.hpp): the generator against independently computed SplitMix64
// outputs, the draws' shape, bad input, and the limiting case: a run with the population and the
// same run with those exact positions loaded from a CSV through accounts.file are the same run.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "agents/passive_positions.hpp"
#include "scenarios/loader.hpp"
#include "sim/core/counter_rng.hpp"
#include "sim/core/table_math.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/same_run.hpp"
#include "tests/support/scenario_error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sl;

namespace {

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";

// The lane widths the draws and the table maths can run on here (sim/core/table_math.hpp): 2
// everywhere, 4 where the CPU has AVX2. Every test below that compares bits runs each of them.
std::vector<int> lane_widths() {
  std::vector<int> widths{2};
  if (set_simd_double_lanes_for_testing(4)) widths.push_back(4);
  set_simd_double_lanes_for_testing(0);
  return widths;
}
// Forces a width for its lifetime, then gives the choice back to the CPU.
struct ForceLanes {
  explicit ForceLanes(int lanes) { REQUIRE(set_simd_double_lanes_for_testing(lanes)); }
  ~ForceLanes() { set_simd_double_lanes_for_testing(0); }
  ForceLanes(const ForceLanes&) = delete;
  ForceLanes& operator=(const ForceLanes&) = delete;
};

// FROZEN REFERENCE (issue #15, draw15): PassivePositionDrawer::draw as it was before it was made
// fast, written plainly, one position at a time, with libm's floor / ceil (equal to floor_fast /
// ceil_fast, tested above) and its own copies of the rounding and of the table interpolation. The
// production draw must equal it bit for bit.

// Round half to even by adding and subtracting 2^52, as the draw has always rounded. Equal to
// nearbyint for 0 <= x < 2^52 (tested above), but NOT for negative x: in (-2^51, 0) the sum's last
// bit is 1/2, so -6674.5 stays -6674.5. A cross position whose spot share is near 1 can round its
// quote a few micro-units below zero and then keeps such a half micro-unit (the hard config below
// draws some); kept as it is: the production draw must reproduce today's doubles.
double reference_round(double x) {
  constexpr double k2p52 = 4503599627370496.0;
  return x < k2p52 ? (x + k2p52) - k2p52 : x;
}
struct ReferenceTables {
  static constexpr int kCells = 4096;
  std::vector<double> log2_tab, exp2_tab, cos_tab;
  ReferenceTables() {
    for (int i = 0; i <= kCells; ++i) {
      const double t = static_cast<double>(i) / kCells;
      log2_tab.push_back(std::log2(1.0 + t));
      exp2_tab.push_back(std::exp2(t));
      cos_tab.push_back(std::cos(6.283185307179586 * t));
    }
  }
  static double interpolate(const std::vector<double>& tab, double t) {
    const double s = t * kCells;
    int i = static_cast<int>(s);
    if (i >= kCells) i = kCells - 1;
    const double g = s - i;
    return tab[i] + g * (tab[i + 1] - tab[i]);
  }
  double log2(double x) const {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
    const int e = static_cast<int>((bits >> 52) & 0x7FF) - 1023;
    const double m = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);
    return e + interpolate(log2_tab, m - 1.0);
  }
  double exp2(double y) const {
    const double k = std::floor(y);
    const double scale = std::bit_cast<double>(static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52);
    return scale * interpolate(exp2_tab, y - k);
  }
  double cos_2pi(double u) const { return interpolate(cos_tab, u); }
};

// Sequential SplitMix64's output n from state `key`, and its top 53 bits centred in (0, 1).
double reference_uniform(std::uint64_t key, std::uint64_t n) {
  std::uint64_t z = key + (n + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (static_cast<double>(z >> 11) + 0.5) * 0x1p-53;
}

struct ReferencePosition {
  PositionRow row;
  double spot = 0;
  bool moved = false;   // the health rule moved the entry
  bool capped = false;  // the tier's maximum lowered the drawn leverage
};

ReferencePosition reference_draw(const ScenarioConfig& sc, std::uint64_t run_seed, std::size_t i, const ReferenceTables& tm) {
  const PassivePositionsConfig& cfg = sc.agents.passive_positions;
  const std::vector<MarginTierConfig>& tiers = sc.perp.margin_tiers;
  const AssetConfig& a = sc.assets.at(0);
  const double p0 = a.initial_price, tick = a.tick_size, lot = a.lot_size;
  const double spot_value_per_unit = a.initial_price * (1.0 - a.collateral_haircut);
  const double inv_tick = 1.0 / tick, inv_lot = 1.0 / lot, inv_alpha = 1.0 / cfg.notional_tail_alpha;
  constexpr double kLn2 = 0.6931471805599453, kLog2e = 1.4426950408889634;
  const auto tier_of = [&](double notional) -> const MarginTierConfig& {
    for (const MarginTierConfig& t : tiers)
      if (notional <= t.max_notional) return t;
    return tiers.back();
  };
  const auto max_leverage = [&](double notional) { return std::floor(10000.0 / tier_of(notional).imr_bps); };

  const std::uint64_t key = derive_seed(run_seed, 0, kStreamPassivePositions);
  double u[9];
  for (int d = 0; d < 9; ++d) u[d] = reference_uniform(key, i * 16 + static_cast<std::uint64_t>(d));

  const double notional = std::min(cfg.notional_scale * tm.exp2(-tm.log2(u[0]) * inv_alpha), cfg.notional_max);
  const double z = std::sqrt(std::max(0.0, -2.0 * kLn2 * tm.log2(u[2]))) * tm.cos_2pi(u[3]);
  double entry_ticks = std::max(1.0, reference_round(p0 * tm.exp2(cfg.entry_dispersion * kLog2e * z) * inv_tick));
  const double entry_ticks0 = entry_ticks;
  const double extra = -cfg.cross_extra_margin_mean * kLn2 * tm.log2(u[6]);
  const bool is_long = u[1] < cfg.long_share;

  // Leverage: the first allowed level whose cumulative weight exceeds u4 x total (else the last).
  std::vector<double> levels, cumulative;
  double total = 0;
  for (std::size_t k = 0; k < std::size(kPassiveLeverageLevels); ++k) {
    if (kPassiveLeverageLevels[k] < cfg.leverage_min || kPassiveLeverageLevels[k] > cfg.leverage_max) continue;
    total += kPassiveLeverageWeights[k];
    levels.push_back(kPassiveLeverageLevels[k]);
    cumulative.push_back(total);
  }
  const double pick = u[4] * total;
  double lev = levels.back();
  for (std::size_t k = 0; k < levels.size(); ++k)
    if (cumulative[k] > pick) {
      lev = levels[k];
      break;
    }
  const bool isolated = u[5] < cfg.isolated_share;

  double entry = entry_ticks * tick;
  const double lots = std::max(1.0, reference_round(notional * inv_lot / entry));
  const double size = lots * lot;
  const double drawn_lev = lev;
  lev = std::min(lev, max_leverage(size * entry));
  double quote = 0, spot = 0;
  if (!isolated) {
    quote = size * entry / lev * (1.0 + extra);
    if (u[7] < cfg.spot_probability) {
      const double share = cfg.spot_share_min + (cfg.spot_share_max - cfg.spot_share_min) * u[8];
      spot = reference_round(quote * share / spot_value_per_unit * 1e6) * 1e-6;
      quote -= spot * spot_value_per_unit;
    }
    quote = reference_round(quote * 1e6) * 1e-6;
  }
  const double target_per_unit = (1.0 + cfg.health_margin) * p0 * tier_of(size * p0).mmr_bps * 1e-4;
  if (isolated) {
    if (is_long && lev > 1.0) {
      const double e_max = (p0 - target_per_unit) / (1.0 - 1.0 / lev);
      if (entry > e_max) entry_ticks = std::max(1.0, std::floor(e_max * inv_tick));
    } else if (!is_long) {
      const double e_min = (p0 + target_per_unit) / (1.0 + 1.0 / lev);
      if (entry < e_min) entry_ticks = std::ceil(e_min * inv_tick);
    }
    entry = entry_ticks * tick;
    lev = std::min(lev, max_leverage(size * entry));
    quote = reference_round(size * entry / lev * 1e6) * 1e-6;
  } else {
    const double room = (quote + spot * spot_value_per_unit) / size - target_per_unit;
    if (is_long && entry > p0 + room) entry_ticks = std::max(1.0, std::floor((p0 + room) * inv_tick));
    if (!is_long && entry < p0 - room) entry_ticks = std::ceil((p0 - room) * inv_tick);
    entry = entry_ticks * tick;
  }
  ReferencePosition out;
  out.moved = entry != entry_ticks0 * tick;
  out.capped = lev < drawn_lev;
  out.row.line = static_cast<std::int32_t>(i + 1);
  out.row.asset = 0;
  out.row.is_long = is_long;
  out.row.isolated = isolated;
  out.row.size = size;
  out.row.entry_price = entry;
  out.row.quote_collateral = quote;
  out.spot = spot;
  return out;
}

}  // namespace

TEST_CASE("counter stream: output n is output n of sequential SplitMix64 from the key") {
  // SplitMix64 seeded with 0 (Vigna's splitmix64.c: state += 0x9E3779B97F4A7C15, then the mix);
  // its first outputs are published widely: e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f,
  // f88bb8a8724c81ec.
  CHECK(counter_u64(0, 0) == 0xE220A8397B1DCDAFULL);
  CHECK(counter_u64(0, 1) == 0x6E789E6AA1B965F4ULL);
  CHECK(counter_u64(0, 2) == 0x06C45D188009454FULL);
  CHECK(counter_u64(0, 3) == 0xF88BB8A8724C81ECULL);
  // Key 12345, outputs 0, 1, 16, 17, 37 of the sequential generator, computed with Python integers:
  //   s = 12345; for i in range(38): s = (s + 0x9E3779B97F4A7C15) % 2**64; out.append(mix(s))
  CHECK(counter_u64(12345, 0) == 0x22118258A9D111A0ULL);
  CHECK(counter_u64(12345, 1) == 0x346EDCE5F713F8EDULL);
  CHECK(counter_u64(12345, 16) == 0xC8C99C0E445A0F1CULL);
  CHECK(counter_u64(12345, 17) == 0x8258515C9060B81EULL);
  CHECK(counter_u64(12345, 37) == 0x575AB7CB990947D9ULL);
  // And against this file's own sequential loop over 1,000 outputs of another key.
  std::uint64_t state = 0xDEADBEEFULL;
  for (std::uint64_t n = 0; n < 1000; ++n) {
    state += kSplitMixGamma;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    REQUIRE(counter_u64(0xDEADBEEFULL, n) == (z ^ (z >> 31)));
  }
  // The open interval: the extreme 53-bit values map to 2^-54 and 1 - 2^-54.
  CHECK(counter_open01(0) == 0x1p-54);
  CHECK(counter_open01(~0ULL) == 1.0 - 0x1p-54);
  // ... except that 1 - 2^-54 is no double: the literal above is 1 itself (the tie between 1 - 2^-53
  // and 1 rounds to even), and so is the draw: k = 2^53 - 1, k + 0.5 rounds half to even to 2^53.
  // The top draw is exactly 1 (probability 2^-53). Above 1/2 every tie goes to an even k: k = 2^53 - 2
  // (x = ~0 - 2048) gives (2^53 - 2) / 2^53 = 1 - 2^-52, and so does k = 2^53 - 3.
  CHECK(counter_open01(~0ULL) == 1.0);
  CHECK(counter_open01(~0ULL - 2048) == 1.0 - 0x1p-52);
  CHECK(counter_open01(~0ULL - 4096) == 1.0 - 0x1p-52);
}

TEST_CASE("table math: log2, exp2 and cos(2 pi u) within the interpolation bound of libm, on random inputs") {
  // Bounds h^2 / 8 x max |f''| with h = 2^-12 (sim/core/table_math.hpp), plus a little rounding:
  // log2 1.08e-8 absolute; exp2 7.2e-9 relative; cos(2 pi u) 2.94e-7 absolute.
  const TableMath tm;
  Rng rng(2026);
  double worst_log = 0, worst_exp = 0, worst_cos = 0;
  for (int k = 0; k < 200000; ++k) {
    const double u = counter_open01(rng());                      // (0, 1), as the draws use it
    const double x = std::ldexp(1.0 + u, static_cast<int>(rng() % 200) - 100);  // any binade
    const double y = (counter_open01(rng()) - 0.5) * 240.0;       // [-120, 120]
    worst_log = std::max({worst_log, std::abs(tm.log2(u) - std::log2(u)), std::abs(tm.log2(x) - std::log2(x))});
    worst_exp = std::max(worst_exp, std::abs(tm.exp2(y) / std::exp2(y) - 1.0));
    worst_cos = std::max(worst_cos, std::abs(tm.cos_2pi(u) - std::cos(6.283185307179586 * u)));
  }
  MESSAGE("worst errors: log2 " << worst_log << ", exp2 (relative) " << worst_exp << ", cos " << worst_cos);
  CHECK(worst_log < 1.1e-8);
  CHECK(worst_exp < 7.3e-9);
  CHECK(worst_cos < 2.95e-7);
  // Not vacuous: the interpolation error is there (a quarter of the bound at least somewhere).
  CHECK(worst_log > 2.5e-9);
  CHECK(worst_cos > 7e-8);
  // Exact at the table's nodes and in the exponent: log2(2^k) = k, exp2(k) = 2^k.
  for (int e = -60; e <= 60; ++e) {
    CHECK(tm.log2(std::ldexp(1.0, e)) == e);
    CHECK(tm.exp2(e) == std::ldexp(1.0, e));
  }
  CHECK(tm.cos_2pi(0.0) == 1.0);
  CHECK(tm.cos_2pi(1.0) == 1.0);
}

TEST_CASE("table math over arrays (two lanes with SSE2, four with AVX2) equals the scalar functions bit for bit") {
  const TableMath math;
  const TableMathView tm = math.view();
  Rng rng(4096);
  constexpr std::size_t n = 100001;  // odd: the last value goes through the scalar tail
  std::vector<double> u(n), y(n), out(n);
  for (std::size_t k = 0; k < n; ++k) {
    u[k] = counter_open01(rng());
    y[k] = (counter_open01(rng()) - 0.5) * 2044.0;  // [-1022, 1022]
  }
  // The edges: u = 1 exactly (the top draw), the smallest draw, node values; y whole, negative
  // whole, just below a whole number, -0.0 and the ends of the range.
  const double u_edges[] = {1.0, 0x1p-54, 0.5, 0.25, 1.0 - 0x1p-53, 3.0 / 4096, 0.999755859375};
  const double y_edges[] = {0.0, -0.0, 1.0, -1.0, -1022.0, 1023.0, 2.5, -2.5, std::nextafter(3.0, 0.0), std::nextafter(-3.0, 0.0), 1e-300, -1e-300};
  for (std::size_t k = 0; k < std::size(u_edges); ++k) u[k] = u_edges[k];
  for (std::size_t k = 0; k < std::size(y_edges); ++k) y[k] = y_edges[k];
  const auto same = [](double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); };
  const std::vector<int> widths = lane_widths();
  MESSAGE("lane widths tested: " << widths.size() << " (2" << (widths.size() > 1 ? " and 4)" : " only: no AVX2 here)"));
  for (const int lanes : widths) {
    CAPTURE(lanes);
    const ForceLanes force(lanes);
    std::size_t bad_log = 0, bad_exp = 0, bad_cos = 0;
    // n and n - 1, n - 2, n - 3: every tail length of whole groups of four and two.
    for (std::size_t len = n; len + 4 > n; --len) {
      std::fill(out.begin(), out.end(), -7.0);
      tm.log2_n(u.data(), out.data(), len);
      for (std::size_t k = 0; k < len; ++k) bad_log += !same(out[k], math.log2(u[k]));
      if (len < n) bad_log += out[len] != -7.0;  // nothing written past len
      tm.exp2_n(y.data(), out.data(), len);
      for (std::size_t k = 0; k < len; ++k) bad_exp += !same(out[k], math.exp2(y[k]));
      tm.cos_2pi_n(u.data(), out.data(), len);
      for (std::size_t k = 0; k < len; ++k) bad_cos += !same(out[k], math.cos_2pi(u[k]));
    }
    CHECK(bad_log == 0);
    CHECK(bad_exp == 0);
    CHECK(bad_cos == 0);
    // In place (out == in), as the draw uses them.
    std::vector<double> v = u;
    tm.log2_n(v.data(), v.data(), n);
    CHECK(same(v[n - 1], math.log2(u[n - 1])));
    CHECK(same(v[1], math.log2(u[1])));
  }
}

TEST_CASE("floor_fast, ceil_fast and round_nonneg_fast equal libm's floor, ceil and nearbyint") {
  Rng rng(15);
  for (int k = 0; k < 200000; ++k) {
    const double mag = std::ldexp(1.0, static_cast<int>(rng() % 60) - 8);  // 2^-8 .. 2^51
    const double x = (counter_open01(rng()) - 0.5) * 2.0 * mag;
    REQUIRE(floor_fast(x) == std::floor(x));
    REQUIRE(ceil_fast(x) == std::ceil(x));
    if (x >= 0) REQUIRE(round_nonneg_fast(x) == std::nearbyint(x));
  }
  // Halves round to even, as nearbyint does in the default rounding mode.
  CHECK(round_nonneg_fast(0.5) == 0.0);
  CHECK(round_nonneg_fast(1.5) == 2.0);
  CHECK(round_nonneg_fast(2.5) == 2.0);
  CHECK(floor_fast(-2.0) == -2.0);
  CHECK(floor_fast(-2.5) == -3.0);
  CHECK(ceil_fast(2.25) == 3.0);
}

TEST_CASE("passive positions: a position is a pure function of (seed, index), with the shape of the example file") {
  ScenarioConfig sc = load_scenario_file(kCrash, {"agents.passive_positions.count=100000"});
  const PositionBook all = draw_passive_positions(sc, 7);
  REQUIRE(all.rows.size() == 100000);
  // Any block drawn on its own gives the same positions (no state carried from one to the next).
  PassivePositionDrawer d(sc, 7);
  std::vector<PositionRow> rows(100);
  std::vector<double> spot(100);
  d.draw(54321, 100, rows.data(), spot.data());
  for (std::size_t k = 0; k < 100; ++k) {
    const PositionRow &a = rows[k], &b = all.rows[54321 + k];
    REQUIRE(a.size == b.size);
    REQUIRE(a.entry_price == b.entry_price);
    REQUIRE(a.quote_collateral == b.quote_collateral);
    REQUIRE(a.is_long == b.is_long);
    REQUIRE(a.isolated == b.isolated);
    REQUIRE(spot[k] == all.spot[(54321 + k) * sc.assets.size()]);
  }
  // Another seed, other positions.
  CHECK(draw_passive_positions(sc, 8).rows[0].entry_price != all.rows[0].entry_price);

  // The shape (crash.json: BTC at 30,000, tick 0.1, lot 0.001, tiers 50 / 100 / 250 bps mmr).
  const AssetConfig& a = sc.assets[0];
  const double keep = 1.0 - a.collateral_haircut;
  std::size_t longs = 0, isolated = 0, with_spot = 0, below_median = 0, cross = 0;
  const double median_notional = 100.0 * std::pow(2.0, 1.0 / 1.2);  // Pareto(100, 1.2): 100 x 2^(1/alpha) = 178.2
  for (std::size_t k = 0; k < all.rows.size(); ++k) {
    const PositionRow& r = all.rows[k];
    const double s = all.spot[k * sc.assets.size()];
    longs += r.is_long;
    isolated += r.isolated;
    cross += !r.isolated;
    with_spot += s > 0;
    below_median += r.size * r.entry_price < median_notional;
    // Whole lots and whole ticks.
    REQUIRE(std::abs(r.size / a.lot_size - std::round(r.size / a.lot_size)) < 1e-9);
    REQUIRE(std::abs(r.entry_price / a.tick_size - std::round(r.entry_price / a.tick_size)) < 1e-6);
    REQUIRE(r.size * r.entry_price <= 5e6 * 1.01);  // notional capped (plus at most half a lot of rounding)
    // Healthy at the initial price: equity >= 1.05 x maintenance (tier of size x 30,000).
    const double nt = r.size * a.initial_price;
    const double mmr = nt <= 100000 ? 0.005 : nt <= 1e6 ? 0.01 : 0.025;
    const double equity = r.quote_collateral + s * a.initial_price * keep + (r.is_long ? 1 : -1) * r.size * (a.initial_price - r.entry_price);
    REQUIRE(equity >= 1.05 * mmr * nt - 1e-6);
    if (r.isolated) REQUIRE(s == 0);
  }
  // Binomial proportions within 5 standard deviations (sd = sqrt(p(1-p)/n) ~ 0.0016 at n = 100k).
  CHECK(std::abs(longs / 1e5 - 0.55) < 0.008);
  CHECK(std::abs(isolated / 1e5 - 0.40) < 0.008);
  CHECK(std::abs(static_cast<double>(with_spot) / static_cast<double>(cross) - 0.25) < 0.01);
  // Half the notionals below the Pareto median (lot rounding of the smallest moves a few).
  CHECK(std::abs(below_median / 1e5 - 0.5) < 0.02);
}

namespace {

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// Every field of row k of (rows, spot) equals `want` as doubles, bit for bit.
bool same_position(const PositionRow& r, double spot, const PositionRow& w, double want_spot) {
  return r.line == w.line && r.asset == w.asset && r.is_long == w.is_long && r.isolated == w.isolated && same_bits(r.size, w.size) &&
         same_bits(r.entry_price, w.entry_price) && same_bits(r.quote_collateral, w.quote_collateral) && same_bits(spot, want_spot);
}

// The config that works every rule hard: notionals across five tiers (Pareto from 2,000 with tail
// 0.8, cap 5e7), tier leverage caps of 100 / 25 / 10 / 4 / 2 that lower most drawn levels, an entry
// dispersion of 0.5 with a health margin of 1 (many entries moved on both sides, isolated and
// cross), spot on 90% of cross positions with shares over all of [0, 1].
const std::vector<std::string> kHardSets{
    "agents.passive_positions.notional_scale=2000", "agents.passive_positions.notional_tail_alpha=0.8",
    "agents.passive_positions.notional_max=5e7", "agents.passive_positions.long_share=0.5",
    "agents.passive_positions.entry_dispersion=0.5", "agents.passive_positions.isolated_share=0.5",
    "agents.passive_positions.cross_extra_margin_mean=0.2", "agents.passive_positions.spot_probability=0.9",
    "agents.passive_positions.spot_share_min=0", "agents.passive_positions.spot_share_max=1",
    "agents.passive_positions.health_margin=1",
    R"(perp.margin_tiers=[{"max_notional":1e4,"imr_bps":100,"mmr_bps":50},{"max_notional":1e5,"imr_bps":400,"mmr_bps":200},)"
    R"({"max_notional":1e6,"imr_bps":1000,"mmr_bps":500},{"max_notional":1e7,"imr_bps":2500,"mmr_bps":1200},)"
    R"({"max_notional":1e12,"imr_bps":5000,"mmr_bps":2500}])"};

// The configs the bit-for-bit tests draw.
const std::vector<std::vector<std::string>> kRuleConfigs{
    {},                                                                                      // the defaults (levels 1-125)
    {"agents.passive_positions.leverage_min=2", "agents.passive_positions.leverage_max=3"},  // as bench --only scale
    kHardSets,
    // Every position cross with nearly all its collateral as spot: the spot units' rounding up
    // takes the quote below zero for many (the reference_round case for negative x).
    {"agents.passive_positions.isolated_share=0", "agents.passive_positions.spot_probability=1",
     "agents.passive_positions.spot_share_min=0.99999", "agents.passive_positions.spot_share_max=1",
     "agents.passive_positions.cross_extra_margin_mean=0"}};

}  // namespace

TEST_CASE("passive positions: the draw equals the frozen one-position-at-a-time reference bit for bit, in any block split") {
  const std::vector<std::vector<std::string>>& configs = kRuleConfigs;
  const ReferenceTables tm;
  const std::vector<int> widths = lane_widths();  // every width this CPU has, each against the reference
  constexpr std::size_t n = 200000;
  std::vector<std::vector<PositionRow>> rows_of(widths.size(), std::vector<PositionRow>(n));
  std::vector<std::vector<double>> spot_of(widths.size(), std::vector<double>(n));
  std::vector<PositionRow> part(n);
  std::vector<double> part_spot(n);
  for (std::size_t c = 0; c < configs.size(); ++c) {
    const ScenarioConfig sc = load_scenario_file(kCrash, configs[c]);
    for (const std::uint64_t seed : {1ULL, 42ULL, 0xFEEDFACECAFEULL}) {
      CAPTURE(c);
      CAPTURE(seed);
      const PassivePositionDrawer d(sc, seed);
      for (std::size_t w = 0; w < widths.size(); ++w) {
        const ForceLanes force(widths[w]);
        d.draw(0, n, rows_of[w].data(), spot_of[w].data());
      }
      std::vector<std::size_t> mismatches(widths.size(), 0);
      std::size_t isolated = 0, with_spot = 0, longs = 0, negative_quote = 0, moved = 0, capped = 0;
      std::vector<std::size_t> per_tier(sc.perp.margin_tiers.size(), 0);
      for (std::size_t i = 0; i < n; ++i) {
        const ReferencePosition want = reference_draw(sc, seed, i, tm);
        for (std::size_t w = 0; w < widths.size(); ++w) mismatches[w] += !same_position(rows_of[w][i], spot_of[w][i], want.row, want.spot);
        isolated += want.row.isolated;
        with_spot += want.spot > 0;
        longs += want.row.is_long;
        negative_quote += want.row.quote_collateral < 0;
        moved += want.moved;
        capped += want.capped;
        std::size_t t = 0;
        while (t + 1 < per_tier.size() && want.row.size * want.row.entry_price > sc.perp.margin_tiers[t].max_notional) ++t;
        ++per_tier[t];
      }
      for (std::size_t w = 0; w < widths.size(); ++w) {
        CAPTURE(widths[w]);
        CHECK(mismatches[w] == 0);
      }
      // Not vacuous: both sides, both margin modes and spot collateral are drawn (expected shares
      // 0.55 / 0.4 / 0.6 x 0.25 = 0.15 for the first two configs, 0.5 / 0.5 / 0.45 for the hard one).
      CHECK(longs > n / 3);
      if (c < 3) {
        CHECK(isolated > n / 4);
        CHECK(with_spot > n / 10);
      }
      // The hard config reaches every one of its five tiers (P(notional > 1e7) = (2000 / 1e7)^0.8 =
      // 1.1e-3, about 220 of 200k).
      MESSAGE("config " << c << " seed " << seed << ": positions per tier of size x entry " << per_tier[0] << " ... "
                        << per_tier.back() << ", quotes below zero " << negative_quote << ", entries moved " << moved
                        << ", leverages capped " << capped);
      if (c == 2) {
        for (std::size_t t = 0; t < per_tier.size(); ++t) CHECK(per_tier[t] > 50);
        CHECK(moved > n / 20);  // the health rule and the tier caps at work
        CHECK(capped > n / 20);
      }
      if (c == 3) CHECK(negative_quote > n / 100);
      // Split blocks: [0, k) then [k, n) give the same rows, for k across the internal chunking
      // and every remainder of two and four lanes.
      for (std::size_t w = 0; w < widths.size(); ++w) {
        const ForceLanes force(widths[w]);
        for (const std::size_t k : {1UL, 2UL, 63UL, 65UL, 12345UL, 199998UL, 199999UL}) {
          CAPTURE(widths[w]);
          CAPTURE(k);
          d.draw(0, k, part.data(), part_spot.data());
          d.draw(k, n - k, part.data() + k, part_spot.data() + k);
          std::size_t split_mismatches = 0;
          for (std::size_t i = 0; i < n; ++i) split_mismatches += !same_position(part[i], part_spot[i], rows_of[w][i], spot_of[w][i]);
          CHECK(split_mismatches == 0);
        }
      }
    }
  }
}

TEST_CASE("passive positions: the draw equals the frozen reference for random configs across the allowed ranges") {
  // Configs drawn over the schema's ranges (the asset's price, tick, lot and haircut; every
  // agents.passive_positions field; 1-8 margin tiers with increasing max_notional and mmr < imr),
  // set on a loaded crash.json directly. 60 configs x 3,000 positions, and the same block split at
  // an odd boundary.
  const ScenarioConfig base = load_scenario_file(kCrash, {});
  const ReferenceTables tm;
  Rng rng(1515);
  const auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * counter_open01(rng()); };
  const auto log_uniform = [&](double lo, double hi) { return lo * std::pow(hi / lo, counter_open01(rng())); };
  const auto micros = [](double x) { return std::max(1e-6, std::round(x * 1e6) * 1e-6); };
  const std::vector<int> widths = lane_widths();
  constexpr std::size_t n = 3000, k_split = 1231;
  std::vector<PositionRow> rows(n), part(n);
  std::vector<double> spot(n), part_spot(n);
  std::size_t compared = 0, moved = 0, capped = 0;
  for (int c = 0; c < 60; ++c) {
    CAPTURE(c);
    ScenarioConfig sc = base;
    AssetConfig& a = sc.assets[0];
    a.tick_size = std::pow(10.0, static_cast<double>(static_cast<int>(rng() % 7)) - 4);  // 1e-4 .. 100
    a.lot_size = std::pow(10.0, static_cast<double>(static_cast<int>(rng() % 6)) - 5);   // 1e-5 .. 1
    a.initial_price = a.tick_size * std::round(log_uniform(10, 1e7));
    a.collateral_haircut = rng() % 4 == 0 ? 0.0 : uniform(0, 0.9);
    PassivePositionsConfig& pp = sc.agents.passive_positions;
    pp.notional_scale = micros(log_uniform(1, 1e6));
    pp.notional_tail_alpha = uniform(0.5, 10);
    pp.notional_max = std::min(1e12, micros(pp.notional_scale * log_uniform(1, 1e5)));
    const int side_kind = static_cast<int>(rng() % 5);  // the shares' ends (0, 1) as well as inside
    pp.long_share = side_kind == 0 ? 0.0 : side_kind == 1 ? 1.0 : uniform(0, 1);
    pp.entry_dispersion = uniform(0, 1);
    const std::size_t lo = rng() % 11, hi = lo + rng() % (11 - lo);
    pp.leverage_min = kPassiveLeverageLevels[lo] - (rng() % 2 ? 0.5 : 0.0) * (lo > 0);
    pp.leverage_max = std::min(125.0, kPassiveLeverageLevels[hi] + (rng() % 2 ? 0.5 : 0.0));
    pp.isolated_share = rng() % 6 == 0 ? static_cast<double>(rng() % 2) : uniform(0, 1);
    pp.cross_extra_margin_mean = rng() % 4 == 0 ? 0.0 : log_uniform(1e-3, 100);
    pp.spot_probability = rng() % 6 == 0 ? static_cast<double>(rng() % 2) : uniform(0, 1);
    pp.spot_share_min = uniform(0, 1);
    pp.spot_share_max = uniform(pp.spot_share_min, 1);
    pp.health_margin = rng() % 4 == 0 ? 0.0 : log_uniform(1e-3, 10);
    sc.perp.margin_tiers.clear();
    const int n_tiers = 1 + static_cast<int>(rng() % 8);
    double max_notional = pp.notional_scale * log_uniform(0.5, 50);
    for (int t = 0; t < n_tiers; ++t) {
      MarginTierConfig tier;
      tier.max_notional = t + 1 == n_tiers ? 1e12 : std::min(1e12 - 1, micros(max_notional));
      tier.imr_bps = std::round(log_uniform(1, 10000));
      tier.mmr_bps = tier.imr_bps * uniform(0.05, 0.95);
      sc.perp.margin_tiers.push_back(tier);
      max_notional = std::max(max_notional * log_uniform(1.5, 100), tier.max_notional * 2);
      if (tier.max_notional >= 1e12 - 1) break;
    }
    const std::uint64_t seed = rng();
    const PassivePositionDrawer d(sc, seed);
    std::vector<ReferencePosition> want(n);
    for (std::size_t i = 0; i < n; ++i) {
      want[i] = reference_draw(sc, seed, i, tm);
      moved += want[i].moved;
      capped += want[i].capped;
    }
    for (const int lanes : widths) {
      CAPTURE(lanes);
      const ForceLanes force(lanes);
      d.draw(0, n, rows.data(), spot.data());
      d.draw(0, k_split, part.data(), part_spot.data());
      d.draw(k_split, n - k_split, part.data() + k_split, part_spot.data() + k_split);
      std::size_t mismatches = 0, split_mismatches = 0;
      for (std::size_t i = 0; i < n; ++i) {
        mismatches += !same_position(rows[i], spot[i], want[i].row, want[i].spot);
        split_mismatches += !same_position(part[i], part_spot[i], rows[i], spot[i]);
      }
      CHECK(mismatches == 0);
      CHECK(split_mismatches == 0);
      compared += n;
    }
  }
  CHECK(compared == 60 * n * widths.size());
  // Not vacuous: the health rule and the tier caps were exercised.
  MESSAGE("random configs: " << moved << " entries moved by the health rule, " << capped << " leverages capped by the tier");
  CHECK(moved > 1000);
  CHECK(capped > 1000);
}

TEST_CASE("passive positions: four lanes (AVX2) and two lanes (SSE2) draw the same bits, in blocks of any size and offset") {
#if defined(SL_HAVE_AVX2_LANES)
  // The CPU's own choice is the wider one where it has AVX2 (the bench machine has).
  if (__builtin_cpu_supports("avx2")) CHECK(simd_double_lanes() == 4);
#endif
  const std::vector<int> widths = lane_widths();
  if (widths.size() < 2) {
    MESSAGE("no AVX2 on this CPU: only the two-lane draw runs here");
    return;
  }
  // A large block at an odd offset (1,000,001 positions from 777,777: whole 128-position chunks and
  // a last one of 1,000,001 mod 128 = 65), then blocks of every length 1 .. 37 at offsets of every
  // remainder mod 4, for each of the reference test's configs. (Most positions' values end rounded
  // to lots, ticks and micro-units, which absorb a last-bit difference in a quotient or a table
  // value: the table maths' own test above compares those unrounded.)
  const std::vector<std::vector<std::string>>& configs = kRuleConfigs;
  constexpr std::size_t n = 1000001, first = 777777;
  std::vector<PositionRow> rows2(n), rows4(n);
  std::vector<double> spot2(n), spot4(n);
  for (std::size_t c = 0; c < configs.size(); ++c) {
    CAPTURE(c);
    const ScenarioConfig sc = load_scenario_file(kCrash, configs[c]);
    const PassivePositionDrawer d(sc, 0xA5A5ULL + c);
    {
      const ForceLanes force(2);
      d.draw(first, n, rows2.data(), spot2.data());
    }
    {
      const ForceLanes force(4);
      d.draw(first, n, rows4.data(), spot4.data());
    }
    std::size_t mismatches = 0, lines_right = 0;
    for (std::size_t i = 0; i < n; ++i) {
      mismatches += !same_position(rows4[i], spot4[i], rows2[i], spot2[i]);
      lines_right += rows2[i].line == static_cast<std::int32_t>(first + i + 1);
    }
    CHECK(mismatches == 0);
    CHECK(lines_right == n);  // every row written, with its line
    std::size_t small_mismatches = 0, blocks = 0;
    for (std::size_t len = 1; len <= 37; ++len)
      for (std::size_t off = 0; off < 4; ++off) {
        const std::size_t at = 1 + 97 * len + off;  // within the large block: its rows are the third copy
        PositionRow r2[37], r4[37];
        double s2[37], s4[37];
        {
          const ForceLanes force(2);
          d.draw(first + at, len, r2, s2);
        }
        {
          const ForceLanes force(4);
          d.draw(first + at, len, r4, s4);
        }
        for (std::size_t k = 0; k < len; ++k)
          small_mismatches += !same_position(r4[k], s4[k], r2[k], s2[k]) + !same_position(r4[k], s4[k], rows2[at + k], spot2[at + k]);
        ++blocks;
      }
    CHECK(blocks == 37 * 4);
    CHECK(small_mismatches == 0);
  }
}

TEST_CASE("passive positions: leverage within [leverage_min, leverage_max] sets an isolated position's margin") {
  // Levels 2 and 3 only (weights 8 and 8): an isolated margin is notional / 2 or notional / 3, half each.
  ScenarioConfig sc = load_scenario_file(kCrash, {"agents.passive_positions.count=20000", "agents.passive_positions.leverage_min=2",
                                                  "agents.passive_positions.leverage_max=3"});
  const PositionBook b = draw_passive_positions(sc, 1);
  std::size_t two = 0, three = 0, iso = 0;
  for (const PositionRow& r : b.rows) {
    if (!r.isolated) continue;
    ++iso;
    const double lev = r.size * r.entry_price / r.quote_collateral;
    two += std::abs(lev - 2) < 1e-6;
    three += std::abs(lev - 3) < 1e-6;
  }
  CHECK(two + three == iso);
  CHECK(std::abs(static_cast<double>(two) / static_cast<double>(iso) - 0.5) < 0.03);
}

TEST_CASE("passive positions: bad input names the field and the allowed range") {
  const auto err = [](std::vector<std::string> sets) { return sl::test::scenario_error_of([&] { load_scenario_file(kCrash, sets); }); };
  CHECK(err({"agents.passive_positions.count=-1"}).find("agents.passive_positions.count") != std::string::npos);
  CHECK(err({"agents.passive_positions.count=10000001"}).find("[0, 1e7]") != std::string::npos);
  const std::string lev = err({"agents.passive_positions.leverage_min=6", "agents.passive_positions.leverage_max=9"});
  CHECK(lev.find("agents.passive_positions.leverage_min") != std::string::npos);
  CHECK(lev.find("holds none of the leverage levels") != std::string::npos);
  CHECK(err({"agents.passive_positions.notional_scale=1000", "agents.passive_positions.notional_max=500"}).find("notional_max") !=
        std::string::npos);
  CHECK(err({"agents.passive_positions.spot_share_min=0.9", "agents.passive_positions.spot_share_max=0.5"}).find("spot_share_max") !=
        std::string::npos);
  CHECK(err({"agents.passive_positions.long_share=1.5"}).find("[0, 1]") != std::string::npos);
  CHECK(err({"agents.passive_positions.bogus=1"}).find("bogus") != std::string::npos);
  CHECK(err({"agents.passive_positions.leverage_min=5", "agents.passive_positions.leverage_max=5"}).empty());
}

namespace {

// The same run twice: with `n` passive positions, and with count 0 and those positions (drawn for
// the same seed) written as a CSV and loaded through accounts.file. Returns the population's run.
RunResult check_population_is_its_file(const std::vector<std::string>& sets, int n, const char* policy, std::uint64_t seed,
                                       const sl::test::TempDir& dir) {
  std::vector<std::string> with = sets;
  with.push_back("agents.passive_positions.count=" + std::to_string(n));
  const ScenarioConfig pop = load_scenario_file(kCrash, with);
  const std::string csv = dir.file(std::string("positions_") + policy + ".csv");
  {
    std::ofstream f(csv);
    write_position_csv(draw_passive_positions(pop, seed), pop, f);
  }
  std::vector<std::string> file_sets = sets;
  file_sets.push_back("accounts.file=\"" + csv + "\"");
  const ScenarioConfig from_file = load_scenario_file(kCrash, file_sets);
  REQUIRE(from_file.accounts.book->rows.size() == static_cast<std::size_t>(n));
  RunOptions ro;
  ro.seed = seed;
  ro.policy = policy;
  const RunResult a = run_simulation(pop, ro);  // conservation and the solvency invariants are checked inside
  sl::test::check_same_run(a, run_simulation(from_file, ro), std::string("passive vs file, ") + policy);
  return a;
}

std::size_t events_of_positions(const RunResult& r, bool adl) {
  std::size_t k = 0;
  for (const LiquidationEvent& e : r.liquidations) k += e.agent_type == "position" && is_adl_fill(e) == adl;
  return k;
}

}  // namespace

TEST_CASE("passive positions are their own accounts.file: identical runs under market, dutch and socialized") {
  sl::test::TempDir dir("sl_passive");
  // crash.json (the 3% fall at step 600, then 3x volatility) with 3,000 passive positions of the
  // example's shape (up to 125x): the fall liquidates some of them.
  const std::vector<std::string> sets{"horizon_steps=1200"};
  const RunResult m = check_population_is_its_file(sets, 3000, "market", 42, dir);
  CHECK(events_of_positions(m, false) > 10);
  const RunResult d = check_population_is_its_file(sets, 3000, "dutch", 43, dir);
  CHECK(events_of_positions(d, false) > 10);
  // Socialized with no insurance fund: a deficit deleverages the most profitable opposite
  // positions, passive shorts among them (ADL fills recorded as ">deleveraged" events).
  const RunResult s = check_population_is_its_file({"horizon_steps=1200", "perp.liquidation.insurance_fund_start=0"}, 3000, "socialized", 44, dir);
  CHECK(events_of_positions(s, false) > 10);
  CHECK(events_of_positions(s, true) > 0);
  MESSAGE("position liquidations: market " << events_of_positions(m, false) << ", dutch " << events_of_positions(d, false)
                                          << ", socialized " << events_of_positions(s, false) << " (ADL fills " << events_of_positions(s, true) << ")");
}

TEST_CASE("passive positions are their own accounts.file: funding settled twice") {
  sl::test::TempDir dir("sl_passive_f");
  // Funding every 600 s over 1,800 steps: settlements at steps 600 and 1,200 pay or charge every
  // passive position (through the ledger, conservation checked inside). 2,003 positions: the last
  // three amounts computed one at a time, not on lanes (sim/run/own_positions.cpp).
  const RunResult r = check_population_is_its_file({"horizon_steps=1800", "perp.funding.interval_s=600"}, 2003, "market", 5, dir);
  bool settled = false;
  for (const SeriesColumn& c : r.series)
    if (c.name == "funding_rate")
      for (double v : c.values) settled |= v != 0.0;
  CHECK(settled);
}

TEST_CASE("passive positions: the liquidation-price index and the full scan give identical runs") {
  // 3,000 passive positions of the example's shape through the crash: the index values only the
  // accounts whose band the mark left; the full scan values every account every step.
  ScenarioConfig idx = load_scenario_file(kCrash, {"horizon_steps=1200", "agents.passive_positions.count=3000"});
  ScenarioConfig full = idx;
  full.perp.margin_scan = "full";
  for (const char* policy : {"market", "socialized"}) {
    RunOptions ro;
    ro.seed = 9;
    ro.policy = policy;
    const RunResult a = run_simulation(idx, ro);
    sl::test::check_same_run(a, run_simulation(full, ro), std::string("passive index vs full, ") + policy);
    CHECK(events_of_positions(a, false) > 10);
  }
}
