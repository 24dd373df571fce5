/* core/poll_desc.c - pollDesc: open/close/reset/wait/set-deadline/unblock,
 * readiness from the poller, deadline timers, and the pollcache.
 *
 * The protocol is DESIGN section 2; the states are documented in
 * poll_desc.h. Everything shared goes through core/seam.h, so this file is
 * compiled unchanged into the live runtime and into the sim build that the
 * interleaving explorer drives. Where the named designs (design.h) differ,
 * `np__design->SWITCH` is read at exactly one place, marked DESIGN.
 */
#include "poll_desc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "record.h"

/* Recording (netpoll/record.h, core/record.h): an operation opens a
 * recording section on its pollDesc around its record and the step where it
 * takes effect, so the trace's order is the effects' order on each
 * pollDesc. REC_BEGIN/REC_END bracket that step; off, they cost a relaxed
 * load and a branch. */
#define REC_BEGIN(pd) REC_BEGIN_CLOCK(pd, true)
#define REC_BEGIN_CLOCK(pd, clock)                                                                 \
    bool rec_ = NP_RECORDING();                                                                    \
    np_poll_desc *rec_pd_ = (pd);                                                                  \
    if (rec_)                                                                                      \
    np__rec_begin(rec_pd_, (clock))
#define REC_END()                                                                                  \
    do {                                                                                           \
        if (rec_)                                                                                  \
            np__rec_end(rec_pd_);                                                                  \
    } while (0)
#define REC(kind, pd, g, mode, at, tag, err, res)                                                  \
    do {                                                                                           \
        if (rec_)                                                                                  \
            np__rec((kind), (pd), (g), (mode), (at), (tag), (err), (res));                         \
    } while (0)

/* The mode a record names: read, write or both. */
static inline int rec_mode(bool r, bool w)
{
    return r && w ? NP_MODE_RW : r ? NP_MODE_R : NP_MODE_W;
}

/* Mutations for the explorer's self-check (issue: interleaving explorer). A
 * test build may define one to plant a known bug; the shipped build never
 * does (CMake refuses to build the `netpoll` library with one set). */
#ifndef NP_MUTATION_NO_RECHECK
#define NP_MUTATION_NO_RECHECK 0 /* drop the error recheck after NIL -> WAIT */
#endif
#ifndef NP_MUTATION_PLAIN_STORE
#define NP_MUTATION_PLAIN_STORE 0 /* NIL -> WAIT by a plain store, not a CAS */
#endif

static const char *mode_name(int mode)
{
    return mode == NP_MODE_R ? "r" : mode == NP_MODE_W ? "w" : "rw";
}

static _Atomic uintptr_t *sema(np_poll_desc *pd, int mode)
{
    return mode == NP_MODE_R ? &pd->rg : &pd->wg;
}

const char *np_poll_result_name(int res)
{
    switch (res) {
    case NP_POLL_OK:
        return "ok";
    case NP_POLL_CLOSING:
        return "closing";
    case NP_POLL_TIMEOUT:
        return "timeout";
    case NP_POLL_NOTPOLLABLE:
        return "notpollable";
    default:
        return "error";
    }
}

int np_poll_fd(const np_poll_desc *pd)
{
    return pd ? pd->fd : -EINVAL;
}

uint32_t np__pd_incarnation(const np_poll_desc *pd)
{
    return atomic_load(&((np_poll_desc *)pd)->info) >> NP_INFO_SEQ_SHIFT;
}

int64_t np_deadline_after(int64_t rel)
{
    if (rel <= 0)
        return -1;
    int64_t now = np_now();
    return rel > INT64_MAX - now ? INT64_MAX : now + rel;
}

/* ---- the error state ----------------------------------------------------- */

/* Go: netpollcheckerr. What a reset or wait on `mode` must report now. */
static int check_err(np_poll_desc *pd, int mode)
{
    if (np__design->info_word) { /* DESIGN: one load sees a consistent state */
        uint32_t info = NP_LOAD(&pd->info);
        if (info & NP_INFO_CLOSING)
            return NP_POLL_CLOSING;
        if ((mode == NP_MODE_R && (info & NP_INFO_EXPIRED_R)) ||
            (mode == NP_MODE_W && (info & NP_INFO_EXPIRED_W)))
            return NP_POLL_TIMEOUT;
        if (mode == NP_MODE_R && (info & NP_INFO_EVENT_ERR))
            return NP_POLL_NOTPOLLABLE;
        return NP_POLL_OK;
    }
    if (NP_LOAD(&pd->closing))
        return NP_POLL_CLOSING;
    if ((mode == NP_MODE_R && NP_LOAD(&pd->rd) < 0) || (mode == NP_MODE_W && NP_LOAD(&pd->wd) < 0))
        return NP_POLL_TIMEOUT;
    return NP_POLL_OK;
}

