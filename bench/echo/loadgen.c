/* bench/echo/loadgen.c - the one load generator of the TCP echo benchmark.
 *
 *   loadgen --addr 127.0.0.1:PORT --mode persistent|oneshot|idle --conns N
 *           --seconds S [--size 512] [--threads T] [--warmup-ms W]
 *           [--depth D] [--src K]
 *
 * Shapes (Go's net.BenchmarkTCP4Persistent / BenchmarkTCP4OneShot):
 *   persistent  N connections opened up front; each writes `size` bytes,
 *               reads the `size`-byte echo, and repeats (one message in
 *               flight per connection; --depth D: D in flight, see below).
 *   oneshot     N concurrent slots; each dials, writes `size` bytes, reads the
 *               echo and closes (with SO_LINGER 0, so neither side collects
 *               TIME_WAIT sockets and the ephemeral ports never run out),
 *               then starts again.
 *   idle        N connections opened up front; each does one round trip of
 *               `size` bytes (so the server has accepted it and its reader
 *               ran), then stays open and silent. When all N have done theirs
 *               it prints "ready conns=N failed=F setup_ms=T" and holds them for S s
 *               (bench/run_workloads.sh measures the server's memory then);
 *               at the end it prints "idle conns=N closed=C errors=E", C
 *               counting connections the server closed meanwhile.
 *
 * --depth D (persistent, 1..256, default 1): pipelining. Each connection
 * keeps D requests in flight: it writes as many whole messages as the window
 * allows in one write() and, as echoes come back, writes more. The echo is
 * one byte stream, so request k is done when (k + 1) x size bytes are back;
 * every byte is checked against the payload.
 * --src K (0..250, default 0): connection i binds to source address
 * 127.0.0.(2 + i % K) (IP_BIND_ADDRESS_NO_PORT, so the port is picked per
 * 4-tuple at connect): K x ~28,000 ephemeral ports instead of one range.
 *
 * Persistent and idle connections are opened in batches of 256 per thread
 * (each batch connected before the next, so the server's accept queue does
 * not overflow); the warm-up and the measured window start once every thread
 * has all its connections.
 *
 * Latency is per request on CLOCK_MONOTONIC: from the first write (persistent)
 * or the connect call (oneshot) to the last byte of the echo. Requests
 * finishing in the first W ms (warm-up, default 200) are not counted. The run
 * is bounded: it stops issuing requests after W ms + S s, and an alarm kills
 * it S + 30 s (plus 1 s per 1,000 connections for the set-up) after start
 * whatever happens.
 *
 * Plain C: T threads (default 1), each with its own epoll instance and an
 * equal share of the N connections; nothing of netpoll's runtime, so it is
 * neutral between the servers. Prints one line:
 *   requests=R rps=X p50_us=P p99_us=Q errors=E total=C mode=M conns=N threads=T seconds=S depth=D
 * where R counts requests started and finished inside the measured window
 * (rps = R / S; p50/p99 are over them) and C every request that completed,
 * warm-up and the stragglers after the window included (to divide a server's
 * whole CPU time or system-call count by).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE    (1 << 20)
#define MAX_CONNS   65536
#define MAX_DEPTH   256
#define BATCH       256 /* connections opened at a time per thread */
#define MAX_THREADS 64
#define MAX_SECONDS 600

/* ---- a log-linear latency histogram (ns): 64 sub-buckets per power of two,
 * so a bucket's width is at most 1/64 of its value (< 1.6 % error). -------- */
#define SUB_BITS 6
#define SUB      (1u << SUB_BITS)
#define NBUCKETS (64 * SUB)

typedef struct {
    uint64_t count[NBUCKETS];
    uint64_t n;
} hist;

static unsigned hist_index(uint64_t v)
{
    if (v < SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
    unsigned shift = msb - SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) & (SUB - 1);
    return (shift + 1) * SUB + sub;
}

/* The middle value of bucket i. */
static double hist_value(unsigned i)
{
    if (i < SUB)
        return i;
    unsigned shift = i / SUB - 1;
    unsigned sub = i % SUB;
    double lo = (double)(((uint64_t)SUB + sub) << shift);
    double width = (double)(1ull << shift);
    return lo + width / 2;
}

static void hist_add(hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->n++;
}

static double hist_quantile(const hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->count[i];
        if (seen > rank)
            return hist_value(i);
    }
    return hist_value(NBUCKETS - 1);
}

