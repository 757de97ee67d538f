// The user's own open positions (issue #15 item 5): `accounts.file` in a scenario names a CSV that
// is loaded as margined accounts next to the agent populations, one account per row.
//
// FORMAT
//   - Separator ','; spaces around fields and a trailing '\r' are ignored; blank lines and lines
//     starting with '#' are skipped (they still count for line numbers).
//   - The first other line is the header: column names in any order, each at most once.
//     Required: side, size, entry_price, quote_collateral, margin_mode.
//     Optional: asset, leverage, tier, spot_<SYMBOL> (one per scenario asset symbol).
//     Any other name is an error.
//   - Every data row has as many fields as the header.
// FIELDS (an empty optional field is its default)
//   side              "long" | "short"
//   size              (0, 1e9] asset units, a whole number of the asset's lots (lot_size)
//   entry_price       (0, 1e12] quote per unit: contracts booked at this price
//   quote_collateral  [0, 1e15] quote units posted; may be empty only when leverage is given, and
//                     is then size x entry_price / leverage (an isolated position's margin)
//   spot_<SYMBOL>     [0, 1e12] units of that asset's spot as collateral (cross margin only),
//                     valued at index x (1 - collateral_haircut)
//   margin_mode       "cross" | "isolated" (an isolated row holds quote margin only)
//   asset             a scenario asset symbol; default: the first asset
//   leverage          [1, 10000 / imr_bps of the position's tier]: the venue's limit for that
//                     notional; used for quote_collateral when that is empty
//   tier              0-based margin tier; must be the tier of size x entry_price
//                     (perp.margin_tiers: the first with notional <= max_notional)
// VALIDATION: every problem is a line "FILE:LINE: FIELD: message" naming the allowed range and the
// value found (FILE: the path as opened); at most kMaxReportedErrors lines, then a count of the
// rest. Thrown as ScenarioError (exit 2) before anything is written. At most 10,000,000 rows.
//
// BOOKING (sim/run/simulation.cpp, book_positions): as a leveraged trader's `initial` position, a
// row's contracts are booked at entry_price against the passive counterparty account (outside the
// model, may go negative), and its collateral is minted from the issuers. Each transfer is
// double-entry, so the ledger's sums stay exactly zero.
#pragma once
#include <memory>
#include <string>

#include "scenarios/scenario_config.hpp"

namespace sl {

inline constexpr std::size_t kMaxPositionRows = 10'000'000;

// The path tried for `file`: as given if absolute; else relative to base_dir (the scenario file's
// folder) first, then to the working directory. Throws ScenarioError listing the paths tried.
std::string resolve_position_file(const std::string& file, const std::string& base_dir);

// Reads and validates the file against the scenario (assets, lot sizes, margin tiers).
std::shared_ptr<const PositionBook> load_position_file(const ScenarioConfig& c, const std::string& base_dir);

}  // namespace sl
