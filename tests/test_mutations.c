/* tests/test_mutations.c - the explorer's self-check by mutation.
 *
 * Linked three times: with the correct sim build (every scenario given must
 * explore clean), and with a sim build that has a known bug planted by a
 * compile-time switch kept out of the shipped build (NP_MUTATION_NO_RECHECK:
 * the error recheck after WAIT removed; NP_MUTATION_PLAIN_STORE: NIL -> WAIT
 * by a plain store), where dfs with at most 2 preemptions must find a
 * violation in at least one of the scenarios given.
 *   usage: test_mutations clean|violation SCENARIO.npt...
 */
#include <stdio.h>
#include <string.h>

#include "netpoll/explore.h"
#include "netpoll/trace.h"

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
        np_explore_opts o = {.strategy = NP_EXPLORE_DFS, .preemptions = 2, .stop_at_first = true};
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
