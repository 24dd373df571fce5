/* core/task.c - creating and freeing tasks: the part both runtimes share
 * (core/scheduler.c, live; backend_sim/machine/world.c, the sim build). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/runtime.h"

#include "fatal.h"
#include "scheduler.h"
#include "spinlock.h"
#include "stack_pool.h"

size_t np__task_ext_size;

/* The task struct (and the runtime's np__task_ext_size bytes after it) lives
 * at the top of its own stack mapping, above the stack's usable bytes, not in
 * a malloc'd block of its own: the stack's top page is touched anyway (the
 * first frames; a task parked in a read uses < 1 KiB of it), so the struct
 * costs no memory of its own (it was a 240-byte malloc chunk per task, 0.23
 * KiB of an idle connection's ~5: bench/RESULTS.md, "Idle memory"), np_go
 * does one allocation instead of two, and a switch finds the task's fields
 * and its stack top in one page. Rounded to a cache line, so the stack's
 * first frame and the fields a waker writes (state, next) share none. */
static size_t task_hdr(void)
{
    return (sizeof(np_task) + np__task_ext_size + 63) & ~(size_t)63;
}

size_t np__task_stack_bytes(size_t stack_size)
{
    return np__stack_round(stack_size + task_hdr());
}

np_task *np__task_new(void (*fn)(void *), void *arg, size_t stack_size, void (*entry)(void *))
{
    size_t bytes = np__task_stack_bytes(stack_size);
    char *lo = np__stack_get(bytes);
    if (!lo)
        return NULL;
    np_task *t = (np_task *)(lo + bytes - task_hdr());
    NP_ASAN_UNPOISON(t, task_hdr()); /* np__task_free poisoned it, if pooled */
    t->stack = lo;
    t->stack_size = bytes;
    np__task_reuse(t, fn, arg, entry); /* zeroes it */
    return t;
}

void np__task_reuse(np_task *t, void (*fn)(void *), void *arg, void (*entry)(void *))
{
    void *stack = t->stack;
    size_t size = t->stack_size;
    memset(t, 0, sizeof *t + np__task_ext_size);
    t->stack = stack;
    t->stack_size = size;
    t->fn = fn;
    t->arg = arg;
    t->sleep_timer = (np_timer)NP_TIMER_INIT;
    /* The usable stack: from the lowest address up to the task struct. */
    np__ctx_make(&t->ctx, stack, (size_t)((char *)t - (char *)stack), entry, t);
    atomic_init(&t->state, NP_T_RUNNABLE);
}

void np__task_free(np_task *t)
{
    np__ctx_destroy(&t->ctx);
    void *lo = t->stack;
    size_t bytes = t->stack_size;
    /* Under ASan, a task used after it ended is caught as with the malloc'd
     * struct before (stack_pool.c unpoisons a stack it unmaps). */
    NP_ASAN_POISON(t, task_hdr());
    np__stack_put(lo, bytes); /* t is gone with its stack */
}

static void sleep_fire(void *arg, uintptr_t seq)
{
    (void)seq;
    np_ready(arg);
}

/* The sleep timer is queued only once the task is off its stack: were it
 * queued before parking, it could fire (on another worker) first. */
static bool sleep_commit(np_task *t, void *arg)
{
    (void)arg;
    np__timer_set(&t->sleep_timer, t->sleep_until, sleep_fire, t, 0);
    return true;
}

int np_sleep(int64_t ns)
{
    np_task *t = np_self();
    if (!t)
        return -EPERM;
    int64_t now = np_now();
    t->sleep_until = ns > INT64_MAX - now ? INT64_MAX : now + (ns > 0 ? ns : 0);
    np_park(sleep_commit, NULL);
    return 0;
}

uint64_t np_task_parks(const np_task *t)
{
    return t ? t->parks : 0;
}

/* ---- joinable tasks (netpoll/task.h) ------------------------------------------
 *
 * A handle is shared by the spawned task and whoever joins or detaches it;
 * its lock orders the three events that matter - the task returned, a joiner
 * parked, the handle was detached - and whoever comes last frees it: the
 * joiner (after it is readied, or at once if the task had returned), the
 * task (if detached), or np_detach (if the task had returned). The joiner
 * parks with the lock released by its commit, as core/sema.c's waiters do,
 * so the task's np_ready finds it parked. */
struct np_task_handle {
    np__spinlock lock;   /* guards the fields below */
    void *(*fn)(void *); /* what the task runs (constant) */
    void *arg;           /* its argument (constant) */
    void *result;        /* what fn returned, once `finished` */
    bool finished;       /* fn has returned */
    bool detached;       /* np_detach ran: the task frees the handle */
    np_task *joiner;     /* the task parked in np_join, or NULL */
};

static void spawn_entry(void *p)
{
    np_task_handle *h = p;
    void *res = h->fn(h->arg);
    np__spin_lock(&h->lock);
    h->result = res;
    h->finished = true;
    bool detached = h->detached;
    np_task *joiner = h->joiner; /* read under the lock: h is the joiner's to free */
    np__spin_unlock(&h->lock);
    if (detached)
        free(h);
    else if (joiner)
        np_ready(joiner);
}

int np_spawn(void *(*fn)(void *), void *arg, np_task_handle **out)
{
    if (!fn || !out)
        return -EINVAL;
    np_task_handle *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    np__spin_init(&h->lock);
    h->fn = fn;
    h->arg = arg;
    int err = np_go(spawn_entry, h);
    if (err) {
        free(h);
        return err;
    }
    *out = h;
    return 0;
}

static bool join_commit(np_task *t, void *lock)
{
    (void)t;
    np__spin_unlock(lock);
    return true;
}

int np_join(np_task_handle *h, void **result)
{
    if (!h)
        return -EINVAL;
    np__spin_lock(&h->lock);
    if (!h->finished) {
        np_task *self = np_self();
        if (!self) {
            np__spin_unlock(&h->lock);
            return -EPERM;
        }
        if (h->joiner || h->detached) {
            np__spin_unlock(&h->lock);
            np__fatal("np_join: handle %p is already joined or detached", (void *)h);
        }
        h->joiner = self;
        np_park(join_commit, &h->lock); /* readied by spawn_entry once finished */
    } else {
        np__spin_unlock(&h->lock);
    }
    if (result)
        *result = h->result;
    free(h);
    return 0;
}

int np_detach(np_task_handle *h)
{
    if (!h)
        return -EINVAL;
    np__spin_lock(&h->lock);
    bool finished = h->finished;
    h->detached = true;
    np__spin_unlock(&h->lock);
    if (finished)
        free(h);
    return 0;
}

int np_main(const np_config *cfg, void (*fn)(void *), void *arg)
{
    return np__main_run(cfg, fn, arg, false, NULL);
}

int np_main_left(const np_config *cfg, void (*fn)(void *), void *arg, unsigned *left)
{
    return np__main_run(cfg, fn, arg, false, left);
}

int np_main_wait(const np_config *cfg, void (*fn)(void *), void *arg)
{
    return np__main_run(cfg, fn, arg, true, NULL);
}

void np__main_leftover(unsigned n, unsigned *left)
{
    if (left)
        *left = n;
    else if (n)
        fprintf(stderr,
                "netpoll: np_main: the main task returned with %u other task%s not ended "
                "(parked, or not run to its end); freed with the runtime (np_main_wait "
                "waits for every task, np_main_left counts them)\n",
                n, n == 1 ? "" : "s");
}
