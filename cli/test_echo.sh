#!/bin/sh
# `netpoll echo serve` in the background, `netpoll echo client` against it:
# every echo must come back, and bad usage must exit 2.
set -eu
np=$1
out=$(mktemp)
trap 'rm -f "$out"; kill "$srv" 2>/dev/null || true' EXIT
"$np" echo serve --addr 127.0.0.1:0 --seconds 5 --timeout-ms 2000 >"$out" &
srv=$!
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
addr=$(sed -n 's/^listening //p' "$out")
[ -n "$addr" ] || { echo "server did not start"; cat "$out"; exit 1; }
"$np" echo client --addr "$addr" --conns 8 --rounds 200 --size 700 --timeout-ms 2000
set +e
"$np" echo client --conns 2 >/dev/null 2>&1; [ $? -eq 2 ] || { echo "missing --addr: want exit 2"; exit 1; }
"$np" echo client --addr "$addr" --size 0 >/dev/null 2>&1; [ $? -eq 2 ] || { echo "bad size: want exit 2"; exit 1; }
"$np" echo client --addr 127.0.0.1:1 --conns 1 >/dev/null 2>&1; [ $? -eq 1 ] || { echo "refused: want exit 1"; exit 1; }
echo "cli_echo: ok"
