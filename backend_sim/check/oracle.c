/* backend_sim/check/oracle.c - judging an explored execution by the
 * specification (spec.c): linearizability, one group of a time step at a
 * time.
 *
 * The explorer runs the stimuli of a time step (and its due deadline
 * timers) as concurrent actors. What the execution shows of a group is
 * which waits and resets completed in it, with which results, and which
 * waits are still blocked at its end. The group is correct when there is
 * ONE sequential order of its operations - each stimulus, each due timer,
 * each wait's call, each blocked wait's return - consistent with each
 * task's program order, under which the specification gives exactly those
 * results and leaves exactly those waits blocked, with none of them
 * obliged to return. The possible specification states after a group (one
 * per order that fits) are the start of the next.
 *
 * The order search runs once per (states before, group, observation): its
 * answer is kept, so the executions of an exploration, which repeat the
 * same few observations, cost a lookup each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mix.h"
#include "netpoll/poll.h"
#include "netpoll/invariants.h"
#include "spec.h"

#define BIT(r)     (1u << (r))
#define MAX_POOL   24 /* operations in one group the search orders */
#define MAX_GROUP  16 /* completions and blocked waits one group may show */
#define MAX_EVENTS 4096
#define JUDGE_ALL  (-1)
#define JUDGE_NONE (-2)

/* ---- small tables ------------------------------------------------------------------------- */

typedef struct {
    uint64_t *key;
    uint32_t *val; /* 0: empty slot */
    size_t cap, n;
} u64map;

static uint32_t map_get(const u64map *m, uint64_t k)
{
    if (!m->cap)
        return 0;
    for (size_t i = k & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->val[i])
            return 0;
        if (m->key[i] == k)
            return m->val[i];
    }
}

static bool map_put(u64map *m, uint64_t k, uint32_t v)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        u64map g = {calloc(cap, sizeof *g.key), calloc(cap, sizeof *g.val), cap, 0};
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->val[i])
                map_put(&g, m->key[i], m->val[i]);
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t i = k & (m->cap - 1);
    while (m->val[i] && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->val[i])
        m->n++;
    m->key[i] = k;
    m->val[i] = v;
    return true;
}

static void map_free(u64map *m)
{
    free(m->key);
    free(m->val);
    *m = (u64map){0};
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = 0;
        memcpy(&v, b + i, n - i < 8 ? n - i : 8);
        h = np__mix(h, v);
    }
    return h;
}

/* ---- the oracle ---------------------------------------------------------------------------- */

struct np_oracle {
    uint64_t key; /* the trace text, design and timer mode it was built for */
    const np_design *d;
    bool exact;
    np_tr_event *ev; /* a copy of the trace's events */
    size_t n;
    int32_t slot_id[NP_SPEC_SLOTS]; /* pd of each spec slot */
    int nslots;
    /* interned states (id = index + 1) and sets of them (id = index + 1) */
    np_spec_state *states;
    size_t nstates, capstates;
    u64map state_ids;   /* hash -> id (collisions chained by probing the hash) */
    uint32_t **sets;    /* sets[i][0] = size, then the ids ascending */
    uint64_t *set_hash; /* of each set's states' contents (ids differ from process to process) */
    size_t nsets, capsets;
    u64map set_ids;
    u64map memo; /* (set, group, observation) -> set after it; UINT32_MAX none */
};

static int slot_of(const np_oracle *o, int32_t pd)
{
    for (int i = 0; i < o->nslots; i++)
        if (o->slot_id[i] == pd)
            return i;
    return -1;
}

