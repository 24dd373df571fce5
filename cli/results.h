/* cli/results.h - the SQLite results store (cli/schema.sql). Each command
 * run is one transaction: np_db_begin_run ... np_db_end_run commits it, and
 * anything else (an error, or np_db_close without end) rolls it back, so a
 * failed run leaves the database as it was. */
#ifndef NP_CLI_RESULTS_H
#define NP_CLI_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#define NP_DB_SCHEMA_VERSION 4

typedef struct np_db np_db;

typedef struct np_db_run {
    const char *kind, *backend, *design, *workload, *trace, *params;
    int64_t seed; /* -1: none */
} np_db_run;

/* Opens (creating if needed) the database at path. On error returns -1 with
 * a one-line message in msg (not SQLite, a newer schema, locked, ...). */
int np_db_open(const char *path, np_db **out, char *msg, size_t len);
/* Starts a run: BEGIN IMMEDIATE and the runs row (r->trace stored as an
 * absolute path). Returns the run id or -1. */
int64_t np_db_begin_run(np_db *db, const np_db_run *r);
/* The same, for a run of one trace: its identity (np_cli_trace_id) in
 * runs.scenario and runs.scenario_hash (NULL: none). */
int64_t np_db_begin_run_of(np_db *db, const np_db_run *r, const char *scenario,
                           const char *scenario_hash);
/* Rows of the current run; each returns 0 or -1 (the run then fails). */
int np_db_outcome(np_db *db, int64_t seq, int g, int pd, const char *mode, const char *result,
                  const char *recorded, int64_t virtual_ns, int64_t wall_ns, int64_t wait_ns,
                  int64_t deadline_ns);
int np_db_violation(np_db *db, const char *name, const char *detail, const char *schedule,
                    const char *trace);
int np_db_timing(np_db *db, const char *kind, int g, int pd, int64_t value_ns);
/* A distribution as a log-scale histogram (timing_hist, cli/schema.sql):
 * values from -255 to 255 exact, others in buckets of 128 per power of two
 * (a bucket's width at most 1/128 of its values: its middle within 0.4 % of
 * each). v is not changed. */
int np_db_hist(np_db *db, const char *kind, const int64_t *v, size_t n);
/* A value over time (timing_series): per window of trace time (at most ~100
 * over the span of t, 1, 2 or 5 times a power of ten ns) the count, median,
 * 99th percentile and maximum of v (exact). t and v are not changed. */
int np_db_series(np_db *db, const char *kind, const int64_t *t, const int64_t *v, size_t n);
int np_db_bench(np_db *db, const char *name, const char *contender, const char *metric,
                double value, int rep);
/* explore: the first failure, with its listing and preemptions (-1: none) */
int np_db_violation_ex(np_db *db, const char *name, const char *detail, const char *schedule,
                       const char *trace, const char *listing, int preemptions);
/* A structured finding (netpoll/invariants.h): its name, its printed line
 * as the detail, its fields as columns; the explorer's schedule, trace,
 * listing and preemptions (NULL / -1: none). */
struct np_violation;
int np_db_violation_rec(np_db *db, const struct np_violation *v, const char *schedule,
                        const char *trace, const char *listing, int preemptions);
/* The same, found in the scenario named scenario whose identity is hash
 * (netpoll check: many scenarios in one run). */
int np_db_violation_in(np_db *db, const struct np_violation *v, const char *schedule,
                       const char *trace, const char *listing, int preemptions,
                       const char *scenario, const char *hash);
/* path made absolute: realpath(3) when it names a file (links resolved, one
 * name per file), else the current folder joined to it; in buf (len
 * bytes), or path itself when neither fits or works. */
const char *np_db_abs_path(const char *path, char *buf, size_t len);
/* netpoll check: one design's totals */
int np_db_check_design(np_db *db, const char *design, int64_t scenarios, int64_t enumerated,
                       int64_t executions, int64_t expected, int64_t unexpected,
                       int64_t elapsed_ns);
/* tests/mutation.sh: one mutant's verdict */
int np_db_mutant(np_db *db, const char *mutant, const char *op, const char *function,
                 const char *set, const char *verdict, double seconds);
int np_db_explore_stats(np_db *db, const char *strategy, int64_t executions, int64_t states,
                        int64_t race_pairs, int64_t elapsed_ns);
/* one point of the coverage curve: distinct states after so many executions */
int np_db_explore_progress(np_db *db, int64_t executions, int64_t states, int64_t elapsed_ns);
/* one distinct abstract pollDesc state reached */
int np_db_explore_state(np_db *db, int64_t state, const char *text);
/* one outcome class ("g1: ok | g2: timeout") and how many executions had it */
int np_db_outcome_class(np_db *db, const char *cls, int64_t count);
/* The workload of the latest live run that wrote trace (runs.trace equal to
 * it made absolute, or as typed in an older file), copied into buf. 0 found,
 * 1 none, -1 error. Outside a run. */
int np_db_trace_workload(np_db *db, const char *trace, char *buf, size_t len);
/* Finishes the run: its counters and end time, then COMMIT. 0 or -1. */
int np_db_end_run(np_db *db, int status, int64_t events, int64_t divergences, int64_t violations);
/* The last error as one line. */
const char *np_db_error(np_db *db);
/* Rolls back an unfinished run and closes. */
void np_db_close(np_db *db);

#endif
