/* backend_sim/check/spec.c - what a pollDesc must do, one operation at a
 * time (spec.h). Read with traces/TRACE_FORMAT.md; every rule below is a
 * sentence of the contract or of Go's documented behaviour:
 *
 *  - A wait or a reset reports, in this order: closing (pollUnblock began),
 *    timeout (its direction's deadline expired), notpollable (read side,
 *    after an error-only event, designs with error events), else ok.
 *  - A reset that reports ok discards pending readiness of its direction.
 *  - A wait that reports ok without blocking consumes pending readiness;
 *    with none it blocks. A blocked wait returns ok by consuming readiness
 *    that arrived, closing once closing began, timeout once its deadline
 *    expired; it must return once any of these holds (no lost wake-up).
 *  - A deadline of 0 clears; one at or before now has expired at once; one
 *    ahead expires when its time comes (the timer: NP_SOP_EXPIRE). Setting a
 *    deadline on a closing pollDesc does nothing.
 *  - Readiness marks its directions (an error-only event both, and with
 *    error events it sets the read side's flag, which any other event
 *    clears); readiness of an older incarnation changes nothing (designs
 *    with event tags; the oracle does not judge tagged events otherwise).
 *    With error events, an event is two steps, as Go's poller delivers it
 *    (the flag, then the wake-ups: netpollready's setEventErr before its
 *    netpollunblock): a wait or reset between them sees the new flag and
 *    no readiness yet. So is a reset (Go's pollReset: its error check,
 *    then a store of nil): an event may come between, and a reset that
 *    found no error then discards the readiness that came with the flag.
 *  - pollUnblock begins closing; pollClose ends the incarnation; pollOpen
 *    begins the next, with nothing pending.
 */
#include "spec.h"

#include <string.h>

#include "netpoll/poll.h"

#define BIT(r) (1u << (r))

/* What a wait or a reset on direction dir reports before it does anything. */
static int error_of(const np_design *d, const np_spec_slot *s, int dir)
{
    if (s->closing)
        return NP_POLL_CLOSING;
    if (s->expired[dir])
        return NP_POLL_TIMEOUT;
    if (dir == 0 && s->errflag && d->error_events)
        return NP_POLL_NOTPOLLABLE;
    return NP_POLL_OK;
}

static void set_deadline(np_spec_slot *s, int dir, int64_t at, int64_t T)
{
    s->expired[dir] = at != 0 && at <= T;
    s->dl[dir] = at != 0 && at > T ? at : 0;
}

unsigned np_spec_returns(const np_design *d, const np_spec_state *st, int slot, int dir,
                         unsigned *must)
{
    const np_spec_slot *s = &st->s[slot];
    unsigned m = 0;
    if (s->ready[dir] & 1)
        m |= BIT(NP_POLL_OK);
    if (s->closing)
        m |= BIT(NP_POLL_CLOSING);
    if (s->expired[dir])
        m |= BIT(NP_POLL_TIMEOUT);
    if (must)
        *must = m;
    /* Woken by a deadline that was then moved away, a wait looks again and
     * may find the read side's error flag. */
    if (dir == 0 && s->errflag && d->error_events)
        m |= BIT(NP_POLL_NOTPOLLABLE);
    return m;
}

int np_spec_apply(const np_design *d, np_spec_state *st, const np_sop *op, int64_t T)
{
    np_spec_slot *s = &st->s[op->slot];
    int dir = op->mode == NP_MODE_W ? 1 : 0;
    switch (op->kind) {
    case NP_SOP_OPEN: {
        uint8_t inc = s->inc;
        memset(s, 0, sizeof *s);
        s->open = 1;
        s->inc = (uint8_t)(inc + 1);
        return 0;
    }
    case NP_SOP_CLOSE:
        s->open = 0;
        return 0;
    case NP_SOP_UNBLOCK:
        s->closing = 1;
        return 0;
    case NP_SOP_DEADLINE:
        if (s->closing)
            return 0;
        if (op->mode != NP_MODE_W)
            set_deadline(s, 0, op->at, T);
        if (op->mode != NP_MODE_R)
            set_deadline(s, 1, op->at, T);
        return 0;
    case NP_SOP_EXPIRE:
        if (!s->closing && s->dl[dir] > 0 && s->dl[dir] <= T) {
            s->dl[dir] = 0;
            s->expired[dir] = 1;
        }
        return 0;
    case NP_SOP_READY_FLAG:
        if (!s->open || (op->tag >= 0 && op->tag != s->inc))
            return 0; /* an older incarnation's event */
        if (d->error_events)
            s->errflag = (uint8_t)(op->err != 0);
        return 0;
    case NP_SOP_READY:
        if (!s->open || (op->tag >= 0 && op->tag != s->inc))
            return 0; /* an older incarnation's event */
        if (op->err || op->mode != NP_MODE_W)
            s->ready[0] |= 1;
        if (op->err || op->mode != NP_MODE_R)
            s->ready[1] |= 1;
        return 0;
    case NP_SOP_RESET: {
        int e = error_of(d, s, dir);
        if (e == NP_POLL_OK)
            s->ready[dir] = op->err ? (uint8_t)(s->ready[dir] | 2) : 0;
        return e;
    }
    case NP_SOP_RESET_CLEAR:
        if (s->ready[dir] & 2)
            s->ready[dir] = 0;
        return 0;
    case NP_SOP_WAIT: {
        int e = error_of(d, s, dir);
        if (e != NP_POLL_OK)
            return e;
        if (s->ready[dir] & 1) {
            s->ready[dir] = 0;
            return NP_POLL_OK;
        }
        s->waiter[dir] = op->g;
        return NP_SPEC_BLOCKED;
    }
    case NP_SOP_RETURN:
        s->waiter[dir] = 0;
        if (op->res == NP_POLL_OK)
            s->ready[dir] = 0;
        return op->res;
    }
    return 0;
}
