#include "sim/run/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "agents/arbitrageur.hpp"
#include "agents/backstop_provider.hpp"
#include "agents/basis_trader.hpp"
#include "agents/hedging_demand.hpp"
#include "agents/ladder_maker.hpp"
#include "agents/leveraged_trader.hpp"
#include "agents/liquidator_bot.hpp"
#include "agents/market_maker.hpp"
#include "agents/noise_trader.hpp"
#include "agents/reentry_pool.hpp"
#include "sim/perp/funding.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/liquidation/fund.hpp"
#include "sim/liquidation/priority_fee_auction.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/perp/mark_price.hpp"
#include "sim/perp/oracle.hpp"
#include "sim/liquidation/proactive_derisk.hpp"
#include "sim/market/shocks.hpp"
#include "sim/market/market.hpp"
#include "sim/run/activation.hpp"
#include "sim/run/own_positions.hpp"
#include "sim/run/counterparties.hpp"
#include "sim/run/recorder.hpp"
#include "sim/market/replay_path.hpp"
#include "sim/core/huge_pages.hpp"
#include "sim/core/rng.hpp"

namespace sl {

namespace {

struct World {
  explicit World(const ScenarioConfig& sc) : ledger(make_ledger(sc)), market(ledger), margin(sc.perp, market) {}

  static Ledger make_ledger(const ScenarioConfig& sc) {
    std::vector<std::string> names{sc.quote_asset};
    std::vector<bool> neg{false};
    for (const auto& a : sc.assets) {
      names.push_back(a.symbol);
      neg.push_back(false);
      names.push_back(a.symbol + "-PERP");
      neg.push_back(true);  // contracts: shorts hold negative balances
    }
    return Ledger(std::move(names), std::move(neg));
  }

  Ledger ledger;
  Market market;
  MarginEngine margin;  // after market: it keeps a reference to it
  std::vector<MarketMaker> makers;
  std::vector<NoiseTrader> noise;
  std::vector<LadderMaker> ladders;
  std::vector<Arbitrageur> arbs;
  std::vector<BasisTrader> basis;
  std::vector<LeveragedTrader> leveraged;  // those that still act; passive ones are only counted
  std::size_t passive_leveraged = 0, passive_leveraged_entered = 0;
  std::vector<LiquidatorBot> liquidators;
  std::unique_ptr<BackstopProvider> backstop;  // delta_neutral in backstop mode, hierarchy with its backstop stage
  std::vector<HedgingDemand> hedgers;          // issue #14 item 4: after every earlier population
  std::vector<ReentryPool> reentry;            // zero or one
  std::vector<std::int32_t> agent_kind_of;  // global agent id -> AgentKind (as int)
  std::vector<AgentHandle> active;  // reused every step
  // Event-driven activation (sim/run/activation.hpp): agents keyed (kind << 32 | index), the
  // kernel's polling order; `woken` is this step's popped keys, reused.
  ActivationQueue wake;
  std::vector<std::uint64_t> woken;