/* Go: publishInfo. Called with the lock held after closing/rd/wd change. */
static void publish_info(np_poll_desc *pd)
{
    if (!np__design->info_word) /* DESIGN: nobody reads the flags */
        return;
    uint32_t bits = 0;
    if (NP_OWN(&pd->closing))
        bits |= NP_INFO_CLOSING;
    if (NP_OWN(&pd->rd) < 0)
        bits |= NP_INFO_EXPIRED_R;
    if (NP_OWN(&pd->wd) < 0)
        bits |= NP_INFO_EXPIRED_W;
    const uint32_t mask = NP_INFO_CLOSING | NP_INFO_EXPIRED_R | NP_INFO_EXPIRED_W;
    for (;;) { /* CAS: the poller may flip NP_INFO_EVENT_ERR concurrently */
        uint32_t x = NP_LOAD(&pd->info);
        if ((x & mask) == bits)
            return; /* nothing to publish (a future deadline moved, say) */
        if (NP_CAS(&pd->info, x, (x & ~mask) | bits))
            return;
    }
}

/* Go: setEventErr. Sets or clears the event-error bit, unless the event was
 * registered under an older incarnation (tag), checked in the same CAS. */
static void set_event_err(np_poll_desc *pd, bool on, uint32_t tag)
{
    for (;;) {
        uint32_t x = NP_LOAD(&pd->info);
        if (np__design->event_tag && (x >> NP_INFO_SEQ_SHIFT) != (tag & NP_TAG_MASK)) /* DESIGN */
            return;
        if (((x & NP_INFO_EVENT_ERR) != 0) == on)
            return;
        if (NP_CAS(&pd->info, x, x ^ NP_INFO_EVENT_ERR))
            return;
    }
}

/* Sets NP_INFO_HANGUP, unless the event was registered under an older
 * incarnation (tag), checked in the same CAS. Whatever the design: it is
 * only a hint that turns an optimisation off, and a stale one must not. */
static void set_hangup(np_poll_desc *pd, uint32_t tag)
{
    for (;;) {
        uint32_t x = NP_LOAD(&pd->info);
        if ((x >> NP_INFO_SEQ_SHIFT) != (tag & NP_TAG_MASK) || (x & NP_INFO_HANGUP))
            return;
        if (NP_CAS(&pd->info, x, x | NP_INFO_HANGUP))
            return;
    }
}

/* ---- the semaphores ------------------------------------------------------ */

/* Runs on the worker's stack once the waiter is off its own: publish the
 * task, unless a notification turned WAIT into READY/NIL meanwhile. */
typedef struct {
    np_poll_desc *pd;
    _Atomic uintptr_t *gpp;
    int mode;
    bool in_sec; /* recording: the wait's section is still open (wait_recorded) */
} commit_arg;

static bool block_commit(np_task *t, void *p)
{
    commit_arg *c = p;
    /* Recording, the park goes in the wait's own section when it is still
     * open (in_sec), which ends here, on this same thread: the scheduler runs
     * the commit right after the switch from the task, nothing in between,
     * and a waker of t takes the pollDesc's recording lock first, so t stays
     * untouched until then. Otherwise in a section of its own, right after
     * the wait's on this same thread: no clock read of its own. */
    bool rec = c->in_sec || NP_RECORDING();
    if (rec && !c->in_sec)
        np__rec_begin(c->pd, false);
    bool parked = NP_CAS(c->gpp, NP_PD_WAIT, (uintptr_t)t);
    if (rec) {
        if (parked)
            np__rec(NP_TR_PARK, c->pd, t, c->mode, 0, 0, 0, -1);
        np__rec_end(c->pd);
    }
    return parked;
}

static bool block_park(np_poll_desc *pd, _Atomic uintptr_t *g, int mode, bool in_sec);

/* After a failed NIL -> WAIT exchange on g: g must be READY or NIL again (a
 * readiness came or went); anything else is a second waiter. */
static void no_double_wait(np_poll_desc *pd, _Atomic uintptr_t *g, int mode)
{
    uintptr_t v = NP_LOAD(g);
    if (v != NP_PD_READY && v != NP_PD_NIL)
        np__fatal("pollWait: double wait on fd %d mode %s (state %#lx)", pd->fd, mode_name(mode),
                  (unsigned long)v);
}

