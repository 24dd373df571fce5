/* backend_sim/check/edges.c - the edge pass of `netpoll check`.
 *
 * The scenarios (enumerated and shipped) drive the pollDesc code through
 * traces, and a trace only holds valid calls on a running runtime. What the
 * API answers elsewhere is documented in netpoll/poll.h, and a change there
 * is as much a bug as a lost wake-up: so these cases call it, one at a time
 * on the sim backend, and compare each answer with the documented one:
 *   - bad arguments (NULL, a bad fd, a bad mode): -EINVAL or -EBADF;
 *   - no runtime: np_poll_open says -ESRCH; a wait from a thread that is not
 *     a task: -EPERM;
 *   - the backend refuses a registration (the sim backend, as epoll_ctl,
 *     refuses an fd registered already: -EEXIST): the backend's error comes
 *     back as is, and the pollDesc goes back to the cache, so the fd's next
 *     open works;
 *   - the pollcache cannot grow (np_sim_set_alloc_failure): -ENOMEM, and the
 *     cache works again once memory is back;
 *   - the incarnation counter wraps around (65,536 reopens of one fd): the
 *     tag stays nonzero (0 is the untagged event's), changes at every
 *     reopen, and under a design that drops stale events, an event of the
 *     incarnation before the wrap does not wake a wait of the one after;
 *   - the misuses netpoll/poll.h documents as aborting (a second
 *     np_poll_unblock, np_poll_close before np_poll_unblock, two tasks
 *     waiting on one direction): each must reach np__fatal, which the sim
 *     build turns into a reported crash (np_sim_hooks.fail); the misusing
 *     task is abandoned there and its locks let go;
 *   - a reset from a thread while recording: done, and not recorded (a
 *     trace's reset names its task);
 *   - interleavings no trace reaches, forced by a hook (another thread's
 *     step where live it may land): a recorder started between a wait's
 *     two reads of the recording flag, or just after its unrecorded error
 *     check; a recorder started while an unblock, which read the flag
 *     before, is about to store closing - its store then lands between a
 *     recorded wait's NIL -> WAIT and its recheck, inside the wait's
 *     section; and an error-only event of a pollDesc's previous incarnation
 *     delivered inside np_poll_open's CAS loop on the info word. Each wait
 *     answers as unrecorded, and the new incarnation is left unmarked;
 *   - the small helpers: np_poll_fd, np_poll_result_name,
 *     np_deadline_after's saturation and its expired value.
 * A crash or a livelock where a case expects none (a wait that spins
 * without parking, say) is that case's failure, reported at once; the
 * task is abandoned and the pass goes on.
 */
#include "edges.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "netpoll/netpoll.h"
#include "netpoll/record.h"
#include "netpoll/trace.h"
#include "netpoll/sim.h"
#include "../machine/world.h"
#include "poll_desc.h"

typedef struct edges {
    const np_design *d;
    np_edge_fail fail;
    void *ctx;
    unsigned cases, failed, not_reached;
} edges;

static void expect(edges *e, const char *name, long long got, long long want)
{
    e->cases++;
    if (got == want)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "returned %lld, documented %lld", got, want);
    e->failed++;
    e->fail(e->ctx, name, msg);
}

static void expect_str(edges *e, const char *name, const char *got, const char *want)
{
    e->cases++;
    if (got && !strcmp(got, want))
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "returned \"%s\", documented \"%s\"", got ? got : "(null)", want);
    e->failed++;
    e->fail(e->ctx, name, msg);
}

/* unblock, then close: the only way a pollDesc goes back */
static int drop(np_poll_desc *pd)
{
    int err = np_poll_unblock(pd);
    return err ? err : np_poll_close(pd);
}

