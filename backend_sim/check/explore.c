/* backend_sim/check/explore.c - exploring the interleavings of a trace's races
 * (netpoll/explore.h) on top of the replay engine's explore mode.
 *
 * dfs: depth first over the tree of choices, by re-execution (a run is a
 * pure function of the trace, the design and the choices): after each run
 * the deepest choice with an untried alternative is changed and everything
 * after it is left to the default (keep running the task that ran last).
 * The alternatives at a choice are tried in the order: the last task (no
 * preemption) first, then the others by creation; a run may contain at
 * most `preemptions` switches away from a task that could have continued.
 * With state caching, a run that reaches (at a new choice) a state already
 * reached by an earlier run - with no more preemptions spent, when bounded -
 * stops there: depth first, that state's subtree is or will be covered from
 * its first visit. With the cache and no bound, sleep sets (below) leave
 * out the steps that only reorder independent steps already explored.
 * pct: per run, random priorities for the threads and d-1 priority change
 * points among the (estimated) k choices; the highest-priority runnable
 * thread runs; at the i-th change point the thread about to run drops to
 * priority i.
 * random: every choice uniformly at random, seeded.
 */
#include "netpoll/explore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netpoll/replay.h"
#include "../mix.h"

/* ---- a set of 64-bit keys, each with a byte -------------------------------- */

typedef struct {
    uint64_t *key; /* 0: empty (keys are never 0: see fix0) */
    uint8_t *val;
    size_t cap, n;
} u64set;

static uint64_t fix0(uint64_t k)
{
    return k ? k : 1;
}

static bool set_grow(u64set *s)
{
    size_t cap = s->cap ? 2 * s->cap : 1024;
    uint64_t *k = calloc(cap, sizeof *k);
    uint8_t *v = calloc(cap, 1);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->key[i]) {
            size_t j = (size_t)(s->key[i] * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (cap - 1);
            while (k[j])
                j = (j + 1) & (cap - 1);
            k[j] = s->key[i];
            v[j] = s->val[i];
        }
    free(s->key);
    free(s->val);
    s->key = k;
    s->val = v;
    s->cap = cap;
    return true;
}

/* Whether key is present; *at: its slot, or the empty slot for it, or
 * SIZE_MAX if the set cannot grow. */
