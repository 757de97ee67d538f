// A hand-built one-asset world for policy-level liquidation tests (socialized, hierarchy): BTC,
// tick 1, lot 0.001, no fees, spot collateral haircut 0.1; the mark (= index) is set by hand and
// margined accounts are given their balances directly (contracts from / to a book maker that can
// also quote the perp book). Nothing here is computed: the tests state every balance by hand.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "sim/core/fixed_point.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"

namespace sl::test {

inline constexpr AssetId kUsd = 0, kBtc = 1, kPerp = 2;

inline Micros U(double x) { return to_fixed(x, 1e6); }

// The venues of every hand world: spot:BTC and perp:BTC quoted in asset 0, tick 1, lot 0.001, no
// fees, prices up to `max_tick`; each with its own fee account. Hooked to `am` (whose spot_asset and
// perp_asset give the base assets).
inline void add_hand_venues(Market& m, Ledger& L, AssetMarket& am, Tick max_tick) {
  for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
    VenueSpec vs;
    vs.kind = k;
    vs.name = k == VenueKind::Spot ? "spot:BTC" : "perp:BTC";
    vs.base_asset = k == VenueKind::Spot ? am.spot_asset : am.perp_asset;
    vs.quote_asset = 0;
    vs.lot_micros = 1000;
    vs.tick_micros = 1'000'000;
    vs.quote_micros_per_tick_lot = 1000;
    vs.tick_size = 1.0;
    vs.lot_size = 0.001;
    vs.maker_fee_bps = 0;
    vs.taker_fee_bps = 0;
    vs.max_tick = max_tick;
    const AccountId fee = L.open_account("fees:" + vs.name);
    m.venues.emplace_back(vs, L, fee);
    (k == VenueKind::Spot ? am.spot : am.perp) = &m.venues.back();
  }
}

struct HandWorld {
  Ledger L{{"USDT", "BTC", "BTC-PERP"}, {false, false, true}};
  Market m{L};
  PerpConfig pc;
  std::unique_ptr<MarginEngine> me;
  std::vector<LiquidatorBot> bots;
  std::vector<std::int32_t> kinds;
  Rng rng{make_rng(1, 0, 3)};
  LiquidationAccounts sys;
  std::vector<LiquidationEvent> events;
  std::vector<std::vector<AccountId>> makers{{}};
  AccountId book_maker = 0;

  explicit HandWorld(double fund_start) {
    m.quote_asset = kUsd;
    ReferenceProcess ref(ReferenceConfig{}, 10'000.0, 1.0, make_rng(1, 0, 2));
    AssetMarket am{"BTC", kBtc, kPerp, ref};
    am.initial_price = 10'000.0;
    am.collateral_haircut = 0.1;
    add_hand_venues(m, L, am, 40'000);
    m.assets.push_back(std::move(am));
    me = std::make_unique<MarginEngine>(pc, m);
    m.margin = me.get();
    sys.insurance_fund = L.open_account("insurance_fund");
    L.mint(sys.insurance_fund, kUsd, U(fund_start));
    sys.bad_debt = L.open_account("bad_debt", true);
    sys.network_fees = L.open_account("network_fees");
    sys.protocol = L.open_account("protocol");
    book_maker = L.open_account("book_maker");
    L.mint(book_maker, kUsd, U(1e8));
  }
  // A margined account holding `cash` quote and `contracts` (booked against the issuer-like
  // counterparty below, at no cash: the cash given is the whole quote balance), opened at `entry`
  // (its entry price, which the ADL queue ranks on; the tests' positions are "opened at 10,000").
  std::uint32_t account(const std::string& name, double cash, double contracts, double entry = 10'000.0,
                        AgentKind kind = AgentKind::LeveragedTrader) {
    const AccountId a = L.open_account(name, true);
    if (cash >= 0) L.mint(a, kUsd, U(cash));
    else L.transfer(a, L.issuer(kUsd), kUsd, U(-cash));
    if (contracts > 0) L.transfer(book_maker, a, kPerp, U(contracts));
    if (contracts < 0) L.transfer(a, book_maker, kPerp, U(-contracts));
    const std::uint32_t id = me->add_account(a, -1, kind, kind == AgentKind::LeveragedTrader ? MarginMode::Isolated : MarginMode::Cross);
    me->record_fill(a, 0, U(contracts), entry);
    return id;
  }
  void set_mark(double p, std::int64_t step) {
    m.assets[0].mark_price = p;
    m.assets[0].index_price = p;
    me->mark_all(step);
  }
  void run(LiquidationPolicy& pol, std::int64_t step) {
    LiquidationContext ctx{m, *me, bots, kinds, rng, step, sys, events, makers, nullptr};
    ctx.fund = &pol.fund_credit();
    pol.reset_step_stats();
    pol.on_step(ctx);
  }
  Micros bal(std::uint32_t id, AssetId a) { return L.balance(me->account(id).account, a); }
  Micros fund(AssetId a = kUsd) { return L.balance(sys.insurance_fund, a); }
};

}  // namespace sl::test
