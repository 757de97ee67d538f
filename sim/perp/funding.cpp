#include "sim/perp/funding.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

namespace sl {

double impact_price(const OrderBook& book, Side taker_side, double notional_quote, double tick_size, double lot_size) {
  const Side walked = opposite(taker_side);  // a seller takes the bids, a buyer the asks
  if (book.empty(walked)) return 0.0;
  if (!(notional_quote > 0.0)) {
    const Tick best = walked == Side::Buy ? book.best_bid() : book.best_ask();
    return static_cast<double>(best) * tick_size;
  }
  double remaining = notional_quote;
  double filled_notional = 0.0;
  double filled_qty = 0.0;
  book.for_each_level(walked, std::numeric_limits<std::size_t>::max(), [&](Tick px, Lots qty) {
    const double price = static_cast<double>(px) * tick_size;
    const double level_qty = static_cast<double>(qty) * lot_size;
    const double level_notional = price * level_qty;
    if (level_notional >= remaining) {
      filled_notional += remaining;
      filled_qty += remaining / price;
      remaining = 0.0;
      return false;
    }
    filled_notional += level_notional;
    filled_qty += level_qty;
    remaining -= level_notional;
    return true;
  });
  return filled_qty > 0.0 ? filled_notional / filled_qty : 0.0;
}

FundingClock::FundingClock(const FundingConfig& cfg, double dt_s) : cfg_(cfg) {
  if (!(dt_s > 0.0) || !std::isfinite(dt_s)) throw std::invalid_argument("funding: dt_s must be > 0");
  if (!(cfg.interval_s > 0.0) || !std::isfinite(cfg.interval_s))
    throw std::invalid_argument("funding: interval_s must be > 0");
  per_interval_ = std::max<std::int64_t>(1, std::llround(cfg.interval_s / dt_s));
}

void FundingClock::sample(double impact_bid, double impact_ask, double index, double premium_shock) {
  // Binance's premium index (model.md section 9): P_i = [max(0, IB - I) - max(0, I - IA)] / I.
  // It is 0 whenever the index lies between the impact prices; a missing side contributes nothing
  // (its term is 0), so a swept bid side with asks above the index reads 0, not a premium.
  const bool has_bid = std::isfinite(impact_bid) && impact_bid > 0.0;
  const bool has_ask = std::isfinite(impact_ask) && impact_ask > 0.0;
  double premium = 0.0;
  if (std::isfinite(index) && index > 0.0) {
    const double rich = has_bid ? std::max(0.0, impact_bid - index) : 0.0;
    const double cheap = has_ask ? std::max(0.0, index - impact_ask) : 0.0;
    premium = (rich - cheap) / index;
  }
  last_sample_ = premium;
  // Time-weighted: the k-th sample of the interval has weight k.
  ++count_;
  weighted_sum_ += static_cast<double>(count_) * (premium + premium_shock);
}

double FundingClock::weighted_average() const {
  if (count_ == 0) return 0.0;
  const double n = static_cast<double>(count_);
  return weighted_sum_ / (n * (n + 1.0) / 2.0);
}

double FundingClock::settle_rate() {
  last_premium_ = weighted_average();
  weighted_sum_ = 0.0;
  count_ = 0;
  return funding_rate(last_premium_, cfg_);
}

double FundingClock::current_premium_estimate() const { return weighted_average(); }

double FundingClock::funding_rate(double premium, const FundingConfig& cfg) {
  const double interest = cfg.interest_bps / 1e4;
  const double clamp = cfg.interest_clamp_bps / 1e4;
  const double cap = cfg.cap_bps / 1e4;
  const double d = interest - premium;
  double f;
  if (d > clamp) f = premium + clamp;
  else if (d < -clamp) f = premium - clamp;
  else f = interest;
  return std::clamp(f, -cap, cap);
}

FundingSettlement settle_funding(Ledger& ledger, AssetId perp_asset, AssetId quote_asset, AccountId pool, double rate,
                                 double mark_price) {
  if (!std::isfinite(rate) || !std::isfinite(mark_price))
    throw std::invalid_argument("settle_funding: rate and mark price must be finite");
  if (perp_asset >= ledger.n_assets() || quote_asset >= ledger.n_assets() || pool >= ledger.n_accounts())
    throw std::invalid_argument("settle_funding: unknown asset or pool account");
  FundingSettlement out;
  if (rate == 0.0 || !(mark_price > 0.0)) return out;

  const bool longs_pay = rate > 0.0;
  const double per_contract_micro = mark_price * std::abs(rate);  // quote micro-units per contract micro-unit
  // Only the contract's holders are visited (the ledger's holder bits, in ascending account id:
  // the order a walk over every account had), so a settlement costs what the open positions cost.

  struct Receiver {
    AccountId id;
    Micros weight;       // |contracts|
    Micros amount;       // floor share, then + 1 for the largest remainders
    __int128 remainder;  // (collected * weight) mod total_weight
  };
  std::vector<Receiver> receivers;
  __int128 total_weight = 0;
  ledger.for_each_holder(perp_asset, [&](AccountId id) {
    if (id == pool) return;
    const Micros c = ledger.balance(id, perp_asset);
    if (c == 0 || (c > 0) == longs_pay) return;
    if (c == std::numeric_limits<Micros>::min()) throw std::overflow_error("settle_funding: contract balance out of range");
    const Micros w = c > 0 ? c : -c;
    receivers.push_back(Receiver{id, w, 0, 0});
    total_weight += w;
  });
  if (receivers.empty()) return out;

  // Payers -> pool.
  const Micros pool_before = ledger.balance(pool, quote_asset);
  ledger.for_each_holder(perp_asset, [&](AccountId id) {  // moves quote only, never the contract
    if (id == pool) return;
    const Micros c = ledger.balance(id, perp_asset);
    if (c == 0 || (c > 0) != longs_pay) return;
    const double abs_c = c > 0 ? static_cast<double>(c) : -static_cast<double>(c);
    const Micros owed = to_fixed(abs_c * per_contract_micro, 1.0);  // nearest, halves away from zero
    if (owed <= 0) return;
    ++out.payers;
    Micros pay = owed;
    if (!ledger.may_go_negative(id, quote_asset)) pay = std::clamp<Micros>(ledger.balance(id, quote_asset), 0, owed);
    ledger.transfer(id, pool, quote_asset, pay);
    out.collected = checked_add(out.collected, pay);
    out.shortfall = checked_add(out.shortfall, owed - pay);
  });
  if (out.collected == 0) return out;

  // Pool -> receivers, pro rata to |contracts|, largest remainder (ties: lower account id).
  Micros floor_sum = 0;
  for (Receiver& r : receivers) {
    const __int128 num = static_cast<__int128>(out.collected) * r.weight;
    r.amount = static_cast<Micros>(num / total_weight);
    r.remainder = num % total_weight;
    floor_sum += r.amount;
  }
  Micros left = out.collected - floor_sum;  // 0 <= left < receivers.size()
  if (left > 0) {
    std::vector<std::size_t> order(receivers.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      if (receivers[x].remainder != receivers[y].remainder) return receivers[x].remainder > receivers[y].remainder;
      return receivers[x].id < receivers[y].id;
    });
    for (std::size_t k = 0; k < order.size() && left > 0; ++k, --left) ++receivers[order[k]].amount;
  }
  for (const Receiver& r : receivers) {
    if (r.amount == 0) continue;
    ledger.transfer(pool, r.id, quote_asset, r.amount);
    out.distributed += r.amount;
    ++out.receivers;
  }
  if (out.distributed != out.collected || ledger.balance(pool, quote_asset) != pool_before)
    throw std::logic_error("settle_funding: distribution does not match collection");
  return out;
}

}  // namespace sl
