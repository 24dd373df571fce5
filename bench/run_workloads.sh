#!/usr/bin/env bash
# bench/run_workloads.sh - issue 18's workloads beyond one echo: many
# connections, idle memory per connection, and pipelining; this project's
# server against Go 1.19's (and libuv's and a raw epoll loop's where they
# fit), interleaved within every round.
#
#   bench/run_workloads.sh many|idle|park|pipe [--rounds N] [--seconds S]
#                          [--conns "..."] [--threads "1 2"] [--depth D]
#                          [--only "np nps go uv raw"] [--src K] [--raise-limits]
#                          [--small-stack-kib K]
#                          [--build-dir DIR] [--log FILE]
#   bench/run_workloads.sh --report LOG     # the tables again, from a raw log
#
# many  echo over C concurrent connections (default C = 1000 and 10000), one
#       512-byte message in flight each: bench/echo/loadgen --mode persistent
#       --src K (connections spread over K source addresses 127.0.0.2.., so
#       the ephemeral ports do not run out; default 4). req/s, p50, p99, server
#       CPU per request.
# pipe  echo with D requests in flight per connection (default D = 16) on C
#       connections (default 4 and 64): loadgen --depth D.
# idle  memory per idle connection: the server (netpoll: echo_np --small-buf
#       --deadline-s 600, a task per connection blocked in np_read with a
#       600 s read deadline; Go: echo_go --buf 512 --deadline-s 600, a
#       goroutine per connection in Read after SetReadDeadline) is measured
#       (VmRSS + VmPTE, /proc/PID/status) after it starts, then again 1 s
#       after loadgen --mode idle has C connections open, each having done one
#       16-byte round trip (so its task or goroutine ran and is parked in the
#       read); (after - before) / C, in KiB. Default C = 10000 30000 50000.
#       The client holds the connections --seconds + 2 s, so none has closed
#       when the figures are read.
#       A connection's kernel socket is in neither figure. Both servers read
#       into a 512-byte buffer (netpoll's on the task stack, Go's on the heap).
# park  memory per parked task without a descriptor: the server, sent SIGUSR1,
#       starts C tasks each in np_sleep(600 s) (echo_np --park C; Go: C
#       goroutines in time.Sleep, echo_go --park C) and is measured as in idle,
#       before the signal and 1 s after it printed "parked C". Default C = 10000
#       50000 100000: past the ~32,700 tasks at which np_go failed with ENOMEM
#       when a stack was two mappings (vm.max_map_count 65530), and past a
#       descriptor limit that idle cannot pass.
#
# Servers: np (echo_np --workers T), go (echo_go, GOMAXPROCS=T), uv (echo_uv)
# and raw (echo_raw), the last two single-threaded: T = 1 cells only, and not
# in idle or park (their per-connection state is a malloc'd struct with a 4 KiB
# buffer, no task: nothing to compare a stack with). idle and park also run
# nps: echo_np with np_config.stack_size = --small-stack-kib K (default 64)
# instead of the default 128 KiB, i.e. half of the page tables. Threads T: default 1 2
# (idle, park: 1).
#
# Limits. The script raises `ulimit -n` (soft, up to the hard limit) to
# C + 1000 for both server and client. --raise-limits (idle, as root): for
# C > 20000 it also raises the hard descriptor limit (needs CAP_SYS_RESOURCE)
# and, if vm.max_map_count is below 2 C + 10000 (a task stack is two mappings
# on kernels before 6.13, core/stack_pool.h), raises it with sysctl and puts
# the old value back at exit. A cell whose descriptors cannot be had is skipped
# with a note, not run.
#
# A round runs every cell and, inside a cell, every server once, in an order
# rotated by one each round. Per-round ratios (np/go, np/raw, np/uv) are taken
# within one round and one cell; the tables give the median and min-max over
# the rounds. Bounded: rounds <= 30, S <= 30, every client under `timeout`,
# servers exit by themselves after 300 s, and no new round starts after
# $BENCH_BUDGET_S seconds (default 900). Only loopback addresses.
# Builds nothing but echo_go (Go, offline); build the C targets first:
#   cmake --build build -j2 --target echo_np echo_loadgen echo_raw echo_uv
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
WL=""
ROUNDS=""
RUN_S=2
CONNS_L=""
THREADS_L=""
DEPTH=16
ONLY=""
SRC=4
SMALL_KIB=64
RAISE=0
LOG=""
REPORT=""
BUDGET_S=${BENCH_BUDGET_S:-900}
SIZE=512

