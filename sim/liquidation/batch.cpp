// `batch` policy: sealed-bid uniform-price batch auctions (model.md section 5).
//
// Pooling. At the step an account is flagged (not closed, not already in liquidation) it joins the
// pool: for every perpetual position, close_factor x the position in lots (rounded to nearest, at
// least one lot, at most the position, as close_via_book) goes into the pool of that asset and side
// (LONG positions: lots to sell; SHORT positions: lots to buy back), and the account is marked
// in_liquidation. No keeper is needed: the protocol runs the batch. An account holding only dust
// (< 1 lot) joins nothing; one with no position at all is settled at once (deficit, closed).
//
// Batches. At every step with step % batch_interval_steps == batch_interval_steps - 1 (interval
// <= 0 is treated as 1) each non-empty pool is cleared, asset by asset, long pool then short pool.
// Before clearing, each account's pooled lots are capped at the position it still holds in that
// direction. Q = the pool's total lots.
//   Bids for a LONG pool (offers for a SHORT pool, mirrored):
//   * Each liquidator bot: walks the current perp book's bids (asks) for Q lots; D = the lots that
//     depth can take (<= Q), N = their notional. Its limit price = (N - tx_cost) / D per lot,
//     rounded DOWN to a tick (offers: (N + tx_cost) / D rounded UP): the average price at which it
//     could resell the whole quantity, less its transaction cost per unit. Quantity: min(D, what its
//     capital pays: (quote balance - tx_cost) / price, rounded down). tx_cost includes the
//     congestion multiplier; min_profit and latency are not used (sealed bids, no race).
//   * Each market maker quoting the asset's perp (ctx.perp_maker_accounts): for every visible level
//     of the perp bids (asks), best first, a bid at that level's price for
//     floor(level qty x mm_bid_share / n_makers) lots, until its bids add up to Q; on the long side
//     also capped by its quote balance (a maker pays cash for the contracts it takes).
//   * Bots come in a seeded random order (ctx.rng), then makers; this order only breaks exact ties
//     of remainders in the pro-rata split of the marginal price level (sim/book/batch_clearing.hpp).
// Clearing: sim/book/batch_clearing.hpp: price priority, pro rata at the marginal level, one uniform price
// = the lowest accepted bid (highest accepted offer). Unfilled lots stay in the pool for the next
// batch (no fallback: a pool nobody bids on waits).
// Settlement (off-book, no venue fees): the filled lots are allocated to the pooled accounts pro rata
// to their pooled lots (largest remainder, ties to the earlier entry), then accounts and winners
// are paired in order (accounts in pool order, winners in clearing order) and each pair exchanges
// contracts for cash at the uniform price (ledger transfers). Each winning bot pays its tx_cost
// once per pool it wins in (to network_fees) and calls note_inventory(): its act() unwinds the
// contracts on the book later.
// Penalty: penalty_bps of the account's filled notional, capped at its remaining equity at mark
// (the same formula as charge_penalty). liquidator_share of the part of the penalty that matches
// the notional bots took goes to those bots pro rata to their notional (largest remainder); the
// rest, and everything matching makers' fills, goes to the insurance fund.
// Events: one LiquidationEvent per account per batch fill (policy_path "batch", price = the uniform
// price, liquidator = the bot that took most of this account's lots, -1 if makers only,
// steps_to_complete = batch step - first flagged step). When an account's pooled lots are all done
// it leaves in_liquidation; with no position left, settle_deficit and closed = true (">insurance",
// ">bad_debt" appended to its last event). With close_factor < 1 it may be flagged and pooled again.
#include <algorithm>
#include <array>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <unordered_map>

#include "agents/liquidator_bot.hpp"
#include "sim/book/batch_clearing.hpp"
#include "sim/liquidation/common.hpp"

namespace sl {

namespace {

struct PoolEntry {
  std::uint32_t margin_id = 0;
  Lots remaining = 0;
  std::int64_t flagged_since = 0;
  bool endogenous = false;
};

class BatchPolicy final : public LiquidationPolicy {
 public:
  explicit BatchPolicy(const LiquidationConfig& cfg) : cfg_(cfg) {}
  const char* name() const override { return "batch"; }

  void on_step(LiquidationContext& ctx) override {
    if (pools_.size() < ctx.market.assets.size()) pools_.resize(ctx.market.assets.size());
    for (std::uint32_t id : ctx.margin.flagged()) {
      MarginAccount& acc = ctx.margin.account(id);
      if (acc.closed || acc.in_liquidation) continue;
      join(ctx, id);
    }
    const std::int64_t interval = std::max(1, cfg_.batch.batch_interval_steps);
    if (ctx.step % interval != interval - 1) return;
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i)
      for (int side = 0; side < 2; ++side) clear_pool(ctx, i, side == 0);
  }

