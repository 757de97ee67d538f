"""The repository's analysis modules (analysis/results.py: the HDF5 reader; analysis/report.py: the
report's bootstrap intervals and metric table), loaded once under private names so that the package
has one reader and one bootstrap, the report's."""

import importlib.util
import os

try:  # the package as CMake assembles it in <build>/python/stresslab
    from ._build_paths import ANALYSIS_DIR
except ImportError:  # the package used straight from analysis/stresslab
    ANALYSIS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    path = os.path.join(ANALYSIS_DIR, name + ".py")
    spec = importlib.util.spec_from_file_location("stresslab._analysis_" + name, path)
    if spec is None or not os.path.isfile(path):
        raise ImportError(f"stresslab: cannot find {path} (the analysis/ folder of the source tree)")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


reader = _load("results")
report = _load("report")
