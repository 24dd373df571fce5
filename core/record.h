/* core/record.h - the recorder as the pollDesc code sees it (private). */
#ifndef NP_CORE_RECORD_H
#define NP_CORE_RECORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netpoll/record.h"

struct np_poll_desc;
struct np_task;

/* Recording on? Relaxed: turning recording on or off is not synchronised
 * with operations in flight; an operation that straddles the switch is
 * recorded or not, and np_record_stop takes the lock before it collects. */
extern _Atomic bool np__rec_on;
#define NP_RECORDING() atomic_load_explicit(&np__rec_on, memory_order_relaxed)

void np__rec_lock(void);
void np__rec_unlock(void);

/* Appends one event stamped now; the lock must be held. Unknown slots
 * (opened before recording began) are skipped. ev_tag: for ready, the
 * pollDesc incarnation the event carries. */
void np__rec(np_tr_kind kind, struct np_poll_desc *pd, struct np_task *g, int mode, int64_t at,
             uint32_t ev_tag, int err, int res);

/* A pollDesc path handed task t to the scheduler (lock held) / task t,
 * woken so, has now run its wake-up step (lock held). */
void np__rec_woke(struct np_task *t);
void np__rec_ran(struct np_task *t, const struct np_poll_desc *pd, bool ready);

#endif
