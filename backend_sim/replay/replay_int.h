/* backend_sim/replay/replay_int.h - what the files of the replay share
 * (private to the sim build): its state - the slots, the actors, the replay
 * - and the functions one file calls in another (np__rp_*).
 *
 *   replay/replay.c    the driver (rule 1), stimuli, actors, findings
 *   replay/poller.c    readiness and timers through the simulated poller
 *                      (poller faults)
 *   check/explored.c   an explored time step: the scheduling-point hooks, the
 *                      state hash, the choices
 *   check/quiescence.c the invariants judged at the end of a time step, and
 *                      the oracle's view of it
 */
#ifndef NP_BACKEND_SIM_REPLAY_INT_H
#define NP_BACKEND_SIM_REPLAY_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "../check/invariants.h"
#include "../check/spec.h"
#include "../machine/world.h"
#include "netpoll/replay.h"
#include "netpoll/sim.h"
#include "poll_desc.h"
#include "record.h"
#include "scheduler.h"

/* ---- state ---------------------------------------------------------------------- */

typedef struct {
    np_poll_desc *pd; /* the pollDesc this incarnation had */
    uint32_t tag;     /* its tag (the pd's fdseq then) */
} incarnation;

typedef struct slot {
    int32_t id;
    bool open;        /* opened and not closed */
    bool closing;     /* unblocked (this incarnation) */
    np_poll_desc *pd; /* the current incarnation's pollDesc */
    incarnation *inc; /* inc[k-1]: incarnation k */
    int ninc, capinc;
    int64_t dl[2];           /* model deadline per direction (virtual ns; 0 none) */
    bool dl_past[2];         /* it was already past when set */
    bool ready[2];           /* readiness arrived that no wait or reset has consumed */
    struct actor *waiter[2]; /* the actor inside a wait on each direction, or NULL */
    bool dirty;              /* touched in the current time step */
    /* Explored, the stimuli of a step run in any order, and a deadline takes
     * effect where the code publishes it, before its stimulus ends: */
    bool dl_seen_expired[2]; /* some deadline of this step's (the one it began
                                with, or one set in it) has expired by now */
    bool unblock_in_step;    /* an unblock began in this step */
    bool dl_ambiguous[2];    /* a deadline set beside an unblock: whether the
                                code took it is not known (it ignores one on a
                                closing pollDesc); timeouts are not judged */
} slot;

typedef struct actor {
    int32_t g;
    np_task *task;
    /* the operation handed over by the driver */
    np_tr_kind op;
    slot *s;
    np_poll_desc *pd;
    int mode;
    uint32_t line;
    int rec_res;         /* reset: the recorded result to check, or -1 */
    int64_t issued;      /* virtual time the wait was issued */
    bool in_op;          /* inside np_poll_wait */
    size_t widx;         /* its index in replay.waiting while in_op */
    bool issued_closing; /* the wait began on a closing pollDesc */
    bool reported;       /* a quiescence violation was reported for this wait */
    bool quit;
    size_t last; /* trace index of its last wait or reset */
    bool final;  /* the operation handed over is that one: the task ends after it */
    uint64_t parks_seen;
    /* recorded wakes, in order */
    np_tr_event **rec;
    size_t nrec, caprec, next_rec;
    size_t computed; /* wakes computed so far */
    /* explored with recording on (np_replay_opts.record): its waits and
     * resets as they ran, one token each (check/recorded.c) */
    uint32_t *sig;
    size_t nsig, capsig;
    uint64_t op_parks; /* np_task_parks when its wait began */
} actor;

