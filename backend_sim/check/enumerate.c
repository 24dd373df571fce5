/* backend_sim/check/enumerate.c - every distinct scenario up to K stimuli
 * (enumerate.h has the alphabet and the reductions). */
#include "enumerate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mix.h"
#include "netpoll/poll.h"

enum { L_OPEN, L_DEADLINE, L_READY, L_RESET, L_WAIT, L_UNBLOCK, L_CLOSE, L_RECYCLE, L_STALE };

#define MAXLEN 16

typedef struct {
    int kind, slot, mode, atc, err; /* atc: the deadline's value, 0..5 (enumerate.h) */
} letter;

typedef struct {
    int inc;          /* incarnations opened so far (0: never) */
    bool open;        /* the current incarnation is open */
    bool closing;     /* and unblocked */
    int task[2];      /* its tasks: 0 idle, 1 reset, 2 waited, 3 waited twice (done) */
    int wait_step[2]; /* the step of a task's wait */
    int stale_tag;    /* the newest closed incarnation (0: none) */
    int recycled;     /* 1 + the step in which it was recycled (0: never) */
} slotst;

typedef struct {
    const np_enum_opts *o;
    np_enum_fn fn;
    void *ctx;
    long count;
    bool stop, oom;
    letter seq[MAXLEN];
    int step[MAXLEN];
    int n;
    /* canonical texts seen (reduce): open addressing on their hashes */
    uint64_t *seen;
    size_t cap, nseen;
} gen;

static int code(const letter *l)
{
    return ((l->kind * 4 + l->slot) * 4 + l->mode) * 16 + l->atc * 2 + l->err;
}

/* ---- one scenario's text ---------------------------------------------------------------- */

typedef struct {
    int64_t t;
    int kind, slot, mode, err;
    int64_t at, tag;
    int task; /* slot * 1000 + incarnation * 2 + dir, for naming */
    int fd;
} ev;

static int cmp_ev(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    if (x->slot != y->slot)
        return x->slot - y->slot;
    if (x->mode != y->mode)
        return x->mode - y->mode;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->err != y->err)
        return x->err - y->err;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *mname(int m)
{
    return m == NP_MODE_R ? "r" : m == NP_MODE_W ? "w" : "rw";
}

/* The events of the current sequence, replayed over the slots' states for
 * incarnations and tags. */
static int build(const gen *g, ev *out)
{
    int ne = 0, inc[2] = {1, 0}, closed_tag[2] = {0, 0};
    out[ne++] = (ev){0, L_OPEN, 0, 0, 0, 0, 0, 0, 3};
    for (int i = 0; i < g->n; i++) {
        const letter *l = &g->seq[i];
        int64_t T = 100 * (int64_t)(g->step[i] + 1);
        static const int64_t off[] = {0, -50, 0, 50, 100, 200};
        ev e = {T, l->kind, l->slot, l->mode, l->err, 0, -1, 0, 0};
        int s = l->slot;
        switch (l->kind) {
        case L_OPEN:
            inc[s]++;
            e.fd = 3 + s;
            break;
        case L_DEADLINE:
            e.at = l->atc == 0 ? 0 : T + off[l->atc];
            break;
        case L_STALE:
            e.tag = closed_tag[s];
            break;
        case L_RESET:
        case L_WAIT:
            e.task = s * 1000 + inc[s] * 2 + (l->mode == NP_MODE_W);
            break;
        case L_CLOSE:
            closed_tag[s] = inc[s];
            break;
        case L_RECYCLE:
            closed_tag[s] = inc[s]++;
            e.fd = 3 + s;
            break;
        default:
            break;
        }
        out[ne++] = e;
    }
    return ne;
}

/* Times renamed by rank: 100, 200, ... for the distinct stimulus times and
 * deadline values, in order (0 stays 0). */
static void rename_times(ev *e, int ne)
{
    int64_t v[2 * MAXLEN + 2];
    int nv = 0;
    for (int i = 0; i < ne; i++) {
        if (e[i].t > 0)
            v[nv++] = e[i].t;
        if (e[i].kind == L_DEADLINE && e[i].at > 0)
            v[nv++] = e[i].at;
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_i64);
    int m = 0;
    for (int i = 0; i < nv; i++)
        if (!m || v[m - 1] != v[i])
            v[m++] = v[i];
    for (int i = 0; i < ne; i++) {
        int64_t t = e[i].t, at = e[i].at;
        for (int k = 0; k < m; k++) {
            if (e[i].t == v[k])
                t = 100 * (int64_t)(k + 1);
            if (e[i].kind == L_DEADLINE && e[i].at == v[k] && e[i].at > 0)
                at = 100 * (int64_t)(k + 1);
        }
        e[i].t = t;
        e[i].at = at;
    }
}

