/* cli/workloads.c - live workloads over 127.0.0.1 for `netpoll record`.
 * Each is bounded by its `until` time, and by counts where it loops. */
#include "workloads.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"
#include "netpoll/netpoll.h"

#define MS INT64_C(1000000)
#define US INT64_C(1000)

typedef struct {
    _Atomic long ops, timeouts, closed, errors;
    _Atomic int running; /* tasks still running */
} shared;

static void stats_out(shared *sh, np_wl_stats *st)
{
    st->ops = atomic_load(&sh->ops);
    st->timeouts = atomic_load(&sh->timeouts);
    st->closed = atomic_load(&sh->closed);
    st->errors = atomic_load(&sh->errors);
}

/* Waits (bounded) until the workload's tasks are done. */
static void join(shared *sh, int64_t limit)
{
    int64_t end = np_now() + limit;
    while (atomic_load(&sh->running) > 0 && np_now() < end)
        np_sleep(MS);
}

/* A small deterministic generator per task: workloads need variety, not
 * statistical quality. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- echo: connections doing round trips, deadline reset per request ------ */

typedef struct {
    np_echo_client c;
    shared *sh;
} echo_arg;

static void echo_client(void *p)
{
    echo_arg *a = p;
    if (np_echo_client_run(&a->c) != 0)
        atomic_fetch_add(&a->sh->errors, 1);
    atomic_fetch_add(&a->sh->ops, a->c.done);
    atomic_fetch_sub(&a->sh->running, 1);
}

static void run_echo(int64_t until, np_wl_stats *st)
{
    shared sh = {0};
    np_echo_server srv = {.read_timeout = 1000 * MS};
    if (np_echo_server_start(&srv, "tcp", "127.0.0.1:0") != 0) {
        st->errors = 1;
        return;
    }
    enum { N = 8 };
    echo_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (echo_arg){{"tcp", srv.addr, 1000000, 256, 1000 * MS, until, 0, 0}, &sh};
        atomic_fetch_add(&sh.running, 1);
        if (np_go(echo_client, &a[i]) != 0)
            atomic_fetch_sub(&sh.running, 1);
    }
    join(&sh, until - np_now() + 5000 * MS);
    np_echo_server_stop(&srv, 2000 * MS);
    stats_out(&sh, st);
    st->errors += atomic_load(&srv.errors);
}

/* ---- deadline-churn: 1 ms read deadlines against replies taking 0-2 ms ----- */

typedef struct {
    np_fd *c;
    shared *sh;
    uint64_t seed;
} conn_arg;

static void slow_echo_conn(void *p)
{
    conn_arg *a = p;
    char b;
    while (np_read(a->c, &b, 1) == 1) {
        np_sleep((int64_t)(next_rand(&a->seed) % 2000) * US); /* a slow server */
        if (np_write(a->c, &b, 1, NULL) != 1)
            break;
    }
    np_close(a->c);
    atomic_fetch_sub(&a->sh->running, 1);
    free(a);
}

typedef struct {
    np_fd *l;
    shared *sh;
    void (*conn)(void *);
    _Atomic int done;
} acceptor;

static void accept_loop(void *p)
{
    acceptor *ac = p;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    for (;;) {
        np_fd *c;
        int err = np_accept(ac->l, &c);
        if (err == NP_ECLOSED)
            break;
        if (err) {
            atomic_fetch_add(&ac->sh->errors, 1);
            np_sleep(1000000); /* do not spin on a persistent error */
            continue;
        }
        if (!ac->conn) { /* accept-churn: close at once */
            np_close(c);
            continue;
        }
        conn_arg *a = malloc(sizeof *a);
        if (!a) {
            np_close(c);
            continue;
        }
        *a = (conn_arg){c, ac->sh, next_rand(&seed) | 1};
        atomic_fetch_add(&ac->sh->running, 1);
        if (np_go(ac->conn, a) != 0) {
            atomic_fetch_sub(&ac->sh->running, 1);
            np_close(c);
            free(a);
        }
    }
    np_fd_release(ac->l); /* this task's handle (stop_acceptor closes the other) */
    atomic_store(&ac->done, 1);
}

static int start_acceptor(acceptor *ac, char *addr, size_t len)
{
    int err = np_listen("tcp", "127.0.0.1:0", 0, &ac->l);
    if (!err)
        err = np_local_addr(ac->l, addr, len);
    if (!err) {
        np_fd_retain(ac->l); /* the accept loop's own handle */
        err = np_go(accept_loop, ac);
        if (err)
            np_fd_release(ac->l);
    }
    return err;
}

static void stop_acceptor(acceptor *ac)
{
    np_close(ac->l);
    for (int i = 0; i < 1000 && !atomic_load(&ac->done); i++)
        np_sleep(MS);
}

typedef struct {
    const char *addr;
    int64_t until;
    shared *sh;
} client_arg;

static void churn_client(void *p)
{
    client_arg *a = p;
    np_fd *f;
    char b = 'c';
    if (np_dial("tcp", a->addr, 1000 * MS, &f) != 0) {
        atomic_fetch_add(&a->sh->errors, 1);
        atomic_fetch_sub(&a->sh->running, 1);
        return;
    }
    for (int i = 0; i < 100000 && np_now() < a->until; i++) {
        np_set_read_deadline(f, np_deadline_after(1 * MS)); /* reset every request */
        if (np_write(f, &b, 1, NULL) != 1) {
            atomic_fetch_add(&a->sh->errors, 1);
            break;
        }
        ssize_t n = np_read(f, &b, 1);
        if (n == NP_EDEADLINE) {
            atomic_fetch_add(&a->sh->timeouts, 1);
            np_set_read_deadline(f, np_deadline_after(100 * MS)); /* take the late reply */
            n = np_read(f, &b, 1);
        }
        if (n != 1) {
            atomic_fetch_add(&a->sh->errors, 1);
            break;
        }
        atomic_fetch_add(&a->sh->ops, 1);
    }
    np_close(f);
    atomic_fetch_sub(&a->sh->running, 1);
}

