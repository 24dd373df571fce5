/* tests/test_record_post.c - np_record_stop's post-processing (core/record.c:
 * the trace clock, holding) on records given directly, then the trace
 * replayed (backend_sim/replay): a trace the recorder writes of a live run
 * must replay without a divergence the live run did not have.
 *
 * Both cases are races seen live under load (record_replay_accept-churn):
 * two reads with deadlines time out together, and the first reader to run
 * moves the clock on (a new deadline on its own pollDesc; or another
 * deadline, due a little later, fires) before the second reader has run and
 * before the second reader's data arrives. The second reader finds that
 * readiness (Go's netpollblock returns what it swaps out) and returns ok;
 * the trace must keep the readiness in the step where the second reader
 * runs. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "netpoll/poll.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "record.h"

#define OPEN(s_, fd, t_)                                                                           \
    {                                                                                              \
        .kind = NP_TR_OPEN, .slot = (s_), .u = (int64_t)(fd) | (int64_t)1 << 32, .real = (t_)      \
    }
#define DEADLINE(s_, g_, at, t_)                                                                   \
    {                                                                                              \
        .kind = NP_TR_DEADLINE, .slot = (s_), .g = (g_), .mode = NP_MODE_R, .u = (at),             \
        .real = (t_)                                                                               \
    }
#define WAIT(s_, g_, t_)                                                                           \
    {                                                                                              \
        .kind = NP_TR_WAIT, .slot = (s_), .g = (g_), .mode = NP_MODE_R, .real = (t_)               \
    }
#define PARK(s_, g_, t_)                                                                           \
    {                                                                                              \
        .kind = NP_TR_PARK, .slot = (s_), .g = (g_), .mode = NP_MODE_R, .real = (t_)               \
    }
#define FIRE(s_, at, t_)                                                                           \
    {                                                                                              \
        .kind = NP_TR_FIRE, .slot = (s_), .mode = NP_MODE_R, .u = (at), .woke = 1, .real = (t_)    \
    }
#define READY(s_, t_)                                                                              \
    {                                                                                              \
        .kind = NP_TR_READY, .slot = (s_), .mode = NP_MODE_R, .u = 1 | (int64_t)1 << 32,           \
        .real = (t_)                                                                               \
    }
#define RAN(s_, g_, rdy, t_)                                                                       \
    {                                                                                              \
        .kind = NP__REC_TEST_RAN, .slot = (s_), .g = (g_), .ready = (rdy), .real = (t_)            \
    }
#define WAKE(s_, g_, r, t_)                                                                        \
    {                                                                                              \
        .kind = NP_TR_WAKE, .slot = (s_), .g = (g_), .mode = NP_MODE_R, .res = (r), .real = (t_)   \
    }

/* Readers A (task 1, slot 1) and B (task 2, slot 2) park with read
 * deadlines at 5000; both fire together; A runs first and times out. */
#define A_AND_B_TIME_OUT_A_RUNS                                                                    \
    OPEN(1, 10, 100), OPEN(2, 11, 100), DEADLINE(1, 1, 5000, 200), DEADLINE(2, 2, 5000, 200),      \
        WAIT(1, 1, 300), PARK(1, 1, 300), WAIT(2, 2, 310), PARK(2, 2, 310),                        \
        FIRE(1, 5000, 5100) /* wakes A */, FIRE(2, 5000, 5100) /* wakes B */,                      \
        RAN(1, 1, false, 5200), WAKE(1, 1, NP_POLL_TIMEOUT, 5200)

/* Posts v, prints the trace on failure, replays it: the replay's status. */
static int post_and_replay(const np__rec_test_ev *v, size_t n, np_trace *tr)
{
    NP_ASSERT_EQ_INT(np__rec_post_test(v, n, 0, tr), 0);
    np_replay_opts o = {.out = stderr};
    np_replay_result r;
    int st = np_replay(tr, &o, &r);
    if (st != 0) {
        fprintf(stderr, "the posted trace:\n");
        np_trace_emit(tr, stderr);
    }
    np_replay_result_free(&r);
    return st;
}

/* Index of the first event of kind on slot pd, or -1. */
static int find(const np_trace *tr, np_tr_kind kind, int pd)
{
    for (size_t i = 0; i < tr->n; i++)
        if (tr->ev[i].kind == kind && tr->ev[i].pd == pd)
            return (int)i;
    return -1;
}

