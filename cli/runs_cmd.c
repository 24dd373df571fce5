/* cli/runs_cmd.c - `netpoll runs [--db FILE]`: one line per run of a results
 * database; `netpoll export --run ID --csv DIR [--db FILE]`: that run's rows,
 * one CSV file per table. Both only read the database (opened read-only, so
 * someone else's results in a folder we cannot write are readable too). */
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

static void runs_usage(FILE *f)
{
    fprintf(f, "usage: netpoll runs [--db FILE]\n\n"
               "Lists the runs of a results database (default results.db), one line each:\n"
               "its id, start time (UTC), the commit of the netpoll that ran it (git\n"
               "describe), its verdict and its command line. The verdict is ok (exit 0),\n"
               "findings (exit 1: violations or divergences, counted), error (2),\n"
               "incomplete (3: netpoll check cut short by --seconds), or UNFINISHED: a run\n"
               "that has a start and no end (no netpoll command leaves one; a run is one\n"
               "transaction, so a killed run is absent - see README, \"Results database\").\n"
               "The database is only read.\n"
               "exit status: 0 listed, 2 bad input (a missing file, not netpoll's results)\n");
}

static void export_usage(FILE *f)
{
    fprintf(f, "usage: netpoll export --run ID --csv DIR [--db FILE]\n\n"
               "Writes the rows of run ID of a results database (default results.db) as CSV,\n"
               "one file per table: DIR/runs.csv (the run itself), DIR/outcomes.csv,\n"
               "DIR/violations.csv, DIR/timing.csv, ... - every table with a run_id column,\n"
               "a header line of column names first (a table without rows of the run: the\n"
               "header alone). Fields as RFC 4180 (quoted when they hold a comma, a quote or\n"
               "a line break); NULL is an empty field. DIR is created if it is missing (its\n"
               "parent must exist). Each file is written under a temporary name in DIR and\n"
               "renamed once all are complete: an export that fails leaves DIR as it was.\n"
               "The database is only read.\n"
               "exit status: 0 written, 2 bad input (no such run, a missing file, a DIR that\n"
               "cannot be written)\n");
}

/* path as an SQLite URI filename ("file:..." with %, ? and # escaped). */
static char *uri_of(const char *path, const char *query)
{
    size_t n = strlen(path), len = 8 + 3 * n + strlen(query) + 1;
    char *u = malloc(len), *p = u;
    if (!u)
        return NULL;
    p += sprintf(p, "file:");
    for (const char *s = path; *s; s++)
        p += *s == '%' || *s == '?' || *s == '#' ? sprintf(p, "%%%02X", (unsigned char)*s)
                                                 : sprintf(p, "%c", *s);
    sprintf(p, "%s", query);
    return u;
}

static int version_of(sqlite3 *h, int *v, int *runs)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc;
    rc = sqlite3_prepare_v2(h,
                            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'runs'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        *runs = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* A private copy of a database and its -wal (open_ro), removed by close_ro. */
static char copy_dir[4096];

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int err = !in || !out;
    while (!err && (n = fread(buf, 1, sizeof buf, in)) > 0)
        err = fwrite(buf, 1, n, out) != n;
    err = err || (in && ferror(in));
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        err = 1;
    return err ? -1 : 0;
}

static void remove_copy(void)
{
    if (!*copy_dir)
        return;
    static const char *const names[] = {"r.db", "r.db-wal", "r.db-shm", "r.db-journal"};
    char f[4200];
    for (size_t i = 0; i < 4; i++) {
        snprintf(f, sizeof f, "%s/%s", copy_dir, names[i]);
        unlink(f);
    }
    rmdir(copy_dir);
    *copy_dir = 0;
}

static void close_ro(sqlite3 *h)
{
    sqlite3_close(h);
    remove_copy();
}

/* path and its -wal copied into a private folder: the copy's path in buf,
 * 0; or -1 (nothing left behind). */
static int private_copy(const char *path, char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(copy_dir, sizeof copy_dir, "%s/netpoll-ro-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(copy_dir)) {
        *copy_dir = 0;
        return -1;
    }
    char from[4200], to[4200];
    snprintf(to, sizeof to, "%s/r.db", copy_dir);
    snprintf(from, sizeof from, "%s-wal", path);
    snprintf(buf, len, "%s", to);
    int err = copy_file(path, to);
    snprintf(to, sizeof to, "%s/r.db-wal", copy_dir);
    if (err || copy_file(from, to)) {
        remove_copy();
        return -1;
    }
    return 0;
}