/* Go: netpollblock's first half, on g: consumes a pending notification
 * (READY -> NIL: true) or announces the waiter (NIL -> WAIT: false). */
static bool take_ready_or_wait(np_poll_desc *pd, _Atomic uintptr_t *g, int mode)
{
    for (;;) {
        if (NP_CAS(g, NP_PD_READY, NP_PD_NIL))
            return true;
#if NP_MUTATION_PLAIN_STORE
        if (NP_LOAD(g) == NP_PD_NIL) {
            NP_STORE(g, NP_PD_WAIT);
            return false;
        }
#else
        if (NP_CAS(g, NP_PD_NIL, NP_PD_WAIT))
            return false;
#endif
        no_double_wait(pd, g, mode);
    }
}

/* Go: netpollblock. Returns true if I/O readiness arrived, false if the task
 * was woken by timeout/close (or did not park because of them). Recording:
 * an "ok" wake with the step that consumed the readiness, and the wait with
 * its first CAS if the caller has not recorded it (np_poll_wait records it
 * with its error check, where the wait takes effect: wait_recorded, or
 * wait_err if recording began just then). */
static bool block(np_poll_desc *pd, int mode, bool first)
{
    _Atomic uintptr_t *g = sema(pd, mode);
    REC_BEGIN(pd);
    if (first)
        REC(NP_TR_WAIT, pd, np_self(), mode, 0, 0, 0, -1);
    if (take_ready_or_wait(pd, g, mode)) {
        REC(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, NP_POLL_OK);
        REC_END();
        return true;
    }
    REC_END();
    return block_park(pd, g, mode, false);
}

/* block, after its exchange NIL -> WAIT on g: parks unless an error or a
 * readiness came meanwhile. in_sec: recording, with the wait's section still
 * open - the commit closes it, or this does if it does not park. */
static bool block_park(np_poll_desc *pd, _Atomic uintptr_t *g, int mode, bool in_sec)
{
    /* WAIT is visible now; recheck the error state, which closers and timers
     * store before they load rg/wg (the Dekker pair of DESIGN section 2).
     * in_sec, an error still shows here if an operation that read the
     * recording flag before the recording began (so it holds no section)
     * stored it: the recording's start is not synchronised with operations
     * in flight (core/record.h; backend_sim/check/edges.c forces it). */
    commit_arg c = {pd, g, mode, in_sec};
#if NP_MUTATION_NO_RECHECK
    NP_PARK(block_commit, &c);
#else
    if (check_err(pd, mode) == NP_POLL_OK)
        NP_PARK(block_commit, &c);
    else if (in_sec)
        np__rec_end(pd);
#endif
    bool rec2 = NP_RECORDING();
    if (rec2)
        np__rec_begin(pd, true);
    uintptr_t old = NP_XCHG(g, NP_PD_NIL);
    if (old > NP_PD_WAIT)
        np__fatal("pollWait: corrupted polldesc fd %d mode %s (state %#lx)", pd->fd,
                  mode_name(mode), (unsigned long)old);
    if (rec2) {
        np__rec_ran(np_self(), pd, old == NP_PD_READY);
        if (old == NP_PD_READY)
            np__rec(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, NP_POLL_OK);
        np__rec_end(pd);
    }
    return old == NP_PD_READY;
}

/* Go: netpollunblock. ioready: readiness (leaves READY) rather than
 * timeout/close (leaves NIL). Returns the parked task to wake, or NULL. */
static np_task *unblock(np_poll_desc *pd, int mode, bool ioready)
{
    _Atomic uintptr_t *g = sema(pd, mode);
    for (;;) {
        uintptr_t old = NP_LOAD(g);
        if (old == NP_PD_READY)
            return NULL;
        if (old == NP_PD_NIL && !ioready)
            return NULL; /* nobody to tell about a timeout or close */
        if (NP_CAS(g, old, ioready ? NP_PD_READY : NP_PD_NIL))
            return old > NP_PD_WAIT ? (np_task *)old : NULL; /* WAIT: its commit will fail */
    }
}

/* ---- readiness from the poller --------------------------------------------- */

static void poll_event(const np_event *ev, np_task_list *out, bool rec);

