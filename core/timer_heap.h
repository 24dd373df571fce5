/* core/timer_heap.h - a 4-ary min-heap of timers (private).
 *
 * Contract:
 *  - each queued timer stores its own position (index), so modify and
 *    delete are O(log n) with no search;
 *  - the top is the timer with the smallest `when`; among equal `when`s the
 *    one added (or last modified) first, so equal deadlines fire in FIFO
 *    order (ties broken by a counter, as libuv's start_id does);
 *  - the heap does no locking and never allocates per timer: the caller owns
 *    the np_timer structs and the lock around the heap;
 *  - a timer is in at most one heap at a time; index == -1 means "not queued".
 *
 * Why 4-ary: half the depth of a binary heap for the same n, and the four
 * children sit in one or two cache lines of the pointer array; Go's runtime
 * timers use the same arity (runtime/time.go).
 */
#ifndef NP_CORE_TIMER_HEAP_H
#define NP_CORE_TIMER_HEAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct np_timer np_timer;

/* Called when the timer fires, with the lock around the heap NOT held. `seq`
 * is the timer's seq at the moment it was taken off the heap. */
typedef void (*np_timer_fn)(void *arg, uintptr_t seq);

struct np_timer {
    int64_t when;   /* absolute fire time on the runtime clock, ns */
    uint64_t order; /* tie-breaker: heap counter at the last add/modify */
    int32_t index;  /* position in the heap array, -1 when not queued */
    np_timer_fn fn; /* what firing calls; set by the owner */
    void *arg;      /* passed to fn */
    uintptr_t seq;  /* passed to fn; owners use it to detect stale firings */
};

typedef struct np_timer_heap {
    np_timer **v;     /* v[0] is the top; children of i are 4i+1 .. 4i+4 */
    uint32_t len;     /* queued timers */
    uint32_t cap;     /* allocated slots in v */
    uint64_t counter; /* next `order` value */
} np_timer_heap;

/* A timer that is not queued. */
#define NP_TIMER_INIT                                                                              \
    {                                                                                              \
        0, 0, -1, 0, 0, 0                                                                          \
    }

void np__timer_heap_init(np_timer_heap *h);
/* Frees the array; queued timers are simply forgotten (index set to -1). */
/* Unqueues every timer and starts the order counter again, keeping the
 * storage (the sim world, restarted for every explored execution). */
void np__timer_heap_clear(np_timer_heap *h);
void np__timer_heap_free(np_timer_heap *h);

/* Queues t (which must not be queued) to fire at `when`.
 * Returns 0 or -ENOMEM (the heap is unchanged then). */
int np__timer_heap_add(np_timer_heap *h, np_timer *t, int64_t when);

/* Moves t to fire at `when`, queueing it if it is not queued (then it may
 * return -ENOMEM). It counts as a new add for FIFO ties. Returns 0 or -ENOMEM. */
int np__timer_heap_modify(np_timer_heap *h, np_timer *t, int64_t when);

/* Unqueues t. Returns true if it was queued, false if it was not. */
bool np__timer_heap_del(np_timer_heap *h, np_timer *t);

/* The earliest timer, or NULL if empty. */
static inline np_timer *np__timer_heap_top(const np_timer_heap *h)
{
    return h->len ? h->v[0] : (np_timer *)0;
}

/* Removes and returns the earliest timer, or NULL if empty. */
np_timer *np__timer_heap_pop(np_timer_heap *h);

/* Checks the heap property and every stored index; returns 0 if sound, or
 * the (1-based) position of the first bad slot. O(n): for tests. */
uint32_t np__timer_heap_check(const np_timer_heap *h);

#endif
