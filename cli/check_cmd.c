/* cli/check_cmd.c - `netpoll check`: the project's whole checking suite in
 * one command (issue: checker strength).
 *
 * Under each design: the shipped scenarios (traces/scenarios) explored with
 * dfs and state caching; the corpus (traces/corpus.tsv) replayed, each exit
 * status against the table; every enumerated scenario up to K stimuli
 * (backend_sim/check/enumerate.h) explored likewise. A finding is expected
 * only where traces/expected_findings.tsv names its violation for that
 * design (an older design's known bug), and an expected finding that never
 * shows in a full run is itself a failure: it is never a silent pass.
 * Then, under the first design checked, every program of the simulated
 * machine (netpoll/machine.h: the whole runtime, scheduler, fdMutex and
 * descriptor layer included) on 1, 2 and 3 simulated workers: dfs with a
 * preemption bound, then random schedules; any finding there is unexpected.
 *
 * Exit status: 0 every verdict as expected; 1 otherwise (each unexpected
 * violation printed with its schedule, minimized trace and step listing);
 * 2 bad usage or input; 3 cut short by --seconds (not a full check: never
 * "clean").
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backend_sim/check/edges.h"
#include "../backend_sim/check/enumerate.h"
#include "../backend_sim/watchdog.h"
#include "cli.h"
#include "netpoll/explore.h"
#include "netpoll/invariants.h"
#include "netpoll/machine.h"
#include "netpoll/netpoll.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "results.h"

#ifndef NP_SOURCE_DIR
#define NP_SOURCE_DIR "."
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll check [--design NAME|all] [--k K] [--k2 K] [--seconds S]\n"
               "                     [--shard I/N] [--traces DIR] [--keep-going] [--no-reduce]\n"
               "                     [--no-sleep] [--enumerated-only] [--judge J] [--list]\n"
               "                     [--verdicts FILE]\n"
               "                     [--programs-only|--no-programs] [--program-preemptions P]\n"
               "                     [--program-runs N] [--record-k K] [--record-k2 K]\n"
               "                     [--quiet] [--db FILE|--no-db]\n\n"
               "The whole checking suite. First every program of the simulated machine\n"
               "(netpoll explore --program list) on 1, 2 and 3 workers, under the first\n"
               "design: dfs with at most P preemptions (--program-preemptions, default 1;\n"
               "none on 3 workers), N random and N pct schedules (--program-runs, default\n"
               "2000). Then, under every design by default: the shipped\n"
               "scenarios explored (dfs, state caching), the corpus replayed against\n"
               "traces/corpus.tsv, and every enumerated scenario explored: up to K stimuli\n"
               "on one pollDesc slot (with reopens), and up to K2 on two slots; then the\n"
               "shipped scenarios and the enumerated ones up to --record-k/--record-k2\n"
               "stimuli (default K, K2) again with every run recorded, as netpoll record\n"
               "records the live runtime, and the recording judged (explore --record).\n"
               "  --design NAME     go1.5, go1.18, go1.21 or all (default all)\n"
               "  --k K             stimuli per one-slot scenario, 0 to 6 (default 3)\n"
               "  --k2 K            stimuli per two-slot scenario, 0 to 6 (default 3)\n"
               "  --record-k K      the recorded pass's K, 0 to 6 (default: K; 0 with\n"
               "                    --record-k2 0: no recorded pass of enumerated scenarios)\n"
               "  --record-k2 K     the recorded pass's K2 (default: K2)\n"
               "  --seconds S       stop after S seconds (exit 3: a check cut short is not clean)\n"
               "  --shard I/N       only the I-th of N parts of the enumerated scenarios\n"
               "  --traces DIR      the scenarios and corpus (default: the source tree's traces/)\n"
               "  --keep-going      go on after an unexpected violation (default: stop)\n"
               "  --no-reduce       enumerate without the reductions (to check they are sound)\n"
               "  --no-sleep        explore without sleep sets (to check they are sound)\n"
               "  --judge J         default, model or oracle (see netpoll explore --help)\n"
               "  --enumerated-only the enumerated scenarios alone (not the files, the corpus or\n"
               "                    the programs)\n"
               "  --list            print the enumerated scenarios (one per block), run nothing\n"
               "  --verdicts FILE   write each enumerated scenario's verdict, outcome classes\n"
               "                    and states expanded (by the hash of its canonical text)\n"
               "                    to FILE\n"
               "  --quiet           no progress line on a terminal\n"
               "  --db FILE         store the run in FILE (default results.db); --no-db: none\n"
               "Expected findings per design: traces/expected_findings.tsv.\n"
               "Exit: 0 as expected, 1 a finding not expected (or an expected one missing),\n"
               "2 bad input, 3 cut short.\n");
}

typedef struct {
    const np_design *design;
    char names[8][64]; /* violations expected under it */
    int nnames;
    uint64_t seen[8]; /* how often each showed */
} expect;

