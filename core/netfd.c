/* core/netfd.c - network descriptors (Go: internal/poll/fd_unix.go and
 * net/fd_unix.go): non-blocking syscalls, EAGAIN -> wait on the pollDesc,
 * the fdMutex for lifetime and serialisation, and close that waits until the
 * kernel descriptor is really gone. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fatal.h"
#include "fd_mutex.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "netfd.h"
#include "poll_desc.h"
#include "sema.h"
#include "seam.h"

const char *np_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case NP_EOF:
        return "end of stream";
    case NP_ECLOSED:
        return "use of closed network connection";
    case NP_EDEADLINE:
        return "i/o deadline exceeded";
    case NP_ENOTPOLLABLE:
        return "not pollable";
    case NP_ENODEADLINE:
        return "file type does not support deadline";
    case NP_ENORESOLVE:
        return "no such host (the name could not be resolved)";
    case NP_ELONGLINE:
        return "line longer than the limit";
    case -4103: /* NP_ECHANCLOSED (netpoll/sync.h) */
        return "channel closed";
    case -EPERM:
        /* netpoll's own -EPERM: a call that has to wait, made from a plain
         * thread (np_poll_wait, np_sleep, a dial's look-up). The kernel's EPERM
         * (a firewall rule refusing a send, say) reads the same, hence both
         * halves of the message. */
        return "operation not permitted (from a call that waits: this call must run inside a "
               "task (np_go/np_main))";
    default:
        return err < 0 && err > -4096 ? strerror(-err) : "unknown error";
    }
}

/* ---- lifetime ---------------------------------------------------------------- */

/* Run by whoever drops the last reference after close.
 *
 * The poller registration goes with the close(2) below when netpoll made the
 * socket and never gave its number out (np_fd_sysfd): no dup of it can
 * exist, so that close(2) drops the last reference to the open file
 * description, and with it the epoll registration; the backend may skip its
 * EPOLL_CTL_DEL (netpoll/backend.h, backend_epoll/epoll.c). An np_fd_wrap'd
 * descriptor, or one whose number the caller had, keeps the DEL: the caller
 * may hold a dup, which would keep the registration (and its events) alive.
 * A fork without exec also keeps one; its events are then dropped as stale
 * (the pollDesc's incarnation moved on), as they would be if fetched just
 * before a DEL. */
static void fd_destroy(np_fd *f)
{
    if (f->pd)
        np__poll_close(f->pd, f->own && !NP_RT_LOADX(&f->exposed, memory_order_relaxed));
    f->pd = NULL;
    if (f->unlink_path)
        NP_SYS(unlink)(f->unlink_path);
    NP_SYS(close)(f->sysfd); /* on Linux the fd is released even if this says EINTR */
    f->sysfd = -1;
    np__sema_release(&f->csema); /* np_close may return now */
}

static np_fd *fd_new(int sysfd, bool socket_)
{
    np_fd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    np__fdmu_init(&f->mu);
    np__sema_init(&f->csema);
    f->sysfd = sysfd;
    f->is_socket = socket_;
    f->stream = true;
    atomic_init(&f->handles, 1);
    atomic_init(&f->exposed, false);
    return f;
}

static void fd_free(np_fd *f)
{
    np__fdmu_destroy(&f->mu);
    np__sema_destroy(&f->csema);
    free(f->unlink_path);
    free(f);
}

/* Registers a non-blocking sysfd with the poller; on EPERM (a regular file)
 * falls back to blocking mode. Takes ownership of sysfd in both outcomes.
 * own: netpoll made sysfd (f->own); tcp: and it is a TCP socket (f->tcp). */
static int fd_init(int sysfd, bool socket_, bool own, bool tcp, np_fd **out)
{
    np_fd *f = fd_new(sysfd, socket_);
    if (!f) {
        NP_SYS(close)(sysfd);
        return -ENOMEM;
    }
    int err = np_poll_open(sysfd, &f->pd);
    if (err == -EPERM) {
        f->pd = NULL;
        f->blocking = true;
        int fl = NP_SYS(fcntl)(sysfd, F_GETFL);
        if (fl >= 0)
            NP_SYS(fcntl)(sysfd, F_SETFL, fl & ~O_NONBLOCK);
        err = 0;
    }
    if (err) {
        NP_SYS(close)(sysfd);
        fd_free(f);
        return err;
    }
    f->own = own;
    f->tcp = own && tcp && !f->blocking && np__backend()->reports_hangup;
    *out = f;
    return 0;
}

