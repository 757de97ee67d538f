"""Checks the results file layout (model.md section 8) with h5py, on a real `stresslab run` output.

Usage: /usr/bin/python3 test_results_h5py.py <stresslab-binary> <source-dir>

Runs `stresslab run <src>/scenarios/calm.json --out <tmp>/calm.h5 --set horizon_steps=600 --seed 7` and
checks the file. Standalone (no pytest): prints each failure, then `N passed, M failed`; exits non-zero on
any failure.

Developer mode: STRESSLAB_CHECK_H5=<file> skips running the binary and checks an existing file against the
layout only (no run-specific expectations: seed, horizon, engine column set), e.g. the file left by
`STRESSLAB_KEEP_H5=/tmp/x.h5 build/.../tests/test_results`.
"""

import datetime
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from harness import Checks

HORIZON = 600
SEED = 7
ENGINE_COLUMNS = ["time_s", "reference", "spot_mid", "perp_mid", "spot_spread_bps", "spot_bid_depth_1pct",
                  "spot_ask_depth_1pct"]
LIQ_FIELDS = [("step", "<i8"), ("account", "<u4"), ("agent_type", "S24"), ("policy_path", "S64"),
              ("notional", "<f8"), ("price", "<f8"), ("mark", "<f8"), ("slippage_bps", "<f8"),
              ("penalty", "<f8"), ("liquidator", "<i4"), ("steps_to_complete", "<i4"), ("bad_debt", "<f8"),
              ("endogenous", "u1")]
SUMMARY_FIXED = [("run_id", "S16"), ("run_index", "<i8"), ("policy", "S24"), ("seed", "<u8")]

CHECKS = Checks()
check = CHECKS.check


def finish():
    sys.exit(CHECKS.summary())


# ------------------------------------------------------------------------------------------------------
# Context shared by the checks


class Ctx:
    path = None
    live = True        # produced by this script's stresslab run (run-specific expectations apply)
    tmpdir = None
    scenario = None


def run_stresslab(binary, srcdir, tmpdir):
    scenario = os.path.join(srcdir, "scenarios", "calm.json")
    assert os.path.isfile(binary) and os.access(binary, os.X_OK), f"stresslab binary missing: {binary}"
    assert os.path.isfile(scenario), f"scenario missing: {scenario}"
    out = os.path.join(tmpdir, "calm.h5")
    cmd = [binary, "run", scenario, "--out", out, "--set", f"horizon_steps={HORIZON}", "--seed", str(SEED)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, (f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}"
                                  f"\nstderr:\n{proc.stderr[-2000:]}")
    assert os.path.isfile(out), f"{out} not written"
    leftovers = [n for n in os.listdir(tmpdir) if ".tmp-" in n]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    Ctx.path = out


def check_h5dump():
    h5dump = shutil.which("h5dump")
    assert h5dump, "h5dump not found (install hdf5-tools)"
    proc = subprocess.run([h5dump, "-H", Ctx.path], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"h5dump -H exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert "GROUP \"/runs\"" in proc.stdout or "GROUP \"runs\"" in proc.stdout, "h5dump shows no /runs group"


def scenario_value(keys, default):
    node = Ctx.scenario
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return default
        node = node[k]
    return node


def check_root_attrs(f):
    a = f.attrs
    for k in ("tool_version", "git_commit", "scenario_json", "created_utc"):
        assert k in a, f"root attribute {k} missing"
        assert isinstance(a[k], str), f"root attribute {k} is {type(a[k]).__name__}, expected str"
    assert a["tool_version"], "tool_version empty"
    assert a["git_commit"], "git_commit empty"
    Ctx.scenario = json.loads(a["scenario_json"])
    assert isinstance(Ctx.scenario, dict), "scenario_json is not a JSON object"
    created = a["created_utc"]
    datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))  # raises if not ISO 8601
    assert "master_seed" in a and "layout_version" in a
    assert a["master_seed"].dtype == np.uint64, f"master_seed dtype {a['master_seed'].dtype}"
    assert np.issubdtype(a["layout_version"].dtype, np.integer), f"layout_version dtype {a['layout_version'].dtype}"
    assert int(a["layout_version"]) == 1
    if Ctx.live:
        assert int(a["master_seed"]) == SEED, f"master_seed {int(a['master_seed'])} != {SEED}"
        hs = scenario_value(["horizon_steps"], None)
        assert hs is None or int(hs) == HORIZON, f"scenario_json horizon_steps {hs} (the --set is not reflected)"


