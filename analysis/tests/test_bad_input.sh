#!/bin/sh
# netpoll report on bad input: exit 2, one line on stderr, nothing written.
# usage: test_bad_input.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3
expect2() { # expect2 WHAT DB : exit 2, one line on stderr, no OUT, no temporary folder
    what=$1
    "$np" report --db "$2" --out "$dir/out" >"$dir/stdout" 2>"$dir/err"
    st=$?
    [ $st -eq 2 ] || { cat "$dir/err"; fail "$what: exit $st, want 2"; }
    [ "$(wc -l <"$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$what: want one line on stderr"; }
    grep -q '^netpoll report: ' "$dir/err" || { cat "$dir/err"; fail "$what: not report's message"; }
    [ -e "$dir/out" ] && fail "$what: $dir/out was written"
    ls -a "$dir" | grep -q '^\.report-' && fail "$what: a temporary folder was left"
    echo "ok: $what: $(cat "$dir/err")"
}

expect2 "missing database" "$dir/nonexistent.db"
head -c 4096 /dev/urandom >"$dir/noise.db"
expect2 "not an SQLite file" "$dir/noise.db"
: >"$dir/zero.db"
expect2 "an empty file" "$dir/zero.db"
$py -c "import sqlite3; c=sqlite3.connect('$dir/other.db'); c.execute('create table t(x)'); c.commit()"
expect2 "another application's database" "$dir/other.db"
for v in 1 2 5; do
    $py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/v$v.db" --empty
    $py -c "import sqlite3; c=sqlite3.connect('$dir/v$v.db'); c.execute('pragma user_version=$v'); c.commit()"
    expect2 "schema version $v" "$dir/v$v.db"
done
mkdir "$dir/adir"
expect2 "a directory" "$dir/adir"

# usage errors
"$np" report --db "$dir/v1.db" 2>"$dir/err"
[ $? -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] || fail "no --out: want exit 2, one line"
"$np" report --db x --out y --frob 2>"$dir/err"
[ $? -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] || fail "unknown option: want exit 2, one line"
"$np" report --help | grep -q "usage: netpoll report" || fail "--help"
"$np" report --db 2>"$dir/err"
[ $? -eq 2 ] && grep -q -- "--db needs a value" "$dir/err" || fail "--db without a value: $(cat "$dir/err")"

# An OUT where nothing can be written: one line, exit 2, no traceback
$py "$src/analysis/make_fixture.py" "$src/cli/schema.sql" "$dir/ok.db" --empty
for out in /proc/forbidden /proc/forbidden/x /sys/kernel/forbidden; do
    "$np" report --db "$dir/ok.db" --out "$out" >/dev/null 2>"$dir/err"
    st=$?
    [ $st -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] && ! grep -q Traceback "$dir/err" ||
        { cat "$dir/err"; fail "--out $out: exit $st, want 2 and one line"; }
    echo "ok: --out $out: $(cat "$dir/err")"
done

# OUT that is a file, and an existing OUT left as it was when the input is bad
: >"$dir/afile"
"$np" report --db "$dir/ok.db" --out "$dir/afile" 2>"$dir/err"
[ $? -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] || fail "OUT a file: want exit 2, one line"
[ -s "$dir/afile" ] && fail "OUT a file: it was written"
mkdir "$dir/keep" && echo old >"$dir/keep/report.html"
"$np" report --db "$dir/noise.db" --out "$dir/keep" 2>/dev/null
[ $? -eq 2 ] && [ "$(cat "$dir/keep/report.html")" = old ] || fail "an existing OUT was changed"
echo "ok: netpoll report bad input"
