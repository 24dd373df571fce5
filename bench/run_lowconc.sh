#!/usr/bin/env bash
# bench/run_lowconc.sh - echo at low concurrency (issue 18): 1, 2 and 4
# connections, one 512-byte message in flight per connection, under two
# independent clients, servers interleaved within every round.
#
#   bench/run_lowconc.sh [--rounds N] [--seconds S] [--conns "1 2 4"]
#                        [--threads "1 2"] [--clients "loadgen goclient"]
#                        [--only "np go uv raw bs alt"] [--build-dir DIR]
#                        [--base-bin PATH] [--alt-env "VAR=VALUE ..."]
#                        [--goclient-procs P] [--pin none|split|same] [--log FILE]
#   bench/run_lowconc.sh --report LOG     # the tables again, from a raw log
#
# Servers (all on 127.0.0.1, fresh process per run):
#   np   bench/echo/echo_np --workers T            (T = server threads)
#   go   echo_go with GOMAXPROCS=T
#   uv   bench/echo/echo_uv (one loop: T = 1 cells only)
#   raw  bench/echo/echo_raw (one thread: T = 1 cells only)
#   bs   --base-bin PATH --workers T: an echo_np of another build (before/after)
#   alt  echo_np of this build with --alt-env's variables set (e.g. a tunable
#        at another value), interleaved like the others
# Clients:
#   loadgen   bench/echo/loadgen (C, one thread, epoll), --mode persistent
#   goclient  bench/echo/goclient (Go net, a goroutine per connection),
#             GOMAXPROCS = --goclient-procs (default 1: one client thread, as
#             loadgen; 0 = Go's default, the number of CPUs)
#
# --pin (default none): split = server on CPU 0, client on CPU 1 (taskset;
# a 2-thread server then has both threads on CPU 0); same = both on CPU 0.
# On a small VM whose guest does not halt-poll, one message in flight runs
# 3-8x faster when server and client share a vCPU (a wake-up is a context
# switch) than when they do not (a wake-up is a halted vCPU's exit and an
# IPI), and unpinned runs land in either mode at the kernel's whim: req/s is
# bimodal. Pinning separates the two (bench/RESULTS.md, low concurrency).
#
# A round runs every cell (threads x clients x conns) and, inside a cell,
# every server once, in an order rotated by one each round: so the servers
# alternate A B C D, B C D A, ... and a slow minute of the shared machine
# falls on all of them. Per run: server start, client for S s (default 1)
# after 200 ms of warm-up; server CPU = utime+stime from /proc/PID/stat
# before/after the client run, divided by every request the client completed
# (warm-up included). Per-round ratios (np/go, bs/go, alt/go, np/bs, ...) are
# taken within one round and one cell; the tables give the median and
# min-max over the rounds.
#
# Bounded: rounds <= 60, S <= 30, every command under `timeout`, servers exit
# by themselves after 120 s, and no new round starts after $BENCH_BUDGET_S
# seconds (default 900). Default: 10 rounds x 36 runs x ~1.2 s = ~7.5 min
# (measured: 44 s a round with four servers, 45 s with np/bs/go).
# On a 2-CPU machine server and client compete for the CPUs with each other
# and with whatever else runs: read the per-round ratios, not single cells.
# Builds nothing but goclient and echo_go (Go, offline); build the C targets
# first: cmake --build build -j2 --target echo_np echo_loadgen echo_raw echo_uv
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
ROUNDS=10
RUN_S=1
CONNS_L="1 2 4"
THREADS_L="1 2"
CLIENTS_L="loadgen goclient"
ONLY=""
BASE_BIN=""
ALT_ENV=""
GC_PROCS=1
PIN=none
LOG=""
BUDGET_S=${BENCH_BUDGET_S:-900}
SIZE=512
REPORT=""

