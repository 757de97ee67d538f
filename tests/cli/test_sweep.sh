#!/usr/bin/env bash
# `stresslab sweep` end to end: the example sweep file, param columns visible to h5py and h5dump,
# common random numbers, 1 vs 2 threads, SIGINT -> valid partial file -> --resume, kill -9 ->
# --resume (both equal to an uninterrupted sweep under h5diff), and bad sweep files (exit 2, no output).
# Usage: test_sweep.sh STRESSLAB_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"

# --- the documented example -------------------------------------------------------------------------
expect_rc "example sweep" 0 "$BIN" sweep "$SRC/scenarios/sweeps/penalty_x_mmr.json" --out "$T/ex.h5" --threads 2
grep -q "24 runs" "$T/out" && ok "example: 6 points x 2 policies x 2 seeds = 24 runs" || bad "example run count: $(head -c 300 "$T/out")"
[[ ! -e "$T/ex.h5.parts" ]] && ok "parts dir removed after a complete sweep" || bad "parts dir left after a complete sweep"
h5dump -H -d /summary "$T/ex.h5" >"$T/dump" 2>&1
grep -q '"param:penalty_bps"' "$T/dump" && grep -q '"param:mmr_bps"' "$T/dump" && ok "h5dump shows the param columns" \
  || bad "h5dump lacks param columns: $(head -c 300 "$T/dump")"
if "$PY" - "$T/ex.h5" >"$T/py" 2>&1 <<'EOF'
import sys, itertools, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s = f["summary"][()]                      # the whole sweep as one table
assert f.attrs["complete"] == 1 and f.attrs["runs_planned"] == 24, dict(f.attrs)
assert len(s) == 24 and list(s["run_index"]) == list(range(24))
pen, mmr = s["param:penalty_bps"].astype(str), s["param:mmr_bps"].astype(str)
assert set(zip(pen, mmr)) == set(itertools.product(["50", "100", "200"], ["50", "80"])), set(zip(pen, mmr))
# plan order: point-major (last axis fastest), then policy, then seed
i = 0
for p, m in itertools.product(["50", "100", "200"], ["50", "80"]):
    for pol in ["market", "dutch"]:
        for seed in [1, 2]:
            r = s[i]
            assert (pen[i], mmr[i], r["policy"].decode(), int(r["seed"])) == (p, m, pol, seed), (i, r)
            g = f["runs"][r["run_id"].decode()]
            assert g.attrs["param:penalty_bps"] == p and g.attrs["param:mmr_bps"] == m
            i += 1
# common random numbers: seed k has the same reference path at every point and under every policy
for seed in [1, 2]:
    paths = [f["runs"][r["run_id"].decode()]["series"]["reference"][()] for r in s if r["seed"] == seed]
    assert len(paths) == 12 and all(np.array_equal(paths[0], q) for q in paths), seed
# and the grid matters: market-policy liquidated notional differs across penalty values for some seed
mk = s[s["policy"] == b"market"]
assert len(set(np.round(mk["liquidated_notional"], 6))) > 1
print("ok")
EOF
then ok "h5py: 24 rows in plan order, param columns and run attributes match the grid, CRN reference paths"
else bad "h5py checks: $(tail -c 600 "$T/py")"; fi

# --- a quick sweep for the thread and interruption checks ------------------------------------------
cat >"$T/quick.json" <<EOF
{"description": "quick", "base": "$SRC/scenarios/crash.json",
 "grid": {"mode": "listed", "points": [{"/perp/liquidation/penalty_bps": 50, "/horizon_steps": 700},
                                       {"/perp/liquidation/penalty_bps": 150, "/horizon_steps": 700}]},
 "policies": ["market"], "seeds": 3, "first_seed": 7}
EOF
expect_rc "quick sweep, 1 thread" 0 "$BIN" sweep "$T/quick.json" --out "$T/q1.h5" --threads 1 --quiet
expect_rc "quick sweep, 2 threads" 0 "$BIN" sweep "$T/quick.json" --out "$T/q2.h5" --threads 2 --quiet
same "1 thread == 2 threads" "$T/q1.h5" "$T/q2.h5"

# Runs long enough (~0.25 s each on an idle core, 12 of them) that a signal after 1 s lands mid-sweep;
# on a slower machine fewer (or no) runs are saved, which every check below allows.
cat >"$T/long.json" <<EOF
{"base": "$SRC/scenarios/calm.json",
 "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "name": "h", "values": [100000]},
                                        {"pointer": "/perp/liquidation/penalty_bps", "name": "pen", "values": [50, 100]}]},
 "seeds": 6, "first_seed": 3}
EOF
LONG=(sweep "$T/long.json" --set output.record_every_steps=500 --threads 1 --quiet)
expect_rc "uninterrupted long sweep" 0 "$BIN" "${LONG[@]}" --out "$T/full.h5"

