/* core/net_more.c - more of the descriptor layer, on netfd.c's rules
 * (core/netfd.h): vectored I/O (Go: internal/poll.FD.Writev), datagrams
 * (net.ListenPacket, ReadFrom/WriteTo), a buffered reader (bufio.Reader) and
 * name resolution off the workers (Go's cgo resolver: getaddrinfo on threads
 * of its own while the goroutine parks).
 *
 * Which build has what. The vectored and datagram calls use system calls
 * the simulated machine does not have (readv, sendmsg, recvfrom, sendto):
 * live and sim-world builds only, -ENOSYS in the machine build. The
 * resolver needs OS threads that wake a task with np_ready: live build
 * only; the sim builds never hand it a name (NP__HAVE_RESOLVER). The
 * buffered reader is plain code over np_read: every build. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "netfd.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "netpoll/task.h"
#include "scheduler.h"
#include "seam.h"

/* ---- readv / writev ----------------------------------------------------------- */

#if !NP_MACHINE

/* Checks an iovec array: -EINVAL for none, or a NULL base with bytes. */
static int check_iov(const struct iovec *iov, int n, size_t *total)
{
    if (!iov || n <= 0)
        return -EINVAL;
    size_t t = 0;
    for (int i = 0; i < n; i++) {
        if (!iov[i].iov_base && iov[i].iov_len)
            return -EINVAL;
        t += iov[i].iov_len;
    }
    *total = t;
    return 0;
}

ssize_t np_readv(np_fd *f, const struct iovec *iov, int n)
{
    size_t total;
    if (!f)
        return -EINVAL;
    if (n > IOV_MAX)
        n = IOV_MAX; /* readv(2) refuses more: fill the first IOV_MAX */
    int err = check_iov(iov, n, &total);
    if (err)
        return err;
    if ((err = np__fd_lock(f, true)) != 0)
        return err;
    ssize_t r = 0;
    f->drained = false; /* np_read's skip rests on np_read's own reads alone */
    if (total == 0)     /* as np_read with n == 0: at once, no system call */
        goto out;
    if ((err = np__fd_prepare(f, NP_MODE_R)) != 0) {
        r = err;
        goto out;
    }
    for (;;) {
        r = NP_SYS(readv)(f->sysfd, iov, n);
        if (r > 0)
            break;
        if (r == 0) {
            r = f->stream ? NP_EOF : 0;
            break;
        }
        if (errno == EINTR)
            continue;
        r = -errno;
        if (r != -EAGAIN || f->blocking)
            break;
        if ((err = np__fd_wait(f, NP_MODE_R)) != 0) {
            r = err;
            break;
        }
    }
out:
    np__fd_unlock(f, true);
    return r;
}

/* iovecs per system call of np_writev, copied to the task's stack (the
 * first trimmed by a partial write): 64 take 1 KiB, where IOV_MAX (1024)
 * would take 16 KiB of a 256 KiB task stack. A write of more buffers costs
 * one system call per 64. */
#define NP_IOV_BATCH 64

