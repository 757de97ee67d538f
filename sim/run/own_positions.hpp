// Books the user's own positions (scenario accounts.file, scenarios/position_file.hpp) as margined
// accounts: one ledger account per row, named "position:LINE", registered with the margin engine as
// owned by no agent (AgentKind::Position). Money comes from where an `initial` leveraged trader's
// does (agents/leveraged_trader.cpp): the collateral is minted from the issuers, the contracts are
// booked at the entry price against the passive counterparty account (outside the model); every
// transfer is double-entry, so conservation stays exact.
#pragma once
#include <cstddef>
#include <cstdint>

#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/perp/margin_engine.hpp"

namespace sl {

// Returns the number of accounts opened. Reads the file first if sc.accounts.book is not loaded
// yet (a configuration not made by load_scenario_file); throws ScenarioError on bad input.
std::size_t book_own_positions(const ScenarioConfig& sc, Market& m, MarginEngine& margin);

// Books agents.passive_positions (agents/passive_positions.hpp) the same way, one account per
// position, named "passive_position:K" (K = 1, 2, ...), owner kind Position, drawn from the run
// seed's kStreamPassivePositions stream. Returns the number opened.
// Their ledger rows are the ledger's deferred range (Ledger: deferred rows): written when each
// position is first read or moved, drawn again then (tests: the same runs as the same positions
// loaded from a CSV, whose rows are written at set-up).
std::size_t book_passive_positions(const ScenarioConfig& sc, std::uint64_t run_seed, Market& m, MarginEngine& margin);

}  // namespace sl