/* Closes f and waits until the kernel descriptor is gone: 0, or NP_ECLOSED
 * if someone closed it before (then it may still be closing). */
static int close_wait(np_fd *f)
{
    int err = np__fdmu_close(&f->mu);
    if (err)
        return err;
    if (f->pd)
        np_poll_unblock(f->pd); /* wakes blocked readers and writers: closing */
    if (np__fdmu_decref(&f->mu))
        fd_destroy(f);
    np__sema_acquire(&f->csema); /* until the last call using it has left */
    np__sema_release(&f->csema); /* let any other closer through as well */
    return 0;
}

int np_fd_retain(np_fd *f)
{
    if (!f)
        return -EINVAL;
    if (NP_RT_FADD(&f->handles, 1) == 0)
        np__fatal("np_fd_retain: descriptor %p has no handle left (used after release)", (void *)f);
    return 0;
}

/* Drops one handle; the last one closes (if need be) and frees. */
static void release(np_fd *f)
{
    if (NP_RT_FSUB(&f->handles, 1) != 1)
        return;
    close_wait(f); /* NP_ECLOSED if already closed: either way it is gone now */
    np__sema_acquire(&f->csema);
    fd_free(f);
}

int np_fd_release(np_fd *f)
{
    if (!f)
        return -EINVAL;
    release(f);
    return 0;
}

int np_close(np_fd *f)
{
    if (!f)
        return -EINVAL;
    int err = close_wait(f);
    release(f);
    return err;
}

/* ---- locking helpers ----------------------------------------------------------- */

static int lock(np_fd *f, bool read)
{
    bool destroy;
    int err = np__fdmu_rwlock(&f->mu, read, &destroy);
    if (destroy)
        fd_destroy(f);
    return err;
}

static void unlock(np_fd *f, bool read)
{
    if (np__fdmu_rwunlock(&f->mu, read))
        fd_destroy(f);
}

static int ref(np_fd *f)
{
    return np__fdmu_incref(&f->mu);
}

static void unref(np_fd *f)
{
    if (np__fdmu_decref(&f->mu))
        fd_destroy(f);
}

/* A pollDesc result as a descriptor error. */
static int poll_err(int res)
{
    switch (res) {
    case NP_POLL_OK:
        return 0;
    case NP_POLL_CLOSING:
        return NP_ECLOSED;
    case NP_POLL_TIMEOUT:
        return NP_EDEADLINE;
    case NP_POLL_NOTPOLLABLE:
        return NP_ENOTPOLLABLE;
    default:
        return res < 0 ? res : -EIO;
    }
}

static int prepare(np_fd *f, int mode)
{
    return f->blocking ? 0 : poll_err(np_poll_reset(f->pd, mode));
}

static int wait_io(np_fd *f, int mode)
{
    return poll_err(np_poll_wait(f->pd, mode));
}

/* One read(2), EINTR retried: > 0 bytes, NP_EOF (or 0 if not a stream) at
 * end of stream, or -errno (-EAGAIN included). */
static ssize_t sys_read(np_fd *f, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = NP_SYS(read)(f->sysfd, buf, n);
        if (r > 0)
            return r;
        if (r == 0)
            return f->stream ? NP_EOF : 0;
        if (errno != EINTR)
            return -errno;
    }
}

/* Whether np_read may skip its read after a short one (see there). */
static bool may_skip(np_fd *f)
{
    return f->tcp && !NP_RT_LOADX(&f->exposed, memory_order_relaxed);
}

/* ---- read / write --------------------------------------------------------------- */