void np__poll_event(const np_event *ev, np_task_list *out)
{
    REC_BEGIN(ev->pd);
    REC(NP_TR_READY, ev->pd, NULL, rec_mode(ev->mode & NP_EV_R, ev->mode & NP_EV_W), 0, ev->tag,
        ev->err_only, -1);
    poll_event(ev, out, rec_);
    REC_END();
}

/* rec: recording, with the section open (the caller's sample, not a fresh
 * load: recording may start meanwhile, and np__rec_woke needs the section). */
static void poll_event(const np_event *ev, np_task_list *out, bool rec)
{
    np_poll_desc *pd = ev->pd;
    if (np__design->event_tag && /* DESIGN: drop events of an older incarnation */
        (NP_LOAD(&pd->info) >> NP_INFO_SEQ_SHIFT) != (ev->tag & NP_TAG_MASK)) {
        /* a statistic, not part of the protocol: no ordering needed */
        atomic_fetch_add_explicit(&np__stale_events, 1, memory_order_relaxed);
        return;
    }
    if (np__design->error_events) /* DESIGN: error-only events mark the fd */
        set_event_err(pd, ev->err_only, ev->tag);
    /* Before the unblock below: np__poll_reset_read's reader, which exchanges
     * rg and then loads info, either sees the bit or gets the READY. (The
     * simulator never sets hangup: no scheduling point is added there.) */
    if (ev->hangup)
        set_hangup(pd, ev->tag);
    np_task *t;
    if ((ev->mode & NP_EV_R) && (t = unblock(pd, NP_MODE_R, true))) {
        NP__PT(NP_PT_READY, t);
        if (rec)
            np__rec_woke(t);
        np__task_list_push(out, t);
    }
    if ((ev->mode & NP_EV_W) && (t = unblock(pd, NP_MODE_W, true))) {
        NP__PT(NP_PT_READY, t);
        if (rec)
            np__rec_woke(t);
        np__task_list_push(out, t);
    }
}

/* ---- deadlines --------------------------------------------------------------- */

/* Go: netpolldeadlineimpl. A deadline timer fired with generation seq. */
static void deadline_fire(np_poll_desc *pd, uintptr_t seq, bool r, bool w)
{
    NP_LOCK(&pd->lock);
    if (seq != (r ? pd->rseq : pd->wseq)) { /* moved, cleared, or pd reused since */
        NP_UNLOCK(&pd->lock);
        return;
    }
    np_task *rg = NULL, *wg = NULL;
    REC_BEGIN(pd);
    REC(NP_TR_FIRE, pd, NULL, rec_mode(r, w), r ? NP_OWN(&pd->rd) : NP_OWN(&pd->wd), 0, 0, -1);
    if (r) {
        if (NP_OWN(&pd->rd) <= 0 || !pd->rt_on)
            np__fatal("deadline timer: inconsistent read deadline (fd %d rd %lld)", pd->fd,
                      (long long)NP_OWN(&pd->rd));
        NP_STORE(&pd->rd, -1);
        publish_info(pd);
        rg = unblock(pd, NP_MODE_R, false);
    }
    if (w) {
        if (NP_OWN(&pd->wd) <= 0 || (!pd->wt_on && !r))
            np__fatal("deadline timer: inconsistent write deadline (fd %d wd %lld)", pd->fd,
                      (long long)NP_OWN(&pd->wd));
        NP_STORE(&pd->wd, -1);
        publish_info(pd);
        wg = unblock(pd, NP_MODE_W, false);
    }
    if (rec_) {
        np__rec_woke(rg);
        np__rec_woke(wg);
    }
    REC_END();
    NP_UNLOCK(&pd->lock);
    if (rg)
        NP_READY(rg);
    if (wg)
        NP_READY(wg);
}

static void deadline_r(void *pd, uintptr_t seq)
{
    deadline_fire(pd, seq, true, false);
}
static void deadline_w(void *pd, uintptr_t seq)
{
    deadline_fire(pd, seq, false, true);
}
static void deadline_rw(void *pd, uintptr_t seq)
{
    deadline_fire(pd, seq, true, true);
}

/* Go 1.12+ (lazy_timers): a timer is touched only when its deadline, or
 * whether it serves both directions, changed; the seq bump makes a firing
 * already in flight stale. */
