/* backend_sim/replay.c - trace replay through the real pollDesc code
 * (TRACE_FORMAT.md, "Replay rules" and "Invariants"), on the sim build's
 * world: one thread, virtual time, and this driver deciding who runs.
 *
 * Each trace task `g` is an actor: a world task that parks until the driver
 * hands it an operation (wait or reset), performs it with the real calls,
 * reports the outcome, and parks again. Everything else (open, deadline,
 * ready, unblock, close, fire) the driver applies itself, on its own stack.
 *
 * The invariants are judged against a small model of what the trace itself
 * says - each slot's deadlines, whether it is closing, whether readiness
 * arrived that no wait has consumed - never against a second copy of the
 * protocol.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/faults.h"
#include "netpoll/replay.h"
#include "netpoll/runtime.h"
#include "netpoll/sim.h"
#include "poll_desc.h"
#include "fatal.h"
#include "scheduler.h"
#include "world.h"
#include "mix.h"
#include "check/spec.h"
#include "check/invariants.h"

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
    int64_t last_T;  /* the latest time step */
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

static int64_t now_t(replay *rp)
{
    return np_now() - rp->base;
}

static int dir(int mode)
{
    return mode == NP_MODE_W ? 1 : 0;
}

static const char *mode_str(int mode)
{
    return mode == NP_MODE_R ? "r" : mode == NP_MODE_W ? "w" : "rw";
}

/* A finding: counted, kept in the result (the first NP_REPLAY_VIOLATIONS),
 * and its line printed. */
static void report(replay *rp, const np_violation *v)
{
    if (v->kind == NP_INV_DIVERGENCE) {
        if (rp->o->ignore_divergences)
            return;
        rp->r->divergences++;
    } else {
        rp->r->violations++;
    }
    np_replay_result *r = rp->r;
    if (r->nviol < NP_REPLAY_VIOLATIONS) {
        if (!r->viol && !(r->viol = malloc(NP_REPLAY_VIOLATIONS * sizeof *r->viol)))
            rp->oom = true;
        else
            r->viol[r->nviol++] = *v;
    }
    if (!rp->o->out)
        return;
    char line[600];
    np_violation_line(v, line, sizeof line);
    fprintf(rp->o->out, "%s\n", line);
}

