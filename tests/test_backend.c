/* tests/test_backend.c - the backend contract, driven directly (no runtime):
 * break, its coalescing, and what readiness records carry. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "netpoll/epoll.h"
#include "netpoll/sim.h"

#define MS INT64_C(1000000)

typedef struct {
    int n;
    int64_t t0, t1;
    _Atomic int done;
} poller;

static void *poll_forever(void *arg)
{
    poller *p = arg;
    np_event ev[8];
    p->t0 = test_backend->now();
    p->n = test_backend->poll(-1, ev, 8);
    p->t1 = test_backend->now();
    atomic_store(&p->done, 1);
    return NULL;
}

static void break_wakes_a_blocked_poll(void)
{
    NP_ASSERT_EQ_INT(test_backend->init(), 0);
    poller p = {0};
    pthread_t th;
    pthread_create(&th, NULL, poll_forever, &p);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(atomic_load(&p.done), 0); /* still blocked */
    test_backend->brk();
    ts.tv_nsec = 1000 * 1000;
    for (int i = 0; i < 5000 && !atomic_load(&p.done); i++) /* at most 5 s */
        nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(atomic_load(&p.done), 1);
    if (!atomic_load(&p.done))
        test_backend->brk();
    pthread_join(th, NULL);
    NP_ASSERT_EQ_INT(p.n, 0);
    test_backend->fini();
}

static void many_breaks_cost_one_wakeup(void)
{
    NP_ASSERT_EQ_INT(test_backend->init(), 0);
    np_event ev[8];
    for (int i = 0; i < 1000; i++)
        test_backend->brk();
    /* a non-blocking look does not eat the break... */
    NP_ASSERT_EQ_INT(test_backend->poll(0, ev, 8), 0);
    /* ...the first blocking poll returns at once and consumes it... */
    NP_ASSERT_EQ_INT(test_backend->poll(-1, ev, 8), 0);
    /* ...and nothing is left over: the next poll runs its full delay */
    int64_t t0 = test_backend->now();
    NP_ASSERT_EQ_INT(test_backend->poll(20 * MS, ev, 8), 0);
    CU_ASSERT(test_backend->now() - t0 >= 20 * MS);
    if (fx_is_sim()) {
        np_sim_stats st;
        np_sim_get_stats(&st);
        NP_ASSERT_EQ_INT(st.breaks, 1000);
        NP_ASSERT_EQ_INT(st.woken, 1);
    }
    test_backend->fini();
}

/* A stand-in pollDesc address: the backend never dereferences it. */
static _Alignas(64) char fake_pd[64];

static void events_carry_the_registration_and_are_edge_triggered(void)
{
    NP_ASSERT_EQ_INT(test_backend->init(), 0);
    struct np_poll_desc *pd = (struct np_poll_desc *)fake_pd;
    int sv[2] = {100, -1};
    bool sim = fx_is_sim();
    if (!sim)
        CU_ASSERT_EQUAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    NP_ASSERT_EQ_INT(test_backend->open(sv[0], pd, 0x1234), 0);
    NP_ASSERT_EQ_INT(test_backend->open(sv[0], pd, 0x1234), -EEXIST);
    np_event ev[8];
    int n;
    if (!sim) { /* a fresh socket is writable: one W edge */
        n = test_backend->poll(0, ev, 8);
        NP_ASSERT_EQ_INT(n, 1);
        NP_ASSERT_EQ_INT(ev[0].mode, NP_EV_W);
        CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
    } else {
        NP_ASSERT_EQ_INT(np_sim_inject(0, sv[0], NP_MODE_R, false), 0);
    }
    n = test_backend->poll(10 * MS, ev, 8);
    NP_ASSERT_EQ_INT(n, 1);
    CU_ASSERT_PTR_EQUAL(ev[0].pd, pd);
    NP_ASSERT_EQ_INT(ev[0].tag, 0x1234);
    CU_ASSERT(ev[0].mode & NP_EV_R);
    CU_ASSERT_FALSE(ev[0].err_only);
    /* edge-triggered: no new event until something changes */
    NP_ASSERT_EQ_INT(test_backend->poll(0, ev, 8), 0);
    NP_ASSERT_EQ_INT(test_backend->close(sv[0], false), 0);
    if (!sim) {
        close(sv[0]);
        close(sv[1]);
    }
    test_backend->fini();
}

