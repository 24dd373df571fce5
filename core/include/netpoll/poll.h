/* netpoll/poll.h - the pollDesc layer (Go: runtime/netpoll.go).
 *
 * A pollDesc ties one file descriptor to the poller. Each direction (read,
 * write) has a binary semaphore that at most one task waits on at a time.
 * These calls must be made from a task (np_go), except np_poll_open,
 * np_poll_close, np_poll_set_deadline and np_poll_unblock, which any thread of
 * a running runtime may call.
 *
 * Typical use (what the netfd layer does for a read):
 *
 *     np_poll_reset(pd, NP_MODE_R);               // forget stale readiness
 *     while ((n = read(fd, ...)) < 0 && errno == EAGAIN)
 *         if ((err = np_poll_wait(pd, NP_MODE_R)) != NP_POLL_OK)
 *             break;                              // closing/timeout/...
 */
#ifndef NETPOLL_POLL_H
#define NETPOLL_POLL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_poll_desc np_poll_desc;

/* Directions, with Go's values so 'r' + 'w' means both. */
enum {
    NP_MODE_R = 'r',
    NP_MODE_W = 'w',
    NP_MODE_RW = 'r' + 'w',
};

/* Results of np_poll_wait and np_poll_reset (Go: pollNoError ...). Negative
 * values are -errno for bad arguments. */
enum {
    NP_POLL_OK = 0,          /* ready (or, for reset, prepared) */
    NP_POLL_CLOSING = 1,     /* np_poll_unblock was called */
    NP_POLL_TIMEOUT = 2,     /* the direction's deadline has expired */
    NP_POLL_NOTPOLLABLE = 3, /* read side: an error-only event (EPOLLERR) arrived */
};

/* The name of a result ("ok", "closing", "timeout", "notpollable"), as traces spell it. */
const char *np_poll_result_name(int res);

/* Registers fd with the backend and returns a pollDesc from the pollcache.
 * Returns 0, or -errno from the backend (-EPERM: fd cannot be polled, e.g. a
 * regular file), -EINVAL for a bad fd, -ENOMEM, -ESRCH if no runtime runs. */
int np_poll_open(int fd, np_poll_desc **out);

/* Unregisters the fd and returns pd to the pollcache. np_poll_unblock must
 * have been called and no task may be parked on pd; otherwise this aborts
 * (the caller's bug, as in Go). Returns 0 or -EINVAL for NULL. */
int np_poll_close(np_poll_desc *pd);

/* Prepares a read or write: reports closing/timeout/notpollable if set,
 * otherwise discards pending readiness so the caller retries its syscall
 * before waiting. Returns NP_POLL_* or -EINVAL. */
int np_poll_reset(np_poll_desc *pd, int mode);

/* Blocks the calling task until the direction is ready (NP_POLL_OK), its
 * deadline expires (NP_POLL_TIMEOUT), the pd is unblocked (NP_POLL_CLOSING) or
 * an error-only event arrives (NP_POLL_NOTPOLLABLE, read side). A pending
 * readiness is consumed without parking. Two tasks waiting on one direction
 * is a fatal "double wait". Returns -EINVAL for bad arguments, -EPERM when
 * not called from a task. */
int np_poll_wait(np_poll_desc *pd, int mode);

/* Sets the deadline of one or both directions. `at` is an absolute time on
 * the runtime clock (np_now()); 0 clears the deadline; any other value at or
 * before now expires it at once, waking a parked waiter with
 * NP_POLL_TIMEOUT. Equal read and write deadlines share one timer. Ignored
 * once the pd is closing. Returns 0 or -EINVAL. */
int np_poll_set_deadline(np_poll_desc *pd, int64_t at, int mode);

/* Begins closing: sets closing, wakes both directions' waiters with
 * NP_POLL_CLOSING and stops the deadline timers. Calling it twice aborts.
 * Returns 0 or -EINVAL. */
int np_poll_unblock(np_poll_desc *pd);

/* The descriptor the pd was opened for. */
int np_poll_fd(const np_poll_desc *pd);

/* The deadline helper for relative timeouts: now + rel, saturating to "never"
 * (INT64_MAX) on overflow; rel <= 0 gives an already-expired deadline. */
int64_t np_deadline_after(int64_t rel);

#ifdef __cplusplus
}
#endif
#endif
