#!/bin/sh
# The simulated machine from the command line (netpoll explore --program):
# bad input (one line on stderr, exit 2), a clean program, the self-test's
# finding and its schedule replayed to the same finding, a cut-short dfs
# (exit 3), and the run in the results database.
# usage: machine_cli.sh NETPOLL
set -u
np=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect2() { # expect2 WHAT CMD... : exit 2 and exactly one line on stderr
    what=$1; shift
    "$@" >"$dir/out" 2>"$dir/err"
    st=$?
    [ $st -eq 2 ] || { cat "$dir/out" "$dir/err"; fail "$what: exit $st, want 2"; }
    [ "$(wc -l <"$dir/err")" -eq 1 ] || { cat "$dir/err"; fail "$what: want one line on stderr"; }
    echo "ok: $what: $(cat "$dir/err")"
}
cd "$dir"

expect2 "unknown program" "$np" explore --program nosuch --no-db
expect2 "no program name" "$np" explore --program
expect2 "--workers 0" "$np" explore --program pingpong --workers 0 --no-db
expect2 "--workers 4" "$np" explore --program pingpong --workers 4 --no-db
expect2 "--workers x" "$np" explore --program pingpong --workers x --no-db
expect2 "--strategy" "$np" explore --program pingpong --strategy bfs --no-db
expect2 "--preemptions -1" "$np" explore --program pingpong --preemptions -1 --no-db
expect2 "--runs 0" "$np" explore --program pingpong --strategy random --runs 0 --no-db
expect2 "--buffer 0" "$np" explore --program pingpong --buffer 0 --no-db
expect2 "a trace option" "$np" explore --program pingpong --jitter 5 --no-db
expect2 "--schedule garbage" "$np" explore --program pingpong --schedule 'x.y' --no-db
expect2 "--schedule thread 9" "$np" explore --program pingpong --schedule '9*3' --no-db
expect2 "--schedule off the program" "$np" explore --program pingpong --schedule '0*5.2*5' --no-db
expect2 "unknown design" "$np" explore --program pingpong --design go9 --no-db

"$np" explore --program list >out || fail "list: exit $?"
for p in pingpong accept_close double_close write_close timers_idle handoff readers_close \
    readers_idle_close shutdown_eof write_deadline outside_wake spread par_ready par_poll2 \
    par_busy lost_update; do
    grep -q "^$p " out || fail "list: no $p"
done
echo "ok: list"

# a clean program, exhaustively within the bound, on 1 and 2 workers (no
# preemption under a sanitizer: NETPOLL_TEST_LIGHT)
pb=1
[ "${NETPOLL_TEST_LIGHT:-0}" = 1 ] && pb=0
for w in 1 2; do
    "$np" explore --program pingpong --workers $w --preemptions $pb --no-db >out
    st=$?
    [ $st -eq 0 ] || { cat out; fail "pingpong on $w workers: exit $st"; }
    grep -q "every schedule within the bound" out || { cat out; fail "pingpong: not complete"; }
    echo "ok: pingpong on $w worker(s): $(tail -1 out | sed 's/.*: //')"
done

# the self-test: found, with a schedule that replays to the same finding
"$np" explore --program lost_update --workers 2 --strategy random --seed 7 --no-db >out
st=$?
[ $st -eq 1 ] || { cat out; fail "lost_update: exit $st, want 1"; }
grep -q "^finding: assertion: two additions made the counter 1" out || { cat out; fail "lost_update: no finding"; }
grep -q "programs.c:" out || { cat out; fail "lost_update: the listing names no file:line"; }
sched=$(sed -n 's/^  schedule: //p' out)
[ -n "$sched" ] || fail "lost_update: no schedule"
"$np" explore --program lost_update --workers 2 --schedule "$sched" --no-db >out2
st=$?
[ $st -eq 1 ] || { cat out2; fail "lost_update replay: exit $st, want 1"; }
grep -q "^finding: assertion: two additions made the counter 1" out2 || { cat out2; fail "replay: another outcome"; }
echo "ok: lost_update found and replayed ($sched)"

# computing tasks (mx_busy): par_busy's false statement of parallelism is
# found as lost-parallelism (not a lost wake-up, not a deadlock: the clock
# moves to the end of a computation) and replays; par_poll2 is clean on 2
# workers, every schedule without preemption
"$np" explore --program par_busy --workers 2 --strategy random --seed 3 --no-db >out
st=$?
[ $st -eq 1 ] || { cat out; fail "par_busy: exit $st, want 1"; }
grep -q "^finding: lost-parallelism: self-test" out || { cat out; fail "par_busy: no lost-parallelism"; }
sched=$(sed -n 's/^  schedule: //p' out)
"$np" explore --program par_busy --workers 2 --schedule "$sched" --no-db >out2
st=$?
[ $st -eq 1 ] || { cat out2; fail "par_busy replay: exit $st, want 1"; }
grep -q "^finding: lost-parallelism" out2 || { cat out2; fail "par_busy replay: another outcome"; }
"$np" explore --program par_poll2 --workers 2 --preemptions 0 --no-db >out
st=$?
[ $st -eq 0 ] || { cat out; fail "par_poll2 on 2 workers: exit $st"; }
grep -q "every schedule within the bound" out || { cat out; fail "par_poll2: not complete"; }
echo "ok: par_busy found and replayed ($sched), par_poll2 clean"

# cut short: never "clean"
"$np" explore --program pingpong --workers 3 --preemptions 2 --seconds 0.5 --no-db >out
st=$?
[ $st -eq 3 ] || { cat out; fail "cut short: exit $st, want 3"; }
grep -q INCOMPLETE out || { cat out; fail "cut short: not said"; }
echo "ok: cut short is exit 3"

# the run in the results database
"$np" explore --program timers_idle --workers 2 --strategy pct --runs 50 --db r.db >out ||
    { cat out; fail "timers_idle pct: exit $?"; }
n=$(/usr/bin/python3 -c "import sqlite3; print(sqlite3.connect('r.db').execute(\"select count(*) from runs where backend='machine' and workload like 'program:timers_idle%'\").fetchone()[0])")
[ "$n" = 1 ] || fail "the database holds $n machine runs, want 1"
echo "ok: database"
echo "machine_cli: all ok"
