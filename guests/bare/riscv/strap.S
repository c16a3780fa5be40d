/*
 * strap.S - S-mode entry, S-mode trap vector, the switch to U-mode, and the
 * probe instructions the checks fault on.
 *
 * sscratch is 0 while S-mode runs and holds the kernel stack top while
 * U-mode runs, so the vector knows which stack to use. A trap frame keeps
 * x1..x31 (x2 = the interrupted sp). s_trap() returns 0 to sret to the
 * trapped context, 1 when U-mode called exit: the vector then drops the
 * frame and returns from run_user() with the exit code.
 *
 * Every probe faults on its first instruction, so sepc equals its label
 * (built without the C extension: all instructions are 4 bytes).
 */
#define FRAME 256

    .text
    .globl s_entry
s_entry:
    la      sp, s_stack_top
    csrw    sscratch, zero
    call    kernel_main
1:  j       1b

    .balign 4
    .globl s_trap_entry
s_trap_entry:
    csrrw   sp, sscratch, sp
    bnez    sp, 1f                  /* from U: sp = kernel stack top    */
    csrrw   sp, sscratch, sp        /* from S: undo, keep sp            */
1:  addi    sp, sp, -FRAME
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (\n * 8)(sp)
    .endr
    csrrw   t0, sscratch, zero      /* user sp, or 0 when from S        */
    bnez    t0, 2f
    addi    t0, sp, FRAME
2:  sd      t0, 16(sp)
    mv      a0, sp
    call    s_trap
    bnez    a0, s_resume_kernel
    csrr    t0, sstatus
    andi    t0, t0, 0x100           /* SPP                              */
    bnez    t0, 3f
    addi    t0, sp, FRAME           /* back to U: next trap's stack     */
    csrw    sscratch, t0
3:  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, (\n * 8)(sp)
    .endr
    ld      sp, 16(sp)
    sret

/* uint64_t run_user(uint64_t entry, uint64_t usp): sret to U-mode at entry
 * with sp = usp; returns the code U-mode passed to SYS_EXIT. */
    .globl run_user
run_user:
    addi    sp, sp, -112
    sd      ra, 0(sp)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    sd      s\n, (8 + \n * 8)(sp)
    .endr
    la      t0, kernel_ctx_sp
    sd      sp, 0(t0)
    csrw    sscratch, sp
    csrw    sepc, a0
    li      t0, 0x122               /* SPP | SPIE | SIE                 */
    csrc    sstatus, t0
    mv      sp, a1
    .irp r, ra,gp,tp,t0,t1,t2,a0,a1,a2,a3,a4,a5,a6,a7,t3,t4,t5,t6
    li      \r, 0
    .endr
    sret

s_resume_kernel:
    la      t0, kernel_ctx_sp
    ld      sp, 0(t0)
    csrw    sscratch, zero
    la      t0, user_exit_code
    ld      a0, 0(t0)
    ld      ra, 0(sp)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    ld      s\n, (8 + \n * 8)(sp)
    .endr
    addi    sp, sp, 112
    ret

/* Probes: the first instruction is the one that may fault. */
    .globl probe_ld
probe_ld:
    ld      a0, 0(a0)
    ret

    .globl probe_sd
probe_sd:
    sd      a1, 0(a0)
    ret

/* Calls va; a fetch fault there is skipped by resuming at ra. */
    .globl probe_exec
probe_exec:
    addi    sp, sp, -16
    sd      ra, 8(sp)
    jalr    a0
    ld      ra, 8(sp)
    addi    sp, sp, 16
    ret

    .globl probe_ebreak
probe_ebreak:
    ebreak
    ret

    .globl probe_illegal
probe_illegal:
    csrr    a0, mscratch            /* M-mode CSR from S: illegal       */
    ret

    .bss
    .balign 16
    .globl kernel_ctx_sp
kernel_ctx_sp:
    .space  8
    .globl user_exit_code
user_exit_code:
    .space  8
    .balign 16
s_stack:
    .space  16384
s_stack_top:
