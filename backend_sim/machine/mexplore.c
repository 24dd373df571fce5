/* backend_sim/machine/mexplore.c - exploring a program on the simulated
 * machine: strategies, the runtime's invariants, listings.
 *
 * An execution runs the program from the start: simulated thread 0 calls
 * np_main (which starts the workers, runs the program's main task, stops
 * the runtime and joins them). At every step the strategy picks one of the
 * enabled simulated threads; it runs to its next scheduling point.
 *
 * Strategies:
 *  - dfs: every schedule with at most P preemptions (CHESS's iterative
 *    context bounding): a preemption is a switch away from a thread that
 *    could have gone on; switches at a thread's block are free. Stateless:
 *    each schedule is a re-execution from the start with a prefix of choices
 *    from the last one. Between preemptions a thread runs on, so CAS-retry
 *    and steal loops cannot spin for ever (a loop that needs another
 *    thread's step to end gets it only through a preemption, which the
 *    bound counts); an execution longer than the step bound is a livelock.
 *  - random: a uniform choice among the enabled threads at every step.
 *  - pct: probabilistic concurrency testing (Burckhardt et al., ASPLOS
 *    2010): random distinct priorities, the highest enabled runs, and at
 *    d - 1 random steps the running thread drops below all others.
 *
 * Invariants, checked when no simulated thread can step (quiescence),
 * before the clock moves: no task queued to run while every worker is
 * blocked (a lost wake-up of a worker); no timer due before the poller's
 * timeout (a timer not run because no thread polls for it) - both only
 * while no worker computes (mx_busy: then the task or timer is late, not
 * lost); the program ended or something is pending (otherwise: deadlock).
 * After every step: no task running on two workers, the scheduler's
 * bookkeeping (scheduler-state), no worker idle behind work or a vacant
 * poller role its look after publishing would have seen (idle-worker). A
 * program states what an idle worker must take while another computes
 * (MX_PARALLEL: lost-parallelism). In the runtime: a second ready for one
 * park and every other np__fatal (crash), a system call on a descriptor
 * closed before (use-after-close, mnet.c), the program's own assertions.
 * At the end: every descriptor the program opened is closed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mach.h"
#include "netpoll/design.h"
#include "netpoll/runtime.h"
#include "seam.h"
#include "../watchdog.h"

#define MX_STEP_BOUND 200000u /* steps of one execution before it is a livelock */
#define MX_LIST_TAIL  60      /* steps a listing shows by default */

enum { S_DFS, S_RANDOM, S_PCT };

/* What the child process shares with its parent. */
typedef struct shared {
    np_mx_result r;
    uint64_t cur_steps;             /* steps of the execution in progress */
    uint8_t cur[MX_STEP_BOUND + 1]; /* its choices (thread per step) */
} shared;

typedef struct ex {
    const np_mx_opts *o;
    const mx_program *prog;
    const np_design *design;
    FILE *out;
    int strategy;
    shared *sh;
    mx_step *log;    /* this execution's steps */
    size_t n;        /* ... how many */
    mx_step *dfs;    /* dfs: the schedule to follow, with tried masks */
    size_t dfs_len;  /* ... its prefix in force */
    uint8_t *forced; /* --schedule */
    size_t nforced;
    uint64_t rng;
    int prio[MX_MAX_THREADS]; /* pct */
    uint64_t change[16];      /* pct: steps where the running thread drops */
    int nchange;
    int low;          /* pct: the next low priority */
    uint64_t pct_len; /* pct: steps expected per execution */
    bool diverged;
    bool minimized;    /* the schedule replayed is a minimizer's */
    int prev;          /* the thread that took the last step (-1: none yet) */
    uint16_t pre;      /* preemptions so far */
    int shard, shards; /* dfs: this child's part of the schedules */
    int bound;         /* dfs: the preemption bound */
    double seconds;    /* this child's time limit (0: none) */
    bool quiet;        /* print no finding (the parent replays it to list it) */
    /* dfs: state caching (see "the state cache" below) */
    struct cache_ent *cache; /* NULL: off */
    size_t cache_used;
    size_t cut;            /* the execution met a cached state at this step (SIZE_MAX: none) */
    uint64_t classes[256]; /* the outcome classes seen (the first 256) */
    unsigned nclasses;
    uint64_t path[MX_MAX_THREADS]; /* this execution: each thread's sites so far */
    uint64_t *paths;               /* the path classes seen (open addressing, 0 empty) */
    size_t npaths, paths_cap;
} ex;

/* ---- helpers ---------------------------------------------------------------------- */

static uint64_t rnd(ex *e)
{
    e->rng ^= e->rng << 13;
    e->rng ^= e->rng >> 7;
    e->rng ^= e->rng << 17;
    return e->rng;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A source path from the project's top (as the listing shows it). */
static const char *rel(const char *f)
{
    if (!f)
        return "?";
    static const char *const tops[] = {"/core/", "/backend_sim/", "/backend_epoll/"};
    const char *best = NULL;
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        const char *p = strstr(f, tops[i]);
        if (p && (!best || p > best))
            best = p;
    }
    return best ? best + 1 : f;
}

static const char *kind_name(int k)
{
    static const char *const names[] = {"load",   "store",   "cas",   "xchg", "lock",
                                        "unlock", "timer",   "now",   "park", "ready",
                                        "sem",    "syscall", "thread"};
    return k >= 0 && k < (int)(sizeof names / sizeof names[0]) ? names[k] : "?";
}

/* The schedule as text: thread ids, runs compressed ("0*12.1.2*3"). */
static void encode(const uint8_t *ch, size_t n, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ch[j] == ch[i])
            j++;
        char tok[32];
        int k = j - i > 1 ? snprintf(tok, sizeof tok, "%s%u*%zu", i ? "." : "", ch[i], j - i)
                          : snprintf(tok, sizeof tok, "%s%u", i ? "." : "", ch[i]);
        if (at + (size_t)k + 4 >= cap) {
            snprintf(buf + at, cap - at, "...");
            return;
        }
        memcpy(buf + at, tok, (size_t)k + 1);
        at += (size_t)k;
        i = j;
    }
}

