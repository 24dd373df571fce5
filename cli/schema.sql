-- netpoll results store, schema version 4 (PRAGMA user_version).
-- Version 2 added violations.listing and violations.preemptions, and the
-- explore_progress and explore_states tables; version 3 the run kinds
-- 'check' and 'mutation', the structured columns of violations (pd, g,
-- mode, t_ns, line), and the check_designs and mutants tables; version 4
-- the scenario identity (scenario, scenario_hash) of runs and violations,
-- columns added at the end (a reader that names its columns reads every
-- version alike), and the timing_hist and timing_series tables, which hold
-- the distributions that version 3 stored as a row per sample in timing.
-- A version 1, 2 or 3 file is upgraded in place when opened.
-- One SQLite file; every run is one transaction. Plots and reports read
-- only this database (analysis/).
--
-- runs: one row per command run; kind live | replay | compare | explore | bench | check |
-- mutation (tests/mutation.sh).
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('live', 'replay', 'compare', 'explore', 'bench',
                                               'check', 'mutation')),
    backend      TEXT,               -- epoll | sim
    design       TEXT,               -- go1.5 | go1.18 | go1.21
    workload     TEXT,               -- live and compare runs: the workload; else NULL
    trace        TEXT,               -- the trace file read or written, its absolute path
                                     -- (version 4; before: as typed)
    seed         INTEGER,            -- explore: the seed
    git_rev      TEXT,               -- `git describe` of the build, if known
    machine      TEXT,               -- uname -srm and the CPU count
    params       TEXT,               -- the command line
    started_at   TEXT NOT NULL,      -- UTC, ISO 8601
    ended_at     TEXT,
    status       INTEGER,            -- the exit status (0, 1)
    events       INTEGER,            -- trace lines recorded or replayed
    divergences  INTEGER,
    violations   INTEGER,
    scenario     TEXT,               -- replay, compare, explore: the trace's name (its file
                                     -- name without .npt); else NULL
    scenario_hash TEXT               -- and its identity: FNV-1a 64 of its canonical text
                                     -- (the trace as netpoll's writer prints it), 16 hex
                                     -- digits - equal for equal traces, wherever they are
);

-- outcomes: each wait's result (live: as recorded; replay: computed, with the
-- recorded one beside it). Stored on request only (--outcomes on record,
-- replay and compare; version 3 stored them always).
CREATE TABLE IF NOT EXISTS outcomes (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    seq          INTEGER NOT NULL,   -- order in which the waits returned
    g            INTEGER NOT NULL,   -- task
    pd           INTEGER NOT NULL,   -- pollDesc slot
    mode         TEXT NOT NULL,      -- r | w
    result       TEXT,               -- ok | closing | timeout | notpollable
    recorded     TEXT,               -- replay: the recorded result, if any
    virtual_ns   INTEGER,            -- replay: virtual time of the wake
    wall_ns      INTEGER,            -- live: trace time of the wake
    wait_ns      INTEGER,            -- when the wait was issued
    deadline_ns  INTEGER             -- the direction's deadline then (0: none)
);

