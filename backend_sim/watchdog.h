/* backend_sim/watchdog.h - a hang of the simulated code is a finding.
 *
 * The explorers turn a loop of scheduling points into a livelock finding;
 * a loop with none (a planted bug in the timer heap's sift, say) would hang
 * the check or the explorer instead, until an outer timeout cut it with
 * nothing to show. So a timer looks every NP_WD_TICK seconds of the
 * process's CPU time at a progress count the caller gives (the check: the
 * scenarios begun and the explorer's progress calls; a program's explorer:
 * its executions and their steps): no change in NP_WD_TICKS ticks in a row is a
 * hang, and on_hang runs, in the signal handler (async-signal-safe work
 * only: write, _exit, raise). CPU time (ITIMER_VIRTUAL), not wall time: a
 * loaded machine does not make it fire sooner, a process waiting for its
 * children (mexplore.c) never fires, and the simulated code never blocks
 * for real (its time is virtual). Timers do not survive a fork: a child
 * starts its own. One watchdog per process; the header is included by the
 * check (cli/check_cmd.c) and the machine's explorer (mexplore.c). */
#ifndef NP_BACKEND_SIM_WATCHDOG_H
#define NP_BACKEND_SIM_WATCHDOG_H

#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define NP_WD_TICK  10 /* seconds of CPU time */
#define NP_WD_TICKS 3  /* ticks without progress: a hang (30 s) */

static uint64_t (*np__wd_progress)(void);
static void (*np__wd_on_hang)(void);
static uint64_t np__wd_last;
static int np__wd_still;

static void np__wd_tick(int sig)
{
    (void)sig;
    uint64_t p = np__wd_progress();
    if (p != np__wd_last) {
        np__wd_last = p;
        np__wd_still = 0;
    } else if (++np__wd_still >= NP_WD_TICKS) {
        np__wd_still = 0;
        np__wd_on_hang();
    }
}

static inline void np__wd_start(uint64_t (*progress)(void), void (*on_hang)(void))
{
    np__wd_progress = progress;
    np__wd_on_hang = on_hang;
    np__wd_last = progress();
    np__wd_still = 0;
    struct sigaction sa = {0};
    sa.sa_handler = np__wd_tick;
    sa.sa_flags = SA_RESTART; /* file and database writes go on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGVTALRM, &sa, NULL);
    struct itimerval it = {{NP_WD_TICK, 0}, {NP_WD_TICK, 0}};
    setitimer(ITIMER_VIRTUAL, &it, NULL);
}

/* A process that must never block for real (a program's explorer: one
 * thread, virtual time) can still deadlock for real when a planted bug
 * corrupts its memory - a pthread mutex locked twice on its only thread -
 * and then it uses no CPU time, so the timer above never fires. This one
 * looks every NP_WD_BTICK seconds of wall time: no progress and under 1 ms
 * of CPU time used since the last look, NP_WD_TICKS times in a row (6 s),
 * is a hang too. (A runnable process on a loaded machine still gets CPU
 * time every few ms.) */
#define NP_WD_BTICK 2 /* seconds of wall time */
static uint64_t np__wd_blast;
static int64_t np__wd_bcpu;
static int np__wd_bstill;

static inline int64_t np__wd_cpu_ns(void)
{
    struct timespec ts; /* clock_gettime is async-signal-safe */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void np__wd_btick(int sig)
{
    (void)sig;
    uint64_t p = np__wd_progress();
    int64_t c = np__wd_cpu_ns();
    if (p != np__wd_blast || c - np__wd_bcpu > 1000000) {
        np__wd_blast = p;
        np__wd_bcpu = c;
        np__wd_bstill = 0;
    } else if (++np__wd_bstill >= NP_WD_TICKS) {
        np__wd_bstill = 0;
        np__wd_on_hang();
    }
}

/* After np__wd_start, in a process that never blocks for real. */
static inline void np__wd_start_blocked(void)
{
    np__wd_blast = np__wd_progress();
    np__wd_bcpu = np__wd_cpu_ns();
    np__wd_bstill = 0;
    struct sigaction sa = {0};
    sa.sa_handler = np__wd_btick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{NP_WD_BTICK, 0}, {NP_WD_BTICK, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static inline void np__wd_stop(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    setitimer(ITIMER_REAL, &it, NULL); /* (harmless where it never started) */
}

#endif
