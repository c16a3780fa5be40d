/*
 * tlb.h - a configurable TLB model with the architectures' invalidation
 * rules.
 *
 * Structure: split first level (ITLB for fetches, DTLB for data), an
 * optional unified second level (STLB), each made of sub-arrays that hold
 * given page sizes with their own entries x ways; replacement LRU,
 * tree-PLRU, FIFO or seeded random. Entries are tagged with the virtual
 * page, page size, PCID/ASID and the global bit, and cache the rights of
 * the translation (mmu_rights) and whether D is known set. Rights are
 * re-judged at every hit against the control bits in force (CR0.WP, SMEP,
 * SMAP, AC, PKRU; SUM, MXR), which is what hardware caching the paging-
 * structure bits does.
 *
 * Staleness is faithful: the TLB never snoops page-table stores. After a
 * PTE changes without an invalidation, a hit keeps returning the old
 * translation; only invalidations and capacity evictions remove entries.
 * A page that no sub-array holds at its size is cached as fragments of
 * the largest size that is held (as real cores splinter 1 GiB pages).
 *
 * Optional paging-structure caches (off by default) keep non-leaf entries
 * keyed by VA prefix and PCID/ASID, so a changed upper-level entry also
 * stays stale until invalidated.
 *
 * x86 INVLPG has two configurable scopes (mmu_invlpg_scope): by default
 * it drops the page's entries in every PCID (what the SDM permits); the
 * SDM's guaranteed minimum - the current PCID's entries and the global
 * ones - is MMU_INVLPG_CURRENT_PCID.
 *
 * Models: Intel SDM vol. 3A 4.10 (TLBs, paging-structure caches, PCIDs,
 * invalidation), RISC-V privileged spec "Supervisor Memory-Management
 * Fence Instruction" (SFENCE.VMA) and satp/ASID rules.
 */
#ifndef MMUEMU_TLB_H
#define MMUEMU_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/translate.h"

typedef enum mmu_tlb_policy {
    MMU_TLB_LRU = 0,
    MMU_TLB_PLRU,     /* tree pseudo-LRU (ways a power of two) */
    MMU_TLB_FIFO,
    MMU_TLB_RANDOM,   /* seeded xorshift */
} mmu_tlb_policy;

/* Page sizes a sub-array may hold (bit = log2(size) - 12 would not fit
 * all; use these names). */
#define MMU_TLB_4K   (1u << 0)
#define MMU_TLB_64K  (1u << 1) /* Svnapot */
#define MMU_TLB_2M   (1u << 2) /* also 4 MiB (x86 32-bit, Sv32) */
#define MMU_TLB_1G   (1u << 3)
#define MMU_TLB_512G (1u << 4) /* Sv48/Sv57 */
#define MMU_TLB_256T (1u << 5) /* Sv57 */

#define MMU_TLB_MAX_ARRAYS 4

typedef struct mmu_tlb_array_cfg {
    uint32_t entries;     /* 0: absent */
    uint32_t ways;        /* = entries for fully associative */
    uint32_t sizes;       /* MMU_TLB_* this array holds */
} mmu_tlb_array_cfg;

/*
 * What x86 INVLPG removes besides the page's global entries and the
 * current PCID's entries and paging-structure caches (the SDM's
 * guaranteed minimum, vol. 3A 4.10.4.1). The SDM also permits
 * invalidating more, and mmuemu's default does: every PCID's entries for
 * the page (and every PCID's paging-structure caches), so a page-table
 * change followed by one INVLPG is seen in every address space.
 */
typedef enum mmu_invlpg_scope {
    MMU_INVLPG_ALL_PCIDS = 0,   /* default: the page in every PCID */
    MMU_INVLPG_CURRENT_PCID,    /* the SDM's minimum: other PCIDs' entries
                                   for the page survive */
} mmu_invlpg_scope;

typedef struct mmu_tlb_config {
    const char *name;
    const char *source;   /* where the geometry comes from */
    mmu_tlb_array_cfg itlb[MMU_TLB_MAX_ARRAYS];
    mmu_tlb_array_cfg dtlb[MMU_TLB_MAX_ARRAYS];
    mmu_tlb_array_cfg stlb[MMU_TLB_MAX_ARRAYS];
    mmu_tlb_policy policy;
    uint64_t seed;        /* for MMU_TLB_RANDOM */
    uint32_t pwc_entries; /* paging-structure cache entries per level;
                             0: none (default) */
    mmu_invlpg_scope invlpg; /* default (0): MMU_INVLPG_ALL_PCIDS */
} mmu_tlb_config;

