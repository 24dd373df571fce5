/* backend_sim/machine/mnet.c - the simulated kernel: in-memory TCP-like
 * stream sockets and an edge-triggered poller (the machine's backend).
 *
 * What netfd.c and the scheduler see, as on Linux: socket, bind, listen,
 * a non-blocking connect that says EINPROGRESS and completes with a
 * writable edge, accept4, read and send with EAGAIN on an empty receive
 * queue or a full peer buffer, shutdown, close with a FIN (or a reset when
 * unread bytes are dropped), SO_ERROR. Readiness is edge-triggered: every
 * arrival, every freed buffer, a FIN, a reset and a queued connection mark
 * the socket ready for the direction it concerns, once, until the poller
 * hands the record out (as EPOLLET does); a registration reports the
 * readiness the socket already has. The poller blocks its simulated thread
 * until a record is queued, a break is pending or the virtual clock reaches
 * its timeout; a break pending makes the next blocking poll return (a look
 * with delay 0 leaves it pending), as the epoll backend's eventfd does.
 * Each record says `hangup` when the socket has a FIN, a reset or a
 * shutdown of its reading side pending, as EPOLLRDHUP/HUP/ERR do, so the
 * read skipping of netfd.c (reports_hangup) runs on the machine as live.
 *
 * Descriptors are never reused in an execution: a system call on one that
 * was closed is the runtime using a descriptor after its close returned,
 * which the real kernel would silently apply to whatever got the number
 * next. It is a finding.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "mach.h"
#include "poll_desc.h"
#include "seam.h"

#define MN_MAX_SOCKS 64
#define MN_FD_BASE   100
#define MN_MAX_BUF   4096
#define MN_BACKLOG   8

enum { SK_FREE, SK_PENDING, SK_OPEN, SK_CLOSED };
enum { K_NEW, K_LISTEN, K_CONN };

typedef struct msock {
    int state;      /* SK_* */
    int kind;       /* K_* */
    int port;       /* bound (listener) or local port */
    int rport;      /* the peer's port (connections) */
    int peer;       /* the other end's slot (connections), -1 none */
    bool peer_gone; /* the peer closed */
    bool rd_eof;    /* the peer sent its FIN: reads return 0 once drained */
    bool wr_shut;   /* shutdown(SHUT_WR) done here */
    bool rd_shut;   /* shutdown(SHUT_RD) done here */
    bool reset;     /* a reset arrived: the next read says ECONNRESET */
    int so_error;   /* SO_ERROR, cleared when read */
    /* the poller's registration */
    bool registered;
    struct np_poll_desc *pd;
    uint32_t tag;
    uint8_t pend; /* NP_EV_* not yet handed out */
    bool queued;  /* in the ready queue */
    /* the receive queue */
    unsigned len;
    unsigned char buf[MN_MAX_BUF];
    /* listener: connections not accepted yet (slots) */
    int acq[MN_BACKLOG];
    int nacq;
} msock;

static struct {
    msock s[MN_MAX_SOCKS];
    int n;                   /* slots used */
    int ready[MN_MAX_SOCKS]; /* the ready queue: slots, FIFO */
    int rhead, rlen;
    bool brk;     /* a break is pending */
    unsigned cap; /* receive buffer bytes */
    int next_port;
} N = {.cap = 64};

void mx_block_poll(int64_t until);

void mnet_set_capacity(unsigned bytes)
{
    N.cap = bytes == 0 ? 64 : bytes > MN_MAX_BUF ? MN_MAX_BUF : bytes;
}

void mnet_reset(void)
{
    for (int i = 0; i < N.n; i++)
        N.s[i].state = SK_FREE;
    N.n = 0;
    N.rhead = N.rlen = 0;
    N.brk = false;
    N.next_port = 40000;
}

bool mnet_poll_ready(void)
{
    return N.rlen > 0 || N.brk;
}

unsigned mnet_open_fds(void)
{
    unsigned n = 0;
    for (int i = 0; i < N.n; i++)
        n += N.s[i].state == SK_OPEN;
    return n;
}

uint64_t mnet_hash(uint64_t h)
{
    for (int i = 0; i < N.n; i++) {
        const msock *s = &N.s[i];
        uint64_t v = (uint64_t)s->state | (uint64_t)s->len << 8 | (uint64_t)s->pend << 24 |
                     (uint64_t)s->rd_eof << 32 | (uint64_t)s->reset << 33 |
                     (uint64_t)s->registered << 34 | (uint64_t)s->nacq << 40;
        h = (h ^ v) * 0x100000001b3ull;
    }
    return (h ^ (uint64_t)N.rlen ^ (uint64_t)N.brk << 16) * 0x100000001b3ull;
}

/* ---- readiness ------------------------------------------------------------------- */