/* Parses a schedule; the number of steps, or -1. */
static long decode(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    const char *p = s;
    if (!*p)
        return 0;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long t = strtoul(p, &end, 10);
        if (end == p || errno || t >= MX_MAX_THREADS)
            return -1;
        unsigned long reps = 1;
        p = end;
        if (*p == '*') {
            p++;
            reps = strtoul(p, &end, 10);
            if (end == p || errno || reps == 0 || reps > cap)
                return -1;
            p = end;
        }
        if (n + reps > cap)
            return -1;
        for (unsigned long i = 0; i < reps; i++)
            out[n++] = (uint8_t)t;
        if (!*p)
            return (long)n;
        if (*p != '.')
            return -1;
        p++;
    }
}

/* ---- findings at quiescence (from the explorer's own context) ------------------------- */

static void found(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void found(const char *kind, const char *fmt, ...)
{
    if (mx.finding)
        return;
    mx.finding = true;
    mx.fault_thread = -1;
    snprintf(mx.fkind, sizeof mx.fkind, "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mx.fmsg, sizeof mx.fmsg, fmt, ap);
    va_end(ap);
}

static const char *block_name(const mx_thread *t)
{
    if (t->state == MT_DONE)
        return "ended";
    if (t->state != MT_BLOCK)
        return "runnable";
    switch (t->bk) {
    case MB_LOCK:
        return "waits for a lock";
    case MB_SEM:
        return "sleeps on its semaphore";
    case MB_JOIN:
        return "joins a thread";
    case MB_BUSY:
        return "computes";
    default:
        return "blocks in the poller";
    }
}

/* Where every thread stands, for a message. */
static void threads_text(char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < mx.nth && at < cap; i++) {
        const mx_thread *t = &mx.th[i];
        int k = snprintf(buf + at, cap - at, "%sthread %d %s at %s:%d", i ? "; " : "", i,
                         block_name(t), rel(t->file), t->line);
        if (k < 0)
            break;
        at += (size_t)k;
    }
}

/* No thread can step. Returns true if the clock moved (go on). */
static bool quiescent(void)
{
    if (mx.th[0].state == MT_DONE) {
        unsigned open = mnet_open_fds();
        if (open)
            found("descriptor-leak",
                  "the program ended with %u descriptor(s) of the simulated "
                  "kernel never closed",
                  open);
        return false;
    }
    char where[400];
    /* A worker whose task computes (mx_busy) is not idle: it runs its own
     * runnext and ring, the global queue and the due timers once the
     * computation ends, so a task queued or a timer due meanwhile is late,
     * not lost. What an idle worker should have taken meanwhile is the
     * idle-worker invariant's (after every step) and the programs'. */
    bool wbusy = false;
    int64_t busy = INT64_MAX;
    for (int i = 0; i < mx.nth; i++)
        if (mx.th[i].state == MT_BLOCK && mx.th[i].bk == MB_BUSY) {
            if (mx.th[i].until < busy)
                busy = mx.th[i].until;
            wbusy = wbusy || mx.th[i].tls != NULL; /* a worker's (others have none) */
        }
    unsigned q = np__sched_queued();
    if (q && !wbusy) {
        threads_text(where, sizeof where);
        found("lost-wakeup",
              "%u task(s) queued to run while every thread is blocked and no wake-up is on its "
              "way: %s",
              q, where);
        return false;
    }
    int64_t until = INT64_MAX;
    for (int i = 0; i < mx.nth; i++)
        if (mx.th[i].state == MT_BLOCK && mx.th[i].bk == MB_POLL && mx.th[i].until < until)
            until = mx.th[i].until;
    int64_t tn = np__sched_timer_next();
    if (tn != INT64_MAX && until > tn && !wbusy) {
        threads_text(where, sizeof where);
        if (until == INT64_MAX)
            found("timer-not-run",
                  "a timer due at +%" PRId64 " ns is never run: no thread polls with a timeout "
                  "(%s)",
                  tn - MX_EPOCH, where);
        else
            found("timer-not-run",
                  "a timer due at +%" PRId64 " ns runs late: the poller sleeps until +%" PRId64
                  " ns (%s)",
                  tn - MX_EPOCH, until - MX_EPOCH, where);
        return false;
    }
    if (busy < until)
        until = busy;
    if (until != INT64_MAX) {
        mx.now = until;
        for (int i = 0; i < mx.nth; i++)
            if (mx.th[i].state == MT_BLOCK && mx.th[i].bk == MB_POLL && mx.th[i].until <= until)
                mx.th[i].timed_out = true;
        return true;
    }
    np_task *tasks[32];
    size_t nt = np__sched_tasks(tasks, 32);
    threads_text(where, sizeof where);
    found("deadlock", "nothing can happen any more: %zu task(s) parked, no timer, no event; %s", nt,
          where);
    return false;
}

/* Idle workers. A worker that publishes itself as a sleeper (on the
 * sleepers' list) or as the poller (polling set) looks at the rings and the
 * global queue once more before it blocks, so it never blocks while a task
 * it could take has been queued since before its publication: the task
 * would wait for a busy worker although this one is idle (parallelism lost;
 * a lost wake-up if nobody else runs it). Tasks queued after the
 * publication are the waker's to announce (a post or a break). Likewise
 * the sleeper's look at `polling` after its publication in nsleep: it never
 * sleeps while the poller role has been vacant since before that
 * publication (it would have taken the role: with nobody polling, a
 * readiness or a due timer waits for a busy worker). Tracked per step:
 * since when each visible task has been queued without a break, the step
 * of each publication, and since when the poller role is vacant. */
#define IDLE_MAX 64
static struct {
    np_task *task[IDLE_MAX];
    uint64_t since[IDLE_MAX];
    int n;
    bool listed[MX_MAX_THREADS];
    uint64_t listed_at[MX_MAX_THREADS];
    bool published[MX_MAX_THREADS]; /* listed, and counted in nsleep */
    uint64_t published_at[MX_MAX_THREADS];
    bool polling;
    uint64_t polling_at;
    uint64_t vacant_at; /* polling false since this step */
} idle;

static void idle_reset(void)
{
    memset(&idle, 0, sizeof idle);
}

static int thread_blocked_on(const void *obj, int bk)
{
    for (int i = 0; i < mx.nth; i++)
        if (mx.th[i].state == MT_BLOCK && mx.th[i].bk == bk && (!obj || mx.th[i].bobj == obj))
            return i;
    return -1;
}

static void check_idle(void)
{
    uint64_t now = mx.steps;
    np_task *vis[IDLE_MAX];
    size_t nv = np__sched_visible(vis, IDLE_MAX);
    np_task *task[IDLE_MAX];
    uint64_t since[IDLE_MAX];
    int n = 0;
    for (size_t i = 0; i < nv; i++) {
        uint64_t s = now;
        for (int j = 0; j < idle.n; j++)
            if (idle.task[j] == vis[i])
                s = idle.since[j];
        task[n] = vis[i];
        since[n++] = s;
    }
    memcpy(idle.task, task, sizeof task[0] * (size_t)n);
    memcpy(idle.since, since, sizeof since[0] * (size_t)n);
    idle.n = n;
    uint64_t oldest = UINT64_MAX;
    np_task *old = NULL;
    for (int i = 0; i < n; i++)
        if (since[i] < oldest)
            oldest = since[i], old = task[i];
    bool polling = np__sched_polling();
    if (polling && !idle.polling)
        idle.polling_at = now;
    if (!polling && idle.polling)
        idle.vacant_at = now;
    idle.polling = polling;
    /* A sleeper is published once nsleep counts every listed worker: the
     * lock holder lists itself first and stores nsleep after, so until then
     * nsleep is one short (and only the holder changes either). */
    int nlisted = 0;
    for (int w = 0; w < mx.workers && w < MX_MAX_THREADS; w++) {
        bool listed = false;
        if (!np__sched_sleep_sem(w, &listed))
            break;
        nlisted += listed;
    }
    int nsleep = np__sched_nsleep();
    for (int w = 0; w < mx.workers && w < MX_MAX_THREADS; w++) {
        bool listed = false;
        const void *sem = np__sched_sleep_sem(w, &listed);
        if (!sem)
            break;
        if (listed && !idle.listed[w])
            idle.listed_at[w] = now;
        idle.listed[w] = listed;
        if (!listed)
            idle.published[w] = false;
        else if (!idle.published[w] && nsleep == nlisted) {
            idle.published[w] = true;
            idle.published_at[w] = now;
        }
        if (!listed || ((const np__ossem *)sem)->count != 0 || thread_blocked_on(sem, MB_SEM) < 0)
            continue;
        if (old && oldest < idle.listed_at[w]) {
            found("idle-worker",
                  "worker %d sleeps although task %p, queued where it looks since step %" PRIu64
                  ", was there when it went on the sleepers' list (step %" PRIu64 ")",
                  w, (void *)old, oldest, idle.listed_at[w]);
            return;
        }
        if (idle.published[w] && !polling && idle.vacant_at <= idle.published_at[w]) {
            found("idle-worker",
                  "worker %d sleeps although no worker has held the poller role since step "
                  "%" PRIu64 ", before it published itself as a sleeper (step %" PRIu64
                  "): nobody polls while it sleeps",
                  w, idle.vacant_at, idle.published_at[w]);
            return;
        }
    }
    if (polling && old && oldest < idle.polling_at && thread_blocked_on(NULL, MB_POLL) >= 0 &&
        !mnet_poll_ready()) {
        found("idle-worker",
              "a worker blocks in the poller although task %p, queued where it looks since step "
              "%" PRIu64 ", was there when it took the poller role (step %" PRIu64 ")",
              (void *)old, oldest, idle.polling_at);
    }
}

static void check_step(void)
{
    check_idle();
    char why[200];
    if (np__sched_inconsistent(why, sizeof why))
        found("scheduler-state", "%s", why);
    for (int i = 0; i < mx.workers; i++) {
        np_task *t = np__sched_running(i);
        if (!t)
            continue;
        for (int j = i + 1; j < mx.workers; j++)
            if (np__sched_running(j) == t)
                found("double-run", "task %p runs on workers %d and %d at once", (void *)t, i, j);
    }
}

static ex *cur_ex; /* the exploration (for mx.decide) */
static const char path_anchor[] = "path";

/* ---- one execution ------------------------------------------------------------------- */

static void *main_thread(void *p)
{
    ex *e = p;
    np_config cfg = {.workers = mx.workers, .backend = &np_backend_machine, .design = e->design};
    unsigned left; /* tasks a program leaves parked (a reader on a closed socket, say):
                      freed with the runtime; a program judges what it needs itself */
    int err = np_main_left(&cfg, e->prog->main, NULL, &left);
    if (err)
        mx_fail("crash", __FILE__, __LINE__, "np_main: %d", err);
    return NULL;
}

static int lowest(uint8_t en)
{
    return __builtin_ctz(en);
}

static int choose(ex *e, uint8_t en, int prev)
{
    size_t i = e->n;
    if (e->forced && i < e->nforced) {
        int t = e->forced[i];
        if (!(en & (1u << t))) {
            e->diverged = true;
            return -1;
        }
        return t;
    }
    switch (e->strategy) {
    case S_DFS:
        if (i < e->dfs_len) {
            int t = e->dfs[i].thread;
            if (e->dfs[i].enabled != en && i + 1 < e->dfs_len) {
                e->diverged = true;
                return -1;
            }
            if (!(en & (1u << t))) {
                e->diverged = true;
                return -1;
            }
            return t;
        }
        return prev >= 0 && (en & (1u << prev)) ? prev : lowest(en);
    case S_RANDOM: {
        int cnt = 0;
        for (unsigned x = en; x; x &= x - 1)
            cnt++;
        int k = (int)(rnd(e) % (uint64_t)cnt);
        for (int t = 0; t < MX_MAX_THREADS; t++)
            if (en & (1u << t) && k-- == 0)
                return t;
        return lowest(en);
    }
    default: { /* pct */
        for (int c = 0; c < e->nchange; c++)
            if (e->change[c] == i && prev >= 0)
                e->prio[prev] = e->low--;
        int best = -1;
        for (int t = 0; t < MX_MAX_THREADS; t++)
            if (en & (1u << t) && (best < 0 || e->prio[t] > e->prio[best]))
                best = t;
        return best;
    }
    }
}

static void pct_start(ex *e)
{
    /* Threads get random distinct priorities above d; change points fall
     * uniformly over the steps an execution takes. New threads (workers)
     * get theirs as they are created: all are set here. */
    int d = e->o->pct_depth > 0 ? e->o->pct_depth : 3;
    int order[MX_MAX_THREADS];
    for (int i = 0; i < MX_MAX_THREADS; i++)
        order[i] = i;
    for (int i = MX_MAX_THREADS - 1; i > 0; i--) {
        int j = (int)(rnd(e) % (uint64_t)(i + 1));
        int x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    for (int i = 0; i < MX_MAX_THREADS; i++)
        e->prio[order[i]] = d + i + 1;
    e->low = d;
    e->nchange = d - 1 < 16 ? d - 1 : 16;
    uint64_t len = e->pct_len ? e->pct_len : 2000;
    for (int c = 0; c < e->nchange; c++)
        e->change[c] = rnd(e) % len;
}

/* ---- the state cache (dfs) -------------------------------------------------------------
 *
 * The dfs runs schedules in depth-first order, so a state met before has
 * had its continuations explored already (or is an ancestor of the present
 * state, which cannot be: the hash takes in the steps taken). An execution
 * that meets such a state, with the same thread last to run and at least as
 * many preemptions spent (so no more left to spend), goes on to its end as
 * it would (the runtime must be left to tear down) but is not branched past
 * that step again (dfs_next). States are looked up only past the
 * execution's forced prefix (the prefix's were met by the executions before
 * it) and where two or more threads can step (elsewhere the next state is
 * the only one). What the hash covers, and why that is sound, is in mach.c
 * ("histories"): per thread its history (where it stands, what it read),
 * the objects' versions, the clock, the programs' shared variables; here
 * besides the explorer's own state that decides findings: the steps taken,
 * and the idle-worker bookkeeping (as the order of its marks, which is all
 * its comparisons see: a mark made later is always later than all of
 * them). Looking a state up at only some steps is as sound as at all. With dfs split over --jobs,
 * the shard's filter applies to the first preemption: a state before it matches only a state before
 * it. */
#define CACHE_BITS 22 /* 4 M entries, 64 MiB: states past 3 M are not cached */
/* States are looked up at every CACHE_EVERY-th step only: an execution that
 * meets a state explored before goes on as that one did (the same default
 * choices), so it meets the cached states after it too and is cut at most
 * CACHE_EVERY - 1 steps later; meanwhile the table holds 8 times the
 * executions (pingpong at 2 workers, 1 preemption: 4,242 executions instead
 * of 4,224, 29 k states instead of 231 k). */
#define CACHE_EVERY 8

struct cache_ent {
    uint64_t key;   /* 0: empty */
    uint8_t pre[8]; /* by the thread last to run (+1; 0: none yet): the fewest
                       preemptions spent when met (0xff: not met so); 16 bytes an
                       entry (a state after thread 7 is not cached) */
};

static uint64_t hmix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* The idle-worker bookkeeping (check_idle), as the ranks of its marks. */
static uint64_t idle_hash(uint64_t h)
{
    uint64_t v[IDLE_MAX + MX_MAX_THREADS + 2];
    size_t n = 0;
    for (int i = 0; i < idle.n; i++)
        v[n++] = idle.since[i];
    for (int w = 0; w < MX_MAX_THREADS; w++)
        if (idle.listed[w])
            v[n++] = idle.listed_at[w];
    if (idle.polling)
        v[n++] = idle.polling_at;
    v[n++] = mx.steps; /* what a mark made now would be */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
#define RANK(x)                                                                                    \
    ({                                                                                             \
        uint64_t r_ = 0;                                                                           \
        for (size_t k_ = 0; k_ < n && v[k_] < (x); k_++)                                           \
            r_ += k_ == 0 || v[k_] != v[k_ - 1];                                                   \
        r_;                                                                                        \
    })
    for (int i = 0; i < idle.n; i++)
        h = hmix(h, RANK(idle.since[i])); /* in the order of np__sched_visible: a
                                             function of the runtime's state */
    for (int w = 0; w < MX_MAX_THREADS; w++)
        h = hmix(h, idle.listed[w] ? 1 + RANK(idle.listed_at[w]) : 0);
    h = hmix(h, idle.polling ? 1 + RANK(idle.polling_at) : 0);
    h = hmix(h, RANK(mx.steps));
#undef RANK
    return h;
}

static uint64_t state_hash(ex *e, uint64_t globals)
{
    uint64_t h = hmix(0x73746174ull, e->n);
    h = hmix(h, (uint64_t)mx.now);
    h = hmix(h, (uint64_t)mx.nth);
    h = hmix(h, globals);
    h = hmix(h, mx_hist_objects());
    for (int i = 0; i < mx.nth; i++) {
        const mx_thread *t = &mx.th[i];
        h = hmix(h, t->hist);
        h = hmix(h, (uint64_t)t->state | (uint64_t)t->bk << 8 | (uint64_t)t->timed_out << 16);
        h = hmix(h, (uint64_t)t->until);
    }
    if (mx.workers > 1)
        h = idle_hash(h);
    return h;
}

/* Looks the state up, and enters it. True: its continuations are explored
 * already. A continuation costs the same preemptions after the same thread
 * last ran, and at most one more after another (only its first step can
 * differ: a switch away from one that could go on); so a state met with p
 * preemptions spent after thread q covers the present one if q ran last
 * here too and p <= pre, or if p + 1 <= pre. */
static bool cache_seen(ex *e, uint64_t globals)
{
    uint64_t key = state_hash(e, globals);
    key = hmix(key, (uint64_t)(e->shards > 1 && e->pre == 0));
    if (!key)
        key = 1;
    unsigned pre = e->pre < 0xfe ? e->pre : 0xfe;
    int q = e->prev + 1;
    if (q >= 8)
        return false;
    size_t mask = ((size_t)1 << CACHE_BITS) - 1;
    for (size_t i = (size_t)(key >> (64 - CACHE_BITS));; i = (i + 1) & mask) {
        struct cache_ent *c = &e->cache[i];
        if (c->key == key) {
            bool covered = c->pre[q] <= pre;
            for (int k = 0; k < 8 && !covered; k++)
                covered = c->pre[k] != 0xff && c->pre[k] + 1u <= pre;
            if (!covered && pre < c->pre[q])
                c->pre[q] = (uint8_t)pre; /* explored from here now: remember */
            return covered;
        }
        if (!c->key) {
            if (e->cache_used < mask / 4 * 3) {
                c->key = key;
                memset(c->pre, 0xff, sizeof c->pre);
                c->pre[q] = (uint8_t)pre;
                e->cache_used++;
            }
            return false;
        }
    }
}

static uint8_t enabled_mask(void)
{
    uint8_t en = 0;
    for (int i = 0; i < mx.nth; i++)
        if (mx_enabled(i))
            en |= (uint8_t)(1u << i);
    return en;
}

/* The next step: which thread takes it (logged), or -1 to end the
 * execution (a finding, a schedule that does not fit). Called by the
 * explorer's loop, and by the running thread at its scheduling point
 * (mx.decide), so that a thread that goes on does so without a switch. */
static int decide(ex *e, uint8_t en)
{
    if (mx.workers > 1) {
        check_step(); /* the state the last step left */
        if (mx.finding)
            return -1;
    }
    uint64_t globals = e->cache ? mx_program_globals_hash() : 0;
    if (e->cache && e->cut == SIZE_MAX && e->n >= e->dfs_len && (en & (en - 1)) &&
        e->n % CACHE_EVERY == 0 && cache_seen(e, globals))
        e->cut = e->n;
    int t = choose(e, en, e->prev);
    if (t < 0)
        return -1;
    if (e->n == MX_STEP_BOUND) {
        found("livelock",
              "an execution took %u steps without ending (a loop that never "
              "gives way: a CAS retry or spin that cannot succeed)",
              MX_STEP_BOUND);
        return -1;
    }
    int prev = e->prev;
    bool preempt = prev >= 0 && t != prev && (en & (1u << prev));
    mx_step *s = &e->log[e->n];
    s->thread = (uint8_t)t;
    s->enabled = en;
    s->prev = (uint8_t)(prev < 0 ? 0xff : prev);
    s->tried = 0;
    s->preempts = e->pre;
    s->kind = (uint8_t)mx.th[t].kind;
    s->file = mx.th[t].file;
    s->line = mx.th[t].line;
    e->sh->cur[e->n] = (uint8_t)t;
    e->sh->cur_steps = ++e->n;
    mx.steps = e->n; /* the clock of the step-stamped invariants (idle-worker) */
    /* (a file's name by its place in the library: the same in every process) */
    e->path[t] = hmix(e->path[t], ((uintptr_t)s->file - (uintptr_t)path_anchor) ^
                                      (uint64_t)s->line << 40 ^ (uint64_t)s->kind << 58);
    e->pre += preempt;
    e->prev = t;
    if (e->cache)
        mx_hist_step(t, globals);
    return t;
}

static int decide_at_point(void)
{
    return decide(cur_ex, enabled_mask());
}

/* Runs one execution; true if it ended with a finding. */
static bool execute(ex *e)
{
    mx_reset();
    idle_reset();
    mx.workers = e->o->workers;
    mx.hist = e->cache != NULL;
    e->n = 0;
    e->prev = -1;
    e->pre = 0;
    e->cut = SIZE_MAX;
    memset(e->path, 0, sizeof e->path);
    e->diverged = false;
    if (e->strategy == S_PCT)
        pct_start(e);
    if (mx_spawn_main(main_thread, e) != 0) {
        found("crash", "the machine could not create its main thread");
        return true;
    }
    mx.decide = decide_at_point;
    for (;;) {
        int t = mx.next;
        if (t != MX_NO_NEXT) {
            mx.next = MX_NO_NEXT; /* decided by the thread that stopped */
        } else {
            uint8_t en = enabled_mask();
            if (!en) {
                if (mx.workers > 1)
                    check_step();
                if (mx.finding || !quiescent())
                    break;
                continue;
            }
            t = decide(e, en);
        }
        if (t < 0 || mx.finding)
            break;
        mx_run(t);
        if (mx.finding)
            break;
    }
    mx.decide = NULL;
    mx.next = MX_NO_NEXT;
    return mx.finding;
}

/* ---- dfs ---------------------------------------------------------------------------- */

/* After an execution: the next schedule to run, false when none is left. */
static bool dfs_next(ex *e, int bound)
{
    /* The execution just run extends the stack past its prefix. */
    for (size_t i = 0; i < e->n; i++) {
        mx_step s = e->log[i];
        s.tried = (uint8_t)(i < e->dfs_len ? e->dfs[i].tried : 0) | (uint8_t)(1u << s.thread);
        e->dfs[i] = s;
    }
    /* Past a cached state (e->cut) nothing is branched: done before. */
    for (size_t i = e->cut < e->n ? e->cut : e->n; i-- > 0;) {
        mx_step *s = &e->dfs[i];
        uint8_t alt = s->enabled & (uint8_t)~s->tried;
        while (alt) {
            int t = __builtin_ctz(alt);
            alt &= (uint8_t)(alt - 1);
            bool preempt = s->prev != 0xff && t != s->prev && (s->enabled & (1u << s->prev));
            s->tried |= (uint8_t)(1u << t);
            if (bound >= 0 && s->preempts + preempt > bound)
                continue;
            /* Shards: a schedule belongs to the shard of the step of its
             * first preemption (those without one to shard 0, which runs
             * them; the others run them too, on the way, uncounted). */
            if (e->shards > 1 && preempt && s->preempts == 0 &&
                (int)(i % (size_t)e->shards) != e->shard)
                continue;
            s->thread = (uint8_t)t;
            e->dfs_len = i + 1;
            return true;
        }
    }
    return false;
}

/* ---- reporting --------------------------------------------------------------------- */

static void listing(ex *e, FILE *out)
{
    size_t from = e->o->list || e->n <= MX_LIST_TAIL ? 0 : e->n - MX_LIST_TAIL;
    if (from)
        fprintf(out, "  ... %zu earlier steps (--list shows them)\n", from);
    for (size_t i = from; i < e->n; i++) {
        const mx_step *s = &e->log[i];
        fprintf(out, "  %6zu  thread %u  %-7s %s:%d%s\n", i, s->thread, kind_name(s->kind),
                rel(s->file), s->line,
                s->prev != 0xff && s->thread != s->prev && (s->enabled & (1u << s->prev))
                    ? "   <- preempts thread"
                    : "");
    }
    if (mx.fault_thread >= 0) {
        const mx_thread *t = &mx.th[mx.fault_thread];
        fprintf(out, "  then thread %d raised it after %s:%d", mx.fault_thread, rel(t->file),
                t->line);
        if (mx.ffile)
            fprintf(out, " (at %s:%d)", rel(mx.ffile), mx.fline);
        fputc('\n', out);
    }
}

static void record_finding(ex *e, np_mx_result *r)
{
    r->found = true;
    snprintf(r->kind, sizeof r->kind, "%s", mx.fkind);
    snprintf(r->msg, sizeof r->msg, "%s", mx.fmsg);
    encode(e->sh->cur, e->n, r->schedule, sizeof r->schedule);
}

/* ---- the exploration (in the child) ------------------------------------------------ */

/* The preemptions of the execution just run. */
static unsigned preemptions(const ex *e)
{
    unsigned n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->log[i].prev != 0xff && e->log[i].thread != e->log[i].prev &&
             (e->log[i].enabled & (1u << e->log[i].prev));
    return n;
}

/* The outcome class of the execution just run (see np_mx_result). */
static void add_class(ex *e, np_mx_result *r, bool bad)
{
    uint64_t h = hmix(mx_program_outcome(), (uint64_t)mx.now);
    for (const char *k = bad ? mx.fkind : "end"; *k; k++)
        h = hmix(h, (unsigned char)*k);
    for (unsigned i = 0; i < e->nclasses; i++)
        if (e->classes[i] == h)
            return;
    if (e->nclasses < sizeof e->classes / sizeof e->classes[0])
        e->classes[e->nclasses++] = h;
    r->classes = e->nclasses;
    r->class_set += h;
}

/* The path class of the execution just run: each thread's sequence of
 * sites (by thread), the clock at the end, the finding's kind. It does not
 * depend on the order between threads, so equivalent schedules share it;
 * it is made apart from the state cache's hash, so that a cache merging
 * states whose futures differ shows in a path class missing
 * (tests/machine_cache.sh). */
static void add_path(ex *e, np_mx_result *r, bool bad)
{
    uint64_t h = hmix(0x70617468ull, (uint64_t)mx.now);
    for (int i = 0; i < MX_MAX_THREADS; i++)
        h = hmix(h, e->path[i]);
    for (const char *k = bad ? mx.fkind : "end"; *k; k++)
        h = hmix(h, (unsigned char)*k);
    if (!h)
        h = 1;
    if (e->npaths * 2 >= e->paths_cap) {
        size_t cap = e->paths_cap ? e->paths_cap * 2 : 4096;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v)
            return;
        for (size_t i = 0; i < e->paths_cap; i++)
            if (e->paths[i])
                for (size_t j = e->paths[i] & (cap - 1);; j = (j + 1) & (cap - 1))
                    if (!v[j]) {
                        v[j] = e->paths[i];
                        break;
                    }
        free(e->paths);
        e->paths = v;
        e->paths_cap = cap;
    }
    for (size_t j = h & (e->paths_cap - 1);; j = (j + 1) & (e->paths_cap - 1)) {
        if (e->paths[j] == h)
            return;
        if (!e->paths[j]) {
            e->paths[j] = h;
            e->npaths++;
            r->paths = e->npaths;
            r->path_set += h;
            return;
        }
    }
}

static int explore(ex *e, np_mx_result *r)
{
    FILE *out = e->out;
    double t0 = now_s();
    int bound = e->bound;
    uint64_t cap = e->o->runs;
    if (e->strategy != S_DFS && cap == 0)
        cap = 1000;
    mnet_set_capacity(e->o->buffer);
    for (;;) {
        bool bad = execute(e);
        char why[200];
        if (e->cache && !mx_program_globals_check(why, sizeof why)) {
            fprintf(stderr, "netpoll explore: internal error: %s\n", why);
            r->seconds = now_s() - t0;
            return -1;
        }
        r->executions++;
        r->steps += e->n;
        r->cached += e->cut != SIZE_MAX;
        add_class(e, r, bad);
        add_path(e, r, bad);
        if (e->shards > 1 && e->shard != 0 && e->n && e->log[e->n - 1].preempts == 0 && !bad) {
            /* a schedule without preemption: shard 0's (see dfs_next) */
            bool any = false;
            for (size_t i = 0; i < e->n && !any; i++)
                any = e->log[i].prev != 0xff && e->log[i].thread != e->log[i].prev &&
                      (e->log[i].enabled & (1u << e->log[i].prev));
            if (!any) {
                r->executions--;
                r->steps -= e->n;
            }
        }
        if (e->n > r->max_steps)
            r->max_steps = e->n;
        if (e->strategy == S_PCT && e->n > e->pct_len)
            e->pct_len = e->n;
        if (e->diverged) {
            fprintf(stderr,
                    e->forced ? "netpoll explore: the schedule does not fit this program: "
                                "thread %u cannot take step %zu\n"
                              : "netpoll explore: internal error: the program is not "
                                "deterministic (thread %u, step %zu)\n",
                    e->forced ? e->forced[e->n] : e->dfs[e->n].thread, e->n);
            r->seconds = now_s() - t0;
            return -1;
        }
        if (bad) {
            record_finding(e, r);
            r->preemptions = preemptions(e);
            if (!e->quiet) {
                fprintf(out, "finding: %s: %s\n", r->kind, r->msg);
                fprintf(out, "  program %s, %d worker(s), %zu steps, %u preemption%s%s\n",
                        e->prog->name, e->o->workers, e->n, preemptions(e),
                        preemptions(e) == 1 ? "" : "s", e->minimized ? " (the fewest found)" : "");
                fprintf(out, "  schedule: %s\n", r->schedule);
                listing(e, out);
            }
            break;
        }
        if (e->forced)
            break;
        if (e->strategy == S_DFS && !dfs_next(e, bound)) {
            r->complete = true;
            break;
        }
        if (cap && r->executions >= cap)
            break;
        if (e->seconds > 0 && (r->executions & 63) == 0 && now_s() - t0 > e->seconds)
            break;
    }
    r->seconds = now_s() - t0;
    r->states = e->cache_used;
    return 0;
}

/* The child's watchdog (backend_sim/watchdog.h): the execution in progress
 * and its step count, which a loop with no scheduling point leaves as they
 * are. On a hang the child dies of SIGVTALRM, which run_children reports as
 * a finding of kind "hang" at the schedule reached. */
static shared *wd_sh;

static uint64_t wd_progress(void)
{
    return wd_sh->r.executions * UINT64_C(0x100000001) + wd_sh->cur_steps;
}

static void wd_hang(void)
{
    signal(SIGVTALRM, SIG_DFL);
    raise(SIGVTALRM);
}

static int child(ex *e)
{
    np_mx_result *r = &e->sh->r;
    e->log = calloc(MX_STEP_BOUND + 1, sizeof *e->log);
    e->dfs = calloc(MX_STEP_BOUND + 1, sizeof *e->dfs);
    if (e->strategy == S_DFS && !e->o->no_cache && !e->forced && !e->o->schedule)
        e->cache = mmap(NULL, sizeof *e->cache << CACHE_BITS, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (e->cache == MAP_FAILED)
        e->cache = NULL;                /* no room: explore without */
    mx_program_globals_select(e->prog); /* the cache's and the outcome classes' */
    if (!e->log || !e->dfs) {
        fprintf(stderr, "netpoll explore: out of memory\n");
        return 2;
    }
    if (!e->forced && e->o->schedule) {
        e->forced = malloc(MX_STEP_BOUND + 1);
        long n = e->forced ? decode(e->o->schedule, e->forced, MX_STEP_BOUND) : -1;
        e->nforced = (size_t)n;
    }
    cur_ex = e;
    np__ctx_init_thread(&mx.home); /* the sanitizers' view of this stack (TSan's fiber) */
    wd_sh = e->sh;
    np__wd_start(wd_progress, wd_hang);
    np__wd_start_blocked();
    int rc = explore(e, r);
    np__wd_stop();
    fflush(e->out);
    mx_free();
    return rc == 0 ? 0 : 3;
}

#if NP_COVERAGE
/* libgcov's (tests/coverage.sh builds with --coverage -DNP_COVERAGE=1): a
 * child writes its counts before _exit. (A weak reference would not pull
 * the function out of the static libgcov.) */
extern void __gcov_dump(void);
#endif

/* Runs the exploration e in n child processes (dfs shards when n > 1),
 * areas sh[0..n), and sums their results into r; *found_in is the child
 * whose finding r reports (-1: none). A child killed by a signal made a
 * finding (crash) at the schedule it had reached. 0, or -1 on an error. */
static int run_children(ex *e, int n, shared *sh, np_mx_result *r, int *found_in)
{
    memset(r, 0, sizeof *r);
    *found_in = -1;
    fflush(e->out);
    fflush(stderr);
    pid_t pids[16];
    int started = 0;
    for (; started < n; started++) {
        memset(&sh[started], 0, offsetof(shared, cur));
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "netpoll explore: fork: %s\n", strerror(errno));
            break;
        }
        if (pid == 0) {
            e->sh = &sh[started];
            e->shard = started;
            e->shards = n;
            int rc = child(e);
#if NP_COVERAGE
            __gcov_dump();
#endif
            _exit(rc);
        }
        pids[started] = pid;
    }
    int rc = started == n ? 0 : -1;
    bool done[16] = {0};
    for (int left = started; left > 0; left--) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, 0)) < 0 && errno == EINTR)
            ;
        if (pid < 0) {
            fprintf(stderr, "netpoll explore: waitpid: %s\n", strerror(errno));
            rc = -1;
            break;
        }
        int k = 0;
        while (k < started && pids[k] != pid)
            k++;
        if (k == started)
            continue;
        done[k] = true;
        shared *c = &sh[k];
        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
            int sig = WTERMSIG(status);
            c->r.found = true;
            c->r.executions++;
            if (sig == SIGVTALRM) { /* its watchdog */
                snprintf(c->r.kind, sizeof c->r.kind, "hang");
                snprintf(c->r.msg, sizeof c->r.msg,
                         "no step in 30 s of CPU time (a loop with no scheduling point), or in 6 s "
                         "of wall time with no CPU time (a deadlock of the process) in "
                         "execution %" PRIu64,
                         c->r.executions);
            } else {
                snprintf(c->r.kind, sizeof c->r.kind, "crash");
                snprintf(c->r.msg, sizeof c->r.msg,
                         "the runtime died of signal %d (%s) in execution %" PRIu64, sig,
                         strsignal(sig), c->r.executions);
            }
            encode(c->cur, (size_t)c->cur_steps, c->r.schedule, sizeof c->r.schedule);
            if (!e->quiet)
                fprintf(e->out, "finding: %s: %s after %llu steps\n  schedule: %s\n", c->r.kind,
                        c->r.msg, (unsigned long long)c->cur_steps, c->r.schedule);
        } else if (!WIFSIGNALED(status) && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
            rc = -1;
        }
        if (c->r.found || rc)
            for (int j = 0; j < started; j++) /* one finding is the answer */
                if (!done[j])
                    kill(pids[j], SIGTERM);
    }
    r->complete = rc == 0;
    for (int k = 0; k < started; k++) {
        const np_mx_result *c = &sh[k].r;
        r->executions += c->executions;
        r->steps += c->steps;
        r->cached += c->cached;
        r->states += c->states;
        r->classes += c->classes;
        r->class_set += c->class_set;
        r->paths += c->paths;
        r->path_set += c->path_set;
        if (c->max_steps > r->max_steps)
            r->max_steps = c->max_steps;
        if (c->seconds > r->seconds)
            r->seconds = c->seconds;
        r->complete = r->complete && c->complete;
        if (c->found && !r->found) {
            r->found = true;
            *found_in = k;
            memcpy(r->kind, c->kind, sizeof r->kind);
            memcpy(r->msg, c->msg, sizeof r->msg);
            memcpy(r->schedule, c->schedule, sizeof r->schedule);
            r->preemptions = c->preemptions;
        }
    }
    if (r->found)
        r->complete = false;
    return rc;
}

