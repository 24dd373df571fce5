#!/bin/sh
# The results store from the command line: runs accumulate; bad databases
# (not SQLite, another application's, a directory, locked by another
# writer) and bad traces give one line and exit 2, and leave the file as
# it was.  usage: db_cli.sh NETPOLL TRACES_DIR
set -u
np=$1
traces=$2
dir=$(mktemp -d)
trap 'kill $locker 2>/dev/null; rm -rf "$dir"' EXIT
locker=
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
count() { $py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$1"; }
expect2() { # expect2 WHAT CMD... : exit status 2 and exactly one line on stderr
    what=$1; shift
    "$@" >"$dir/out" 2>"$dir/err"
    st=$?
    [ $st -eq 2 ] || fail "$what: exit $st, want 2"
    [ "$(wc -l <"$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$what: want one line on stderr"; }
    echo "ok: $what: $(cat "$dir/err")"
}

db=$dir/results.db
"$np" replay "$traces/example.npt" --db "$db" >/dev/null || fail "replay --db"
"$np" replay "$traces/bugs/go59545_stale_error_event.npt" --design go1.18 --db "$db" >/dev/null
[ $? -eq 1 ] || fail "a violation should exit 1"
[ "$(count "$db")" = 2 ] || fail "two runs expected"
sum=$(md5sum <"$db")

# An invalid trace stores nothing.
printf 'netpoll-trace 1\n0 open pd=1 fd=3\n0 frob pd=1\n' >"$dir/bad.npt"
expect2 "invalid trace" "$np" replay "$dir/bad.npt" --db "$db"
[ "$(count "$db")" = 2 ] || fail "an invalid trace added a run"

# Not SQLite at all.
head -c 4096 /dev/urandom >"$dir/noise.db"; cp "$dir/noise.db" "$dir/noise.orig"
expect2 "not an SQLite file" "$np" replay "$traces/example.npt" --db "$dir/noise.db"
cmp -s "$dir/noise.db" "$dir/noise.orig" || fail "the non-SQLite file was changed"

# Someone else's SQLite database.
$py -c "import sqlite3; c=sqlite3.connect('$dir/other.db'); c.execute('create table t(x)'); c.commit()"
cp "$dir/other.db" "$dir/other.orig"
expect2 "another application's database" "$np" replay "$traces/example.npt" --db "$dir/other.db"
cmp -s "$dir/other.db" "$dir/other.orig" || fail "the foreign database was changed"

# A directory.
mkdir "$dir/adir"
expect2 "a directory" "$np" replay "$traces/example.npt" --db "$dir/adir"

# Locked by another writer for longer than the busy timeout.
$py -c "
import sqlite3, time, sys
c = sqlite3.connect('$db', isolation_level=None)
c.execute('begin exclusive')
print('locked', flush=True)
time.sleep(8)
" >"$dir/lock.out" &
locker=$!
for _ in $(seq 50); do grep -q locked "$dir/lock.out" 2>/dev/null && break; sleep 0.1; done
expect2 "locked by another writer" "$np" replay "$traces/example.npt" --db "$db"
kill $locker 2>/dev/null; wait $locker 2>/dev/null; locker=
[ "$(count "$db")" = 2 ] || fail "the locked database gained a run"

# A version 1 database (before violations.listing and explore_progress) is
# upgraded in place, its runs kept.
$py - "$dir/v1.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, backend TEXT,
  design TEXT, workload TEXT, trace TEXT, seed INTEGER, git_rev TEXT, machine TEXT, params TEXT,
  started_at TEXT NOT NULL, ended_at TEXT, status INTEGER, events INTEGER, divergences INTEGER,
  violations INTEGER);
CREATE TABLE violations (run_id INTEGER NOT NULL, name TEXT NOT NULL, detail TEXT NOT NULL,
  schedule TEXT, trace TEXT);
INSERT INTO runs (kind, started_at) VALUES ('replay', '2026-01-01T00:00:00Z');
PRAGMA user_version = 1;""")
c.commit()
PY
"$np" replay "$traces/example.npt" --db "$dir/v1.db" >/dev/null || fail "replay into a version 1 db"
[ "$(count "$dir/v1.db")" = 2 ] || fail "the version 1 db lost or missed a run"
$py - "$dir/v1.db" <<'PY' || fail "the version 1 db was not upgraded"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA user_version").fetchone()[0] == 4
c.execute("SELECT listing, preemptions, pd, g, mode, t_ns, line FROM violations")
c.execute("SELECT executions, states FROM explore_progress")
PY

# A version 2 database (runs.kind without 'check', violations without the
# structured columns) is upgraded in place to version 4: its runs and
# violations kept, a check run then stored beside them.
$py - "$dir/v2.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN
  ('live', 'replay', 'compare', 'explore', 'bench')), backend TEXT, design TEXT, workload TEXT,
  trace TEXT, seed INTEGER, git_rev TEXT, machine TEXT, params TEXT, started_at TEXT NOT NULL,
  ended_at TEXT, status INTEGER, events INTEGER, divergences INTEGER, violations INTEGER);
CREATE TABLE violations (run_id INTEGER NOT NULL REFERENCES runs (id), name TEXT NOT NULL,
  detail TEXT NOT NULL, schedule TEXT, trace TEXT, listing TEXT, preemptions INTEGER);
CREATE TABLE outcomes (run_id INTEGER NOT NULL REFERENCES runs (id), seq INTEGER NOT NULL,
  g INTEGER NOT NULL, pd INTEGER NOT NULL, mode TEXT NOT NULL, result TEXT, recorded TEXT,
  virtual_ns INTEGER, wall_ns INTEGER, wait_ns INTEGER, deadline_ns INTEGER);
INSERT INTO runs (kind, started_at) VALUES ('explore', '2026-01-01T00:00:00Z');
INSERT INTO violations (run_id, name, detail) VALUES (1, 'lost-wakeup', 'violation: lost-wakeup');
PRAGMA user_version = 2;""")
c.commit()
PY
# (only the enumeration: --no-programs where check runs the machine's programs too)
noprog=$("$np" check --help | grep -q -- --no-programs && echo --no-programs)
"$np" check --k 1 --k2 0 --enumerated-only --design go1.21 --quiet $noprog --db "$dir/v2.db" >/dev/null ||
    fail "check into a version 2 db"
