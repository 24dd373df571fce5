/* tests/test_sched.c - tasks and the scheduler. Registered with 2 workers on
 * epoll and 1 on the simulator (which accepts one). */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "netpoll/epoll.h"
#include "netpoll/sim.h"
#include "scheduler.h"

#define MS INT64_C(1000000)

/* ---- ping-pong ----------------------------------------------------------- */

/* Two tasks take turns: each parks until it is its turn, then hands the turn
 * over and readies the other. */
typedef struct pair {
    _Atomic int turn;              /* 0 or 1: who may go */
    _Atomic(np_task *) sleeper[2]; /* a parked side publishes itself here */
    int rounds;
} pair;

typedef struct side {
    pair *p;
    int me;
    _Atomic int *finished;
} side;

static bool pp_commit(np_task *t, void *arg)
{
    side *s = arg;
    atomic_store(&s->p->sleeper[s->me], t);
    if (atomic_load(&s->p->turn) != s->me)
        return true;     /* the other side will ready us */
    np_task *expect = t; /* our turn came meanwhile: withdraw, unless taken */
    return !atomic_compare_exchange_strong(&s->p->sleeper[s->me], &expect, NULL);
}

static void pp_task(void *arg)
{
    side *s = arg;
    for (int r = 0; r < s->p->rounds; r++) {
        while (atomic_load(&s->p->turn) != s->me)
            np_park(pp_commit, s);
        atomic_store(&s->p->turn, 1 - s->me);
        np_task *other = atomic_exchange(&s->p->sleeper[1 - s->me], NULL);
        if (other)
            np_ready(other);
    }
    atomic_fetch_add(s->finished, 1);
}

typedef struct {
    int ntasks, rounds;
    _Atomic int finished;
} pp_arg;

static void body_ping_pong(void *arg)
{
    pp_arg *a = arg;
    int npairs = a->ntasks / 2;
    pair *pairs = calloc((size_t)npairs, sizeof *pairs);
    side *sides = calloc((size_t)a->ntasks, sizeof *sides);
    for (int i = 0; i < npairs; i++) {
        pairs[i].rounds = a->rounds;
        for (int k = 0; k < 2; k++) {
            sides[2 * i + k] = (side){&pairs[i], k, &a->finished};
            if (np_go(pp_task, &sides[2 * i + k]) != 0)
                abort();
        }
    }
    /* bounded wait: 60 s of runtime clock */
    for (int i = 0; i < 60000 && atomic_load(&a->finished) < a->ntasks; i++)
        np_sleep(MS);
    free(pairs);
    free(sides);
}

/* ---- np_main and the tasks left when the main task returns ------------------ */

static bool park_forever_commit(np_task *t, void *arg)
{
    (void)t;
    (void)arg;
    return true; /* parked; nobody will ready it */
}

static void parks_forever(void *arg)
{
    atomic_fetch_add((_Atomic int *)arg, 1);
    np_park(park_forever_commit, NULL);
}

static void body_leaves_two_parked(void *arg)
{
    _Atomic int *started = arg;
    np_go(parks_forever, arg);
    np_go(parks_forever, arg);
    for (int i = 0; i < 5000 && atomic_load(started) < 2; i++) /* bounded: 5 s */
        np_sleep(MS);
}

static void main_left_counts_the_tasks_still_parked(void)
{
    _Atomic int started = 0;
    unsigned left = 99;
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_main_left(&cfg, body_leaves_two_parked, &started, &left), 0);
    NP_ASSERT_EQ_INT(atomic_load(&started), 2);
    NP_ASSERT_EQ_INT((int)left, 2);
    /* and 0 when every task ended */
    pp_arg a = {.ntasks = 4, .rounds = 3};
    NP_ASSERT_EQ_INT(np_main_left(&cfg, body_ping_pong, &a, &left), 0);
    NP_ASSERT_EQ_INT((int)left, 0);
}

static void sleeps_then_marks(void *arg)
{
    np_sleep(20 * MS);
    atomic_store((_Atomic int *)arg, 1);
}

static void body_starts_a_sleeper(void *arg)
{
    np_go(sleeps_then_marks, arg); /* and returns at once */
}

