/*
 * paging_mode.h - a paging mode is a row of data.
 *
 * Every x86 and RISC-V mode is described by the same record: how many
 * levels, how many VA bits each level indexes, the entry size, which levels
 * may hold leaves and the translated address width. One walk loop
 * (mmu/walk.c) serves all of them.
 *
 * Levels are numbered as the RISC-V spec numbers them: level 0 is the last
 * (4 KiB) level, level levels-1 is the root. x86 names: PT = 0, PD = 1,
 * PDPT = 2, PML4 = 3, PML5 = 4.
 */
#ifndef MMUEMU_PAGING_MODE_H
#define MMUEMU_PAGING_MODE_H

#include <stdbool.h>
#include <stdint.h>

#define MMU_MAX_LEVELS 5

typedef enum mmu_arch {
    MMU_ARCH_X86 = 1,
    MMU_ARCH_RISCV = 2,
} mmu_arch;

typedef enum mmu_paging_mode {
    MMU_MODE_NONE = 0,   /* no translation: x86 CR0.PG=0, RISC-V Bare/M */
    MMU_MODE_X86_32,     /* 32-bit paging, 2 levels, 4-byte entries */
    MMU_MODE_X86_PAE,    /* PAE paging: PDPTE registers + 2 levels */
    MMU_MODE_X86_4LEVEL, /* IA-32e 4-level paging */
    MMU_MODE_X86_5LEVEL, /* IA-32e 5-level paging (CR4.LA57) */
    MMU_MODE_SV32,
    MMU_MODE_SV39,
    MMU_MODE_SV48,
    MMU_MODE_SV57,
    MMU_MODE_COUNT
} mmu_paging_mode;

typedef struct mmu_mode_info {
    const char *name;     /* "4-level", "sv39", ... */
    mmu_arch arch;
    uint8_t levels;       /* table levels, root included */
    uint8_t pte_size;     /* bytes: 4 or 8 */
    uint8_t va_bits;      /* translated VA width: 32, 39, 48, 57 */
    uint8_t idx_bits[MMU_MAX_LEVELS]; /* VA bits indexing each level */
    uint8_t leaf_levels;  /* bit i: level i may hold a leaf (x86 32-bit
                             level 1 additionally needs CR4.PSE) */
    bool root_in_regs;    /* x86 PAE: the root level is the PDPTE registers */
} mmu_mode_info;

const mmu_mode_info *mmu_mode_get(mmu_paging_mode mode);

/* Bits of page offset covered by an entry at `level` (12, 21/22, 30, ...). */
unsigned mmu_mode_shift(const mmu_mode_info *mi, unsigned level);

/* Index of `va` into the table at `level`. */
unsigned mmu_mode_index(const mmu_mode_info *mi, uint64_t va, unsigned level);

/* Name <-> enum, for the CLI and reports. @return MMU_MODE_COUNT if unknown. */
mmu_paging_mode mmu_mode_by_name(const char *name);

#endif
