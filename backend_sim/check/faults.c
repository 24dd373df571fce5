/* backend_sim/check/faults.c - fault injection into a trace's stimuli. */
#include "netpoll/faults.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} names[] = {
    {"spurious", NP_FAULT_SPURIOUS}, {"errevent", NP_FAULT_ERREVENT},
    {"late", NP_FAULT_LATE},         {"dup", NP_FAULT_DUP},
    {"reuse", NP_FAULT_REUSE},       {"timers", NP_FAULT_TIMERS},
    {"eintr", NP_FAULT_EINTR},       {"lostbreak", NP_FAULT_LOSTBREAK},
    {"dupbreak", NP_FAULT_DUPBREAK},
};

unsigned np_faults_parse(const char *list, const char **bad)
{
    unsigned mask = 0;
    const char *p = list;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        if (n == 3 && !strncmp(p, "all", 3))
            bit = NP_FAULT_ALL;
        for (size_t i = 0; !bit && i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n))
                bit = names[i].bit;
        if (!bit) {
            *bad = p;
            return 0;
        }
        mask |= bit;
        p += n;
        if (*p == ',')
            p++;
    }
    return mask;
}

/* An event with its place: sorted by (t, key) - originals at even keys,
 * injected ones just after the original they follow. */
typedef struct {
    np_tr_event ev;
    uint64_t key;
} placed;

typedef struct {
    placed *v;
    size_t n, cap;
} list;

static bool add(list *l, const np_tr_event *ev, uint64_t key)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        placed *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].ev = *ev;
    l->v[l->n].ev.line = 0;
    l->v[l->n].key = key;
    l->n++;
    return true;
}

static int by_place(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->ev.t != y->ev.t)
        return x->ev.t < y->ev.t ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Per slot, while scanning: open? current incarnation? */
typedef struct {
    int32_t id;
    bool open;
    int inc;
} slot_state;

int np_faults_apply(const np_trace *in, unsigned classes, uint64_t seed, np_trace *out)
{
    memset(out, 0, sizeof *out);
    uint64_t s = seed * 0x9E3779B97F4A7C15u | 1;
    list l = {0};
    slot_state *slots = NULL;
    size_t nslots = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < in->n; i++) {
        const np_tr_event *e = &in->ev[i];
        if (e->kind == NP_TR_WAKE || e->kind == NP_TR_PARK)
            continue; /* recorded outcomes no longer apply */
        uint64_t key = 4 * (uint64_t)i;
        slot_state *st = NULL;
        for (size_t k = 0; k < nslots; k++)
            if (slots[k].id == e->pd)
                st = &slots[k];
        if (!st) {
            slot_state *v = realloc(slots, (nslots + 1) * sizeof *v);
            if (!v) {
                ok = false;
                break;
            }
            slots = v;
            st = &slots[nslots++];
            *st = (slot_state){e->pd, false, 0};
        }
        if (e->kind == NP_TR_OPEN) {
            st->open = true;
            st->inc++;
        } else if (e->kind == NP_TR_CLOSE) {
            st->open = false;
        }
        bool is_ready = e->kind == NP_TR_READY;
        np_tr_event orig = *e;
        /* late: the event moves a little later, tagged with its incarnation */
        if (is_ready && (classes & NP_FAULT_LATE) && rnd(&s) % 3 == 0) {
            orig.t += (int64_t)(rnd(&s) % 2000) + 1;
            if (orig.tag < 0)
                orig.tag = st->inc;
        }
        ok = ok && add(&l, &orig, key);
        /* dup: delivered twice */
        if (ok && is_ready && (classes & NP_FAULT_DUP) && rnd(&s) % 3 == 0) {
            np_tr_event d = orig;
            if (d.tag < 0)
                d.tag = st->inc;
            d.t += (int64_t)(rnd(&s) % 500);
            ok = add(&l, &d, key + 1);
        }
        /* reuse: right after a reopen, an event of the previous incarnation */
        if (ok && e->kind == NP_TR_OPEN && st->inc > 1 && (classes & NP_FAULT_REUSE)) {
            np_tr_event r = {.t = e->t,
                             .kind = NP_TR_READY,
                             .pd = e->pd,
                             .mode = NP_MODE_RW,
                             .tag = st->inc - 1,
                             .err = (int)(rnd(&s) % 2),
                             .res = -1};
            ok = add(&l, &r, key + 2);
        }
        /* spurious readiness and error-only events on an open slot */
        if (ok && st->open && e->kind != NP_TR_CLOSE) {
            if ((classes & NP_FAULT_SPURIOUS) && rnd(&s) % 4 == 0) {
                int modes[3] = {NP_MODE_R, NP_MODE_W, NP_MODE_RW};
                np_tr_event r = {.t = e->t,
                                 .kind = NP_TR_READY,
                                 .pd = e->pd,
                                 .mode = modes[rnd(&s) % 3],
                                 .tag = -1,
                                 .res = -1};
                ok = add(&l, &r, key + 3);
            }
            if (ok && (classes & NP_FAULT_ERREVENT) && rnd(&s) % 6 == 0) {
                np_tr_event r = {.t = e->t,
                                 .kind = NP_TR_READY,
                                 .pd = e->pd,
                                 .mode = NP_MODE_RW,
                                 .tag = -1,
                                 .err = 1,
                                 .res = -1};
                ok = add(&l, &r, key + 3);
            }
        }
    }
    if (ok) {
        qsort(l.v, l.n, sizeof *l.v, by_place);
        for (size_t i = 0; ok && i < l.n; i++)
            ok = np_trace_append(out, &l.v[i].ev) == 0;
        if (ok && in->name)
            out->name = strdup(in->name);
    }
    free(l.v);
    free(slots);
    if (!ok) {
        np_trace_free(out);
        return -ENOMEM;
    }
    return 0;
}