static void bad_arguments(edges *e)
{
    np_poll_desc *pd = NULL;
    expect(e, "open(-1)", np_poll_open(-1, &pd), -EBADF);
    expect(e, "open(fd, NULL)", np_poll_open(5, NULL), -EINVAL);
    expect(e, "close(NULL)", np_poll_close(NULL), -EINVAL);
    expect(e, "reset(NULL)", np_poll_reset(NULL, NP_MODE_R), -EINVAL);
    expect(e, "wait(NULL)", np_poll_wait(NULL, NP_MODE_W), -EINVAL);
    expect(e, "set_deadline(NULL)", np_poll_set_deadline(NULL, 0, NP_MODE_R), -EINVAL);
    expect(e, "unblock(NULL)", np_poll_unblock(NULL), -EINVAL);
    expect(e, "fd(NULL)", np_poll_fd(NULL), -EINVAL);
    bool idle = true;
    expect(e, "reset_read(NULL) (netfd.c's)", np__poll_reset_read(NULL, &idle), -EINVAL);
    expect(e, "reset_read(NULL) says not idle", idle, 0);
    if (np_poll_open(5, &pd) != 0) {
        expect(e, "open(5)", -1, 0);
        return;
    }
    expect(e, "fd(pd)", np_poll_fd(pd), 5);
    expect(e, "reset(pd, rw)", np_poll_reset(pd, NP_MODE_RW), -EINVAL);
    expect(e, "reset(pd, 0)", np_poll_reset(pd, 0), -EINVAL);
    expect(e, "wait(pd, rw)", np_poll_wait(pd, NP_MODE_RW), -EINVAL);
    expect(e, "wait(pd, 'x')", np_poll_wait(pd, 'x'), -EINVAL);
    expect(e, "set_deadline(pd, mode 0)", np_poll_set_deadline(pd, 1, 0), -EINVAL);
    expect(e, "set_deadline(pd, 'x')", np_poll_set_deadline(pd, 1, 'x'), -EINVAL);
    /* none of those touched the pollDesc: a reset still says ok */
    expect(e, "reset(pd, r) after them", np_poll_reset(pd, NP_MODE_R), NP_POLL_OK);
    expect(e, "unblock, close", drop(pd), 0);
}

static void helpers(edges *e)
{
    expect_str(e, "result_name(ok)", np_poll_result_name(NP_POLL_OK), "ok");
    expect_str(e, "result_name(closing)", np_poll_result_name(NP_POLL_CLOSING), "closing");
    expect_str(e, "result_name(timeout)", np_poll_result_name(NP_POLL_TIMEOUT), "timeout");
    expect_str(e, "result_name(notpollable)", np_poll_result_name(NP_POLL_NOTPOLLABLE),
               "notpollable");
    expect_str(e, "result_name(-EINVAL)", np_poll_result_name(-EINVAL), "error");
    expect(e, "deadline_after(0)", np_deadline_after(0), -1);
    expect(e, "deadline_after(-5)", np_deadline_after(-5), -1);
    expect(e, "deadline_after(INT64_MAX)", np_deadline_after(INT64_MAX), INT64_MAX);
    int64_t now = np_now();
    expect(e, "deadline_after(1000)", np_deadline_after(1000), now + 1000);
}

/* The backend refuses the registration: its error, and nothing lost. */
static void backend_refuses(edges *e)
{
    np_poll_desc *a, *b = NULL;
    if (np_poll_open(7, &a) != 0) {
        expect(e, "open(7)", -1, 0);
        return;
    }
    expect(e, "open(7) again (the backend: -EEXIST)", np_poll_open(7, &b), -EEXIST);
    expect(e, "open(7) again leaves *out alone", b == NULL, 1);
    int64_t tag = np_sim_tag(7);
    expect(e, "unblock, close", drop(a), 0);
    /* the refused pollDesc went back to the cache: the next opens work, and
     * each is a new incarnation */
    if (np_poll_open(7, &a) != 0) {
        expect(e, "open(7) after the refusal", -1, 0);
        return;
    }
    expect(e, "open(7) after the refusal: a new tag", np_sim_tag(7) != tag, 1);
    /* readiness still reaches a wait on it */
    np_sim_inject(0, 7, NP_MODE_R, false);
    np_poll_set_deadline(a, np_deadline_after(1000000), NP_MODE_R);
    expect(e, "wait(r) after the refusal", np_poll_wait(a, NP_MODE_R), NP_POLL_OK);
    expect(e, "unblock, close", drop(a), 0);
}

/* The pollcache cannot grow: -ENOMEM, then it works again. */
static void out_of_memory(edges *e)
{
    enum { MAX = 1 << 16 }; /* beyond any cache an explorer of this process left */
    static np_poll_desc *pd[MAX];
    int n = 0, err = 0;
    np_sim_set_alloc_failure(true);
    while (n < MAX && (err = np_poll_open(100 + n, &pd[n])) == 0)
        n++;
    np_sim_set_alloc_failure(false);
    expect(e, "open with no memory", err, -ENOMEM);
    np_poll_desc *x;
    err = np_poll_open(100 + n, &x);
    expect(e, "open once memory is back", err, 0);
    if (!err)
        expect(e, "unblock, close", drop(x), 0);
    for (int i = 0; i < n; i++)
        if (drop(pd[i]) != 0) {
            expect(e, "unblock, close", -1, 0);
            break;
        }
}

