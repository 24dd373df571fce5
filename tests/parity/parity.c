/* parity.c - the C half of the go_parity test (tests/parity/).
 *
 * Runs the scenarios of parity.go, in the same order, on netpoll's net.h and
 * prints the same lines; run_parity.sh diffs the two outputs. Each scenario
 * here mirrors the Go function of the same name; see parity.go for what
 * each one checks and how the lines are built:
 *   - result kinds: ok (>= 0), eof (NP_EOF), timeout (NP_EDEADLINE),
 *     closed (NP_ECLOSED), error (anything else), none (not returned);
 *   - byte counts ("partial=yes" after filling a socket buffer);
 *   - a coarse time bucket (when()).
 *
 * Every call that could hang runs in its own task and is waited for with a
 * bound; a call that never returns is left behind (its op is leaked), never
 * waited for forever. Every loop is bounded in count and time. Loopback only.
 */
#include <netpoll/netpoll.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US  INT64_C(1000)
#define MS  INT64_C(1000000)
#define SEC INT64_C(1000000000)

static const int64_t IMMEDIATE = 25 * MS;   /* "immediately": returned within this */
static const int64_t SLACK = 1000 * MS;     /* "at_deadline": within this after it */
static const int64_t BLOCK_WAIT = 150 * MS; /* still pending after this: "blocked" */
static const int64_t BOUND = 5 * SEC;       /* still pending after this: "hung" */
static const int64_t SETTLE = 50 * MS;      /* lets loopback data arrive */
#define BIG_WRITE ((size_t)64 << 20)        /* more than any loopback buffers hold */

static const char HELLO[] = "hello";

/* ---- results and time buckets --------------------------------------------- */

static const char *kind(long r)
{
    if (r >= 0)
        return "ok";
    switch (r) {
    case NP_EOF:
        return "eof";
    case NP_EDEADLINE:
        return "timeout";
    case NP_ECLOSED:
        return "closed";
    default:
        return "error";
    }
}

/* As when() in parity.go; dl == 0 means no deadline. */
static const char *when(int64_t start, int64_t end, int64_t dl)
{
    int64_t el = end - start;
    if (dl == 0 || dl <= start)
        return el < IMMEDIATE ? "immediately" : "late";
    if (end < dl)
        return el < IMMEDIATE ? "immediately" : "before_deadline";
    if (end - dl < SLACK)
        return "at_deadline";
    return "late";
}

static int64_t past(void)
{
    return np_deadline_after(-SEC);
}

static const char *yesno(bool b)
{
    return b ? "yes" : "no";
}

/* ---- ops: one call in its own task ---------------------------------------- */

typedef struct op op;
struct op {
    long (*fn)(op *o); /* returns the result code; sets n */
    np_fd *f;
    void *buf;
    size_t len;
    void *ctx;
    long ret;
    size_t n;
    int64_t start, end;
    atomic_int done;
    bool ok; /* returned (set by op_wait) */
};

static long do_read(op *o)
{
    ssize_t r = np_read(o->f, o->buf, o->len);
    o->n = r > 0 ? (size_t)r : 0;
    return (long)r;
}

static long do_write(op *o)
{
    size_t w = 0;
    ssize_t r = np_write(o->f, o->buf, o->len, &w);
    o->n = w;
    return (long)r;
}

static long do_accept(op *o)
{
    np_fd *s = NULL;
    int r = np_accept(o->f, &s);
    if (r == 0)
        np_close(s);
    o->n = 0;
    return r;
}

static void op_task(void *arg)
{
    op *o = arg;
    o->ret = o->fn(o);
    o->end = np_now();
    atomic_store(&o->done, 1);
}

static op *op_new(long (*fn)(op *), np_fd *f, void *buf, size_t len)
{
    op *o = calloc(1, sizeof *o);
    if (!o) {
        fprintf(stderr, "parity_c: out of memory\n");
        exit(2);
    }
    o->fn = fn;
    o->f = f;
    o->buf = buf;
    o->len = len;
    return o;
}

