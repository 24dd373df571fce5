/* backend_epoll/epoll.c - the Linux backend (Go: runtime/netpoll_epoll.go).
 *
 * One epoll instance per process. Each fd is registered once, edge-triggered
 * for read and write (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI|EPOLLET); its epoll data
 * word carries the pollDesc pointer shifted left by NP_TAG_BITS with the
 * pollDesc's incarnation in the low bits, so the core can drop an event that
 * was queued for a previous user of a recycled pollDesc. A non-blocking
 * eventfd, registered level-triggered with data 0, implements break.
 *
 * This is the only file of the project that includes <sys/epoll.h>.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fatal.h"
#include "netpoll/backend.h"
#include "netpoll/epoll.h"

/* Records per epoll_wait: Go's netpoll asks for 128 at a time. */
#define EPOLL_BATCH 128

static int epfd = -1;           /* the epoll instance */
static int evfd = -1;           /* the eventfd that break writes */
static _Atomic int wake_sig;    /* 1 while a break is written and not yet read:
                                   coalesces many breaks into one write */
static bool have_pwait2 = true; /* epoll_pwait2 (ns timeout, Linux 5.11) works */

static int be_init(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -errno;
    evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (evfd < 0) {
        int e = errno;
        close(epfd);
        epfd = -1;
        return -e;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
        int e = errno;
        close(evfd);
        close(epfd);
        evfd = epfd = -1;
        return -e;
    }
    atomic_store(&wake_sig, 0);
    return 0;
}

static void be_fini(void)
{
    if (evfd >= 0)
        close(evfd);
    if (epfd >= 0)
        close(epfd);
    evfd = epfd = -1;
}

static int be_open(int fd, struct np_poll_desc *pd, uint32_t tag)
{
    struct epoll_event ev;
    /* EPOLLPRI only feeds np_event.hangup (urgent data: a TCP read stops short
     * at the urgent mark with bytes still queued); be_poll masks it out of
     * everything else, so modes and err_only are what they were without it. */
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
    ev.data.u64 = ((uint64_t)(uintptr_t)pd << NP_TAG_BITS) | (tag & NP_TAG_MASK);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return -errno;
    return 0;
}

static int be_close(int fd, bool fd_closing)
{
    /* An epoll registration is keyed on (open file description, fd) and is
     * removed when the description's last reference goes (eventpoll_release
     * in __fput, which runs before close(2) returns). fd_closing promises
     * that the caller's close(2), right after this, drops the last one, so
     * a DEL would be a system call that changes nothing the kernel does.
     * The core's side is unchanged too: the pollDesc is recycled (new
     * incarnation) between this call and the close(2), and an event fetched
     * meanwhile carries the old tag and is dropped, as is one fetched before
     * a DEL and handled after the recycle. (Under the untagged historical
     * designs, go1.5 and go1.18, such an event reaches the pollDesc's next
     * user - the issue 59545 window those designs exist to show - and
     * without the DEL that window stays open a few instructions longer,
     * until the close(2).) A fork breaks the promise: the child's reference
     * keeps the registration alive until the child closes it, and its
     * events are dropped as stale (tagged designs). */
    if (fd_closing)
        return 0;
    /* Kernels before 2.6.9 require a non-null event pointer even for DEL. */
    struct epoll_event ev = {0};
    if (epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev) != 0)
        return -errno;
    return 0;
}

static void be_brk(void)
{
    int zero = 0;
    if (!atomic_compare_exchange_strong(&wake_sig, &zero, 1))
        return; /* a break is already on its way */
    uint64_t one = 1;
    for (;;) {
        ssize_t n = write(evfd, &one, sizeof one);
        if (n == (ssize_t)sizeof one || (n < 0 && errno == EAGAIN))
            return; /* EAGAIN: the counter is full, so a wake-up is pending anyway */
        if (n < 0 && errno == EINTR)
            continue;
        np__fatal("epoll backend: write(eventfd): %s", strerror(errno));
    }
}

/* epoll_wait's millisecond timeout for a delay, rounded up so that a timer
 * is never reported early (the core re-polls if it wakes a little late). */
static int delay_ms(int64_t delay)
{
    if (delay < 0)
        return -1;
    if (delay == 0)
        return 0;
    if (delay >= (int64_t)1000000 * 1000000000) /* 11 days: cap, the core polls again */
        return 1000000000;
    return (int)((delay + 999999) / 1000000);
}

static int wait_events(struct epoll_event *kev, int max, int64_t delay)
{
    if (have_pwait2 && delay > 0) {
        struct timespec ts;
        int64_t d = delay < (int64_t)1 << 62 ? delay : (int64_t)1 << 62;
        ts.tv_sec = (time_t)(d / 1000000000);
        ts.tv_nsec = (long)(d % 1000000000);
        int n = epoll_pwait2(epfd, kev, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        have_pwait2 = false; /* old kernel: fall back to milliseconds */
    }
    return epoll_wait(epfd, kev, max, delay_ms(delay));
}

static int be_poll(int64_t delay, np_event *out, int max)
{
    struct epoll_event kev[EPOLL_BATCH];
    if (max > EPOLL_BATCH)
        max = EPOLL_BATCH;
    int n = wait_events(kev, max, delay);
    if (n < 0) {
        if (errno == EINTR)
            return 0; /* the caller recomputes its delay and polls again */
        np__fatal("epoll backend: epoll_wait(%d): %s", epfd, strerror(errno));
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        uint32_t e = kev[i].events;
        if (kev[i].data.u64 == 0) { /* the break eventfd */
            /* Only a blocking poll consumes the break: a non-blocking look
             * must not eat a wake-up meant for the next blocking one. */
            if (delay != 0) {
                uint64_t v;
                if (read(evfd, &v, sizeof v) < 0 && errno != EAGAIN)
                    np__fatal("epoll backend: read(eventfd): %s", strerror(errno));
                atomic_store(&wake_sig, 0);
            }
            continue;
        }
        bool pri = e & EPOLLPRI;
        e &= ~(uint32_t)EPOLLPRI; /* registered only for hangup (see be_open) */
        uint8_t mode = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            mode |= NP_EV_R;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            mode |= NP_EV_W;
        if (!mode)
            continue; /* EPOLLPRI alone, say: dropped as when it was not
                         registered (TCP reports it alone only while the urgent
                         byte, which no read returns, is all that is unread) */
        out[k].pd = (struct np_poll_desc *)(uintptr_t)(kev[i].data.u64 >> NP_TAG_BITS);
        out[k].tag = (uint32_t)(kev[i].data.u64 & NP_TAG_MASK);
        out[k].mode = mode;
        out[k].err_only = e == EPOLLERR;
        out[k].hangup = pri || (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
        k++;
    }
    return k;
}

static int64_t be_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CLOCK_MONOTONIC_COARSE is the same timekeeping value as CLOCK_MONOTONIC as
 * of the last tick, read from the vDSO without touching the TSC: about a
 * tenth of the cost on the VMs we measured (bench/RESULTS.md). */
static int64_t be_now_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const np_backend np_backend_epoll = {
    .name = "epoll",
    .max_workers = 0,
    .reports_hangup = true,
    .init = be_init,
    .fini = be_fini,
    .open = be_open,
    .close = be_close,
    .poll = be_poll,
    .brk = be_brk,
    .now = be_now,
    .now_coarse = be_now_coarse,
};
