/* tests/test_poll.c - the pollDesc protocol, specified as tests.
 *
 * Every test runs its body as a task of a fresh runtime on the backend given
 * by --backend (registered once per backend), and again in the sim build. */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "netpoll/sim.h"
#include "poll_desc.h"
#include "scheduler.h"

#define MS INT64_C(1000000)

/* A task that waits once and records what it saw. */
typedef struct waiter {
    np_poll_desc *pd;
    int mode;
    int res;         /* np_poll_wait's result */
    int64_t woke_at; /* np_now() when it returned */
    uint64_t parks;  /* parks during the wait */
    bool done;
} waiter;

static void wait_task(void *p)
{
    waiter *w = p;
    uint64_t before = np_task_parks(np_self());
    w->res = np_poll_wait(w->pd, w->mode);
    w->woke_at = np_now();
    w->parks = np_task_parks(np_self()) - before;
    w->done = true;
}

/* Starts a waiter and lets it park. */
static void start_waiter(waiter *w, np_poll_desc *pd, int mode)
{
    memset(w, 0, sizeof *w);
    w->pd = pd;
    w->mode = mode;
    w->res = -1;
    NP_ASSERT_EQ_INT(np_go(wait_task, w), 0);
    fx_settle();
    CU_ASSERT_FALSE(w->done);
}

/* Sleeps until w is done, at most `limit` ns of runtime time. */
static void await_done(waiter *w, int64_t limit)
{
    int64_t end = np_now() + limit;
    while (!w->done && np_now() < end)
        np_sleep(MS);
}

static uintptr_t sema_state(np_poll_desc *pd, int mode)
{
    return atomic_load(mode == NP_MODE_R ? &pd->rg : &pd->wg);
}

/* ---- readiness ---------------------------------------------------------- */

static void body_pending_readiness_is_consumed_without_parking(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_READY);
    uint64_t parks = np_task_parks(np_self());
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks);
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_NIL);
    fx_close(&f);
}
static void pending_readiness_is_consumed_without_parking(void)
{
    fx_run(body_pending_readiness_is_consumed_without_parking, NULL);
}

static void body_reset_discards_pending_readiness(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_READY);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_NIL);
    /* a wait now parks: end it with a deadline */
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, np_now() + 5 * MS, NP_MODE_R), 0);
    uint64_t parks = np_task_parks(np_self());
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks + 1);
    fx_close(&f);
}
static void reset_discards_pending_readiness(void)
{
    fx_run(body_reset_discards_pending_readiness, NULL);
}

static void body_parked_wait_is_woken_once_by_readiness(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    start_waiter(&w, f.pd, NP_MODE_R);
    CU_ASSERT(sema_state(f.pd, NP_MODE_R) > NP_PD_WAIT); /* the task is parked */
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_OK);
    NP_ASSERT_EQ_INT(w.parks, 1);
    /* more readiness later wakes nobody: it stays pending */
    fx_drain(&f);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_READY);
    fx_close(&f);
}
static void parked_wait_is_woken_once_by_readiness(void)
{
    fx_run(body_parked_wait_is_woken_once_by_readiness, NULL);
}

static void body_parked_wait_is_woken_once_by_deadline(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    int64_t at = np_now() + 30 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, at, NP_MODE_R), 0);
    start_waiter(&w, f.pd, NP_MODE_R);
    await_done(&w, 5000 * MS);
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(w.parks, 1);
    CU_ASSERT(w.woke_at >= at); /* never early */
    fx_close(&f);
}
static void parked_wait_is_woken_once_by_deadline(void)
{
    fx_run(body_parked_wait_is_woken_once_by_deadline, NULL);
}

