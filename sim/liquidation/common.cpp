#include "sim/liquidation/common.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/priority_fee_auction.hpp"

namespace sl {

Liquidator protocol_fallback(LiquidationContext& ctx, const MarginAccount& acc, int protocol_fallback_steps) {
  Liquidator out;
  if (protocol_fallback_steps >= 0 && acc.flagged_since >= 0 && ctx.step - acc.flagged_since >= protocol_fallback_steps) {
    out.agent_id = -1;
    out.account = ctx.accounts.protocol;
    out.found = true;
    const AssetId q = ctx.market.quote_asset;
    const Micros cost = std::min(ctx.protocol_fallback_cost, std::max<Micros>(0, ctx.market.ledger.balance(ctx.accounts.insurance_fund, q)));
    if (cost > 0) ctx.market.ledger.transfer(ctx.accounts.insurance_fund, ctx.accounts.network_fees, q, cost);
  }
  return out;
}

double expected_penalty_reward(const LiquidationContext& ctx, const MarginAccount& acc, const LiquidationConfig& cfg) {
  double expected_penalty = acc.gross_notional * cfg.close_factor * cfg.penalty_bps * 1e-4;
  if (ctx.fee_auction != nullptr) expected_penalty = std::min(expected_penalty, std::max(0.0, ctx.margin.equity(acc, PriceBasis::Mark)));
  return expected_penalty * cfg.liquidator_share;
}

Liquidator choose_liquidator(LiquidationContext& ctx, const MarginAccount& acc, double expected_reward, int protocol_fallback_steps) {
  if (ctx.fee_auction != nullptr) return ctx.fee_auction->choose(ctx, acc, expected_reward, protocol_fallback_steps);
  Liquidator out;
  const std::size_t n = ctx.bots.size();
  // A seeded random order per decision (ties between bots broken by the liquidation stream), over
  // every bot. The scratch array is per thread (runs execute on worker threads) and only grows, so
  // a decision allocates nothing once it has seen the scenario's bot count.
  thread_local std::vector<std::size_t> order;
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(order[i - 1], order[pick(ctx.rng)]);
  }
  const Market& mk = ctx.market;
  for (std::size_t k = 0; k < n; ++k) {
    LiquidatorBot& bot = ctx.bots[order[k]];
    if (!bot.sees(acc, ctx.step, mk.liquidator_latency_multiplier)) continue;
    if (!bot.worth_it(expected_reward, mk.liquidator_cost_multiplier, mk.ledger, mk.quote_asset)) continue;
    const Micros cost = to_fixed(bot.tx_cost(mk.liquidator_cost_multiplier), 1e6);
    ctx.market.ledger.transfer(bot.account(), ctx.accounts.network_fees, mk.quote_asset, cost);
    out.agent_id = bot.agent_id();
    out.account = bot.account();
    out.found = true;
    return out;
  }
  return protocol_fallback(ctx, acc, protocol_fallback_steps);
}

bool has_positions(const LiquidationContext& ctx, const MarginAccount& acc) {
  for (const AssetMarket& am : ctx.market.assets)
    if (ctx.market.ledger.balance(acc.account, am.perp_asset) != 0) return true;
  return false;
}

CloseResult close_via_book(LiquidationContext& ctx, MarginAccount& acc, std::size_t asset, double fraction) {
  CloseResult r;
  AssetMarket& am = ctx.market.assets[asset];
  Venue& v = *am.perp;
  const Micros held = ctx.market.ledger.balance(acc.account, am.perp_asset);
  if (held == 0) return r;
  const Lots pos_lots = std::abs(held) / v.spec().lot_micros;
  if (pos_lots == 0) return r;  // dust below one lot cannot be traded
  const Lots lots = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * fraction)), 1, pos_lots);
  const Side side = held > 0 ? Side::Sell : Side::Buy;
  const SubmitResult s = v.market(acc.account, side, lots);
  r.qty = v.lots_to_qty(s.filled);
  r.notional_micros = v.last_notional();
  r.notional = from_micros(r.notional_micros);
  r.avg_price = r.qty > 0 ? r.notional / r.qty : 0.0;
  return r;
}

Micros charge_penalty(LiquidationContext& ctx, MarginAccount& acc, Micros notional_micros, double penalty_bps,
                      double liquidator_share, const Liquidator& liq) {
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  const Micros wanted = static_cast<Micros>(std::llround(static_cast<double>(notional_micros) * penalty_bps * 1e-4));
  const double eq = ctx.margin.equity(acc, PriceBasis::Mark);
  const Micros cap = eq > 0 ? static_cast<Micros>(std::floor(eq * 1e6)) : 0;
  const Micros penalty = std::max<Micros>(0, std::min(wanted, cap));
  if (penalty == 0) return 0;
  const Micros to_liq = liq.agent_id >= 0 ? static_cast<Micros>(std::llround(static_cast<double>(penalty) * liquidator_share)) : 0;
  L.transfer(acc.account, ctx.accounts.insurance_fund, q, penalty - to_liq);
  if (to_liq > 0) L.transfer(acc.account, liq.account, q, to_liq);
  return penalty;
}

