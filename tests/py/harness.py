"""The small harness the tests/py scripts share (they run standalone with /usr/bin/python3, no pytest):
each check is a function that raises on failure; every check runs, failures print their traceback,
and the script ends with `N passed, M failed` and a non-zero exit code if any failed."""
import subprocess
import traceback


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn, *args):
        try:
            fn(*args)
            self.passed += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - report every failure, keep going
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(limit=3)

    def summary(self, extra_failed=0):
        """Prints the tally; returns the exit code."""
        failed = self.failed + extra_failed
        print(f"{self.passed} passed, {failed} failed")
        return 1 if failed else 0


def run(cmd, timeout=300, **kw):
    """A command's CompletedProcess with text stdout/stderr captured."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
