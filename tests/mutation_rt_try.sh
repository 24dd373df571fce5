#!/usr/bin/env bash
# tests/mutation_rt_try.sh - runs the runtime-layer mutants (tests/mutants/rt_*.patch)
# against every machine program with `netpoll explore`, in THIS working tree:
# applies a mutant to core/, rebuilds netpoll_cli in ./build, explores each
# program at --workers 1, 2, 3 with `--strategy dfs --preemptions 1` and
# `--strategy random --runs 3000 --seed 1` (timeout 120 s each), then reverts
# core/ (git checkout -- core/).
#
# usage: tests/mutation_rt_try.sh [--full|--quick|--slow] [--build DIR] [--out FILE]
#                                  [NAME|rt_NNN ...]
#
#   --full       run all 36 (program, workers, strategy) combinations of every
#                mutant. Default: the 30 quick ones (everything but dfs at 3
#                workers, which takes 10-100 s a program) always, and dfs at
#                3 workers only for a mutant none of them caught.
#   --quick      the 30 quick combinations only (a first pass over all mutants
#                on a busy machine; then --slow on the survivors)
#   --slow       dfs at 3 workers only (6 runs a mutant)
#   --build DIR  the build directory (default ./build, configured if missing)
#   --out FILE   one line per explore run appended, TSV (default /tmp/mutation_rt_try.tsv)
#   NAME         mutants to run (file name without .patch, or its rt_NNN prefix);
#                default all
#
# Per mutant, one summary line: `caught` with the first run that caught it
# (program, workers, strategy, the finding's kind) and how many runs caught it,
# or `survived` (`equivalent` if the header says why it cannot be caught), or
# `cut-short` when a run ended by timeout or explore's exit 3 and none caught.
# core/ must be clean (committed) before it starts; it is restored on exit.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 2
bld=build
out=/tmp/mutation_rt_try.tsv
full=0
mode=both
only=()
while [ $# -gt 0 ]; do
    case "$1" in
    --full) full=1; shift ;;
    --quick) mode=quick; shift ;;
    --slow) mode=slow; shift ;;
    --build) bld=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '/^# usage:/,/^# core/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutation_rt_try.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("${1%.patch}"); shift ;;
    esac
done
git diff --quiet -- core/ || { echo "mutation_rt_try.sh: core/ has local changes" >&2; exit 2; }
trap 'git checkout -q -- core/' EXIT
trap 'exit 130' INT TERM
[ -f "$bld/CMakeCache.txt" ] || cmake -S . -B "$bld" -DCMAKE_BUILD_TYPE=Release -DNETPOLL_TESTS=OFF >/dev/null || exit 2
np=$bld/cli/netpoll
header() { sed -n "/^[^#]/q; s/^# $2: *//p" "$1" | head -n 1; }

programs=$("$np" explore --program list 2>/dev/null | awk '{print $1}')
[ -n "$programs" ] || programs="pingpong accept_close double_close write_close timers_idle handoff"
quick=() slow=()
for p in $programs; do
    for w in 1 2 3; do
        quick+=("$p $w random")
        if [ "$w" = 3 ]; then slow+=("$p $w dfs"); else quick+=("$p $w dfs"); fi
    done
done

[ -f "$out" ] || printf 'mutant\tprogram\tworkers\tstrategy\texit\tkind\tseconds\n' >"$out"
for patch in tests/mutants/rt_*.patch; do
    n=$(basename "$patch" .patch)
    if [ ${#only[@]} -gt 0 ]; then
        hit=0
        for o in "${only[@]}"; do [ "$o" = "$n" ] || [ "${n#"$o"_}" != "$n" ] && hit=1; done
        [ $hit = 1 ] || continue
    fi
    git checkout -q -- core/
    if ! patch -p1 -s --no-backup-if-mismatch <"$patch" >/dev/null; then
        echo "stillborn  $n (the patch does not apply)"; continue
    fi
    if ! cmake --build "$bld" --target netpoll_cli -j2 >/tmp/mutation_rt_build.log 2>&1; then
        echo "stillborn  $n (does not build)"; continue
    fi
    first="" ncaught=0 nruns=0 cut=0
    combos=("${quick[@]}")
    [ $mode = slow ] && combos=("${slow[@]}")
    for pass in 1 2; do
        for c in "${combos[@]}"; do
            read -r p w s <<<"$c"
            if [ "$s" = dfs ]; then a=(--strategy dfs --preemptions 1); else a=(--strategy random --runs 3000 --seed 1); fi
            t0=$(date +%s.%N)
            timeout 120 "$np" explore --program "$p" --workers "$w" "${a[@]}" --no-db >/tmp/mutation_rt_run.log 2>&1
            rc=$?
            dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
            kind=$(sed -n 's/^finding: \([a-z-]*\).*/\1/p' /tmp/mutation_rt_run.log | head -n 1)
            [ $rc = 124 ] && kind=timeout
            [ $rc = 3 ] && kind=cut-short
            [ $rc -ge 128 ] && [ $rc != 124 ] && kind="signal-$((rc - 128))"
            nruns=$((nruns + 1))
            if [ $rc = 1 ] || { [ $rc -ge 128 ] && [ $rc != 124 ]; }; then
                ncaught=$((ncaught + 1))
                [ -n "$first" ] || first="$p w$w $s: ${kind:-?}"
            elif [ $rc != 0 ]; then
                cut=1
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$p" "$w" "$s" "$rc" "$kind" "$dt" >>"$out"
        done
        [ $mode = both ] || break
        [ $full = 1 ] || [ -z "$first" ] || break
        combos=("${slow[@]}")
    done
    if [ -n "$first" ]; then
        v="caught     $n: $first ($ncaught of $nruns runs)"
    elif [ $cut = 1 ]; then
        v="cut-short  $n ($nruns runs, none caught)"
    elif [ -n "$(header "$patch" equivalent)" ]; then
        v="equivalent $n ($nruns runs)"
    else
        v="survived   $n ($nruns runs)"
    fi
    echo "$v"
done
git checkout -q -- core/
cmake --build "$bld" --target netpoll_cli -j2 >/dev/null 2>&1
