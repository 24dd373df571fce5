/* core/ctx.h - machine contexts for stackful tasks (private).
 *
 * A context is a saved stack pointer (x86-64: ctx_x86_64.S saves the six
 * callee-saved registers, MXCSR and the x87 control word on the stack being
 * left) or, as the portable fallback, a ucontext_t. np__ctx_switch also tells
 * AddressSanitizer and ThreadSanitizer about the switch when they are on, so
 * neither mistakes a task's stack for a corrupted one.
 */
#ifndef NP_CORE_CTX_H
#define NP_CORE_CTX_H

#include <stdbool.h>
#include <stddef.h>

#if NP_CTX_UCONTEXT
#include <ucontext.h>
#endif

typedef struct np_ctx {
#if NP_CTX_UCONTEXT
    ucontext_t uc; /* the saved registers */
#else
    void *sp; /* the saved stack pointer; registers are on that stack */
#endif
    void (*fn)(void *);   /* entry of a new context (never returns) */
    void *arg;            /* its argument */
    const void *stack_lo; /* lowest usable stack address (sanitizers) */
    size_t stack_size;    /* usable stack bytes (sanitizers) */
    void *asan_fake;      /* ASan's fake stack while switched out */
    void *tsan_fiber;     /* TSan's fiber for this context */
} np_ctx;

/* Makes c the context of the calling thread's own stack (a worker's
 * scheduler context). */
void np__ctx_init_thread(np_ctx *c);

/* Makes c start fn(arg) on [stack, stack+size) at its first switch-in. fn
 * must never return: it ends by switching away with np__ctx_exit. */
void np__ctx_make(np_ctx *c, void *stack, size_t size, void (*fn)(void *), void *arg);

/* Saves the running context into from and resumes to. Returns when
 * something switches back to from (possibly on another thread). */
void np__ctx_switch(np_ctx *from, np_ctx *to);

/* Like np__ctx_switch, for a context that will never run again. */
_Noreturn void np__ctx_exit(np_ctx *from, np_ctx *to);

/* Releases sanitizer state of a context made by np__ctx_make (a thread's
 * own context made by np__ctx_init_thread has none to release). */
void np__ctx_destroy(np_ctx *c);

#endif
