#!/usr/bin/env bash
# tests/mutation.sh - mutation testing of the checker: builds the `netpoll`
# program once per mutant of core/poll_desc.c (tests/mutants/pd_*.patch), of
# the runtime layer (rt_*.patch), of core/sync.c (sy_*.patch) or planted by
# hand in the runtime layer (hp_*.patch; these three name the file they
# patch in `# file:`), and
# runs a check command against it. A mutant the check reports (exit 1) is
# caught; one it passes (exit 0) survived, unless its header documents it as
# equivalent (tests/mutants/README.md).
#
# usage: tests/mutation.sh [--build DIR] [--set all|tuning|heldout|handplanted] [--sample N]
#                          [--seed S] [--only NAME...] [--check 'CMD']
#                          [--timeout SECS] [--keep] [--out FILE]
#
#   --build DIR    the scratch directory (source copy in DIR/src, build in
#                  DIR/build); kept, and reused by a later run (incremental).
#                  Default: a fresh directory under ${TMPDIR:-/tmp}, removed at
#                  the end unless --keep.
#   --set S        all (default), tuning, heldout or handplanted (the header's `# set:`)
#   --sample N     N mutants of the set, picked with seed S (default 1)
#   --only NAME... these mutants only (file name without .patch, or a prefix
#                  of it up to an `_`: pd_007, rt_001, sy_012, or sy for all
#                  sy_ mutants); the arguments up to the next --option
#   --check 'CMD'  run by bash in the repository's working tree with $NETPOLL
#                  (the scratch build's cli/netpoll) and $NETPOLL_SRC (the
#                  scratch source tree) in the environment; exit 0 = clean,
#                  1 = violation found, 2 = bad input.
#                  Default: "$NETPOLL" check --no-db --quiet
#                  (until `netpoll check` exists: --check tests/mutation_standin.sh)
#   --timeout SECS per run of the check; default 10 x the unmutated run, at least 60
#   --out FILE     also write the results as TSV
#
# The scratch copy is the tracked tree at HEAD (git archive), the mutants are
# read from the working tree's tests/mutants/. The check must be clean on the
# unmutated build first (a checker with a false alarm scores nothing).
# Verdicts: caught (exit 1), caught (crash) (killed by a signal or exit >= 128),
# survived (exit 0), equivalent (exit 0, header `# equivalent:`), timeout,
# error (exit 2 or another status), stillborn (the patch does not apply or
# the mutant does not build: the patches are out of sync with the core).
# A mutant documented equivalent that the check reports is "alarm on
# equivalent": either the check cries wolf on a correct program or the
# header's argument is wrong - both need reading, so it fails the run.
# Last line: "N passed, M failed", passed = caught + equivalent; exit 0 when
# nothing failed, 1 otherwise, 2 on bad usage or an unclean baseline.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mutdir=$repo/tests/mutants
build_dir=""
set_name=all
sample=""
seed=1
only=()
# shellcheck disable=SC2016 # expanded by the bash that runs the check
check='"$NETPOLL" check --no-db --quiet'
tmo=""
keep=0
out=""

