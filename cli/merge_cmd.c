/* cli/merge_cmd.c - `netpoll merge A.db B.db ... --into OUT.db`: every run of
 * the inputs copied into OUT (created, or added to), with new run ids; then,
 * for each sharded exploration whose shards 1..N are all there (explore runs
 * whose command lines differ only in `--shard I/N`), one more explore run,
 * "[merged N shards]", with the union of their abstract states and outcome
 * classes, their summed executions and every violation they found.
 *
 * The inputs are only read. They are staged in a private copy beside OUT,
 * and OUT gets the result in one transaction: a failure, or a kill, leaves
 * it as it was. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll merge A.db B.db ... --into OUT.db\n\n"
               "Copies every run of the given results databases into OUT.db (created if\n"
               "missing, else added to), and combines the shards of each sharded\n"
               "exploration (netpoll explore --shard I/N) into one run marked\n"
               "\"[merged N shards]\": union of states and outcome classes, summed\n"
               "executions, every violation. The inputs are not changed; OUT.db gets\n"
               "all of it in one transaction, or is left as it was on error.\n"
               "exit status: 0 merged, 2 bad input\n");
}

static int fail(sqlite3 *db, const char *what, const char *path)
{
    fprintf(stderr, "netpoll merge: %s: %s%s%s\n", path, what, db ? ": " : "",
            db ? sqlite3_errmsg(db) : "");
    return 2;
}

/* Column lists per table, beyond run_id (version 4; versions 1 to 3 lack
 * some: NULL there means the same list, "" a table they do not have). */
static const struct {
    const char *table, *cols, *cols_v1, *cols_v2, *cols_v3;
} tables[] = {
    {"outcomes", "seq, g, pd, mode, result, recorded, virtual_ns, wall_ns, wait_ns, deadline_ns",
     NULL, NULL, NULL},
    {"violations",
     "name, detail, schedule, trace, listing, preemptions, pd, g, mode, t_ns, line, scenario, "
     "scenario_hash",
     "name, detail, schedule, trace, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
     "name, detail, schedule, trace, listing, preemptions, NULL, NULL, NULL, NULL, NULL, NULL, "
     "NULL",
     "name, detail, schedule, trace, listing, preemptions, pd, g, mode, t_ns, line, NULL, NULL"},
    {"timing", "kind, g, pd, value_ns", NULL, NULL, NULL},
    {"timing_hist", "kind, lo_ns, hi_ns, count", "", "", ""},
    {"timing_series", "kind, t_ns, window_ns, count, p50_ns, p99_ns, max_ns", "", "", ""},
    {"explore_stats", "strategy, executions, distinct_states, race_pairs, elapsed_ns", NULL, NULL,
     NULL},
    {"explore_progress", "executions, states, elapsed_ns", "", NULL, NULL},
    {"explore_states", "state, text", "", NULL, NULL},
    {"outcome_classes", "class, count", NULL, NULL, NULL},
    {"bench", "name, contender, metric, value, rep", NULL, NULL, NULL},
    {"check_designs", "design, scenarios, enumerated, executions, expected, unexpected, elapsed_ns",
     "", "", NULL},
    {"mutants", "mutant, operator, function, set_name, verdict, seconds", "", "", NULL},
};

/* the runs columns of versions 1 to 3, and of version 4 */
#define RUN_COLS_V3                                                                                \
    "kind, backend, design, workload, trace, seed, git_rev, machine, params, started_at, "         \
    "ended_at, status, events, divergences, violations"
#define RUN_COLS RUN_COLS_V3 ", scenario, scenario_hash"

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Attaches the results database at path read-only as "src": its schema
 * version in *version, 0; or 2 after one line (and detached). */
static int attach_input(sqlite3 *db, const char *path, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS src", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        char uri[4200];
        snprintf(uri, sizeof uri, "file:%s?mode=ro", path);
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, "cannot open", path);
    int ok = 0;
    *version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA src.user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM src.sqlite_master WHERE name = 'runs'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    if (*version < 0) {
        fail(db, "not an SQLite database", path);
        exec(db, "DETACH DATABASE src");
        return 2;
    }
    if (!ok || *version < 1 || *version > NP_DB_SCHEMA_VERSION) {
        fprintf(stderr, "netpoll merge: %s: %s\n", path,
                !ok ? "an SQLite database, but not netpoll's results"
                    : "written by a newer netpoll");
        exec(db, "DETACH DATABASE src");
        return 2;
    }
    return 0;
}

