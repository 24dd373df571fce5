/* cli/echo_cmd.c - `netpoll echo serve|client`: the echo server and client
 * (cli/echo.c) from the command line, on 127.0.0.1 or a unix socket. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "echo.h"
#include "netpoll/epoll.h"
#include "netpoll/netpoll.h"

#define MS INT64_C(1000000)

typedef struct {
    const char *network, *addr;
    int workers, conns, rounds;
    size_t size;
    double seconds;
    int64_t timeout;
    int status;
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll echo serve  [--net tcp|tcp6|unix] [--addr A] [--workers N]\n"
               "                            [--seconds S] [--timeout-ms T]\n"
               "       netpoll echo client --addr A [--net ...] [--workers N] [--conns C]\n"
               "                            [--rounds R] [--size BYTES] [--timeout-ms T]\n\n"
               "serve: echoes on A (default 127.0.0.1:0, the chosen address is printed) for S\n"
               "seconds (default 10), with a read deadline of T ms reset per read if given.\n"
               "client: C connections (default 4) each doing R round trips (default 1000) of\n"
               "BYTES (default 512); exit status 1 if any echo failed.\n");
}

static void serve_main(void *p)
{
    opts *o = p;
    np_echo_server s = {.read_timeout = o->timeout};
    int err = np_echo_server_start(&s, o->network, o->addr);
    if (err) {
        fprintf(stderr, "netpoll echo: cannot listen on %s: %s\n", o->addr, np_strerror(err));
        o->status = 2;
        return;
    }
    printf("listening %s\n", s.addr);
    fflush(stdout);
    np_sleep((int64_t)(o->seconds * 1e9));
    np_echo_server_stop(&s, 1000 * MS);
    printf("served %ld connections, %ld bytes, %d errors\n", atomic_load(&s.conns),
           atomic_load(&s.bytes), atomic_load(&s.errors));
    o->status = atomic_load(&s.errors) ? 1 : 0;
}

typedef struct {
    np_echo_client c;
    _Atomic int *done;
} client_task_arg;

static void client_task(void *p)
{
    client_task_arg *a = p;
    np_echo_client_run(&a->c);
    atomic_fetch_add(a->done, 1);
}

static void client_main(void *p)
{
    opts *o = p;
    _Atomic int done = 0;
    client_task_arg *a = calloc((size_t)o->conns, sizeof *a);
    if (!a) {
        o->status = 2;
        return;
    }
    int64_t t0 = np_now();
    for (int i = 0; i < o->conns; i++) {
        a[i].c = (np_echo_client){o->network, o->addr, o->rounds, o->size, o->timeout, 0, 0, 0};
        a[i].done = &done;
        np_go(client_task, &a[i]);
    }
    while (atomic_load(&done) < o->conns)
        np_sleep(MS);
    double secs = (double)(np_now() - t0) / 1e9;
    long total = 0;
    int failed = 0;
    for (int i = 0; i < o->conns; i++) {
        total += a[i].c.done;
        if (a[i].c.err) {
            if (!failed)
                fprintf(stderr, "netpoll echo: connection %d: %s\n", i, np_strerror(a[i].c.err));
            failed++;
        }
    }
    printf("%ld round trips in %.3f s (%.0f/s), %d of %d connections failed\n", total, secs,
           secs > 0 ? (double)total / secs : 0.0, failed, o->conns);
    o->status = failed ? 1 : 0;
    free(a);
}

int np_cli_echo(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bool serve = !strcmp(argv[1], "serve");
    if (!serve && strcmp(argv[1], "client") != 0) {
        fprintf(stderr, "netpoll echo: unknown mode '%s' (serve or client)\n", argv[1]);
        return 2;
    }
    opts o = {"tcp", serve ? "127.0.0.1:0" : NULL, 0, 4, 1000, 512, 10, 0, 0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int64_t v = 0;
        int bad = 0;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--net")) {
            bad = !(o.network = np_cli_value("echo", argc, argv, &i));
        } else if (!strcmp(a, "--addr")) {
            bad = !(o.addr = np_cli_value("echo", argc, argv, &i));
        } else if (!strcmp(a, "--workers")) {
            bad = np_cli_int_arg("echo", argc, argv, &i, 0, 256, &v);
            o.workers = (int)v;
        } else if (!strcmp(a, "--conns")) {
            bad = np_cli_int_arg("echo", argc, argv, &i, 1, 100000, &v);
            o.conns = (int)v;
        } else if (!strcmp(a, "--rounds")) {
            bad = np_cli_int_arg("echo", argc, argv, &i, 0, 1000000000, &v);
            o.rounds = (int)v;
        } else if (!strcmp(a, "--size")) {
            bad = np_cli_int_arg("echo", argc, argv, &i, 1, 65536, &v);
            o.size = (size_t)v;
        } else if (!strcmp(a, "--seconds")) {
            bad = np_cli_real_arg("echo", argc, argv, &i, 0, 86400, &o.seconds);
        } else if (!strcmp(a, "--timeout-ms")) {
            bad = np_cli_int_arg("echo", argc, argv, &i, 0, 86400000, &v);
            o.timeout = v * MS;
        } else {
            fprintf(stderr, "netpoll echo: unexpected argument '%s' (see netpoll echo --help)\n",
                    a);
            return 2;
        }
        if (bad)
            return 2;
    }
    if (!o.addr) {
        fprintf(stderr, "netpoll echo client: --addr is required\n");
        return 2;
    }
    np_config cfg = {.workers = o.workers, .backend = &np_backend_epoll};
    int err = np_main(&cfg, serve ? serve_main : client_main, &o);
    if (err) {
        fprintf(stderr, "netpoll echo: runtime: %s\n", np_strerror(err));
        return 2;
    }
    return o.status;
}