static uint32_t intern_state(np_oracle *o, const np_spec_state *st)
{
    uint64_t h = hash_bytes(st, sizeof *st, 7);
    for (;; h++) { /* equal hashes of different states: the next key */
        uint32_t id = map_get(&o->state_ids, h);
        if (!id)
            break;
        if (!memcmp(&o->states[id - 1], st, sizeof *st))
            return id;
    }
    if (o->nstates == o->capstates) {
        size_t cap = o->capstates ? 2 * o->capstates : 64;
        np_spec_state *v = realloc(o->states, cap * sizeof *v);
        if (!v)
            return 0;
        o->states = v;
        o->capstates = cap;
    }
    o->states[o->nstates++] = *st;
    if (!map_put(&o->state_ids, h, (uint32_t)o->nstates))
        return 0;
    return (uint32_t)o->nstates;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The id of the set of state ids v[0..n) (sorted and deduplicated here). */
static uint32_t intern_set(np_oracle *o, uint32_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || v[m - 1] != v[i])
            v[m++] = v[i];
    uint64_t h = hash_bytes(v, m * sizeof *v, m + 11);
    for (;; h++) {
        uint32_t id = map_get(&o->set_ids, h);
        if (!id)
            break;
        if (o->sets[id - 1][0] == m && !memcmp(o->sets[id - 1] + 1, v, m * sizeof *v))
            return id;
    }
    if (o->nsets == o->capsets) {
        size_t cap = o->capsets ? 2 * o->capsets : 64;
        uint32_t **nv = realloc(o->sets, cap * sizeof *nv);
        if (!nv)
            return 0;
        o->sets = nv;
        uint64_t *hv = realloc(o->set_hash, cap * sizeof *hv);
        if (!hv)
            return 0;
        o->set_hash = hv;
        o->capsets = cap;
    }
    uint64_t content = m;
    for (size_t i = 0; i < m; i++)
        content += hash_bytes(&o->states[v[i] - 1], sizeof *o->states, 3);
    o->set_hash[o->nsets] = content;
    uint32_t *copy = malloc((m + 1) * sizeof *copy);
    if (!copy)
        return 0;
    copy[0] = (uint32_t)m;
    memcpy(copy + 1, v, m * sizeof *v);
    o->sets[o->nsets++] = copy;
    if (!map_put(&o->set_ids, h, (uint32_t)o->nsets))
        return 0;
    return (uint32_t)o->nsets;
}

static void oracle_free(np_oracle *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nsets; i++)
        free(o->sets[i]);
    free(o->sets);
    free(o->set_hash);
    free(o->states);
    free(o->ev);
    map_free(&o->state_ids);
    map_free(&o->set_ids);
    map_free(&o->memo);
    free(o);
}

/* The oracles of the latest traces (an exploration, its minimization and
 * the replays of its failures alternate between a few). */
#define NP_ORACLES 8
static np_oracle *cache[NP_ORACLES];
static unsigned cache_next;

static uint64_t trace_key(const np_trace *tr, const np_design *d, bool exact)
{
    uint64_t h = np__mix(tr->n, (uint64_t)exact);
    h = hash_bytes(d->name, strlen(d->name), h);
    for (size_t i = 0; i < tr->n; i++) {
        const np_tr_event *e = &tr->ev[i];
        h = np__mix(h, (uint64_t)e->t);
        h = np__mix(h, (uint64_t)e->kind << 48 ^ (uint64_t)(uint32_t)e->pd << 16 ^
                           (uint64_t)(e->mode & 0xff) << 8 ^ (uint64_t)(e->err & 1));
        h = np__mix(h, (uint64_t)(uint32_t)e->g << 32 ^ (uint64_t)(uint32_t)e->res);
        h = np__mix(h, (uint64_t)e->at ^ (uint64_t)e->tag << 40);
    }
    return h;
}

