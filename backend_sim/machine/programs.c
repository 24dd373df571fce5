/* backend_sim/machine/programs.c - scenarios written as programs over the
 * public API, run on the simulated machine (`netpoll explore --program`).
 *
 * A program is the body of the main task (np_main's function). It starts
 * tasks with np_go, uses sockets, deadlines and close as any netpoll
 * program does, waits for its tasks (a semaphore of the core, so the wait
 * itself is the runtime's code) and states what must hold with MX_ASSERT.
 * The explorer adds the runtime's invariants (mexplore.c).
 *
 * To add one: write its main function below and add a line to `programs`
 * at the end of this file (name, one line of description, function).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"

#include "mach.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "netpoll/sync.h"
#include "netpoll/task.h"
#include "seam.h"
#include "sema.h"

#define MS INT64_C(1000000)

/* ---- helpers ------------------------------------------------------------------ */

/* A group of tasks the main task waits for. */
typedef struct group {
    np__sema done;
    int n;
} group;

static void group_init(group *g)
{
    np__sema_init(&g->done);
    g->n = 0;
}

typedef struct spawn_arg {
    void (*fn)(void *);
    void *arg;
    group *g;
} spawn_arg;

static spawn_arg spawn_args[16];
static int nspawn;

static void spawned(void *p)
{
    spawn_arg *s = p;
    s->fn(s->arg);
    np__sema_release(&s->g->done);
}

static void go(group *g, void (*fn)(void *), void *arg)
{
    MX_ASSERT(nspawn < 16, "too many tasks in a program");
    spawn_arg *s = &spawn_args[nspawn++];
    *s = (spawn_arg){fn, arg, g};
    int err = np_go(spawned, s);
    MX_ASSERT(err == 0, "np_go: %d", err);
    g->n++;
}

static void wait_all(group *g)
{
    for (int i = 0; i < g->n; i++)
        np__sema_acquire(&g->done);
}

static void begin(void)
{
    nspawn = 0;
}