ssize_t np_writev(np_fd *f, const struct iovec *iov, int n, size_t *written)
{
    size_t total;
    if (written)
        *written = 0;
    if (!f)
        return -EINVAL;
    int err = check_iov(iov, n, &total);
    if (err)
        return err;
    if ((err = np__fd_lock(f, false)) != 0)
        return err;
    size_t done = 0;
    ssize_t r = 0;
    if ((err = np__fd_prepare(f, NP_MODE_W)) != 0) {
        r = err;
        goto out;
    }
    int i = 0;      /* the next byte to write is iov[i] at off */
    size_t off = 0; /* (i == n: all written) */
    for (;;) {
        while (i < n && off == iov[i].iov_len) {
            i++;
            off = 0;
        }
        if (i == n)
            break;
        struct iovec v[NP_IOV_BATCH];
        int k = 0;
        size_t batch = 0;
        for (int j = i; j < n && k < NP_IOV_BATCH && batch < NP_MAX_RW; j++) {
            size_t o = j == i ? off : 0, len = iov[j].iov_len - o;
            if (len == 0)
                continue;
            if (len > NP_MAX_RW - batch)
                len = NP_MAX_RW - batch;
            v[k].iov_base = (char *)iov[j].iov_base + o;
            v[k++].iov_len = len;
            batch += len;
        }
        ssize_t w;
        if (f->is_socket) {
            struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)k};
            w = NP_SYS(sendmsg)(f->sysfd, &m, MSG_NOSIGNAL);
        } else {
            w = NP_SYS(writev)(f->sysfd, v, k);
        }
        if (w > 0) {
            done += (size_t)w; /* partial writes accumulate, maybe inside a buffer */
            for (size_t left = (size_t)w; left > 0;) {
                size_t room = iov[i].iov_len - off;
                if (left < room) {
                    off += left;
                    left = 0;
                } else {
                    left -= room;
                    i++;
                    off = 0;
                }
            }
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && !f->blocking) {
            if ((err = np__fd_wait(f, NP_MODE_W)) == 0)
                continue;
            r = err;
            break;
        }
        r = w < 0 ? -errno : -EIO; /* 0 bytes for a non-empty write: give up */
        break;
    }
    if (r == 0)
        r = (ssize_t)done;
out:
    if (written)
        *written = done;
    np__fd_unlock(f, false);
    return r;
}

/* ---- datagrams ------------------------------------------------------------------ */