static void body_parked_wait_is_woken_once_by_unblock(void *arg)
{
    (void)arg;
    fx f;
    waiter r, w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    fx_fill(&f);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK);
    start_waiter(&r, f.pd, NP_MODE_R);
    start_waiter(&w, f.pd, NP_MODE_W);
    NP_ASSERT_EQ_INT(np_poll_unblock(f.pd), 0);
    fx_settle();
    CU_ASSERT_TRUE(r.done && w.done);
    NP_ASSERT_EQ_INT(r.res, NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(r.parks, 1);
    NP_ASSERT_EQ_INT(w.parks, 1);
    NP_ASSERT_EQ_INT(np_poll_close(f.pd), 0);
    f.pd = NULL;
    fx_close(&f);
}
static void parked_wait_is_woken_once_by_unblock(void)
{
    fx_run(body_parked_wait_is_woken_once_by_unblock, NULL);
}

/* ---- deadlines ---------------------------------------------------------- */

static void body_past_deadline_expires_at_once_even_with_readiness(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_READY);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, np_now(), NP_MODE_R), 0); /* "now" is past */
    uint64_t parks = np_task_parks(np_self());
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks);
    fx_readable(&f); /* more readiness does not revive it */
    fx_settle();
    parks = np_task_parks(np_self());
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_TIMEOUT); /* stays expired */
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks);
    /* a negative time is in the past too */
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, -5, NP_MODE_W), 0);
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_W), NP_POLL_TIMEOUT);
    fx_close(&f);
}
static void past_deadline_expires_at_once_even_with_readiness(void)
{
    fx_run(body_past_deadline_expires_at_once_even_with_readiness, NULL);
}

static void body_clearing_an_expired_deadline_restores_blocking(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, -1, NP_MODE_R), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, 0, NP_MODE_R), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    start_waiter(&w, f.pd, NP_MODE_R); /* blocks again */
    np_sleep(10 * MS);
    CU_ASSERT_FALSE(w.done);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_OK);
    fx_close(&f);
}
static void clearing_an_expired_deadline_restores_blocking(void)
{
    fx_run(body_clearing_an_expired_deadline_restores_blocking, NULL);
}

static void body_read_and_write_deadlines_are_independent(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    fx_fill(&f);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, -1, NP_MODE_R), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK); /* write side untouched */
    int64_t at = np_now() + 30 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, at, NP_MODE_W), 0);
    start_waiter(&w, f.pd, NP_MODE_W);
    await_done(&w, 5000 * MS);
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_TIMEOUT);
    CU_ASSERT(w.woke_at >= at);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, 0, NP_MODE_R), 0); /* clearing r leaves w expired */
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_TIMEOUT);
    fx_close(&f);
}
static void read_and_write_deadlines_are_independent(void)
{
    fx_run(body_read_and_write_deadlines_are_independent, NULL);
}

static void body_equal_deadlines_share_one_timer_and_split_cleanly(void *arg)
{
    (void)arg;
    fx f;
    waiter r, w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    fx_fill(&f);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK);
    int64_t at = np_now() + 20 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, at, NP_MODE_RW), 0);
    CU_ASSERT(f.pd->rt.index >= 0); /* one timer serves both */
    CU_ASSERT(f.pd->wt.index < 0);
    /* split: the write deadline moves later, each keeps its own time */
    int64_t wat = at + 60 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, wat, NP_MODE_W), 0);
    CU_ASSERT(f.pd->rt.index >= 0);
    CU_ASSERT(f.pd->wt.index >= 0);
    start_waiter(&r, f.pd, NP_MODE_R);
    start_waiter(&w, f.pd, NP_MODE_W);
    await_done(&r, 5000 * MS);
    await_done(&w, 5000 * MS);
    CU_ASSERT_TRUE(r.done && w.done);
    NP_ASSERT_EQ_INT(r.res, NP_POLL_TIMEOUT);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_TIMEOUT);
    CU_ASSERT(r.woke_at >= at);        /* neither early ... */
    CU_ASSERT(w.woke_at >= wat);       /* ... and the write side at its own, later time */
    CU_ASSERT(r.woke_at <= w.woke_at); /* the read timer fired first */
    fx_close(&f);
}
static void equal_deadlines_share_one_timer_and_split_cleanly(void)
{
    fx_run(body_equal_deadlines_share_one_timer_and_split_cleanly, NULL);
}

