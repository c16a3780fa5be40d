/*
 * walk_internal.h - what the one walk loop (walk.c) shares with the
 * per-architecture rules (x86_paging.c, riscv_paging.c).
 *
 * The loop owns the order of the steps (read entry, decode, descend or
 * stop, judge the leaf, set A/D with compare-and-set and restart on a
 * race); the rules own what each step means on their architecture.
 */
#ifndef MMUEMU_WALK_INTERNAL_H
#define MMUEMU_WALK_INTERNAL_H

#include "mmuemu/translate.h"

typedef enum walk_step {
    WALK_NEXT,   /* non-leaf: continue at *next_table */
    WALK_LEAF,   /* this entry maps the page */
    WALK_FAULT,  /* fault filled in */
} walk_step;

typedef struct walk_ctx {
    mmu_ctx *m;
    const mmu_req *req;
    const mmu_mode_info *mi;
    mmu_paging_mode mode;
    uint64_t va;          /* linear address as translated (x86 legacy:
                             32-bit) */
    uint8_t priv;         /* effective privilege (RISC-V: after MPRV) */
    bool user;            /* x86: a user-mode access (CPL3, not implicit) */
    /* Accumulated over the levels walked. */
    bool all_rw, all_us, any_nx; /* x86 */
    bool any_g;                  /* RISC-V: G on any level */
    uint32_t tag;                /* PCID / ASID for the walk caches */
    mmu_walk walk;
} walk_ctx;

/* Set up a walk: mode, effective privilege, address pre-checks (canonical
 * form, PAE PDPTE load). @return false with the fault filled in. */
bool walk_prepare(walk_ctx *w, mmu_ctx *m, const mmu_req *req,
                  mmu_fault *flt);
/* Walk (through the paging-structure caches if the TLB has them), judge,
 * set A/D. */
bool walk_run(walk_ctx *w, mmu_result *res, mmu_fault *flt);

/* Do the bits above `top` all equal bit `top` (canonical / valid VA)? */
static inline bool va_canonical(uint64_t va, unsigned top)
{
    return (uint64_t)((int64_t)(va << (63 - top)) >> (63 - top)) == va;
}

/* MAXPHYADDR clamped to what paging can express (32..52). */
static inline unsigned x86_maxphy(const mmu_x86_state *x)
{
    unsigned m = x->maxphyaddr;
    return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* The MMU_PERM_* bit an access needs. */
static inline uint8_t access_perm(mmu_access a)
{
    return a == MMU_FETCH ? MMU_PERM_X : a == MMU_WRITE ? MMU_PERM_W
                                                        : MMU_PERM_R;
}

/* Reset a result field by field: cheaper than clearing the whole record
 * (its walk steps beyond walk.n are unspecified). */
static inline void result_reset(mmu_result *r)
{
    r->pa = 0;
    r->page_size = 0;
    r->perms = 0;
    r->level = 0;
    r->global = false;
    r->dirty = false;
    r->pkey = 0;
    r->pbmt = 0;
    r->mode = MMU_MODE_NONE;
    r->rights.flags = 0;
    r->rights.pkey = 0;
    r->tlb_hit = false;
    r->walk.n = 0;
}

/* Fill the parts of a fault every kind shares. */
void walk_fault(walk_ctx *w, mmu_fault *flt, mmu_fault_kind kind,
                mmu_fault_reason why, int level);

/* ---- x86 (x86_paging.c) ---- */
bool x86_user_access(const mmu_req *req);
uint32_t x86_pf_access_bits(const mmu_x86_state *x, const mmu_req *req);
bool x86_rights_allow(const mmu_x86_state *x, mmu_paging_mode mode,
                      const mmu_req *req, mmu_access acc, mmu_rights r,
                      bool *pk_fault, mmu_fault_reason *why);
uint8_t x86_rights_perms(const mmu_x86_state *x, mmu_paging_mode mode,
                         const mmu_req *req, mmu_rights r, bool dirty);
mmu_rights x86_walk_rights(const walk_ctx *w, uint64_t leaf);
bool x86_precheck(walk_ctx *w, mmu_fault *flt);
uint64_t x86_root(const walk_ctx *w);
walk_step x86_entry(walk_ctx *w, unsigned level, uint64_t pte,
                    uint64_t *next_table, mmu_fault *flt);
bool x86_leaf(walk_ctx *w, unsigned level, uint64_t pte, mmu_result *res,
              mmu_fault *flt);
uint64_t x86_ad_update(const walk_ctx *w, unsigned level, uint64_t pte,
                       bool leaf);
void x86_page_fault(walk_ctx *w, mmu_fault *flt, mmu_fault_reason why,
                    int level, uint32_t extra_bits);
void x86_outside_ram(walk_ctx *w, mmu_fault *flt, uint64_t pa, int level);

/* ---- RISC-V (riscv_paging.c) ---- */
bool rv_rights_allow(const mmu_rv_state *r, uint8_t priv, mmu_access acc,
                     mmu_rights rt, mmu_fault_reason *why);
uint8_t rv_rights_perms(const mmu_rv_state *r, uint8_t priv, mmu_rights rt,
                        bool dirty);
uint32_t rv_cause(mmu_access acc, bool page);
bool rv_precheck(walk_ctx *w, mmu_fault *flt);
uint64_t rv_root(const walk_ctx *w);
walk_step rv_entry(walk_ctx *w, unsigned level, uint64_t pte,
                   uint64_t *next_table, mmu_fault *flt);
bool rv_leaf(walk_ctx *w, unsigned level, uint64_t pte, mmu_result *res,
             mmu_fault *flt);
uint64_t rv_ad_update(const walk_ctx *w, unsigned level, uint64_t pte,
                      bool leaf);
void rv_outside_ram(walk_ctx *w, mmu_fault *flt, uint64_t pa, int level);

/* The mode and effective privilege a request is translated in. */
mmu_paging_mode rv_request_mode(const mmu_state *st, const mmu_req *req,
                                uint8_t *eff_priv);

#endif