static void main_wait_returns_once_every_task_ended(void)
{
    _Atomic int marked = 0;
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_main_wait(&cfg, body_starts_a_sleeper, &marked), 0);
    NP_ASSERT_EQ_INT(atomic_load(&marked), 1);
}

static void ten_thousand_tasks_ping_pong_through_park_and_ready(void)
{
    pp_arg a = {.ntasks = 10000, .rounds = 20};
    np_config cfg = {.workers = test_workers, .backend = test_backend, .stack_size = 64 * 1024};
    NP_ASSERT_EQ_INT(np_main(&cfg, body_ping_pong, &a), 0);
    NP_ASSERT_EQ_INT(atomic_load(&a.finished), 10000);
}

/* ---- idle ----------------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void idle_runtime_burns_under_10ms_cpu_in_200ms(void)
{
    if (fx_is_sim())
        return; /* virtual time: nothing to measure */
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&cfg), 0);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* let the workers settle into their idle waits */
    double c0 = cpu_seconds();
    ts.tv_nsec = 200 * 1000 * 1000;
    nanosleep(&ts, NULL);
    double used = cpu_seconds() - c0;
    NP_ASSERT_EQ_INT(np_runtime_stop(), 0);
    if (used >= 0.010)
        fprintf(stderr, "idle runtime used %.3f ms of CPU in 200 ms\n", used * 1e3);
    CU_ASSERT(used < 0.010);
}

/* ---- sleep, yield, commit -------------------------------------------------- */

static void body_sleep(void *arg)
{
    int64_t *late = arg;
    for (int i = 0; i < 5; i++) {
        int64_t t0 = np_now();
        NP_ASSERT_EQ_INT(np_sleep(3 * MS), 0);
        int64_t d = np_now() - t0;
        CU_ASSERT(d >= 3 * MS);
        if (d - 3 * MS > *late)
            *late = d - 3 * MS;
    }
}
static void sleep_never_wakes_early(void)
{
    int64_t late = 0;
    fx_run(body_sleep, &late);
    if (fx_is_sim())
        NP_ASSERT_EQ_INT(late, 0); /* virtual time is exact */
}

typedef struct {
    int order[8];
    _Atomic int n;
} trace;
static void yielder(void *arg)
{
    trace *t = arg;
    for (int i = 0; i < 3; i++) {
        t->order[atomic_fetch_add(&t->n, 1)] = 1;
        np_yield();
    }
}
static void body_yield(void *arg)
{
    trace *t = arg;
    np_go(yielder, t);
    for (int i = 0; i < 3; i++) {
        np_yield();
        t->order[atomic_fetch_add(&t->n, 1)] = 0;
    }
}
static void yield_lets_other_tasks_run(void)
{
    if (test_workers != 1)
        return; /* the interleaving is only fixed with one worker */
    trace t = {{0}, 0};
    fx_run(body_yield, &t);
    NP_ASSERT_EQ_INT(atomic_load(&t.n), 6);
    /* FIFO run queue: the yielder runs as soon as main yields */
    int want[6] = {1, 0, 1, 0, 1, 0};
    for (int i = 0; i < 6; i++)
        NP_ASSERT_EQ_INT(t.order[i], want[i]);
}

static bool decline(np_task *t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
    return false;
}
static void body_decline(void *arg)
{
    uint64_t parks = np_task_parks(np_self());
    np_park(decline, arg); /* returns at once: the commit said no */
    np_park(decline, arg);
    NP_ASSERT_EQ_INT(np_task_parks(np_self()), parks);
}
static void commit_returning_false_resumes_the_task(void)
{
    int calls = 0;
    fx_run(body_decline, &calls);
    NP_ASSERT_EQ_INT(calls, 2);
}

/* ---- waking an idle runtime from outside ---------------------------------- */

static void flag_task(void *arg)
{
    atomic_store((_Atomic int *)arg, 1);
}
static void np_go_from_another_thread_wakes_the_idle_runtime(void)
{
#if NP_SIM
    return; /* the sim build's world runs on the thread that turns it */
#endif
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&cfg), 0);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the runtime is idle: its poller blocks */
    _Atomic int flag = 0;
    NP_ASSERT_EQ_INT(np_go(flag_task, &flag), 0);
    ts.tv_nsec = 1000 * 1000;
    for (int i = 0; i < 5000 && !atomic_load(&flag); i++) /* at most 5 s */
        nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(atomic_load(&flag), 1);
    NP_ASSERT_EQ_INT(np_runtime_stop(), 0);
}