/* Reads exactly n bytes (or fails). */
static ssize_t read_full(np_fd *f, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = np_read(f, buf + got, n - got);
        if (r <= 0)
            return r == 0 ? NP_EOF : r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static np_fd *listen_on(const char *addr)
{
    np_fd *l = NULL;
    int err = np_listen("tcp", addr, 8, &l);
    MX_ASSERT(err == 0, "np_listen %s: %s", addr, np_strerror(err));
    return l;
}

/* A connected pair: c dialled, s accepted. */
static void pair(const char *addr, np_fd **c, np_fd **s)
{
    np_fd *l = listen_on(addr);
    int err = np_dial("tcp", addr, 0, c);
    MX_ASSERT(err == 0, "np_dial: %s", np_strerror(err));
    err = np_accept(l, s);
    MX_ASSERT(err == 0, "np_accept: %s", np_strerror(err));
    MX_ASSERT(np_close(l) == 0, "closing the listener failed");
}

/* ---- pingpong: the pinned program ------------------------------------------------------
 * Task A dials B; two 16-byte round trips, the second with a read deadline
 * on A that B's reply (sent after a 1 ms sleep) races; then A closes and B
 * reads EOF (or a reset, if A closed with the reply unread). */
static struct {
    np_fd *l;
    int64_t deadline;
    bool timed_out;
} pp;

static void pp_b(void *p)
{
    (void)p;
    np_fd *c = NULL;
    int err = np_accept(pp.l, &c);
    MX_ASSERT(err == 0, "B: np_accept: %s", np_strerror(err));
    unsigned char buf[16];
    for (int round = 0; round < 2; round++) {
        ssize_t r = read_full(c, buf, sizeof buf);
        MX_ASSERT(r == 16, "B: read of round %d: %s", round, np_strerror((int)r));
        if (round == 1)
            np_sleep(1 * MS);
        r = np_write(c, buf, sizeof buf, NULL);
        MX_ASSERT(r == 16 || r == -EPIPE || r == -ECONNRESET, "B: write of round %d: %s", round,
                  np_strerror((int)r));
    }
    ssize_t r = np_read(c, buf, sizeof buf);
    MX_ASSERT(r == NP_EOF || r == -ECONNRESET, "B: the read after A's close returned %zd (%s)", r,
              np_strerror((int)r));
    MX_ASSERT(np_close(c) == 0, "B: np_close failed");
}

static void pp_a(void *p)
{
    (void)p;
    np_fd *c = NULL;
    int err = np_dial("tcp", "127.0.0.1:7000", 0, &c);
    MX_ASSERT(err == 0, "A: np_dial: %s", np_strerror(err));
    unsigned char out[16], in[16];
    for (int round = 0; round < 2; round++) {
        memset(out, 'a' + round, sizeof out);
        if (round == 1) {
            pp.deadline = np_now() + 1 * MS;
            MX_ASSERT(np_set_read_deadline(c, pp.deadline) == 0, "A: set deadline failed");
        }
        ssize_t r = np_write(c, out, sizeof out, NULL);
        MX_ASSERT(r == 16, "A: write of round %d: %s", round, np_strerror((int)r));
        r = read_full(c, in, sizeof in);
        if (round == 1 && r == NP_EDEADLINE) {
            MX_ASSERT(np_now() >= pp.deadline, "A: the deadline fired %lld ns early",
                      (long long)(pp.deadline - np_now()));
            pp.timed_out = true;
            break;
        }
        MX_ASSERT(r == 16, "A: read of round %d: %s", round, np_strerror((int)r));
        MX_ASSERT(memcmp(in, out, sizeof in) == 0, "A: round %d echoed other bytes", round);
    }
    MX_ASSERT(np_close(c) == 0, "A: np_close failed");
}

static void prog_pingpong(void *p)
{
    (void)p;
    begin();
    memset(&pp, 0, sizeof pp);
    pp.l = listen_on("127.0.0.1:7000");
    group g;
    group_init(&g);
    go(&g, pp_b, NULL);
    go(&g, pp_a, NULL);
    wait_all(&g);
    MX_ASSERT(np_close(pp.l) == 0, "closing the listener failed");
}

/* ---- accept_close: an accept loop closed by another task ------------------------------ */
static struct {
    np_fd *l;
    int accepted, closed_err;
} ac;

static void ac_acceptor(void *p)
{
    (void)p;
    for (;;) {
        np_fd *c = NULL;
        int err = np_accept(ac.l, &c);
        if (err == NP_ECLOSED)
            break;
        MX_ASSERT(err == 0, "np_accept: %s", np_strerror(err));
        ac.accepted++;
        np_close(c);
    }
}

static void ac_dialer(void *p)
{
    (void)p;
    np_fd *c = NULL;
    int err = np_dial("tcp", "127.0.0.1:7001", 0, &c);
    MX_ASSERT(err == 0 || err == -ECONNREFUSED, "np_dial: %s", np_strerror(err));
    if (err == 0)
        np_close(c);
}

static void ac_closer(void *p)
{
    (void)p;
    np_yield();
    ac.closed_err = np_close(ac.l);
}

static void prog_accept_close(void *p)
{
    (void)p;
    begin();
    memset(&ac, 0, sizeof ac);
    ac.l = listen_on("127.0.0.1:7001");
    np_fd_retain(ac.l); /* the acceptor's handle; the closer's is the first */
    group g;
    group_init(&g);
    go(&g, ac_acceptor, NULL);
    go(&g, ac_dialer, NULL);
    go(&g, ac_closer, NULL);
    wait_all(&g);
    MX_ASSERT(ac.closed_err == 0, "np_close of the listener: %s", np_strerror(ac.closed_err));
    MX_ASSERT(ac.accepted <= 1, "accepted %d connections from one dial", ac.accepted);
    np_fd_release(ac.l);
}

/* ---- double_close: two tasks close one descriptor, a third reads it --------------------- */
static struct {
    np_fd *c, *s;
    int err[2];
    ssize_t rd;
} dc;

static void dc_closer(void *p)
{
    int i = (int)(intptr_t)p;
    dc.err[i] = np_close(dc.c);
}

static void dc_reader(void *p)
{
    (void)p;
    unsigned char b[4];
    dc.rd = np_read(dc.c, b, sizeof b);
    np_fd_release(dc.c);
}

static void prog_double_close(void *p)
{
    (void)p;
    begin();
    memset(&dc, 0, sizeof dc);
    pair("127.0.0.1:7002", &dc.c, &dc.s);
    np_fd_retain(dc.c); /* three handles: two closers, one reader */
    np_fd_retain(dc.c);
    group g;
    group_init(&g);
    go(&g, dc_reader, NULL);
    go(&g, dc_closer, (void *)0);
    go(&g, dc_closer, (void *)1);
    wait_all(&g);
    int ok = (dc.err[0] == 0) + (dc.err[1] == 0);
    MX_ASSERT(ok == 1, "two closes of one descriptor: %d succeeded (%s, %s)", ok,
              np_strerror(dc.err[0]), np_strerror(dc.err[1]));
    MX_ASSERT(dc.err[0] == 0 || dc.err[0] == NP_ECLOSED, "close: %s", np_strerror(dc.err[0]));
    MX_ASSERT(dc.err[1] == 0 || dc.err[1] == NP_ECLOSED, "close: %s", np_strerror(dc.err[1]));
    MX_ASSERT(dc.rd == NP_ECLOSED, "a read racing close returned %zd (%s)", dc.rd,
              np_strerror((int)dc.rd));
    np_close(dc.s);
}

/* ---- write_close: a writer blocked on a full buffer while another task
 * closes the descriptor, and the reader at the far end closes too ------------------------ */
static struct {
    np_fd *c, *s;
    ssize_t wr;
    size_t written;
} wc;

static void wc_writer(void *p)
{
    (void)p;
    static unsigned char big[512];
    wc.wr = np_write(wc.c, big, sizeof big, &wc.written);
    np_fd_release(wc.c);
}

static void wc_closer(void *p)
{
    (void)p;
    np_yield();
    MX_ASSERT(np_close(wc.c) == 0, "closing the writer's descriptor failed");
}

static void wc_reader(void *p)
{
    (void)p;
    unsigned char b[16];
    ssize_t r = np_read(wc.s, b, sizeof b);
    MX_ASSERT(r > 0 || r == NP_EOF || r == -ECONNRESET, "reader: %s", np_strerror((int)r));
    np_close(wc.s);
}

static void prog_write_close(void *p)
{
    (void)p;
    begin();
    memset(&wc, 0, sizeof wc);
    pair("127.0.0.1:7003", &wc.c, &wc.s);
    np_fd_retain(wc.c);
    group g;
    group_init(&g);
    go(&g, wc_writer, NULL);
    go(&g, wc_closer, NULL);
    go(&g, wc_reader, NULL);
    wait_all(&g);
    MX_ASSERT(wc.wr == NP_ECLOSED || wc.wr == -EPIPE || wc.wr == -ECONNRESET,
              "a write of 512 bytes into a closed 64-byte pipe returned %zd (%s)", wc.wr,
              np_strerror((int)wc.wr));
    MX_ASSERT(wc.written < 512, "all 512 bytes written, none read");
}

/* ---- timers_idle: timers due while every worker sleeps ---------------------------------- */
static void ti_sleeper(void *p)
{
    int64_t d = (int64_t)(intptr_t)p * MS;
    int64_t t0 = np_now();
    np_sleep(d);
    int64_t t1 = np_now();
    MX_ASSERT(t1 >= t0 + d, "np_sleep(%lld ns) returned after %lld ns", (long long)d,
              (long long)(t1 - t0));
}

static void prog_timers_idle(void *p)
{
    (void)p;
    begin();
    group g;
    group_init(&g);
    go(&g, ti_sleeper, (void *)1);
    go(&g, ti_sleeper, (void *)2);
    go(&g, ti_sleeper, (void *)1);
    wait_all(&g);
}

/* ---- handoff: tasks readying each other (run queues, runnext, stealing) ------------------ */
static struct {
    np__sema turn[3];
    int order[6];
    int n;
} ho;

static void ho_task(void *p)
{
    int i = (int)(intptr_t)p;
    for (int k = 0; k < 2; k++) {
        np__sema_acquire(&ho.turn[i]);
        ho.order[ho.n++] = i;
        np__sema_release(&ho.turn[(i + 1) % 3]);
    }
}

static void prog_handoff(void *p)
{
    (void)p;
    begin();
    memset(&ho, 0, sizeof ho);
    for (int i = 0; i < 3; i++)
        np__sema_init(&ho.turn[i]);
    group g;
    group_init(&g);
    for (int i = 0; i < 3; i++)
        go(&g, ho_task, (void *)(intptr_t)i);
    np__sema_release(&ho.turn[0]);
    wait_all(&g);
    np__sema_acquire(&ho.turn[0]); /* the token came back */
    for (int k = 0; k < 6; k++)
        MX_ASSERT(ho.order[k] == k % 3, "turn %d went to task %d", k, ho.order[k]);
}

/* ---- readers_close: two readers of one connection, a message, a close -------------------
 * Two tasks read the client end at once (the second waits for the read
 * lock, the first in the poller); the server sends one 8-byte message; a
 * third task closes the client end after 1 ms. Each reader gets the message
 * or NP_ECLOSED, never both the message, and neither hangs. */
static struct {
    np_fd *c, *s;
    ssize_t got[2];
} rc;

static void rc_reader(void *p)
{
    int i = (int)(intptr_t)p;
    unsigned char b[16];
    rc.got[i] = np_read(rc.c, b, sizeof b);
    np_fd_release(rc.c);
}

static void rc_closer(void *p)
{
    (void)p;
    np_sleep(1 * MS);
    MX_ASSERT(np_close(rc.c) == 0, "closing the readers' descriptor failed");
}

static void readers_close(bool message)
{
    begin();
    memset(&rc, 0, sizeof rc);
    pair("127.0.0.1:7004", &rc.c, &rc.s);
    np_fd_retain(rc.c);
    np_fd_retain(rc.c);
    group g;
    group_init(&g);
    go(&g, rc_reader, (void *)0);
    go(&g, rc_reader, (void *)1);
    go(&g, rc_closer, NULL);
    if (message) {
        ssize_t w = np_write(rc.s, "message!", 8, NULL);
        MX_ASSERT(w == 8, "server write: %s", np_strerror((int)w));
    }
    wait_all(&g);
    int msgs = 0;
    for (int i = 0; i < 2; i++) {
        MX_ASSERT(rc.got[i] == 8 || rc.got[i] == NP_ECLOSED || (rc.got[i] > 0 && rc.got[i] < 8),
                  "reader %d: %zd (%s)", i, rc.got[i], np_strerror((int)rc.got[i]));
        msgs += rc.got[i] > 0 ? (int)rc.got[i] : 0;
    }
    MX_ASSERT(msgs <= 8, "two readers read %d bytes of an 8-byte message", msgs);
    MX_ASSERT(message || msgs == 0, "two readers read %d bytes nobody sent", msgs);
    np_close(rc.s);
}

static void prog_readers_close(void *p)
{
    (void)p;
    readers_close(true);
}

/* readers_idle_close: the same with nothing sent, so that the close finds
 * one reader parked in the poller and the other waiting for the read lock:
 * both must end with NP_ECLOSED. */
static void prog_readers_idle_close(void *p)
{
    (void)p;
    readers_close(false);
}

/* ---- shutdown_eof: a request ended by shutdown, its reply, EOF both ways ---------------------
 * A sends 10 bytes and shuts its writing side; B reads with a large buffer
 * (short reads: netfd.c's read skipping) until EOF, which must come after
 * exactly 10 bytes, replies 2 bytes and closes; A reads them and EOF. */
static struct {
    np_fd *l;
} se;

static void se_b(void *p)
{
    (void)p;
    np_fd *c = NULL;
    int err = np_accept(se.l, &c);
    MX_ASSERT(err == 0, "B: np_accept: %s", np_strerror(err));
    unsigned char b[64];
    size_t total = 0;
    for (;;) {
        ssize_t r = np_read(c, b, sizeof b);
        if (r == NP_EOF)
            break;
        MX_ASSERT(r > 0, "B: read: %s", np_strerror((int)r));
        total += (size_t)r;
    }
    MX_ASSERT(total == 10, "B: EOF after %zu bytes, 10 were sent", total);
    ssize_t w = np_write(c, "ok", 2, NULL);
    MX_ASSERT(w == 2, "B: reply: %s", np_strerror((int)w));
    MX_ASSERT(np_close(c) == 0, "B: close failed");
}

static void se_a(void *p)
{
    (void)p;
    np_fd *c = NULL;
    int err = np_dial("tcp", "127.0.0.1:7005", 5 * MS, &c);
    MX_ASSERT(err == 0, "A: np_dial: %s", np_strerror(err));
    for (int i = 0; i < 2; i++) {
        ssize_t w = np_write(c, "01234", 5, NULL);
        MX_ASSERT(w == 5, "A: write: %s", np_strerror((int)w));
    }
    MX_ASSERT(np_shutdown(c, NP_MODE_W) == 0, "A: shutdown failed");
    unsigned char b[16];
    size_t total = 0;
    for (;;) {
        ssize_t r = np_read(c, b, sizeof b);
        if (r == NP_EOF)
            break;
        MX_ASSERT(r > 0, "A: read: %s", np_strerror((int)r));
        total += (size_t)r;
    }
    MX_ASSERT(total == 2, "A: EOF after %zu bytes of a 2-byte reply", total);
    MX_ASSERT(np_close(c) == 0, "A: close failed");
}

static void prog_shutdown_eof(void *p)
{
    (void)p;
    begin();
    memset(&se, 0, sizeof se);
    se.l = listen_on("127.0.0.1:7005");
    group g;
    group_init(&g);
    go(&g, se_b, NULL);
    go(&g, se_a, NULL);
    wait_all(&g);
    np_fd *x = NULL;
    int err = np_dial("tcp", "127.0.0.1:7999", 0, &x);
    MX_ASSERT(err == -ECONNREFUSED, "a dial to a port nobody listens on: %s", np_strerror(err));
    MX_ASSERT(np_close(se.l) == 0, "closing the listener failed");
}

/* ---- write_deadline: a write deadline on a full buffer -----------------------------------------
 * Nobody reads: a 256-byte write fills the 64-byte buffer and must end with
 * NP_EDEADLINE at its 1 ms deadline (not before), having written what fit;
 * then the reader drains it all and sees EOF after the close. */
static struct {
    np_fd *c, *s;
} wd;

static void wd_reader(void *p)
{
    (void)p;
    unsigned char b[32];
    size_t total = 0;
    np_sleep(2 * MS);
    for (;;) {
        ssize_t r = np_read(wd.s, b, sizeof b);
        if (r == NP_EOF)
            break;
        MX_ASSERT(r > 0, "reader: %s", np_strerror((int)r));
        total += (size_t)r;
    }
    MX_ASSERT(total == 64, "reader: %zu bytes, the writer wrote 64", total);
    np_close(wd.s);
}

static void prog_write_deadline(void *p)
{
    (void)p;
    begin();
    memset(&wd, 0, sizeof wd);
    pair("127.0.0.1:7006", &wd.c, &wd.s);
    group g;
    group_init(&g);
    go(&g, wd_reader, NULL);
    static unsigned char big[256];
    int64_t dl = np_now() + 1 * MS;
    MX_ASSERT(np_set_write_deadline(wd.c, dl) == 0, "set write deadline failed");
    size_t written = 0;
    ssize_t w = np_write(wd.c, big, sizeof big, &written);
    MX_ASSERT(w == NP_EDEADLINE, "a 256-byte write into a 64-byte buffer nobody reads: %zd (%s)", w,
              np_strerror((int)w));
    MX_ASSERT(np_now() >= dl, "the write deadline fired %lld ns early", (long long)(dl - np_now()));
    MX_ASSERT(written == 64, "%zu bytes written before the deadline, 64 fit", written);
    MX_ASSERT(np_close(wd.c) == 0, "closing the writer failed");
    wait_all(&g);
}

/* ---- outside_wake: a thread that is not a worker wakes a task ------------------------------
 * np_ready and a semaphore's release may be called from any thread. An OS
 * thread of the program's own (not a worker) releases a core semaphore once
 * for each of a task's two waits on it, after the task says (through an OS
 * semaphore) that it is about to wait. Both wake-ups must reach an idle
 * worker: a sleeper's post or a break of the blocked poller, every time. */
static struct {
    np__sema s;
    np__ossem waiting;
    int woken;
} ow;

static void *ow_thread(void *p)
{
    (void)p;
    for (int k = 0; k < 2; k++) {
        (void)NP_OSSEM_WAIT(&ow.waiting);
        np__sema_release(&ow.s);
    }
    return NULL;
}

static void ow_task(void *p)
{
    (void)p;
    for (int k = 0; k < 2; k++) {
        NP_OSSEM_POST(&ow.waiting);
        np__sema_acquire(&ow.s);
        ow.woken++;
    }
}

static void prog_outside_wake(void *p)
{
    (void)p;
    begin();
    memset(&ow, 0, sizeof ow);
    np__sema_init(&ow.s);
    (void)NP_OSSEM_INIT(&ow.waiting);
    group g;
    group_init(&g);
    go(&g, ow_task, NULL);
    np__osthread th;
    int err = NP_THREAD_CREATE(&th, ow_thread, NULL);
    MX_ASSERT(err == 0, "thread create: %d", err);
    wait_all(&g);
    NP_THREAD_JOIN(th);
    MX_ASSERT(ow.woken == 2, "the task was woken %d times of 2", ow.woken);
}

/* ---- spread: work for every worker -----------------------------------------------------
 * The main task starts four tasks one after another, each yielding three
 * times: the tasks queue on the main task's worker while the others go idle
 * and steal, so a worker that publishes itself idle while a task already
 * waits in a ring is seen (the idle-worker invariant). Every task runs to
 * its end. */
static int sp_done;

static void sp_task(void *p)
{
    (void)p;
    for (int k = 0; k < 3; k++)
        np_yield();
    sp_done++;
}

static void prog_spread(void *p)
{
    (void)p;
    begin();
    sp_done = 0;
    group g;
    group_init(&g);
    for (int i = 0; i < 4; i++)
        go(&g, sp_task, NULL);
    wait_all(&g);
    MX_ASSERT(sp_done == 4, "%d of 4 tasks ended", sp_done);
}

/* ---- par_ready, par_poll2: an idle worker takes what a computing one cannot ----------------
 * Both start from a settled runtime - every task parked, the workers idle:
 * one blocked in the poller, the others asleep (a client thread of the
 * program's own, not a worker, computes 1 ms first; the clock moves only
 * once nothing else can step). The client then makes the poller return
 * with tasks, and those tasks compute (mx_busy: the worker stays busy for
 * 1 ms of virtual time). With two workers or more a sleeper exists at that
 * moment, and the scheduler promises to wake it for the work the busy
 * worker cannot run (scheduler.c's header: a waker wakes a sleeper; a
 * poller returning n tasks wakes up to n - 1):
 *  - par_ready: the poll returns one reader (n = 1: nobody is woken, the
 *    poller runs it, `polling` is false, a sleeper is published). The
 *    reader readies a task parked on a semaphore, then computes. np_ready
 *    from a running task uses runnext only when no worker sleeps or polls,
 *    so the task goes to the ring with a wake-up and a sleeper runs it
 *    while the reader computes.
 *  - par_poll2: a reader and a writer of one connection (the writer parked
 *    on a full buffer); the client closes its end with the bytes unread, so
 *    a reset makes both ready in one record: one poll returns both, the
 *    poller runs one and wakes a sleeper for the other. Each computes and
 *    requires the other to have started.
 * With one worker there is no idle worker to promise anything: the
 * statements are made from two workers on. */
static struct {
    np_fd *c;
    int ofd; /* the client's raw socket (the simulated kernel's) */
    bool close_it;
    np__sema go;
    bool started[2];
    ssize_t res[2];
} par;

static void *par_client(void *p)
{
    (void)p;
    int fd = NP_SYS(socket)(AF_INET, SOCK_STREAM, 0);
    MX_ASSERT(fd >= 0, "client socket: %d", errno);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7010)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = NP_SYS(connect)(fd, (struct sockaddr *)&a, sizeof a);
    MX_ASSERT(r == 0 || errno == EINPROGRESS, "client connect: %d", errno);
    par.ofd = fd;
    mx_busy(1 * MS); /* the runtime settles: tasks parked, workers idle */
    if (par.close_it) {
        MX_ASSERT(NP_SYS(close)(fd) == 0, "client close failed");
    } else {
        ssize_t w = NP_SYS(write)(fd, "x", 1);
        MX_ASSERT(w == 1, "client write: %zd", w);
    }
    return NULL;
}

