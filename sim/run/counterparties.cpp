#include "sim/run/counterparties.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace sl {

std::size_t split_to_counterparties(const CounterpartiesConfig& cfg, Market& m, MarginEngine& margin, std::int32_t first_agent_id) {
  Ledger& L = m.ledger;
  const AccountId cp = m.counterparty_account;
  const std::size_t n_assets = m.assets.size();
  bool any = false;
  for (const AssetMarket& am : m.assets) any = any || L.balance(cp, am.perp_asset) != 0;
  if (!any || cfg.count < 1) return 0;
  const auto n = static_cast<std::size_t>(cfg.count);
  m.counterparty_perp_cash.resize(n_assets, 0);
  // Lots per account and asset (signed, the counterparty's side).
  std::vector<Micros> contracts(n * n_assets, 0);
  std::vector<Micros> weight(n, 0);  // sum over assets of |contracts|, for the cash leg's split
  for (std::size_t i = 0; i < n_assets; ++i) {
    const Micros total = L.balance(cp, m.assets[i].perp_asset);
    const Micros lot = m.assets[i].perp->spec().lot_micros;
    const Micros lots = std::abs(total) / lot, dust = std::abs(total) % lot;
    const Micros sign = total < 0 ? -1 : 1;
    for (std::size_t k = 0; k < n; ++k) {
      const Micros share = lots / static_cast<Micros>(n) + (static_cast<Micros>(k) < lots % static_cast<Micros>(n) ? 1 : 0);
      contracts[k * n_assets + i] = sign * (share * lot + (k == 0 ? dust : 0));
    }
  }
  // The cash leg of each asset pro rata to each account's contracts in it (largest remainder, ties
  // to the lower index), so every account's share has the booked position's entry price.
  std::vector<Micros> cash(n, 0);
  std::vector<double> entry(n_assets, 0.0);
  for (std::size_t i = 0; i < n_assets; ++i) {
    const Micros total = L.balance(cp, m.assets[i].perp_asset);
    const Micros leg = m.counterparty_perp_cash[i];
    if (total == 0) continue;
    entry[i] = std::abs(from_micros(leg) / from_micros(total));
    std::vector<std::pair<__int128, std::size_t>> rem;
    Micros given = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const __int128 num = static_cast<__int128>(leg) * contracts[k * n_assets + i];
      const Micros part = static_cast<Micros>(num / total);
      cash[k] += part;
      given += part;
      rem.emplace_back(num % total < 0 ? -(num % total) : num % total, k);
    }
    std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    const Micros step = leg >= 0 ? 1 : -1;
    for (std::size_t j = 0; given != leg && j < rem.size(); ++j, given += step) cash[rem[j].second] += step;
  }
  L.reserve_accounts(L.n_accounts() + n);
  for (std::size_t k = 0; k < n; ++k) {
    // Margined: its quote may go negative (a perp trade pays or receives the notional).
    const AccountId acc = L.open_numbered_account("counterparty:", static_cast<std::uint32_t>(k), "", /*may_go_negative=*/true);
    double notional = 0;
    for (std::size_t i = 0; i < n_assets; ++i) notional += std::abs(from_micros(contracts[k * n_assets + i])) * entry[i];
    L.mint(acc, m.quote_asset, to_fixed(notional / cfg.leverage + cfg.collateral_quote, 1e6));
    margin.add_account(acc, first_agent_id + static_cast<std::int32_t>(k), AgentKind::Counterparty, MarginMode::Cross);
    for (std::size_t i = 0; i < n_assets; ++i) {
      const Micros c = contracts[k * n_assets + i];
      const AssetId perp = m.assets[i].perp_asset;
      if (c > 0) L.transfer(cp, acc, perp, c);
      if (c < 0) L.transfer(acc, cp, perp, -c);
      if (c != 0) margin.record_fill(acc, i, c, entry[i]);
    }
    // The counterparty account received the cash leg (leg > 0: it sold contracts): it passes it on.
    if (cash[k] > 0) L.transfer(cp, acc, m.quote_asset, cash[k]);
    if (cash[k] < 0) L.transfer(acc, cp, m.quote_asset, -cash[k]);
  }
  for (std::size_t i = 0; i < n_assets; ++i) m.counterparty_perp_cash[i] = 0;
  return n;
}

}  // namespace sl
