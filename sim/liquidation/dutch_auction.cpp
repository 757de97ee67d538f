#include "sim/liquidation/dutch_auction.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "agents/liquidator_bot.hpp"

namespace sl {

DutchAuctions::DutchAuctions(const LiquidationConfig& cfg, DutchAuctionOptions opt)
    : cfg_(cfg), curve_(parse_dutch_curve(cfg.dutch.curve)), opt_(std::move(opt)) {
  const DutchConfig& d = cfg_.dutch;
  if (!(d.buf > 0) || !(d.cut > 0 && d.cut <= 1) || !(d.step_s > 0) || !(d.tau_s > 0) || d.tip < 0 || d.chip < 0)
    throw std::invalid_argument("dutch auction: need buf > 0, 0 < cut <= 1, step_s > 0, tau_s > 0, tip >= 0, chip >= 0");
}

// The keeper's incentive is always paid, as Clipper's kick and redo pay it with vat.suck(vow, kpr,
// coin): new system debt, whatever the surplus holds (model.md section 9). Here the insurance
// fund pays it from its cash, then with a loan while its equity backs one (the same credit as
// for deficits: Maker's Vow heals sin with later surplus), and only the rest is bad debt: a
// transfer from the bad-debt account (summary `incentive_bad_debt`). Nothing for the protocol. Until
// 2026-12-06 the payment was capped at the fund's balance: bots kicked and redid auctions for a tip
// an empty fund did not pay (about 10,800 unpaid redos a run on black_thursday_2020), and for one
// commit (e3bbdbc) bots then decided on the capped amount instead.
void DutchAuctions::pay_incentive(LiquidationContext& ctx, const Liquidator& liq, double amount) {
  if (liq.agent_id < 0 || amount <= 0) return;
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  const Micros want = to_fixed(amount, 1e6);
  // What the fund can pay, as for a deficit (fund_pay: cash, then a loan while its equity backs
  // one; the model's Vow, whose sin later surplus heals). Only beyond that is the incentive new
  // bad debt.
  const Micros minted = want - fund_pay(ctx, ctx.fund, liq.account, want);
  if (minted > 0) {
    L.transfer(ctx.accounts.bad_debt, liq.account, q, minted);
    if (ctx.fund != nullptr) {
      ctx.fund->incentive_bad_debt += minted;
      ctx.fund->mark_exhausted(ctx.step);  // the fund could not carry this cost, as for a deficit's bad debt
    }
  }
}

double DutchAuctions::lot_notional(const LiquidationContext& ctx, std::size_t asset, Lots lots) const {
  const AssetMarket& am = ctx.market.assets[asset];
  return am.perp->lots_to_qty(lots) * am.index_or_reference();
}

Micros DutchAuctions::hole_room(std::size_t asset, Micros pending) const {
  Micros room = std::numeric_limits<Micros>::max();
  if (cfg_.dutch.hole_global_quote > 0) room = std::min(room, to_fixed(cfg_.dutch.hole_global_quote, 1e6) - dirt_total_ - pending);
  if (cfg_.dutch.hole_quote > 0) room = std::min(room, to_fixed(cfg_.dutch.hole_quote, 1e6) - (asset < dirt_.size() ? dirt_[asset] : 0));
  return room;
}

// Clipper.take's dog.digs: the tab raised leaves Dirt and the asset's dirt.
void DutchAuctions::dig(Auction& a, Micros amount) {
  amount = std::min(amount, a.tab);
  a.tab -= amount;
  dirt_[a.asset] -= amount;
  dirt_total_ -= amount;
}

DutchAuctions::Kick DutchAuctions::kick(LiquidationContext& ctx, std::uint32_t id, int protocol_fallback_steps) {
  MarginAccount& acc = ctx.margin.account(id);
  Ledger& L = ctx.market.ledger;
  if (dirt_.size() < ctx.market.assets.size()) dirt_.resize(ctx.market.assets.size(), 0);
  kicked_.clear();
  double notional = 0;
  Micros dirt_added = 0;
  bool waiting = false;  // a lot exists but hole / Hole leave it no room
  const Micros chost = to_fixed(cfg_.dutch.chost_quote, 1e6);
  for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
    const AssetMarket& am = ctx.market.assets[i];
    const Micros held = L.balance(acc.account, am.perp_asset);
    if (held == 0) continue;
    const Lots pos_lots = std::abs(held) / am.perp->spec().lot_micros;
    if (pos_lots == 0) continue;  // dust below one lot cannot be traded
    Auction a;
    a.margin_id = id;
    a.asset = i;
    a.sell = held > 0;
    a.remaining = std::clamp<Lots>(static_cast<Lots>(std::llround(static_cast<double>(pos_lots) * cfg_.close_factor)), 1, pos_lots);
    // Dog.bark: the tab in auction may not exceed the room left under hole (this asset) and Hole
    // (all assets); a smaller room kicks a partial lot, unless what would stay behind is dust
    // (worth < chost at the index: then the whole lot goes, as Dog does), and a partial lot that is
    // itself dust is not kicked ("Dog/dusty-auction-from-partial-liquidation").
    const double index = am.index_or_reference();
    const double lot_value = am.perp->lots_to_qty(1) * index;  // quote per lot at the index
    // `dirt_added`: tabs of this account's other assets kicked just above (they count for Hole).
    const Micros room = hole_room(i, dirt_added);
    Lots fits = a.remaining;
    if (room <= 0) {
      fits = 0;  // "Dog/liquidation-limit-hit": no room at all, whatever the dust
    } else if (room < std::numeric_limits<Micros>::max()) {
      fits = std::min<Lots>(a.remaining, static_cast<Lots>(std::floor(from_micros(room) / lot_value)));
      if (fits < a.remaining) {
        const Lots left_behind = pos_lots - fits;
        if (to_fixed(static_cast<double>(left_behind) * lot_value, 1e6) < chost) fits = a.remaining;
        else if (to_fixed(static_cast<double>(fits) * lot_value, 1e6) < chost) fits = 0;
      }
    }
    if (fits <= 0) {
      waiting = true;
      continue;
    }
    a.remaining = fits;
    a.start_step = ctx.step;
    a.index0 = index;
    a.tab = to_fixed(static_cast<double>(a.remaining) * lot_value, 1e6);
    dirt_added += a.tab;
    a.kick_step = ctx.step;
    a.flag_step = acc.flagged_since >= 0 ? acc.flagged_since : ctx.step;
    a.endogenous = acc.endogenous_at_flag;
    notional += lot_notional(ctx, i, a.remaining);
    kicked_.push_back(a);
  }
  // No lot: nothing to kick, so nobody is asked, charged a transaction or paid an incentive.
  if (kicked_.empty()) return waiting ? Kick::None : Kick::NoLots;
  const double incentive = cfg_.dutch.tip + cfg_.dutch.chip * notional;
  const Liquidator liq = choose_liquidator(ctx, acc, incentive, protocol_fallback_steps);
  if (!liq.found) return Kick::None;  // nobody kicks this step: the account stays flagged
  pay_incentive(ctx, liq, incentive);
  acc.in_liquidation = true;
  for (const Auction& a : kicked_) {
    dirt_[a.asset] += a.tab;
    dirt_total_ += a.tab;
    auctions_.push_back(a);
  }
  return Kick::Started;
}

