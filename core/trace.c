/* backend_sim/trace.c - the trace-file (.npt, version 1) reader and writer.
 *
 * The reader works line by line on an in-memory buffer (a file, pipe or
 * device is handed to it in pieces of whole lines as they are read, up to a
 * size limit). Most lines take a
 * fast path that reads the writer's own layout in one pass; every other line,
 * and every error, goes through the general code. Besides the syntax it
 * keeps, per pollDesc slot, the incarnation count and whether the current
 * incarnation is open, unblocked or closed, which is all the static rules of
 * the contract need. The readings of the contract where it is silent are
 * listed in netpoll/trace.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netpoll/trace.h"

#define TR_HEADER "netpoll-trace 1"

/* A line may be this long at most (its '\n' aside): a writer's line is under
 * 200 bytes; this leaves room for long comments and bounds what a reader
 * holds of a file that is not a trace. */
#define NP_TRACE_MAX_LINE (1024 * 1024)
#define LINE_TOO_LONG     "line longer than 1 MiB (the limit of a trace line)"

/* Keys, as bit numbers in the per-kind masks. */
enum { K_PD, K_G, K_FD, K_MODE, K_AT, K_TAG, K_ERR, K_RES, K_COUNT };

static const char *const key_names[K_COUNT] = {"pd", "g", "fd", "mode", "at", "tag", "err", "res"};

#define B(k) (1u << (k))

/* The contract's tables: required and optional keys, and the order the keys
 * are listed in (the canonical order of the writer). */
static const struct kind_info {
    const char *name;     /* as spelled in traces */
    unsigned req;         /* required keys (bit mask of K_*) */
    unsigned opt;         /* optional keys */
    bool single_dir;      /* mode must be r or w (a pollWait or pollReset) */
    signed char order[5]; /* keys in canonical order, -1 ends */
} kinds[] = {
    [NP_TR_OPEN] = {"open", B(K_PD) | B(K_FD), 0, false, {K_PD, K_FD, -1}},
    [NP_TR_DEADLINE] =
        {"deadline", B(K_PD) | B(K_MODE) | B(K_AT), 0, false, {K_PD, K_MODE, K_AT, -1}},
    [NP_TR_WAIT] = {"wait", B(K_G) | B(K_PD) | B(K_MODE), 0, true, {K_G, K_PD, K_MODE, -1}},
    [NP_TR_RESET] =
        {"reset", B(K_G) | B(K_PD) | B(K_MODE), B(K_RES), true, {K_G, K_PD, K_MODE, K_RES, -1}},
    [NP_TR_READY] = {"ready",
                     B(K_PD) | B(K_MODE),
                     B(K_TAG) | B(K_ERR),
                     false,
                     {K_PD, K_MODE, K_TAG, K_ERR, -1}},
    [NP_TR_UNBLOCK] = {"unblock", B(K_PD), B(K_G), false, {K_PD, K_G, -1}},
    [NP_TR_CLOSE] = {"close", B(K_PD), B(K_G), false, {K_PD, K_G, -1}},
    [NP_TR_WAKE] =
        {"wake", B(K_G) | B(K_PD) | B(K_MODE) | B(K_RES), 0, true, {K_G, K_PD, K_MODE, K_RES, -1}},
    [NP_TR_PARK] = {"park", B(K_G) | B(K_PD) | B(K_MODE), 0, true, {K_G, K_PD, K_MODE, -1}},
    [NP_TR_FIRE] = {"fire", B(K_PD) | B(K_MODE), 0, false, {K_PD, K_MODE, -1}},
};
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

/* Result names, indexed by NP_POLL_* (0..3). */
static const char *const res_names[] = {"ok", "closing", "timeout", "notpollable"};
#define NRES ((int)(sizeof res_names / sizeof res_names[0]))

const char *np_tr_kind_name(np_tr_kind k)
{
    return (int)k >= 0 && (int)k < NKINDS ? kinds[k].name : "?";
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case NP_MODE_R:
        return "r";
    case NP_MODE_W:
        return "w";
    case NP_MODE_RW:
        return "rw";
    default:
        return NULL;
    }
}

/* ---- trace storage ---- */

int np_trace_append(np_trace *tr, const np_tr_event *ev)
{
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 64;
        np_tr_event *p;

        if (cap > SIZE_MAX / sizeof *p)
            return -ENOMEM;
        p = realloc(tr->ev, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        tr->ev = p;
        tr->cap = cap;
    }
    tr->ev[tr->n++] = *ev;
    if (ev->kind == NP_TR_WAKE)
        tr->has_wake = true;
    if (ev->kind == NP_TR_FIRE)
        tr->has_fire = true;
    return 0;
}

