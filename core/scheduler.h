/* core/scheduler.h - tasks and the scheduler, as the rest of the core sees them
 * (private). Go: runtime/proc.go (g, m, findRunnable, gopark, goready). */
#ifndef NP_CORE_SCHEDULER_H
#define NP_CORE_SCHEDULER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "netpoll/backend.h"
#include "netpoll/design.h"
#include "netpoll/task.h"
#include "timer_heap.h"

/* Task states. Transitions: RUNNABLE -> RUNNING (a worker picks it up);
 * RUNNING -> PARKED (np_park, set before the commit runs) | RUNNABLE (yield)
 * | DONE; PARKED -> RUNNABLE only by np_ready, with a CAS, so a second ready
 * for one park is caught. */
enum { NP_T_RUNNABLE, NP_T_RUNNING, NP_T_PARKED, NP_T_DONE };

struct np_task {
    np_ctx ctx;                   /* registers while the task is not running */
    void (*fn)(void *);           /* what the task runs */
    void *arg;                    /* its argument */
    void *stack;                  /* lowest usable address, from the stack pool */
    size_t stack_size;            /* bytes from there to the end of the mapping: the
                                     usable stack, then this struct (core/task.c) */
    np_task *next;                /* link in the run queue or an np_task_list */
    np_task *all_prev, *all_next; /* every live task (for stop), under the runtime lock */
    _Atomic int state;            /* NP_T_*; see above */
    np_commit_fn commit;          /* np_park's commit, for the scheduler */
    void *commit_arg;             /* and its argument */
    uint64_t parks;               /* committed parks; written only by the worker
                                     that runs the task's scheduler step */
    /* Recording (core/record.c), beside the fields every switch touches, so
     * that a task's records look for no line the switch did not bring in.
     * rec_gen, rec_id: written only by the thread running the task (or
     * parking it); rec_woken: also by its waker, while it is parked. */
    uint32_t rec_gen, rec_id; /* recording number, and the task's g in it */
    uint32_t rec_woken;       /* recording in which it was woken and has
                                 not run its wake-up step yet */
    np_timer sleep_timer;     /* np_sleep's timer */
    void *user;               /* free for whoever drives the runtime (the
                                 sim build's replay ties its actor here) */
    int64_t sleep_until;      /* np_sleep's wake-up time */
    /* then np__task_ext_size bytes for the runtime that drives the task */
};

/* Bytes kept after every task for the runtime that drives it, zeroed with
 * the task (0 in the live runtime; the sim build's world keeps its per-task
 * bookkeeping there: backend_sim/machine/world.h). Set before any task is
 * made. */
extern size_t np__task_ext_size;
static inline void *np__task_ext(const np_task *t)
{
    return (void *)((const np_task *)t + 1);
}

/* A list of tasks being made runnable together (netpoll results). */
typedef struct np_task_list {
    np_task *head, *tail; /* linked through np_task.next */
    unsigned n;           /* length */
} np_task_list;

static inline void np__task_list_push(np_task_list *l, np_task *t)
{
    t->next = 0;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->n++;
}

/* A task that runs fn(arg) on a fresh stack of at least stack_size bytes,
 * entering through entry(task); NULL when out of memory (core/task.c). The
 * task struct is at the top of the stack's mapping: freeing the task returns
 * both to the stack pool. */
np_task *np__task_new(void (*fn)(void *), void *arg, size_t stack_size, void (*entry)(void *));
void np__task_free(np_task *t);
/* What np__task_new(..., stack_size, ...) puts in t->stack_size: the
 * stack's usable bytes plus the task struct's, rounded to pages. */
size_t np__task_stack_bytes(size_t stack_size);
/* np_main's tasks not ended when the main task returned (core/task.c): n
 * goes to *left, or (left NULL, n > 0) to a line on stderr. Both runtimes'
 * np_main and np_main_left. */
void np__main_leftover(unsigned n, unsigned *left);
/* np_main, np_main_left and np_main_wait (core/task.c) call the runtime's
 * own: the scheduler's, or the sim world's in the sim build. */
struct np_config;
int np__main_run(const struct np_config *cfg, void (*fn)(void *), void *arg, bool wait_all,
                 unsigned *left);
/* Makes t, a task that ended (its context destroyed), a fresh task for
 * fn(arg) on the stack it has. */
void np__task_reuse(np_task *t, void (*fn)(void *), void *arg, void (*entry)(void *));

/* Makes every task of l runnable: on the calling worker's local run queue
 * (waking sleeping workers to steal them), or from any other thread on the
 * global queue. */
void np__ready_list(np_task_list *l);

/* Queues (or moves) a runtime timer to fire fn(arg, seq) at `when`, breaking
 * the poller if it now has to wake earlier. fn, arg and seq are stored under
 * the timer lock, so a concurrent firing sees either the old or the new set. */
void np__timer_set(np_timer *t, int64_t when, np_timer_fn fn, void *arg, uintptr_t seq);
/* Unqueues a runtime timer; false if it was not queued (it may be firing). */
bool np__timer_del(np_timer *t);

/* True if absolute time d is certainly in the future, judged by the
 * backend's coarse clock (false means "ask the precise clock"). */
bool np__surely_future(int64_t d);

/* The running runtime's backend and design (the design is readable always). */
const np_backend *np__backend(void);
extern const np_design *np__design;

/* Polls the backend (netpoll.c) and appends the tasks its events make
 * runnable to out. Returns the number of events. */
int np__netpoll(int64_t delay, np_task_list *out);

/* Called by np_runtime_stop before the workers stop (core/net_more.c): a
 * name lookup still running for a parked task of this runtime forgets the
 * task, so that its answer, when it comes, readies nothing (the task is
 * about to be freed with every other). */
void np__resolver_stop(void);

/* Counters for tests and benchmarks. */
typedef struct np_sched_stats {
    uint64_t polls;          /* backend poll calls */
    uint64_t blocking_polls; /* of which with delay != 0 */
    uint64_t stale_events;   /* events dropped for a stale tag */
    uint64_t breaks;         /* brk calls made by the scheduler */
} np_sched_stats;
void np__sched_stats(np_sched_stats *out);
extern _Atomic uint64_t np__stale_events;

#if NP_MACHINE
/* The machine build's view of the scheduler for its invariants
 * (backend_sim/machine/mexplore.c), read between two steps: tasks queued to
 * run, the task worker i runs, the earliest timer (INT64_MAX: none), the
 * live tasks. */
unsigned np__sched_queued(void);
np_task *np__sched_running(int i);
int64_t np__sched_timer_next(void);
size_t np__sched_tasks(np_task **out, size_t max);
const char *np__sched_inconsistent(char *buf, size_t cap);
const void *np__sched_sleep_sem(int i, bool *listed);
bool np__sched_polling(void);
int np__sched_nsleep(void);
size_t np__sched_visible(np_task **out, size_t max);
#endif

#endif
