#!/usr/bin/python3
"""Simulated funding against the real Binance series, settlement by settlement (issue #14 item 5).

    /usr/bin/python3 analysis/funding_vs_real.py RESULTS.h5 [--policy market]
        [--funding data/btcusdt_perp_funding_2020-03-05_2020-03-20.csv]
        [--klines data/btcusdt_perp_1h_2020-03-11_2020-03-16.csv] [--json]

The replay's step 0 is the first kline's open time; a real settlement at time T is compared with the
simulated `funding_rate` series at the first recorded row at or after T - start (the rate settled
then: the series holds the last settled rate). Per settlement the table gives the real rate, the
median over the file's seeds of the simulated rate (for one policy) and whether the signs agree.
The summary counts the signs right from the first real negative settlement to the last settlement
the simulation reached, and compares the time the -0.30% cap (Binance's clamp, model.md section 9)
is first reached, real against the simulated median.

Needs h5py and numpy (Debian's /usr/bin/python3).
"""

import argparse
import csv
import datetime as dt
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results as R  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FUNDING = os.path.join(HERE, "..", "data", "btcusdt_perp_funding_2020-03-05_2020-03-20.csv")
DEFAULT_KLINES = os.path.join(HERE, "..", "data", "btcusdt_perp_1h_2020-03-11_2020-03-16.csv")
CAP = 0.003  # Binance's funding clamp for BTCUSDT in March 2020: +-0.30% per 8 h interval
CAP_EPS = 1e-9


def read_real_funding(path):
    """[(time_ms, rate)] from Binance's funding export (funding_time_ms, funding_interval_hours, funding_rate)."""
    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            out.append((int(row["funding_time_ms"]), float(row["funding_rate"])))
    return out


def replay_start_ms(path):
    with open(path, newline="") as fh:
        return int(next(csv.DictReader(fh))["open_time_ms"])


def settled_at(time_s, rate, t_s):
    """The simulated rate settled at t_s: the series value at the first row at or after t_s (None past the end)."""
    i = int(np.searchsorted(time_s, t_s - 1e-6, side="left"))
    return None if i >= len(time_s) else float(rate[i])


def round_to_hour_ms(t_ms):
    # Binance stamps some settlements a few ms late (e.g. ...800003): the settlement is the full hour.
    return int(round(t_ms / 3.6e6)) * 3_600_000


def compare(results_path, policy="market", funding_path=DEFAULT_FUNDING, klines_path=DEFAULT_KLINES):
    start_ms = replay_start_ms(klines_path)
    real = [(round_to_hour_ms(t), r) for t, r in read_real_funding(funding_path)]
    sims = []
    with R.open_results(results_path) as f:
        s = R.summary(f)
        for rid, pol in zip(s["run_id"], s["policy"]):
            if pol != policy:
                continue
            cols = R.series(f, rid)
            sims.append((cols["time_s"], cols["funding_rate"]))
    if not sims:
        raise ValueError(f"{results_path}: no run with policy '{policy}'")
    rows = []
    for t_ms, real_rate in real:
        t_s = (t_ms - start_ms) / 1000.0
        if t_s <= 0:
            continue
        vals = [settled_at(ts, fr, t_s) for ts, fr in sims]
        if any(v is None for v in vals):
            break  # past the simulated horizon
        rows.append({
            "time_utc": dt.datetime.fromtimestamp(t_ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "hours": t_s / 3600.0,
            "real": real_rate,
            "sim_median": float(np.median(vals)),
            "sim_min": float(np.min(vals)),
            "sim_max": float(np.max(vals)),
        })
    first_neg = next((i for i, r in enumerate(rows) if r["real"] < 0), None)
    tail = rows[first_neg:] if first_neg is not None else []
    right = sum(1 for r in tail if np.sign(r["real"]) == np.sign(r["sim_median"]))
    real_cap = next((r["time_utc"] for r in rows if r["real"] <= -CAP + CAP_EPS), None)
    sim_cap = next((r["time_utc"] for r in rows if r["sim_median"] <= -CAP + CAP_EPS), None)
    return {
        "policy": policy,
        "seeds": len(sims),
        "rows": rows,
        "signs_right": right,
        "signs_compared": len(tail),
        "real_cap_first": real_cap,
        "sim_median_cap_first": sim_cap,
    }


def format_table(c):
    lines = [f"funding per settlement, policy {c['policy']}, median of {c['seeds']} seed(s) (rates in % per 8 h)",
             f"{'settlement (UTC)':<18}{'real':>9}{'sim median':>12}{'sim min':>9}{'sim max':>9}  sign"]
    for r in c["rows"]:
        ok = "ok" if np.sign(r["real"]) == np.sign(r["sim_median"]) else "WRONG"
        lines.append(f"{r['time_utc']:<18}{r['real'] * 100:>9.4f}{r['sim_median'] * 100:>12.4f}"
                     f"{r['sim_min'] * 100:>9.4f}{r['sim_max'] * 100:>9.4f}  {ok}")
    lines.append(f"signs right from the first real negative: {c['signs_right']} of {c['signs_compared']}")
    lines.append(f"-0.30% cap first reached: real {c['real_cap_first']}, simulated median {c['sim_median_cap_first']}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("--policy", default="market")
    ap.add_argument("--funding", default=DEFAULT_FUNDING)
    ap.add_argument("--klines", default=DEFAULT_KLINES)
    ap.add_argument("--json", action="store_true", help="print the comparison as JSON")
    a = ap.parse_args(argv)
    try:
        c = compare(a.results, a.policy, a.funding, a.klines)
    except (OSError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(c, indent=1) if a.json else format_table(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
