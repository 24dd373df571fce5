/* cli/report_cmd.c - `netpoll report --db FILE --out DIR`: the plots and
 * report.html of a results database, by analysis/report.py (Python with
 * matplotlib). This finds the script and an interpreter that can import
 * matplotlib, then runs it in this process's place, so its exit status is
 * the command's: 0 written, 2 bad input (one line on stderr, OUT untouched). */
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#ifndef NP_ANALYSIS_SRC_DIR
#define NP_ANALYSIS_SRC_DIR ""
#endif
#ifndef NP_ANALYSIS_INSTALL_DIR
#define NP_ANALYSIS_INSTALL_DIR ""
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: netpoll report --db FILE --out DIR\n\n"
               "Reads a results database (any netpoll command's --db, or several merged)\n"
               "and writes DIR/*.png and DIR/report.html, one self-contained page with the\n"
               "plots embedded and the summary tables: wake latency live against simulated\n"
               "(the share at 0, the rest on a log axis) and over each run, live deadline\n"
               "lateness, violations and outcome classes per scenario and design,\n"
               "exploration coverage and rate per strategy, benchmarks against Go, libuv\n"
               "and raw epoll. A plot without data is left out and the page says so.\n"
               "Findings are marked expected or not from the corpus tables (corpus.tsv,\n"
               "corpus_findings.tsv, expected_findings.tsv) beside the traces the runs read.\n"
               "Needs python3 with matplotlib (apt-get install python3-matplotlib); the\n"
               "script is analysis/report.py (NETPOLL_ANALYSIS_DIR overrides where it is).\n"
               "exit status: 0 written, 2 bad input (nothing written)\n");
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* analysis/report.py: $NETPOLL_ANALYSIS_DIR, the install tree next to this
 * program (bin/../share/netpoll/analysis), the source tree it was built
 * from, the configured install folder. */
static bool find_script(char *buf, size_t len)
{
    const char *env = getenv("NETPOLL_ANALYSIS_DIR");
    if (env && *env) {
        snprintf(buf, len, "%s/report.py", env);
        return is_file(buf);
    }
    char exe[4000]; /* leaves room for the suffix in a 4096-byte path */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char cand[sizeof exe + 40];
            snprintf(cand, sizeof cand, "%s/../share/netpoll/analysis/report.py", exe);
            if (is_file(cand)) {
                snprintf(buf, len, "%s", cand);
                return true;
            }
        }
    }
    const char *dirs[] = {NP_ANALYSIS_SRC_DIR, NP_ANALYSIS_INSTALL_DIR};
    for (size_t i = 0; i < 2; i++) {
        if (!*dirs[i])
            continue;
        snprintf(buf, len, "%s/report.py", dirs[i]);
        if (is_file(buf))
            return true;
    }
    return false;
}

/* Can py import matplotlib? (asked quietly) */
static bool has_matplotlib(const char *py)
{
    if (access(py, X_OK) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    /* find_spec: finds the package without importing it (and numpy) */
    char *args[] = {(char *)py, "-c",
                    "import importlib.util, sys; "
                    "sys.exit(importlib.util.find_spec('matplotlib') is None)",
                    NULL};
    pid_t pid;
    int st = -1;
    bool ok = posix_spawn(&pid, py, &fa, NULL, args, environ) == 0 && waitpid(pid, &st, 0) == pid &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0;
    posix_spawn_file_actions_destroy(&fa);
    return ok;
}

/* /usr/bin/python3 (Debian's, where python3-matplotlib installs), then every
 * python3 on PATH; the first that imports matplotlib. Else the first python3
 * at all (the script then says what to install), else none. */
static bool find_python(char *buf, size_t len)
{
    char first[4096] = "";
    if (has_matplotlib("/usr/bin/python3")) {
        snprintf(buf, len, "/usr/bin/python3");
        return true;
    }
    if (access("/usr/bin/python3", X_OK) == 0)
        snprintf(first, sizeof first, "/usr/bin/python3");
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char cand[4096];
        if (n > 0 && n < sizeof cand - 16) {
            snprintf(cand, sizeof cand, "%.*s/python3", (int)n, p);
            if (has_matplotlib(cand)) {
                snprintf(buf, len, "%s", cand);
                return true;
            }
            if (!*first && access(cand, X_OK) == 0)
                snprintf(first, sizeof first, "%s", cand);
        }
        p += n + (end != NULL);
    }
    snprintf(buf, len, "%s", first);
    return *first != 0;
}

int np_cli_report(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--db")) {
            if (!(db = np_cli_value("report", argc, argv, &i)))
                return 2;
        } else if (!strcmp(argv[i], "--out")) {
            if (!(out = np_cli_value("report", argc, argv, &i)))
                return 2;
        } else {
            fprintf(stderr,
                    "netpoll report: unexpected argument '%s' (see netpoll report --help)\n",
                    argv[i]);
            return 2;
        }
    }
    if (!db || !out) {
        fprintf(stderr, "netpoll report: --db FILE and --out DIR are both needed (see netpoll "
                        "report --help)\n");
        return 2;
    }
    char script[4096], py[4096];
    if (!find_script(script, sizeof script)) {
        fprintf(stderr,
                "netpoll report: analysis/report.py not found (set NETPOLL_ANALYSIS_DIR)\n");
        return 2;
    }
    if (!find_python(py, sizeof py)) {
        fprintf(stderr, "netpoll report: no python3 with matplotlib; install it with: apt-get "
                        "install python3-matplotlib\n");
        return 2;
    }
    fflush(stdout);
    char *args[] = {py, script, "--db", (char *)db, "--out", (char *)out, NULL};
    execv(py, args);
    fprintf(stderr, "netpoll report: cannot run %s\n", py);
    return 2;
}
