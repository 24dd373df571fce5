/* core/fatal.h - the one way to die (Go: throw).
 *
 * Used only for impossible internal states and for caller bugs that Go also
 * treats as fatal (double wait, close without unblock). User input never
 * reaches it: public functions return -errno instead. */
#ifndef NP_CORE_FATAL_H
#define NP_CORE_FATAL_H

/* Prints "netpoll: fatal: <message>" to stderr and aborts. */
_Noreturn void np__fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#if NP_SIM
/* The sim build (backend_sim/machine/seam_sim.c): a fatal error is a finding of the
 * replay or the explorer, whose hook may end the run here and not return;
 * np__fatal calls it with name "crash" before it aborts. */
void np__sim_fail(const char *name, const char *msg);
#endif

#endif
