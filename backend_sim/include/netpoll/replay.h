/* netpoll/replay.h - replaying a trace through the real pollDesc code in
 * virtual time (TRACE_FORMAT.md, "Replay rules"). Sim build (netpoll_sim)
 * only: it runs on the world of netpoll/sim.h. */
#ifndef NETPOLL_REPLAY_H
#define NETPOLL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netpoll/design.h"
#include "netpoll/invariants.h"
#include "netpoll/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Entry points of the sim build that stay visible when it is linked into
 * the netpoll program next to the live runtime (see CMakeLists.txt). */
#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

struct np_choice;
struct np_point;

typedef struct np_replay_opts {
    const np_design *design; /* NULL: go1.21 */
    bool exact_timers;       /* ignore fire lines, fire every timer at its deadline */
    FILE *out;               /* divergence:/violation: lines go here (NULL: nowhere) */
    np_trace *emit;          /* if not NULL: receives the full trace (stimuli plus
                                the outcomes this replay computed) */
    bool ignore_divergences; /* fault injection: outcomes may differ from any
                                record; only violations count */
    uint64_t late_timers;    /* nonzero: a seed; every deadline timer fires a
                                pseudo-random 0-5 us late (missed-timeout is
                                then not judged) */
    /* Exploration (netpoll explore): the stimuli of a time step (and its due
     * timers) run as concurrent tasks, every atomic step of the pollDesc code
     * is a scheduling point, and choose() picks which of the runnable tasks
     * runs next (an index into c->ids), or returns -1 to abandon the run (a
     * state already explored). NULL: plain replay. */
    int (*choose)(void *ctx, const struct np_choice *c);
    void *choose_ctx;
    bool want_state;   /* fill np_choice.state (costs a walk of the state) */
    size_t state_from; /* ...and .abstract, from this choice on (the earlier
                          ones repeat a known prefix) */
    /* called at every scheduling point an explored task passes (NULL: none) */
    void (*on_point)(void *ctx, const struct np_point *p);
    FILE *listing; /* every scheduling point, one line each (NULL: none) */
    /* Poller faults: a mask of NP_FAULT_EINTR, NP_FAULT_LOSTBREAK and
     * NP_FAULT_DUPBREAK (netpoll/faults.h), seeded by poller_seed; 0: none
     * (the plain replay). With any, readiness and deadline timers reach the
     * pollDescs through the simulated poller (a `ready` is queued in the
     * backend and dispatched when the poller's wait returns; exact timers
     * fire when it wakes), and missed-timeout is judged against the
     * latest wake-up the poller owed (traces/README.md, "Fault
     * injection"). With choose set, the poller runs between the explored
     * steps, and a due timer the poller has not woken for may still fire
     * in the step. */
    unsigned poller_faults;
    uint64_t poller_seed;
    /* Explored (choose set): who judges the outcomes of waits and resets.
     * NP_JUDGE_DEFAULT: the specification oracle (backend_sim/check/spec.h:
     * one order of each group's operations must explain them, and the waits
     * left parked), where it can judge the trace - else the model's
     * invariants (early-timeout, wait-after-close, lost-wakeup,
     * missed-timeout) - with bad-state, stale-event, double-wakeup and
     * crashes always; NP_JUDGE_MODEL: the model's invariants alone, as
     * before the oracle; NP_JUDGE_ORACLE: the oracle alone (crashes still end
     * a run, as a violation). Plain replay always judges by the model. */
    int judge;
    /* Explored (choose set): the run is recorded (netpoll/record.h) as the
     * live runtime records itself - the recording paths of the pollDesc
     * code run, their sections are scheduling points like the rest - and
     * the recording is judged at the run's end (violation `recording`):
     * each task's waits and resets must be recorded as they ran (slot, mode,
     * parks, result, in order). */
    bool record;
} np_replay_opts;

enum { NP_JUDGE_DEFAULT, NP_JUDGE_MODEL, NP_JUDGE_ORACLE };

