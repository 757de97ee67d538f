"""Checks `stresslab calibrate` and analysis/calibration.py on a surface made in the test.

Usage: /usr/bin/python3 test_calibration.py <stresslab-binary> <source-dir>

Writes a tiny calibration of scenarios/crash.json (700 steps, 50 noise traders, 150 leveraged traders;
sigma 0.3 / 1.2, penalty 0 / 50 / 400 bps, maintenance margin 40 / 50 bps, 3 seeds = 36 runs), runs it
with --threads 2 and --threads 1, and checks: the runs file is a plain results file with one /summary
row per run and its param: columns; the surface's objective means, per-seed objectives and optimal
penalty / margin equal what numpy computes from the runs file's /summary columns (matched by their
param: values, not by position); the surface does not depend on the thread count; calibration.py
writes its PNGs and its surface.json and printed table hold the file's numbers; bad calibration
files and options exit 2 with the exact message and leave no file. Standalone (no pytest): prints
each failure, then `N passed, M failed`; exits non-zero on any failure.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from harness import Checks, run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAMBDA = 0.5
SIGMAS = [0.3, 1.2]
PENALTIES = [0.0, 50.0, 400.0]
MMRS = [40.0, 50.0]
SEEDS = 3
FIRST_SEED = 5

CHECKS = Checks()
check = CHECKS.check




def calibration(src, **override):
    c = {"name": "tiny", "scenario": os.path.join(src, "scenarios", "crash.json"),
         "set": ["horizon_steps=700", "agents.noise_traders.count=50", "agents.leveraged_traders.count=150"],
         "seeds": SEEDS, "first_seed": FIRST_SEED, "lambda": LAMBDA, "penalty_bps": [0, 50, 400],
         "maintenance_margin_bps": {"values": [40, 50]},
         "axes": {"sigma": {"values": [0.3, 1.2]}}, "bootstrap": {"resamples": 500}}
    c.update(override)
    return c


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh)


def dec(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------------------------------------

def check_runs_file(runs):
    with h5py.File(runs, "r") as f:
        s = f["summary"][:]
        assert len(s) == len(SIGMAS) * len(PENALTIES) * len(MMRS) * SEEDS, len(s)
        names = s.dtype.names
        for p in ("param:sigma", "param:depth", "param:latency", "param:penalty_bps", "param:mmr_bps"):
            assert p in names, names
        assert sorted({float(dec(v)) for v in s["param:sigma"]}) == SIGMAS
        assert sorted({float(dec(v)) for v in s["param:penalty_bps"]}) == PENALTIES
        assert sorted({int(v) for v in s["seed"]}) == list(range(FIRST_SEED, FIRST_SEED + SEEDS))
        assert set(dec(v) for v in s["policy"]) == {"market"}
        assert len(f["runs"]) == len(s)


def objectives_from_runs(runs):
    """{(sigma, mmr, penalty): {seed: J}} from the runs file's summary columns."""
    out = {}
    with h5py.File(runs, "r") as f:
        s = f["summary"][:]
    for row in s:
        key = (float(dec(row["param:sigma"])), float(dec(row["param:mmr_bps"])), float(dec(row["param:penalty_bps"])))
        J = (row["bad_debt"] + row["underwater_equity_at_end"] + row["insurance_fund_drawdown"]
             + LAMBDA * (row["penalties_paid"] + row["slippage_cost"]))
        out.setdefault(key, {})[int(row["seed"])] = float(J)
    return out


