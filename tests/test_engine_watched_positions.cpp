// Watched positions (MarginEngine::watch, issue #15): a passive position is a ledger account whose
// price bands the margin engine keeps, made a margin account only when a price leaves a band or
// when funding, ADL, a loss haircut, a haircut change or a full scan reaches it. The limiting case:
// a run in which every position is a margin account from set-up (the same positions loaded through
// accounts.file) is the same run, bit for bit, whatever reaches the positions.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agents/passive_positions.hpp"
#include "scenarios/loader.hpp"
#include "sim/core/table_math.hpp"
#include "sim/perp/liquidation_price_index.hpp"
#include "sim/perp/watch_bands.hpp"
#include "sim/perp/watch_index.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/same_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sl;

namespace {

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";

struct WatchedRun {
  RunResult run;
  RunCounters counters;
};

// The population of `n` positions (watched) against the same positions as an accounts.file (every
// one a margin account from set-up): the same run. Returns the population's run and counters.
WatchedRun check_watched_equals_accounts(const std::vector<std::string>& sets, int n, const char* policy, std::uint64_t seed,
                                         const sl::test::TempDir& dir, const std::string& tag,
                                         const std::function<void(ScenarioConfig&)>& edit = {}) {
  std::vector<std::string> with = sets;
  with.push_back("agents.passive_positions.count=" + std::to_string(n));
  ScenarioConfig pop = load_scenario_file(kCrash, with);
  if (edit) edit(pop);
  const std::string csv = dir.file("positions_" + tag + ".csv");
  {
    std::ofstream f(csv);
    write_position_csv(draw_passive_positions(pop, seed), pop, f);
  }
  std::vector<std::string> file_sets = sets;
  file_sets.push_back("accounts.file=\"" + csv + "\"");
  ScenarioConfig from_file = load_scenario_file(kCrash, file_sets);
  if (edit) edit(from_file);
  RunOptions ro;
  ro.seed = seed;
  ro.policy = policy;
  WatchedRun w;
  w.run = run_simulation(pop, ro, &w.counters);  // conservation and the solvency invariants are checked inside
  RunCounters file_counters;
  sl::test::check_same_run(w.run, run_simulation(from_file, ro, &file_counters), "watched vs accounts, " + tag);
  CHECK(file_counters.positions_watched_at_end == 0);  // a file's rows are margin accounts from set-up
  CHECK(w.counters.positions_watched_at_end + w.counters.positions_made_accounts == n);
  return w;
}

// Distinct positions with a liquidation (or ADL) event: each was a margin account by then.
std::size_t positions_with_events(const RunResult& r) {
  std::set<AccountId> s;
  for (const LiquidationEvent& e : r.liquidations)
    if (e.agent_type == "position") s.insert(e.account);
  return s.size();
}

}  // namespace

TEST_CASE("watched positions: only those a price reaches become margin accounts, and the run is the accounts' run") {
  sl::test::TempDir dir("sl_watched");
  // crash.json's 3% fall at step 600 with 3,000 positions of the example's shape (up to 125x).
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=1200"}, 3000, "market", 42, dir, "market");
  const std::size_t liquidated = positions_with_events(w.run);
  MESSAGE("made margin accounts " << w.counters.positions_made_accounts << ", still watched " << w.counters.positions_watched_at_end
                                  << ", liquidated " << liquidated);
  CHECK(liquidated > 10);
  CHECK(w.counters.positions_made_accounts >= static_cast<std::int64_t>(liquidated));
  // No funding settles in 1,200 s (interval 8 h) and no ADL runs under `market`: the positions no
  // price band reached stay watched (the fall is 3%; a 2x position's band is ~45% away).
  CHECK(w.counters.positions_watched_at_end > 1500);
  CHECK(w.counters.watch_rebuilds == 0);  // with the default factor 2 the 3% fall reaches no far edge
  // Their ledger rows were never written either (Ledger: deferred rows): a position's row is
  // written when it becomes a margin account (its first valuation reads it), and no other.
  CHECK(w.counters.position_rows_unwritten_at_end == w.counters.positions_watched_at_end);
}