/* 65,536 incarnations and a few more on one fd. */
static void incarnation_wrap(edges *e)
{
    np_poll_desc *pd;
    if (np_poll_open(6, &pd) != 0) {
        expect(e, "open(6)", -1, 0);
        return;
    }
    int64_t prev = np_sim_tag(6);
    bool wrapped = false, tag_zero = false, tag_same = false;
    for (int i = 0; i < 70000; i++) {
        if (drop(pd) != 0 || np_poll_open(6, &pd) != 0) {
            expect(e, "reopen(6)", -1, 0);
            return;
        }
        int64_t tag = np_sim_tag(6);
        tag_zero |= tag == 0;
        tag_same |= tag == prev;
        if (tag < prev && !wrapped) {
            wrapped = true;
            /* an event of the incarnation before the wrap, delivered now */
            np_sim_inject_raw(0, pd, (uint32_t)prev, NP_MODE_R, false);
            np_poll_set_deadline(pd, np_deadline_after(1000), NP_MODE_R);
            int res = np_poll_wait(pd, NP_MODE_R);
            if (e->d->event_tag)
                expect(e, "wait(r) across the wrap: the old incarnation's event is stale", res,
                       NP_POLL_TIMEOUT);
            else /* the design takes any event for the current one */
                expect(e, "wait(r) across the wrap (no tags)", res, NP_POLL_OK);
            np_poll_set_deadline(pd, 0, NP_MODE_R);
        }
        prev = tag;
    }
    expect(e, "the tag wrapped around", wrapped, 1);
    expect(e, "no reopen's tag is 0", tag_zero, 0);
    expect(e, "every reopen changes the tag", tag_same, 0);
    expect(e, "unblock, close", drop(pd), 0);
}

/* ---- the documented aborts ---- */

static char crash_msg[512]; /* the last np__fatal's message, "" none */

static void on_crash(const char *name, const char *msg)
{
    snprintf(crash_msg, sizeof crash_msg, "%s: %s", name, msg);
    np__sim_release_locks(); /* the misusing task's: it never runs again */
    np_world_abandon_task();
}

/* Any other hook set here goes with this fail hook: a crash or a livelock
 * (seam_sim.c: a task past its bound of steps without parking) where the
 * case expects none is that case's failure, reported at once, and the task
 * is abandoned there - without it, a task spinning in an edge case would
 * hang the check. */
static edges *cur;   /* the pass running */
static bool strayed; /* a task of the case running was abandoned there */

static void on_stray_crash(const char *name, const char *msg)
{
    char what[600];
    snprintf(what, sizeof what, "%s: %s", name, msg);
    cur->cases++;
    cur->failed++;
    cur->fail(cur->ctx, "no crash or livelock in an edge case", what);
    strayed = true;
    np__sim_release_locks();
    np_world_abandon_task();
}

static void set_hooks(np_sim_hooks h)
{
    strayed = false;
    if (!h.fail)
        h.fail = on_stray_crash;
    np_sim_set_hooks(&h);
}

typedef struct misuse {
    np_poll_desc *pd;
    int what; /* 0 unblock, 1 close, 2 wait(r) */
} misuse;

static void misuse_task(void *arg)
{
    misuse *m = arg;
    if (m->what == 0)
        np_poll_unblock(m->pd);
    else if (m->what == 1)
        np_poll_close(m->pd);
    else
        np_poll_wait(m->pd, NP_MODE_R);
}

/* Runs m in a task of its own and says whether it crashed with a message
 * that contains want. */
static bool crashes(misuse *m, const char *want)
{
    crash_msg[0] = 0;
    np_sim_set_hooks(&(np_sim_hooks){.fail = on_crash});
    np_go(misuse_task, m);
    np_sleep(1000); /* it runs, to its end or its crash */
    np_sim_set_hooks(NULL);
    return strstr(crash_msg, want) != NULL;
}

