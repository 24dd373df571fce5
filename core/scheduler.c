/* core/scheduler.c - the runtime: worker threads, the run queue, timers, park/ready.
 *
 * Shape (Go's findRunnable, simplified to one global queue):
 *
 *   worker loop:  fire due timers -> take a task from the run queue and run it
 *                 -> if none: if no other worker polls, block in the backend's
 *                    poll(delay to the next timer), make the tasks its events
 *                    woke runnable; else sleep on idle_cond.
 *
 * Waking: np_ready queues the task, then signals an idle worker or, when all
 * idle workers are asleep in the poller, breaks the poller (at most one break
 * per poll). A timer queued earlier than the poller's wake-up time breaks it
 * too. So an idle runtime has one thread in epoll_wait and the others on a
 * condition variable: no CPU is burned.
 *
 * Locks: rt.lock guards the run queue, idle bookkeeping and the task list;
 * rt.tlock guards the timer heap and poll_until. Neither is held while a task,
 * a timer function or the backend poll runs. Order: a pollDesc lock may be
 * held when either is taken, never the reverse.
 */
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fatal.h"
#include "netpoll/runtime.h"
#include "spinlock.h"
#include "stack_pool.h"

/* Default usable stack: tasks cannot grow their stacks as goroutines do, and
 * untouched pages cost nothing (MAP_NORESERVE), so be generous. */
#define NP_DEFAULT_STACK (256 * 1024)
/* A worker that keeps finding work still looks at the poller every this many
 * tasks, so I/O readiness is not starved by a busy run queue (Go polls from
 * findRunnable on the same kind of schedule, every 61 ticks for fairness). */
#define NP_POLL_EVERY 61
/* Events taken per backend poll: Go's netpoll uses 128. */
#define NP_POLL_BATCH 128

enum { SW_PARK, SW_YIELD, SW_EXIT }; /* why a task switched back to its worker */

typedef struct np_worker {
    np_ctx g0;        /* the worker thread's own stack: the scheduler runs here */
    np_task *cur;     /* the task running on this worker, or NULL */
    np_task *runnext; /* a task readied by this worker's running task while no
                         worker was idle: it runs next, skipping the run-queue
                         lock (Go: p.runnext). Only this worker touches it. */
    int why;          /* SW_*: set by the task just before switching to g0 */
    unsigned tick;    /* tasks run, for NP_POLL_EVERY */
    pthread_t thread;
} np_worker;

static struct {
    pthread_mutex_t lock; /* guards the fields down to `tasks` */
    np_task *runq_head;   /* FIFO of runnable tasks */
    np_task *runq_tail;
    pthread_cond_t idle_cond; /* idle workers that are not the poller wait here */
    int idle_waiters;         /* how many wait on idle_cond */
    _Atomic int nidle;        /* idle_waiters + (polling ? 1 : 0): written under
                                 the lock, read without it by np_ready */
    bool polling;             /* a worker is inside the backend's poll */
    bool break_sent;          /* a break was sent to that poll already */
    bool stopping;            /* np_runtime_stop was called */
    np_task *tasks;           /* every live task (all_next list) */

    np__spinlock tlock;         /* guards the timer heap and poll_until */
    np_timer_heap timers;       /* deadline and sleep timers */
    int64_t poll_until;         /* when the blocked poller wakes by itself:
                                   0 = nobody is blocked, INT64_MAX = never */
    _Atomic int64_t timer_next; /* `when` of the heap's top (INT64_MAX: empty),
                                   written under tlock, read without it */

    bool running; /* between start and stop */
    int nworkers;
    np_worker *workers;
    const np_backend *be;
    size_t stack_size;
    _Atomic uint64_t polls, blocking_polls, breaks;
} rt = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .idle_cond = PTHREAD_COND_INITIALIZER,
    .tlock = NP_SPINLOCK_INIT,
};

const np_design *np__design = &np_design_go1_21;
_Atomic uint64_t np__stale_events;

/* The worker of the calling thread. Never inlined: after a context switch a
 * task may be running on another thread, and the thread-local's address must
 * be computed anew, not reused from before the switch. */
/* initial-exec: no __tls_get_addr call per access (libnetpoll is linked at
 * program start, not dlopen'ed late; glibc reserves room for that anyway). */
static _Thread_local np_worker *tls_worker __attribute__((tls_model("initial-exec")));
static __attribute__((noinline)) np_worker *current_worker(void)
{
    np_worker **p = &tls_worker;
    __asm__ volatile("" : "+r"(p));
    return *p;
}

const np_backend *np__backend(void)
{
    return rt.be;
}

