/* cli/demo.c - `netpoll demo [--out DIR] [--seconds S]`: the full research
 * run, in stages, each a series of subprocesses of this same program (so
 * every run keeps its own transaction and output handling):
 *
 *   1. record   every live workload on epoll over loopback for S seconds
 *               (DIR/traces/W.npt);
 *   2. replay   each recording replayed and compared (zero divergences
 *               expected); every corpus trace replayed under go1.18 and
 *               go1.21, the exit status checked against traces/corpus.tsv;
 *   3. explore  each canonical scenario under both designs with the dfs,
 *               pct and random strategies (one the explorer rejects as not
 *               available is skipped with a note), and each corpus trace
 *               with dfs, every run bounded in executions and seconds;
 *   4. check    `netpoll check`, bounded: every enumerated scenario up to
 *               K = 2 stimuli (3 with --seconds 10 or more), the two-slot
 *               reopen cases up to 3, under every design (the scenarios
 *               and corpus ran in stages 2 and 3); and the mutation score
 *               of the last full run of tests/mutation.sh
 *               (tests/mutants/results.tsv, not re-run here: building the
 *               mutants takes minutes) stored beside it for the report;
 *   5. bench    a short TCP echo run per contender (netpoll w1/w2, Go, libuv,
 *               raw epoll; one that is not built is skipped with a note),
 *               stored as one `bench` run;
 *   6. report   `netpoll report --db DIR/results.db --out DIR` (plots and
 *               report.html), skipped with a note where it is not available.
 *
 * Every subprocess writes into DIR/logs/STAGE.log; the terminal shows one
 * line per stage (redrawn in place on a terminal) and a summary table read
 * back from DIR/results.db. Runs are appended to an existing results.db.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "netpoll/netpoll.h"
#include "results.h"
#include "workloads.h"

#ifndef NP_SOURCE_DIR
#define NP_SOURCE_DIR "."
#endif

#define NSTAGES   6
#define MAX_NOTES 64
#define MAX_FAILS 64
#define MAX_BENCH 6
#define MAX_REPS  4

typedef struct {
    const char *name, *label; /* label: runs.contender */
    char bin[PATH_MAX];
    int workers, conns; /* netpoll workers or GOMAXPROCS (0: none) */
    bool go;
    int n; /* measured rounds */
    double rps[MAX_REPS], p50[MAX_REPS], p99[MAX_REPS];
} contender;

typedef struct {
    /* settings */
    double seconds;
    char exe[PATH_MAX];  /* this program */
    char out[PATH_MAX];  /* DIR */
    char db[PATH_MAX];   /* DIR/results.db */
    char logs[PATH_MAX]; /* DIR/logs */
    char jobout[PATH_MAX];
    char traces[PATH_MAX]; /* the corpus and scenarios ("" if none) */
    bool tty, utf8;
    /* progress */
    double t0, stage_t0, last_draw;
    int stage, done, total;
    const char *stage_name;
    char what[96];
    FILE *log;
    /* findings */
    char *notes[MAX_NOTES], *fails[MAX_FAILS];
    int nnotes, nfails;
    int64_t first_run; /* runs of this demo have id > first_run */
    int recorded, corpus_ok, corpus_n, explore_runs;
    char rec_traces[8][PATH_MAX];
    int nrec;
    contender bench[MAX_BENCH];
    int nbench;
} demo;

/* ---- small helpers --------------------------------------------------------- */

/* snprintf for paths and labels: truncation is harmless here (labels) or
 * out of reach (paths under PATH_MAX). */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_exec(const char *p)
{
    return is_file(p) && access(p, X_OK) == 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    fmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[8192];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    else
        buf[len] = 0;
    return buf;
}

/* "1,234,567" */
static const char *commas(int64_t v, char *buf, size_t len)
{
    char raw[32];
    fmt(raw, sizeof raw, "%lld", (long long)(v < 0 ? -v : v));
    size_t n = strlen(raw), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        buf[o++] = raw[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n)
            buf[o++] = ',';
    }
    buf[o] = 0;
    return buf;
}

/* ---- progress ---------------------------------------------------------------- */

static void draw(demo *d, bool final)
{
    if (!d->stage_name)
        return;
    double el = wall() - d->stage_t0;
    if (!d->tty && !final)
        return;
    char bar[128] = "";
    if (d->total > 0) {
        int w = 20, fill = d->done * w / d->total;
        size_t o = 0;
        for (int i = 0; i < w; i++) {
            const char *c = d->utf8 ? (i < fill ? "\u2588" : "\u2591") : (i < fill ? "#" : ".");
            size_t cl = strlen(c);
            memcpy(bar + o, c, cl);
            o += cl;
        }
        bar[o] = 0;
    }
    if (d->tty)
        printf("\r\033[K");
    /* on a terminal, the line must fit (a wrapped line cannot be redrawn) */
    int room = 200;
    struct winsize ws;
    if (d->tty && !final && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        room = (int)ws.ws_col - 52; /* what precedes d->what */
    printf("[%d/%d] %-8s %4d/%-4d %s %6.1f s  %.*s", d->stage, NSTAGES, d->stage_name, d->done,
           d->total, bar, el, room < 0 ? 0 : room, d->what);
    if (final)
        printf("\n");
    fflush(stdout);
    d->last_draw = wall();
}

static void stage_begin(demo *d, int stage, const char *name, int total)
{
    d->stage = stage;
    d->stage_name = name;
    d->done = 0;
    d->total = total;
    d->what[0] = 0;
    d->stage_t0 = wall();
    char path[PATH_MAX + 32];
    fmt(path, sizeof path, "%s/%s.log", d->logs, name);
    d->log = fopen(path, "w");
    draw(d, false);
}

__attribute__((format(printf, 2, 3))) static void stage_end(demo *d, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(d->what, sizeof d->what, f, ap);
    va_end(ap);
    draw(d, true);
    if (d->log)
        fclose(d->log);
    d->log = NULL;
}

static void say(demo *d, char **list, int *n, int max, const char *kind, const char *f, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, f, ap);
    if (*n < max)
        list[(*n)++] = strdup(buf);
    if (d->tty)
        printf("\r\033[K");
    printf("      %s: %s\n", kind, buf);
    if (d->log)
        fprintf(d->log, "### %s: %s\n", kind, buf);
    draw(d, false);
}

