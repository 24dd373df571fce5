/* backend_sim/check/quiescence.c - what is judged at the end of each time
 * step: the model's invariants (lost-wakeup, missed-timeout, bad-state) and
 * the oracle's view of an explored group. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../machine/world.h"
#include "../mix.h"
#include "fatal.h"
#include "netpoll/faults.h"
#include "netpoll/runtime.h"
#include "../replay/replay_int.h"

/* ---- quiescence ------------------------------------------------------------------------- */

/* Quiescence checks for one waiting actor. */
static void check_waiter(replay *rp, actor *a, int64_t now)
{
    if (!rp->model || !a->in_op || a->reported || np_world_runnable(a->task))
        return;
    slot *s = a->s;
    int d = dir(a->mode);
    np_inv_parked p = {
        a->g,       s->id,       a->mode,  now_t(rp),     now,
        s->closing, s->ready[d], s->dl[d], s->dl_past[d], rp->exact && !rp->o->late_timers,
        rp->pm.on,  rp->pm.woke};
    np_violation v;
    if (np_inv_parked_wait(&p, &v)) {
        np__rp_report(rp, &v);
        a->reported = true;
    }
}

/* At the end of each time step. Incremental: the slots touched in the step,
 * and every waiter once the earliest of their deadlines is reached. */
void np__rp_check_quiescent(replay *rp)
{
    int64_t now = np_now();
    if (now >= rp->next_due) { /* a deadline passed: look at every waiter */
        rp->next_due = INT64_MAX;
        for (size_t i = 0; i < rp->nwaiting; i++) {
            actor *a = rp->waiting[i];
            check_waiter(rp, a, now);
            int64_t d = a->s->dl[dir(a->mode)];
            if (!a->reported && d > now && d < rp->next_due)
                rp->next_due = d;
        }
    }
    for (size_t i = 0; i < rp->ndirty; i++) {
        slot *s = rp->dirty[i];
        s->dirty = false;
        s->dl_seen_expired[0] = s->dl_seen_expired[1] = s->unblock_in_step = false;
        for (int d = 0; d < 2; d++) {
            actor *w = s->waiter[d];
            if (w) {
                check_waiter(rp, w, now);
                int64_t dl = s->dl[d];
                if (dl > now && dl < rp->next_due)
                    rp->next_due = dl;
            }
            if (!s->open)
                continue;
            /* bad-state: a semaphore holds NIL, READY, or the task waiting on it */
            uintptr_t v = atomic_load(d ? &s->pd->wg : &s->pd->rg);
            np_violation bad;
            if (rp->struct_inv && np_inv_bad_sema(s->id, d ? NP_MODE_W : NP_MODE_R, now_t(rp), v,
                                                  w ? (uintptr_t)w->task : 0, &bad))
                np__rp_report(rp, &bad);
        }
    }
    rp->ndirty = 0;
}

/* A wait or reset completed: part of what its group shows the oracle. */
void np__rp_oracle_done(replay *rp, actor *a, bool wait, int res)
{
    if (!rp->oracle || !rp->ocur)
        return;
    if (rp->nodone == sizeof rp->odone / sizeof rp->odone[0]) {
        rp->ocur = 0; /* more than the oracle judges in one group */
        return;
    }
    rp->odone[rp->nodone++] = (np_oracle_done){a->g, wait, (int8_t)res, a->s->id, a->mode};
    rp->odone_hash += np__mix((uint64_t)(uint32_t)a->g << 8 | (uint64_t)wait << 4, (uint64_t)res);
}

/* The end of an explored group: what it showed, judged by the oracle. */
void np__rp_oracle_group(replay *rp, int64_t T)
{
    np_oracle_done blocked[16];
    size_t nb = 0;
    for (size_t i = 0; rp->ocur && i < rp->nwaiting; i++) {
        const actor *a = rp->waiting[i];
        if (nb == sizeof blocked / sizeof blocked[0])
            rp->ocur = 0; /* more than the oracle judges */
        else
            blocked[nb++] = (np_oracle_done){a->g, 1, 0, a->s->id, a->mode};
    }
    np_oracle_obs obs = {rp->odone, rp->nodone, blocked, nb};
    np_violation v;
    if (rp->ocur && !np_oracle_step(rp->oracle, &rp->ocur, rp->grp_i0, rp->grp_i1, T, &obs, &v))
        np__rp_report(rp, &v);
    rp->nodone = 0;
    rp->odone_hash = 0;
}