/* Opens a results database read-only: 0, or 2 after one line on stderr.
 * A WAL database in a folder we cannot write (its -shm cannot be made) is
 * read from a private copy of it and its -wal when that holds commits not
 * yet in the database (a writer that was killed leaves them there; without
 * a -shm SQLite itself would not read them), else opened as immutable,
 * which reads the database file alone. */
static int open_ro(const char *cmd, const char *path, sqlite3 **out)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "netpoll %s: %s: %s%s\n", cmd, path,
                stat(path, &sb) != 0 ? strerror(errno) : "not a file",
                strcmp(path, NP_CLI_DEFAULT_DB) ? "" : " (--db FILE names the database)");
        return 2;
    }
    char wal[4200], shm[4200], folder[4200], copy[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    snprintf(folder, sizeof folder, "%s", path);
    char *slash = strrchr(folder, '/');
    if (slash)
        slash[slash == folder] = 0; /* "/x.db": "/" */
    bool has_wal = stat(wal, &sb) == 0 && sb.st_size > 0;
    /* no -shm, none can be made: SQLite would read the file without its -wal */
    bool no_shm = access(shm, F_OK) != 0 && access(slash ? folder : ".", W_OK) != 0;
    sqlite3 *h = NULL;
    int v = 0, runs = 0, rc = SQLITE_CANTOPEN;
    for (int pass = has_wal && no_shm; pass < 2 && rc != SQLITE_OK; pass++) {
        bool priv = pass == 1 && has_wal && private_copy(path, copy, sizeof copy) == 0;
        if (pass == 1 && has_wal && !priv)
            fprintf(stderr,
                    "netpoll %s: warning: %s: no private copy of it and its -wal could be made "
                    "(TMPDIR); reading it without the commits still in %s\n",
                    cmd, path, wal);
        char *uri = uri_of(priv ? copy : path, pass == 0 ? "?mode=ro" : priv ? "" : "?immutable=1");
        if (h)
            sqlite3_close(h);
        h = NULL;
        rc = uri ? sqlite3_open_v2(uri, &h,
                                   (priv ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
                                       SQLITE_OPEN_URI,
                                   NULL)
                 : SQLITE_NOMEM;
        free(uri);
        if (rc == SQLITE_OK) {
            sqlite3_busy_timeout(h, 2000);
            rc = version_of(h, &v, &runs);
        }
        if ((rc & 0xff) == SQLITE_NOTADB)
            break;
    }
    const char *why = NULL;
    if (rc != SQLITE_OK)
        why = (rc & 0xff) == SQLITE_NOTADB ? "not an SQLite database"
              : h                          ? sqlite3_errmsg(h)
                                           : "out of memory";
    else if (v > NP_DB_SCHEMA_VERSION)
        why = "written by a newer netpoll";
    else if (v < 1 || !runs)
        why = "an SQLite database, but not netpoll's results";
    if (why) {
        fprintf(stderr, "netpoll %s: %s: %s\n", cmd, path, why);
        close_ro(h);
        return 2;
    }
    *out = h;
    return 0;
}

static const char *col(sqlite3_stmt *st, int i, const char *none)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : none;
}

