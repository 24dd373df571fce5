/* core/record.c - the trace recorder (netpoll/record.h). */
#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "poll_desc.h"
#include "scheduler.h"

_Atomic bool np__rec_on;

static struct {
    pthread_mutex_t lock;
    np_trace tr;    /* the events so far */
    int64_t t0;     /* clock value of trace time 0 */
    uint32_t gen;   /* this recording's number: slot/task ids of older ones are void */
    uint32_t slots; /* slot numbers given out */
    uint32_t tasks; /* task numbers given out */
    bool oom;       /* an event could not be stored */
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

void np__rec_lock(void)
{
    pthread_mutex_lock(&rec.lock);
}

void np__rec_unlock(void)
{
    pthread_mutex_unlock(&rec.lock);
}

int np_record_start(void)
{
    pthread_mutex_lock(&rec.lock);
    if (atomic_load(&np__rec_on)) {
        pthread_mutex_unlock(&rec.lock);
        return -EBUSY;
    }
    np_trace_free(&rec.tr);
    memset(&rec.tr, 0, sizeof rec.tr);
    rec.gen++;
    rec.slots = rec.tasks = 0;
    rec.oom = false;
    /* 1 ns before now: every event time is >= 1, so an expired deadline
     * can always be written as at <= its line's time with at > 0. */
    rec.t0 = np_now() - 1;
    atomic_store(&np__rec_on, true);
    pthread_mutex_unlock(&rec.lock);
    return 0;
}

int np_record_stop(np_trace *out)
{
    pthread_mutex_lock(&rec.lock);
    if (!atomic_load(&np__rec_on)) {
        pthread_mutex_unlock(&rec.lock);
        return -ESRCH;
    }
    atomic_store(&np__rec_on, false);
    int err = rec.oom ? -ENOMEM : 0;
    if (!err)
        *out = rec.tr;
    else
        np_trace_free(&rec.tr);
    memset(&rec.tr, 0, sizeof rec.tr);
    pthread_mutex_unlock(&rec.lock);
    return err;
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
    ev.t = np_now() - rec.t0;
    if (ev.t < 1)
        ev.t = 1;
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
    if (g) {
        ev.g = task_id(g);
        if (!ev.g)
            return;
    }
    switch (kind) {
    case NP_TR_DEADLINE:
        /* absolute clock -> trace time; an expired one as "at or before now" */
        ev.at = at == 0 ? 0 : at < 0 || at - rec.t0 <= ev.t ? ev.t : at - rec.t0;
        if (at > 0 && at - rec.t0 < 1)
            ev.at = ev.t;
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
    default:
        break;
    }
    if (np_trace_append(&rec.tr, &ev) != 0)
        rec.oom = true;
}
