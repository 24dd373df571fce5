/* core/scheduler.c - the runtime: worker threads, run queues, timers, park/ready.
 *
 * Shape (Go's schedule/findRunnable, without preemption and with a fixed set
 * of workers, each owning its P):
 *
 *   worker loop:  fire due timers -> runnext -> the local run queue -> the
 *                 global queue -> steal half of another worker's queue
 *                 -> if none: if no other worker polls, block in the
 *                    backend's poll(delay to the next timer) and queue the
 *                    tasks its events woke on the local queue; else sleep
 *                    on the worker's own semaphore.
 *
 * Queues. Each worker has a bounded lock-free ring (Go: p.runq; only the
 * owner pushes, the owner and thieves pop with a CAS on head) and a runnext
 * slot that only the owner touches (Go: p.runnext, never stolen here). The
 * global queue, under rt.lock, takes a full ring's overflow (half of it),
 * tasks made runnable by threads that are not workers, and yielded tasks.
 * Every NP_POLL_EVERY ticks a worker serves the global queue and looks at the
 * poller first, so neither is starved by a busy local queue.
 *
 * Waking (wakep): after queueing a task where another worker could take it,
 * pop one sleeping worker and post its semaphore; if none sleeps, break the
 * poller (at most one break per poll). A poller that returns with n tasks
 * wakes up to n - 1 sleepers to steal them. A worker that runs out of work
 * while another holds the poller role first looks at the poller without
 * blocking (the poller may have events in hand but no CPU). So an idle
 * runtime has one thread in epoll_wait and the others asleep: no CPU is
 * burned, and rt.lock is taken only on the way to sleep, to wake a sleeper,
 * and for the global queue, never to run a task from a local queue.
 *
 * No lost wake-ups: a waker stores the task (a seq_cst store of the ring's
 * tail, or the global queue's count) and then reads nsleep and polling
 * (seq_cst); a worker going to sleep publishes itself in nsleep (seq_cst,
 * under rt.lock) and then re-reads every queue and `polling`, and the one
 * about to block in the poller stores `polling` and then re-reads every
 * queue. By the single total order of seq_cst operations, one side of each
 * pair sees the other: either the waker finds the sleeper or poller, or the
 * sleeper or poller finds the task (then it does not sleep).
 *
 * Locks: rt.lock guards the global queue, the sleeper list and role changes
 * (becoming the poller, going to sleep); rt.tasks_lock the list of live
 * tasks; rt.tlock the timer heap and poll_until. None is held while a task,
 * a timer function or the backend poll runs. Order: a pollDesc lock may be
 * held when any is taken; tasks_lock before rt.lock.
 */
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_registry.h"
#include "fatal.h"
#include "netpoll/runtime.h"
#include "seam.h"
#include "spinlock.h"
#include "stack_pool.h"

/* Default usable stack. Tasks cannot grow their stacks as goroutines do, and
 * untouched pages cost nothing (MAP_NORESERVE); but every stack's top page
 * lies in its own 4 KiB page-table page's share of 2 MiB, so the distance
 * between stacks is memory per idle task (0.52 KiB at 256 KiB, 0.26 at 128).
 * 128 KiB: musl's default thread stack since 1.1.21 (Alpine 3.11), room
 * for ordinary C (the deepest task of the whole test suite reaches 20 KiB
 * once the CLI's echo client keeps its 128 KiB of buffers off its stack);
 * a task that runs off the end faults in the guard page and is reported
 * (stack_report below). */
#define NP_DEFAULT_STACK (128 * 1024)
/* A worker that keeps finding work still looks at the poller and the global
 * queue every this many tasks, so I/O readiness and tasks queued from
 * outside are not starved by a busy local queue (Go: every 61 ticks). The
 * machine build looks every 5 rounds, so that its short programs reach this
 * path (the same code; only how often it runs differs). */
#if NP_MACHINE
#define NP_POLL_EVERY 5
#else
#define NP_POLL_EVERY 61
#endif
/* The periodic look is skipped while the ring is more than half full (the up
 * to 128 tasks a look readies would overflow it, and the overflow sends the
 * ring's oldest half behind newer tasks: at 1,000 connections on one worker
 * that made p99 2.4 x Go's; skipping, 0.84 x, bench/RESULTS.md "Workloads"),
 * at most this many periods in a row, so a busy worker still looks at the
 * poller at least every 5 x NP_POLL_EVERY ticks (Go polls from findRunnable
 * only when the P has no work, and from sysmon every 10 ms). */
#define NP_POLL_SKIP_MAX 4
/* Slots of a worker's local run queue (Go: len(p.runq)). A power of two. */
#define NP_RUNQ_SIZE 256u

enum { SW_PARK, SW_YIELD, SW_EXIT }; /* why a task switched back to its worker */

typedef struct np_worker {
    np_ctx g0;        /* the worker thread's own stack: the scheduler runs here */
    np_task *cur;     /* the task running on this worker, or NULL */
    np_task *runnext; /* a task readied by this worker's running task while no
                         worker was idle: it runs next, before the local queue
                         (Go: p.runnext). Only this worker touches it. */
    int why;          /* SW_*: set by the task just before switching to g0 */
    unsigned tick;    /* scheduling rounds, for NP_POLL_EVERY */
    unsigned skipped; /* periodic poller looks skipped in a row (NP_POLL_SKIP_MAX) */
    unsigned rnd;     /* xorshift state: where stealing starts */
    bool asleep;      /* in rt.sleepers (under rt.lock) */
    np__ossem sem;    /* a sleeping worker waits here; whoever pops it from
                         rt.sleepers posts it once */
    np__osthread thread;
    /* The local run queue: a ring of NP_RUNQ_SIZE slots holding the tasks in
     * [head, tail) (indices wrap; their difference is the length). Only the
     * owner stores tail; the owner and thieves advance head with a CAS, and a
     * thief's copy of the slots counts only if its CAS succeeds (Go:
     * runqget/runqgrab). On its own cache lines: thieves read it. */
    alignas(64) _Atomic uint32_t head;
    _Atomic uint32_t tail;
    _Atomic(np_task *) ring[NP_RUNQ_SIZE];
} np_worker;

/* The machine explorer's state cache (backend_sim/machine/mach.c,
 * "histories") hashes how the runtime's memory came about, not its fields:
 * sound for a field only if no two simulated threads touch it without a
 * seam operation between them. Each field of the structs below (and of
 * np__fd_mutex, np__sema) says how it is covered; tests/check_state_fields.sh
 * fails on a field not listed:
 *   SEAM(f)       an atomic used through NP_RT_*, a lock (NP_LOCK), a thread
 *                 semaphore (NP_OSSEM_*): an object with a version of its own
 *   GUARDED(f, l) plain, read and written only under the lock l
 *   OWNED(f)      plain, touched only by its worker's own thread
 *   CONST(f)      written before the workers start or after they stopped
 *   NOT_STATE(f)  statistics: read by no decision of the runtime
 * (Comments and macros only: nothing of this is compiled into code.) */
