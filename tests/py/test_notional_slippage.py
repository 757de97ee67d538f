"""The notional-weighted slippage metric (issue #12 reporting fix), against the events table.

Usage: /usr/bin/python3 test_notional_slippage.py <stresslab-binary> <source-dir>

Runs crash.json (900 steps, seed 3) under market, dutch and hierarchy and, for every run, recomputes
from its /runs/<id>/liquidations table, independently of the engine:
  - notional_slippage_bps = sum(q x mark x slippage_bps) / sum(q x mark), q = notional / price, over
    the liquidation events (policy_path neither "proactive" nor an ADL fill "...>deleveraged", price > 0);
    NaN when there are none;
  - mean_slippage_bps = the plain mean of slippage_bps over the same events (the per-event figure the
    weighted one sits next to);
and checks /summary holds both (relative 1e-12). It also requires that at least one run has events
of different sizes, so the two figures are not trivially the same number.
"""

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
POLICIES = ["market", "dutch", "hierarchy"]
TMP = tempfile.mkdtemp(prefix="sl-notional-slip-")
CHECKS = Checks()


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def check_against_events():
    out = os.path.join(TMP, "crash.h5")
    r = run([BIN, "run", CRASH, "--policy", ",".join(POLICIES), "--seed", "3", "--set", "horizon_steps=900",
             "--threads", "2", "--out", out])
    assert r.returncode == 0, r.stderr
    sized = 0
    with h5py.File(out, "r") as f:
        s = f["summary"][:]
        assert len(s) == len(POLICIES), len(s)
        for row in s:
            rid = row["run_id"].decode()
            ev = f["runs"][rid]["liquidations"][:]
            paths = np.char.decode(ev["policy_path"])
            liq = (paths != "proactive") & ~np.char.endswith(paths, ">deleveraged")
            assert float(row["liquidations"]) == float(np.sum(liq)), (row["policy"], row["liquidations"], np.sum(liq))
            ev = ev[liq & (ev["price"] > 0)]
            q_mark = ev["notional"] / ev["price"] * ev["mark"]
            want_w = float(np.sum(q_mark * ev["slippage_bps"]) / np.sum(q_mark)) if len(ev) else math.nan
            want_m = float(np.mean(ev["slippage_bps"])) if len(ev) else math.nan
            got_w, got_m = float(row["notional_slippage_bps"]), float(row["mean_slippage_bps"])
            assert close(got_w, want_w), (row["policy"], got_w, want_w)
            assert close(got_m, want_m), (row["policy"], got_m, want_m)
            if len(ev) and np.ptp(q_mark) > 0:
                sized += 1
            print(f"  {row['policy'].decode():10s} events {len(ev):5d}  mean {got_m:9.3f} bps"
                  f"  notional-weighted {got_w:9.3f} bps")
    assert sized > 0, "no run with events of different sizes: the weighting is not exercised"


try:
    CHECKS.check("notional_slippage_bps and mean_slippage_bps from the events table", check_against_events)
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(CHECKS.summary())
