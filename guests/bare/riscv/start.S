/*
 * start.S - M-mode entry at 0x80000000 and the M-mode trap vector.
 *
 * QEMU virt with -bios none jumps here in M-mode with a0 = hartid and
 * a1 = DTB; the guest reads mhartid itself and ignores the DTB. Harts other
 * than 0 park. .bss is zeroed here so the guest does not depend on the
 * loader zero-filling it. mstub_main() never returns: it mrets to S-mode.
 *
 * M-mode traps run on their own stack (mscratch holds its top while S or U
 * runs), save every register, and call m_trap(frame).
 */
#define FRAME 256

    .section .text.start, "ax", @progbits
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    la      sp, m_boot_stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  la      t0, m_trap_entry
    csrw    mtvec, t0
    la      t0, m_trap_stack_top
    csrw    mscratch, t0
    call    mstub_main
park:
    wfi
    j       park

    .text
    .balign 4
    .globl m_trap_entry
m_trap_entry:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -FRAME
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, (\n * 8)(sp)
    .endr
    csrr    t0, mscratch
    sd      t0, 16(sp)
    mv      a0, sp
    call    m_trap
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, (\n * 8)(sp)
    .endr
    addi    sp, sp, FRAME
    csrrw   sp, mscratch, sp
    mret

    .bss
    .balign 16
m_boot_stack:
    .space  4096
m_boot_stack_top:
m_trap_stack:
    .space  4096
m_trap_stack_top:
