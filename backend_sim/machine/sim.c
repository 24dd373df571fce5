/* backend_sim/machine/sim.c - the simulator backend: virtual clock, injected events.
 *
 * Pending events sit in an array sorted by (time, injection order), consumed
 * from `head`; injection is usually in time order, so insertion is an append
 * (O(n) memmove otherwise). Registrations are a table indexed by fd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/backend.h"
#include "netpoll/sim.h"
#include "seam.h"

typedef struct {
    int64_t at;     /* virtual delivery time */
    uint64_t order; /* injection counter: FIFO among equal times */
    np_event ev;
} sim_ev;

typedef struct {
    int fd;                  /* -1: never used; a slot once used keeps its fd */
    struct np_poll_desc *pd; /* registration of this fd, NULL if none (now) */
    uint32_t tag;
} sim_reg;

static struct {
    pthread_mutex_t lock; /* guards everything below but now */
    pthread_cond_t cond;  /* a blocked poll waits here for a break or an injection */
    bool up;              /* between init and fini */
    _Atomic int64_t now;  /* the virtual clock */
    sim_ev *q;            /* pending events, sorted, q[head..len) */
    size_t head, len, cap;
    uint64_t order;
    sim_reg *regs;        /* registrations: open addressing on fd (any int: traces name
                             descriptors freely), linear probing */
    size_t nregs;         /* slots (a power of two, or 0) */
    size_t used;          /* slots whose fd is set */
    unsigned brk_pending; /* breaks not yet consumed by a blocking poll (at most 1,
                             2 with a duplicated break) */
    np_sim_stats st;
    /* poller faults */
    np_sim_faults f;
    uint64_t rng;
    int eintr_run;         /* consecutive polls cut short when they began */
    bool blocked;          /* a driver's split poll is waiting (np_sim_block) */
    int64_t blocked_until; /* ... at most until then */
    int64_t sig_at;        /* ... and a signal interrupts it then (INT64_MAX: none) */
} sim = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* The slot for fd: its own, or the free one where it would go. */
static sim_reg *reg_slot(int fd)
{
    if (!sim.nregs)
        return NULL;
    for (size_t i = (uint32_t)fd * 2654435761u & (sim.nregs - 1);; i = (i + 1) & (sim.nregs - 1))
        if (sim.regs[i].fd == fd || sim.regs[i].fd == -1)
            return &sim.regs[i];
}

static sim_reg *reg_find(int fd)
{
    sim_reg *r = fd >= 0 ? reg_slot(fd) : NULL;
    return r && r->fd == fd && r->pd ? r : NULL;
}

static int reg_grow(void)
{
    size_t n = sim.nregs ? 2 * sim.nregs : 16;
    sim_reg *v = malloc(n * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = (sim_reg){-1, NULL, 0};
    sim_reg *old = sim.regs;
    size_t oldn = sim.nregs;
    sim.regs = v;
    sim.nregs = n;
    sim.used = 0;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].pd) { /* only live registrations move */
            *reg_slot(old[i].fd) = old[i];
            sim.used++;
        }
    free(old);
    return 0;
}

static uint64_t rnd_locked(void)
{
    sim.rng ^= sim.rng << 13;
    sim.rng ^= sim.rng >> 7;
    sim.rng ^= sim.rng << 17;
    return (sim.rng * 0x2545F4914F6CDD1Du) >> 32; /* xorshift64*: its high bits */
}

static void faults_reset_locked(void)
{
    sim.rng = sim.f.seed * 0x9E3779B97F4A7C15u | 1;
    sim.eintr_run = 0;
    sim.blocked = false;
    sim.sig_at = INT64_MAX;
}

/* Frees the registrations and the queue - except small ones, emptied and
 * kept for the next start (an exploration starts the backend 100,000s of
 * times with a handful of descriptors). */
