#!/bin/sh
# bench/trace/run_replay_bench.sh - replay throughput on a generated trace.
#
#   bench/trace/run_replay_bench.sh [--reps N] [--events N] [--seed S] [--build DIR]
#
# 1. Generates one scenario trace of N event lines (default 1,000,000) with
#    gen_trace.py into a fresh /tmp directory, checks that `netpoll replay`
#    exits 0 on it, writes the --emit'ed version (computed park and wake
#    lines added) and checks that replaying that one also exits 0.
# 2. Repeats N times (default 5), interleaved, each a fresh process pinned
#    with `taskset -c 0` when taskset exists:
#      scenario  `netpoll replay SCENARIO --no-db`   (no wake lines)
#      emitted   `netpoll replay EMITTED --no-db`    (wake lines: compared)
#      stored    `netpoll replay SCENARIO --db NEW --outcomes` (the run, each
#                wait's outcome and the histograms in a new SQLite file)
#      empty     `netpoll replay HEADER-ONLY --no-db` (process start + sim start)
#      phases    `bench_replay SCENARIO` / `bench_replay EMITTED` (in-process:
#                parse time and np_replay time apart)
#    Wall time is `date +%s%N` around the process. Events = the file's lines
#    minus the header, comments and blank lines (park/wake lines count in
#    EMITTED). events/s = events / wall time (whole process: exec, reading and
#    parsing the file, the replay, exit), and events / np_replay time alone.
# Prints medians and min-max over the repetitions; the raw log stays in the
# directory it names. Needs python3 (generator, statistics).
set -eu

REPS=5
EVENTS=1000000
SEED=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-tb
while [ $# -gt 0 ]; do
    case $1 in
    --reps) REPS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--events N] [--seed S] [--build DIR]" >&2; exit 2 ;;
    esac
done
case $REPS in '' | *[!0-9]*) echo "--reps wants 1..50" >&2; exit 2 ;; esac
[ "$REPS" -ge 1 ] && [ "$REPS" -le 50 ] || { echo "--reps wants 1..50" >&2; exit 2; }

NP=$BUILD/cli/netpoll
BR=$BUILD/bench/trace/bench_replay
[ -x "$NP" ] || { echo "no $NP (make -C $BUILD netpoll_cli)" >&2; exit 2; }
[ -x "$BR" ] || { echo "no $BR (make -C $BUILD bench_replay)" >&2; exit 2; }
PIN=""
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then PIN="taskset -c 0"; fi
TO="timeout 300"

DIR=$(mktemp -d /tmp/np_replay_bench.XXXXXX)
SC=$DIR/scenario.npt
EM=$DIR/emitted.npt
HO=$DIR/header_only.npt
LOG=$DIR/raw.log
printf 'netpoll-trace 1\n' >"$HO"

echo "generating $EVENTS events (seed $SEED) into $SC"
t0=$(date +%s%N)
python3 "$ROOT/bench/trace/gen_trace.py" --events "$EVENTS" --seed "$SEED" --out "$SC" --stats
t1=$(date +%s%N)
echo "generated in $(( (t1 - t0) / 1000000 )) ms"

count() { awk '!/^[ \t]*(#|$)/ {n++} END {print n - 1}' "$1"; }

# validity: the scenario and its emitted version must both replay with status 0
$TO $NP replay "$SC" --no-db --emit "$EM" >"$DIR/check1.out" 2>&1 || { echo "replay $SC failed:"; tail "$DIR/check1.out"; exit 1; }
$TO $NP replay "$EM" --no-db >"$DIR/check2.out" 2>&1 || { echo "replay $EM failed:"; tail "$DIR/check2.out"; exit 1; }
cat "$DIR/check1.out" "$DIR/check2.out"
NSC=$(count "$SC")
NEM=$(count "$EM")
echo "events (lines minus header/comments/blanks): scenario $NSC, emitted $NEM"

# one timed process; prints "name events wall_ns"
timed() {
    name=$1; ev=$2; shift 2
    s=$(date +%s%N)
    $TO $PIN "$@" >"$DIR/last.out" 2>&1 || { echo "$name failed (status $?):"; tail "$DIR/last.out"; exit 1; }
    e=$(date +%s%N)
    echo "$name $ev $((e - s))" >>"$LOG"
}

: >"$LOG"
r=1
while [ "$r" -le "$REPS" ]; do
    timed scenario "$NSC" $NP replay "$SC" --no-db
    timed emitted "$NEM" $NP replay "$EM" --no-db
    rm -f "$DIR/stored.db" "$DIR/stored.db-wal" "$DIR/stored.db-shm"
    timed stored "$NSC" $NP replay "$SC" --db "$DIR/stored.db" --outcomes
    timed empty 0 $NP replay "$HO" --no-db
    $TO $PIN $BR "$SC" >"$DIR/last.out" || { echo "bench_replay failed"; exit 1; }
    echo "phases_scenario $(cat "$DIR/last.out")" >>"$LOG"
    $TO $PIN $BR "$EM" >"$DIR/last.out" || { echo "bench_replay failed"; exit 1; }
    echo "phases_emitted $(cat "$DIR/last.out")" >>"$LOG"
    echo "repetition $r/$REPS done"
    r=$((r + 1))
done

python3 - "$LOG" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def stat(v):
    return "%s (%s-%s)" % tuple(("%.4g" % x) for x in (statistics.median(v), min(v), max(v)))
wall = {}
for r in rows:
    if not r[0].startswith("phases"):
        wall.setdefault(r[0], []).append((int(r[1]), int(r[2])))
print("reps=%d" % len(wall["scenario"]))
for name in ("scenario", "emitted", "stored"):
    ev = wall[name][0][0]
    print("%-9s events=%d  wall ms %s  events/s (whole process) %s" % (
        name, ev, stat([w / 1e6 for _, w in wall[name]]), stat([e * 1e9 / w for e, w in wall[name]])))
print("empty     wall ms %s  (header-only trace: exec + simulator start/stop)" %
      stat([w / 1e6 for _, w in wall["empty"]]))
for name in ("phases_scenario", "phases_emitted"):
    ph = [dict(kv.split("=") for kv in r[1:]) for r in rows if r[0] == name]
    lines = int(ph[0]["lines"])
    print("%-16s parse ms %s  np_replay ms %s  events/s (np_replay only) %s  events/s (parse+replay) %s" % (
        name, stat([int(p["parse_ns"]) / 1e6 for p in ph]), stat([int(p["replay_ns"]) / 1e6 for p in ph]),
        stat([lines * 1e9 / int(p["replay_ns"]) for p in ph]),
        stat([lines * 1e9 / (int(p["parse_ns"]) + int(p["replay_ns"])) for p in ph])))
EOF
echo "raw log: $LOG"
