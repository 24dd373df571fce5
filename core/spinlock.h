/* core/spinlock.h - the runtime's short-section lock (private).
 *
 * Every lock of the core guards a few loads and stores (a pollDesc's
 * deadline bookkeeping, the timer heap, a semaphore's queue, the recorder):
 * hundreds of nanoseconds at most, never a blocking call. A spinlock costs
 * one exchange and one store where a pthread mutex costs two locked
 * instructions and, contended, a futex sleep and wake-up
 * (bench/RESULTS.md: deadline reset). It yields the CPU after a while in
 * case the holder was preempted. Unlike a mutex it may be released on
 * another stack than the one that took it (a parking task's commit runs on
 * the worker's own stack), which TSan accepts for atomics.
 *
 * Acquire on lock, release on unlock: what one holder wrote, the next sees.
 */
#ifndef NP_CORE_SPINLOCK_H
#define NP_CORE_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

#if NP_MACHINE
/* The machine build (core/seam.h): a simulated lock, owned by a simulated
 * thread, so that every acquisition is a scheduling point and a holder
 * switched out keeps the others waiting, as a preempted holder does. */
#include "seam.h"
typedef struct np__spinlock {
    np__mutex m;
} np__spinlock;
#define NP_SPINLOCK_INIT                                                                           \
    {                                                                                              \
        NP_MUTEX_STATIC_INIT                                                                       \
    }
#define np__spin_init(l)   NP_MUTEX_INIT(&((np__spinlock *)(l))->m)
#define np__spin_lock(l)   NP_LOCK(&((np__spinlock *)(l))->m)
#define np__spin_unlock(l) NP_UNLOCK(&((np__spinlock *)(l))->m)
#else
typedef struct np__spinlock {
    atomic_flag f;
} np__spinlock;

#define NP_SPINLOCK_INIT                                                                           \
    {                                                                                              \
        ATOMIC_FLAG_INIT                                                                           \
    }

static inline void np__spin_init(np__spinlock *l)
{
    atomic_flag_clear(&l->f);
}

static inline void np__spin_lock(np__spinlock *l)
{
    for (unsigned i = 0; atomic_flag_test_and_set_explicit(&l->f, memory_order_acquire); i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause(); /* let the sibling hyperthread run; saves power */
#endif
        if (i % 2048 == 2047)
            sched_yield(); /* ~0.1 ms of spinning: the holder may have been preempted */
    }
}

static inline void np__spin_unlock(np__spinlock *l)
{
    atomic_flag_clear_explicit(&l->f, memory_order_release);
}

#endif
#endif
