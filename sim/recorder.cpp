#include "sim/recorder.hpp"

#include <algorithm>
#include <cmath>

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
};

double spread_bps(const Venue& v) {
  const Tick b = v.book().best_bid(), a = v.book().best_ask();
  if (b <= 0 || a <= 0) return std::nan("");
  return 2e4 * static_cast<double>(a - b) / static_cast<double>(a + b);
}

// Resting quantity (asset units) within `frac` of the mid on one side.
double depth(const Venue& v, Side s, double mid_ticks, double frac) {
  const OrderBook& b = v.book();
  Lots q;
  if (s == Side::Buy) {
    q = b.depth_between(Side::Buy, static_cast<Tick>(std::ceil(mid_ticks * (1.0 - frac))), b.max_tick());
  } else {
    q = b.depth_between(Side::Sell, 1, static_cast<Tick>(std::floor(mid_ticks * (1.0 + frac))));
  }
  return v.lots_to_qty(q);
}
}  // namespace

Recorder::Recorder(const ScenarioConfig& sc, const Market& m)
    : every_(sc.output.record_every_steps), dt_s_(sc.dt_s), n_assets_(m.assets.size()), stats_(m.assets.size()) {
  c_time_ = col("time_s", "s", 0);
  asset_cols_.resize(n_assets_);
  for (const auto& a : m.assets) symbols_.push_back(a.symbol);
  for (std::size_t i = 0; i < n_assets_; ++i)
    for (const ColSpec& cs : kAssetCols) asset_cols_[i].push_back(col(cs.name, cs.unit, i));
  c_messages_ = col("messages", "count", 0);
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

void Recorder::record_step(const Market& m) {
  for (const Venue& v : m.venues) messages_since_row_ += v.step_stats().messages;
  const bool row = (m.step + 1) % every_ == 0;  // the row describes the state at the end of the step
  if (row) {
    put(c_time_, static_cast<double>(m.step + 1) * dt_s_);
    put(c_messages_, static_cast<double>(messages_since_row_));
    messages_since_row_ = 0;
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
    st.max_abs_basis_bps = std::max(st.max_abs_basis_bps, std::abs(basis));
    st.max_spot_discount_bps = std::max(st.max_spot_discount_bps, 1e4 * (ref - spot_mid) / ref);
    st.max_perp_discount_bps = std::max(st.max_perp_discount_bps, 1e4 * (ref - perp_mid) / ref);
    if (st.last_spot_mid > 0) {
      const double r = std::log(spot_mid / st.last_spot_mid);
      st.sum_sq_log_ret += r * r;
      ++st.n_ret;
    }
    st.last_spot_mid = spot_mid;
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
    put(c[k++], depth(*a.spot, Side::Buy, spot_mid_t, 0.01));
    put(c[k++], depth(*a.spot, Side::Sell, spot_mid_t, 0.01));
    put(c[k++], depth(*a.spot, Side::Buy, spot_mid_t, 0.05));
    put(c[k++], depth(*a.spot, Side::Sell, spot_mid_t, 0.05));
    put(c[k++], depth(*a.perp, Side::Buy, perp_mid_t, 0.01));
    put(c[k++], depth(*a.perp, Side::Sell, perp_mid_t, 0.01));
    put(c[k++], depth(*a.perp, Side::Buy, perp_mid_t, 0.05));
    put(c[k++], depth(*a.perp, Side::Sell, perp_mid_t, 0.05));
    put(c[k++], a.spot->lots_to_qty(a.spot->step_stats().volume_lots));
    put(c[k++], a.perp->lots_to_qty(a.perp->step_stats().volume_lots));
  }
}

RunResult Recorder::finish(const Market& m) {
  RunResult r;
  r.series = std::move(cols_);
  for (std::size_t i = 0; i < n_assets_; ++i) {
    const AssetStats& st = stats_[i];
    const std::string sfx = i > 0 ? "." + symbols_[i] : "";
    const AssetMarket& a = m.assets[i];
    auto mean = [](double s, std::int64_t n) { return n > 0 ? s / static_cast<double>(n) : std::nan(""); };
    r.summary.emplace_back("mean_spot_spread_bps" + sfx, mean(st.spread_sum_spot, st.spread_n_spot));
    r.summary.emplace_back("mean_perp_spread_bps" + sfx, mean(st.spread_sum_perp, st.spread_n_perp));
    r.summary.emplace_back("max_abs_basis_bps" + sfx, st.max_abs_basis_bps);
    r.summary.emplace_back("max_spot_discount_bps" + sfx, st.max_spot_discount_bps);
    r.summary.emplace_back("max_perp_discount_bps" + sfx, st.max_perp_discount_bps);
    const double years = static_cast<double>(st.n_ret) * dt_s_ / (365.0 * 86400.0);
    r.summary.emplace_back("spot_realized_vol_annual" + sfx, years > 0 ? std::sqrt(st.sum_sq_log_ret / years) : std::nan(""));
    r.summary.emplace_back("final_reference" + sfx, a.reference.price());
    r.summary.emplace_back("spot_volume" + sfx, a.spot->total_volume_qty());
    r.summary.emplace_back("perp_volume" + sfx, a.perp->total_volume_qty());
  }
  return r;
}

}  // namespace sl
