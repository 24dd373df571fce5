#include "harness.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const np_backend *test_backend;
int test_workers = 1;

void np_test_fail_int(const char *file, int line, const char *what, long long a, long long b)
{
    fprintf(stderr, "%s:%d: expected %s, got %lld and %lld\n", file, line, what, a, b);
}

void np_test_add_suite(const char *name, const np_test_case *cases)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "CU_add_suite(%s): %s\n", name, CU_get_error_msg());
        exit(2);
    }
    for (; cases->name; cases++)
        if (!CU_add_test(s, cases->name, cases->fn)) {
            fprintf(stderr, "CU_add_test(%s): %s\n", cases->name, CU_get_error_msg());
            exit(2);
        }
}

int np_test_main(int argc, char **argv, void (*add_suites)(void))
{
    /* epoll by default; the sim build (netpoll_sim) has only the simulator */
    test_backend = np_backend_find("epoll");
    if (!test_backend)
        test_backend = np_backend_find("sim");
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--backend=", 10) == 0) {
            test_backend = np_backend_find(argv[i] + 10);
            if (!test_backend) {
                fprintf(stderr, "%s: unknown backend '%s'\n", argv[0], argv[i] + 10);
                return 2;
            }
        } else if (strncmp(argv[i], "--workers=", 10) == 0) {
            test_workers = atoi(argv[i] + 10);
        } else {
            fprintf(stderr, "usage: %s [--backend=epoll|sim] [--workers=N]\n", argv[0]);
            return 2;
        }
    }
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CU_initialize_registry: %s\n", CU_get_error_msg());
        return 2;
    }
    add_suites();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