typedef struct {
    const char *traces;
    int judge;
    bool keep_going, quiet, tty, reduce, list, enum_only;
    bool no_sleep;                /* --no-sleep: dfs without sleep sets */
    bool programs, programs_only; /* the machine's programs: run them, only them */
    int program_pb;               /* their dfs preemption bound */
    int64_t program_runs;         /* their random schedules */
    uint64_t program_findings;
    double seconds, t0;
    int shard, shards;
    int k, k2;
    int rk, rk2;    /* the recorded pass: its k and k2 (-1: as k, k2) */
    bool recording; /* the pass running is the recorded one */
    expect ex[3];
    int nex;
    np_db *db;
    FILE *verdicts; /* --verdicts: one line per enumerated scenario */
    uint64_t canon; /* the scenario being explored (its canonical hash) */
    /* totals */
    uint64_t scenarios, enumerated, executions, expected, unexpected, mismatches, printed;
    bool cut, stop;
    uint64_t index; /* enumerated scenarios passed so far (for --shard) */
    expect *cur;
    int slots; /* the enumeration running: 1 or 2 */
    struct corpus_finding {
        char file[512], design[32], kinds[256];
    } * findings; /* traces/corpus_findings.tsv */
    size_t nfindings;
} check;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool out_of_time(check *c)
{
    if (c->seconds > 0 && now_s() - c->t0 > c->seconds)
        c->cut = true;
    return c->cut;
}

/* The watchdog (backend_sim/watchdog.h): 30 s of CPU time in which the
 * explorer reported no progress (np_explore_opts.progress, between
 * executions) and no scenario began is a hang, reported with what was
 * running; the check exits 1 - a finding, not a stall that an outer
 * timeout has to cut. (The programs run in child
 * processes, which watch themselves: mexplore.c.) No phase of the check
 * goes seconds without a step otherwise: the enumeration, the oracle and
 * the database work between runs take milliseconds. */
static char wd_what[320];          /* what runs now: design, pass, scenario */
static volatile uint64_t wd_count; /* executions and scenarios begun */

static uint64_t wd_points(void)
{
    return wd_count;
}

/* np_explore_opts.progress: called between executions, about every 0.2 s */
static void wd_explored(void *ctx, const np_explore_sample *s, bool last)
{
    (void)ctx;
    (void)s;
    (void)last;
    wd_count++;
}

static void wd_hang(void)
{
    /* write and _exit only (stdout is line-buffered: every finding printed
     * before is out already) */
    static const char a[] = "\ncheck: hang: no new execution in 30 s of CPU time (a loop "
                            "with no scheduling point), in: ";
    ssize_t r = write(1, a, sizeof a - 1);
    r = write(1, wd_what, strnlen(wd_what, sizeof wd_what));
    r = write(1, "\n", 1);
    (void)r;
    _exit(1);
}

/* what runs now, for the watchdog's report */
static void wd_set(const check *c, const char *what, const char *name)
{
    wd_count++;
    int n = snprintf(wd_what, sizeof wd_what, "%s%s%s ", c->cur ? c->cur->design->name : "",
                     c->cur ? " " : "", what);
    if (n > 0 && (size_t)n < sizeof wd_what && name) { /* a long name cut */
        size_t k = strnlen(name, sizeof wd_what - (size_t)n - 1);
        memcpy(wd_what + n, name, k);
        wd_what[(size_t)n + k] = 0;
    }
}

static void progress(check *c, const char *what)
{
    if (c->quiet || !c->tty)
        return;
    static double last;
    double t = now_s();
    if (t - last < 0.2)
        return;
    last = t;
    fprintf(stderr, "\r\033[K%s %s: %llu scenarios, %llu executions, %llu findings (%.0f s)",
            c->cur ? c->cur->design->name : "", what, (unsigned long long)c->scenarios,
            (unsigned long long)c->executions,
            (unsigned long long)(c->expected + c->unexpected + c->mismatches), t - c->t0);
}

static void clear_progress(check *c)
{
    if (!c->quiet && c->tty)
        fprintf(stderr, "\r\033[K");
}

/* A table of the traces folder, opened; NULL (after one line on stderr
 * if it is required) when it cannot be. path gets its path. */
static FILE *open_table(const check *c, const char *name, bool required, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", c->traces, name);
    FILE *f = fopen(path, "r");
    if (!f && required)
        fprintf(stderr, "netpoll check: %s: %s\n", path, strerror(errno));
    return f;
}

