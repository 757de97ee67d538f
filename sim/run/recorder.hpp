// Recorder: appends one row of time series per recorded step (every `record_every_steps`) and
// keeps running per-run statistics over every step, recorded or not. Column names are listed in
// analysis/README.md, "Results file"; columns of the second and later assets carry a ".SYMBOL" suffix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/run/loop_metrics.hpp"
#include "sim/run/run_result.hpp"

namespace sl {

// Protocol-level state of one step that the market itself does not hold (kernel-supplied).
struct ProtocolStepInfo {
  double insurance_fund = 0.0;      // quote units: the fund's equity (cash - borrowed + positions at index/mark)
  double insurance_fund_cash = 0.0; // quote units: its quote balance alone
  double bad_debt_cum = 0.0;        // quote units, recognised losses only
  double fund_borrowed = 0.0;       // quote units the insurance fund owes the protocol (socialized policy)
  std::int64_t liquidations = 0;    // events this step
  double liquidated_notional = 0.0; // quote units this step
  std::int64_t adl_count = 0;
  double adl_overshoot = 0.0;       // quote units this step: ADL taken from winners beyond the shortfall
  bool fund_exhausted = false;      // the fund could not carry a loss this step (FundCredit::exhausted_now)
};

class Recorder {
 public:
  Recorder(const ScenarioConfig& sc, const Market& m);
  void record_step(const Market& m, const ProtocolStepInfo& p);
  // Builds the series and the per-run summary metrics (including the liquidation metrics of
  // model.md section 7 computed from `events`).
  RunResult finish(const Market& m, std::vector<LiquidationEvent> events, const ProtocolStepInfo& end_state);
  LoopMetrics& loop() { return loop_; }  // the basis-loop metrics (sim/run/loop_metrics.hpp)

 private:
  struct AssetStats {
    double spread_sum_spot = 0, spread_sum_perp = 0;
    std::int64_t spread_n_spot = 0, spread_n_perp = 0;
    double max_abs_basis_bps = 0;
    double max_spot_discount_bps = 0, max_perp_discount_bps = 0;
    double sum_sq_log_ret = 0;  // of the spot mid, for realized volatility
    double last_spot_mid = 0;
    std::int64_t n_ret = 0;
    double max_abs_premium_bps = 0;   // perp mid vs index
    double max_premium_bps = 0, min_premium_bps = 0;
    double max_abs_funding = 0;       // settled rate, fraction per interval
    double max_abs_premium_index_bps = 0;  // |P_i| x 1e4 over the steps (0 when funding is off: no samples)
    double min_funding = 0, max_funding = 0;
    double min_funding_estimate = 0, max_funding_estimate = 0;
    double max_perp_drawdown_bps = 0; // perp mid below the reference
    Lots spot_volume_lots = 0, perp_volume_lots = 0;  // since the previous recorded row
  };
  double insurance_min_ = 1e300;
  double insurance_start_ = -1;
  double insurance_configured_start_ = 0;  // perp.liquidation.insurance_fund_start (before step 0)
  std::int64_t last_liq_step_ = -1, first_liq_step_ = -1;
  std::int64_t step_ = 0;
  std::size_t col(const std::string& name, const std::string& unit, std::size_t asset);
  void put(std::size_t c, double v) { cols_[c].values.push_back(v); }

  int every_;
  double dt_s_;
  std::size_t n_assets_;
  std::vector<SeriesColumn> cols_;
  std::vector<std::vector<std::size_t>> asset_cols_;  // per asset, column indices in push order
  std::size_t c_time_, c_messages_, c_insurance_, c_insurance_cash_, c_bad_debt_, c_borrowed_, c_liqs_, c_liq_notional_, c_adl_, c_exhausted_, c_adl_overshoot_;
  std::int64_t liqs_since_row_ = 0, adl_since_row_ = 0;
  bool exhausted_since_row_ = false;
  double liq_notional_since_row_ = 0, adl_overshoot_since_row_ = 0;
  std::vector<AssetStats> stats_;
  std::int64_t messages_since_row_ = 0;
  std::vector<std::string> symbols_;
  LoopMetrics loop_;
  std::vector<std::size_t> c_net_delta_;  // liquidation_net_delta per asset
};

}  // namespace sl
