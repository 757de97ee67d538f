#include "sim/perp/margin_engine.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "sim/core/huge_pages.hpp"
#include "sim/perp/watch_bands.hpp"

namespace sl {

MarginEngine::MarginEngine(const PerpConfig& cfg, Market& market)
    : tiers_(cfg.margin_tiers), market_(market), index_(0) {
  accounts_.reserve(1024);
  flagged_.reserve(1024);
  order_.reserve(1024);
  scan_ = cfg.margin_scan == "full" ? MarginScan::Full : MarginScan::Index;
  watch_far_ = cfg.watch_far_factor;
  inv_watch_far_ = 1.0 / watch_far_;
  // The proactive de-risker reads every account's equity / maintenance against its trigger ratio:
  // bands then keep equity above trigger_ratio x maintenance, so a skipped account's last valuation
  // gives it the same answer as a fresh one.
  if (cfg.liquidation.proactive.enabled) watch_ratio_ = std::max(1.0, cfg.liquidation.proactive.trigger_ratio);
  for (std::size_t t = 0; t < tiers_.size(); ++t) {
    tier_rates_.push_back({tiers_[t].max_notional, tiers_[t].mmr_bps * 1e-4});
    if (t > 0 && tiers_[t].mmr_bps < tiers_[t - 1].mmr_bps) index_usable_ = false;
  }
}

void MarginEngine::reserve(std::size_t n_accounts, std::size_t n_ledger_accounts) {
  reserve_huge(accounts_, n_accounts);
  margin_of_.reserve(n_ledger_accounts);
  margin_of_.grow_to(n_ledger_accounts);  // not grown one account at a time
  reserve_huge(queued_, n_accounts);
  reserve_huge(entry_price_, n_accounts * market_.assets.size());
}

std::uint32_t MarginEngine::add_account(AccountId account, std::int32_t owner_agent, AgentKind kind, MarginMode mode,
                                        bool valued_every_step) {
  MarginAccount a;
  a.account = account;
  a.owner_agent = owner_agent;
  a.owner_kind = kind;
  a.mode = mode;
  a.valued_every_step = valued_every_step;
  accounts_.push_back(a);
  const auto id = static_cast<std::uint32_t>(accounts_.size() - 1);
  margin_of_.grow_to(static_cast<std::size_t>(account) + 1);
  margin_of_.set(account, id);
  if (index_assets_ != kNoAssets) every_step_.push_back(id);  // else the first mark values everyone
  entry_price_.resize(accounts_.size() * market_.assets.size(), 0.0);
  return id;
}

double MarginEngine::entry_price(const MarginAccount& a, std::size_t asset) const {
  const std::size_t id = a.account < margin_of_.size() ? margin_of_[a.account] : kNoMargin;
  if (id == kNoMargin) return 0.0;
  const std::size_t k = id * market_.assets.size() + asset;
  return k < entry_price_.size() ? entry_price_[k] : 0.0;
}

void MarginEngine::record_fill(AccountId account, std::size_t asset, Micros delta, double price) {
  if (delta == 0 || account >= margin_of_.size() || margin_of_[account] == kNoMargin) return;
  const std::size_t k = static_cast<std::size_t>(margin_of_[account]) * market_.assets.size() + asset;
  if (k >= entry_price_.size()) entry_price_.resize(accounts_.size() * market_.assets.size(), 0.0);
  double& e = entry_price_[k];
  const Micros now = market_.ledger.balance(account, market_.assets[asset].perp_asset);
  const Micros before = now - delta;
  if (now == 0) {
    e = 0.0;  // flat
  } else if (before == 0 || (before > 0) != (now > 0) || !(e > 0)) {
    e = price;  // opened, or flipped: what is open now was opened at this fill
  } else if ((now > 0 && delta > 0) || (now < 0 && delta < 0)) {
    // Added to: volume-weighted average of the old entry and this fill.
    const double old_units = std::abs(static_cast<double>(before)), add = std::abs(static_cast<double>(delta));
    e = (old_units * e + add * price) / (old_units + add);
  }  // reduced: the entry price is unchanged
}

void MarginEngine::on_perp_fill(AssetId perp_asset, AccountId buyer, AccountId seller, Micros base, double price) {
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    if (market_.assets[i].perp_asset != perp_asset) continue;
    record_fill(buyer, i, base, price);
    record_fill(seller, i, -base, price);
    return;
  }
}

