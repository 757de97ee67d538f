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

// System accounts the policies move money through (all opened by the kernel).
struct LiquidationAccounts {
  AccountId insurance_fund = 0;  // starts with insurance_fund_start; pays deficits
  AccountId bad_debt = 0;        // may go negative: its negative balance is the cumulative bad debt
  AccountId network_fees = 0;    // liquidators' transaction costs (gas) end here
  AccountId protocol = 0;        // the venue's own liquidation engine (fallback liquidator)
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
};

struct LiquidationStepStats {
  std::int64_t count = 0;
  double notional = 0.0;
  double bad_debt = 0.0;
  std::int64_t adl_count = 0;
};

class LiquidationPolicy {
 public:
  virtual ~LiquidationPolicy() = default;
  virtual const char* name() const = 0;
  virtual void on_step(LiquidationContext& ctx) = 0;
  const LiquidationStepStats& step_stats() const { return stats_; }
  // What the policy's insurance fund owes the bad-debt account (micro-units of quote): the loan that
  // finances positions the fund took over (socialized, hierarchy); 0 for policies whose fund never borrows.
  virtual Micros fund_borrowed() const { return 0; }
  void reset_step_stats() { stats_ = {}; }

 protected:
  LiquidationStepStats stats_;
};

// The policy's outstanding fund loan from the protocol's balance sheet (the bad-debt account):
// policy.fund_borrowed(); kept under its first name for the kernel and the tests.
inline Micros socialized_fund_borrowed(const LiquidationPolicy& policy) { return policy.fund_borrowed(); }

// Policies a run may use (the scenario schema keeps the same list in scenarios/schema.cpp).
const std::vector<std::string>& implemented_policies();

// The factory; each policy lives in its own file (sim/liquidation/<name>.cpp).
std::unique_ptr<LiquidationPolicy> make_liquidation_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_market_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_batch_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_socialized_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_delta_neutral_policy(const LiquidationConfig& cfg);
std::unique_ptr<LiquidationPolicy> make_hierarchy_policy(const LiquidationConfig& cfg);

}  // namespace sl
