/* tests/test_trace.c - the .npt reader and writer against TRACE_FORMAT.md. */
#include "netpoll/trace.h"

#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MSGLEN = 512 };

static int parse_str(const char *text, np_trace *tr, char *msg)
{
    return np_trace_parse_buf("t.npt", text, strlen(text), tr, msg, MSGLEN);
}

/* Parses text, which must be rejected with a message that starts with
 * `prefix` ("t.npt:LINE: ") and contains `needle`, leaving the trace empty. */
static void expect_invalid_(const char *text, const char *prefix, const char *needle, int line)
{
    np_trace tr;
    char msg[MSGLEN];
    int r = parse_str(text, &tr, msg);
    bool ok = r == -1 && strncmp(msg, prefix, strlen(prefix)) == 0 && strstr(msg, needle);

    if (!ok)
        fprintf(stderr, "%s:%d: wanted '%s...%s', got %d '%s'\n", __FILE__, line, prefix, needle, r,
                r ? msg : "");
    CU_ASSERT(ok);
    CU_ASSERT(tr.n == 0 && tr.ev == NULL && tr.name == NULL && !tr.has_wake && !tr.has_fire);
    np_trace_free(&tr);
}
#define expect_invalid(text, prefix, needle) expect_invalid_(text, prefix, needle, __LINE__)

/* Parses text, which must be accepted. */
static void expect_valid_(const char *text, np_trace *tr, int line)
{
    char msg[MSGLEN];
    int r = parse_str(text, tr, msg);

    if (r)
        fprintf(stderr, "%s:%d: rejected: %s\n", __FILE__, line, msg);
    CU_ASSERT_FATAL(r == 0);
}
#define expect_valid(text, tr) expect_valid_(text, tr, __LINE__)

/* The canonical text of tr (malloc'd), or NULL if emit fails. */
static char *emit_str(const np_trace *tr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    r = np_trace_emit(tr, f);
    fclose(f);
    NP_ASSERT_EQ_INT(r, 0);
    if (r) {
        free(buf);
        return NULL;
    }
    return buf;
}

#define H "netpoll-trace 1\n"

/* ---- accepted input ---- */

/* Every event form, with and without its optional keys, in canonical text. */
static const char every_form[] = H "0 open pd=1 fd=7\n"
                                   "0 deadline pd=1 mode=r at=5000\n"
                                   "0 deadline pd=1 mode=rw at=0\n"
                                   "10 wait g=1 pd=1 mode=r\n"
                                   "10 park g=1 pd=1 mode=r\n"
                                   "20 reset g=2 pd=1 mode=w\n"
                                   "20 reset g=2 pd=1 mode=w res=ok\n"
                                   "30 ready pd=1 mode=r\n"
                                   "30 ready pd=1 mode=rw tag=1\n"
                                   "30 ready pd=1 mode=r err=1\n"
                                   "30 ready pd=1 mode=w tag=1 err=1\n"
                                   "30 wake g=1 pd=1 mode=r res=ok\n"
                                   "40 wait g=2 pd=1 mode=w\n"
                                   "45 fire pd=1 mode=w\n"
                                   "45 wake g=2 pd=1 mode=w res=timeout\n"
                                   "50 unblock pd=1\n"
                                   "50 close pd=1\n"
                                   "60 open pd=1 fd=8\n"
                                   "60 ready pd=1 mode=r tag=1\n"
                                   "65 wait g=1 pd=1 mode=r\n"
                                   "70 unblock pd=1 g=3\n"
                                   "70 close pd=1 g=3\n"
                                   "70 wake g=1 pd=1 mode=r res=closing\n"
                                   "80 open pd=2147483647 fd=0\n"
                                   "80 wait g=4 pd=2147483647 mode=r\n"
                                   "90 wake g=4 pd=2147483647 mode=r res=notpollable\n"
                                   "9223372036854775807 reset g=4 pd=2147483647 mode=r "
                                   "res=closing\n";

