#include "sim/simulation.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

#include "agents/ladder_maker.hpp"
#include "agents/market_maker.hpp"
#include "agents/noise_trader.hpp"
#include "sim/market.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

namespace sl {

namespace {

struct World {
  explicit World(const ScenarioConfig& sc) : ledger(make_ledger(sc)), market(ledger) {}

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
  std::vector<MarketMaker> makers;
  std::vector<NoiseTrader> noise;
  std::vector<LadderMaker> ladders;
  std::vector<AgentHandle> active;  // reused every step
};

void build_world(World& w, const ScenarioConfig& sc, std::uint64_t seed) {
  Market& m = w.market;
  Ledger& L = w.ledger;
  m.dt_s = sc.dt_s;
  m.quote_asset = 0;
  for (std::size_t i = 0; i < sc.assets.size(); ++i) {
    const AssetConfig& ac = sc.assets[i];
    const AssetId spot_asset = static_cast<AssetId>(1 + 2 * i);
    const AssetId perp_asset = static_cast<AssetId>(2 + 2 * i);
    ReferenceProcess ref(ac.reference, ac.initial_price, sc.dt_s, make_rng(seed, 0, kStreamReference + 16 * i));
    AssetMarket am{ac.symbol, spot_asset, perp_asset, ref};
    am.initial_price = ac.initial_price;
    am.calm_step_vol = ref.calm_step_vol();
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

  std::uint64_t agent_id = 0;
  auto agent_rng = [&](std::uint64_t id) { return make_rng(seed, 0, kStreamAgentBase + id); };
  const auto& mmc = sc.agents.market_makers;
  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    for (VenueKind kind : {VenueKind::Spot, VenueKind::Perp}) {
      for (int k = 0; k < mmc.count_per_venue; ++k, ++agent_id) {
        const AccountId acc = L.open_account("market_maker:" + std::to_string(agent_id));
        L.mint(acc, 0, to_fixed(mmc.quote_cash, 1e6));
        Micros base_start = 0;
        if (kind == VenueKind::Spot) {
          base_start = to_fixed(mmc.base_inventory, 1e6);
          L.mint(acc, m.assets[i].spot_asset, base_start);
        }
        w.makers.emplace_back(mmc, acc, i, kind, base_start, agent_rng(agent_id));
      }
    }
  }
  const auto& ntc = sc.agents.noise_traders;
  for (int k = 0; k < ntc.count; ++k, ++agent_id) {
    const AccountId acc = L.open_account("noise_trader:" + std::to_string(agent_id));
    L.mint(acc, 0, to_fixed(ntc.quote_cash, 1e6));
    for (const auto& a : m.assets) L.mint(acc, a.spot_asset, to_fixed(ntc.base_inventory, 1e6));
    w.noise.emplace_back(ntc, acc, sc.dt_s, agent_rng(agent_id));
  }
  for (const auto& lc : sc.agents.ladders) {
    const AccountId acc = L.open_account("ladder:" + std::to_string(agent_id++));
    L.mint(acc, 0, to_fixed(lc.quote_cash, 1e6));
    L.mint(acc, m.assets[static_cast<std::size_t>(lc.asset_index)].spot_asset, to_fixed(lc.base_inventory, 1e6));
    w.ladders.emplace_back(lc, acc);
  }
  w.active.reserve(w.makers.size() + w.noise.size() + w.ladders.size());
}

}  // namespace

RunResult run_simulation(const ScenarioConfig& sc, const RunOptions& opt, RunCounters* counters) {
  World w(sc);
  build_world(w, sc, opt.seed);
  Market& m = w.market;
  Rng kernel_rng = make_rng(opt.seed, 0, kStreamKernel);
  Recorder rec(sc, m);
  RunCounters c;

  for (std::int64_t step = 0; step < sc.horizon_steps; ++step) {
    m.step = step;
    if (opt.cancel && opt.cancel->load(std::memory_order_relaxed)) throw Interrupted();
    for (Venue& v : m.venues) v.reset_step_stats();
    // 1. exogenous reference prices advance.
    for (AssetMarket& a : m.assets) a.reference.step();
    // 3. agents act in a seeded random permutation (steps 2, 4-6 arrive with the perpetual engine).
    w.active.clear();
    for (std::uint32_t i = 0; i < w.makers.size(); ++i)
      if (w.makers[i].wants_to_act(step)) w.active.push_back({AgentKind::MarketMaker, i});
    for (std::uint32_t i = 0; i < w.noise.size(); ++i)
      if (w.noise[i].wants_to_act(step)) w.active.push_back({AgentKind::NoiseTrader, i});
    for (std::uint32_t i = 0; i < w.ladders.size(); ++i)
      if (w.ladders[i].wants_to_act(step)) w.active.push_back({AgentKind::Ladder, i});
    for (std::size_t i = w.active.size(); i > 1; --i) {  // Fisher-Yates with Boost's exact distribution
      boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
      std::swap(w.active[i - 1], w.active[pick(kernel_rng)]);
    }
    for (const AgentHandle& h : w.active) {
      switch (h.kind) {
        case AgentKind::MarketMaker: w.makers[h.index].act(m); break;
        case AgentKind::NoiseTrader: w.noise[h.index].act(m); break;
        case AgentKind::Ladder: w.ladders[h.index].act(m); break;
      }
    }
    c.agent_actions += static_cast<std::int64_t>(w.active.size());
    // 7. record.
    rec.record_step(m);
    if (opt.progress && (step + 1) % opt.progress_every_steps == 0) opt.progress(step + 1, sc.horizon_steps);
  }

  w.ledger.check_conservation();
  c.steps = sc.horizon_steps;
  for (const Venue& v : m.venues) {
    c.messages += v.total_messages();
    c.trades += v.total_trades();
  }
  c.ledger_transfers = w.ledger.transfer_count();
  if (counters) *counters = c;

  RunResult r = rec.finish(m);
  r.policy = opt.policy;
  r.seed = opt.seed;
  r.run_index = opt.run_index;
  char id[32];
  std::snprintf(id, sizeof id, "%06lld", static_cast<long long>(opt.run_index));
  r.run_id = id;
  r.summary.emplace_back("messages", static_cast<double>(c.messages));
  r.summary.emplace_back("trades", static_cast<double>(c.trades));
  r.summary.emplace_back("ledger_transfers", static_cast<double>(c.ledger_transfers));
  r.summary.emplace_back("conservation_ok", 1.0);  // reaching here means the exact check passed
  return r;
}

}  // namespace sl
