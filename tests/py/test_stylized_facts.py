#!/usr/bin/python3
"""Stylized facts of the calm scenario's 1-minute returns, and proof that the thresholds discriminate.

    /usr/bin/python3 tests/py/test_stylized_facts.py <stresslab binary> <source dir>

1. Runs `stresslab run scenarios/calm.json` for 48 simulated hours at 1-second steps (recording every
   10 s: 2879 one-minute returns of spot_mid) and asserts, with analysis/stylized_facts.py:
     heavy tails         excess kurtosis > 3, and > 1.5 after trimming the 0.5% largest |r|
     no linear memory    max |ACF(r)| at lags 3..10 < 0.1
     vol clustering      ACF(|r|) lag 1 > 0.1, lag 10 > 0.05, decaying (lag 1 > lag 10 > lag 50),
                         sum of ACF(|r|) over lags 1..20 > 1
     liquidity           corr(rolling 30-bar realized vol, mean spread) > 0.3 and with mean 1% depth < -0.3
     plausible calm      annualized vol of the mid in [0.4, 0.8]
1b. Runs the same with calm.json as it was before issue #14 switched it (makers on 0.5 x reference +
   0.5 x own mid, inventory skew 5 bps, no withdrawal, best-level arbitrageurs, an index of the own
   spot book alone: the --set overrides BEFORE_SWITCH_SETS, whose series equal the old file's) and asserts the same calm facts, so the reference makers' code
   path keeps its calm behaviour too.
2. Runs the same with a plain GBM reference (no regime switching, no jumps) and asserts it FAILS the
   heavy-tail and clustering thresholds, so the thresholds are not met by any market model.
3. Runs the script on the real hourly kline file data/btcusdt_perp_1h_*.csv (CSV input path only; no
   thresholds: it is the March 2020 crash window), and the CLI (table + --json) on all three inputs.

Threshold notes (measured over 10 seeds each, 2879 returns per run; calm.json switched to the
issue-#14 makers, sweeping arbitrageurs and outside_weight 0.5, /tmp/tab12/stresslab at 5490d0b):
  * Excess kurtosis: the calm scenario gives 6.7-12.9 (seeds 42-51; 5.6-15.6 over seeds 42-91); plain
    GBM 1.1-2.0 (before the switch 0.6-1.0: the book's discreteness alone adds ~1). An isolated book
    sweep and its reversal (a one-sided book for a few seconds) can lift the raw kurtosis of a GBM run
    far above that (20-40 on 3 of 10 seeds, measured before the switch). So the GBM run is judged on
    the trimmed kurtosis (calm 4.4-6.6, GBM 0.59-1.21; before the switch calm 3.4-5.2, GBM 0.12-0.36),
    which such isolated spikes do not move; the raw kurtosis is asserted only for the calm run.
  * ACF(r) beyond lag 2: |ACF| is at most 0.021-0.087 for the calm run (seeds 42-51; over seeds 42-91
    49 of 50 below 0.1, seed 87 at 0.102). The 2/sqrt(n) = 0.037 band assumes iid returns; with
    volatility clustering the standard error of a sample autocorrelation is inflated (Bartlett's
    formula with sum of ACF(r^2)), so the 0.1 bound (about 2.7 plain standard errors) is used.
    Lag 1-2 are excluded: the makers price off the index (half the outside venues, i.e. the
    reference, half the own spot mid) and both books, so the mid follows the reference with a short
    lag (ACF(r) lag 1 -0.005 to 0.135; 0.08-0.18 before the switch, makers on 0.5 x reference).
  * ACF(|r|): calm lag 1 0.28-0.41 (0.42 before fix13, seed 51), lag 10 0.11-0.31, sum 1..20 2.6-5.7; GBM lag 1 0.05-0.13, lag 10
    -0.015 to 0.082, sum 1..20 -0.03 to 1.17. Seed 44's GBM run passes the two clustering thresholds
    (lag 10 0.082, sum 1.17; it still fails heavy tails, trimmed kurtosis 1.03): the switched makers
    add a little clustering to a GBM reference (before the switch GBM lag 10 <= 0.052, sum <= 0.29;
    not traced; their pull rules never fire under GBM, tests/test_engine_sim.cpp). The test runs seed 42 (GBM lag 10 -0.006, sum 0.16).
    Lag 1 alone is not a discriminator: a sweep-and-revert pair gives a GBM run lag 1 up to 0.2.
  * Liquidity and vol: corr(vol, spread) 0.72-0.92, corr(vol, depth) -0.95 to -0.90, annualized vol
    0.51-0.75 (seeds 42-51). Over seeds 42-91 every seed passes every calm threshold but seed 87
    (max |ACF(r)| lags 3..10 0.102). Before the switch, with calm.json's makers replaced by
    crash_endogenous.json's alone (index of the own book, best-level arbitrageurs), seed 44 failed
    corr(vol, spread) (-0.17: its books drifted 0.4-2.9% below the reference from hour 32); with the
    whole switch it passes (0.74).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from harness import Checks

SEED = 42
HORIZON = 172800          # 48 h at dt_s = 1
RECORD_EVERY = 10         # sample every 10 s
BAR_S = 60.0
REAL_CSV = os.path.join("data", "btcusdt_perp_1h_2020-03-11_2020-03-16.csv")
GBM_SETS = ["assets.0.reference.p_calm_to_stress_per_hour=0", "assets.0.reference.jump_intensity_per_day=0"]
# calm.json before issue #14 switched it (5490d0b): reference-anchored makers without withdrawal,
# best-level arbitrageurs, the index from the own spot book alone.
BEFORE_SWITCH_SETS = ["agents.market_makers.fair_value=reference", "agents.market_makers.withdrawal.enabled=false",
                      "agents.market_makers.inventory_skew_bps=5",
                      "agents.arbitrageurs.sweep_levels=false", "perp.oracle.outside_weight=0"]

# Thresholds (see the module docstring).
KURT_MIN = 3.0
KURT_TRIM_MIN = 1.5
ACF_R_MAX = 0.1
ABS1_MIN = 0.1
ABS10_MIN = 0.05
ABS_SUM_MIN = 1.0
CORR_SPREAD_MIN = 0.3
CORR_DEPTH_MAX = -0.3
VOL_RANGE = (0.4, 0.8)

CHECKS = Checks()
check = CHECKS.check


class Ctx:
    binary = None
    srcdir = None
    tmpdir = None
    SF = None
    calm = None
    gbm = None
    visible = None
    real = None
    calm_h5 = None
    gbm_h5 = None
    times = {}


def run(tag, extra_sets):
    scenario = os.path.join(Ctx.srcdir, "scenarios", "calm.json")
    out = os.path.join(Ctx.tmpdir, f"{tag}.h5")
    cmd = [Ctx.binary, "run", scenario, "--out", out, "--seed", str(SEED), "--quiet",
           "--set", f"horizon_steps={HORIZON}", "--set", f"output.record_every_steps={RECORD_EVERY}"]
    for s in extra_sets:
        cmd += ["--set", s]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    Ctx.times[tag] = time.monotonic() - t0
    assert proc.returncode == 0, (f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}"
                                  f"\nstderr:\n{proc.stderr[-2000:]}")
    assert os.path.isfile(out), f"{out} not written"
    return out


def setup():
    sys.path.insert(0, os.path.join(Ctx.srcdir, "analysis"))
    import stylized_facts  # noqa: E402

    Ctx.SF = stylized_facts


def run_calm():
    Ctx.calm_h5 = run("calm", [])
    Ctx.calm = Ctx.SF.analyse_file(Ctx.calm_h5, bar_s=BAR_S)
    assert Ctx.calm["n_returns"] == HORIZON // int(BAR_S) - 1, f"n_returns {Ctx.calm['n_returns']}"


def switched_file():
    """calm.json runs the issue-#14 switch (the crash family's makers, sweeping arbitrageurs, w 0.5)."""
    with open(os.path.join(Ctx.srcdir, "scenarios", "calm.json")) as fh:
        d = json.load(fh)
    mm = d["agents"]["market_makers"]
    assert mm["fair_value"] == "visible" and mm["withdrawal"]["enabled"] is True, mm
    assert d["agents"]["arbitrageurs"]["sweep_levels"] is True and d["perp"]["oracle"]["outside_weight"] == 0.5


