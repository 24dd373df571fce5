/* core/record.c - the trace recorder (netpoll/record.h). */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "poll_desc.h"
#include "scheduler.h"
#include "spinlock.h"

_Atomic bool np__rec_on;

static struct {
    np__spinlock lock; /* guards everything below (core/spinlock.h) */
    np_trace tr;       /* the events so far */
    int64_t t0;        /* clock value of trace time 0 */
    uint32_t gen;      /* this recording's number: slot/task ids of older ones are void */
    uint32_t slots;    /* slot numbers given out */
    uint32_t tasks;    /* task numbers given out */
    bool oom;          /* an event could not be stored */
    int64_t last_t;    /* the latest event time written */
    uint32_t pending;  /* tasks woken from a pollDesc wait that have not run yet */
    int64_t *real;     /* real (clock) time of each event, beside the trace */
    size_t real_cap;   /* allocated length of real */
} rec = {.lock = NP_SPINLOCK_INIT};

/* The clock is read before the lock is taken, to keep the critical section
 * short; np__rec stamps max(that, the last stamp), so times never decrease. */
static _Thread_local int64_t rec_clock;

void np__rec_lock(void)
{
    rec_clock = np_now();
    np__spin_lock(&rec.lock);
}

void np__rec_unlock(void)
{
    np__spin_unlock(&rec.lock);
}

int np_record_start(void)
{
    np__rec_lock();
    if (atomic_load(&np__rec_on)) {
        np__rec_unlock();
        return -EBUSY;
    }
    np_trace_free(&rec.tr);
    memset(&rec.tr, 0, sizeof rec.tr);
    rec.gen++;
    rec.slots = rec.tasks = 0;
    rec.oom = false;
    rec.last_t = 1;
    rec.pending = 0;
    free(rec.real);
    rec.real = NULL;
    rec.real_cap = 0;
    /* 1 ns before now: every event time is >= 1, so an expired deadline
     * can always be written as at <= its line's time with at > 0. */
    rec.t0 = np_now() - 1;
    atomic_store(&np__rec_on, true);
    np__rec_unlock();
    return 0;
}

int np_record_stop_real(np_trace *out, int64_t **real)
{
    np__rec_lock();
    if (!atomic_load(&np__rec_on)) {
        np__rec_unlock();
        return -ESRCH;
    }
    atomic_store(&np__rec_on, false);
    int err = rec.oom ? -ENOMEM : 0;
    if (!err) {
        *out = rec.tr;
        if (real) {
            *real = rec.real;
            rec.real = NULL;
        }
    } else {
        np_trace_free(&rec.tr);
    }
    free(rec.real);
    rec.real = NULL;
    rec.real_cap = 0;
    memset(&rec.tr, 0, sizeof rec.tr);
    np__rec_unlock();
    return err;
}

int np_record_stop(np_trace *out)
{
    return np_record_stop_real(out, NULL);
}

void np__rec_woke(np_task *t)
{
    if (!atomic_load_explicit(&np__rec_on, memory_order_relaxed) || !t)
        return;
    t->rec_woken = rec.gen;
    rec.pending++;
}

void np__rec_ran(np_task *t, const np_poll_desc *pd, bool ready)
{
    if (t && t->rec_woken == rec.gen && atomic_load_explicit(&np__rec_on, memory_order_relaxed)) {
        t->rec_woken = 0;
        t->rec_ran_t = rec.last_t;
        /* Only a wake-up that found no readiness depends on the deadline
         * (a readiness wake returns ok whatever the deadline does). */
        t->rec_ran_pd = ready ? NULL : pd;
        if (rec.pending)
            rec.pending--;
    }
}

static int32_t task_id(np_task *t)
{
    if (!t)
        return 0;
    if (t->rec_gen != rec.gen) {
        t->rec_gen = rec.gen;
        t->rec_id = ++rec.tasks;
    }
    return (int32_t)t->rec_id;
}

