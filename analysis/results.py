"""Read stresslab results files (HDF5, layout_version 1; see sim/sweep/results_writer.hpp / model.md section 8).

Needs only h5py and numpy (Debian: /usr/bin/python3 with python3-h5py).

    import sys; sys.path.insert(0, "<repo>/analysis")
    import results as R
    with R.open_results("out.h5") as f:
        info = R.file_info(f)            # root attributes; info["scenario"] is the parsed scenario JSON
        s = R.summary(f)                 # dict column -> numpy array, one entry per run
        for rid in R.run_ids(f):
            cols = R.series(f, rid)      # dict column -> float64 array
            liq = R.liquidations(f, rid) # structured array, one row per liquidation

With pandas (not required): pd.DataFrame(R.summary(f)) or pd.DataFrame(f["summary"][:]) (the latter keeps
fixed-width strings as bytes).

Fixed-width string fields (run_id, policy, param:*, agent_type, policy_path) are stored as bytes and
returned here decoded to str. Swept parameters are stored as text (`param:<name>` fields); summary()
converts a param column to float64 when every value parses as a number (parse_params=True, default).
"""

import json

import h5py
import numpy as np

LAYOUT_VERSION = 1
SUMMARY_FIXED_FIELDS = ("run_id", "run_index", "policy", "seed")
PARAM_PREFIX = "param:"

__all__ = [
    "open_results", "file_info", "run_ids", "summary", "summary_array", "series", "units",
    "liquidations", "run_info",
]


def open_results(path):
    """Opens a results file read-only (use as a context manager). Raises ValueError for an unknown layout."""
    f = h5py.File(path, "r")
    version = int(f.attrs.get("layout_version", -1))
    if version != LAYOUT_VERSION:
        f.close()
        raise ValueError(f"{path}: unsupported results layout_version {version} (expected {LAYOUT_VERSION})")
    return f


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind == "S":
        return np.char.decode(v, "utf-8")
    return v


def _decode_structured(arr):
    """Copy of a structured array with every bytes ('S') field turned into str ('U')."""
    arr = np.asarray(arr)
    if arr.dtype.names is None:
        return arr
    descr = []
    for name in arr.dtype.names:
        dt = arr.dtype.fields[name][0]
        descr.append((name, np.dtype(f"U{max(dt.itemsize, 1)}") if dt.kind == "S" else dt))
    out = np.empty(arr.shape, dtype=descr)
    for name in arr.dtype.names:
        out[name] = _text(arr[name]) if arr.dtype.fields[name][0].kind == "S" else arr[name]
    return out


def file_info(f):
    """Root attributes as plain Python values; adds 'scenario' (the parsed scenario_json)."""
    info = {k: _text(v) for k, v in f.attrs.items()}
    for k in ("master_seed", "layout_version"):
        if k in info:
            info[k] = int(info[k])
    try:
        info["scenario"] = json.loads(info.get("scenario_json", ""))
    except ValueError:
        info["scenario"] = None
    return info


def summary_array(f):
    """The /summary table as a numpy structured array (strings decoded), one row per run."""
    if "summary" not in f:
        return np.empty(0, dtype=[(n, "U1") for n in SUMMARY_FIXED_FIELDS])
    return _decode_structured(f["summary"][:])


def _maybe_float(col):
    try:
        return np.array([float(v) for v in col], dtype=np.float64)
    except ValueError:
        return col


def summary(f, parse_params=True):
    """dict column -> numpy array (one element per run, in the file's run order).

    Columns: run_id, run_index, policy, seed, every summary metric (float64), every `param:<name>`
    (str, or float64 when parse_params and all values parse as numbers)."""
    arr = summary_array(f)
    out = {}
    for name in arr.dtype.names:
        col = arr[name]
        if parse_params and name.startswith(PARAM_PREFIX) and len(col):
            col = _maybe_float(col)
        out[name] = col
    return out


def run_ids(f):
    """Run ids in the order of /summary (the append order), falling back to sorted group names."""
    if "summary" in f and f["summary"].shape[0]:
        return [str(x) for x in _text(f["summary"]["run_id"])]
    return sorted(f["runs"].keys()) if "runs" in f else []


def _run_group(f, run_id):
    """run_id: the run's id (str) or its run_index (int)."""
    if isinstance(run_id, (int, np.integer)) and not isinstance(run_id, bool):
        s = summary_array(f)
        hits = np.nonzero(s["run_index"] == run_id)[0] if len(s) else []
        if len(hits) != 1:
            raise KeyError(f"no run with run_index {run_id}")
        run_id = s["run_id"][hits[0]]
    key = f"runs/{run_id}"
    if key not in f:
        raise KeyError(f"no run '{run_id}' in {f.filename}")
    return f[key]


def series(f, run_id):
    """dict column -> 1-D float64 array for one run (run_id str, or run_index int)."""
    g = _run_group(f, run_id)
    return {name: ds[()] for name, ds in g["series"].items()}


def units(f, run_id):
    """dict column -> unit string for one run's series."""
    g = _run_group(f, run_id)
    return {name: _text(ds.attrs.get("unit", "")) for name, ds in g["series"].items()}


def liquidations(f, run_id):
    """One run's liquidation events as a structured array (strings decoded, endogenous as uint8)."""
    g = _run_group(f, run_id)
    return _decode_structured(g["liquidations"][:])


def run_info(f, run_id):
    """A run group's attributes: policy, seed, run_index and params (dict name -> text)."""
    g = _run_group(f, run_id)
    attrs = {k: _text(v) for k, v in g.attrs.items()}
    params = {k[len(PARAM_PREFIX):]: v for k, v in attrs.items() if k.startswith(PARAM_PREFIX)}
    return {
        "run_id": g.name.rsplit("/", 1)[-1],
        "policy": attrs.get("policy"),
        "seed": int(attrs["seed"]) if "seed" in attrs else None,
        "run_index": int(attrs["run_index"]) if "run_index" in attrs else None,
        "params": params,
    }
