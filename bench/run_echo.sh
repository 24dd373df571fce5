#!/usr/bin/env bash
# bench/run_echo.sh - the TCP echo benchmark: this project's server against
# Go's, libuv's and a raw epoll loop's, driven by one load generator, as a
# Markdown table.
#
#   bench/run_echo.sh [--rounds N] [--seconds S] [--sys-seconds S2]
#                     [--only "np1 go1 ..."] [--build-dir DIR] [--log FILE]
#                     [--base-bin PATH] [--cells "persistent:nodl oneshot:dl ..."]
#
# Contenders (all listen on 127.0.0.1; connections = 2 x threads, as in Go's
# net.BenchmarkTCP4Persistent with 2 x GOMAXPROCS clients):
#   np1  bench/echo/echo_np --workers 1     2 connections
#   np2  bench/echo/echo_np --workers 2     4 connections
#   go1  echo_go, GOMAXPROCS=1              2 connections
#   go2  echo_go, GOMAXPROCS=2              4 connections
#   uv   bench/echo/echo_uv (one loop)      2 connections
#   raw  bench/echo/echo_raw (one thread)   2 connections
#   bs1  --base-bin PATH --workers 1        2 connections  (only with --base-bin:
#   bs2  --base-bin PATH --workers 2        4 connections   an echo_np of another
#        commit, for a before/after comparison interleaved with the others)
# Shapes: persistent (round trips of 512 bytes on open connections) and
# oneshot (dial, one 512-byte round trip, close), each without and with
# --deadline (a 10 s read deadline reset before every read).
#
# Every round runs every shape x deadline cell, and within a cell every
# contender once, so contenders alternate A B A B ... over the rounds (the
# order is rotated by one each round). Per run: a fresh server, loadgen for
# S s (default 2) after 200 ms of warm-up; server CPU = utime+stime from
# /proc/PID/stat before/after; then, on the same server, a second loadgen run
# of S2 s (default 1; 0 skips it) under `perf stat -e raw_syscalls:sys_enter
# -p PID` (or `strace -c -f -p PID` if perf cannot, flagged in the output) for
# system calls per request. Medians and min-max are over the rounds.
#
# Bounded: rounds <= 50, S <= 30, every command under `timeout`, servers exit
# by themselves after 300 s, and no new round starts after $BENCH_BUDGET_S
# seconds (default 2400). A contender that is not built is skipped with a note.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-echo"
ROUNDS=5
RUN_S=2
SYS_S=1
ONLY=""
LOG=""
BUDGET_S=${BENCH_BUDGET_S:-2400}
SIZE=512
BASE_BIN=""
CELLS_ARG=""

while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) RUN_S=$2; shift 2 ;;
    --sys-seconds) SYS_S=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    --base-bin) BASE_BIN=$2; shift 2 ;;
    --cells) CELLS_ARG=$2; shift 2 ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "run_echo.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in "$ROUNDS" "$RUN_S" "$SYS_S"; do
    case "$v" in ''|*[!0-9]*) echo "run_echo.sh: --rounds/--seconds/--sys-seconds want whole numbers" >&2; exit 2 ;; esac
done
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
[ "$ROUNDS" -le 50 ] || ROUNDS=50
[ "$RUN_S" -ge 1 ] || RUN_S=1
[ "$RUN_S" -le 30 ] || RUN_S=30
[ "$SYS_S" -le 30 ] || SYS_S=30
[ -n "$LOG" ] || LOG=$(mktemp /tmp/run_echo.XXXXXX.log)
TMP=$(mktemp -d /tmp/run_echo.XXXXXX)
E="$BUILD/bench/echo"
LG="$E/loadgen"
NOTES=()

# ---- build ----------------------------------------------------------------
if [ ! -f "$BUILD/Makefile" ]; then
    echo "configuring $BUILD ..." >&2
    # NETPOLL_WERROR=OFF: other work in progress must not stop the benchmark on a warning
    timeout 300 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNETPOLL_WERROR=OFF >>"$LOG" 2>&1 ||
        { echo "run_echo.sh: cmake failed (see $LOG)" >&2; exit 1; }
