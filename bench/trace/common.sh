# bench/trace/common.sh - shell functions the bench/trace scripts share (sourced).

# listen_port FILE PID: waits up to 2 s for echo_np's "listening PORT" line
# in FILE and prints PORT; else says so, stops PID and returns 1.
listen_port() {
    for _ in $(seq 1 100); do
        lp=$(awk '/^listening / { print $2; exit }' "$1")
        [ -n "$lp" ] && { echo "$lp"; return 0; }
        sleep 0.02
    done
    echo "echo_np did not start" >&2
    kill "$2" 2>/dev/null
    return 1
}