static bool set_find(u64set *s, uint64_t key, size_t *at)
{
    key = fix0(key);
    if (2 * (s->n + 1) > s->cap && !set_grow(s)) {
        *at = SIZE_MAX;
        return false;
    }
    size_t j = (size_t)(key * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (s->cap - 1);
    while (s->key[j] && s->key[j] != key)
        j = (j + 1) & (s->cap - 1);
    *at = j;
    return s->key[j] == key;
}

/* Adds key; true if it was new. */
static bool set_add(u64set *s, uint64_t key, uint8_t val)
{
    size_t j;
    if (set_find(s, key, &j) || j == SIZE_MAX)
        return false;
    s->key[j] = fix0(key);
    s->val[j] = val;
    s->n++;
    return true;
}

static void set_free(u64set *s)
{
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* ---- the chooser -------------------------------------------------------------- */

typedef struct {
    int choice; /* taken */
    int n;      /* options */
    int last;   /* index of the task that ran last, -1 if it cannot continue */
    int pre;    /* preemptions up to and including this choice */
} decision;

typedef struct {
    int id;
    uint64_t prio;
} prio;

/* Sleep sets: what a step touched - the tasks that ran (bit id - 1) and the
 * words behind its scheduling points; `dirty` if it changed anything else
 * (np_choice.model), passed a point that is not a plain memory access, or
 * touched more words than it keeps. */
#define NP_FP_WORDS 4
typedef struct {
    uint64_t tasks;
    const volatile void *addr[NP_FP_WORDS];
    uint8_t nacc, writes; /* writes: bit i if addr[i] was written */
    bool dirty;
} footprint;

typedef struct {
    int id;       /* a task asleep at a choice */
    footprint fp; /* the step it would take: the one explored before */
} sleeper;

/* Per choice (beside decision, by the same index): its options, who was
 * picked, its sleep set and the step the pick took. */
typedef struct {
    uint64_t ids;    /* the options' ids (bit id - 1); 0: no sleep set here */
    uint64_t asleep; /* the ids in sl[sl0..sl1) */
    int id;          /* the chosen task's id */
    uint32_t sl0, sl1;
    footprint fp; /* complete at the next choice, or at the run's end */
} node;

typedef struct chooser {
    const np_explore_opts *o;
    decision *d;
    size_t nd, cap;
    size_t depth;   /* choices made in the current run */
    size_t nprefix; /* choices forced from d[] */
    int strategy;
    uint64_t rng;
    bool bad;          /* the forced schedule did not fit this run */
    bool cache;        /* dfs state caching */
    bool plain_random; /* random, unsharded, no steps recorded: choose() in short */
    bool sleep;        /* dfs, cached, no bound: sleep sets */
    node *nodes;       /* beside d[] (capacity cap) */
    sleeper *sl;       /* the sleep sets, a stack: nodes[k]'s are sl[sl0..sl1) */
    size_t nsl, capsl;
    footprint seg;      /* the step in progress since the last choice */
    uint64_t seg_model; /* np_choice.model at that choice */
    size_t seg_nlocks;  /* and its locks */
    const volatile void *seg_lock[NP_CHOICE_LOCKS];
    uint64_t seg_lock_hash[NP_CHOICE_LOCKS];
    size_t seg_ntasks; /* and its tasks' views */
    int seg_task_id[NP_CHOICE_TASKS];
    uint64_t seg_task_view[NP_CHOICE_TASKS];
    bool foreign;         /* the run belongs to another shard */
    bool assigned;        /* the run's shard is decided */
    size_t split_pos;     /* sharding: the trace index of the split step */
    size_t in_split;      /* choices so far in that step */
    size_t split_depth;   /* the first of them */
    uint64_t split_state; /* and its state */
    double paths;         /* paths in the split step so far */
    u64set visited;       /* dfs: states expanded (value: fewest preemptions spent) */
    u64set abstract;
    uint64_t **abs_list; /* the abstract states, in order of discovery */
    /* pct */
    prio *prios;
    size_t nprios, capprios;
    size_t change[16]; /* change points (choice indexes), ascending */
    int nchange;
    size_t k_est; /* choices per run, estimated */
    /* race pairs */
    struct access {
        const volatile void *addr;
        uint64_t loc;
        int id;
        bool write;
    } acc[32];
    int nacc;
    /* lookups: acc's index by address, valid when the stamp is the run's */
    uint8_t acc_at[64];
    uint32_t acc_stamp[64], stamp;
    uint64_t pair_seen[256]; /* pairs known to be in `pairs` (direct-mapped) */
    u64set pairs;            /* ordered pairs (value 1) */
    u64set class_ids;        /* outcome classes by hash (value: index, the first 255) */
    uint64_t both, one;
    /* the abstract states, in order of discovery */
    uint64_t *abs;
    size_t nabs, capabs;
    uint64_t last_abs; /* the latest noted (when nabs > 0) */
    /* minimization: the failing run with the fewest steps */
    bool have_best;
    size_t best_steps, nbest;
    decision best[4096];
    /* the listing run: every step, and the step number at each choice */
    struct step {
        int id, kind, line;
        const volatile void *addr;
        const char *file;
    } * steps;
    size_t nsteps, capsteps;
    bool record_steps;
    struct {
        size_t step;
        int preempted, chosen;
    } * at;
    size_t nat, capat;
} chooser;

static inline __attribute__((always_inline)) void note_abstract(chooser *c, uint64_t a)
{
    if (c->nabs && a == c->last_abs) /* mostly unchanged since the last choice */
        return;
    c->last_abs = a;
    if (!set_add(&c->abstract, a, 1))
        return;
    if (c->nabs == c->capabs) {
        size_t cap = c->capabs ? 2 * c->capabs : 256;
        uint64_t *v = realloc(c->abs, cap * sizeof *v);
        if (!v)
            return;
        c->abs = v;
        c->capabs = cap;
    }
    c->abs[c->nabs++] = a;
}

/* Room for one more decision (and node). */
static bool room(chooser *c)
{
    if (c->nd < c->cap)
        return true;
    size_t cap = c->cap ? 2 * c->cap : 64;
    decision *v = realloc(c->d, cap * sizeof *v);
    if (!v)
        return false;
    c->d = v;
    if (c->sleep) {
        node *w = realloc(c->nodes, cap * sizeof *w);
        if (!w)
            return false;
        c->nodes = w;
    }
    c->cap = cap;
    return true;
}

static bool push_decision(chooser *c, decision d)
{
    if (!room(c))
        return false;
    c->d[c->nd++] = d;
    return true;
}

/* ---- sleep sets --------------------------------------------------------------------
 *
 * A partial-order reduction beside the state cache (Godefroid, 1996): after
 * the subtree of option t at a choice is explored, t sleeps in the subtrees
 * of the options tried after it, for as long as the steps taken there are
 * independent of t's step (touch other words, or only read the words t's
 * step touches, and change nothing else): t's step would lead to a state
 * its own subtree already covered. Sleep sets prune steps, not states:
 * every state is still reached, so the invariants judged on states and the
 * outcomes at the run's end are all still seen (ctest check_reduction
 * compares verdicts and outcome classes with and without, per scenario).
 *
 * What a step touched is observed, not declared: the scheduling points it
 * passed (on_point) - a load, store, CAS or exchange of a word; any other
 * kind (a lock, a timer, a park, a readying) makes it dependent on every
 * step - and np_choice.model, the hash of what steps may change without a
 * scheduling point (the replay's model, results, task states, lock owners,
 * what locks guard): a step that changed it is dependent on every step. A
 * step is everything from one choice to the next, so it may hold steps of
 * other tasks that ran without a choice; they are in its task set, and two
 * steps that share a task are dependent.
 *
 * With the cache: a state reached again with sleep set Z, first expanded
 * with sleep set S, is done if S is within Z; else the options in S \ Z are
 * explored from it and S becomes S and Z (val: S as a mask of options). */
static inline int task_bit(uint64_t *mask, int id)
{
    if (id < 1 || id > 64)
        return -1;
    *mask |= UINT64_C(1) << (id - 1);
    return 0;
}

static void seg_access(footprint *f, const volatile void *addr, bool write)
{
    for (int i = 0; i < f->nacc; i++)
        if (f->addr[i] == addr) {
            f->writes |= (uint8_t)(write << i);
            return;
        }
    if (f->nacc == NP_FP_WORDS) {
        f->dirty = true;
        return;
    }
    f->addr[f->nacc] = addr;
    f->writes |= (uint8_t)(write << f->nacc++);
}

static void seg_point(chooser *c, const np_point *p)
{
    footprint *f = &c->seg;
    if (task_bit(&f->tasks, p->id) < 0)
        f->dirty = true;
    if (p->kind == 7) /* now: the clock does not move within a time step */
        return;
    /* a load, store, CAS, exchange; a lock's acquisition or release writes it */
    if (p->kind > 5 || !p->addr)
        f->dirty = true;
    else
        seg_access(f, p->addr, p->kind != 0);
}

/* The step from the previous choice to this one (ch) ends: what it changed
 * without scheduling points. */
static void seg_close(chooser *c, footprint *f, const np_choice *ch, bool end)
{
    if (end || ch->model != c->seg_model || ch->nlocks != c->seg_nlocks) {
        f->dirty = true;
        return;
    }
    for (size_t i = 0; i < ch->nlocks; i++)
        if (ch->lock_addr[i] != c->seg_lock[i])
            f->dirty = true;
        else if (ch->lock_hash[i] != c->seg_lock_hash[i])
            seg_access(f, ch->lock_addr[i], true);
    /* a task that did not run in the step: there before and after, unchanged */
    if (ch->ntasks == NP_CHOICE_TASKS || c->seg_ntasks == NP_CHOICE_TASKS) {
        f->dirty = true;
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t na = pass ? ch->ntasks : c->seg_ntasks;
        const int *ia = pass ? ch->task_id : c->seg_task_id;
        for (size_t i = 0; i < na; i++) {
            int id = ia[i];
            if (id >= 1 && id <= 64 && (f->tasks >> (id - 1) & 1))
                continue;
            size_t j = 0, k = 0;
            while (j < c->seg_ntasks && c->seg_task_id[j] != id)
                j++;
            while (k < ch->ntasks && ch->task_id[k] != id)
                k++;
            if (j == c->seg_ntasks || k == ch->ntasks || c->seg_task_view[j] != ch->task_view[k]) {
                f->dirty = true;
                return;
            }
        }
    }
}

static void seg_open(chooser *c, const np_choice *ch)
{
    c->seg = (footprint){0};
    c->seg_model = ch->model;
    c->seg_nlocks = ch->nlocks;
    for (size_t i = 0; i < ch->nlocks; i++) {
        c->seg_lock[i] = ch->lock_addr[i];
        c->seg_lock_hash[i] = ch->lock_hash[i];
    }
    c->seg_ntasks = ch->ntasks;
    for (size_t i = 0; i < ch->ntasks; i++) {
        c->seg_task_id[i] = ch->task_id[i];
        c->seg_task_view[i] = ch->task_view[i];
    }
}

static bool independent(const footprint *a, const footprint *b)
{
    if (a->dirty || b->dirty || (a->tasks & b->tasks))
        return false;
    for (int i = 0; i < a->nacc; i++)
        for (int j = 0; j < b->nacc; j++)
            if (a->addr[i] == b->addr[j] && ((a->writes >> i & 1) || (b->writes >> j & 1)))
                return false;
    return true;
}

static bool push_sleeper(chooser *c, int id, const footprint *fp)
{
    if (c->nsl == c->capsl) {
        size_t cap = c->capsl ? 2 * c->capsl : 256;
        sleeper *v = realloc(c->sl, cap * sizeof *v);
        if (!v)
            return false;
        c->sl = v;
        c->capsl = cap;
    }
    c->sl[c->nsl++] = (sleeper){id, *fp};
    return true;
}

/* The id of option i at node x (the i-th set bit of its ids). */
static int option_id(const node *x, int i)
{
    uint64_t m = x->ids;
    for (; i > 0 && m; i--)
        m &= m - 1;
    return m ? __builtin_ctzll(m) + 1 : 0;
}

static bool option_asleep(const node *x, int i)
{
    int id = option_id(x, i);
    return id > 0 && (x->asleep >> (id - 1) & 1);
}

/* The step of choice k-1 has ended at choice k (ch; NULL: at the run's
 * end). */
static void seg_end(chooser *c, size_t k, const np_choice *ch)
{
    if (k == 0 || k < c->nprefix) /* a choice of the prefix: as in its run */
        return;
    node *x = &c->nodes[k - 1];
    footprint f = c->seg;
    seg_close(c, &f, ch, !ch);
    if (task_bit(&f.tasks, x->id) < 0)
        f.dirty = true;
    x->fp = f;
}

/* A new choice k (options ch): its sleep set, those of choice k-1 whose
 * step is independent of the step k-1 took (its own pick excluded). False
 * if it cannot have one (too many tasks): then nothing sleeps here. */
static bool node_begin(chooser *c, size_t k, const np_choice *ch)
{
    node *x = &c->nodes[k];
    *x = (node){0};
    x->sl0 = x->sl1 = (uint32_t)c->nsl;
    for (size_t i = 0; i < ch->n; i++)
        if (task_bit(&x->ids, ch->ids[i]) < 0 || ch->n > 8) {
            x->ids = 0;
            return false;
        }
    if (k == 0)
        return true;
    const node *p = &c->nodes[k - 1];
    for (uint32_t j = p->sl0; j < p->sl1; j++) {
        sleeper e = c->sl[j]; /* (a copy: push_sleeper may move sl) */
        if (e.id != p->id && (x->ids >> (e.id - 1) & 1) && independent(&e.fp, &p->fp)) {
            if (!push_sleeper(c, e.id, &e.fp))
                return false;
            x->asleep |= UINT64_C(1) << (e.id - 1);
        }
    }
    x->sl1 = (uint32_t)c->nsl;
    return true;
}

/* The options asleep at node x, as a mask of option indexes. */
static uint8_t asleep_options(const node *x, size_t n)
{
    uint8_t m = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        if (option_asleep(x, (int)i))
            m |= (uint8_t)(1u << i);
    return m;
}

static uint64_t *pct_prio(chooser *c, int id)
{
    for (size_t i = 0; i < c->nprios; i++)
        if (c->prios[i].id == id)
            return &c->prios[i].prio;
    if (c->nprios == c->capprios) {
        size_t cap = c->capprios ? 2 * c->capprios : 16;
        prio *v = realloc(c->prios, cap * sizeof *v);
        if (!v)
            return NULL;
        c->prios = v;
        c->capprios = cap;
    }
    /* initial priorities are above every change point's (d - 1 < 16) */
    c->prios[c->nprios] = (prio){id, 64 + (np__xorshift(&c->rng) >> 8)};
    return &c->prios[c->nprios++].prio;
}

static int pct_pick(chooser *c, const np_choice *ch, size_t k)
{
    int best = 0;
    uint64_t bp = 0;
    for (size_t i = 0; i < ch->n; i++) {
        uint64_t *p = pct_prio(c, ch->ids[i]);
        if (p && *p > bp) {
            bp = *p;
            best = (int)i;
        }
    }
    for (int j = 0; j < c->nchange; j++)
        if (c->change[j] == k) { /* the thread about to run drops to priority j */
            uint64_t *p = pct_prio(c, ch->ids[best]);
            if (p)
                *p = (uint64_t)j + 1;
            return pct_pick(c, ch, SIZE_MAX);
        }
    return best;
}

static int choose(void *ctx, const np_choice *ch)
{
    chooser *c = ctx;
    size_t k = c->depth++;
    size_t n = ch->n;
    int last = ch->last;
    int pick;
    if (c->plain_random && k >= c->nprefix) { /* the same as below, in short */
        note_abstract(c, ch->abstract);
        pick = (int)((np__xorshift(&c->rng) >> 32) * n >> 32);
        int pre = (k > 0 ? c->d[k - 1].pre : 0) + (last >= 0 && pick != last);
        if (!push_decision(c, (decision){pick, (int)n, last, pre}))
            c->bad = true;
        return pick;
    }
    if (k >= c->nprefix)
        note_abstract(c, ch->abstract);
    if (c->sleep) {
        seg_end(c, k, ch);
        seg_open(c, ch);
    }
    uint8_t z = 0; /* sleep sets: the options asleep here */
    if (c->sleep && k >= c->nprefix) {
        if (!room(c)) {
            c->bad = true;
            return -1;
        }
        if (node_begin(c, k, ch))
            z = asleep_options(&c->nodes[k], n);
    }
    if (k < c->nprefix) {
        pick = c->d[k].choice;
        if (pick < 0 || (size_t)pick >= n) {
            c->bad = true;
            pick = 0;
        }
        c->d[k].n = (int)n;
        c->d[k].last = last;
    } else {
        int before = k > 0 ? c->d[k - 1].pre : 0;
        if (c->cache && c->assigned) {
            /* bounded: the same state with the same task running and no more
             * preemptions spent has the same future */
            uint64_t key = c->o->preemptions < 0
                               ? ch->state
                               : np__mix(ch->state, last >= 0 ? ch->ids[last] : 0);
            size_t at;
            if (set_find(&c->visited, key, &at)) {
                if (c->sleep) {
                    /* first expanded with the options val asleep: done,
                     * unless some of those are awake now - then only they
                     * are explored (the rest sleep here, stepping from here
                     * only: a dirty step wakes them in every child) */
                    uint8_t todo = (uint8_t)(c->visited.val[at] & ~z);
                    c->visited.val[at] &= z;
                    if (!todo) {
                        c->nsl = c->nodes[k].sl0;
                        return -1;
                    }
                    node *x = &c->nodes[k];
                    footprint any = {.dirty = true};
                    for (size_t i = 0; i < n; i++)
                        if (!(todo >> i & 1) && !(z >> i & 1)) {
                            int id = option_id(x, (int)i);
                            if (!push_sleeper(c, id, &any)) {
                                c->bad = true;
                                break;
                            }
                            x->asleep |= UINT64_C(1) << (id - 1);
                        }
                    x->sl1 = (uint32_t)c->nsl;
                    z = (uint8_t)~todo;
                } else if (c->o->preemptions < 0 || c->visited.val[at] <= before) {
                    return -1;
                } else {
                    c->visited.val[at] = (uint8_t)before;
                }
            } else if (at != SIZE_MAX) {
                c->visited.key[at] = fix0(key);
                c->visited.val[at] = c->sleep ? z : (uint8_t)(before > 255 ? 255 : before);
                c->visited.n++;
            }
        }
        if (c->strategy == NP_EXPLORE_RANDOM) /* (a multiply, not a division) */
            pick = (int)((np__xorshift(&c->rng) >> 32) * n >> 32);
        else if (c->strategy == NP_EXPLORE_PCT)
            pick = pct_pick(c, ch, k);
        else
            pick = last >= 0 ? last : 0;
        if (z >> pick & 1) { /* asleep: the first awake option in trial order */
            pick = -1;
            for (int j = -1; j < (int)n && pick < 0; j++) {
                int i = j < 0 ? last : j;
                if (i >= 0 && !(z >> i & 1))
                    pick = i;
            }
            if (pick < 0) { /* every option asleep: all covered elsewhere */
                c->nsl = c->nodes[k].sl0;
                return -1;
            }
        }
        if (!push_decision(c, (decision){pick, (int)n, last, 0})) {
            c->bad = true;
            return pick;
        }
        if (c->sleep)
            c->nodes[k].id = ch->ids[pick];
    }
    int before = k > 0 ? c->d[k - 1].pre : 0;
    c->d[k].pre = before + (last >= 0 && c->d[k].choice != last);
    if (c->record_steps) {
        void *v = c->nat == c->capat
                      ? realloc(c->at, (c->capat = c->capat ? 2 * c->capat : 64) * sizeof *c->at)
                      : c->at;
        if (v) {
            c->at = v;
            c->at[c->nat].step = ch->step;
            c->at[c->nat].preempted = last >= 0 && c->d[k].choice != last ? ch->ids[last] : 0;
            c->at[c->nat++].chosen = ch->ids[c->d[k].choice < (int)n ? c->d[k].choice : 0];
        }
    }
    /* sharding: in the time step with the most choices (the split step),
     * the state at its first choice and the choices made in it since then
     * decide which shard owns the run, once they are 8 paths per shard -
     * by state rather than by the whole path, so that prefixes meeting in
     * one state split the same way */
    if (c->o->shards > 1 && !c->assigned && ch->pos >= c->split_pos) {
        if (ch->pos == c->split_pos && c->in_split++ == 0) {
            c->split_depth = k;
            if (k >= c->nprefix) /* else as in the run that made the prefix */
                c->split_state = ch->state;
            c->paths = 1;
        }
        c->paths *= ch->pos == c->split_pos ? (double)n : 1e9;
        if (c->paths >= 8.0 * c->o->shards) {
            c->assigned = true;
            uint64_t h = c->split_state;
            for (size_t i = c->in_split ? c->split_depth : k + 1; i <= k; i++)
                h = np__mix(h, (uint64_t)c->d[i].choice + 1);
            if ((int)((h >> 16) % (uint64_t)c->o->shards) != c->o->shard) {
                c->foreign = true;
                return -1;
            }
        }
    }
    return c->d[k].choice;
}

/* Race pairs: consecutive accesses by different tasks to one word, one of
 * them a write, as (location, location) in execution order. */
static void on_point(void *ctx, const np_point *p)
{
    chooser *c = ctx;
    if (c->sleep)
        seg_point(c, p);
    if (c->record_steps) {
        void *v = c->nsteps == c->capsteps
                      ? realloc(c->steps, (c->capsteps = c->capsteps ? 2 * c->capsteps : 256) *
                                              sizeof *c->steps)
                      : c->steps;
        if (v) {
            c->steps = v;
            c->steps[c->nsteps++] = (struct step){p->id, p->kind, p->line, p->addr, p->file};
        }
    }
    if (!p->addr || p->kind == 7 /* now */ || p->kind == 8 /* park */)
        return;
    bool write = p->kind != 0; /* everything but a load changes the word */
    /* the location, one to one: (file, line < 4096, kind < 16); within a
     * process (file names are the compiler's strings) */
    uint64_t loc = (uint64_t)(uintptr_t)p->file << 16 ^ (uint64_t)p->line << 4 ^ (uint64_t)p->kind;
    size_t d = (size_t)((uintptr_t)p->addr >> 3) & 63;
    int i = c->acc_at[d];
    if (c->acc_stamp[d] != c->stamp || i >= c->nacc || c->acc[i].addr != p->addr) {
        i = 0;
        while (i < c->nacc && c->acc[i].addr != p->addr)
            i++;
    }
    if (i < c->nacc) {
        struct access *a = &c->acc[i];
        if (a->id != p->id && (a->write || write) && a->loc != loc) {
            uint64_t key = fix0(np__mix(a->loc, loc));
            uint64_t *seen = &c->pair_seen[key >> 56];
            if (*seen != key) {
                size_t at;
                if (set_add(&c->pairs, key, 1)) {
                    if (set_find(&c->pairs, np__mix(loc, a->loc), &at)) {
                        c->both++;
                        c->one--;
                    } else {
                        c->one++;
                    }
                    *seen = key;
                } else if (set_find(&c->pairs, key, &at)) { /* (else out of memory) */
                    *seen = key;
                }
            }
        }
    } else if (c->nacc < 32) {
        c->nacc++;
    } else {
        i = 31;
    }
    c->acc[i] = (struct access){p->addr, loc, p->id, write};
    c->acc_at[d] = (uint8_t)i;
    c->acc_stamp[d] = c->stamp;
}

static void schedule_string(const decision *d, size_t nd, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < nd && used + 12 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? ".%d" : "%d", d[i].choice);
}

static int parse_schedule(chooser *c, const char *s)
{
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 1000000)
            return -EINVAL;
        if (!push_decision(c, (decision){(int)v, 0, -1, 0}))
            return -ENOMEM;
        s = *end == '.' ? end + 1 : end;
        if (*end && *end != '.')
            return -EINVAL;
    }
    return 0;
}

