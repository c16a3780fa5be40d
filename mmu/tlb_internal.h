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
    uint64_t off_mask;     /* (1 << shift) - 1: the offset bits of a VA */
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

/* One probe of a lookup: an array and the page shift to look for in it,
 * with the array's geometry copied in (one record to read per probe). */
typedef struct tlb_probe {
    tlb_entry *e;          /* the array's sets x ways */
    uint64_t *plru;
    uint32_t ways, sets;
    uint32_t set_mask;     /* sets - 1 when sets is a power of two */
    uint8_t shift;
    bool pow2;             /* sets is a power of two */
} tlb_probe;

/* Page shifts a mode can produce: at most 6 (Sv57). */
#define TLB_MAX_PROBES (MMU_TLB_MAX_ARRAYS * 6)

typedef struct tlb_struct {
    tlb_array arr[MMU_TLB_MAX_ARRAYS];
    mmu_tlb_stats stats;
    /* Per paging mode, the probes of a lookup in order: arrays first to
     * last, shifts smallest first. Fixed by the geometry, so computed
     * once in mmu_tlb_new(). */
    uint8_t nprobes[MMU_MODE_COUNT];
    tlb_probe probes[MMU_MODE_COUNT][TLB_MAX_PROBES];
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
void tlb_plru_touch(uint64_t *bits, unsigned ways, unsigned way);

/* The lookup is the TLB hit's inner loop: inline, over the probe list. */

static inline uint32_t tlb_set_of(const tlb_array *a, uint64_t vpn)
{
    return a->set_mask || a->sets == 1 ? (uint32_t)(vpn & a->set_mask)
                                       : (uint32_t)(vpn % a->sets);
}

/* A use of way `way` (entry e) of a set, for the replacement policy. */
static inline void tlb_touch(struct mmu_tlb *t, tlb_entry *e, uint64_t *plru,
                             unsigned ways, unsigned way)
{
    if (t->cfg.policy == MMU_TLB_LRU)
        e->stamp = ++t->clock;
    else if (t->cfg.policy == MMU_TLB_PLRU)
        tlb_plru_touch(plru, ways, way);
}

/* The entry of structure `which` translating va under tag in `mode`
 * (touched for replacement), or NULL. No statistics. */
static inline tlb_entry *tlb_lookup(struct mmu_tlb *t, unsigned which,
                                    mmu_paging_mode mode, uint64_t va,
                                    uint32_t tag)
{
    const tlb_struct *s = &t->s[which];
    const tlb_probe *p = s->probes[mode];
    for (const tlb_probe *end = p + s->nprobes[mode]; p < end; p++) {
        uint64_t vpn = va >> p->shift, key = tlb_key(vpn, p->shift);
        uint32_t set = p->pow2 ? (uint32_t)(vpn & p->set_mask)
                               : (uint32_t)(vpn % p->sets);
        tlb_entry *row = &p->e[(size_t)set * p->ways];
        unsigned w = 0;
        do { /* an array has at least one way */
            if (row[w].key == key && (row[w].global || row[w].tag == tag)) {
                tlb_touch(t, &row[w], &p->plru[set], p->ways, w);
                return &row[w];
            }
        } while (++w < p->ways);
    }
    return NULL;
}
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
