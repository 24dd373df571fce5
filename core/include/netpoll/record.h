/* netpoll/record.h - recording the live runtime's pollDesc operations as a
 * trace (netpoll/trace.h, format v1).
 *
 * While recording, every operation of the pollDesc layer - open, deadline,
 * wait, reset, readiness, unblock, close, and the outcomes wake, park and
 * fire - appends one event. Order: each operation holds its pollDesc's
 * recording lock around its record AND the step where it takes effect (the
 * wait's consume-or-WAIT, the reset's store, a readiness event's unblock, a
 * deadline's publication), and takes a number from one global sequence
 * inside that lock; events go to per-thread buffers, merged by that number
 * when recording stops. So the file order is the order in which the effects
 * happened on each pollDesc, consistent with every happens-before between
 * operations, and times (computed at the stop, in that order) never go
 * backwards. Not recording, the cost is one relaxed load and a branch per
 * operation.
 *
 * Only pollDescs opened while recording appear (an event of one opened
 * before is skipped); a pollDesc recycled from the cache keeps its slot
 * number, so its incarnations count 1, 2, 3 ... as the format wants. Tasks
 * are numbered in the order they first appear.
 */
#ifndef NETPOLL_RECORD_H
#define NETPOLL_RECORD_H

#include "netpoll/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keeps `bytes` of record storage allocated and faulted in, from now on
 * and across recordings (0: none kept), so that a recording does not fault
 * in new memory while it runs - that is most of what it would cost on the
 * machines measured (core/record.c). A recording uses about 18 bytes per
 * event; beyond the reserve it allocates as it goes. 0, or -ENOMEM (what
 * could be allocated is kept). */
int np_record_reserve(size_t bytes);
/* Starts recording into a fresh in-memory trace. 0, or -EBUSY. */
int np_record_start(void);
/* Stops and hands the trace over (free it with np_trace_free). 0, or
 * -ESRCH if not recording, -ENOMEM if memory ran out while recording, or
 * -EOVERFLOW if the recording outgrew its numbering (more than 2^20
 * pollDescs, 2^28 tasks or 2^40 recorded steps; core/record.c) - the trace
 * is then incomplete and not returned. */
int np_record_stop(np_trace *out);
/* The same, also handing over (if real is not NULL) an array with each
 * event's real clock time since the start, ns: the trace's own times stand
 * still while a woken task has not run yet (see core/record.c). free() it. */
int np_record_stop_real(np_trace *out, int64_t **real);

#ifdef __cplusplus
}
#endif
#endif
