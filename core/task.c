/* core/task.c - creating and freeing tasks: the part both runtimes share
 * (core/scheduler.c, live; backend_sim/machine/world.c, the sim build). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/runtime.h"

#include "scheduler.h"
#include "stack_pool.h"

size_t np__task_ext_size;

np_task *np__task_new(void (*fn)(void *), void *arg, size_t stack_size, void (*entry)(void *))
{
    np_task *t = malloc(sizeof *t + np__task_ext_size); /* np__task_reuse zeroes it */
    if (!t)
        return NULL;
    t->stack_size = np__stack_round(stack_size);
    t->stack = np__stack_get(t->stack_size);
    if (!t->stack) {
        free(t);
        return NULL;
    }
    np__task_reuse(t, fn, arg, entry);
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
    np__ctx_make(&t->ctx, t->stack, t->stack_size, entry, t);
    atomic_init(&t->state, NP_T_RUNNABLE);
}

void np__task_free(np_task *t)
{
    np__ctx_destroy(&t->ctx);
    np__stack_put(t->stack, t->stack_size);
    free(t);
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
