/* tests/test_net.c - the fdMutex and the descriptor API (real sockets on
 * loopback, epoll backend). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fd_mutex.h"
#include "fixture.h"
#include "harness.h"
#include "netpoll/net.h"

#define MS INT64_C(1000000)

static void run(void (*body)(void *), void *arg)
{
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_main(&cfg, body, arg), 0);
}

/* ---- fdMutex ----------------------------------------------------------------- */

static void fdmu_references_fail_after_close_and_the_last_one_destroys(void)
{
    np__fd_mutex m;
    np__fdmu_init(&m);
    NP_ASSERT_EQ_INT(np__fdmu_incref(&m), 0);
    NP_ASSERT_EQ_INT(np__fdmu_close(&m), 0); /* takes a reference too */
    NP_ASSERT_EQ_INT(np__fdmu_close(&m), NP_ECLOSED);
    NP_ASSERT_EQ_INT(np__fdmu_incref(&m), NP_ECLOSED);
    CU_ASSERT_FALSE(np__fdmu_decref(&m)); /* close's own: one left */
    CU_ASSERT_TRUE(np__fdmu_decref(&m));  /* the last after close */
    np__fdmu_destroy(&m);
}

static void fdmu_unlock_that_drops_the_last_reference_after_close_destroys(void)
{
    /* Go issue 77404: the unlock paths must report "destroy" too. */
    for (int read = 0; read < 2; read++) {
        np__fd_mutex m;
        np__fdmu_init(&m);
        bool destroy;
        NP_ASSERT_EQ_INT(np__fdmu_rwlock(&m, read, &destroy), 0);
        NP_ASSERT_EQ_INT(np__fdmu_close(&m), 0);
        CU_ASSERT_FALSE(np__fdmu_decref(&m));
        CU_ASSERT_TRUE(np__fdmu_rwunlock(&m, read));
        np__fdmu_destroy(&m);
    }
}

static void fdmu_counter_overflow_is_an_error_and_changes_nothing(void)
{
    np__fd_mutex m;
    np__fdmu_init(&m);
    uint64_t max = NP_FDMU_REF_MASK / NP_FDMU_REF;
    for (uint64_t i = 0; i < max; i++)
        if (np__fdmu_incref(&m) != 0)
            CU_FAIL_FATAL("incref failed early");
    uint64_t before = atomic_load(&m.state);
    NP_ASSERT_EQ_INT(np__fdmu_incref(&m), -EOVERFLOW);
    bool destroy;
    NP_ASSERT_EQ_INT(np__fdmu_rwlock(&m, true, &destroy), -EOVERFLOW);
    NP_ASSERT_EQ_INT(np__fdmu_close(&m), -EOVERFLOW);
    CU_ASSERT_EQUAL(atomic_load(&m.state), before); /* no field was corrupted */
    CU_ASSERT_FALSE(atomic_load(&m.state) & NP_FDMU_CLOSED);
    np__fdmu_destroy(&m);
}

typedef struct {
    np__fd_mutex m;
    int res[3];
    _Atomic int done;
    bool destroyed;
} lockers;

static void locker(void *p)
{
    lockers *l = p;
    int i = atomic_fetch_add(&l->done, 0);
    (void)i;
    bool destroy;
    int r = np__fdmu_rwlock(&l->m, true, &destroy);
    if (destroy)
        l->destroyed = true;
    if (r == 0 && np__fdmu_rwunlock(&l->m, true))
        l->destroyed = true;
    l->res[atomic_fetch_add(&l->done, 1)] = r;
}

static void body_close_wakes_lockers(void *p)
{
    lockers *l = p;
    bool destroy;
    NP_ASSERT_EQ_INT(np__fdmu_rwlock(&l->m, true, &destroy), 0); /* held by us */
    np_go(locker, l);
    np_go(locker, l);
    np_sleep(5 * MS);
    CU_ASSERT_EQUAL(atomic_load(&l->m.state) & NP_FDMU_RWAIT_MASK, 2 * NP_FDMU_RWAIT);
    NP_ASSERT_EQ_INT(np__fdmu_close(&l->m), 0);
    np_sleep(5 * MS);
    NP_ASSERT_EQ_INT(atomic_load(&l->done), 2);
    NP_ASSERT_EQ_INT(l->res[0], NP_ECLOSED);
    NP_ASSERT_EQ_INT(l->res[1], NP_ECLOSED);
    CU_ASSERT_FALSE(np__fdmu_decref(&l->m));        /* close's reference */
    CU_ASSERT_TRUE(np__fdmu_rwunlock(&l->m, true)); /* ours was the last */
}

