// A venue: one order book plus settlement of every fill through the ledger. Spot and perpetual
// venues are the same type; they differ only in the base asset they settle (the spot asset, which
// may not go negative, or the perpetual contract asset, which any account may hold short).
//
// Perpetual accounting used here: a perp trade exchanges contracts for quote cash at the trade
// price, exactly like spot, except that contract balances may be negative. Equity at mark is then
// cash + contracts x mark, which equals the textbook "collateral + unrealised PnL" with the entry
// notional held in cash. It keeps every perp cash flow a plain double-entry transfer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/fixed_point.hpp"
#include "sim/book/ledger.hpp"
#include "sim/book/order_book.hpp"

namespace sl {

enum class VenueKind : std::uint8_t { Spot, Perp };

// Told of every settled fill of a venue it observes (the margin engine tracks perp entry prices).
class FillObserver {
 public:
  virtual ~FillObserver() = default;
  virtual void on_perp_fill(AssetId base_asset, AccountId buyer, AccountId seller, Micros base, double price) = 0;
};

struct VenueSpec {
  VenueKind kind = VenueKind::Spot;
  std::string name;                   // e.g. "spot:BTC"
  AssetId base_asset = 0;             // spot asset or perp contract asset
  AssetId quote_asset = 0;
  Micros lot_micros = 1000;           // base micro-units per lot
  Micros tick_micros = 100000;        // quote micro-units per tick of price
  Micros quote_micros_per_tick_lot = 100;  // notional of 1 lot at a price of 1 tick
  double tick_size = 0.1;             // quote units per tick (for conversions to decimals)
  double lot_size = 0.001;            // asset units per lot
  double maker_fee_bps = 1.0;
  double taker_fee_bps = 5.0;
  Tick max_tick = 1'000'000;
  bool self_trade_prevention = true;
};

// Per-step activity counters (reset by the kernel each step).
struct VenueStepStats {
  std::int64_t messages = 0;  // limit + market + cancel + modify requests received
  std::int64_t trades = 0;
  Lots volume_lots = 0;
  Micros notional = 0;
  Tick last_price = 0;
};

class Venue {
 public:
  Venue(const VenueSpec& spec, Ledger& ledger, AccountId fee_account);

  // Orders are placed on behalf of a ledger account (the book's owner id is the account id).
  SubmitResult limit(AccountId account, Side side, Tick price, Lots qty, TimeInForce tif = TimeInForce::GTC);
  SubmitResult market(AccountId account, Side side, Lots qty);
  bool cancel(OrderId id);
  // Cancels every resting order of the account (one message): what a venue does to an account it
  // starts liquidating. Returns the number cancelled.
  std::size_t cancel_all_of(AccountId account);
  void set_fill_observer(FillObserver* o) { observer_ = o; }

  const OrderBook& book() const { return book_; }
  const VenueSpec& spec() const { return spec_; }
  // Mid in ticks. A one-sided book has no mid: the last trade price (or `fallback` before any
  // trade) is used, bounded by the side that is present (never above the best ask nor below the
  // best bid), so a book whose bids were swept reads low, not at its ask.
  double mid_ticks(double fallback) const;
  // Mid in ticks of a two-sided book; `fallback` when either side is missing (no last-trade
  // stand-in): what the mark, the premium statistics and the market-seeing agents sample
  // (issue #14: a one-sided book's last trade is not a price anyone can trade at).
  double two_sided_mid_ticks_or(double fallback) const;
  bool two_sided() const { return book_.best_bid() > 0 && book_.best_ask() > 0; }
  Tick last_trade_tick() const { return last_trade_tick_; }
  double ticks_to_price(double ticks) const { return ticks * spec_.tick_size; }
  Tick price_to_ticks(double price) const;  // nearest tick, clamped to [1, max_tick]
  Lots qty_to_lots(double qty) const;       // nearest lot, >= 0
  double lots_to_qty(Lots lots) const { return static_cast<double>(lots) * spec_.lot_size; }
  Micros notional(Tick price, Lots qty) const { return checked_mul(checked_mul(price, qty), spec_.quote_micros_per_tick_lot); }
  Micros fee(Micros notional, bool maker) const;

  // Notional and fees settled by the most recent limit/market call (quote micro-units), so callers
  // such as liquidation policies can compute the average price they achieved.
  Micros last_notional() const { return last_notional_; }
  Micros last_taker_fees() const { return last_taker_fees_; }

  const VenueStepStats& step_stats() const { return stats_; }
  void reset_step_stats() { stats_ = VenueStepStats{}; }
  std::int64_t total_messages() const { return total_messages_; }
  std::int64_t total_trades() const { return total_trades_; }
  double total_volume_qty() const { return lots_to_qty(total_volume_lots_); }

 private:
  FillDecision settle(const Fill& f);

  VenueSpec spec_;
  Ledger& ledger_;
  AccountId fee_account_;
  OrderBook book_;
  std::int64_t maker_fee_e8_, taker_fee_e8_;  // fee rates in units of 1e-8
  VenueStepStats stats_;
  Micros last_notional_ = 0, last_taker_fees_ = 0;
  Tick last_trade_tick_ = 0;
  std::int64_t total_messages_ = 0, total_trades_ = 0;
  Lots total_volume_lots_ = 0;
  FillObserver* observer_ = nullptr;
};

}  // namespace sl