-- violations and divergences, one row each (explore adds the schedule and a
-- minimized trace). The names are netpoll/invariants.h's; the record's
-- fields are stored as such, never parsed back from the printed line.
CREATE TABLE IF NOT EXISTS violations (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    name         TEXT NOT NULL,      -- lost-wakeup, ..., linearizability, crash, or 'divergence'
    detail       TEXT NOT NULL,      -- the line netpoll printed
    schedule     TEXT,               -- explore: the schedule string
    trace        TEXT,               -- explore: the minimized trace
    listing      TEXT,               -- explore: step-by-step listing (actor, C line)
    preemptions  INTEGER,            -- explore: preemptions in the (minimized) schedule
    pd           INTEGER,            -- the pollDesc slot it concerns (NULL: none)
    g            INTEGER,            -- the task (NULL: none)
    mode         TEXT,               -- r | w | rw (NULL: none)
    t_ns         INTEGER,            -- trace time
    line         INTEGER,            -- the trace line (NULL: none)
    scenario     TEXT,               -- check: the scenario it was found in (a file name
                                     -- without .npt, or enum:HASH for an enumerated one
                                     -- that has no file); else NULL (see the run's)
    scenario_hash TEXT               -- check: that scenario's identity, as runs.scenario_hash
);

-- timing: single figures, a row each. Since version 4 only
--   lateness_dependent_outcomes  compare: the count of outcomes that differ
--                                with exact timers (one row)
-- Version 3 stored every sample of the distributions below here, a row per
-- sample (g, pd set where the sample concerned one task or slot); readers
-- take both (analysis/report.py does).
CREATE TABLE IF NOT EXISTS timing (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    kind         TEXT NOT NULL,      -- see above
    g            INTEGER,
    pd           INTEGER,
    value_ns     INTEGER NOT NULL
);

-- timing_hist: distributions as log-scale histograms, one row per bucket
-- with samples in it: count samples had values from lo_ns to hi_ns
-- (inclusive). Values from -255 to 255 ns have a bucket each (lo_ns =
-- hi_ns); beyond, each power of two [2^e, 2^(e+1)) is cut into 128 buckets
-- of width 2^(e-7) (mirrored for negative values): a bucket is at most 1/128
-- of its values wide, so its middle is within 0.4 % of every value in it
-- (HDR-style). The kinds, by the command that stores them:
--   deadline_lateness            record: real ns from a deadline to its fire
--   sim_wake_delay               replay and compare: recorded wake time -
--                                replayed wake time, trace clock (per wake
--                                with a recorded time)
--   wake_latency_live            compare: recorded wake - the time the wait
--                                became due (its wake replayed with exact
--                                timers: the waking event, or the deadline);
--                                trace clock, per wait whose result both
--                                replays agree on
--   wake_latency_sim             compare: the same wait's wake in the replay
--                                as recorded - that due time (the simulator's
--                                view: recorded timer lateness, woken tasks
--                                run at once); the same waits as
--                                wake_latency_live
--   deadline_lateness_trace      compare: fire - deadline, trace clock
--   deadline_span                compare: deadline - the time it was set, per
--                                fire of deadline_lateness_trace
-- compare runs carry runs.workload (--workload, or the live run that wrote
-- the trace, or the trace file's name).
CREATE TABLE IF NOT EXISTS timing_hist (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    kind         TEXT NOT NULL,      -- see above
    lo_ns        INTEGER NOT NULL,
    hi_ns        INTEGER NOT NULL,
    count        INTEGER NOT NULL
);
-- timing_series: a value over the run's time, per window of trace time
-- (at most about 100 windows over the samples' span; window_ns 1, 2 or 5 times a
-- power of ten): the samples whose time falls in [t_ns, t_ns + window_ns),
-- their count, median, 99th percentile (nearest rank) and maximum, exact.
--   wake_latency_live            compare: as in timing_hist, at the time of
--                                the recorded wake
CREATE TABLE IF NOT EXISTS timing_series (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    kind         TEXT NOT NULL,
    t_ns         INTEGER NOT NULL,
    window_ns    INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    p50_ns       INTEGER NOT NULL,
    p99_ns       INTEGER NOT NULL,
    max_ns       INTEGER NOT NULL
);

-- exploration statistics and outcome classes (the explorer fills them).
CREATE TABLE IF NOT EXISTS explore_stats (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    strategy     TEXT,
    executions   INTEGER,
    distinct_states INTEGER,
    race_pairs   INTEGER,
    elapsed_ns   INTEGER
);
-- exploration coverage over time: distinct states against executions,
-- sampled as the exploration goes (and once at its end).
CREATE TABLE IF NOT EXISTS explore_progress (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    executions   INTEGER NOT NULL,
    states       INTEGER NOT NULL,   -- distinct abstract pollDesc states so far
    elapsed_ns   INTEGER NOT NULL
);
-- the distinct abstract pollDesc states an exploration reached (so merged
-- shards can count their union).
CREATE TABLE IF NOT EXISTS explore_states (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    state        INTEGER NOT NULL,   -- packed (netpoll/replay.h, NP_ABS_BITS per slot)
    text         TEXT NOT NULL       -- the same, readable
);
CREATE TABLE IF NOT EXISTS outcome_classes (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    class        TEXT NOT NULL,      -- e.g. "g1: ok | g2: closing"
    count        INTEGER NOT NULL
);

-- netpoll check: one row per design checked.
CREATE TABLE IF NOT EXISTS check_designs (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    design       TEXT NOT NULL,
    scenarios    INTEGER NOT NULL,   -- explored and replayed, in all
    enumerated   INTEGER NOT NULL,   -- of which enumerated
    executions   INTEGER NOT NULL,
    expected     INTEGER NOT NULL,   -- findings traces/expected_findings.tsv expects
    unexpected   INTEGER NOT NULL,   -- findings it does not (and corpus mismatches)
    elapsed_ns   INTEGER NOT NULL
);

-- tests/mutation.sh: one row per mutant of core/poll_desc.c.
CREATE TABLE IF NOT EXISTS mutants (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    mutant       TEXT NOT NULL,      -- pd_NNN_... (tests/mutants/)
    operator     TEXT,               -- constant | condition | ... (tests/mutants/README.md)
    function     TEXT,               -- the function of core/poll_desc.c it changes
    set_name     TEXT,               -- tuning | heldout
    verdict      TEXT NOT NULL,      -- caught | survived | equivalent | stillborn | timeout | error
    seconds      REAL
);

-- benchmarks: one row per measured figure and repetition.
CREATE TABLE IF NOT EXISTS bench (
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    name         TEXT NOT NULL,      -- e.g. echo_persistent
    contender    TEXT NOT NULL,      -- e.g. netpoll-w2, go-2, libuv, epoll-raw
    metric       TEXT NOT NULL,      -- e.g. req_per_s, p99_us
    value        REAL NOT NULL,
    rep          INTEGER
);

CREATE INDEX IF NOT EXISTS outcomes_run ON outcomes (run_id);
CREATE INDEX IF NOT EXISTS timing_run ON timing (run_id, kind);
CREATE INDEX IF NOT EXISTS timing_hist_run ON timing_hist (run_id, kind);
