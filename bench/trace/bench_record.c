/* bench/trace/bench_record.c - recording overhead on the echo workload.
 *
 *   bench_record [--record [--reserve MIB]] [--seconds S] [--workers N]
 *   bench_record --slices MS [--seconds S] [--workers N]
 *   bench_record --micro [--iters N]
 *
 * Runs the workload of `netpoll record echo` (cli/workloads.c run_echo: an
 * echo server on 127.0.0.1 with a 1 s read deadline reset per read, 8
 * client connections doing 256-byte round trips with a 1 s read deadline
 * reset per request) on the live epoll runtime for S seconds (default 2),
 * with 2 workers by default as `netpoll record` uses. With --record the
 * recorder is on for the whole run (np_record_start before the server
 * starts, np_record_stop after it stopped, as record_cmd.c does); the trace
 * is then freed unwritten. Both contenders are this one binary. Before the
 * run, --record reserves the records' memory as `netpoll record` does by
 * default (np_record_reserve: 32 MiB per second of the run; --reserve MIB
 * another amount, 0 none).
 *
 * Prints one line:
 *   record=0|1 ops=N elapsed_ns=E rtps=R cpu_ns_per_op=C events=K errors=X
 * ops = completed round trips, elapsed = from the clients' start until the
 * last client returned (np_now), rtps = ops / elapsed, cpu_ns_per_op = the
 * process's CPU time (all threads, user + system, CLOCK_PROCESS_CPUTIME_ID)
 * over that same span divided by ops - less sensitive than rtps to time
 * stolen by other loads on a shared machine, blind to time spent blocked -
 * events = trace events recorded (0 when off).
 *
 * --slices MS: one process, one recording, the recorder switched on and off
 * every MS ms (np__rec_on, as np_record_start and stop set it; sections
 * check it first), the round trips counted per slice. On and off then share
 * the machine's moment: on a shared VM whose time is stolen in bursts this
 * is the sharper comparison (runs seconds apart differ by +-30 %). Prints
 * one line per slice pair and then
 *   slices=N on_rtps=R off_rtps=R ratio_median=X ratio_min=X ratio_max=X
 * where ratio is on/off per adjacent pair (which one comes first alternates).
 *
 * --micro: the cost of the recorder's off-path check (NP_RECORDING() in
 * core/record.h: a relaxed load of np__rec_on and a branch), as a loop of
 * N such checks minus the same loop without the load. Prints ns/check.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../slices.h"
#include "echo.h"
#include "netpoll/epoll.h"
#include "netpoll/netpoll.h"
#include "netpoll/record.h"

#define MS INT64_C(1000000)

/* Private to the core (core/record.h), exported by libnetpoll. */
extern _Atomic bool np__rec_on;

typedef struct {
    np_echo_client c;
    _Atomic int *running;
    _Atomic long *errors;
} client_arg;

typedef struct {
    double seconds;
    bool record;
    int slice_ms; /* --slices, 0: off */
    long ops, errors;
    int64_t elapsed;
    long long cpu;
    size_t events;
    int err;
} run_arg;

static long long cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void client_task(void *p)
{
    client_arg *a = p;
    if (np_echo_client_run(&a->c) != 0)
        atomic_fetch_add(a->errors, 1);
    atomic_fetch_sub(a->running, 1);
}

/* --slices: switches the recorder off and on every r->slice_ms until
 * `until`, counting the clients' round trips per slice. */
static void slices(run_arg *r, client_arg *a, int n, int64_t until)
{
    enum { MAX = 4096 };
    static double rate[MAX], cpu[MAX];
    static bool on[MAX];
    int k = 0;
    long last = 0;
    int64_t t = np_now();
    long long c0 = cpu_ns();
    while (k < MAX && np_now() + (int64_t)r->slice_ms * MS <= until) {
        on[k] = slice_on(k);
        atomic_store(&np__rec_on, on[k]);
        np_sleep((int64_t)r->slice_ms * MS);
        long done = 0;
        for (int i = 0; i < n; i++)
            done += __atomic_load_n(&a[i].c.done, __ATOMIC_RELAXED); /* a count, read racily */
        int64_t now = np_now();
        long long c1 = cpu_ns();
        cpu[k] = done > last ? (double)(c1 - c0) / (double)(done - last) : 0;
        c0 = c1;
        rate[k++] = (double)(done - last) * 1e9 / (double)(now - t);
        last = done;
        t = now;
    }
    atomic_store(&np__rec_on, true); /* the recording ends as it began: on */
    for (int i = 0; i + 1 < k; i += 2) {
        double ron = on[i] ? rate[i] : rate[i + 1], roff = on[i] ? rate[i + 1] : rate[i];
        printf("pair %d on %.0f off %.0f ratio %.3f\n", i / 2, ron, roff,
               roff > 0 ? ron / roff : 0);
    }
    static double scratch[MAX];
    slice_summary S;
    if (slice_summarise(rate, cpu, on, k, scratch, &S) == 0)
        return;
    printf("slices=%d on_rtps=%.0f off_rtps=%.0f ratio_median=%.4f ratio_min=%.3f ratio_max=%.3f "
           "cpu_per_rt_ratio_median=%.4f\n",
           2 * S.pairs, S.on, S.off, S.ratio_median, S.ratio_min, S.ratio_max, S.cpu_ratio_median);
}