static void rearm_lazy(np_poll_desc *pd, int64_t rd0, int64_t wd0)
{
    int64_t rd = NP_OWN(&pd->rd), wd = NP_OWN(&pd->wd);
    bool combo0 = rd0 > 0 && rd0 == wd0;
    bool combo = rd > 0 && rd == wd;
    np_timer_fn rfn = combo ? deadline_rw : deadline_r;
    if (!pd->rt_on) {
        if (rd > 0) {
            pd->rt_on = true;
            NP_TIMER_SET(&pd->rt, rd, rfn, pd, pd->rseq);
        }
    } else if (rd != rd0 || combo != combo0) {
        pd->rseq++;
        if (rd > 0) {
            NP_TIMER_SET(&pd->rt, rd, rfn, pd, pd->rseq);
        } else {
            NP_TIMER_DEL(&pd->rt);
            pd->rt_on = false;
        }
    }
    if (!pd->wt_on) {
        if (wd > 0 && !combo) {
            pd->wt_on = true;
            NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->wseq);
        }
    } else if (wd != wd0 || combo != combo0) {
        pd->wseq++;
        if (wd > 0 && !combo) {
            NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->wseq);
        } else {
            NP_TIMER_DEL(&pd->wt);
            pd->wt_on = false;
        }
    }
}

/* Go 1.5: one seq for both directions, bumped on every change; both timers
 * are stopped and created again. */
static void rearm_eager(np_poll_desc *pd)
{
    int64_t rd = NP_OWN(&pd->rd), wd = NP_OWN(&pd->wd);
    pd->rseq++;
    pd->wseq = pd->rseq;
    if (pd->rt_on) {
        NP_TIMER_DEL(&pd->rt);
        pd->rt_on = false;
    }
    if (pd->wt_on) {
        NP_TIMER_DEL(&pd->wt);
        pd->wt_on = false;
    }
    if (rd > 0 && rd == wd) {
        pd->rt_on = true;
        NP_TIMER_SET(&pd->rt, rd, deadline_rw, pd, pd->rseq);
        return;
    }
    if (rd > 0) {
        pd->rt_on = true;
        NP_TIMER_SET(&pd->rt, rd, deadline_r, pd, pd->rseq);
    }
    if (wd > 0) {
        pd->wt_on = true;
        NP_TIMER_SET(&pd->wt, wd, deadline_w, pd, pd->wseq);
    }
}

int np_poll_set_deadline(np_poll_desc *pd, int64_t at, int mode)
{
    if (!pd || (mode != NP_MODE_R && mode != NP_MODE_W && mode != NP_MODE_RW))
        return -EINVAL;
    NP_LOCK(&pd->lock);
    if (NP_OWN(&pd->closing)) {
        NP_UNLOCK(&pd->lock);
        return 0;
    }
    int64_t d = at;
    if (d != 0 && NP_EXPIRED(d))
        d = -1; /* at or before now: expired at once */
    REC_BEGIN(pd);
    REC(NP_TR_DEADLINE, pd, NULL, mode, d, 0, 0, -1);
    int64_t rd0 = NP_OWN(&pd->rd), wd0 = NP_OWN(&pd->wd);
    if (mode != NP_MODE_W)
        NP_STORE(&pd->rd, d);
    if (mode != NP_MODE_R)
        NP_STORE(&pd->wd, d);
    publish_info(pd);
    if (np__design->lazy_timers) /* DESIGN */
        rearm_lazy(pd, rd0, wd0);
    else
        rearm_eager(pd);
    /* An expired deadline wakes a pending waiter now (it was published above,
     * before these loads of rg/wg). */
    np_task *rg = NULL, *wg = NULL;
    if (NP_OWN(&pd->rd) < 0)
        rg = unblock(pd, NP_MODE_R, false);
    if (NP_OWN(&pd->wd) < 0)
        wg = unblock(pd, NP_MODE_W, false);
    if (rec_) {
        np__rec_woke(rg);
        np__rec_woke(wg);
    }
    REC_END();
    NP_UNLOCK(&pd->lock);
    if (rg)
        NP_READY(rg);
    if (wg)
        NP_READY(wg);
    return 0;
}

/* ---- the pollcache --------------------------------------------------------------- */

/* pollDescs allocated at once when the cache is empty: 64 x 256 bytes, a few
 * pages, as Go allocates pollDescs in 4 KiB blocks. They are never freed, so a
 * stale pointer in an event in flight always points at a pollDesc. */
#define NP_PD_BLOCK 64

static struct {
    np__mutex lock;     /* guards free */
    np_poll_desc *free; /* linked through link */
} cache = {NP_MUTEX_STATIC_INIT, NULL};