/* Copies every run of the attached "src" (schema version) into main, with
 * new ids after main's largest, in the caller's transaction. 0 or -1. */
static int copy_runs(sqlite3 *db, int version)
{
    int err = exec(db, "DELETE FROM idmap") ||
              exec(db, "INSERT INTO idmap (old) SELECT id FROM src.runs ORDER BY id");
    /* new ids: after the largest in OUT, in the inputs' order */
    err = err || exec(db, "UPDATE idmap SET new = old - (SELECT min(old) FROM idmap) + 1 + "
                          "(SELECT coalesce(max(id), 0) FROM main.runs)");
    err =
        err || exec(db, version >= 4
                            ? "INSERT INTO main.runs (id, " RUN_COLS ") SELECT m.new, " RUN_COLS
                              " FROM src.runs r JOIN idmap m ON r.id = m.old"
                            : "INSERT INTO main.runs (id, " RUN_COLS ") SELECT m.new, " RUN_COLS_V3
                              ", NULL, NULL FROM src.runs r JOIN idmap m ON r.id = "
                              "m.old");
    for (size_t i = 0; !err && i < sizeof tables / sizeof tables[0]; i++) {
        const char *cols = version == 1 && tables[i].cols_v1   ? tables[i].cols_v1
                           : version == 2 && tables[i].cols_v2 ? tables[i].cols_v2
                           : version == 3 && tables[i].cols_v3 ? tables[i].cols_v3
                                                               : tables[i].cols;
        if (!*cols)
            continue; /* the table came with version 2 */
        char sql[1024], *p = sql;
        p += snprintf(sql, sizeof sql, "INSERT INTO main.%s (run_id, %s) SELECT m.new",
                      tables[i].table, tables[i].cols);
        /* the source columns, each qualified */
        char list[512];
        snprintf(list, sizeof list, "%s", cols);
        for (char *tok = strtok(list, ", "); tok; tok = strtok(NULL, ", "))
            p += snprintf(p, sizeof sql - (size_t)(p - sql),
                          strcmp(tok, "NULL") ? ", t.%s" : ", %s", tok);
        snprintf(p, sizeof sql - (size_t)(p - sql),
                 " FROM src.%s t JOIN idmap m ON t.run_id = m.old", tables[i].table);
        err = exec(db, sql);
    }
    return err ? -1 : 0;
}

/* One input into the staging copy, in a transaction of its own. */
static int copy_input(sqlite3 *db, const char *path)
{
    int version;
    if (attach_input(db, path, &version))
        return 2;
    if (exec(db, "BEGIN IMMEDIATE") || copy_runs(db, version) || exec(db, "COMMIT")) {
        fail(db, "cannot copy its runs", path);
        exec(db, "ROLLBACK");
        exec(db, "DETACH DATABASE src");
        return 2;
    }
    return exec(db, "DETACH DATABASE src") ? fail(db, "cannot detach", path) : 0;
}

/* " --shard I/N" in params: its position and I, N; false if none. */
static bool shard_of(const char *params, size_t *at, size_t *len, int *i, int *n)
{
    const char *p = strstr(params, " --shard ");
    if (!p || sscanf(p + 9, "%d/%d", i, n) != 2)
        return false;
    const char *e = p + 9;
    while (*e && *e != ' ')
        e++;
    *at = (size_t)(p - params);
    *len = (size_t)(e - p);
    return true;
}

typedef struct {
    int64_t id;
    char *key; /* params without the shard, plus trace and design */
    char *base;
    int i, n;
} shard_run;