case "${1:-}" in
many|idle|park|pipe) WL=$1; shift ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) RUN_S=$2; shift 2 ;;
    --conns) CONNS_L=$2; shift 2 ;;
    --threads) THREADS_L=$2; shift 2 ;;
    --depth) DEPTH=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --src) SRC=$2; shift 2 ;;
    --raise-limits) RAISE=1; shift ;;
    --small-stack-kib) SMALL_KIB=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run_workloads.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

report() { # report LOG: the tables from a raw log
python3 - "$1" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(dict)   # (round, wl, threads, conns, depth) -> server -> figures
for ln in open(sys.argv[1]):
    if not ln.startswith("R "):
        continue
    kv = dict(x.split("=", 1) for x in ln.split()[1:] if "=" in x)
    d = {}
    if "rps" in kv:
        d = {"rps": float(kv["rps"]), "p50": float(kv["p50_us"]), "p99": float(kv["p99_us"])}
        if int(kv.get("total", "0")) > 0:
            d["cpu"] = int(kv["cpu_ticks"]) * 1e6 / int(kv["hz"]) / int(kv["total"])
    elif "after_kib" in kv:
        n = int(kv["nconn"])
        d = {"kib": (int(kv["after_kib"]) - int(kv["base_kib"])) / n,
             "rss": (int(kv["after_rss"]) - int(kv["base_rss"])) / n,
             "pte": (int(kv["after_pte"]) - int(kv["base_pte"])) / n}
    else:
        continue
    if int(kv.get("errors", "0")) or int(kv.get("closed", "0")):
        d["errors"] = int(kv.get("errors", "0")) + int(kv.get("closed", "0"))
    rows[(int(kv["round"]), kv["wl"], kv["sthreads"], kv["nconn"], kv["depth"])][kv["server"]] = d

def f(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x if x >= 10 else "%.2f" % x
def mm(v, bold=False):
    if not v:
        return "–"
    m = f(statistics.median(v))
    return "%s (%s–%s)" % ("**%s**" % m if bold else m, f(min(v)), f(max(v)))
def mmr(v):
    if not v:
        return "–"
    return "**%.2f** (%.2f–%.2f)" % (statistics.median(v), min(v), max(v))

names = {"np": "netpoll", "nps": "netpoll, small stacks", "go": "Go", "uv": "libuv", "raw": "raw epoll"}
cells = sorted({k[1:] for k in rows}, key=lambda c: (c[0], c[1], int(c[2]), int(c[3])))
order = [s for s in ["np", "nps", "go", "uv", "raw"] if any(s in r for r in rows.values())]
def vals(c, s, m):
    return [rows[k][s][m] for k in sorted(rows) if k[1:] == c and s in rows[k] and m in rows[k][s]]
def ratios(c, a, b, m, diff=False):
    ks = [k for k in sorted(rows) if k[1:] == c and a in rows[k] and b in rows[k] and m in rows[k][a] and m in rows[k][b]]
    if diff:
        return [rows[k][a][m] - rows[k][b][m] for k in ks]
    return [rows[k][a][m] / rows[k][b][m] for k in ks if rows[k][b][m] > 0]
for wl in ["many", "pipe"]:
    cs = [c for c in cells if c[0] == wl]
    if not cs:
        continue
    print()
    print("| workload | threads | conns | depth | server | req/s | p50 µs | p99 µs | server CPU µs/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cs:
        for s in order:
            if vals(c, s, "rps"):
                print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (c[0], c[1], c[2], c[3], names[s], mm(vals(c, s, "rps"), True),
                      mm(vals(c, s, "p50")), mm(vals(c, s, "p99")), mm(vals(c, s, "cpu"))))
    for a, b in [("np", "go"), ("np", "raw"), ("np", "uv")]:
        lines = []
        for c in cs:
            r = ratios(c, a, b, "rps")
            if r:
                won = sum(1 for x in r if x >= 1)
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (c[1], c[2], c[3], mmr(r), mmr(ratios(c, a, b, "p50")),
                             mmr(ratios(c, a, b, "p99")), mmr(ratios(c, a, b, "cpu")), won, len(r)))
        if lines:
            print()
            print("%s: per-round ratios %s / %s (same round, same cell): median (min–max)" % (wl, names[a], names[b]))
            print()
            print("| threads | conns | depth | req/s | p50 | p99 | CPU/req | rounds req/s ≥ 1 |")
            print("|---|---|---|---|---|---|---|---|")
            print("\n".join(lines))
for wl, what, per in [("idle", "open connections", "connection"), ("park", "parked tasks", "task")]:
    cs = [c for c in cells if c[0] == wl]
    if not cs:
        continue
    print()
    print("| threads | %s | server | KiB per %s (RSS + page tables) | of it RSS | of it page tables |" % (what, per))
    print("|---|---|---|---|---|---|")
    for c in cs:
        for s in order:
            if vals(c, s, "kib"):
                print("| %s | %s | %s | %s | %s | %s |" % (c[1], c[2], names[s], mm(vals(c, s, "kib"), True), mm(vals(c, s, "rss")), mm(vals(c, s, "pte"))))
    print()
    print("Per-round difference from Go, KiB per %s (same round, same cell): median (min–max)" % per)
    print()
    print("| threads | %s | server | RSS + page tables | RSS | page tables |" % what)
    print("|---|---|---|---|---|---|")
    g = lambda v: "**%+.2f** (%+.2f – %+.2f)" % (statistics.median(v), min(v), max(v))
    for c in cs:
        for a in ["np", "nps"]:
            d = lambda m: ratios(c, a, "go", m, diff=True)
            if d("kib"):
                print("| %s | %s | %s | %s | %s | %s |" % (c[1], c[2], names[a], g(d("kib")), g(d("rss")), g(d("pte"))))
errs = sum(d.get("errors", 0) for k in rows for d in rows[k].values())
if errs:
    print("\nnote: %d failed requests or connections closed early in total (see the log)" % errs)
PY
}
if [ -n "$REPORT" ]; then report "$REPORT"; exit; fi

