// Invariants the kernel checks after the liquidation stage of every step when asked to
// (RunOptions::check_invariants). On by default in the test and sanitizer builds:
//  - the doctest executables switch the default on at start-up (tests/doctest_main.cpp), so every
//    run a unit test makes is checked every step;
//  - the CLI binary checks when built with -DSTRESSLAB_CHECK_INVARIANTS=ON, which
//    -DSTRESSLAB_SANITIZE=ON implies (scripts/test's sanitizer suite).
// Off in a plain release build: the checks scan every account every step.
//
// The checks (each throws InvariantError naming the step, the account and the amounts):
//  1. ledger conservation: every asset sums to exactly 0 over all accounts;
//  2. the insurance fund's equity (insurance_fund_equity: quote + spot at index + contracts at mark
//     - borrowed) >= -fund_borrow_limit;
//  3. no user charged beyond the bankruptcy price: a closed margin account (liquidated to the end)
//     holds no negative quote -- its deficit beyond zero equity was the fund's (or bad debt), never
//     left on the user;
//  4. no negative balance of quote or spot in a plain account (any account but the margin accounts,
//     the assets' issuers, the bad-debt account and the counterparty, which may go negative by
//     design); perpetual contracts may be short anywhere.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/liquidation/policy.hpp"
#include "sim/run/invariant_checks_default.hpp"

namespace sl {

struct InvariantError : std::logic_error {
  using std::logic_error::logic_error;
};

void check_ledger_conservation(const Ledger& ledger, std::int64_t step);
// The same on per-asset totals (the ledger's, or a test's).
void check_asset_totals(const std::vector<std::string>& asset_names, const std::vector<__int128>& totals, std::int64_t step);
void check_fund_floor(const Market& market, const LiquidationAccounts& sys, const FundCredit& credit, std::int64_t step);
void check_closed_accounts_settled(const Market& market, const MarginEngine& margin, std::int64_t step);
// `counterparty`: the market's counterparty account (Market::counterparty_account).
void check_plain_accounts_nonnegative(const Market& market, const MarginEngine& margin, const LiquidationAccounts& sys,
                                      AccountId counterparty, std::int64_t step);

// All four.
void check_step_invariants(const Market& market, const MarginEngine& margin, const LiquidationAccounts& sys,
                           const FundCredit& credit, std::int64_t step);

}  // namespace sl
