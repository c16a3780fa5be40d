/*
 * paging_mode.c - the table of paging modes (see mmuemu/paging_mode.h).
 *
 * Geometry from the Intel SDM vol. 3A tables 4-1 and 4-2 and the RISC-V
 * privileged spec's Sv32/Sv39/Sv48/Sv57 sections.
 */
#include "mmuemu/paging_mode.h"

#include <stddef.h>
#include <string.h>

/* leaf_levels: bit i set if level i may hold a leaf. */
#define L(i) (1u << (i))

static const mmu_mode_info modes[MMU_MODE_COUNT] = {
    [MMU_MODE_NONE] = {"none", MMU_ARCH_X86, 0, 0, 64, {0}, 0, false},
    [MMU_MODE_X86_32] = {"32-bit", MMU_ARCH_X86, 2, 4, 32, {10, 10},
                         L(0) | L(1), false},
    [MMU_MODE_X86_PAE] = {"pae", MMU_ARCH_X86, 3, 8, 32, {9, 9, 2},
                          L(0) | L(1), true},
    [MMU_MODE_X86_4LEVEL] = {"4-level", MMU_ARCH_X86, 4, 8, 48,
                             {9, 9, 9, 9}, L(0) | L(1) | L(2), false},
    [MMU_MODE_X86_5LEVEL] = {"5-level", MMU_ARCH_X86, 5, 8, 57,
                             {9, 9, 9, 9, 9}, L(0) | L(1) | L(2), false},
    [MMU_MODE_SV32] = {"sv32", MMU_ARCH_RISCV, 2, 4, 32, {10, 10},
                       L(0) | L(1), false},
    [MMU_MODE_SV39] = {"sv39", MMU_ARCH_RISCV, 3, 8, 39, {9, 9, 9},
                       L(0) | L(1) | L(2), false},
    [MMU_MODE_SV48] = {"sv48", MMU_ARCH_RISCV, 4, 8, 48, {9, 9, 9, 9},
                       L(0) | L(1) | L(2) | L(3), false},
    [MMU_MODE_SV57] = {"sv57", MMU_ARCH_RISCV, 5, 8, 57, {9, 9, 9, 9, 9},
                       L(0) | L(1) | L(2) | L(3) | L(4), false},
};

const mmu_mode_info *mmu_mode_get(mmu_paging_mode mode)
{
    if ((unsigned)mode >= MMU_MODE_COUNT)
        return NULL;
    return &modes[mode];
}

unsigned mmu_mode_shift(const mmu_mode_info *mi, unsigned level)
{
    unsigned shift = 12;
    for (unsigned i = 0; i < level; i++)
        shift += mi->idx_bits[i];
    return shift;
}

unsigned mmu_mode_index(const mmu_mode_info *mi, uint64_t va, unsigned level)
{
    uint64_t mask = (UINT64_C(1) << mi->idx_bits[level]) - 1;
    return (unsigned)((va >> mmu_mode_shift(mi, level)) & mask);
}

mmu_paging_mode mmu_mode_by_name(const char *name)
{
    for (unsigned i = 0; i < MMU_MODE_COUNT; i++)
        if (strcmp(modes[i].name, name) == 0)
            return (mmu_paging_mode)i;
    return MMU_MODE_COUNT;
}
