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
    NP_PT_SEM,       /* post or wait on a thread's semaphore (machine build) */
    NP_PT_SYS,       /* a system call of netfd.c or the poller (machine build) */
    NP_PT_THREAD,    /* create or join a thread (machine build) */
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
/* The recorder's open section, per simulated thread (core/record.c): room
 * for it, zeroed when the simulated thread is made; supplied by the world
 * (per task) and the machine (per simulated OS thread). */
#define NP_SIM_REC_SEC_BYTES 64
void *np__sim_rec_sec(void);

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

/* ---- the whole runtime's seam ------------------------------------------------
 *
 * The scheduler, the semaphores, the fdMutex and netfd.c reach shared memory,
 * threads, thread semaphores, thread-local state and the kernel through the
 * macros below. In the live build each is exactly the operation it names,
 * with the memory order written at the call (seq_cst where no order is
 * given). In the machine build (NP_MACHINE=1, with NP_SIM=1: library
 * netpoll_machine, backend_sim/machine/mach.c) each is first a scheduling
 * point of the simulated machine, whose simulated OS threads run one at a
 * time on one OS thread: the explorer's order of the points is then the whole
 * memory order (sequential consistency; weaker orders are left to TSan and
 * the live tests), and the operation itself is done as written. In the world
 * build (NP_SIM alone) these files run on one thread and the macros are the
 * live ones. */
#if NP_MACHINE
#define NP_RT_PT(kind, addr)                                                                       \
    np__sim_point((kind), (const volatile void *)(addr), __FILE__, __LINE__)
#else
#define NP_RT_PT(kind, addr) ((void)0)
#endif
#define NP_RT_LOAD(p)          (NP_RT_PT(NP_PT_LOAD, p), atomic_load(p))
#define NP_RT_LOADX(p, mo)     (NP_RT_PT(NP_PT_LOAD, p), atomic_load_explicit((p), (mo)))
#define NP_RT_STORE(p, v)      (NP_RT_PT(NP_PT_STORE, p), atomic_store((p), (v)))
#define NP_RT_STOREX(p, v, mo) (NP_RT_PT(NP_PT_STORE, p), atomic_store_explicit((p), (v), (mo)))
#define NP_RT_CAS(p, e, n)     (NP_RT_PT(NP_PT_CAS, p), atomic_compare_exchange_strong((p), (e), (n)))
#define NP_RT_CASW(p, e, n)    (NP_RT_PT(NP_PT_CAS, p), atomic_compare_exchange_weak((p), (e), (n)))
#define NP_RT_XCHG(p, v)       (NP_RT_PT(NP_PT_XCHG, p), atomic_exchange((p), (v)))
#define NP_RT_FADD(p, v)       (NP_RT_PT(NP_PT_XCHG, p), atomic_fetch_add((p), (v)))
#define NP_RT_FSUB(p, v)       (NP_RT_PT(NP_PT_XCHG, p), atomic_fetch_sub((p), (v)))

#if NP_MACHINE
/* Threads, their semaphores and their thread-local slots, simulated
 * (backend_sim/machine/mach.c). A simulated thread blocks by handing the
 * turn back to the explorer, never the OS thread. */
typedef struct np__ossem {
    unsigned count;
} np__ossem;
typedef int np__osthread; /* the simulated thread's id */
void np__m_sem_post(np__ossem *s, const char *file, int line);
void np__m_sem_wait(np__ossem *s, const char *file, int line);
int np__m_thread_create(np__osthread *t, void *(*fn)(void *), void *arg);
void np__m_thread_join(np__osthread t);
void **np__m_tls(void); /* the running simulated thread's slot */
#define NP_OSSEM_INIT(s)          ((s)->count = 0, 0)
#define NP_OSSEM_DESTROY(s)       ((void)(s))
#define NP_OSSEM_POST(s)          np__m_sem_post((s), __FILE__, __LINE__)
#define NP_OSSEM_WAIT(s)          (np__m_sem_wait((s), __FILE__, __LINE__), 0)
#define NP_THREAD_CREATE(t, f, a) np__m_thread_create((t), (f), (a))
#define NP_THREAD_JOIN(t)         np__m_thread_join(t)
#else
#include <semaphore.h>
typedef sem_t np__ossem;
typedef pthread_t np__osthread;
#define NP_OSSEM_INIT(s)          sem_init((s), 0, 0)
#define NP_OSSEM_DESTROY(s)       sem_destroy(s)
#define NP_OSSEM_POST(s)          sem_post(s)
#define NP_OSSEM_WAIT(s)          sem_wait(s)
#define NP_THREAD_CREATE(t, f, a) pthread_create((t), NULL, (f), (a))
#define NP_THREAD_JOIN(t)         pthread_join((t), NULL)
#endif

/* The system calls of netfd.c: NP_SYS(read)(fd, buf, n) is read(2) live; in
 * the machine build the simulated kernel's (backend_sim/machine/mnet.c:
 * in-memory stream sockets), each a scheduling point. */
#if NP_MACHINE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#define NP_SYS(name) np__msys_##name
ssize_t np__msys_read(int fd, void *buf, size_t n);
ssize_t np__msys_write(int fd, const void *buf, size_t n);
ssize_t np__msys_send(int fd, const void *buf, size_t n, int flags);
int np__msys_close(int fd);
int np__msys_socket(int family, int type, int proto);
int np__msys_setsockopt(int fd, int level, int name, const void *v, socklen_t len);
int np__msys_getsockopt(int fd, int level, int name, void *v, socklen_t *len);
int np__msys_bind(int fd, const struct sockaddr *a, socklen_t len);
int np__msys_listen(int fd, int backlog);
int np__msys_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags);
int np__msys_connect(int fd, const struct sockaddr *a, socklen_t len);
int np__msys_getpeername(int fd, struct sockaddr *a, socklen_t *len);
int np__msys_getsockname(int fd, struct sockaddr *a, socklen_t *len);
int np__msys_fcntl(int fd, int cmd, ...);
int np__msys_fstat(int fd, struct stat *st);
int np__msys_shutdown(int fd, int how);
int np__msys_unlink(const char *path);
#else
#define NP_SYS(name) name
#endif

/* The pollcache's blocks (poll_desc.c). In the sim builds an allocation
 * may be refused on purpose (np_sim_set_alloc_failure in netpoll/sim.h,
 * supplied by backend_sim/machine/sim.c), so that the checker's edge pass
 * reaches np_poll_open's -ENOMEM; live, plain aligned_alloc. */
void *np__sim_aligned_alloc(size_t align, size_t size);
#if NP_SIM
#define NP_ALIGNED_ALLOC(a, n) np__sim_aligned_alloc((a), (n))
#else
#define NP_ALIGNED_ALLOC(a, n) aligned_alloc((a), (n))
#endif

/* Last: in the machine build the spinlock is a simulated lock (np__mutex above). */
#include "spinlock.h"

#endif
