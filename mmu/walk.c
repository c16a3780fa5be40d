/*
 * walk.c - the one page-walk loop, for every x86 and RISC-V mode.
 *
 * Steps, in both manuals' order: (1) pre-checks on the address
 * (canonical form); (2) from the root, read the entry the VA indexes at
 * each level, let the architecture decode it (fault, descend, or leaf);
 * (3) judge the leaf (rights, alignment); (4) set A/D with compare-and-
 * set, restarting the walk if an entry changed under us; (5) form the PA.
 * Nothing is written to memory before every check has passed.
 *
 * With paging-structure caches (TLB option), the walk starts below the
 * deepest cached non-leaf entry, and the non-leaf entries of a successful
 * walk are cached.
 */
#include "tlb_internal.h"
#include "walk_internal.h"

#include <string.h>

#define MAX_RESTARTS 8

void walk_fault(walk_ctx *w, mmu_fault *flt, mmu_fault_kind kind,
                mmu_fault_reason why, int level)
{
    flt->kind = kind;
    flt->reason = why;
    flt->addr = w->va;
    flt->paddr = 0;
    flt->level = (int8_t)level;
    flt->tlb_hit = false;
    flt->walk = w->walk;
}

static bool is_x86(const walk_ctx *w)
{
    return w->mi->arch == MMU_ARCH_X86;
}

static bool untranslated(walk_ctx *w, mmu_result *res)
{
    result_reset(res);
    res->pa = w->va;
    res->page_size = 4096;
    res->perms = MMU_PERM_R | MMU_PERM_W | MMU_PERM_X | MMU_PERM_U;
    res->rights.flags = res->perms;
    res->dirty = true;
    res->mode = MMU_MODE_NONE;
    return true;
}

/* Read the entry at `addr` (x86 PAE root: the PDPTE register). */
static bool read_entry(walk_ctx *w, unsigned level, uint64_t table,
                       uint64_t *addr, uint64_t *pte)
{
    unsigned idx = mmu_mode_index(w->mi, w->va, level);
    mmu_ctx *m = w->m;
    if (w->mi->root_in_regs && level == w->mi->levels - 1u) {
        *addr = table + idx * 8u;
        *pte = m->st.x86.pdpte[idx];
        return true;
    }
    *addr = table + (uint64_t)idx * w->mi->pte_size;
    m->stats.walk_reads++;
    if (!mmu_phys_read_pte(m->mem, *addr, w->mi->pte_size, pte))
        return false;
    if (m->trace)
        m->trace(m->trace_arg, 0, *addr, *pte);
    return true;
}

static void record(walk_ctx *w, unsigned level, uint64_t addr, uint64_t pte)
{
    mmu_walk_step *s = &w->walk.step[w->walk.n++];
    s->addr = addr;
    s->pte = pte;
    s->level = (uint8_t)level;
}

static struct mmu_tlb *pwc_of(const walk_ctx *w)
{
    struct mmu_tlb *t = w->m->tlb;
    return t != NULL && t->pwc != NULL ? t : NULL;
}

static bool pwc_cacheable(const walk_ctx *w, unsigned level)
{
    return level >= 1 && level <= TLB_PWC_LEVELS &&
           !(w->mi->root_in_regs && level == w->mi->levels - 1u);
}