static void fdmu_close_wakes_every_blocked_locker_which_then_fails(void)
{
    lockers l = {0};
    np__fdmu_init(&l.m);
    run(body_close_wakes_lockers, &l);
    CU_ASSERT_FALSE(l.destroyed);
    np__fdmu_destroy(&l.m);
}

/* ---- connections ------------------------------------------------------------------ */

typedef struct {
    const char *network;
    char address[128];
    np_fd *server; /* accepted side */
    np_fd *client;
    np_fd *l;
    _Atomic int accepted; /* 1 ok, -1 failed: the acceptor task is done */
} link_;

static void acceptor(void *p)
{
    link_ *k = p;
    np_fd *s = NULL;
    int err = np_accept(k->l, &s);
    k->server = err ? NULL : s;
    atomic_store(&k->accepted, err ? -1 : 1);
}

/* A connected pair over `network` (listener at address), both ends tasks'. */
static int make_link(link_ *k, const char *network, const char *address)
{
    memset(k, 0, sizeof *k);
    k->network = network;
    int err = np_listen(network, address, 16, &k->l);
    if (err)
        return err;
    if ((err = np_local_addr(k->l, k->address, sizeof k->address)) != 0)
        return err;
    np_go(acceptor, k);
    if ((err = np_dial(network, k->address, 2000 * MS, &k->client)) != 0)
        return err;
    for (int i = 0; i < 2000 && !atomic_load(&k->accepted); i++)
        np_sleep(MS);
    return atomic_load(&k->accepted) == 1 ? 0 : -ETIMEDOUT;
}

static void drop_link(link_ *k)
{
    if (k->client)
        np_close(k->client);
    if (k->server)
        np_close(k->server);
    if (k->l)
        np_close(k->l);
}

static void body_echo(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/np-test-%d.sock", (int)getpid());
    struct {
        const char *net, *addr;
    } cases[] = {
        {"tcp", "127.0.0.1:0"}, {"tcp4", "localhost:0"}, {"tcp6", "[::1]:0"}, {"unix", path}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        link_ k;
        int err = make_link(&k, cases[i].net, cases[i].addr);
        if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL) { /* no IPv6 here */
            fprintf(stderr, "skipping %s: %s\n", cases[i].net, np_strerror(err));
            drop_link(&k);
            continue;
        }
        NP_ASSERT_EQ_INT(err, 0);
        char buf[16] = {0}, raddr[128];
        NP_ASSERT_EQ_INT(np_write(k.client, "hello", 5, NULL), 5);
        NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), 5);
        CU_ASSERT_STRING_EQUAL(buf, "hello");
        NP_ASSERT_EQ_INT(np_remote_addr(k.client, raddr, sizeof raddr), 0);
        if (strcmp(cases[i].net, "unix") != 0)
            CU_ASSERT_STRING_EQUAL(raddr, k.address);
        drop_link(&k);
    }
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0); /* the unix listener removed its file */
}
static void tcp4_tcp6_and_unix_connections_carry_data(void)
{
    run(body_echo, NULL);
}

static void body_eof_reset(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    char buf[8];
    NP_ASSERT_EQ_INT(np_read(k.server, buf, 0), 0); /* zero bytes: at once */
    NP_ASSERT_EQ_INT(np_close(k.client), 0);
    k.client = NULL;
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), NP_EOF);
    drop_link(&k);
    /* an abortive close (RST) is an error, not EOF */
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    struct linger lg = {1, 0};
    setsockopt(np_fd_sysfd(k.client), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    NP_ASSERT_EQ_INT(np_close(k.client), 0);
    k.client = NULL;
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), -ECONNRESET);
    drop_link(&k);
}
static void peer_close_gives_eof_and_reset_gives_an_error(void)
{
    run(body_eof_reset, NULL);
}

