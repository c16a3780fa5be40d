/*
 * machine_internal.h - what machine.c (common) shares with the bare-metal
 * machines (bare_x86.c, bare_riscv.c).
 */
#ifndef MMUEMU_MACHINE_INTERNAL_H
#define MMUEMU_MACHINE_INTERNAL_H

#include "elf_load.h"
#include "glue_internal.h"
#include "mmuemu/machine.h"

typedef struct machine_ops {
    uint64_t ram_base;        /* where guest RAM starts */
    /* Map devices, load the ELF (m->elf is parsed already), set the
     * vCPU's entry state. */
    bool (*setup)(mmu_machine *m, char *err, size_t errlen);
    void (*free)(mmu_machine *m);
    /* Architecture part of the fault report (registers, instruction). */
    void (*report)(mmu_machine *m, const mmu_glue_result *res, FILE *out);
} machine_ops;

extern const machine_ops machine_bare_x86;
extern const machine_ops machine_bare_riscv;

struct mmu_machine {
    mmu_machine_config cfg;
    const machine_ops *ops;
    mmu_glue *g;
    elf_image elf;
    void *dev;                /* the machine's devices */
};

#endif
