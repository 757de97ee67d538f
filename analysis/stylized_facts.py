#!/usr/bin/python3
"""Stylized facts of a price series: simulated (stresslab results .h5) or real (kline / plain CSV).

    stylized_facts.py INPUT [INPUT ...] [--column spot_mid] [--run RUN_ID] [--bar-s 60] [--json OUT]

Each INPUT is resampled to bars of --bar-s seconds (the last price in each bar; a bar with no sample
repeats the previous price) and the log returns r_t of consecutive bar prices are analysed:

  n_returns            number of bar returns
  ann_vol              std(r) * sqrt(seconds per 365-day year / bar_s)
  excess_kurtosis      m4 / m2^2 - 3 (0 for a normal distribution; GBM gives ~0)
  excess_kurtosis_trim the same after dropping the 0.5% largest |r| (robust to a few isolated spikes,
                       e.g. one book sweep and its reversal; a trimmed normal gives about -0.2)
  acf_r[k], k=1..10    sample autocorrelation of r (no linear predictability expected beyond lag ~2)
  max_abs_acf_r_3_10   max |acf_r[k]| over k = 3..10
  acf_abs[k]           autocorrelation of |r| at k = 1, 5, 10, 20, 50 (volatility clustering: positive,
                       slowly decaying; ~0 for GBM)
  acf_abs_sum_1_20     sum of acf_abs over lags 1..20 (a decay summary)
  band_2_sqrt_n        2/sqrt(n): the approximate 95% band of a sample autocorrelation of iid data
  corr_vol_spread      (simulated files) correlation of the rolling realized vol over --window bars with
                       the mean spread (spot_spread_bps) over the same bars; expected > 0
  corr_vol_depth       the same with the mean 1% depth (spot_bid_depth_1pct + spot_ask_depth_1pct);
                       expected < 0

INPUT formats
  *.h5     a stresslab results file: /runs/<id>/series/time_s and the price column (--column, default
           spot_mid; the first run unless --run). Spread and depth columns are used when present (the
           prefix of --column picks spot_* or perp_*).
  *.csv    a kline CSV (open_time_ms,open,high,low,close,...; the close is used) or timestamp,price; with
           or without a header line. Timestamps above 1e11 are taken as milliseconds.

Only numpy (and h5py for .h5 inputs); run with Debian's /usr/bin/python3. Import as a module:
    import stylized_facts as SF
    stats = SF.analyse_file("out.h5", bar_s=60)
"""

import argparse
import json
import math
import os
import sys

import numpy as np

SECONDS_PER_YEAR = 365.0 * 86400.0
ACF_LAGS = tuple(range(1, 11))
ABS_ACF_LAGS = (1, 5, 10, 20, 50)
DEFAULT_WINDOW = 30

__all__ = [
    "load_h5", "load_csv", "load", "resample_last", "bar_means", "log_returns", "acf", "excess_kurtosis", "trimmed_excess_kurtosis",
    "rolling_sum", "corr", "compute", "analyse_file", "format_table",
]


# ----------------------------------------------------------------------------------------------------
# Loading


def load_h5(path, column="spot_mid", run=None):
    """Returns dict(t, price, spread, depth) from a stresslab results file (spread/depth may be None)."""
    import h5py  # only needed for .h5 inputs

    with h5py.File(path, "r") as f:
        if "runs" not in f:
            raise ValueError(f"{path}: no /runs group (not a stresslab results file)")
        ids = sorted(f["runs"].keys())
        if not ids:
            raise ValueError(f"{path}: no runs")
        rid = ids[0] if run is None else str(run)
        if rid not in f["runs"] and rid.isdigit() and rid.zfill(6) in f["runs"]:
            rid = rid.zfill(6)  # --run 7 means run 000007
        if rid not in f["runs"]:
            raise ValueError(f"{path}: no run {rid!r} (runs: {', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''})")
        s = f["runs"][rid]["series"]
        if column not in s:
            raise ValueError(f"{path}: run {rid} has no series column {column!r}")
        t = np.asarray(s["time_s"][()], dtype=float)
        price = np.asarray(s[column][()], dtype=float)
        venue = column.split("_", 1)[0] if column.startswith(("spot_", "perp_")) else "spot"
        spread = np.asarray(s[f"{venue}_spread_bps"][()], dtype=float) if f"{venue}_spread_bps" in s else None
        bid, ask = f"{venue}_bid_depth_1pct", f"{venue}_ask_depth_1pct"
        depth = (np.asarray(s[bid][()], dtype=float) + np.asarray(s[ask][()], dtype=float)) if bid in s and ask in s else None
    return {"t": t, "price": price, "spread": spread, "depth": depth, "run": rid, "column": column}


