// The insurance fund as a liquidation stage: absorption of a flagged account at the bankruptcy price,
// socialization of the part of its loss the fund's equity cannot carry (auto-deleveraging or a
// pro-rata haircut), the fund's loans from the bad-debt account, and the unwinding of what the fund
// holds. Used by the `socialized` policy (which is exactly this stage; sim/liquidation/socialized.cpp
// documents the rules in full) and by the last two stages of the `hierarchy` policy.
#pragma once
#include <string>
#include <vector>

#include "sim/liquidation/adl_ranking.hpp"
#include "sim/liquidation/common.hpp"

namespace sl {

// The insurance fund's equity: its quote balance less what it borrowed from the protocol, plus the
// spot it holds at the index and the perp it holds at the mark (reference before either exists).
// The fund stages judge exhaustion on it, and the kernel records it as the `insurance_fund` series.
Micros insurance_fund_equity(const Market& market, AccountId fund, Micros borrowed);

// Repays the fund's loan from its quote, as far as it goes (equity unchanged).
void repay_fund_loan(LiquidationContext& ctx, FundCredit& credit);

// The equity floor: when the fund's equity is below -credit.limit (its inventory marked down, or
// funding paid on it), the bad-debt account pays it back up to exactly -limit: a loss the fund could
// not carry, i.e. bad debt (the fund is then exhausted). Returns the bad debt recognized (micros).
Micros floor_fund_equity(LiquidationContext& ctx, FundCredit& credit);

struct FundPaths {
  std::string absorbed = "socialized";         // the absorbed account's event
  std::string adl = "socialized>adl";          // absorbed with an ADL of the shortfall, and every ADL event
  std::string haircut = "socialized>haircut";  // absorbed with a haircut of the winners
  // The winners' events of an ADL of the fund's own inventory at its equity floor (floor()), with
  // the ">deleveraged" suffix like every ADL'd account's event.
  std::string fund_adl = "socialized>fund_adl";
};

class FundAbsorber {
 public:
  // loss_rule: "adl" or "haircut" (std::invalid_argument otherwise). `credit`: the owning policy's
  // fund credit (LiquidationPolicy::fund_credit()), which must outlive the absorber.
  FundAbsorber(const std::string& loss_rule, FundPaths paths, FundCredit& credit);

  // The fund sells / buys back what it holds: at most the best two opposite levels per venue.
  // `paired` (the delta_neutral policy): an asset held as a hedged pair (spot and contracts of
  // opposite signs) is unwound by the pair rule of agents/inventory_unwind.hpp, its net delta never
  // growing; otherwise each venue on its own.
  void unwind(LiquidationContext& ctx, LiquidationStepStats& stats, bool paired = false);

  struct Result {
    bool had_positions = false;  // false: a flat account's deficit was settled (no event)
    Micros insurance_paid = 0;   // flat account: what the fund (cash or loan) paid
    Micros bad_debt = 0;         // bad debt recognized for this account
    Micros haircut_paid = 0;     // flat account, loss_rule "haircut": what winners' profits paid of its deficit
  };
  // Takes the account over at the bankruptcy price (socializing the shortfall), or settles the
  // deficit of an account without positions; the account is closed.
  Result absorb(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats);

  // The no-position path of absorb() for an account that may still hold contract dust below one
  // lot (which stays in the closed account, as under `dutch`): collateral conversion, the fund's
  // cash, then a loan from the bad-debt account while the fund's equity stays >= -fund_borrow_limit;
  // beyond: under loss_rule "haircut" a pro-rata haircut of winners' profits, under "adl" bad debt
  // (no position to deleverage against), counted in stats.flat_deficit_bad_debt_events (fund.cpp).
  Result settle_deficit_only(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats);

  // Repays the loan from the fund's quote, as far as it goes.
  void repay(LiquidationContext& ctx);

  // Policies whose design socializes losses beyond the fund (`socialized`, `hierarchy`) call this
  // with true: the equity floor (floor()) then socializes the fund's shortfall below -limit by the
  // loss rule before booking what is left as bad debt. Default false: floor() is floor_fund_equity.
  void set_socialize_floor(bool on) { socialize_floor_ = on; }

  // The fund's equity floor (run by unwind(), absorb() and, through the policy, by the kernel after
  // every step). With set_socialize_floor(true) and the fund's equity FE below -limit, the shortfall
  // S = -limit - FE is socialized first: loss_rule "adl": the fund's perp inventory is closed against
  // the ADL queue at the fund's bankruptcy price per asset (S allocated over its perp positions by
  // notional at mark, p_i = mark_i + S_i / c_i); "haircut": S is collected pro rata from winners'
  // profits (haircut()). What neither reaches is bad debt (floor_fund_equity). Returns that bad debt.
  Micros floor(LiquidationContext& ctx, LiquidationStepStats& stats);

  // What the fund owes the bad-debt account now (micro-units of quote).
  Micros borrowed() const { return credit_.borrowed; }

 private:
  struct Leg {
    std::size_t asset = 0;
    Micros contracts = 0;  // signed, at absorption
    double price = 0.0;    // transfer (bankruptcy) price
    double mark = 0.0;
  };
  Micros fund_equity(const LiquidationContext& ctx) const;
  Result settle(LiquidationContext& ctx, MarginAccount& acc, LiquidationStepStats& stats);
  void recognize_bad_debt(LiquidationContext& ctx, Micros amount, LiquidationStepStats& stats);
  Micros finance(LiquidationContext& ctx, Micros lacking, Micros equity_after, LiquidationStepStats& stats);
  // How the fill that closes the bankrupt side's whole position in the last leg settles its cash
  // exactly (absorbing rounding): an absorbed account's quote to 0, or the fund's equity to -limit.
  enum class CloseOut { None, AccountQuote, FundFloor };
  struct Bankrupt {
    AccountId account = 0;
    bool endogenous = false;     // copied to the ADL events
    const std::string* path = nullptr;  // the ADL events' policy path (before ">deleveraged")
  };
  int deleverage(LiquidationContext& ctx, const Bankrupt& b, const Leg& leg, Micros target, CloseOut close_out,
                 LiquidationStepStats& stats, Micros* matched_out, double* taken_out);
  // Collects up to `lacking` from winners' profits into the fund; adds what it collected to
  // stats.haircut_taken (a cost to those users, part of user_cost).
  Micros haircut(LiquidationContext& ctx, AccountId excluded, Micros lacking, LiquidationStepStats& stats);
  // The "adl" part of floor(): deleverages the fund's perp inventory to recover `shortfall`.
  void deleverage_fund(LiquidationContext& ctx, Micros shortfall, LiquidationStepStats& stats);

  bool adl_ = true;
  bool socialize_floor_ = false;
  FundPaths paths_;
  // The fund's loan from the bad-debt account and its limit (owned by the policy).
  FundCredit& credit_;
};

}  // namespace sl