void DutchAuctions::redo(LiquidationContext& ctx, Auction& a) {
  const AssetMarket& am = ctx.market.assets[a.asset];
  a.start_step = ctx.step;
  a.index0 = am.index_or_reference();
  ++a.resets;
  // Clipper.redo pays tip + chip x tab only when the tab and the lot at the feed price are both at
  // least chost; our tab and lot value are the remaining lot's notional at the index.
  const double left = lot_notional(ctx, a.asset, a.remaining);
  const bool paid = left >= cfg_.dutch.chost_quote;
  const double incentive = paid ? cfg_.dutch.tip + cfg_.dutch.chip * left : 0.0;
  MarginAccount view = ctx.margin.account(a.margin_id);  // bots' latency counts from the kick
  view.flagged_since = a.kick_step;
  const Liquidator liq = choose_liquidator(ctx, view, incentive, 0);  // no bot: the protocol redoes it
  pay_incentive(ctx, liq, incentive);
}

double DutchAuctions::price_at(const Auction& a, double factor) const {
  // Long lot: index0 x buf x f, falling towards 0. Short lot: the multiplicative mirror
  // index0 / (buf x f), rising without bound and never <= 0 for any buf > 0 (the additive mirror
  // index0 x (2 - buf x f) it replaces reached 0 at buf x f = 2).
  const double b = cfg_.dutch.buf * factor;
  if (a.sell) return a.index0 * b;
  return b > 0 ? a.index0 / b : std::numeric_limits<double>::infinity();
}

