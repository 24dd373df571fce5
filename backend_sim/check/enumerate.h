/* backend_sim/check/enumerate.h - scenarios by enumeration: every distinct
 * scenario up to K stimuli over one or two pollDesc slots (the small-scope
 * hypothesis: most protocol bugs show on a small scenario).
 *
 * The alphabet (per slot s, its current incarnation, its tasks - one per
 * direction and incarnation, as Go's fdMutex allows one reader and one
 * writer at a time):
 *   reset  g(s,r) r | g(s,w) w           a task's first operation
 *   wait   g(s,r) r | g(s,w) w           its last (it issues nothing while
 *                                         its wait is pending)
 *   ready  r | w | rw | rw err=1          readiness of the current incarnation
 *   ready  rw tag=OLD | rw err=1 tag=OLD  a stale one (an older incarnation of
 *                                         the slot, once it has one, or the
 *                                         closed incarnation)
 *   deadline r | w | rw  at = 0 (clear) | T-50 (past) | T (now) | T+50 |
 *                             T+100 (the next step's time) | T+200
 *   unblock                              once per incarnation
 *   close                                after its unblock
 *   recycle                              unblock, close and open at one time
 *                                         by one actor (no task of the slot in
 *                                         a wait), concurrent with the stale
 *                                         readies of its step, which hold
 *                                         nothing else of the slot: Go issue
 *                                         59545's race (spec.h)
 *   open                                 not counted: a reopen of a closed
 *                                         slot, or slot 2's first open (with
 *                                         two slots: once slot 1 is closed,
 *                                         so it gets slot 1's pollDesc from
 *                                         the cache - the case where slots
 *                                         meet), first in its step
 * at times T = 100, 200, ...: each stimulus in the step of the one before
 * or in the next. Deadlines that differ, and equal ones on r and w (one
 * shared timer), come from two deadline letters or one `rw`.
 *
 * Reductions (each checked for soundness by `netpoll check --no-reduce`,
 * ctest check_reduction: the same verdicts with and without):
 *   - the stimuli of one step are concurrent actors, so their file order is
 *     irrelevant: each step's letters are generated in one canonical order;
 *   - only the order of times matters (deadlines compare with the clock,
 *     timers fire in time order): times are renamed by rank;
 *   - slots are renamed by first appearance (pd 1 <-> 2); tasks are named
 *     by their slot, incarnation and direction, never chosen.
 * r <-> w is NOT a symmetry (error-only events and the shared timer tell
 * the directions apart).
 */
#ifndef NP_BACKEND_SIM_ENUMERATE_H
#define NP_BACKEND_SIM_ENUMERATE_H

#include <stdbool.h>
#include <stdint.h>

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

typedef struct np_enum_opts {
    int k;       /* at most this many stimuli (opens not counted), >= 1 */
    int slots;   /* 1 or 2 */
    bool reopen; /* close may be followed by a reopen of the slot */
    bool raw;    /* no reduction of times and slots (every generated text) */
} np_enum_opts;

/* Called for each scenario: its text, and the hash of its canonical text
 * (the scenario's identity; with `raw`, the text is the generated one and
 * canon still names its canonical form). Return nonzero to stop. */
typedef int (*np_enum_fn)(void *ctx, uint64_t canon, const char *text);

/* Enumerates the scenarios of o in a fixed order. Returns how many were
 * passed to fn, or -1 if out of memory. */
NP_SIM_API long np_enumerate(const np_enum_opts *o, np_enum_fn fn, void *ctx);

#endif
