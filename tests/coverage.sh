#!/usr/bin/env bash
# tests/coverage.sh - line and branch coverage of core/poll_desc.c reached by
# `netpoll check` in the sim build (gcovr, Debian package gcovr).
#   usage: tests/coverage.sh [--build DIR] [--k K] [--k2 K] [--html FILE]
# Builds the netpoll program with --coverage in DIR (default build-cov),
# runs `netpoll check --k K --k2 K --no-db --quiet` under every design, and
# prints gcovr's summary and the lines and branches not reached.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build-cov
k=3
k2=3
html=
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --k) k=$2; shift 2 ;;
    --k2) k2=$2; shift 2 ;;
    --html) html=$2; shift 2 ;;
    *) echo "usage: tests/coverage.sh [--build DIR] [--k K] [--k2 K] [--html FILE]" >&2; exit 2 ;;
    esac
done
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is not installed (apt-get install gcovr)" >&2; exit 2; }
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNETPOLL_TESTS=OFF \
    -DCMAKE_C_FLAGS="--coverage -O0 -DNP_COVERAGE=1" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
    -DCMAKE_SHARED_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$build" -j "$(nproc)" --target netpoll_cli >/dev/null
[ -n "${COVERAGE_NO_RUN:-}" ] || find "$build" -name '*.gcda' -delete
[ -n "${COVERAGE_NO_RUN:-}" ] ||
    "$build/cli/netpoll" check --k "$k" --k2 "$k2" --no-db --quiet --traces "$repo/traces" >/dev/null
# Only the sim builds' objects count - the trace world's (the scenarios,
# enumerated and shipped, plain and recorded) and the simulated machine's
# (the programs, which reach poll_desc.c through netfd.c): they are what the
# checker runs; gcovr merges the two counts of the one source file.
objdir=$(dirname "$(find "$build" -path '*netpoll_sim_hidden.dir*' -name 'poll_desc.c.gcda' | head -1)")
[ -n "$objdir" ] || { echo "coverage.sh: no coverage data from the sim build" >&2; exit 1; }
mobj=$(find "$build" -path '*netpoll_machine_hidden.dir*' -name 'poll_desc.c.gcda' | head -1)
mdir=${mobj:+$(dirname "$mobj")}
args=(--root "$repo" --filter "$repo/core/poll_desc.c" --exclude-unreachable-branches
    --exclude-throw-branches "$objdir" ${mdir:+"$mdir"})
echo "== core/poll_desc.c, reached by netpoll check --k $k --k2 $k2 (all designs): the sim build${mdir:+ and the machine build}"
gcovr "${args[@]}" --print-summary -o /dev/null
gcovr "${args[@]}" --json - | /usr/bin/python3 "$repo/tests/coverage_report.py" "$repo/core/poll_desc.c"
if [ -n "$html" ]; then
    gcovr "${args[@]}" --html-details "$html"
    echo "coverage.sh: $html"
fi
