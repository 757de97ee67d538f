// Sweep runner: plan order, checkpoint segments (round trip, corruption, truncation), the plan hash,
// the parts-dir checks of --resume, and interrupt + resume giving the same results as one go.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "scenarios/loader.hpp"
#include "sim/sweep/run_store.hpp"
#include "sim/run/simulation.hpp"
#include "sim/sweep/sweep_runner.hpp"

#include "tests/support/same_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace sl;

namespace {

struct TempDir : sl::test::TempDir {
  TempDir() : sl::test::TempDir("sl_test_sweep") {}
};

RunResult handmade_run() {
  RunResult r;
  r.run_id = "000007";
  r.policy = "dutch";
  r.seed = 0xFFFFFFFFFFFFFFFFull;
  r.run_index = 7;
  r.params = {{"penalty_bps", "100"}, {"name with\0nul", std::string("a\0b", 3)}};
  r.series.push_back({"mid", "USDT", {1.5, -0.0, std::numeric_limits<double>::quiet_NaN(), 4.9e-324, 1e308}});
  r.series.push_back({"empty", "", {}});
  LiquidationEvent e;
  e.step = 12;
  e.account = 4000000000u;
  e.agent_type = "leveraged_trader";
  e.policy_path = "market>insurance";
  e.notional = 12345.678;
  e.price = 29000.1;
  e.mark = 29010.2;
  e.slippage_bps = 3.48;
  e.penalty = 123.45;
  e.liquidator = -1;
  e.steps_to_complete = 3;
  e.bad_debt = 0.5;
  e.endogenous = true;
  r.liquidations = {e, e};
  r.liquidations[1].endogenous = false;
  r.summary = {{"bad_debt", 0.0}, {"cascade_amplification", std::numeric_limits<double>::infinity()}};
  return r;
}

const std::string kCalm = std::string(STRESSLAB_SOURCE_DIR) + "/scenarios/calm.json";

std::vector<SweepPoint> two_short_points() {
  std::vector<SweepPoint> pts;
  for (int penalty : {50, 200}) {
    SweepPoint p;
    p.scenario = load_scenario_file(kCalm, {"horizon_steps=120", "perp.liquidation.penalty_bps=" + std::to_string(penalty)});
    p.params = {{"penalty_bps", std::to_string(penalty)}};
    pts.push_back(std::move(p));
  }
  return pts;
}

}  // namespace

TEST_CASE("plan_sweep: point-major, then policy, then seed - run_index = position") {
  const auto plan = plan_sweep(2, {"market", "dutch"}, 10, 3);
  REQUIRE(plan.size() == 12);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    CHECK(plan[i].run_index == static_cast<std::int64_t>(i));
    CHECK(plan[i].point == i / 6);
    CHECK(plan[i].policy == (i / 3 % 2 == 0 ? "market" : "dutch"));
    CHECK(plan[i].seed == 10 + i % 3);
  }
  CHECK(plan_sweep(3, {"market"}, 1, 0).empty());
}

