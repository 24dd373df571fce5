#!/bin/sh
# netpoll report on a fixture database with rows in every table: every
# figure is a valid PNG embedded in report.html; on a database with the
# schema and no rows, the page says "no data" for each plot and still is a
# page; a second report into the same folder replaces the first.
# usage: test_report.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3
all=wake_latency,wake_series,deadline_lateness,violations,outcome_classes,coverage,explore_rate,bench,mutants

$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/fx.db" || fail "fixture"
"$np" report --db "$dir/fx.db" --out "$dir/out" || fail "report exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out" --figures $all || exit 1

# the same as a version 3 file (no scenario columns, no timing_hist or
# timing_series): read alike, without the wake latency series
$py - "$dir/fx.db" "$dir/v3.db" <<'PY' || fail "a version 3 fixture"
import shutil, sqlite3, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
db = sqlite3.connect(sys.argv[2])
for t in ("runs", "violations"):
    for c in ("scenario", "scenario_hash"):
        db.execute("ALTER TABLE %s DROP COLUMN %s" % (t, c))
db.execute("DROP TABLE timing_hist")
db.execute("DROP TABLE timing_series")
db.execute("PRAGMA user_version = 3")
db.commit()
PY
"$np" report --db "$dir/v3.db" --out "$dir/out-v3" || fail "report (version 3) exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out-v3" \
    --figures $(echo $all | sed 's/wake_series,//') --nodata wake_series || exit 1

$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/empty.db" --empty || fail "fixture"
"$np" report --db "$dir/empty.db" --out "$dir/out-empty" || fail "report (empty) exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out-empty" --nodata $all || exit 1

# again into the full report's folder: the figures without data go too
"$np" report --db "$dir/empty.db" --out "$dir/out" || fail "report (again) exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out" --nodata $all || exit 1
ls -a "$dir" | grep -q '^\.report-' && fail "a temporary folder was left behind"
echo "ok: netpoll report"
