"""The terminal table and --format csv|json of run, sweep and calibrate (issue #16 item 5).

Usage: /usr/bin/python3 test_cli_format.py <stresslab-binary> <source-dir>

- run, all 6 policies x 2 seeds of crash.json (900 steps): every line of the table is at most 100
  terminal columns, the policies are split into blocks (each repeating the metric and unit columns),
  every policy heads exactly one block, every metric row carries its unit, and each policy's mean
  bad debt / liquidated notional / mean slippage / notional-weighted slippage cell starts with the engineering-notation text of
  the mean of that policy's /summary values (formatted here independently: 4 significant digits,
  SI prefix per factor 1000).
- run --format csv / json: parse; the header is /summary's field list in order, and every value equals
  the file's value bitwise (csv: shortest round-trip text; json: null for NaN).
- sweep --format csv / json: the same with the param:* column.
- calibrate --format csv / json on a 2-cell, 2-penalty, 2-seed calibration: one row per cell, values
  equal the surface file's /calibration/optimal_* datasets.
- --format xml: exit 2 naming the allowed values.
"""

import csv
import io
import json
import math
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np
from harness import Checks, run

BIN, SRC = sys.argv[1], sys.argv[2]
CRASH = os.path.join(SRC, "scenarios", "crash.json")
ALL_POLICIES = ["market", "dutch", "batch", "socialized", "delta_neutral", "hierarchy"]
TMP = tempfile.mkdtemp(prefix="sl-format-")
CHECKS = Checks()


def eng(v):
    """Independent engineering notation: 4 significant digits, prefix per factor 1000."""
    if math.isnan(v):
        return "nan"
    if v == 0:
        return "0"
    a = abs(v)
    sign = "-" if v < 0 else ""
    if 1e-3 <= a < 1e3 and float(f"{a:.4g}") < 1e3:
        return sign + f"{a:.4g}"
    e = math.floor(math.log10(a) / 3)
    m = a / 10 ** (3 * e)
    if float(f"{m:.4g}") >= 1000:
        e, m = e + 1, m / 1000
    prefix = {1: " k", 2: " M", 3: " G", 4: " T", -2: " µ", -3: " n"}[e]
    return sign + f"{m:.4g}" + prefix


def same(a, b):
    return np.array(a, dtype=np.float64).tobytes() == np.array(b, dtype=np.float64).tobytes()


def fixed_width_lines(stdout):
    """Every line of a table output but those naming a file (their length is the path's): the first
    line (version, scenario or sweep file, timing) and the results/surface/runs lines."""
    return [x for x in stdout.splitlines()
            if not x.startswith(("stresslab ", "  results: ", "  surface: ", "  runs: "))]


def summary_of(path):
    with h5py.File(path, "r") as f:
        return f["summary"][()]


def check_eng_reference():
    # Hand values for the test's own formatter (the C++ one is compared against it below).
    assert eng(446500) == "446.5 k" and eng(1025000) == "1.025 M" and eng(12.5) == "12.5"
    assert eng(999.96) == "1 k" and eng(-0.00012) == "-120 µ" and eng(0) == "0"


def check_run_table():
    out = os.path.join(TMP, "six.h5")
    r = run([BIN, "run", CRASH, "--policy", ",".join(ALL_POLICIES), "--seeds", "2", "--set", "horizon_steps=900",
             "--threads", "2", "--out", out])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    widest = max(len(line) for line in fixed_width_lines(r.stdout))
    assert widest <= 100, f"a line of {widest} columns:\n" + "\n".join(x for x in lines if len(x) > 100)
    headers = [x for x in lines if x.startswith("metric: mean [95% CI]")]
    assert len(headers) >= 2, r.stdout  # 6 policies do not fit in one block of 100 columns
    seen = []
    for h in headers:
        seen += h.split()[5:]  # "metric: mean [95% CI]  unit  p1  p2 ..."
    assert seen == ALL_POLICIES, seen
    s = summary_of(out)
    pol = np.char.decode(s["policy"])
    for metric, label, unit in (("bad_debt", "bad debt", "USDT"), ("liquidated_notional", "liquidated notional", "USDT"),
                                ("mean_slippage_bps", "mean slippage", "bps"),
                                ("notional_slippage_bps", "  notional-weighted", "bps")):
        rows = [x for x in lines if x.startswith(label + " ")]
        assert len(rows) == len(headers), (label, rows)
        for block, (h, row) in enumerate(zip(headers, rows)):
            assert row[len("metric: mean [95% CI]  "):].split()[0] == unit, row
            for p in h.split()[5:]:
                v = s[metric][pol == p]
                v = v[np.isfinite(v)]
                want = eng(float(v.mean())) if len(v) else "n/a"
                assert want in row, (metric, p, want, row)
    # The paired differences from the first policy (sim/app/cmd_run.cpp): per other policy, the mean
    # over seeds of v_policy(seed) - v_market(seed), recomputed here from /summary.
    seeds = s["seed"]
    for metric, label in (("liquidated_notional", "liquidated notional"), ("mean_slippage_bps", "mean slippage")):
        rows = [x for x in lines if x.startswith("\u0394 " + label + " ")]
        assert len(rows) >= 1, (label, r.stdout)
        cells = " ".join(rows)
        for p in ALL_POLICIES[1:]:
            d = []
            for k in sorted(set(seeds[pol == p])):
                a = s[metric][(pol == p) & (seeds == k)][0]
                b = s[metric][(pol == "market") & (seeds == k)][0]
                if np.isfinite(a) and np.isfinite(b):
                    d.append(a - b)
            want = eng(float(np.mean(d))) if d else "n/a"
            assert want in cells, (metric, p, want, rows)
    print("     the table at 100 columns:\n" + "\n".join("     | " + x for x in lines))
    return out