__attribute__((format(printf, 2, 3))) static void note(demo *d, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    say(d, d->notes, &d->nnotes, MAX_NOTES, "note", f, ap);
    va_end(ap);
}

/* Something that must not happen: the demo exits 1. */
__attribute__((format(printf, 2, 3))) static void fail(demo *d, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    say(d, d->fails, &d->nfails, MAX_FAILS, "FAILED", f, ap);
    va_end(ap);
}

/* ---- subprocesses ---------------------------------------------------------- */

/* Waits for pid, redrawing the progress line, killing it after timeout
 * seconds. Returns its exit status, or -1 (killed by a signal or the
 * timeout; *timed_out says which). */
static int wait_child(demo *d, pid_t pid, double timeout, bool *timed_out)
{
    double t0 = wall(), sleep_s = 0.0005;
    int st;
    *timed_out = false;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (!*timed_out && wall() - t0 > timeout) {
            kill(pid, SIGKILL);
            *timed_out = true;
        }
        if (d->tty && wall() - d->last_draw > 0.1)
            draw(d, false);
        nap(sleep_s);
        if (sleep_s < 0.02)
            sleep_s *= 2;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs path with argv (argv[0] as shown in the log), its output (stdout and
 * stderr) into the stage log, bounded by timeout seconds. Returns the exit
 * status (-1: did not finish) and, if out is not NULL, the output. */
static int run(demo *d, const char *path, char *const argv[], const char *env, double timeout,
               char **out)
{
    if (d->log)
        fflush(d->log);
    fflush(stdout);
    double t0 = wall();
    pid_t pid = fork();
    if (pid < 0) {
        if (out)
            *out = strdup("");
        return -1;
    }
    if (pid == 0) {
        int fd = open(d->jobout, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0)
            _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        signal(SIGPIPE, SIG_DFL);
        if (env)
            putenv((char *)env);
        execv(path, argv);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    bool timed_out;
    int status = wait_child(d, pid, timeout, &timed_out);
    char *text = read_all(d->jobout);
    if (!text)
        text = strdup("");
    if (d->log) {
        fprintf(d->log, "$%s%s", env ? " " : "", env ? env : "");
        for (int i = 0; argv[i]; i++)
            fprintf(d->log, " %s", argv[i]);
        fprintf(d->log, "\n%s", text ? text : "");
        if (timed_out)
            fprintf(d->log, "(killed after %.0f s)\n", timeout);
        fprintf(d->log, "(exit %d, %.2f s)\n\n", status, wall() - t0);
    }
    if (out)
        *out = text;
    else
        free(text);
    return status;
}

/* This program with a subcommand. */
static int self(demo *d, char *const argv[], double timeout, char **out)
{
    return run(d, d->exe, argv, NULL, timeout, out);
}

/* The id of the last run in the store (0: none). */
static int64_t last_run(const demo *d)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    int64_t id = 0;
    if (sqlite3_open_v2(d->db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 2000);
        if (sqlite3_prepare_v2(h, "SELECT coalesce(max(id), 0) FROM runs", -1, &st, NULL) ==
            SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                id = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return id;
}

#define NOT_STORED (-2)

/* self() for a command that stores its run with --db: a status of 0 or 1
 * without a new run in the store (a crash that still exited 1, as a
 * sanitizer's does) becomes NOT_STORED. */
static int stored(demo *d, char *const argv[], double timeout, char **out)
{
    int64_t before = last_run(d);
    int st = self(d, argv, timeout, out);
    if ((st == 0 || st == 1) && last_run(d) <= before) {
        if (d->log)
            fprintf(d->log, "### exit %d, but no run was stored\n", st);
        return NOT_STORED;
    }
    return st;
}

/* "exit 2", "killed", "no run stored" */
static const char *why(int st, char *buf, size_t len)
{
    if (st == NOT_STORED)
        return "exited without storing its run";
    if (st < 0)
        return "killed (signal or time limit)";
    fmt(buf, len, "exit %d", st);
    return buf;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- 1. record ------------------------------------------------------------- */

static void stage_record(demo *d)
{
    int n = 0;
    for (const np_workload *w = np_workloads; w->name; w++)
        n++;
    stage_begin(d, 1, "record", n);
    char secs[32];
    fmt(secs, sizeof secs, "%g", d->seconds);
    long events = 0;
    for (const np_workload *w = np_workloads; w->name && d->nrec < 8; w++) {
        fmt(d->what, sizeof d->what, "%s, %s s live on epoll", w->name, secs);
        draw(d, false);
        char trace[PATH_MAX + 64];
        fmt(trace, sizeof trace, "%s/traces/%s.npt", d->out, w->name);
        char *av[] = {"netpoll", "record", (char *)w->name, "--seconds", secs,
                      "--out",   trace,    "--db",          d->db,       NULL};
        char *out;
        int st = stored(d, av, d->seconds + 60, &out);
        const char *ev = strstr(out, " events -> ");
        if (ev) { /* "...; N events -> FILE" */
            const char *p = ev;
            while (p > out && p[-1] >= '0' && p[-1] <= '9')
                p--;
            events += strtol(p, NULL, 10);
        }
        if (st == 0) {
            fmt(d->rec_traces[d->nrec++], PATH_MAX, "%s", trace);
            d->recorded++;
        } else if (st == 1 && is_file(trace)) {
            fail(d, "record %s: the workload reported errors (see %s/record.log)", w->name,
                 d->logs);
            fmt(d->rec_traces[d->nrec++], PATH_MAX, "%s", trace);
        } else {
            char b[32];
            fail(d, "record %s: %s (see %s/record.log)", w->name, why(st, b, sizeof b), d->logs);
        }
        free(out);
        d->done++;
    }
    char e[32];
    stage_end(d, "%d workloads recorded, %s events", d->recorded, commas(events, e, sizeof e));
}

/* ---- 2. replay ---------------------------------------------------------------- */

typedef struct {
    char file[PATH_MAX];
    int want[2]; /* go1.18, go1.21 */
} corpus_row;

static const char *designs[2] = {"go1.18", "go1.21"};

/* traces/corpus.tsv: FILE go1.5 go1.18 go1.21 exact. */
static corpus_row *read_corpus(demo *d, int *n)
{
    *n = 0;
    if (!d->traces[0])
        return NULL;
    char path[PATH_MAX + 16];
    fmt(path, sizeof path, "%s/corpus.tsv", d->traces);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    corpus_row *rows = NULL;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char file[512];
        int v5, v18, v21;
        if (sscanf(line, "%511s %d %d %d", file, &v5, &v18, &v21) != 4)
            continue;
        corpus_row *nr = realloc(rows, (size_t)(*n + 1) * sizeof *rows);
        if (!nr)
            break;
        rows = nr;
        fmt(rows[*n].file, sizeof rows[*n].file, "%s/%s", d->traces, file);
        rows[*n].want[0] = v18;
        rows[*n].want[1] = v21;
        (*n)++;
    }
    fclose(f);
    return rows;
}

static void stage_replay(demo *d)
{
    int ncorpus;
    corpus_row *rows = read_corpus(d, &ncorpus);
    stage_begin(d, 2, "replay", 2 * d->nrec + 2 * ncorpus);
    if (d->traces[0] && !rows)
        note(d, "no corpus.tsv in %s: corpus verdicts not checked", d->traces);
    int bad = 0;
    for (int i = 0; i < d->nrec; i++) {
        const char *t = d->rec_traces[i];
        for (int k = 0; k < 2; k++) {
            const char *cmd = k ? "compare" : "replay";
            fmt(d->what, sizeof d->what, "%s %s", cmd, base(t));
            draw(d, false);
            char *av[] = {"netpoll", (char *)cmd, (char *)t, "--db", d->db, NULL};
            int st = stored(d, av, 300, NULL);
            if (st != 0) {
                char b[32];
                bad++;
                fail(d, "%s %s: %s%s (see %s/replay.log)", cmd, base(t), why(st, b, sizeof b),
                     st == 1 ? ", DIVERGENCE from the live record" : "", d->logs);
            }
            d->done++;
        }
    }
    for (int i = 0; i < ncorpus; i++)
        for (int k = 0; k < 2; k++) {
            const char *rel = rows[i].file + strlen(d->traces) + 1;
            fmt(d->what, sizeof d->what, "%s %s", rel, designs[k]);
            draw(d, false);
            char *av[] = {"netpoll",          "replay", rows[i].file, "--design",
                          (char *)designs[k], "--db",   d->db,        NULL};
            int st = stored(d, av, 60, NULL);
            char b[32];
            d->corpus_n++;
            if (st == rows[i].want[k])
                d->corpus_ok++;
            else
                fail(d, "corpus verdict MISMATCH: %s under %s: %s, traces/corpus.tsv says exit %d",
                     rel, designs[k], why(st, b, sizeof b), rows[i].want[k]);
            d->done++;
        }
    free(rows);
    stage_end(d, "%d recordings replayed and compared%s; corpus verdicts %d/%d as in corpus.tsv",
              d->nrec, bad ? " (FAILURES)" : ", zero divergences", d->corpus_ok, d->corpus_n);
}

/* ---- 3. explore ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .npt files of a folder, sorted (full paths). */
char **np_cli_list_npt(const char *dir, int *n)
{
    *n = 0;
    char **v = NULL;
    DIR *dp = opendir(dir);
    if (!dp)
        return NULL;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".npt"))
            continue;
        char **nv = realloc(v, (size_t)(*n + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        size_t len = strlen(dir) + l + 2;
        v[*n] = malloc(len);
        if (!v[*n])
            break;
        fmt(v[*n], len, "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(dp);
    if (v)
        qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

void np_cli_free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void stage_explore(demo *d)
{
    static const char *strategies[] = {"dfs", "pct", "random"};
    enum { NSTRAT = 3 };
    int nscen = 0, nbugs = 0;
    char dir[PATH_MAX + 16];
    fmt(dir, sizeof dir, "%s/scenarios", d->traces);
    char **scen = d->traces[0] ? np_cli_list_npt(dir, &nscen) : NULL;
    fmt(dir, sizeof dir, "%s/bugs", d->traces);
    char **bugs = d->traces[0] ? np_cli_list_npt(dir, &nbugs) : NULL;
    stage_begin(d, 3, "explore", 2 * (nscen * NSTRAT + nbugs));
    if (!nscen)
        note(d, "no scenarios found under %s: scenario exploration skipped",
             d->traces[0] ? d->traces : "(no traces folder; use --traces)");
    /* every run bounded: R executions and T seconds */
    double t = d->seconds * 0.25;
    t = t < 0.1 ? 0.1 : t > 1.0 ? 1.0 : t;
    double rr = d->seconds * 20000;
    long runs = rr < 2000 ? 2000 : rr > 50000 ? 50000 : (long)rr;
    char secs[32], nruns[32];
    fmt(secs, sizeof secs, "%g", t);
    fmt(nruns, sizeof nruns, "%ld", runs);
    bool unavailable[NSTRAT] = {false};
    int viol[2][2] = {{0}}; /* [scenario, corpus][design] */
    for (int set = 0; set < 2; set++) {
        char **files = set ? bugs : scen;
        int nfiles = set ? nbugs : nscen;
        for (int i = 0; i < nfiles; i++)
            for (int k = 0; k < 2; k++)
                for (int s = 0; s < (set ? 1 : NSTRAT); s++) {
                    const char *strat = strategies[s];
                    if (unavailable[s]) {
                        d->done++;
                        continue;
                    }
                    fmt(d->what, sizeof d->what, "%.40s %s %s", base(files[i]), designs[k], strat);
                    draw(d, false);
                    char *av[24];
                    int n = 0;
                    av[n++] = "netpoll";
                    av[n++] = "explore";
                    av[n++] = files[i];
                    av[n++] = "--design";
                    av[n++] = (char *)designs[k];
                    av[n++] = "--strategy";
                    av[n++] = (char *)strat;
                    if (!strcmp(strat, "pct")) {
                        av[n++] = "--depth";
                        av[n++] = "3";
                    }
                    if (strcmp(strat, "dfs")) {
                        av[n++] = "--seed";
                        av[n++] = "1";
                    }
                    av[n++] = "--runs";
                    av[n++] = nruns;
                    av[n++] = "--seconds";
                    av[n++] = secs;
                    av[n++] = "--db";
                    av[n++] = d->db;
                    av[n] = NULL;
                    char *out;
                    int st = stored(d, av, t + 60, &out);
                    if (st == 2 && strstr(out, "not available")) {
                        unavailable[s] = true;
                        note(d, "the explorer has no '%s' strategy in this build: skipped", strat);
                    } else if (st == 0 || st == 1) {
                        d->explore_runs++;
                        viol[set][k] += st == 1;
                    } else {
                        char b[32];
                        fail(d, "explore %s --design %s --strategy %s: %s (see %s/explore.log)",
                             base(files[i]), designs[k], strat, why(st, b, sizeof b), d->logs);
                    }
                    free(out);
                    d->done++;
                }
    }
    np_cli_free_list(scen, nscen);
    np_cli_free_list(bugs, nbugs);
    stage_end(d,
              "%d runs; runs with a violation: scenarios go1.18 %d, go1.21 %d; corpus go1.18 %d, "
              "go1.21 %d",
              d->explore_runs, viol[0][0], viol[0][1], viol[1][0], viol[1][1]);
}

/* ---- 4. check ---------------------------------------------------------------------- */

/* The last full mutation run (tests/mutants/results.tsv: its comment lines,
 * then mutation.sh's --out table) as a `mutation` run of the database.
 * Returns the mutants imported, -1 if there is no such file or it cannot be
 * stored. */
static int import_mutants(demo *d, int *caught, int *scored)
{
    char path[PATH_MAX + 32], line[1024], about[512] = "";
    fmt(path, sizeof path, "%s/../tests/mutants/results.tsv", d->traces);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    np_db *db;
    char msg[512];
    if (np_db_open(d->db, &db, msg, sizeof msg) != 0) {
        fclose(f);
        return -1;
    }
    int n = 0;
    bool ok = false;
    np_db_run run = {"mutation", "sim", "all", NULL, path, about, -1};
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#') { /* "# commit ... date ... command ..." */
            size_t u = strlen(about);
            fmt(about + u, sizeof about - u, "%s%s", u ? "; " : "imported: ", line + 2);
            continue;
        }
        char mut[128], set[32], op[32], fn[64], verdict[32];
        int code;
        double secs;
        if (sscanf(line, "%127[^\t]\t%31[^\t]\t%31[^\t]\t%63[^\t]\t%31[^\t]\t%d\t%lf", mut, set, op,
                   fn, verdict, &code, &secs) != 7)
            continue; /* the header row */
        if (!n && np_db_begin_run(db, &run) < 0)
            break;
        if (np_db_mutant(db, mut, op, fn, set, verdict, secs) != 0)
            break;
        n++;
        *scored += strcmp(verdict, "equivalent") != 0;
        *caught += !strncmp(verdict, "caught", 6);
    }
    ok = n > 0 && np_db_end_run(db, 0, n, 0, *scored - *caught) == 0;
    np_db_close(db);
    fclose(f);
    return ok ? n : -1;
}

static void stage_check(demo *d)
{
    stage_begin(d, 4, "check", 2);
    if (!d->traces[0]) {
        stage_end(d, "skipped (no traces folder; use --traces)");
        return;
    }
    const char *k = d->seconds >= 10 ? "3" : "2";
    fmt(d->what, sizeof d->what, "enumerated scenarios, k=%s, every design (and recorded, k=2)", k);
    draw(d, false);
    /* the recorded pass (the recording paths explored) at K = 2: the demo's time budget */
    char *av[] = {
        "netpoll", "check",       "--k", (char *)k,           "--k2",    "3",        "--record-k",
        "2",       "--record-k2", "2",   "--enumerated-only", "--quiet", "--traces", d->traces,
        "--db",    d->db,         NULL};
    char *out;
    int st = stored(d, av, 600, &out);
    char b[32];
    if (st == 1)
        fail(d, "check: a finding not expected (see %s/check.log)", d->logs);
    else if (st != 0)
        fail(d, "check: %s (see %s/check.log)", why(st, b, sizeof b), d->logs);
    free(out);
    d->done++;
    int caught = 0, scored = 0;
    fmt(d->what, sizeof d->what, "the last mutation run (tests/mutants/results.tsv)");
    draw(d, false);
    int n = import_mutants(d, &caught, &scored);
    if (n < 0)
        note(d, "no tests/mutants/results.tsv beside the traces: no mutation score in the report");
    d->done++;
    if (n > 0)
        stage_end(d, "%s; mutation score of the last full run: %d of %d non-equivalent caught",
                  st == 0 ? "clean" : "FINDINGS", caught, scored);
    else
        stage_end(d, "%s", st == 0 ? "clean" : "FINDINGS");
}

/* ---- 5. bench ---------------------------------------------------------------------- */

static bool find_in_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char buf[4096];
    fmt(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        fmt(out, len, "%s/%s", dir, name);
        if (is_exec(out))
            return true;
    }
    return false;
}

/* Builds bench/echo/echo_go.go (the source tree's, else the one beside
 * the traces folder) into bindir (once; again when the source is
 * newer). Returns true if bin is there. */
static bool build_go(demo *d, const char *bindir, char *bin, size_t len)
{
    char go[PATH_MAX];
    if (is_exec("/usr/lib/go-1.19/bin/go"))
        fmt(go, sizeof go, "/usr/lib/go-1.19/bin/go");
    else if (!find_in_path("go", go, sizeof go)) {
        note(d, "Go is not installed (golang-1.19-go): the Go contenders are skipped");
        return false;
    }
    char src[PATH_MAX + 32] = NP_SOURCE_DIR "/bench/echo/echo_go.go";
    if (!is_file(src) && d->traces[0])
        fmt(src, sizeof src, "%s/../bench/echo/echo_go.go", d->traces);
    if (!is_file(src)) {
        note(d, "bench/echo/echo_go.go not found: the Go contenders are skipped");
        return false;
    }
    fmt(bin, len, "%s/echo_go", bindir);
    struct stat ss, sb;
    if (stat(bin, &sb) == 0 && stat(src, &ss) == 0 && sb.st_mtime >= ss.st_mtime && is_exec(bin))
        return true;
    fmt(d->what, sizeof d->what, "building echo_go with %s", go);
    draw(d, false);
    char cache[PATH_MAX + 32], gopath[PATH_MAX + 32], home[PATH_MAX + 16];
    fmt(cache, sizeof cache, "%s/go-cache", bindir);
    fmt(gopath, sizeof gopath, "%s/gopath", bindir);
    fmt(home, sizeof home, "%s", getenv("HOME") ? getenv("HOME") : "/tmp");
    /* go build with its environment: a small shell line keeps it readable */
    char script[8 * PATH_MAX];
    fmt(script, sizeof script,
        "GOCACHE='%s' GOPATH='%s' GO111MODULE=off GOFLAGS= HOME='%s' '%s' build -o '%s' '%s'",
        cache, gopath, home, go, bin, src);
    char *av[] = {"sh", "-c", script, NULL};
    int st = run(d, "/bin/sh", av, NULL, 300, NULL);
    if (st != 0 || !is_exec(bin)) {
        note(d, "go build of echo_go failed (see %s/bench.log): the Go contenders are skipped",
             d->logs);
        return false;
    }
    return true;
}

/* Starts a server that prints "listening PORT"; returns its pid (port set,
 * and *rd the read end of its stdout, open until it stops) or -1. */
static pid_t start_server(demo *d, contender *c, int *port, int *rd)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    if (d->log)
        fflush(d->log);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        char w[16], env[32];
        fmt(w, sizeof w, "%d", c->workers);
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(pfd[1], 1);
        if (d->log)
            dup2(fileno(d->log), 2);
        close(pfd[0]);
        char *av[10];
        int n = 0;
        av[n++] = c->bin;
        if (c->workers && !c->go) {
            av[n++] = "--workers";
            av[n++] = w;
        }
        if (c->go) {
            fmt(env, sizeof env, "GOMAXPROCS=%d", c->workers);
            putenv(env);
        }
        av[n++] = "--port";
        av[n++] = "0";
        av[n++] = "--timeout";
        av[n++] = "120";
        av[n] = NULL;
        execv(c->bin, av);
        _exit(127);
    }
    close(pfd[1]);
    char line[128];
    size_t len = 0;
    double t0 = wall();
    *port = 0;
    while (!*port && wall() - t0 < 10 && len < sizeof line - 1) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(pfd[0], line + len, sizeof line - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        line[len] = 0;
        if (strchr(line, '\n'))
            sscanf(line, "listening %d", port);
    }
    if (!*port) {
        close(pfd[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    *rd = pfd[0];
    return pid;
}

static void stop_server(pid_t pid, int rd)
{
    kill(pid, SIGTERM);
    int i = 0;
    while (waitpid(pid, NULL, WNOHANG) != pid) {
        if (++i == 200) { /* 2 s */
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            break;
        }
        nap(0.01);
    }
    close(rd);
}

static double kv(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    if (n <= 0)
        return -1;
    double s[MAX_REPS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void stage_bench(demo *d)
{
    double b = d->seconds / 2;
    b = b < 0.25 ? 0.25 : b > 1.0 ? 1.0 : b;
    int rounds = d->seconds >= 2 ? 2 : 1;
    /* the programs next to this one's build tree: BUILD/cli/netpoll and
     * BUILD/bench/echo/ */
    char bindir[PATH_MAX + 32];
    fmt(bindir, sizeof bindir, "%s", d->exe);
    char *slash = strrchr(bindir, '/');
    if (slash)
        *slash = 0;
    size_t bl = strlen(bindir);
    fmt(bindir + bl, sizeof bindir - bl, "/../bench/echo");
    char real[PATH_MAX];
    if (realpath(bindir, real))
        fmt(bindir, sizeof bindir, "%s", real);
    static const struct {
        const char *name, *label, *bin;
        int workers, conns;
        bool go;
    } all[MAX_BENCH] = {
        {"netpoll w1", "netpoll-w1", "echo_np", 1, 2, false},
        {"netpoll w2", "netpoll-w2", "echo_np", 2, 4, false},
        {"Go GOMAXPROCS=1", "go-1", "echo_go", 1, 2, true},
        {"Go GOMAXPROCS=2", "go-2", "echo_go", 2, 4, true},
        {"libuv", "libuv", "echo_uv", 0, 2, false},
        {"raw epoll", "epoll-raw", "echo_raw", 0, 2, false},
    };
    char loadgen[PATH_MAX + 64];
    fmt(loadgen, sizeof loadgen, "%s/loadgen", bindir);
    stage_begin(d, 5, "bench", 0);
    if (!is_exec(loadgen)) {
        note(d, "no load generator at %s (cmake target echo_loadgen): benchmarks skipped", loadgen);
        stage_end(d, "skipped");
        return;
    }
    char gobin[PATH_MAX + 16] = "";
    bool go_ok = false, go_tried = false;
    for (int i = 0; i < MAX_BENCH; i++) {
        contender *c = &d->bench[d->nbench];
        memset(c, 0, sizeof *c);
        c->name = all[i].name;
        c->label = all[i].label;
        c->workers = all[i].workers;
        c->conns = all[i].conns;
        c->go = all[i].go;
        if (c->go) {
            if (!go_tried) {
                go_tried = true;
                go_ok =
                    build_go(d, access(bindir, W_OK) == 0 ? bindir : d->logs, gobin, sizeof gobin);
            }
            if (!go_ok)
                continue;
            fmt(c->bin, sizeof c->bin, "%s", gobin);
        } else {
            fmt(c->bin, sizeof c->bin, "%s/%s", bindir, all[i].bin);
            if (!is_exec(c->bin)) {
                note(d, "%s skipped: %s is not built%s", c->name, all[i].bin,
                     !strcmp(all[i].bin, "echo_uv") ? " (it needs libuv1-dev)" : "");
                continue;
            }
        }
        d->nbench++;
    }
    d->total = rounds * d->nbench;
    char secs[32], conns[16];
    fmt(secs, sizeof secs, "%g", b);
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < d->nbench; j++) {
            contender *c = &d->bench[(j + r) % d->nbench]; /* rotated each round */
            fmt(d->what, sizeof d->what, "%s, %s s, round %d/%d", c->name, secs, r + 1, rounds);
            draw(d, false);
            if (d->log)
                fprintf(d->log, "### %s, round %d: %s%s\n", c->name, r + 1, c->bin,
                        c->go        ? (c->workers == 1 ? " (GOMAXPROCS=1)" : " (GOMAXPROCS=2)")
                        : c->workers ? (c->workers == 1 ? " --workers 1" : " --workers 2")
                                     : "");
            int port, rd;
            pid_t pid = start_server(d, c, &port, &rd);
            if (pid < 0) {
                fail(d, "bench: the %s server did not start (see %s/bench.log)", c->name, d->logs);
                d->done++;
                continue;
            }
            char addr[32];
            fmt(addr, sizeof addr, "127.0.0.1:%d", port);
            fmt(conns, sizeof conns, "%d", c->conns);
            char *av[] = {"loadgen", "--addr",      addr,        "--mode", "persistent",
                          "--conns", conns,         "--seconds", secs,     "--size",
                          "512",     "--warmup-ms", "100",       NULL};
            char *out;
            int st = run(d, loadgen, av, NULL, b + 40, &out);
            stop_server(pid, rd);
            double rps = kv(out, "rps="), p50 = kv(out, "p50_us="), p99 = kv(out, "p99_us=");
            if (st != 0 || rps < 0 || kv(out, "errors=") != 0)
                fail(d, "bench %s: the load generator failed (exit %d; see %s/bench.log)", c->name,
                     st, d->logs);
            else if (c->n < MAX_REPS) {
                c->rps[c->n] = rps;
                c->p50[c->n] = p50;
                c->p99[c->n++] = p99;
            }
            free(out);
            d->done++;
        }
    /* one bench run in the store */
    np_db *db;
    char msg[512];
    if (np_db_open(d->db, &db, msg, sizeof msg) != 0) {
        fail(d, "bench: %s", msg);
    } else {
        char params[256];
        fmt(params, sizeof params,
            "netpoll demo: echo persistent, 512 bytes, %s s per contender, %d round%s", secs,
            rounds, rounds > 1 ? "s" : "");
        np_db_run run_row = {"bench", "epoll", NULL, "echo_persistent", NULL, params, -1};
        bool bad = np_db_begin_run(db, &run_row) < 0;
        for (int i = 0; !bad && i < d->nbench; i++) {
            contender *c = &d->bench[i];
            for (int k = 0; !bad && k < c->n; k++)
                bad = np_db_bench(db, "echo_persistent", c->label, "req_per_s", c->rps[k], k) ||
                      np_db_bench(db, "echo_persistent", c->label, "p50_us", c->p50[k], k) ||
                      np_db_bench(db, "echo_persistent", c->label, "p99_us", c->p99[k], k);
        }
        if (bad || np_db_end_run(db, 0, 0, 0, 0) != 0)
            fail(d, "bench: %s", np_db_error(db));
        np_db_close(db);
    }
    stage_end(d, "%d contenders, %d round%s of %s s each", d->nbench, rounds, rounds > 1 ? "s" : "",
              secs);
}

/* ---- 6. report --------------------------------------------------------------------- */

static bool have_matplotlib(demo *d)
{
    char *av[] = {"python3", "-c", "import matplotlib", NULL};
    char py[PATH_MAX];
    if (!find_in_path("python3", py, sizeof py))
        return false;
    return run(d, py, av, NULL, 60, NULL) == 0;
}

static void stage_report(demo *d)
{
    stage_begin(d, 6, "report", 1);
    fmt(d->what, sizeof d->what, "netpoll report --db %s --out %s", d->db, d->out);
    draw(d, false);
    char *av[] = {"netpoll", "report", "--db", d->db, "--out", d->out, NULL};
    char *out;
    int st = self(d, av, 300, &out);
    d->done++;
    if (st == 0) {
        stage_end(d, "written");
    } else if (st == 2 && strstr(out, "unknown command")) {
        note(d, "`netpoll report` is not in this build yet: no plots, no report.html");
        stage_end(d, "skipped");
    } else if (!have_matplotlib(d)) {
        note(d, "python3 with matplotlib is not installed (python3-matplotlib): no plots, no "
                "report.html");
        stage_end(d, "skipped");
    } else {
        fail(d, "netpoll report exited %d (see %s/report.log)", st, d->logs);
        stage_end(d, "FAILED");
    }
    free(out);
}

/* ---- the summary ------------------------------------------------------------------- */

static int64_t q1(sqlite3 *h, const char *sql, int64_t first)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, first);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *dp = opendir(dir);
    int n = 0;
    if (!dp)
        return 0;
    struct dirent *e;
    size_t sl = strlen(suffix);
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        n += l > sl && !strcmp(e->d_name + l - sl, suffix);
    }
    closedir(dp);
    return n;
}

static void summary(demo *d)
{
    sqlite3 *h = NULL;
    /* read-write: the last connection to close removes the WAL files */
    if (sqlite3_open_v2(d->db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        printf("\n(cannot read %s: %s)\n", d->db, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return;
    }
    sqlite3_busy_timeout(h, 2000);
    int64_t f = d->first_run;
    char a[32], b[32], c[32];
    int64_t live = q1(h, "SELECT count(*) FROM runs WHERE id > ?1 AND kind = 'live'", f);
    int64_t events =
        q1(h, "SELECT coalesce(sum(events), 0) FROM runs WHERE id > ?1 AND kind = 'live'", f);
    /* the live traces' replays: their trace is one this demo recorded */
    int64_t rruns = q1(h,
                       "SELECT count(*) FROM runs WHERE id > ?1 AND kind IN ('replay', 'compare') "
                       "AND trace IN (SELECT trace FROM runs WHERE id > ?1 AND kind = 'live')",
                       f);
    int64_t rdiv = q1(h,
                      "SELECT coalesce(sum(divergences), 0) FROM runs WHERE id > ?1 AND kind IN "
                      "('replay', 'compare') AND trace IN (SELECT trace FROM runs WHERE id > ?1 "
                      "AND kind = 'live')",
                      f);
    int64_t rviol = q1(h,
                       "SELECT coalesce(sum(violations), 0) FROM runs WHERE id > ?1 AND kind IN "
                       "('replay', 'compare') AND trace IN (SELECT trace FROM runs WHERE id > ?1 "
                       "AND kind = 'live')",
                       f);
    int64_t xruns = q1(h, "SELECT count(*) FROM runs WHERE id > ?1 AND kind = 'explore'", f);
    int64_t xexec =
        q1(h, "SELECT coalesce(sum(executions), 0) FROM explore_stats WHERE run_id > ?1", f);
    int64_t xstates = q1(h,
                         "SELECT sum(distinct_states) FROM explore_stats WHERE run_id > ?1 AND "
                         "distinct_states >= 0",
                         f);
    int64_t xv18 = q1(h,
                      "SELECT count(*) FROM runs WHERE id > ?1 AND kind = 'explore' AND "
                      "design = 'go1.18' AND status = 1",
                      f);
    int64_t xv21 = q1(h,
                      "SELECT count(*) FROM runs WHERE id > ?1 AND kind = 'explore' AND "
                      "design = 'go1.21' AND status = 1",
                      f);
    int64_t cscen =
        q1(h, "SELECT coalesce(sum(enumerated), 0) FROM check_designs WHERE run_id > ?1", f);
    int64_t cexec =
        q1(h, "SELECT coalesce(sum(executions), 0) FROM check_designs WHERE run_id > ?1", f);
    int64_t cexp =
        q1(h, "SELECT coalesce(sum(expected), 0) FROM check_designs WHERE run_id > ?1", f);
    int64_t cunexp =
        q1(h, "SELECT coalesce(sum(unexpected), 0) FROM check_designs WHERE run_id > ?1", f);
    int64_t mrun =
        q1(h, "SELECT coalesce(max(id), 0) FROM runs WHERE id > ?1 AND kind = 'mutation'", f);
    int64_t mscored =
        q1(h, "SELECT count(*) FROM mutants WHERE run_id = ?1 AND verdict != 'equivalent'", mrun);
    int64_t mcaught =
        q1(h, "SELECT count(*) FROM mutants WHERE run_id = ?1 AND verdict LIKE 'caught%'", mrun);
    int64_t mheld = q1(h,
                       "SELECT count(*) FROM mutants WHERE run_id = ?1 AND set_name = 'heldout' "
                       "AND verdict != 'equivalent'",
                       mrun);
    int64_t mheldc = q1(h,
                        "SELECT count(*) FROM mutants WHERE run_id = ?1 AND set_name = 'heldout' "
                        "AND verdict LIKE 'caught%'",
                        mrun);
    sqlite3_close(h);

    printf("\nsummary (this run, from %s)\n", d->db);
    printf("  %-28s %lld, %s events\n", "workloads recorded", (long long)live,
           commas(events, a, sizeof a));
    printf("  %-28s %lld runs: %lld divergences, %lld violations\n", "replays of the recordings",
           (long long)rruns, (long long)rdiv, (long long)rviol);
    printf("  %-28s %d/%d as in traces/corpus.tsv (go1.18, go1.21)\n", "corpus verdicts matched",
           d->corpus_ok, d->corpus_n);
    printf("  %-28s %lld runs, %s executions, ", "explored", (long long)xruns,
           commas(xexec, b, sizeof b));
    if (xstates >= 0)
        printf("%s distinct states\n", commas(xstates, c, sizeof c));
    else
        printf("distinct states not counted by this explorer\n");
    printf("  %-28s go1.18 %lld, go1.21 %lld\n", "explore runs with violation", (long long)xv18,
           (long long)xv21);
    printf("  %-28s %s scenario runs (all designs), %s executions: %lld unexpected findings, "
           "%lld expected\n",
           "check (enumerated)", commas(cscen, a, sizeof a), commas(cexec, b, sizeof b),
           (long long)cunexp, (long long)cexp);
    if (mrun)
        printf("  %-28s %lld of %lld non-equivalent mutants caught (held out: %lld of %lld), "
               "last full run\n",
               "mutation score", (long long)mcaught, (long long)mscored, (long long)mheldc,
               (long long)mheld);
    if (d->nbench) {
        printf("  echo benchmark, median      req/s        p50 us   p99 us\n");
        for (int i = 0; i < d->nbench; i++) {
            const contender *k = &d->bench[i];
            if (!k->n)
                continue;
            printf("    %-26s %-12s %-8.1f %.1f\n", k->name,
                   commas((int64_t)median(k->rps, k->n), a, sizeof a), median(k->p50, k->n),
                   median(k->p99, k->n));
        }
    }
    char tdir[PATH_MAX + 16];
    fmt(tdir, sizeof tdir, "%s/traces", d->out);
    printf("\nfiles\n  %s\n  %s/  (%d traces)\n", d->db, tdir, count_files(tdir, ".npt"));
    char html[PATH_MAX + 16];
    fmt(html, sizeof html, "%s/report.html", d->out);
    if (is_file(html))
        printf("  %s\n", html);
    int png = count_files(d->out, ".png");
    if (png)
        printf("  %s/*.png  (%d plots)\n", d->out, png);
    char pdir[PATH_MAX + 16];
    fmt(pdir, sizeof pdir, "%s/plots", d->out);
    if ((png = count_files(pdir, ".png")))
        printf("  %s/*.png  (%d plots)\n", pdir, png);
    printf("  %s/*.log  (every command's output)\n", d->logs);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll demo [--out DIR] [--seconds S] [--quick] [--traces DIR]\n\n"
               "The full research run, in five stages:\n"
               "  1. record   each live workload on epoll over 127.0.0.1 for S seconds\n"
               "  2. replay   each recording replayed and compared with the simulator (zero\n"
               "              divergences expected); the corpus replayed under go1.18 and go1.21\n"
               "              and checked against traces/corpus.tsv\n"
               "  3. explore  the canonical race scenarios under both designs with the dfs, pct\n"
               "              and random strategies, and the corpus with dfs (each run bounded)\n"
               "  4. bench    a short TCP echo run per contender: netpoll w1/w2, Go, libuv, raw\n"
               "              epoll (one that is not built or installed is skipped with a note)\n"
               "  5. report   netpoll report: the plots and DIR/report.html\n"
               "It writes DIR/results.db, DIR/traces/*.npt, DIR/logs/*.log, the plots and\n"
               "DIR/report.html, and ends with a summary table. Runs are appended to an\n"
               "existing DIR/results.db (the summary counts this run's only; the report\n"
               "covers every run in the file: use a new DIR for a report of one run).\n"
               "  --out DIR      where to write (default out)\n"
               "  --seconds S    seconds each workload is recorded, 0.1 to 30 (default 2); the\n"
               "                 exploration and benchmark budgets scale with it\n"
               "  --quick        the same as --seconds 0.5\n"
               "  --traces DIR   the corpus and scenarios (default: the source tree's traces/;\n"
               "                 a DIR without corpus.tsv, scenarios/ or bugs/: exit 2)\n"
               "exit status: 0 all as expected, 1 a failure or an unexpected verdict (listed),\n"
               "2 bad usage or DIR not writable\n");
}

/* The traces folder: --traces, else the source tree's, else ./traces (none
 * found: the corpus and scenarios are skipped with a note). An explicit
 * --traces that is not a folder holding corpus.tsv, scenarios/ or bugs/ is
 * a usage error: -1 after one line on stderr. */
static int find_traces(demo *d, const char *opt)
{
    const char *cands[] = {opt, NP_SOURCE_DIR "/traces", "traces"};
    d->traces[0] = 0;
    for (size_t i = opt ? 0 : 1; i < sizeof cands / sizeof cands[0]; i++) {
        char probe[PATH_MAX + 32], sc[PATH_MAX + 32], bugs[PATH_MAX + 32];
        fmt(probe, sizeof probe, "%s/corpus.tsv", cands[i]);
        fmt(sc, sizeof sc, "%s/scenarios", cands[i]);
        fmt(bugs, sizeof bugs, "%s/bugs", cands[i]);
        if (is_file(probe) || (opt && (is_dir(sc) || is_dir(bugs)))) {
            if (!realpath(cands[i], d->traces))
                fmt(d->traces, sizeof d->traces, "%s", cands[i]);
            return 0;
        }
        if (opt) {
            fprintf(stderr, "netpoll demo: --traces %s: %s\n", opt,
                    !is_dir(opt) ? "no such folder"
                                 : "no corpus.tsv, scenarios/ or bugs/ in it (the source tree's "
                                   "traces/ folder is one)");
            return -1;
        }
    }
    return 0;
}

int np_cli_demo(int argc, char **argv)
{
    demo *d = calloc(1, sizeof *d);
    if (!d)
        return 2;
    const char *out = "out", *traces = NULL;
    d->seconds = 2;
    int status = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(d);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            d->seconds = 0.5;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--traces")) {
            const char *v = np_cli_value("demo", argc, argv, &i);
            if (!v)
                goto done;
            if (!*v) {
                fprintf(stderr, "netpoll demo: %s needs a folder, not ''\n", a);
                goto done;
            }
            if (!strcmp(a, "--out"))
                out = v;
            else
                traces = v;
        } else if (!strcmp(a, "--seconds")) {
            if (np_cli_real_arg("demo", argc, argv, &i, 0.1, 30, &d->seconds))
                goto done;
        } else {
            fprintf(stderr, "netpoll demo: unexpected argument '%s' (see netpoll demo --help)\n",
                    a);
            goto done;
        }
    }
    ssize_t n = readlink("/proc/self/exe", d->exe, sizeof d->exe - 1);
    if (n <= 0) {
        fprintf(stderr, "netpoll demo: cannot find this program: %s\n", strerror(errno));
        goto done;
    }
    d->exe[n] = 0;
    if (find_traces(d, traces) != 0) /* before anything is written */
        goto done;
    fmt(d->out, sizeof d->out, "%s", out);
    fmt(d->logs, sizeof d->logs, "%s/logs", out);
    char tdir[PATH_MAX + 16];
    fmt(tdir, sizeof tdir, "%s/traces", out);
    if (mkdir_p(d->out) != 0 || mkdir_p(d->logs) != 0 || mkdir_p(tdir) != 0 ||
        access(d->out, W_OK) != 0) {
        fprintf(stderr, "netpoll demo: cannot write to %s: %s\n", out, strerror(errno));
        goto done;
    }
    fmt(d->db, sizeof d->db, "%s/results.db", out);
    fmt(d->jobout, sizeof d->jobout, "%s/.job.out", d->logs);
    /* the store: refuse a file that is not ours before any work; runs are
     * appended after the ones already there */
    np_db *db;
    char msg[600];
    if (np_db_open(d->db, &db, msg, sizeof msg) != 0) {
        fprintf(stderr, "netpoll demo: %s\n", msg);
        goto done;
    }
    np_db_close(db);
    sqlite3 *h;
    if (sqlite3_open_v2(d->db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        d->first_run = q1(h, "SELECT coalesce(max(id), 0) FROM runs", 0);
        if (d->first_run < 0)
            d->first_run = 0;
    }
    sqlite3_close(h);
    d->tty = isatty(1);
    const char *lang = getenv("LC_ALL");
    if (!lang || !*lang)
        lang = getenv("LC_CTYPE");
    if (!lang || !*lang)
        lang = getenv("LANG");
    d->utf8 = lang && (strstr(lang, "UTF-8") || strstr(lang, "utf8") || strstr(lang, "UTF8"));

    d->t0 = wall();
    printf("netpoll %s demo: %g s per workload, into %s%s\n", NETPOLL_VERSION, d->seconds, out,
           d->first_run ? " (appending to its results.db)" : "");
    if (!d->traces[0])
        note(d, "no traces folder found (use --traces DIR): the corpus and scenarios are skipped");
    stage_record(d);
    stage_replay(d);
    stage_explore(d);
    stage_check(d);
    stage_bench(d);
    stage_report(d);
    unlink(d->jobout);
    summary(d);
    double el = wall() - d->t0;
    if (d->nnotes) {
        printf("\nnotes\n");
        for (int i = 0; i < d->nnotes; i++)
            printf("  %s\n", d->notes[i]);
    }
    if (d->nfails) {
        printf("\nFAILURES\n");
        for (int i = 0; i < d->nfails; i++)
            printf("  %s\n", d->fails[i]);
    }
    printf("\ndemo: %s in %.1f s\n", d->nfails ? "FAILED" : "ok", el);
    status = d->nfails ? 1 : 0;
done:
    for (int i = 0; i < d->nnotes; i++)
        free(d->notes[i]);
    for (int i = 0; i < d->nfails; i++)
        free(d->fails[i]);
    free(d);
    return status;
}
