#!/bin/sh
# End to end on real data: a short live recording and the comparisons of the
# workload samples stored in one database (compare stores the workload and
# the live/simulated wake latencies, as histograms), then netpoll report draws the timing
# figures from them and notes the others as without data.
# usage: test_report_live.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3
db=$dir/r.db

"$np" record deadline-churn --seconds 0.3 --out "$dir/dc.npt" --db "$db" >/dev/null ||
    fail "record exit $?"
"$np" compare "$dir/dc.npt" --db "$db" >/dev/null || fail "compare of the recording"
for w in echo close-race accept-churn; do
    "$np" compare "$src/traces/workloads/$w.npt" --db "$db" >/dev/null || fail "compare $w"
done
"$np" compare "$src/traces/workloads/echo.npt" --workload echo-again --db "$db" >/dev/null ||
    fail "compare --workload"
got=$($py -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(' '.join(r[0] for r in c.execute(\"select workload from runs where kind = 'compare' order by id\")))
k = dict(c.execute(\"select kind, sum(count) from timing_hist group by kind\"))
assert k.get('wake_latency_live', 0) > 0 and k['wake_latency_live'] == k.get('wake_latency_sim'), k
assert k.get('deadline_span', 0) == k.get('deadline_lateness_trace', 0) > 0, k
" "$db") || fail "stored timing kinds"
[ "$got" = "deadline-churn echo close-race accept-churn echo-again" ] ||
    fail "compare workloads: $got"
echo "ok: compare runs stored with workloads: $got"

"$np" report --db "$db" --out "$dir/out" || fail "report exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out" --figures wake_latency,wake_series,deadline_lateness \
    --nodata violations,outcome_classes,coverage,explore_rate,bench,mutants || exit 1
for w in deadline-churn echo close-race accept-churn echo-again; do
    grep -q "<td>$w</td>" "$dir/out/report.html" || fail "workload $w not in the tables"
done
echo "ok: netpoll report on recorded and compared runs"