typedef struct {
    np_fd *f;
    size_t total;
    ssize_t res;
} reader;
static void slow_reader(void *p)
{
    reader *r = p;
    char buf[1000];
    for (;;) {
        ssize_t n = np_read(r->f, buf, sizeof buf);
        if (n <= 0) {
            r->res = n;
            return;
        }
        r->total += (size_t)n;
    }
}
static void body_partial(void *arg)
{
    (void)arg;
    link_ k;
    char path[64];
    snprintf(path, sizeof path, "/tmp/np-test-partial-%d.sock", (int)getpid());
    NP_ASSERT_EQ_INT(make_link(&k, "unix", path), 0);
    reader r = {k.server, 0, 0};
    np_go(slow_reader, &r);
    size_t n = 8 << 20;
    char *big = calloc(1, n);
    size_t written;
    NP_ASSERT_EQ_INT(np_write(k.client, big, n, &written), (long long)n);
    NP_ASSERT_EQ_INT(written, n);
    np_close(k.client);
    k.client = NULL;
    for (int i = 0; i < 5000 && r.res == 0; i++)
        np_sleep(MS);
    NP_ASSERT_EQ_INT(r.total, n);
    NP_ASSERT_EQ_INT(r.res, NP_EOF);
    free(big);
    drop_link(&k);
}
static void partial_writes_accumulate_until_all_bytes_are_written(void)
{
    run(body_partial, NULL);
}

/* ---- deadlines and close ------------------------------------------------------------ */

static void body_deadlines(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    char buf[8];
    NP_ASSERT_EQ_INT(np_write(k.client, "x", 1, NULL), 1);
    np_sleep(2 * MS);
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, -1), 0);
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), NP_EDEADLINE); /* data buffered */
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), NP_EDEADLINE); /* stays */
    CU_ASSERT_NOT_EQUAL(NP_EDEADLINE, -ETIMEDOUT);
    NP_ASSERT_EQ_INT(np_write(k.server, "y", 1, NULL), 1); /* write side unaffected */
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, 0), 0);
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), 1);
    /* a write that fills the buffer is ended by its deadline, bytes counted */
    size_t n = 64 << 20, written = 0;
    char *big = malloc(n);
    memset(big, 'b', n); /* touch it now, not inside the timed write */
    NP_ASSERT_EQ_INT(np_set_write_deadline(k.client, np_deadline_after(200 * MS)), 0);
    NP_ASSERT_EQ_INT(np_write(k.client, big, n, &written), NP_EDEADLINE);
    if (!(written > 0 && written < n))
        fprintf(stderr, "written %zu of %zu\n", written, n);
    CU_ASSERT(written > 0 && written < n);
    free(big);
    /* accept with a past deadline times out even with a connection queued */
    np_fd *c2, *a2;
    NP_ASSERT_EQ_INT(np_dial("tcp", k.address, 0, &c2), 0);
    np_sleep(2 * MS);
    NP_ASSERT_EQ_INT(np_set_deadline(k.l, -1), 0);
    NP_ASSERT_EQ_INT(np_accept(k.l, &a2), NP_EDEADLINE);
    NP_ASSERT_EQ_INT(np_set_deadline(k.l, 0), 0);
    NP_ASSERT_EQ_INT(np_accept(k.l, &a2), 0);
    np_close(a2);
    np_close(c2);
    drop_link(&k);
}
static void deadlines_expire_reads_writes_and_accepts(void)
{
    run(body_deadlines, NULL);
}

typedef struct {
    np_fd *f;
    ssize_t res;
    _Atomic int done;
} blocked;
static void blocked_reader(void *p)
{
    blocked *b = p;
    char c;
    b->res = np_read(b->f, &c, 1);
    atomic_store(&b->done, 1);
}
static void body_close(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    blocked b1 = {k.server, 0, 0}, b2 = {k.server, 0, 0};
    np_go(blocked_reader, &b1);
    np_go(blocked_reader, &b2); /* waits for the read lock */
    np_sleep(5 * MS);
    CU_ASSERT_FALSE(atomic_load(&b1.done) || atomic_load(&b2.done));
    int sysfd = np_fd_sysfd(k.server);
    NP_ASSERT_EQ_INT(np_close(k.server), 0);
    k.server = NULL;
    /* close returned: the kernel descriptor is gone and both readers failed */
    CU_ASSERT_EQUAL(fcntl(sysfd, F_GETFD), -1);
    np_sleep(2 * MS);
    CU_ASSERT_TRUE(atomic_load(&b1.done) && atomic_load(&b2.done));
    NP_ASSERT_EQ_INT(b1.res, NP_ECLOSED);
    NP_ASSERT_EQ_INT(b2.res, NP_ECLOSED);
    drop_link(&k);
}
static void close_fails_blocked_calls_with_closed_and_returns_after_the_fd_is_gone(void)
{
    run(body_close, NULL);
}

