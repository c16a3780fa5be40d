/*
 * tlb_internal.h - the TLB's structures, shared by tlb.c (mechanics),
 * translate.c (hit/miss flow) and walk.c (paging-structure caches).
 */
#ifndef MMUEMU_TLB_INTERNAL_H
#define MMUEMU_TLB_INTERNAL_H

#include "mmuemu/tlb.h"

#define TLB_PWC_LEVELS 4 /* non-leaf levels 1..4 */

typedef struct tlb_entry {
    uint64_t key;          /* tlb_key(vpn, shift) while valid, else 0:
                              one compare per way on lookup */
    uint64_t vpn;          /* va >> shift */
    uint64_t pa;           /* PA of the first byte of the (fragment) page */
    uint64_t stamp;        /* LRU: last use; FIFO: fill order */
    uint32_t tag;          /* PCID / ASID */
    uint8_t shift;         /* log2 of the size this entry covers */
    uint8_t page_shift;    /* log2 of the page size the walk found */
    uint8_t level;
    uint8_t pbmt;
    bool valid, global, dirty;
    mmu_rights rights;
    /* The rights judged at the last hit (as if dirty), and the control
     * state they were judged under; re-judged when the key changes. */
    uint8_t perm_cache;
    uint64_t perm_key;     /* 0: none */
} tlb_entry;

typedef struct tlb_array {
    mmu_tlb_array_cfg cfg;
    uint32_t sets;
    uint32_t set_mask;     /* sets - 1 when sets is a power of two */
    uint64_t shifts;       /* bit s: holds pages of 2^s bytes */
    tlb_entry *e;          /* sets x ways */
    uint64_t *plru;        /* per set */
} tlb_array;

typedef struct tlb_struct {
    tlb_array arr[MMU_TLB_MAX_ARRAYS];
    mmu_tlb_stats stats;
} tlb_struct;

/* A cached non-leaf entry: where the next table is and the rights
 * combined down to it. */
typedef struct tlb_pwc_entry {
    uint64_t prefix;       /* va >> shift(level) */
    uint64_t table;        /* next table's PA */
    uint64_t stamp;
    uint32_t tag;
    bool valid;
    bool all_rw, all_us, any_nx, any_g;
} tlb_pwc_entry;

struct mmu_tlb {
    mmu_tlb_config cfg;
    tlb_struct s[3];       /* ITLB, DTLB, STLB */
    tlb_pwc_entry *pwc;    /* TLB_PWC_LEVELS x pwc_entries */
    mmu_tlb_stats pwc_stats;
    uint64_t clock, rng;
};

static inline uint64_t tlb_key(uint64_t vpn, unsigned shift)
{
    return vpn << 7 | (uint64_t)shift << 1 | 1u;
}

unsigned tlb_size_class(unsigned shift);
bool tlb_struct_present(const struct mmu_tlb *t, unsigned which);
tlb_entry *tlb_lookup(struct mmu_tlb *t, unsigned which, uint64_t va,
                      uint32_t tag, const uint8_t *shifts, unsigned nshifts);
/* Cache `proto` (its shift = the page's) for the access at va. */
void tlb_fill(struct mmu_tlb *t, unsigned which, const tlb_entry *proto,
              uint64_t va);
/* Drop every entry that would translate va under tag (globals too), as
 * hardware does on a fault or before re-walking: no statistics. */
void tlb_drop_va(struct mmu_tlb *t, uint64_t va, uint32_t tag);
/* Does the entry (or the page it is a fragment of) translate va? */
bool tlb_entry_covers(const tlb_entry *e, uint64_t va);
/* Drop the paging-structure-cache entries a walk of va would use. */
void tlb_pwc_drop_va(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                     const mmu_mode_info *mi);

tlb_pwc_entry *tlb_pwc_slot(struct mmu_tlb *t, unsigned level, unsigned i);
bool tlb_pwc_lookup(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                    const mmu_mode_info *mi, unsigned *level,
                    tlb_pwc_entry *out);
void tlb_pwc_fill(struct mmu_tlb *t, unsigned level, const tlb_pwc_entry *p);
void tlb_pwc_flush(struct mmu_tlb *t, uint32_t tag);

#endif
