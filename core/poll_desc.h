/* core/poll_desc.h - the pollDesc (Go: runtime/netpoll.go pollDesc), private.
 *
 * The semaphores rg and wg (one per direction) hold:
 *
 *   NP_PD_NIL    nothing pending, nobody waiting;
 *   NP_PD_READY  a readiness notification is pending; the next wait consumes
 *                it (READY -> NIL) without parking;
 *   NP_PD_WAIT   a task is about to park: it commits by CAS WAIT -> task
 *                after it is off its stack; a concurrent notification turns
 *                WAIT into READY (I/O) or NIL (timeout/close) first, and then
 *                the commit fails and the task does not sleep;
 *   a task ptr   the task sleeps; I/O readiness swaps in READY, timeout or
 *                close swaps in NIL, and the task is made runnable.
 *
 * Every access to rg/wg, to the info word and to the lock-free-read fields
 * (closing, rd, wd) goes through core/seam.h, sequentially consistent.
 */
#ifndef NP_CORE_POLL_DESC_H
#define NP_CORE_POLL_DESC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netpoll/backend.h"
#include "netpoll/poll.h"
#include "scheduler.h"
#include "seam.h"
#include "timer_heap.h"

#define NP_PD_NIL   ((uintptr_t)0)
#define NP_PD_READY ((uintptr_t)1)
#define NP_PD_WAIT  ((uintptr_t)2)

/* The atomic info word (Go: atomicInfo): the error state waiters read in one
 * load, republished under the lock whenever closing/rd/wd change, plus the
 * incarnation in the high bits so the event-error bit is set only for the
 * incarnation an event was registered under. */
#define NP_INFO_CLOSING   0x1u /* closing is set */
#define NP_INFO_EVENT_ERR 0x2u /* an error-only event arrived (read side) */
#define NP_INFO_EXPIRED_R 0x4u /* rd < 0 */
#define NP_INFO_EXPIRED_W 0x8u /* wd < 0 */
/* Not part of the protocol: an event of this incarnation had np_event.hangup
 * (CAS by the poller; cleared only by the next open), np__poll_reset_read's hint. */
#define NP_INFO_HANGUP    0x10u
#define NP_INFO_SEQ_SHIFT 16 /* incarnation (fdseq) in bits 16..31 */

struct np_poll_desc {
    np_poll_desc *link;    /* next free pd in the pollcache (under its lock) */
    np__mutex lock;        /* guards the fields marked [L]; see the seam */
    int fd;                /* [L] the descriptor; constant while open */
    _Atomic uint32_t info; /* NP_INFO_* | incarnation << NP_INFO_SEQ_SHIFT; written
                              under [L] except NP_INFO_EVENT_ERR and NP_INFO_HANGUP
                              (CAS by the poller) */
    _Atomic uintptr_t rg;  /* read semaphore: NIL, READY, WAIT or the parked task */
    _Atomic uintptr_t wg;  /* write semaphore */
    _Atomic bool closing;  /* [L] written; read lock-free (go1.5 checks) */
    _Atomic int64_t rd;    /* [L] read deadline: 0 none, -1 expired, else absolute ns */
    _Atomic int64_t wd;    /* [L] write deadline */
    uintptr_t rseq;        /* [L] read timer generation: a firing with an older seq is stale */
    uintptr_t wseq;        /* [L] write timer generation */
    /* Recording (core/record.h), on the line of wg and the deadlines, which
     * the steps it brackets touch anyway (measured no different, within the
     * noise, from a line of its own: bench/RESULTS.md). */
#if NP_SIM
    np__mutex rec_lock; /* simulated, so that sections interleave as threads do (core/record.c) */
#else
    np__spinlock rec_lock; /* a section's lock; guards [R] */
#endif
    uint32_t rec_gen;  /* [R] the recording that numbered this pd */
    uint32_t rec_slot; /* [R] its raw slot number in that recording */
    np_timer rt;       /* read deadline timer (serves both when rd == wd) */
    np_timer wt;       /* write deadline timer */
    bool rt_on;        /* [L] rt is in use (Go: rt.f != nil) */
    bool wt_on;        /* [L] wt is in use */
} __attribute__((aligned(64)));

/* Every field of np_poll_desc, and what the interleaving explorer's state
 * hash (backend_sim/check/explored.c: state_hash, guarded_hash) does with it. A
 * field added above and not here fails ctest pd_state_fields
 * (tests/check_state_fields.sh): a state the hash forgets makes two
 * different states look equal, and state caching cuts a run that still had
 * something to find.
 *   HASHED(f)       part of the hashed state
 *   NOT_HASHED(f)   left out, with the reason */
#define NP_PD_STATE_FIELDS(HASHED, NOT_HASHED)                                                     \
    NOT_HASHED(link) /* the pollcache's list: not a pollDesc state */                              \
    HASHED(lock)     /* its owner; what it guards is hashed on acquisition */                      \
    NOT_HASHED(fd)   /* constant while open */                                                     \
    HASHED(info)                                                                                   \
    HASHED(rg) /* a task's address as its simulated id */                                          \
    HASHED(wg)                                                                                     \
    HASHED(closing)                                                                                \
    HASHED(rd)                                                                                     \
    HASHED(wd)                                                                                     \
    HASHED(rseq)                                                                                   \
    HASHED(wseq)                                                                                   \
    HASHED(rec_lock)    /* its owner (explored with recording on: explore --record) */             \
    NOT_HASHED(rec_gen) /* with rec_slot: what the records so far say (np__rec_sim_hist) */        \
    NOT_HASHED(rec_slot)                                                                           \
    HASHED(rt) /* queued or not, when, seq, and the order of equal deadlines */                    \
    HASHED(wt)                                                                                     \
    HASHED(rt_on)                                                                                  \
    HASHED(wt_on)

/* Applies one backend record: drops it if its tag is stale (go1.21), sets or
 * clears the event-error bit, and appends the tasks it wakes to out. */
void np__poll_event(const np_event *ev, np_task_list *out);

/* np_poll_reset(pd, NP_MODE_R) for a read that may go straight to
 * np_poll_wait instead of trying its syscall first (core/netfd.c, np_read):
 * the same check, the same effect on rg, the same record. On NP_POLL_OK,
 * *idle says that the reset found rg NIL - no readiness was delivered since
 * the last wait consumed one or reset discarded one - and that no event of
 * this incarnation had `hangup` (NP_INFO_HANGUP), both seen after the rg
 * exchange: readiness not yet delivered then will find rg after this reset
 * and stay READY for the next wait. */
int np__poll_reset_read(np_poll_desc *pd, bool *idle);

/* np_poll_close, passing fd_closing to the backend's close (netpoll/backend.h):
 * the caller close(2)s pd's fd right after and holds its only reference. */
int np__poll_close(np_poll_desc *pd, bool fd_closing);

/* The incarnation (fdseq) of pd, as used for backend tags. */
uint32_t np__pd_incarnation(const np_poll_desc *pd);

#if NP_SIM
/* The explorer's pollcache at the start of a run, and back to it after
 * (core/poll_desc.c, end of file). */
size_t np__pd_cache_save(np_poll_desc **v, size_t max, np_poll_desc **rest);
void np__pd_cache_restore(np_poll_desc *const *v, size_t n, np_poll_desc *rest);
#endif

#endif
