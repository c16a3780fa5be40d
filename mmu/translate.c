/*
 * translate.c - mmu_translate(): the TLB in front of the walk.
 *
 * Flow: address pre-checks; L1 (ITLB for fetches, DTLB for data) lookup,
 * then the STLB; a hit re-judges the cached rights against the control
 * bits in force; a write through an entry whose D is not known set
 * drops the entry and walks again (which sets D or faults), as hardware
 * does; a hit whose rights deny the access faults from the cached entry
 * (a stale entry may fault spuriously) and drops it. A miss walks and
 * fills L1 and STLB. On x86 a #PF also drops the TLB entries for the
 * faulting address (SDM 4.10.4.2).
 */
#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"
#include "tlb_internal.h"
#include "walk_internal.h"

#include <string.h>

/* Page shifts a mode can produce, smallest first. */
static unsigned mode_shifts(mmu_paging_mode mode, const uint8_t **out)
{
    static const uint8_t s32[] = {12, 22}, pae[] = {12, 21},
                         x64[] = {12, 21, 30},
                         sv[] = {12, 16, 21, 30, 39, 48};
    switch (mode) {
    case MMU_MODE_X86_32:
    case MMU_MODE_SV32:
        return *out = s32, 2;
    case MMU_MODE_X86_PAE:
        return *out = pae, 2;
    case MMU_MODE_X86_4LEVEL:
    case MMU_MODE_X86_5LEVEL:
        return *out = x64, 3;
    case MMU_MODE_SV39:
        return *out = sv, 4;
    case MMU_MODE_SV48:
        return *out = sv, 5;
    case MMU_MODE_SV57:
        return *out = sv, 6;
    case MMU_MODE_NONE:
    case MMU_MODE_COUNT:
        break;
    }
    return *out = sv, 0;
}

static unsigned log2u64(uint64_t v)
{
    unsigned n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}


static bool judge(const walk_ctx *w, const tlb_entry *e, mmu_fault *flt)
{
    mmu_fault_reason why = MMU_WHY_NONE;
    const mmu_state *st = &w->m->st;
    bool pk = false;
    bool ok = st->arch == MMU_ARCH_X86
                  ? x86_rights_allow(&st->x86, w->mode, w->req,
                                     w->req->access, e->rights, &pk, &why)
                  : rv_rights_allow(&st->rv, w->priv, w->req->access,
                                    e->rights, &why);
    if (ok)
        return true;
    memset(flt, 0, sizeof *flt);
    flt->kind = MMU_FAULT_PAGE;
    flt->reason = why;
    flt->addr = w->va;
    flt->level = (int8_t)e->level;
    flt->tlb_hit = true;
    if (st->arch == MMU_ARCH_X86) {
        flt->vector = X86_VEC_PF;
        flt->code = x86_pf_access_bits(&st->x86, w->req) | X86_PF_P |
                    (pk ? X86_PF_PK : 0);
    } else {
        flt->code = rv_cause(w->req->access, true);
        flt->vector = (uint8_t)flt->code;
    }
    return false;
}

/* Everything the judgement of cached rights depends on, packed: x86
 * CR0.WP, CR4.SMEP/SMAP/PKE, RFLAGS.AC, user/implicit, PKRU, mode;
 * RISC-V effective privilege, SUM, MXR, mode. Never 0. */
static uint64_t perm_key(const walk_ctx *w)
{
    const mmu_state *st = &w->m->st;
    uint64_t k = UINT64_C(1) | (uint64_t)w->mode << 1;
    if (st->arch == MMU_ARCH_X86) {
        const mmu_x86_state *x = &st->x86;
        k |= (uint64_t)((x->cr0 & X86_CR0_WP) != 0) << 5;
        k |= (uint64_t)((x->cr4 & X86_CR4_SMEP) != 0) << 6;
        k |= (uint64_t)((x->cr4 & X86_CR4_SMAP) != 0) << 7;
        k |= (uint64_t)((x->cr4 & X86_CR4_PKE) != 0) << 8;
        k |= (uint64_t)((x->rflags & X86_RFLAGS_AC) != 0) << 9;
        k |= (uint64_t)w->user << 10;
        k |= (uint64_t)((w->req->flags & MMU_REQ_IMPLICIT) != 0) << 11;
        k |= (uint64_t)x->pkru << 32;
    } else {
        k |= (uint64_t)w->priv << 5;
        k |= (uint64_t)((st->rv.mstatus & RV_MSTATUS_SUM) != 0) << 7;
        k |= (uint64_t)((st->rv.mstatus & RV_MSTATUS_MXR) != 0) << 8;
    }
    return k;
}

