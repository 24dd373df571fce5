/* tests/test_explore.c - the explorer against itself.
 *
 *   test_explore cache TRACE...    dfs with state caching finds exactly the
 *                                  outcome classes and abstract pollDesc
 *                                  states that dfs without caching finds
 *                                  (<= 2 preemptions, every design)
 *   test_explore exhaust TRACE     dfs with no bound covers the trace
 *   test_explore jitter TRACE NS   --jitter NS adds outcome classes the
 *                                  trace's own times do not allow
 *   test_explore shards TRACE N    the N shards of dfs (with and without
 *                                  caching) together find the classes and
 *                                  states of the whole
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netpoll/explore.h"
#include "netpoll/trace.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int has_class(const np_explore_result *r, const char *text)
{
    for (size_t i = 0; i < r->nclasses; i++)
        if (!strcmp(r->classes[i].text, text))
            return 1;
    return 0;
}

static int has_state(const np_explore_result *r, uint64_t s)
{
    for (size_t i = 0; i < r->nabstract; i++)
        if (r->abstract[i] == s)
            return 1;
    return 0;
}

/* a's classes and states are among b's */
static int subset(const np_explore_result *a, const np_explore_result *b, const char *what)
{
    int ok = 1;
    for (size_t i = 0; i < a->nclasses; i++)
        if (!has_class(b, a->classes[i].text)) {
            printf("  %s: class '%s' missing\n", what, a->classes[i].text);
            ok = 0;
        }
    for (size_t i = 0; i < a->nabstract; i++)
        if (!has_state(b, a->abstract[i])) {
            printf("  %s: state %#llx missing\n", what, (unsigned long long)a->abstract[i]);
            ok = 0;
        }
    return ok;
}

