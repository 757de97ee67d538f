#include "sim/run/recorder.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace sl {

namespace {
// Per-asset columns in the order record_step pushes them.
struct ColSpec {
  const char* name;
  const char* unit;
};
constexpr ColSpec kAssetCols[] = {
    {"reference", "quote"},         {"regime_stressed", "0/1"},      {"spot_mid", "quote"},
    {"perp_mid", "quote"},          {"basis_bps", "bps"},            {"spot_spread_bps", "bps"},
    {"perp_spread_bps", "bps"},     {"spot_bid_depth_1pct", "asset"}, {"spot_ask_depth_1pct", "asset"},
    {"spot_bid_depth_5pct", "asset"}, {"spot_ask_depth_5pct", "asset"}, {"perp_bid_depth_1pct", "asset"},
    {"perp_ask_depth_1pct", "asset"}, {"perp_bid_depth_5pct", "asset"}, {"perp_ask_depth_5pct", "asset"},
    {"spot_volume", "asset"},       {"perp_volume", "asset"},
    {"index", "quote"},             {"mark", "quote"},               {"premium_bps", "bps"},
    {"funding_rate", "fraction/interval"}, {"funding_estimate", "fraction/interval"}, {"open_interest", "asset"},
};

double spread_bps(const Venue& v) {
  const Tick b = v.book().best_bid(), a = v.book().best_ask();
  if (b <= 0 || a <= 0) return std::nan("");
  return 2e4 * static_cast<double>(a - b) / static_cast<double>(a + b);
}

// Resting quantity (asset units) within 1% and within 5% of the mid on one side: the book's tracked
// depths (OrderBook::tracked_depth, slot 0 the 1% bound, slot 1 the 5% one), kept by every order,
// cancel and fill; a recorded step moves the bounds to this mid, walking only the levels the mid's
// move brought in or took out (issue #15 item 3; before, every recorded step walked every level
// within 5%: a quarter of a 10k-account run's time). The same bounds and the same integer sums as
// the walk (OrderBook::depth_between over [bound, best] / [best, bound]).
struct SideDepth {
  double within_1pct = 0.0;
  double within_5pct = 0.0;
};
SideDepth depth(const Venue& v, Side s, double mid_ticks) {
  const OrderBook& b = v.book();
  Lots q1 = 0, q5 = 0;
  if (s == Side::Buy) {
    const Tick lo1 = std::max<Tick>(1, static_cast<Tick>(std::ceil(mid_ticks * (1.0 - 0.01))));
    const Tick lo5 = std::max<Tick>(1, static_cast<Tick>(std::ceil(mid_ticks * (1.0 - 0.05))));
    q1 = b.tracked_depth(Side::Buy, 0, lo1);
    q5 = b.tracked_depth(Side::Buy, 1, lo5);
  } else {
    const Tick hi1 = std::min<Tick>(b.max_tick(), static_cast<Tick>(std::floor(mid_ticks * (1.0 + 0.01))));
    const Tick hi5 = std::min<Tick>(b.max_tick(), static_cast<Tick>(std::floor(mid_ticks * (1.0 + 0.05))));
    q1 = b.tracked_depth(Side::Sell, 0, hi1);
    q5 = b.tracked_depth(Side::Sell, 1, hi5);
  }
  return {v.lots_to_qty(q1), v.lots_to_qty(q5)};
}
}  // namespace

Recorder::Recorder(const ScenarioConfig& sc, const Market& m)
    : insurance_configured_start_(sc.perp.liquidation.insurance_fund_start),
      every_(sc.output.record_every_steps), dt_s_(sc.dt_s), n_assets_(m.assets.size()), stats_(m.assets.size()), loop_(sc, m) {
  c_time_ = col("time_s", "s", 0);
  asset_cols_.resize(n_assets_);
  for (const auto& a : m.assets) symbols_.push_back(a.symbol);
  for (std::size_t i = 0; i < n_assets_; ++i)
    for (const ColSpec& cs : kAssetCols) asset_cols_[i].push_back(col(cs.name, cs.unit, i));
  c_messages_ = col("messages", "count", 0);
  c_insurance_ = col("insurance_fund", "quote", 0);
  c_insurance_cash_ = col("insurance_fund_cash", "quote", 0);
  c_bad_debt_ = col("bad_debt_cum", "quote", 0);
  c_borrowed_ = col("fund_borrowed", "quote", 0);
  c_liqs_ = col("liquidations", "count", 0);
  c_liq_notional_ = col("liquidated_notional", "quote", 0);
  c_adl_ = col("adl_count", "count", 0);
  c_exhausted_ = col("insurance_fund_exhausted", "0/1", 0);
  c_adl_overshoot_ = col("adl_overshoot", "quote", 0);  // since the previous row (sim/liquidation/README.md)
  for (std::size_t i = 0; i < n_assets_; ++i) c_net_delta_.push_back(col("liquidation_net_delta", "asset", i));
  // Reserve up to a million rows; longer runs grow the columns geometrically.
  const std::size_t rows = static_cast<std::size_t>(std::min<std::int64_t>(sc.horizon_steps / every_ + 1, 1'000'000));
  for (auto& c : cols_) c.values.reserve(rows);
}

