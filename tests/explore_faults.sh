#!/bin/sh
# netpoll explore --faults: every canonical scenario, and the corpus traces
# that are clean under go1.21, keep their invariants under each fault class
# (stimulus and poller faults), two seeds, dfs with at most 1 preemption
# (state caching is off under poller faults, so the bound keeps it short).
# NETPOLL_TEST_LIGHT=1 (the sanitizer builds): one seed, and not the
# five-actor scenario (read_ready_timer_close_mover: 6.6 s of ASan time per
# stimulus class, two thirds of the whole).
# usage: explore_faults.sh NETPOLL TRACES_DIR
set -u
np=$1
traces=$2
fail=0
n=0
seeds="1 2"
[ "${NETPOLL_TEST_LIGHT:-0}" = 1 ] && seeds=1
for class in spurious errevent late dup reuse timers eintr lostbreak dupbreak; do
    for f in "$traces"/scenarios/*.npt $(awk -F'\t' '$1 ~ /^bugs\// && $4 == 0 {print $1}' "$traces/corpus.tsv" | sed "s|^|$traces/|"); do
        case $f in *_mover.npt) [ "${NETPOLL_TEST_LIGHT:-0}" = 1 ] && continue ;; esac
        for seed in $seeds; do
            out=$("$np" explore "$f" --faults $class --seed $seed --preemptions 1 --no-db --quiet --no-minimize)
            st=$?
            n=$((n + 1))
            if [ $st -ne 0 ]; then
                echo "FAIL: $f --faults $class --seed $seed: exit $st"
                echo "$out" | head -3
                fail=1
            fi
        done
    done
done
[ $fail -eq 0 ] && echo "explore_faults: $n explorations, no violation"
exit $fail
