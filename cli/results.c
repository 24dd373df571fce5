/* cli/results.c - the SQLite results store. */
#include "results.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "netpoll/invariants.h"
#include "netpoll/poll.h"
#include "schema_sql.h" /* np_schema_sql: cli/schema.sql, embedded at build time */

#ifndef NP_GIT_REV
#define NP_GIT_REV "unknown"
#endif

const char *np_db_abs_path(const char *path, char *buf, size_t len)
{
    char real[PATH_MAX], cwd[PATH_MAX];
    if (!path)
        return NULL;
    if (realpath(path, real)) {
        if (strlen(real) < len) {
            snprintf(buf, len, "%s", real);
            return buf;
        }
    } else if (path[0] != '/' && getcwd(cwd, sizeof cwd)) {
        while (path[0] == '.' && path[1] == '/')
            path += 2;
        if (strlen(cwd) + 1 + strlen(path) < len) {
            snprintf(buf, len, "%s/%s", cwd, path);
            return buf;
        }
    }
    return path;
}

struct np_db {
    sqlite3 *h;
    char path[256];
    int64_t run; /* the open run, or 0 */
    sqlite3_stmt *outcome, *violation, *timing, *bench, *end;
    char err[512];
};

const char *np_db_error(np_db *db)
{
    return db->err;
}

static int fail(np_db *db, const char *what)
{
    int code = sqlite3_extended_errcode(db->h);
    const char *why = sqlite3_errmsg(db->h);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        why = "the database is locked by another writer";
    else if ((code & 0xff) == SQLITE_NOTADB)
        why = "not an SQLite database";
    else if ((code & 0xff) == SQLITE_FULL)
        why = "the disk is full";
    snprintf(db->err, sizeof db->err, "%s: %s: %s", db->path, what, why);
    return -1;
}

static int exec(np_db *db, const char *sql, const char *what)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db, what);
}

/* The one integer a query answers. */
static int query_int(np_db *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(db, "cannot read it");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "cannot read it");
}

