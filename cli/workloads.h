/* cli/workloads.h - the live workloads `netpoll record` runs (loopback). */
#ifndef NP_CLI_WORKLOADS_H
#define NP_CLI_WORKLOADS_H

#include <stdint.h>

typedef struct np_wl_stats {
    long ops;      /* round trips, reads, connections: the workload's unit */
    long timeouts; /* reads ended by their deadline */
    long closed;   /* reads ended by a close */
    long errors;   /* anything unexpected */
} np_wl_stats;

typedef struct np_workload {
    const char *name;
    const char *help;
    /* Runs in a task of a live runtime until np_now() >= until. */
    void (*run)(int64_t until, np_wl_stats *st);
} np_workload;

extern const np_workload np_workloads[]; /* NULL-name terminated */
const np_workload *np_workload_find(const char *name);

#endif