int np_cli_runs(int argc, char **argv)
{
    const char *path = NP_CLI_DEFAULT_DB;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            runs_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--db")) {
            if (!(path = np_cli_value("runs", argc, argv, &i)))
                return 2;
        } else {
            fprintf(stderr, "netpoll runs: unexpected argument '%s' (see netpoll runs --help)\n",
                    argv[i]);
            return 2;
        }
    }
    sqlite3 *h;
    if (open_ro("runs", path, &h))
        return 2;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h,
                           "SELECT id, started_at, coalesce(git_rev, '-'), ended_at IS NULL, "
                           "status, coalesce(violations, 0), coalesce(divergences, 0), "
                           "coalesce(params, 'netpoll ' || kind) FROM runs ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "netpoll runs: %s: cannot read it: %s\n", path, sqlite3_errmsg(h));
        close_ro(h);
        return 2;
    }
    int rc, n = 0;
    printf("%5s  %-20s  %-14s  %-28s  %s\n", "id", "started (UTC)", "commit", "verdict", "command");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char verdict[64];
        int status = sqlite3_column_int(st, 4);
        long long viol = sqlite3_column_int64(st, 5), div = sqlite3_column_int64(st, 6);
        if (sqlite3_column_int(st, 3))
            snprintf(verdict, sizeof verdict, "UNFINISHED");
        else if (sqlite3_column_type(st, 4) == SQLITE_NULL)
            snprintf(verdict, sizeof verdict, "-");
        else if (status == 1)
            snprintf(verdict, sizeof verdict, "findings (%lld viol, %lld div)", viol, div);
        else if (status == 0 || status == 2 || status == 3)
            snprintf(verdict, sizeof verdict, "%s",
                     status == 0   ? "ok"
                     : status == 2 ? "error"
                                   : "incomplete");
        else
            snprintf(verdict, sizeof verdict, "exit %d", status);
        printf("%5lld  %-20s  %-14s  %-28s  %s\n", (long long)sqlite3_column_int64(st, 0),
               col(st, 1, "-"), col(st, 2, "-"), verdict, col(st, 7, "-"));
        n++;
    }
    sqlite3_finalize(st);
    int status = 0;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "netpoll runs: %s: cannot read it: %s\n", path, sqlite3_errmsg(h));
        status = 2;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "netpoll runs: cannot write the list: %s\n", strerror(errno));
        status = 2;
    }
    close_ro(h);
    return status;
}

/* One CSV field (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The rows of st (already bound) as CSV into f, a header first. 0 or an
 * SQLite error code. */
static int csv_rows(sqlite3_stmt *st, FILE *f, int64_t *rows)
{
    int ncol = sqlite3_column_count(st), rc;
    for (int i = 0; i < ncol; i++) {
        if (i)
            fputc(',', f);
        csv_field(f, sqlite3_column_name(st, i));
    }
    fputs("\r\n", f);
    *rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++) {
            if (i)
                fputc(',', f);
            if (sqlite3_column_type(st, i) != SQLITE_NULL)
                csv_field(f, col(st, i, ""));
        }
        fputs("\r\n", f);
        ++*rows;
    }
    return rc == SQLITE_DONE ? 0 : rc;
}

typedef struct {
    char *name; /* the table */
    char *tmp;  /* DIR/NAME.csv.tmpXXXXXX, written */
    char *dst;  /* DIR/NAME.csv */
    int64_t rows;
} csv_file;

/* The tables with a run_id column, after runs itself. */
static int list_tables(sqlite3 *h, csv_file **out, int *n)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(h,
                           "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND "
                           "(m.name = 'runs' OR EXISTS (SELECT 1 FROM pragma_table_info(m.name) "
                           "WHERE name = 'run_id')) ORDER BY m.name != 'runs', m.rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        csv_file *w = realloc(*out, (size_t)(*n + 1) * sizeof **out);
        if (!w)
            break;
        *out = w;
        w[*n] = (csv_file){strdup(col(st, 0, "")), NULL, NULL, 0};
        if (!w[*n].name)
            break;
        ++*n;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Writes table t's rows of run id into a temporary file in dir. 0, or 2
 * after one line on stderr. */
static int export_table(sqlite3 *h, const char *path, const char *dir, int64_t id, csv_file *t)
{
    size_t len = strlen(dir) + strlen(t->name) + 32;
    t->dst = malloc(len);
    t->tmp = malloc(len);
    if (!t->dst || !t->tmp) {
        fprintf(stderr, "netpoll export: out of memory\n");
        return 2;
    }
    snprintf(t->dst, len, "%s/%s.csv", dir, t->name);
    snprintf(t->tmp, len, "%s/%s.csv.tmpXXXXXX", dir, t->name);
    char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" WHERE %s = ?1 ORDER BY rowid", t->name,
                                strcmp(t->name, "runs") ? "run_id" : "id");
    sqlite3_stmt *st = NULL;
    if (!sql || sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "netpoll export: %s: cannot read table %s: %s\n", path, t->name,
                sqlite3_errmsg(h));
        sqlite3_free(sql);
        free(t->tmp);
        t->tmp = NULL;
        return 2;
    }
    sqlite3_free(sql);
    sqlite3_bind_int64(st, 1, id);
    int fd = mkstemp(t->tmp);
    if (fd < 0) {
        fprintf(stderr, "netpoll export: cannot write in %s: %s\n", dir, strerror(errno));
        sqlite3_finalize(st);
        free(t->tmp);
        t->tmp = NULL;
        return 2;
    }
    mode_t mask = umask(0); /* the mode a plain fopen would give */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    int rc = f ? csv_rows(st, f, &t->rows) : 0;
    sqlite3_finalize(st);
    int err = !f || (fflush(f) != 0 || fsync(fileno(f)) != 0) ? errno : 0;
    if (f && fclose(f) != 0 && !err)
        err = errno;
    if (rc) {
        fprintf(stderr, "netpoll export: %s: cannot read table %s: %s\n", path, t->name,
                sqlite3_errstr(rc));
        return 2;
    }
    if (err) {
        fprintf(stderr, "netpoll export: cannot write %s: %s\n", t->dst, strerror(err));
        return 2;
    }
    return 0;
}

