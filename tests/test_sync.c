/* tests/test_sync.c - mutex, wait group, channels, select and joinable tasks
 * (netpoll/sync.h, np_spawn/np_join). Registered with 2 workers on epoll, 1
 * on the simulator backend (virtual time) and on the sim build's world.
 *
 * CUnit is not thread-safe: tasks record what they saw, and the asserts run
 * in the main task (one at a time) or after np_main. Every wait for another
 * task is bounded (wait_for), so a broken primitive fails the test instead
 * of hanging it. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "netpoll/sync.h"

#define MS INT64_C(1000000)
#define US INT64_C(1000)

/* Sleeps 1 ms at a time until *v >= want, at most max_ms times. */
static int wait_for(_Atomic int *v, int want, int max_ms)
{
    for (int i = 0; i < max_ms && atomic_load(v) < want; i++)
        np_sleep(MS);
    return atomic_load(v);
}

static np_chan *chan_int(size_t cap)
{
    np_chan *c = np_chan_new(sizeof(int), cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

/* Whether a non-blocking send / receive of one int goes through now. */
static int try_send_int(np_chan *c, int v)
{
    np_select_case k = {.chan = c, .op = NP_SELECT_SEND, .elem = &v};
    return np_select_try(&k, 1);
}

/* Runs body in a child process that must die of a fatal error whose
 * message contains `want`. */
typedef struct {
    void (*body)(void *);
} body_arg;

static void run_body(void *arg)
{
    fx_run(((body_arg *)arg)->body, NULL);
}

static void expect_fatal(void (*body)(void *), const char *want)
{
    char buf[1024];
    body_arg a = {body};
    int st = fx_child_stderr(run_body, &a, buf, sizeof buf);
    CU_ASSERT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    if (!strstr(buf, want))
        fprintf(stderr, "expected a fatal error with '%s', got: %s\n", want, buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
}

/* ---- mutex ------------------------------------------------------------------- */

#define MX_TASKS 100
#define MX_ITERS 200

typedef struct {
    np_mutex m;
    long counter;       /* guarded by m, updated read-yield-write */
    _Atomic int inside; /* tasks inside the critical section */
    _Atomic int overlaps;
    np_waitgroup wg;
} mx_arg;

static void mx_task(void *p)
{
    mx_arg *a = p;
    for (int i = 0; i < MX_ITERS; i++) {
        np_mutex_lock(&a->m);
        if (atomic_fetch_add(&a->inside, 1) != 0)
            atomic_fetch_add(&a->overlaps, 1);
        long c = a->counter;
        if (i % 8 == 0)
            np_yield(); /* others run and queue up on the mutex meanwhile */
        a->counter = c + 1;
        atomic_fetch_sub(&a->inside, 1);
        np_mutex_unlock(&a->m);
    }
    np_waitgroup_done(&a->wg);
}

static void body_mx(void *p)
{
    mx_arg *a = p;
    np_waitgroup_add(&a->wg, MX_TASKS);
    for (int i = 0; i < MX_TASKS; i++)
        NP_ASSERT_EQ_INT(np_go(mx_task, a), 0);
    np_waitgroup_wait(&a->wg);
}

static void mutex_excludes_many_tasks_on_all_workers(void)
{
    mx_arg a = {.m = NP_MUTEX_INITIALIZER, .wg = NP_WAITGROUP_INITIALIZER};
    fx_run(body_mx, &a);
    NP_ASSERT_EQ_INT(atomic_load(&a.overlaps), 0);
    NP_ASSERT_EQ_INT(a.counter, MX_TASKS * MX_ITERS);
}

typedef struct {
    np_mutex m;
    int order[5];
    _Atomic int n, arrived;
} fifo_arg;
typedef struct {
    fifo_arg *a;
    int me;
} fifo_task_arg;

static void fifo_task(void *p)
{
    fifo_task_arg *t = p;
    atomic_fetch_add(&t->a->arrived, 1);
    np_mutex_lock(&t->a->m);
    t->a->order[atomic_fetch_add(&t->a->n, 1)] = t->me;
    np_mutex_unlock(&t->a->m);
}

static void body_fifo(void *p)
{
    fifo_arg *a = p;
    fifo_task_arg ta[5];
    np_mutex_init(&a->m);
    np_mutex_lock(&a->m);
    for (int i = 0; i < 5; i++) {
        ta[i] = (fifo_task_arg){a, i};
        NP_ASSERT_EQ_INT(np_go(fifo_task, &ta[i]), 0);
        wait_for(&a->arrived, i + 1, 2000);
        np_sleep(5 * MS); /* it parks on the mutex meanwhile */
    }
    CU_ASSERT_FALSE(np_mutex_trylock(&a->m));
    np_mutex_unlock(&a->m);
    NP_ASSERT_EQ_INT(wait_for(&a->n, 5, 2000), 5);
    CU_ASSERT_TRUE(np_mutex_trylock(&a->m)); /* the last owner unlocked it */
    np_mutex_unlock(&a->m);
}

static void mutex_hands_off_to_waiters_in_arrival_order(void)
{
    fifo_arg a = {.n = 0};
    fx_run(body_fifo, &a);
    for (int i = 0; i < 5; i++)
        NP_ASSERT_EQ_INT(a.order[i], i);
}

static void body_unlock_unlocked(void *p)
{
    (void)p;
    np_mutex m = NP_MUTEX_INITIALIZER;
    np_mutex_unlock(&m);
}

static void unlock_of_an_unlocked_mutex_is_fatal(void)
{
    expect_fatal(body_unlock_unlocked, "unlock of unlocked mutex");
}

/* ---- wait group -------------------------------------------------------------- */

#define WG_TASKS 50

typedef struct {
    np_waitgroup wg;
    _Atomic int finished; /* workers that did their part */
    _Atomic int waiters_done, waiters_early;
} wg_arg;
typedef struct {
    wg_arg *a;
    int i;
} wg_task_arg;

static void wg_worker(void *p)
{
    wg_task_arg *t = p;
    np_sleep((t->i % 5) * MS);
    atomic_fetch_add(&t->a->finished, 1);
    np_waitgroup_done(&t->a->wg);
}

static void wg_waiter(void *p)
{
    wg_arg *a = p;
    np_waitgroup_wait(&a->wg);
    if (atomic_load(&a->finished) != WG_TASKS)
        atomic_fetch_add(&a->waiters_early, 1);
    atomic_fetch_add(&a->waiters_done, 1);
}

static void body_wg(void *p)
{
    wg_arg *a = p;
    wg_task_arg ta[WG_TASKS];
    np_waitgroup_init(&a->wg);
    np_waitgroup_wait(&a->wg);                /* counter zero: returns at once */
    for (int round = 0; round < 2; round++) { /* the group is reusable */
        atomic_store(&a->finished, 0);
        atomic_store(&a->waiters_done, 0);
        np_waitgroup_add(&a->wg, WG_TASKS);
        for (int i = 0; i < 3; i++)
            NP_ASSERT_EQ_INT(np_go(wg_waiter, a), 0);
        for (int i = 0; i < WG_TASKS; i++) {
            ta[i] = (wg_task_arg){a, i};
            NP_ASSERT_EQ_INT(np_go(wg_worker, &ta[i]), 0);
        }
        np_waitgroup_wait(&a->wg);
        NP_ASSERT_EQ_INT(atomic_load(&a->finished), WG_TASKS);
        NP_ASSERT_EQ_INT(wait_for(&a->waiters_done, 3, 2000), 3);
    }
    NP_ASSERT_EQ_INT(atomic_load(&a->waiters_early), 0);
}

static void waitgroup_releases_every_waiter_when_the_counter_reaches_zero(void)
{
    wg_arg a = {.finished = 0};
    fx_run(body_wg, &a);
}

static void body_wg_negative(void *p)
{
    (void)p;
    np_waitgroup wg = NP_WAITGROUP_INITIALIZER;
    np_waitgroup_add(&wg, 1);
    np_waitgroup_done(&wg);
    np_waitgroup_done(&wg); /* below zero */
}

static void waitgroup_counter_below_zero_is_fatal(void)
{
    expect_fatal(body_wg_negative, "negative wait group counter");
}

/* ---- unbuffered channels ---------------------------------------------------------- */

typedef struct {
    np_chan *c;
    int value;
    _Atomic int done; /* the call returned */
    int result;       /* what it returned */
} op_arg;

static void sender(void *p)
{
    op_arg *o = p;
    o->result = np_chan_send(o->c, &o->value);
    atomic_store(&o->done, 1);
}

static void receiver(void *p)
{
    op_arg *o = p;
    o->value = -1;
    o->result = np_chan_recv(o->c, &o->value);
    atomic_store(&o->done, 1);
}

static void body_rendezvous(void *p)
{
    (void)p;
    np_chan *c = chan_int(0);
    NP_ASSERT_EQ_INT(np_chan_cap(c), 0);
    /* The sender comes first: it waits until a receiver takes the value. */
    op_arg s = {.c = c, .value = 42};
    NP_ASSERT_EQ_INT(np_go(sender, &s), 0);
    np_sleep(10 * MS);
    NP_ASSERT_EQ_INT(atomic_load(&s.done), 0);
    NP_ASSERT_EQ_INT(np_chan_len(c), 0);
    int v = 0;
    CU_ASSERT_TRUE(np_chan_recv(c, &v));
    NP_ASSERT_EQ_INT(v, 42);
    NP_ASSERT_EQ_INT(wait_for(&s.done, 1, 2000), 1);
    NP_ASSERT_EQ_INT(s.result, 0);
    /* The receiver comes first: a send hands the value straight over. */
    op_arg r = {.c = c};
    NP_ASSERT_EQ_INT(np_go(receiver, &r), 0);
    np_sleep(10 * MS);
    NP_ASSERT_EQ_INT(atomic_load(&r.done), 0);
    NP_ASSERT_EQ_INT(np_chan_send(c, &(int){7}), 0);
    NP_ASSERT_EQ_INT(wait_for(&r.done, 1, 2000), 1);
    NP_ASSERT_EQ_INT(r.result, 1);
    NP_ASSERT_EQ_INT(r.value, 7);
    /* Nobody waits: a non-blocking send does not go through. */
    NP_ASSERT_EQ_INT(try_send_int(c, 1), -EAGAIN);
    np_chan_free(c);
}

static void unbuffered_send_completes_only_when_a_receiver_takes_it(void)
{
    fx_run(body_rendezvous, NULL);
}

/* ---- buffered channels ----------------------------------------------------------- */

static void body_buffered(void *p)
{
    (void)p;
    np_chan *c = chan_int(3);
    NP_ASSERT_EQ_INT(np_chan_cap(c), 3);
    for (int i = 1; i <= 3; i++) /* room for three: none waits */
        NP_ASSERT_EQ_INT(try_send_int(c, i), 0);
    NP_ASSERT_EQ_INT(np_chan_len(c), 3);
    NP_ASSERT_EQ_INT(try_send_int(c, 99), -EAGAIN); /* full */
    op_arg s = {.c = c, .value = 4};
    NP_ASSERT_EQ_INT(np_go(sender, &s), 0);
    np_sleep(10 * MS);
    NP_ASSERT_EQ_INT(atomic_load(&s.done), 0); /* waits for room */
    int v = 0;
    CU_ASSERT_TRUE(np_chan_recv(c, &v));
    NP_ASSERT_EQ_INT(v, 1);
    NP_ASSERT_EQ_INT(wait_for(&s.done, 1, 2000), 1);
    NP_ASSERT_EQ_INT(s.result, 0);
    NP_ASSERT_EQ_INT(np_chan_len(c), 3);
    for (int i = 2; i <= 4; i++) {
        CU_ASSERT_TRUE(np_chan_recv(c, &v));
        NP_ASSERT_EQ_INT(v, i); /* FIFO, the waiting sender's value last */
    }
    NP_ASSERT_EQ_INT(np_chan_len(c), 0);
    /* Wrap around the ring a few times. */
    for (int i = 0; i < 20; i++) {
        NP_ASSERT_EQ_INT(np_chan_send(c, &i), 0);
        if (i >= 2) {
            CU_ASSERT_TRUE(np_chan_recv(c, &v));
            NP_ASSERT_EQ_INT(v, i - 2);
        }
    }
    NP_ASSERT_EQ_INT(np_chan_len(c), 2);
    np_chan_free(c); /* two values still buffered: freed with it */
}

static void buffered_channel_is_fifo_and_a_send_waits_while_it_is_full(void)
{
    fx_run(body_buffered, NULL);
}

/* ---- close ------------------------------------------------------------------------ */

#define NRECV 4

typedef struct {
    np_chan *c;
    _Atomic int finished;
    _Atomic int got_sum, got_n;
    _Atomic int bad_zero; /* a receiver that saw ok=false with a value left */
} close_arg;

static void drain_task(void *p)
{
    close_arg *a = p;
    int v;
    for (int i = 0; i < 100; i++) {
        v = -1;
        if (!np_chan_recv(a->c, &v)) {
            if (v != 0)
                atomic_fetch_add(&a->bad_zero, 1);
            break;
        }
        atomic_fetch_add(&a->got_sum, v);
        atomic_fetch_add(&a->got_n, 1);
    }
    atomic_fetch_add(&a->finished, 1);
}

static void body_close(void *p)
{
    (void)p;
    /* Receivers parked on an empty channel: the values go to them, then
     * the close wakes every one of them. */
    close_arg a = {.c = chan_int(2)};
    for (int i = 0; i < NRECV; i++)
        NP_ASSERT_EQ_INT(np_go(drain_task, &a), 0);
    np_sleep(10 * MS);
    NP_ASSERT_EQ_INT(np_chan_send(a.c, &(int){10}), 0);
    NP_ASSERT_EQ_INT(np_chan_send(a.c, &(int){20}), 0);
    NP_ASSERT_EQ_INT(np_chan_close(a.c), 0);
    NP_ASSERT_EQ_INT(wait_for(&a.finished, NRECV, 2000), NRECV);
    NP_ASSERT_EQ_INT(atomic_load(&a.got_n), 2);
    NP_ASSERT_EQ_INT(atomic_load(&a.got_sum), 30);
    NP_ASSERT_EQ_INT(atomic_load(&a.bad_zero), 0);
    np_chan_free(a.c);

    /* Values buffered before the close are received first, in order. */
    np_chan *c = chan_int(3);
    for (int i = 1; i <= 3; i++)
        NP_ASSERT_EQ_INT(np_chan_send(c, &i), 0);
    NP_ASSERT_EQ_INT(np_chan_close(c), 0);
    NP_ASSERT_EQ_INT(np_chan_len(c), 3);
    int v;
    for (int i = 1; i <= 3; i++) {
        CU_ASSERT_TRUE(np_chan_recv(c, &v));
        NP_ASSERT_EQ_INT(v, i);
    }
    for (int i = 0; i < 2; i++) { /* and then ok = false, value zeroed, every time */
        v = 5;
        CU_ASSERT_FALSE(np_chan_recv(c, &v));
        NP_ASSERT_EQ_INT(v, 0);
    }
    np_select_case k = {.chan = c, .op = NP_SELECT_RECV, .elem = &v, .ok = true};
    NP_ASSERT_EQ_INT(np_select_try(&k, 1), 0); /* a closed channel is ready */
    CU_ASSERT_FALSE(k.ok);
    np_chan_free(c);
}

static void close_wakes_every_receiver_with_ok_false_after_the_buffer_drains(void)
{
    fx_run(body_close, NULL);
}

static void body_closed_errors(void *p)
{
    (void)p;
    np_chan *c = chan_int(0);
    op_arg s = {.c = c, .value = 1};
    NP_ASSERT_EQ_INT(np_go(sender, &s), 0);
    np_sleep(10 * MS);
    NP_ASSERT_EQ_INT(atomic_load(&s.done), 0);
    NP_ASSERT_EQ_INT(np_chan_close(c), 0); /* wakes the waiting sender */
    NP_ASSERT_EQ_INT(wait_for(&s.done, 1, 2000), 1);
    NP_ASSERT_EQ_INT(s.result, NP_ECHANCLOSED);
    int v = 3;
    np_select_case k = {.chan = c, .op = NP_SELECT_SEND, .elem = &v, .ok = true};
    NP_ASSERT_EQ_INT(np_select_try(&k, 1), 0); /* the send case fires, failed */
    CU_ASSERT_FALSE(k.ok);
    /* A later send fails at once (in a task of its own: were it to wait,
     * the test fails instead of hanging). */
    op_arg s2 = {.c = c, .value = 2};
    NP_ASSERT_EQ_INT(np_go(sender, &s2), 0);
    NP_ASSERT_EQ_INT(wait_for(&s2.done, 1, 1000), 1);
    NP_ASSERT_EQ_INT(s2.result, NP_ECHANCLOSED);
    NP_ASSERT_EQ_INT(np_chan_close(c), NP_ECHANCLOSED);
    CU_ASSERT_FALSE(np_chan_recv(c, &v));
    if (atomic_load(&s2.done))
        np_chan_free(c); /* (a sender still waiting would make it fatal) */
}

static void send_on_and_close_of_a_closed_channel_return_NP_ECHANCLOSED(void)
{
    fx_run(body_closed_errors, NULL);
    /* a code of its own, named as such (not another netpoll code's) */
    int others[] = {NP_EOF,         NP_ECLOSED,    NP_EDEADLINE, NP_ENOTPOLLABLE,
                    NP_ENODEADLINE, NP_ENORESOLVE, NP_ELONGLINE};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CU_ASSERT_NOT_EQUAL(NP_ECHANCLOSED, others[i]);
    CU_ASSERT_STRING_EQUAL(np_strerror(NP_ECHANCLOSED), "channel closed");
}

/* Close racing a sender and a receiver, many rounds: every send that
 * returned 0 is received exactly once and in order; every other returned
 * NP_ECHANCLOSED. */
typedef struct {
    np_chan *c;
    int sent;       /* sends that returned 0 */
    int bad_send;   /* a result that is neither 0 nor NP_ECHANCLOSED */
    int received;   /* values received */
    int out_of_seq; /* a value that was not the next one */
    int yields;     /* how long the closer waits */
    int close_rc;
    _Atomic int finished; /* tasks done (not a wait group: a wait bounded in time) */
} race_arg;

static void race_sender(void *p)
{
    race_arg *a = p;
    for (int i = 0; i < 200; i++) {
        int r = np_chan_send(a->c, &i);
        if (r != 0) {
            a->bad_send += r != NP_ECHANCLOSED;
            break;
        }
        a->sent++;
    }
    atomic_fetch_add(&a->finished, 1);
}

static void race_receiver(void *p)
{
    race_arg *a = p;
    int v;
    for (int i = 0; i < 1000 && np_chan_recv(a->c, &v); i++) {
        a->out_of_seq += v != a->received;
        a->received++;
    }
    atomic_fetch_add(&a->finished, 1);
}

static void race_closer(void *p)
{
    race_arg *a = p;
    for (int i = 0; i < a->yields; i++)
        np_yield();
    a->close_rc = np_chan_close(a->c);
    atomic_fetch_add(&a->finished, 1);
}

typedef struct {
    int rounds, failures;
} rounds_arg;

static void body_close_race(void *p)
{
    rounds_arg *ra = p;
    int64_t t0 = np_now();
    for (int round = 0; round < 600 && np_now() - t0 < 3000 * MS; round++) {
        race_arg *a = calloc(1, sizeof *a);
        a->c = chan_int((size_t)(round % 3));
        a->yields = round % 11;
        NP_ASSERT_EQ_INT(np_go(race_receiver, a), 0);
        NP_ASSERT_EQ_INT(np_go(race_sender, a), 0);
        NP_ASSERT_EQ_INT(np_go(race_closer, a), 0);
        if (wait_for(&a->finished, 3, 2000) != 3) {
            fprintf(stderr, "round %d: a task is stuck (sent %d received %d)\n", round, a->sent,
                    a->received);
            ra->failures++;
            return; /* a and its channel stay: the stuck task holds them */
        }
        bool bad = a->sent != a->received || a->out_of_seq || a->bad_send || a->close_rc;
        if (bad && ra->failures++ < 5)
            fprintf(stderr, "round %d: sent %d received %d out of sequence %d bad %d close %d\n",
                    round, a->sent, a->received, a->out_of_seq, a->bad_send, a->close_rc);
        np_chan_free(a->c);
        free(a);
        ra->rounds++;
    }
}

static void close_racing_send_loses_and_duplicates_no_value(void)
{
    rounds_arg ra = {0};
    fx_run(body_close_race, &ra);
    NP_ASSERT_EQ_INT(ra.failures, 0);
    CU_ASSERT(ra.rounds >= 50);
}

/* ---- select ----------------------------------------------------------------------- */

static void body_select_ready(void *p)
{
    (void)p;
    np_chan *a = chan_int(1), *b = chan_int(1);
    int va = -1, vb = -1;
    NP_ASSERT_EQ_INT(np_chan_send(b, &(int){7}), 0);
    np_select_case k[3] = {
        {.chan = a, .op = NP_SELECT_RECV, .elem = &va},
        {.chan = NULL, .op = NP_SELECT_RECV}, /* never fires */
        {.chan = b, .op = NP_SELECT_RECV, .elem = &vb},
    };
    NP_ASSERT_EQ_INT(np_select(k, 3, 0), 2);
    CU_ASSERT_TRUE(k[2].ok);
    NP_ASSERT_EQ_INT(vb, 7);
    NP_ASSERT_EQ_INT(va, -1);
    /* A send case with room fires; the empty receive does not. */
    int out = 9;
    np_select_case s[2] = {
        {.chan = a, .op = NP_SELECT_RECV, .elem = &va},
        {.chan = b, .op = NP_SELECT_SEND, .elem = &out},
    };
    NP_ASSERT_EQ_INT(np_select(s, 2, 0), 1);
    CU_ASSERT_TRUE(s[1].ok);
    NP_ASSERT_EQ_INT(np_chan_len(b), 1);
    CU_ASSERT_TRUE(np_chan_recv(b, &vb));
    /* Blocking: a value sent later wakes the select on the right case, and
     * the waiter of the other case is gone with it (freeing its channel
     * with a waiter left would be fatal). */
    np_chan *a2 = chan_int(0), *b2 = chan_int(0);
    op_arg snd = {.c = b2, .value = 5};
    NP_ASSERT_EQ_INT(np_go(sender, &snd), 0);
    np_select_case w2[2] = {
        {.chan = a2, .op = NP_SELECT_RECV, .elem = &va},
        {.chan = b2, .op = NP_SELECT_RECV, .elem = &vb},
    };
    NP_ASSERT_EQ_INT(np_select(w2, 2, np_deadline_after(2000 * MS)), 1);
    NP_ASSERT_EQ_INT(vb, 5);
    np_chan_free(a2);
    NP_ASSERT_EQ_INT(wait_for(&snd.done, 1, 2000), 1);
    np_chan_free(b2);
    np_select_case w[2] = {
        {.chan = a, .op = NP_SELECT_RECV, .elem = &va},
        {.chan = b, .op = NP_SELECT_RECV, .elem = &vb},
    };
    /* Both ready: the live build picks at random, the sim builds the first. */
    int picks[2] = {0, 0};
    for (int i = 0; i < 200; i++) {
        np_chan_send(a, &i);
        np_chan_send(b, &i);
        int r = np_select(w, 2, 0);
        CU_ASSERT(r == 0 || r == 1);
        if (r == 0 || r == 1)
            picks[r]++;
        np_select_try(w, 2); /* drain the other */
    }
#if NP_SIM
    NP_ASSERT_EQ_INT(picks[0], 200);
#else
    CU_ASSERT(picks[0] >= 40 && picks[1] >= 40);
#endif
    np_chan_free(a);
    np_chan_free(b);
}

static void select_takes_a_ready_case(void)
{
    fx_run(body_select_ready, NULL);
}

static void body_select_timeout(void *p)
{
    (void)p;
    np_chan *c = chan_int(0);
    int v;
    np_select_case k[2] = {
        {.chan = c, .op = NP_SELECT_RECV, .elem = &v},
        {.chan = c, .op = NP_SELECT_SEND, .elem = &v},
    };
    int64_t t0 = np_now();
    NP_ASSERT_EQ_INT(np_select(k, 2, t0 + 5 * MS), NP_EDEADLINE);
    CU_ASSERT(np_now() - t0 >= 5 * MS);
    /* Its waiters are gone: freeing the channel with one left is fatal. */
    np_chan_free(c);
    c = chan_int(0);
    k[0].chan = k[1].chan = c;
    /* Expired deadlines do not wait; neither does the default form. */
    NP_ASSERT_EQ_INT(np_select(k, 2, np_deadline_after(0)), NP_EDEADLINE);
    NP_ASSERT_EQ_INT(np_select(k, 2, np_now()), NP_EDEADLINE);
    NP_ASSERT_EQ_INT(np_select_try(k, 2), -EAGAIN);
    /* No channel: a deadline alone is a sleep; nothing at all is an error. */
    t0 = np_now();
    NP_ASSERT_EQ_INT(np_select(NULL, 0, t0 + 2 * MS), NP_EDEADLINE);
    CU_ASSERT(np_now() - t0 >= 2 * MS);
    NP_ASSERT_EQ_INT(np_select(NULL, 0, 0), -EINVAL);
    k[0].op = 7;
    NP_ASSERT_EQ_INT(np_select(k, 2, 0), -EINVAL);
    np_chan_free(c);
}

static void select_with_a_deadline_times_out_and_leaves_no_waiter(void)
{
    fx_run(body_select_timeout, NULL);
}

/* A select's deadline racing a send, many rounds, the send landing just
 * before, at or after the deadline:
 *  (a) unbuffered, the sender a select with the same deadline: the value
 *      moved exactly when both sides say so;
 *  (b) buffered, a plain send: the value is received once, by the select
 *      or by the drain after it. */
typedef struct {
    np_chan *c;
    int64_t deadline, send_at;
    bool timed; /* the sender uses a select with `deadline` */
    int result; /* its select's result */
    _Atomic int done;
} tsend_arg;

static void timed_sender(void *p)
{
    tsend_arg *a = p;
    int64_t d = a->send_at - np_now();
    if (d > 0)
        np_sleep(d);
    int v = 1234;
    if (a->timed) {
        np_select_case k = {.chan = a->c, .op = NP_SELECT_SEND, .elem = &v};
        a->result = np_select(&k, 1, a->deadline);
    } else {
        a->result = np_chan_send(a->c, &v);
    }
    atomic_store(&a->done, 1);
}

typedef struct {
    int rounds, lost, duplicated, got, timeouts, bad;
} trace_arg;

static void body_timeout_race(void *p)
{
    trace_arg *t = p;
    int64_t t0 = np_now();
    for (int round = 0; round < 400 && np_now() - t0 < 3000 * MS; round++) {
        bool timed = round % 2 == 0;
        tsend_arg a = {.c = chan_int(timed ? 0 : 1), .timed = timed};
        int64_t now = np_now();
        a.deadline = now + 300 * US;
        a.send_at = a.deadline + ((round / 2) % 9 - 4) * 25 * US; /* -100 .. +100 us */
        NP_ASSERT_EQ_INT(np_go(timed_sender, &a), 0);
        np_yield(); /* the sender's timer goes first among equal times */
        int v = 0;
        np_select_case k = {.chan = a.c, .op = NP_SELECT_RECV, .elem = &v};
        int r = np_select(&k, 1, a.deadline);
        if (r == 0) {
            t->got++;
            t->bad += !k.ok || v != 1234;
        } else {
            t->timeouts++;
            t->bad += r != NP_EDEADLINE;
        }
        if (timed) {
            if (wait_for(&a.done, 1, 2000) != 1) {
                t->bad++;
                break; /* the sender is stuck: its channel cannot be freed */
            }
            bool sent = a.result == 0;
            t->lost += sent && r != 0;
            t->duplicated += !sent && r == 0;
            t->bad += !sent && a.result != NP_EDEADLINE;
        } else {
            wait_for(&a.done, 1, 2000);
            int extra = 0;
            for (int i = 0; i < 3; i++) {
                np_select_case d = {.chan = a.c, .op = NP_SELECT_RECV, .elem = &v};
                if (np_select_try(&d, 1) == 0)
                    extra++;
            }
            t->lost += (r == 0) + extra < 1;
            t->duplicated += (r == 0) + extra > 1;
            t->bad += a.result != 0;
        }
        np_chan_free(a.c);
        t->rounds++;
    }
}

static void select_timeout_racing_a_send_loses_and_duplicates_no_value(void)
{
    trace_arg t = {0};
    fx_run(body_timeout_race, &t);
    NP_ASSERT_EQ_INT(t.lost, 0);
    NP_ASSERT_EQ_INT(t.duplicated, 0);
    NP_ASSERT_EQ_INT(t.bad, 0);
    CU_ASSERT(t.rounds >= 100);
    if (getenv("NP_TEST_VERBOSE") || t.lost || t.duplicated || t.bad || t.rounds < 100)
        fprintf(stderr, "rounds %d got %d timeouts %d lost %d duplicated %d bad %d\n", t.rounds,
                t.got, t.timeouts, t.lost, t.duplicated, t.bad);
}

/* ---- joinable tasks --------------------------------------------------------------- */

static void *twice(void *p)
{
    intptr_t v = (intptr_t)p;
    if (v % 3 == 0)
        np_sleep(MS); /* some finish after the join began, some before */
    return (void *)(v * 2);
}

static _Atomic int detached_ran;
static void *detached(void *p)
{
    (void)p;
    np_sleep(MS);
    atomic_fetch_add(&detached_ran, 1);
    return NULL;
}

static void body_join(void *p)
{
    (void)p;
    np_task_handle *h[50];
    for (intptr_t i = 0; i < 50; i++)
        NP_ASSERT_EQ_INT(np_spawn(twice, (void *)i, &h[i]), 0);
    np_sleep(MS / 2);
    for (intptr_t i = 0; i < 50; i++) {
        void *res = NULL;
        NP_ASSERT_EQ_INT(np_join(h[i], &res), 0);
        NP_ASSERT_EQ_INT((intptr_t)res, 2 * i);
    }
    np_task_handle *d;
    NP_ASSERT_EQ_INT(np_spawn(detached, NULL, &d), 0);
    NP_ASSERT_EQ_INT(np_detach(d), 0);
    NP_ASSERT_EQ_INT(np_spawn(twice, (void *)1, &d), 0);
    np_sleep(2 * MS);
    NP_ASSERT_EQ_INT(np_detach(d), 0); /* already returned: freed at once */
    NP_ASSERT_EQ_INT(wait_for(&detached_ran, 1, 2000), 1);
    NP_ASSERT_EQ_INT(np_spawn(NULL, NULL, &d), -EINVAL);
}

static void join_returns_what_the_task_returned(void)
{
    atomic_store(&detached_ran, 0);
    fx_run(body_join, NULL);
}

static void *slow(void *p)
{
    np_sleep(20 * MS);
    return p;
}

static void join_outside_a_task_does_not_wait(void)
{
    if (fx_is_sim())
        return; /* a plain thread cannot drive the simulator's virtual time */
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&cfg), 0);
    np_task_handle *h;
    NP_ASSERT_EQ_INT(np_spawn(slow, (void *)7, &h), 0);
    NP_ASSERT_EQ_INT(np_join(h, NULL), -EPERM); /* it sleeps still */
    void *res = NULL;
    int r = -EPERM;
    for (int i = 0; i < 2000 && r == -EPERM; i++) {
        nanosleep(&(struct timespec){0, 1000000}, NULL);
        r = np_join(h, &res);
    }
    NP_ASSERT_EQ_INT(r, 0);
    NP_ASSERT_EQ_INT((intptr_t)res, 7);
    NP_ASSERT_EQ_INT(np_runtime_stop(), 0);
}

static const np_test_case cases[] = {
    {"mutex_excludes_many_tasks_on_all_workers", mutex_excludes_many_tasks_on_all_workers},
    {"mutex_hands_off_to_waiters_in_arrival_order", mutex_hands_off_to_waiters_in_arrival_order},
    {"unlock_of_an_unlocked_mutex_is_fatal", unlock_of_an_unlocked_mutex_is_fatal},
    {"waitgroup_releases_every_waiter_when_the_counter_reaches_zero",
     waitgroup_releases_every_waiter_when_the_counter_reaches_zero},
    {"waitgroup_counter_below_zero_is_fatal", waitgroup_counter_below_zero_is_fatal},
    {"unbuffered_send_completes_only_when_a_receiver_takes_it",
     unbuffered_send_completes_only_when_a_receiver_takes_it},
    {"buffered_channel_is_fifo_and_a_send_waits_while_it_is_full",
     buffered_channel_is_fifo_and_a_send_waits_while_it_is_full},
    {"close_wakes_every_receiver_with_ok_false_after_the_buffer_drains",
     close_wakes_every_receiver_with_ok_false_after_the_buffer_drains},
    {"send_on_and_close_of_a_closed_channel_return_NP_ECHANCLOSED",
     send_on_and_close_of_a_closed_channel_return_NP_ECHANCLOSED},
    {"close_racing_send_loses_and_duplicates_no_value",
     close_racing_send_loses_and_duplicates_no_value},
    {"select_takes_a_ready_case", select_takes_a_ready_case},
    {"select_with_a_deadline_times_out_and_leaves_no_waiter",
     select_with_a_deadline_times_out_and_leaves_no_waiter},
    {"select_timeout_racing_a_send_loses_and_duplicates_no_value",
     select_timeout_racing_a_send_loses_and_duplicates_no_value},
    {"join_returns_what_the_task_returned", join_returns_what_the_task_returned},
    {"join_outside_a_task_does_not_wait", join_outside_a_task_does_not_wait},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("sync", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
