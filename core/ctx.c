#include "ctx.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "fatal.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define NP_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define NP_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

/* The context being left by the switch in progress on this thread. Read
 * through a function that is never inlined: after a switch the code may be
 * running on another thread, and a thread-local's address must not be reused
 * from before the switch. */
#if NP_ASAN
static _Thread_local np_ctx *ctx_leaving __attribute__((tls_model("initial-exec")));
static __attribute__((noinline)) np_ctx **leaving_slot(void)
{
    np_ctx **p = &ctx_leaving;
    __asm__ volatile("" : "+r"(p)); /* keep the compiler from caching p */
    return p;
}
#endif

/* Runs in a context that has just been switched to. */
static void arrived(np_ctx *self)
{
#if NP_ASAN
    const void *lo;
    size_t size;
    __sanitizer_finish_switch_fiber(self->asan_fake, &lo, &size);
    np_ctx *prev = *leaving_slot();
    if (prev && !prev->stack_lo) { /* learn a thread stack's bounds */
        prev->stack_lo = lo;
        prev->stack_size = size;
    }
#else
    (void)self;
#endif
}

/* Runs just before a switch. TSan's own switch is not made here: it must be
 * the last call before the stack changes, in the function that switches (a
 * helper returning after it would pop a frame from the new fiber's shadow
 * stack that it never pushed) - see TSAN_SWITCH. */
static void leaving(np_ctx *from, np_ctx *to, bool dying)
{
#if NP_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : &from->asan_fake, to->stack_lo, to->stack_size);
    *leaving_slot() = from;
#else
    (void)from;
    (void)to;
    (void)dying;
#endif
}

/* The context left keeps the fiber it is leaving from: the same as its own
 * unless it was saved from where another context's code stood (the machine's
 * simulated threads are saved on whichever task's stack they run), and then
 * its resumption must be on that fiber, or the shadow stacks drift apart. */
#if NP_TSAN
#define TSAN_SWITCH(from, to)                                                                      \
    ((from)->tsan_fiber = __tsan_get_current_fiber(), __tsan_switch_to_fiber((to)->tsan_fiber, 0))
#else
#define TSAN_SWITCH(from, to) ((void)0)
#endif

/* The first code a new context runs. */
static _Noreturn void ctx_start(np_ctx *c)
{
    arrived(c);
    c->fn(c->arg);
    np__fatal("context entry function returned");
}

void np__ctx_init_thread(np_ctx *c)
{
    memset(c, 0, sizeof *c);
#if NP_ASAN && !NP_MACHINE
    /* (The machine build's simulated threads run on stacks of their own:
     * their bounds are learnt at the first switch away, see arrived.)
     * Only ASan's fiber switches need a thread stack's bounds; finding them
     * reads /proc/self/maps for the main thread, which is slow. */
    pthread_attr_t a;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &lo, &size) == 0) {
            c->stack_lo = lo;
            c->stack_size = size;
        }
        pthread_attr_destroy(&a);
    }
#endif
#if NP_TSAN
    c->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void np__ctx_destroy(np_ctx *c)
{
#if NP_ASAN
    /* A context may be destroyed while suspended deep in its stack (the
     * explorer abandons runs mid-step): its frames' redzones are still
     * poisoned, and the stack is about to be reused by another context. */
    if (c->fn && c->stack_lo && c->stack_size)
        __asan_unpoison_memory_region(c->stack_lo, c->stack_size);
#endif
#if NP_TSAN
    /* Only fibers we created: a thread's own fiber belongs to TSan. */
    if (c->tsan_fiber && c->fn)
        __tsan_destroy_fiber(c->tsan_fiber);
#endif
    c->tsan_fiber = NULL;
}

#if NP_CTX_UCONTEXT

/* makecontext passes int arguments only: the pointer goes in two halves. */
static void uc_start(unsigned hi, unsigned lo)
{
    ctx_start((np_ctx *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}

void np__ctx_make(np_ctx *c, void *stack, size_t size, void (*fn)(void *), void *arg)
{
    memset(c, 0, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->stack_lo = stack;
    c->stack_size = size;
    if (getcontext(&c->uc) != 0)
        np__fatal("getcontext failed");
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))uc_start, 2, (unsigned)(p >> 32), (unsigned)p);
#if NP_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void np__ctx_switch(np_ctx *from, np_ctx *to)
{
    leaving(from, to, false);
    TSAN_SWITCH(from, to);
    if (swapcontext(&from->uc, &to->uc) != 0)
        np__fatal("swapcontext failed");
    arrived(from);
}

void np__ctx_exit(np_ctx *from, np_ctx *to)
{
    leaving(from, to, true);
    TSAN_SWITCH(from, to);
    setcontext(&to->uc);
    np__fatal("setcontext failed");
}

#else /* the hand-written x86-64 switch */

void np__ctx_swap(void **save_sp, void *new_sp);
void np__ctx_trampoline(void);

void np__ctx_make(np_ctx *c, void *stack, size_t size, void (*fn)(void *), void *arg)
{
    memset(c, 0, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->stack_lo = stack;
    c->stack_size = size;
    /* The frame np__ctx_swap pops, top down: a zero slot (so the trampoline
     * runs with rsp 16-byte aligned, as a call site must), the trampoline as
     * return address, rbp rbx r12 r13 r14 r15, then MXCSR and the x87
     * control word at their power-on defaults. */
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 80);
    memset(sp, 0, 80);
    uint32_t csr = 0x1F80;   /* MXCSR: all exceptions masked, round to nearest */
    uint16_t fpucw = 0x037F; /* x87: all exceptions masked, extended precision */
    memcpy((char *)sp, &csr, 4);
    memcpy((char *)sp + 4, &fpucw, 2);
    sp[3] = (uint64_t)(uintptr_t)c;         /* r13: the argument */
    sp[4] = (uint64_t)(uintptr_t)ctx_start; /* r12: the entry */
    sp[7] = (uint64_t)(uintptr_t)np__ctx_trampoline;
    c->sp = sp;
#if NP_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void np__ctx_switch(np_ctx *from, np_ctx *to)
{
    leaving(from, to, false);
    TSAN_SWITCH(from, to);
    np__ctx_swap(&from->sp, to->sp);
    arrived(from);
}

void np__ctx_exit(np_ctx *from, np_ctx *to)
{
    leaving(from, to, true);
    TSAN_SWITCH(from, to);
    np__ctx_swap(&from->sp, to->sp);
    np__fatal("a finished context was resumed");
}

#endif