[ -n "$WL" ] || { echo "usage: run_workloads.sh many|idle|park|pipe [options] (--help)" >&2; exit 2; }
case $WL in
many) : "${ROUNDS:=3}"; CONNS_L=${CONNS_L:-"1000 10000"}; THREADS_L=${THREADS_L:-"1 2"}; DEPTH=1 ;;
pipe) : "${ROUNDS:=5}"; CONNS_L=${CONNS_L:-"4 64"}; THREADS_L=${THREADS_L:-"1 2"} ;;
idle) : "${ROUNDS:=3}"; CONNS_L=${CONNS_L:-"10000 30000 50000"}; THREADS_L=${THREADS_L:-"1"}; DEPTH=1 ;;
park) : "${ROUNDS:=3}"; CONNS_L=${CONNS_L:-"10000 50000 100000"}; THREADS_L=${THREADS_L:-"1"}; DEPTH=1 ;;
esac
for v in "$ROUNDS" "$RUN_S" "$DEPTH" "$SRC" "$SMALL_KIB"; do
    case "$v" in ''|*[!0-9]*) echo "run_workloads.sh: --rounds/--seconds/--depth/--src want whole numbers" >&2; exit 2 ;; esac
done
for v in $CONNS_L; do
    case "$v" in ''|*[!0-9]*) echo "run_workloads.sh: --conns wants whole numbers" >&2; exit 2 ;; esac
    [ "$v" -ge 1 ] && [ "$v" -le 200000 ] || { echo "run_workloads.sh: --conns from 1 to 200000" >&2; exit 2; }
    [ "$WL" = park ] || [ "$v" -le 60000 ] || { echo "run_workloads.sh: --conns at most 60000 (park: 200000)" >&2; exit 2; }