static int combine_shards(sqlite3 *db, const char *out)
{
    sqlite3_stmt *st;
    shard_run *v = NULL;
    size_t nv = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, params, coalesce(trace, ''), coalesce(design, '') FROM runs "
                           "WHERE kind = 'explore' AND params LIKE '% --shard %' ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, "cannot read the explore runs", out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *params = (const char *)sqlite3_column_text(st, 1);
        size_t at, len;
        int i, n;
        if (!params || !shard_of(params, &at, &len, &i, &n) || n < 2 || i < 1 || i > n)
            continue;
        char base[2048], key[4096];
        snprintf(base, sizeof base, "%.*s%s", (int)at, params, params + at + len);
        /* the database each shard wrote is not part of what was explored */
        char *dbopt = strstr(base, " --db ");
        if (dbopt) {
            char *e = dbopt + 6;
            while (*e && *e != ' ')
                e++;
            memmove(dbopt, e, strlen(e) + 1);
        }
        snprintf(key, sizeof key, "%s|%s|%s|%d", base, sqlite3_column_text(st, 2),
                 sqlite3_column_text(st, 3), n);
        shard_run *w = realloc(v, (nv + 1) * sizeof *v);
        if (!w)
            break;
        v = w;
        v[nv++] = (shard_run){sqlite3_column_int64(st, 0), strdup(key), strdup(base), i, n};
    }
    sqlite3_finalize(st);
    int err = 0;
    for (size_t a = 0; a < nv && !err; a++) {
        if (!v[a].key)
            continue;
        /* the group of v[a]: the latest run of each shard number */
        int n = v[a].n;
        int64_t *ids = calloc((size_t)n, sizeof *ids);
        if (!ids)
            break;
        for (size_t b = a; b < nv; b++)
            if (v[b].key && v[a].key && !strcmp(v[b].key, v[a].key)) {
                ids[v[b].i - 1] = v[b].id;
                if (b != a) {
                    free(v[b].key);
                    v[b].key = NULL;
                }
            }
        bool complete = true;
        char list[4096] = "";
        for (int k = 0; k < n && complete; k++) {
            complete = ids[k] != 0;
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%lld", k ? "," : "", (long long)ids[k]);
        }
        char params[2200];
        snprintf(params, sizeof params, "%s [merged %d shards]", v[a].base, n);
        int exists = 0;
        if (complete && sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE params = ?", -1,
                                           &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, params, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW)
                exists = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        if (complete && !exists && strlen(list) < sizeof list - 1) {
            char *sql = sqlite3_mprintf(
                "INSERT INTO runs (" RUN_COLS ") SELECT 'explore', 'sim', min(design), "
                "NULL, min(trace), min(seed), min(git_rev), min(machine), %Q, min(started_at), "
                "max(ended_at), max(status), max(events), sum(divergences), sum(violations), "
                "min(scenario), min(scenario_hash) FROM runs WHERE id IN (%s);"
                "INSERT INTO explore_states (run_id, state, text) SELECT last_insert_rowid(), "
                "state, min(text) FROM explore_states WHERE run_id IN (%s) GROUP BY state;"
                "INSERT INTO explore_stats (run_id, strategy, executions, distinct_states, "
                "race_pairs, elapsed_ns) SELECT (SELECT max(id) FROM runs), min(strategy), "
                "sum(executions), (SELECT count(*) FROM explore_states WHERE run_id = "
                "(SELECT max(id) FROM runs)), max(race_pairs), max(elapsed_ns) "
                "FROM explore_stats WHERE run_id IN (%s);"
                "INSERT INTO explore_progress (run_id, executions, states, elapsed_ns) "
                "SELECT run_id, executions, distinct_states, elapsed_ns FROM explore_stats "
                "WHERE run_id = (SELECT max(id) FROM runs);"
                "INSERT INTO outcome_classes (run_id, class, count) SELECT (SELECT max(id) FROM "
                "runs), class, sum(count) FROM outcome_classes WHERE run_id IN (%s) GROUP BY "
                "class;"
                "INSERT INTO violations (run_id, name, detail, schedule, trace, listing, "
                "preemptions, pd, g, mode, t_ns, line, scenario, scenario_hash) SELECT (SELECT "
                "max(id) FROM runs), name, detail, schedule, trace, listing, preemptions, pd, g, "
                "mode, t_ns, line, scenario, scenario_hash FROM violations WHERE run_id IN (%s);",
                params, list, list, list, list, list);
            err = !sql || exec(db, sql);
            sqlite3_free(sql);
            if (!err)
                printf("merged %d shards of %s\n", n, v[a].base);
        }
        free(ids);
    }
    for (size_t a = 0; a < nv; a++) {
        free(v[a].key);
        free(v[a].base);
    }
    free(v);
    return err ? fail(db, "cannot combine the shards", out) : 0;
}

