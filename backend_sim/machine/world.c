/* backend_sim/machine/world.c - the runtime of the sim build (NP_SIM=1), in place of
 * core/scheduler.c.
 *
 * One OS thread runs everything: tasks are coroutines, time is the
 * simulator backend's virtual clock, and nothing runs unless the world is
 * turned - by np_main's loop, or step by step by a driver (trace replay,
 * the interleaving explorer) that decides exactly which task runs next.
 * It provides the same runtime calls as the live scheduler, so the pollDesc
 * code and the tests run unchanged on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "netpoll/runtime.h"
#include "netpoll/sim.h"
#include "scheduler.h"
#include "stack_pool.h"
#include "world.h"

#define NP_WORLD_STACK (256 * 1024) /* twice the live default: tasks cannot grow stacks */

enum { SW_PARK, SW_YIELD, SW_EXIT, SW_ABANDON };

static struct {
    bool running;
    np_ctx home;        /* the context of the thread that turns the world */
    int why;            /* SW_*: why the running task switched home */
    np_task *runq_head; /* runnable tasks, FIFO */
    np_task *runq_tail;
    np_task *all; /* every live task (all_next list) */
    np_timer_heap timers;
    const np_backend *be;
    size_t stack_size;
    uint64_t polls, blocking_polls;
    int next_id;         /* sim_id of the next task */
    bool poller_asleep;  /* a driver holds the poller in its wait (np_world_poller_block) */
    int64_t poll_end;    /* ... until then at most (INT64_MAX: no timeout) */
    int64_t poll_until;  /* breaks are sent for timers earlier than this */
    uint64_t rmask;      /* the run queue's tasks with sim_id <= 64: bit sim_id - 1 */
    unsigned rbig;       /* and how many others it has */
    np_task *byid[64];   /* live tasks by sim_id - 1 */
    np_task *came;       /* the task that switched home last */
    np_task *committing; /* the task whose park's commit runs now (on the world's stack) */
    np_task *spare;      /* ended tasks kept with their stacks, for the next spawn */
    unsigned nspare;
} w;

/* How many ended tasks the world keeps (an exploration spawns a handful of
 * tasks per execution, 100,000s of times: calloc, free and the stack
 * pool's lock were a twentieth of its cost). */
#define NP_WORLD_SPARE 64

np_task *np__world_cur; /* the task running now, or NULL (world.h) */
const np_design *np__design = &np_design_go1_21;
_Atomic uint64_t np__stale_events;

const np_backend *np__backend(void)
{
    return w.be;
}
const np_design *np_current_design(void)
{
    return np__design;
}
int64_t np_now(void)
{
    return w.be ? w.be->now() : NP_SIM_EPOCH;
}
bool np__surely_future(int64_t d)
{
    (void)d;
    return false; /* virtual time: always read the (exact) clock */
}
np_task *np_self(void)
{
    return np__world_cur;
}
void np__sched_stats(np_sched_stats *out)
{
    memset(out, 0, sizeof *out);
    out->polls = w.polls;
    out->blocking_polls = w.blocking_polls;
    out->stale_events = atomic_load(&np__stale_events);
}

/* ---- run queue ------------------------------------------------------------- */

/* A task's state word, here: one OS thread runs every task, so program
 * order is the only order there is, and sequentially consistent stores
 * (each a locked instruction on x86) would order nothing - relaxed. (The
 * word is _Atomic for the live scheduler, core/scheduler.c, which keeps
 * seq_cst.) */
static void set_state(np_task *t, int st)
{
    atomic_store_explicit(&t->state, st, memory_order_relaxed);
}

static void mark(const np_task *t, bool queued)
{
    if (np__simt(t)->id < 1 || np__simt(t)->id > 64)
        w.rbig += queued ? 1u : -1u;
    else if (queued)
        w.rmask |= UINT64_C(1) << (np__simt(t)->id - 1);
    else
        w.rmask &= ~(UINT64_C(1) << (np__simt(t)->id - 1));
}

static void push(np_task *t)
{
    mark(t, true);
    t->next = NULL;
    if (w.runq_tail)
        w.runq_tail->next = t;
    else
        w.runq_head = t;
    w.runq_tail = t;
}

static bool unlink_runnable(np_task *t)
{
    np_task **pp = &w.runq_head, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == t) {
            mark(t, false);
            *pp = t->next;
            if (w.runq_tail == t)
                w.runq_tail = prev;
            return true;
        }
    return false;
}

