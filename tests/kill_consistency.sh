#!/bin/sh
# Crash consistency of the results store and of the trace files: netpoll
# record, replay, explore, check and merge are killed with SIGKILL at random
# (seeded) moments while they write into a database that already holds runs.
# After every kill: PRAGMA integrity_check is ok; every run that was there
# before is intact (its row count and checksum per table, and at the end a
# SHA-256 of its rows); the killed command's run is absent or complete (it
# ended, and holds what an unkilled run of the same command holds); the trace
# files that record --out and replay --emit write are the ones that were
# there or whole new ones. Also a writer killed after its commit (its WAL not
# yet checkpointed) loses nothing to a later merge.
#
# usage: kill_consistency.sh NETPOLL TRACES_DIR [SEED]   (seed: NETPOLL_KILL_SEED, else 17)
# NETPOLL_TEST_LIGHT=1 (sanitizer builds): 60 kills, smaller explorations.
set -u
exec /usr/bin/python3 - "$@" <<'PY'
import glob, hashlib, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, time

np, traces = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("NETPOLL_KILL_SEED", "17"))
light = os.environ.get("NETPOLL_TEST_LIGHT") == "1"
per_cmd = 12 if light else 24   # kills per command, 5 commands: >= 100 in the full builds
rng = random.Random(seed)
work = tempfile.mkdtemp(prefix="kill_consistency.")
db = os.path.join(work, "results.db")
# explored with dfs: the four-actor scenario with at most 2 preemptions
# (0.15 s), or under sanitizers (where every step costs 10-100 times more) a
# three-actor one with at most 1 (0.12 s under ASan)
scenario = os.path.join(traces, "scenarios",
                        "read_ready_timer.npt" if light else "read_ready_timer_close.npt")
bound = ["--preemptions", "1" if light else "2"]
# netpoll check: the enumerated scenarios up to 2 stimuli under every design
# (0.2 s), under sanitizers up to 1 (k = 2 takes 30 s under ASan)
check_k = "1" if light else "2"
# (a netpoll check that also runs the simulated machine's programs by default
# runs only the enumeration here: --no-programs, where check has it)
helptext = subprocess.run([np, "check", "--help"], capture_output=True, text=True).stdout
no_programs = ["--no-programs"] if "--no-programs" in helptext else []
t_start = time.monotonic()


def fail(msg):
    print(f"FAIL (seed {seed}): {msg}", flush=True)
    print(f"(the files are kept in {work})")
    sys.exit(1)


def unexpected(kind, value, tb):  # a database that cannot be read is a failure too
    import traceback
    traceback.print_exception(kind, value, tb)
    fail(f"{kind.__name__}: {value}")


sys.excepthook = unexpected


