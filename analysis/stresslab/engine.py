"""run / sweep / validate: the engine in process (stresslab._core, built by CMake from sim/python).

`scenario` is a path (str or os.PathLike) or a dict (the scenario JSON as Python objects). `set` maps
a dotted path or JSON pointer to a value, exactly like the CLI's --set PATH=VALUE (values are passed
as JSON). Every function raises the CLI's exit-2 errors as ScenarioError / SweepError / DataError.
"""

import json
import os
import tempfile
import warnings

import numpy as np

try:
    from . import _core
except ImportError as _e:  # built without pybind11: read() still works
    _core = None
    _IMPORT_ERROR = _e

from .frames import Results

if _core is not None:
    ScenarioError = _core.ScenarioError
    SweepError = _core.SweepError
    DataError = _core.DataError
else:
    class ScenarioError(ValueError):
        """Bad scenario (file, field, allowed range)."""

    class SweepError(ValueError):
        """Bad run or sweep arguments."""

    class DataError(ValueError):
        """Bad replay data file."""

DICT_ORIGIN = "<scenario dict>"
SWEEP_DICT_ORIGIN = "<sweep dict>"


def engine_available():
    return _core is not None


def _engine():
    if _core is None:
        raise ImportError("stresslab was built without its engine module (_core): install pybind11-dev and "
                          f"python3-dev (scripts/setup) and rebuild ({_IMPORT_ERROR})")
    return _core


def version():
    """(tool version, git commit) of the engine module."""
    return _engine().version, _engine().git_commit


def policies():
    """The implemented liquidation policies."""
    return list(_engine().policies())


def _overrides(set_):
    """{"agents.noise_traders.count": 50} -> ["agents.noise_traders.count=50"]: every value as JSON, so a
    str stays a string ("true" is not turned into a bool) and dicts and lists are taken whole."""
    if set_ is None:
        return []
    if not isinstance(set_, dict):
        raise TypeError("set: a dict {path: value}, e.g. {'horizon_steps': 900}")
    return [f"{k}={json.dumps(v)}" for k, v in set_.items()]


def _scenario_source(scenario):
    """(path, text, origin) for _core."""
    if isinstance(scenario, (str, os.PathLike)):
        return os.fspath(scenario), None, os.fspath(scenario)
    if isinstance(scenario, dict):
        return None, json.dumps(scenario), DICT_ORIGIN
    raise TypeError("scenario: a file path or a dict")


def _policy_list(policies_):
    if policies_ is None:
        return None
    if isinstance(policies_, str):  # "market,batch" as on the command line
        return [p.strip() for p in policies_.split(",") if p.strip()]
    return [str(p) for p in policies_]


class _Output:
    """The results file: the path given, or one in a temporary directory that lives as long as the
    Results object reading it."""

    def __init__(self, out, name):
        self.tmp = None
        if out is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="stresslab-")
            self.path = os.path.join(self.tmp.name, name + ".h5")
        else:
            self.path = os.fspath(out)
            parent = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(parent):
                raise SweepError(f"out {self.path}: directory {parent} does not exist")


def validate(scenario, set=None):  # noqa: A002 - `set` mirrors the CLI's --set
    """Loads and validates a scenario; returns a dict (name, assets, horizon_steps, dt_s, seed, policy,
    resolved_json). Raises ScenarioError with the CLI's message."""
    path, text, origin = _scenario_source(scenario)
    return dict(_engine().validate(path, text, origin, _overrides(set)))


class DislocationWarning(UserWarning):
    """The perp traded far from its index in some runs (the CLI prints the same warning)."""


def _warn_dislocation(res):
    """The CLI's dislocation warning (sim/app/sweep_cli.cpp), from the same summary columns."""
    cols = [c for c in res.summary.columns if c.startswith("max_abs_premium_bps")]
    if not cols or not len(res.summary):
        return
    worst = res.summary[cols].to_numpy(dtype=np.float64)
    worst = np.where(np.isfinite(worst), worst, 0.0).max(axis=1)
    limit = _core.dislocation_warn_bps
    n = int((worst > limit).sum())
    if n:
        warnings.warn(f"in {n} of {len(res.summary)} run(s) the perp traded more than {limit / 100:.0f}% away from "
                      f"its index (worst {worst.max():.0f} bps): the scenario's perp side (arbitrage capacity, "
                      "makers' inventory limits) may be too small for its forced flow; see README, Scenario evidence",
                      DislocationWarning, stacklevel=3)