/* ---- the entry points ------------------------------------------------------------------ */

bool np_mx_program(size_t i, const char **name, const char **desc)
{
    const mx_program *p = mx_program_at(i);
    if (!p)
        return false;
    *name = p->name;
    *desc = p->desc;
    return true;
}

const char *np_mx_program_expects(const char *name)
{
    const mx_program *p = mx_program_find(name);
    return p ? p->expect : NULL;
}

int np_mx_explore(const np_mx_opts *o, np_mx_result *r)
{
    memset(r, 0, sizeof *r);
    ex e = {.o = o, .out = o->out ? o->out : stdout};
    e.prog = o->program ? mx_program_find(o->program) : NULL;
    if (!e.prog) {
        fprintf(stderr, "netpoll explore: unknown program '%s' (--program list shows them)\n",
                o->program ? o->program : "");
        return -1;
    }
    if (o->workers < 1 || o->workers > 3) {
        fprintf(stderr, "netpoll explore: --workers takes 1, 2 or 3 (simulated workers)\n");
        return -1;
    }
    const char *st = o->strategy ? o->strategy : "dfs";
    e.strategy = !strcmp(st, "dfs")      ? S_DFS
                 : !strcmp(st, "random") ? S_RANDOM
                 : !strcmp(st, "pct")    ? S_PCT
                                         : -1;
    if (e.strategy < 0) {
        fprintf(stderr, "netpoll explore: --strategy takes dfs, random or pct with --program\n");
        return -1;
    }
    e.design = np_design_find(o->design ? o->design : "go1.21");
    if (!e.design) {
        fprintf(stderr, "netpoll explore: unknown design '%s'\n", o->design);
        return -1;
    }
    if (o->schedule) {
        static uint8_t scratch[MX_STEP_BOUND + 1];
        if (decode(o->schedule, scratch, MX_STEP_BOUND) < 0) {
            fprintf(stderr,
                    "netpoll explore: --schedule: not a program schedule (thread ids 0-%d, "
                    "runs as T*N, separated by '.'; at most %u steps)\n",
                    MX_MAX_THREADS - 1, MX_STEP_BOUND);
            return -1;
        }
    }
    e.rng = o->seed ? o->seed * 0x9E3779B97F4A7C15ull : 0x2545F4914F6CDD1Dull;
    e.bound = o->preemptions;
    e.seconds = o->seconds;
    /* dfs splits over jobs; the other strategies run one child */
    int jobs = e.strategy == S_DFS && !o->schedule && o->jobs > 1 ? o->jobs : 1;
    if (jobs > 16)
        jobs = 16;
    /* the searchers' areas, then the minimizer's and the report's */
    size_t shsize = sizeof(shared) * (size_t)(jobs + 2);
    shared *sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        fprintf(stderr, "netpoll explore: mmap: %s\n", strerror(errno));
        return -1;
    }
    /* A finding is listed by replaying its schedule in a last child (the
     * searching one cannot go on after it), after a minimizer looked for
     * the same kind with fewer preemptions. */
    e.quiet = !o->schedule || o->quiet;
    int found_in = -1;
    int rc = run_children(&e, jobs, sh, r, &found_in);
    if (rc == 0 && r->found && !o->schedule) {
        shared *final = &sh[found_in];
        if (!o->no_minimize && final->r.preemptions > 0) {
            ex m = e;
            m.strategy = S_DFS;
            m.seconds = 5;
            for (unsigned pb = 0; pb < final->r.preemptions && pb <= 3; pb++) {
                m.bound = (int)pb;
                np_mx_result mr;
                int k = -1;
                memset(&sh[jobs], 0, sizeof sh[jobs]);
                if (run_children(&m, 1, &sh[jobs], &mr, &k) != 0)
                    break;
                r->executions += mr.executions;
                r->steps += mr.steps;
                if (mr.found && !strcmp(mr.kind, final->r.kind)) {
                    final = &sh[jobs];
                    e.minimized = true;
                    break;
                }
                if (mr.found)
                    break; /* another kind first: keep the finding as it is */
            }
        }
        memcpy(r->kind, final->r.kind, sizeof r->kind);
        memcpy(r->msg, final->r.msg, sizeof r->msg);
        r->preemptions = final->r.preemptions;
        encode(final->cur, (size_t) final->cur_steps, r->schedule, sizeof r->schedule);
        if (!o->quiet) {
            ex rep = e;
            rep.forced = final->cur;
            rep.nforced = (size_t) final->cur_steps;
            rep.quiet = false;
            np_mx_result rr;
            int k = -1;
            memset(&sh[jobs + 1], 0, sizeof sh[jobs + 1]);
            if (run_children(&rep, 1, &sh[jobs + 1], &rr, &k) == 0 && !rr.found)
                fprintf(e.out, "  (the replay of this schedule ran clean: the program is not "
                               "deterministic)\n");
        }
    }
    munmap(sh, shsize);
    return rc;
}