static void emit_parse_emit_is_byte_identical(void)
{
    np_trace tr, tr2;
    char *a, *b;

    expect_valid(every_form, &tr);
    NP_ASSERT_EQ_INT(tr.n, 27);
    CU_ASSERT(tr.has_wake);
    CU_ASSERT(tr.has_fire);
    a = emit_str(&tr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a, every_form);
    expect_valid(a, &tr2);
    b = emit_str(&tr2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    np_trace_free(&tr);
    np_trace_free(&tr2);
}

static void emit_of_built_trace_is_canonical(void)
{
    np_trace tr = {0};
    np_tr_event ev[] = {
        {.t = 0, .kind = NP_TR_OPEN, .pd = 3, .fd = 5, .tag = -1, .res = -1},
        {.t = 1, .kind = NP_TR_READY, .pd = 3, .mode = NP_MODE_RW, .tag = -1, .err = 0, .res = -1},
        {.t = 2, .kind = NP_TR_RESET, .g = 9, .pd = 3, .mode = NP_MODE_R, .tag = -1, .res = -1},
        {.t = 2, .kind = NP_TR_RESET, .g = 9, .pd = 3, .mode = NP_MODE_R, .tag = -1, .res = 2},
        {.t = 3, .kind = NP_TR_UNBLOCK, .pd = 3, .g = 0, .tag = -1, .res = -1},
        {.t = 3, .kind = NP_TR_CLOSE, .pd = 3, .g = 9, .tag = -1, .res = -1},
    };
    char *s;

    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        NP_ASSERT_EQ_INT(np_trace_append(&tr, &ev[i]), 0);
    CU_ASSERT(!tr.has_wake && !tr.has_fire);
    s = emit_str(&tr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, H "0 open pd=3 fd=5\n"
                                "1 ready pd=3 mode=rw\n"
                                "2 reset g=9 pd=3 mode=r\n"
                                "2 reset g=9 pd=3 mode=r res=timeout\n"
                                "3 unblock pd=3\n"
                                "3 close pd=3 g=9\n");
    free(s);
    np_trace_free(&tr);
    CU_ASSERT(tr.ev == NULL && tr.n == 0 && tr.cap == 0);
}

static void emit_refuses_unwritable_events(void)
{
    np_trace tr = {0};
    np_tr_event bad[] = {
        {.kind = NP_TR_WAIT, .g = 1, .pd = 1, .mode = NP_MODE_RW, .tag = -1, .res = -1},
        {.kind = NP_TR_WAKE, .g = 1, .pd = 1, .mode = NP_MODE_R, .tag = -1, .res = -1},
        {.kind = NP_TR_OPEN, .pd = 0, .fd = 1, .tag = -1, .res = -1},
        {.kind = (np_tr_kind)42, .pd = 1},
        {.kind = NP_TR_DEADLINE, .pd = 1, .mode = 'x', .tag = -1, .res = -1},
    };
    FILE *f = tmpfile();

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tr.n = 0;
        NP_ASSERT_EQ_INT(np_trace_append(&tr, &bad[i]), 0);
        NP_ASSERT_EQ_INT(np_trace_emit(&tr, f), -EINVAL);
    }
    NP_ASSERT_EQ_INT(ftell(f), 0); /* nothing written */
    fclose(f);
    np_trace_free(&tr);
}

static const char contract_example[] =
    "netpoll-trace 1\n"
    "# a read that times out, then the deadline is cleared and data arrives\n"
    "0     open     pd=1 fd=7\n"
    "0     deadline pd=1 mode=r at=5000\n"
    "100   wait     g=1 pd=1 mode=r\n"
    "5000  wake     g=1 pd=1 mode=r res=timeout\n"
    "6000  deadline pd=1 mode=r at=0\n"
    "6000  reset    g=1 pd=1 mode=r res=ok\n"
    "6100  wait     g=1 pd=1 mode=r\n"
    "9000  ready    pd=1 mode=r\n"
    "9000  wake     g=1 pd=1 mode=r res=ok\n"
    "9500  unblock  pd=1\n"
    "9500  close    pd=1\n";

static void check_event(const np_tr_event *e, int64_t t, np_tr_kind kind, uint32_t line, int32_t pd,
                        int32_t g, int32_t fd, int mode, int64_t at, int64_t tag, int err, int res)
{
    NP_ASSERT_EQ_INT(e->t, t);
    NP_ASSERT_EQ_INT(e->kind, kind);
    NP_ASSERT_EQ_INT(e->line, line);
    NP_ASSERT_EQ_INT(e->pd, pd);
    NP_ASSERT_EQ_INT(e->g, g);
    NP_ASSERT_EQ_INT(e->fd, fd);
    NP_ASSERT_EQ_INT(e->mode, mode);
    NP_ASSERT_EQ_INT(e->at, at);
    NP_ASSERT_EQ_INT(e->tag, tag);
    NP_ASSERT_EQ_INT(e->err, err);
    NP_ASSERT_EQ_INT(e->res, res);
}

