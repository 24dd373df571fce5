/* netpoll/backend.h - the backend interface (Go: netpollinit, netpollopen,
 * netpollclose, netpoll, netpollBreak, nanotime).
 *
 * A backend reports readiness; it never calls into the core. The core calls
 * the members below, and dispatches the records that poll() fills in. There
 * is one poller per process, so a backend keeps its state in its own file.
 *
 * Threading: open/close/brk/now may be called from any thread at any time
 * between init and fini; poll is called by one worker at a time.
 */
#ifndef NETPOLL_BACKEND_H
#define NETPOLL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct np_poll_desc;

/* One readiness record. */
typedef struct np_event {
    struct np_poll_desc *pd; /* the pollDesc given to open() */
    uint32_t tag;            /* the tag given to open() (low NP_TAG_BITS) */
    uint8_t mode;            /* NP_EV_R | NP_EV_W */
    bool err_only;           /* the kernel reported exactly an error (EPOLLERR) */
    bool hangup;             /* (with NP_EV_R) the kernel also reported a hang-up, an
                                error or urgent data (EPOLLRDHUP, EPOLLHUP, EPOLLERR,
                                EPOLLPRI): a read may now return at once (EOF, the
                                error, the bytes past an urgent mark) even if no event
                                follows. A hint for core/netfd.c's read skipping; set
                                only by a backend with reports_hangup. */
} np_event;

enum { NP_EV_R = 1, NP_EV_W = 2 };

/* Tags are pollDesc incarnations truncated to this many bits: epoll packs
 * them beside a 48-bit user-space pointer in its 64-bit data word. */
#define NP_TAG_BITS 16
#define NP_TAG_MASK ((1u << NP_TAG_BITS) - 1)

typedef struct np_backend {
    const char *name;    /* "epoll", "sim" */
    int max_workers;     /* how many workers may use it (0 = any); the simulator
                            is deterministic only with one */
    bool reports_hangup; /* its events set `hangup` whenever the kernel reported a
                            hang-up, error or urgent data (epoll). Without it,
                            core/netfd.c never skips a read (the simulator: no
                            kernel socket stands behind its events) */

    /* Creates the poller. Returns 0 or -errno. */
    int (*init)(void);
    /* Destroys it; every fd must have been closed. */
    void (*fini)(void);
    /* Registers fd edge-triggered for read and write, remembering (pd, tag)
     * for its events. Returns 0 or -errno (-EPERM: fd is not pollable). */
    int (*open)(int fd, struct np_poll_desc *pd, uint32_t tag);
    /* Unregisters fd. Returns 0 or -errno. fd_closing: the caller close(2)s
     * fd right after this call, and netpoll made fd itself and never gave
     * its number out, so no dup of it exists (short of a fork). A backend
     * whose registrations the kernel drops with the open file description
     * (epoll) may then leave the unregistering to that close(2). The
     * simulator, whose registrations no kernel drops, unregisters either
     * way. */
    int (*close)(int fd, bool fd_closing);
    /* Waits for events: delay < 0 blocks until an event or brk(), 0 only
     * looks, > 0 waits at most delay ns. Fills at most max records and
     * returns how many (0 on timeout, on brk, or on EINTR). */
    int (*poll)(int64_t delay, np_event *ev, int max);
    /* Wakes a blocked poll(). Many calls before the poll wakes cost one wake. */
    void (*brk)(void);
    /* The clock, in ns. Monotonic. */
    int64_t (*now)(void);
    /* Optional (NULL if none): a cheap reading of the same clock that never
     * leads now() and lags it by at most a few ms (a tick). The core uses it
     * only to classify a deadline more than NP_COARSE_MARGIN ahead as not
     * yet expired without the precise read. */
    int64_t (*now_coarse)(void);
} np_backend;

/* How far ahead of the coarse clock a deadline must lie to skip the precise
 * read: 1 s, two orders of magnitude above the worst tick lag (4 ms at
 * HZ=250), so even a stalled tick cannot misclassify a deadline. */
#define NP_COARSE_MARGIN INT64_C(1000000000)

/* Each backend declares its own descriptor in its own header
 * (netpoll/epoll.h, netpoll/sim.h), and
 * the build lists the backends of each library in a table (CMake:
 * np_backend_table in the top CMakeLists.txt), the first being the default:
 * the core names none of them. */

/* Looks a backend of this library up by name ("epoll", "sim"); NULL if
 * unknown. */
const np_backend *np_backend_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
