#include "fixture.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netpoll/sim.h"

static int next_sim_fd = 100; /* made-up descriptors for the simulator */

int fx_epoll_registered(int fd)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int found = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[320], link[64], line[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = 0;
        if (strcmp(link, "anon_inode:[eventpoll]") != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (found < 0)
            found = 0;
        while (fgets(line, sizeof line, f)) { /* "tfd:        7 events: ..." */
            int tfd;
            if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
                found = 1;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

bool fx_is_sim(void)
{
    return strcmp(test_backend->name, "sim") == 0;
}

int fx_open(fx *f)
{
    memset(f, 0, sizeof *f);
    f->peer = -1;
    if (fx_is_sim()) {
        f->fd = next_sim_fd++;
    } else {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            return -errno;
        f->fd = sv[0];
        f->peer = sv[1];
    }
    return np_poll_open(f->fd, &f->pd);
}

void fx_close(fx *f)
{
    if (f->pd) {
        np_poll_unblock(f->pd);
        np_poll_close(f->pd);
        f->pd = NULL;
    }
    if (f->peer >= 0) {
        close(f->fd);
        close(f->peer);
    }
}

void fx_readable(fx *f)
{
    if (fx_is_sim()) {
        CU_ASSERT_EQUAL(np_sim_inject(0, f->fd, NP_MODE_R, false), 0);
        return;
    }
    char c = 'x';
    CU_ASSERT_EQUAL(write(f->peer, &c, 1), 1);
}

void fx_drain(fx *f)
{
    if (fx_is_sim())
        return;
    char buf[4096];
    while (read(f->fd, buf, sizeof buf) > 0)
        ;
}

void fx_fill(fx *f)
{
    if (fx_is_sim())
        return;
    char buf[4096] = {0};
    while (write(f->fd, buf, sizeof buf) > 0)
        ;
}

void fx_writable(fx *f)
{
    if (fx_is_sim()) {
        CU_ASSERT_EQUAL(np_sim_inject(0, f->fd, NP_MODE_W, false), 0);
        return;
    }
    char buf[4096];
    while (read(f->peer, buf, sizeof buf) > 0)
        ;
}

void fx_settle(void)
{
    np_sleep(2000000);
}

void fx_run(void (*body)(void *), void *arg)
{
    np_config cfg = {.workers = test_workers, .backend = test_backend};
    int err = np_main(&cfg, body, arg);
    NP_ASSERT_EQ_INT(err, 0);
}

int fx_child_stderr(void (*child)(void *), void *arg, char *buf, size_t len)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        child(arg);
        _exit(0);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(p[0], buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(p[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}