void book_against_counterparty(Market& m, MarginEngine& margin, AccountId trader, std::size_t asset, bool trader_long,
                               Micros contracts, Micros cash) {
  Ledger& L = m.ledger;
  const AccountId cp = m.counterparty_account;
  const AssetId perp = m.assets[asset].perp_asset;
  if (trader_long) {
    L.transfer(cp, trader, perp, contracts);
    L.transfer(trader, cp, m.quote_asset, cash);
  } else {
    L.transfer(trader, cp, perp, contracts);
    L.transfer(cp, trader, m.quote_asset, cash);
  }
  record_counterparty_booking(m, margin, trader, asset, trader_long, contracts, cash);
}

void add_counterparty_cash(Market& m, std::size_t asset, Micros signed_cash) {
  if (m.counterparty_perp_cash.size() < m.assets.size()) m.counterparty_perp_cash.resize(m.assets.size(), 0);
  m.counterparty_perp_cash[asset] += signed_cash;
}

void record_counterparty_booking(Market& m, MarginEngine& margin, AccountId trader, std::size_t asset, bool trader_long,
                                 Micros contracts, Micros cash) {
  add_counterparty_cash(m, asset, trader_long ? cash : -cash);
  if (contracts > 0) margin.record_fill(trader, asset, trader_long ? contracts : -contracts, from_micros(cash) / from_micros(contracts));
}

// Prices used for valuation. Before the kernel has published an index/mark (or if a book is empty
// and the stand-in is 0) the reference is used.
double MarginEngine::price(std::size_t asset, PriceBasis basis, bool contract) const {
  const AssetMarket& am = market_.assets[asset];
  if (basis == PriceBasis::Reference) return am.reference.price();
  return contract ? am.mark_or_reference() : am.index_or_reference();
}

double MarginEngine::mmr(double notional) const {
  for (const auto& t : tiers_)
    if (notional <= t.max_notional) return t.mmr_bps * 1e-4;
  return tiers_.back().mmr_bps * 1e-4;
}

double MarginEngine::imr(double notional) const {
  for (const auto& t : tiers_)
    if (notional <= t.max_notional) return t.imr_bps * 1e-4;
  return tiers_.back().imr_bps * 1e-4;
}

double MarginEngine::position(const MarginAccount& a, std::size_t asset) const {
  return from_micros(market_.ledger.balance(a.account, market_.assets[asset].perp_asset));
}

double MarginEngine::equity(const MarginAccount& a, PriceBasis basis) const {
  const Ledger& L = market_.ledger;
  double e = from_micros(L.balance(a.account, market_.quote_asset));
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const AssetMarket& am = market_.assets[i];
    const Micros spot = L.balance(a.account, am.spot_asset);
    if (spot != 0) e += from_micros(spot) * price(i, basis, false) * (1.0 - am.collateral_haircut);
    const Micros contracts = L.balance(a.account, am.perp_asset);
    if (contracts != 0) e += from_micros(contracts) * price(i, basis, true);
  }
  return e;
}

// Sum over positions of notional x the tier rate of that notional (maintenance or initial).
double MarginEngine::requirement(const MarginAccount& a, PriceBasis basis, bool maintenance_rate) const {
  double req = 0;
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const Micros contracts = market_.ledger.balance(a.account, market_.assets[i].perp_asset);
    if (contracts == 0) continue;
    const double notional = std::abs(from_micros(contracts)) * price(i, basis, true);
    req += notional * (maintenance_rate ? mmr(notional) : imr(notional));
  }
  return req;
}