static void contract_example_parses(void)
{
    np_trace tr;
    const np_tr_event *e;

    expect_valid(contract_example, &tr);
    CU_ASSERT_STRING_EQUAL(tr.name, "t.npt");
    NP_ASSERT_EQ_INT(tr.n, 11);
    CU_ASSERT(tr.has_wake);
    CU_ASSERT(!tr.has_fire);
    e = tr.ev;
    check_event(&e[0], 0, NP_TR_OPEN, 3, 1, 0, 7, 0, 0, -1, 0, -1);
    check_event(&e[1], 0, NP_TR_DEADLINE, 4, 1, 0, 0, NP_MODE_R, 5000, -1, 0, -1);
    check_event(&e[2], 100, NP_TR_WAIT, 5, 1, 1, 0, NP_MODE_R, 0, -1, 0, -1);
    check_event(&e[3], 5000, NP_TR_WAKE, 6, 1, 1, 0, NP_MODE_R, 0, -1, 0, NP_POLL_TIMEOUT);
    check_event(&e[4], 6000, NP_TR_DEADLINE, 7, 1, 0, 0, NP_MODE_R, 0, -1, 0, -1);
    check_event(&e[5], 6000, NP_TR_RESET, 8, 1, 1, 0, NP_MODE_R, 0, -1, 0, NP_POLL_OK);
    check_event(&e[6], 6100, NP_TR_WAIT, 9, 1, 1, 0, NP_MODE_R, 0, -1, 0, -1);
    check_event(&e[7], 9000, NP_TR_READY, 10, 1, 0, 0, NP_MODE_R, 0, -1, 0, -1);
    check_event(&e[8], 9000, NP_TR_WAKE, 11, 1, 1, 0, NP_MODE_R, 0, -1, 0, NP_POLL_OK);
    check_event(&e[9], 9500, NP_TR_UNBLOCK, 12, 1, 0, 0, 0, 0, -1, 0, -1);
    check_event(&e[10], 9500, NP_TR_CLOSE, 13, 1, 0, 0, 0, 0, -1, 0, -1);
    np_trace_free(&tr);
}

static void accepts_comments_blanks_crlf_key_order_no_final_newline(void)
{
    np_trace tr;
    const char *text = "# leading comment\r\n"
                       "\r\n"
                       "netpoll-trace 1   # header comment\r\n"
                       "   \t\r\n"
                       "  0\topen fd=7 pd=1# glued comment\r\n"
                       "5 ready err=1 tag=1 mode=w pd=1 \r\n"
                       "6 wait mode=r pd=1 g=2\r\n"
                       "#\r\n"
                       "7 ready mode=r pd=1 err=0"; /* no final newline */

    expect_valid(text, &tr);
    NP_ASSERT_EQ_INT(tr.n, 4);
    check_event(&tr.ev[0], 0, NP_TR_OPEN, 5, 1, 0, 7, 0, 0, -1, 0, -1);
    check_event(&tr.ev[1], 5, NP_TR_READY, 6, 1, 0, 0, NP_MODE_W, 0, 1, 1, -1);
    check_event(&tr.ev[2], 6, NP_TR_WAIT, 7, 1, 2, 0, NP_MODE_R, 0, -1, 0, -1);
    check_event(&tr.ev[3], 7, NP_TR_READY, 9, 1, 0, 0, NP_MODE_R, 0, -1, 0, -1);
    CU_ASSERT(!tr.has_wake);
    np_trace_free(&tr);

    expect_valid(H, &tr); /* a header alone is an empty scenario */
    NP_ASSERT_EQ_INT(tr.n, 0);
    np_trace_free(&tr);
    expect_valid("netpoll-trace 1", &tr);
    np_trace_free(&tr);
}

/* Reading: a ready with an explicit tag may name an older incarnation, even
 * after the slot is closed (an in-flight event), and a wake may follow the
 * close of its slot (replay rule 1 runs the woken task after the stimuli). */
static void accepts_stale_tagged_ready_and_wake_after_close(void)
{
    np_trace tr;

    expect_valid(H "0 open pd=1 fd=3\n"
                   "0 wait g=1 pd=1 mode=r\n"
                   "1 unblock pd=1\n"
                   "1 close pd=1\n"
                   "1 wake g=1 pd=1 mode=r res=closing\n"
                   "2 ready pd=1 mode=r tag=1\n"
                   "3 open pd=1 fd=3\n"
                   "4 ready pd=1 mode=r tag=1 err=1\n"
                   "4 ready pd=1 mode=r tag=2\n"
                   "5 unblock pd=1\n"
                   "5 ready pd=1 mode=r\n"
                   "5 reset g=1 pd=1 mode=r res=closing\n"
                   "6 close pd=1\n"
                   "7 ready pd=1 mode=w tag=2\n",
                 &tr);
    NP_ASSERT_EQ_INT(tr.n, 14);
    NP_ASSERT_EQ_INT(tr.ev[5].tag, 1);
    NP_ASSERT_EQ_INT(tr.ev[7].err, 1);
    np_trace_free(&tr);
}

