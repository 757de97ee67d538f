// Liquidation policies share one interface: given the accounts the margin engine flagged this step,
// decide what is closed, how, and who absorbs the loss (model.md section 5). The kernel calls
// on_step once per step (step 5 of the loop), after the margin engine has marked every account.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/book/ledger.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/run/run_result.hpp"

namespace sl {

class LiquidatorBot;
class BackstopProvider;
class MarketMaker;
class PriorityFeeAuction;

// System accounts the policies move money through (all opened by the kernel).
struct LiquidationAccounts {
  AccountId insurance_fund = 0;  // starts with insurance_fund_start; pays deficits
  AccountId bad_debt = 0;        // may go negative: its negative balance is the cumulative bad debt
  AccountId network_fees = 0;    // liquidators' transaction costs (gas) end here
  AccountId protocol = 0;        // the venue's own liquidation engine (fallback liquidator)
};

// The insurance fund's standing with the protocol's balance sheet (the bad-debt account), one per
// run, owned by the policy (every policy has an insurance fund).
//  - limit: fund_borrow_limit in micro-units of quote: how far below 0 the fund's EQUITY may go
//    (quote + spot at index + contracts at mark - borrowed). Losses beyond equity + limit are not
//    the fund's: ADL or haircut (socialized, hierarchy, market's takeover) or bad debt.
//  - borrowed: what the fund owes the bad-debt account now. The fund is a plain account (its quote
//    never goes negative): a payment beyond its quote is lent by the bad-debt account. The loan
//    finances positions the fund took over (backed by their value) and, up to `limit`, losses; the
//    equity floor (equity >= -limit) bounds it. Repaid from the fund's quote whenever it has some.
//  - exhausted_now: set during a step in which the fund could not carry a loss (a shortfall went to
//    ADL / haircut / bad debt, or its marked equity fell below -limit); the kernel records it and
//    clears it. first_exhausted_step: the first such step, -1 if never.
struct FundCredit {
  Micros limit = 0;
  Micros borrowed = 0;
  bool exhausted_now = false;
  std::int64_t first_exhausted_step = -1;
  Micros floor_bad_debt = 0;  // bad debt recognized by the equity floor (the fund's own positions marked down)
  // What the equity floor socialized instead (socialized / hierarchy: an ADL of the fund's own
  // inventory or a haircut of winners' profits; FundAbsorber::floor), micro-units of quote.
  Micros floor_socialized = 0;
  Micros incentive_bad_debt = 0;  // Dutch keeper incentives paid beyond the fund's cash (Clipper's vat.suck)
  void mark_exhausted(std::int64_t step) {
    exhausted_now = true;
    if (first_exhausted_step < 0) first_exhausted_step = step;
  }
};

struct LiquidationContext {
  Market& market;
  MarginEngine& margin;
  std::vector<LiquidatorBot>& bots;
  const std::vector<std::int32_t>& agent_kind_of;  // not used by every policy
  Rng& rng;                                        // the kernel's liquidation stream
  std::int64_t step;
  const LiquidationAccounts& accounts;
  std::vector<LiquidationEvent>& events;
  // Ledger accounts of the market makers quoting each asset's perpetual (batch auctions let them bid).
  const std::vector<std::vector<AccountId>>& perp_maker_accounts;
  // The backstop provider (delta_neutral backstop mode, hierarchy with its backstop stage), or
  // nullptr when the run has none.
  class BackstopProvider* backstop = nullptr;
  // The market makers quoting each asset's perpetual, same order as perp_maker_accounts (batch
  // auctions let each bid from its own resting quotes and inventory room), or nullptr (none bid).
  const std::vector<std::vector<const MarketMaker*>>* perp_makers = nullptr;
  // The running policy's fund credit (LiquidationPolicy::fund_credit()); nullptr in hand-built
  // contexts of tests that do not need it: the fund then borrows nothing (limit 0).
  FundCredit* fund = nullptr;
  // agents.liquidator_classes: the priority-fee auction that chooses the liquidator
  // (choose_liquidator), or nullptr: the single class's seeded first-come choice.
  PriorityFeeAuction* fee_auction = nullptr;
  // perp.liquidation.protocol_fallback_cost in micro-units of quote (protocol_fallback in common.hpp).
  Micros protocol_fallback_cost = 0;
};

struct LiquidationStepStats {
  std::int64_t count = 0;
  double notional = 0.0;
  double bad_debt = 0.0;
  std::int64_t adl_count = 0;
  // Absorptions whose shortfall the ADL queue could not cover in full (no profitable opposite
  // position left): the rest was bad debt. Once ADL ran, bad debt comes only with this.
  std::int64_t adl_queue_empty = 0;
  // Deficits of accounts already flat (e.g. a Dutch auction that sold below the bankruptcy price)
  // left as bad debt once the fund was at its floor: ADL has no position to close against (and
  // under loss_rule "haircut", winners' profits did not cover it). Count and quote units.
  std::int64_t flat_deficit_bad_debt_events = 0;
  double flat_deficit_bad_debt = 0.0;
  // Users' loss on spot collateral the fund took over at index x (1 - haircut) while worth index
  // (quote units): part of what a liquidation cost the user, like penalty and slippage.
  double collateral_haircut = 0.0;
  // Spot a closed account still held after collateral conversion that the fund took over at index x
  // (1 - haircut) to cover its deficit (settle_deficit), valued at the index (quote units).
  double spot_taken_over = 0.0;
  // ADL (quote units): what deleveraging took from the winners (each ADL fill's value at mark less
  // its value at the bankruptcy price, from the winner's side) and the part of it beyond the
  // shortfall it had to cover, max(0, taken - shortfall) per absorption (sim/liquidation/README.md).
  double adl_taken = 0.0;
  double adl_overshoot = 0.0;
  // loss_rule "haircut" (quote units): what the haircut collected from winners' profits (an
  // absorption's shortfall, a flat account's deficit, the fund floor's loss). The counterpart of
  // adl_taken: a cost to those users, so part of user_cost as ADL's losses are (through slippage).
  double haircut_taken = 0.0;
};

class LiquidationPolicy {
 public:
  virtual ~LiquidationPolicy() = default;
  virtual const char* name() const = 0;
  virtual void on_step(LiquidationContext& ctx) = 0;
  const LiquidationStepStats& step_stats() const { return stats_; }
  // What the policy's insurance fund owes the bad-debt account (micro-units of quote).
  Micros fund_borrowed() const { return credit_.borrowed; }
  FundCredit& fund_credit() { return credit_; }
  const FundCredit& fund_credit() const { return credit_; }
  void reset_step_stats() { stats_ = {}; }
  // The fund's equity floor, run by the kernel after every step: floor_fund_equity (the loss below
  // -fund_borrow_limit is bad debt); `socialized` and `hierarchy` socialize it first by their loss
  // rule (FundAbsorber::floor). Returns the bad debt recognized.
  virtual Micros apply_fund_floor(LiquidationContext& ctx);

