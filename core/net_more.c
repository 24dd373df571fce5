/* core/net_more.c - more of the descriptor layer, on netfd.c's rules
 * (core/netfd.h): vectored I/O (Go: internal/poll.FD.Writev), datagrams
 * (net.ListenPacket, ReadFrom/WriteTo) and a buffered reader (bufio.Reader).
 *
 * Which build has what. The vectored and datagram calls use system calls
 * the simulated machine does not have (readv, sendmsg, recvfrom, sendto):
 * live and sim-world builds only, -ENOSYS in the machine build. The
 * buffered reader is plain code over np_read: every build. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netfd.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
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