# SIGINT: valid partial file (complete = 0, the finished runs in /summary), parts kept, exit 130.
"$BIN" "${LONG[@]}" --out "$T/int.h5" >"$T/out" 2>"$T/err" &
pid=$!; wait_for_segment "$T/int.h5.parts"; kill -INT $pid; wait $pid; rc=$?
[[ $rc -eq 130 ]] && ok "SIGINT exits 130" || bad "SIGINT rc $rc: $(head -c 300 "$T/err")"
expect_err "SIGINT message says how to resume" "--resume"
[[ -d "$T/int.h5.parts" ]] && ok "parts dir kept after SIGINT" || bad "no parts dir after SIGINT"
nseg=$(ls "$T/int.h5.parts" | grep -c '\.seg$')
[[ $nseg -ge 1 ]] && ok "SIGINT came after $nseg finished run(s): the resume below has runs to reuse" || bad "no finished run before SIGINT"
if "$PY" - "$T/int.h5" "$T/int.h5.parts" >"$T/py" 2>&1 <<'EOF'
import sys, os, h5py
f = h5py.File(sys.argv[1], "r")
segs = sorted(int(n[4:13]) for n in os.listdir(sys.argv[2]) if n.endswith(".seg"))
s = f["summary"][()]
assert f.attrs["complete"] == 0 and f.attrs["runs_planned"] == 12, dict(f.attrs)
assert list(s["run_index"]) == segs, (list(s["run_index"]), segs)
assert len(segs) < 12
print(len(segs))
EOF
then ok "partial file valid: complete=0, runs_planned=12, /summary holds exactly the $nseg saved runs"
else bad "partial file: $(tail -c 600 "$T/py")"; fi
ls "$T" | grep -q 'int.h5.tmp' && bad "temp results file left after SIGINT" || ok "no temp results file after SIGINT"
expect_rc "rerun without --resume refused" 2 "$BIN" "${LONG[@]}" --out "$T/int.h5"
expect_err "refusal says --resume or delete" "continue it with --resume, or delete the directory to start over"
expect_rc "resume with a changed sweep refused" 2 "$BIN" "${LONG[@]}" --out "$T/int.h5" --resume --set seed=1
expect_err "refusal names the manifest and says the sweep changed" "int.h5.parts/manifest: the sweep changed"
expect_rc "--resume after SIGINT" 0 "$BIN" "${LONG[@]}" --out "$T/int.h5" --resume
same "resumed after SIGINT == uninterrupted" "$T/full.h5" "$T/int.h5"
[[ ! -e "$T/int.h5.parts" ]] && ok "parts dir removed after the resumed sweep completed" || bad "parts dir left after resume"
"$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1]); sys.exit(0 if f.attrs['complete']==1 else 1)" "$T/int.h5" \
  && ok "resumed file has complete=1" || bad "resumed file not complete=1"

# One process per output: while a sweep is running, a second one with --resume into the same output
# is refused (exit 2) and leaves the first one's work alone; the first then finishes normally.
"$BIN" "${LONG[@]}" --out "$T/lk.h5" >/dev/null 2>"$T/lk_err" &
pid=$!
for _ in $(seq 1 200); do [[ -e "$T/lk.h5.parts/lock" ]] && break; sleep 0.05; done
expect_rc "second process on a running sweep" 2 "$BIN" "${LONG[@]}" --out "$T/lk.h5" --resume
expect_err "second process told why" "another stresslab process is writing this output right now"
# Without --resume too: told that another process is running, not invited to delete its checkpoints.
expect_rc "second process without --resume" 2 "$BIN" "${LONG[@]}" --out "$T/lk.h5"
expect_err "second process without --resume told why" "another stresslab process is writing this output right now"
wait $pid; rc=$?
[[ $rc -eq 0 ]] && ok "first sweep unaffected (rc 0)" || bad "first sweep rc $rc: $(head -c 300 "$T/lk_err")"
same "locked-out second process did not change the result" "$T/full.h5" "$T/lk.h5"