#define NP_WORKER_STATE_FIELDS(SEAM, GUARDED, OWNED, CONST, NOT_STATE)                             \
    OWNED(g0)      /* its own context: switched to and from on its thread */                       \
    OWNED(cur)     /* (the explorer reads it: np__sched_running) */                                \
    OWNED(runnext) /* "only this worker touches it" */                                             \
    OWNED(why)                                                                                     \
    OWNED(tick)                                                                                    \
    OWNED(skipped)                                                                                 \
    OWNED(rnd)                                                                                     \
    GUARDED(asleep, lock) /* rt.lock */                                                            \
    SEAM(sem)                                                                                      \
    CONST(thread) /* set at its start, read at its join */                                         \
    SEAM(head)                                                                                     \
    SEAM(tail) /* stored through the seam; its owner's relaxed loads read its own stores */        \
    SEAM(ring) /* each slot (slot_get/slot_set) */

static struct {
    np__mutex lock;          /* guards the fields down to `stopping` */
    np_task *gq_head;        /* the global queue: FIFO of runnable tasks */
    np_task *gq_tail;        /* ... */
    _Atomic unsigned gq_n;   /* its length: written under the lock, read
                                without it to skip an empty queue */
    np_worker **sleepers;    /* workers asleep on their semaphores (a stack) */
    int nsleepers;           /* how many */
    _Atomic int nsleep;      /* = nsleepers, readable without the lock */
    _Atomic bool polling;    /* a worker is (about to be) inside the backend's
                                poll; set under the lock by a worker going idle,
                                or by CAS for a non-blocking look */
    _Atomic bool break_sent; /* a break was sent to that poll already */
    _Atomic bool stopping;   /* np_runtime_stop was called */

    np__mutex tasks_lock; /* guards `tasks`, `running`, and makes np_go's
                             check of `stopping` and its queueing one step */
    np_task *tasks;       /* every live task (all_next list) */
    bool empty_wanted;    /* np_main_wait waits for `tasks` to empty (under tasks_lock) */
    np__ossem empty;      /* ... posted once by the exit that empties it */

    np__spinlock tlock;         /* guards the timer heap and poll_until */
    np_timer_heap timers;       /* deadline and sleep timers */
    int64_t poll_until;         /* when the blocked poller wakes by itself:
                                   0 = nobody is blocked, INT64_MAX = never */
    _Atomic int64_t timer_next; /* `when` of the heap's top (INT64_MAX: empty),
                                   written under tlock, read without it */

    bool running; /* between start and stop (under tasks_lock) */
    int nworkers; /* the workers array's length */
    int nthreads; /* worker threads started and not joined yet */
    np_worker *workers;
    const np_backend *be;
    size_t stack_size;
    _Atomic uint64_t polls, blocking_polls, breaks;
    int64_t spin_ns; /* idle spin before a blocking poll (see spin_in_poller) */
    int spin_mode;   /* NP_SPIN_PAUSE, _YIELD or _YIELD_STOP (see spin_in_poller) */
} rt = {
    .lock = NP_MUTEX_STATIC_INIT,
    .tasks_lock = NP_MUTEX_STATIC_INIT,
    .tlock = NP_SPINLOCK_INIT,
};

/* rt's fields, as NP_WORKER_STATE_FIELDS says. */
#define NP_RT_STATE_FIELDS(SEAM, GUARDED, OWNED, CONST, NOT_STATE)                                 \
    SEAM(lock)                                                                                     \
    GUARDED(gq_head, lock)                                                                         \
    GUARDED(gq_tail, lock)                                                                         \
    SEAM(gq_n)              /* stored under the lock through the seam */                           \
    GUARDED(sleepers, lock) /* the array is CONST, its entries guarded */                          \
    GUARDED(nsleepers, lock)                                                                       \
    SEAM(nsleep)                                                                                   \
    SEAM(polling)                                                                                  \
    SEAM(break_sent)                                                                               \
    SEAM(stopping)                                                                                 \
    SEAM(tasks_lock)                                                                               \
    GUARDED(tasks, tasks_lock)                                                                     \
    GUARDED(empty_wanted, tasks_lock)                                                              \
    SEAM(empty)                                                                                    \
    SEAM(tlock) /* a spinlock: a simulated lock in the machine build */                            \
    GUARDED(timers, tlock)                                                                         \
    GUARDED(poll_until, tlock)                                                                     \
    SEAM(timer_next)                                                                               \
    GUARDED(running, tasks_lock)                                                                   \
    CONST(nworkers)                                                                                \
    CONST(nthreads)                                                                                \
    CONST(workers)                                                                                 \
    CONST(be)                                                                                      \
    CONST(stack_size)                                                                              \
    NOT_STATE(polls) /* counted without a seam: np_runtime_stats only */                           \
    NOT_STATE(blocking_polls)                                                                      \
    NOT_STATE(breaks)                                                                              \
    CONST(spin_ns)                                                                                 \
    CONST(spin_mode)

const np_design *np__design = &np_design_go1_21;
_Atomic uint64_t np__stale_events;

/* The worker of the calling thread. Never inlined: after a context switch a
 * task may be running on another thread, and the thread-local's address must
 * be computed anew, not reused from before the switch. */
/* initial-exec: no __tls_get_addr call per access (libnetpoll is linked at
 * program start, not dlopen'ed late; glibc reserves room for that anyway). */
#if NP_MACHINE
/* The machine build: each simulated thread has its own slot (core/seam.h). */
static np_worker *current_worker(void)
{
    return *np__m_tls();
}
static void set_current_worker(np_worker *w)
{
    *np__m_tls() = w;
}
#else
static _Thread_local np_worker *tls_worker __attribute__((tls_model("initial-exec")));
static __attribute__((noinline)) np_worker *current_worker(void)
{
    np_worker **p = &tls_worker;
    __asm__ volatile("" : "+r"(p));
    return *p;
}
static void set_current_worker(np_worker *w)
{
    tls_worker = w;
}
#endif

#if !NP_MACHINE
/* ---- a task's stack overflow, reported ---------------------------------------

 * A task that runs off the end of its stack faults in the guard page below
 * it (stack_pool.c): SIGSEGV at an address in [stack - page, stack). Left
 * alone that is a bare "Segmentation fault", and the cure (a bigger
 * np_config.stack_size) is not obvious to someone who knows threads with 8
 * MiB stacks. So the runtime takes SIGSEGV and SIGBUS - only if their
 * handling is the default when it starts (a program's or a sanitizer's own
 * handler is left in place) - on an alternate stack per worker, says what
 * happened when the fault is in the running task's guard page, and in
 * every case restores the default action and returns: the faulting
 * instruction runs again and the process ends with the signal (and a core
 * dump) as before. Async-signal-safe: a thread-local read, arithmetic and
 * write(2). */
