/*
 * riscv_paging.c - the RISC-V rules for the walk loop.
 *
 * Models: RISC-V privileged spec, "Virtual Address Translation Process"
 * steps 1-8 for Sv32/39/48/57; SUM, MXR, MPRV/MPP (state.c); Svade and
 * Svadu (menvcfg.ADUE); Svnapot (64 KiB only); Svpbmt (menvcfg.PBMTE).
 * A PTE read outside guest RAM is an access fault of the original access
 * type (the PMA check of step 2).
 * Not modelled: PMP, the H extension (G-stage), Zicfiss, Svrsw60t59b.
 */
#include "mmuemu/riscv_bits.h"
#include "walk_internal.h"

#include <string.h>

static const mmu_rv_state *rs(const walk_ctx *w)
{
    return &w->m->st.rv;
}

static bool sv32(const walk_ctx *w)
{
    return w->mode == MMU_MODE_SV32;
}

static bool has_ext(const walk_ctx *w, uint32_t ext)
{
    return (rs(w)->ext & ext) != 0;
}

uint32_t rv_cause(mmu_access acc, bool page)
{
    switch (acc) {
    case MMU_FETCH:
        return page ? RV_CAUSE_FETCH_PAGE : RV_CAUSE_FETCH_ACCESS;
    case MMU_READ:
        return page ? RV_CAUSE_LOAD_PAGE : RV_CAUSE_LOAD_ACCESS;
    case MMU_WRITE:
        return page ? RV_CAUSE_STORE_PAGE : RV_CAUSE_STORE_ACCESS;
    }
    return 0;
}

static uint32_t cause(const walk_ctx *w, bool page)
{
    return rv_cause(w->req->access, page);
}

static bool page_fault(walk_ctx *w, mmu_fault *flt, mmu_fault_reason why,
                       int level)
{
    walk_fault(w, flt, MMU_FAULT_PAGE, why, level);
    flt->code = cause(w, true);
    flt->vector = (uint8_t)flt->code;
    return false;
}

void rv_outside_ram(walk_ctx *w, mmu_fault *flt, uint64_t pa, int level)
{
    walk_fault(w, flt, MMU_FAULT_ACCESS, MMU_WHY_OUTSIDE_RAM, level);
    flt->code = cause(w, false);
    flt->vector = (uint8_t)flt->code;
    flt->paddr = pa;
}

bool rv_precheck(walk_ctx *w, mmu_fault *flt)
{
    if (rs(w)->xlen == 32)
        w->va &= UINT64_C(0xffffffff);
    if (w->mode == MMU_MODE_NONE || rs(w)->xlen == 32)
        return true;
    /* Bits 63..VA-1 must all equal bit VA-1, else a page fault. */
    unsigned top = w->mi->va_bits - 1u;
    if (va_canonical(w->va, top))
        return true;
    return page_fault(w, flt, MMU_WHY_NONCANONICAL, -1);
}

uint64_t rv_root(const walk_ctx *w)
{
    uint64_t ppn = sv32(w) ? rs(w)->satp & RV32_SATP_PPN_MASK
                           : rs(w)->satp & RV64_SATP_PPN_MASK;
    return ppn << 12;
}

