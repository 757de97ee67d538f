// The venue's liquidation order on the perp book, as Binance's liquidation engine sends it
// (model.md section 9, "Binance liquidation"), shared by every policy that closes an account on the
// book: `market` (its whole mechanism), `batch` (its `batch>book` fallback for accounts whose
// reserve the batch missed) and `delta_neutral` (the perp positions it does not hedge). Issue #12:
// the protocol's book close must be one mechanism in every policy, so that no policy wins or loses
// the comparison because of how its own copy was written.
//
// liquidate_on_book(), per requested (asset, lots):
// - perp.liquidation.market_order "ioc_bankruptcy" (default): an IOC for `lots` limited at the
//   account's bankruptcy price in that asset p_b (MarginEngine::bankruptcy_price at this step's
//   marks, recomputed before each order): a sell fills only at or above p_b (limit tick =
//   ceil(p_b / tick)), a buy only at or below it (floor(p_b / tick)); the rest is cancelled. p_b <= 0
//   for a long (no positive price makes its equity 0) sends an unlimited sell; for a short no order
//   can fill and none is sent.
// - "market" (V1): an unlimited market order for `lots` (an empty side fills nothing).
// Of each fill the user pays penalty_bps (charge_penalty: capped at its equity at mark,
// liquidator_share to the liquidator, all to the fund when the venue's engine acts); one event per
// filled order with the caller's path.
// Then, under "ioc_bankruptcy", when some order left part of its lots unfilled and the account still
// holds contracts, the insurance fund takes over everything it holds at the bankruptcy prices
// (FundAbsorber::absorb with the caller's fund: the fund carries the loss down to its floor
// -fund_borrow_limit, the shortfall is auto-deleveraged against the ADL queue at the bankruptcy
// price, the rest is bad debt); the account is closed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/liquidation/common.hpp"

namespace sl {

class FundAbsorber;

// One liquidation order: `lots` of the account's position in `asset` (closing direction from the
// sign of the position). `filled` is set by liquidate_on_book.
struct BookOrder {
  std::size_t asset = 0;
  Lots lots = 0;
  Lots filled = 0;
};

struct BookLiquidationTerms {
  bool ioc_at_bankruptcy = true;       // market_order "ioc_bankruptcy" (false: "market", V1)
  double penalty_bps = 0.0;
  double liquidator_share = 0.0;
  Liquidator liquidator;               // agent_id -1: the venue's engine (whole penalty to the fund)
  const char* path = "market";         // the fills' events
  std::int64_t flagged_since = -1;     // for steps_to_complete (-1: the account's own)
  bool endogenous = false;
};

struct BookLiquidationResult {
  bool unfilled = false;     // some order left lots unfilled
  bool taken_over = false;   // the fund took the account over (it is closed)
  std::int64_t last_fill_event = -1;  // index in ctx.events of the last fill's event, -1 if none
};

// true when market_order is "ioc_bankruptcy" (the default), false for "market"; anything else was
// rejected by the loader.
inline bool ioc_at_bankruptcy(const LiquidationConfig& cfg) { return cfg.market_order != "market"; }

// The IOC's limit tick at the bankruptcy price p_b; 0 = no order can fill (send none).
Tick bankruptcy_limit_tick(const Venue& v, Side side, double p_b);

// Sends the orders (see top of file), charges the penalty, records the events, and under
// ioc_at_bankruptcy hands an account an order left partly unfilled to `fund` (must not be nullptr
// then). Allocates nothing but the events.
BookLiquidationResult liquidate_on_book(LiquidationContext& ctx, MarginAccount& acc, BookOrder* orders, std::size_t n_orders,
                                        const BookLiquidationTerms& terms, FundAbsorber* fund, LiquidationStepStats& stats);

}  // namespace sl
