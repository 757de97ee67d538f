#include "sim/run/own_positions.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "agents/passive_positions.hpp"
#include "scenarios/position_file.hpp"
#include "sim/core/simd_lanes.hpp"
#include "sim/core/table_math.hpp"

namespace sl {

namespace {

// The bulk opening's hub slots of the positions' legs: the issuers (collateral minted) and the
// counterparty (contracts and their cash leg).
struct PositionHubs {
  std::size_t quote_issuer, counterparty_quote;
  std::vector<std::size_t> spot_issuer, counterparty_perp;  // per asset
  PositionHubs(const Market& m, Ledger::BulkOpening& bulk) {
    const Ledger& L = m.ledger;
    quote_issuer = bulk.hub(L.issuer(m.quote_asset), m.quote_asset);
    counterparty_quote = bulk.hub(m.counterparty_account, m.quote_asset);
    for (const AssetMarket& am : m.assets) {
      spot_issuer.push_back(bulk.hub(L.issuer(am.spot_asset), am.spot_asset));
      counterparty_perp.push_back(bulk.hub(m.counterparty_account, am.perp_asset));
    }
  }
};

// The contracts and the cash leg of row r (whole lots, checked by the loader; the cash leg at the
// exact entry price, to the micro-unit). Inline: the passive positions' loop computes a block's legs
// with it, several positions in flight (as a call, one position's chain of conversions at a time).
// The venue's lot as position_legs reads it (captured by value where a position is described
// later: the drawn positions' descriptions hold no reference to the market).
struct PerpLot {
  double size;
  Micros micros;
};
PerpLot perp_lot(const Market& m, std::size_t asset) { return {m.assets[asset].perp->spec().lot_size, m.assets[asset].perp->spec().lot_micros}; }

[[gnu::always_inline]] inline WatchedPosition position_legs(const PerpLot& lot, const PositionRow& r) {
  const auto lots = static_cast<Micros>(llround_in_range(r.size / lot.size));  // a size checked finite and in range by the loader or drawn
  WatchedPosition p;
  p.mode = r.isolated ? MarginMode::Isolated : MarginMode::Cross;
  p.asset = static_cast<std::size_t>(r.asset);
  p.is_long = r.is_long;
  p.contracts = checked_mul(lots, lot.micros);
  p.cash = to_fixed(static_cast<double>(lots) * lot.size * r.entry_price, 1e6);
  return p;
}
[[gnu::always_inline]] inline WatchedPosition position_legs(const Market& m, const PositionRow& r) {
  return position_legs(perp_lot(m, static_cast<std::size_t>(r.asset)), r);
}

// Books one position's ledger legs into the just-opened account `acc`: the same code for a row of
// accounts.file and for a passive position, so the two give the same ledger state.
// spot_units: units of each scenario asset's spot held as collateral (n_assets values). The legs
// are those of a mint and of book_against_counterparty (sim/perp/margin_engine.hpp), in the same
// order, through a bulk opening (Ledger::BulkOpening: the issuers' and the counterparty's sides
// summed and applied once), which leaves the ledger as the transfers one by one do. The margin
// side (an account, or a watched position) is the caller's.
// The counterparty's own record of the booking (record_counterparty_booking) is the caller's.
void book_legs(const Market& m, Ledger::BulkOpening& bulk, const PositionHubs& hubs, AccountId acc, const PositionRow& r,
               const WatchedPosition& p, const double* spot_units) {
  bulk.move(hubs.quote_issuer, acc, to_fixed(r.quote_collateral, 1e6), /*to_fresh=*/true);
  for (std::size_t a = 0; a < m.assets.size(); ++a)
    if (spot_units[a] > 0) bulk.move(hubs.spot_issuer[a], acc, to_fixed(spot_units[a], 1e6), true);
  bulk.move(hubs.counterparty_perp[p.asset], acc, p.contracts, /*to_fresh=*/r.is_long);
  bulk.move(hubs.counterparty_quote, acc, p.cash, /*to_fresh=*/!r.is_long);
}

// The fixed-point amounts of a block of drawn positions, as position_legs and to_fixed compute them
// (book_legs' amounts): contracts, the cash leg, the quote collateral, the spot collateral (none
// below or at 0). Written per block, not per position: a block's share of the set-up.
struct BlockAmounts {
  Micros* contracts;
  Micros* cash;
  Micros* quote;
  Micros* spot;
};

// Positions [k, k + W) on lanes: each double computed as position_legs / to_fixed compute it, then
// rounded by simd::round_half_away (llround_in_range's integer). False, writing nothing, if a lane
// is out of the lanes' range (a value not finite or not below 2^51 in magnitude, lots whose
// contracts could pass 2^62, a row of another asset than the first): the caller books those
// positions one at a time, which raises what the original raises for them.
template <int W>
[[gnu::always_inline]] inline bool amounts_on_lanes(const PositionRow* rows, const double* spot, double lot_size, Micros lot_micros,
                                                    double lots_limit, const BlockAmounts& out, std::size_t k) {
  using namespace simd;
  using V = typename Lanes<W>::V;
  using M = typename Lanes<W>::M;
  V size, entry, collateral, units;
  bool first_asset = true;
  for (int i = 0; i < W; ++i) {
    const PositionRow& r = rows[k + static_cast<std::size_t>(i)];
    size[i] = r.size;
    entry[i] = r.entry_price;
    collateral[i] = r.quote_collateral;
    units[i] = spot[k + static_cast<std::size_t>(i)];
    first_asset &= r.asset == 0;
  }
  const V zero = vector_of<V, W>(0.0), scale = vector_of<V, W>(1e6), limit = vector_of<V, W>(0x1p51), lot = vector_of<V, W>(lot_size);
  const M sign_bit = reinterpret_cast<M>(vector_of<V, W>(-0.0));
  const V x_lots = size / lot;
  const V lots = round_half_away<W>(x_lots);
  const V x_cash = lots * lot * entry * scale;  // to_fixed(lots x lot_size x entry_price, 1e6)
  const V x_quote = collateral * scale;
  const V x_spot = pick<V, M>(units > zero, units, zero) * scale;
  const M in_range = (vabs<V, M>(x_lots, sign_bit) < vector_of<V, W>(lots_limit)) & (vabs<V, M>(x_cash, sign_bit) < limit) &
                     (vabs<V, M>(x_quote, sign_bit) < limit) & (vabs<V, M>(x_spot, sign_bit) < limit);
  bool all = first_asset;
  for (int i = 0; i < W; ++i) all &= in_range[i] != 0;
  if (!all) return false;
  const M lots_int = to_int64<W>(lots);
  for (int i = 0; i < W; ++i) out.contracts[k + static_cast<std::size_t>(i)] = lots_int[i] * lot_micros;  // below 2^62 (lots_limit)
  store(out.cash + k, to_int64<W>(round_half_away<W>(x_cash)));
  store(out.quote + k, to_int64<W>(round_half_away<W>(x_quote)));
  store(out.spot + k, to_int64<W>(round_half_away<W>(x_spot)));
  return true;
}

template <int W>
[[gnu::always_inline]] inline void block_amounts_lanes(const Market& m, const PositionRow* rows, const double* spot, std::size_t b,
                                                       const BlockAmounts& out) {
  const Venue& v = *m.assets[0].perp;
  const double lot_size = v.spec().lot_size;
  const Micros lot_micros = v.spec().lot_micros;
  const double lots_limit = std::min(0x1p51, 0x1p62 / static_cast<double>(std::max<Micros>(lot_micros, 1)));
  for (std::size_t k = 0; k < b; k += W) {
    if (k + W <= b && amounts_on_lanes<W>(rows, spot, lot_size, lot_micros, lots_limit, out, k)) continue;
    for (std::size_t i = k; i < std::min(k + W, b); ++i) {  // one at a time, as book_legs computes them
      const WatchedPosition p = position_legs(m, rows[i]);
      out.contracts[i] = p.contracts;
      out.cash[i] = p.cash;
      out.quote[i] = to_fixed(rows[i].quote_collateral, 1e6);
      out.spot[i] = to_fixed(spot[i] > 0 ? spot[i] : 0.0, 1e6);
    }
  }
}

#if defined(SL_HAVE_AVX2_LANES)
SL_AVX2 void block_amounts_avx2(const Market& m, const PositionRow* rows, const double* spot, std::size_t b, const BlockAmounts& out) {
  block_amounts_lanes<4>(m, rows, spot, b, out);
}
#endif

void block_amounts(const Market& m, const PositionRow* rows, const double* spot, std::size_t b, const BlockAmounts& out) {
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) {
    block_amounts_avx2(m, rows, spot, b, out);
    return;
  }
#endif
  block_amounts_lanes<2>(m, rows, spot, b, out);
}

}  // namespace