static void body_deadline_moved_later_does_not_fire_at_old_time(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    start_waiter(&w, f.pd, NP_MODE_R);
    /* Set, then move, without yielding in between: no timer can run in the
     * gap, whatever the machine's load (timers fire in the worker loop). */
    int64_t t0 = np_now();
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, t0 + 10 * MS, NP_MODE_R), 0);
    int64_t later = t0 + 80 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, later, NP_MODE_R), 0);
    await_done(&w, 5000 * MS);
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_TIMEOUT);
    CU_ASSERT(w.woke_at >= later); /* not at the old time */
    NP_ASSERT_EQ_INT(w.parks, 1);  /* and not woken in between */
    fx_close(&f);
}
static void deadline_moved_later_does_not_fire_at_old_time(void)
{
    fx_run(body_deadline_moved_later_does_not_fire_at_old_time, NULL);
}

/* A raw runtime timer queued after the deadline timer, at the same time, so
 * it fires after the deadline has woken the waiter but before the waiter runs. */
typedef struct {
    np_poll_desc *pd;
    int64_t to;
} mover;
static void move_deadline(void *arg, uintptr_t seq)
{
    (void)seq;
    mover *m = arg;
    np_poll_set_deadline(m->pd, m->to, NP_MODE_R);
}

static void body_deadline_fired_then_moved_later_parks_again(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    int64_t at = np_now() + 10 * MS;
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, at, NP_MODE_R), 0);
    start_waiter(&w, f.pd, NP_MODE_R);
    mover m = {f.pd, at + 60 * MS};
    np_timer t = NP_TIMER_INIT;
    np__timer_set(&t, at, move_deadline, &m, 0);
    await_done(&w, 5000 * MS);
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_TIMEOUT);
    CU_ASSERT(w.woke_at >= m.to); /* woken by the firing, found no error, parked again */
    NP_ASSERT_EQ_INT(w.parks, 2);
    fx_close(&f);
}
static void deadline_fired_then_moved_later_parks_again(void)
{
    fx_run(body_deadline_fired_then_moved_later_parks_again, NULL);
}

static void body_largest_deadline_never_fires(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, INT64_MAX, NP_MODE_R), 0);
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, np_deadline_after(INT64_MAX), NP_MODE_W), 0);
    CU_ASSERT_EQUAL(atomic_load(&f.pd->wd), INT64_MAX); /* saturated, not wrapped */
    start_waiter(&w, f.pd, NP_MODE_R);
    np_sleep(50 * MS);
    CU_ASSERT_FALSE(w.done);
    fx_readable(&f);
    fx_settle();
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_OK);
    fx_close(&f);
}
static void largest_deadline_never_fires(void)
{
    fx_run(body_largest_deadline_never_fires, NULL);
}

/* ---- closing ------------------------------------------------------------- */

static void body_wait_on_closing_pd_returns_closing_at_once(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    fx_readable(&f);
    fx_settle();
    NP_ASSERT_EQ_INT(np_poll_unblock(f.pd), 0);
    uint64_t parks = np_task_parks(np_self());
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_W), NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks);
    /* deadlines are ignored once closing */
    NP_ASSERT_EQ_INT(np_poll_set_deadline(f.pd, -1, NP_MODE_RW), 0);
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_CLOSING);
    NP_ASSERT_EQ_INT(np_poll_close(f.pd), 0);
    f.pd = NULL;
    fx_close(&f);
}
static void wait_on_closing_pd_returns_closing_at_once(void)
{
    fx_run(body_wait_on_closing_pd_returns_closing_at_once, NULL);
}

/* Runs fn in a child process; returns its stderr and whether it aborted. */
static bool child_aborts_with(void (*fn)(void), const char *needle)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    if (!aborted || !strstr(buf, needle))
        fprintf(stderr, "child: status %#x, stderr: %s\n", status, buf);
    return aborted && strstr(buf, needle) != NULL;
}

