/* tests/test_mutations.c - the explorer's self-check by mutation.
 *
 * Linked three times: with the correct sim build (every scenario given must
 * explore clean), and with a sim build that has a known bug planted by a
 * compile-time switch kept out of the shipped build (NP_MUTATION_NO_RECHECK:
 * the error recheck after WAIT removed; NP_MUTATION_PLAIN_STORE: NIL -> WAIT
 * by a plain store), where dfs with at most 2 preemptions must find a
 * violation in at least one of the scenarios given. A violation found must
 * come minimized, with a step listing that names lines of poll_desc.c and
 * the two steps that raced, and its schedule must replay to the same output
 * every time; pct (seeded) must find it too.
 *   usage: test_mutations clean|violation SCENARIO.npt...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/explore.h"
#include "netpoll/trace.h"

/* A found failure: minimized, listed, replayable byte for byte, and found
 * by pct as well. */
static int check_failure(const char *path, const np_explore_result *r, const np_explore_opts *o)
{
    int ok = 1;
    if (!r->minimized || !r->listing || !strstr(r->listing, "poll_desc.c:") ||
        !strstr(r->race, "ran before")) {
        printf("  FAIL: no minimized failure with a listing and a race (%s)\n", r->race);
        return 0;
    }
    printf("  minimized: %d preemptions, %zu steps, schedule %s\n  race: %s\n", r->min_preemptions,
           r->min_steps, r->min_schedule, r->race);
    np_trace mt;
    char msg[512];
    if (np_trace_parse_buf("minimized", r->min_trace, strlen(r->min_trace), &mt, msg, sizeof msg) !=
        0) {
        printf("  FAIL: the minimized trace does not parse: %s\n", msg);
        return 0;
    }
    for (int k = 0; k < 50 && ok; k++) {
        np_explore_opts again = *o;
        again.schedule = r->min_schedule;
        np_explore_result x;
        int st = np_explore(&mt, &again, &x);
        if (st != 1 || !x.listing || strcmp(x.listing, r->listing) ||
            strncmp(x.detail, "violation:", 10)) {
            printf("  FAIL: replay %d of the minimized schedule differs (status %d)\n", k, st);
            ok = 0;
        }
        np_explore_result_free(&x);
    }
    np_trace_free(&mt);
    np_trace tr;
    if (np_trace_parse_file(path, &tr, msg, sizeof msg) == 0) {
        np_explore_opts p = {.strategy = NP_EXPLORE_PCT,
                             .depth = 3,
                             .runs = 20000,
                             .seed = 1,
                             .stop_at_first = true};
        np_explore_result x;
        int st = np_explore(&tr, &p, &x);
        printf("  pct: %s after %llu runs\n", st == 1 ? "found" : "NOT found",
               (unsigned long long)x.executions);
        ok = ok && st == 1;
        np_explore_result_free(&x);
        np_trace_free(&tr);
    }
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "clean") && strcmp(argv[1], "violation"))) {
        fprintf(stderr, "usage: test_mutations clean|violation SCENARIO.npt...\n");
        return 2;
    }
    bool want_violation = !strcmp(argv[1], "violation");
    int found = 0, failed = 0, passed = 0;
    for (int i = 2; i < argc; i++) {
        np_trace tr;
        char msg[512];
        if (np_trace_parse_file(argv[i], &tr, msg, sizeof msg) != 0) {
            fprintf(stderr, "%s\n", msg);
            return 2;
        }
        np_explore_opts o = {
            .strategy = NP_EXPLORE_DFS, .preemptions = 2, .stop_at_first = true, .minimize = true};
        np_explore_result r;
        int st = np_explore(&tr, &o, &r);
        np_trace_free(&tr);
        if (st == 2) {
            fprintf(stderr, "%s: %s\n", argv[i], r.invalid);
            return 2;
        }
        printf("%s: %llu executions: %s%s%s\n", argv[i], (unsigned long long)r.executions,
               st ? r.detail : "no violation", st ? " - schedule " : "", st ? r.schedule : "");
        found += st == 1;
        if (st == 1 && !check_failure(argv[i], &r, &o))
            failed++;
        np_explore_result_free(&r);
        if (!want_violation)
            st == 0 ? passed++ : failed++;
    }
    if (want_violation) {
        found ? passed++ : failed++;
        printf("mutation %s\n", found ? "caught" : "NOT caught");
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