/* Statistics of one structure. */
typedef struct mmu_tlb_stats {
    uint64_t lookups, hits, misses, fills, evictions, flushes,
        invalidated;   /* entries removed by invalidations */
} mmu_tlb_stats;

enum { MMU_TLB_ITLB = 0, MMU_TLB_DTLB, MMU_TLB_STLB, MMU_TLB_PWC,
       MMU_TLB_NSTRUCT };

struct mmu_tlb;

/* Named presets: "generic" (the default), "skylake", "u54", "gem5". */
const mmu_tlb_config *mmu_tlb_preset(const char *name);
/* NULL-terminated list of preset names. */
const char *const *mmu_tlb_preset_names(void);

/* @return NULL on a bad geometry (ways not dividing entries, PLRU with
 * ways not a power of two or above 64, no first-level array for 4 KiB
 * pages) or no memory. */
struct mmu_tlb *mmu_tlb_new(const mmu_tlb_config *cfg);
void mmu_tlb_free(struct mmu_tlb *t);
const mmu_tlb_config *mmu_tlb_get_config(const struct mmu_tlb *t);
const mmu_tlb_stats *mmu_tlb_get_stats(const struct mmu_tlb *t,
                                       unsigned which);
void mmu_tlb_reset_stats(struct mmu_tlb *t);

/* ---- invalidation primitives (architecture-neutral) ---------------- */

#define MMU_TLB_ANY_TAG UINT32_MAX

/* Everything, global entries and paging-structure caches included. */
void mmu_tlb_flush_all(struct mmu_tlb *t);
/* Non-global entries with this tag (or any tag), and the tag's
 * paging-structure-cache entries. */
void mmu_tlb_flush_tag(struct mmu_tlb *t, uint32_t tag);
/* Entries translating va: non-global ones with `tag` (or any tag), and
 * global ones if `globals`; paging-structure caches for `tag` too when
 * `pwc_all` (x86 INVLPG drops them all for the PCID). */
void mmu_tlb_flush_va(struct mmu_tlb *t, uint64_t va, uint32_t tag,
                      bool globals, bool pwc_all);

/* ---- architectural operations (update state and the TLB) ----------- */

/*
 * x86 control-register writes as MOV CRn / WRMSR EFER do them: #GP checks,
 * PAE PDPTE loads, and the SDM 4.10.4.1 invalidations. @return false with
 * a #GP (or BAD_PHYS) fault; the state is unchanged then.
 */
bool mmu_x86_write_cr0(mmu_ctx *m, uint64_t v, mmu_fault *flt);
bool mmu_x86_write_cr3(mmu_ctx *m, uint64_t v, mmu_fault *flt);
bool mmu_x86_write_cr4(mmu_ctx *m, uint64_t v, mmu_fault *flt);
bool mmu_x86_write_efer(mmu_ctx *m, uint64_t v, mmu_fault *flt);
/* INVLPG: the entries for the page of `va`, global ones included, and
 * the paging-structure caches - of every PCID (the default), or only of
 * the current PCID with MMU_INVLPG_CURRENT_PCID (the global entries then
 * still go in every PCID). A non-canonical va is a no-op. */
void mmu_x86_invlpg(mmu_ctx *m, uint64_t va);
/* INVPCID types 0-3. @return false with #GP for the SDM's cases (type >
 * 3, PCID above 0xfff, non-canonical type-0 address, PCID != 0 with
 * CR4.PCIDE = 0 for types 0/1). CPL is the caller's to check. */
bool mmu_x86_invpcid(mmu_ctx *m, unsigned type, uint64_t pcid, uint64_t va,
                     mmu_fault *flt);

/*
 * SFENCE.VMA rs1, rs2: has_va/has_asid say whether the register is not
 * x0 (register identity, not value). A non-canonical va is a no-op.
 */
void mmu_rv_sfence_vma(mmu_ctx *m, bool has_va, uint64_t va, bool has_asid,
                       uint64_t asid);
/* satp write: WARL (an unsupported MODE leaves satp unchanged; @return
 * false then). Flushes nothing, as the spec says. */
bool mmu_rv_write_satp(mmu_ctx *m, uint64_t v);

/* The tag (PCID / ASID) translations are currently made under. */
uint32_t mmu_current_tag(const mmu_state *st);

#endif
