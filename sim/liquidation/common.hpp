// Building blocks every liquidation policy uses: choosing the liquidator, closing a position
// through the book, charging the penalty, converting collateral, and absorbing a deficit with the
// insurance fund and then bad debt. All money moves are ledger transfers.
#pragma once
#include <cstdint>
#include <string>

#include "sim/liquidation/policy.hpp"

namespace sl {

struct Liquidator {
  std::int32_t agent_id = -1;     // -1: the venue's own engine (protocol fallback)
  AccountId account = 0;
  bool found = false;
};

// Offers the account to the bots in a seeded random order; the first that sees it (latency) and
// finds it worth its transaction cost wins and pays that cost. If none does and the protocol
// fallback delay has passed, the protocol liquidates. found == false: nobody acts this step.
// With agents.liquidator_classes (ctx.fee_auction set) the bots compete in the priority-fee auction
// instead (sim/liquidation/priority_fee_auction.hpp).
Liquidator choose_liquidator(LiquidationContext& ctx, const MarginAccount& acc, double expected_reward, int protocol_fallback_steps);

// The reward a bot expects for liquidating `acc` under a penalty (market, delta_neutral):
// liquidator_share x (gross notional x close_factor x penalty_bps / 1e4). With liquidator classes
// (ctx.fee_auction) the penalty part is capped at the account's equity at mark, as charge_penalty
// caps it, since a bot that bids its expected profit away must not count on more than the account
// can pay; the single form keeps the uncapped threshold it always had.
double expected_penalty_reward(const LiquidationContext& ctx, const MarginAccount& acc, const LiquidationConfig& cfg);

// The venue's own engine once the account has been flagged for protocol_fallback_steps (-1:
// never); it costs the insurance fund ctx.protocol_fallback_cost (at most the fund's cash), paid to
// network_fees. found == false before that.
Liquidator protocol_fallback(LiquidationContext& ctx, const MarginAccount& acc, int protocol_fallback_steps);

struct CloseResult {
  double qty = 0.0;               // asset units closed (absolute)
  double notional = 0.0;          // quote units
  double avg_price = 0.0;
  Micros notional_micros = 0;
};

// Sends a market order from the account closing `fraction` of its position in asset i (rounded to
// lots, at least one lot, at most the position). Returns what filled.
CloseResult close_via_book(LiquidationContext& ctx, MarginAccount& acc, std::size_t asset, double fraction);

// Charges penalty_bps on `notional_micros`, capped at the account's remaining equity at mark (never
// creates bad debt by itself); liquidator_share goes to the liquidator (to the insurance fund when
// the protocol liquidates), the rest to the insurance fund. Returns the penalty charged (micros).
Micros charge_penalty(LiquidationContext& ctx, MarginAccount& acc, Micros notional_micros, double penalty_bps,
                      double liquidator_share, const Liquidator& liq);

// With no positions left: sells spot collateral into the spot books while the quote balance is
// negative (collateral conversion), then, if the quote balance is still negative, the insurance
// fund covers what it can and the rest is bad debt. What the fund can cover: as long as its equity
// (insurance_fund_equity) stays >= -credit.limit; it pays from its quote first, then with a loan
// from the bad-debt account (credit.borrowed). Without a credit (nullptr) the fund pays from its
// quote only. When a deficit is left to bad debt the fund is marked exhausted.
// Returns (insurance paid, cash and loan; bad debt) in micros.
// Before the fund pays: spot the book could not absorb is taken over by the fund at index x (1 -
// haircut), as much as covers the deficit (the fund borrows what its cash lacks when it has a
// credit; it receives at least what it pays, at the index); the rest stays the account's.
struct DeficitResult {
  Micros insurance_paid = 0;
  Micros bad_debt = 0;
  double spot_taken_over = 0.0;     // quote units at the index: spot the fund took over
  double collateral_haircut = 0.0;  // quote units: the user's haircut loss on that spot
};
DeficitResult settle_deficit(LiquidationContext& ctx, MarginAccount& acc, FundCredit* credit);
// The fund pays up to `want` (micros of quote) to `to`: what it can without its equity falling
// below -credit->limit, from its cash first, then with a loan (its cash alone without a credit).
// Returns what it paid; the rest is the caller's (bad debt). Shared by a deficit and a Dutch
// keeper's incentive.
Micros fund_pay(LiquidationContext& ctx, FundCredit* credit, AccountId to, Micros want);
// The same with the run's fund credit, ctx.fund.
inline DeficitResult settle_deficit(LiquidationContext& ctx, MarginAccount& acc) { return settle_deficit(ctx, acc, ctx.fund); }

// Calls `start(id, acc)` for every flagged account, in the margin engine's order, that is neither
// closed nor already being liquidated: where every policy's step takes up new work.
template <class Start>
void for_each_new_flagged(LiquidationContext& ctx, Start&& start) {
  for (std::uint32_t id : ctx.margin.flagged()) {
    MarginAccount& acc = ctx.margin.account(id);
    if (acc.closed || acc.in_liquidation) continue;
    start(id, acc);
  }
}

// The close step of every policy once an account holds no contracts: settle_deficit() with
// `credit`, its bad debt added to `stats`, the account closed. Returns what the deficit took, for
// mark_deficit() on the event that closed the account.
DeficitResult close_flat_account(LiquidationContext& ctx, MarginAccount& acc, FundCredit* credit,
                                 LiquidationStepStats& stats);
// The event that closed an account, after its deficit: ">insurance" when the fund paid, ">bad_debt"
// when some was left (appended to its path), and that bad debt.
void mark_deficit(LiquidationEvent& last, const DeficitResult& d);

bool has_positions(const LiquidationContext& ctx, const MarginAccount& acc);

// The agent type of an account's owner, for the event table.
inline const char* owner_kind_name(const LiquidationContext& ctx, const MarginAccount& acc) {
  if (acc.owner_agent >= 0 && static_cast<std::size_t>(acc.owner_agent) < ctx.agent_kind_of.size())
    return agent_kind_name(static_cast<AgentKind>(ctx.agent_kind_of[static_cast<std::size_t>(acc.owner_agent)]));
  return agent_kind_name(acc.owner_kind);
}

// Slippage of an achieved price against the mark, positive = worse for the liquidated account.
inline double slippage_bps(bool sold, double price, double mark) {
  if (mark <= 0) return 0.0;
  return sold ? 1e4 * (mark - price) / mark : 1e4 * (price - mark) / mark;
}

}  // namespace sl
