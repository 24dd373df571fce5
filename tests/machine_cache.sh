#!/bin/sh
# State caching of the machine explorer stays sound: for every program (as
# `netpoll explore --program list` lists them) at 1 and 2 workers, dfs with
# the state cache and with --no-cache give the same verdict (exit status,
# finding kind, complete or not) and the same outcome classes (their number
# and the hash of their set: the programs' results at the ends of the
# executions) and the same path classes (each thread's sequence of sites,
# made apart from the cache's hash: see np_mx_result). A cache that merged
# two states with different futures would lose the paths, outcomes or the
# finding behind one.
# Bounds: 2 preemptions at 1 worker, 1 at 2 workers (under a sanitizer,
# NETPOLL_TEST_LIGHT=1: 1 and 0). Also: the cache cut some executions in
# total (it is on).
# usage: machine_cache.sh NETPOLL
set -u
np=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
if [ "${NETPOLL_TEST_LIGHT:-0}" = 1 ]; then
    p1=1 p2=0
else
    p1=2 p2=1
fi
"$np" explore --program list >"$dir/list" || fail "list: exit $?"
progs=$(awk '{print $1}' "$dir/list")
[ -n "$progs" ] || fail "no programs listed"
# The verdict and the classes of one exploration, as a line to compare.
verdict() { # verdict OUT STATUS
    kind=$(sed -n 's/^finding: \([a-z-]*\):.*/\1/p' "$1" | head -1)
    all=$(grep -c "every schedule within the bound" "$1")
    classes=$(sed -n 's/^outcome classes: \(.*\)/\1/p' "$1")
    echo "exit $2, finding '${kind}', complete $all, classes $classes"
}
n=0 bad=0 cut=0
for p in $progs; do
    for w in 1 2; do
        if [ $w = 1 ]; then k=$p1; else k=$p2; fi
        args="--program $p --workers $w --preemptions $k --no-minimize --no-db"
        "$np" explore $args >"$dir/c" 2>&1
        sc=$?
        "$np" explore $args --no-cache >"$dir/n" 2>&1
        sn=$?
        a=$(verdict "$dir/c" $sc)
        b=$(verdict "$dir/n" $sn)
        x=$(sed -n 's/^state cache: \([0-9]*\) of.*/\1/p' "$dir/c")
        cut=$((cut + ${x:-0}))
        n=$((n + 1))
        if [ $sc -ge 2 ] || [ $sn -ge 2 ]; then
            cat "$dir/c" "$dir/n"
            echo "FAIL: $p, $w worker(s): exit $sc (cached), $sn (--no-cache)"
            bad=$((bad + 1))
        elif [ "$a" != "$b" ]; then
            echo "FAIL: $p, $w worker(s), $k preemption(s): cached: $a; --no-cache: $b"
            bad=$((bad + 1))
        else
            echo "ok: $p, $w worker(s), $k preemption(s): $a ($(grep -o '[0-9]* executions' "$dir/c" | head -1) cached, $(grep -o '[0-9]* executions' "$dir/n" | head -1) not)"
        fi
    done
done
[ "$cut" -gt 0 ] || { echo "FAIL: the cache never cut an execution (is it on?)"; bad=$((bad + 1)); }
echo "$((n - bad)) passed, $bad failed ($cut executions cut by the cache)"
[ $bad -eq 0 ]