const np_design *np_current_design(void)
{
    return np__design;
}

int64_t np_now(void)
{
    const np_backend *be = rt.be;
    if (be)
        return be->now();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool np__surely_future(int64_t d)
{
    const np_backend *be = rt.be;
    return be && be->now_coarse && d - NP_COARSE_MARGIN > be->now_coarse();
}

np_task *np_self(void)
{
    np_worker *w = current_worker();
    return w ? w->cur : NULL;
}

void np__sched_stats(np_sched_stats *out)
{
    out->polls = atomic_load(&rt.polls);
    out->blocking_polls = atomic_load(&rt.blocking_polls);
    out->breaks = atomic_load(&rt.breaks);
    out->stale_events = atomic_load(&np__stale_events);
}

/* ---- run queue ---------------------------------------------------------- */

static void runq_push_locked(np_task *t)
{
    t->next = NULL;
    if (rt.runq_tail)
        rt.runq_tail->next = t;
    else
        rt.runq_head = t;
    rt.runq_tail = t;
}

static np_task *runq_pop_locked(void)
{
    np_task *t = rt.runq_head;
    if (t) {
        rt.runq_head = t->next;
        if (!rt.runq_head)
            rt.runq_tail = NULL;
    }
    return t;
}

/* After queueing n tasks: wake idle workers for them, or break the poller
 * when every other worker sleeps inside it. Returns whether to break (the
 * caller calls brk after dropping rt.lock). */
static bool wake_for_locked(unsigned n)
{
    unsigned woken = 0;
    while (woken < n && (int)woken < rt.idle_waiters) {
        pthread_cond_signal(&rt.idle_cond);
        woken++;
    }
    if (woken == 0 && rt.polling && !rt.break_sent) {
        rt.break_sent = true;
        return true;
    }
    return false;
}

static void send_break(void)
{
    atomic_fetch_add(&rt.breaks, 1);
    rt.be->brk();
}

static void make_runnable(np_task *t)
{
    int expect = NP_T_PARKED;
    if (!atomic_compare_exchange_strong(&t->state, &expect, NP_T_RUNNABLE))
        np__fatal("np_ready: task %p is not parked (state %d): a second wake-up for one park",
                  (void *)t, expect);
}

void np_ready(np_task *t)
{
    if (!t)
        np__fatal("np_ready: NULL task");
    make_runnable(t);
    /* From a running task, with no idle worker to hand it to: run it next
     * on this worker (a relaxed read of nidle: a stale answer only means the
     * task waits until the current one parks, as Go's runnext does). */
    np_worker *w = current_worker();
    if (w && w->cur && atomic_load_explicit(&rt.nidle, memory_order_relaxed) == 0) {
        np_task *old = w->runnext;
        w->runnext = t;
        if (!old)
            return;
        t = old; /* the displaced one goes to the run queue */
    }
    pthread_mutex_lock(&rt.lock);
    runq_push_locked(t);
    bool brk = wake_for_locked(1);
    pthread_mutex_unlock(&rt.lock);
    if (brk)
        send_break();
}

void np__ready_list(np_task_list *l)
{
    if (!l->n)
        return;
    for (np_task *t = l->head; t; t = t->next)
        make_runnable(t);
    pthread_mutex_lock(&rt.lock);
    if (rt.runq_tail)
        rt.runq_tail->next = l->head;
    else
        rt.runq_head = l->head;
    rt.runq_tail = l->tail;
    bool brk = wake_for_locked(l->n);
    pthread_mutex_unlock(&rt.lock);
    if (brk)
        send_break();
    l->head = l->tail = NULL;
    l->n = 0;
}

/* ---- timers -------------------------------------------------------------- */

/* Called with tlock held whenever the heap's top may have changed. Relaxed:
 * a reader that sees a stale value only looks at the heap one scheduling
 * round late, and the poller's delay is computed under tlock anyway. */
static void publish_timer_next(void)
{
    np_timer *top = np__timer_heap_top(&rt.timers);
    atomic_store_explicit(&rt.timer_next, top ? top->when : INT64_MAX, memory_order_relaxed);
}

void np__timer_set(np_timer *t, int64_t when, np_timer_fn fn, void *arg, uintptr_t seq)
{
    np__spin_lock(&rt.tlock);
    t->fn = fn;
    t->arg = arg;
    t->seq = seq;
    if (np__timer_heap_modify(&rt.timers, t, when) != 0)
        np__fatal("out of memory growing the timer heap (%u timers)", rt.timers.len);
    publish_timer_next();
    bool brk = rt.poll_until != 0 && when < rt.poll_until;
    if (brk)
        rt.poll_until = when; /* one break per earlier timer is enough */
    np__spin_unlock(&rt.tlock);
    if (brk)
        send_break();
}

bool np__timer_del(np_timer *t)
{
    np__spin_lock(&rt.tlock);
    bool was = np__timer_heap_del(&rt.timers, t);
    publish_timer_next();
    np__spin_unlock(&rt.tlock);
    return was;
}

/* Fires every timer due now, each with no lock held. */
static void run_timers(void)
{
    int64_t next = atomic_load_explicit(&rt.timer_next, memory_order_relaxed);
    if (next == INT64_MAX)
        return; /* no timers: no clock read, no lock */
    int64_t now = np_now();
    if (next > now)
        return;
    for (;;) {
        np__spin_lock(&rt.tlock);
        np_timer *t = np__timer_heap_top(&rt.timers);
        if (!t || t->when > now) {
            np__spin_unlock(&rt.tlock);
            return;
        }
        np__timer_heap_pop(&rt.timers);
        publish_timer_next();
        np_timer_fn fn = t->fn;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        np__spin_unlock(&rt.tlock);
        fn(arg, seq);
    }
}

/* The poll delay: time to the next timer, or -1 for none. Publishes the
 * poller's wake-up time so an earlier timer breaks it. */
static int64_t poll_delay(void)
{
    int64_t delay;
    np__spin_lock(&rt.tlock);
    np_timer *t = np__timer_heap_top(&rt.timers);
    if (!t) {
        delay = -1;
        rt.poll_until = INT64_MAX;
    } else {
        int64_t now = np_now();
        delay = t->when > now ? t->when - now : 0;
        rt.poll_until = t->when > 0 ? t->when : 1;
    }
    np__spin_unlock(&rt.tlock);
    return delay;
}

/* ---- tasks --------------------------------------------------------------- */

static _Noreturn void task_entry(void *p)
{
    np_task *t = p;
    t->fn(t->arg);
    np_worker *w = current_worker();
    w->why = SW_EXIT;
    np__ctx_exit(&t->ctx, &w->g0);
}

int np_go(void (*fn)(void *), void *arg)
{
    if (!fn)
        return -EINVAL;
    pthread_mutex_lock(&rt.lock);
    size_t stack = rt.running ? rt.stack_size : NP_DEFAULT_STACK;
    pthread_mutex_unlock(&rt.lock);
    np_task *t = np__task_new(fn, arg, stack, task_entry);
    if (!t)
        return -ENOMEM;
    pthread_mutex_lock(&rt.lock);
    if (!rt.running || rt.stopping) {
        pthread_mutex_unlock(&rt.lock);
        np__task_free(t);
        return -ESRCH;
    }
    t->all_next = rt.tasks;
    if (rt.tasks)
        rt.tasks->all_prev = t;
    rt.tasks = t;
    runq_push_locked(t);
    bool brk = wake_for_locked(1);
    pthread_mutex_unlock(&rt.lock);
    if (brk)
        send_break();
    return 0;
}

static np_worker *must_be_task(const char *what)
{
    np_worker *w = current_worker();
    if (!w || !w->cur)
        np__fatal("%s called outside a task", what);
    return w;
}

void np_park(np_commit_fn commit, void *arg)
{
    np_worker *w = must_be_task("np_park");
    np_task *t = w->cur;
    t->commit = commit;
    t->commit_arg = arg;
    w->why = SW_PARK;
    np__ctx_switch(&t->ctx, &w->g0);
}

void np_yield(void)
{
    np_worker *w = must_be_task("np_yield");
    np_task *t = w->cur;
    w->why = SW_YIELD;
    np__ctx_switch(&t->ctx, &w->g0);
}

/* Runs t until it parks, yields or ends. */
static void run_task(np_worker *w, np_task *t)
{
    for (;;) {
        w->cur = t;
        /* Relaxed: only np_ready's CAS from PARKED races with this store, and
         * it exists only to catch a misuse; the task itself was handed over
         * through the run-queue lock or the runnext slot of this worker. */
        atomic_store_explicit(&t->state, NP_T_RUNNING, memory_order_relaxed);
        np__ctx_switch(&w->g0, &t->ctx);
        w->cur = NULL;
        switch (w->why) {
        case SW_YIELD:
            atomic_store_explicit(&t->state, NP_T_RUNNABLE, memory_order_relaxed);
            pthread_mutex_lock(&rt.lock);
            runq_push_locked(t);
            pthread_mutex_unlock(&rt.lock);
            return;
        case SW_EXIT:
            atomic_store(&t->state, NP_T_DONE);
            pthread_mutex_lock(&rt.lock);
            if (t->all_prev)
                t->all_prev->all_next = t->all_next;
            else
                rt.tasks = t->all_next;
            if (t->all_next)
                t->all_next->all_prev = t->all_prev;
            pthread_mutex_unlock(&rt.lock);
            np__task_free(t);
            return;
        case SW_PARK:
            /* PARKED before the commit: once the commit publishes t, a
             * waker may ready it (and another worker run it) at once, so t
             * must not be touched after a successful commit. */
            t->parks++;
            /* Release: a waker that obtains t from what the commit publishes
             * (itself a release or stronger) must see PARKED. */
            atomic_store_explicit(&t->state, NP_T_PARKED, memory_order_release);
            if (!t->commit || t->commit(t, t->commit_arg))
                return;
            t->parks--;
            continue; /* the commit declined: resume the task at once */
        default:
            np__fatal("worker: task switched back for unknown reason %d", w->why);
        }
    }
}

/* ---- workers ------------------------------------------------------------- */

static void poll_and_inject(int64_t delay)
{
    np_task_list l = {0};
    atomic_fetch_add(&rt.polls, 1);
    if (delay != 0)
        atomic_fetch_add(&rt.blocking_polls, 1);
    np__netpoll(delay, &l);
    np__ready_list(&l);
}

static void *worker_main(void *p)
{
    np_worker *w = p;
    tls_worker = w;
    np__ctx_init_thread(&w->g0);
    /* Linux delays a thread's timed waits by its timer slack, 50 us by
     * default: that would be added to every deadline. 1 ns: as asked. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    for (;;) {
        run_timers();
        np_task *next = w->runnext;
        if (next) {
            w->runnext = NULL;
            if (++w->tick % NP_POLL_EVERY != 0) {
                run_task(w, next);
                continue;
            }
            /* Now and then the queue goes first, so a pair of tasks handing
             * the worker back and forth cannot starve everyone else. */
            pthread_mutex_lock(&rt.lock);
            runq_push_locked(next);
            pthread_mutex_unlock(&rt.lock);
        }
        pthread_mutex_lock(&rt.lock);
        if (rt.stopping) {
            pthread_mutex_unlock(&rt.lock);
            break;
        }
        np_task *t = runq_pop_locked();
        if (t) {
            bool look = ++w->tick % NP_POLL_EVERY == 0 && !rt.polling;
            if (look)
                rt.polling = true;
            pthread_mutex_unlock(&rt.lock);
            if (look) { /* a non-blocking look at the poller */
                poll_and_inject(0);
                pthread_mutex_lock(&rt.lock);
                rt.polling = false;
                pthread_mutex_unlock(&rt.lock);
            }
            run_task(w, t);
            continue;
        }
        if (rt.polling) { /* another worker polls: sleep until needed */
            rt.idle_waiters++;
            atomic_fetch_add_explicit(&rt.nidle, 1, memory_order_relaxed);
            pthread_cond_wait(&rt.idle_cond, &rt.lock);
            atomic_fetch_sub_explicit(&rt.nidle, 1, memory_order_relaxed);
            rt.idle_waiters--;
            pthread_mutex_unlock(&rt.lock);
            continue;
        }
        rt.polling = true;
        rt.break_sent = false;
        atomic_fetch_add_explicit(&rt.nidle, 1, memory_order_relaxed);
        pthread_mutex_unlock(&rt.lock);

        int64_t delay = poll_delay();
        np_task_list l = {0};
        atomic_fetch_add(&rt.polls, 1);
        if (delay != 0)
            atomic_fetch_add(&rt.blocking_polls, 1);
        np__netpoll(delay, &l);
        np__spin_lock(&rt.tlock);
        rt.poll_until = 0;
        np__spin_unlock(&rt.tlock);

        pthread_mutex_lock(&rt.lock);
        rt.polling = false;
        atomic_fetch_sub_explicit(&rt.nidle, 1, memory_order_relaxed);
        pthread_mutex_unlock(&rt.lock);
        /* np__ready_list wakes idle workers for the tasks; one of them
         * becomes the next poller while this one runs a task. */
        np__ready_list(&l);
    }
    np__ctx_destroy(&w->g0);
    tls_worker = NULL;
    return NULL;
}