void np_ready(np_task *t)
{
    int st = t ? atomic_load_explicit(&t->state, memory_order_relaxed) : -1;
    if (st != NP_T_PARKED) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "np_ready: task %p is not parked (state %d): a second wake-up for one park",
                 (void *)t, st);
        np__sim_fail("double-wakeup", msg);
    }
    if (st != NP_T_PARKED)
        np__fatal("np_ready: task %p is not parked (state %d): a second wake-up for one park",
                  (void *)t, st);
    set_state(t, NP_T_RUNNABLE);
    push(t);
}

void np__ready_list(np_task_list *l)
{
    np_task *t = l->head;
    while (t) {
        np_task *next = t->next;
        np_ready(t);
        t = next;
    }
    l->head = l->tail = NULL;
    l->n = 0;
}

/* ---- timers ------------------------------------------------------------------ */

void np__timer_set(np_timer *t, int64_t when, np_timer_fn fn, void *arg, uintptr_t seq)
{
    t->fn = fn;
    t->arg = arg;
    t->seq = seq;
    if (np__timer_heap_modify(&w.timers, t, when) != 0)
        np__fatal("out of memory growing the timer heap (%u timers)", w.timers.len);
    if (w.poller_asleep && when < w.poll_until) { /* Go's wakeNetPoller */
        w.poll_until = when; /* one break per earlier timer, as the live scheduler */
        w.be->brk();
    }
}

bool np__timer_del(np_timer *t)
{
    return np__timer_heap_del(&w.timers, t);
}

int np_world_fire_timers(void)
{
    int n = 0;
    int64_t now = np_now();
    np_timer *t;
    while ((t = np__timer_heap_top(&w.timers)) && t->when <= now) {
        np__timer_heap_pop(&w.timers);
        t->fn(t->arg, t->seq);
        n++;
    }
    return n;
}

int64_t np_world_next_timer(void)
{
    np_timer *t = np__timer_heap_top(&w.timers);
    return t ? t->when : INT64_MAX;
}

/* ---- tasks ------------------------------------------------------------------- */

static _Noreturn void task_entry(void *p)
{
    np_task *t = p;
    t->fn(t->arg);
    w.why = SW_EXIT;
    np__ctx_exit(&t->ctx, &w.home);
}

/* Frees the spare tasks. At exit: a sanitizer may count their contexts as
 * live threads (TSan sleeps a second at exit while any is). */
static void free_spares(void)
{
    while (w.spare) {
        np_task *t = w.spare;
        w.spare = t->next;
        np__task_free(t);
    }
    w.nspare = 0;
}

static void forget(np_task *t)
{
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        w.all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    if (np__simt(t)->id >= 1 && np__simt(t)->id <= 64)
        w.byid[np__simt(t)->id - 1] = NULL;
    if (w.nspare < NP_WORLD_SPARE) {
        static bool registered;
        if (!registered) /* the spares' contexts end with the process */
            registered = atexit(free_spares) == 0;
        t->next = w.spare; /* (its context is destroyed when it is reused or freed) */
        w.spare = t;
        w.nspare++;
        return;
    }
    np__task_free(t);
}

/* A task for fn(arg): a spare one, reset, or a new one. */
static np_task *task_new(void (*fn)(void *), void *arg)
{
    np_task *t;
    while ((t = w.spare)) {
        w.spare = t->next;
        w.nspare--;
        if (t->stack_size == np__task_stack_bytes(w.stack_size)) {
            np__ctx_destroy(&t->ctx);
            np__task_reuse(t, fn, arg, task_entry);
            return t;
        }
        np__task_free(t); /* from a world with another stack size */
    }
    return np__task_new(fn, arg, w.stack_size, task_entry);
}

np_task *np_world_spawn(void (*fn)(void *), void *arg)
{
    if (!fn || !w.running)
        return NULL;
    np_task *t = task_new(fn, arg);
    if (!t)
        return NULL;
    t->all_next = w.all;
    if (w.all)
        w.all->all_prev = t;
    w.all = t;
    np__simt(t)->id = ++w.next_id;
    if (np__simt(t)->id <= 64)
        w.byid[np__simt(t)->id - 1] = t;
    push(t);
    return t;
}

int np_go(void (*fn)(void *), void *arg)
{
    if (!fn)
        return -EINVAL;
    if (!w.running)
        return -ESRCH;
    return np_world_spawn(fn, arg) ? 0 : -ENOMEM;
}

/* The simulated thread of the world is the task: the one running, or the
 * one whose park's commit runs on the world's stack. */
void *np__sim_rec_sec(void)
{
    static _Alignas(8) unsigned char outside[NP_SIM_REC_SEC_BYTES]; /* the driver's */
    np_task *t = np__world_cur ? np__world_cur : w.committing;
    return t ? np__simt(t)->rec_sec : outside;
}