int np_db_open(const char *path, np_db **out, char *msg, size_t len)
{
    np_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(msg, len, "%s: out of memory", path);
        return -1;
    }
    snprintf(db->path, sizeof db->path, "%s", path);
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int v = 0, tables = 0;
    if (rc != SQLITE_OK) {
        snprintf(db->err, sizeof db->err, "%s: cannot open: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto bad;
    }
    sqlite3_busy_timeout(db->h, 2000); /* a concurrent writer: wait 2 s, then give up */
    if (query_int(db, "PRAGMA user_version", &v) ||
        query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &tables))
        goto bad;
    if (v > NP_DB_SCHEMA_VERSION) {
        snprintf(db->err, sizeof db->err, "%s: written by a newer netpoll (schema %d, this is %d)",
                 path, v, NP_DB_SCHEMA_VERSION);
        goto bad;
    }
    if (v == 0 && tables > 0) {
        snprintf(db->err, sizeof db->err, "%s: an SQLite database, but not netpoll's results",
                 path);
        goto bad;
    }
    if (v >= 1 && v < NP_DB_SCHEMA_VERSION) { /* older: what later versions added, at once */
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", NP_DB_SCHEMA_VERSION);
        /* version 3: the runs table again, for its CHECK on kind (SQLite alters
         * no constraint): renamed without rewriting the other tables'
         * references (legacy_alter_table), created anew by the schema (so with
         * version 4's columns already), filled, dropped. Version 4: the
         * scenario columns of runs (unless made so) and violations. */
        if (exec(db, "BEGIN IMMEDIATE", "cannot write") ||
            (v == 1 &&
             (exec(db, "ALTER TABLE violations ADD COLUMN listing TEXT", "cannot upgrade it") ||
              exec(db, "ALTER TABLE violations ADD COLUMN preemptions INTEGER",
                   "cannot upgrade it"))) ||
            (v <= 2 &&
             (exec(db, "ALTER TABLE violations ADD COLUMN pd INTEGER", "cannot upgrade it") ||
              exec(db, "ALTER TABLE violations ADD COLUMN g INTEGER", "cannot upgrade it") ||
              exec(db, "ALTER TABLE violations ADD COLUMN mode TEXT", "cannot upgrade it") ||
              exec(db, "ALTER TABLE violations ADD COLUMN t_ns INTEGER", "cannot upgrade it") ||
              exec(db, "ALTER TABLE violations ADD COLUMN line INTEGER", "cannot upgrade it") ||
              exec(db, "PRAGMA legacy_alter_table = ON", "cannot upgrade it") ||
              exec(db, "ALTER TABLE runs RENAME TO runs_v2", "cannot upgrade it") ||
              exec(db, np_schema_sql, "cannot upgrade it") ||
              exec(db,
                   "INSERT INTO runs (id, kind, backend, design, workload, trace, seed, git_rev, "
                   "machine, params, started_at, ended_at, status, events, divergences, "
                   "violations) SELECT * FROM runs_v2",
                   "cannot upgrade it") ||
              exec(db, "DROP TABLE runs_v2", "cannot upgrade it") ||
              exec(db, "PRAGMA legacy_alter_table = OFF", "cannot upgrade it"))) ||
            (v == 3 &&
             (exec(db, "ALTER TABLE runs ADD COLUMN scenario TEXT", "cannot upgrade it") ||
              exec(db, "ALTER TABLE runs ADD COLUMN scenario_hash TEXT", "cannot upgrade it"))) ||
            exec(db, "ALTER TABLE violations ADD COLUMN scenario TEXT", "cannot upgrade it") ||
            exec(db, "ALTER TABLE violations ADD COLUMN scenario_hash TEXT", "cannot upgrade it") ||
            exec(db, np_schema_sql, "cannot upgrade it") || /* tables and indexes it lacks */
            exec(db, set, "cannot upgrade it") || exec(db, "COMMIT", "cannot write")) {
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            sqlite3_exec(db->h, "PRAGMA legacy_alter_table = OFF", NULL, NULL, NULL);
            goto bad;
        }
    }
    if (v == 0) { /* a new file: the schema, in one transaction */
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", NP_DB_SCHEMA_VERSION);
        if (exec(db, "PRAGMA journal_mode = WAL", "cannot use WAL") ||
            exec(db, "BEGIN IMMEDIATE", "cannot write") ||
            exec(db, np_schema_sql, "cannot create the schema") ||
            exec(db, set, "cannot create the schema") || exec(db, "COMMIT", "cannot write")) {
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            goto bad;
        }
    }
    *out = db;
    return 0;
bad:
    snprintf(msg, len, "%s", db->err);
    if (db->h)
        sqlite3_close(db->h);
    free(db);
    return -1;
}

static void finalize_all(np_db *db)
{
    sqlite3_finalize(db->outcome);
    sqlite3_finalize(db->violation);
    sqlite3_finalize(db->timing);
    sqlite3_finalize(db->bench);
    sqlite3_finalize(db->end);
    db->outcome = db->violation = db->timing = db->bench = db->end = NULL;
}

static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int64_t np_db_begin_run(np_db *db, const np_db_run *r)
{
    return np_db_begin_run_of(db, r, NULL, NULL);
}

