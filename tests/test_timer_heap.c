/* tests/test_timer_heap.c - the 4-ary timer heap against its contract. */
#include "timer_heap.h"

#include "harness.h"

#include <stdlib.h>

static void init_timers(np_timer *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        t[i] = (np_timer)NP_TIMER_INIT;
}

static void pop_returns_timers_in_deadline_order(void)
{
    static const int64_t whens[] = {50, 10, 40, 0, 90, 20, 70, 30, 80, 60, -5, 100};
    enum { N = sizeof(whens) / sizeof(whens[0]) };
    np_timer t[N];
    np_timer_heap h;
    int64_t prev = INT64_MIN;
    size_t i;

    init_timers(t, N);
    np__timer_heap_init(&h);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), NULL);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[i], whens[i]), 0);
    NP_ASSERT_EQ_INT(h.len, N);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    for (i = 0; i < N; i++) {
        np_timer *p = np__timer_heap_pop(&h);

        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT(p->when >= prev);
        NP_ASSERT_EQ_INT(p->index, -1);
        prev = p->when;
    }
    NP_ASSERT_EQ_INT(h.len, 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), NULL);
    np__timer_heap_free(&h);
}

static void equal_deadlines_pop_in_fifo_order(void)
{
    enum { N = 40 };
    np_timer t[N];
    np_timer_heap h;
    size_t i;

    init_timers(t, N);
    np__timer_heap_init(&h);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[i], 7), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[i]);

    /* Re-adding t[0] at the same deadline puts it behind t[1] and t[2]. */
    NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[0], 5), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[1], 5), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[2], 5), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_modify(&h, &t[0], 5), 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[1]);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[2]);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[0]);
    NP_ASSERT_EQ_INT(h.len, 0);
    np__timer_heap_free(&h);
}

static void modify_moves_a_queued_timer_earlier_and_later(void)
{
    enum { N = 30 };
    np_timer t[N];
    np_timer_heap h;
    size_t i;

    init_timers(t, N);
    np__timer_heap_init(&h);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[i], 100 + (int64_t)i * 10), 0);

    /* The last timer becomes the earliest. */
    NP_ASSERT_EQ_INT(np__timer_heap_modify(&h, &t[N - 1], 1), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), &t[N - 1]);
    NP_ASSERT_EQ_INT(t[N - 1].when, 1);

    /* The top becomes the latest. */
    NP_ASSERT_EQ_INT(np__timer_heap_modify(&h, &t[N - 1], 10000), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), &t[0]);
    NP_ASSERT_EQ_INT(h.len, N);

    for (i = 0; i < N - 1; i++)
        CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[i]);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &t[N - 1]);
    np__timer_heap_free(&h);
}

static void modify_of_an_unqueued_timer_queues_it(void)
{
    np_timer a = NP_TIMER_INIT, b = NP_TIMER_INIT;
    np_timer_heap h;

    np__timer_heap_init(&h);
    NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &a, 20), 0);
    NP_ASSERT_EQ_INT(np__timer_heap_modify(&h, &b, 10), 0);
    NP_ASSERT_EQ_INT(h.len, 2);
    CU_ASSERT(b.index >= 0);
    NP_ASSERT_EQ_INT(b.when, 10);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &b);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), &a);
    np__timer_heap_free(&h);
}

static void delete_returns_whether_the_timer_was_queued(void)
{
    enum { N = 25 };
    np_timer t[N];
    np_timer_heap h;
    size_t i;

    init_timers(t, N);
    np__timer_heap_init(&h);
    CU_ASSERT(!np__timer_heap_del(&h, &t[0]));
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[i], (int64_t)(N - i)), 0);

    CU_ASSERT(np__timer_heap_del(&h, &t[5]));
    NP_ASSERT_EQ_INT(t[5].index, -1);
    NP_ASSERT_EQ_INT(h.len, N - 1);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    CU_ASSERT(!np__timer_heap_del(&h, &t[5]));
    NP_ASSERT_EQ_INT(h.len, N - 1);

    /* Deleting the top and the last slot also works. */
    CU_ASSERT(np__timer_heap_del(&h, np__timer_heap_top(&h)));
    CU_ASSERT(np__timer_heap_del(&h, h.v[h.len - 1]));
    NP_ASSERT_EQ_INT(h.len, N - 3);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);

    np__timer_heap_free(&h);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(t[i].index, -1);
}

/* --- random operations against a linear-scan reference model --- */

enum { POOL = 1000, OPS = 100000, MAX_WHEN = 50 };

typedef struct {
    np_timer *t;
    int64_t when;
    uint64_t seq; /* model's own insertion counter */
} model_entry;

typedef struct {
    model_entry e[POOL];
    size_t n;
    uint64_t counter;
} model;

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static size_t model_find(const model *m, const np_timer *t)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (m->e[i].t == t)
            return i;
    return SIZE_MAX;
}

/* Adds t, or re-times it if present: either way it goes behind equal whens. */
static void model_set(model *m, np_timer *t, int64_t when)
{
    size_t i = model_find(m, t);

    if (i == SIZE_MAX)
        i = m->n++;
    m->e[i].t = t;
    m->e[i].when = when;
    m->e[i].seq = m->counter++;
}

