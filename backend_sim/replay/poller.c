/* backend_sim/replay/poller.c - a replay under poller faults: readiness and
 * deadline timers reach the pollDescs through the simulated poller, and a
 * model of the wake-ups that poller owes judges missed-timeout. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../machine/world.h"
#include "../mix.h"
#include "fatal.h"
#include "netpoll/faults.h"
#include "netpoll/runtime.h"
#include "replay_int.h"

/* ---- poller faults: readiness and timers through the simulated poller ---------------------- */

/* A `ready` line under poller faults: queued in the backend, to be
 * dispatched when the poller's wait returns. The model takes note of the
 * readiness at once: the trace says it arrived now. */
void np__rp_poller_queue(replay *rp, const np_tr_event *e, slot *s, int inc, const np_event *ev,
                         bool stale)
{
    struct poller_mode *pm = &rp->pm;
    int mode = ev->mode == (NP_EV_R | NP_EV_W) ? NP_MODE_RW
               : ev->mode == NP_EV_R           ? NP_MODE_R
                                               : NP_MODE_W;
    if (!np__rp_grow((void **)&pm->q, &pm->cap, pm->n, sizeof *pm->q) ||
        np_sim_inject_raw(0, ev->pd, ev->tag, mode, ev->err_only) != 0) {
        rp->oom = true;
        return;
    }
    pm->q[pm->n++] = (struct pending_ready){e, s, inc};
    pm->ev = true;
    if (!stale) {
        if (ev->mode & NP_EV_R)
            s->ready[0] = true;
        if (ev->mode & NP_EV_W)
            s->ready[1] = true;
    }
}

/* A `deadline` line under poller faults. A timer earlier than the sleeping
 * poller's timeout needs a break; the model notes whether it was lost. */
void np__rp_poller_deadline(replay *rp, slot *s, int64_t at, int mode)
{
    struct poller_mode *pm = &rp->pm;
    bool owe = !s->closing && at > np_now() && at < pm->until && !pm->deaf;
    np_sim_stats st0, st1;
    if (owe)
        np_sim_get_stats(&st0);
    np_poll_set_deadline(s->pd, at, mode);
    if (owe) {
        np_sim_get_stats(&st1);
        if (st1.lost_breaks != st0.lost_breaks)
            pm->deaf = true; /* its timer may wait for the poller's next wake-up */
        else
            pm->owed = true;
    }
}

/* The model poller's timeout: the earliest deadline after t that has a
 * timer (an open slot, not closing; not "never"). */
static int64_t model_next_timer(replay *rp, int64_t t)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < rp->nslots; i++) {
        slot *s = rp->slots[i];
        if (s->open && !s->closing)
            for (int d = 0; d < 2; d++)
                if (s->dl[d] > t && s->dl[d] < next && s->dl[d] < INT64_MAX - rp->base)
                    next = s->dl[d];
    }
    return next;
}

/* The model poller wakes up now: every due timer must fire; it sleeps again
 * until the next one. Every waiter is looked at again (check_quiescent). */
static void model_wake(replay *rp)
{
    rp->pm.woke = np_now();
    rp->pm.until = model_next_timer(rp, rp->pm.woke);
    rp->pm.deaf = false;
    rp->next_due = INT64_MIN;
}

/* The model poller's timeouts up to now. */
static void model_advance(replay *rp)
{
    while (rp->pm.until <= np_now()) {
        rp->pm.woke = rp->pm.until;
        rp->pm.until = model_next_timer(rp, rp->pm.woke);
        rp->pm.deaf = false;
        rp->next_due = INT64_MIN;
    }
}

/* The idle worker sleeps in the poller until its next timer (exact timers;
 * late_timers: that late), or for good. */
void np__rp_poller_sleep(replay *rp)
{
    struct poller_mode *pm = &rp->pm;
    int64_t until = INT64_MAX;
    int64_t when = rp->exact ? np_world_next_timer() : INT64_MAX;
    if (when < INT64_MAX - rp->base) {
        until = when;
        if (rp->o->late_timers) {
            if (when != pm->last_when) {
                pm->late = (int64_t)(np__xorshift(&pm->late_seed) % 5000);
                pm->last_when = when;
            }
            until += pm->late;
        }
    }
    np_world_poller_block(until);
}

