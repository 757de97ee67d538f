#include "sim/liquidation/book_liquidation.hpp"

#include <algorithm>
#include <cmath>

#include "sim/liquidation/fund.hpp"

namespace sl {

Tick bankruptcy_limit_tick(const Venue& v, Side side, double p_b) {
  const double t = p_b / v.spec().tick_size;
  if (side == Side::Sell) {
    if (!(p_b > 0)) return 1;  // no positive bankruptcy price: any bid
    const double up = std::ceil(t - 1e-9);
    return up > static_cast<double>(v.spec().max_tick) ? 0 : static_cast<Tick>(up);
  }
  const double down = std::floor(t + 1e-9);
  if (!(p_b > 0) || down < 1) return 0;
  return static_cast<Tick>(std::min(down, static_cast<double>(v.spec().max_tick)));
}

BookLiquidationResult liquidate_on_book(LiquidationContext& ctx, MarginAccount& acc, BookOrder* orders, std::size_t n_orders,
                                        const BookLiquidationTerms& terms, FundAbsorber* fund, LiquidationStepStats& stats) {
  BookLiquidationResult res;
  const std::int64_t since = terms.flagged_since >= 0 ? terms.flagged_since : acc.flagged_since;
  for (std::size_t k = 0; k < n_orders; ++k) {
    BookOrder& o = orders[k];
    o.filled = 0;
    AssetMarket& am = ctx.market.assets[o.asset];
    Venue& v = *am.perp;
    const Micros held = ctx.market.ledger.balance(acc.account, am.perp_asset);
    const Lots lots = std::min(o.lots, std::abs(held) / v.spec().lot_micros);
    if (lots <= 0) continue;
    const Side side = held > 0 ? Side::Sell : Side::Buy;
    const double mark = am.mark_or_reference();
    if (terms.ioc_at_bankruptcy) {
      const Tick px = bankruptcy_limit_tick(v, side, ctx.margin.bankruptcy_price(acc, o.asset));
      if (px > 0) o.filled = v.limit(acc.account, side, px, lots, TimeInForce::IOC).filled;
    } else {
      o.filled = v.market(acc.account, side, lots).filled;
    }
    if (o.filled < lots) res.unfilled = true;
    if (o.filled <= 0) continue;
    const Micros notional = v.last_notional();
    const double avg = from_micros(notional) / v.lots_to_qty(o.filled);
    const Micros penalty = charge_penalty(ctx, acc, notional, terms.penalty_bps, terms.liquidator_share, terms.liquidator);
    LiquidationEvent e;
    e.step = ctx.step;
    e.account = acc.account;
    e.agent_type = owner_kind_name(ctx, acc);
    e.policy_path = terms.path;
    e.notional = from_micros(notional);
    e.price = avg;
    e.mark = mark;
    e.slippage_bps = slippage_bps(side == Side::Sell, avg, mark);
    e.penalty = from_micros(penalty);
    e.liquidator = terms.liquidator.agent_id;
    e.steps_to_complete = static_cast<std::int32_t>(since >= 0 ? ctx.step - since : 0);
    e.endogenous = terms.endogenous;
    res.last_fill_event = static_cast<std::int64_t>(ctx.events.size());
    ctx.events.push_back(e);
    ++stats.count;
    stats.notional += e.notional;
  }
  if (terms.ioc_at_bankruptcy && res.unfilled && has_positions(ctx, acc)) {
    fund->absorb(ctx, acc, stats);  // closes the account
    fund->repay(ctx);
    res.taken_over = true;
  }
  return res;
}

}  // namespace sl
