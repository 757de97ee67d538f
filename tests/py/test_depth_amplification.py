"""Checks scripts/depth_amplification (issue #14 item 7) against the results files it leaves.

Usage: /usr/bin/python3 test_depth_amplification.py <stresslab-binary> <source-dir>

Runs `scripts/depth_amplification --scenario scenarios/crash.json --knob levels --seeds 3 --trace 2020`
(3 x 3 runs of 1,800 steps, about 2 s) into a temp dir, then recomputes every printed figure from
the HDF5 files with h5py alone (not analysis/results.py, which the script uses):
- the `--set` took effect: the scenario stored in each file has the row's `levels`;
- depth is depth: the perp bid depth within 1% before the first shock (step 600), recomputed,
  and the printed spot depth rise strictly with the levels (3 < 6 < 12 maker levels of the same size, all within 1% of the mid);
- the recorder's summary agrees with its own liquidations table: liquidated notional = sum of the
  rows' notional, exogenous notional = sum over the rows with endogenous = 0 (relative 1e-9);
- the printed pooled amplification = sum of liquidated / sum of exogenous over the runs, the liq /
  exo / endo columns = their means in M USDT (endo = liq - exo), n exo / n endo = the mean number of
  distinct accounts with an exogenous / endogenous row, all to the printed precision;
- the horizon amplification (an endogenous account whose flag mark the reference reaches later in
  the run counts as exogenous) recomputed per account, and 1 <= it <= the amplification;
- the trace's account counts (kind at 3 levels, kind at 12) add up to the distinct accounts
  liquidated in either run of seed 2020.
Standalone (no pytest): prints each failure, then `N passed, M failed`; exits non-zero on any failure.
"""

import json
import os
import re
import sys
import tempfile

import h5py
import numpy as np

from harness import Checks, run

CHECKS = Checks()
check = CHECKS.check
LEVELS = (3, 6, 12)
FIRST_SHOCK_STEP = 600  # crash.json: every shock starts at step 600


def runs_of(path):
    """Per run (sorted by seed): the summary row and the liquidations table, read with h5py only."""
    with h5py.File(path, "r") as f:
        summary = f["summary"][:]
        scenario = json.loads(f.attrs["scenario_json"])
        out = []
        for row in sorted(summary, key=lambda r: int(r["seed"])):
            rid = row["run_id"].decode()
            liq = f["runs"][rid]["liquidations"][:]
            bid1 = f["runs"][rid]["series"]["perp_bid_depth_1pct"][:]
            out.append((row, liq, bid1))
    return scenario, out


