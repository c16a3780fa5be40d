/*
 * arch_pending.c - TEMPORARY weak placeholders so the tree links while the
 * per-architecture glue is written; each real definition overrides its
 * placeholder. A placeholder machine refuses to start.
 */
#include "machine_internal.h"

#include <stdio.h>

static bool not_ready(mmu_glue *g, char *err, size_t errlen)
{
    (void)g;
    snprintf(err, errlen, "this architecture's glue is not built yet");
    return false;
}

static bool machine_not_ready(mmu_machine *m, char *err, size_t errlen)
{
    (void)m;
    snprintf(err, errlen, "this machine is not built yet");
    return false;
}

#define PENDING_ARCH {.name = "pending", .setup = not_ready}
__attribute__((weak)) const glue_arch glue_arch_x86_64 = PENDING_ARCH;
__attribute__((weak)) const glue_arch glue_arch_i386 = PENDING_ARCH;
/* glue_arch_rv64/rv32: riscv_glue.c. In a static library the first
 * member defining a symbol wins, weak or not, so a placeholder here would
 * shadow the real definition. */
__attribute__((weak)) const machine_ops machine_bare_x86 = {
    .setup = machine_not_ready};
/* machine_bare_riscv: bare_riscv.c. */
