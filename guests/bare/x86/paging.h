/*
 * paging.h - the guest's own page tables: a frame pool, the kernel map, and
 * one "space" per paging mode the checks run in.
 *
 * Kernel map (shared by both modes): identity 0..1 GiB; 0..2 MiB in 4 KiB
 * pages (page 0 absent; the .user range U/S=1, the rest supervisor), then
 * 2 MiB supervisor pages. Non-leaf entries carry U/S=1 and R/W=1 so the
 * leaves decide (SDM 4.6: rights combine over all levels).
 * Test region of a space: base + slot * 4 KiB (one PT of 512 slots, U/S=1
 * R/W=1 above it), base + 2 MiB (a PDE for 2 MiB leaves), base + 1 GiB
 * (a PDPTE for 1 GiB leaves).
 *   4-level: CR3 -> kernel PML4; PML4[1] -> test PDPT; base = 1 << 39.
 *   5-level: CR3 -> PML5; PML5[0] -> kernel PML4; PML5[1] -> PML4';
 *            PML4'[1] -> test PDPT; base = 1 << 48 | 1 << 39, an address
 *            that is non-canonical under 4-level paging.
 * Models: Intel SDM vol. 3A 4.5 (4-level and 5-level paging).
 */
#ifndef GUEST_X86_PAGING_H
#define GUEST_X86_PAGING_H

#include <stdint.h>

#define PAGE_SIZE  UINT64_C(0x1000)
#define SIZE_2M    UINT64_C(0x200000)
#define SIZE_1G    UINT64_C(0x40000000)
#define TEST_SLOTS 512

struct space {
    const char *name; /* "4-level" or "5-level": the line prefix */
    unsigned levels;
    unsigned va_bits; /* 48 or 57 */
    uint64_t cr3;
    uint64_t base;
    uint64_t *pdpt, *pd, *pt; /* the test region's tables */
    unsigned next_slot;
};

/* Pool = [4 MiB, mem_end); builds the kernel map and loads CR3. */
void paging_init(uint64_t mem_end);
/* A zeroed page from the pool (identity-mapped: pointer == address). */
uint64_t *frame_alloc(void);
/* Builds the tables of a 4- or 5-level space (does not load CR3). */
void space_init(struct space *s, unsigned levels);

/* A fresh test slot: its linear address. */
uint64_t slot_new(struct space *s);
uint64_t *slot_pte(const struct space *s, uint64_t va);
/* Sets the slot's PTE to a fresh zeroed frame | flags, INVLPG; returns
 * the frame (kernel view). */
uint8_t *slot_map(const struct space *s, uint64_t va, uint64_t flags);
/* Rewrites the slot's PTE flags, keeping its frame; INVLPG. */
void slot_flags(const struct space *s, uint64_t va, uint64_t flags);

#endif
