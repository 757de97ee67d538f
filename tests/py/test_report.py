"""Checks analysis/report.py on real `stresslab run` output.

Usage: /usr/bin/python3 test_report.py <stresslab-binary> <source-dir>

Runs `stresslab run <src>/scenarios/crash.json --set horizon_steps=900 --seeds 3 --policy market,batch
--threads 2` and a single run (horizon 720) into a temp dir, runs report.py on each and checks the PNGs,
index.html, and that summary.json's table equals numpy means of the /summary columns read independently
with h5py, with the bootstrap interval bracketing the mean; also the exit status 2 for a missing file and
for a file without /summary; the sweep section on a copy with a `param:` column added. Standalone (no pytest): prints each failure, then `N passed, M failed`; exits
non-zero on any failure.
"""

import base64
import json
import math
import os
import re
import shutil
import sys
import tempfile

import h5py
import numpy as np
from harness import Checks, run as harness_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POLICIES = ["market", "batch"]
SEEDS = 3
TABLE_METRICS = ["bad_debt", "underwater_equity_at_end", "flagged_at_end", "insurance_fund_min",
                 "liquidated_notional", "mean_slippage_bps", "notional_slippage_bps", "p95_slippage_bps", "cascade_amplification",
                 "adl_count", "penalties_paid", "liquidator_profit"]

CHECKS = Checks()
check = CHECKS.check


def run(cmd, **kw):
    return harness_run(cmd, timeout=120, **kw)


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# ------------------------------------------------------------------------------------------------------

def check_exit_ok(r, index):
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == index, r.stdout


def check_no_sweep(out):
    with open(os.path.join(out, "index.html"), encoding="utf-8") as fh:
        text = fh.read()
    assert "no <code>param:</code> columns" in text
    assert not any(n.startswith("sweep_") for n in os.listdir(out))


def check_pngs(out, names):
    for n in names:
        p = os.path.join(out, n)
        assert os.path.isfile(p), f"missing {p}"
        with open(p, "rb") as fh:
            data = fh.read()
        assert data[:8] == PNG_MAGIC, f"{n}: not a PNG"
        assert len(data) > 20000, f"{n}: only {len(data)} bytes"
        # IHDR: width and height big enough for a readable figure
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert w >= 800 and h >= 600, f"{n}: {w}x{h}"


def check_html(out, names):
    p = os.path.join(out, "index.html")
    assert os.path.isfile(p)
    with open(p, encoding="utf-8") as fh:
        text = fh.read()
    assert text.lstrip().lower().startswith("<!doctype html>")
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"\s+alt="[^"]*"\s+data-file="([^"]+)"',
                          text)
    files = {f: b for b, f in embedded}
    for n in names:
        assert n in files, f"index.html does not embed {n}"
        with open(os.path.join(out, n), "rb") as fh:
            assert base64.b64decode(files[n]) == fh.read(), f"embedded {n} differs from the file"
    # self-contained: no external images or scripts
    assert not re.search(r'<img[^>]+src="(?!data:)', text)
    assert "<script" not in text.lower()
    assert "<table" in text
    return text


def independent_summary(path):
    with h5py.File(path, "r") as f:
        s = f["summary"][:]
    return s, [x.decode() for x in s["policy"]]


def check_table(h5, out):
    with open(os.path.join(out, "summary.json")) as fh:
        js = json.load(fh)
    s, pol = independent_summary(h5)
    pol = np.array(pol)
    assert js["policies"] == POLICIES, js["policies"]
    assert js["n_runs"] == len(s) == len(POLICIES) * SEEDS
    assert js["bootstrap"]["resamples"] == 2000 and js["bootstrap"]["method"] == "percentile"
    for p in POLICIES:
        for m in TABLE_METRICS:
            cell = js["table"][p][m]
            v = s[m][pol == p].astype(np.float64)
            fv = v[np.isfinite(v)]
            assert cell["n"] == fv.size and cell["n_nonfinite"] == v.size - fv.size, (p, m, cell)
            if fv.size == 0:
                assert cell["mean"] is None
                continue
            mean = float(np.mean(fv))
            assert close(cell["mean"], mean), (p, m, cell["mean"], mean)
            if fv.size >= 2:
                lo, hi = cell["ci_low"], cell["ci_high"]
                tol = 1e-9 * max(1.0, abs(mean))
                assert lo is not None and hi is not None, (p, m, cell)
                assert lo - tol <= mean <= hi + tol, (p, m, lo, mean, hi)
                assert fv.min() - tol <= lo and hi <= fv.max() + tol, (p, m, lo, hi, fv)

    # Pooled amplification: the sum of liquidated over the sum of exogenous notional, recomputed here;
    # its bootstrap interval lies within the per-run ratios' range and contains the pooled value.
    for p in POLICIES:
        cell = js["pooled_cascade_amplification"][p]
        num = s["liquidated_notional"][pol == p].astype(np.float64)
        den = s["exogenous_liquidated_notional"][pol == p].astype(np.float64)
        ok = np.isfinite(num) & np.isfinite(den)
        assert cell["n"] == int(ok.sum()), (p, cell)
        if den[ok].sum() == 0:
            assert cell["value"] is None, (p, cell)
            continue
        pooled = float(num[ok].sum() / den[ok].sum())
        assert close(cell["value"], pooled), (p, cell["value"], pooled)
        if ok.sum() >= 2:
            ratios = num[ok & (den > 0)] / den[ok & (den > 0)]
            tol = 1e-9 * max(1.0, pooled)
            assert cell["ci_low"] - tol <= pooled <= cell["ci_high"] + tol, (p, cell)
            if ratios.size == ok.sum():
                assert ratios.min() - tol <= cell["ci_low"] and cell["ci_high"] <= ratios.max() + tol, (p, cell, ratios)


