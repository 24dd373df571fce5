/* bench/soak/soak.c - a live soak: N loopback connections (default 10,000)
 * echoing through the runtime, each client resetting a read deadline before
 * every request and checking every byte that comes back; a fraction of the
 * clients close at random and reconnect. At the end: no descriptor leak
 * (/proc/self/fd counted before and after), no task left blocked, every byte
 * checked, and memory (RSS) flat after warm-up (judged on runs of 10 s or
 * more: a few seconds are no steady state). Exit 0 only if all hold.
 *
 *   soak [--conns N] [--seconds S] [--workers W]
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "echo.h"
#include "netpoll/epoll.h"
#include "netpoll/netpoll.h"

#define MS INT64_C(1000000)

/* Under a sanitizer RSS grows with its own bookkeeping (shadow memory,
 * TSan's history): it is reported but not judged. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                               \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define JUDGE_RSS 0
#else
#define JUDGE_RSS 1
#endif

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", "..", and the DIR's own fd */
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct {
    const char *addr;
    int64_t until;
    uint64_t seed;
    _Atomic long *rounds, *bytes, *bad, *closes, *errors;
    _Atomic int *live;
} client;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void client_task(void *p)
{
    client *c = p;
    char out[512], in[512];
    while (np_now() < c->until) {
        np_fd *f;
        int err = np_dial("tcp", c->addr, 5000 * MS, &f);
        if (err) {
            atomic_fetch_add(c->errors, 1);
            np_sleep(10 * MS);
            continue;
        }
        /* each connection lives for a random number of round trips */
        long n = (long)(next_rand(&c->seed) % 200) + 1;
        for (long i = 0; i < n && np_now() < c->until; i++) {
            size_t len = (size_t)(next_rand(&c->seed) % sizeof out) + 1;
            for (size_t k = 0; k < len; k++)
                out[k] = (char)next_rand(&c->seed);
            np_set_read_deadline(f, np_deadline_after(10000 * MS)); /* reset per request */
            if (np_write(f, out, len, NULL) != (ssize_t)len) {
                atomic_fetch_add(c->errors, 1);
                break;
            }
            size_t got = 0;
            while (got < len) {
                ssize_t k = np_read(f, in + got, len - got);
                if (k <= 0)
                    break;
                got += (size_t)k;
            }
            if (got != len || memcmp(in, out, len) != 0) {
                atomic_fetch_add(c->bad, 1);
                break;
            }
            atomic_fetch_add(c->rounds, 1);
            atomic_fetch_add(c->bytes, (long)len);
            np_sleep((int64_t)(next_rand(&c->seed) % 20) * MS); /* think time */
        }
        np_close(f);
        atomic_fetch_add(c->closes, 1);
    }
    atomic_fetch_sub(c->live, 1);
}

typedef struct {
    int conns, workers;
    double seconds;
    int status;
} opts;

static void soak_main(void *p)
{
    opts *o = p;
    np_echo_server srv = {.read_timeout = 30000 * MS};
    if (np_echo_server_start(&srv, "tcp", "127.0.0.1:0") != 0) {
        fprintf(stderr, "soak: cannot listen\n");
        o->status = 2;
        return;
    }
    _Atomic long rounds = 0, bytes = 0, bad = 0, closes = 0, errors = 0;
    _Atomic int live = 0;
    client *cl = calloc((size_t)o->conns, sizeof *cl);
    int64_t t0 = np_now(), until = t0 + (int64_t)(o->seconds * 1e9);
    for (int i = 0; i < o->conns; i++) {
        cl[i] = (client){srv.addr, until,   0x9E3779B97F4A7C15u * (uint64_t)(i + 1) | 1,
                         &rounds,  &bytes,  &bad,
                         &closes,  &errors, &live};
        atomic_fetch_add(&live, 1);
        if (np_go(client_task, &cl[i]) != 0) {
            atomic_fetch_sub(&live, 1);
            atomic_fetch_add(&errors, 1);
        }
    }
    /* RSS after warm-up (a quarter of the run) and at the end */
    long rss_warm = 0, rss_end = 0;
    int64_t warm = t0 + (until - t0) / 4;
    while (np_now() < until) {
        np_sleep(100 * MS);
        if (!rss_warm && np_now() >= warm)
            rss_warm = rss_kib();
    }
    rss_end = rss_kib();
    for (int i = 0; i < 300 && atomic_load(&live) > 0; i++) /* bounded: 30 s */
        np_sleep(100 * MS);
    int left = atomic_load(&live);
    np_echo_server_stop(&srv, 10000 * MS);
    double secs = (double)(np_now() - t0) / 1e9;
    printf("soak: %d connections, %.1f s: %ld round trips (%.0f/s), %ld bytes checked, %ld "
           "connections closed and reopened, %ld bad echoes, %ld errors, %d clients still "
           "running; server: %ld connections, %d errors, %d connection tasks left\n",
           o->conns, secs, atomic_load(&rounds), (double)atomic_load(&rounds) / secs,
           atomic_load(&bytes), atomic_load(&closes), atomic_load(&bad), atomic_load(&errors), left,
           atomic_load(&srv.conns), atomic_load(&srv.errors), atomic_load(&srv.live));
    printf("soak: RSS after warm-up %ld KiB, at the end %ld KiB (%+.1f%%)\n", rss_warm, rss_end,
           rss_warm ? 100.0 * (double)(rss_end - rss_warm) / (double)rss_warm : 0.0);
    bool ok = atomic_load(&bad) == 0 && left == 0 && atomic_load(&srv.live) == 0 &&
              atomic_load(&srv.errors) == 0 && atomic_load(&rounds) > 0 &&
              atomic_load(&errors) == 0 &&
              (!JUDGE_RSS || o->seconds < 10 || !rss_warm || rss_end <= rss_warm + rss_warm / 10);
    if (!ok)
        o->status = 1;
    free(cl);
}

int main(int argc, char **argv)
{
    opts o = {10000, 0, 10, 0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--conns"))
            o.conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            o.seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers"))
            o.workers = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: soak [--conns N] [--seconds S] [--workers W]\n");
            return 2;
        }
    }
    if (o.conns < 1 || o.conns > 100000 || !(o.seconds > 0 && o.seconds <= 3600)) {
        fprintf(stderr, "soak: --conns 1..100000, --seconds (0, 3600]\n");
        return 2;
    }
    /* two descriptors per connection, in this one process */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * o.conns + 256)) {
        rl.rlim_cur =
            rl.rlim_max < (rlim_t)(2 * o.conns + 256) ? rl.rlim_max : (rlim_t)(2 * o.conns + 256);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int fds0 = count_fds();
    np_config cfg = {.workers = o.workers, .backend = &np_backend_epoll, .stack_size = 64 * 1024};
    int err = np_main(&cfg, soak_main, &o);
    int fds1 = count_fds();
    printf("soak: descriptors before %d, after %d\n", fds0, fds1);
    if (err) {
        fprintf(stderr, "soak: runtime: %s\n", np_strerror(err));
        return 2;
    }
    if (fds1 != fds0) {
        printf("soak: FAILED: %d descriptors leaked\n", fds1 - fds0);
        return 1;
    }
    printf("soak: %s\n", o.status ? "FAILED" : "ok");
    return o.status;
}