/* More workers than the suite's default, so that some sleep while another
 * polls: the races between a worker going to sleep and a waker. */
#define RACE_WORKERS 4

/* A task readied from outside a worker, again and again, each time just as
 * the runtime goes idle (the waker reads the sleepers and the poller while
 * workers are on their way to sleep or into the poller): every one must run
 * promptly, none may wait for an unrelated wake-up. */
static void wakeups_from_outside_are_never_lost(void)
{
    if (fx_is_sim())
        return; /* one worker, one thread */
    np_config cfg = {.workers = RACE_WORKERS, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&cfg), 0);
    int slow = 0;
    for (int i = 0; i < 3000 && !slow; i++) {
        _Atomic int flag = 0;
        NP_ASSERT_EQ_INT(np_go(flag_task, &flag), 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            if (atomic_load(&flag))
                break;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (t1.tv_sec - t0.tv_sec >= 5) { /* lost: nothing else would wake it */
                slow = i + 1;
                break;
            }
            if (i % 3 == 0)
                sched_yield();
            else
                nanosleep(&(struct timespec){0, (i % 7) * 10000}, NULL);
        }
    }
    if (slow)
        fprintf(stderr, "np_go #%d did not run within 5 s\n", slow);
    CU_ASSERT_EQUAL(slow, 0);
    NP_ASSERT_EQ_INT(np_runtime_stop(), 0);
}

/* One pair of tasks handing the turn back and forth on more workers than
 * tasks: nearly every hand-over readies a task while the other workers are
 * going to sleep, stealing, or polling. */
static void one_pair_ping_pong_on_four_workers(void)
{
    if (fx_is_sim())
        return;
    pp_arg a = {.ntasks = 2, .rounds = 20000};
    np_config cfg = {.workers = RACE_WORKERS, .backend = test_backend, .stack_size = 64 * 1024};
    NP_ASSERT_EQ_INT(np_main(&cfg, body_ping_pong, &a), 0);
    NP_ASSERT_EQ_INT(atomic_load(&a.finished), 2);
}

/* Tasks started by one task land on its worker's local queue; idle workers
 * must steal them, so CPU-bound tasks end up on several threads. */
typedef struct {
    _Atomic int done;
    pthread_t ran_on[8];
} spread_arg;
typedef struct {
    spread_arg *s;
    int i;
} spread_item;
static void spin_task(void *arg)
{
    spread_item *it = arg;
    it->s->ran_on[it->i] = pthread_self();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do /* 20 ms on the CPU, never parking: only stealing can spread these */
        clock_gettime(CLOCK_MONOTONIC, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 20 * MS);
    atomic_fetch_add(&it->s->done, 1);
}
static void body_spread(void *arg)
{
    spread_arg *s = arg;
    spread_item items[8];
    for (int i = 0; i < 8; i++) {
        items[i] = (spread_item){s, i};
        NP_ASSERT_EQ_INT(np_go(spin_task, &items[i]), 0);
    }
    for (int i = 0; i < 60000 && atomic_load(&s->done) < 8; i++)
        np_sleep(MS);
}
static void idle_workers_steal_tasks_queued_on_a_busy_one(void)
{
    if (fx_is_sim())
        return;
    spread_arg s = {0};
    np_config cfg = {.workers = RACE_WORKERS, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_main(&cfg, body_spread, &s), 0);
    NP_ASSERT_EQ_INT(atomic_load(&s.done), 8);
    int distinct = 0;
    for (int i = 0; i < 8; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || pthread_equal(s.ran_on[i], s.ran_on[j]);
        distinct += !seen;
    }
    CU_ASSERT(distinct >= 2);
}

/* ---- misuse ---------------------------------------------------------------- */

static void body_ready_running(void *arg)
{
    (void)arg;
    np_ready(np_self()); /* not parked: fatal */
}
static void run_ready_running(void *arg)
{
    (void)arg;
    fx_run(body_ready_running, NULL);
}
static void ready_of_a_task_that_is_not_parked_is_fatal(void)
{
    char buf[1024];
    int st = fx_child_stderr(run_ready_running, NULL, buf, sizeof buf);
    CU_ASSERT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "not parked"));
}

