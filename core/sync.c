/* core/sync.c - mutex, wait group, channels and select for tasks
 * (netpoll/sync.h; Go: sync/mutex.go, sync/waitgroup.go, runtime/chan.go,
 * runtime/select.go).
 *
 * Waiting. A task that must wait puts a waiter record on its own stack into
 * the object's queue under the object's spinlock, then parks with a commit
 * that releases the lock (as core/sema.c does): the commit runs once the
 * task is off its stack, so a waker - who needs the lock to find the
 * record - can only find a parked task, and readies it at once. Nothing
 * here parks or readies except through np_park and np_ready, and no lock is
 * held across a park (the commit releases it) or across an np_ready.
 *
 * Exactly one wake-up per park. A mutex or wait group waiter is taken off
 * its queue by its waker, under the lock, so nobody else can find it. A
 * channel waiter (a "sudog", Go's name) may sit in several queues at once
 * (one per select case) and may also have a deadline timer: each of these
 * wakers first claims the whole select with a CAS on its `done` word
 * (0 -> 1, Go: selectDone), and only the one whose CAS succeeds completes
 * the operation and readies the task; the others just unlink the stale
 * record. So a send racing a select's timeout delivers one outcome.
 *
 * Lifetimes. Waiter records live on the waiting task's stack, which lasts
 * until the task returns from the call. A record in a queue is reachable
 * only under its object's lock; the owner unlinks whatever records are still
 * queued (under the same locks) before it returns. A deadline timer's record
 * is reachable from the runtime's timer heap without any of our locks: if
 * np__timer_del finds the timer already taken off the heap, the task waits
 * (parked) until the timer function says it is done with the record
 * (sel.tstate below) before it returns.
 *
 * Lock order: a select locks its channels in address order (Go's lockorder),
 * so two selects over the same channels cannot deadlock; the timer lock is
 * taken under channel locks (np__timer_set in the commit), never the
 * reverse (the timer function takes no channel lock).
 */
#include "netpoll/sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "netpoll/runtime.h"
#include "netpoll/task.h"
#include "scheduler.h"
#include "seam.h" /* NP_RT_*: scheduling points in the machine build; spinlock.h */

/* ---- waiting on one lock: mutex and wait group ------------------------------- */

typedef struct waiter {
    struct waiter *next; /* in the object's FIFO, under its lock */
    np_task *task;       /* the parked task */
} waiter;

typedef struct wqueue {
    waiter *head, *tail; /* oldest first */
} wqueue;

static void wq_push(wqueue *q, waiter *w)
{
    w->next = NULL;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}

/* Runs on the worker's stack once the task is off its own: from now on a
 * waker may find the task queued and ready it. */
static bool unlock_commit(np_task *t, void *lock)
{
    (void)t;
    np__spin_unlock(lock);
    return true;
}

/* Queues the calling task on q and parks it, releasing l (held on entry) in
 * the commit. Returns once a waker has taken the record off q and readied
 * the task. */
static void wait_locked(np__spinlock *l, wqueue *q, const char *what)
{
    waiter w = {.task = np_self()};
    if (!w.task) {
        np__spin_unlock(l);
        np__fatal("%s would have to wait outside a task", what);
    }
    wq_push(q, &w);
    np_park(unlock_commit, l);
}

/* ---- mutex ------------------------------------------------------------------- */

typedef struct mutex_impl {
    np__spinlock lock; /* guards the fields below */
    uint32_t locked;   /* 1 while someone owns it (also during a handoff) */
    wqueue waiters;    /* tasks in np_mutex_lock, oldest first */
} mutex_impl;

_Static_assert(sizeof(mutex_impl) <= sizeof(np_mutex), "np_mutex too small");
_Static_assert(_Alignof(mutex_impl) <= _Alignof(np_mutex), "np_mutex under-aligned");

/* The public struct is storage for this one; only this file reads it, always
 * through this type. All-zero bytes are a valid unlocked mutex (a clear
 * atomic_flag and the machine build's free simulated lock are both zero). */
static mutex_impl *mx(np_mutex *m)
{
    return (mutex_impl *)(void *)m;
}

