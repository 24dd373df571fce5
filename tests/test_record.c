/* tests/test_record.c - the recorder's storage (core/record.c), live on
 * epoll: records that cross chunk boundaries, the reserve and what is
 * allocated beyond it, a clock reading too far from the previous one for the
 * short form, and two threads' buffers merged in the global order. The
 * workload tests (tests/record_replay.sh) check the traces' meaning; these
 * check that what was recorded comes back whole, in order and on time. Run
 * twice by ctest: with the TSC as the clock where it is CLOCK_MONOTONIC's
 * source, and with NETPOLL_RECORD_TSC=0 (np_now() readings). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "netpoll/record.h"
#include "netpoll/trace.h"

#define MS ((int64_t)1000000)

/* Counts the events of one kind on slot pd (0: any). */
static size_t count(const np_trace *tr, np_tr_kind kind, int pd)
{
    size_t n = 0;
    for (size_t i = 0; i < tr->n; i++)
        n += tr->ev[i].kind == kind && (pd == 0 || tr->ev[i].pd == pd);
    return n;
}

static void times_are_ordered(const np_trace *tr)
{
    for (size_t i = 1; i < tr->n; i++)
        if (tr->ev[i].t < tr->ev[i - 1].t) {
            NP_ASSERT_EQ_INT(tr->ev[i].t, tr->ev[i - 1].t);
            return;
        }
}

/* ---- many records: chunks, the reserve, and beyond it ------------------------ */

enum { MANY = 300000 }; /* ~5 MB of records: three 2 MiB chunks */

static void many_body(void *arg)
{
    np_trace *tr = arg;
    fx f;
    NP_ASSERT_EQ_INT(np_record_start(), 0);
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    for (int i = 0; i < MANY; i++)
        if (np_poll_reset(f.pd, i & 1 ? NP_MODE_W : NP_MODE_R) != NP_POLL_OK)
            break;
    fx_close(&f);
    NP_ASSERT_EQ_INT(np_record_stop(tr), 0);
}

static void check_many(const np_trace *tr)
{
    NP_ASSERT_EQ_INT(count(tr, NP_TR_OPEN, 0), 1);
    NP_ASSERT_EQ_INT(count(tr, NP_TR_RESET, 1), MANY);
    NP_ASSERT_EQ_INT(count(tr, NP_TR_UNBLOCK, 1), 1);
    NP_ASSERT_EQ_INT(count(tr, NP_TR_CLOSE, 1), 1);
    /* In program order, each with its mode and result. */
    size_t k = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const np_tr_event *e = &tr->ev[i];
        if (e->kind != NP_TR_RESET)
            continue;
        if (e->mode != (k & 1 ? NP_MODE_W : NP_MODE_R) || e->res != NP_POLL_OK || e->g != 1) {
            NP_ASSERT_EQ_INT(e->mode, k & 1 ? NP_MODE_W : NP_MODE_R);
            NP_ASSERT_EQ_INT(e->res, NP_POLL_OK);
            NP_ASSERT_EQ_INT(e->g, 1);
            return;
        }
        k++;
    }
    times_are_ordered(tr);
}

static void records_cross_chunks_from_the_reserve_and_beyond(void)
{
    /* 2 MiB reserved: the first chunk comes from the reserve, the rest are
     * allocated during the run; all of them go back at the stop, and the
     * reserve keeps one for the next recording. */
    for (int round = 0; round < 2; round++) {
        NP_ASSERT_EQ_INT(np_record_reserve((size_t)2 << 20), 0);
        np_trace tr = {0};
        fx_run(many_body, &tr);
        check_many(&tr);
        np_trace_free(&tr);
    }
    NP_ASSERT_EQ_INT(np_record_reserve(0), 0);
    np_trace tr = {0};
    fx_run(many_body, &tr); /* no reserve at all */
    check_many(&tr);
    np_trace_free(&tr);
}

/* ---- a long gap between two sections ---------------------------------------- */

static void gap_body(void *arg)
{
    np_trace *tr = arg;
    fx f;
    NP_ASSERT_EQ_INT(np_record_start(), 0);
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    np_poll_reset(f.pd, NP_MODE_R);
    np_poll_reset(f.pd, NP_MODE_R);
    /* 60 ms: more than a section's clock distance can say in its short form
     * (2^24 TSC ticks or ns), and a new calibration pair. Spent here, not
     * parked: the next section must be on this same thread's buffer. */
    for (int64_t until = np_now() + 60 * MS; np_now() < until;)
        ;
    np_poll_reset(f.pd, NP_MODE_W);
    np_poll_reset(f.pd, NP_MODE_W);
    fx_close(&f);
    NP_ASSERT_EQ_INT(np_record_stop(tr), 0);
}