static _Atomic bool stack_report_on;
static size_t stack_report_page;
enum { NP_ALTSTACK = 64 * 1024 };

static char *put_dec(char *p, uintmax_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* The interrupted stack pointer, or 0. */
static uintptr_t fault_sp(void *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

/* An overflow: the fault is in the guard page, or the stack pointer is below
 * the stack (a frame bigger than the guard page may fault past it). The
 * window below the stack is bounded, so that a fault on a worker's own
 * stack while cur is set (around a switch) is not taken for one. */
#define NP_OVERFLOW_WINDOW (64 * 1024)
static void stack_fault(int sig, siginfo_t *si, void *uc)
{
    np_worker *w = tls_worker;
    np_task *t = w ? w->cur : NULL;
    uintptr_t a = (uintptr_t)si->si_addr, sp = fault_sp(uc);
    uintptr_t lo = t ? (uintptr_t)t->stack : 0;
    if (t &&
        ((a < lo && a >= lo - stack_report_page) || (sp < lo && sp >= lo - NP_OVERFLOW_WINDOW))) {
        char msg[320], *p = msg;
        p = put_str(p, "netpoll: a task overflowed its stack (");
        p = put_dec(p, rt.stack_size);
        p = put_str(p, " bytes, np_config.stack_size; default ");
        p = put_dec(p, NP_DEFAULT_STACK);
        p = put_str(p, "): give tasks a bigger stack, or keep large buffers off task stacks\n");
        ssize_t r = write(2, msg, (size_t)(p - msg));
        (void)r;
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
}

/* Is sa the default action, or already this handler? */
static bool stack_report_free(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction == stack_fault;
    return sa->sa_handler == SIG_DFL;
}

/* np_runtime_start: takes the signals if nobody else has (asked each time:
 * the program may have set or reset a handler since the last start). */
static void stack_report_install(void)
{
    struct sigaction old_segv, old_bus;
    bool free_ = sigaction(SIGSEGV, NULL, &old_segv) == 0 &&
                 sigaction(SIGBUS, NULL, &old_bus) == 0 && stack_report_free(&old_segv) &&
                 stack_report_free(&old_bus);
    if (free_) {
        stack_report_page = (size_t)sysconf(_SC_PAGESIZE);
        struct sigaction sa = {.sa_sigaction = stack_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK};
        sigemptyset(&sa.sa_mask);
        free_ = sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGBUS, &sa, NULL) == 0;
    }
    atomic_store(&stack_report_on, free_);
}

/* worker_main: the alternate stack the report runs on (the task's own is
 * used up). Only where the thread has none; returns what to unmap at exit. */
static void *altstack_begin(void)
{
    stack_t cur;
    if (!atomic_load(&stack_report_on) || sigaltstack(NULL, &cur) != 0 ||
        !(cur.ss_flags & SS_DISABLE))
        return NULL;
    void *p = mmap(NULL, NP_ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    stack_t ss = {.ss_sp = p, .ss_size = NP_ALTSTACK};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, NP_ALTSTACK);
        return NULL;
    }
    return p;
}

static void altstack_end(void *p)
{
    if (!p)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(p, NP_ALTSTACK);
}
#else
static void stack_report_install(void) {}
static void *altstack_begin(void)
{
    return NULL;
}
static void altstack_end(void *p)
{
    (void)p;
}
#endif

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

/* ---- the global queue ------------------------------------------------------ */

/* Appends the chain first..last (n tasks, linked through next). */
static void gq_put_locked(np_task *first, np_task *last, unsigned n)
{
    last->next = NULL;
    if (rt.gq_tail)
        rt.gq_tail->next = first;
    else
        rt.gq_head = first;
    rt.gq_tail = last;
    NP_RT_STORE(&rt.gq_n, atomic_load_explicit(&rt.gq_n, memory_order_relaxed) + n);
}

static void gq_put(np_task *t)
{
    NP_LOCK(&rt.lock);
    gq_put_locked(t, t, 1);
    NP_UNLOCK(&rt.lock);
}

static np_task *gq_pop_locked(void)
{
    np_task *t = rt.gq_head;
    if (t) {
        rt.gq_head = t->next;
        if (!rt.gq_head)
            rt.gq_tail = NULL;
        NP_RT_STORE(&rt.gq_n, atomic_load_explicit(&rt.gq_n, memory_order_relaxed) - 1);
    }
    return t;
}

/* ---- local run queues ------------------------------------------------------- */

/* Slots are relaxed: a slot is written before the seq_cst store of tail that
 * publishes it and read after a seq_cst load of tail that covers it, so the
 * reader sees that write or a later one; a later one means the owner reused
 * the slot after head moved past it, and the reader's CAS on head then fails
 * and its copy is discarded (Go's runq argument). */
static np_task *slot_get(np_worker *w, uint32_t i)
{
    return NP_RT_LOADX(&w->ring[i % NP_RUNQ_SIZE], memory_order_relaxed);
}
static void slot_set(np_worker *w, uint32_t i, np_task *t)
{
    NP_RT_STOREX(&w->ring[i % NP_RUNQ_SIZE], t, memory_order_relaxed);
}

/* The ring is full: move half of it and t to the global queue in one batch.
 * False if a thief moved head meanwhile (then there is room: retry). */
static bool runq_put_slow(np_worker *w, np_task *t, uint32_t h, uint32_t tl)
{
    np_task *batch[NP_RUNQ_SIZE / 2 + 1];
    uint32_t n = (tl - h) / 2;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = slot_get(w, h + i);
    if (!NP_RT_CAS(&w->head, &h, h + n))
        return false;
    batch[n] = t;
    for (uint32_t i = 0; i < n; i++)
        batch[i]->next = batch[i + 1];
    NP_LOCK(&rt.lock);
    gq_put_locked(batch[0], batch[n], n + 1);
    NP_UNLOCK(&rt.lock);
    return true;
}

/* Queues t at the tail of w's ring (or, when full, half of it and t on the
 * global queue). Only w's own thread calls this. */
static void runq_put(np_worker *w, np_task *t)
{
    for (;;) {
        uint32_t h = NP_RT_LOAD(&w->head);
        /* Relaxed: only this thread stores tail. */
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        if (tl - h < NP_RUNQ_SIZE) {
            slot_set(w, tl, t);
            NP_RT_STORE(&w->tail, tl + 1);
            return;
        }
        if (runq_put_slow(w, t, h, tl))
            return;
    }
}

/* The task at the head of w's own ring, or NULL. Only w's thread. */
static np_task *runq_get(np_worker *w)
{
    for (;;) {
        uint32_t h = NP_RT_LOAD(&w->head);
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed); /* ours */
        if (h == tl)
            return NULL;
        np_task *t = slot_get(w, h);
        if (NP_RT_CAS(&w->head, &h, h + 1))
            return t;
    }
}

static bool runq_empty(np_worker *w)
{
    uint32_t h = NP_RT_LOAD(&w->head);
    return NP_RT_LOAD(&w->tail) == h;
}

