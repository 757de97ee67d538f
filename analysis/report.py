#!/usr/bin/python3
"""Analysis report of a stresslab results file (HDF5, layout_version 1).

    report.py RESULTS.h5 [--out DIR]

DIR defaults to `<results name>_report/` next to the file (results/demo.h5 -> results/demo_report/).
Writes into DIR:

  paths_<policy>.png        per policy, the first seed present: reference, spot/perp mid, index and mark
                            with liquidation markers (endogenous / exogenous), basis, premium and funding
                            estimate (bps), insurance fund and cumulative bad debt (quote units)
  distributions.png         (two or more runs of a policy) box + strip plots over seeds per policy of
                            bad_debt, mean_slippage_bps, cascade_amplification, underwater_equity_at_end
  sweep_<param>.png         (files with `param:<name>` summary columns) each table metric vs the parameter,
                            one line per policy, mean over seeds (and over the other parameters, if any)
  index.html                self-contained page (figures embedded as base64 PNG, tables as HTML)
  summary.json              the table numbers: per policy and metric the mean over the runs with a finite
                            value, the 95% percentile-bootstrap interval of that mean (2000 resamples,
                            fixed RNG seed per metric), n and the number of non-finite values skipped

Non-finite values (NaN: no liquidations; inf: cascade_amplification when every liquidation was
endogenous) are skipped in means, intervals and plots, and counted. JSON holds null for a
non-finite or undefined number (e.g. the interval of a single run).

Exit status 2 for a missing/unreadable file or one without /summary. Needs h5py, numpy, matplotlib
(Debian: /usr/bin/python3).
"""

import argparse
import base64
import html
import json
import math
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TABLE_METRICS = [
    ("bad_debt", "bad debt", "quote"),
    ("underwater_equity_at_end", "unrealised bad debt (underwater equity at end)", "quote"),
    ("flagged_at_end", "flagged accounts at end", "count"),
    ("insurance_fund_min", "insurance fund minimum", "quote"),
    ("liquidated_notional", "liquidated notional", "quote"),
    ("mean_slippage_bps", "mean slippage", "bps"),
    ("notional_slippage_bps", "notional-weighted slippage", "bps"),
    ("p95_slippage_bps", "p95 slippage", "bps"),
    ("cascade_amplification", "cascade amplification", "ratio"),
    ("adl_count", "ADL count", "count"),
    ("penalties_paid", "penalties paid", "quote"),
    ("liquidator_profit", "liquidator profit", "quote"),
]
DIST_METRICS = ["bad_debt", "mean_slippage_bps", "cascade_amplification", "underwater_equity_at_end"]
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240607
CONFIDENCE = 0.95

POLICY_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                 "tab:gray", "tab:olive", "tab:cyan"]


