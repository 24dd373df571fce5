/* bench/echo/echo_uv.c - the libuv echo server (one loop, one thread).
 *
 *   echo_uv [--port P] [--deadline] [--timeout S]
 *
 * --port 0 (the default) picks a free port; prints "listening PORT". Listens
 * on 127.0.0.1. Each read callback writes the bytes straight back:
 * uv_try_write first (the common case: the kernel takes all of it at once),
 * and only the rest, copied, through uv_write.
 *
 * --deadline: a uv_timer per connection, restarted (uv_timer_start, 10 s,
 * no repeat) in every read callback, i.e. before the loop's next read of that
 * connection; the timer closes the connection when it fires.
 *
 * --timeout S (default 900): the server exits by itself after S seconds.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define BUF         4096
#define DEADLINE_MS 10000

typedef struct conn {
    uv_tcp_t tcp; /* first: the handle's address is the conn's */
    uv_timer_t timer;
    int handles; /* open handles; freed when both are closed */
    char buf[BUF];
} conn;

typedef struct wreq {
    uv_write_t req;
    char data[];
} wreq;

static bool g_deadline;
static uv_loop_t *g_loop;

static void on_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles == 0)
        free(c);
}

static void conn_close(conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (g_deadline && !uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_deadline(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = h->data;
    *buf = uv_buf_init(c->buf, BUF);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0)
        return; /* EAGAIN */
    if (g_deadline)
        uv_timer_start(&c->timer, on_deadline, DEADLINE_MS, 0);
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    int w = uv_try_write(s, &b, 1);
    if (w == UV_EAGAIN)
        w = 0;
    if (w < 0) {
        conn_close(c);
        return;
    }
    if (w < n) {
        size_t rest = (size_t)n - (size_t)w;
        wreq *r = malloc(sizeof *r + rest);
        if (!r) {
            conn_close(c);
            return;
        }
        memcpy(r->data, buf->base + w, rest);
        uv_buf_t rb = uv_buf_init(r->data, (unsigned)rest);
        if (uv_write(&r->req, s, &rb, 1, on_written) < 0) {
            free(r);
            conn_close(c);
        }
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(g_loop, &c->tcp);
    c->tcp.data = c;
    c->handles = 1;
    if (g_deadline) {
        uv_timer_init(g_loop, &c->timer);
        c->timer.data = c;
        c->handles++;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (g_deadline)
        uv_timer_start(&c->timer, on_deadline, DEADLINE_MS, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        conn_close(c);
}

int main(int argc, char **argv)
{
    int port = 0, timeout_s = 900;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--deadline"))
            g_deadline = true;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: echo_uv [--port P] [--deadline] [--timeout S]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(timeout_s > 0 ? timeout_s : 900));

    g_loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_tcp_init(g_loop, &server);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection);
    if (rc < 0) {
        fprintf(stderr, "echo_uv: listen: %s\n", uv_strerror(rc));
        return 1;
    }
    int len = sizeof sa;
    uv_tcp_getsockname(&server, (struct sockaddr *)&sa, &len);
    printf("listening %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return uv_run(g_loop, UV_RUN_DEFAULT);
}
