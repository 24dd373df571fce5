/* bench/explore/bench_explore.c - the explorer's figures (bench/RESULTS.md):
 *   1. exhaustive dfs (no bound, state caching) of the four-actor read-side
 *      and write-side scenarios: seconds per exploration;
 *   2. random executions per second on one core, on the two-actor and the
 *      four-actor read-side scenarios;
 *   3. (bench_explore_replay, built with BENCH_REPLAY against the sim build
 *      with the NO_RECHECK bug planted) a found failure replayed from its
 *      schedule string N times: how many outputs are byte-identical to the
 *      first.
 * Contenders alternate within each round; medians and min-max over the
 * rounds.   usage: bench_explore SCENARIOS_DIR [ROUNDS]
 *               bench_explore_replay SCENARIOS_DIR [REPLAYS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netpoll/explore.h"
#include "netpoll/trace.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *v, int n, const char *unit)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("| %s | %.3g | %.3g - %.3g | %s |\n", what,
           n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1], unit);
}

static void load(const char *dir, const char *name, np_trace *tr)
{
    char path[4096], msg[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (np_trace_parse_file(path, tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        exit(2);
    }
}

#ifdef BENCH_REPLAY
/* 3: a failure (this build has the recheck after WAIT removed) */
static int replay(const np_trace *rt, int replays)
{
    np_explore_opts o = {.strategy = NP_EXPLORE_DFS, .preemptions = 2, .stop_at_first = true};
    np_explore_result first;
    if (np_explore(rt, &o, &first) != 1) {
        printf("\nno failure found: is this linked with the NO_RECHECK mutation?\n");
        return 1;
    }
    int same = 0;
    char *ref = NULL;
    double t0 = now_s();
    for (int k = 0; k < replays; k++) {
        np_explore_opts so = o;
        so.schedule = first.schedule;
        np_explore_result x;
        np_explore(rt, &so, &x);
        size_t len = strlen(x.detail) + (x.listing ? strlen(x.listing) : 0) + strlen(x.race) + 3;
        char *out = malloc(len);
        snprintf(out, len, "%s\n%s\n%s", x.detail, x.listing ? x.listing : "", x.race);
        if (!ref)
            ref = out;
        else {
            same += !strcmp(out, ref);
            free(out);
        }
        np_explore_result_free(&x);
    }
    printf("\nschedule %s replayed %d times in %.2f s: %d of %d outputs byte-identical to the "
           "first (%zu bytes: violation line, %s step listing, race)\n",
           first.schedule, replays, now_s() - t0, same + 1, replays, strlen(ref), "the");
    free(ref);
    np_explore_result_free(&first);
    return same + 1 == replays ? 0 : 1;
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_explore SCENARIOS_DIR [ROUNDS] [REPLAYS]\n");
        return 2;
    }
#ifdef BENCH_REPLAY
    int replays = argc > 2 ? atoi(argv[2]) : 1000;
    if (replays < 1 || replays > 100000)
        return 2;
    np_trace rt;
    load(argv[1], "read_timer.npt", &rt);
    return replay(&rt, replays);
#endif
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1 || rounds > 50)
        return 2;
    np_trace r4, w4, r2;
    load(argv[1], "read_ready_timer_close.npt", &r4);
    load(argv[1], "write_ready_timer_close.npt", &w4);
    load(argv[1], "read_ready.npt", &r2);
    double *v[8]; /* wall-clock figures, then the same in CPU time */
    for (int k = 0; k < 8; k++)
        v[k] = calloc((size_t)rounds, sizeof(double));
    uint64_t ex4 = 0, st4 = 0;
    for (int i = 0; i < rounds; i++) {
        /* 1: exhaustive dfs, read then write side */
        np_trace *t4[2] = {&r4, &w4};
        for (int k = 0; k < 2; k++) {
            np_explore_opts o = {.strategy = NP_EXPLORE_DFS, .preemptions = -1};
            np_explore_result r;
            double t0 = now_s(), c0 = cpu_s();
            np_explore(t4[k], &o, &r);
            v[k][i] = now_s() - t0;
            v[4 + k][i] = cpu_s() - c0;
            if (!r.exhausted || r.status) {
                fprintf(stderr, "bench_explore: dfs did not finish cleanly\n");
                return 1;
            }
            if (k == 0) {
                ex4 = r.executions;
                st4 = r.states;
            }
            np_explore_result_free(&r);
        }
        /* 2: random executions per second */
        np_trace *tr[2] = {&r2, &r4};
        for (int k = 0; k < 2; k++) {
            np_explore_opts o = {
                .strategy = NP_EXPLORE_RANDOM, .runs = 100000, .seed = 1 + (uint64_t)i};
            np_explore_result r;
            double t0 = now_s(), c0 = cpu_s();
            np_explore(tr[k], &o, &r);
            v[2 + k][i] = (double)r.executions / (now_s() - t0);
            v[6 + k][i] = (double)r.executions / (cpu_s() - c0);
            np_explore_result_free(&r);
        }
    }
    printf("| figure | median | min - max | unit |\n|---|---|---|---|\n");
    report("dfs, no bound, read_ready_timer_close (4 actors), exhaustive", v[0], rounds, "s");
    report("dfs, no bound, write_ready_timer_close (4 actors), exhaustive", v[1], rounds, "s");
    report("random, read_ready (2 actors)", v[2], rounds, "executions/s");
    report("random, read_ready_timer_close (4 actors)", v[3], rounds, "executions/s");
    report("the same, CPU time: dfs read side", v[4], rounds, "CPU s");
    report("the same, CPU time: dfs write side", v[5], rounds, "CPU s");
    report("the same, CPU time: random, 2 actors", v[6], rounds, "executions/CPU s");
    report("the same, CPU time: random, 4 actors", v[7], rounds, "executions/CPU s");
    printf("\n(4-actor read side: %llu executions, %llu states expanded)\n",
           (unsigned long long)ex4, (unsigned long long)st4);

    return 0;
}
