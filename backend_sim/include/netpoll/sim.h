/* netpoll/sim.h - the simulator backend: a virtual clock and injected
 * readiness (select it with np_config.backend = &np_backend_sim).
 *
 * Virtual time starts at NP_SIM_EPOCH and moves only inside the backend's
 * poll: when the runtime has nothing to run it polls with the delay to its
 * next timer, and the simulator jumps the clock to the earlier of that timer
 * and the next injected event. With one worker (the only configuration it
 * accepts) a run is fully deterministic.
 *
 * Readiness is injected per fd, as the kernel reports it: the event carries
 * the registration (pollDesc, tag) that fd has when it is injected, and is
 * delivered even if the fd is closed and its pollDesc reused before then -
 * exactly the in-flight events that tags exist for.
 */
#ifndef NETPOLL_SIM_H
#define NETPOLL_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "netpoll/backend.h"
#include "netpoll/poll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The virtual clock's value when the backend is initialised: 1 s, so that
 * every virtual time is positive and 0 keeps meaning "no deadline". */
#define NP_SIM_EPOCH INT64_C(1000000000)

/* The simulator backend's descriptor. */
extern const np_backend np_backend_sim;

/* Queues readiness of `mode` (NP_MODE_R, NP_MODE_W or NP_MODE_RW) on fd's
 * current registration, delivered at virtual time `at` (0 or anything <= now:
 * at the next poll). err_only: an error-only event (EPOLLERR alone), which the
 * kernel reports to both directions, so mode is ignored then.
 * Returns 0, -ENOENT if fd is not registered, -EINVAL, -ESRCH (not running),
 * -ENOMEM. */
int np_sim_inject(int64_t at, int fd, int mode, bool err_only);

/* The same with an explicit (pd, tag): an event registered under an older
 * incarnation of pd, for instance. */
int np_sim_inject_raw(int64_t at, np_poll_desc *pd, uint32_t tag, int mode, bool err_only);

/* The incarnation tag under which fd is registered now; -ENOENT if none. */
int64_t np_sim_tag(int fd);

/* Counters since init. */
typedef struct np_sim_stats {
    uint64_t polls;     /* poll calls */
    uint64_t breaks;    /* brk calls */
    uint64_t woken;     /* polls that returned because of a break */
    uint64_t delivered; /* events delivered */
    uint64_t pending;   /* events queued, not yet delivered */
    /* poller faults (np_sim_set_faults) */
    uint64_t eintrs;      /* polls that returned early with nothing (EINTR) */
    uint64_t lost_breaks; /* brk calls dropped */
    uint64_t dup_breaks;  /* brk calls delivered twice */
} np_sim_stats;
void np_sim_get_stats(np_sim_stats *out);

/* Poller faults, seeded and deterministic (off unless set; they persist
 * across init, which restarts their random sequence from the seed):
 *   eintr       a blocking poll returns early with nothing, as epoll_wait
 *               does with EINTR: when it starts while events or a break are
 *               pending (at most twice in a row), or at a random moment
 *               while it waits (a signal). Undelivered events and a pending
 *               break stay for the next poll.
 *   lost_break  a brk call is dropped: a blocked poll does not wake for it.
 *   dup_break   a brk call is delivered twice: after waking the poll it
 *               was meant for, it also wakes the next blocking poll.
 * NULL turns them off. */
typedef struct np_sim_faults {
    uint64_t seed;
    bool eintr, lost_break, dup_break;
} np_sim_faults;
void np_sim_set_faults(const np_sim_faults *f);

/* While on, the pollcache's allocations fail (the sim builds only: the
 * checker's edge pass uses it to reach np_poll_open's -ENOMEM); the live
 * build never asks. Off at start. */
void np_sim_set_alloc_failure(bool on);

/* A blocking poll in two halves, for a driver that lets virtual time pass
 * itself while the poller sleeps (replay under poller faults): np_sim_block
 * enters the wait, blocked at most until `until` (absolute virtual time,
 * INT64_MAX: no timeout); np_sim_due says when it returns - the earliest of
 * `until`, the next queued event, now if a break is pending, and the
 * moment of an interrupting signal - INT64_MAX if no poll is blocked.
 * Once the clock is there the driver calls the backend's poll with the
 * remaining delay, which returns at once and ends the wait. */
void np_sim_block(int64_t until);
int64_t np_sim_due(void);

