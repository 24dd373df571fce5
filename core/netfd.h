/* core/netfd.h - the descriptor as the network files see it (private).
 *
 * core/netfd.c owns the np_fd: its lifetime (the fdMutex, close that waits),
 * np_read/np_write, deadlines, listen/accept/dial. core/net_more.c adds
 * datagrams, vectored I/O, the buffered reader and name resolution on top,
 * through the few helpers below (defined at the end of netfd.c). The rule is
 * netfd.c's: a call holds the read (or write) lock for its whole duration,
 * resets the pollDesc of its direction first (np__fd_prepare), tries the
 * system call, and waits on the pollDesc (np__fd_wait) only after EAGAIN.
 */
#ifndef NP_CORE_NETFD_H
#define NP_CORE_NETFD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fd_mutex.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "sema.h"

/* The most one read or write syscall moves: Go caps at 1 GiB, since some
 * kernels misbehave above 2 GiB per call. */
#define NP_MAX_RW (1 << 30)

struct np_fd {
    np__fd_mutex mu;          /* references, read/write locks, closed */
    int sysfd;                /* the kernel descriptor; -1 once destroyed */
    bool blocking;            /* the poller refused it: plain blocking I/O, no deadlines */
    bool is_socket;           /* writes use send(MSG_NOSIGNAL): no SIGPIPE */
    bool stream;              /* a zero-byte read of a non-empty buffer means EOF */
    bool own;                 /* netpoll made this socket (np_listen, np_accept,
                                 np_dial), not np_fd_wrap: see fd_destroy */
    bool tcp;                 /* a TCP socket netpoll made itself (np_accept on a tcp
                                 listener, np_dial "tcp*"), polled by a backend with
                                 reports_hangup: np_read may skip a read (see there) */
    _Atomic bool exposed;     /* np_fd_sysfd gave the number out: the caller may have
                                 set options (SO_RCVLOWAT ...) or made dups */
    bool drained;             /* [read lock] the last read was short: see np_read; every
                                 other read call (np_readv, np_read_from) clears it */
    np_poll_desc *pd;         /* NULL when blocking */
    np__sema csema;           /* np_close waits here until the descriptor is destroyed */
    _Atomic uint32_t handles; /* owners of this struct: the creator's, plus one per
                                 np_fd_retain; the memory goes with the last */
    char *unlink_path;        /* a unix listener's socket file, removed on destroy */
};

/* A parsed "HOST:PORT" (or unix path) of np_listen / np_dial. */
typedef struct np__addr {
    struct sockaddr_storage ss; /* the address, when the host was numeric (or "localhost"
                                   where names are not looked up) */
    socklen_t len;              /* its length */
    int family;                 /* AF_INET, AF_INET6, AF_UNIX; AF_UNSPEC with a name */
    int socktype;               /* SOCK_STREAM ("tcp*", "unix") or SOCK_DGRAM ("udp*") */
    char name[256];             /* the host name to look up (np__parse_addr said
                                   NP__ENAME), NUL-terminated; else empty */
    char port[8];               /* the port, decimal digits, for the look-up */
} np__addr;

/* np__parse_addr's flags. */
enum {
    NP__ADDR_NAMES = 1, /* a host that is not numeric is a name for the resolver:
                           NP__ENAME with name/port filled (else -EINVAL, and
                           "localhost" is looked up inline, as np_listen does) */
    NP__ADDR_UDP = 2,   /* "udp", "udp4", "udp6" are networks too (SOCK_DGRAM) */
};

/* An internal result of np__parse_addr, never returned to a caller. */
#define NP__ENAME (-4200)

/* The resolver runs on OS threads that wake the dialing task with np_ready:
 * the live build only. The sim builds (one OS thread runs every simulated
 * one) dial numeric hosts and "localhost" inline, as before it existed. */
#if NP_SIM
#define NP__HAVE_RESOLVER 0
#else
#define NP__HAVE_RESOLVER 1
#endif

#if NP__HAVE_RESOLVER
/* Tests only: the resolver threads sleep this long (ns) before each lookup,
 * a name service slow to answer (0, the default: no delay). */
extern _Atomic int64_t np__resolve_delay_ns;
#endif

int np__parse_addr(const char *network, const char *address, np__addr *a, int flags);

/* Registers a non-blocking sysfd with the poller (netfd.c's fd_init); takes
 * ownership of sysfd either way. own: netpoll made it; tcp: a TCP socket. */
int np__fd_init(int sysfd, bool socket_, bool own, bool tcp, np_fd **out);
/* Takes / drops the read (read = true) or write lock: 0 or NP_ECLOSED. */
int np__fd_lock(np_fd *f, bool read);
void np__fd_unlock(np_fd *f, bool read);
/* The pollDesc reset before a system call of direction mode (NP_MODE_R or
 * NP_MODE_W), and the wait after one said EAGAIN: 0, NP_ECLOSED,
 * NP_EDEADLINE, NP_ENOTPOLLABLE, or -EPERM outside a task. */
int np__fd_prepare(np_fd *f, int mode);
int np__fd_wait(np_fd *f, int mode);

/* Connects a new socket of a's family and socktype to a's address, the
 * connect bounded by deadline (absolute, 0 = none): np_dial's second half. */
int np__dial_addr(const np__addr *a, int64_t deadline, np_fd **out);
/* Looks a->name up off the workers (core/net_more.c), then dials its
 * addresses in order until one connects; the whole bounded by deadline. */
int np__dial_name(const np__addr *a, int64_t deadline, np_fd **out);

#endif