static np_poll_desc *cache_alloc(void)
{
    NP_LOCK(&cache.lock);
    if (!cache.free) {
        np_poll_desc *b = NP_ALIGNED_ALLOC(64, NP_PD_BLOCK * sizeof *b);
        if (!b) {
            NP_UNLOCK(&cache.lock);
            return NULL;
        }
        if ((uintptr_t)(b + NP_PD_BLOCK) >> 48)
            np__fatal("pollcache: block %p lies above 2^48; epoll tags need 48-bit pointers",
                      (void *)b);
        memset(b, 0, NP_PD_BLOCK * sizeof *b);
        for (int i = 0; i < NP_PD_BLOCK; i++) {
            NP_MUTEX_INIT(&b[i].lock);
            b[i].fd = -1;
            b[i].rt = (np_timer)NP_TIMER_INIT;
            b[i].wt = (np_timer)NP_TIMER_INIT;
            atomic_init(&b[i].info, 1u << NP_INFO_SEQ_SHIFT); /* incarnation 1 */
            b[i].link = i + 1 < NP_PD_BLOCK ? &b[i + 1] : NULL;
        }
        cache.free = b;
    }
    np_poll_desc *pd = cache.free;
    cache.free = pd->link;
    NP_UNLOCK(&cache.lock);
    return pd;
}

static void cache_free(np_poll_desc *pd)
{
    /* A new incarnation: events registered under the old one are now stale. */
    NP_LOCK(&pd->lock);
    for (;;) {
        uint32_t x = NP_LOAD(&pd->info);
        uint32_t seq = ((x >> NP_INFO_SEQ_SHIFT) + 1) & NP_TAG_MASK;
        if (seq == 0)
            seq = 1; /* 0 would match an untagged event */
        if (NP_CAS(&pd->info, x, (x & ((1u << NP_INFO_SEQ_SHIFT) - 1)) | seq << NP_INFO_SEQ_SHIFT))
            break;
    }
    NP_UNLOCK(&pd->lock);
    NP_LOCK(&cache.lock);
    pd->link = cache.free;
    cache.free = pd;
    NP_UNLOCK(&cache.lock);
}

/* ---- open, close, reset, wait, unblock --------------------------------------------- */

int np_poll_open(int fd, np_poll_desc **out)
{
    if (fd < 0 || !out)
        return fd < 0 ? -EBADF : -EINVAL;
    const np_backend *be = np__backend();
    if (!be)
        return -ESRCH;
    np_poll_desc *pd = cache_alloc();
    if (!pd)
        return -ENOMEM;
    NP_LOCK(&pd->lock);
    uintptr_t g = NP_LOAD(&pd->wg);
    if (g != NP_PD_NIL && g != NP_PD_READY)
        np__fatal("pollOpen: blocked write on free polldesc (state %#lx)", (unsigned long)g);
    g = NP_LOAD(&pd->rg);
    if (g != NP_PD_NIL && g != NP_PD_READY)
        np__fatal("pollOpen: blocked read on free polldesc (state %#lx)", (unsigned long)g);
    pd->fd = fd;
    NP_STORE(&pd->closing, false);
    pd->rseq++;
    pd->wseq++;
    pd->rt_on = pd->wt_on = false;
    NP_STORE(&pd->rd, 0);
    NP_STORE(&pd->wd, 0);
    for (;;) { /* clear every flag, event error included; keep the incarnation */
        uint32_t x = NP_LOAD(&pd->info);
        if (NP_CAS(&pd->info, x, x & ~((1u << NP_INFO_SEQ_SHIFT) - 1)))
            break;
    }
    NP_STORE(&pd->rg, NP_PD_NIL);
    NP_STORE(&pd->wg, NP_PD_NIL);
    uint32_t tag = NP_LOAD(&pd->info) >> NP_INFO_SEQ_SHIFT;
    NP_UNLOCK(&pd->lock);
    /* Recording: the registration's own first events (a fresh socket is
     * writable at once) must follow the open line, so both go in one
     * recording section. */
    REC_BEGIN(pd);
    int err = be->open(fd, pd, tag);
    if (!err)
        REC(NP_TR_OPEN, pd, NULL, 0, 0, 0, 0, -1);
    REC_END();
    if (err) {
        cache_free(pd);
        return err < 0 ? err : -err;
    }
    *out = pd;
    return 0;
}

int np_poll_close(np_poll_desc *pd)
{
    return np__poll_close(pd, false);
}

