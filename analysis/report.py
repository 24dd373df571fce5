#!/usr/bin/env python3
"""netpoll report: plots and one self-contained HTML page from a results database.

usage: report.py --db FILE --out DIR

Reads the SQLite results store (cli/schema.sql, version 4 or 3) - and, to
tell expected findings from the others, the corpus tables beside the traces
the runs read (corpus.tsv, corpus_findings.tsv, expected_findings.tsv; see
Corpus) - and writes OUT/*.png and OUT/report.html (every PNG embedded as a
data URI, inline CSS, no external links). A plot whose data is absent is
left out, and the page says so in its place (<p class="nodata"
data-plot="NAME">). Figures are drawn for a page 1000 px wide (see save()).

Exit status: 0 written; 2 bad input (a missing file, not SQLite, not
netpoll's results, another schema version, matplotlib missing), with one
line on stderr and nothing written to OUT.

Standard library and matplotlib (Agg) only; on Debian:
apt-get install python3-matplotlib.
"""

import argparse
import base64
import html
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse

SCHEMA_VERSION = 4
# version 4 added columns only (the scenario identity): a version 3 file
# reads alike
READS_VERSIONS = (3, 4)
TABLES = ("runs", "outcomes", "violations", "timing", "explore_stats",
          "explore_progress", "outcome_classes", "bench")
# The figures, in page order: (file stem, section title).
PLOTS = (
    ("wake_latency", "Wake latency, live against simulated"),
    ("wake_series", "Wake latency over the run"),
    ("deadline_lateness", "Deadline lateness on the live backend"),
    ("violations", "Where violations were found, by scenario and design"),
    ("outcome_classes", "Outcome classes per scenario and design"),
    ("coverage", "Exploration coverage"),
    ("explore_rate", "Exploration rate"),
    ("bench", "Benchmarks"),
    ("mutants", "Mutants of core/poll_desc.c caught by netpoll check, per operator"),
)


class BadInput(Exception):
    pass


def die(msg):
    print("netpoll report: %s" % msg, file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------- the database

def open_db(path):
    """The database, read-only, checked to be netpoll's results at version 3."""
    if not os.path.exists(path):
        raise BadInput("%s: no such file" % path)
    if not os.path.isfile(path):
        raise BadInput("%s: not a file" % path)
    if os.path.getsize(path) == 0:
        raise BadInput("%s: an empty file, not netpoll's results" % path)
    try:
        db, version, names = connect_ro(path)
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e) or "malformed" in str(e):
            raise BadInput("%s: not an SQLite database" % path)
        raise BadInput("%s: cannot read it: %s" % (path, e))
    if version == 0 or "runs" not in names:
        raise BadInput("%s: an SQLite database, but not netpoll's results" % path)
    if version not in READS_VERSIONS:
        hint = (" (any netpoll command with --db on it upgrades it)"
                if version < SCHEMA_VERSION else "")
        raise BadInput("%s: schema version %d; this report reads versions %s%s"
                       % (path, version, " and ".join(map(str, READS_VERSIONS)), hint))
    missing = [t for t in TABLES if t not in names]
    if missing:
        raise BadInput("%s: not netpoll's results: no table %s" % (path, missing[0]))
    return db


