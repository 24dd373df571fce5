#!/bin/sh
# Under fault class CLASS (and seeds 1-3), every corpus trace, canonical
# scenario and workload sample keeps every invariant under go1.21 (replay
# exit 0; outcomes may differ). Also checks the faults bite: with `reuse`,
# the untagged go1.5 design must show a stale-event violation; the poller
# classes must be injected (the replay's "[poller: ...]" counts), an EINTR
# must be able to put readiness after a later stimulus of its instant, and a
# lost break must delay a timeout until the next event.
# usage: check_faults.sh NETPOLL TRACES_DIR CLASS
set -u
np=$1
dir=$2
class=$3
n=0
fail=0
injected=0
for t in "$dir"/example.npt "$dir"/bugs/*.npt "$dir"/scenarios/*.npt "$dir"/workloads/*.npt; do
    case "$t" in *two_waiters_one_direction*) continue ;; esac # a violation by design
    for seed in 1 2 3; do
        n=$((n + 1))
        if ! "$np" replay --no-db "$t" --faults "$class" --seed "$seed" >/tmp/faults.$$ 2>&1; then
            echo "FAIL $t --faults $class --seed $seed:"
            head -3 /tmp/faults.$$
            fail=1
        fi
        # "[poller: A eintr, B lost and C duplicated breaks]"
        k=$(sed -n 's/.*\[poller: \([0-9]*\) eintr, \([0-9]*\) lost and \([0-9]*\) duplicated.*/\1 \2 \3/p' /tmp/faults.$$)
        case "$class" in
        eintr) k=${k%% *} ;;
        lostbreak)
            k=${k#* }
            k=${k%% *}
            ;;
        dupbreak) k=${k##* } ;;
        *) k=0 ;;
        esac
        injected=$((injected + ${k:-0}))
    done
done
case "$class" in
eintr | lostbreak | dupbreak)
    [ $injected -gt 0 ] || { echo "FAIL: no $class fault was injected"; fail=1; } ;;
esac
if [ "$class" = eintr ]; then # ready and unblock at t=100: EINTR lets the unblock win
    "$np" replay --no-db "$dir/scenarios/read_ready_close.npt" --faults eintr --seed 2 \
        --emit /tmp/faults.$$ >/dev/null
    grep -q "^100 wake g=1 pd=1 mode=r res=closing" /tmp/faults.$$ ||
        { echo "FAIL: eintr did not delay readiness past the unblock"; fail=1; }
fi
if [ "$class" = lostbreak ]; then # the read deadline at 100 waits for the event at 300
    "$np" replay --no-db "$dir/bugs/read_deadline_leaves_write_alone.npt" --faults lostbreak \
        --seed 1 --emit /tmp/faults.$$ >/dev/null
    grep -q "^300 wake g=1 pd=1 mode=r res=timeout" /tmp/faults.$$ ||
        { echo "FAIL: lostbreak did not delay the timeout to the next event"; fail=1; }
fi
rm -f /tmp/faults.$$
if [ "$class" = reuse ]; then
    "$np" replay --no-db "$dir/workloads/accept-churn.npt" --faults reuse --seed 1 --design go1.5 \
        | grep -q "violation: stale-event" || { echo "FAIL: reuse faults did not show go1.5's stale events"; fail=1; }
fi
[ $fail -eq 0 ] && echo "faults $class: $n replays kept every invariant" &&
    case "$class" in eintr | lostbreak | dupbreak) echo "($injected $class faults injected)" ;; esac
exit $fail
