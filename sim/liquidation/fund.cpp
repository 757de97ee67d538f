#include "sim/liquidation/fund.hpp"

#include "agents/inventory_unwind.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sl {

namespace {

double gross_at_mark(const LiquidationContext& ctx, const MarginAccount& a) {
  double g = 0;
  for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) g += std::abs(ctx.margin.position(a, i)) * ctx.market.assets[i].mark_or_reference();
  return g;
}

}  // namespace

FundAbsorber::FundAbsorber(const std::string& loss_rule, FundPaths paths, FundCredit& credit)
    : paths_(std::move(paths)), credit_(credit) {
  if (loss_rule != "adl" && loss_rule != "haircut")
    throw std::invalid_argument("socialized policy: unknown loss_rule '" + loss_rule + "' (expected \"adl\" or \"haircut\")");
  adl_ = loss_rule == "adl";
}

// The fund's equity: quote + spot at index + contracts at mark - its loan (micro-units of quote).
Micros insurance_fund_equity(const Market& market, AccountId fund, Micros borrowed) {
  const Ledger& L = market.ledger;
  Micros eq = L.balance(fund, market.quote_asset) - borrowed;
  for (const AssetMarket& am : market.assets) {
    const Micros s = L.balance(fund, am.spot_asset);
    const Micros c = L.balance(fund, am.perp_asset);
    if (s != 0) eq += to_fixed(static_cast<double>(s) * am.index_or_reference(), 1.0);
    if (c != 0) eq += to_fixed(static_cast<double>(c) * am.mark_or_reference(), 1.0);
  }
  return eq;
}

Micros FundAbsorber::fund_equity(const LiquidationContext& ctx) const {
  return insurance_fund_equity(ctx.market, ctx.accounts.insurance_fund, credit_.borrowed);
}

void repay_fund_loan(LiquidationContext& ctx, FundCredit& credit) {
  if (credit.borrowed <= 0) return;
  const Micros have = ctx.market.ledger.balance(ctx.accounts.insurance_fund, ctx.market.quote_asset);
  const Micros r = std::min(credit.borrowed, have);
  if (r <= 0) return;
  ctx.market.ledger.transfer(ctx.accounts.insurance_fund, ctx.accounts.bad_debt, ctx.market.quote_asset, r);
  credit.borrowed -= r;
}

Micros floor_fund_equity(LiquidationContext& ctx, FundCredit& credit) {
  const Micros fe = insurance_fund_equity(ctx.market, ctx.accounts.insurance_fund, credit.borrowed);
  const Micros lacking = -credit.limit - fe;
  if (lacking <= 0) return 0;
  ctx.market.ledger.transfer(ctx.accounts.bad_debt, ctx.accounts.insurance_fund, ctx.market.quote_asset, lacking);
  credit.mark_exhausted(ctx.step);
  credit.floor_bad_debt += lacking;
  repay_fund_loan(ctx, credit);
  return lacking;
}

// A real loss: the bad-debt account pays `amount` to the fund.
void FundAbsorber::recognize_bad_debt(LiquidationContext& ctx, Micros amount, LiquidationStepStats& stats) {
  if (amount <= 0) return;
  ctx.market.ledger.transfer(ctx.accounts.bad_debt, ctx.accounts.insurance_fund, ctx.market.quote_asset, amount);
  stats.bad_debt += from_micros(amount);
}

// The fund lacks `lacking` quote for a payment after which its equity would be `equity_after`.
// Equity below the floor (-limit) is recognized as bad debt first (at most what is lacking: the fund
// is exhausted); the rest is a loan from the bad-debt account, which the fund's equity backs.
// Returns the bad debt recognized.
Micros FundAbsorber::finance(LiquidationContext& ctx, Micros lacking, Micros equity_after, LiquidationStepStats& stats) {
  if (lacking <= 0) return 0;
  Micros bad = 0;
  if (equity_after < -credit_.limit) {
    bad = std::min(lacking, -credit_.limit - equity_after);
    recognize_bad_debt(ctx, bad, stats);
    credit_.mark_exhausted(ctx.step);
    lacking -= bad;
  }
  if (lacking > 0) {
    ctx.market.ledger.transfer(ctx.accounts.bad_debt, ctx.accounts.insurance_fund, ctx.market.quote_asset, lacking);
    credit_.borrowed += lacking;
  }
  return bad;
}