def run_visible():
    h5 = run("before_switch", BEFORE_SWITCH_SETS)
    Ctx.visible = Ctx.SF.analyse_file(h5, bar_s=BAR_S)
    assert Ctx.visible["n_returns"] == HORIZON // int(BAR_S) - 1


def visible_calm_facts():
    """The calm facts of calm.json before the switch: the same thresholds as the shipped file's."""
    saved = Ctx.calm
    try:
        Ctx.calm = Ctx.visible
        calm_heavy_tails()
        calm_no_linear_autocorrelation()
        calm_volatility_clustering()
        calm_liquidity_follows_vol()
        calm_plausible_vol()
    finally:
        Ctx.calm = saved


def run_gbm():
    Ctx.gbm_h5 = run("gbm", GBM_SETS)
    Ctx.gbm = Ctx.SF.analyse_file(Ctx.gbm_h5, bar_s=BAR_S)
    assert Ctx.gbm["n_returns"] == Ctx.calm["n_returns"]


# ---- the facts, as predicates (so the GBM run can be shown to fail the same ones) ----


def heavy_tails(s):
    return s["excess_kurtosis_trim"] > KURT_TRIM_MIN


def clustering(s):
    a = s["acf_abs"]
    return a[10] > ABS10_MIN and s["acf_abs_sum_1_20"] > ABS_SUM_MIN