def parse_rows(stdout):
    rows = {}
    for line in stdout.splitlines():
        m = re.match(r"crash\s+levels\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+) \[([\d.]+), ([\d.]+)\]\s+([\d.]+)\s+([\d.]+)\s+"
                     r"([-\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            v = [float(x) for x in m.groups()]
            rows[int(v[0])] = dict(depth=v[1], spot_depth=v[2], amp=v[3], lo=v[4], hi=v[5], liq=v[6], exo=v[7],
                                   endo=v[8], n_exo=v[9], n_endo=v[10], bad_debt=v[11], slip=v[12], horizon=v[13])
    return rows


def check_set_applied(tmp):
    for n in LEVELS:
        scenario, _ = runs_of(os.path.join(tmp, f"crash_levels_{n}.h5"))
        assert scenario["agents"]["market_makers"]["levels"] == n, scenario["agents"]["market_makers"]


def check_depth_rises(tmp, rows):
    depth = []
    for n in LEVELS:
        _, runs = runs_of(os.path.join(tmp, f"crash_levels_{n}.h5"))
        d = float(np.mean([np.mean(bid1[:FIRST_SHOCK_STEP]) for _, _, bid1 in runs]))
        assert abs(d - rows[n]["depth"]) <= 0.005 + 1e-9, (n, d, rows[n]["depth"])
        depth.append((d, rows[n]["spot_depth"]))
    # levels change both venues' makers: perp and spot depth rise together
    assert depth[0][0] < depth[1][0] < depth[2][0], depth
    assert depth[0][1] < depth[1][1] < depth[2][1], depth


def check_summary_matches_table(tmp):
    for n in LEVELS:
        _, runs = runs_of(os.path.join(tmp, f"crash_levels_{n}.h5"))
        for row, liq, _ in runs:
            total = float(liq["notional"].sum())
            exo = float(liq["notional"][liq["endogenous"] == 0].sum())
            assert abs(row["liquidated_notional"] - total) <= 1e-9 * max(total, 1.0), (n, row["liquidated_notional"], total)
            assert abs(row["exogenous_liquidated_notional"] - exo) <= 1e-9 * max(exo, 1.0), (n, row["exogenous_liquidated_notional"], exo)


def check_printed_figures(tmp, rows):
    for n in LEVELS:
        _, runs = runs_of(os.path.join(tmp, f"crash_levels_{n}.h5"))
        liq = np.array([float(l["notional"].sum()) for _, l, _ in runs])
        exo = np.array([float(l["notional"][l["endogenous"] == 0].sum()) for _, l, _ in runs])
        n_exo = np.mean([len(set(l["account"][l["endogenous"] == 0].tolist())) for _, l, _ in runs])
        n_endo = np.mean([len(set(l["account"][l["endogenous"] != 0].tolist())) for _, l, _ in runs])
        r = rows[n]
        assert abs(liq.sum() / exo.sum() - r["amp"]) <= 0.005 + 1e-9, (n, liq.sum() / exo.sum(), r["amp"])
        assert r["lo"] <= r["amp"] <= r["hi"], r
        assert abs(liq.mean() / 1e6 - r["liq"]) <= 0.005 + 1e-9, (n, liq.mean(), r["liq"])
        assert abs(exo.mean() / 1e6 - r["exo"]) <= 0.005 + 1e-9, (n, exo.mean(), r["exo"])
        assert abs((liq - exo).mean() / 1e6 - r["endo"]) <= 0.005 + 1e-9, (n, r["endo"])
        assert abs(n_exo - r["n_exo"]) <= 0.05 + 1e-9 and abs(n_endo - r["n_endo"]) <= 0.05 + 1e-9, (n, n_exo, n_endo, r)


def check_horizon_amplification(tmp, rows):
    # Recomputed here per account (not per row as the script does): an endogenous account counts
    # as timing-only when min over steps >= its flag of the reference <= the mark at its flag (a
    # long: crash's forced orders are sells, price below the mark) or max >= (a short). Then
    # 1 <= liquidated / (exogenous + timing-only) <= liquidated / exogenous.
    for n in LEVELS:
        with h5py.File(os.path.join(tmp, f"crash_levels_{n}.h5"), "r") as f:
            liq_sum = exo_sum = timing_sum = 0.0
            for rid in f["runs"]:
                liq = f["runs"][rid]["liquidations"][:]
                mark = f["runs"][rid]["series"]["mark"][:]
                ref = f["runs"][rid]["series"]["reference"][:]
                liq_sum += float(liq["notional"].sum())
                exo_sum += float(liq["notional"][liq["endogenous"] == 0].sum())
                for a in set(liq["account"][liq["endogenous"] != 0].tolist()):
                    mine = liq[liq["account"] == a]
                    first = mine[mine["endogenous"] != 0][0]
                    flag = int(first["step"]) - int(first["steps_to_complete"])
                    priced = mine[mine["price"] != mine["mark"]]
                    is_long = len(priced) == 0 or priced["mark"][0] > priced["price"][0]
                    reached = ref[flag:].min() <= mark[flag] if is_long else ref[flag:].max() >= mark[flag]
                    if reached:
                        timing_sum += float(mine["notional"][mine["endogenous"] != 0].sum())
        h = liq_sum / (exo_sum + timing_sum)
        assert abs(h - rows[n]["horizon"]) <= 0.005 + 1e-9, (n, h, rows[n]["horizon"])
        assert 1.0 <= h <= liq_sum / exo_sum + 1e-12, (n, h, liq_sum / exo_sum)


def check_trace_counts(tmp, stdout):
    m = re.search(r"## seed 2020: levels=3 -> levels=12; accounts by kind .*?: (.*)", stdout)
    assert m, stdout
    counts = {k: int(v) for k, v in (p.split(": ") for p in m.group(1).split(", "))}
    accounts = set()
    for n in (3, 12):
        _, runs = runs_of(os.path.join(tmp, f"crash_levels_{n}.h5"))
        liq = [l for row, l, _ in runs if int(row["seed"]) == 2020][0]
        accounts |= set(liq["account"].tolist())
    assert sum(counts.values()) == len(accounts), (counts, len(accounts))
    assert all(len(k) == 2 and set(k) <= {"X", "E", "-"} and k != "--" for k in counts), counts


def main():
    binary, src = sys.argv[1], sys.argv[2]
    script = os.path.join(src, "scripts", "depth_amplification")
    with tempfile.TemporaryDirectory() as tmp:
        r = run([script, "--binary", binary, "--seeds", "3", "--threads", "2", "--scenario",
                 os.path.join(src, "scenarios", "crash.json"), "--knob", "levels", "--trace", "2020", "--out", tmp])
        rows = parse_rows(r.stdout)
        if r.returncode != 0 or sorted(rows) != list(LEVELS):
            print(f"FAIL running the script: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            return CHECKS.summary(extra_failed=1)
        check("--set levels=N reaches the stored scenario", check_set_applied, tmp)
        check("perp depth within 1% rises strictly with levels", check_depth_rises, tmp, rows)
        check("summary liquidated / exogenous = the liquidations table's sums", check_summary_matches_table, tmp)
        check("printed amplification, notionals and account counts recomputed", check_printed_figures, tmp, rows)
        check("horizon amplification recomputed, between 1 and the amplification", check_horizon_amplification, tmp, rows)
        check("trace counts cover every account liquidated at either depth", check_trace_counts, tmp, r.stdout)
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