static void run_clients(int64_t until, np_wl_stats *st, void (*conn)(void *),
                        void (*client)(void *), int n)
{
    shared sh = {0};
    acceptor ac = {.sh = &sh, .conn = conn};
    char addr[64];
    if (start_acceptor(&ac, addr, sizeof addr) != 0) {
        st->errors = 1;
        return;
    }
    client_arg ca = {addr, until, &sh};
    for (int i = 0; i < n; i++) {
        atomic_fetch_add(&sh.running, 1);
        if (np_go(client, &ca) != 0)
            atomic_fetch_sub(&sh.running, 1);
    }
    join(&sh, until - np_now() + 5000 * MS);
    stop_acceptor(&ac);
    join(&sh, 2000 * MS);
    stats_out(&sh, st);
}

/* Four connections: client reads time out at the same instant, and one of
 * them resets its deadline before another's late reply arrives - the
 * interleaving the recorder holds lines back for (core/record.c,
 * "Holding"; traces/README.md). With one connection before holding. */
static void run_deadline_churn(int64_t until, np_wl_stats *st)
{
    run_clients(until, st, slow_echo_conn, churn_client, 4);
}

/* ---- close-race: reads blocked while their connection is closed ----------- */

static void silent_conn(void *p)
{
    conn_arg *a = p;
    char buf[64];
    while (np_read(a->c, buf, sizeof buf) > 0) /* never answers */
        ;
    np_close(a->c);
    atomic_fetch_sub(&a->sh->running, 1);
    free(a);
}

typedef struct {
    np_fd *f;
    shared *sh;
    _Atomic int done;
} blocked_read;

static void blocked_reader(void *p)
{
    blocked_read *b = p;
    char c;
    ssize_t n = np_read(b->f, &c, 1);
    if (n == NP_ECLOSED)
        atomic_fetch_add(&b->sh->closed, 1);
    else
        atomic_fetch_add(&b->sh->errors, 1);
    np_fd_release(b->f); /* the reader's own handle: the close may come before it runs */
    atomic_store(&b->done, 1);
}

static void close_race_client(void *p)
{
    client_arg *a = p;
    uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;
    for (int i = 0; i < 100000 && np_now() < a->until; i++) {
        np_fd *f;
        if (np_dial("tcp", a->addr, 1000 * MS, &f) != 0) {
            atomic_fetch_add(&a->sh->errors, 1);
            break;
        }
        blocked_read b = {f, a->sh, 0};
        np_fd_retain(f);
        if (np_go(blocked_reader, &b) != 0) {
            np_fd_release(f);
            np_close(f);
            break;
        }
        np_sleep((int64_t)(next_rand(&seed) % 500) * US); /* the read blocks meanwhile */
        np_close(f);
        for (int k = 0; k < 1000 && !atomic_load(&b.done); k++)
            np_sleep(100 * US);
        atomic_fetch_add(&a->sh->ops, 1);
    }
    atomic_fetch_sub(&a->sh->running, 1);
}

static void run_close_race(int64_t until, np_wl_stats *st)
{
    run_clients(until, st, silent_conn, close_race_client, 4);
}

/* ---- accept-churn: connections opened and closed as fast as possible ------- */

static void accept_churn_client(void *p)
{
    client_arg *a = p;
    for (int i = 0; i < 100000 && np_now() < a->until; i++) {
        np_fd *f;
        int err = np_dial("tcp", a->addr, 1000 * MS, &f);
        if (err) {
            if (err != -ECONNREFUSED && err != -EAGAIN)
                atomic_fetch_add(&a->sh->errors, 1);
            np_sleep(MS);
            continue;
        }
        char c;
        np_set_read_deadline(f, np_deadline_after(5 * MS));
        ssize_t n = np_read(f, &c, 1); /* the server's close: EOF */
        if (n != NP_EOF && n != NP_EDEADLINE && n != -ECONNRESET)
            atomic_fetch_add(&a->sh->errors, 1);
        np_close(f);
        atomic_fetch_add(&a->sh->ops, 1);
    }
    atomic_fetch_sub(&a->sh->running, 1);
}

static void run_accept_churn(int64_t until, np_wl_stats *st)
{
    run_clients(until, st, NULL, accept_churn_client, 4);
}

const np_workload np_workloads[] = {
    {"echo", "8 connections doing 256-byte round trips, a 1 s read deadline reset per request",
     run_echo},
    {"deadline-churn", "1 ms read deadlines reset every request against replies taking 0-2 ms",
     run_deadline_churn},
    {"close-race", "connections closed while a task is blocked reading them", run_close_race},
    {"accept-churn", "connections opened and closed as fast as possible (pollDescs recycled)",
     run_accept_churn},
    {NULL, NULL, NULL},
};

const np_workload *np_workload_find(const char *name)
{
    for (const np_workload *w = np_workloads; w->name; w++)
        if (!strcmp(w->name, name))
            return w;
    return NULL;
}
