/* backend_sim/check/edges.h - the checker's edge pass (edges.c): the
 * pollDesc API's documented answers where no trace goes - bad arguments, no
 * runtime, a call from outside a task, a registration the backend refuses,
 * an allocation refused, and the incarnation counter wrapping around. */
#ifndef NP_BACKEND_SIM_EDGES_H
#define NP_BACKEND_SIM_EDGES_H

#include "netpoll/design.h"

#ifndef NP_SIM_API
#define NP_SIM_API __attribute__((visibility("default")))
#endif

/* A case whose answer is not the documented one: its name and what
 * happened. */
typedef void (*np_edge_fail)(void *ctx, const char *name, const char *msg);

/* Runs every edge case under design d on the sim backend (its own runtime:
 * none may run when it is called). Returns the number of failed cases
 * (each reported to fail), -1 if the runtime could not start; *cases: how
 * many ran; *not_reached: how many forced interleavings the code under test
 * gave no place for (a case that forces a step before the n-th read of the
 * recording flag, when a wait reads it fewer times): not a failure - the
 * code is free to read it less - but worth a line. */
NP_SIM_API int np_check_edges(const np_design *d, np_edge_fail fail, void *ctx, unsigned *cases,
                              unsigned *not_reached);

#endif
