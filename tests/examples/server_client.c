/* A line-based key-value server and its clients in one program (README.md,
 * "Using the library": the block there is this file; tests/readme_example.sh
 * keeps them equal, ctest readme_server_client runs it). */
#include <netpoll/netpoll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { CLIENTS = 8, KEYS = 20 };
#define IDLE (1000 * 1000000LL) /* 1 s: a connection silent that long is closed */

/* One task owns the table; connection tasks ask it over a channel. */
typedef struct {
    char line[80];  /* "SET key value\n" or "GET key\n" */
    np_chan *reply; /* char[40] */
} request;
static np_chan *requests;
static np_waitgroup serving = NP_WAITGROUP_INITIALIZER; /* the acceptor and its handlers */
static char addr[64];                                   /* where the server listens */

static void *store(void *arg)
{
    (void)arg;
    static struct {
        char key[32], val[32];
    } tab[CLIENTS * KEYS];
    intptr_t n = 0;
    request r;
    while (np_chan_recv(requests, &r)) { /* until closed and drained */
        char op[8] = "", key[32] = "", val[32], answer[40] = "ERR\n";
        int f = sscanf(r.line, "%7s %31s %31s", op, key, val), i = 0;
        while (i < n && strcmp(tab[i].key, key) != 0)
            i++;
        if (f == 3 && strcmp(op, "SET") == 0 && i < CLIENTS * KEYS) {
            n += i == n;
            strcpy(tab[i].key, key);
            strcpy(tab[i].val, val);
            strcpy(answer, "OK\n");
        } else if (f == 2 && strcmp(op, "GET") == 0) {
            snprintf(answer, sizeof answer, "%s\n", i < n ? tab[i].val : "NIL");
        }
        np_chan_send(r.reply, answer);
    }
    return (void *)n; /* keys stored */
}

static void handle(void *arg)
{
    np_fd *c = arg;
    np_bufreader *in = np_bufreader_new(c, 0);
    request r = {.reply = np_chan_new(40, 1)};
    char answer[40];
    for (;;) {
        np_set_read_deadline(c, np_deadline_after(IDLE));
        if (np_bufreader_read_line(in, r.line, sizeof r.line) < 0)
            break; /* NP_EOF, NP_EDEADLINE, NP_ELONGLINE, ... */
        np_chan_send(requests, &r);
        np_chan_recv(r.reply, answer);
        if (np_write(c, answer, strlen(answer), NULL) < 0)
            break;
    }
    np_chan_free(r.reply);
    np_bufreader_free(in);
    np_close(c);
    np_waitgroup_done(&serving);
}

static void acceptor(void *arg)
{
    np_fd *l = arg, *c;
    while (np_accept(l, &c) == 0) { /* NP_ECLOSED once run() closes l */
        np_waitgroup_add(&serving, 1);
        if (np_go(handle, c) != 0) {
            np_close(c);
            np_waitgroup_done(&serving);
        }
    }
    np_fd_release(l);
    np_waitgroup_done(&serving);
}

static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    intptr_t right = 0;
    np_fd *c;
    if (np_dial("tcp", addr, 0, &c) != 0)
        return (void *)right;
    np_set_read_deadline(c, np_deadline_after(10 * IDLE)); /* a test never hangs */
    np_bufreader *in = np_bufreader_new(c, 0);
    char line[80], want[40];
    int64_t sent = 0;
    for (int k = 0; k < KEYS; k++) {
        sent = np_now();
        int n = snprintf(line, sizeof line, "SET c%dk%d v%d\nGET c%dk%d\n", id, k, id * k, id, k);
        np_write(c, line, (size_t)n, NULL); /* two requests in one write: pipelined */
        snprintf(want, sizeof want, "v%d\n", id * k);
        if (np_bufreader_read_line(in, line, sizeof line) > 0 && strcmp(line, "OK\n") == 0 &&
            np_bufreader_read_line(in, line, sizeof line) > 0 && strcmp(line, want) == 0)
            right++;
    }
    if (id == 0) /* then falls silent: the server's read deadline (set after our last
                    request came) closes the connection */
        right += np_bufreader_read_line(in, line, sizeof line) == NP_EOF && np_now() - sent >= IDLE;
    np_bufreader_free(in);
    np_close(c);
    return (void *)right;
}

static void run(void *arg)
{
    np_fd *l;
    if (np_listen("tcp", "127.0.0.1:0", 0, &l) != 0 || np_local_addr(l, addr, sizeof addr) != 0)
        return;
    requests = np_chan_new(sizeof(request), 0);
    np_task_handle *st, *cl[CLIENTS];
    np_spawn(store, NULL, &st);
    np_fd_retain(l); /* the acceptor's own handle on l */
    np_waitgroup_add(&serving, 1);
    np_go(acceptor, l);
    for (int i = 0; i < CLIENTS; i++)
        np_spawn(client, (void *)(intptr_t)i, &cl[i]);
    long right = 0;
    for (int i = 0; i < CLIENTS; i++) {
        void *r;
        np_join(cl[i], &r);
        right += (intptr_t)r;
    }
    np_close(l);                 /* graceful stop: accept no more, */
    np_waitgroup_wait(&serving); /* let every connection end, */
    np_chan_close(requests);     /* then the store */
    void *keys;
    np_join(st, &keys);
    np_chan_free(requests);
    printf("%s: %ld of %d replies right, %ld keys\n", addr, right, CLIENTS * KEYS + 1,
           (long)(intptr_t)keys);
    *(int *)arg = right == CLIENTS * KEYS + 1 && (intptr_t)keys == CLIENTS * KEYS;
}

int main(void)
{
    int ok = 0;
    np_main(&(np_config){.workers = 2}, run, &ok);
    return ok ? 0 : 1;
}