static void parse_file_reads_a_file(void)
{
    char path[] = "/tmp/test_trace_XXXXXX";
    int fd = mkstemp(path);
    np_trace tr;
    char msg[MSGLEN];
    FILE *f;

    CU_ASSERT_FATAL(fd >= 0);
    f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(contract_example, f);
    fclose(f);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tr, msg, sizeof msg), 0);
    NP_ASSERT_EQ_INT(tr.n, 11);
    CU_ASSERT_STRING_EQUAL(tr.name, path);
    np_trace_free(&tr);

    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(H "0 open pd=1 fd=1\n1 open pd=1 fd=2\n", f);
    fclose(f);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tr, msg, sizeof msg), -1);
    CU_ASSERT(strncmp(msg, path, strlen(path)) == 0 && strncmp(msg + strlen(path), ":3: ", 4) == 0);
    CU_ASSERT(tr.n == 0 && tr.ev == NULL && tr.name == NULL);
    unlink(path);
}

/* Writes len bytes of text to a new temporary file; its path into path. */
static void write_temp(char *path, const char *text, size_t len)
{
    int fd = mkstemp(path);
    FILE *f;

    CU_ASSERT_FATAL(fd >= 0);
    f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_FATAL(fwrite(text, 1, len, f) == len);
    fclose(f);
}

/* A file gives what its bytes give as a buffer. np_trace_parse_file reads a
 * regular file in pieces of 256 KiB, so this one is larger than a few pieces,
 * has lines of every form (fast path and slow path) cut at piece borders, one
 * line longer than a piece, no final newline; and then an invalid line that
 * starts just before a border, which must be reported at its line. */
static void parse_file_in_pieces_matches_parse_buf(void)
{
    static const char *const lines[] = {
        "%d open pd=%d fd=%d\n",
        "%d deadline pd=%d mode=r at=%d\n",
        "%d wait g=1 pd=%d mode=r # waits %d\n",
        "%d\tready  pd=%d mode=rw\r\n",
        "  %d ready mode=w pd=%d tag=%d\n",
        "%d wake g=1 pd=%d mode=r res=timeout\n",
    };
    enum { PIECE = 256 * 1024, MAXLEN = 1 << 21 };
    char *text = malloc(MAXLEN), path[] = "/tmp/test_trace_XXXXXX", msg[MSGLEN], want[MSGLEN];
    size_t len = 0;
    int nlines = 1, r;
    np_trace tf, tb;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    len += (size_t)sprintf(text, H);
    for (int i = 0; len < 3 * PIECE; i++) {
        int pd = 1 + i % 50;

        if (i < 50)
            len += (size_t)sprintf(text + len, lines[0], i, pd, i);
        else
            len += (size_t)sprintf(text + len, lines[1 + i % 5], i, pd, 1);
        nlines++;
        if (i == 5000) { /* a comment line longer than a piece */
            text[len++] = '#';
            memset(text + len, 'x', PIECE + 100);
            len += PIECE + 100;
            text[len++] = '\n';
            nlines++;
        }
    }
    len += (size_t)sprintf(text + len, "999999 ready pd=1 mode=r");
    nlines++;
    write_temp(path, text, len);
    NP_ASSERT_EQ_INT(np_trace_parse_buf(path, text, len, &tb, want, sizeof want), 0);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tf, msg, sizeof msg), 0);
    CU_ASSERT(tf.n == (size_t)nlines - 2 && tf.has_wake && !tf.has_fire);
    CU_ASSERT(tf.n == tb.n && memcmp(tf.ev, tb.ev, tf.n * sizeof *tf.ev) == 0);
    np_trace_free(&tf);
    np_trace_free(&tb);
    unlink(path);

    /* The same text up to the line before the third border, a comment to 10
     * bytes before the border, and an invalid line across it. */
    len = 3 * PIECE - 200;
    while (text[len - 1] != '\n')
        len--;
    text[len++] = '#';
    while (len < 3 * PIECE - 11)
        text[len++] = 'y';
    text[len++] = '\n';
    nlines = 1;
    for (size_t i = 0; i < len; i++)
        nlines += text[i] == '\n';
    len += (size_t)sprintf(text + len, "1000000 wait g=1 pd=1 mode=rw\n1000001 open pd=1 fd=1\n");
    strcpy(path, "/tmp/test_trace_XXXXXX");
    write_temp(path, text, len);
    r = np_trace_parse_buf(path, text, len, &tb, want, sizeof want);
    NP_ASSERT_EQ_INT(r, -1);
    snprintf(msg, sizeof msg, "%s:%d: wait: mode rw is not allowed", path, nlines);
    CU_ASSERT(strncmp(want, msg, strlen(msg)) == 0);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tf, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, want);
    CU_ASSERT(tf.n == 0 && tf.ev == NULL && tf.name == NULL);
    unlink(path);
    free(text);
}