done
for t in $THREADS_L; do case "$t" in 1|2) ;; *) echo "run_workloads.sh: --threads from 1 2" >&2; exit 2 ;; esac; done
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
[ "$ROUNDS" -le 30 ] || ROUNDS=30
[ "$RUN_S" -ge 1 ] || RUN_S=1
[ "$RUN_S" -le 30 ] || RUN_S=30
[ "$DEPTH" -ge 1 ] && [ "$DEPTH" -le 256 ] || { echo "run_workloads.sh: --depth from 1 to 256" >&2; exit 2; }
[ -n "$LOG" ] || LOG=$(mktemp /tmp/run_workloads.XXXXXX.log)
TMP=$(mktemp -d /tmp/run_workloads.XXXXXX)
NOTES=()

. "$ROOT/bench/echo/common.sh"
GO_VERSION=n/a
if [ -z "$ONLY" ] || printf ' %s ' "$ONLY" | grep -q ' go '; then
    echo_build_go
    [ "$GO_VERSION" != n/a ] || NOTES+=("Go not found: the go server skipped.")
fi
LG="$E/loadgen"
[ -x "$LG" ] || { echo "run_workloads.sh: no load generator at $LG (build echo_loadgen)" >&2; exit 1; }

declare -A BIN=([np]="$E/echo_np" [nps]="$E/echo_np" [go]="$E/echo_go" [uv]="$E/echo_uv" [raw]="$E/echo_raw")
S=()
for n in np nps go uv raw; do
    if [ -n "$ONLY" ] && ! printf ' %s ' "$ONLY" | grep -q " $n "; then continue; fi
    case $WL/$n in idle/uv|idle/raw|park/uv|park/raw|many/nps|pipe/nps) continue ;; esac
    if [ -x "${BIN[$n]}" ]; then S+=("$n"); else NOTES+=("$n skipped: ${BIN[$n]} not built."); fi
