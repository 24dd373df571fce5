/* backend_sim/machine/mach.c - the simulated machine's threads (see mach.h).
 *
 * Simulated OS threads are contexts on stacks of their own, run one at a
 * time on the calling OS thread. A thread runs from one scheduling point to
 * the next: at each point (core/seam.h: an atomic, a lock, a semaphore, a
 * system call, a thread's creation or join) it hands the turn back to the
 * explorer, which picks the thread that takes the next step (mexplore.c).
 * Locks, semaphores, joins and the poller block a thread by handing the
 * turn back as not enabled; it is enabled again once its condition holds.
 * Tasks switch contexts inside their simulated thread exactly as they do on
 * an OS thread, so the thread's saved context is wherever it stood: on a
 * task's stack or on its own.
 */
#include "mach.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fatal.h"
#include "record.h"
#include "seam.h"

#define MX_THREAD_STACK (256 * 1024)

mx_machine mx;

void (*np__sim_observe)(uint64_t v); /* the world explorer's hook: unused here */

/* ---- switching ---------------------------------------------------------------- */

static mx_thread *self(void)
{
    return mx.cur >= 0 ? &mx.th[mx.cur] : NULL;
}

/* The running thread hands the turn back to the explorer. Its context's
 * stack bounds are forgotten, to be learnt on arrival (ASan: it may be on a
 * task's stack now, see core/ctx.c). */
static void to_explorer(mx_thread *t)
{
    t->at.stack_lo = NULL;
    t->at.stack_size = 0;
    np__ctx_switch(&t->at, &mx.home);
}

static void block(mx_thread *t, int bk, const void *obj)
{
    t->state = MT_BLOCK;
    t->bk = bk;
    t->bobj = obj;
    to_explorer(t);
}

bool mx_enabled(int i)
{
    const mx_thread *t = &mx.th[i];
    switch (t->state) {
    case MT_RUN:
        return true;
    case MT_BLOCK:
        switch (t->bk) {
        case MB_LOCK:
            return ((const np__mutex *)t->bobj)->owner == 0;
        case MB_SEM:
            return ((const np__ossem *)t->bobj)->count > 0;
        case MB_JOIN:
            return mx.th[*(const int *)t->bobj].state == MT_DONE;
        case MB_POLL:
            return t->timed_out || mnet_poll_ready();
        case MB_BUSY:
            return mx.now >= t->until;
        }
        return false;
    default:
        return false;
    }
}

void mx_run(int i)
{
    mx_thread *t = &mx.th[i];
    if (t->state == MT_BLOCK)
        t->state = MT_RUN;
    mx.cur = i;
    np__ctx_switch(&mx.home, &t->at);
    mx.cur = -1;
}

_Noreturn void mx_fail(const char *kind, const char *file, int line, const char *fmt, ...)
{
    if (!mx.finding) {
        mx.finding = true;
        snprintf(mx.fkind, sizeof mx.fkind, "%s", kind);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(mx.fmsg, sizeof mx.fmsg, fmt, ap);
        va_end(ap);
        mx.ffile = file;
        mx.fline = line;
        mx.fault_thread = mx.cur;
    }
    mx_thread *t = self();
    if (!t) {
        fprintf(stderr, "netpoll machine: %s: %s\n", kind, mx.fmsg);
        abort();
    }
    t->state = MT_DONE; /* never runs again: the execution ends */
    for (;;)
        to_explorer(t);
}

