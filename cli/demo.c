/* cli/demo.c - `netpoll demo`: what the project is, in a few seconds.
 *
 * 1. Live: an echo server and clients on 127.0.0.1, as tasks on the epoll
 *    backend, with a read deadline reset on every request; then a read that
 *    must time out, to show deadline lateness on a real clock.
 * 2. Simulated: the same pollDesc code on the simulator backend, running the
 *    scenario of the trace format's example in virtual time, printed as
 *    trace lines (what `netpoll replay` will consume).
 *
 * The small read/write helpers here stand in for the network layer (netfd)
 * until it exists: reset, try the syscall, wait on EAGAIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "netpoll/netpoll.h"
#include "netpoll/sim.h"

#define MS INT64_C(1000000)

/* ---- the stand-in network layer ---------------------------------------- */

typedef struct conn {
    int fd;
    np_poll_desc *pd;
} conn;

static int conn_open(conn *c, int fd)
{
    c->fd = fd;
    return np_poll_open(fd, &c->pd);
}

static void conn_close(conn *c)
{
    np_poll_unblock(c->pd);
    np_poll_close(c->pd);
    close(c->fd);
}

/* Reads at most n bytes: >0, 0 at end of stream, -errno, or -ETIMEDOUT when
 * the read deadline passed (the real netfd layer gets its own code). */
static ssize_t conn_read(conn *c, void *buf, size_t n)
{
    int r = np_poll_reset(c->pd, NP_MODE_R);
    for (;;) {
        if (r != NP_POLL_OK)
            return r == NP_POLL_TIMEOUT ? -ETIMEDOUT : -EBADF;
        ssize_t k = read(c->fd, buf, n);
        if (k >= 0)
            return k;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        if (errno == EAGAIN)
            r = np_poll_wait(c->pd, NP_MODE_R);
    }
}

static ssize_t conn_write_all(conn *c, const void *buf, size_t n)
{
    size_t done = 0;
    int r = np_poll_reset(c->pd, NP_MODE_W);
    while (done < n) {
        if (r != NP_POLL_OK)
            return r == NP_POLL_TIMEOUT ? -ETIMEDOUT : -EBADF;
        ssize_t k = write(c->fd, (const char *)buf + done, n - done);
        if (k >= 0) {
            done += (size_t)k;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        if (errno == EAGAIN)
            r = np_poll_wait(c->pd, NP_MODE_W);
    }
    return (ssize_t)done;
}

/* ---- the live part ------------------------------------------------------- */

typedef struct demo {
    int clients, rounds;
    struct sockaddr_in addr;
    conn listener;
    _Atomic long round_trips;
    _Atomic int clients_done;
    _Atomic int errors;
    int64_t timeout_asked, timeout_late; /* the deliberate timeout */
    int timeout_res;
} demo;

typedef struct {
    demo *d;
    conn c;
} echo_arg;

static void echo_task(void *p)
{
    echo_arg *a = p;
    char buf[512];
    ssize_t n;
    while ((n = conn_read(&a->c, buf, sizeof buf)) > 0)
        if (conn_write_all(&a->c, buf, (size_t)n) < 0)
            break;
    conn_close(&a->c);
    free(a);
}

static void accept_task(void *p)
{
    demo *d = p;
    np_poll_reset(d->listener.pd, NP_MODE_R);
    for (;;) {
        int fd = accept4(d->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN) {
                if (np_poll_wait(d->listener.pd, NP_MODE_R) != NP_POLL_OK)
                    return; /* closing */
                continue;
            }
            if (errno == ECONNABORTED || errno == EINTR)
                continue;
            atomic_fetch_add(&d->errors, 1);
            return;
        }
        echo_arg *a = malloc(sizeof *a);
        if (!a || conn_open(&a->c, fd) != 0 || np_go(echo_task, a) != 0) {
            atomic_fetch_add(&d->errors, 1);
            close(fd);
            free(a);
        }
    }
}

