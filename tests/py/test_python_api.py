"""The Python package `stresslab` (issue #16) against the CLI it must equal.

Usage: PYTHONPATH=<build>/python /usr/bin/python3 test_python_api.py <stresslab-binary> <source-dir>

1. Identity: scenarios/crash.json for market,batch x 3 seeds through `stresslab run` and through
   stresslab.run(...): every /summary field, every series column and every liquidation table equal
   exactly (bitwise for floats, NaN == NaN), run by run; the same for a penalty sweep (CLI sweep file
   vs stresslab.sweep(grid=...)), param:* columns included.
2. Errors: a bad field (through set=, through a dict, in the file) raises ScenarioError (a ValueError)
   whose message is the CLI's stderr line without "error: "; a bad policy and bad seeds raise
   SweepError with the CLI's text (argument names in Python's words); nothing is written.
3. read(path) gives the same Results as run(...) returned; compare() equals report.py's numbers.
4. The GIL is released while the engine runs (another Python thread makes progress), and Ctrl-C
   (SIGINT) cancels a run with KeyboardInterrupt, keeping a partial file with complete = 0.
Standalone (no pytest): prints each failure, then `N passed, M failed`; exits non-zero on any failure.
"""

import json
import math
import os
import signal
import sys
import shutil
import tempfile
import threading
import time

import h5py
import numpy as np
from harness import Checks, run

import stresslab

BIN, SRC = sys.argv[1], sys.argv[2]
CRASH = os.path.join(SRC, "scenarios", "crash.json")
POLICIES = ["market", "batch"]
SEEDS = 3
CHECKS = Checks()
TMP = tempfile.mkdtemp(prefix="sl-pyapi-")


def same_float(a, b):
    """Bitwise-equal doubles (so 0.0 != -0.0 and NaN == NaN only with the same payload)."""
    return np.array(a, dtype=np.float64).tobytes() == np.array(b, dtype=np.float64).tobytes()


def assert_files_equal(cli_path, py_path):
    """Every /summary row and field, every run's series and liquidations, bit for bit; the root
    attributes except created_utc. Returns the number of values compared."""
    compared = 0
    with h5py.File(cli_path, "r") as a, h5py.File(py_path, "r") as b:
        for k in a.attrs:
            if k != "created_utc":
                va, vb = a.attrs[k], b.attrs[k]
                assert (va == vb) if not isinstance(va, np.ndarray) else np.array_equal(va, vb), (k, va, vb)
        sa, sb = a["summary"][()], b["summary"][()]
        assert sa.dtype == sb.dtype, (sa.dtype, sb.dtype)
        assert len(sa) == len(sb) == len(a["runs"]) == len(b["runs"]), (len(sa), len(sb))
        for name in sa.dtype.names:
            assert sa[name].tobytes() == sb[name].tobytes(), f"/summary field {name} differs"
            compared += len(sa)
        for rid in a["runs"]:
            ga, gb = a["runs"][rid], b["runs"][rid]
            assert dict(ga.attrs) == dict(gb.attrs), rid
            assert sorted(ga["series"]) == sorted(gb["series"]), rid
            for col in ga["series"]:
                x, y = ga["series"][col][()], gb["series"][col][()]
                assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), (rid, col)
                assert ga["series"][col].attrs["unit"] == gb["series"][col].attrs["unit"], (rid, col)
                compared += x.size
            la, lb = ga["liquidations"][()], gb["liquidations"][()]
            assert la.dtype == lb.dtype and la.tobytes() == lb.tobytes(), (rid, "liquidations")
            compared += la.size
    return compared


def check_run_identity():
    cli = os.path.join(TMP, "cli_crash.h5")
    r = run([BIN, "run", CRASH, "--policy", ",".join(POLICIES), "--seeds", str(SEEDS), "--threads", "2",
             "--out", cli, "--quiet"])
    assert r.returncode == 0, r.stderr
    py = os.path.join(TMP, "py_crash.h5")
    res = stresslab.run(CRASH, policies=POLICIES, seeds=SEEDS, threads=2, out=py)
    n = assert_files_equal(cli, py)
    print(f"     run identity: {len(res)} runs, {n} values compared, all bitwise equal")
    # The DataFrames carry the file's values: summary row by row, series column by column.
    with h5py.File(cli, "r") as f:
        s = f["summary"][()]
        assert list(res.summary["run_id"]) == [x.decode() for x in s["run_id"]]
        assert list(res.summary["policy"]) == [x.decode() for x in s["policy"]]
        for name in s.dtype.names:
            if s.dtype[name].kind == "f":
                assert same_float(res.summary[name].to_numpy(), s[name]), name
        for i, rid in enumerate(x.decode() for x in s["run_id"]):
            df = res.series(i)
            assert same_float(df.index.to_numpy(), f["runs"][rid]["series"]["time_s"][()])
            for col in df.columns:
                assert same_float(df[col].to_numpy(), f["runs"][rid]["series"][col][()]), (rid, col)
            liq = res.liquidations(rid)
            assert len(liq) == f["runs"][rid]["liquidations"].shape[0]
            if len(liq):
                assert same_float(liq["notional"].to_numpy(), f["runs"][rid]["liquidations"]["notional"])
    # The crash liquidates in every run (otherwise the series comparison above says little).
    assert (res.summary["liquidations"] > 0).all(), res.summary["liquidations"]