while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) RUN_S=$2; shift 2 ;;
    --conns) CONNS_L=$2; shift 2 ;;
    --threads) THREADS_L=$2; shift 2 ;;
    --clients) CLIENTS_L=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --base-bin) BASE_BIN=$2; shift 2 ;;
    --alt-env) ALT_ENV=$2; shift 2 ;;
    --goclient-procs) GC_PROCS=$2; shift 2 ;;
    --pin) PIN=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run_lowconc.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
report() { # report LOG: the tables from a raw log
python3 - "$1" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(dict)   # (round, threads, client, conns) -> server -> dict
for ln in open(sys.argv[1]):
    if not ln.startswith("R "):
        continue
    kv = dict(x.split("=", 1) for x in ln.split()[1:] if "=" in x)
    if "rps" not in kv:
        continue
    d = {"rps": float(kv["rps"]), "p50": float(kv["p50_us"]), "p99": float(kv["p99_us"])}
    tot = int(kv.get("total", "0"))
    if tot > 0:
        d["cpu"] = int(kv["cpu_ticks"]) * 1e6 / int(kv["hz"]) / tot
    if int(kv.get("errors", "0")):
        d["errors"] = int(kv["errors"])
    rows[(int(kv["round"]), kv["sthreads"], kv["cli"], kv["nconn"])][kv["server"]] = d

def f(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x if x >= 10 else "%.2f" % x
def mm(v):
    if not v:
        return "–"
    return "%s (%s–%s)" % (f(statistics.median(v)), f(min(v)), f(max(v)))
def mmr(v):
    if not v:
        return "–"
    return "**%.2f** (%.2f–%.2f)" % (statistics.median(v), min(v), max(v))

cells = sorted({k[1:] for k in rows}, key=lambda c: (c[0], c[1], int(c[2])))
servers = []
for k in rows:
    for s in rows[k]:
        if s not in servers:
            servers.append(s)
order = [s for s in ["np", "alt", "bs", "go", "uv", "raw"] if s in servers]
names = {"np": "netpoll", "alt": "netpoll (alt env)", "bs": "netpoll (base)", "go": "Go", "uv": "libuv", "raw": "raw epoll"}
print()
print("| threads | client | conns | server | req/s | p50 µs | p99 µs | server CPU µs/req |")
print("|---|---|---|---|---|---|---|---|")
for c in cells:
    for s in order:
        vals = [rows[k][s] for k in rows if k[1:] == c and s in rows[k]]
        if not vals:
            continue
        g = lambda m: [v[m] for v in vals if m in v]
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (c[0], c[1], c[2], names[s], mm(g("rps")), mm(g("p50")), mm(g("p99")), mm(g("cpu"))))
pairs = [(a, "go") for a in ["np", "alt", "bs", "uv", "raw"] if a in servers] + \
        [(a, b) for a, b in [("np", "bs"), ("alt", "np"), ("alt", "bs")] if a in servers and b in servers]
for a, b in pairs:
    print()
    print("Per-round ratios %s / %s (same round, same cell): median (min–max), rounds where %s's req/s ≥ %s's" % (names[a], names[b], names[a], names[b]))
    print()
    print("| threads | client | conns | req/s | p50 | p99 | CPU/req | rounds req/s ≥ 1 |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cells:
        ks = [k for k in sorted(rows) if k[1:] == c and a in rows[k] and b in rows[k]]
        if not ks:
            continue
        rr = lambda m: [rows[k][a][m] / rows[k][b][m] for k in ks if m in rows[k][a] and m in rows[k][b] and rows[k][b][m] > 0]
        won = sum(1 for x in rr("rps") if x >= 1)
        print("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (c[0], c[1], c[2], mmr(rr("rps")), mmr(rr("p50")), mmr(rr("p99")), mmr(rr("cpu")), won, len(ks)))
errs = sum(d.get("errors", 0) for k in rows for d in rows[k].values())
if errs:
    print("\nnote: %d failed requests in total (see the log)" % errs)
PY
}
if [ -n "$REPORT" ]; then report "$REPORT"; exit; fi
for v in "$ROUNDS" "$RUN_S" "$GC_PROCS"; do
    case "$v" in ''|*[!0-9]*) echo "run_lowconc.sh: --rounds/--seconds/--goclient-procs want whole numbers" >&2; exit 2 ;; esac
done
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
[ "$ROUNDS" -le 60 ] || ROUNDS=60
[ "$RUN_S" -ge 1 ] || RUN_S=1
[ "$RUN_S" -le 30 ] || RUN_S=30
for c in $CONNS_L; do case "$c" in 1|2|4|8|16) ;; *) echo "run_lowconc.sh: --conns from 1 2 4 8 16" >&2; exit 2 ;; esac; done
for t in $THREADS_L; do case "$t" in 1|2) ;; *) echo "run_lowconc.sh: --threads from 1 2" >&2; exit 2 ;; esac; done
case $PIN in
none) SRVPIN=(); CPIN=() ;;
split) SRVPIN=(taskset -c 0); CPIN=(taskset -c 1) ;;
same) SRVPIN=(taskset -c 0); CPIN=(taskset -c 0) ;;
*) echo "run_lowconc.sh: --pin none|split|same" >&2; exit 2 ;;
esac
[ "$(nproc)" -ge 2 ] || { [ "$PIN" = split ] && { echo "run_lowconc.sh: --pin split needs 2 CPUs" >&2; exit 2; }; }
[ -n "$LOG" ] || LOG=$(mktemp /tmp/run_lowconc.XXXXXX.log)
TMP=$(mktemp -d /tmp/run_lowconc.XXXXXX)
NOTES=()