def _finish(info, output):
    if not info["complete"]:  # only an interruption stops a sweep early, and that raises
        raise RuntimeError(f"{output.path}: {info['runs_done']} of {info['runs_total']} runs finished")
    res = Results(output.path, keep_alive=output.tmp)
    _warn_dislocation(res)
    return res


def run(scenario, policies=None, seeds=1, seed=None, threads=0, set=None, out=None):  # noqa: A002
    """`stresslab run` in process: `policies` (default: the scenario's) x `seeds` seeds from `seed`
    (default: the scenario's), on `threads` worker threads (0: all cores; results do not depend on
    it). Writes the results file `out` (default: a temporary file kept while the Results lives) and
    returns its Results. Ctrl-C cancels (KeyboardInterrupt; a given `out` then holds the finished
    runs with root attribute complete = 0)."""
    path, text, origin = _scenario_source(scenario)
    name = os.path.splitext(os.path.basename(path))[0] if path else "scenario"
    output = _Output(out, name)
    info = _engine().run(path, text, origin, _overrides(set), _policy_list(policies),
                         None if seed is None else int(seed), int(seeds), int(threads), output.path)
    return _finish(info, output)


def _pointer(key):
    """'perp.liquidation.penalty_bps' or 'assets[0].initial_price' or a JSON pointer -> JSON pointer."""
    if key.startswith("/"):
        return key
    return "/" + key.replace("[", ".").replace("]", "").replace(".", "/")


def _axis_name(key):
    last = _pointer(key).rstrip("/").rsplit("/", 1)[-1]
    return last


def sweep(scenario=None, grid=None, policies=None, seeds=1, first_seed=None, threads=0, set=None,  # noqa: A002
          out=None, spec=None):
    """`stresslab sweep` in process. Either a sweep file / dict (`spec=`, the format of
    scenarios/sweep_spec.hpp; then grid, policies, seeds and first_seed come from it), or a base `scenario` (path or dict) with `grid` = {field: [values]} (cartesian, the last field varies
    fastest; fields as dotted paths or JSON pointers; the `param:<name>` column is the field's last
    component). `set` overrides the base scenario. Returns the Results (summary has param:* columns)."""
    core = _engine()
    overrides = _overrides(set)
    with tempfile.TemporaryDirectory(prefix="stresslab-sweep-") as scratch:
        if spec is not None:
            if scenario is not None or grid is not None or policies is not None or first_seed is not None:
                raise TypeError("sweep: spec= carries the scenario, grid, policies and seeds; give spec= alone")
            if isinstance(spec, (str, os.PathLike)):
                sweep_path, text, origin, base_dir = os.fspath(spec), None, os.fspath(spec), ""
            elif isinstance(spec, dict):
                sweep_path, text, origin, base_dir = None, json.dumps(spec), SWEEP_DICT_ORIGIN, os.getcwd()
            else:
                raise TypeError("spec: a sweep file path or a dict")
            name = os.path.splitext(os.path.basename(sweep_path))[0] if sweep_path else "sweep"
        else:
            if scenario is None or grid is None:
                raise TypeError("sweep: give spec=, or scenario= and grid=")
            if not isinstance(grid, dict) or not grid:
                raise TypeError("grid: a non-empty dict {field: [values]}")
            if isinstance(scenario, dict):  # the sweep loader reads its base from a file
                base = os.path.join(scratch, "base.json")
                with open(base, "w", encoding="utf-8") as fh:
                    json.dump(scenario, fh)
                name = "sweep"
            else:
                base = os.path.abspath(os.fspath(scenario))
                name = os.path.splitext(os.path.basename(base))[0] + "_sweep"
            names = [_axis_name(k) for k in grid]
            if len(dict.fromkeys(names)) != len(names):  # two fields ending alike: name them by their full path
                names = [k.strip("/").replace("/", ".") for k in grid]
            doc = {"base": base,
                   "grid": {"mode": "cartesian",
                            "axes": [{"pointer": _pointer(k), "name": n, "values": list(v)}
                                     for (k, v), n in zip(grid.items(), names)]},
                   "seeds": int(seeds)}
            if policies is not None:
                doc["policies"] = _policy_list(policies)
            if first_seed is not None:
                doc["first_seed"] = int(first_seed)
            sweep_path, text, origin, base_dir = None, json.dumps(doc), SWEEP_DICT_ORIGIN, scratch
        output = _Output(out, name)
        info = core.sweep(sweep_path, text, origin, base_dir, overrides, int(threads), output.path)
    return _finish(info, output)