def check_surface_matches_runs(surface, runs):
    J = objectives_from_runs(runs)
    with h5py.File(surface, "r") as f:
        g = f["calibration"]
        assert list(g["sigma"][:]) == SIGMAS
        assert list(g["penalty_bps"][:]) == PENALTIES
        assert list(g["mmr_bps"][:]) == MMRS
        assert g["mmr_bps"].attrs["swept"] == 1
        assert g["objective_mean"].shape == (2, 1, 1, 2, 3)
        assert g["objective_seeds"].shape == (2, 1, 1, 2, 3, SEEDS)
        assert abs(float(g.attrs["lambda"]) - LAMBDA) < 1e-15
        assert dec(f.attrs["runs_file"]) == os.path.basename(runs)
        seeds = list(g["seed"][:])
        assert seeds == list(range(FIRST_SEED, FIRST_SEED + SEEDS))
        some_difference = False
        for i, sig in enumerate(SIGMAS):
            means = np.zeros((len(MMRS), len(PENALTIES)))
            for m, mmr in enumerate(MMRS):
                for q, pen in enumerate(PENALTIES):
                    per_seed = [J[(sig, mmr, pen)][sd] for sd in seeds]
                    np.testing.assert_allclose(g["objective_seeds"][i, 0, 0, m, q], per_seed, rtol=1e-12)
                    means[m, q] = np.mean(per_seed)
                    np.testing.assert_allclose(g["objective_mean"][i, 0, 0, m, q], means[m, q], rtol=1e-12)
                    lo, hi = g["objective_lo"][i, 0, 0, m, q], g["objective_hi"][i, 0, 0, m, q]
                    assert lo <= means[m, q] + 1e-9 <= hi + 2e-9, (lo, means[m, q], hi)
            m_best, q_best = np.unravel_index(np.argmin(means), means.shape)  # first minimum, as the tool
            assert g["optimal_penalty_bps"][i, 0, 0] == PENALTIES[q_best], (g["optimal_penalty_bps"][i, 0, 0], means)
            assert g["optimal_mmr_bps"][i, 0, 0] == MMRS[m_best]
            assert g["optimal_penalty_lo_bps"][i, 0, 0] <= g["optimal_penalty_bps"][i, 0, 0] <= g["optimal_penalty_hi_bps"][i, 0, 0]
            np.testing.assert_allclose(g["optimal_objective_mean"][i, 0, 0], means.min(), rtol=1e-12)
            assert g["near_optimal"][i, 0, 0, m_best, q_best] == 1
            np.testing.assert_allclose(g["argmin_share"][i, 0, 0].sum(), 1.0)
            some_difference |= bool(means.max() > 1.001 * means.min())
        assert some_difference, "the penalty/margin grid changes nothing: the test would not discriminate"


def check_quiet(r):
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", r.stdout


def check_thread_invariance(s1, s2):
    with h5py.File(s1, "r") as a, h5py.File(s2, "r") as b:
        for k in a["calibration"]:
            np.testing.assert_array_equal(a["calibration"][k][()], b["calibration"][k][()], err_msg=k)


def check_pngs(out, names):
    for n in names:
        p = os.path.join(out, n)
        with open(p, "rb") as fh:
            data = fh.read()
        assert data[:8] == PNG_MAGIC, f"{n}: not a PNG"
        assert len(data) > 15000, f"{n}: only {len(data)} bytes"
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert w >= 500 and h >= 300, (n, w, h)