/* The alternatives at a choice, in trial order: last first, then 0..n-1. */
static int next_alternative(const decision *d, int bound, int pre_before)
{
    int order[1024], k = 0;
    if (d->last >= 0)
        order[k++] = d->last;
    for (int i = 0; i < d->n && k < 1024; i++)
        if (i != d->last)
            order[k++] = i;
    int pos = 0;
    while (pos < k && order[pos] != d->choice)
        pos++;
    for (int j = pos + 1; j < k; j++) {
        int pre = pre_before + (d->last >= 0 && order[j] != d->last);
        if (bound < 0 || pre <= bound)
            return order[j];
    }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- outcome classes ------------------------------------------------------------ */

static int by_g(const void *a, const void *b)
{
    const np_replay_wake *x = a, *y = b;
    return (x->g > y->g) - (x->g < y->g);
}

static void add_class_text(np_explore_result *r, const np_replay_result *rr, bool violation);

/* The class of a run: looked up by a hash of its wakes (the text is built
 * only for a class not seen before). */
static void add_class(chooser *c, np_explore_result *r, const np_replay_result *rr, bool violation)
{
    uint64_t h = violation;
    for (size_t i = 0; i < rr->nwakes; i++)
        h = np__mix(h, (uint64_t)(uint32_t)rr->wakes[i].g << 8 | (uint64_t)(rr->wakes[i].res + 1));
    size_t at;
    if (set_find(&c->class_ids, h, &at)) {
        r->classes[c->class_ids.val[at]].count++;
        return;
    }
    size_t before = r->nclasses;
    add_class_text(r, rr, violation);
    if (at != SIZE_MAX && r->nclasses == before + 1 && before < 255) {
        c->class_ids.key[at] = fix0(h);
        c->class_ids.val[at] = (uint8_t)before;
        c->class_ids.n++;
    }
}

static void add_class_text(np_explore_result *r, const np_replay_result *rr, bool violation)
{
    np_replay_wake *w = malloc((rr->nwakes + 1) * sizeof *w);
    char buf[1024];
    size_t used = 0;
    buf[0] = 0;
    if (!w)
        return;
    if (rr->nwakes)
        memcpy(w, rr->wakes, rr->nwakes * sizeof *w);
    /* stable by task: a merge of the wakes in order, per task */
    for (size_t i = 1; i < rr->nwakes; i++) /* insertion sort keeps order within g */
        for (size_t j = i; j > 0 && by_g(&w[j - 1], &w[j]) > 0; j--) {
            np_replay_wake t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    for (size_t i = 0; i < rr->nwakes && used + 40 < sizeof buf; i++) {
        const char *res = w[i].res == 0   ? "ok"
                          : w[i].res == 1 ? "closing"
                          : w[i].res == 2 ? "timeout"
                          : w[i].res == 3 ? "notpollable"
                                          : "?";
        if (i == 0 || w[i].g != w[i - 1].g)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%sg%d: %s", i ? " | " : "",
                                     w[i].g, res);
        else
            used += (size_t)snprintf(buf + used, sizeof buf - used, ",%s", res);
    }
    free(w);
    if (!rr->nwakes)
        snprintf(buf, sizeof buf, "no wake");
    if (violation && used + 14 < sizeof buf)
        strcat(buf, " [violation]");
    for (size_t i = 0; i < r->nclasses; i++)
        if (!strcmp(r->classes[i].text, buf)) {
            r->classes[i].count++;
            return;
        }
    np_explore_class *v = realloc(r->classes, (r->nclasses + 1) * sizeof *v);
    char *t = strdup(buf);
    if (!v || !t) {
        free(t);
        if (v)
            r->classes = v;
        return;
    }
    r->classes = v;
    r->classes[r->nclasses++] = (np_explore_class){t, 1};
}

/* ---- one execution ---------------------------------------------------------------- */

static int run_once(const np_trace *tr, const np_explore_opts *o, chooser *c, FILE *out,
                    FILE *listing, np_replay_result *r)
{
    c->depth = 0;
    c->bad = false;
    c->foreign = false;
    c->assigned = o->shards <= 1;
    c->in_split = 0;
    c->nacc = 0;
    if (++c->stamp == 0) { /* (0 is never a run's: a new chooser's stamps are all 0) */
        memset(c->acc_stamp, 0, sizeof c->acc_stamp);
        c->stamp = 1;
    }
    c->plain_random =
        c->strategy == NP_EXPLORE_RANDOM && !c->cache && !c->record_steps && o->shards <= 1;
    if (c->strategy == NP_EXPLORE_PCT && !c->nprefix) {
        c->nprios = 0;
        int d = o->depth > 0 ? o->depth : 3;
        c->nchange = d - 1 < 16 ? d - 1 : 15;
        size_t k = c->k_est ? c->k_est : 1;
        for (int j = 0; j < c->nchange; j++)
            c->change[j] = (size_t)(np__xorshift(&c->rng) % k);
    }
    np_replay_opts ro = {.design = o->design,
                         .out = out,
                         .ignore_divergences = true,
                         .late_timers = o->late_timers,
                         .poller_faults = o->poller_faults,
                         .poller_seed = o->poller_seed,
                         .judge = o->judge,
                         .record = o->record,
                         .choose = choose,
                         .choose_ctx = c,
                         .want_state = c->cache,
                         /* (sleep sets: and at the changed choice, whose
                            step's model change is judged at the next) */
                         .state_from = c->sleep && c->nprefix ? c->nprefix - 1 : c->nprefix,
                         .on_point = on_point,
                         .listing = listing};
    int st = np_replay(tr, &ro, r);
    if (c->sleep && c->nd && c->depth == c->nd) /* the last step ran to the end */
        seg_end(c, c->nd, NULL);
    if (c->depth > c->k_est)
        c->k_est = c->depth;
    return st;
}

static void chooser_free(chooser *c)
{
    free(c->d);
    free(c->nodes);
    free(c->sl);
    set_free(&c->abstract);
    set_free(&c->visited);
    set_free(&c->pairs);
    set_free(&c->class_ids);
    free(c->prios);
    free(c->abs);
    free(c->steps);
    free(c->at);
}

static const char *const kinds[] = {"load",   "store", "cas", "xchg", "lock",
                                    "unlock", "timer", "now", "park", "ready"};

static void step_text(const chooser *c, size_t i, char *buf, size_t len)
{
    const struct step *s = &c->steps[i];
    const char *base = strrchr(s->file, '/');
    char word[32];
    snprintf(buf, len, "step %zu (t%d %s:%d %s %s)", i, s->id, base ? base + 1 : s->file, s->line,
             s->kind >= 0 && s->kind < 10 ? kinds[s->kind] : "?",
             np_replay_addr_name(s->addr, word, sizeof word));
}

/* A listing longer than LIST_HEAD + LIST_TAIL lines (a livelock runs to
 * its bound of 2,000,000 steps) keeps its first LIST_HEAD and its last
 * LIST_TAIL lines, with a line in between that says how many it left out:
 * the start shows how the run got there, the end the loop it was in. */
#define LIST_HEAD 400
#define LIST_TAIL 200

static void elide_listing(char *buf)
{
    size_t lines = 0;
    for (const char *p = buf; *p; p++)
        lines += *p == '\n';
    if (lines <= LIST_HEAD + LIST_TAIL + 1)
        return;
    char *head_end = buf, *tail = buf;
    for (size_t n = 0; n < LIST_HEAD; n++)
        head_end = strchr(head_end, '\n') + 1;
    for (size_t n = 0; n < lines - LIST_TAIL; n++)
        tail = strchr(tail, '\n') + 1;
    char note[128];
    int k = snprintf(note, sizeof note, "  ... %zu steps not shown ...\n",
                     lines - LIST_HEAD - LIST_TAIL);
    /* the note is shorter than what it replaces (more than one line) */
    memcpy(head_end, note, (size_t)k);
    memmove(head_end + k, tail, strlen(tail) + 1);
}

/* Runs a schedule again: its first violation line, and when wanted its step
 * listing and the race behind its last preemption. */
static void failure_text(const np_trace *tr, const np_explore_opts *o, const decision *d, size_t nd,
                         char *detail, size_t len, char **listing, char *race, size_t racelen)
{
    np_explore_opts plain = *o;
    plain.shards = 0;
    chooser again = {.o = &plain, .strategy = NP_EXPLORE_DFS, .record_steps = listing != NULL};
    for (size_t i = 0; i < nd; i++)
        push_decision(&again, d[i]);
    again.nprefix = again.nd;
    char *buf = NULL, *lbuf = NULL;
    size_t blen = 0, llen = 0;
    FILE *mem = open_memstream(&buf, &blen);
    FILE *lst = listing ? open_memstream(&lbuf, &llen) : NULL;
    np_replay_result rr;
    run_once(tr, &plain, &again, mem, lst, &rr);
    np_replay_result_free(&rr);
    if (mem)
        fclose(mem);
    if (lst)
        fclose(lst);
    if (buf) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
        snprintf(detail, len, "%s", buf);
    }
    free(buf);
    if (lbuf)
        elide_listing(lbuf);
    if (listing)
        *listing = lbuf;
    if (race) {
        /* the last preemption: the preempted task's next step, and the last
         * step of another task before it on the same word (one a write) */
        snprintf(race, racelen, "no preemption: the trace's order alone leads to it");
        for (size_t j = again.nat; j-- > 0;) {
            if (!again.at[j].preempted)
                continue;
            size_t from = again.at[j].step, sp = SIZE_MAX, sq = SIZE_MAX;
            for (size_t i = from; i < again.nsteps && sp == SIZE_MAX; i++)
                if (again.steps[i].id == again.at[j].preempted)
                    sp = i;
            for (size_t i = from; sp != SIZE_MAX && i < sp; i++)
                if (again.steps[i].addr == again.steps[sp].addr &&
                    (again.steps[i].kind != 0 || again.steps[sp].kind != 0))
                    sq = i;
            if (sq == SIZE_MAX) /* no shared word: the preempting task's first step */
                for (size_t i = from; i < again.nsteps && sq == SIZE_MAX; i++)
                    if (again.steps[i].id == again.at[j].chosen)
                        sq = i;
            char a[256] = "?", b[256] = "(the preempted task did not run again)";
            if (sq != SIZE_MAX)
                step_text(&again, sq, a, sizeof a);
            if (sp != SIZE_MAX)
                step_text(&again, sp, b, sizeof b);
            snprintf(race, racelen, "%s ran before %s", a, b);
            break;
        }
    }
    chooser_free(&again);
}

