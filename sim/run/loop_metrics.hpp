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
// event's step - steps_to_complete. The price read is the one that flags a hedged account: the
// margin engine's equity (sim/perp/margin_engine.hpp) of a basis trader holding spot S > 0 in its
// margin account and contracts -S is
//     quote + S x index x (1 - h) - S x mark  =  quote - S x index x s / 1e4,
//     s(t) = 1e4 x (mark - (1 - h) x index) / index = 1e4 x (mark - index) / index + 1e4 x h   (bps)
// with mark, index and haircut h of asset 0 as the margin engine used them at step t (step 4 of the
// loop: the index published at step 2, the haircut set at step 1 from the previous index, the mark
// from the index and the EMA of two-sided perp mids; the recorder reads them after funding, nothing
// changes them in between). s rises when the mark rises against the index (the perp leg's forced
// buys, through the mark's EMA of two-sided mids), when the index falls and the mark does not
// follow it at once (mark - index is the clamped EMA of perp mid - index: a perp mid that stays put
// keeps part of the fall as premium), and when the volatility-linked haircut rises (a large index
// return, e.g. under the spot leg's forced sales): both channels. The haircut belongs in it: on a scenario with haircut_vol_z > 0 a sharp index move
// raises h at the next step, and that is what flags unified accounts (basis_loop seed 2086, market:
// the index falls 80 bps at step 1594, h goes 0.109 -> 0.153 at step 1595, s +436 bps, and 12
// basis traders are flagged at 1595; the mark's premium over the index rose 4 bps).
// A one-sided perp book's last trade is not in s (the mark does not sample it, issue #14). The
// volatility-linked haircut rises with the size of the index's returns, up or down.
// Timing: an event at step t trades in step 5, after that step's margin check, so the earliest check
// that sees it is t + 1 (the mark's perp sample); the spot book's mid observed at the end of t enters
// the index at t + 1 + lag and fills the oracle's window by t + lag + window, and the haircut reads
// the previous step's index: the push's reach is R = oracle lag_steps + window_steps + 1 steps
// (push_reach_steps; an oracle fault's extra lag or freeze is not added: what the margin engine did
// not see did not flag anyone). A *push* of node A is an event step t of A and the first step u in
// (t, t + R] at which s jumped: s(u) - s(u - 1) >= x = output.loop_premium_move_bps. Link A -> B
// when B (another account) is flagged at a step in [u, t + k] for a push (t, u) of A, k =
// output.loop_window_steps. The measure is the number of nodes on the longest path of links (0 with
// no hedged liquidation, 1 when none links). basis_loop_links counts the links.
// Why a one-step jump and not the rise s(u) - s(t) since the event: x is calibrated on one-step
// moves in steps with no liquidation (scenarios/README.md, basis_loop), and s drifts: on basis_loop
// (market, 50 seeds, steps 1200-2399 with no liquidation in [t, t + R]) the volatility-linked
// haircut climbs with the tripled volatility, so s(u) - s(t) >= 10 bps for some u <= t + 7 in 6.9%
// of such steps (99th percentile 28.4 bps) against 0.44% for a one-step jump (99th percentile 6.8).
// The price of it: the mark, an EMA of 30 steps (alpha 2/31), moves a fifteenth of a jump of the
// perp's two-sided premium in a step, so the perp leg's forced buys alone rarely make a push; on
// basis_loop (market, 50 seeds) the haircut is the largest part of every push.
// What s leaves out: it is exact for a fully unified account (all its spot in the margin account);
// a wallet-kind account (spot elsewhere) is hurt by the mark's level, not its distance to the index,
// and a cross-asset account also by its margin asset's index (neither is read here). The push is
// attributed to A only in the steps A's events are logged: flow unwound later by a bot, the backstop
// provider or the insurance fund can still flag accounts but forms no link; any other flow in the
// same steps (leveraged traders' liquidations, the reference's own move) is not told apart.
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

// The hedged account's stress s in bps (header): 1e4 x (mark - (1 - haircut) x index) / index.
inline double hedge_stress_bps(double mark, double index, double haircut) {
  return 1e4 * (mark - (1.0 - haircut) * index) / index;
}

// R = lag_steps + window_steps + 1: the steps after an event by which the margin engine has seen its
// trades through the mark, the index and the haircut (header).
std::int64_t push_reach_steps(const OracleConfig& oracle);

// stress_bps[t]: s at step t. Spells in any order.
LoopChain longest_loop_chain(const std::vector<double>& stress_bps, const std::vector<HedgedSpell>& spells,
                             std::int64_t window_steps, double min_move_bps, std::int64_t reach_steps);

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
  std::int64_t reach_steps_;
  bool funding_on_;
  std::int64_t funding_every_steps_;
  std::vector<AccountId> inheritors_;
  std::vector<double> net_delta_, max_abs_net_delta_;
  std::vector<double> stress_bps_;  // s of asset 0, every step (header)
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
