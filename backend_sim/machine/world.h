/* backend_sim/world.h - what the sim world offers replay beyond netpoll/sim.h
 * (private: it names core types). */
#ifndef NP_BACKEND_SIM_WORLD_H
#define NP_BACKEND_SIM_WORLD_H

#include <stdbool.h>

#include "scheduler.h"
#include "seam.h"

/* What the world and its explorer keep per task, in the task's extension
 * (np__task_ext: the live np_task has no simulator fields). */
typedef struct np_sim_task {
    int id;                 /* a nonzero id, in creation order (simulated locks) */
    const void *blocked_on; /* the simulated lock it waits for */
    uint64_t hist;          /* hash of what it observed (the explorer's state) */
    uint64_t steps;         /* explored steps it took */
    /* the recorder's open section (np__sim_rec_sec) */
    _Alignas(8) unsigned char rec_sec[NP_SIM_REC_SEC_BYTES];
} np_sim_task;
static inline np_sim_task *np__simt(const np_task *t)
{
    return (np_sim_task *)np__task_ext(t);
}

/* The task running now, or NULL: np_self(), for the replay's hot path. */
extern np_task *np__world_cur;

/* Fires timer t now if it is queued; false if it is not. */
bool np_world_fire_timer(np_timer *t);

/* Every live task (parked, runnable or running), at most max; returns how
 * many there are. */
size_t np_world_tasks(np_task **out, size_t max);
/* The poller, split for a driver that lets virtual time pass itself while
 * the poller sleeps (replay under poller faults). np_world_poller_block:
 * the idle worker enters the backend's wait, at most until `until`
 * (absolute; INT64_MAX: none); while it sleeps, a timer set earlier than
 * that breaks it (Go's wakeNetPoller). np_world_poller_due: when the wait
 * returns (np_sim_due), INT64_MAX if the poller is not asleep. Once the
 * clock is there, np_world_poller_wait ends the wait - the backend's poll
 * with the remaining delay (0 if look: the driver wakes it) - and returns
 * the records it filled in (0: timeout, break or EINTR). The caller
 * dispatches them. */
void np_world_poller_block(int64_t until);
int64_t np_world_poller_due(void);
int np_world_poller_wait(np_event *ev, int max, bool look);

/* The driver runs a task (seam_sim.c counts the steps until the next turn:
 * too many is a livelock). */
void np__sim_driver_turn(void);

/* Frees every simulated lock held (seam_sim.c): for the clean-up after a
 * run abandoned or ended inside a critical section. */
void np__sim_release_locks(void);

/* From a task: switches home for good (the run ends with a finding: see
 * np_sim_hooks.fail). The task is never run again; np_runtime_stop frees
 * it. Its np_world_run_task returns NP_WORLD_ABANDONED. */
_Noreturn void np_world_abandon_task(void);

#endif