fi
# The core may be mid-edit by others: a failed echo_np build is retried a few
# times (30 s apart) before echo_np is skipped.
for t in echo_loadgen echo_raw echo_uv echo_np; do
    echo "building $t ..." >&2
    tries=1
    [ "$t" = echo_np ] && tries=${ECHO_NP_BUILD_TRIES:-6}
    for i in $(seq 1 "$tries"); do
        if timeout 900 make -C "$BUILD" -j2 "$t" >>"$LOG" 2>&1; then break; fi
        echo "make $t failed (attempt $i/$tries, see $LOG)" >&2
        [ "$i" -lt "$tries" ] && sleep 30
    done
done
[ -x "$LG" ] || { echo "run_echo.sh: no load generator at $LG" >&2; exit 1; }

GO=${GO:-}
if [ -z "$GO" ]; then
    if [ -x /usr/lib/go-1.19/bin/go ]; then GO=/usr/lib/go-1.19/bin/go; else GO=$(command -v go 2>/dev/null || true); fi
fi
GO_BIN="$E/echo_go"
GO_VERSION=""
if [ -n "$GO" ] && [ -x "$GO" ]; then
    mkdir -p "$BUILD/go-cache" "$BUILD/gopath" "$E"
    if [ ! -x "$GO_BIN" ] || [ "$ROOT/bench/echo/echo_go.go" -nt "$GO_BIN" ]; then
        echo "building echo_go ..." >&2
        (cd "$ROOT/bench/echo" && GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/gopath" GO111MODULE=off \
            GOFLAGS= HOME=${HOME:-/tmp} timeout 600 "$GO" build -o "$GO_BIN" echo_go.go) >>"$LOG" 2>&1 ||
            echo "go build failed (see $LOG)" >&2
    fi
    GO_VERSION=$(GOCACHE="$BUILD/go-cache" timeout 30 "$GO" version 2>/dev/null | awk '{print $3}')
else
    NOTES+=("Go not found: go1/go2 skipped.")
fi

# ---- contenders -------------------------------------------------------------
ALL=(np1 np2 go1 go2 uv raw)
declare -A LABEL=([np1]="ours w=1" [np2]="ours w=2" [go1]="Go GOMAXPROCS=1" [go2]="Go GOMAXPROCS=2" [uv]="libuv" [raw]="raw epoll"
    [bs1]="base w=1" [bs2]="base w=2")
declare -A CONNS=([np1]=2 [np2]=4 [go1]=2 [go2]=4 [uv]=2 [raw]=2 [bs1]=2 [bs2]=4)
declare -A BIN=([np1]="$E/echo_np" [np2]="$E/echo_np" [go1]="$GO_BIN" [go2]="$GO_BIN" [uv]="$E/echo_uv" [raw]="$E/echo_raw"
    [bs1]="$BASE_BIN" [bs2]="$BASE_BIN")
[ -n "$BASE_BIN" ] && ALL+=(bs1 bs2)
C=()
for n in "${ALL[@]}"; do
    if [ -n "$ONLY" ] && ! printf ' %s ' "$ONLY" | grep -q " $n "; then continue; fi
    if [ -x "${BIN[$n]}" ]; then C+=("$n"); else NOTES+=("${LABEL[$n]} skipped: ${BIN[$n]} not built."); fi
done
[ ${#C[@]} -gt 0 ] || { echo "run_echo.sh: no contender built" >&2; exit 1; }

# ---- system-call counting -----------------------------------------------------
SYS_METHOD="n/a"
if [ "$SYS_S" -gt 0 ]; then
    if command -v perf >/dev/null 2>&1 &&
        timeout 30 perf stat -e raw_syscalls:sys_enter -x, -o /dev/null -- true >/dev/null 2>&1; then
        SYS_METHOD=perf
    elif command -v strace >/dev/null 2>&1; then
        SYS_METHOD=strace
    fi
fi

# ---- helpers ----------------------------------------------------------------
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1; }

stats() { # stats VALUES...: "median min max"
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %s %s\n", f(m), f(v[1]), f(v[NR])
        }
        function f(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }'
}

. "$ROOT/bench/echo/common.sh" # cpu_ticks, srv_start, srv_stop
TCK=$(getconf CLK_TCK)

start_server() { # start_server NAME DL -> SRV_PID and SRV_PORT (empty if it failed)
    local n=$1 dl=$2 flag=()
    [ "$dl" = dl ] && flag=(--deadline)
    case $n in
    np1|bs1) srv_start "${BIN[$n]}" --workers 1 "${flag[@]}" --port 0 --timeout 300 ;;
    np2|bs2) srv_start "${BIN[$n]}" --workers 2 "${flag[@]}" --port 0 --timeout 300 ;;
    go1) srv_start env GOMAXPROCS=1 "${BIN[$n]}" "${flag[@]}" --port 0 --timeout 300 ;;
    go2) srv_start env GOMAXPROCS=2 "${BIN[$n]}" "${flag[@]}" --port 0 --timeout 300 ;;
    *) srv_start "${BIN[$n]}" "${flag[@]}" --port 0 --timeout 300 ;;
    esac
}
stop_server() { srv_stop; }
trap 'stop_server; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

