/* cli/demo.c - `netpoll demo`: what the project is, in a few seconds.
 *
 * 1. Live: an echo server and clients on 127.0.0.1 (cli/echo.c, on the
 *    descriptor API), as tasks on the epoll backend with a read deadline
 *    reset on every request; then a read that must time out, to show
 *    deadline lateness on a real clock.
 * 2. Simulated: the same pollDesc code on the simulator backend, running the
 *    scenario of the trace format's example in virtual time, printed as
 *    trace lines.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "echo.h"
#include "netpoll/netpoll.h"
#include "netpoll/sim.h"

#define MS INT64_C(1000000)

/* ---- the live part ------------------------------------------------------- */

typedef struct demo {
    int clients, rounds;
    np_echo_server srv;
    np_echo_client *cl;
    _Atomic int clients_done;
    int started;                         /* 1 once the server listens */
    int64_t timeout_asked, timeout_late; /* the deliberate timeout */
    int timeout_res;
} demo;

typedef struct {
    demo *d;
    int i;
} client_arg;

static void client_task(void *p)
{
    client_arg *a = p;
    np_echo_client_run(&a->d->cl[a->i]);
    atomic_fetch_add(&a->d->clients_done, 1);
}

static void live_main(void *p)
{
    demo *d = p;
    if (np_echo_server_start(&d->srv, "tcp", "127.0.0.1:0") != 0)
        return;
    d->started = 1;
    client_arg *args = calloc((size_t)d->clients, sizeof *args);
    for (int i = 0; i < d->clients; i++) {
        d->cl[i] = (np_echo_client){"tcp", d->srv.addr, d->rounds, 64, 1000 * MS, 0, 0, 0};
        args[i] = (client_arg){d, i};
        np_go(client_task, &args[i]);
    }
    /* A read nobody answers: it must time out, never early. */
    np_fd *c;
    if (np_dial("tcp", d->srv.addr, 0, &c) == 0) {
        char b;
        d->timeout_asked = 20 * MS;
        int64_t at = np_now() + d->timeout_asked;
        np_set_read_deadline(c, at);
        d->timeout_res = (int)np_read(c, &b, 1);
        d->timeout_late = np_now() - at;
        np_close(c);
    }
    for (int i = 0; i < 30000 && atomic_load(&d->clients_done) < d->clients; i++)
        np_sleep(MS); /* bounded: 30 s */
    np_echo_server_stop(&d->srv, 5000 * MS);
    free(args);
}

/* ---- the simulated part --------------------------------------------------- */

static void sim_scenario(void *arg)
{
    (void)arg;
    /* Trace time 0 is the virtual clock's epoch. */
    const int64_t t0 = np_now();
    const int fd = 7;
    np_poll_desc *pd;
#define AT(t) ((long long)(np_now() - t0))
    if (np_poll_open(fd, &pd) != 0)
        return;
    printf("    %-6lld open     pd=1 fd=%d\n", AT(0), fd);
    np_poll_set_deadline(pd, t0 + 5000, NP_MODE_R);
    printf("    %-6lld deadline pd=1 mode=r at=5000\n", AT(0));
    np_sleep(100 - AT(0));
    np_poll_reset(pd, NP_MODE_R);
    printf("    %-6lld wait     g=1 pd=1 mode=r\n", AT(0));
    int r = np_poll_wait(pd, NP_MODE_R);
    printf("    %-6lld wake     g=1 pd=1 mode=r res=%s\n", AT(0), np_poll_result_name(r));
    np_sleep(6000 - AT(0));
    np_poll_set_deadline(pd, 0, NP_MODE_R);
    printf("    %-6lld deadline pd=1 mode=r at=0\n", AT(0));
    r = np_poll_reset(pd, NP_MODE_R);
    printf("    %-6lld reset    g=1 pd=1 mode=r res=%s\n", AT(0), np_poll_result_name(r));
    np_sim_inject(t0 + 9000, fd, NP_MODE_R, false); /* the kernel will say "readable" at 9000 */
    np_sleep(6100 - AT(0));
    printf("    %-6lld wait     g=1 pd=1 mode=r\n", AT(0));
    r = np_poll_wait(pd, NP_MODE_R);
    printf("    %-6lld ready    pd=1 mode=r\n", AT(0));
    printf("    %-6lld wake     g=1 pd=1 mode=r res=%s\n", AT(0), np_poll_result_name(r));
    np_sleep(9500 - AT(0));
    np_poll_unblock(pd);
    printf("    %-6lld unblock  pd=1\n", AT(0));
    np_poll_close(pd);
    printf("    %-6lld close    pd=1\n", AT(0));
#undef AT
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int np_cli_demo(int argc, char **argv)
{
    demo d = {.clients = 16, .rounds = 2000};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            d.rounds = 200;
        } else if (!strcmp(argv[i], "--help")) {
            printf("usage: netpoll demo [--quick]\n\n"
                   "Runs an echo server and %d clients over 127.0.0.1 as tasks on the epoll\n"
                   "backend (a read deadline reset on every request), a read that times out,\n"
                   "then the trace format's example scenario in the simulator.\n",
                   d.clients);
            return 0;
        } else {
            fprintf(stderr, "netpoll demo: unknown option '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    d.cl = calloc((size_t)d.clients, sizeof *d.cl);
    if (!d.cl)
        return 2;
    printf("netpoll %s demo\n\n1. live: epoll, 2 workers, %d clients x %d round trips of 64 bytes "
           "on 127.0.0.1\n",
           NETPOLL_VERSION, d.clients, d.rounds);
    np_config live = {.workers = 2, .backend = &np_backend_epoll};
    double w0 = wall();
    int err = np_main(&live, live_main, &d);
    double secs = wall() - w0;
    if (err || !d.started) {
        fprintf(stderr, "netpoll demo: cannot run the live part: %s\n",
                np_strerror(err ? err : -EADDRNOTAVAIL));
        free(d.cl);
        return 2;
    }
    long rt = 0;
    int client_errors = 0;
    for (int i = 0; i < d.clients; i++) {
        rt += d.cl[i].done;
        client_errors += d.cl[i].err != 0;
    }
    int errors = client_errors + atomic_load(&d.srv.errors);
    printf("   round trips  %ld in %.2f s (%.0f/s), errors %d\n", rt, secs, (double)rt / secs,
           errors);
    printf("   a 20 ms read deadline with no data: %s, %.3f ms after the deadline\n\n",
           d.timeout_res == NP_EDEADLINE ? "timed out" : "DID NOT TIME OUT",
           (double)d.timeout_late / 1e6);

    printf("2. simulated: the same pollDesc code on the simulator backend, virtual time in ns\n"
           "   (the trace format's example, printed as the trace lines it produces)\n");
    np_config sim = {.workers = 1, .backend = &np_backend_sim};
    err = np_main(&sim, sim_scenario, NULL);
    if (err) {
        fprintf(stderr, "netpoll demo: simulator: %s\n", np_strerror(err));
        free(d.cl);
        return 2;
    }
    bool ok = errors == 0 && rt == (long)d.clients * d.rounds && d.timeout_res == NP_EDEADLINE &&
              d.timeout_late >= 0;
    free(d.cl);
    printf("\n%s\n", ok ? "demo: ok" : "demo: FAILED");
    return ok ? 0 : 1;
}