static void diverge(replay *rp, int32_t g, int32_t pd, int mode, int64_t t, uint32_t line,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void diverge(replay *rp, int32_t g, int32_t pd, int mode, int64_t t, uint32_t line,
                    const char *fmt, ...)
{
    if (rp->o->ignore_divergences)
        return;
    np_violation v = {NP_INV_DIVERGENCE, pd, g, mode, t, line, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    va_end(ap);
    report(rp, &v);
}

static void invalid(replay *rp, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void invalid(replay *rp, uint32_t line, const char *fmt, ...)
{
    if (rp->r->status == 2)
        return;
    rp->r->status = 2;
    int n = snprintf(rp->r->invalid, sizeof rp->r->invalid,
                     "%s:%u: ", rp->tr->name ? rp->tr->name : "trace", line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof rp->r->invalid)
        vsnprintf(rp->r->invalid + n, sizeof rp->r->invalid - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- the replay's memory --------------------------------------------------------- */

/* Everything a replay allocates for itself (slots, actors, id maps, lists)
 * lives until the replay ends, so it comes from one arena, reset by the
 * next replay: an exploration replays a short trace 100,000s of times, and
 * malloc and free were a fifth of each execution's instructions. The
 * arena's chunks are kept; a reset that finds more than one merges them
 * into one of their total size. Allocations are zeroed and 16-aligned. */
typedef struct ar_chunk {
    struct ar_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} ar_chunk;

static ar_chunk *ar_head; /* the chunk being filled; older ones follow */

static void ar_reset(void)
{
    if (ar_head && ar_head->next) {
        size_t total = 0;
        for (ar_chunk *c = ar_head; c;) {
            ar_chunk *next = c->next;
            total += c->size;
            free(c);
            c = next;
        }
        ar_head = malloc(sizeof *ar_head + total);
        if (ar_head)
            *ar_head = (ar_chunk){NULL, total, 0};
    } else if (ar_head) {
        ar_head->used = 0;
    }
}

static void *ar_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!ar_head || ar_head->size - ar_head->used < n) {
        size_t size = ar_head ? 2 * ar_head->size : 16384;
        if (size < n)
            size = n;
        ar_chunk *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        *c = (ar_chunk){ar_head, size, 0};
        ar_head = c;
    }
    void *p = ar_head->data + ar_head->used;
    ar_head->used += n;
    return memset(p, 0, n);
}

/* p (of `old` bytes, or NULL) moved to a zeroed block of `n` >= old bytes. */
static void *ar_grow(void *p, size_t old, size_t n)
{
    void *q = ar_alloc(n);
    if (q && old)
        memcpy(q, p, old);
    return q;
}

static void emit(replay *rp, np_tr_event ev)
{
    if (!rp->o->emit)
        return;
    ev.line = 0;
    if (np_trace_append(rp->o->emit, &ev) != 0)
        rp->oom = true;
}

static void *idmap_get(struct idmap *m, int32_t key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = (uint32_t)key * 2654435761u & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->val[i])
            return NULL;
        if (m->key[i] == key)
            return m->val[i];
    }
}

static bool idmap_put(struct idmap *m, int32_t key, void *val)
{
    if (2 * (m->n + 1) > m->cap) { /* keep it at most half full */
        size_t cap = m->cap ? 2 * m->cap : 16;
        struct idmap g = {ar_alloc(cap * sizeof *g.key), ar_alloc(cap * sizeof *g.val), cap, 0};
        if (!g.key || !g.val)
            return false;
        for (size_t i = 0; i < m->cap; i++)
            if (m->val[i])
                idmap_put(&g, m->key[i], m->val[i]);
        *m = g;
    }
    size_t i = (uint32_t)key * 2654435761u & (m->cap - 1);
    while (m->val[i])
        i = (i + 1) & (m->cap - 1);
    m->key[i] = key;
    m->val[i] = val;
    m->n++;
    return true;
}

/* Grows *v (of *cap elements of size sz, in the arena) to hold n + 1 by
 * doubling. */
static bool grow(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = ar_grow(*v, *cap * sz, c * sz);
    if (!p)
        return false;
    *v = p;
    *cap = c;
    return true;
}

static void mark_dirty(replay *rp, slot *s)
{
    if (s->dirty)
        return;
    if (!grow((void **)&rp->dirty, &rp->capdirty, rp->ndirty, sizeof *rp->dirty)) {
        rp->oom = true;
        return;
    }
    s->dirty = true;
    rp->dirty[rp->ndirty++] = s;
}

/* Slots and actors are found by id through hash maps (ids are the trace
 * writer's, any positive 32-bit numbers). */
/* The object with this id, or (create) a new zeroed one of `size` bytes,
 * appended to *list. NULL if absent, or out of memory (rp->oom). */
static void *find_or_add(replay *rp, struct idmap *m, void ***list, size_t *n, size_t *cap,
                         int32_t id, size_t size, bool create)
{
    void *o = idmap_get(m, id);
    if (o || !create)
        return o;
    o = ar_alloc(size);
    if (!o || !grow((void **)list, cap, *n, sizeof **list) || !idmap_put(m, id, o)) {
        rp->oom = true;
        return NULL;
    }
    (*list)[(*n)++] = o;
    return o;
}

static slot *find_slot(replay *rp, int32_t id, bool create)
{
    slot *s = find_or_add(rp, &rp->slot_ids, (void ***)&rp->slots, &rp->nslots, &rp->capslots, id,
                          sizeof *s, create);
    if (s)
        s->id = id;
    return s;
}

static void actor_main(void *p);

/* Runs runnable task t (np_world_run_task); a crash in it ends the run. */
static int run_task(replay *rp, np_task *t)
{
    int st = np_world_run_task(t);
    if (rp->crashed)
        longjmp(rp->jmp, 1);
    return st;
}

static actor *find_actor(replay *rp, int32_t g, bool create)
{
    actor *a = find_or_add(rp, &rp->actor_ids, (void ***)&rp->actors, &rp->nactors, &rp->capactors,
                           g, sizeof *a, create);
    if (a)
        a->g = g;
    return a;
}

static void waiting_add(replay *rp, actor *a)
{
    if (!grow((void **)&rp->waiting, &rp->capwaiting, rp->nwaiting, sizeof *rp->waiting)) {
        rp->oom = true;
        return;
    }
    a->widx = rp->nwaiting;
    rp->waiting[rp->nwaiting++] = a;
    a->s->waiter[dir(a->mode)] = a;
    int64_t d = a->s->dl[dir(a->mode)];
    if (d > 0 && d < rp->next_due)
        rp->next_due = d;
}

static void waiting_remove(replay *rp, actor *a)
{
    actor *last = rp->waiting[--rp->nwaiting];
    rp->waiting[a->widx] = last;
    last->widx = a->widx;
    if (a->s->waiter[dir(a->mode)] == a)
        a->s->waiter[dir(a->mode)] = NULL;
}

/* Starts an actor's task and runs it to its first idle park. */
static bool actor_start(replay *rp, actor *a)
{
    if (a->task)
        return true;
    a->task = np_world_spawn(actor_main, a);
    if (!a->task) {
        rp->oom = true;
        return false;
    }
    a->task->user = a;
    run_task(rp, a->task);
    return true;
}

/* ---- outcomes ------------------------------------------------------------------------ */

static replay *current; /* the replay in progress (the world is single-threaded) */

/* A wait or reset completed: part of what its group shows the oracle. */
static void oracle_done(replay *rp, actor *a, bool wait, int res)
{
    if (!rp->oracle || !rp->ocur)
        return;
    if (rp->nodone == sizeof rp->odone / sizeof rp->odone[0]) {
        rp->ocur = 0; /* more than the oracle judges in one group */
        return;
    }
    rp->odone[rp->nodone++] = (np_oracle_done){a->g, wait, (int8_t)res, a->s->id, a->mode};
    rp->odone_hash += np__mix((uint64_t)(uint32_t)a->g << 8 | (uint64_t)wait << 4, (uint64_t)res);
}

static void record_wake(replay *rp, actor *a, int res)
{
    slot *s = a->s;
    int d = dir(a->mode);
    int64_t t = now_t(rp);
    emit(rp, (np_tr_event){.t = t,
                           .kind = NP_TR_WAKE,
                           .pd = s->id,
                           .g = a->g,
                           .mode = a->mode,
                           .tag = -1,
                           .res = res});
    np_replay_wake wk = {a->g, s->id, a->mode, res, -1, t, -1, a->issued, s->dl[d]};
    oracle_done(rp, a, true, res);
    /* invariants on the result itself */
    if (rp->model) {
        np_inv_wake w = {a->g,
                         s->id,
                         a->mode,
                         res,
                         t,
                         np_now(),
                         s->dl[d],
                         s->dl_seen_expired[d],
                         s->dl_ambiguous[d],
                         a->issued_closing};
        np_violation v;
        if (np_inv_early_timeout(&w, &v))
            report(rp, &v);
        if (np_inv_wait_after_close(&w, &v))
            report(rp, &v);
    }
    if (res == NP_POLL_OK)
        s->ready[d] = false;
    /* match the recorded wake */
    if (rp->tr->has_wake) {
        if (a->next_rec < a->nrec) {
            np_tr_event *rec = a->rec[a->next_rec++];
            wk.rec_res = rec->res;
            wk.rec_t = rec->t;
            if (rec->res != res)
                diverge(
                    rp, a->g, s->id, a->mode, t, rec->line,
                    "g=%d pd=%d mode=%s: wake #%zu returned %s at t=%lld, recorded %s at t=%lld "
                    "(line %u)",
                    a->g, s->id, mode_str(a->mode), a->next_rec, np_poll_result_name(res),
                    (long long)t, np_poll_result_name(rec->res), (long long)rec->t, rec->line);
        } else {
            diverge(rp, a->g, s->id, a->mode, t, 0,
                    "g=%d pd=%d mode=%s: wake #%zu (%s at t=%lld) was not recorded", a->g, s->id,
                    mode_str(a->mode), a->computed + 1, np_poll_result_name(res), (long long)t);
        }
    }
    a->computed++;
    rp->wake_hash = (rp->wake_hash ^ ((uint64_t)(uint32_t)a->g << 32 | (uint32_t)(res + 16))) *
                    UINT64_C(0x100000001b3);
    if (rp->r->nwakes == rp->capwakes) { /* the result outlives the replay: not the arena */
        size_t cap = rp->capwakes ? 2 * rp->capwakes : 16;
        np_replay_wake *v = realloc(rp->r->wakes, cap * sizeof *v);
        if (!v) {
            rp->oom = true;
            return;
        }
        rp->r->wakes = v;
        rp->capwakes = cap;
    }
    rp->r->wakes[rp->r->nwakes++] = wk;
}

static void actor_main(void *p)
{
    actor *a = p;
    for (;;) {
        a->task->sim_hist = 0; /* idle: no local state left from the last operation */
        np_park(NULL, NULL);   /* idle until the driver hands over an operation */
        if (a->quit)
            return;
        replay *rp = current;
        if (a->op == NP_TR_WAIT) {
            a->in_op = true;
            a->reported = false;
            waiting_add(rp, a);
            int res = np_poll_wait(a->pd, a->mode);
            a->in_op = false;
            waiting_remove(rp, a);
            mark_dirty(rp, a->s);
            record_wake(rp, a, res);
        } else {
            int res = np_poll_reset(a->pd, a->mode);
            emit(rp, (np_tr_event){.t = now_t(rp),
                                   .kind = NP_TR_RESET,
                                   .pd = a->s->id,
                                   .g = a->g,
                                   .mode = a->mode,
                                   .tag = -1,
                                   .res = res});
            if (res == NP_POLL_OK)
                a->s->ready[dir(a->mode)] = false; /* reset discards readiness */
            oracle_done(rp, a, false, res);
            if (a->rec_res >= 0 && a->rec_res != res)
                diverge(rp, a->g, a->s->id, a->mode, now_t(rp), a->line,
                        "g=%d pd=%d mode=%s: reset returned %s, recorded %s (line %u)", a->g,
                        a->s->id, mode_str(a->mode), np_poll_result_name(res),
                        np_poll_result_name(a->rec_res), a->line);
        }
        if (a->final) /* its stack goes back to the pool (a trace may have 100,000s of tasks) */
            return;
    }
}

static void note_step(replay *rp, actor *a);

/* Runs an actor's task until it parks or ends (then it has no task, until
 * it is handed another operation). */
static void run_actor(replay *rp, actor *a)
{
    if (run_task(rp, a->task) == NP_WORLD_EXITED) {
        a->task = NULL;
        return;
    }
    note_step(rp, a);
}

/* After a task ran: a wait that committed to sleep gives a `park` line. */
static void note_step(replay *rp, actor *a)
{
    uint64_t parks = np_task_parks(a->task);
    if (a->in_op && parks != a->parks_seen)
        emit(rp, (np_tr_event){.t = now_t(rp),
                               .kind = NP_TR_PARK,
                               .pd = a->s->id,
                               .g = a->g,
                               .mode = a->mode,
                               .tag = -1,
                               .res = -1});
    a->parks_seen = parks;
}

/* Rule 1c: every runnable task runs until it parks or finishes its operation. */
static void run_all(replay *rp)
{
    np_task *t;
    while (np_world_runnable_list(&t, 1) > 0) { /* the oldest first */
        actor *a = t->user;
        if (a)
            run_actor(rp, a);
        else
            run_task(rp, t);
    }
}

/* ---- exploration: concurrent actors, a choice at every scheduling point ---- */

static bool exploring; /* the hooks below act only while an exploration runs */

/* At most this many tasks are choices at one point (more are left out). */
#define NP_EXPLORE_TASKS 512

static uint64_t timer_key(const np_timer *t)
{
    return t->index < 0 ? 0 : np__mix((uint64_t)t->when, (uint64_t)t->seq);
}

/* What a pd's lock guards (and the lock-free-read words published under
 * it): deadlines, timer generations, the info word, closing, both timers
 * and, for equal deadlines, which goes first. */
static uint64_t guarded_hash(const np_poll_desc *pd)
{
    uint64_t h = np__mix((uint64_t)atomic_load(&pd->rd), (uint64_t)atomic_load(&pd->wd));
    h = np__mix(h, (uint64_t)pd->rseq << 32 ^ (uint64_t)pd->wseq);
    h = np__mix(h, (uint64_t)atomic_load(&pd->info) << 3 | (uint64_t)pd->rt_on << 2 |
                       (uint64_t)pd->wt_on << 1 | (uint64_t)atomic_load(&pd->closing));
    h = np__mix(h, timer_key(&pd->rt));
    h = np__mix(h, timer_key(&pd->wt));
    return np__mix(h, pd->rt.index >= 0 && pd->wt.index >= 0 && pd->rt.order < pd->wt.order);
}

/* A value as the state hash sees it: a live task's address becomes its
 * simulated id (addresses differ from run to run, ids do not). */
static uint64_t norm(uint64_t v)
{
    if (v <= NP_PD_WAIT)
        return v;
    np_task *all[256];
    size_t n = np_world_tasks(all, 256);
    for (size_t i = 0; i < n && i < 256; i++)
        if ((uint64_t)(uintptr_t)all[i] == v)
            return UINT64_C(0x7a5c000000000000) | (uint64_t)all[i]->sim_id;
    return v;
}

/* Names for the pollDesc fields steps touch: pd -> slot id of the latest
 * run (pollDescs are never freed, so the addresses stay valid). */
static struct {
    const np_poll_desc *pd;
    int32_t id;
} pd_names[64];

static void name_pd(const np_poll_desc *pd, int32_t id)
{
    for (size_t i = 0; i < 64; i++)
        if (!pd_names[i].pd || pd_names[i].pd == pd) {
            pd_names[i].pd = pd;
            pd_names[i].id = id;
            return;
        }
}

const char *np_replay_addr_name(const volatile void *addr, char *buf, size_t len)
{
    const char *p = (const char *)addr;
    snprintf(buf, len, "%s", addr ? "?" : "-");
    for (size_t i = 0; i < 64 && pd_names[i].pd; i++) {
        const np_poll_desc *pd = pd_names[i].pd;
        const char *b = (const char *)pd;
        if (p < b || p >= b + sizeof *pd)
            continue;
        const char *f = p == (const char *)&pd->rg        ? "rg"
                        : p == (const char *)&pd->wg      ? "wg"
                        : p == (const char *)&pd->info    ? "info"
                        : p == (const char *)&pd->closing ? "closing"
                        : p == (const char *)&pd->rd      ? "rd"
                        : p == (const char *)&pd->wd      ? "wd"
                        : p == (const char *)&pd->lock    ? "lock"
                        : p == (const char *)&pd->rt      ? "rt"
                        : p == (const char *)&pd->wt      ? "wt"
                                                          : "?";
        snprintf(buf, len, "pd%d.%s", pd_names[i].id, f);
        break;
    }
    return buf;
}

static const char *const kind_names[] = {"load",   "store", "cas", "xchg", "lock",
                                         "unlock", "timer", "now", "park", "ready"};

/* Who a task is, for the step listing. */
static void describe_task(const np_task *t, char *buf, size_t len);

/* A source file as a number that does not depend on where the program is
 * loaded (state hashes must agree between the processes of a sharded
 * exploration). */
static uint64_t file_id(const char *file)
{
    static const char *last;
    static uint64_t id;
    if (file != last) {
        id = UINT64_C(14695981039346656037);
        for (const char *p = file; *p; p++)
            id = (id ^ (unsigned char)*p) * UINT64_C(1099511628211);
        last = file;
    }
    return id << 20;
}

static bool continue_here(replay *rp, np_task *t);

static void explore_point(int kind, const volatile void *addr, const char *file, int line)
{
    np_task *t = np__world_cur;
    if (!exploring || !t)
        return;
    /* where it stands is part of its state (before the step, as the step
     * may run much later) */
    replay *rp = current;
    if (rp->o->want_state)
        t->sim_hist = np__mix(t->sim_hist, file_id(file) ^ ((uint64_t)line << 4 | (uint64_t)kind));
    /* Before the step the chooser decides who goes next - except before a
     * clock read: the virtual clock does not move within a time step, so
     * the read commutes with every other step and switching before it is
     * the same as switching before the task's next step (a partial-order
     * reduction; it is still a step of the listing). */
    if (kind != NP_PT_NOW && !continue_here(rp, t)) {
        np_task *n = rp->next; /* straight to it: one context switch, not two */
        rp->next = NULL;
        if (n)
            np_world_yield_to(n);
        else
            np_yield(); /* abandoned: back to run_chosen */
    }
    /* chosen: the step happens now */
    if (rp->o->on_point) {
        np_point pt = {t->sim_id, kind, addr, file, line, rp->r->steps};
        rp->o->on_point(rp->o->choose_ctx, &pt);
    }
    t->sim_steps++;
    if (rp->o->listing) {
        char who[64], what[32];
        describe_task(t, who, sizeof who);
        const char *base = strrchr(file, '/');
        fprintf(rp->o->listing, "  step %-4zu %-24s %s:%d  %s %s\n", rp->r->steps, who,
                base ? base + 1 : file, line, kind >= 0 && kind < 10 ? kind_names[kind] : "?",
                np_replay_addr_name(addr, what, sizeof what));
    }
    rp->r->steps++;
}

static void explore_observe(uint64_t v)
{
    np_task *t = np_self();
    if (exploring && t)
        t->sim_hist = np__mix(t->sim_hist, norm(v));
}

/* A pd lock taken: what the holder may now read without scheduling points
 * (NP_OWN) becomes part of its history. */
static void explore_locked(const void *lock)
{
    np_task *t = np_self();
    if (!exploring || !t)
        return;
    replay *rp = current;
    for (size_t i = 0; i < rp->nslots; i++) {
        np_poll_desc *pd = rp->slots[i]->pd;
        if (!pd || (const void *)&pd->lock != lock)
            continue;
        t->sim_hist = np__mix(t->sim_hist, guarded_hash(pd));
        return;
    }
    t->sim_hist = np__mix(t->sim_hist, ((const np__mutex *)lock)->acquired);
}

static void explore_lock_busy(const void *lock)
{
    np_task *t = np_self();
    if (!t)
        np__fatal("explore: a simulated lock is busy outside a task");
    t->sim_blocked_on = lock;
    np_yield();
    t->sim_blocked_on = NULL;
}

static int explore_tid(void)
{
    np_task *t = np_self();
    return t ? t->sim_id : -1;
}

static uint64_t sem_class(uintptr_t v)
{
    return v <= NP_PD_WAIT ? v : 3;
}

static uint64_t dl_class(int64_t d, int64_t now)
{
    return d == 0 ? 0 : d < 0 ? 1 : d > now ? 2 : 3;
}

/* The abstract state of the open slots (the first 3): NP_ABS_BITS each. */
static uint64_t abstract_state(replay *rp)
{
    uint64_t a = 0;
    int64_t now = np_now();
    for (size_t i = 0, k = 0; i < rp->nslots && k < 3; i++) {
        slot *s = rp->slots[i];
        uint64_t v = 0;
        if (s->open) {
            np_poll_desc *pd = s->pd;
            v = 1 | sem_class(atomic_load(&pd->rg)) << 1 | sem_class(atomic_load(&pd->wg)) << 3 |
                (uint64_t)(atomic_load(&pd->info) & 0xFu) << 5 |
                dl_class(atomic_load(&pd->rd), now) << 9 |
                dl_class(atomic_load(&pd->wd), now) << 11 | (uint64_t)(pd->rt.index >= 0) << 13 |
                (uint64_t)(pd->wt.index >= 0) << 14 | (uint64_t)pd->rt_on << 15 |
                (uint64_t)pd->wt_on << 16 | (uint64_t)(pd->lock.owner != 0) << 17 |
                (uint64_t)atomic_load(&pd->closing) << 18;
        }
        a |= v << (NP_ABS_BITS * k++);
    }
    return a;
}

const char *np_replay_abstract_text(uint64_t abstract, char *buf, size_t len)
{
    static const char *const sem[] = {"NIL", "READY", "WAIT", "task"};
    static const char *const dl[] = {"none", "expired", "ahead", "passed"};
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t v = abstract >> (NP_ABS_BITS * k) & ((1u << NP_ABS_BITS) - 1);
        if (!(v & 1) || used >= len)
            continue;
        used += (size_t)snprintf(buf + used, len - used,
                                 "%sslot%d rg=%s wg=%s info=%#x rd=%s wd=%s%s%s%s%s%s%s",
                                 used ? "; " : "", k + 1, sem[v >> 1 & 3], sem[v >> 3 & 3],
                                 (unsigned)(v >> 5 & 0xF), dl[v >> 9 & 3], dl[v >> 11 & 3],
                                 v >> 13 & 1 ? " rt-queued" : "", v >> 14 & 1 ? " wt-queued" : "",
                                 v >> 15 & 1 ? " rt-on" : "", v >> 16 & 1 ? " wt-on" : "",
                                 v >> 17 & 1 ? " locked" : "", v >> 18 & 1 ? " closing" : "");
    }
    if (!used)
        snprintf(buf, len, "no open slot");
    return buf;
}

