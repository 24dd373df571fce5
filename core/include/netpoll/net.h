/* netpoll/net.h - network descriptors (Go: internal/poll.FD and the net
 * package's connection calls), for tasks.
 *
 * Every call here that can block must run in a task (np_go); it parks the
 * task, never the worker thread - except on a descriptor the poller refuses
 * (a regular file), which falls back to blocking I/O on its task's worker.
 * Called from a plain thread (not a task), a call that finds nothing to do
 * at once and would have to wait - np_accept with no connection queued,
 * np_read with no bytes, np_write into a full buffer, a dial still
 * connecting or looking a name up - fails with -EPERM instead, which
 * np_strerror spells out ("this call must run inside a task
 * (np_go/np_main)"). What it could do at once it has done.
 *
 * Results: >= 0 on success; otherwise a negative error code: -errno from the
 * kernel, or one of the NP_E* codes below. np_strerror names both.
 */
#ifndef NETPOLL_NET_H
#define NETPOLL_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_fd np_fd;

/* netpoll's own errors, outside the errno range. */
enum {
    NP_EOF = -4096,          /* end of stream (Go: io.EOF) */
    NP_ECLOSED = -4097,      /* the descriptor was closed (Go: net.ErrClosed) */
    NP_EDEADLINE = -4098,    /* an I/O deadline passed (Go: os.ErrDeadlineExceeded);
                                distinct from -ETIMEDOUT, a kernel timeout */
    NP_ENOTPOLLABLE = -4099, /* the poller reported an error-only event */
    NP_ENODEADLINE = -4100,  /* deadlines are not supported on this descriptor
                                (a regular file: Go's ErrNoDeadline) */
    NP_ENORESOLVE = -4101,   /* np_dial: the host name could not be resolved - no
                                such host, or the name service failed or could not
                                be reached (Go: *net.DNSError) */
    NP_ELONGLINE = -4102,    /* np_bufreader_read_line: no '\n' within the limit
                                (Go: bufio.ErrBufferFull) */
    /* -4103: NP_ECHANCLOSED, netpoll/sync.h */
};

/* A message for any result code: NP_E* or -errno. */
const char *np_strerror(int err);

/* Listens on `address` for `network`:
 *   "tcp", "tcp4", "tcp6": "HOST:PORT" or "[IPV6]:PORT", numeric hosts and
 *                          "localhost"; port 0 picks a free one;
 *   "unix":                a filesystem path (an existing socket file is
 *                          an error: -EADDRINUSE).
 * backlog <= 0 means SOMAXCONN. Returns 0 and *out, or an error. TCP
 * connections (accepted or dialed) start with TCP_NODELAY on, as in Go;
 * np_set_nodelay(c, 0) turns Nagle's algorithm back on. */
int np_listen(const char *network, const char *address, int backlog, np_fd **out);

/* Accepts one connection, parking until one arrives or the read deadline
 * passes (NP_EDEADLINE) or l is closed (NP_ECLOSED). Retries on
 * ECONNABORTED and EINTR. */
int np_accept(np_fd *l, np_fd **out);

/* Connects to `address`: the forms of np_listen, and
 *   any host name ("localhost", "example.com"), looked up with getaddrinfo
 *   on a small pool of resolver threads while the task parks, never on a
 *   worker; its addresses are then tried in order until one connects (if
 *   none does, the first one's error is returned, as Go does). A name that
 *   does not resolve gives NP_ENORESOLVE. (Live build only; the sim builds
 *   take numeric hosts and "localhost", as np_listen.)
 *   "udp", "udp4", "udp6": a connected datagram socket (np_read / np_write
 *   then receive from / send to that peer only; a zero-byte datagram reads
 *   as 0, not NP_EOF).
 * timeout > 0 bounds the whole dial, look-up included, in ns (NP_EDEADLINE
 * when it passes; an answer that comes later is dropped); 0 means no limit.
 * A runtime stopped while a task waits for a look-up frees the task as any
 * parked one; the answer is dropped when it comes. */
