/* bench/bench_core.c - micro-benchmarks of the core (a program, not a test).
 *
 *   bench_core park_ready     [--reps N] [--iters N]
 *   bench_core deadline_reset [--reps N] [--iters N]
 *   bench_core break_latency  [--reps N] [--iters N] [--gap-us N]
 *
 * Every run uses the epoll backend and ONE worker. Each repetition prints one
 * line of key=value pairs; the last line is a summary over the repetitions
 * (median and min/max of the per-repetition figure).
 *
 * park_ready     two tasks hand the worker to each other: A readies B and
 *                parks, B readies A and parks. One A->B->A cycle = one op
 *                (two np_ready, two np_park, four context switches).
 * deadline_reset the shape of Go's BenchmarkSetReadDeadline
 *                (net/tcpsock_test.go): a write deadline set once 2 h ahead,
 *                then the read deadline, starting 1 h ahead, moved 1 ns later
 *                per op.
 * break_latency  the worker is idle in epoll_wait; an outside thread takes
 *                t0 = np_now() and calls np_go(); the task takes t1 = np_now()
 *                first thing. t1 - t0 per sample, --iters samples per
 *                repetition, --gap-us apart so the worker is blocked again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netpoll/epoll.h"
#include "netpoll/netpoll.h"
#include "scheduler.h" /* np__sched_stats: to check that breaks happened */

#define NS_PER_S  INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)
#define HOUR_NS   (INT64_C(3600) * NS_PER_S)

/* Nothing a benchmark waits for may take longer than this. */
#define WAIT_LIMIT_S 300

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_core: %s: %s\n", what, strerror(err < 0 ? -err : err));
    exit(1);
}

/* ---- statistics ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The p-th percentile (nearest rank) of sorted v. */
static double pct_sorted(const double *v, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

typedef struct {
    double med, min, max;
} summary;

static summary summarize(const double *v, size_t n)
{
    double *c = malloc(n * sizeof *c);
    if (!c)
        die("malloc", ENOMEM);
    memcpy(c, v, n * sizeof *c);
    summary s;
    s.med = median_of(c, n);
    s.min = c[0];
    s.max = c[n - 1];
    free(c);
    return s;
}

/* ---- running a task from the main thread --------------------------------- */

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    int left; /* tasks still running */
} waitgroup;

static void wg_init(waitgroup *wg, int n)
{
    pthread_mutex_init(&wg->m, NULL);
    pthread_cond_init(&wg->c, NULL);
    wg->left = n;
}

static void wg_done(waitgroup *wg)
{
    pthread_mutex_lock(&wg->m);
    if (--wg->left == 0)
        pthread_cond_signal(&wg->c);
    pthread_mutex_unlock(&wg->m);
}

/* Waits for every task, at most WAIT_LIMIT_S. */
static void wg_wait(waitgroup *wg, const char *what)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_LIMIT_S;
    pthread_mutex_lock(&wg->m);
    while (wg->left > 0) {
        int e = pthread_cond_timedwait(&wg->c, &wg->m, &until);
        if (e == ETIMEDOUT) {
            fprintf(stderr, "bench_core: %s: tasks did not finish in %d s\n", what, WAIT_LIMIT_S);
            exit(1);
        }
    }
    pthread_mutex_unlock(&wg->m);
    pthread_mutex_destroy(&wg->m);
    pthread_cond_destroy(&wg->c);
}

static void start_runtime(void)
{
    np_config cfg = {.workers = 1, .backend = &np_backend_epoll};
    int e = np_runtime_start(&cfg);
    if (e)
        die("np_runtime_start", e);
}

/* ---- park_ready ----------------------------------------------------------- */

typedef struct {
    _Atomic(np_task *) slot[2]; /* a parked task, published by its commit */
    atomic_bool stop;
    long warmup, iters;
    int64_t elapsed;
    waitgroup wg;
} pr_state;

/* The commit: the task is off its stack and PARKED; make it findable. */
static bool pr_publish(np_task *t, void *slot)
{
    atomic_store_explicit((_Atomic(np_task *) *)slot, t, memory_order_release);
    return true;
}

/* Takes the peer out of its slot. On one worker the peer has always parked
 * already, except at the very start (then yield until it has). */
static np_task *pr_take(_Atomic(np_task *) *slot)
{
    np_task *t;
    while (!(t = atomic_exchange_explicit(slot, NULL, memory_order_acquire)))
        np_yield();
    return t;
}

static void pr_cycles(pr_state *st, long n)
{
    for (long i = 0; i < n; i++) {
        np_ready(pr_take(&st->slot[1]));
        np_park(pr_publish, &st->slot[0]);
    }
}