 protected:
  LiquidationStepStats stats_;
  FundCredit credit_;
};

// The policy's outstanding fund loan from the protocol's balance sheet (the bad-debt account):
// policy.fund_borrowed(); kept under its first name for the kernel and the tests.
inline Micros socialized_fund_borrowed(const LiquidationPolicy& policy) { return policy.fund_borrowed(); }

// Policies a run may use (the scenario schema keeps the same list in scenarios/schema.cpp), and the
// run-time variants "delta_neutral:atomic", "delta_neutral:staged", "delta_neutral:backstop":
// delta_neutral with that mode whatever the scenario's perp.liquidation.delta_neutral.mode, so that
// one `--policy` list compares the modes on common random numbers (issue #13).
const std::vector<std::string>& implemented_policies();

// The liquidation configuration a run of policy `name` (one of implemented_policies()) uses: cfg with
// policy = name, or for a "delta_neutral:MODE" variant policy = "delta_neutral" and that mode.
LiquidationConfig resolve_policy(const LiquidationConfig& cfg, const std::string& name);

// perp.liquidation.fund_borrow_limit in micro-units of quote.
Micros fund_borrow_limit_micros(const LiquidationConfig& cfg);

// The factory (sets the fund's borrow limit from cfg); each policy lives in its own file (sim/liquidation/<name>.cpp).
std::unique_ptr<LiquidationPolicy> make_liquidation_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_market_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_batch_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_socialized_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_delta_neutral_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_hierarchy_policy(const LiquidationConfig& cfg);

}  // namespace sl
