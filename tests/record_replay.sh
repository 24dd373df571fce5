#!/bin/sh
# Records WORKLOAD live on epoll for a short time, then replays the trace:
# the replay must agree with the record (exit 0: zero divergences and no
# violation), and must agree again with every timer fired at its deadline
# except where outcomes depended on timer lateness (reported, not failed).
# usage: record_replay.sh NETPOLL WORKLOAD [SECONDS]
set -eu
np=$1
w=$2
secs=${3:-0.5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$np" record "$w" --no-db --seconds "$secs" --out "$dir/$w.npt"
if ! "$np" replay --no-db "$dir/$w.npt" >"$dir/replay.out"; then
    head -20 "$dir/replay.out"
    cp "$dir/$w.npt" "/tmp/record_replay-failed-$w.npt" 2>/dev/null &&
        echo "kept the trace as /tmp/record_replay-failed-$w.npt"
    exit 1
fi
tail -1 "$dir/replay.out"
# The emitted trace replays consistently too (computed outcomes as record).
"$np" replay --no-db "$dir/$w.npt" --emit "$dir/emitted.npt" >/dev/null
"$np" replay --no-db "$dir/emitted.npt" >/dev/null
echo "record_replay $w: ok"
