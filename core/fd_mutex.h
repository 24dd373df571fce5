/* core/fd_mutex.h - the descriptor mutex (Go: internal/poll/fd_mutex.go),
 * private.
 *
 * One 64-bit atomic word holds
 *     bit 0        closed
 *     bit 1        read lock held
 *     bit 2        write lock held
 *     bits 3..22   references: calls in progress (2^20 - 1 at most)
 *     bits 23..42  tasks waiting for the read lock
 *     bits 43..62  tasks waiting for the write lock
 * and two semaphores park the lock waiters.
 *
 * Rules:
 *  - every call that uses the descriptor holds a reference for its whole
 *    duration (np__fdmu_incref, or a read/write lock, which includes one);
 *  - a task waiting for a lock holds its reference while it waits, so the
 *    descriptor outlives it even if closed meanwhile (Go's garbage collector
 *    provides that; C must);
 *  - close sets `closed`, wakes every lock waiter (they then fail), and
 *    takes a reference of its own;
 *  - whoever drops the LAST reference after close - by decref or by either
 *    unlock - gets `true` back and must destroy the descriptor.
 * Counter overflow is reported (-EOVERFLOW), never wrapped into other fields.
 */
#ifndef NP_CORE_FD_MUTEX_H
#define NP_CORE_FD_MUTEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sema.h"

typedef struct np__fd_mutex {
    _Atomic uint64_t state; /* see above */
    np__sema rsema;         /* read-lock waiters park here */
    np__sema wsema;         /* write-lock waiters park here */
} np__fd_mutex;
/* How the machine explorer's state cache covers each field (see
 * NP_WORKER_STATE_FIELDS in core/scheduler.c; tests/check_state_fields.sh). */
#define NP_FDMU_STATE_FIELDS(SEAM, GUARDED, OWNED, CONST, NOT_STATE)                               \
    SEAM(state) /* every access through NP_RT_* (atomic_init before it is shared) */               \
    SEAM(rsema) /* np__sema: NP_SEMA_STATE_FIELDS (core/sema.h) */                                 \
    SEAM(wsema)

void np__fdmu_init(np__fd_mutex *m);
void np__fdmu_destroy(np__fd_mutex *m);

/* Takes a reference. 0, NP_ECLOSED, or -EOVERFLOW. */
int np__fdmu_incref(np__fd_mutex *m);
/* Drops one. true: it was the last after close - destroy now. */
bool np__fdmu_decref(np__fd_mutex *m);
/* Takes the read (read=true) or write lock and a reference, parking while
 * another holds it. 0, NP_ECLOSED, or -EOVERFLOW; on failure *destroy says
 * whether this call dropped the last reference after close (destroy now). */
int np__fdmu_rwlock(np__fd_mutex *m, bool read, bool *destroy);
/* Releases it and its reference. true: destroy now (as decref). */
bool np__fdmu_rwunlock(np__fd_mutex *m, bool read);
/* Marks closed, wakes all lock waiters and takes a reference (drop it with
 * decref). 0, NP_ECLOSED if already closed, or -EOVERFLOW. */
int np__fdmu_close(np__fd_mutex *m);

/* Field layout, for tests. */
#define NP_FDMU_CLOSED     UINT64_C(1)
#define NP_FDMU_RLOCK      (UINT64_C(1) << 1)
#define NP_FDMU_WLOCK      (UINT64_C(1) << 2)
#define NP_FDMU_REF        (UINT64_C(1) << 3)
#define NP_FDMU_REF_MASK   (((UINT64_C(1) << 20) - 1) << 3)
#define NP_FDMU_RWAIT      (UINT64_C(1) << 23)
#define NP_FDMU_RWAIT_MASK (((UINT64_C(1) << 20) - 1) << 23)
#define NP_FDMU_WWAIT      (UINT64_C(1) << 43)
#define NP_FDMU_WWAIT_MASK (((UINT64_C(1) << 20) - 1) << 43)

#endif
