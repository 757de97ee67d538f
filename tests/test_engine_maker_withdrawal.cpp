// Endogenous liquidity withdrawal of market makers (issue #14 items 1 and 2): the rule of
// agents/maker_withdrawal.hpp by hand, then a maker quoting a real venue with it (levels pulled,
// then back after the cool-down), and a visible-fair-value maker that never reads the reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "agents/maker_withdrawal.hpp"
#include "agents/market_maker.hpp"
#include "scenarios/loader.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/scenario_error.hpp"

using namespace sl;

namespace {
MakerWithdrawalConfig rule(double loss_limit_quote = 0.0) {
  MakerWithdrawalConfig c;
  c.enabled = true;
  c.vol_ratio_threshold = 2.0;
  c.levels_per_vol_ratio = 2.0;
  c.inventory_threshold = 0.5;
  c.loss_limit_quote = loss_limit_quote;
  c.cooldown_s = 30.0;
  c.widen_bps_per_vol_ratio = 0.0;  // no widening (the default before #14): the spreads below are computed without it
  return c;
}
}  // namespace

TEST_CASE("withdrawal rule: volatility pulls floor(2 x (ratio - 2)) levels (at most L - 1), back 30 s after it ends") {
  MakerWithdrawal w(rule(), /*max_inventory=*/20.0);
  // ratio 1.9: below the threshold, nothing pulled.
  auto p = w.update(0.0, 6, 1.9, 0.0, 0.0);
  CHECK(p.bid == 0);
  CHECK(p.ask == 0);
  // ratio 3.6: floor(2 x 1.6) = floor(3.2) = 3 levels on both sides.
  p = w.update(10.0, 6, 3.6, 0.0, 0.0);
  CHECK(p.bid == 3);
  CHECK(p.ask == 3);
  // ratio 10: floor(2 x 8) = 16, capped at 6 - 1 = 5: volatility alone leaves the outermost level.
  p = w.update(11.0, 6, 10.0, 0.0, 0.0);
  CHECK(p.bid == 5);
  CHECK(p.ask == 5);
  // Vol falls back to 2.4 (target floor(0.8) = 0) at t = 12: held until 11 + 30 = 41.
  p = w.update(12.0, 6, 2.4, 0.0, 0.0);
  CHECK(p.bid == 5);
  p = w.update(40.9, 6, 1.0, 0.0, 0.0);
  CHECK(p.bid == 5);
  CHECK(p.ask == 5);
  p = w.update(41.0, 6, 1.0, 0.0, 0.0);
  CHECK(p.bid == 0);
  CHECK(p.ask == 0);
}

TEST_CASE("withdrawal rule: inventory thins only the side that adds to it") {
  MakerWithdrawal w(rule(), /*max_inventory=*/20.0);
  // Long 16 of 20: excess = (0.8 - 0.5) / 0.5 = 0.6 -> floor(6 x 0.6) = floor(3.6) = 3 bid levels.
  auto p = w.update(0.0, 6, 1.0, 16.0, 0.0);
  CHECK(p.bid == 3);
  CHECK(p.ask == 0);
  // Short 12 of 20: (0.6 - 0.5) / 0.5 = 0.2 -> floor(1.2) = 1 ask level; the bids' 3 are held until 30.
  p = w.update(5.0, 6, 1.0, -12.0, 0.0);
  CHECK(p.bid == 3);
  CHECK(p.ask == 1);
  p = w.update(30.0, 6, 1.0, -12.0, 0.0);
  CHECK(p.bid == 0);
  CHECK(p.ask == 1);
  // Threshold 1 turns the inventory term off.
  MakerWithdrawalConfig off = rule();
  off.inventory_threshold = 1.0;
  MakerWithdrawal w2(off, 20.0);
  p = w2.update(0.0, 6, 1.0, 19.0, 0.0);
  CHECK(p.bid == 0);
}