static int ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int np_runtime_start(const np_config *cfg)
{
    np_config c = cfg ? *cfg : (np_config){0};
    if (c.workers < 0 || c.workers > 1024)
        return -EINVAL;
#if NP_SIM
    if (!c.backend)
        c.backend = &np_backend_sim;
#else
    if (!c.backend)
        c.backend = &np_backend_epoll;
#endif
    if (!c.design)
        c.design = &np_design_go1_21;
    if (!c.workers)
        c.workers = c.backend->max_workers ? c.backend->max_workers : ncpus();
    if (c.backend->max_workers && c.workers > c.backend->max_workers)
        return -EINVAL;
#if NP_SIM
    /* The sim build runs every simulated thread on one OS thread. */
    if (c.workers != 1 || strcmp(c.backend->name, "sim") != 0)
        return -EINVAL;
#endif
    if (c.stack_size == 0)
        c.stack_size = NP_DEFAULT_STACK;
    if (c.stack_size < 16 * 1024 || c.stack_size > ((size_t)1 << 30))
        return -EINVAL;

    pthread_mutex_lock(&rt.lock);
    if (rt.running) {
        pthread_mutex_unlock(&rt.lock);
        return -EBUSY;
    }
    int err = c.backend->init();
    if (err) {
        pthread_mutex_unlock(&rt.lock);
        return err;
    }
    rt.workers = calloc((size_t)c.workers, sizeof *rt.workers);
    if (!rt.workers) {
        c.backend->fini();
        pthread_mutex_unlock(&rt.lock);
        return -ENOMEM;
    }
    np__timer_heap_init(&rt.timers);
    rt.be = c.backend;
    np__design = c.design;
    rt.stack_size = c.stack_size;
    rt.nworkers = c.workers;
    rt.stopping = false;
    rt.polling = false;
    rt.idle_waiters = 0;
    rt.poll_until = 0;
    atomic_store(&rt.nidle, 0);
    atomic_store(&rt.timer_next, INT64_MAX);
    rt.running = true;
    pthread_mutex_unlock(&rt.lock);

    for (int i = 0; i < c.workers; i++) {
        err = pthread_create(&rt.workers[i].thread, NULL, worker_main, &rt.workers[i]);
        if (err) {
            pthread_mutex_lock(&rt.lock);
            rt.stopping = true;
            pthread_cond_broadcast(&rt.idle_cond);
            pthread_mutex_unlock(&rt.lock);
            rt.be->brk();
            for (int j = 0; j < i; j++)
                pthread_join(rt.workers[j].thread, NULL);
            rt.nworkers = 0;
            np_runtime_stop();
            return -err;
        }
    }
    return 0;
}