/* ---- histories (state caching) -------------------------------------------------------
 *
 * The dfs of mexplore.c caches states: a state met before, with at most as
 * many preemptions spent and the same thread last to run (or one fewer
 * after another thread), has had every continuation explored, so its
 * schedule is not branched again. That is
 * sound only if two states that hash equal have the same futures. The
 * machine's state is the runtime's memory (run queues, runnext, the global
 * queue, sleepers, the timer heap, semaphores, fdMutex words, pollDescs,
 * tasks and their stacks), the simulated kernel (mnet.c), the clock, and per
 * simulated thread where it stands. Much of it is plain memory on task
 * stacks and in structs that cannot be hashed field by field with any
 * confidence, so the hash is not of the memory but of how it came about
 * (the standard argument of partial-order reduction: Mazurkiewicz traces):
 *
 *  - A simulated thread is deterministic between its scheduling points: its
 *    local state (its stack, the task it runs, the task's stack, its
 *    thread-locals) is a function of its start and of what it read from
 *    shared memory at each step. At each step the thread's history takes in
 *    the step's site (kind, file, line), the clock (the only other input of
 *    a step: np_now is not a point, and the clock moves only between
 *    steps), the value of the programs' shared variables (below) and the
 *    VERSION of the object the step operates on.
 *  - Every object a step can operate on has a version: an atomic word (its
 *    address, as the seam names it), a lock, a semaphore, a thread (joined),
 *    and the simulated kernel as one object (every system call and poll).
 *    An operation that may write the object (everything but an atomic load)
 *    mixes the thread's history into the version; so does an unlock (the
 *    data the lock guards was written by a holder whose history is the one
 *    at its unlock) and a thread's end (for its joiner).
 *  - Plain memory shared between simulated threads (a task's stack and
 *    fields when it moves to another worker, a ring's slots, a timer heap
 *    under its lock, a pollDesc's fields under its lock) is accessed
 *    data-race free: ordered by those operations (TSan checks that for the
 *    live build, which is the same code). So its contents are a function of
 *    the versions and histories: a reader's history took in the version of
 *    the lock or atomic that ordered the write before it.
 *  - Two states whose threads have equal histories (and equal object
 *    versions, summed into the hash too) are then reached by the same
 *    partial order of operations, each reading what it read in the other,
 *    and have the same memory up to the addresses malloc chose. Histories
 *    do not say what was read: a pointer or a value that differs makes the
 *    version differ first. The one decision by address is np_select's lock
 *    order over several channels (core/sync.c); a program that selects so
 *    keeps the channels in its statics, which are hashed by value (below),
 *    and gives them their roles by address (sync_select_cases).
 *  - The programs (programs.c) share plain static variables between tasks
 *    that may run on different workers without the runtime ordering the
 *    accesses (lost_update and spread do on purpose). A step reads those
 *    as they were when it began (steps are indivisible), so their value is
 *    taken into the history of every step and into the state's hash
 *    (mx_program_globals_hash; tests/check_state_fields.sh fails if a
 *    static of programs.c is missing from its list).
 *
 * What this assumes, and leaves out: the runtime is data-race free in the
 * machine build as live (a race the seam does not order would be merged
 * away); the atomics that bypass the seam are statistics read by no
 * decision (rt.polls, breaks, np__stale_events; NOT_STATE in the lists
 * beside the structs), or belong to code no program runs on the machine
 * (core/record.c, off here; net_more.c's resolver; sema.c's wait of a
 * thread that is not a task, on a pthread condition variable): a program
 * that used those would need them on the seam first. Objects past the
 * version table's room share one version: more dependences, still sound.
 *
 * What a finding depends on besides: the explorer's own per-execution state
 * (its idle-worker bookkeeping, the steps taken, the thread that ran last,
 * the preemptions spent) is in the key or the comparison (mexplore.c).
 * Hashes are 64 bits: a collision (about n^2 / 2^65 for n states) would
 * merge two states; at 10^7 states that is a chance of a few in a million.
 * `--no-cache` explores without.
 */

#define MX_OBJS 2048 /* objects with a version per execution (a power of two) */

static struct {
    struct {
        const volatile void *a;
        uint64_t v;
        uint32_t gen;
    } o[MX_OBJS];
    uint32_t gen;    /* this execution's (entries of older ones are free) */
    unsigned used;   /* entries this execution */
    uint64_t shared; /* the version of the objects past the table's room */
    uint64_t sum;    /* the sum of mix(0, version) over the objects */
} objs;

static const char mx_kernel_obj; /* the simulated kernel, as one object */

static inline uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* The version of object a (0 if never written in this execution). */
static uint64_t *version(const volatile void *a)
{
    size_t i = (size_t)(((uintptr_t)a * 0x9e3779b97f4a7c15ull) >> 40) & (MX_OBJS - 1);
    for (;; i = (i + 1) & (MX_OBJS - 1)) {
        if (objs.o[i].gen != objs.gen) {
            if (objs.used >= MX_OBJS / 2)
                return &objs.shared; /* a full table: the objects past its room
                                        share one version (more dependences than
                                        there are: still sound) */
            objs.o[i].gen = objs.gen;
            objs.o[i].a = a;
            objs.o[i].v = 0;
            objs.used++;
            return &objs.o[i].v;
        }
        if (objs.o[i].a == a)
            return &objs.o[i].v;
    }
}