die() {
    echo "mutation.sh: $*" >&2
    exit 2
}
usage() {
    sed -n '/^# usage:/,/^#   --out/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs DIR"; build_dir=$2; shift 2 ;;
    --set) [ $# -ge 2 ] || die "--set needs a value"; set_name=$2; shift 2 ;;
    --sample) [ $# -ge 2 ] || die "--sample needs N"; sample=$2; shift 2 ;;
    --seed) [ $# -ge 2 ] || die "--seed needs S"; seed=$2; shift 2 ;;
    --check) [ $# -ge 2 ] || die "--check needs CMD"; check=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs SECS"; tmo=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs FILE"; out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --only)
        shift
        while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do only+=("$1"); shift; done
        [ ${#only[@]} -gt 0 ] || die "--only needs at least one NAME"
        ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done
case "$set_name" in all | tuning | heldout | handplanted) ;; *) die "--set must be all, tuning, heldout or handplanted" ;; esac
[ -z "$sample" ] || [[ "$sample" =~ ^[1-9][0-9]*$ ]] || die "--sample must be a positive integer"
[ -z "$tmo" ] || [[ "$tmo" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer"

header() { # FILE FIELD: the value of "# FIELD: value" in the patch's header
    sed -n "/^[^#]/q; s/^# $2: *//p" "$1" | head -n 1
}

# ---- the mutants -----------------------------------------------------------------
mutants=()
for p in "$mutdir"/pd_*.patch "$mutdir"/rt_*.patch "$mutdir"/sy_*.patch "$mutdir"/hp_*.patch; do
    [ -f "$p" ] || continue
    n=$(basename "$p" .patch)
    s=$(header "$p" set)
    [ "$s" = tuning ] || [ "$s" = heldout ] || [ "$s" = handplanted ] ||
        die "$n: no '# set: tuning|heldout|handplanted' header"
    if [ ${#only[@]} -gt 0 ]; then
        hit=0
        for o in "${only[@]}"; do
            o=${o%.patch}
            [ "$o" = "$n" ] || [ "${n#"$o"_}" != "$n" ] && hit=1
        done
        [ $hit = 1 ] || continue
    fi
    [ "$set_name" = all ] || [ "$s" = "$set_name" ] || continue
    mutants+=("$n")
done
if [ ${#only[@]} -gt 0 ]; then
    for o in "${only[@]}"; do
        o=${o%.patch}
        found=0
        for n in "${mutants[@]+"${mutants[@]}"}"; do
            [ "$o" = "$n" ] || [ "${n#"$o"_}" != "$n" ] && found=1
        done
        [ $found = 1 ] || die "--only $o: no such mutant in set $set_name"
    done
fi
[ ${#mutants[@]} -gt 0 ] || die "no mutants selected"
label=$set_name
if [ -n "$sample" ] && [ "$sample" -lt ${#mutants[@]} ]; then
    label="$set_name, sample $sample of ${#mutants[@]}, seed $seed"
    mapfile -t mutants < <(printf '%s\n' "${mutants[@]}" |
        shuf -n "$sample" --random-source=<(yes "$seed") | sort)
fi

# ---- the scratch copy and its build ----------------------------------------------
if [ -n "$build_dir" ]; then
    mkdir -p "$build_dir"
    scratch=$(cd "$build_dir" && pwd)
    keep=1
else
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/netpoll-mutation.XXXXXX")
fi
src=$scratch/src
bld=$scratch/build
logs=$scratch/logs
mkdir -p "$src" "$logs"
# The file a mutant patches: `# file:` in its header (rt_*, sy_*), else poll_desc.c.
target() { local f; f=$(header "$1" file); echo "${f:-core/poll_desc.c}"; }
cleanup() {
    [ -d "$scratch/orig" ] && cp "$scratch/orig/"*.c "$src/core/"
    if [ $keep = 0 ]; then rm -rf "$scratch"; else echo "mutation.sh: scratch kept in $scratch" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -m: every file stamped now, not with its commit time, so that a build
# directory reused by --build rebuilds from this tree (a stamp older than the
# last mutant's objects would leave the mutant built in).
git -C "$repo" archive HEAD | tar -x -m -C "$src"
mkdir -p "$scratch/orig"
for n in "${mutants[@]}"; do cp "$src/$(target "$mutdir/$n.patch")" "$scratch/orig/"; done
cmake_opts=(-DCMAKE_BUILD_TYPE=Release -DNETPOLL_TESTS=OFF)
if [ ! -f "$bld/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$bld" "${cmake_opts[@]}" >"$logs/configure.log" 2>&1 ||
        { tail -n 30 "$logs/configure.log" >&2; die "cmake configure failed"; }
fi
build() { cmake --build "$bld" --target netpoll_cli -j2 >"$1" 2>&1; }
export NETPOLL=$bld/cli/netpoll NETPOLL_SRC=$src

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# runs the check; sets rc and dt (seconds)
run_check() { # LOG TIMEOUT
    local t0 t1
    t0=$(now)
    set +e
    (cd "$repo" && timeout -k 10 "$2" bash -c "$check") >"$1" 2>&1
    rc=$?
    set -e
    t1=$(now)
    dt=$(secs "$t0" "$t1")
}

t_start=$(now)
build "$logs/baseline_build.log" || { tail -n 30 "$logs/baseline_build.log" >&2; die "the unmutated tree does not build"; }
run_check "$logs/baseline.log" 3600
if [ "$rc" != 0 ]; then
    tail -n 20 "$logs/baseline.log" >&2
    die "the check is not clean on the unmutated build (exit $rc): fix the false alarm first"
fi
base_dt=$dt
if [ -z "$tmo" ]; then
    tmo=$(awk -v d="$base_dt" 'BEGIN { t = int(10 * d + 0.999); print (t < 60 ? 60 : t) }')
fi
echo "baseline: the check is clean on the unmutated build (${base_dt} s); timeout ${tmo} s; ${#mutants[@]} mutants [$label]"

# ---- the mutants, one at a time --------------------------------------------------
caught=0 equiv=0 survived=0 stillborn=0 timeouts=0 errors=0 alarms=0
[ -z "$out" ] || printf 'mutant\tset\toperator\tfunction\tverdict\texit\tseconds\n' >"$out"
for n in "${mutants[@]}"; do
    p=$mutdir/$n.patch
    s=$(header "$p" set)
    eq=$(header "$p" equivalent)
    tf=$(target "$p")
    rc=- dt=0.0
    if ! patch -p1 -s -d "$src" --no-backup-if-mismatch -r "$logs/$n.rej" <"$p" >"$logs/$n.patch.log" 2>&1; then
        verdict=stillborn
        echo "  (the patch does not apply: $(head -n 3 "$logs/$n.patch.log" | tr '\n' ' '))"
    elif ! build "$logs/$n.build.log"; then
        verdict=stillborn
        grep -m 3 -E 'error|Error' "$logs/$n.build.log" | sed 's/^/  (build) /' || true
    else
        run_check "$logs/$n.log" "$tmo"
        if [ "$rc" = 0 ]; then
            if [ -n "$eq" ]; then verdict=equivalent; else verdict=survived; fi
        elif [ "$rc" = 1 ] && [ -n "$eq" ]; then
            verdict="alarm on equivalent"
        elif [ "$rc" = 1 ]; then
            verdict=caught
        elif [ "$rc" = 124 ] || { [ "$rc" = 137 ] && awk -v d="$dt" -v t="$tmo" 'BEGIN { exit !(d >= t) }'; }; then
            verdict=timeout
        elif [ "$rc" -ge 128 ]; then
            verdict="caught (crash)"
        else
            verdict=error
        fi
    fi
    case "$verdict" in
    caught | "caught (crash)") caught=$((caught + 1)) ;;
    equivalent) equiv=$((equiv + 1)) ;;
    "alarm on equivalent") equiv=$((equiv + 1)) alarms=$((alarms + 1)) ;;
    survived) survived=$((survived + 1)) ;;
    stillborn) stillborn=$((stillborn + 1)) ;;
    timeout) timeouts=$((timeouts + 1)) ;;
    error) errors=$((errors + 1)) ;;
    esac
    note=""
    [ -n "$eq" ] && [ "$verdict" != equivalent ] && [ "$verdict" != "alarm on equivalent" ] &&
        note=" [marked equivalent]"
    printf '%-15s %s (%s s)%s\n' "$verdict" "$n" "$dt" "$note"
    [ -z "$out" ] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$s" "$(header "$p" operator)" \
        "$(header "$p" function | cut -d' ' -f1)" "$verdict" "$rc" "$dt" >>"$out"
    cp "$scratch/orig/$(basename "$tf")" "$src/$tf"
done

total=${#mutants[@]}
k=$((total - equiv))
extra=""
[ $timeouts = 0 ] || extra+=", $timeouts timeout"
[ $errors = 0 ] || extra+=", $errors error"
[ $alarms = 0 ] || extra+=", $alarms alarm on equivalent"
echo "mutation score: caught $caught of $k non-equivalent ($equiv equivalent, $survived survived, $stillborn stillborn$extra) [$label]"
echo "time: $(secs "$t_start" "$(now)") s"
passed=$((caught + equiv - alarms))
failed=$((survived + stillborn + timeouts + errors + alarms))
echo "$passed passed, $failed failed"
[ $failed = 0 ]