void np__rec(np_tr_kind kind, np_poll_desc *pd, np_task *g, int mode, int64_t at, uint32_t ev_tag,
             int err, int res)
{
    if (!atomic_load_explicit(&np__rec_on, memory_order_relaxed))
        return;
    np_tr_event ev = {.kind = kind, .mode = mode, .tag = -1, .err = err, .res = res};
    /* The trace clock follows the real one, except that it stands still
     * while a task woken from a wait has not run yet: whatever happens in
     * that window then shares the waking event's time, and the replay (rule
     * 1c: woken tasks run after the stimuli of their time) sees it before
     * the task finishes its wait, as the live run did. A fire is stamped no
     * earlier than its deadline, so that it is due when replayed (rule 5). */
    int64_t real = rec_clock;
    ev.t = rec.pending ? rec.last_t : real - rec.t0;
    if (kind == NP_TR_FIRE) { /* due when replayed: not before the deadline written */
        int64_t due = mode == NP_MODE_R               ? pd->rec_at[0]
                      : mode == NP_MODE_W             ? pd->rec_at[1]
                      : pd->rec_at[0] > pd->rec_at[1] ? pd->rec_at[0]
                                                      : pd->rec_at[1];
        if (at > 0 && at - rec.t0 > due)
            due = at - rec.t0;
        if (due > ev.t)
            ev.t = due;
    }
    /* A deadline that a task sets on the pollDesc it has just been woken
     * from without readiness, in the same step: the replay must run that
     * task's wake-up (rule 1c) before it, and a deadline line names no task,
     * so it opens the next step. (unblock and close name their task: rule 2
     * orders them.) Limit: a task woken in the old step whose readiness
     * arrives after this line is replayed without it - see traces/README.md. */
    np_task *self = np_self();
    if (kind == NP_TR_DEADLINE && self && self->rec_ran_pd == pd && self->rec_ran_t == rec.last_t &&
        ev.t <= rec.last_t)
        ev.t = rec.last_t + 1;
    if (ev.t < rec.last_t)
        ev.t = rec.last_t;
    if (kind == NP_TR_OPEN) {
        if (pd->rec_gen != rec.gen) { /* first time this recording sees the pd */
            pd->rec_gen = rec.gen;
            pd->rec_slot = ++rec.slots;
            pd->rec_inc = 0;
        }
        pd->rec_inc++;
        pd->rec_tag = np__pd_incarnation(pd);
        ev.fd = pd->fd;
    } else if (pd->rec_gen != rec.gen) {
        return; /* opened before this recording began */
    }
    ev.pd = (int32_t)pd->rec_slot;
    if ((kind == NP_TR_UNBLOCK || kind == NP_TR_CLOSE) && self)
        g = self; /* optional in the format: it orders them after the task's wake (rule 2) */
    if (g) {
        ev.g = task_id(g);
        if (!ev.g)
            return;
    }
    switch (kind) {
    case NP_TR_DEADLINE:
        /* Follow the runtime's verdict, not a second clock read: an expired
         * deadline (-1) as the line's own time; a future one at least 1 ns
         * after the line, even if the clock passed it since it was judged. */
        ev.at = at == 0 ? 0 : at < 0 ? ev.t : at - rec.t0 > ev.t ? at - rec.t0 : ev.t + 1;
        if (mode != NP_MODE_W)
            pd->rec_at[0] = ev.at;
        if (mode != NP_MODE_R)
            pd->rec_at[1] = ev.at;
        break;
    case NP_TR_READY: {
        /* tag: omitted when it names the open, current incarnation; else the
         * incarnation's number (rec_inc counts them; tags step by one per
         * recycle, so the distance back from the latest is exact) */
        uint32_t back = (pd->rec_tag - ev_tag) & NP_TAG_MASK;
        if (back >= pd->rec_inc)
            return; /* registered before this recording: not expressible */
        if (back != 0 || np__pd_incarnation(pd) != pd->rec_tag)
            ev.tag = pd->rec_inc - back;
        break;
    }
    case NP_TR_FIRE:
        /* Not written to the file (a fire line has no `at`): kept in memory
         * so that timing reports can compute the timer's lateness. */
        ev.at = at > 0 ? at - rec.t0 : 0;
        break;
    default:
        break;
    }
    if (rec.tr.n == rec.real_cap) {
        size_t cap = rec.real_cap ? 2 * rec.real_cap : 1024;
        int64_t *v = realloc(rec.real, cap * sizeof *v);
        if (!v) {
            rec.oom = true;
            return;
        }
        rec.real = v;
        rec.real_cap = cap;
    }
    if (np_trace_append(&rec.tr, &ev) != 0) {
        rec.oom = true;
        return;
    }
    /* A stimulus naming its task makes the replay finish that task's wake-up
     * first (rule 2): from now on its deadlines need no new step. */
    if (g &&
        (kind == NP_TR_WAIT || kind == NP_TR_RESET || kind == NP_TR_UNBLOCK || kind == NP_TR_CLOSE))
        g->rec_ran_pd = NULL;
    rec.real[rec.tr.n - 1] = real - rec.t0;
    rec.last_t = ev.t;
}