void np_park(np_commit_fn commit, void *arg)
{
    np_task *t = np__world_cur;
    if (!t)
        np__fatal("np_park called outside a task");
    t->commit = commit;
    t->commit_arg = arg;
    w.why = SW_PARK;
    np__ctx_switch(&t->ctx, &w.home);
}

void np_yield(void)
{
    np_task *t = np__world_cur;
    if (!t)
        np__fatal("np_yield called outside a task");
    w.why = SW_YIELD;
    np__ctx_switch(&t->ctx, &w.home);
}

void np_world_abandon_task(void)
{
    np_task *t = np__world_cur;
    if (!t)
        np__fatal("np_world_abandon_task called outside a task");
    w.why = SW_ABANDON;
    np__ctx_switch(&t->ctx, &w.home);
    np__fatal("world: an abandoned task was resumed");
}

void np_world_yield_to(np_task *n)
{
    np_task *t = np__world_cur;
    if (!t)
        np__fatal("np_world_yield_to called outside a task");
    if (n == t)
        return;
    if (!n || !unlink_runnable(n))
        np__fatal("np_world_yield_to: task %p is not runnable", (void *)n);
    set_state(t, NP_T_RUNNABLE);
    push(t);
    np__world_cur = n;
    set_state(n, NP_T_RUNNING);
    np__ctx_switch(&t->ctx, &n->ctx);
}

/* Runs t until a task switches home: t, or one it yielded to with
 * np_world_yield_to (w.came), when it parks (after its commit), yields or
 * ends. */
static int step(np_task *t)
{
    np__sim_driver_turn();
    for (;;) {
        np__world_cur = t;
        set_state(t, NP_T_RUNNING);
        np__ctx_switch(&w.home, &t->ctx);
        t = w.came = np__world_cur;
        np__world_cur = NULL;
        switch (w.why) {
        case SW_YIELD:
            set_state(t, NP_T_RUNNABLE);
            push(t);
            return NP_WORLD_YIELDED;
        case SW_EXIT:
            set_state(t, NP_T_DONE);
            forget(t);
            return NP_WORLD_EXITED;
        case SW_ABANDON: /* never runs again; freed with the world */
            set_state(t, NP_T_PARKED);
            t->commit = NULL;
            return NP_WORLD_ABANDONED;
        case SW_PARK:
            t->parks++;
            set_state(t, NP_T_PARKED);
            w.committing = t;
            bool parked = !t->commit || t->commit(t, t->commit_arg);
            w.committing = NULL;
            if (parked)
                return NP_WORLD_PARKED;
            t->parks--;
            continue;
        default:
            np__fatal("world: task switched home for unknown reason %d", w.why);
        }
    }
}

int np_world_run_task(np_task *t)
{
    if (!t || np__world_cur || !unlink_runnable(t))
        return -EINVAL;
    return step(t);
}

int np_world_run_next(struct np_task **ran)
{
    np_task *t = w.runq_head;
    if (ran)
        *ran = t;
    if (!t || np__world_cur)
        return -EAGAIN;
    mark(t, false);
    w.runq_head = t->next;
    if (!w.runq_head)
        w.runq_tail = NULL;
    return step(t);
}

int np_world_run_one(void)
{
    return np_world_run_next(NULL);
}

bool np_world_fire_timer(np_timer *t)
{
    if (t->index < 0)
        return false;
    np__timer_heap_del(&w.timers, t);
    t->fn(t->arg, t->seq);
    return true;
}

size_t np_world_runnable_list(struct np_task **out, size_t max)
{
    size_t n = 0;
    for (np_task *p = w.runq_head; p; p = p->next)
        if (n < max)
            out[n++] = p;
    return n;
}

np_task *np_world_came_home(void)
{
    return w.came;
}

np_task *np_world_runq_head(void)
{
    return w.runq_head;
}

size_t np_world_tasks(np_task **out, size_t max)
{
    size_t n = 0;
    for (np_task *p = w.all; p; p = p->all_next, n++)
        if (n < max)
            out[n] = p;
    return n;
}

bool np_world_runq_mask(uint64_t *mask, np_task *const **byid)
{
    if (w.rbig)
        return false;
    *mask = w.rmask;
    *byid = w.byid;
    return true;
}

bool np_world_runnable(const np_task *t)
{
    if (np__simt(t)->id >= 1 && np__simt(t)->id <= 64 && w.byid[np__simt(t)->id - 1] == t)
        return w.rmask >> (np__simt(t)->id - 1) & 1;
    for (np_task *p = w.runq_head; p; p = p->next)
        if (p == t)
            return true;
    return false;
}

int np_world_poll(int64_t delay)
{
    np_task_list l = {0};
    w.polls++;
    if (delay != 0)
        w.blocking_polls++;
    int n = np__netpoll(delay, &l);
    np__ready_list(&l);
    return n;
}

