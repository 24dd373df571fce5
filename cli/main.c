/* cli/main.c - the netpoll program: subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "netpoll/netpoll.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"demo", np_cli_demo, "the full research run: record, replay, explore, bench, report"},
    {"record", np_cli_record, "run a live workload on epoll and record its trace"},
    {"compare", np_cli_compare, "compare a recorded live trace with the simulator"},
    {"check", np_cli_check, "the whole checking suite: scenarios, corpus, enumeration, designs"},
    {"explore", np_cli_explore, "explore the interleavings of a trace's races (dfs, pct, random)"},
    {"merge", np_cli_merge, "merge results databases (and the shards of explorations)"},
    {"replay", np_cli_replay, "replay a trace through the real pollDesc code in virtual time"},
    {"report", np_cli_report, "plots and report.html from a results database"},
    {"runs", np_cli_runs, "list the runs of a results database (id, time, commit, verdict)"},
    {"export", np_cli_export, "write one run of a results database as CSV, a file per table"},
    {"echo", np_cli_echo, "an echo server or client on the descriptor API (serve | client)"},
};

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
/* TSan waits 1 s at every exit by default (for threads still running to
 * show their races); the explorers' children exit by the hundred with no
 * thread left, so the wait only made a program check take minutes. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "atexit_sleep_ms=0";
}
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll COMMAND [options]   (netpoll COMMAND --help for each)\n\n"
               "Go's network poller in C11, version " NETPOLL_VERSION ".\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    /* A file-size limit (or a full disk) must be an error we report, not a
     * signal that kills us with a half-written file. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("netpoll %s\n", NETPOLL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "netpoll: unknown command '%s' (see netpoll --help)\n", argv[1]);
    return 2;
}
