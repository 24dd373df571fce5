#!/usr/bin/env bash
# tests/explore_record.sh NETPOLL [--mutants] - exploration with recording on
# (netpoll explore --record; check/recorded.c).
#  1. No false alarm: every shipped scenario, explored with every run
#     recorded, under every design, is clean (the recording paths of
#     core/poll_desc.c run, their sections interleave with the rest, and each
#     recording matches its run).
#  2. --mutants: the check can fail. Two mutants of the recording paths
#     (tests/mutants: pd_018, the park recorded when the commit failed;
#     pd_025, the wait's record skipped or doubled) are built in a scratch
#     tree by tests/mutation.sh, and explore --record must report each.
set -u
netpoll=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
fail=0
designs="go1.21 go1.18 go1.5"
light=0
[ "${NETPOLL_TEST_LIGHT:-0}" = 1 ] && designs=go1.21 && light=1
for f in "$repo"/traces/scenarios/*.npt; do
    # under the sanitizers (NETPOLL_TEST_LIGHT=1): one design, and not the
    # four- and five-actor trees (190 s of its 600 under TSan with them)
    case "$f" in *_timer_close*) [ $light = 1 ] && continue ;; esac
    for d in $designs; do
        out=$("$netpoll" explore "$f" --design "$d" --record --no-db --quiet 2>&1)
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "FAIL: explore --record $(basename "$f") --design $d: exit $rc"
            echo "$out" | head -5
            fail=1
        fi
    done
done
[ $fail -eq 0 ] && echo "ok: the shipped scenarios clean with recording on ($designs$([ $light = 1 ] && echo "; the *_timer_close ones left out"))"
if [ "${2:-}" = --mutants ]; then
    # shellcheck disable=SC2016 # expanded by mutation.sh's bash
    chk='for f in traces/scenarios/deadline_past_while_waiting.npt traces/scenarios/read_ready_timer_close_mover.npt; do "$NETPOLL" explore $f --record --no-db --quiet --no-minimize >/dev/null 2>&1; rc=$?; [ $rc -ne 0 ] && exit $rc; done; exit 0'
    if ! bash "$repo/tests/mutation.sh" --only pd_018 pd_025 --check "$chk"; then
        echo "FAIL: a recording mutant was not caught by explore --record"
        fail=1
    fi
fi
exit $fail
