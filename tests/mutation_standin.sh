#!/usr/bin/env bash
# tests/mutation_standin.sh - a stand-in for `netpoll check` until it exists:
# the corpus replayed (traces/check_corpus.sh, against traces/corpus.tsv) and
# every trace of traces/ explored (dfs, no bound) under go1.5, go1.18 and
# go1.21, each exit status compared with the verdict it should have.
#   usage: tests/mutation_standin.sh [NETPOLL]      (default: $NETPOLL)
#   exit: 0 every verdict as expected, 1 one was not (printed; it stops at
#   the first), 2 bad usage.
# For tests/mutation.sh --check tests/mutation_standin.sh
#
# The expected explore verdict is traces/corpus.tsv's column for the design
# (scenarios and workload samples: 0), except where explore and replay
# rightly differ (EXPLORE_DIFFERS below): explore checks the invariants
# (TRACE_FORMAT.md) on every interleaving, replay also compares the recorded
# `wake` lines, in the trace's own order only.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
np=${1:-${NETPOLL:-}}
if [ -z "$np" ] || [ ! -x "$np" ]; then
    echo "mutation_standin.sh: no netpoll program (argument or \$NETPOLL)" >&2
    exit 2
fi
traces=$here/traces
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# file design verdict  # why it differs from corpus.tsv
EXPLORE_DIFFERS='
bugs/error_event_read_side_only.npt go1.5 0  # replay: the recorded notpollable diverges; no invariant broken
bugs/recorded_early_timeout.npt go1.5 0      # replay: the recorded early timeout diverges; the code itself times out on time
bugs/recorded_early_timeout.npt go1.18 0
bugs/recorded_early_timeout.npt go1.21 0
scenarios/read_ready_timer_close_mover.npt go1.5 1  # go1.5 reads closing and rd one by one: an interleaving sees the old rd (early-timeout)
'

# 1. replay against the table (fast; its first FAIL line is the message)
if ! msg=$(sh "$traces/check_corpus.sh" "$np" "$traces" 2>&1); then
    echo "standin: replay: $(printf '%s\n' "$msg" | grep -m 1 FAIL)"
    exit 1
fi

# 2. explore, the slow scenarios last
expected() { # FILE DESIGN
    local f=$1 d=$2 v
    v=$(printf '%s\n' "$EXPLORE_DIFFERS" | awk -v f="$f" -v d="$d" '$1 == f && $2 == d { print $3 }')
    if [ -z "$v" ]; then
        v=$(awk -F'\t' -v f="$f" -v d="$d" '
            /^#/ { next }
            $1 == f { print (d == "go1.5" ? $2 : d == "go1.18" ? $3 : $4); found = 1 }
            END { if (!found) print 0 }' "$traces/corpus.tsv")
    fi
    echo "$v"
}
files=() # the scenarios with a close (the slowest) last
for f in "$traces"/*.npt "$traces"/bugs/*.npt "$traces"/scenarios/*.npt; do
    r=${f#"$traces"/}
    case $r in scenarios/*_close*) ;; *) files+=("$r") ;; esac
done
for f in "$traces"/scenarios/*_close*.npt; do files+=("${f#"$traces"/}"); done
n=0
for f in "${files[@]}"; do
    for d in go1.5 go1.18 go1.21; do
        want=$(expected "$f" "$d")
        "$np" explore "$traces/$f" --design "$d" --quiet --no-db >"$tmp" 2>&1
        got=$?
        n=$((n + 1))
        if [ "$got" != "$want" ]; then
            echo "standin: explore $f under $d: exit $got, expected $want"
            grep -m 2 -E '^(violation|divergence|netpoll: fatal)' "$tmp" | sed 's/^/  /'
            exit 1
        fi
    done
done
echo "standin: corpus replays and $n explorations as expected"
exit 0