/* Sim build only (netpoll_sim): the explorer's hooks. `point` is called at
 * every scheduling point of the pollDesc code with the point's kind (enum
 * np_point_kind in core/seam.h), the address it touches and its source
 * line; `lock_busy` when a simulated lock is held by another simulated
 * thread (it must switch to another one, or the run is deadlocked). NULL
 * hooks: points cost nothing and a busy lock is fatal. */
typedef struct np_sim_hooks {
    void (*point)(int kind, const volatile void *addr, const char *file, int line);
    void (*lock_busy)(const void *lock);
    int (*thread_id)(void); /* the running simulated thread (nonzero) */
    /* after a step: the value it observed (a load, an exchange's old value,
     * a CAS's success, the clock, a timer's presence, a lock's acquisition
     * number); optional */
    void (*observe)(uint64_t value);
    /* after a simulated lock is taken: the explorer observes what it guards
     * (optional; without it the lock's acquisition number is observed) */
    void (*locked)(const void *lock);
    /* a fatal error in the simulated code (np__fatal: name "crash") or a
     * broken runtime rule the world checks (a second wake-up for one park:
     * "double-wakeup"): the replay reports it as a violation and ends the
     * run, so the hook does not return (optional: without it the process
     * aborts with the message) */
    void (*fail)(const char *name, const char *msg);
    /* before the pollDesc code reads the recording flag (NP_RECORDING, core/
     * record.h); optional. Not a scheduling point: the edge pass uses it to
     * start a recording between two reads of one operation, as another
     * thread may live (backend_sim/check/edges.c) */
    void (*rec_read)(void);
} np_sim_hooks;
void np_sim_set_hooks(const np_sim_hooks *hooks);
/* Scheduling points passed so far (sim build; 0 in the live build). */
uint64_t np_sim_points(void);

/* ---- The world: the sim build's runtime (netpoll_sim only) ----------------
 *
 * The sim build runs on one OS thread with no worker threads: np_main turns
 * the world until the main task returns, and a driver (replay, explorer) can
 * instead start the runtime with np_runtime_start and turn it step by step.
 */
struct np_task;

enum { NP_WORLD_PARKED = 0, NP_WORLD_YIELDED = 1, NP_WORLD_EXITED = 2, NP_WORLD_ABANDONED = 3 };

/* Creates a runnable task; NULL if out of memory or no world runs. */
struct np_task *np_world_spawn(void (*fn)(void *), void *arg);
/* Runs the given runnable task until it parks, yields or exits: NP_WORLD_*,
 * or -EINVAL if it is not runnable. */
int np_world_run_task(struct np_task *t);
/* From a task: lets runnable task n run in its place at once, without a
 * switch to the driver (the caller stays runnable, and runs again when a
 * driver or another task picks it). A driver's np_world_run_task then ends
 * when whichever task runs last switches home. */
void np_world_yield_to(struct np_task *n);
/* The task that switched home at the end of the latest run (the one run,
 * or one it yielded to); freed if that run returned NP_WORLD_EXITED. */
struct np_task *np_world_came_home(void);
/* Runs the oldest runnable task likewise; -EAGAIN if none is runnable. */
int np_world_run_one(void);
/* The same, telling which task ran (NULL if none). */
int np_world_run_next(struct np_task **ran);
/* The runnable tasks, oldest first (at most max of them); returns how many. */
size_t np_world_runnable_list(struct np_task **out, size_t max);
/* The oldest runnable task, NULL if none; t->next is the one after t (the
 * queue must not change while it is walked). */
struct np_task *np_world_runq_head(void);
/* Whether t is runnable (queued) now. */
bool np_world_runnable(const struct np_task *t);
/* The runnable tasks as a set: bit i of *mask for the task whose simulated id is
 * i + 1, and (*byid)[i] that task. False, with neither set, if a runnable
 * task's simulated id is above 64 (then walk the queue). */
bool np_world_runq_mask(uint64_t *mask, struct np_task *const **byid);
/* Fires every timer due at the current virtual time; returns how many. */
int np_world_fire_timers(void);
/* The earliest queued timer's time, or INT64_MAX. */
int64_t np_world_next_timer(void);
/* Polls the simulator backend (delay as np_backend.poll) and makes the
 * tasks its events wake runnable; returns the number of events. */
int np_world_poll(int64_t delay);
/* One turn: due timers, then one runnable task, or else let virtual time
 * move to the next timer or event. false: nothing can ever happen again. */
bool np_world_turn(void);

/* Moves the virtual clock forward to t (never back): -EINVAL if t < now. */
int np_sim_set_now(int64_t t);

#ifdef __cplusplus
}
#endif
#endif
