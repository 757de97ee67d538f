#include "agents/leveraged_trader.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <string>

namespace sl {

LeveragedTrader::Population::Population(const LeveragedTraderConfig& cfg, Market& m)
    : n_assets(m.assets.size()), long_share(std::clamp(cfg.long_share, 0.0, 1.0)) {
  for (const AssetMarket& am : m.assets) {
    const Tick px = am.perp->price_to_ticks(am.initial_price);
    initial_px.emplace_back(px, am.perp->ticks_to_price(static_cast<double>(px)));
  }
  const auto [lo, hi] = std::minmax(std::max(1.0, cfg.leverage_min), std::max(1.0, cfg.leverage_max));
  log_lev_lo = std::log(lo);
  log_lev_hi = std::log(hi);
  log_notional_sigma = std::max(0.0, cfg.notional_dispersion);
  log_notional_mu = std::log(cfg.notional_mean) - 0.5 * log_notional_sigma * log_notional_sigma;  // the mean is preserved
  entry_last_step = std::max(1, cfg.entry_window_steps) - 1;
  isolated = cfg.margin_mode != "cross";
  initial_entry = cfg.entry_mode == "initial";
  quote_cash_extra = to_fixed(cfg.quote_cash_extra, 1e6);
  can_add_margin = isolated && quote_cash_extra > 0 && cfg.add_margin_probability > 0 && cfg.add_margin_share > 0;
  account_stem = m.ledger.name_stem("leveraged_trader:", "");
  wallet_stem = m.ledger.name_stem("leveraged_trader:", ":wallet");
}

LeveragedTrader::LeveragedTrader(const LeveragedTraderConfig& cfg, std::int32_t agent_id)
    : add_margin_probability_(cfg.add_margin_probability),
      add_margin_share_(cfg.add_margin_share),
      decision_every_steps_(std::max(1, cfg.decision_every_steps)),
      agent_id_(agent_id) {}

LeveragedTrader::LeveragedTrader(const LeveragedTraderConfig& cfg, Market& m, MarginEngine& margin, std::int32_t agent_id,
                                 Rng rng)
    : LeveragedTrader(cfg, agent_id) {
  init(Population(cfg, m), m, margin, rng);
}

LeveragedTrader::LeveragedTrader(const LeveragedTraderConfig& cfg, const Population& pop, Market& m, MarginEngine& margin,
                                 std::int32_t agent_id, Mt64Lane& rng)
    : LeveragedTrader(cfg, agent_id) {
  init(pop, m, margin, rng);
}

namespace {
Rng kept(const Rng& r) { return r; }
Rng kept(const Mt64Lane& r) { return r.engine(); }
}  // namespace

template <class Engine>
void LeveragedTrader::init(const Population& pop, Market& m, MarginEngine& margin, Engine& rng) {
  // The draws, in their documented order (header); distributions are cheap to build, their
  // parameters come from the population.
  boost::random::uniform_int_distribution<std::size_t> pick_asset(0, pop.n_assets - 1);
  asset_ = pick_asset(rng);
  boost::random::bernoulli_distribution<double> is_long(pop.long_share);
  long_ = is_long(rng);
  boost::random::uniform_01<double> u01;  // (uniform_real_distribution rejects lo == hi)
  leverage_ = std::exp(pop.log_lev_lo + u01(rng) * (pop.log_lev_hi - pop.log_lev_lo));
  boost::random::normal_distribution<double> z(pop.log_notional_mu, pop.log_notional_sigma);
  notional_ = std::exp(z(rng));
  boost::random::uniform_int_distribution<std::int64_t> entry(0, pop.entry_last_step);
  entry_step_ = entry(rng);

  isolated_ = pop.isolated;
  Ledger& L = m.ledger;
  // "leveraged_trader:ID" (and ":wallet"), without building the strings.
  const auto id = static_cast<std::uint32_t>(agent_id_);
  account_ = L.open_stem_account(pop.account_stem, id, /*may_go_negative=*/true);
  initial_margin_ = to_fixed(notional_ / leverage_, 1e6);
  L.mint(account_, m.quote_asset, initial_margin_);
  const Micros extra = pop.quote_cash_extra;
  if (isolated_) {
    wallet_ = L.open_stem_account(pop.wallet_stem, id);
    L.mint(wallet_, m.quote_asset, extra);
  } else {
    wallet_ = account_;
    L.mint(account_, m.quote_asset, extra);
  }
  can_add_margin_ = pop.can_add_margin;
  if (can_add_margin_) rng_ = std::make_unique<Rng>(kept(rng));  // decide() draws from it
  margin_id_ = margin.add_account(account_, agent_id_, AgentKind::LeveragedTrader,
                                  isolated_ ? MarginMode::Isolated : MarginMode::Cross,
                                  /*valued_every_step=*/can_add_margin_);  // decide() reads its ratio
  if (pop.initial_entry) {
    // The position predates the run: booked at the initial price against the passive counterparty.
    AssetMarket& am = m.assets[asset_];
    Venue& v = *am.perp;
    const auto [px, px_price] = pop.initial_px[asset_];  // v.price_to_ticks(am.initial_price) and its price
    const Lots lots = v.qty_to_lots(notional_ / px_price);
    if (lots < 1) {
      done_ = true;
      return;
    }
    const Micros contracts = checked_mul(lots, v.spec().lot_micros);
    const Micros cash = v.notional(px, lots);
    book_against_counterparty(m, margin, account_, asset_, long_, contracts, cash);
    entered_ = true;
    if (!can_add_margin_) done_ = true;
  }
}

void LeveragedTrader::enter(Market& m) {
  AssetMarket& am = m.assets[asset_];
  Venue& v = *am.perp;
  const double mid = v.ticks_to_price(am.visible_mid_ticks(v));  // the index when a side is missing
  const Lots lots = v.qty_to_lots(notional_ / mid);
  if (lots < 1) {  // too small to trade: never enters
    done_ = true;
    return;
  }
  const SubmitResult r = v.market(account_, long_ ? Side::Buy : Side::Sell, lots);
  if (r.filled > 0) {
    entered_ = true;
    if (!can_add_margin_) done_ = true;  // nothing left to decide: it never acts again
  } else {
    entry_step_ = m.step + 1;  // empty opposite side: try again next step
  }
}

void LeveragedTrader::decide(Market& m) {
  const MarginAccount& ma = m.margin->account(margin_id_);
  if (ma.closed) {
    done_ = true;
    return;
  }
  if (!(ma.maintenance > 0 && ma.equity < 1.2 * ma.maintenance)) return;
  boost::random::uniform_01<double> u;
  if (u(*rng_) >= add_margin_probability_) return;
  const Micros avail = m.ledger.balance(wallet_, m.quote_asset);
  const Micros amount = std::min(avail, to_fixed(add_margin_share_ * from_micros(initial_margin_), 1e6));
  if (amount <= 0) return;
  m.ledger.transfer(wallet_, account_, m.quote_asset, amount);
  ++margin_additions_;
  if (m.ledger.balance(wallet_, m.quote_asset) <= 0) can_add_margin_ = false;
}

void LeveragedTrader::act(Market& m) {
  if (done_) return;
  if (!entered_) {
    if (m.step >= entry_step_) enter(m);
    return;
  }
  if (m.step % decision_every_steps_ == 0) decide(m);
  if (!can_add_margin_) done_ = true;
}

}  // namespace sl
