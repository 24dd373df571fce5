/* backend_sim/world.h - what the sim world offers replay beyond netpoll/sim.h
 * (private: it names core types). */
#ifndef NP_BACKEND_SIM_WORLD_H
#define NP_BACKEND_SIM_WORLD_H

#include <stdbool.h>

#include "scheduler.h"

/* Fires timer t now if it is queued; false if it is not. */
bool np_world_fire_timer(np_timer *t);

/* Every live task (parked, runnable or running), at most max; returns how
 * many there are. */
size_t np_world_tasks(np_task **out, size_t max);

#endif