static void mark(int i, uint8_t mode)
{
    msock *s = &N.s[i];
    if (s->state != SK_OPEN || !s->registered)
        return;
    s->pend |= mode;
    if (!s->queued) {
        s->queued = true;
        N.ready[(N.rhead + N.rlen++) % MN_MAX_SOCKS] = i;
    }
}

static void unqueue(int i)
{
    msock *s = &N.s[i];
    if (!s->queued)
        return;
    int k = 0;
    for (int j = 0; j < N.rlen; j++) {
        int x = N.ready[(N.rhead + j) % MN_MAX_SOCKS];
        if (x != i)
            N.ready[(N.rhead + k++) % MN_MAX_SOCKS] = x;
    }
    N.rlen = k;
    s->queued = false;
    s->pend = 0;
}

static bool readable(const msock *s)
{
    if (s->kind == K_LISTEN)
        return s->nacq > 0;
    return s->kind == K_CONN && (s->len > 0 || s->rd_eof || s->reset || s->rd_shut);
}

static bool writable(const msock *s)
{
    if (s->kind != K_CONN)
        return false;
    if (s->reset || s->peer_gone || s->peer < 0)
        return true; /* a write fails at once */
    return N.s[s->peer].len < N.cap;
}

/* ---- descriptors ------------------------------------------------------------------- */

static int new_sock(int state)
{
    if (N.n == MN_MAX_SOCKS)
        return -1;
    int i = N.n++;
    msock *s = &N.s[i];
    memset(s, 0, offsetof(msock, buf));
    s->state = state;
    s->peer = -1;
    s->nacq = 0;
    return i;
}

/* The socket behind fd: NULL with errno EBADF. A descriptor closed before
 * is a finding (see above). */
static msock *sock(int fd, const char *call)
{
    int i = fd - MN_FD_BASE;
    if (fd == -1)
        mx_fail("use-after-close", NULL, 0,
                "%s(-1): the descriptor was destroyed before (the runtime used it after its "
                "close)",
                call);
    if (i < 0 || i >= N.n || N.s[i].state == SK_FREE || N.s[i].state == SK_PENDING) {
        errno = EBADF;
        return NULL;
    }
    if (N.s[i].state == SK_CLOSED)
        mx_fail("use-after-close", NULL, 0,
                "%s(%d): the descriptor was closed before (the runtime used it after its close)",
                call, fd);
    return &N.s[i];
}

#define SYSPT(fd) NP_RT_PT(NP_PT_SYS, (const void *)(intptr_t)(fd))

static int fail(int e)
{
    errno = e;
    return -1;
}

int np__msys_socket(int family, int type, int proto)
{
    (void)proto;
    SYSPT(0);
    if (family != AF_INET || (type & 0xf) != SOCK_STREAM)
        return fail(EAFNOSUPPORT); /* the machine has IPv4 stream sockets */
    int i = new_sock(SK_OPEN);
    if (i < 0)
        return fail(EMFILE);
    N.s[i].kind = K_NEW;
    return MN_FD_BASE + i;
}

int np__msys_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
    (void)level, (void)name, (void)v, (void)len;
    SYSPT(fd);
    return sock(fd, "setsockopt") ? 0 : -1;
}

int np__msys_getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
    SYSPT(fd);
    msock *s = sock(fd, "getsockopt");
    if (!s)
        return -1;
    if (level != SOL_SOCKET || name != SO_ERROR || *len < sizeof(int))
        return fail(ENOPROTOOPT);
    *(int *)v = s->so_error;
    *len = sizeof(int);
    s->so_error = 0;
    return 0;
}