static size_t print(const ev *e, int ne, char *buf, size_t len)
{
    int tasks[MAXLEN + 1], nt = 0;
    size_t u = (size_t)snprintf(buf, len, "netpoll-trace 1\n");
    for (int i = 0; i < ne && u < len; i++) {
        long long t = (long long)e[i].t;
        int pd = e[i].slot + 1;
        int g = 0;
        if (e[i].kind == L_RESET || e[i].kind == L_WAIT) {
            for (int k = 0; k < nt && !g; k++)
                if (tasks[k] == e[i].task)
                    g = k + 1;
            if (!g) {
                tasks[nt++] = e[i].task;
                g = nt;
            }
        }
        switch (e[i].kind) {
        case L_OPEN:
            u += (size_t)snprintf(buf + u, len - u, "%lld open pd=%d fd=%d\n", t, pd, e[i].fd);
            break;
        case L_DEADLINE:
            u += (size_t)snprintf(buf + u, len - u, "%lld deadline pd=%d mode=%s at=%lld\n", t, pd,
                                  mname(e[i].mode), (long long)e[i].at);
            break;
        case L_READY:
        case L_STALE:
            u += (size_t)snprintf(buf + u, len - u, "%lld ready pd=%d mode=%s", t, pd,
                                  mname(e[i].mode));
            if (e[i].tag >= 0 && u < len)
                u += (size_t)snprintf(buf + u, len - u, " tag=%lld", (long long)e[i].tag);
            if (e[i].err && u < len)
                u += (size_t)snprintf(buf + u, len - u, " err=1");
            if (u < len)
                u += (size_t)snprintf(buf + u, len - u, "\n");
            break;
        case L_RESET:
        case L_WAIT:
            u += (size_t)snprintf(buf + u, len - u, "%lld %s g=%d pd=%d mode=%s\n", t,
                                  e[i].kind == L_RESET ? "reset" : "wait", g, pd, mname(e[i].mode));
            break;
        case L_UNBLOCK:
            u += (size_t)snprintf(buf + u, len - u, "%lld unblock pd=%d\n", t, pd);
            break;
        case L_CLOSE:
            u += (size_t)snprintf(buf + u, len - u, "%lld close pd=%d\n", t, pd);
            break;
        case L_RECYCLE: /* one actor (spec.h, np_trace_recycle_at) */
            u += (size_t)snprintf(buf + u, len - u,
                                  "%lld unblock pd=%d\n%lld close pd=%d\n%lld open pd=%d fd=%d\n",
                                  t, pd, t, pd, t, pd, e[i].fd);
            break;
        }
    }
    return u;
}

static bool seen_add(gen *g, uint64_t h)
{
    if (!h)
        h = 1;
    if (2 * (g->nseen + 1) > g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 4096;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v) {
            g->oom = true;
            return false;
        }
        for (size_t i = 0; i < g->cap; i++)
            if (g->seen[i])
                for (size_t j = g->seen[i] & (cap - 1);; j = (j + 1) & (cap - 1))
                    if (!v[j]) {
                        v[j] = g->seen[i];
                        break;
                    }
        free(g->seen);
        g->seen = v;
        g->cap = cap;
    }
    for (size_t j = h & (g->cap - 1);; j = (j + 1) & (g->cap - 1)) {
        if (g->seen[j] == h)
            return false;
        if (!g->seen[j]) {
            g->seen[j] = h;
            g->nseen++;
            return true;
        }
    }
}

static uint64_t text_hash(const char *text, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * UINT64_C(1099511628211);
    return h;
}

static void emit(gen *g)
{
    ev e[MAXLEN + 1], c[MAXLEN + 1];
    int ne = build(g, e);
    memcpy(c, e, (size_t)ne * sizeof *e);
    rename_times(c, ne);
    qsort(c + 1, (size_t)ne - 1, sizeof *c, cmp_ev);
    char text[4096];
    uint64_t canon = text_hash(text, print(c, ne, text, sizeof text));
    if (g->o->raw)
        print(e, ne, text, sizeof text);
    else if (!seen_add(g, canon))
        return;
    g->count++;
    if (g->fn(g->ctx, canon, text))
        g->stop = true;
}

/* ---- the generator ------------------------------------------------------------------------ */

static bool valid(const gen *g, const slotst *st, const letter *l, int step)
{
    const slotst *s = &st[l->slot];
    int dir = l->mode == NP_MODE_W;
    /* a recycle shares its step with stale readies of the closed
     * incarnation alone (its actor closes the pollDesc under them) */
    if (s->recycled == step + 1 && l->kind != L_STALE)
        return false;
    switch (l->kind) {
    case L_RECYCLE: {
        for (int i = g->n - 1; i >= 0 && g->step[i] == step; i--)
            if (g->seq[i].slot == l->slot)
                return false; /* nothing else of this slot before it in its step */
        /* open, not closing, and no task of it inside a wait: the close
         * needs nobody parked, and the actor's unblock wakes nobody */
        return s->open && !s->closing && s->task[0] < 2 && s->task[1] < 2;
    }
    case L_OPEN: /* a reopen; or slot 2 once slot 1 closed (it gets slot 1's pollDesc) */
        return !s->open &&
               (s->inc ? g->o->reopen : g->o->slots == 2 && l->slot == 1 && !st[0].open);
    case L_DEADLINE:
    case L_READY:
        return s->open;
    case L_STALE:
        return s->stale_tag > 0;
    case L_RESET:
        return s->open && s->task[dir] == 0;
    case L_WAIT: /* its first; or a second in a later step, with no reset between (as
                    Go's read loop waits again after an EAGAIN): a wait still
                    parked then makes the replay skip it */
        return s->open && (s->task[dir] < 2 || (s->task[dir] == 2 && s->wait_step[dir] < step));
    case L_UNBLOCK:
        return s->open && !s->closing;
    case L_CLOSE:
        return s->open && s->closing;
    }
    return false;
}