void np_mutex_init(np_mutex *m)
{
    memset(m, 0, sizeof *m);
    np__spin_init(&mx(m)->lock);
}

void np_mutex_lock(np_mutex *m)
{
    mutex_impl *x = mx(m);
    np__spin_lock(&x->lock);
    if (!x->locked) {
        x->locked = 1;
        np__spin_unlock(&x->lock);
        return;
    }
    wait_locked(&x->lock, &x->waiters, "np_mutex_lock");
    /* Resumed by np_mutex_unlock's handoff: the mutex is ours. */
}

bool np_mutex_trylock(np_mutex *m)
{
    mutex_impl *x = mx(m);
    np__spin_lock(&x->lock);
    bool got = !x->locked;
    x->locked = 1;
    np__spin_unlock(&x->lock);
    return got;
}

void np_mutex_unlock(np_mutex *m)
{
    mutex_impl *x = mx(m);
    np__spin_lock(&x->lock);
    if (!x->locked) {
        np__spin_unlock(&x->lock);
        np__fatal("np_mutex_unlock: unlock of unlocked mutex %p", (void *)m);
    }
    waiter *w = x->waiters.head;
    if (!w) {
        x->locked = 0;
        np__spin_unlock(&x->lock);
        return;
    }
    x->waiters.head = w->next;
    if (!x->waiters.head)
        x->waiters.tail = NULL;
    np_task *t = w->task; /* w lives on the waiter's stack: read it first */
    np__spin_unlock(&x->lock);
    np_ready(t); /* handoff: `locked` stays 1, now on t's behalf */
}

/* ---- wait group -------------------------------------------------------------- */

typedef struct wg_impl {
    np__spinlock lock; /* guards the fields below */
    int64_t count;     /* the counter; never negative */
    wqueue waiters;    /* tasks in np_waitgroup_wait */
} wg_impl;

_Static_assert(sizeof(wg_impl) <= sizeof(np_waitgroup), "np_waitgroup too small");
_Static_assert(_Alignof(wg_impl) <= _Alignof(np_waitgroup), "np_waitgroup under-aligned");

static wg_impl *wgx(np_waitgroup *wg)
{
    return (wg_impl *)(void *)wg;
}

void np_waitgroup_init(np_waitgroup *wg)
{
    memset(wg, 0, sizeof *wg);
    np__spin_init(&wgx(wg)->lock);
}

void np_waitgroup_add(np_waitgroup *wg, int64_t delta)
{
    wg_impl *x = wgx(wg);
    np__spin_lock(&x->lock);
    int64_t c = x->count;
    if ((delta < 0 && c < -delta) || (delta > 0 && c > INT64_MAX - delta)) {
        np__spin_unlock(&x->lock);
        np__fatal("np_waitgroup_add: %s wait group counter (%lld %+lld)",
                  delta < 0 ? "negative" : "overflowing", (long long)c, (long long)delta);
    }
    x->count = c + delta;
    waiter *w = NULL;
    if (x->count == 0) {
        w = x->waiters.head; /* release every waiter; the group is reusable */
        x->waiters.head = x->waiters.tail = NULL;
    }
    np__spin_unlock(&x->lock);
    while (w) {
        waiter *next = w->next; /* w is gone once its task runs */
        np_ready(w->task);
        w = next;
    }
}

void np_waitgroup_done(np_waitgroup *wg)
{
    np_waitgroup_add(wg, -1);
}

void np_waitgroup_wait(np_waitgroup *wg)
{
    wg_impl *x = wgx(wg);
    np__spin_lock(&x->lock);
    if (x->count == 0) {
        np__spin_unlock(&x->lock);
        return;
    }
    wait_locked(&x->lock, &x->waiters, "np_waitgroup_wait");
}

/* ---- channels ------------------------------------------------------------------ */

struct sel;

/* One case of a waiting operation, queued on its channel (Go: sudog). */
typedef struct sudog {
    struct sudog *prev, *next; /* in the channel's recvq or sendq (its lock) */
    struct sel *sel;           /* the operation it belongs to */
    void *elem;                /* send: the value; recv: its destination or NULL */
    int index;                 /* the case's index, reported when it fires */
    bool queued;               /* linked in a queue (its channel's lock) */
} sudog;

