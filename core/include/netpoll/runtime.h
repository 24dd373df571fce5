/* netpoll/runtime.h - starting and stopping the runtime; its clock.
 *
 * There is one runtime per process (as in Go). It owns N worker threads that
 * run tasks, a timer heap, and one backend (epoll or the simulator). An idle
 * worker blocks in the backend's poll with the time to the next timer.
 */
#ifndef NETPOLL_RUNTIME_H
#define NETPOLL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "netpoll/backend.h"
#include "netpoll/design.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_config {
    int workers;               /* worker threads; 0 = number of CPUs */
    const np_backend *backend; /* NULL = the library's default (epoll) */
    const np_design *design;   /* NULL = &np_design_go1_21 */
    size_t stack_size;         /* usable bytes per task stack (tasks cannot grow
                                  them); 0 = default, 128 KiB. An overflow faults
                                  in the guard page below and, if SIGSEGV was at
                                  its default when the runtime started, is
                                  reported on stderr before the process dies */
} np_config;

/* Starts the runtime. Returns 0, -EBUSY if one runs already, -EINVAL for a
 * bad config (e.g. more workers than the backend allows), or -errno from the
 * backend or thread creation. */
int np_runtime_start(const np_config *cfg);

/* Stops the workers and frees every task, parked or not, and all stacks.
 * Must not be called from a task. Returns 0 or -ESRCH. */
int np_runtime_stop(void);

/* Convenience: start, run fn(arg) as a task, wait for it to return, stop.
 * Returns 0 or what np_runtime_start returned. Tasks that have not ended
 * when fn returns (parked, say, on a descriptor or a channel nobody will
 * use again) are freed with the runtime, as a Go program's goroutines end
 * with main - and never silently: np_main says how many on stderr. */
int np_main(const np_config *cfg, void (*fn)(void *arg), void *arg);

/* np_main, but the count of those tasks goes to *left instead of stderr
 * (0: every task had ended): the documented way to cancel them. */
int np_main_left(const np_config *cfg, void (*fn)(void *arg), void *arg, unsigned *left);

/* np_main, but it returns only once every task has ended: after fn returns
 * it waits for the others (a task parked forever keeps it waiting; the sim
 * build's single-threaded world returns -EDEADLK when no task can run and no
 * timer is left). */
int np_main_wait(const np_config *cfg, void (*fn)(void *arg), void *arg);

/* The runtime clock in nanoseconds (monotonic; virtual on the sim backend). */
int64_t np_now(void);

/* The design the runtime runs (np_design_go1_21 when none runs). */
const np_design *np_current_design(void);

#ifdef __cplusplus
}
#endif
#endif
