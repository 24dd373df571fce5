/* backend_sim/explore.c - exploring the interleavings of a trace's races
 * (netpoll/explore.h) on top of the replay engine's explore mode.
 *
 * dfs: depth first over the tree of choices, by re-execution (a run is a
 * pure function of the trace, the design and the choices): after each run
 * the deepest choice with an untried alternative is changed and everything
 * after it is left to the default (keep running the task that ran last).
 * The alternatives at a choice are tried in the order: the last task (no
 * preemption) first, then the others by creation; a run may contain at
 * most `preemptions` switches away from a task that could have continued.
 * random: every choice uniformly at random, seeded.
 */
#include "netpoll/explore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netpoll/replay.h"

typedef struct {
    int choice; /* taken */
    int n;      /* options */
    int last;   /* index of the task that ran last, -1 if it cannot continue */
    int pre;    /* preemptions up to and including this choice */
} decision;

typedef struct {
    decision *d;
    size_t nd, cap;
    size_t depth;   /* choices made in the current run */
    size_t nprefix; /* choices forced from d[] */
    int strategy;
    uint64_t rng;
    bool bad; /* the forced schedule did not fit this run */
} chooser;

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int choose(void *ctx, size_t n, int last)
{
    chooser *c = ctx;
    size_t k = c->depth++;
    int pick;
    if (k < c->nprefix) {
        pick = c->d[k].choice;
        if (pick < 0 || (size_t)pick >= n) {
            c->bad = true;
            pick = 0;
        }
        c->d[k].n = (int)n;
        c->d[k].last = last;
    } else {
        pick = c->strategy == NP_EXPLORE_RANDOM ? (int)(xorshift(&c->rng) % n)
                                                : (last >= 0 ? last : 0);
        if (c->nd == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            decision *v = realloc(c->d, cap * sizeof *v);
            if (!v) {
                c->bad = true;
                return pick;
            }
            c->d = v;
            c->cap = cap;
        }
        c->d[c->nd++] = (decision){pick, (int)n, last, 0};
    }
    int before = k > 0 ? c->d[k - 1].pre : 0;
    c->d[k].pre = before + (last >= 0 && pick != last);
    return pick;
}

static void schedule_string(const chooser *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < c->nd && used + 12 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? ".%d" : "%d", c->d[i].choice);
}

static int parse_schedule(chooser *c, const char *s)
{
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 1000000)
            return -EINVAL;
        if (c->nd == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            decision *d = realloc(c->d, cap * sizeof *d);
            if (!d)
                return -ENOMEM;
            c->d = d;
            c->cap = cap;
        }
        c->d[c->nd++] = (decision){(int)v, 0, -1, 0};
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

/* One execution under the chooser: 0, 1 (violation) or 2 (invalid). */
static int run_once(const np_trace *tr, const np_explore_opts *o, chooser *c, FILE *out,
                    np_replay_result *r)
{
    c->depth = 0;
    c->bad = false;
    np_replay_opts ro = {.design = o->design,
                         .out = out,
                         .ignore_divergences = true,
                         .choose = choose,
                         .choose_ctx = c};
    int st = np_replay(tr, &ro, r);
    return st;
}

int np_explore(const np_trace *tr, const np_explore_opts *o, np_explore_result *r)
{
    memset(r, 0, sizeof *r);
    chooser c = {.strategy = o->strategy, .rng = o->seed * 0x9E3779B97F4A7C15u | 1};
    uint64_t limit = o->runs ? o->runs : o->strategy == NP_EXPLORE_RANDOM ? 1000 : UINT64_MAX;
    double t0 = now_s();
    if (o->schedule) {
        if (parse_schedule(&c, o->schedule) != 0) {
            snprintf(r->invalid, sizeof r->invalid, "bad schedule string '%s'", o->schedule);
            free(c.d);
            return r->status = 2;
        }
        c.nprefix = c.nd;
        limit = 1;
    }
    for (;;) {
        np_replay_result rr;
        /* a run prints nothing; a failing one is run again below to print */
        int st = run_once(tr, o, &c, NULL, &rr);
        r->executions++;
        if (st == 2) {
            snprintf(r->invalid, sizeof r->invalid, "%s", rr.invalid);
            np_replay_result_free(&rr);
            r->status = 2;
            break;
        }
        np_replay_result_free(&rr);
        if (st == 1 && r->failing++ == 0) {
            schedule_string(&c, r->schedule, sizeof r->schedule);
            r->preemptions = c.nd ? c.d[c.nd - 1].pre : 0;
            /* the lines, from a run of the same schedule */
            char *buf = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&buf, &len);
            chooser again = {.d = c.d, .nd = c.nd, .cap = c.cap, .nprefix = c.nd};
            run_once(tr, o, &again, mem, &rr);
            np_replay_result_free(&rr);
            if (mem)
                fclose(mem);
            if (buf) {
                char *nl = strchr(buf, '\n');
                if (nl)
                    *nl = 0;
                snprintf(r->detail, sizeof r->detail, "%s", buf);
            }
            free(buf);
            r->status = 1;
            if (o->stop_at_first)
                break;
        }
        if (r->executions >= limit || (o->seconds > 0 && now_s() - t0 > o->seconds))
            break;
        if (o->strategy == NP_EXPLORE_RANDOM) {
            c.nd = c.nprefix = 0;
            continue;
        }
        /* dfs: change the deepest choice that has an untried alternative */
        bool found = false;
        while (c.nd > 0) {
            decision *d = &c.d[c.nd - 1];
            int before = c.nd > 1 ? c.d[c.nd - 2].pre : 0;
            int alt = next_alternative(d, o->preemptions, before);
            if (alt >= 0) {
                d->choice = alt;
                c.nprefix = c.nd;
                found = true;
                break;
            }
            c.nd--;
        }
        if (!found) {
            r->exhausted = true;
            break;
        }
    }
    free(c.d);
    return r->status;
}
