/* backend_sim/check/explored.c - an explored time step: the stimuli of a
 * time (and its due timers) as concurrent tasks, a choice at every
 * scheduling point of the pollDesc code, the state hash that makes dfs
 * with caching sound, and the names of what each step touched. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../machine/world.h"
#include "../mix.h"
#include "fatal.h"
#include "netpoll/faults.h"
#include "netpoll/runtime.h"
#include "../replay/replay_int.h"

/* ---- exploration: concurrent actors, a choice at every scheduling point ---- */

/* At most this many tasks are choices at one point (more are left out). */
#define NP_EXPLORE_TASKS 512

static uint64_t timer_key(const np_timer *t)
{
    return t->index < 0 ? 0 : np__mix((uint64_t)t->when, (uint64_t)t->seq);
}

/* What a pd's lock guards (and the lock-free-read words published under
 * it): deadlines, timer generations, the info word, closing, both timers
 * and, for equal deadlines, which goes first. */
static uint64_t guarded_hash(const np_poll_desc *pd, uint64_t *words, bool info)
{
    uint64_t h = (uint64_t)pd->rseq << 32 ^ (uint64_t)pd->wseq;
    if (words) /* (the state hash: with the lock's owner) */
        h = np__mix(h, (uint64_t)(uint32_t)pd->lock.owner);
    h = np__mix(h, (uint64_t)pd->rt_on << 1 | (uint64_t)pd->wt_on);
    if (words) { /* the atomic words among them: behind scheduling points */
        *words = np__mix(*words,
                         np__mix((uint64_t)atomic_load(&pd->rd), (uint64_t)atomic_load(&pd->wd)));
        *words = np__mix(*words, (uint64_t)atomic_load(&pd->info) << 1 |
                                     (uint64_t)atomic_load(&pd->closing));
    } else {
        h = np__mix(h, np__mix((uint64_t)atomic_load(&pd->rd), (uint64_t)atomic_load(&pd->wd)));
        h = np__mix(h, (uint64_t)(info ? atomic_load(&pd->info) : 0) << 1 |
                           (uint64_t)atomic_load(&pd->closing));
    }
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
            return UINT64_C(0x7a5c000000000000) | (uint64_t)np__simt(all[i])->id;
    return v;
}

/* Names for the pollDesc fields steps touch: pd -> slot id of the latest
 * run (pollDescs are never freed, so the addresses stay valid). */
static struct {
    const np_poll_desc *pd;
    int32_t id;
} pd_names[64];

void np__rp_name_pd(const np_poll_desc *pd, int32_t id)
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
        const char *f = p == (const char *)&pd->rg         ? "rg"
                        : p == (const char *)&pd->wg       ? "wg"
                        : p == (const char *)&pd->info     ? "info"
                        : p == (const char *)&pd->closing  ? "closing"
                        : p == (const char *)&pd->rd       ? "rd"
                        : p == (const char *)&pd->wd       ? "wd"
                        : p == (const char *)&pd->lock     ? "lock"
                        : p == (const char *)&pd->rt       ? "rt"
                        : p == (const char *)&pd->wt       ? "wt"
                        : p == (const char *)&pd->rec_lock ? "rec_lock"
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
static void explore_lock_busy(const void *lock);

static void explore_point(int kind, const volatile void *addr, const char *file, int line)
{
    np_task *t = np__world_cur;
    if (!np__rp_exploring || !t)
        return;
    /* where it stands is part of its state (before the step, as the step
     * may run much later) */
    replay *rp = np__rp_current;
    if (rp->o->want_state)
        np__simt(t)->hist =
            np__mix(np__simt(t)->hist, file_id(file) ^ ((uint64_t)line << 4 | (uint64_t)kind));
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
    /* Recording, a park's commit may open a section of its own on the
     * pollDesc (core/poll_desc.c, block_commit): the world runs a commit at
     * once, on its own stack, where no other task can run; so a park waits
     * here, as a lock acquisition does, until no other task holds that
     * pollDesc's recording lock - where live, the committing thread would
     * spin until the holder is done. */
    if (kind == NP_PT_PARK && rp->o->record && t->user) {
        actor *a = t->user;
        while (a->in_op && a->pd && a->pd->rec_lock.owner &&
               a->pd->rec_lock.owner != np__simt(t)->id) {
            explore_lock_busy(&a->pd->rec_lock); /* back when the holder let go */
        }
    }
    /* chosen: the step happens now */
    if (rp->o->on_point) {
        np_point pt = {np__simt(t)->id, kind, addr, file, line, rp->r->steps};
        rp->o->on_point(rp->o->choose_ctx, &pt);
    }
    np__simt(t)->steps++;
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
    if (np__rp_exploring && t)
        np__simt(t)->hist = np__mix(np__simt(t)->hist, norm(v));
}

