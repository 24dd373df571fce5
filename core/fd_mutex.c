#include "fd_mutex.h"

#include <errno.h>

#include "fatal.h"
#include "seam.h"
#include "netpoll/net.h"

/* All operations are CAS loops on one word, sequentially consistent: a lock
 * holder's unlock and a waiter's registration must agree on who releases
 * the semaphore, and close must see every waiter counted before it. */

void np__fdmu_init(np__fd_mutex *m)
{
    atomic_init(&m->state, 0);
    np__sema_init(&m->rsema);
    np__sema_init(&m->wsema);
}

void np__fdmu_destroy(np__fd_mutex *m)
{
    np__sema_destroy(&m->rsema);
    np__sema_destroy(&m->wsema);
}

int np__fdmu_incref(np__fd_mutex *m)
{
    uint64_t old = NP_RT_LOAD(&m->state);
    for (;;) {
        if (old & NP_FDMU_CLOSED)
            return NP_ECLOSED;
        if ((old & NP_FDMU_REF_MASK) == NP_FDMU_REF_MASK)
            return -EOVERFLOW; /* 2^20 - 1 calls in progress */
        if (NP_RT_CASW(&m->state, &old, old + NP_FDMU_REF))
            return 0;
    }
}

bool np__fdmu_decref(np__fd_mutex *m)
{
    uint64_t old = NP_RT_LOAD(&m->state);
    for (;;) {
        if ((old & NP_FDMU_REF_MASK) == 0)
            np__fatal("fdMutex: decref without a reference (state %#llx)", (unsigned long long)old);
        uint64_t new_ = old - NP_FDMU_REF;
        if (NP_RT_CASW(&m->state, &old, new_))
            return (new_ & (NP_FDMU_CLOSED | NP_FDMU_REF_MASK)) == NP_FDMU_CLOSED;
    }
}

int np__fdmu_rwlock(np__fd_mutex *m, bool read, bool *destroy)
{
    *destroy = false;
    const uint64_t bit = read ? NP_FDMU_RLOCK : NP_FDMU_WLOCK;
    const uint64_t wait = read ? NP_FDMU_RWAIT : NP_FDMU_WWAIT;
    const uint64_t wmask = read ? NP_FDMU_RWAIT_MASK : NP_FDMU_WWAIT_MASK;
    np__sema *sem = read ? &m->rsema : &m->wsema;
    int err = np__fdmu_incref(m); /* held while we wait, too */
    if (err)
        return err;
    uint64_t old = NP_RT_LOAD(&m->state);
    for (;;) {
        if (old & NP_FDMU_CLOSED) {
            /* Woken by close: drop the reference we waited with; if close
             * has dropped its own already, this one is the last. */
            *destroy = np__fdmu_decref(m);
            return NP_ECLOSED;
        }
        uint64_t new_;
        if (!(old & bit)) {
            new_ = old | bit;
        } else {
            if ((old & wmask) == wmask) {
                *destroy = np__fdmu_decref(m);
                return -EOVERFLOW;
            }
            new_ = old + wait;
        }
        if (!NP_RT_CASW(&m->state, &old, new_))
            continue;
        if (!(old & bit))
            return 0;
        /* Parked until an unlock or close hands us a turn; then try again. */
        np__sema_acquire(sem);
        old = NP_RT_LOAD(&m->state);
    }
}

bool np__fdmu_rwunlock(np__fd_mutex *m, bool read)
{
    const uint64_t bit = read ? NP_FDMU_RLOCK : NP_FDMU_WLOCK;
    const uint64_t wait = read ? NP_FDMU_RWAIT : NP_FDMU_WWAIT;
    const uint64_t wmask = read ? NP_FDMU_RWAIT_MASK : NP_FDMU_WWAIT_MASK;
    np__sema *sem = read ? &m->rsema : &m->wsema;
    uint64_t old = NP_RT_LOAD(&m->state);
    for (;;) {
        if (!(old & bit) || !(old & NP_FDMU_REF_MASK))
            np__fatal("fdMutex: unlock of a lock not held (state %#llx)", (unsigned long long)old);
        uint64_t new_ = (old & ~bit) - NP_FDMU_REF;
        if (old & wmask)
            new_ -= wait; /* one waiter gets a turn */
        if (!NP_RT_CASW(&m->state, &old, new_))
            continue;
        if (old & wmask)
            np__sema_release(sem);
        /* The last reference after close, dropped by an unlock: destroy
         * (Go issue 77404 was this path forgotten). */
        return (new_ & (NP_FDMU_CLOSED | NP_FDMU_REF_MASK)) == NP_FDMU_CLOSED;
    }
}

int np__fdmu_close(np__fd_mutex *m)
{
    uint64_t old = NP_RT_LOAD(&m->state);
    uint64_t new_;
    for (;;) {
        if (old & NP_FDMU_CLOSED)
            return NP_ECLOSED;
        if ((old & NP_FDMU_REF_MASK) == NP_FDMU_REF_MASK)
            return -EOVERFLOW;
        new_ = ((old | NP_FDMU_CLOSED) + NP_FDMU_REF) & ~(NP_FDMU_RWAIT_MASK | NP_FDMU_WWAIT_MASK);
        if (NP_RT_CASW(&m->state, &old, new_))
            break;
    }
    /* Wake every waiter; each sees `closed` and fails. */
    for (uint64_t n = (old & NP_FDMU_RWAIT_MASK) / NP_FDMU_RWAIT; n > 0; n--)
        np__sema_release(&m->rsema);
    for (uint64_t n = (old & NP_FDMU_WWAIT_MASK) / NP_FDMU_WWAIT; n > 0; n--)
        np__sema_release(&m->wsema);
    return 0;
}
