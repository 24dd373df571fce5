/* netpoll/design.h - named historical designs of the pollDesc protocol.
 *
 * The pollDesc code consults these switches, one per behaviour that changed
 * between Go releases, so that the simulator can reproduce a known bug under
 * the design that had it and show that the current design fixes it. Every
 * switch is read in exactly one place in core/poll_desc.c or core/netpoll.c.
 */
#ifndef NETPOLL_DESIGN_H
#define NETPOLL_DESIGN_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_design {
    const char *name;  /* "go1.5", "go1.18", "go1.21" */
    bool info_word;    /* errors read from one atomic word republished under
                          the pd lock (Go 1.18+); else closing/rd/wd are read
                          one by one */
    bool error_events; /* an error-only event marks the read side not
                          pollable (Go 1.18+); else it is plain readiness */
    bool event_tag;    /* events carry the pd's incarnation (fdseq) and
                          stale ones are dropped (Go 1.21, issue 59545) */
    bool lazy_timers;  /* per-direction seqs (rseq/wseq), and a timer is
                          touched only when its deadline changes (Go
                          1.12+); else one seq, bumped by every deadline
                          change, and both timers deleted and re-created */
} np_design;

extern const np_design np_design_go1_5;
extern const np_design np_design_go1_18;
extern const np_design np_design_go1_21; /* the default */

/* Looks a design up by name; NULL if unknown. */
const np_design *np_design_find(const char *name);

/* The designs, NULL-terminated, for --help listings. */
extern const np_design *const np_designs[];

#ifdef __cplusplus
}
#endif
#endif