std::size_t Recorder::col(const std::string& name, const std::string& unit, std::size_t asset) {
  std::string full = name;
  if (asset > 0) full += "." + symbols_[asset];
  cols_.push_back(SeriesColumn{full, unit, {}});
  return cols_.size() - 1;
}

namespace {
// Contracts held long = the open interest (the ledger keeps the sum; no scan of the accounts).
double open_interest(const Market& m, const AssetMarket& a) {
  return from_micros(static_cast<Micros>(m.ledger.positive_total(a.perp_asset)));
}
}  // namespace

void Recorder::record_step(const Market& m, const ProtocolStepInfo& p) {
  step_ = m.step;
  if (insurance_start_ < 0) insurance_start_ = p.insurance_fund;
  insurance_min_ = std::min(insurance_min_, p.insurance_fund);
  if (p.liquidations > 0) {
    if (first_liq_step_ < 0) first_liq_step_ = m.step;
    last_liq_step_ = m.step;
  }
  for (const Venue& v : m.venues) messages_since_row_ += v.step_stats().messages;
  loop_.on_step(m);
  const bool row = (m.step + 1) % every_ == 0;  // the row describes the state at the end of the step
  if (row) {
    for (std::size_t i = 0; i < n_assets_; ++i) put(c_net_delta_[i], loop_.net_delta(i));
    put(c_time_, static_cast<double>(m.step + 1) * dt_s_);
    put(c_messages_, static_cast<double>(messages_since_row_));
    messages_since_row_ = 0;
    put(c_insurance_, p.insurance_fund);
    put(c_insurance_cash_, p.insurance_fund_cash);
    put(c_bad_debt_, p.bad_debt_cum);
    put(c_borrowed_, p.fund_borrowed);
    put(c_liqs_, static_cast<double>(liqs_since_row_ + p.liquidations));
    put(c_liq_notional_, liq_notional_since_row_ + p.liquidated_notional);
    put(c_adl_, static_cast<double>(adl_since_row_ + p.adl_count));
    put(c_adl_overshoot_, adl_overshoot_since_row_ + p.adl_overshoot);
    adl_overshoot_since_row_ = 0;
    // 1 when the fund could not carry a loss in any step since the previous row.
    put(c_exhausted_, exhausted_since_row_ || p.fund_exhausted ? 1.0 : 0.0);
    exhausted_since_row_ = false;
    liqs_since_row_ = 0;
    liq_notional_since_row_ = 0;
    adl_since_row_ = 0;
  } else {
    liqs_since_row_ += p.liquidations;
    liq_notional_since_row_ += p.liquidated_notional;
    adl_since_row_ += p.adl_count;
    adl_overshoot_since_row_ += p.adl_overshoot;
    exhausted_since_row_ = exhausted_since_row_ || p.fund_exhausted;
  }
  for (std::size_t i = 0; i < n_assets_; ++i) {
    const AssetMarket& a = m.assets[i];
    const double ref = a.reference.price();
    const double ref_ticks = ref / a.spot->spec().tick_size;
    const double spot_mid_t = a.spot->mid_ticks(ref_ticks), perp_mid_t = a.perp->mid_ticks(ref_ticks);
    const double spot_mid = a.spot->ticks_to_price(spot_mid_t), perp_mid = a.perp->ticks_to_price(perp_mid_t);
    const double basis = 1e4 * (perp_mid - spot_mid) / spot_mid;
    const double ss = spread_bps(*a.spot), ps = spread_bps(*a.perp);
    AssetStats& st = stats_[i];
    if (std::isfinite(ss)) st.spread_sum_spot += ss, ++st.spread_n_spot;
    if (std::isfinite(ps)) st.spread_sum_perp += ps, ++st.spread_n_perp;
    // As the premium statistics below: a book without a bid or an ask has its last trade for a mid
    // (Venue::mid_ticks), not a price it trades at, so its steps do not count (since 2026-12-07).
    const bool spot_two_sided = a.spot->two_sided(), perp_two_sided = a.perp->two_sided();
    if (spot_two_sided && perp_two_sided) st.max_abs_basis_bps = std::max(st.max_abs_basis_bps, std::abs(basis));
    if (spot_two_sided) st.max_spot_discount_bps = std::max(st.max_spot_discount_bps, 1e4 * (ref - spot_mid) / ref);
    if (perp_two_sided) st.max_perp_discount_bps = std::max(st.max_perp_discount_bps, 1e4 * (ref - perp_mid) / ref);
    if (st.last_spot_mid > 0) {
      const double r = std::log(spot_mid / st.last_spot_mid);
      st.sum_sq_log_ret += r * r;
      ++st.n_ret;
    }
    st.last_spot_mid = spot_mid;
    st.spot_volume_lots += a.spot->step_stats().volume_lots;
    st.perp_volume_lots += a.perp->step_stats().volume_lots;
    const double index = a.index_price > 0 ? a.index_price : ref;
    const double premium_bps = 1e4 * (perp_mid - index) / index;
    // The premium statistics count only steps with a two-sided perp book: a one-sided book's mid is
    // its last trade (Venue::mid_ticks), not a price the perp trades at (issue #14). The per-step
    // premium_bps column below still records that last-trade mid on one-sided steps.
    if (perp_two_sided) {
      st.max_abs_premium_bps = std::max(st.max_abs_premium_bps, std::abs(premium_bps));
      st.max_premium_bps = std::max(st.max_premium_bps, premium_bps);
      st.min_premium_bps = std::min(st.min_premium_bps, premium_bps);
    }
    st.max_abs_funding = std::max(st.max_abs_funding, std::abs(a.funding_rate));
    // The venue's premium index (impact prices for the impact notional against the index): a far
    // quote on one side, or a one-sided book, moves the mid but not this (model.md section 9).
    if (std::isfinite(a.premium_index)) st.max_abs_premium_index_bps = std::max(st.max_abs_premium_index_bps, 1e4 * std::abs(a.premium_index));
    st.max_funding_estimate = std::max(st.max_funding_estimate, a.funding_estimate);
    st.min_funding_estimate = std::min(st.min_funding_estimate, a.funding_estimate);
    st.min_funding = std::min(st.min_funding, a.funding_rate);
    st.max_funding = std::max(st.max_funding, a.funding_rate);
    if (!row) continue;
    const std::vector<std::size_t>& c = asset_cols_[i];
    std::size_t k = 0;
    put(c[k++], ref);
    put(c[k++], a.reference.stressed() ? 1.0 : 0.0);
    put(c[k++], spot_mid);
    put(c[k++], perp_mid);
    put(c[k++], basis);
    put(c[k++], ss);
    put(c[k++], ps);
    for (const auto& [venue, mid_t] : {std::pair{a.spot, spot_mid_t}, std::pair{a.perp, perp_mid_t}}) {
      const SideDepth bid = depth(*venue, Side::Buy, mid_t), ask = depth(*venue, Side::Sell, mid_t);
      put(c[k++], bid.within_1pct);
      put(c[k++], ask.within_1pct);
      put(c[k++], bid.within_5pct);
      put(c[k++], ask.within_5pct);
    }
    put(c[k++], a.spot->lots_to_qty(st.spot_volume_lots));  // traded since the previous row
    put(c[k++], a.perp->lots_to_qty(st.perp_volume_lots));
    st.spot_volume_lots = st.perp_volume_lots = 0;
    put(c[k++], index);
    put(c[k++], a.mark_price > 0 ? a.mark_price : ref);
    put(c[k++], premium_bps);
    put(c[k++], a.funding_rate);
    put(c[k++], a.funding_estimate);
    put(c[k++], open_interest(m, a));
  }
}