typedef struct sudog_q {
    sudog *first, *last;
} sudog_q;

struct np_chan {
    np__spinlock lock;    /* guards every field below but the constants */
    size_t elem_size;     /* constant */
    size_t cap;           /* constant: buffer slots, 0 = unbuffered */
    size_t len;           /* values in the buffer */
    size_t recvx;         /* slot of the oldest buffered value */
    bool closed;          /* np_chan_close has run */
    sudog_q recvq, sendq; /* waiting receivers / senders, oldest first */
    unsigned char *buf;   /* cap * elem_size bytes after the struct */
};

/* The state of a select's parked task. Claimed exactly once: `done` goes
 * 0 -> 1 by CAS (a channel operation under that channel's lock, or the
 * deadline timer), and only the claimer sets fired/ok and readies the task. */
typedef struct sel {
    np_task *task;         /* the parked task (constant while queued) */
    _Atomic uint32_t done; /* 0 while waiting; 1 once claimed */
    int fired;             /* case index, or SEL_TIMEOUT; written by the claimer */
    bool ok;               /* the fired case took effect (false: closed) */
    /* The commit's view: the locks to release, in address order. */
    np_chan **locks;
    size_t nlocks;
    int64_t deadline; /* 0: no timer */
    /* The deadline timer and whether its function is done with this record:
     * TS_ARMED until it runs or is deleted; the function sets TS_DONE when
     * it no longer touches the record; TS_WAITING: the task, which found the
     * timer already off the heap, is parked until then. */
    np_timer timer;
    _Atomic uint32_t tstate;
} sel;

enum { SEL_TIMEOUT = -1 };
enum { TS_ARMED, TS_WAITING, TS_DONE };

static void chan_lock(np_chan *c)
{
    np__spin_lock(&c->lock);
}
static void chan_unlock(np_chan *c)
{
    np__spin_unlock(&c->lock);
}

static void copy_elem(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}

static void zero_elem(void *dst, size_t n)
{
    if (dst && n)
        memset(dst, 0, n);
}

static void *slot(np_chan *c, size_t i)
{
    return c->buf + i * c->elem_size;
}

static void sq_push(sudog_q *q, sudog *s)
{
    s->next = NULL;
    s->prev = q->last;
    if (q->last)
        q->last->next = s;
    else
        q->first = s;
    q->last = s;
    s->queued = true;
}

static void sq_unlink(sudog_q *q, sudog *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        q->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        q->last = s->prev;
    s->prev = s->next = NULL;
    s->queued = false;
}

/* Takes the oldest waiter of q whose operation can still be claimed, and
 * claims it; waiters of operations already claimed elsewhere (another case
 * of their select, or its timer) are dropped on the way (Go: dequeue). */
static sudog *sq_claim(sudog_q *q)
{
    sudog *s;
    while ((s = q->first)) {
        sq_unlink(q, s);
        uint32_t open = 0;
        if (NP_RT_CAS(&s->sel->done, &open, 1))
            return s;
    }
    return NULL;
}

/* Completes a claimed waiter's operation (under its channel's lock); the
 * caller readies the task once the lock is released. */
static np_task *fire(sudog *s, bool ok)
{
    s->sel->fired = s->index;
    s->sel->ok = ok;
    return s->sel->task;
}

np_chan *np_chan_new(size_t elem_size, size_t cap)
{
    if (elem_size && cap > (SIZE_MAX - sizeof(np_chan)) / elem_size) {
        errno = EINVAL;
        return NULL;
    }
    np_chan *c = calloc(1, sizeof *c + cap * elem_size);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    np__spin_init(&c->lock);
    c->elem_size = elem_size;
    c->cap = cap;
    c->buf = (unsigned char *)(c + 1);
    return c;
}

static np_chan *must_chan(np_chan *c, const char *what)
{
    if (!c)
        np__fatal("%s: NULL channel", what);
    return c;
}