/* Walk once. @return 1 success, 0 fault, -1 an entry changed: restart. */
static int walk_once(walk_ctx *w, mmu_result *res, mmu_fault *flt)
{
    bool x86 = is_x86(w);
    uint64_t table = x86 ? x86_root(w) : rv_root(w), addr = 0, pte = 0;
    unsigned level = w->mi->levels;
    tlb_pwc_entry cached[MMU_MAX_LEVELS];
    unsigned ncached = 0, cached_level[MMU_MAX_LEVELS];
    struct mmu_tlb *pwc = pwc_of(w);

    w->walk.n = 0;
    w->all_rw = w->all_us = true;
    w->any_nx = w->any_g = false;
    if (pwc != NULL) {
        tlb_pwc_entry hit;
        unsigned hl;
        if (tlb_pwc_lookup(pwc, w->va, w->tag, w->mi, &hl, &hit)) {
            table = hit.table;
            level = hl;
            w->all_rw = hit.all_rw;
            w->all_us = hit.all_us;
            w->any_nx = hit.any_nx;
            w->any_g = hit.any_g;
        }
    }
    for (;;) {
        walk_step st;
        level--;
        if (!read_entry(w, level, table, &addr, &pte)) {
            if (x86)
                x86_outside_ram(w, flt, addr, (int)level);
            else
                rv_outside_ram(w, flt, addr, (int)level);
            return 0;
        }
        record(w, level, addr, pte);
        st = x86 ? x86_entry(w, level, pte, &table, flt)
                 : rv_entry(w, level, pte, &table, flt);
        if (st == WALK_FAULT)
            return 0;
        if (st == WALK_LEAF)
            break;
        if (pwc != NULL && pwc_cacheable(w, level)) {
            cached_level[ncached] = level;
            cached[ncached++] = (tlb_pwc_entry){
                .prefix = w->va >> mmu_mode_shift(w->mi, level),
                .table = table, .tag = w->tag, .all_rw = w->all_rw,
                .all_us = w->all_us, .any_nx = w->any_nx, .any_g = w->any_g};
        }
    }
    if (!(x86 ? x86_leaf(w, level, pte, res, flt)
              : rv_leaf(w, level, pte, res, flt)))
        return 0;

    /* A/D: every check passed; set them as a locked RMW would. */
    if (!(w->req->flags & MMU_REQ_NO_AD)) {
        for (unsigned i = 0; i < w->walk.n; i++) {
            const mmu_walk_step *s = &w->walk.step[i];
            bool leaf = i + 1u == w->walk.n, swapped;
            uint64_t nv = x86 ? x86_ad_update(w, s->level, s->pte, leaf)
                              : rv_ad_update(w, s->level, s->pte, leaf);
            if (nv == s->pte)
                continue;
            if (!mmu_phys_cas_pte(w->m->mem, s->addr, w->mi->pte_size,
                                  s->pte, nv, &swapped) ||
                !swapped)
                return -1; /* changed (or vanished): walk again */
            w->m->stats.ad_writes++;
            if (w->m->trace)
                w->m->trace(w->m->trace_arg, 1, s->addr, nv);
        }
    }
    for (unsigned i = 0; i < ncached; i++)
        tlb_pwc_fill(pwc, cached_level[i], &cached[i]);
    res->walk = w->walk;
    res->mode = w->mode;
    return 1;
}

bool walk_prepare(walk_ctx *w, mmu_ctx *m, const mmu_req *req,
                  mmu_fault *flt)
{
    /* Field by field: clearing the whole context (walk record included)
     * costs more than a TLB hit. */
    w->m = m;
    w->req = req;
    w->va = req->va;
    w->priv = req->priv;
    w->user = false;
    w->all_rw = w->all_us = true;
    w->any_nx = w->any_g = false;
    w->walk.n = 0;
    if (m->st.arch == MMU_ARCH_X86) {
        w->mode = mmu_state_mode(&m->st);
        w->user = x86_user_access(req);
    } else {
        w->mode = rv_request_mode(&m->st, req, &w->priv);
    }
    w->mi = mmu_mode_get(w->mode);
    w->tag = mmu_current_tag(&m->st);
    if (m->st.arch == MMU_ARCH_X86 ? !x86_precheck(w, flt)
                                   : !rv_precheck(w, flt)) {
        m->stats.faults++;
        return false;
    }
    return true;
}

bool walk_run(walk_ctx *w, mmu_result *res, mmu_fault *flt)
{
    if (w->mode == MMU_MODE_NONE)
        return untranslated(w, res);
    w->m->stats.walks++;
    int r = -1;
    for (unsigned tries = 0; tries < MAX_RESTARTS && r < 0; tries++)
        r = walk_once(w, res, flt);
    if (r < 0) {
        /* Entries kept changing or vanished from RAM mid-walk: report
         * what a final walk sees (it cannot restart again). */
        walk_fault(w, flt, MMU_FAULT_BAD_PHYS, MMU_WHY_OUTSIDE_RAM, -1);
        r = 0;
    }
    if (r == 0)
        w->m->stats.faults++;
    return r == 1;
}

bool mmu_walk_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                        mmu_fault *flt)
{
    walk_ctx w;
    if (!walk_prepare(&w, m, req, flt))
        return false;
    return walk_run(&w, res, flt);
}
