/*
 * x86_paging.c - the x86 rules for the walk loop: entry decoding,
 * reserved bits, large pages, access rights, protection keys, A/D and
 * the #PF error code.
 *
 * Models: Intel SDM vol. 3A 4.3 (32-bit paging), 4.4 (PAE), 4.5 (4- and
 * 5-level), 4.6 (access rights, SMEP/SMAP, protection keys), 4.7 (#PF
 * error code), 4.8 (A/D); canonical addresses (3.3.7.1, 6.15).
 * Not modelled: PKS (IA32_PKRS), CET shadow stacks, HLAT, memory types.
 */
#include "mmuemu/x86_bits.h"
#include "walk_internal.h"

#include <string.h>

static const mmu_x86_state *xs(const walk_ctx *w)
{
    return &w->m->st.x86;
}

static bool ia32e(const walk_ctx *w)
{
    return w->mode == MMU_MODE_X86_4LEVEL || w->mode == MMU_MODE_X86_5LEVEL;
}

static bool nxe(const walk_ctx *w)
{
    return (xs(w)->efer & X86_EFER_NXE) != 0;
}

/* Bits [lo, hi] set. */
static uint64_t bits(unsigned hi, unsigned lo)
{
    uint64_t upper = hi >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;
    return upper & ~((UINT64_C(1) << lo) - 1);
}

static unsigned maxphy(const walk_ctx *w)
{
    return x86_maxphy(xs(w));
}

/* ---- pre-checks ---------------------------------------------------- */

bool x86_precheck(walk_ctx *w, mmu_fault *flt)
{
    /* PAE: the PDPTE registers are loaded by MOV CR3; a context whose
     * CR3 was set directly loads them now, as that MOV would have. */
    if (w->mode == MMU_MODE_X86_PAE && !xs(w)->pdptes_loaded &&
        !mmu_x86_load_pdptes(w->m, xs(w)->cr3, flt)) {
        flt->addr = w->va;
        return false;
    }
    if (!ia32e(w)) {
        /* Legacy modes and paging off: linear addresses are 32 bits. */
        w->va &= UINT64_C(0xffffffff);
        return true;
    }
    unsigned top = w->mode == MMU_MODE_X86_5LEVEL ? 56 : 47;
    if (va_canonical(w->va, top))
        return true;
    /* Non-canonical: #GP(0), or #SS(0) for SS-based references; no walk,
     * no CR2. */
    bool ss = (w->req->flags & MMU_REQ_STACK) != 0;
    walk_fault(w, flt, ss ? MMU_FAULT_SS : MMU_FAULT_GP,
               MMU_WHY_NONCANONICAL, -1);
    flt->vector = ss ? X86_VEC_SS : X86_VEC_GP;
    flt->code = 0;
    return false;
}

uint64_t x86_root(const walk_ctx *w)
{
    uint64_t cr3 = xs(w)->cr3;
    if (w->mode == MMU_MODE_X86_32)
        return cr3 & UINT64_C(0xfffff000);
    if (w->mode == MMU_MODE_X86_PAE)
        return cr3 & UINT64_C(0xffffffe0);
    return cr3 & bits(maxphy(w) - 1, 12);
}

/* ---- faults -------------------------------------------------------- */

/* Error-code bits that describe the access (SDM 4.7). */
bool x86_user_access(const mmu_req *req)
{
    return req->priv == 3 && !(req->flags & MMU_REQ_IMPLICIT);
}

uint32_t x86_pf_access_bits(const mmu_x86_state *x, const mmu_req *req)
{
    uint32_t ec = 0;
    if (req->access == MMU_WRITE)
        ec |= X86_PF_W;
    if (x86_user_access(req))
        ec |= X86_PF_U;
    if (req->access == MMU_FETCH &&
        ((x->cr4 & X86_CR4_SMEP) ||
         ((x->cr4 & X86_CR4_PAE) && (x->efer & X86_EFER_NXE))))
        ec |= X86_PF_I;
    return ec;
}

void x86_page_fault(walk_ctx *w, mmu_fault *flt, mmu_fault_reason why,
                    int level, uint32_t extra_bits)
{
    walk_fault(w, flt, MMU_FAULT_PAGE, why, level);
    flt->vector = X86_VEC_PF;
    flt->code = x86_pf_access_bits(xs(w), w->req) | extra_bits;
}

