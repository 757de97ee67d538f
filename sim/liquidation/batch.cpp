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
//   Bids for a LONG pool (offers for a SHORT pool, mirrored), every bidder from its own capacity:
//   * Each market maker quoting the asset's perp (ctx.perp_makers), first: from its OWN resting
//     quotes only (own_quote_bids, sim/liquidation/bid_valuation.hpp): for each of its bids (asks),
//     best first, floor(qty x mm_bid_share) lots at the quote's price, up to its inventory room
//     (max_inventory less its inventory, in lots) and, when it buys, its quote balance. Its quotes
//     are book depth, so the lots it bids are claimed: no bot prices its resale on them again.
//   * Each liquidator bot, in a seeded random order (ctx.rng): only if it has seen the pooled
//     accounts (its latency x the congestion multiplier, counted from each account's flag; it bids
//     for the lots of the accounts it has seen) and can pay its tx cost. Its marginal value schedule
//     is the one every liquidation bidder uses (BidSchedule, sim/liquidation/bid_valuation.hpp):
//     resale into the visible perp bids (asks) net of the taker fee, skipping the depth earlier
//     bidders of this batch claimed, then up to its inventory room valued at the deepest visible
//     level. It bids each segment at its unit value less its share F / N of the fixed cost
//     F = tx cost x congestion + min_profit (N = the schedule's lots), rounded down to a tick (offers:
//     unit cost plus the share, rounded up), until the bids at their own prices use up its capital;
//     then it claims the depth its bids price their resale on.
//   * The bid order only breaks exact ties of remainders in the pro-rata split of the marginal price
//     level (sim/book/batch_clearing.hpp).
// Clearing: sim/book/batch_clearing.hpp: price priority, pro rata at the marginal level, one uniform
// price = the lowest accepted bid (highest accepted offer). Reserve price (batch.reserve
// "bankruptcy", the default): no account is filled beyond its bankruptcy price (mark - equity at
// mark / position); while the uniform price misses a pooled account's reserve, the account whose
// reserve is furthest from it leaves this batch and the rest clears again. An account that left is
// closed by the venue's own engine on the book with the same liquidation order as the `market` policy
// (sim/liquidation/book_liquidation.hpp: IOC at the bankruptcy price; penalty to the insurance
// fund; event path "batch>book"); what the IOC leaves is taken over by the insurance fund at the
// bankruptcy price, then ADL, then bad debt ("batch>insurance", "batch>adl", ">bad_debt"), and the
// fund unwinds it at the start of later steps as under `market`. A batch in which nothing clears
// (no bid met the pool) sends every account offered in it to the same fallback: "what clears
// nothing above the reserve goes to the fund stage" (issue #12 item 2), whether or not it is past
// its bankruptcy price, as when the uniform price misses its reserve. Offered = pooled before this
// step: an account that joined in this step has had no bidding window (bots' latency counts from
// its flag) and waits for the next batch. Until 2026-12-06 a batch that filled nothing kept every
// account pooled (black_thursday_2020: 262-305 steps, past bankruptcy, through the fall); at
// f81a252 only the accounts past bankruptcy left it. An account no longer liquidatable at a batch
// leaves the pool and keeps its position. With reserve "none" lots nobody bid for stay in the pool
// for the next batch. Under market_order "market" the fallback is an unlimited market order (an
// empty side fills nothing and the lots stay pooled) and a flat account's deficit goes to the
// fund, then bad debt.
// A marginal bot filled only in part may not recover its whole fixed cost (it earns at least
// F x filled / N of it): sealed bids cannot be all-or-nothing here.
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
#include "agents/market_maker.hpp"
#include "sim/book/batch_clearing.hpp"
#include "sim/liquidation/bid_valuation.hpp"
#include "sim/liquidation/book_liquidation.hpp"
#include "sim/liquidation/common.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

struct PoolEntry {
  std::uint32_t margin_id = 0;
  Lots remaining = 0;
  std::int64_t flagged_since = 0;
  std::int64_t joined_step = 0;  // the step it joined the pool (a batch of that step is its announcement)
  bool endogenous = false;
};