def run_groups(f):
    assert "runs" in f and isinstance(f["runs"], h5py.Group), "/runs missing"
    groups = list(f["runs"].keys())
    assert groups, "/runs is empty"
    return groups


def check_run_groups(f):
    for rid in run_groups(f):
        g = f["runs"][rid]
        assert isinstance(g.attrs.get("policy"), str), f"{g.name}: policy attr missing or not str"
        assert g.attrs["seed"].dtype == np.uint64, f"{g.name}: seed dtype {g.attrs['seed'].dtype}"
        assert g.attrs["run_index"].dtype == np.int64, f"{g.name}: run_index dtype {g.attrs['run_index'].dtype}"
        for k, v in g.attrs.items():
            if k.startswith("param:"):
                assert isinstance(v, str), f"{g.name}: {k} is not str"
        assert isinstance(g.get("series"), h5py.Group), f"{g.name}/series missing"
        liq = g.get("liquidations")
        assert isinstance(liq, h5py.Dataset), f"{g.name}/liquidations missing"
        assert liq.ndim == 1
        got = [(n, liq.dtype.fields[n][0]) for n in liq.dtype.names]
        assert got == [(n, np.dtype(t)) for n, t in LIQ_FIELDS], f"{g.name}/liquidations dtype {liq.dtype}"
        assert liq.chunks is not None and liq.compression == "gzip", f"{g.name}/liquidations not chunked+gzip"
        liq[:]  # readable, also when empty


