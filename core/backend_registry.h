/* core/backend_registry.h - the backends of this library (private). */
#ifndef NP_CORE_BACKEND_REGISTRY_H
#define NP_CORE_BACKEND_REGISTRY_H

#include <stddef.h>

#include "netpoll/backend.h"

/* The table the build generates for this library (NULL-terminated). */
extern const np_backend *const np__backends[];

/* The first of the table: what np_config.backend = NULL means. */
const np_backend *np__backend_default(void);

#endif