TEST_CASE("withdrawal rule: the loss limit pulls every level for the cool-down, with a fresh limit after") {
  MakerWithdrawal w(rule(/*loss_limit_quote=*/10'000.0), 20.0);
  auto p = w.update(0.0, 6, 1.0, 0.0, 2'000.0);     // peak 2,000
  CHECK(p.bid == 0);
  p = w.update(1.0, 6, 1.0, 0.0, 5'000.0);          // peak 5,000
  CHECK(p.bid == 0);
  p = w.update(2.0, 6, 1.0, 0.0, -4'999.0);         // drawdown 9,999 < 10,000
  CHECK(p.bid == 0);
  CHECK(w.loss_trips() == 0);
  p = w.update(3.0, 6, 1.0, 0.0, -5'000.0);         // drawdown 10,000: trips, peak reset to -5,000
  CHECK(p.bid == 6);
  CHECK(p.ask == 6);
  CHECK(w.loss_trips() == 1);
  p = w.update(32.9, 6, 1.0, 0.0, -9'000.0);        // 4,000 below the new peak: no trip; held until 33
  CHECK(p.bid == 6);
  CHECK(w.loss_trips() == 1);
  p = w.update(33.0, 6, 1.0, 0.0, -9'000.0);        // cool-down over: back
  CHECK(p.bid == 0);
  CHECK(p.ask == 0);
  p = w.update(34.0, 6, 1.0, 0.0, -15'000.0);       // 10,000 below the peak -5,000: trips again
  CHECK(p.ask == 6);
  CHECK(w.loss_trips() == 2);
}

TEST_CASE("withdrawal rule: widening is widen_bps_per_vol_ratio x (ratio - 1)+") {
  MakerWithdrawalConfig c = rule();
  c.widen_bps_per_vol_ratio = 4.0;
  MakerWithdrawal w(c, 20.0);
  CHECK(w.widen_bps(0.5) == 0.0);
  CHECK(w.widen_bps(3.5) == doctest::Approx(10.0));  // 4 x 2.5
}

namespace {
// One BTC asset, spot and perp books (tick 1, lot 0.001, no fees: tests/support/hand_world.hpp's
// venues), reference at 10,000, calm per-step vol 0.001, and one maker account with cash and coins.
struct MakerWorld : test::HandLedger {
  AccountId maker = 0;
  explicit MakerWorld(double index) {
    m.quote_asset = test::kUsd;
    ReferenceProcess ref(ReferenceConfig{}, 10'000.0, 1.0, make_rng(1, 0, 2));
    AssetMarket am{"BTC", test::kBtc, test::kPerp, ref};
    am.initial_price = 10'000.0;
    am.calm_step_vol = 0.001;
    am.index_price = index;
    test::add_hand_venues(m, L, am, 40'000);
    m.assets.push_back(std::move(am));
    maker = L.open_account("maker", true);
    L.mint(maker, test::kUsd, test::U(5'000'000));
    L.mint(maker, test::kBtc, test::U(100));
  }
  Venue& spot() { return *m.assets[0].spot; }
};

MarketMakerConfig maker_cfg() {
  MarketMakerConfig c;
  c.levels = 6;
  c.hedge = false;
  c.fair_value = "reference";  // the pre-#14 fair value and skew the hand computations below assume
  c.inventory_skew_bps = 5.0;
  c.withdrawal = rule();
  c.withdrawal.vol_window_steps = 1;  // alpha = 2 / (1 + 1) = 1: short variance = the last r^2
  return c;
}

std::size_t count_side(const Venue& v, const std::vector<OrderId>& ids, Side side) {
  std::size_t n = 0;
  for (OrderId id : ids)
    if (const auto* o = v.book().find(id); o && o->side == side) ++n;
  return n;
}

// The furthest of its resting prices on a side (lowest bid / highest ask).
Tick outermost(const Venue& v, const std::vector<OrderId>& ids, Side side) {
  Tick t = side == Side::Buy ? std::numeric_limits<Tick>::max() : 0;
  for (OrderId id : ids)
    if (const auto* o = v.book().find(id); o && o->side == side) t = side == Side::Buy ? std::min(t, o->price) : std::max(t, o->price);
  return t;
}
}  // namespace

TEST_CASE("a maker pulls its 3 outermost levels on a 0.4% index move and puts them back 30 s later") {
  MakerWorld w(10'000.0);
  MarketMaker mm(maker_cfg(), w.maker, 0, VenueKind::Spot, test::U(100), make_rng(1, 0, 7));
  w.m.step = 0;
  mm.act(w.m);  // first requote: no return yet, short vol ratio = sqrt(calm / calm) = 1
  CHECK(mm.short_vol_ratio() == doctest::Approx(1.0));
  CHECK(count_side(w.spot(), mm.quotes(), Side::Buy) == 6);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Sell) == 6);
  // Index 10,000 -> 10,040: r = ln(1.004) = 0.0039920, ratio = r / 0.001 = 3.992,
  // k = floor(2 x (3.992 - 2)) = floor(3.984) = 3 on each side.
  w.m.assets[0].index_price = 10'040.0;
  w.m.step = 1;
  mm.act(w.m);
  CHECK(mm.short_vol_ratio() == doctest::Approx(3.992).epsilon(1e-4));
  CHECK(mm.pulled_bid_levels() == 3);
  CHECK(mm.pulled_ask_levels() == 3);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Buy) == 3);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Sell) == 3);
  // Which 3 remain: the innermost. Fair = 0.5 x reference 10,000 + 0.5 x own mid (its book is empty
  // after its cancels: the reference, 10,000, inside the index band) = 10,000. Long EWMA (window 60,
  // alpha 2/61) = 59/61 x 1e-6 + 2/61 x 0.0039920^2 = 1.48970e-6, vol 1.22053e-3: half-spread =
  // 2 + 2 x 12.2053 = 26.41 bps; levels 0..2 at 26.41, 29.41, 32.41 bps: best bid
  // floor(10,000 x 0.997359) = 9,973, lowest bid floor(9,967.59) = 9,967, highest ask ceil(10,032.41) = 10,033.
  CHECK(w.spot().book().best_bid() == 9'973);
  CHECK(outermost(w.spot(), mm.quotes(), Side::Buy) == 9'967);
  CHECK(outermost(w.spot(), mm.quotes(), Side::Sell) == 10'033);
  // Index unchanged from step 2 on: r = 0, target 0, but held until 1 + 30 = step 31 (dt 1 s).
  for (std::int64_t s = 2; s <= 30; ++s) {
    w.m.step = s;
    mm.act(w.m);
  }
  CHECK(mm.short_vol_ratio() == 0.0);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Buy) == 3);
  w.m.step = 31;
  mm.act(w.m);
  CHECK(mm.pulled_bid_levels() == 0);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Buy) == 6);
  CHECK(count_side(w.spot(), mm.quotes(), Side::Sell) == 6);
}

TEST_CASE("fair_value visible: quotes from the index and the books, not from the reference") {
  // Reference 10,000, index 9,000, empty books: both mids fall back to the index, so fair = 9,000.
  // Half-spread = 4 / 2 + 2 x 0.001 x 1e4 = 22 bps (the EWMA starts at the calm vol 0.001):
  // best bid = floor(9,000 x 0.9978) = floor(8,980.2) = 8,980; best ask = ceil(9,019.8) = 9,020.
  MarketMakerConfig c = maker_cfg();
  c.withdrawal.enabled = false;
  c.fair_value = "visible";
  MakerWorld w(9'000.0);
  MarketMaker mm(c, w.maker, 0, VenueKind::Spot, test::U(100), make_rng(1, 0, 7));
  mm.act(w.m);
  CHECK(w.spot().book().best_bid() == 8'980);
  CHECK(w.spot().book().best_ask() == 9'020);
  // The same maker on the reference: fair = 0.5 x 10,000 + 0.5 x (own mid, falling back to the
  // reference 10,000, clamped to 9,000 x 1.02 = 9,180) = 9,590; bid = floor(9,590 x 0.9978) = 9,568.
  MakerWorld w2(9'000.0);
  c.fair_value = "reference";
  MarketMaker mm2(c, w2.maker, 0, VenueKind::Spot, test::U(100), make_rng(1, 0, 7));
  mm2.act(w2.m);
  CHECK(w2.spot().book().best_bid() == 9'568);
}

TEST_CASE("fair_value visible: other venue's mid and own mid by their weights") {
  // Perp book (other venue for a spot maker) 9,100 / 9,120: mid 9,110; own spot book empty: its mid
  // falls back to the index 9,000. fair = 0.5 x 9,000 + 0.25 x 9,110 + 0.25 x 9,000 = 9,027.5.
  // Bid = floor(9,027.5 x 0.9978) = floor(9,007.6395) = 9,007; ask = ceil(9,027.5 x 1.0022) = ceil(9,047.3605) = 9,048.
  MarketMakerConfig c = maker_cfg();
  c.withdrawal.enabled = false;
  c.fair_value = "visible";
  MakerWorld w(9'000.0);
  const AccountId other = w.L.open_account("other", true);
  w.L.mint(other, test::kUsd, test::U(1'000'000));
  w.m.assets[0].perp->limit(other, Side::Buy, 9'100, 1000);
  w.m.assets[0].perp->limit(other, Side::Sell, 9'120, 1000);
  MarketMaker mm(c, w.maker, 0, VenueKind::Spot, test::U(100), make_rng(1, 0, 7));
  mm.act(w.m);
  CHECK(w.spot().book().best_bid() == 9'007);
  CHECK(w.spot().book().best_ask() == 9'048);
}

TEST_CASE("the new maker fields: bad input is named by file, field and range") {
  const std::string crash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";
  const auto error_of = [&](std::vector<std::string> sets) {
    return test::scenario_error_of([&] { load_scenario_file(crash, sets); });
  };
  CHECK(error_of({"agents.market_makers.index_weight=0.8", "agents.market_makers.other_venue_weight=0.3"}) ==
        crash + ": agents.market_makers.index_weight: 0.8 + other_venue_weight 0.3 is above 1; the own mid gets the rest, in [0, 1]");
  CHECK(error_of({"agents.market_makers.fair_value=seen"}) ==
        crash + ": agents.market_makers.fair_value: must be one of 'reference', 'visible', got \"seen\"");
  CHECK(error_of({"agents.market_makers.withdrawal.cooldown_s=-1"}) ==
        crash + ": agents.market_makers.withdrawal.cooldown_s: must be a number in [0, 1e8], got -1");
  CHECK(error_of({"agents.market_makers.withdrawal.inventory_threshold=0"}).find("withdrawal.inventory_threshold") != std::string::npos);
  CHECK(error_of({"agents.market_makers.withdrawal.levels=3"}).find("withdrawal.levels") != std::string::npos);  // unknown field
  // crash_scheduled.json writes the makers from before #14 explicitly (the defaults are #14's since
  // 2026-12-07: test_loader "defaults are crash.json's #14 agents"); crash.json sets the new ones.
  const ScenarioConfig sc = load_scenario_file(std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash_scheduled.json");
  CHECK(sc.agents.market_makers.fair_value == "reference");
  CHECK_FALSE(sc.agents.market_makers.withdrawal.enabled);
  const ScenarioConfig crash_sc = load_scenario_file(crash);
  CHECK(crash_sc.agents.market_makers.fair_value == "visible");
  CHECK(crash_sc.agents.market_makers.withdrawal.enabled);
}
