"""stresslab from Python: run scenarios in process and read results as pandas.

    import stresslab
    res = stresslab.run("scenarios/crash.json", policies=["market", "batch"], seeds=3, threads=2,
                        set={"horizon_steps": 900})
    res.summary                     # DataFrame, one row per run
    res.compare("bad_debt")         # per policy: mean and 95% bootstrap interval over seeds
    res.series(0)                   # run 0's time series, indexed by time_s
    sw = stresslab.sweep("scenarios/crash.json", grid={"perp.liquidation.penalty_bps": [50, 100, 200]},
                         policies=["market"], seeds=3)
    sw.compare("bad_debt")          # per (penalty_bps, policy)
    stresslab.read("results/crash.h5")   # the same Results from a file written by the CLI

run/sweep/validate use the engine module built by CMake (stresslab._core: the CLI's loader, sweep
runner and results writer, in process, with the GIL released). read() needs only h5py and pandas.
Bad input raises ScenarioError / SweepError / DataError (ValueError subclasses) with the message the
CLI prints after "error:" (file, field, allowed range).
"""

from .engine import (DataError, DislocationWarning, ScenarioError, SweepError, engine_available, policies, run,
                     sweep, validate, version)
from .frames import Results, read

__all__ = ["run", "sweep", "validate", "read", "Results", "policies", "version", "engine_available",
           "ScenarioError", "SweepError", "DataError", "DislocationWarning"]