/* Skipping the read that would say EAGAIN. A short read on a TCP socket
 * (fewer bytes than asked) ends because the receive queue ran dry: tcp_recvmsg
 * stops early only there, at an urgent mark, or at a FIN it consumes (or at a
 * buffer it cannot write: the caller's bug), and a socket error or a shutdown
 * also make the next read return at once. So when the previous read was
 * short (f->drained) the next one normally says EAGAIN, and np_read goes
 * straight to the wait that EAGAIN leads to: one system call less per
 * request of a request/response protocol. It may only do so if that wait
 * cannot miss what the read would have returned:
 *
 *  - Bytes queued after the short read raise a new edge (EPOLLET: every
 *    in-order arrival calls sk_data_ready), which the poller can only fetch
 *    and deliver (rg READY) after the short read. The next reset must not
 *    discard that: np__poll_reset_read says idle only if it found rg NIL,
 *    i.e. nothing was delivered since the last wait or reset before the
 *    short read; otherwise np_read reads first, as always. After an idle
 *    reset, a delivery still to come leaves rg READY for the wait.
 *  - An urgent mark, a FIN, an error or a shutdown may precede the short read
 *    with no edge after it: a request sent with its FIN is read short, and
 *    the next read returns EOF. Each of them woke the socket's wait queue,
 *    and the poll that fetched that edge saw it in the socket's state
 *    (EPOLLPRI, EPOLLRDHUP, EPOLLERR, EPOLLHUP: all kept until a read gets
 *    past them). The poller turns that into NP_INFO_HANGUP (never cleared for
 *    this incarnation) before it unblocks rg, so the idle reset sees the bit,
 *    or that delivery comes after the reset and wakes the wait. With the bit
 *    set, reads are never skipped.
 *
 * So only netpoll's own TCP sockets qualify (f->tcp): not unix stream sockets
 * (a read stops after an SCM_RIGHTS message or at a change of sender
 * credentials, with more queued), not np_fd_wrap'd descriptors (any file
 * type, options and dups unknown), and not once np_fd_sysfd gave the number
 * out (SO_RCVLOWAT, say, ends reads short of the data queued and silences
 * the edges). Blocking descriptors never wait on a pollDesc at all.
 *
 * The outcomes are the old ones. The reset runs first, as before: an expired
 * deadline, a close or an error event fail the read at once, without a system
 * call. A zero-byte read returns before anything. EOF and errors still come
 * from read(2), after the wait. If the wait fails (the deadline passes, a
 * close, an error event), np_read does the skipped read after all and returns
 * its bytes, EOF or error, and the wait's error only if it says EAGAIN: bytes
 * that had arrived but not yet been reported by the poller are returned as the
 * read-first order returned them. What remains is timing: such bytes now wait
 * for the poller (a park and a poll instead of the saved read), and a read
 * may then return more of them.
 *
 * The recorder sees the usual pollDesc steps, reset then wait, as after an
 * EAGAIN; the skipped read(2) was never part of a trace. tests/test_net.c
 * ("after_a_short_read_*") checks each case above against a read-first
 * np_read's results. */
ssize_t np_read(np_fd *f, void *buf, size_t n)
{
    if (!f || (!buf && n))
        return -EINVAL;
    int err = lock(f, true);
    if (err)
        return err;
    ssize_t r = 0;
    if (n == 0) /* at once, as Go does: no syscall; drained stays as it is */
        goto out;
    if (n > NP_MAX_RW)
        n = NP_MAX_RW;
    bool skip = false;
    if (f->drained && may_skip(f))
        err = poll_err(np__poll_reset_read(f->pd, &skip));
    else
        err = prepare(f, NP_MODE_R);
    f->drained = false;
    if (err) {
        r = err;
        goto out;
    }
    if (skip && (err = wait_io(f, NP_MODE_R)) != 0) {
        r = sys_read(f, buf, n); /* the read that was skipped (see above) */
        if (r == -EAGAIN)
            r = err;
        goto done;
    }
    for (;;) {
        r = sys_read(f, buf, n);
        if (r != -EAGAIN || f->blocking)
            break;
        if ((err = wait_io(f, NP_MODE_R)) != 0) {
            r = err;
            break;
        }
    }
done:
    /* Set only by a short read; EAGAIN, EOF, an error or a full buffer
     * leave it clear. */
    f->drained = r > 0 && (size_t)r < n && may_skip(f);
out:
    unlock(f, true);
    return r;
}

ssize_t np_write(np_fd *f, const void *buf, size_t n, size_t *written)
{
    if (written)
        *written = 0;
    if (!f || (!buf && n))
        return -EINVAL;
    int err = lock(f, false);
    if (err)
        return err;
    size_t done = 0;
    ssize_t r = 0;
    if ((err = prepare(f, NP_MODE_W)) != 0) {
        r = err;
        goto out;
    }
    while (done < n) {
        size_t chunk = n - done > NP_MAX_RW ? NP_MAX_RW : n - done;
        ssize_t k = f->is_socket
                        ? NP_SYS(send)(f->sysfd, (const char *)buf + done, chunk, MSG_NOSIGNAL)
                        : NP_SYS(write)(f->sysfd, (const char *)buf + done, chunk);
        if (k > 0) {
            done += (size_t)k; /* partial writes accumulate */
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN && !f->blocking) {
            if ((err = wait_io(f, NP_MODE_W)) == 0)
                continue;
            r = err;
            break;
        }
        r = k < 0 ? -errno : -EIO; /* 0 bytes for a non-empty write: give up */
        break;
    }
    if (r == 0)
        r = (ssize_t)done;
out:
    if (written)
        *written = done;
    unlock(f, false);
    return r;
}