/* ---- options -------------------------------------------------------------- */
static struct sockaddr_in g_addr;
static bool g_oneshot;
static bool g_idle;
static int g_conns = 2;
static int g_threads = 1;
static double g_seconds = 2;
static size_t g_size = 512;
static int g_warmup_ms = 200;
static int g_depth = 1;      /* requests in flight per connection */
static int g_src;            /* source addresses to spread over (0: none) */
static unsigned char *g_msg; /* the payload every request sends, g_depth copies */

static pthread_barrier_t g_setup; /* every thread has its connections */
static _Atomic int g_idle_ready;  /* idle: connections whose round trip is done */
static _Atomic int g_idle_failed; /* idle: connections that failed before theirs */
static _Atomic bool g_stop;       /* idle: the hold is over */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- connections ---------------------------------------------------------- */
enum { ST_CONNECTING, ST_WRITING, ST_READING, ST_IDLE };

typedef struct conn {
    int fd;
    int index;           /* which of the N: picks the source address */
    int state;           /* depth 1: where the request is */
    size_t off;          /* bytes written (ST_WRITING) or read (ST_READING) */
    int64_t start;       /* when this request started */
    unsigned char *rbuf; /* g_size x g_depth bytes */
    /* --depth > 1: positions in the echo stream, and the start times of the
     * requests in flight (a ring of g_depth, request k at ts[k % g_depth]) */
    uint64_t wpos, rpos;
    int64_t *ts;
} conn;

typedef struct worker {
    pthread_t th;
    int ep;
    int nconns;
    conn *conns;
    int64_t t_measure; /* start of the measured window */
    int64_t t_end;     /* end of it: no new request after this */
    uint64_t requests; /* completed inside the window */
    uint64_t total;    /* completed at all (warm-up and stragglers too) */
    uint64_t errors;
    uint64_t closed; /* idle: connections the server closed */
    hist lat;
} worker;

static int open_conn(worker *w, conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g_src > 0) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(c->index % g_src));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
            int e = -errno;
            close(fd);
            return e;
        }
    }
    c->fd = fd;
    c->off = 0;
    c->wpos = c->rpos = 0;
    c->start = now_ns();
    int rc = connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (rc < 0 && errno != EINPROGRESS) {
        int e = -errno;
        close(fd);
        c->fd = -1;
        return e;
    }
    c->state = rc == 0 ? ST_WRITING : ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
    return 0;
}

static void close_conn(conn *c, bool rst)
{
    if (c->fd < 0)
        return;
    if (rst) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
}

/* Counts a request that started at `start` and finished at `now`. */
static void finished(worker *w, int64_t start, int64_t now)
{
    w->total++;
    if (start >= w->t_measure && now <= w->t_end) {
        w->requests++;
        hist_add(&w->lat, (uint64_t)(now - start));
    }
}

/* --depth > 1: drives c as far as it goes without blocking (every read and
 * write until EAGAIN, as the edge-triggered set needs). Returns false when
 * the connection failed. */
static bool step_pipe(worker *w, conn *c, int64_t *now)
{
    const uint64_t size = g_size, depth = (uint64_t)g_depth;
    for (;;) {
        bool blocked_w = false, blocked_r = false;
        /* write: up to `depth` requests ahead of the echo; none starts after the window */
        uint64_t issued = (c->wpos + size - 1) / size;
        uint64_t limit = (c->rpos / size + depth) * size;
        if (*now >= w->t_end)
            limit = issued * size; /* finish a partly written one only */
        if (c->wpos < limit) {
            uint64_t off = c->wpos % size;
            size_t len = (size_t)(limit - c->wpos);
            for (uint64_t k = issued; k * size < limit; k++)
                c->ts[k % depth] = *now; /* the requests this write starts */
            ssize_t n = write(c->fd, g_msg + off, len);
            if (n < 0) {
                if (errno != EAGAIN && errno != ENOTCONN && errno != EINTR)
                    return false;
                blocked_w = errno != EINTR;
            } else {
                c->wpos += (uint64_t)n;
                blocked_w = (size_t)n < len;
            }
        } else {
            blocked_w = true; /* the window is full: the next echo opens it */
        }
        /* read: check every byte, count every request whose last byte came */
        ssize_t n = read(c->fd, c->rbuf, g_size * (size_t)g_depth);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return false;
            blocked_r = errno == EAGAIN;
        } else if (n == 0) {
            return false; /* the server closed early */
        } else {
            if (c->rpos + (uint64_t)n > c->wpos) {
                w->errors++; /* more echoed than sent */
                return false;
            }
            size_t i = 0;
            while (i < (size_t)n) {
                size_t off = (size_t)(c->rpos % size);
                size_t len = (size_t)n - i < g_size - off ? (size_t)n - i : g_size - off;
                if (memcmp(c->rbuf + i, g_msg + off, len) != 0) {
                    w->errors++;
                    return false;
                }
                i += len;
                c->rpos += len;
                if (c->rpos % size == 0) {
                    *now = now_ns();
                    finished(w, c->ts[(c->rpos / size - 1) % depth], *now);
                }
            }
        }
        if (*now >= w->t_end && c->rpos == c->wpos && c->wpos % size == 0) {
            close_conn(c, true);
            return true; /* everything sent came back: done */
        }
        if (blocked_w && blocked_r)
            return true;
    }
}

