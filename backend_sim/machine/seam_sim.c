/* backend_sim/machine/seam_sim.c - what the seam's scheduling points call in the sim
 * build (NP_SIM=1). Without hooks installed a point only counts itself, so
 * the sim build runs the same tests as the live one; the interleaving
 * explorer installs hooks that switch simulated threads at each point. */
#include <stddef.h>

#include "fatal.h"
#include "netpoll/sim.h"
#include "record.h"
#include "seam.h"
#include "world.h"

static np_sim_hooks hooks; /* copied in by np_sim_set_hooks */
static uint64_t points;    /* scheduling points passed */
/* Points since the world last ran a task from its driver: a task (or tasks
 * handing the run to each other) past NP_SIM_LIVELOCK of them without
 * parking, yielding or ending never will (a CAS retry loop that cannot
 * succeed): with a fail hook, a finding. Explored, the scenarios are small
 * and the runs many: a tenth of that. */
#define NP_SIM_LIVELOCK 20000000u
static uint32_t since_driver;

void np_sim_set_hooks(const np_sim_hooks *h)
{
    if (h)
        hooks = *h;
    else
        hooks = (np_sim_hooks){0};
    np__sim_observe = hooks.observe;
    np__sim_rec_read = hooks.rec_read;
}

void np__sim_driver_turn(void)
{
    since_driver = 0;
}

uint64_t np_sim_points(void)
{
    return points;
}

void np__sim_point(enum np_point_kind kind, const volatile void *addr, const char *file, int line)
{
    points++;
    if (++since_driver > (hooks.point ? NP_SIM_LIVELOCK / 10 : NP_SIM_LIVELOCK) && hooks.fail) {
        since_driver = 0;
        hooks.fail("livelock", hooks.point ? "a task took 2,000,000 steps without parking, "
                                             "yielding or ending"
                                           : "a task took 20,000,000 steps without parking, "
                                             "yielding or ending");
    }
    if (hooks.point)
        hooks.point((int)kind, addr, file, line);
}

/* Called by np__fatal (core/fatal.c) and the world's own checks before they
 * abort: with a fail hook, the run ends as a finding instead. */
void np__sim_fail(const char *name, const char *msg)
{
    if (hooks.fail)
        hooks.fail(name, msg);
}

void (*np__sim_observe)(uint64_t v); /* hooks.observe, read inline by the seam */

/* NP_RECORDING (core/record.h) */
/* The simulated locks held now: a run the explorer abandons (at a state
 * already explored) or ends at a crash leaves its tasks where they were,
 * some inside a critical section; np__sim_release_locks frees them all. */
static np__mutex *held[64];
static unsigned nheld;

void np__sim_release_locks(void)
{
    for (unsigned i = 0; i < nheld; i++)
        held[i]->owner = 0;
    nheld = 0;
}

void np__sim_lock(np__mutex *m, const char *file, int line)
{
    np__sim_point(NP_PT_LOCK, m, file, line);
    while (m->owner) {
        if (!hooks.lock_busy)
            np__fatal("sim: lock %p held by simulated thread %d at %s:%d, and no explorer "
                      "to switch threads",
                      (void *)m, m->owner, file, line);
        hooks.lock_busy(m);
    }
    m->owner = hooks.thread_id ? hooks.thread_id() : 1;
    m->acquired++;
    if (nheld < sizeof held / sizeof held[0])
        held[nheld++] = m;
    if (hooks.locked)
        hooks.locked(m);
    else
        np__sim_obs(m->acquired);
}

void np__sim_unlock(np__mutex *m, const char *file, int line)
{
    if (!m->owner)
        np__fatal("sim: unlock of free lock %p at %s:%d", (void *)m, file, line);
    m->owner = 0;
    for (unsigned i = nheld; i-- > 0;)
        if (held[i] == m) {
            held[i] = held[--nheld];
            break;
        }
    np__sim_point(NP_PT_UNLOCK, m, file, line);
}
