#include "sim/book/venue.hpp"

#include <algorithm>
#include <cmath>

namespace sl {

Venue::Venue(const VenueSpec& spec, Ledger& ledger, AccountId fee_account)
    : spec_(spec),
      ledger_(ledger),
      fee_account_(fee_account),
      book_(BookConfig{spec.max_tick, 4096, spec.self_trade_prevention}),
      maker_fee_e8_(to_fixed(spec.maker_fee_bps, 1e4)),
      taker_fee_e8_(to_fixed(spec.taker_fee_bps, 1e4)) {}

Micros Venue::fee(Micros notional, bool maker) const {
  const __int128 rate = maker ? maker_fee_e8_ : taker_fee_e8_;
  // Round half up to the micro-unit; the fee is a transfer, so rounding moves no value out of the system.
  const __int128 scaled = static_cast<__int128>(notional) * rate;
  return static_cast<Micros>((scaled + 50'000'000) / 100'000'000);
}

Tick Venue::price_to_ticks(double price) const {
  const double t = std::nearbyint(price / spec_.tick_size);
  if (!(t >= 1.0)) return 1;
  if (t > static_cast<double>(spec_.max_tick)) return spec_.max_tick;
  return static_cast<Tick>(t);
}

Lots Venue::qty_to_lots(double qty) const {
  const double l = std::nearbyint(qty / spec_.lot_size);
  return l > 0 ? static_cast<Lots>(l) : 0;
}

double Venue::mid_ticks(double fallback) const {
  const Tick b = book_.best_bid(), a = book_.best_ask();
  if (b > 0 && a > 0) return 0.5 * static_cast<double>(a + b);
  const double last = last_trade_tick_ > 0 ? static_cast<double>(last_trade_tick_) : fallback;
  if (b > 0) return std::max(static_cast<double>(b), last);
  if (a > 0) return std::min(static_cast<double>(a), last);
  return last;
}

double Venue::two_sided_mid_ticks_or(double fallback) const {
  return two_sided() ? 0.5 * static_cast<double>(book_.best_ask() + book_.best_bid()) : fallback;
}

// Checks both sides can settle, then moves quote cash, base asset (or contracts) and fees.
FillDecision Venue::settle(const Fill& f) {
  const bool taker_buys = f.taker_side == Side::Buy;
  const AccountId buyer = taker_buys ? f.taker : f.maker;
  const AccountId seller = taker_buys ? f.maker : f.taker;
  const Micros cash = notional(f.price, f.qty);
  const Micros base = checked_mul(f.qty, spec_.lot_micros);
  const Micros maker_fee = fee(cash, true);
  const Micros taker_fee = fee(cash, false);
  const Micros buyer_fee = taker_buys ? taker_fee : maker_fee;
  const Micros seller_fee = taker_buys ? maker_fee : taker_fee;
  const bool buyer_ok = ledger_.can_pay(buyer, spec_.quote_asset, checked_add(cash, buyer_fee));
  // The seller pays its fee out of the proceeds, so only the asset delivery needs checking.
  const bool seller_ok = ledger_.can_pay(seller, spec_.base_asset, base) &&
                         (ledger_.may_go_negative(seller, spec_.quote_asset) ||
                          ledger_.balance(seller, spec_.quote_asset) + cash >= seller_fee);
  const bool maker_ok = taker_buys ? seller_ok : buyer_ok;
  const bool taker_ok = taker_buys ? buyer_ok : seller_ok;
  if (!maker_ok) return FillDecision::CancelMaker;
  if (!taker_ok) return FillDecision::StopTaker;
  ledger_.transfer(buyer, seller, spec_.quote_asset, cash);
  ledger_.transfer(seller, buyer, spec_.base_asset, base);
  ledger_.transfer(buyer, fee_account_, spec_.quote_asset, buyer_fee);
  ledger_.transfer(seller, fee_account_, spec_.quote_asset, seller_fee);
  if (observer_ != nullptr) observer_->on_perp_fill(spec_.base_asset, buyer, seller, base, ticks_to_price(static_cast<double>(f.price)));
  ++stats_.trades;
  ++total_trades_;
  stats_.volume_lots += f.qty;
  total_volume_lots_ += f.qty;
  stats_.notional += cash;
  last_notional_ += cash;
  last_taker_fees_ += taker_fee;
  stats_.last_price = f.price;
  last_trade_tick_ = f.price;
  return FillDecision::Accept;
}

SubmitResult Venue::limit(AccountId account, Side side, Tick price, Lots qty, TimeInForce tif) {
  ++stats_.messages;
  ++total_messages_;
  last_notional_ = last_taker_fees_ = 0;
  return book_.limit(account, side, price, qty, tif, [this](const Fill& f) { return settle(f); });
}

SubmitResult Venue::market(AccountId account, Side side, Lots qty) {
  ++stats_.messages;
  ++total_messages_;
  last_notional_ = last_taker_fees_ = 0;
  return book_.market(account, side, qty, [this](const Fill& f) { return settle(f); });
}

bool Venue::cancel(OrderId id) {
  ++stats_.messages;
  ++total_messages_;
  return book_.cancel(id);
}

std::size_t Venue::cancel_all_of(AccountId account) {
  ++stats_.messages;
  ++total_messages_;
  return book_.cancel_all_of(account);
}

}  // namespace sl
