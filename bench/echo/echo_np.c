/* bench/echo/echo_np.c - this project's echo server: one task per
 * connection on the descriptor API (netpoll/net.h), as Go's is one goroutine
 * per connection.
 *
 *   echo_np [--port P] [--workers N] [--deadline] [--deadline-s D] [--timeout S]
 *           [--small-buf] [--stack-kib K] [--park N]
 *           [--record FILE [--reserve MIB] [--slices MS]]
 *
 * --port 0 (the default) picks a free port; prints "listening PORT". Listens
 * on 127.0.0.1. --workers sets np_config.workers (default 1). Each connection
 * task: np_read into a 4 KiB buffer, np_write the bytes straight back.
 * --deadline: np_set_read_deadline(fd, np_deadline_after(10 s)) before every
 * np_read (Go: SetReadDeadline(time.Now().Add(10 * time.Second))).
 * --deadline-s D: the same with a D-second deadline (implies --deadline).
 * --small-buf: each task reads into a 512-byte buffer on its stack instead of
 * 4 KiB (echo_go --buf 512), so a parked task's stack is one page: the idle
 * memory workload of bench/run_workloads.sh. --stack-kib K: np_config's
 * stack_size (default 0: the runtime's 128 KiB).
 * --park N: on SIGUSR1, starts N tasks each blocked in np_sleep(600 s) (from
 * a plain thread: np_go may be called from outside the runtime) and prints
 * "parked N" (echo_go --park N: goroutines in time.Sleep): memory per
 * parked task, without a descriptor each (bench/run_workloads.sh park).
 * --timeout S (default 900): the server exits by itself after S seconds.
 * --record FILE: the runtime records a trace from the start (netpoll/record.h);
 * on SIGTERM or SIGINT the server stops recording, writes the trace to FILE
 * (through FILE.tmp and a rename) and exits 0 - the recording overhead of a
 * server under bench/echo/loadgen (bench/trace/run_record_server.sh).
 * Before it starts, the records' memory is reserved as `netpoll record`
 * does (np_record_reserve): --reserve MIB, default 64 (0: none).
 * --slices MS: the recorder is switched off and on every MS ms (np__rec_on,
 * as np_record_start and stop set it) and the requests served are counted
 * per slice; at SIGTERM, before the trace is written, stderr gets
 *   slices=N on_rps=R off_rps=R ratio_median=X ratio_min=X ratio_max=X
 *   cpu_per_req_ratio_median=X
 * (on/off per adjacent pair; which comes first alternates): on a VM whose
 * time is stolen in bursts, slices side by side are the sharper comparison.
 * The trace then has gaps; it is written all the same. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "netpoll/record.h"
#include "netpoll/runtime.h"
#include "netpoll/task.h"

#include "../slices.h"

#define BUF       4096
#define SMALL_BUF 512

static long long g_deadline_ns = 10 * 1000000000LL;

static bool g_deadline;
static int g_port;
static const char *g_record; /* --record FILE */
static sigset_t g_stop_sigs; /* SIGTERM, SIGINT: blocked everywhere, taken by sigwait */
static int g_slice_ms;       /* --slices */

/* Private to the core (core/record.h), exported by libnetpoll. */
extern _Atomic bool np__rec_on;

/* Requests served, per thread (a line each: no shared counter to contend
 * for); --slices sums them. */
enum { NCOUNT = 64 };
static struct {
    _Alignas(64) _Atomic long n;
} g_served[NCOUNT];
static _Atomic int g_nthreads;
static _Thread_local int t_slot = -1;

static void served(void)
{
    if (t_slot < 0)
        t_slot = atomic_fetch_add(&g_nthreads, 1) % NCOUNT;
    atomic_fetch_add_explicit(&g_served[t_slot].n, 1, memory_order_relaxed);
}

static long served_total(void)
{
    long n = 0;
    for (int i = 0; i < NCOUNT; i++)
        n += atomic_load_explicit(&g_served[i].n, memory_order_relaxed);
    return n;
}

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --slices: switches the recorder, counts, until SIGTERM (g_slices_stop). */
enum { MAXS = 20000 };
static double s_rate[MAXS], s_cpu[MAXS];
static bool s_on[MAXS];
static _Atomic int s_n;
static _Atomic bool g_slices_stop;