# kill -9: at worst the previous state; --resume finishes and equals the uninterrupted sweep.
"$BIN" "${LONG[@]}" --out "$T/k.h5" >/dev/null 2>&1 &
pid=$!; wait_for_segment "$T/k.h5.parts"; kill -9 $pid; wait $pid 2>/dev/null
[[ ! -e "$T/k.h5" ]] && ok "kill -9 mid-sweep leaves no results file" || bad "results file after kill -9 mid-sweep"
# A damaged segment (e.g. a torn write on a lost disk) must be redone, not trusted.
first=$(ls "$T/k.h5.parts" | grep '\.seg$' | head -1)
if [[ -n "$first" ]]; then truncate -s -5 "$T/k.h5.parts/$first"; ok "one segment damaged before --resume"; else bad "no segment to damage after kill -9"; fi
# A merge killed mid-write leaves <out>.tmp-<pid>: the resumed sweep removes it once that process is
# gone (a pid that cannot exist stands for it), and leaves a live process's temp file alone.
echo torn >"$T/k.h5.tmp-999999999"
echo live >"$T/k.h5.tmp-$$"
expect_rc "--resume after kill -9" 0 "$BIN" "${LONG[@]}" --out "$T/k.h5" --resume
[[ ! -e "$T/k.h5.tmp-999999999" ]] && ok "dead writer's temp file removed" || bad "dead writer's temp file left"
[[ -e "$T/k.h5.tmp-$$" ]] && ok "live process's temp file kept" || bad "live process's temp file removed"
rm -f "$T/k.h5.tmp-$$"
same "resumed after kill -9 (one segment damaged) == uninterrupted" "$T/full.h5" "$T/k.h5"
ls "$T" | grep -q 'k.h5.parts' && bad "parts dir left" || ok "no parts dir left after resume"

# --- bad sweep files: exit 2, message names file and field, no output of any kind ----------------------
bad_sweep() {  # bad_sweep NAME JSON EXPECTED_MESSAGE
  printf '%s' "$2" >"$T/bad.json"
  expect_rc "bad sweep: $1" 2 "$BIN" sweep "$T/bad.json" --out "$T/bad.h5"
  expect_err "bad sweep message: $1" "$3"
  [[ ! -e "$T/bad.h5" && ! -e "$T/bad.h5.parts" ]] && ! ls "$T" | grep -q 'bad.h5.tmp' && ok "no output: $1" || bad "output left: $1"
}
B="\"base\": \"$SRC/scenarios/calm.json\""
G='"grid": {"mode": "cartesian", "axes": [{"pointer": "/perp/liquidation/penalty_bps", "values": [50]}]}'
bad_sweep "unknown key" "{$B, $G, \"seed\": 1}" "$T/bad.json: seed: unknown field (allowed here: 'description', 'base', 'grid', 'policies', 'seeds', 'first_seed')"
bad_sweep "unknown pointer" "{$B, \"grid\": {\"mode\": \"cartesian\", \"axes\": [{\"pointer\": \"/perp/liquidation/penalty_bp\", \"values\": [1]}]}}" \
  "$T/bad.json: grid.axes[0].pointer: bad pointer \"/perp/liquidation/penalty_bp\""
bad_sweep "empty axis" "{$B, \"grid\": {\"mode\": \"cartesian\", \"axes\": [{\"pointer\": \"/horizon_steps\", \"values\": []}]}}" \
  "$T/bad.json: grid.axes[0].values: empty axis"
bad_sweep "listed point missing a pointer" "{$B, \"grid\": {\"mode\": \"listed\", \"points\": [{\"/horizon_steps\": 10, \"/seed\": 1}, {\"/horizon_steps\": 20}]}}" \
  "$T/bad.json: grid.points[1]: missing \"/seed\""
bad_sweep "listed point with an extra pointer" "{$B, \"grid\": {\"mode\": \"listed\", \"points\": [{\"/horizon_steps\": 10}, {\"/horizon_steps\": 20, \"/seed\": 1}]}}" \
  "$T/bad.json: grid.points[1]: \"/seed\" is not an axis"
bad_sweep "unknown policy" "{$B, $G, \"policies\": [\"frobnicate\"]}" \
  "$T/bad.json: policies[0]: unknown policy \"frobnicate\" (allowed: market, dutch, batch, socialized, delta_neutral, hierarchy, delta_neutral:atomic, delta_neutral:staged, delta_neutral:backstop)"
bad_sweep "zero seeds" "{$B, $G, \"seeds\": 0}" "$T/bad.json: seeds: must be an integer in [1, 1000000], got 0"
bad_sweep "value out of range at one point" "{$B, \"grid\": {\"mode\": \"cartesian\", \"axes\": [{\"pointer\": \"/dt_s\", \"name\": \"dt\", \"values\": [1, -1]}]}}" \
  "$T/bad.json: grid point 1 (dt=-1): dt_s:"
bad_sweep "missing base" "{\"base\": \"nope.json\", $G}" "$T/bad.json: base: cannot open"
bad_sweep "not JSON" '{"base": ' "$T/bad.json"
expect_rc "missing --out" 2 "$BIN" sweep "$T/quick.json"
expect_err "missing --out explained" "--out FILE.h5 is required"
expect_rc "missing sweep file" 2 "$BIN" sweep "$T/none.json" --out "$T/none.h5"
expect_err "missing sweep file named" "$T/none.json"

finish
