/* core/netpoll.c - the glue between a backend's readiness records and the
 * pollDescs (Go: the loop at the end of netpoll in netpoll_epoll.go). */
#include "poll_desc.h"
#include "scheduler.h"

/* Records per backend poll: Go's netpoll takes 128 epoll events per call. */
#define NP_EVENTS_PER_POLL 128

int np__netpoll(int64_t delay, np_task_list *out)
{
    np_event ev[NP_EVENTS_PER_POLL];
    int n = np__backend()->poll(delay, ev, NP_EVENTS_PER_POLL);
    for (int i = 0; i < n; i++)
        np__poll_event(&ev[i], out);
    return n;
}
