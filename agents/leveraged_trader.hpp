// Leveraged directional trader: one perpetual position, opened once and never closed voluntarily
// (it is the population that gets liquidated; model.md section 6).
//
// Drawn at construction from its own stream, in this order: the asset (uniform over the assets),
// the side (long with probability long_share), the leverage (log-uniform in [leverage_min,
// leverage_max]), the notional (lognormal with mean notional_mean and log-sigma
// notional_dispersion; mu = ln(mean) - s^2/2 so the mean is preserved) and the entry step (uniform
// in [0, entry_window_steps)).
//
// Accounts: a margin account (may go negative in quote: a long pays cash for contracts and holds a
// negative quote balance by construction) funded with margin = notional / leverage and registered
// with the margin engine. In cross mode quote_cash_extra is added to that account; in isolated
// mode it sits in a separate wallet account and is the only source of added margin (in cross mode
// there is nothing to add: the extra is already backing the position).
//
// Entry: at its entry step a market order for notional / perp mid (in lots; nothing if under one
// lot). If the opposite side of the book is empty it retries the next step, until something fills.
// Then every decision_every_steps: if the margin account is closed it stops for good; if equity <
// 1.2 x maintenance, with probability add_margin_probability it moves add_margin_share x the
// initial margin (or what is left) from the wallet into the margin account.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/rng_lanes.hpp"
#include "sim/core/wake.hpp"

namespace sl {

class LeveragedTrader {
 public:
  // What every trader of a population derives from the config alone, computed once per population
  // (the same doubles each trader computed for itself before: the draws do not change).
  struct Population {
    Population(const LeveragedTraderConfig& cfg, Market& m);
    std::size_t n_assets;
    // Per asset: the initial price in ticks and that tick's price (where an "initial" position is booked).
    std::vector<std::pair<Tick, double>> initial_px;
    double long_share;          // clamped to [0, 1]
    double log_lev_lo, log_lev_hi;  // ln of the leverage bounds (log-uniform draw)
    double log_notional_mu, log_notional_sigma;
    std::int64_t entry_last_step;   // entry step drawn in [0, entry_last_step]
    bool isolated, initial_entry;
    Micros quote_cash_extra;
    bool can_add_margin;        // isolated, cash in the wallet and a top-up rule
    // Ledger name stems of "leveraged_trader:ID" and "leveraged_trader:ID:wallet" (looked up once).
    std::uint32_t account_stem, wallet_stem;
  };

  // Opens and funds its accounts in m.ledger and registers the margin account with `margin`.
  // `rng` is its stream: an Rng, or the lane of an Mt64Lanes seeded with the same seed (the same
  // draws, cheaper for a population of a million passive positions: sim/core/rng_lanes.hpp).
  LeveragedTrader(const LeveragedTraderConfig& cfg, Market& m, MarginEngine& margin, std::int32_t agent_id, Rng rng);
  LeveragedTrader(const LeveragedTraderConfig& cfg, const Population& pop, Market& m, MarginEngine& margin,
                  std::int32_t agent_id, Mt64Lane& rng);

  bool wants_to_act(std::int64_t step) const {
    if (done_) return false;
    if (!entered_) return step >= entry_step_;
    return can_add_margin_ && step % decision_every_steps_ == 0;
  }
  // Entry at entry_step_, then decisions only while it can add margin: an entered trader with
  // nothing left to decide never wakes again (the passive bulk of a large population).
  std::int64_t next_wake(std::int64_t step) const {
    if (done_) return kNeverWakes;
    if (!entered_) return std::max(step + 1, entry_step_);
    return can_add_margin_ ? next_multiple_after(step, decision_every_steps_) : kNeverWakes;
  }
  // Never acts again (a position booked at step 0 with no margin to add, or too small to trade):
  // the kernel keeps no object for it, only its accounts (issue #15 item 4).
  bool passive() const { return done_; }
  void act(Market& m);

  // Builds `count` traders with agent ids first_agent_id, first_agent_id + 1, ... and the streams
  // agent_rng would give them (derive_seed(seed, 0, kStreamAgentBase + id)), handing each to
  // out(LeveragedTrader&&) in id order. Their streams are seeded 32 at a time (Mt64Lanes):
  // the same traders as one by one, faster for a population of a million.
  template <class Out>
  static void build(const LeveragedTraderConfig& cfg, Market& m, MarginEngine& margin, std::uint64_t first_agent_id,
                    int count, std::uint64_t seed, Out&& out) {
    if (count <= 0) return;
    const Population pop(cfg, m);
    constexpr std::size_t kBatch = Mt64Lanes::kLanes;
    const auto lanes = std::make_unique<Mt64Lanes>();  // 42 KB: not on the stack
    std::uint64_t seeds[kBatch];
    for (int k0 = 0; k0 < count; k0 += static_cast<int>(kBatch)) {
      const auto n = static_cast<std::size_t>(std::min<int>(static_cast<int>(kBatch), count - k0));
      const std::uint64_t id0 = first_agent_id + static_cast<std::uint64_t>(k0);
      for (std::size_t j = 0; j < n; ++j) seeds[j] = derive_seed(seed, 0, kStreamAgentBase + id0 + j);
      lanes->seed(seeds, n);
      for (std::size_t j = 0; j < n; ++j) {
        Mt64Lane rng(*lanes, j);
        out(LeveragedTrader(cfg, pop, m, margin, static_cast<std::int32_t>(id0 + j), rng));
      }
    }
  }

  std::int32_t agent_id() const { return agent_id_; }
  AccountId margin_account() const { return account_; }
  AccountId wallet() const { return wallet_; }  // == margin_account() in cross mode
  std::uint32_t margin_id() const { return margin_id_; }
  std::size_t asset() const { return asset_; }
  bool is_long() const { return long_; }
  double leverage() const { return leverage_; }
  double target_notional() const { return notional_; }
  bool entered() const { return entered_; }
  std::int64_t margin_additions() const { return margin_additions_; }

 private:
  // The parameters both public constructors copy from `cfg` before init() draws from their stream.
  LeveragedTrader(const LeveragedTraderConfig& cfg, std::int32_t agent_id);
  template <class Engine>
  void init(const Population& pop, Market& m, MarginEngine& margin, Engine& rng);
  void enter(Market& m);
  void decide(Market& m);

  // What decide() needs of the population's config (not a copy of all of it: its strings).
  double add_margin_probability_ = 0.0;
  double add_margin_share_ = 0.0;
  int decision_every_steps_ = 1;
  std::int32_t agent_id_;
  std::unique_ptr<Rng> rng_;         // kept only by a trader that can still add margin (2.5 KB)
  std::size_t asset_ = 0;
  bool long_ = true;
  double leverage_ = 1.0;
  double notional_ = 0.0;            // quote units
  Micros initial_margin_ = 0;        // quote micro-units
  std::int64_t entry_step_ = 0;
  AccountId account_ = 0, wallet_ = 0;
  std::uint32_t margin_id_ = 0;
  bool isolated_ = true;
  bool can_add_margin_ = false;      // isolated, a wallet with cash and a non-zero probability
  bool entered_ = false;
  bool done_ = false;
  std::int64_t margin_additions_ = 0;
};

}  // namespace sl