void FundAbsorber::repay(LiquidationContext& ctx) { repay_fund_loan(ctx, credit_); }

Micros FundAbsorber::floor(LiquidationContext& ctx, LiquidationStepStats& stats) {
  if (socialize_floor_) {
    const Micros fe = fund_equity(ctx);
    const Micros shortfall = -credit_.limit - fe;
    if (shortfall > 0) {  // the fund cannot carry its own inventory's loss: socialize it first
      credit_.mark_exhausted(ctx.step);
      if (adl_) {
        deleverage_fund(ctx, shortfall, stats);
      } else {
        haircut(ctx, ctx.accounts.insurance_fund, shortfall, stats);
      }
      credit_.floor_socialized += std::min(shortfall, fund_equity(ctx) - fe);
      repay(ctx);
    }
  }
  // What was not socialized (or every time, for the policies that do not socialize): bad debt.
  const Micros bad = floor_fund_equity(ctx, credit_);
  stats.bad_debt += from_micros(bad);
  return bad;
}

// The fund's bankruptcy price per asset: with S_i the part of the shortfall allocated to its
// position c_i (contracts, signed) by notional at mark (S_i = S x |c_i| x mark_i / sum_j |c_j| x
// mark_j, floor to the micro-unit, the last asset takes the remainder), closing c_i at
// p_i = mark_i + S_i / c_i changes the fund's equity by c_i x (p_i - mark_i) = S_i: a long is bought
// from it above the mark by the ADL'd shorts, a short sold to it below the mark by the ADL'd longs.
// Only whole lots are deleveraged (the ADL'd accounts get whole lots); the dust's share, a position
// with p_i <= 0, spot inventory and what the queue cannot match stay with the fund, and the floor
// books them as bad debt.
void FundAbsorber::deleverage_fund(LiquidationContext& ctx, Micros shortfall, LiquidationStepStats& stats) {
  const Ledger& L = ctx.market.ledger;
  const AccountId F = ctx.accounts.insurance_fund;
  std::vector<Leg> legs;  // only when the fund is below its floor: not a per-order path
  double gross = 0;
  for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
    const Micros c = L.balance(F, ctx.market.assets[i].perp_asset);
    if (c == 0) continue;
    Leg g;
    g.asset = i;
    g.contracts = c;
    g.mark = ctx.market.assets[i].mark_or_reference();
    gross += std::abs(from_micros(c)) * g.mark;
    legs.push_back(g);
  }
  if (legs.empty() || !(gross > 0)) return;  // spot only: nothing to deleverage
  double taken = 0;
  bool queue_short = false;
  Micros allocated = 0;
  for (std::size_t j = 0; j < legs.size(); ++j) {
    Leg& g = legs[j];
    const bool last = j + 1 == legs.size();
    const double w = std::abs(from_micros(g.contracts)) * g.mark / gross;
    const Micros s_j = last ? shortfall - allocated : static_cast<Micros>(std::floor(static_cast<double>(shortfall) * w));
    allocated += s_j;
    g.price = g.mark + from_micros(s_j) / from_micros(g.contracts);
    const Micros lot = ctx.market.assets[g.asset].perp->spec().lot_micros;
    Micros target = std::abs(g.contracts);
    if (lot > 0) target = target / lot * lot;
    Micros matched = 0;
    const CloseOut close_out = last ? CloseOut::FundFloor : CloseOut::None;
    deleverage(ctx, Bankrupt{F, false, &paths_.fund_adl}, g, target, close_out, stats, &matched, &taken);
    if (matched < target || target < std::abs(g.contracts)) queue_short = true;
  }
  stats.adl_taken += taken;
  stats.adl_overshoot += std::max(0.0, taken - from_micros(shortfall));
  if (queue_short) ++stats.adl_queue_empty;
}