/* Everything the rest of the run depends on: the trace position and clock,
 * each slot's pollDesc words and timers and the replay's model of it, each
 * actor's state, each live task's status and history, the outcomes so far. */
static uint64_t state_hash(replay *rp)
{
    uint64_t h = np__mix((uint64_t)rp->pos, (uint64_t)np_now());
    h = np__mix(h, rp->wake_hash);
    if (rp->oracle)
        h = np__mix(h, np_oracle_cursor_hash(rp->oracle, rp->ocur) ^ rp->odone_hash);
    h = np__mix(h, rp->r->violations << 20 | rp->r->divergences);
    for (size_t i = 0; i < rp->nslots; i++) {
        slot *s = rp->slots[i];
        h = np__mix(h, (uint64_t)s->open | (uint64_t)s->closing << 1 |
                           (uint64_t)s->dl_past[0] << 2 | (uint64_t)s->dl_past[1] << 3 |
                           (uint64_t)s->ready[0] << 4 | (uint64_t)s->ready[1] << 5 |
                           (uint64_t)s->dl_seen_expired[0] << 6 |
                           (uint64_t)s->dl_seen_expired[1] << 7 |
                           (uint64_t)s->unblock_in_step << 40 | (uint64_t)s->dl_ambiguous[0] << 41 |
                           (uint64_t)s->dl_ambiguous[1] << 42 | (uint64_t)(uint32_t)s->ninc << 8);
        h = np__mix(h, (uint64_t)s->dl[0]);
        h = np__mix(h, (uint64_t)s->dl[1]);
        h = np__mix(h, (uint64_t)(s->waiter[0] ? s->waiter[0]->g : 0) << 32 |
                           (uint32_t)(s->waiter[1] ? s->waiter[1]->g : 0));
        np_poll_desc *pd = s->open ? s->pd : NULL;
        if (!pd)
            continue;
        h = np__mix(h, norm(atomic_load(&pd->rg)));
        h = np__mix(h, norm(atomic_load(&pd->wg)));
        h = np__mix(h, (uint64_t)(uint32_t)pd->lock.owner);
        h = np__mix(h, guarded_hash(pd));
    }
    for (size_t i = 0; i < rp->nactors; i++) {
        actor *a = rp->actors[i];
        h = np__mix(h, (uint64_t)(uint32_t)a->g << 32 | (uint64_t)a->in_op |
                           (uint64_t)a->reported << 1 | (uint64_t)a->issued_closing << 2 |
                           (uint64_t)a->op << 4 | (uint64_t)a->mode << 12);
        h = np__mix(h, (uint64_t)a->computed << 32 | a->next_rec);
    }
    np_task *all[256];
    size_t n = np_world_tasks(all, 256);
    uint64_t tasks = 0; /* order-independent: a sum of per-task hashes */
    for (size_t i = 0; i < n && i < 256; i++) {
        np_task *t = all[i];
        uint64_t lock = 0; /* which lock it waits for: a slot's, or another */
        for (size_t k = 0; t->sim_blocked_on && !lock && k < rp->nslots; k++)
            if (rp->slots[k]->pd && (const void *)&rp->slots[k]->pd->lock == t->sim_blocked_on)
                lock = k + 1;
        if (t->sim_blocked_on && !lock)
            lock = UINT64_MAX;
        int st = atomic_load(&t->state); /* (the running one is about to yield) */
        if (st == NP_T_RUNNING)
            st = NP_T_RUNNABLE;
        tasks += np__mix(np__mix((uint64_t)t->sim_id, (uint64_t)st), np__mix(t->sim_hist, lock));
    }
    return np__mix(np__mix(h, tasks), n);
}