/* Drives c as far as it goes without blocking. Returns false when the
 * connection failed (the caller counts an error and replaces it). */
static bool step(worker *w, conn *c, int64_t *now)
{
    if (g_depth > 1 && c->state != ST_CONNECTING)
        return step_pipe(w, c, now);
    for (;;) {
        switch (c->state) {
        case ST_CONNECTING: {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
                return false;
            /* Still connecting? Writing tells: EAGAIN means wait for EPOLLOUT. */
            c->state = ST_WRITING;
            if (g_depth > 1)
                return step_pipe(w, c, now);
            break;
        }
        case ST_WRITING: {
            ssize_t n = write(c->fd, g_msg + c->off, g_size - c->off);
            if (n < 0) {
                if (errno == EAGAIN || errno == ENOTCONN)
                    return true; /* the next edge continues */
                if (errno == EINTR)
                    continue;
                return false;
            }
            c->off += (size_t)n;
            if (c->off == g_size) {
                /* The echo cannot be back yet: wait for its EPOLLIN edge
                 * rather than spend a read on EAGAIN. */
                c->state = ST_READING;
                c->off = 0;
                return true;
            }
            break;
        }
        case ST_READING: {
            ssize_t n = read(c->fd, c->rbuf + c->off, g_size - c->off);
            if (n < 0) {
                if (errno == EAGAIN)
                    return true;
                if (errno == EINTR)
                    continue;
                return false;
            }
            if (n == 0)
                return false; /* the server closed early */
            c->off += (size_t)n;
            if (c->off < g_size)
                break;
            /* one request done */
            *now = now_ns();
            if (memcmp(c->rbuf, g_msg, g_size) != 0) {
                w->errors++;
                return false;
            }
            if (g_idle) { /* its one round trip: now it stays silent */
                c->state = ST_IDLE;
                atomic_fetch_add(&g_idle_ready, 1);
                return true;
            }
            finished(w, c->start, *now);
            if (*now >= w->t_end) {
                close_conn(c, true);
                return true; /* no new request after the window */
            }
            if (g_oneshot) {
                close_conn(c, true);
                int rc = open_conn(w, c);
                if (rc < 0) {
                    errno = -rc;
                    return false;
                }
                /* the new socket's first edge (EPOLLOUT) arrives from epoll */
                return true;
            }
            c->state = ST_WRITING;
            c->off = 0;
            c->start = *now;
            break;
        }
        case ST_IDLE: {
            char b[64];
            ssize_t n = read(c->fd, b, sizeof b);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
            w->closed++; /* the server closed it, reset it, or sent unasked */
            close_conn(c, true);
            return true;
        }
        }
    }
}

/* Persistent and idle: opens the worker's connections BATCH at a time, each
 * batch connected (getpeername answers) before the next starts. */
