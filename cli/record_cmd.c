/* cli/record_cmd.c - `netpoll record WORKLOAD [--seconds S] [--out FILE.npt]
 * [--workers N] [--reserve MIB] [--db FILE | --no-db]`: runs a live workload on epoll over
 * 127.0.0.1 while recording every pollDesc operation, and writes the trace. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "netpoll/epoll.h"
#include "netpoll/netpoll.h"
#include "netpoll/record.h"
#include "results.h"
#include "workloads.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll record WORKLOAD [--seconds S] [--out FILE.npt] [--workers N]\n"
               "                      [--reserve MIB] [--db FILE | --no-db] [--outcomes]\n\n"
               "Runs a live workload on epoll over 127.0.0.1, records every pollDesc\n"
               "operation, and writes the trace (default WORKLOAD.npt).\n"
               "  --seconds S   how long the workload runs (default 1, at most 600)\n"
               "  --workers N   worker threads (default 2)\n"
               "  --reserve MIB memory for the records, allocated before the run so that\n"
               "                recording does not slow it (default 32 per second of\n"
               "                --seconds, at most 1024 and a quarter of RAM; 0: none;\n"
               "                a longer run allocates more as it goes)\n"
               "  --db FILE     store the run in this SQLite database (default results.db),\n"
               "                with the histogram of its deadline timers' lateness\n"
               "  --outcomes    store each wait's outcome too (table outcomes)\n"
               "  --no-db       do not store the run\nworkloads:\n");
    for (const np_workload *w = np_workloads; w->name; w++)
        fprintf(f, "  %-15s %s\n", w->name, w->help);
}

typedef struct {
    const np_workload *w;
    double seconds;
    np_wl_stats st;
    np_trace tr;
    int64_t *real;
    int err;
} rec_arg;

static void record_main(void *p)
{
    rec_arg *a = p;
    if ((a->err = np_record_start()) != 0)
        return;
    a->w->run(np_now() + (int64_t)(a->seconds * 1e9), &a->st);
    a->err = np_record_stop_real(&a->tr, &a->real);
}

int np_cli_record(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    rec_arg a = {.w = np_workload_find(argv[1]), .seconds = 1};
    if (!a.w) {
        fprintf(stderr, "netpoll record: unknown workload '%s' (see netpoll record --help)\n",
                argv[1]);
        return 2;
    }
    char defout[64];
    snprintf(defout, sizeof defout, "%s.npt", a.w->name);
    const char *out = defout, *dbpath = NULL;
    bool nodb = false, dbfail, outcomes = false;
    int workers = 2;
    double reserve_mib = -1; /* -1: from --seconds */
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        int64_t v;
        if (!strcmp(opt, "--seconds")) {
            if (np_cli_real_arg("record", argc, argv, &i, 0.001, 600, &a.seconds))
                return 2;
        } else if (!strcmp(opt, "--out")) {
            if (!(out = np_cli_value("record", argc, argv, &i)))
                return 2;
        } else if (!strcmp(opt, "--workers")) {
            if (np_cli_int_arg("record", argc, argv, &i, 1, 64, &v))
                return 2;
            workers = (int)v;
        } else if (!strcmp(opt, "--reserve")) {
            if (np_cli_real_arg("record", argc, argv, &i, 0, 65536, &reserve_mib))
                return 2;
        } else if (!strcmp(opt, "--db")) {
            if (!(dbpath = np_cli_value("record", argc, argv, &i)))
                return 2;
        } else if (!strcmp(opt, "--no-db")) {
            nodb = true;
        } else if (!strcmp(opt, "--outcomes")) {
            outcomes = true;
        } else {
            fprintf(stderr,
                    "netpoll record: unexpected argument '%s' (see netpoll record --help)\n", opt);
            return 2;
        }
    }
    /* Fail before the run, not after it, if the trace cannot be written. */
    int werr = np_cli_trace_writable(out);
    if (werr) {
        fprintf(stderr, "netpoll record: cannot write %s: %s\n", out, strerror(-werr));
        return 2;
    }
    np_db *db = NULL;
    if ((db = np_cli_db_default("record", dbpath, nodb, &dbfail)), dbfail)
        return 2; /* before the run: a bad database costs no workload */
    /* The records' memory, faulted in now rather than during the run (about
     * 20 MB/s for echo at 2 workers on the machine measured; core/record.c). */
    if (reserve_mib < 0) {
        reserve_mib = 32 * a.seconds;
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        double quarter = pages > 0 && psz > 0 ? (double)pages * (double)psz / 4 / 1048576 : 1024;
        if (reserve_mib > quarter)
            reserve_mib = quarter;
        if (reserve_mib > 1024)
            reserve_mib = 1024;
    }
    if (np_record_reserve((size_t)(reserve_mib * 1048576)) != 0)
        fprintf(stderr, "netpoll record: could not reserve %.0f MiB; recording anyway\n",
                reserve_mib);
    np_config cfg = {.workers = workers, .backend = &np_backend_epoll};
    int err = np_main(&cfg, record_main, &a);
    if (err || a.err) {
        fprintf(stderr, "netpoll record: %s\n", np_strerror(err ? err : a.err));
        np_db_close(db);
        return 2;
    }
    err = np_cli_write_trace(&a.tr, out);
    if (err) {
        fprintf(stderr, "netpoll record: cannot write %s: %s\n", out, strerror(-err));
        np_db_close(db);
        np_trace_free(&a.tr);
        free(a.real);
        return 2;
    }
    int status = a.st.errors ? 1 : 0;
    if (db) {
        char params[512];
        np_cli_params(argc, argv, params, sizeof params);
        np_db_run run = {"live", "epoll", "go1.21", a.w->name, out, params, -1};
        int bad = np_db_begin_run(db, &run) < 0;
        int64_t seq = 0, *late = malloc((a.tr.n + 1) * sizeof *late);
        size_t nlate = 0;
        bad = bad || !late;
        for (size_t i = 0; !bad && i < a.tr.n; i++) {
            const np_tr_event *e = &a.tr.ev[i];
            if (e->kind == NP_TR_WAKE && outcomes)
                bad = np_db_outcome(db, seq++, e->g, e->pd, e->mode == NP_MODE_W ? "w" : "r",
                                    np_poll_result_name(e->res), NULL, -1, a.real[i], -1, 0) != 0;
            else if (e->kind == NP_TR_FIRE && e->at > 0) /* real time past the deadline */
                late[nlate++] = a.real[i] - e->at;
        }
        bad = bad || np_db_hist(db, "deadline_lateness", late, nlate) != 0;
        free(late);
        if (bad || np_db_end_run(db, status, (int64_t)a.tr.n, 0, 0) != 0) {
            fprintf(stderr, "netpoll record: %s\n", np_db_error(db));
            status = 2;
        }
        np_db_close(db);
    }
    printf("record: %s for %.2f s on %d workers: %ld ops, %ld timeouts, %ld closed, %ld errors; "
           "%zu events -> %s\n",
           a.w->name, a.seconds, workers, a.st.ops, a.st.timeouts, a.st.closed, a.st.errors, a.tr.n,
           out);
    np_trace_free(&a.tr);
    free(a.real);
    return status;
}