int np_listen_packet(const char *network, const char *address, np_fd **out)
{
    if (!out || !network)
        return -EINVAL;
    if (strncmp(network, "udp", 3) != 0)
        return -EAFNOSUPPORT;
    np__addr a;
    int err = np__parse_addr(network, address, &a, NP__ADDR_UDP);
    if (err)
        return err;
    int s = NP_SYS(socket)(a.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int one = 1;
    /* as Go's setDefaultSockopts: broadcasts allowed, and "udp6" means IPv6 only */
    NP_SYS(setsockopt)(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    if (a.family == AF_INET6 && !strcmp(network, "udp6"))
        NP_SYS(setsockopt)(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (NP_SYS(bind)(s, (struct sockaddr *)&a.ss, a.len) != 0) {
        err = -errno;
        NP_SYS(close)(s);
        return err;
    }
    np_fd *f;
    if ((err = np__fd_init(s, true, true, false, &f)) != 0)
        return err;
    f->stream = false; /* an empty datagram reads as 0, not as the end */
    *out = f;
    return 0;
}

ssize_t np_read_from(np_fd *f, void *buf, size_t n, struct sockaddr_storage *from,
                     socklen_t *fromlen)
{
    if (fromlen)
        *fromlen = 0;
    if (!f || (!buf && n))
        return -EINVAL;
    if (n > NP_MAX_RW)
        n = NP_MAX_RW;
    int err = np__fd_lock(f, true);
    if (err)
        return err;
    ssize_t r = 0;
    f->drained = false;
    if (n == 0 && f->stream) /* a stream's zero-byte read: at once, as np_read */
        goto out;
    if ((err = np__fd_prepare(f, NP_MODE_R)) != 0) {
        r = err;
        goto out;
    }
    for (;;) {
        socklen_t len = sizeof *from;
        r = NP_SYS(recvfrom)(f->sysfd, buf, n, 0, (struct sockaddr *)from, from ? &len : NULL);
        if (r >= 0) {
            if (r == 0 && f->stream)
                r = NP_EOF;
            else if (from && fromlen)
                *fromlen = len;
            break;
        }
        if (errno == EINTR)
            continue;
        r = -errno;
        if (r != -EAGAIN || f->blocking)
            break;
        if ((err = np__fd_wait(f, NP_MODE_R)) != 0) {
            r = err;
            break;
        }
    }
out:
    np__fd_unlock(f, true);
    return r;
}

ssize_t np_write_to(np_fd *f, const void *buf, size_t n, const struct sockaddr *to, socklen_t tolen)
{
    if (!f || (!buf && n) || (!to && tolen))
        return -EINVAL;
    int err = np__fd_lock(f, false);
    if (err)
        return err;
    ssize_t r;
    if ((err = np__fd_prepare(f, NP_MODE_W)) != 0) {
        r = err;
        goto out;
    }
    for (;;) {
        r = NP_SYS(sendto)(f->sysfd, buf, n, MSG_NOSIGNAL, to, to ? tolen : 0);
        if (r >= 0)
            break;
        if (errno == EINTR)
            continue;
        r = -errno;
        if (r != -EAGAIN || f->blocking)
            break;
        if ((err = np__fd_wait(f, NP_MODE_W)) != 0) {
            r = err;
            break;
        }
    }
out:
    np__fd_unlock(f, false);
    return r;
}

#else /* NP_MACHINE: the simulated kernel has none of these system calls */

ssize_t np_readv(np_fd *f, const struct iovec *iov, int n)
{
    (void)f, (void)iov, (void)n;
    return -ENOSYS;
}
ssize_t np_writev(np_fd *f, const struct iovec *iov, int n, size_t *written)
{
    (void)f, (void)iov, (void)n;
    if (written)
        *written = 0;
    return -ENOSYS;
}
int np_listen_packet(const char *network, const char *address, np_fd **out)
{
    (void)network, (void)address, (void)out;
    return -ENOSYS;
}
ssize_t np_read_from(np_fd *f, void *buf, size_t n, struct sockaddr_storage *from,
                     socklen_t *fromlen)
{
    (void)f, (void)buf, (void)n, (void)from, (void)fromlen;
    return -ENOSYS;
}
ssize_t np_write_to(np_fd *f, const void *buf, size_t n, const struct sockaddr *to, socklen_t tolen)
{
    (void)f, (void)buf, (void)n, (void)to, (void)tolen;
    return -ENOSYS;
}

#endif

/* ---- the buffered reader ---------------------------------------------------------- */

/* The default buffer: bufio's 4096, enough for a line of a text protocol. */
#define NP_BUFREADER_SIZE 4096

struct np_bufreader {
    np_fd *f;    /* read with np_read; not owned */
    char *buf;   /* size bytes */
    size_t size; /* capacity, the longest line read_line can return */
    size_t r, w; /* the buffered bytes are buf[r, w) */
};

np_bufreader *np_bufreader_new(np_fd *f, size_t size)
{
    if (!f)
        return NULL;
    np_bufreader *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->size = size ? size : NP_BUFREADER_SIZE;
    if (!(b->buf = malloc(b->size))) {
        free(b);
        return NULL;
    }
    b->f = f;
    return b;
}

void np_bufreader_free(np_bufreader *b)
{
    if (!b)
        return;
    free(b->buf);
    free(b);
}

size_t np_bufreader_buffered(const np_bufreader *b)
{
    return b ? b->w - b->r : 0;
}

/* Moves the buffered bytes to the front, then one np_read into the free
 * room (the caller leaves some): > 0 bytes added, or its error. */
static ssize_t fill(np_bufreader *b)
{
    if (b->r > 0) {
        memmove(b->buf, b->buf + b->r, b->w - b->r);
        b->w -= b->r;
        b->r = 0;
    }
    ssize_t k = np_read(b->f, b->buf + b->w, b->size - b->w);
    if (k > 0)
        b->w += (size_t)k;
    else if (k == 0)
        k = -EIO; /* np_read returns 0 only for an empty buffer: not here */
    return k;
}

static size_t take(np_bufreader *b, void *dst, size_t n)
{
    size_t have = b->w - b->r;
    if (n > have)
        n = have;
    memcpy(dst, b->buf + b->r, n);
    b->r += n;
    return n;
}

ssize_t np_bufreader_read_line(np_bufreader *b, char *line, size_t cap)
{
    if (!b || !line || cap == 0)
        return -EINVAL;
    size_t scanned = 0; /* buffered bytes known to hold no '\n' */
    for (;;) {
        size_t have = b->w - b->r;
        char *nl = memchr(b->buf + b->r + scanned, '\n', have - scanned);
        if (nl) {
            size_t len = (size_t)(nl - (b->buf + b->r)) + 1;
            if (len > cap - 1)
                return NP_ELONGLINE;
            take(b, line, len);
            line[len] = 0;
            return (ssize_t)len;
        }
        scanned = have;
        if (scanned >= cap - 1 || scanned >= b->size)
            return NP_ELONGLINE; /* even a '\n' next would not fit */
        ssize_t k = fill(b);
        if (k == NP_EOF && scanned > 0) { /* the last line, without its '\n' */
            take(b, line, scanned);
            line[scanned] = 0;
            return (ssize_t)scanned;
        }
        if (k < 0)
            return k;
    }
}

ssize_t np_bufreader_read_exact(np_bufreader *b, void *buf, size_t n, size_t *got)
{
    if (got)
        *got = 0;
    if (!b || (!buf && n))
        return -EINVAL;
    size_t done = 0;
    while (done < n) {
        if (b->r < b->w) {
            done += take(b, (char *)buf + done, n - done);
            continue;
        }
        ssize_t k;
        if (n - done >= b->size) { /* as bufio: a large read skips the copy */
            k = np_read(b->f, (char *)buf + done, n - done);
            if (k > 0)
                done += (size_t)k;
        } else {
            k = fill(b);
        }
        if (k < 0) {
            if (got)
                *got = done;
            return k;
        }
    }
    if (got)
        *got = n;
    return (ssize_t)n;
}

ssize_t np_bufreader_read(np_bufreader *b, void *buf, size_t n)
{
    if (!b || (!buf && n))
        return -EINVAL;
    if (n == 0)
        return 0;
    if (b->r == b->w) {
        if (n >= b->size)
            return np_read(b->f, buf, n);
        ssize_t k = fill(b);
        if (k < 0)
            return k;
    }
    return (ssize_t)take(b, buf, n);
}

/* ---- name resolution -------------------------------------------------------------- */

#if NP__HAVE_RESOLVER

/* How many lookups run at once: getaddrinfo blocks its thread for a DNS
 * round trip (up to resolv.conf's timeout times its attempts when a server
 * does not answer), so a few threads keep a burst of dials moving without a
 * thread per dial. Lookups are rare next to I/O; no benchmark tuned this.
 * The threads start on demand and then stay, idle on a condition variable. */
#define NP_RESOLVER_THREADS 4

_Atomic int64_t np__resolve_delay_ns;

/* What ended a lookup (lookup.waiter), besides a task pointer. */
#define LK_DONE      ((uintptr_t)1) /* the resolver thread finished: err, res are set */
#define LK_TIMEOUT   ((uintptr_t)2) /* the dial's deadline passed first */
#define LK_ABANDONED ((uintptr_t)3) /* the runtime stopped (np__resolver_stop) */

/* One lookup, shared by the dialing task, a resolver thread and the
 * deadline timer; each holds a reference, the last one frees it.
 *
 * waiter works as a pollDesc's rg: 0, then the parked task (stored by the
 * park's commit), then one of LK_*, stored by the first of the resolver
 * thread, the timer and np__resolver_stop to get there; that one readies
 * the task if it had parked, and nobody else does. The three mark it under
 * pool.mu, so once np__resolver_stop has marked every live lookup, no
 * wake-up is half done and none follows. */
typedef struct lookup {
    struct lookup *next;                  /* [pool.mu] the queue */
    struct lookup *live_prev, *live_next; /* [pool.mu] pool.live */
    _Atomic uintptr_t waiter;             /* see above */
    _Atomic int refs;                     /* task, resolver thread, the timer while armed */
    _Atomic bool cancelled;               /* the dialer gave up: skip it if still queued */
    np_timer timer;                       /* fires at the dial's deadline */
    char host[256], port[8];              /* what to look up */
    int family, socktype;                 /* hints */
    int err;                              /* [resolver thread, before LK_DONE] 0 or an error */
    struct addrinfo *res; /* [likewise] the answer, freed with the lookup unless taken */
} lookup;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a lookup was queued */
    lookup *head, *tail; /* queued lookups, oldest first */
    lookup *live;        /* every lookup whose dialing task has not looked at the end */
    int queued;          /* queued lookups */
    int threads, idle;   /* resolver threads started; of which waiting on cv */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, 0, 0, 0};

static void lookup_unref(lookup *lk)
{
    if (atomic_fetch_sub(&lk->refs, 1) != 1)
        return;
    if (lk->res)
        freeaddrinfo(lk->res); /* a late answer nobody took */
    free(lk);
}

/* Marks how the lookup ended unless it is marked already, and readies the
 * task if it had parked (not for LK_ABANDONED: its runtime is stopping).
 * Under pool.mu. */
static void lookup_mark(lookup *lk, uintptr_t how)
{
    uintptr_t v = atomic_load(&lk->waiter);
    for (;;) {
        if (v == LK_DONE || v == LK_TIMEOUT || v == LK_ABANDONED)
            return;
        if (atomic_compare_exchange_weak(&lk->waiter, &v, how)) {
            if (v && how != LK_ABANDONED)
                np_ready((np_task *)v);
            return;
        }
    }
}

static void live_remove(lookup *lk)
{
    if (lk->live_prev)
        lk->live_prev->live_next = lk->live_next;
    else
        pool.live = lk->live_next;
    if (lk->live_next)
        lk->live_next->live_prev = lk->live_prev;
}

void np__resolver_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    for (lookup *lk = pool.live; lk; lk = lk->live_next)
        lookup_mark(lk, LK_ABANDONED);
    pthread_mutex_unlock(&pool.mu);
}

/* np_park's commit: park unless the lookup ended already. */
static bool lookup_commit(np_task *t, void *arg)
{
    lookup *lk = arg;
    uintptr_t none = 0;
    return atomic_compare_exchange_strong(&lk->waiter, &none, (uintptr_t)t);
}

static void lookup_timeout(void *arg, uintptr_t seq)
{
    (void)seq;
    lookup *lk = arg;
    pthread_mutex_lock(&pool.mu);
    lookup_mark(lk, LK_TIMEOUT);
    pthread_mutex_unlock(&pool.mu);
    lookup_unref(lk); /* the timer's */
}

/* getaddrinfo's failures as results: every failure to find the name is
 * NP_ENORESOLVE (Go folds them into one DNSError too). */
static int gai_err(int gai)
{
    switch (gai) {
    case EAI_FAMILY:
        return -EAFNOSUPPORT;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SYSTEM:
        return errno ? -errno : NP_ENORESOLVE;
    default: /* EAI_NONAME, EAI_NODATA, EAI_ADDRFAMILY, EAI_AGAIN, EAI_FAIL ... */
        return NP_ENORESOLVE;
    }
}

static void resolve(lookup *lk)
{
    int64_t delay = atomic_load(&np__resolve_delay_ns);
    if (delay > 0) { /* tests: a name service that is slow to answer */
        struct timespec ts = {delay / 1000000000, delay % 1000000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (atomic_load(&lk->cancelled)) {
        lk->err = NP_EDEADLINE;
        return;
    }
    struct addrinfo hints = {0};
    hints.ai_family = lk->family;
    hints.ai_socktype = lk->socktype;
    hints.ai_flags = AI_NUMERICSERV;
    errno = 0;
    int gai = getaddrinfo(lk->host, lk->port, &hints, &lk->res);
    if (gai == 0 && !lk->res)
        gai = EAI_NONAME;
    lk->err = gai ? gai_err(gai) : 0;
}

static void *resolver_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.head) {
            pool.idle++;
            pthread_cond_wait(&pool.cv, &pool.mu);
            pool.idle--;
        }
        lookup *lk = pool.head;
        if (!(pool.head = lk->next))
            pool.tail = NULL;
        pool.queued--;
        pthread_mutex_unlock(&pool.mu);
        resolve(lk);
        pthread_mutex_lock(&pool.mu);
        lookup_mark(lk, LK_DONE);
        pthread_mutex_unlock(&pool.mu);
        lookup_unref(lk); /* the thread's */
        pthread_mutex_lock(&pool.mu);
    }
    return NULL;
}