  static std::uint64_t key(AgentKind k, std::uint32_t i) { return static_cast<std::uint64_t>(k) << 32 | i; }
  // Calls f(agent) for the agent of `k`, index `i`.
  template <class F>
  decltype(auto) with_agent(AgentKind k, std::uint32_t i, F&& f) {
    switch (k) {
      case AgentKind::MarketMaker: return f(makers[i]);
      case AgentKind::NoiseTrader: return f(noise[i]);
      case AgentKind::Ladder: return f(ladders[i]);
      case AgentKind::Arbitrageur: return f(arbs[i]);
      case AgentKind::BasisTrader: return f(basis[i]);
      case AgentKind::LeveragedTrader: return f(leveraged[i]);
      case AgentKind::Liquidator: return f(liquidators[i]);
      case AgentKind::HedgingDemand: return f(hedgers[i]);
      case AgentKind::Reentry: return f(reentry[i]);
      case AgentKind::Backstop: break;
      case AgentKind::Position: break;  // never scheduled: an own position is an account, not an agent
      case AgentKind::Counterparty: break;  // never scheduled: an account of the counterparty population
    }
    return f(*backstop);
  }
  // The next step `k`/`i` is woken at: its own next_wake, or every step for the agents a policy
  // hands inventory to from outside (bots, backstop).
  std::int64_t next_wake(AgentKind k, std::uint32_t i, std::int64_t step) {
    if (k == AgentKind::Liquidator || k == AgentKind::Backstop) return step + 1;
    return with_agent(k, i, [step](const auto& a) -> std::int64_t {
      if constexpr (requires { a.next_wake(step); }) return a.next_wake(step);
      else return step + 1;
    });
  }
  void schedule_all_at_step_0() {
    const auto all = [&](auto& agents, AgentKind k) {
      for (std::uint32_t i = 0; i < agents.size(); ++i) wake.schedule(0, key(k, i));
    };
    all(makers, AgentKind::MarketMaker);
    all(noise, AgentKind::NoiseTrader);
    all(ladders, AgentKind::Ladder);
    all(arbs, AgentKind::Arbitrageur);
    all(basis, AgentKind::BasisTrader);
    all(leveraged, AgentKind::LeveragedTrader);
    all(liquidators, AgentKind::Liquidator);
    if (backstop) wake.schedule(0, key(AgentKind::Backstop, 0));
    all(hedgers, AgentKind::HedgingDemand);
    all(reentry, AgentKind::Reentry);
  }
  // Perpetual mechanics, one per asset (model.md section 4).
  std::vector<Oracle> oracles;
  std::vector<MarkPrice> marks;
  std::vector<FundingClock> funding;
  std::unique_ptr<ReferenceModel> reference;
  LiquidationAccounts sys;
  AccountId funding_pool = 0;
  // Margined agents (issue #12 item 3): (margin id, agent) in increasing margin id; an agent whose
  // account is flagged is retired: its orders are cancelled by the venues and it never acts again
  // (retired[kind][index]).
  std::vector<std::pair<std::uint32_t, AgentHandle>> agent_margin;
  std::int32_t backstop_agent_id = -1;
  std::int32_t first_hedger_agent_id = -1, reentry_agent_id = -1;  // global agent ids (issue #14 populations)
  std::vector<std::vector<std::uint8_t>> retired = std::vector<std::vector<std::uint8_t>>(static_cast<std::size_t>(AgentKind::Counterparty) + 1);  // one per kind (Counterparty is the last)
  bool is_retired(AgentKind k, std::uint32_t i) const {
    const auto& r = retired[static_cast<std::size_t>(k)];
    return i < r.size() && r[i] != 0;
  }
};

// Every perpetual position sits in a margined account (model.md section 9): the accounts of makers,
// noise traders, ladders and arbitrageurs (before the leveraged population, so a large population's
// reserved room is not outgrown), then of liquidator bots, the backstop provider, the hedgers and the
// re-entry pool (last, so every earlier account keeps its margin id), are registered
// as cross-margin accounts (their cash and spot inventory are their collateral: `quote_cash`,
// `base_inventory`, `capital`, `backstop_capacity`, the hedgers' and the pool's `quote_cash`) whose quote may go negative (a perp trade pays
// or receives the notional; equity, not cash, bounds the debt). Ledger accounts and agent ids are
// unchanged.
void register_margined_agent(World& w, AccountId acc, AgentKind k, std::uint32_t i, std::int32_t agent_id) {
  w.ledger.allow_negative_in(acc, w.market.quote_asset);
  const std::uint32_t id = w.margin.add_account(acc, agent_id, k, MarginMode::Cross);
  w.agent_margin.push_back({id, {k, i}});
  auto& r = w.retired[static_cast<std::size_t>(k)];
  if (r.size() <= i) r.resize(i + 1, 0);
}
void register_trading_agents(World& w) {
  std::int32_t gid = 0;  // global agent ids follow the creation order of build_world
  for (std::uint32_t i = 0; i < w.makers.size(); ++i) register_margined_agent(w, w.makers[i].account(), AgentKind::MarketMaker, i, gid++);
  for (std::uint32_t i = 0; i < w.noise.size(); ++i) register_margined_agent(w, w.noise[i].account(), AgentKind::NoiseTrader, i, gid++);
  for (std::uint32_t i = 0; i < w.ladders.size(); ++i) register_margined_agent(w, w.ladders[i].account(), AgentKind::Ladder, i, gid++);
  for (std::uint32_t i = 0; i < w.arbs.size(); ++i) register_margined_agent(w, w.arbs[i].account(), AgentKind::Arbitrageur, i, gid++);
}
void register_bots_and_backstop(World& w) {
  for (std::uint32_t i = 0; i < w.liquidators.size(); ++i)
    register_margined_agent(w, w.liquidators[i].account(), AgentKind::Liquidator, i, w.liquidators[i].agent_id());
  if (w.backstop) register_margined_agent(w, w.backstop->account(), AgentKind::Backstop, 0, w.backstop_agent_id);
  for (std::uint32_t i = 0; i < w.hedgers.size(); ++i)
    register_margined_agent(w, w.hedgers[i].account(), AgentKind::HedgingDemand, i, w.first_hedger_agent_id + static_cast<std::int32_t>(i));
  if (!w.reentry.empty()) {
    register_margined_agent(w, w.reentry[0].account(), AgentKind::Reentry, 0, w.reentry_agent_id);
    // Re-entries with their own accounts: margined and liquidated alone; not agents of their own
    // (their liquidation does not retire the pool).
    for (const AccountId s : w.reentry[0].slots()) w.margin.add_account(s, w.reentry_agent_id, AgentKind::Reentry, MarginMode::Cross);
  }
  for (AssetMarket& am : w.market.assets) am.perp->set_fill_observer(&w.margin);
}

// Spot mid of an asset in quote units (the oracle's observation); the reference when the book is empty.
double spot_mid(const AssetMarket& a) {
  return a.spot->ticks_to_price(a.spot->mid_ticks(a.reference.price() / a.spot->spec().tick_size));
}

void build_world(World& w, const ScenarioConfig& sc, std::uint64_t seed, const LiquidationConfig& lq) {
  Market& m = w.market;
  Ledger& L = w.ledger;
  m.dt_s = sc.dt_s;
  m.quote_asset = 0;
  for (std::size_t i = 0; i < sc.assets.size(); ++i) {
    const AssetConfig& ac = sc.assets[i];
    const AssetId spot_asset = static_cast<AssetId>(1 + 2 * i);
    const AssetId perp_asset = static_cast<AssetId>(2 + 2 * i);
    ReferenceProcess ref(ac.reference, ac.initial_price, sc.dt_s, make_rng(seed, 0, kStreamReference + 16 * i));
    if (!ac.replay.file.empty()) {  // historical replay (sim/market/replay_path.hpp); path[0] is the start, not a step
      const std::string& src = sc.source_file;
      const std::string base_dir = src.find('/') == std::string::npos ? "" : src.substr(0, src.find_last_of('/'));
      const std::vector<double> path = load_replay_path(ac.replay, sc.dt_s, sc.horizon_steps, ac.initial_price,
                                                        derive_seed(seed, 0, 0x7265706C6179ULL + i), base_dir);
      ref.set_replay(std::vector<double>(path.begin() + 1, path.end()));
    }
    AssetMarket am{ac.symbol, spot_asset, perp_asset, ref};
    am.initial_price = ac.initial_price;
    am.calm_step_vol = ref.calm_step_vol();
    am.collateral_haircut = ac.collateral_haircut;
    for (VenueKind kind : {VenueKind::Spot, VenueKind::Perp}) {
      const bool spot = kind == VenueKind::Spot;
      VenueSpec vs;
      vs.kind = kind;
      vs.name = std::string(spot ? "spot:" : "perp:") + ac.symbol;
      vs.base_asset = spot ? spot_asset : perp_asset;
      vs.quote_asset = 0;
      vs.lot_micros = ac.lot_micros;
      vs.tick_micros = ac.tick_micros;
      vs.quote_micros_per_tick_lot = ac.quote_micros_per_tick_lot;
      vs.tick_size = ac.tick_size;
      vs.lot_size = ac.lot_size;
      const VenueFeesConfig& fees = spot ? sc.venues.spot : sc.venues.perp;
      vs.maker_fee_bps = fees.maker_fee_bps;
      vs.taker_fee_bps = fees.taker_fee_bps;
      vs.max_tick = ac.max_tick;
      vs.self_trade_prevention = sc.venues.self_trade_prevention;
      const AccountId fee_acc = L.open_account("fees:" + vs.name);
      m.venues.emplace_back(vs, L, fee_acc);
      (spot ? am.spot : am.perp) = &m.venues.back();
    }
    m.assets.push_back(std::move(am));
  }

  m.margin = &w.margin;
  {
    std::vector<ReferenceProcess*> procs;
    std::vector<double> rho, rho_stress;
    // oracle_fault shocks join the oracle's own faults (one fault pipeline, sim/perp/oracle.hpp).
    const OracleConfig oracle_cfg = oracle_config_with_shocks(sc.perp.oracle, sc.shocks);
    for (std::size_t i = 0; i < m.assets.size(); ++i) {
      procs.push_back(&m.assets[i].reference);
      rho.push_back(sc.assets[i].correlation_to_first);
      rho_stress.push_back(sc.assets[i].correlation_to_first_stress);
      w.oracles.emplace_back(oracle_cfg, i, sc.assets[i].initial_price);
      w.marks.emplace_back(sc.perp.mark);
      w.funding.emplace_back(sc.perp.funding, sc.dt_s);
    }
    // One stream for all reference prices: asset 0's, so a one-asset path is unchanged.
    w.reference = std::make_unique<ReferenceModel>(procs, rho, rho_stress, make_rng(seed, 0, kStreamReference));
  }
  // Protocol accounts: the insurance fund starts funded; bad debt may go negative (its negative
  // balance is the cumulative bad debt); network fees collect liquidators' transaction costs.
  w.sys.insurance_fund = L.open_account("insurance_fund");
  L.mint(w.sys.insurance_fund, 0, to_fixed(sc.perp.liquidation.insurance_fund_start, 1e6));
  w.sys.bad_debt = L.open_account("bad_debt", true);
  w.sys.network_fees = L.open_account("network_fees");
  w.sys.protocol = L.open_account("protocol_liquidator");
  w.funding_pool = L.open_account("funding_pool");
  // System account holding spot collateral on its way between wallets and margin accounts.
  m.transit_account = L.open_account("transit");
  m.counterparty_account = L.open_account("counterparty", true);

  std::uint64_t agent_id = 0;
  auto agent_rng = [&](std::uint64_t id) { return make_rng(seed, 0, kStreamAgentBase + id); };
  const auto& mmc = sc.agents.market_makers;
  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    for (VenueKind kind : {VenueKind::Spot, VenueKind::Perp}) {
      for (int k = 0; k < mmc.count_per_venue; ++k, ++agent_id) {
        const AccountId acc = L.open_account("market_maker:" + std::to_string(agent_id));
        L.mint(acc, 0, to_fixed(mmc.quote_cash, 1e6));
        const Micros base_start = to_fixed(mmc.base_inventory, 1e6);  // spot, for quoting or hedging
        L.mint(acc, m.assets[i].spot_asset, base_start);
        w.makers.emplace_back(mmc, acc, i, kind, base_start, agent_rng(agent_id));
        w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::MarketMaker));
      }
    }
  }
  const auto& ntc = sc.agents.noise_traders;
  for (int k = 0; k < ntc.count; ++k, ++agent_id) {
    const AccountId acc = L.open_account("noise_trader:" + std::to_string(agent_id));
    L.mint(acc, 0, to_fixed(ntc.quote_cash, 1e6));
    for (const auto& a : m.assets) L.mint(acc, a.spot_asset, to_fixed(ntc.base_inventory, 1e6));
    w.noise.emplace_back(ntc, acc, sc.dt_s, agent_rng(agent_id));
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::NoiseTrader));
  }
  for (const auto& lc : sc.agents.ladders) {
    const AccountId acc = L.open_account("ladder:" + std::to_string(agent_id++));
    L.mint(acc, 0, to_fixed(lc.quote_cash, 1e6));
    L.mint(acc, m.assets[static_cast<std::size_t>(lc.asset_index)].spot_asset, to_fixed(lc.base_inventory, 1e6));
    w.ladders.emplace_back(lc, acc);
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Ladder));
  }
  // Populations added with the perpetual engine come after the original ones, so agent ids (and so
  // every earlier agent's random stream) are unchanged when they are absent.
  const auto& arc = sc.agents.arbitrageurs;
  for (int k = 0; k < arc.count; ++k, ++agent_id) {
    const AccountId acc = L.open_account("arbitrageur:" + std::to_string(agent_id));
    L.mint(acc, 0, to_fixed(arc.quote_cash, 1e6));
    const Micros base_start = to_fixed(arc.base_inventory, 1e6);
    for (const auto& a : m.assets) L.mint(acc, a.spot_asset, base_start);
    w.arbs.emplace_back(arc, acc, base_start, agent_rng(agent_id));
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Arbitrageur));
  }
  const auto& bc = sc.agents.basis_traders;
  w.basis.reserve(static_cast<std::size_t>(std::max(0, bc.count)));
  for (int k = 0; k < bc.count; ++k, ++agent_id) {  // opens and funds its own accounts
    w.basis.emplace_back(bc, m, w.margin, static_cast<std::int32_t>(agent_id), sc.perp.funding.interval_s, agent_rng(agent_id));
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::BasisTrader));
  }
  register_trading_agents(w);
  const auto& lvc = sc.agents.leveraged_traders;
  {  // A large population: its accounts reserved at once (no doubling slack in the peak memory).
    const auto n = static_cast<std::size_t>(std::max(0, lvc.count));
    L.reserve_accounts(L.n_accounts() + 2 * n + 64);
    w.margin.reserve(w.margin.accounts().size() + n + 64, L.n_accounts() + 2 * n + 64);
    reserve_huge(w.agent_kind_of, w.agent_kind_of.size() + n + 64);
  }
  // Each opens and funds its own accounts; a passive position keeps its accounts but no agent
  // object (#15 item 4): it never wakes.
  LeveragedTrader::build(lvc, m, w.margin, agent_id, lvc.count, seed, [&](LeveragedTrader&& t) {
    if (t.passive()) {
      ++w.passive_leveraged;
      w.passive_leveraged_entered += t.entered();
    } else {
      w.leveraged.push_back(std::move(t));
    }
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::LeveragedTrader));
  });
  agent_id += static_cast<std::uint64_t>(std::max(0, lvc.count));
  // One class (agents.liquidators) or several (agents.liquidator_classes, in the order given).
  const std::vector<LiquidatorConfig> one_class{sc.agents.liquidators};
  for (const LiquidatorConfig& lqc : sc.agents.liquidator_classes.empty() ? one_class : sc.agents.liquidator_classes)
    for (int k = 0; k < lqc.count; ++k, ++agent_id) {
      const AccountId acc = L.open_account("liquidator:" + std::to_string(agent_id));
      L.mint(acc, 0, to_fixed(lqc.capital, 1e6));
      w.liquidators.emplace_back(lqc, acc, static_cast<std::int32_t>(agent_id), agent_rng(agent_id));
      w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Liquidator));
    }
  // The backstop provider exists for the policies that use one; it starts with its capacity in cash.
  const std::string& policy = lq.policy;
  double backstop_capacity = -1;
  if (policy == "delta_neutral" && lq.delta_neutral.mode == "backstop") backstop_capacity = lq.delta_neutral.backstop_capacity;
  if (policy == "hierarchy" && lq.hierarchy.backstop) backstop_capacity = lq.hierarchy.backstop_capacity;
  if (backstop_capacity >= 0) {
    const AccountId acc = L.open_account("backstop_provider:" + std::to_string(agent_id++));
    L.mint(acc, 0, to_fixed(backstop_capacity, 1e6));
    w.backstop = std::make_unique<BackstopProvider>(backstop_capacity, acc);
    w.backstop_agent_id = static_cast<std::int32_t>(agent_id - 1);
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Backstop));
  }
  // Traders after the fall (issue #14 item 4): after every earlier population, so the ids, accounts
  // and random streams of those are unchanged when these are absent (the default).
  const HedgingDemandConfig& hdc = sc.agents.hedgers;
  w.first_hedger_agent_id = static_cast<std::int32_t>(agent_id);
  for (int k = 0; k < hdc.count; ++k, ++agent_id) {
    const AccountId acc = L.open_account("hedger:" + std::to_string(agent_id));
    L.mint(acc, 0, to_fixed(hdc.quote_cash, 1e6));
    w.hedgers.emplace_back(hdc, acc, static_cast<std::size_t>(k) % m.assets.size(), agent_rng(agent_id));
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::HedgingDemand));
  }
  if (sc.agents.reentry.probability > 0) {
    const AccountId acc = L.open_account("reentry:" + std::to_string(agent_id));
    w.reentry_agent_id = static_cast<std::int32_t>(agent_id);
    L.mint(acc, 0, to_fixed(sc.agents.reentry.quote_cash, 1e6));
    w.reentry.emplace_back(sc.agents.reentry, acc, agent_rng(agent_id++));
    if (sc.agents.reentry.leverage > 0)  // one account per possible re-entry (at most one per leveraged trader)
      for (int k = 0; k < sc.agents.leveraged_traders.count; ++k)
        w.reentry[0].add_slot(L.open_account("reentry:" + std::to_string(w.reentry_agent_id) + ":" + std::to_string(k), /*may_go_negative=*/true));
    w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Reentry));
  }
  // Passive positions, then accounts.file: after every population, so their ids do not move; a
  // population of passive positions and the same positions as a file take the same account ids.
  book_passive_positions(sc, seed, m, w.margin);
  book_own_positions(sc, m, w.margin);  // accounts.file: after every population, so their ids do not move
  // The counterparties of everything booked at step 0, then every agent's margin account.
  const std::size_t n_cp = split_to_counterparties(sc.agents.counterparties, m, w.margin, static_cast<std::int32_t>(w.agent_kind_of.size()));
  for (std::size_t k = 0; k < n_cp; ++k) w.agent_kind_of.push_back(static_cast<std::int32_t>(AgentKind::Counterparty));
  register_bots_and_backstop(w);
  w.wake.reserve(w.agent_kind_of.size() - w.passive_leveraged);
  w.schedule_all_at_step_0();
  w.active.reserve(w.wake.size());
  w.woken.reserve(w.wake.size());
}

}  // namespace