/* A header that starts after a piece's worth of comments is cut by the
 * piece's end: what has arrived of it ("netpoll-") is not yet an error. And
 * input that is not a trace fails at line 1 without being read whole: here a
 * pipe that never ends. */
static void header_across_a_piece_and_endless_garbage(void)
{
    enum { PIECE = 256 * 1024 };
    char *text = malloc(PIECE + 64), path[] = "/tmp/test_trace_XXXXXX", msg[MSGLEN], want[MSGLEN];
    size_t len = 0;
    np_trace tr;
    int fds[2];

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    text[len++] = '#';
    while (len < PIECE - 9)
        text[len++] = 'c';
    text[len++] = '\n';
    len += (size_t)sprintf(text + len, "netpoll-trace 1\n0 open pd=1 fd=3\n");
    CU_ASSERT_FATAL(memcmp(text + PIECE - 8, "netpoll-", 8) == 0);
    write_temp(path, text, len);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tr, msg, sizeof msg), 0);
    NP_ASSERT_EQ_INT(tr.n, 1);
    np_trace_free(&tr);
    unlink(path);
    free(text);

    CU_ASSERT_FATAL(pipe(fds) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) { /* a writer of zeros until the reader goes */
        static const char zeros[4096];
        close(fds[0]);
        while (write(fds[1], zeros, sizeof zeros) > 0)
            ;
        _exit(0);
    }
    close(fds[1]);
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    NP_ASSERT_EQ_INT(np_trace_parse_file(path, &tr, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "%s:1: invalid control character 0x00", path);
    CU_ASSERT_STRING_EQUAL(msg, want);
    close(fds[0]);
    waitpid(pid, NULL, 0);
}

