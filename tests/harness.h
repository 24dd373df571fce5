/* tests/harness.h - the CUnit runner every suite shares.
 *
 * A test program defines add_suites() and calls np_test_main(). Options:
 *   --backend=epoll|sim   the backend suites that apply run against (test_backend)
 *   --workers=N           worker threads for runtime suites (test_workers)
 * Exit status: 0 if every assertion passed, 1 otherwise.
 */
#ifndef NP_TESTS_HARNESS_H
#define NP_TESTS_HARNESS_H

#include <CUnit/CUnit.h>
#include <stdint.h>

#include "netpoll/netpoll.h"

extern const np_backend *test_backend; /* from --backend, default epoll */
extern int test_workers;               /* from --workers, default 1 */

int np_test_main(int argc, char **argv, void (*add_suites)(void));

/* Adds a suite with its tests; the list ends with {NULL, NULL}. */
typedef struct {
    const char *name;
    void (*fn)(void);
} np_test_case;
void np_test_add_suite(const char *name, const np_test_case *cases);

/* Typed asserts that print both values and the line on failure. */
#define NP_ASSERT_EQ_INT(a, b)                                                                     \
    do {                                                                                           \
        long long np_a_ = (long long)(a), np_b_ = (long long)(b);                                  \
        if (np_a_ != np_b_)                                                                        \
            np_test_fail_int(__FILE__, __LINE__, #a " == " #b, np_a_, np_b_);                      \
        CU_ASSERT(np_a_ == np_b_);                                                                 \
    } while (0)
void np_test_fail_int(const char *file, int line, const char *what, long long a, long long b);

#endif