/* ---- reads after a short read ---------------------------------------------------------
 *
 * After a short read np_read may skip the read(2) that would say EAGAIN and
 * wait first (core/netfd.c). These check that whatever a read-first np_read
 * returns at once still comes at once: a hang shows as a late result (each
 * read here has a 2 s guard deadline; a read after it expired still returns
 * the bytes, so the time is what tells). */

#define GUARD  (2000 * MS)
#define PROMPT (500 * MS)

/* np_read with the guard; *late set if it took longer than PROMPT. */
static ssize_t guarded_read(np_fd *f, char *buf, size_t n, bool *late)
{
    NP_ASSERT_EQ_INT(np_set_read_deadline(f, np_deadline_after(GUARD)), 0);
    int64_t t0 = np_now();
    ssize_t r = np_read(f, buf, n);
    *late = np_now() - t0 > PROMPT;
    if (*late)
        fprintf(stderr, "np_read took %lld ms (result %zd)\n", (long long)((np_now() - t0) / MS),
                r);
    NP_ASSERT_EQ_INT(np_set_read_deadline(f, 0), 0);
    return r;
}

/* One byte through, read into a larger buffer: a short read. */
static void short_read(link_ *k)
{
    char buf[64];
    bool late;
    NP_ASSERT_EQ_INT(np_write(k->client, "x", 1, NULL), 1);
    NP_ASSERT_EQ_INT(guarded_read(k->server, buf, sizeof buf, &late), 1);
    CU_ASSERT_FALSE(late);
}

/* What the peer does next, at once or while the server waits. */
typedef struct {
    link_ *k;
    int what;
    int64_t delay;
    _Atomic int done;
} peer_act;
enum { SEND_FIN, SEND_RST, SEND_URGENT, SEND_FDS, SEND_TWO };

static void peer_do(peer_act *a)
{
    np_fd *c = a->k->client;
    switch (a->what) {
    case SEND_FIN: /* a request and its FIN, as a one-shot client sends them */
        NP_ASSERT_EQ_INT(np_write(c, "hello", 5, NULL), 5);
        NP_ASSERT_EQ_INT(np_shutdown(c, NP_MODE_W), 0);
        break;
    case SEND_RST: { /* bytes, then an abortive close */
        struct linger lg = {1, 0};
        NP_ASSERT_EQ_INT(np_write(c, "hello", 5, NULL), 5);
        setsockopt(np_fd_sysfd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        NP_ASSERT_EQ_INT(np_close(c), 0);
        a->k->client = NULL;
        break;
    }
    case SEND_URGENT: { /* "ab", an urgent "X", "cd": a read stops at the mark */
        int sfd = np_fd_sysfd(c), one = 1;
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        NP_ASSERT_EQ_INT(np_write(c, "ab", 2, NULL), 2);
        NP_ASSERT_EQ_INT(send(sfd, "X", 1, MSG_OOB), 1);
        NP_ASSERT_EQ_INT(np_write(c, "cd", 2, NULL), 2);
        break;
    }
    case SEND_FDS: { /* unix: "a" carrying a descriptor, then "b": a read stops between */
        int sfd = np_fd_sysfd(c);
        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
        struct iovec iov = {"a", 1};
        struct msghdr m = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &sfd, sizeof sfd);
        NP_ASSERT_EQ_INT(sendmsg(sfd, &m, 0), 1);
        NP_ASSERT_EQ_INT(np_write(c, "b", 1, NULL), 1);
        break;
    }
    case SEND_TWO:
        NP_ASSERT_EQ_INT(np_write(c, "hello", 5, NULL), 5);
        break;
    }
}

static void peer_task(void *p)
{
    peer_act *a = p;
    np_sleep(a->delay);
    peer_do(a);
    atomic_store(&a->done, 1);
}

/* Runs the peer's act after a short read: in a task while the server reads
 * (waiting), or at once and then pausing so the poller reports it before the
 * server reads. Reads until `want` bytes or an end; returns the last result
 * and the bytes in got. */
