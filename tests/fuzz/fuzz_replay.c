/* tests/fuzz/fuzz_replay.c - libFuzzer harness: parse, then replay whatever
 * parses, under each design. Replay must never crash, abort or hang on a
 * valid trace; exit statuses 0, 1 and 2 are all fine. Links the sim build. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "netpoll/design.h"
#include "netpoll/replay.h"
#include "netpoll/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) /* keep executions short: small traces find the bugs */
        return 0;
    np_trace tr;
    char msg[512];
    if (np_trace_parse_buf("fuzz.npt", (const char *)data, size, &tr, msg, sizeof msg) != 0)
        return 0;
    for (const np_design *const *d = np_designs; *d; d++) {
        np_replay_opts o = {.design = *d, .exact_timers = (size & 1) != 0};
        np_replay_result r;
        np_replay(&tr, &o, &r);
        np_replay_result_free(&r);
    }
    np_trace_free(&tr);
    return 0;
}