void np_trace_free(np_trace *tr)
{
    if (!tr)
        return;
    free(tr->ev);
    free(tr->name);
    memset(tr, 0, sizeof *tr);
}

/* ---- the reader ---- */

typedef struct {
    const char *s; /* first byte */
    size_t n;      /* length */
} tok;

/* Per-slot state of the current incarnation. */
enum { S_OPEN = 1, S_UNBLOCKED, S_CLOSED };

typedef struct {
    int32_t pd;         /* the slot (0: table entry unused) */
    uint8_t state;      /* S_* */
    uint32_t inc;       /* incarnations so far (the current one's number) */
    uint32_t open_line; /* line of the current incarnation's open */
    uint32_t line;      /* line of the last open, unblock or close */
} slot;

typedef struct {
    const char *name; /* for messages */
    char *msg;        /* caller's buffer, may be NULL */
    size_t msglen;    /* its size */
    uint32_t line;    /* current line, 1-based */
    slot *slots;      /* open-addressing table keyed by pd */
    size_t nslots;    /* its size (a power of 2, or 0) */
    size_t used;      /* entries in use */
    bool header;      /* the header line has been read */
    int64_t prev_t;   /* the previous event's time (0 before the first) */
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(parser *p, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (!p->msg || !p->msglen)
        return -1;
    k = snprintf(p->msg, p->msglen, "%s:%" PRIu32 ": ", p->name, p->line);
    if (k >= 0 && (size_t)k < p->msglen) {
        va_start(ap, fmt);
        vsnprintf(p->msg + k, p->msglen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A token for "%.*s": at most 60 bytes of it. */
#define TOKLEN(t) ((int)((t).n > 60 ? 60 : (t).n))
#define TOKFMT    "%.*s%s"
#define TOKARG(t) TOKLEN(t), (t).s, (t).n > 60 ? "..." : ""

static bool tok_is(tok t, const char *s)
{
    size_t n = strlen(s);

    return t.n == n && memcmp(t.s, s, n) == 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Next blank-separated token of [*pos, end); false at the end. */
static bool next_tok(const char **pos, const char *end, tok *t)
{
    const char *s = *pos;

    while (s < end && is_blank(*s))
        s++;
    if (s == end)
        return false;
    t->s = s;
    while (s < end && !is_blank(*s))
        s++;
    t->n = (size_t)(s - t->s);
    *pos = s;
    return true;
}

enum { INT_OK, INT_NOTNUM, INT_RANGE };

/* A decimal integer with an optional '-'; nothing else. */
static int parse_int(const char *s, size_t n, int64_t *out)
{
    bool neg = false;
    uint64_t v = 0, lim;
    size_t i = 0;

    if (n && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n)
        return INT_NOTNUM;
    for (size_t j = i; j < n; j++)
        if (s[j] < '0' || s[j] > '9')
            return INT_NOTNUM;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (v > (lim - d) / 10)
            return INT_RANGE;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return INT_OK;
}

static size_t slot_hash(int32_t pd, size_t mask)
{
    return ((uint32_t)pd * UINT32_C(2654435761)) & mask;
}

/* The slot of pd, NULL if never opened; with `add`, created (NULL on ENOMEM). */
static slot *slot_get(parser *p, int32_t pd, bool add)
{
    size_t mask, i;

    if (add && (p->used + 1) * 2 > p->nslots) {
        size_t n = p->nslots ? p->nslots * 2 : 64;
        slot *t = calloc(n, sizeof *t);

        if (!t)
            return NULL;
        for (size_t j = 0; j < p->nslots; j++) {
            if (!p->slots[j].pd)
                continue;
            i = slot_hash(p->slots[j].pd, n - 1);
            while (t[i].pd)
                i = (i + 1) & (n - 1);
            t[i] = p->slots[j];
        }
        free(p->slots);
        p->slots = t;
        p->nslots = n;
    }
    if (!p->nslots)
        return NULL;
    mask = p->nslots - 1;
    for (i = slot_hash(pd, mask); p->slots[i].pd; i = (i + 1) & mask)
        if (p->slots[i].pd == pd)
            return &p->slots[i];
    if (!add)
        return NULL;
    p->used++;
    p->slots[i].pd = pd;
    return &p->slots[i];
}

/* Parses a value that must be an integer in [lo, hi]. */
static int int_value(parser *p, tok key, tok val, int64_t lo, int64_t hi, const char *what,
                     int64_t *out)
{
    int r = parse_int(val.s, val.n, out);

    if (r == INT_NOTNUM)
        return fail(p, "bad integer '" TOKFMT "=" TOKFMT "': not a decimal number", TOKARG(key),
                    TOKARG(val));
    if (r == INT_OK && *out < lo)
        return fail(p, "%.*s must be %s, not %" PRId64, TOKLEN(key), key.s, what, *out);
    if (r == INT_RANGE || *out > hi)
        return fail(p, "bad integer '" TOKFMT "=" TOKFMT "': out of range", TOKARG(key),
                    TOKARG(val));
    return 0;
}

/* Stores one key=value into ev; `k` is the key's index. */
static int key_value(parser *p, np_tr_event *ev, int k, tok key, tok val)
{
    int64_t v;

    switch (k) {
    case K_PD:
    case K_G:
        if (int_value(p, key, val, 1, INT32_MAX, "positive", &v))
            return -1;
        if (k == K_PD)
            ev->pd = (int32_t)v;
        else
            ev->g = (int32_t)v;
        return 0;
    case K_FD:
        if (int_value(p, key, val, 0, INT32_MAX, ">= 0", &v))
            return -1;
        ev->fd = (int32_t)v;
        return 0;
    case K_AT:
        if (int_value(p, key, val, 0, INT64_MAX, ">= 0", &v))
            return -1;
        ev->at = v;
        return 0;
    case K_TAG:
        if (int_value(p, key, val, 0, INT64_MAX, "a non-negative incarnation number", &v))
            return -1;
        ev->tag = v;
        return 0;
    case K_ERR:
        if (!tok_is(val, "0") && !tok_is(val, "1"))
            return fail(p, "err must be 0 or 1, not '" TOKFMT "'", TOKARG(val));
        ev->err = val.s[0] == '1';
        return 0;
    case K_MODE:
        if (tok_is(val, "r"))
            ev->mode = NP_MODE_R;
        else if (tok_is(val, "w"))
            ev->mode = NP_MODE_W;
        else if (tok_is(val, "rw"))
            ev->mode = NP_MODE_RW;
        else
            return fail(p, "mode must be r, w or rw, not '" TOKFMT "'", TOKARG(val));
        return 0;
    default: /* K_RES */
        for (int i = 0; i < NRES; i++)
            if (tok_is(val, res_names[i])) {
                ev->res = i;
                return 0;
            }
        return fail(p, "res must be ok, closing, timeout or notpollable, not '" TOKFMT "'",
                    TOKARG(val));
    }
}

/* The slot rules (see netpoll/trace.h). */
static int check_slot(parser *p, const np_tr_event *ev)
{
    const char *name = kinds[ev->kind].name;
    slot *s = slot_get(p, ev->pd, false);

    if (ev->kind == NP_TR_OPEN) {
        if (s && s->state != S_CLOSED)
            return fail(p,
                        "open: pd=%" PRId32 " is not free (incarnation %" PRIu32
                        " opened at line %" PRIu32 " is not closed)",
                        ev->pd, s->inc, s->open_line);
        if (!s && !(s = slot_get(p, ev->pd, true)))
            return fail(p, "out of memory");
        if (s->inc == UINT32_MAX)
            return fail(p, "open: pd=%" PRId32 " has too many incarnations", ev->pd);
        s->inc++;
        s->state = S_OPEN;
        s->line = s->open_line = p->line;
        return 0;
    }
    if (!s)
        return fail(p, "%s: pd=%" PRId32 " was never opened", name, ev->pd);
    if (ev->kind == NP_TR_READY && ev->tag >= 0) {
        if (ev->tag == 0)
            return fail(p, "ready: tag=0 names no incarnation (incarnations count from 1)");
        if (ev->tag > (int64_t)s->inc)
            return fail(p,
                        "ready: tag=%" PRId64 " names a future incarnation of pd=%" PRId32
                        " (it has had %" PRIu32 ")",
                        ev->tag, ev->pd, s->inc);
        return 0;
    }
    if (ev->kind == NP_TR_WAKE || ev->kind == NP_TR_PARK || ev->kind == NP_TR_FIRE)
        return 0;
    if (s->state == S_CLOSED)
        return fail(p, "%s: pd=%" PRId32 " is used after its close at line %" PRIu32 "%s", name,
                    ev->pd, s->line,
                    ev->kind == NP_TR_READY ? " (a ready of an older incarnation needs a tag)"
                                            : "");
    if (ev->kind == NP_TR_UNBLOCK) {
        if (s->state == S_UNBLOCKED)
            return fail(p, "unblock: pd=%" PRId32 " was already unblocked at line %" PRIu32, ev->pd,
                        s->line);
        s->state = S_UNBLOCKED;
        s->line = p->line;
    } else if (ev->kind == NP_TR_CLOSE) {
        if (s->state != S_UNBLOCKED)
            return fail(p,
                        "close: pd=%" PRId32 " without a prior unblock (incarnation %" PRIu32
                        " opened at line %" PRIu32 ")",
                        ev->pd, s->inc, s->open_line);
        s->state = S_CLOSED;
        s->line = p->line;
    }
    return 0;
}

/* One event line (comment and line end removed, not blank). */
static int parse_event(parser *p, const char *pos, const char *end, int64_t *prev_t,
                       np_tr_event *ev)
{
    const struct kind_info *ki;
    unsigned seen = 0;
    tok t = {0};
    int r, kind;

    memset(ev, 0, sizeof *ev);
    ev->line = p->line;
    ev->tag = -1;
    ev->res = -1;

    next_tok(&pos, end, &t);
    if (tok_is(t, "netpoll-trace"))
        return fail(p, "duplicate header (the header is only the first line)");
    r = parse_int(t.s, t.n, &ev->t);
    if (r == INT_NOTNUM)
        return fail(p, "time '" TOKFMT "' is not an integer", TOKARG(t));
    if (r == INT_RANGE)
        return fail(p, "time '" TOKFMT "' is out of range", TOKARG(t));
    if (ev->t < 0)
        return fail(p, "negative time %" PRId64, ev->t);
    if (ev->t < *prev_t)
        return fail(p,
                    "time %" PRId64 " is before the previous line's time %" PRId64
                    " (times must not decrease)",
                    ev->t, *prev_t);

    if (!next_tok(&pos, end, &t))
        return fail(p, "missing event after the time");
    for (kind = 0; kind < NKINDS; kind++)
        if (tok_is(t, kinds[kind].name))
            break;
    if (kind == NKINDS)
        return fail(p, "unknown event '" TOKFMT "'", TOKARG(t));
    ev->kind = (np_tr_kind)kind;
    ki = &kinds[kind];

    while (next_tok(&pos, end, &t)) {
        const char *eq = memchr(t.s, '=', t.n);
        tok key, val;
        int k;

        if (!eq)
            return fail(p, "trailing garbage '" TOKFMT "' (expected key=value)", TOKARG(t));
        key = (tok){t.s, (size_t)(eq - t.s)};
        val = (tok){eq + 1, t.n - key.n - 1};
        if (!key.n || !val.n)
            return fail(p, "malformed key=value '" TOKFMT "'", TOKARG(t));
        for (k = 0; k < K_COUNT; k++)
            if (tok_is(key, key_names[k]))
                break;
        if (k == K_COUNT || !((ki->req | ki->opt) & B(k))) {
            char keys[64] = "";

            for (int i = 0; ki->order[i] >= 0; i++) {
                bool opt = ki->opt & B(ki->order[i]);
                size_t l = strlen(keys);

                snprintf(keys + l, sizeof keys - l, "%s%s%s%s", i ? " " : "", opt ? "[" : "",
                         key_names[(int)ki->order[i]], opt ? "]" : "");
            }
            return fail(p, "unknown key '" TOKFMT "' for %s (keys: %s)", TOKARG(key), ki->name,
                        keys);
        }
        if (seen & B(k))
            return fail(p, "duplicate key '%s'", key_names[k]);
        seen |= B(k);
        if (key_value(p, ev, k, key, val))
            return -1;
    }
    for (int i = 0; ki->order[i] >= 0; i++)
        if ((ki->req & B(ki->order[i])) && !(seen & B(ki->order[i])))
            return fail(p, "%s: missing required key '%s'", ki->name, key_names[(int)ki->order[i]]);
    if (ki->single_dir && ev->mode == NP_MODE_RW)
        return fail(p, "%s: mode rw is not allowed (a pollWait/pollReset is r or w)", ki->name);
    if (check_slot(p, ev))
        return -1;
    *prev_t = ev->t;
    return 0;
}

/* The first non-blank line. */
static int check_header(parser *p, const char *pos, const char *end)
{
    tok t = {0};

    if ((size_t)(end - pos) == strlen(TR_HEADER) && !memcmp(pos, TR_HEADER, strlen(TR_HEADER)))
        return 0;
    next_tok(&pos, end, &t);
    if (!tok_is(t, "netpoll-trace"))
        return fail(p,
                    "missing header: the first line must be '" TR_HEADER "', not '" TOKFMT "...'",
                    TOKARG(t));
    if (!next_tok(&pos, end, &t))
        return fail(p, "header without a version (expected '" TR_HEADER "')");
    if (!tok_is(t, "1"))
        return fail(p, "unsupported trace version '" TOKFMT "' (this reader reads version 1)",
                    TOKARG(t));
    if (next_tok(&pos, end, &t))
        return fail(p, "trailing garbage '" TOKFMT "' after the header", TOKARG(t));
    return fail(p, "header must be exactly '" TR_HEADER "' (one space, no leading blanks)");
}

/* ---- the fast path ----
 *
 * Nearly every line of a large trace is one the writer emitted: the time, one
 * space, the event, then ` key=value` per key, nothing else. fast_event reads
 * such a line in one pass over its bytes (the search for its '\n' included),
 * with each kind, key or result name found by its length and then compared at
 * a fixed length, instead of strlen and memcmp against each name in turn. It
 * accepts a line only when every byte is part of a token it understood (so a
 * control character, '\r', '#', a tab, a second blank, a sign or an odd name
 * are all "not this path"), and only when the slow path would have accepted
 * the same syntax with the same values. Anything else it declines without
 * touching the parser state, and the caller hands the line to the slow path
 * (parse_event and the checks before it), which then says exactly what it
 * always said. The slot rules are the slow path's own check_slot, called
 * after a successful fast parse with the same event it would have built. */

/* Digits at [*pos, end): at least one, at most `max` (few enough that the
 * value cannot overflow, so there is no check per digit). false otherwise
 * (the slow path then does the range checks and says what is wrong). */
static inline bool fast_digits(const char **pos, const char *end, int max, uint64_t *out)
{
    const char *s = *pos;
    uint64_t v = 0;

    while (s < end && (unsigned)(*s - '0') < 10) {
        if (s - *pos == max)
            return false;
        v = v * 10 + (unsigned)(*s++ - '0');
    }
    if (s == *pos)
        return false;
    *pos = s;
    *out = v;
    return true;
}

/* 18 digits are below INT64_MAX (~9.2e18); 10 hold any int32 value. */
#define FAST_I64_DIGITS 18
#define FAST_I32_DIGITS 10

/* s starts with the literal `lit`, whose length the caller has matched: a
 * memcmp of constant length, which compilers turn into a load and a compare
 * or two instead of a call. */
#define SAME(s, lit) (memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* The kind spelled by [s, s + n), -1 if none. */
static int fast_kind(const char *s, size_t n)
{
    switch (n) {
    case 4:
        return SAME(s, "wait")   ? NP_TR_WAIT
               : SAME(s, "wake") ? NP_TR_WAKE
               : SAME(s, "open") ? NP_TR_OPEN
               : SAME(s, "park") ? NP_TR_PARK
               : SAME(s, "fire") ? NP_TR_FIRE
                                 : -1;
    case 5:
        return SAME(s, "ready")   ? NP_TR_READY
               : SAME(s, "reset") ? NP_TR_RESET
               : SAME(s, "close") ? NP_TR_CLOSE
                                  : -1;
    case 7:
        return SAME(s, "unblock") ? NP_TR_UNBLOCK : -1;
    case 8:
        return SAME(s, "deadline") ? NP_TR_DEADLINE : -1;
    default:
        return -1;
    }
}

/* The key spelled by [s, s + n), -1 if none. */
static int fast_key(const char *s, size_t n)
{
    switch (n) {
    case 1:
        return s[0] == 'g' ? K_G : -1;
    case 2:
        return SAME(s, "pd") ? K_PD : SAME(s, "fd") ? K_FD : SAME(s, "at") ? K_AT : -1;
    case 3:
        return SAME(s, "res") ? K_RES : SAME(s, "tag") ? K_TAG : SAME(s, "err") ? K_ERR : -1;
    case 4:
        return SAME(s, "mode") ? K_MODE : -1;
    default:
        return -1;
    }
}

/* The result spelled by [s, s + n) (an index of res_names), -1 if none. */
static int fast_res(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return SAME(s, "ok") ? NP_POLL_OK : -1;
    case 7:
        return SAME(s, "closing") ? NP_POLL_CLOSING : SAME(s, "timeout") ? NP_POLL_TIMEOUT : -1;
    case 11:
        return SAME(s, "notpollable") ? NP_POLL_NOTPOLLABLE : -1;
    default:
        return -1;
    }
}

/* The line ends at '\n' or at the end of the buffer. */
#define AT_EOL(s, end) ((s) == (end) || *(s) == '\n')

/* Reads a well-formed event line starting at s into *ev (which it zeroes
 * first) and returns where the line ends (its '\n', or `end` for a last line
 * without one): looking for the '\n' is part of the same pass. NULL if the
 * line is anything else, for the slow path to read. */
static const char *fast_event(const parser *p, const char *s, const char *end, int64_t prev_t,
                              np_tr_event *ev)
{
    const struct kind_info *ki;
    const char *w;
    unsigned seen = 0;
    uint64_t v;
    int kind;

    memset(ev, 0, sizeof *ev);
    ev->line = p->line;
    ev->tag = -1;
    ev->res = -1;

    if (!fast_digits(&s, end, FAST_I64_DIGITS, &v) || s == end || *s != ' ')
        return NULL;
    if ((int64_t)v < prev_t)
        return NULL; /* the slow path's message */
    ev->t = (int64_t)v;
    for (w = ++s; s < end && *s >= 'a' && *s <= 'z'; s++)
        ;
    if ((kind = fast_kind(w, (size_t)(s - w))) < 0)
        return NULL;
    ev->kind = (np_tr_kind)kind;
    ki = &kinds[kind];

    while (!AT_EOL(s, end)) {
        int k;

        if (*s != ' ')
            return NULL;
        for (w = ++s; s < end && *s >= 'a' && *s <= 'z'; s++)
            ;
        if (s == end || *s != '=' || (k = fast_key(w, (size_t)(s - w))) < 0 ||
            !((ki->req | ki->opt) & B(k)) || (seen & B(k)))
            return NULL;
        seen |= B(k);
        s++;
        switch (k) {
        case K_PD:
        case K_G:
            if (!fast_digits(&s, end, FAST_I32_DIGITS, &v) || v < 1 || v > INT32_MAX)
                return NULL;
            if (k == K_PD)
                ev->pd = (int32_t)v;
            else
                ev->g = (int32_t)v;
            break;
        case K_FD:
            if (!fast_digits(&s, end, FAST_I32_DIGITS, &v) || v > INT32_MAX)
                return NULL;
            ev->fd = (int32_t)v;
            break;
        case K_AT:
        case K_TAG:
            if (!fast_digits(&s, end, FAST_I64_DIGITS, &v))
                return NULL;
            if (k == K_AT)
                ev->at = (int64_t)v;
            else
                ev->tag = (int64_t)v;
            break;
        case K_ERR:
            if (s == end || (*s != '0' && *s != '1'))
                return NULL;
            ev->err = *s++ == '1';
            break;
        case K_MODE:
            if (s < end && *s == 'r') {
                s++;
                ev->mode = NP_MODE_R;
                if (s < end && *s == 'w') {
                    s++;
                    ev->mode = NP_MODE_RW;
                }
            } else if (s < end && *s == 'w') {
                s++;
                ev->mode = NP_MODE_W;
            } else {
                return NULL;
            }
            break;
        default: /* K_RES */
            for (w = s; s < end && *s >= 'a' && *s <= 'z'; s++)
                ;
            if ((ev->res = fast_res(w, (size_t)(s - w))) < 0)
                return NULL;
            break;
        }
        /* The value must end the token: "pd=1x" or "mode=rr" are the slow
         * path's errors. */
        if (!AT_EOL(s, end) && *s != ' ')
            return NULL;
    }
    if ((seen & ki->req) != ki->req)
        return NULL;
    if (ki->single_dir && ev->mode == NP_MODE_RW)
        return NULL;
    return s;
}

/* The reader in three steps, so that a file can be read piece by piece:
 * parse_begin, parse_lines on each run of whole lines (the last run may end
 * without a '\n'), parse_end. Each returns -1 with the message written when
 * the input is invalid; parse_abort then frees what was built. */
static int parse_begin(parser *p, const char *name, np_trace *out, char *msg, size_t msglen)
{
    *p = (parser){.name = name ? name : "-", .msg = msg, .msglen = msglen};
    memset(out, 0, sizeof *out);
    if (msg && msglen)
        msg[0] = '\0';
    if (!(out->name = strdup(p->name)))
        return fail(p, "out of memory");
    return 0;
}

static int parse_lines(parser *p, np_trace *out, const char *buf, const char *end)
{
    const char *ls = buf;

    while (ls < end) {
        const char *nl, *le, *hash;
        np_tr_event ev;
        size_t n, full;

        if (p->line == UINT32_MAX)
            return fail(p, "too many lines");
        p->line++;
        if (p->header && (le = fast_event(p, ls, end, p->prev_t, &ev))) {
            if (check_slot(p, &ev))
                return -1;
            p->prev_t = ev.t;
            if (np_trace_append(out, &ev))
                return fail(p, "out of memory");
            ls = le == end ? end : le + 1;
            continue;
        }
        nl = memchr(ls, '\n', (size_t)(end - ls));
        n = full = (size_t)((nl ? nl : end) - ls);
        if (n && ls[n - 1] == '\r')
            n--;
        if ((hash = memchr(ls, '#', n)))
            n = (size_t)(hash - ls);
        le = ls + n;
        for (const char *c = ls; c < le; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return fail(p, "invalid control character 0x%02x", (unsigned char)*c);
        while (le > ls && is_blank(le[-1]))
            le--;
        if (le > ls) {
            if (!p->header) {
                if (check_header(p, ls, le))
                    return -1;
                p->header = true;
            } else if (parse_event(p, ls, le, &p->prev_t, &ev)) {
                return -1;
            } else if (np_trace_append(out, &ev)) {
                return fail(p, "out of memory");
            }
        }
        if (full > NP_TRACE_MAX_LINE) /* last: the line's own problem is named first */
            return fail(p, LINE_TOO_LONG);
        ls = nl ? nl + 1 : end;
    }
    return 0;
}

/* `len`: the input's total length. */
static int parse_end(parser *p, size_t len)
{
    if (len == 0)
        p->line = 1;
    if (!p->header)
        return fail(p, "missing header '" TR_HEADER "' (the file has no content line)");
    free(p->slots);
    return 0;
}

static void parse_abort(parser *p, np_trace *out)
{
    free(p->slots);
    np_trace_free(out);
}

int np_trace_parse_buf(const char *name, const char *buf, size_t len, np_trace *out, char *msg,
                       size_t msglen)
{
    parser p;

    if (parse_begin(&p, name, out, msg, msglen) || parse_lines(&p, out, buf, buf + len) ||
        parse_end(&p, len)) {
        parse_abort(&p, out);
        return -1;
    }
    return 0;
}

/* A file is read in pieces of this size and each run of whole lines parsed
 * as it arrives: reading a large trace into one buffer first costs more than
 * parsing it (a fresh page to fault in and a copy per 4 KiB, ~35 ms per
 * 1,000,000 lines), and a piece this size stays in the cache between the
 * read and the parse. */
#ifndef STREAM_PIECE /* (a test can make it tiny to cut lines everywhere) */
#define STREAM_PIECE (256 * 1024)
#endif

/* The most a trace may hold, in MiB: NETPOLL_TRACE_MAX_MIB if it is a whole
 * number from 1 to 1048576, else NP_TRACE_MAX_MIB. */
static uint64_t size_limit_mib(void)
{
    const char *e = getenv("NETPOLL_TRACE_MAX_MIB");
    char *end;
    unsigned long long v;

    if (!e || *e < '0' || *e > '9')
        return NP_TRACE_MAX_MIB;
    v = strtoull(e, &end, 10);
    return *end || v < 1 || v > 1048576 ? NP_TRACE_MAX_MIB : v;
}

/* Before the header, the unfinished line at the end of what has been read
 * (buf, len: one line, no '\n' yet) is checked as if it ended there, and
 * then forgotten: it is parsed again when it is whole. A file that is not a
 * trace (/dev/zero, a binary, a text without the header) thus fails at its
 * first line after one piece, not after it has been read whole. A line that
 * may still become valid (a comment, blanks, the header so far) passes. */
static int check_unfinished(parser *p, np_trace *out, const char *buf, size_t len)
{
    parser save = *p;

    if (len < strlen(TR_HEADER) && !memcmp(buf, TR_HEADER, len))
        return 0; /* the header, cut by a piece's end */
    if (parse_lines(p, out, buf, buf + len))
        return -1;
    *p = save;
    return 0;
}

/* np_trace_parse_file's reader, for a file, a pipe or a device alike: the
 * same result as reading the input whole and calling np_trace_parse_buf,
 * except that it stops at the first invalid line (or, before the header, at
 * the first line that cannot be the header or a comment), at a line longer
 * than NP_TRACE_MAX_LINE, and after the size limit: memory stays within
 * about one line plus one piece beyond the events themselves. */
static int parse_stream(const char *path, FILE *f, uint64_t limit, np_trace *out, char *msg,
                        size_t msglen)
{
    parser p;
    char *buf = malloc(STREAM_PIECE);
    size_t len = 0, cap = STREAM_PIECE;
    uint64_t total = 0;
    bool bad;
    int err = 0;

    bad = parse_begin(&p, path, out, msg, msglen) != 0;
    if (!buf)
        err = ENOMEM;
    while (!err && !bad) {
        const char *nl;
        size_t got, n;

        if (len == cap) { /* a line longer than the buffer (at most NP_TRACE_MAX_LINE) */
            char *nb;

            if (!(nb = realloc(buf, cap * 2))) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        got = fread(buf + len, 1, cap - len, f);
        if (got == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
        total += got;
        if (total > limit) {
            if (msg && msglen)
                snprintf(msg, msglen,
                         "%s: larger than the %" PRIu64 " MiB limit of a trace "
                         "(NETPOLL_TRACE_MAX_MIB)",
                         path, limit >> 20);
            bad = true;
            break;
        }
        nl = memrchr(buf + len, '\n', got);
        len += got;
        if (nl) {
            /* Parse up to the last '\n'; the unfinished line after it moves
             * to the front and waits for the rest. */
            n = (size_t)(nl + 1 - buf);
            if (parse_lines(&p, out, buf, buf + n)) {
                bad = true;
                break;
            }
            memmove(buf, buf + n, len - n);
            len -= n;
        }
        if (!p.header && len && check_unfinished(&p, out, buf, len)) {
            bad = true;
        } else if (len > NP_TRACE_MAX_LINE) {
            p.line++;
            bad = fail(&p, LINE_TOO_LONG) != 0;
        }
    }
    if (!err && !bad)
        bad = parse_lines(&p, out, buf, buf + len) || parse_end(&p, total);
    free(buf);
    if (err) {
        parse_abort(&p, out);
        if (msg && msglen)
            snprintf(msg, msglen, "%s: %s", path, strerror(err));
        return -1;
    }
    if (bad) {
        parse_abort(&p, out);
        return -1;
    }
    return 0;
}

int np_trace_parse_file(const char *path, np_trace *out, char *msg, size_t msglen)
{
    FILE *f;
    struct stat st;
    uint64_t limit = size_limit_mib() << 20;
    int r;

    memset(out, 0, sizeof *out);
    if (!(f = fopen(path, "rb"))) {
        if (msg && msglen)
            snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A regular file too large is refused before anything is read. */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
        if (msg && msglen)
            snprintf(msg, msglen,
                     "%s: %" PRIu64 " MiB, larger than the %" PRIu64 " MiB limit of a trace "
                     "(NETPOLL_TRACE_MAX_MIB)",
                     path, (uint64_t)st.st_size >> 20, limit >> 20);
        fclose(f);
        return -1;
    }
    r = parse_stream(path, f, limit, out, msg, msglen);
    fclose(f);
    return r;
}

/* ---- the writer ---- */

static bool key_present(const np_tr_event *ev, int k)
{
    switch (k) {
    case K_G:
        return ev->g != 0;
    case K_TAG:
        return ev->tag >= 0;
    case K_ERR:
        return ev->err == 1;
    case K_RES:
        return ev->res >= 0;
    default:
        return true;
    }
}

static bool event_ok(const np_tr_event *ev)
{
    const struct kind_info *ki;

    if ((int)ev->kind < 0 || (int)ev->kind >= NKINDS || ev->t < 0)
        return false;
    ki = &kinds[ev->kind];
    for (int i = 0; ki->order[i] >= 0; i++) {
        int k = ki->order[i];
        bool need = ki->req & B(k);

        if (!need && !key_present(ev, k))
            continue;
        switch (k) {
        case K_PD:
            if (ev->pd <= 0)
                return false;
            break;
        case K_G:
            if (ev->g <= 0)
                return false;
            break;
        case K_FD:
            if (ev->fd < 0)
                return false;
            break;
        case K_MODE:
            if (!mode_name(ev->mode) || (ki->single_dir && ev->mode == NP_MODE_RW))
                return false;
            break;
        case K_AT:
            if (ev->at < 0)
                return false;
            break;
        case K_RES:
            if (ev->res < 0 || ev->res >= NRES)
                return false;
            break;
        default: /* tag and err: present means valid */
            break;
        }
    }
    return true;
}

int np_trace_emit(const np_trace *tr, FILE *out)
{
    for (size_t i = 0; i < tr->n; i++)
        if (!event_ok(&tr->ev[i]))
            return -EINVAL;
    errno = 0;
    if (fputs(TR_HEADER "\n", out) < 0)
        goto ioerr;
    for (size_t i = 0; i < tr->n; i++) {
        const np_tr_event *ev = &tr->ev[i];
        const struct kind_info *ki = &kinds[ev->kind];

        if (fprintf(out, "%" PRId64 " %s", ev->t, ki->name) < 0)
            goto ioerr;
        for (int j = 0; ki->order[j] >= 0; j++) {
            int k = ki->order[j], w;

            if (!(ki->req & B(k)) && !key_present(ev, k))
                continue;
            switch (k) {
            case K_PD:
                w = fprintf(out, " pd=%" PRId32, ev->pd);
                break;
            case K_G:
                w = fprintf(out, " g=%" PRId32, ev->g);
                break;
            case K_FD:
                w = fprintf(out, " fd=%" PRId32, ev->fd);
                break;
            case K_MODE:
                w = fprintf(out, " mode=%s", mode_name(ev->mode));
                break;
            case K_AT:
                w = fprintf(out, " at=%" PRId64, ev->at);
                break;
            case K_TAG:
                w = fprintf(out, " tag=%" PRId64, ev->tag);
                break;
            case K_ERR:
                w = fputs(" err=1", out);
                break;
            default: /* K_RES */
                w = fprintf(out, " res=%s", res_names[ev->res]);
                break;
            }
            if (w < 0)
                goto ioerr;
        }
        if (fputc('\n', out) == EOF)
            goto ioerr;
    }
    if (fflush(out) == 0 && !ferror(out))
        return 0;
ioerr:
    return errno ? -errno : -EIO;
}
