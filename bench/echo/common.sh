# bench/echo/common.sh - shared by the echo scripts (bench/run_lowconc.sh,
# bench/run_workloads.sh); sourced, not run. Needs BUILD, LOG and TMP set.
#
#   echo_build_go                 builds echo_go and goclient (standard library,
#                                 offline) when missing or older than their source;
#                                 sets GO, GOENV and GO_VERSION (n/a without Go)
#   cpu_ticks PID                 utime + stime of a process, in clock ticks
#   srv_start CMD...              starts a server (stdout to $TMP/srv.out), waits
#                                 up to 5 s for its "listening PORT" line; sets
#                                 SRV_PID and SRV_PORT (empty if it did not start)
#   srv_stop                      SIGTERM to SRV_PID and waits for it
#   rss_pte_kib PID               VmRSS + VmPTE of a process, in KiB

E="$BUILD/bench/echo"

echo_build_go() {
    GO=${GO:-}
    [ -n "$GO" ] || { [ -x /usr/lib/go-1.19/bin/go ] && GO=/usr/lib/go-1.19/bin/go || GO=$(command -v go 2>/dev/null || true); }
    GOENV=(GOCACHE="$BUILD/go-cache" GOPATH="$BUILD/gopath" GO111MODULE=off GOFLAGS= HOME=${HOME:-/tmp})
    GO_VERSION=n/a
    [ -n "$GO" ] && [ -x "$GO" ] || return 0
    mkdir -p "$BUILD/go-cache" "$E"
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    if [ ! -x "$E/goclient" ] || [ "$root/goclient/main.go" -nt "$E/goclient" ]; then
        (cd "$root/goclient" && env "${GOENV[@]}" timeout 600 "$GO" build -o "$E/goclient" main.go) >>"$LOG" 2>&1 ||
            echo "go build goclient failed (see $LOG)" >&2
    fi
    if [ ! -x "$E/echo_go" ] || [ "$root/echo_go.go" -nt "$E/echo_go" ]; then
        (cd "$root" && env "${GOENV[@]}" timeout 600 "$GO" build -o "$E/echo_go" echo_go.go) >>"$LOG" 2>&1 ||
            echo "go build echo_go failed (see $LOG)" >&2
    fi
    GO_VERSION=$(env "${GOENV[@]}" timeout 30 "$GO" version 2>/dev/null | awk '{print $3}')
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

SRV_PID=""
SRV_PORT=""
srv_start() {
    local out="$TMP/srv.out" i
    : >"$out"
    "$@" >"$out" 2>>"$LOG" &
    SRV_PID=$!
    SRV_PORT=""
    for i in $(seq 1 100); do
        SRV_PORT=$(awk '/^listening / { print $2; exit }' "$out")
        [ -n "$SRV_PORT" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
}

srv_stop() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}

rss_pte_kib() { awk '/^VmRSS:|^VmPTE:/ { s += $2 } END { print s + 0 }' "/proc/$1/status" 2>/dev/null; }