static ssize_t after_short_read(const char *net, const char *addr, int what, bool while_waiting,
                                char *got, size_t want)
{
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, net, addr), 0);
    short_read(&k);
    peer_act a = {&k, what, 10 * MS, 0};
    if (while_waiting) {
        np_go(peer_task, &a);
    } else {
        peer_do(&a);
        np_sleep(20 * MS); /* the poller delivers it: rg READY before the next reset */
    }
    size_t n = 0;
    ssize_t r;
    bool late = false;
    do {
        r = guarded_read(k.server, got + n, 64, &late);
        CU_ASSERT_FALSE(late);
        if (r > 0)
            n += (size_t)r;
    } while (r > 0 && n < want && !late);
    got[n] = 0;
    if (r > 0 && n == want) { /* then the end, if the peer sent one */
        char buf[64];
        if (what == SEND_FIN || what == SEND_RST) {
            r = guarded_read(k.server, buf, sizeof buf, &late);
            CU_ASSERT_FALSE(late);
        }
    }
    for (int i = 0; i < 1000 && while_waiting && !atomic_load(&a.done); i++)
        np_sleep(MS);
    drop_link(&k);
    return r;
}

static void body_short_read_then_end(void *arg)
{
    (void)arg;
    for (int w = 0; w < 2; w++) {
        char got[256];
        /* the FIN that came with the bytes is read with them: EOF is next */
        NP_ASSERT_EQ_INT(after_short_read("tcp", "127.0.0.1:0", SEND_FIN, w, got, 5), NP_EOF);
        CU_ASSERT_STRING_EQUAL(got, "hello");
        NP_ASSERT_EQ_INT(after_short_read("tcp", "127.0.0.1:0", SEND_RST, w, got, 5), -ECONNRESET);
        CU_ASSERT_STRING_EQUAL(got, "hello");
    }
}
static void after_a_short_read_eof_and_reset_still_come_at_once(void)
{
    run(body_short_read_then_end, NULL);
}

static void body_short_read_then_stops(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/np-test-fds-%d.sock", (int)getpid());
    for (int w = 0; w < 2; w++) {
        char got[256];
        /* a read ends at the urgent mark, the bytes past it queued */
        NP_ASSERT_EQ_INT(after_short_read("tcp", "127.0.0.1:0", SEND_URGENT, w, got, 4), 2);
        CU_ASSERT_STRING_EQUAL(got, "abcd");
        /* a unix read ends after a message carrying descriptors */
        NP_ASSERT_EQ_INT(after_short_read("unix", path, SEND_FDS, w, got, 2), 1);
        CU_ASSERT_STRING_EQUAL(got, "ab");
        /* bytes the poller reported before the read's reset */
        NP_ASSERT_EQ_INT(after_short_read("tcp", "127.0.0.1:0", SEND_TWO, w, got, 5), 5);
        CU_ASSERT_STRING_EQUAL(got, "hello");
    }
}
static void after_a_short_read_queued_bytes_still_come_at_once(void)
{
    run(body_short_read_then_stops, NULL);
}

static void body_short_read_rcvlowat(void *arg)
{
    (void)arg;
    /* SO_RCVLOWAT 4: fewer bytes raise no event, but a read returns them */
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    int four = 4;
    NP_ASSERT_EQ_INT(setsockopt(np_fd_sysfd(k.server), SOL_SOCKET, SO_RCVLOWAT, &four, sizeof four),
                     0);
    short_read(&k);
    char buf[64];
    bool late;
    NP_ASSERT_EQ_INT(np_write(k.client, "ab", 2, NULL), 2);
    np_sleep(5 * MS);
    NP_ASSERT_EQ_INT(guarded_read(k.server, buf, sizeof buf, &late), 2);
    CU_ASSERT_FALSE(late);
    drop_link(&k);
}
static void after_a_short_read_bytes_below_rcvlowat_are_still_read(void)
{
    run(body_short_read_rcvlowat, NULL);
}

static void body_short_read_deadline_close(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    char buf[64];
    /* a deadline passes during the wait */
    short_read(&k);
    int64_t t0 = np_now();
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, np_deadline_after(30 * MS)), 0);
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), NP_EDEADLINE);
    CU_ASSERT(np_now() - t0 >= 30 * MS);
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, 0), 0);
    /* an expired deadline fails the read at once, bytes queued or not */
    short_read(&k);
    NP_ASSERT_EQ_INT(np_write(k.client, "yz", 2, NULL), 2);
    np_sleep(5 * MS);
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, -1), 0);
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), NP_EDEADLINE);
    NP_ASSERT_EQ_INT(np_set_read_deadline(k.server, 0), 0);
    NP_ASSERT_EQ_INT(np_read(k.server, buf, sizeof buf), 2);
    /* a zero-byte read returns at once */
    NP_ASSERT_EQ_INT(np_read(k.server, buf, 0), 0);
    /* a close wakes the waiting reader */
    blocked b = {k.server, 0, 0};
    np_go(blocked_reader, &b);
    np_sleep(5 * MS);
    CU_ASSERT_FALSE(atomic_load(&b.done));
    NP_ASSERT_EQ_INT(np_close(k.server), 0);
    k.server = NULL;
    np_sleep(2 * MS);
    CU_ASSERT_TRUE(atomic_load(&b.done));
    NP_ASSERT_EQ_INT(b.res, NP_ECLOSED);
    drop_link(&k);
}
static void after_a_short_read_deadlines_and_close_behave_as_before(void)
{
    run(body_short_read_deadline_close, NULL);
}

