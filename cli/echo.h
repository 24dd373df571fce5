/* cli/echo.h - an echo server and client on netpoll/net.h, used by
 * `netpoll demo`, `netpoll echo`, and the live workloads. */
#ifndef NP_CLI_ECHO_H
#define NP_CLI_ECHO_H

#include <stdatomic.h>
#include <stdint.h>

#include "netpoll/net.h"

typedef struct np_echo_server {
    np_fd *l;                  /* the listener (the starter's handle) */
    np_fd *l_acceptor;         /* the same, the accept loop's handle */
    char addr[128];            /* where it listens, "HOST:PORT" or a path */
    int64_t read_timeout;      /* > 0: a read deadline this far ahead, reset per read */
    _Atomic long conns;        /* connections accepted */
    _Atomic long bytes;        /* bytes echoed */
    _Atomic int live;          /* connection tasks still running */
    _Atomic int errors;        /* unexpected errors */
    _Atomic int acceptor_done; /* the accept loop has returned */
} np_echo_server;

/* Listens and starts the accept loop as a task. Returns 0 or an error. */
int np_echo_server_start(np_echo_server *s, const char *network, const char *address);
/* Closes the listener (the accept loop ends) and waits up to `wait` ns for
 * the connection tasks to finish. */
void np_echo_server_stop(np_echo_server *s, int64_t wait);

typedef struct np_echo_client {
    const char *network, *addr; /* where to connect */
    int rounds;                 /* round trips on one connection */
    size_t size;                /* bytes per message (<= 64 KiB) */
    int64_t read_timeout;       /* > 0: read deadline reset before each request */
    int64_t until;              /* > 0: stop starting round trips after this time */
    long done;                  /* round trips completed */
    int err;                    /* 0, or the error that ended it */
} np_echo_client;

/* Runs a client to completion in the calling task. Returns its err. */
int np_echo_client_run(np_echo_client *c);

#endif
