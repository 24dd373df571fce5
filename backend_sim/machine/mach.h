/* backend_sim/machine/mach.h - the simulated machine (private).
 *
 * The machine build (library netpoll_machine: the core compiled with
 * NP_SIM=1 NP_MACHINE=1, core/scheduler.c included) runs the whole runtime
 * unchanged on simulated OS threads: mach.c (threads, locks, semaphores,
 * the clock, the explorer's turn at every scheduling point), mnet.c (the
 * simulated kernel: stream sockets and the poller), programs.c (scenarios
 * written as programs over the public API) and mexplore.c (strategies,
 * invariants, listings).
 */
#ifndef NP_BACKEND_SIM_MACH_H
#define NP_BACKEND_SIM_MACH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netpoll/backend.h"
#include "netpoll/machine.h"
#include "scheduler.h"
#include "seam.h"

#define MX_MAX_THREADS 8 /* the main thread and the workers */
#define MX_EPOCH       INT64_C(1000000000)

/* ---- mach.c: simulated threads ---- */
enum { MT_FREE, MT_RUN, MT_BLOCK, MT_DONE };
enum { MB_LOCK, MB_SEM, MB_JOIN, MB_POLL, MB_BUSY };

typedef struct mx_thread {
    int state;         /* MT_* */
    int bk;            /* MB_*: what a blocked thread waits for */
    const void *bobj;  /* ... the lock, semaphore or thread */
    int64_t until;     /* MB_POLL: the poll's end (INT64_MAX: none); MB_BUSY: the
                          computation's end */
    bool timed_out;    /* MB_POLL: the clock reached `until` */
    np_ctx at;         /* where it stands while not running */
    void *fiber;       /* TSan's fiber made with `at` (at's may be a task's) */
    void *stack;       /* its own stack */
    size_t stack_size; /* ... in bytes */
    void *(*fn)(void *);
    void *arg;
    void *tls; /* its thread-local slot (the scheduler's worker) */
    _Alignas(8) unsigned char rec_sec[NP_SIM_REC_SEC_BYTES]; /* the recorder's section */
    int kind;                  /* the scheduling point it stands at (NP_PT_*) */
    const volatile void *addr; /* ... the object it names (NULL: none) */
    const char *file;          /* ... and where */
    int line;
    uint64_t hist; /* state caching: the thread's history (see mach.c, "histories") */
} mx_thread;

/* One step of an execution, for the listing and the strategies. */
typedef struct mx_step {
    uint8_t thread;    /* who ran */
    uint8_t enabled;   /* the threads that could have run (bit per thread) */
    uint8_t prev;      /* who ran the step before */
    uint8_t tried;     /* dfs: alternatives done at this step */
    uint16_t preempts; /* preemptions before this step */
    uint8_t kind;      /* the point the thread stood at */
    const char *file;  /* ... where */
    int line;
} mx_step;

typedef struct mx_machine {
    np_ctx home; /* the explorer's own context */
    mx_thread th[MX_MAX_THREADS];
    int nth;            /* threads created in this execution */
    int cur;            /* the running thread, -1: the explorer */
    int64_t now;        /* virtual time */
    uint64_t steps;     /* steps of this execution */
    uint64_t max_steps; /* livelock bound */
    bool finding;       /* the execution ended with a finding */
    char fkind[32];
    char fmsg[512];
    const char *ffile; /* where the finding was raised (or 0) */
    int fline;
    int workers;      /* simulated workers of the program */
    bool hist;        /* state caching on: threads keep histories (mach.c) */
    int fault_thread; /* the thread that raised it (-1: quiescence) */
    /* The explorer's choice, made at a thread's scheduling point: the
     * thread to run next (the same: it goes on without a switch), -1 to end
     * the execution; mx.next passes it to the explorer's loop. */
    int (*decide)(void);
    int next; /* MX_NO_NEXT: the loop decides */
} mx_machine;

#define MX_NO_NEXT (-2)

extern mx_machine mx;

/* Resets the machine for a new execution; creates nothing. */
void mx_reset(void);
/* Creates simulated thread 0 running fn(arg). */
int mx_spawn_main(void *(*fn)(void *), void *arg);
/* Is thread i able to take a step? */
bool mx_enabled(int i);
/* Runs thread i for one step (to its next scheduling point, block or end). */
void mx_run(int i);
/* From a simulated thread: the execution ends with a finding (the thread
 * never runs again). */
_Noreturn void mx_fail(const char *kind, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* From a simulated thread (a task's, or a program's own): compute for ns
 * of virtual time without giving the thread up - a task keeps its worker
 * busy meanwhile, as a task that computes does on a real CPU. The clock
 * moves only when no thread can step, so other threads go on first. */
void mx_busy(int64_t ns);
/* Frees the thread stacks (the end of an exploration). */
void mx_free(void);

/* State caching (mach.c, "histories"): thread t takes the next step; its
 * history takes in where it stands, the clock, the program's shared
 * variables (hash `globals`) and the version of the object its pending
 * operation reads, and the object's version takes in the history if the
 * operation may write it. */
void mx_hist_step(int t, uint64_t globals);
/* A running sum of every object's version (part of the hashed state). */
uint64_t mx_hist_objects(void);

/* ---- mnet.c: the simulated kernel ---- */
extern const np_backend np_backend_machine;
void mnet_reset(void);
bool mnet_poll_ready(void);   /* events queued or a break pending */
unsigned mnet_open_fds(void); /* descriptors not closed */
void mnet_set_capacity(unsigned bytes);
/* The socket buffers and readiness, hashed (the explorer's state). */
uint64_t mnet_hash(uint64_t h);

/* ---- programs.c ---- */
typedef struct mx_program {
    const char *name;
    const char *desc;
    void (*main)(void *); /* the program's main task */
    const char *expect;   /* a self-test: the finding it must raise (NULL: none) */
} mx_program;
const mx_program *mx_program_find(const char *name);
const mx_program *mx_program_at(size_t i); /* NULL past the last */
/* The programs' shared variables (every non-constant static of
 * programs.c), hashed by value (see mach.c, "histories"): select the
 * program's (at the start of an exploration), hash them (at every step),
 * and check at the end of an execution that no other one changed (false,
 * with why, if one did). */
void mx_program_globals_select(const mx_program *prog);
uint64_t mx_program_globals_hash(void);
bool mx_program_globals_check(char *why, size_t cap);
/* The selected program's result at the end of an execution (its shared
 * variables but addresses), hashed: the outcome classes of mexplore.c. */
uint64_t mx_program_outcome(void);

/* A program's statement about parallelism: a task readied while a worker
 * is idle runs while another computes (mx_busy). A finding
 * "lost-parallelism" with the message. */
#define MX_PARALLEL(c, ...)                                                                        \
    do {                                                                                           \
        if (!(c))                                                                                  \
            mx_fail("lost-parallelism", __FILE__, __LINE__, __VA_ARGS__);                          \
    } while (0)

/* A program's own assertion: a finding "assertion" with the message. */
#define MX_ASSERT(c, ...)                                                                          \
    do {                                                                                           \
        if (!(c))                                                                                  \
            mx_fail("assertion", __FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)

#endif
