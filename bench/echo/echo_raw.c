/* bench/echo/echo_raw.c - the ceiling: a single-threaded, edge-triggered
 * epoll echo server with nothing in it but the system calls.
 *
 *   echo_raw [--port P] [--deadline] [--timeout S]
 *
 * --port 0 (the default) picks a free port; the server prints
 * "listening PORT" on stdout either way. It listens on 127.0.0.1 only.
 *
 * Per readable edge: read() until a short read (on a stream socket a short
 * read means the receive queue was empty at that moment, so the next byte
 * raises a new edge) and write() each chunk straight back. A write the
 * kernel takes only partly parks the rest until EPOLLOUT.
 *
 * --deadline: timerfd-free bookkeeping, the cheapest honest equivalent of
 * "reset a read deadline of now+10 s before every read": one
 * clock_gettime(CLOCK_MONOTONIC) (vDSO, no system call) and a store of the
 * connection's deadline before each read; a sweep every second (the
 * epoll_wait timeout) closes connections whose deadline passed.
 *
 * --timeout S (default 900): the server exits by itself after S seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF         4096
#define DEADLINE_NS (10 * 1000000000LL)

typedef struct conn {
    int fd;
    size_t pend_off, pend_len; /* unwritten echo, when a write was partial */
    int64_t deadline;          /* --deadline: absolute CLOCK_MONOTONIC ns */
    struct conn *prev, *next;  /* all connections, for the deadline sweep */
    unsigned char buf[BUF];
} conn;

static bool g_deadline;
static conn *g_conns;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void conn_close(conn *c)
{
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        g_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* Writes out the pending bytes. Returns 1 done, 0 blocked, -1 failed. */
static int flush(conn *c)
{
    while (c->pend_off < c->pend_len) {
        ssize_t n = write(c->fd, c->buf + c->pend_off, c->pend_len - c->pend_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->pend_off += (size_t)n;
    }
    c->pend_off = c->pend_len = 0;
    return 1;
}

/* Handles an edge on c. Returns false when c must be closed. */
static bool serve(conn *c)
{
    if (c->pend_len) {
        int r = flush(c);
        if (r <= 0)
            return r == 0;
    }
    for (;;) {
        if (g_deadline)
            c->deadline = now_ns() + DEADLINE_NS;
        ssize_t n = read(c->fd, c->buf, BUF);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN;
        }
        if (n == 0)
            return false;
        c->pend_off = 0;
        c->pend_len = (size_t)n;
        int r = flush(c);
        if (r <= 0)
            return r == 0; /* blocked: EPOLLOUT resumes (and reads on) */
        if (n < BUF)
            return true; /* drained; the next byte raises a new edge */
    }
}

int main(int argc, char **argv)
{
    int port = 0, timeout_s = 900;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--deadline"))
            g_deadline = true;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: echo_raw [--port P] [--deadline] [--timeout S]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(timeout_s > 0 ? timeout_s : 900)); /* SIGALRM ends the process */

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, SOMAXCONN) < 0) {
        perror("echo_raw: listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
        perror("echo_raw: epoll");
        return 1;
    }
    struct epoll_event evs[256];
    int64_t next_sweep = now_ns() + 1000000000LL;
    for (;;) {
        int n = epoll_wait(ep, evs, 256, g_deadline ? 1000 : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("echo_raw: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) { /* the listener: accept until EAGAIN */
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                            continue;
                        break; /* EAGAIN, or out of descriptors: the next edge retries */
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = malloc(sizeof *nc);
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    nc->pend_off = nc->pend_len = 0;
                    nc->deadline = g_deadline ? now_ns() + DEADLINE_NS : 0;
                    nc->prev = NULL;
                    nc->next = g_conns;
                    if (g_conns)
                        g_conns->prev = nc;
                    g_conns = nc;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                              .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) {
                        conn_close(nc);
                        continue;
                    }
                    /* Data may already be queued: the ADD reports it as an edge. */
                }
                continue;
            }
            if (!serve(c))
                conn_close(c);
        }
        if (g_deadline) {
            int64_t now = now_ns();
            if (now >= next_sweep) {
                next_sweep = now + 1000000000LL;
                for (conn *c = g_conns, *nx; c; c = nx) {
                    nx = c->next;
                    if (c->deadline && c->deadline <= now)
                        conn_close(c);
                }
            }
        }
    }
}
