/* cli/echo.c - echo server and client on the descriptor API. */
#include "echo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/netpoll.h"

typedef struct {
    np_echo_server *s;
    np_fd *c;
} conn_arg;

static void conn_task(void *p)
{
    conn_arg *a = p;
    np_echo_server *s = a->s;
    char buf[16384];
    for (;;) {
        if (s->read_timeout > 0)
            np_set_read_deadline(a->c, np_deadline_after(s->read_timeout));
        ssize_t n = np_read(a->c, buf, sizeof buf);
        if (n <= 0) {
            if (n != NP_EOF && n != NP_ECLOSED && n != -ECONNRESET && n != NP_EDEADLINE)
                atomic_fetch_add(&s->errors, 1);
            break;
        }
        if (np_write(a->c, buf, (size_t)n, NULL) < 0)
            break;
        atomic_fetch_add(&s->bytes, n);
    }
    np_close(a->c);
    free(a);
    atomic_fetch_sub(&s->live, 1);
}

static void accept_task(void *p)
{
    np_echo_server *s = p;
    for (;;) {
        np_fd *c;
        int err = np_accept(s->l_acceptor, &c);
        if (err == NP_ECLOSED)
            break;
        if (err) {
            if (err != -EMFILE && err != -ENFILE)
                atomic_fetch_add(&s->errors, 1);
            np_sleep(1000000); /* out of descriptors: back off 1 ms */
            continue;
        }
        conn_arg *a = malloc(sizeof *a);
        if (!a) {
            np_close(c);
            continue;
        }
        a->s = s;
        a->c = c;
        atomic_fetch_add(&s->conns, 1);
        atomic_fetch_add(&s->live, 1);
        if (np_go(conn_task, a) != 0) {
            atomic_fetch_sub(&s->live, 1);
            np_close(c);
            free(a);
        }
    }
    np_fd_release(s->l_acceptor); /* the acceptor's own handle on the listener */
    atomic_store(&s->acceptor_done, 1);
}

int np_echo_server_start(np_echo_server *s, const char *network, const char *address)
{
    int err = np_listen(network, address, 0, &s->l);
    if (err)
        return err;
    if ((err = np_local_addr(s->l, s->addr, sizeof s->addr)) != 0) {
        np_close(s->l);
        s->l = NULL;
        return err;
    }
    /* The accept loop gets its own handle: np_echo_server_stop's close may
     * come while it is between two accepts. */
    s->l_acceptor = s->l;
    np_fd_retain(s->l_acceptor);
    if ((err = np_go(accept_task, s)) != 0) {
        np_fd_release(s->l_acceptor);
        np_close(s->l);
        s->l = NULL;
    }
    return err;
}

void np_echo_server_stop(np_echo_server *s, int64_t wait)
{
    if (!s->l)
        return;
    np_close(s->l);
    s->l = NULL;
    int64_t end = np_now() + wait;
    while ((atomic_load(&s->live) > 0 || !atomic_load(&s->acceptor_done)) && np_now() < end)
        np_sleep(1000000);
}

int np_echo_client_run(np_echo_client *c)
{
    np_fd *f;
    /* On the heap: 128 KiB of buffers would fill a default task stack. */
    enum { CAP = 65536 };
    if (c->size == 0 || c->size > CAP)
        return c->err = -EINVAL;
    char *out = malloc(2 * (size_t)CAP);
    if (!out)
        return c->err = -ENOMEM;
    char *in = out + CAP;
    memset(out, 'e', c->size);
    int err = np_dial(c->network, c->addr, 5000000000, &f);
    if (err) {
        free(out);
        return c->err = err;
    }
    for (c->done = 0; c->done < c->rounds && (c->until <= 0 || np_now() < c->until); c->done++) {
        if (c->read_timeout > 0)
            np_set_read_deadline(f, np_deadline_after(c->read_timeout));
        ssize_t w = np_write(f, out, c->size, NULL);
        if (w < 0) {
            err = (int)w;
            break;
        }
        size_t got = 0;
        while (got < c->size) {
            ssize_t n = np_read(f, in + got, c->size - got);
            if (n < 0) {
                err = (int)n;
                break;
            }
            got += (size_t)n;
        }
        if (err)
            break;
        if (memcmp(in, out, c->size) != 0) {
            err = -EBADMSG; /* the echo came back wrong */
            break;
        }
    }
    np_close(f);
    free(out);
    return c->err = err;
}
