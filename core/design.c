#include "netpoll/design.h"

#include <string.h>

/* The seed note's design: Go 1.5 runtime/netpoll.go. */
const np_design np_design_go1_5 = {
    .name = "go1.5",
    .info_word = false,
    .error_events = false,
    .event_tag = false,
    .lazy_timers = false,
};

/* Go 1.18: the atomic info word and error-only events (notpollable), but
 * events not yet tagged with the incarnation - the window of issue 59545. */
const np_design np_design_go1_18 = {
    .name = "go1.18",
    .info_word = true,
    .error_events = true,
    .event_tag = false,
    .lazy_timers = true,
};

/* The current design (DESIGN section 2). */
const np_design np_design_go1_21 = {
    .name = "go1.21",
    .info_word = true,
    .error_events = true,
    .event_tag = true,
    .lazy_timers = true,
};

const np_design *const np_designs[] = {&np_design_go1_5, &np_design_go1_18, &np_design_go1_21,
                                       NULL};

const np_design *np_design_find(const char *name)
{
    if (!name)
        return NULL;
    for (const np_design *const *d = np_designs; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}
