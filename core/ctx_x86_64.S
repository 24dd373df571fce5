/* core/ctx_x86_64.S - the x86-64 System V context switch.
 *
 * void np__ctx_swap(void **save_sp, void *new_sp)
 *   Pushes the callee-saved registers (rbp rbx r12-r15), stores rsp into
 *   *save_sp, loads new_sp and pops the same frame from it. Caller-saved
 *   registers need no saving: this is a call.
 *
 *   The floating-point control state (MXCSR, x87 control word) belongs to
 *   the worker thread and is shared by the tasks it runs, as goroutines share
 *   it in Go, whose switch does not save it either: a task that changes the
 *   rounding mode or exception masks restores them before it parks (see
 *   netpoll/task.h). Saving them costs two microcoded instructions per
 *   switch, about a third of a park/ready round trip (bench/RESULTS.md); the
 *   CMake option NETPOLL_CTX_FPU=ON (NP_CTX_FPU) saves them per task. The
 *   frame keeps their 8-byte slot either way.
 *
 * A new stack is laid out by np__ctx_make (ctx.c) so that the first swap to it
 * "returns" into np__ctx_trampoline with r12 = entry function, r13 = argument.
 */
    .text
    .globl  np__ctx_swap
    .hidden np__ctx_swap       /* internal: not exported from libnetpoll */
    .type   np__ctx_swap, @function
np__ctx_swap:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
#if NP_CTX_FPU
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
#endif
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
#if NP_CTX_FPU
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
#endif
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   np__ctx_swap, .-np__ctx_swap

    .globl  np__ctx_trampoline
    .hidden np__ctx_trampoline
    .type   np__ctx_trampoline, @function
np__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip       /* the bottom frame: unwinders stop here */
    movq    %r13, %rdi
    callq   *%r12
    ud2                      /* the entry function must not return */
    .cfi_endproc
    .size   np__ctx_trampoline, .-np__ctx_trampoline

    .section .note.GNU-stack,"",@progbits