done
[ ${#S[@]} -gt 0 ] || { echo "run_workloads.sh: no server built" >&2; exit 1; }
TCK=$(getconf CLK_TCK)

# ---- limits -----------------------------------------------------------------------
OLD_MAPS=""
restore() {
    srv_stop
    [ -z "${LG_PID:-}" ] || { kill -TERM "$LG_PID" 2>/dev/null || true; wait "$LG_PID" 2>/dev/null || true; }
    if [ -n "$OLD_MAPS" ]; then
        sysctl -q -w vm.max_map_count="$OLD_MAPS" >/dev/null 2>&1 || echo "run_workloads.sh: could not put vm.max_map_count back to $OLD_MAPS" >&2
    fi
    rm -rf "$TMP"
}
trap restore EXIT
trap 'exit 130' INT TERM

fds_for() { # fds_for C: raises the descriptor limit for C connections; false if it cannot
    local want=$(( $1 + 1000 )) hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
        [ "$RAISE" = 1 ] && ulimit -Hn "$want" 2>/dev/null || return 1
    fi
    [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -ge "$want" ] && return 0
    ulimit -Sn "$want" 2>/dev/null
}
maps_for() { # maps_for C: with --raise-limits, vm.max_map_count >= 2 C + 10000
    local want=$(( 2 * $1 + 10000 )) cur
    cur=$(cat /proc/sys/vm/max_map_count)
    [ "$RAISE" = 1 ] && [ "$cur" -lt "$want" ] || return 0
    [ -n "$OLD_MAPS" ] || OLD_MAPS=$cur
    if sysctl -q -w vm.max_map_count="$want" >/dev/null 2>&1; then
        NOTES+=("vm.max_map_count raised from $cur to $want for $1 connections (put back at exit).")
    else
        NOTES+=("vm.max_map_count is $cur and could not be raised (not root?).")
    fi
}

start_server() { # start_server NAME THREADS [TASKS]
    local n=$1 t=$2 extra=()
    case $WL/$n in
    idle/np) extra=(--small-buf --deadline-s 600) ;;
    idle/nps) extra=(--small-buf --deadline-s 600 --stack-kib "$SMALL_KIB") ;;
    park/nps) extra=(--park "$3" --stack-kib "$SMALL_KIB") ;;
    idle/go) extra=(--buf 512 --deadline-s 600) ;;
    park/*) extra=(--park "$3") ;;
    esac
    case $n in
    np|nps) srv_start "${BIN[$n]}" --workers "$t" "${extra[@]}" --port 0 --timeout 300 ;;
    go) srv_start env GOMAXPROCS="$t" "${BIN[$n]}" "${extra[@]}" --port 0 --timeout 300 ;;
    *) srv_start "${BIN[$n]}" --port 0 --timeout 300 ;;
    esac
}

status_kib() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status" 2>/dev/null; }

run_idle() { # run_idle NCONN -> an "R" line's fields, measured on SRV_PID
    local n=$1 out="$TMP/idle.out" b_rss b_pte a_rss a_pte i ready="" tail_line
    sleep 0.3 # the runtime's start-up settles
    b_rss=$(status_kib "$SRV_PID" VmRSS); b_pte=$(status_kib "$SRV_PID" VmPTE)
    : >"$out"
    # Held 2 s longer than --seconds: the figures are read 1 s after "ready",
    # and with the client closing at RUN_S = 1 s the read raced the closes
    # (netpoll unmaps an ended task's stack at once, Go keeps its heap: the
    # race flattered netpoll, 0.6-0.8 KiB per connection in a check at 10,000 and 19,000).
    timeout $((RUN_S + 122 + n / 500)) "$LG" --addr "127.0.0.1:$SRV_PORT" --mode idle --conns "$n" \
        --seconds $((RUN_S + 2)) --size 16 --src "$SRC" >"$out" 2>>"$LOG" &
    LG_PID=$!
    for i in $(seq 1 $((600 + n / 50))); do # 60 s + 1 s per 500 connections at most
        ready=$(grep '^ready ' "$out" || true)
        [ -n "$ready" ] && break
        kill -0 "$LG_PID" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1 # the last accepts settle
    a_rss=$(status_kib "$SRV_PID" VmRSS); a_pte=$(status_kib "$SRV_PID" VmPTE)
    wait "$LG_PID" 2>/dev/null || true
    LG_PID=""
    tail_line=$(grep '^idle ' "$out" || true)
    if [ -z "$ready" ] || [ -z "$a_rss" ]; then
        echo "R FAILED=idle ${ready:-no-ready-line} $tail_line"
        return
    fi
    echo "R $tail_line ${ready#ready } base_rss=$b_rss base_pte=$b_pte after_rss=$a_rss after_pte=$a_pte" \
        "base_kib=$((b_rss + b_pte)) after_kib=$((a_rss + a_pte))"
}

run_park() { # run_park NTASKS -> an "R" line's fields, measured on SRV_PID
    local n=$1 b_rss b_pte a_rss a_pte i parked=""
    sleep 0.3
    b_rss=$(status_kib "$SRV_PID" VmRSS); b_pte=$(status_kib "$SRV_PID" VmPTE)
    kill -USR1 "$SRV_PID"
    for i in $(seq 1 $((300 + n / 100))); do # 30 s + 1 s per 1,000 tasks at most
        parked=$(awk '/^parked / { print $2; exit }' "$TMP/srv.out")
        [ -n "$parked" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1
    a_rss=$(status_kib "$SRV_PID" VmRSS); a_pte=$(status_kib "$SRV_PID" VmPTE)
    if [ "${parked:-0}" != "$n" ] || [ -z "$a_rss" ]; then
        echo "R FAILED=park parked=${parked:-none} errors=$(( n - ${parked:-0} ))"
        return
    fi
    echo "R parked=$parked base_rss=$b_rss base_pte=$b_pte after_rss=$a_rss after_pte=$a_pte" \
        "base_kib=$((b_rss + b_pte)) after_kib=$((a_rss + a_pte))"
}

# ---- the rounds ---------------------------------------------------------------------
echo "# run_workloads $WL $(date -u '+%Y-%m-%dT%H:%M:%SZ') commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) servers=${S[*]} conns=$CONNS_L threads=$THREADS_L depth=$DEPTH src=$SRC load=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
declare -A SKIP=()
for c in $CONNS_L; do
    if [ "$WL" = park ]; then
        maps_for "$c"
    elif ! fds_for "$c"; then
        SKIP[$c]=1
        NOTES+=("$c connections skipped: $((c + 1000)) descriptors needed, hard limit $(ulimit -Hn)$([ "$RAISE" = 1 ] && echo " and not raisable (no CAP_SYS_RESOURCE)" || echo "; --raise-limits raises it as root")")
    elif [ "$WL" = idle ]; then
        maps_for "$c"
    fi
done
start=$(date +%s)
done_rounds=0
for r in $(seq 1 "$ROUNDS"); do
    if [ $(( $(date +%s) - start )) -ge "$BUDGET_S" ]; then
        NOTES+=("time budget of ${BUDGET_S}s used up after $done_rounds rounds")
        break
    fi
    echo "round $r/$ROUNDS ($(( $(date +%s) - start )) s)" >&2
    order=()
    for i in $(seq 0 $(( ${#S[@]} - 1 ))); do order+=("${S[$(( (i + r - 1) % ${#S[@]} ))]}"); done
    for t in $THREADS_L; do
        for c in $CONNS_L; do
            [ -z "${SKIP[$c]:-}" ] || continue
            for n in "${order[@]}"; do
                { [ "$n" = uv ] || [ "$n" = raw ]; } && [ "$t" != 1 ] && continue
                tags="round=$r wl=$WL sthreads=$t nconn=$c depth=$DEPTH server=$n"
                start_server "$n" "$t" "$c"
                if [ -z "$SRV_PORT" ]; then
                    echo "R FAILED=start $tags" >>"$LOG"
                    srv_stop
                    continue
                fi
                if [ "$WL" = idle ]; then
                    echo "$(run_idle "$c") $tags" >>"$LOG"
                elif [ "$WL" = park ]; then
                    echo "$(run_park "$c") $tags" >>"$LOG"
                else
                    c0=$(cpu_ticks "$SRV_PID")
                    line=$(timeout $((RUN_S + 60 + c / 500)) "$LG" --addr "127.0.0.1:$SRV_PORT" --mode persistent \
                        --conns "$c" --seconds "$RUN_S" --size "$SIZE" --depth "$DEPTH" --src "$SRC" 2>>"$LOG" || true)
                    c1=$(cpu_ticks "$SRV_PID")
                    # the client's own fields first: ours (after them) win any name clash
                    echo "R $line $tags cpu_ticks=$((c1 - c0)) hz=$TCK" >>"$LOG"
                fi
                srv_stop
            done
        done
    done
    done_rounds=$r
done

# ---- the tables ---------------------------------------------------------------------
echo
echo "- workload: $WL; machine: $(uname -srm), CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), nproc: $(nproc); load average at the start: $(sed -n 's/.* load=//p' "$LOG" | tail -n1), at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) (core/*.{c,h} + backend_epoll/*.c sha256 $(cat "$ROOT"/core/*.c "$ROOT"/core/*.h "$ROOT"/backend_epoll/*.c 2>/dev/null | sha256sum | cut -c1-12)); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- rounds: $done_rounds; in each, every cell, and in each cell every server once, order rotated per round"
case $WL in
park) echo "- no client: SIGUSR1 makes the server start C parked tasks (np_sleep 600 s) or goroutines (time.Sleep 600 s); memory = VmRSS + VmPTE 1 s after it printed \"parked C\", minus before the signal, / C" ;;
idle) echo "- client: loadgen --mode idle (C connections over $SRC source addresses, one 16-byte round trip each, then held $((RUN_S + 2)) s); memory = VmRSS + VmPTE of the server 1 s after all are open, minus before, / C" ;;
*) echo "- client: loadgen (C, 1 thread, epoll) --mode persistent --depth $DEPTH --src $SRC, 512-byte messages, ${RUN_S} s measured after 200 ms of warm-up (the window starts once every connection is open)" ;;
esac
echo "- servers: ${S[*]} (nps: echo_np --stack-kib $SMALL_KIB; Go $GO_VERSION, GOMAXPROCS = threads; echo_np --workers threads); uv and raw have one thread (threads = 1 cells only)"
echo "- server CPU µs/req: utime+stime (/proc/PID/stat, $TCK Hz) over the client run / every request completed"
echo "- raw log: $LOG"
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- note: $note"; done
report "$LOG"
