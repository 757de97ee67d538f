#include "agents/basis_trader.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <string>

namespace sl {

const char* hedge_kind_name(HedgeKind k) {
  switch (k) {
    case HedgeKind::Unified: return "unified";
    case HedgeKind::CrossAsset: return "cross_asset";
    case HedgeKind::Wallet: break;
  }
  return "wallet";
}

BasisTrader::BasisTrader(const BasisTraderConfig& cfg, Market& m, MarginEngine& margin, std::int32_t agent_id,
                         double funding_interval_s, Rng rng)
    : cfg_(cfg),
      agent_id_(agent_id),
      annualize_(365.0 * 86400.0 / (funding_interval_s > 0 ? funding_interval_s : 28'800.0)),
      rng_(rng) {
  cfg_.decision_every_steps = std::max(1, cfg_.decision_every_steps);
  cfg_.transfer_delay_steps = std::max(0, cfg_.transfer_delay_steps);
  const double s = std::max(0.0, cfg.notional_dispersion);
  boost::random::normal_distribution<double> z(std::log(cfg.notional_mean) - 0.5 * s * s, s);
  notional_ = std::exp(z(rng_));
  // Kind, leverage and unified share (header): each drawn only when its option is on.
  const bool kinds = cfg.unified_share > 0 || cfg.cross_asset_share > 0;
  if (kinds) {
    const double u = boost::random::uniform_01<double>()(rng_);
    kind_ = u < cfg.unified_share ? HedgeKind::Unified
            : u < cfg.unified_share + cfg.cross_asset_share ? HedgeKind::CrossAsset
                                                            : HedgeKind::Wallet;
  } else {
    kind_ = cfg.margin_asset_index >= 0 ? HedgeKind::CrossAsset : HedgeKind::Wallet;
  }
  leverage_ = std::max(1.0, cfg.leverage);
  if (cfg.leverage_max > 0 && cfg.leverage_max > leverage_) {
    const double u = boost::random::uniform_01<double>()(rng_);
    leverage_ = std::exp(std::log(leverage_) + u * (std::log(cfg.leverage_max) - std::log(leverage_)));
  }
  if (kind_ == HedgeKind::Unified) {
    unified_share_ = cfg.spot_collateral_share;
    if (cfg.spot_collateral_share_max >= 0) {
      const double u = boost::random::uniform_01<double>()(rng_);
      unified_share_ = cfg.spot_collateral_share + u * (cfg.spot_collateral_share_max - cfg.spot_collateral_share);
    }
  }
  margin_asset_ = kind_ == HedgeKind::CrossAsset ? cfg.margin_asset_index : -1;
  // Legacy populations post spot_collateral_share through the transit (or at once when "initial");
  // with kinds, only the unified kind holds spot in the account, bought there (not posted).
  if (kinds) cfg_.spot_collateral_share = 0.0;

  Ledger& L = m.ledger;
  const Venue& spot = *m.assets[kAsset].spot;
  const std::string name = "basis_trader:" + std::to_string(agent_id);
  wallet_ = L.open_account(name + ":wallet");
  account_ = L.open_account(name, /*may_go_negative=*/true);
  // The wallet pays for the spot it holds: all of it, or 1 - s for a unified trader.
  // (A unified trader's wallet gets one lot more: its lots are the rest of round(s x lots).)
  const double lot_value = unified_share_ > 0 ? spot.spec().lot_size * m.assets[kAsset].initial_price : 0.0;
  const double wallet_cash =
      (notional_ * (1.0 - unified_share_) + lot_value) * 1.01 * (1.0 + spot.spec().taker_fee_bps * 1e-4) + cfg.quote_cash_extra;
  L.mint(wallet_, m.quote_asset, to_fixed(wallet_cash, 1e6));
  const double margin_quote = notional_ / leverage_;
  if (margin_asset_ >= 0) {
    // Margin posted in another asset's spot, worth margin_quote at that asset's initial price.
    const AssetMarket& ma = m.assets[static_cast<std::size_t>(margin_asset_)];
    L.mint(account_, ma.spot_asset, to_fixed(margin_quote / ma.initial_price, 1e6));
  } else {
    L.mint(account_, m.quote_asset, to_fixed(margin_quote, 1e6));
  }
  margin_id_ = margin.add_account(account_, agent_id, AgentKind::BasisTrader, MarginMode::Cross, /*valued_every_step=*/cfg.top_up);
  if (cfg.entry_mode == "initial") {
    // The basis trade predates the run: spot bought and perp sold at the initial price against the
    // passive counterparty; spot_collateral_share of the spot is already in the margin account
    // (legacy), or the unified share s was bought by the margin account itself.
    AssetMarket& am = m.assets[kAsset];
    const Venue& perp = *am.perp;
    const Tick px = spot.price_to_ticks(am.initial_price);
    const Lots lots = spot.qty_to_lots(notional_ / spot.ticks_to_price(static_cast<double>(px)));
    if (lots < 1) {
      done_ = true;
      return;
    }
    const AccountId cp = m.counterparty_account;
    const Lots in_account = static_cast<Lots>(std::llround(unified_share_ * static_cast<double>(lots)));
    const Lots in_wallet = lots - in_account;
    const Micros slot = spot.spec().lot_micros;
    if (in_wallet > 0) {
      L.transfer(cp, wallet_, am.spot_asset, checked_mul(in_wallet, slot));
      L.transfer(wallet_, cp, m.quote_asset, spot.notional(px, in_wallet));
    }
    if (in_account > 0) {
      L.transfer(cp, account_, am.spot_asset, checked_mul(in_account, slot));
      L.transfer(account_, cp, m.quote_asset, spot.notional(px, in_account));
    }
    book_against_counterparty(m, margin, account_, kAsset, /*trader_long=*/false, checked_mul(lots, perp.spec().lot_micros),
                              perp.notional(px, lots));
    const Micros qty = checked_mul(in_wallet, slot);
    const Micros posted = static_cast<Micros>(std::floor(cfg_.spot_collateral_share * static_cast<double>(qty)));
    if (posted > 0) L.transfer(wallet_, account_, am.spot_asset, posted);
    target_lots_ = hedged_lots_ = lots;
    slices_ = 1;  // the entry is done
  }
}

Micros BasisTrader::in_transit() const {
  Micros t = 0;
  for (std::size_t i = 0; i < n_pending_; ++i) t += pending_[i].amount;
  return t;
}

Micros BasisTrader::spot_owned(const Market& m) const {
  const AssetId a = m.assets[kAsset].spot_asset;
  return m.ledger.balance(wallet_, a) + m.ledger.balance(account_, a) + in_transit();
}

bool BasisTrader::entry_signal(const Market& m) const {
  if (cfg_.entry_basis_annual < 0) return true;
  const AssetMarket& am = m.assets[kAsset];
  // Two-sided mids, the index when a side is missing (issue #14).
  const double spot_mid = am.spot->ticks_to_price(am.visible_mid_ticks(*am.spot));
  const double perp_mid = am.perp->ticks_to_price(am.visible_mid_ticks(*am.perp));
  const double premium = perp_mid / spot_mid - 1.0;
  return std::max(premium, am.funding_rate) * annualize_ > cfg_.entry_basis_annual;
}

bool BasisTrader::send_collateral(Market& m, Micros amount) {
  if (amount <= 0) return false;
  const AssetId a = m.assets[kAsset].spot_asset;
  amount = std::min(amount, m.ledger.balance(wallet_, a));
  if (amount <= 0) return false;
  m.ledger.transfer(wallet_, m.transit_account, a, amount);
  const std::int64_t arrive = m.step + cfg_.transfer_delay_steps;
  if (n_pending_ == kMaxPending) {
    pending_[n_pending_ - 1].amount += amount;
    pending_[n_pending_ - 1].arrive_step = arrive;
  } else {
    pending_[n_pending_++] = Pending{arrive, amount};
  }
  if (cfg_.transfer_delay_steps == 0) deliver(m);
  return true;
}

// Arrivals are in step order (constant delay). Collateral arriving after the margin account was
// closed goes back to the wallet.
void BasisTrader::deliver(Market& m) {
  const AssetId a = m.assets[kAsset].spot_asset;
  const bool closed = m.margin->account(margin_id_).closed;
  std::size_t k = 0;
  while (k < n_pending_ && pending_[k].arrive_step <= m.step) {
    m.ledger.transfer(m.transit_account, closed ? wallet_ : account_, a, pending_[k].amount);
    ++k;
  }
  if (k == 0) return;
  std::move(pending_.begin() + static_cast<std::ptrdiff_t>(k), pending_.begin() + static_cast<std::ptrdiff_t>(n_pending_),
            pending_.begin());
  n_pending_ -= k;
}

void BasisTrader::entry_slice(Market& m) {
  AssetMarket& am = m.assets[kAsset];
  Venue& spot = *am.spot;
  Venue& perp = *am.perp;
  ++slices_;
  const double slip = kEntrySlippageBps * 1e-4;
  const Lots want = target_lots_ - hedged_lots_;
  if (want > 0) {
    const Tick buy_px = std::min(spot.spec().max_tick, static_cast<Tick>(std::ceil(am.visible_mid_ticks(spot) * (1.0 + slip))));
    // A unified trader buys the share s of the slice inside the margin account (on margin).
    const Lots want_acc = static_cast<Lots>(std::llround(unified_share_ * static_cast<double>(want)));
    const Lots bought_acc = want_acc > 0 ? spot.limit(account_, Side::Buy, buy_px, want_acc, TimeInForce::IOC).filled : 0;
    const Lots bought_wal = want > want_acc ? spot.limit(wallet_, Side::Buy, buy_px, want - want_acc, TimeInForce::IOC).filled : 0;
    const Lots bought = bought_acc + bought_wal;
    if (bought > 0) {
      const Tick sell_px = std::max<Tick>(1, static_cast<Tick>(std::floor(am.visible_mid_ticks(perp) * (1.0 - slip))));
      const Lots shorted = perp.limit(account_, Side::Sell, sell_px, bought, TimeInForce::IOC).filled;
      if (shorted < bought) {  // unhedged spot goes back, the wallet's first
        const Lots back_wal = std::min(bought - shorted, bought_wal);
        if (back_wal > 0) spot.market(wallet_, Side::Sell, back_wal);
        if (bought - shorted > back_wal) spot.market(account_, Side::Sell, bought - shorted - back_wal);
      }
      hedged_lots_ += shorted;
      if (shorted > 0 && cfg_.spot_collateral_share > 0) {
        const double moved = cfg_.spot_collateral_share * static_cast<double>(shorted * spot.spec().lot_micros);
        send_collateral(m, static_cast<Micros>(std::floor(moved)));
      }
    }
  }
  if (hedged_lots_ >= target_lots_ || slices_ >= kMaxEntrySlices) {
    entering_ = false;
    if (hedged_lots_ == 0) done_ = true;  // never got a position: gives up
  }
}

void BasisTrader::decide(Market& m) {
  if (hedged_lots_ > 0) {
    const MarginAccount& ma = m.margin->account(margin_id_);
    if (ma.closed) {
      done_ = true;
      entering_ = false;
      return;
    }
    if (cfg_.top_up && n_pending_ == 0 && ma.maintenance > 0 && ma.equity < cfg_.topup_ratio * ma.maintenance) {
      const Micros held = m.ledger.balance(wallet_, m.assets[kAsset].spot_asset);
      if (send_collateral(m, static_cast<Micros>(std::floor(cfg_.topup_share * static_cast<double>(held))))) ++topups_;
    }
  }
  if (entering_) {
    entry_slice(m);
  } else if (slices_ == 0 && entry_signal(m)) {
    AssetMarket& am = m.assets[kAsset];
    const Venue& spot = *am.spot;
    target_lots_ = spot.qty_to_lots(notional_ / spot.ticks_to_price(am.visible_mid_ticks(spot)));
    if (target_lots_ < 1) {
      done_ = true;  // too small to trade
      return;
    }
    entering_ = true;
    entry_slice(m);
  }
}

void BasisTrader::act(Market& m) {
  deliver(m);
  if (!done_ && m.step % cfg_.decision_every_steps == 0) decide(m);
}

}  // namespace sl
