/* bench/trace/bench_replay.c - the replay benchmark's phase breakdown: the
 * same work as `netpoll replay FILE [--emit OUT]`, timed in-process.
 *
 *   bench_replay FILE [--emit]
 *
 * Prints one line:
 *   lines=L parse_ns=P replay_ns=R emit_ns=E status=S wakes=W
 * lines = the trace's event lines (header and comments excluded), parse_ns =
 * np_trace_parse_file (read + parse), replay_ns = np_replay (simulator start
 * and stop included; with --emit it also builds the output trace in memory),
 * emit_ns = writing that trace to /dev/null as text (0 without --emit).
 * One replay per process, as the CLI does; run_replay_bench.sh repeats it.
 * Links the sim build (netpoll_sim); not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netpoll/replay.h"
#include "netpoll/trace.h"

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int emit = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--emit"))
            emit = 1;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: bench_replay FILE [--emit]\n");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: bench_replay FILE [--emit]\n");
        return 2;
    }
    char msg[512];
    np_trace tr;
    long long t0 = mono_ns();
    if (np_trace_parse_file(file, &tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    long long t1 = mono_ns();
    np_trace out = {0};
    np_replay_opts o = {.out = NULL, .emit = emit ? &out : NULL};
    np_replay_result r;
    int status = np_replay(&tr, &o, &r);
    long long t2 = mono_ns(), t3 = t2;
    if (emit && status != 2) {
        FILE *f = fopen("/dev/null", "w");
        if (!f || np_trace_emit(&out, f) != 0)
            status = 2;
        if (f)
            fclose(f);
        t3 = mono_ns();
    }
    printf("lines=%zu parse_ns=%lld replay_ns=%lld emit_ns=%lld status=%d wakes=%zu\n", tr.n,
           t1 - t0, t2 - t1, t3 - t2, status, r.nwakes);
    if (status == 2)
        fprintf(stderr, "%s\n", r.invalid);
    np_replay_result_free(&r);
    np_trace_free(&out);
    np_trace_free(&tr);
    return status;
}
