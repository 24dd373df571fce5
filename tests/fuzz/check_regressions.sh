#!/bin/sh
# Inputs the fuzzers once crashed on (tests/fuzz/regressions/*), replayed by
# the ordinary netpoll binary under every design: each must end with exit
# status 0, 1 or 2 - never a crash or an abort.
# usage: check_regressions.sh NETPOLL DIR
set -u
np=$1
dir=$2
n=0
fail=0
for f in "$dir"/*; do
    case "$f" in */README) continue ;; esac
    [ -f "$f" ] || continue
    for d in go1.5 go1.18 go1.21; do
        n=$((n + 1))
        timeout 60 "$np" replay --no-db "$f" --design "$d" >/dev/null 2>&1
        st=$?
        [ $st -le 2 ] || { echo "FAIL $f under $d: exit $st"; fail=1; }
    done
done
[ $fail -eq 0 ] && echo "fuzz regressions: $n replays, none crashed"
exit $fail
