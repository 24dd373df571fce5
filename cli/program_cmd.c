/* cli/program_cmd.c - `netpoll explore --program NAME ...`: a program on the
 * simulated machine, the whole runtime under the explorer
 * (netpoll/machine.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netpoll/machine.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll explore --program NAME [--workers N] [--strategy dfs|random|pct]\n"
               "                       [--preemptions K] [--runs N] [--seed S] [--depth D]\n"
               "                       [--seconds S] [--jobs J] [--design NAME] [--buffer BYTES]\n"
               "                       [--schedule STRING] [--list] [--no-minimize] [--no-cache]\n"
               "                       [--quiet]\n"
               "                       [--db FILE|--no-db]\n"
               "       netpoll explore --program list\n\n"
               "Runs a program (a scenario written over the public API) on the simulated\n"
               "machine: the real scheduler, fdMutex, descriptor layer and pollDesc code on N\n"
               "simulated OS threads (the workers) and a main thread, with in-memory sockets\n"
               "and a virtual clock. Every atomic, lock, semaphore, system call and poll is\n"
               "a scheduling point; the runtime's invariants are checked at every quiescent\n"
               "point (lost wake-up of a worker, a timer not run, deadlock, a task on two\n"
               "workers, a descriptor used after close, crashes, the program's assertions).\n"
               "  --workers N        simulated workers, 1 to 3 (default 2)\n"
               "  --strategy dfs     every schedule with at most K preemptions (default)\n"
               "  --strategy random  N random schedules (default 1000), seeded\n"
               "  --strategy pct     probabilistic concurrency testing, depth D (default 3)\n"
               "  --preemptions K    dfs: the preemption bound, 0 to 10 (default 2)\n"
               "  --jobs J           dfs: J processes share the schedules (1 to 16, default 1):\n"
               "                     a schedule goes to the process of its first preemption\n"
               "  --runs N           at most N executions\n"
               "  --seconds S        stop after S seconds\n"
               "  --buffer BYTES     a socket's receive buffer, 1 to 4096 (default 64)\n"
               "  --schedule STRING  run exactly this schedule (as printed for a finding)\n"
               "  --list             list every step of a finding (default: the last 60)\n"
               "  --no-minimize      keep a finding as found (default: dfs with fewer\n"
               "                     preemptions looks for one of the same kind first)\n"
               "  --no-cache         dfs without state caching (every schedule in full)\n"
               "exit status: 0 no finding, 1 a finding (with its schedule), 2 invalid,\n"
               "3 cut short (--seconds or --runs before dfs was complete)\n");
}

static void list_programs(void)
{
    const char *name, *desc;
    int width = 0;
    for (size_t i = 0; np_mx_program(i, &name, &desc); i++)
        if ((int)strlen(name) > width)
            width = (int)strlen(name);
    for (size_t i = 0; np_mx_program(i, &name, &desc); i++)
        printf("%-*s  %s\n", width, name, desc);
}

int np_cli_explore_program(int argc, char **argv)
{
    const char *dbpath = NULL;
    bool nodb = false, dbfail;
    np_mx_opts o = {.workers = 2, .strategy = "dfs", .preemptions = 2, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int64_t n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--program")) {
            if (!(o.program = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--workers")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, 3, &n))
                return 2;
            o.workers = (int)n;
        } else if (!strcmp(a, "--strategy")) {
            if (!(o.strategy = np_cli_value("explore", argc, argv, &i)))
                return 2;
            if (strcmp(o.strategy, "dfs") && strcmp(o.strategy, "random") &&
                strcmp(o.strategy, "pct")) {
                fprintf(stderr, "netpoll explore: --strategy takes dfs, random or pct, not '%s'\n",
                        o.strategy);
                return 2;
            }
        } else if (!strcmp(a, "--preemptions")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 0, 10, &n))
                return 2;
            o.preemptions = (int)n;
        } else if (!strcmp(a, "--depth")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, 16, &n))
                return 2;
            o.pct_depth = (int)n;
        } else if (!strcmp(a, "--runs")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, INT64_C(1000000000000), &n))
                return 2;
            o.runs = (uint64_t)n;
        } else if (!strcmp(a, "--seed")) {
            if (np_cli_u64_arg("explore", argc, argv, &i, &o.seed))
                return 2;
        } else if (!strcmp(a, "--seconds")) {
            if (np_cli_real_arg("explore", argc, argv, &i, 0.001, 1e7, &o.seconds))
                return 2;
        } else if (!strcmp(a, "--jobs")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, 16, &n))
                return 2;
            o.jobs = (int)n;
        } else if (!strcmp(a, "--buffer")) {
            if (np_cli_int_arg("explore", argc, argv, &i, 1, 4096, &n))
                return 2;
            o.buffer = (unsigned)n;
        } else if (!strcmp(a, "--design")) {
            if (!(o.design = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--schedule")) {
            if (!(o.schedule = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--list")) {
            o.list = true;
        } else if (!strcmp(a, "--no-minimize")) {
            o.no_minimize = true;
        } else if (!strcmp(a, "--no-cache")) {
            o.no_cache = true;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = true;
        } else if (!strcmp(a, "--no-db")) {
            nodb = true;
        } else if (!strcmp(a, "--db")) {
            if (!(dbpath = np_cli_value("explore", argc, argv, &i)))
                return 2;
        } else {
            fprintf(stderr,
                    "netpoll explore: unexpected argument '%s' with --program (see "
                    "netpoll explore --program list, --help)\n",
                    a);
            return 2;
        }
    }
    if (!o.program) {
        fprintf(stderr, "netpoll explore: --program needs a name (netpoll explore --program "
                        "list shows them)\n");
        return 2;
    }
    if (!strcmp(o.program, "list")) {
        list_programs();
        return 0;
    }
    np_db *db = np_cli_db_default("explore", dbpath, nodb, &dbfail);
    if (dbfail)
        return 2;
    np_mx_result r;
    if (np_mx_explore(&o, &r) != 0) {
        np_db_close(db);
        return 2;
    }
    bool cut = !r.found && !r.complete && !strcmp(o.strategy, "dfs") && !o.schedule;
    double rate = r.seconds > 0 ? (double)r.steps / r.seconds : 0;
    char how[64];
    if (!strcmp(o.strategy, "dfs"))
        snprintf(how, sizeof how, "dfs, at most %d preemption%s", o.preemptions,
                 o.preemptions == 1 ? "" : "s");
    else
        snprintf(how, sizeof how, "%s, seed %llu", o.strategy, (unsigned long long)o.seed);
    printf("program %s, %d worker(s), %s: %llu executions, %llu steps (%.1f M steps/s, "
           "%.0f steps per execution, longest %llu), %.2f s: %s\n",
           o.program, o.workers, how, (unsigned long long)r.executions, (unsigned long long)r.steps,
           rate / 1e6, r.executions ? (double)r.steps / (double)r.executions : 0.0,
           (unsigned long long)r.max_steps, r.seconds,
           r.found      ? "FINDING"
           : cut        ? "INCOMPLETE (cut short before every schedule ran)"
           : r.complete ? "no finding, every schedule within the bound"
                        : "no finding");
    printf("outcome classes: %u (set %016llx); path classes: %llu (set %016llx)\n", r.classes,
           (unsigned long long)r.class_set, (unsigned long long)r.paths,
           (unsigned long long)r.path_set);
    if (!strcmp(o.strategy, "dfs") && !o.schedule && !o.no_cache)
        printf("state cache: %llu of %llu executions met a state explored before and were not "
               "branched past it (%llu states)\n",
               (unsigned long long)r.cached, (unsigned long long)r.executions,
               (unsigned long long)r.states);
    int status = r.found ? 1 : cut ? 3 : 0;
    if (db) {
        char params[256], workload[128];
        snprintf(params, sizeof params, "strategy=%s preemptions=%d runs=%llu seed=%llu buffer=%u",
                 o.strategy, o.preemptions, (unsigned long long)o.runs, (unsigned long long)o.seed,
                 o.buffer ? o.buffer : 64);
        snprintf(workload, sizeof workload, "program:%s workers=%d", o.program, o.workers);
        np_db_run run = {"explore", "machine",      o.design ? o.design : "go1.21", workload, NULL,
                         params,    (int64_t)o.seed};
        int ok =
            np_db_begin_run(db, &run) >= 0 &&
            np_db_explore_stats(db, o.strategy, (int64_t)r.executions, (int64_t)r.steps, 0,
                                (int64_t)(r.seconds * 1e9)) == 0 &&
            (!r.found || np_db_violation_ex(db, r.kind, r.msg, r.schedule, NULL, NULL, -1) == 0) &&
            np_db_end_run(db, status, (int64_t)r.executions, 0, r.found ? 1 : 0) == 0;
        if (!ok) {
            fprintf(stderr, "netpoll explore: %s\n", np_db_error(db));
            np_db_close(db);
            return 2;
        }
        np_db_close(db);
    }
    return status;
}