static void pr_task_a(void *p)
{
    pr_state *st = p;
    pr_cycles(st, st->warmup);
    int64_t t0 = np_now();
    pr_cycles(st, st->iters);
    st->elapsed = np_now() - t0;
    atomic_store(&st->stop, true);
    np_ready(pr_take(&st->slot[1])); /* let B see stop and end */
    wg_done(&st->wg);
}

static void pr_task_b(void *p)
{
    pr_state *st = p;
    np_park(pr_publish, &st->slot[1]);
    while (!atomic_load(&st->stop)) {
        np_ready(pr_take(&st->slot[0]));
        np_park(pr_publish, &st->slot[1]);
    }
    wg_done(&st->wg);
}

static void bench_park_ready(int reps, long iters)
{
    double *v = calloc((size_t)reps, sizeof *v);
    if (!v)
        die("calloc", ENOMEM);
    start_runtime();
    for (int r = 0; r < reps; r++) {
        pr_state st;
        memset(&st, 0, sizeof st);
        atomic_init(&st.slot[0], NULL);
        atomic_init(&st.slot[1], NULL);
        atomic_init(&st.stop, false);
        st.iters = iters;
        st.warmup = iters / 10 + 1;
        wg_init(&st.wg, 2);
        int e = np_go(pr_task_b, &st);
        if (!e)
            e = np_go(pr_task_a, &st);
        if (e)
            die("np_go", e);
        wg_wait(&st.wg, "park_ready");
        v[r] = (double)st.elapsed / (double)iters;
        printf("park_ready ns_per_op=%.1f iters=%ld\n", v[r], iters);
        fflush(stdout);
    }
    np_runtime_stop();
    summary s = summarize(v, (size_t)reps);
    printf("park_ready summary reps=%d median_ns_per_op=%.1f min_ns_per_op=%.1f "
           "max_ns_per_op=%.1f\n",
           reps, s.med, s.min, s.max);
    free(v);
}

/* ---- deadline_reset ------------------------------------------------------- */

typedef struct {
    long warmup, iters;
    int64_t elapsed;
    int err;
    waitgroup wg;
} dr_state;

static void dr_task(void *p)
{
    dr_state *st = p;
    int fds[2];
    np_poll_desc *pd = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        st->err = errno;
        goto out;
    }
    int e = np_poll_open(fds[0], &pd);
    if (e) {
        st->err = e;
        goto out_close;
    }
    /* Go: c.SetWriteDeadline(time.Now().Add(2 * time.Hour));
     *     deadline := time.Now().Add(time.Hour)
     *     for ... { c.SetReadDeadline(deadline); deadline = deadline.Add(1) } */
    np_poll_set_deadline(pd, np_now() + 2 * HOUR_NS, NP_MODE_W);
    int64_t deadline = np_now() + HOUR_NS;
    for (long i = 0; i < st->warmup; i++) {
        np_poll_set_deadline(pd, deadline, NP_MODE_R);
        deadline++;
    }
    int64_t t0 = np_now();
    for (long i = 0; i < st->iters; i++) {
        np_poll_set_deadline(pd, deadline, NP_MODE_R);
        deadline++;
    }
    st->elapsed = np_now() - t0;
    np_poll_unblock(pd);
    np_poll_close(pd);
out_close:
    close(fds[0]);
    close(fds[1]);
out:
    wg_done(&st->wg);
}

static void bench_deadline_reset(int reps, long iters)
{
    double *v = calloc((size_t)reps, sizeof *v);
    if (!v)
        die("calloc", ENOMEM);
    start_runtime();
    for (int r = 0; r < reps; r++) {
        dr_state st;
        memset(&st, 0, sizeof st);
        st.iters = iters;
        st.warmup = iters / 10 + 1;
        wg_init(&st.wg, 1);
        int e = np_go(dr_task, &st);
        if (e)
            die("np_go", e);
        wg_wait(&st.wg, "deadline_reset");
        if (st.err)
            die("deadline_reset setup", st.err);
        v[r] = (double)st.elapsed / (double)iters;
        printf("deadline_reset ns_per_op=%.1f iters=%ld\n", v[r], iters);
        fflush(stdout);
    }
    np_runtime_stop();
    summary s = summarize(v, (size_t)reps);
    printf("deadline_reset summary reps=%d median_ns_per_op=%.1f min_ns_per_op=%.1f "
           "max_ns_per_op=%.1f\n",
           reps, s.med, s.min, s.max);
    free(v);
}

/* ---- break_latency -------------------------------------------------------- */

