/* A program built against an installed netpoll (tests/install_consumer.sh). */
#include <netpoll/netpoll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int result = 1;

static void hello(void *arg)
{
    (void)arg;
    int sv[2];
    np_poll_desc *pd;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0 || np_poll_open(sv[0], &pd))
        return;
    np_poll_set_deadline(pd, np_deadline_after(1000000), NP_MODE_R); /* 1 ms */
    np_poll_reset(pd, NP_MODE_R);
    int r = np_poll_wait(pd, NP_MODE_R);
    np_poll_unblock(pd);
    np_poll_close(pd);
    close(sv[0]);
    close(sv[1]);
    /* netpoll/sync.h is installed and exported too. */
    np_chan *c = np_chan_new(sizeof r, 1);
    int back = -1;
    bool sync_ok = c && np_chan_send(c, &r) == 0 && np_chan_recv(c, &back) && back == r;
    np_chan_free(c);
    printf("hello from netpoll %s: a 1 ms read deadline gave '%s'\n", NETPOLL_VERSION,
           np_poll_result_name(r));
    result = r == NP_POLL_TIMEOUT && sync_ok ? 0 : 1;
}

int main(void)
{
    np_config cfg = {.workers = 1};
    if (np_main(&cfg, hello, NULL) != 0)
        return 1;
    return result;
}
