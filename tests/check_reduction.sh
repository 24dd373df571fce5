#!/bin/sh
# tests/check_reduction.sh NETPOLL K K2 [FLAG] - the enumeration's reductions
# are sound: every scenario generated without them (--no-reduce: every order
# of a step's letters, times as generated) has the same verdict and the same
# outcome classes, under every design, as its canonical representative.
# With FLAG --no-sleep: exploring without sleep sets gives every scenario the
# same verdict, outcome classes and count of states expanded as with them.
set -eu
np=$1
k=${2:-2}
k2=${3:-3}
flag=${4:---no-reduce}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$np" check --enumerated-only --k "$k" --k2 "$k2" --no-db --quiet --keep-going --verdicts "$dir/reduced" >"$dir/r.out" || {
    cat "$dir/r.out"; echo "FAIL: the reduced check is not clean"; exit 1; }
"$np" check --enumerated-only --k "$k" --k2 "$k2" --no-db --quiet --keep-going "$flag" --verdicts "$dir/raw" >"$dir/n.out" || {
    cat "$dir/n.out"; echo "FAIL: the unreduced check is not clean"; exit 1; }
/usr/bin/python3 - "$dir/reduced" "$dir/raw" "$flag" <<'PY'
import sys
# each line: the canonical scenario's hash, the design (+record in the
# recorded pass), the exit status, the outcome classes, the states expanded.
# Without sleep sets every state is still expanded (sleep sets prune steps,
# not states): with --no-sleep the counts must agree too, where the state
# hash is a function of the state (not in the recorded pass, whose record
# buffers carry encoder state from run to run).
states = sys.argv[3] == "--no-sleep"
def key(f):
    h, d, st, cls, n = f
    return (st, cls, n if states and not d.endswith("+record") else "")
red = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    red[(f[0], f[1])] = key(f)
n = bad = 0
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    n += 1
    if red.get((f[0], f[1])) != key(f):
        bad += 1
        if bad <= 5:
            print("differs: %s under %s: without %s, with %s" % (f[0], f[1], key(f), red.get((f[0], f[1]))))
print("reduction: %d scenario runs without it map onto %d with it; %d differ" % (n, len(red), bad))
print("%d passed, %d failed" % (n - bad, bad))
sys.exit(1 if bad or n == 0 else 0)
PY
