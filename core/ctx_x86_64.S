/* core/ctx_x86_64.S - the x86-64 System V context switch.
 *
 * void np__ctx_swap(void **save_sp, void *new_sp)
 *   Pushes the callee-saved registers (rbp rbx r12-r15), MXCSR and the x87
 *   control word, stores rsp into *save_sp, loads new_sp and pops the same
 *   frame from it. Caller-saved registers need no saving: this is a call.
 *
 * A new stack is laid out by np__ctx_make (ctx.c) so that the first swap to it
 * "returns" into np__ctx_trampoline with r12 = entry function, r13 = argument.
 */
    .text
    .globl  np__ctx_swap
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
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
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
