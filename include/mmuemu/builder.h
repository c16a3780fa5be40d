/*
 * builder.h - the page-table builder: the only host-side writer of page
 * tables (tests, the OS model and the examples all build through it).
 *
 * Works for every paging mode of paging_mode.h. Flags are the
 * architecture's own entry bits (X86_PTE_*, RV_PTE_*): `leaf` for the
 * mapping entries, `table` for intermediate entries the builder creates.
 * The builder adds what the format needs by itself: X86_PTE_PS on x86
 * large leaves, the PSE-36 encoding of 4 MiB pages above 4 GiB, only P in
 * PAE PDPTEs, N and the ppn[3:0]=1000 encoding for Svnapot 64 KiB pages.
 * Not done: freeing emptied tables (unmap leaves them in place).
 */
#ifndef MMUEMU_BUILDER_H
#define MMUEMU_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/paging_mode.h"
#include "mmuemu/phys.h"

/* Hands out a zeroed, 4 KiB-aligned frame in guest RAM. */
typedef bool (*mmu_frame_alloc_fn)(void *arg, uint64_t *pa);

typedef struct mmu_pt {
    mmu_phys *mem;
    mmu_paging_mode mode;
    uint64_t root;          /* root table (PAE: the 32-byte PDPT) */
    mmu_frame_alloc_fn alloc;
    void *alloc_arg;
} mmu_pt;

/* Errors (negative returns). */
#define MMU_PT_OK       0
#define MMU_PT_ENOMEM  (-1) /* the frame allocator said no */
#define MMU_PT_EINVAL  (-2) /* misaligned, bad size for the mode, bad flags */
#define MMU_PT_EEXIST  (-3) /* a large page is in the way, or a table is
                               where a large leaf should go */
#define MMU_PT_EFAULT  (-4) /* a table lies outside guest RAM */
#define MMU_PT_ENOENT  (-5) /* nothing mapped there */

/* A bump allocator over [next, end) of guest RAM: the simplest frame source. */
typedef struct mmu_bump_alloc {
    mmu_phys *mem;
    uint64_t next, end;
} mmu_bump_alloc;
bool mmu_bump_alloc_frame(void *arg, uint64_t *pa);

/* Allocate an empty root (for PAE a zeroed 4 KiB frame; its first 32
 * bytes are the PDPT). */
int mmu_pt_init(mmu_pt *pt, mmu_phys *mem, mmu_paging_mode mode,
                mmu_frame_alloc_fn alloc, void *alloc_arg);

/* Map [va, va+len) to [pa, pa+len) with pages of `page_size` bytes. */
int mmu_pt_map(mmu_pt *pt, uint64_t va, uint64_t pa, uint64_t len,
               uint64_t page_size, uint64_t leaf, uint64_t table);

/* Clear the leaves covering [va, va+len) (whole pages only). */
int mmu_pt_unmap(mmu_pt *pt, uint64_t va, uint64_t len);

/* Leaf flags: new = (old & ~clear) | set, for every page in the range. */
int mmu_pt_protect(mmu_pt *pt, uint64_t va, uint64_t len, uint64_t set,
                   uint64_t clear);

/* Physical address of the entry at `level` for `va`; follows existing
 * tables only. @return MMU_PT_ENOENT if a table on the way is missing. */
int mmu_pt_entry_addr(const mmu_pt *pt, uint64_t va, unsigned level,
                      uint64_t *addr);

/* Raw access to that entry (tests flip bits this way). set_entry creates
 * missing tables above `level` with `table` flags. */
int mmu_pt_get_entry(const mmu_pt *pt, uint64_t va, unsigned level,
                     uint64_t *value);
int mmu_pt_set_entry(mmu_pt *pt, uint64_t va, unsigned level, uint64_t value,
                     uint64_t table);

/* The value a leaf for `pa` at `level` would hold (address encoding of
 * the mode, PS added on x86 large leaves). */
uint64_t mmu_pt_make_leaf(const mmu_pt *pt, unsigned level, uint64_t pa,
                          uint64_t flags);

/* The root register value for this table: x86 CR3 (PCID 0), RISC-V satp
 * (ASID 0; add ASID with the SATP shifts). */
uint64_t mmu_pt_root_reg(const mmu_pt *pt);

#endif