std::size_t book_own_positions(const ScenarioConfig& sc, Market& m, MarginEngine& margin) {
  if (sc.accounts.file.empty()) return 0;
  std::shared_ptr<const PositionBook> loaded = sc.accounts.book;
  if (!loaded) {
    const std::string& src = sc.source_file;
    loaded = load_position_file(sc, src.find('/') == std::string::npos ? "" : src.substr(0, src.find_last_of('/')));
  }
  const PositionBook& book = *loaded;
  Ledger& L = m.ledger;
  const std::size_t n_assets = m.assets.size();
  L.reserve_accounts(L.n_accounts() + book.rows.size());
  margin.reserve(margin.accounts().size() + book.rows.size(), L.n_accounts() + book.rows.size());
  Ledger::BulkOpening bulk(L);
  const PositionHubs hubs(m, bulk);
  for (std::size_t k = 0; k < book.rows.size(); ++k) {
    const AccountId acc = L.open_account("position:" + std::to_string(book.rows[k].line), /*may_go_negative=*/true);
    const PositionRow& r = book.rows[k];
    const WatchedPosition p = position_legs(m, r);
    margin.add_account(acc, -1, AgentKind::Position, p.mode);
    book_legs(m, bulk, hubs, acc, r, p, &book.spot[k * n_assets]);
    record_counterparty_booking(m, margin, acc, p.asset, r.is_long, p.contracts, p.cash);
  }
  bulk.finish();
  return book.rows.size();
}