int np_dial(const char *network, const char *address, int64_t timeout, np_fd **out);

/* Reads at most n bytes. Returns the count read (> 0); 0 only when n == 0
 * (at once, without touching the descriptor); NP_EOF at end of stream; a
 * reset connection gives -ECONNRESET, not NP_EOF. */
ssize_t np_read(np_fd *f, void *buf, size_t n);

/* Writes all n bytes, looping over partial writes. Returns n, or an error;
 * either way *written (if not NULL) is the number of bytes the kernel
 * accepted. */
ssize_t np_write(np_fd *f, const void *buf, size_t n, size_t *written);

/* Scatter / gather: np_read and np_write over n buffers (n <= 0 is
 * -EINVAL). np_readv fills the buffers in order and returns the count read,
 * with np_read's results (0 only when the buffers hold no byte, NP_EOF, the
 * deadline, ...). np_writev writes every byte of every buffer, looping over
 * partial writes, which may end inside a buffer; it returns the total, or an
 * error with *written (if not NULL) the bytes the kernel accepted, as
 * np_write. Sockets never raise SIGPIPE (sendmsg with MSG_NOSIGNAL). Any n
 * works: more than IOV_MAX buffers go out in several system calls (np_readv
 * reads into the first IOV_MAX). */
ssize_t np_readv(np_fd *f, const struct iovec *iov, int n);
ssize_t np_writev(np_fd *f, const struct iovec *iov, int n, size_t *written);

/* Datagrams (Go: net.ListenPacket, PacketConn.ReadFrom / WriteTo).
 * np_listen_packet binds a UDP socket: network "udp", "udp4" or "udp6",
 * address "HOST:PORT" as np_listen's (numeric hosts and "localhost"; port 0
 * picks a free one; np_local_addr tells which). Returns 0 and *out, or an
 * error. np_close closes it; np_read / np_write work on it once connected
 * (np_dial "udp"). Live build only (-ENOSYS in the machine build). */
int np_listen_packet(const char *network, const char *address, np_fd **out);

/* Receives one datagram: at most n bytes of it are stored, the rest is
 * dropped (as recvfrom(2) does; Go too). Returns the bytes stored (0 for an
 * empty datagram, or when n == 0: a datagram is still consumed), or an
 * error; parks until one arrives, the read deadline passes (NP_EDEADLINE) or
 * f is closed (NP_ECLOSED). The sender's address goes to *from (if not
 * NULL), its length to *fromlen (in: ignored; out: the length). */
ssize_t np_read_from(np_fd *f, void *buf, size_t n, struct sockaddr_storage *from,
                     socklen_t *fromlen);

/* Sends buf as one datagram to `to` (NULL: the connected peer). Returns n,
 * or an error (-EMSGSIZE if it cannot be one datagram); parks while the send
 * buffer is full, until the write deadline (NP_EDEADLINE). */
ssize_t np_write_to(np_fd *f, const void *buf, size_t n, const struct sockaddr *to,
                    socklen_t tolen);

/* Buffered reading (Go: bufio.Reader) over an np_fd: fewer system calls
 * for small reads, and reads by line or by count. One task at a time uses a
 * reader; it does not own f (np_bufreader_free leaves f open). Errors of f
 * (NP_EDEADLINE, NP_ECLOSED, ...) are returned as np_read returns them, and
 * bytes already buffered stay buffered for the next call. */
typedef struct np_bufreader np_bufreader;

/* A reader with a buffer of `size` bytes (0: 4096), the longest line it can
 * return. NULL when out of memory. */
np_bufreader *np_bufreader_new(np_fd *f, size_t size);
void np_bufreader_free(np_bufreader *b);

/* Reads one line, '\n' included, into line (cap bytes), NUL-terminated;
 * returns its length without the NUL. At end of stream the last line may
 * lack its '\n' (it is returned; the next call gives NP_EOF). A line longer
 * than the reader's buffer or than cap - 1 gives NP_ELONGLINE and consumes
 * nothing (the bytes are still there for np_bufreader_read). */