np_oracle *np_oracle_get(const np_trace *tr, const np_design *d, bool exact, char *why, size_t len)
{
    if (!d)
        d = &np_design_go1_21;
    uint64_t key = trace_key(tr, d, exact);
    for (unsigned i = 0; i < NP_ORACLES; i++)
        if (cache[i] && cache[i]->key == key && cache[i]->d == d)
            return cache[i];
    if (tr->n > MAX_EVENTS) {
        snprintf(why, len, "more than %d events", MAX_EVENTS);
        return NULL;
    }
    np_oracle *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    o->key = key;
    o->d = d;
    o->exact = exact;
    o->n = tr->n;
    o->ev = malloc((tr->n ? tr->n : 1) * sizeof *o->ev);
    if (!o->ev) {
        oracle_free(o);
        snprintf(why, len, "out of memory");
        return NULL;
    }
    memcpy(o->ev, tr->ev, tr->n * sizeof *o->ev);
    int opens[NP_SPEC_SLOTS] = {0};
    for (size_t i = 0; i < tr->n; i++) {
        const np_tr_event *e = &tr->ev[i];
        if (e->pd <= 0)
            continue;
        int k = slot_of(o, e->pd);
        if (k < 0) {
            if (o->nslots == NP_SPEC_SLOTS) {
                snprintf(why, len, "more than %d pollDesc slots", NP_SPEC_SLOTS);
                oracle_free(o);
                return NULL;
            }
            k = o->nslots++;
            o->slot_id[k] = e->pd;
        }
        if (e->kind == NP_TR_OPEN && ++opens[k] > 200) {
            snprintf(why, len, "more than 200 incarnations of a slot");
            oracle_free(o);
            return NULL;
        }
        if (e->kind == NP_TR_READY && e->tag >= 0 && !d->event_tag) {
            snprintf(why, len,
                     "a tagged ready under %s, which has no event tags (stale-event judges it)",
                     d->name);
            oracle_free(o);
            return NULL;
        }
    }
    np_spec_state st0;
    memset(&st0, 0, sizeof st0);
    uint32_t s0 = intern_state(o, &st0);
    if (!s0 || !intern_set(o, &s0, 1)) {
        oracle_free(o);
        snprintf(why, len, "out of memory");
        return NULL;
    }
    unsigned at = cache_next++ % NP_ORACLES;
    oracle_free(cache[at]);
    cache[at] = o;
    return o;
}

uint64_t np_oracle_cursor_hash(const np_oracle *o, np_oracle_cursor c)
{
    return c ? o->set_hash[c - 1] : 0;
}

np_oracle_cursor np_oracle_start(np_oracle *o)
{
    (void)o;
    return 1; /* the set of the empty state, interned first */
}

/* ---- one group: the order search ------------------------------------------------------------ */

typedef struct {
    np_oracle *o;
    int64_t T;
    np_sop pool[MAX_POOL];
    uint32_t pred[MAX_POOL]; /* the pool operations that must come before (program order) */
    int npool;
    np_sop last[MAX_POOL]; /* closes: after everything else */
    int nlast;
    np_oracle_done done[MAX_GROUP], blocked[MAX_GROUP];
    size_t ndone, nblocked;
    uint8_t inc0[NP_SPEC_SLOTS]; /* each slot's incarnation as the group began */
    uint8_t recycled;            /* slots the group recycles (a mask) */
    int focus;                   /* JUDGE_ALL: match the whole observation; JUDGE_NONE: nothing;
                                    else done[focus] alone, or blocked[focus - ndone] alone */
    uint32_t *out;               /* final states */
    size_t nout, capout;
    u64map seen; /* (state, operations done, completions matched) visited */
    bool oom;
} search;

static bool out_add(search *s, uint32_t id)
{
    if (s->nout == s->capout) {
        size_t cap = s->capout ? 2 * s->capout : 16;
        uint32_t *v = realloc(s->out, cap * sizeof *v);
        if (!v)
            return false;
        s->out = v;
        s->capout = cap;
    }
    s->out[s->nout++] = id;
    return true;
}

static bool is_blocked(const np_spec_state *st, int32_t g)
{
    for (int k = 0; k < NP_SPEC_SLOTS; k++)
        if (st->s[k].waiter[0] == g || st->s[k].waiter[1] == g)
            return true;
    return false;
}

/* A completion (g, wait?, res) the order produces: may it, and which
 * observed completion does it match? Returns the new `matched` mask, or
 * UINT32_MAX to prune. */
