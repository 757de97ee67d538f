// Auto-deleveraging (ADL) queue of the `socialized` liquidation policy (model.md section 5): when the
// insurance fund cannot take a bankrupt position over, profitable positions on the opposite side are
// closed against it at the bankruptcy price, best-ranked first (CEX style).
//
// Ranking score = pnl_pct x effective_leverage, descending: Binance's ADL queue (model.md section 9:
// "only profitable positions; ranking = PnL% x effective leverage, PnL% against the position's
// entry value, effective leverage = |notional at mark| / (account equity backing it). Deposits are
// not profit."). For the candidate's position c (contracts, signed) in the asset deleveraged:
//     pnl_pct            = c x (mark - entry) / (|c| x entry)   (unrealized PnL / entry value)
//     effective_leverage = |c| x mark / equity                  (equity of the account, at mark)
// with entry the position's entry price (MarginEngine::entry_price). Cash added to an account
// changes its equity (its leverage), never its PnL%. Every margined account is a candidate: leveraged
// traders, makers, arbitrageurs, noise traders, bots, the backstop and the counterparties.
// Only profitable candidates (pnl_pct > 0) are ranked: the others are dropped.
// Ties (equal score) go to the lower account id, so the order is total and deterministic.
// Pure functions: no ledger, no market; the policy computes the inputs.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/book/ledger.hpp"

namespace sl {

struct AdlCandidate {
  AccountId account = 0;
  double pnl_pct = 0.0;             // c x (mark - entry) / (|c| x entry)
  double effective_leverage = 0.0;  // |c| x mark / equity
  double position = 0.0;            // contracts in the asset being deleveraged (asset units, signed)
  double score() const { return pnl_pct * effective_leverage; }
};

// pnl_pct of a position (contracts c, asset units, signed) entered at `entry` and marked at `mark`;
// effective leverage of a position of this notional at mark backed by `equity`. 0 when undefined
// (flat, no entry price, non-positive equity), which makes the candidate unranked or last.
inline double adl_pnl_pct(double contracts, double entry, double mark) {
  if (contracts == 0 || !(entry > 0)) return 0.0;
  return (contracts > 0 ? 1.0 : -1.0) * (mark - entry) / entry;
}
inline double adl_effective_leverage(double notional_at_mark, double equity) {
  return equity > 0 ? notional_at_mark / equity : 0.0;
}

// Returns the profitable candidates (pnl_pct > 0) ordered by score descending, ties by lower account id.
inline std::vector<AdlCandidate> rank_adl_candidates(std::vector<AdlCandidate> in) {
  std::vector<AdlCandidate> out;
  out.reserve(in.size());
  for (const AdlCandidate& c : in)
    if (c.pnl_pct > 0) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const AdlCandidate& a, const AdlCandidate& b) {
    const double sa = a.score(), sb = b.score();
    if (sa != sb) return sa > sb;
    return a.account < b.account;
  });
  return out;
}

}  // namespace sl
