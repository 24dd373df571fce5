#!/bin/sh
# bench/trace/run_record_server.sh - recording overhead on the echo benchmark's
# server: bench/echo/echo_np with and without --record, driven by
# bench/echo/loadgen (the TCP echo benchmark of bench/run_echo.sh).
#
#   bench/trace/run_record_server.sh [--rounds N] [--seconds S] [--workers "1 2"]
#                                    [--mode persistent|oneshot] [--build DIR]
#
# Each round, for each worker count W: echo_np --workers W, off and on (the
# order alternates by round), loadgen --conns 2W --mode MODE for S seconds
# after 200 ms of warm-up. "on" records from the server's start; at SIGTERM
# it stops, writes the trace (to a temporary file, replayed once at the end
# to show it is a real recording) and exits. Only the server is recorded
# (each request: its reset, wait, park, wake, ready and the write's reset),
# unlike bench_record, which records both ends of its in-process workload.
# Reports req/s per contender (median, min-max) and the on/off ratio per
# round. Needs python3 for the statistics.
set -eu

ROUNDS=9
SECS=2
WORKERS="1 2"
MODE=persistent
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/bench/trace/common.sh"
BUILD=$ROOT/build-bench
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--seconds S] [--workers \"1 2\"] [--mode persistent|oneshot] [--build DIR]" >&2; exit 2 ;;
    esac
done
case $ROUNDS in '' | *[!0-9]*) echo "--rounds wants 1..50" >&2; exit 2 ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || { echo "--rounds wants 1..50" >&2; exit 2; }
case $MODE in persistent | oneshot) ;; *) echo "--mode wants persistent or oneshot" >&2; exit 2 ;; esac

SRV=$BUILD/bench/echo/echo_np
LG=$BUILD/bench/echo/loadgen
NP=$BUILD/cli/netpoll
for b in "$SRV" "$LG"; do
    [ -x "$b" ] || { echo "no $b (make -C $BUILD echo_np echo_loadgen)" >&2; exit 2; }
done
DIR=$(mktemp -d /tmp/np_record_server.XXXXXX)
LOG=$DIR/raw.log
: >"$LOG"

# one W ON: one run; appends "round W on|off rps" to the log
one() {
    set -- "$1" "$2"
    rec=
    [ "$2" = on ] && rec="--record $DIR/trace.npt"
    # shellcheck disable=SC2086
    "$SRV" --workers "$1" --timeout 60 $rec >"$DIR/srv.out" 2>"$DIR/srv.err" &
    pid=$!
    port=$(listen_port "$DIR/srv.out" "$pid") || exit 1
    line=$(timeout 60 "$LG" --addr "127.0.0.1:$port" --mode "$MODE" --conns $((2 * $1)) \
        --seconds "$SECS" --warmup-ms 200)
    kill -TERM "$pid"
    st=0
    wait "$pid" 2>/dev/null || st=$?
    # off: SIGTERM's default action ends it; on: it writes its trace, exits 0
    if [ "$2" = on ] && [ "$st" -ne 0 ]; then
        echo "echo_np --record exited with $st: $(cat "$DIR/srv.err")" >&2
        exit 1
    fi
    [ "$2" = on ] && cp "$DIR/srv.err" "$DIR/on.err"
    rps=$(echo "$line" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')
    echo "$r w$1 $2 $rps" >>"$LOG"
    printf ' w%s-%s %s' "$1" "$2" "$rps" >&2
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
    printf 'round %s/%s:' "$r" "$ROUNDS" >&2
    for w in $WORKERS; do
        if [ $((r % 2)) -eq 1 ]; then
            one "$w" off
            one "$w" on
        else
            one "$w" on
            one "$w" off
        fi
    done
    echo >&2
    r=$((r + 1))
done

events=$(sed -n 's/.*recorded \([0-9]*\) events.*/\1/p' "$DIR/on.err")
echo "rounds=$ROUNDS mode=$MODE seconds=$SECS"
python3 - "$LOG" <<'EOF'
import collections, statistics as st, sys
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    r, w, on, rps = line.split()
    runs[(int(r), w)][on] = float(rps)
ws = sorted({w for _, w in runs})
for w in ws:
    off = [v["off"] for (r, x), v in runs.items() if x == w]
    on = [v["on"] for (r, x), v in runs.items() if x == w]
    rat = [v["on"] / v["off"] for (r, x), v in runs.items() if x == w and v.get("off")]
    print("%s off req/s %.0f (%.0f-%.0f)  on %.0f (%.0f-%.0f)  on/off per round %.3f (%.3f-%.3f) -> cost %.1f %%"
          % (w, st.median(off), min(off), max(off), st.median(on), min(on), max(on),
             st.median(rat), min(rat), max(rat), 100 * (1 - st.median(rat))))
EOF
echo "last recording: $events events"
if [ -x "$NP" ] && [ -s "$DIR/trace.npt" ]; then
    "$NP" replay "$DIR/trace.npt" --no-db | tail -1
fi
echo "raw log: $LOG"
