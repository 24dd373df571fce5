/* backend_sim/mix.h - the hashing and pseudo-random helpers the replay
 * engine and the explorer share (sim build). */
#ifndef NP_BACKEND_SIM_MIX_H
#define NP_BACKEND_SIM_MIX_H

#include <stdint.h>

/* Folds v into the hash h (state hashes, histories, keys). */
static inline uint64_t np__mix(uint64_t h, uint64_t v)
{
    h ^= v + UINT64_C(0x9E3779B97F4A7C15) + (h << 6) + (h >> 2);
    h *= UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 33);
}

/* xorshift64: the next number of the stream *s (never 0 if *s is not). */
static inline uint64_t np__xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