static uint32_t complete(const search *s, uint32_t matched, int32_t g, int wait, int res)
{
    for (size_t k = 0; k < s->ndone; k++) {
        const np_oracle_done *c = &s->done[k];
        if (c->g != g || c->wait != wait || (matched >> k & 1))
            continue;
        if (s->focus != JUDGE_ALL && s->focus != (int)k)
            return matched; /* not the one judged: anything goes */
        return c->res == res ? matched | 1u << k : UINT32_MAX;
    }
    return s->focus != JUDGE_ALL ? matched : UINT32_MAX; /* a completion nobody saw */
}

static bool end_ok(const search *s, const np_spec_state *st, uint32_t matched)
{
    const np_design *d = s->o->d;
    if (s->focus == JUDGE_NONE)
        return true;
    if (s->focus >= 0 && (size_t)s->focus < s->ndone)
        return matched >> s->focus & 1;
    if (s->focus == JUDGE_ALL && matched != (s->ndone ? (1u << s->ndone) - 1 : 0))
        return false;
    for (int k = 0; k < NP_SPEC_SLOTS; k++)
        for (int dir = 0; dir < 2; dir++) {
            int32_t g = st->s[k].waiter[dir];
            if (!g)
                continue;
            bool seen = false;
            for (size_t b = 0; b < s->nblocked; b++)
                seen = seen || s->blocked[b].g == g;
            bool judged = s->focus == JUDGE_ALL ||
                          (s->focus >= 0 && s->blocked[s->focus - (int)s->ndone].g == g);
            unsigned must;
            np_spec_returns(d, st, k, dir, &must);
            if (judged && (!seen || must))
                return false;
        }
    for (size_t b = 0; b < s->nblocked; b++) {
        bool judged = s->focus == JUDGE_ALL || (size_t)s->focus == s->ndone + b;
        if (judged && !is_blocked(st, s->blocked[b].g))
            return false;
    }
    return true;
}

static void dfs(search *s, const np_spec_state *st, uint32_t mask, uint32_t matched)
{
    if (s->oom)
        return;
    uint64_t key = np__mix(hash_bytes(st, sizeof *st, mask), matched);
    if (map_get(&s->seen, key))
        return;
    if (!map_put(&s->seen, key, 1)) {
        s->oom = true;
        return;
    }
    const np_design *d = s->o->d;
    uint32_t all = s->npool ? (uint32_t)((1ull << s->npool) - 1) : 0;
    if (mask == all && end_ok(s, st, matched)) {
        np_spec_state fin = *st;
        for (int j = 0; j < s->nlast; j++)
            np_spec_apply(d, &fin, &s->last[j], s->T);
        uint32_t id = intern_state(s->o, &fin);
        if (!id || !out_add(s, id))
            s->oom = true;
    }
    /* the next operation: a stimulus, a timer, a call... */
    for (int j = 0; j < s->npool; j++) {
        if ((mask >> j & 1) || (s->pred[j] & ~mask))
            continue;
        const np_sop *op = &s->pool[j];
        bool task = op->kind == NP_SOP_WAIT || op->kind == NP_SOP_RESET;
        if (task && is_blocked(st, op->g))
            continue; /* its task is still inside a wait */
        np_spec_state nx = *st;
        int r = np_spec_apply(d, &nx, op, s->T);
        uint32_t m = matched;
        if (task && r != NP_SPEC_BLOCKED) {
            m = complete(s, matched, op->g, op->kind == NP_SOP_WAIT, r);
            if (m == UINT32_MAX)
                continue;
        }
        dfs(s, &nx, mask | 1u << j, m);
        /* A ready of the incarnation the group began with, racing the
         * slot's recycle: checked against its tag before the recycle, it may
         * reach the new incarnation's semaphores after it (the tag is
         * checked once, as Go checks fdseq once; only the error flag is
         * checked again, in its CAS). A spurious readiness that Go's design
         * allows: the reader's next syscall says EAGAIN and it waits again. */
        if (op->kind == NP_SOP_READY && op->tag >= 0 && (s->recycled >> op->slot & 1) &&
            op->tag == s->inc0[op->slot] && st->s[op->slot].inc != op->tag &&
            st->s[op->slot].open) {
            /* Each direction is unblocked on its own (rg, then wg): the
             * recycle may come between them, so any of the event's
             * directions may be the late ones. */
            unsigned dirs = (op->err || op->mode != NP_MODE_W ? 1u : 0u) |
                            (op->err || op->mode != NP_MODE_R ? 2u : 0u);
            for (unsigned sub = 1; sub <= 3; sub++) {
                if ((sub & dirs) != sub)
                    continue;
                np_spec_state late = *st;
                np_spec_slot *sl = &late.s[op->slot];
                if (sub & 1)
                    sl->ready[0] |= 1;
                if (sub & 2)
                    sl->ready[1] |= 1;
                dfs(s, &late, mask | 1u << j, m);
            }
        }
    }
    /* ... or a blocked wait's return */
    for (int k = 0; k < NP_SPEC_SLOTS; k++)
        for (int dir = 0; dir < 2; dir++) {
            int32_t g = st->s[k].waiter[dir];
            if (!g)
                continue;
            unsigned can = np_spec_returns(d, st, k, dir, NULL);
            for (int res = 0; res < 8; res++) {
                if (!(can >> res & 1))
                    continue;
                uint32_t m = complete(s, matched, g, 1, res);
                if (m == UINT32_MAX)
                    continue;
                np_spec_state nx = *st;
                np_sop ret = {.kind = NP_SOP_RETURN,
                              .slot = k,
                              .mode = dir ? NP_MODE_W : NP_MODE_R,
                              .g = g,
                              .res = res};
                np_spec_apply(d, &nx, &ret, s->T);
                dfs(s, &nx, mask, m);
            }
        }
}