/* traces/expected_findings.tsv: DESIGN <tab> VIOLATION <tab> why. */
static int load_expected(check *c)
{
    char path[PATH_MAX];
    FILE *f = open_table(c, "expected_findings.tsv", true, path, sizeof path);
    if (!f)
        return 2;
    char line[512];
    int no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char design[32], name[64];
        if (sscanf(line, "%31[^\t]\t%63[^\t\n]", design, name) != 2) {
            fprintf(stderr, "%s:%d: want DESIGN<tab>VIOLATION<tab>why\n", path, no);
            fclose(f);
            return 2;
        }
        const np_design *d = np_design_find(design);
        if (!d) {
            fprintf(stderr, "%s:%d: unknown design '%s'\n", path, no, design);
            fclose(f);
            return 2;
        }
        for (int i = 0; i < c->nex; i++)
            if (c->ex[i].design == d && c->ex[i].nnames < 8)
                snprintf(c->ex[i].names[c->ex[i].nnames++], 64, "%s", name);
    }
    fclose(f);
    return 0;
}

/* Is violation `name` expected under the current design? Counts it. */
static bool expected(check *c, const char *name)
{
    for (int i = 0; i < c->cur->nnames; i++)
        if (!strcmp(c->cur->names[i], name)) {
            c->cur->seen[i]++;
            return true;
        }
    return false;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --verdicts: canonical hash, design, status, the outcome classes (sorted). */
static void write_verdict(check *c, int st, const np_explore_result *r)
{
    fprintf(c->verdicts, "%016llx\t%s%s\t%d\t", (unsigned long long)c->canon, c->cur->design->name,
            c->recording ? "+record" : "", st);
    char **v = malloc((r->nclasses + 1) * sizeof *v);
    for (size_t i = 0; v && i < r->nclasses; i++)
        v[i] = r->classes[i].text;
    if (v)
        qsort(v, r->nclasses, sizeof *v, cmp_text);
    for (size_t i = 0; v && i < r->nclasses; i++)
        fprintf(c->verdicts, "%s%s", i ? " ; " : "", v[i]);
    fprintf(c->verdicts, "\t%llu\n", (unsigned long long)r->states);
    free(v);
}

static void indent(const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  | %.*s\n", n, p);
        p = nl ? nl + 1 : p + n;
    }
}

/* Explores one scenario (its text, or a file) under the current design;
 * the verdict against the expected findings. */
static void explore_one(check *c, const char *name, const np_trace *tr, const char *text)
{
    np_explore_opts o = {.design = c->cur->design,
                         .strategy = NP_EXPLORE_DFS,
                         .preemptions = -1,
                         .stop_at_first = true,
                         .judge = c->judge,
                         .record = c->recording,
                         .no_sleep = c->no_sleep};
    np_explore_result r;
    wd_set(c, c->recording ? "scenario, recorded:" : "scenario:", name);
    o.progress = wd_explored;
    int st = np_explore(tr, &o, &r);
    c->scenarios++;
    c->executions += r.executions;
    if (c->verdicts && text)
        write_verdict(c, st, &r);
    if (st == 2) {
        clear_progress(c);
        printf("check: %s under %s: invalid: %s\n", name, c->cur->design->name, r.invalid);
        c->mismatches++;
        if (!c->keep_going)
            c->stop = true;
    } else if (st == 1) {
        if (expected(c, r.name)) {
            c->expected++;
        } else {
            c->unexpected++;
            if (!c->keep_going)
                c->stop = true;
            np_explore_result m;
            bool again = c->printed < 5; /* the first few in full */
            if (again) {
                o.minimize = true;
                np_explore(tr, &o, &m);
            }
            const np_explore_result *p = again && m.status == 1 ? &m : &r;
            clear_progress(c);
            printf("check: %s under %s%s: %s\n", name, c->cur->design->name,
                   c->recording ? ", recorded" : "", p->detail);
            if (again) {
                printf("schedule: %s (%d preemption%s)\n", p->schedule, p->preemptions,
                       p->preemptions == 1 ? "" : "s");
                if (text) {
                    printf("scenario:\n");
                    indent(text);
                }
                if (p->minimized) {
                    printf("minimized: %d preemption%s, %zu steps, on this trace:\n",
                           p->min_preemptions, p->min_preemptions == 1 ? "" : "s", p->min_steps);
                    indent(p->min_trace);
                    printf("  schedule on it: %s\nrace: %s\nsteps:\n%s", p->min_schedule, p->race,
                           p->listing ? p->listing : "");
                }
                c->printed++;
            }
            if (c->db) { /* with the scenario's name and identity */
                char scen[256], scen_hash[24];
                np_cli_trace_id(tr, name, scen, sizeof scen, scen_hash, sizeof scen_hash);
                np_db_violation_in(c->db, &p->first, p->minimized ? p->min_schedule : p->schedule,
                                   p->minimized ? p->min_trace : text, p->listing,
                                   p->minimized ? p->min_preemptions : p->preemptions, scen,
                                   *scen_hash ? scen_hash : NULL);
            }
            if (again)
                np_explore_result_free(&m);
        }
    }
    np_explore_result_free(&r);
}

