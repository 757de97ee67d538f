// Re-entry of liquidated directional traders (issue #14 item 4): after a leveraged trader is
// liquidated, with probability `probability` the same trader (fresh capital, not modelled as its
// old account) opens a new position after a delay, on a side drawn anew.
//
// One pool object stands for all of them. Every scan_every_steps it walks the margin engine's
// accounts of kind LeveragedTrader: an open one has its gross notional (|contracts| x index, from
// the ledger) and its asset (the one with the largest) remembered; one seen closed for the first time is a liquidation,
// and draws, from the pool's own stream and in account order: re-enters (bernoulli `probability`);
// if so, the delay (exponential, mean delay_mean_s, rounded up to steps) and the side (short with
// probability short_share). At the first scan at or after its due step the re-entry is a market
// order for notional_share x the remembered notional / perp mid, from the pool's one cross-margin
// account (issue #12 item 3; `quote_cash` its collateral: flagged, every re-entry is liquidated
// together and the pool is retired, no later re-entry is made; a documented simplification), and
// is held to the end of the run. A re-entry the pool's cash cannot pay for is skipped (counted).
// With leverage > 0 each re-entry trades instead from its own account (add_slot, one per possible
// re-entry, margined at set-up): the pool transfers notional / leverage of its cash to it first, and
// the margin engine liquidates it alone; the pool itself then holds only cash.
#pragma once
#include <cstdint>
#include <vector>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"
#include "sim/market/market.hpp"

namespace sl {

class ReentryPool {
 public:
  ReentryPool(const ReentryConfig& cfg, AccountId account, Rng rng);

  bool wants_to_act(std::int64_t step) const { return step % interval_ == 0; }
  std::int64_t next_wake(std::int64_t step) const { return next_multiple_after(step, interval_); }
  void act(Market& m);

  AccountId account() const { return account_; }
  std::int64_t liquidations_seen() const { return seen_; }
  std::int64_t reentries_scheduled() const { return scheduled_; }
  std::int64_t reentries_done() const { return done_; }
  std::int64_t reentries_short() const { return shorts_; }
  std::int64_t reentries_skipped() const { return skipped_; }
  // With leverage > 0: the accounts re-entries trade from, one each, in this order (opened and
  // margined at set-up; a re-entry with none left is skipped).
  void add_slot(AccountId account) { slots_.push_back(account); }
  const std::vector<AccountId>& slots() const { return slots_; }

 private:
  struct Pending {
    std::int64_t due_step;
    std::size_t asset;
    bool is_short;
    double notional;  // quote units
  };
  void scan(Market& m);
  void enter_due(Market& m);

  ReentryConfig cfg_;
  AccountId account_;
  Rng rng_;
  std::int64_t interval_;
  // Per margin account (index = margin id): last gross notional and asset seen open; closed already seen.
  std::vector<double> last_notional_;
  std::vector<std::uint32_t> last_asset_;
  std::vector<std::uint8_t> closed_seen_;
  std::vector<Pending> pending_;
  std::vector<AccountId> slots_;
  std::size_t next_slot_ = 0;
  std::int64_t seen_ = 0, scheduled_ = 0, done_ = 0, shorts_ = 0, skipped_ = 0;
};

}  // namespace sl