/* Puts t into list[0..*m) by creation order (few tasks: insertion). */
static void insert_by_id(np_task **list, size_t *m, np_task *t)
{
    size_t j = (*m)++;
    for (; j > 0 && list[j - 1]->sim_id > t->sim_id; j--)
        list[j] = list[j - 1];
    list[j] = t;
}

/* The tasks that may run next, in creation order (not those waiting for a
 * held lock), and their ids; `self`, when not NULL, is the running task,
 * about to yield. */
static size_t runnable_sorted(np_task *self, np_task **list, int *ids, size_t max)
{
    size_t m = 0;
    uint64_t mask;
    np_task *const *byid;
    if (np_world_runq_mask(&mask, &byid) && (!self || self->sim_id <= 64)) {
        /* the common case: a set, in order */
        if (self)
            mask |= UINT64_C(1) << (self->sim_id - 1);
        for (; mask && m < max; mask &= mask - 1) {
            np_task *p = byid[__builtin_ctzll(mask)];
            const np__mutex *l = p->sim_blocked_on;
            if (p == self || !l || !l->owner) {
                ids[m] = p->sim_id;
                list[m++] = p;
            }
        }
        return m;
    }
    for (np_task *p = np_world_runq_head(); p && m < max; p = p->next) {
        const np__mutex *l = p->sim_blocked_on;
        if (!l || !l->owner)
            insert_by_id(list, &m, p);
    }
    if (self && m < max)
        insert_by_id(list, &m, self);
    for (size_t i = 0; i < m; i++)
        ids[i] = list[i]->sim_id;
    return m;
}

/* The chooser's pick among list[0..m) (m > 1; ids: their ids), `last` the
 * task that ran last if it can go on; -1 if the chooser abandons the run. */
static inline __attribute__((always_inline)) int
decide(replay *rp, np_task *const *list, const int *ids, size_t m, const np_task *last)
{
    int lastidx = -1;
    for (size_t i = 0; i < m && last; i++)
        if (list[i] == last)
            lastidx = (int)i;
    np_choice ch = {m, lastidx, ids, 0, 0, rp->r->steps, rp->pos};
    if (rp->choices++ >= rp->o->state_from) {
        ch.abstract = abstract_state(rp);
        if (rp->o->want_state)
            ch.state = state_hash(rp);
    }
    int c = rp->o->choose(rp->o->choose_ctx, &ch);
    if (c < 0) {
        rp->abandoned = true;
        return -1;
    }
    return (size_t)c < m ? c : 0;
}

/* At a scheduling point of the running task t: the choice is made here, on
 * t's stack, exactly as run_chosen would make it after t yielded (same
 * list, same last, same state: a running task hashes as runnable), so that
 * when t itself is picked - the only runnable task, or the chooser's pick -
 * it goes on without a context switch. False if t must yield: another task
 * was picked (rp->next, which t then switches to directly) or the run was
 * abandoned. */
static bool continue_here(replay *rp, np_task *t)
{
    np_task *list[NP_EXPLORE_TASKS];
    int ids[NP_EXPLORE_TASKS];
    size_t m = runnable_sorted(t, list, ids, NP_EXPLORE_TASKS);
    if (m == 1) /* only t */
        return true;
    int c = decide(rp, list, ids, m, t);
    if (c < 0)
        return false;
    if (list[c] == t)
        return true;
    rp->next = list[c];
    return false;
}

/* Rule 1c, explored: the runnable tasks run one scheduling step at a time,
 * in the order choose() picks, until none is runnable. A task picked at a
 * scheduling point runs at once (np_world_yield_to); the choices made here
 * are those after a task parked, ended or waits for a lock. */
static void run_chosen(replay *rp)
{
    np_task *list[NP_EXPLORE_TASKS];
    np_task *last = NULL;
    rp->next = NULL;
    for (;;) {
        if (rp->abandoned)
            return;
        int ids[NP_EXPLORE_TASKS];
        size_t m = runnable_sorted(NULL, list, ids, NP_EXPLORE_TASKS);
        if (!m)
            return;
        int c = m == 1 ? 0 : decide(rp, list, ids, m, last);
        if (c < 0)
            return;
        if (run_task(rp, list[c]) == NP_WORLD_EXITED) { /* it is freed */
            last = NULL;
            continue;
        }
        np_task *t = np_world_came_home();
        if (t->user)
            note_step(rp, t->user);
        last = np_world_runnable(t) ? t : NULL;
    }
}

typedef struct stim_arg {
    replay *rp;
    const np_tr_event *e;
} stim_arg;

static void apply(replay *rp, const np_tr_event *e);

static void stim_task(void *p)
{
    stim_arg *a = p;
    apply(a->rp, a->e); /* a is freed with the replay */
}

static void describe_task(const np_task *t, char *buf, size_t len)
{
    replay *rp = current;
    for (size_t i = 0; i < rp->nactors; i++)
        if (rp->actors[i]->task == t) {
            const actor *a = rp->actors[i];
            snprintf(buf, len, "g=%d %s pd=%d %s", a->g, a->op == NP_TR_WAIT ? "wait" : "reset",
                     a->s ? a->s->id : 0, mode_str(a->mode));
            return;
        }
    for (size_t i = 0; i < rp->nstims; i++)
        if (rp->stims[i] == t->arg) {
            const np_tr_event *e = rp->stims[i]->e;
            snprintf(buf, len, "%s pd=%d (line %u)", np_tr_kind_name(e->kind), e->pd, e->line);
            return;
        }
    snprintf(buf, len, "timers (t%d)", t->sim_id);
}

static void timer_task(void *p)
{
    (void)p;
    np_world_fire_timers();
}

/* ---- stimuli ------------------------------------------------------------------------- */

static int64_t abs_time(replay *rp, int64_t at)
{
    return at > INT64_MAX - rp->base ? INT64_MAX : rp->base + at;
}

static uint32_t snapshot(np_poll_desc *pd, uintptr_t *rg, uintptr_t *wg)
{
    *rg = atomic_load(&pd->rg);
    *wg = atomic_load(&pd->wg);
    return atomic_load(&pd->info);
}

static void deliver_ready(replay *rp, const np_tr_event *e, slot *s, const np_event *ev,
                          bool stale);
static void poller_queue(replay *rp, const np_tr_event *e, slot *s, int inc, const np_event *ev,
                         bool stale);
static void poller_run(replay *rp, bool run, bool until_eintr);
static void poller_deadline(replay *rp, slot *s, int64_t at, int mode);

