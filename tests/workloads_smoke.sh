#!/bin/sh
# bench/run_workloads.sh in miniature (netpoll only, no Go):
# pipelining through loadgen --depth, many connections over several source
# addresses, idle connections and parked tasks measured; every request and
# connection must come back whole. usage: workloads_smoke.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
log=$(mktemp /tmp/workloads_smoke.XXXXXX)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; cat "$log"; exit 1; }
run() { "$src/bench/run_workloads.sh" "$@" --rounds 1 --seconds 1 --threads 1 --build-dir "$build" --log "$log" >/dev/null 2>&1 ||
    fail "run_workloads.sh $*"; }
run pipe --conns 4 --depth 16 --only "np"
run many --conns 300 --src 3 --only "np"
run idle --conns 300 --only "np"
run park --conns 1000 --only "np"
grep -q 'FAILED' "$log" && fail "a run failed"
[ "$(grep -c '^R .*rps=' "$log")" -eq 2 ] || fail "not 2 echo runs"
grep '^R .*rps=' "$log" | grep -qv 'errors=0 ' && fail "failed requests"
grep -q '^R idle conns=300 closed=0 errors=0 conns=300 failed=0 ' "$log" || fail "idle connections lost"
grep -q '^R parked=1000 ' "$log" || fail "not 1000 tasks parked"
echo "ok: pipelined, many, idle and park runs whole"
