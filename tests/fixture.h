/* tests/fixture.h - one descriptor the pollDesc tests can make ready, on
 * either backend: a non-blocking socketpair on epoll (readiness comes from the
 * kernel), a made-up fd number on the simulator (readiness is injected). */
#ifndef NP_TESTS_FIXTURE_H
#define NP_TESTS_FIXTURE_H

#include <stdbool.h>

#include "netpoll/netpoll.h"

typedef struct fx {
    int fd;   /* registered with the poller */
    int peer; /* epoll: the other end of the socketpair; sim: -1 */
    np_poll_desc *pd;
} fx;

bool fx_is_sim(void);
/* Opens a descriptor and its pollDesc. Returns 0 or -errno. */
int fx_open(fx *f);
/* Unblocks and closes the pollDesc and the descriptors. */
void fx_close(fx *f);
/* The fd becomes readable (a byte arrives) / drained again. */
void fx_readable(fx *f);
void fx_drain(fx *f);
/* The fd's send buffer is filled (epoll) / space frees up again. */
void fx_fill(fx *f);
void fx_writable(fx *f);
/* Lets the poller run and deliver what is pending: sleeps 2 ms of runtime time. */
void fx_settle(void);
/* Whether an epoll instance of this process has fd number `fd` registered
 * (the kernel's own list, /proc/self/fdinfo): 1 or 0; -1 if the process has
 * no epoll instance. */
int fx_epoll_registered(int fd);
/* Runs body(arg) as the main task of a fresh runtime (test_backend, test_workers). */
void fx_run(void (*body)(void *), void *arg);
/* Runs child(arg) in a forked process with its stderr captured into buf
 * (NUL-terminated, at most len - 1 bytes); returns the child's wait status,
 * or -1 if the pipe or fork failed. */
int fx_child_stderr(void (*child)(void *), void *arg, char *buf, size_t len);

#endif