static void version_write(const volatile void *a, uint64_t h)
{
    uint64_t *v = version(a);
    uint64_t nv = mix(*v, h);
    objs.sum += mix(0, nv) - mix(0, *v); /* a multiset: addresses are malloc's */
    *v = nv;
}

uint64_t mx_hist_objects(void)
{
    return objs.sum;
}

void mx_hist_step(int i, uint64_t globals)
{
    mx_thread *t = &mx.th[i];
    const volatile void *obj = NULL;
    bool writes = true;
    if (t->state == MT_BLOCK) {
        switch (t->bk) {
        case MB_LOCK:
        case MB_SEM:
            obj = t->bobj;
            break;
        case MB_JOIN:
            obj = &mx.th[*(const int *)t->bobj];
            writes = false;
            break;
        default:
            obj = &mx_kernel_obj;
        }
    } else if (t->kind == NP_PT_SYS) {
        obj = &mx_kernel_obj;
    } else {
        obj = t->addr;
        writes = t->kind != NP_PT_LOAD;
    }
    /* What the step sees, in one word (odd multipliers: a collision would need
     * two inputs to change together by amounts that cancel), then mixed in. */
    uint64_t in = ((uintptr_t)t->file ^ (uint64_t)t->line << 40 ^ (uint64_t)t->kind << 58) +
                  (uint64_t)mx.now * 0xd6e8feb86659fd93ull + globals * 0xa0761d6478bd642full +
                  ((uint64_t)t->state << 8 | (uint64_t)t->timed_out) * 0xe7037ed1a0b428dbull;
    uint64_t *v = obj ? version(obj) : NULL;
    if (v)
        in += *v * 0x8ebc6af09c88c6e3ull;
    uint64_t h = mix(t->hist, in);
    if (v && writes) {
        uint64_t nv = mix(*v, h);
        objs.sum += mix(0, nv) - mix(0, *v);
        *v = nv;
    }
    t->hist = h;
}

/* ---- the seam's hooks ------------------------------------------------------------- */

void np__sim_point(enum np_point_kind kind, const volatile void *addr, const char *file, int line)
{
    (void)addr;
    mx_thread *t = self();
    if (!t)
        return; /* the explorer itself (setting up): not a step */
    /* The clock moves only when no thread can step (mexplore.c), so a
     * reading of it commutes with every other thread's step: not a point. */
    if (kind == NP_PT_NOW)
        return;
    t->kind = (int)kind;
    t->addr = addr;
    t->file = file;
    t->line = line;
    if (mx.decide) {
        int next = mx.decide();
        if (next == mx.cur)
            return; /* it goes on: no switch */
        mx.next = next;
    }
    to_explorer(t);
}

void np__sim_fail(const char *name, const char *msg)
{
    mx_fail(name, NULL, 0, "%s", msg);
}

void np__sim_lock(np__mutex *m, const char *file, int line)
{
    np__sim_point(NP_PT_LOCK, m, file, line);
    mx_thread *t = self();
    if (!t) {
        if (m->owner)
            np__fatal("machine: lock %p held at %s:%d outside the machine", (void *)m, file, line);
        m->owner = -1;
        m->acquired++;
        return;
    }
    while (m->owner) {
        if (m->owner == mx.cur + 1)
            mx_fail("deadlock", file, line, "thread %d takes lock %p that it holds already", mx.cur,
                    (void *)m);
        block(t, MB_LOCK, m);
    }
    m->owner = mx.cur + 1;
    m->acquired++;
}

void np__sim_unlock(np__mutex *m, const char *file, int line)
{
    if (!m->owner)
        mx_fail("crash", file, line, "unlock of lock %p, which is free", (void *)m);
    (void)file, (void)line;
    if (mx.hist && mx.cur >= 0)
        version_write(m, mx.th[mx.cur].hist); /* what it guards, as its holder left it */
    /* No point after the release: up to the thread's next point it does
     * only thread-local work, so the other threads' steps that could come
     * between are explored at that next point anyway (a point here would
     * only repeat every interleaving once more). */
    m->owner = 0;
}

void np__m_sem_post(np__ossem *s, const char *file, int line)
{
    np__sim_point(NP_PT_SEM, s, file, line);
    s->count++;
}

void np__m_sem_wait(np__ossem *s, const char *file, int line)
{
    np__sim_point(NP_PT_SEM, s, file, line);
    mx_thread *t = self();
    while (s->count == 0) {
        if (!t)
            np__fatal("machine: semaphore wait outside the machine");
        block(t, MB_SEM, s);
    }
    s->count--;
}