std::size_t book_passive_positions(const ScenarioConfig& sc, std::uint64_t run_seed, Market& m, MarginEngine& margin) {
  const std::size_t n = static_cast<std::size_t>(std::max(0, sc.agents.passive_positions.count));
  if (n == 0) return 0;
  Ledger& L = m.ledger;
  // Room for the counterparties opened next (and a little more) too: growing a million accounts'
  // arrays by a few would copy them all. The margin engine's arrays: address space only, filled
  // only by the positions that become margin accounts.
  const std::size_t room = n + static_cast<std::size_t>(std::max(0, sc.agents.counterparties.count)) + 64;
  L.reserve_accounts(L.n_accounts() + room);
  margin.reserve(margin.accounts().size() + room, L.n_accounts() + room);
  const std::uint32_t stem = L.name_stem("passive_position:", "");
  auto drawer = std::make_shared<const PassivePositionDrawer>(sc, run_seed);
  // A position is a pure function of (seed, k): the margin engine, which keeps only its price bands
  // (MarginEngine::watch), draws it again when it makes it a margin account.
  const PerpLot lot = perp_lot(m, 0);  // every drawn position is of asset 0
  margin.begin_watch(static_cast<AccountId>(L.n_accounts()), n, /*asset=*/0, [drawer, lot](std::size_t k) {
    PositionRow row;
    double spot = 0;
    drawer->draw(k, 1, &row, &spot);
    return position_legs(lot, row);
  });
  // Drawn a block at a time (a tight loop over the counter stream), then booked: the legs' amounts
  // per position (position_legs and to_fixed, as book_legs computes them), then the block's legs
  // (Ledger::BulkOpening::move_block: the ledger state book_legs leaves, the legs being those of a
  // mint and of book_against_counterparty), then the bands (a position that cannot be banded is
  // made a margin account from the description begin_watch draws again).
  constexpr std::size_t kBlock = 2048;
  std::vector<PositionRow> rows(kBlock);  // a block's draws stay in the cache until booked
  std::vector<double> spot(kBlock);
  std::vector<Micros> quote(kBlock), spot_micros(kBlock), contracts(kBlock), cash(kBlock);
  const std::unique_ptr<bool[]> is_long(new bool[kBlock]), is_short(new bool[kBlock]);
  Ledger::BulkOpening bulk(L);
  const PositionHubs hubs(m, bulk);
  // The positions' ledger rows are not written at set-up but when each is first read or moved
  // (Ledger: deferred rows), drawn again then: the row its legs leave (a mint of the quote and the
  // spot collateral, the contracts and the cash leg against the counterparty; integers, so in any
  // order). The legs are booked a block at a time into the block's scratch columns, the four legs
  // of a block at once (Ledger::BulkOpening::move_block).
  const std::size_t quote_col = m.quote_asset, spot_col = m.assets[0].spot_asset, perp_col = m.assets[0].perp_asset;
  const AccountId range_first =
      bulk.open_deferred_range(stem, 1, n, /*may_go_negative=*/true, [drawer, lot, quote_col, spot_col, perp_col](std::size_t k, Micros* row) {
        PositionRow r;
        double spot_units = 0;
        drawer->draw(k, 1, &r, &spot_units);
        const WatchedPosition p = position_legs(lot, r);
        row[quote_col] = to_fixed(r.quote_collateral, 1e6) + (r.is_long ? -p.cash : p.cash);
        row[spot_col] = to_fixed(spot_units > 0 ? spot_units : 0.0, 1e6);
        row[perp_col] = r.is_long ? p.contracts : -p.contracts;
      });
  Micros counterparty_cash = 0;  // the counterparty's cash leg: the sum record_counterparty_booking keeps per position
  for (std::size_t first = 0; first < n; first += kBlock) {
    const std::size_t b = std::min(kBlock, n - first);
    drawer->draw(first, b, rows.data(), spot.data());
    const AccountId acc0 = range_first + static_cast<AccountId>(first);
    bulk.begin_block(acc0, b);
    block_amounts(m, rows.data(), spot.data(), b, BlockAmounts{contracts.data(), cash.data(), quote.data(), spot_micros.data()});
    for (std::size_t k = 0; k < b; ++k) {
      const bool long_k = rows[k].is_long;
      is_long[k] = long_k;
      is_short[k] = !long_k;
      const std::uint64_t short_mask = -static_cast<std::uint64_t>(!long_k);
      counterparty_cash += static_cast<Micros>((static_cast<std::uint64_t>(cash[k]) ^ short_mask) - short_mask);  // +cash long, -cash short (its entry price: recorded when watch() adds it)
    }
    const Ledger::BulkOpening::BlockLeg block_legs[4] = {{hubs.quote_issuer, quote.data(), nullptr},
                                                         {hubs.spot_issuer[0], spot_micros.data(), nullptr},
                                                         {hubs.counterparty_perp[0], contracts.data(), is_long.get()},
                                                         {hubs.counterparty_quote, cash.data(), is_short.get()}};
    bulk.move_block(block_legs, 4);
    const Ledger::BulkOpening::BlockColumns booked = bulk.end_block();
    margin.watch_block(first, b, nullptr, &booked);
  }
  add_counterparty_cash(m, 0, counterparty_cash);
  bulk.finish();
  return n;
}

}  // namespace sl
