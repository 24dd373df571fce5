#!/bin/sh
# Shards are plain processes: 2 shards of one exploration run through GNU
# parallel, then `netpoll merge`; the merged run must find exactly the
# outcome classes, abstract pollDesc states and verdict of the unsharded
# run.  usage: explore_parallel.sh NETPOLL TRACE [DESIGN]
set -u
np=$1
trace=$2
design=${3:-go1.21}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v parallel >/dev/null || fail "GNU parallel is not installed (apt-get install parallel)"
"$np" explore "$trace" --design "$design" --keep-going --quiet --db "$dir/whole.db" >/dev/null
[ $? -le 1 ] || fail "the unsharded exploration"
parallel --will-cite --halt now,fail=1 \
    "'$np' explore '$trace' --design $design --keep-going --quiet --shard {}/2 --db '$dir/s{}.db' >/dev/null; [ \$? -le 1 ]" ::: 1 2 ||
    fail "a shard failed"
"$np" merge "$dir/s1.db" "$dir/s2.db" --into "$dir/merged.db" || fail "merge"
/usr/bin/python3 - "$dir/whole.db" "$dir/merged.db" <<'PY'
import sqlite3, sys
def result(path, where):
    c = sqlite3.connect(path)
    (rid, status), = c.execute("SELECT id, status FROM runs WHERE kind = 'explore' AND " + where)
    classes = {r[0] for r in c.execute("SELECT class FROM outcome_classes WHERE run_id = ?", (rid,))}
    states = {r[0] for r in c.execute("SELECT state FROM explore_states WHERE run_id = ?", (rid,))}
    (n,), = c.execute("SELECT distinct_states FROM explore_stats WHERE run_id = ?", (rid,))
    viol = {r[0] for r in c.execute("SELECT name FROM violations WHERE run_id = ?", (rid,))}
    return status, classes, states, n, viol
w = result(sys.argv[1], "1")
m = result(sys.argv[2], "params LIKE '%[merged 2 shards]'")
print("whole: status %d, %d classes, %d states; merged: status %d, %d classes, %d states"
      % (w[0], len(w[1]), len(w[2]), m[0], len(m[1]), len(m[2])))
assert w[0] == m[0], "verdicts differ"
assert w[1] == m[1], "outcome classes differ: %s vs %s" % (w[1], m[1])
assert w[2] == m[2] and w[3] == m[3] == len(w[2]), "abstract states differ"
assert w[4] == m[4], "violations differ: %s vs %s" % (w[4], m[4])
PY
[ $? -eq 0 ] || fail "the merged result differs from the unsharded one"
echo "explore_parallel: ok"