static void apply_ready(replay *rp, const np_tr_event *e, slot *s)
{
    incarnation in;
    bool stale;
    if (e->tag < 0) {
        in = s->inc[s->ninc - 1];
        stale = false;
    } else {
        in = s->inc[e->tag - 1];
        stale = !s->open || e->tag != s->ninc;
    }
    np_event ev = {in.pd, in.tag, 0, e->err != 0, false}; /* traces carry no hangup */
    if (e->err || e->mode != NP_MODE_W)
        ev.mode |= NP_EV_R;
    if (e->err || e->mode != NP_MODE_R)
        ev.mode |= NP_EV_W;
    if (rp->pm.on) { /* poller faults: the poller delivers it (poller_wake) */
        poller_queue(rp, e, s, e->tag < 0 ? s->ninc : (int)e->tag, &ev, stale);
        poller_run(rp, false, true); /* at once, unless EINTR cuts the poll short */
        return;
    }
    deliver_ready(rp, e, s, &ev, stale);
}

/* Hands readiness ev (of line e, for slot s) to the pollDescs. */
static void deliver_ready(replay *rp, const np_tr_event *e, slot *s, const np_event *ev, bool stale)
{
    /* stale-event: whoever owns that pollDesc now must not notice */
    slot *owner = NULL;
    for (size_t i = 0; stale && i < rp->nslots; i++)
        if (rp->slots[i]->open && rp->slots[i]->pd == ev->pd)
            owner = rp->slots[i];
    /* Readiness counts as arrived from here: explored, a concurrent reset
     * or wait may consume it before this task gets to its next line, so
     * the model must know of it first. */
    if (!stale) {
        if (ev->mode & NP_EV_R)
            s->ready[0] = true;
        if (ev->mode & NP_EV_W)
            s->ready[1] = true;
    }
    uintptr_t rg0 = 0, wg0 = 0, rg1, wg1;
    uint32_t info0 = owner ? snapshot(ev->pd, &rg0, &wg0) : 0;
    /* explored: the snapshots say something only if no other thread took a
     * step between them (its own wake-ups count regardless) */
    np_task *me = np_self();
    uint64_t all0 = rp->r->steps, mine0 = me ? me->sim_steps : 0;
    np_task_list l = {0};
    np__poll_event(ev, &l);
    unsigned woken = l.n;
    np__ready_list(&l);
    bool alone = !me || rp->r->steps - all0 == me->sim_steps - mine0;
    if (owner && rp->struct_inv) {
        uint32_t info1 = snapshot(ev->pd, &rg1, &wg1);
        np_violation v;
        if (np_inv_stale_event(e->pd, e->tag, e->t, e->line, woken,
                               alone && (rg1 != rg0 || wg1 != wg0 || info1 != info0), owner->id,
                               owner->ninc, &v))
            report(rp, &v);
    }
}

/* Rule 5: a fire line makes the direction's deadline timer take effect now. */
static void apply_fire(replay *rp, const np_tr_event *e, slot *s)
{
    np_poll_desc *pd = s->open ? s->pd : NULL;
    int64_t now = np_now();
    bool due = pd != NULL;
    if (e->mode != NP_MODE_W)
        due = due && s->dl[0] > 0 && s->dl[0] <= now;
    if (e->mode != NP_MODE_R)
        due = due && s->dl[1] > 0 && s->dl[1] <= now;
    bool fired = false;
    if (due) {
        /* The read timer serves both directions when their deadlines are equal. */
        if (e->mode == NP_MODE_W && pd->wt.index >= 0)
            fired = np_world_fire_timer(&pd->wt);
        else
            fired = np_world_fire_timer(&pd->rt) || np_world_fire_timer(&pd->wt);
    }
    if (!fired) {
        diverge(rp, 0, e->pd, e->mode, e->t, e->line,
                "fire pd=%d mode=%s at t=%lld (line %u): no deadline of that "
                "direction is due then",
                e->pd, mode_str(e->mode), (long long)e->t, e->line);
        return;
    }
    rp->r->fires++;
    emit(rp, *e);
}

static void apply_task_op(replay *rp, const np_tr_event *e, slot *s)
{
    actor *a = find_actor(rp, e->g, true);
    if (!a || !actor_start(rp, a))
        return;
    /* Rule 2: a woken task first finishes its wait. */
    if (np_world_runnable(a->task) && !rp->o->choose)
        run_actor(rp, a);
    if (!a->task && !actor_start(rp, a)) /* it ended after what it just finished */
        return;
    if (a->in_op) {
        diverge(rp, a->g, a->s->id, a->mode, e->t, e->line,
                "g=%d is still parked in its wait on pd=%d at t=%lld, when it issues "
                "line %u",
                a->g, a->s->id, (long long)e->t, e->line);
        return;
    }
    actor *b = e->kind == NP_TR_WAIT ? s->waiter[dir(e->mode)] : NULL;
    np_violation v;
    if (b && b != a) {
        np_inv_double_wait(s->id, e->mode, e->t, e->line, a->g, b->g, &v);
        report(rp, &v);
        return;
    }
    /* A task of another slot or incarnation may still be parked on this
     * pollDesc (after divergences): a second waiter would make the pollDesc
     * code abort (Go: "double wait"); the trace gets the violation instead. */
    uintptr_t sem = e->kind == NP_TR_WAIT && s->pd
                        ? atomic_load(dir(e->mode) ? &s->pd->wg : &s->pd->rg)
                        : NP_PD_NIL;
    if (sem > NP_PD_WAIT && sem != (uintptr_t)a->task) {
        np_inv_double_wait(s->id, e->mode, e->t, e->line, a->g, 0, &v);
        report(rp, &v);
        return;
    }
    if (e->kind == NP_TR_WAIT && rp->o->choose) /* explored: concurrent waits see it at once */
        s->waiter[dir(e->mode)] = a;
    a->op = e->kind;
    a->s = s;
    a->pd = s->pd;
    a->mode = e->mode;
    a->line = e->line;
    a->rec_res = e->kind == NP_TR_RESET ? e->res : -1;
    a->issued = now_t(rp);
    a->issued_closing = s->closing;
    if (e->kind == NP_TR_WAIT)
        emit(rp, *e);
    a->final = !rp->o->choose && (size_t)(e - rp->tr->ev) == a->last;
    np_ready(a->task);
    if (rp->o->choose)
        return; /* explored: it runs among the step's concurrent actors */
    run_actor(rp, a);
}

/* Rule 2 for a stimulus that names its task (unblock and close may): a
 * woken task first finishes its wait; a parked one is a divergence. */
static bool issuer_ready(replay *rp, const np_tr_event *e)
{
    if (e->g <= 0)
        return true;
    actor *a = find_actor(rp, e->g, true);
    if (!a)
        return false;
    if (!a->task) /* never waited, or ended: nothing to finish */
        return true;
    if (rp->o->choose) /* explored: the issuer is one of the concurrent actors */
        return true;
    if (np_world_runnable(a->task))
        run_actor(rp, a);
    if (a->in_op) {
        diverge(rp, a->g, a->s->id, a->mode, e->t, e->line,
                "g=%d is still parked in its wait on pd=%d at t=%lld, when it issues "
                "line %u",
                a->g, a->s->id, (long long)e->t, e->line);
        /* Under fault injection the record's causality no longer holds: apply
         * the unblock or close anyway (the unblock is what wakes the task). */
        return rp->o->ignore_divergences;
    }
    return true;
}