int64_t np_db_begin_run_of(np_db *db, const np_db_run *r, const char *scenario,
                           const char *scenario_hash)
{
    if (exec(db, "BEGIN IMMEDIATE", "cannot start a run"))
        return -1;
    struct utsname u;
    char machine[256] = "unknown", started[32];
    if (uname(&u) == 0)
        snprintf(machine, sizeof machine, "%s %s %s, %ld CPUs", u.sysname, u.release, u.machine,
                 sysconf(_SC_NPROCESSORS_ONLN));
    now_iso(started, sizeof started);
    sqlite3_stmt *st;
    const char *sql = "INSERT INTO runs (kind, backend, design, workload, trace, seed, git_rev, "
                      "machine, params, started_at, scenario, scenario_hash) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
    char trace[PATH_MAX];
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        goto bad;
    bind_text(st, 1, r->kind);
    bind_text(st, 2, r->backend);
    bind_text(st, 3, r->design);
    bind_text(st, 4, r->workload);
    bind_text(st, 5, np_db_abs_path(r->trace, trace, sizeof trace));
    if (r->seed >= 0)
        sqlite3_bind_int64(st, 6, r->seed);
    else
        sqlite3_bind_null(st, 6);
    bind_text(st, 7, NP_GIT_REV);
    bind_text(st, 8, machine);
    bind_text(st, 9, r->params);
    bind_text(st, 10, started);
    bind_text(st, 11, scenario);
    bind_text(st, 12, scenario_hash);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto bad;
    db->run = sqlite3_last_insert_rowid(db->h);
    if (sqlite3_prepare_v2(
            db->h,
            "INSERT INTO outcomes (run_id, seq, g, pd, mode, result, recorded, "
            "virtual_ns, wall_ns, wait_ns, deadline_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            -1, &db->outcome, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "INSERT INTO violations (run_id, name, detail, schedule, trace, "
                           "listing, preemptions, pd, g, mode, t_ns, line, scenario, "
                           "scenario_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &db->violation, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "INSERT INTO timing (run_id, kind, g, pd, value_ns) VALUES (?,?,?,?,?)",
                           -1, &db->timing, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "INSERT INTO bench (run_id, name, contender, metric, value, rep) "
                           "VALUES (?,?,?,?,?,?)",
                           -1, &db->bench, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "UPDATE runs SET ended_at = ?, status = ?, events = ?, divergences = ?, "
                           "violations = ? WHERE id = ?",
                           -1, &db->end, NULL) != SQLITE_OK)
        goto bad;
    return db->run;
bad:
    fail(db, "cannot record the run");
    finalize_all(db);
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->run = 0;
    return -1;
}

static int step(np_db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(db, what);
}

int np_db_outcome(np_db *db, int64_t seq, int g, int pd, const char *mode, const char *result,
                  const char *recorded, int64_t virtual_ns, int64_t wall_ns, int64_t wait_ns,
                  int64_t deadline_ns)
{
    sqlite3_stmt *st = db->outcome;
    sqlite3_bind_int64(st, 1, db->run);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int(st, 3, g);
    sqlite3_bind_int(st, 4, pd);
    bind_text(st, 5, mode);
    bind_text(st, 6, result);
    bind_text(st, 7, recorded);
    if (virtual_ns >= 0)
        sqlite3_bind_int64(st, 8, virtual_ns);
    if (wall_ns >= 0)
        sqlite3_bind_int64(st, 9, wall_ns);
    sqlite3_bind_int64(st, 10, wait_ns);
    sqlite3_bind_int64(st, 11, deadline_ns);
    return step(db, st, "cannot store an outcome");
}

int np_db_violation(np_db *db, const char *name, const char *detail, const char *schedule,
                    const char *trace)
{
    return np_db_violation_ex(db, name, detail, schedule, trace, NULL, -1);
}

int np_db_violation_ex(np_db *db, const char *name, const char *detail, const char *schedule,
                       const char *trace, const char *listing, int preemptions)
{
    sqlite3_stmt *st = db->violation;
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, name);
    bind_text(st, 3, detail);
    bind_text(st, 4, schedule);
    bind_text(st, 5, trace);
    bind_text(st, 6, listing);
    if (preemptions >= 0)
        sqlite3_bind_int(st, 7, preemptions);
    else
        sqlite3_bind_null(st, 7);
    for (int i = 8; i <= 14; i++)
        sqlite3_bind_null(st, i);
    return step(db, st, "cannot store a violation");
}