int np__poll_close(np_poll_desc *pd, bool fd_closing)
{
    if (!pd)
        return -EINVAL;
    if (!NP_LOAD(&pd->closing))
        np__fatal("pollClose: fd %d closed without pollUnblock", pd->fd);
    uintptr_t g = NP_LOAD(&pd->wg);
    if (g != NP_PD_NIL && g != NP_PD_READY)
        np__fatal("pollClose: blocked write on closing polldesc fd %d (state %#lx)", pd->fd,
                  (unsigned long)g);
    g = NP_LOAD(&pd->rg);
    if (g != NP_PD_NIL && g != NP_PD_READY)
        np__fatal("pollClose: blocked read on closing polldesc fd %d (state %#lx)", pd->fd,
                  (unsigned long)g);
    /* Like Go, the backend's answer is not the caller's business: the fd may
     * already be closed, and the pd is recycled either way. */
    (void)np__backend()->close(pd->fd, fd_closing);
    /* The section is held across the recycle, so an event in flight is
     * ordered. Lock order: pd->rec_lock, then pd->lock (in cache_free), the
     * reverse of deadline_fire/set_deadline/unblock; no cycle, as those
     * take no section on a closing pollDesc (stale seq, closing check,
     * fatal). */
    REC_BEGIN(pd);
    REC(NP_TR_CLOSE, pd, NULL, 0, 0, 0, 0, -1);
    cache_free(pd);
    REC_END();
    return 0;
}

static bool bad_mode(int mode)
{
    return mode != NP_MODE_R && mode != NP_MODE_W;
}

/* idle: NULL for np_poll_reset; else np__poll_reset_read's answer. */
static int reset(np_poll_desc *pd, int mode, bool *idle)
{
    REC_BEGIN(pd);
    int err = check_err(pd, mode);
    if (!err && !idle) {
        NP_STORE(sema(pd, mode), NP_PD_NIL);
    } else if (!err) {
        /* Only the lock holder of this direction resets or waits on it, so
         * rg is NIL or READY here. The exchange, then the load, both seq_cst:
         * a hangup event whose bit this load misses unblocks rg later than
         * the exchange (poll_event sets the bit first), so its READY stays. */
        uintptr_t old = NP_XCHG(sema(pd, mode), NP_PD_NIL);
        *idle = old == NP_PD_NIL && !(NP_LOAD(&pd->info) & NP_INFO_HANGUP);
    }
    if (rec_ && np_self()) /* no np_self() call when not recording: this runs per I/O */
        np__rec(NP_TR_RESET, pd, np_self(), mode, 0, 0, 0, err);
    REC_END();
    return err;
}

int np_poll_reset(np_poll_desc *pd, int mode)
{
    if (!pd || bad_mode(mode))
        return -EINVAL;
    return reset(pd, mode, NULL);
}

int np__poll_reset_read(np_poll_desc *pd, bool *idle)
{
    *idle = false;
    if (!pd)
        return -EINVAL;
    return reset(pd, NP_MODE_R, idle);
}

/* check_err for a wait: an error is the wait's result, recorded as its wake
 * at the load that saw it (preceded, on the first check, by the wait). */
static int wait_err(np_poll_desc *pd, int mode, bool first, bool *recorded)
{
    *recorded = false;
    if (!NP_RECORDING())
        return check_err(pd, mode);
    if (first) {
        /* Recording: the wait takes effect where it finds no error, so its
         * record goes with this check - a deadline that fires after it must
         * come after the wait in the trace (the wait then still consumes
         * readiness, or parks and is woken by the timer, as the replay of
         * that order does). */
        REC_BEGIN(pd);
        int err = check_err(pd, mode);
        REC(NP_TR_WAIT, pd, np_self(), mode, 0, 0, 0, -1);
        if (err)
            REC(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, err);
        REC_END();
        *recorded = true;
        return err;
    }
    /* A later check: a section only for an error (the wake it records). */
    int err = check_err(pd, mode);
    if (!err)
        return 0;
    REC_BEGIN(pd);
    err = check_err(pd, mode);
    if (err)
        REC(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, err);
    REC_END();
    return err;
}

/* np_poll_wait's first pass while recording: one section from the wait's
 * error check, which is where it takes effect, through its exchange of
 * NIL -> WAIT and the recheck to the park's commit - a section where there
 * were three (a clock read, the pollDesc's recording lock and a number in
 * the global order each). The wait is all the more atomic for the steps of
 * other threads, so its trace is one the sections allowed before. Returns
 * the wait's result; *again: woken with neither readiness nor an error. */
