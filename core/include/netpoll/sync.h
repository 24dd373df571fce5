/* netpoll/sync.h - synchronization for tasks: mutex, wait group, channels
 * and select (Go: sync.Mutex, sync.WaitGroup, chan, select).
 *
 * Every call that waits parks the calling task through np_park (never its
 * worker thread: no system call blocks), and every wake-up is one np_ready.
 * Calls that never wait (unlock, trylock, np_waitgroup_add/done,
 * np_chan_close, np_select_try, a send or receive that finds its partner or
 * buffer room) may also be made from a thread that is not running a task; a
 * call that would have to wait there is a fatal error, as np_park is.
 *
 * Each object has a small internal lock (a spinlock) held only across a few
 * loads and stores, never across a park: a parking task's np_park commit
 * releases it once the task is off its stack, so a waker that finds the task
 * queued can always ready it, and does so exactly once.
 *
 * Misuse that Go treats as fatal (unlock of an unlocked mutex, a negative
 * wait group counter, freeing a channel tasks still wait on) prints
 * "netpoll: fatal: ..." and aborts. What Go makes a panic on channels
 * (send on a closed channel, close of a closed channel) is an error code
 * here: NP_ECHANCLOSED.
 */
#ifndef NETPOLL_SYNC_H
#define NETPOLL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpoll/net.h" /* NP_EDEADLINE */

