#!/usr/bin/python3
"""analysis/funding_vs_real.py on a hand-built results file whose answer is computed by hand.

    /usr/bin/python3 tests/py/test_funding_vs_real.py <stresslab binary> <source dir>

The file holds three `market` runs and one `dutch` run (layout_version 1: /summary with run_id and
policy, /runs/<id>/series/time_s and funding_rate). The replay starts at 2020-03-11 00:00 UTC
(1583884800000 ms), recorded every hour for 40 h, so the real settlements compared are +8, +16, +24,
+32 and +40 h (03-11 08:00 ... 03-12 16:00); the real file's +40 h row (03-12 16:00) is its first
negative one.
"""

import csv
import os
import sys
import tempfile

import h5py
import numpy as np

from harness import Checks

src = sys.argv[2]
sys.path.insert(0, os.path.join(src, "analysis"))
import funding_vs_real as F  # noqa: E402

START_MS = 1583884800000
H = 3_600_000


def write_inputs(d):
    klines = os.path.join(d, "k.csv")
    with open(klines, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["open_time_ms", "open", "high", "low", "close", "volume"])
        w.writerow([START_MS, 1, 1, 1, 1, 1])
    funding = os.path.join(d, "f.csv")
    with open(funding, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["funding_time_ms", "funding_interval_hours", "funding_rate"])
        w.writerow([START_MS - 16 * H, 8, 0.0001])       # before the replay: not compared
        w.writerow([START_MS + 8 * H, 8, 0.0001])
        w.writerow([START_MS + 16 * H + 3, 8, 0.0002])   # stamped 3 ms late, as Binance does
        w.writerow([START_MS + 24 * H, 8, -0.0005])      # first real negative
        w.writerow([START_MS + 32 * H, 8, -0.003])       # the cap
        w.writerow([START_MS + 40 * H, 8, -0.0004])
        w.writerow([START_MS + 48 * H, 8, -0.0004])      # past the simulated 40 h: not compared
    # Settled rate of each run at +8, +16, +24, +32, +40 h (series value at the row of that hour).
    runs = {
        "r0": ("market", [1e-4, 1e-4, -2e-4, 1e-4, -0.003]),
        "r1": ("market", [1e-4, 3e-4, 1e-4, -0.003, -0.003]),
        "r2": ("market", [1e-4, -1e-4, -0.003, 2e-4, 1e-4]),
        "r3": ("dutch", [-1e-4, -1e-4, -1e-4, -1e-4, -1e-4]),
    }
    res = os.path.join(d, "r.h5")
    with h5py.File(res, "w") as f:
        f.attrs["layout_version"] = 1
        summ = np.array([(k.encode(), i, v[0].encode(), 1 + i) for i, (k, v) in enumerate(runs.items())],
                        dtype=[("run_id", "S8"), ("run_index", "<i8"), ("policy", "S16"), ("seed", "<u8")])
        f.create_dataset("summary", data=summ)
        for k, (_, settled) in runs.items():
            t = np.arange(0, 41) * 3600.0          # rows at 0 h .. 40 h
            fr = np.full(t.shape, 1e-4)
            for j, h in enumerate((8, 16, 24, 32, 40)):
                fr[h:] = settled[j]                # the rate settled at h holds until the next one
            g = f.create_group(f"runs/{k}/series")
            g.create_dataset("time_s", data=t)
            g.create_dataset("funding_rate", data=fr)
    return res, funding, klines


def check_market(res, funding, klines):
    c = F.compare(res, "market", funding, klines)
    assert c["seeds"] == 3
    assert [r["time_utc"] for r in c["rows"]] == ["2020-03-11 08:00", "2020-03-11 16:00", "2020-03-12 00:00",
                                                  "2020-03-12 08:00", "2020-03-12 16:00"], c["rows"]
    # Medians by hand: +8 h {1,1,1}e-4 -> 1e-4; +16 h {1,3,-1}e-4 -> 1e-4; +24 h {-2,1,-30}e-4 -> -2e-4;
    # +32 h {1,-30,2}e-4 -> 1e-4; +40 h {-30,-30,1}e-4 -> -30e-4.
    want = [1e-4, 1e-4, -2e-4, 1e-4, -0.003]
    got = [r["sim_median"] for r in c["rows"]]
    assert np.allclose(got, want, rtol=0, atol=1e-15), got
    assert c["rows"][2]["sim_min"] == -0.003 and c["rows"][2]["sim_max"] == 1e-4
    # From the first real negative (+24 h): signs real (-,-,-) against median (-,+,-): 2 of 3.
    assert (c["signs_right"], c["signs_compared"]) == (2, 3), c
    # The cap: real at +32 h (03-12 08:00); the median first at +40 h (03-12 16:00).
    assert c["real_cap_first"] == "2020-03-12 08:00" and c["sim_median_cap_first"] == "2020-03-12 16:00"


def check_other_policy(res, funding, klines):
    c = F.compare(res, "dutch", funding, klines)
    assert c["seeds"] == 1 and (c["signs_right"], c["signs_compared"]) == (3, 3)
    assert c["sim_median_cap_first"] is None


def check_cli(res, funding, klines):
    import subprocess
    script = os.path.join(src, "analysis", "funding_vs_real.py")
    p = subprocess.run(["/usr/bin/python3", script, res, "--funding", funding, "--klines", klines],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "signs right from the first real negative: 2 of 3" in p.stdout, p.stdout
    p = subprocess.run(["/usr/bin/python3", script, res, "--policy", "batch", "--funding", funding,
                        "--klines", klines], capture_output=True, text=True)
    assert p.returncode == 2 and "no run with policy 'batch'" in p.stderr and p.stdout == "", (p.stdout, p.stderr)


def main():
    checks = Checks()
    with tempfile.TemporaryDirectory() as d:
        args = write_inputs(d)
        checks.check("market: medians, signs and cap timing by hand", check_market, *args)
        checks.check("another policy in the same file", check_other_policy, *args)
        checks.check("CLI table and exit 2 on a missing policy", check_cli, *args)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
