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

static inline void np__wd_stop(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &it, NULL);
}

#endif
