// Books the user's own positions (scenario accounts.file, scenarios/position_file.hpp) as margined
// accounts: one ledger account per row, named "position:LINE", registered with the margin engine as
// owned by no agent (AgentKind::Position). Money comes from where an `initial` leveraged trader's
// does (agents/leveraged_trader.cpp): the collateral is minted from the issuers, the contracts are
// booked at the entry price against the passive counterparty account (outside the model); every
// transfer is double-entry, so conservation stays exact.
#pragma once
#include <cstddef>

#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/perp/margin_engine.hpp"

namespace sl {

// Returns the number of accounts opened. Reads the file first if sc.accounts.book is not loaded
// yet (a configuration not made by load_scenario_file); throws ScenarioError on bad input.
std::size_t book_own_positions(const ScenarioConfig& sc, Market& m, MarginEngine& margin);

}  // namespace sl