/* ---- deadlines ------------------------------------------------------------------ */

static int set_deadline(np_fd *f, int64_t at, int mode)
{
    if (!f)
        return -EINVAL;
    int err = ref(f);
    if (err)
        return err;
    err = f->blocking ? NP_ENODEADLINE : np_poll_set_deadline(f->pd, at, mode);
    unref(f);
    return err;
}

int np_set_deadline(np_fd *f, int64_t at)
{
    return set_deadline(f, at, NP_MODE_RW);
}
int np_set_read_deadline(np_fd *f, int64_t at)
{
    return set_deadline(f, at, NP_MODE_R);
}
int np_set_write_deadline(np_fd *f, int64_t at)
{
    return set_deadline(f, at, NP_MODE_W);
}

/* ---- addresses ------------------------------------------------------------------ */

/* Parses (network, address) into a socket address; flags NP__ADDR_* (netfd.h). */
static int parse_addr(const char *network, const char *address, np__addr *a, int flags)
{
    if (!network || !address)
        return -EINVAL;
    memset(a, 0, sizeof *a);
    a->socktype = SOCK_STREAM;
    if (!strcmp(network, "unix")) {
        struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
        size_t len = strlen(address);
        if (len == 0)
            return -EINVAL;
        if (len >= sizeof un->sun_path)
            return -ENAMETOOLONG;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, address, len + 1);
        a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        a->family = AF_UNIX;
        return 0;
    }
    int family;
    const char *ip = network;
    if ((flags & NP__ADDR_UDP) && !strncmp(network, "udp", 3)) {
        a->socktype = SOCK_DGRAM;
        ip = network + 3;
    } else if (!strncmp(network, "tcp", 3)) {
        ip = network + 3;
    } else {
        return -EAFNOSUPPORT;
    }
    if (!strcmp(ip, ""))
        family = AF_UNSPEC;
    else if (!strcmp(ip, "4"))
        family = AF_INET;
    else if (!strcmp(ip, "6"))
        family = AF_INET6;
    else
        return -EAFNOSUPPORT;
    /* HOST:PORT or [HOST]:PORT; the port is after the last colon. */
    const char *colon = strrchr(address, ':');
    if (!colon)
        return -EINVAL;
    char host[256];
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return -EINVAL; /* an IPv6 host needs brackets */
    }
    if (hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    const char *port = colon + 1;
    if (!*port || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535)
        return -EINVAL;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = family;
    hints.ai_socktype = a->socktype;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if ((flags & NP__ADDR_NAMES) || strcmp(host, "localhost") != 0)
        hints.ai_flags |= AI_NUMERICHOST; /* no name service lookups on this thread */
    int gai = getaddrinfo(hlen ? host : NULL, port, &hints, &res);
    if (gai == EAI_NONAME && (flags & NP__ADDR_NAMES) && hlen) {
        /* Not a numeric address: a name, for the resolver's threads. */
        memcpy(a->name, host, hlen + 1);
        snprintf(a->port, sizeof a->port, "%ld", atol(port));
        a->family = family;
        return NP__ENAME;
    }
    if (gai != 0 || !res)
        return gai == EAI_FAMILY || gai == EAI_ADDRFAMILY ? -EAFNOSUPPORT : -EINVAL;
    memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    a->family = res->ai_family;
    freeaddrinfo(res);
    return 0;
}