static void documented_aborts(edges *e)
{
    np_poll_desc *pd;
    if (np_poll_open(8, &pd) != 0) {
        expect(e, "open(8)", -1, 0);
        return;
    }
    misuse close_first = {pd, 1};
    expect(e, "close before unblock aborts", crashes(&close_first, "without pollUnblock"), 1);
    /* a task parked on r, and a second wait on r */
    misuse first = {pd, 2}, second = {pd, 2};
    np_go(misuse_task, &first);
    np_sleep(1000);
    expect(e, "a second wait on one direction aborts", crashes(&second, "double wait"), 1);
    expect(e, "unblock", np_poll_unblock(pd), 0); /* wakes the first with closing */
    misuse again = {pd, 0};
    expect(e, "a second unblock aborts", crashes(&again, "already closing"), 1);
    np_sleep(1000);
    expect(e, "close", np_poll_close(pd), 0);
}

/* ---- interleavings no trace reaches ----
 *
 * Another thread acting between two steps of an operation, at a place where
 * live it may: a hook at a scheduling point (or at a read of the recording
 * flag, which is none) runs that thread's step there, or switches to the
 * task that takes it. The code under test is unchanged; only the order is
 * forced. */

typedef struct waiter {
    np_poll_desc *pd;
    int res;
} waiter;

static void wait_task(void *arg)
{
    waiter *w = arg;
    w->res = np_poll_wait(w->pd, NP_MODE_R);
}

static void unblock_task(void *arg)
{
    (void)np_poll_unblock(arg);
}

static void expectf(edges *e, long long got, long long want, const char *fmt, const char *what)
{
    char name[160];
    snprintf(name, sizeof name, fmt, what);
    expect(e, name, got, want);
}

/* A recorder started by another thread just before one task's n-th read of
 * the recording flag (hooks.rec_read). */
static struct {
    np_task *t;
    int reads, start_at;
} flip;

static void flip_read(void)
{
    if (np_self() == flip.t && ++flip.reads == flip.start_at)
        (void)np_record_start();
}

/* A wait during which recording begins: it returns what it would
 * unrecorded, and is recorded (one wait, one wake) from the step that saw
 * the recording on. start_at 2: between np_poll_wait's read of the flag
 * and wait_err's, so its error check goes with the wait's record; 3: after
 * that unrecorded check, at block's, which records the wait with its
 * exchange. expired: the read deadline has passed (the wait times out),
 * else the wait parks until readiness comes. */
static void record_starts_in_wait(edges *e, int fd, int start_at, bool expired, const char *what)
{
    np_poll_desc *pd;
    if (np_poll_open(fd, &pd) != 0) {
        expectf(e, -1, 0, "%s: open", what);
        return;
    }
    if (expired)
        np_poll_set_deadline(pd, np_deadline_after(0), NP_MODE_R);
    waiter w = {pd, -1};
    unsigned sections = pd->rec_lock.acquired;
    flip.t = np_world_spawn(wait_task, &w);
    flip.reads = 0;
    flip.start_at = start_at;
    set_hooks((np_sim_hooks){.rec_read = flip_read});
    np_sleep(1000); /* it runs: to its timeout, or its park */
    if (!expired) {
        np_sim_inject(0, fd, NP_MODE_R, false);
        np_sleep(1000);
    }
    np_sim_set_hooks(NULL);
    np_trace tr = {0};
    if (flip.reads < flip.start_at && !strayed) {
        /* the wait read the flag fewer times: nothing was forced */
        e->not_reached++;
        expectf(e, w.res, expired ? NP_POLL_TIMEOUT : NP_POLL_OK, "%s: the wait's result", what);
        expectf(e, drop(pd), 0, "%s: unblock, close", what);
        return;
    }
    expectf(e, np_record_stop(&tr), 0, "%s: the recording began", what);
    expectf(e, w.res, expired ? NP_POLL_TIMEOUT : NP_POLL_OK, "%s: the wait's result", what);
    expectf(e, pd->rec_lock.acquired != sections, 1, "%s: the wait took recording sections", what);
    expectf(e, (long long)tr.n, 0, "%s: no line (its pollDesc was opened before)", what);
    np_trace_free(&tr);
    if (!strayed) /* else the pollDesc is left as the abandoned task left it */
        expectf(e, drop(pd), 0, "%s: unblock, close", what);
}

