/* core/sema.h - a counting semaphore for tasks (Go: runtime_Semacquire /
 * runtime_Semrelease), private. Release hands the count straight to the
 * oldest waiter (FIFO). A waiter that is not a task (np_close called from a
 * plain thread) blocks its thread on its own condition variable instead.
 *
 * The semaphore's lock is a spinlock, not a pthread mutex, because a parking
 * task takes it and its commit releases it on the worker's scheduler stack:
 * a mutex would be "unlocked by another owner" (TSan says so, rightly). The
 * critical sections are a few loads and stores. */
#ifndef NP_CORE_SEMA_H
#define NP_CORE_SEMA_H

#include <stdatomic.h>
#include <stdint.h>

#include "spinlock.h"

struct np__sema_waiter;

typedef struct np__sema {
    np__spinlock lock;                   /* guards the fields below */
    uint32_t count;                      /* releases not yet taken */
    struct np__sema_waiter *head, *tail; /* parked waiters, oldest first */
} np__sema;
/* How the machine explorer's state cache covers each field (see
 * NP_WORKER_STATE_FIELDS in core/scheduler.c; tests/check_state_fields.sh). */
#define NP_SEMA_STATE_FIELDS(SEAM, GUARDED, OWNED, CONST, NOT_STATE)                               \
    SEAM(lock) /* a spinlock: a simulated lock in the machine build */                             \
    GUARDED(count, lock)                                                                           \
    GUARDED(head, lock) /* and the waiters on it, on their tasks' stacks */                        \
    GUARDED(tail, lock)

void np__sema_init(np__sema *s);
void np__sema_destroy(np__sema *s);
void np__sema_acquire(np__sema *s);
void np__sema_release(np__sema *s);

#endif