int np_cli_export(int argc, char **argv)
{
    const char *path = NP_CLI_DEFAULT_DB, *dir = NULL;
    int64_t id = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            export_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--db")) {
            if (!(path = np_cli_value("export", argc, argv, &i)))
                return 2;
        } else if (!strcmp(argv[i], "--csv")) {
            if (!(dir = np_cli_value("export", argc, argv, &i)))
                return 2;
        } else if (!strcmp(argv[i], "--run")) {
            if (np_cli_int_arg("export", argc, argv, &i, 1, INT64_MAX, &id))
                return 2;
        } else {
            fprintf(stderr,
                    "netpoll export: unexpected argument '%s' (see netpoll export --help)\n",
                    argv[i]);
            return 2;
        }
    }
    if (id < 0 || !dir) {
        fprintf(stderr, "netpoll export: --run ID and --csv DIR are both needed (see netpoll "
                        "export --help)\n");
        return 2;
    }
    sqlite3 *h;
    if (open_ro("export", path, &h))
        return 2;
    sqlite3_stmt *st;
    int found = 0;
    long long lo = 0, hi = 0;
    if (sqlite3_prepare_v2(h,
                           "SELECT (SELECT count(*) FROM runs WHERE id = ?1), "
                           "coalesce(min(id), 0), coalesce(max(id), 0) FROM runs",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            found = sqlite3_column_int(st, 0);
            lo = sqlite3_column_int64(st, 1);
            hi = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_finalize(st);
    if (!found) {
        if (hi)
            fprintf(stderr,
                    "netpoll export: %s has no run %lld (its runs: %lld to %lld, see "
                    "netpoll runs --db %s)\n",
                    path, (long long)id, lo, hi, path);
        else
            fprintf(stderr, "netpoll export: %s has no run %lld (it holds no runs)\n", path,
                    (long long)id);
        close_ro(h);
        return 2;
    }
    /* DIR: an existing folder, or made now (and removed again on failure) */
    struct stat sb;
    bool made = false;
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0777) != 0) {
            fprintf(stderr, "netpoll export: cannot make %s: %s\n", dir, strerror(errno));
            close_ro(h);
            return 2;
        }
        made = true;
    } else if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "netpoll export: %s: not a folder\n", dir);
        close_ro(h);
        return 2;
    }
    csv_file *t;
    int n, status = 0;
    if (list_tables(h, &t, &n) != 0) {
        fprintf(stderr, "netpoll export: %s: cannot read it: %s\n", path, sqlite3_errmsg(h));
        status = 2;
    }
    /* every file complete under its temporary name, then all renamed */
    for (int i = 0; !status && i < n; i++)
        status = export_table(h, path, dir, id, &t[i]);
    for (int i = 0; !status && i < n; i++)
        if (rename(t[i].tmp, t[i].dst) != 0) {
            fprintf(stderr, "netpoll export: cannot write %s: %s\n", t[i].dst, strerror(errno));
            status = 2;
        } else {
            free(t[i].tmp);
            t[i].tmp = NULL;
        }
    if (!status)
        fsync_dir(dir);
    int64_t rows = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].tmp) /* not renamed: a failure */
            unlink(t[i].tmp);
        rows += t[i].rows;
        free(t[i].tmp);
        free(t[i].dst);
        free(t[i].name);
    }
    free(t);
    close_ro(h);
    if (status && made)
        rmdir(dir);
    if (!status)
        printf("export: run %lld of %s: %lld rows in %d files in %s\n", (long long)id, path,
               (long long)rows, n, dir);
    return status;
}