$py - "$dir/v2.db" <<'PY' || fail "the version 2 db was not upgraded"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA user_version").fetchone()[0] == 4
assert [r[0] for r in c.execute("SELECT kind FROM runs ORDER BY id")] == ["explore", "check"]
assert c.execute("SELECT name FROM violations WHERE run_id = 1").fetchone()[0] == "lost-wakeup"
sql = c.execute("SELECT sql FROM sqlite_master WHERE name = 'outcomes'").fetchone()[0]
assert "REFERENCES runs (id)" in sql, sql   # the references still name runs
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
PY

# A version 3 database (no scenario columns) is upgraded in place to version
# 4: its runs and violations kept, the new columns there (NULL in old rows).
# (made as version 4, then its new columns dropped: the version 3 schema)
"$np" replay "$traces/example.npt" --db "$dir/v3.db" >/dev/null || fail "replay into v3.db"
$py - "$dir/v3.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""ALTER TABLE runs DROP COLUMN scenario; ALTER TABLE runs DROP COLUMN scenario_hash;
ALTER TABLE violations DROP COLUMN scenario; ALTER TABLE violations DROP COLUMN scenario_hash;
UPDATE runs SET trace = 'a.npt';
INSERT INTO violations (run_id, name, detail, pd) VALUES (1, 'lost-wakeup', 'violation: x', 1);
PRAGMA user_version = 3;""")
c.commit()
PY
cp "$dir/v3.db" "$dir/v3_in.db"
"$np" replay "$traces/example.npt" --db "$dir/v3.db" >/dev/null || fail "replay into a version 3 db"
$py - "$dir/v3.db" <<'PY' || fail "the version 3 db was not upgraded"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA user_version").fetchone()[0] == 4
rows = c.execute("SELECT id, trace, scenario, scenario_hash FROM runs ORDER BY id").fetchall()
assert rows[0] == (1, "a.npt", None, None), rows
assert rows[1][2] == "example" and len(rows[1][3]) == 16, rows
assert c.execute("SELECT name, pd, scenario FROM violations").fetchall() == [("lost-wakeup", 1, None)]
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
PY
# ... and merged from, as an input of version 3
"$np" merge "$dir/v3_in.db" --into "$dir/v4_merged.db" >/dev/null || fail "merge of a version 3 db"
$py -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); assert c.execute('SELECT trace, scenario FROM runs').fetchall() == [('a.npt', None)]" "$dir/v4_merged.db" ||
    fail "merge of a version 3 db: its run"

# File paths are stored absolute, not as typed; a scenario is known by its
# name and the hash of its canonical text: the same for the same trace
# wherever it is and however it is spaced, another for another trace, and
# for an enumerated scenario the hash netpoll check --list shows.
mkdir "$dir/sub" && cp "$traces/example.npt" "$dir/sub/copy.npt"
{ echo "# the same trace, other spacing and comments"; sed '/^[0-9]/ s/ \+/  /g' "$traces/example.npt"; } >"$dir/sub/spaced.npt"
"$np" check --list --k 1 2>/dev/null | awk '/^# scenario/ { n++; if (n == 1) h = $3; next } n == 1 && NF { print > "'"$dir"'/sub/enum1.npt" } END { print h > "'"$dir"'/sub/enum1.hash" }'
(cd "$dir/sub" && "$np" replay copy.npt --db ../ids.db >/dev/null && "$np" replay ./spaced.npt --db ../ids.db >/dev/null &&
    "$np" replay ../sub/enum1.npt --db ../ids.db >/dev/null &&
    "$np" explore "$traces/scenarios/read_ready.npt" --db ../ids.db --quiet >/dev/null &&
    "$np" record deadline-churn --seconds 0.05 --out rec.npt --db ../ids.db >/dev/null &&
    "$np" compare "$dir/sub/rec.npt" --db ../ids.db >/dev/null) || fail "runs into ids.db"
$py - "$dir/ids.db" "$dir" "$(cat "$dir/sub/enum1.hash")" <<'PY' || fail "paths or scenario identities"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
d = sys.argv[2]
r = c.execute("SELECT kind, trace, scenario, scenario_hash, workload FROM runs ORDER BY id").fetchall()
assert [x[1] for x in r[:3]] == [d + "/sub/copy.npt", d + "/sub/spaced.npt", d + "/sub/enum1.npt"], r
assert all(x[1].startswith("/") for x in r), r
assert r[0][2] == "copy" and r[1][2] == "spaced" and r[0][3] == r[1][3], r  # one trace, two names
assert r[2][3] == sys.argv[3] and r[2][3] != r[0][3], (r, sys.argv[3])    # check --list's hash
assert r[3][2] == "read_ready" and r[3][3] and r[3][3] != r[0][3], r
assert r[4][0] == "live" and r[4][1] == d + "/sub/rec.npt", r
assert r[5][0] == "compare" and r[5][4] == "deadline-churn", r  # found by the absolute path
PY
# check stores each unexpected finding with its scenario's name and hash
mkdir "$dir/tr" && printf 'go1.5\tstale-event\tgo1.18 not expected here\n' >"$dir/tr/expected_findings.tsv"
"$np" check --traces "$dir/tr" --design go1.18 --k 2 --k2 0 --enumerated-only --quiet --db "$dir/chk.db" >/dev/null
[ $? -eq 1 ] || fail "check with go1.18's finding unexpected should exit 1"
$py - "$dir/chk.db" <<'PY' || fail "check's violations: scenario name and hash"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT name, scenario, scenario_hash FROM violations").fetchall()
assert rows and all(s == "enum:" + h for _, s, h in rows), rows
PY

# Distributions are stored once, as log-scale histograms: every sample in
# exactly one bucket, a bucket at most 1/128 of its values wide (exact below
# 256 ns), the live wake latency over time in windows; a wait's outcome only
# with --outcomes.
(cd "$dir" && "$np" compare "$traces/workloads/echo.npt" --db hist.db >/dev/null &&
    "$np" replay "$traces/workloads/echo.npt" --db hist.db >/dev/null &&
    "$np" replay "$traces/workloads/echo.npt" --db hist.db --outcomes >/dev/null &&
    "$np" compare "$traces/workloads/echo.npt" --db hist.db --outcomes >/dev/null &&
    "$np" record deadline-churn --seconds 0.2 --out dc.npt --db hist.db >/dev/null &&
    "$np" record deadline-churn --seconds 0.05 --out dc2.npt --db hist.db --outcomes >/dev/null) ||
    fail "runs into hist.db"
$py - "$dir/hist.db" "$traces/workloads/echo.npt" "$dir/dc.npt" <<'PY' || fail "the histograms"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
wakes = sum(1 for l in open(sys.argv[2]) if l.split()[1:2] == ["wake"])
fires = sum(1 for l in open(sys.argv[3]) if l.split()[1:2] == ["fire"])
n = lambda sql, *a: c.execute(sql, a).fetchone()[0]
# one compare: each series once (no raw rows, no copy of sim_wake_delay)
assert n("SELECT count(*) FROM timing WHERE run_id = 1 AND kind != 'lateness_dependent_outcomes'") == 0
kinds = dict(c.execute("SELECT kind, sum(count) FROM timing_hist WHERE run_id = 1 GROUP BY kind"))
assert kinds["sim_wake_delay"] == wakes, (kinds, wakes)
assert kinds["wake_latency_live"] == kinds["wake_latency_sim"] > 0, kinds
assert kinds.get("deadline_span", 0) == kinds.get("deadline_lateness_trace", 0), kinds
for lo, hi, cnt in c.execute("SELECT lo_ns, hi_ns, count FROM timing_hist"):
    a = min(abs(lo), abs(hi))
    assert cnt > 0 and lo <= hi, (lo, hi)
    assert (lo == hi) if a < 256 else (hi - lo + 1) * 128 <= a, (lo, hi)
# buckets do not overlap
for run, kind in c.execute("SELECT DISTINCT run_id, kind FROM timing_hist").fetchall():
    b = c.execute("SELECT lo_ns, hi_ns FROM timing_hist WHERE run_id = ? AND kind = ? "
                  "ORDER BY lo_ns", (run, kind)).fetchall()
    assert all(x[1] < y[0] for x, y in zip(b, b[1:])), (run, kind)
s = c.execute("SELECT t_ns, window_ns, count, p50_ns, p99_ns, max_ns FROM timing_series "
              "WHERE run_id = 1 AND kind = 'wake_latency_live' ORDER BY t_ns").fetchall()
assert 1 <= len(s) <= 101 and sum(r[2] for r in s) == kinds["wake_latency_live"], s[:3]
assert all(r[0] % r[1] == 0 and r[3] <= r[4] <= r[5] for r in s), s[:3]
assert all(x[0] + x[1] <= y[0] for x, y in zip(s, s[1:])), s[:3]
# outcomes only on request: replay (run 2 none, 3 all), compare (4), record (5 none, 6 all)
oc = dict(c.execute("SELECT run_id, count(*) FROM outcomes GROUP BY run_id"))
assert oc.get(1, 0) == oc.get(2, 0) == oc.get(5, 0) == 0 and oc[3] == oc[4] == wakes and oc[6] > 0, oc
# record: the deadline timers' lateness, one sample per fire
assert n("SELECT sum(count) FROM timing_hist WHERE run_id = 5 AND kind = 'deadline_lateness'") == fires > 0
PY

# A violation is stored as a record: its name, slot, task, mode, time and
# line in their own columns (netpoll/invariants.h), not parsed from text.
"$np" replay "$traces/bugs/two_waiters_one_direction.npt" --db "$dir/rec.db" >/dev/null && fail "two waiters replayed clean"
$py - "$dir/rec.db" <<'PY' || fail "the violation record was not stored"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT name, pd, g, mode, line FROM violations WHERE name != 'divergence'").fetchall()
assert rows and rows[0][0] == "bad-state" and rows[0][1] == 1 and rows[0][3] in ("r", "w") and rows[0][4], rows
PY

# netpoll runs: one line a run (id, time, commit, verdict, command), a run
# with a start and no end shown as UNFINISHED; the database only read.
"$np" runs --db "$db" >"$dir/runs.out" || fail "runs"
cat "$dir/runs.out"
[ "$(grep -c 'netpoll replay' "$dir/runs.out")" = 2 ] || fail "runs: want two replay lines"
grep -q '^ *1  20[0-9-]*T[0-9:]*Z  .* ok  .*netpoll replay .*example.npt' "$dir/runs.out" || fail "runs: run 1's line"
grep -q '^ *2 .*findings (1 viol, 1 div)' "$dir/runs.out" || fail "runs: run 2's verdict"
cp "$db" "$dir/unf.db"
$py -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO runs (kind, params, started_at) VALUES ('explore', 'netpoll explore x.npt', '2026-01-01T00:00:00Z')\"); c.commit()" "$dir/unf.db"
"$np" runs --db "$dir/unf.db" | grep -q '^ *3 .*UNFINISHED .*netpoll explore x.npt' || fail "runs: an unfinished run is not marked"
sum0=$(md5sum <"$db")
"$np" runs --db "$db" >/dev/null
[ "$(md5sum <"$db")" = "$sum0" ] || fail "runs changed the database"
# from a folder the reader cannot write (WAL mode: no -shm can be made there)
# (as root: as user nobody, through setpriv, when there is one)
mkdir "$dir/ro" && cp "$db" "$dir/ro/r.db" && chmod 644 "$dir/ro/r.db" && chmod 555 "$dir/ro"
as=
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && as="setpriv --reuid=65534 --regid=65534 --clear-groups"
if [ -n "$as" ] || [ ! -w "$dir/ro" ]; then
    chmod 755 "$dir"
    $as "$np" runs --db "$dir/ro/r.db" | grep -q '^ *2 ' || fail "runs in a read-only folder"
    $as "$np" export --db "$dir/ro/r.db" --run 2 --csv /dev/null/x 2>&1 | grep -q "cannot make" ||
        fail "export from a read-only folder: the database was not read"
    # a run committed only to the -wal (its writer killed before it closed),
    # with the -shm left there and without it: read all the same
    chmod 755 "$dir/ro"
    $py -c "
import os, signal, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute(\"INSERT INTO runs (kind, params, started_at, ended_at, status) VALUES ('replay', 'netpoll replay wal-only.npt', 'x', 'y', 0)\")
os.kill(os.getpid(), signal.SIGKILL)" "$dir/ro/r.db" 2>/dev/null
    [ -s "$dir/ro/r.db-wal" ] || fail "the killed writer left no -wal"
    chmod 644 "$dir/ro/r.db-wal" "$dir/ro/r.db-shm"; chmod 555 "$dir/ro"
    $as "$np" runs --db "$dir/ro/r.db" | grep -q "wal-only.npt" || fail "runs: a commit in the -wal, -shm there"
    chmod 755 "$dir/ro"; rm "$dir/ro/r.db-shm"; chmod 555 "$dir/ro"
    $as "$np" runs --db "$dir/ro/r.db" | grep -q "wal-only.npt" || fail "runs: a commit in the -wal, no -shm"
    mkdir "$dir/csvout" && chmod 777 "$dir/csvout"
    $as "$np" export --db "$dir/ro/r.db" --run 3 --csv "$dir/csvout" 2>&1 | grep -q "^export: run 3" ||
        fail "export: a commit in the -wal, no -shm"
    ls -d "${TMPDIR:-/tmp}"/netpoll-ro-* >/dev/null 2>&1 && fail "the private copy was left behind"
    chmod 700 "$dir"
fi
chmod 755 "$dir/ro"

# netpoll export: a CSV per table with a run_id column (and runs.csv), the
# run's rows only, RFC 4180 quoting, NULL as an empty field; files replaced
# whole, no temporary file left.
mkdir "$dir/csv"
echo keep >"$dir/csv/outcomes.csv"
"$np" export --db "$db" --run 2 --csv "$dir/csv" >/dev/null || fail "export"
ls "$dir/csv"/*.tmp* >/dev/null 2>&1 && fail "export left a temporary file"
$py - "$db" "$dir/csv" <<'PY' || fail "export: the CSV files do not hold run 2's rows"
import csv, os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
for t in tables:
    cols = [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
    if t != "runs" and "run_id" not in cols:
        continue
    key = "id" if t == "runs" else "run_id"
    want = [["" if v is None else str(v) for v in row]
            for row in c.execute(f"SELECT * FROM {t} WHERE {key} = 2 ORDER BY rowid")]
    with open(os.path.join(sys.argv[2], t + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == cols, (t, rows[0], cols)
    assert rows[1:] == want, (t, rows[1:], want)
    if t in ("runs", "violations"):
        assert want, t   # run 2 has rows there
print("export: every table as in the database")
PY
"$np" export --db "$db" --run 1 --csv "$dir/new_csv" >/dev/null && [ -s "$dir/new_csv/runs.csv" ] ||
    fail "export into a folder that is not there yet (made)"

# A missing trace file.
expect2 "missing trace" "$np" replay "$dir/nope.npt" --db "$db"
echo "db_cli: ok"
