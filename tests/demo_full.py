#!/usr/bin/env python3
"""ctest demo_full: `netpoll demo --seconds 1` (0.3 under a sanitizer:
NETPOLL_TEST_LIGHT=1) into a temporary folder, then
checks what it wrote:

  - bad options: one line on stderr, exit 2;
  - the demo exits 0;
  - results.db has live runs of every workload, replay and compare runs of
    each recording with zero divergences, explore runs of every scenario under
    go1.18 and go1.21 with dfs and random (and pct where the explorer has it),
    explore runs of the corpus, and a bench run with the netpoll contenders;
  - results.db stays small: under 10 MB, no outcome per wait, the
    distributions as histograms (timing_hist, timing_series);
  - the corpus replays give the verdicts of traces/corpus.tsv under go1.18
    and go1.21;
  - every expected file: results.db, traces/W.npt, logs/STAGE.log, and, if
    `netpoll report` and matplotlib are available, report.html and its plots
    (otherwise the test says that they are skipped).

usage: demo_full.py NETPOLL TRACES_DIR
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

WORKLOADS = ["echo", "deadline-churn", "close-race", "accept-churn"]
DESIGNS = ["go1.18", "go1.21"]
STAGES = ["record", "replay", "explore", "bench", "report"]

np_bin, traces = sys.argv[1], os.path.realpath(sys.argv[2])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run([np_bin] + args, capture_output=True, text=True, **kw)


tmp = tempfile.mkdtemp(prefix="demo_full.")
try:
    # bad options: one line, exit 2, nothing written
    never = os.path.join(tmp, "never")
    for bad in (["--frobnicate", "--out", never], ["--seconds", "0", "--out", never],
                ["--seconds", "x", "--out", never], ["--out"]):
        r = run(["demo"] + bad)
        check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
              f"demo {' '.join(bad)}: want exit 2 and one line, got {r.returncode}: {r.stderr!r}")
    check(not os.path.exists(never), "a bad option still wrote DIR")

    out = os.path.join(tmp, "out")
    # NETPOLL_TEST_LIGHT=1 (sanitizer builds): shorter recordings and budgets.
    secs = "0.3" if os.environ.get("NETPOLL_TEST_LIGHT") == "1" else "1"
    r = run(["demo", "--seconds", secs, "--out", out], timeout=280)
    print(r.stdout, end="")
    print(r.stderr, end="", file=sys.stderr)
    check(r.returncode == 0, f"demo exited {r.returncode}")
    check("summary" in r.stdout and "demo: ok" in r.stdout, "no summary / 'demo: ok' line")

    db = os.path.join(out, "results.db")
    check(os.path.isfile(db), "no results.db")
    con = sqlite3.connect(db)
    q = lambda sql, *a: con.execute(sql, a).fetchall()
    # the store's size: distributions as histograms, one copy of each series,
    # no outcome per wait unless asked (a default demo, at 2 s, stays under
    # 20 MB; this one runs 1 s). Schema version 3 wrote about 80 MB here.
    size = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    check(size <= 10 * 1024 * 1024, f"results.db is {size / 1048576:.1f} MB, over 10 MB")
    check(q("SELECT count(*) FROM outcomes") == [(0,)], "outcomes stored without --outcomes")
    check(q("SELECT count(*) FROM timing WHERE kind != 'lateness_dependent_outcomes'") == [(0,)],
          "samples stored one row each in timing")
    for kind in ("deadline_lateness", "sim_wake_delay", "wake_latency_live", "wake_latency_sim"):
        check(q("SELECT count(*) FROM timing_hist WHERE kind = ?", kind)[0][0] > 0,
              f"no histogram of {kind}")
    check(q("SELECT count(*) FROM timing_series WHERE kind = 'wake_latency_live'")[0][0] > 0,
          "no series of the live wake latency")

    # live runs and their replays
    for w in WORKLOADS:
        t = os.path.join(out, "traces", w + ".npt")
        check(os.path.isfile(t), f"no trace {t}")
        live = q("SELECT trace, status FROM runs WHERE kind = 'live' AND workload = ?", w)
        check(len(live) == 1 and live[0][1] == 0, f"live run of {w}: {live}")
        if not live:
            continue
        for kind in ("replay", "compare"):
            rows = q("SELECT status, divergences, violations FROM runs WHERE kind = ? AND trace = ?",
                     kind, live[0][0])
            check(len(rows) == 1, f"{kind} runs of the {w} recording: {rows}")
            for st, div, vio in rows:
                check(st == 0 and div == 0 and vio == 0,
                      f"{kind} of the {w} recording: status {st}, {div} divergences, {vio} violations")

    # corpus verdicts
    expected = 0
    with open(os.path.join(traces, "corpus.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, _, v18, v21, _ = line.split()
            for design, want in zip(DESIGNS, (int(v18), int(v21))):
                expected += 1
                rows = q("SELECT status FROM runs WHERE kind = 'replay' AND design = ? AND trace = ?",
                         design, os.path.join(traces, name))
                check([r[0] for r in rows] == [want],
                      f"corpus {name} under {design}: want status {want}, got {rows}")
    check(expected >= 30, f"only {expected} corpus verdicts in corpus.tsv")

    # exploration
    pct = run(["explore", os.path.join(traces, "scenarios", "read_ready.npt"), "--strategy", "pct",
               "--runs", "1", "--no-db"])
    strategies = ["dfs", "random"] + (["pct"] if pct.returncode != 2 else [])
    if pct.returncode == 2:
        print("note: the explorer has no pct strategy: pct runs not required")
    scen = sorted(f for f in os.listdir(os.path.join(traces, "scenarios")) if f.endswith(".npt"))
    check(len(scen) >= 15, f"only {len(scen)} scenarios")
    for s in scen:
        path = os.path.join(traces, "scenarios", s)
        for design in DESIGNS:
            got = {r[0] for r in q("SELECT e.strategy FROM runs r JOIN explore_stats e ON e.run_id = r.id "
                                   "WHERE r.kind = 'explore' AND r.design = ? AND r.trace = ?",
                                   design, path)}
            check(set(strategies) <= got, f"explore {s} under {design}: strategies {sorted(got)}")
    bugs = q("SELECT count(*) FROM runs WHERE kind = 'explore' AND trace LIKE ?",
             os.path.join(traces, "bugs") + "/%")[0][0]
    check(bugs >= 2 * 17, f"only {bugs} explore runs of the corpus")

    # benchmarks
    bench = q("SELECT id FROM runs WHERE kind = 'bench'")
    check(len(bench) == 1, f"bench runs: {bench}")
    if bench:
        got = {r[0] for r in q("SELECT contender FROM bench WHERE run_id = ? AND metric = 'req_per_s' "
                               "AND value > 0", bench[0][0])}
        check({"netpoll-w1", "netpoll-w2", "epoll-raw"} <= got, f"bench contenders: {sorted(got)}")
        print("bench contenders:", ", ".join(sorted(got)))
    con.close()

    # files
    for s in STAGES:
        check(os.path.isfile(os.path.join(out, "logs", s + ".log")), f"no logs/{s}.log")
    rep = run(["report", "--help"])
    try:
        import matplotlib  # noqa: F401
        have_mpl = True
    except ImportError:
        have_mpl = False
    if rep.returncode == 0 and have_mpl:
        html = os.path.join(out, "report.html")
        check(os.path.isfile(html), "no report.html")
        pngs = [os.path.join(dp, f) for dp, _, fs in os.walk(out) for f in fs if f.endswith(".png")]
        check(len(pngs) > 0, "no plots (*.png)")
        if os.path.isfile(html):
            for src in re.findall(r'<img[^>]*src="([^"]+)"', open(html).read()):
                if not src.startswith("data:"):
                    check(os.path.isfile(os.path.join(out, src)), f"report.html: missing {src}")
        print(f"report.html and {len(pngs)} plots checked")
    else:
        print("skipped: report.html and the plots ("
              + ("`netpoll report` is not in this build" if rep.returncode != 0
                 else "matplotlib is not installed") + ")")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if failures:
    print(f"demo_full: {len(failures)} failure(s)")
    sys.exit(1)
print("demo_full: ok")