static int port_of(const struct sockaddr *a, socklen_t len)
{
    if (len < sizeof(struct sockaddr_in) || a->sa_family != AF_INET)
        return -1;
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

static int find_listener(int port)
{
    for (int i = 0; i < N.n; i++)
        if (N.s[i].state == SK_OPEN && N.s[i].kind == K_LISTEN && N.s[i].port == port)
            return i;
    return -1;
}

int np__msys_bind(int fd, const struct sockaddr *a, socklen_t len)
{
    SYSPT(fd);
    msock *s = sock(fd, "bind");
    if (!s)
        return -1;
    int port = port_of(a, len);
    if (port < 0)
        return fail(EINVAL);
    if (port == 0)
        port = N.next_port++;
    if (find_listener(port) >= 0)
        return fail(EADDRINUSE);
    s->port = port;
    return 0;
}

int np__msys_listen(int fd, int backlog)
{
    (void)backlog;
    SYSPT(fd);
    msock *s = sock(fd, "listen");
    if (!s)
        return -1;
    if (s->kind != K_NEW || !s->port)
        return fail(EINVAL);
    s->kind = K_LISTEN;
    return 0;
}

int np__msys_connect(int fd, const struct sockaddr *a, socklen_t len)
{
    SYSPT(fd);
    msock *s = sock(fd, "connect");
    if (!s)
        return -1;
    if (s->kind == K_CONN)
        return fail(EISCONN);
    int port = port_of(a, len);
    int li = port < 0 ? -1 : find_listener(port);
    if (li < 0)
        return fail(ECONNREFUSED);
    msock *l = &N.s[li];
    if (l->nacq == MN_BACKLOG)
        return fail(ECONNREFUSED);
    int ci = (int)(s - N.s);
    int si = new_sock(SK_PENDING);
    if (si < 0)
        return fail(ENOBUFS);
    s = &N.s[ci]; /* (no move: the array is static; for clarity) */
    l = &N.s[li];
    msock *srv = &N.s[si];
    srv->kind = K_CONN;
    srv->port = port;
    srv->peer = ci;
    s->kind = K_CONN;
    s->port = N.next_port++;
    s->rport = port;
    s->peer = si;
    srv->rport = s->port;
    l->acq[l->nacq++] = si;
    mark(li, NP_EV_R);
    /* Established at once (loopback): the completion is a writable edge. */
    mark(ci, NP_EV_W);
    return fail(EINPROGRESS);
}

int np__msys_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
    (void)a, (void)len, (void)flags;
    SYSPT(fd);
    msock *l = sock(fd, "accept4");
    if (!l)
        return -1;
    if (l->kind != K_LISTEN)
        return fail(EINVAL);
    if (l->nacq == 0)
        return fail(EAGAIN);
    int si = l->acq[0];
    memmove(l->acq, l->acq + 1, (size_t)--l->nacq * sizeof l->acq[0]);
    N.s[si].state = SK_OPEN;
    return MN_FD_BASE + si;
}

static int name_of(int fd, struct sockaddr *a, socklen_t *len, bool peer, const char *call)
{
    SYSPT(fd);
    msock *s = sock(fd, call);
    if (!s)
        return -1;
    if (peer && (s->kind != K_CONN || s->peer < 0))
        return fail(ENOTCONN);
    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(0x7f000001);
    in.sin_port = htons((uint16_t)(peer ? s->rport : s->port));
    socklen_t n = *len < sizeof in ? *len : (socklen_t)sizeof in;
    memcpy(a, &in, n);
    *len = sizeof in;
    return 0;
}

int np__msys_getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
    return name_of(fd, a, len, true, "getpeername");
}

int np__msys_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
    return name_of(fd, a, len, false, "getsockname");
}

int np__msys_fcntl(int fd, int cmd, ...)
{
    SYSPT(fd);
    if (!sock(fd, "fcntl"))
        return -1;
    return cmd == F_GETFL ? O_RDWR | O_NONBLOCK : 0;
}

int np__msys_fstat(int fd, struct stat *st)
{
    SYSPT(fd);
    if (!sock(fd, "fstat"))
        return -1;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFSOCK | 0777;
    return 0;
}

int np__msys_unlink(const char *path)
{
    (void)path;
    return fail(ENOENT);
}

ssize_t np__msys_read(int fd, void *buf, size_t n)
{
    SYSPT(fd);
    msock *s = sock(fd, "read");
    if (!s)
        return -1;
    if (s->kind != K_CONN)
        return fail(ENOTCONN);
    if (s->reset) {
        s->reset = false;
        s->rd_eof = true;
        return fail(ECONNRESET);
    }
    if (s->rd_shut)
        return 0;
    if (s->len == 0)
        return s->rd_eof ? 0 : fail(EAGAIN);
    bool was_full = s->len >= N.cap;
    size_t k = n < s->len ? n : s->len;
    memcpy(buf, s->buf, k);
    memmove(s->buf, s->buf + k, s->len - k);
    s->len -= (unsigned)k;
    if (was_full && !s->peer_gone && s->peer >= 0)
        mark(s->peer, NP_EV_W); /* room again for the writer */
    return (ssize_t)k;
}

ssize_t np__msys_send(int fd, const void *buf, size_t n, int flags)
{
    (void)flags;
    SYSPT(fd);
    msock *s = sock(fd, "send");
    if (!s)
        return -1;
    if (s->kind != K_CONN)
        return fail(ENOTCONN);
    if (s->reset)
        return fail(ECONNRESET);
    if (s->wr_shut || s->peer_gone || s->peer < 0)
        return fail(EPIPE);
    msock *p = &N.s[s->peer];
    if (p->len >= N.cap)
        return fail(EAGAIN);
    size_t room = N.cap - p->len;
    size_t k = n < room ? n : room;
    memcpy(p->buf + p->len, buf, k);
    p->len += (unsigned)k;
    mark(s->peer, NP_EV_R);
    return (ssize_t)k;
}