/* A task that overflows its stack hits the guard page: SIGSEGV, not a
 * silent overwrite of whatever lies below. */
static int recurse(volatile char *p, int n)
{
    volatile char frame[1024];
    frame[0] = (char)n;
    if (p)
        frame[1] = p[0];
    return n > 0 ? recurse(frame, n - 1) + frame[1] : 0;
}
static char *guard_lo; /* the task's guard page: [guard_lo, guard_lo + page) */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    char *a = si->si_addr;
    _exit(a >= guard_lo && a < guard_lo + sysconf(_SC_PAGESIZE) ? 42 : 43);
}

static void body_overflow(void *arg)
{
    (void)arg;
    /* Per thread: install it on the worker that runs this task. The handler
     * cannot run on the overflowed stack. */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    guard_lo = (char *)np_self()->stack - sysconf(_SC_PAGESIZE);
    recurse(NULL, 1 << 20); /* 1 GiB of frames: far past any stack */
}

static void a_stack_overflow_hits_the_guard_page(void)
{
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                               \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return; /* the sanitizers take SIGSEGV over */
#endif
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
        sigaction(SIGSEGV, &sa, NULL);
        np_config cfg = {.workers = 1, .backend = test_backend, .stack_size = 64 * 1024};
        np_main(&cfg, body_overflow, NULL);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 42)
        fprintf(stderr, "overflow child: status %#x (42: fault in the guard page)\n", st);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}

/* With SIGSEGV at its default, the runtime reports a task's overflow itself
 * (core/scheduler.c, stack_report): one line naming the stack size and the
 * cure on stderr, then the default action (the process dies of SIGSEGV, as
 * it would have). Tasks get the default stack, the one users meet. */
static void body_overflow_default(void *arg)
{
    (void)arg;
    recurse(NULL, 1 << 20);
}

static void overflow_child(void *arg)
{
    (void)arg;
    signal(SIGSEGV, SIG_DFL);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    np_config cfg = {.workers = 1, .backend = test_backend};
    np_main(&cfg, body_overflow_default, NULL);
}

static void a_stack_overflow_is_reported(void)
{
#if NP_SIM
    return; /* the sim build's runtime is backend_sim/machine/world.c */
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                               \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return; /* the sanitizers' own handlers: the runtime leaves them in place */
#endif
    char buf[1024];
    int st = fx_child_stderr(overflow_child, NULL, buf, sizeof buf);
    if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV ||
        !strstr(buf, "overflowed its stack"))
        fprintf(stderr, "overflow child: status %#x, stderr: %s\n", st, buf);
    CU_ASSERT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "netpoll: a task overflowed its stack (131072 bytes"));
}

static void start_rejects_bad_configs_and_a_second_runtime(void)
{
    np_config bad = {.workers = -1, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&bad), -EINVAL);
    np_config two_sim = {.workers = 2, .backend = &np_backend_sim};
    NP_ASSERT_EQ_INT(np_runtime_start(&two_sim), -EINVAL);
    np_config tiny = {.workers = 1, .backend = test_backend, .stack_size = 100};
    NP_ASSERT_EQ_INT(np_runtime_start(&tiny), -EINVAL);
    np_config ok = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_runtime_start(&ok), 0);
    NP_ASSERT_EQ_INT(np_runtime_start(&ok), -EBUSY);
    NP_ASSERT_EQ_INT(np_runtime_stop(), 0);
    NP_ASSERT_EQ_INT(np_runtime_stop(), -ESRCH);
    CU_ASSERT_EQUAL(np_sleep(1), -EPERM); /* not a task */
}

/* Task stacks do not take a mapping each (core/stack_pool.h): where the
 * kernel has guard regions (Linux >= 6.13), 1,000 live tasks add far fewer
 * than 1,000 mappings. With a PROT_NONE guard they added 2,000, and
 * vm.max_map_count (65530 by default) stopped np_go at ~32,700 tasks. */
static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, ch;
    if (!f)
        return -1;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static bool kernel_has_guard_regions(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    char *p =
        mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, (size_t)ps, 102 /* MADV_GUARD_INSTALL */) == 0;
    munmap(p, (size_t)ps * 2);
    return ok;
}