static int load(const char *path, np_trace *tr)
{
    char msg[512];
    if (np_trace_parse_file(path, tr, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    return 0;
}

static void cache(const char *path)
{
    static const np_design *const designs[] = {&np_design_go1_5, &np_design_go1_18,
                                               &np_design_go1_21};
    np_trace tr;
    if (load(path, &tr))
        exit(2);
    for (int d = 0; d < 3; d++) {
        np_explore_opts o = {.design = designs[d], .strategy = NP_EXPLORE_DFS, .preemptions = 2};
        np_explore_result with, without;
        np_explore(&tr, &o, &with);
        o.no_cache = true;
        np_explore(&tr, &o, &without);
        CHECK(with.exhausted && without.exhausted, "%s %s: not exhausted", path, designs[d]->name);
        CHECK(subset(&with, &without, "cached") && subset(&without, &with, "uncached"),
              "%s %s: caching changed what is found", path, designs[d]->name);
        CHECK((with.failing > 0) == (without.failing > 0), "%s %s: caching changed the verdict",
              path, designs[d]->name);
        printf("%s %s: %llu executions cached, %llu without; %zu classes, %zu states%s\n", path,
               designs[d]->name, (unsigned long long)with.executions,
               (unsigned long long)without.executions, with.nclasses, with.nabstract,
               with.failing ? ", violation" : "");
        np_explore_result_free(&with);
        np_explore_result_free(&without);
    }
    np_trace_free(&tr);
}

static void exhaust(const char *path)
{
    np_trace tr;
    if (load(path, &tr))
        exit(2);
    np_explore_opts o = {.strategy = NP_EXPLORE_DFS, .preemptions = -1, .stop_at_first = true};
    np_explore_result r;
    int st = np_explore(&tr, &o, &r);
    CHECK(st == 0 && r.exhausted, "%s: status %d, exhausted %d", path, st, r.exhausted);
    printf("%s: %llu executions, %llu states, exhausted\n", path, (unsigned long long)r.executions,
           (unsigned long long)r.states);
    np_explore_result_free(&r);
    np_trace_free(&tr);
}

static void jitter(const char *path, long ns)
{
    np_trace tr, jt;
    if (load(path, &tr) || np_explore_jitter(&tr, ns, &jt) != 0)
        exit(2);
    np_explore_opts o = {.strategy = NP_EXPLORE_DFS, .preemptions = -1};
    np_explore_result a, b;
    np_explore(&tr, &o, &a);
    np_explore(&jt, &o, &b);
    CHECK(subset(&a, &b, "jitter") && b.nclasses > a.nclasses,
          "%s: --jitter %ld gave %zu classes, without %zu", path, ns, b.nclasses, a.nclasses);
    printf("%s: %zu classes, %zu with --jitter %ld\n", path, a.nclasses, b.nclasses, ns);
    np_explore_result_free(&a);
    np_explore_result_free(&b);
    np_trace_free(&tr);
    np_trace_free(&jt);
}

static void shards(const char *path, int n)
{
    np_trace tr;
    if (load(path, &tr))
        exit(2);
    for (int nc = 0; nc < 2; nc++) {
        np_explore_opts o = {
            .strategy = NP_EXPLORE_DFS, .preemptions = nc ? 2 : -1, .no_cache = nc};
        np_explore_result whole, part;
        np_explore(&tr, &o, &whole);
        /* the union of the parts, in one result's terms: each part is a
         * subset of the whole, and each of the whole's classes and states
         * is in some part */
        int *class_seen = calloc(whole.nclasses + 1, sizeof *class_seen);
        int *state_seen = calloc(whole.nabstract + 1, sizeof *state_seen);
        uint64_t runs = 0;
        for (int i = 0; i < n; i++) {
            o.shard = i;
            o.shards = n;
            np_explore(&tr, &o, &part);
            runs += part.executions;
            CHECK(part.exhausted, "%s shard %d/%d not exhausted", path, i + 1, n);
            CHECK(subset(&part, &whole, "shard"),
                  "%s: shard %d/%d found something the whole did not", path, i + 1, n);
            for (size_t k = 0; k < whole.nclasses; k++)
                class_seen[k] |= has_class(&part, whole.classes[k].text);
            for (size_t k = 0; k < whole.nabstract; k++)
                state_seen[k] |= has_state(&part, whole.abstract[k]);
            np_explore_result_free(&part);
        }
        for (size_t k = 0; k < whole.nclasses; k++)
            CHECK(class_seen[k], "%s: class '%s' in no shard", path, whole.classes[k].text);
        for (size_t k = 0; k < whole.nabstract; k++)
            CHECK(state_seen[k], "%s: state %#llx in no shard", path,
                  (unsigned long long)whole.abstract[k]);
        printf("%s%s: whole %llu executions, %d shards %llu\n", path,
               nc ? " (no cache, <= 2 preemptions)" : "", (unsigned long long)whole.executions, n,
               (unsigned long long)runs);
        free(class_seen);
        free(state_seen);
        np_explore_result_free(&whole);
    }
    np_trace_free(&tr);
}

/* --runs and --seconds: random stops at 1,000 runs by default, at --runs,
 * and, given --seconds alone, at that time (not at 1,000 runs). */
static void limits(const char *path)
{
    np_trace tr;
    if (load(path, &tr))
        exit(2);
    np_explore_opts o = {.strategy = NP_EXPLORE_RANDOM, .seed = 1};
    np_explore_result r;
    np_explore(&tr, &o, &r);
    CHECK(r.executions == 1000, "%s: no limit given: %llu executions, not 1000", path,
          (unsigned long long)r.executions);
    np_explore_result_free(&r);
    o.runs = 1500;
    o.seconds = 30;
    np_explore(&tr, &o, &r);
    CHECK(r.executions == 1500, "%s: --runs 1500: %llu executions", path,
          (unsigned long long)r.executions);
    np_explore_result_free(&r);
    o.runs = 0;
    o.seconds = 0.3;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    np_explore(&tr, &o, &r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(el >= 0.3 && el < 10, /* (it had stopped at 1,000 runs, in milliseconds) */
          "%s: --seconds 0.3 alone: %llu executions in %.2f s", path,
          (unsigned long long)r.executions, el);
    printf("%s: --seconds 0.3 alone: %llu executions in %.2f s\n", path,
           (unsigned long long)r.executions, el);
    np_explore_result_free(&r);
    np_trace_free(&tr);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_explore cache|exhaust|jitter|shards|limits TRACE... [N]\n");
        return 2;
    }
    if (!strcmp(argv[1], "cache"))
        for (int i = 2; i < argc; i++)
            cache(argv[i]);
    else if (!strcmp(argv[1], "exhaust"))
        exhaust(argv[2]);
    else if (!strcmp(argv[1], "jitter") && argc == 4)
        jitter(argv[2], atol(argv[3]));
    else if (!strcmp(argv[1], "shards") && argc == 4)
        shards(argv[2], atoi(argv[3]));
    else if (!strcmp(argv[1], "limits"))
        limits(argv[2]);
    else
        return 2;
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