double MarginEngine::bankruptcy_price(const MarginAccount& a, std::size_t asset) const {
  const double c = position(a, asset);
  if (c == 0) return 0.0;
  // equity(p) = E0 + c (p - p0) = 0
  const double p0 = price(asset, PriceBasis::Mark, true);
  const double p = p0 - equity(a, PriceBasis::Mark) / c;
  return p > 0 ? p : 0.0;
}

MarginEngine::Valuation MarginEngine::value_of(AccountId acc) const {
  const Ledger& L = market_.ledger;
  double eq = from_micros(L.balance(acc, market_.quote_asset));
  double req = 0, gross = 0;
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const AssetMarket& am = market_.assets[i];
    const Micros spot = L.balance(acc, am.spot_asset);
    if (spot != 0) eq += from_micros(spot) * price(i, PriceBasis::Mark, false) * (1.0 - am.collateral_haircut);
    const Micros contracts = L.balance(acc, am.perp_asset);
    const double mark = price(i, PriceBasis::Mark, true);
    if (contracts != 0) {
      eq += from_micros(contracts) * mark;
      const double notional = std::abs(from_micros(contracts)) * mark;
      req += notional * mmr(notional);
    }
    gross += std::abs(from_micros(contracts)) * mark;
  }
  return {eq, req, gross};
}

bool MarginEngine::mark_one(std::uint32_t id, std::int64_t step) {
  MarginAccount& a = accounts_[id];
  // equity(a, Mark), maintenance(a, Mark) and the gross notional in one pass over the balances
  // (each sum the same terms in the same order as those functions: the same doubles).
  const Valuation v = value_of(a.account);
  const double eq = v.equity, req = v.maintenance, gross = v.gross;
  a.equity = eq;
  a.maintenance = req;
  a.gross_notional = gross;
  if (a.opening_equity < 0 && gross > 0) a.opening_equity = a.equity;
  // An account with positions is liquidatable below maintenance; one without positions only
  // when its collateral no longer covers its debt (negative equity).
  a.liquidatable = (gross > 0 && a.equity < a.maintenance) || a.equity < 0;
  if (a.liquidatable) {
    if (a.flagged_since < 0) {
      a.flagged_since = step;
      // Classified when the spell starts: a liquidation that executes later (no bids, latency)
      // keeps the cause of its trigger.
      a.endogenous_at_flag = healthy_at_reference(a);
    }
  } else {
    a.flagged_since = -1;
  }
  return a.liquidatable;
}

void MarginEngine::mark_all(std::int64_t step) {
  flagged_.clear();
  valued_last_ = 0;
  if (scan_ == MarginScan::Index && index_usable_) {
    mark_indexed(step);
  } else {
    materialise_all_watched();  // a full scan values every account
    for (std::uint32_t id = 0; id < accounts_.size(); ++id) {
      if (accounts_[id].closed) continue;
      ++valued_last_;
      if (mark_one(id, step)) flagged_.push_back(id);
    }
    market_.ledger.track_changes(false);
    market_.ledger.clear_changes();
    index_assets_ = kNoAssets;  // the index is out of date: rebuilt if the scan is switched back
  }
  // Flagged ids come in id order from the full scan and in another order from the index; the sort
  // by (ratio, id) below makes both the same list (and one flagged account needs no order).
  if (flagged_.size() > 1) order_flagged();
}

