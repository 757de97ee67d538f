#!/usr/bin/env bash
# MPI: `mpirun -n 2 stresslab sweep|run` shards the runs across ranks and writes the same file
# (h5diff) as one process; only rank 0 prints; bad input exits 2 on every rank without hanging;
# a sweep interrupted in one process can be resumed by 2 ranks. Registered only in MPI builds.
# Usage: test_mpi.sh STRESSLAB_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$@"
# In the ASan build, OpenMPI's own allocations outlive MPI_Finalize, and the plugins that made many
# of them are unloaded by then, so LeakSanitizer reports them from "<unknown module>" frames that no
# suppression can name. Leak detection is therefore off for this test only; stresslab's own code is
# leak-checked by every other test of the ASan build, which run the same code paths without MPI.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"  # last one wins
MPI=(timeout 120 mpirun -n 2 --oversubscribe --allow-run-as-root)

cat >"$T/quick.json" <<EOF2
{"base": "$SRC/scenarios/crash.json",
 "grid": {"mode": "cartesian", "axes": [{"pointer": "/perp/liquidation/penalty_bps", "name": "pen", "values": [50, 150]},
                                        {"pointer": "/horizon_steps", "name": "h", "values": [700]}]},
 "policies": ["market", "dutch"], "seeds": 3, "first_seed": 7}
EOF2
expect_rc "sweep, 1 process" 0 "$BIN" sweep "$T/quick.json" --out "$T/one.h5" --threads 1 --quiet
expect_rc "sweep, mpirun -n 2" 0 "${MPI[@]}" "$BIN" sweep "$T/quick.json" --out "$T/two.h5" --threads 1
same "2 ranks == 1 process (sweep, 12 runs)" "$T/one.h5" "$T/two.h5"
[[ $(grep -c "results:" "$T/out") -eq 1 ]] && ok "only rank 0 prints the summary" || bad "summary printed $(grep -c "results:" "$T/out") times"
[[ ! -e "$T/two.h5.parts" ]] && ok "parts dir removed after the MPI sweep" || bad "parts dir left after the MPI sweep"

expect_rc "run, 1 process" 0 "$BIN" run "$SRC/scenarios/crash.json" --seeds 3 --policy market,batch --set horizon_steps=700 --out "$T/r1.h5" --quiet
expect_rc "run, mpirun -n 2" 0 "${MPI[@]}" "$BIN" run "$SRC/scenarios/crash.json" --seeds 3 --policy market,batch --set horizon_steps=700 --out "$T/r2.h5" --quiet
same "2 ranks == 1 process (run, 6 runs)" "$T/r1.h5" "$T/r2.h5"

# More ranks than runs: the idle rank still meets the barriers.
expect_rc "1 run on 2 ranks" 0 "${MPI[@]}" "$BIN" run "$SRC/scenarios/crash.json" --set horizon_steps=700 --out "$T/s2.h5" --quiet
expect_rc "1 run in 1 process" 0 "$BIN" run "$SRC/scenarios/crash.json" --set horizon_steps=700 --out "$T/s1.h5" --quiet
same "1 run: 2 ranks == 1 process" "$T/s1.h5" "$T/s2.h5"

# Bad input: exit 2 (every rank finds it before any collective step), one message, no output, no hang.
printf '{"base": "%s/scenarios/crash.json", "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "values": []}]}}' "$SRC" >"$T/bad.json"
expect_rc "bad sweep under mpirun" 2 "${MPI[@]}" "$BIN" sweep "$T/bad.json" --out "$T/bad.h5"
[[ $(grep -c "^error: " "$T/err") -eq 1 ]] && ok "bad input reported once (rank 0)" || bad "bad input reported $(grep -c "^error: " "$T/err") times: $(head -c 400 "$T/err")"
grep -qF "grid.axes[0].values: empty axis" "$T/err" && ok "bad input message names the field" || bad "message: $(head -c 300 "$T/err")"
[[ ! -e "$T/bad.h5" && ! -e "$T/bad.h5.parts" ]] && ok "no output on bad input under mpirun" || bad "output left on bad input under mpirun"
expect_rc "bad replay data under mpirun" 2 "${MPI[@]}" "$BIN" run "$SRC/scenarios/black_thursday_2020.json" --set horizon_steps=50000 --out "$T/bt.h5"
[[ ! -e "$T/bt.h5" && ! -e "$T/bt.h5.parts" ]] && ok "no output on bad data under mpirun" || bad "output left on bad data under mpirun"

# Interrupted in one process, resumed by 2 ranks sharing the parts dir.
cat >"$T/long.json" <<EOF2
{"base": "$SRC/scenarios/calm.json",
 "grid": {"mode": "cartesian", "axes": [{"pointer": "/horizon_steps", "name": "h", "values": [100000]}]},
 "seeds": 8, "first_seed": 3}
EOF2
LONG=(sweep "$T/long.json" --set output.record_every_steps=500 --threads 1 --quiet)
expect_rc "long sweep, 1 process" 0 "$BIN" "${LONG[@]}" --out "$T/full.h5"
"$BIN" "${LONG[@]}" --out "$T/int.h5" >/dev/null 2>&1 &
pid=$!; sleep 1; kill -INT $pid; wait $pid; rc=$?
[[ $rc -eq 130 ]] && ok "SIGINT exits 130" || bad "SIGINT rc $rc"
expect_rc "--resume with mpirun -n 2" 0 "${MPI[@]}" "$BIN" "${LONG[@]}" --out "$T/int.h5" --resume
same "interrupted, resumed on 2 ranks == uninterrupted" "$T/full.h5" "$T/int.h5"

finish