int np_cli_merge(int argc, char **argv)
{
    const char *out = NULL;
    const char **in = calloc((size_t)argc + 1, sizeof *in);
    int nin = 0;
    if (!in)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(in);
            return 0;
        } else if (!strcmp(argv[i], "--into")) {
            if (!(out = np_cli_value("merge", argc, argv, &i))) {
                free(in);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "netpoll merge: unexpected argument '%s' (see netpoll merge --help)\n",
                    argv[i]);
            free(in);
            return 2;
        } else {
            in[nin++] = argv[i];
        }
    }
    if (!out || !nin) {
        fprintf(stderr, "netpoll merge: want A.db ... --into OUT.db (see netpoll merge --help)\n");
        free(in);
        return 2;
    }
    struct stat sb, *ids = calloc((size_t)nin, sizeof *ids);
    if (!ids) {
        free(in);
        return 2;
    }
    for (int i = 0; i < nin; i++)
        if (stat(in[i], &ids[i]) != 0 || !S_ISREG(ids[i].st_mode)) {
            fprintf(stderr, "netpoll merge: %s: %s\n", in[i],
                    stat(in[i], &sb) != 0 ? strerror(errno) : "not a file");
            free(ids);
            free(in);
            return 2;
        }
    /* The same file twice would copy its runs twice, and OUT among the
     * inputs would add OUT's runs to itself: both refused. Files, not
     * names, are compared (device and inode: links, ./a.db and a.db). */
    bool out_exists = stat(out, &sb) == 0;
    for (int i = 0; i < nin; i++) {
        for (int j = 0; j < i; j++)
            if (ids[i].st_dev == ids[j].st_dev && ids[i].st_ino == ids[j].st_ino) {
                fprintf(stderr,
                        "netpoll merge: %s and %s are the same file: give each input once\n", in[j],
                        in[i]);
                free(ids);
                free(in);
                return 2;
            }
        if (out_exists && ids[i].st_dev == sb.st_dev && ids[i].st_ino == sb.st_ino) {
            fprintf(stderr, "netpoll merge: %s is the --into file %s: merge into another file\n",
                    in[i], out);
            free(ids);
            free(in);
            return 2;
        }
    }
    free(ids);
    /* The inputs are first copied into a private staging file beside OUT
     * (each input once, new ids from 1); then OUT gets the staged runs and
     * the combined shards in one transaction of its own. SQLite makes that
     * transaction atomic, also against a kill: OUT has all of the merge or
     * none of it, and the commits of other writers (a WAL that a killed
     * writer left, a concurrent run) are kept, where a copy of OUT renamed
     * over it lost them. */
    char tmp[4200], side[4300];
    snprintf(tmp, sizeof tmp, "%s.merge-%ld.tmp", out, (long)getpid());
    bool existed = stat(out, &sb) == 0;
    if (existed && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "netpoll merge: %s: not a file\n", out);
        free(in);
        return 2;
    }
    np_db *ndb;
    char msg[600];
    int status = 0;
    sqlite3 *db = NULL;
    if (np_db_open(tmp, &ndb, msg, sizeof msg) != 0) {
        fprintf(stderr, "netpoll merge: %s\n", msg);
        status = 2;
    } else {
        np_db_close(ndb);
    }
    if (!status &&
        (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK ||
         exec(db, "PRAGMA journal_mode = DELETE") ||
         exec(db, "CREATE TEMP TABLE idmap (old INTEGER PRIMARY KEY, new INTEGER)")))
        status = fail(db, "cannot write", tmp);
    for (int i = 0; !status && i < nin; i++)
        status = copy_input(db, in[i]);
    if (db)
        sqlite3_close(db);
    db = NULL;
    /* OUT: created or upgraded by the results store, then written */
    bool made = false;
    if (!status) {
        if (np_db_open(out, &ndb, msg, sizeof msg) != 0) {
            fprintf(stderr, "netpoll merge: %s\n", msg);
            status = 2;
        } else {
            np_db_close(ndb);
            made = !existed;
        }
    }
    int version;
    if (!status &&
        (sqlite3_open_v2(out, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK ||
         (sqlite3_busy_timeout(db, 2000), 0) ||
         exec(db, "CREATE TEMP TABLE idmap (old INTEGER PRIMARY KEY, new INTEGER)")))
        status = fail(db, "cannot write", out);
    if (!status)
        status = attach_input(db, tmp, &version);
    if (!status) {
        if (exec(db, "BEGIN IMMEDIATE") || copy_runs(db, version))
            status = fail(db, "cannot write", out);
        if (!status)
            status = combine_shards(db, out);
        if (!status && exec(db, "COMMIT"))
            status = fail(db, "cannot commit", out);
        if (status)
            exec(db, "ROLLBACK");
        exec(db, "DETACH DATABASE src");
    }
    if (db)
        sqlite3_close(db);
    unlink(tmp);
    snprintf(side, sizeof side, "%s-journal", tmp);
    unlink(side);
    if (status && made) { /* an OUT this merge created and could not fill */
        unlink(out);
        snprintf(side, sizeof side, "%s-wal", out);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", out);
        unlink(side);
    }
    if (!status)
        printf("merge: %d database%s into %s\n", nin, nin == 1 ? "" : "s", out);
    free(in);
    return status;
}
