#!/bin/sh
# tests/check_reduction.sh NETPOLL K K2 - the enumeration's reductions are
# sound: every scenario generated without them (--no-reduce: every order of
# a step's letters, times as generated) has the same verdict and the same
# outcome classes, under every design, as its canonical representative.
set -eu
np=$1
k=${2:-2}
k2=${3:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$np" check --enumerated-only --k "$k" --k2 "$k2" --no-db --quiet --keep-going --verdicts "$dir/reduced" >"$dir/r.out" || {
    cat "$dir/r.out"; echo "FAIL: the reduced check is not clean"; exit 1; }
"$np" check --enumerated-only --k "$k" --k2 "$k2" --no-db --quiet --keep-going --no-reduce --verdicts "$dir/raw" >"$dir/n.out" || {
    cat "$dir/n.out"; echo "FAIL: the unreduced check is not clean"; exit 1; }
/usr/bin/python3 - "$dir/reduced" "$dir/raw" <<'PY'
import sys
red = {}
for line in open(sys.argv[1]):
    h, d, st, cls = line.rstrip("\n").split("\t")
    red[(h, d)] = (st, cls)
n = bad = 0
for line in open(sys.argv[2]):
    h, d, st, cls = line.rstrip("\n").split("\t")
    n += 1
    if red.get((h, d)) != (st, cls):
        bad += 1
        if bad <= 5:
            print("differs: %s under %s: unreduced %s [%s], reduced %s" % (h, d, st, cls, red.get((h, d))))
print("reduction: %d unreduced scenario runs map onto %d reduced ones; %d differ" % (n, len(red), bad))
print("%d passed, %d failed" % (n - bad, bad))
sys.exit(1 if bad or n == 0 else 0)
PY
