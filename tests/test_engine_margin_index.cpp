// The liquidation-price index (sim/perp/liquidation_price_index.hpp, MarginEngine with
// MarginScan::Index): hand-computed bands, an account valued only when its band is crossed or its
// balances change, a property test against a brute-force valuation of every account on random
// balance changes and price paths, and every curated scenario run with the index and with the full
// scan giving identical results.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/core/rng.hpp"
#include "sim/perp/liquidation_price_index.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/same_run.hpp"

#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>

using namespace sl;
using sl::test::HandWorld;
using sl::test::U;

namespace {
const std::vector<MarginTierRate> kTiers{{100'000.0, 0.005}, {1'000'000.0, 0.01}, {1e12, 0.025}};
}

TEST_CASE("bands: a long's lower edge is its liquidation price within a tier - the tier edge caps it above") {
  // Long 1 BTC at mark 10,000, quote -9,000: equity 1,000, maintenance 10,000 x 0.5% = 50.
  // Liquidation when -9,000 + M < 0.005 M, i.e. M < 9,000 / 0.995 = 9,045.2261.
  // The band: 10,000 - (1,000 - 50) / (1 x 0.995) = 9,045.2261 (one term takes the whole margin).
  // Above: the position leaves tier 0 (notional 100,000) at M = 100,000.
  std::vector<PriceBand> mb, ib;
  REQUIRE(liquidation_bands({{0, 0, 10'000, 1.0, 10'000}}, 950.0, 0.0, 1.0, kTiers, mb, ib));
  CHECK(mb[0].lo == doctest::Approx(9'000.0 / 0.995).epsilon(1e-12));
  CHECK(mb[0].hi == doctest::Approx(100'000.0).epsilon(1e-11));
  CHECK(std::isinf(ib[0].lo));
  CHECK(std::isinf(ib[0].hi));
}

TEST_CASE("bands: a short's upper edge - spot collateral and a second asset split the margin") {
  // Short 2 ETH at 1,000 with quote 2,300: equity 2,300 - 2,000 = 300, maintenance 2,000 x 0.5% = 10,
  // H0 = 290. Alone: M < 1,000 + 290 / (2 x 1.005) = 1,144.2786 (hand: equity 2,300 - 2 M = 0.01 M).
  std::vector<PriceBand> mb, ib;
  REQUIRE(liquidation_bands({{0, 0, 1'000, -2.0, 1'000}}, 290.0, 0.0, 1.0, kTiers, mb, ib));
  CHECK(mb[0].hi == doctest::Approx(1'000.0 + 290.0 / 2.01).epsilon(1e-12));
  CHECK(std::isinf(mb[0].lo));
  // Plus 0.1 BTC of spot collateral at index 10,000, haircut 0.2 (asset 1): two terms, each gets
  // 145. Spot: I > 10,000 - 145 / (0.1 x 0.8) = 8,187.5; short: M < 1,000 + 145 / 2.01.
  REQUIRE(liquidation_bands({{0, 0, 1'000, -2.0, 1'000}, {0.1, 0.2, 10'000, 0, 10'000}}, 290.0, 0.0, 1.0, kTiers, mb, ib));
  CHECK(mb[0].hi == doctest::Approx(1'000.0 + 145.0 / 2.01).epsilon(1e-12));
  CHECK(ib[1].lo == doctest::Approx(8'187.5).epsilon(1e-12));
  CHECK(std::isinf(mb[1].lo));
  // No margin beyond the allowance: no band (valued every step).
  CHECK_FALSE(liquidation_bands({{0, 0, 1'000, -2.0, 1'000}}, 1.0, 1.0, 1.0, kTiers, mb, ib));
  // Cash only: nothing but a transfer changes it; healthy iff equity >= 0.
  CHECK(liquidation_bands({{0, 0, 1'000, 0, 1'000}}, 5.0, 0.0, 1.0, kTiers, mb, ib));
  CHECK_FALSE(liquidation_bands({{0, 0, 1'000, 0, 1'000}}, -5.0, 0.0, 1.0, kTiers, mb, ib));
}

TEST_CASE("index: an account is valued only when the mark crosses its liquidation price or it receives a transfer") {
  // The long above: liquidation price 9,045.2261 (hand, previous test).
  HandWorld hw(0);
  const std::uint32_t a = hw.account("a", -9'000, 1.0);
  REQUIRE(hw.me->scan() == MarginScan::Index);
  hw.set_mark(10'000, 0);
  CHECK(hw.me->valued_last_step() == 1);  // first mark: everyone
  hw.set_mark(9'500, 1);
  CHECK(hw.me->valued_last_step() == 0);
  hw.set_mark(9'046, 2);  // still above: not looked at, still healthy
  CHECK(hw.me->valued_last_step() == 0);
  CHECK_FALSE(hw.me->account(a).liquidatable);
  hw.set_mark(9'045, 3);  // crossed
  CHECK(hw.me->valued_last_step() == 1);
  CHECK(hw.me->flagged() == std::vector<std::uint32_t>{a});
  hw.set_mark(9'045, 4);  // liquidatable accounts are valued every step
  CHECK(hw.me->valued_last_step() == 1);
  // 100 of margin added: healthy again at 9,045 (equity 145 >= 45.2); the transfer marks it.
  hw.L.mint(hw.me->account(a).account, sl::test::kUsd, U(100));
  hw.set_mark(9'045, 5);
  CHECK(hw.me->valued_last_step() == 1);
  CHECK(hw.me->flagged().empty());
  hw.set_mark(9'045, 6);
  CHECK(hw.me->valued_last_step() == 0);
}

TEST_CASE("index: the accounts the last mark does not vouch for (end-of-run sums read only these)") {
  // a: long 1 at -9,000 (liquidation price 9,045.2261, as above); b: long 1 at -9,990 (equity 10 <
  // maintenance 50 at 10,000: liquidatable, valued every step); c: cash only (500, no position).
  HandWorld hw(0);
  const std::uint32_t a = hw.account("a", -9'000, 1.0), b = hw.account("b", -9'990, 1.0), c = hw.account("c", 500, 0);
  std::vector<std::uint32_t> ids;
  hw.set_mark(10'000, 0);
  REQUIRE(hw.me->account(b).liquidatable);
  hw.me->accounts_not_vouched_for(ids);
  CHECK(ids == std::vector<std::uint32_t>{b});  // a and c hold bands (c: cash only, equity 500 >= 0)
  hw.L.mint(hw.me->account(c).account, sl::test::kUsd, U(1));  // c's balance changed since the mark
  hw.me->accounts_not_vouched_for(ids);
  CHECK(ids == std::vector<std::uint32_t>{b, c});
  hw.m.assets[0].mark_price = 9'500;  // a price moved since the mark: the mark vouches for nobody
  hw.me->accounts_not_vouched_for(ids);
  CHECK(ids == std::vector<std::uint32_t>{a, b, c});
  hw.set_mark(9'500, 1);
  hw.me->accounts_not_vouched_for(ids);
  CHECK(ids == std::vector<std::uint32_t>{b});
  hw.me->set_scan(MarginScan::Full);  // the full scan keeps no bands: every account
  hw.set_mark(9'500, 2);
  hw.me->accounts_not_vouched_for(ids);
  CHECK(ids == std::vector<std::uint32_t>{a, b, c});
}

namespace {

// A two-asset world of margined accounts with random balances (MarginEngine only reads the ledger,
// the assets' prices and haircuts, so no venues are needed).
struct RandomWorld {
  Ledger L{{"USDT", "BTC", "BTC-PERP", "ETH", "ETH-PERP"}, {false, false, true, false, true}};
  Market m{L};
  PerpConfig pc;
  std::unique_ptr<MarginEngine> me;
  AccountId sink = 0;
  Rng rng;
  std::vector<std::uint32_t> ids;

  RandomWorld(std::uint64_t seed, bool proactive) : rng(make_rng(seed, 0, 99)) {
    m.quote_asset = 0;
    for (int i = 0; i < 2; ++i) {
      const double p0 = i == 0 ? 10'000.0 : 1'000.0;
      ReferenceProcess ref(ReferenceConfig{}, p0, 1.0, make_rng(seed, 0, 2 + i));
      AssetMarket am{i == 0 ? "BTC" : "ETH", static_cast<AssetId>(1 + 2 * i), static_cast<AssetId>(2 + 2 * i), ref};
      am.initial_price = p0;
      am.mark_price = am.index_price = p0;
      am.collateral_haircut = 0.1;
      m.assets.push_back(std::move(am));
    }
    pc.liquidation.proactive.enabled = proactive;
    pc.liquidation.proactive.trigger_ratio = 1.5;
    me = std::make_unique<MarginEngine>(pc, m);
    sink = L.open_account("sink", true);
    for (int k = 0; k < 300; ++k) {
      const AccountId a = L.open_account("acc" + std::to_string(k), true);
      ids.push_back(me->add_account(a, -1, AgentKind::LeveragedTrader, k % 2 ? MarginMode::Cross : MarginMode::Isolated));
      for (int j = 0; j < 3; ++j) change(a);
    }
  }
  double u() { return boost::random::uniform_01<double>()(rng); }
  // A random transfer of quote, spot or contracts (either asset) between the account and the sink,
  // sized so accounts sit around their maintenance: notional up to ~300k (crossing tier 0's 100k).
  void change(AccountId a) {
    const int what = static_cast<int>(u() * 5);
    const bool in = u() < 0.5;
    Micros amt = 0;
    if (what == 0) amt = U(u() * 20'000);
    else if (what == 1 || what == 3) amt = U(u() * (what == 1 ? 2.0 : 20.0));   // spot BTC / ETH
    else amt = U(u() * (what == 2 ? 30.0 : 300.0));                              // contracts
    const AssetId asset = static_cast<AssetId>(what);
    if (in) L.transfer(sink, a, asset, amt);
    else L.transfer(a, sink, asset, amt);
    // Keep the account roughly funded: what the contracts were worth flows the other way in quote.
    if (what == 2 || what == 4) {
      const double px = m.assets[what == 2 ? 0 : 1].mark_price;
      const Micros cash = U(from_micros(amt) * px * (0.9 + 0.2 * u()));
      if (in) L.transfer(a, sink, 0, cash);
      else L.transfer(sink, a, 0, cash);
    }
  }
};

}  // namespace

TEST_CASE("index property: flags exactly the accounts a valuation of every account flags, on random paths") {
  for (const bool proactive : {false, true}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      RandomWorld w(seed, proactive);
      const double k = proactive ? 1.5 : 1.0;
      std::size_t valued = 0, flagged_total = 0, open_total = 0, vouched_total = 0;
      for (std::int64_t step = 0; step < 400; ++step) {
        // Prices: mark and index each a random walk (0.5% steps), sometimes a 5% jump; both kept apart.
        for (AssetMarket& am : w.m.assets) {
          const double jump = w.u() < 0.02 ? (w.u() < 0.5 ? 0.95 : 1.05) : 1.0;
          am.mark_price *= jump * (1.0 + 0.01 * (w.u() - 0.5));
          am.index_price *= jump * (1.0 + 0.01 * (w.u() - 0.5));
        }
        if (w.u() < 0.01) w.m.assets[1].collateral_haircut = 0.05 + 0.3 * w.u();  // a depeg
        for (int c = 0; c < 5; ++c) {
          boost::random::uniform_int_distribution<std::size_t> pick(0, w.ids.size() - 1);
          w.change(w.me->account(w.ids[pick(w.rng)]).account);
        }
        if (w.u() < 0.02) w.me->account(w.ids[static_cast<std::size_t>(w.u() * 300)]).closed = true;
        w.me->mark_all(step);
        valued += w.me->valued_last_step();
        // Brute force: value every open account at this step's prices.
        std::set<std::uint32_t> expect;
        for (std::uint32_t id : w.ids) {
          const MarginAccount& a = w.me->account(id);
          if (a.closed) continue;
          ++open_total;
          const double eq = w.me->equity(a, PriceBasis::Mark);
          const double mm = w.me->maintenance(a, PriceBasis::Mark);
          bool has_pos = false;
          for (std::size_t i = 0; i < 2; ++i) has_pos |= w.me->position(a, i) != 0;
          const bool liq = (has_pos && eq < mm) || eq < 0;
          if (liq) expect.insert(id);
          REQUIRE(a.liquidatable == liq);
          // What the proactive de-risker reads (a skipped account keeps its last valuation): the
          // same answer to "below k x maintenance?" as a fresh valuation.
          if (!liq && mm > 0) REQUIRE((a.equity >= k * a.maintenance) == (eq >= k * mm));
        }
        const std::vector<std::uint32_t>& f = w.me->flagged();
        REQUIRE(std::set<std::uint32_t>(f.begin(), f.end()) == expect);
        REQUIRE(f.size() == expect.size());
        flagged_total += expect.size();
        // After the mark, a few balance changes (the policy's, funding's): every open account the
        // mark still vouches for is healthy with equity >= 0 when valued afresh.
        for (int c = 0; c < 3; ++c) w.change(w.me->account(w.ids[static_cast<std::size_t>(w.u() * 300)]).account);
        std::vector<std::uint32_t> not_vouched;
        w.me->accounts_not_vouched_for(not_vouched);
        REQUIRE(std::is_sorted(not_vouched.begin(), not_vouched.end()));
        const std::set<std::uint32_t> listed(not_vouched.begin(), not_vouched.end());
        for (std::uint32_t id : w.ids) {
          const MarginAccount& a = w.me->account(id);
          if (a.closed || listed.count(id)) continue;
          ++vouched_total;
          REQUIRE_FALSE(a.liquidatable);
          const double eq = w.me->equity(a, PriceBasis::Mark);
          REQUIRE(eq >= 0);
          REQUIRE(eq >= w.me->maintenance(a, PriceBasis::Mark));
        }
      }
      // Not a vacuous test: accounts were flagged (about half the account-steps, valued every step while
      // flagged), and the index skipped valuations of the others.
      CHECK(flagged_total > 100);
      MESSAGE("valued " << valued << " of " << open_total << " open account-steps, flagged " << flagged_total);
      CHECK(valued < 3 * open_total / 4);
      CHECK(vouched_total > open_total / 4);  // the list leaves most healthy accounts out
    }
  }
}

namespace {

// Runs `policy` with `seed` on both scenarios (the same one with the margin index and with the full
// scan) and checks they are the same run; returns the indexed run.
RunResult run_both_scans(const ScenarioConfig& idx, const ScenarioConfig& full, const char* policy, std::uint64_t seed,
                         const std::string& what) {
  RunOptions ro;
  ro.seed = seed;
  ro.policy = policy;
  const RunResult a = run_simulation(idx, ro);
  sl::test::check_same_run(a, run_simulation(full, ro), what + " " + policy + " seed " + std::to_string(seed));
  return a;
}

}  // namespace

TEST_CASE("every curated scenario: the index and the full scan give identical runs (4 policies x 2 seeds)") {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(STRESSLAB_SOURCE_DIR) / "scenarios"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 8);
  std::int64_t liquidations = 0;
  for (const fs::path& f : files) {
    // At most 3,600 steps (black_thursday_2020 is 43,200): every scenario's crash or shock is in it.
    const ScenarioConfig base = load_scenario_file(f.string(), {});
    const std::vector<std::string> cap{"horizon_steps=" + std::to_string(std::min<std::int64_t>(base.horizon_steps, 3'600))};
    ScenarioConfig idx = load_scenario_file(f.string(), cap);
    ScenarioConfig full = idx;
    idx.perp.margin_scan = "index";
    full.perp.margin_scan = "full";
    for (const char* policy : {"market", "dutch", "hierarchy", "delta_neutral"}) {
      for (std::uint64_t seed : {idx.seed, idx.seed + 1}) {
        const RunResult a = run_both_scans(idx, full, policy, seed, f.filename().string());
        liquidations += static_cast<std::int64_t>(a.liquidations.size());
      }
    }
  }
  CHECK(liquidations > 1000);  // the comparison covers real liquidation activity
}

TEST_CASE("proactive de-risking reads every account's ratio: index and full scan still identical") {
  // crash.json with the proactive de-risker on (trigger 1.5 x maintenance): bands then keep equity
  // above 1.5 x maintenance, so the accounts the index skips give the de-risker the same answers.
  const std::string f = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";
  ScenarioConfig idx = load_scenario_file(f, {"perp.liquidation.proactive.enabled=true", "perp.liquidation.proactive.trigger_ratio=1.5"});
  ScenarioConfig full = idx;
  full.perp.margin_scan = "full";
  std::size_t proactive_events = 0;
  for (const char* policy : {"market", "dutch"}) {
    for (std::uint64_t seed : {idx.seed, idx.seed + 1}) {
      const RunResult a = run_both_scans(idx, full, policy, seed, "crash + proactive");
      for (const LiquidationEvent& e : a.liquidations) proactive_events += e.policy_path == "proactive";
    }
  }
  CHECK(proactive_events > 0);  // the de-risker acted: its reads mattered
}

TEST_CASE("index structure: crossed() returns exactly the accounts beyond a band edge, bulk-built or not (brute-force reference)") {
  // LiquidationPriceIndex alone, two assets, 400 ids, random bands and price paths. The reference
  // keeps each indexed account's bands; at every step the expected set is every indexed account with
  // a price at or beyond one of its finite edges (mark <= lo or >= hi, index likewise). Between steps,
  // as MarginEngine does, every returned account is re-inserted with fresh bands or removed, a few
  // others are re-inserted (a balance change), and now and then everything is rebuilt in bulk (the
  // first mark, a haircut change): bulk heaps stay unordered until a price reaches their nearest
  // edge, so the test also checks that heaps are left unordered while no price has come near them.
  constexpr std::size_t kAssets = 2, kIds = 400;
  Rng rng = make_rng(7, 0, 99);
  const auto u = [&] { return boost::random::uniform_01<double>()(rng); };
  LiquidationPriceIndex index(kAssets);
  index.resize(kIds);
  struct Bands {
    std::vector<PriceBand> mark, idx;
  };
  std::vector<std::optional<Bands>> ref(kIds);
  std::vector<double> mark{100.0, 10.0}, idx{100.0, 10.0};
  // Random bands around today's prices: each edge finite with probability 0.7, 1-30% away.
  const auto random_bands = [&] {
    Bands b{std::vector<PriceBand>(kAssets), std::vector<PriceBand>(kAssets)};
    for (std::size_t a = 0; a < kAssets; ++a) {
      if (u() < 0.7) b.mark[a].lo = mark[a] * (1.0 - 0.01 - 0.29 * u());
      if (u() < 0.7) b.mark[a].hi = mark[a] * (1.0 + 0.01 + 0.29 * u());
      if (u() < 0.7) b.idx[a].lo = idx[a] * (1.0 - 0.01 - 0.29 * u());
      if (u() < 0.7) b.idx[a].hi = idx[a] * (1.0 + 0.01 + 0.29 * u());
    }
    return b;
  };
  const auto put = [&](std::uint32_t id) {
    Bands b = random_bands();
    index.insert(id, b.mark, b.idx);
    ref[id] = std::move(b);
  };
  const auto rebuild_in_bulk = [&] {
    index.begin_bulk();
    for (std::uint32_t id = 0; id < kIds; ++id) {
      if (u() < 0.9) put(id);
      else index.remove(id), ref[id].reset();
    }
    index.end_bulk();
  };
  rebuild_in_bulk();
  CHECK(index.unordered_heaps() == 4 * kAssets);  // bulk-built: nothing ordered yet
  std::size_t returned = 0, steps_some_unordered = 0;
  for (int step = 0; step < 600; ++step) {
    // Prices: a 1% random walk with 3% jumps; now and then back to 100 / 10 (re-entering old bands).
    for (std::size_t a = 0; a < kAssets; ++a) {
      const double jump = u() < 0.03 ? (u() < 0.5 ? 0.97 : 1.03) : 1.0;
      mark[a] *= jump * (1.0 + 0.02 * (u() - 0.5));
      idx[a] *= jump * (1.0 + 0.02 * (u() - 0.5));
    }
    std::set<std::uint32_t> expect;
    for (std::uint32_t id = 0; id < kIds; ++id) {
      if (!ref[id]) continue;
      for (std::size_t a = 0; a < kAssets; ++a) {
        const Bands& b = *ref[id];
        if (mark[a] <= b.mark[a].lo || mark[a] >= b.mark[a].hi || idx[a] <= b.idx[a].lo || idx[a] >= b.idx[a].hi)
          expect.insert(id);
      }
    }
    std::vector<std::uint32_t> out;
    index.crossed(mark, idx, out);
    REQUIRE(std::set<std::uint32_t>(out.begin(), out.end()) == expect);
    returned += expect.size();
    steps_some_unordered += index.unordered_heaps() > 0;
    // The caller's part: every returned account valued again (re-inserted, or removed when closed).
    for (const std::uint32_t id : expect) {
      if (u() < 0.1) index.remove(id), ref[id].reset();
      else put(id);
    }
    for (int c = 0; c < 5; ++c) put(static_cast<std::uint32_t>(u() * kIds));  // balance changes
    if (u() < 0.02) rebuild_in_bulk();
  }
  CHECK(returned > 1000);  // not vacuous: many crossings
  CHECK(steps_some_unordered > 0);
  MESSAGE("returned " << returned << " crossed accounts; steps with an unordered heap: " << steps_some_unordered);
}

TEST_CASE("index structure: a bulk-built heap no price reaches is never ordered") {
  // Longs' lower edges at 50..59 and upper edges at 200..209: prices between 60 and 199 cross none,
  // so neither heap is ever ordered; the price 59 (at the edge: crossed) crosses exactly the lower edge 59 (id 9), and the
  // price 200 exactly the upper edge 200 (id 0).
  LiquidationPriceIndex index(1);
  index.resize(10);
  index.begin_bulk();
  for (std::uint32_t id = 0; id < 10; ++id)
    index.insert(id, {PriceBand{50.0 + id, 200.0 + id}}, {PriceBand{}});
  index.end_bulk();
  CHECK(index.live_entries() == 20);
  CHECK(index.unordered_heaps() == 2);
  std::vector<std::uint32_t> out;
  for (const double p : {100.0, 60.0, 199.0}) index.crossed({p}, {p}, out);
  CHECK(out.empty());
  CHECK(index.unordered_heaps() == 2);
  index.crossed({59.0}, {59.0}, out);
  CHECK(out == std::vector<std::uint32_t>{9});
  CHECK(index.unordered_heaps() == 1);  // the lower-edge heap was ordered on reaching 59
  index.insert(9, {PriceBand{40.0, 300.0}}, {PriceBand{}});
  out.clear();
  index.crossed({200.0}, {200.0}, out);
  CHECK(out == std::vector<std::uint32_t>{0});
  CHECK(index.unordered_heaps() == 0);
}