static np_poll_desc *dw_pd;
static void dw_waiter(void *arg)
{
    (void)arg;
    np_poll_wait(dw_pd, NP_MODE_R);
}
static void body_double_wait(void *arg)
{
    (void)arg;
    fx f;
    if (fx_open(&f) != 0)
        return;
    np_poll_reset(f.pd, NP_MODE_R);
    dw_pd = f.pd;
    np_go(dw_waiter, NULL);
    fx_settle();
    np_poll_wait(f.pd, NP_MODE_R); /* the second waiter: fatal */
}
static void run_double_wait(void)
{
    fx_run(body_double_wait, NULL);
}
static void two_waiters_on_one_direction_is_fatal_double_wait(void)
{
    CU_ASSERT_TRUE(child_aborts_with(run_double_wait, "double wait"));
}

/* ---- events -------------------------------------------------------------- */

static void body_event_with_stale_tag_is_dropped(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    np_poll_desc *old = f.pd;
    uint32_t old_tag = np__pd_incarnation(old);
    fx_close(&f);
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    CU_ASSERT_PTR_EQUAL(f.pd, old); /* the pollcache recycled it */
    CU_ASSERT_NOT_EQUAL(np__pd_incarnation(f.pd), old_tag);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    uint64_t stale0 = atomic_load(&np__stale_events);
    /* an event of the old incarnation, as if still in flight: readiness and an
     * error-only event; neither may touch the new incarnation */
    np_task_list l = {0};
    np_event ev = {f.pd, old_tag, NP_EV_R | NP_EV_W, true, false};
    np__poll_event(&ev, &l);
    ev.err_only = false;
    np__poll_event(&ev, &l);
    NP_ASSERT_EQ_INT(l.n, 0);
    NP_ASSERT_EQ_INT(atomic_load(&np__stale_events) - stale0, 2);
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_NIL);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK); /* not notpollable */
    if (fx_is_sim()) { /* the same through the simulated kernel's queue */
        NP_ASSERT_EQ_INT(np_sim_inject_raw(0, f.pd, old_tag, NP_MODE_R, true), 0);
        fx_settle();
        NP_ASSERT_EQ_INT(atomic_load(&np__stale_events) - stale0, 3);
        NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    }
    fx_close(&f);
}
static void event_with_stale_tag_is_dropped(void)
{
    fx_run(body_event_with_stale_tag_is_dropped, NULL);
}

static void body_error_only_event_makes_read_side_notpollable(void *arg)
{
    (void)arg;
    fx f;
    waiter w;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    start_waiter(&w, f.pd, NP_MODE_R);
    np_task_list l = {0};
    np_event ev = {f.pd, np__pd_incarnation(f.pd), NP_EV_R | NP_EV_W, true, false};
    np__poll_event(&ev, &l);
    np__ready_list(&l);
    fx_settle();
    /* The parked waiter is woken as for readiness (its read will fail with
     * the socket error, as in Go); the NEXT read-side reset reports it. */
    CU_ASSERT_TRUE(w.done);
    NP_ASSERT_EQ_INT(w.res, NP_POLL_OK);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_NOTPOLLABLE);
    NP_ASSERT_EQ_INT(np_poll_wait(f.pd, NP_MODE_R), NP_POLL_NOTPOLLABLE);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK);
    /* a later ordinary event clears it (Go: setEventErr(false)) */
    ev.err_only = false;
    np__poll_event(&ev, &l);
    np__ready_list(&l);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    if (fx_is_sim()) {
        NP_ASSERT_EQ_INT(np_sim_inject(0, f.fd, NP_MODE_R, true), 0);
        fx_settle();
        NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_NOTPOLLABLE);
        NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_W), NP_POLL_OK);
    }
    fx_close(&f);
}
static void error_only_event_makes_read_side_notpollable(void)
{
    fx_run(body_error_only_event_makes_read_side_notpollable, NULL);
}