class BatchPolicy final : public LiquidationPolicy {
 public:
  explicit BatchPolicy(const LiquidationConfig& cfg)
      : cfg_(cfg), fund_("adl", FundPaths{"batch>insurance", "batch>adl", "batch>haircut"}, credit_) {
    credit_.limit = fund_borrow_limit_micros(cfg);
  }
  const char* name() const override { return "batch"; }

  void on_step(LiquidationContext& ctx) override {
    if (pools_.size() < ctx.market.assets.size()) pools_.resize(ctx.market.assets.size());
    fund_.unwind(ctx, stats_);  // what the fund took over from the batch>book fallback
    for_each_new_flagged(ctx, [&](std::uint32_t id, MarginAccount&) { join(ctx, id); });
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
      pools_[i][held > 0 ? 0 : 1].push_back({id, lots, acc.flagged_since >= 0 ? acc.flagged_since : ctx.step, ctx.step, acc.endogenous_at_flag});
      if (outstanding_.size() <= id) outstanding_.resize(id + 1, 0);
      ++outstanding_[id];
      pooled = true;
    }
    if (pooled) {
      acc.in_liquidation = true;
    } else if (!has_positions(ctx, acc)) {  // flagged with no position: only its deficit is left
      close_flat_account(ctx, acc, ctx.fund, stats_);
    }
  }

  // The market maker bidder j of asset i (nullptr when the run passes none).
  static const MarketMaker* maker(const LiquidationContext& ctx, std::size_t asset, std::size_t j) {
    if (!ctx.perp_makers || asset >= ctx.perp_makers->size() || j >= (*ctx.perp_makers)[asset].size()) return nullptr;
    return (*ctx.perp_makers)[asset][j];
  }
  static std::size_t maker_count(const LiquidationContext& ctx, std::size_t asset) {
    return ctx.perp_makers && asset < ctx.perp_makers->size() ? (*ctx.perp_makers)[asset].size() : 0;
  }

  // Sealed bids (offers when !sell) for the pool of asset i; bidder ids: bots 0..nb-1, makers nb+j.
  // Makers first, from their own quotes; then the bots in a seeded order, each from its own
  // schedule over the depth the earlier bidders of this batch left unclaimed.
  void collect_bids(LiquidationContext& ctx, std::size_t asset, bool sell, const std::vector<PoolEntry>& pool) {
    bids_.clear();
    Market& mk = ctx.market;
    const Venue& v = *mk.assets[asset].perp;
    const Side book_side = sell ? Side::Buy : Side::Sell;  // where a bot resells, where a maker's quotes sit
    claims_.reset(mk.assets.size());
    Lots& claimed = claims_.on(asset, book_side);
    Lots q = 0;
    for (const PoolEntry& e : pool) q += e.remaining;
    const std::size_t nb = ctx.bots.size();
    const double share = cfg_.batch.mm_bid_share;
    for (std::size_t j = 0; j < maker_count(ctx, asset) && share > 0; ++j) {
      const MarketMaker* mm = maker(ctx, asset, j);
      const Micros cash = std::max<Micros>(0, mk.ledger.balance(mm->account(), mk.quote_asset));
      const Lots room = std::min(q, mm->inventory_room_lots(mk, sell));
      // The maker's quotes are book depth too: what it bids here no bot counts again.
      claimed += own_quote_bids(v, mm->quotes(), sell, share, room, cash, static_cast<std::int32_t>(nb + j), bids_);
    }
    order_.resize(nb);
    for (std::size_t k = 0; k < nb; ++k) order_[k] = k;
    for (std::size_t k = nb; k > 1; --k) {
      boost::random::uniform_int_distribution<std::size_t> pick(0, k - 1);
      std::swap(order_[k - 1], order_[pick(ctx.rng)]);
    }
    for (std::size_t k : order_) {
      const LiquidatorBot& bot = ctx.bots[k];
      // Latency (x the congestion multiplier): a bot bids only for the lots of accounts it has seen.
      Lots seen = 0;
      for (const PoolEntry& e : pool) {
        MarginAccount view = ctx.margin.account(e.margin_id);
        view.flagged_since = e.flagged_since;
        if (bot.sees(view, ctx.step, mk.liquidator_latency_multiplier)) seen += e.remaining;
      }
      if (seen <= 0) continue;
      if (mk.ledger.balance(bot.account(), mk.quote_asset) < to_fixed(bot.tx_cost(mk.liquidator_cost_multiplier), 1e6)) continue;
      const BidderCapacity cap = bot.capacity(mk, asset, sell, mk.liquidator_cost_multiplier);
      schedule_.build(v, sell, seen, claimed, cap);
      Lots resold = 0;
      schedule_bids(schedule_, v, sell, cap, static_cast<std::int32_t>(k), bids_, resold);
      claimed += resold;
    }
  }

  // Bankruptcy price of the entry's account for its position in `asset` (quote per asset unit):
  // the price at which its equity at mark would reach 0, the other positions at mark.
  static double bankruptcy_price(const LiquidationContext& ctx, std::size_t asset, std::uint32_t id) {
    const MarginAccount& acc = ctx.margin.account(id);
    const double pos = ctx.margin.position(acc, asset);
    const double mark = ctx.market.assets[asset].mark_or_reference();
    if (pos == 0) return mark;
    return mark - ctx.margin.equity(acc, PriceBasis::Mark) / pos;
  }

  void clear_pool(LiquidationContext& ctx, std::size_t asset, bool sell) {
    std::vector<PoolEntry>& pool = pools_[asset][sell ? 0 : 1];
    if (pool.empty()) return;
    Market& mk = ctx.market;
    Ledger& L = mk.ledger;
    AssetMarket& am = mk.assets[asset];
    const Venue& v = *am.perp;
    const Micros lot = v.spec().lot_micros;
    // Cap each entry at what the account still holds in that direction, and release an account
    // that is no longer liquidatable (as marked this step): it keeps its position, as under
    // `hierarchy` after partial takes, and joins again if flagged again. Until 2026-12-06 it stayed
    // pooled, and a batch price below its reserve sent it, healthy, to the fund at its bankruptcy
    // price (black_thursday_2020: 254 such takeovers in 37 of 50 runs, scenarios/README.md).
    Lots q = 0;
    for (PoolEntry& e : pool) {
      if (e.remaining > 0 && !ctx.margin.account(e.margin_id).liquidatable) e.remaining = 0;
      const Micros held = L.balance(ctx.margin.account(e.margin_id).account, am.perp_asset);
      const Lots have = sell ? (held > 0 ? held / lot : 0) : (held < 0 ? -held / lot : 0);
      e.remaining = std::min(e.remaining, have);
      q += e.remaining;
    }
    if (q > 0) {
      collect_bids(ctx, asset, sell, pool);
      // Reserve price: no account is filled beyond its bankruptcy price. While the uniform price
      // misses some pooled account's reserve, the account whose reserve is furthest from the
      // price leaves this batch for the fallback, and the rest clears again (fewer lots can only
      // move the uniform price towards the remaining reserves).
      std::vector<char>& out = out_;
      out.assign(pool.size(), 0);
      ClearingResult cr;
      for (;;) {
        Lots left = 0;
        for (std::size_t k = 0; k < pool.size(); ++k)
          if (!out[k]) left += pool[k].remaining;
        cr = sell ? clear_sell(left, bids_) : clear_buy(left, bids_);
        if (cfg_.batch.reserve == "none") break;
        if (cr.filled == 0) {
          // Nothing cleared above any reserve: every account offered in this batch leaves for the
          // fallback, solvent or not, as one whose reserve the uniform price missed does. Offered:
          // pooled before this step; an account that joined in this step's flagging has had no
          // bidding window yet (bots' latency), so it waits for the next batch.
          for (std::size_t k = 0; k < pool.size(); ++k)
            if (pool[k].remaining > 0 && pool[k].joined_step < ctx.step) out[k] = 1;
          break;
        }
        const double price = v.ticks_to_price(static_cast<double>(cr.price));
        std::size_t worst = pool.size();
        double worst_gap = 0;
        for (std::size_t k = 0; k < pool.size(); ++k) {
          if (out[k] || pool[k].remaining == 0) continue;
          const double bp = bankruptcy_price(ctx, asset, pool[k].margin_id);
          const double gap = sell ? bp - price : price - bp;  // > 0: the price misses this reserve
          if (gap > worst_gap) {
            worst_gap = gap;
            worst = k;
          }
        }
        if (worst == pool.size()) break;
        out[worst] = 1;
      }
      fallback_.clear();
      kept_.clear();
      for (std::size_t k = 0; k < pool.size(); ++k) (out[k] ? fallback_ : kept_).push_back(pool[k]);
      pool.swap(kept_);
      if (cr.filled > 0) settle(ctx, asset, sell, pool, cr);
      for (PoolEntry& e : fallback_) close_on_book(ctx, asset, e);
      for (const PoolEntry& e : fallback_) pool.push_back(e);
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
      const DeficitResult d = close_flat_account(ctx, acc, ctx.fund, stats_);
      if (auto it = last_event_.find(e.margin_id); it != last_event_.end() && it->second < ctx.events.size())
        mark_deficit(ctx.events[it->second], d);
    }
    pool.swap(kept);
  }

  // The fallback for an account whose reserve no bid met: the venue's own engine closes its pooled
  // lots on the book with the liquidation order every policy's engine sends (liquidate_on_book,
  // sim/liquidation/book_liquidation.hpp: an IOC limited at the bankruptcy price under market_order
  // "ioc_bankruptcy", a market order under "market"), the penalty goes to the insurance fund, event
  // path "batch>book". What the IOC leaves unfilled is taken over, with everything else the account
  // holds, by the insurance fund at the bankruptcy price (then ADL, then bad debt), exactly as under
  // `market`. Under "market" an empty side fills nothing and the lots stay pooled.
  void close_on_book(LiquidationContext& ctx, std::size_t asset, PoolEntry& e) {
    MarginAccount& acc = ctx.margin.account(e.margin_id);
    if (acc.closed) {  // taken over by the fund from another pool of this step
      e.remaining = 0;
      return;
    }
    BookOrder order{asset, e.remaining, 0};
    BookLiquidationTerms t;
    t.ioc_at_bankruptcy = ioc_at_bankruptcy(cfg_);
    t.penalty_bps = cfg_.penalty_bps;
    t.liquidator_share = cfg_.liquidator_share;
    t.liquidator.account = ctx.accounts.protocol;  // agent -1: the venue's engine
    t.liquidator.found = true;
    t.path = "batch>book";
    t.flagged_since = e.flagged_since;
    t.endogenous = e.endogenous;
    const BookLiquidationResult r = liquidate_on_book(ctx, acc, &order, 1, t, &fund_, stats_);
    e.remaining -= order.filled;
    if (r.last_fill_event >= 0) last_event_[e.margin_id] = static_cast<std::size_t>(r.last_fill_event);
    if (r.taken_over) e.remaining = 0;
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
                                              : maker(ctx, asset, static_cast<std::size_t>(b) - nb)->account();
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
        ctx.margin.record_transfer(sell ? acc.account : winner, sell ? winner : acc.account, asset, contracts,
                                   v.ticks_to_price(static_cast<double>(cr.price)));
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
  FundAbsorber fund_;  // takes over what the batch>book fallback's IOC leaves (as under `market`)
  // Scratch, reused from batch to batch.
  std::vector<SealedBid> bids_;
  DepthClaims claims_;
  BidSchedule schedule_;
  std::vector<std::size_t> order_;
  std::vector<PoolEntry> fallback_, kept_;
  std::vector<char> out_;  // per pool entry: left this batch for the fallback (reserve missed)
  std::vector<std::array<std::vector<PoolEntry>, 2>> pools_;  // [asset][0: longs to sell, 1: shorts to buy back]
  std::vector<int> outstanding_;                              // pool entries per margin account id
  std::unordered_map<std::uint32_t, std::size_t> last_event_;  // margin id -> index of its latest event
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_batch_policy(const LiquidationConfig& cfg) { return std::make_unique<BatchPolicy>(cfg); }

}  // namespace sl