/* ---- the exploration loop ----------------------------------------------------------- */

static int explore_loop(const np_trace *tr, const np_explore_opts *o, np_explore_result *r,
                        chooser *c, bool quiet_samples);

int np_explore_parse_shard(const char *s, int *shard, int *shards)
{
    char *end;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return -EINVAL;
    const char *p = end + 1;
    long n = strtol(p, &end, 10);
    if (end == p || *end || n < 1 || n > 100000 || i < 1 || i > n)
        return -EINVAL;
    *shard = (int)i - 1;
    *shards = (int)n;
    return 0;
}

static void sample(np_explore_result *r, const chooser *c, double t0)
{
    np_explore_sample *v = realloc(r->samples, (r->nsamples + 1) * sizeof *v);
    if (!v)
        return;
    r->samples = v;
    r->samples[r->nsamples++] = (np_explore_sample){r->executions, c->abstract.n, now_s() - t0};
}

static int explore_loop(const np_trace *tr, const np_explore_opts *o, np_explore_result *r,
                        chooser *c, bool quiet_samples)
{
    uint64_t limit = o->runs                                           ? o->runs
                     : o->strategy == NP_EXPLORE_DFS || o->seconds > 0 ? UINT64_MAX
                                                                       : 1000;
    if (o->schedule)
        limit = 1;
    double t0 = now_s(), next_progress = t0 + 0.2, last_clock = t0;
    unsigned since_clock = 0, clock_stride = 1;
    uint64_t next_sample = 1;
    for (;;) {
        np_replay_result rr;
        /* a run prints nothing; a failing one is run again to print */
        int st = run_once(tr, o, c, NULL, NULL, &rr);
        r->executions++;
        if (st == 2) {
            snprintf(r->invalid, sizeof r->invalid, "%s", rr.invalid);
            np_replay_result_free(&rr);
            r->status = 2;
            break;
        }
        if (rr.abandoned && !c->foreign)
            r->cut++;

        if (!rr.abandoned && !c->foreign && c->assigned)
            add_class(c, r, &rr, st == 1);
        if (!c->assigned && !rr.abandoned) /* ended before the split: every shard has it */
            add_class(c, r, &rr, st == 1);
        if (st == 1 && c->nd <= 4096 && (!c->have_best || rr.steps < c->best_steps)) {
            c->have_best = true;
            c->best_steps = rr.steps;
            c->nbest = c->nd;
            if (c->nd)
                memcpy(c->best, c->d, c->nd * sizeof *c->d);
        }
        if (st == 1 && r->failing == 0 && rr.nviol) {
            r->first = rr.viol[0];
            snprintf(r->name, sizeof r->name, "%s", np_inv_name(rr.viol[0].kind));
        }
        np_replay_result_free(&rr);
        if (st == 1 && r->failing++ == 0) {
            schedule_string(c->d, c->nd, r->schedule, sizeof r->schedule);
            r->preemptions = c->nd ? c->d[c->nd - 1].pre : 0;
            failure_text(tr, o, c->d, c->nd, r->detail, sizeof r->detail, NULL, NULL, 0);
            r->status = 1;
            if (o->stop_at_first)
                break;
        }
        if (!quiet_samples && r->executions == next_sample) {
            sample(r, c, t0);
            next_sample *= 2;
        }
        if (r->executions >= limit)
            break;
        /* the clock (progress, --seconds): after every 16th execution while
         * 16 take under 10 ms, else after every one */
        if (++since_clock >= clock_stride) {
            double now = now_s();
            clock_stride = now - last_clock < 0.01 ? 16 : 1;
            since_clock = 0;
            last_clock = now;
            if (o->progress && now >= next_progress) {
                np_explore_sample s = {r->executions, c->abstract.n, now - t0};
                o->progress(o->progress_ctx, &s, false);
                next_progress = now + 0.2;
            }
            if (o->seconds > 0 && now - t0 > o->seconds)
                break;
        }
        if (o->strategy != NP_EXPLORE_DFS) {
            c->nd = c->nprefix = 0;
            continue;
        }
        /* dfs: change the deepest choice that has an untried alternative */
        bool found = false;
        while (c->nd > 0) {
            decision *d = &c->d[c->nd - 1];
            int before = c->nd > 1 ? c->d[c->nd - 2].pre : 0;
            int alt;
            node *x = c->sleep ? &c->nodes[c->nd - 1] : NULL;
            if (x)
                c->nsl = x->sl1; /* (the deeper choices' sleep sets go) */
            if (x && x->ids) {
                /* the option just explored sleeps in its siblings' subtrees;
                 * the next is the first awake one in trial order (every
                 * option tried before is asleep now) */
                if (push_sleeper(c, x->id, &x->fp)) {
                    x->asleep |= UINT64_C(1) << (x->id - 1);
                    x->sl1 = (uint32_t)c->nsl;
                }
                alt = -1;
                for (int j = -1; j < d->n && alt < 0; j++) {
                    int i = j < 0 ? d->last : j;
                    if (i >= 0 && i != d->choice && !option_asleep(x, i))
                        alt = i;
                }
                if (alt >= 0)
                    x->id = option_id(x, alt);
            } else {
                alt = next_alternative(d, o->preemptions, before);
                if (alt >= 0 && x)
                    x->id = option_id(x, alt);
            }
            if (alt >= 0) {
                d->choice = alt;
                c->nprefix = c->nd;
                found = true;
                break;
            }
            c->nd--;
        }
        if (!found) {
            r->exhausted = !o->schedule;
            break;
        }
    }
    if (!quiet_samples && (!r->nsamples || r->samples[r->nsamples - 1].executions != r->executions))
        sample(r, c, t0);
    return r->status;
}

