#!/usr/bin/python3
"""Figures and table of a `stresslab calibrate` surface file (HDF5, calibration_layout_version 1).

    calibration.py SURFACE.h5 [--out DIR]

DIR defaults to `<surface name>_figures/` next to the file (results/penalty.h5 -> results/penalty_figures/).
Writes into DIR:

  objective_vs_penalty.png   one panel per (sigma, depth, latency) cell: mean objective J over seeds
                             against the penalty (one line per maintenance margin when it is swept), with
                             the 95% Student-t interval of each mean (shaded) and the 95% paired interval
                             of J - J(optimum) over the common seeds (error bars); the optimum marked, the
                             bootstrap 95% interval of the optimal penalty shaded green
  optimal_penalty.png        the optimal penalty surface: one heatmap over sigma x depth per latency,
                             each cell annotated "optimum [2.5%, 97.5% bootstrap]"
  optimal_penalty_lines.png  the same surface as lines: optimal penalty against sigma, one line per
                             (depth, latency), bootstrap intervals as error bars
  lambda_sensitivity.png     the optimal penalty of every cell against lambda (0 to max(2, 4 x the file's
                             lambda)), recomputed from the per-candidate means of the objective's parts,
                             which is exact: mean J = mean protocol loss + lambda x mean user cost
  surface.json               per cell: the axis values, optimal penalty (and margin) with its interval,
                             the objective at the optimum (mean, 95% interval), the near-optimal penalties;
                             "lambda_sensitivity": the lambda grid and, per cell, the optimal penalty at each

and prints the surface table (the numbers of surface.json) on stdout, last line the output folder.
Exit status 2 for a missing/unreadable file or one without /calibration. Needs h5py, numpy,
matplotlib (Debian: /usr/bin/python3).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

MAX_PANELS = 36


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def read_surface(path):
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(f"{path}: cannot open as HDF5 ({e})")
    with f:
        if "calibration" not in f:
            fail(f"{path}: no /calibration group (not a stresslab calibrate surface file)")
        g = f["calibration"]
        d = {k: g[k][()] for k in g.keys()}
        d["attrs"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
        d["pointers"] = {k: g[k].attrs["pointer"] for k in ("sigma", "depth", "latency", "penalty_bps", "mmr_bps")}
        d["pointers"] = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in d["pointers"].items()}
        d["mmr_swept"] = bool(g["mmr_bps"].attrs["swept"])
    return d


def num(x):
    return None if x is None or not math.isfinite(float(x)) else float(x)


def fmt(x):
    return f"{x:g}"


def cells(d):
    """(i, k, t) index triples in file order with their axis values."""
    for i, s in enumerate(d["sigma"]):
        for k, q in enumerate(d["depth"]):
            for t, lat in enumerate(d["latency"]):
                yield (i, k, t), (float(s), float(q), float(lat))


def surface_table(d):
    pen = d["penalty_bps"]
    rows = []
    for (i, k, t), (s, q, lat) in cells(d):
        m_opt = int(np.argmin(np.abs(d["mmr_bps"] - d["optimal_mmr_bps"][i, k, t])))
        near = [float(p) for p, ok in zip(pen, d["near_optimal"][i, k, t, m_opt]) if ok]
        row = {
            "sigma": s, "depth": q, "latency": lat,
            "optimal_penalty_bps": num(d["optimal_penalty_bps"][i, k, t]),
            "optimal_penalty_lo_bps": num(d["optimal_penalty_lo_bps"][i, k, t]),
            "optimal_penalty_hi_bps": num(d["optimal_penalty_hi_bps"][i, k, t]),
            "objective_mean": num(d["optimal_objective_mean"][i, k, t]),
            "objective_lo": num(d["optimal_objective_lo"][i, k, t]),
            "objective_hi": num(d["optimal_objective_hi"][i, k, t]),
            "near_optimal_penalties_bps": near,
        }
        if d["mmr_swept"]:
            row.update({"optimal_mmr_bps": num(d["optimal_mmr_bps"][i, k, t]),
                        "optimal_mmr_lo_bps": num(d["optimal_mmr_lo_bps"][i, k, t]),
                        "optimal_mmr_hi_bps": num(d["optimal_mmr_hi_bps"][i, k, t])})
        rows.append(row)
    return rows


def print_table(d, rows):
    a = d["attrs"]
    print(f"calibration {a['name']}: policy {a['policy']}, lambda {fmt(float(a['lambda']))}, "
          f"{int(a['n_seeds'])} seeds from {int(a['first_seed'])}")
    print(f"objective: {a['objective']}")
    mm = "  optimal mmr bps [95% boot]" if d["mmr_swept"] else ""
    print(f"{'sigma':>8} {'depth':>8} {'latency':>8}  {'optimal penalty bps [95% boot]':<31}{mm}  "
          f"{'J at optimum mean [95% CI]':<36} near-optimal penalties")
    for r in rows:
        opt = f"{fmt(r['optimal_penalty_bps'])} [{fmt(r['optimal_penalty_lo_bps'])}, {fmt(r['optimal_penalty_hi_bps'])}]"
        mcol = (f"  {fmt(r['optimal_mmr_bps'])} [{fmt(r['optimal_mmr_lo_bps'])}, {fmt(r['optimal_mmr_hi_bps'])}]".ljust(28)
                if d["mmr_swept"] else "")
        J = f"{r['objective_mean']:.4g} [{r['objective_lo']:.4g}, {r['objective_hi']:.4g}]"
        near = ",".join(fmt(p) for p in r["near_optimal_penalties_bps"])
        print(f"{fmt(r['sigma']):>8} {fmt(r['depth']):>8} {fmt(r['latency']):>8}  {opt:<31}{mcol}  {J:<36} {near}")


def axis_label(d, name):
    return f"{name} ({d['pointers'][name]})"


def plot_objective(d, out_png):
    import matplotlib.pyplot as plt
    pen = d["penalty_bps"]
    todo = list(cells(d))[:MAX_PANELS]
    n = len(todo)
    ncol = min(4, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow), squeeze=False)
    for ax, ((i, k, t), (s, q, lat)) in zip(axes.flat, todo):
        lo_b, hi_b = d["optimal_penalty_lo_bps"][i, k, t], d["optimal_penalty_hi_bps"][i, k, t]
        ax.axvspan(lo_b, hi_b, color="tab:green", alpha=0.15, label="optimum, 95% bootstrap")
        p_opt = d["optimal_penalty_bps"][i, k, t]
        m_opt = int(np.argmin(np.abs(d["mmr_bps"] - d["optimal_mmr_bps"][i, k, t])))
        q_opt = int(np.argmin(np.abs(pen - p_opt)))
        best_mean = d["objective_mean"][i, k, t, m_opt, q_opt]
        for m, mmr in enumerate(d["mmr_bps"]):
            mean = d["objective_mean"][i, k, t, m]
            # Shaded: the 95% t interval of each mean (includes the seed-to-seed spread that every
            # candidate shares). Error bars: the paired interval of J - J(optimum) over the common seeds,
            # drawn around the mean, which is what decides whether two penalties differ.
            band = ax.fill_between(pen, d["objective_lo"][i, k, t, m], d["objective_hi"][i, k, t, m], alpha=0.12)
            err = np.vstack([(mean - best_mean) - d["paired_diff_lo"][i, k, t, m],
                             d["paired_diff_hi"][i, k, t, m] - (mean - best_mean)])
            lab = f"mmr {fmt(mmr)} bps: mean J" if d["mmr_swept"] else "mean J"
            ax.errorbar(pen, mean, yerr=err, marker="o", ms=3, capsize=3, lw=1.2, label=lab,
                        color=band.get_facecolor()[0][:3])
        ax.plot([], [], color="grey", alpha=0.3, lw=6, label="95% t interval of the mean")
        ax.errorbar([], [], yerr=[], color="grey", capsize=3, label="95% paired interval vs optimum")
        star, = ax.plot([p_opt], [best_mean], marker="*", ms=14, color="tab:red",
                ls="none", label=f"optimum {fmt(p_opt)} bps")
        ax.set_title(f"sigma {fmt(s)}, depth {fmt(q)}, latency {fmt(lat)}", fontsize=9)
        ax.set_xlabel("liquidation penalty (bps)", fontsize=8)
        ax.set_ylabel("objective J (quote units)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if ax is axes.flat[0]:  # the full legend once; the other panels only name their optimum
            ax.legend(fontsize=6.5, loc="best")
        else:
            ax.legend([star], [f"optimum {fmt(p_opt)} bps"], fontsize=7, loc="best")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    lam = float(d["attrs"]["lambda"])
    fig.suptitle(f"Objective J = bad debt + unrealised bad debt + fund drawdown + {fmt(lam)} x (penalties + slippage), mean over "
                 f"{int(d['attrs']['n_seeds'])} seeds" + (f" (first {MAX_PANELS} cells)" if len(list(cells(d))) > MAX_PANELS else ""),
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def plot_heatmaps(d, out_png):
    import matplotlib.pyplot as plt
    sig, dep, lat = d["sigma"], d["depth"], d["latency"]
    opt = d["optimal_penalty_bps"]
    vmin, vmax = float(np.min(d["penalty_bps"])), float(np.max(d["penalty_bps"]))
    ncol = len(lat)
    fig, axes = plt.subplots(1, ncol, figsize=(max(4.5, 1.6 * len(sig) + 2.5) * ncol, max(3.2, 1.0 * len(dep) + 2.0)),
                             squeeze=False)
    im = None
    for t, ax in enumerate(axes.flat):
        grid = opt[:, :, t].T  # rows: depth, columns: sigma
        im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        for i in range(len(sig)):
            for k in range(len(dep)):
                v = opt[i, k, t]
                txt = f"{fmt(v)}\n[{fmt(d['optimal_penalty_lo_bps'][i, k, t])}, {fmt(d['optimal_penalty_hi_bps'][i, k, t])}]"
                color = "white" if (v - vmin) < 0.6 * (vmax - vmin) else "black"
                ax.text(i, k, txt, ha="center", va="center", fontsize=8, color=color)
        ax.set_xticks(range(len(sig)), [fmt(s) for s in sig])
        ax.set_yticks(range(len(dep)), [fmt(q) for q in dep])
        ax.set_xlabel(axis_label(d, "sigma"), fontsize=8)
        ax.set_ylabel(axis_label(d, "depth"), fontsize=8)
        ax.set_title(f"latency {fmt(lat[t])} ({d['pointers']['latency']})", fontsize=9)
    cb = fig.colorbar(im, ax=list(axes.flat), shrink=0.9)
    cb.set_label("optimal penalty (bps)")
    fig.suptitle("Optimal liquidation penalty, bps [95% bootstrap interval over seeds]", fontsize=10)
    fig.savefig(out_png, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_lines(d, out_png):
    import matplotlib.pyplot as plt
    sig = d["sigma"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    n_lines = len(d["depth"]) * len(d["latency"])
    width = 0.02 * (float(np.ptp(sig)) if len(sig) > 1 else 1.0)
    j = 0
    for k, q in enumerate(d["depth"]):
        for t, lat in enumerate(d["latency"]):
            y = d["optimal_penalty_bps"][:, k, t]
            err = np.vstack([y - d["optimal_penalty_lo_bps"][:, k, t], d["optimal_penalty_hi_bps"][:, k, t] - y])
            x = sig + (j - (n_lines - 1) / 2) * width  # small offsets so intervals do not hide each other
            ax.errorbar(x, y, yerr=err, marker="o", capsize=4, lw=1.5, label=f"depth {fmt(q)}, latency {fmt(lat)}")
            j += 1
    ax.set_xlabel(axis_label(d, "sigma"))
    ax.set_ylabel("optimal penalty (bps)")
    ax.set_title("Optimal penalty vs volatility (error bars: 95% bootstrap interval over seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


PROTOCOL_PARTS = ("bad_debt_mean", "unrealised_bad_debt_mean", "fund_drawdown_mean")
USER_PARTS = ("penalties_paid_mean", "slippage_cost_mean")


def lambda_sensitivity(d):
    """Optimal penalty per cell for a grid of lambdas, from the component means (exact, no rerun)."""
    lam0 = float(d["attrs"]["lambda"])
    lams = np.linspace(0.0, max(2.0, 4.0 * lam0), 81)
    lams = np.unique(np.append(lams, lam0))
    loss = sum(d[k] for k in PROTOCOL_PARTS)   # [S, D, L, M, P]
    user = sum(d[k] for k in USER_PARTS)
    n_p = len(d["penalty_bps"])
    out = {}
    for (i, k, t), (s, q, lat) in cells(d):
        opt = []
        for lam in lams:
            j = (loss[i, k, t] + lam * user[i, k, t]).ravel()  # candidate = m * P + p, as in the tool
            opt.append(float(d["penalty_bps"][int(np.argmin(j)) % n_p]))
        out[(s, q, lat)] = opt
    return lams, out


def plot_lambda(d, lams, opt, out_png):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    n = len(opt)
    for j, ((s, q, lat), y) in enumerate(opt.items()):
        # A small vertical offset per cell so that cells with the same answer stay visible.
        off = (j - (n - 1) / 2) * 0.004 * float(np.ptp(d["penalty_bps"]))
        ax.step(lams, np.array(y) + off, where="post", lw=1.4, label=f"sigma {fmt(s)}, depth {fmt(q)}, latency {fmt(lat)}")
    lam0 = float(d["attrs"]["lambda"])
    ax.axvline(lam0, color="black", ls="--", lw=1, label=f"file's lambda = {fmt(lam0)}")
    ax.set_xlabel("lambda (weight of user cost against protocol loss)")
    ax.set_ylabel("optimal penalty (bps)")
    ax.set_title("Optimal penalty vs lambda (from the per-penalty means; lines offset slightly)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if n > 6 else 1)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Figures and table of a stresslab calibrate surface file.")
    ap.add_argument("surface", help="surface file written by `stresslab calibrate`")
    ap.add_argument("--out", help="output folder (default: <surface name>_figures next to the file)")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.surface):
        fail(f"{args.surface}: no such file")
    d = read_surface(args.surface)
    out = args.out or os.path.splitext(args.surface)[0] + "_figures"
    os.makedirs(out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    rows = surface_table(d)
    plot_objective(d, os.path.join(out, "objective_vs_penalty.png"))
    plot_heatmaps(d, os.path.join(out, "optimal_penalty.png"))
    plot_lines(d, os.path.join(out, "optimal_penalty_lines.png"))
    lams, lam_opt = lambda_sensitivity(d)
    plot_lambda(d, lams, lam_opt, os.path.join(out, "lambda_sensitivity.png"))
    doc = {"name": d["attrs"]["name"], "policy": d["attrs"]["policy"], "lambda": float(d["attrs"]["lambda"]),
           "objective": d["attrs"]["objective"], "n_seeds": int(d["attrs"]["n_seeds"]),
           "pointers": d["pointers"], "penalty_bps": [float(p) for p in d["penalty_bps"]], "cells": rows,
           "lambda_sensitivity": {"lambda": [float(x) for x in lams],
                                  "optimal_penalty_bps": [{"sigma": s, "depth": q, "latency": lat, "values": y}
                                                          for (s, q, lat), y in lam_opt.items()]}}
    with open(os.path.join(out, "surface.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
    print_table(d, rows)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