def connect_ro(path):
    """A read-only connection, its user_version and its table names.

    A database in WAL mode (the store's) needs its -shm file even to be read.
    Where it cannot be created (a folder the reader cannot write), the file
    is opened as immutable instead, which is exact when no -wal file holds
    commits not yet copied into it (a writer that closed cleanly removes it);
    when one does, the database and its -wal are read from a private copy."""
    def attempt(path, query):
        uri = "file:%s?%s" % (urllib.parse.quote(os.path.abspath(path)), query)
        db = sqlite3.connect(uri, uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            names = {r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except BaseException:
            db.close()
            raise
        return db, version, names

    try:
        return attempt(path, "mode=ro")
    except sqlite3.OperationalError as e:
        folder = os.path.dirname(os.path.abspath(path))
        if os.access(folder, os.W_OK) or not os.access(path, os.R_OK):
            raise
        first = e
    wal = path + "-wal"
    if not os.path.exists(wal) or os.path.getsize(wal) == 0:
        return attempt(path, "immutable=1")
    tmp = tempfile.mkdtemp(prefix="netpoll-report-")
    try:
        copy = os.path.join(tmp, "results.db")
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, copy + "-wal")
        return attempt(copy, "mode=ro")
    except (OSError, sqlite3.Error):
        raise first
    finally:  # (the open connection keeps the data: the files may go)
        shutil.rmtree(tmp, ignore_errors=True)


def stem(path):
    if not path:
        return "?"
    base = os.path.basename(path)
    return base[:-4] if base.endswith(".npt") else base


def q(db, sql, *args):
    return db.execute(sql, args).fetchall()


def hist_samples(db, sql, *args):
    """Rows (key..., lo_ns, hi_ns, count) of timing_hist, as (key..., value)
    rows again: each bucket's middle, count times (within 0.4 % of every
    sample in it; exact below 256 ns). None of them if there is no timing_hist
    (schema version 3: its samples are rows of timing)."""
    if not q(db, "SELECT 1 FROM sqlite_master WHERE name = 'timing_hist'"):
        return []
    out = []
    for row in q(db, sql, *args):
        *key, lo, hi, n = row
        out.extend([(*key, lo if lo == hi else (lo + hi) // 2)] * n)
    return out


HERE = os.path.dirname(os.path.abspath(__file__))


def read_tsv(path):
    """The rows of a tab-separated table, without comments and blank lines."""
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n").split("\t") for line in f
                    if line.strip() and not line.startswith("#")]
    except OSError:
        return []


class Corpus:
    """What a corpus expects of a trace, read from the corpus folder beside
    the trace that a run read: the first folder above it with a corpus.tsv
    (netpoll demo's and check's --traces, the source tree's traces/ by
    default). There, corpus_findings.tsv gives the kinds of finding of each
    corpus trace's replay per design (exact: go1.21 with --exact-timers),
    corpus.tsv its exit status (1: some finding), expected_findings.tsv the
    known bug of an older design, expected of any scenario it explores. A
    trace whose folder is gone, or a path stored relative (before schema
    version 4), is looked up in the source tree's traces/ by its end
    (traces/bugs/NAME.npt)."""

    def __init__(self):
        self.folders = {}
        self.used = set()  # the corpus folders that answered

    def tables(self, folder):
        if folder not in self.folders:
            t = None
            if os.path.isfile(os.path.join(folder, "corpus.tsv")):
                cols = ("go1.5", "go1.18", "go1.21", "exact")
                status = {r[0]: dict(zip(cols, r[1:])) for r in
                          read_tsv(os.path.join(folder, "corpus.tsv")) if len(r) >= 2}
                findings = {}
                for r in read_tsv(os.path.join(folder, "corpus_findings.tsv")):
                    if len(r) >= 3:
                        findings[(r[0], r[1])] = set() if r[2] == "-" else set(r[2].split(","))
                known = {(r[0], r[1]) for r in
                         read_tsv(os.path.join(folder, "expected_findings.tsv")) if len(r) >= 2}
                t = {"status": status, "findings": findings, "known": known}
            self.folders[folder] = t
        return self.folders[folder]

    def find(self, path):
        """(folder, the path relative to it or None if not a corpus trace,
        tables), or None: no corpus folder for it."""
        if not path:
            return None
        if os.path.isabs(path):
            f = os.path.dirname(path)
            while True:
                t = self.tables(f)
                if t:
                    rel = os.path.relpath(path, f)
                    return f, rel if rel in t["status"] else None, t
                if os.path.dirname(f) == f:
                    break
                f = os.path.dirname(f)
        src = os.path.normpath(os.path.join(HERE, "..", "traces"))
        t = self.tables(src)
        norm = path.replace(os.sep, "/")
        if t and ("/traces/" in "/" + norm):
            rel = norm[("/" + norm).rindex("/traces/") + len("/traces/") - 1:]
            return src, rel if rel in t["status"] else None, t
        return None

    def expected(self, path, run_kind, design, exact, kind):
        """Whether a finding of this kind (divergence, stale-event, ...) is
        expected of a run: (True, why), (False, why) or (None, why) when no
        corpus says."""
        found = self.find(path)
        if not found:
            return None, "not in a corpus"
        folder, rel, t = found
        key = "exact" if exact else (design or "go1.21")
        if rel is not None:
            kinds = t["findings"].get((rel, key))
            if kinds is None and rel in t["status"] and key in t["status"][rel]:
                kinds = {"*"} if t["status"][rel][key] == "1" else set()  # exit status only
            if kinds is not None:
                self.used.add(folder)
                if kind in kinds or "*" in kinds:
                    return True, "corpus, %s" % key
                if run_kind == "explore" and (design, kind) in t["known"]:
                    return True, "%s's known bug" % design
                return False, "corpus: none under %s" % key
        if run_kind == "explore":  # a scenario of the corpus folder: only a known bug
            self.used.add(folder)
            if (design, kind) in t["known"]:
                return True, "%s's known bug" % design
            return False, "not a known bug of %s" % design
        return None, "not in a corpus"


def short_names(paths):
    """Each path by its file name, with as many of its folders as it takes
    to tell it from the others (out/traces/echo.npt and
    traces/workloads/echo.npt: traces/echo.npt, workloads/echo.npt): the
    same for every trace on the page, whatever was typed or stored."""
    parts = {p: p.replace(os.sep, "/").split("/") for p in set(paths) if p}
    out = {}
    for p, ps in parts.items():
        k = 1
        while k < len(ps) and any(o != p and os[-k:] == ps[-k:] for o, os in parts.items()):
            k += 1
        out[p] = "/".join(ps[-k:])
    return out


class Dist:
    """A distribution as sorted (value, count) pairs: a histogram's buckets
    (each at its middle) or single samples, never expanded sample by sample."""

    def __init__(self, counts=None):
        self.counts = dict(counts or {})

    def add(self, v, n=1):
        self.counts[v] = self.counts.get(v, 0) + n

    @property
    def n(self):
        return sum(self.counts.values())

    def items(self):
        return sorted(self.counts.items())

    def zeros(self):
        return self.counts.get(0, 0)

    def nonzero(self):
        return Dist({v: n for v, n in self.counts.items() if v != 0})

    def pct(self, p):
        """The value at nearest rank int((n - 1) * p), as pct() of the samples."""
        total = self.n
        if not total:
            return None
        k, seen = min(total - 1, int((total - 1) * p)), 0
        for v, n in self.items():
            seen += n
            if seen > k:
                return v
        return None

    def __bool__(self):
        return bool(self.counts)


def hist_counts(db, sql, *args):
    """Rows (key..., lo_ns, hi_ns, count) of timing_hist as (key..., value,
    count): each bucket at its middle (within 0.4 % of every sample in it;
    exact below 256 ns). None if there is no timing_hist (version 3)."""
    if not q(db, "SELECT 1 FROM sqlite_master WHERE name = 'timing_hist'"):
        return []
    return [(*key, lo if lo == hi else (lo + hi) // 2, n) for *key, lo, hi, n in q(db, sql, *args)]


def load(db):
    d = {}
    d["runs_per_kind"] = q(db, """
        SELECT kind, count(*), sum(status = 0), sum(status = 1), sum(status IS NULL OR status > 1),
               coalesce(sum(events), 0)
        FROM runs GROUP BY kind ORDER BY kind""")
    d["nruns"] = q(db, "SELECT count(*) FROM runs")[0][0]

    # wake latency per workload: paired live / sim samples of compare runs
    # (version 4 stores them as histograms in timing_hist, version 3 as rows)
    wl = {}
    for w, trace, kind, v, n in q(db, """
            SELECT r.workload, r.trace, t.kind, t.value_ns, 1 FROM timing t
            JOIN runs r ON r.id = t.run_id
            WHERE r.kind = 'compare' AND t.kind IN ('wake_latency_live', 'wake_latency_sim')""") + \
            hist_counts(db, """
            SELECT r.workload, r.trace, h.kind, h.lo_ns, h.hi_ns, h.count FROM timing_hist h
            JOIN runs r ON r.id = h.run_id
            WHERE r.kind = 'compare' AND h.kind IN ('wake_latency_live', 'wake_latency_sim')"""):
        side = "live" if kind == "wake_latency_live" else "sim"
        wl.setdefault(w or stem(trace), {"live": Dist(), "sim": Dist()})[side].add(v, n)
    d["wake"] = wl

    # deadline lateness of live runs, per workload; the deadlines' spans from compare runs
    late = {}
    for w, v in q(db, """
            SELECT r.workload, t.value_ns FROM timing t JOIN runs r ON r.id = t.run_id
            WHERE r.kind = 'live' AND t.kind = 'deadline_lateness'""") + hist_samples(db, """
            SELECT r.workload, h.lo_ns, h.hi_ns, h.count FROM timing_hist h
            JOIN runs r ON r.id = h.run_id
            WHERE r.kind = 'live' AND h.kind = 'deadline_lateness' ORDER BY h.run_id, h.lo_ns"""):
        late.setdefault(w or "?", []).append(v)
    d["late"] = late
    spans = {}
    for w, trace, v in q(db, """
            SELECT r.workload, r.trace, t.value_ns FROM timing t JOIN runs r ON r.id = t.run_id
            WHERE r.kind = 'compare' AND t.kind = 'deadline_span' AND t.value_ns > 0""") + \
            hist_samples(db, """
            SELECT r.workload, r.trace, h.lo_ns, h.hi_ns, h.count FROM timing_hist h
            JOIN runs r ON r.id = h.run_id
            WHERE r.kind = 'compare' AND h.kind = 'deadline_span' AND h.hi_ns > 0
            ORDER BY h.run_id, h.lo_ns"""):
        spans.setdefault(w or stem(trace), []).append(v)
    d["span"] = {w: statistics.median(v) for w, v in spans.items()}

    # outcome classes of explore runs per (scenario, design), and violations
    classes = {}
    for trace, design, cls, n in q(db, """
            SELECT r.trace, r.design, c.class, c.count FROM outcome_classes c
            JOIN runs r ON r.id = c.run_id WHERE r.kind = 'explore'"""):
        k = (stem(trace), design or "?")
        classes.setdefault(k, {})
        classes[k][cls] = classes[k].get(cls, 0) + n
    d["classes"] = classes
    # every run's trace, by one short name each; the traces recorded live
    d["names"] = short_names(r[0] for r in q(db, "SELECT DISTINCT trace FROM runs"))
    d["recorded"] = dict(q(db, """SELECT trace, workload FROM runs
                                  WHERE kind = 'live' AND trace IS NOT NULL"""))
    corpus = d["corpus"] = Corpus()

    def expect(kind, trace, design, params, name):
        if kind in ("replay", "compare") and trace in d["recorded"]:
            return (name != "divergence", "a recording replays without divergence"
                    if name == "divergence" else "a recording")
        return corpus.expected(trace, kind, design, "--exact-timers" in (params or ""), name)

    # violations (and divergences), each run's with whether it was expected
    viol = {}
    expl = {}
    # (violations.scenario: version 4; NULL before)
    scen_col = ("v.scenario" if any(c[1] == "scenario" for c in
                                    q(db, "PRAGMA table_info(violations)")) else "NULL")
    for kind, trace, design, params, name, pre, sched, scen in q(db, """
            SELECT r.kind, r.trace, r.design, r.params, v.name, v.preemptions,
                   v.schedule IS NOT NULL, %s
            FROM violations v JOIN runs r ON r.id = v.run_id""" % scen_col):
        if kind == "check":  # check stores the findings it did not expect
            where, exp = scen or d["names"].get(trace, "?"), (False, "check: unexpected")
        else:
            where, exp = d["names"].get(trace, "?"), expect(kind, trace, design, params, name)
        k = (where, design or "", kind, name)
        v = viol.setdefault(k, [0, None, False, exp])
        v[0] += 1
        if pre is not None:
            v[1] = pre if v[1] is None else min(v[1], pre)
        v[2] = v[2] or bool(sched)
        if kind == "explore":
            expl.setdefault((stem(trace), design or "?"), []).append(exp[0] is True)
    d["violations"] = sorted(((w, g, k, n) + tuple(v) for (w, g, k, n), v in viol.items()),
                             key=lambda r: (r[0], design_key(r[1]), r[2], r[3]))
    d["explore_violations"] = {k: len(v) for k, v in expl.items()}
    d["explore_unexpected"] = {k: v.count(False) for k, v in expl.items()}

    # divergences per trace (compare and replay runs), each run against the corpus
    late_dep = dict(q(db, """SELECT run_id, sum(value_ns) FROM timing
                             WHERE kind = 'lateness_dependent_outcomes' GROUP BY run_id"""))
    div = {}
    for rid, kind, trace, w, design, params, n in q(db, """
            SELECT id, kind, trace, workload, design, params, coalesce(divergences, 0)
            FROM runs WHERE kind IN ('compare', 'replay') ORDER BY id"""):
        shown = w if kind == "compare" else d["recorded"].get(trace)
        k = (d["names"].get(trace, "?") if trace else "?", shown or "", kind)
        r = div.setdefault(k, {"designs": set(), "runs": 0, "div": 0, "with": 0, "late": None,
                               "expected": set(), "unexpected": 0, "missing": set(),
                               "unknown": False, "why": set()})
        exp, why = expect(kind, trace, design, params, "divergence")
        label = ("exact" if "--exact-timers" in (params or "") else design) or "?"
        r["designs"].add(label)
        r["runs"] += 1
        r["div"] += n
        r["with"] += n > 0
        if rid in late_dep:
            r["late"] = (r["late"] or 0) + late_dep[rid]
        if exp is None:
            r["unknown"] = True
            r["unexpected"] += n > 0
        elif exp:
            r["expected"].add(label)
            if n == 0:
                r["missing"].add(label)
        else:
            r["unexpected"] += n > 0
        r["why"].add(why)
    d["divergences"] = sorted(div.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1]))

    # exploration
    d["strategy_stats"] = q(db, """
        SELECT coalesce(s.strategy, '?'), count(DISTINCT s.run_id), sum(s.executions),
               max(s.distinct_states), sum(s.elapsed_ns)
        FROM explore_stats s GROUP BY 1 ORDER BY 1""")
    curves = {}
    for rid, strat, trace, e, s, t in q(db, """
            SELECT p.run_id, coalesce(st.strategy, '?'), r.trace, p.executions, p.states,
                   p.elapsed_ns
            FROM explore_progress p JOIN runs r ON r.id = p.run_id
            LEFT JOIN explore_stats st ON st.run_id = p.run_id
            ORDER BY p.run_id, p.executions"""):
        curves.setdefault((strat, rid, stem(trace)), []).append((e, s, t))
    d["curves"] = curves
    # explore runs per (scenario, design): how many, how many found a violation
    d["explored"] = {(stem(t), g or "?"): (n, v) for t, g, n, v in q(db, """
        SELECT trace, design, count(*), sum(coalesce(violations, 0) > 0 OR status = 1)
        FROM runs WHERE kind = 'explore' GROUP BY trace, design""")}
    # live wake latency per time window: the latest compare run of each workload
    series = {}
    if q(db, "SELECT 1 FROM sqlite_master WHERE name = 'timing_series'"):
        rows = q(db, """
            SELECT r.id, r.workload, r.trace, s.t_ns, s.window_ns, s.count,
                   s.p50_ns, s.p99_ns, s.max_ns
            FROM timing_series s JOIN runs r ON r.id = s.run_id
            WHERE r.kind = 'compare' AND s.kind = 'wake_latency_live' ORDER BY r.id, s.t_ns""")
        latest = {(w or stem(t)): rid for rid, w, t, *_ in rows}
        for rid, w, t, *rest in rows:
            if latest[w or stem(t)] == rid:
                series.setdefault(w or stem(t), []).append(tuple(rest))
    d["series"] = series
    d["end_points"] = q(db, """
        SELECT coalesce(strategy, '?'), executions, distinct_states FROM explore_stats
        WHERE distinct_states IS NOT NULL AND distinct_states >= 0 AND executions > 0""")

    # netpoll check: each design of the latest check run; the latest mutation run
    d["check"] = q(db, """
        SELECT c.design, c.enumerated, c.scenarios, c.executions, c.expected, c.unexpected,
               c.elapsed_ns, r.params
        FROM check_designs c JOIN runs r ON r.id = c.run_id
        WHERE c.run_id = (SELECT max(run_id) FROM check_designs) ORDER BY c.rowid""")
    mrun = q(db, "SELECT max(id) FROM runs WHERE kind = 'mutation'")[0][0]
    d["mutants"] = q(db, """SELECT mutant, coalesce(operator, '?'), coalesce(set_name, '?'),
                              verdict FROM mutants WHERE run_id = ?""", mrun) if mrun else []
    d["mutation_about"] = q(db, "SELECT params FROM runs WHERE id = ?", mrun)[0][0] if mrun else None

    # benchmarks: every repetition, per (name, metric, contender)
    bench = {}
    for name, cont, metric, v in q(db, "SELECT name, contender, metric, value FROM bench"):
        bench.setdefault((name, metric), {}).setdefault(cont, []).append(v)
    d["bench"] = bench
    return d


# --------------------------------------------------------------- the plots

# Every figure is drawn for a page about 1000 px wide: at most FIG_MAX_PX
# pixels wide (so the browser shows it at its own size, or shrinks it but a
# little), and no text smaller than FONT_MIN_PT (at 100 dpi, 8 pt is 11 px).
DPI = 100
FIG_MAX_PX = 960
FONT_MIN_PT = 8


def save(plt, fig, path):
    """Saves a figure after checking what every plot must have: a title, both
    axis labels (with units) and a legend on each of its axes (or one legend
    for the whole figure), a size that fits the page and no tiny text. The
    axes' titles and labels, the smallest font and the dpi go into the PNG as
    a text chunk "netpoll" (JSON), which the layout test reads."""
    import json
    import matplotlib.text
    for ax in fig.axes:
        missing = [what for what, ok in (("title", ax.get_title()),
                                         ("x label", ax.get_xlabel()),
                                         ("y label", ax.get_ylabel()),
                                         ("legend", ax.get_legend() or fig.legends)) if not ok]
        if missing:
            raise AssertionError("%s: no %s" % (os.path.basename(path), ", ".join(missing)))
    width_px = fig.get_figwidth() * DPI
    if width_px > FIG_MAX_PX + 0.5:
        raise AssertionError("%s: %d px wide, more than %d" % (os.path.basename(path), width_px,
                                                                FIG_MAX_PX))
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip()]
    if sizes and min(sizes) < FONT_MIN_PT:
        small = [t.get_text() for t in fig.findobj(matplotlib.text.Text)
                 if t.get_visible() and t.get_text().strip() and t.get_fontsize() < FONT_MIN_PT]
        raise AssertionError("%s: text of %.1f pt (%r), less than %d"
                             % (os.path.basename(path), min(sizes), small[0], FONT_MIN_PT))
    about = {"dpi": DPI, "min_font_pt": min(sizes) if sizes else None,
             "suptitle": fig._suptitle.get_text() if fig._suptitle else "",
             "axes": [{"title": ax.get_title(), "xlabel": ax.get_xlabel(),
                       "ylabel": ax.get_ylabel()} for ax in fig.axes]}
    fig.savefig(path, dpi=DPI, metadata={"netpoll": json.dumps(about, ensure_ascii=True)})
    plt.close(fig)
    return True


def contender_key(c):
    order = ("netpoll", "go", "libuv", "epoll")
    for i, p in enumerate(order):
        if c.startswith(p):
            return (i, c)
    return (len(order), c)


METRICS = {  # bench.metric: (panel title, axis label with its unit)
    "req_per_s": ("requests per second", "throughput (requests/s)"),
}


def metric_title(m):
    """A bench metric's readable name and axis label: p50_us -> "p50 latency
    (µs)", "latency, 50th percentile (µs)"; req_per_s -> "requests per
    second"; other names with their unit from the suffix."""
    if m in METRICS:
        return METRICS[m]
    units = (("_us", "µs"), ("_ns", "ns"), ("_ms", "ms"), ("_per_s", "per second"),
             ("_s", "s"), ("_bytes", "bytes"), ("_pct", "%"))
    unit = next((u for suf, u in units if m.endswith(suf)), None)
    base = m[: -len(next(suf for suf, u in units if u == unit))] if unit else m
    if re.fullmatch(r"p\d+(\.\d+)?", base) and unit in ("µs", "ns", "ms", "s"):
        return ("%s latency (%s)" % (base, unit),
                "latency, %s percentile (%s)" % (ordinal(base[1:]), unit))
    name = base.replace("_", " ")
    if unit == "per second":
        return ("%s per second" % name, "%s (per second)" % name)
    return ("%s (%s)" % (name, unit or "value"), "%s (%s)" % (name, unit or "value"))


def ordinal(n):
    if "." in n:
        return n + "th"
    k = int(n)
    suf = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return "%d%s" % (k, suf)


def contender_name(c):
    """netpoll-w2 -> "netpoll, 2 workers", go-1 -> "Go, GOMAXPROCS=1",
    epoll-raw -> "raw epoll"; others as stored."""
    m = re.fullmatch(r"netpoll-w(\d+)", c)
    if m:
        return "netpoll, %s worker%s" % (m.group(1), "" if m.group(1) == "1" else "s")
    m = re.fullmatch(r"go-(\d+)", c)
    if m:
        return "Go, GOMAXPROCS=%s" % m.group(1)
    return {"epoll-raw": "raw epoll"}.get(c, c)


def bench_name(n):
    """A benchmark's readable name: echo_persistent -> "echo, persistent
    connections"."""
    known = {"echo_persistent": "echo, persistent connections",
             "echo_oneshot": "echo, a connection per request",
             "echo_connect": "echo, a connection per request"}
    return known.get(n, n.replace("_", " "))


def plot_wake(plt, d, path):
    """Two panels: the share of waits whose latency is exactly 0 (live and
    simulated, per workload), and the distribution of the others on a log
    axis (a CDF of the non-zero waits), where a log axis can show them."""
    if not any(v["live"] or v["sim"] for v in d["wake"].values()):
        return None
    from matplotlib.lines import Line2D
    wls = sorted(d["wake"])
    legend_rows = (len(wls) + 1) // 2 + 1
    fig, (az, ax) = plt.subplots(1, 2, figsize=(9.4, 2.4 + 0.4 * max(4, len(wls))
                                                + 0.2 * legend_rows),
                                 gridspec_kw={"width_ratios": [1, 1.9]})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # left: the share at exactly 0, a pair of bars per workload (top down)
    for k, (side, label, c) in enumerate((("live", "live", "tab:blue"),
                                          ("sim", "simulated", "tab:gray"))):
        ys, ws = [], []
        for i, w in enumerate(wls):
            dist = d["wake"][w][side]
            if dist.n:
                ys.append(len(wls) - 1 - i + (0.2 if k == 0 else -0.2))
                ws.append(100.0 * dist.zeros() / dist.n)
        bars = az.barh(ys, ws, 0.38, color=c, label=label)
        for b, v in zip(bars, ws):
            az.text(min(v, 100) + 2, b.get_y() + b.get_height() / 2, "%.0f%%" % v,
                    va="center", ha="left", fontsize=8)
    az.set_yticks(range(len(wls)))
    az.set_yticklabels(list(reversed(wls)), fontsize=9)
    az.set_ylim(-0.6, len(wls) - 0.4)
    az.set_xlim(0, 125)
    az.set_xticks([0, 25, 50, 75, 100])
    az.set_title("waits at exactly 0")
    az.set_xlabel("share of the waits (%)")
    az.set_ylabel("workload")
    az.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    # right: the non-zero waits, CDF on a log axis
    drawn = False
    for i, w in enumerate(wls):
        c = colors[i % len(colors)]
        for side, style in (("live", "-"), ("sim", "--")):
            nz = d["wake"][w][side].nonzero()
            if not nz:
                continue
            xs, ys, seen, total = [], [], 0, nz.n
            for v, n in nz.items():
                seen += n
                xs.append(max(v, 1) / 1e3)
                ys.append(seen / total)
            ax.step(xs, ys, where="post", linestyle=style, color=c)
            drawn = True
    handles = [Line2D([], [], color=colors[i % len(colors)],
                      label="%s (above 0: %s live, %s sim.)"
                      % (w, count(d["wake"][w]["live"].nonzero().n),
                         count(d["wake"][w]["sim"].nonzero().n)))
               for i, w in enumerate(wls)]
    handles += [Line2D([], [], color="k", linestyle="-", label="live"),
                Line2D([], [], color="k", linestyle="--", label="simulated")]
    ax.set_xscale("log")
    if not drawn:
        ax.text(0.5, 0.5, "every wait at exactly 0", transform=ax.transAxes, ha="center")
    ax.set_ylim(0, 1.02)
    ax.set_title("waits above 0: distribution")
    ax.set_xlabel("wake latency (µs, log scale)")
    ax.set_ylabel("fraction of the non-zero waits (CDF)")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncol=2)
    fig.suptitle("Wake latency from the time a wait became due, live against simulated")
    fig.tight_layout()
    return save(plt, fig, path)


def count(n):
    return "{:,}".format(n)


def plot_lateness(plt, d, path):
    data = {w: [max(v, 1) / 1e3 for v in vals] for w, vals in d["late"].items() if vals}
    if not data:
        return None
    lo = min(min(v) for v in data.values())
    hi = max(max(v) for v in data.values())
    lo, hi = max(lo * 0.9, 1e-3), max(hi * 1.1, lo * 10)
    nb = 40
    edges = [lo * (hi / lo) ** (k / nb) for k in range(nb + 1)]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (w, v) in enumerate(sorted(data.items())):
        c = colors[i % len(colors)]
        ax.hist(v, bins=edges, histtype="step", linewidth=1.5, color=c,
                label="%s (n=%d fires)" % (w, len(v)))
        span = d["span"].get(w)
        if span:
            ax.axvline(span / 10 / 1e3, color=c, linestyle=":",
                       label="%s: 10%% of its median deadline (%.3g ms)" % (w, span / 1e6))
    ax.set_xscale("log")
    ax.set_title("Deadline lateness on the live backend (epoll), per workload")
    ax.set_xlabel("lateness: real time from deadline to timer fire (µs, log)")
    ax.set_ylabel("timer fires (count)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return save(plt, fig, path)


def plot_classes(plt, d, path):
    """Horizontal bars, a row per scenario (so that every name is readable
    however many there are), a bar per design; a violation hatched red."""
    if not d["classes"]:
        return None
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator
    scenarios = sorted({s for s, _ in d["classes"]}, reverse=True)  # a to z, top down
    designs = sorted({g for _, g in d["classes"]}, key=design_key)
    row = 0.1 + 0.1 * len(designs)  # inches per scenario
    fig, ax = plt.subplots(figsize=(9.4, 1.6 + row * len(scenarios)))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    height = 0.8 / len(designs)
    handles = []
    top = max(len(v) for v in d["classes"].values())
    for j, g in enumerate(designs):
        ys, ws, viol = [], [], []
        for i, sc in enumerate(scenarios):
            if (sc, g) in d["classes"]:
                ys.append(i + 0.4 - height * (j + 0.5))
                ws.append(len(d["classes"][(sc, g)]))
                viol.append((d["explore_violations"].get((sc, g), 0),
                             d["explore_unexpected"].get((sc, g), 0)))
        bars = ax.barh(ys, ws, height * 0.9, color=colors[j % len(colors)], label="design " + g)
        handles.append(bars)
        for b, (n, bad) in zip(bars, viol):
            if n:
                edge = "red" if bad else "darkorange"
                b.set_hatch("//")
                b.set_edgecolor(edge)
                b.set_linewidth(1.2)
                ax.text(b.get_width() + top * 0.01, b.get_y() + b.get_height() / 2,
                        "%d viol.%s" % (n, "" if bad else " (expected)"), va="center",
                        ha="left", color=edge, fontsize=8)
    handles.append(Patch(facecolor="white", edgecolor="red", hatch="//",
                         label="violation found"))
    handles.append(Patch(facecolor="white", edgecolor="darkorange", hatch="//",
                         label="violation expected (corpus)"))
    ax.set_yticks(range(len(scenarios)))
    ax.set_yticklabels(scenarios, fontsize=9)
    ax.set_ylim(-0.6, len(scenarios) - 0.4)
    ax.set_xlim(0, top * 1.3 + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labeltop=True)
    ax.set_title("Outcome classes per scenario and design (explored interleavings)")
    ax.set_xlabel("distinct outcome classes (count)")
    ax.set_ylabel("scenario (trace)")
    ax.grid(True, axis="x", alpha=0.3)
    legend_in = 0.5
    fig.set_figheight(fig.get_figheight() + legend_in)
    fig.legend(handles=handles, fontsize=9, loc="lower center", ncol=len(handles))
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    return save(plt, fig, path)


def design_key(g):
    """go1.5 < go1.18 < go1.21 (not as strings)."""
    m = re.fullmatch(r"go(\d+)\.(\d+)", g or "")
    return (0, int(m.group(1)), int(m.group(2))) if m else (1, 0, 0, g or "")


def chosen_exploration(d):
    """The scenario explored by the most strategies (then the most
    executions), and its latest run per strategy: {strategy: (run, points)}."""
    scen = {}
    for (strat, rid, sc), pts in d["curves"].items():
        scen.setdefault(sc, {})
        if strat not in scen[sc] or rid > scen[sc][strat][0]:
            scen[sc][strat] = (rid, pts)
    if not scen:
        return None, {}
    chosen = max(scen, key=lambda sc: (len(scen[sc]),
                                       sum(p[-1][0] for _r, p in scen[sc].values())))
    return chosen, scen[chosen]


def plot_coverage(plt, d, path):
    if not d["curves"] and not d["end_points"]:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    strategies = sorted({k[0] for k in d["curves"]} | {p[0] for p in d["end_points"]})
    color = {s: colors[i % len(colors)] for i, s in enumerate(strategies)}
    labelled = set()
    # one scenario, its latest run per strategy: the strategies side by side
    chosen, runs = chosen_exploration(d)
    for strat, (_rid, pts) in sorted(runs.items()):
        xs = [max(e, 1) for e, _, _ in pts]
        ys = [s for _, s, _ in pts]
        lab = None if strat in labelled else strat
        labelled.add(strat)
        ax.plot(xs, ys, color=color[strat], alpha=0.8, marker="." if len(xs) < 30 else None,
                label=lab)
    if not d["curves"]:
        for strat, e, s in d["end_points"]:
            lab = None if strat in labelled else "%s (final counts)" % strat
            labelled.add(strat)
            ax.plot([e], [s], "o", color=color[strat], label=lab)
    ax.set_xscale("log")
    ax.set_title("Exploration coverage: distinct states against executions, per strategy"
                 + ("\n(scenario %s)" % chosen if chosen else ""))
    ax.set_xlabel("executions (schedules run, count; log scale)")
    ax.set_ylabel("distinct pollDesc states (count)")
    ax.grid(True, alpha=0.3)
    ax.legend(title="strategy", fontsize="small")
    fig.tight_layout()
    return save(plt, fig, path)


def plot_explore_rate(plt, d, path):
    """Executions per second between consecutive progress samples (taken at
    1, 2, 4, 8 ... executions and at the end), for the scenario and runs of
    the coverage plot; dotted: each run's overall rate."""
    chosen, runs = chosen_exploration(d)
    lines = {}
    for strat, (rid, pts) in runs.items():
        xs, ys = [], []
        for (e0, _s0, t0), (e1, _s1, t1) in zip(pts, pts[1:]):
            if t1 > t0 and e1 > e0:
                xs.append(t1 / 1e9)
                ys.append((e1 - e0) / ((t1 - t0) / 1e9))
        if xs:
            overall = pts[-1][0] / (pts[-1][2] / 1e9) if pts[-1][2] > 0 else None
            lines[strat] = (xs, ys, overall, pts[-1][0])
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    strategies = sorted({k[0] for k in d["curves"]})
    color = {s: colors[i % len(colors)] for i, s in enumerate(strategies)}
    for strat, (xs, ys, overall, total) in sorted(lines.items()):
        ax.plot(xs, ys, color=color[strat], marker=".",
                label="%s (%s executions)" % (strat, count(total)))
        if overall:
            ax.axhline(overall, color=color[strat], linestyle=":", linewidth=1)
    from matplotlib.ticker import FuncFormatter
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: "%gk" % (v / 1e3) if abs(v) >= 1e4 else "%g" % v))
    ax.set_title("Exploration rate over the run, per strategy (scenario %s)" % chosen)
    ax.set_xlabel("time into the exploration (s, log scale)")
    ax.set_ylabel("executions per second")
    ax.grid(True, alpha=0.3)
    ax.legend(title="strategy (dotted: overall rate)", fontsize="small")
    fig.tight_layout()
    return save(plt, fig, path)