static int format_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    int w;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        w = snprintf(buf, n, "%s:%u", host, ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        w = snprintf(buf, n, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        size_t plen = len > offsetof(struct sockaddr_un, sun_path)
                          ? strnlen(un->sun_path, len - offsetof(struct sockaddr_un, sun_path))
                          : 0;
        w = snprintf(buf, n, "%.*s", (int)plen, un->sun_path);
    } else {
        return -EAFNOSUPPORT;
    }
    return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

static int get_addr(np_fd *f, char *buf, size_t n, bool peer)
{
    if (!f || !buf || !n)
        return -EINVAL;
    int err = ref(f);
    if (err)
        return err;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int r = peer ? NP_SYS(getpeername)(f->sysfd, (struct sockaddr *)&ss, &len)
                 : NP_SYS(getsockname)(f->sysfd, (struct sockaddr *)&ss, &len);
    err = r == 0 ? format_addr(&ss, len, buf, n) : -errno;
    unref(f);
    return err;
}

int np_local_addr(np_fd *f, char *buf, size_t len)
{
    return get_addr(f, buf, len, false);
}
int np_remote_addr(np_fd *f, char *buf, size_t len)
{
    return get_addr(f, buf, len, true);
}

/* ---- listen / accept / dial ----------------------------------------------------- */

static int new_socket(int family, int socktype)
{
    int s = NP_SYS(socket)(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return s < 0 ? -errno : s;
}

int np_listen(const char *network, const char *address, int backlog, np_fd **out)
{
    if (!out)
        return -EINVAL;
    np__addr a;
    int err = parse_addr(network, address, &a, 0);
    if (err)
        return err;
    int s = new_socket(a.family, a.socktype);
    if (s < 0)
        return s;
    int one = 1;
    if (a.family != AF_UNIX) { /* as Go: rebind a port in TIME_WAIT at once, */
        NP_SYS(setsockopt)(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* and no Nagle: TCP_NODELAY, which Linux copies to every accepted
         * connection (Go sets it on each; one call here does the same) */
        NP_SYS(setsockopt)(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (a.family == AF_INET6 && !strcmp(network, "tcp6"))
        NP_SYS(setsockopt)(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (NP_SYS(bind)(s, (struct sockaddr *)&a.ss, a.len) != 0 ||
        NP_SYS(listen)(s, backlog > 0 ? backlog : SOMAXCONN) != 0) {
        err = -errno;
        NP_SYS(close)(s);
        return err;
    }
    np_fd *f;
    if ((err = fd_init(s, true, true, a.family != AF_UNIX, &f)) != 0) {
        if (a.family == AF_UNIX)
            NP_SYS(unlink)(((struct sockaddr_un *)&a.ss)->sun_path);
        return err;
    }
    if (a.family == AF_UNIX)
        f->unlink_path = strdup(((struct sockaddr_un *)&a.ss)->sun_path);
    *out = f;
    return 0;
}

int np_accept(np_fd *l, np_fd **out)
{
    if (!l || !out)
        return -EINVAL;
    int err = lock(l, true);
    if (err)
        return err;
    int s = -1;
    if ((err = prepare(l, NP_MODE_R)) != 0)
        goto out;
    for (;;) {
        s = NP_SYS(accept4)(l->sysfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0)
            break;
        if (errno == EINTR || errno == ECONNABORTED)
            continue; /* a connection reset while queued: take the next */
        if (errno == EAGAIN && !l->blocking) {
            if ((err = wait_io(l, NP_MODE_R)) == 0)
                continue;
            break;
        }
        err = -errno;
        break;
    }
out:
    unlock(l, true);
    if (s < 0)
        return err;
    /* A TCP listener's connections are TCP; they inherit its options, so
     * not if its number was given out. */
    return fd_init(s, true, true, may_skip(l), out);
}

/* After a non-blocking connect: wait until it is really established. A
 * wake-up alone proves nothing (the registration's own edge, a spurious
 * event), so each is confirmed with SO_ERROR and then getpeername. */
static int finish_connect(np_fd *f)
{
    for (;;) {
        int err = wait_io(f, NP_MODE_W);
        if (err)
            return err;
        int so = 0;
        socklen_t len = sizeof so;
        if (NP_SYS(getsockopt)(f->sysfd, SOL_SOCKET, SO_ERROR, &so, &len) != 0)
            return -errno;
        if (so == EINPROGRESS || so == EALREADY || so == EINTR)
            continue;
        if (so == EISCONN)
            return 0;
        if (so != 0)
            return -so;
        struct sockaddr_storage peer;
        len = sizeof peer;
        if (NP_SYS(getpeername)(f->sysfd, (struct sockaddr *)&peer, &len) == 0)
            return 0;
        if (errno != ENOTCONN)
            return -errno;
    }
}

/* Dials one address: np_dial's connect, and each try of np__dial_name. */
int np__dial_addr(const np__addr *a, int64_t deadline, np_fd **out)
{
    int s = new_socket(a->family, a->socktype);
    if (s < 0)
        return s;
    np_fd *f;
    bool tcp = a->family != AF_UNIX && a->socktype == SOCK_STREAM;
    if (tcp) { /* Go's default: TCP_NODELAY (np_set_nodelay(f, 0) undoes it) */
        int one = 1;
        NP_SYS(setsockopt)(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int err = fd_init(s, true, true, tcp, &f);
    if (err)
        return err;
    if (a->socktype == SOCK_DGRAM)
        f->stream = false; /* an empty datagram is no end of stream */
    if (deadline && !f->blocking)
        np_poll_set_deadline(f->pd, deadline, NP_MODE_W);
    if (NP_SYS(connect)(f->sysfd, (const struct sockaddr *)&a->ss, a->len) == 0) {
        err = 0;
    } else if (errno == EINPROGRESS || errno == EALREADY || errno == EINTR) {
        err = f->blocking ? -errno : finish_connect(f);
    } else if (errno == EISCONN) {
        err = 0;
    } else {
        err = -errno;
    }
    if (deadline && !f->blocking)
        np_poll_set_deadline(f->pd, 0, NP_MODE_W);
    if (err) {
        np_close(f);
        return err;
    }
    *out = f;
    return 0;
}

int np_dial(const char *network, const char *address, int64_t timeout, np_fd **out)
{
    if (!out || timeout < 0)
        return -EINVAL;
    /* One deadline for the whole dial: the look-up, then every connect. */
    int64_t deadline = timeout > 0 ? np_deadline_after(timeout) : 0;
    np__addr a;
    int err =
        parse_addr(network, address, &a, NP__ADDR_UDP | (NP__HAVE_RESOLVER ? NP__ADDR_NAMES : 0));
    if (err == NP__ENAME)
        return np__dial_name(&a, deadline, out);
    if (err)
        return err;
    return np__dial_addr(&a, deadline, out);
}

int np_fd_wrap(int sysfd, np_fd **out)
{
    if (sysfd < 0)
        return -EBADF;
    if (!out)
        return -EINVAL;
    int fl = NP_SYS(fcntl)(sysfd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && NP_SYS(fcntl)(sysfd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -errno;
    struct stat st;
    bool sock = NP_SYS(fstat)(sysfd, &st) == 0 && S_ISSOCK(st.st_mode);
    return fd_init(sysfd, sock, false, false, out);
}

int np_fd_sysfd(np_fd *f)
{
    if (!f)
        return -EINVAL;
    int err = ref(f);
    if (err)
        return err;
    /* Before the number is out: from now on np_read never skips a read, and
     * fd_destroy keeps the EPOLL_CTL_DEL (the caller may make a dup). */
    NP_RT_STOREX(&f->exposed, true, memory_order_relaxed);
    int s = f->sysfd;
    unref(f);
    return s;
}

int np_set_nodelay(np_fd *f, int on)
{
    if (!f)
        return -EINVAL;
    int err = ref(f);
    if (err)
        return err;
    int v = on != 0;
    err = NP_SYS(setsockopt)(f->sysfd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 ? 0 : -errno;
    unref(f);
    return err;
}

int np_shutdown(np_fd *f, int how)
{
    if (!f)
        return -EINVAL;
    int sh = how == NP_MODE_R    ? SHUT_RD
             : how == NP_MODE_W  ? SHUT_WR
             : how == NP_MODE_RW ? SHUT_RDWR
                                 : -1;
    if (sh < 0)
        return -EINVAL;
    int err = ref(f);
    if (err)
        return err;
    err = NP_SYS(shutdown)(f->sysfd, sh) == 0 ? 0 : -errno;
    unref(f);
    return err;
}

/* ---- for core/net_more.c (core/netfd.h) ------------------------------------------ */

int np__parse_addr(const char *network, const char *address, np__addr *a, int flags)
{
    return parse_addr(network, address, a, flags);
}
int np__fd_init(int sysfd, bool socket_, bool own, bool tcp, np_fd **out)
{
    return fd_init(sysfd, socket_, own, tcp, out);
}
int np__fd_lock(np_fd *f, bool read)
{
    return lock(f, read);
}
void np__fd_unlock(np_fd *f, bool read)
{
    unlock(f, read);
}
int np__fd_prepare(np_fd *f, int mode)
{
    return prepare(f, mode);
}
int np__fd_wait(np_fd *f, int mode)
{
    return wait_io(f, mode);
}