/* A closer that read the recording flag before a recorder started, and a
 * wait that reads it after: the closer, holding no section, stores closing
 * between the recorded wait's exchange NIL -> WAIT and its recheck. */
static struct {
    np_poll_desc *pd;
    np_task *closer, *waiter;
    int phase; /* 1: the recorder started; 2: the waiter let the closer go on */
} strad;

static void straddle_point(int kind, const volatile void *addr, const char *file, int line)
{
    (void)file;
    (void)line;
    np_poll_desc *pd = strad.pd;
    np_task *self = np_self();
    if (strad.phase == 0 && self == strad.closer && kind == NP_PT_STORE &&
        addr == (const volatile void *)&pd->closing && np_world_runnable(strad.waiter)) {
        strad.phase = 1; /* the closer has read the flag (off), and holds pd->lock */
        (void)np_record_start();
        np_world_yield_to(strad.waiter);
    } else if (strad.phase == 1 && self == strad.waiter && kind == NP_PT_LOAD &&
               (addr == (const volatile void *)&pd->info ||
                addr == (const volatile void *)&pd->closing) &&
               atomic_load(&pd->rg) == NP_PD_WAIT && np_world_runnable(strad.closer)) {
        strad.phase = 2; /* the recheck's load, in the wait's section */
        np_world_yield_to(strad.closer);
    }
}

static void record_starts_in_unblock(edges *e)
{
    const char *what = "recording begins inside an unblock, a recorded wait rechecks";
    np_poll_desc *pd;
    if (np_poll_open(12, &pd) != 0) {
        expectf(e, -1, 0, "%s: open", what);
        return;
    }
    waiter w = {pd, -1};
    unsigned sections = pd->rec_lock.acquired;
    strad.pd = pd;
    strad.phase = 0;
    strad.closer = np_world_spawn(unblock_task, pd);
    strad.waiter = np_world_spawn(wait_task, &w);
    set_hooks((np_sim_hooks){.point = straddle_point});
    np_sleep(1000);
    np_sim_set_hooks(NULL);
    np_trace tr = {0};
    if (strad.phase < 2 && !strayed) {
        /* no store of closing with the waiter runnable, or no recheck by
         * the waiter with WAIT published: nothing was forced */
        e->not_reached++;
        if (strad.phase == 1)
            (void)np_record_stop(&tr);
        np_trace_free(&tr);
        expectf(e, w.res, NP_POLL_CLOSING, "%s: the wait says closing", what);
        expectf(e, np_poll_close(pd), 0, "%s: close", what);
        return;
    }
    expectf(e, np_record_stop(&tr), 0, "%s: the recording began", what);
    expectf(e, strad.phase, 2, "%s: the interleaving ran", what);
    expectf(e, w.res, NP_POLL_CLOSING, "%s: the wait says closing", what);
    expectf(e, pd->rec_lock.acquired != sections, 1, "%s: the wait took recording sections", what);
    expectf(e, (long long)tr.n, 0, "%s: no line (its pollDesc was opened before)", what);
    np_trace_free(&tr);
    if (!strayed)
        expectf(e, np_poll_close(pd), 0, "%s: close", what);
}

/* The poller delivers an error-only event of a descriptor's previous
 * incarnation (Go issue 59545) while the pollDesc is opened again, between
 * np_poll_open's load of the info word and its CAS: under a design without
 * event tags it flips the event-error bit there, the CAS fails and the
 * open clears the word again; the new incarnation is left unmarked. */
static struct {
    np_poll_desc *pd; /* the pollDesc expected back from the cache */
    uint32_t stale;   /* the incarnation before */
    bool armed;
    int hits;
    np_poll_desc *again; /* what the open under the hook gave */
    int err;             /* its result */
} reopen;

static void reopen_task(void *arg)
{
    (void)arg;
    reopen.err = np_poll_open(13, &reopen.again);
}

static void reopen_point(int kind, const volatile void *addr, const char *file, int line)
{
    (void)file;
    (void)line;
    np_poll_desc *pd = reopen.pd;
    if (!reopen.armed || kind != NP_PT_CAS || addr != (const volatile void *)&pd->info)
        return;
    reopen.armed = false;
    reopen.hits++;
    np_event ev = {.pd = pd, .tag = reopen.stale, .mode = NP_EV_R | NP_EV_W, .err_only = true};
    np_task_list out = {0};
    np__poll_event(&ev, &out); /* nobody waits on the new incarnation: out stays empty */
}