def plot_violations(plt, d, path):
    """A grid, scenario by design: how many explore runs found a violation,
    red where not expected, orange where the corpus expects it; the other
    scenarios in one row; netpoll check's findings per design at the bottom."""
    expl = d["explored"]
    if not expl and not d["check"]:
        return None
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    designs = sorted({g for _, g in expl} | {c[0] for c in d["check"]}, key=design_key)
    bad = sorted({sc for (sc, g), (n, v) in expl.items() if v})
    quiet = sorted({sc for sc, _ in expl} - set(bad))
    rows, cells = [], []  # cells: (category, text); 0 none, 1 expected, 2 not, 3 not run
    for sc in bad:
        rows.append(sc)
        line = []
        for g in designs:
            if (sc, g) not in expl:
                line.append((3, "not run"))
                continue
            n, v = expl[(sc, g)]
            unexp = d["explore_unexpected"].get((sc, g), 0)
            line.append((0 if not v else 2 if unexp else 1,
                         "%d of %d run%s" % (v, n, "" if n == 1 else "s")))
        cells.append(line)
    if quiet:
        rows.append("the other %d scenario%s" % (len(quiet), "" if len(quiet) == 1 else "s"))
        line = []
        for g in designs:
            n = sum(expl[(sc, g)][0] for sc in quiet if (sc, g) in expl)
            line.append((0, "0 of %d runs" % n) if n else (3, "not run"))
        cells.append(line)
    if d["check"]:
        rows.append("netpoll check, every scenario")
        by = {c[0]: c for c in d["check"]}
        line = []
        for g in designs:
            if g not in by:
                line.append((3, "not run"))
                continue
            _g, _e, scn, _x, ex, un, _el, _p = by[g]
            line.append((2 if un else 1 if ex else 0,
                         "%d expected, %d not\n(%s scenarios)" % (ex, un, count(scn))))
        cells.append(line)
    fig, ax = plt.subplots(figsize=(8.5, 1.7 + 0.42 * len(rows)))
    cmap = ListedColormap(["#e8f5e9", "#ffd8a8", "#ff8a80", "#eeeeee"])
    ax.imshow([[c for c, _ in line] for line in cells], cmap=cmap, vmin=0, vmax=3,
              aspect="auto", interpolation="nearest")
    for i, line in enumerate(cells):
        for j, (_c, text) in enumerate(line):
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5)
    ax.set_xticks(range(len(designs)))
    ax.set_xticklabels(designs)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=9)
    ax.set_xticks([x - 0.5 for x in range(1, len(designs))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_title("Violations per scenario and design (explore runs, netpoll check)", pad=12)
    ax.set_xlabel("design")
    ax.set_ylabel("scenario (trace)")
    ax.legend(handles=[Patch(color=cmap(k), label=lab) for k, lab in
                       ((0, "no violation"), (1, "violation, expected (corpus)"),
                        (2, "violation not expected"), (3, "not run"))],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=8.5)
    fig.tight_layout()
    return save(plt, fig, path)


def plot_wake_series(plt, d, path):
    """The live wake latency per time window of each workload's latest
    compare run: p50, p99 and maximum on a log axis, a window whose value is
    0 drawn in a band below it."""
    if not d["series"]:
        return None
    from matplotlib.lines import Line2D
    wls = sorted(d["series"])[:6]
    pos = [v / 1e3 for w in wls for row in d["series"][w] for v in row[3:] if v > 0]
    zero = (min(pos) if pos else 1.0) / 4
    ncol = 2 if len(wls) > 1 else 1
    nrow = (len(wls) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(9.4, 1.2 + 2.7 * nrow), squeeze=False,
                             sharey=True)
    styles = (("p50", 3, "tab:blue", "-"), ("p99", 4, "tab:orange", "-"),
              ("max", 5, "tab:red", ":"))
    for k, w in enumerate(wls):
        ax = axes[k // ncol][k % ncol]
        rows = d["series"][w]
        xs = [(t + win / 2) / 1e9 for t, win, *_ in rows]
        for _label, col, c, ls in styles:
            ys = [r[col] / 1e3 if r[col] > 0 else zero for r in rows]
            ax.plot(xs, ys, color=c, linestyle=ls, marker="." if len(xs) < 40 else None,
                    markersize=3)
        ax.axhspan(zero / 1.6, zero * 1.6, color="#eeeeee", zorder=0)
        ax.set_yscale("log")
        ax.set_ylim(zero / 1.6, max(pos) * 2 if pos else 10)
        ax.set_title("%s (%s waits, windows of %s)" % (w, count(sum(r[2] for r in rows)),
                                                       duration(rows[0][1])), fontsize=9.5)
        ax.set_xlabel("time into the run (s, trace clock)")
        ax.set_ylabel("wake latency (µs, log)")
        ax.grid(True, alpha=0.3)
    from matplotlib.ticker import NullLocator
    top = max(pos) * 2 if pos else 10
    ticks = [10.0 ** e for e in range(-3, 10) if zero * 2 < 10.0 ** e < top]
    for ax in [a for row in axes for a in row]:
        if ax.get_title():
            ax.set_yticks([zero] + ticks)
            ax.set_yticklabels(["0"] + ["%g" % t for t in ticks])
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_ylim(zero / 1.6, top)
    for k in range(len(wls), nrow * ncol):
        fig.delaxes(axes[k // ncol][k % ncol])
    fig.suptitle("Live wake latency over the run, per time window")
    fig.legend(handles=[Line2D([], [], color=c, linestyle=ls, label=label + " of the window")
                        for label, _col, c, ls in styles] +
               [zero_band_patch()], loc="lower center", ncol=4, fontsize=9)
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1, 1))
    return save(plt, fig, path)


def zero_band_patch():
    from matplotlib.patches import Patch
    return Patch(color="#eeeeee", label="exactly 0 (below the log scale)")


def duration(ns):
    for unit, f in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= f:
            return "%g %s" % (ns / f, unit)
    return "%d ns" % ns


def plot_mutants(plt, d, path):
    if not d["mutants"]:
        return None
    ops = sorted({o for _, o, _, _ in d["mutants"]})
    kinds = [("caught", lambda v: v.startswith("caught"), "tab:green"),
             ("survived", lambda v: v == "survived", "tab:red"),
             ("equivalent", lambda v: v == "equivalent", "tab:gray"),
             ("other", lambda v: not (v.startswith("caught") or v in ("survived", "equivalent")),
              "tab:orange")]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bottom = [0] * len(ops)
    for label, test, color in kinds:
        h = [sum(1 for _, o, _, v in d["mutants"] if o == op and test(v)) for op in ops]
        if sum(h):
            ax.bar(range(len(ops)), h, bottom=bottom, color=color, label=label)
            bottom = [b + x for b, x in zip(bottom, h)]
    ax.set_xticks(range(len(ops)))
    ax.set_xticklabels(ops, fontsize=11)
    ax.set_ylabel("mutants", fontsize=11)
    ax.set_xlabel("mutation operator (tests/mutants/README.md)", fontsize=11)
    ax.set_ylim(0, max(bottom) * 1.3 + 1)
    ax.legend(fontsize=10, ncol=4, loc="upper center")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Mutants per operator and verdict (%d in all)" % len(d["mutants"]), fontsize=12)
    fig.tight_layout()
    return save(plt, fig, path)


def plot_bench(plt, d, path):
    """A panel per metric (up to three a row), titled by what it measures,
    the contenders' colours in one legend for the figure."""
    if not d["bench"]:
        return None
    from matplotlib.ticker import FuncFormatter
    metrics = sorted({m for _, m in d["bench"]}, key=lambda m: (m not in METRICS, m))
    ncol = min(3, len(metrics))
    nrow = (len(metrics) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(9.4, 0.9 + 3.4 * nrow), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    allc = sorted({c for v in d["bench"].values() for c in v}, key=contender_key)
    color = {c: colors[i % len(colors)] for i, c in enumerate(allc)}
    handles = {}
    for k, m in enumerate(metrics):
        ax = axes[k // ncol][k % ncol]
        names = sorted(n for n, mm in d["bench"] if mm == m)
        conts = sorted({c for n in names for c in d["bench"][(n, m)]}, key=contender_key)
        width = 0.8 / len(conts)
        for j, c in enumerate(conts):
            xs, med, lo, hi = [], [], [], []
            for i, n in enumerate(names):
                v = d["bench"][(n, m)].get(c)
                if not v:
                    continue
                md = statistics.median(v)
                xs.append(i - 0.4 + width * (j + 0.5))
                med.append(md)
                lo.append(md - min(v))
                hi.append(max(v) - md)
            handles[c] = ax.bar(xs, med, width * 0.95, yerr=[lo, hi], capsize=2,
                                color=color[c], label=contender_name(c))
        title, ylabel = metric_title(m)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([bench_name(n).replace(", ", ",\n") for n in names], fontsize=9)
        ax.set_title(title)
        ax.set_xlabel("benchmark")
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _pos: "%gk" % (v / 1e3) if abs(v) >= 1e4 else "%g" % v))
        ax.grid(True, axis="y", alpha=0.3)
    for k in range(len(metrics), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
        fig.delaxes(axes[k // ncol][k % ncol])
    fig.suptitle("Benchmarks: netpoll against Go, libuv and raw epoll "
                 "(median of the repetitions, bars min–max)")
    shown = [c for c in allc if c in handles]
    ncolumns = min(3, len(shown))
    fig.legend([handles[c] for c in shown], [contender_name(c) for c in shown],
               title="contender", loc="lower center", ncol=ncolumns, fontsize=9)
    legend_in = 0.35 + 0.2 * ((len(shown) + ncolumns - 1) // ncolumns)
    fig.set_figheight(fig.get_figheight() + legend_in)
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    return save(plt, fig, path)


# --------------------------------------------------------------- the page

CSS = """
body { font-family: sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1000px;
       color: #222; box-sizing: border-box; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; } tr.bad td { background: #fde4e4; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
div.wide { overflow-x: auto; max-width: 100%; }
figcaption, p.note { font-size: 0.9em; color: #555; }
p.nodata { padding: 0.8em; background: #f4f4f4; border-left: 4px solid #999; }
"""

# Marks the page once every figure has loaded: <body data-images="ok N"> or
# "broken K of N" (the browser test reads it with --dump-dom).
SCRIPT = """
function npCheckImages() {
  var imgs = document.querySelectorAll('img'), bad = 0;
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0 || imgs[i].naturalHeight === 0) bad++;
  document.body.setAttribute('data-images',
    bad ? 'broken ' + bad + ' of ' + imgs.length : 'ok ' + imgs.length);
}
window.addEventListener('load', npCheckImages);
"""

# What the wake latency measures, and what a 0 means (beside the table and
# under the figure).
WAKE_ABOUT = (
    "<b>Wake latency</b> (<code>netpoll compare</code>): for each wait whose result is "
    "the same with the recorded timer fires and with exact timers, the trace time from "
    "when the wait became due - the event that woke it (readiness, close, unblock) or its "
    "deadline, as the replay with exact timers says - to its wake. <b>live</b>: the wake as "
    "recorded; <b>simulated</b>: the wake in the replay as recorded, which runs a woken "
    "task at once. <b>A latency of exactly 0</b> is a wake stamped at the very time it "
    "became due, not a task that ran in 0 ns: the recorder's trace clock stands still "
    "while a woken task has not yet run (traces/README.md), so a wait woken by an event "
    "carries that event's time, and the scheduling delay is not in the trace (times are "
    "in ns; the smallest non-zero ones are about 0.1 µs). Where most waits are at 0 the "
    "p50 is 0; \"p50 above 0\" is the median of the others. The simulator runs woken "
    "tasks at once, so its waits are at 0 but where a timer fired late.")

CAPTIONS = {
    "mutants": "Each single-change mutant of core/poll_desc.c (tests/mutants/), built and run "
               "under <code>netpoll check</code> by tests/mutation.sh: caught (the check exits 1), "
               "survived (it passes), equivalent (argued in the patch's header that no execution "
               "can tell it apart), other (stillborn, timeout, error).",
    "wake_latency": "Left: the share of the waits whose latency is exactly 0; right: how the "
                    "others are spread (a log axis cannot show 0). " + WAKE_ABOUT,
    "deadline_lateness": "Real nanoseconds from each deadline to its timer's fire, from "
                         "<code>netpoll record</code> on epoll. Go's deadline tests accept up to "
                         "10% of the deadline; dotted lines mark 10% of each workload's median "
                         "deadline where <code>netpoll compare</code> stored the deadlines' spans.",
    "outcome_classes": "Distinct outcome classes (each task's results) that "
                       "<code>netpoll explore</code> reached per scenario and design; hatched "
                       "bars (with the count): the exploration found a violation - red where "
                       "not expected, orange where the corpus expects it of that design "
                       "(corpus_findings.tsv, or the design's known bug in "
                       "expected_findings.tsv).",
    "coverage": "Distinct abstract pollDesc states found against executions, for the scenario "
                "explored by the most strategies, one line per "
                "exploration run, coloured by strategy (dfs, pct, random).",
    "bench": "Median of the repetitions; error bars from the minimum to the maximum.",
    "wake_series": "The live wake latency of each workload's latest <code>netpoll "
                   "compare</code> run, per window of trace time (at most about 100 windows a "
                   "run; table timing_series): the median, 99th percentile and maximum of "
                   "the waits that woke in the window. A window whose median is exactly 0 "
                   "(most of its waits at 0, see above) is drawn in the grey band.",
    "violations": "Each scenario that an exploration found a violation in, per design: how "
                  "many of its <code>netpoll explore</code> runs found one. Orange: the corpus "
                  "expects it of that design (corpus_findings.tsv, or the design's known bug "
                  "in expected_findings.tsv); red: not expected. One row gathers the "
                  "scenarios explored without a violation; the last row is the latest "
                  "<code>netpoll check</code> (its findings per design, expected or not).",
    "explore_rate": "Executions per second between consecutive progress samples of the "
                    "runs in the coverage plot (samples at 1, 2, 4, 8 ... executions and at "
                    "the end, so each point averages over twice the executions of the one "
                    "before; the first include the start-up); dotted: each run's overall rate.",
}

NODATA = {
    "wake_latency": "no compare run with wake_latency_live / wake_latency_sim samples "
                    "(run <code>netpoll compare TRACE --db FILE</code> on a recorded trace)",
    "deadline_lateness": "no live run with deadline_lateness samples (run "
                         "<code>netpoll record deadline-churn --db FILE</code>)",
    "outcome_classes": "no outcome_classes rows from explore runs",
    "coverage": "no explore_progress rows and no explore_stats with distinct states",
    "bench": "no bench rows",
    "wake_series": "no compare run with a wake_latency_live series (table timing_series, "
                   "schema version 4: run <code>netpoll compare TRACE --db FILE</code>)",
    "violations": "no explore runs and no check run",
    "explore_rate": "no explore_progress rows with their elapsed time (<code>netpoll explore "
                    "--db FILE</code> stores them)",
    "mutants": "no mutation run in this database (tests/mutation.sh; <code>netpoll demo</code> "
               "imports the last full run from tests/mutants/results.tsv)",
}


def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-2):
            return "%.*g" % (digits, v)
        return ("%.2f" % v).rstrip("0").rstrip(".")
    return str(v)


def table(head, rows, bad=None):
    out = ['<div class="wide"><table><tr>%s</tr>'
           % "".join("<th>%s</th>" % html.escape(h) for h in head)]
    for r in rows:
        cls = ' class="bad"' if bad and bad(r) else ""
        cells = []
        for v in r:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            cells.append('<td%s>%s</td>' % (' class="n"' if num else "", html.escape(fmt(v))))
        out.append("<tr%s>%s</tr>" % (cls, "".join(cells)))
    out.append("</table></div>")
    return "\n".join(out)


def pct(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, int((len(s) - 1) * p))]


def summary_tables(d):
    parts = []
    parts.append("<h2>Runs per kind</h2>")
    if d["runs_per_kind"]:
        parts.append(table(["kind", "runs", "exit 0", "exit 1 (finding)", "other / unfinished",
                            "events"], d["runs_per_kind"]))
    else:
        parts.append('<p class="note">no runs</p>')

    parts.append("<h2>Workloads and divergences</h2>")
    if d["divergences"]:
        rows = []
        for (name, w, kind), r in d["divergences"]:
            if r["unexpected"]:
                exp = "no" + (" (not in a corpus)" if r["unknown"] else "")
            elif r["missing"]:
                exp = "expected under %s, not seen" % ", ".join(sorted(r["missing"], key=design_key))
            elif r["div"]:
                exp = "yes (%s)" % ", ".join(sorted(r["expected"], key=design_key))
            elif r["unknown"]:
                exp = "–"
            else:
                exp = "none expected"
            if w and w + ".npt" != name.rsplit("/", 1)[-1]:
                name = "%s (workload %s)" % (name, w)
            rows.append((name, kind, ", ".join(sorted(r["designs"], key=design_key)),
                         r["runs"], r["div"], exp, r["late"]))
        parts.append(table(["trace", "kind", "designs", "runs", "divergences", "expected",
                            "lateness-dependent outcomes"],
                           rows, bad=lambda r: r[5] == "no" or r[5].startswith(("no ",
                                                                               "expected under"))))
        parts.append('<p class="note">%s</p>' % expected_note(d))
    else:
        parts.append('<p class="note">no compare or replay runs</p>')

    if d["wake"]:
        rows = []
        us = lambda v: v / 1e3 if v is not None else None
        share0 = lambda dist: 100.0 * dist.zeros() / dist.n if dist.n else None
        for w in sorted(d["wake"]):
            live, sim = d["wake"][w]["live"], d["wake"][w]["sim"]
            rows.append((w, live.n, share0(live), us(live.pct(0.5)),
                         us(live.nonzero().pct(0.5)), us(live.pct(0.99)),
                         share0(sim), us(sim.pct(0.99))))
        parts.append("<h2>Wake latency per workload</h2>")
        parts.append(table(["workload", "waits", "live: at 0 (%)", "live p50 (µs)",
                            "live p50 above 0 (µs)", "live p99 (µs)", "simulated: at 0 (%)",
                            "simulated p99 (µs)"], rows))
        parts.append('<p class="note" id="wake-zero">%s</p>' % WAKE_ABOUT)
    if d["late"]:
        rows = []
        for w in sorted(d["late"]):
            lv = d["late"][w]
            span = d["span"].get(w)
            within = (sum(1 for v in lv if v * 10 <= span) / len(lv) * 100) if lv and span else None
            rows.append((w, len(lv), pct(lv, 0.5) / 1e3 if lv else None,
                         pct(lv, 0.99) / 1e3 if lv else None,
                         span / 1e6 if span else None, within))
        parts.append("<h2>Deadline lateness per workload</h2>")
        parts.append(table(["workload", "live fires", "lateness p50 (µs)", "lateness p99 (µs)",
                            "median deadline (ms)", "fires within 10% (%)"], rows))

    parts.append("<h2>Violations per scenario and design</h2>")
    if d["violations"]:
        rows = [(w, g or "–", k, name, n, pre, "yes" if sched else "no",
                 ("yes (%s)" % why) if exp is True else ("no" if exp is False else "? (%s)" % why))
                for w, g, k, name, n, pre, sched, (exp, why) in d["violations"]]
        parts.append(table(["scenario / trace", "design", "run kind", "violation", "count",
                            "fewest preemptions", "schedule stored", "expected"], rows,
                           bad=lambda r: not r[7].startswith("yes")))
    else:
        parts.append('<p class="note">no violations recorded</p>')
    if d["classes"]:
        rows = [(s, g, len(c), sum(c.values()), d["explore_violations"].get((s, g), 0),
                 d["explore_unexpected"].get((s, g), 0))
                for (s, g), c in sorted(d["classes"].items(), key=lambda kv: (kv[0][0],
                                                                           design_key(kv[0][1])))]
        parts.append(table(["scenario", "design", "outcome classes", "executions classified",
                            "violations", "of them unexpected"], rows, bad=lambda r: r[5] > 0))

    parts.append("<h2>netpoll check</h2>")
    if d["check"]:
        rows = [(g, e, sc, x, ex, un, el / 1e9) for g, e, sc, x, ex, un, el, _ in d["check"]]
        parts.append('<p class="note">The latest check run: <code>%s</code>. Expected findings '
                     "are an older design's known bug (traces/expected_findings.tsv).</p>"
                     % html.escape(d["check"][0][7] or ""))
        parts.append(table(["design", "enumerated scenarios", "scenarios in all", "executions",
                            "expected findings", "unexpected findings", "time (s)"], rows,
                           bad=lambda r: r[5] > 0))
    else:
        parts.append('<p class="note">no check run (<code>netpoll check --db FILE</code>)</p>')
    if d["mutants"]:
        rows = []
        for st in ("tuning", "heldout"):
            m = [v for _, _, s2, v in d["mutants"] if s2 == st]
            scored = [v for v in m if v != "equivalent"]
            caught = [v for v in scored if v.startswith("caught")]
            rows.append((st, len(m), len(m) - len(scored), len(caught), len(scored) - len(caught),
                         "%.0f%%" % (100.0 * len(caught) / len(scored)) if scored else ""))
        parts.append('<p class="note">Mutation score: %s.</p>'
                     % html.escape(d["mutation_about"] or "tests/mutation.sh"))
        parts.append(table(["set", "mutants", "equivalent", "caught", "not caught", "score"], rows,
                           bad=lambda r: r[4] > 0))
        missed = [(m, o, st, v) for m, o, st, v in d["mutants"]
                  if not v.startswith("caught") and v != "equivalent"]
        if missed:
            parts.append(table(["mutant not caught", "operator", "set", "verdict"], missed))

    parts.append("<h2>Exploration per strategy</h2>")
    if d["strategy_stats"]:
        rows = [(s, n, e, st if st is not None and st >= 0 else None,
                 el / 1e9 if el is not None else None)
                for s, n, e, st, el in d["strategy_stats"]]
        parts.append(table(["strategy", "runs", "executions", "most distinct states (one run)",
                            "time (s)"], rows))
    else:
        parts.append('<p class="note">no explore runs</p>')

    parts.append("<h2>Benchmark medians</h2>")
    if d["bench"]:
        rows = []
        for (n, m), conts in sorted(d["bench"].items()):
            for c in sorted(conts, key=contender_key):
                v = conts[c]
                rows.append((bench_name(n), metric_title(m)[0], contender_name(c), len(v),
                             float(statistics.median(v)), float(min(v)), float(max(v))))
        parts.append(table(["benchmark", "metric", "contender", "repetitions", "median", "min",
                            "max"], rows))
    else:
        parts.append('<p class="note">no benchmark figures</p>')
    return "\n".join(parts)


def expected_note(d):
    used = sorted(d["corpus"].used)
    return ("Traces by file name (with a folder where two share one). <b>expected</b>: what "
            "the corpus says of each run - a recording (<code>netpoll record</code>) replays "
            "without divergence; a corpus trace as its corpus_findings.tsv (or corpus.tsv) "
            "says for that design (exact: go1.21 with <code>--exact-timers</code>). Shaded: a "
            "divergence not expected, or one expected that did not show. Read from: %s."
            % (", ".join("<code>%s</code>" % html.escape(f) for f in used) if used
               else "no corpus folder found beside the traces"))


def page(dbpath, d, figures):
    body = ["<h1>netpoll results</h1>",
            '<p class="note">From <code>%s</code> (%d runs), generated %s by '
            "<code>netpoll report</code>.</p>"
            % (html.escape(dbpath), d["nruns"], time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                              time.gmtime()))]
    body.append(summary_tables(d))
    for name, title in PLOTS:
        body.append("<h2>%s</h2>" % html.escape(title))
        png = figures.get(name)
        if png:
            b64 = base64.b64encode(png).decode("ascii")
            body.append('<figure><img id="fig-%s" alt="%s" src="data:image/png;base64,%s">'
                        "<figcaption>%s</figcaption></figure>"
                        % (name, html.escape(title), b64, CAPTIONS[name]))
        else:
            body.append('<p class="nodata" data-plot="%s">No data: %s.</p>' % (name, NODATA[name]))
        if name == "bench":
            body.append('<p class="note" id="recording-overhead">Recording overhead (the same '
                        "benchmark with the recorder on and off) is not stored in the results "
                        "database: <code>bench/trace/run_record_slices.sh</code> measures it "
                        "and bench/RESULTS.md has its figures.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>netpoll report</title>\n<style>%s</style>\n<script>%s</script>\n"
            "</head>\n<body data-images=\"pending\">\n%s\n</body></html>\n"
            % (CSS, SCRIPT, "\n".join(body)))


# --------------------------------------------------------------- main

def write_out(tmp, out):
    """Moves the files of tmp into out: a rename if out does not exist, else
    one atomic replace per file (report.html last), and a figure of an
    earlier report that has no data now is removed."""
    if not os.path.exists(out):
        os.rename(tmp, out)
        return
    files = sorted(os.listdir(tmp), key=lambda f: f == "report.html")
    for f in files:
        os.replace(os.path.join(tmp, f), os.path.join(out, f))
    for name, _ in PLOTS:
        if name + ".png" not in files and os.path.exists(os.path.join(out, name + ".png")):
            os.remove(os.path.join(out, name + ".png"))
    os.rmdir(tmp)


def main(argv):
    ap = argparse.ArgumentParser(prog="netpoll report",
                                 description="Plots and report.html from a results database.")
    ap.add_argument("--db", required=True, help="the SQLite results database")
    ap.add_argument("--out", required=True, help="the folder for the PNGs and report.html")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        sys.exit(2 if e.code else 0)
    out = a.out.rstrip("/") or "/"
    try:
        db = open_db(a.db)
        if os.path.exists(out) and not os.path.isdir(out):
            raise BadInput("%s: exists and is not a folder" % out)
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise BadInput("%s: no such folder" % parent)
        if not os.access(parent, os.W_OK) or (os.path.isdir(out) and not os.access(out, os.W_OK)):
            raise BadInput("%s: not writable" % out)
        try:
            d = load(db)
        except sqlite3.Error as e:
            raise BadInput("%s: cannot read it: %s" % (a.db, e))
        finally:
            db.close()
    except BadInput as e:
        die(str(e))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        die("matplotlib is missing for %s; install it with: apt-get install python3-matplotlib"
            % sys.executable)
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI})

    try:
        tmp = tempfile.mkdtemp(prefix=".report-", dir=os.path.dirname(os.path.abspath(out)))
    except OSError as e:
        die("%s: cannot create files in %s: %s"
            % (out, os.path.dirname(os.path.abspath(out)), e.strerror or e))
    mask = os.umask(0)
    os.umask(mask)
    try:
        figures = {}
        makers = {"wake_latency": plot_wake, "wake_series": plot_wake_series,
                  "deadline_lateness": plot_lateness, "violations": plot_violations,
                  "outcome_classes": plot_classes, "coverage": plot_coverage,
                  "explore_rate": plot_explore_rate, "bench": plot_bench,
                  "mutants": plot_mutants}
        for name, _ in PLOTS:
            p = os.path.join(tmp, name + ".png")
            if makers[name](plt, d, p):
                with open(p, "rb") as f:
                    figures[name] = f.read()
        with open(os.path.join(tmp, "report.html"), "w", encoding="utf-8") as f:
            f.write(page(a.db, d, figures))
        os.chmod(tmp, 0o777 & ~mask)  # the folder itself, if it becomes OUT
        write_out(tmp, out)
    except OSError as e:  # a full disk, a folder that refuses files: one line
        shutil.rmtree(tmp, ignore_errors=True)
        die("%s: cannot write: %s" % (e.filename or out, e.strerror or e))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print("report: %s: %d of %d figures (%s), summary tables -> %s"
          % (a.db, len(figures), len(PLOTS), ", ".join(figures) or "none",
             os.path.join(out, "report.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