/* The operations of group [i0, i1) at T from start state st: opens applied
 * to st at once (the driver applies them first), the rest into s. False if
 * the group is more than the search takes. */
static bool build_group(search *s, np_spec_state *st, size_t i0, size_t i1)
{
    np_oracle *o = s->o;
    s->npool = s->nlast = 0;
    s->recycled = 0;
    for (int k = 0; k < NP_SPEC_SLOTS; k++)
        s->inc0[k] = st->s[k].inc;
    int32_t skip[MAX_POOL]; /* tasks inside a wait from an earlier group: the
                               driver does not apply their operations */
    int nskip = 0;
    for (int k = 0; k < NP_SPEC_SLOTS; k++)
        for (int dir = 0; dir < 2; dir++)
            if (st->s[k].waiter[dir] && nskip < MAX_POOL)
                skip[nskip++] = st->s[k].waiter[dir];
    for (size_t i = i0; i < i1; i++) {
        const np_tr_event *e = &o->ev[i];
        int k = slot_of(o, e->pd);
        if (np_trace_recycle_at(o->ev, o->n, i)) { /* one actor: unblock, close, open */
            s->recycled |= (uint8_t)(1u << k);
            static const np_sop_kind seq[3] = {NP_SOP_UNBLOCK, NP_SOP_CLOSE, NP_SOP_OPEN};
            for (int j = 0; j < 3; j++) {
                if (s->npool == MAX_POOL)
                    return false;
                s->pred[s->npool] = j ? 1u << (s->npool - 1) | s->pred[s->npool - 1] : 0;
                s->pool[s->npool++] = (np_sop){.kind = seq[j], .slot = k};
            }
            i += 2;
            continue;
        }
        np_sop op = {
            .slot = k, .mode = e->mode, .g = e->g, .at = e->at, .tag = e->tag, .err = e->err};
        switch (e->kind) {
        case NP_TR_OPEN:
            op.kind = NP_SOP_OPEN;
            np_spec_apply(o->d, st, &op, s->T);
            continue;
        case NP_TR_CLOSE:
            op.kind = NP_SOP_CLOSE;
            if (s->nlast == MAX_POOL)
                return false;
            s->last[s->nlast++] = op;
            continue;
        case NP_TR_WAKE:
        case NP_TR_PARK:
            continue;
        case NP_TR_FIRE:
            if (o->exact)
                continue;
            op.kind = NP_SOP_EXPIRE;
            break;
        case NP_TR_DEADLINE:
            op.kind = NP_SOP_DEADLINE;
            break;
        case NP_TR_READY:
            op.kind = NP_SOP_READY;
            if (o->d->error_events) { /* its flag first, a step of its own */
                if (s->npool == MAX_POOL)
                    return false;
                s->pred[s->npool] = 0;
                s->pool[s->npool] = op;
                s->pool[s->npool++].kind = NP_SOP_READY_FLAG;
            }
            break;
        case NP_TR_UNBLOCK:
            op.kind = NP_SOP_UNBLOCK;
            break;
        case NP_TR_WAIT:
        case NP_TR_RESET: {
            bool skipped = false;
            for (int j = 0; j < nskip; j++)
                skipped = skipped || skip[j] == e->g;
            if (skipped)
                continue;
            op.kind = e->kind == NP_TR_WAIT ? NP_SOP_WAIT : NP_SOP_RESET;
            /* with error events a reset is two steps, its check and its
             * clearing (a ready's flag and readiness may come between) */
            op.err = op.kind == NP_SOP_RESET && o->d->error_events;
            break;
        }
        }
        if (s->npool == MAX_POOL)
            return false;
        uint32_t pred = 0;
        if (op.kind == NP_SOP_READY && s->npool && s->pool[s->npool - 1].kind == NP_SOP_READY_FLAG)
            pred = 1u << (s->npool - 1) | s->pred[s->npool - 1];
        if (op.kind == NP_SOP_WAIT || op.kind == NP_SOP_RESET)
            for (int j = 0; j < s->npool; j++)
                if ((s->pool[j].kind == NP_SOP_WAIT || s->pool[j].kind == NP_SOP_RESET ||
                     s->pool[j].kind == NP_SOP_RESET_CLEAR) &&
                    s->pool[j].g == op.g)
                    pred |= 1u << j;
        s->pred[s->npool] = pred;
        s->pool[s->npool++] = op;
        if (op.kind == NP_SOP_RESET && op.err) { /* its clearing, after it */
            if (s->npool == MAX_POOL)
                return false;
            s->pred[s->npool] = pred | 1u << (s->npool - 1);
            s->pool[s->npool] = op;
            s->pool[s->npool++].kind = NP_SOP_RESET_CLEAR;
        }
        if (op.kind == NP_SOP_EXPIRE && op.mode == NP_MODE_RW) { /* a fire line: both */
            s->pool[s->npool - 1].mode = NP_MODE_R;
            if (s->npool == MAX_POOL)
                return false;
            s->pred[s->npool] = 0;
            s->pool[s->npool] = op;
            s->pool[s->npool++].mode = NP_MODE_W;
        }
    }
    /* exact timers: every deadline due by now fires in this group */
    for (int k = 0; o->exact && k < NP_SPEC_SLOTS; k++)
        for (int dir = 0; dir < 2; dir++) {
            const np_spec_slot *sl = &st->s[k];
            if (!sl->open || sl->closing || sl->dl[dir] <= 0 || sl->dl[dir] > s->T)
                continue;
            if (s->npool == MAX_POOL)
                return false;
            s->pred[s->npool] = 0;
            s->pool[s->npool++] =
                (np_sop){.kind = NP_SOP_EXPIRE, .slot = k, .mode = dir ? NP_MODE_W : NP_MODE_R};
        }
    return true;
}