/* Under the go1.5 design there is no tag: a stale event is applied. */
static void body_go1_5_applies_stale_events(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    uint32_t old_tag = np__pd_incarnation(f.pd);
    fx_close(&f);
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), NP_POLL_OK);
    np_task_list l = {0};
    np_event ev = {f.pd, old_tag, NP_EV_R, false, false};
    np__poll_event(&ev, &l);
    CU_ASSERT_EQUAL(sema_state(f.pd, NP_MODE_R), NP_PD_READY);
    fx_close(&f);
}
static void go1_5_design_applies_stale_events(void)
{
    np_config cfg = {.workers = test_workers, .backend = test_backend, .design = &np_design_go1_5};
    NP_ASSERT_EQ_INT(np_main(&cfg, body_go1_5_applies_stale_events, NULL), 0);
}

/* ---- argument checks ------------------------------------------------------ */

static void body_bad_arguments_return_negative_errno(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    np_poll_desc *pd;
    CU_ASSERT(np_poll_open(-1, &pd) < 0);
    CU_ASSERT(np_poll_open(0, NULL) < 0);
    CU_ASSERT(np_poll_wait(NULL, NP_MODE_R) < 0);
    CU_ASSERT(np_poll_wait(f.pd, NP_MODE_RW) < 0);
    CU_ASSERT(np_poll_wait(f.pd, 'x') < 0);
    CU_ASSERT(np_poll_reset(f.pd, 0) < 0);
    CU_ASSERT(np_poll_set_deadline(f.pd, 1, 'q') < 0);
    CU_ASSERT(np_poll_set_deadline(NULL, 1, NP_MODE_R) < 0);
    CU_ASSERT(np_poll_unblock(NULL) < 0);
    CU_ASSERT(np_poll_close(NULL) < 0);
    CU_ASSERT(np_go(NULL, NULL) < 0);
    if (!fx_is_sim()) { /* epoll refuses regular files: -EPERM */
        FILE *tf = tmpfile();
        CU_ASSERT(tf != NULL);
        if (tf) {
            NP_ASSERT_EQ_INT(np_poll_open(fileno(tf), &pd), -EPERM);
            fclose(tf);
        }
    }
    fx_close(&f);
}
static void bad_arguments_return_negative_errno(void)
{
    fx_run(body_bad_arguments_return_negative_errno, NULL);
    CU_ASSERT(np_poll_wait(NULL, NP_MODE_R) < 0);
    CU_ASSERT(np_go(wait_task, NULL) == -ESRCH); /* no runtime */
}

static const np_test_case cases[] = {
    {"pending_readiness_is_consumed_without_parking",
     pending_readiness_is_consumed_without_parking},
    {"reset_discards_pending_readiness", reset_discards_pending_readiness},
    {"parked_wait_is_woken_once_by_readiness", parked_wait_is_woken_once_by_readiness},
    {"parked_wait_is_woken_once_by_deadline", parked_wait_is_woken_once_by_deadline},
    {"parked_wait_is_woken_once_by_unblock", parked_wait_is_woken_once_by_unblock},
    {"past_deadline_expires_at_once_even_with_readiness",
     past_deadline_expires_at_once_even_with_readiness},
    {"clearing_an_expired_deadline_restores_blocking",
     clearing_an_expired_deadline_restores_blocking},
    {"read_and_write_deadlines_are_independent", read_and_write_deadlines_are_independent},
    {"equal_deadlines_share_one_timer_and_split_cleanly",
     equal_deadlines_share_one_timer_and_split_cleanly},
    {"deadline_moved_later_does_not_fire_at_old_time",
     deadline_moved_later_does_not_fire_at_old_time},
    {"deadline_fired_then_moved_later_parks_again", deadline_fired_then_moved_later_parks_again},
    {"largest_deadline_never_fires", largest_deadline_never_fires},
    {"wait_on_closing_pd_returns_closing_at_once", wait_on_closing_pd_returns_closing_at_once},
    {"two_waiters_on_one_direction_is_fatal_double_wait",
     two_waiters_on_one_direction_is_fatal_double_wait},
    {"event_with_stale_tag_is_dropped", event_with_stale_tag_is_dropped},
    {"error_only_event_makes_read_side_notpollable", error_only_event_makes_read_side_notpollable},
    {"go1_5_design_applies_stale_events", go1_5_design_applies_stale_events},
    {"bad_arguments_return_negative_errno", bad_arguments_return_negative_errno},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("poll_desc", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
