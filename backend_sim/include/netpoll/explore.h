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
 *
 * Strategies:
 *   dfs     depth first over the tree of choices by re-execution, within a
 *           preemption bound; with state caching (default) a run stops at a
 *           state an earlier run already reached (the state hash covers the
 *           pollDesc words, timers, the replay's model, the trace position and
 *           every simulated thread's history of observed values), so each
 *           distinct state is expanded once;
 *   pct     probabilistic concurrency testing (Burckhardt et al., ASPLOS
 *           2010): random thread priorities and depth-1 random priority
 *           change points; finds a bug of depth d with probability at least
 *           1/(n k^(d-1)) per run;
 *   random  every choice uniformly at random.
 */
#ifndef NETPOLL_EXPLORE_H
#define NETPOLL_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netpoll/design.h"
#include "netpoll/invariants.h"
#include "netpoll/trace.h"

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

enum { NP_EXPLORE_DFS, NP_EXPLORE_RANDOM, NP_EXPLORE_PCT };

/* One point of the coverage curve. */
typedef struct np_explore_sample {
    uint64_t executions; /* executions so far */
    uint64_t states;     /* distinct abstract pollDesc states so far */
    double seconds;      /* elapsed */
} np_explore_sample;

typedef struct np_explore_opts {
    const np_design *design; /* NULL: go1.21 */
    int strategy;            /* NP_EXPLORE_DFS, _RANDOM or _PCT */
    int preemptions;         /* dfs: at most this many preemptions (-1: no bound) */
    int depth;               /* pct: the bug depth d (>= 1; 0: 3) */
    bool no_cache;           /* dfs: no state caching (every schedule runs in full) */
    bool no_sleep;           /* dfs: no sleep sets (explore.c: a partial-order
                                reduction, on with the cache and no bound) */
    uint64_t runs;           /* at most this many executions (0: dfs until done,
                                pct/random 1000, or until `seconds` if set) */
    uint64_t seed;           /* pct/random: the seed */
    double seconds;          /* stop after this long (0: no limit) */
    const char *schedule;    /* run exactly this schedule, once */
    bool stop_at_first;      /* stop at the first violation (default in the CLI) */
    bool minimize;           /* minimize the first failure (trace, then schedule) */
    double minimize_seconds; /* budget for that (0: 10 s) */
    int shard, shards;       /* run only part shard (0-based) of shards (0: all) */
    uint64_t late_timers;    /* fault: deadline timers fire late (np_replay_opts) */
    unsigned poller_faults;  /* faults at the simulated poller (np_replay_opts) */
    uint64_t poller_seed;
    int judge;   /* NP_JUDGE_* (netpoll/replay.h): the oracle, the model, or both */
    bool record; /* every run recorded and the recording judged (np_replay_opts.record) */
    /* called about every 0.2 s while exploring, and once at the end */
    void (*progress)(void *ctx, const np_explore_sample *s, bool final);
    void *progress_ctx;
} np_explore_opts;

typedef struct np_explore_class {
    char *text;     /* "g1: ok | g2: timeout,closing" (+ " [violation]") */
    uint64_t count; /* complete executions that had it */
} np_explore_class;

typedef struct np_explore_result {
    int status;                    /* 0 no violation, 1 violation, 2 invalid trace */
    char invalid[512];             /* status 2: the message */
    uint64_t executions;           /* executions run (complete or cut at a known state) */
    uint64_t cut;                  /* of which stopped at an already explored state */
    uint64_t failing;              /* executions with a violation */
    bool exhausted;                /* dfs: every schedule within the bound was covered */
    uint64_t states;               /* dfs with caching: distinct full states expanded */
    uint64_t race_pairs;           /* pairs of steps of different actors on one pollDesc
                                      word (one a write) seen in both orders */
    uint64_t race_pairs_one_order; /* ... seen in one order only */
    /* distinct abstract pollDesc states (NP_ABS_BITS per slot, see
     * np_replay_abstract_text) */
    uint64_t *abstract;
    size_t nabstract;
    np_explore_class *classes; /* distinct outcome classes */
    size_t nclasses;
    np_explore_sample *samples; /* the coverage curve */
    size_t nsamples;
    /* the first failure */
    char schedule[4096];
    char detail[1024];  /* its first violation line */
    char name[64];      /* the violation's name (lost-wakeup, ...) */
    np_violation first; /* the same, as a record (kind, pd, g, mode, time, line) */
    int preemptions;
    /* its minimization (minimize): the minimized trace (text), and on it the
     * schedule with the fewest preemptions, then steps, found; its step
     * listing (actor, C line, operation, word) and the race behind it */
    bool minimized;
    char *min_trace;
    char min_schedule[4096];
    int min_preemptions;
    size_t min_steps;
    char *listing;
    char race[1024];
} np_explore_result;

NP_SIM_API int np_explore(const np_trace *tr, const np_explore_opts *o, np_explore_result *r);
NP_SIM_API void np_explore_result_free(np_explore_result *r);
/* Parses "I/N" (1 <= I <= N <= 100000) into a 0-based shard. 0 or -EINVAL. */
NP_SIM_API int np_explore_parse_shard(const char *s, int *shard, int *shards);
/* Writes into *out a copy of tr in which stimuli less than ns apart (in
 * time order, chained) share the earliest one's time, so they become
 * concurrent actors. 0 or -ENOMEM. */
NP_SIM_API int np_explore_jitter(const np_trace *tr, int64_t ns, np_trace *out);

#endif