void FundAbsorber::unwind(LiquidationContext& ctx, LiquidationStepStats& stats, bool paired) {
  Ledger& L = ctx.market.ledger;
  const AccountId F = ctx.accounts.insurance_fund;
  const AssetId q = ctx.market.quote_asset;
  // One market order of at most `want` lots on venue k, within the best two opposite levels (a buy
  // the fund's cash cannot pay is financed first).
  auto trade = [&](AssetMarket& am, VenueKind k, Side side, Lots want) {
    Venue& v = am.venue(k);
    Lots lots = 0;
    Micros cost = 0;  // buys only: what the slice costs, with slack for per-fill fee rounding
    v.book().for_each_level(opposite(side), 2, [&](Tick px, Lots avail) {
      const Lots take = std::min(avail, want - lots);
      if (take <= 0) return false;
      lots += take;
      const Micros n = v.notional(px, take);
      cost += n + v.fee(n, false) + 1000;
      return lots < want;
    });
    if (lots <= 0) return;
    if (side == Side::Buy) {
      const Micros have = std::max<Micros>(0, L.balance(F, q));
      if (cost > have) {
        const double px = k == VenueKind::Spot ? am.index_or_reference() : am.mark_or_reference();
        const Micros value = to_fixed(static_cast<double>(lots * v.spec().lot_micros) * px, 1.0);
        finance(ctx, cost - have, fund_equity(ctx) - std::max<Micros>(0, cost - value), stats);
      }
    }
    v.market(F, side, lots);
  };
  for (AssetMarket& am : ctx.market.assets) {
    const Micros s = L.balance(F, am.spot_asset), c = L.balance(F, am.perp_asset);
    if (paired && ((s > 0 && c < 0) || (s < 0 && c > 0))) {
      const PairUnwind u = plan_pair_unwind(am, s, c);
      if (u.spot > 0) trade(am, VenueKind::Spot, u.spot_side, u.spot);
      if (u.perp > 0) trade(am, VenueKind::Perp, u.perp_side, u.perp);
      continue;
    }
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      const Micros held = k == VenueKind::Spot ? s : c;
      if (held == 0) continue;
      trade(am, k, held > 0 ? Side::Sell : Side::Buy, std::abs(held) / am.venue(k).spec().lot_micros);
    }
  }
  repay(ctx);
  // The marks moved since the last step: what the fund holds may have pushed it below its floor.
  floor(ctx, stats);
}

