#include "stack_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

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
    if (base == MAP_FAILED)
        return NULL;
    if (mprotect(base, ps, PROT_NONE) != 0) {
        munmap(base, size + ps);
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
        munmap((char *)p - page_size(), size + page_size());
        p = next;
    }
}
