#!/usr/bin/env bash
# Usage: tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS [FUZZER [CORPUS]]
# Runs a fuzzer (BUILD_DIR/tests/FUZZER, default fuzz_loader; built with -DSTRESSLAB_FUZZ=ON and
# clang) for SECONDS on a temporary corpus seeded from tests/fuzz/CORPUS (default corpus). Exits
# non-zero if the fuzzer finds a crash (the crashing input is copied to BUILD_DIR/fuzz-artifacts/).
set -euo pipefail
if [[ $# -lt 2 || $# -gt 4 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [FUZZER [CORPUS]]" >&2
  exit 64
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${3:-fuzz_loader}
corpus=${4:-corpus}
fuzzer="$build_dir/tests/$name"
if [[ ! -x "$fuzzer" ]]; then
  echo "run_fuzz.sh: $fuzzer not found; configure with -DSTRESSLAB_FUZZ=ON and build target $name" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build_dir/fuzz-artifacts"
cp "$here/$corpus"/* "$work/corpus/"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build_dir/fuzz-artifacts/" -print_final_stats=1 \
  "$work/corpus" "$here/$corpus" >"$work/log" 2>&1 || status=$?
tail -n 25 "$work/log"
if [[ $status -ne 0 ]]; then
  echo "run_fuzz.sh: fuzzer failed (exit $status); artifacts in $build_dir/fuzz-artifacts/" >&2
  exit 1
fi
echo "run_fuzz.sh: $name: no crash in ${seconds}s"