/* ---- minimization -------------------------------------------------------------------- */

/* dfs within `bound` preemptions on tr, with caching, until the first
 * violation named `name` or the deadline; then, for `extra` more runs, the
 * failing run with the fewest steps. 1 if found (best in *c). */
static int search(const np_trace *tr, const np_explore_opts *o, const char *name, int bound,
                  double deadline, uint64_t extra, chooser *c, np_explore_result *r)
{
    np_explore_opts so = *o;
    so.strategy = NP_EXPLORE_DFS;
    so.preemptions = bound;
    so.no_cache = false;
    so.schedule = NULL;
    so.stop_at_first = extra == 0;
    so.shards = 0;
    so.progress = NULL;
    so.runs = 0;
    so.seconds = deadline - now_s();
    *c = (chooser){.o = &so, .strategy = NP_EXPLORE_DFS, .cache = true};
    memset(r, 0, sizeof *r);
    if (so.seconds <= 0) { /* (c and r are freed by the caller: set first) */
        c->o = o;
        return 0;
    }
    /* with extra runs: stop_at_first off, but bounded by runs */
    if (extra)
        so.runs = extra;
    explore_loop(tr, &so, r, c, true);
    c->o = o;
    return r->failing > 0 && !strcmp(r->name, name);
}

static void free_classes(np_explore_result *r)
{
    for (size_t i = 0; i < r->nclasses; i++)
        free(r->classes[i].text);
    free(r->classes);
    free(r->samples);
    r->classes = NULL;
    r->samples = NULL;
    r->nclasses = r->nsamples = 0;
}