/* A choice between runnable tasks (explore mode). */
typedef struct np_choice {
    size_t n;       /* runnable tasks, n >= 2 */
    int last;       /* index of the task that ran before, if still runnable, or -1 */
    const int *ids; /* their simulated thread ids, ascending (creation order) */
    uint64_t state; /* want_state: a hash of everything the rest of the run
                       depends on (shared memory, each thread's history, the
                       model, the trace position); equal states have equal
                       futures */
    uint64_t model; /* want_state: a hash of the part of .state that no
                       scheduling point, lock or task view below covers
                       (the replay's model and results, the trace position,
                       the clock; not the words behind scheduling points,
                       the tasks' histories and views, what pollDesc locks
                       guard): a step that changes it is dependent on every
                       other (sleep sets, explore.c) */
    /* want_state: per open pollDesc (the first NP_CHOICE_LOCKS), its lock
     * and a hash of its owner and of what it guards beyond the atomic
     * words: a step that changes one writes that lock, for sleep sets (no
     * other task can read what the lock guards without taking it) */
    size_t nlocks;
    const volatile void *const *lock_addr;
    const uint64_t *lock_hash;
    /* want_state: each live task (the first NP_CHOICE_TASKS) and its view:
     * its status, the lock it waits for, its actor's fields; a step may
     * change the views of the tasks that ran in it, not of others (else it
     * changed .model) */
    size_t ntasks;
    const int *task_id;
    const uint64_t *task_view;
    uint64_t abstract; /* the abstract pollDesc state: NP_ABS_BITS bits per open
                          slot (up to 3), see np_replay_abstract_text */
    size_t step;       /* scheduling points passed so far in this run */
    size_t pos;        /* the trace index of the time step it is in */
} np_choice;

/* A scheduling point reached by an explored task. */
typedef struct np_point {
    int id;   /* simulated thread */
    int kind; /* enum np_point_kind (core/seam.h): 0 load, 1 store, 2 cas,
                 3 xchg, 4 lock, 5 unlock, 6 timer, 7 now, 8 park, 9 ready */
    const volatile void *addr;
    const char *file; /* source file and line of the step */
    int line;
    size_t step; /* its number in the run (0-based) */
} np_point;

#define NP_ABS_BITS     20
#define NP_CHOICE_LOCKS 4
#define NP_CHOICE_TASKS 16
/* Writes the abstract state as text ("pd1 rg=WAIT wg=NIL closing ...").
 * Returns buf. */
NP_SIM_API const char *np_replay_abstract_text(uint64_t abstract, char *buf, size_t len);
/* The name of a pollDesc field an explored step touched ("pd1.rg"), from
 * the last run's slots; "?" if unknown. */
NP_SIM_API const char *np_replay_addr_name(const volatile void *addr, char *buf, size_t len);

/* One wait's outcome, as recorded and as replayed. */
typedef struct np_replay_wake {
    int32_t g, pd;    /* task and slot */
    int mode;         /* NP_MODE_R or NP_MODE_W */
    int res;          /* computed result (NP_POLL_*), -1 if not computed */
    int rec_res;      /* recorded result, -1 if not recorded */
    int64_t t;        /* computed virtual time of the wake, ns since start */
    int64_t rec_t;    /* recorded time, -1 if none */
    int64_t wait_t;   /* when the wait was issued */
    int64_t deadline; /* the direction's deadline when it returned (0 none) */
} np_replay_wake;

typedef struct np_replay_result {
    int status;            /* 0 consistent, 1 divergence/violation, 2 invalid */
    char invalid[512];     /* status 2: "FILE:LINE: message" */
    uint64_t divergences;  /* count of divergence lines */
    uint64_t violations;   /* count of violation lines */
    uint64_t events;       /* trace lines processed */
    np_replay_wake *wakes; /* every wait's outcome, in the order the waits returned */
    size_t nwakes;
    uint64_t fires; /* deadline timers that took effect */
    bool abandoned; /* explore: choose() abandoned the run */
    size_t steps;   /* explore: scheduling points passed */
    /* poller faults injected (np_replay_opts.poller_faults) */
    uint64_t eintrs;      /* polls cut short with nothing */
    uint64_t lost_breaks; /* breaks dropped */
    uint64_t dup_breaks;  /* breaks delivered twice */
    /* the findings, in order: the first NP_REPLAY_VIOLATIONS of them (the
     * counters above count all) */
    np_violation *viol;
    size_t nviol;
} np_replay_result;

#define NP_REPLAY_VIOLATIONS 64

/* Replays tr. Returns r->status. Free r with np_replay_result_free. */
NP_SIM_API int np_replay(const np_trace *tr, const np_replay_opts *o, np_replay_result *r);
NP_SIM_API void np_replay_result_free(np_replay_result *r);

#ifdef __cplusplus
}
#endif
#endif