static void bench_main(void *p)
{
    run_arg *r = p;
    if (r->record && (r->err = np_record_start()) != 0)
        return;
    np_echo_server srv = {.read_timeout = 1000 * MS};
    if ((r->err = np_echo_server_start(&srv, "tcp", "127.0.0.1:0")) != 0) {
        if (r->record) {
            np_trace tr;
            if (np_record_stop(&tr) == 0)
                np_trace_free(&tr);
        }
        return;
    }
    enum { N = 8 };
    client_arg a[N];
    _Atomic int running = 0;
    _Atomic long errors = 0;
    long long cpu0 = cpu_ns();
    int64_t start = np_now();
    int64_t until = start + (int64_t)(r->seconds * 1e9);
    for (int i = 0; i < N; i++) {
        a[i] = (client_arg){
            {"tcp", srv.addr, 1000000, 256, 1000 * MS, until, 0, 0}, &running, &errors};
        atomic_fetch_add(&running, 1);
        if (np_go(client_task, &a[i]) != 0) {
            atomic_fetch_sub(&running, 1);
            atomic_fetch_add(&errors, 1);
        }
    }
    if (r->slice_ms)
        slices(r, a, N, until);
    /* bounded: the clients stop starting round trips at `until` */
    int64_t limit = until + 5000 * MS;
    while (atomic_load(&running) > 0 && np_now() < limit)
        np_sleep(MS / 10);
    r->elapsed = np_now() - start;
    r->cpu = cpu_ns() - cpu0;
    for (int i = 0; i < N; i++)
        r->ops += a[i].c.done;
    np_echo_server_stop(&srv, 2000 * MS);
    r->errors = atomic_load(&errors) + atomic_load(&srv.errors) + (atomic_load(&running) > 0);
    if (r->record) {
        np_trace tr;
        r->err = np_record_stop(&tr);
        if (r->err == 0) {
            r->events = tr.n;
            np_trace_free(&tr);
        }
    }
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int micro(long iters)
{
    long hits = 0;
    long long best_with = -1, best_without = -1;
    for (int rep = 0; rep < 5; rep++) {
        long long t0 = mono_ns();
        for (long i = 0; i < iters; i++) {
            if (atomic_load_explicit(&np__rec_on, memory_order_relaxed))
                hits++;
            __asm__ volatile("" ::: "memory"); /* as after the calls around a real check */
        }
        long long t1 = mono_ns();
        for (long i = 0; i < iters; i++)
            __asm__ volatile("" ::: "memory");
        long long t2 = mono_ns();
        if (best_with < 0 || t1 - t0 < best_with)
            best_with = t1 - t0;
        if (best_without < 0 || t2 - t1 < best_without)
            best_without = t2 - t1;
    }
    printf("micro: iters=%ld with_check_ns_per_iter=%.3f without_ns_per_iter=%.3f "
           "check_ns=%.3f hits=%ld\n",
           iters, (double)best_with / (double)iters, (double)best_without / (double)iters,
           (double)(best_with - best_without) / (double)iters, hits);
    return 0;
}

int main(int argc, char **argv)
{
    run_arg r = {.seconds = 2};
    int workers = 2;
    bool do_micro = false;
    double reserve_mib = -1;
    long iters = 100000000;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--record")) {
            r.record = true;
        } else if (!strcmp(argv[i], "--reserve") && i + 1 < argc) {
            reserve_mib = strtod(argv[++i], &end);
            if (*end || !(reserve_mib >= 0 && reserve_mib <= 4096)) {
                fprintf(stderr, "bench_record: --reserve wants MiB in [0, 4096]\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--slices") && i + 1 < argc) {
            r.slice_ms = (int)strtol(argv[++i], &end, 10);
            r.record = true;
            if (*end || r.slice_ms < 10 || r.slice_ms > 10000) {
                fprintf(stderr, "bench_record: --slices wants 10..10000 ms\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--micro")) {
            do_micro = true;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            r.seconds = strtod(argv[++i], &end);
            if (*end || !(r.seconds > 0 && r.seconds <= 60)) {
                fprintf(stderr, "bench_record: --seconds wants (0, 60]\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            workers = (int)strtol(argv[++i], &end, 10);
            if (*end || workers < 1 || workers > 64) {
                fprintf(stderr, "bench_record: --workers wants 1..64\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = strtol(argv[++i], &end, 10);
            if (*end || iters < 1 || iters > 10000000000L) {
                fprintf(stderr, "bench_record: --iters wants 1..1e10\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_record [--record [--reserve MIB]] [--seconds S] "
                            "[--workers N]\n"
                            "       bench_record --slices MS [--seconds S] [--workers N]\n"
                            "       bench_record --micro [--iters N]\n");
            return 2;
        }
    }
    if (do_micro)
        return micro(iters);
    if (r.record && np_record_reserve((size_t)((reserve_mib < 0 ? 32 * r.seconds : reserve_mib) *
                                               1048576)) != 0) {
        fprintf(stderr, "bench_record: cannot reserve the records' memory\n");
        return 1;
    }
    np_config cfg = {.workers = workers, .backend = &np_backend_epoll};
    int err = np_main(&cfg, bench_main, &r);
    if (err || r.err) {
        fprintf(stderr, "bench_record: %s\n", np_strerror(err ? err : r.err));
        return 2;
    }
    printf("record=%d ops=%ld elapsed_ns=%lld rtps=%.1f cpu_ns_per_op=%.0f events=%zu errors=%ld\n",
           r.record, r.ops, (long long)r.elapsed,
           r.elapsed > 0 ? (double)r.ops * 1e9 / (double)r.elapsed : 0.0,
           r.ops > 0 ? (double)r.cpu / (double)r.ops : 0.0, r.events, r.errors);
    return r.errors ? 1 : 0;
}