def check_csv_json(cmd, out):
    r = run(cmd + ["--format", "csv"])
    assert r.returncode == 0, r.stderr
    s = summary_of(out)
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == list(s.dtype.names), (rows[0], s.dtype.names)
    assert len(rows) == 1 + len(s)
    for i, row in enumerate(rows[1:]):
        for name, text in zip(rows[0], row):
            kind = s.dtype[name].kind
            if kind == "S":
                assert text == s[name][i].decode(), (name, text)
            elif kind in "iu":
                assert int(text) == int(s[name][i]), (name, text)
            else:
                assert same(float(text), s[name][i]), (name, text, s[name][i])
    r = run(cmd + ["--format", "json"])
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    assert len(js) == len(s)
    for i, obj in enumerate(js):
        assert list(obj) == list(s.dtype.names), list(obj)
        for name, v in obj.items():
            kind = s.dtype[name].kind
            if kind == "S":
                assert v == s[name][i].decode()
            elif kind in "iu":
                assert v == int(s[name][i])
            elif v is None:
                assert not math.isfinite(s[name][i]), (name, s[name][i])
            else:
                assert same(v, s[name][i]), (name, v, s[name][i])
    return len(s) * len(s.dtype.names)


def check_run_formats():
    out = os.path.join(TMP, "fmt.h5")
    n = check_csv_json([BIN, "run", CRASH, "--policy", "market,dutch", "--seeds", "2", "--set", "horizon_steps=900",
                        "--threads", "2", "--out", out], out)
    print(f"     run csv/json: {n} values equal to /summary")


def check_sweep_formats():
    spec = {"base": CRASH, "grid": {"mode": "cartesian", "axes": [
        {"pointer": "/perp/liquidation/penalty_bps", "name": "penalty_bps", "values": [25, 100]}]},
        "policies": ["market"], "seeds": 2}
    path = os.path.join(TMP, "sweep.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    out = os.path.join(TMP, "sweep.h5")
    n = check_csv_json([BIN, "sweep", path, "--out", out, "--threads", "2", "--set", "horizon_steps=900"], out)
    print(f"     sweep csv/json: {n} values equal to /summary")
    r = run([BIN, "sweep", path, "--out", out, "--threads", "2", "--set", "horizon_steps=900"])
    assert r.returncode == 0 and max(len(x) for x in fixed_width_lines(r.stdout)) <= 100, r.stdout


def check_calibrate_formats():
    cal = {"name": "tiny", "scenario": CRASH, "set": ["horizon_steps=900"], "policy": "market", "seeds": 2,
           "lambda": 0.5, "penalty_bps": [25, 100],
           "axes": {"sigma": {"pointer": "/assets/0/reference/vol_calm_annual", "values": [0.4, 0.8]},
                    "depth": {"pointer": "/agents/market_makers/quote_size", "values": [0.3]},
                    "latency": {"pointer": "/agents/liquidators/latency_steps", "values": [1]}}}
    path = os.path.join(TMP, "cal.json")
    with open(path, "w") as fh:
        json.dump(cal, fh)
    out = os.path.join(TMP, "cal.h5")
    base = [BIN, "calibrate", path, "--out", out, "--threads", "2"]
    r = run(base + ["--format", "csv"])
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    r2 = run(base + ["--format", "json"])
    assert r2.returncode == 0, r2.stderr
    js = json.loads(r2.stdout)
    assert len(rows) == len(js) == 2
    with h5py.File(out, "r") as f:
        c = f["calibration"]
        for i, (row, obj) in enumerate(zip(rows, js)):
            assert float(row["sigma"]) == c["sigma"][i] and obj["sigma"] == row["sigma"]
            for col, ds in (("optimal_penalty_bps", "optimal_penalty_bps"), ("penalty_lo_bps", "optimal_penalty_lo_bps"),
                            ("penalty_hi_bps", "optimal_penalty_hi_bps"), ("j_mean", "optimal_objective_mean"),
                            ("j_lo", "optimal_objective_lo"), ("j_hi", "optimal_objective_hi")):
                want = c[ds][()].reshape(-1)[i]
                assert same(float(row[col]), want), (col, row[col], want)
                assert (obj[col] is None and not math.isfinite(want)) or same(obj[col], want), (col, obj[col], want)
    r3 = run(base)
    assert r3.returncode == 0 and max(len(x) for x in fixed_width_lines(r3.stdout)) <= 100, r3.stdout


def check_bad_format():
    r = run([BIN, "run", CRASH, "--format", "xml", "--out", os.path.join(TMP, "x.h5")])
    assert r.returncode == 2 and "--format xml: must be table, csv or json" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(TMP, "x.h5"))


CHECKS.check("test's engineering notation", check_eng_reference)
CHECKS.check("run: 6 policies within 100 columns, units, eng notation", check_run_table)
CHECKS.check("run --format csv|json equal /summary", check_run_formats)
CHECKS.check("sweep --format csv|json equal /summary", check_sweep_formats)
CHECKS.check("calibrate --format csv|json equal the surface file", check_calibrate_formats)
CHECKS.check("--format xml is bad input", check_bad_format)
status = CHECKS.summary()
shutil.rmtree(TMP, ignore_errors=True)  # its result files (about 5 MB a run) are not left in /tmp
sys.exit(status)