TEST_CASE("watched positions: funding reaches every position (all made margin accounts at the first settlement)") {
  sl::test::TempDir dir("sl_watched_f");
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=700", "perp.funding.interval_s=600"}, 2000, "market", 5, dir, "funding");
  CHECK(w.counters.positions_watched_at_end == 0);
  CHECK(w.counters.positions_made_accounts == 2000);
  CHECK(w.counters.position_rows_unwritten_at_end == 0);
}

TEST_CASE("watched positions: ADL ranks every position (socialized with no fund)") {
  sl::test::TempDir dir("sl_watched_a");
  const WatchedRun w =
      check_watched_equals_accounts({"horizon_steps=1200", "perp.liquidation.insurance_fund_start=0"}, 3000, "socialized", 44, dir, "adl");
  bool adl = false;
  for (const LiquidationEvent& e : w.run.liquidations) adl |= e.agent_type == "position" && is_adl_fill(e);
  CHECK(adl);
  CHECK(w.counters.positions_watched_at_end == 0);
}

TEST_CASE("watched positions: the proactive de-risker and a volatility-linked haircut give the accounts' run") {
  sl::test::TempDir dir("sl_watched_p");
  // The de-risker reads every account's equity / maintenance against its trigger each step (bands
  // keep watched positions above it); the haircut moves with the index's volatility, so every
  // watched position's bands are computed again at each change (a quarter of cross positions hold
  // spot collateral).
  const WatchedRun p = check_watched_equals_accounts({"horizon_steps=1200", "perp.liquidation.proactive.enabled=true"}, 3000, "market", 7, dir,
                                                     "proactive");
  bool derisked = false;
  for (const LiquidationEvent& e : p.run.liquidations) derisked |= e.policy_path == "proactive";
  CHECK(derisked);
  const WatchedRun h = check_watched_equals_accounts({"horizon_steps=1200", "assets.0.collateral_haircut=0.05", "assets.0.haircut_vol_z=3",
                                                      "assets.0.haircut_vol_horizon_s=3600", "assets.0.haircut_vol_window_steps=60"},
                                                     3000, "dutch", 8, dir, "haircut");
  CHECK(h.counters.positions_watched_at_end > 0);
  // A haircut change bands the spot holders again from their balances: their rows are written
  // then, made margin accounts or not.
  CHECK(h.counters.watch_rebuilds > 0);
  CHECK(h.counters.position_rows_unwritten_at_end < h.counters.positions_watched_at_end);
}

// ---- The pieces: one-asset bands and the compact index ----

