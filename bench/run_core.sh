#!/usr/bin/env bash
# bench/run_core.sh - the core benchmarks against Go's, interleaved, as a
# Markdown table.
#
#   bench/run_core.sh [--rounds N] [--build-dir DIR] [--samples N] [--log FILE]
#
# Each round runs, in this order, one repetition of:
#   ours  deadline_reset          (bench_core deadline_reset --reps 1)
#   Go    BenchmarkSetReadDeadline (go test net -run '^$' -bench SetReadDeadline -count 1)
#   ours  park_ready
#   ours  break_latency           (--samples samples, 2 ms apart)
# so the two deadline contenders alternate A B A B ... and share the noise of
# the machine. Medians and min-max are over the rounds.
#
# Go: $GO, else /usr/lib/go-1.19/bin/go, else `go` on PATH; skipped with a
# note when none is found. Every command runs under `timeout`, the number of
# rounds is capped, and the whole run stops starting new rounds after
# $BENCH_BUDGET_S seconds (default 1800).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-bench"
ROUNDS=5
SAMPLES=1000
LOG=""
BUDGET_S=${BENCH_BUDGET_S:-1800}
MAX_ROUNDS=100

while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --samples) SAMPLES=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run_core.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ROUNDS" in ''|*[!0-9]*) echo "run_core.sh: --rounds wants a number" >&2; exit 2 ;; esac
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
[ "$ROUNDS" -le "$MAX_ROUNDS" ] || ROUNDS=$MAX_ROUNDS
[ -n "$LOG" ] || LOG=$(mktemp /tmp/run_core.XXXXXX.log)

BENCH="$BUILD/bench/bench_core"
if [ ! -x "$BENCH" ]; then
    echo "building $BENCH ..." >&2
    timeout 300 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
        timeout 900 make -C "$BUILD" -j2 bench_core >/dev/null || {
        echo "run_core.sh: build failed" >&2
        exit 1
    }
fi

# ---- Go -------------------------------------------------------------------
GO=${GO:-}
if [ -z "$GO" ]; then
    if [ -x /usr/lib/go-1.19/bin/go ]; then
        GO=/usr/lib/go-1.19/bin/go
    else
        GO=$(command -v go 2>/dev/null || true)
    fi
fi
GO_NOTE=""
if [ -z "$GO" ] || [ ! -x "$GO" ]; then
    GO=""
    GO_NOTE="Go not found: Go's BenchmarkSetReadDeadline skipped."
else
    export GOCACHE=${GOCACHE:-/tmp/gocache} HOME=${HOME:-/tmp} GOFLAGS=${GOFLAGS:--mod=mod}
    mkdir -p "$GOCACHE" 2>/dev/null
    GO_VERSION=$(timeout 30 "$GO" version 2>/dev/null | awk '{print $3}')
fi

# ---- helpers --------------------------------------------------------------
# kv KEY LINE: the value of KEY=... in a bench_core line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1; }

# stats VALUES...: "median min max" (awk, numeric).
stats() {
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.4g %.4g %.4g\n", m, v[1], v[NR]
        }'
}

run() { # run SECONDS CMD...: runs it bounded, logs its output, prints it
    local t=$1; shift
    echo "+ $*" >>"$LOG"
    timeout "$t" "$@" 2>&1 | tee -a "$LOG"
}

dr=(); gor=(); ratio=(); pr=(); blm=(); blp=()
start=$(date +%s)
done_rounds=0
for r in $(seq 1 "$ROUNDS"); do
    if [ $(( $(date +%s) - start )) -ge "$BUDGET_S" ]; then
        echo "time budget of ${BUDGET_S}s used up after $done_rounds rounds" | tee -a "$LOG" >&2
        break
    fi
    echo "round $r/$ROUNDS" >&2

    out=$(run 120 "$BENCH" deadline_reset --reps 1 | grep '^deadline_reset ns_per_op=' | head -n1)
    a=$(kv ns_per_op "$out")
    dr+=("$a")

    b=""
    if [ -n "$GO" ]; then
        out=$( (cd /tmp && run 300 "$GO" test net -run '^$' -bench SetReadDeadline -count 1) |
            awk '/^BenchmarkSetReadDeadline/ { for (i = 1; i <= NF; i++) if ($i == "ns/op") print $(i-1) }' | head -n1)
        b=$out
        gor+=("$b")
        if [ -n "$a" ] && [ -n "$b" ]; then
            ratio+=("$(awk -v x="$a" -v y="$b" 'BEGIN { printf "%.3f", x / y }')")
        fi
    fi

    out=$(run 120 "$BENCH" park_ready --reps 1 | grep '^park_ready ns_per_op=' | head -n1)
    pr+=("$(kv ns_per_op "$out")")

    out=$(run 600 "$BENCH" break_latency --reps 1 --iters "$SAMPLES" | grep '^break_latency median_us=' | head -n1)
    blm+=("$(kv median_us "$out")")
    blp+=("$(kv p99_us "$out")")

    echo "round $r: deadline_reset=${a:-?} go=${b:-skipped} park_ready=${pr[-1]:-?} break_median_us=${blm[-1]:-?} break_p99_us=${blp[-1]:-?}" >>"$LOG"
    done_rounds=$r
done

# ---- the table ------------------------------------------------------------
row() { # row NAME UNIT VALUES...
    local name=$1 unit=$2; shift 2
    read -r m lo hi <<<"$(stats "$@")"
    printf '| %s | %s | %d | %s | %s–%s |\n' "$name" "$unit" "$(printf '%s\n' "$@" | grep -cE '^[0-9.]+$')" "$m" "$lo" "$hi"
}

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "- machine: $(uname -srm), CPU: ${cpu:-unknown}, nproc: $(nproc)"
echo "- commit: $commit; date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- rounds: $done_rounds (interleaved: ours deadline_reset, Go SetReadDeadline, park_ready, break_latency); bench_core: 1 worker, epoll"
if [ -n "$GO" ]; then
    echo "- Go: $GO_VERSION, \`go test net -run '^\$' -bench SetReadDeadline -count 1\` per round (GOMAXPROCS default = $(nproc))"
else
    echo "- $GO_NOTE"
fi
echo "- raw log: $LOG"
echo
echo "| benchmark | unit | rounds | median | min–max |"
echo "|---|---|---|---|---|"
row "deadline_reset (ours)" "ns/op" "${dr[@]}"
if [ -n "$GO" ]; then
    row "SetReadDeadline (Go)" "ns/op" "${gor[@]}"
    row "deadline_reset ours/Go, per round" "ratio" "${ratio[@]}"
else
    echo "| SetReadDeadline (Go) | ns/op | 0 | skipped | – |"
fi
row "park_ready (A→B→A)" "ns/round trip" "${pr[@]}"
row "break_latency median" "µs" "${blm[@]}"
row "break_latency p99" "µs" "${blp[@]}"