void np_chan_free(np_chan *c)
{
    if (!c)
        return;
    chan_lock(c);
    bool busy = c->recvq.first || c->sendq.first;
    chan_unlock(c);
    if (busy)
        np__fatal("np_chan_free: tasks still wait on channel %p", (void *)c);
    free(c);
}

size_t np_chan_len(np_chan *c)
{
    must_chan(c, "np_chan_len");
    chan_lock(c);
    size_t n = c->len;
    chan_unlock(c);
    return n;
}

size_t np_chan_cap(const np_chan *c)
{
    if (!c)
        np__fatal("np_chan_cap: NULL channel");
    return c->cap;
}

int np_chan_close(np_chan *c)
{
    must_chan(c, "np_chan_close");
    chan_lock(c);
    if (c->closed) {
        chan_unlock(c);
        return NP_ECHANCLOSED;
    }
    c->closed = true;
    /* Every waiter is claimed now, under the lock, and linked (through
     * `next`, free once unlinked) into one list readied after the unlock:
     * receivers get ok = false and a zeroed value (the buffer is empty, or
     * they would not wait), senders NP_ECHANCLOSED (Go: a panic). */
    sudog *wake = NULL, **tail = &wake, *s;
    while ((s = sq_claim(&c->recvq))) {
        zero_elem(s->elem, c->elem_size);
        fire(s, false);
        *tail = s;
        tail = &s->next;
    }
    while ((s = sq_claim(&c->sendq))) {
        fire(s, false);
        *tail = s;
        tail = &s->next;
    }
    *tail = NULL;
    chan_unlock(c);
    while (wake) {
        sudog *next = wake->next; /* wake is gone once its task runs */
        np_ready(wake->sel->task);
        wake = next;
    }
    return 0;
}

/* One attempt at a send without waiting, under c's lock: 1 done (*wake: a
 * receiver to ready after the unlock, or NULL), -1 closed, 0 would wait. */
static int try_send(np_chan *c, const void *elem, np_task **wake)
{
    *wake = NULL;
    if (c->closed)
        return -1;
    sudog *r = sq_claim(&c->recvq);
    if (r) { /* a receiver waits: the buffer is empty; hand the value over */
        if (r->elem)
            copy_elem(r->elem, elem, c->elem_size);
        *wake = fire(r, true);
        return 1;
    }
    if (c->len < c->cap) {
        copy_elem(slot(c, (c->recvx + c->len) % c->cap), elem, c->elem_size);
        c->len++;
        return 1;
    }
    return 0;
}

/* One attempt at a receive without waiting, under c's lock: 1 a value
 * (*wake: a sender to ready after the unlock, or NULL), -1 closed and
 * drained (*elem zeroed), 0 would wait. */
static int try_recv(np_chan *c, void *elem, np_task **wake)
{
    *wake = NULL;
    sudog *s = sq_claim(&c->sendq);
    if (s) {
        if (c->cap == 0) { /* unbuffered: straight from the sender */
            if (elem)
                copy_elem(elem, s->elem, c->elem_size);
        } else { /* full buffer: take the oldest, the sender's value goes last */
            void *head = slot(c, c->recvx);
            if (elem)
                copy_elem(elem, head, c->elem_size);
            copy_elem(head, s->elem, c->elem_size);
            c->recvx = (c->recvx + 1) % c->cap;
        }
        *wake = fire(s, true);
        return 1;
    }
    if (c->len > 0) {
        if (elem)
            copy_elem(elem, slot(c, c->recvx), c->elem_size);
        zero_elem(slot(c, c->recvx), c->elem_size); /* no stale copy lingers */
        c->recvx = (c->recvx + 1) % c->cap;
        c->len--;
        return 1;
    }
    if (c->closed) {
        zero_elem(elem, c->elem_size);
        return -1;
    }
    return 0;
}

/* ---- select -------------------------------------------------------------------- */

/* The order in which ready cases are tried. Live: a random permutation per
 * select (Go: pollorder), so no case starves another. The sim builds take
 * array order: a run there must replay exactly from its schedule. */
