/* tests/fuzz/fuzz_trace.c - libFuzzer harness: the trace parser, and the
 * canonical writer on whatever it accepts (emit -> parse -> emit must be
 * byte-identical). Build: -DNETPOLL_FUZZ=ON with clang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpoll/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    np_trace tr;
    char msg[512];
    if (np_trace_parse_buf("fuzz.npt", (const char *)data, size, &tr, msg, sizeof msg) != 0) {
        if (strncmp(msg, "fuzz.npt:", 9) != 0) /* every rejection names FILE:LINE */
            abort();
        return 0;
    }
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *f = open_memstream(&a, &na);
    if (np_trace_emit(&tr, f) != 0)
        abort();
    fclose(f);
    np_trace again;
    if (np_trace_parse_buf("emitted.npt", a, na, &again, msg, sizeof msg) != 0)
        abort(); /* what we write, we must read */
    f = open_memstream(&b, &nb);
    np_trace_emit(&again, f);
    fclose(f);
    if (na != nb || memcmp(a, b, na) != 0)
        abort();
    free(a);
    free(b);
    np_trace_free(&again);
    np_trace_free(&tr);
    return 0;
}