static int on_scenario(void *ctx, uint64_t hash, const char *text)
{
    check *c = ctx;
    c->canon = hash;
    if (c->slots == 2 && !strstr(text, "pd=2")) /* the one-slot pass had it */
        return 0;
    uint64_t i = c->index++;
    if (c->shards > 1 && (int)(i % (uint64_t)c->shards) != c->shard)
        return 0;
    if (c->list) {
        printf("# scenario %016llx\n%s\n", (unsigned long long)hash, text);
        c->enumerated++;
        return 0;
    }
    char name[64], msg[256];
    snprintf(name, sizeof name, "enum:%016llx", (unsigned long long)hash);
    np_trace tr;
    if (np_trace_parse_buf(name, text, strlen(text), &tr, msg, sizeof msg) != 0) {
        clear_progress(c);
        printf("check: a generated scenario does not parse: %s\n", msg);
        indent(text);
        c->mismatches++;
        c->stop = true;
        return 1;
    }
    c->enumerated++;
    explore_one(c, name, &tr, text);
    np_trace_free(&tr);
    progress(c, "enumerated");
    return c->stop || out_of_time(c);
}

/* Every enumerated scenario up to k stimuli on one slot and k2 on two,
 * explored (on_scenario). 0, or -1 out of memory. */
static int run_enumerated(check *c, int k, int k2)
{
    for (int slots = 1; slots <= 2 && !c->stop && !c->cut; slots++) {
        np_enum_opts eo = {slots == 1 ? k : k2, slots, true, !c->reduce};
        if (eo.k == 0)
            continue;
        c->slots = slots;
        if (np_enumerate(&eo, on_scenario, c) < 0)
            return -1;
    }
    return 0;
}

static void run_files(check *c, const char *sub)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", c->traces, sub);
    int n = 0;
    char **v = np_cli_list_npt(dir, &n);
    for (int i = 0; i < n && !c->stop && !out_of_time(c); i++) {
        np_trace tr;
        char msg[512];
        if (np_trace_parse_file(v[i], &tr, msg, sizeof msg) != 0) {
            clear_progress(c);
            printf("check: %s\n", msg);
            c->mismatches++;
            continue;
        }
        explore_one(c, v[i], &tr, NULL);
        np_trace_free(&tr);
        progress(c, sub);
    }
    np_cli_free_list(v, n);
}

