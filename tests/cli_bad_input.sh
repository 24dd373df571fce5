#!/bin/sh
# Bad input on every command: one line on stderr, exit status 2, and files
# already on disk left as they were.  usage: cli_bad_input.sh NETPOLL TRACES_DIR
set -u
np=$1
traces=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect2() { # expect2 WHAT CMD... : exit 2 and exactly one line on stderr
    what=$1; shift
    "$@" >"$dir/out" 2>"$dir/err"
    st=$?
    [ $st -eq 2 ] || { cat "$dir/err"; fail "$what: exit $st, want 2"; }
    [ "$(wc -l <"$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$what: want one line on stderr"; }
    echo "ok: $what: $(cat "$dir/err")"
}
expect2msg() { # expect2msg WHAT TEXT CMD... : expect2, and TEXT in the message
    what=$1 text=$2; shift 2
    expect2 "$what" "$@"
    grep -qF -- "$text" "$dir/err" || fail "$what: the message does not say '$text'"
}
runs() { /usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$1"; }
cd "$dir"

for cmd in replay compare; do
    expect2 "$cmd: missing file" "$np" $cmd --no-db "$dir/nope.npt"
    expect2 "$cmd: a directory" "$np" $cmd --no-db "$dir"
    expect2 "$cmd: unknown option" "$np" $cmd --no-db "$traces/example.npt" --bogus
    expect2 "$cmd: no file" "$np" $cmd --no-db
done
expect2 "replay: unknown design" "$np" replay --no-db "$traces/example.npt" --design go9
expect2 "compare: a scenario (no wake lines)" "$np" compare --no-db "$traces/scenarios/read_ready.npt"
expect2 "record: unknown workload" "$np" record frob --no-db
expect2 "record: bad --seconds" "$np" record echo --seconds -3 --no-db
expect2 "record: unwritable --out" "$np" record echo --seconds 0.1 --no-db --out "$dir/no/such/dir/x.npt"
expect2 "no command" "$np" frobnicate
for cmd in explore; do
    expect2 "$cmd: missing file" "$np" $cmd --no-db "$dir/nope.npt"
    expect2 "$cmd: a directory" "$np" $cmd --no-db "$dir"
    expect2 "$cmd: unknown option" "$np" $cmd --no-db "$traces/example.npt" --bogus
    expect2 "$cmd: no file" "$np" $cmd --no-db
done
sc=$traces/scenarios/read_ready.npt
expect2 "explore: unknown strategy" "$np" explore --no-db "$sc" --strategy bfs
expect2 "explore: bad --shard" "$np" explore --no-db "$sc" --shard 3/2
expect2 "explore: bad --shard form" "$np" explore --no-db "$sc" --shard 1
expect2 "explore: bad --depth" "$np" explore --no-db "$sc" --strategy pct --depth 0
expect2 "explore: bad --preemptions" "$np" explore --no-db "$sc" --preemptions -2
expect2 "explore: bad --jitter" "$np" explore --no-db "$sc" --jitter -1
expect2 "explore: unknown fault" "$np" explore --no-db "$sc" --faults gremlins
expect2 "explore: bad schedule" "$np" explore --no-db "$sc" --schedule 0.x.1
expect2 "merge: no --into" "$np" merge "$dir/a.db"
expect2 "merge: missing input" "$np" merge "$dir/nope.db" --into "$dir/m.db"
head -c 4096 /dev/urandom >"$dir/noise.db"
expect2 "merge: not SQLite" "$np" merge "$dir/noise.db" --into "$dir/m.db"
[ -e "$dir/m.db" ] && fail "merge left a half-written output"
ls "$dir"/m.db.merge-* >/dev/null 2>&1 && fail "merge left a temporary file"

# A full disk, simulated with a file-size limit: the existing files survive.
echo keep >"$dir/out.npt"
expect2 "replay --emit on a full disk" sh -c "ulimit -f 1; exec '$np' replay --no-db '$traces/workloads/echo.npt' --emit '$dir/out.npt'"
[ "$(cat "$dir/out.npt")" = keep ] || fail "the existing --emit file was changed"
ls "$dir"/out.npt.tmp* >/dev/null 2>&1 && fail "a temporary file was left behind"
"$np" replay "$traces/example.npt" --db "$dir/r.db" >/dev/null || fail "replay --db"
cp "$dir/r.db" "$dir/r.orig"
expect2 "replay --db on a full disk" sh -c "ulimit -f 8; exec '$np' replay '$traces/workloads/echo.npt' --db '$dir/r.db'"
n=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$dir/r.db")
[ "$n" = 1 ] || fail "the database gained or lost runs on a full disk ($n)"

# Input that is not a trace is refused at its first line, at once, in bounded
# memory (a stream is not read whole first); and there is a size limit.
# ASan reserves terabytes of address space: no ulimit -v there.
vlimit="ulimit -v 400000;"
sh -c "$vlimit exec '$np' --version" >/dev/null 2>&1 || vlimit=""
for cmd in replay explore compare; do
    expect2msg "$cmd: /dev/zero" "/dev/zero:1: " sh -c "$vlimit exec timeout 20 '$np' $cmd --no-db /dev/zero"
done
expect2msg "replay: an endless stream of blanks" "/dev/stdin:1: " sh -c \
    "tr '\\000' ' ' </dev/zero | { $vlimit exec timeout 20 '$np' replay --no-db /dev/stdin; }"
head -c 3000000 /dev/zero | tr '\000' 'a' >"$dir/aaa.npt"
expect2msg "replay: no header, no newline" "aaa.npt:1: missing header" "$np" replay --no-db "$dir/aaa.npt"
{ echo "netpoll-trace 1"; head -c 2000000 /dev/zero | tr '\000' '#'; echo; } >"$dir/longline.npt"
expect2msg "replay: a line over 1 MiB" "longline.npt:2: line longer than 1 MiB" "$np" replay --no-db "$dir/longline.npt"
{ echo "netpoll-trace 1"; i=0; while [ $i -lt 25000 ]; do
    echo "# a comment line of about a hundred bytes, to make the file larger than one MiB ......"
    i=$((i + 1)); done; echo "0 open pd=1 fd=3"; } >"$dir/big.npt"
"$np" replay --no-db "$dir/big.npt" >/dev/null || fail "a 2 MiB trace under the default limit"
expect2msg "replay: over NETPOLL_TRACE_MAX_MIB" "larger than the 1 MiB limit" env NETPOLL_TRACE_MAX_MIB=1 "$np" replay --no-db "$dir/big.npt"
expect2msg "replay: a stream over NETPOLL_TRACE_MAX_MIB" "/dev/stdin: larger than the 1 MiB limit" sh -c \
    "yes '#' | NETPOLL_TRACE_MAX_MIB=1 timeout 20 '$np' replay --no-db /dev/stdin"

# merge: the same file twice, or OUT among the inputs, is refused with every
# database as it was (files compared, not names)
"$np" replay "$traces/example.npt" --db "$dir/g.db" >/dev/null || fail "replay --db g.db"
"$np" replay "$traces/example.npt" --db "$dir/g.db" >/dev/null || fail "replay --db g.db"
cp "$dir/g.db" "$dir/m.db"
ln "$dir/g.db" "$dir/g_link.db"
expect2msg "merge: into its own input" "is the --into file" "$np" merge "$dir/g.db" --into "$dir/g.db"
expect2msg "merge: into an input by another name" "is the --into file" "$np" merge "$dir/m.db" "$dir/./g.db" --into "$dir/g_link.db"
expect2msg "merge: one input twice" "the same file" "$np" merge "$dir/g.db" "$dir/g.db" --into "$dir/new.db"
expect2msg "merge: one input twice, as a link" "the same file" "$np" merge "$dir/g.db" "$dir/g_link.db" --into "$dir/new.db"
[ "$(runs "$dir/g.db")" = 2 ] && [ "$(runs "$dir/m.db")" = 2 ] || fail "merge changed a database"
[ -e "$dir/new.db" ] && fail "merge wrote its output after refusing"
"$np" merge "$dir/g.db" --into "$dir/m.db" >/dev/null && [ "$(runs "$dir/m.db")" = 4 ] ||
    fail "merge of another file"

# netpoll runs and export: a missing or foreign database, an unknown run, a
# DIR that cannot be written, missing values: one line, exit 2, and nothing
# created (no database, no folder, no file in DIR)
expect2msg "runs: no results.db here" "results.db: No such file" "$np" runs
[ -e results.db ] && fail "runs created results.db"
expect2msg "runs: missing --db file" "nope.db: No such file" "$np" runs --db "$dir/nope.db"
[ -e "$dir/nope.db" ] && fail "runs created the database"
expect2msg "runs: not SQLite" "not an SQLite database" "$np" runs --db "$dir/noise.db"
expect2msg "runs: a folder" "not a file" "$np" runs --db "$dir"
expect2msg "runs: --db without a value" "--db needs a value" "$np" runs --db
expect2 "runs: unknown option" "$np" runs --bogus
/usr/bin/python3 -c "import sqlite3; c=sqlite3.connect('$dir/other.db'); c.execute('create table t(x)'); c.commit()"
expect2msg "runs: another application's database" "not netpoll's results" "$np" runs --db "$dir/other.db"
expect2msg "export: unknown run" "has no run 99 (its runs: 1 to 2" "$np" export --db "$dir/g.db" --run 99 --csv "$dir/x"
[ -e "$dir/x" ] && fail "export made DIR for an unknown run"
expect2msg "export: run 0" "--run wants a whole number from 1" "$np" export --db "$dir/g.db" --run 0 --csv "$dir/x"
expect2msg "export: run not a number" "--run wants" "$np" export --db "$dir/g.db" --run 1x --csv "$dir/x"
expect2msg "export: --run without a value" "--run needs a value" "$np" export --db "$dir/g.db" --run --csv "$dir/x"
expect2msg "export: --csv without a value" "--csv needs a value" "$np" export --db "$dir/g.db" --run 1 --csv
expect2msg "export: no --csv" "--run ID and --csv DIR are both needed" "$np" export --db "$dir/g.db" --run 1
expect2msg "export: no --run" "--run ID and --csv DIR are both needed" "$np" export --db "$dir/g.db" --csv "$dir/x"
expect2msg "export: missing database" "nope.db: No such file" "$np" export --db "$dir/nope.db" --run 1 --csv "$dir/x"
expect2msg "export: DIR's parent missing" "cannot make" "$np" export --db "$dir/g.db" --run 1 --csv "$dir/no/such/x"
expect2msg "export: DIR is a file" "not a folder" "$np" export --db "$dir/g.db" --run 1 --csv "$dir/noise.db"
expect2 "export: unknown option" "$np" export --db "$dir/g.db" --run 1 --csv "$dir/x" --bogus
[ -e "$dir/x" ] && fail "export made DIR after bad usage"
# a full disk (a file-size limit): the CSV files already there stay whole,
# no temporary file is left, and a folder export made is removed again
mkdir "$dir/csv" && echo keep >"$dir/csv/runs.csv"
"$np" replay "$traces/workloads/echo.npt" --db "$dir/big.db" >/dev/null || fail "replay --db big.db"
expect2msg "export on a full disk" "cannot write" sh -c "ulimit -f 1; exec '$np' export --db '$dir/big.db' --run 1 --csv '$dir/csv'"
[ "$(cat "$dir/csv/runs.csv")" = keep ] || fail "export on a full disk changed runs.csv"
[ "$(ls "$dir/csv")" = runs.csv ] || fail "export on a full disk left files: $(ls "$dir/csv")"
expect2 "export on a full disk, new DIR" sh -c "ulimit -f 1; exec '$np' export --db '$dir/big.db' --run 1 --csv '$dir/csv2'"
[ -e "$dir/csv2" ] && fail "export on a full disk left the folder it made"

# demo: a --traces folder that is not there fails before any work
expect2msg "demo: --traces missing" "--traces /nonexistent: no such folder" timeout 30 "$np" demo --traces /nonexistent --out "$dir/demo"
expect2msg "demo: --traces not a traces folder" "no corpus.tsv" timeout 30 "$np" demo --traces "$dir" --out "$dir/demo"
[ -e "$dir/demo" ] && fail "demo wrote to --out after a bad --traces"

# explore --schedule: every choice must be one the run had, none left over
expect2msg "explore: choices out of range" "choice 1 is 9, but the run had 2 options" "$np" explore --no-db "$sc" --schedule 9.9.9.9.9
expect2msg "explore: choices after the run ended" "but the run ended after" "$np" explore --no-db "$sc" --schedule 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0
bug=$traces/bugs/go59545_stale_error_event.npt
expect2msg "explore: choices after a failing schedule" "but the run ended after" "$np" explore --no-db "$bug" --design go1.18 --schedule 1.0.1
"$np" explore --no-db "$bug" --design go1.18 --schedule '' >/dev/null
[ $? -eq 1 ] || fail "explore: the failing schedule itself must still fail (exit 1)"

# numbers: the whole argument, in range, every command alike
for a in "--preemptions -1" "--preemptions 201" "--runs 0" "--runs 99999999999999999999" \
    "--runs 10x" "--runs ' 5'" "--runs +5" "--depth 99999999999999999999" "--seed -1" \
    "--seed 18446744073709551616" "--seconds 0" "--seconds nan" "--seconds inf" "--jitter 1e3"; do
    eval "expect2msg \"explore: \$a\" wants \"\$np\" explore --no-db \"\$sc\" $a"
done
expect2msg "replay: --seed too large" wants "$np" replay --no-db "$traces/example.npt" --seed 99999999999999999999
expect2msg "record: --workers 0" wants "$np" record echo --no-db --workers 0
expect2msg "record: --reserve -1" wants "$np" record echo --no-db --reserve -1
expect2msg "record: --seconds 1e999" wants "$np" record echo --no-db --seconds 1e999
expect2msg "demo: --seconds 0" wants "$np" demo --seconds 0 --out "$dir/demo"
expect2msg "echo: --conns 0" wants "$np" echo client --addr 127.0.0.1:1 --conns 0
expect2msg "echo: --rounds 99999999999999999999" wants "$np" echo client --addr 127.0.0.1:1 --rounds 99999999999999999999

# a missing option value is named, also when the next argument is an option
expect2msg "compare: --workload without a value" "--workload needs a value" "$np" compare "$traces/example.npt" --workload --db "$dir/g.db"
expect2msg "report: --db at the end" "--db needs a value" "$np" report --db
expect2msg "report: --out at the end" "--out needs a value" "$np" report --db "$dir/g.db" --out
for c in "--db replay $traces/example.npt --db" "--emit replay $traces/example.npt --emit" \
    "--design replay $traces/example.npt --design" "--seed replay $traces/example.npt --seed --no-db" \
    "--strategy explore $sc --strategy" "--runs explore $sc --runs --no-db" "--out record echo --out" \
    "--seconds record echo --seconds --no-db" "--into merge $dir/g.db --into" "--out demo --out" \
    "--traces demo --traces --out x" "--addr echo client --addr" "--db compare $traces/example.npt --db"; do
    set -- $c
    opt=$1
    shift
    expect2msg "$*" "$opt needs a value" "$np" "$@"
done

# replay --emit to a folder that is not there: the error before the replay
"$np" replay --no-db "$traces/example.npt" --emit "$dir/no/such/o.npt" >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && [ "$(wc -l <"$dir/err")" -eq 1 ] && [ ! -s "$dir/out" ] ||
    { cat "$dir/out" "$dir/err"; fail "replay --emit to no folder: want exit 2, one line, no result"; }
grep -q "cannot write" "$dir/err" || fail "replay --emit to no folder: the message"
echo "ok: replay --emit to no folder: $(cat "$dir/err")"
"$np" replay --no-db "$traces/example.npt" --emit "$dir/emitted.npt" >/dev/null || fail "replay --emit"
"$np" replay --no-db "$dir/emitted.npt" >/dev/null || fail "the emitted trace does not replay"
ls "$dir"/emitted.npt.tmp* >/dev/null 2>&1 && fail "--emit left a temporary file"
# netpoll check: its options, its folder, and its tables
expect2msg "check: --k out of range" "from 0 to 6" "$np" check --no-db --k 9
expect2msg "check: --k2 missing" "needs a value" "$np" check --no-db --k2 --quiet
expect2msg "check: --record-k out of range" "from 0 to 6" "$np" check --no-db --record-k 7
expect2msg "check: --record-k2 missing" "needs a value" "$np" check --no-db --record-k2 --quiet
expect2 "check: --record-k not a number" "$np" check --no-db --record-k two
expect2 "check: --seconds 0" "$np" check --no-db --seconds 0
expect2 "check: --shard 0/3" "$np" check --no-db --shard 0/3
expect2 "check: unknown design" "$np" check --no-db --design go9
expect2 "check: unknown judge" "$np" check --no-db --judge nobody
expect2 "check: unknown option" "$np" check --no-db --bogus
expect2 "check: no traces folder" "$np" check --no-db --traces "$dir/nope"
mkdir "$dir/tr"
expect2msg "check: no expected_findings.tsv" "expected_findings.tsv" "$np" check --no-db --traces "$dir/tr"
printf 'go1.18\n' >"$dir/tr/expected_findings.tsv"
expect2msg "check: a bad expected_findings.tsv" "expected_findings.tsv:1:" "$np" check --no-db --traces "$dir/tr"
expect2 "check: unwritable --verdicts" "$np" check --no-db --k 1 --verdicts "$dir/no/such/v.tsv"
# a check cut short is not clean: exit 3, and it says so
"$np" check --no-db --quiet --k 3 --seconds 0.2 >"$dir/cut.out" 2>&1
st=$?
[ $st -eq 3 ] || fail "check cut short: exit $st, want 3"
grep -q INCOMPLETE "$dir/cut.out" || fail "check cut short does not say INCOMPLETE"

# record killed (SIGKILL) at moments spread over its run and its write: the
# --out file is the one that was there, or a whole trace, never a part
echo keep >"$dir/rec.npt"
for ms in 100 300 350 400 430 460 500 550 650 800; do
    "$np" record echo --seconds 0.3 --no-db --out "$dir/rec.npt" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk "BEGIN { print $ms / 1000 }")"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ "$(cat "$dir/rec.npt")" = keep ] && continue
    "$np" replay --no-db "$dir/rec.npt" >/dev/null 2>&1
    [ $? -ne 2 ] || fail "record killed after $ms ms left a trace that does not parse"
    echo keep >"$dir/rec.npt"
done
echo "cli_bad_input: ok"
