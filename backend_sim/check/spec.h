/* backend_sim/check/spec.h - the sequential specification of a pollDesc
 * (spec.c) and the oracle that judges explored executions by it (oracle.c).
 *
 * The specification knows the abstract state only - per slot: open,
 * closing, incarnation, the read side's error-event flag; per direction:
 * pending readiness, the deadline and whether it expired, the task blocked
 * in a wait - never the rg/wg/seq/info words of core/poll_desc.c. It is
 * written from the trace contract (traces/TRACE_FORMAT.md) and Go's
 * documented behaviour, one function per operation.
 */
#ifndef NP_BACKEND_SIM_SPEC_H
#define NP_BACKEND_SIM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpoll/design.h"
#include "netpoll/invariants.h"
#include "netpoll/trace.h"

#define NP_SPEC_SLOTS 4 /* slots a judged trace may have */

typedef struct np_spec_slot {
    int64_t dl[2];     /* per direction (0 r, 1 w): a deadline still ahead, 0 none */
    int32_t waiter[2]; /* the task blocked in a wait, 0 none */
    uint8_t open, closing, errflag, inc;
    uint8_t ready[2];   /* bit 0: readiness arrived that no wait or reset consumed;
                           bit 1: a reset's clearing of it is still to come */
    uint8_t expired[2]; /* the deadline passed (or was set in the past) */
} np_spec_slot;         /* 32 bytes, no padding: states compare with memcmp */

typedef struct np_spec_state {
    np_spec_slot s[NP_SPEC_SLOTS];
} np_spec_state;

/* One operation, as the specification applies it. */
typedef enum {
    NP_SOP_OPEN,
    NP_SOP_DEADLINE,
    NP_SOP_WAIT,        /* a wait's call: returns at once, or blocks */
    NP_SOP_RESET,       /* with err set (designs with error events): its check
                           only, the result; an ok one leaves its clearing of the
                           readiness to its NP_SOP_RESET_CLEAR */
    NP_SOP_RESET_CLEAR, /* a reset's second step: the readiness it found no
                           error for is discarded (a ready may come between:
                           the reset then returns ok and discards readiness
                           that came with an error flag, as Go's pollReset,
                           a check and then a store of nil, does) */
    NP_SOP_READY,       /* readiness: its directions marked (designs with error
                           events: after its NP_SOP_READY_FLAG) */
    NP_SOP_READY_FLAG,  /* a ready's effect on the read side's error flag (designs
                           with error events: set by an error-only event, cleared by
                           any other), a step before its readiness */
    NP_SOP_UNBLOCK,
    NP_SOP_CLOSE,
    NP_SOP_EXPIRE, /* a deadline timer of one direction */
    NP_SOP_RETURN  /* a blocked wait returns (with a result its state allows) */
} np_sop_kind;

typedef struct np_sop {
    np_sop_kind kind;
    int slot;    /* index into np_spec_state.s */
    int mode;    /* NP_MODE_R / _W / _RW (wait, reset, return: R or W) */
    int32_t g;   /* wait, reset */
    int64_t at;  /* deadline: as in the trace (0 clear) */
    int64_t tag; /* ready: the incarnation it names, -1 the current one */
    int err;     /* ready: an error-only event; reset: in two steps */
    int res;     /* return: the result it returns with */
} np_sop;

#define NP_SPEC_BLOCKED (-100) /* a wait's call that blocks */

/* Applies op at trace time T. Returns the result of a wait's call (a
 * NP_POLL_* result or NP_SPEC_BLOCKED), of a reset or of a return; 0 for
 * the other operations. A return must be one that np_spec_returns allows. */
int np_spec_apply(const np_design *d, np_spec_state *st, const np_sop *op, int64_t T);

/* The results the wait blocked on slot/direction may return with now, as
 * a mask of bits 1 << NP_POLL_*; 0: it must stay blocked. `must` gets the
 * results that oblige it to return (a blocked wait whose return is allowed
 * for these reasons cannot stay parked at quiescence). */
unsigned np_spec_returns(const np_design *d, const np_spec_state *st, int slot, int dir,
                         unsigned *must);

/* A recycle at ev[i]: `unblock`, `close` and `open` of one slot at one time,
 * in that order - a descriptor closed and its pollDesc reused at once (Go:
 * fd.Close, then a new socket's pollOpen getting the same pollDesc from the
 * cache). Explored, the three run as one actor, concurrent with the other
 * stimuli of that time (a stale `ready` of the closed incarnation, the
 * Go 59545 race); the oracle orders them likewise. */
static inline bool np_trace_recycle_at(const np_tr_event *ev, size_t n, size_t i)
{
    return i + 2 < n && ev[i].kind == NP_TR_UNBLOCK && ev[i + 1].kind == NP_TR_CLOSE &&
           ev[i + 2].kind == NP_TR_OPEN && ev[i + 1].t == ev[i].t && ev[i + 2].t == ev[i].t &&
           ev[i + 1].pd == ev[i].pd && ev[i + 2].pd == ev[i].pd;
}

/* ---- the oracle (oracle.c) ----------------------------------------------------------- */

typedef struct np_oracle np_oracle;

/* The oracle for trace tr under design d (exact: deadline timers fire at
 * their deadlines), built once and kept for the next calls with the same
 * trace text, design and timer mode; NULL when the specification cannot
 * judge this trace (why says so): more than NP_SPEC_SLOTS slots, or a
 * tagged `ready` under a design without event tags (Go issue 59545: the
 * stale-event invariant judges that). */
np_oracle *np_oracle_get(const np_trace *tr, const np_design *d, bool exact, char *why, size_t len);

/* What an explored group of time-step operations showed. */
typedef struct np_oracle_done {
    int32_t g;
    int8_t wait; /* 1 a wait returned, 0 a reset */
    int8_t res;  /* NP_POLL_* */
    int32_t pd;  /* the slot (for messages) */
    int mode;
} np_oracle_done;

typedef struct np_oracle_obs {
    const np_oracle_done *done; /* operations that completed in the group */
    size_t ndone;
    const np_oracle_done *blocked; /* waits still blocked at its end (res unused) */
    size_t nblocked;
} np_oracle_obs;

/* The possible specification states so far, as an interned set. */
typedef uint32_t np_oracle_cursor;

np_oracle_cursor np_oracle_start(np_oracle *o);
/* A hash of the states of c (for the explorer's state hash: the same in
 * every process, unlike c). */
uint64_t np_oracle_cursor_hash(const np_oracle *o, np_oracle_cursor c);
/* The group of trace events [i0, i1) at time T (with the due deadline
 * timers), observed as obs: is there one order of its operations, and of
 * the returns of blocked waits, under which the specification gives exactly
 * obs? Advances *c and returns true; else false with the violation in *v
 * (named for the part of obs no order explains: early-timeout,
 * lost-wakeup, missed-timeout, or linearizability). */
bool np_oracle_step(np_oracle *o, np_oracle_cursor *c, size_t i0, size_t i1, int64_t T,
                    const np_oracle_obs *obs, np_violation *v);
/* The trace has ended: a wait blocked with a deadline still ahead would be
 * woken by its timer (exact timers): false with the violation if so. */
bool np_oracle_end(np_oracle *o, np_oracle_cursor c, int64_t T, np_violation *v);

#endif