DeficitResult settle_deficit(LiquidationContext& ctx, MarginAccount& acc, FundCredit* credit) {
  DeficitResult d;
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  // Collateral conversion: while the quote balance is negative, sell spot collateral into the spot
  // book, only what covers the deficit (Binance's auto-exchange of a negative balance converts the
  // amount needed, not the holding) and only at bids at or above its collateral value, index x
  // (1 - haircut): below that the fund's takeover (next) pays the account more. Whole lots, the
  // proceeds counted net of the taker fee, level by level from the best bid.
  for (AssetMarket& am : ctx.market.assets) {
    const Micros bal = L.balance(acc.account, q);
    if (bal >= 0) break;
    Venue& v = *am.spot;
    const Lots have = L.balance(acc.account, am.spot_asset) / v.spec().lot_micros;
    if (have <= 0) continue;
    const double floor_px = am.index_or_reference() * (1.0 - am.collateral_haircut);
    Lots lots = 0;
    Micros proceeds = 0;
    v.book().for_each_level(Side::Buy, std::numeric_limits<std::size_t>::max(), [&](Tick px, Lots avail) {
      if (v.ticks_to_price(static_cast<double>(px)) < floor_px) return false;
      const Micros n1 = v.notional(px, 1);
      const Micros net1 = n1 - v.fee(n1, false);  // per lot; the fills' own fee rounding may differ by micros
      if (net1 <= 0) return false;
      const Lots need = static_cast<Lots>((-bal - proceeds + net1 - 1) / net1);
      const Lots k = std::min({avail, have - lots, need});
      lots += k;
      proceeds += k * net1;
      return proceeds < -bal && lots < have;
    });
    if (lots > 0) v.market(acc.account, Side::Sell, lots);
  }
  const AccountId F = ctx.accounts.insurance_fund;
  // Spot the books could not absorb: the insurance fund takes it over at the account's collateral
  // value, index x (1 - haircut), what the margin engine credited the account for it, as much of it
  // as covers the deficit (as under `market` and `socialized`, where the fund takes a whole account,
  // spot included). The account's equity is unchanged by the takeover; the haircut is the user's
  // loss (collateral_haircut). The fund's equity does not fall (it receives spot worth the index
  // for index x (1 - haircut)), so a fund with a credit may borrow what its cash lacks; without one
  // it buys only what its cash pays. The fund unwinds the spot into the book in later steps.
  for (AssetMarket& am : ctx.market.assets) {
    const Micros bal = L.balance(acc.account, q);
    if (bal >= 0) break;
    const Micros spot = L.balance(acc.account, am.spot_asset);
    const double index = am.index_or_reference();
    const double px = index * (1.0 - am.collateral_haircut);  // quote per unit = micro-quote per micro-unit
    if (spot <= 0 || !(px > 0)) continue;
    const Micros cash = std::max<Micros>(0, L.balance(F, q));
    Micros units = std::min<Micros>(spot, static_cast<Micros>(std::ceil(static_cast<double>(-bal) / px)));
    if (credit == nullptr) units = std::min<Micros>(units, static_cast<Micros>(std::floor(static_cast<double>(cash) / px)));
    // The fund pays the units' value rounded down, at most the deficit: it never pays more than it gets.
    const Micros pay = std::min<Micros>(-bal, static_cast<Micros>(std::floor(static_cast<double>(units) * px)));
    if (units <= 0 || pay <= 0) continue;
    const Micros lent = pay - std::min(pay, cash);
    if (lent > 0) {  // only with a credit (units were capped at the cash otherwise)
      L.transfer(ctx.accounts.bad_debt, F, q, lent);
      credit->borrowed += lent;
    }
    L.transfer(acc.account, F, am.spot_asset, units);
    L.transfer(F, acc.account, q, pay);
    d.spot_taken_over += from_micros(units) * index;
    d.collateral_haircut += from_micros(units) * index * am.collateral_haircut;
  }
  const Micros bal = L.balance(acc.account, q);
  if (bal >= 0) return d;
  const Micros deficit = -bal;
  d.insurance_paid = fund_pay(ctx, credit, acc.account, deficit);
  d.bad_debt = deficit - d.insurance_paid;
  if (d.bad_debt > 0) {
    L.transfer(ctx.accounts.bad_debt, acc.account, q, d.bad_debt);
    if (credit != nullptr) credit->mark_exhausted(ctx.step);
  }
  return d;
}

Micros fund_pay(LiquidationContext& ctx, FundCredit* credit, AccountId to, Micros want) {
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  const AccountId F = ctx.accounts.insurance_fund;
  const Micros cash = std::max<Micros>(0, L.balance(F, q));
  // What the fund can pay without its equity falling below -limit.
  const Micros room = credit != nullptr ? insurance_fund_equity(ctx.market, F, credit->borrowed) + credit->limit : cash;
  const Micros paid = std::min(want, std::max<Micros>(0, room));
  const Micros lent = paid - std::min(paid, cash);
  if (lent > 0) {  // only with a credit: room > cash
    L.transfer(ctx.accounts.bad_debt, F, q, lent);
    credit->borrowed += lent;
  }
  if (paid > 0) L.transfer(F, to, q, paid);
  return paid;
}

DeficitResult close_flat_account(LiquidationContext& ctx, MarginAccount& acc, FundCredit* credit,
                                 LiquidationStepStats& stats) {
  const DeficitResult d = settle_deficit(ctx, acc, credit);
  stats.bad_debt += from_micros(d.bad_debt);
  stats.collateral_haircut += d.collateral_haircut;
  stats.spot_taken_over += d.spot_taken_over;
  acc.closed = true;
  return d;
}

void mark_deficit(LiquidationEvent& last, const DeficitResult& d) {
  if (d.insurance_paid > 0) last.policy_path += ">insurance";
  if (d.bad_debt > 0) last.policy_path += ">bad_debt";
  last.bad_debt = from_micros(d.bad_debt);
}

}  // namespace sl