static void sleep_50ms(void *arg)
{
    (void)arg;
    np_sleep(50 * MS);
}

static void body_maps(void *arg)
{
    int *grew = arg;
    int m0 = count_maps();
    for (int i = 0; i < 1000; i++)
        NP_ASSERT_EQ_INT(np_go(sleep_50ms, NULL), 0);
    *grew = count_maps() - m0; /* all 1,000 exist: none has slept 50 ms yet */
    np_sleep(200 * MS);
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NP_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(NP_TEST_TSAN)
#define NP_TEST_TSAN 1
#endif

static void a_thousand_task_stacks_add_few_mappings(void)
{
#ifdef NP_TEST_TSAN
    /* TSan maps its own shadow beside each task stack (1,103 mappings for
     * 1,000 tasks in the CI's TSan build): the count says nothing there */
    fprintf(stderr, "(skipped under TSan: its shadow mappings)\n");
    return;
#endif
    if (!kernel_has_guard_regions()) {
        fprintf(stderr,
                "(skipped: no MADV_GUARD_INSTALL before Linux 6.13; a stack is two mappings)\n");
        return;
    }
    int grew = -1;
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    NP_ASSERT_EQ_INT(np_main(&cfg, body_maps, &grew), 0);
    CU_ASSERT(grew >= 0 && grew < 100);
    if (grew >= 100)
        fprintf(stderr, "1,000 tasks added %d mappings\n", grew);
}

/* In the sim build the pollDesc code passes scheduling points; live it has none. */
static void body_points(void *arg)
{
    (void)arg;
    fx f;
    NP_ASSERT_EQ_INT(fx_open(&f), 0);
    NP_ASSERT_EQ_INT(np_poll_reset(f.pd, NP_MODE_R), 0);
    fx_close(&f);
}
static void sim_build_has_scheduling_points_live_build_none(void)
{
    uint64_t p0 = np_sim_points();
    fx_run(body_points, NULL);
#if NP_SIM
    CU_ASSERT(np_sim_points() > p0);
#else
    NP_ASSERT_EQ_INT(np_sim_points() - p0, 0);
#endif
}

static const np_test_case cases[] = {
    {"main_left_counts_the_tasks_still_parked", main_left_counts_the_tasks_still_parked},
    {"main_wait_returns_once_every_task_ended", main_wait_returns_once_every_task_ended},
    {"ten_thousand_tasks_ping_pong_through_park_and_ready",
     ten_thousand_tasks_ping_pong_through_park_and_ready},
    {"idle_runtime_burns_under_10ms_cpu_in_200ms", idle_runtime_burns_under_10ms_cpu_in_200ms},
    {"sleep_never_wakes_early", sleep_never_wakes_early},
    {"yield_lets_other_tasks_run", yield_lets_other_tasks_run},
    {"commit_returning_false_resumes_the_task", commit_returning_false_resumes_the_task},
    {"np_go_from_another_thread_wakes_the_idle_runtime",
     np_go_from_another_thread_wakes_the_idle_runtime},
    {"wakeups_from_outside_are_never_lost", wakeups_from_outside_are_never_lost},
    {"one_pair_ping_pong_on_four_workers", one_pair_ping_pong_on_four_workers},
    {"idle_workers_steal_tasks_queued_on_a_busy_one",
     idle_workers_steal_tasks_queued_on_a_busy_one},
    {"ready_of_a_task_that_is_not_parked_is_fatal", ready_of_a_task_that_is_not_parked_is_fatal},
    {"a_stack_overflow_hits_the_guard_page", a_stack_overflow_hits_the_guard_page},
    {"a_stack_overflow_is_reported", a_stack_overflow_is_reported},
    {"a_thousand_task_stacks_add_few_mappings", a_thousand_task_stacks_add_few_mappings},
    {"start_rejects_bad_configs_and_a_second_runtime",
     start_rejects_bad_configs_and_a_second_runtime},
    {"sim_build_has_scheduling_points_live_build_none",
     sim_build_has_scheduling_points_live_build_none},
    {NULL, NULL},
};

static void add_suites(void)
{
    np_test_add_suite("scheduler", cases);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
