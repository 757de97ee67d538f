// Perpetual price mechanics: oracle index, mark price, impact prices, funding rate and clock, funding
// settlement through the ledger. Every expected number can be checked by hand from the comments.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "sim/perp/funding.hpp"
#include "sim/book/ledger.hpp"
#include "sim/perp/mark_price.hpp"
#include "sim/book/venue.hpp"
#include "tests/support/venue_spec.hpp"
#include <cmath>
#include "sim/perp/oracle.hpp"
#include "sim/book/order_book.hpp"

using namespace sl;

namespace {

// Spot mids at the end of steps 0..5; the oracle's initial price is 100.
const std::vector<double> kMids = {104, 98, 101, 110, 90, 105};

// Runs the loop order of model.md section 1 (publish at step 2, observe at step 7) and returns the
// published index of each step 0..n-1. Steps past the end of `mids` are published but not observed.
std::vector<double> run_oracle(Oracle& o, const std::vector<double>& mids, std::int64_t n) {
  std::vector<double> out;
  for (std::int64_t s = 0; s < n; ++s) {
    out.push_back(o.publish(s));
    CHECK(o.index() == out.back());
    if (s < static_cast<std::int64_t>(mids.size())) o.observe(s, mids[static_cast<std::size_t>(s)]);
  }
  return out;
}

OracleConfig oracle_cfg(const char* method, int window, int lag) {
  // outside_weight 0 (the default before #14): these hand computations take the index from the own spot mid alone.
  return OracleConfig{.method = method, .window_steps = window, .lag_steps = lag, .outside_weight = 0.0, .faults = {}};
}

OracleFaultConfig fault(const char* kind, std::int64_t start, std::int64_t end, int asset = -1) {
  return OracleFaultConfig{.kind = kind, .start_step = start, .end_step = end, .asset_index = asset};
}

// Mids 200 + s at the end of step s, for fault tests with window 1 and lag 0: without faults the index
// at step s is the mid of step s - 1, i.e. 199 + s (200 = initial price at step 0).
std::vector<double> ramp(int n) {
  std::vector<double> m;
  for (int s = 0; s < n; ++s) m.push_back(200.0 + s);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Oracle
// ---------------------------------------------------------------------------------------------------

TEST_CASE("oracle: median, window 3, lag 0") {
  Oracle o(oracle_cfg("median", 3, 0), 0, 100.0);
  const auto p = run_oracle(o, kMids, 7);
  // window of step t = steps [t-3, t-1]; steps < 0 count as the initial price 100
  CHECK(p[0] == 100.0);  // {100,100,100}
  CHECK(p[1] == 100.0);  // {100,100,104}
  CHECK(p[2] == 100.0);  // {100,104,98}
  CHECK(p[3] == 101.0);  // {104,98,101}
  CHECK(p[4] == 101.0);  // {98,101,110}
  CHECK(p[5] == 101.0);  // {101,110,90}
  CHECK(p[6] == 105.0);  // {110,90,105}
}

TEST_CASE("oracle: TWAP, window 3, lag 0") {
  Oracle o(oracle_cfg("twap", 3, 0), 0, 100.0);
  const auto p = run_oracle(o, kMids, 7);
  CHECK(p[0] == 100.0);
  CHECK(p[1] == doctest::Approx(304.0 / 3));  // (100+100+104)/3 = 101.333
  CHECK(p[2] == doctest::Approx(302.0 / 3));  // (100+104+98)/3 = 100.667
  CHECK(p[3] == doctest::Approx(101.0));      // (104+98+101)/3
  CHECK(p[4] == doctest::Approx(103.0));      // (98+101+110)/3
  CHECK(p[5] == doctest::Approx(301.0 / 3));  // (101+110+90)/3 = 100.333
  CHECK(p[6] == doctest::Approx(305.0 / 3));  // (110+90+105)/3 = 101.667
}

TEST_CASE("oracle: median and TWAP, window 4 (even count), lag 2") {
  // window of step t = steps [t-6, t-3]
  Oracle med(oracle_cfg("median", 4, 2), 0, 100.0);
  const auto m = run_oracle(med, kMids, 9);
  CHECK(m[0] == 100.0);  // before any observation reaches the window: the initial price
  CHECK(m[1] == 100.0);
  CHECK(m[2] == 100.0);
  CHECK(m[3] == 100.0);  // {100,100,100,104}: (100+100)/2
  CHECK(m[4] == 100.0);  // {100,100,104,98} sorted 98,100,100,104: (100+100)/2
  CHECK(m[5] == 100.5);  // {100,104,98,101} sorted 98,100,101,104: (100+101)/2
  CHECK(m[6] == 102.5);  // {104,98,101,110}: (101+104)/2
  CHECK(m[7] == 99.5);   // {98,101,110,90}: (98+101)/2
  CHECK(m[8] == 103.0);  // {101,110,90,105}: (101+105)/2

  Oracle tw(oracle_cfg("twap", 4, 2), 0, 100.0);
  const auto t = run_oracle(tw, kMids, 9);
  CHECK(t[2] == 100.0);
  CHECK(t[3] == doctest::Approx(101.0));   // (100*3+104)/4
  CHECK(t[6] == doctest::Approx(103.25));  // (104+98+101+110)/4
  CHECK(t[7] == doctest::Approx(99.75));   // (98+101+110+90)/4
  CHECK(t[8] == doctest::Approx(101.5));   // (101+110+90+105)/4
}

TEST_CASE("oracle: a step not yet observed carries the last mid forward - bad configs throw") {
  Oracle o(oracle_cfg("median", 1, 0), 0, 50.0);
  CHECK(o.index() == 50.0);
  o.observe(0, 60.0);
  o.observe(3, 70.0);           // steps 1 and 2 skipped: they carry 60 forward
  CHECK(o.publish(2) == 60.0);  // window {step 1}
  CHECK(o.publish(3) == 60.0);  // window {step 2}
  CHECK(o.publish(4) == 70.0);  // window {step 3}
  CHECK(o.publish(9) == 70.0);  // window {step 8}: not observed, last mid carried forward
  o.observe(4, 0.0);            // not a mid (one-sided book): 70 carried forward
  CHECK(o.publish(5) == 70.0);
  CHECK_THROWS_AS(o.observe(4, 80.0), std::invalid_argument);  // steps must increase

  CHECK_THROWS_AS(Oracle(oracle_cfg("vwap", 3, 0), 0, 100.0), std::invalid_argument);
  CHECK_THROWS_AS(Oracle(oracle_cfg("median", 0, 0), 0, 100.0), std::invalid_argument);
  CHECK_THROWS_AS(Oracle(oracle_cfg("median", 3, 0), 0, 0.0), std::invalid_argument);
  OracleConfig bad = oracle_cfg("median", 3, 0);
  bad.faults.push_back(fault("spoof", 0, 1));
  CHECK_THROWS_AS(Oracle(bad, 0, 100.0), std::invalid_argument);
}

TEST_CASE("oracle: outside_weight blends the other venues' price into every observation") {
  // w = 0.75, initial 100. Observations (1 - w) x own + w x outside:
  //   step 0: own 104, outside 100        -> 0.25 x 104 + 0.75 x 100 = 26 + 75     = 101
  //   step 1: own not a mid, outside 96   -> the last own mid (104): 26 + 72       = 98
  //   step 2: own 101, outside 104        -> 25.25 + 78                            = 103.25
  OracleConfig cfg = oracle_cfg("median", 3, 0);
  cfg.outside_weight = 0.75;
  Oracle o(cfg, 0, 100.0);
  CHECK(o.publish(0) == 100.0);
  o.observe(0, 104.0, 100.0);
  CHECK(o.publish(1) == 100.0);  // {100, 100, 101}
  o.observe(1, 0.0, 96.0);
  CHECK(o.publish(2) == 100.0);  // {100, 101, 98}
  o.observe(2, 101.0, 104.0);
  CHECK(o.publish(3) == 101.0);  // {101, 98, 103.25}
  OracleConfig tw_cfg = oracle_cfg("twap", 3, 0);
  tw_cfg.outside_weight = 0.75;
  Oracle tw(tw_cfg, 0, 100.0);
  tw.observe(0, 104.0, 100.0);
  tw.observe(1, 0.0, 96.0);
  tw.observe(2, 101.0, 104.0);
  CHECK(tw.publish(3) == doctest::Approx(302.25 / 3));  // (101 + 98 + 103.25) / 3 = 100.75

  // Before any valid own mid, the initial price stands in for it: 0.5 x 200 + 0.5 x 210 = 205.
  OracleConfig half = oracle_cfg("median", 1, 0);
  half.outside_weight = 0.5;
  Oracle h(half, 0, 200.0);
  h.observe(0, 0.0, 210.0);
  CHECK(h.publish(1) == 205.0);
  CHECK_THROWS_AS(h.observe(1, 200.0, 0.0), std::invalid_argument);  // w > 0 needs an outside price

  // w = 0 (the default): the outside price is ignored, the index is the own book's alone.
  Oracle own(oracle_cfg("median", 1, 0), 0, 100.0);
  own.observe(0, 104.0, 1e9);
  CHECK(own.publish(1) == 104.0);
  OracleConfig bad = oracle_cfg("median", 1, 0);
  bad.outside_weight = 1.5;
  CHECK_THROWS_AS(Oracle(bad, 0, 100.0), std::invalid_argument);
}

TEST_CASE("oracle: ring buffer is window + lag + largest extra lag + 2") {
  OracleConfig c = oracle_cfg("median", 5, 3);
  c.faults = {OracleFaultConfig{.kind = "extra_lag", .start_step = 10, .end_step = 20, .extra_lag_steps = 7},
              OracleFaultConfig{.kind = "extra_lag", .start_step = 30, .end_step = 40, .extra_lag_steps = 4}};
  Oracle o(c, 0, 1.0);
  CHECK(o.capacity() == 5 + 3 + 7 + 2);
}

TEST_CASE("oracle: freeze holds the pre-fault value exactly, then resumes") {
  OracleConfig c = oracle_cfg("median", 1, 0);
  c.faults.push_back(fault("freeze", 5, 8));
  Oracle o(c, 0, 200.0);
  const auto p = run_oracle(o, ramp(12), 10);
  CHECK(p[0] == 200.0);
  CHECK(p[4] == 203.0);  // mid of step 3
  CHECK(p[5] == 203.0);  // frozen: value published at step 4
  CHECK(p[6] == 203.0);
  CHECK(p[7] == 203.0);
  CHECK(p[8] == 207.0);  // resumes: mid of step 7
  CHECK(p[9] == 208.0);
  CHECK_FALSE(o.frozen());

  // A freeze from step 0 holds the initial price.
  OracleConfig c0 = oracle_cfg("twap", 2, 0);
  c0.faults.push_back(fault("freeze", 0, 3));
  Oracle o0(c0, 0, 200.0);
  const auto q = run_oracle(o0, ramp(5), 5);
  CHECK(q[0] == 200.0);
  CHECK(q[2] == 200.0);
  CHECK(q[3] == 201.5);  // (mid 1 + mid 2) / 2 = (201 + 202) / 2
}

TEST_CASE("oracle: extra lag shifts the window - bias multiplies - faults respect asset_index") {
  OracleConfig lagc = oracle_cfg("median", 1, 0);
  lagc.faults.push_back(OracleFaultConfig{.kind = "extra_lag", .start_step = 5, .end_step = 8, .extra_lag_steps = 3});
  Oracle lagged(lagc, 0, 200.0);
  const auto l = run_oracle(lagged, ramp(12), 10);
  CHECK(l[4] == 203.0);  // mid of step 3
  CHECK(l[5] == 201.0);  // window step 5-1-3 = 1
  CHECK(l[6] == 202.0);  // step 2
  CHECK(l[7] == 203.0);  // step 3
  CHECK(l[8] == 207.0);  // back to lag 0: step 7

  OracleConfig bc = oracle_cfg("median", 1, 0);
  bc.faults.push_back(OracleFaultConfig{.kind = "bias", .start_step = 5, .end_step = 8, .bias_bps = 50.0});
  Oracle biased(bc, 0, 200.0);
  const auto b = run_oracle(biased, ramp(12), 10);
  CHECK(b[4] == 203.0);
  CHECK(b[5] == doctest::Approx(204.0 * 1.005));  // 205.02
  CHECK(b[7] == doctest::Approx(206.0 * 1.005));  // 207.03
  CHECK(b[8] == 207.0);

  // A fault for asset 1 does not touch asset 0's oracle; -1 touches every asset.
  OracleConfig ac = oracle_cfg("median", 1, 0);
  ac.faults.push_back(fault("freeze", 2, 6, /*asset=*/1));
  Oracle a0(ac, 0, 200.0), a1(ac, 1, 200.0);
  const auto r0 = run_oracle(a0, ramp(8), 6);
  const auto r1 = run_oracle(a1, ramp(8), 6);
  CHECK(r0[4] == 203.0);
  CHECK(r1[4] == 200.0);  // frozen at the value published at step 1 (mid of step 0)
}

TEST_CASE("oracle: overlapping faults apply extra lags (largest), then freeze, then bias") {
  OracleConfig c = oracle_cfg("median", 1, 0);
  const OracleFaultConfig lag2{.kind = "extra_lag", .start_step = 3, .end_step = 10, .extra_lag_steps = 2};
  const OracleFaultConfig lag4{.kind = "extra_lag", .start_step = 8, .end_step = 9, .extra_lag_steps = 4};
  const OracleFaultConfig bias{.kind = "bias", .start_step = 6, .end_step = 9, .bias_bps = 100.0};
  c.faults = {lag2, fault("freeze", 5, 7), bias, lag4};
  Oracle o(c, 0, 200.0);
  CHECK(o.capacity() == 1 + 0 + 4 + 2);
  const auto p = run_oracle(o, ramp(12), 11);
  CHECK(p[2] == 201.0);                          // no fault: mid of step 1
  CHECK(p[3] == 200.0);                          // lag 2: step 0
  CHECK(p[4] == 201.0);                          // lag 2: step 1
  CHECK(p[5] == 201.0);                          // freeze: holds the value of step 4
  CHECK(p[6] == doctest::Approx(201.0 * 1.01));  // freeze then bias: 203.01
  CHECK(p[7] == doctest::Approx(204.0 * 1.01));  // lag 2 (step 4) then bias: 206.04
  CHECK(p[8] == doctest::Approx(203.0 * 1.01));  // max(2, 4) = lag 4 (step 3) then bias: 205.03
  CHECK(p[9] == 206.0);                          // lag 2: step 6, no bias
  CHECK(p[10] == 209.0);                         // no fault: step 9

  // Overlapping biases compound.
  OracleConfig c2 = oracle_cfg("median", 1, 0);
  OracleFaultConfig up = fault("bias", 0, 5), down = fault("bias", 0, 5);
  up.bias_bps = 100.0;
  down.bias_bps = -50.0;
  c2.faults = {up, down};
  Oracle o2(c2, 0, 200.0);
  CHECK(o2.publish(0) == doctest::Approx(200.0 * 1.01 * 0.995));  // 200.99
}

// ---------------------------------------------------------------------------------------------------
// Mark price
// ---------------------------------------------------------------------------------------------------

TEST_CASE("mark price: EMA of the premium and the clamp on both sides") {
  MarkConfig cfg;
  cfg.ema_steps = 3;     // alpha = 2 / 4 = 0.5
  cfg.clamp_bps = 100;   // |mark - index| <= 1% of index = 1.0 at index 100
  MarkPrice m(cfg);
  CHECK(m.update(100.0, 101.0) == 101.0);  // first sample initialises: ema = 1
  CHECK(m.premium_ema() == 1.0);
  CHECK(m.update(100.0, 103.0) == 101.0);  // ema = 1 + 0.5*(3 - 1) = 2, clamped to +1
  CHECK(m.premium_ema() == 2.0);
  CHECK(m.update(100.0, 99.0) == 100.5);   // ema = 2 + 0.5*(-1 - 2) = 0.5
  CHECK(m.premium_ema() == 0.5);
  CHECK(m.mark() == 100.5);
  CHECK(m.update(100.0, 90.0) == 99.0);    // ema = 0.5 + 0.5*(-10 - 0.5) = -4.75, clamped to -1
  CHECK(m.premium_ema() == -4.75);
  CHECK(m.update(200.0, 0.0) == 198.0);    // no perp mid: ema kept (-4.75), clamp is now 2.0
  CHECK(m.premium_ema() == -4.75);
  CHECK_THROWS_AS(MarkPrice(MarkConfig{0, 50.0}), std::invalid_argument);
}

TEST_CASE("mark price: a one-sided perp book is not a sample - the EMA is kept and the mark follows the index") {
  // Issue #14: the sample is the two-sided mid (perp_mark_sample, what the simulation's step 4
  // feeds the mark), never a one-sided book's last trade. Perp tick 0.1, lot 0.001; EMA alpha
  // 2 / (3 + 1) = 0.5, clamp 500 bps (5.0 at index 100).
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  const AccountId fees = L.open_account("fees"), maker = L.open_account("maker"), taker = L.open_account("taker");
  L.mint(maker, 0, to_fixed(1e6, 1e6));
  L.mint(taker, 0, to_fixed(1e6, 1e6));
  Venue perp(test::venue_spec(VenueKind::Perp, "perp", 1, test::Instrument{.tick_size = 0.1, .lot_size = 0.001}), L, fees);
  REQUIRE(perp.limit(maker, Side::Buy, 1000, 100).id != 0);   // bid 100.0, 0.1
  REQUIRE(perp.limit(maker, Side::Sell, 1020, 100).id != 0);  // ask 102.0, 0.1
  MarkConfig cfg;
  cfg.ema_steps = 3;
  cfg.clamp_bps = 500;
  MarkPrice m(cfg);
  // Two-sided: mid (100 + 102) / 2 = 101 at index 100: the first sample, ema = 1, mark 101.
  CHECK(perp_mark_sample(perp) == doctest::Approx(101.0));
  CHECK(m.update(100.0, perp_mark_sample(perp)) == doctest::Approx(101.0));
  // The taker lifts the whole ask side at 102: bids only, last trade 102. The recorder's mid_ticks
  // reads max(bid 100, last 102) = 102; as a sample at index 99 that made ema = 1 + 0.5 x (3 - 1) = 2,
  // mark 101. Now no sample: ema stays 1, mark = 99 + 1 = 100.
  REQUIRE(perp.market(taker, Side::Buy, 100).filled == 100);
  REQUIRE(perp.book().best_ask() == 0);
  CHECK(perp.ticks_to_price(perp.mid_ticks(990.0)) == doctest::Approx(102.0));
  CHECK(std::isnan(perp_mark_sample(perp)));
  CHECK(m.update(99.0, perp_mark_sample(perp)) == doctest::Approx(100.0));
  CHECK(m.premium_ema() == doctest::Approx(1.0));
  // The ask side back at 101.0: mid (100 + 101) / 2 = 100.5 at index 99, sample 1.5, ema = 1 + 0.5 x 0.5 = 1.25.
  REQUIRE(perp.limit(maker, Side::Sell, 1010, 100).id != 0);
  CHECK(m.update(99.0, perp_mark_sample(perp)) == doctest::Approx(100.25));
  CHECK(m.premium_ema() == doctest::Approx(1.25));
  L.check_conservation();
}

// ---------------------------------------------------------------------------------------------------
// Impact prices
// ---------------------------------------------------------------------------------------------------

TEST_CASE("impact price: average fill over two levels") {
  OrderBook book(BookConfig{100'000, 64, false});
  const auto accept = [](const Fill&) { return FillDecision::Accept; };
  const double tick = 0.5, lot = 0.01;
  CHECK(impact_price(book, Side::Buy, 10'000.0, tick, lot) == 0.0);   // empty
  CHECK(impact_price(book, Side::Sell, 10'000.0, tick, lot) == 0.0);
  // asks: 10000.0 x 0.5 (notional 5000), 10005.0 x 1.0
  book.limit(1, Side::Sell, 20'000, 50, TimeInForce::GTC, accept);
  book.limit(1, Side::Sell, 20'010, 100, TimeInForce::GTC, accept);
  // bids: 9995.0 x 0.3 (notional 2998.5), 9990.0 x 2.0
  book.limit(2, Side::Buy, 19'990, 30, TimeInForce::GTC, accept);
  book.limit(2, Side::Buy, 19'980, 200, TimeInForce::GTC, accept);

  // buy 10000 quote: 5000 at 10000 (0.5 units) + 5000 at 10005 (0.49975 units)
  // = 10000 / (0.5 + 5000/10005) = 10002.4993751...
  CHECK(impact_price(book, Side::Buy, 10'000.0, tick, lot) == doctest::Approx(10'000.0 / (0.5 + 5'000.0 / 10'005.0)));
  CHECK(impact_price(book, Side::Buy, 10'000.0, tick, lot) == doctest::Approx(10'002.49937515621));
  // sell 5000 quote: 2998.5 at 9995 (0.3 units) + 2001.5 at 9990 (0.200350 units) = 9992.99790
  CHECK(impact_price(book, Side::Sell, 5'000.0, tick, lot) == doctest::Approx(9'992.997899369811));
  // within the best level: the best price
  CHECK(impact_price(book, Side::Buy, 1'000.0, tick, lot) == doctest::Approx(10'000.0));
  // more than the side holds: average over the whole side = (9995*0.3 + 9990*2) / 2.3 = 9990.6522
  CHECK(impact_price(book, Side::Sell, 1e9, tick, lot) == doctest::Approx((9'995.0 * 0.3 + 9'990.0 * 2.0) / 2.3));
  CHECK(book.order_count() == 4);  // impact prices do not touch the book
}

// ---------------------------------------------------------------------------------------------------
// Funding rate and clock
// ---------------------------------------------------------------------------------------------------

TEST_CASE("funding rate: interest band, clamp and cap (I = 0.01%, clamp 0.05%, cap 0.30%)") {
  const FundingConfig cfg;  // interest 1 bp, clamp 5 bp, cap 30 bp per interval
  // Inside the band |I - P| <= 0.05%: F == I exactly.
  CHECK(FundingClock::funding_rate(0.0, cfg) == 0.0001);
  CHECK(FundingClock::funding_rate(0.0003, cfg) == 0.0001);
  CHECK(FundingClock::funding_rate(-0.0002, cfg) == 0.0001);
  CHECK(FundingClock::funding_rate(0.0006, cfg) == 0.0001);  // I - P = -0.05%: on the edge, still I
  // Binance-style example: P = 0.0474% -> I - P = -0.0374% within +-0.05% -> F = 0.0474% - 0.0374% = 0.01%
  CHECK(FundingClock::funding_rate(0.000474, cfg) == 0.0001);
  // Above the band: P = 0.08% -> clamp(I - P = -0.07%) = -0.05% -> F = 0.03%
  CHECK(FundingClock::funding_rate(0.0008, cfg) == doctest::Approx(0.0003).epsilon(1e-12));
  // Below the band: P = -0.02% -> clamp(I - P = 0.03%) = 0.03% -> inside -> F = I; P = -0.10% -> F = -0.05%
  CHECK(FundingClock::funding_rate(-0.001, cfg) == doctest::Approx(-0.0005).epsilon(1e-12));
  // Negative beyond the cap: P = -0.50% -> -0.50% + 0.05% = -0.45% -> capped at -0.30%
  // (Binance BTCUSDT 2020-03-13 08:00 printed -0.30%).
  CHECK(FundingClock::funding_rate(-0.005, cfg) == -0.003);
  CHECK(FundingClock::funding_rate(0.01, cfg) == 0.003);
}

TEST_CASE("funding clock: Binance's premium index, time-weighted over 8 samples") {
  FundingConfig cfg;
  cfg.interval_s = 28'800.0;
  FundingClock clock(cfg, 3'600.0);  // 8 h / 1 h = 8 samples
  CHECK(clock.samples_per_interval() == 8);
  // Index 100; sample k has impact bid 100 + 0.02k - 0.01 and impact ask 100 + 0.02k + 0.01, both
  // above the index: P_k = max(0, IB - I) / I = 2e-4 k - 1e-4 (the ask term is 0).
  for (int k = 1; k <= 8; ++k) {
    CHECK_FALSE(clock.due());
    const double mid = 100.0 * (1.0 + k * 2e-4);
    clock.sample(mid - 0.01, mid + 0.01, 100.0);
  }
  CHECK(clock.due());
  // P = sum k P_k / sum k = (2e-4 x 204 - 1e-4 x 36) / 36 = 0.0372 / 36 (sum k^2 = 204, sum k = 36);
  // the plain mean would be 8e-4.
  const double p = 0.0372 / 36.0;
  CHECK(clock.current_premium_estimate() == doctest::Approx(p).epsilon(1e-12));
  // I - P = 1e-4 - 1.0333e-3 < -5e-4 -> F = P - 5e-4
  CHECK(clock.settle_rate() == doctest::Approx(p - 0.0005).epsilon(1e-9));
  CHECK(clock.last_premium() == doctest::Approx(p).epsilon(1e-12));
  CHECK_FALSE(clock.due());
  CHECK(clock.samples_in_interval() == 0);
  CHECK(clock.current_premium_estimate() == 0.0);

  // The index between the impact prices: 0, however far the impact mid is from the index (the
  // impact-mid formula would read (99.9 + 100.5) / 2 / 100 - 1 = +0.2%).
  clock.sample(99.9, 100.5, 100.0);
  CHECK(clock.current_premium_estimate() == 0.0);
  CHECK(clock.last_sample() == 0.0);  // what the recorder's max_abs_premium_index_bps reads
  clock.settle_rate();

  // Missing sides contribute 0; none -> premium 0. Weights 1..5:
  clock.sample(0.0, 101.0, 100.0);  // asks above the index: 0
  clock.sample(99.0, 0.0, 100.0);   // bids below the index: 0
  clock.sample(0.0, 99.0, 100.0);   // asks below the index: -1%, weight 3
  clock.sample(0.0, 0.0, 100.0);    // 0
  clock.sample(100.5, 0.0, 100.0);  // bids above the index: +0.5%, weight 5
  CHECK(clock.current_premium_estimate() == doctest::Approx((3 * -0.01 + 5 * 0.005) / 15.0).epsilon(1e-12));
  // Both impact prices below the index (a book that fell through it): -(I - IA) / I.
  clock.settle_rate();
  clock.sample(98.0, 99.0, 100.0);
  CHECK(clock.current_premium_estimate() == doctest::Approx(-0.01).epsilon(1e-12));
  CHECK(clock.last_sample() == doctest::Approx(-0.01).epsilon(1e-12));
  // A scenario's funding_shock moves the rate but not the market's premium index: the sample of
  // bids at 100.5 over index 100 is +0.5% with a +1% shock added to the interval's average only.
  clock.settle_rate();
  clock.sample(100.5, 0.0, 100.0, 0.01);
  CHECK(clock.last_sample() == doctest::Approx(0.005).epsilon(1e-12));
  CHECK(clock.current_premium_estimate() == doctest::Approx(0.015).epsilon(1e-12));

  // Rounding of interval_s / dt_s to the nearest whole number of samples, at least 1.
  FundingConfig c2;
  c2.interval_s = 10.0;
  CHECK(FundingClock(c2, 3.0).samples_per_interval() == 3);  // 3.33
  CHECK(FundingClock(c2, 4.0).samples_per_interval() == 3);  // 2.5 rounds away from zero
  c2.interval_s = 28'800.0;
  CHECK(FundingClock(c2, 12.0).samples_per_interval() == 2'400);
  c2.interval_s = 1.0;
  CHECK(FundingClock(c2, 12.0).samples_per_interval() == 1);
}

// ---------------------------------------------------------------------------------------------------
// Funding settlement
// ---------------------------------------------------------------------------------------------------

namespace {

constexpr AssetId kUsdt = 0, kPerp = 1;

struct Book4 {
  Ledger L{{"USDT", "BTC-PERP"}, {false, true}};
  AccountId pool = L.open_account("funding_pool", false);
  AccountId l1 = L.open_account("long1"), l2 = L.open_account("long2");
  AccountId s1 = L.open_account("short1"), s2 = L.open_account("short2");
  // Longs +1.5 and +0.5 BTC, shorts -1.2 and -0.8 BTC; 1000 USDT each (quote_l2 for long2).
  explicit Book4(Micros quote_l2 = 1'000'000'000) {
    for (AccountId a : {l1, s1, s2}) L.mint(a, kUsdt, 1'000'000'000);
    L.mint(l2, kUsdt, quote_l2);
    L.transfer(s1, l1, kPerp, 1'200'000);
    L.transfer(s2, l1, kPerp, 300'000);
    L.transfer(s2, l2, kPerp, 500'000);
  }
};

void check_books(const Ledger& L, AccountId pool) {
  CHECK(L.balance(pool, kUsdt) == 0);
  CHECK_NOTHROW(L.check_conservation());
}

}  // namespace

TEST_CASE("settle funding: longs pay shorts exactly") {
  Book4 b;
  // mark 30000, rate 0.01%: long1 owes 1.5 * 30000 * 0.0001 = 4.5 USDT, long2 1.5 USDT
  const FundingSettlement r = settle_funding(b.L, kPerp, kUsdt, b.pool, 0.0001, 30'000.0);
  CHECK(r.collected == 6'000'000);
  CHECK(r.distributed == 6'000'000);
  CHECK(r.shortfall == 0);
  CHECK(r.payers == 2);
  CHECK(r.receivers == 2);
  CHECK(b.L.balance(b.l1, kUsdt) == 1'000'000'000 - 4'500'000);
  CHECK(b.L.balance(b.l2, kUsdt) == 1'000'000'000 - 1'500'000);
  CHECK(b.L.balance(b.s1, kUsdt) == 1'000'000'000 + 3'600'000);  // 6 USDT x 1.2 / 2.0
  CHECK(b.L.balance(b.s2, kUsdt) == 1'000'000'000 + 2'400'000);  // 6 USDT x 0.8 / 2.0
  CHECK(b.L.balance(b.l1, kPerp) == 1'500'000);                   // positions untouched
  check_books(b.L, b.pool);
}

TEST_CASE("settle funding: negative rate, shorts pay longs") {
  Book4 b;
  // rate -0.01%: short1 owes 1.2 * 3 = 3.6 USDT, short2 2.4 USDT; longs receive 6 x 1.5/2 and 6 x 0.5/2
  const FundingSettlement r = settle_funding(b.L, kPerp, kUsdt, b.pool, -0.0001, 30'000.0);
  CHECK(r.collected == 6'000'000);
  CHECK(r.distributed == 6'000'000);
  CHECK(r.shortfall == 0);
  CHECK(b.L.balance(b.s1, kUsdt) == 1'000'000'000 - 3'600'000);
  CHECK(b.L.balance(b.s2, kUsdt) == 1'000'000'000 - 2'400'000);
  CHECK(b.L.balance(b.l1, kUsdt) == 1'000'000'000 + 4'500'000);
  CHECK(b.L.balance(b.l2, kUsdt) == 1'000'000'000 + 1'500'000);
  check_books(b.L, b.pool);
}

TEST_CASE("settle funding: a payer who cannot pay in full leaves a shortfall") {
  Book4 b(/*quote_l2=*/1'000'000);  // long2 holds only 1 USDT but owes 1.5
  const FundingSettlement r = settle_funding(b.L, kPerp, kUsdt, b.pool, 0.0001, 30'000.0);
  CHECK(r.collected == 5'500'000);  // 4.5 + 1.0
  CHECK(r.shortfall == 500'000);
  CHECK(r.payers == 2);
  CHECK(r.distributed == 5'500'000);
  CHECK(b.L.balance(b.l2, kUsdt) == 0);
  CHECK(b.L.balance(b.s1, kUsdt) == 1'000'000'000 + 3'300'000);  // 5.5 x 1.2 / 2.0
  CHECK(b.L.balance(b.s2, kUsdt) == 1'000'000'000 + 2'200'000);  // 5.5 x 0.8 / 2.0
  check_books(b.L, b.pool);

  // An account that may go negative pays in full even without quote.
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  const AccountId pool = L.open_account("pool", false);
  const AccountId desk = L.open_account("desk", /*may_go_negative=*/true);
  const AccountId s = L.open_account("s");
  L.transfer(s, desk, kPerp, 1'000'000);  // desk long 1 BTC, no quote
  const FundingSettlement q = settle_funding(L, kPerp, kUsdt, pool, 0.0001, 30'000.0);
  CHECK(q.collected == 3'000'000);
  CHECK(q.shortfall == 0);
  CHECK(L.balance(desk, kUsdt) == -3'000'000);
  CHECK(L.balance(s, kUsdt) == 3'000'000);
  check_books(L, pool);
}

TEST_CASE("settle funding: half-micro rounding and the largest remainder rule") {
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  const AccountId pool = L.open_account("pool", false);
  const AccountId lg = L.open_account("long");
  const AccountId a = L.open_account("a"), b = L.open_account("b"), c = L.open_account("c");
  L.mint(lg, kUsdt, 1'000'000'000);
  // long +0.100001 BTC against a -0.033333, b -0.033334, c -0.033334
  L.transfer(a, lg, kPerp, 33'333);
  L.transfer(b, lg, kPerp, 33'334);
  L.transfer(c, lg, kPerp, 33'334);
  // mark 25000, rate 0.01%: 100001 micro-contracts x 2.5 = 250002.5 micro-USDT -> 250003 (half away from zero)
  const FundingSettlement r = settle_funding(L, kPerp, kUsdt, pool, 0.0001, 25'000.0);
  CHECK(r.collected == 250'003);
  CHECK(L.balance(lg, kUsdt) == 1'000'000'000 - 250'003);
  // shares 250003 x w / 100001: a 83332.67, b 83335.17, c 83335.17 -> floors 83332 + 83335 + 83335 = 250002;
  // the one left over goes to the largest remainder (a: 0.67), although a holds the fewest contracts.
  CHECK(L.balance(a, kUsdt) == 83'333);
  CHECK(L.balance(b, kUsdt) == 83'335);
  CHECK(L.balance(c, kUsdt) == 83'335);
  CHECK(r.distributed == 250'003);
  check_books(L, pool);

  // Non-trivial mark: long +0.7 BTC, mark 12345.67, rate 0.0123%: 700000 x 1.51851741 = 1062962.187 -> 1062962.
  Ledger M({"USDT", "BTC-PERP"}, {false, true});
  const AccountId mpool = M.open_account("pool", false);
  const AccountId ml = M.open_account("long");
  const AccountId x = M.open_account("x"), y = M.open_account("y"), z = M.open_account("z");
  M.mint(ml, kUsdt, 10'000'000);
  M.transfer(x, ml, kPerp, 300'000);
  M.transfer(y, ml, kPerp, 300'000);
  M.transfer(z, ml, kPerp, 100'000);
  const FundingSettlement s = settle_funding(M, kPerp, kUsdt, mpool, 0.000123, 12'345.67);
  CHECK(s.collected == 1'062'962);
  // 1062962 x 3/7 = 455555 + 1/7 (x, y); 1062962 x 1/7 = 151851 + 5/7 (z): z takes the leftover micro.
  CHECK(M.balance(x, kUsdt) == 455'555);
  CHECK(M.balance(y, kUsdt) == 455'555);
  CHECK(M.balance(z, kUsdt) == 151'852);
  check_books(M, mpool);
}

TEST_CASE("settle funding: equal remainders go to the lower account id") {
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  const AccountId pool = L.open_account("pool", false);
  const AccountId a = L.open_account("a"), b = L.open_account("b"), c = L.open_account("c");
  const AccountId lg = L.open_account("long");
  L.mint(lg, kUsdt, 1'000'000'000);
  // long +0.200001 BTC against three equal shorts of 0.066667
  for (AccountId s : {c, b, a}) L.transfer(s, lg, kPerp, 66'667);
  // 200001 x 2.5 = 500002.5 -> 500003; each share 166667.67 -> floors 3 x 166667 = 500001, 2 left over,
  // remainders equal -> the two lowest ids (a, b) get one more micro each.
  const FundingSettlement r = settle_funding(L, kPerp, kUsdt, pool, 0.0001, 25'000.0);
  CHECK(r.collected == 500'003);
  CHECK(L.balance(a, kUsdt) == 166'668);
  CHECK(L.balance(b, kUsdt) == 166'668);
  CHECK(L.balance(c, kUsdt) == 166'667);
  CHECK(r.receivers == 3);
  check_books(L, pool);
}

TEST_CASE("settle funding: nothing moves at rate 0, at a non-positive mark, or without receivers") {
  Book4 b;
  const std::uint64_t before = b.L.transfer_count();
  FundingSettlement r = settle_funding(b.L, kPerp, kUsdt, b.pool, 0.0, 30'000.0);
  CHECK(r.collected == 0);
  CHECK(r.payers == 0);
  r = settle_funding(b.L, kPerp, kUsdt, b.pool, 0.0001, 0.0);
  CHECK(r.collected == 0);
  CHECK(b.L.transfer_count() == before);
  check_books(b.L, b.pool);

  // The only short is the pool itself (excluded): nobody to pay, nothing collected.
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  const AccountId pool = L.open_account("pool", false);
  const AccountId lg = L.open_account("long");
  L.mint(lg, kUsdt, 1'000'000);
  L.transfer(pool, lg, kPerp, 1'000'000);
  r = settle_funding(L, kPerp, kUsdt, pool, 0.0001, 30'000.0);
  CHECK(r.collected == 0);
  CHECK(L.balance(lg, kUsdt) == 1'000'000);
  check_books(L, pool);

  CHECK_THROWS_AS(settle_funding(b.L, kPerp, kUsdt, 999, 0.0001, 30'000.0), std::invalid_argument);
}