static void clock_gap_takes_the_long_form(void)
{
    np_trace tr = {0};
    fx_run(gap_body, &tr);
    const np_tr_event *r[4];
    size_t k = 0;
    for (size_t i = 0; i < tr.n && k < 4; i++)
        if (tr.ev[i].kind == NP_TR_RESET)
            r[k++] = &tr.ev[i];
    NP_ASSERT_EQ_INT(k, 4);
    if (k == 4) {
        int64_t gap = r[2]->t - r[1]->t;
        CU_ASSERT(gap >= 60 * MS);
        CU_ASSERT(gap < 5000 * MS);
        CU_ASSERT(r[1]->t - r[0]->t < 50 * MS);
        CU_ASSERT(r[3]->t - r[2]->t < 50 * MS);
        NP_ASSERT_EQ_INT(r[1]->mode, NP_MODE_R);
        NP_ASSERT_EQ_INT(r[2]->mode, NP_MODE_W);
    }
    times_are_ordered(&tr);
    np_trace_free(&tr);
}

/* ---- two threads, one order ------------------------------------------------ */

/* Two tasks hand a token back and forth through two socketpairs, each
 * resetting its own pollDesc before it passes the token on: the passes
 * order the resets (the kernel carries the causality), so the merged trace
 * must alternate them exactly, whichever worker ran which. */
enum { PASSES = 2000 };

typedef struct {
    fx *mine, *theirs;
    int first;
    _Atomic int *left;
    int bad;
} pp_arg;

static void pp_task(void *p)
{
    pp_arg *a = p;
    char c = 0;
    for (int i = 0; i < PASSES; i++) {
        if (i > 0 || !a->first) {
            /* wait for the token on my socket */
            for (;;) {
                if (np_poll_reset(a->mine->pd, NP_MODE_R) != NP_POLL_OK) {
                    a->bad = 1;
                    goto out;
                }
                if (read(a->mine->fd, &c, 1) == 1)
                    break;
                if (np_poll_wait(a->mine->pd, NP_MODE_R) != NP_POLL_OK) {
                    a->bad = 1;
                    goto out;
                }
            }
        }
        if (np_poll_reset(a->mine->pd, NP_MODE_W) != NP_POLL_OK ||
            write(a->theirs->peer, &c, 1) != 1) {
            a->bad = 1;
            break;
        }
    }
out:
    atomic_fetch_sub(a->left, 1);
}

static void pp_body(void *arg)
{
    np_trace *tr = arg;
    fx x, y;
    NP_ASSERT_EQ_INT(np_record_start(), 0);
    NP_ASSERT_EQ_INT(fx_open(&x), 0);
    NP_ASSERT_EQ_INT(fx_open(&y), 0);
    _Atomic int left = 2;
    pp_arg a = {&x, &y, 1, &left, 0}, b = {&y, &x, 0, &left, 0};
    NP_ASSERT_EQ_INT(np_go(pp_task, &a), 0);
    NP_ASSERT_EQ_INT(np_go(pp_task, &b), 0);
    for (int i = 0; i < 10000 && atomic_load(&left) > 0; i++)
        np_sleep(MS);
    NP_ASSERT_EQ_INT(np_record_stop(tr), 0);
    NP_ASSERT_EQ_INT(atomic_load(&left), 0);
    NP_ASSERT_EQ_INT(a.bad + b.bad, 0);
    fx_close(&x);
    fx_close(&y);
}

static void two_threads_merge_in_causal_order(void)
{
    np_trace tr = {0};
    fx_run(pp_body, &tr);
    /* The write resets, in trace order, must alternate between the two
     * tasks: a task's write reset comes after it received the token, which
     * the other task's write reset preceded. */
    int last = 0, n = 0, bad = 0;
    for (size_t i = 0; i < tr.n; i++) {
        const np_tr_event *e = &tr.ev[i];
        if (e->kind != NP_TR_RESET || e->mode != NP_MODE_W)
            continue;
        if (e->g == last)
            bad++;
        last = e->g;
        n++;
    }
    NP_ASSERT_EQ_INT(n, 2 * PASSES);
    NP_ASSERT_EQ_INT(bad, 0);
    times_are_ordered(&tr);
    np_trace_free(&tr);
}

static const np_test_case cases[] = {
    {"records_cross_chunks_from_the_reserve_and_beyond",
     records_cross_chunks_from_the_reserve_and_beyond},
    {"clock_gap_takes_the_long_form", clock_gap_takes_the_long_form},
    {"two_threads_merge_in_causal_order", two_threads_merge_in_causal_order},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("record", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