static void missing_file_reports_strerror(void)
{
    np_trace tr;
    char msg[MSGLEN];

    NP_ASSERT_EQ_INT(np_trace_parse_file("/nonexistent/dir/x.npt", &tr, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "/nonexistent/dir/x.npt: No such file or directory");
    CU_ASSERT(tr.n == 0 && tr.ev == NULL && tr.name == NULL);
    NP_ASSERT_EQ_INT(np_trace_parse_file("/", &tr, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "/: Is a directory");
}

static void kind_names(void)
{
    static const char *const names[] = {"open",    "deadline", "wait", "reset", "ready",
                                        "unblock", "close",    "wake", "park",  "fire"};

    for (int k = NP_TR_OPEN; k <= NP_TR_FIRE; k++)
        CU_ASSERT_STRING_EQUAL(np_tr_kind_name((np_tr_kind)k), names[k]);
    CU_ASSERT_STRING_EQUAL(np_tr_kind_name((np_tr_kind)99), "?");
}

/* ---- rejected input: one test per rule ---- */

static void rejects_missing_header(void)
{
    expect_invalid("0 open pd=1 fd=7\n", "t.npt:1: ", "missing header");
    expect_invalid("# only a comment\n\n0 open pd=1 fd=7\n", "t.npt:3: ", "missing header");
    expect_invalid("", "t.npt:1: ", "missing header");
    expect_invalid("# nothing\n\n", "t.npt:2: ", "missing header");
}

static void rejects_header_not_exact(void)
{
    expect_invalid(" netpoll-trace 1\n", "t.npt:1: ", "header must be exactly");
    expect_invalid("netpoll-trace  1\n", "t.npt:1: ", "header must be exactly");
    expect_invalid("netpoll-trace\n", "t.npt:1: ", "header without a version");
    expect_invalid("NETPOLL-TRACE 1\n", "t.npt:1: ", "missing header");
}

static void rejects_wrong_version(void)
{
    expect_invalid("netpoll-trace 2\n", "t.npt:1: ", "unsupported trace version '2'");
    expect_invalid("#c\nnetpoll-trace 01\n", "t.npt:2: ", "unsupported trace version '01'");
}

static void rejects_duplicate_header(void)
{
    expect_invalid(H H, "t.npt:2: ", "duplicate header");
}

static void rejects_time_not_integer(void)
{
    expect_invalid(H "1e3 open pd=1 fd=7\n", "t.npt:2: ", "time '1e3' is not an integer");
    expect_invalid(H "+5 open pd=1 fd=7\n", "t.npt:2: ", "time '+5' is not an integer");
    expect_invalid(H "open pd=1 fd=7\n", "t.npt:2: ", "time 'open' is not an integer");
    expect_invalid(H "99999999999999999999 open pd=1 fd=7\n", "t.npt:2: ", "out of range");
}

static void rejects_negative_time(void)
{
    expect_invalid(H "-5 open pd=1 fd=7\n", "t.npt:2: ", "negative time -5");
}

static void rejects_decreasing_time(void)
{
    expect_invalid(H "10 open pd=1 fd=7\n# c\n9 deadline pd=1 mode=r at=0\n",
                   "t.npt:4: ", "time 9 is before the previous line's time 10");
}

static void rejects_missing_event(void)
{
    expect_invalid(H "10\n", "t.npt:2: ", "missing event");
}

static void rejects_unknown_event(void)
{
    expect_invalid(H "0 opne pd=1 fd=7\n", "t.npt:2: ", "unknown event 'opne'");
    expect_invalid(H "0 OPEN pd=1 fd=7\n", "t.npt:2: ", "unknown event 'OPEN'");
}

static void rejects_unknown_key(void)
{
    expect_invalid(H "0 open pd=1 fd=7 colour=red\n",
                   "t.npt:2: ", "unknown key 'colour' for open (keys: pd fd)");
    /* a key of another event is unknown to this one */
    expect_invalid(H "0 open pd=1 fd=7 mode=r\n", "t.npt:2: ", "unknown key 'mode' for open");
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r res=ok\n",
                   "t.npt:3: ", "unknown key 'res' for ready (keys: pd mode [tag] [err])");
}

static void rejects_duplicate_key(void)
{
    expect_invalid(H "0 open pd=1 fd=7 pd=1\n", "t.npt:2: ", "duplicate key 'pd'");
}

static void rejects_missing_required_key(void)
{
    expect_invalid(H "0 open pd=1\n", "t.npt:2: ", "open: missing required key 'fd'");
    expect_invalid(H "0 open pd=1 fd=1\n1 wake g=1 pd=1 mode=r\n",
                   "t.npt:3: ", "wake: missing required key 'res'");
}

static void rejects_malformed_key_value(void)
{
    expect_invalid(H "0 open pd= fd=7\n", "t.npt:2: ", "malformed key=value 'pd='");
    expect_invalid(H "0 open =1 fd=7\n", "t.npt:2: ", "malformed key=value '=1'");
}

static void rejects_trailing_garbage(void)
{
    expect_invalid(H "0 open pd=1 fd=7 junk\n", "t.npt:2: ", "trailing garbage 'junk'");
    expect_invalid("netpoll-trace 1 x\n", "t.npt:1: ", "trailing garbage 'x' after the header");
}

static void rejects_control_character(void)
{
    static const char text[] = H "0 open pd=1\0 fd=7\n";

    expect_invalid(H "0 open pd=1 fd=7\r\r\n", "t.npt:2: ", "invalid control character 0x0d");
    {
        np_trace tr;
        char msg[MSGLEN];

        NP_ASSERT_EQ_INT(np_trace_parse_buf("t.npt", text, sizeof text - 1, &tr, msg, MSGLEN), -1);
        CU_ASSERT_STRING_EQUAL(msg, "t.npt:2: invalid control character 0x00");
    }
}

static void rejects_bad_integer_non_digit(void)
{
    expect_invalid(H "0 open pd=1x fd=7\n",
                   "t.npt:2: ", "bad integer 'pd=1x': not a decimal number");
    expect_invalid(H "0 open pd=1 fd=0x10\n", "t.npt:2: ", "bad integer 'fd=0x10'");
    expect_invalid(H "0 open pd=1 fd=7\n1 deadline pd=1 mode=r at=+5\n",
                   "t.npt:3: ", "bad integer 'at=+5'");
}

static void rejects_bad_integer_overflow(void)
{
    expect_invalid(H "0 open pd=2147483648 fd=7\n",
                   "t.npt:2: ", "bad integer 'pd=2147483648': out of range");
    expect_invalid(H "0 open pd=1 fd=7\n0 deadline pd=1 mode=r at=9223372036854775808\n",
                   "t.npt:3: ", "out of range");
    expect_invalid(H "0 open pd=1 fd=99999999999999999999999\n", "t.npt:2: ", "out of range");
}

static void rejects_pd_not_positive(void)
{
    expect_invalid(H "0 open pd=0 fd=7\n", "t.npt:2: ", "pd must be positive, not 0");
    expect_invalid(H "0 open pd=-3 fd=7\n", "t.npt:2: ", "pd must be positive, not -3");
}

static void rejects_g_not_positive(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 wait g=0 pd=1 mode=r\n",
                   "t.npt:3: ", "g must be positive, not 0");
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1 g=-1\n",
                   "t.npt:3: ", "g must be positive, not -1");
}