RunResult Recorder::finish(const Market& m, std::vector<LiquidationEvent> events, const ProtocolStepInfo& end) {
  RunResult r;
  r.series = std::move(cols_);
  // Liquidation metrics (model.md section 7).
  double total = 0, exo = 0, penalties = 0, bad_debt = 0;
  std::int64_t n_basis = 0, n_lev = 0, n_endo = 0;
  std::vector<double> slips;
  slips.reserve(events.size());
  double proactive_notional = 0, proactive_count = 0, adl_fills = 0;
  // Slippage cost in quote units: what the liquidated accounts lost against the mark, quantity x
  // (mark - price) for a sale (sign-adjusted for a buy) = notional / price x mark x slippage_bps / 1e4.
  // Signed: a fill better than the mark lowers it. Proactive de-risking is a user cost too.
  double slippage_cost = 0;
  // The notional-weighted mean slippage over the liquidation events (the same events as
  // mean_slippage_bps, proactive de-risking excluded): sum of quantity x mark x slippage_bps / 1e4
  // over sum of quantity x mark, quantity = notional / price. Per-event means let dust lots (dutch's
  // and hierarchy's partial takes) weigh as much as whole positions; this weighs them by size.
  double liq_slip_cost = 0, liq_mark_notional = 0;
  for (const auto& e : events) {
    if (e.price > 0) slippage_cost += e.notional / e.price * e.mark * e.slippage_bps / 1e4;
    if (e.policy_path == "proactive") {  // de-risking of healthy accounts: not a liquidation
      proactive_notional += e.notional;
      proactive_count += 1;
      penalties += e.penalty;
      continue;
    }
    if (is_adl_fill(e)) {  // a deleveraged winner: not a liquidation (its cost stays in slippage_cost)
      adl_fills += 1;
      continue;
    }
    total += e.notional;
    if (!e.endogenous) exo += e.notional; else ++n_endo;
    penalties += e.penalty;
    bad_debt += e.bad_debt;
    slips.push_back(e.slippage_bps);
    if (e.price > 0) {
      const double at_mark = e.notional / e.price * e.mark;
      liq_slip_cost += at_mark * e.slippage_bps / 1e4;
      liq_mark_notional += at_mark;
    }
    if (e.agent_type == "basis_trader") ++n_basis;
    if (e.agent_type == "leveraged_trader") ++n_lev;
  }
  std::sort(slips.begin(), slips.end());
  // Distinct accounts: one account can need several events (partial fills into a thin book).
  std::vector<std::pair<std::uint32_t, int>> acc_kind;  // (account, 0 other / 1 basis / 2 leveraged)
  acc_kind.reserve(events.size());
  for (const auto& e : events)
    if (counts_as_liquidation(e)) acc_kind.emplace_back(e.account, e.agent_type == "basis_trader" ? 1 : e.agent_type == "leveraged_trader" ? 2 : 0);
  std::sort(acc_kind.begin(), acc_kind.end());
  acc_kind.erase(std::unique(acc_kind.begin(), acc_kind.end()), acc_kind.end());
  double acc_basis = 0, acc_lev = 0;
  for (const auto& [a, k] : acc_kind) acc_basis += k == 1, acc_lev += k == 2;
  const double nan = std::nan("");
  double mean_slip = nan, p95_slip = nan;
  if (!slips.empty()) {
    mean_slip = std::accumulate(slips.begin(), slips.end(), 0.0) / static_cast<double>(slips.size());
    // Nearest-rank 95th percentile.
    const std::size_t rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(slips.size())));
    p95_slip = slips[std::max<std::size_t>(rank, 1) - 1];
  }
  r.summary.emplace_back("liquidations", static_cast<double>(events.size()) - proactive_count - adl_fills);
  r.summary.emplace_back("liquidations_basis_trader", static_cast<double>(n_basis));
  r.summary.emplace_back("liquidations_leveraged_trader", static_cast<double>(n_lev));
  r.summary.emplace_back("accounts_liquidated", static_cast<double>(acc_kind.size()));
  r.summary.emplace_back("basis_traders_liquidated", acc_basis);
  r.summary.emplace_back("leveraged_traders_liquidated", acc_lev);
  r.summary.emplace_back("liquidated_notional", total);
  r.summary.emplace_back("proactive_derisk_count", proactive_count);
  r.summary.emplace_back("proactive_derisk_notional", proactive_notional);
  r.summary.emplace_back("exogenous_liquidated_notional", exo);
  r.summary.emplace_back("endogenous_share", total > 0 ? (total - exo) / total : nan);
  // All liquidated notional / exogenous liquidated notional: 1 = no cascade; inf when every
  // liquidation was endogenous; NaN when nothing was liquidated.
  r.summary.emplace_back("cascade_amplification", total > 0 ? (exo > 0 ? total / exo : INFINITY) : nan);
  r.summary.emplace_back("mean_slippage_bps", mean_slip);
  r.summary.emplace_back("p95_slippage_bps", p95_slip);
  // NaN without a liquidation filled at a price (as mean_slippage_bps without events).
  r.summary.emplace_back("notional_slippage_bps", liq_mark_notional > 0 ? liq_slip_cost / liq_mark_notional * 1e4 : nan);
  r.summary.emplace_back("penalties_paid", penalties);
  r.summary.emplace_back("bad_debt", end.bad_debt_cum);
  r.summary.emplace_back("fund_borrowed_at_end", end.fund_borrowed);
  r.summary.emplace_back("insurance_fund_min", insurance_min_ < 1e299 ? insurance_min_ : end.insurance_fund);
  r.summary.emplace_back("insurance_fund_end", end.insurance_fund);
  r.summary.emplace_back("insurance_fund_start", insurance_start_);
  r.summary.emplace_back("first_liquidation_step", static_cast<double>(first_liq_step_));
  r.summary.emplace_back("last_liquidation_step", static_cast<double>(last_liq_step_));
  loop_.append_summary(events, symbols_, r.summary);  // basis loop (sim/run/loop_metrics.hpp)
  r.liquidations = std::move(events);
  for (std::size_t i = 0; i < n_assets_; ++i) {
    const AssetStats& st = stats_[i];
    const std::string sfx = i > 0 ? "." + symbols_[i] : "";
    const AssetMarket& a = m.assets[i];
    auto mean = [](double s, std::int64_t n) { return n > 0 ? s / static_cast<double>(n) : std::nan(""); };
    r.summary.emplace_back("mean_spot_spread_bps" + sfx, mean(st.spread_sum_spot, st.spread_n_spot));
    r.summary.emplace_back("mean_perp_spread_bps" + sfx, mean(st.spread_sum_perp, st.spread_n_perp));
    r.summary.emplace_back("max_abs_basis_bps" + sfx, st.max_abs_basis_bps);
    r.summary.emplace_back("max_abs_premium_bps" + sfx, st.max_abs_premium_bps);
    r.summary.emplace_back("max_premium_bps" + sfx, st.max_premium_bps);
    r.summary.emplace_back("min_premium_bps" + sfx, st.min_premium_bps);
    r.summary.emplace_back("max_abs_funding" + sfx, st.max_abs_funding);
    r.summary.emplace_back("max_abs_premium_index_bps" + sfx, st.max_abs_premium_index_bps);
    r.summary.emplace_back("min_funding" + sfx, st.min_funding);
    r.summary.emplace_back("max_funding" + sfx, st.max_funding);
    r.summary.emplace_back("max_funding_estimate" + sfx, st.max_funding_estimate);
    r.summary.emplace_back("min_funding_estimate" + sfx, st.min_funding_estimate);
    r.summary.emplace_back("max_spot_discount_bps" + sfx, st.max_spot_discount_bps);
    r.summary.emplace_back("max_perp_discount_bps" + sfx, st.max_perp_discount_bps);
    const double years = static_cast<double>(st.n_ret) * dt_s_ / (365.0 * 86400.0);
    r.summary.emplace_back("spot_realized_vol_annual" + sfx, years > 0 ? std::sqrt(st.sum_sq_log_ret / years) : std::nan(""));
    r.summary.emplace_back("final_reference" + sfx, a.reference.price());
    r.summary.emplace_back("spot_volume" + sfx, a.spot->total_volume_qty());
    r.summary.emplace_back("perp_volume" + sfx, a.perp->total_volume_qty());
  }
  // For calibration (issue #7): the user's execution cost, and the insurance fund's drawdown from
  // its configured start (before step 0) to its lowest level of the run (0 if it never fell).
  r.summary.emplace_back("slippage_cost", slippage_cost);
  const double fund_min = std::min(insurance_min_, end.insurance_fund);
  r.summary.emplace_back("insurance_fund_drawdown", std::max(0.0, insurance_configured_start_ - fund_min));
  return r;
}

}  // namespace sl