int np_runtime_stop(void)
{
    if (current_worker())
        np__fatal("np_runtime_stop called from a worker");
    pthread_mutex_lock(&rt.lock);
    if (!rt.running) {
        pthread_mutex_unlock(&rt.lock);
        return -ESRCH;
    }
    rt.stopping = true;
    pthread_cond_broadcast(&rt.idle_cond);
    pthread_mutex_unlock(&rt.lock);
    /* The poller may be blocked: break it until every worker is gone. */
    for (int i = 0; i < rt.nworkers; i++) {
        rt.be->brk();
        pthread_join(rt.workers[i].thread, NULL);
    }
    pthread_mutex_lock(&rt.lock);
    while (rt.tasks) {
        np_task *t = rt.tasks;
        rt.tasks = t->all_next;
        np__task_free(t);
    }
    rt.runq_head = rt.runq_tail = NULL;
    free(rt.workers);
    rt.workers = NULL;
    rt.nworkers = 0;
    np__spin_lock(&rt.tlock);
    np__timer_heap_free(&rt.timers);
    rt.poll_until = 0;
    atomic_store(&rt.timer_next, INT64_MAX);
    np__spin_unlock(&rt.tlock);
    rt.be->fini();
    rt.be = NULL;
    rt.running = false;
    pthread_mutex_unlock(&rt.lock);
    np__stack_pool_drain();
    return 0;
}

typedef struct {
    void (*fn)(void *);
    void *arg;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
} main_arg;

static void main_task(void *p)
{
    main_arg *ma = p;
    ma->fn(ma->arg);
    pthread_mutex_lock(&ma->m);
    ma->done = true;
    pthread_cond_signal(&ma->c);
    pthread_mutex_unlock(&ma->m);
}

int np_main(const np_config *cfg, void (*fn)(void *), void *arg)
{
    if (!fn)
        return -EINVAL;
    int err = np_runtime_start(cfg);
    if (err)
        return err;
    main_arg ma = {fn, arg, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    err = np_go(main_task, &ma);
    if (err == 0) {
        pthread_mutex_lock(&ma.m);
        while (!ma.done)
            pthread_cond_wait(&ma.c, &ma.m);
        pthread_mutex_unlock(&ma.m);
    }
    np_runtime_stop();
    return err;
}