static bool fails(const np_trace *tr, const np_explore_opts *o, const char *name, int bound,
                  double deadline)
{
    chooser c;
    np_explore_result r;
    int found = search(tr, o, name, bound, deadline, 0, &c, &r);
    chooser_free(&c);
    free_classes(&r);
    return found;
}

/* tr without event i, if that is still a valid trace (emitted and parsed
 * again: the parser enforces every rule). */
static bool without(const np_trace *tr, size_t i, np_trace *out)
{
    np_trace t = {0};
    for (size_t k = 0; k < tr->n; k++)
        if (k != i && np_trace_append(&t, &tr->ev[k]) != 0) {
            np_trace_free(&t);
            return false;
        }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bool ok = f && np_trace_emit(&t, f) == 0;
    if (f)
        fclose(f);
    np_trace_free(&t);
    ok = ok && np_trace_parse_buf("minimized", buf, len, out, NULL, 0) == 0;
    free(buf);
    return ok;
}

static void minimize(const np_trace *tr, const np_explore_opts *o, np_explore_result *r)
{
    double deadline = now_s() + (o->minimize_seconds > 0 ? o->minimize_seconds : 10);
    int bound = r->preemptions;
    /* 1. the trace: outcome lines dropped, then each stimulus that is not
     * needed for the same violation within the same preemptions */
    np_trace cur = {0};
    for (size_t k = 0; k < tr->n; k++)
        if (tr->ev[k].kind != NP_TR_WAKE && tr->ev[k].kind != NP_TR_PARK)
            np_trace_append(&cur, &tr->ev[k]);
    if (!fails(&cur, o, r->name, bound, deadline)) { /* it needed the outcomes (unlikely) */
        np_trace_free(&cur);
        for (size_t k = 0; k < tr->n; k++)
            np_trace_append(&cur, &tr->ev[k]);
    }
    for (size_t i = cur.n; i-- > 0 && now_s() < deadline;) {
        np_trace cand;
        if (cur.ev[i].kind == NP_TR_OPEN || !without(&cur, i, &cand))
            continue;
        if (fails(&cand, o, r->name, bound, deadline)) {
            np_trace_free(&cur);
            cur = cand;
        } else {
            np_trace_free(&cand);
        }
    }
    /* 2. the schedule: the fewest preemptions, then the fewest steps */
    chooser c = {0};
    np_explore_result sr = {0};
    bool found = false;
    for (int b = 0; b <= bound && !found; b++) {
        chooser_free(&c);
        free_classes(&sr);
        found = search(&cur, o, r->name, b, deadline, 0, &c, &sr);
        if (found) {
            r->min_preemptions = b;
            chooser_free(&c);
            free_classes(&sr);
            search(&cur, o, r->name, b, deadline + 1, 2000, &c, &sr);
        }
    }
    if (found && c.have_best) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            np_trace_emit(&cur, f);
            fclose(f);
        }
        r->min_trace = buf;
        schedule_string(c.best, c.nbest, r->min_schedule, sizeof r->min_schedule);
        r->min_steps = c.best_steps;
        char detail[1024];
        failure_text(&cur, o, c.best, c.nbest, detail, sizeof detail, &r->listing, r->race,
                     sizeof r->race);
        r->minimized = true;
    }
    chooser_free(&c);
    free_classes(&sr);
    np_trace_free(&cur);
}

