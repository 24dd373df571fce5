/* netpoll/trace.h - reading and writing trace files (`.npt`, version 1).
 *
 * The format is a contract shared with other tools: docs in
 * TRACE_FORMAT.md. A trace is a list of events, each a line
 * `<time> <event> key=value ...` after the header `netpoll-trace 1`.
 *
 * The reader checks everything that can be decided line by line with the
 * state of each pollDesc slot (free / open / unblocked, incarnation count);
 * what needs a simulation (close with a task parked, matching wakes) is the
 * replayer's job. Readings of the contract where it is silent:
 *
 *   - The header, after removing a comment and trailing blanks, must be
 *     exactly `netpoll-trace 1` (no leading blanks, one space).
 *   - Event lines may start with blanks; fields are separated by runs of
 *     spaces or tabs. A line ends at '\n'; one '\r' before it is dropped.
 *     Any other control character (tab aside) outside a comment is an error.
 *   - Integers are decimal digits with an optional '-' (so that a negative
 *     value gets its own message); '+', hex, blanks or trailing letters are
 *     "not an integer". pd, g and fd must fit in int32; pd and g must be > 0;
 *     fd, at and tag must be >= 0; time must be >= 0 and fit in int64.
 *   - A token without '=' is trailing garbage; `=v`, `k=` are malformed.
 *   - A key that is not in the event's table is "unknown" for that event.
 *   - mode rw is refused on wait and reset (contract) and on wake and park,
 *     which report a pollWait; it is accepted on deadline, ready and fire.
 *   - ready tag: an incarnation number 1..(incarnations opened so far on that
 *     slot). tag=0 or a future incarnation is invalid. With an explicit tag a
 *     ready may follow close (an in-flight event of an older incarnation);
 *     without a tag it names the current incarnation, so the slot must be
 *     open. err=0 is the same as no err.
 *   - Stimuli (deadline, wait, reset, unblock, close, untagged ready) need the
 *     slot open (opened and not closed); after unblock they are still
 *     accepted (they return closing), except a second unblock (pollUnblock
 *     twice aborts) and close needs an unblock of the current incarnation.
 *   - Outcome lines (wake, park, fire) need a slot that has been opened at
 *     some point, but may come after its close: replay rule 1 runs a task
 *     woken by `unblock` only after the stimuli of that time, so its `wake`
 *     can follow a `close` stamped at the same time.
 *   - A file without a header line (empty, or only comments and blanks) is
 *     reported at its last line (line 1 if empty).
 */
#ifndef NETPOLL_TRACE_H
#define NETPOLL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netpoll/poll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Event kinds: stimuli first, then outcomes, in the contract's table order. */
typedef enum {
    NP_TR_OPEN,
    NP_TR_DEADLINE,
    NP_TR_WAIT,
    NP_TR_RESET,
    NP_TR_READY,
    NP_TR_UNBLOCK,
    NP_TR_CLOSE,
    NP_TR_WAKE,
    NP_TR_PARK,
    NP_TR_FIRE
} np_tr_kind;

/* One line of a trace. */
typedef struct np_tr_event {
    int64_t t;       /* the line's time, ns since trace start */
    np_tr_kind kind; /* the event */
    uint32_t line;   /* 1-based source line (0 for events built in memory) */
    int32_t pd;      /* pollDesc slot, 0 when the event has no such key */
    int32_t g;       /* task, 0 when the event has no such key */
    int32_t fd;      /* descriptor (open), 0 when the event has no such key */
    int mode;        /* NP_MODE_R, NP_MODE_W or NP_MODE_RW; 0 if none */
    int64_t at;      /* deadline `at` (absolute, 0 = clear) */
    int64_t tag;     /* ready: the tag, or -1 when omitted (= current incarnation) */
    int err;         /* ready: 1 for err=1, else 0 */
    int res;         /* reset/wake result: NP_POLL_OK/CLOSING/TIMEOUT/NOTPOLLABLE, or -1 */
} np_tr_event;

/* A whole trace. Zero-initialise it before np_trace_append. */
typedef struct np_trace {
    char *name;      /* file name used in messages (owned, may be NULL) */
    np_tr_event *ev; /* the events, in file order */
    size_t n;        /* number of events */
    size_t cap;      /* allocated length of ev */
    bool has_wake;   /* at least one wake line: outcomes are recorded */
    bool has_fire;   /* at least one fire line: a faithful live record (rule 5) */
} np_trace;

/* The most a trace file (or a pipe, or a device) may hold, in MiB; the
 * environment variable NETPOLL_TRACE_MAX_MIB (1 to 1048576) overrides it. In
 * memory an event takes sizeof(np_tr_event), two to four times its line. */
#define NP_TRACE_MAX_MIB 1024

/* Parse a file, or a buffer of len bytes named `name` in messages. 0 on
 * success; on invalid input -1 with msg = "FILE:LINE: message" (a
 * missing/unreadable file: "FILE: <strerror>"; one over the size limit:
 * "FILE: ... larger than the N MiB limit ...") and *out left empty. *out need
 * not be initialised. msg may be NULL. A line longer than 1 MiB is invalid.
 * np_trace_parse_file reads any file, pipe or device in pieces and stops at
 * the first invalid line; before the header, the first line fails as soon as
 * what has been read of it cannot be a header or a comment, so input that is
 * not a trace (/dev/zero) is refused after one piece. */
int np_trace_parse_file(const char *path, np_trace *out, char *msg, size_t msglen);
int np_trace_parse_buf(const char *name, const char *buf, size_t len, np_trace *out, char *msg,
                       size_t msglen);

/* Writes the canonical text: the header, then one line per event with keys in
 * the contract's order, optional keys only when set, single spaces, '\n'.
 * 0, -EINVAL if an event cannot be written (bad kind, mode, res, pd or g;
 * nothing is written then), or -errno of a failed write. */
int np_trace_emit(const np_trace *tr, FILE *out);

/* Appends a copy of *ev (for writers building a trace in memory) and updates
 * has_wake/has_fire. No checks. 0 or -ENOMEM. */
int np_trace_append(np_trace *tr, const np_tr_event *ev);

/* Frees the events and the name; leaves *tr zeroed. */
void np_trace_free(np_trace *tr);

/* "open", "deadline", ... as traces spell them; "?" for an unknown kind. */
const char *np_tr_kind_name(np_tr_kind k);

#ifdef __cplusplus
}
#endif
#endif
