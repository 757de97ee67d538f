// Historical price replay: loads a recorded price path from a CSV file and resamples it to the
// simulation's step grid (AssetConfig::replay, see scenarios/scenario_config.hpp ReplayConfig).
//
// FILE FORMATS (format = "auto" detects them; "plain" / "kline" force one)
//   plain:  timestamp,price                       (exactly 2 columns)
//   kline:  open_time_ms,open,high,low,close[,volume,close_time_ms,...]   (>= 5 columns; the
//           standard exchange kline export; columns after the 5th are ignored, not parsed)
//   - Separator ','; surrounding spaces and a trailing '\r' are ignored; blank lines are skipped
//     (they still count for line numbers). Every data row must have the same number of columns.
//   - Header: the first non-blank line is a header when any of its fields is not a number; it
//     must have the same number of columns as the data. Any later non-numeric field is an error.
//   - Detection: 2 columns = plain, >= 5 = kline, anything else is an error.
// TIMESTAMPS
//   - kline: open_time in milliseconds since the epoch (UTC).
//   - plain: seconds or milliseconds, decided once from the first row's magnitude:
//     |t| >= 1e11 -> milliseconds (1e11 ms = 1973-03-03), otherwise seconds (1e11 s = year 5138).
//     Fractional values are allowed.
//   - time_shift_s is added to every timestamp before the window is taken (start_time_ms is
//     compared with the shifted times).
// VALIDATION (each error is a DataError "FILE:LINE: message", FILE = the path as opened)
//   - unparsable number in a used column, wrong column count, non-positive or non-finite price,
//     kline low > min(open, close), high < max(open, close) (hence also low > high);
//   - duplicate timestamp, timestamp before the previous row's (rows must be sorted ascending);
//   - interval: kline bar interval I = the most common difference of consecutive open times
//     (ties: the smallest); plain spacing S = the median difference. A difference larger than
//     1.5 x I (kline) or 1.5 x S (plain) is a gap: an error, unless on_gap = "interpolate", which
//     bridges it with a straight line (no noise) from the last price before the gap (the bar's
//     close at open+I) to the first after it. A kline difference smaller than I is an error
//     (overlapping bars).
//   - Errors without a line ("FILE: message"): fewer than 2 data rows (or an empty file), the
//     window outside the data, the file not found (the message lists every path tried).
// THE PATH (a piecewise-linear function of time through waypoints, plus bounded bar noise)
//   - plain: the observations themselves; linear interpolation between consecutive ones.
//   - kline, intrabar = "close": the first bar's open at its open time, then each bar's close at
//     the bar's END (open_time + I), linear in between.
//   - kline, intrabar = "ohlc": each bar [T, T+I) has the waypoints open at T, first extreme at
//     T+I/3, second extreme at T+2I/3, close at T+I; the first extreme is the low when
//     close >= open (an up bar goes down first, then up) and the high otherwise (down bar: up
//     first). Between waypoints: the straight line plus a seeded Brownian bridge (zero at both
//     waypoints) scaled by intrabar_noise x (high - low), squashed smoothly into the room left to
//     the bar's range (lin + room * tanh(noise / room), then clamped): the path never leaves
//     [low, high], equals open at T, each extreme exactly at its waypoint and nowhere else
//     (unless open or close equals that extreme), and tends to the close at T+I.
//     At a boundary shared with the next bar (its open time == T+I) the value is the NEXT bar's
//     open (bars are half-open, so every bar's path stays within its own range); the close is
//     the value at T+I only for the last bar, or before a gap.
//   - No look-ahead: every observed price is reached at its own time, never earlier (a bar's
//     close at the bar's end, not at its open time; its extremes inside the bar).
// WINDOW AND RESAMPLING
//   - t0 = start_time_ms if >= 0 (must lie within the data), else the first waypoint's time.
//     Step k samples the path at t0 + k * dt_s (k = 0..horizon_steps); if the last waypoint is
//     earlier than t0 + horizon_steps * dt_s the error says how many steps the file covers.
// RESCALING
//   - rescale_to_initial: multiply so the first price equals initial_price; rescale multiplies
//     further. Without rescale_to_initial the first price (x rescale) must be within 10% of
//     initial_price (else DataError: the market would start far from the replayed price).
// NOISE: one Boost.Random mt19937_64 seeded with `seed`, drawn in step order (one normal per
// step sampled strictly inside an ohlc bar segment with a non-zero range): deterministic.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenarios/scenario_config.hpp"

namespace sl {

// Bad replay data file: the CLI exits with status 2.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Loads and validates the CSV, selects the window, resamples to dt_s for horizon_steps steps and
// returns horizon_steps + 1 prices (index 0 = price at the start, index k = after step k).
// `base_dir` resolves a relative cfg.file (the scenario file's folder; "" = none), falling back to
// the working directory.
std::vector<double> load_replay_path(const ReplayConfig& cfg, double dt_s, std::int64_t horizon_steps, double initial_price,
                                     std::uint64_t seed, const std::string& base_dir);

}  // namespace sl