static void poll_order(uint8_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint8_t)i;
#if !NP_SIM
    static _Thread_local uint32_t rnd; /* xorshift32, seeded per thread */
    if (!rnd)
        rnd = (uint32_t)(uintptr_t)&rnd ^ (uint32_t)np_now() ^ 0x9e3779b9u;
    for (size_t i = n; i > 1; i--) {
        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        size_t j = rnd % i;
        uint8_t tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
#endif
}

/* The distinct channels of the cases, sorted by address (Go: lockorder).
 * Insertion sort: n is at most NP_SELECT_MAX and usually 1 to 4. */
static size_t lock_order(const np_select_case *cases, size_t n, np_chan **locks)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        np_chan *c = cases[i].chan;
        if (!c)
            continue;
        size_t j = k;
        while (j > 0 && (uintptr_t)locks[j - 1] > (uintptr_t)c)
            j--;
        if (j > 0 && locks[j - 1] == c)
            continue; /* already there */
        memmove(&locks[j + 1], &locks[j], (k - j) * sizeof *locks);
        locks[j] = c;
        k++;
    }
    return k;
}

static void lock_all(np_chan **locks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        chan_lock(locks[i]);
}

static void unlock_all(np_chan **locks, size_t n)
{
    for (size_t i = n; i-- > 0;)
        chan_unlock(locks[i]);
}

/* The deadline timer (runs on some worker, no lock held). */
static void sel_timeout(void *arg, uintptr_t seq)
{
    (void)seq;
    sel *s = arg;
    np_task *t = s->task; /* s lives on the task's stack: read it first */
    uint32_t open = 0;
    if (NP_RT_CAS(&s->done, &open, 1)) {
        /* The timeout wins: the task is parked and only we may ready it;
         * its records are still queued and it unlinks them itself. */
        s->fired = SEL_TIMEOUT;
        NP_RT_STORE(&s->tstate, TS_DONE);
        np_ready(t);
        return;
    }
    /* A channel operation won. The task may be waiting for us to finish
     * with its record: after this exchange we touch it no more. */
    if (NP_RT_XCHG(&s->tstate, TS_DONE) == TS_WAITING)
        np_ready(t);
}

/* Runs once the task is off its stack. The timer is queued before the first
 * lock is released: from then on anyone may claim and ready the task. The
 * locks are released last to first; the task, once readied, relocks from
 * the first, so this stays the last reader of s->locks (the task cannot
 * leave np_select before it has those locks back). */
static bool sel_commit(np_task *t, void *arg)
{
    (void)t;
    sel *s = arg;
    np_chan **locks = s->locks;
    size_t n = s->nlocks;
    if (s->deadline)
        np__timer_set(&s->timer, s->deadline, sel_timeout, s, 0);
    for (size_t i = n; i-- > 0;)
        chan_unlock(locks[i]);
    return true;
}

/* The timer function ran or runs: park until it is done with s, unless it
 * is already (then do not sleep). */
static bool timer_wait_commit(np_task *t, void *arg)
{
    (void)t;
    sel *s = arg;
    uint32_t armed = TS_ARMED;
    return NP_RT_CAS(&s->tstate, &armed, TS_WAITING);
}

/* The select engine behind every channel call. `sgs` and `locks` have room
 * for n entries. block: false = never wait (-EAGAIN when nothing is ready). */