void MarginEngine::mark_indexed(std::int64_t step) {
  const std::size_t n_assets = market_.assets.size();
  bool all = false;
  if (index_assets_ != n_assets) {  // first mark (or after full scans): value everyone, then index
    index_ = LiquidationPriceIndex(n_assets);
    index_.reserve_ids(accounts_.size());
    index_assets_ = n_assets;
    every_step_.clear();
    marks_.assign(n_assets, 0.0);
    indices_.assign(n_assets, 0.0);
    haircuts_.assign(n_assets, -1.0);
    exposure_.assign(n_assets, AssetExposure{});
    all = true;
  }
  prices_ok_ = true;
  haircut_moved_.assign(n_assets, 0);
  bool any_haircut_moved = false;
  for (std::size_t i = 0; i < n_assets; ++i) {
    marks_[i] = price(i, PriceBasis::Mark, true);
    indices_[i] = price(i, PriceBasis::Mark, false);
    if (!(marks_[i] > 0 && indices_[i] > 0 && std::isfinite(marks_[i]) && std::isfinite(indices_[i]))) prices_ok_ = false;
    // A haircut moves the value of every account holding that asset's spot (and nothing else):
    // those accounts are valued again below; the others' bands hold, having no term in it.
    const double h = market_.assets[i].collateral_haircut;
    if (h != haircuts_[i]) {
      haircut_moved_[i] = 1;
      any_haircut_moved = true;
    }
    haircuts_[i] = h;
  }
  next_every_step_.clear();
  const auto value = [&](std::uint32_t id) {
    if (accounts_[id].closed) {
      index_.remove(id);
      return;
    }
    ++valued_last_;
    if (mark_one(id, step)) flagged_.push_back(id);
    index_or_keep(id);
  };
  // Watched positions first: those a price left (or, prices unusable, all) become margin accounts
  // and are valued below with the others; after a haircut change every band is computed again.
  std::size_t first_added = accounts_.size();
  if (watched_count() > 0) {
    if (!prices_ok_) {
      materialise_all_watched();
    } else {
      const std::size_t a = watch_asset_;
      const bool far_reached = marks_[a] <= far_mark_lo_ || marks_[a] >= far_mark_hi_ || indices_[a] <= far_index_lo_ ||
                               indices_[a] >= far_index_hi_;
      if (far_reached) rewatch_all();
      // A haircut moves only what spot collateral is worth: the spot holders' bands are computed
      // again when it differs from the one they were computed at (set-up's included: a shock may
      // move it at step 0).
      else if (market_.assets[watch_asset_].collateral_haircut != watch_haircut_) rewatch_spot_holders();
      watch_crossed_.clear();
      watch_index_.crossed(marks_, indices_, watch_crossed_);
      watch_spot_index_.crossed(marks_, indices_, watch_crossed_);
      std::sort(watch_crossed_.begin(), watch_crossed_.end());
      for (std::size_t j = 0; j < watch_crossed_.size(); ++j)
        if ((j == 0 || watch_crossed_[j] != watch_crossed_[j - 1]) && margin_of_[watch_first_ + watch_crossed_[j]] == kNoMargin)
          materialise(watch_crossed_[j]);
    }
  }
  if (!first_marked_) {
    first_marked_ = true;
    marks0_ = marks_;
    indices0_ = indices_;
    haircuts0_.assign(n_assets, 0.0);
    for (std::size_t i = 0; i < n_assets; ++i) haircuts0_[i] = market_.assets[i].collateral_haircut;
  }
  index_.resize(accounts_.size());
  queued_.resize(accounts_.size(), 0);
  if (all || !prices_ok_) {
    index_.reserve(accounts_.size());
    index_.begin_bulk();
    for (std::uint32_t id = 0; id < accounts_.size(); ++id) value(id);
    index_.end_bulk();
  } else {
    candidates_.clear();
    candidates_.insert(candidates_.end(), every_step_.begin(), every_step_.end());
    for (std::size_t id = first_added; id < accounts_.size(); ++id) candidates_.push_back(static_cast<std::uint32_t>(id));
    for (const AccountId acc : market_.ledger.changed_accounts()) {
      if (is_watched(acc))
        throw std::logic_error("MarginEngine: the balances of watched position " + market_.ledger.account_name(acc) +
                               " changed before it was made a margin account");
      if (acc < margin_of_.size() && margin_of_[acc] != kNoMargin) candidates_.push_back(margin_of_[acc]);
    }
    if (any_haircut_moved)
      for (std::size_t i = 0; i < n_assets; ++i) {
        if (!haircut_moved_[i]) continue;
        market_.ledger.for_each_holder(market_.assets[i].spot_asset, [this](AccountId acc) {
          if (acc < margin_of_.size() && margin_of_[acc] != kNoMargin) candidates_.push_back(margin_of_[acc]);
        });
      }
    index_.crossed(marks_, indices_, candidates_);
    for (const std::uint32_t id : candidates_) {
      if (queued_[id]) continue;
      queued_[id] = 1;
      value(id);
    }
    for (const std::uint32_t id : candidates_) queued_[id] = 0;
  }
  // Changes are listed from the first indexed mark on (everyone was valued then); the list is
  // drained every mark, so it holds at most the accounts touched since the last one.
  market_.ledger.track_changes(true);
  market_.ledger.clear_changes();
  every_step_.swap(next_every_step_);
}