def run(args, ok=(0, 1)):
    p = subprocess.run([np] + args, cwd=work, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode not in ok:
        fail(f"netpoll {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.returncode


def connect(path=db):
    return sqlite3.connect(path, timeout=10)


def tables(c):
    """The tables that hold rows of a run (run_id), in a fixed order."""
    out = []
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        cols = [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
        if "run_id" in cols:
            out.append((t, [x for x in cols if x != "run_id"]))
    return out


def checksums(c):
    """{run id: (runs row, {table: (rows, sum of rowids)})}: cheap enough to
    take after every kill (the contents: sha() below)."""
    res = {}
    for row in c.execute("SELECT * FROM runs ORDER BY id"):
        res[row[0]] = (row, {})
    for t, cols in tables(c):
        for rid, n, s in c.execute(f"SELECT run_id, count(*), sum(rowid) FROM {t} "
                                   "GROUP BY run_id"):
            if rid not in res:
                fail(f"table {t} holds rows of run {rid}, which has no runs row")
            res[rid][1][t] = (n, s)
    return res


def sha(c, rid):
    """A SHA-256 of every row of run rid, table by table, in rowid order."""
    h = hashlib.sha256(repr(c.execute("SELECT * FROM runs WHERE id = ?", (rid,)).fetchall())
                       .encode())
    for t, _ in tables(c):
        for row in c.execute(f"SELECT * FROM {t} WHERE run_id = ? ORDER BY rowid", (rid,)):
            h.update(repr(row).encode())
    return h.hexdigest()


def counts(entry, skip=()):
    return {t: n for t, (n, _) in entry[1].items() if t not in skip}


def file_sum(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


# The database with runs already in it, and what the merges will read.
run(["record", "echo", "--seconds", "0.02", "--out", "base.npt", "--db", db])
run(["replay", "base.npt", "--db", db])
run(["explore", scenario, "--quiet", "--db", db] + bound)
run(["check", "--k", "1", "--k2", "0", "--enumerated-only", "--quiet", "--db", db] + no_programs)
shards = os.path.join(work, "shards.db")
for i in (1, 2):
    run(["explore", scenario, "--quiet", "--shard", f"{i}/2", "--db", shards] + bound)
run(["replay", "base.npt", "--db", shards])

# A writer killed after its commit, before it closed: its commit is only in
# the WAL. A merge into that database must keep it (a copy of the database
# file renamed over it lost it, and the stale WAL then overwrote the merge).
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    w = sqlite3.connect(db, isolation_level=None)
    w.execute("INSERT INTO runs (kind, params, started_at, ended_at, status, events) VALUES "
              "('replay', 'netpoll replay wal-only.npt', '2026-01-01T00:00:00Z', "
              "'2026-01-01T00:00:01Z', 0, 0)")
    os.kill(os.getpid(), signal.SIGKILL)
os.waitpid(pid, 0)
if not os.path.exists(db + "-wal"):
    fail("the killed writer left no WAL (the case is not set up)")
before = checksums(connect())
run(["merge", shards, "--into", db])
c = connect()
after = checksums(c)
for rid, entry in before.items():
    if after.get(rid) != entry:
        fail(f"merge into a database with a killed writer's WAL lost or changed run {rid}")
if len(after) != len(before) + len(checksums(connect(shards))) + 1:
    fail(f"merge: {len(after) - len(before)} runs added")
print(f"ok: a merge keeps the commit of a writer killed before it closed ({len(after)} runs)")

# Each command once, unkilled: its duration, and what a complete run of it holds.
sc_emit = os.path.join(work, "emit.npt")
commands = {
    "record": ["record", "echo", "--seconds", "0.02", "--out", "rec.npt", "--db", db],
    "replay": ["replay", "base.npt", "--emit", "emit.npt", "--db", db],
    "explore": ["explore", scenario, "--quiet", "--db", db] + bound,
    "check": ["check", "--k", check_k, "--k2", "0", "--enumerated-only", "--quiet", "--db", db]
    + no_programs,
    "merge": ["merge", shards, "--into", db],
}
shard_runs = [r[0] for r in connect(shards).execute("SELECT params FROM runs ORDER BY id")]
shard_counts = {}
for rid, entry in checksums(connect(shards)).items():
    for t, (n, _) in entry[1].items():
        shard_counts[t] = shard_counts.get(t, 0) + n
ref, dur = {}, {}
for name, args in commands.items():
    ids0 = set(checksums(connect()))
    t0 = time.monotonic()
    run(args)
    dur[name] = time.monotonic() - t0
    now = checksums(connect())
    new = sorted(set(now) - ids0)
    if name != "merge" and len(new) != 1:
        fail(f"{name}: an unkilled run added {len(new)} runs")
    ref[name] = now[new[0]] if name != "merge" else None
emit_ref = file_sum(sc_emit)
print("durations: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in dur.items()))

c = connect()
known = checksums(c)
hashes = {rid: sha(c, rid) for rid in known}
c.close()


def check_trace(path, before):
    """A trace file is the one that was there, or a whole trace."""
    now = file_sum(path)
    if now is None or now == before:
        return now
    p = subprocess.run([np, "replay", "--no-db", path], cwd=work, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        fail(f"{path} is neither the old file nor a whole trace: {p.stderr.strip()}")
    return now


def wakes_and_events(path):
    n_wake = n_ev = 0
    with open(path) as f:
        for line in f:
            s = line.split()
            if not s or s[0].startswith("#") or s[0] == "netpoll-trace":
                continue
            n_ev += 1
            n_wake += s[1] == "wake"
    return n_wake, n_ev


def check_all_sha(c, when):
    for rid, h in hashes.items():
        if sha(c, rid) != h:
            fail(f"{when}: run {rid}: its rows changed (SHA-256)")


kills = finished = present = leftovers = 0
done = {name: 0 for name in commands}
tries = 0
while min(done.values()) < per_cmd:
    # the commands in a seeded random order, each until it was killed per_cmd
    # times (a run that ends before its kill does not count)
    name = rng.choice([n for n in commands if done[n] < per_cmd])
    tries += 1
    if tries > 8 * per_cmd * len(commands):
        fail(f"too many runs ended before their kill: {done}")
    t = dur[name]
    # half of the moments anywhere in the run, half in its last part (where
    # the database and the trace files are written), some after its end
    delay = rng.uniform(0, 1.05 * t) if tries % 2 else rng.uniform(0.55 * t, 1.05 * t)
    rec_before, emit_before = file_sum(os.path.join(work, "rec.npt")), file_sum(sc_emit)
    t0 = time.monotonic()
    p = subprocess.Popen([np] + commands[name], cwd=work, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    rc = p.wait()
    killed = rc == -signal.SIGKILL
    kills += killed
    done[name] += killed
    finished += not killed
    if not killed:  # the machine is faster now: aim earlier
        dur[name] = 0.5 * dur[name] + 0.5 * (time.monotonic() - t0)
        if rc not in (0, 1):
            fail(f"{name}: exit {rc} without a kill")

    c = connect()
    ic = c.execute("PRAGMA integrity_check").fetchall()
    if ic != [("ok",)]:
        fail(f"after killing {name} at {delay * 1000:.1f} ms: integrity_check: {ic[:5]}")
    now = checksums(c)
    for rid, entry in known.items():
        if now.get(rid) != entry:
            fail(f"after killing {name} at {delay * 1000:.1f} ms: earlier run {rid} changed or "
                 f"is gone: {entry} -> {now.get(rid)}")
    new = sorted(set(now) - set(known))
    if not new and not killed:
        fail(f"{name} finished (exit {rc}) and stored no run")
    what = f"{name} {'killed' if killed else 'finished'} at {delay * 1000:.1f} ms"
    for rid in new:
        row = now[rid][0]
        if row[11] is None or row[12] is None:  # ended_at, status
            fail(f"{what}: run {rid} is unfinished: {row}")
    if name == "merge":
        if new:
            params = [now[rid][0][9] for rid in new]
            if params[: len(shard_runs)] != shard_runs or len(params) > len(shard_runs) + 1:
                fail(f"{what}: merge added runs {params}, want {shard_runs} (+ a merged one)")
            got = {}
            for rid in new[: len(shard_runs)]:
                for t, n in counts(now[rid]).items():
                    got[t] = got.get(t, 0) + n
            if got != shard_counts:
                fail(f"{what}: the merged runs hold {got}, the input {shard_counts}")
    elif len(new) > 1:
        fail(f"{what}: {len(new)} runs added")
    elif new:
        got = now[new[0]]
        if name == "record":
            rec = os.path.join(work, "rec.npt")
            wakes, events = wakes_and_events(rec)
            if got[0][13] != events or counts(got).get("outcomes", 0) not in (0, wakes):
                fail(f"{what}: its run has {got[0][13]} events and {counts(got)}; rec.npt "
                     f"{events} events, {wakes} wakes")
        else:
            skip = ("explore_progress",)  # sampled by time
            if counts(got, skip) != counts(ref[name], skip):
                fail(f"{what}: its run holds {counts(got)}, an unkilled one {counts(ref[name])}")
    present += bool(new)
    # the trace files: the old one or a whole one, never a part
    check_trace(os.path.join(work, "rec.npt"), rec_before)
    emit_now = file_sum(sc_emit)
    if emit_now not in (emit_before, emit_ref):
        fail(f"{what}: emit.npt is neither the old file nor the whole trace")
    for rid in new:
        known[rid] = now[rid]
        hashes[rid] = sha(c, rid)
    if kills % 40 == 0 and killed:
        check_all_sha(c, f"after {kills} kills")
    c.close()
    # what a kill may leave: temporary files (documented), removed here
    for f in set(glob.glob(os.path.join(work, "*.tmp*")) + glob.glob(os.path.join(work, "*.merge-*"))):
        leftovers += 1
        os.unlink(f)

c = connect()
check_all_sha(c, "at the end")
if c.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
    fail("integrity_check at the end")
n = c.execute("SELECT count(*) FROM runs").fetchone()[0]
c.close()
print(f"kills: " + ", ".join(f"{k} {v}" for k, v in done.items()))
print(f"kill_consistency: ok, seed {seed}: {kills} kills and {finished} runs that ended first, "
      f"{present} of them with a run stored (complete); {len(hashes)} runs intact by SHA-256, "
      f"{n} in the database; {leftovers} temporary files left by kills; "
      f"{time.monotonic() - t_start:.1f} s")
shutil.rmtree(work)
PY
