// The counterparty population (issue #12 item 3; model.md section 9: "every perpetual position sits
// in a margined account"). Positions that predate the run (`initial` entry modes, accounts.file) are
// booked against the market's counterparty account (book_against_counterparty); once every
// population is built, the kernel hands the contracts of that account, with their cash leg, to
// `agents.counterparties.count` margined accounts "counterparty:K" that split them (whole lots as
// evenly as possible, the first accounts one lot more; the cash leg pro rata to each account's lots,
// largest remainder), so no position has an unlimited, unmargined other side. Each posts margin
// = its share's entry notional / `leverage` + `collateral_quote` (minted, like every agent's cash),
// gets its share's entry price (the net booked position's: cash leg / contracts), and is a cross
// margin account like any other: flagged, liquidated, deleveraged, charged funding. Spot sold to
// basis traders stays with the counterparty account (spot needs no margin). Conservation is exact:
// every move is a ledger transfer.
#pragma once
#include <cstddef>

#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/perp/margin_engine.hpp"

namespace sl {

// Opens and funds the population and moves the counterparty account's contracts and their cash leg
// to it; owner agent ids first_agent_id, first_agent_id + 1, ... (AgentKind::Counterparty).
// Returns the number of accounts opened (0 when nothing was booked against the counterparty).
std::size_t split_to_counterparties(const CounterpartiesConfig& cfg, Market& m, MarginEngine& margin, std::int32_t first_agent_id);

}  // namespace sl