static void stale_event_during_open(edges *e)
{
    const char *what = "a stale error event between open's load and CAS";
    np_poll_desc *pd;
    if (np_poll_open(13, &pd) != 0) {
        expectf(e, -1, 0, "%s: open", what);
        return;
    }
    reopen.pd = pd;
    reopen.stale = np__pd_incarnation(pd);
    reopen.hits = 0;
    expectf(e, drop(pd), 0, "%s: unblock, close", what);
    reopen.armed = true;
    reopen.again = NULL;
    reopen.err = 1; /* not run */
    set_hooks((np_sim_hooks){.point = reopen_point});
    np_go(reopen_task, NULL); /* a task of its own: abandoned if it spins */
    np_sleep(1000);
    np_sim_set_hooks(NULL);
    reopen.armed = false;
    expectf(e, reopen.err, 0, "%s: the open", what);
    if (reopen.err)
        return;
    np_poll_desc *again = reopen.again;
    expectf(e, again == pd, 1, "%s: the pd reused", what);
    if (reopen.hits == 0) /* no CAS of the info word in the open: nothing forced */
        e->not_reached++;
    expectf(e, reopen.hits <= 1, 1, "%s: the event came once", what);
    expectf(e, (atomic_load(&again->info) & NP_INFO_EVENT_ERR) != 0, 0, "%s: no event-error bit",
            what);
    expectf(e, atomic_load(&again->rg) == NP_PD_NIL, 1, "%s: no readiness", what);
    expectf(e, np_poll_reset(again, NP_MODE_R), NP_POLL_OK, "%s: reset(r) says ok", what);
    expectf(e, drop(again), 0, "%s: unblock, close", what);
}

static void interleavings(edges *e)
{
    record_starts_in_wait(e, 10, 2, true,
                          "recording begins between a wait's reads of the flag, "
                          "deadline expired");
    record_starts_in_wait(e, 10, 2, false, "recording begins between a wait's reads of the flag");
    record_starts_in_wait(e, 11, 3, false, "recording begins after a wait's unrecorded check");
    record_starts_in_unblock(e);
    stale_event_during_open(e);
}

static void in_task(void *arg)
{
    edges *e = arg;
    documented_aborts(e);
    bad_arguments(e);
    helpers(e);
    backend_refuses(e);
    out_of_memory(e);
    incarnation_wrap(e);
    interleavings(e);
}

int np_check_edges(const np_design *d, np_edge_fail fail, void *ctx, unsigned *cases,
                   unsigned *not_reached)
{
    edges e = {d, fail, ctx, 0, 0, 0};
    cur = &e;
    np_poll_desc *pd = NULL;
    /* no runtime */
    expect(&e, "open with no runtime", np_poll_open(5, &pd), -ESRCH);
    /* a runtime, and a call from this thread, which is no task */
    np_config cfg = {.workers = 1, .backend = &np_backend_sim, .design = d};
    if (np_runtime_start(&cfg) != 0)
        return -1;
    int err = np_poll_open(5, &pd);
    expect(&e, "open from a thread", err, 0);
    if (!err) {
        expect(&e, "wait from a thread (no task)", np_poll_wait(pd, NP_MODE_R), -EPERM);
        /* recording: a reset from a thread has no task to name, so it is
         * done but not recorded (a trace line's reset needs its g) */
        np_trace tr = {0};
        expect(&e, "record start", np_record_start(), 0);
        expect(&e, "reset from a thread, recording", np_poll_reset(pd, NP_MODE_R), NP_POLL_OK);
        expect(&e, "record stop", np_record_stop(&tr), 0);
        size_t resets = 0;
        for (size_t i = 0; i < tr.n; i++)
            resets += tr.ev[i].kind == NP_TR_RESET;
        expect(&e, "a thread's reset is not in the recording", (long long)resets, 0);
        np_trace_free(&tr);
        expect(&e, "unblock, close", drop(pd), 0);
    }
    np_runtime_stop();
    /* the rest from a task (the misusing tasks abandoned at their crash are
     * left: np_main_left frees them without a word) */
    unsigned left = 0;
    if (np_main_left(&cfg, in_task, &e, &left) != 0)
        return -1;
    *cases = e.cases;
    *not_reached = e.not_reached;
    return (int)e.failed;
}