 private:
  void join(LiquidationContext& ctx, std::uint32_t id) {
    MarginAccount& acc = ctx.margin.account(id);
    bool pooled = false;
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const AssetMarket& am = ctx.market.assets[i];
      const Micros held = ctx.market.ledger.balance(acc.account, am.perp_asset);
      const Lots pos_lots = std::abs(held) / am.perp->spec().lot_micros;
      if (pos_lots == 0) continue;
      const Lots lots = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, pos_lots);
      pools_[i][held > 0 ? 0 : 1].push_back({id, lots, acc.flagged_since >= 0 ? acc.flagged_since : ctx.step, acc.endogenous_at_flag});
      if (outstanding_.size() <= id) outstanding_.resize(id + 1, 0);
      ++outstanding_[id];
      pooled = true;
    }
    if (pooled) {
      acc.in_liquidation = true;
    } else if (!has_positions(ctx, acc)) {  // flagged with no position: only its deficit is left
      const DeficitResult d = settle_deficit(ctx, acc);
      stats_.bad_debt += from_micros(d.bad_debt);
      acc.closed = true;
    }
  }

  // Sealed bids (offers when !sell) for q lots of asset i; bidder ids: bots 0..nb-1, makers nb+j.
  std::vector<SealedBid> collect_bids(LiquidationContext& ctx, std::size_t asset, bool sell, Lots q) {
    std::vector<SealedBid> bids;
    Market& mk = ctx.market;
    const Venue& v = *mk.assets[asset].perp;
    const Micros per_tick_lot = v.spec().quote_micros_per_tick_lot;
    const Side book_side = sell ? Side::Buy : Side::Sell;  // where the winner would unwind
    // Depth the bots would unwind into: D lots, notional N.
    Lots depth = 0;
    Micros notional = 0;
    v.book().for_each_level(book_side, static_cast<std::size_t>(-1), [&](Tick px, Lots lq) {
      const Lots take = std::min(lq, q - depth);
      depth += take;
      notional = checked_add(notional, v.notional(px, take));
      return depth < q;
    });
    const std::size_t nb = ctx.bots.size();
    std::vector<std::size_t> order(nb);
    for (std::size_t k = 0; k < nb; ++k) order[k] = k;
    for (std::size_t k = nb; k > 1; --k) {
      boost::random::uniform_int_distribution<std::size_t> pick(0, k - 1);
      std::swap(order[k - 1], order[pick(ctx.rng)]);
    }
    if (depth > 0) {
      for (std::size_t k : order) {
        const LiquidatorBot& bot = ctx.bots[k];
        const Micros tx = to_fixed(bot.tx_cost(mk.liquidator_cost_multiplier), 1e6);
        const Micros denom = checked_mul(depth, per_tick_lot);
        Tick px;
        if (sell) {
          const Micros net = notional - tx;
          px = net > 0 ? net / denom : 0;
        } else {
          px = (notional + tx + denom - 1) / denom;
        }
        if (px <= 0) continue;
        const Micros bal = mk.ledger.balance(bot.account(), mk.quote_asset);
        const Lots cap = bal > tx ? (bal - tx) / checked_mul(px, per_tick_lot) : 0;
        const Lots lots = std::min(depth, cap);
        if (lots > 0) bids.push_back({static_cast<std::int32_t>(k), px, lots});
      }
    }
    const std::vector<AccountId>& makers = asset < ctx.perp_maker_accounts.size() ? ctx.perp_maker_accounts[asset] : std::vector<AccountId>{};
    const double share = cfg_.batch.mm_bid_share;
    if (!makers.empty() && share > 0) {
      const double n = static_cast<double>(makers.size());
      std::vector<Lots> bid_so_far(makers.size(), 0);
      std::vector<Micros> budget(makers.size(), 0);
      for (std::size_t j = 0; j < makers.size(); ++j) budget[j] = std::max<Micros>(0, mk.ledger.balance(makers[j], mk.quote_asset));
      v.book().for_each_level(book_side, static_cast<std::size_t>(-1), [&](Tick px, Lots lq) {
        const Lots per = static_cast<Lots>(std::floor(static_cast<double>(lq) * share / n + 1e-9));
        if (per <= 0) return true;
        bool more = false;
        for (std::size_t j = 0; j < makers.size(); ++j) {
          Lots lots = std::min(per, q - bid_so_far[j]);
          if (sell) lots = std::min(lots, budget[j] / checked_mul(px, per_tick_lot));
          if (lots <= 0) continue;
          if (sell) budget[j] -= v.notional(px, lots);
          bid_so_far[j] += lots;
          bids.push_back({static_cast<std::int32_t>(nb + j), px, lots});
          if (bid_so_far[j] < q) more = true;
        }
        return more;
      });
    }
    return bids;
  }

  void clear_pool(LiquidationContext& ctx, std::size_t asset, bool sell) {
    std::vector<PoolEntry>& pool = pools_[asset][sell ? 0 : 1];
    if (pool.empty()) return;
    Market& mk = ctx.market;
    Ledger& L = mk.ledger;
    AssetMarket& am = mk.assets[asset];
    const Venue& v = *am.perp;
    const Micros lot = v.spec().lot_micros;
    // Cap each entry at what the account still holds in that direction.
    Lots q = 0;
    for (PoolEntry& e : pool) {
      const Micros held = L.balance(ctx.margin.account(e.margin_id).account, am.perp_asset);
      const Lots have = sell ? (held > 0 ? held / lot : 0) : (held < 0 ? -held / lot : 0);
      e.remaining = std::min(e.remaining, have);
      q += e.remaining;
    }
    if (q > 0) {
      const std::vector<SealedBid> bids = collect_bids(ctx, asset, sell, q);
      const ClearingResult cr = sell ? clear_sell(q, bids) : clear_buy(q, bids);
      if (cr.filled > 0) settle(ctx, asset, sell, pool, cr);
    }
    // Accounts whose pooled lots are done leave the pool.
    std::vector<PoolEntry> kept;
    for (const PoolEntry& e : pool) {
      if (e.remaining > 0) {
        kept.push_back(e);
        continue;
      }
      if (--outstanding_[e.margin_id] > 0) continue;
      MarginAccount& acc = ctx.margin.account(e.margin_id);
      acc.in_liquidation = false;
      if (has_positions(ctx, acc)) continue;
      const DeficitResult d = settle_deficit(ctx, acc);
      if (auto it = last_event_.find(e.margin_id); it != last_event_.end() && it->second < ctx.events.size()) {
        LiquidationEvent& ev = ctx.events[it->second];
        if (d.insurance_paid > 0) ev.policy_path += ">insurance";
        if (d.bad_debt > 0) ev.policy_path += ">bad_debt";
        ev.bad_debt = from_micros(d.bad_debt);
      }
      stats_.bad_debt += from_micros(d.bad_debt);
      acc.closed = true;
    }
    pool.swap(kept);
  }

  void settle(LiquidationContext& ctx, std::size_t asset, bool sell, std::vector<PoolEntry>& pool, const ClearingResult& cr) {
    Market& mk = ctx.market;
    Ledger& L = mk.ledger;
    AssetMarket& am = mk.assets[asset];
    const Venue& v = *am.perp;
    const Micros lot = v.spec().lot_micros;
    const std::size_t nb = ctx.bots.size();
    auto winner_account = [&](std::int32_t b) {
      return static_cast<std::size_t>(b) < nb ? ctx.bots[static_cast<std::size_t>(b)].account()
                                              : ctx.perp_maker_accounts.at(asset).at(static_cast<std::size_t>(b) - nb);
    };
    std::vector<Lots> weights;
    for (const PoolEntry& e : pool) weights.push_back(e.remaining);
    const std::vector<Lots> alloc = allocate_largest_remainder(cr.filled, weights);
    // Pair accounts (pool order) with winners (clearing order).
    std::size_t w = 0;
    Lots w_left = cr.fills.empty() ? 0 : cr.fills[0].qty;
    const double mark = am.mark_or_reference();
    const double price = v.ticks_to_price(static_cast<double>(cr.price));
    for (std::size_t k = 0; k < pool.size(); ++k) {
      if (alloc[k] == 0) continue;
      PoolEntry& e = pool[k];
      MarginAccount& acc = ctx.margin.account(e.margin_id);
      Micros notional = 0;
      std::vector<std::pair<std::size_t, Micros>> bot_notional;  // (bot index, notional)
      Lots left = alloc[k];
      while (left > 0) {
        const Lots chunk = std::min(left, w_left);
        const AccountId winner = winner_account(cr.fills[w].bidder);
        const Micros contracts = checked_mul(chunk, lot);
        const Micros cash = v.notional(cr.price, chunk);
        if (sell) {
          L.transfer(acc.account, winner, am.perp_asset, contracts);
          L.transfer(winner, acc.account, mk.quote_asset, cash);
        } else {
          L.transfer(winner, acc.account, am.perp_asset, contracts);
          L.transfer(acc.account, winner, mk.quote_asset, cash);
        }
        notional += cash;
        if (static_cast<std::size_t>(cr.fills[w].bidder) < nb) {
          const std::size_t b = static_cast<std::size_t>(cr.fills[w].bidder);
          auto it = std::find_if(bot_notional.begin(), bot_notional.end(), [&](const auto& p) { return p.first == b; });
          if (it == bot_notional.end()) bot_notional.emplace_back(b, cash); else it->second += cash;
        }
        left -= chunk;
        w_left -= chunk;
        if (w_left == 0 && ++w < cr.fills.size()) w_left = cr.fills[w].qty;
      }
      e.remaining -= alloc[k];
      const Micros penalty = charge_batch_penalty(ctx, acc, notional, bot_notional);
      LiquidationEvent ev;
      ev.step = ctx.step;
      ev.account = acc.account;
      ev.agent_type = owner_kind_name(ctx, acc);
      ev.policy_path = "batch";
      ev.notional = from_micros(notional);
      ev.price = price;
      ev.mark = mark;
      ev.slippage_bps = slippage_bps(sell, price, mark);
      ev.penalty = from_micros(penalty);
      ev.liquidator = -1;
      Micros best = 0;
      for (const auto& [b, n] : bot_notional)
        if (n > best) {
          best = n;
          ev.liquidator = ctx.bots[b].agent_id();
        }
      ev.steps_to_complete = static_cast<std::int32_t>(ctx.step - e.flagged_since);
      ev.endogenous = e.endogenous;
      last_event_[e.margin_id] = ctx.events.size();
      ctx.events.push_back(ev);
      ++stats_.count;
      stats_.notional += ev.notional;
    }
    // Winning bots pay their transaction cost once and will unwind what they took.
    for (const BidderFill& f : cr.fills) {
      if (static_cast<std::size_t>(f.bidder) >= nb) continue;
      LiquidatorBot& bot = ctx.bots[static_cast<std::size_t>(f.bidder)];
      const Micros tx = to_fixed(bot.tx_cost(mk.liquidator_cost_multiplier), 1e6);
      if (tx > 0) L.transfer(bot.account(), ctx.accounts.network_fees, mk.quote_asset, tx);
      bot.note_inventory();
    }
  }

  // penalty_bps x notional capped at the account's equity at mark (as charge_penalty); the
  // liquidator share of the bots' part of it to the bots pro rata, the rest to the insurance fund.
  Micros charge_batch_penalty(LiquidationContext& ctx, MarginAccount& acc, Micros notional,
                              const std::vector<std::pair<std::size_t, Micros>>& bot_notional) {
    Ledger& L = ctx.market.ledger;
    const AssetId q = ctx.market.quote_asset;
    const Micros wanted = static_cast<Micros>(std::llround(static_cast<double>(notional) * cfg_.penalty_bps * 1e-4));
    const double eq = ctx.margin.equity(acc, PriceBasis::Mark);
    const Micros cap = eq > 0 ? static_cast<Micros>(std::floor(eq * 1e6)) : 0;
    const Micros penalty = std::max<Micros>(0, std::min(wanted, cap));
    if (penalty == 0 || notional == 0) return 0;
    Micros bot_total = 0;
    std::vector<Lots> weights;
    for (const auto& [b, n] : bot_notional) {
      bot_total += n;
      weights.push_back(n);
    }
    const Micros to_bots = static_cast<Micros>(std::llround(static_cast<double>(penalty) * cfg_.liquidator_share *
                                                            static_cast<double>(bot_total) / static_cast<double>(notional)));
    const std::vector<Lots> split = allocate_largest_remainder(to_bots, weights);
    if (penalty - to_bots > 0) L.transfer(acc.account, ctx.accounts.insurance_fund, q, penalty - to_bots);
    for (std::size_t j = 0; j < bot_notional.size(); ++j)
      if (split[j] > 0) L.transfer(acc.account, ctx.bots[bot_notional[j].first].account(), q, split[j]);
    return penalty;
  }

  LiquidationConfig cfg_;
  std::vector<std::array<std::vector<PoolEntry>, 2>> pools_;  // [asset][0: longs to sell, 1: shorts to buy back]
  std::vector<int> outstanding_;                              // pool entries per margin account id
  std::unordered_map<std::uint32_t, std::size_t> last_event_;  // margin id -> index of its latest event
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_batch_policy(const LiquidationConfig& cfg) { return std::make_unique<BatchPolicy>(cfg); }

}  // namespace sl