/* Queues lk for a resolver thread (and makes it live), starting a thread
 * if every one is busy and there are fewer than NP_RESOLVER_THREADS. 0, or
 * -errno when no thread runs and none could be started (lk is then
 * neither queued nor live). */
static int submit(lookup *lk)
{
    pthread_mutex_lock(&pool.mu);
    lk->next = NULL;
    if (pool.tail)
        pool.tail->next = lk;
    else
        pool.head = lk;
    pool.tail = lk;
    pool.queued++;
    lk->live_prev = NULL;
    if ((lk->live_next = pool.live) != NULL)
        pool.live->live_prev = lk;
    pool.live = lk;
    int err = 0;
    if (pool.queued > pool.idle && pool.threads < NP_RESOLVER_THREADS) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        err = -pthread_create(&t, &at, resolver_main, NULL);
        pthread_attr_destroy(&at);
        if (err == 0)
            pool.threads++;
        else if (pool.threads > 0)
            err = 0; /* the running ones will get to it */
    }
    if (err) { /* no thread at all: take it back out (it is the only one queued) */
        pool.head = pool.tail = NULL;
        pool.queued = 0;
        live_remove(lk);
    } else {
        pthread_cond_signal(&pool.cv);
    }
    pthread_mutex_unlock(&pool.mu);
    return err;
}

