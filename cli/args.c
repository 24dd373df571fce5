/* cli/args.c - option values and numbers, the same for every command: a
 * missing value is named as missing, and a number is the whole argument, in
 * range, or refused with the range in the message (exit status 2). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netpoll/replay.h"

const char *np_cli_value(const char *cmd, int argc, char **argv, int *i)
{
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    /* "--db --out x": the user left --db's value out; "-1" may be a value */
    if (!v || (v[0] == '-' && v[1] == '-')) {
        fprintf(stderr, "netpoll %s: %s needs a value (see netpoll %s --help)\n", cmd, argv[*i],
                cmd);
        return NULL;
    }
    ++*i;
    return v;
}

/* Decimal digits with an optional '-': what strtoll and strtoull would
 * otherwise read around (blanks, '+', "0x") is refused before them. */
static int digits(const char *v, int allow_minus)
{
    const char *p = v + (allow_minus && *v == '-');
    return *p >= '0' && *p <= '9';
}

int np_cli_int(const char *cmd, const char *opt, const char *v, int64_t lo, int64_t hi,
               int64_t *out)
{
    char *end;
    errno = 0;
    long long x = digits(v, 1) ? strtoll(v, &end, 10) : 0;
    if (!digits(v, 1) || *end || errno == ERANGE || x < lo || x > hi) {
        fprintf(stderr,
                "netpoll %s: %s wants a whole number from %" PRId64 " to %" PRId64 ", not '%s'\n",
                cmd, opt, lo, hi, v);
        return 2;
    }
    *out = (int64_t)x;
    return 0;
}

int np_cli_u64(const char *cmd, const char *opt, const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = digits(v, 0) ? strtoull(v, &end, 10) : 0;
    if (!digits(v, 0) || *end || errno == ERANGE) {
        fprintf(stderr, "netpoll %s: %s wants a whole number from 0 to %" PRIu64 ", not '%s'\n",
                cmd, opt, UINT64_MAX, v);
        return 2;
    }
    *out = (uint64_t)x;
    return 0;
}

int np_cli_real(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    int ok = digits(v, 1) || (v[0] == '.' && v[1] >= '0' && v[1] <= '9');
    double x = ok ? strtod(v, &end) : 0;
    if (!ok || *end || !isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "netpoll %s: %s wants a number from %g to %g, not '%s'\n", cmd, opt, lo, hi,
                v);
        return 2;
    }
    *out = x;
    return 0;
}

int np_cli_int_arg(const char *cmd, int argc, char **argv, int *i, int64_t lo, int64_t hi,
                   int64_t *out)
{
    const char *opt = argv[*i], *v = np_cli_value(cmd, argc, argv, i);
    return v ? np_cli_int(cmd, opt, v, lo, hi, out) : 2;
}

int np_cli_u64_arg(const char *cmd, int argc, char **argv, int *i, uint64_t *out)
{
    const char *opt = argv[*i], *v = np_cli_value(cmd, argc, argv, i);
    return v ? np_cli_u64(cmd, opt, v, out) : 2;
}

int np_cli_real_arg(const char *cmd, int argc, char **argv, int *i, double lo, double hi,
                    double *out)
{
    const char *opt = argv[*i], *v = np_cli_value(cmd, argc, argv, i);
    return v ? np_cli_real(cmd, opt, v, lo, hi, out) : 2;
}

int np_cli_judge(const char *cmd, const char *v, int *judge)
{
    static const char *const names[] = {"default", "model", "oracle"};
    static const int kinds[] = {NP_JUDGE_DEFAULT, NP_JUDGE_MODEL, NP_JUDGE_ORACLE};
    for (int i = 0; i < 3; i++)
        if (!strcmp(v, names[i])) {
            *judge = kinds[i];
            return 0;
        }
    fprintf(stderr, "netpoll %s: --judge wants default, model or oracle, not '%s'\n", cmd, v);
    return 2;
}