static void simulator_jumps_virtual_time_to_the_next_event(void)
{
    if (!fx_is_sim())
        return;
    NP_ASSERT_EQ_INT(np_backend_sim.init(), 0);
    struct np_poll_desc *pd = (struct np_poll_desc *)fake_pd;
    NP_ASSERT_EQ_INT(np_backend_sim.open(7, pd, 3), 0);
    int64_t t0 = np_backend_sim.now();
    NP_ASSERT_EQ_INT(t0, NP_SIM_EPOCH);
    NP_ASSERT_EQ_INT(np_sim_inject(t0 + 500, 7, NP_MODE_W, false), 0);
    NP_ASSERT_EQ_INT(np_sim_inject(t0 + 100, 7, NP_MODE_R, false), 0);
    NP_ASSERT_EQ_INT(np_sim_inject(t0 + 100, 7, NP_MODE_R, true), 0);
    np_event ev[8];
    NP_ASSERT_EQ_INT(np_backend_sim.poll(0, ev, 8), 0);  /* nothing due yet */
    NP_ASSERT_EQ_INT(np_backend_sim.poll(-1, ev, 8), 2); /* jumps to +100 */
    NP_ASSERT_EQ_INT(np_backend_sim.now(), t0 + 100);
    NP_ASSERT_EQ_INT(ev[0].mode, NP_EV_R);
    CU_ASSERT_FALSE(ev[0].err_only);
    NP_ASSERT_EQ_INT(ev[1].mode, NP_EV_R | NP_EV_W); /* error-only: both */
    CU_ASSERT_TRUE(ev[1].err_only);
    NP_ASSERT_EQ_INT(np_backend_sim.poll(50, ev, 8), 0); /* delay ends first */
    NP_ASSERT_EQ_INT(np_backend_sim.now(), t0 + 150);
    NP_ASSERT_EQ_INT(np_backend_sim.poll(1000, ev, 8), 1);
    NP_ASSERT_EQ_INT(np_backend_sim.now(), t0 + 500);
    NP_ASSERT_EQ_INT(np_sim_inject(0, 8, NP_MODE_R, false), -ENOENT);
    NP_ASSERT_EQ_INT(np_backend_sim.close(7, true), 0); /* unregisters all the same */
    NP_ASSERT_EQ_INT(np_backend_sim.close(7, false), -ENOENT);
    np_backend_sim.fini();
}

static void epoll_refuses_regular_files(void)
{
    if (fx_is_sim())
        return;
    NP_ASSERT_EQ_INT(test_backend->init(), 0);
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
        NP_ASSERT_EQ_INT(test_backend->open(fileno(f), (struct np_poll_desc *)fake_pd, 1), -EPERM);
        fclose(f);
    }
    test_backend->fini();
}

static void epoll_close_leaves_the_unregistering_to_close_when_asked(void)
{
    if (fx_is_sim())
        return;
    NP_ASSERT_EQ_INT(test_backend->init(), 0);
    for (int closing = 0; closing < 2; closing++) {
        int sv[2];
        NP_ASSERT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        NP_ASSERT_EQ_INT(test_backend->open(sv[0], (struct np_poll_desc *)fake_pd, 1), 0);
        NP_ASSERT_EQ_INT(fx_epoll_registered(sv[0]), 1);
        NP_ASSERT_EQ_INT(test_backend->close(sv[0], closing), 0);
        /* fd_closing: no EPOLL_CTL_DEL, the registration stays until close(2) */
        NP_ASSERT_EQ_INT(fx_epoll_registered(sv[0]), closing);
        close(sv[0]);
        NP_ASSERT_EQ_INT(fx_epoll_registered(sv[0]), 0);
        close(sv[1]);
    }
    test_backend->fini();
}

static const np_test_case cases[] = {
    {"break_wakes_a_blocked_poll", break_wakes_a_blocked_poll},
    {"many_breaks_cost_one_wakeup", many_breaks_cost_one_wakeup},
    {"events_carry_the_registration_and_are_edge_triggered",
     events_carry_the_registration_and_are_edge_triggered},
    {"simulator_jumps_virtual_time_to_the_next_event",
     simulator_jumps_virtual_time_to_the_next_event},
    {"epoll_refuses_regular_files", epoll_refuses_regular_files},
    {"epoll_close_leaves_the_unregistering_to_close_when_asked",
     epoll_close_leaves_the_unregistering_to_close_when_asked},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("backend", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