static void *slicer(void *arg)
{
    (void)arg;
    long last = served_total();
    long long t = now_ns(CLOCK_MONOTONIC), c = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    int k = 0;
    while (k < MAXS && !atomic_load(&g_slices_stop)) {
        bool on = slice_on(k);
        atomic_store(&np__rec_on, on);
        struct timespec d = {g_slice_ms / 1000, (long)(g_slice_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        long n = served_total();
        long long t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        s_on[k] = on;
        s_rate[k] = (double)(n - last) * 1e9 / (double)(t1 - t);
        s_cpu[k] = n > last ? (double)(c1 - c) / (double)(n - last) : 0;
        atomic_store(&s_n, ++k);
        last = n;
        t = t1;
        c = c1;
    }
    atomic_store(&np__rec_on, true);
    return NULL;
}

static void slices_report(void)
{
    static double scratch[MAXS];
    slice_summary S;
    if (slice_summarise(s_rate, s_cpu, s_on, atomic_load(&s_n), scratch, &S) == 0) {
        fprintf(stderr, "echo_np: slices=0\n");
        return;
    }
    fprintf(stderr,
            "echo_np: slices=%d on_rps=%.0f off_rps=%.0f ratio_median=%.4f ratio_min=%.3f "
            "ratio_max=%.3f cpu_per_req_ratio_median=%.4f\n",
            2 * S.pairs, S.on, S.off, S.ratio_median, S.ratio_min, S.ratio_max, S.cpu_ratio_median);
}

/* --record: waits for SIGTERM/SIGINT, then stops the recording, writes the
 * trace and ends the process (the runtime is left running: exit tears it
 * down). */
static void *record_waiter(void *arg)
{
    (void)arg;
    int sig = 0;
    sigwait(&g_stop_sigs, &sig);
    if (g_slice_ms) {
        atomic_store(&g_slices_stop, true); /* the slicer leaves the recorder on */
        while (!atomic_load(&np__rec_on))
            sched_yield();
        slices_report();
    }
    np_trace tr;
    int rc = np_record_stop(&tr);
    if (rc < 0) {
        fprintf(stderr, "echo_np: record: %s\n", np_strerror(rc));
        _exit(1);
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_record);
    FILE *f = fopen(tmp, "w");
    int bad = !f || np_trace_emit(&tr, f) < 0;
    if (f && fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, g_record) != 0) {
        fprintf(stderr, "echo_np: record: cannot write %s\n", g_record);
        unlink(tmp);
        _exit(1);
    }
    fprintf(stderr, "echo_np: recorded %zu events into %s\n", tr.n, g_record);
    np_trace_free(&tr);
    _exit(0);
}

static void serve_with(np_fd *c, char *buf, size_t size)
{
    for (;;) {
        if (g_deadline && np_set_read_deadline(c, np_deadline_after(g_deadline_ns)) < 0)
            break;
        ssize_t n = np_read(c, buf, size);
        if (n <= 0)
            break;
        if (np_write(c, buf, (size_t)n, NULL) < 0)
            break;
        if (g_slice_ms)
            served();
    }
    np_close(c);
}

static void serve(void *arg)
{
    char buf[BUF];
    serve_with(arg, buf, sizeof buf);
}

static void serve_small(void *arg)
{
    char buf[SMALL_BUF];
    serve_with(arg, buf, sizeof buf);
}

static bool g_small_buf;

/* --park */
static int g_park;
static sigset_t g_park_sig; /* SIGUSR1: blocked everywhere, taken by parker */

static void parked(void *arg)
{
    (void)arg;
    np_sleep(600 * 1000000000LL);
}

static void *parker(void *arg)
{
    (void)arg;
    int sig = 0, n = 0;
    sigwait(&g_park_sig, &sig);
    while (n < g_park && np_go(parked, NULL) == 0)
        n++;
    printf("parked %d\n", n);
    fflush(stdout);
    return NULL;
}

static void accept_loop(void *arg)
{
    int *status = arg;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", g_port);
    np_fd *l;
    int rc = np_listen("tcp4", addr, 0, &l);
    if (rc < 0) {
        fprintf(stderr, "echo_np: listen %s: %s\n", addr, np_strerror(rc));
        *status = 1;
        return;
    }
    char local[64];
    rc = np_local_addr(l, local, sizeof local);
    const char *colon = rc == 0 ? strrchr(local, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "echo_np: local address: %s\n", np_strerror(rc));
        *status = 1;
        return;
    }
    printf("listening %s\n", colon + 1);
    fflush(stdout);
    for (;;) {
        np_fd *c;
        rc = np_accept(l, &c);
        if (rc < 0) {
            if (rc == NP_ECLOSED)
                break;
            np_sleep(1000000); /* e.g. out of descriptors: back off 1 ms */
            continue;
        }
        np_set_nodelay(c, 1); /* as Go's net does for every TCP connection */
        if (np_go(g_small_buf ? serve_small : serve, c) < 0)
            np_close(c);
    }
    np_close(l);
}

