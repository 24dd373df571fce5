#!/usr/bin/env bash
# tests/explore_random_traces.sh NETPOLL [SEED] [N] - no false alarm beyond
# the enumeration: N random valid traces of 4-12 stimuli (one or two
# pollDescs, reopens, stale readies; tests/random_traces.py, seeded) are
# explored under every design. go1.21 must be clean; go1.18 and go1.5 may
# only report their documented bug (stale-event: traces/expected_findings.tsv).
# A trace's exploration is capped at 5 s (dfs, state caching).
# NETPOLL_TEST_LIGHT=1 (sanitizer builds): a quarter of the traces.
set -u
netpoll=$1
seed=${2:-1}
n=${3:-40}
[ "${NETPOLL_TEST_LIGHT:-0}" = 1 ] && n=$((n / 4))
repo=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$py" "$repo/tests/random_traces.py" "$seed" "$n" "$dir" || exit 1
fail=0
runs=0
for f in "$dir"/t*.npt; do
    for d in go1.21 go1.18 go1.5; do
        out=$("$netpoll" explore "$f" --design "$d" --seconds 5 --no-db --quiet 2>&1)
        rc=$?
        runs=$((runs + 1))
        [ $rc -eq 0 ] && continue
        kind=$(echo "$out" | sed -n '1s/^violation: \([a-z-]*\).*/\1/p')
        [ $rc -eq 1 ] && [ "$d" != go1.21 ] && [ "$kind" = stale-event ] && continue
        echo "FAIL: explore $(basename "$f") --design $d: exit $rc"
        cat "$f"
        echo "$out" | head -8
        fail=1
    done
done
echo "explore_random_traces: $n traces (seed $seed) x 3 designs, $runs explorations"
exit $fail
