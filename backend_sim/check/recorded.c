/* backend_sim/check/recorded.c - an explored run, recorded (np_replay_opts.record).
 *
 * The live runtime records itself through a second composition of the
 * wait (core/poll_desc.c: wait_recorded, the recorded branches of block,
 * block_commit and wait_err) and through the recorder's sections
 * (core/record.c), which hold a pollDesc's recording lock across the steps
 * where an operation takes effect. Explored with recording on, those paths
 * run instead of the unrecorded ones, every step of theirs a scheduling
 * point, and the run is judged twice: its outcomes by the usual invariants
 * and the oracle (the recorded wait must behave as the unrecorded one), and
 * at its end the recording itself, against what the run did:
 *
 *   every task's waits and resets are in the recording, in its order, each
 *   with its descriptor, mode, result and the number of times the task
 *   committed to sleep in it (a `park` line each); a wait the run left
 *   blocked is recorded with no wake.
 *
 * Tasks and slots are numbered by the recorder in order of first
 * appearance, which need not be the trace's: tasks are matched as a
 * multiset of their sequences, slots by the descriptor of their `open`.
 * The stimuli's own lines (open, deadline, ready, unblock, close, fire)
 * are not judged here: the recorder writes them in the step that takes
 * effect, which the run does not observe separately.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../replay/replay_int.h"
#include "netpoll/record.h"

/* RESULT_PENDING: a wait still blocked when the run ended. */
#define RES_PENDING 63

uint32_t np__rp_rec_token(bool wait, int fd, int mode, unsigned parks, int res)
{
    unsigned m = mode == NP_MODE_R ? 1 : mode == NP_MODE_W ? 2 : 3;
    if (parks > 255)
        parks = 255;
    unsigned r = res == RES_PENDING ? RES_PENDING : (unsigned)(res + 16) & 63;
    return (uint32_t)wait << 31 | (uint32_t)(fd & 0x7fff) << 16 | parks << 8 | r << 2 | m;
}

static void push(replay *rp, actor *a, uint32_t tok)
{
    if (a->nsig == a->capsig) {
        size_t cap = a->capsig ? 2 * a->capsig : 8;
        uint32_t *v = np__rp_ar_alloc(cap * sizeof *v);
        if (!v) {
            rp->oom = true;
            return;
        }
        if (a->nsig)
            memcpy(v, a->sig, a->nsig * sizeof *v);
        a->sig = v;
        a->capsig = cap;
    }
    a->sig[a->nsig++] = tok;
}

void np__rp_rec_note(replay *rp, actor *a, bool wait, int res)
{
    unsigned parks = wait ? (unsigned)(np_task_parks(a->task) - a->op_parks) : 0;
    push(rp, a, np__rp_rec_token(wait, a->pd ? a->pd->fd : 0, a->mode, parks, res));
}

void np__rp_rec_start(replay *rp)
{
    static bool reserved;
    if (!reserved) /* chunks kept across runs: a run takes one or two a task */
        reserved = np_record_reserve((size_t)32 << 20) == 0 || true;
    if (np_record_start() == -EBUSY) { /* (a run that ended at a crash) */
        np_trace old = {0};
        (void)np_record_stop(&old);
        np_trace_free(&old);
        (void)np_record_start();
    }
    np__rec_sim_hist = 0;
    for (size_t i = 0; i < rp->nactors; i++)
        rp->actors[i]->nsig = 0;
}

/* One task's sequence, for sorting and messages. */
typedef struct {
    const uint32_t *tok;
    size_t n;
    int32_t g; /* the trace's or the recording's task number */
} seq;