/* A pd lock taken: what the holder may now read without scheduling points
 * (NP_OWN) becomes part of its history - not the info word, which lock-free
 * steps write and every reader loads through a scheduling point (so that a
 * lock's acquisition and a CAS of info commute, as they do: sleep sets). */
static void explore_locked(const void *lock)
{
    np_task *t = np_self();
    if (!np__rp_exploring || !t)
        return;
    replay *rp = np__rp_current;
    for (size_t i = 0; i < rp->nslots; i++) {
        np_poll_desc *pd = rp->slots[i]->pd;
        if (!pd || (const void *)&pd->lock != lock)
            continue;
        np__simt(t)->hist = np__mix(np__simt(t)->hist, guarded_hash(pd, NULL, false));
        return;
    }
    /* Another lock (the pollcache's, or that of a pollDesc between its close
     * and its next open): its acquisitions in this run - the count since
     * the process started differs from run to run, and would make every
     * run's state new (a dfs that never ends). */
    unsigned acq = ((const np__mutex *)lock)->acquired;
    int k = 0;
    while (k < rp->nlockbase && rp->lockbase[k].lock != lock)
        k++;
    if (k == rp->nlockbase && k < (int)(sizeof rp->lockbase / sizeof rp->lockbase[0])) {
        rp->lockbase[k].lock = lock;
        rp->lockbase[k].base = acq - 1;
        rp->nlockbase++;
    }
    np__simt(t)->hist =
        np__mix(np__simt(t)->hist, k < rp->nlockbase ? acq - rp->lockbase[k].base : acq);
}

static void explore_lock_busy(const void *lock)
{
    np_task *t = np_self();
    if (!t)
        np__fatal("explore: a simulated lock is busy outside a task");
    np__simt(t)->blocked_on = lock;
    np_yield();
    np__simt(t)->blocked_on = NULL;
}

static int explore_tid(void)
{
    np_task *t = np_self();
    return t ? np__simt(t)->id : -1;
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
static const volatile void *lock_addr[NP_CHOICE_LOCKS];
static uint64_t lock_hash[NP_CHOICE_LOCKS];
static int task_id[NP_CHOICE_TASKS];
static uint64_t task_view[NP_CHOICE_TASKS];

static uint64_t actor_hash(const actor *a)
{
    return np__mix((uint64_t)(uint32_t)a->g << 32 | (uint64_t)a->in_op |
                       (uint64_t)a->reported << 1 | (uint64_t)a->issued_closing << 2 |
                       (uint64_t)a->op << 4 | (uint64_t)a->mode << 12,
                   (uint64_t)a->computed << 32 | a->next_rec);
}

/* The state hash; *model, *nlocks and *ntasks (with lock_* and task_*): its
 * parts for sleep sets (np_choice). */
static uint64_t state_hash(replay *rp, uint64_t *model, size_t *nlocks, size_t *ntasks)
{
    *nlocks = 0;
    *model = 0;
    uint64_t h = np__mix((uint64_t)rp->pos, (uint64_t)np_now());
    h = np__mix(h, rp->wake_hash);
    if (rp->o->record)
        h = np__mix(h, np__rec_sim_hist); /* what was recorded so far */
    if (rp->oracle)
        h = np__mix(h, np_oracle_cursor_hash(rp->oracle, rp->ocur) ^ rp->odone_hash);
    h = np__mix(h, rp->r->violations << 20 | rp->r->divergences);
    uint64_t m = 0; /* the words behind scheduling points */
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
        m = np__mix(m, norm(atomic_load(&pd->rg)));
        m = np__mix(m, norm(atomic_load(&pd->wg)));
        h = np__mix(h, (uint64_t)(uint32_t)pd->rec_lock.owner); /* (recording) */
        uint64_t g = guarded_hash(pd, &m, true);
        m = np__mix(m, g);
        if (*nlocks < NP_CHOICE_LOCKS) {
            lock_addr[*nlocks] = &pd->lock;
            lock_hash[(*nlocks)++] = g;
        } else {
            h = np__mix(h, g); /* (more pollDescs: a change is a change of the model) */
        }
    }
    uint64_t h0 = h;   /* the model: all so far but the words behind points, */
    uint64_t acts = 0; /* the fields of actors with no task (those with one: in
                          their task's view) */
    for (size_t i = 0; i < rp->nactors; i++) {
        actor *a = rp->actors[i];
        uint64_t v = actor_hash(a);
        h = np__mix(h, v);
        if (!a->task)
            acts = np__mix(acts, v);
    }
    *model = np__mix(*model, acts);
    np_task *all[256];
    size_t n = np_world_tasks(all, 256);
    uint64_t tasks = 0; /* order-independent: a sum of per-task hashes */
    *ntasks = 0;
    for (size_t i = 0; i < n && i < 256; i++) {
        np_task *t = all[i];
        uint64_t lock = 0; /* which lock it waits for: a slot's, or another */
        for (size_t k = 0; np__simt(t)->blocked_on && !lock && k < rp->nslots; k++)
            if (rp->slots[k]->pd &&
                (const void *)&rp->slots[k]->pd->lock == np__simt(t)->blocked_on)
                lock = k + 1;
            else if (rp->slots[k]->pd &&
                     (const void *)&rp->slots[k]->pd->rec_lock == np__simt(t)->blocked_on)
                lock = k + 1 + 64;
        if (np__simt(t)->blocked_on && !lock)
            lock = UINT64_MAX;
        int st = atomic_load(&t->state); /* (the running one is about to yield) */
        if (st == NP_T_RUNNING)
            st = NP_T_RUNNABLE;
        uint64_t who = np__mix((uint64_t)np__simt(t)->id, (uint64_t)st);
        tasks += np__mix(who, np__mix(np__simt(t)->hist, lock));
        if (*ntasks < NP_CHOICE_TASKS) { /* its state, and its actor's fields */
            task_id[*ntasks] = np__simt(t)->id;
            task_view[(*ntasks)++] = np__mix(np__mix(who, lock), t->user ? actor_hash(t->user) : 0);
        } else {
            *model = np__mix(*model, np__mix(who, lock));
        }
    }
    *model = np__mix(np__mix(*model, h0), n);
    return np__mix(np__mix(np__mix(h, m), tasks), n);
}