def _is_number(tok):
    try:
        float(tok)
        return True
    except ValueError:
        return False


def load_csv(path):
    """Returns dict(t, price) from a kline CSV (close column) or a timestamp,price CSV."""
    with open(path, "r", encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: empty CSV")
    first = [c.strip().strip('"').lower() for c in lines[0].split(",")]
    header = not all(_is_number(c) for c in first if c != "")
    rows = lines[1:] if header else lines
    ncol = len(first)
    if header:
        t_col = next((i for i, c in enumerate(first) if c in ("open_time_ms", "open_time", "timestamp", "time", "time_s", "ts", "date")), 0)
        p_col = next((i for i, c in enumerate(first) if c in ("close", "price", "mid", "spot_mid")), None)
        if p_col is None:
            p_col = 4 if ncol >= 5 else 1
    else:
        t_col, p_col = 0, (4 if ncol >= 5 else 1)
    if ncol < 2:
        raise ValueError(f"{path}: need at least two columns (timestamp, price)")
    t, p = [], []
    for i, ln in enumerate(rows):
        cells = ln.split(",")
        try:
            t.append(float(cells[t_col]))
            p.append(float(cells[p_col]))
        except (IndexError, ValueError) as e:
            raise ValueError(f"{path}: line {i + 1 + header}: cannot parse timestamp/price ({e})") from None
    t, p = np.asarray(t), np.asarray(p)
    if t.size and np.nanmax(np.abs(t)) > 1e11:  # epoch milliseconds
        t = t / 1000.0
    order = np.argsort(t, kind="stable")
    return {"t": t[order], "price": p[order], "spread": None, "depth": None, "run": None, "column": "close"}


def load(path, column="spot_mid", run=None):
    ext = os.path.splitext(path)[1].lower()
    if ext in (".h5", ".hdf5"):
        return load_h5(path, column, run)
    return load_csv(path)


# ----------------------------------------------------------------------------------------------------
# Resampling


def _bar_index(t, bar_s):
    t = np.asarray(t, dtype=float)
    return np.floor((t - t[0]) / bar_s + 1e-9).astype(np.int64)


def resample_last(t, x, bar_s):
    """Last value of x in each bar of bar_s seconds from t[0]; empty bars repeat the previous value."""
    t, x = np.asarray(t, dtype=float), np.asarray(x, dtype=float)
    ok = np.isfinite(t) & np.isfinite(x) & (x > 0)
    t, x = t[ok], x[ok]
    if t.size == 0:
        return np.empty(0)
    idx = _bar_index(t, bar_s)
    nbar = int(idx[-1]) + 1
    out = np.full(nbar, np.nan)
    out[idx] = x  # later samples overwrite earlier ones: the last in each bar remains (t sorted)
    # forward-fill empty bars
    filled = np.where(np.isfinite(out), np.arange(nbar), 0)
    np.maximum.accumulate(filled, out=filled)
    return out[filled]


def bar_means(t, x, bar_s, nbar):
    """Mean of the finite values of x within each bar (NaN for a bar with none)."""
    t, x = np.asarray(t, dtype=float), np.asarray(x, dtype=float)
    idx = _bar_index(t, bar_s)
    ok = np.isfinite(x) & (idx < nbar)
    s = np.bincount(idx[ok], weights=x[ok], minlength=nbar)[:nbar]
    c = np.bincount(idx[ok], minlength=nbar)[:nbar]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def log_returns(prices):
    p = np.asarray(prices, dtype=float)
    return np.diff(np.log(p)) if p.size > 1 else np.empty(0)


# ----------------------------------------------------------------------------------------------------
# Statistics


def acf(x, lags):
    """Sample autocorrelation sum((x_t - m)(x_{t+k} - m)) / sum((x_t - m)^2) at each lag (NaN if undefined)."""
    x = np.asarray(x, dtype=float)
    d = x - x.mean() if x.size else x
    den = float(np.dot(d, d))
    out = []
    for k in lags:
        if den <= 0 or k >= x.size:
            out.append(float("nan"))
        else:
            out.append(float(np.dot(d[:-k], d[k:]) / den))
    return out


def excess_kurtosis(x):
    x = np.asarray(x, dtype=float)
    if x.size < 4:
        return float("nan")
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    if m2 <= 0:
        return float("nan")
    return float(np.mean(d ** 4) / (m2 * m2) - 3.0)


def trimmed_excess_kurtosis(x, trim=0.005):
    """Excess kurtosis after dropping the ceil(trim * n) returns of largest |x - median|."""
    x = np.asarray(x, dtype=float)
    k = int(math.ceil(trim * x.size))
    if k > 0 and x.size - k >= 4:
        keep = np.argsort(np.abs(x - np.median(x)), kind="stable")[: x.size - k]
        x = x[np.sort(keep)]
    return excess_kurtosis(x)


def rolling_sum(x, w):
    """Sums over each window of w consecutive values (len(x) - w + 1 of them)."""
    x = np.asarray(x, dtype=float)
    if x.size < w:
        return np.empty(0)
    c = np.concatenate(([0.0], np.cumsum(x)))
    return c[w:] - c[:-w]


def corr(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size < 3:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
    return float(np.dot(da, db) / den) if den > 0 else float("nan")


def _rolling_vol_corr(r, side, window):
    """Correlation of the realized vol over each window of bars (returns r[j..j+w-1]) with the mean of
    `side` (per-bar means, aligned with the bar each return ends in) over the same bars."""
    if side is None or r.size < window + 2:
        return float("nan")
    rv = np.sqrt(rolling_sum(r * r, window))
    s = side[1:1 + r.size]  # return j spans bars j -> j+1; use the bar it ends in
    ok = np.isfinite(s)
    num = rolling_sum(np.where(ok, s, 0.0), window)
    cnt = rolling_sum(ok.astype(float), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_s = np.where(cnt > 0, num / np.maximum(cnt, 1), np.nan)
    return corr(rv, mean_s)


def compute(t, price, bar_s=60.0, spread=None, depth=None, window=DEFAULT_WINDOW):
    """All statistics of one series (a dict of plain floats / lists; see the module docstring)."""
    bars = resample_last(t, price, bar_s)
    r = log_returns(bars)
    n = int(r.size)
    res = {"bar_s": float(bar_s), "n_returns": n}
    res["ann_vol"] = float(np.std(r) * math.sqrt(SECONDS_PER_YEAR / bar_s)) if n > 1 else float("nan")
    res["excess_kurtosis"] = excess_kurtosis(r)
    res["excess_kurtosis_trim"] = trimmed_excess_kurtosis(r)
    res["acf_r"] = dict(zip(ACF_LAGS, acf(r, ACF_LAGS)))
    tail = [abs(res["acf_r"][k]) for k in ACF_LAGS if k >= 3 and np.isfinite(res["acf_r"][k])]
    res["max_abs_acf_r_3_10"] = float(max(tail)) if tail else float("nan")
    a = np.abs(r)
    res["acf_abs"] = dict(zip(ABS_ACF_LAGS, acf(a, ABS_ACF_LAGS)))
    s20 = acf(a, range(1, 21))
    res["acf_abs_sum_1_20"] = float(np.sum(s20)) if n > 21 else float("nan")
    res["band_2_sqrt_n"] = 2.0 / math.sqrt(n) if n > 0 else float("nan")
    res["window_bars"] = int(window)
    nbar = bars.size
    sp = bar_means(t, spread, bar_s, nbar) if spread is not None else None
    dp = bar_means(t, depth, bar_s, nbar) if depth is not None else None
    res["mean_spread_bps"] = float(np.nanmean(sp)) if sp is not None and np.isfinite(sp).any() else float("nan")
    res["mean_depth_1pct"] = float(np.nanmean(dp)) if dp is not None and np.isfinite(dp).any() else float("nan")
    res["corr_vol_spread"] = _rolling_vol_corr(r, sp, window)
    res["corr_vol_depth"] = _rolling_vol_corr(r, dp, window)
    return res


def analyse_file(path, column="spot_mid", run=None, bar_s=60.0, window=DEFAULT_WINDOW):
    d = load(path, column, run)
    res = compute(d["t"], d["price"], bar_s, d["spread"], d["depth"], window)
    res["input"] = path
    res["column"] = d["column"]
    if d["run"] is not None:
        res["run"] = d["run"]
    return res


# ----------------------------------------------------------------------------------------------------
# Output


def _rows():
    rows = [("n_returns", lambda s: s["n_returns"]), ("bar_s", lambda s: s["bar_s"]),
            ("ann_vol", lambda s: s["ann_vol"]), ("excess_kurtosis", lambda s: s["excess_kurtosis"]),
            ("excess_kurtosis_trim", lambda s: s["excess_kurtosis_trim"])]
    rows += [(f"acf_r[{k}]", (lambda k: lambda s: s["acf_r"][k])(k)) for k in ACF_LAGS]
    rows += [("max|acf_r| lags 3-10", lambda s: s["max_abs_acf_r_3_10"]), ("band 2/sqrt(n)", lambda s: s["band_2_sqrt_n"])]
    rows += [(f"acf_abs[{k}]", (lambda k: lambda s: s["acf_abs"][k])(k)) for k in ABS_ACF_LAGS]
    rows += [("sum acf_abs 1-20", lambda s: s["acf_abs_sum_1_20"]), ("mean spread bps", lambda s: s["mean_spread_bps"]),
             ("mean depth 1% (both)", lambda s: s["mean_depth_1pct"]),
             ("corr(vol, spread)", lambda s: s["corr_vol_spread"]), ("corr(vol, depth)", lambda s: s["corr_vol_depth"])]
    return rows


def _fmt(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if v is None or not np.isfinite(v):
        return "-"
    if abs(v) >= 1e4:
        return f"{v:.4g}"
    return f"{v:.4f}"


def format_table(stats, names=None):
    """Side-by-side text table: one column per analysed input."""
    names = names or [os.path.basename(s.get("input", f"#{i}")) for i, s in enumerate(stats)]
    label_w = max(len(r[0]) for r in _rows())
    col_w = [max(10, len(n)) for n in names]
    lines = [" " * label_w + "  " + "  ".join(n.rjust(w) for n, w in zip(names, col_w))]
    for label, get in _rows():
        lines.append(label.ljust(label_w) + "  " + "  ".join(_fmt(get(s)).rjust(w) for s, w in zip(stats, col_w)))
    return "\n".join(lines)


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description="Stylized facts of price series (stresslab .h5 or kline/plain CSV), side by side.")
    ap.add_argument("inputs", nargs="+", metavar="INPUT", help="results .h5 or CSV file")
    ap.add_argument("--column", default="spot_mid", help="price series column in .h5 inputs (default spot_mid)")
    ap.add_argument("--run", default=None, help="run id in .h5 inputs (default: the first run)")
    ap.add_argument("--bar-s", type=float, default=60.0, help="bar length in seconds (default 60)")
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="bars per rolling realized-vol window (default 30)")
    ap.add_argument("--json", default=None, metavar="OUT", help="also write the statistics as JSON")
    a = ap.parse_args(argv)
    if a.bar_s <= 0:
        ap.error("--bar-s must be positive")
    if a.window < 2:
        ap.error("--window must be at least 2")
    stats = []
    for p in a.inputs:
        try:
            stats.append(analyse_file(p, a.column, a.run, a.bar_s, a.window))
        except (OSError, ValueError, KeyError) as e:
            msg = str(e)
            print(f"stylized_facts: {msg if msg.startswith(p) else p + ': ' + msg}", file=sys.stderr)
            return 2
    print(format_table(stats))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(_jsonable(stats), fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