/* Steals half (rounded up) of victim's ring into thief's ring, whose own
 * ring is empty; returns one of the stolen tasks to run, or NULL. */
static np_task *runq_steal(np_worker *thief, np_worker *victim)
{
    uint32_t at = atomic_load_explicit(&thief->tail, memory_order_relaxed); /* ours */
    uint32_t n;
    for (;;) {
        uint32_t h = NP_RT_LOAD(&victim->head);
        uint32_t tl = NP_RT_LOAD(&victim->tail);
        n = tl - h;
        n -= n / 2;
        if (n == 0)
            return NULL;
        if (n > NP_RUNQ_SIZE / 2)
            continue; /* h and tl were read at different times: again */
        for (uint32_t i = 0; i < n; i++)
            slot_set(thief, at + i, slot_get(victim, h + i));
        if (NP_RT_CAS(&victim->head, &h, h + n))
            break;
    }
    n--;
    np_task *t = slot_get(thief, at + n);
    if (n)
        NP_RT_STORE(&thief->tail, at + n);
    return t;
}

/* Is there a task that an idle worker could take? */
static bool work_visible(void)
{
    if (NP_RT_LOAD(&rt.gq_n))
        return true;
    for (int i = 0; i < rt.nworkers; i++)
        if (!runq_empty(&rt.workers[i]))
            return true;
    return false;
}

/* ---- waking ----------------------------------------------------------------- */

static void send_break(void)
{
    atomic_fetch_add(&rt.breaks, 1);
    rt.be->brk();
}

/* Wakes one sleeping worker; false if none sleeps. */
static bool wake_sleeper(void)
{
    if (NP_RT_LOAD(&rt.nsleep) == 0)
        return false;
    np_worker *s = NULL;
    NP_LOCK(&rt.lock);
    if (rt.nsleepers > 0) {
        s = rt.sleepers[--rt.nsleepers];
        s->asleep = false;
        NP_RT_STORE(&rt.nsleep, rt.nsleepers);
    }
    NP_UNLOCK(&rt.lock);
    if (s)
        NP_OSSEM_POST(&s->sem);
    return s != NULL;
}

/* After queueing a task that another worker could run: wake a sleeping
 * worker for it or, if none sleeps, break a blocked poller (once per poll). */
static void wakep(void)
{
    if (wake_sleeper())
        return;
    if (NP_RT_LOAD(&rt.polling) && !NP_RT_XCHG(&rt.break_sent, true))
        send_break();
}

static void make_runnable(np_task *t)
{
    int expect = NP_T_PARKED;
    if (!NP_RT_CAS(&t->state, &expect, NP_T_RUNNABLE))
        np__fatal("np_ready: task %p is not parked (state %d): a second wake-up for one park",
                  (void *)t, expect);
}

/* Queues a runnable task from a worker (w) or from any other thread. */
static void enqueue(np_worker *w, np_task *t)
{
    if (w)
        runq_put(w, t);
    else
        gq_put(t);
    wakep();
}

void np_ready(np_task *t)
{
    if (!t)
        np__fatal("np_ready: NULL task");
    make_runnable(t);
    /* From a running task, with no idle worker to hand it to: run it next
     * on this worker (a relaxed read of nsleep and polling: a stale answer
     * only means the task waits until the current one parks, as Go's runnext
     * does, or a wake-up that finds nothing to steal). */
    np_worker *w = current_worker();
    if (w && w->cur && NP_RT_LOADX(&rt.nsleep, memory_order_relaxed) == 0 &&
        !NP_RT_LOADX(&rt.polling, memory_order_relaxed)) {
        np_task *old = w->runnext;
        w->runnext = t;
        if (!old)
            return;
        t = old; /* the displaced one goes to the local queue */
    }
    enqueue(w, t);
}

/* Makes the tasks of l (from a poll by w) runnable on w's queue and wakes a
 * sleeping worker for each but `keep` of them, as far as there are
 * sleepers: they steal them. */
static void ready_list(np_worker *w, np_task_list *l, unsigned keep)
{
    unsigned n = l->n;
    np_task *t = l->head;
    while (t) {
        np_task *next = t->next;
        make_runnable(t);
        runq_put(w, t);
        t = next;
    }
    l->head = l->tail = NULL;
    l->n = 0;
    for (unsigned i = keep; i < n && wake_sleeper(); i++)
        ;
}