static void apply(replay *rp, const np_tr_event *e)
{
    slot *s = find_slot(rp, e->pd, e->kind == NP_TR_OPEN);
    if (!s)
        return; /* the parser guarantees the slot exists (or memory ran out) */
    mark_dirty(rp, s);
    int64_t now = np_now();
    switch (e->kind) {
    case NP_TR_OPEN: {
        np_poll_desc *pd;
        int err = np_poll_open(e->fd, &pd);
        if (err) {
            invalid(rp, e->line, "open pd=%d fd=%d: %s", e->pd, e->fd,
                    err == -EEXIST ? "that fd is open in another slot" : "cannot open");
            return;
        }
        if (s->ninc == s->capinc) {
            int cap = s->capinc ? 2 * s->capinc : 4;
            incarnation *v =
                ar_grow(s->inc, (size_t)s->capinc * sizeof *v, (size_t)cap * sizeof *v);
            if (!v) {
                rp->oom = true;
                return;
            }
            s->inc = v;
            s->capinc = cap;
        }
        if (rp->o->choose) {
            /* explored: a pollDesc starts each run as if new (its timer
             * generations at 0, its incarnation numbered by this run's opens),
             * so equal states of different runs look equal */
            uint32_t low = atomic_load(&pd->info) & ((1u << NP_INFO_SEQ_SHIFT) - 1);
            atomic_store(&pd->info, low | (++rp->opens & NP_TAG_MASK) << NP_INFO_SEQ_SHIFT);
            pd->rseq = pd->wseq = 0;
        }
        s->inc[s->ninc++] = (incarnation){pd, np__pd_incarnation(pd)};
        s->pd = pd;
        name_pd(pd, s->id);
        s->open = true;
        s->closing = false;
        memset(s->dl, 0, sizeof s->dl);
        memset(s->dl_past, 0, sizeof s->dl_past);
        memset(s->dl_ambiguous, 0, sizeof s->dl_ambiguous);
        memset(s->ready, 0, sizeof s->ready);
        emit(rp, *e);
        return;
    }
    case NP_TR_DEADLINE: {
        int64_t at = e->at == 0 ? 0 : abs_time(rp, e->at);
        for (int d = 0; d < 2; d++) /* the old value, and the new one from now on */
            if (e->mode == NP_MODE_RW || dir(e->mode) == d)
                s->dl_seen_expired[d] = s->dl_seen_expired[d] || (at != 0 && at <= now) ||
                                        (s->dl[d] != 0 && s->dl[d] <= now);
        if (rp->pm.on)
            poller_deadline(rp, s, at, e->mode);
        else
            np_poll_set_deadline(s->pd, at, e->mode);
        if (!s->closing)
            for (int d = 0; d < 2; d++)
                if (e->mode == NP_MODE_RW || dir(e->mode) == d) {
                    if (s->unblock_in_step)
                        s->dl_ambiguous[d] = true;
                    s->dl[d] = at;
                    s->dl_past[d] = at != 0 && at <= now;
                }
        emit(rp, *e);
        return;
    }
    case NP_TR_READY:
        apply_ready(rp, e, s);
        emit(rp, *e);
        return;
    case NP_TR_UNBLOCK:
        if (!issuer_ready(rp, e))
            return;
        s->unblock_in_step = rp->o->choose != NULL;
        np_poll_unblock(s->pd);
        s->closing = true;
        emit(rp, *e);
        return;
    case NP_TR_CLOSE:
        if (!issuer_ready(rp, e))
            return;
        if (!s->closing) { /* its unblock was not applied (a divergence above) */
            invalid(rp, e->line, "close pd=%d before its unblock took effect", e->pd);
            return;
        }
        for (int d = 0; d < 2; d++) {
            actor *b = s->waiter[d];
            uintptr_t g = atomic_load(d ? &s->pd->wg : &s->pd->rg);
            if (b && g == (uintptr_t)b->task) {
                invalid(rp, e->line, "close pd=%d while g=%d is parked on it", e->pd, b->g);
                return;
            }
        }
        /* A waiter already woken finishes its wait before the pollDesc goes
         * back to the cache (Go's fdMutex makes Close wait for the readers
         * and writers inside): it must not resume on a recycled one. */
        for (size_t i = 0; !rp->o->choose && i < rp->nwaiting; i++) {
            actor *w = rp->waiting[i];
            if (w->pd == s->pd && np_world_runnable(w->task)) {
                run_actor(rp, w);
                i = (size_t)-1; /* the list changed */
            }
        }
        np_poll_close(s->pd);
        s->open = false;
        s->pd = NULL;
        emit(rp, *e);
        return;
    case NP_TR_WAIT:
    case NP_TR_RESET:
        apply_task_op(rp, e, s);
        return;
    case NP_TR_FIRE:
        if (!rp->exact)
            apply_fire(rp, e, s);
        return;
    case NP_TR_WAKE:
    case NP_TR_PARK:
        return; /* outcomes: compared, not applied */
    }
}

/* ---- quiescence ------------------------------------------------------------------------- */

/* Quiescence checks for one waiting actor. */
static void check_waiter(replay *rp, actor *a, int64_t now)
{
    if (!rp->model || !a->in_op || a->reported || np_world_runnable(a->task))
        return;
    slot *s = a->s;
    int d = dir(a->mode);
    np_inv_parked p = {
        a->g,       s->id,       a->mode,  now_t(rp),     now,
        s->closing, s->ready[d], s->dl[d], s->dl_past[d], rp->exact && !rp->o->late_timers,
        rp->pm.on,  rp->pm.woke};
    np_violation v;
    if (np_inv_parked_wait(&p, &v)) {
        report(rp, &v);
        a->reported = true;
    }
}

/* At the end of each time step. Incremental: the slots touched in the step,
 * and every waiter once the earliest of their deadlines is reached. */
static void check_quiescent(replay *rp)
{
    int64_t now = np_now();
    if (now >= rp->next_due) { /* a deadline passed: look at every waiter */
        rp->next_due = INT64_MAX;
        for (size_t i = 0; i < rp->nwaiting; i++) {
            actor *a = rp->waiting[i];
            check_waiter(rp, a, now);
            int64_t d = a->s->dl[dir(a->mode)];
            if (!a->reported && d > now && d < rp->next_due)
                rp->next_due = d;
        }
    }
    for (size_t i = 0; i < rp->ndirty; i++) {
        slot *s = rp->dirty[i];
        s->dirty = false;
        s->dl_seen_expired[0] = s->dl_seen_expired[1] = s->unblock_in_step = false;
        for (int d = 0; d < 2; d++) {
            actor *w = s->waiter[d];
            if (w) {
                check_waiter(rp, w, now);
                int64_t dl = s->dl[d];
                if (dl > now && dl < rp->next_due)
                    rp->next_due = dl;
            }
            if (!s->open)
                continue;
            /* bad-state: a semaphore holds NIL, READY, or the task waiting on it */
            uintptr_t v = atomic_load(d ? &s->pd->wg : &s->pd->rg);
            np_violation bad;
            if (rp->struct_inv && np_inv_bad_sema(s->id, d ? NP_MODE_W : NP_MODE_R, now_t(rp), v,
                                                  w ? (uintptr_t)w->task : 0, &bad))
                report(rp, &bad);
        }
    }
    rp->ndirty = 0;
}

/* One time step, explored: the due timers and the stimuli at T run as
 * concurrent tasks under the chooser. An `open` is applied first (nothing
 * can touch a slot before it exists), a `close` once the step is quiescent
 * (it needs its unblock done and nobody parked), and an actor's second
 * operation in one step after its first. A close that an open follows at
 * the same time splits the step in two groups, one after the other. */
static void explore_step(replay *rp, size_t *ip, int64_t T)
{
    const np_trace *tr = rp->tr;
    size_t i0 = *ip, i1 = i0;
    while (i1 < tr->n && tr->ev[i1].t == T) {
        /* a close followed, at the same time, by an open (perhaps of the same
         * descriptor) ends this group: the open comes after the close */
        if (tr->ev[i1++].kind == NP_TR_CLOSE) {
            bool reopen = false;
            for (size_t k = i1; k < tr->n && tr->ev[k].t == T && !reopen; k++)
                reopen = tr->ev[k].kind == NP_TR_OPEN;
            if (reopen)
                break;
        }
    }
    *ip = i1;
    rp->grp_i0 = i0;
    rp->grp_i1 = i1;
    rp->r->events += i1 - i0;
    if (rp->exact && np_world_next_timer() <= np_now() && !np_world_spawn(timer_task, NULL))
        rp->oom = true;
    bool *later = ar_alloc(i1 - i0 + 1); /* (short traces: explorations) */
    if (!later) {
        rp->oom = true;
        return;
    }
    for (size_t i = i0; i < i1 && rp->r->status != 2; i++) {
        const np_tr_event *e = &tr->ev[i];
        if (e->kind == NP_TR_OPEN) {
            apply(rp, e);
        } else if (e->kind == NP_TR_CLOSE || e->kind == NP_TR_WAKE || e->kind == NP_TR_PARK) {
            later[i - i0] = e->kind == NP_TR_CLOSE;
        } else if (e->kind == NP_TR_WAIT || e->kind == NP_TR_RESET) {
            actor *a = find_actor(rp, e->g, true);
            if (a && a->task && np_world_runnable(a->task))
                later[i - i0] = true; /* it already has an operation in this step */
            else
                apply(rp, e);
        } else if (e->kind == NP_TR_FIRE && rp->exact) {
            continue;
        } else {
            stim_arg *a = ar_alloc(sizeof *a);
            if (!a || !grow((void **)&rp->stims, &rp->capstims, rp->nstims, sizeof *rp->stims)) {
                rp->oom = true;
                break;
            }
            *a = (stim_arg){rp, e};
            rp->stims[rp->nstims++] = a;
            if (!np_world_spawn(stim_task, a)) {
                rp->oom = true;
                break;
            }
        }
    }
    rp->pos = i0;
    exploring = true;
    run_chosen(rp);
    /* A timer the step's stimuli armed at a time already due (a deadline
     * pair split while its shared timer was due) fires in this step too
     * (rule 1a): quiescence is judged once every due timer has run. */
    while (rp->exact && !rp->abandoned && np_world_next_timer() <= np_now()) {
        if (!np_world_spawn(timer_task, NULL)) {
            rp->oom = true;
            break;
        }
        run_chosen(rp);
    }
    exploring = false;
    for (size_t i = i0; i < i1 && rp->r->status != 2 && !rp->abandoned; i++)
        if (later[i - i0]) {
            apply(rp, &tr->ev[i]);
            run_all(rp);
        }
}

/* ---- poller faults: readiness and timers through the simulated poller ---------------------- */

/* A `ready` line under poller faults: queued in the backend, to be
 * dispatched when the poller's wait returns. The model takes note of the
 * readiness at once: the trace says it arrived now. */