def check_sweep_identity():
    spec = {"base": CRASH, "grid": {"mode": "cartesian", "axes": [
        {"pointer": "/perp/liquidation/penalty_bps", "name": "penalty_bps", "values": [25, 100]}]},
        "policies": POLICIES, "seeds": 2}
    spec_path = os.path.join(TMP, "penalty.json")
    with open(spec_path, "w") as fh:
        json.dump(spec, fh)
    cli = os.path.join(TMP, "cli_sweep.h5")
    r = run([BIN, "sweep", spec_path, "--out", cli, "--threads", "2", "--quiet", "--set", "horizon_steps=900"])
    assert r.returncode == 0, r.stderr
    py = os.path.join(TMP, "py_sweep.h5")
    res = stresslab.sweep(CRASH, grid={"perp.liquidation.penalty_bps": [25, 100]}, policies=POLICIES, seeds=2,
                          threads=2, set={"horizon_steps": 900}, out=py)
    n = assert_files_equal(cli, py)
    assert res.params == ["penalty_bps"], res.params
    assert list(res.summary["param:penalty_bps"]) == [25.0] * 4 + [100.0] * 4
    print(f"     sweep identity: {len(res)} runs, {n} values compared, all bitwise equal")


def cli_error(args):
    r = run([BIN] + args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("error: "), r.stderr
    return "\n".join([lines[0][len("error: "):]] + lines[1:])


def check_errors():
    out = os.path.join(TMP, "never.h5")
    # A bad field through --set / set=: the loader's message (file, field, allowed range).
    want = cli_error(["run", CRASH, "--set", "perp.liquidation.penalty_bps=-5", "--out", out])
    assert "perp.liquidation.penalty_bps" in want and CRASH in want, want
    try:
        stresslab.run(CRASH, set={"perp.liquidation.penalty_bps": -5}, out=out)
        raise AssertionError("no exception")
    except stresslab.ScenarioError as e:
        assert isinstance(e, ValueError)
        assert str(e) == want, (str(e), want)
    # The same through validate(), and an unknown field with its suggestion.
    want2 = cli_error(["validate", CRASH, "--set", "agents.noise_traders.cout=5"])
    try:
        stresslab.validate(CRASH, set={"agents.noise_traders.cout": 5})
        raise AssertionError("no exception")
    except stresslab.ScenarioError as e:
        assert str(e) == want2, (str(e), want2)
    # A dict scenario: the same message with the dict's origin instead of the file name.
    with open(CRASH) as fh:
        doc = json.load(fh)
    doc["perp"]["liquidation"]["penalty_bps"] = -5
    try:
        stresslab.run(doc, out=out)
        raise AssertionError("no exception")
    except stresslab.ScenarioError as e:
        assert str(e) == want.replace(CRASH, "<scenario dict>"), (str(e), want)
    # Policies and seeds: the CLI's text with Python's argument names.
    want_pol = cli_error(["run", CRASH, "--policy", "market,nope", "--out", out])
    try:
        stresslab.run(CRASH, policies=["market", "nope"], out=out)
        raise AssertionError("no exception")
    except stresslab.SweepError as e:
        assert str(e) == want_pol.replace("--policy", "policies"), (str(e), want_pol)
    want_seeds = cli_error(["run", CRASH, "--seeds", "0", "--out", out])
    try:
        stresslab.run(CRASH, seeds=0, out=out)
        raise AssertionError("no exception")
    except stresslab.SweepError as e:
        assert str(e) == want_seeds.replace("--seeds", "seeds"), (str(e), want_seeds)
    assert not os.path.exists(out), "a results file was written despite the error"


def check_read_and_compare():
    path = os.path.join(TMP, "py_crash.h5")
    a = stresslab.read(path)
    assert a.summary.equals(stresslab.Results(path).summary)
    # compare(): the report's numbers (summary.json written by analysis/report.py).
    rep = os.path.join(TMP, "rep")
    r = run(["/usr/bin/python3", os.path.join(SRC, "analysis", "report.py"), path, "--out", rep])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(rep, "summary.json")) as fh:
        js = json.load(fh)
    table = js["table"]
    for metric in ("bad_debt", "liquidated_notional", "mean_slippage_bps"):
        c = a.compare(metric)
        for p in POLICIES:
            want = table[p][metric]
            for k in ("mean", "ci_low", "ci_high"):
                got = float(c.loc[p, k])
                assert (want[k] is None and math.isnan(got)) or got == want[k], (metric, p, k, got, want[k])
            assert int(c.loc[p, "n"]) == want["n"]
    # Hand check of one mean: liquidated_notional of market = mean of its 3 rows.
    s = a.summary
    assert a.compare("liquidated_notional").loc["market", "mean"] == \
        s.loc[s["policy"] == "market", "liquidated_notional"].to_numpy().mean()


