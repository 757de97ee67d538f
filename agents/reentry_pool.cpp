#include "agents/reentry_pool.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <cmath>
#include <cstdlib>

#include "sim/perp/margin_engine.hpp"

namespace sl {

namespace {
// The walk up (down) the book a re-entry accepts: its limit is mid x (1 +- kMaxWalk).
constexpr double kMaxWalk = 0.05;
}  // namespace

ReentryPool::ReentryPool(const ReentryConfig& cfg, AccountId account, Rng rng)
    : cfg_(cfg), account_(account), rng_(rng), interval_(std::max(1, cfg.scan_every_steps)) {}

void ReentryPool::scan(Market& m) {
  const std::vector<MarginAccount>& accs = m.margin->accounts();
  if (last_notional_.size() < accs.size()) {  // accounts are registered at setup: sized once
    last_notional_.resize(accs.size(), 0.0);
    last_asset_.resize(accs.size(), 0);
    closed_seen_.resize(accs.size(), 0);
  }
  for (std::size_t id = 0; id < accs.size(); ++id) {
    const MarginAccount& a = accs[id];
    if (a.owner_kind != AgentKind::LeveragedTrader || closed_seen_[id]) continue;
    if (!a.closed) {
      // Notional from the ledger at the index (not the margin engine's last valuation, which the
      // "index" margin scan refreshes only for some accounts: both scans must give the same run).
      double notional = 0.0, biggest = 0.0;
      for (std::size_t i = 0; i < m.assets.size(); ++i) {
        const double c = std::abs(from_micros(m.ledger.balance(a.account, m.assets[i].perp_asset))) * m.assets[i].index_or_reference();
        notional += c;
        if (c > biggest) {
          biggest = c;
          last_asset_[id] = static_cast<std::uint32_t>(i);
        }
      }
      if (notional > 0) last_notional_[id] = notional;
      continue;
    }
    closed_seen_[id] = 1;
    ++seen_;
    boost::random::bernoulli_distribution<double> comes_back(cfg_.probability);
    if (!comes_back(rng_)) continue;
    boost::random::exponential_distribution<double> delay_s(1.0 / cfg_.delay_mean_s);
    const auto delay_steps = static_cast<std::int64_t>(std::ceil(delay_s(rng_) / m.dt_s));
    boost::random::bernoulli_distribution<double> is_short(cfg_.short_share);
    const bool sh = is_short(rng_);
    pending_.push_back({m.step + delay_steps, last_asset_[id], sh, cfg_.notional_share * last_notional_[id]});
    ++scheduled_;
  }
}

void ReentryPool::enter_due(Market& m) {
  // Due re-entries in the order they were scheduled; the rest keep their order.
  std::size_t keep = 0;
  for (std::size_t k = 0; k < pending_.size(); ++k) {
    const Pending p = pending_[k];
    if (p.due_step > m.step) {
      pending_[keep++] = p;
      continue;
    }
    AssetMarket& am = m.assets[p.asset];
    Venue& v = *am.perp;
    // Two-sided mid, the index when a side is missing (issue #14: never a one-sided book's last trade).
    const double mid_t = am.visible_mid_ticks(v);
    const double mid = v.ticks_to_price(mid_t);
    const Lots lots = v.qty_to_lots(p.notional / mid);
    // An IOC limit at the 5% walk it budgets for: buy at most mid x 1.05, sell at least mid x 0.95;
    // what does not fill there is dropped (issue #14: an unbounded market buy swept stale asks +28%).
    const Tick limit = p.is_short ? std::max<Tick>(1, static_cast<Tick>(std::ceil(mid_t * (1.0 - kMaxWalk))))
                                  : std::min(v.spec().max_tick, static_cast<Tick>(std::floor(mid_t * (1.0 + kMaxWalk))));
    if (lots < 1) continue;
    AccountId trader = account_;
    if (cfg_.leverage > 0) {
      // Its own account, given notional / leverage of the pool's cash as margin.
      const Micros margin = to_fixed(p.notional / cfg_.leverage, 1e6);
      if (next_slot_ >= slots_.size() || m.ledger.balance(account_, m.quote_asset) < margin) {
        ++skipped_;
        continue;
      }
      trader = slots_[next_slot_++];
      m.ledger.transfer(account_, trader, m.quote_asset, margin);
    } else {
      // A long pays notional and fee from the pool's cash, at most its limit price.
      const Micros need = v.notional(limit, lots);
      if (!p.is_short && m.ledger.balance(account_, m.quote_asset) < need + v.fee(need, false)) {
        ++skipped_;
        continue;
      }
    }
    const SubmitResult r = v.limit(trader, p.is_short ? Side::Sell : Side::Buy, limit, lots, TimeInForce::IOC);
    if (r.filled > 0) {
      ++done_;
      if (p.is_short) ++shorts_;
    } else {
      ++skipped_;
    }
  }
  pending_.resize(keep);
}

void ReentryPool::act(Market& m) {
  scan(m);
  enter_due(m);
}

}  // namespace sl