void x86_outside_ram(walk_ctx *w, mmu_fault *flt, uint64_t pa, int level)
{
    walk_fault(w, flt, MMU_FAULT_BAD_PHYS, MMU_WHY_OUTSIDE_RAM, level);
    flt->vector = 0;
    flt->code = 0;
    flt->paddr = pa;
}

/* ---- entries ------------------------------------------------------- */

/* Reserved bits of a present entry at `level` (SDM tables 4-4..4-20). */
static uint64_t reserved_mask(const walk_ctx *w, unsigned level, uint64_t pte)
{
    unsigned m = maxphy(w);
    bool ps = (pte & X86_PTE_PS) != 0;

    if (w->mode == MMU_MODE_X86_32) {
        if (level == 1 && ps && (xs(w)->cr4 & X86_CR4_PSE)) {
            /* 4 MiB: bits 20:13 hold PA 39:32 (PSE-36); bit 21 reserved,
             * and the PA bits at or above MAXPHYADDR (at most 40). */
            uint64_t rsvd = UINT64_C(1) << 21;
            if (m < 40)
                rsvd |= bits(20, 13 + (m - 32));
            return rsvd;
        }
        return 0;
    }
    uint64_t rsvd = 0;
    if (!nxe(w))
        rsvd |= X86_PTE_NX;
    if (w->mode == MMU_MODE_X86_PAE)
        rsvd |= bits(62, m); /* legacy PAE: 62:MAXPHYADDR */
    else if (m < 52)
        rsvd |= bits(51, m); /* IA-32e: 51:MAXPHYADDR; 62:52 ignored */
    if (level >= 3) {
        rsvd |= X86_PTE_PS; /* PS reserved in PML4E and PML5E */
    } else if (level == 2 && ia32e(w) && ps) {
        if (!xs(w)->has_1g_pages)
            rsvd |= X86_PTE_PS;
        else
            rsvd |= bits(29, 13); /* 1 GiB: alignment bits */
    } else if (level == 1 && ps) {
        rsvd |= bits(20, 13); /* 2 MiB: alignment bits */
    }
    return rsvd;
}

walk_step x86_entry(walk_ctx *w, unsigned level, uint64_t pte,
                    uint64_t *next_table, mmu_fault *flt)
{
    bool pdpte_reg = w->mode == MMU_MODE_X86_PAE && level == 2;

    if (!(pte & X86_PTE_P)) {
        x86_page_fault(w, flt, MMU_WHY_NOT_PRESENT, (int)level, 0);
        return WALK_FAULT;
    }
    /* PDPTE registers were checked when they were loaded (MOV CR3). */
    if (!pdpte_reg && (pte & reserved_mask(w, level, pte))) {
        x86_page_fault(w, flt, MMU_WHY_RESERVED_BIT, (int)level,
                       X86_PF_P | X86_PF_RSVD);
        return WALK_FAULT;
    }
    if (!pdpte_reg) {
        /* Rights combine over every level: R/W and U/S by AND, XD by OR. */
        w->all_rw = w->all_rw && (pte & X86_PTE_RW);
        w->all_us = w->all_us && (pte & X86_PTE_US);
        w->any_nx = w->any_nx || (nxe(w) && (pte & X86_PTE_NX));
    }
    bool leaf = level == 0;
    if (level > 0 && (pte & X86_PTE_PS) && (w->mi->leaf_levels & (1u << level)))
        leaf = !pdpte_reg &&
               (w->mode != MMU_MODE_X86_32 || (xs(w)->cr4 & X86_CR4_PSE));
    if (leaf)
        return WALK_LEAF;
    *next_table = w->mode == MMU_MODE_X86_32 ? pte & UINT64_C(0xfffff000)
                                              : pte & bits(maxphy(w) - 1, 12);
    return WALK_NEXT;
}

/* ---- rights -------------------------------------------------------- */

/*
 * Would `acc` be allowed on a translation with these combined rights?
 * (SDM 4.6.1, 4.6.2.) Control bits are read now: a TLB hit re-judges the
 * cached paging-structure bits against the current CR0/CR4/RFLAGS/PKRU.
 * *pk_fault is set when the protection-key rule denies the access.
 */
/* What both forms of the rules below read: the request's mode, the
 * accumulated paging-structure bits and the control bits in force. */
typedef struct x86_rule_in {
    bool user, user_page, writable, xd, wp, smap_ok;
    bool pk_ad, pk_wd; /* the key's PKRU bits, when keys apply */
} x86_rule_in;