static bool model_del(model *m, const np_timer *t)
{
    size_t i = model_find(m, t);

    if (i == SIZE_MAX)
        return false;
    m->e[i] = m->e[--m->n];
    return true;
}

static np_timer *model_min(const model *m)
{
    size_t i, best = 0;

    if (m->n == 0)
        return NULL;
    for (i = 1; i < m->n; i++)
        if (m->e[i].when < m->e[best].when ||
            (m->e[i].when == m->e[best].when && m->e[i].seq < m->e[best].seq))
            best = i;
    return m->e[best].t;
}

static void random_operations_match_a_reference_model(void)
{
    static np_timer t[POOL];
    static model m;
    np_timer_heap h;
    uint64_t rng = 0x9e3779b97f4a7c15u;
    int64_t prev_when = INT64_MIN;
    uint64_t prev_order = 0;
    int op;

    init_timers(t, POOL);
    m.n = 0;
    m.counter = 0;
    np__timer_heap_init(&h);
    for (op = 0; op < OPS; op++) {
        unsigned kind = (unsigned)(xorshift64(&rng) % 4);
        np_timer *x = &t[xorshift64(&rng) % POOL];
        int64_t when = (int64_t)(xorshift64(&rng) % (MAX_WHEN + 1));

        switch (kind) {
        case 0: /* add: only an unqueued timer may be added */
            if (x->index >= 0)
                break;
            NP_ASSERT_EQ_INT(np__timer_heap_add(&h, x, when), 0);
            model_set(&m, x, when);
            break;
        case 1:
            NP_ASSERT_EQ_INT(np__timer_heap_modify(&h, x, when), 0);
            model_set(&m, x, when);
            break;
        case 2: {
            bool in_model = model_del(&m, x);

            NP_ASSERT_EQ_INT(np__timer_heap_del(&h, x), in_model);
            NP_ASSERT_EQ_INT(x->index, -1);
            break;
        }
        default: {
            np_timer *want = model_min(&m);
            np_timer *got = np__timer_heap_pop(&h);

            CU_ASSERT_PTR_EQUAL(got, want);
            if (want)
                model_del(&m, want);
            break;
        }
        }
        CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), model_min(&m));
        NP_ASSERT_EQ_INT(h.len, m.n);
        if (op % 1000 == 999)
            NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    }
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);

    /* Drain: every pop matches the model and (when, order) never decreases. */
    while (m.n > 0) {
        np_timer *want = model_min(&m);
        np_timer *got = np__timer_heap_pop(&h);

        CU_ASSERT_PTR_EQUAL_FATAL(got, want);
        CU_ASSERT(got->when > prev_when || (got->when == prev_when && got->order > prev_order));
        prev_when = got->when;
        prev_order = got->order;
        model_del(&m, want);
    }
    NP_ASSERT_EQ_INT(h.len, 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_pop(&h), NULL);
    np__timer_heap_free(&h);
}

/* clear unqueues every timer and keeps the storage; the heap works after */
static void clear_unqueues_every_timer_and_keeps_the_storage(void)
{
    static const int64_t whens[] = {50, 10, 40, 0, 90, 20, 70, 30, 80, 60, -5, 100};
    enum { N = sizeof(whens) / sizeof(whens[0]) };
    np_timer t[N];
    np_timer_heap h;
    size_t i;

    init_timers(t, N);
    np__timer_heap_init(&h);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[i], whens[i]), 0);
    np_timer **v = h.v;
    uint32_t cap = h.cap;
    np__timer_heap_clear(&h);
    NP_ASSERT_EQ_INT(h.len, 0);
    CU_ASSERT_PTR_EQUAL(h.v, v);
    NP_ASSERT_EQ_INT(h.cap, cap);
    for (i = 0; i < N; i++)
        NP_ASSERT_EQ_INT(t[i].index, -1);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), NULL);
    NP_ASSERT_EQ_INT(np__timer_heap_add(&h, &t[3], 5), 0);
    CU_ASSERT_PTR_EQUAL(np__timer_heap_top(&h), &t[3]);
    NP_ASSERT_EQ_INT(np__timer_heap_check(&h), 0);
    np__timer_heap_free(&h);
    NP_ASSERT_EQ_INT(t[3].index, -1);
}

static void add_suites(void)
{
    static const np_test_case cases[] = {
        {"pop_returns_timers_in_deadline_order", pop_returns_timers_in_deadline_order},
        {"equal_deadlines_pop_in_fifo_order", equal_deadlines_pop_in_fifo_order},
        {"modify_moves_a_queued_timer_earlier_and_later",
         modify_moves_a_queued_timer_earlier_and_later},
        {"modify_of_an_unqueued_timer_queues_it", modify_of_an_unqueued_timer_queues_it},
        {"delete_returns_whether_the_timer_was_queued",
         delete_returns_whether_the_timer_was_queued},
        {"random_operations_match_a_reference_model", random_operations_match_a_reference_model},
        {"clear_unqueues_every_timer_and_keeps_the_storage",
         clear_unqueues_every_timer_and_keeps_the_storage},
        {NULL, NULL},
    };

    np_test_add_suite("timer_heap", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