std::string DutchAuctions::path(int resets) const {
  if (resets <= 0) return opt_.path;
  if (resets == 1) return opt_.path + ">reset";
  return opt_.path + ">reset" + std::to_string(std::min(resets, 99));
}

std::int64_t DutchAuctions::last_event(std::uint32_t id) const {
  const auto it = last_event_.find(id);
  return it == last_event_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

const std::vector<DutchAuctions::Outcome>& DutchAuctions::advance(LiquidationContext& ctx, LiquidationStepStats& stats) {
  outcomes_.clear();
  if (auctions_.empty()) return outcomes_;
  claims_.reset(ctx.market.assets.size());
  const std::size_t n = auctions_.size();  // kicks happened before; nothing is added below
  for (std::size_t k = 0; k < n; ++k) step_auction(ctx, auctions_[k], stats);
  // Accounts whose every lot is done leave the auction (in kick order, deterministic).
  for (std::size_t k = 0; k < n; ++k) {
    if (!auctions_[k].done) continue;
    const std::uint32_t id = auctions_[k].margin_id;
    bool live = false, expired = false;
    for (const Auction& a : auctions_) {
      if (a.margin_id != id) continue;
      if (!a.done) live = true;
      if (a.expired) expired = true;
    }
    MarginAccount& acc = ctx.margin.account(id);
    dig(auctions_[k], auctions_[k].tab);  // an auction that ends leaves Dirt with its tab
    if (!live && acc.in_liquidation) {
      acc.in_liquidation = false;
      outcomes_.push_back({id, expired});
    }
  }
  auctions_.erase(std::remove_if(auctions_.begin(), auctions_.end(), [](const Auction& a) { return a.done; }), auctions_.end());
  return outcomes_;
}

void DutchAuctions::step_auction(LiquidationContext& ctx, Auction& a, LiquidationStepStats& stats) {
  MarginAccount& acc = ctx.margin.account(a.margin_id);
  Ledger& L = ctx.market.ledger;
  AssetMarket& am = ctx.market.assets[a.asset];
  const Venue& v = *am.perp;
  const Micros lot_micros = v.spec().lot_micros;
  // The position may have shrunk (owners may trade): never auction more than is held.
  const Micros held = L.balance(acc.account, am.perp_asset);
  const Lots held_lots = (a.sell ? std::max<Micros>(0, held) : std::max<Micros>(0, -held)) / lot_micros;
  a.remaining = std::min(a.remaining, held_lots);
  if (a.remaining <= 0) {
    a.done = true;
    return;
  }
  double elapsed = static_cast<double>(ctx.step - a.start_step) * ctx.market.dt_s;
  double factor = dutch_price_factor(curve_, cfg_.dutch, elapsed);
  const bool timed_out = opt_.timeout_steps >= 0 && ctx.step - a.kick_step >= opt_.timeout_steps;
  if (timed_out || dutch_needs_reset(cfg_.dutch, elapsed, factor)) {
    if (timed_out || !opt_.reset) {  // expiry: the lots left pass on to the owner's next stage
      a.done = true;
      a.expired = true;
      return;
    }
    redo(ctx, a);
    elapsed = 0;
    factor = dutch_price_factor(curve_, cfg_.dutch, 0.0);
  }
  const double price = std::max(0.0, price_at(a, factor));
  const double mark = am.mark_or_reference();
  // The hierarchy's floor: a take at this price would sell beyond the bankruptcy price (the
  // account's equity at mark would go negative and the deficit would be the fund's): the stage
  // ends here and the account passes on. Checked again before every take, since a take's penalty
  // (capped at the equity) can move the remainder's bankruptcy price up to the mark.
  auto beyond_bankruptcy = [&]() {
    if (!opt_.floor_at_bankruptcy) return false;
    const double bp = ctx.margin.bankruptcy_price(acc, a.asset);
    return a.sell ? price < bp : price > bp;
  };
  if (beyond_bankruptcy()) {
    a.done = true;
    a.expired = true;
    return;
  }
  const AssetId q = ctx.market.quote_asset;
  const double cost_mult = ctx.market.liquidator_cost_multiplier;

  // Bots in a seeded order.
  order_.resize(ctx.bots.size());
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  for (std::size_t i = order_.size(); i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(order_[i - 1], order_[pick(ctx.rng)]);
  }
  MarginAccount view = acc;
  view.flagged_since = a.kick_step;
  const Side unwind = a.sell ? Side::Buy : Side::Sell;  // book side the taker resells into
  Lots& claimed = claims_.on(a.asset, unwind);
  const double lot_qty = v.lots_to_qty(1);
  const double chost = cfg_.dutch.chost_quote;
  for (std::size_t k = 0; k < order_.size() && a.remaining > 0; ++k) {
    if (k > 0 && beyond_bankruptcy()) {
      a.done = true;
      a.expired = true;
      return;
    }
    LiquidatorBot& bot = ctx.bots[order_[k]];
    if (!bot.sees(view, ctx.step, ctx.market.liquidator_latency_multiplier)) continue;
    const double tx = bot.tx_cost(cost_mult);
    const Micros tx_micros = to_fixed(tx, 1e6);
    if (L.balance(bot.account(), q) < tx_micros) continue;
    // Clipper.take(amt, max): any amount up to what is left, here the bot's whole marginal value
    // schedule at this price (sim/liquidation/bid_valuation.hpp), within its capital.
    const BidderCapacity cap = bot.capacity(ctx.market, a.asset, a.sell, cost_mult);
    schedule_.build(v, a.sell, a.remaining, claimed, cap);
    BidSchedule::Take t = schedule_.take(price, a.remaining, cap);
    if (t.lots <= 0) continue;
    // Clipper's dust rule: a partial take may not leave less than chost behind (valued, like the
    // tab, at the current price). When even the whole remainder is worth <= chost, only a take of
    // all of it is allowed ("Clipper/no-partial-purchase"); otherwise the take is cut so that
    // exactly enough lots stay behind.
    if (chost > 0 && t.lots < a.remaining && static_cast<double>(a.remaining - t.lots) * lot_qty * price < chost) {
      if (static_cast<double>(a.remaining) * lot_qty * price <= chost) continue;
      const Lots keep = static_cast<Lots>(std::ceil(chost / (lot_qty * price) - 1e-9));
      t = schedule_.evaluate(price, a.remaining - keep, cap);
      if (t.lots <= 0) continue;
    }
    const Lots want = t.lots;
    // Settlement.
    const Micros contracts = checked_mul(want, lot_micros);
    const Micros cash = to_fixed(price, static_cast<double>(contracts));  // price x contracts (micros)
    L.transfer(bot.account(), ctx.accounts.network_fees, q, tx_micros);
    if (a.sell) {
      L.transfer(acc.account, bot.account(), am.perp_asset, contracts);
      if (cash > 0) L.transfer(bot.account(), acc.account, q, cash);
    } else {
      L.transfer(bot.account(), acc.account, am.perp_asset, contracts);
      if (cash > 0) L.transfer(acc.account, bot.account(), q, cash);
    }
    // The bot's margin account opens (or adds to) a position at the auction price.
    if (a.sell) ctx.margin.record_transfer(acc.account, bot.account(), a.asset, contracts, price);
    else ctx.margin.record_transfer(bot.account(), acc.account, a.asset, contracts, price);
    bot.note_inventory();
    claimed += t.resold;
    dig(a, a.remaining > 0 ? static_cast<Micros>(static_cast<double>(a.tab) * static_cast<double>(want) / static_cast<double>(a.remaining)) : a.tab);
    a.remaining -= want;
    Liquidator taker;
    taker.agent_id = bot.agent_id();
    taker.account = bot.account();
    taker.found = true;
    const Micros penalty = charge_penalty(ctx, acc, cash, cfg_.penalty_bps, cfg_.liquidator_share, taker);
    LiquidationEvent e;
    e.step = ctx.step;
    e.account = acc.account;
    e.agent_type = owner_kind_name(ctx, acc);
    e.policy_path = path(a.resets);
    e.notional = from_micros(cash);
    e.price = price;
    e.mark = mark;
    e.slippage_bps = slippage_bps(a.sell, price, mark);
    e.penalty = from_micros(penalty);
    e.liquidator = bot.agent_id();
    e.steps_to_complete = static_cast<std::int32_t>(ctx.step - a.flag_step);
    e.endogenous = a.endogenous;
    ctx.events.push_back(e);
    last_event_[a.margin_id] = ctx.events.size() - 1;
    ++stats.count;
    stats.notional += e.notional;
  }
  if (a.remaining <= 0) a.done = true;
}

}  // namespace sl
