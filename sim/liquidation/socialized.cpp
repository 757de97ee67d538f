// `socialized` policy (model.md section 5): the insurance fund takes a flagged account over at the
// bankruptcy price (V2 absorption); when the fund's EQUITY cannot carry the account's loss, the part
// it cannot carry is socialized by auto-deleveraging (loss_rule "adl") or by a pro-rata haircut of
// winners' profits ("haircut"), and what still remains is bad debt.
//
// Absorption. For every flagged account (not closed, not in liquidation), at this step's marks:
//   E = equity at mark, G = gross notional at mark = sum_i |c_i| x mark_i.
//   Each position i (c_i contracts, signed) is transferred at
//       p_i = mark_i - E x w_i / c_i,   w_i = |c_i| x mark_i / G,
//   i.e. the account's equity is allocated to its positions by notional; with a single position
//   (the usual isolated case) w = 1 and p = mark - E / c = MarginEngine::bankruptcy_price.
//   Spot collateral goes to the fund at its collateral value (index x (1 - haircut), the value the
//   margin engine counts) -- it is not sold first.
//   Contracts and spot move account -> insurance fund; the cash legs (sum_i c_i p_i + spot value)
//   are netted into ONE final quote transfer that sets the account's quote balance to exactly 0,
//   so integer rounding is absorbed by it and the account ends with nothing (equity exactly 0).
//   With the venue's accounting that net cash leg is simply -K, K = the account's quote balance:
//   the fund pays -K when K < 0 (a long: it pays ~ the position's notional) and receives K when K > 0
//   (a short: its entry proceeds plus margin). The fund's gain at mark is E (the margin that was
//   left, its income; negative for an account already under water). The account is closed.
//   No liquidator (-1) and no penalty: the fund keeps whatever equity was left.
// Fund equity. FE = the fund's quote + its spot at index + its contracts at mark (AssetMarket
//   index_price / mark_price, the reference price when 0) - the loan it owes (below). The loss of an
//   absorption is L = max(0, -E) (rounded to micro-units). With FE0 = FE before the absorption,
//   the fund carries C = min(L, max(0, FE0 + B)), B = fund_borrow_limit (its equity may go down to
//   -B, default 0; FE0 >= -B always: the equity floor below is applied first); the shortfall
//   S = L - C is socialized (and the fund counts as exhausted this step):
//   - "adl": per position i, T_i = |c_i| x S / L contracts (rounded UP to whole lots, at most |c_i|;
//     with one position the ADL'd side then carries exactly S, up to one lot) are deleveraged:
//     opposite-side margined accounts (not closed, opposite-sign contracts in that asset) are ranked
//     by pnl_pct x effective leverage (sim/liquidation/adl_ranking.hpp, profitable ones only) and closed against
//     the bankrupt position at p_i, in rank order, until T_i is matched: min(T_i left, their
//     position) contracts move from the bankrupt account to them (bankrupt long -> ADL'd short buys
//     back; bankrupt short -> ADL'd long sells) and cash at p_i the other way. Each contract closed
//     at p_i carries its share of the loss (p_i - mark_i per contract). One ADL event each
//     (policy_path "socialized>adl", liquidator -1, penalty 0; account/agent_type/slippage are the
//     ADL'd account's), stats_.adl_count += 1 each. A position whose p_i <= 0 is not deleveraged.
//     Whatever is not matched (no candidates left) goes to the fund with the rest; such an
//     absorption counts in stats_.adl_queue_empty (summary adl_queue_empty_events).
//   - "haircut": S is collected into the fund from profitable margined accounts (profit = unrealized
//     PnL against the entry prices, sum_i c_i x (mark_i - entry_i) > 0, rounded to micro-units, so
//     deposits are not profit; the bankrupt account excluded) pro rata to
//     profit, each at most its profit, exact integer allocation (floor, then +1 micro to the largest
//     remainders, ties to the lower account id); an account whose quote may not go negative pays at
//     most its balance. policy_path "socialized>haircut". The fund then takes everything.
//   Bad debt. Once the fund holds what is left, FE1 = its equity after the cash leg. The bad-debt
//   account pays the fund max(0, -B - FE1): what brings the fund back to its floor -B. This is the
//   unsocialized, uncovered loss: stats_.bad_debt, the event's bad_debt, ">bad_debt" suffix.
//   Spot collateral taken at index x (1 - haircut) while worth index: the haircut is the user's loss,
//   stats_.collateral_haircut (summary collateral_haircut_cost, part of user_cost).
// Financing (a loan, NOT bad debt). The fund is a plain account: its quote may not go negative, but
//   absorbing a long costs it ~ the position's notional in cash, far more than its loss. If its quote
//   does not cover the cash leg, the missing cash is LENT by the bad-debt account (the protocol's own
//   balance sheet) when FE1 + B >= 0, i.e. when the fund's equity still backs the loan; the fund's
//   FundCredit::borrowed records it and FE counts it as a liability. Equity below the floor -B is first recognized as bad
//   debt (at most the cash lacking), then the rest is lent. The loan is repaid first, fund ->
//   bad-debt account, whenever the fund has quote: after its unwinding sells, after each absorption
//   (absorbed shorts bring cash in), and by the kernel after every step. So the bad-debt account's
//   balance = -(cumulative bad debt) - borrowed: at the end of a run an unrepaid loan is the
//   protocol's outstanding exposure to the fund's unsold inventory, reported separately
//   (fund_borrowed_at_end); stats_.bad_debt counts only real losses.
// Equity floor (FundAbsorber::floor, every step after unwinding, before each absorption, and by the
//   kernel after every policy's step through apply_fund_floor): when what the fund holds is marked
//   down (or sold below the mark) so that FE < -B, the shortfall S = -B - FE is the fund's loss
//   beyond what it can carry, socialized like an absorption's shortfall (the fund exhausted):
//   - "adl": the fund's own perp inventory is deleveraged. S is allocated over its perp positions
//     by notional at mark (S_i = S x |c_i| mark_i / sum_j |c_j| mark_j, floor to the micro-unit,
//     the last asset the remainder); position c_i (whole lots of it) is closed against the same
//     ADL queue at the fund's bankruptcy price p_i = mark_i + S_i / c_i, at which closing all of it
//     brings the fund's equity back to exactly -B (the fill that closes the last asset settles the
//     rounding exactly). The winners' events are "socialized>fund_adl>deleveraged" (adl_count, not
//     liquidations). A fund short buying back finances the cash it lacks with a loan (its equity
//     after is >= -B).
//   - "haircut": S is collected from winners' profits exactly as an absorption's shortfall.
//   What neither reaches (spot inventory, a queue without enough profitable opposite positions, lot
//   dust, p_i <= 0) is bad debt: the bad-debt account pays the fund back to exactly -B (summary
//   bad_debt_fund_floor); what was socialized is summary fund_floor_socialized. The fund's equity is
//   never below -B at the end of a liquidation stage (checked every step in the test build:
//   sim/run/invariants.hpp).
// Unwinding. At the start of every step (before new absorptions) the fund sends market orders for
//   what it holds (perp contracts and spot), at most the visible quantity of the best two opposite
//   levels per venue (like LiquidatorBot::act). To buy back a short it must pay: if its quote does not
//   cover the cost of that slice (notional + taker fee + 0.001 quote slack per level), the difference
//   is financed as above (its equity after the buy estimated as FE - (cost - the slice's value at
//   mark)); then the loan is repaid from what the fund holds in quote.
// Events. One per absorbed account: notional = sum_i |c_i| x p_i; price, mark and slippage are those
//   of its largest position at mark (the only one for isolated accounts); penalty 0; liquidator -1;
//   steps_to_complete = steps since first flag; endogenous = acc.endogenous_at_flag; bad_debt = B
//   (plus any deficit recognized to finance it) and a ">bad_debt" suffix when > 0. An account flagged
//   without any position (negative equity from spot/quote only) is settled with settle_deficit
//   (collateral sold, then the fund pays from its cash and a loan while its equity stays >= -B, the
//   rest is bad debt), closed, without an event.
//
// The mechanism is the FundAbsorber stage (sim/liquidation/fund.*), shared with the `hierarchy`
// policy's insurance-fund and ADL stages; this policy is that stage applied to every flagged account.
#include "sim/liquidation/common.hpp"
#include "sim/liquidation/fund.hpp"

namespace sl {

namespace {

class SocializedPolicy final : public LiquidationPolicy {
 public:
  explicit SocializedPolicy(const LiquidationConfig& cfg) : fund_(cfg.socialized.loss_rule, FundPaths{}, credit_) {
    credit_.limit = fund_borrow_limit_micros(cfg);
    fund_.set_socialize_floor(true);  // the fund's floor loss is socialized too (header: Equity floor)
  }
  const char* name() const override { return "socialized"; }
  Micros apply_fund_floor(LiquidationContext& ctx) override { return fund_.floor(ctx, stats_); }

  void on_step(LiquidationContext& ctx) override {
    fund_.unwind(ctx, stats_);
    for_each_new_flagged(ctx, [&](std::uint32_t, MarginAccount& acc) {
      fund_.absorb(ctx, acc, stats_);
      fund_.repay(ctx);
    });
  }

 private:
  FundAbsorber fund_;
};

}  // namespace

std::unique_ptr<LiquidationPolicy> make_socialized_policy(const LiquidationConfig& cfg) { return std::make_unique<SocializedPolicy>(cfg); }

}  // namespace sl
