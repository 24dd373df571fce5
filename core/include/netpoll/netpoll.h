/* netpoll/netpoll.h - everything a program needs. */
#ifndef NETPOLL_NETPOLL_H
#define NETPOLL_NETPOLL_H

#include "netpoll/backend.h"
#include "netpoll/design.h"
#include "netpoll/net.h"
#include "netpoll/poll.h"
#include "netpoll/runtime.h"
#include "netpoll/sync.h"
#include "netpoll/task.h"

#define NETPOLL_VERSION "0.1.0"

#endif