TEST_CASE("segment round trip: a hand-made result with edge values, and a real run") {
  const RunResult r = handmade_run();
  const std::uint64_t plan = 0x1234abcdull;
  const std::optional<RunResult> back = decode_segment(encode_segment(r, plan), plan, 7);
  REQUIRE(back.has_value());
  sl::test::check_same_run(r, *back);

  RunOptions ro;
  ro.seed = 3;
  ro.run_index = 5;
  const ScenarioConfig sc = load_scenario_file(kCalm, {"horizon_steps=80"});
  RunResult real = run_simulation(sc, ro);
  real.params = {{"x", "1"}};
  REQUIRE(!real.series.empty());
  TempDir d;
  write_segment(d.path.string(), real, plan);
  CHECK(fs::exists(segment_path(d.path.string(), 5)));
  CHECK(fs::path(segment_path(d.path.string(), 5)).filename() == "run-000000005.seg");
  const std::optional<RunResult> real_back = read_segment(d.path.string(), 5, plan);
  REQUIRE(real_back.has_value());
  sl::test::check_same_run(real, *real_back);
  // Nothing but the segment is left in the directory (the temp file was renamed).
  CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("segments: corruption, truncation, wrong plan or run index are rejected") {
  const RunResult r = handmade_run();
  const std::uint64_t plan = 99;
  const std::string seg = encode_segment(r, plan);
  REQUIRE(decode_segment(seg, plan, 7).has_value());
  CHECK_FALSE(decode_segment(seg, plan + 1, 7).has_value());  // another sweep's segment
  CHECK_FALSE(decode_segment(seg, plan, 8).has_value());      // under another run's name
  // Every single-byte flip (header, payload, checksum) is caught.
  int accepted_flips = 0;
  for (std::size_t i = 0; i < seg.size(); ++i) {
    std::string bad = seg;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    if (decode_segment(bad, plan, 7)) ++accepted_flips;
  }
  CHECK(accepted_flips == 0);
  // Every truncation (as a kill -9 mid-write without the rename protocol would leave) is caught.
  int accepted_truncations = 0;
  for (std::size_t n = 0; n < seg.size(); ++n)
    if (decode_segment(std::string_view(seg).substr(0, n), plan, 7)) ++accepted_truncations;
  CHECK(accepted_truncations == 0);
  CHECK_FALSE(decode_segment(seg + "x", plan, 7).has_value());
  // Payload parser alone: absurd counts and trailing bytes fail cleanly instead of allocating or over-reading.
  std::string payload = serialize_run(r);
  REQUIRE(deserialize_run(payload).has_value());
  CHECK_FALSE(deserialize_run(payload + '\0').has_value());
  CHECK_FALSE(deserialize_run(payload.substr(0, payload.size() - 1)).has_value());
  std::string huge(64, '\xff');
  CHECK_FALSE(deserialize_run(huge).has_value());
}

TEST_CASE("manifest text round trip") {
  const std::string m = encode_manifest(0x0123456789abcdefull, 42);
  CHECK(m == "stresslab sweep parts\nformat 1\nplan_hash 0123456789abcdef\nruns 42\n");
  CHECK(manifest_plan_hash(m) == std::optional<std::uint64_t>(0x0123456789abcdefull));
  CHECK_FALSE(manifest_plan_hash("stresslab sweep parts\nformat 1\nplan_hash 0123\n").has_value());
  CHECK_FALSE(manifest_plan_hash("").has_value());
}

TEST_CASE("plan hash: equal plans agree - any change of scenario, params, policy or seed changes it") {
  const std::vector<SweepPoint> pts = two_short_points();
  const auto plan = plan_sweep(2, {"market"}, 1, 2);
  const std::uint64_t h = sweep_plan_hash(pts, plan);
  CHECK(sweep_plan_hash(two_short_points(), plan_sweep(2, {"market"}, 1, 2)) == h);
  CHECK(sweep_plan_hash(pts, plan_sweep(2, {"market"}, 2, 2)) != h);           // first seed
  CHECK(sweep_plan_hash(pts, plan_sweep(2, {"market"}, 1, 3)) != h);           // seed count
  CHECK(sweep_plan_hash(pts, plan_sweep(2, {"dutch"}, 1, 2)) != h);            // policy
  CHECK(sweep_plan_hash(pts, plan, "0.1.0\nabc") != h);                        // another build
  std::vector<SweepPoint> renamed = pts;
  renamed[1].params[0].second = "201";
  CHECK(sweep_plan_hash(renamed, plan) != h);                                   // param text
  std::vector<SweepPoint> changed = pts;
  changed[0].scenario = load_scenario_file(kCalm, {"horizon_steps=121", "perp.liquidation.penalty_bps=50"});
  CHECK(sweep_plan_hash(changed, plan) != h);                                   // scenario content
}

TEST_CASE("parts dir: without --resume an existing one is refused - with --resume a different sweep is refused") {
  TempDir d;
  const std::vector<SweepPoint> pts = two_short_points();
  const auto plan = plan_sweep(2, {"market"}, 1, 1);
  SweepOptions o;
  o.threads = 1;
  o.out_path = d.file("out.h5");
  const std::string parts = parts_dir_for(o.out_path);
  fs::create_directories(parts);
  write_file_atomic(manifest_path(parts), encode_manifest(sweep_plan_hash(pts, plan) ^ 1u, plan.size()));
  write_segment(parts, handmade_run(), 5);

  std::string msg;
  try {
    run_sweep(pts, plan, o);
  } catch (const SweepError& e) {
    msg = e.what();
  }
  CHECK(msg == parts + ": holds the finished runs of an earlier, interrupted run/sweep into " + o.out_path +
                   "; continue it with --resume, or delete the directory to start over");
  o.resume = true;
  msg.clear();
  try {
    run_sweep(pts, plan, o);
  } catch (const SweepError& e) {
    msg = e.what();
  }
  CHECK(msg.rfind(parts + "/manifest: the sweep changed since these runs were made", 0) == 0);
  CHECK_FALSE(fs::exists(o.out_path));  // nothing written on either refusal
}

TEST_CASE("interrupt after 3 of 8 runs, resume with one segment damaged: same results as one uninterrupted go") {
  const std::vector<SweepPoint> pts = two_short_points();
  const auto plan = plan_sweep(2, {"market", "dutch"}, 4, 2);  // 8 runs
  REQUIRE(plan.size() == 8);
  TempDir d;

  std::vector<RunResult> straight;
  SweepOptions o;
  o.threads = 1;
  o.out_path = d.file("straight.h5");
  o.on_result = [&](const RunResult& r) { straight.push_back(r); };
  const SweepOutcome s = run_sweep(pts, plan, o);
  CHECK(s.complete);
  CHECK(s.runs_done == 8);
  CHECK(s.runs_reused == 0);
  CHECK(fs::exists(o.out_path));
  CHECK_FALSE(fs::exists(parts_dir_for(o.out_path)));  // removed once complete
  REQUIRE(straight.size() == 8);
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(straight[i].run_index == static_cast<std::int64_t>(i));
    CHECK(straight[i].seed == plan[i].seed);
    CHECK(straight[i].policy == plan[i].policy);
    CHECK(straight[i].params == pts[plan[i].point].params);
  }

  // Interrupted: the cancel flag is raised once 3 runs are done (1 thread: no run is in flight).
  std::atomic<bool> cancel{false};
  std::vector<RunResult> partial;
  SweepOptions p;
  p.threads = 1;
  p.out_path = d.file("resumed.h5");
  p.cancel = &cancel;
  p.progress = [&](std::size_t done, std::size_t) {
    if (done == 3) cancel.store(true);
  };
  p.on_result = [&](const RunResult& r) { partial.push_back(r); };
  const SweepOutcome a = run_sweep(pts, plan, p);
  CHECK_FALSE(a.complete);
  CHECK(a.runs_total == 8);
  CHECK(a.runs_done == 3);
  CHECK(partial.size() == 3);
  CHECK(fs::exists(p.out_path));                     // a valid partial file
  CHECK(fs::exists(parts_dir_for(p.out_path)));      // kept for --resume
  CHECK(fs::exists(segment_path(parts_dir_for(p.out_path), 2)));
  CHECK_FALSE(fs::exists(segment_path(parts_dir_for(p.out_path), 3)));

  // Damage run 1's segment (as a disk error would) and leave a stray temp file (as kill -9 would).
  const std::string seg1 = segment_path(parts_dir_for(p.out_path), 1);
  fs::resize_file(seg1, fs::file_size(seg1) - 3);
  std::ofstream(segment_path(parts_dir_for(p.out_path), 4) + ".tmp-1-1") << "half a segment";

  cancel.store(false);
  p.progress = nullptr;
  p.resume = true;
  std::vector<RunResult> resumed;
  p.on_result = [&](const RunResult& r) { resumed.push_back(r); };
  const SweepOutcome b = run_sweep(pts, plan, p);
  CHECK(b.complete);
  CHECK(b.runs_done == 8);
  CHECK(b.runs_reused == 2);  // runs 0 and 2; run 1 was damaged and redone
  CHECK_FALSE(fs::exists(parts_dir_for(p.out_path)));
  REQUIRE(resumed.size() == 8);
  for (std::size_t i = 0; i < 8; ++i) sl::test::check_same_run(straight[i], resumed[i]);
}