def calm_heavy_tails():
    s = Ctx.calm
    assert s["excess_kurtosis"] > KURT_MIN, f"excess kurtosis {s['excess_kurtosis']:.3f} <= {KURT_MIN}"
    assert s["excess_kurtosis_trim"] > KURT_TRIM_MIN, f"trimmed excess kurtosis {s['excess_kurtosis_trim']:.3f} <= {KURT_TRIM_MIN}"


def calm_no_linear_autocorrelation():
    s = Ctx.calm
    assert s["max_abs_acf_r_3_10"] < ACF_R_MAX, f"max |ACF(r)| lags 3..10 = {s['max_abs_acf_r_3_10']:.3f}: {s['acf_r']}"


def calm_volatility_clustering():
    a, s = Ctx.calm["acf_abs"], Ctx.calm
    assert a[1] > ABS1_MIN, f"ACF(|r|) lag 1 = {a[1]:.3f} <= {ABS1_MIN}"
    assert a[10] > ABS10_MIN, f"ACF(|r|) lag 10 = {a[10]:.3f} <= {ABS10_MIN}"
    assert a[1] > a[10] > a[50], f"ACF(|r|) not decaying: lag 1 {a[1]:.3f}, 10 {a[10]:.3f}, 50 {a[50]:.3f}"
    assert s["acf_abs_sum_1_20"] > ABS_SUM_MIN, f"sum ACF(|r|) 1..20 = {s['acf_abs_sum_1_20']:.3f}"
    assert clustering(s) and heavy_tails(s)


def calm_liquidity_follows_vol():
    s = Ctx.calm
    assert s["corr_vol_spread"] > CORR_SPREAD_MIN, f"corr(vol, spread) = {s['corr_vol_spread']:.3f}"
    assert s["corr_vol_depth"] < CORR_DEPTH_MAX, f"corr(vol, depth) = {s['corr_vol_depth']:.3f}"


def calm_plausible_vol():
    v = Ctx.calm["ann_vol"]
    assert VOL_RANGE[0] <= v <= VOL_RANGE[1], f"annualized vol {v:.3f} outside {VOL_RANGE}"


def gbm_fails_thresholds():
    s = Ctx.gbm
    assert not heavy_tails(s), f"GBM passes the heavy-tail threshold: trimmed kurtosis {s['excess_kurtosis_trim']:.3f}"
    assert not s["acf_abs"][10] > ABS10_MIN, f"GBM passes ACF(|r|) lag 10: {s['acf_abs'][10]:.3f}"
    assert not s["acf_abs_sum_1_20"] > ABS_SUM_MIN, f"GBM passes sum ACF(|r|) 1..20: {s['acf_abs_sum_1_20']:.3f}"
    assert not clustering(s)
    # GBM is still a sane market: no linear memory beyond lag 2 either.
    assert s["max_abs_acf_r_3_10"] < ACF_R_MAX