static void par_ready_reader(void *p)
{
    (void)p;
    unsigned char b[4];
    ssize_t r = np_read(par.c, b, sizeof b);
    MX_ASSERT(r == 1, "reader: %zd (%s)", r, np_strerror((int)r));
    np__sema_release(&par.go); /* readies the waiting task */
    mx_busy(1 * MS);
    MX_PARALLEL(mx.workers < 2 || par.started[1],
                "the task readied (from a running task, a worker asleep and nobody polling) did "
                "not run while its waker computed for 1 ms on %d workers",
                mx.workers);
}

static void par_ready_waiter(void *p)
{
    (void)p;
    np__sema_acquire(&par.go);
    par.started[1] = true;
}

static void par_poll2_task(void *p)
{
    int i = (int)(intptr_t)p;
    static unsigned char big[128];
    size_t written = 0;
    par.res[i] =
        i == 0 ? np_read(par.c, big, sizeof big) : np_write(par.c, big, sizeof big, &written);
    par.started[i] = true;
    mx_busy(1 * MS);
    MX_PARALLEL(mx.workers < 2 || par.started[!i],
                "the %s, returned by the same poll as this %s, did not run while it computed "
                "for 1 ms on %d workers",
                i ? "reader" : "writer", i ? "writer" : "reader", mx.workers);
}