/* The poller's wait returns (look: the driver wakes it): its records are
 * dispatched, due timers fire, and (run) the woken tasks run. Returns
 * whether EINTR cut it short. */
static bool poller_wake(replay *rp, bool look, bool run)
{
    struct poller_mode *pm = &rp->pm;
    np_event ev[64];
    np_sim_stats st0, st1;
    np_sim_get_stats(&st0);
    int n = np_world_poller_wait(ev, 64, look);
    np_sim_get_stats(&st1);
    for (int i = 0; i < n; i++) {
        if (pm->head == pm->n || ev[i].pd != pm->q[pm->head].s->inc[pm->q[pm->head].inc - 1].pd)
            np__fatal("replay: the poller delivered an event nobody queued");
        struct pending_ready *p = &pm->q[pm->head++];
        np__rp_mark_dirty(rp, p->s);
        np__rp_deliver_ready(rp, p->e, p->s, &ev[i], !p->s->open || p->inc != p->s->ninc);
    }
    if (pm->head == pm->n)
        pm->head = pm->n = 0;
    if (rp->exact)
        np_world_fire_timers();
    if (run)
        np__rp_run_all(rp);
    model_wake(rp); /* the model follows every real wake-up: it only adds duties */
    np__rp_poller_sleep(rp);
    return st1.eintrs != st0.eintrs;
}

/* Every wake-up of the poller due by now (until_eintr: up to one that EINTR
 * cuts short - the next poll comes after the step's next stimulus). */
void np__rp_poller_run(replay *rp, bool run, bool until_eintr)
{
    for (unsigned k = 0; np_world_poller_due() <= np_now(); k++) {
        if (k == 1000000)
            np__fatal("replay: the poller keeps waking at t=%lld", (long long)now_t(rp));
        if (poller_wake(rp, false, run) && until_eintr)
            return;
    }
}

static int64_t trace_t(replay *rp, int64_t abs)
{
    return abs == INT64_MAX ? INT64_MAX : abs - rp->base;
}

/* One time step under poller faults: the next stimulus, wake-up of the
 * poller, or wake-up the model says the poller owes. (a) the poller's
 * wake-ups due then (its timeout: timers fire), (b) the stimuli, (c) the
 * tasks, then the wake-ups the step caused (its readiness, its breaks),
 * each followed by the tasks it woke.
 * false: nothing is left to happen. */
bool np__rp_poller_step(replay *rp, size_t *ip)
{
    const np_trace *tr = rp->tr;
    struct poller_mode *pm = &rp->pm;
    int64_t T = *ip < tr->n ? tr->ev[*ip].t : INT64_MAX;
    int64_t tw = trace_t(rp, np_world_poller_due()), tm = trace_t(rp, pm->until);
    T = tw < T ? tw : T;
    T = tm < T ? tm : T;
    bool end = false;
    if (T == INT64_MAX) {
        /* The stimuli ran out with the poller asleep for good: the end of
         * the run wakes it once (standing for Go's sysmon), so a timer a
         * lost break left behind still fires. */
        if (pm->ended || !rp->exact || np_world_next_timer() >= INT64_MAX - rp->base)
            return false;
        pm->ended = end = true;
        T = now_t(rp);
    }
    if (rp->base + T > np_now())
        np_sim_set_now(rp->base + T);
    model_advance(rp);
    if (end)
        poller_wake(rp, true, false);
    np__rp_poller_run(rp, false, false); /* (a): woken tasks run in (c), rule 1 */
    pm->owed = pm->ev = false;
    if (rp->o->choose) {
        np__rp_explore_step(rp, ip, T);
    } else {
        for (; *ip < tr->n && tr->ev[*ip].t == T && rp->r->status != 2; (*ip)++) { /* (b) */
            np__rp_apply(rp, &tr->ev[*ip]);
            rp->r->events++;
        }
        np__rp_run_all(rp); /* (c) */
    }
    np__rp_poller_run(rp, true, false); /* what the step left: events after EINTR, breaks */
    /* The model: readiness wakes the poller; so does a timer set earlier
     * than its timeout, unless a break was lost since its last wake-up
     * (Go's coalesced break then stays pending, unsent). By the end of the
     * step it has woken, or the model wakes without it. */
    if (pm->ev || pm->owed)
        model_wake(rp);
    return true;
}
