/* cli/compare_cmd.c - `netpoll compare FILE [--db FILE]`: a recorded live
 * trace against the simulator.
 *
 *  1. replayed as recorded (its fire lines, contract rule 5): every task's
 *     sequence of results must agree with the record - a disagreement is a
 *     bug, and makes the exit status 1;
 *  2. replayed with exact timers: which outcomes depended on timer lateness;
 *  3. timing: live wake latency (the recorded wake against the time of the
 *     event that woke the task in the replay) and deadline lateness (fire
 *     against deadline), as distributions. Trace times stand still while a
 *     woken task waits to run (traces/README.md); with --db, the real-clock
 *     lateness stored by `netpoll record --db` is in the timing table too.
 *     Wake latency, live against simulated: for each wait whose result is
 *     the same in both replays, the time it became due is its wake time with
 *     exact timers (the waking event, or the deadline); the live latency is
 *     the recorded wake after it, the simulated one the wake of the replay
 *     as recorded after it (recorded timer lateness, woken tasks run at
 *     once). The run is stored with its workload (--workload, else that of
 *     the live run that wrote the trace, else the file's name).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netpoll/netpoll.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll compare FILE [--workload NAME] [--db FILE|--no-db] [--outcomes]\n\n"
               "Compares a recorded live trace with the simulator: outcome agreement when\n"
               "replayed as recorded, outcomes that depended on timer lateness (replayed with\n"
               "exact timers), and the distributions of live wake latency and deadline\n"
               "lateness. Exit status 1 if any outcome disagrees with the record.\n"
               "The run is stored in --db FILE (default results.db) unless --no-db, with\n"
               "its workload: --workload NAME, else that of the live run that recorded\n"
               "FILE in the same database, else FILE's name without .npt. The distributions\n"
               "are stored as log-scale histograms (timing_hist), the live wake latency\n"
               "over the run's time too (timing_series); --outcomes stores each wait's\n"
               "outcome as well (table outcomes).\n");
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void dist(const char *what, int64_t *v, size_t n)
{
    if (!n) {
        printf("  %-22s no samples\n", what);
        return;
    }
    qsort(v, n, sizeof *v, cmp64);
#define Q(p) ((double)v[(size_t)((double)(n - 1) * (p))] / 1e3)
    printf("  %-22s n=%-6zu min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f us\n", what, n,
           (double)v[0] / 1e3, Q(0.5), Q(0.9), Q(0.99), (double)v[n - 1] / 1e3);
#undef Q
}

/* Wake i of one replay is its task's nth wait; its counterpart in the other
 * replay is that task's nth wait there (other = SIZE_MAX if none). Sorting
 * by (task, order) makes this O(n log n): a 1 M-event echo trace has over
 * 100,000 wakes. */
typedef struct {
    size_t nth, other;
} wake_match;

typedef struct {
    int32_t g;
    size_t i;
} g_index;