static void par_run(bool poll2)
{
    begin();
    memset(&par, 0, sizeof par);
    par.ofd = -1;
    par.close_it = poll2;
    np__sema_init(&par.go);
    np_fd *l = listen_on("127.0.0.1:7010");
    np__osthread th;
    int err = NP_THREAD_CREATE(&th, par_client, NULL);
    MX_ASSERT(err == 0, "thread create: %d", err);
    err = np_accept(l, &par.c);
    MX_ASSERT(err == 0, "np_accept: %s", np_strerror(err));
    MX_ASSERT(np_close(l) == 0, "closing the listener failed");
    group g;
    group_init(&g);
    if (poll2) {
        go(&g, par_poll2_task, (void *)0);
        go(&g, par_poll2_task, (void *)1);
    } else {
        go(&g, par_ready_reader, NULL);
        go(&g, par_ready_waiter, NULL);
    }
    wait_all(&g);
    NP_THREAD_JOIN(th);
    if (poll2) {
        MX_ASSERT(par.res[0] == -ECONNRESET, "reader after the reset: %zd (%s)", par.res[0],
                  np_strerror((int)par.res[0]));
        MX_ASSERT(par.res[1] < 0, "writer after the reset: %zd", par.res[1]);
    } else {
        MX_ASSERT(NP_SYS(close)(par.ofd) == 0, "client close failed");
    }
    MX_ASSERT(np_close(par.c) == 0, "closing the connection failed");
}

static void prog_par_ready(void *p)
{
    (void)p;
    par_run(false);
}

static void prog_par_poll2(void *p)
{
    (void)p;
    par_run(true);
}

/* par_busy: the self-test of mx_busy and MX_PARALLEL. Every worker
 * computes (one task per worker beside A, each 2 ms) when A, computing
 * too, readies a task parked on a semaphore: with no idle worker np_ready
 * puts it in A's runnext, where it waits for A (as Go's does). The
 * statement that it runs while A computes 0.5 ms more is false, and must
 * be found as lost-parallelism - not as a lost wake-up (a worker that
 * computes is not idle) nor a deadlock (the clock moves to the end of a
 * computation). */
static void par_busy_hog(void *p)
{
    (void)p;
    mx_busy(2 * MS);
}

static void par_busy_a(void *p)
{
    (void)p;
    mx_busy(1 * MS);
    np__sema_release(&par.go);
    mx_busy(MS / 2);
    MX_PARALLEL(par.started[1],
                "self-test: the task readied while every worker computes did not run before "
                "its waker's computation ended (it waits in runnext, by design)");
}

static void prog_par_busy(void *p)
{
    (void)p;
    begin();
    memset(&par, 0, sizeof par);
    np__sema_init(&par.go);
    group g;
    group_init(&g);
    for (int i = 1; i < mx.workers; i++)
        go(&g, par_busy_hog, NULL);
    go(&g, par_ready_waiter, NULL);
    go(&g, par_busy_a, NULL);
    wait_all(&g);
}

/* ---- sync_select_timeout: a select's deadline racing a send (netpoll/sync.h) -----------
 * An unbuffered channel; the main task receives with a select whose
 * deadline is 1 ms ahead, and a task sleeps 1 ms, then sends with a select
 * of the same deadline (then due: it does not wait). The sender's wake-up
 * and the receiver's timer fall due together, so the send races the timer
 * function on another worker. The value moved exactly when both sides say
 * so - never a send that nobody received, never a receive of a send that
 * timed out. */
static struct {
    np_chan *c;
    int64_t deadline;
    int send_rc;
    int sleeping; /* the sender is about to sleep */
} sst;

static void sst_sender(void *p)
{
    (void)p;
    int v = 77;
    sst.sleeping = 1;
    np_sleep(sst.deadline - np_now());
    np_select_case k = {.chan = sst.c, .op = NP_SELECT_SEND, .elem = &v};
    sst.send_rc = np_select(&k, 1, sst.deadline);
}

static void prog_sync_select_timeout(void *p)
{
    (void)p;
    begin();
    sst.c = np_chan_new(sizeof(int), 0);
    MX_ASSERT(sst.c, "np_chan_new");
    sst.deadline = np_now() + MS;
    sst.send_rc = -1;
    group g;
    group_init(&g);
    sst.sleeping = 0;
    go(&g, sst_sender, NULL);
    /* The sender's timer first (in most schedules): at 1 ms a worker fires
     * it, then the receiver's, while another may run the sender already. */
    for (int i = 0; i < 10 && !sst.sleeping; i++)
        np_yield();
    int v = 0;
    np_select_case k = {.chan = sst.c, .op = NP_SELECT_RECV, .elem = &v};
    int r = np_select(&k, 1, sst.deadline);
    wait_all(&g);
    MX_ASSERT(r == 0 || r == NP_EDEADLINE, "receive: %d", r);
    MX_ASSERT(sst.send_rc == 0 || sst.send_rc == NP_EDEADLINE, "send: %d", sst.send_rc);
    MX_ASSERT((r == 0) == (sst.send_rc == 0), "receive %d but send %d", r, sst.send_rc);
    MX_ASSERT(r != 0 || (k.ok && v == 77), "received ok=%d value %d", k.ok, v);
    np_chan_free(sst.c);
}

/* ---- sync_close_send: close racing a sender and a receiver (netpoll/sync.h) ------------
 * A channel of one slot; a task sends 0, 1, 2 until the channel is closed, a
 * task closes it, the main task receives until ok = false: every send that
 * returned 0 is received once, in order. */
static struct {
    np_chan *c;
    int sent, close_rc, bad;
} scs;

static void scs_sender(void *p)
{
    (void)p;
    for (int i = 0; i < 3; i++) {
        int r = np_chan_send(scs.c, &i);
        if (r) {
            scs.bad += r != NP_ECHANCLOSED;
            return;
        }
        scs.sent++;
    }
}

static void scs_closer(void *p)
{
    (void)p;
    scs.close_rc = np_chan_close(scs.c);
}

static void prog_sync_close_send(void *p)
{
    (void)p;
    begin();
    memset(&scs, 0, sizeof scs);
    scs.c = np_chan_new(sizeof(int), 1);
    MX_ASSERT(scs.c, "np_chan_new");
    group g;
    group_init(&g);
    go(&g, scs_sender, NULL);
    go(&g, scs_closer, NULL);
    int v, got = 0;
    while (got < 4 && np_chan_recv(scs.c, &v)) {
        MX_ASSERT(v == got, "received %d, expected %d", v, got);
        got++;
    }
    wait_all(&g);
    MX_ASSERT(scs.close_rc == 0 && !scs.bad, "close %d, bad sends %d", scs.close_rc, scs.bad);
    MX_ASSERT(got == scs.sent, "sent %d, received %d", scs.sent, got);
    np_chan_free(scs.c);
}

/* ---- sync_mutex: a mutex and a wait group (netpoll/sync.h) ----------------------------
 * Two tasks add to a counter under a mutex with a yield between the read
 * and the write (lost_update made right), the main task waits for both on
 * a wait group. */
static struct {
    np_mutex m;
    np_waitgroup wg;
    int counter;
} smx;

static void smx_add(void *p)
{
    (void)p;
    np_mutex_lock(&smx.m);
    int v = smx.counter;
    np_yield();
    smx.counter = v + 1;
    np_mutex_unlock(&smx.m);
    np_waitgroup_done(&smx.wg);
}

static void prog_sync_mutex(void *p)
{
    (void)p;
    begin();
    np_mutex_init(&smx.m);
    np_waitgroup_init(&smx.wg);
    smx.counter = 0;
    np_waitgroup_add(&smx.wg, 2);
    for (int i = 0; i < 2; i++)
        MX_ASSERT(np_go(smx_add, NULL) == 0, "np_go");
    np_waitgroup_wait(&smx.wg);
    MX_ASSERT(smx.counter == 2, "two additions made the counter %d", smx.counter);
}

/* ---- sync_mutex_rounds: a mutex contended again, trylock, a reused wait group -----------
 * trylock on a free and on a held mutex; then two rounds, each waiting on the
 * same wait group for two tasks that add to a counter twice under the mutex
 * with a yield inside: the mutex is contended (a waiter handed the mutex)
 * again after a handoff emptied its queue, and the main task waits on the
 * group again after it was released once. */
static struct {
    np_mutex m;
    np_waitgroup wg;
    int counter;
} smr;

static void smr_add(void *p)
{
    (void)p;
    for (int i = 0; i < 2; i++) {
        np_mutex_lock(&smr.m);
        int v = smr.counter;
        np_yield();
        smr.counter = v + 1;
        np_mutex_unlock(&smr.m);
    }
    np_waitgroup_done(&smr.wg);
}

static void prog_sync_mutex_rounds(void *p)
{
    (void)p;
    begin();
    np_mutex_init(&smr.m);
    np_waitgroup_init(&smr.wg);
    smr.counter = 0;
    MX_ASSERT(np_mutex_trylock(&smr.m), "trylock of a free mutex failed");
    MX_ASSERT(!np_mutex_trylock(&smr.m), "trylock of a locked mutex succeeded");
    np_mutex_unlock(&smr.m);
    for (int round = 1; round <= 2; round++) {
        np_waitgroup_add(&smr.wg, 2);
        for (int i = 0; i < 2; i++)
            MX_ASSERT(np_go(smr_add, NULL) == 0, "np_go");
        np_waitgroup_wait(&smr.wg);
        MX_ASSERT(smr.counter == 4 * round, "round %d: the counter is %d", round, smr.counter);
    }
    MX_ASSERT(np_mutex_trylock(&smr.m), "the mutex is not free at the end");
    np_mutex_unlock(&smr.m);
}

