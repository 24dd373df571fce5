/* core/task.c - creating and freeing tasks: the part both runtimes share
 * (core/scheduler.c, live; backend_sim/world.c, the sim build). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/runtime.h"

#include "scheduler.h"
#include "stack_pool.h"

/* Freed tasks are kept, with their stacks, for the next ones: a task is
 * created for every accepted connection (live) and for every actor of
 * every explored run (the sim build), and this spares the allocator and
 * the stack pool's lock. At most TASK_CACHE_MAX, all of one stack size. */
enum { TASK_CACHE_MAX = 64 };
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static np_task *cache;  /* linked through next */
static unsigned ncache; /* how many */

static np_task *cache_get(size_t stack_size)
{
    pthread_mutex_lock(&cache_lock);
    np_task *t = cache;
    if (t && t->stack_size == stack_size) {
        cache = t->next;
        ncache--;
    } else {
        t = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    return t;
}

np_task *np__task_new(void (*fn)(void *), void *arg, size_t stack_size, void (*entry)(void *))
{
    size_t size = np__stack_round(stack_size);
    np_task *t = cache_get(size);
    void *stack = t ? t->stack : NULL;
    if (!t) {
        t = malloc(sizeof *t);
        if (!t)
            return NULL;
        stack = np__stack_get(size);
        if (!stack) {
            free(t);
            return NULL;
        }
    }
    memset(t, 0, sizeof *t);
    t->stack = stack;
    t->stack_size = size;
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
    pthread_mutex_lock(&cache_lock);
    if (ncache < TASK_CACHE_MAX && (!cache || cache->stack_size == t->stack_size)) {
        t->next = cache;
        cache = t;
        ncache++;
        t = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    if (t) {
        np__stack_put(t->stack, t->stack_size);
        free(t);
    }
}

void np__task_cache_drain(void)
{
    pthread_mutex_lock(&cache_lock);
    np_task *t = cache;
    cache = NULL;
    ncache = 0;
    pthread_mutex_unlock(&cache_lock);
    while (t) {
        np_task *next = t->next;
        np__stack_put(t->stack, t->stack_size);
        free(t);
        t = next;
    }
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
