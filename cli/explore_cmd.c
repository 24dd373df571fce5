/* cli/explore_cmd.c - `netpoll explore FILE [--design NAME] [--strategy
 * dfs|random] [--preemptions K] [--runs N] [--seed S] [--schedule STRING]
 * [--seconds S] [--db FILE|--no-db]` (TRACE_FORMAT.md, command contract). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "netpoll/explore.h"
#include "netpoll/netpoll.h"
#include "netpoll/trace.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll explore FILE [--design NAME] [--strategy dfs|random]\n"
               "                       [--preemptions K] [--runs N] [--seed S] [--seconds S]\n"
               "                       [--schedule STRING] [--db FILE|--no-db]\n\n"
               "Runs the trace through the real pollDesc code under many interleavings of\n"
               "the actors that act at the same time (and the due timers), switching at\n"
               "every atomic step of the code, and checks every invariant each time.\n"
               "  --strategy dfs     every schedule with at most K preemptions (default)\n"
               "  --strategy random  N random schedules (default 1000), seeded\n"
               "  --preemptions K    dfs bound (default 2; -1: none)\n"
               "  --schedule STRING  run exactly this schedule (as printed for a failure)\n"
               "exit status: 0 no violation, 1 a violation (with its schedule), 2 invalid\n");
}

int np_cli_explore(int argc, char **argv)
{
    const char *file = NULL, *dbpath = NULL;
    bool nodb = false, dbfail;
    np_explore_opts o = {
        .strategy = NP_EXPLORE_DFS, .preemptions = 2, .seed = 1, .stop_at_first = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-db")) {
            nodb = true;
        } else if (!strcmp(a, "--design") && v) {
            if (!(o.design = np_design_find(v))) {
                fprintf(stderr, "netpoll explore: unknown design '%s' (go1.5, go1.18, go1.21)\n",
                        v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--strategy") && v) {
            if (!strcmp(v, "dfs"))
                o.strategy = NP_EXPLORE_DFS;
            else if (!strcmp(v, "random"))
                o.strategy = NP_EXPLORE_RANDOM;
            else {
                fprintf(stderr, "netpoll explore: strategy '%s' is not available (dfs, random)\n",
                        v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--preemptions") && v) {
            o.preemptions = (int)strtol(v, &end, 10);
            if (*end || o.preemptions < -1) {
                fprintf(stderr, "netpoll explore: --preemptions wants -1 or more\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--runs") && v) {
            o.runs = strtoull(v, &end, 10);
            if (*end || !*v) {
                fprintf(stderr, "netpoll explore: --runs wants a number\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            o.seed = strtoull(v, &end, 10);
            if (*end || !*v) {
                fprintf(stderr, "netpoll explore: --seed wants a number\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--seconds") && v) {
            o.seconds = strtod(v, &end);
            if (*end || o.seconds < 0) {
                fprintf(stderr, "netpoll explore: --seconds wants a number\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--schedule") && v) {
            o.schedule = v;
            i++;
        } else if (!strcmp(a, "--db") && v) {
            dbpath = v;
            i++;
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
    np_trace tr;
    char msg[512];
    if (np_trace_parse_file(file, &tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    np_db *db;
    if ((db = np_cli_db_default("explore", dbpath, nodb, &dbfail)), dbfail) {
        np_trace_free(&tr);
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    np_explore_result r;
    int status = np_explore(&tr, &o, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    const char *design = (o.design ? o.design : &np_design_go1_21)->name;
    if (status == 2) {
        fprintf(stderr, "%s: %s\n", file, r.invalid);
    } else {
        if (status == 1) {
            printf("%s\nschedule: %s (%d preemption%s)\n", r.detail, r.schedule, r.preemptions,
                   r.preemptions == 1 ? "" : "s");
            printf("replay it: netpoll explore %s --design %s --schedule %s\n", file, design,
                   r.schedule);
        }
        char bound[32] = "";
        if (o.strategy == NP_EXPLORE_DFS && !o.schedule)
            snprintf(bound, sizeof bound, o.preemptions < 0 ? ", no bound" : ", <= %d preemptions",
                     o.preemptions);
        printf("explore: %s: %llu executions (%s%s%s) in %.2f s, design %s: %s\n", file,
               (unsigned long long)r.executions,
               o.schedule                     ? "one schedule"
               : o.strategy == NP_EXPLORE_DFS ? "dfs"
                                              : "random",
               bound, r.exhausted ? ", exhausted" : "", secs, design,
               status ? "VIOLATION" : "no violation");
    }
    if (db && status != 2) {
        char params[512];
        np_cli_params(argc, argv, params, sizeof params);
        np_db_run run = {"explore",
                         "sim",
                         design,
                         NULL,
                         file,
                         params,
                         o.strategy == NP_EXPLORE_RANDOM ? (int64_t)o.seed : -1};
        char name[64] = "violation";
        if (status == 1)
            sscanf(r.detail, "violation: %63s", name);
        if (np_db_begin_run(db, &run) < 0 ||
            (status == 1 && np_db_violation(db, name, r.detail, r.schedule, NULL) != 0) ||
            np_db_explore_stats(db, o.strategy == NP_EXPLORE_DFS ? "dfs" : "random",
                                (int64_t)r.executions, -1, -1, (int64_t)(secs * 1e9)) != 0 ||
            np_db_end_run(db, status, (int64_t)tr.n, 0, status == 1) != 0) {
            fprintf(stderr, "netpoll explore: %s\n", np_db_error(db));
            status = 2;
        }
    }
    np_db_close(db);
    np_trace_free(&tr);
    return status;
}
