/* core/timer_heap.c - a 4-ary min-heap of timers; see timer_heap.h. */
#include "timer_heap.h"

#include <errno.h>
#include <stdlib.h>

#define NP_HEAP_ARITY   4
#define NP_HEAP_MIN_CAP 16

/* True if a must come out of the heap before b: earlier deadline, or the
 * same deadline and an earlier add/modify. */
static bool timer_less(const np_timer *a, const np_timer *b)
{
    if (a->when != b->when)
        return a->when < b->when;
    return a->order < b->order;
}

static void heap_set(np_timer_heap *h, uint32_t i, np_timer *t)
{
    h->v[i] = t;
    t->index = (int32_t)i;
}

/* Moves the timer at i towards the root until its parent is not greater.
 * Holds the moving timer aside and shifts parents down, writing it once. */
static void sift_up(np_timer_heap *h, uint32_t i)
{
    np_timer *t = h->v[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / NP_HEAP_ARITY;

        if (!timer_less(t, h->v[parent]))
            break;
        heap_set(h, i, h->v[parent]);
        i = parent;
    }
    heap_set(h, i, t);
}

/* Moves the timer at i towards the leaves until no child is smaller. */
static void sift_down(np_timer_heap *h, uint32_t i)
{
    np_timer *t = h->v[i];
    uint32_t n = h->len;

    for (;;) {
        /* 64-bit so 4i+1 cannot wrap for huge i. */
        uint64_t first = (uint64_t)i * NP_HEAP_ARITY + 1;
        uint32_t best, c, end;

        if (first >= n)
            break;
        end = first + NP_HEAP_ARITY < n ? (uint32_t)first + NP_HEAP_ARITY : n;
        best = (uint32_t)first;
        for (c = best + 1; c < end; c++)
            if (timer_less(h->v[c], h->v[best]))
                best = c;
        if (!timer_less(h->v[best], t))
            break;
        heap_set(h, i, h->v[best]);
        i = best;
    }
    heap_set(h, i, t);
}

/* Restores the heap property around slot i after its timer changed. */
static void sift(np_timer_heap *h, uint32_t i)
{
    if (i > 0 && timer_less(h->v[i], h->v[(i - 1) / NP_HEAP_ARITY]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

/* Makes room for one more timer; leaves the heap untouched on failure. */
static int heap_reserve(np_timer_heap *h)
{
    np_timer **nv;
    uint32_t ncap;
    size_t bytes;

    if (h->len < h->cap)
        return 0;
    /* index is int32_t, so never hold more than INT32_MAX timers. */
    if (h->cap > (uint32_t)INT32_MAX / 2)
        return -ENOMEM;
    ncap = h->cap ? h->cap * 2 : NP_HEAP_MIN_CAP;
    bytes = (size_t)ncap * sizeof(*nv);
    /* Only possible with a 32-bit size_t: the byte count wrapped. */
    if (bytes / sizeof(*nv) != ncap)
        return -ENOMEM;
    nv = realloc(h->v, bytes);
    if (!nv)
        return -ENOMEM;
    h->v = nv;
    h->cap = ncap;
    return 0;
}

void np__timer_heap_init(np_timer_heap *h)
{
    h->v = NULL;
    h->len = 0;
    h->cap = 0;
    h->counter = 0;
}

void np__timer_heap_clear(np_timer_heap *h)
{
    for (uint32_t i = 0; i < h->len; i++)
        h->v[i]->index = -1;
    h->len = 0;
    h->counter = 0;
}

void np__timer_heap_free(np_timer_heap *h)
{
    np__timer_heap_clear(h);
    free(h->v);
    h->v = NULL;
    h->cap = 0;
}

int np__timer_heap_add(np_timer_heap *h, np_timer *t, int64_t when)
{
    int err = heap_reserve(h);

    if (err)
        return err;
    t->when = when;
    t->order = h->counter++;
    h->v[h->len] = t;
    h->len++;
    sift_up(h, h->len - 1);
    return 0;
}

int np__timer_heap_modify(np_timer_heap *h, np_timer *t, int64_t when)
{
    if (t->index < 0)
        return np__timer_heap_add(h, t, when);
    t->when = when;
    t->order = h->counter++;
    sift(h, (uint32_t)t->index);
    return 0;
}

bool np__timer_heap_del(np_timer_heap *h, np_timer *t)
{
    uint32_t i, last;

    if (t->index < 0)
        return false;
    i = (uint32_t)t->index;
    last = h->len - 1;
    t->index = -1;
    h->len = last;
    if (i != last) {
        /* Fill the hole with the last timer, which may belong above or below. */
        heap_set(h, i, h->v[last]);
        sift(h, i);
    }
    return true;
}

np_timer *np__timer_heap_pop(np_timer_heap *h)
{
    np_timer *t = np__timer_heap_top(h);

    if (t)
        np__timer_heap_del(h, t);
    return t;
}

uint32_t np__timer_heap_check(const np_timer_heap *h)
{
    uint32_t i;

    for (i = 0; i < h->len; i++) {
        if (h->v[i]->index != (int32_t)i)
            return i + 1;
        if (i > 0 && timer_less(h->v[i], h->v[(i - 1) / NP_HEAP_ARITY]))
            return i + 1;
    }
    return 0;
}