// Closes up to `target` contracts (absolute) of the bankrupt side's position in leg.asset (an absorbed
// account's, or the fund's own at its floor) against ranked opposite profitable positions at
// leg.price. `close_out`: this is the last leg, so a fill that empties the position settles its cash
// exactly: AccountQuote sets the account's quote to exactly 0 (no other asset is left in it);
// FundFloor sets the fund's equity to exactly -limit (both only within 0.001 quote of qty x price,
// i.e. absorbing rounding). Returns the number of ADLs.
int FundAbsorber::deleverage(LiquidationContext& ctx, const Bankrupt& b, const Leg& leg, Micros target, CloseOut close_out,
                             LiquidationStepStats& stats, Micros* matched_out, double* taken_out) {
  *matched_out = 0;
  if (!(leg.price > 0) || target <= 0) return 0;
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  const AssetId perp = ctx.market.assets[leg.asset].perp_asset;
  const bool bankrupt_long = leg.contracts > 0;
  // Candidates: the margined holders of the contract on the other side (the ledger's holder bits:
  // only accounts with a position are looked at; rank_adl_candidates' order is total, so the order
  // they are listed in does not matter).
  std::vector<AdlCandidate> cands;
  ctx.margin.materialise_all_watched();  // every position ranks (MarginEngine::watch)
  auto& all = ctx.margin.accounts();
  L.for_each_holder(perp, [&](AccountId holder) {
    const std::uint32_t id = ctx.margin.margin_id_of(holder);
    if (id == MarginEngine::kNoMargin) return;
    const MarginAccount& a = all[id];
    if (a.closed || a.account == b.account) return;
    const Micros h = L.balance(a.account, perp);
    if (h == 0 || (h > 0) == bankrupt_long) return;
    const double eq = ctx.margin.equity(a, PriceBasis::Mark);
    const double pos = from_micros(h);
    cands.push_back({a.account, adl_pnl_pct(pos, ctx.margin.entry_price(a, leg.asset), leg.mark),
                     adl_effective_leverage(std::abs(pos) * leg.mark, eq), pos});
  });
  int n = 0;
  Micros matched = 0;
  for (const AdlCandidate& c : rank_adl_candidates(std::move(cands))) {
    const Micros held = L.balance(b.account, perp);
    const Micros remaining = std::abs(held);
    if (remaining == 0 || matched >= target) break;
    const Micros theirs = std::abs(L.balance(c.account, perp));
    const Micros qty = std::min({target - matched, remaining, theirs});
    if (qty <= 0) continue;
    Micros cash = to_fixed(static_cast<double>(qty) * leg.price, 1.0);
    if (close_out != CloseOut::None && qty == remaining) {
      Micros exact = -1;
      if (close_out == CloseOut::AccountQuote) {
        const Micros k = L.balance(b.account, q);
        exact = bankrupt_long ? -k : k;
      } else {
        // The fund's equity after the fill, FE - value(held at mark) +/- cash (it receives cash for a
        // long, pays it for a short), set to exactly -limit.
        const Micros fe = fund_equity(ctx);
        const Micros value = to_fixed(static_cast<double>(held) * leg.mark, 1.0);
        exact = bankrupt_long ? -credit_.limit - fe + value : fe - value + credit_.limit;
      }
      if (exact >= 0 && std::abs(exact - cash) <= 1000) cash = exact;
    }
    // Who pays cash: the ADL'd account buying contracts (bankrupt long), or the bankrupt side.
    const AccountId payer = bankrupt_long ? c.account : b.account;
    const AccountId payee = bankrupt_long ? b.account : c.account;
    if (payer == ctx.accounts.insurance_fund) {
      // The fund buying back its short: cash it lacks is lent by the bad-debt account (its equity
      // after the fill is higher, still >= -limit at the end, so the loan is backed as any other).
      const Micros lacking = cash - std::max<Micros>(0, L.balance(payer, q));
      if (lacking > 0) {
        L.transfer(ctx.accounts.bad_debt, payer, q, lacking);
        credit_.borrowed += lacking;
      }
    }
    if (!L.can_pay(payer, q, cash)) continue;
    if (bankrupt_long) {
      L.transfer(b.account, c.account, perp, qty);
    } else {
      L.transfer(c.account, b.account, perp, qty);
    }
    L.transfer(payer, payee, q, cash);
    ctx.margin.record_transfer(bankrupt_long ? b.account : c.account, bankrupt_long ? c.account : b.account, leg.asset, qty,
                               leg.price);
    // What the winner gave up against closing at the mark: a short winner buys above it, a long
    // winner sells below it.
    const double at_mark = from_micros(qty) * leg.mark;
    *taken_out += bankrupt_long ? from_micros(cash) - at_mark : at_mark - from_micros(cash);
    matched += qty;
    const std::uint32_t mid = ctx.margin.margin_id_of(c.account);  // a candidate is a margined account
    LiquidationEvent e;
    e.step = ctx.step;
    e.account = c.account;
    e.agent_type = owner_kind_name(ctx, all[mid]);
    e.policy_path = *b.path + std::string(kDeleveragedSuffix);  // the winner: not a liquidation (run_result.hpp)
    e.notional = from_micros(qty) * leg.price;
    e.price = leg.price;
    e.mark = leg.mark;
    e.slippage_bps = slippage_bps(!bankrupt_long, leg.price, leg.mark);  // the ADL'd long sells
    e.penalty = 0.0;
    e.liquidator = -1;
    e.steps_to_complete = 0;
    e.endogenous = b.endogenous;
    ctx.events.push_back(e);
    ++stats.adl_count;
    ++n;
  }
  *matched_out = matched;
  return n;
}

