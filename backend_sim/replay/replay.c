/* backend_sim/replay/replay.c - trace replay through the real pollDesc code
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../machine/world.h"
#include "../mix.h"
#include "fatal.h"
#include "netpoll/faults.h"
#include "netpoll/runtime.h"
#include "replay_int.h"

/* A finding: counted, kept in the result (the first NP_REPLAY_VIOLATIONS),
 * and its line printed. */
void np__rp_report(replay *rp, const np_violation *v)
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

void np__rp_diverge(replay *rp, int32_t g, int32_t pd, int mode, int64_t t, uint32_t line,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void np__rp_diverge(replay *rp, int32_t g, int32_t pd, int mode, int64_t t, uint32_t line,
                    const char *fmt, ...)
{
    if (rp->o->ignore_divergences)
        return;
    np_violation v = {NP_INV_DIVERGENCE, pd, g, mode, t, line, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    va_end(ap);
    np__rp_report(rp, &v);
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

replay *np__rp_current;
bool np__rp_exploring;

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

void *np__rp_ar_alloc(size_t n)
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
    void *q = np__rp_ar_alloc(n);
    if (q && old)
        memcpy(q, p, old);
    return q;
}

void np__rp_emit(replay *rp, np_tr_event ev)
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
        struct idmap g = {np__rp_ar_alloc(cap * sizeof *g.key),
                          np__rp_ar_alloc(cap * sizeof *g.val), cap, 0};
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
bool np__rp_grow(void **v, size_t *cap, size_t n, size_t sz)
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

void np__rp_mark_dirty(replay *rp, slot *s)
{
    if (s->dirty)
        return;
    if (!np__rp_grow((void **)&rp->dirty, &rp->capdirty, rp->ndirty, sizeof *rp->dirty)) {
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
    o = np__rp_ar_alloc(size);
    if (!o || !np__rp_grow((void **)list, cap, *n, sizeof **list) || !idmap_put(m, id, o)) {
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
int np__rp_run_task(replay *rp, np_task *t)
{
    int st = np_world_run_task(t);
    if (rp->crashed)
        longjmp(rp->jmp, 1);
    return st;
}

actor *np__rp_find_actor(replay *rp, int32_t g, bool create)
{
    actor *a = find_or_add(rp, &rp->actor_ids, (void ***)&rp->actors, &rp->nactors, &rp->capactors,
                           g, sizeof *a, create);
    if (a)
        a->g = g;
    return a;
}

static void waiting_add(replay *rp, actor *a)
{
    if (!np__rp_grow((void **)&rp->waiting, &rp->capwaiting, rp->nwaiting, sizeof *rp->waiting)) {
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
    np__rp_run_task(rp, a->task);
    return true;
}

/* ---- outcomes ------------------------------------------------------------------------ */

static void record_wake(replay *rp, actor *a, int res)
{
    slot *s = a->s;
    int d = dir(a->mode);
    int64_t t = now_t(rp);
    np__rp_emit(rp, (np_tr_event){.t = t,
                                  .kind = NP_TR_WAKE,
                                  .pd = s->id,
                                  .g = a->g,
                                  .mode = a->mode,
                                  .tag = -1,
                                  .res = res});
    np_replay_wake wk = {a->g, s->id, a->mode, res, -1, t, -1, a->issued, s->dl[d]};
    np__rp_oracle_done(rp, a, true, res);
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
            np__rp_report(rp, &v);
        if (np_inv_wait_after_close(&w, &v))
            np__rp_report(rp, &v);
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
                np__rp_diverge(
                    rp, a->g, s->id, a->mode, t, rec->line,
                    "g=%d pd=%d mode=%s: wake #%zu returned %s at t=%lld, recorded %s at t=%lld "
                    "(line %u)",
                    a->g, s->id, mode_str(a->mode), a->next_rec, np_poll_result_name(res),
                    (long long)t, np_poll_result_name(rec->res), (long long)rec->t, rec->line);
        } else {
            np__rp_diverge(rp, a->g, s->id, a->mode, t, 0,
                           "g=%d pd=%d mode=%s: wake #%zu (%s at t=%lld) was not recorded", a->g,
                           s->id, mode_str(a->mode), a->computed + 1, np_poll_result_name(res),
                           (long long)t);
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
        np__simt(a->task)->hist = 0; /* idle: no local state left from the last operation */
        np_park(NULL, NULL);         /* idle until the driver hands over an operation */
        if (a->quit)
            return;
        replay *rp = np__rp_current;
        if (a->op == NP_TR_WAIT) {
            a->in_op = true;
            a->reported = false;
            waiting_add(rp, a);
            a->op_parks = np_task_parks(a->task);
            int res = np_poll_wait(a->pd, a->mode);
            a->in_op = false;
            waiting_remove(rp, a);
            np__rp_mark_dirty(rp, a->s);
            if (rp->o->record)
                np__rp_rec_note(rp, a, true, res);
            record_wake(rp, a, res);
        } else {
            int res = np_poll_reset(a->pd, a->mode);
            if (rp->o->record)
                np__rp_rec_note(rp, a, false, res);
            np__rp_emit(rp, (np_tr_event){.t = now_t(rp),
                                          .kind = NP_TR_RESET,
                                          .pd = a->s->id,
                                          .g = a->g,
                                          .mode = a->mode,
                                          .tag = -1,
                                          .res = res});
            if (res == NP_POLL_OK)
                a->s->ready[dir(a->mode)] = false; /* reset discards readiness */
            np__rp_oracle_done(rp, a, false, res);
            if (a->rec_res >= 0 && a->rec_res != res)
                np__rp_diverge(rp, a->g, a->s->id, a->mode, now_t(rp), a->line,
                               "g=%d pd=%d mode=%s: reset returned %s, recorded %s (line %u)", a->g,
                               a->s->id, mode_str(a->mode), np_poll_result_name(res),
                               np_poll_result_name(a->rec_res), a->line);
        }
        if (a->final) /* its stack goes back to the pool (a trace may have 100,000s of tasks) */
            return;
    }
}

void np__rp_note_step(replay *rp, actor *a);

/* Runs an actor's task until it parks or ends (then it has no task, until
 * it is handed another operation). */
static void run_actor(replay *rp, actor *a)
{
    if (np__rp_run_task(rp, a->task) == NP_WORLD_EXITED) {
        a->task = NULL;
        return;
    }
    np__rp_note_step(rp, a);
}

/* After a task ran: a wait that committed to sleep gives a `park` line. */
void np__rp_note_step(replay *rp, actor *a)
{
    uint64_t parks = np_task_parks(a->task);
    if (a->in_op && parks != a->parks_seen)
        np__rp_emit(rp, (np_tr_event){.t = now_t(rp),
                                      .kind = NP_TR_PARK,
                                      .pd = a->s->id,
                                      .g = a->g,
                                      .mode = a->mode,
                                      .tag = -1,
                                      .res = -1});
    a->parks_seen = parks;
}

/* Rule 1c: every runnable task runs until it parks or finishes its operation. */
void np__rp_run_all(replay *rp)
{
    np_task *t;
    while (np_world_runnable_list(&t, 1) > 0) { /* the oldest first */
        actor *a = t->user;
        if (a)
            run_actor(rp, a);
        else
            np__rp_run_task(rp, t);
    }
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

void np__rp_deliver_ready(replay *rp, const np_tr_event *e, slot *s, const np_event *ev,
                          bool stale);
void np__rp_poller_queue(replay *rp, const np_tr_event *e, slot *s, int inc, const np_event *ev,
                         bool stale);
void np__rp_poller_run(replay *rp, bool run, bool until_eintr);
void np__rp_poller_deadline(replay *rp, slot *s, int64_t at, int mode);

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
        np__rp_poller_queue(rp, e, s, e->tag < 0 ? s->ninc : (int)e->tag, &ev, stale);
        np__rp_poller_run(rp, false, true); /* at once, unless EINTR cuts the poll short */
        return;
    }
    np__rp_deliver_ready(rp, e, s, &ev, stale);
}

/* Hands readiness ev (of line e, for slot s) to the pollDescs. */
void np__rp_deliver_ready(replay *rp, const np_tr_event *e, slot *s, const np_event *ev, bool stale)
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
    uint64_t all0 = rp->r->steps, mine0 = me ? np__simt(me)->steps : 0;
    np_task_list l = {0};
    np__poll_event(ev, &l);
    unsigned woken = l.n;
    np__ready_list(&l);
    bool alone = !me || rp->r->steps - all0 == np__simt(me)->steps - mine0;
    if (owner && rp->struct_inv) {
        uint32_t info1 = snapshot(ev->pd, &rg1, &wg1);
        np_violation v;
        if (np_inv_stale_event(e->pd, e->tag, e->t, e->line, woken,
                               alone && (rg1 != rg0 || wg1 != wg0 || info1 != info0), owner->id,
                               owner->ninc, &v))
            np__rp_report(rp, &v);
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
        np__rp_diverge(rp, 0, e->pd, e->mode, e->t, e->line,
                       "fire pd=%d mode=%s at t=%lld (line %u): no deadline of that "
                       "direction is due then",
                       e->pd, mode_str(e->mode), (long long)e->t, e->line);
        return;
    }
    rp->r->fires++;
    np__rp_emit(rp, *e);
}

static void apply_task_op(replay *rp, const np_tr_event *e, slot *s)
{
    actor *a = np__rp_find_actor(rp, e->g, true);
    if (!a || !actor_start(rp, a))
        return;
    /* Rule 2: a woken task first finishes its wait. */
    if (np_world_runnable(a->task) && !rp->o->choose)
        run_actor(rp, a);
    if (!a->task && !actor_start(rp, a)) /* it ended after what it just finished */
        return;
    if (a->in_op) {
        np__rp_diverge(rp, a->g, a->s->id, a->mode, e->t, e->line,
                       "g=%d is still parked in its wait on pd=%d at t=%lld, when it issues "
                       "line %u",
                       a->g, a->s->id, (long long)e->t, e->line);
        return;
    }
    actor *b = e->kind == NP_TR_WAIT ? s->waiter[dir(e->mode)] : NULL;
    np_violation v;
    if (b && b != a) {
        np_inv_double_wait(s->id, e->mode, e->t, e->line, a->g, b->g, &v);
        np__rp_report(rp, &v);
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
        np__rp_report(rp, &v);
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
        np__rp_emit(rp, *e);
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
    actor *a = np__rp_find_actor(rp, e->g, true);
    if (!a)
        return false;
    if (!a->task) /* never waited, or ended: nothing to finish */
        return true;
    if (rp->o->choose) /* explored: the issuer is one of the concurrent actors */
        return true;
    if (np_world_runnable(a->task))
        run_actor(rp, a);
    if (a->in_op) {
        np__rp_diverge(rp, a->g, a->s->id, a->mode, e->t, e->line,
                       "g=%d is still parked in its wait on pd=%d at t=%lld, when it issues "
                       "line %u",
                       a->g, a->s->id, (long long)e->t, e->line);
        /* Under fault injection the record's causality no longer holds: apply
         * the unblock or close anyway (the unblock is what wakes the task). */
        return rp->o->ignore_divergences;
    }
    return true;
}

void np__rp_apply(replay *rp, const np_tr_event *e)
{
    slot *s = find_slot(rp, e->pd, e->kind == NP_TR_OPEN);
    if (!s)
        return; /* the parser guarantees the slot exists (or memory ran out) */
    np__rp_mark_dirty(rp, s);
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
            /* explored: a pollDesc starts each run as if new (its incarnation
             * and its timer generations numbered by this run's opens), so
             * equal states of different runs look equal - and, numbered apart
             * for each open, a timer of the incarnation before (a recycled
             * pollDesc) stays stale, as the open's own bumps make it */
            uint32_t low = atomic_load(&pd->info) & ((1u << NP_INFO_SEQ_SHIFT) - 1);
            atomic_store(&pd->info, low | (++rp->opens & NP_TAG_MASK) << NP_INFO_SEQ_SHIFT);
            pd->rseq = pd->wseq = (uintptr_t)rp->opens << 16;
        }
        s->inc[s->ninc++] = (incarnation){pd, np__pd_incarnation(pd)};
        s->pd = pd;
        np__rp_name_pd(pd, s->id);
        s->open = true;
        s->closing = false;
        memset(s->dl, 0, sizeof s->dl);
        memset(s->dl_past, 0, sizeof s->dl_past);
        memset(s->dl_ambiguous, 0, sizeof s->dl_ambiguous);
        memset(s->ready, 0, sizeof s->ready);
        np__rp_emit(rp, *e);
        return;
    }
    case NP_TR_DEADLINE: {
        int64_t at = e->at == 0 ? 0 : abs_time(rp, e->at);
        for (int d = 0; d < 2; d++) /* the old value, and the new one from now on */
            if (e->mode == NP_MODE_RW || dir(e->mode) == d)
                s->dl_seen_expired[d] = s->dl_seen_expired[d] || (at != 0 && at <= now) ||
                                        (s->dl[d] != 0 && s->dl[d] <= now);
        if (rp->pm.on)
            np__rp_poller_deadline(rp, s, at, e->mode);
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
        np__rp_emit(rp, *e);
        return;
    }
    case NP_TR_READY:
        apply_ready(rp, e, s);
        np__rp_emit(rp, *e);
        return;
    case NP_TR_UNBLOCK:
        if (!issuer_ready(rp, e))
            return;
        s->unblock_in_step = rp->o->choose != NULL;
        np_poll_unblock(s->pd);
        s->closing = true;
        np__rp_emit(rp, *e);
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
        np_violation v;
        if (rp->struct_inv && np_inv_closed_timers(s->id, e->t, e->line, s->pd->rt.index >= 0,
                                                   s->pd->wt.index >= 0, &v))
            np__rp_report(rp, &v);
        s->open = false;
        s->pd = NULL;
        np__rp_emit(rp, *e);
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

/* ---- the driver ---------------------------------------------------------------------------- */

static bool collect_recorded(replay *rp)
{
    for (size_t i = 0; i < rp->tr->n; i++) {
        np_tr_event *e = &rp->tr->ev[i];
        if (e->kind == NP_TR_WAIT || e->kind == NP_TR_RESET) {
            actor *a = np__rp_find_actor(rp, e->g, true);
            if (!a)
                return false;
            a->last = i;
        }
        if (e->kind != NP_TR_WAKE)
            continue;
        actor *a = np__rp_find_actor(rp, e->g, true);
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
                np__rp_diverge(
                    rp, a->g, a->rec[k]->pd, a->rec[k]->mode, a->rec[k]->t, a->rec[k]->line,
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
    replay *rp = np__rp_current;
    if (!rp)
        return; /* not replaying: abort as ever */
    if (!rp->crashed && !rp->cleaning) {
        np_violation v;
        np_inv_fail(np_inv_find(name) >= 0 ? (np_inv)np_inv_find(name) : NP_INV_CRASH, msg,
                    now_t(rp), &v);
        np__rp_report(rp, &v);
    }
    rp->crashed = true;
    if (np__world_cur)
        np_world_abandon_task();
    longjmp(rp->jmp, 1);
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
            if (!np__rp_poller_step(rp, &i))
                break;
            if (!rp->abandoned)
                np__rp_check_quiescent(rp);
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
            np__rp_explore_step(rp, &i, T);
        } else {
            if (rp->exact)
                np_world_fire_timers();                                    /* (a) */
            for (; i < tr->n && tr->ev[i].t == T && r->status != 2; i++) { /* (b) */
                np__rp_apply(rp, &tr->ev[i]);
                r->events++;
            }
            np__rp_run_all(rp); /* (c) */
        }
        rp->last_T = T;
        if (!rp->abandoned) {
            np__rp_check_quiescent(rp);
            if (rp->oracle)
                np__rp_oracle_group(rp, T);
        }
    }
    np_violation v;
    if (rp->oracle && rp->ocur && !rp->abandoned && r->status != 2 &&
        !np_oracle_end(rp->oracle, rp->ocur, rp->last_T, &v))
        np__rp_report(rp, &v);
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
    np__rp_current = &rp;
    ar_reset();
    rp.base = np_now();
    /* explored: every run starts from the same pollcache (and leaves it so) */
    if (rp.o->choose)
        rp.ncache =
            np__pd_cache_save(rp.cache, sizeof rp.cache / sizeof rp.cache[0], &rp.cache_rest);
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
    if (rp.o->choose)
        np__rp_explore_hooks(&rp, &h);
    np_sim_set_hooks(&h);
    if (rp.o->record)
        np__rp_rec_start(&rp);
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
        np__rp_poller_sleep(&rp);
    }
    if (!setjmp(rp.jmp))
        drive(&rp);
    np__rp_exploring = false; /* (a crash may leave an explored step) */
    r->abandoned = rp.abandoned;
    if (rp.o->record) /* (before the slots are closed below) */
        np__rp_rec_stop(&rp, r->status != 2 && !rp.abandoned && !rp.crashed && !rp.oom);
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
    np__sim_release_locks(); /* (a run may stop inside a critical section) */
    /* explored, with no more opens than pollDescs noted (a run pops from the
     * cache's head, so it took none beyond them): the cache as it was */
    if (rp.o->choose && rp.opens <= rp.ncache)
        np__pd_cache_restore(rp.cache, rp.ncache, rp.cache_rest);
    else if (!setjmp(rp.jmp))
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
    np__rp_current = NULL;
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