static void apply(slotst *st, const letter *l, int step)
{
    slotst *s = &st[l->slot];
    int dir = l->mode == NP_MODE_W;
    switch (l->kind) {
    case L_RECYCLE:
        s->stale_tag = s->inc++;
        s->recycled = step + 1;
        s->closing = false;
        s->task[0] = s->task[1] = 0;
        break;
    case L_OPEN:
        s->inc++;
        s->open = true;
        s->closing = false;
        s->task[0] = s->task[1] = 0;
        break;
    case L_RESET:
        s->task[dir] = 1;
        break;
    case L_WAIT:
        s->task[dir] = s->task[dir] < 2 ? 2 : 3;
        s->wait_step[dir] = step;
        break;
    case L_UNBLOCK:
        s->closing = true;
        break;
    case L_CLOSE:
        s->open = false;
        s->stale_tag = s->inc;
        break;
    default:
        break;
    }
}

/* Every letter, in code order. */
static int alphabet(letter *out)
{
    int n = 0;
    static const int modes[] = {NP_MODE_R, NP_MODE_W, NP_MODE_RW};
    for (int slot = 0; slot < 2; slot++) {
        out[n++] = (letter){L_OPEN, slot, 0, 0, 0};
        for (int m = 0; m < 3; m++)
            for (int atc = 0; atc < 6; atc++)
                out[n++] = (letter){L_DEADLINE, slot, modes[m], atc, 0};
        for (int m = 0; m < 3; m++)
            out[n++] = (letter){L_READY, slot, modes[m], 0, 0};
        out[n++] = (letter){L_READY, slot, NP_MODE_RW, 0, 1};
        out[n++] = (letter){L_STALE, slot, NP_MODE_RW, 0, 0};
        out[n++] = (letter){L_STALE, slot, NP_MODE_RW, 0, 1};
        for (int m = 0; m < 2; m++) {
            out[n++] = (letter){L_RESET, slot, modes[m], 0, 0};
            out[n++] = (letter){L_WAIT, slot, modes[m], 0, 0};
        }
        out[n++] = (letter){L_UNBLOCK, slot, 0, 0, 0};
        out[n++] = (letter){L_CLOSE, slot, 0, 0, 0};
        out[n++] = (letter){L_RECYCLE, slot, 0, 0, 0};
    }
    return n;
}

static int cmp_letter(const void *a, const void *b)
{
    return code(a) - code(b);
}

static letter alpha[128];
static int nalpha;

static void extend(gen *g, const slotst *st, int counted)
{
    if (g->stop || g->oom)
        return;
    if (counted > 0 && g->seq[g->n - 1].kind != L_OPEN)
        emit(g);
    if (counted == g->o->k || g->n == MAXLEN)
        return;
    int cur = g->n ? g->step[g->n - 1] : -1;
    for (int same = 1; same >= 0; same--) {
        if (same && cur < 0)
            continue;
        int stp = same ? cur : cur + 1;
        for (int i = 0; i < nalpha && !g->stop; i++) {
            const letter *l = &alpha[i];
            if (l->slot >= g->o->slots)
                continue;
            /* one canonical order within a step; an open comes first */
            if (same && (l->kind == L_OPEN || code(l) <= code(&g->seq[g->n - 1])))
                continue;
            if (l->slot == 1 && !st[1].inc && l->kind != L_OPEN)
                continue;
            if (!valid(g, st, l, stp))
                continue;
            slotst nx[2] = {st[0], st[1]};
            apply(nx, l, stp);
            g->seq[g->n] = *l;
            g->step[g->n] = stp;
            g->n++;
            extend(g, nx, counted + (l->kind != L_OPEN));
            g->n--;
        }
    }
}

long np_enumerate(const np_enum_opts *o, np_enum_fn fn, void *ctx)
{
    if (!nalpha) {
        nalpha = alphabet(alpha);
        qsort(alpha, (size_t)nalpha, sizeof *alpha, cmp_letter);
    }
    gen g = {.o = o, .fn = fn, .ctx = ctx};
    slotst st[2] = {{.inc = 1, .open = true}, {0}};
    extend(&g, st, 0);
    free(g.seen);
    return g.oom ? -1 : g.count;
}
