#!/bin/sh
# bench/trace/run_record_bench.sh - recording overhead on echo throughput.
#
#   bench/trace/run_record_bench.sh [--rounds N] [--seconds S] [--workers N] [--build DIR]
#                                   [--base DIR] [--no-cli]
#
# Each round runs, one after the other (A B [C]):
#   A off  `bench_record --seconds S`            the echo workload, recorder off
#   B on   `bench_record --seconds S --record`   the same binary, recorder on
#   C cli  `netpoll record echo --seconds S`     the issue's command (reference;
#          its "N ops" over S seconds; the trace is written to /tmp)
# --base DIR adds D base-off and E base-on: DIR's bench_record (another
# build, e.g. of the main branch), off and on; then A B D E run in an order
# rotated by one each round (C last), and base-off vs off shows what the
# recorder costs when it is off.
# bench_record runs the workload of `netpoll record echo` (8 connections,
# 256-byte round trips, 1 s read deadline reset per request; --workers,
# default 2 as `netpoll record` uses).
# Reports round trips/s per contender (median, min-max over rounds) and the
# on/off ratio per round, then the off-path micro-benchmark once.
# Needs python3 for the statistics.
set -eu

ROUNDS=7
SECS=2
WORKERS=2
CLI=1
BASE=
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-tb
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --no-cli) CLI=0; shift ;;
    *) echo "usage: $0 [--rounds N] [--seconds S] [--workers N] [--build DIR] [--base DIR] [--no-cli]" >&2; exit 2 ;;
    esac
done
case $ROUNDS in '' | *[!0-9]*) echo "--rounds wants 1..50" >&2; exit 2 ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || { echo "--rounds wants 1..50" >&2; exit 2; }

NP=$BUILD/cli/netpoll
BRC=$BUILD/bench/trace/bench_record
[ -x "$BRC" ] || { echo "no $BRC (make -C $BUILD bench_record)" >&2; exit 2; }
BBRC=${BASE:+$BASE/bench/trace/bench_record}
[ -z "$BASE" ] || [ -x "$BBRC" ] || { echo "no $BBRC" >&2; exit 2; }
[ "$CLI" = 0 ] || [ -x "$NP" ] || { echo "no $NP (make -C $BUILD netpoll_cli)" >&2; exit 2; }
TO="timeout 120"
DIR=$(mktemp -d /tmp/np_record_bench.XXXXXX)
LOG=$DIR/raw.log
: >"$LOG"

# one NAME: runs contender NAME of round $r and logs its line
one() {
    case $1 in
    off) $TO $BRC --seconds "$SECS" --workers "$WORKERS" >"$DIR/last.out" ;;
    on) $TO $BRC --seconds "$SECS" --workers "$WORKERS" --record >"$DIR/last.out" ;;
    base-off) $TO $BBRC --seconds "$SECS" --workers "$WORKERS" >"$DIR/last.out" ;;
    base-on) $TO $BBRC --seconds "$SECS" --workers "$WORKERS" --record >"$DIR/last.out" ;;
    esac || { echo "$1 run failed"; cat "$DIR/last.out"; exit 1; }
    echo "$1 $r $(cat "$DIR/last.out")" >>"$LOG"
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
    if [ -n "$BASE" ]; then
        case $((r % 4)) in
        1) order="off on base-off base-on" ;;
        2) order="on base-off base-on off" ;;
        3) order="base-off base-on off on" ;;
        0) order="base-on off on base-off" ;;
        esac
    else
        order="off on"
    fi
    for c in $order; do one "$c"; done
    if [ "$CLI" = 1 ]; then
        $TO $NP record echo --seconds "$SECS" --workers "$WORKERS" --out "$DIR/echo.npt" >"$DIR/last.out" ||
            { echo "netpoll record failed"; cat "$DIR/last.out"; exit 1; }
        echo "cli $r secs=$SECS $(cat "$DIR/last.out")" >>"$LOG"
    fi
    echo "round $r/$ROUNDS: $(grep -E "^(off|on|base-off|base-on) $r " "$LOG" | sed 's/^\([a-z-]*\) .*rtps=\([0-9.]*\).*/\1 \2/' | tr '\n' ' ')"
    r=$((r + 1))
