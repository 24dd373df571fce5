#!/usr/bin/env python3
"""A small results database with rows in every table, for the report's tests.

usage: make_fixture.py SCHEMA.sql OUT.db [--empty]

The schema is cli/schema.sql itself (user_version 4). --empty: the schema
and no rows. Deterministic (a fixed seed). The corpus and scenario traces
are named by their absolute paths in the source tree that holds SCHEMA.sql
(as version 4 stores them; the report finds the corpus's expectations
beside them), the recordings by a relative name. Standard library only.
"""

import os
import random
import sqlite3
import sys


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--empty"):
        print("usage: make_fixture.py SCHEMA.sql OUT.db [--empty]", file=sys.stderr)
        return 2
    schema, path = argv[0], argv[1]
    traces = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(schema))), "traces")
    db = sqlite3.connect(path)
    with open(schema, encoding="utf-8") as f:
        db.executescript(f.read())
    db.execute("PRAGMA user_version = 4")
    if len(argv) == 3:
        db.commit()
        return 0
    rnd = random.Random(6)

    def run(kind, backend, design, workload, trace, status=0, events=100, div=0, viol=0,
            seed=None):
        c = db.execute(
            "INSERT INTO runs (kind, backend, design, workload, trace, seed, git_rev, machine, "
            "params, started_at, ended_at, status, events, divergences, violations) "
            "VALUES (?,?,?,?,?,?,'fixture','fixture machine','netpoll fixture',"
            "'2024-01-01T00:00:00Z','2024-01-01T00:00:01Z',?,?,?,?)",
            (kind, backend, design, workload, trace, seed, status, events, div, viol))
        return c.lastrowid

    def timing(rid, kind, values, g=0, pd=0):
        db.executemany("INSERT INTO timing (run_id, kind, g, pd, value_ns) VALUES (?,?,?,?,?)",
                       [(rid, kind, g, pd, int(v)) for v in values])

    # live recordings, then their comparisons
    for w, deadline_ns in (("echo", 5_000_000_000), ("deadline-churn", 1_000_000)):
        live = run("live", "epoll", "go1.21", w, w + ".npt", events=5000)
        db.executemany(
            "INSERT INTO outcomes (run_id, seq, g, pd, mode, result, wall_ns, wait_ns, "
            "deadline_ns) VALUES (?,?,?,?,?,?,?,?,?)",
            [(live, i, 1 + i % 3, 1 + i % 3, "r", "ok" if i % 4 else "timeout",
              1000 * i, -1, 0) for i in range(20)])
        if w == "deadline-churn":
            timing(live, "deadline_lateness", [rnd.lognormvariate(10.5, 0.8) for _ in range(150)])
        cmp_ = run("compare", "sim", "go1.21", w, w + ".npt", events=5000,
                   div=1 if w == "echo" else 0, status=1 if w == "echo" else 0)
        live_lat = [0 if rnd.random() < 0.5 else rnd.lognormvariate(9.5, 1.2) for _ in range(300)]
        sim_lat = [0 if rnd.random() < 0.8 else v * 0.8 for v in live_lat]
        timing(cmp_, "wake_latency", live_lat)
        timing(cmp_, "wake_latency_live", live_lat, g=1, pd=1)
        timing(cmp_, "wake_latency_sim", sim_lat, g=1, pd=1)
        if w == "deadline-churn":
            timing(cmp_, "deadline_lateness_trace",
                   [rnd.lognormvariate(10.5, 0.8) for _ in range(150)])
            timing(cmp_, "deadline_span", [deadline_ns + rnd.randint(-500, 500)
                                           for _ in range(150)])
        timing(cmp_, "lateness_dependent_outcomes", [2])
        # the live wake latency per 10 ms window over a 0.2 s run
        db.executemany("INSERT INTO timing_series (run_id, kind, t_ns, window_ns, count, p50_ns, "
                       "p99_ns, max_ns) VALUES (?,?,?,?,?,?,?,?)",
                       [(cmp_, "wake_latency_live", k * 10_000_000, 10_000_000, 15,
                         0 if w == "echo" or k % 5 == 0 else 300 + 20 * k, 20_000 + 900 * k,
                         60_000 + 5_000 * (k % 7)) for k in range(20)])
        if w == "echo":
            db.execute("INSERT INTO violations (run_id, name, detail) VALUES (?,?,?)",
                       (cmp_, "divergence", "divergence: g=3 pd=2 mode=r: ok, recorded timeout"))

    # a check run (three designs) and a mutation run
    ck = run("check", "sim", "all", None, "traces", events=300)
    db.executemany("INSERT INTO check_designs (run_id, design, scenarios, enumerated, executions, "
                   "expected, unexpected, elapsed_ns) VALUES (?,?,?,?,?,?,?,?)",
                   [(ck, "go1.21", 100, 80, 50000, 0, 0, 2_000_000_000),
                    (ck, "go1.18", 100, 80, 40000, 3, 0, 1_500_000_000),
                    (ck, "go1.5", 100, 80, 30000, 3, 0, 1_000_000_000)])
    mu = run("mutation", "sim", "all", None, "tests/mutants/results.tsv", events=6)
    db.executemany("INSERT INTO mutants (run_id, mutant, operator, function, set_name, verdict, "
                   "seconds) VALUES (?,?,?,?,?,?,?)",
                   [(mu, "pd_001_a", "constant", "check_err", "tuning", "caught", 1.0),
                    (mu, "pd_002_b", "condition", "unblock", "heldout", "caught", 2.0),
                    (mu, "pd_003_c", "removal", "rearm_lazy", "heldout", "survived", 60.0),
                    (mu, "pd_004_d", "swap", "poll_event", "tuning", "equivalent", 60.0),
                    (mu, "pd_005_e", "memory", "block", "tuning", "caught", 3.0),
                    (mu, "pd_006_f", "design", "check_err", "heldout", "caught", 1.0)])

    # a replay of a historical bug under two designs: under go1.18 a
    # divergence and a violation, both expected (traces/corpus_findings.tsv)
    for design in ("go1.18", "go1.21"):
        bad = design == "go1.18"
        rp = run("replay", "sim", design, None, os.path.join(traces, "bugs/go59545_stale_error_event.npt"),
                 status=1 if bad else 0, events=12, viol=1 if bad else 0, div=1 if bad else 0)
        db.execute("INSERT INTO outcomes (run_id, seq, g, pd, mode, result, recorded, "
                   "virtual_ns, wait_ns, deadline_ns) VALUES (?,0,1,1,'r',?,'ok',500,100,0)",
                   (rp, "notpollable" if bad else "ok"))
        if bad:
            db.execute("INSERT INTO violations (run_id, name, detail) VALUES (?,?,?)",
                       (rp, "stale-event", "violation: stale-event: pd=1 tag=1 current=2"))
            db.execute("INSERT INTO violations (run_id, name, detail) VALUES (?,?,?)",
                       (rp, "divergence", "divergence: g=1 pd=1 mode=r: notpollable, "
                        "recorded ok"))

    # explorations: sixteen scenarios, two designs, three strategies
    for sc in ("read_ready", "read_timer_close", "read_close", "read_timer", "read_ready_close",
               "read_ready_timer", "read_ready_timer_close", "read_ready_timer_close_mover",
               "write_ready", "write_close", "write_timer", "write_timer_close",
               "write_ready_close", "write_ready_timer", "write_ready_timer_close",
               "read_deadline_leaves_write_alone"):
        for design in ("go1.21", "go1.5"):
            for strat in ("dfs", "pct", "random"):
                bad = design == "go1.5" and sc == "read_timer_close" and strat == "dfs"
                ex = run("explore", "sim", design, None, os.path.join(traces, "scenarios/%s.npt" % sc),
                         status=1 if bad else 0, events=6, viol=1 if bad else 0,
                         seed=None if strat == "dfs" else 7)
                total, states, pts = 0, 0, []
                for k in range(1, 9):
                    total = k * (40 if strat == "dfs" else 25)
                    states = min(60, states + rnd.randint(1, 12 if strat != "random" else 6))
                    pts.append((ex, total, states, total * 20000))
                db.executemany("INSERT INTO explore_progress (run_id, executions, states, "
                               "elapsed_ns) VALUES (?,?,?,?)", pts)
                db.execute("INSERT INTO explore_stats (run_id, strategy, executions, "
                           "distinct_states, race_pairs, elapsed_ns) VALUES (?,?,?,?,?,?)",
                           (ex, strat, total, states, rnd.randint(2, 9), total * 20000))
                classes = ["g1: ok", "g1: timeout", "g1: ok | g2: closing", "g1: closing"]
                n = 2 + (sc == "read_timer_close") + (design == "go1.5")
                db.executemany("INSERT INTO outcome_classes (run_id, class, count) "
                               "VALUES (?,?,?)",
                               [(ex, c, rnd.randint(1, 100)) for c in classes[:n]])
                if bad:
                    db.execute(
                        "INSERT INTO violations (run_id, name, detail, schedule, trace, listing, "
                        "preemptions) VALUES (?,?,?,?,?,?,?)",
                        (ex, "lost-wakeup", "violation: lost-wakeup: g=1 parked forever",
                         "0.0.1.1.0", "netpoll-trace 1\n0 open pd=1 fd=3\n",
                         "1 actor0 poll_desc.c:120\n", 1))

    # benchmarks
    b = run("bench", "epoll", "go1.21", None, None, events=0)
    base = {"netpoll-w1": 90e3, "netpoll-w2": 150e3, "go-1": 95e3, "go-2": 160e3,
            "libuv": 120e3, "epoll-raw": 130e3}
    rows = []
    for name in ("echo_persistent", "echo_connect"):
        for cont, tp in base.items():
            scale = 1.0 if name == "echo_persistent" else 0.2
            for rep in range(1, 4):
                rows.append((b, name, cont, "req_per_s", tp * scale * rnd.uniform(0.93, 1.07),
                             rep))
                rows.append((b, name, cont, "p50_us", 1e6 / (tp * scale) * 12 *
                             rnd.uniform(0.9, 1.1), rep))
                rows.append((b, name, cont, "p99_us", 1e6 / (tp * scale) * 40 *
                             rnd.uniform(0.85, 1.2), rep))
    db.executemany("INSERT INTO bench (run_id, name, contender, metric, value, rep) "
                   "VALUES (?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