/* Puts t into list[0..*m) by creation order (few tasks: insertion). */
static void insert_by_id(np_task **list, size_t *m, np_task *t)
{
    size_t j = (*m)++;
    for (; j > 0 && np__simt(list[j - 1])->id > np__simt(t)->id; j--)
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
    if (np_world_runq_mask(&mask, &byid) && (!self || np__simt(self)->id <= 64)) {
        /* the common case: a set, in order */
        if (self)
            mask |= UINT64_C(1) << (np__simt(self)->id - 1);
        for (; mask && m < max; mask &= mask - 1) {
            np_task *p = byid[__builtin_ctzll(mask)];
            const np__mutex *l = np__simt(p)->blocked_on;
            if (p == self || !l || !l->owner) {
                ids[m] = np__simt(p)->id;
                list[m++] = p;
            }
        }
        return m;
    }
    for (np_task *p = np_world_runq_head(); p && m < max; p = p->next) {
        const np__mutex *l = np__simt(p)->blocked_on;
        if (!l || !l->owner)
            insert_by_id(list, &m, p);
    }
    if (self && m < max)
        insert_by_id(list, &m, self);
    for (size_t i = 0; i < m; i++)
        ids[i] = np__simt(list[i])->id;
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
    np_choice ch; /* (field by field: zeroing the whole struct compiles to a rep stos, a
                     tenth of a random run's time) */
    ch.n = m;
    ch.last = lastidx;
    ch.ids = ids;
    ch.state = ch.model = ch.abstract = 0;
    ch.nlocks = ch.ntasks = 0;
    ch.step = rp->r->steps;
    ch.pos = rp->pos;
    if (rp->choices++ >= rp->o->state_from) {
        ch.abstract = abstract_state(rp);
        if (rp->o->want_state)
            ch.state = state_hash(rp, &ch.model, &ch.nlocks, &ch.ntasks);
    }
    ch.lock_addr = lock_addr;
    ch.lock_hash = lock_hash;
    ch.task_id = task_id;
    ch.task_view = task_view;
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
        if (np__rp_run_task(rp, list[c]) == NP_WORLD_EXITED) { /* it is freed */
            last = NULL;
            continue;
        }
        np_task *t = np_world_came_home();
        if (t->user)
            np__rp_note_step(rp, t->user);
        last = np_world_runnable(t) ? t : NULL;
    }
}

