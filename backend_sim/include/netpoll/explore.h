/* netpoll/explore.h - the interleaving explorer (sim build).
 *
 * Runs a trace through the real pollDesc code many times, each time with a
 * different interleaving of the concurrent actors of each time step (the
 * stimuli that share a time, and the due timers), switching at every atomic
 * step of the code (the simulator seam), and checks every invariant of the
 * trace contract at each quiescent point.
 *
 * A schedule is the list of choices made where more than one task could
 * run, written "c0.c1.c2..." (each the index of the chosen task among the
 * runnable ones, ordered by creation); replaying a schedule reproduces the
 * execution exactly.
 */
#ifndef NETPOLL_EXPLORE_H
#define NETPOLL_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netpoll/design.h"
#include "netpoll/trace.h"

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

enum { NP_EXPLORE_DFS, NP_EXPLORE_RANDOM };

typedef struct np_explore_opts {
    const np_design *design; /* NULL: go1.21 */
    int strategy;            /* NP_EXPLORE_DFS or NP_EXPLORE_RANDOM */
    int preemptions;         /* dfs: at most this many preemptions (-1: no bound) */
    uint64_t runs;           /* at most this many executions (0: dfs until done,
                                random 1000) */
    uint64_t seed;           /* random: the seed */
    double seconds;          /* stop after this long (0: no limit) */
    const char *schedule;    /* run exactly this schedule, once */
    bool stop_at_first;      /* stop at the first violation (default in the CLI) */
} np_explore_opts;

typedef struct np_explore_result {
    int status;          /* 0 no violation, 1 violation, 2 invalid trace */
    char invalid[512];   /* status 2: the message */
    uint64_t executions; /* executions run */
    uint64_t failing;    /* executions with a violation */
    bool exhausted;      /* dfs: every schedule within the bound was run */
    char schedule[4096]; /* the first failing execution's schedule */
    char detail[1024];   /* and its first violation line */
    int preemptions;     /* and its number of preemptions */
} np_explore_result;

NP_SIM_API int np_explore(const np_trace *tr, const np_explore_opts *o, np_explore_result *r);

#endif
