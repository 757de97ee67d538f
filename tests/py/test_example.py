"""The worked example analysis/examples/policy_comparison.py runs and says what the files say.

Usage: PYTHONPATH=<build>/python /usr/bin/python3 test_example.py <stresslab-binary> <source-dir>

Runs the example with --seeds 2 --steps 900 --threads 2 into a temp dir, then checks: exit 0; the
figure is a PNG of the size the example asks for (11 x 4 in at 90 dpi = 990 x 360 px); policies.csv
has one row per policy whose mean bad debt and liquidated notional equal the means of that policy's
rows of policies.h5 (read here with h5py); penalty.csv has one row per penalty (25, 50, 100, 200) whose
mean penalties paid equals the mean over seeds of penalty.h5's rows with that param:penalty_bps, and
rises with the penalty (more penalty per liquidated notional; the crash liquidates in every run).
"""

import csv
import os
import struct
import sys
import tempfile

import h5py
import numpy as np
from harness import Checks, run

BIN, SRC = sys.argv[1], sys.argv[2]
EXAMPLE = os.path.join(SRC, "analysis", "examples", "policy_comparison.py")
OUT = tempfile.mkdtemp(prefix="sl-example-")
CHECKS = Checks()


def close(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def check_example():
    r = run(["/usr/bin/python3", EXAMPLE, "--seeds", "2", "--steps", "900", "--threads", "2", "--out", OUT],
            env=os.environ)
    print(r.stdout)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(OUT, "policy_comparison.png"), "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (990, 360), struct.unpack(">II", head[16:24])

    with h5py.File(os.path.join(OUT, "policies.h5"), "r") as f:
        s = f["summary"][()]
    pol = np.char.decode(s["policy"])
    with open(os.path.join(OUT, "policies.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [x["policy"] for x in rows] == ["market", "dutch", "batch"], rows
    for x in rows:
        sel = pol == x["policy"]
        assert sel.sum() == 2
        assert close(float(x["mean_bad_debt"]), s["bad_debt"][sel].mean()), x
        assert close(float(x["mean_liquidated"]), s["liquidated_notional"][sel].mean()), x

    with h5py.File(os.path.join(OUT, "penalty.h5"), "r") as f:
        s = f["summary"][()]
    pen = np.array([float(v) for v in np.char.decode(s["param:penalty_bps"])])
    with open(os.path.join(OUT, "penalty.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [float(x["penalty_bps"]) for x in rows] == [25, 50, 100, 200], rows
    for x in rows:
        sel = pen == float(x["penalty_bps"])
        assert sel.sum() == 2
        assert close(float(x["mean"]), s["penalties_paid"][sel].mean()), x
    means = [float(x["mean"]) for x in rows]
    assert all(a < b for a, b in zip(means, means[1:])), means


CHECKS.check("analysis/examples/policy_comparison.py", check_example)
sys.exit(CHECKS.summary())