/* Starts o in a new task. */
static op *op_go(op *o)
{
    atomic_store(&o->done, 0);
    o->start = np_now();
    if (np_go(op_task, o) != 0) {
        fprintf(stderr, "parity_c: np_go failed\n");
        exit(2);
    }
    return o;
}

/* Waits up to d for o; reports whether it returned. */
static bool op_wait(op *o, int64_t d)
{
    int64_t until = np_now() + d;
    while (!atomic_load(&o->done)) {
        if (np_now() >= until)
            return false;
        np_sleep(MS / 2);
    }
    o->ok = true;
    return true;
}

/* Frees o if its task has finished; otherwise leaks it (the task may still
 * use it). */
static void op_free(op *o)
{
    if (o && atomic_load(&o->done))
        free(o);
}

/* Starts fn and waits for it with the hang bound. */
static op *run(long (*fn)(op *), np_fd *f, void *buf, size_t len)
{
    op *o = op_go(op_new(fn, f, buf, len));
    op_wait(o, BOUND);
    return o;
}

static op *go_read(np_fd *f, void *buf, size_t len)
{
    return op_go(op_new(do_read, f, buf, len));
}

static op *go_write(np_fd *f, const void *buf, size_t len)
{
    return op_go(op_new(do_write, f, (void *)buf, len));
}

/* ---- printing ---------------------------------------------------------------- */

typedef struct {
    char s[256];
} str;

static str sfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static str sfmt(const char *fmt, ...)
{
    str r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.s, sizeof r.s, fmt, ap);
    va_end(ap);
    return r;
}

/* "name=kind bytes=n when=bucket", bucketed from start against dl. */
static str op_fmt_from(const char *name, const op *o, int64_t start, int64_t dl)
{
    if (!o->ok)
        return sfmt("%s=none bytes=0 when=never", name);
    return sfmt("%s=%s bytes=%zu when=%s", name, kind(o->ret), o->n, when(start, o->end, dl));
}

static str op_fmt(const char *name, const op *o, int64_t dl)
{
    return op_fmt_from(name, o, o->start, dl);
}

static str op_fmt_kind(const char *name, const op *o)
{
    if (!o->ok)
        return sfmt("%s=none", name);
    return sfmt("%s=%s", name, kind(o->ret));
}

/* Waits BLOCK_WAIT for o: "blocked=yes" if it is still pending. */
static str op_blocked(op *o)
{
    if (op_wait(o, BLOCK_WAIT))
        return sfmt("blocked=no(%s)", op_fmt("got", o, 0).s);
    return sfmt("blocked=yes");
}

static str op_partial(const char *name, const op *o, int64_t start, int64_t dl)
{
    if (!o->ok)
        return sfmt("%s=none partial=no when=never", name);
    return sfmt("%s=%s partial=%s when=%s", name, kind(o->ret), yesno(o->n > 0 && o->n < BIG_WRITE),
                when(start, o->end, dl));
}