/* Runs the search from every state of set `set` with the given focus;
 * returns the id of the set of final states (0: none). */
static uint32_t run_search(search *s, uint32_t set, size_t i0, size_t i1)
{
    np_oracle *o = s->o;
    s->nout = 0;
    const uint32_t *ids = o->sets[set - 1];
    for (uint32_t j = 0; j < ids[0] && !s->oom; j++) {
        np_spec_state st = o->states[ids[1 + j] - 1];
        if (!build_group(s, &st, i0, i1)) {
            s->oom = true;
            break;
        }
        s->seen.n = 0;
        if (s->seen.cap)
            memset(s->seen.val, 0, s->seen.cap * sizeof *s->seen.val);
        dfs(s, &st, 0, 0);
    }
    if (s->oom || !s->nout)
        return 0;
    return intern_set(o, s->out, s->nout);
}

static int cmp_done(const void *a, const void *b)
{
    const np_oracle_done *x = a, *y = b;
    if (x->g != y->g)
        return x->g < y->g ? -1 : 1;
    return x->wait - y->wait;
}

static const char *res_name(int r)
{
    return np_poll_result_name(r);
}

static const char *mode_name(int m)
{
    return m == NP_MODE_R ? "r" : m == NP_MODE_W ? "w" : "rw";
}