static void rejects_negative_fd_and_at(void)
{
    expect_invalid(H "0 open pd=1 fd=-1\n", "t.npt:2: ", "fd must be >= 0, not -1");
    expect_invalid(H "0 open pd=1 fd=1\n0 deadline pd=1 mode=r at=-1\n",
                   "t.npt:3: ", "at must be >= 0, not -1");
}

static void rejects_bad_mode(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 deadline pd=1 mode=wr at=0\n",
                   "t.npt:3: ", "mode must be r, w or rw, not 'wr'");
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=R\n",
                   "t.npt:3: ", "mode must be r, w or rw, not 'R'");
}

static void rejects_wait_with_mode_rw(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 wait g=1 pd=1 mode=rw\n",
                   "t.npt:3: ", "wait: mode rw is not allowed");
}

static void rejects_reset_with_mode_rw(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 reset g=1 pd=1 mode=rw res=ok\n",
                   "t.npt:3: ", "reset: mode rw is not allowed");
}

/* Reading: wake and park report a pollWait, which is r or w. */
static void rejects_wake_and_park_with_mode_rw(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 wake g=1 pd=1 mode=rw res=ok\n",
                   "t.npt:3: ", "wake: mode rw is not allowed");
    expect_invalid(H "0 open pd=1 fd=7\n1 park g=1 pd=1 mode=rw\n",
                   "t.npt:3: ", "park: mode rw is not allowed");
}

static void rejects_bad_res(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 wake g=1 pd=1 mode=r res=timedout\n",
                   "t.npt:3: ", "res must be ok, closing, timeout or notpollable, not 'timedout'");
    expect_invalid(H "0 open pd=1 fd=7\n1 reset g=1 pd=1 mode=r res=0\n",
                   "t.npt:3: ", "res must be ok, closing, timeout or notpollable, not '0'");
}

static void rejects_bad_err(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r err=2\n",
                   "t.npt:3: ", "err must be 0 or 1, not '2'");
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r err=yes\n",
                   "t.npt:3: ", "err must be 0 or 1, not 'yes'");
}

static void rejects_negative_tag(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r tag=-1\n",
                   "t.npt:3: ", "tag must be a non-negative incarnation number, not -1");
}

/* Reading: incarnations count from 1; a tag names one that has existed. */
static void rejects_tag_naming_no_incarnation(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r tag=0\n",
                   "t.npt:3: ", "tag=0 names no incarnation");
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=1 mode=r tag=2\n",
                   "t.npt:3: ", "tag=2 names a future incarnation of pd=1");
}

static void rejects_open_on_slot_not_free(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 open pd=1 fd=8\n",
                   "t.npt:3: ", "open: pd=1 is not free (incarnation 1 opened at line 2");
    /* unblocked is not closed */
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n2 open pd=1 fd=8\n",
                   "t.npt:4: ", "open: pd=1 is not free");
}

static void rejects_pd_never_opened(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 wait g=1 pd=2 mode=r\n",
                   "t.npt:3: ", "wait: pd=2 was never opened");
    expect_invalid(H "0 deadline pd=1 mode=r at=5\n",
                   "t.npt:2: ", "deadline: pd=1 was never opened");
    expect_invalid(H "0 wake g=1 pd=1 mode=r res=ok\n", "t.npt:2: ", "wake: pd=1 was never opened");
    expect_invalid(H "0 fire pd=4 mode=r\n", "t.npt:2: ", "fire: pd=4 was never opened");
}

static void rejects_tagged_ready_on_pd_never_opened(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 ready pd=2 mode=r tag=1\n",
                   "t.npt:3: ", "ready: pd=2 was never opened");
}

static void rejects_use_after_close(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n2 close pd=1\n3 wait g=1 pd=1 mode=r\n",
                   "t.npt:5: ", "wait: pd=1 is used after its close at line 4");
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n2 close pd=1\n3 close pd=1\n",
                   "t.npt:5: ", "close: pd=1 is used after its close");
}

/* Reading: an untagged ready names the current incarnation, so it needs an
 * open slot. */
static void rejects_untagged_ready_after_close(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n2 close pd=1\n3 ready pd=1 mode=r\n",
                   "t.npt:5: ",
                   "ready: pd=1 is used after its close at line 4 (a ready of an "
                   "older incarnation needs a tag)");
}