void MarginEngine::accounts_not_vouched_for(std::vector<std::uint32_t>& out) {
  out.clear();
  const std::size_t n_assets = market_.assets.size();
  bool vouched = scan_ == MarginScan::Index && index_usable_ && index_assets_ == n_assets && prices_ok_;
  for (std::size_t i = 0; vouched && i < n_assets; ++i)
    vouched = marks_[i] == price(i, PriceBasis::Mark, true) && indices_[i] == price(i, PriceBasis::Mark, false) &&
              haircuts_[i] == market_.assets[i].collateral_haircut;
  if (!vouched) {
    materialise_all_watched();
    for (std::uint32_t id = 0; id < accounts_.size(); ++id) out.push_back(id);
  } else {
    // A watched position is inside its bands at these prices (the last mark made every position a
    // price left a margin account): healthy, equity >= 0.
    out.insert(out.end(), every_step_.begin(), every_step_.end());
    for (const AccountId acc : market_.ledger.changed_accounts())
      if (acc < margin_of_.size() && margin_of_[acc] != kNoMargin) out.push_back(margin_of_[acc]);
  }
  std::sort(out.begin(), out.end(), [this](std::uint32_t x, std::uint32_t y) { return accounts_[x].account < accounts_[y].account; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

bool MarginEngine::bands_of(AccountId acc, double equity, double maintenance) {
  const Ledger& L = market_.ledger;
  const double quote = from_micros(L.balance(acc, market_.quote_asset));
  // Rounding allowance: far above the floating-point error of summing these terms, far below
  // any margin that matters (1e-9 of the account's gross values).
  double scale = std::abs(quote) + watch_ratio_ * maintenance;
  for (std::size_t i = 0; i < market_.assets.size(); ++i) {
    const AssetMarket& am = market_.assets[i];
    AssetExposure& x = exposure_[i];
    x.spot = from_micros(L.balance(acc, am.spot_asset));
    x.haircut = am.collateral_haircut;
    x.index = indices_[i];
    x.contracts = from_micros(L.balance(acc, am.perp_asset));
    x.mark = marks_[i];
    scale += std::abs(x.spot) * x.index + std::abs(x.contracts) * x.mark;
  }
  const double h0 = equity - watch_ratio_ * maintenance;
  return liquidation_bands(exposure_, h0, 1e-9 * scale, watch_ratio_, tier_rates_, mark_bands_, index_bands_);
}

void MarginEngine::index_or_keep(std::uint32_t id) {
  const MarginAccount& a = accounts_[id];
  bool indexed = false;
  if (!a.liquidatable && !a.in_liquidation && !a.valued_every_step && prices_ok_) {
    indexed = bands_of(a.account, a.equity, a.maintenance);
    if (indexed) index_.insert(id, mark_bands_, index_bands_);
  }
  if (!indexed) {
    index_.remove(id);
    next_every_step_.push_back(id);
  }
}

// ---- Watched positions ----

void MarginEngine::begin_watch(AccountId first, std::size_t n, std::size_t asset, std::function<WatchedPosition(std::size_t)> describe) {
  if (watch_n_ != 0) throw std::logic_error("MarginEngine::begin_watch: one block of watched positions per run");
  const std::size_t n_assets = market_.assets.size();
  if (asset >= n_assets) throw std::logic_error("MarginEngine::begin_watch: unknown asset");
  watch_first_ = first;
  watch_n_ = n;
  watch_asset_ = asset;
  reset_far_edges();
  describe_ = std::move(describe);
  watch_index_ = WatchIndex(n_assets);
  watch_index_.reserve(n);
  watch_spot_index_ = WatchIndex(n_assets);
  watch_spot_.clear();
  // The set-up prices (the reference until the kernel publishes): a band computed at them holds
  // whatever the first mark's prices are, as long as they are inside it (checked then).
  marks_.assign(n_assets, 0.0);
  indices_.assign(n_assets, 0.0);
  exposure_.assign(n_assets, AssetExposure{});
  watch_prices_ok_ = true;
  for (std::size_t i = 0; i < n_assets; ++i) {
    marks_[i] = price(i, PriceBasis::Mark, true);
    indices_[i] = price(i, PriceBasis::Mark, false);
    if (!(marks_[i] > 0 && indices_[i] > 0 && std::isfinite(marks_[i]) && std::isfinite(indices_[i]))) watch_prices_ok_ = false;
  }
  watch_haircut_ = market_.assets[asset].collateral_haircut;
  margin_of_.grow_to(first + n);
}

// Watched positions valued at marks_ / indices_ and today's haircut and banded as index_or_keep bands
// an account (liquidation_bands_one: the same bands for one asset, the same operations in the same
// order). A block at a time and without a branch on the data: a position's side, whether it holds
// spot and whether an edge is far are coin tosses, so each choice is a select between values both
// computed (a division by zero or an infinity in the branch not taken is computed and discarded).
// The balances are read as micro-units x 1e-6 (not / 1e6 as from_micros: within an ulp, the
// division being the loop's slowest step): a band needs only to be conservative, and the rounding
// allowance (1e-9 of the position's gross values) is ten million times any such error, so a
// position banded here is healthy with its margin to spare, and one that is not is simply added
// (valued exactly by mark_one from then on).
std::size_t MarginEngine::band_watched(const std::uint32_t* ks, std::size_t n, std::uint32_t* unbanded, std::vector<std::uint32_t>* spot_holders,
                                       const Ledger::BulkOpening::BlockColumns* booked, std::size_t booked_offset) {
  static_assert(kWatchChunk <= kWatchBandBlock && kWatchChunk % kWatchBandGroup == 0);
  const Ledger& L = market_.ledger;
  const std::size_t a = watch_asset_;
  const AssetMarket& am = market_.assets[a];
  const AssetId quote_asset = market_.quote_asset, spot_asset = am.spot_asset, perp_asset = am.perp_asset;
  WatchBandPrices prices;
  prices.index = indices_[a];
  prices.mark = marks_[a];
  prices.haircut = am.collateral_haircut;
  prices.k = watch_ratio_;
  prices.far_factor = watch_far_;
  prices.inv_far_factor = inv_watch_far_;
  // The positions' balances, then their bands on SIMD lanes (sim/perp/watch_bands.hpp); the rest
  // of the last group of four: positions of no balances (banded, with no edge).
  double quote[kWatchChunk], spot[kWatchChunk], contracts[kWatchChunk];
  if (booked != nullptr) {
    for (std::size_t j = 0; j < n; ++j) {
      quote[j] = static_cast<double>(booked->at(quote_asset, booked_offset + j)) * 1e-6;
      spot[j] = static_cast<double>(booked->at(spot_asset, booked_offset + j)) * 1e-6;
      contracts[j] = static_cast<double>(booked->at(perp_asset, booked_offset + j)) * 1e-6;
    }
  } else {
    for (std::size_t j = 0; j < n; ++j) {
      const AccountId acc = watch_first_ + static_cast<AccountId>(ks[j]);
      quote[j] = static_cast<double>(L.balance(acc, quote_asset)) * 1e-6;
      spot[j] = static_cast<double>(L.balance(acc, spot_asset)) * 1e-6;
      contracts[j] = static_cast<double>(L.balance(acc, perp_asset)) * 1e-6;
    }
  }
  const std::size_t padded = (n + kWatchBandGroup - 1) / kWatchBandGroup * kWatchBandGroup;
  for (std::size_t j = n; j < padded; ++j) quote[j] = spot[j] = contracts[j] = 0.0;
  if (spot_holders != nullptr) {  // in order; an entry written for each, kept if it holds spot
    std::vector<std::uint32_t>& v = *spot_holders;
    const std::size_t s0 = v.size();
    v.resize(s0 + n);
    std::size_t s = s0;
    for (std::size_t j = 0; j < n; ++j) {
      v[s] = ks[j];
      s += spot[j] != 0;
    }
    v.resize(s);
  }
  float mark_lo_edge[kWatchChunk], mark_hi_edge[kWatchChunk], index_lo_edge[kWatchChunk], index_hi_edge[kWatchChunk];
  std::uint8_t which[kWatchChunk];  // 0: watch_index_, 1: watch_spot_index_ (rebuilt when a haircut changes), 2: neither
  WatchFarEdges far{far_mark_lo_, far_mark_hi_, far_index_lo_, far_index_hi_};
  band_watched_positions(prices, tier_rates_, WatchBandColumns{quote, spot, contracts}, n,
                         WatchBandEdges{mark_lo_edge, mark_hi_edge, index_lo_edge, index_hi_edge, which}, far);
  far_mark_lo_ = far.mark_lo;
  far_mark_hi_ = far.mark_hi;
  far_index_lo_ = far.index_lo;
  far_index_hi_ = far.index_hi;
  std::size_t m = 0;
  for (std::size_t j = 0; j < n; ++j) {
    unbanded[m] = ks[j];
    m += which[j] == 2;
  }
  const float* const edges[4] = {mark_lo_edge, mark_hi_edge, index_lo_edge, index_hi_edge};
  watch_index_.add_block(a, edges, ks, which, 0, n);
  watch_spot_index_.add_block(a, edges, ks, which, 1, n);
  return m;
}

void MarginEngine::watch(std::size_t k, const WatchedPosition& p) { watch_block(k, 1, &p); }

void MarginEngine::watch_block(std::size_t k0, std::size_t count, const WatchedPosition* p, const Ledger::BulkOpening::BlockColumns* booked) {
  const bool bands = usable_for_watching() && watch_prices_ok_;
  std::uint32_t ks[kWatchChunk], unbanded[kWatchChunk];
  for (std::size_t c0 = 0; c0 < count; c0 += kWatchChunk) {
    const std::size_t n = std::min(kWatchChunk, count - c0);
    for (std::size_t j = 0; j < n; ++j) ks[j] = static_cast<std::uint32_t>(k0 + c0 + j);
    std::size_t u = n;
    if (bands) {
      u = band_watched(ks, n, unbanded, &watch_spot_, booked, c0);
    } else {
      const Ledger& L = market_.ledger;
      const AssetId spot_asset = market_.assets[watch_asset_].spot_asset;
      for (std::size_t j = 0; j < n; ++j)
        if ((booked != nullptr ? booked->at(spot_asset, c0 + j) : L.balance(watch_first_ + static_cast<AccountId>(ks[j]), spot_asset)) != 0)
          watch_spot_.push_back(ks[j]);
      std::copy(ks, ks + n, unbanded);
    }
    for (std::size_t i = 0; i < u; ++i) add_watched(unbanded[i], p != nullptr ? p[unbanded[i] - k0] : describe_(unbanded[i]));
  }
}

// Position k as a margin account: its mode, and its entry price as the booking recorded it
// (record_counterparty_booking).
std::uint32_t MarginEngine::add_watched(std::size_t k, const WatchedPosition& p) {
  const AccountId acc = watch_first_ + static_cast<AccountId>(k);
  const std::uint32_t id = add_account(acc, -1, AgentKind::Position, p.mode);
  record_fill(acc, p.asset, p.is_long ? p.contracts : -p.contracts, from_micros(p.cash) / from_micros(p.contracts));
  ++watch_materialised_;  // its entries in the watch indexes are skipped when popped
  return id;
}

std::uint32_t MarginEngine::materialise(std::size_t k) {
  const AccountId acc = watch_first_ + static_cast<AccountId>(k);
  const std::uint32_t id = add_watched(k, describe_(k));
  if (first_marked_) {
    // Its opening equity: its equity at the first mark, which an account added at set-up got then
    // (mark_one's sum, term by term, at that mark's prices; its balances have not moved since).
    const Ledger& L = market_.ledger;
    double eq = from_micros(L.balance(acc, market_.quote_asset));
    for (std::size_t i = 0; i < market_.assets.size(); ++i) {
      const AssetMarket& am = market_.assets[i];
      const Micros spot = L.balance(acc, am.spot_asset);
      if (spot != 0) eq += from_micros(spot) * indices0_[i] * (1.0 - haircuts0_[i]);
      const Micros contracts = L.balance(acc, am.perp_asset);
      if (contracts != 0) eq += from_micros(contracts) * marks0_[i];
    }
    accounts_[id].opening_equity = eq;
  }
  return id;
}

void MarginEngine::materialise_all_watched() {
  if (watched_count() == 0) return;
  for (std::size_t k = 0; k < watch_n_; ++k)
    if (margin_of_[watch_first_ + k] == kNoMargin) materialise(k);
}

// A haircut changed: the bands of the positions holding spot are computed again (the others' do
// not depend on it). Their far edges only add to the kept nearest ones (still conservative).
void MarginEngine::rewatch_spot_holders() {
  watch_haircut_ = market_.assets[watch_asset_].collateral_haircut;
  if (watched_count() == 0) return;
  watch_spot_index_.clear();
  ++watch_rebuilds_;
  rewatch(watch_spot_.data(), watch_spot_.size());
}

// A far edge was reached: every watched position's bands again at today's prices.
void MarginEngine::rewatch_all() {
  watch_haircut_ = market_.assets[watch_asset_].collateral_haircut;
  if (watched_count() == 0) return;
  watch_index_.clear();
  watch_spot_index_.clear();
  reset_far_edges();
  ++watch_rebuilds_;
  std::uint32_t ks[kWatchChunk];
  for (std::size_t k0 = 0; k0 < watch_n_; k0 += kWatchChunk) {
    const std::size_t n = std::min(kWatchChunk, watch_n_ - k0);
    for (std::size_t j = 0; j < n; ++j) ks[j] = static_cast<std::uint32_t>(k0 + j);
    rewatch(ks, n);
  }
}

// The positions of ks not yet margin accounts banded again, a block at a time; those that cannot be
// are made margin accounts (in the order of ks).
void MarginEngine::rewatch(const std::uint32_t* ks, std::size_t n) {
  std::uint32_t todo[kWatchChunk], unbanded[kWatchChunk];
  std::size_t i = 0;
  while (i < n) {
    std::size_t m = 0;
    for (; i < n && m < kWatchChunk; ++i) {
      todo[m] = ks[i];
      m += margin_of_[watch_first_ + ks[i]] == kNoMargin;
    }
    const std::size_t u = band_watched(todo, m, unbanded, nullptr);
    for (std::size_t j = 0; j < u; ++j) materialise(unbanded[j]);
  }
}

void MarginEngine::order_flagged() {
  order_.clear();
  for (std::uint32_t id : flagged_) {
    const MarginAccount& a = accounts_[id];
    const double ratio = a.maintenance > 0 ? a.equity / a.maintenance : -std::numeric_limits<double>::infinity();
    order_.emplace_back(ratio, id);
  }
  // By ratio, then ledger account id: a deterministic start for the shuffle (account ids, not
  // margin ids: a watched position gets its margin id when it is added, its account id at set-up).
  std::sort(order_.begin(), order_.end(), [this](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first < y.first;
    return accounts_[x.second].account < accounts_[y.second].account;
  });
  for (std::size_t b = 0; b < order_.size();) {
    std::size_t e = b + 1;
    while (e < order_.size() && order_[e].first == order_[b].first) ++e;
    for (std::size_t i = e - b; i > 1; --i) {  // Fisher-Yates within the tie, Boost's exact distribution
      boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
      std::swap(order_[b + i - 1], order_[b + pick(tie_rng_)]);
    }
    b = e;
  }
  for (std::size_t i = 0; i < order_.size(); ++i) flagged_[i] = order_[i].second;
}

}  // namespace sl
