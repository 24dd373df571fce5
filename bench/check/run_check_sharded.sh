#!/usr/bin/env bash
# bench/check/run_check_sharded.sh - netpoll check over many processes: the
# enumerated scenarios up to K stimuli cut into N shards (--shard I/N), run by
# GNU parallel, each into its own database, merged at the end.
#   usage: bench/check/run_check_sharded.sh [--netpoll BIN] [--k K] [--k2 K]
#            [--record-k K] [--shards N] [--jobs J] [--only I,J,...]
#            [--design D|all] [--out DIR]
# --record-k: the recorded pass's K (netpoll check --record-k; default K; 0:
# no recorded pass, with --record-k2 0 as the enumeration's K2 is 0 here).
# --only runs just those shards (a sample, to extrapolate the whole: each shard
# is an equal share of the scenarios, dealt round-robin). Prints each shard's
# time and verdict, then the sum and the wall time; exit 1 if a shard found
# something it did not expect.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
np=$repo/build/cli/netpoll
k=4
k2=0
rk=""
shards=16
jobs=$(nproc)
only=""
design=all
out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --netpoll) np=$2; shift 2 ;;
    --k) k=$2; shift 2 ;;
    --k2) k2=$2; shift 2 ;;
    --record-k) rk=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --design) design=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
command -v parallel >/dev/null || { echo "run_check_sharded.sh: GNU parallel is not installed" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
list=$(if [ -n "$only" ]; then echo "$only" | tr ',' '\n'; else seq "$shards"; fi)
t0=$(date +%s.%N)
set +e
# shellcheck disable=SC2016
parallel -j "$jobs" --halt never '
    s=$(date +%s.%N)
    '"$np"' check --k '"$k"' --k2 '"$k2"' '"${rk:+--record-k $rk --record-k2 0}"' --enumerated-only --design '"$design"' --quiet \
        --shard {}/'"$shards"' --db '"$out"'/shard{}.db > '"$out"'/shard{}.out 2>&1
    st=$?
    printf "shard %s/%s: exit %d, %.1f s: %s\n" {} '"$shards"' $st \
        "$(awk -v a="$(date +%s.%N)" -v b="$s" "BEGIN { print a - b }")" "$(tail -1 '"$out"'/shard{}.out | cut -c1-160)"
    exit $st' ::: $list
status=$?
set -e
t1=$(date +%s.%N)
echo "wall time: $(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }') s for $(echo "$list" | wc -w) of $shards shards (k=$k, k2=$k2, record-k ${rk:-$k}, design $design, $jobs jobs)"
"$np" merge "$out"/shard*.db --into "$out/all.db" >/dev/null && echo "merged: $out/all.db"
exit $([ $status -eq 0 ] && echo 0 || echo 1)
