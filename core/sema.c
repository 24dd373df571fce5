#include "sema.h"

#include <pthread.h>
#include <stdbool.h>

#include "netpoll/task.h"

typedef struct np__sema_waiter {
    struct np__sema_waiter *next;
    np_task *task;     /* the parked task, or NULL for a thread */
    pthread_mutex_t m; /* a thread waiter's own lock and condition */
    pthread_cond_t cv;
    bool done; /* a thread's wake-up has been handed over (under m) */
} waiter;

void np__sema_init(np__sema *s)
{
    np__spin_init(&s->lock);
    s->count = 0;
    s->head = s->tail = NULL;
}

void np__sema_destroy(np__sema *s)
{
    (void)s;
}

/* Runs on the worker's stack once the task is off its own: from now on a
 * release may find it queued and ready it. */
static bool unlock_commit(np_task *t, void *lock)
{
    (void)t;
    np__spin_unlock(lock);
    return true;
}

void np__sema_acquire(np__sema *s)
{
    np__spin_lock(&s->lock);
    if (s->count > 0) {
        s->count--;
        np__spin_unlock(&s->lock);
        return;
    }
    waiter w = {.task = np_self()};
    if (!w.task) {
        pthread_mutex_init(&w.m, NULL);
        pthread_cond_init(&w.cv, NULL);
    }
    if (s->tail)
        s->tail->next = &w;
    else
        s->head = &w;
    s->tail = &w;
    if (w.task) {
        np_park(unlock_commit, &s->lock); /* resumed by release: the count is ours */
        return;
    }
    np__spin_unlock(&s->lock);
    pthread_mutex_lock(&w.m);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.m);
    pthread_mutex_unlock(&w.m);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.m);
}

void np__sema_release(np__sema *s)
{
    np__spin_lock(&s->lock);
    waiter *w = s->head;
    if (!w) {
        s->count++;
        np__spin_unlock(&s->lock);
        return;
    }
    s->head = w->next;
    if (!s->head)
        s->tail = NULL;
    np_task *t = w->task; /* w lives on the waiter's stack: read it first */
    np__spin_unlock(&s->lock);
    if (t) {
        np_ready(t);
        return;
    }
    pthread_mutex_lock(&w->m);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
}