/* Prints "name: part; part; ...". The parts end with a NULL. */
static void line(const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    printf("%s: ", name);
    const char *sep = "";
    for (const char *p; (p = va_arg(ap, const char *)) != NULL; sep = "; ")
        printf("%s%s", sep, p);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* ---- loopback pairs ------------------------------------------------------- */

typedef struct {
    np_fd *l, *c, *s;
} pair;

static int pair_open(pair *p)
{
    char addr[128];
    p->l = p->c = p->s = NULL;
    int err = np_listen("tcp", "127.0.0.1:0", 0, &p->l);
    if (err == 0)
        err = np_local_addr(p->l, addr, sizeof addr);
    if (err == 0)
        err = np_dial("tcp", addr, 0, &p->c);
    if (err == 0)
        err = np_accept(p->l, &p->s);
    return err;
}

static void close_fd(np_fd **f)
{
    if (*f)
        np_close(*f);
    *f = NULL;
}

static void pair_close(pair *p)
{
    close_fd(&p->c);
    close_fd(&p->s);
    close_fd(&p->l);
}

#define SETUP(p, name)                                                                             \
    do {                                                                                           \
        if (pair_open(p) != 0) {                                                                   \
            pair_close(p);                                                                         \
            line(name, "setup=error", (const char *)NULL);                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define END NULL

/* ---- the scenarios (see parity.go for each one's purpose) ------------------ */

static void past_deadline_with_data(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    np_write(p.s, HELLO, 5, NULL);
    np_sleep(SETTLE);
    np_set_read_deadline(p.c, past());
    op *r1 = run(do_read, p.c, buf, sizeof buf);
    op *r2 = run(do_read, p.c, buf, sizeof buf);
    np_set_read_deadline(p.c, 0);
    op *r3 = run(do_read, p.c, buf, sizeof buf);
    line(name, op_fmt("read", r1, 0).s, op_fmt("again", r2, 0).s, op_fmt("cleared", r3, 0).s, END);
    pair_close(&p);
    op_free(r1), op_free(r2), op_free(r3);
}

static void deadline_50ms(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    np_write(p.s, HELLO, 5, NULL);
    np_sleep(SETTLE);
    int64_t dl = np_deadline_after(50 * MS);
    np_set_read_deadline(p.c, dl);
    op *r1 = run(do_read, p.c, buf, sizeof buf);
    op *r2 = run(do_read, p.c, buf, sizeof buf);
    op *r3 = run(do_read, p.c, buf, sizeof buf);
    line(name, op_fmt("read", r1, dl).s, op_fmt("again", r2, dl).s, op_fmt("later", r3, 0).s, END);
    pair_close(&p);
    op_free(r1), op_free(r2), op_free(r3);
}

static void clear_past_deadline(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    np_set_read_deadline(p.c, past());
    op *r1 = run(do_read, p.c, buf, sizeof buf);
    np_set_read_deadline(p.c, 0);
    op *r2 = go_read(p.c, buf, sizeof buf);
    str b = op_blocked(r2);
    int64_t t = np_now();
    int cerr = np_close(p.c);
    p.c = NULL;
    op_wait(r2, BOUND);
    line(name, op_fmt("read", r1, 0).s, sfmt("cleared_%s", b.s).s,
         sfmt("close_ret=%s", kind(cerr)).s, op_fmt_from("after_close", r2, t, 0).s, END);
    pair_close(&p);
    op_free(r1), op_free(r2);
}

static void rw_independent(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64], pbuf[64];
    np_set_read_deadline(p.c, past());
    op *w1 = run(do_write, p.c, (void *)HELLO, 5);
    op *r1 = run(do_read, p.c, buf, sizeof buf);
    np_set_read_deadline(p.c, 0);
    np_set_write_deadline(p.c, past());
    np_write(p.s, "world", 5, NULL);
    np_sleep(SETTLE);
    op *r2 = run(do_read, p.c, buf, sizeof buf);
    op *w2 = run(do_write, p.c, (void *)HELLO, 5);
    op *pr1 = run(do_read, p.s, pbuf, sizeof pbuf);
    int64_t pdl = np_deadline_after(100 * MS);
    np_set_read_deadline(p.s, pdl);
    op *pr2 = run(do_read, p.s, pbuf, sizeof pbuf);
    line(name, sfmt("past_read:%s %s", op_fmt("write", w1, 0).s, op_fmt("read", r1, 0).s).s,
         sfmt("past_write:%s %s", op_fmt("read", r2, 0).s, op_fmt("write", w2, 0).s).s,
         op_fmt("peer", pr1, 0).s, op_fmt("peer_again", pr2, pdl).s, END);
    pair_close(&p);
    op_free(w1), op_free(r1), op_free(r2), op_free(w2), op_free(pr1), op_free(pr2);
}

static void unblock_blocked_read(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    op *r1 = go_read(p.c, buf, sizeof buf);
    str b1 = op_blocked(r1);
    int64_t t = np_now();
    np_set_read_deadline(p.c, past());
    op_wait(r1, BOUND);
    np_set_read_deadline(p.c, 0);
    op *r2 = NULL;
    str b2 = sfmt("blocked=skipped");
    int64_t t2 = 0, dl = 0;
    if (r1->ok) { /* never two reads at once on c */
        r2 = go_read(p.c, buf, sizeof buf);
        b2 = op_blocked(r2);
        t2 = np_now();
        dl = t2 + 50 * MS;
        np_set_read_deadline(p.c, dl);
        op_wait(r2, BOUND);
    }
    line(name, b1.s, op_fmt_from("set_past", r1, t, 0).s, b2.s,
         r2 ? op_fmt_from("set_50ms", r2, t2, dl).s : "set_50ms=skipped", END);
    pair_close(&p);
    op_free(r1), op_free(r2);
}

static void peer_close_eof(const char *name)
{
    pair p, q;
    SETUP(&p, name);
    char buf[64];
    np_write(p.s, "bye", 3, NULL);
    close_fd(&p.s);
    op *r1 = run(do_read, p.c, buf, sizeof buf);
    op *r2 = run(do_read, p.c, buf, sizeof buf);
    op *r3 = run(do_read, p.c, buf, sizeof buf);
    pair_close(&p);

    SETUP(&q, name);
    op *r4 = go_read(q.c, buf, sizeof buf);
    str b = op_blocked(r4);
    int64_t t = np_now();
    close_fd(&q.s);
    op_wait(r4, BOUND);
    line(name, op_fmt("read", r1, 0).s, op_fmt("again", r2, 0).s, op_fmt("third", r3, 0).s,
         sfmt("peer_close_while_%s", b.s).s, op_fmt_from("then", r4, t, 0).s, END);
    pair_close(&q);
    op_free(r1), op_free(r2), op_free(r3), op_free(r4);
}

static void zero_byte_read(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    op *r1 = run(do_read, p.c, buf, 0);
    np_set_read_deadline(p.c, past());
    op *r2 = run(do_read, p.c, buf, 0);
    np_set_read_deadline(p.c, 0);
    close_fd(&p.s);
    np_sleep(SETTLE);
    op *r3 = run(do_read, p.c, buf, 0);
    line(name, op_fmt("read", r1, 0).s, op_fmt("past_deadline", r2, 0).s,
         op_fmt("peer_closed", r3, 0).s, END);
    pair_close(&p);
    op_free(r1), op_free(r2), op_free(r3);
}

static void zero_byte_write(const char *name)
{
    pair p;
    SETUP(&p, name);
    op *w1 = run(do_write, p.c, (void *)HELLO, 0);
    np_set_write_deadline(p.c, past());
    op *w2 = run(do_write, p.c, (void *)HELLO, 0);
    line(name, op_fmt("write", w1, 0).s, op_fmt("past_deadline", w2, 0).s, END);
    pair_close(&p);
    op_free(w1), op_free(w2);
}

static void deadline_sweep(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    int count = 0, timeouts = 0, early = 0, hung = 0;
    static const int64_t mult[] = {1, 2, 5};
    bool stuck = false;
    for (int64_t d = 1; d <= SEC && !stuck; d *= 10) {
        for (int i = 0; i < 3; i++) {
            int64_t rel = d * mult[i];
            if (rel > SEC)
                continue;
            count++;
            int64_t dl = np_deadline_after(rel);
            np_set_read_deadline(p.c, dl);
            op *o = go_read(p.c, buf, sizeof buf);
            if (!op_wait(o, rel + BOUND)) {
                hung++;
                np_set_read_deadline(p.c, past());
                if (!op_wait(o, BOUND)) {
                    stuck = true;
                    break;
                }
                op_free(o);
                continue;
            }
            if (o->ret == NP_EDEADLINE)
                timeouts++;
            if (o->end < dl)
                early++;
            op_free(o);
        }
    }
    line(name,
         sfmt("count=%d all_timeout=%s none_early=%s none_hung=%s", count, yesno(timeouts == count),
              yesno(early == 0), yesno(hung == 0))
             .s,
         END);
    pair_close(&p);
}

static void max_deadline(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    np_set_deadline(p.c, INT64_MAX);
    op *r = go_read(p.c, buf, sizeof buf);
    str b = op_blocked(r);
    op *w = run(do_write, p.c, (void *)HELLO, 5);
    int64_t t = np_now();
    np_set_read_deadline(p.c, past());
    op_wait(r, BOUND);
    line(name, sfmt("read_%s", b.s).s, op_fmt("write", w, 0).s, op_fmt_from("set_past", r, t, 0).s,
         END);
    pair_close(&p);
    op_free(r), op_free(w);
}

static void accept_past_deadline(const char *name)
{
    np_fd *l = NULL, *c = NULL;
    char addr[128];
    if (np_listen("tcp", "127.0.0.1:0", 0, &l) != 0 || np_local_addr(l, addr, sizeof addr) != 0 ||
        np_dial("tcp", addr, 0, &c) != 0) {
        close_fd(&c);
        close_fd(&l);
        line(name, "setup=error", END);
        return;
    }
    np_sleep(SETTLE);
    np_set_deadline(l, past());
    op *a1 = run(do_accept, l, NULL, 0);
    op *a2 = run(do_accept, l, NULL, 0);
    np_set_deadline(l, 0);
    op *a3 = run(do_accept, l, NULL, 0);
    int64_t dl = np_deadline_after(50 * MS);
    np_set_deadline(l, dl);
    op *a4 = run(do_accept, l, NULL, 0);
    line(name, op_fmt("accept", a1, 0).s, op_fmt("again", a2, 0).s, op_fmt("cleared", a3, 0).s,
         op_fmt("empty_50ms", a4, dl).s, END);
    close_fd(&c);
    close_fd(&l);
    op_free(a1), op_free(a2), op_free(a3), op_free(a4);
}

static void write_full_buffer(const char *name)
{
    pair p;
    SETUP(&p, name);
    char *big = calloc(1, BIG_WRITE);
    if (!big) {
        fprintf(stderr, "parity_c: out of memory\n");
        exit(2);
    }
    int64_t dl = np_deadline_after(100 * MS);
    np_set_write_deadline(p.c, dl);
    op *w1 = run(do_write, p.c, big, BIG_WRITE);
    op *w2 = run(do_write, p.c, big, BIG_WRITE);
    line(name, op_partial("write", w1, w1->start, dl).s, op_fmt("again", w2, 0).s, END);
    pair_close(&p);
    if (w1->ok && w2->ok)
        free(big);
    op_free(w1), op_free(w2);
}

static void write_full_unblock(const char *name)
{
    pair p;
    SETUP(&p, name);
    char *big = calloc(1, BIG_WRITE);
    if (!big) {
        fprintf(stderr, "parity_c: out of memory\n");
        exit(2);
    }
    op *w = go_write(p.c, big, BIG_WRITE);
    str b = op_blocked(w);
    int64_t t = np_now();
    np_set_write_deadline(p.c, past());
    op_wait(w, BOUND);
    line(name, b.s, op_partial("set_past", w, t, 0).s, END);
    pair_close(&p);
    if (w->ok)
        free(big);
    op_free(w);
}

/* deadline_churn: loops of reads or writes until stop. */
typedef struct {
    atomic_int *stop;
    atomic_long *unexpected;
    atomic_long *ok_count;
    bool check; /* c side: count results other than ok/timeout */
    long (*fn)(op *);
} churn_loop;

static long do_loop(op *o)
{
    churn_loop *cl = o->ctx;
    op inner = {.f = o->f, .buf = o->buf, .len = o->len}; /* run synchronously */
    for (long i = 0; i < 10000000 && !atomic_load(cl->stop); i++) {
        long r = cl->fn(&inner);
        const char *k = kind(r);
        if (r >= 0 && inner.n > 0) {
            atomic_fetch_add(cl->ok_count, 1);
        } else if (cl->check && strcmp(k, "timeout") != 0) {
            atomic_fetch_add(cl->unexpected, 1);
            return r;
        } else if (!cl->check && strcmp(k, "ok") != 0) {
            return r;
        }
        /* An expired deadline fails at once, and tasks are not preempted
         * (goroutines are): a loop of timeouts must let the others run. */
        if (r == NP_EDEADLINE)
            np_yield();
    }
    return 0;
}

static op *go_loop(churn_loop *cl, np_fd *f, void *buf, size_t len)
{
    op *o = op_new(do_loop, f, buf, len);
    o->ctx = cl;
    return op_go(o);
}

static void deadline_churn(const char *name)
{
    pair p;
    SETUP(&p, name);
    static char cbuf[4096], sbuf[4096], chunk[1024];
    atomic_int stop = 0;
    atomic_long unexpected = 0, reads_ok = 0, writes_ok = 0, sink = 0;
    churn_loop lr = {&stop, &unexpected, &reads_ok, true, do_read};
    churn_loop lw = {&stop, &unexpected, &writes_ok, true, do_write};
    churn_loop lp = {&stop, &unexpected, &sink, false, do_write};
    churn_loop ld = {&stop, &unexpected, &sink, false, do_read};
    op *ops[4];
    ops[0] = go_loop(&lr, p.c, cbuf, sizeof cbuf);
    ops[1] = go_loop(&lw, p.c, chunk, sizeof chunk);
    ops[2] = go_loop(&lp, p.s, chunk, sizeof chunk);
    ops[3] = go_loop(&ld, p.s, sbuf, sizeof sbuf);

    int64_t start = np_now();
    for (int i = 0; i < 20000 && np_now() - start < 300 * MS; i++) {
        switch (i % 6) {
        case 0:
            np_set_read_deadline(p.c, past());
            break;
        case 1:
            np_set_write_deadline(p.c, np_deadline_after(20 * US));
            break;
        case 2:
            np_set_deadline(p.c, 0);
            break;
        case 3:
            np_set_read_deadline(p.c, np_deadline_after(MS));
            break;
        case 4:
            np_set_write_deadline(p.c, past());
            break;
        case 5:
            np_set_deadline(p.c, INT64_MAX);
            break;
        }
        np_sleep(5 * US);
    }
    atomic_store(&stop, 1);
    np_set_deadline(p.c, past());
    int hung = 0;
    for (int i = 0; i < 2; i++)
        hung += !op_wait(ops[i], BOUND);
    bool left_behind = hung > 0;
    if (!left_behind)
        close_fd(&p.s); /* np_close would wait for a hung call on s too */
    for (int i = 2; i < 4 && !left_behind; i++)
        hung += !op_wait(ops[i], BOUND);
    line(name,
         sfmt("hung=%d unexpected=%ld progress=%s", hung, atomic_load(&unexpected),
              yesno(atomic_load(&reads_ok) > 0 && atomic_load(&writes_ok) > 0))
             .s,
         END);
    if (getenv("PARITY_VERBOSE"))
        fprintf(stderr, "deadline_churn: reads_ok=%ld writes_ok=%ld sink=%ld\n",
                atomic_load(&reads_ok), atomic_load(&writes_ok), atomic_load(&sink));
    if (hung > 0) {
        /* The loops use this frame's counters: never return while they run. */
        fprintf(stderr, "parity_c: deadline_churn hung; exiting\n");
        fflush(stdout);
        _Exit(1);
    }
    pair_close(&p);
    for (int i = 0; i < 4; i++)
        op_free(ops[i]);
}

typedef struct {
    char addr[128];
} dial_ctx;

static long do_dial(op *o)
{
    dial_ctx *dc = o->ctx;
    np_fd *c = NULL;
    int r = np_dial("tcp", dc->addr, 0, &c);
    if (r == 0)
        np_close(c);
    o->n = 0;
    return r;
}

static void dial_refused(const char *name)
{
    np_fd *l = NULL;
    static dial_ctx dc;
    if (np_listen("tcp", "127.0.0.1:0", 0, &l) != 0 ||
        np_local_addr(l, dc.addr, sizeof dc.addr) != 0) {
        close_fd(&l);
        line(name, "setup=error", END);
        return;
    }
    close_fd(&l);
    op *d = op_new(do_dial, NULL, NULL, 0);
    d->ctx = &dc;
    op_go(d);
    op_wait(d, BOUND);
    line(name,
         sfmt("%s refused=%s", op_fmt("dial", d, 0).s, yesno(d->ok && d->ret == -ECONNREFUSED)).s,
         END);
    op_free(d);
}

static void close_write(const char *name)
{
    pair p;
    SETUP(&p, name);
    char buf[64];
    np_write(p.c, HELLO, 5, NULL);
    int cw = np_shutdown(p.c, NP_MODE_W);
    op *r1 = run(do_read, p.s, buf, sizeof buf);
    op *r2 = run(do_read, p.s, buf, sizeof buf);
    np_write(p.s, "world", 5, NULL);
    op *r3 = run(do_read, p.c, buf, sizeof buf);
    op *w = run(do_write, p.c, (void *)HELLO, 5);
    line(name, sfmt("shutdown=%s", kind(cw)).s, op_fmt("peer", r1, 0).s,
         op_fmt("peer_again", r2, 0).s, op_fmt("reverse", r3, 0).s, op_fmt_kind("write_after", w).s,
         END);
    pair_close(&p);
    op_free(r1), op_free(r2), op_free(r3), op_free(w);
}

static void ipv6_loopback(const char *name)
{
    np_fd *l = NULL, *c = NULL, *s = NULL;
    char addr[128], local[128];
    char buf[64];
    int err = np_listen("tcp6", "[::1]:0", 0, &l);
    if (err == 0)
        err = np_local_addr(l, addr, sizeof addr);
    if (err != 0) {
        close_fd(&l);
        line(name, sfmt("listen=%s", kind(err)).s, END);
        return;
    }
    err = np_dial("tcp6", addr, 0, &c);
    if (err != 0) {
        close_fd(&l);
        line(name, "listen=ok", sfmt("dial=%s", kind(err)).s, END);
        return;
    }
    err = np_accept(l, &s);
    if (err != 0) {
        close_fd(&c);
        close_fd(&l);
        line(name, "listen=ok", "dial=ok", sfmt("accept=%s", kind(err)).s, END);
        return;
    }
    np_write(c, HELLO, 5, NULL);
    op *r = run(do_read, s, buf, sizeof buf);
    bool v6 = np_local_addr(c, local, sizeof local) == 0 && strncmp(local, "[::1]:", 6) == 0;
    line(name, "listen=ok", "dial=ok", "accept=ok", op_fmt("echo", r, 0).s,
         sfmt("local_v6=%s", yesno(v6)).s, END);
    close_fd(&s);
    close_fd(&c);
    close_fd(&l);
    op_free(r);
}

static const struct {
    const char *name;
    void (*fn)(const char *name);
} scenarios[] = {
    {"past_deadline_with_data", past_deadline_with_data},
    {"deadline_50ms", deadline_50ms},
    {"clear_past_deadline", clear_past_deadline},
    {"rw_independent", rw_independent},
    {"unblock_blocked_read", unblock_blocked_read},
    {"peer_close_eof", peer_close_eof},
    {"zero_byte_read", zero_byte_read},
    {"zero_byte_write", zero_byte_write},
    {"deadline_sweep", deadline_sweep},
    {"max_deadline", max_deadline},
    {"accept_past_deadline", accept_past_deadline},
    {"write_full_buffer", write_full_buffer},
    {"write_full_unblock", write_full_unblock},
    {"deadline_churn", deadline_churn},
    {"dial_refused", dial_refused},
    {"close_write", close_write},
    {"ipv6_loopback", ipv6_loopback},
};

typedef struct {
    int argc;
    char **argv;
} args;

static void body(void *arg)
{
    args *a = arg;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        bool selected = a->argc <= 1;
        for (int j = 1; j < a->argc; j++)
            if (strcmp(a->argv[j], scenarios[i].name) == 0)
                selected = true;
        if (selected)
            scenarios[i].fn(scenarios[i].name);
    }
}

int main(int argc, char **argv)
{
    /* A Go program never dies of SIGPIPE on a socket (its runtime ignores
     * it for descriptors other than stdout/stderr); a C program must ask. */
    signal(SIGPIPE, SIG_IGN);
    args a = {argc, argv};
    np_config cfg = {.workers = 2};
    int err = np_main(&cfg, body, &a);
    if (err != 0) {
        fprintf(stderr, "parity_c: np_main: %d\n", err);
        return 2;
    }
    return 0;
}