static void poller_queue(replay *rp, const np_tr_event *e, slot *s, int inc, const np_event *ev,
                         bool stale)
{
    struct poller_mode *pm = &rp->pm;
    int mode = ev->mode == (NP_EV_R | NP_EV_W) ? NP_MODE_RW
               : ev->mode == NP_EV_R           ? NP_MODE_R
                                               : NP_MODE_W;
    if (!grow((void **)&pm->q, &pm->cap, pm->n, sizeof *pm->q) ||
        np_sim_inject_raw(0, ev->pd, ev->tag, mode, ev->err_only) != 0) {
        rp->oom = true;
        return;
    }
    pm->q[pm->n++] = (struct pending_ready){e, s, inc};
    pm->ev = true;
    if (!stale) {
        if (ev->mode & NP_EV_R)
            s->ready[0] = true;
        if (ev->mode & NP_EV_W)
            s->ready[1] = true;
    }
}

/* A `deadline` line under poller faults. A timer earlier than the sleeping
 * poller's timeout needs a break; the model notes whether it was lost. */
static void poller_deadline(replay *rp, slot *s, int64_t at, int mode)
{
    struct poller_mode *pm = &rp->pm;
    bool owe = !s->closing && at > np_now() && at < pm->until && !pm->deaf;
    np_sim_stats st0, st1;
    if (owe)
        np_sim_get_stats(&st0);
    np_poll_set_deadline(s->pd, at, mode);
    if (owe) {
        np_sim_get_stats(&st1);
        if (st1.lost_breaks != st0.lost_breaks)
            pm->deaf = true; /* its timer may wait for the poller's next wake-up */
        else
            pm->owed = true;
    }
}

/* The model poller's timeout: the earliest deadline after t that has a
 * timer (an open slot, not closing; not "never"). */
static int64_t model_next_timer(replay *rp, int64_t t)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < rp->nslots; i++) {
        slot *s = rp->slots[i];
        if (s->open && !s->closing)
            for (int d = 0; d < 2; d++)
                if (s->dl[d] > t && s->dl[d] < next && s->dl[d] < INT64_MAX - rp->base)
                    next = s->dl[d];
    }
    return next;
}

/* The model poller wakes up now: every due timer must fire; it sleeps again
 * until the next one. Every waiter is looked at again (check_quiescent). */
static void model_wake(replay *rp)
{
    rp->pm.woke = np_now();
    rp->pm.until = model_next_timer(rp, rp->pm.woke);
    rp->pm.deaf = false;
    rp->next_due = INT64_MIN;
}

/* The model poller's timeouts up to now. */
static void model_advance(replay *rp)
{
    while (rp->pm.until <= np_now()) {
        rp->pm.woke = rp->pm.until;
        rp->pm.until = model_next_timer(rp, rp->pm.woke);
        rp->pm.deaf = false;
        rp->next_due = INT64_MIN;
    }
}

/* The idle worker sleeps in the poller until its next timer (exact timers;
 * late_timers: that late), or for good. */
static void poller_sleep(replay *rp)
{
    struct poller_mode *pm = &rp->pm;
    int64_t until = INT64_MAX;
    int64_t when = rp->exact ? np_world_next_timer() : INT64_MAX;
    if (when < INT64_MAX - rp->base) {
        until = when;
        if (rp->o->late_timers) {
            if (when != pm->last_when) {
                pm->late = (int64_t)(np__xorshift(&pm->late_seed) % 5000);
                pm->last_when = when;
            }
            until += pm->late;
        }
    }
    np_world_poller_block(until);
}

/* The poller's wait returns (look: the driver wakes it): its records are
 * dispatched, due timers fire, and (run) the woken tasks run. Returns
 * whether EINTR cut it short. */
static bool poller_wake(replay *rp, bool look, bool run)
{
    struct poller_mode *pm = &rp->pm;
    np_event ev[64];
    np_sim_stats st0, st1;
    np_sim_get_stats(&st0);
    int n = np_world_poller_wait(ev, 64, look);
    np_sim_get_stats(&st1);
    for (int i = 0; i < n; i++) {
        if (pm->head == pm->n || ev[i].pd != pm->q[pm->head].s->inc[pm->q[pm->head].inc - 1].pd)
            np__fatal("replay: the poller delivered an event nobody queued");
        struct pending_ready *p = &pm->q[pm->head++];
        mark_dirty(rp, p->s);
        deliver_ready(rp, p->e, p->s, &ev[i], !p->s->open || p->inc != p->s->ninc);
    }
    if (pm->head == pm->n)
        pm->head = pm->n = 0;
    if (rp->exact)
        np_world_fire_timers();
    if (run)
        run_all(rp);
    model_wake(rp); /* the model follows every real wake-up: it only adds duties */
    poller_sleep(rp);
    return st1.eintrs != st0.eintrs;
}

/* Every wake-up of the poller due by now (until_eintr: up to one that EINTR
 * cuts short - the next poll comes after the step's next stimulus). */
static void poller_run(replay *rp, bool run, bool until_eintr)
{
    for (unsigned k = 0; np_world_poller_due() <= np_now(); k++) {
        if (k == 1000000)
            np__fatal("replay: the poller keeps waking at t=%lld", (long long)now_t(rp));
        if (poller_wake(rp, false, run) && until_eintr)
            return;
    }
}

static int64_t trace_t(replay *rp, int64_t abs)
{
    return abs == INT64_MAX ? INT64_MAX : abs - rp->base;
}

/* One time step under poller faults: the next stimulus, wake-up of the
 * poller, or wake-up the model says the poller owes. (a) the poller's
 * wake-ups due then (its timeout: timers fire), (b) the stimuli, (c) the
 * tasks, then the wake-ups the step caused (its readiness, its breaks),
 * each followed by the tasks it woke.
 * false: nothing is left to happen. */
static bool poller_step(replay *rp, size_t *ip)
{
    const np_trace *tr = rp->tr;
    struct poller_mode *pm = &rp->pm;
    int64_t T = *ip < tr->n ? tr->ev[*ip].t : INT64_MAX;
    int64_t tw = trace_t(rp, np_world_poller_due()), tm = trace_t(rp, pm->until);
    T = tw < T ? tw : T;
    T = tm < T ? tm : T;
    bool end = false;
    if (T == INT64_MAX) {
        /* The stimuli ran out with the poller asleep for good: the end of
         * the run wakes it once (standing for Go's sysmon), so a timer a
         * lost break left behind still fires. */
        if (pm->ended || !rp->exact || np_world_next_timer() >= INT64_MAX - rp->base)
            return false;
        pm->ended = end = true;
        T = now_t(rp);
    }
    if (rp->base + T > np_now())
        np_sim_set_now(rp->base + T);
    model_advance(rp);
    if (end)
        poller_wake(rp, true, false);
    poller_run(rp, false, false); /* (a): woken tasks run in (c), rule 1 */
    pm->owed = pm->ev = false;
    if (rp->o->choose) {
        explore_step(rp, ip, T);
    } else {
        for (; *ip < tr->n && tr->ev[*ip].t == T && rp->r->status != 2; (*ip)++) { /* (b) */
            apply(rp, &tr->ev[*ip]);
            rp->r->events++;
        }
        run_all(rp); /* (c) */
    }
    poller_run(rp, true, false); /* what the step left: events after EINTR, breaks */
    /* The model: readiness wakes the poller; so does a timer set earlier
     * than its timeout, unless a break was lost since its last wake-up
     * (Go's coalesced break then stays pending, unsent). By the end of the
     * step it has woken, or the model wakes without it. */
    if (pm->ev || pm->owed)
        model_wake(rp);
    return true;
}

/* ---- the driver ---------------------------------------------------------------------------- */

static bool collect_recorded(replay *rp)
{
    for (size_t i = 0; i < rp->tr->n; i++) {
        np_tr_event *e = &rp->tr->ev[i];
        if (e->kind == NP_TR_WAIT || e->kind == NP_TR_RESET) {
            actor *a = find_actor(rp, e->g, true);
            if (!a)
                return false;
            a->last = i;
        }
        if (e->kind != NP_TR_WAKE)
            continue;
        actor *a = find_actor(rp, e->g, true);
        if (!a)
            return false;
        if (a->nrec == a->caprec) {
            size_t cap = a->caprec ? 2 * a->caprec : 8;
            np_tr_event **v = ar_grow(a->rec, a->caprec * sizeof *v, cap * sizeof *v);
            if (!v)
                return false;
            a->rec = v;
            a->caprec = cap;
        }
        a->rec[a->nrec++] = e;
    }
    return true;
}

static void finish(replay *rp)
{
    for (size_t i = 0; i < rp->nactors; i++) {
        actor *a = rp->actors[i];
        if (rp->tr->has_wake)
            for (size_t k = a->next_rec; k < a->nrec; k++)
                diverge(rp, a->g, a->rec[k]->pd, a->rec[k]->mode, a->rec[k]->t, a->rec[k]->line,
                        "g=%d: recorded wake #%zu (%s at t=%lld, line %u) did not "
                        "happen%s",
                        a->g, k + 1, np_poll_result_name(a->rec[k]->res), (long long)a->rec[k]->t,
                        a->rec[k]->line, a->in_op ? ": the task is still parked" : "");
    }
}

