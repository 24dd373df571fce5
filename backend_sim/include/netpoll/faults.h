/* netpoll/faults.h - fault injection for replay (sim build).
 *
 * Stimulus faults rewrite a trace's stimuli before replay, seeded and
 * deterministic, always into a valid trace:
 *   spurious  readiness nobody asked for, on an open slot
 *   errevent  error-only events (EPOLLERR alone)
 *   late      readiness delivered later (with the tag of the incarnation
 *             it was registered under, so it may arrive after a close)
 *   dup       readiness delivered twice
 *   reuse     an event of an older incarnation arriving after the slot was
 *             closed and opened again (a descriptor number reused with an
 *             event in flight)
 *   timers    deadline timers firing late (the replay option late_timers)
 * Poller faults act at the simulated poller instead (backend_sim/machine/sim.c,
 * np_sim_faults; the replay options poller_faults and poller_seed): the
 * replay then delivers readiness and deadline timers through it - a `ready`
 * is queued in the backend and dispatched when the poller's wait returns,
 * and timers fire when the poller wakes (at its timeout, an event or a
 * break) - instead of applying them directly:
 *   eintr     a poll returns early with nothing (EINTR): as it starts with
 *             events or a break pending, or at a random moment while it
 *             waits; the events come with a later poll
 *   lostbreak a break (the wake-up of the blocked poller when a timer
 *             earlier than its timeout is set) is dropped
 *   dupbreak  a break is delivered twice: it also wakes the next wait
 * Under faults a replay's outcomes may differ from any record; what must
 * hold are the invariants (traces/README.md, "Fault injection": a lost
 * break may delay a timer until the poller's next wake-up, never further).
 */
#ifndef NETPOLL_FAULTS_H
#define NETPOLL_FAULTS_H

#include <stdint.h>

#include "netpoll/trace.h"

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

enum {
    NP_FAULT_SPURIOUS = 1u << 0,
    NP_FAULT_ERREVENT = 1u << 1,
    NP_FAULT_LATE = 1u << 2,
    NP_FAULT_DUP = 1u << 3,
    NP_FAULT_REUSE = 1u << 4,
    NP_FAULT_TIMERS = 1u << 5,
    NP_FAULT_EINTR = 1u << 6,
    NP_FAULT_LOSTBREAK = 1u << 7,
    NP_FAULT_DUPBREAK = 1u << 8,
    NP_FAULT_POLLER = NP_FAULT_EINTR | NP_FAULT_LOSTBREAK | NP_FAULT_DUPBREAK,
    NP_FAULT_ALL = (1u << 9) - 1,
};

/* Parses "spurious,late,..." or "all". Returns the class mask, or 0 with
 * *bad pointing at the unknown name. */
NP_SIM_API unsigned np_faults_parse(const char *list, const char **bad);

/* Writes into *out (zeroed first) the trace `in` with the stimulus faults of
 * `classes` injected (the poller classes change nothing here), seeded by `seed`; recorded outcomes
 * are dropped (they no longer apply). 0 or -ENOMEM. */
NP_SIM_API int np_faults_apply(const np_trace *in, unsigned classes, uint64_t seed, np_trace *out);

#endif