def check_gil_released():
    ticks = []
    done = threading.Event()

    def work():
        stresslab.run(CRASH, policies=["market"], seeds=40, threads=1)  # long enough (~1 s) to sample
        done.set()

    t = threading.Thread(target=work)
    t0 = time.monotonic()
    t.start()
    while not done.is_set():  # this thread only runs while the engine's thread does not hold the GIL
        ticks.append(time.monotonic())
        time.sleep(0.005)
    t.join()
    secs = time.monotonic() - t0
    # With the GIL held for the whole run, this loop could not tick while it runs: no tick in the
    # middle half of the run (robust to a loaded machine, where each sleep may take much longer).
    middle = [x for x in ticks if t0 + 0.25 * secs <= x <= t0 + 0.75 * secs]
    assert secs > 0.2 and len(middle) >= 3, (secs, len(ticks), len(middle))
    print(f"     GIL: {len(ticks)} ticks of the main thread during a {secs:.2f} s run, {len(middle)} in its middle half")


def check_interrupt():
    out = os.path.join(TMP, "interrupted.h5")
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        stresslab.run(CRASH, policies=["market"], seeds=200, threads=1, out=out)
        raise AssertionError("no KeyboardInterrupt")
    except KeyboardInterrupt:
        pass
    secs = time.monotonic() - t0
    assert secs < 30, secs
    with h5py.File(out, "r") as f:
        assert int(f.attrs["complete"]) == 0
        assert 0 < f["summary"].shape[0] < 200, f["summary"].shape
    print(f"     interrupt: stopped after {secs:.2f} s")


def check_dislocation_warning():
    # No warning on the crash (max |premium| far below 20%), one naming 1 of 6 runs when a copy of the
    # file says one run reached 2500 bps (the CLI's threshold is 2000 bps, sim/sweep/run_plan.hpp).
    import shutil
    import warnings
    from stresslab import engine
    src = os.path.join(TMP, "py_crash.h5")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        engine._warn_dislocation(stresslab.read(src))
    assert not w, [str(x.message) for x in w]
    dst = os.path.join(TMP, "dislocated.h5")
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        s = f["summary"][()]
        s["max_abs_premium_bps"][4] = 2500.0
        f["summary"][...] = s
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        engine._warn_dislocation(stresslab.read(dst))
    assert len(w) == 1 and issubclass(w[0].category, stresslab.DislocationWarning), w
    assert "in 1 of 6 run(s)" in str(w[0].message) and "more than 20%" in str(w[0].message), str(w[0].message)
    assert "(worst 2500 bps)" in str(w[0].message), str(w[0].message)


CHECKS.check("run: Python equals CLI (crash, 2 policies x 3 seeds)", check_run_identity)
CHECKS.check("sweep: Python equals CLI (penalty x 2 policies x 2 seeds)", check_sweep_identity)
CHECKS.check("errors carry the CLI's messages", check_errors)
CHECKS.check("read() and compare()", check_read_and_compare)
CHECKS.check("the CLI's dislocation warning as a Python warning", check_dislocation_warning)
CHECKS.check("the GIL is released while running", check_gil_released)
CHECKS.check("Ctrl-C cancels with a partial file", check_interrupt)
status = CHECKS.summary()
shutil.rmtree(TMP, ignore_errors=True)  # its result files (60-80 MB a run) are not left in /tmp
sys.exit(status)