static int cmp_g_index(const void *x, const void *y)
{
    const g_index *a = x, *b = y;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static g_index *by_task(const np_replay_result *r)
{
    g_index *v = malloc((r->nwakes + 1) * sizeof *v);
    for (size_t i = 0; v && i < r->nwakes; i++)
        v[i] = (g_index){r->wakes[i].g, i};
    if (v)
        qsort(v, r->nwakes, sizeof *v, cmp_g_index);
    return v;
}

static wake_match *match_wakes(const np_replay_result *r1, const np_replay_result *r2)
{
    wake_match *m = malloc((r1->nwakes + 1) * sizeof *m);
    g_index *a = by_task(r1), *b = by_task(r2);
    for (size_t k = 0, first = 0, j = 0; m && a && b && k < r1->nwakes; k++) {
        if (k == 0 || a[k].g != a[k - 1].g) {
            first = k;
            while (j < r2->nwakes && b[j].g < a[k].g) /* both sorted: j only moves on */
                j++;
        }
        size_t nth = k - first, at = j + nth;
        m[a[k].i].nth = nth;
        m[a[k].i].other = at < r2->nwakes && b[at].g == a[k].g ? b[at].i : SIZE_MAX;
    }
    if (!a || !b) {
        free(m);
        m = NULL;
    }
    free(a);
    free(b);
    return m;
}

int np_cli_compare(int argc, char **argv)
{
    const char *file = NULL, *dbpath = NULL, *workload = NULL;
    bool nodb = false, dbfail, outcomes = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--db")) {
            if (!(dbpath = np_cli_value("compare", argc, argv, &i)))
                return 2;
        } else if (!strcmp(argv[i], "--workload")) {
            if (!(workload = np_cli_value("compare", argc, argv, &i)))
                return 2;
        } else if (!strcmp(argv[i], "--no-db")) {
            nodb = true;
        } else if (!strcmp(argv[i], "--outcomes")) {
            outcomes = true;
        } else if (argv[i][0] == '-' || file) {
            fprintf(stderr,
                    "netpoll compare: unexpected argument '%s' (see netpoll compare --help)\n",
                    argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, "netpoll compare: which trace? (see netpoll compare --help)\n");
        return 2;
    }
    np_trace tr;
    char msg[512];
    if (np_trace_parse_file(file, &tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    char scen[256], scen_hash[24]; /* the trace's identity, as read (before any faults) */
    np_cli_trace_id(&tr, file, scen, sizeof scen, scen_hash, sizeof scen_hash);
    if (!tr.has_wake) {
        fprintf(stderr, "%s: no wake lines: compare needs a recorded trace (netpoll record)\n",
                file);
        np_trace_free(&tr);
        return 2;
    }
    np_db *db = NULL;
    if ((db = np_cli_db_default("compare", dbpath, nodb, &dbfail)), dbfail) {
        np_trace_free(&tr);
        return 2;
    }
    char *lines = NULL;
    size_t nlines = 0;
    FILE *mem = open_memstream(&lines, &nlines);
    np_replay_opts faithful = {.out = mem ? mem : stdout};
    np_replay_opts exact = {.exact_timers = true};
    np_replay_result r1, r2;
    int s1 = np_replay(&tr, &faithful, &r1);
    if (mem)
        fclose(mem);
    int s2 = s1 == 2 ? 2 : np_replay(&tr, &exact, &r2);
    if (s1 == 2 || s2 == 2) {
        fprintf(stderr, "%s\n", s1 == 2 ? r1.invalid : r2.invalid);
        np_replay_result_free(&r1);
        if (s1 != 2)
            np_replay_result_free(&r2);
        free(lines);
        np_db_close(db);
        np_trace_free(&tr);
        return 2;
    }

    /* 1. agreement */
    size_t agree = 0, recorded = 0;
    for (size_t i = 0; i < r1.nwakes; i++)
        if (r1.wakes[i].rec_res >= 0) {
            recorded++;
            agree += r1.wakes[i].rec_res == r1.wakes[i].res;
        }
    printf("compare: %s\n1. replayed as recorded (%s): %zu of %zu recorded waits agree%s\n", file,
           tr.has_fire ? "fire lines as stimuli" : "no fire lines: exact timers", agree, recorded,
           s1 == 0 ? "" : " - DISAGREEMENT, a bug:");
    if (s1 != 0 && lines)
        fputs(lines, stdout);

    /* 2. lateness-dependent outcomes: the same wait, matched per task in order */
    size_t differ = 0, nwl = 0;
    int64_t *wl_live = malloc((r1.nwakes + 1) * sizeof *wl_live);
    int64_t *wl_sim = malloc((r1.nwakes + 1) * sizeof *wl_sim);
    int64_t *wl_t = malloc((r1.nwakes + 1) * sizeof *wl_t); /* when: the recorded wake */
    wake_match *match = match_wakes(&r1, &r2);
    for (size_t i = 0; match && i < r1.nwakes; i++) {
        const np_replay_wake *a = &r1.wakes[i];
        size_t nth = match[i].nth;
        const np_replay_wake *b = match[i].other < r2.nwakes ? &r2.wakes[match[i].other] : NULL;
        if (b && b->res == a->res && a->rec_t >= 0 && wl_live && wl_sim && wl_t) {
            wl_t[nwl] = a->rec_t;
            wl_live[nwl] = a->rec_t - b->t; /* due: the exact-timer wake */
            wl_sim[nwl++] = a->t - b->t;
        }
        if (!b || b->res != a->res) {
            if (differ < 10)
                printf("   g=%d wait #%zu on pd=%d: %s as recorded, %s with exact timers\n", a->g,
                       nth + 1, a->pd, np_poll_result_name(a->res),
                       b ? np_poll_result_name(b->res) : "(no wake)");
            differ++;
        }
    }
    if (!match)
        fprintf(stderr, "netpoll compare: out of memory\n");
    printf("2. replayed with exact timers: %zu of %zu outcomes depended on timer lateness%s\n",
           differ, r1.nwakes, differ > 10 ? " (first 10 shown above)" : "");

    /* 3. timing */
    int64_t *lat = malloc((r1.nwakes + 1) * sizeof *lat);
    int64_t *late = malloc((tr.n + 1) * sizeof *late);
    int64_t *spans = malloc((tr.n + 1) * sizeof *spans);
    size_t nlat = 0, nlate = 0, within = 0;
    for (size_t i = 0; lat && i < r1.nwakes; i++)
        if (r1.wakes[i].rec_t >= 0)
            lat[nlat++] = r1.wakes[i].rec_t - r1.wakes[i].t;
    /* deadline in effect per (slot, direction), and when it was set */
    typedef struct {
        int32_t pd;
        int64_t at[2], set[2];
    } dl;
    dl *dls = calloc(tr.n + 1, sizeof *dls);
    size_t ndl = 0;
    for (size_t i = 0; dls && late && spans && i < tr.n; i++) {
        const np_tr_event *e = &tr.ev[i];
        if (e->kind != NP_TR_DEADLINE && e->kind != NP_TR_FIRE)
            continue;
        dl *d = NULL;
        for (size_t k = 0; k < ndl && !d; k++)
            if (dls[k].pd == e->pd)
                d = &dls[k];
        if (!d) {
            d = &dls[ndl++];
            d->pd = e->pd;
        }
        int dir = e->mode == NP_MODE_W ? 1 : 0;
        if (e->kind == NP_TR_DEADLINE) {
            for (int k = 0; k < 2; k++)
                if (e->mode == NP_MODE_RW || k == dir) {
                    d->at[k] = e->at;
                    d->set[k] = e->t;
                }
        } else if (d->at[dir] > 0) {
            int64_t l = e->t - d->at[dir], span = d->at[dir] - d->set[dir];
            spans[nlate] = span;
            late[nlate++] = l;
            within += span > 0 && l * 10 <= span;
        }
    }
    printf("3. timing (trace times)\n");
    dist("live wake latency", lat, nlat);
    if (nlate) { /* stored unsorted, paired by order with their spans */
        int64_t *sorted = malloc(nlate * sizeof *sorted);
        if (sorted) {
            memcpy(sorted, late, nlate * sizeof *sorted);
            dist("deadline lateness", sorted, nlate);
            free(sorted);
        }
    } else {
        dist("deadline lateness", late, nlate);
    }
    if (nlate)
        printf("  %zu of %zu timers fired within 10%% of their deadline's span (Go's tests "
               "allow 10%%)\n",
               within, nlate);
    if (wl_live && wl_sim) {
        int64_t *sorted = malloc((nwl + 1) * sizeof *sorted);
        if (sorted) {
            printf("  wake latency from due (exact timers), %zu waits:\n", nwl);
            memcpy(sorted, wl_live, nwl * sizeof *sorted);
            dist("  live", sorted, nwl);
            memcpy(sorted, wl_sim, nwl * sizeof *sorted);
            dist("  simulated", sorted, nwl);
            free(sorted);
        }
    }

    int status = !match ? 2 : s1 == 0 ? 0 : 1;
    if (db && status != 2) {
        char params[512];
        np_cli_params(argc, argv, params, sizeof params);
        char wl[128];
        if (workload) {
            snprintf(wl, sizeof wl, "%s", workload);
        } else if (np_db_trace_workload(db, file, wl, sizeof wl) != 0) {
            const char *base = strrchr(file, '/');
            snprintf(wl, sizeof wl, "%s", base ? base + 1 : file);
            size_t n = strlen(wl);
            if (n > 4 && !strcmp(wl + n - 4, ".npt"))
                wl[n - 4] = 0;
        }
        np_db_run run = {"compare", "sim", "go1.21", wl, file, params, -1};
        /* each distribution once, as a histogram (the live wake latency,
         * recorded - replayed, is replay's sim_wake_delay) */
        int bad = np_db_begin_run_of(db, &run, scen, scen_hash) < 0 ||
                  np_cli_db_store_replay(db, &r1, outcomes) != 0 ||
                  np_db_hist(db, "deadline_lateness_trace", late, nlate) != 0 ||
                  np_db_hist(db, "deadline_span", spans, nlate) != 0 ||
                  (wl_live && wl_sim && wl_t &&
                   (np_db_hist(db, "wake_latency_live", wl_live, nwl) != 0 ||
                    np_db_hist(db, "wake_latency_sim", wl_sim, nwl) != 0 ||
                    np_db_series(db, "wake_latency_live", wl_t, wl_live, nwl) != 0));
        if (!bad)
            bad = np_db_timing(db, "lateness_dependent_outcomes", 0, 0, (int64_t)differ) != 0;
        if (bad || np_db_end_run(db, status, (int64_t)r1.events, (int64_t)r1.divergences,
                                 (int64_t)r1.violations) != 0) {
            fprintf(stderr, "netpoll compare: %s\n", np_db_error(db));
            status = 2;
        }
    }
    free(match);
    free(lat);
    free(late);
    free(spans);
    free(wl_live);
    free(wl_sim);
    free(wl_t);
    free(dls);
    free(lines);
    np_replay_result_free(&r1);
    np_replay_result_free(&r2);
    np_db_close(db);
    np_trace_free(&tr);
    return status;
}
