// Auto-deleveraging (ADL) queue of the `socialized` liquidation policy (model.md section 5): when the
// insurance fund cannot take a bankrupt position over, profitable positions on the opposite side are
// closed against it at the bankruptcy price, best-ranked first (CEX style).
//
// Ranking score = pnl_pct x effective_leverage, descending, where (quote units, at mark)
//     pnl_pct            = (equity - opening_equity) / opening_equity
//     effective_leverage = gross_notional / equity
// (opening_equity is MarginAccount::opening_equity, the equity at the account's first mark with an
// open position). Only profitable candidates (pnl_pct > 0) are ranked: the others are dropped.
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
  double pnl_pct = 0.0;             // (equity - opening_equity) / opening_equity
  double effective_leverage = 0.0;  // gross_notional / equity
  double position = 0.0;            // contracts in the asset being deleveraged (asset units, signed)
  double score() const { return pnl_pct * effective_leverage; }
};

// pnl_pct and effective leverage from an account's valuation; 0 when undefined (no opening equity,
// non-positive equity), which makes the candidate unranked or last.
inline double adl_pnl_pct(double equity, double opening_equity) {
  return opening_equity > 0 ? (equity - opening_equity) / opening_equity : 0.0;
}
inline double adl_effective_leverage(double gross_notional, double equity) {
  return equity > 0 ? gross_notional / equity : 0.0;
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