# ---- Go programs (standard library only, no network) ---------------------------
. "$ROOT/bench/echo/common.sh"
echo_build_go
[ "$GO_VERSION" != n/a ] || NOTES+=("Go not found: go server and goclient skipped.")

# ---- servers and clients ---------------------------------------------------------
declare -A BIN=([np]="$E/echo_np" [go]="$E/echo_go" [uv]="$E/echo_uv" [raw]="$E/echo_raw" [bs]="$BASE_BIN" [alt]="$E/echo_np")
ALL=(np go uv raw)
[ -n "$BASE_BIN" ] && ALL+=(bs)
[ -n "$ALT_ENV" ] && ALL+=(alt)
S=()
for n in "${ALL[@]}"; do
    if [ -n "$ONLY" ] && ! printf ' %s ' "$ONLY" | grep -q " $n "; then continue; fi
    if [ -x "${BIN[$n]}" ]; then S+=("$n"); else NOTES+=("$n skipped: ${BIN[$n]} not built."); fi
done
[ ${#S[@]} -gt 0 ] || { echo "run_lowconc.sh: no server built" >&2; exit 1; }
CL=()
for c in $CLIENTS_L; do
    case $c in
    loadgen) [ -x "$E/loadgen" ] && CL+=(loadgen) || NOTES+=("loadgen not built: skipped.") ;;
    goclient) [ -x "$E/goclient" ] && CL+=(goclient) || NOTES+=("goclient not built: skipped.") ;;
    *) echo "run_lowconc.sh: unknown client $c" >&2; exit 2 ;;
    esac
done
[ ${#CL[@]} -gt 0 ] || { echo "run_lowconc.sh: no client built" >&2; exit 1; }

TCK=$(getconf CLK_TCK)

start_server() { # start_server NAME THREADS
    local n=$1 t=$2
    case $n in
    np|bs) srv_start "${SRVPIN[@]}" "${BIN[$n]}" --workers "$t" --port 0 --timeout 120 ;;
    alt) srv_start env $ALT_ENV "${SRVPIN[@]}" "${BIN[$n]}" --workers "$t" --port 0 --timeout 120 ;;
    go) srv_start env GOMAXPROCS="$t" "${SRVPIN[@]}" "${BIN[$n]}" --port 0 --timeout 120 ;;
    *) srv_start "${SRVPIN[@]}" "${BIN[$n]}" --port 0 --timeout 120 ;;
    esac
}
stop_server() { srv_stop; }
trap 'stop_server; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

