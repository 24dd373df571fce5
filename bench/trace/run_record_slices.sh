#!/bin/sh
# bench/trace/run_record_slices.sh - recording overhead, on and off side by side.
#
#   bench/trace/run_record_slices.sh [--runs N] [--seconds S] [--slice MS] [--build DIR]
#                                    [--base DIR] [--cells "inproc-w2 inproc-w1 server-w2 server-w1"]
#
# On a shared VM whose time is stolen in bursts, runs a few seconds apart
# differ by +-30 % (run_record_bench.sh's per-round ratios); here the
# recorder is switched off and on every MS ms (default 100) inside one
# process and one recording, and each on slice is compared with the off
# slice next to it (which comes first alternates):
#   inproc w2  `bench_record --slices MS --workers 2`  the workload of
#              `netpoll record echo`, both ends recorded (14 events a round trip)
#   inproc w1  the same on 1 worker
#   server w2  `echo_np --workers 2 --record F --slices MS` under
#              `loadgen --conns 4` (the TCP echo benchmark's server; only it
#              is recorded, about 6 events a request)
#   server w1  the same, 1 worker, 2 connections
# N runs of S seconds each (defaults 3 and 12), contenders interleaved;
# --base DIR adds DIR's bench_record (another build with --slices) as
# "base w2", interleaved with "inproc w2". Prints each run's line (median
# on/off ratio of the pairs, CPU per round trip or request on/off) and the
# median over the runs. --cells runs only the contenders named (default: all
# four, and base-w2 with --base). Needs python3.
set -eu

RUNS=3
SECS=12
SLICE=100
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/trace/common.sh"
BUILD=$ROOT/build-bench
BASE=
CELLS=
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --slice) SLICE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --cells) CELLS=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seconds S] [--slice MS] [--build DIR] [--base DIR] [--cells LIST]" >&2; exit 2 ;;
    esac
done
case $RUNS in '' | *[!0-9]*) echo "--runs wants 1..20" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 20 ] || { echo "--runs wants 1..20" >&2; exit 2; }
BRC=$BUILD/bench/trace/bench_record
SRV=$BUILD/bench/echo/echo_np
LG=$BUILD/bench/echo/loadgen
for b in "$BRC" "$SRV" "$LG"; do
    [ -x "$b" ] || { echo "no $b (make -C $BUILD bench_record echo_np echo_loadgen)" >&2; exit 2; }
done
[ -z "$BASE" ] || [ -x "$BASE/bench/trace/bench_record" ] ||
    { echo "no $BASE/bench/trace/bench_record" >&2; exit 2; }
DIR=$(mktemp -d /tmp/np_record_slices.XXXXXX)
LOG=$DIR/raw.log
: >"$LOG"
TO="timeout 300"

# server W: echo_np --record --slices under loadgen; prints echo_np's slices line
server() {
    $TO "$SRV" --workers "$1" --timeout 200 --record "$DIR/t.npt" --slices "$SLICE" \
        >"$DIR/srv.out" 2>"$DIR/srv.err" &
    pid=$!
    port=$(listen_port "$DIR/srv.out" "$pid") || exit 1
    $TO "$LG" --addr "127.0.0.1:$port" --mode persistent --conns $((2 * $1)) --seconds "$SECS" \
        --warmup-ms 200 >/dev/null
    kill -TERM "$pid"
    wait "$pid" || { echo "echo_np exited with $?: $(cat "$DIR/srv.err")" >&2; exit 1; }
    sed -n 's/^echo_np: \(slices=.*\)/\1/p' "$DIR/srv.err"
    rm -f "$DIR/t.npt"
}

one() {
    case $1 in
    inproc-w2) $TO "$BRC" --slices "$SLICE" --seconds "$SECS" --workers 2 | grep '^slices=' ;;
    inproc-w1) $TO "$BRC" --slices "$SLICE" --seconds "$SECS" --workers 1 | grep '^slices=' ;;
    base-w2) $TO "$BASE/bench/trace/bench_record" --slices "$SLICE" --seconds "$SECS" --workers 2 |
        grep '^slices=' ;;
    server-w2) server 2 ;;
    server-w1) server 1 ;;
    esac
}

CONTENDERS="inproc-w2 ${BASE:+base-w2 }inproc-w1 server-w2 server-w1"
if [ -n "$CELLS" ]; then
    for c in $CELLS; do
        case " $CONTENDERS " in
        *" $c "*) ;;
        *) echo "--cells: no contender '$c' (have: $CONTENDERS)" >&2; exit 2 ;;
        esac
    done
    CONTENDERS=$CELLS
fi
r=1
while [ "$r" -le "$RUNS" ]; do
    for c in $CONTENDERS; do
        line=$(one "$c")
        echo "$c $line" | tee -a "$LOG"
    done
    r=$((r + 1))
done
python3 - "$LOG" <<'EOF'
import collections, re, statistics as st, sys
d = collections.defaultdict(lambda: ([], []))
for line in open(sys.argv[1]):
    name = line.split()[0]
    m = re.search(r"ratio_median=([0-9.]+)", line)
    c = re.search(r"cpu_per_(?:rt|req)_ratio_median=([0-9.]+)", line)
    if m and c:
        d[name][0].append(float(m.group(1)))
        d[name][1].append(float(c.group(1)))
for name, (r, c) in d.items():
    print("%-10s runs=%d  on/off throughput %.3f (%.3f-%.3f) -> cost %.1f %%   CPU per op on/off %.3f (%.3f-%.3f)"
          % (name, len(r), st.median(r), min(r), max(r), 100 * (1 - st.median(r)),
             st.median(c), min(c), max(c)))
EOF
echo "raw log: $LOG"