ssize_t np_bufreader_read_line(np_bufreader *b, char *line, size_t cap);

/* Reads exactly n bytes (Go: io.ReadFull). Returns n, or an error with
 * *got (if not NULL) the bytes stored in buf, which are consumed: NP_EOF if
 * the stream ends first (with *got < n telling how short it fell). */
ssize_t np_bufreader_read_exact(np_bufreader *b, void *buf, size_t n, size_t *got);

/* Reads what is buffered, or else what one np_read brings (at most n bytes):
 * > 0, NP_EOF or an error; 0 only when n == 0. */
ssize_t np_bufreader_read(np_bufreader *b, void *buf, size_t n);

/* Bytes buffered, readable without a system call. */
size_t np_bufreader_buffered(const np_bufreader *b);

/* Deadlines: an absolute time on the runtime clock (np_now(); see
 * np_deadline_after for "from now"), or 0 for none. A time at or before now
 * makes pending and future I/O of that direction fail with NP_EDEADLINE
 * until the deadline is moved. NP_ENODEADLINE on a blocking descriptor. */
int np_set_deadline(np_fd *f, int64_t at);
int np_set_read_deadline(np_fd *f, int64_t at);
int np_set_write_deadline(np_fd *f, int64_t at);

/* Closes f: every blocked and later call on it fails with NP_ECLOSED, and
 * np_close returns only once the kernel descriptor is really closed (after
 * the last call using it has left). It also gives up the caller's handle:
 *
 * Handles. np_listen, np_accept, np_dial and np_fd_wrap return a descriptor
 * with one handle, the caller's. A task that shares it with another - an
 * acceptor looping on a listener that the main task will close, say - gives
 * that task its own handle with np_fd_retain; each handle is given back
 * exactly once, by np_close or np_fd_release. The memory lives until the last
 * one is gone, so a task's calls after another task's close fail with
 * NP_ECLOSED instead of touching freed memory. Returns 0, or NP_ECLOSED if it
 * was already closed (the handle is given back either way). */
int np_close(np_fd *f);

/* Takes one more handle on f for another task. 0 or -EINVAL. */
int np_fd_retain(np_fd *f);
/* Gives a handle back without closing; the last one closes f if it is still
 * open, and frees it. 0 or -EINVAL. */
int np_fd_release(np_fd *f);

/* Shuts down reading (NP_MODE_R), writing (NP_MODE_W) or both (NP_MODE_RW). */
int np_shutdown(np_fd *f, int how);

/* Sets (on != 0) or clears TCP_NODELAY on a TCP connection (on by default,
 * see np_listen): small writes go out at once instead of waiting for
 * Nagle's algorithm (Go:
 * TCPConn.SetNoDelay). Unlike the same setsockopt through np_fd_sysfd, it
 * keeps the descriptor's number netpoll's own. 0 or -errno (-EOPNOTSUPP on
 * a unix socket). */
int np_set_nodelay(np_fd *f, int on);

/* Wraps an existing descriptor (made non-blocking) so tasks can use it;
 * if the poller refuses it (a regular file), it is used blocking instead.
 * Takes ownership of sysfd. */
int np_fd_wrap(int sysfd, np_fd **out);

/* The kernel descriptor (for setsockopt and the like), or an error. Once
 * the number is out, netpoll no longer assumes that it alone controls the
 * descriptor (core/netfd.c): np_read no longer skips the read that follows
 * a short one (an option such as SO_RCVLOWAT could keep queued bytes from
 * raising an event), and np_close unregisters it from the poller before
 * close(2) (the caller may have made a dup). */
int np_fd_sysfd(np_fd *f);

/* The local / remote address as "HOST:PORT", "[V6]:PORT" or a unix path,
 * written into buf (NUL-terminated). Returns 0 or an error. */
int np_local_addr(np_fd *f, char *buf, size_t len);
int np_remote_addr(np_fd *f, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