void **np__m_tls(void)
{
    static void *outside;
    mx_thread *t = self();
    return t ? &t->tls : &outside;
}

void *np__sim_rec_sec(void)
{
    static _Alignas(8) unsigned char outside[NP_SIM_REC_SEC_BYTES];
    mx_thread *t = self();
    return t ? t->rec_sec : outside;
}

static void thread_entry(void *p)
{
    mx_thread *t = p;
    t->fn(t->arg);
    if (mx.hist)
        version_write(t, t->hist); /* for its joiner */
    t->state = MT_DONE;
    for (;;)
        to_explorer(t);
}

static int new_thread(void *(*fn)(void *), void *arg)
{
    if (mx.nth == MX_MAX_THREADS)
        return -1;
    int i = mx.nth++;
    mx_thread *t = &mx.th[i];
    if (!t->stack) {
        t->stack_size = MX_THREAD_STACK;
        t->stack = mmap(NULL, t->stack_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (t->stack == MAP_FAILED) {
            t->stack = NULL;
            mx.nth--;
            return -1;
        }
    }
    t->state = MT_RUN;
    t->fn = fn;
    t->arg = arg;
    t->tls = NULL;
    memset(t->rec_sec, 0, sizeof t->rec_sec);
    t->timed_out = false;
    t->kind = NP_PT_THREAD;
    t->addr = NULL;
    /* its start: made by the running thread (or the explorer) */
    t->hist = mix(mx.cur >= 0 ? mx.th[mx.cur].hist : 0x6d61636869ull, (uint64_t)i);
    t->file = "(start)";
    t->line = 0;
    np__ctx_make(&t->at, t->stack, t->stack_size, thread_entry, t);
    t->fiber = t->at.tsan_fiber;
    return i;
}

int np__m_thread_create(np__osthread *th, void *(*fn)(void *), void *arg)
{
    np__sim_point(NP_PT_THREAD, th, __FILE__, __LINE__);
    int i = new_thread(fn, arg);
    if (i < 0)
        return EAGAIN;
    *th = i;
    return 0;
}

void np__m_thread_join(np__osthread th)
{
    np__sim_point(NP_PT_THREAD, &mx.th[th], __FILE__, __LINE__);
    mx_thread *t = self();
    static int ids[MX_MAX_THREADS];
    ids[th] = th;
    while (mx.th[th].state != MT_DONE)
        block(t, MB_JOIN, &ids[th]);
}

/* The poller's wait (mnet.c): until events, a break or the clock at until. */
void mx_block_poll(int64_t until);
void mx_block_poll(int64_t until)
{
    mx_thread *t = self();
    t->until = until;
    t->timed_out = until <= mx.now;
    while (!t->timed_out && !mnet_poll_ready())
        block(t, MB_POLL, NULL);
    t->until = INT64_MAX;
}

void mx_busy(int64_t ns)
{
    mx_thread *t = self();
    if (!t || ns <= 0)
        return;
    t->until = mx.now + ns;
    while (mx.now < t->until)
        block(t, MB_BUSY, NULL);
    t->until = INT64_MAX;
}

/* ---- executions ---------------------------------------------------------------------- */

void mx_reset(void)
{
    for (int i = 0; i < mx.nth; i++) {
        mx.th[i].at.tsan_fiber = mx.th[i].fiber; /* not a task's */
        np__ctx_destroy(&mx.th[i].at);
        mx.th[i].state = MT_FREE;
    }
    mx.nth = 0;
    mx.cur = -1;
    mx.now = MX_EPOCH;
    mx.steps = 0;
    mx.finding = false;
    mx.fkind[0] = mx.fmsg[0] = 0;
    mx.ffile = NULL;
    mx.fline = 0;
    mx.fault_thread = -1;
    mx.decide = NULL;
    mx.next = MX_NO_NEXT;
    objs.gen++;
    objs.used = 0;
    objs.shared = 0;
    objs.sum = 0;
    mnet_reset();
}

int mx_spawn_main(void *(*fn)(void *), void *arg)
{
    return new_thread(fn, arg) == 0 ? 0 : -1;
}

void mx_free(void)
{
    for (int i = 0; i < MX_MAX_THREADS; i++)
        if (mx.th[i].stack) {
            munmap(mx.th[i].stack, mx.th[i].stack_size);
            mx.th[i].stack = NULL;
        }
}
