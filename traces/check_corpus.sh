#!/bin/sh
# Replays every trace of traces/corpus.tsv under each design and checks the
# exit status against the expected verdict; also that every .npt under
# traces/ is listed or is a workload sample (replayed under go1.21).
# usage: check_corpus.sh NETPOLL TRACES_DIR
set -u
np=$1
dir=$2
fail=0
n=0
while IFS='	' read -r file v15 v18 v21 vex; do
    case "$file" in ''|'#'*) continue ;; esac
    for pair in "go1.5:$v15" "go1.18:$v18" "go1.21:$v21" "exact:$vex"; do
        d=${pair%%:*}
        want=${pair#*:}
        if [ "$d" = exact ]; then
            "$np" replay --no-db "$dir/$file" --exact-timers >/dev/null 2>&1
        else
            "$np" replay --no-db "$dir/$file" --design "$d" >/dev/null 2>&1
        fi
        got=$?
        n=$((n + 1))
        if [ "$got" != "$want" ]; then
            echo "FAIL $file under $d: exit $got, expected $want"
            fail=1
        fi
    done
done <"$dir/corpus.tsv"
for f in "$dir"/workloads/*.npt; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    "$np" replay --no-db "$f" >/dev/null 2>&1 || { echo "FAIL $f: the workload sample does not replay"; fail=1; }
done
for f in "$dir"/scenarios/*.npt; do
    [ -f "$f" ] || continue
    for d in go1.5 go1.18 go1.21; do
        n=$((n + 1))
        "$np" replay --no-db "$f" --design "$d" >/dev/null 2>&1 || { echo "FAIL $f under $d: a scenario must replay clean"; fail=1; }
    done
done
for f in $(cd "$dir" && find . -name '*.npt' | sed 's|^\./||'); do
    case "$f" in workloads/*|scenarios/*) continue ;; esac
    grep -q "^$f	" "$dir/corpus.tsv" || { echo "FAIL $f is not listed in corpus.tsv"; fail=1; }
done
[ $fail -eq 0 ] && echo "replay_corpus: $n replays as expected"
exit $fail
