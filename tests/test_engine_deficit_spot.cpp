// A closed account's spot that the book cannot absorb (settle_deficit, sim/liquidation/common.cpp):
// the insurance fund takes it over at the account's collateral value, index x (1 - haircut), as
// much as covers the deficit, before any of the deficit becomes the fund's loss or bad debt; then
// the fund sells it into the book. Before this rule the unsold spot stayed in the closed account
// while the whole quote deficit went to the fund and bad debt (basis_loop seed 2045, account 267:
// 589.7 k of bad debt with about 0.64 M of spot left behind).
//
// The world is tests/support/hand_world.hpp: BTC, tick 1, lot 0.001, no fees, spot collateral
// haircut 0.1, mark = index set by hand. The spot book is empty unless a test rests bids on it.
#include <doctest/doctest.h>

#include <initializer_list>
#include <memory>
#include <utility>

#include "sim/liquidation/common.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/policy.hpp"
#include "tests/support/hand_world.hpp"

using namespace sl;
using namespace sl::test;

namespace {

// A hand world (fund cash 500) with one margined account holding `cash` quote, no contracts and
// 1 BTC of spot, at index = mark = 10,000 (collateral value 9,000 per BTC).
struct SpotHolder : HandWorld {
  std::uint32_t id = 0;
  explicit SpotHolder(double cash, const char* name = "basis") : HandWorld(500) {
    id = account(name, cash, 0.0);
    L.mint(me->account(id).account, kBtc, U(1.0));
    set_mark(10'000, 0);
  }
  // The book maker rests bids of (price in ticks, lots) on the spot book.
  void spot_bids(std::initializer_list<std::pair<Tick, Lots>> levels) {
    for (const auto& [px, lots] : levels) m.assets[0].spot->limit(book_maker, Side::Buy, px, lots);
  }
  DeficitResult settle(FundCredit* credit) {
    LiquidationContext ctx = context(m, *me, 0);
    return settle_deficit(ctx, me->account(id), credit);
  }
};

LiquidationConfig dutch_cfg() {
  LiquidationConfig c;
  c.policy = "dutch";
  c.protocol_fallback_steps = 0;
  return c;
}

}  // namespace

TEST_CASE("settle_deficit: spot the book cannot absorb covers the deficit at index x (1 - haircut), the rest stays the account's") {
  // Cash -5,000 and 1 BTC of spot, index 10,000, haircut 0.1: collateral value 9,000 per BTC. The
  // spot book is empty, so collateral conversion sells nothing. The fund needs
  // ceil(5,000e6 / 9,000) = 555,556 micro-BTC to cover 5,000 and pays exactly 5,000 for them
  // (555,556 x 9,000 = 5,000,004,000 micro-quote, capped at the deficit). Fund cash 500: it lends
  // 4,500 from the bad-debt account; its equity goes from 500 to 500 - 4,500 - 500 + 5,555.56 =
  // 1,055.56 (no loss). The account keeps 444,444 micro-BTC. The user's haircut cost: 0.555556 x
  // 10,000 x 0.1 = 555.556.
  SpotHolder w(-5'000);
  const std::uint32_t id = w.id;
  FundCredit credit;
  const DeficitResult d = w.settle(&credit);
  CHECK(d.bad_debt == 0);
  CHECK(d.insurance_paid == 0);
  CHECK(w.bal(id, kUsd) == 0);
  CHECK(w.bal(id, kBtc) == 444'444);
  CHECK(w.fund(kBtc) == 555'556);
  CHECK(w.fund() == 0);
  CHECK(credit.borrowed == U(4'500));
  CHECK(d.spot_taken_over == doctest::Approx(5'555.56).epsilon(1e-12));
  CHECK(d.collateral_haircut == doctest::Approx(555.556).epsilon(1e-12));
  CHECK(insurance_fund_equity(w.m, w.sys.insurance_fund, credit.borrowed) == U(500) - U(5'000) + U(5'555.56));
  w.L.check_conservation();
}

TEST_CASE("settle_deficit without a fund credit: the fund takes over only what its cash pays") {
  // The same account, no credit (hand-built contexts): fund cash 500 buys floor(500e6 / 9,000) =
  // 55,555 micro-BTC for floor(55,555 x 9,000) = 499,995,000 micro-quote. The deficit left,
  // 5,000 - 499.995 = 4,500.005, finds the fund with 5,000 micro-quote of cash: it pays that, the
  // rest, 4,500, is bad debt.
  SpotHolder w(-5'000);
  const std::uint32_t id = w.id;
  const DeficitResult d = w.settle(nullptr);
  CHECK(w.fund(kBtc) == 55'555);
  CHECK(w.bal(id, kBtc) == 1'000'000 - 55'555);
  CHECK(d.insurance_paid == 5'000);
  CHECK(d.bad_debt == U(5'000) - 499'995'000 - 5'000);
  CHECK(w.fund() == 0);
  w.L.check_conservation();
}

TEST_CASE("dutch: a flat account's unsold spot goes to the fund, not to bad debt, and the fund sells it into the book") {
  // Flat account: cash -10,000, 1 BTC spot; at 10,000 its equity is -10,000 + 9,000 = -1,000 < 0:
  // flagged. `dutch` has no lot to auction and settles its deficit at once. The empty spot book
  // takes nothing; the fund takes the whole 1 BTC for 9,000 (lends 8,500 on its cash of 500;
  // equity 0 - 8,500 + 10,000 = 1,500), then pays the remaining 1,000 by a loan (limit 0: room =
  // equity 1,500 >= 1,000): borrowed 9,500, bad debt 0. Without the takeover the fund could have
  // paid only its 500 and 9,500 would have been bad debt.
  SpotHolder w(-10'000, "flat");
  const std::uint32_t id = w.id;
  REQUIRE(w.me->flagged().size() == 1);
  auto pol = w.first_step(make_dutch_policy(dutch_cfg()), 0);
  CHECK(w.me->account(id).closed);
  CHECK(pol->step_stats().bad_debt == 0.0);
  CHECK(pol->step_stats().spot_taken_over == doctest::Approx(10'000.0).epsilon(1e-12));
  CHECK(pol->step_stats().collateral_haircut == doctest::Approx(1'000.0).epsilon(1e-12));
  CHECK(w.bal(id, kUsd) == 0);
  CHECK(w.bal(id, kBtc) == 0);
  CHECK(w.fund(kBtc) == U(1.0));
  CHECK(pol->fund_borrowed() == U(9'500));
  // Next step bids rest on the spot book: 0.5 BTC at 9,900, 0.3 at 9,800, 1 at 9,700. The fund
  // sells into the best two levels only (FundAbsorber::unwind): 0.8 BTC for 4,950 + 2,940 = 7,890,
  // which repays the loan down to 9,500 - 7,890 = 1,610; 0.2 BTC stays with the fund.
  w.spot_bids({{9'900, 500}, {9'800, 300}, {9'700, 1'000}});
  w.run(*pol, 1);
  CHECK(w.fund(kBtc) == U(0.2));
  CHECK(pol->fund_borrowed() == U(1'610));
  CHECK(w.fund() == 0);
  w.L.check_conservation();
}

TEST_CASE("collateral conversion sells only what covers the deficit, and only at bids at or above the collateral value") {
  // Index 10,000, haircut 0.1: collateral value 9,000 per BTC. Cash -5,000 and 1 BTC of spot.
  SUBCASE("deep enough bids: only the lots needed are sold, the rest of the spot stays the account's") {
    // Bids 0.3 @ 9,990, 0.5 @ 9,980, 1 @ 9,970 (no fees). 0.3 BTC brings 2,997; the remaining
    // 2,003 needs ceil(2,003 / 9.98) = 201 lots at 9,980 = 2,005.98. Sold 0.501 BTC for 5,002.98:
    // quote +2.98, 0.499 BTC kept, nothing for the fund.
    SpotHolder w(-5'000);
    const std::uint32_t id = w.id;
    w.spot_bids({{9'990, 300}, {9'980, 500}, {9'970, 1'000}});
    FundCredit credit;
    const DeficitResult d = w.settle(&credit);
    const AssetMarket& am = w.m.assets[0];
    CHECK(d.bad_debt == 0);
    CHECK(d.spot_taken_over == 0.0);
    CHECK(w.bal(id, kUsd) == U(2.98));
    CHECK(w.bal(id, kBtc) == U(0.499));
    CHECK(w.fund(kBtc) == 0);
    CHECK(am.spot->book().volume_at(Side::Buy, 9'980) == 299);
    CHECK(am.spot->book().volume_at(Side::Buy, 9'970) == 1'000);
    w.L.check_conservation();
  }
  SUBCASE("bids below the collateral value are not hit: the fund takes the rest at 9,000") {
    // Bids 0.2 @ 9,500 and 1 @ 8,900. The 0.2 BTC sells for 1,900; 8,900 < 9,000 is not hit. The
    // fund covers the remaining 3,100 with ceil(3,100e6 / 9,000) = 344,445 micro-BTC; the account
    // keeps 1,000,000 - 200,000 - 344,445 = 455,555 micro-BTC.
    SpotHolder w(-5'000);
    const std::uint32_t id = w.id;
    w.spot_bids({{9'500, 200}, {8'900, 1'000}});
    FundCredit credit;
    const DeficitResult d = w.settle(&credit);
    const AssetMarket& am = w.m.assets[0];
    CHECK(d.bad_debt == 0);
    CHECK(w.bal(id, kUsd) == 0);
    CHECK(w.fund(kBtc) == 344'445);
    CHECK(w.bal(id, kBtc) == 455'555);
    CHECK(am.spot->book().volume_at(Side::Buy, 8'900) == 1'000);
    CHECK(credit.borrowed == U(3'100) - U(500));
    w.L.check_conservation();
  }
}
