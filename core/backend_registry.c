/* The backends compiled into this library, by name. The table is the
 * build's (np_backend_table in the top CMakeLists.txt: one per library):
 * each backend registers itself there, and the core names none. */
#include <string.h>

#include "backend_registry.h"

const np_backend *np_backend_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; np__backends[i]; i++)
        if (strcmp(name, np__backends[i]->name) == 0)
            return np__backends[i];
    return NULL;
}

const np_backend *np__backend_default(void)
{
    return np__backends[0];
}