/* np_sim_hooks.fail: a crash or a broken world rule is a violation, and
 * ends the run - from a task by leaving it for good, then (run_task) or
 * from the driver's own stack by a jump to the end of np_replay. */
static void replay_fail(const char *name, const char *msg)
{
    replay *rp = current;
    if (!rp)
        return; /* not replaying: abort as ever */
    if (!rp->crashed && !rp->cleaning) {
        np_violation v;
        np_inv_fail(np_inv_find(name) >= 0 ? (np_inv)np_inv_find(name) : NP_INV_CRASH, msg,
                    now_t(rp), &v);
        report(rp, &v);
    }
    rp->crashed = true;
    if (np__world_cur)
        np_world_abandon_task();
    longjmp(rp->jmp, 1);
}

/* The end of an explored group: what it showed, judged by the oracle. */
static void oracle_group(replay *rp, int64_t T)
{
    np_oracle_done blocked[16];
    size_t nb = 0;
    for (size_t i = 0; rp->ocur && i < rp->nwaiting; i++) {
        const actor *a = rp->waiting[i];
        if (nb == sizeof blocked / sizeof blocked[0])
            rp->ocur = 0; /* more than the oracle judges */
        else
            blocked[nb++] = (np_oracle_done){a->g, 1, 0, a->s->id, a->mode};
    }
    np_oracle_obs obs = {rp->odone, rp->nodone, blocked, nb};
    np_violation v;
    if (rp->ocur && !np_oracle_step(rp->oracle, &rp->ocur, rp->grp_i0, rp->grp_i1, T, &obs, &v))
        report(rp, &v);
    rp->nodone = 0;
    rp->odone_hash = 0;
}

/* The replay's loop: rule 1, one time step after another. */
static void drive(replay *rp)
{
    const np_trace *tr = rp->tr;
    np_replay_result *r = rp->r;
    size_t i = 0;
    uint64_t late_seed = rp->o->late_timers | 1;
    int64_t late = 0, last_when = -1;
    while (!rp->oom && r->status != 2 && !rp->abandoned) {
        if (rp->pm.on) {
            if (!poller_step(rp, &i))
                break;
            if (!rp->abandoned)
                check_quiescent(rp);
            continue;
        }
        /* Rule 1: the next time is the next stimulus or (exact timers) timer. */
        int64_t ts = i < tr->n ? tr->ev[i].t : INT64_MAX;
        int64_t tt = INT64_MAX;
        if (rp->exact) {
            int64_t when = np_world_next_timer();
            if (when != INT64_MAX && when < INT64_MAX - rp->base) {
                tt = when - rp->base < 0 ? 0 : when - rp->base;
                if (rp->o->late_timers) { /* fault: this firing comes late */
                    if (when != last_when) {
                        late = (int64_t)(np__xorshift(&late_seed) % 5000);
                        last_when = when;
                    }
                    tt += late;
                }
            }
        }
        int64_t T = ts < tt ? ts : tt;
        if (T == INT64_MAX || (T == tt && tt >= INT64_MAX - rp->base))
            break; /* no stimulus left, and no timer that can ever fire */
        if (rp->base + T > np_now())
            np_sim_set_now(rp->base + T);
        if (rp->o->choose) {
            explore_step(rp, &i, T);
        } else {
            if (rp->exact)
                np_world_fire_timers();                                    /* (a) */
            for (; i < tr->n && tr->ev[i].t == T && r->status != 2; i++) { /* (b) */
                apply(rp, &tr->ev[i]);
                r->events++;
            }
            run_all(rp); /* (c) */
        }
        rp->last_T = T;
        if (!rp->abandoned) {
            check_quiescent(rp);
            if (rp->oracle)
                oracle_group(rp, T);
        }
    }
    np_violation v;
    if (rp->oracle && rp->ocur && !rp->abandoned && r->status != 2 &&
        !np_oracle_end(rp->oracle, rp->ocur, rp->last_T, &v))
        report(rp, &v);
}

/* After the run: pollDescs still open go back to the cache. They are never
 * freed, so an exploration, which replays thousands of times, would lose
 * them all. Their waiters' tasks are freed with the world. */
static void close_slots(replay *rp)
{
    for (size_t k = 0; k < rp->nslots; k++) {
        slot *sl = rp->slots[k];
        if (!sl->open)
            continue;
        sl->open = false;       /* first: a crash below leaves this one out */
        sl->pd->lock.owner = 0; /* an abandoned run may stop inside a critical section */
        atomic_store(&sl->pd->rg, NP_PD_NIL);
        atomic_store(&sl->pd->wg, NP_PD_NIL);
        if (!atomic_load(&sl->pd->closing)) /* (an abandoned run may be inside an unblock) */
            np_poll_unblock(sl->pd);
        np_poll_close(sl->pd);
    }
}

int np_replay(const np_trace *tr, const np_replay_opts *o, np_replay_result *r)
{
    static const np_replay_opts none;
    memset(r, 0, sizeof *r);
    replay rp = {.tr = tr, .o = o ? o : &none, .r = r, .next_due = INT64_MAX};
    rp.exact = !tr->has_fire || rp.o->exact_timers;
    np_config cfg = {.workers = 1, .backend = &np_backend_sim, .design = rp.o->design};
    int err = np_runtime_start(&cfg);
    if (err) {
        snprintf(r->invalid, sizeof r->invalid, "%s: cannot start the simulator: %s",
                 tr->name ? tr->name : "trace", strerror(-err));
        return r->status = 2;
    }
    current = &rp;
    ar_reset();
    rp.base = np_now();
    np_sim_hooks h = {.fail = replay_fail};
    rp.model = !rp.o->choose || rp.o->judge != NP_JUDGE_ORACLE;
    rp.struct_inv = !rp.o->choose || rp.o->judge != NP_JUDGE_ORACLE;
    if (rp.o->choose && rp.o->judge != NP_JUDGE_MODEL && !rp.o->poller_faults &&
        !rp.o->late_timers) {
        char why[160];
        rp.oracle = np_oracle_get(tr, rp.o->design, rp.exact, why, sizeof why);
        if (rp.oracle) {
            rp.ocur = np_oracle_start(rp.oracle);
            rp.model = false;
        }
    }
    if (rp.o->choose) {
        /* observed values matter only to the state hash */
        h = (np_sim_hooks){explore_point,
                           explore_lock_busy,
                           explore_tid,
                           rp.o->want_state ? explore_observe : NULL,
                           rp.o->want_state ? explore_locked : NULL,
                           replay_fail};
    }
    np_sim_set_hooks(&h);
    if (!collect_recorded(&rp))
        rp.oom = true;
    if (rp.o->poller_faults) {
        np_sim_faults f = {rp.o->poller_seed, (rp.o->poller_faults & NP_FAULT_EINTR) != 0,
                           (rp.o->poller_faults & NP_FAULT_LOSTBREAK) != 0,
                           (rp.o->poller_faults & NP_FAULT_DUPBREAK) != 0};
        np_sim_set_faults(&f);
        rp.pm = (struct poller_mode){.on = true,
                                     .until = INT64_MAX,
                                     .woke = INT64_MIN,
                                     .late_seed = rp.o->late_timers | 1,
                                     .last_when = -1};
        poller_sleep(&rp);
    }
    if (!setjmp(rp.jmp))
        drive(&rp);
    exploring = false; /* (a crash may leave an explored step) */
    r->abandoned = rp.abandoned;
    if (r->status != 2 && !rp.abandoned) {
        if (!rp.crashed)
            finish(&rp);
        if (rp.oom) {
            snprintf(r->invalid, sizeof r->invalid, "%s: out of memory",
                     tr->name ? tr->name : "trace");
            r->status = 2;
        } else if (r->divergences || r->violations) {
            r->status = 1;
        }
    }
    /* A crash while the slots are closed (the state a crash left behind) ends
     * the clean-up: the pollDescs left are not reused. */
    rp.cleaning = true;
    if (!setjmp(rp.jmp))
        close_slots(&rp);
    for (size_t k = 0; k < rp.nactors; k++)
        rp.actors[k]->quit = true;
    if (rp.pm.on) {
        np_sim_stats st;
        np_sim_get_stats(&st);
        r->eintrs = st.eintrs;
        r->lost_breaks = st.lost_breaks;
        r->dup_breaks = st.dup_breaks;
    }
    np_runtime_stop(); /* frees the actors' tasks, parked or not */
    if (rp.pm.on)
        np_sim_set_faults(NULL);
    np_sim_set_hooks(NULL);
    current = NULL;
    return r->status;
}

void np_replay_result_free(np_replay_result *r)
{
    free(r->viol);
    r->viol = NULL;
    r->nviol = 0;
    free(r->wakes);
    r->wakes = NULL;
    r->nwakes = 0;
}
