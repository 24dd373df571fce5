/* bench/slices.h - the summary of a --slices run (bench_record, echo_np).
 *
 * A slices run switches the recorder on and off every few ms inside one
 * process and measures each slice: its rate (operations/s) and its CPU time
 * per operation. Slices go in pairs, one on and one off (which comes first
 * alternates: slice_on); a pair is compared within itself, so both halves
 * share the machine's moment. Header-only: two programs use it.
 */
#ifndef NP_BENCH_SLICES_H
#define NP_BENCH_SLICES_H

#include <stdbool.h>
#include <stdlib.h>

/* Whether slice k is an on slice: on off, off on, on off, ... per pair. */
static inline bool slice_on(int k)
{
    return (k / 2 + k) % 2 == 0;
}

typedef struct {
    int pairs;           /* pairs compared (with load in both halves) */
    double on, off;      /* mean rate of their on / off halves */
    double ratio_median; /* on/off rate, per pair */
    double ratio_min, ratio_max;
    double cpu_ratio_median; /* on/off CPU per operation, per pair */
} slice_summary;

static inline int slice_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static inline double slice_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, slice_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Summarises slices 0..k-1 (rate[i], cpu[i], on[i]) pair by pair, skipping
 * pairs without load in a half (before the load starts, after it ends).
 * scratch: 2 * (k / 2) doubles. Returns the number of pairs (0: no summary). */
static inline int slice_summarise(const double *rate, const double *cpu, const bool *on, int k,
                                  double *scratch, slice_summary *out)
{
    double *ratio = scratch, *cratio = scratch + k / 2;
    int np = 0;
    double son = 0, soff = 0;
    for (int i = 0; i + 1 < k; i += 2) {
        int a = on[i] ? i : i + 1, b = on[i] ? i + 1 : i;
        if (rate[a] <= 0 || rate[b] <= 0 || cpu[b] <= 0)
            continue;
        ratio[np] = rate[a] / rate[b];
        cratio[np++] = cpu[a] / cpu[b];
        son += rate[a];
        soff += rate[b];
    }
    *out = (slice_summary){.pairs = np};
    if (np == 0)
        return 0;
    out->on = son / np;
    out->off = soff / np;
    out->cpu_ratio_median = slice_median(cratio, np);
    out->ratio_median = slice_median(ratio, np); /* sorts ratio */
    out->ratio_min = ratio[0];
    out->ratio_max = ratio[np - 1];
    return np;
}

#endif
