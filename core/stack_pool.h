/* core/stack_pool.h - task stacks with guard pages, recycled (private).
 *
 * Each stack is one mmap: a guard page below `size` usable bytes, so an
 * overflow faults instead of corrupting a neighbour. The guard is a guard
 * region (MADV_GUARD_INSTALL, Linux >= 6.13), which adds no mapping, so
 * stacks merge into few mappings; on older kernels it is mprotect(PROT_NONE),
 * two mappings per stack, and vm.max_map_count (default 65530) bounds the
 * tasks to ~32,700: mmap or mprotect then fail with ENOMEM, and stderr gets
 * one line naming the limit. Freed stacks of
 * the default size are kept (up to NP_STACK_POOL_MAX) and handed out again,
 * because mmap + mprotect + munmap cost several microseconds and a
 * TLB shootdown per task otherwise. Thread-safe.
 */
#ifndef NP_CORE_STACK_POOL_H
#define NP_CORE_STACK_POOL_H

#include <stddef.h>

/* ASan's manual poisoning, for memory kept in the pool (core/task.c poisons
 * an ended task's struct at its stack's top); no-ops without ASan. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define NP_ASAN_POISON(p, n)   __asan_poison_memory_region((p), (n))
#define NP_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define NP_ASAN_POISON(p, n)   ((void)(p), (void)(n))
#define NP_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Stacks kept for reuse: bounds the memory an idle runtime holds to
 * NP_STACK_POOL_MAX x the stack size (32 MiB at the default 128 KiB). */
#define NP_STACK_POOL_MAX 256

/* The usable size np__stack_get will actually give for a request. */
size_t np__stack_round(size_t size);
/* Returns the lowest usable address of a stack of np__stack_round(size)
 * bytes, or NULL (errno set) when out of memory. */
void *np__stack_get(size_t size);
/* Returns a stack obtained from np__stack_get(size). */
void np__stack_put(void *lo, size_t size);
/* Unmaps every pooled stack. */
void np__stack_pool_drain(void);

#endif
