/* cli/replay_cmd.c - `netpoll replay FILE [--design NAME] [--exact-timers]
 * [--emit OUT.npt] [--db RESULTS.db]` (TRACE_FORMAT.md, command contract). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "netpoll/netpoll.h"
#include "netpoll/faults.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "results.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll replay FILE [--design NAME] [--exact-timers] [--emit OUT.npt] [--db "
               "FILE]\n"
               "                     [--outcomes]\n\n"
               "Replays a trace through the real pollDesc code in virtual time, checks every\n"
               "invariant, and compares the outcomes with the recorded ones (if any).\n"
               "  --design NAME    ");
    for (const np_design *const *d = np_designs; *d; d++)
        fprintf(f, "%s%s", (*d)->name, d[1] ? ", " : " (default go1.21)\n");
    fprintf(f, "  --exact-timers   ignore fire lines: every timer fires at its deadline\n"
               "  --emit OUT.npt   write the full trace (stimuli and computed outcomes)\n"
               "  --db FILE        store the run in this SQLite database (default results.db):\n"
               "                   its findings and the histogram of recorded - replayed wake\n"
               "                   times\n"
               "  --outcomes       store each wait's outcome too (table outcomes)\n"
               "  --no-db          do not store the run\n"
               "  --faults LIST    inject faults, comma-separated; outcomes may then differ, the\n"
               "                   invariants must hold. In the stimuli: spurious, errevent,\n"
               "                   late, dup, reuse, timers (late deadline timers). At the\n"
               "                   simulated poller, which then delivers readiness and timers:\n"
               "                   eintr (a poll returns early with nothing), lostbreak (a\n"
               "                   wake-up of the sleeping poller is dropped: timers it was\n"
               "                   for wait for its next wake-up), dupbreak (a wake-up comes\n"
               "                   twice). all: every class\n"
               "  --seed S         the faults' seed (default 1)\n"
               "exit status: 0 consistent, 1 divergence or violation, 2 invalid file or usage\n");
}

/* PATH.tmpXXXXXX beside path, created (mode 0666 less the umask, as fopen
 * would make path itself): its descriptor, or -errno. */
static int temp_beside(const char *path, char **tmp)
{
    size_t n = strlen(path) + 16;
    if (!(*tmp = malloc(n)))
        return -ENOMEM;
    snprintf(*tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int err = -errno;
        free(*tmp);
        *tmp = NULL;
        return err;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    return fd;
}

int np_cli_trace_writable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return -EISDIR;
    char *tmp;
    int fd = temp_beside(path, &tmp);
    if (fd < 0)
        return fd;
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}

