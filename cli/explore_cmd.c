/* cli/explore_cmd.c - `netpoll explore FILE ...` (TRACE_FORMAT.md, command
 * contract; netpoll/explore.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "netpoll/explore.h"
#include "netpoll/faults.h"
#include "netpoll/replay.h"
#include "netpoll/netpoll.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll explore FILE [--design NAME] [--strategy dfs|pct|random]\n"
               "                       [--preemptions K] [--depth D] [--runs N] [--seed S]\n"
               "                       [--seconds S] [--jitter NS] [--faults LIST] [--shard I/N]\n"
               "                       [--schedule STRING] [--keep-going] [--no-minimize]\n"
               "                       [--no-cache] [--no-sleep] [--quiet] [--db FILE|--no-db]\n\n"
               "Runs the trace through the real pollDesc code under many interleavings of\n"
               "the actors that act at the same time (and the due timers), switching at\n"
               "every atomic step of the code, and checks every invariant each time.\n"
               "  --strategy dfs     every schedule (default), with state caching: a run stops\n"
               "                     at a state an earlier run reached\n"
               "  --strategy pct     probabilistic concurrency testing, bug depth D (--depth,\n"
               "                     default 3); N runs (default 1000), seeded\n"
               "  --strategy random  N random schedules (default 1000), seeded\n"
               "  --runs N           at most N executions\n"
               "  --seconds S        stop after S seconds (pct and random without --runs\n"
               "                     then run until that time)\n"
               "  --preemptions K    dfs: at most K preemptions, 0 to 200 (default: no bound)\n"
               "  --jitter NS        stimuli less than NS apart become concurrent too\n"
               "  --faults LIST      inject faults (netpoll replay --help: in the stimuli, and\n"
               "                     eintr, lostbreak, dupbreak at the poller), seeded by --seed\n"
               "  --shard I/N        explore only part I of N (1 <= I <= N); merge the results\n"
               "                     with netpoll merge\n"
               "  --schedule STRING  run exactly this schedule (as printed for a failure),\n"
               "                     with its step listing; a choice out of range, or more\n"
               "                     choices than the run makes, is invalid (exit 2)\n"
               "  --keep-going       do not stop at the first violation\n"
               "  --no-minimize      do not minimize the first failure\n"
               "  --no-cache         dfs without state caching (every schedule in full)\n"
               "  --no-sleep         dfs without sleep sets (the partial-order reduction)\n"
               "  --judge J          who judges results: default (the specification oracle where\n"
               "                     it can judge the trace, plus bad-state, stale-event and\n"
               "                     crashes), model (the older model invariants alone), or\n"
               "                     oracle (the oracle alone)\n"
               "  --record           record every run as `netpoll record` does (the pollDesc\n"
               "                     code's recording paths run, explored like the rest) and\n"
               "                     judge the recording against the run (violation\n"
               "                     `recording`)\n"
               "  --quiet            no progress line\n"
               "exit status: 0 no violation, 1 a violation (with its schedule), 2 invalid\n"
               "(netpoll explore --program NAME: a program on the simulated machine, see\n"
               "netpoll explore --program x --help)\n");
}

typedef struct {
    bool tty;
    bool shown;
} progress;

static void show_progress(void *ctx, const np_explore_sample *s, bool final)
{
    progress *p = ctx;
    if (!p->tty)
        return;
    if (final) {
        if (p->shown)
            fprintf(stderr, "\r\033[K");
        return;
    }
    fprintf(stderr, "\r\033[Kexplore: %llu executions, %llu states, %.0f/s, %.1f s",
            (unsigned long long)s->executions, (unsigned long long)s->states,
            s->seconds > 0 ? (double)s->executions / s->seconds : 0.0, s->seconds);
    p->shown = true;
}

static void indent(const char *text, const char *pre)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        printf("%s%.*s\n", pre, (int)len, p);
        p = nl ? nl + 1 : NULL;
    }
}

static int store(np_db *db, int argc, char **argv, const char *file, const char *design,
                 const np_explore_opts *o, const np_explore_result *r, int status, double secs,
                 size_t events, const char *scen, const char *scen_hash)
{
    static const char *const names[] = {"dfs", "random", "pct"};
    char params[1024];
    np_cli_params(argc, argv, params, sizeof params);
    np_db_run run = {"explore",
                     "sim",
                     design,
                     NULL,
                     file,
                     params,
                     o->strategy == NP_EXPLORE_DFS ? -1 : (int64_t)o->seed};
    if (np_db_begin_run_of(db, &run, scen, scen_hash) < 0)
        return -1;
    if (status == 1 &&
        np_db_violation_rec(db, &r->first, r->minimized ? r->min_schedule : r->schedule,
                            r->min_trace, r->listing,
                            r->minimized ? r->min_preemptions : r->preemptions) != 0)
        return -1;
    if (np_db_explore_stats(db, names[o->strategy], (int64_t)r->executions, (int64_t)r->nabstract,
                            (int64_t)r->race_pairs, (int64_t)(secs * 1e9)) != 0)
        return -1;
    for (size_t i = 0; i < r->nsamples; i++)
        if (np_db_explore_progress(db, (int64_t)r->samples[i].executions,
                                   (int64_t)r->samples[i].states,
                                   (int64_t)(r->samples[i].seconds * 1e9)) != 0)
            return -1;
    for (size_t i = 0; i < r->nabstract; i++) {
        char text[512];
        np_replay_abstract_text(r->abstract[i], text, sizeof text);
        if (np_db_explore_state(db, (int64_t)r->abstract[i], text) != 0)
            return -1;
    }
    for (size_t i = 0; i < r->nclasses; i++)
        if (np_db_outcome_class(db, r->classes[i].text, (int64_t)r->classes[i].count) != 0)
            return -1;
    return np_db_end_run(db, status, (int64_t)events, 0, (int64_t)r->failing);
}

int np_cli_explore(int argc, char **argv)
{
    const char *file = NULL, *dbpath = NULL, *faults = NULL;
    bool nodb = false, dbfail, quiet = false;
    int64_t jitter = 0;
    np_explore_opts o = {.strategy = NP_EXPLORE_DFS,
                         .preemptions = -1,
                         .seed = 1,
                         .stop_at_first = true,
                         .minimize = true};
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--program"))
            return np_cli_explore_program(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int64_t n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-db")) {
            nodb = true;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--keep-going")) {
            o.stop_at_first = false;
        } else if (!strcmp(a, "--no-minimize")) {
            o.minimize = false;
        } else if (!strcmp(a, "--no-cache")) {
            o.no_cache = true;
        } else if (!strcmp(a, "--no-sleep")) {
            o.no_sleep = true;
        } else if (!strcmp(a, "--design")) {
            if (!(v = np_cli_value("explore", argc, argv, &i)))
                return 2;
            if (!(o.design = np_design_find(v))) {
                fprintf(stderr, "netpoll explore: unknown design '%s' (go1.5, go1.18, go1.21)\n",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--record")) {
            o.record = true;
        } else if (!strcmp(a, "--judge")) {
            if (!(v = np_cli_value("explore", argc, argv, &i)))
                return 2;
            if (np_cli_judge("explore", v, &o.judge))
                return 2;
        } else if (!strcmp(a, "--strategy")) {
            if (!(v = np_cli_value("explore", argc, argv, &i)))
                return 2;
            if (!strcmp(v, "dfs"))
                o.strategy = NP_EXPLORE_DFS;
            else if (!strcmp(v, "random"))
                o.strategy = NP_EXPLORE_RANDOM;
            else if (!strcmp(v, "pct"))
                o.strategy = NP_EXPLORE_PCT;
            else {
                fprintf(stderr,
                        "netpoll explore: strategy '%s' is not available (dfs, pct, random)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--preemptions")) {
            /* (no option: no bound) */
            if (np_cli_int_arg("explore", argc, argv, &i, 0, 200, &n))
                return 2;
            o.preemptions = (int)n;
        } else if (!strcmp(a, "--depth")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, 16, &n))
                return 2;
            o.depth = (int)n;
        } else if (!strcmp(a, "--runs")) {
            /* (10^12: weeks at the explorer's fastest) */
            if (np_cli_int_arg("explore", argc, argv, &i, 1, INT64_C(1000000000000), &n))
                return 2;
            o.runs = (uint64_t)n;
        } else if (!strcmp(a, "--seed")) {
            if (np_cli_u64_arg("explore", argc, argv, &i, &o.seed))
                return 2;
        } else if (!strcmp(a, "--seconds")) {
            if (np_cli_real_arg("explore", argc, argv, &i, 0.001, 1e7, &o.seconds))
                return 2;
        } else if (!strcmp(a, "--jitter")) {
            /* nanoseconds, up to 1000 s */
            if (np_cli_int_arg("explore", argc, argv, &i, 0, INT64_C(1000000000000), &jitter))
                return 2;
        } else if (!strcmp(a, "--faults")) {
            if (!(faults = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--shard")) {
            if (!(v = np_cli_value("explore", argc, argv, &i)))
                return 2;
            if (np_explore_parse_shard(v, &o.shard, &o.shards) != 0) {
                fprintf(stderr, "netpoll explore: --shard wants I/N with 1 <= I <= N\n");
                return 2;
            }
        } else if (!strcmp(a, "--schedule")) {
            if (!(o.schedule = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--db")) {
            if (!(dbpath = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (a[0] == '-' || file) {
            fprintf(stderr,
                    "netpoll explore: unexpected argument '%s' (see netpoll explore --help)\n", a);
            return 2;
        } else {
            file = a;
        }
    }
    if (!file) {
        fprintf(stderr, "netpoll explore: which trace? (see netpoll explore --help)\n");
        return 2;
    }
    unsigned fmask = 0;
    if (faults && np_cli_faults_parse("explore", faults, &fmask))
        return 2;
    np_trace tr;
    char msg[512];
    if (np_trace_parse_file(file, &tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    char scen[256], scen_hash[24]; /* the trace's identity, as read (before any faults) */
    np_cli_trace_id(&tr, file, scen, sizeof scen, scen_hash, sizeof scen_hash);
    if (fmask) {
        np_replay_opts ro = {0};
        if (np_cli_faults_apply("explore", &tr, fmask, o.seed, &ro)) {
            np_trace_free(&tr);
            return 2;
        }
        o.late_timers = ro.late_timers;
        o.poller_faults = ro.poller_faults;
        o.poller_seed = ro.poller_seed;
    }
    if (jitter > 0) {
        np_trace jt;
        if (np_explore_jitter(&tr, jitter, &jt) != 0) {
            fprintf(stderr, "netpoll explore: out of memory\n");
            np_trace_free(&tr);
            return 2;
        }
        np_trace_free(&tr);
        tr = jt;
    }
    np_db *db;
    if ((db = np_cli_db_default("explore", dbpath, nodb, &dbfail)), dbfail) {
        np_trace_free(&tr);
        return 2;
    }
    progress pg = {.tty = !quiet && isatty(2)};
    o.progress = show_progress;
    o.progress_ctx = &pg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    np_explore_result r;
    int status = np_explore(&tr, &o, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    const char *design = (o.design ? o.design : &np_design_go1_21)->name;
    static const char *const names[] = {"dfs", "random", "pct"};
    if (status == 2) {
        fprintf(stderr, "%s: %s\n", file, r.invalid);
    } else {
        if (status == 1) {
            printf("%s\nschedule: %s (%d preemption%s)\n", r.detail, r.schedule, r.preemptions,
                   r.preemptions == 1 ? "" : "s");
            if (!o.schedule)
                printf("replay it: netpoll explore %s --design %s%s%s --schedule '%s'\n", file,
                       design, faults ? " --faults " : "", faults ? faults : "", r.schedule);
            if (r.minimized) {
                printf("minimized: %d preemption%s, %zu steps, on this trace:\n", r.min_preemptions,
                       r.min_preemptions == 1 ? "" : "s", r.min_steps);
                indent(r.min_trace, "  | ");
                printf("  schedule on it: %s\n", r.min_schedule);
            }
            if (r.listing) {
                printf("race: %s\nsteps%s:\n", r.race,
                       r.minimized ? " (the minimized trace and schedule)" : "");
                fputs(r.listing, stdout);
            }
        }
        char bound[48] = "";
        if (o.strategy == NP_EXPLORE_DFS && !o.schedule)
            snprintf(bound, sizeof bound, o.preemptions < 0 ? ", no bound" : ", <= %d preemptions",
                     o.preemptions);
        else if (o.strategy == NP_EXPLORE_PCT && !o.schedule)
            snprintf(bound, sizeof bound, ", depth %d", o.depth ? o.depth : 3);
        char shard[48] = "";
        if (o.shards > 1)
            snprintf(shard, sizeof shard, ", shard %d/%d", o.shard + 1, o.shards);
        printf("explore: %s: %llu executions (%s%s%s%s) in %.2f s, design %s: %s\n", file,
               (unsigned long long)r.executions, o.schedule ? "one schedule" : names[o.strategy],
               bound, shard, r.exhausted ? ", exhausted" : "", secs, design,
               status ? "VIOLATION" : "no violation");
        if (!o.schedule) {
            printf("  coverage: %zu abstract pollDesc states, %zu outcome classes, %llu race "
                   "pairs seen in both orders (%llu in one)",
                   r.nabstract, r.nclasses, (unsigned long long)r.race_pairs,
                   (unsigned long long)r.race_pairs_one_order);
            if (o.strategy == NP_EXPLORE_DFS && !o.no_cache)
                printf("; %llu states expanded, %llu runs stopped at a known state",
                       (unsigned long long)r.states, (unsigned long long)r.cut);
            printf("\n");
            for (size_t i = 0; i < r.nclasses && i < 12; i++)
                printf("  class %-40s %llu\n", r.classes[i].text,
                       (unsigned long long)r.classes[i].count);
            if (r.nclasses > 12)
                printf("  ... %zu more classes\n", r.nclasses - 12);
        }
    }
    if (db && status != 2 &&
        store(db, argc, argv, file, design, &o, &r, status, secs, tr.n, scen, scen_hash)) {
        fprintf(stderr, "netpoll explore: %s\n", np_db_error(db));
        status = 2;
    }
    np_explore_result_free(&r);
    np_db_close(db);
    np_trace_free(&tr);
    return status;
}