typedef struct {
    _Atomic int64_t t1; /* 0 until the task ran */
} bl_sample;

static void bl_task(void *p)
{
    bl_sample *s = p;
    atomic_store_explicit(&s->t1, np_now(), memory_order_release);
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void bench_break_latency(int reps, long samples, long gap_us)
{
    double *med = calloc((size_t)reps, sizeof *med);
    double *p99 = calloc((size_t)reps, sizeof *p99);
    double *lat = calloc((size_t)samples, sizeof *lat);
    if (!med || !p99 || !lat)
        die("calloc", ENOMEM);
    double all_min = 0, all_max = 0;
    start_runtime();
    sleep_ns(gap_us * 1000); /* let the worker block in epoll_wait */
    for (int r = 0; r < reps; r++) {
        np_sched_stats before, after;
        np__sched_stats(&before);
        for (long i = 0; i < samples; i++) {
            bl_sample s;
            atomic_init(&s.t1, 0);
            int64_t t0 = np_now();
            int e = np_go(bl_task, &s);
            if (e)
                die("np_go", e);
            /* The gap both spaces the samples and waits for the task. */
            sleep_ns(gap_us * 1000);
            int64_t t1, waited = 0;
            while ((t1 = atomic_load_explicit(&s.t1, memory_order_acquire)) == 0) {
                if (waited > (int64_t)WAIT_LIMIT_S * NS_PER_S) {
                    fprintf(stderr, "bench_core: break_latency: task did not run\n");
                    exit(1);
                }
                sleep_ns(NS_PER_MS);
                waited += NS_PER_MS;
            }
            lat[i] = (double)(t1 - t0) / 1000.0;
        }
        np__sched_stats(&after);
        qsort(lat, (size_t)samples, sizeof *lat, cmp_double);
        med[r] = samples % 2 ? lat[samples / 2] : (lat[samples / 2 - 1] + lat[samples / 2]) / 2;
        p99[r] = pct_sorted(lat, (size_t)samples, 99.0);
        if (r == 0 || lat[0] < all_min)
            all_min = lat[0];
        if (r == 0 || lat[samples - 1] > all_max)
            all_max = lat[samples - 1];
        printf("break_latency median_us=%.2f p99_us=%.2f min_us=%.2f max_us=%.2f samples=%ld "
               "breaks=%llu\n",
               med[r], p99[r], lat[0], lat[samples - 1], samples,
               (unsigned long long)(after.breaks - before.breaks));
        fflush(stdout);
    }
    np_runtime_stop();
    summary m = summarize(med, (size_t)reps), q = summarize(p99, (size_t)reps);
    printf("break_latency summary reps=%d median_us=%.2f median_min_us=%.2f median_max_us=%.2f "
           "p99_us=%.2f p99_min_us=%.2f p99_max_us=%.2f min_us=%.2f max_us=%.2f\n",
           reps, m.med, m.min, m.max, q.med, q.min, q.max, all_min, all_max);
    free(med);
    free(p99);
    free(lat);
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_core park_ready|deadline_reset|break_latency [--reps N] [--iters N] "
               "[--gap-us N]\n"
               "  --reps N    repetitions (default 7)\n"
               "  --iters N   ops per repetition (park_ready, deadline_reset: default 1000000;\n"
               "              break_latency: samples, default 1000)\n"
               "  --gap-us N  break_latency: pause between samples (default 2000)\n");
}

static long parse_num(const char *s, const char *flag, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_core: %s wants an integer in [%ld, %ld]\n", flag, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    long reps = 7, iters = -1, gap_us = 2000;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[i + 1];
        bool took_next = !eq;
        if (klen == 6 && !strncmp(a, "--reps", klen))
            reps = parse_num(val, "--reps", 1, 1000);
        else if (klen == 7 && !strncmp(a, "--iters", klen))
            iters = parse_num(val, "--iters", 1, 1000000000L);
        else if (klen == 8 && !strncmp(a, "--gap-us", klen))
            gap_us = parse_num(val, "--gap-us", 100, 1000000);
        else {
            usage(stderr);
            return 2;
        }
        if (took_next)
            i++;
    }
    if (!strcmp(cmd, "park_ready"))
        bench_park_ready((int)reps, iters > 0 ? iters : 1000000);
    else if (!strcmp(cmd, "deadline_reset"))
        bench_deadline_reset((int)reps, iters > 0 ? iters : 1000000);
    else if (!strcmp(cmd, "break_latency"))
        bench_break_latency((int)reps, iters > 0 ? iters : 1000, gap_us);
    else {
        usage(stderr);
        return 2;
    }
    return 0;
}