static int seq_cmp(const void *x, const void *y)
{
    const seq *a = x, *b = y;
    for (size_t i = 0; i < a->n && i < b->n; i++)
        if (a->tok[i] != b->tok[i])
            return a->tok[i] < b->tok[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

static void describe(const seq *s, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->n && o + 48 < len; i++) {
        uint32_t t = s->tok[i];
        unsigned m = t & 3, r = t >> 2 & 63, parks = t >> 8 & 255, fd = t >> 16 & 0x7fff;
        const char *mode = m == 1 ? "r" : m == 2 ? "w" : "rw";
        const char *res = r == RES_PENDING ? "(still blocked)" : np_poll_result_name((int)r - 16);
        if (t >> 31)
            o += (size_t)snprintf(buf + o, len - o, "%swait fd=%u %s, %u park%s, %s", i ? "; " : "",
                                  fd, mode, parks, parks == 1 ? "" : "s", res);
        else
            o += (size_t)snprintf(buf + o, len - o, "%sreset fd=%u %s: %s", i ? "; " : "", fd, mode,
                                  res);
    }
    if (!s->n)
        snprintf(buf, len, "nothing");
}

static void report(replay *rp, int32_t g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(replay *rp, int32_t g, const char *fmt, ...)
{
    np_violation v = {.kind = NP_INV_RECORDING, .g = g, .t = now_t(rp)};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    va_end(ap);
    np__rp_report(rp, &v);
}

void np__rp_rec_stop(replay *rp, bool judge)
{
    np_trace rec = {0};
    int err = np_record_stop(&rec);
    if (!judge) {
        np_trace_free(&rec);
        return;
    }
    if (err) {
        report(rp, 0, "the recording failed: %s", strerror(-err));
        return;
    }
    /* blocked waits: a token without a wake */
    for (size_t i = 0; i < rp->nactors; i++) {
        actor *a = rp->actors[i];
        if (a->in_op)
            push(rp, a,
                 np__rp_rec_token(true, a->pd ? a->pd->fd : 0, a->mode,
                                  a->task ? (unsigned)(np_task_parks(a->task) - a->op_parks) : 0,
                                  RES_PENDING));
    }
    /* the recording's tasks: wait [park...] wake, reset */
    int32_t fd_of[64] = {0};
    int32_t maxg = 0;
    for (size_t i = 0; i < rec.n; i++) {
        const np_tr_event *e = &rec.ev[i];
        if (e->kind == NP_TR_OPEN && e->pd > 0 && e->pd < 64)
            fd_of[e->pd] = e->fd;
        if (e->g > maxg)
            maxg = e->g;
    }
    size_t ng = (size_t)maxg + 1;
    uint32_t **tok = calloc(ng, sizeof *tok);
    size_t *ntok = calloc(ng, sizeof *ntok);
    size_t *open_wait = calloc(ng, sizeof *open_wait); /* 1 + index of its unfinished wait */
    seq *rs = calloc(ng, sizeof *rs), *os = calloc(rp->nactors + 1, sizeof *os);
    if (!tok || !ntok || !open_wait || !rs || !os) {
        rp->oom = true;
        goto out;
    }
    for (size_t i = 0; i < rec.n; i++) {
        const np_tr_event *e = &rec.ev[i];
        if (e->g <= 0 || (e->kind != NP_TR_WAIT && e->kind != NP_TR_WAKE && e->kind != NP_TR_PARK &&
                          e->kind != NP_TR_RESET))
            continue;
        int fd = e->pd > 0 && e->pd < 64 ? fd_of[e->pd] : 0;
        size_t g = (size_t)e->g;
        if (e->kind == NP_TR_WAIT || e->kind == NP_TR_RESET) {
            uint32_t *v = realloc(tok[g], (ntok[g] + 1) * sizeof *v);
            if (!v) {
                rp->oom = true;
                goto out;
            }
            tok[g] = v;
            bool w = e->kind == NP_TR_WAIT;
            v[ntok[g]++] = np__rp_rec_token(w, fd, e->mode, 0, w ? RES_PENDING : e->res);
            open_wait[g] = w ? ntok[g] : 0;
            continue;
        }
        if (!open_wait[g]) { /* a park or wake with no wait before it */
            char what[96];
            snprintf(what, sizeof what, "%s of g=%d pd=%d mode=%s at t=%lld",
                     np_tr_kind_name(e->kind), e->g, e->pd, mode_str(e->mode), (long long)e->t);
            report(rp, e->g, "the recording has a %s with no wait of that task before it", what);
            goto out;
        }
        uint32_t *t = &tok[g][open_wait[g] - 1];
        if (e->kind == NP_TR_PARK) {
            if ((*t >> 8 & 255) < 255)
                *t += 1u << 8;
        } else {
            *t = (*t & ~(63u << 2)) | ((unsigned)(e->res + 16) & 63) << 2;
            open_wait[g] = 0;
        }
    }
    size_t nr = 0, no = 0;
    for (size_t g = 1; g < ng; g++)
        if (ntok[g])
            rs[nr++] = (seq){tok[g], ntok[g], (int32_t)g};
    for (size_t i = 0; i < rp->nactors; i++)
        if (rp->actors[i]->nsig)
            os[no++] = (seq){rp->actors[i]->sig, rp->actors[i]->nsig, rp->actors[i]->g};
    qsort(rs, nr, sizeof *rs, seq_cmp);
    qsort(os, no, sizeof *os, seq_cmp);
    /* the first sequence one side has and the other not */
    size_t i = 0, k = 0;
    while (i < no && k < nr && seq_cmp(&os[i], &rs[k]) == 0)
        i++, k++;
    if (i == no && k == nr)
        goto out;
    char ran[200], recd[200];
    if (i < no && (k >= nr || seq_cmp(&os[i], &rs[k]) < 0)) {
        /* a task's run that no recorded task matches (and the nearest recorded one) */
        describe(&os[i], ran, sizeof ran);
        if (k < nr)
            describe(&rs[k], recd, sizeof recd);
        else
            snprintf(recd, sizeof recd, "none left");
        report(rp, os[i].g, "g=%d ran [%s], which no recorded task has (recorded instead: [%s])",
               os[i].g, ran, recd);
    } else {
        describe(&rs[k], recd, sizeof recd);
        report(rp, 0, "the recording's task %d has [%s], which no task ran", rs[k].g, recd);
    }
out:
    if (tok)
        for (size_t g = 0; g < ng; g++)
            free(tok[g]);
    free(tok);
    free(ntok);
    free(open_wait);
    free(rs);
    free(os);
    np_trace_free(&rec);
}
