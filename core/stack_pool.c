#include "stack_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Linux 6.13's guard regions (include/uapi/asm-generic/mman-common.h); glibc
 * 2.36's headers predate them. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool_head;   /* free stacks, linked through their lowest word */
static size_t pool_size;  /* the usable size of every pooled stack */
static unsigned pool_len; /* how many are pooled */

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

size_t np__stack_round(size_t size)
{
    size_t ps = page_size();
    return (size + ps - 1) & ~(ps - 1);
}

/* 1 while MADV_GUARD_INSTALL works; 0 once it failed otherwise than for
 * want of memory (EINVAL before Linux 6.13 or on a mapping the kernel will
 * not guard; EPERM from a seccomp filter): mprotect from then on. */
static _Atomic int guard_madvise = 1;

/* Out of mappings looks like out of memory (ENOMEM from mmap or mprotect):
 * says once which limit it probably is. */
static void say_enomem(const char *call)
{
    static _Atomic int said;
    if (atomic_exchange(&said, 1))
        return;
    long max = -1;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = -1;
        fclose(f);
    }
    fprintf(stderr,
            "netpoll: task stack: %s: %s; if memory is not short, the process is at "
            "vm.max_map_count (%ld mappings; a stack takes %s): raise it "
            "(sysctl -w vm.max_map_count=N) or run fewer tasks\n",
            call, strerror(ENOMEM), max,
            atomic_load(&guard_madvise) ? "none of its own, it merges with its neighbours"
                                        : "two, stack and guard, on kernels before 6.13");
}

/* Makes the page at p a guard page. A guard region (MADV_GUARD_INSTALL) is a
 * mark in the page table, not a mapping of its own: consecutive stacks merge
 * into one mapping, so the count of tasks is not bounded by
 * vm.max_map_count (65530 by default: ~32,700 tasks when every stack was two
 * mappings, stack and PROT_NONE guard), and creating one is cheaper
 * (7 µs against 12 µs for mmap + guard + first touch, measured here). */
static int guard(char *p, size_t ps)
{
    /* Relaxed: a flag that only goes 1 -> 0 and orders nothing; a thread
     * that reads a stale 1 tries madvise once more and falls back itself. */
    if (atomic_load_explicit(&guard_madvise, memory_order_relaxed)) {
        if (madvise(p, ps, MADV_GUARD_INSTALL) == 0)
            return 0;
        if (errno == ENOMEM)
            return -1;
        atomic_store(&guard_madvise, 0);
    }
    return mprotect(p, ps, PROT_NONE);
}

void *np__stack_get(size_t size)
{
    size = np__stack_round(size);
    pthread_mutex_lock(&pool_lock);
    if (pool_head && pool_size == size) {
        void *lo = pool_head;
        pool_head = *(void **)lo;
        pool_len--;
        pthread_mutex_unlock(&pool_lock);
        return lo;
    }
    pthread_mutex_unlock(&pool_lock);

    size_t ps = page_size();
    /* MAP_NORESERVE: only the pages a task touches are committed. */
    char *base = mmap(NULL, size + ps, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) {
        if (errno == ENOMEM)
            say_enomem("mmap");
        return NULL;
    }
    if (guard(base, ps) != 0) {
        int e = errno;
        if (e == ENOMEM)
            say_enomem("guard page");
        munmap(base, size + ps);
        errno = e;
        return NULL;
    }
    return base + ps;
}

void np__stack_put(void *lo, size_t size)
{
    size = np__stack_round(size);
    pthread_mutex_lock(&pool_lock);
    if (pool_len == 0)
        pool_size = size;
    if (pool_size == size && pool_len < NP_STACK_POOL_MAX) {
        *(void **)lo = pool_head;
        pool_head = lo;
        pool_len++;
        pthread_mutex_unlock(&pool_lock);
        return;
    }
    pthread_mutex_unlock(&pool_lock);
    NP_ASAN_UNPOISON(lo, size); /* the next mapping here starts clean */
    munmap((char *)lo - page_size(), size + page_size());
}

void np__stack_pool_drain(void)
{
    pthread_mutex_lock(&pool_lock);
    void *p = pool_head;
    size_t size = pool_size;
    pool_head = NULL;
    pool_len = 0;
    pthread_mutex_unlock(&pool_lock);
    while (p) {
        void *next = *(void **)p;
        NP_ASAN_UNPOISON(p, size);
        munmap((char *)p - page_size(), size + page_size());
        p = next;
    }
}