void np__ready_list(np_task_list *l)
{
    np_worker *w = current_worker();
    if (w) {
        ready_list(w, l, 0);
        return;
    }
    np_task *t = l->head;
    while (t) {
        np_task *next = t->next;
        make_runnable(t);
        gq_put(t);
        wakep();
        t = next;
    }
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
    NP_RT_STOREX(&rt.timer_next, top ? top->when : INT64_MAX, memory_order_relaxed);
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
    int64_t next = NP_RT_LOADX(&rt.timer_next, memory_order_relaxed);
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
    NP_LOCK(&rt.tasks_lock);
    size_t stack = rt.running ? rt.stack_size : NP_DEFAULT_STACK;
    NP_UNLOCK(&rt.tasks_lock);
    np_task *t = np__task_new(fn, arg, stack, task_entry);
    if (!t)
        return -ENOMEM;
    NP_LOCK(&rt.tasks_lock);
    if (!rt.running || NP_RT_LOAD(&rt.stopping)) {
        NP_UNLOCK(&rt.tasks_lock);
        np__task_free(t);
        return -ESRCH;
    }
    t->all_next = rt.tasks;
    if (rt.tasks)
        rt.tasks->all_prev = t;
    rt.tasks = t;
    /* Queued under tasks_lock: np_runtime_stop sets `stopping` under it, so
     * a task is either queued before the workers stop or not created. */
    np_worker *w = current_worker();
    if (w)
        runq_put(w, t);
    else
        gq_put(t);
    wakep(); /* still under tasks_lock: the backend cannot be stopped meanwhile */
    NP_UNLOCK(&rt.tasks_lock);
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
         * through a run queue (seq_cst or locked) or the runnext slot of this
         * worker. */
        NP_RT_STOREX(&t->state, NP_T_RUNNING, memory_order_relaxed);
        np__ctx_switch(&w->g0, &t->ctx);
        w->cur = NULL;
        switch (w->why) {
        case SW_YIELD:
            /* To the global queue, as Go's Gosched: behind everything queued. */
            NP_RT_STOREX(&t->state, NP_T_RUNNABLE, memory_order_relaxed);
            gq_put(t);
            return;
        case SW_EXIT:
            NP_RT_STORE(&t->state, NP_T_DONE);
            NP_LOCK(&rt.tasks_lock);
            if (t->all_prev)
                t->all_prev->all_next = t->all_next;
            else
                rt.tasks = t->all_next;
            if (t->all_next)
                t->all_next->all_prev = t->all_prev;
            bool last = !rt.tasks && rt.empty_wanted;
            if (last)
                rt.empty_wanted = false;
            NP_UNLOCK(&rt.tasks_lock);
            np__task_free(t);
            if (last)
                NP_OSSEM_POST(&rt.empty);
            return;
        case SW_PARK:
            /* PARKED before the commit: once the commit publishes t, a
             * waker may ready it (and another worker run it) at once, so t
             * must not be touched after a successful commit. */
            t->parks++;
            /* Release: a waker that obtains t from what the commit publishes
             * (itself a release or stronger) must see PARKED. */
            NP_RT_STOREX(&t->state, NP_T_PARKED, memory_order_release);
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

static void count_poll(int64_t delay)
{
    atomic_fetch_add(&rt.polls, 1);
    if (delay != 0)
        atomic_fetch_add(&rt.blocking_polls, 1);
}

/* Every NP_POLL_EVERY ticks, from a busy worker: a non-blocking look at the
 * poller, unless another worker polls. */
static void poll_look(np_worker *w)
{
    bool idle = false;
    if (NP_RT_LOAD(&rt.polling) || !NP_RT_CAS(&rt.polling, &idle, true))
        return;
    np_task_list l = {0};
    count_poll(0);
    np__netpoll(0, &l);
    NP_RT_STORE(&rt.polling, false);
    ready_list(w, &l, 1);
}

/* Takes up to a fair share of the global queue: one task to run, the rest
 * onto w's ring (Go: globrunqget). */
static np_task *gq_get(np_worker *w)
{
    NP_LOCK(&rt.lock);
    unsigned n = atomic_load_explicit(&rt.gq_n, memory_order_relaxed);
    if (n == 0) {
        NP_UNLOCK(&rt.lock);
        return NULL;
    }
    n = n / (unsigned)rt.nworkers + 1;
    if (n > NP_RUNQ_SIZE / 2)
        n = NP_RUNQ_SIZE / 2;
    np_task *t = gq_pop_locked();
    np_task *more = NULL, *last = NULL;
    for (unsigned i = 1; i < n && rt.gq_head; i++) {
        np_task *m = gq_pop_locked();
        m->next = NULL;
        if (last)
            last->next = m;
        else
            more = m;
        last = m;
    }
    NP_UNLOCK(&rt.lock);
    while (more) {
        np_task *next = more->next;
        runq_put(w, more);
        more = next;
    }
    return t;
}

/* A task from another worker's ring, trying each once from a random start. */
static np_task *steal(np_worker *w)
{
    int n = rt.nworkers;
    if (n < 2)
        return NULL;
    w->rnd ^= w->rnd << 13;
    w->rnd ^= w->rnd >> 17;
    w->rnd ^= w->rnd << 5;
    int start = (int)(w->rnd % (unsigned)n);
    for (int i = 0; i < n; i++) {
        np_worker *v = &rt.workers[(start + i) % n];
        if (v == w)
            continue;
        np_task *t = runq_steal(w, v);
        if (t)
            return t;
    }
    return NULL;
}

/* The next task for w, or NULL: runnext, own ring, global queue, stealing. */
static np_task *find_task(np_worker *w)
{
    np_task *t = NULL;
    if (++w->tick % NP_POLL_EVERY == 0) {
        /* Now and then the runnext slot waits behind the ring, so a pair of
         * tasks handing the worker back and forth cannot starve the rest;
         * the global queue goes first; and the poller gets a look. */
        if (w->runnext) {
            runq_put(w, w->runnext);
            w->runnext = NULL;
        }
        if (NP_RT_LOAD(&rt.gq_n))
            t = gq_get(w);
        /* Relaxed: a heuristic; only this thread stores tail (head, which
         * thieves move, through the seam: the machine build's step) */
        uint32_t len = atomic_load_explicit(&w->tail, memory_order_relaxed) -
                       NP_RT_LOADX(&w->head, memory_order_relaxed);
        if (len <= NP_RUNQ_SIZE / 2 || ++w->skipped > NP_POLL_SKIP_MAX) {
            w->skipped = 0;
            poll_look(w);
        }
        if (t)
            return t;
    }
    t = w->runnext;
    if (t) {
        w->runnext = NULL;
        return t;
    }
    t = runq_get(w);
    if (!t && NP_RT_LOAD(&rt.gq_n))
        t = gq_get(w);
    if (!t)
        t = steal(w);
    return t;
}

/* ---- idle spin (issue 18, a prototype) ------------------------------------
 *
 * Before a worker blocks in the backend's poll it may look at the poller
 * without blocking, again and again, for up to rt.spin_ns (and never more
 * than NP_SPIN_MAX_LOOKS looks, whatever the clock says): a readiness that
 * arrives meanwhile is picked up without the thread having slept, so nobody
 * has to wake it (on a VM whose guest does not halt-poll, waking a halted
 * vCPU is an exit and an IPI: tens of µs). Tunable, read once at start:
 *   NETPOLL_IDLE_SPIN_US     0 (off) .. 1000; default NP_SPIN_DEFAULT_US
 *   NETPOLL_IDLE_SPIN_MODE   what comes between two looks:
 *                            0 a pause instruction;
 *                            1 sched_yield() (a client thread on the same
 *                              CPU runs at once);
 *                            2 as 1, but stop once a yield ran another
 *                              thread (it took > NP_SPIN_YIELD_RAN_NS);
 *                            default NP_SPIN_DEFAULT_MODE
 * The spin ends early when a look returns tasks, a task is queued where this
 * worker could take it, a timer falls due, or the runtime stops. It costs
 * CPU (up to spin_ns per idle period): on 2 cores a spinning server takes
 * CPU from its clients (bench/RESULTS.md, low concurrency). The sim build
 * never spins (its clock is virtual; the explorer decides what runs); the
 * live spin reaches the poller and the clock only through the backend
 * interface (poll with delay 0, now). */
/* Off by default: measured, the spin wins 1.7-2.7x req/s when the server's
 * vCPU would otherwise halt between requests (client on another CPU), and
 * loses 0.64-0.96x when the kernel would have put server and client on one
 * vCPU, which a busy-looking server prevents (bench/RESULTS.md, "Low
 * concurrency under two clients"). 50 us is the value measured there. */
#ifndef NP_SPIN_DEFAULT_US
#define NP_SPIN_DEFAULT_US 0
#endif
enum { NP_SPIN_PAUSE, NP_SPIN_YIELD, NP_SPIN_YIELD_STOP };
#ifndef NP_SPIN_DEFAULT_MODE
#define NP_SPIN_DEFAULT_MODE NP_SPIN_YIELD
#endif
#define NP_SPIN_MAX_US    1000
#define NP_SPIN_MAX_LOOKS 100000u
/* A sched_yield longer than this ran another thread (an empty one costs
 * well under 1 µs here). */
#define NP_SPIN_YIELD_RAN_NS 4000

static void spin_config(void)
{
    rt.spin_ns = 0;
    rt.spin_mode = NP_SPIN_PAUSE;
#if !NP_SIM
    long us = NP_SPIN_DEFAULT_US;
    const char *e = getenv("NETPOLL_IDLE_SPIN_US");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (*end == 0 && v >= 0)
            us = v;
    }
    if (us > NP_SPIN_MAX_US)
        us = NP_SPIN_MAX_US;
    rt.spin_ns = (int64_t)us * 1000;
    rt.spin_mode = NP_SPIN_DEFAULT_MODE;
    e = getenv("NETPOLL_IDLE_SPIN_MODE");
    if (e && e[0] >= '0' && e[0] <= '2' && e[1] == 0)
        rt.spin_mode = e[0] - '0';
#endif
}

/* Non-blocking looks at the poller for up to rt.spin_ns (w holds the poller
 * role). True when something turned up: tasks in l, or work elsewhere. */
static bool spin_in_poller(np_task_list *l, int64_t delay)
{
    if (rt.spin_ns <= 0 || delay == 0)
        return false;
    int64_t limit = rt.spin_ns;
    if (delay > 0 && delay < limit)
        limit = delay;
    int64_t start = np_now();
    for (unsigned i = 0; i < NP_SPIN_MAX_LOOKS; i++) {
        count_poll(0);
        np__netpoll(0, l);
        if (l->n || work_visible() || NP_RT_LOAD(&rt.stopping))
            return true;
        int64_t now = np_now();
        if (now - start >= limit || NP_RT_LOADX(&rt.timer_next, memory_order_relaxed) <= now)
            break;
        if (rt.spin_mode == NP_SPIN_YIELD || rt.spin_mode == NP_SPIN_YIELD_STOP) {
            sched_yield();
            /* A yield that took long ran another thread on this CPU (a
             * client, say): spinning would take its CPU, and waking this
             * worker costs that CPU only a context switch. Stop. */
            if (rt.spin_mode == NP_SPIN_YIELD_STOP && np_now() - now > NP_SPIN_YIELD_RAN_NS)
                break;
        }
#if defined(__x86_64__) || defined(__i386__)
        else if (rt.spin_mode == NP_SPIN_PAUSE)
            __builtin_ia32_pause();
#endif
    }
    return false;
}

/* Blocks in the backend's poll (w holds the poller role) and queues what it
 * returns on w's ring. */
static void block_in_poller(np_worker *w)
{
    /* The other half of the wake-up pairs: `polling` is stored (seq_cst), so
     * a waker that queued a task before it is seen here; one after it sees
     * `polling` and breaks the poll. */
    if (work_visible()) {
        NP_RT_STORE(&rt.polling, false);
        return;
    }
    int64_t delay = poll_delay();
    np_task_list l = {0};
    if (!spin_in_poller(&l, delay)) {
        count_poll(delay);
        np__netpoll(delay, &l);
    }
    np__spin_lock(&rt.tlock);
    rt.poll_until = 0;
    np__spin_unlock(&rt.tlock);
    NP_RT_STORE(&rt.polling, false);
    /* A sleeper for each task but the one this worker runs next, as Go's
     * findRunnable does after a blocking netpoll. Waking one for every task
     * (so that a sleeper becomes the next poller at once) cost twice the
     * futex calls and measured no better (bench/RESULTS.md, TCP echo). */
    ready_list(w, &l, 1);
}

/* w found nothing to run: become the poller, or sleep until woken. False
 * when the runtime stops. */
static bool go_idle(np_worker *w)
{
    if (NP_RT_LOAD(&rt.polling)) {
        /* Another worker polls, but it may be waiting for a CPU with events
         * in hand: look before sleeping (Go's findRunnable does too). */
        np_task_list l = {0};
        count_poll(0);
        np__netpoll(0, &l);
        if (l.n) {
            ready_list(w, &l, 1);
            return true;
        }
    }
    NP_LOCK(&rt.lock);
    if (NP_RT_LOAD(&rt.stopping)) {
        NP_UNLOCK(&rt.lock);
        return false;
    }
    if (NP_RT_LOAD(&rt.gq_n)) {
        NP_UNLOCK(&rt.lock);
        return true;
    }
    if (!NP_RT_LOAD(&rt.polling)) {
        NP_RT_STORE(&rt.break_sent, false);
        bool idle = false;
        /* A CAS: a busy worker's poll_look may take the role without the lock. */
        if (NP_RT_CAS(&rt.polling, &idle, true)) {
            NP_UNLOCK(&rt.lock);
            block_in_poller(w);
            return true;
        }
    }
    w->asleep = true;
    rt.sleepers[rt.nsleepers++] = w;
    NP_RT_STORE(&rt.nsleep, rt.nsleepers);
    NP_UNLOCK(&rt.lock);
    /* Published in nsleep (seq_cst): a task queued before that is seen now,
     * one queued after it finds this worker in rt.sleepers. Likewise a
     * poller that let go of the role before it: then there may be no poller,
     * so do not sleep. */
    if (work_visible() || !NP_RT_LOAD(&rt.polling)) {
        NP_LOCK(&rt.lock);
        bool still = w->asleep;
        if (still) {
            for (int i = 0; i < rt.nsleepers; i++)
                if (rt.sleepers[i] == w) {
                    rt.sleepers[i] = rt.sleepers[--rt.nsleepers];
                    break;
                }
            w->asleep = false;
            NP_RT_STORE(&rt.nsleep, rt.nsleepers);
        }
        NP_UNLOCK(&rt.lock);
        if (still)
            return true;
        /* A waker popped this worker: its post is on the way; take it. */
    }
    while (NP_OSSEM_WAIT(&w->sem) != 0)
        if (errno != EINTR)
            np__fatal("worker: sem_wait: %s", strerror(errno));
    return true;
}

static void *worker_main(void *p)
{
    np_worker *w = p;
    set_current_worker(w);
    np__ctx_init_thread(&w->g0);
    void *alt = altstack_begin();
#if !NP_MACHINE
    /* Linux delays a thread's timed waits by its timer slack, 50 us by
     * default: that would be added to every deadline. 1 ns: as asked. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
    while (!NP_RT_LOAD(&rt.stopping)) {
        run_timers();
        np_task *t = find_task(w);
        if (t)
            run_task(w, t);
        else if (!go_idle(w))
            break;
    }
    np__ctx_destroy(&w->g0);
    altstack_end(alt);
    set_current_worker(NULL);
    return NULL;
}

static int ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Stops the workers: sets `stopping`, wakes every sleeper and breaks the
 * poller until each of the rt.nthreads started workers has exited. */
static void stop_workers(void)
{
    NP_LOCK(&rt.tasks_lock);
    NP_LOCK(&rt.lock);
    NP_RT_STORE(&rt.stopping, true);
    while (rt.nsleepers > 0) {
        np_worker *s = rt.sleepers[--rt.nsleepers];
        s->asleep = false;
        NP_OSSEM_POST(&s->sem);
    }
    NP_RT_STORE(&rt.nsleep, 0);
    NP_UNLOCK(&rt.lock);
    NP_UNLOCK(&rt.tasks_lock);
    for (int i = 0; i < rt.nthreads; i++) {
        rt.be->brk();
        NP_THREAD_JOIN(rt.workers[i].thread);
    }
    rt.nthreads = 0;
}

/* Frees the workers, of which the first nsem have a semaphore. */
static void free_workers(int nsem)
{
    for (int i = 0; i < nsem && rt.workers; i++)
        NP_OSSEM_DESTROY(&rt.workers[i].sem);
    free(rt.workers);
    free(rt.sleepers);
    rt.workers = NULL;
    rt.sleepers = NULL;
    rt.nworkers = 0;
    rt.nsleepers = 0;
    rt.gq_head = rt.gq_tail = NULL;
    NP_RT_STORE(&rt.gq_n, 0);
}

int np_runtime_start(const np_config *cfg)
{
    np_config c = cfg ? *cfg : (np_config){0};
    if (c.workers < 0 || c.workers > 1024)
        return -EINVAL;
    if (!c.backend)
        c.backend = np__backend_default();
    if (!c.design)
        c.design = &np_design_go1_21;
    if (!c.workers)
        c.workers = c.backend->max_workers ? c.backend->max_workers : ncpus();
    if (c.backend->max_workers && c.workers > c.backend->max_workers)
        return -EINVAL;
    if (c.stack_size == 0)
        c.stack_size = NP_DEFAULT_STACK;
    if (c.stack_size < 16 * 1024 || c.stack_size > ((size_t)1 << 30))
        return -EINVAL;

    NP_LOCK(&rt.tasks_lock);
    if (rt.running) {
        NP_UNLOCK(&rt.tasks_lock);
        return -EBUSY;
    }
    int err = c.backend->init();
    if (err) {
        NP_UNLOCK(&rt.tasks_lock);
        return err;
    }
    size_t sz = (size_t)c.workers * sizeof *rt.workers; /* a multiple of the alignment */
    rt.workers = aligned_alloc(alignof(np_worker), sz);
    rt.sleepers = calloc((size_t)c.workers, sizeof *rt.sleepers);
    int nsem = 0;
    if (rt.workers) {
        memset(rt.workers, 0, sz);
        for (; nsem < c.workers; nsem++) {
            rt.workers[nsem].rnd = 2654435761u * (unsigned)(nsem + 1);
            if (NP_OSSEM_INIT(&rt.workers[nsem].sem) != 0)
                break;
        }
    }
    if (!rt.workers || !rt.sleepers || nsem < c.workers) {
        free_workers(nsem);
        c.backend->fini();
        NP_UNLOCK(&rt.tasks_lock);
        return -ENOMEM;
    }
    np__timer_heap_init(&rt.timers);
    rt.be = c.backend;
    np__design = c.design;
    rt.stack_size = c.stack_size;
    rt.nworkers = c.workers;
    spin_config();
    NP_RT_STORE(&rt.stopping, false);
    NP_RT_STORE(&rt.polling, false);
    NP_RT_STORE(&rt.break_sent, false);
    rt.poll_until = 0;
    NP_RT_STORE(&rt.timer_next, INT64_MAX);
    rt.running = true;
    NP_UNLOCK(&rt.tasks_lock);

    stack_report_install();
    for (int i = 0; i < c.workers; i++) {
        err = NP_THREAD_CREATE(&rt.workers[i].thread, worker_main, &rt.workers[i]);
        if (err) {
            np_runtime_stop();
            return -err;
        }
        rt.nthreads = i + 1;
    }
    return 0;
}

int np_runtime_stop(void)
{
    if (current_worker())
        np__fatal("np_runtime_stop called from a worker");
    NP_LOCK(&rt.tasks_lock);
    bool running = rt.running;
    NP_UNLOCK(&rt.tasks_lock);
    if (!running)
        return -ESRCH;
    np__resolver_stop(); /* no lookup readies a task of ours from now on */
    stop_workers();
    NP_LOCK(&rt.tasks_lock);
    while (rt.tasks) {
        np_task *t = rt.tasks;
        rt.tasks = t->all_next;
        np__task_free(t);
    }
    free_workers(rt.nworkers);
    np__spin_lock(&rt.tlock);
    np__timer_heap_free(&rt.timers);
    rt.poll_until = 0;
    NP_RT_STORE(&rt.timer_next, INT64_MAX);
    np__spin_unlock(&rt.tlock);
    rt.be->fini();
    rt.be = NULL;
    rt.running = false;
    NP_UNLOCK(&rt.tasks_lock);
#if !NP_MACHINE
    np__stack_pool_drain();
#else
    /* The machine starts and stops the runtime once an execution: its
     * stacks stay pooled for the next (a third of the explorer's time went
     * to mapping and faulting them in afresh). */
#endif
    return 0;
}

typedef struct {
    void (*fn)(void *);
    void *arg;
    np_task *self;  /* the main task */
    np__ossem done; /* posted once when fn returns */
} main_arg;

static void main_task(void *p)
{
    main_arg *ma = p;
    ma->self = np_self();
    ma->fn(ma->arg);
    NP_OSSEM_POST(&ma->done);
}

static void sem_wait_all(np__ossem *s)
{
    while (NP_OSSEM_WAIT(s) != 0)
        if (errno != EINTR)
            np__fatal("np_main: sem_wait: %s", strerror(errno));
}

/* np_main, and np_main_wait (wait_all): after the main task returns, the
 * tasks that have not ended are waited for (wait_all), or counted into
 * *left, reported on stderr and freed with the runtime. */
int np__main_run(const np_config *cfg, void (*fn)(void *), void *arg, bool wait_all, unsigned *left)
{
    if (left)
        *left = 0;
    if (!fn)
        return -EINVAL;
    int err = np_runtime_start(cfg);
    if (err)
        return err;
    main_arg ma = {.fn = fn, .arg = arg};
    if (NP_OSSEM_INIT(&ma.done) != 0 || NP_OSSEM_INIT(&rt.empty) != 0) {
        np_runtime_stop();
        return -ENOMEM;
    }
    err = np_go(main_task, &ma);
    unsigned n = 0;
    if (err == 0) {
        sem_wait_all(&ma.done);
        NP_LOCK(&rt.tasks_lock);
        for (np_task *t = rt.tasks; t; t = t->all_next)
            n += t != ma.self; /* (the main task may still be ending) */
        bool wait = wait_all && rt.tasks;
        rt.empty_wanted = wait;
        NP_UNLOCK(&rt.tasks_lock);
        if (wait)
            sem_wait_all(&rt.empty);
    }
    np_runtime_stop();
    NP_OSSEM_DESTROY(&ma.done);
    NP_OSSEM_DESTROY(&rt.empty);
    if (!wait_all)
        np__main_leftover(n, left);
    return err;
}

#if NP_MACHINE
/* ---- the machine build's invariants (not part of the runtime) ---------------------
 *
 * Read by backend_sim/machine/mach.c between two steps, when no simulated
 * thread is inside an operation: plain reads, no scheduling points. */

/* Tasks queued to run: in the local rings, the runnext slots and the global
 * queue. */
unsigned np__sched_queued(void)
{
    unsigned n = atomic_load_explicit(&rt.gq_n, memory_order_relaxed);
    for (int i = 0; i < rt.nworkers; i++) {
        np_worker *w = &rt.workers[i];
        n += atomic_load_explicit(&w->tail, memory_order_relaxed) -
             atomic_load_explicit(&w->head, memory_order_relaxed);
        n += w->runnext != NULL;
    }
    return n;
}

/* The task worker i runs now, or NULL (none, or i out of range). */
np_task *np__sched_running(int i)
{
    return rt.workers && i >= 0 && i < rt.nworkers ? rt.workers[i].cur : NULL;
}

/* When the earliest timer is due (INT64_MAX: none). */
int64_t np__sched_timer_next(void)
{
    np_timer *t = rt.running ? np__timer_heap_top(&rt.timers) : NULL;
    return t ? t->when : INT64_MAX;
}

/* The scheduler's bookkeeping between two steps of the machine: a message
 * saying what is wrong with it, or NULL. Checked only while rt.lock is free
 * (its holder may be half-way through an update): nsleep equals the
 * sleepers on the list, each listed once; the global queue's count is its
 * length; every ring holds at most NP_RUNQ_SIZE; a queued task (ring,
 * runnext, global queue) is RUNNABLE, queued once and not running; and,
 * while tlock is free too, the timer heap is in order (each timer's index
 * its slot, none earlier than its parent: a heap left out of order hides an
 * earlier timer behind a later one until that one is due). */
const char *np__sched_inconsistent(char *buf, size_t cap)
{
    if (!rt.workers || !rt.running || rt.lock.owner)
        return NULL;
    int ns = atomic_load_explicit(&rt.nsleep, memory_order_relaxed);
    if (ns != rt.nsleepers) {
        snprintf(buf, cap, "nsleep is %d with %d sleeper(s) on the list", ns, rt.nsleepers);
        return buf;
    }
    for (int i = 0; i < rt.nsleepers; i++)
        for (int j = i + 1; j < rt.nsleepers; j++)
            if (rt.sleepers[i] == rt.sleepers[j]) {
                snprintf(buf, cap, "worker %d is on the sleepers' list twice",
                         (int)(rt.sleepers[i] - rt.workers));
                return buf;
            }
    np_task *seen[64];
    unsigned nseen = 0;
    unsigned gn = 0;
    for (np_task *t = rt.gq_head; t && gn <= 64; t = t->next)
        seen[nseen < 64 ? nseen++ : 63] = t, gn++;
    unsigned gq = atomic_load_explicit(&rt.gq_n, memory_order_relaxed);
    if (gn != gq) {
        snprintf(buf, cap, "the global queue holds %u task(s) but its count says %u", gn, gq);
        return buf;
    }
    for (int i = 0; i < rt.nworkers; i++) {
        np_worker *w = &rt.workers[i];
        uint32_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        if (tl - h > NP_RUNQ_SIZE) {
            snprintf(buf, cap, "worker %d's ring holds %u tasks (head %u, tail %u)", i,
                     (unsigned)(tl - h), (unsigned)h, (unsigned)tl);
            return buf;
        }
        for (uint32_t k = h; k != tl && nseen < 64; k++)
            seen[nseen++] = atomic_load_explicit(&w->ring[k % NP_RUNQ_SIZE], memory_order_relaxed);
        if (w->runnext && nseen < 64)
            seen[nseen++] = w->runnext;
    }
    uint32_t bad = rt.tlock.m.owner ? 0 : np__timer_heap_check(&rt.timers);
    if (bad) {
        snprintf(buf, cap, "the timer heap is out of order at slot %u of %u", (unsigned)(bad - 1),
                 (unsigned)rt.timers.len);
        return buf;
    }
    for (unsigned i = 0; i < nseen; i++) {
        np_task *t = seen[i];
        int st = atomic_load_explicit(&t->state, memory_order_relaxed);
        if (st != NP_T_RUNNABLE) {
            snprintf(buf, cap, "task %p is queued to run in state %d (not RUNNABLE)", (void *)t,
                     st);
            return buf;
        }
        for (unsigned j = i + 1; j < nseen; j++)
            if (seen[j] == t) {
                snprintf(buf, cap, "task %p is queued to run twice", (void *)t);
                return buf;
            }
        for (int k = 0; k < rt.nworkers; k++)
            if (rt.workers[k].cur == t) {
                snprintf(buf, cap, "task %p is queued to run while worker %d runs it", (void *)t,
                         k);
                return buf;
            }
    }
    return NULL;
}

/* Worker i's sleep semaphore (NULL past the last worker), and whether it is
 * on the sleepers' list. */
const void *np__sched_sleep_sem(int i, bool *listed)
{
    if (!rt.workers || i < 0 || i >= rt.nworkers)
        return NULL;
    *listed = rt.workers[i].asleep;
    return &rt.workers[i].sem;
}

/* Whether a worker holds the poller role. */
bool np__sched_polling(void)
{
    return atomic_load_explicit(&rt.polling, memory_order_relaxed);
}

/* nsleep as a waker reads it (the sleepers published so far). Relaxed: the
 * machine explorer's invariants read it between steps, on the one OS thread
 * that runs every simulated thread, where every order is the same. */
int np__sched_nsleep(void)
{
    return atomic_load_explicit(&rt.nsleep, memory_order_relaxed);
}

/* The tasks a worker's look before sleeping or blocking in the poller
 * sees (work_visible): the rings and the global queue, not runnext; at
 * most max, returns how many were stored. */
size_t np__sched_visible(np_task **out, size_t max)
{
    size_t n = 0;
    if (!rt.workers)
        return 0;
    for (np_task *t = rt.gq_head; t && n < max; t = t->next)
        out[n++] = t;
    for (int i = 0; i < rt.nworkers; i++) {
        np_worker *w = &rt.workers[i];
        uint32_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
        uint32_t tl = atomic_load_explicit(&w->tail, memory_order_relaxed);
        for (uint32_t k = h; k != tl && tl - h <= NP_RUNQ_SIZE && n < max; k++)
            out[n++] = atomic_load_explicit(&w->ring[k % NP_RUNQ_SIZE], memory_order_relaxed);
    }
    return n;
}

/* Every live task, at most max; returns how many there are. */
size_t np__sched_tasks(np_task **out, size_t max)
{
    size_t n = 0;
    for (np_task *t = rt.tasks; t; t = t->all_next, n++)
        if (n < max)
            out[n] = t;
    return n;
}
#endif