int np_db_violation_rec(np_db *db, const np_violation *v, const char *schedule, const char *trace,
                        const char *listing, int preemptions)
{
    return np_db_violation_in(db, v, schedule, trace, listing, preemptions, NULL, NULL);
}

int np_db_violation_in(np_db *db, const np_violation *v, const char *schedule, const char *trace,
                       const char *listing, int preemptions, const char *scenario, const char *hash)
{
    char line[600];
    np_violation_line(v, line, sizeof line);
    sqlite3_stmt *st = db->violation;
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, np_inv_name(v->kind));
    bind_text(st, 3, line);
    bind_text(st, 4, schedule);
    bind_text(st, 5, trace);
    bind_text(st, 6, listing);
    if (preemptions >= 0)
        sqlite3_bind_int(st, 7, preemptions);
    else
        sqlite3_bind_null(st, 7);
    if (v->pd > 0)
        sqlite3_bind_int(st, 8, v->pd);
    else
        sqlite3_bind_null(st, 8);
    if (v->g > 0)
        sqlite3_bind_int(st, 9, v->g);
    else
        sqlite3_bind_null(st, 9);
    bind_text(st, 10,
              v->mode == NP_MODE_R    ? "r"
              : v->mode == NP_MODE_W  ? "w"
              : v->mode == NP_MODE_RW ? "rw"
                                      : NULL);
    sqlite3_bind_int64(st, 11, v->t);
    if (v->line)
        sqlite3_bind_int64(st, 12, v->line);
    else
        sqlite3_bind_null(st, 12);
    bind_text(st, 13, scenario);
    bind_text(st, 14, hash);
    return step(db, st, "cannot store a violation");
}

int np_db_check_design(np_db *db, const char *design, int64_t scenarios, int64_t enumerated,
                       int64_t executions, int64_t expected, int64_t unexpected, int64_t elapsed_ns)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h,
                           "INSERT INTO check_designs (run_id, design, scenarios, enumerated, "
                           "executions, expected, unexpected, elapsed_ns) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, "cannot store a check");
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, design);
    sqlite3_bind_int64(st, 3, scenarios);
    sqlite3_bind_int64(st, 4, enumerated);
    sqlite3_bind_int64(st, 5, executions);
    sqlite3_bind_int64(st, 6, expected);
    sqlite3_bind_int64(st, 7, unexpected);
    sqlite3_bind_int64(st, 8, elapsed_ns);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(db, "cannot store a check");
}

int np_db_mutant(np_db *db, const char *mutant, const char *op, const char *function,
                 const char *set, const char *verdict, double seconds)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h,
                           "INSERT INTO mutants (run_id, mutant, operator, function, set_name, "
                           "verdict, seconds) VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, "cannot store a mutant");
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, mutant);
    bind_text(st, 3, op);
    bind_text(st, 4, function);
    bind_text(st, 5, set);
    bind_text(st, 6, verdict);
    sqlite3_bind_double(st, 7, seconds);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(db, "cannot store a mutant");
}

int np_db_timing(np_db *db, const char *kind, int g, int pd, int64_t value_ns)
{
    sqlite3_stmt *st = db->timing;
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, kind);
    sqlite3_bind_int(st, 3, g);
    sqlite3_bind_int(st, 4, pd);
    sqlite3_bind_int64(st, 5, value_ns);
    return step(db, st, "cannot store a timing sample");
}

