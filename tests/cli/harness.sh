# The shell harness every tests/cli/test_*.sh sources: the binary and source tree from the command
# line, a scratch directory removed on exit, and the checks (each prints "ok - NAME" or "FAIL - NAME"
# and counts). A script ends with `finish`, which prints the counts and fails if any check failed.
# Usage (from a test): source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"
set -uo pipefail
BIN="$1"; SRC="$2"
PY=/usr/bin/python3
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   - $1"; }
bad()  { fail=$((fail+1)); echo "FAIL - $1"; }
expect_rc() {  # expect_rc NAME EXPECTED_RC CMD...: the command's exit code (stdout in $T/out, stderr in $T/err)
  local name="$1" want="$2"; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [[ $rc -eq $want ]]; then ok "$name (rc $rc)"; else bad "$name: rc $rc, wanted $want; stderr: $(head -c 600 "$T/err")"; fi
}
expect_err() {  # expect_err NAME SUBSTRING: in the last command's stderr
  if grep -qF -- "$2" "$T/err"; then ok "$1"; else bad "$1: stderr lacks '$2': $(head -c 400 "$T/err")"; fi
}
same() {  # same NAME A.h5 B.h5: datasets and non-root attributes equal (root attributes: created_utc, complete)
  if h5diff --exclude-attribute / "$2" "$3" >"$T/diff" 2>&1; then ok "$1 (h5diff)"; else bad "$1: $(head -c 400 "$T/diff")"; fi
}
wait_for_segment() {  # wait_for_segment PARTS_DIR: until a finished run is checkpointed (at most 60 s)
  for _ in $(seq 1 1200); do ls "$1" 2>/dev/null | grep -q '\.seg$' && return 0; sleep 0.05; done; return 1
}
finish() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}