done
$BRC --micro >>"$LOG"

python3 - "$LOG" "$WORKERS" <<'EOF'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def stat(v, f="%.4g"):
    return "%s (%s-%s)" % tuple((f % x) for x in (statistics.median(v), min(v), max(v)))
def kv(r):
    return dict(x.split("=", 1) for x in r if "=" in x)
off = {int(r[1]): float(kv(r)["rtps"]) for r in rows if r[0] == "off"}
on = {int(r[1]): float(kv(r)["rtps"]) for r in rows if r[0] == "on"}
ev = [int(kv(r)["events"]) / int(kv(r)["ops"]) for r in rows if r[0] == "on"]
cpu_off = {int(r[1]): float(kv(r)["cpu_ns_per_op"]) for r in rows if r[0] == "off"}
cpu_on = {int(r[1]): float(kv(r)["cpu_ns_per_op"]) for r in rows if r[0] == "on"}
boff = {int(r[1]): float(kv(r)["rtps"]) for r in rows if r[0] == "base-off"}
bon = {int(r[1]): float(kv(r)["rtps"]) for r in rows if r[0] == "base-on"}
cpu_boff = {int(r[1]): float(kv(r)["cpu_ns_per_op"]) for r in rows if r[0] == "base-off"}
cpu_bon = {int(r[1]): float(kv(r)["cpu_ns_per_op"]) for r in rows if r[0] == "base-on"}
cli = {}
for r in rows:
    if r[0] == "cli":
        m = re.search(r"(\d+) ops", " ".join(r))
        cli[int(r[1])] = int(m.group(1)) / float(kv(r)["secs"])
ratios = [on[k] / off[k] for k in sorted(off) if k in on]
print("rounds=%d workers=%s" % (len(off), sys.argv[2]))
print("off  round trips/s %s" % stat(list(off.values())))
print("on   round trips/s %s" % stat(list(on.values())))
if cli:
    print("cli  round trips/s %s  (netpoll record echo: N ops / seconds)" % stat(list(cli.values())))
print("on/off per round   %s  -> cost %s %%" % (stat(ratios, "%.3f"), stat([100 * (1 - x) for x in ratios], "%.1f")))
print("per-round ratios   " + " ".join("%.3f" % x for x in ratios))
print("CPU ns per round trip (whole process): off %s  on %s  on/off per round %s" % (
    stat(list(cpu_off.values())), stat(list(cpu_on.values())),
    stat([cpu_on[k] / cpu_off[k] for k in sorted(cpu_off) if k in cpu_on], "%.3f")))
print("recorded events per round trip (on) %s" % stat(ev, "%.2f"))
if boff:
    print("base-off round trips/s %s   base-on %s" % (stat(list(boff.values())), stat(list(bon.values()))))
    br = [bon[k] / boff[k] for k in sorted(boff) if k in bon]
    print("base on/off per round %s  -> base cost %s %%" % (stat(br, "%.3f"), stat([100 * (1 - x) for x in br], "%.1f")))
    oo = [off[k] / boff[k] for k in sorted(boff) if k in off]
    print("off / base-off per round %s   CPU per round trip off / base-off %s" % (
        stat(oo, "%.3f"), stat([cpu_off[k] / cpu_boff[k] for k in sorted(cpu_boff) if k in cpu_off], "%.3f")))
    print("CPU ns per round trip base: off %s  on %s  on/off per round %s" % (
        stat(list(cpu_boff.values())), stat(list(cpu_bon.values())),
        stat([cpu_bon[k] / cpu_boff[k] for k in sorted(cpu_boff) if k in cpu_bon], "%.3f")))
for r in rows:
    if r[0] == "micro:":
        print(" ".join(r))
EOF
echo "raw log: $LOG"
