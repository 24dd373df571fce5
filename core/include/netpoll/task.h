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

/* ---- joinable tasks (Go has none: its programs use a WaitGroup or a channel)
 *
 * np_spawn starts fn(arg) as a task, as np_go does, and returns a handle
 * that receives what fn returns. Every handle must be passed exactly once to
 * np_join or np_detach, which free it (a handle used after that, or twice, is
 * undefined, as a pthread_t is). A task still parked when the runtime stops
 * is freed with the others (np_runtime_stop); its handle is then never
 * completed: join it before that, or detach it. */
typedef struct np_task_handle np_task_handle;

/* Starts fn(arg) as a new task and sets *out to its handle. Returns 0,
 * -EINVAL (fn or out NULL), -ENOMEM, or -ESRCH (no runtime). */
int np_spawn(void *(*fn)(void *arg), void *arg, np_task_handle **out);

/* Parks the calling task until h's task has returned, stores what fn
 * returned in *result (if result is not NULL) and frees h. Returns 0, or
 * -EPERM if the task has not returned yet and the caller is not a task
 * (h stays valid then). */
int np_join(np_task_handle *h, void **result);

/* Lets h's task run on unjoined: the handle is freed once the task returns
 * (at once if it has). Returns 0. */
int np_detach(np_task_handle *h);

/* How many times this task has parked (committed to sleep). For tests. */
uint64_t np_task_parks(const np_task *t);

#ifdef __cplusplus
}
#endif
#endif
