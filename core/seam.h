/* core/seam.h - the simulator seam (DESIGN section 4).
 *
 * The pollDesc code (poll_desc.c) touches shared memory, its lock, the
 * runtime's timers, parking and the clock ONLY through the macros below.
 *
 *  - Live build: they are C11 sequentially consistent atomics, a spinlock,
 *    the scheduler's np_park/np_ready and np_now(). seq_cst is
 *    required, not a choice: the waiter stores rg then loads the error state,
 *    the closer/timer store the error state then load rg (a Dekker pair;
 *    acquire/release loses wake-ups, Go issue 45211).
 *  - Sim build (NP_SIM=1, library netpoll_sim): each first calls
 *    np__sim_point(kind, address, file, line), where the interleaving
 *    explorer may switch to another simulated thread, then does the same
 *    operation. One OS thread runs all simulated threads, so the explorer
 *    alone decides the order (the atomics are relaxed there: see below).
 *    The lock becomes a simulated lock.
 *
 * No copy of the protocol exists for the simulator: this file is the only
 * difference between the two builds of poll_desc.c.
 */
#ifndef NP_CORE_SEAM_H
#define NP_CORE_SEAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netpoll/runtime.h"
#include "netpoll/task.h"
#include "spinlock.h"

/* What a scheduling point is about to do. */
enum np_point_kind {
    NP_PT_LOAD,      /* atomic load */
    NP_PT_STORE,     /* atomic store */
    NP_PT_CAS,       /* compare-and-swap */
    NP_PT_XCHG,      /* atomic exchange */
    NP_PT_LOCK,      /* acquire the pd lock */
    NP_PT_UNLOCK,    /* release it */
    NP_PT_TIMER,     /* add/modify/delete a runtime timer */
    NP_PT_NOW,       /* read the clock */
    NP_PT_PARK,      /* park the calling task */
    NP_PT_READY,     /* make a task runnable */
    NP_PT_KIND_COUNT /* number of kinds */
};

#if NP_SIM
/* Supplied by backend_sim/machine/seam_sim.c. */
void np__sim_point(enum np_point_kind kind, const volatile void *addr, const char *file, int line);
/* What the step just observed (a loaded value, a CAS result, a lock's
 * acquisition number): the explorer folds it into the running thread's
 * history, which with the shared state identifies the thread's local state. */
extern void (*np__sim_observe)(uint64_t v); /* the explorer's hook, NULL if none */
static inline uint64_t np__sim_obs(uint64_t v)
{
    if (np__sim_observe)
        np__sim_observe(v);
    return v;
}
#define NP__OBS(x) ((__typeof__(x))np__sim_obs((uint64_t)(x)))

/* A simulated lock: one OS thread runs every simulated thread, so a held
 * lock is waited for by yielding to the explorer, never by blocking. */
typedef struct np__mutex {
    int owner;         /* 0 free, else the simulated thread holding it */
    unsigned acquired; /* acquisitions so far: the order of critical sections */
} np__mutex;
void np__sim_lock(np__mutex *m, const char *file, int line);
void np__sim_unlock(np__mutex *m, const char *file, int line);

#define NP__PT(kind, addr) np__sim_point((kind), (const volatile void *)(addr), __FILE__, __LINE__)
#define NP_MUTEX_STATIC_INIT                                                                       \
    {                                                                                              \
        0, 0                                                                                       \
    }
#define NP_MUTEX_INIT(m)    ((m)->owner = 0, (m)->acquired = 0)
#define NP_MUTEX_DESTROY(m) ((void)(m))
#define NP_LOCK(m)          np__sim_lock((m), __FILE__, __LINE__)
#define NP_UNLOCK(m)        np__sim_unlock((m), __FILE__, __LINE__)
#else
typedef pthread_mutex_t np__mutex;
#define NP__PT(kind, addr)   ((void)0)
#define NP__OBS(x)           (x)
#define NP_MUTEX_STATIC_INIT PTHREAD_MUTEX_INITIALIZER
#define NP_MUTEX_INIT(m)     pthread_mutex_init((m), NULL)
#define NP_MUTEX_DESTROY(m)  pthread_mutex_destroy(m)
#define NP_LOCK(m)           pthread_mutex_lock(m)
#define NP_UNLOCK(m)         pthread_mutex_unlock(m)
#endif