/* The histogram bucket [*lo, *hi] of v (np_db_hist). */
static void hist_bucket(int64_t v, int64_t *lo, int64_t *hi)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (a > (uint64_t)INT64_MAX)
        a = (uint64_t)INT64_MAX;
    if (a < 256) {
        *lo = *hi = v;
        return;
    }
    int e = 63 - __builtin_clzll(a); /* a in [2^e, 2^(e+1)), e >= 8 */
    uint64_t w = (uint64_t)1 << (e - 7), l = a & ~(w - 1), h = l + (w - 1);
    if (h > (uint64_t)INT64_MAX)
        h = (uint64_t)INT64_MAX;
    if (v < 0) {
        *lo = -(int64_t)h;
        *hi = -(int64_t)l;
    } else {
        *lo = (int64_t)l;
        *hi = (int64_t)h;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int np_db_hist(np_db *db, const char *kind, const int64_t *v, size_t n)
{
    if (!n)
        return 0;
    int64_t *s = malloc(n * sizeof *s);
    sqlite3_stmt *st = NULL;
    if (!s) {
        snprintf(db->err, sizeof db->err, "%s: out of memory", db->path);
        return -1;
    }
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_i64);
    int err = sqlite3_prepare_v2(db->h,
                                 "INSERT INTO timing_hist (run_id, kind, lo_ns, hi_ns, count) "
                                 "VALUES (?,?,?,?,?)",
                                 -1, &st, NULL) != SQLITE_OK;
    for (size_t i = 0; !err && i < n;) {
        int64_t lo, hi;
        hist_bucket(s[i], &lo, &hi);
        size_t j = i;
        while (j < n && s[j] <= hi)
            j++;
        sqlite3_bind_int64(st, 1, db->run);
        bind_text(st, 2, kind);
        sqlite3_bind_int64(st, 3, lo);
        sqlite3_bind_int64(st, 4, hi);
        sqlite3_bind_int64(st, 5, (int64_t)(j - i));
        err = sqlite3_step(st) != SQLITE_DONE;
        sqlite3_reset(st);
        i = j;
    }
    sqlite3_finalize(st);
    free(s);
    return err ? fail(db, "cannot store a histogram") : 0;
}

typedef struct {
    int64_t t, v;
} tv_pair;

