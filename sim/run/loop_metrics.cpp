#include "sim/run/loop_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sim/perp/margin_engine.hpp"

namespace sl {

std::int64_t push_reach_steps(const OracleConfig& oracle) {
  return static_cast<std::int64_t>(oracle.lag_steps) + oracle.window_steps + 1;
}

std::vector<HedgedSpell> hedged_spells(const std::vector<LiquidationEvent>& events) {
  std::map<std::pair<std::uint32_t, std::int64_t>, std::vector<std::int64_t>> by_spell;
  for (const LiquidationEvent& e : events) {
    if (e.agent_type != "basis_trader" || !counts_as_liquidation(e)) continue;
    by_spell[{e.account, e.step - e.steps_to_complete}].push_back(e.step);
  }
  std::vector<HedgedSpell> out;
  out.reserve(by_spell.size());
  for (auto& [key, steps] : by_spell) out.push_back(HedgedSpell{key.first, key.second, std::move(steps)});
  return out;
}

LoopChain longest_loop_chain(const std::vector<double>& stress_bps, const std::vector<HedgedSpell>& spells_in,
                             std::int64_t window_steps, double min_move_bps, std::int64_t reach_steps) {
  LoopChain out;
  if (spells_in.empty()) return out;
  std::vector<HedgedSpell> spells = spells_in;
  std::stable_sort(spells.begin(), spells.end(), [](const HedgedSpell& a, const HedgedSpell& b) { return a.flag_step < b.flag_step; });
  const auto n_steps = static_cast<std::int64_t>(stress_bps.size());
  // A push of an event at step t lands at the first u in (t, t + reach] with s(u) - s(u - 1) >= x
  // (-1: none): one of the margin checks after the event's forced trades saw s jump.
  auto lands = [&](std::int64_t t) -> std::int64_t {
    if (t < 0) return -1;
    for (std::int64_t u = t + 1; u <= std::min(t + reach_steps, n_steps - 1); ++u)
      if (stress_bps[static_cast<std::size_t>(u)] - stress_bps[static_cast<std::size_t>(u - 1)] >= min_move_bps) return u;
    return -1;
  };
  // Pushes of each spell as (event step t, landing step u), sorted by t.
  std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> pushes(spells.size());
  for (std::size_t a = 0; a < spells.size(); ++a) {
    std::set<std::int64_t> steps(spells[a].event_steps.begin(), spells[a].event_steps.end());
    for (std::int64_t t : steps) {
      const std::int64_t u = lands(t);
      if (u >= 0) pushes[a].emplace_back(t, u);
    }
  }
  // Longest path by flag order: a link needs flag_B >= u > t >= flag_A, so predecessors come first.
  std::vector<std::int64_t> len(spells.size(), 1);
  for (std::size_t b = 0; b < spells.size(); ++b) {
    for (std::size_t a = 0; a < spells.size(); ++a) {
      if (a == b || spells[a].account == spells[b].account || spells[a].flag_step >= spells[b].flag_step) continue;
      const std::int64_t fb = spells[b].flag_step;
      // Some push (t, u) of A with u <= fb <= t + k.
      const bool linked = std::any_of(pushes[a].begin(), pushes[a].end(),
                                      [&](const auto& p) { return p.second <= fb && fb <= p.first + window_steps; });
      if (!linked) continue;
      ++out.links;
      len[b] = std::max(len[b], len[a] + 1);
    }
    out.longest = std::max(out.longest, len[b]);
  }
  return out;
}

LoopMetrics::LoopMetrics(const ScenarioConfig& sc, const Market& m)
    : dt_s_(sc.dt_s),
      window_steps_(sc.output.loop_window_steps),
      min_move_bps_(sc.output.loop_premium_move_bps),
      reach_steps_(push_reach_steps(sc.perp.oracle)),
      funding_on_(sc.perp.funding.enabled && sc.perp.funding.interval_s > 0),
      funding_every_steps_(std::max<std::int64_t>(1, std::llround(sc.perp.funding.interval_s / sc.dt_s))),
      net_delta_(m.assets.size(), 0.0),
      max_abs_net_delta_(m.assets.size(), 0.0),
      hedged_delta_(m.assets.size(), 0.0) {
  stress_bps_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, sc.horizon_steps)));
}

