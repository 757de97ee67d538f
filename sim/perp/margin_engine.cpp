#include "sim/perp/margin_engine.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>

namespace sl {

MarginEngine::MarginEngine(const PerpConfig& cfg, Market& market) : tiers_(cfg.margin_tiers), market_(market) {
  accounts_.reserve(1024);
  flagged_.reserve(1024);
  order_.reserve(1024);
}

std::uint32_t MarginEngine::add_account(AccountId account, std::int32_t owner_agent, AgentKind kind, MarginMode mode) {
  MarginAccount a;
  a.account = account;
  a.owner_agent = owner_agent;
  a.owner_kind = kind;
  a.mode = mode;
  accounts_.push_back(a);
  return static_cast<std::uint32_t>(accounts_.size() - 1);
}

// Prices used for valuation. Before the kernel has published an index/mark (or if a book is empty
// and the stand-in is 0) the reference is used.
double MarginEngine::price(std::size_t asset, PriceBasis basis, bool contract) const {
  const AssetMarket& am = market_.assets[asset];
  if (basis == PriceBasis::Reference) return am.reference.price();
  return contract ? am.mark_or_reference() : am.index_or_reference();
}

double MarginEngine::mmr(double notional) const {
  for (const auto& t : tiers_)
    if (notional <= t.max_notional) return t.mmr_bps * 1e-4;
  return tiers_.back().mmr_bps * 1e-4;
}

double MarginEngine::imr(double notional) const {
  for (const auto& t : tiers_)
    if (notional <= t.max_notional) return t.imr_bps * 1e-4;
  return tiers_.back().imr_bps * 1e-4;
}

double MarginEngine::position(const MarginAccount& a, std::size_t asset) const {
  return from_micros(market_.ledger.balance(a.account, market_.assets[asset].perp_asset));
}

double MarginEngine::equity(const MarginAccount& a, PriceBasis basis) const {
  const Ledger& L = market_.ledger;
  double e = from_micros(L.balance(a.account, market_.quote_asset));
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const AssetMarket& am = market_.assets[i];
    const Micros spot = L.balance(a.account, am.spot_asset);
    if (spot != 0) e += from_micros(spot) * price(i, basis, false) * (1.0 - am.collateral_haircut);
    const Micros contracts = L.balance(a.account, am.perp_asset);
    if (contracts != 0) e += from_micros(contracts) * price(i, basis, true);
  }
  return e;
}

// Sum over positions of notional x the tier rate of that notional (maintenance or initial).
double MarginEngine::requirement(const MarginAccount& a, PriceBasis basis, bool maintenance_rate) const {
  double req = 0;
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const Micros contracts = market_.ledger.balance(a.account, market_.assets[i].perp_asset);
    if (contracts == 0) continue;
    const double notional = std::abs(from_micros(contracts)) * price(i, basis, true);
    req += notional * (maintenance_rate ? mmr(notional) : imr(notional));
  }
  return req;
}

double MarginEngine::bankruptcy_price(const MarginAccount& a, std::size_t asset) const {
  const double c = position(a, asset);
  if (c == 0) return 0.0;
  // equity(p) = E0 + c (p - p0) = 0
  const double p0 = price(asset, PriceBasis::Mark, true);
  const double p = p0 - equity(a, PriceBasis::Mark) / c;
  return p > 0 ? p : 0.0;
}

void MarginEngine::mark_all(std::int64_t step) {
  flagged_.clear();
  for (std::uint32_t id = 0; id < accounts_.size(); ++id) {
    MarginAccount& a = accounts_[id];
    if (a.closed) continue;
    a.equity = equity(a, PriceBasis::Mark);
    a.maintenance = maintenance(a, PriceBasis::Mark);
    a.initial = initial(a, PriceBasis::Mark);
    double gross = 0;
    for (std::size_t i = 0; i < market_.assets.size(); ++i)
      gross += std::abs(position(a, i)) * price(i, PriceBasis::Mark, true);
    a.gross_notional = gross;
    if (a.opening_equity < 0 && gross > 0) a.opening_equity = a.equity;
    // An account with positions is liquidatable below maintenance; one without positions only
    // when its collateral no longer covers its debt (negative equity).
    a.liquidatable = (gross > 0 && a.equity < a.maintenance) || a.equity < 0;
    if (a.liquidatable) {
      if (a.flagged_since < 0) {
        a.flagged_since = step;
        // Classified when the spell starts: a liquidation that executes later (no bids, latency)
        // keeps the cause of its trigger.
        a.endogenous_at_flag = healthy_at_reference(a);
      }
      flagged_.push_back(id);
    } else {
      a.flagged_since = -1;
    }
  }
  if (flagged_.size() > 1) order_flagged();
}

void MarginEngine::order_flagged() {
  order_.clear();
  for (std::uint32_t id : flagged_) {
    const MarginAccount& a = accounts_[id];
    const double ratio = a.maintenance > 0 ? a.equity / a.maintenance : -std::numeric_limits<double>::infinity();
    order_.emplace_back(ratio, id);
  }
  std::sort(order_.begin(), order_.end());  // by ratio, then id: a deterministic start for the shuffle
  for (std::size_t b = 0; b < order_.size();) {
    std::size_t e = b + 1;
    while (e < order_.size() && order_[e].first == order_[b].first) ++e;
    for (std::size_t i = e - b; i > 1; --i) {  // Fisher-Yates within the tie, Boost's exact distribution
      boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
      std::swap(order_[b + i - 1], order_[b + pick(tie_rng_)]);
    }
    b = e;
  }
  for (std::size_t i = 0; i < order_.size(); ++i) flagged_[i] = order_[i].second;
}

}  // namespace sl
