/* core/record.h - the recorder as the pollDesc code sees it (private).
 *
 * An operation brackets the step where it takes effect with
 * np__rec_begin(pd) / np__rec_end(pd) (a "section"): the section holds the
 * pollDesc's own recording lock (pd->rec_lock), so the sections of one
 * pollDesc never overlap, and its records take one number from a global
 * sequence inside that lock. The sequence order is therefore the order in
 * which the effects took place on each pollDesc, and it respects every
 * happens-before edge between sections (program order of a task, a wake-up
 * handed to the scheduler, data through the kernel). Records go to the
 * calling thread's own buffer; np_record_stop merges the buffers by
 * sequence number and only then computes the trace (slot and task numbers,
 * times, tags) in that order. */
#ifndef NP_CORE_RECORD_H
#define NP_CORE_RECORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netpoll/record.h"

struct np_poll_desc;
struct np_task;

/* Internal to libnetpoll: called directly, not through the PLT (the pollDesc
 * code calls them several times per operation while recording). */
#define NP__REC_HIDDEN __attribute__((visibility("hidden")))

/* Recording on? Relaxed: turning recording on or off is not synchronised
 * with operations in flight; an operation that straddles the switch is
 * recorded or not (np__rec_begin reads the recording's number, seq_cst, and
 * the buffer's lock decides whether its records are collected). */
extern _Atomic bool np__rec_on;
#if NP_SIM
/* The sim build reads it after telling np_sim_hooks.rec_read, if set: the edge pass starts a
 * recording there, between two reads of one operation, where live another
 * thread's np_record_start may land. No scheduling point, and no branch of
 * the pollDesc code's own. */
extern void (*np__sim_rec_read)(void); /* np_sim_hooks.rec_read, or NULL */
static inline bool np__sim_recording(void)
{
    if (np__sim_rec_read)
        np__sim_rec_read();
    return atomic_load_explicit(&np__rec_on, memory_order_relaxed);
}
#define NP_RECORDING() np__sim_recording()
/* Every record appended so far, folded (the explorer's state hash; core/record.c). */
extern uint64_t np__rec_sim_hist;
#else
#define NP_RECORDING() atomic_load_explicit(&np__rec_on, memory_order_relaxed)
#endif

/* Opens / closes a section on pd: reads the clock (unless clock is false:
 * then the section is stamped with the thread's previous section's clock
 * reading - for a park's commit, which follows its wait's section on the
 * same thread at once and records only the informational park), then takes
 * pd->rec_lock and the thread's buffer. No nesting; no parking inside - with
 * one exception: a recorded wait's section (core/poll_desc.c,
 * wait_recorded) spans the switch to the scheduler and ends in the park's
 * commit, which the scheduler runs on the same thread before anything else. */
NP__REC_HIDDEN void np__rec_begin(struct np_poll_desc *pd, bool clock);
NP__REC_HIDDEN void np__rec_end(struct np_poll_desc *pd);

/* Records one event of the open section (pd: the section's pollDesc).
 * ev_tag: for ready, the pollDesc incarnation the event carries. */
NP__REC_HIDDEN void np__rec(np_tr_kind kind, struct np_poll_desc *pd, struct np_task *g, int mode,
                            int64_t at, uint32_t ev_tag, int err, int res);

/* In an open section: this step handed task t to the scheduler / task t,
 * woken so, has now run its wake-up step (on pd; ready: it found readiness). */
NP__REC_HIDDEN void np__rec_woke(struct np_task *t);
NP__REC_HIDDEN void np__rec_ran(struct np_task *t, struct np_poll_desc *pd, bool ready);

/* Tests: np_record_stop's post-processing (the trace's clock, numbering,
 * holding) on records given directly, in sequence order. kind: an
 * np_tr_kind, or NP__REC_TEST_RAN (task g ran its wake-up on slot; ready:
 * it found readiness). u as the recorder stores it: deadline and fire, the
 * runtime's absolute time (deadline: -1 expired); open, fd | incarnation
 * tag << 32; ready, the event's tag | the pollDesc's tag << 32. real: the
 * record's clock reading. woke: tasks the record's step woke. */
#define NP__REC_TEST_RAN 100
typedef struct np__rec_test_ev {
    int kind;
    uint32_t slot, g;
    int mode, res;
    unsigned woke;
    bool ready;
    int64_t u, real;
} np__rec_test_ev;
int np__rec_post_test(const np__rec_test_ev *v, size_t n, int64_t t0, np_trace *out);

#endif