// Collects up to `lacking` quote from profitable margined accounts pro rata to profit into the fund.
// Profit = the unrealized PnL of the account's positions against their entry prices at mark,
// sum_i c_i x (mark_i - entry_i), as the ADL queue measures it: deposits are not profit.
Micros FundAbsorber::haircut(LiquidationContext& ctx, AccountId excluded, Micros lacking, LiquidationStepStats& stats) {
  if (lacking <= 0) return 0;
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  struct Winner {
    AccountId account;
    Micros profit;
    Micros share = 0;
    __int128 rem = 0;
  };
  std::vector<Winner> w;
  __int128 total = 0;
  ctx.margin.materialise_all_watched();  // every position's profit counts (MarginEngine::watch)
  for (const MarginAccount& a : ctx.margin.accounts()) {
    if (a.closed || a.account == excluded) continue;
    double profit = 0;
    for (std::size_t i = 0; i < ctx.market.assets.size(); ++i) {
      const double entry = ctx.margin.entry_price(a, i);
      const double c = ctx.margin.position(a, i);
      if (c != 0 && entry > 0) profit += c * (ctx.market.assets[i].mark_or_reference() - entry);
    }
    const Micros p = profit > 0 ? to_fixed(profit, 1e6) : 0;
    if (p <= 0) continue;
    w.push_back({a.account, p});
    total += p;
  }
  if (w.empty()) return 0;
  const Micros take = static_cast<Micros>(std::min<__int128>(lacking, total));
  __int128 given = 0;
  for (Winner& x : w) {
    const __int128 num = static_cast<__int128>(take) * x.profit;
    x.share = static_cast<Micros>(num / total);
    x.rem = num % total;
    given += x.share;
  }
  std::vector<std::size_t> order(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (w[a].rem != w[b].rem) return w[a].rem > w[b].rem;
    return w[a].account < w[b].account;
  });
  for (std::size_t k = 0; given < take && k < order.size(); ++k, ++given) ++w[order[k]].share;
  Micros collected = 0;
  for (const Winner& x : w) {
    Micros s = x.share;
    if (!L.may_go_negative(x.account, q)) s = std::min(s, std::max<Micros>(0, L.balance(x.account, q)));
    if (s <= 0) continue;
    L.transfer(x.account, ctx.accounts.insurance_fund, q, s);
    collected += s;
  }
  stats.haircut_taken += from_micros(collected);
  return collected;
}

