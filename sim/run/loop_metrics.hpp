// Metrics of the basis loop (issue #13): hedged accounts (basis traders' margin accounts) that fail,
// the chain of failures the forced closing feeds, the funding they pay, and the net delta the
// liquidation process holds. The recorder calls on_step() every step (after funding, step 7) and
// append_summary() once; the series column liquidation_net_delta is one per asset.
//
// **Net delta held by the liquidation process**, per asset a, at the end of step t (asset units):
//     D_a(t) = sum over margin accounts under liquidation (not closed, and liquidatable at this step's
//              mark or in_liquidation): spot_a + contracts_a held in the margin account
//            + spot_a + contracts_a of the inheritor accounts (the insurance fund, the backstop
//              provider, the protocol liquidator: set_inheritors)
// A hedged account whose two legs are both still there adds ~0; a short leg bought back while its
// spot collateral is still to be sold adds +spot; a position the fund took over adds the position.
// Liquidator bots' inventory (dutch, batch) is theirs, not the protocol's, and is not counted.
//     delta_leakage = sum_t sum_a |D_a(t)| x index_a(t) x dt_s      (quote-seconds)
// and max_abs_liquidation_net_delta[.SYM] = max_t |D_a(t)|. delta_leakage_hedged is the same
// integral over the basis traders' margin accounts under liquidation alone (no other account, no
// inheritor): the part of the leakage the hedged accounts' own unwinding leaves.
// delta_leakage_inherited is the same integral over the inheritors alone, sum_t sum_a |I_a(t)| x
// index_a(t) x dt_s with I_a the inheritors' spot_a + contracts_a: what the protocol itself carries
// while it unwinds what it took over. The three are integrals of absolute values of different sums,
// so the total is at most, not equal to, the sum of the parts.
//
// **Funding paid by hedged accounts** (quote, positive = paid): at every funding settlement (the
// step whose sample completes an interval: (t + 1) is a multiple of round(interval_s / dt_s), as
// FundingClock::due), sum over basis traders' margin accounts of contracts x mark x rate, the
// amount settle_funding moves (longs pay when the rate is positive).
//
// **Basis traders liquidated, exogenous / endogenous**: distinct basis-trader accounts with a
// liquidation event (not `proactive`), classified by the `endogenous` flag of their first event;
// basis_traders_closed_out: those of them whose margin account is closed at the end (a partial
// unwind that restored the account's health leaves it open).
//
// **The loop measure** `basis_loop_chain_max` (pure function longest_loop_chain below). Nodes: the
// liquidation spells of hedged accounts, one per (account, flag step), the flag step being an
// event's step - steps_to_complete. A step t is a *premium push* of node A when A has a liquidation
// event at step t and the perp premium of asset 0 (1e4 x (perp mid - index) / index at the end of
// the step, the recorded premium_bps) rose by at least x = output.loop_premium_move_bps over step t:
// premium(t) - premium(t-1) >= x. Hedged accounts here are short the perpetual (basis traders are
// long spot / short perp), so their forced closing buys and an upward move is the one that hurts the
// next. Link A -> B when B (another account) is flagged at a step in (t, t + k] for a premium push t
// of A, k = output.loop_window_steps. The measure is the number of nodes on the longest path of
// links (0 with no hedged liquidation, 1 when none links). basis_loop_links counts the links.
// The premium is attributed to A only in the steps A's events are logged: flow unwound later by a
// bot, the backstop provider or the insurance fund can still flag accounts but forms no link.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/book/ledger.hpp"
#include "sim/market/market.hpp"
#include "sim/run/run_result.hpp"

namespace sl {

// One liquidation spell of a hedged account: its flag step and the steps of its events.
struct HedgedSpell {
  std::uint32_t account = 0;
  std::int64_t flag_step = 0;
  std::vector<std::int64_t> event_steps;
};

struct LoopChain {
  std::int64_t longest = 0;  // nodes on the longest path
  std::int64_t links = 0;    // A -> B pairs
};

// premium_bps[t]: the premium at the end of step t. Spells in any order.
LoopChain longest_loop_chain(const std::vector<double>& premium_bps, const std::vector<HedgedSpell>& spells,
                             std::int64_t window_steps, double min_move_bps);

// The spells of basis-trader accounts in an event table (proactive events excluded).
std::vector<HedgedSpell> hedged_spells(const std::vector<LiquidationEvent>& events);

class LoopMetrics {
 public:
  LoopMetrics(const ScenarioConfig& sc, const Market& m);
  // Accounts whose positions the protocol inherits (insurance fund, backstop provider, protocol liquidator).
  void set_inheritors(std::vector<AccountId> accounts) { inheritors_ = std::move(accounts); }
  void on_step(const Market& m);
  double net_delta(std::size_t asset) const { return net_delta_[asset]; }
  void append_summary(const std::vector<LiquidationEvent>& events, const std::vector<std::string>& symbols,
                      std::vector<std::pair<std::string, double>>& summary) const;

 private:
  double dt_s_;
  std::int64_t window_steps_;
  double min_move_bps_;
  bool funding_on_;
  std::int64_t funding_every_steps_;
  std::vector<AccountId> inheritors_;
  std::vector<double> net_delta_, max_abs_net_delta_;
  std::vector<double> premium_bps_;  // asset 0, every step
  std::vector<std::uint32_t> closed_basis_accounts_;  // ledger ids of closed basis margin accounts (last step)
  // Per step the metrics read only the accounts that matter, never all of them (a run may have
  // millions, sim/perp/margin_engine.hpp): the basis traders' margin ids (listed at the first step)
  // and the accounts under liquidation (every id the margin engine flags joins `tracked_` and
  // leaves it once closed or neither liquidatable nor in liquidation).
  bool listed_ = false;
  std::vector<std::uint32_t> basis_ids_, tracked_;
  std::vector<std::uint8_t> is_tracked_;  // per margin id
  double delta_leakage_ = 0.0;       // quote-seconds
  double delta_leakage_hedged_ = 0.0;  // quote-seconds, basis traders' accounts only
  double delta_leakage_inherited_ = 0.0;  // quote-seconds, the inheritors only
  std::vector<double> hedged_delta_;   // scratch per asset
  double funding_paid_hedged_ = 0.0; // quote
};

}  // namespace sl
