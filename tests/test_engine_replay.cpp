// Historical price replay (sim/market/replay_path.hpp): CSV parsing, validation errors with FILE:LINE,
// gap repair, resampling, the O-H-L-C intra-bar path on the real Black Thursday bars, and the
// black_thursday_2020 scenario end to end.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "scenarios/loader.hpp"
#include "sim/market/replay_path.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/real_funding.hpp"
#include "tests/support/run_lookup.hpp"
#include "tests/support/window_stats.hpp"

using namespace sl;
namespace fs = std::filesystem;

namespace {

const std::string kBtcFile = std::string(STRESSLAB_SOURCE_DIR) + "/data/btcusdt_perp_1h_2020-03-11_2020-03-16.csv";
const std::string kBlackThursday = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/black_thursday_2020.json";

const std::string& tmp_dir() {
  static const std::string d = [] {
    const fs::path p = fs::temp_directory_path() / ("stresslab_replay_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return d;
}

// Writes `text` to tmp_dir()/name and returns the full path.
std::string write_file(const std::string& name, const std::string& text) {
  const std::string p = tmp_dir() + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

ReplayConfig cfg_for(const std::string& path) {
  ReplayConfig c;
  c.file = path;
  return c;
}

std::vector<double> load(const ReplayConfig& c, double dt_s, std::int64_t steps, double initial = 100.0, std::uint64_t seed = 1) {
  return load_replay_path(c, dt_s, steps, initial, seed, tmp_dir());
}

// The DataError text of loading `text` (written to `name`) with `c` (file set here).
std::string error_of(const std::string& name, const std::string& text, ReplayConfig c = {}, double dt_s = 1.0,
                     std::int64_t steps = 1, double initial = 100.0) {
  c.file = write_file(name, text);
  try {
    load(c, dt_s, steps, initial);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

void check_values(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK_MESSAGE(got[i] == doctest::Approx(want[i]).epsilon(1e-12), "index " << i);
}

struct Bar {
  std::int64_t t;
  double o, h, l, c;
};

std::vector<Bar> read_btc_bars() {
  std::ifstream in(kBtcFile);
  std::string line;
  std::getline(in, line);  // header
  std::vector<Bar> bars;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    Bar b;
    char comma;
    ss >> b.t >> comma >> b.o >> comma >> b.h >> comma >> b.l >> comma >> b.c;
    bars.push_back(b);
  }
  return bars;
}

// Three 1-minute bars: up, up, down.
const std::string kKlineRows =
    "1600000000000,100,106,99,104,5.0,1600000059999\n"
    "1600000060000,104,108,103,107,6.0,1600000119999\n"
    "1600000120000,107,109,101,102,7.0,1600000179999\n";

}  // namespace

TEST_CASE("replay: plain files, with or without a header, seconds or milliseconds, resample linearly") {
  const std::vector<double> want{100, 102.5, 105, 107.5, 110, 108.75, 107.5, 106.25, 105};
  const auto a = load(cfg_for(write_file("plain_s.csv", "timestamp,price\n1000000000,100\n1000000060,110\n1000000120,105\n")), 15, 8);
  check_values(a, want);
  const auto b = load(cfg_for(write_file("plain_ms.csv", "1000000000000,100\r\n\n1000000060000, 110 \r\n1000000120000,105\r\n")), 15, 8);
  check_values(b, want);
  // Relative names resolve against base_dir.
  const auto c = load(cfg_for("plain_s.csv"), 15, 8);
  check_values(c, want);
  // Window selection by start_time_ms (milliseconds, also for files in seconds).
  ReplayConfig w = cfg_for("plain_s.csv");
  w.start_time_ms = 1000000030000;
  check_values(load(w, 15, 6, 105), {105, 107.5, 110, 108.75, 107.5, 106.25, 105});
  // time_shift_s moves the data; start_time_ms refers to the shifted times.
  w.time_shift_s = 30;
  w.start_time_ms = 1000000060000;
  check_values(load(w, 15, 6, 105), {105, 107.5, 110, 108.75, 107.5, 106.25, 105});
}

TEST_CASE("replay: kline files with or without a header - intrabar close and ohlc (no noise) waypoints") {
  ReplayConfig c = cfg_for(write_file("k_nohdr.csv", kKlineRows));
  c.intrabar = "close";
  // Closes at the bars' ends (open time + 60 s), starting from the first open: no look-ahead.
  const std::vector<double> close_want{100, 102, 104, 105.5, 107, 104.5, 102};
  check_values(load(c, 30, 6), close_want);
  ReplayConfig h = cfg_for(write_file("k_hdr.csv", "open_time,open,high,low,close,volume,close_time\n" + kKlineRows));
  h.intrabar = "close";
  check_values(load(h, 30, 6), close_want);

  // ohlc, noise 0, dt = a third of the bar: open, first extreme, second extreme; the next bar's
  // open at a shared boundary; the last close at the end. Up bars go low first, down bars high.
  h.intrabar = "ohlc";
  h.intrabar_noise = 0;
  check_values(load(h, 20, 9), {100, 99, 106, 104, 103, 108, 107, 109, 101, 102});
  // Between waypoints: linear (10 s steps).
  check_values(load(h, 10, 2), {100, 99.5, 99});
  // format "plain" on a kline file is a column-count error; "kline" on a plain file too.
  h.format = "plain";
  CHECK_THROWS_WITH_AS(load(h, 20, 9), (h.file + ":2: 7 columns; format \"plain\" expects 2 (timestamp,price)").c_str(), DataError);
  ReplayConfig p = cfg_for(write_file("p_as_k.csv", "1000000000,100\n1000000060,110\n"));
  p.format = "kline";
  CHECK_THROWS_WITH_AS(load(p, 20, 1), (p.file + ":1: 2 columns; format \"kline\" expects at least 5 (open_time_ms,open,high,low,close,...)").c_str(),
                       DataError);
}

TEST_CASE("replay: every bad row is an error naming FILE:LINE") {
  struct Case {
    std::string text, msg;  // msg without the "PATH" prefix
  };
  const std::vector<Case> cases{
      {"1000000000,100\n1000000060,abc\n", ":2: column 2 (price): 'abc' is not a number"},
      {"1000000000,100\n1000000060,\n", ":2: column 2 (price): '' is not a number"},
      {"1000000000,100\nx1000000060,100\n", ":2: column 1 (timestamp): 'x1000000060' is not a number"},
      {"1000000000,100\n1000000060,0\n", ":2: price must be positive, got '0'"},
      {"1000000000,100\n1000000060,-3.5\n", ":2: price must be positive, got '-3.5'"},
      {"1000000000,100\n1000000060,inf\n", ":2: column 2 (price): 'inf' is not finite"},
      {"1000000000,100\n1000000060,nan\n", ":2: column 2 (price): 'nan' is not finite"},
      {"t,p\n1000000000,100\n1000000060,101\n1000000060,102\n", ":4: duplicate timestamp 1000000060 (same as line 3)"},
      {"1000000000,100\n1000000060,101\n1000000030,102\n",
       ":3: timestamp 1000000030 is earlier than line 2's (1000000060); rows must be sorted by time, ascending"},
      {"1000000000,100\n1000000060,101\n1000000120,102,7\n", ":3: 3 columns; expected 2 like the first data row (line 1)"},
      {"1000000000,100,101\n1000000060,101,102\n",
       ":1: 3 columns; expected 2 (timestamp,price) or at least 5 (kline: open_time_ms,open,high,low,close,...)"},
      {"time,price,extra\n1000000000,100\n1000000060,101\n",
       ":1: the header has 3 columns but the first data row (line 2) has 2"},
      {"1000000000,100\n1000000060,101\nfoo,bar\n", ":3: column 1 (timestamp): 'foo' is not a number"},
      {"1600000000000,104,106,105,104.5,1\n1600000060000,104,108,103,107,1\n",
       ":1: low 105 is above min(open, close) = 104; a bar's low must be <= its open and close"},
      {"1600000000000,100,106,99,104,1\n1600000060000,104,106.5,103,107,1\n",
       ":2: high 106.5 is below max(open, close) = 107; a bar's high must be >= its open and close"},
      {"1600000000000,100,106,99,104,1\n1600000060000,104,108,103,0,1\n", ":2: close must be positive, got '0'"},
      {"1000000000,100\n1000000060,101\n1000000120,102\n1000000300,103\n",
       ":4: gap of 180 s since the previous row (line 3), more than 1.5x the median spacing of 60 s (missing data); fix "
       "the file or set replay.on_gap = \"interpolate\" to bridge gaps with a straight line"},
      {"1600000000000,100,106,99,104,1\n1600000060000,104,108,103,107,1\n1600000240000,107,109,101,102,1\n"
       "1600000300000,102,103,100,101,1\n",
       ":3: gap of 180 s since the previous row (line 2), more than 1.5x the bar interval of 60 s (missing data); fix "
       "the file or set replay.on_gap = \"interpolate\" to bridge gaps with a straight line"},
      {"1600000000000,100,106,99,104,1\n1600000060000,104,108,103,107,1\n1600000090000,107,109,101,102,1\n"
       "1600000150000,102,103,100,101,1\n",
       ":3: open time is only 30 s after the previous bar's (line 2), less than the bar interval of 60 s (overlapping bars)"},
  };
  int i = 0;
  for (const Case& k : cases) {
    const std::string name = "bad" + std::to_string(i++) + ".csv";
    CHECK(error_of(name, k.text) == tmp_dir() + "/" + name + k.msg);
  }
}

TEST_CASE("replay: file-level errors: empty, too short, missing, window outside the data, far from initial_price") {
  CHECK(error_of("empty.csv", "") == tmp_dir() + "/empty.csv: no data rows (empty file)");
  CHECK(error_of("blank.csv", "\n\n  \n") == tmp_dir() + "/blank.csv: no data rows (empty file)");
  CHECK(error_of("hdr.csv", "timestamp,price\n") == tmp_dir() + "/hdr.csv: no data rows (only a header)");
  CHECK(error_of("one.csv", "timestamp,price\n1000000000,100\n") == tmp_dir() + "/one.csv: only 1 data row; a replay needs at least 2");

  CHECK_THROWS_WITH_AS(load(cfg_for("no_such_file.csv"), 1, 1),
                       ("no_such_file.csv: replay file not found (tried: " + tmp_dir() + "/no_such_file.csv, no_such_file.csv)").c_str(),
                       DataError);
  CHECK_THROWS_WITH_AS(load_replay_path(cfg_for("/nonexistent/x.csv"), 1, 1, 100, 1, ""),
                       "/nonexistent/x.csv: replay file not found (tried: /nonexistent/x.csv)", DataError);

  const std::string plain = "1000000000,100\n1000000060,110\n1000000120,105\n";
  const std::string p = tmp_dir() + "/short.csv";
  CHECK(error_of("short.csv", plain, {}, 15, 9) ==
        p + ": the data cover only 8 steps of dt_s = 15 s from 1000000000000 ms to the last observation at 1000000120000 ms; "
            "horizon_steps is 9");
  CHECK(error_of("short.csv", plain, {}, 15, 8) == "(no error)");
  ReplayConfig late;
  late.start_time_ms = 1000000200000;
  CHECK(error_of("short.csv", plain, late, 15, 1) ==
        p + ": start_time_ms 1000000200000 is outside the data, which span 1000000000000 to 1000000120000 ms (after time_shift_s)");
  CHECK(error_of("short.csv", plain, {}, 15, 8, 125.0) ==
        p + ": the replay starts at 100, more than 10% away from initial_price 125; set replay.rescale_to_initial = true or "
            "an initial_price near the data");
}

TEST_CASE("replay: on_gap = interpolate bridges gaps with a straight line") {
  ReplayConfig c = cfg_for(write_file("gap_plain.csv", "1000000000,100\n1000000060,101\n1000000120,102\n1000000300,120\n"));
  c.on_gap = "interpolate";
  check_values(load(c, 60, 5), {100, 101, 102, 108, 114, 120});

  ReplayConfig k = cfg_for(write_file("gap_kline.csv",
                                      "1600000000000,100,106,99,104,1\n1600000060000,104,108,103,107,1\n"
                                      "1600000240000,110,112,109,111,1\n1600000300000,111,113,110,112,1\n"));
  k.on_gap = "interpolate";
  k.intrabar_noise = 0;
  // Bar 2 ends with 107 at +120 s; straight to bar 3's open 110 at +240 s; then its waypoints.
  check_values(load(k, 20, 18),
               {100, 99, 106, 104, 103, 108, 107, 107.5, 108, 108.5, 109, 109.5, 110, 109, 112, 111, 110, 113, 112});
  k.intrabar = "close";
  check_values(load(k, 60, 6), {100, 104, 107, 107 + 4.0 / 3, 107 + 8.0 / 3, 111, 112});
}

TEST_CASE("replay: rescale_to_initial and rescale multiply the whole path") {
  const std::string f = write_file("rescale.csv", "1000000000,100\n1000000060,110\n1000000120,105\n");
  const auto base = load(cfg_for(f), 15, 8);
  ReplayConfig c = cfg_for(f);
  c.rescale_to_initial = true;
  const auto r = load(c, 15, 8, 30000.0);
  REQUIRE(r.size() == base.size());
  CHECK(r[0] == doctest::Approx(30000.0).epsilon(1e-14));
  for (std::size_t i = 0; i < r.size(); ++i) CHECK(r[i] == doctest::Approx(base[i] * 300.0).epsilon(1e-12));
  c.rescale = 0.5;
  const auto r2 = load(c, 15, 8, 30000.0);
  CHECK(r2[0] == doctest::Approx(15000.0).epsilon(1e-14));
  CHECK(r2[4] == doctest::Approx(110 * 150.0).epsilon(1e-12));
  ReplayConfig d = cfg_for(f);
  d.rescale = 2;
  const auto r3 = load(d, 15, 8, 200.0);
  CHECK(r3[4] == doctest::Approx(220.0).epsilon(1e-12));
}

TEST_CASE("replay: the ohlc intra-bar path of the real BTCUSDT bars stays in every bar's range and hits O, H, L, C") {
  const std::vector<Bar> bars = read_btc_bars();
  REQUIRE(bars.size() == 120);
  ReplayConfig c;
  c.file = kBtcFile;
  const double dt = 10;
  const std::int64_t steps = 120 * 360;
  const auto path = load_replay_path(c, dt, steps, bars[0].o, 42, "");
  REQUIRE(path.size() == static_cast<std::size_t>(steps) + 1);
  for (std::size_t b = 0; b < bars.size(); ++b) {
    const Bar& bar = bars[b];
    const std::size_t k0 = b * 360;
    CHECK(path[k0] == bar.o);  // the bar's open at its open time
    int at_low = 0, at_high = 0;
    for (std::size_t k = k0; k < k0 + 360; ++k) {
      REQUIRE_MESSAGE(path[k] >= bar.l, "bar " << b << " step " << k);
      REQUIRE_MESSAGE(path[k] <= bar.h, "bar " << b << " step " << k);
      at_low += path[k] == bar.l;
      at_high += path[k] == bar.h;
    }
    const bool up = bar.c >= bar.o;
    CHECK(path[k0 + (up ? 120 : 240)] == bar.l);
    CHECK(path[k0 + (up ? 240 : 120)] == bar.h);
    if (bar.o != bar.l && bar.c != bar.l) CHECK_MESSAGE(at_low == 1, "bar " << b);
    if (bar.o != bar.h && bar.c != bar.h) CHECK_MESSAGE(at_high == 1, "bar " << b);
    // The close is approached at the bar's end (the next bar's open takes the boundary).
    CHECK(std::fabs(path[k0 + 359] - bar.c) <= 0.25 * (bar.h - bar.l) + 1e-9);
  }
  CHECK(path.back() == bars.back().c);
  CHECK(*std::min_element(path.begin(), path.end()) == 3621.81);
  // The documented fall: highest close before the fall to the lowest low, -54.5%.
  CHECK(3621.81 / 7953.55 - 1 == doctest::Approx(-0.545).epsilon(0.002));

  // Same seed: identical; other seed: different (but the same waypoints).
  CHECK(load_replay_path(c, dt, steps, bars[0].o, 42, "") == path);
  const auto other = load_replay_path(c, dt, steps, bars[0].o, 43, "");
  CHECK(other != path);
  CHECK(other[120] == path[120]);
  // Noise actually moves the path off the straight lines.
  c.intrabar_noise = 0;
  const auto straight = load_replay_path(c, dt, steps, bars[0].o, 42, "");
  CHECK(straight != path);
  CHECK(straight[1] == doctest::Approx(bars[0].o + (bars[0].l - bars[0].o) / 120.0).epsilon(1e-12));

  // Window selection: start at the bar of 2020-03-12 10:00 UTC (index 34), 2 hours.
  c.intrabar_noise = 0.25;
  c.start_time_ms = bars[34].t;
  const auto win = load_replay_path(c, dt, 720, bars[34].o, 42, "");
  CHECK(win[0] == bars[34].o);
  CHECK(win[360] == bars[35].o);
  CHECK(win[720] == bars[36].o);
  // The last bar of the file ends at its close; one step more is an error that says so.
  c.start_time_ms = bars[119].t;
  CHECK(load_replay_path(c, dt, 360, bars[119].o, 42, "").back() == bars[119].c);
  CHECK_THROWS_WITH_AS(load_replay_path(c, dt, 361, bars[119].o, 42, ""),
                       doctest::Contains("the data cover only 360 steps of dt_s = 10 s"), DataError);
}

TEST_CASE("replay: black_thursday_2020.json validates and its reference follows the file") {
  const ScenarioConfig full = load_scenario_file(kBlackThursday);
  REQUIRE(full.assets.size() == 1);
  CHECK(full.assets[0].replay.file == "../data/btcusdt_perp_1h_2020-03-11_2020-03-16.csv");
  CHECK(full.assets[0].initial_price == 7898.21);
  // The whole horizon is covered by the file (resolved against the scenario's folder).
  const std::string dir = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios";
  const auto whole = load_replay_path(full.assets[0].replay, full.dt_s, full.horizon_steps, full.assets[0].initial_price, 1, dir);
  CHECK(whole.front() == 7898.21);

  // A short run (1 hour, fewer agents, no noise): the reference is the file's path, step for step.
  const ScenarioConfig sc = load_scenario_file(
      kBlackThursday, {"horizon_steps=400", "agents.noise_traders.count=20", "agents.leveraged_traders.count=20",
                       "assets[0].replay.intrabar_noise=0"});
  const auto want = load_replay_path(sc.assets[0].replay, sc.dt_s, sc.horizon_steps, sc.assets[0].initial_price, 1, dir);
  RunOptions o;
  o.seed = 5;
  const RunResult r = run_simulation(sc, o);
  const SeriesColumn* ref = nullptr;
  for (const auto& col : r.series)
    if (col.name == "reference") ref = &col;
  REQUIRE(ref != nullptr);
  REQUIRE(ref->values.size() == 400);
  for (std::size_t i = 0; i < ref->values.size(); ++i)  // row i = the end of step i = path[i + 1]
    REQUIRE_MESSAGE(ref->values[i] == doctest::Approx(want[i + 1]).epsilon(1e-12), "row " << i);
  const std::vector<Bar> bars = read_btc_bars();
  CHECK(ref->values[119] == doctest::Approx(bars[0].l).epsilon(1e-12));   // the first bar is up: low at 20 min
  CHECK(ref->values[359] == doctest::Approx(bars[1].o).epsilon(1e-12));   // the next bar's open at 1 h
}

// The calibration check of issue #5, on the scenario seed: after the fall the simulated funding turns
// negative and reaches the -0.30% cap as the real Binance series did, and it comes off it. Since
// issue #14 (hedgers, re-entry, the spot-borrow cost; scripts/fit_after_fall) it also stays
// negative, as the real one did; the 10-seed comparison is tests/test_engine_funding_vs_real.cpp.
// Pinned to `market`'s V1 market orders since #12 (under the IOC the file before the re-fit gave
// -0.2991% at 12 Mar 16:00 on this seed, just short of the cap); since the re-fit with the switch
// this seed reaches the cap at 13 Mar 08:00 under either order type.
TEST_CASE("replay: black_thursday_2020 funding turns negative after the fall and reaches the cap, as the real series did") {
  const ScenarioConfig sc = load_scenario_file(kBlackThursday, {"horizon_steps=34560", "perp.liquidation.market_order=market"});  // 96 h
  const std::vector<Bar> bars = read_btc_bars();
  const std::int64_t start_ms = bars.front().t;  // 2020-03-11 00:00 UTC
  // Real settlements (time since the start, h -> rate) over the simulated 72 h.
  std::vector<std::pair<double, double>> real;
  for (const sl::test::RealSettlement& x : sl::test::real_funding_settlements(start_ms))
    if (x.hours <= 96) real.emplace_back(x.hours, x.rate);
  REQUIRE(real.size() == 12);  // 08:00, 16:00, 00:00 x 4 days
  RunOptions o;
  o.seed = sc.seed;
  o.policy = "market";
  const RunResult r = run_simulation(sc, o);
  const SeriesColumn *time = nullptr, *funding = nullptr, *perp = nullptr, *index = nullptr;
  for (const auto& c : r.series) {
    if (c.name == "time_s") time = &c;
    if (c.name == "funding_rate") funding = &c;
    if (c.name == "perp_mid") perp = &c;
    if (c.name == "index") index = &c;
  }
  REQUIRE((time && funding && perp && index));
  // The simulated rate settled at hour h: the series value at the first row at or after h.
  auto sim_at = [&](double h) {
    const auto it = std::lower_bound(time->values.begin(), time->values.end(), h * 3600.0 - 1e-6);
    REQUIRE(it != time->values.end());
    return funding->values[static_cast<std::size_t>(it - time->values.begin())];
  };
  double real_cap_h = -1, sim_cap_h = -1;
  int sim_cap_count = 0;
  for (const auto& [h, real_rate] : real) {
    const double sim_rate = sim_at(h);
    MESSAGE("settlement +" << h << " h: real " << real_rate * 100 << "%, simulated " << sim_rate * 100 << "%");
    if (h <= 32) CHECK(real_rate > 0);  // before the fall (12 Mar 08:00 and earlier)
    // This seed's simulated rate is positive up to 12 Mar 00:00 (+24 h); at 08:00 it is -0.011%
    // (the 10-seed IOC median is +0.0002%, tests/test_engine_funding_vs_real.cpp).
    if (h <= 24) CHECK(sim_rate > 0);
    if (h >= 40) CHECK(sim_rate < 0);  // after the fall: negative at every settlement, like the real one
    if (real_rate <= -0.003 && real_cap_h < 0) real_cap_h = h;
    if (sim_rate <= -0.003 + 1e-12) {
      ++sim_cap_count;
      if (sim_cap_h < 0) sim_cap_h = h;
    }
  }
  CHECK(real_cap_h == 56);  // 2020-03-13 08:00 UTC, the data's -0.30%
  REQUIRE(sim_cap_h > 0);   // the simulated funding reaches the cap too ...
  CHECK(std::abs(sim_cap_h - real_cap_h) <= 24);  // ... within a day of the real one (measured: at it, +56 h)
  // ... and stays there longer than the real one (once): on this seed 4 settlements, 13 Mar 08:00 to
  // 14 Mar 08:00 (the 10-seed median of tests/test_engine_funding_vs_real.cpp: one). The hedgers'
  // shorts fill the arbitrageurs' max_position (500 BTC each); with 1,000 the cap is not reached
  // (probe, scenarios/README.md). Before the re-fit with the switch: at most 2.
  CHECK(sim_cap_count <= 4);
  // It comes off: 40 h after its first cap (15 Mar 00:00, +96 h) it is back above -0.10% (measured
  // -0.062% since fix13, -0.065% before; real -0.048%). Before the re-fit this was one day after (the
  // cap was then at +40 h).
  CHECK(sim_at(sim_cap_h + 40) > -0.001);
  // The perp never falls more than 10% below the index (with too little arbitrage capacity it fell to
  // -88% and stayed there). Measured since fix13 (2026-12-07: the mark and the traders read a one-sided
  // book at the index): -6.23%, a lag at the rebound (step 18141: the index rose 3,969 -> 4,070 in three
  // steps while the perp book held nothing within 1% either side, spread 236-452 bps; back within 1.9%
  // two steps later; scenarios/README.md); since the re-fit with the switch and before fix13: -4.92%, at
  // +50.4 h (13 Mar 02:24, the low; sweeping arbitrageurs take every level to their price). With the file before it
  // -19.0% at 13 Mar 02:34 (the bound was then 20%); at the real low BitMEX's perp traded about $400
  // (~10%) below spot.
  double worst = 0;
  for (std::size_t i = 0; i < perp->values.size(); ++i)
    if (std::isfinite(perp->values[i]) && index->values[i] > 0) worst = std::min(worst, perp->values[i] / index->values[i] - 1);
  MESSAGE("worst perp discount to the index: " << worst * 1e4 << " bps");
  CHECK(worst > -0.10);
}

// Issue #14 item 6 on the switched file (2026-12-07): the replayed fall thins the perp book through
// the makers' own rule, with no scheduled liquidity_withdrawal. Per seed 20200312-16 (`market`, the
// run cut at 35 h = 12 Mar 11:00; the series up to there equal the full run's): the mean over
// 12 Mar 00:00-08:00 (+24 h .. +32 h, before the fall) against the mean over 10:00-11:00 (+34 h ..
// +35 h, the first leg's liquidations), both sides' depth within 1% summed, spread skipping
// one-sided rows. Measured: depth 84.66 -> 4.50, 82.92 -> 2.26, 83.88 -> 30.80, 82.59 -> 12.74,
// 82.91 -> 4.84 BTC (ratios 0.053, 0.027, 0.367, 0.154, 0.058; median 0.058); spread 4.13 -> 107.0,
// 4.89 -> 140.0, 4.88 -> 94.2, 5.03 -> 113.3, 4.74 -> 99.2 bps (ratios 25.9, 28.6, 19.3, 22.5, 20.9;
// median 22.5). The file before the switch (reference-anchored makers, whose sizes shrink with
// volatility) thinned too, less: depth ratio median 0.087, spread ratio 9.5 (same seeds, CLI).
// fix13 (issue #14 visible prices, 2026-12-07): depth ratios 0.056, 0.028, 0.365, 0.154, 0.064, median 0.064; spread ratios 25.0, 30.1, 25.7, 31.8, 25.5, median 25.7.
TEST_CASE("replay: black_thursday_2020 (switched) - the perp's 1% depth falls and its spread widens in the first leg with no scheduled withdrawal") {
  const ScenarioConfig sc = load_scenario_file(kBlackThursday, {"horizon_steps=12600"});
  for (const ShockConfig& s : sc.shocks) CHECK(s.type != "liquidity_withdrawal");
  CHECK(sc.agents.market_makers.fair_value == "visible");
  CHECK(sc.agents.market_makers.withdrawal.enabled);
  constexpr double kH = 3600.0;  // the windows below are in hours of the replay
  std::vector<double> depth_ratio, spread_ratio, depth_pre;
  for (std::uint64_t k = 0; k < 5; ++k) {
    RunOptions o;
    o.seed = sc.seed + k;
    o.policy = "market";
    const RunResult r = run_simulation(sc, o);
    const sl::test::PerpThinning t = sl::test::perp_thinning(r, 24 * kH, 32 * kH, 34 * kH, 35 * kH);
    MESSAGE("seed " << o.seed << ": depth " << t.depth_before << " -> " << t.depth_during << " BTC, spread "
                    << t.spread_before << " -> " << t.spread_during << " bps");
    depth_pre.push_back(t.depth_before);
    depth_ratio.push_back(t.depth_ratio());
    spread_ratio.push_back(t.spread_ratio());
  }
  // The same margins as crash.json's (test_engine_crash_endogenous): depth in the leg at most 30% of
  // its level before, the spread at least 5 times wider (measured 0.058 and 22.5).
  CHECK(sl::test::median_of(depth_ratio) < 0.3);
  CHECK(sl::test::median_of(spread_ratio) > 5.0);
  // Before the fall the book is the makers' full ladder: 3 makers x 6 levels x 2 BTC = 36 BTC per
  // side, 72 both sides, plus noise traders' orders (measured 82.6-84.7).
  CHECK(sl::test::median_of(depth_pre) > 72.0);
}
