"""Checks scripts/report, the README's entry point for analysis/report.py.

Usage: /usr/bin/python3 test_report_script.py <stresslab-binary> <source-dir>

Makes a small results file in a temp dir (`stresslab run scenarios/crash.json --set horizon_steps=720
--seeds 2 --policy market`), then checks that `scripts/report FILE` writes index.html, paths_market.png
and distributions.png (two runs of one policy) into FILE's default directory `<name>_report/` next to it,
that `--out DIR` writes there instead, and that a missing file, a non-HDF5 file, no argument and an
unknown option each exit 2 with a message (naming the file where there is one) and write nothing.
report.py's figures and numbers themselves are checked by test_report.py. Standalone (no pytest): prints
each failure, then `N passed, M failed`; exits non-zero on any failure.
"""

import os
import sys
import tempfile

from harness import Checks, run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHECKS = Checks()
check = CHECKS.check


def assert_report(out):
    index = os.path.join(out, "index.html")
    assert os.path.isfile(index), f"missing {index}"
    with open(index, encoding="utf-8") as fh:
        assert fh.read().lstrip().lower().startswith("<!doctype html>")
    for n in ("paths_market.png", "distributions.png"):
        p = os.path.join(out, n)
        assert os.path.isfile(p), f"missing {p}"
        with open(p, "rb") as fh:
            assert fh.read(8) == PNG_MAGIC, f"{p}: not a PNG"


def check_default_out(script, h5, tmp):
    r = run([script, h5])
    assert r.returncode == 0, r.stderr
    out = os.path.join(tmp, "small_report")  # small.h5 -> small_report/ next to it
    assert_report(out)
    assert r.stdout.strip().splitlines()[-1] == os.path.join(out, "index.html"), r.stdout


def check_explicit_out(script, h5, tmp):
    out = os.path.join(tmp, "elsewhere", "rep")
    r = run([script, h5, "--out", out])
    assert r.returncode == 0, r.stderr
    assert_report(out)


def check_missing_file(script, tmp):
    missing = os.path.join(tmp, "no_such_results.h5")
    r = run([script, missing])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert missing in r.stderr and "no such file" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(tmp, "no_such_results_report"))


def check_not_hdf5(script, tmp):
    bad = os.path.join(tmp, "not_hdf5.h5")
    with open(bad, "w", encoding="utf-8") as fh:
        fh.write("this is not an HDF5 file\n")
    r = run([script, bad])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert bad in r.stderr, r.stderr


def check_usage(script):
    r = run([script])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "usage: scripts/report RESULTS.h5 [--out DIR]" in r.stderr, r.stderr
    r = run([script, "--bogus", "x.h5"])
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr, (r.returncode, r.stderr)
    r = run([script, "--help"])
    assert r.returncode == 0 and "usage: scripts/report" in r.stdout, (r.returncode, r.stdout)


def main():
    binary, src = sys.argv[1], sys.argv[2]
    script = os.path.join(src, "scripts", "report")
    with tempfile.TemporaryDirectory() as tmp:
        h5 = os.path.join(tmp, "small.h5")
        r = run([binary, "run", os.path.join(src, "scenarios", "crash.json"), "--set", "horizon_steps=720",
                 "--seeds", "2", "--policy", "market", "--threads", "2", "--quiet", "--out", h5])
        if r.returncode != 0 or not os.path.isfile(h5):
            print(f"FAIL making the results file: exit {r.returncode}\n{r.stderr}")
            return CHECKS.summary(extra_failed=1)
        check("default output directory next to the file", check_default_out, script, h5, tmp)
        check("--out DIR", check_explicit_out, script, h5, tmp)
        check("missing file: exit 2 naming it", check_missing_file, script, tmp)
        check("not an HDF5 file: exit 2 naming it", check_not_hdf5, script, tmp)
        check("usage: no argument / unknown option exit 2, --help 0", check_usage, script)
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
