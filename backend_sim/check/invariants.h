/* backend_sim/check/invariants.h - one function per invariant of the trace
 * contract (traces/TRACE_FORMAT.md), over plain facts the replay gathers;
 * each fills *v and returns true when the invariant is broken. */
#ifndef NP_BACKEND_SIM_INVARIANTS_H
#define NP_BACKEND_SIM_INVARIANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "netpoll/invariants.h"

/* A wait that returned. */
typedef struct np_inv_wake {
    int32_t g, pd;
    int mode, res;
    int64_t t;             /* trace time */
    int64_t now, deadline; /* virtual clock; the model's deadline (0 none) */
    bool deadline_expired; /* some deadline of this time step had expired by now */
    bool deadline_unknown; /* a deadline set beside an unblock: not judged */
    bool issued_closing;   /* the wait began on a closing pollDesc */
} np_inv_wake;

bool np_inv_early_timeout(const np_inv_wake *w, np_violation *v);
bool np_inv_wait_after_close(const np_inv_wake *w, np_violation *v);

/* A wait still parked at quiescence. */
typedef struct np_inv_parked {
    int32_t g, pd;
    int mode;
    int64_t t, now;
    bool closing, ready; /* the model: closing began; readiness pending */
    int64_t deadline;    /* the model's deadline (0 none) */
    bool deadline_past;  /* set already past */
    bool timers_exact;   /* timers fire at their deadlines (and on time) */
    bool poller;         /* poller faults: timers fire when the poller wakes */
    int64_t poller_woke; /* ... its latest wake-up */
} np_inv_parked;

/* lost-wakeup (closing, readiness, a deadline already past) or
 * missed-timeout (its deadline's timer should have run). */
bool np_inv_parked_wait(const np_inv_parked *p, np_violation *v);

/* bad-state: semaphore value sem of pd/mode at quiescence, where the waiter
 * on it (if any) is task `waiter`. */
bool np_inv_bad_sema(int32_t pd, int mode, int64_t t, uintptr_t sem, uintptr_t waiter,
                     np_violation *v);
/* bad-state: a wait issued while other_g (0: a task of another slot or
 * incarnation) waits on the same direction. */
bool np_inv_double_wait(int32_t pd, int mode, int64_t t, uint32_t line, int32_t g, int32_t other_g,
                        np_violation *v);

/* bad-state: a pollDesc closed with a deadline timer still queued (pollUnblock
 * deletes them; a leaked one holds the pollDesc until it fires, stale). */
bool np_inv_closed_timers(int32_t pd, int64_t t, uint32_t line, bool rt_queued, bool wt_queued,
                          np_violation *v);

/* stale-event: a ready of an older incarnation, and what the current one
 * showed: woke a task, or (judged only when no other thread stepped
 * meanwhile) its words changed. */
bool np_inv_stale_event(int32_t pd, int64_t tag, int64_t t, uint32_t line, bool woke, bool changed,
                        int32_t owner_pd, int owner_inc, np_violation *v);

/* crash / double-wakeup: the simulated code's own check failed (msg). */
void np_inv_fail(np_inv kind, const char *msg, int64_t t, np_violation *v);

#endif