ssize_t np__msys_write(int fd, const void *buf, size_t n)
{
    return np__msys_send(fd, buf, n, 0);
}

int np__msys_shutdown(int fd, int how)
{
    SYSPT(fd);
    msock *s = sock(fd, "shutdown");
    if (!s)
        return -1;
    if (s->kind != K_CONN)
        return fail(ENOTCONN);
    if (how == SHUT_RD || how == SHUT_RDWR) {
        s->rd_shut = true;
        mark((int)(s - N.s), NP_EV_R);
    }
    if ((how == SHUT_WR || how == SHUT_RDWR) && !s->wr_shut) {
        s->wr_shut = true;
        if (!s->peer_gone && s->peer >= 0) {
            N.s[s->peer].rd_eof = true;
            mark(s->peer, NP_EV_R);
        }
    }
    return 0;
}

/* The other end of a connection learns that this one is gone: a FIN, or a
 * reset if bytes were left unread here (as Linux does). */
static void hang_up(msock *s)
{
    if (s->kind != K_CONN || s->peer < 0)
        return;
    msock *p = &N.s[s->peer];
    p->peer_gone = true;
    if (s->len > 0) {
        p->reset = true;
        mark(s->peer, NP_EV_R | NP_EV_W);
    } else {
        p->rd_eof = true;
        mark(s->peer, NP_EV_R);
    }
}

int np__msys_close(int fd)
{
    SYSPT(fd);
    msock *s = sock(fd, "close");
    if (!s)
        return -1;
    int i = (int)(s - N.s);
    unqueue(i);
    s->registered = false;
    s->state = SK_CLOSED;
    hang_up(s);
    if (s->kind == K_LISTEN)
        for (int j = 0; j < s->nacq; j++) {
            msock *c = &N.s[s->acq[j]];
            c->state = SK_CLOSED;
            c->len = 0;
            hang_up(c);
            N.s[c->peer].reset = true;
        }
    return 0;
}

/* ---- the backend ------------------------------------------------------------------ */

static int be_init(void)
{
    N.rhead = N.rlen = 0;
    N.brk = false;
    return 0;
}

static void be_fini(void) {}

static int be_open(int fd, struct np_poll_desc *pd, uint32_t tag)
{
    SYSPT(fd);
    msock *s = sock(fd, "epoll_ctl(ADD)");
    if (!s)
        return -errno;
    if (s->registered)
        return -EEXIST;
    s->registered = true;
    s->pd = pd;
    s->tag = tag & NP_TAG_MASK;
    uint8_t m = (readable(s) ? NP_EV_R : 0) | (writable(s) ? NP_EV_W : 0);
    if (m)
        mark(fd - MN_FD_BASE, m);
    return 0;
}

static int be_close(int fd, bool fd_closing)
{
    (void)fd_closing;
    SYSPT(fd);
    msock *s = sock(fd, "epoll_ctl(DEL)");
    if (!s)
        return -errno;
    if (!s->registered)
        return -ENOENT;
    unqueue(fd - MN_FD_BASE);
    s->registered = false;
    return 0;
}

static int be_poll(int64_t delay, np_event *ev, int max)
{
    SYSPT(-1);
    if (delay != 0) {
        if (N.rlen == 0 && !N.brk)
            mx_block_poll(delay < 0 ? INT64_MAX : mx.now + delay);
        N.brk = false; /* a blocking poll consumes a pending break */
    }
    int k = 0;
    while (k < max && N.rlen > 0) {
        int i = N.ready[N.rhead];
        N.rhead = (N.rhead + 1) % MN_MAX_SOCKS;
        N.rlen--;
        msock *s = &N.s[i];
        s->queued = false;
        if (!s->pend)
            continue;
        ev[k].pd = s->pd;
        ev[k].tag = s->tag;
        ev[k].mode = s->pend;
        ev[k].err_only = false;
        /* as epoll reports EPOLLRDHUP, EPOLLHUP and EPOLLERR: the state now */
        ev[k].hangup = s->rd_eof || s->reset || s->rd_shut || s->peer_gone;
        s->pend = 0;
        k++;
    }
    return k;
}

static void be_brk(void)
{
    SYSPT(-2);
    N.brk = true;
}

static int64_t be_now(void)
{
    return mx.now;
}

const np_backend np_backend_machine = {
    .name = "machine",
    .max_workers = MX_MAX_THREADS - 1,
    .reports_hangup = true, /* so netfd.c's read skipping runs here too */
    .init = be_init,
    .fini = be_fini,
    .open = be_open,
    .close = be_close,
    .poll = be_poll,
    .brk = be_brk,
    .now = be_now,
    .now_coarse = NULL,
};
