"""Results: a stresslab results file (HDF5, layout_version 1) as pandas.

One reader (analysis/results.py) and one bootstrap (analysis/report.py, the report's intervals): this
module only arranges what they return into DataFrames.
"""

import os

import numpy as np
import pandas as pd

from ._analysis import reader as R
from ._analysis import report as _report

PARAM_PREFIX = R.PARAM_PREFIX


def read(path):
    """The Results of a results file written by `stresslab run` / `sweep` (or by stresslab.run)."""
    return Results(path)


def _frame(columns):
    """DataFrame from a dict of equal-length 1-D arrays, each column kept as its own array where pandas
    allows it (float64 columns of the file are not copied into a 2-D block)."""
    return pd.DataFrame({k: pd.Series(v, copy=False) for k, v in columns.items()}, copy=False)


class Results:
    """The runs of one results file.

    summary             DataFrame, one row per run in run_index order: run_id, run_index, policy, seed,
                        every summary metric (float64; NaN where undefined, e.g. no liquidation -> no
                        slippage), and param:<name> columns for sweeps (float when every value parses)
    series(run)         DataFrame of one run's time series, indexed by time_s (seconds)
    units(run)          dict column -> unit of series(run)
    liquidations(run)   DataFrame, one row per liquidation event (step, account, notional, ...)
    compare(metric)     per policy (and per param values in a sweep): mean over seeds and 95% bootstrap
                        interval, the numbers of the report's table (analysis/report.py)

    `run` is a run_index (int) or a run_id (str). Series are read from the file when asked for.
    """

    def __init__(self, path, keep_alive=None):
        self.path = os.fspath(path)
        self._keep_alive = keep_alive  # a TemporaryDirectory holding the file, removed with this object
        with R.open_results(self.path) as f:
            self.info = R.file_info(f)
            self._summary = _frame(R.summary(f))

    # -- the file ---------------------------------------------------------------------------------

    @property
    def complete(self):
        """False when the file holds an interrupted sweep's finished runs only."""
        return bool(self.info.get("complete", 1))

    @property
    def scenario(self):
        """The resolved scenario (every field, defaults included) as a dict."""
        return self.info.get("scenario")

    @property
    def summary(self):
        return self._summary

    @property
    def policies(self):
        return list(dict.fromkeys(self._summary["policy"])) if len(self._summary) else []

    @property
    def params(self):
        """Swept parameter names (without the param: prefix), in column order."""
        return [c[len(PARAM_PREFIX):] for c in self._summary.columns if c.startswith(PARAM_PREFIX)]

    @property
    def metrics(self):
        """Names of the summary's metric columns."""
        fixed = set(R.SUMMARY_FIXED_FIELDS)
        return [c for c in self._summary.columns if c not in fixed and not c.startswith(PARAM_PREFIX)]

    def __len__(self):
        return len(self._summary)

    def __repr__(self):
        p = f", params {self.params}" if self.params else ""
        return (f"<stresslab.Results {self.path}: {len(self)} run(s), policies {self.policies}{p}"
                f"{'' if self.complete else ', INCOMPLETE'}>")

    # -- one run ----------------------------------------------------------------------------------

    def _run_id(self, run):
        if isinstance(run, (int, np.integer)) and not isinstance(run, bool):
            hits = self._summary.index[self._summary["run_index"] == int(run)]
            if len(hits) != 1:
                raise KeyError(f"{self.path}: no run with run_index {run}")
            return str(self._summary.at[hits[0], "run_id"])
        return str(run)

    def series_arrays(self, run):
        """dict column -> float64 array of one run's series, as read from the file (no further copy)."""
        with R.open_results(self.path) as f:
            return R.series(f, self._run_id(run))

    def series(self, run):
        cols = self.series_arrays(run)
        t = cols.pop("time_s", None)
        df = _frame(cols)
        if t is not None:
            df.index = pd.Index(t, name="time_s")
        return df

    def units(self, run):
        with R.open_results(self.path) as f:
            return R.units(f, self._run_id(run))

    def liquidations(self, run):
        with R.open_results(self.path) as f:
            arr = R.liquidations(f, self._run_id(run))
        df = pd.DataFrame(arr)
        if "endogenous" in df:
            df["endogenous"] = df["endogenous"].astype(bool)
        return df

    def run_info(self, run):
        """policy, seed, run_index and params (text) of one run."""
        with R.open_results(self.path) as f:
            return R.run_info(f, self._run_id(run))

    # -- across runs ------------------------------------------------------------------------------

    def compare(self, metric, by=None):
        """Per policy (rows; with params, per combination of `by` values then policy; `by` defaults to
        every param): mean over the runs with a finite value, the 95% percentile-bootstrap interval of
        that mean (analysis/report.py: 2000 resamples, fixed seed per metric), n (finite values) and
        n_nonfinite (NaN/inf skipped, e.g. no liquidation -> no slippage)."""
        s = self._summary
        if metric not in s.columns:
            raise KeyError(f"{metric}: not a summary column (metrics: {', '.join(self.metrics)})")
        keys = [PARAM_PREFIX + p for p in (self.params if by is None else list(by))] + ["policy"]
        for k in keys:
            if k not in s.columns:
                raise KeyError(f"{k[len(PARAM_PREFIX):]}: not a swept parameter (params: {self.params})")
        rows = []
        # Groups in order of first appearance (= the plan order: point, then policy).
        for key, sub in s.groupby(keys if len(keys) > 1 else keys[0], sort=False):
            key = key if isinstance(key, tuple) else (key,)
            st = _report.metric_stats(sub[metric].to_numpy(dtype=np.float64), key[-1], metric)
            row = dict(zip([k[len(PARAM_PREFIX):] if k.startswith(PARAM_PREFIX) else k for k in keys], key))
            row.update(mean=np.nan if st["mean"] is None else st["mean"],
                       ci_low=np.nan if st["ci_low"] is None else st["ci_low"],
                       ci_high=np.nan if st["ci_high"] is None else st["ci_high"],
                       n=st["n"], n_nonfinite=st["n_nonfinite"])
            rows.append(row)
        df = pd.DataFrame(rows)
        index = [k[len(PARAM_PREFIX):] if k.startswith(PARAM_PREFIX) else k for k in keys]
        return df.set_index(index)
