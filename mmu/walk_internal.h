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

#include "mmuemu/riscv_bits.h"
#include "mmuemu/translate.h"
#include "mmuemu/x86_bits.h"

/* Keep a path out of line, so the TLB-hit path stays a small function
 * with a small frame; MMU_COLD also marks it rarely taken (GCC and Clang;
 * elsewhere no-ops). */
#if defined(__GNUC__)
#define MMU_NOINLINE __attribute__((noinline))
#define MMU_COLD __attribute__((cold, noinline))
#else
#define MMU_NOINLINE
#define MMU_COLD
#endif

/* The only RFLAGS / mstatus bits translation reads. */
#define DERIVED_RFLAGS_MASK  X86_RFLAGS_AC
#define DERIVED_MSTATUS_MASK                                             \
    (RV_MSTATUS_SUM | RV_MSTATUS_MXR | RV_MSTATUS_MPRV | RV_MSTATUS_MPP)

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

/* ---- state derived once per change (state.c) ---- */

/* Raw words a derivation depends on, besides the control registers:
 * x86 PKRU, PDPTEs loaded; RISC-V XLEN; and the architecture (so a
 * zeroed record, or one of the other architecture, never matches). */
static inline uint64_t x86_misc_word(const mmu_state *st)
{
    return st->x86.pkru | (uint64_t)st->x86.pdptes_loaded << 32 |
           (uint64_t)st->arch << 40;
}

static inline uint64_t rv_misc_word(const mmu_state *st)
{
    return st->rv.xlen | (uint64_t)st->arch << 40;
}

MMU_COLD void derived_refresh(mmu_ctx *m);

/* m->derived, derived again first if a state word it depends on changed
 * (a handful of compares). */
static inline const mmu_derived *derived_get(mmu_ctx *m)
{
    const mmu_state *st = &m->st;
    const uint64_t *s = m->derived.src;
    uint64_t diff;
    if (st->arch == MMU_ARCH_X86)
        diff = (s[0] ^ st->x86.cr0) | (s[1] ^ st->x86.cr3) |
               (s[2] ^ st->x86.cr4) | (s[3] ^ st->x86.efer) |
               (s[4] ^ (st->x86.rflags & DERIVED_RFLAGS_MASK)) |
               (s[5] ^ x86_misc_word(st));
    else
        diff = (s[0] ^ st->rv.satp) |
               (s[1] ^ (st->rv.mstatus & DERIVED_MSTATUS_MASK)) |
               (s[5] ^ rv_misc_word(st));
    if (diff != 0)
        derived_refresh(m);
    return &m->derived;
}

/* The rights-judgement key of a request: the derived key plus what the
 * judgement reads from the request (privilege - RISC-V: after MPRV -
 * and x86 implicit-access flag). */
static inline uint64_t rights_key(const mmu_derived *d, const mmu_req *req,
                                  uint8_t priv)
{
    return d->key | (uint64_t)(req->flags & MMU_REQ_IMPLICIT) << 11 |
           (uint64_t)priv << 12;
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