/* ---- entry points ------------------------------------------------------------------------ */

/* After the run of a --schedule: a choice beyond the options the run had at
 * that point, or choices left when the run ended, make the schedule invalid
 * (status 2), not a run that happened (it did not, as given). */
static void check_schedule(const chooser *c, const char *s, np_explore_result *r)
{
    for (size_t k = 0; k < c->nprefix && k < c->depth; k++)
        if (c->d[k].choice >= c->d[k].n) {
            snprintf(r->invalid, sizeof r->invalid,
                     "schedule '%.200s': choice %zu is %d, but the run had %d option%s there "
                     "(0 to %d)",
                     s, k + 1, c->d[k].choice, c->d[k].n, c->d[k].n == 1 ? "" : "s", c->d[k].n - 1);
            r->status = 2;
            return;
        }
    if (c->depth < c->nprefix) {
        snprintf(r->invalid, sizeof r->invalid,
                 "schedule '%.200s': %zu choices, but the run ended after %zu", s, c->nprefix,
                 c->depth);
        r->status = 2;
    }
}

/* Where shards split: a probe run of the default schedule; the time step
 * with the most choices, at a quarter of them. */
static int probe_choose(void *ctx, const np_choice *ch)
{
    size_t *count = ctx; /* per trace index, up to 4096 */
    if (ch->pos < 4096)
        count[ch->pos]++;
    return ch->last >= 0 ? ch->last : 0;
}