/* Reader A (slot 1) and reader B (slot 2) time out together; A runs first
 * and sets a new read deadline on its pollDesc, a line that must open a new
 * step (A's wake-up before it); then B's data arrives, then B runs. */
static void a_deadline_after_a_wakeup_does_not_end_the_step_of_a_pending_reader(void)
{
    static const np__rec_test_ev v[] = {
        A_AND_B_TIME_OUT_A_RUNS,
        DEADLINE(1, 1, 900000, 5300), /* A: a new deadline on its own pollDesc */
        READY(2, 5400),               /* B's data, before B runs */
        RAN(2, 2, true, 5500),
        WAKE(2, 2, NP_POLL_OK, 5500),
    };
    np_trace tr = {0};
    NP_ASSERT_EQ_INT(post_and_replay(v, sizeof v / sizeof v[0], &tr), 0);
    int fire2 = find(&tr, NP_TR_FIRE, 2), ready2 = find(&tr, NP_TR_READY, 2);
    int wake1 = find(&tr, NP_TR_WAKE, 1);
    int dl = -1;
    for (size_t i = 0; i < tr.n; i++)
        if (tr.ev[i].kind == NP_TR_DEADLINE && tr.ev[i].pd == 1)
            dl = (int)i; /* the last: A's new one */
    CU_ASSERT_FATAL(fire2 >= 0 && ready2 >= 0 && wake1 >= 0 && dl >= 0);
    NP_ASSERT_EQ_INT(tr.ev[ready2].t, tr.ev[fire2].t); /* B's readiness in B's step */
    CU_ASSERT_TRUE(tr.ev[dl].t > tr.ev[wake1].t);      /* A's deadline after A's step */
    np_trace_free(&tr);
}

/* Readers B (slot 2) and C (slot 3) park with deadlines 50 ns apart; B's
 * fires, then C's is taken from the heap by the same timer run, its clock
 * reading (a TSC one, mapped) a little before C's deadline as written -
 * the fire line must not be earlier than the deadline - and then B's data
 * arrives before B runs. */
static void a_fire_due_later_does_not_end_the_step_of_a_pending_reader(void)
{
    static const np__rec_test_ev v[] = {
        OPEN(2, 11, 100),
        OPEN(3, 12, 100),
        DEADLINE(2, 2, 5000, 200),
        DEADLINE(3, 3, 5150, 200),
        WAIT(2, 2, 300),
        PARK(2, 2, 300),
        WAIT(3, 3, 310),
        PARK(3, 3, 310),
        FIRE(2, 5000, 5100), /* wakes B */
        FIRE(3, 5150, 5120), /* wakes C; due at 5150 */
        READY(2, 5130),      /* B's data, before B runs */
        RAN(2, 2, true, 5200),
        WAKE(2, 2, NP_POLL_OK, 5200),
        RAN(3, 3, false, 5210),
        WAKE(3, 3, NP_POLL_TIMEOUT, 5210),
    };
    np_trace tr = {0};
    NP_ASSERT_EQ_INT(post_and_replay(v, sizeof v / sizeof v[0], &tr), 0);
    int fire2 = find(&tr, NP_TR_FIRE, 1), ready2 = find(&tr, NP_TR_READY, 1);
    int fire3 = find(&tr, NP_TR_FIRE, 2);
    CU_ASSERT_FATAL(fire2 >= 0 && ready2 >= 0 && fire3 >= 0);
    NP_ASSERT_EQ_INT(tr.ev[ready2].t, tr.ev[fire2].t);
    CU_ASSERT_TRUE(tr.ev[fire3].t >= 5150); /* due when replayed (rule 5) */
    np_trace_free(&tr);
}

/* A and B time out together; A runs first, then A's pollDesc becomes
 * readable (A has not issued anything since), then B's, then B runs. A's
 * readiness came after A's wake-up: in A's step the replay would hand it to
 * A (rule 1c runs A after the step's stimuli), so it must open the next
 * step - held back while B is pending, so that B's readiness stays in B's
 * step. */