run_client() { # run_client CLIENT PORT CONNS -> the client's line
    case $1 in
    loadgen) timeout $((RUN_S + 40)) "${CPIN[@]}" "$E/loadgen" --addr "127.0.0.1:$2" --mode persistent --conns "$3" \
        --seconds "$RUN_S" --size "$SIZE" 2>>"$LOG" ;;
    goclient) timeout $((RUN_S + 40)) "${CPIN[@]}" "$E/goclient" --addr "127.0.0.1:$2" --conns "$3" \
        --seconds "$RUN_S" --size "$SIZE" --procs "$GC_PROCS" 2>>"$LOG" ;;
    esac
}

# ---- the rounds ---------------------------------------------------------------------
echo "# run_lowconc $(date -u '+%Y-%m-%dT%H:%M:%SZ') commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) servers=${S[*]} clients=${CL[*]} base=${BASE_BIN:-none} alt_env=${ALT_ENV:-none} pin=$PIN" >>"$LOG"
start=$(date +%s)
done_rounds=0
for r in $(seq 1 "$ROUNDS"); do
    if [ $(( $(date +%s) - start )) -ge "$BUDGET_S" ]; then
        echo "time budget of ${BUDGET_S}s used up after $done_rounds rounds" | tee -a "$LOG" >&2
        NOTES+=("time budget of ${BUDGET_S}s used up after $done_rounds rounds")
        break
    fi
    echo "round $r/$ROUNDS ($(( $(date +%s) - start )) s)" >&2
    order=()
    for i in $(seq 0 $(( ${#S[@]} - 1 ))); do order+=("${S[$(( (i + r - 1) % ${#S[@]} ))]}"); done
    for t in $THREADS_L; do
        for cl in "${CL[@]}"; do
            for c in $CONNS_L; do
                for n in "${order[@]}"; do
                    { [ "$n" = uv ] || [ "$n" = raw ]; } && [ "$t" != 1 ] && continue
                    start_server "$n" "$t"
                    if [ -z "$SRV_PORT" ]; then
                        echo "R FAILED=start round=$r sthreads=$t cli=$cl nconn=$c server=$n" >>"$LOG"
                        stop_server
                        continue
                    fi
                    c0=$(cpu_ticks "$SRV_PID")
                    line=$(run_client "$cl" "$SRV_PORT" "$c")
                    c1=$(cpu_ticks "$SRV_PID")
                    stop_server
                    # the client's own fields first: ours (after them) win any name clash
                    echo "R $line round=$r sthreads=$t cli=$cl nconn=$c server=$n cpu_ticks=$((c1 - c0)) hz=$TCK" >>"$LOG"
                done
            done
        done
    done
    done_rounds=$r
done

# ---- the tables ---------------------------------------------------------------------
echo
echo "- machine: $(uname -srm), CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), nproc: $(nproc), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) (core/*.{c,h} + backend_epoll/*.c sha256 $(cat "$ROOT"/core/*.c "$ROOT"/core/*.h "$ROOT"/backend_epoll/*.c 2>/dev/null | sha256sum | cut -c1-12)); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- rounds: $done_rounds; in each, every cell, and in each cell every server once, order rotated per round; ${RUN_S} s measured per run after 200 ms warm-up; 512-byte messages, one in flight per connection"
echo "- clients: loadgen (C, 1 thread, epoll); goclient (Go $GO_VERSION net, goroutine per connection, GOMAXPROCS=$GC_PROCS)"
echo "- pinning: $PIN"
echo "- servers: ${S[*]}; uv and raw have one thread (threads=1 cells only); base: ${BASE_BIN:-none}; alt env: ${ALT_ENV:-none}"
echo "- server CPU µs/req: utime+stime (/proc/PID/stat, $TCK Hz) over the client run / every request completed"
echo "- raw log: $LOG"
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- note: $note"; done
report "$LOG"