def expected_lengths():
    rec = int(scenario_value(["output", "record_every_steps"], 1) or 1)
    n = HORIZON // rec
    return {n, -(-HORIZON // rec), -(-HORIZON // rec) + 1}


def check_series_layout(f):
    for rid in run_groups(f):
        s = f["runs"][rid]["series"]
        lengths = set()
        assert len(s) > 0, f"{s.name} has no columns"
        for name, ds in s.items():
            assert isinstance(ds, h5py.Dataset), f"{ds.name} is not a dataset"
            assert ds.ndim == 1, f"{ds.name} is {ds.ndim}-D"
            assert ds.dtype == np.float64, f"{ds.name} dtype {ds.dtype}"
            assert ds.chunks is not None, f"{ds.name} not chunked"
            assert ds.compression == "gzip", f"{ds.name} compression {ds.compression}"
            assert ds.shuffle, f"{ds.name} without shuffle"
            assert ds.chunks[0] <= 4096
            assert isinstance(ds.attrs.get("unit"), str), f"{ds.name} unit attribute missing or not str"
            lengths.add(ds.shape[0])
        assert len(lengths) == 1, f"{s.name}: columns differ in length: {sorted(lengths)}"
        if Ctx.live:
            (n,) = lengths
            assert n in expected_lengths(), f"{s.name}: length {n}, expected one of {sorted(expected_lengths())}"


def check_series_values(f):
    required = ENGINE_COLUMNS if Ctx.live else ["reference"]
    for rid in run_groups(f):
        s = f["runs"][rid]["series"]
        missing = [c for c in required if c not in s]
        assert not missing, f"{s.name}: missing columns {missing} (has {sorted(s.keys())})"
        for c in ("reference", "spot_mid"):
            if c not in s:
                continue
            v = s[c][()]
            assert np.all(np.isfinite(v)), f"{s[c].name}: non-finite values"
            assert np.all(v > 0), f"{s[c].name}: non-positive values (min {v.min() if v.size else None})"
        if "time_s" in s:
            t = s["time_s"][()]
            if t.size >= 2:
                dt = float(scenario_value(["dt_s"], 1.0))
                rec = int(scenario_value(["output", "record_every_steps"], 1) or 1)
                d = np.diff(t)
                assert np.allclose(d, dt * rec, rtol=1e-9, atol=1e-9), \
                    f"{s['time_s'].name}: steps {np.unique(d)[:5]}, expected {dt * rec}"


def check_summary(f):
    assert "summary" in f and isinstance(f["summary"], h5py.Dataset), "/summary missing"
    ds = f["summary"]
    assert ds.ndim == 1
    assert ds.maxshape == (None,), f"/summary maxshape {ds.maxshape}, expected extendible"
    assert ds.chunks is not None, "/summary not chunked"
    names = ds.dtype.names
    assert names is not None, "/summary is not compound"
    assert [(n, np.dtype(t)) for n, t in SUMMARY_FIXED] == [(n, ds.dtype.fields[n][0]) for n in names[:4]], \
        f"/summary leading fields {ds.dtype.descr[:4]}"
    for n in names[4:]:
        t = ds.dtype.fields[n][0]
        if n.startswith("param:"):
            assert t == np.dtype("S64"), f"/summary {n} dtype {t}"
        else:
            assert t == np.float64, f"/summary metric {n} dtype {t}"
    rows = ds[:]
    groups = run_groups(f)
    assert len(rows) == len(groups), f"/summary has {len(rows)} rows for {len(groups)} run groups"
    assert sorted(r.decode() for r in rows["run_id"]) == sorted(groups), "summary run_ids != /runs groups"
    for r in rows:
        g = f["runs"][r["run_id"].decode()]
        assert r["policy"].decode() == g.attrs["policy"]
        assert int(r["seed"]) == int(g.attrs["seed"])
        assert int(r["run_index"]) == int(g.attrs["run_index"])
    if Ctx.live:
        assert len(rows) == 1, f"one run expected, got {len(rows)}"
        assert int(rows["seed"][0]) == SEED, f"summary seed {int(rows['seed'][0])} != {SEED}"


def check_reader_module(srcdir):
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(srcdir, "analysis"))
    import results as R  # noqa: E402 - analysis/results.py

    with R.open_results(Ctx.path) as f:
        info = R.file_info(f)
        assert isinstance(info["scenario"], dict)
        assert info["layout_version"] == 1
        s = R.summary(f)
        ids = R.run_ids(f)
        assert list(s["run_id"]) == ids, (list(s["run_id"]), ids)
        assert all(isinstance(x, str) for x in ids)
        assert set(s) >= {"run_id", "run_index", "policy", "seed"}
        for i, rid in enumerate(ids):
            cols = R.series(f, rid)
            assert set(cols) == set(f["runs"][rid]["series"].keys())
            for c, v in cols.items():
                assert v.dtype == np.float64 and v.ndim == 1
                assert np.array_equal(v, f["runs"][rid]["series"][c][()], equal_nan=True)
            by_index = R.series(f, int(s["run_index"][i]))
            assert set(by_index) == set(cols)
            liq = R.liquidations(f, rid)
            assert liq.dtype.names == tuple(n for n, _ in LIQ_FIELDS), liq.dtype
            assert liq.dtype["agent_type"].kind == "U"
            assert len(liq) == f["runs"][rid]["liquidations"].shape[0]
            info_r = R.run_info(f, rid)
            assert info_r["run_id"] == rid and info_r["policy"] == s["policy"][i]
            assert R.units(f, rid).keys() == cols.keys()


def main():
    if len(sys.argv) < 3:
        print("usage: test_results_h5py.py <stresslab-binary> <source-dir>")
        sys.exit(2)
    binary, srcdir = sys.argv[1], sys.argv[2]
    existing = os.environ.get("STRESSLAB_CHECK_H5")
    tmpdir = tempfile.mkdtemp(prefix="sl_py_results_")
    try:
        if existing:
            Ctx.path, Ctx.live = existing, False
            print(f"checking existing file {existing} (layout only)")
        else:
            check("stresslab run calm.json", run_stresslab, binary, srcdir, tmpdir)
            if Ctx.path is None:
                finish()
        check("h5dump -H exits 0", check_h5dump)
        with h5py.File(Ctx.path, "r") as f:
            check("root attributes", check_root_attrs, f)
            check("run groups and liquidations", check_run_groups, f)
            check("series layout (1-D float64, chunked, gzip+shuffle, unit)", check_series_layout, f)
            check("series values (reference/spot_mid positive, time_s step)", check_series_values, f)
            check("summary compound", check_summary, f)
        check("analysis/results.py reader", check_reader_module, srcdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