def check_plot_outputs(r, surface, out):
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == out, lines[-1]
    check_pngs(out, ["objective_vs_penalty.png", "optimal_penalty.png", "optimal_penalty_lines.png",
                     "lambda_sensitivity.png"])
    with open(os.path.join(out, "surface.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    with h5py.File(surface, "r") as f:
        g = f["calibration"]
        assert doc["lambda"] == float(g.attrs["lambda"])
        assert doc["penalty_bps"] == PENALTIES
        assert len(doc["cells"]) == 2
        for i, cell in enumerate(doc["cells"]):
            assert cell["sigma"] == SIGMAS[i]
            assert cell["optimal_penalty_bps"] == float(g["optimal_penalty_bps"][i, 0, 0])
            assert cell["optimal_penalty_lo_bps"] == float(g["optimal_penalty_lo_bps"][i, 0, 0])
            assert cell["optimal_penalty_hi_bps"] == float(g["optimal_penalty_hi_bps"][i, 0, 0])
            assert cell["optimal_mmr_bps"] == float(g["optimal_mmr_bps"][i, 0, 0])
            assert cell["objective_mean"] == float(g["optimal_objective_mean"][i, 0, 0])
            m = MMRS.index(cell["optimal_mmr_bps"])
            near = [p for p, ok in zip(PENALTIES, g["near_optimal"][i, 0, 0, m]) if ok]
            assert cell["near_optimal_penalties_bps"] == near
            # The printed row: sigma, depth, latency, "opt [lo, hi]", margin, J at the optimum.
            row = [ln for ln in lines if ln.split()[:1] == [f"{SIGMAS[i]:g}"]]
            assert len(row) == 1, lines
            expect = (f"{cell['optimal_penalty_bps']:g} [{cell['optimal_penalty_lo_bps']:g}, "
                      f"{cell['optimal_penalty_hi_bps']:g}]")
            assert expect in row[0], (expect, row[0])
            assert f"{cell['objective_mean']:.4g} [" in row[0], row[0]
        # Lambda sensitivity: at the file's lambda it reproduces the tool's optimum; at lambda 0 and 2
        # it is the argmin of the component means recombined here.
        sens = doc["lambda_sensitivity"]
        for i, per_cell in enumerate(sens["optimal_penalty_bps"]):
            assert per_cell["sigma"] == SIGMAS[i]
            for lam in (0.0, LAMBDA, 2.0):
                j = sens["lambda"].index(lam)
                loss = g["bad_debt_mean"][i, 0, 0] + g["unrealised_bad_debt_mean"][i, 0, 0] + g["fund_drawdown_mean"][i, 0, 0]
                user = g["penalties_paid_mean"][i, 0, 0] + g["slippage_cost_mean"][i, 0, 0]
                m, q = np.unravel_index(np.argmin(loss + lam * user), loss.shape)
                assert per_cell["values"][j] == PENALTIES[q], (lam, per_cell["values"][j], PENALTIES[q])
                if lam == LAMBDA:
                    assert PENALTIES[q] == float(g["optimal_penalty_bps"][i, 0, 0])


def check_bad_inputs(binary, src, tmp):
    d = os.path.join(tmp, "bad")
    os.makedirs(d)
    cases = []
    c = calibration(src)
    del c["lambda"]
    cases.append((c, "lambda: required field is missing"))
    cases.append((calibration(src, seeds=1), "seeds: must be an integer in [2, 10000], got 1"))
    cases.append((calibration(src, penalty_bps=[0, 50, 50]), "penalty_bps[2]: values must be strictly increasing, got 50 after 50"))
    cases.append((calibration(src, axes={"latency": {"values": [-1]}}),
                  "axes.latency.values[0]: -1 is rejected by the scenario:"))
    for n, (cal, msg) in enumerate(cases):
        path = os.path.join(d, f"c{n}.json")
        write_json(path, cal)
        out = os.path.join(d, f"o{n}.h5")
        r = run([binary, "calibrate", path, "--out", out, "--threads", "1"])
        assert r.returncode == 2, (n, r.returncode, r.stderr)
        first = r.stderr.splitlines()[0]
        assert first == f"error: {path}: {msg}", first
    assert sorted(os.listdir(d)) == sorted(f"c{n}.json" for n in range(len(cases))), os.listdir(d)
    # Options.
    good = os.path.join(d, "c_good.json")
    write_json(good, calibration(src))
    r = run([binary, "calibrate", good, "--threads", "-1", "--out", os.path.join(d, "x.h5")])
    assert r.returncode == 2 and r.stderr.strip() == "error: --threads -1: must be in [0, 1024]", r.stderr
    r = run([binary, "calibrate", good, "--out", os.path.join(d, "no_dir", "x.h5")])
    assert r.returncode == 2 and "does not exist" in r.stderr, r.stderr
    assert sorted(os.listdir(d)) == sorted([f"c{n}.json" for n in range(len(cases))] + ["c_good.json"])


def check_plot_errors(script, runs, tmp):
    r = run([sys.executable, script, os.path.join(tmp, "missing.h5")])
    assert r.returncode == 2 and "no such file" in r.stderr, r.stderr
    r = run([sys.executable, script, runs, "--out", os.path.join(tmp, "x")])
    assert r.returncode == 2 and "no /calibration group" in r.stderr, r.stderr


def check_interrupt_resume(binary, src, tmp):
    """SIGINT mid-calibration keeps the finished runs (exit 130, no surface file); --resume does only
    the rest and gives the same runs file and surface as an uninterrupted calibration (h5diff, root
    attributes excluded). Longer runs than the other checks, so the interrupt lands mid-way."""
    import signal
    import time
    cal = os.path.join(tmp, "long.json")
    c = calibration(src, seeds=4)
    c["set"] = [x for x in c["set"] if not x.startswith("horizon_steps")] + ["horizon_steps=2400"]
    write_json(cal, c)
    surface = os.path.join(tmp, "long_full.h5")
    r = run([binary, "calibrate", cal, "--threads", "2", "--out", surface, "--quiet"])
    assert r.returncode == 0, r.stderr
    out = os.path.join(tmp, "resumed.h5")
    parts = os.path.join(tmp, "resumed.runs.h5.parts")
    p = subprocess.Popen([binary, "calibrate", cal, "--threads", "1", "--out", out, "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:  # interrupt once a few runs are checkpointed
        if os.path.isdir(parts) and sum(f.endswith(".seg") for f in os.listdir(parts)) >= 3:
            break
        time.sleep(0.02)
    assert p.poll() is None, "calibration finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    assert not os.path.exists(out), "a surface file after an interrupted calibration"
    assert "--resume" in err, err
    r = run([binary, "calibrate", cal, "--threads", "2", "--out", out, "--resume", "--quiet"])
    assert r.returncode == 0, r.stderr
    for a, b in ((surface, out), (surface.replace(".h5", ".runs.h5"), out.replace(".h5", ".runs.h5"))):
        d = run(["h5diff", "--exclude-attribute", "/", a, b])
        assert d.returncode == 0, (a, b, d.stdout[:400], d.stderr[:400])
    assert not os.path.exists(parts), "parts dir left after a complete resume"


def main():
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    script = os.path.join(src, "analysis", "calibration.py")
    tmp = tempfile.mkdtemp(prefix="stresslab_calib_")
    try:
        cal = os.path.join(tmp, "tiny.json")
        write_json(cal, calibration(src))
        surface = os.path.join(tmp, "tiny.h5")
        runs = os.path.join(tmp, "tiny.runs.h5")
        r = run([binary, "calibrate", cal, "--threads", "2", "--out", surface])
        if r.returncode != 0 or not os.path.isfile(surface):
            print(f"FAIL stresslab calibrate (exit {r.returncode})\n{r.stdout}\n{r.stderr}")
            sys.exit(CHECKS.summary(extra_failed=1))
        check("runs file: one /summary row per run with param: columns", check_runs_file, runs)
        check("surface equals numpy on the runs file (means, per seed, argmin)", check_surface_matches_runs, surface, runs)
        surface1 = os.path.join(tmp, "tiny1.h5")
        r1 = run([binary, "calibrate", cal, "--threads", "1", "--out", surface1, "--quiet"])
        check("--quiet prints nothing", check_quiet, r1)
        check("surface identical with 1 and 2 threads", check_thread_invariance, surface, surface1)
        out = os.path.join(tmp, "fig")
        rp = run([sys.executable, script, surface, "--out", out])
        check("calibration.py: PNGs, surface.json and table match the file", check_plot_outputs, rp, surface, out)
        check("calibration.py: exit 2 for a missing file or a file without /calibration", check_plot_errors, script, runs, tmp)
        check("bad calibration files and options: exit 2, exact message, no file", check_bad_inputs, binary, src, tmp)
        check("SIGINT keeps finished runs; --resume gives the same surface and runs file", check_interrupt_resume,
              binary, src, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(CHECKS.summary())


if __name__ == "__main__":
    main()
