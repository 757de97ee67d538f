#include "sim/run/invariants.hpp"

#include <sstream>
#include <vector>

#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {
[[noreturn]] void fail(std::int64_t step, const std::string& what) {
  std::ostringstream os;
  os << "invariant violated at step " << step << ": " << what;
  throw InvariantError(os.str());
}
}  // namespace

void check_asset_totals(const std::vector<std::string>& asset_names, const std::vector<__int128>& totals, std::int64_t step) {
  for (std::size_t a = 0; a < totals.size(); ++a) {
    if (totals[a] != 0)
      fail(step, "ledger conservation: asset " + asset_names[a] + " sums to " + std::to_string(static_cast<long long>(totals[a])) +
                     " micro-units over all accounts (must be exactly 0)");
  }
}

void check_ledger_conservation(const Ledger& ledger, std::int64_t step) {
  bool exact = true;
  for (AssetId a = 0; a < ledger.n_assets(); ++a) exact = exact && ledger.total(a) == 0;
  if (exact) return;
  std::vector<std::string> names;
  std::vector<__int128> totals;
  for (AssetId a = 0; a < ledger.n_assets(); ++a) {
    names.push_back(ledger.asset_name(a));
    totals.push_back(ledger.total(a));
  }
  check_asset_totals(names, totals, step);
}

void check_fund_floor(const Market& market, const LiquidationAccounts& sys, const FundCredit& credit, std::int64_t step) {
  const Micros fe = insurance_fund_equity(market, sys.insurance_fund, credit.borrowed);
  if (fe < -credit.limit)
    fail(step, "insurance fund equity " + std::to_string(fe) + " micro-units is below -fund_borrow_limit = " +
                   std::to_string(-credit.limit));
}

void check_closed_accounts_settled(const Market& market, const MarginEngine& margin, std::int64_t step) {
  for (const MarginAccount& a : margin.accounts()) {
    if (!a.closed) continue;
    const Micros k = market.ledger.balance(a.account, market.quote_asset);
    if (k < 0)
      fail(step, "closed margin account " + market.ledger.account_name(a.account) + " holds " + std::to_string(k) +
                     " micro-units of quote: the user was charged beyond its bankruptcy price");
  }
}

void check_plain_accounts_nonnegative(const Market& market, const MarginEngine& margin, const LiquidationAccounts& sys,
                                      AccountId counterparty, std::int64_t step) {
  const Ledger& L = market.ledger;
  thread_local std::vector<char> exempt;
  exempt.assign(L.n_accounts(), 0);
  for (const MarginAccount& a : margin.accounts()) exempt[a.account] = 1;
  for (AccountId acc = 0; acc < L.n_accounts(); ++acc)
    if (margin.is_watched(acc)) exempt[acc] = 1;  // a margined account not added yet (MarginEngine::watch)
  for (AssetId a = 0; a < L.n_assets(); ++a) exempt[L.issuer(a)] = 1;
  exempt[sys.bad_debt] = 1;
  if (counterparty < L.n_accounts()) exempt[counterparty] = 1;
  thread_local std::vector<char> contract;
  contract.assign(L.n_assets(), 0);
  for (const AssetMarket& am : market.assets) contract[am.perp_asset] = 1;
  for (AccountId acc = 0; acc < L.n_accounts(); ++acc) {
    if (exempt[acc]) continue;
    for (AssetId a = 0; a < L.n_assets(); ++a) {
      if (contract[a]) continue;
      const Micros b = L.balance(acc, a);
      if (b < 0)
        fail(step, "plain account " + L.account_name(acc) + " holds " + std::to_string(b) + " micro-units of " + L.asset_name(a));
    }
  }
}

void check_step_invariants(const Market& market, const MarginEngine& margin, const LiquidationAccounts& sys,
                           const FundCredit& credit, std::int64_t step) {
  check_ledger_conservation(market.ledger, step);
  check_fund_floor(market, sys, credit, step);
  check_closed_accounts_settled(market, margin, step);
  check_plain_accounts_nonnegative(market, margin, sys, market.counterparty_account, step);
}

}  // namespace sl