static void release_locked(void)
{
    if (sim.nregs > 64 || sim.cap > 64) {
        free(sim.q);
        free(sim.regs);
        sim.q = NULL;
        sim.regs = NULL;
        sim.cap = sim.nregs = 0;
    }
    for (size_t i = 0; i < sim.nregs; i++)
        sim.regs[i] = (sim_reg){-1, NULL, 0};
    sim.head = sim.len = sim.used = 0;
}

static int sim_init(void)
{
    pthread_mutex_lock(&sim.lock);
    release_locked();
    sim.order = 0;
    sim.brk_pending = 0;
    memset(&sim.st, 0, sizeof sim.st);
    faults_reset_locked();
    atomic_store(&sim.now, NP_SIM_EPOCH);
    sim.up = true;
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

static void sim_fini(void)
{
    pthread_mutex_lock(&sim.lock);
    sim.up = false;
    release_locked();
    pthread_mutex_unlock(&sim.lock);
}

static int sim_open(int fd, struct np_poll_desc *pd, uint32_t tag)
{
    if (fd < 0)
        return -EBADF;
    pthread_mutex_lock(&sim.lock);
    if (reg_find(fd)) { /* as epoll_ctl(ADD) on a registered fd */
        pthread_mutex_unlock(&sim.lock);
        return -EEXIST;
    }
    if (2 * (sim.used + 1) > sim.nregs && reg_grow() != 0) {
        pthread_mutex_unlock(&sim.lock);
        return -ENOMEM;
    }
    sim_reg *r = reg_slot(fd);
    if (r->fd == -1)
        sim.used++;
    *r = (sim_reg){fd, pd, tag & NP_TAG_MASK};
    pthread_mutex_unlock(&sim.lock);
    return 0;
}

static int sim_close(int fd, bool fd_closing)
{
    (void)fd_closing; /* no kernel close(2) drops a simulated registration */
    pthread_mutex_lock(&sim.lock);
    int err = 0;
    sim_reg *r = reg_find(fd);
    if (!r)
        err = -ENOENT;
    else
        r->pd = NULL; /* the slot keeps its fd: probing passes over it */
    pthread_mutex_unlock(&sim.lock);
    return err;
}

/* Moves events due at or before now into out. */
static int deliver_locked(np_event *out, int max)
{
    int64_t now = atomic_load(&sim.now);
    int k = 0;
    while (k < max && sim.head < sim.len && sim.q[sim.head].at <= now)
        out[k++] = sim.q[sim.head++].ev;
    if (sim.head == sim.len)
        sim.head = sim.len = 0;
    sim.st.delivered += (uint64_t)k;
    return k;
}

/* Fault eintr, as a blocking poll starts: interrupted by a signal that came
 * while a split poll waited, or (at most twice in a row) one that comes just
 * as events or a break are pending. */
static bool eintr_locked(void)
{
    int64_t now = atomic_load(&sim.now);
    bool sig = sim.sig_at <= now;
    sim.sig_at = INT64_MAX;
    if (!sig && sim.eintr_run < 2 &&
        (sim.brk_pending || (sim.head < sim.len && sim.q[sim.head].at <= now)))
        sig = rnd_locked() % 3 == 0;
    if (!sig) {
        sim.eintr_run = 0;
        return false;
    }
    sim.eintr_run++;
    sim.st.eintrs++;
    return true;
}

static int sim_poll(int64_t delay, np_event *out, int max)
{
    pthread_mutex_lock(&sim.lock);
    sim.st.polls++;
    sim.blocked = false;
    if (sim.f.eintr && delay != 0 && eintr_locked()) {
        pthread_mutex_unlock(&sim.lock);
        return 0; /* EINTR: nothing delivered, nothing consumed */
    }
    int k = deliver_locked(out, max);
    if (k || delay == 0) {
        pthread_mutex_unlock(&sim.lock);
        return k;
    }
    for (;;) {
        if (sim.brk_pending) { /* only a blocking poll consumes a break */
            sim.brk_pending--;
            sim.st.woken++;
            pthread_mutex_unlock(&sim.lock);
            return 0;
        }
        int64_t now = atomic_load(&sim.now);
        bool have = false;
        int64_t target = 0;
        if (sim.head < sim.len) {
            target = sim.q[sim.head].at;
            have = true;
        }
        if (delay > 0) {
            int64_t until = delay > INT64_MAX - now ? INT64_MAX : now + delay;
            if (!have || until < target)
                target = until;
            have = true;
        }
        if (have) { /* nothing can happen before target: jump there */
            if (sim.f.eintr && target > now && rnd_locked() % 4 == 0) {
                /* fault: a signal interrupts the wait before target */
                atomic_store(&sim.now,
                             now + 1 + (int64_t)(rnd_locked() % (uint64_t)(target - now)));
                sim.st.eintrs++;
                pthread_mutex_unlock(&sim.lock);
                return 0;
            }
            if (target > now)
                atomic_store(&sim.now, target);
            k = deliver_locked(out, max);
            pthread_mutex_unlock(&sim.lock);
            return k;
        }
        /* Blocked forever in the virtual world: only another thread's
         * injection or break can end this wait. */
        pthread_cond_wait(&sim.cond, &sim.lock);
    }
}

static void sim_brk(void)
{
    pthread_mutex_lock(&sim.lock);
    sim.st.breaks++;
    if (sim.f.lost_break && rnd_locked() % 2 == 0) { /* fault: dropped */
        sim.st.lost_breaks++;
        pthread_mutex_unlock(&sim.lock);
        return;
    }
    if (!sim.brk_pending)
        sim.brk_pending = 1;                        /* coalesced */
    if (sim.f.dup_break && rnd_locked() % 2 == 0) { /* fault: it comes twice */
        sim.brk_pending = 2;
        sim.st.dup_breaks++;
    }
    pthread_cond_broadcast(&sim.cond);
    pthread_mutex_unlock(&sim.lock);
}

static _Atomic bool alloc_fails; /* np_sim_set_alloc_failure */

void np_sim_set_alloc_failure(bool on)
{
    atomic_store(&alloc_fails, on);
}

void *np__sim_aligned_alloc(size_t align, size_t size)
{
    if (atomic_load(&alloc_fails)) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned_alloc(align, size);
}

void np_sim_set_faults(const np_sim_faults *f)
{
    pthread_mutex_lock(&sim.lock);
    sim.f = f ? *f : (np_sim_faults){0};
    faults_reset_locked();
    pthread_mutex_unlock(&sim.lock);
}

void np_sim_block(int64_t until)
{
    pthread_mutex_lock(&sim.lock);
    int64_t now = atomic_load(&sim.now);
    sim.blocked = true;
    sim.blocked_until = until;
    sim.sig_at = INT64_MAX;
    if (sim.f.eintr && rnd_locked() % 3 == 0) { /* fault: a signal comes while it waits */
        int64_t span = until == INT64_MAX ? 20000 : until - now;
        if (span > 1)
            sim.sig_at = now + 1 + (int64_t)(rnd_locked() % (uint64_t)(span - 1));
    }
    pthread_mutex_unlock(&sim.lock);
}

int64_t np_sim_due(void)
{
    pthread_mutex_lock(&sim.lock);
    int64_t now = atomic_load(&sim.now), due = INT64_MAX;
    if (sim.blocked) {
        due = sim.blocked_until;
        if (sim.head < sim.len && sim.q[sim.head].at < due)
            due = sim.q[sim.head].at;
        if (sim.sig_at < due)
            due = sim.sig_at;
        if (sim.brk_pending || due < now)
            due = now;
    }
    pthread_mutex_unlock(&sim.lock);
    return due;
}

static int64_t sim_now(void)
{
    return atomic_load(&sim.now);
}

static int inject_locked(int64_t at, struct np_poll_desc *pd, uint32_t tag, int mode, bool err_only)
{
    uint8_t m = err_only ? (NP_EV_R | NP_EV_W)
                         : (uint8_t)((mode == NP_MODE_R || mode == NP_MODE_RW ? NP_EV_R : 0) |
                                     (mode == NP_MODE_W || mode == NP_MODE_RW ? NP_EV_W : 0));
    if (!m || !pd)
        return -EINVAL;
    int64_t now = atomic_load(&sim.now);
    if (at < now)
        at = now;
    if (sim.len == sim.cap) {
        if (sim.head > 0) { /* reclaim the consumed prefix first */
            memmove(sim.q, sim.q + sim.head, (sim.len - sim.head) * sizeof *sim.q);
            sim.len -= sim.head;
            sim.head = 0;
        }
        if (sim.len == sim.cap) {
            size_t n = sim.cap ? sim.cap * 2 : 256;
            sim_ev *q = realloc(sim.q, n * sizeof *q);
            if (!q)
                return -ENOMEM;
            sim.q = q;
            sim.cap = n;
        }
    }
    size_t i = sim.len;
    while (i > sim.head && sim.q[i - 1].at > at)
        i--;
    memmove(sim.q + i + 1, sim.q + i, (sim.len - i) * sizeof *sim.q);
    sim.q[i] = (sim_ev){at, sim.order++, {pd, tag & NP_TAG_MASK, m, err_only, false}};
    sim.len++;
    pthread_cond_broadcast(&sim.cond);
    return 0;
}

int np_sim_inject_raw(int64_t at, np_poll_desc *pd, uint32_t tag, int mode, bool err_only)
{
    pthread_mutex_lock(&sim.lock);
    int err = sim.up ? inject_locked(at, pd, tag, mode, err_only) : -ESRCH;
    pthread_mutex_unlock(&sim.lock);
    return err;
}

int np_sim_inject(int64_t at, int fd, int mode, bool err_only)
{
    pthread_mutex_lock(&sim.lock);
    int err;
    if (!sim.up)
        err = -ESRCH;
    else if (!reg_find(fd))
        err = -ENOENT;
    else
        err = inject_locked(at, reg_find(fd)->pd, reg_find(fd)->tag, mode, err_only);
    pthread_mutex_unlock(&sim.lock);
    return err;
}

int np_sim_set_now(int64_t t)
{
    pthread_mutex_lock(&sim.lock);
    int err = 0;
    if (t < atomic_load(&sim.now))
        err = -EINVAL;
    else
        atomic_store(&sim.now, t);
    pthread_mutex_unlock(&sim.lock);
    return err;
}

int64_t np_sim_tag(int fd)
{
    pthread_mutex_lock(&sim.lock);
    int64_t t = -ENOENT;
    sim_reg *r = reg_find(fd);
    if (r)
        t = r->tag;
    pthread_mutex_unlock(&sim.lock);
    return t;
}

void np_sim_get_stats(np_sim_stats *out)
{
    pthread_mutex_lock(&sim.lock);
    *out = sim.st;
    out->pending = sim.len - sim.head;
    pthread_mutex_unlock(&sim.lock);
}

#if !NP_SIM
/* The live build has no scheduling points. */
void np_sim_set_hooks(const np_sim_hooks *hooks)
{
    (void)hooks;
}
uint64_t np_sim_points(void)
{
    return 0;
}
#endif

const np_backend np_backend_sim = {
    .name = "sim",
    .max_workers = 1,        /* deterministic only with one worker */
    .reports_hangup = false, /* no kernel socket behind its events: no read skipping */
    .init = sim_init,
    .fini = sim_fini,
    .open = sim_open,
    .close = sim_close,
    .poll = sim_poll,
    .brk = sim_brk,
    .now = sim_now,
    .now_coarse = NULL, /* every clock read is exact, and a scheduling point */
};
