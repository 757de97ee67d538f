// The recorder's price extremes (sim/run/recorder.cpp) read a book's mid only when the book is
// two-sided: a book without bids or asks has its last trade for a mid (Venue::mid_ticks), not a
// price anyone can trade at. Hand world (tests/support/hand_world.hpp): BTC, tick 1, lot 0.001, no
// fees, the reference fixed at 10,000 (no step of it is taken), no index (the reference stands in).
#include <doctest/doctest.h>

#include "sim/run/recorder.hpp"
#include "tests/support/hand_world.hpp"
#include "tests/support/run_lookup.hpp"

using namespace sl;
using namespace sl::test;

namespace {

constexpr Lots kOneBtc = 1'000;  // lots of 0.001

// Bids at 9,990 and 9,000 and an ask at 10,010, 1 BTC each, from the book maker: mid 10,000.
void quote(HandWorld& w, Venue& v) {
  REQUIRE(v.limit(w.book_maker, Side::Buy, 9'990, kOneBtc).rested > 0);
  REQUIRE(v.limit(w.book_maker, Side::Buy, 9'000, kOneBtc).rested > 0);
  REQUIRE(v.limit(w.book_maker, Side::Sell, 10'010, kOneBtc).rested > 0);
}

}  // namespace

TEST_CASE("recorder: the discount and basis extremes skip one-sided books - a swept side's last trade is not a price") {
  HandWorld w(0);
  w.L.mint(w.book_maker, kBtc, U(10));
  const AccountId taker = w.L.open_account("taker", true);
  w.L.mint(taker, kBtc, U(10));
  ScenarioConfig sc;
  sc.horizon_steps = 4;
  sc.dt_s = 1.0;
  sc.output.record_every_steps = 1;
  Recorder rec(sc, w.m);
  Venue& spot = *w.m.assets[0].spot;
  Venue& perp = *w.m.assets[0].perp;
  quote(w, spot);
  quote(w, perp);
  auto record = [&](std::int64_t step) {
    w.m.step = step;
    rec.record_step(w.m, ProtocolStepInfo{});
  };
  // Step 0: both books two-sided at mid 10,000 = the reference: discounts 0, basis 0.
  record(0);
  // Step 1: the taker sells 2 BTC spot, sweeping both bids: last trade 9,000, asks only. Its
  // last-trade "mid" would be a spot discount of 1e4 x (10,000 - 9,000) / 10,000 = 1,000 bps and a
  // basis of 1e4 x (10,000 - 9,000) / 9,000 = 1,111 bps; neither counts.
  REQUIRE(spot.market(taker, Side::Sell, 2 * kOneBtc).filled == 2 * kOneBtc);
  REQUIRE_FALSE(spot.two_sided());
  record(1);
  // Step 2: the same on the perp (contracts sold short by the taker): a perp discount of 1,000 bps
  // that does not count either.
  REQUIRE(perp.market(taker, Side::Sell, 2 * kOneBtc).filled == 2 * kOneBtc);
  REQUIRE_FALSE(perp.two_sided());
  record(2);
  // Step 3: a two-sided spot book again, bid 9,490 / ask 10,010 (the ask left from step 0): mid
  // 9,750, a real spot discount of 250 bps, which counts; the perp, still one-sided, keeps the
  // basis out.
  REQUIRE(spot.limit(w.book_maker, Side::Buy, 9'490, kOneBtc).rested > 0);
  record(3);
  const RunResult r = rec.finish(w.m, {}, ProtocolStepInfo{});
  CHECK(metric(r, "max_spot_discount_bps") == doctest::Approx(250.0).epsilon(1e-12));
  CHECK(metric(r, "max_perp_discount_bps") == 0.0);
  CHECK(metric(r, "max_abs_basis_bps") == 0.0);
  CHECK(metric(r, "max_abs_premium_bps") == 0.0);
}