TEST_CASE("liquidation_bands_one gives liquidation_bands' bands for an account exposed to one asset") {
  // Random single-asset exposures (spot of either sign or none, long, short or flat, haircuts up to
  // 1, margins around zero), k = 1 and 1.5, three tiers: the same answer and the same edges, bit for bit.
  const std::vector<MarginTierRate> tiers{{50'000, 0.004}, {250'000, 0.005}, {1e300, 0.01}};
  std::mt19937_64 g(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int banded = 0;
  for (int n = 0; n < 20000; ++n) {
    AssetExposure x;
    const double r = u(g);
    x.spot = r < 0.3 ? 0.0 : (r < 0.9 ? 10 * u(g) : -5 * u(g));
    x.haircut = u(g) < 0.1 ? 1.0 : 0.2 * u(g);
    x.index = 9000 + 2000 * u(g);
    const double c = u(g);
    x.contracts = c < 0.2 ? 0.0 : (c < 0.6 ? 40 * u(g) : -40 * u(g));
    x.mark = x.index * (0.98 + 0.04 * u(g));
    const double h0 = -1000 + 50'000 * u(g), slack = 1e-3 * u(g), k = u(g) < 0.5 ? 1.0 : 1.5;
    std::vector<PriceBand> mb, ib;
    const bool a = liquidation_bands({x}, h0, slack, k, tiers, mb, ib);
    PriceBand m1, i1;
    const bool b = liquidation_bands_one(x, h0, slack, k, tiers, m1, i1);
    REQUIRE(a == b);
    if (!a) continue;
    ++banded;
    CHECK(mb[0].lo == m1.lo);
    CHECK(mb[0].hi == m1.hi);
    CHECK(ib[0].lo == i1.lo);
    CHECK(ib[0].hi == i1.hi);
  }
  CHECK(banded > 5000);
}

TEST_CASE("watch bands on lanes: the one-position reference's edges, index and far edges, bit for bit, on both widths") {
  // Blocks of 1-256 random single-asset positions (quote around zero, spot of either sign or none,
  // long, short or flat, notionals across three tiers), at random prices, haircuts 0, up to 0.2 or
  // 1, k 1 or 1.5, far factors 2 or 1.05 (many far edges). band_watched_positions on two lanes and
  // (where the CPU has AVX2) four against band_position_reference one position at a time: the same
  // float edges (bits), the same index, the same nearest far edges.
  const std::vector<MarginTierRate> tiers{{50'000, 0.004}, {250'000, 0.005}, {1e300, 0.01}};
  std::vector<int> widths{2};
  if (set_simd_double_lanes_for_testing(4)) widths.push_back(4);
  set_simd_double_lanes_for_testing(0);
  const float kInfF = std::numeric_limits<float>::infinity();
  for (const int width : widths) {
    REQUIRE(set_simd_double_lanes_for_testing(width));
    std::mt19937_64 g(17);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    int banded = 0, unbanded = 0, spot_holders = 0, far_edges = 0, stored = 0, tier_seen[3] = {0, 0, 0};
    for (int block = 0; block < 400; ++block) {
      WatchBandPrices p;
      p.index = 9000 + 2000 * u(g);
      p.mark = p.index * (0.98 + 0.04 * u(g));
      const double hr = u(g);
      p.haircut = hr < 0.2 ? 0.0 : (hr < 0.9 ? 0.2 * u(g) : 1.0);
      p.k = u(g) < 0.5 ? 1.0 : 1.5;
      p.far_factor = u(g) < 0.5 ? 2.0 : 1.05;
      p.inv_far_factor = 1.0 / p.far_factor;
      const std::size_t n = 1 + static_cast<std::size_t>(u(g) * 256) % 256;
      constexpr std::size_t B = kWatchBandBlock;
      double quote[B], spot[B], contracts[B];
      for (std::size_t j = 0; j < B; ++j) {
        const bool real = j < n;  // past n: a position of no balances, as the contract asks
        const double r = u(g), c = u(g);
        spot[j] = !real || r < 0.3 ? 0.0 : (r < 0.9 ? 10 * u(g) : -5 * u(g));
        contracts[j] = !real || c < 0.2 ? 0.0 : (c < 0.6 ? 40 * u(g) : -40 * u(g));
        const double notional = std::abs(contracts[j]) * p.mark;
        quote[j] = real ? -notional * 0.9 * u(g) * (contracts[j] > 0 ? 1.0 : 0.0) + 60'000 * u(g) - 2'000 : 0.0;
        tier_seen[band_detail::tier_of(tiers, notional)] += real;
      }
      const WatchBandColumns in{quote, spot, contracts};
      float a_mlo[B], a_mhi[B], a_ilo[B], a_ihi[B], b_mlo[B], b_mhi[B], b_ilo[B], b_ihi[B];
      std::uint8_t a_which[B], b_which[B];
      WatchFarEdges far0{u(g) < 0.5 ? -std::numeric_limits<double>::infinity() : 3000.0, std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(), u(g) < 0.5 ? std::numeric_limits<double>::infinity() : 30000.0};
      WatchFarEdges fa = far0, fb = far0;
      band_watched_positions(p, tiers, in, n, WatchBandEdges{a_mlo, a_mhi, a_ilo, a_ihi, a_which}, fa);
      for (std::size_t j = 0; j < n; ++j) band_position_reference(p, tiers, in, j, WatchBandEdges{b_mlo, b_mhi, b_ilo, b_ihi, b_which}, fb);
      for (std::size_t j = 0; j < n; ++j) {
        INFO("width " << width << " block " << block << " position " << j);
        REQUIRE(a_which[j] == b_which[j]);
        REQUIRE(std::bit_cast<std::uint32_t>(a_mlo[j]) == std::bit_cast<std::uint32_t>(b_mlo[j]));
        REQUIRE(std::bit_cast<std::uint32_t>(a_mhi[j]) == std::bit_cast<std::uint32_t>(b_mhi[j]));
        REQUIRE(std::bit_cast<std::uint32_t>(a_ilo[j]) == std::bit_cast<std::uint32_t>(b_ilo[j]));
        REQUIRE(std::bit_cast<std::uint32_t>(a_ihi[j]) == std::bit_cast<std::uint32_t>(b_ihi[j]));
        banded += b_which[j] != 2;
        unbanded += b_which[j] == 2;
        spot_holders += b_which[j] == 1;
        stored += (b_mlo[j] > 0) + (b_mhi[j] < kInfF) + (b_ilo[j] > 0) + (b_ihi[j] < kInfF);
      }
      CHECK(fa.mark_lo == fb.mark_lo);
      CHECK(fa.mark_hi == fb.mark_hi);
      CHECK(fa.index_lo == fb.index_lo);
      CHECK(fa.index_hi == fb.index_hi);
      far_edges += (fb.mark_lo != far0.mark_lo) + (fb.mark_hi != far0.mark_hi) + (fb.index_lo != far0.index_lo) + (fb.index_hi != far0.index_hi);
    }
    // Not vacuous: every kind of outcome occurs many times.
    CHECK(banded > 10000);
    CHECK(unbanded > 1000);
    CHECK(spot_holders > 5000);
    CHECK(stored > 10000);
    CHECK(far_edges > 100);
    for (int t = 0; t < 3; ++t) CHECK(tier_seen[t] > 1000);  // every tier
  }
  set_simd_double_lanes_for_testing(0);
}

TEST_CASE("watch index: add_block leaves the heaps as add_one one position at a time") {
  // 30,000 positions with random bands (some edges none), each for index 0 or 1 or neither, added
  // in blocks of 1-256 to one index and one at a time to another, with random price moves popping
  // edges between the blocks (so a block lands on an unordered part that is empty or not): the two
  // pop the same positions in the same order at every step. For both indexes' `want`.
  for (const int want_case : {0, 1}) {
  CAPTURE(want_case);
  const auto want = static_cast<std::uint8_t>(want_case);
  std::mt19937_64 g(23 + static_cast<std::uint64_t>(want_case));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double inf = std::numeric_limits<double>::infinity();
  WatchIndex by_block(1), one_by_one(1);
  std::uint32_t next = 0;
  double mark = 10000, index = 10000;
  std::size_t popped = 0;
  while (next < 30000) {
    const std::size_t n = 1 + static_cast<std::size_t>(u(g) * 256) % 256;
    constexpr std::size_t B = WatchIndex::kMaxBlock;
    float mlo[B], mhi[B], ilo[B], ihi[B];
    std::uint32_t ks[B];
    std::uint8_t which[B];
    for (std::size_t j = 0; j < n; ++j) {
      PriceBand mb{u(g) < 0.2 ? -inf : mark * (0.85 + 0.149 * u(g)), u(g) < 0.3 ? inf : mark * (1.001 + 0.15 * u(g))};
      PriceBand ib{u(g) < 0.6 ? -inf : index * (0.85 + 0.149 * u(g)), u(g) < 0.8 ? inf : index * (1.001 + 0.15 * u(g))};
      ks[j] = next++;
      const double w = u(g);
      which[j] = static_cast<std::uint8_t>(w < 0.6 ? 0 : (w < 0.9 ? 1 : 2));
      mlo[j] = mb.lo > 0 ? WatchIndex::lower_edge(mb.lo) : -std::numeric_limits<float>::infinity();
      mhi[j] = mb.hi < inf ? WatchIndex::upper_edge(mb.hi) : std::numeric_limits<float>::infinity();
      ilo[j] = ib.lo > 0 ? WatchIndex::lower_edge(ib.lo) : -std::numeric_limits<float>::infinity();
      ihi[j] = ib.hi < inf ? WatchIndex::upper_edge(ib.hi) : std::numeric_limits<float>::infinity();
      if (which[j] == want) one_by_one.add_one(ks[j], 0, mb, ib);
    }
    const float* const edges[4] = {mlo, mhi, ilo, ihi};
    by_block.add_block(0, edges, ks, which, want, n);
    REQUIRE(by_block.stored_entries() == one_by_one.stored_entries());
    mark *= 1.0 + 0.06 * (u(g) - 0.5);
    index *= 1.0 + 0.06 * (u(g) - 0.5);
    std::vector<std::uint32_t> a, b;
    by_block.crossed({mark}, {index}, a);
    one_by_one.crossed({mark}, {index}, b);
    REQUIRE(a == b);
    popped += a.size();
  }
  CHECK(popped > 5000);  // not vacuous: many edges were reached, in heap order (9,877)
  CHECK(by_block.stored_entries() > 5000);
  }
}

TEST_CASE("watch index: float edges are rounded outward and a price pops exactly the edges it reached") {
  // Outward: a lower edge is stored at or above it, an upper edge at or below, one float apart at most.
  for (double e : {9999.99, 10000.0, 1234.5678, 0.1}) {
    const float lo = WatchIndex::lower_edge(e), hi = WatchIndex::upper_edge(e);
    CHECK(static_cast<double>(lo) >= e);
    CHECK(static_cast<double>(std::nextafter(lo, 0.0f)) < e);
    CHECK(static_cast<double>(hi) <= e);
    CHECK(static_cast<double>(std::nextafter(hi, 1e30f)) > e);
  }
  CHECK(WatchIndex::upper_edge(1e300) == std::numeric_limits<float>::max());
  // Positions 0..3 with mark bands (lo, hi): (9000, 11000), (9500, inf), (-inf, 10500), (9900, 10100);
  // position 4 an index band lo 9800. All edges are exact floats, so popping is exact.
  WatchIndex w(1);
  w.add_one(0, 0, {9000, 11000}, {});
  w.add_one(1, 0, {9500, std::numeric_limits<double>::infinity()}, {});
  w.add_one(2, 0, {-std::numeric_limits<double>::infinity(), 10500}, {});
  w.add_one(3, 0, {9900, 10100}, {});
  w.add_one(4, 0, {}, {9800, std::numeric_limits<double>::infinity()});
  CHECK(w.stored_entries() == 7);
  std::vector<std::uint32_t> out;
  w.crossed({10000.0}, {10000.0}, out);
  CHECK(out.empty());  // inside every band
  w.crossed({9900.0}, {9850.0}, out);  // the mark at position 3's lower edge: reached
  CHECK(out == std::vector<std::uint32_t>{3});
  out.clear();
  w.crossed({9400.0}, {9700.0}, out);  // position 1's lower edge, and position 4's index edge
  std::sort(out.begin(), out.end());
  CHECK(out == std::vector<std::uint32_t>{1, 4});
  out.clear();
  w.crossed({10600.0}, {10000.0}, out);  // up: position 3's upper edge (10100), position 2's (10500)
  std::sort(out.begin(), out.end());
  CHECK(out == std::vector<std::uint32_t>{2, 3});
  out.clear();
  w.crossed({10600.0}, {10000.0}, out);  // popped entries are gone
  CHECK(out.empty());
  CHECK(w.stored_entries() == 2);  // position 0's two edges
  w.clear();
  CHECK(w.stored_entries() == 0);
}

TEST_CASE("watch index: on a random price path every edge is popped exactly at the first step a price reaches it") {
  // 20,000 positions with random mark bands (lower edges 5,000-9,990, upper 10,010-15,000, some
  // unbounded) and index bands; a random walk of both prices (steps up to 3%) for 400 steps. A brute
  // force over the stored floats gives, each step, the entries reached and not yet popped.
  std::mt19937_64 g(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::size_t n = 20000;
  WatchIndex w(1);
  w.reserve(n);
  struct Edge {
    std::uint32_t k;
    int kind;  // 0 mark lo, 1 mark hi, 2 index lo, 3 index hi
    float edge;
    bool popped;
  };
  std::vector<Edge> edges;
  const double inf = std::numeric_limits<double>::infinity();
  for (std::uint32_t k = 0; k < n; ++k) {
    PriceBand mb{5000 + 4990 * u(g), 10010 + 4990 * u(g)}, ib{};
    if (u(g) < 0.2) mb.hi = inf;
    if (u(g) < 0.3) ib = {5000 + 4990 * u(g), u(g) < 0.5 ? inf : 10010 + 4990 * u(g)};
    w.add_one(k, 0, mb, ib);
    edges.push_back({k, 0, WatchIndex::lower_edge(mb.lo), false});
    if (mb.hi < inf) edges.push_back({k, 1, WatchIndex::upper_edge(mb.hi), false});
    if (ib.lo > 0) edges.push_back({k, 2, WatchIndex::lower_edge(ib.lo), false});
    if (ib.hi < inf) edges.push_back({k, 3, WatchIndex::upper_edge(ib.hi), false});
  }
  REQUIRE(w.stored_entries() == edges.size());
  double mark = 10000, index = 10000;
  std::size_t popped_total = 0;
  for (int step = 0; step < 400; ++step) {
    mark *= 1.0 + 0.06 * (u(g) - 0.5);
    index *= 1.0 + 0.06 * (u(g) - 0.5);
    std::vector<std::uint32_t> got;
    w.crossed({mark}, {index}, got);
    std::multiset<std::uint32_t> expected;
    for (Edge& e : edges) {
      if (e.popped) continue;
      const double p = e.kind < 2 ? mark : index;
      const bool reached = e.kind % 2 == 0 ? p <= static_cast<double>(e.edge) : p >= static_cast<double>(e.edge);
      if (reached) {
        e.popped = true;
        expected.insert(e.k);
      }
    }
    REQUIRE(std::multiset<std::uint32_t>(got.begin(), got.end()) == expected);
    popped_total += got.size();
  }
  CHECK(w.stored_entries() == edges.size() - popped_total);
  CHECK(popped_total > edges.size() / 3);  // the walk reaches about half of the edges (22,519 of 45,072): not a vacuous check
}

TEST_CASE("watched positions: far band edges kept only as the nearest one give the same run (perp.watch_far_factor)") {
  sl::test::TempDir dir("sl_watched_far");
  // Factor 1.002: every edge more than 0.2% from the price is far, so the fall reaches the nearest
  // far edge again and again and every band is rebuilt each time; still the accounts' run.
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=1200", "perp.watch_far_factor=1.002"}, 3000, "market", 42, dir, "far");
  CHECK(w.counters.positions_watched_at_end > 1500);
  MESSAGE("rebuilds " << w.counters.watch_rebuilds);
  CHECK(w.counters.watch_rebuilds > 10);
  // Out of range: named with its allowed range.
  try {
    (void)load_scenario_file(kCrash, {"perp.watch_far_factor=1"});
    FAIL("factor 1 accepted");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("perp.watch_far_factor") != std::string::npos);
    CHECK(std::string(e.what()).find("(1, 1000]") != std::string::npos);
  }
}

TEST_CASE("watched positions: a haircut moved by a shock at step 0 rebands the spot holders before the first mark reads them") {
  sl::test::TempDir dir("sl_watched_depeg");
  // A collateral_depeg on the asset from step 0 to 300 adds 0.5 to its haircut: the bands the spot
  // holders got at set-up (haircut 0) no longer hold at step 0. They are computed again at the first
  // mark (a rebuild), and the run is still the accounts' run, in which the haircut flags some spot
  // holders at step 0 (without the rebuild their set-up bands would never see it).
  const auto depeg = [](ScenarioConfig& sc) {
    ShockConfig s;
    s.type = "collateral_depeg";
    s.start_step = 0;
    s.end_step = 300;
    s.asset_index = 0;
    s.haircut_add = 0.5;
    sc.shocks.push_back(s);
  };
  const WatchedRun w = check_watched_equals_accounts({"horizon_steps=900"}, 3000, "market", 21, dir, "depeg", depeg);
  CHECK(w.counters.watch_rebuilds >= 2);  // at step 0 (0 -> 0.5) and at step 300 (back to 0)
  std::size_t at_step_0 = 0;
  for (const LiquidationEvent& e : w.run.liquidations) at_step_0 += e.agent_type == "position" && e.step - e.steps_to_complete == 0;
  MESSAGE("positions flagged at step 0: " << at_step_0 << ", rebuilds " << w.counters.watch_rebuilds);
  CHECK(at_step_0 > 0);
}