def real_csv():
    path = os.path.join(Ctx.srcdir, REAL_CSV)
    Ctx.real = Ctx.SF.analyse_file(path, bar_s=3600)
    s = Ctx.real
    assert s["n_returns"] == 119, f"n_returns {s['n_returns']} (120 hourly klines expected)"
    for k in ("ann_vol", "excess_kurtosis", "acf_abs_sum_1_20"):
        assert s[k] == s[k], f"{k} is NaN"
    assert s["corr_vol_spread"] != s["corr_vol_spread"], "a kline file has no spread: expected NaN"


def csv_variants():
    """Headerless kline rows and timestamp,price rows parse to the same statistics."""
    src = os.path.join(Ctx.srcdir, REAL_CSV)
    with open(src) as fh:
        lines = fh.read().splitlines()
    nohdr = os.path.join(Ctx.tmpdir, "nohdr.csv")
    with open(nohdr, "w") as fh:
        fh.write("\n".join(lines[1:]) + "\n")
    plain = os.path.join(Ctx.tmpdir, "plain.csv")
    with open(plain, "w") as fh:
        fh.write("timestamp,price\n")
        for ln in lines[1:]:
            c = ln.split(",")
            fh.write(f"{int(c[0]) // 1000},{c[4]}\n")
    for p in (nohdr, plain):
        s = Ctx.SF.analyse_file(p, bar_s=3600)
        for k in ("n_returns", "ann_vol", "excess_kurtosis", "acf_abs_sum_1_20"):
            assert abs(s[k] - Ctx.real[k]) < 1e-9, f"{os.path.basename(p)}: {k} {s[k]} != {Ctx.real[k]}"


def cli_table_and_json():
    script = os.path.join(Ctx.srcdir, "analysis", "stylized_facts.py")
    out = os.path.join(Ctx.tmpdir, "facts.json")
    cmd = ["/usr/bin/python3", script, Ctx.calm_h5, Ctx.gbm_h5, "--json", out]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert "excess_kurtosis" in proc.stdout and "calm.h5" in proc.stdout and "gbm.h5" in proc.stdout, proc.stdout
    with open(out) as fh:
        j = json.load(fh)
    assert len(j) == 2 and abs(j[0]["excess_kurtosis"] - Ctx.calm["excess_kurtosis"]) < 1e-12
    bad = subprocess.run(["/usr/bin/python3", script, os.path.join(Ctx.tmpdir, "missing.csv")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "missing.csv" in bad.stderr, (bad.returncode, bad.stderr)


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} <stresslab binary> <source dir>", file=sys.stderr)
        return 2
    Ctx.binary, Ctx.srcdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="sl_facts_") as tmp:
        Ctx.tmpdir = tmp
        check("import analysis/stylized_facts.py", setup)
        if CHECKS.failed:
            return CHECKS.summary()
        check("calm.json is the switched file", switched_file)
        check("stresslab run calm.json (48 h, 1-minute returns)", run_calm)
        if Ctx.calm is not None:
            check("calm: heavy tails", calm_heavy_tails)
            check("calm: no linear autocorrelation beyond lag 2", calm_no_linear_autocorrelation)
            check("calm: volatility clustering, slowly decaying", calm_volatility_clustering)
            check("calm: spread widens and depth thins with volatility", calm_liquidity_follows_vol)
            check("calm: annualized vol plausible", calm_plausible_vol)
            check("stresslab run calm.json as before the switch (reference makers)", run_visible)
            if Ctx.visible is not None:
                check("before the switch: the same calm facts hold", visible_calm_facts)
            check("stresslab run calm.json as plain GBM", run_gbm)
        if Ctx.gbm is not None:
            check("GBM fails the heavy-tail and clustering thresholds", gbm_fails_thresholds)
        check("real hourly kline CSV", real_csv)
        if Ctx.real is not None:
            check("CSV without header / timestamp,price CSV", csv_variants)
        if Ctx.gbm is not None:
            check("CLI: side-by-side table and --json", cli_table_and_json)
        runs = (Ctx.calm, Ctx.visible, Ctx.gbm, Ctx.real)
        stats = [s for s in runs if s is not None]
        names = [n for n, s in zip(("calm (sim, 1m)", "calm before #14", "GBM (sim, 1m)", "BTCUSDT perp 1h"), runs) if s is not None]
        if stats:
            print(Ctx.SF.format_table(stats, names))
        print("run times: " + ", ".join(f"{k} {v:.1f} s" for k, v in Ctx.times.items()))
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