def die(msg):
    print(f"report.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------------------------------------------------
# Statistics

def finite(values):
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def bootstrap_seed(metric):
    """A fixed seed per metric: the report does not depend on the order of policies or metrics, and two
    policies with identical values (e.g. delta_neutral = market when no account holds a hedge) get
    identical intervals."""
    return [BOOTSTRAP_SEED, zlib.crc32(metric.encode("utf-8"))]


def bootstrap_ci(values, seed, resamples=BOOTSTRAP_RESAMPLES, confidence=CONFIDENCE):
    """Percentile bootstrap interval of the mean of `values` (finite, 1-D). None for fewer than 2 values."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(resamples, v.size))
    means = v[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.percentile(means, [100.0 * alpha, 100.0 * (1.0 - alpha)])
    return float(lo), float(hi)


def metric_stats(values, policy, metric):
    v = np.asarray(values, dtype=np.float64)
    fv = finite(v)
    out = {"n": int(fv.size), "n_nonfinite": int(v.size - fv.size),
           "n_nan": int(np.isnan(v).sum()), "n_inf": int(np.isinf(v).sum()),
           "mean": float(np.mean(fv)) if fv.size else None, "ci_low": None, "ci_high": None}
    if fv.size >= 2:
        ci = bootstrap_ci(fv, bootstrap_seed(metric))
        out["ci_low"], out["ci_high"] = ci
    return out


def pooled_ratio_stats(num, den, metric="pooled_cascade_amplification"):
    """sum(num) / sum(den) over the runs where both are finite, with a percentile-bootstrap interval of
    the same pooled ratio over runs (fixed seed per metric). Cascade amplification per run
    (total / exogenous notional) explodes on runs with a tiny exogenous part; pooled, every run
    weighs by its size. None where the pooled denominator is 0."""
    x = np.asarray(num, dtype=np.float64)
    y = np.asarray(den, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    out = {"n": int(x.size), "value": None, "ci_low": None, "ci_high": None}
    if x.size == 0 or y.sum() == 0:
        return out
    out["value"] = float(x.sum() / y.sum())
    if x.size >= 2:
        rng = np.random.default_rng(bootstrap_seed(metric))
        idx = rng.integers(0, x.size, size=(BOOTSTRAP_RESAMPLES, x.size))
        sx, sy = x[idx].sum(axis=1), y[idx].sum(axis=1)
        r = sx[sy != 0] / sy[sy != 0]
        alpha = (1.0 - CONFIDENCE) / 2.0
        lo, hi = np.percentile(r, [100.0 * alpha, 100.0 * (1.0 - alpha)])
        out["ci_low"], out["ci_high"] = float(lo), float(hi)
    return out


def json_number(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# ------------------------------------------------------------------------------------------------------
# Formatting

def fmt(x):
    if x is None:
        return "–"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e6 or a < 1e-3:
        return f"{x:.3e}"
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def esc(s):
    return html.escape(str(s))


def time_axis(t_s):
    """(scale, label): minutes for runs longer than 20 minutes, else seconds."""
    if len(t_s) and np.nanmax(t_s) > 1200:
        return 60.0, "time (minutes)"
    return 1.0, "time (s)"


# ------------------------------------------------------------------------------------------------------
# Reading

class Data:
    pass


def load(path):
    try:
        import h5py
    except ImportError as e:  # pragma: no cover
        die(f"cannot import h5py ({e}); use Debian's /usr/bin/python3")
    import results as R

    if not os.path.exists(path):
        die(f"{path}: no such file")
    if not os.path.isfile(path):
        die(f"{path}: not a file")
    try:
        f = R.open_results(path)
    except ValueError as e:
        die(str(e))
    except OSError as e:
        die(f"{path}: cannot read as HDF5 ({e})")
    d = Data()
    d.path = path
    with f:
        if "summary" not in f:
            die(f"{path}: no /summary table (not a complete stresslab results file)")
        d.info = R.file_info(f)
        d.summary = R.summary(f)
        d.n_runs = len(d.summary["run_id"])
        if d.n_runs == 0:
            die(f"{path}: /summary has no rows")
        d.policies = list(dict.fromkeys(str(p) for p in d.summary["policy"]))
        d.params = [c for c in d.summary if c.startswith(R.PARAM_PREFIX)]
        # Representative run per policy: the first seed present in the file (the seed of the first summary
        # row) if that policy has it, else the policy's first run. With parameters, the first such row.
        first_seed = int(d.summary["seed"][0])
        d.rep = {}
        for p in d.policies:
            rows = [i for i in range(d.n_runs) if d.summary["policy"][i] == p]
            same = [i for i in rows if int(d.summary["seed"][i]) == first_seed]
            i = (same or rows)[0]
            rid = str(d.summary["run_id"][i])
            try:
                d.rep[p] = {"run_id": rid, "seed": int(d.summary["seed"][i]), "row": i,
                            "series": R.series(f, rid), "units": R.units(f, rid),
                            "liquidations": R.liquidations(f, rid)}
            except KeyError as e:
                die(f"{path}: {e}")
    return d


# ------------------------------------------------------------------------------------------------------
# Figures

def scenario_name(d):
    sc = d.info.get("scenario") or {}
    return sc.get("name") or os.path.splitext(os.path.basename(d.path))[0]


def quote_asset(d):
    sc = d.info.get("scenario") or {}
    return sc.get("quote_asset") or "quote"


def first_symbol(d):
    sc = d.info.get("scenario") or {}
    assets = sc.get("assets") or []
    return assets[0].get("symbol", "") if assets else ""


def step_times(d, steps, t_s):
    """Time (s) at the end of each step: (step + 1) * dt_s, dt_s from the scenario or the series."""
    sc = d.info.get("scenario") or {}
    dt = sc.get("dt_s")
    if not dt:
        every = ((sc.get("output") or {}).get("record_every_steps")) or 1
        dt = (float(np.median(np.diff(t_s))) / every) if len(t_s) > 1 else (float(t_s[0]) if len(t_s) else 1.0)
    return (np.asarray(steps, dtype=np.float64) + 1.0) * float(dt)


def plot_paths(d, policy, out_png):
    import matplotlib.pyplot as plt

    rep = d.rep[policy]
    c, u, liq = rep["series"], rep["units"], rep["liquidations"]
    qa = quote_asset(d)
    sym = first_symbol(d)
    t = c.get("time_s", np.arange(len(next(iter(c.values())))) if c else np.zeros(0))
    scale, tlabel = time_axis(t)
    tt = t / scale

    fig, axes = plt.subplots(3, 1, figsize=(12, 11), sharex=True,
                             gridspec_kw={"height_ratios": [2.2, 1.2, 1.2]})
    title = (f"Scenario '{scenario_name(d)}' - policy {policy} - seed {rep['seed']} (run {rep['run_id']})"
             + (f" - asset {sym}" if sym else ""))
    fig.suptitle(title, fontsize=13)

    ax = axes[0]
    styles = [("reference", "black", "-", 1.6), ("spot_mid", "tab:blue", "-", 1.0),
              ("perp_mid", "tab:orange", "-", 1.0), ("index", "tab:green", "--", 1.1),
              ("mark", "tab:purple", "-.", 1.3)]
    for col, color, ls, lw in styles:
        if col in c:
            ax.plot(tt, c[col], color=color, ls=ls, lw=lw, label=col.replace("_", " "))
    if len(liq):
        lt = step_times(d, liq["step"], t) / scale
        endo = liq["endogenous"].astype(bool)
        for mask, color, marker, name in ((~endo, "tab:red", "v", "exogenous"),
                                          (endo, "darkcyan", "o", "endogenous")):
            if mask.any():
                ax.scatter(lt[mask], liq["mark"][mask], s=14, color=color, marker=marker, alpha=0.6,
                           zorder=5, edgecolors="none",
                           label=f"liquidation, {name} ({int(mask.sum())} events, at mark)")
    ax.set_ylabel(f"price ({qa} per {sym or 'asset'})")
    ax.set_title(f"prices and liquidations ({len(liq)} events)", fontsize=11)
    ax.legend(loc="best", fontsize=8.5, ncol=2, framealpha=0.85)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)

    ax = axes[1]
    if "basis_bps" in c:
        ax.plot(tt, c["basis_bps"], color="tab:blue", lw=0.8, label="basis (perp - spot mid), bps")
    if "premium_bps" in c:
        ax.plot(tt, c["premium_bps"], color="tab:orange", lw=0.8, alpha=0.85, label="premium (perp mid - index), bps")
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_ylabel("basis / premium (bps)")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if "funding_estimate" in c:
        ax2 = ax.twinx()
        sc = d.info.get("scenario") or {}
        interval_s = (((sc.get("perp") or {}).get("funding") or {}).get("interval_s"))
        ilabel = f"{interval_s / 3600:g} h interval" if interval_s else "interval"
        ax2.plot(tt, 1e4 * c["funding_estimate"], color="tab:green", lw=1.3,
                 label=f"funding estimate, bps per {ilabel} (right axis)")
        ax2.set_ylabel(f"funding estimate (bps / {ilabel})", color="tab:green")
        ax2.tick_params(axis="y", colors="tab:green")
        h2, l2 = ax2.get_legend_handles_labels()
        handles += h2
        labels += l2
    ax.legend(handles, labels, loc="best", fontsize=8.5, framealpha=0.85)
    ax.set_title("basis, premium and funding estimate", fontsize=11)

    ax = axes[2]
    if "insurance_fund" in c:
        ax.plot(tt, c["insurance_fund"], color="tab:blue", lw=1.3, label="insurance fund (equity)")
    if "bad_debt_cum" in c:
        ax.plot(tt, c["bad_debt_cum"], color="tab:red", lw=1.3, label="cumulative bad debt")
    ax.set_ylabel(f"{qa} (quote units)")
    ax.set_xlabel(tlabel)
    ax.set_title("insurance fund and bad debt", fontsize=11)
    ax.legend(loc="best", fontsize=8.5, framealpha=0.85)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    maybe_thousands(ax)

    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def _thousands():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda x, _pos: f"{x:,.0f}".replace("-0", "0") if round(x) == 0 else f"{x:,.0f}")


def maybe_thousands(ax):
    """Plain numbers with thousands separators on the y axis when the range is wide enough for integers
    (no scientific offset like '1e6'); the default formatter otherwise (e.g. an all-zero series)."""
    lo, hi = ax.get_ylim()
    if hi - lo >= 100:
        ax.yaxis.set_major_formatter(_thousands())


def metric_unit(metric, qa):
    for m, _label, unit in TABLE_METRICS:
        if m == metric:
            return qa if unit == "quote" else unit
    return ""


def metric_label(metric):
    for m, label, _unit in TABLE_METRICS:
        if m == metric:
            return label
    return metric


def plot_distributions(d, out_png):
    import matplotlib.pyplot as plt

    qa = quote_asset(d)
    pol = d.policies
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    n_seeds = {p: int(np.sum(d.summary["policy"] == p)) for p in pol}
    fig.suptitle(f"Scenario '{scenario_name(d)}': distributions over seeds "
                 f"({', '.join(f'{p}: {n_seeds[p]}' for p in pol)} runs)", fontsize=13)
    skipped = {}
    rng = np.random.default_rng(BOOTSTRAP_SEED)  # jitter only
    for ax, metric in zip(axes.flat, DIST_METRICS):
        data, ticks = [], []
        skipped[metric] = {}
        if metric not in d.summary:
            ax.set_visible(False)
            continue
        for p in pol:
            v = np.asarray(d.summary[metric][d.summary["policy"] == p], dtype=np.float64)
            fv = finite(v)
            skipped[metric][p] = int(v.size - fv.size)
            data.append(fv)
            tick = f"{p}\n(n={fv.size}"
            tick += f", {v.size - fv.size} non-finite skipped)" if v.size != fv.size else ")"
            ticks.append(tick)
        pos = np.arange(1, len(pol) + 1)
        nonempty = [i for i, x in enumerate(data) if x.size]
        if nonempty:
            ax.boxplot([data[i] for i in nonempty], positions=pos[nonempty], widths=0.55,
                       showfliers=False, medianprops={"color": "black"}, patch_artist=True,
                       boxprops={"facecolor": "none"})
            for i in nonempty:
                x = pos[i] + rng.uniform(-0.18, 0.18, size=data[i].size)
                ax.scatter(x, data[i], s=12, alpha=0.6, color=POLICY_COLORS[i % len(POLICY_COLORS)],
                           edgecolors="none", zorder=3)
                ax.scatter([pos[i]], [np.mean(data[i])], marker="D", s=30, color="white",
                           edgecolors="black", zorder=4, label="mean" if i == nonempty[0] else None)
        ax.set_xticks(pos)
        ax.set_xticklabels(ticks, fontsize=8.5)
        ax.set_xlim(0.4, len(pol) + 0.6)
        unit = metric_unit(metric, qa)
        ax.set_ylabel(f"{metric} ({unit})")
        ax.set_title(metric_label(metric), fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        if nonempty:
            ax.legend(loc="best", fontsize=8)
        for i, x in enumerate(data):
            if not x.size:
                ax.text(pos[i], 0.5, "no finite values", transform=ax.get_xaxis_transform(), ha="center",
                        va="center", fontsize=9, color="gray")
        if unit == qa:
            maybe_thousands(ax)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return skipped


def plot_sweep(d, param, out_png):
    import matplotlib.pyplot as plt

    qa = quote_asset(d)
    name = param.split(":", 1)[1]
    col = d.summary[param]
    numeric = np.issubdtype(np.asarray(col).dtype, np.number)
    if numeric:
        values = sorted(set(float(x) for x in col))
        xs = np.asarray(values)
    else:
        values = list(dict.fromkeys(str(x) for x in col))
        xs = np.arange(len(values))
    metrics = [m for m, _l, _u in TABLE_METRICS if m in d.summary]
    ncols = 3
    nrows = int(math.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 3.6 * nrows), squeeze=False)
    others = [p for p in d.params if p != param]
    fig.suptitle(f"Scenario '{scenario_name(d)}': metrics vs {name} (mean over seeds"
                 + (f" and over {', '.join(o.split(':', 1)[1] for o in others)}" if others else "") + ")",
                 fontsize=13)
    table = {}
    for k, metric in enumerate(metrics):
        ax = axes.flat[k]
        table[metric] = {}
        for i, p in enumerate(d.policies):
            ys, ns = [], []
            for val in values:
                if numeric:
                    mask = (d.summary["policy"] == p) & (np.asarray(col, dtype=np.float64) == val)
                else:
                    mask = (d.summary["policy"] == p) & (np.asarray(col).astype(str) == val)
                fv = finite(d.summary[metric][mask])
                ys.append(float(np.mean(fv)) if fv.size else np.nan)
                ns.append(int(fv.size))
            table[metric][p] = {"x": [v if numeric else str(v) for v in values],
                                "mean": [json_number(y) for y in ys], "n": ns}
            # Distinct line styles and markers so that identical policies (lines on top of each other) stay visible.
            ax.plot(xs, ys, marker="os^Dv<>p"[i % 8], ms=6 - 0.6 * (i % 4), lw=2.2 - 0.4 * (i % 4),
                    ls=["-", "--", "-.", ":"][i % 4], color=POLICY_COLORS[i % len(POLICY_COLORS)], label=p)
        ax.set_title(metric_label(metric), fontsize=10)
        unit = metric_unit(metric, qa)
        ax.set_ylabel(f"{metric} ({unit})", fontsize=8.5)
        if unit == qa:
            maybe_thousands(ax)
        ax.set_xlabel(name, fontsize=9)
        if not numeric:
            ax.set_xticks(xs)
            ax.set_xticklabels(values, fontsize=8, rotation=20)
            ax.set_xlim(-0.5, len(values) - 0.5)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return table


# ------------------------------------------------------------------------------------------------------
# Report

def safe_name(s):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s)


def img_tag(path, alt):
    with open(path, "rb") as fh:
        b64 = base64.b64encode(fh.read()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{b64}" alt="{esc(alt)}" '
            f'data-file="{esc(os.path.basename(path))}"><figcaption>{esc(os.path.basename(path))}'
            f'</figcaption></figure>')


def main(argv=None):
    ap = argparse.ArgumentParser(description="HTML/PNG analysis report of a stresslab results file.")
    ap.add_argument("results", help="results file (.h5) written by `stresslab run`")
    ap.add_argument("--out", help="output directory (default: <results name>_report/ next to the file)")
    args = ap.parse_args(argv)

    d = load(args.results)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.results)),
                                   os.path.splitext(os.path.basename(args.results))[0] + "_report")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        die(f"cannot create output directory {out}: {e}")

    import matplotlib
    matplotlib.use("Agg")

    qa = quote_asset(d)
    figures = []
    for p in d.policies:
        png = os.path.join(out, f"paths_{safe_name(p)}.png")
        plot_paths(d, p, png)
        figures.append(png)

    runs_per_policy = {p: int(np.sum(d.summary["policy"] == p)) for p in d.policies}
    multi = max(runs_per_policy.values()) >= 2
    skipped = None
    dist_png = None
    if multi:
        dist_png = os.path.join(out, "distributions.png")
        skipped = plot_distributions(d, dist_png)
        figures.append(dist_png)

    # Table: per policy and metric, mean over finite values and bootstrap interval.
    metrics = [m for m, _l, _u in TABLE_METRICS if m in d.summary]
    missing = [m for m, _l, _u in TABLE_METRICS if m not in d.summary]
    table = {}
    for p in d.policies:
        sel = d.summary["policy"] == p
        table[p] = {m: metric_stats(d.summary[m][sel], p, m) for m in metrics}
    pooled = None
    if "liquidated_notional" in d.summary and "exogenous_liquidated_notional" in d.summary:
        pooled = {p: pooled_ratio_stats(d.summary["liquidated_notional"][d.summary["policy"] == p],
                                        d.summary["exogenous_liquidated_notional"][d.summary["policy"] == p])
                  for p in d.policies}

    sweep = {}
    sweep_pngs = {}
    for param in d.params:
        png = os.path.join(out, f"sweep_{safe_name(param.split(':', 1)[1])}.png")
        sweep[param.split(":", 1)[1]] = plot_sweep(d, param, png)
        sweep_pngs[param] = png
        figures.append(png)

    sc = d.info.get("scenario") or {}
    runs = []
    for i in range(d.n_runs):
        r = {"run_id": str(d.summary["run_id"][i]), "policy": str(d.summary["policy"][i]),
             "seed": int(d.summary["seed"][i])}
        for param in d.params:
            v = d.summary[param][i]
            r[param] = v.item() if hasattr(v, "item") else str(v)
        for m in metrics:
            r[m] = json_number(d.summary[m][i])
        runs.append(r)
    js = {
        "source": os.path.abspath(d.path),
        "scenario": scenario_name(d),
        "tool_version": d.info.get("tool_version"),
        "git_commit": d.info.get("git_commit"),
        "master_seed": d.info.get("master_seed"),
        "n_runs": d.n_runs,
        "policies": d.policies,
        "runs_per_policy": runs_per_policy,
        "representative": {p: {"run_id": d.rep[p]["run_id"], "seed": d.rep[p]["seed"]} for p in d.policies},
        "bootstrap": {"method": "percentile", "resamples": BOOTSTRAP_RESAMPLES, "confidence": CONFIDENCE,
                      "seed": BOOTSTRAP_SEED, "seed_per_metric": "numpy default_rng([seed, crc32(metric)])",
                      "note": "mean and interval over the runs with a finite value; interval null for n < 2"},
        "metrics": metrics,
        "missing_metrics": missing,
        "table": {p: {m: {k: (json_number(v) if k in ("mean", "ci_low", "ci_high") else v)
                          for k, v in table[p][m].items()} for m in metrics} for p in d.policies},
        "pooled_cascade_amplification": (
            {p: {k: (json_number(v) if k != "n" else v) for k, v in pooled[p].items()} for p in d.policies}
            if pooled else None),
        "distributions_skipped_nonfinite": skipped,
        "params": [p.split(":", 1)[1] for p in d.params],
        "sweep": sweep or None,
        "runs": runs,
        "figures": [os.path.basename(x) for x in figures],
    }
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(js, fh, indent=1, allow_nan=False)

    # ---- HTML
    h = []
    h.append("<!DOCTYPE html><html><head><meta charset='utf-8'>")
    h.append(f"<title>stresslab report: {esc(scenario_name(d))}</title>")
    h.append("<style>body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
             "td,th{border:1px solid #bbb;padding:3px 7px;text-align:right;vertical-align:top}"
             "th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%;border:1px solid #ddd}"
             "figure{margin:1em 0}figcaption{font-size:12px;color:#666}.ci{color:#666;font-size:11px}"
             "code{background:#f4f4f4;padding:0 3px}</style></head><body>")
    h.append(f"<h1>stresslab report: scenario <code>{esc(scenario_name(d))}</code></h1>")
    if sc.get("description"):
        h.append(f"<p><em>{esc(sc['description'])}</em></p>")
    h.append("<table>")
    for k, v in (("results file", os.path.abspath(d.path)), ("tool version", d.info.get("tool_version")),
                 ("git commit", d.info.get("git_commit")), ("created (UTC)", d.info.get("created_utc")),
                 ("master seed", d.info.get("master_seed")),
                 ("horizon", f"{sc.get('horizon_steps')} steps of {sc.get('dt_s')} s"),
                 ("runs", f"{d.n_runs} ({', '.join(f'{p}: {n}' for p, n in runs_per_policy.items())})"),
                 ("seeds", ", ".join(str(s) for s in sorted(set(int(x) for x in d.summary['seed']))))):
        h.append(f"<tr><th class='l'>{esc(k)}</th><td class='l'>{esc(v)}</td></tr>")
    h.append("</table>")
    assets = sc.get("assets") or []
    if len(assets) > 1:
        h.append(f"<p>The scenario has {len(assets)} assets; the path figures show the first, "
                 f"{esc(first_symbol(d))} (columns without a <code>.SYMBOL</code> suffix).</p>")

    h.append("<h2>1. Paths of a representative run per policy</h2>")
    h.append("<p>For each policy the run with the first seed in the file. Liquidation markers are placed at "
             "the mark price of the event's step (time = (step + 1) &times; dt); <em>endogenous</em> events are "
             "accounts that were healthy at the reference prices when first flagged. Funding estimate: the "
             "rate the current interval would settle at, in bps of notional per funding interval.</p>")
    for p in d.policies:
        r = d.rep[p]
        h.append(f"<h3>{esc(p)} &mdash; seed {r['seed']} (run {esc(r['run_id'])})</h3>")
        h.append(img_tag(os.path.join(out, f"paths_{safe_name(p)}.png"), f"paths {p}"))

    h.append("<h2>2. Metrics over seeds</h2>")
    if multi:
        h.append("<p>Box: quartiles and median, whiskers to 1.5 IQR; points: one per seed; diamond: mean. "
                 "Non-finite values are skipped and counted under each box.</p>")
        notes = []
        for m, per in (skipped or {}).items():
            for p, n in per.items():
                if n:
                    notes.append(f"{m} / {p}: {n}")
        h.append(f"<p>Non-finite values skipped in the distributions: "
                 f"{esc('; '.join(notes)) if notes else 'none'}.</p>")
        h.append(img_tag(dist_png, "distributions"))
        h.append(f"<p>Mean over seeds and 95% percentile-bootstrap interval of the mean "
                 f"({BOOTSTRAP_RESAMPLES} resamples, fixed RNG seed {BOOTSTRAP_SEED} per metric, "
                 f"reproducible). n = runs with a finite value; non-finite values (NaN: no liquidations, "
                 f"inf: only endogenous liquidations) are excluded and counted. Money in {esc(qa)}.</p>")
    else:
        h.append("<p>One run per policy: no distributions or intervals; the table gives the run's values.</p>")
    h.append("<table><tr><th class='l'>metric</th><th class='l'>unit</th>")
    for p in d.policies:
        h.append(f"<th>{esc(p)}</th>")
    h.append("</tr>")
    for m in metrics:
        h.append(f"<tr><td class='l'>{esc(metric_label(m))}<br><code>{esc(m)}</code></td>"
                 f"<td class='l'>{esc(metric_unit(m, qa))}</td>")
        for p in d.policies:
            s = table[p][m]
            cell = fmt(s["mean"])
            if s["ci_low"] is not None:
                cell += f"<br><span class='ci'>[{fmt(s['ci_low'])}, {fmt(s['ci_high'])}]</span>"
            extra = []
            if s["n"] < runs_per_policy[p] and s["n"] > 0:
                extra.append(f"n={s['n']}")
            if s["n_nonfinite"]:
                parts = []
                if s["n_nan"]:
                    parts.append(f"{s['n_nan']} NaN")
                if s["n_inf"]:
                    parts.append(f"{s['n_inf']} inf")
                extra.append(", ".join(parts) + " skipped")
            if extra:
                cell += f"<br><span class='ci'>{esc('; '.join(extra))}</span>"
            h.append(f"<td>{cell}</td>")
        h.append("</tr>")
    if pooled:
        h.append("<tr><td class='l'>cascade amplification, pooled over seeds<br>"
                 "<code>sum liquidated_notional / sum exogenous_liquidated_notional</code></td><td class='l'>ratio</td>")
        for p in d.policies:
            s = pooled[p]
            cell = fmt(s["value"]) if s["value"] is not None else "n/a"
            if s["ci_low"] is not None:
                cell += f"<br><span class='ci'>[{fmt(s['ci_low'])}, {fmt(s['ci_high'])}]</span>"
            h.append(f"<td>{cell}</td>")
        h.append("</tr>")
    h.append("</table>")
    if pooled:
        h.append("<p>Read cascade amplification in the pooled row: the per-run ratio explodes on seeds whose "
                 "exogenous liquidations are tiny, and its mean is carried by those few seeds.</p>")
    if missing:
        h.append(f"<p>Not in this file's /summary: {esc(', '.join(missing))}.</p>")

    h.append("<h2>3. Parameter sweeps</h2>")
    if d.params:
        h.append("<p>Each metric vs the swept parameter, one line per policy, mean over seeds (finite values)"
                 + (" and over the other swept parameters" if len(d.params) > 1 else "") + ".</p>")
        for param in d.params:
            h.append(f"<h3>{esc(param.split(':', 1)[1])}</h3>")
            h.append(img_tag(sweep_pngs[param], f"sweep {param}"))
    else:
        h.append("<p>This file has no <code>param:</code> columns in /summary (not a sweep), so there is "
                 "nothing to plot against a parameter.</p>")
    h.append("<p style='font-size:12px;color:#666'>Generated by analysis/report.py; the numbers of the table "
             "are in summary.json next to this page.</p></body></html>")
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(h))

    print(os.path.join(out, "index.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