count_syscalls() { # count_syscalls PID PORT MODE CONNS -> "syscalls total"
    local pid=$1 port=$2 mode=$3 conns=$4 mon line cnt="" total
    case $SYS_METHOD in
    perf) timeout $((SYS_S + 60)) perf stat -e raw_syscalls:sys_enter -p "$pid" -x, -o "$TMP/sys.out" & ;;
    strace) timeout $((SYS_S + 60)) strace -c -f -p "$pid" -o "$TMP/sys.out" & ;;
    *) return ;;
    esac
    mon=$!
    sleep 0.5 # let it attach
    line=$(timeout $((SYS_S + 40)) "$LG" --addr "127.0.0.1:$port" --mode "$mode" --conns "$conns" \
        --seconds "$SYS_S" --size "$SIZE" --warmup-ms 0 2>>"$LOG")
    kill -INT "$mon" 2>/dev/null
    wait "$mon" 2>/dev/null
    total=$(kv total "$line")
    case $SYS_METHOD in
    perf) cnt=$(awk -F, '/raw_syscalls:sys_enter/ { print $1; exit }' "$TMP/sys.out") ;;
    strace) cnt=$(awk '$NF == "total" { print $4; exit }' "$TMP/sys.out") ;;
    esac
    echo "sys $SYS_METHOD: $cnt syscalls, loadgen: $line" >>"$LOG"
    echo "${cnt:-} ${total:-}"
}

declare -A R # R[name|cell|metric] = "v1 v2 ..."
add() { R[$1]="${R[$1]:-} $2"; }
CELLS=("persistent nodl" "persistent dl" "oneshot nodl" "oneshot dl")
if [ -n "$CELLS_ARG" ]; then # a subset, e.g. "persistent:nodl oneshot:dl"
    CELLS=()
    for c in $CELLS_ARG; do
        case $c in persistent:nodl|persistent:dl|oneshot:nodl|oneshot:dl) CELLS+=("${c/:/ }") ;;
        *) echo "run_echo.sh: bad cell $c" >&2; exit 2 ;; esac
    done
fi

