// The user's own positions (accounts.file, scenarios/position_file.hpp, sim/run/own_positions.hpp):
// parsing with hand-checked values, every kind of bad input named by FILE:LINE and field, and a
// run in which the positions are margined accounts (open interest, liquidation, conservation).
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "scenarios/loader.hpp"
#include "scenarios/position_file.hpp"
#include "sim/run/simulation.hpp"
#include "tests/support/scenario_error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace sl;

namespace {

const std::string kCrash = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/crash.json";

std::string write(const sl::test::TempDir& d, const std::string& name, const std::string& text) {
  const std::string p = d.file(name);
  std::ofstream(p) << text;
  return p;
}

// crash.json with accounts.file = path (loaded and validated by load_scenario_file).
ScenarioConfig crash_with(const std::string& path, std::vector<std::string> sets = {}) {
  sets.push_back("accounts.file=\"" + path + "\"");
  return load_scenario_file(kCrash, sets);
}

std::string error_of(const std::string& path) {
  return sl::test::scenario_error_of([&] { crash_with(path); });
}

double series_at(const RunResult& r, const std::string& name, std::size_t i) {
  for (const SeriesColumn& c : r.series)
    if (c.name == name) return c.values.at(i);
  FAIL("no column " << name);
  return 0;
}

}  // namespace

TEST_CASE("positions file: values as written, isolated margin derived from leverage") {
  sl::test::TempDir d("sl_pos");
  // crash.json: BTC, lot 0.001, default tiers (imr 100/200/500 bps up to 100k/1M/1e12 notional).
  const std::string p = write(d, "p.csv",
                              "# comment lines and blank lines are skipped\n"
                              "side, size, entry_price, quote_collateral, spot_BTC, margin_mode, leverage, tier\n"
                              "\n"
                              "long,0.5,30000,,,isolated,10,0\n"          // quote = 0.5 x 30000 / 10 = 1500
                              "short,2.25,31000.5,5000,0.1,cross,,\n");
  const ScenarioConfig c = crash_with(p);
  REQUIRE(c.accounts.book);
  const PositionBook& b = *c.accounts.book;
  REQUIRE(b.rows.size() == 2);
  CHECK(b.rows[0].line == 4);
  CHECK(b.rows[0].is_long);
  CHECK(b.rows[0].isolated);
  CHECK(b.rows[0].quote_collateral == doctest::Approx(1500.0));
  CHECK(b.rows[1].line == 5);
  CHECK_FALSE(b.rows[1].is_long);
  CHECK(b.rows[1].size == 2.25);
  CHECK(b.rows[1].entry_price == 31000.5);
  CHECK(b.rows[1].quote_collateral == 5000.0);
  CHECK(b.spot == std::vector<double>{0.0, 0.1});
}

TEST_CASE("positions file: bad input names FILE:LINE, the field and the allowed range") {
  sl::test::TempDir d("sl_pos");
  const std::string hdr = "side,size,entry_price,quote_collateral,margin_mode,leverage,tier,spot_BTC\n";
  const auto err = [&](const std::string& rows) { return error_of(write(d, "bad.csv", hdr + rows)); };
  const std::string f = d.file("bad.csv");
  CHECK(err("long,0.0015,30000,100,cross,,,\n") == f + ":2: size: must be a whole number of lots (lot_size 0.001), got 0.0015");
  CHECK(err("long,-1,30000,100,cross,,,\n").find(f + ":2: size: must be a number in (0, 1e9]") == 0);
  CHECK(err("long,1,abc,100,cross,,,\n").find(f + ":2: entry_price: must be a number in (0, 1e12]") == 0);
  CHECK(err("up,1,30000,100,cross,,,\n") == f + ":2: side: must be \"long\" or \"short\", got \"up\"");
  CHECK(err("long,1,30000,100,hedge,,,\n") == f + ":2: margin_mode: must be \"cross\" or \"isolated\", got \"hedge\"");
  // Notional 30,000 is in tier 0 (<= 100,000): at most 10000 / 100 = 100x; tier 1 is wrong.
  CHECK(err("long,1,30000,,isolated,101,,\n").find(f + ":2: leverage: must be a number in [1, 100]") == 0);
  CHECK(err("long,1,30000,100,cross,,1,\n") == f + ":2: tier: is 1 but the notional size x entry_price = 30000 is in tier 0 (max_notional 100000)");
  CHECK(err("long,1,30000,,cross,,,\n").find(f + ":2: quote_collateral: is empty and no leverage") == 0);
  CHECK(err("long,1,30000,100,isolated,,,0.5\n").find(f + ":2: spot_BTC: must be 0 or empty for an isolated position") == 0);
  CHECK(err("long,1,30000\n") == f + ":2: (row): 3 fields, the header has 8");
  CHECK(error_of(write(d, "h.csv", "side,size,price,quote_collateral,margin_mode\n")).find(d.file("h.csv") + ":1: header: unknown column \"price\"") == 0);
  CHECK(error_of(write(d, "e.csv", "")) == d.file("e.csv") + ": no header line (an empty file?)");
  CHECK(error_of(d.file("missing.csv")).find("accounts.file: position file not found") == 0);
  // Several problems: one line each, in file order.
  const std::string many = err("up,1,30000,100,cross,,,\nlong,1,30000,100,hedge,,,\n");
  CHECK(many == f + ":2: side: must be \"long\" or \"short\", got \"up\"\n" + f + ":3: margin_mode: must be \"cross\" or \"isolated\", got \"hedge\"");
}

TEST_CASE("positions file: the positions are margined accounts - money is conserved") {
  sl::test::TempDir d("sl_pos");
  // Healthy at 30,000: long 2 BTC with 10,000 (maintenance 60,000 x 0.5% = 300) and short 1 BTC
  // with 5,000 (150). crash.json's `initial` leveraged traders are 85% long, so the counterparty's
  // contract balance is negative and stays so with -2 + 1 more: the open interest (sum of positive
  // balances) at the first row grows by exactly the long's 2 BTC, and nothing else in that row
  // changes (the positions do not trade; step 0 flags neither).
  const std::string ok = write(d, "ok.csv", "side,size,entry_price,quote_collateral,margin_mode\nlong,2,30000,10000,cross\nshort,1,30000,5000,isolated\n");
  RunOptions ro;
  ro.policy = "market";
  const std::vector<std::string> short_run{"horizon_steps=601"};  // the first shock is at step 600
  const RunResult base = run_simulation(load_scenario_file(kCrash, short_run), ro);
  const RunResult with = run_simulation(crash_with(ok, short_run), ro);
  CHECK(series_at(with, "open_interest", 0) - series_at(base, "open_interest", 0) == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(series_at(with, "perp_mid", 0) == series_at(base, "perp_mid", 0));
  // Underwater from the start: long 1 BTC entered at 30,000 with 100 of margin (equity 100 at
  // 30,000 < maintenance 150): flagged at step 0 and liquidated as a "position" account.
  const std::string bad = write(d, "uw.csv", "side,size,entry_price,quote_collateral,margin_mode\nlong,1,30000,100,isolated\n");
  const RunResult r = run_simulation(crash_with(bad, short_run), ro);  // conservation is checked inside
  bool found = false;
  for (const LiquidationEvent& e : r.liquidations) found |= e.agent_type == "position";
  CHECK(found);
}
