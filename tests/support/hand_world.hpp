// A hand-built one-asset world for policy-level liquidation tests (socialized, hierarchy): BTC,
// tick 1, lot 0.001, no fees, spot collateral haircut 0.1; the mark (= index) is set by hand and
// margined accounts are given their balances directly (contracts from / to a book maker that can
// also quote the perp book). Nothing here is computed: the tests state every balance by hand.
#pragma once
#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "sim/core/fixed_point.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"
#include "tests/support/policy_parts.hpp"
#include "tests/support/venue_spec.hpp"

namespace sl::test {

inline constexpr AssetId kUsd = 0, kBtc = 1, kPerp = 2;

inline Micros U(double x) { return to_fixed(x, 1e6); }

// The venues of every hand world: spot:BTC and perp:BTC quoted in asset 0, tick 1, lot 0.001, no
// fees, prices up to `max_tick`; each with its own fee account. Hooked to `am` (whose spot_asset and
// perp_asset give the base assets).
inline void add_hand_venues(Market& m, Ledger& L, AssetMarket& am, Tick max_tick) {
  for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
    const VenueSpec vs = venue_spec(k, k == VenueKind::Spot ? "spot:BTC" : "perp:BTC",
                                    k == VenueKind::Spot ? am.spot_asset : am.perp_asset,
                                    {.tick_size = 1.0, .lot_size = 0.001, .max_tick = max_tick});
    const AccountId fee = L.open_account("fees:" + vs.name);
    m.venues.emplace_back(vs, L, fee);
    (k == VenueKind::Spot ? am.spot : am.perp) = &m.venues.back();
  }
}

struct HandWorld : HandLedger, PolicyParts {
  std::unique_ptr<MarginEngine> me;
  AccountId book_maker = 0;

  explicit HandWorld(double fund_start) : PolicyParts(3) {
    m.quote_asset = kUsd;
    ReferenceProcess ref(ReferenceConfig{}, 10'000.0, 1.0, make_rng(1, 0, 2));
    AssetMarket am{"BTC", kBtc, kPerp, ref};
    am.initial_price = 10'000.0;
    am.collateral_haircut = 0.1;
    add_hand_venues(m, L, am, 40'000);
    m.assets.push_back(std::move(am));
    me = std::make_unique<MarginEngine>(pc, m);
    m.margin = me.get();
    sys = open_system_accounts(L, U(fund_start));
    book_maker = L.open_account("book_maker");
    L.mint(book_maker, kUsd, U(1e8));
  }
  // A margined account holding `cash` quote and `contracts` (booked against the issuer-like
  // counterparty below, at no cash: the cash given is the whole quote balance).
  std::uint32_t account(const std::string& name, double cash, double contracts) {
    const AccountId a = L.open_account(name, true);
    if (cash >= 0) L.mint(a, kUsd, U(cash));
    else L.transfer(a, L.issuer(kUsd), kUsd, U(-cash));
    if (contracts > 0) L.transfer(book_maker, a, kPerp, U(contracts));
    if (contracts < 0) L.transfer(a, book_maker, kPerp, U(-contracts));
    return me->add_account(a, -1, AgentKind::LeveragedTrader, MarginMode::Isolated);
  }
  // One margined account as a test states it: its name, its quote cash and its contracts.
  struct Holding {
    const char* name;
    double cash;
    double contracts;
  };
  // Opens the accounts in the order given (see account()) and returns their ids in that order.
  template <std::size_t N>
  std::array<std::uint32_t, N> accounts(const Holding (&holdings)[N]) {
    std::array<std::uint32_t, N> ids{};
    for (std::size_t i = 0; i < N; ++i) ids[i] = account(holdings[i].name, holdings[i].cash, holdings[i].contracts);
    return ids;
  }
  // The positions were opened at `open_mark` (step 0); the mark then moves to `mark` (step 1).
  void shock(double open_mark, double mark) {
    set_mark(open_mark, 0);
    set_mark(mark, 1);
  }
  void set_mark(double p, std::int64_t step) {
    m.assets[0].mark_price = p;
    m.assets[0].index_price = p;
    me->mark_all(step);
  }
  void run(LiquidationPolicy& pol, std::int64_t step) {
    LiquidationContext ctx = context(m, *me, step);
    ctx.fund = &pol.fund_credit();
    pol.reset_step_stats();
    pol.on_step(ctx);
  }
  // Runs a new policy's first step at `step` and hands the policy back for the checks.
  std::unique_ptr<LiquidationPolicy> first_step(std::unique_ptr<LiquidationPolicy> pol, std::int64_t step) {
    run(*pol, step);
    return pol;
  }
  // The book maker rests bids of (price in ticks, lots) on the perp book.
  void perp_bids(std::initializer_list<std::pair<Tick, Lots>> levels) {
    for (const auto& [px, lots] : levels) m.assets[0].perp->limit(book_maker, Side::Buy, px, lots);
  }
  Micros bal(std::uint32_t id, AssetId a) { return L.balance(me->account(id).account, a); }
  Micros fund(AssetId a = kUsd) { return L.balance(sys.insurance_fund, a); }
};

}  // namespace sl::test