void LoopMetrics::on_step(const Market& m) {
  const Ledger& L = m.ledger;
  const std::size_t n = m.assets.size();
  std::fill(net_delta_.begin(), net_delta_.end(), 0.0);
  std::fill(hedged_delta_.begin(), hedged_delta_.end(), 0.0);
  const bool settles = funding_on_ && (m.step + 1) % funding_every_steps_ == 0;
  if (m.margin != nullptr) {
    const std::vector<MarginAccount>& accounts = m.margin->accounts();
    if (!listed_) {  // once: the hedged accounts
      for (std::uint32_t id = 0; id < accounts.size(); ++id)
        if (accounts[id].owner_kind == AgentKind::BasisTrader) basis_ids_.push_back(id);
      listed_ = true;
    }
    closed_basis_accounts_.clear();
    for (std::uint32_t id : basis_ids_) {
      const MarginAccount& acc = accounts[id];
      if (acc.closed) closed_basis_accounts_.push_back(acc.account);
      if (!settles) continue;
      for (std::size_t i = 0; i < n; ++i) {
        const Micros c = L.balance(acc.account, m.assets[i].perp_asset);
        if (c != 0) funding_paid_hedged_ += from_micros(c) * m.assets[i].mark_price * m.assets[i].funding_rate;
      }
    }
    if (is_tracked_.size() < accounts.size()) is_tracked_.resize(accounts.size(), 0);
    for (std::uint32_t id : m.margin->flagged()) {
      if (is_tracked_[id]) continue;
      is_tracked_[id] = 1;
      tracked_.push_back(id);
    }
    std::size_t keep = 0;
    for (std::uint32_t id : tracked_) {
      const MarginAccount& acc = accounts[id];
      if (acc.closed || !(acc.liquidatable || acc.in_liquidation)) {
        is_tracked_[id] = 0;
        continue;
      }
      tracked_[keep++] = id;
      for (std::size_t i = 0; i < n; ++i) {
        const double d = from_micros(L.balance(acc.account, m.assets[i].spot_asset)) + from_micros(L.balance(acc.account, m.assets[i].perp_asset));
        net_delta_[i] += d;
        if (acc.owner_kind == AgentKind::BasisTrader) hedged_delta_[i] += d;
      }
    }
    tracked_.resize(keep);
  }
  for (std::size_t i = 0; i < n; ++i) {
    double inherited = 0.0;
    for (AccountId a : inheritors_)
      inherited += from_micros(L.balance(a, m.assets[i].spot_asset)) + from_micros(L.balance(a, m.assets[i].perp_asset));
    net_delta_[i] += inherited;
    const double px_dt = m.assets[i].index_or_reference() * dt_s_;
    max_abs_net_delta_[i] = std::max(max_abs_net_delta_[i], std::abs(net_delta_[i]));
    delta_leakage_ += std::abs(net_delta_[i]) * px_dt;
    delta_leakage_hedged_ += std::abs(hedged_delta_[i]) * px_dt;
    delta_leakage_inherited_ += std::abs(inherited) * px_dt;
  }
  // The prices the margin engine marked this step with (step 4; nothing changes them after it).
  const AssetMarket& a0 = m.assets[0];
  stress_bps_.push_back(hedge_stress_bps(a0.mark_or_reference(), a0.index_or_reference(), a0.collateral_haircut));
}

void LoopMetrics::append_summary(const std::vector<LiquidationEvent>& events, const std::vector<std::string>& symbols,
                                 std::vector<std::pair<std::string, double>>& summary) const {
  // Distinct basis-trader accounts by the endogenous flag of their first event.
  std::map<std::uint32_t, bool> first;
  for (const LiquidationEvent& e : events)
    if (e.agent_type == "basis_trader" && counts_as_liquidation(e)) first.emplace(e.account, e.endogenous);
  double endo = 0;
  for (const auto& [acc, is_endo] : first) endo += is_endo ? 1 : 0;
  summary.emplace_back("basis_traders_liquidated_exogenous", static_cast<double>(first.size()) - endo);
  summary.emplace_back("basis_traders_liquidated_endogenous", endo);
  double closed_out = 0;
  for (const auto& [acc, is_endo] : first)
    closed_out += std::find(closed_basis_accounts_.begin(), closed_basis_accounts_.end(), acc) != closed_basis_accounts_.end() ? 1 : 0;
  summary.emplace_back("basis_traders_closed_out", closed_out);
  const LoopChain chain = longest_loop_chain(stress_bps_, hedged_spells(events), window_steps_, min_move_bps_, reach_steps_);
  summary.emplace_back("basis_loop_chain_max", static_cast<double>(chain.longest));
  summary.emplace_back("basis_loop_links", static_cast<double>(chain.links));
  summary.emplace_back("funding_paid_hedged", funding_paid_hedged_);
  summary.emplace_back("delta_leakage", delta_leakage_);
  summary.emplace_back("delta_leakage_hedged", delta_leakage_hedged_);
  summary.emplace_back("delta_leakage_inherited", delta_leakage_inherited_);
  for (std::size_t i = 0; i < max_abs_net_delta_.size(); ++i)
    summary.emplace_back("max_abs_liquidation_net_delta" + (i > 0 ? "." + symbols[i] : std::string()), max_abs_net_delta_[i]);
}

}  // namespace sl