static int cmp_tv(const void *a, const void *b)
{
    const tv_pair *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

int np_db_series(np_db *db, const char *kind, const int64_t *t, const int64_t *v, size_t n)
{
    if (!n)
        return 0;
    tv_pair *p = malloc(n * sizeof *p);
    int64_t *w = malloc(n * sizeof *w);
    sqlite3_stmt *st = NULL;
    if (!p || !w) {
        free(p);
        free(w);
        snprintf(db->err, sizeof db->err, "%s: out of memory", db->path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (tv_pair){t[i], v[i]};
    qsort(p, n, sizeof *p, cmp_tv);
    /* about 100 windows: the span / 100 rounded up to 1, 2 or 5 times 10^k */
    int64_t span = p[n - 1].t - p[0].t, want = span / 100 + 1, win = 1;
    while (win < want) {
        if (win * 2 >= want) {
            win *= 2;
            break;
        }
        if (win * 5 >= want) {
            win *= 5;
            break;
        }
        win *= 10;
    }
    int err = sqlite3_prepare_v2(db->h,
                                 "INSERT INTO timing_series (run_id, kind, t_ns, window_ns, count, "
                                 "p50_ns, p99_ns, max_ns) VALUES (?,?,?,?,?,?,?,?)",
                                 -1, &st, NULL) != SQLITE_OK;
    for (size_t i = 0; !err && i < n;) {
        int64_t start = p[i].t - ((p[i].t % win) + win) % win; /* floor to the window */
        size_t j = i, m = 0;
        while (j < n && p[j].t < start + win)
            w[m++] = p[j++].v;
        qsort(w, m, sizeof *w, cmp_i64);
        sqlite3_bind_int64(st, 1, db->run);
        bind_text(st, 2, kind);
        sqlite3_bind_int64(st, 3, start);
        sqlite3_bind_int64(st, 4, win);
        sqlite3_bind_int64(st, 5, (int64_t)m);
        sqlite3_bind_int64(st, 6, w[(m - 1) / 2]);
        sqlite3_bind_int64(st, 7, w[(m * 99 + 99) / 100 - 1]);
        sqlite3_bind_int64(st, 8, w[m - 1]);
        err = sqlite3_step(st) != SQLITE_DONE;
        sqlite3_reset(st);
        i = j;
    }
    sqlite3_finalize(st);
    free(p);
    free(w);
    return err ? fail(db, "cannot store a series") : 0;
}

int np_db_bench(np_db *db, const char *name, const char *contender, const char *metric,
                double value, int rep)
{
    sqlite3_stmt *st = db->bench;
    sqlite3_bind_int64(st, 1, db->run);
    bind_text(st, 2, name);
    bind_text(st, 3, contender);
    bind_text(st, 4, metric);
    sqlite3_bind_double(st, 5, value);
    sqlite3_bind_int(st, 6, rep);
    return step(db, st, "cannot store a benchmark figure");
}

/* A one-off statement of the current run: sql with ?1 = the run id, then
 * the n int64 values and the text (bound after them, if not NULL). */
static int insert(np_db *db, const char *sql, const char *text, int n, const int64_t *v,
                  const char *what)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(db, what);
    sqlite3_bind_int64(st, 1, db->run);
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(st, 2 + i, v[i]);
    if (text)
        sqlite3_bind_text(st, 2 + n, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(db, what);
}

int np_db_explore_stats(np_db *db, const char *strategy, int64_t executions, int64_t states,
                        int64_t race_pairs, int64_t elapsed_ns)
{
    int64_t v[] = {executions, states, race_pairs, elapsed_ns};
    return insert(db,
                  "INSERT INTO explore_stats (run_id, executions, distinct_states, race_pairs, "
                  "elapsed_ns, strategy) VALUES (?1,?2,?3,?4,?5,?6)",
                  strategy, 4, v, "cannot store exploration statistics");
}

int np_db_explore_progress(np_db *db, int64_t executions, int64_t states, int64_t elapsed_ns)
{
    int64_t v[] = {executions, states, elapsed_ns};
    return insert(db,
                  "INSERT INTO explore_progress (run_id, executions, states, elapsed_ns) "
                  "VALUES (?1,?2,?3,?4)",
                  NULL, 3, v, "cannot store exploration progress");
}

int np_db_explore_state(np_db *db, int64_t state, const char *text)
{
    return insert(db, "INSERT INTO explore_states (run_id, state, text) VALUES (?1,?2,?3)", text, 1,
                  &state, "cannot store an explored state");
}

int np_db_outcome_class(np_db *db, const char *cls, int64_t count)
{
    return insert(db, "INSERT INTO outcome_classes (run_id, count, class) VALUES (?1,?2,?3)", cls,
                  1, &count, "cannot store an outcome class");
}

int np_db_trace_workload(np_db *db, const char *trace, char *buf, size_t len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h,
                           "SELECT workload FROM runs WHERE kind = 'live' AND trace IN (?, ?) "
                           "AND workload IS NOT NULL ORDER BY id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, "cannot read it");
    char abs[PATH_MAX];
    bind_text(st, 1, np_db_abs_path(trace, abs, sizeof abs));
    bind_text(st, 2, trace);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(db, "cannot read it");
}

int np_db_end_run(np_db *db, int status, int64_t events, int64_t divergences, int64_t violations)
{
    char ended[32];
    now_iso(ended, sizeof ended);
    sqlite3_stmt *st = db->end;
    bind_text(st, 1, ended);
    sqlite3_bind_int(st, 2, status);
    sqlite3_bind_int64(st, 3, events);
    sqlite3_bind_int64(st, 4, divergences);
    sqlite3_bind_int64(st, 5, violations);
    sqlite3_bind_int64(st, 6, db->run);
    int err = step(db, st, "cannot finish the run");
    finalize_all(db);
    if (!err)
        err = exec(db, "COMMIT", "cannot commit the run");
    if (err)
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->run = 0;
    return err;
}

void np_db_close(np_db *db)
{
    if (!db)
        return;
    if (db->run) { /* an unfinished run: leave the database as it was */
        finalize_all(db);
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_close(db->h);
    free(db);
}
