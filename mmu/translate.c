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
 *
 * Speed: a hit takes a short path that reads the paging mode, PCID/ASID,
 * address width and rights key from ctx->derived (re-derived only when
 * a state word they depend on changed) and the lookup order from the
 * TLB's probe lists; every rule is still applied at every hit. Anything
 * else takes the full flow, out of line.
 */
#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"
#include "tlb_internal.h"
#include "walk_internal.h"

#include <string.h>

static unsigned log2u64(uint64_t v)
{
    unsigned n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

/* Name a denial of the cached rights, as a fault from the entry. */
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

/* Judge the entry's rights again and cache the judgement with its key. */
static MMU_COLD uint8_t rejudge(const mmu_ctx *m, const mmu_derived *d,
                                const mmu_req *req, uint8_t priv,
                                tlb_entry *e, uint64_t key)
{
    const mmu_state *st = &m->st;
    uint8_t p = st->arch == MMU_ARCH_X86
                    ? x86_rights_perms(&st->x86, (mmu_paging_mode)d->mode,
                                       req, e->rights, true)
                    : rv_rights_perms(&st->rv, priv, e->rights, true);
    e->perm_cache = p;
    e->perm_key = key;
    return p;
}

/* The entry's rights judged now (as if dirty) for a request of privilege
 * `priv` (RISC-V: after MPRV): the judgement cached in the entry when
 * the key - every control bit and request bit it reads - is the same. */
static inline uint8_t entry_perms(const mmu_ctx *m, const mmu_derived *d,
                                  const mmu_req *req, uint8_t priv,
                                  tlb_entry *e)
{
    uint64_t key = rights_key(d, req, priv);
    return e->perm_key == key ? e->perm_cache
                              : rejudge(m, d, req, priv, e, key);
}

static void hit_result(const tlb_entry *e, uint64_t va, mmu_paging_mode mode,
                       mmu_result *res, uint8_t perms)
{
    res->pa = e->pa + (va & e->off_mask);
    res->page_size = UINT64_C(1) << e->page_shift;
    res->level = e->level;
    res->global = e->global;
    res->dirty = e->dirty;
    res->pkey = e->rights.pkey;
    res->pbmt = e->pbmt;
    res->mode = mode;
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

/* The L1 lookup with its statistics; on a miss, the STLB. */
static MMU_NOINLINE tlb_entry *lookup_l2(struct mmu_tlb *t, unsigned which,
                                         mmu_paging_mode mode, uint64_t va,
                                         uint32_t tag)
{
    mmu_tlb_stats *l2 = &t->s[MMU_TLB_STLB].stats;
    if (!tlb_struct_present(t, MMU_TLB_STLB))
        return NULL;
    l2->lookups++;
    tlb_entry *e = tlb_lookup(t, MMU_TLB_STLB, mode, va, tag);
    if (e == NULL) {
        l2->misses++;
        return NULL;
    }
    l2->hits++;
    /* Refill L1 from the STLB entry. */
    tlb_fill(t, which, e, va);
    return e;
}

static inline tlb_entry *lookup(struct mmu_tlb *t, unsigned which,
                                mmu_paging_mode mode, uint64_t va,
                                uint32_t tag)
{
    mmu_tlb_stats *l1 = &t->s[which].stats;
    l1->lookups++;
    tlb_entry *e = tlb_lookup(t, which, mode, va, tag);
    if (e != NULL) {
        l1->hits++;
        return e;
    }
    l1->misses++;
    return lookup_l2(t, which, mode, va, tag);
}

/* The rest of a translation once the TLB was looked up (e: the entry
 * hit, or NULL): a hit re-judged, a denial faulting from the entry, a
 * write through an entry whose D is not known set re-walking, a miss
 * walking and filling. */
static bool finish(walk_ctx *w, unsigned which, tlb_entry *e,
                   mmu_result *res, mmu_fault *flt)
{
    mmu_ctx *m = w->m;
    struct mmu_tlb *t = m->tlb;
    const mmu_req *req = w->req;

    if (e != NULL) {
        uint8_t perms = entry_perms(m, derived_get(m), req, w->priv, e);
        if (!(perms & access_perm(req->access)) && !judge(w, e, flt)) {
            tlb_drop_va(t, w->va, w->tag);
            if (m->st.arch == MMU_ARCH_X86)
                tlb_pwc_drop_va(t, w->va, w->tag, w->mi);
            m->stats.faults++;
            return false;
        }
        if (req->access != MMU_WRITE || e->dirty) {
            hit_result(e, w->va, w->mode, res,
                       e->dirty ? perms : (uint8_t)(perms & ~MMU_PERM_W));
            return true;
        }
        /* A write through an entry with D not known set walks again. */
        tlb_drop_va(t, w->va, w->tag);
    }
    if (!walk_run(w, res, flt)) {
        /* SDM 4.10.4.2: a #PF drops the TLB entries and the paging-
         * structure-cache entries that would be used for the address. */
        if (m->st.arch == MMU_ARCH_X86 && flt->kind == MMU_FAULT_PAGE) {
            tlb_drop_va(t, w->va, w->tag);
            tlb_pwc_drop_va(t, w->va, w->tag, w->mi);
        }
        return false;
    }
    /* A probe that set no A/D leaves nothing cached: a TLB entry only
     * ever comes from a walk that set A (and D for a dirty entry). */
    if (req->flags & MMU_REQ_NO_AD)
        return true;
    fill(t, which, w, res);
    if (tlb_struct_present(t, MMU_TLB_STLB))
        fill(t, MMU_TLB_STLB, w, res);
    return true;
}

static unsigned tlb_of(const mmu_req *req)
{
    return req->access == MMU_FETCH ? MMU_TLB_ITLB : MMU_TLB_DTLB;
}

/* Every step from the state: pre-checks (which may fault or load the
 * PAE PDPTEs), the lookup, the rest. */
static MMU_NOINLINE bool translate_full(mmu_ctx *m, const mmu_req *req,
                                        mmu_result *res, mmu_fault *flt)
{
    walk_ctx w;
    if (!walk_prepare(&w, m, req, flt))
        return false;
    if (m->tlb == NULL || w.mode == MMU_MODE_NONE)
        return walk_run(&w, res, flt);
    tlb_entry *e = lookup(m->tlb, tlb_of(req), w.mode, w.va, w.tag);
    return finish(&w, tlb_of(req), e, res, flt);
}

/* The rest after a lookup made on the short path: its pre-checks passed,
 * so walk_prepare() only sets the walk up. */
static MMU_NOINLINE bool translate_rest(mmu_ctx *m, const mmu_req *req,
                                        mmu_result *res, mmu_fault *flt,
                                        tlb_entry *e)
{
    walk_ctx w;
    if (!walk_prepare(&w, m, req, flt))
        return false;
    return finish(&w, tlb_of(req), e, res, flt);
}

/*
 * The short path, for a translated mode with a TLB: the pre-checks from
 * the derived state (address width, canonical form, MPRV), the lookup,
 * the cached rights judgement. Anything but a plain hit - a fault, a
 * miss, a denial, a write through a clean entry - takes the full flow.
 */
bool mmu_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                   mmu_fault *flt)
{
    struct mmu_tlb *t = m->tlb;
    if (t == NULL)
        return mmu_walk_translate(m, req, res, flt);
    const mmu_derived *d = derived_get(m);
    uint64_t va = req->va & d->va_mask;
    uint8_t priv = req->priv;
    if (priv == d->mprv_from && req->access != MMU_FETCH)
        priv = d->mprv_to;
    /* Untranslated (RISC-V M), a pre-check to make or a fault: the full
     * flow. */
    if (!d->hit_ok || priv == d->bare_priv ||
        (uint64_t)((int64_t)(va << d->va_ext) >> d->va_ext) != va)
        return translate_full(m, req, res, flt);

    tlb_entry *e = lookup(t, tlb_of(req), (mmu_paging_mode)d->mode, va,
                          d->tag);
    if (e == NULL)
        return translate_rest(m, req, res, flt, NULL);
    uint8_t perms = entry_perms(m, d, req, priv, e);
    if (!(perms & access_perm(req->access)) ||
        (req->access == MMU_WRITE && !e->dirty))
        return translate_rest(m, req, res, flt, e);
    hit_result(e, va, (mmu_paging_mode)d->mode, res,
               e->dirty ? perms : (uint8_t)(perms & ~MMU_PERM_W));
    return true;
}