static int wait_recorded(np_poll_desc *pd, int mode, bool *again)
{
    _Atomic uintptr_t *g = sema(pd, mode);
    *again = false;
    np__rec_begin(pd, true);
    int err = check_err(pd, mode);
    np__rec(NP_TR_WAIT, pd, np_self(), mode, 0, 0, 0, -1);
    if (err) {
        np__rec(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, err);
        np__rec_end(pd);
        return err;
    }
    if (take_ready_or_wait(pd, g, mode)) {
        np__rec(NP_TR_WAKE, pd, np_self(), mode, 0, 0, 0, NP_POLL_OK);
        np__rec_end(pd);
        return NP_POLL_OK;
    }
    *again = !block_park(pd, g, mode, true);
    return NP_POLL_OK;
}

int np_poll_wait(np_poll_desc *pd, int mode)
{
    if (!pd || bad_mode(mode))
        return -EINVAL;
    if (!np_self())
        return -EPERM;
    bool recorded;
    int err;
    if (NP_RECORDING()) {
        bool again;
        if ((err = wait_recorded(pd, mode, &again)) != 0 || !again)
            return err;
    } else {
        if ((err = wait_err(pd, mode, true, &recorded)) != 0)
            return err;
        if (block(pd, mode, !recorded))
            return NP_POLL_OK;
    }
    /* A wake-up with neither readiness nor an error (a deadline fired and was
     * moved later before this task ran) simply waits again. */
    for (;;) {
        if ((err = wait_err(pd, mode, false, &recorded)) != 0)
            return err;
        if (block(pd, mode, false))
            return NP_POLL_OK;
    }
}

int np_poll_unblock(np_poll_desc *pd)
{
    if (!pd)
        return -EINVAL;
    NP_LOCK(&pd->lock);
    if (NP_OWN(&pd->closing))
        np__fatal("pollUnblock: fd %d is already closing", pd->fd);
    REC_BEGIN(pd);
    REC(NP_TR_UNBLOCK, pd, NULL, 0, 0, 0, 0, -1);
    NP_STORE(&pd->closing, true);
    pd->rseq++; /* any deadline firing in flight is now stale */
    pd->wseq++;
    publish_info(pd);
    np_task *rg = unblock(pd, NP_MODE_R, false);
    np_task *wg = unblock(pd, NP_MODE_W, false);
    if (rec_) {
        np__rec_woke(rg);
        np__rec_woke(wg);
    }
    REC_END();
    if (pd->rt_on) {
        NP_TIMER_DEL(&pd->rt);
        pd->rt_on = false;
    }
    if (pd->wt_on) {
        NP_TIMER_DEL(&pd->wt);
        pd->wt_on = false;
    }
    NP_UNLOCK(&pd->lock);
    if (rg)
        NP_READY(rg);
    if (wg)
        NP_READY(wg);
    return 0;
}

#if NP_SIM
/* ---- the sim build's explorer (not part of the protocol) --------------------------- */

/* An explorer re-executes a trace from one start thousands of times, and
 * abandons runs anywhere - inside a close, between a close and an open. So
 * that every run starts from the same pollcache, whatever the last one left:
 * np__pd_cache_save notes the first max free pollDescs in order, and
 * np__pd_cache_restore puts them back so, each as a fresh free pollDesc
 * (no waiter, no timer, no lock held). A run uses a few pollDescs; one that
 * took more than max from the cache is not restored exactly (the caller
 * closes its slots instead). */
size_t np__pd_cache_save(np_poll_desc **v, size_t max, np_poll_desc **rest)
{
    size_t n = 0;
    np_poll_desc *pd = cache.free;
    for (; pd && n < max; pd = pd->link)
        v[n++] = pd;
    *rest = pd;
    return n;
}

void np__pd_cache_restore(np_poll_desc *const *v, size_t n, np_poll_desc *rest)
{
    cache.lock.owner = 0;
    for (size_t i = 0; i < n; i++) {
        np_poll_desc *pd = v[i];
        pd->lock.owner = 0;
        atomic_store(&pd->rg, NP_PD_NIL);
        atomic_store(&pd->wg, NP_PD_NIL);
        atomic_store(&pd->closing, true);
        pd->rt = (np_timer)NP_TIMER_INIT;
        pd->wt = (np_timer)NP_TIMER_INIT;
        pd->rt_on = pd->wt_on = false;
        pd->link = i + 1 < n ? v[i + 1] : rest;
    }
    if (n)
        cache.free = v[0];
}
#endif