typedef struct {
    const np_trace *tr;
    const np_replay_opts *o;
    np_replay_result *r;
    int64_t base; /* virtual time of trace time 0 */
    slot **slots;
    size_t nslots;
    size_t capslots;
    actor **actors;
    size_t nactors;
    size_t capactors;
    /* Lookups by id: open addressing, linear probing, power-of-two size. */
    struct idmap {
        int32_t *key;
        void **val;
        size_t cap, n;
    } slot_ids, actor_ids;
    actor **waiting; /* actors inside a wait (order irrelevant) */
    size_t nwaiting, capwaiting;
    slot **dirty; /* slots touched in the current step */
    size_t ndirty, capdirty;
    int64_t next_due; /* earliest model deadline among waiting actors: a full
                         quiescence scan is due once time reaches it */
    size_t capwakes;
    bool exact; /* timers fire at their deadlines (no fire lines, or --exact-timers) */
    bool oom;
    /* A crash (np__fatal in the simulated code) or a world rule broken
     * (np_sim_hooks.fail): reported as a violation; the run ends there,
     * through jmp from the driver's stack. */
    /* The specification oracle (explored, where it can judge the trace):
     * the possible specification states so far, and what the current group
     * of a time step showed. */
    np_oracle *oracle;
    np_oracle_cursor ocur;
    np_oracle_done odone[16];
    size_t nodone;
    uint64_t odone_hash; /* (for the state hash) */
    size_t grp_i0, grp_i1;
    int64_t last_T; /* the latest time step */
    struct {        /* locks other than the slots' pollDescs': acquisitions before this run */
        const void *lock;
        unsigned base;
    } lockbase[8];
    int nlockbase;
    /* explored: the pollcache at the run's start (np__pd_cache_save) */
    np_poll_desc *cache[16], *cache_rest;
    size_t ncache;
    bool model;      /* the model's timing invariants judge */
    bool struct_inv; /* bad-state and stale-event judge */
    bool crashed;
    bool cleaning; /* closing the slots after the run: a crash there (in a state
                      an abandoned or crashed run left) is not the trace's */
    jmp_buf jmp;
    /* explore mode */
    bool abandoned;          /* choose() abandoned the run */
    size_t pos;              /* trace index of the current time step */
    uint64_t wake_hash;      /* the outcomes so far, folded */
    uint32_t opens;          /* pollDescs opened in this run */
    size_t choices;          /* choices made in this run */
    struct np_task *next;    /* the task continue_here picked, to run next */
    struct stim_arg **stims; /* the stimulus tasks' arguments (freed at the end) */
    size_t nstims, capstims;
    /* Poller faults (o->poller_faults): readiness and timers through the
     * simulated poller, and a model of the wake-ups that poller owes. */
    struct poller_mode {
        bool on;
        struct pending_ready { /* `ready` lines queued in the backend, in order */
            const np_tr_event *e;
            slot *s;
            int inc; /* the incarnation it was registered under */
        } * q;
        size_t head, n, cap;
        int64_t until;      /* model: the sleeping poller's timeout (INT64_MAX none) */
        int64_t woke;       /* model: its latest wake-up; every timer due then has fired */
        bool deaf;          /* model: a break was lost since that wake-up */
        bool owed;          /* this step set a timer earlier than `until`, not deaf, and its
                               break was not lost: the poller must wake */
        bool ev;            /* this step queued readiness: the poller must wake */
        bool ended;         /* the stimuli ran out and the poller was woken once */
        uint64_t late_seed; /* late_timers, as in the plain loop */
        int64_t late, last_when;
    } pm;
} replay;

static inline int64_t now_t(replay *rp)
{
    return np_now() - rp->base;
}

static inline int dir(int mode)
{
    return mode == NP_MODE_W ? 1 : 0;
}

static inline const char *mode_str(int mode)
{
    return mode == NP_MODE_R ? "r" : mode == NP_MODE_W ? "w" : "rw";
}

/* The replay in progress (the world is single-threaded). */
extern replay *np__rp_current;
/* An explored time step is running (the scheduling-point hooks act). */
extern bool np__rp_exploring;

/* replay/replay.c */
void np__rp_report(replay *rp, const np_violation *v);
void np__rp_emit(replay *rp, np_tr_event ev);
void np__rp_mark_dirty(replay *rp, slot *s);
void *np__rp_ar_alloc(size_t n);
bool np__rp_grow(void **v, size_t *cap, size_t n, size_t sz);
int np__rp_run_task(replay *rp, np_task *t);
void np__rp_run_all(replay *rp);
void np__rp_note_step(replay *rp, actor *a);
actor *np__rp_find_actor(replay *rp, int32_t g, bool create);
void np__rp_apply(replay *rp, const np_tr_event *e);
void np__rp_deliver_ready(replay *rp, const np_tr_event *e, slot *s, const np_event *ev,
                          bool stale);
void np__rp_diverge(replay *rp, int32_t g, int32_t pd, int mode, int64_t t, uint32_t line,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* replay/poller.c */
void np__rp_poller_queue(replay *rp, const np_tr_event *e, slot *s, int inc, const np_event *ev,
                         bool stale);
void np__rp_poller_run(replay *rp, bool run, bool until_eintr);
void np__rp_poller_deadline(replay *rp, slot *s, int64_t at, int mode);
void np__rp_poller_sleep(replay *rp);
bool np__rp_poller_step(replay *rp, size_t *ip);

/* check/explored.c */
void np__rp_explore_step(replay *rp, size_t *ip, int64_t T);
void np__rp_name_pd(const np_poll_desc *pd, int32_t id);
void np__rp_explore_hooks(replay *rp, np_sim_hooks *h);

/* check/recorded.c: explored with recording on */
uint32_t np__rp_rec_token(bool wait, int fd, int mode, unsigned parks, int res);
void np__rp_rec_note(replay *rp, actor *a, bool wait, int res);
void np__rp_rec_start(replay *rp);
void np__rp_rec_stop(replay *rp, bool judge);

/* check/quiescence.c */
void np__rp_check_quiescent(replay *rp);
void np__rp_oracle_done(replay *rp, actor *a, bool wait, int res);
void np__rp_oracle_group(replay *rp, int64_t T);

#endif