typedef struct stim_arg {
    replay *rp;
    const np_tr_event *e;
    int n; /* events from e on, applied in order (3: a recycle) */
} stim_arg;

void np__rp_apply(replay *rp, const np_tr_event *e);

static void stim_task(void *p)
{
    stim_arg *a = p;
    for (int k = 0; k < a->n; k++)
        np__rp_apply(a->rp, a->e + k); /* a is freed with the replay */
}

static void describe_task(const np_task *t, char *buf, size_t len)
{
    replay *rp = np__rp_current;
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
            snprintf(buf, len, "%s pd=%d (line %u)",
                     rp->stims[i]->n == 3 ? "recycle" : np_tr_kind_name(e->kind), e->pd, e->line);
            return;
        }
    snprintf(buf, len, "timers (t%d)", np__simt(t)->id);
}

static void timer_task(void *p)
{
    (void)p;
    np_world_fire_timers();
}

/* One time step, explored: the due timers and the stimuli at T run as
 * concurrent tasks under the chooser. An `open` is applied first (nothing
 * can touch a slot before it exists), a `close` once the step is quiescent
 * (it needs its unblock done and nobody parked), and an actor's second
 * operation in one step after its first. A close that an open follows at
 * the same time splits the step in two groups, one after the other. */
/* A concurrent actor for the n events from e on. False if out of memory. */
static bool spawn_stim(replay *rp, const np_tr_event *e, int n)
{
    stim_arg *a = np__rp_ar_alloc(sizeof *a);
    if (!a || !np__rp_grow((void **)&rp->stims, &rp->capstims, rp->nstims, sizeof *rp->stims)) {
        rp->oom = true;
        return false;
    }
    *a = (stim_arg){rp, e, n};
    rp->stims[rp->nstims++] = a;
    if (!np_world_spawn(stim_task, a)) {
        rp->oom = true;
        return false;
    }
    return true;
}

void np__rp_explore_step(replay *rp, size_t *ip, int64_t T)
{
    const np_trace *tr = rp->tr;
    size_t i0 = *ip, i1 = i0;
    while (i1 < tr->n && tr->ev[i1].t == T) {
        if (np_trace_recycle_at(tr->ev, tr->n, i1)) { /* one actor: no split */
            i1 += 3;
            continue;
        }
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
    bool *later = np__rp_ar_alloc(i1 - i0 + 1); /* (short traces: explorations) */
    if (!later) {
        rp->oom = true;
        return;
    }
    for (size_t i = i0; i < i1 && rp->r->status != 2; i++) {
        const np_tr_event *e = &tr->ev[i];
        size_t len = np_trace_recycle_at(tr->ev, tr->n, i) ? 3 : 1;
        if (len == 3) {
            /* a recycle: unblock, close and open by one actor, concurrent */
        } else if (e->kind == NP_TR_OPEN) {
            np__rp_apply(rp, e);
        } else if (e->kind == NP_TR_CLOSE || e->kind == NP_TR_WAKE || e->kind == NP_TR_PARK) {
            later[i - i0] = e->kind == NP_TR_CLOSE;
        } else if (e->kind == NP_TR_WAIT || e->kind == NP_TR_RESET) {
            actor *a = np__rp_find_actor(rp, e->g, true);
            if (a && a->task && np_world_runnable(a->task))
                later[i - i0] = true; /* it already has an operation in this step */
            else
                np__rp_apply(rp, e);
        } else if (e->kind == NP_TR_FIRE && rp->exact) {
            continue;
        } else if (!spawn_stim(rp, e, 1)) {
            break;
        }
        if (len == 3) {
            if (!spawn_stim(rp, e, 3))
                break;
            i += 2;
        }
    }
    rp->pos = i0;
    np__rp_exploring = true;
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
    np__rp_exploring = false;
    for (size_t i = i0; i < i1 && rp->r->status != 2 && !rp->abandoned; i++)
        if (later[i - i0]) {
            np__rp_apply(rp, &tr->ev[i]);
            np__rp_run_all(rp);
        }
}

void np__rp_explore_hooks(replay *rp, np_sim_hooks *h)
{
    /* observed values matter only to the state hash */
    *h = (np_sim_hooks){explore_point,
                        explore_lock_busy,
                        explore_tid,
                        rp->o->want_state ? explore_observe : NULL,
                        rp->o->want_state ? explore_locked : NULL,
                        h->fail,
                        NULL};
}