/* ---- sync_select_cases: a select over two channels, a lone select's deadline ----------
 * Unbuffered channels `idle` (nobody sends) and `c`. A sender sends 1 and 2
 * on c with a yield between, a receiver receives once from c (started last,
 * so on one worker it queues behind the main task), and the main task
 * selects over {recv idle, recv c} with a deadline that never passes first:
 * case 1 fires with one value, the receiver gets the other. Then a lone
 * select on `idle` whose 1 ms deadline passes, and the channels are freed
 * (nothing may still wait on them). `idle` is the one at the lower address,
 * so the select's lock order is the same in every execution. */
static struct {
    np_chan *idle, *c;
    int r_val;
    bool r_ok;
    int send_rc[2];
} ssc;

static void ssc_sender(void *p)
{
    (void)p;
    for (int i = 0; i < 2; i++) {
        int v = i + 1;
        ssc.send_rc[i] = np_chan_send(ssc.c, &v);
        np_yield();
    }
}

static void ssc_receiver(void *p)
{
    (void)p;
    ssc.r_ok = np_chan_recv(ssc.c, &ssc.r_val);
}

/* Two unbuffered channels of int, *lo at the lower address: np_select locks
 * its channels in address order (Go's lockorder), and malloc need not
 * return the two in the same order in every execution; roles given by
 * address make every execution take the same steps (the explorer replays
 * schedules and requires that). */
static void chan_pair(np_chan **lo, np_chan **hi)
{
    np_chan *x = np_chan_new(sizeof(int), 0), *y = np_chan_new(sizeof(int), 0);
    MX_ASSERT(x && y, "np_chan_new");
    bool xfirst = (uintptr_t)x < (uintptr_t)y;
    *lo = xfirst ? x : y;
    *hi = xfirst ? y : x;
}

static void prog_sync_select_cases(void *p)
{
    (void)p;
    begin();
    memset(&ssc, 0, sizeof ssc);
    chan_pair(&ssc.idle, &ssc.c); /* every execution locks idle first */
    group g;
    group_init(&g);
    go(&g, ssc_sender, NULL);
    go(&g, ssc_receiver, NULL);
    int a = -1, b = -1;
    np_select_case k[2] = {{.chan = ssc.idle, .op = NP_SELECT_RECV, .elem = &a},
                           {.chan = ssc.c, .op = NP_SELECT_RECV, .elem = &b}};
    int r = np_select(k, 2, np_now() + 100 * MS);
    MX_ASSERT(r == 1 && k[1].ok, "select: %d (case 1 ok %d)", r, k[1].ok);
    MX_ASSERT(a == -1, "the idle case wrote %d", a);
    wait_all(&g);
    MX_ASSERT(ssc.send_rc[0] == 0 && ssc.send_rc[1] == 0, "sends: %d %d", ssc.send_rc[0],
              ssc.send_rc[1]);
    MX_ASSERT(ssc.r_ok && b + ssc.r_val == 3 && b != ssc.r_val,
              "select got %d, receiver %d (ok %d)", b, ssc.r_val, ssc.r_ok);
    int v = -1;
    np_select_case lone = {.chan = ssc.idle, .op = NP_SELECT_RECV, .elem = &v};
    r = np_select(&lone, 1, np_now() + MS);
    MX_ASSERT(r == NP_EDEADLINE && v == -1, "lone select: %d, value %d", r, v);
    np_chan_free(ssc.idle);
    np_chan_free(ssc.c);
}

/* ---- sync_buffer_order: a full buffer with a sender waiting ---------------------------
 * A channel of two slots; a task sends 0, 1, 2, 3 and closes it; the main
 * task lets it fill the buffer (and, on one worker, wait with 2), then
 * receives until ok = false: 0, 1, 2, 3 in order, each once. */
static struct {
    np_chan *c;
    int full; /* the sender is about to send into a full buffer */
    int send_rc[4], close_rc;
} sbo;

static void sbo_sender(void *p)
{
    (void)p;
    for (int i = 0; i < 4; i++) {
        if (i == 2)
            sbo.full = 1;
        sbo.send_rc[i] = np_chan_send(sbo.c, &i);
    }
    sbo.close_rc = np_chan_close(sbo.c);
}

static void prog_sync_buffer_order(void *p)
{
    (void)p;
    begin();
    memset(&sbo, 0, sizeof sbo);
    sbo.c = np_chan_new(sizeof(int), 2);
    MX_ASSERT(sbo.c, "np_chan_new");
    group g;
    group_init(&g);
    go(&g, sbo_sender, NULL);
    for (int i = 0; i < 10 && !sbo.full; i++)
        np_yield();
    int v, got = 0;
    while (got < 5 && np_chan_recv(sbo.c, &v)) {
        MX_ASSERT(v == got, "received %d, expected %d", v, got);
        got++;
    }
    wait_all(&g);
    MX_ASSERT(got == 4, "received %d values of 4", got);
    for (int i = 0; i < 4; i++)
        MX_ASSERT(sbo.send_rc[i] == 0, "send %d: %d", i, sbo.send_rc[i]);
    MX_ASSERT(sbo.close_rc == 0, "close: %d", sbo.close_rc);
    np_chan_free(sbo.c);
}

/* ---- sync_close_waiters: close wakes every waiter; of two closes one fails -------------
 * Two one-slot channels, `full` (a value buffered before any task starts)
 * and `empty`, given their roles by address (see sync_select_cases). Two
 * senders wait on `full` and a third task in a select over {send on full,
 * recv on empty}; once they are about to wait (or after 10 yields), two
 * tasks each close `full`, then `empty`. Go's semantics (netpoll/sync.h):
 * of two closes of one channel exactly one succeeds (the other is Go's
 * panic, NP_ECHANCLOSED here); nobody receives before both closes return,
 * so no send can complete, and a close wakes every waiting sender with
 * NP_ECHANCLOSED and the select with ok = false on the case of the channel
 * closed first; the value buffered before the close is still received,
 * then ok = false with a zeroed value. */
static struct {
    np_chan *full, *empty;
    int waiting;        /* tasks about to wait */
    int send_rc[2];     /* the senders' */
    int close_rc[2][2]; /* [closer][0: full, 1: empty] */
    int sel_r, sel_v;   /* the select's result and received value */
    bool sel_ok;        /* ok of the case that fired */
} scw;

static void scw_sender(void *p)
{
    int i = (int)(intptr_t)p, v = i + 1;
    scw.waiting++;
    scw.send_rc[i] = np_chan_send(scw.full, &v);
}

static void scw_select(void *p)
{
    (void)p;
    int v = 3;
    np_select_case k[2] = {{.chan = scw.full, .op = NP_SELECT_SEND, .elem = &v},
                           {.chan = scw.empty, .op = NP_SELECT_RECV, .elem = &scw.sel_v}};
    scw.waiting++;
    scw.sel_r = np_select(k, 2, 0);
    if (scw.sel_r == 0 || scw.sel_r == 1)
        scw.sel_ok = k[scw.sel_r].ok;
}

static void scw_closer(void *p)
{
    int i = (int)(intptr_t)p;
    scw.close_rc[i][0] = np_chan_close(scw.full);
    scw.close_rc[i][1] = np_chan_close(scw.empty);
}

