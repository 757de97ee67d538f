#include "sim/liquidation/priority_fee_auction.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "agents/liquidator_bot.hpp"

namespace sl {

PriorityFeeAuction::PriorityFeeAuction(const PriorityFeeConfig& cfg, const Market& m)
    : cfg_(cfg),
      base_(to_fixed(cfg.base_fee_initial, 1e6)),
      floor_(to_fixed(cfg.base_fee_min, 1e6)),
      alpha_(2.0 / (cfg.vol_window_steps + 1.0)) {
  base_ = std::max(base_, floor_);
  // Before any return is seen, every bot starts from the calm-regime volatility (a scenario
  // parameter, known to all).
  for (const AssetMarket& am : m.assets) {
    var_.push_back(am.calm_step_vol * am.calm_step_vol);
    last_index_.push_back(0.0);
  }
}

void PriorityFeeAuction::observe(const Market& m) {
  for (std::size_t k = 0; k < m.assets.size(); ++k) {
    const double p = m.assets[k].index_price;
    if (p <= 0) continue;  // not published yet
    if (last_index_[k] > 0) {
      const double r = std::log(p / last_index_[k]);
      var_[k] = (1.0 - alpha_) * var_[k] + alpha_ * r * r;
    }
    last_index_[k] = p;
  }
}

Micros PriorityFeeAuction::next_base_fee(Micros base, std::int64_t bids, std::int64_t target, std::int64_t denominator, Micros floor) {
  const std::int64_t used = std::min(bids, 2 * target);  // elasticity 2: a step holds at most 2T bids' worth of gas
  Micros next = base;
  // __int128: base (up to 1e15 micros) x (used - T) must not overflow before the divisions.
  if (used > target) {
    const auto delta = static_cast<Micros>(static_cast<__int128>(base) * (used - target) / target / denominator);
    next = base + std::max<Micros>(delta, 1);
  } else if (used < target) {
    next = base - static_cast<Micros>(static_cast<__int128>(base) * (target - used) / target / denominator);
  }
  return std::max(next, floor);
}

Micros PriorityFeeAuction::base_fee(std::int64_t step) {
  while (fee_step_ < step) {
    base_ = next_base_fee(base_, bids_in_step_, cfg_.target_bids_per_step, cfg_.max_change_denominator, floor_);
    bids_in_step_ = 0;
    ++fee_step_;
    if (base_ == floor_) fee_step_ = step;  // empty steps keep it at its floor
  }
  return base_;
}

double PriorityFeeAuction::expected_move(const LiquidationContext& ctx, const MarginAccount& acc, double horizon_steps) const {
  // E|X| = sigma sqrt(2 / pi) for a centred normal X; per asset, the position's value at mark times
  // the log-return volatility over the horizon.
  constexpr double kMeanAbsNormal = 0.7978845608028654;  // sqrt(2 / pi)
  double move = 0.0;
  for (std::size_t k = 0; k < ctx.market.assets.size(); ++k) {
    const AssetMarket& am = ctx.market.assets[k];
    const double q = std::abs(from_micros(ctx.market.ledger.balance(acc.account, am.perp_asset)));
    if (q == 0) continue;
    move += q * am.mark_or_reference() * std::sqrt(var_[k] * horizon_steps);
  }
  return kMeanAbsNormal * move;
}

Liquidator PriorityFeeAuction::choose(LiquidationContext& ctx, const MarginAccount& acc, double expected_reward, int protocol_fallback_steps) {
  Ledger& L = ctx.market.ledger;
  const Market& mk = ctx.market;
  const AssetId q = mk.quote_asset;
  const Micros base = base_fee(ctx.step);
  const std::size_t n = ctx.bots.size();
  // The seeded order that breaks exact ties (the liquidation stream, as the single-class choice).
  order_.resize(n);
  for (std::size_t i = 0; i < n; ++i) order_[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(order_[i - 1], order_[pick(ctx.rng)]);
  }
  entrants_.clear();
  const double move_per_sqrt_step = expected_move(ctx, acc, 1.0);
  for (std::size_t k = 0; k < n; ++k) {
    LiquidatorBot& bot = ctx.bots[order_[k]];
    if (!bot.sees(acc, ctx.step, mk.liquidator_latency_multiplier)) continue;
    const LiquidatorConfig& c = bot.config();
    const Micros tx = to_fixed(bot.tx_cost(mk.liquidator_cost_multiplier), 1e6);
    const Micros gas = tx + base;
    const double horizon = static_cast<double>(bot.latency(mk.liquidator_latency_multiplier) + 1);
    const double risk = c.price_risk_share * move_per_sqrt_step * std::sqrt(horizon);
    const double surplus = expected_reward - from_micros(gas) - risk - c.min_profit;
    if (!(surplus > 0)) continue;  // not worth it: it does not come
    const Micros cash = L.balance(bot.account(), q);
    if (cash < gas) continue;      // cannot pay for its transaction
    // u = min + (max - min) x U[0, 1): one draw per entrant whatever the class's interval (Boost's
    // uniform_real_distribution(a, a) never returns, its results lie in [a, b)).
    boost::random::uniform_real_distribution<double> unit(0.0, 1.0);
    const double u = c.bid_share_min + (c.bid_share_max - c.bid_share_min) * unit(bot.rng());
    const Micros fee = std::min<Micros>(static_cast<Micros>(std::floor(u * surplus * 1e6)), cash - gas);
    entrants_.push_back({order_[k], std::max<Micros>(0, fee), tx});
  }
  bids_in_step_ += static_cast<std::int64_t>(entrants_.size());
  totals_.bids += static_cast<std::int64_t>(entrants_.size());
  if (entrants_.empty()) return protocol_fallback(ctx, acc, protocol_fallback_steps);
  ++totals_.auctions;
  if (entrants_.size() > 1) ++totals_.contested;
  const Entrant* win = &entrants_[0];
  for (const Entrant& e : entrants_)
    if (e.fee > win->fee) win = &e;  // strictly higher: an exact tie stays with the earlier in the seeded order
  LiquidatorBot& bot = ctx.bots[win->bot];
  if (win->gas_tx > 0) L.transfer(bot.account(), ctx.accounts.network_fees, q, win->gas_tx);
  if (base > 0) L.transfer(bot.account(), ctx.accounts.network_fees, q, base);
  const double capture_share = cfg_.fee_capture_share;
  const Micros captured = static_cast<Micros>(std::llround(static_cast<double>(win->fee) * capture_share));
  if (captured > 0) L.transfer(bot.account(), ctx.accounts.insurance_fund, q, captured);
  if (win->fee - captured > 0) L.transfer(bot.account(), ctx.accounts.network_fees, q, win->fee - captured);
  totals_.base_fees += base;
  totals_.priority_fees += win->fee;
  totals_.captured += captured;
  Liquidator out;
  out.agent_id = bot.agent_id();
  out.account = bot.account();
  out.found = true;
  return out;
}

}  // namespace sl