/* Looks host:port up on a resolver thread while the calling task parks,
 * until the answer or the deadline (absolute, 0 none). 0 and *res (the
 * caller frees it), or an error. */
static int lookup_host(const np__addr *a, int64_t deadline, struct addrinfo **res)
{
    if (!np_self())
        return -EPERM;
    if (deadline && deadline <= np_now())
        return NP_EDEADLINE;
    lookup *lk = calloc(1, sizeof *lk);
    if (!lk)
        return -ENOMEM;
    memcpy(lk->host, a->name, sizeof lk->host);
    memcpy(lk->port, a->port, sizeof lk->port);
    lk->family = a->family;
    lk->socktype = a->socktype;
    lk->timer = (np_timer)NP_TIMER_INIT;
    atomic_init(&lk->waiter, 0);
    atomic_init(&lk->cancelled, false);
    atomic_init(&lk->refs, deadline ? 3 : 2);
    int err = submit(lk);
    if (err) {
        free(lk);
        return err;
    }
    if (deadline)
        np__timer_set(&lk->timer, deadline, lookup_timeout, lk, 0);
    np_park(lookup_commit, lk); /* returns at once if the lookup ended already */
    pthread_mutex_lock(&pool.mu);
    live_remove(lk);
    pthread_mutex_unlock(&pool.mu);
    uintptr_t how = atomic_load(&lk->waiter);
    if (how == LK_ABANDONED) /* the runtime is stopping under us: no timer to */
        return -ECANCELED;   /* touch, the lookup keeps our reference (a leak) */
    if (deadline && np__timer_del(&lk->timer))
        lookup_unref(lk); /* the timer's: it will not fire (else it drops it itself) */
    if (how == LK_TIMEOUT) {
        atomic_store(&lk->cancelled, true); /* still queued: skipped */
        lookup_unref(lk);                   /* the late answer goes with the last reference */
        return NP_EDEADLINE;
    }
    err = lk->err;
    *res = lk->res;
    lk->res = NULL;
    lookup_unref(lk);
    return err;
}

int np__dial_name(const np__addr *a, int64_t deadline, np_fd **out)
{
    struct addrinfo *res = NULL;
    int err = lookup_host(a, deadline, &res);
    if (err)
        return err;
    int first = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        np__addr b = {0};
        memcpy(&b.ss, ai->ai_addr, ai->ai_addrlen);
        b.len = ai->ai_addrlen;
        b.family = ai->ai_family;
        b.socktype = a->socktype;
        err = np__dial_addr(&b, deadline, out);
        if (err == 0)
            break;
        if (!first)
            first = err; /* as Go: the first address's error is the one reported */
        if (err == NP_EDEADLINE)
            break;
    }
    freeaddrinfo(res);
    return err == 0 ? 0 : first ? first : NP_ENORESOLVE;
}

#else /* the sim builds: np__parse_addr never says NP__ENAME there */

int np__dial_name(const np__addr *a, int64_t deadline, np_fd **out)
{
    (void)a, (void)deadline, (void)out;
    return -EINVAL;
}

void np__resolver_stop(void) {}

#endif
