#include "fatal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void np__fatal(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
#if NP_SIM
    np__sim_fail("crash", buf);
#endif
    /* One write, so concurrent fatals from two workers do not interleave. */
    fprintf(stderr, "netpoll: fatal: %s\n", buf);
    abort();
}