static void connect_all(worker *w)
{
    for (int b = 0; b < w->nconns; b += BATCH) {
        int e = b + BATCH < w->nconns ? b + BATCH : w->nconns;
        for (int i = b; i < e; i++) {
            int rc = open_conn(w, &w->conns[i]);
            if (rc < 0) {
                errno = -rc;
                die(rc == -EMFILE ? "connect (raise ulimit -n)" : "connect");
            }
        }
        int64_t give_up = now_ns() + 10000000000LL;
        for (int i = b; i < e; i++) {
            conn *c = &w->conns[i];
            while (c->state == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                struct sockaddr_in peer;
                socklen_t plen = sizeof peer;
                if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) == 0) {
                    c->state = ST_WRITING;
                    break;
                }
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0 || now_ns() > give_up) {
                    errno = err ? err : ETIMEDOUT;
                    die("connect");
                }
                usleep(1000);
            }
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[256];
    int64_t now;
    if (!g_oneshot)
        connect_all(w); /* all connections exist before the first request */
    pthread_barrier_wait(&g_setup);
    now = now_ns();
    if (!g_oneshot) {
        /* the window starts once every thread has its connections */
        w->t_measure = now + (int64_t)g_warmup_ms * 1000000;
        w->t_end = g_idle ? INT64_MAX / 2 : w->t_measure + (int64_t)(g_seconds * 1e9);
        for (int i = 0; i < w->nconns; i++) {
            w->conns[i].start = now;
            if (!step(w, &w->conns[i], &now))
                die("first request");
        }
    } else {
        for (int i = 0; i < w->nconns; i++)
            if (open_conn(w, &w->conns[i]) < 0)
                die("connect");
    }

    uint64_t failures = 0;
    for (;;) {
        now = now_ns();
        bool live = false;
        for (int i = 0; i < w->nconns && !live; i++)
            live = w->conns[i].fd >= 0;
        if (!live || now >= w->t_end + 1000000000LL || atomic_load(&g_stop))
            break; /* all done, stragglers 1 s past the end (give up on them), or the hold is over
                    */
        int n = epoll_wait(w->ep, evs, 256, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (!step(w, c, &now)) {
                w->errors++;
                if (++failures > 1000) {
                    fprintf(stderr, "loadgen: too many failed requests (last: %s)\n",
                            strerror(errno));
                    exit(1);
                }
                close_conn(c, true);
                if (g_idle && c->state != ST_IDLE)
                    atomic_fetch_add(&g_idle_failed, 1);
                now = now_ns();
                if (now < w->t_end && !g_idle) {
                    if (open_conn(w, c) < 0)
                        continue;
                    if (!g_oneshot) {
                        /* a reconnected persistent slot starts with its write */
                        c->start = now;
                    }
                }
            }
        }
    }
    for (int i = 0; i < w->nconns; i++)
        close_conn(&w->conns[i], true);
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "loadgen: hard time limit reached\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(3);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --addr 127.0.0.1:PORT --mode persistent|oneshot|idle --conns N\n"
            "               --seconds S [--size 512] [--threads T] [--warmup-ms W]\n"
            "               [--depth D] [--src K]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--addr"))
            addr = v;
        else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "oneshot"))
                g_oneshot = true;
            else if (!strcmp(v, "idle"))
                g_idle = true;
            else if (strcmp(v, "persistent") != 0)
                usage();
        } else if (!strcmp(a, "--conns"))
            g_conns = atoi(v);
        else if (!strcmp(a, "--seconds"))
            g_seconds = atof(v);
        else if (!strcmp(a, "--size"))
            g_size = (size_t)atol(v);
        else if (!strcmp(a, "--threads"))
            g_threads = atoi(v);
        else if (!strcmp(a, "--warmup-ms"))
            g_warmup_ms = atoi(v);
        else if (!strcmp(a, "--depth"))
            g_depth = atoi(v);
        else if (!strcmp(a, "--src"))
            g_src = atoi(v);
        else
            usage();
    }
    if (!addr || g_conns < 1 || g_conns > MAX_CONNS || g_seconds <= 0 || g_seconds > MAX_SECONDS ||
        g_size < 1 || g_size > MAX_SIZE || g_threads < 1 || g_threads > MAX_THREADS ||
        g_warmup_ms < 0 || g_warmup_ms > 10000 || g_depth < 1 || g_depth > MAX_DEPTH ||
        (g_depth > 1 && (g_oneshot || g_idle)) || g_src < 0 || g_src > 250)
        usage();
    if (g_threads > g_conns)
        g_threads = g_conns;

    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        usage();
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &g_addr.sin_addr) != 1 ||
        (ntohl(g_addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "loadgen: --addr must be a numeric loopback IPv4 address\n");
        exit(2);
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(g_seconds + g_warmup_ms / 1000.0) + 30 + (unsigned)g_conns / 1000);

    /* g_depth copies back to back: one write() can send a whole window */
    size_t msg_len = g_size * (size_t)g_depth;
    g_msg = malloc(msg_len);
    if (!g_msg)
        die("malloc");
    for (size_t i = 0; i < msg_len; i++)
        g_msg[i] = (unsigned char)('a' + (i % g_size) % 26);

    worker *ws = calloc((size_t)g_threads, sizeof *ws);
    if (!ws)
        die("calloc");
    if (pthread_barrier_init(&g_setup, NULL, (unsigned)g_threads) != 0)
        die("pthread_barrier_init");
    int64_t t0 = now_ns();
    int64_t t_measure = t0 + (int64_t)g_warmup_ms * 1000000;
    int64_t t_end = t_measure + (int64_t)(g_seconds * 1e9);
    for (int t = 0, index = 0; t < g_threads; t++) {
        worker *w = &ws[t];
        w->nconns = g_conns / g_threads + (t < g_conns % g_threads);
        w->conns = calloc((size_t)w->nconns, sizeof *w->conns);
        if (!w->conns)
            die("calloc");
        for (int i = 0; i < w->nconns; i++) {
            w->conns[i].fd = -1;
            w->conns[i].index = index++;
            w->conns[i].rbuf = malloc(msg_len);
            w->conns[i].ts = g_depth > 1 ? calloc((size_t)g_depth, sizeof(int64_t)) : NULL;
            if (!w->conns[i].rbuf || (g_depth > 1 && !w->conns[i].ts))
                die("malloc");
        }
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->ep < 0)
            die("epoll_create1");
        w->t_measure = t_measure; /* oneshot's; persistent and idle set theirs after set-up */
        w->t_end = t_end;
        if (pthread_create(&w->th, NULL, worker_main, w) != 0)
            die("pthread_create");
    }

    if (g_idle) { /* wait for every round trip, say so, hold, then let go */
        while (atomic_load(&g_idle_ready) + atomic_load(&g_idle_failed) < g_conns) {
            struct timespec d = {0, 1000000};
            nanosleep(&d, NULL);
        }
        printf("ready conns=%d failed=%d setup_ms=%.0f\n", atomic_load(&g_idle_ready),
               atomic_load(&g_idle_failed), (double)(now_ns() - t0) / 1e6);
        fflush(stdout);
        struct timespec hold = {(time_t)g_seconds,
                                (long)((g_seconds - (double)(time_t)g_seconds) * 1e9)};
        nanosleep(&hold, NULL);
        atomic_store(&g_stop, true);
    }

    hist *all = calloc(1, sizeof *all);
    if (!all)
        die("calloc");
    uint64_t requests = 0, total = 0, errors = 0, closed = 0;
    for (int t = 0; t < g_threads; t++) {
        pthread_join(ws[t].th, NULL);
        requests += ws[t].requests;
        total += ws[t].total;
        errors += ws[t].errors;
        closed += ws[t].closed;
        for (unsigned i = 0; i < NBUCKETS; i++)
            all->count[i] += ws[t].lat.count[i];
        all->n += ws[t].lat.n;
    }
    if (g_idle)
        printf("idle conns=%d closed=%llu errors=%llu\n", g_conns, (unsigned long long)closed,
               (unsigned long long)errors);
    else
        printf("requests=%llu rps=%.0f p50_us=%.2f p99_us=%.2f errors=%llu total=%llu mode=%s "
               "conns=%d threads=%d seconds=%g depth=%d\n",
               (unsigned long long)requests, (double)requests / g_seconds,
               hist_quantile(all, 0.50) / 1000.0, hist_quantile(all, 0.99) / 1000.0,
               (unsigned long long)errors, (unsigned long long)total,
               g_oneshot ? "oneshot" : "persistent", g_conns, g_threads, g_seconds, g_depth);
    /* freed, so that a sanitizer build's leak check passes (netpoll demo runs it there) */
    for (int t = 0; t < g_threads; t++) {
        for (int i = 0; i < ws[t].nconns; i++) {
            free(ws[t].conns[i].rbuf);
            free(ws[t].conns[i].ts);
        }
        free(ws[t].conns);
        close(ws[t].ep);
    }
    pthread_barrier_destroy(&g_setup);
    free(ws);
    free(all);
    free(g_msg);
    return g_idle ? (closed + errors == 0 ? 0 : 1) : requests > 0 ? 0 : 1;
}