namespace {
double metric_or_zero(const RunResult& r, const char* name) {
  for (const auto& [k, v] : r.summary)
    if (k == name) return v;
  return 0.0;
}
}  // namespace

RunResult run_simulation(const ScenarioConfig& sc, const RunOptions& opt, RunCounters* counters) {
  const auto t_start = std::chrono::steady_clock::now();
  World w(sc);
  const LiquidationConfig lcfg = opt.policy.empty() ? sc.perp.liquidation : resolve_policy(sc.perp.liquidation, opt.policy);
  build_world(w, sc, opt.seed, lcfg);
  Market& m = w.market;
  Rng kernel_rng = make_rng(opt.seed, 0, kStreamKernel);
  Rng liquidation_rng = make_rng(opt.seed, 0, kStreamLiquidation);
  w.margin.set_tie_rng(make_rng(opt.seed, 0, kStreamFlagOrder));
  Recorder rec(sc, m);
  rec.loop().set_inheritors(w.backstop ? std::vector<AccountId>{w.sys.insurance_fund, w.sys.protocol, w.backstop->account()}
                                       : std::vector<AccountId>{w.sys.insurance_fund, w.sys.protocol});
  RunCounters c;
  const auto t_built = std::chrono::steady_clock::now();
  c.setup_s = std::chrono::duration<double>(t_built - t_start).count();
  ShockSchedule shocks(sc.shocks, m, sc.assets);  // with the volatility-linked haircuts
  std::unique_ptr<LiquidationPolicy> policy = make_liquidation_policy(lcfg);
  std::unique_ptr<ProactiveDerisker> proactive;
  if (lcfg.proactive.enabled) proactive = std::make_unique<ProactiveDerisker>(lcfg.proactive, m.assets.size(), sc.dt_s);
  std::vector<LiquidationEvent> events;
  events.reserve(1024);
  std::vector<std::vector<AccountId>> perp_makers(m.assets.size());
  std::vector<std::vector<const MarketMaker*>> perp_maker_agents(m.assets.size());
  for (const MarketMaker& mm : w.makers)
    if (mm.venue() == VenueKind::Perp) {
      perp_makers[mm.asset()].push_back(mm.account());
      perp_maker_agents[mm.asset()].push_back(&mm);
    }
  LiquidationContext lctx{m, w.margin, w.liquidators, w.agent_kind_of, liquidation_rng, 0, w.sys, events, perp_makers, w.backstop.get()};
  lctx.perp_makers = &perp_maker_agents;
  FundCredit& fund_credit = policy->fund_credit();
  lctx.fund = &fund_credit;
  lctx.protocol_fallback_cost = to_fixed(lcfg.protocol_fallback_cost, 1e6);
  std::unique_ptr<PriorityFeeAuction> fee_auction;  // liquidator classes compete on priority fees
  if (!sc.agents.liquidator_classes.empty()) fee_auction = std::make_unique<PriorityFeeAuction>(lcfg.priority_fee, m);
  lctx.fee_auction = fee_auction.get();
  const bool funding_on = sc.perp.funding.enabled;
  ProtocolStepInfo info;
  std::int64_t adl_total = 0, adl_queue_empty_total = 0, flat_deficit_events_total = 0;
  double flat_deficit_bad_debt_total = 0.0;
  double collateral_haircut_total = 0.0;
  double spot_taken_over_total = 0.0;
  double adl_taken_total = 0.0, adl_overshoot_total = 0.0, haircut_taken_total = 0.0;
  std::int64_t agents_retired = 0;

  for (std::int64_t step = 0; step < sc.horizon_steps; ++step) {
    m.step = step;
    if (opt.cancel && opt.cancel->load(std::memory_order_relaxed)) throw Interrupted();
    for (Venue& v : m.venues) v.reset_step_stats();
    // 1. scheduled shocks, then the exogenous reference prices advance.
    shocks.apply(step, m);
    w.reference->step();
    for (MarketMaker& mm : w.makers) {
      const LiquidityState& lq = shocks.liquidity(mm.asset());
      mm.set_liquidity_multipliers(lq.depth_multiplier, lq.size_multiplier);
    }
    // 2. the oracle publishes the index from spot mids it observed lag steps ago.
    for (std::size_t i = 0; i < m.assets.size(); ++i) m.assets[i].index_price = w.oracles[i].publish(step);
    // 3. agents act in a seeded random permutation.
    w.active.clear();
    w.woken.clear();
    w.wake.pop_due(step, w.woken);  // in polling order (kind, index)
    for (const std::uint64_t k : w.woken) {
      const AgentKind kind = static_cast<AgentKind>(k >> 32);
      const auto i = static_cast<std::uint32_t>(k);
      if (w.is_retired(kind, i)) continue;
      if (w.with_agent(kind, i, [step](const auto& a) { return a.wants_to_act(step); })) w.active.push_back({kind, i});
    }
    for (std::size_t i = w.active.size(); i > 1; --i) {  // Fisher-Yates with Boost's exact distribution
      boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
      std::swap(w.active[i - 1], w.active[pick(kernel_rng)]);
    }
    for (const AgentHandle& h : w.active) {
      switch (h.kind) {
        case AgentKind::MarketMaker: w.makers[h.index].act(m); break;
        case AgentKind::NoiseTrader: w.noise[h.index].act(m); break;
        case AgentKind::Ladder: w.ladders[h.index].act(m); break;
        case AgentKind::Arbitrageur: w.arbs[h.index].act(m); break;
        case AgentKind::BasisTrader: w.basis[h.index].act(m); break;
        case AgentKind::LeveragedTrader: w.leveraged[h.index].act(m); break;
        case AgentKind::Liquidator: w.liquidators[h.index].act(m); break;
        case AgentKind::Backstop: w.backstop->act(m); break;
        case AgentKind::HedgingDemand: w.hedgers[h.index].act(m); break;
        case AgentKind::Reentry: w.reentry[h.index].act(m); break;
        case AgentKind::Position: break;
        case AgentKind::Counterparty: break;
      }
    }
    c.agent_actions += static_cast<std::int64_t>(w.active.size());
    for (const std::uint64_t k : w.woken)
      if (!w.is_retired(static_cast<AgentKind>(k >> 32), static_cast<std::uint32_t>(k)))
        w.wake.schedule(w.next_wake(static_cast<AgentKind>(k >> 32), static_cast<std::uint32_t>(k), step), k);
    // 4. mark = index + clamped EMA premium; the margin engine marks every account and flags the
    // liquidatable ones.
    for (std::size_t i = 0; i < m.assets.size(); ++i)
      m.assets[i].mark_price = w.marks[i].update(m.assets[i].index_price, perp_mark_sample(*m.assets[i].perp));
    w.margin.mark_all(step);
    // A margined agent whose account is flagged is retired before the policy acts: the venues cancel
    // its resting orders (as a venue does to an account it liquidates), it never acts again, and a
    // maker no longer bids in batch auctions nor a bot in any policy.
    for (const std::uint32_t id : w.margin.flagged()) {
      const auto it = std::lower_bound(w.agent_margin.begin(), w.agent_margin.end(), id,
                                       [](const auto& e, std::uint32_t v) { return e.first < v; });
      if (it == w.agent_margin.end() || it->first != id) continue;
      const AgentHandle h = it->second;
      std::uint8_t& r = w.retired[static_cast<std::size_t>(h.kind)][h.index];
      if (r) continue;
      r = 1;
      ++agents_retired;
      const AccountId acc = w.margin.account(id).account;
      for (Venue& v : m.venues) v.cancel_all_of(acc);
      if (h.kind == AgentKind::Liquidator) w.liquidators[h.index].retire();
      if (h.kind == AgentKind::Backstop) w.backstop->retire();
      if (h.kind == AgentKind::MarketMaker && w.makers[h.index].venue() == VenueKind::Perp) {
        const std::size_t a = w.makers[h.index].asset();
        std::erase(perp_makers[a], acc);
        std::erase(perp_maker_agents[a], &w.makers[h.index]);
      }
    }
    // 5. optional proactive de-risking, then the liquidation policy starts, advances or finishes
    // liquidations.
    policy->reset_step_stats();
    lctx.step = step;
    if (fee_auction) fee_auction->observe(m);
    if (proactive) {
      double derisked_notional = 0;  // counted from its events (proactive_derisk_*), not as liquidations
      proactive->on_step(lctx, &derisked_notional);
    }
    policy->on_step(lctx);
    // Every policy's fund: repay its loan from what it holds in quote, and keep its equity at or
    // above -fund_borrow_limit (a loss below that floor is bad debt, after `socialized` and
    // `hierarchy` socialized what they can by their loss rule; sim/liquidation/fund.hpp).
    repay_fund_loan(lctx, fund_credit);
    policy->apply_fund_floor(lctx);
    if (opt.check_invariants) check_step_invariants(m, w.margin, w.sys, fund_credit, step);
    // 6. funding: one premium sample per step; paid through the ledger when an interval ends.
    if (funding_on) {
      for (std::size_t i = 0; i < m.assets.size(); ++i) {
        AssetMarket& a = m.assets[i];
        const double notional = sc.perp.funding.impact_notional;
        const double ib = impact_price(a.perp->book(), Side::Sell, notional, a.perp->spec().tick_size, a.perp->spec().lot_size);
        const double ia = impact_price(a.perp->book(), Side::Buy, notional, a.perp->spec().tick_size, a.perp->spec().lot_size);
        FundingClock& fc = w.funding[i];
        fc.sample(ib, ia, a.index_price, shocks.funding_premium(i));  // + funding_shock premium
        a.premium_index = fc.last_sample();
        a.funding_estimate = FundingClock::funding_rate(fc.current_premium_estimate(), sc.perp.funding);
        if (fc.due()) {
          w.margin.materialise_all_watched();  // funding moves every position's balance (MarginEngine::watch)
          a.funding_rate = fc.settle_rate();
          settle_funding(w.ledger, a.perp_asset, m.quote_asset, w.funding_pool, a.funding_rate, a.mark_price);
        }
      }
    }
    // 7. record; the oracle observes this step's closing spot mids.
    {
      // The bad-debt account lends to the socialized / hierarchy policy's fund; what is lent is not a loss.
      const Micros borrowed = fund_credit.borrowed;
      info.bad_debt_cum = from_micros(-w.ledger.balance(w.sys.bad_debt, m.quote_asset) - borrowed);
      info.fund_borrowed = from_micros(borrowed);
      // The insurance fund is recorded at its equity (insurance_fund_equity: cash - borrowed +
      // positions at index/mark). The socialized and hierarchy policies' fund takes positions over
      // and pays for them, so its quote balance alone would read as a fund wiped out while it holds
      // their value. For the other policies the fund holds only quote and borrows nothing.
      info.insurance_fund_cash = from_micros(w.ledger.balance(w.sys.insurance_fund, m.quote_asset));
      info.insurance_fund = from_micros(insurance_fund_equity(m, w.sys.insurance_fund, borrowed));
    }
    // Proactive de-risking of healthy accounts is not a liquidation: it has its own summary metrics
    // (proactive_derisk_*) and stays out of the liquidation series, as out of the summary.
    info.liquidations = policy->step_stats().count;
    info.liquidated_notional = policy->step_stats().notional;
    info.adl_count = policy->step_stats().adl_count;
    info.adl_overshoot = policy->step_stats().adl_overshoot;
    adl_overshoot_total += info.adl_overshoot;
    adl_taken_total += policy->step_stats().adl_taken;
    haircut_taken_total += policy->step_stats().haircut_taken;
    adl_total += info.adl_count;
    adl_queue_empty_total += policy->step_stats().adl_queue_empty;
    flat_deficit_events_total += policy->step_stats().flat_deficit_bad_debt_events;
    flat_deficit_bad_debt_total += policy->step_stats().flat_deficit_bad_debt;
    collateral_haircut_total += policy->step_stats().collateral_haircut;
    spot_taken_over_total += policy->step_stats().spot_taken_over;
    info.fund_exhausted = fund_credit.exhausted_now;
    fund_credit.exhausted_now = false;
    rec.record_step(m, info);
    for (std::size_t i = 0; i < m.assets.size(); ++i) w.oracles[i].observe(step, spot_mid(m.assets[i]), m.assets[i].reference.price());
    if (opt.progress && (step + 1) % opt.progress_every_steps == 0) opt.progress(step + 1, sc.horizon_steps);
    if (step == 0) c.first_step_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_built).count();
  }

  w.ledger.check_conservation();
  if (opt.check_invariants) w.ledger.check_deferred_rows();  // the rows not written yet sum to what was booked (O(range))
  c.steps = sc.horizon_steps;
  for (const Venue& v : m.venues) {
    c.messages += v.total_messages();
    c.trades += v.total_trades();
  }
  c.ledger_transfers = w.ledger.transfer_count();
  for (const Arbitrageur& a : w.arbs) c.arb_filled_lots += a.filled_lots();
  for (const BasisTrader& b : w.basis) {
    if (!b.entered()) continue;
    ++c.basis_entered;
    const AssetMarket& a0 = m.assets[b.asset()];
    const Micros short_contracts = -w.ledger.balance(b.margin_account(), a0.perp_asset);
    if (short_contracts > 0 && b.spot_owned(m) == short_contracts) ++c.basis_hedged;
  }
  c.leveraged_entered = static_cast<std::int64_t>(w.passive_leveraged_entered);
  c.positions_watched_at_end = static_cast<std::int64_t>(w.margin.watched_count());
  c.positions_made_accounts = static_cast<std::int64_t>(w.margin.watched_total() - w.margin.watched_count());
  c.position_rows_unwritten_at_end = static_cast<std::int64_t>(w.ledger.deferred_rows_pending());
  c.watch_rebuilds = static_cast<std::int64_t>(w.margin.watch_rebuilds());
  for (const LeveragedTrader& t : w.leveraged)
    if (t.entered()) ++c.leveraged_entered;
  if (counters) *counters = c;

  RunResult r = rec.finish(m, std::move(events), info);
  r.policy = opt.policy.empty() ? policy->name() : opt.policy;  // a "delta_neutral:MODE" variant keeps its name
  r.seed = opt.seed;
  r.run_index = opt.run_index;
  char id[32];
  std::snprintf(id, sizeof id, "%06lld", static_cast<long long>(opt.run_index));
  r.run_id = id;
  r.summary.emplace_back("adl_count", static_cast<double>(adl_total));
  // Absorptions whose shortfall the ADL queue could not cover in full (the rest was bad debt).
  r.summary.emplace_back("adl_queue_empty_events", static_cast<double>(adl_queue_empty_total));
  // What ADL took from the winners against the mark, and the part beyond the shortfalls it covered
  // (quote units; sim/liquidation/README.md, "ADL overshoot").
  r.summary.emplace_back("adl_taken", adl_taken_total);
  r.summary.emplace_back("adl_overshoot", adl_overshoot_total);
  // Margined agents (makers, noise traders, ladders, arbitrageurs, bots, backstop, hedgers, the
  // re-entry pool) whose account was
  // flagged: their orders were cancelled and they stopped acting.
  r.summary.emplace_back("agents_liquidated", static_cast<double>(agents_retired));
  // Deficits of already flat accounts that socialized / hierarchy (fund stage) could not socialize
  // once the fund was at its floor: ADL has no position to close against (sim/liquidation/fund.cpp).
  r.summary.emplace_back("flat_deficit_bad_debt_events", static_cast<double>(flat_deficit_events_total));
  r.summary.emplace_back("flat_deficit_bad_debt", flat_deficit_bad_debt_total);
  // The first step (and its time_s, (step + 1) x dt_s) at which the insurance fund could not carry a
  // loss (equity at -fund_borrow_limit): -1 if never.
  const std::int64_t ex = fund_credit.first_exhausted_step;
  r.summary.emplace_back("fund_exhausted_step", static_cast<double>(ex));
  r.summary.emplace_back("fund_exhausted_s", ex >= 0 ? static_cast<double>(ex + 1) * sc.dt_s : -1.0);
  // The part of bad_debt recognized by the fund's equity floor: what the fund held (positions it
  // took over) lost in value below -fund_borrow_limit, not a liquidation's own shortfall.
  r.summary.emplace_back("bad_debt_fund_floor", from_micros(fund_credit.floor_bad_debt));
  // What the floor socialized instead of booking it (socialized / hierarchy: ADL of the fund's
  // inventory or a haircut of winners' profits), quote units.
  r.summary.emplace_back("fund_floor_socialized", from_micros(fund_credit.floor_socialized));
  // The part of bad_debt that is Dutch keeper incentives (tip + chip) paid beyond the fund's cash:
  // Clipper pays them as new system debt (vat.suck), whatever the surplus holds.
  r.summary.emplace_back("incentive_bad_debt", from_micros(fund_credit.incentive_bad_debt));
  // User cost (quote units): penalties + slippage against the mark + the haircut lost on spot
  // collateral the fund took over at index x (1 - haircut) (socialized, hierarchy, market takeovers).
  r.summary.emplace_back("collateral_haircut_cost", collateral_haircut_total);
  r.summary.emplace_back("spot_taken_over", spot_taken_over_total);
  // What loss_rule "haircut" took from winners' profits (socialized, hierarchy): a cost to users,
  // as ADL's is (an ADL'd winner's loss against the mark is in its event's slippage).
  r.summary.emplace_back("haircut_taken", haircut_taken_total);
  r.summary.emplace_back("user_cost", metric_or_zero(r, "penalties_paid") + metric_or_zero(r, "slippage_cost") + collateral_haircut_total +
                                          haircut_taken_total);
  // What a policy left unresolved at the horizon: accounts still liquidatable, and the negative
  // equity (at mark) of open accounts: bad debt not yet realised, which bad_debt does not include.
  // Only the accounts the last mark does not vouch for can count (the others are healthy with
  // equity >= 0 at today's prices): the same sums, in the same id order, read from far fewer accounts.
  double flagged_end = 0, underwater_end = 0;
  std::vector<std::uint32_t> maybe_underwater;
  w.margin.accounts_not_vouched_for(maybe_underwater);
  for (const std::uint32_t id : maybe_underwater) {
    const MarginAccount& a = w.margin.account(id);
    if (a.closed) continue;
    if (a.liquidatable) flagged_end += 1;
    const double eq = w.margin.equity(a, PriceBasis::Mark);
    if (eq < 0) underwater_end -= eq;
  }
  r.summary.emplace_back("flagged_at_end", flagged_end);
  r.summary.emplace_back("underwater_equity_at_end", underwater_end);
  // Liquidator bots' profit: their equity now (quote + spot at index + contracts at mark) less the
  // capital they started with; rewards minus transaction costs minus resale losses.
  double bot_profit = 0;
  for (const LiquidatorBot& b : w.liquidators) {
    double eq = from_micros(w.ledger.balance(b.account(), m.quote_asset)) - b.config().capital;
    for (const AssetMarket& a : m.assets) {
      eq += from_micros(w.ledger.balance(b.account(), a.spot_asset)) * a.index_or_reference();
      eq += from_micros(w.ledger.balance(b.account(), a.perp_asset)) * a.mark_or_reference();
    }
    bot_profit += eq;
  }
  r.summary.emplace_back("liquidator_profit", bot_profit);
  r.summary.emplace_back("messages", static_cast<double>(c.messages));
  r.summary.emplace_back("trades", static_cast<double>(c.trades));
  r.summary.emplace_back("ledger_transfers", static_cast<double>(c.ledger_transfers));
  r.summary.emplace_back("conservation_ok", 1.0);  // reaching here means the exact check passed
  return r;
}

}  // namespace sl
