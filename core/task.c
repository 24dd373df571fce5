/* core/task.c - creating and freeing tasks: the part both runtimes share
 * (core/scheduler.c, live; backend_sim/world.c, the sim build). */
#include <stdlib.h>

#include "scheduler.h"
#include "stack_pool.h"

np_task *np__task_new(void (*fn)(void *), void *arg, size_t stack_size, void (*entry)(void *))
{
    np_task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->stack_size = np__stack_round(stack_size);
    t->stack = np__stack_get(t->stack_size);
    if (!t->stack) {
        free(t);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->sleep_timer = (np_timer)NP_TIMER_INIT;
    np__ctx_make(&t->ctx, t->stack, t->stack_size, entry, t);
    atomic_init(&t->state, NP_T_RUNNABLE);
    return t;
}

void np__task_free(np_task *t)
{
    np__ctx_destroy(&t->ctx);
    np__stack_put(t->stack, t->stack_size);
    free(t);
}

uint64_t np_task_parks(const np_task *t)
{
    return t ? t->parks : 0;
}