static void find_split(const np_trace *tr, const np_explore_opts *o, chooser *c)
{
    size_t *count = calloc(4096, sizeof *count);
    c->split_pos = 0;
    if (!count)
        return;
    np_replay_opts ro = {.design = o->design,
                         .ignore_divergences = true,
                         .late_timers = o->late_timers,
                         .poller_faults = o->poller_faults,
                         .poller_seed = o->poller_seed,
                         .choose = probe_choose,
                         .choose_ctx = count};
    np_replay_result rr;
    np_replay(tr, &ro, &rr);
    np_replay_result_free(&rr);
    for (size_t i = 0; i < 4096; i++)
        if (count[i] > count[c->split_pos])
            c->split_pos = i;
    free(count);
}

int np_explore(const np_trace *tr, const np_explore_opts *o, np_explore_result *r)
{
    memset(r, 0, sizeof *r);
    chooser *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(r->invalid, sizeof r->invalid, "out of memory");
        return r->status = 2;
    }
    *c = (chooser){.o = o,
                   .strategy = o->strategy,
                   /* the simulated poller's queue and fault stream are not in
                      the state hash: no caching under poller faults */
                   .cache = o->strategy == NP_EXPLORE_DFS && !o->no_cache && !o->schedule &&
                            !o->poller_faults,
                   .sleep = o->strategy == NP_EXPLORE_DFS && !o->no_cache && !o->schedule &&
                            !o->poller_faults && !o->no_sleep && o->preemptions < 0,
                   .rng = np__mix(o->seed, (uint64_t)o->shard) | 1};
    if (o->schedule) {
        if (parse_schedule(c, o->schedule) != 0) {
            snprintf(r->invalid, sizeof r->invalid, "bad schedule string '%s'", o->schedule);
            chooser_free(c);
            free(c);
            return r->status = 2;
        }
        c->nprefix = c->nd;
    }
    np_explore_opts lo = *o;
    if (o->strategy != NP_EXPLORE_DFS && o->shards > 1 && o->runs) /* split the runs */
        lo.runs = (o->runs + (uint64_t)(o->shards - 1 - o->shard)) / (uint64_t)o->shards;
    if (o->strategy != NP_EXPLORE_DFS)
        lo.shards = 0, c->o = &lo; /* pct/random shards differ by seed alone */
    else
        c->o = &lo;
    if (o->strategy == NP_EXPLORE_DFS && o->shards > 1 && !o->schedule)
        find_split(tr, o, c);
    explore_loop(tr, &lo, r, c, false);
    if (o->schedule && r->status != 2) /* every choice must be one the run had */
        check_schedule(c, o->schedule, r);
    r->states = c->visited.n;
    r->race_pairs = c->both;
    r->race_pairs_one_order = c->one;
    r->abstract = c->abs;
    r->nabstract = c->nabs;
    c->abs = NULL;
    if (o->progress) {
        np_explore_sample s = {r->executions, c->abstract.n,
                               r->nsamples ? r->samples[r->nsamples - 1].seconds : 0};
        o->progress(o->progress_ctx, &s, true);
    }
    chooser_free(c);
    free(c);
    if (r->status == 1 && o->schedule) { /* the listing of exactly this schedule */
        chooser tmp = {0};
        parse_schedule(&tmp, o->schedule);
        char detail[1024];
        failure_text(tr, o, tmp.d, tmp.nd, detail, sizeof detail, &r->listing, r->race,
                     sizeof r->race);
        chooser_free(&tmp);
    } else if (r->status == 1 && o->minimize) {
        minimize(tr, o, r);
    }
    return r->status;
}

void np_explore_result_free(np_explore_result *r)
{
    free_classes(r);
    free(r->abstract);
    free(r->min_trace);
    free(r->listing);
    r->abstract = NULL;
    r->min_trace = r->listing = NULL;
}

int np_explore_jitter(const np_trace *tr, int64_t ns, np_trace *out)
{
    memset(out, 0, sizeof *out);
    int64_t first = -1;
    for (size_t i = 0; i < tr->n; i++) {
        np_tr_event e = tr->ev[i];
        if (first < 0 || e.t >= first + ns)
            first = e.t;
        e.t = first;
        if (np_trace_append(out, &e) != 0) {
            np_trace_free(out);
            return -ENOMEM;
        }
    }
    if (tr->name && !(out->name = strdup(tr->name))) {
        np_trace_free(out);
        return -ENOMEM;
    }
    return 0;
}