static inline x86_rule_in rule_in(const mmu_x86_state *x, mmu_paging_mode mode,
                                  const mmu_req *req, mmu_rights r)
{
    x86_rule_in in;
    in.user = x86_user_access(req);
    in.user_page = (r.flags & MMU_PERM_U) != 0;
    in.writable = (r.flags & MMU_PERM_W) != 0;
    in.xd = !(r.flags & MMU_PERM_X);
    in.wp = (x->cr0 & X86_CR0_WP) != 0;
    bool explicit_sup = !in.user && !(req->flags & MMU_REQ_IMPLICIT);
    in.smap_ok = !(x->cr4 & X86_CR4_SMAP) ||
                 (explicit_sup && (x->rflags & X86_RFLAGS_AC));
    /* Protection keys: user-mode addresses in 4/5-level paging. */
    bool keys = (mode == MMU_MODE_X86_4LEVEL || mode == MMU_MODE_X86_5LEVEL) &&
                (x->cr4 & X86_CR4_PKE) && in.user_page;
    in.pk_ad = keys && (x->pkru & X86_PKRU_AD(r.pkey)) != 0;
    in.pk_wd = keys && (x->pkru & X86_PKRU_WD(r.pkey)) != 0;
    return in;
}

bool x86_rights_allow(const mmu_x86_state *x, mmu_paging_mode mode,
                      const mmu_req *req, mmu_access acc, mmu_rights r,
                      bool *pk_fault, mmu_fault_reason *why)
{
    x86_rule_in in = rule_in(x, mode, req, r);
    bool user = in.user, user_page = in.user_page, writable = in.writable;
    bool xd = in.xd, wp = in.wp, smap_ok = in.smap_ok;

    /* Keys apply to data accesses only. */
    *pk_fault = acc != MMU_FETCH &&
                (in.pk_ad || (in.pk_wd && acc == MMU_WRITE && (user || wp)));
    if (user) {
        if (!user_page)
            return *why = MMU_WHY_USER_TO_SUPERVISOR, false;
        if (acc == MMU_WRITE && !writable)
            return *why = MMU_WHY_READ_ONLY, false;
        if (acc == MMU_FETCH && xd)
            return *why = MMU_WHY_NOT_EXECUTABLE, false;
    } else if (acc == MMU_FETCH) {
        if (user_page && (x->cr4 & X86_CR4_SMEP))
            return *why = MMU_WHY_SMEP, false;
        if (xd)
            return *why = MMU_WHY_NOT_EXECUTABLE, false;
    } else {
        if (user_page && !smap_ok)
            return *why = MMU_WHY_SMAP, false;
        if (acc == MMU_WRITE && wp && !writable)
            return *why = MMU_WHY_READ_ONLY, false;
    }
    if (*pk_fault)
        return *why = MMU_WHY_PKEY, false;
    return true;
}

/*
 * The same rules as x86_rights_allow(), evaluated for read, write and
 * fetch in one pass (the TLB-hit path). W is granted only when `dirty`.
 * The exhaustive tests compare both against an independent oracle.
 */
uint8_t x86_rights_perms(const mmu_x86_state *x, mmu_paging_mode mode,
                         const mmu_req *req, mmu_rights r, bool dirty)
{
    x86_rule_in in = rule_in(x, mode, req, r);
    bool user = in.user, user_page = in.user_page, writable = in.writable;
    bool xd = in.xd, wp = in.wp, smap_ok = in.smap_ok;
    bool pk_r = !in.pk_ad;
    bool pk_w = !in.pk_ad && !(in.pk_wd && (user || wp));
    bool rd, wr, ex;
    if (user) {
        rd = user_page;
        wr = user_page && writable;
        ex = user_page && !xd;
    } else {
        bool data_ok = !user_page || smap_ok;
        rd = data_ok;
        wr = data_ok && (!wp || writable);
        ex = !(user_page && (x->cr4 & X86_CR4_SMEP)) && !xd;
    }
    uint8_t perms = r.flags & MMU_PERM_U;
    if (rd && pk_r)
        perms |= MMU_PERM_R;
    if (wr && pk_w && dirty)
        perms |= MMU_PERM_W;
    if (ex)
        perms |= MMU_PERM_X;
    return perms;
}

static uint64_t leaf_size(const walk_ctx *w, unsigned level)
{
    return UINT64_C(1) << mmu_mode_shift(w->mi, level);
}