/* Why the observation fits no order: the first part of it that fits none
 * on its own, named as the contract's invariants name it. */
static void diagnose(search *s, uint32_t set, size_t i0, size_t i1, np_violation *v)
{
    char *text = v->detail;
    size_t tlen = sizeof v->detail;
    v->t = s->T;
    v->line = 0;
    np_oracle *o = s->o;
    long long T = (long long)s->T;
    for (size_t k = 0; k < s->ndone + s->nblocked; k++) {
        s->focus = (int)k;
        if (run_search(s, set, i0, i1))
            continue;
        if (k < s->ndone) {
            const np_oracle_done *c = &s->done[k];
            const char *what = c->wait ? "wait" : "reset";
            v->pd = c->pd;
            v->g = c->g;
            v->mode = c->mode;
            if (c->res == NP_POLL_TIMEOUT) {
                v->kind = NP_INV_EARLY_TIMEOUT;
                snprintf(text, tlen,
                         "g=%d pd=%d mode=%s at t=%lld: its %s returned timeout, and no order of "
                         "the step's operations has its deadline expired then",
                         c->g, c->pd, mode_name(c->mode), T, what);
            } else {
                v->kind = NP_INV_LINEARIZABILITY;
                snprintf(text, tlen,
                         "g=%d pd=%d mode=%s at t=%lld: its %s returned %s, which no order of the "
                         "step's operations gives under the specification%s",
                         c->g, c->pd, mode_name(c->mode), T, what, res_name(c->res),
                         c->res == NP_POLL_OK && c->wait
                             ? " (no readiness of its own incarnation left to consume)"
                             : "");
            }
            return;
        }
        const np_oracle_done *b = &s->blocked[k - s->ndone];
        /* why it had to return: the first state of an order judged on nothing */
        const char *why = "it had to return";
        bool timer = false;
        s->focus = JUDGE_NONE;
        uint32_t any = run_search(s, set, i0, i1);
        if (any) {
            const np_spec_state *st = &o->states[o->sets[any - 1][1] - 1];
            int sl = slot_of(o, b->pd), dir = b->mode == NP_MODE_W;
            if (sl >= 0) {
                const np_spec_slot *p = &st->s[sl];
                const np_spec_state *st0 = &o->states[o->sets[set - 1][1] - 1];
                const np_spec_slot *p0 = &st0->s[sl]; /* as the step began */
                why = p->closing || p0->closing              ? "its pollDesc is closing"
                      : (p->ready[dir] | p0->ready[dir]) & 1 ? "readiness is pending"
                      : p->expired[dir]                      ? "its deadline has expired"
                                                             : why;
                timer = !p->closing && !(p->ready[dir] & 1) && p->expired[dir] &&
                        st0->s[sl].dl[dir] > 0 && st0->s[sl].dl[dir] <= s->T;
            }
        }
        v->kind = timer ? NP_INV_MISSED_TIMEOUT : NP_INV_LOST_WAKEUP;
        v->pd = b->pd;
        v->g = b->g;
        v->mode = b->mode;
        snprintf(text, tlen,
                 "g=%d pd=%d mode=%s at t=%lld: parked although %s (in every order of the step's "
                 "operations)",
                 b->g, b->pd, mode_name(b->mode), T, why);
        return;
    }
    v->kind = NP_INV_LINEARIZABILITY;
    v->pd = v->g = 0;
    v->mode = 0;
    size_t used = (size_t)snprintf(text, tlen,
                                   "at t=%lld: no single order of the step's operations explains "
                                   "its outcomes together:",
                                   T);
    for (size_t k = 0; k < s->ndone && used < tlen; k++)
        used += (size_t)snprintf(text + used, tlen - used, " g=%d %s %s", s->done[k].g,
                                 s->done[k].wait ? "wait" : "reset", res_name(s->done[k].res));
    for (size_t k = 0; k < s->nblocked && used < tlen; k++)
        used += (size_t)snprintf(text + used, tlen - used, " g=%d parked", s->blocked[k].g);
}

