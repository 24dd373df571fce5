/* The backends compiled into this library, by name. */
#include <string.h>

#include "netpoll/backend.h"

const np_backend *np_backend_find(const char *name)
{
    if (!name)
        return NULL;
#if !NP_SIM
    if (strcmp(name, np_backend_epoll.name) == 0)
        return &np_backend_epoll;
#endif
    if (strcmp(name, np_backend_sim.name) == 0)
        return &np_backend_sim;
    return NULL;
}