static void body_nodelay(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    int v = -1;
    socklen_t len = sizeof v;
    /* on by default, as in Go: the accepted side and the dialed side */
    NP_ASSERT_EQ_INT(getsockopt(np_fd_sysfd(k.server), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    CU_ASSERT(v != 0);
    v = -1;
    NP_ASSERT_EQ_INT(getsockopt(np_fd_sysfd(k.client), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    CU_ASSERT(v != 0);
    NP_ASSERT_EQ_INT(np_set_nodelay(k.server, 1), 0);
    NP_ASSERT_EQ_INT(getsockopt(np_fd_sysfd(k.server), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    CU_ASSERT(v != 0);
    NP_ASSERT_EQ_INT(np_set_nodelay(k.server, 0), 0);
    NP_ASSERT_EQ_INT(getsockopt(np_fd_sysfd(k.server), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    NP_ASSERT_EQ_INT(v, 0);
    NP_ASSERT_EQ_INT(np_set_nodelay(NULL, 1), -EINVAL);
    drop_link(&k);
    char path[64];
    snprintf(path, sizeof path, "/tmp/np-test-nd-%d.sock", (int)getpid());
    NP_ASSERT_EQ_INT(make_link(&k, "unix", path), 0);
    NP_ASSERT_EQ_INT(np_set_nodelay(k.server, 1), -EOPNOTSUPP);
    drop_link(&k);
}
static void nodelay_is_on_by_default_settable_on_tcp_and_fails_on_unix(void)
{
    run(body_nodelay, NULL);
}

/* ---- close and the poller registration ------------------------------------------------ */

static void body_close_unregisters(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    /* netpoll's own sockets: close(2) takes the registration with it */
    int s_fd = np_fd_sysfd(k.client); /* only for the check: exposes the client */
    NP_ASSERT_EQ_INT(fx_epoll_registered(s_fd), 1);
    NP_ASSERT_EQ_INT(np_close(k.client), 0);
    k.client = NULL;
    NP_ASSERT_EQ_INT(fx_epoll_registered(s_fd), 0);
    /* a number given out and duplicated: np_close still unregisters it */
    int a_fd = np_fd_sysfd(k.server);
    int dup1 = dup(a_fd);
    NP_ASSERT_EQ_INT(np_close(k.server), 0);
    k.server = NULL;
    NP_ASSERT_EQ_INT(fx_epoll_registered(a_fd), 0);
    close(dup1);
    drop_link(&k);
    /* a wrapped descriptor the caller holds a dup of: the same */
    int sv[2];
    NP_ASSERT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int dup2_ = dup(sv[0]);
    np_fd *w;
    NP_ASSERT_EQ_INT(np_fd_wrap(sv[0], &w), 0);
    NP_ASSERT_EQ_INT(fx_epoll_registered(sv[0]), 1);
    NP_ASSERT_EQ_INT(np_close(w), 0);
    NP_ASSERT_EQ_INT(fx_epoll_registered(sv[0]), 0);
    close(dup2_);
    close(sv[1]);
}
static void close_unregisters_from_the_poller_even_when_the_caller_holds_a_dup(void)
{
    run(body_close_unregisters, NULL);
}

typedef struct {
    np_fd *f;
    _Atomic int stop;
    long ops;
} churn;
static void deadline_churner(void *p)
{
    churn *c = p;
    while (!atomic_load(&c->stop)) {
        np_set_deadline(c->f, np_deadline_after(3000));
        c->ops++;
        np_yield();
    }
}
static void churn_reader(void *p)
{
    churn *c = p;
    char buf[64];
    while (!atomic_load(&c->stop)) {
        ssize_t n = np_read(c->f, buf, sizeof buf);
        if (n == NP_EDEADLINE)
            np_set_read_deadline(c->f, 0);
    }
}
static void body_churn(void *arg)
{
    (void)arg;
    link_ k;
    NP_ASSERT_EQ_INT(make_link(&k, "tcp", "127.0.0.1:0"), 0);
    churn c = {k.server, 0, 0};
    np_go(deadline_churner, &c);
    np_go(churn_reader, &c);
    int64_t end = np_now() + 200 * MS;
    while (np_now() < end) {
        np_write(k.client, "z", 1, NULL);
        np_sleep(100000);
    }
    atomic_store(&c.stop, 1);
    np_write(k.client, "z", 1, NULL);
    np_sleep(10 * MS);
    CU_ASSERT(c.ops > 0);
    drop_link(&k); /* a reader still blocked is failed by close: no hang */
}
static void deadlines_reset_every_few_microseconds_during_io_neither_crash_nor_hang(void)
{
    run(body_churn, NULL);
}

/* An acceptor loops on a listener that another task closes - the usual way
 * to stop a server. With its own handle the acceptor always gets
 * NP_ECLOSED, whether the close lands inside np_accept or between two calls. */
typedef struct {
    np_fd *l;
    _Atomic int done;
    int last;
    long accepted;
} looper;

static void accept_looper(void *p)
{
    looper *lp = p;
    for (;;) {
        np_fd *c;
        int err = np_accept(lp->l, &c);
        if (err) {
            lp->last = err;
            break;
        }
        lp->accepted++;
        np_close(c);
        np_yield();
    }
    np_fd_release(lp->l);
    atomic_store(&lp->done, 1);
}

static void body_close_listener(void *arg)
{
    (void)arg;
    for (int round = 0; round < 200; round++) {
        looper lp = {0};
        char addr[64];
        NP_ASSERT_EQ_INT(np_listen("tcp", "127.0.0.1:0", 0, &lp.l), 0);
        NP_ASSERT_EQ_INT(np_local_addr(lp.l, addr, sizeof addr), 0);
        NP_ASSERT_EQ_INT(np_fd_retain(lp.l), 0);
        np_go(accept_looper, &lp);
        for (int i = 0; i < round % 4; i++) { /* a few connections: between-calls timing */
            np_fd *c;
            if (np_dial("tcp", addr, 0, &c) == 0)
                np_close(c);
        }
        if (round % 2)
            np_yield();
        NP_ASSERT_EQ_INT(np_close(lp.l), 0);
        for (int i = 0; i < 2000 && !atomic_load(&lp.done); i++)
            np_sleep(100000);
        CU_ASSERT_TRUE(atomic_load(&lp.done));
        NP_ASSERT_EQ_INT(lp.last, NP_ECLOSED);
    }
}
static void closing_a_listener_stops_an_acceptor_holding_its_own_handle(void)
{
    run(body_close_listener, NULL);
}

/* ---- fallbacks and bad input -------------------------------------------------------- */

static void body_file(void *arg)
{
    (void)arg;
    char path[] = "/tmp/np-test-file-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "abc", 3), 3);
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    np_fd *f;
    NP_ASSERT_EQ_INT(np_fd_wrap(fd, &f), 0); /* epoll refuses it: blocking */
    NP_ASSERT_EQ_INT(np_set_read_deadline(f, np_deadline_after(MS)), NP_ENODEADLINE);
    char buf[8];
    NP_ASSERT_EQ_INT(np_read(f, buf, sizeof buf), 3);
    NP_ASSERT_EQ_INT(np_read(f, buf, sizeof buf), NP_EOF);
    NP_ASSERT_EQ_INT(np_close(f), 0);
}
static void a_regular_file_falls_back_to_blocking_io_without_deadlines(void)
{
    run(body_file, NULL);
}

static void body_bad(void *arg)
{
    (void)arg;
    np_fd *f;
    NP_ASSERT_EQ_INT(np_listen("udp", "127.0.0.1:0", 0, &f), -EAFNOSUPPORT);
    NP_ASSERT_EQ_INT(np_listen("tcp", "127.0.0.1", 0, &f), -EINVAL);
    NP_ASSERT_EQ_INT(np_listen("tcp", "127.0.0.1:99999", 0, &f), -EINVAL);
    NP_ASSERT_EQ_INT(np_listen("tcp", "::1:80", 0, &f), -EINVAL);
    NP_ASSERT_EQ_INT(np_listen("tcp", "not-an-ip:80", 0, &f), -EINVAL);
    NP_ASSERT_EQ_INT(np_listen("tcp4", "[::1]:0", 0, &f), -EAFNOSUPPORT);
    NP_ASSERT_EQ_INT(np_listen(NULL, "x", 0, &f), -EINVAL);
    NP_ASSERT_EQ_INT(np_listen("tcp", "127.0.0.1:0", 0, NULL), -EINVAL);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    NP_ASSERT_EQ_INT(np_listen("unix", longpath, 0, &f), -ENAMETOOLONG);
    NP_ASSERT_EQ_INT(np_dial("tcp", "127.0.0.1:1", 0, &f), -ECONNREFUSED);
    NP_ASSERT_EQ_INT(np_dial("tcp", "127.0.0.1:1", -5, &f), -EINVAL);
    char buf[4];
    NP_ASSERT_EQ_INT(np_read(NULL, buf, 4), -EINVAL);
    NP_ASSERT_EQ_INT(np_write(NULL, buf, 4, NULL), -EINVAL);
    NP_ASSERT_EQ_INT(np_close(NULL), -EINVAL);
    NP_ASSERT_EQ_INT(np_set_deadline(NULL, 0), -EINVAL);
    NP_ASSERT_EQ_INT(np_fd_wrap(-1, &f), -EBADF);
    NP_ASSERT_EQ_INT(np_shutdown(NULL, NP_MODE_R), -EINVAL);
    CU_ASSERT_STRING_EQUAL(np_strerror(NP_EDEADLINE), "i/o deadline exceeded");
    CU_ASSERT_STRING_EQUAL(np_strerror(NP_ECLOSED), "use of closed network connection");
}
static void bad_input_gets_an_error_code_never_an_abort(void)
{
    run(body_bad, NULL);
}

static const np_test_case cases[] = {
    {"fdmu_references_fail_after_close_and_the_last_one_destroys",
     fdmu_references_fail_after_close_and_the_last_one_destroys},
    {"fdmu_unlock_that_drops_the_last_reference_after_close_destroys",
     fdmu_unlock_that_drops_the_last_reference_after_close_destroys},
    {"fdmu_counter_overflow_is_an_error_and_changes_nothing",
     fdmu_counter_overflow_is_an_error_and_changes_nothing},
    {"fdmu_close_wakes_every_blocked_locker_which_then_fails",
     fdmu_close_wakes_every_blocked_locker_which_then_fails},
    {"tcp4_tcp6_and_unix_connections_carry_data", tcp4_tcp6_and_unix_connections_carry_data},
    {"peer_close_gives_eof_and_reset_gives_an_error",
     peer_close_gives_eof_and_reset_gives_an_error},
    {"partial_writes_accumulate_until_all_bytes_are_written",
     partial_writes_accumulate_until_all_bytes_are_written},
    {"deadlines_expire_reads_writes_and_accepts", deadlines_expire_reads_writes_and_accepts},
    {"close_fails_blocked_calls_with_closed_and_returns_after_the_fd_is_gone",
     close_fails_blocked_calls_with_closed_and_returns_after_the_fd_is_gone},
    {"deadlines_reset_every_few_microseconds_during_io_neither_crash_nor_hang",
     deadlines_reset_every_few_microseconds_during_io_neither_crash_nor_hang},
    {"closing_a_listener_stops_an_acceptor_holding_its_own_handle",
     closing_a_listener_stops_an_acceptor_holding_its_own_handle},
    {"a_regular_file_falls_back_to_blocking_io_without_deadlines",
     a_regular_file_falls_back_to_blocking_io_without_deadlines},
    {"bad_input_gets_an_error_code_never_an_abort", bad_input_gets_an_error_code_never_an_abort},
    {"after_a_short_read_eof_and_reset_still_come_at_once",
     after_a_short_read_eof_and_reset_still_come_at_once},
    {"after_a_short_read_queued_bytes_still_come_at_once",
     after_a_short_read_queued_bytes_still_come_at_once},
    {"after_a_short_read_bytes_below_rcvlowat_are_still_read",
     after_a_short_read_bytes_below_rcvlowat_are_still_read},
    {"after_a_short_read_deadlines_and_close_behave_as_before",
     after_a_short_read_deadlines_and_close_behave_as_before},
    {"nodelay_is_on_by_default_settable_on_tcp_and_fails_on_unix",
     nodelay_is_on_by_default_settable_on_tcp_and_fails_on_unix},
    {"close_unregisters_from_the_poller_even_when_the_caller_holds_a_dup",
     close_unregisters_from_the_poller_even_when_the_caller_holds_a_dup},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("net", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