#if NP_SIM
/* In the sim build one OS thread runs every simulated thread, and the
 * explorer's order of the scheduling points is the whole memory order: each
 * operation, done between two points, is indivisible and seen at once by
 * every later one, which is sequential consistency. The hardware's fences
 * would add nothing (a seq_cst store or a read-modify-write is a locked
 * instruction on x86, tens of cycles at every step of every execution), so
 * the operations are relaxed, and a read-modify-write is a load and a store. */
#define NP__MO memory_order_relaxed
static inline bool np__cas_uptr(_Atomic uintptr_t *p, uintptr_t old, uintptr_t new_)
{
    if (atomic_load_explicit(p, NP__MO) != old)
        return false;
    atomic_store_explicit(p, new_, NP__MO);
    return true;
}
static inline bool np__cas_u32(_Atomic uint32_t *p, uint32_t old, uint32_t new_)
{
    if (atomic_load_explicit(p, NP__MO) != old)
        return false;
    atomic_store_explicit(p, new_, NP__MO);
    return true;
}
static inline uintptr_t np__xchg(_Atomic uintptr_t *p, uintptr_t v)
{
    uintptr_t old = atomic_load_explicit(p, NP__MO);
    atomic_store_explicit(p, v, NP__MO);
    return old;
}
#else
#define NP__MO memory_order_seq_cst
static inline bool np__cas_uptr(_Atomic uintptr_t *p, uintptr_t old, uintptr_t new_)
{
    return atomic_compare_exchange_strong(p, &old, new_);
}
static inline bool np__cas_u32(_Atomic uint32_t *p, uint32_t old, uint32_t new_)
{
    return atomic_compare_exchange_strong(p, &old, new_);
}
static inline uintptr_t np__xchg(_Atomic uintptr_t *p, uintptr_t v)
{
    return atomic_exchange(p, v);
}
#endif

/* Atomics: all sequentially consistent (see above; the sim build's are
 * sequentially consistent by construction). */
/* A load by the lock holder of a field that only lock holders write: nobody
 * can change it meanwhile, so it needs neither ordering nor a scheduling
 * point (relaxed is enough, and keeps the explorer's state space small). */
#define NP_OWN(p)      atomic_load_explicit((p), memory_order_relaxed)
#define NP_LOAD(p)     (NP__PT(NP_PT_LOAD, p), NP__OBS(atomic_load_explicit((p), NP__MO)))
#define NP_STORE(p, v) (NP__PT(NP_PT_STORE, p), atomic_store_explicit((p), (v), NP__MO))
#define NP_XCHG(p, v)  (NP__PT(NP_PT_XCHG, p), NP__OBS(np__xchg((p), (v))))
#define NP_CAS(p, o, n)                                                                            \
    (NP__PT(NP_PT_CAS, p),                                                                         \
     NP__OBS(_Generic((p), _Atomic uintptr_t *: np__cas_uptr, _Atomic uint32_t *: np__cas_u32)(    \
         (p), (o), (n))))

/* The runtime, as the pollDesc code sees it. */
#define NP_NOW() (NP__PT(NP_PT_NOW, 0), NP__OBS(np_now()))
/* Is absolute time d at or before now? A deadline far ahead is judged by the
 * backend's coarse clock alone (the sim backend has none: always exact). */
#define NP_EXPIRED(d)    (!np__surely_future(d) && (d) <= NP_NOW())
#define NP_PARK(fn, arg) (NP__PT(NP_PT_PARK, 0), np_park((fn), (arg)))
#define NP_READY(t)      (NP__PT(NP_PT_READY, t), np_ready(t))
#define NP_TIMER_SET(t, w, fn, arg, seq)                                                           \
    (NP__PT(NP_PT_TIMER, t), np__timer_set((t), (w), (fn), (arg), (seq)))
#define NP_TIMER_DEL(t) (NP__PT(NP_PT_TIMER, t), NP__OBS(np__timer_del(t)))

#endif