static uint64_t pte_ppn(const walk_ctx *w, uint64_t pte)
{
    return sv32(w) ? (pte & RV32_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT
                   : (pte & RV_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT;
}

/* Reserved bits and encodings shared by leaf and non-leaf entries. */
static bool reserved(const walk_ctx *w, uint64_t pte, mmu_fault_reason *why)
{
    if (sv32(w))
        return false; /* Sv32 PTEs have no bits above the PPN */
    if (pte & RV_PTE_RSVD_MASK)
        return *why = MMU_WHY_RESERVED_BIT, true;
    if ((pte & RV_PTE_N) && !has_ext(w, MMU_RV_EXT_SVNAPOT))
        return *why = MMU_WHY_RESERVED_BIT, true;
    uint64_t pbmt = (pte & RV_PTE_PBMT_MASK) >> RV_PTE_PBMT_SHIFT;
    if (pbmt != 0 && (!has_ext(w, MMU_RV_EXT_SVPBMT) ||
                      !(rs(w)->menvcfg & RV_MENVCFG_PBMTE)))
        return *why = MMU_WHY_RESERVED_BIT, true;
    if (pbmt == 3)
        return *why = MMU_WHY_RESERVED_ENCODING, true;
    return false;
}

walk_step rv_entry(walk_ctx *w, unsigned level, uint64_t pte,
                   uint64_t *next_table, mmu_fault *flt)
{
    mmu_fault_reason why = MMU_WHY_NONE;

    /* Step 3: V=0, W without R, reserved bits or encodings. */
    if (!(pte & RV_PTE_V))
        return page_fault(w, flt, MMU_WHY_NOT_PRESENT, (int)level),
               WALK_FAULT;
    if (!(pte & RV_PTE_R) && (pte & RV_PTE_W))
        return page_fault(w, flt, MMU_WHY_RESERVED_ENCODING, (int)level),
               WALK_FAULT;
    if (reserved(w, pte, &why))
        return page_fault(w, flt, why, (int)level), WALK_FAULT;
    if (pte & RV_PTE_G)
        w->any_g = true;
    /* Step 4: R or X makes a leaf. */
    if (pte & (RV_PTE_R | RV_PTE_X))
        return WALK_LEAF;
    /* Non-leaf: D, A, U, N and PBMT are reserved for future use. */
    if (pte & (RV_PTE_D | RV_PTE_A | RV_PTE_U))
        return page_fault(w, flt, MMU_WHY_RESERVED_BIT, (int)level),
               WALK_FAULT;
    if (!sv32(w) && (pte & (RV_PTE_N | RV_PTE_PBMT_MASK)))
        return page_fault(w, flt, MMU_WHY_RESERVED_BIT, (int)level),
               WALK_FAULT;
    if (level == 0)
        return page_fault(w, flt, MMU_WHY_NONLEAF_AT_LAST, 0), WALK_FAULT;
    *next_table = pte_ppn(w, pte) << 12;
    return WALK_NEXT;
}

/* Step 5: may this privilege make this access to a leaf with these
 * R/W/X/U bits? SUM and MXR are read now, so a TLB hit re-judges them. */
bool rv_rights_allow(const mmu_rv_state *r, uint8_t priv, mmu_access acc,
                     mmu_rights rt, mmu_fault_reason *why)
{
    uint64_t mstatus = r->mstatus;
    bool u = (rt.flags & MMU_PERM_U) != 0;
    if (priv == RV_PRIV_U && !u)
        return *why = MMU_WHY_USER_TO_SUPERVISOR, false;
    if (priv == RV_PRIV_S && u &&
        (acc == MMU_FETCH || !(mstatus & RV_MSTATUS_SUM)))
        return *why = MMU_WHY_SUPERVISOR_TO_USER, false;
    switch (acc) {
    case MMU_FETCH:
        if (!(rt.flags & MMU_PERM_X))
            return *why = MMU_WHY_NOT_EXECUTABLE, false;
        break;
    case MMU_READ:
        if (!(rt.flags & MMU_PERM_R) &&
            !((mstatus & RV_MSTATUS_MXR) && (rt.flags & MMU_PERM_X)))
            return *why = MMU_WHY_NOT_READABLE, false;
        break;
    case MMU_WRITE:
        if (!(rt.flags & MMU_PERM_W))
            return *why = MMU_WHY_READ_ONLY, false;
        break;
    }
    return true;
}

/* rv_rights_allow() for read, write and fetch in one pass (W only when
 * `dirty`). */
uint8_t rv_rights_perms(const mmu_rv_state *r, uint8_t priv, mmu_rights rt,
                        bool dirty)
{
    bool u = (rt.flags & MMU_PERM_U) != 0;
    bool data_ok = true, fetch_ok = true;
    if (priv == RV_PRIV_U && !u)
        data_ok = fetch_ok = false;
    if (priv == RV_PRIV_S && u) {
        fetch_ok = false;
        data_ok = (r->mstatus & RV_MSTATUS_SUM) != 0;
    }
    uint8_t perms = rt.flags & MMU_PERM_U;
    if (data_ok && ((rt.flags & MMU_PERM_R) ||
                    ((r->mstatus & RV_MSTATUS_MXR) && (rt.flags & MMU_PERM_X))))
        perms |= MMU_PERM_R;
    if (data_ok && dirty && (rt.flags & MMU_PERM_W))
        perms |= MMU_PERM_W;
    if (fetch_ok && (rt.flags & MMU_PERM_X))
        perms |= MMU_PERM_X;
    return perms;
}

static mmu_rights leaf_rights(uint64_t pte)
{
    mmu_rights rt = {0, 0};
    if (pte & RV_PTE_R)
        rt.flags |= MMU_PERM_R;
    if (pte & RV_PTE_W)
        rt.flags |= MMU_PERM_W;
    if (pte & RV_PTE_X)
        rt.flags |= MMU_PERM_X;
    if (pte & RV_PTE_U)
        rt.flags |= MMU_PERM_U;
    return rt;
}

static bool hw_ad(const walk_ctx *w)
{
    return has_ext(w, MMU_RV_EXT_SVADU) && (rs(w)->menvcfg & RV_MENVCFG_ADUE);
}

bool rv_leaf(walk_ctx *w, unsigned level, uint64_t pte, mmu_result *res,
             mmu_fault *flt)
{
    mmu_fault_reason why = MMU_WHY_NONE;
    uint64_t ppn = pte_ppn(w, pte);
    unsigned shift = mmu_mode_shift(w->mi, level);
    uint64_t size = UINT64_C(1) << shift;

    mmu_rights rt = leaf_rights(pte);
    uint8_t perms = rv_rights_perms(rs(w), w->priv, rt, true);
    if (!(perms & access_perm(w->req->access)) &&
        !rv_rights_allow(rs(w), w->priv, w->req->access, rt, &why))
        return page_fault(w, flt, why, (int)level);
    /* Step 6: a superpage's low PPN bits must be zero. */
    if (level > 0 && (ppn & ((UINT64_C(1) << (shift - 12)) - 1)))
        return page_fault(w, flt, MMU_WHY_MISALIGNED_SUPERPAGE, (int)level);
    /* Svnapot: N only in a level-0 leaf with ppn[3:0] = 1000 (64 KiB). */
    if (pte & RV_PTE_N) {
        if (level != 0 || (ppn & 0xf) != 0x8)
            return page_fault(w, flt, MMU_WHY_RESERVED_ENCODING, (int)level);
        size = UINT64_C(0x10000);
        ppn &= ~UINT64_C(0xf);
    }
    /* Step 7: A/D. Svade faults; Svadu (menvcfg.ADUE) sets them after
     * every check has passed (walk.c). */
    if (!hw_ad(w)) {
        if (!(pte & RV_PTE_A))
            return page_fault(w, flt, MMU_WHY_ACCESSED_CLEAR, (int)level);
        if (w->req->access == MMU_WRITE && !(pte & RV_PTE_D))
            return page_fault(w, flt, MMU_WHY_DIRTY_CLEAR, (int)level);
    }
    /* Step 8: the PA; superpage low bits come from the VA. */
    result_reset(res);
    res->pa = ((ppn << 12) & ~(size - 1)) | (w->va & (size - 1));
    res->page_size = size;
    res->level = (uint8_t)level;
    res->global = w->any_g;
    res->dirty = (pte & RV_PTE_D) ||
                 (w->req->access == MMU_WRITE && hw_ad(w) &&
                  !(w->req->flags & MMU_REQ_NO_AD));
    res->pbmt = (uint8_t)(sv32(w) ? 0 : (pte & RV_PTE_PBMT_MASK) >>
                                             RV_PTE_PBMT_SHIFT);
    res->rights = rt;
    res->perms = res->dirty ? perms : (uint8_t)(perms & ~MMU_PERM_W);
    return true;
}

uint64_t rv_ad_update(const walk_ctx *w, unsigned level, uint64_t pte,
                      bool leaf)
{
    (void)level;
    if (!leaf || !hw_ad(w))
        return pte;
    pte |= RV_PTE_A;
    if (w->req->access == MMU_WRITE)
        pte |= RV_PTE_D;
    return pte;
}