/* The entry's rights judged now, as if dirty. */
static uint8_t entry_perms(const walk_ctx *w, tlb_entry *e)
{
    uint64_t key = perm_key(w);
    if (e->perm_key == key)
        return e->perm_cache;
    const mmu_state *st = &w->m->st;
    uint8_t p = st->arch == MMU_ARCH_X86
                    ? x86_rights_perms(&st->x86, w->mode, w->req, e->rights,
                                       true)
                    : rv_rights_perms(&st->rv, w->priv, e->rights, true);
    e->perm_cache = p;
    e->perm_key = key;
    return p;
}

static void hit_result(const walk_ctx *w, const tlb_entry *e,
                       mmu_result *res, uint8_t perms)
{
    res->pa = e->pa + (w->va & ((UINT64_C(1) << e->shift) - 1));
    res->page_size = UINT64_C(1) << e->page_shift;
    res->level = e->level;
    res->global = e->global;
    res->dirty = e->dirty;
    res->pkey = e->rights.pkey;
    res->pbmt = e->pbmt;
    res->mode = w->mode;
    res->rights = e->rights;
    res->tlb_hit = true;
    res->perms = perms;
    res->walk.n = 0;
}

static void fill(struct mmu_tlb *t, unsigned which, const walk_ctx *w,
                 const mmu_result *res)
{
    tlb_entry proto;
    memset(&proto, 0, sizeof proto);
    proto.page_shift = (uint8_t)log2u64(res->page_size);
    proto.shift = proto.page_shift;
    proto.pa = res->pa & ~(res->page_size - 1);
    proto.tag = w->tag;
    proto.level = res->level;
    proto.pbmt = res->pbmt;
    proto.dirty = res->dirty;
    proto.rights = res->rights;
    proto.global = res->global;
    tlb_fill(t, which, &proto, w->va);
}

static tlb_entry *lookup(struct mmu_tlb *t, unsigned which, walk_ctx *w)
{
    const uint8_t *shifts;
    unsigned n = mode_shifts(w->mode, &shifts);
    mmu_tlb_stats *l1 = &t->s[which].stats, *l2 = &t->s[MMU_TLB_STLB].stats;

    l1->lookups++;
    tlb_entry *e = tlb_lookup(t, which, w->va, w->tag, shifts, n);
    if (e != NULL) {
        l1->hits++;
        return e;
    }
    l1->misses++;
    if (!tlb_struct_present(t, MMU_TLB_STLB))
        return NULL;
    l2->lookups++;
    e = tlb_lookup(t, MMU_TLB_STLB, w->va, w->tag, shifts, n);
    if (e == NULL) {
        l2->misses++;
        return NULL;
    }
    l2->hits++;
    /* Refill L1 from the STLB entry. */
    tlb_fill(t, which, e, w->va);
    return e;
}

bool mmu_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                   mmu_fault *flt)
{
    struct mmu_tlb *t = m->tlb;
    walk_ctx w;

    if (!walk_prepare(&w, m, req, flt))
        return false;
    if (t == NULL || w.mode == MMU_MODE_NONE)
        return walk_run(&w, res, flt);

    unsigned which = req->access == MMU_FETCH ? MMU_TLB_ITLB : MMU_TLB_DTLB;
    tlb_entry *e = lookup(t, which, &w);
    if (e != NULL) {
        uint8_t perms = entry_perms(&w, e);
        if (!(perms & access_perm(req->access)) && !judge(&w, e, flt)) {
            tlb_drop_va(t, w.va, w.tag);
            if (m->st.arch == MMU_ARCH_X86)
                tlb_pwc_drop_va(t, w.va, w.tag, w.mi);
            m->stats.faults++;
            return false;
        }
        if (req->access != MMU_WRITE || e->dirty) {
            hit_result(&w, e, res,
                       e->dirty ? perms : (uint8_t)(perms & ~MMU_PERM_W));
            return true;
        }
        /* A write through an entry with D not known set walks again. */
        tlb_drop_va(t, w.va, w.tag);
    }
    if (!walk_run(&w, res, flt)) {
        /* SDM 4.10.4.2: a #PF drops the TLB entries and the paging-
         * structure-cache entries that would be used for the address. */
        if (m->st.arch == MMU_ARCH_X86 && flt->kind == MMU_FAULT_PAGE) {
            tlb_drop_va(t, w.va, w.tag);
            tlb_pwc_drop_va(t, w.va, w.tag, w.mi);
        }
        return false;
    }
    /* A probe that set no A/D leaves nothing cached: a TLB entry only
     * ever comes from a walk that set A (and D for a dirty entry). */
    if (req->flags & MMU_REQ_NO_AD)
        return true;
    fill(t, which, &w, res);
    if (tlb_struct_present(t, MMU_TLB_STLB))
        fill(t, MMU_TLB_STLB, &w, res);
    return true;
}