/* The kinds of finding of a replay, sorted, comma-separated ("-": none). */
static void finding_kinds(const np_replay_result *r, char *buf, size_t len)
{
    bool seen[NP_INV_COUNT] = {false};
    for (size_t i = 0; i < r->nviol; i++)
        if (r->viol[i].kind >= 0 && r->viol[i].kind < NP_INV_COUNT)
            seen[r->viol[i].kind] = true;
    const char *names[NP_INV_COUNT];
    int n = 0;
    for (int k = 0; k < NP_INV_COUNT; k++)
        if (seen[k])
            names[n++] = np_inv_name((np_inv)k);
    for (int i = 1; i < n; i++) /* (a few: insertion) */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t u = 0;
    buf[0] = 0;
    for (int i = 0; i < n && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%s", i ? "," : "", names[i]);
    if (!n)
        snprintf(buf, len, "-");
}

/* traces/corpus_findings.tsv, read once: the kinds expected of FILE under
 * DESIGN, or NULL where the table is absent or silent. */
static const char *kinds_expected(check *c, const char *file, const char *design, char *buf,
                                  size_t len)
{
    for (size_t i = 0; i < c->nfindings; i++)
        if (!strcmp(c->findings[i].file, file) && !strcmp(c->findings[i].design, design)) {
            snprintf(buf, len, "%s", c->findings[i].kinds);
            return buf;
        }
    return NULL;
}

static void load_findings(check *c)
{
    char path[PATH_MAX], line[1024];
    FILE *f = open_table(c, "corpus_findings.tsv", false, path, sizeof path);
    while (f && fgets(line, sizeof line, f)) {
        struct corpus_finding r;
        if (line[0] == '#' ||
            sscanf(line, "%511[^\t]\t%31[^\t]\t%255[^\t\n]", r.file, r.design, r.kinds) != 3)
            continue;
        void *v = realloc(c->findings, (c->nfindings + 1) * sizeof *c->findings);
        if (!v)
            break;
        c->findings = v;
        c->findings[c->nfindings++] = r;
    }
    if (f)
        fclose(f);
}

/* traces/corpus.tsv: each file replayed; its exit status as the table says,
 * and the kinds of its findings as traces/corpus_findings.tsv says (an old
 * design's bug found as that bug, not as another). Under go1.21 also with
 * exact timers (the table's `exact` column). */
static int run_corpus(check *c)
{
    char path[PATH_MAX];
    FILE *f = open_table(c, "corpus.tsv", true, path, sizeof path);
    if (!f)
        return 2;
    if (!c->findings)
        load_findings(c);
    static const char *cols[] = {"go1.5", "go1.18", "go1.21", "exact"};
    int col = -1;
    for (int k = 0; k < 3; k++)
        if (!strcmp(cols[k], c->cur->design->name))
            col = k;
    char line[1024];
    while (col >= 0 && fgets(line, sizeof line, f) && !c->stop && !out_of_time(c)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char file[512];
        int want[4];
        if (sscanf(line, "%511s %d %d %d %d", file, &want[0], &want[1], &want[2], &want[3]) != 5)
            continue;
        char tp[PATH_MAX + 520];
        snprintf(tp, sizeof tp, "%s/%s", c->traces, file);
        np_trace tr;
        char msg[512];
        if (np_trace_parse_file(tp, &tr, msg, sizeof msg) != 0) {
            clear_progress(c);
            printf("check: corpus: %s\n", msg);
            c->mismatches++;
            continue;
        }
        for (int k = col; k < 4 && (k == col || col == 2); k++) { /* go1.21: and exact */
            np_replay_opts o = {.design = c->cur->design, .exact_timers = k == 3};
            np_replay_result r;
            wd_set(c, "corpus:", tp);
            int st = np_replay(&tr, &o, &r);
            char got[256], wantk[256];
            finding_kinds(&r, got, sizeof got);
            np_replay_result_free(&r);
            c->scenarios++;
            const char *ek = kinds_expected(c, file, cols[k], wantk, sizeof wantk);
            if (st != want[k] || (ek && strcmp(ek, got))) {
                clear_progress(c);
                if (st != want[k])
                    printf("check: corpus %s under %s: replay exit %d, traces/corpus.tsv says %d\n",
                           file, cols[k], st, want[k]);
                else
                    printf("check: corpus %s under %s: findings %s, traces/corpus_findings.tsv "
                           "says %s\n",
                           file, cols[k], got, ek);
                c->mismatches++;
                if (!c->keep_going)
                    c->stop = true;
            }
        }
        np_trace_free(&tr);
    }
    fclose(f);
    return 0;
}

static void edge_failed(void *ctx, const char *name, const char *msg)
{
    check *c = ctx;
    clear_progress(c);
    printf("check: %-6s edge case %s: %s\n", c->cur->design->name, name, msg);
    c->unexpected++;
    if (c->db) {
        char text[512];
        snprintf(text, sizeof text, "%s: %s: %s", c->cur->design->name, name, msg);
        np_db_violation_ex(c->db, "edge", text, NULL, NULL, NULL, -1);
    }
}

/* The edge pass (backend_sim/check/edges.c): the pollDesc API's documented
 * answers where no trace goes. */
static void run_edges(check *c)
{
    unsigned cases = 0, not_reached = 0;
    uint64_t u0 = c->unexpected;
    progress(c, "edge cases");
    wd_set(c, "edge cases", NULL);
    double t0 = now_s();
    int failed = np_check_edges(c->cur->design, edge_failed, c, &cases, &not_reached);
    clear_progress(c);
    if (failed < 0) {
        printf("check: %-6s edge cases: the runtime did not start\n", c->cur->design->name);
        c->unexpected++;
    } else {
        printf("check: %-6s edge cases: %u, %llu not as documented, in %.2f s\n",
               c->cur->design->name, cases, (unsigned long long)(c->unexpected - u0), now_s() - t0);
        if (not_reached)
            printf("check: %-6s edge cases: %u forced interleavings had no place in the code "
                   "(it reads the recording flag or the info word fewer times than they "
                   "assume): not run, not a failure\n",
                   c->cur->design->name, not_reached);
    }
    if (c->unexpected > u0 && !c->keep_going)
        c->stop = true;
}

/* The machine's programs on 1, 2 and 3 workers: dfs with a preemption
 * bound, then random schedules. Each finding is unexpected. */
static void run_programs(check *c)
{
    const char *name, *desc;
    const char *design = c->ex[0].design->name;
    for (size_t i = 0; np_mx_program(i, &name, &desc) && !c->stop && !c->cut; i++)
        for (int w = 1; w <= 3 && !c->stop && !c->cut; w++)
            for (int pass = 0; pass < 3 && !c->stop && !c->cut; pass++) {
                /* dfs: the bound on 1 and 2 workers; on 3, the free choices
                 * alone (which thread goes on when one blocks) are already
                 * 10^5-10^6 schedules a program, so no preemption there */
                np_mx_opts o = {.program = name,
                                .workers = w,
                                .strategy = pass == 0   ? "dfs"
                                            : pass == 1 ? "random"
                                                        : "pct",
                                .preemptions = w < 3 ? c->program_pb : 0,
                                .runs = pass == 0 ? 0 : (uint64_t)c->program_runs,
                                .seed = 1,
                                .design = design};
                if (c->seconds > 0) {
                    double left = c->seconds - (now_s() - c->t0);
                    if (left <= 0) {
                        c->cut = true;
                        break;
                    }
                    o.seconds = left;
                }
                if (pass > 0 && c->program_runs == 0)
                    continue;
                o.quiet = np_mx_program_expects(name) != NULL; /* its listing is no news */
                progress(c, name);
                wd_set(c, "program", name);
                np_mx_result r;
                if (np_mx_explore(&o, &r) != 0) {
                    clear_progress(c);
                    printf("check: program %s, %d worker(s): the exploration failed\n", name, w);
                    c->unexpected++;
                    c->program_findings++;
                    if (!c->keep_going)
                        c->stop = true;
                    continue;
                }
                c->executions += r.executions;
                c->scenarios++;
                if (pass == 0 && !r.complete && !r.found)
                    c->cut = true;
                clear_progress(c);
                printf("check: program %-18s %d worker(s) %-6s %8llu executions %10llu steps "
                       "%6.1f s: %s\n",
                       name, w, o.strategy, (unsigned long long)r.executions,
                       (unsigned long long)r.steps, r.seconds,
                       r.found                    ? r.kind
                       : pass == 0 && !r.complete ? "cut short"
                                                  : "clean");
                const char *want = np_mx_program_expects(name);
                if (want) {
                    /* a self-test: its bug must be found, by each strategy */
                    bool ok = r.found && !strcmp(r.kind, want);
                    clear_progress(c);
                    printf("check: program %-18s %d worker(s) %-6s self-test: %s\n", name, w,
                           o.strategy,
                           ok ? "its bug found, as it must be" : "its bug NOT FOUND (expected)");
                    if (ok) {
                        c->expected++;
                    } else {
                        c->unexpected++;
                        c->program_findings++;
                        if (!c->keep_going)
                            c->stop = true;
                    }
                    continue;
                }
                if (r.found) {
                    c->unexpected++;
                    c->program_findings++;
                    if (c->db)
                        np_db_violation_ex(c->db, r.kind, r.msg, r.schedule, NULL, NULL, -1);
                    printf("check:   replay: netpoll explore --program %s --workers %d "
                           "--design %s --schedule %s --list\n",
                           name, w, design, r.schedule);
                    if (!c->keep_going)
                        c->stop = true;
                }
            }
}

int np_cli_check(int argc, char **argv)
{
    check c = {.judge = NP_JUDGE_DEFAULT,
               .reduce = true,
               .k = 3,
               .k2 = 3,
               .rk = -1,
               .rk2 = -1,
               .programs = true,
               .program_pb = 1,
               .program_runs = 2000};
    /* A line at a time even into a file or pipe: what the check found so
     * far must survive a crash of the checker itself. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *design = "all", *dbpath = NULL, *traces = NULL, *verdicts = NULL;
    bool nodb = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int64_t n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--design")) {
            if (!(design = np_cli_value("check", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--k") || !strcmp(a, "--k2")) {
            if (np_cli_int_arg("check", argc, argv, &i, 0, 6, &n))
                return 2;
            *(!strcmp(a, "--k") ? &c.k : &c.k2) = (int)n;
        } else if (!strcmp(a, "--record-k") || !strcmp(a, "--record-k2")) {
            if (np_cli_int_arg("check", argc, argv, &i, 0, 6, &n))
                return 2;
            *(!strcmp(a, "--record-k") ? &c.rk : &c.rk2) = (int)n;
        } else if (!strcmp(a, "--seconds")) {
            if (np_cli_real_arg("check", argc, argv, &i, 0.001, 1e7, &c.seconds))
                return 2;
        } else if (!strcmp(a, "--shard")) {
            if (!(v = np_cli_value("check", argc, argv, &i)))
                return 2;
            if (np_explore_parse_shard(v, &c.shard, &c.shards) != 0) {
                fprintf(stderr, "netpoll check: --shard wants I/N with 1 <= I <= N, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--traces")) {
            if (!(traces = np_cli_value("check", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--judge")) {
            if (!(v = np_cli_value("check", argc, argv, &i)))
                return 2;
            if (np_cli_judge("check", v, &c.judge))
                return 2;
        } else if (!strcmp(a, "--db")) {
            if (!(dbpath = np_cli_value("check", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--verdicts")) {
            if (!(verdicts = np_cli_value("check", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--no-db")) {
            nodb = true;
        } else if (!strcmp(a, "--keep-going")) {
            c.keep_going = true;
        } else if (!strcmp(a, "--no-reduce")) {
            c.reduce = false;
        } else if (!strcmp(a, "--no-sleep")) {
            c.no_sleep = true;
        } else if (!strcmp(a, "--enumerated-only")) {
            c.enum_only = true;
        } else if (!strcmp(a, "--programs-only")) {
            c.programs_only = true;
        } else if (!strcmp(a, "--no-programs")) {
            c.programs = false;
        } else if (!strcmp(a, "--program-preemptions")) {
            if (np_cli_int_arg("check", argc, argv, &i, 0, 10, &n))
                return 2;
            c.program_pb = (int)n;
        } else if (!strcmp(a, "--program-runs")) {
            if (np_cli_int_arg("check", argc, argv, &i, 0, INT64_C(1000000000), &c.program_runs))
                return 2;
        } else if (!strcmp(a, "--list")) {
            c.list = true;
        } else if (!strcmp(a, "--quiet")) {
            c.quiet = true;
        } else {
            fprintf(stderr, "netpoll check: unexpected argument '%s' (see netpoll check --help)\n",
                    a);
            return 2;
        }
    }
    if (strcmp(design, "all") != 0) {
        const np_design *d = np_design_find(design);
        if (!d) {
            fprintf(stderr, "netpoll check: unknown design '%s' (go1.5, go1.18, go1.21, all)\n",
                    design);
            return 2;
        }
        c.ex[c.nex++].design = d;
    } else {
        /* the current design first: a bug in the code as shipped shows soonest */
        int nd = 0;
        while (np_designs[nd])
            nd++;
        for (int i = nd - 1; i >= 0 && c.nex < 3; i--)
            c.ex[c.nex++].design = np_designs[i];
    }
    /* the scenarios and corpus: --traces, the source tree's, or ./traces */
    const char *cands[] = {traces, NP_SOURCE_DIR "/traces", "traces"};
    for (int i = 0; i < (traces ? 1 : 3) && !c.traces; i++)
        if (cands[i] && access(cands[i], R_OK) == 0)
            c.traces = cands[i];
    if (!c.traces) {
        fprintf(stderr, "netpoll check: %s: no such folder (give --traces DIR)\n",
                traces ? traces : "traces");
        return 2;
    }
    if (c.rk < 0)
        c.rk = c.k;
    if (c.rk2 < 0)
        c.rk2 = c.k2;
    if (load_expected(&c))
        return 2;
    c.tty = isatty(2);
    c.t0 = now_s();
    if (c.list) {
        np_enum_opts eo = {c.k, 1, true, !c.reduce};
        c.slots = 1;
        c.cur = &c.ex[0];
        np_enumerate(&eo, on_scenario, &c);
        eo = (np_enum_opts){c.k2, 2, true, !c.reduce};
        c.slots = 2;
        np_enumerate(&eo, on_scenario, &c);
        fprintf(stderr, "check: %llu scenarios\n", (unsigned long long)c.enumerated);
        return 0;
    }
    if (verdicts && (c.verdicts = fopen(verdicts, "w")))
        setvbuf(c.verdicts, NULL, _IOLBF, 0); /* a line per scenario, as it ends */
    if (verdicts && !c.verdicts) {
        fprintf(stderr, "netpoll check: %s: %s\n", verdicts, strerror(errno));
        return 2;
    }
    bool failed = false;
    c.db = np_cli_db_default("check", dbpath, nodb, &failed);
    if (failed)
        return 2;
    if (c.db) {
        char params[1024];
        np_cli_params(argc, argv, params, sizeof params);
        np_db_run run = {"check", "sim", design, NULL, c.traces, params, -1};
        if (np_db_begin_run(c.db, &run) < 0) {
            fprintf(stderr, "netpoll check: %s\n", np_db_error(c.db));
            np_db_close(c.db);
            return 2;
        }
    }
    uint64_t enum_total = 0;
    if (c.programs_only && !c.programs) {
        fprintf(stderr, "netpoll check: --programs-only and --no-programs exclude each other\n");
        np_db_close(c.db);
        return 2;
    }
    /* The programs first (a quarter of a minute): a bug of the scheduler,
     * the fdMutex, netfd.c or sync.c shows before the scenarios' minutes.
     * Not part of --enumerated-only, and in a sharded run only the first
     * shard's. */
    np__wd_start(wd_points, wd_hang);
    if (c.programs && !c.enum_only && (c.shards <= 1 || c.shard == 0) && !c.stop && !c.cut)
        run_programs(&c);
    for (int di = 0; di < c.nex && !c.stop && !c.cut && !c.programs_only; di++) {
        c.cur = &c.ex[di];
        double td = now_s();
        uint64_t s0 = c.scenarios, x0 = c.executions, f0 = c.expected + c.unexpected,
                 e0 = c.expected, u0 = c.unexpected + c.mismatches;
        if (!c.enum_only)
            run_files(&c, "scenarios");
        if (!c.enum_only && !c.stop && !c.cut && run_corpus(&c)) {
            np_db_close(c.db);
            return 2;
        }
        if (!c.enum_only && (c.shards <= 1 || c.shard == 0) && !c.stop && !c.cut)
            run_edges(&c);
        c.index = 0;
        c.enumerated = 0;
        if (run_enumerated(&c, c.k, c.k2) < 0) {
            fprintf(stderr, "netpoll check: out of memory\n");
            np_db_close(c.db);
            return 2;
        }
        enum_total = c.enumerated;
        /* The recorded pass: the shipped scenarios and the enumerated ones
         * up to rk/rk2 stimuli again, each run recorded as `netpoll record`
         * records the live runtime, so that the recording paths of the
         * pollDesc code run and the recordings are judged (explore
         * --record). */
        uint64_t rec0 = c.scenarios;
        c.recording = true;
        if (!c.enum_only && !c.stop && !c.cut)
            run_files(&c, "scenarios");
        c.index = 0;
        uint64_t enumerated_plain = c.enumerated;
        if (run_enumerated(&c, c.rk, c.rk2) < 0) {
            fprintf(stderr, "netpoll check: out of memory\n");
            np_db_close(c.db);
            return 2;
        }
        c.recording = false;
        uint64_t rec_scen = c.scenarios - rec0;
        c.enumerated = enumerated_plain;
        uint64_t unexp = c.unexpected + c.mismatches - u0;
        if (c.db && np_db_check_design(c.db, c.cur->design->name, (int64_t)(c.scenarios - s0),
                                       (int64_t)c.enumerated, (int64_t)(c.executions - x0),
                                       (int64_t)(c.expected - e0), (int64_t)unexp,
                                       (int64_t)((now_s() - td) * 1e9)) != 0) {
            fprintf(stderr, "netpoll check: %s\n", np_db_error(c.db));
            np_db_close(c.db);
            return 2;
        }
        clear_progress(&c);
        printf("check: %-6s %llu enumerated scenarios, %llu in all (%llu of them recorded), "
               "%llu executions, %llu findings (%llu expected) in %.1f s\n",
               c.cur->design->name, (unsigned long long)c.enumerated,
               (unsigned long long)(c.scenarios - s0), (unsigned long long)rec_scen,
               (unsigned long long)(c.executions - x0),
               (unsigned long long)(c.expected + c.unexpected - f0),
               (unsigned long long)(c.expected + c.unexpected - f0 - (c.unexpected)), now_s() - td);
    }
    np__wd_stop();
    /* An expected finding that never showed in a full run: the suite lost
     * the case, or the design's bug is gone - either way, not a pass. */
    uint64_t missing = 0;
    for (int di = 0;
         di < c.nex && !c.stop && !c.cut && c.shards <= 1 && c.k >= 3 && !c.programs_only; di++)
        for (int i = 0; i < c.ex[di].nnames; i++) {
            printf("check: %-6s expected finding %-12s seen in %llu scenarios\n",
                   c.ex[di].design->name, c.ex[di].names[i], (unsigned long long)c.ex[di].seen[i]);
            if (!c.ex[di].seen[i]) {
                printf("check: %s: the expected finding %s did not show (traces/"
                       "expected_findings.tsv)\n",
                       c.ex[di].design->name, c.ex[di].names[i]);
                missing++;
            }
        }
    int status = c.cut ? 3 : c.unexpected || c.mismatches || missing ? 1 : 0;
    printf("check: %s: %llu scenarios (%llu enumerated per design, k=%d, k2=%d%s), %llu "
           "executions, %llu unexpected findings, %llu corpus/parse mismatches, %llu expected "
           "findings, in %.1f s\n",
           status == 0   ? "clean"
           : status == 3 ? "INCOMPLETE (cut short by --seconds; not a full check)"
                         : "FAILED",
           (unsigned long long)c.scenarios, (unsigned long long)enum_total, c.k, c.k2,
           c.shards > 1 ? ", one shard" : "", (unsigned long long)c.executions,
           (unsigned long long)c.unexpected, (unsigned long long)c.mismatches,
           (unsigned long long)c.expected, now_s() - c.t0);
    if (c.verdicts && fclose(c.verdicts) != 0) {
        fprintf(stderr, "netpoll check: %s: %s\n", verdicts, strerror(errno));
        status = 2;
    }
    if (c.db) {
        if (np_db_end_run(c.db, status, (int64_t)c.scenarios, (int64_t)c.mismatches,
                          (int64_t)c.unexpected) != 0) {
            fprintf(stderr, "netpoll check: %s\n", np_db_error(c.db));
            np_db_close(c.db);
            return 2;
        }
        np_db_close(c.db);
    }
    free(c.findings);
    return status;
}