static uint64_t leaf_pa(const walk_ctx *w, unsigned level, uint64_t pte)
{
    uint64_t size = leaf_size(w, level), off = w->va & (size - 1);
    if (w->mode == MMU_MODE_X86_32) {
        if (level == 0)
            return (pte & UINT64_C(0xfffff000)) | off;
        return (pte & UINT64_C(0xffc00000)) | (((pte >> 13) & 0xff) << 32) |
               off;
    }
    return (pte & bits(maxphy(w) - 1, 12) & ~(size - 1)) | off;
}

mmu_rights x86_walk_rights(const walk_ctx *w, uint64_t leaf)
{
    mmu_rights r = {.flags = MMU_PERM_R, .pkey = 0};
    if (w->all_rw)
        r.flags |= MMU_PERM_W;
    if (!w->any_nx)
        r.flags |= MMU_PERM_X;
    if (w->all_us)
        r.flags |= MMU_PERM_U;
    if (ia32e(w))
        r.pkey = (uint8_t)((leaf & X86_PTE_PKEY_MASK) >> X86_PTE_PKEY_SHIFT);
    return r;
}

bool x86_leaf(walk_ctx *w, unsigned level, uint64_t pte, mmu_result *res,
              mmu_fault *flt)
{
    mmu_fault_reason why = MMU_WHY_NONE;
    mmu_rights r = x86_walk_rights(w, pte);
    bool pk;
    /* One pass gives the rights for all three accesses (as if dirty);
     * the rule ladder runs only to name a denial. */
    uint8_t perms = x86_rights_perms(xs(w), w->mode, w->req, r, true);
    if (!(perms & access_perm(w->req->access)) &&
        !x86_rights_allow(xs(w), w->mode, w->req, w->req->access, r, &pk,
                          &why)) {
        /* PK is reported whenever the key denies the access (SDM 4.7),
         * whichever rule failed. */
        x86_page_fault(w, flt, why, (int)level,
                       X86_PF_P | (pk ? X86_PF_PK : 0));
        return false;
    }
    result_reset(res);
    res->pa = leaf_pa(w, level, pte);
    res->page_size = leaf_size(w, level);
    res->level = (uint8_t)level;
    res->dirty = (pte & X86_PTE_D) ||
                 (w->req->access == MMU_WRITE &&
                  !(w->req->flags & MMU_REQ_NO_AD));
    /* G matters only with CR4.PGE (SDM 4.10.2.4). */
    res->global = (pte & X86_PTE_G) && (xs(w)->cr4 & X86_CR4_PGE);
    res->pkey = r.pkey;
    res->rights = r;
    res->perms = res->dirty ? perms : (uint8_t)(perms & ~MMU_PERM_W);
    return true;
}

uint64_t x86_ad_update(const walk_ctx *w, unsigned level, uint64_t pte,
                       bool leaf)
{
    if (w->mode == MMU_MODE_X86_PAE && level == 2)
        return pte; /* PDPTE registers have no A bit */
    pte |= X86_PTE_A;
    if (leaf && w->req->access == MMU_WRITE)
        pte |= X86_PTE_D;
    return pte;
}

/* ---- PAE PDPTE registers ------------------------------------------- */

bool mmu_x86_load_pdptes(mmu_ctx *m, uint64_t cr3, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86;
    uint64_t base = cr3 & UINT64_C(0xffffffe0), v[4];
    unsigned mp = x86_maxphy(x);
    uint64_t rsvd = bits(63, mp) | X86_PDPTE_RSVD_LOW;

    memset(flt, 0, sizeof *flt);
    flt->addr = cr3;
    flt->level = 2;
    for (unsigned i = 0; i < 4; i++) {
        if (!mmu_phys_read_pte(m->mem, base + 8u * i, 8, &v[i])) {
            flt->kind = MMU_FAULT_BAD_PHYS;
            flt->reason = MMU_WHY_OUTSIDE_RAM;
            flt->paddr = base + 8u * i;
            return false;
        }
        if ((v[i] & X86_PTE_P) && (v[i] & rsvd)) {
            flt->kind = MMU_FAULT_GP;
            flt->reason = MMU_WHY_RESERVED_BIT;
            flt->vector = X86_VEC_GP;
            flt->paddr = base + 8u * i;
            return false;
        }
    }
    memcpy(x->pdpte, v, sizeof v);
    x->pdptes_loaded = true;
    return true;
}
