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

$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/empty.db" --empty || fail "fixture"
"$np" report --db "$dir/empty.db" --out "$dir/out-empty" || fail "report (empty) exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out-empty" --nodata $all || exit 1

# again into the full report's folder: the figures without data go too
"$np" report --db "$dir/empty.db" --out "$dir/out" || fail "report (again) exit $?"
$py "$src/analysis/tests/check_report.py" "$dir/out" --nodata $all || exit 1
ls -a "$dir" | grep -q '^\.report-' && fail "a temporary folder was left behind"
echo "ok: netpoll report"