// The fund pays the deficit (cash, then a loan) while its equity stays >= -limit; the rest is bad
// debt (settle_deficit with this fund's credit).
// A flat account's deficit beyond what the fund can carry (its equity at the floor -limit) is a loss
// no position is left to carry (model.md sections 5 and 9):
// - loss_rule "haircut": socialized like any other shortfall: collected pro rata from winners'
//   profits (haircut(), the same rule as for an absorbed position), which the fund hands to the
//   bad-debt account that had paid the deficit; what the winners' profits cannot cover stays bad debt.
// - loss_rule "adl": auto-deleveraging closes opposite profitable POSITIONS against the bankrupt
//   position at its bankruptcy price; an account that is already flat has no position and no
//   bankruptcy price, so there is nothing to deleverage against (a venue running ADL, e.g. Binance,
//   never gets here: its IOC stops at the bankruptcy price). The deficit is bad debt, counted in
//   stats.flat_deficit_bad_debt_events / flat_deficit_bad_debt (summary fields of the same names) so
//   that a run says why bad debt remains although the ADL stage exists.
// `socialized` and `hierarchy` both reach this through absorb() / settle_deficit_only().
FundAbsorber::Result FundAbsorber::settle(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats) {
  Result res;
  const DeficitResult d = settle_deficit(ctx, acc, &credit_);
  stats.collateral_haircut += d.collateral_haircut;
  stats.spot_taken_over += d.spot_taken_over;
  Micros bad = d.bad_debt;
  if (bad > 0 && !adl_) {
    const Micros got = haircut(ctx, acc.account, bad, stats);
    if (got > 0) {
      ctx.market.ledger.transfer(ctx.accounts.insurance_fund, ctx.accounts.bad_debt, ctx.market.quote_asset, got);
      bad -= got;
      res.haircut_paid = got;
    }
  }
  if (bad > 0) {
    ++stats.flat_deficit_bad_debt_events;
    stats.flat_deficit_bad_debt += from_micros(bad);
  }
  stats.bad_debt += from_micros(bad);
  acc.closed = true;
  res.insurance_paid = d.insurance_paid;
  res.bad_debt = bad;
  return res;
}

FundAbsorber::Result FundAbsorber::settle_deficit_only(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats) {
  return settle(ctx, acc, stats);
}

