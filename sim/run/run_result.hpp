// What one simulation run hands to the recorder/writer: time-series columns, the liquidation event
// table and the per-run summary metrics. Plain data, no HDF5 types, so the engine does not depend
// on the file format.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sl {

// One time-series column: name, unit (stored as an HDF5 attribute) and one value per recorded step.
struct SeriesColumn {
  std::string name;
  std::string unit;
  std::vector<double> values;
};

// One liquidation, as model.md section 7 lists it. Money in quote units (converted from the ledger's
// integer micro-units only at output time).
struct LiquidationEvent {
  std::int64_t step = 0;
  std::uint32_t account = 0;
  std::string agent_type;        // e.g. "basis_trader"
  std::string policy_path;       // e.g. "market", "dutch>insurance"
  double notional = 0.0;         // closed notional at the achieved price, quote units
  double price = 0.0;            // average achieved price
  double mark = 0.0;             // mark price of the step the liquidation executes
  double slippage_bps = 0.0;     // (mark - price)/mark * 1e4 for a sell, sign-adjusted for a buy
  double penalty = 0.0;          // penalty paid by the user, quote units
  std::int32_t liquidator = -1;  // agent id of the liquidator, -1 for none (e.g. protocol/market)
  std::int32_t steps_to_complete = 0;  // steps from the account's first flag to this execution
  double bad_debt = 0.0;         // quote units
  bool endogenous = false;       // when first flagged, the account was healthy at the exogenous reference prices
};

// An auto-deleveraging fill is recorded as an event of the deleveraged winner, its policy_path the
// fund stage's ADL path with this suffix (e.g. "market>adl>deleveraged"): the winner was not
// liquidated, so the liquidation metrics (counts, liquidated notional, amplification, slippage
// statistics, the loop measures) leave these events out; what the fill cost the winner against the
// mark stays in slippage_cost (a user cost of the socialization) and adl_taken.
inline constexpr std::string_view kDeleveragedSuffix = ">deleveraged";
inline bool is_adl_fill(const LiquidationEvent& e) {
  return e.policy_path.size() >= kDeleveragedSuffix.size() &&
         std::string_view(e.policy_path).substr(e.policy_path.size() - kDeleveragedSuffix.size()) == kDeleveragedSuffix;
}
// A liquidation proper: not proactive de-risking of a healthy account, not an ADL fill.
inline bool counts_as_liquidation(const LiquidationEvent& e) { return e.policy_path != "proactive" && !is_adl_fill(e); }

// Summary metrics are (name, value) pairs in a fixed order; every run of one file has the same names.
struct RunResult {
  std::string run_id;            // e.g. "000000"
  std::string policy = "none";
  std::uint64_t seed = 0;
  std::int64_t run_index = 0;
  std::vector<std::pair<std::string, std::string>> params;   // swept parameter values, as text
  std::vector<SeriesColumn> series;
  std::vector<LiquidationEvent> liquidations;
  std::vector<std::pair<std::string, double>> summary;
};

}  // namespace sl
