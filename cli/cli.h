/* cli/cli.h - the subcommands of the netpoll program. Each returns the exit
 * status: 0 success, 1 a finding (divergence, violation), 2 bad usage/input. */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <stddef.h>
#include <stdint.h>

int np_cli_demo(int argc, char **argv);
int np_cli_echo(int argc, char **argv);
int np_cli_replay(int argc, char **argv);
int np_cli_record(int argc, char **argv);
int np_cli_compare(int argc, char **argv);
int np_cli_explore(int argc, char **argv);
/* explore --program: the simulated machine (cli/program_cmd.c) */
int np_cli_explore_program(int argc, char **argv);
int np_cli_merge(int argc, char **argv);
int np_cli_report(int argc, char **argv);
int np_cli_check(int argc, char **argv);
int np_cli_runs(int argc, char **argv);
int np_cli_export(int argc, char **argv);

/* The .npt files of dir, sorted, as malloc'd paths (NULL, *n = 0 if none);
 * np_cli_free_list frees them. */
char **np_cli_list_npt(const char *dir, int *n);
void np_cli_free_list(char **v, int n);

/* Options, read alike by every command (cli/args.c). Each prints one line on
 * stderr and returns NULL or 2 when the value is missing or bad. */

/* The value of the option argv[*i] (advancing *i onto it): "OPT needs a
 * value" when there is no next argument or it starts with "--". */
const char *np_cli_value(const char *cmd, int argc, char **argv, int *i);
/* Strict numbers: all of v, decimal (strtoll/strtoull/strtod, nothing left
 * over, no overflow), within [lo, hi]; 0, or 2 after "OPT wants a ... from
 * LO to HI, not 'V'". np_cli_u64 takes 0 to UINT64_MAX (seeds). */
int np_cli_int(const char *cmd, const char *opt, const char *v, int64_t lo, int64_t hi,
               int64_t *out);
int np_cli_u64(const char *cmd, const char *opt, const char *v, uint64_t *out);
int np_cli_real(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out);
/* np_cli_value, then the number: the usual form of a numeric option. */
int np_cli_int_arg(const char *cmd, int argc, char **argv, int *i, int64_t lo, int64_t hi,
                   int64_t *out);
int np_cli_u64_arg(const char *cmd, int argc, char **argv, int *i, uint64_t *out);
int np_cli_real_arg(const char *cmd, int argc, char **argv, int *i, double lo, double hi,
                    double *out);

/* --judge default|model|oracle (explore, check): NP_JUDGE_* in *judge, 0;
 * or 2 after one line. */
int np_cli_judge(const char *cmd, const char *v, int *judge);

struct np_trace;
/* Where a trace will be written: fails (-errno) now, before the work that
 * makes the trace, if a file cannot be created beside path (a probe file,
 * removed at once) or path is a folder. */
int np_cli_trace_writable(const char *path);
/* Writes a trace to path atomically: a temporary file in the same folder,
 * flushed to disk, then renamed over path; on failure path is as it was and
 * the temporary file is gone. 0 or -errno. */
int np_cli_write_trace(const struct np_trace *tr, const char *path);

struct np_db;
struct np_replay_result;
struct np_replay_opts;

/* --faults LIST (replay, explore): the class mask in *mask, 0; or one line
 * on stderr and 2. */
int np_cli_faults_parse(const char *cmd, const char *list, unsigned *mask);
/* Rewrites *tr with mask's stimulus faults (seeded) and sets what the other
 * classes and fault injection itself ask of a replay in *o (divergences
 * ignored, late timers, poller faults). 0, or 2 after one line. */
int np_cli_faults_apply(const char *cmd, struct np_trace *tr, unsigned mask, uint64_t seed,
                        struct np_replay_opts *o);
/* The command line as stored with a run ("netpoll replay ..."). */
void np_cli_params(int argc, char **argv, char *buf, size_t len);
/* The results store when no --db is given (issue: "--db defaults to
 * results.db in the current folder"). */
#define NP_CLI_DEFAULT_DB "results.db"

/* The store for a command: --db PATH (an error there sets *failed: exit 2),
 * none with --no-db (off), else the default, which only warns if it cannot
 * be opened. */
struct np_db *np_cli_db_default(const char *cmd, const char *path, _Bool off, _Bool *failed);
/* A trace's identity for the results store: its name (path's file name
 * without .npt) and the FNV-1a 64 of its canonical text (np_trace_emit), 16
 * hex digits, equal for equal traces wherever they are. 0, or -1 with hash
 * "" (an event the writer cannot print). */
int np_cli_trace_id(const struct np_trace *tr, const char *path, char *name, size_t nlen,
                    char *hash, size_t hlen);
/* Stores a replay's findings (r->viol: records, not printed text), the
 * histogram of its recorded - replayed wake times (sim_wake_delay) and, with
 * outcomes, each wait's outcome, in the open run. 0 or -1. */
int np_cli_db_store_replay(struct np_db *db, const struct np_replay_result *r, _Bool outcomes);

#endif
