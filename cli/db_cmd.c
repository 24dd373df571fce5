/* cli/db_cmd.c - what the commands share: the results store, and --faults. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "netpoll/faults.h"
#include "netpoll/poll.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"
#include "results.h"

struct np_db *np_cli_db_default(const char *cmd, const char *path, bool off, bool *failed)
{
    *failed = false;
    if (off)
        return NULL;
    np_db *db;
    char msg[600];
    if (np_db_open(path ? path : NP_CLI_DEFAULT_DB, &db, msg, sizeof msg) == 0)
        return db;
    if (path) { /* asked for: an error */
        fprintf(stderr, "netpoll %s: %s\n", cmd, msg);
        *failed = true;
    } else { /* the default store: a run that cannot be stored there still runs */
        fprintf(stderr, "netpoll %s: warning: not storing results: %s (--no-db to silence)\n", cmd,
                msg);
    }
    return NULL;
}

void np_cli_params(int argc, char **argv, char *buf, size_t len)
{
    snprintf(buf, len, "netpoll");
    for (int i = 0; i < argc; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, " %s", argv[i]);
    }
}

static const char *res_name(int res)
{
    return res < 0 ? NULL : np_poll_result_name(res);
}

int np_cli_db_store_replay(struct np_db *db, const struct np_replay_result *r, bool outcomes)
{
    for (size_t i = 0; outcomes && i < r->nwakes; i++) {
        const np_replay_wake *w = &r->wakes[i];
        if (np_db_outcome(db, (int64_t)i, w->g, w->pd, w->mode == NP_MODE_W ? "w" : "r",
                          res_name(w->res), res_name(w->rec_res), w->t, w->rec_t, w->wait_t,
                          w->deadline) != 0)
            return -1;
    }
    /* the recorded - replayed wake times, as a histogram */
    int64_t *d = malloc((r->nwakes + 1) * sizeof *d);
    size_t n = 0;
    for (size_t i = 0; d && i < r->nwakes; i++)
        if (r->wakes[i].rec_t >= 0)
            d[n++] = r->wakes[i].rec_t - r->wakes[i].t;
    int err = !d || np_db_hist(db, "sim_wake_delay", d, n) != 0;
    free(d);
    if (err)
        return -1;
    /* the findings, as records (the first NP_REPLAY_VIOLATIONS) */
    for (size_t i = 0; i < r->nviol; i++)
        if (np_db_violation_rec(db, &r->viol[i], NULL, NULL, NULL, -1) != 0)
            return -1;
    return 0;
}

int np_cli_faults_parse(const char *cmd, const char *list, unsigned *mask)
{
    const char *bad = NULL;
    *mask = np_faults_parse(list, &bad);
    if (*mask)
        return 0;
    fprintf(stderr,
            "netpoll %s: unknown fault '%.*s' (spurious, errevent, late, dup, reuse, timers, "
            "eintr, lostbreak, dupbreak, all)\n",
            cmd, (int)strcspn(bad ? bad : list, ","), bad ? bad : list);
    return 2;
}

int np_cli_faults_apply(const char *cmd, np_trace *tr, unsigned mask, uint64_t seed,
                        np_replay_opts *o)
{
    np_trace faulty;
    if (np_faults_apply(tr, mask, seed, &faulty) != 0) {
        fprintf(stderr, "netpoll %s: out of memory\n", cmd);
        return 2;
    }
    np_trace_free(tr);
    *tr = faulty;
    o->ignore_divergences = true; /* outcomes may now differ; the invariants must hold */
    if (mask & NP_FAULT_TIMERS)
        o->late_timers = seed | 1; /* nonzero: on */
    o->poller_faults = mask & NP_FAULT_POLLER;
    o->poller_seed = seed;
    return 0;
}

/* FNV-1a 64 over what the canonical writer prints, as it prints it (a
 * stdio cookie stream: no copy of the text in memory). */
static ssize_t fnv_write(void *cookie, const char *buf, size_t n)
{
    uint64_t *h = cookie;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
    return (ssize_t)n;
}

int np_cli_trace_id(const np_trace *tr, const char *path, char *name, size_t nlen, char *hash,
                    size_t hlen)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".npt"))
        n -= 4;
    snprintf(name, nlen, "%.*s", (int)n, base);
    uint64_t h = 0xcbf29ce484222325ULL;
    FILE *f = fopencookie(&h, "w", (cookie_io_functions_t){.write = fnv_write});
    int err = f ? np_trace_emit(tr, f) : -1;
    if (f && fclose(f) != 0)
        err = -1;
    if (err) {
        snprintf(hash, hlen, "%s", "");
        return -1;
    }
    snprintf(hash, hlen, "%016llx", (unsigned long long)h);
    return 0;
}