int main(int argc, char **argv)
{
    int workers = 1, timeout_s = 900, stack_kib = 0;
    double reserve_mib = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            g_port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--deadline"))
            g_deadline = true;
        else if (!strcmp(argv[i], "--deadline-s") && i + 1 < argc) {
            g_deadline = true;
            g_deadline_ns = atoll(argv[++i]) * 1000000000LL;
        } else if (!strcmp(argv[i], "--small-buf"))
            g_small_buf = true;
        else if (!strcmp(argv[i], "--park") && i + 1 < argc)
            g_park = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stack-kib") && i + 1 < argc)
            stack_kib = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--record") && i + 1 < argc)
            g_record = argv[++i];
        else if (!strcmp(argv[i], "--reserve") && i + 1 < argc)
            reserve_mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--slices") && i + 1 < argc)
            g_slice_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: echo_np [--port P] [--workers N] [--deadline] [--deadline-s D] "
                            "[--timeout S] [--small-buf] [--stack-kib K] [--park N] "
                            "[--record FILE [--reserve MIB] [--slices MS]]\n");
            return 2;
        }
    }
    if (g_slice_ms && (!g_record || g_slice_ms < 10 || g_slice_ms > 10000)) {
        fprintf(stderr, "echo_np: --slices wants 10..10000 ms, with --record\n");
        return 2;
    }
    if (workers < 1) {
        fprintf(stderr, "echo_np: --workers must be >= 1\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(timeout_s > 0 ? timeout_s : 900)); /* SIGALRM ends the process */

    if (g_record) { /* before np_main: its threads inherit the blocked signals */
        sigemptyset(&g_stop_sigs);
        sigaddset(&g_stop_sigs, SIGTERM);
        sigaddset(&g_stop_sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &g_stop_sigs, NULL);
        if (reserve_mib > 0 && np_record_reserve((size_t)(reserve_mib * 1048576)) != 0)
            fprintf(stderr, "echo_np: record: could not reserve %.0f MiB\n", reserve_mib);
        int rc = np_record_start();
        pthread_t th;
        if (rc < 0 || pthread_create(&th, NULL, record_waiter, NULL) != 0) {
            fprintf(stderr, "echo_np: record: %s\n", rc < 0 ? np_strerror(rc) : "no thread");
            return 1;
        }
        if (g_slice_ms && pthread_create(&th, NULL, slicer, NULL) != 0) {
            fprintf(stderr, "echo_np: --slices: no thread\n");
            return 1;
        }
    }
    if (g_park > 0) { /* before np_main: its threads inherit the blocked signal */
        sigemptyset(&g_park_sig);
        sigaddset(&g_park_sig, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &g_park_sig, NULL);
        pthread_t th;
        if (pthread_create(&th, NULL, parker, NULL) != 0) {
            fprintf(stderr, "echo_np: --park: no thread\n");
            return 1;
        }
    }
    np_config cfg = {.workers = workers, .stack_size = (size_t)stack_kib * 1024};
    int status = 0;
    int rc = np_main(&cfg, accept_loop, &status);
    if (rc < 0) {
        fprintf(stderr, "echo_np: runtime: %s\n", np_strerror(rc));
        return 1;
    }
    return status;
}
