/* netpoll/machine.h - the whole runtime under the explorer.
 *
 * A program (a scenario written as C over the public API: np_go, np_dial,
 * np_read, deadlines, np_close, ...) runs on the simulated machine: N
 * simulated OS threads running core/scheduler.c, fd_mutex.c, netfd.c and
 * poll_desc.c unchanged, in-memory stream sockets, a virtual clock. The
 * explorer decides which simulated thread takes the next step at every
 * scheduling point (each atomic, lock, semaphore, system call and poll),
 * and checks the runtime's invariants at every quiescent point.
 */
#ifndef NETPOLL_MACHINE_H
#define NETPOLL_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

typedef struct np_mx_opts {
    const char *program;  /* a registered program's name */
    int workers;          /* simulated workers, 1-3 */
    const char *strategy; /* "dfs" (preemption-bounded, exhaustive), "random", "pct" */
    int preemptions;      /* dfs: the preemption bound (default 2) */
    uint64_t runs;        /* random/pct: executions; dfs: at most this many (0: no cap) */
    uint64_t seed;        /* random/pct */
    int pct_depth;        /* pct: the bug depth d (default 3) */
    double seconds;       /* stop after this long (0: no limit) */
    const char *schedule; /* replay this schedule (from a finding) instead */
    const char *design;   /* the pollDesc design (default go1.21) */
    unsigned buffer;      /* socket buffer bytes (default 64) */
    int jobs;             /* dfs: processes sharing the schedules (default 1) */
    bool list;            /* list every step of a finding, not the last 60 */
    bool quiet;           /* no progress or listing, the result only */
    bool no_minimize;     /* keep a finding as found (default: look for one of
                             the same kind with fewer preemptions) */
    bool no_cache;        /* dfs: no state caching (every schedule in full) */
    FILE *out;            /* where to print (stdout if NULL) */
} np_mx_opts;

typedef struct np_mx_result {
    uint64_t executions;  /* executions run */
    uint64_t steps;       /* steps over all of them */
    uint64_t max_steps;   /* the longest execution */
    double seconds;       /* wall time */
    bool complete;        /* dfs: every schedule within the bound was run */
    bool found;           /* a finding */
    char kind[32];        /* its kind: lost-wakeup, timer-not-run, deadlock,
                             double-run, scheduler-state, idle-worker,
                             use-after-close, assertion, lost-parallelism,
                             crash, livelock */
    char msg[512];        /* what happened */
    char schedule[8192];  /* the schedule that shows it (--schedule) */
    unsigned preemptions; /* ... and its preemptions */
    uint64_t cached;      /* dfs: executions that met a state explored before
                             (their rest was not branched again) */
    uint64_t states;      /* dfs: states in the cache */
    unsigned classes;     /* outcome classes: distinct results of the executions
                             (the program's variables at their end but addresses,
                             the clock, the finding's kind); with --jobs the sum
                             over the processes */
    uint64_t class_set;   /* the set of them, hashed (equal sets, equal hashes) */
    uint64_t paths;       /* path classes: distinct tuples of each thread's sequence of
                             sites (with the clock at the end and the finding's kind);
                             schedules that differ only in the order of independent
                             steps share one */
    uint64_t path_set;    /* the set of them, hashed */
} np_mx_result;

/* Explores; 0 (see r->found), or -1 with a message on stderr (bad options:
 * unknown program, workers out of range, a malformed schedule). The
 * exploration runs in a child process, so a crash of the runtime (a signal)
 * is a finding too, with the schedule that led to it. */
NP_SIM_API int np_mx_explore(const np_mx_opts *o, np_mx_result *r);

/* The registered programs: name and one line of description; i from 0;
 * false past the last. */
NP_SIM_API bool np_mx_program(size_t i, const char **name, const char **desc);
/* The finding a self-test program must raise ("assertion"), NULL for a
 * program that must run clean (or an unknown name). */
NP_SIM_API const char *np_mx_program_expects(const char *name);

#ifdef __cplusplus
}
#endif
#endif
