#!/bin/sh
# netpoll report on a WAL database in a folder the reader cannot write (as
# user nobody): the database is read (read-only, or immutable when its -shm
# cannot be created, or from a private copy when a -wal file holds commits),
# and the report written. Needs root (to become nobody); skipped (77) else.
# usage: test_readonly.sh NETPOLL SOURCE_DIR
set -u
np=$1
src=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot run the report as another user"
command -v setpriv >/dev/null || skip "no setpriv"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody test -x "$np" || skip "user nobody cannot run $np"
as_nobody test -r "$src/analysis/report.py" || skip "user nobody cannot read $src/analysis"
py=/usr/bin/python3
[ -x $py ] || py=python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
mkdir "$dir/db" "$dir/out" "$dir/mpl"
chown nobody "$dir/out" "$dir/mpl"
# matplotlib wants a writable config folder (nobody's HOME is not)
export MPLCONFIGDIR="$dir/mpl"
runs_in() { grep -o '([0-9]* runs)' "$1/report.html"; }

# 1. WAL mode, closed cleanly: no -wal or -shm file, and none can be made
"$np" explore "$src/traces/scenarios/read_ready.npt" --db "$dir/db/r.db" >/dev/null ||
    fail "explore --db"
[ "$($py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma journal_mode').fetchone()[0])" "$dir/db/r.db")" = wal ] ||
    fail "the store is not in WAL mode"
rm -f "$dir/db/r.db-wal" "$dir/db/r.db-shm"
chmod 555 "$dir/db"
chmod 444 "$dir/db/r.db"
as_nobody "$np" report --db "$dir/db/r.db" --out "$dir/out/a" >"$dir/stdout" 2>"$dir/err" ||
    { cat "$dir/err"; fail "report on a read-only folder"; }
[ "$(runs_in "$dir/out/a")" = "(1 runs)" ] || fail "report on a read-only folder: $(runs_in "$dir/out/a")"
ls "$dir/db" | grep -q -- '-shm\|-wal' && fail "the reader left files in the database's folder"
echo "ok: WAL database, read-only folder, no -wal: $(cat "$dir/stdout")"

# 2. a -wal file holding a commit not yet in the database (a writer killed),
# no -shm: what the -wal holds must be in the report
chmod 755 "$dir/db"
chmod 644 "$dir/db/r.db"
$py - "$dir/db/r.db" <<'EOF' || fail "writing the -wal"
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_autocheckpoint = 0")
cols = [r[1] for r in db.execute("PRAGMA table_info(runs)") if r[1] != "id"]
db.execute("INSERT INTO runs (%s) SELECT %s FROM runs LIMIT 1" % (", ".join(cols), ", ".join(cols)))
db.commit()
os._exit(0)  # no checkpoint at close: the commit stays in the -wal
EOF
[ -s "$dir/db/r.db-wal" ] || fail "no -wal file"
rm -f "$dir/db/r.db-shm"
chmod 555 "$dir/db"
chmod 444 "$dir/db/r.db" "$dir/db/r.db-wal"
as_nobody "$np" report --db "$dir/db/r.db" --out "$dir/out/b" >"$dir/stdout" 2>"$dir/err" ||
    { cat "$dir/err"; fail "report with a -wal in a read-only folder"; }
[ "$(runs_in "$dir/out/b")" = "(2 runs)" ] || fail "the -wal's commit is missing: $(runs_in "$dir/out/b")"
echo "ok: WAL database with a -wal, read-only folder: $(cat "$dir/stdout")"
chmod 755 "$dir/db"
echo "ok: netpoll report on a read-only folder"
