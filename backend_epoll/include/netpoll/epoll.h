/* netpoll/epoll.h - the live backend: Linux epoll, edge-triggered, with an
 * eventfd for breaks (backend_epoll/epoll.c). It is the first backend of the
 * live library's table, so np_config.backend = NULL selects it. */
#ifndef NETPOLL_EPOLL_H
#define NETPOLL_EPOLL_H

#include "netpoll/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const np_backend np_backend_epoll;

#ifdef __cplusplus
}
#endif
#endif