int np_cli_write_trace(const np_trace *tr, const char *path)
{
    char *tmp;
    int fd = temp_beside(path, &tmp);
    if (fd < 0)
        return fd;
    FILE *f = fdopen(fd, "w");
    int err = f ? 0 : -errno;
    if (!f)
        close(fd);
    if (!err)
        err = np_trace_emit(tr, f);
    if (!err && (fflush(f) != 0 || fsync(fileno(f)) != 0)) /* on disk before the rename */
        err = -errno;
    if (f && fclose(f) != 0 && !err)
        err = -errno;
    if (!err && rename(tmp, path) != 0)
        err = -errno;
    if (err) {
        unlink(tmp);
    } else { /* the rename itself on disk: the folder's entry (best effort) */
        char *slash = strrchr(tmp, '/');
        if (slash == tmp)
            tmp[1] = 0; /* "/" */
        else if (slash)
            *slash = 0;
        int dfd = open(slash ? tmp : ".", O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    return err;
}

int np_cli_replay(int argc, char **argv)
{
    const char *file = NULL, *emit = NULL, *dbpath = NULL, *faults = NULL;
    uint64_t seed = 1;
    bool nodb = false, dbfail, outcomes = false;
    np_replay_opts o = {.out = stdout};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--exact-timers")) {
            o.exact_timers = true;
        } else if (!strcmp(a, "--no-db")) {
            nodb = true;
        } else if (!strcmp(a, "--outcomes")) {
            outcomes = true;
        } else if (!strcmp(a, "--design")) {
            const char *v = np_cli_value("replay", argc, argv, &i);
            if (!v)
                return 2;
            if (!(o.design = np_design_find(v))) {
                fprintf(stderr, "netpoll replay: unknown design '%s' (go1.5, go1.18, go1.21)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--emit")) {
            if (!(emit = np_cli_value("replay", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--db")) {
            if (!(dbpath = np_cli_value("replay", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--faults")) {
            if (!(faults = np_cli_value("replay", argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--seed")) {
            if (np_cli_u64_arg("replay", argc, argv, &i, &seed))
                return 2;
        } else if (a[0] == '-' || file) {
            fprintf(stderr,
                    "netpoll replay: unexpected argument '%s' (see netpoll replay --help)\n", a);
            return 2;
        } else {
            file = a;
        }
    }
    if (!file) {
        fprintf(stderr, "netpoll replay: which trace? (see netpoll replay --help)\n");
        return 2;
    }
    const char *design = (o.design ? o.design : &np_design_go1_21)->name;
    unsigned fault_mask = 0;
    if (faults && np_cli_faults_parse("replay", faults, &fault_mask))
        return 2;
    /* An --emit that cannot be written fails now, not after the replay. */
    int werr = emit ? np_cli_trace_writable(emit) : 0;
    if (werr) {
        fprintf(stderr, "netpoll replay: cannot write %s: %s\n", emit, strerror(-werr));
        return 2;
    }
    np_trace tr;
    char msg[512];
    if (np_trace_parse_file(file, &tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    char scen[256], scen_hash[24]; /* the trace's identity, as read (before any faults) */
    np_cli_trace_id(&tr, file, scen, sizeof scen, scen_hash, sizeof scen_hash);
    if (fault_mask && np_cli_faults_apply("replay", &tr, fault_mask, seed, &o)) {
        np_trace_free(&tr);
        return 2;
    }
    np_db *db = NULL;
    if ((db = np_cli_db_default("replay", dbpath, nodb, &dbfail)), dbfail) {
        np_trace_free(&tr);
        return 2;
    }
    np_trace out = {0};
    if (emit)
        o.emit = &out;
    /* The divergence/violation lines go to a buffer too, for the store. */
    char *lines = NULL;
    size_t nlines = 0;
    FILE *mem = db ? open_memstream(&lines, &nlines) : NULL;
    if (mem)
        o.out = mem;
    np_replay_result r;
    int status = np_replay(&tr, &o, &r);
    if (mem) {
        fclose(mem);
        fputs(lines ? lines : "", stdout);
    }
    if (status == 2) {
        fprintf(stderr, "%s\n", r.invalid);
    } else {
        size_t matched = 0;
        for (size_t k = 0; k < r.nwakes; k++)
            matched += r.wakes[k].rec_res >= 0 && r.wakes[k].rec_res == r.wakes[k].res;
        printf("replay: %s: %llu events, %zu wakes", file, (unsigned long long)r.events, r.nwakes);
        if (tr.has_wake)
            printf(" (%zu matched the record)", matched);
        if (fault_mask)
            printf(", faults %s (seed %llu)", faults, (unsigned long long)seed);
        if (o.poller_faults)
            printf(" [poller: %llu eintr, %llu lost and %llu duplicated breaks]",
                   (unsigned long long)r.eintrs, (unsigned long long)r.lost_breaks,
                   (unsigned long long)r.dup_breaks);
        printf(", design %s, timers %s: %s\n", design,
               tr.has_fire && !o.exact_timers ? "as recorded" : "exact",
               status == 0                     ? "consistent"
               : r.divergences && r.violations ? "divergences and violations"
               : r.divergences                 ? "divergences"
                                               : "violations");
        if (emit) {
            out.name = NULL;
            int err = np_cli_write_trace(&out, emit);
            if (err) {
                fprintf(stderr, "netpoll replay: cannot write %s: %s\n", emit, strerror(-err));
                status = 2;
            }
        }
    }
    if (db && status != 2) {
        char params[512];
        np_cli_params(argc, argv, params, sizeof params);
        np_db_run run = {"replay", "sim", design, NULL, file, params, -1};
        if (np_db_begin_run_of(db, &run, scen, scen_hash) < 0 ||
            np_cli_db_store_replay(db, &r, outcomes) != 0 ||
            np_db_end_run(db, status, (int64_t)r.events, (int64_t)r.divergences,
                          (int64_t)r.violations) != 0) {
            fprintf(stderr, "netpoll replay: %s\n", np_db_error(db));
            status = 2;
        }
    }
    np_db_close(db);
    free(lines);
    np_replay_result_free(&r);
    np_trace_free(&out);
    np_trace_free(&tr);
    return status;
}