static int dial(demo *d, conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int err = conn_open(c, fd);
    if (err) {
        close(fd);
        return err;
    }
    if (connect(fd, (struct sockaddr *)&d->addr, sizeof d->addr) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -errno;
    /* No reset here: the connection may complete before it, and its edge
     * would be thrown away. Instead every wake-up is confirmed, as Go does:
     * the registration's own edge can wake us before the handshake ends. */
    for (;;) {
        if (np_poll_wait(c->pd, NP_MODE_W) != NP_POLL_OK)
            return -EBADF;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            return -errno;
        if (err != 0)
            return -err;
        struct sockaddr_storage peer;
        len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
            return 0;
        if (errno != ENOTCONN)
            return -errno;
    }
}

static void client_task(void *p)
{
    demo *d = p;
    conn c;
    char msg[64], back[64];
    memset(msg, 'p', sizeof msg);
    if (dial(d, &c) != 0) {
        atomic_fetch_add(&d->errors, 1);
        atomic_fetch_add(&d->clients_done, 1);
        return;
    }
    for (int i = 0; i < d->rounds; i++) {
        np_poll_set_deadline(c.pd, np_deadline_after(1000 * MS), NP_MODE_R); /* reset per request */
        if (conn_write_all(&c, msg, sizeof msg) < 0) {
            atomic_fetch_add(&d->errors, 1);
            break;
        }
        size_t got = 0;
        while (got < sizeof back) {
            ssize_t n = conn_read(&c, back + got, sizeof back - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got != sizeof back || memcmp(msg, back, sizeof msg) != 0) {
            atomic_fetch_add(&d->errors, 1);
            break;
        }
        atomic_fetch_add(&d->round_trips, 1);
    }
    conn_close(&c);
    atomic_fetch_add(&d->clients_done, 1);
}

static void live_main(void *p)
{
    demo *d = p;
    for (int i = 0; i < d->clients; i++)
        np_go(client_task, d);
    /* A read nobody answers: it must time out, never early. */
    conn c;
    if (dial(d, &c) == 0) {
        char b;
        d->timeout_asked = 20 * MS;
        int64_t at = np_now() + d->timeout_asked;
        np_poll_set_deadline(c.pd, at, NP_MODE_R);
        ssize_t n = conn_read(&c, &b, 1);
        d->timeout_late = np_now() - at;
        d->timeout_res = (int)n;
        conn_close(&c);
    }
    for (int i = 0; i < 30000 && atomic_load(&d->clients_done) < d->clients; i++)
        np_sleep(MS);                /* bounded: 30 s */
    np_poll_unblock(d->listener.pd); /* stops the acceptor */
    np_sleep(MS);
    np_poll_close(d->listener.pd);
    close(d->listener.fd);
}

static int listen_loopback(demo *d)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&d->addr, 0, sizeof d->addr);
    d->addr.sin_family = AF_INET;
    d->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof d->addr;
    if (bind(fd, (struct sockaddr *)&d->addr, len) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&d->addr, &len) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    d->listener.fd = fd;
    return 0;
}

static void start_acceptor(void *p)
{
    demo *d = p;
    if (np_poll_open(d->listener.fd, &d->listener.pd) != 0 || np_go(accept_task, d) != 0)
        atomic_fetch_add(&d->errors, 1);
    else
        live_main(d);
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
    printf("netpoll %s demo\n\n1. live: epoll, 2 workers, %d clients x %d round trips of 64 bytes "
           "on 127.0.0.1\n",
           NETPOLL_VERSION, d.clients, d.rounds);
    int err = listen_loopback(&d);
    if (err) {
        fprintf(stderr, "netpoll demo: cannot listen on 127.0.0.1: %s\n", strerror(-err));
        return 2;
    }
    np_config live = {.workers = 2, .backend = &np_backend_epoll};
    double w0 = wall();
    err = np_main(&live, start_acceptor, &d);
    double secs = wall() - w0;
    if (err) {
        fprintf(stderr, "netpoll demo: runtime: %s\n", strerror(-err));
        return 2;
    }
    long rt = atomic_load(&d.round_trips);
    printf("   round trips  %ld in %.2f s (%.0f/s), errors %d\n", rt, secs, (double)rt / secs,
           atomic_load(&d.errors));
    printf("   a 20 ms read deadline with no data: %s, %.3f ms after the deadline\n\n",
           d.timeout_res == -ETIMEDOUT ? "timed out" : "DID NOT TIME OUT",
           (double)d.timeout_late / 1e6);

    printf("2. simulated: the same pollDesc code on the simulator backend, virtual time in ns\n"
           "   (the trace format's example, printed as the trace lines it produces)\n");
    np_config sim = {.workers = 1, .backend = &np_backend_sim};
    err = np_main(&sim, sim_scenario, NULL);
    if (err) {
        fprintf(stderr, "netpoll demo: simulator: %s\n", strerror(-err));
        return 2;
    }
    bool ok = atomic_load(&d.errors) == 0 && rt == (long)d.clients * d.rounds &&
              d.timeout_res == -ETIMEDOUT && d.timeout_late >= 0;
    printf("\n%s\n", ok ? "demo: ok" : "demo: FAILED");
    return ok ? 0 : 1;
}
