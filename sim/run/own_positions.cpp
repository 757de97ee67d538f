#include "sim/run/own_positions.hpp"

#include <cmath>
#include <string>

#include "scenarios/position_file.hpp"

namespace sl {

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
  for (std::size_t k = 0; k < book.rows.size(); ++k) {
    const PositionRow& r = book.rows[k];
    AssetMarket& am = m.assets[static_cast<std::size_t>(r.asset)];
    const Venue& v = *am.perp;
    const AccountId acc = L.open_account("position:" + std::to_string(r.line), /*may_go_negative=*/true);
    L.mint(acc, m.quote_asset, to_fixed(r.quote_collateral, 1e6));
    for (std::size_t a = 0; a < n_assets; ++a) {
      const double units = book.spot[k * n_assets + a];
      if (units > 0) L.mint(acc, m.assets[a].spot_asset, to_fixed(units, 1e6));
    }
    // Whole lots (checked by the loader); the cash leg at the exact entry price, to the micro-unit.
    const auto lots = static_cast<Micros>(std::llround(r.size / v.spec().lot_size));
    const Micros contracts = checked_mul(lots, v.spec().lot_micros);
    const Micros cash = to_fixed(static_cast<double>(lots) * v.spec().lot_size * r.entry_price, 1e6);
    margin.add_account(acc, -1, AgentKind::Position, r.isolated ? MarginMode::Isolated : MarginMode::Cross);
    book_against_counterparty(m, margin, acc, static_cast<std::size_t>(r.asset), r.is_long, contracts, cash);
  }
  return book.rows.size();
}

}  // namespace sl
