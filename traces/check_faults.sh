#!/bin/sh
# Under fault class CLASS (and seeds 1-3), every corpus trace, canonical
# scenario and workload sample keeps every invariant under go1.21 (replay
# exit 0; outcomes may differ). Also checks the faults bite: with `reuse`,
# the untagged go1.5 design must show a stale-event violation.
# usage: check_faults.sh NETPOLL TRACES_DIR CLASS
set -u
np=$1
dir=$2
class=$3
n=0
fail=0
for t in "$dir"/example.npt "$dir"/bugs/*.npt "$dir"/scenarios/*.npt "$dir"/workloads/*.npt; do
    case "$t" in *two_waiters_one_direction*) continue ;; esac # a violation by design
    for seed in 1 2 3; do
        n=$((n + 1))
        if ! "$np" replay --no-db "$t" --faults "$class" --seed "$seed" >/tmp/faults.$$ 2>&1; then
            echo "FAIL $t --faults $class --seed $seed:"
            head -3 /tmp/faults.$$
            fail=1
        fi
    done
done
rm -f /tmp/faults.$$
if [ "$class" = reuse ]; then
    "$np" replay --no-db "$dir/workloads/accept-churn.npt" --faults reuse --seed 1 --design go1.5 \
        | grep -q "violation: stale-event" || { echo "FAIL: reuse faults did not show go1.5's stale events"; fail=1; }
fi
[ $fail -eq 0 ] && echo "faults $class: $n replays kept every invariant"
exit $fail
