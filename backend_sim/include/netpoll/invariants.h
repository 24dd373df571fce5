/* netpoll/invariants.h - what the replay and the explorer check, as
 * structured records (sim build). The checks themselves, one function per
 * invariant, are backend_sim/check/invariants.c; the specification oracle
 * (linearizability) is backend_sim/check/oracle.c. */
#ifndef NETPOLL_INVARIANTS_H
#define NETPOLL_INVARIANTS_H

#include <stdbool.h>
#include <stdint.h>

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

/* The invariants of traces/TRACE_FORMAT.md, the oracle's, the simulator's
 * own findings, and divergences from a record (not an invariant: a record
 * kind of its own). */
typedef enum np_inv {
    NP_INV_LOST_WAKEUP,      /* parked at quiescence although it had to return */
    NP_INV_DOUBLE_WAKEUP,    /* a task handed to the scheduler twice for one park */
    NP_INV_BAD_STATE,        /* rg/wg out of NIL/READY/WAIT/its task; a double wait */
    NP_INV_EARLY_TIMEOUT,    /* timeout before the deadline */
    NP_INV_MISSED_TIMEOUT,   /* still parked once its deadline's timer ran */
    NP_INV_STALE_EVENT,      /* an older incarnation's ready changed the current one */
    NP_INV_WAIT_AFTER_CLOSE, /* a wait begun on a closing pollDesc returned else */
    NP_INV_LINEARIZABILITY,  /* no order of a step's operations explains its outcomes */
    NP_INV_CRASH,            /* the simulated code aborted (np__fatal) */
    NP_INV_LIVELOCK,         /* a task looped without parking, yielding or ending */
    NP_INV_DIVERGENCE,       /* the replay differs from the record */
    NP_INV_RECORDING,        /* explored with recording on: the recording differs from the run */
    NP_INV_COUNT
} np_inv;

/* "lost-wakeup", ..., "crash", "divergence". */
NP_SIM_API const char *np_inv_name(np_inv kind);
/* The kind named name, or -1. */
NP_SIM_API int np_inv_find(const char *name);

/* One finding. pd, g: 0 when not about one; mode: 0 when none; line: the
 * trace line it concerns, 0 if none; t: trace time (ns). */
typedef struct np_violation {
    np_inv kind;
    int32_t pd, g;
    int mode;
    int64_t t;
    uint32_t line;
    char detail[480]; /* the rest of its printed line, after the name */
} np_violation;

/* The printed line: "violation: NAME DETAIL" ("divergence: DETAIL"). */
NP_SIM_API void np_violation_line(const np_violation *v, char *buf, unsigned len);

#endif
