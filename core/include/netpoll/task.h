/* netpoll/task.h - tasks: stackful coroutines run by the worker threads
 * (Go: goroutines, gopark/goready). */
#ifndef NETPOLL_TASK_H
#define NETPOLL_TASK_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_task np_task;

/* Tasks share their worker thread's floating-point environment (rounding
 * mode, exception masks), as goroutines do: a task that changes it must
 * restore it before it parks or yields. (Build with NETPOLL_CTX_FPU=ON to
 * have each task keep its own; the ucontext fallback always does.) */

/* Runs on the worker's own stack after the parking task has left its stack.
 * Return true to keep the task parked (someone will np_ready it), false to
 * resume it at once (Go: the unlockf of gopark). Must not park or block. */
typedef bool (*np_commit_fn)(np_task *t, void *arg);

/* Starts fn(arg) as a new task. Callable from any thread while the runtime
 * runs. Returns 0, -EINVAL (fn NULL), -ENOMEM, or -ESRCH (no runtime). */
int np_go(void (*fn)(void *arg), void *arg);

/* The running task, or NULL on a thread that is not running a task. */
np_task *np_self(void);

/* Parks the calling task. commit(task, arg) runs after the switch; see
 * np_commit_fn. Returns when the task is resumed. Must be called from a task. */
void np_park(np_commit_fn commit, void *arg);

/* Makes a parked task runnable. Readying a task that is not parked (or twice
 * for one park) is a fatal error. Callable from any thread. */
void np_ready(np_task *t);

/* Lets other runnable tasks run first. */
void np_yield(void);

/* Parks the calling task for at least ns nanoseconds of runtime clock
 * (virtual time on the sim backend). Returns 0, or -EPERM outside a task. */
int np_sleep(int64_t ns);

/* How many times this task has parked (committed to sleep). For tests. */
uint64_t np_task_parks(const np_task *t);

#ifdef __cplusplus
}
#endif
#endif