static void readiness_after_a_timed_out_wakeup_goes_to_the_next_step(void)
{
    static const np__rec_test_ev v[] = {
        A_AND_B_TIME_OUT_A_RUNS, READY(1, 5300), /* after A's wake-up */
        READY(2, 5400),                          /* before B's */
        RAN(2, 2, true, 5500),   WAKE(2, 2, NP_POLL_OK, 5500),
    };
    np_trace tr = {0};
    NP_ASSERT_EQ_INT(post_and_replay(v, sizeof v / sizeof v[0], &tr), 0);
    int fire1 = find(&tr, NP_TR_FIRE, 1), ready1 = find(&tr, NP_TR_READY, 1);
    int ready2 = find(&tr, NP_TR_READY, 2);
    CU_ASSERT_FATAL(fire1 >= 0 && ready1 >= 0 && ready2 >= 0);
    NP_ASSERT_EQ_INT(tr.ev[ready2].t, tr.ev[fire1].t);
    CU_ASSERT_TRUE(tr.ev[ready1].t > tr.ev[fire1].t);
    np_trace_free(&tr);
}

/* As the first case, and then A closes its descriptor and the kernel gives
 * the number to a new connection (slot 3) before B has run: the new open
 * must wait for the held close, or the trace would open one descriptor in
 * two slots (invalid). */
static void a_reused_descriptor_waits_for_the_held_close(void)
{
    static const np__rec_test_ev v[] = {
        A_AND_B_TIME_OUT_A_RUNS,
        DEADLINE(1, 1, 900000, 5300), /* held */
        {.kind = NP_TR_UNBLOCK, .slot = 1, .g = 1, .real = 5310},
        {.kind = NP_TR_CLOSE, .slot = 1, .g = 1, .real = 5320},
        OPEN(3, 10, 5330), /* descriptor 10 again */
        READY(2, 5400),
        RAN(2, 2, true, 5500),
        WAKE(2, 2, NP_POLL_OK, 5500),
    };
    np_trace tr = {0};
    NP_ASSERT_EQ_INT(post_and_replay(v, sizeof v / sizeof v[0], &tr), 0);
    int close1 = find(&tr, NP_TR_CLOSE, 1), open3 = find(&tr, NP_TR_OPEN, 3);
    CU_ASSERT_FATAL(close1 >= 0 && open3 >= 0);
    CU_ASSERT_TRUE(open3 > close1);
    np_trace_free(&tr);
}

/* Without a pending task nothing is held: the lines keep their order. */
static void without_a_pending_task_lines_keep_their_order(void)
{
    static const np__rec_test_ev v[] = {
        OPEN(1, 10, 100),
        DEADLINE(1, 1, 5000, 200),
        WAIT(1, 1, 300),
        PARK(1, 1, 300),
        FIRE(1, 5000, 5100),
        RAN(1, 1, false, 5200),
        WAKE(1, 1, NP_POLL_TIMEOUT, 5200),
        DEADLINE(1, 1, 900000, 5300),
        READY(1, 5400),
    };
    np_trace tr = {0};
    NP_ASSERT_EQ_INT(post_and_replay(v, sizeof v / sizeof v[0], &tr), 0);
    static const np_tr_kind want[] = {NP_TR_OPEN, NP_TR_DEADLINE, NP_TR_WAIT,     NP_TR_PARK,
                                      NP_TR_FIRE, NP_TR_WAKE,     NP_TR_DEADLINE, NP_TR_READY};
    NP_ASSERT_EQ_INT(tr.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < tr.n && i < sizeof want / sizeof want[0]; i++)
        NP_ASSERT_EQ_INT(tr.ev[i].kind, want[i]);
    for (size_t i = 1; i < tr.n; i++)
        CU_ASSERT_TRUE(tr.ev[i].t >= tr.ev[i - 1].t);
    np_trace_free(&tr);
}

static const np_test_case cases[] = {
    {"a_deadline_after_a_wakeup_does_not_end_the_step_of_a_pending_reader",
     a_deadline_after_a_wakeup_does_not_end_the_step_of_a_pending_reader},
    {"a_fire_due_later_does_not_end_the_step_of_a_pending_reader",
     a_fire_due_later_does_not_end_the_step_of_a_pending_reader},
    {"readiness_after_a_timed_out_wakeup_goes_to_the_next_step",
     readiness_after_a_timed_out_wakeup_goes_to_the_next_step},
    {"a_reused_descriptor_waits_for_the_held_close", a_reused_descriptor_waits_for_the_held_close},
    {"without_a_pending_task_lines_keep_their_order",
     without_a_pending_task_lines_keep_their_order},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("record_post", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