static search *the_search(void)
{
    static search s;
    return &s;
}

bool np_oracle_step(np_oracle *o, np_oracle_cursor *c, size_t i0, size_t i1, int64_t T,
                    const np_oracle_obs *obs, np_violation *v)
{
    search *s = the_search();
    if (obs->ndone > MAX_GROUP || obs->nblocked > MAX_GROUP || !*c)
        return true; /* more than the oracle judges (the other invariants still do) */
    s->o = o;
    s->T = T;
    s->ndone = obs->ndone;
    s->nblocked = obs->nblocked;
    memcpy(s->done, obs->done, obs->ndone * sizeof *s->done);
    memcpy(s->blocked, obs->blocked, obs->nblocked * sizeof *s->blocked);
    qsort(s->done, s->ndone, sizeof *s->done, cmp_done);
    qsort(s->blocked, s->nblocked, sizeof *s->blocked, cmp_done);
    uint64_t key = np__mix(np__mix(*c, i0 << 20 ^ i1), (uint64_t)T);
    for (size_t k = 0; k < s->ndone; k++)
        key = np__mix(key, (uint64_t)(uint32_t)s->done[k].g << 16 ^ (uint64_t)s->done[k].wait << 8 ^
                               (uint64_t)(uint8_t)s->done[k].res);
    key = np__mix(key, 0xb10c);
    for (size_t k = 0; k < s->nblocked; k++)
        key = np__mix(key, (uint64_t)(uint32_t)s->blocked[k].g);
    uint32_t next = map_get(&o->memo, key);
    if (!next) {
        s->focus = JUDGE_ALL;
        s->oom = false;
        next = run_search(s, *c, i0, i1);
        if (s->oom) { /* cannot judge: stop judging this execution */
            *c = 0;
            return true;
        }
        if (!map_put(&o->memo, key, next ? next : UINT32_MAX)) {
            *c = 0;
            return true;
        }
        if (!next)
            next = UINT32_MAX;
    }
    if (next != UINT32_MAX) {
        *c = next;
        return true;
    }
    diagnose(s, *c, i0, i1, v);
    *c = 0; /* judged: nothing more to say about this execution */
    return false;
}

bool np_oracle_end(np_oracle *o, np_oracle_cursor c, int64_t T, np_violation *v)
{
    if (!c || !o->exact)
        return true;
    const uint32_t *ids = o->sets[c - 1];
    int32_t g = 0, pd = 0;
    int mode = 0;
    long long due = 0;
    for (uint32_t j = 0; j < ids[0]; j++) {
        const np_spec_state *st = &o->states[ids[1 + j] - 1];
        bool owed = false;
        for (int k = 0; k < o->nslots && !owed; k++)
            for (int dir = 0; dir < 2 && !owed; dir++) {
                const np_spec_slot *p = &st->s[k];
                if (p->waiter[dir] && !p->closing && p->dl[dir] > 0) {
                    owed = true;
                    g = p->waiter[dir];
                    pd = o->slot_id[k];
                    mode = dir ? NP_MODE_W : NP_MODE_R;
                    due = (long long)p->dl[dir];
                }
            }
        if (!owed)
            return true; /* an order that leaves no timer owed */
    }
    *v = (np_violation){NP_INV_MISSED_TIMEOUT, pd, g, mode, T, 0, ""};
    snprintf(v->detail, sizeof v->detail,
             "g=%d pd=%d mode=%s: parked at the end (t=%lld) although its deadline at t=%lld "
             "has no timer left to fire",
             g, pd, mode_name(mode), (long long)T, due);
    return false;
}