# ---- the rounds ---------------------------------------------------------------
start=$(date +%s)
done_rounds=0
for r in $(seq 1 "$ROUNDS"); do
    if [ $(( $(date +%s) - start )) -ge "$BUDGET_S" ]; then
        echo "time budget of ${BUDGET_S}s used up after $done_rounds rounds" | tee -a "$LOG" >&2
        break
    fi
    echo "round $r/$ROUNDS" >&2
    order=()
    for i in $(seq 0 $(( ${#C[@]} - 1 ))); do order+=("${C[$(( (i + r - 1) % ${#C[@]} ))]}"); done
    for cell in "${CELLS[@]}"; do
        read -r mode dl <<<"$cell"
        declare -A rps=() p99=()
        for n in "${order[@]}"; do
            start_server "$n" "$dl"
            port=$SRV_PORT
            if [ -z "$port" ]; then
                echo "round $r $cell $n: server did not start" | tee -a "$LOG" >&2
                stop_server
                continue
            fi
            c0=$(cpu_ticks "$SRV_PID")
            line=$(timeout $((RUN_S + 40)) "$LG" --addr "127.0.0.1:$port" --mode "$mode" \
                --conns "${CONNS[$n]}" --seconds "$RUN_S" --size "$SIZE" 2>>"$LOG")
            c1=$(cpu_ticks "$SRV_PID")
            echo "round $r $mode $dl $n: $line cpu_ticks=$c0..$c1" >>"$LOG"
            k="$n|$mode $dl"
            if [ -n "$line" ]; then
                rps[$n]=$(kv rps "$line"); p99[$n]=$(kv p99_us "$line")
                add "$k|rps" "${rps[$n]}"
                add "$k|p50" "$(kv p50_us "$line")"
                add "$k|p99" "${p99[$n]}"
                tot=$(kv total "$line")
                [ "$(kv errors "$line")" = 0 ] || NOTES+=("round $r $cell $n: loadgen reported $(kv errors "$line") failed requests.")
                if [ -n "$c0" ] && [ -n "$c1" ] && [ "${tot:-0}" -gt 0 ]; then
                    add "$k|cpu" "$(awk -v a="$c0" -v b="$c1" -v t="$tot" -v hz="$TCK" 'BEGIN { printf "%.2f", (b - a) * 1e6 / hz / t }')"
                fi
            else
                echo "round $r $cell $n: loadgen failed" | tee -a "$LOG" >&2
            fi
            if [ "$SYS_METHOD" != n/a ]; then
                read -r cnt tot <<<"$(count_syscalls "$SRV_PID" "$port" "$mode" "${CONNS[$n]}")"
                if [ -n "${cnt:-}" ] && [ -n "${tot:-}" ] && [ "$tot" -gt 0 ] 2>/dev/null; then
                    add "$k|sys" "$(awk -v c="$cnt" -v t="$tot" 'BEGIN { printf "%.2f", c / t }')"
                fi
            fi
            stop_server
        done
        ratio() { # ratio A B METRIC: the per-round A/B
            local a=${rps[$1]:-} b=${rps[$2]:-}
            [ "$3" = p99 ] && { a=${p99[$1]:-}; b=${p99[$2]:-}; }
            [ -n "$a" ] && [ -n "$b" ] && add "ratio|$mode $dl|$1/$2|$3" "$(awk -v x="$a" -v y="$b" 'BEGIN { if (y > 0) printf "%.3f", x / y }')"
        }
        ratio np1 go1 rps; ratio np1 go1 p99; ratio np2 go2 rps; ratio np2 go2 p99
        ratio np1 raw rps; ratio np2 raw rps
        ratio np1 bs1 rps; ratio np1 bs1 p99; ratio np2 bs2 rps; ratio np2 bs2 p99
        unset rps p99
    done
    done_rounds=$r
done

# ---- the tables -------------------------------------------------------------------
cellfmt() { # cellfmt KEY: "median (min–max)" or "–"
    local v=${R[$1]:-}
    [ -n "$v" ] || { echo "–"; return; }
    read -r m lo hi <<<"$(stats $v)"
    echo "$m ($lo–$hi)"
}
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
core_sum=$(cat "$ROOT"/core/*.c "$ROOT"/core/*.h "$ROOT"/backend_epoll/*.c 2>/dev/null | sha256sum | cut -c1-12)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
uvver=$(pkg-config --modversion libuv 2>/dev/null || echo "?")
echo
echo "- machine: $(uname -srm), CPU: ${cpu:-unknown}, nproc: $(nproc)"
echo "- commit: $commit (working tree; core/*.{c,h} + backend_epoll/*.c sha256 $core_sum); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- rounds: $done_rounds, each contender once per round per cell, order rotated per round; ${RUN_S} s measured per run after 200 ms warm-up; message $SIZE bytes"
echo "- load generator: bench/echo/loadgen, 1 thread, epoll; connections = 2 × server threads (2 for w=1/GOMAXPROCS=1/libuv/raw, 4 for w=2/GOMAXPROCS=2)"
echo "- servers: echo_np (Release, gcc), Go ${GO_VERSION:-n/a} (GOMAXPROCS from env), libuv $uvver, echo_raw; deadline = 10 s read deadline reset before every read (raw: clock_gettime + per-connection store, 1 s sweep; no timerfd)"
case $SYS_METHOD in
perf) echo "- syscalls/request: \`perf stat -e raw_syscalls:sys_enter -p PID\` over a separate ${SYS_S} s loadgen run on the same server (all its threads, server-side only)" ;;
strace) echo "- syscalls/request: \`strace -c -f -p PID\` over a separate ${SYS_S} s run (perf tracepoints unavailable; strace slows the server, counts are indicative)" ;;
*) echo "- syscalls/request: n/a" ;;
esac
echo "- CPU µs/request: server utime+stime (/proc/PID/stat, ${TCK} Hz ticks) over the run, divided by all requests completed in it"
echo "- raw log: $LOG"
[ -n "$BASE_BIN" ] && echo "- base: $BASE_BIN"
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- note: $note"; done
echo
echo "| shape | deadline | server | conns | req/s | p50 µs | p99 µs | server CPU µs/req | syscalls/req |"
echo "|---|---|---|---|---|---|---|---|---|"
for cell in "${CELLS[@]}"; do
    read -r mode dl <<<"$cell"
    for n in "${C[@]}"; do
        k="$n|$mode $dl"
        echo "| $mode | $([ "$dl" = dl ] && echo yes || echo no) | ${LABEL[$n]} | ${CONNS[$n]} | $(cellfmt "$k|rps") | $(cellfmt "$k|p50") | $(cellfmt "$k|p99") | $(cellfmt "$k|cpu") | $(cellfmt "$k|sys") |"
    done
done
echo
echo "Per-round ratios (same round, same cell), median (min–max):"
echo
echo "| shape | deadline | w=1/Go1 req/s | w=1/Go1 p99 | w=2/Go2 req/s | w=2/Go2 p99 | w=1/raw req/s | w=2/raw req/s |"
echo "|---|---|---|---|---|---|---|---|"
for cell in "${CELLS[@]}"; do
    read -r mode dl <<<"$cell"
    p="ratio|$mode $dl"
    echo "| $mode | $([ "$dl" = dl ] && echo yes || echo no) | $(cellfmt "$p|np1/go1|rps") | $(cellfmt "$p|np1/go1|p99") | $(cellfmt "$p|np2/go2|rps") | $(cellfmt "$p|np2/go2|p99") | $(cellfmt "$p|np1/raw|rps") | $(cellfmt "$p|np2/raw|rps") |"
done
if [ -n "$BASE_BIN" ]; then
    echo
    echo "Against the base binary (same round, same cell), median (min–max):"
    echo
    echo "| shape | deadline | w=1/base1 req/s | w=1/base1 p99 | w=2/base2 req/s | w=2/base2 p99 |"
    echo "|---|---|---|---|---|---|"
    for cell in "${CELLS[@]}"; do
        read -r mode dl <<<"$cell"
        p="ratio|$mode $dl"
        echo "| $mode | $([ "$dl" = dl ] && echo yes || echo no) | $(cellfmt "$p|np1/bs1|rps") | $(cellfmt "$p|np1/bs1|p99") | $(cellfmt "$p|np2/bs2|rps") | $(cellfmt "$p|np2/bs2|p99") |"
    done
fi
