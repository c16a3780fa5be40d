/*
 * machine.h - bare-metal machines that boot guests the way QEMU does, so
 * every bare guest also runs on QEMU as a reference.
 *
 * RISC-V (as `qemu-system-riscv64 -machine virt -bios none -kernel ELF`):
 * RAM at 0x80000000, ns16550 UART at 0x10000000, SiFive test finisher at
 * 0x100000, and the HTIF `tohost` convention when the ELF has that
 * symbol; the hart starts in M-mode at the ELF entry with a0 = hartid.
 * x86 (as `qemu-system-x86_64 -kernel` boots a multiboot v1 kernel): an
 * ELF32 container entered in 32-bit protected mode with paging off,
 * EAX = 0x2BADB002, EBX = multiboot info (mem_lower/upper, cmdline);
 * COM1 (16550 at 0x3f8, line status always ready), port 0xE9 console,
 * isa-debug-exit at 0xf4 (exit status (code<<1)|1), fw_cfg reporting one
 * CPU, a minimal xAPIC page, and a CPUID that reports exactly the paging
 * features the model implements.
 */
#ifndef MMUEMU_MACHINE_H
#define MMUEMU_MACHINE_H

#include <stdio.h>

#include "mmuemu/glue.h"

typedef struct mmu_machine mmu_machine;

typedef struct mmu_machine_config {
    mmu_glue_isa isa;
    const char *elf_path;
    const char *cmdline;          /* x86 multiboot cmdline; may be NULL */
    uint64_t ram_size;            /* 0: 128 MiB */
    const mmu_tlb_config *tlb;    /* NULL: none */
    uint32_t rv_ext;              /* MMU_RV_EXT_* */
    FILE *console;                /* where the UART / COM1 output goes */
    uint64_t max_insns;           /* 0: no limit */
} mmu_machine_config;

/* @return NULL with a one-line message in err (bad ELF, ...). */
mmu_machine *mmu_machine_new(const mmu_machine_config *cfg, char *err,
                             size_t errlen);
void mmu_machine_free(mmu_machine *m);
mmu_glue *mmu_machine_glue(mmu_machine *m);

/*
 * Run to the end. @return the guest's exit status (0..255) when it exited
 * through its device; otherwise -1 with res saying why (unhandled fault,
 * triple fault, error).
 */
int mmu_machine_run(mmu_machine *m, mmu_glue_result *res);

/* Write a report of an unhandled fault or triple fault: kind, address,
 * error code or cause, the walk level by level, registers, and the
 * faulting instruction disassembled with Capstone. */
void mmu_machine_report(mmu_machine *m, const mmu_glue_result *res,
                        FILE *out);

#endif