static void prog_sync_close_waiters(void *p)
{
    (void)p;
    begin();
    memset(&scw, 0, sizeof scw);
    scw.sel_v = -1;
    np_chan *x = np_chan_new(sizeof(int), 1), *y = np_chan_new(sizeof(int), 1);
    MX_ASSERT(x && y, "np_chan_new");
    bool xfirst = (uintptr_t)x < (uintptr_t)y;
    scw.full = xfirst ? x : y;
    scw.empty = xfirst ? y : x;
    int v = 10;
    MX_ASSERT(np_chan_send(scw.full, &v) == 0, "the first send into an empty buffer failed");
    group waiters, closers;
    group_init(&waiters);
    group_init(&closers);
    go(&waiters, scw_sender, (void *)0);
    go(&waiters, scw_sender, (void *)1);
    go(&waiters, scw_select, NULL);
    for (int i = 0; i < 10 && scw.waiting < 3; i++)
        np_yield();
    go(&closers, scw_closer, (void *)0);
    go(&closers, scw_closer, (void *)1);
    wait_all(&closers);
    for (int ch = 0; ch < 2; ch++) {
        int a = scw.close_rc[0][ch], b = scw.close_rc[1][ch];
        MX_ASSERT((a == 0 && b == NP_ECHANCLOSED) || (a == NP_ECHANCLOSED && b == 0),
                  "the two closes of %s returned %d and %d: exactly one must succeed",
                  ch ? "empty" : "full", a, b);
    }
    v = -1;
    bool ok = np_chan_recv(scw.full, &v);
    MX_ASSERT(ok && v == 10, "the value buffered before the close: ok %d, value %d", ok, v);
    v = -1;
    ok = np_chan_recv(scw.full, &v);
    MX_ASSERT(!ok && v == 0,
              "a receive after the buffered value of a closed channel: ok %d, value %d (no send "
              "could complete before the close)",
              ok, v);
    v = -1;
    ok = np_chan_recv(scw.empty, &v);
    MX_ASSERT(!ok && v == 0, "a receive from the closed empty channel: ok %d, value %d", ok, v);
    wait_all(&waiters);
    for (int i = 0; i < 2; i++)
        MX_ASSERT(scw.send_rc[i] == NP_ECHANCLOSED,
                  "sender %d: %d (nothing was received before the close: it must fail)", i,
                  scw.send_rc[i]);
    MX_ASSERT(scw.sel_r == 0 || scw.sel_r == 1, "the select returned %d", scw.sel_r);
    MX_ASSERT(!scw.sel_ok && (scw.sel_r == 0 || scw.sel_v == 0),
              "the select fired case %d with ok %d, value %d, on closed channels", scw.sel_r,
              scw.sel_ok, scw.sel_v);
    np_chan_free(scw.full);
    np_chan_free(scw.empty);
}

/* ---- sync_select_prompt: a select ends when a case fires, not at its deadline ----------
 * Unbuffered channels `a` and `b` (roles by address). Round 1: the main task
 * receives from a with a select whose deadline is 50 ms ahead while a task
 * sends to a with a select of the same deadline: whichever comes second
 * completes the other. Round 2: the main task selects over {recv a, recv b}
 * with a deadline 50 ms ahead, a task sends on b. Nothing in the program
 * sleeps, so the clock reaches a deadline only if a task that can proceed
 * stays parked: a select a partner completed must return at once (Go's
 * select proceeds as soon as one case can), its case with the value, and
 * the clock short of its deadline. */
static struct {
    np_chan *a, *b;
    int64_t deadline;
    int send_r[2];      /* the senders' results, by round */
    int64_t send_at[2]; /* np_now() when they returned */
} ssp;

static void ssp_send_a(void *p)
{
    (void)p;
    int v = 41;
    np_select_case k = {.chan = ssp.a, .op = NP_SELECT_SEND, .elem = &v};
    ssp.send_r[0] = np_select(&k, 1, ssp.deadline);
    if (ssp.send_r[0] == 0 && !k.ok)
        ssp.send_r[0] = NP_ECHANCLOSED;
    ssp.send_at[0] = np_now();
}

static void ssp_send_b(void *p)
{
    (void)p;
    int v = 42;
    ssp.send_r[1] = np_chan_send(ssp.b, &v);
    ssp.send_at[1] = np_now();
}

static void prog_sync_select_prompt(void *p)
{
    (void)p;
    begin();
    memset(&ssp, 0, sizeof ssp);
    chan_pair(&ssp.a, &ssp.b);
    group g;
    group_init(&g);

    ssp.deadline = np_now() + 50 * MS;
    go(&g, ssp_send_a, NULL);
    int v = -1;
    np_select_case k = {.chan = ssp.a, .op = NP_SELECT_RECV, .elem = &v};
    int r = np_select(&k, 1, ssp.deadline);
    int64_t at = np_now();
    MX_ASSERT(r == 0 && k.ok && v == 41, "round 1: receive %d (ok %d, value %d)", r, k.ok, v);
    MX_ASSERT(at < ssp.deadline,
              "round 1: the receive returned %lld ns past its deadline (0: at it)",
              (long long)(at - ssp.deadline));

    int64_t d2 = np_now() + 50 * MS;
    go(&g, ssp_send_b, NULL);
    int va = -1, vb = -1;
    np_select_case k2[2] = {{.chan = ssp.a, .op = NP_SELECT_RECV, .elem = &va},
                            {.chan = ssp.b, .op = NP_SELECT_RECV, .elem = &vb}};
    r = np_select(k2, 2, d2);
    at = np_now();
    MX_ASSERT(r == 1 && k2[1].ok && vb == 42 && va == -1,
              "round 2: select %d (ok %d, values %d %d)", r, k2[1].ok, va, vb);
    MX_ASSERT(at < d2, "round 2: the select returned %lld ns past its deadline (0: at it)",
              (long long)(at - d2));

    wait_all(&g);
    MX_ASSERT(ssp.send_r[0] == 0 && ssp.send_r[1] == 0, "sends: %d %d", ssp.send_r[0],
              ssp.send_r[1]);
    MX_ASSERT(ssp.send_at[0] < ssp.deadline,
              "round 1: the send returned %lld ns past its deadline (0: at it)",
              (long long)(ssp.send_at[0] - ssp.deadline));
    MX_ASSERT(ssp.send_at[1] < d2,
              "round 2: the send returned %lld ns past the select's deadline (0: at it)",
              (long long)(ssp.send_at[1] - d2));
    np_chan_free(ssp.a);
    np_chan_free(ssp.b);
}

/* ---- lost_update: a self-test, a bug of the program's own ----------------------------
 * Two tasks add to a counter with a yield between the read and the write:
 * a lost update on any number of workers. The explorer must find it (an
 * assertion); `netpoll check` fails if it does not. */
static int lu_counter;

static void lu_add(void *p)
{
    (void)p;
    int v = lu_counter;
    np_yield();
    lu_counter = v + 1;
}

static void prog_lost_update(void *p)
{
    (void)p;
    begin();
    lu_counter = 0;
    group g;
    group_init(&g);
    go(&g, lu_add, NULL);
    go(&g, lu_add, NULL);
    wait_all(&g);
    MX_ASSERT(lu_counter == 2, "two additions made the counter %d", lu_counter);
}

/* ---- writers_close: two writers of one connection, a handoff, then a close ---------------
 * Round 1: A writes 96 bytes into the 64-byte pipe and waits for room,
 * holding the write lock; 1 ms later B waits for the write lock with 16
 * bytes; 2 ms in, the far end reads all 112: A's unlock hands the lock to
 * B (a turn handed over with one writer waiting). Each write arrives whole
 * and in one piece: A's 96 then B's 16. Round 2, same connection: A writes
 * 128 and waits for room, B waits for the write lock, a third task closes
 * the connection: both writes fail with NP_ECLOSED (close wakes the writer
 * waiting for the lock as well as the one parked in the poller), nobody
 * hangs. */
static struct {
    np_fd *c, *s;
    ssize_t wr[2];
    size_t written[2];
    ssize_t rd;
    unsigned char got[112];
} wrc;

static void wrc_writer(void *p)
{
    int i = (int)(intptr_t)p & 1;   /* 0: A, 1: B */
    bool round2 = (intptr_t)p >= 2; /* round 2: with a close */
    unsigned char b[128];
    size_t n = i ? 16 : round2 ? 128 : 96;
    memset(b, i ? 'b' : 'a', n);
    if (i)
        np_sleep(1 * MS);
    wrc.wr[i] = np_write(wrc.c, b, n, &wrc.written[i]);
    if (round2)
        np_fd_release(wrc.c);
}

static void wrc_reader(void *p)
{
    (void)p;
    np_sleep(2 * MS);
    wrc.rd = read_full(wrc.s, wrc.got, sizeof wrc.got);
}

static void wrc_closer(void *p)
{
    (void)p;
    np_sleep(2 * MS);
    MX_ASSERT(np_close(wrc.c) == 0, "closing the writers' descriptor failed");
}

static void prog_writers_close(void *p)
{
    (void)p;
    begin();
    memset(&wrc, 0, sizeof wrc);
    pair("127.0.0.1:7011", &wrc.c, &wrc.s);
    group g;
    group_init(&g);
    go(&g, wrc_writer, (void *)0);
    go(&g, wrc_writer, (void *)1);
    go(&g, wrc_reader, NULL);
    wait_all(&g);
    MX_ASSERT(wrc.wr[0] == 96 && wrc.wr[1] == 16, "round 1 writes: %zd %zd", wrc.wr[0], wrc.wr[1]);
    MX_ASSERT(wrc.rd == 112, "round 1 read: %zd (%s)", wrc.rd, np_strerror((int)wrc.rd));
    for (int k = 0; k < 112; k++)
        MX_ASSERT(wrc.got[k] == (k < 96 ? 'a' : 'b'), "round 1: byte %d is %c", k, wrc.got[k]);

    memset(wrc.wr, 0, sizeof wrc.wr);
    memset(wrc.written, 0, sizeof wrc.written);
    np_fd_retain(wrc.c);
    np_fd_retain(wrc.c);
    group_init(&g);
    go(&g, wrc_writer, (void *)2);
    go(&g, wrc_writer, (void *)3);
    go(&g, wrc_closer, NULL);
    wait_all(&g);
    MX_ASSERT(wrc.wr[0] == NP_ECLOSED && wrc.written[0] < 128,
              "round 2: the writer in the poller: %zd (%s), %zu written", wrc.wr[0],
              np_strerror((int)wrc.wr[0]), wrc.written[0]);
    MX_ASSERT(wrc.wr[1] == NP_ECLOSED && wrc.written[1] == 0,
              "round 2: the writer waiting for the lock: %zd (%s), %zu written", wrc.wr[1],
              np_strerror((int)wrc.wr[1]), wrc.written[1]);
    np_close(wrc.s);
}

/* ---- sync_select_stale: stale select records in a channel's queue ------------------------
 * Round 1: S selects over {recv a, recv b}; 1 ms later W receives on b,
 * queued behind S's record; 2 ms in, P sends on a (which claims S) and at
 * once on b, while S has not yet run to unlink its record there: the first
 * waiter of b is S's record, stale now, and the send must go to W behind
 * it (Go's dequeue skips claimed sudogs). Round 2: a select with two cases
 * on ONE channel, completed by a send on it: the first case fires, and its
 * other record must be unlinked too (np_chan_free refuses a channel that
 * still has a waiter). */
static struct {
    np_chan *a, *b;
    int s_r, s_x, s_y, w_v, p_rc[2];
    bool w_ok;
} sss;

/* p NULL: a select over a and b; else over a twice */
static void sss_select(void *p)
{
    sss.s_x = sss.s_y = -1;
    np_select_case k[2] = {{.chan = sss.a, .op = NP_SELECT_RECV, .elem = &sss.s_x},
                           {.chan = p ? sss.a : sss.b, .op = NP_SELECT_RECV, .elem = &sss.s_y}};
    sss.s_r = np_select(k, 2, 0);
}

static void sss_receiver(void *p)
{
    (void)p;
    np_sleep(1 * MS);
    sss.w_ok = np_chan_recv(sss.b, &sss.w_v);
}

static void sss_sender(void *p)
{
    int round = (int)(intptr_t)p;
    np_sleep((round ? 1 : 2) * MS);
    int v = 1;
    sss.p_rc[0] = np_chan_send(sss.a, &v);
    if (round)
        return;
    v = 2;
    sss.p_rc[1] = np_chan_send(sss.b, &v);
}

static void prog_sync_select_stale(void *p)
{
    (void)p;
    begin();
    memset(&sss, 0, sizeof sss);
    chan_pair(&sss.a, &sss.b);
    group g;
    group_init(&g);
    go(&g, sss_select, NULL);
    go(&g, sss_receiver, NULL);
    go(&g, sss_sender, (void *)0);
    wait_all(&g);
    MX_ASSERT(sss.s_r == 0 && sss.s_x == 1 && sss.s_y == -1, "round 1: select %d (values %d %d)",
              sss.s_r, sss.s_x, sss.s_y);
    MX_ASSERT(sss.w_ok && sss.w_v == 2, "round 1: the receiver behind the select: ok %d, %d",
              sss.w_ok, sss.w_v);
    MX_ASSERT(sss.p_rc[0] == 0 && sss.p_rc[1] == 0, "round 1: sends %d %d", sss.p_rc[0],
              sss.p_rc[1]);

    memset(sss.p_rc, 0, sizeof sss.p_rc);
    group_init(&g);
    go(&g, sss_select, (void *)1);
    go(&g, sss_sender, (void *)1);
    wait_all(&g);
    MX_ASSERT(sss.s_r == 0 && sss.s_x == 1 && sss.s_y == -1, "round 2: select %d (values %d %d)",
              sss.s_r, sss.s_x, sss.s_y);
    MX_ASSERT(sss.p_rc[0] == 0, "round 2: send %d", sss.p_rc[0]);
    np_chan_free(sss.a); /* fatal if a record of the select is still queued */
    np_chan_free(sss.b);
}

/* ---- deadline_moved: a queued deadline timer moved later -------------------------------
 * Read deadlines at +2 ms on c and +3 ms on s, then c's moved to +10 ms (a
 * queued timer modified: the heap must be restored around it). A read on s
 * must fail at its own deadline, 3 ms in, not when c's timer comes due. */
static void prog_deadline_moved(void *p)
{
    (void)p;
    begin();
    np_fd *c, *s;
    pair("127.0.0.1:7012", &c, &s);
    int64_t t0 = np_now();
    MX_ASSERT(np_set_read_deadline(c, t0 + 2 * MS) == 0, "deadline on c");
    MX_ASSERT(np_set_read_deadline(s, t0 + 3 * MS) == 0, "deadline on s");
    MX_ASSERT(np_set_read_deadline(c, t0 + 10 * MS) == 0, "deadline on c moved");
    unsigned char b[16];
    ssize_t r = np_read(s, b, sizeof b);
    int64_t t1 = np_now();
    MX_ASSERT(r == NP_EDEADLINE, "read on s: %zd (%s)", r, np_strerror((int)r));
    MX_ASSERT(t1 - t0 >= 3 * MS && t1 - t0 < 10 * MS,
              "the read on s with a 3 ms deadline failed after %lld ns", (long long)(t1 - t0));
    r = np_read(c, b, sizeof b);
    MX_ASSERT(r == NP_EDEADLINE && np_now() - t0 >= 10 * MS, "read on c: %zd (%s) at %lld ns", r,
              np_strerror((int)r), (long long)(np_now() - t0));
    np_close(c);
    np_close(s);
}

/* ---- the programs' shared variables -------------------------------------------------
 * Tasks of a program share the statics of this file, on whichever workers
 * they run, and not every access is ordered by the runtime (lost_update
 * and spread race on purpose). State caching (mach.c, "histories") hashes
 * them by value, at every step: every non-constant static of this file is
 * named here, HASHED with the programs that use it ("*": all) or
 * NOT_HASHED with the reason, and tests/check_state_fields.sh fails if one
 * is not. Only the running program's are hashed (a step costs less); at
 * the end of every execution mx_program_globals_check() makes sure that no
 * other one changed, so a wrong attribution stops the exploration instead
 * of caching unsoundly. A new program's state goes here too. */
#define MX_PROGRAM_GLOBALS(HASHED, NOT_HASHED)                                                     \
    HASHED(nspawn, "*")                                                                            \
    NOT_HASHED(spawn_args) /* written once per task by go() before np_go queues the task, read by  \
                              the task once it runs (ordered by the run queue's seam), never       \
                              again: data-race free, covered by the histories */                   \
    HASHED(pp, "pingpong")                                                                         \
    HASHED(ac, "accept_close")                                                                     \
    HASHED(dc, "double_close")                                                                     \
    HASHED(wc, "write_close")                                                                      \
    NOT_HASHED(big) /* write_close's and write_deadline's sources: zeros, never written */         \
    HASHED(ho, "handoff")                                                                          \
    HASHED(rc, "readers_close readers_idle_close")                                                 \
    HASHED(se, "shutdown_eof")                                                                     \
    HASHED(wd, "write_deadline")                                                                   \
    HASHED(ow, "outside_wake")                                                                     \
    HASHED(sp_done, "spread")                                                                      \
    HASHED(sst, "sync_select_timeout")                                                             \
    HASHED(scs, "sync_close_send")                                                                 \
    HASHED(smx, "sync_mutex")                                                                      \
    HASHED(smr, "sync_mutex_rounds")                                                               \
    HASHED(ssc, "sync_select_cases")                                                               \
    HASHED(sbo, "sync_buffer_order")                                                               \
    HASHED(scw, "sync_close_waiters")                                                              \
    HASHED(ssp, "sync_select_prompt")                                                              \
    HASHED(lu_counter, "lost_update")                                                              \
    HASHED(wrc, "writers_close")                                                                   \
    HASHED(sss, "sync_select_stale")                                                               \
    HASHED(par, "par_ready par_poll2 par_busy")

typedef struct mx_region {
    const char *name;
    const char *progs;
    void *p;
    size_t n;
} mx_region;

#define MX_REGION(v, progs) {#v, progs, &(v), sizeof(v)},
#define MX_NO_REGION(v)
static const mx_region regions[] = {MX_PROGRAM_GLOBALS(MX_REGION, MX_NO_REGION)};
#undef MX_REGION
#undef MX_NO_REGION
#define NREGIONS (sizeof regions / sizeof regions[0])

static struct {
    const mx_region *on[NREGIONS]; /* the running program's */
    size_t non;
    const mx_region *off[NREGIONS]; /* the others' ... */
    size_t noff;
    unsigned char *snap; /* ... and their bytes when the exploration began */
} G;

static bool names(const char *list, const char *name)
{
    if (!strcmp(list, "*"))
        return true;
    size_t n = strlen(name);
    for (const char *q = list; (q = strstr(q, name)); q += n)
        if ((q == list || q[-1] == ' ') && (q[n] == 0 || q[n] == ' '))
            return true;
    return false;
}

void mx_program_globals_select(const mx_program *prog)
{
    size_t total = 0;
    G.non = G.noff = 0;
    for (size_t i = 0; i < NREGIONS; i++) {
        if (names(regions[i].progs, prog->name)) {
            G.on[G.non++] = &regions[i];
        } else {
            G.off[G.noff++] = &regions[i];
            total += regions[i].n;
        }
    }
    free(G.snap);
    G.snap = malloc(total ? total : 1);
    if (!G.snap)
        np__fatal("machine: out of memory");
    unsigned char *at = G.snap;
    for (size_t i = 0; i < G.noff; i++) {
        memcpy(at, G.off[i]->p, G.off[i]->n);
        at += G.off[i]->n;
    }
}

bool mx_program_globals_check(char *why, size_t cap)
{
    const unsigned char *at = G.snap;
    for (size_t i = 0; i < G.noff; i++) {
        if (memcmp(at, G.off[i]->p, G.off[i]->n)) {
            snprintf(why, cap,
                     "the program wrote %s, which MX_PROGRAM_GLOBALS (programs.c) does not "
                     "give to it",
                     G.off[i]->name);
            return false;
        }
        at += G.off[i]->n;
    }
    return true;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    if (n) { /* (by shifts: bytes stored and read back as a word would stall) */
        uint64_t w = 0;
        if (n >= 4) {
            uint32_t x;
            memcpy(&x, b, 4);
            w = x;
            for (size_t i = 4; i < n; i++)
                w |= (uint64_t)b[i] << (8 * i);
        } else {
            for (size_t i = 0; i < n; i++)
                w |= (uint64_t)b[i] << (8 * i);
        }
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

/* An 8-byte word of a program's variable that holds an address: its upper
 * half is in user space's 0x5000-0x7fff (the heap, a mapping, a stack, the
 * program's code). No program keeps an integer that large (2^46 and more:
 * its counters, lengths, results and virtual times are far below). */
static bool is_address(uint64_t w)
{
    return (w >> 32) >= 0x5000 && (w >> 32) < 0x8000;
}

/* The program's result as its shared variables show it at the end of an
 * execution, for the outcome classes (mexplore.c): their words but the
 * ones that hold an address, which differ from execution to execution with
 * malloc. */
uint64_t mx_program_outcome(void)
{
    uint64_t h = 0x6f7574636f6d65ull;
    for (size_t i = 0; i < G.non; i++) {
        const unsigned char *b = G.on[i]->p;
        size_t n = G.on[i]->n;
        for (size_t k = 0; k + 8 <= n; k += 8) {
            uint64_t w;
            memcpy(&w, b + k, 8);
            if (is_address(w))
                continue;
            h = (h ^ w) * 0x100000001b3ull;
            h ^= h >> 29;
        }
        h = hash_bytes(h, b + n / 8 * 8, n % 8);
    }
    return h;
}

/* The running program's variables: their bytes, but an address by its rank
 * among the addresses they hold (equal addresses, equal ranks; the order
 * kept), not its value, which depends on what malloc reused (glibc) or did
 * not (ASan's quarantine): states equal up to malloc's choice of addresses
 * hash equal, as in the runtime's memory (mach.c, "histories"), and the
 * order a select's locking follows (sync_select_cases) is kept. */
uint64_t mx_program_globals_hash(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t addr[32];
    size_t na = 0;
    for (size_t i = 0; i < G.non; i++) {
        const unsigned char *b = G.on[i]->p;
        size_t n = G.on[i]->n, k = 0;
        for (; k + 8 <= n; k += 8) {
            uint64_t w;
            memcpy(&w, b + k, 8);
            if (is_address(w) && na < sizeof addr / sizeof addr[0]) {
                addr[na++] = w;
                w = 0x61646472ull; /* its place, ranked below */
            }
            h = (h ^ w) * 0x100000001b3ull;
            h ^= h >> 29;
        }
        h = hash_bytes(h, b + k, n - k);
    }
    for (size_t i = 0; i < na; i++) {
        uint64_t rank = 0;
        for (size_t j = 0; j < na; j++)
            rank += addr[j] < addr[i];
        h = (h ^ rank) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

/* ---- the list ------------------------------------------------------------------------ */

static const mx_program programs[] = {
    {"pingpong",
     "A dials B; two 16-byte round trips, the second under a read deadline that B's "
     "reply races; A closes, B reads EOF (the pinned program)",
     prog_pingpong, NULL},
    {"accept_close", "an accept loop, a dialer, and a task that closes the listener",
     prog_accept_close, NULL},
    {"double_close", "two tasks close one connection while a third reads it", prog_double_close,
     NULL},
    {"write_close",
     "a writer blocked on a full 64-byte buffer while another task closes its descriptor and "
     "the far end reads and closes",
     prog_write_close, NULL},
    {"timers_idle", "three tasks sleep 1, 2 and 1 ms while every worker is idle", prog_timers_idle,
     NULL},
    {"handoff", "three tasks pass a token around twice through semaphores", prog_handoff, NULL},
    {"readers_close",
     "two tasks read one connection at once, one message arrives, a third task closes it",
     prog_readers_close, NULL},
    {"readers_idle_close",
     "two tasks read one connection at once, nothing arrives, a third task closes it",
     prog_readers_idle_close, NULL},
    {"shutdown_eof",
     "a request ended by shutdown read to EOF with short reads, a reply, EOF; a refused dial",
     prog_shutdown_eof, NULL},
    {"write_deadline", "a write deadline on a full buffer nobody reads, then the reader drains it",
     prog_write_deadline, NULL},
    {"outside_wake",
     "a thread that is not a worker wakes a task twice through a semaphore it waits on",
     prog_outside_wake, NULL},
    {"spread", "four tasks that yield three times each, started one after another", prog_spread,
     NULL},
    {"par_ready",
     "a poll returns one reader that readies a parked task and computes 1 ms: a sleeping "
     "worker must run the task meanwhile",
     prog_par_ready, NULL},
    {"par_poll2",
     "a reset makes a reader and a blocked writer ready in one poll; each computes 1 ms: the "
     "other must run meanwhile on a woken worker",
     prog_par_poll2, NULL},
    {"sync_select_timeout",
     "a select's 1 ms deadline racing a send made as it falls due, on an unbuffered channel "
     "(netpoll/sync.h)",
     prog_sync_select_timeout, NULL},
    {"sync_close_send",
     "close racing a sender and a receiver on a one-slot channel (netpoll/sync.h)",
     prog_sync_close_send, NULL},
    {"sync_mutex", "two tasks add under a mutex with a yield inside, a wait group waits for them",
     prog_sync_mutex, NULL},
    {"sync_mutex_rounds",
     "trylock; a mutex contended again after a handoff, a wait group waited on again after a "
     "release (netpoll/sync.h)",
     prog_sync_mutex_rounds, NULL},
    {"sync_select_cases",
     "a select over two channels woken by the second, another receiver queued behind it; a "
     "lone select whose deadline passes (netpoll/sync.h)",
     prog_sync_select_cases, NULL},
    {"sync_buffer_order",
     "a two-slot buffer filled with a sender waiting: values received in order, then close "
     "(netpoll/sync.h)",
     prog_sync_buffer_order, NULL},
    {"sync_close_waiters",
     "two senders and a select wait on a full channel, two tasks close it and an empty one: "
     "one close of each succeeds, every waiter wakes, the buffered value stays (netpoll/sync.h)",
     prog_sync_close_waiters, NULL},
    {"sync_select_prompt",
     "selects with a 50 ms deadline completed by a send or a receive return at once, not at "
     "the deadline (netpoll/sync.h)",
     prog_sync_select_prompt, NULL},
    {"writers_close",
     "two writers contend for one connection's write lock: a handoff, then a close while one "
     "waits in the poller and the other for the lock",
     prog_writers_close, NULL},
    {"sync_select_stale",
     "a send finds a claimed select's stale record before a live receiver; a select with two "
     "cases on one channel (netpoll/sync.h)",
     prog_sync_select_stale, NULL},
    {"deadline_moved",
     "a queued read deadline moved later must not hide an earlier one on another descriptor",
     prog_deadline_moved, NULL},
    {"par_busy",
     "self-test: a task readied while every worker computes waits in runnext (MX_PARALLEL must "
     "say so)",
     prog_par_busy, "lost-parallelism"},
    {"lost_update",
     "self-test: two tasks add to a counter with a yield between read and write (the "
     "explorer must find the lost update)",
     prog_lost_update, "assertion"},
};

const mx_program *mx_program_at(size_t i)
{
    return i < sizeof programs / sizeof programs[0] ? &programs[i] : NULL;
}

const mx_program *mx_program_find(const char *name)
{
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
        if (!strcmp(programs[i].name, name))
            return &programs[i];
    return NULL;
}