void np_world_poller_block(int64_t until)
{
    w.poller_asleep = true;
    w.poll_end = w.poll_until = until;
    np_sim_block(until);
}

int64_t np_world_poller_due(void)
{
    return w.poller_asleep ? np_sim_due() : INT64_MAX;
}

int np_world_poller_wait(np_event *ev, int max, bool look)
{
    int64_t now = np_now(), delay = look                      ? 0
                                    : w.poll_end == INT64_MAX ? -1
                                    : w.poll_end > now        ? w.poll_end - now
                                                              : 0;
    w.poller_asleep = false;
    w.polls++;
    if (delay != 0)
        w.blocking_polls++;
    return w.be->poll(delay, ev, max);
}

bool np_world_turn(void)
{
    np_world_fire_timers();
    if (np_world_run_one() >= 0)
        return true;
    np_sim_stats st;
    np_sim_get_stats(&st);
    int64_t next = np_world_next_timer();
    if (next == INT64_MAX && st.pending == 0)
        return false; /* nothing runnable, no timer, no event: nothing will happen */
    int64_t now = np_now();
    np_world_poll(next == INT64_MAX ? -1 : next > now ? next - now : 0);
    return true;
}

/* ---- start / stop ---------------------------------------------------------------- */

int np_runtime_start(const np_config *cfg)
{
    np_config c = cfg ? *cfg : (np_config){0};
    if (!c.backend)
        c.backend = &np_backend_sim;
    if (c.workers == 0)
        c.workers = 1;
    if (c.workers != 1 || strcmp(c.backend->name, "sim") != 0)
        return -EINVAL;                      /* one OS thread runs every simulated thread */
    np__task_ext_size = sizeof(np_sim_task); /* np__simt: before any task is made */
    if (c.stack_size == 0)
        c.stack_size = NP_WORLD_STACK;
    if (c.stack_size < 16 * 1024 || c.stack_size > ((size_t)1 << 30))
        return -EINVAL;
    if (w.running)
        return -EBUSY;
    int err = c.backend->init();
    if (err)
        return err;
    np__ctx_init_thread(&w.home);
    np__timer_heap_clear(&w.timers); /* (kept from the last world, if small) */
    w.be = c.backend;
    np__design = c.design ? c.design : &np_design_go1_21;
    w.stack_size = c.stack_size;
    w.runq_head = w.runq_tail = NULL;
    w.rmask = 0;
    w.rbig = 0;
    w.all = NULL;
    np__world_cur = NULL;
    w.polls = w.blocking_polls = 0;
    w.next_id = 0; /* ids repeat from run to run: explorations re-execute */
    w.poller_asleep = false;
    w.running = true;
    return 0;
}

int np_runtime_stop(void)
{
    if (!w.running)
        return -ESRCH;
    if (np__world_cur)
        np__fatal("np_runtime_stop called from a task");
    while (w.all)
        forget(w.all);
    w.runq_head = w.runq_tail = NULL;
    w.rmask = 0;
    w.rbig = 0;
    if (w.timers.cap > 256)
        np__timer_heap_free(&w.timers);
    else
        np__timer_heap_clear(&w.timers);
    w.be->fini();
    w.be = NULL;
    np__design = &np_design_go1_21;
    w.running = false;
    /* The stack pool is kept: an exploration starts the world again for
     * every execution, and mapping stacks anew would dominate its cost. */
    return 0;
}

typedef struct {
    void (*fn)(void *);
    void *arg;
    bool done;
} main_arg;

static void main_task(void *p)
{
    main_arg *m = p;
    m->fn(m->arg);
    m->done = true;
}

/* As core/scheduler.c's: after the main task returns, the tasks not ended
 * are waited for (wait_all) or counted into *left (else reported). */
int np__main_run(const np_config *cfg, void (*fn)(void *), void *arg, bool wait_all, unsigned *left)
{
    if (left)
        *left = 0;
    if (!fn)
        return -EINVAL;
    int err = np_runtime_start(cfg);
    if (err)
        return err;
    main_arg m = {fn, arg, false};
    if (!np_world_spawn(main_task, &m)) {
        np_runtime_stop();
        return -ENOMEM;
    }
    while ((!m.done || (wait_all && w.all)) && np_world_turn())
        ;
    if (!m.done || (wait_all && w.all))
        err = -EDEADLK; /* every task parked with nothing left to wake them */
    unsigned n = 0;
    for (np_task *t = w.all; t; t = t->all_next)
        n++;
    np_runtime_stop();
    if (!wait_all && m.done)
        np__main_leftover(n, left);
    return err;
}