#ifdef __cplusplus
extern "C" {
#endif

/* The channel was closed: np_chan_send on a closed channel, np_chan_close of
 * a closed one (Go panics in both cases). Outside the errno range, after
 * netpoll/net.h's codes (np_strerror names it). */
enum { NP_ECHANCLOSED = -4103 };

/* ---- mutex -------------------------------------------------------------------
 *
 * FIFO handoff: np_mutex_unlock with tasks waiting passes ownership straight
 * to the one that has waited longest (the mutex never looks unlocked in
 * between), so no waiter starves and a task that just unlocked cannot take
 * the mutex back ahead of the queue. The price is a context switch per
 * contended handoff (a lock convoy), which Go's barging "normal mode" avoids
 * until a waiter has waited 1 ms. Not recursive; any task (or thread) may
 * unlock it, as in Go. A zeroed np_mutex is unlocked. */
typedef struct np_mutex {
    union {
        unsigned char bytes[48]; /* private: core/sync.c's layout */
        uint64_t align_u64;
        void *align_ptr;
    } np__opaque;
} np_mutex;
#define NP_MUTEX_INITIALIZER                                                                       \
    {                                                                                              \
        {                                                                                          \
            {                                                                                      \
                0                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

void np_mutex_init(np_mutex *m);
/* Parks the task until it owns the mutex. */
void np_mutex_lock(np_mutex *m);
/* Takes the mutex if nobody holds it; never waits. */
bool np_mutex_trylock(np_mutex *m);
/* Unlocking a mutex that is not locked is fatal. */
void np_mutex_unlock(np_mutex *m);

/* ---- wait group ----------------------------------------------------------------
 *
 * A counter; np_waitgroup_wait parks until it is zero. When an add brings
 * it to zero, every waiting task is readied. A counter that would go below
 * zero is fatal ("negative wait group counter", as Go's panic). A group may
 * be reused once its waiters have been released. A zeroed np_waitgroup has
 * counter zero. */
typedef struct np_waitgroup {
    union {
        unsigned char bytes[48]; /* private: core/sync.c's layout */
        uint64_t align_u64;
        void *align_ptr;
    } np__opaque;
} np_waitgroup;
#define NP_WAITGROUP_INITIALIZER NP_MUTEX_INITIALIZER

void np_waitgroup_init(np_waitgroup *wg);
void np_waitgroup_add(np_waitgroup *wg, int64_t delta);
void np_waitgroup_done(np_waitgroup *wg); /* add(-1) */
void np_waitgroup_wait(np_waitgroup *wg);

/* ---- channels -------------------------------------------------------------------
 *
 * Go's semantics. Values are elem_size bytes, copied in and out (0 is
 * allowed: a channel of signals). cap 0 is unbuffered: a send completes only
 * when a receiver takes the value, and the two meet directly. With cap > 0
 * up to cap values wait in a FIFO buffer; a send waits while it is full, a
 * receive while it is empty. Waiting senders and receivers are served FIFO.
 * Closing wakes every waiting receiver (which then get ok = false) and every
 * waiting sender (which get NP_ECHANCLOSED); values buffered before the
 * close are still received, in order, before receivers see ok = false.
 *
 * A NULL channel is a fatal error for np_chan_send/recv/close/len (Go blocks
 * forever on a nil channel; in select, a NULL channel is a case that never
 * fires, as in Go). */
typedef struct np_chan np_chan;

/* A new channel, or NULL (errno ENOMEM, or EINVAL if cap * elem_size
 * overflows). */
np_chan *np_chan_new(size_t elem_size, size_t cap);
/* Frees the channel and any values still buffered. No task may wait on it
 * (fatal if one does) and no call may use it afterwards. */
void np_chan_free(np_chan *c);
/* Sends *elem (elem_size bytes; NULL only if elem_size is 0). Returns 0 once
 * a receiver has it or it is buffered, NP_ECHANCLOSED if the channel is
 * closed (before or while the send waits: the value was not sent), -EINVAL
 * for a NULL elem. */
int np_chan_send(np_chan *c, const void *elem);
/* Receives into *elem (NULL: the value is dropped). Returns true with a
 * value, false once the channel is closed and drained (*elem zero-filled). */
bool np_chan_recv(np_chan *c, void *elem);
/* Closes the channel. Returns 0, or NP_ECHANCLOSED if it was closed. */
int np_chan_close(np_chan *c);
/* Values buffered now (racy by nature, as Go's len). */
size_t np_chan_len(np_chan *c);
/* The capacity given to np_chan_new. */
size_t np_chan_cap(const np_chan *c);

/* ---- select -------------------------------------------------------------------- */

enum { NP_SELECT_RECV = 1, NP_SELECT_SEND = 2 };

/* One case of a select. */
typedef struct np_select_case {
    np_chan *chan; /* NULL: a case that never fires (Go: a nil channel) */
    int op;        /* NP_SELECT_RECV or NP_SELECT_SEND */
    void *elem;    /* send: the value (only read); recv: where the value goes (NULL: dropped) */
    bool ok;       /* out, set on the case that fired: true if the operation took
                      effect; false if the channel was closed (recv: closed and
                      drained, *elem zero-filled; send: nothing was sent - Go
                      would panic) */
} np_select_case;

/* At most this many cases: the cases' waiters live on the task's stack (about
 * 48 bytes each, 3 KiB in all at the limit). */
#define NP_SELECT_MAX 64

/* Waits until one of the n cases can proceed, does it, and returns its index
 * (Go: select). If several are ready, one is picked at random (in the live
 * build; the simulator builds take the first in array order, so that their
 * runs are reproducible). deadline: absolute time on np_now()'s clock; 0 =
 * none; a deadline at or before now (np_deadline_after(0) gives -1) means
 * "do not wait". When it passes first, returns NP_EDEADLINE (netpoll/net.h);
 * a case that fires and a deadline that passes at the same moment give one
 * outcome, never both. Returns -EINVAL for n > NP_SELECT_MAX, an unknown op,
 * a send case with a NULL elem and elem_size > 0, or no channel and no
 * deadline (which would wait forever). */
int np_select(np_select_case *cases, size_t n, int64_t deadline);

/* The same without waiting (Go: select with a default case): the index of a
 * case that was ready, or -EAGAIN if none was. */
int np_select_try(np_select_case *cases, size_t n);

#ifdef __cplusplus
}
#endif
#endif