FundAbsorber::Result FundAbsorber::absorb(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats) {
  Result res;
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  const AccountId F = ctx.accounts.insurance_fund;
  const std::size_t n_assets = ctx.market.assets.size();
  bool has_perp = false;
  for (const AssetMarket& am : ctx.market.assets)
    if (L.balance(acc.account, am.perp_asset) != 0) has_perp = true;
  if (!has_perp) return settle(ctx, acc, stats);  // no position: only a deficit to settle
  // Marks may have moved since the fund's last stage: its equity floor first, before this account is
  // valued (the fund's own ADL may close a profitable opposite position of this very account).
  floor(ctx, stats);
  const double E = ctx.margin.equity(acc, PriceBasis::Mark);
  const double G = gross_at_mark(ctx, acc);
  std::vector<Leg> legs;
  for (std::size_t i = 0; i < n_assets; ++i) {
    const Micros c = L.balance(acc.account, ctx.market.assets[i].perp_asset);
    if (c == 0) continue;
    Leg g;
    g.asset = i;
    g.contracts = c;
    g.mark = ctx.market.assets[i].mark_or_reference();
    const double w = G > 0 ? std::abs(from_micros(c)) * g.mark / G : 1.0;
    g.price = g.mark - E * w / from_micros(c);
    legs.push_back(g);
  }
  if (legs.empty()) return settle(ctx, acc, stats);  // the fund's ADL closed it: only a deficit left
  const Micros fe0 = fund_equity(ctx);  // >= -limit
  bool has_spot = false;
  for (const AssetMarket& am : ctx.market.assets)
    if (L.balance(acc.account, am.spot_asset) != 0) has_spot = true;

  // The fund carries the loss while its equity stays >= -limit (fund_borrow_limit); the rest, the
  // shortfall, is socialized.
  const Micros loss = E < 0 ? to_fixed(-E, 1e6) : 0;
  const Micros shortfall = loss - std::min(loss, std::max<Micros>(0, fe0 + credit_.limit));
  if (shortfall > 0) credit_.mark_exhausted(ctx.step);
  std::string path = paths_.absorbed;
  const std::size_t first_event = ctx.events.size();
  if (shortfall > 0) {  // the fund's equity cannot carry the loss: socialize the shortfall
    if (adl_) {
      int adls = 0;
      double taken = 0;  // quote units the ADL fills took from the winners (against the mark)
      bool queue_short = false;  // some leg's target found too few profitable opposite positions
      for (std::size_t j = 0; j < legs.size(); ++j) {
        const Micros abs_c = std::abs(legs[j].contracts);
        const Micros lot = ctx.market.assets[legs[j].asset].perp->spec().lot_micros;
        Micros target = static_cast<Micros>((static_cast<__int128>(abs_c) * shortfall + loss - 1) / loss);
        if (lot > 0) target = (target + lot - 1) / lot * lot;
        target = std::min(target, abs_c);
        Micros matched = 0;
        const CloseOut close_out = !has_spot && j + 1 == legs.size() ? CloseOut::AccountQuote : CloseOut::None;
        adls += deleverage(ctx, Bankrupt{acc.account, acc.endogenous_at_flag, &paths_.adl}, legs[j], target, close_out, stats, &matched,
                           &taken);
        if (matched < target) queue_short = true;
      }
      // The overshoot: what the ADL took beyond the shortfall it covered (whole lots, rounded up).
      stats.adl_taken += taken;
      stats.adl_overshoot += std::max(0.0, taken - from_micros(shortfall));
      if (queue_short) ++stats.adl_queue_empty;
      if (adls > 0) path = paths_.adl;
    } else {
      haircut(ctx, acc.account, shortfall, stats);
      path = paths_.haircut;
    }
  }
  // The fund takes whatever is left: contracts, spot, then the one net cash transfer.
  for (const AssetMarket& am : ctx.market.assets) {
    const Micros c = L.balance(acc.account, am.perp_asset);
    if (c > 0) L.transfer(acc.account, F, am.perp_asset, c);
    if (c < 0) L.transfer(F, acc.account, am.perp_asset, -c);
    const Micros s = L.balance(acc.account, am.spot_asset);
    if (s > 0) {
      L.transfer(acc.account, F, am.spot_asset, s);
      // The account was credited index x (1 - haircut) for it (its equity, hence its bankruptcy
      // price, counts that): the haircut is the user's loss on top of penalty and slippage.
      stats.collateral_haircut += from_micros(s) * am.index_or_reference() * am.collateral_haircut;
    }
  }
  const Micros k = L.balance(acc.account, q);
  const Micros fe1 = fund_equity(ctx) + k;  // the fund's equity once the cash leg is settled
  // What brings the fund back to its floor (-limit) is the uncovered loss: bad debt.
  Micros bad = std::max<Micros>(0, -credit_.limit - fe1);
  if (bad > 0) credit_.mark_exhausted(ctx.step);
  recognize_bad_debt(ctx, bad, stats);
  if (k > 0) {
    L.transfer(acc.account, F, q, k);
  } else if (k < 0) {
    const Micros have = std::max<Micros>(0, L.balance(F, q));
    bad += finance(ctx, -k - have, fe1 + bad, stats);
    L.transfer(F, acc.account, q, -k);
  }
  if (bad > 0) path += ">bad_debt";
  acc.closed = true;

  const Leg* big = &legs[0];
  double notional = 0;
  for (const Leg& g : legs) {
    notional += std::abs(from_micros(g.contracts)) * g.price;
    if (std::abs(from_micros(g.contracts)) * g.mark > std::abs(from_micros(big->contracts)) * big->mark) big = &g;
  }
  LiquidationEvent e;
  e.step = ctx.step;
  e.account = acc.account;
  e.agent_type = owner_kind_name(ctx, acc);
  e.policy_path = path;
  e.notional = notional;
  e.price = big->price;
  e.mark = big->mark;
  e.slippage_bps = slippage_bps(big->contracts > 0, big->price, big->mark);
  e.penalty = 0.0;
  e.liquidator = -1;
  e.steps_to_complete = static_cast<std::int32_t>(acc.flagged_since >= 0 ? ctx.step - acc.flagged_since : 0);
  e.bad_debt = from_micros(bad);
  e.endogenous = acc.endogenous_at_flag;
  // The absorbed account's event comes before the ADL events it caused.
  ctx.events.insert(ctx.events.begin() + static_cast<std::ptrdiff_t>(first_event), e);
  ++stats.count;
  stats.notional += notional;
  res.had_positions = true;
  res.bad_debt = bad;
  return res;
}

}  // namespace sl