def check_reproducible(report, h5, out, tmp):
    out2 = os.path.join(tmp, "again")
    r = run([sys.executable, report, h5, "--out", out2])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "summary.json")) as a, open(os.path.join(out2, "summary.json")) as b:
        ja, jb = json.load(a), json.load(b)
    assert ja["table"] == jb["table"]


def check_single(binary, src, report, tmp):
    h5 = os.path.join(tmp, "one.h5")
    r = run([binary, "run", os.path.join(src, "scenarios", "crash.json"), "--set", "horizon_steps=720",
             "--out", h5])
    assert r.returncode == 0, r.stderr
    r = run([sys.executable, report, h5])  # default output directory next to the file
    assert r.returncode == 0, r.stderr
    out = os.path.join(tmp, "one_report")
    assert r.stdout.strip().splitlines()[-1] == os.path.join(out, "index.html"), r.stdout
    check_pngs(out, ["paths_market.png"])
    assert not os.path.exists(os.path.join(out, "distributions.png"))
    check_html(out, ["paths_market.png"])
    with open(os.path.join(out, "summary.json")) as fh:
        js = json.load(fh)
    with h5py.File(h5, "r") as f:
        s = f["summary"][:]
    assert js["n_runs"] == 1 and js["policies"] == ["market"]
    for m in TABLE_METRICS:
        x = float(s[m][0])
        cell = js["table"]["market"][m]
        assert cell["ci_low"] is None and cell["ci_high"] is None
        if math.isfinite(x):
            assert close(cell["mean"], x), (m, cell, x)
        else:
            assert cell["mean"] is None and cell["n_nonfinite"] == 1


def check_sweep(report, h5, tmp):
    """A sweep file (no engine support yet): /summary with a `param:` column added to a copy of the file."""
    sw = os.path.join(tmp, "sweep.h5")
    shutil.copy(h5, sw)
    with h5py.File(sw, "r+") as f:
        s = f["summary"][:]
        dt = np.dtype([(k, s.dtype.fields[k][0]) for k in s.dtype.names] + [("param:close_factor", "S64")])
        n = np.empty(s.shape, dt)
        for k in s.dtype.names:
            n[k] = s[k]
        n["param:close_factor"] = [b"0.5" if i % 2 else b"1" for i in range(len(s))]
        del f["summary"]
        f.create_dataset("summary", data=n)
    out = os.path.join(tmp, "sweep_rep")
    r = run([sys.executable, report, sw, "--out", out])
    assert r.returncode == 0, r.stderr
    check_pngs(out, ["sweep_close_factor.png"])
    check_html(out, ["sweep_close_factor.png"])
    with open(os.path.join(out, "summary.json")) as fh:
        js = json.load(fh)
    cell = js["sweep"]["close_factor"]["bad_debt"]["market"]
    assert cell["x"] == [0.5, 1.0], cell
    pol = np.array([x.decode() for x in n["policy"]])
    for j, x in enumerate([b"0.5", b"1"]):
        v = n["bad_debt"][(pol == "market") & (n["param:close_factor"] == x)]
        assert close(cell["mean"][j], float(np.mean(v))), (cell, v)


def check_errors(report, tmp):
    r = run([sys.executable, report, os.path.join(tmp, "does_not_exist.h5")])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "no such file" in r.stderr, r.stderr
    bad = os.path.join(tmp, "not_hdf5.h5")
    with open(bad, "w") as fh:
        fh.write("not an HDF5 file\n")
    r = run([sys.executable, report, bad])
    assert r.returncode == 2 and "cannot read" in r.stderr, (r.returncode, r.stderr)
    nosum = os.path.join(tmp, "nosummary.h5")
    with h5py.File(nosum, "w") as f:
        f.attrs["layout_version"] = np.int32(1)
        f.create_group("runs")
    r = run([sys.executable, report, nosum])
    assert r.returncode == 2 and "/summary" in r.stderr, (r.returncode, r.stderr)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    report = os.path.join(src, "analysis", "report.py")
    tmp = tempfile.mkdtemp(prefix="stresslab_report_")
    try:
        h5 = os.path.join(tmp, "cmp.h5")
        r = run([binary, "run", os.path.join(src, "scenarios", "crash.json"), "--set", "horizon_steps=900",
                 "--seeds", str(SEEDS), "--policy", ",".join(POLICIES), "--threads", "2", "--out", h5])
        if r.returncode != 0 or not os.path.isfile(h5):
            print(f"FAIL stresslab run (exit {r.returncode})\n{r.stderr}")
            sys.exit(CHECKS.summary(extra_failed=1))
        out = os.path.join(tmp, "rep")
        r = run([sys.executable, report, h5, "--out", out])
        check("report exits 0 and prints the output path", check_exit_ok, r, os.path.join(out, "index.html"))
        names = [f"paths_{p}.png" for p in POLICIES] + ["distributions.png"]
        check("PNG figures exist and are non-trivial", check_pngs, out, names)
        check("index.html embeds every figure", check_html, out, names)
        check("index.html says there is no sweep", check_no_sweep, out)
        check("summary.json table matches /summary (mean, n, bootstrap interval)", check_table, h5, out)
        check("bootstrap is reproducible", check_reproducible, report, h5, out, tmp)
        check("parameter sweep section", check_sweep, report, h5, tmp)
        check("single-run file", check_single, binary, src, report, tmp)
        check("error exit 2 (missing, not HDF5, no /summary)", check_errors, report, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(CHECKS.summary())


if __name__ == "__main__":
    main()