static void rejects_close_without_unblock(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 close pd=1\n",
                   "t.npt:3: ", "close: pd=1 without a prior unblock (incarnation 1");
    /* the unblock must be of the current incarnation */
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n1 close pd=1\n2 open pd=1 fd=7\n"
                     "3 close pd=1\n",
                   "t.npt:6: ", "close: pd=1 without a prior unblock (incarnation 2");
}

/* Reading: pollUnblock twice aborts, so a trace cannot contain it. */
static void rejects_double_unblock(void)
{
    expect_invalid(H "0 open pd=1 fd=7\n1 unblock pd=1\n2 unblock pd=1\n",
                   "t.npt:4: ", "unblock: pd=1 was already unblocked at line 3");
}

static void add_suites(void)
{
    static const np_test_case accept[] = {
        {"emit_parse_emit_is_byte_identical", emit_parse_emit_is_byte_identical},
        {"emit_of_built_trace_is_canonical", emit_of_built_trace_is_canonical},
        {"emit_refuses_unwritable_events", emit_refuses_unwritable_events},
        {"contract_example_parses", contract_example_parses},
        {"accepts_comments_blanks_crlf_key_order_no_final_newline",
         accepts_comments_blanks_crlf_key_order_no_final_newline},
        {"accepts_stale_tagged_ready_and_wake_after_close",
         accepts_stale_tagged_ready_and_wake_after_close},
        {"parse_file_reads_a_file", parse_file_reads_a_file},
        {"parse_file_in_pieces_matches_parse_buf", parse_file_in_pieces_matches_parse_buf},
        {"header_across_a_piece_and_endless_garbage", header_across_a_piece_and_endless_garbage},
        {"missing_file_reports_strerror", missing_file_reports_strerror},
        {"kind_names", kind_names},
        {NULL, NULL},
    };
    static const np_test_case reject[] = {
        {"rejects_missing_header", rejects_missing_header},
        {"rejects_header_not_exact", rejects_header_not_exact},
        {"rejects_wrong_version", rejects_wrong_version},
        {"rejects_duplicate_header", rejects_duplicate_header},
        {"rejects_time_not_integer", rejects_time_not_integer},
        {"rejects_negative_time", rejects_negative_time},
        {"rejects_decreasing_time", rejects_decreasing_time},
        {"rejects_missing_event", rejects_missing_event},
        {"rejects_unknown_event", rejects_unknown_event},
        {"rejects_unknown_key", rejects_unknown_key},
        {"rejects_duplicate_key", rejects_duplicate_key},
        {"rejects_missing_required_key", rejects_missing_required_key},
        {"rejects_malformed_key_value", rejects_malformed_key_value},
        {"rejects_trailing_garbage", rejects_trailing_garbage},
        {"rejects_control_character", rejects_control_character},
        {"rejects_bad_integer_non_digit", rejects_bad_integer_non_digit},
        {"rejects_bad_integer_overflow", rejects_bad_integer_overflow},
        {"rejects_pd_not_positive", rejects_pd_not_positive},
        {"rejects_g_not_positive", rejects_g_not_positive},
        {"rejects_negative_fd_and_at", rejects_negative_fd_and_at},
        {"rejects_bad_mode", rejects_bad_mode},
        {"rejects_wait_with_mode_rw", rejects_wait_with_mode_rw},
        {"rejects_reset_with_mode_rw", rejects_reset_with_mode_rw},
        {"rejects_wake_and_park_with_mode_rw", rejects_wake_and_park_with_mode_rw},
        {"rejects_bad_res", rejects_bad_res},
        {"rejects_bad_err", rejects_bad_err},
        {"rejects_negative_tag", rejects_negative_tag},
        {"rejects_tag_naming_no_incarnation", rejects_tag_naming_no_incarnation},
        {"rejects_open_on_slot_not_free", rejects_open_on_slot_not_free},
        {"rejects_pd_never_opened", rejects_pd_never_opened},
        {"rejects_tagged_ready_on_pd_never_opened", rejects_tagged_ready_on_pd_never_opened},
        {"rejects_use_after_close", rejects_use_after_close},
        {"rejects_untagged_ready_after_close", rejects_untagged_ready_after_close},
        {"rejects_close_without_unblock", rejects_close_without_unblock},
        {"rejects_double_unblock", rejects_double_unblock},
        {NULL, NULL},
    };

    np_test_add_suite("trace_accept", accept);
    np_test_add_suite("trace_reject", reject);
}

int main(int argc, char **argv)
{
    return np_test_main(argc, argv, add_suites);
}