static int do_select(np_select_case *cases, size_t n, sudog *sgs, np_chan **locks, int64_t deadline,
                     bool block)
{
    if (n > NP_SELECT_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        np_select_case *k = &cases[i];
        if (!k->chan)
            continue;
        if (k->op != NP_SELECT_RECV && k->op != NP_SELECT_SEND)
            return -EINVAL;
        if (k->op == NP_SELECT_SEND && !k->elem && k->chan->elem_size)
            return -EINVAL;
    }
    int idle = -EAGAIN; /* what "nothing ready, not waiting" returns */
    if (block && deadline != 0 && (deadline < 0 || deadline <= np_now())) {
        block = false;
        idle = NP_EDEADLINE;
    }
    size_t nlocks = lock_order(cases, n, locks);
    if (block && nlocks == 0 && deadline == 0)
        return -EINVAL; /* Go's `select {}`: it would never wake */

    uint8_t order[NP_SELECT_MAX];
    poll_order(order, n);
    lock_all(locks, nlocks);
    for (size_t k = 0; k < n; k++) {
        np_select_case *cs = &cases[order[k]];
        if (!cs->chan)
            continue;
        np_task *wake;
        int r = cs->op == NP_SELECT_SEND ? try_send(cs->chan, cs->elem, &wake)
                                         : try_recv(cs->chan, cs->elem, &wake);
        if (r == 0)
            continue;
        unlock_all(locks, nlocks);
        if (wake)
            np_ready(wake);
        cs->ok = r > 0;
        return order[k];
    }
    if (!block) {
        unlock_all(locks, nlocks);
        return idle;
    }

    sel s = {.task = np_self(), .locks = locks, .nlocks = nlocks, .deadline = deadline};
    if (!s.task) {
        unlock_all(locks, nlocks);
        np__fatal("np_select / np_chan_send / np_chan_recv would have to wait outside a task");
    }
    atomic_init(&s.done, 0);
    atomic_init(&s.tstate, TS_ARMED);
    s.timer = (np_timer)NP_TIMER_INIT;
    for (size_t i = 0; i < n; i++) {
        np_chan *c = cases[i].chan;
        if (!c)
            continue;
        sgs[i] = (sudog){.sel = &s, .elem = cases[i].elem, .index = (int)i};
        sq_push(cases[i].op == NP_SELECT_SEND ? &c->sendq : &c->recvq, &sgs[i]);
    }
    np_park(sel_commit, &s);

    /* Claimed: by a channel operation (which unlinked that case's record) or
     * by the timer (which unlinked none). Unlink what is still queued;
     * a lone case claimed by a channel has nothing left. */
    if (nlocks > 1 || n > 1 || s.fired == SEL_TIMEOUT) {
        lock_all(locks, nlocks);
        for (size_t i = 0; i < n; i++) {
            np_chan *c = cases[i].chan;
            if (c && sgs[i].queued)
                sq_unlink(cases[i].op == NP_SELECT_SEND ? &c->sendq : &c->recvq, &sgs[i]);
        }
        unlock_all(locks, nlocks);
    }
    if (deadline && s.fired != SEL_TIMEOUT && !np__timer_del(&s.timer))
        np_park(timer_wait_commit, &s); /* resumed by sel_timeout, or not parked */
    if (s.fired == SEL_TIMEOUT)
        return NP_EDEADLINE;
    cases[s.fired].ok = s.ok;
    return s.fired;
}

int np_select(np_select_case *cases, size_t n, int64_t deadline)
{
    sudog sgs[NP_SELECT_MAX];
    np_chan *locks[NP_SELECT_MAX];
    if (n > NP_SELECT_MAX || (n && !cases))
        return -EINVAL;
    return do_select(cases, n, sgs, locks, deadline, true);
}

int np_select_try(np_select_case *cases, size_t n)
{
    sudog sgs[NP_SELECT_MAX];
    np_chan *locks[NP_SELECT_MAX];
    if (n > NP_SELECT_MAX || (n && !cases))
        return -EINVAL;
    return do_select(cases, n, sgs, locks, 0, false);
}

int np_chan_send(np_chan *c, const void *elem)
{
    must_chan(c, "np_chan_send");
    np_select_case k = {.chan = c, .op = NP_SELECT_SEND, .elem = (void *)(uintptr_t)elem};
    sudog sg;
    np_chan *lock;
    int r = do_select(&k, 1, &sg, &lock, 0, true);
    if (r < 0)
        return r;
    return k.ok ? 0 : NP_ECHANCLOSED;
}

bool np_chan_recv(np_chan *c, void *elem)
{
    must_chan(c, "np_chan_recv");
    np_select_case k = {.chan = c, .op = NP_SELECT_RECV, .elem = elem};
    sudog sg;
    np_chan *lock;
    if (do_select(&k, 1, &sg, &lock, 0, true) < 0)
        np__fatal("np_chan_recv: impossible select result"); /* a lone recv cannot fail */
    return k.ok;
}
