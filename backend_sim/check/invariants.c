/* backend_sim/check/invariants.c - the invariants of the trace contract,
 * one function each (invariants.h), and their names. */
#include "invariants.h"

#include <stdio.h>
#include <string.h>

#include "netpoll/poll.h"

static const char *const names[NP_INV_COUNT] = {
    [NP_INV_LOST_WAKEUP] = "lost-wakeup",
    [NP_INV_DOUBLE_WAKEUP] = "double-wakeup",
    [NP_INV_BAD_STATE] = "bad-state",
    [NP_INV_EARLY_TIMEOUT] = "early-timeout",
    [NP_INV_MISSED_TIMEOUT] = "missed-timeout",
    [NP_INV_STALE_EVENT] = "stale-event",
    [NP_INV_WAIT_AFTER_CLOSE] = "wait-after-close",
    [NP_INV_LINEARIZABILITY] = "linearizability",
    [NP_INV_CRASH] = "crash",
    [NP_INV_LIVELOCK] = "livelock",
    [NP_INV_DIVERGENCE] = "divergence",
    [NP_INV_RECORDING] = "recording",
};

const char *np_inv_name(np_inv kind)
{
    return kind >= 0 && kind < NP_INV_COUNT ? names[kind] : "?";
}

int np_inv_find(const char *name)
{
    for (int k = 0; k < NP_INV_COUNT; k++)
        if (!strcmp(names[k], name))
            return k;
    return -1;
}

void np_violation_line(const np_violation *v, char *buf, unsigned len)
{
    if (v->kind == NP_INV_DIVERGENCE)
        snprintf(buf, len, "divergence: %s", v->detail);
    else if (v->kind == NP_INV_CRASH || v->kind == NP_INV_DOUBLE_WAKEUP ||
             v->kind == NP_INV_LIVELOCK || v->kind == NP_INV_RECORDING)
        snprintf(buf, len, "violation: %s: %s", names[v->kind], v->detail);
    else
        snprintf(buf, len, "violation: %s %s", np_inv_name(v->kind), v->detail);
}

static const char *mname(int m)
{
    return m == NP_MODE_R ? "r" : m == NP_MODE_W ? "w" : "rw";
}

static void set(np_violation *v, np_inv kind, int32_t pd, int32_t g, int mode, int64_t t,
                uint32_t line)
{
    v->kind = kind;
    v->pd = pd;
    v->g = g;
    v->mode = mode;
    v->t = t;
    v->line = line;
}

bool np_inv_early_timeout(const np_inv_wake *w, np_violation *v)
{
    if (w->res != NP_POLL_TIMEOUT || w->deadline_expired || w->deadline_unknown ||
        (w->deadline != 0 && w->now >= w->deadline))
        return false;
    set(v, NP_INV_EARLY_TIMEOUT, w->pd, w->g, w->mode, w->t, 0);
    snprintf(v->detail, sizeof v->detail, "g=%d pd=%d mode=%s at t=%lld: the deadline is %s", w->g,
             w->pd, mname(w->mode), (long long)w->t, w->deadline == 0 ? "cleared" : "still ahead");
    return true;
}

bool np_inv_wait_after_close(const np_inv_wake *w, np_violation *v)
{
    if (!w->issued_closing || w->res == NP_POLL_CLOSING)
        return false;
    set(v, NP_INV_WAIT_AFTER_CLOSE, w->pd, w->g, w->mode, w->t, 0);
    snprintf(v->detail, sizeof v->detail, "g=%d pd=%d mode=%s at t=%lld: returned %s", w->g, w->pd,
             mname(w->mode), (long long)w->t, np_poll_result_name(w->res));
    return true;
}

bool np_inv_parked_wait(const np_inv_parked *p, np_violation *v)
{
    const char *why = NULL;
    np_inv kind = NP_INV_LOST_WAKEUP;
    if (p->closing)
        why = "its pollDesc is closing";
    else if (p->ready)
        why = "readiness is pending";
    else if (p->deadline > 0 && p->deadline <= p->now && p->deadline_past)
        why = "its deadline had expired";
    else if (p->deadline > 0 && p->deadline <= (p->poller ? p->poller_woke : p->now) &&
             p->timers_exact) {
        why = p->poller ? "its deadline passed before the poller's last wake-up"
                        : "its deadline has passed";
        kind = NP_INV_MISSED_TIMEOUT;
    }
    if (!why)
        return false;
    set(v, kind, p->pd, p->g, p->mode, p->t, 0);
    snprintf(v->detail, sizeof v->detail, "g=%d pd=%d mode=%s at t=%lld: parked although %s", p->g,
             p->pd, mname(p->mode), (long long)p->t, why);
    return true;
}

bool np_inv_bad_sema(int32_t pd, int mode, int64_t t, uintptr_t sem, uintptr_t waiter,
                     np_violation *v)
{
    if (sem <= 1 /* NIL, READY */ || (waiter && sem == waiter))
        return false;
    set(v, NP_INV_BAD_STATE, pd, 0, mode, t, 0);
    snprintf(v->detail, sizeof v->detail, "pd=%d mode=%s at t=%lld: semaphore holds %#lx", pd,
             mname(mode), (long long)t, (unsigned long)sem);
    return true;
}

bool np_inv_double_wait(int32_t pd, int mode, int64_t t, uint32_t line, int32_t g, int32_t other_g,
                        np_violation *v)
{
    set(v, NP_INV_BAD_STATE, pd, g, mode, t, line);
    if (other_g)
        snprintf(v->detail, sizeof v->detail,
                 "pd=%d mode=%s at t=%lld (line %u): g=%d waits while g=%d is already waiting "
                 "(double wait)",
                 pd, mname(mode), (long long)t, line, g, other_g);
    else
        snprintf(v->detail, sizeof v->detail,
                 "pd=%d mode=%s at t=%lld (line %u): g=%d waits while another task is parked on "
                 "it (double wait)",
                 pd, mname(mode), (long long)t, line, g);
    return true;
}

bool np_inv_closed_timers(int32_t pd, int64_t t, uint32_t line, bool rt_queued, bool wt_queued,
                          np_violation *v)
{
    if (!rt_queued && !wt_queued)
        return false;
    set(v, NP_INV_BAD_STATE, pd, 0,
        rt_queued && wt_queued ? NP_MODE_RW
        : rt_queued            ? NP_MODE_R
                               : NP_MODE_W,
        t, line);
    snprintf(v->detail, sizeof v->detail,
             "pd=%d at t=%lld (line %u): closed with its %s timer still queued", pd, (long long)t,
             line,
             rt_queued && wt_queued ? "read and write"
             : rt_queued            ? "read"
                                    : "write");
    return true;
}

bool np_inv_stale_event(int32_t pd, int64_t tag, int64_t t, uint32_t line, bool woke, bool changed,
                        int32_t owner_pd, int owner_inc, np_violation *v)
{
    if (!woke && !changed)
        return false;
    set(v, NP_INV_STALE_EVENT, pd, 0, 0, t, line);
    snprintf(v->detail, sizeof v->detail,
             "pd=%d tag=%lld at t=%lld (line %u): it %s pd=%d's incarnation %d", pd, (long long)tag,
             (long long)t, line, woke ? "woke a task of" : "changed the state of", owner_pd,
             owner_inc);
    return true;
}

void np_inv_fail(np_inv kind, const char *msg, int64_t t, np_violation *v)
{
    set(v, kind, 0, 0, 0, t, 0);
    snprintf(v->detail, sizeof v->detail, "%s (at t=%lld)", msg, (long long)t);
}
