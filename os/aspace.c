/*
 * aspace.c - an address space: its root (built through the builder, with
 * the kernel half's top-level entries copied in), its VMAs, the frames
 * of its page tables, and the PTE primitives the rest of os/ uses (see
 * mmuemu/os.h, section 6).
 *
 * Page-table frames come from a wrapper around the frame allocator that
 * remembers them, so destroying the space frees them all (the builder
 * never frees emptied tables; Linux's free_pgtables() on munmap is not
 * modelled, the tables stay until the space dies).
 */
#include "os_internal.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

#include <stdlib.h>
#include <string.h>

static bool pt_alloc(void *arg, uint64_t *pa)
{
    os_aspace *as = arg;
    if (as->nptframes == as->capptframes) {
        size_t cap = as->capptframes ? 2 * as->capptframes : 16;
        uint64_t *n = realloc(as->ptframes, cap * sizeof *n);
        if (n == NULL)
            return false;
        as->ptframes = n;
        as->capptframes = cap;
    }
    if (os_frames_alloc(as->k->frames, OS_FRAME_PGTABLE, pa) != 0)
        return false;
    as->ptframes[as->nptframes++] = *pa;
    return true;
}

static uint64_t sign_extend(uint64_t v, unsigned bits)
{
    unsigned s = 64 - bits;
    return (uint64_t)((int64_t)(v << s) >> s);
}

/* Copy the kernel half's top-level entries into this root. */
static int share_kernel_half(os_aspace *as)
{
    const mmu_mode_info *mi = mmu_mode_get(as->pt.mode);
    unsigned top = mi->levels - 1u, bits = mi->idx_bits[top];
    unsigned shift = mmu_mode_shift(mi, top);
    for (uint64_t i = UINT64_C(1) << (bits - 1); i < (UINT64_C(1) << bits);
         i++) {
        uint64_t va = sign_extend(i << shift, mi->va_bits), e;
        if (mmu_pt_get_entry(&as->k->kpt, va, top, &e) != MMU_PT_OK || e == 0)
            continue;
        if (mmu_pt_set_entry(&as->pt, va, top, e, 0) != MMU_PT_OK)
            return -OS_ENOMEM;
    }
    return 0;
}

int os_aspace_init(os_aspace *as, os_kernel *k)
{
    memset(as, 0, sizeof *as);
    as->k = k;
    as->id = ++k->next_aspace_id;
    os_vmas_init(&as->vmas, k->layout.stack_guard_gap,
                 k->layout.max_map_count);
    as->mmap_base = k->layout.mmap_base;
    if (mmu_pt_init(&as->pt, k->mem, k->layout.mode, pt_alloc, as) !=
            MMU_PT_OK ||
        share_kernel_half(as) != 0) {
        os_aspace_destroy(as);
        return -OS_ENOMEM;
    }
    return 0;
}

void os_aspace_destroy(os_aspace *as)
{
    as->hook = NULL; /* nobody to tell: the whole space goes */
    for (os_vma *v = as->vmas.first; v != NULL; v = v->next)
        as_zap(as, v, v->start, v->end);
    os_vmas_destroy(&as->vmas);
    for (size_t i = 0; i < as->nptframes; i++)
        os_frames_put(as->k->frames, as->ptframes[i]);
    free(as->ptframes);
    as->ptframes = NULL;
    as->nptframes = as->capptframes = 0;
}

void os_aspace_set_hook(os_aspace *as, os_pte_hook fn, void *arg)
{
    as->hook = fn;
    as->hook_arg = arg;
}

uint64_t os_aspace_root_reg(const os_aspace *as)
{
    uint64_t r = mmu_pt_root_reg(&as->pt);
    if (as_arch(as) == MMU_ARCH_X86)
        return r | (as->tag & X86_CR3_PCID_MASK);
    return r | (((uint64_t)as->tag & RV64_SATP_ASID_MASK)
                << RV64_SATP_ASID_SHIFT);
}

void os_aspace_user_state(const os_aspace *as, mmu_state *st)
{
    if (as_arch(as) == MMU_ARCH_X86) {
        mmu_state_init_x86(st);
        st->x86.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
        st->x86.cr4 = X86_CR4_PAE | X86_CR4_PGE;
        if (as->pt.mode == MMU_MODE_X86_5LEVEL)
            st->x86.cr4 |= X86_CR4_LA57;
        if (as->tag != 0)
            st->x86.cr4 |= X86_CR4_PCIDE; /* a PCID needs CR4.PCIDE */
        st->x86.efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
        st->x86.cr3 = os_aspace_root_reg(as);
        return;
    }
    mmu_state_init_rv(st, 64);
    st->rv.satp = os_aspace_root_reg(as);
}

void os_aspace_make_ctx(const os_aspace *as, mmu_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->mem = as->k->mem;
    os_aspace_user_state(as, &ctx->st);
}

/* ---- PTE primitives ------------------------------------------------ */

uint64_t as_get_pte(const os_aspace *as, uint64_t va)
{
    uint64_t e;
    return mmu_pt_get_entry(&as->pt, va, 0, &e) == MMU_PT_OK ? e : 0;
}

uint64_t os_aspace_pte(const os_aspace *as, uint64_t va)
{
    return as_get_pte(as, page_down(va));
}

int as_set_pte(os_aspace *as, uint64_t va, uint64_t e)
{
    int rc = mmu_pt_set_entry(&as->pt, va, 0, e, os_pte_user_table(as_arch(as)));
    if (rc == MMU_PT_OK)
        return 0;
    return rc == MMU_PT_ENOMEM ? -OS_ENOMEM : -OS_EFAULT;
}

int as_map_frame(os_aspace *as, uint64_t va, uint64_t pa, uint32_t flags,
                 bool writable, bool dirty)
{
    int rc = as_set_pte(as, va, os_pte_make(&as->pt, pa, flags, writable,
                                            dirty));
    if (rc == 0 && pa != as->k->zero_pa)
        as->rss++;
    return rc;
}

void as_notify(os_aspace *as, uint64_t va, uint64_t len, os_pte_change c)
{
    if (as->hook != NULL && len != 0)
        as->hook(as->hook_arg, va, len, c);
}

/* Where the next leaf could be when va's level-0 table is missing: the
 * end of the region the first missing table would have covered. */
static uint64_t skip_hole(const os_aspace *as, uint64_t va)
{
    const mmu_mode_info *mi = mmu_mode_get(as->pt.mode);
    for (unsigned l = 1; l < mi->levels; l++) {
        uint64_t e;
        if (mmu_pt_get_entry(&as->pt, va, l, &e) == MMU_PT_OK) {
            uint64_t size = UINT64_C(1) << mmu_mode_shift(mi, l);
            return (va & ~(size - 1)) + size;
        }
    }
    return va + PAGE;
}

void as_for_each_leaf(os_aspace *as, uint64_t start, uint64_t end,
                      as_leaf_fn fn, void *arg)
{
    uint64_t va = start;
    while (va < end) {
        uint64_t e, next;
        if (mmu_pt_get_entry(&as->pt, va, 0, &e) == MMU_PT_OK) {
            if (e != 0 && !fn(as, va, e, arg))
                return;
            next = va + PAGE;
        } else {
            next = skip_hole(as, va);
        }
        if (next <= va)
            return; /* wrapped at the top of the address space */
        va = next;
    }
}

/* ---- zap and reprotect --------------------------------------------- */

typedef struct zap_arg {
    os_vma *v;
    bool removed;
} zap_arg;

static bool zap_one(os_aspace *as, uint64_t va, uint64_t e, void *arg)
{
    zap_arg *z = arg;
    os_pte p;
    os_pte_decode(as_arch(as), e, &p);
    if (p.present || p.protnone) {
        if (p.pa != as->k->zero_pa) {
            if (p.dirty && (z->v->flags & OS_VM_SHARED) && z->v->file)
                os_file_mark_dirty(z->v->file,
                                   (z->v->pgoff + (va - z->v->start)) / PAGE);
            os_frames_put(as->k->frames, p.pa);
            as->rss--;
        }
        z->removed |= p.present;
    }
    as_set_pte(as, va, 0);
    return true;
}

void as_zap(os_aspace *as, os_vma *v, uint64_t start, uint64_t end)
{
    zap_arg z = {v, false};
    as_for_each_leaf(as, start, end, zap_one, &z);
    if (z.removed)
        as_notify(as, start, end - start, OS_PTE_REMOVED);
}

typedef struct reprot_arg {
    os_vma *v;
    bool relaxed, restricted;
} reprot_arg;

/* can_change_pte_writable(): exclusive anonymous pages of private
 * mappings, dirty pages of shared ones. */
static bool can_make_writable(os_aspace *as, const os_vma *v, const os_pte *p)
{
    if (v->flags & OS_VM_SHARED)
        return p->dirty;
    return os_frames_kind(as->k->frames, p->pa) == OS_FRAME_ANON &&
           os_frames_refcount(as->k->frames, p->pa) == 1;
}

static bool reprot_one(os_aspace *as, uint64_t va, uint64_t e, void *arg)
{
    reprot_arg *r = arg;
    os_pte p, q;
    mmu_arch arch = as_arch(as);
    os_pte_decode(arch, e, &p);
    if (!p.present && !p.protnone)
        return true;
    bool w = (r->v->flags & OS_VM_WRITE) &&
             (p.write || can_make_writable(as, r->v, &p));
    /* pte_modify(): A comes with the new protection (Linux's
     * protection_map carries it), D is kept */
    uint64_t n = os_pte_make(&as->pt, p.pa, r->v->flags, w, p.dirty);
    if (n == e)
        return true;
    os_pte_decode(arch, n, &q);
    if ((p.write && !q.write) || (p.exec && !q.exec) || (p.read && !q.read))
        r->restricted = true;
    else
        r->relaxed = true;
    as_set_pte(as, va, n);
    return true;
}

void as_reprotect(os_aspace *as, os_vma *v, uint64_t start, uint64_t end)
{
    reprot_arg r = {v, false, false};
    as_for_each_leaf(as, start, end, reprot_one, &r);
    if (r.restricted)
        as_notify(as, start, end - start, OS_PTE_CHANGED);
    else if (r.relaxed)
        as_notify(as, start, end - start, OS_PTE_RELAXED);
}

/* ---- VMAs ---------------------------------------------------------- */

/* anon_vma_compatible(): neighbours differing at most in access rights. */
static bool anon_compatible(const os_vma *a, const os_vma *b)
{
    return a->end == b->start && a->file == b->file &&
           ((a->flags ^ b->flags) & ~OS_VM_ACCESS) == 0 &&
           b->pgoff == a->pgoff + (b->start - a->start);
}

void as_anon_prepare(os_aspace *as, os_vma *v)
{
    if (v->anon_vma != 0)
        return;
    uint64_t id = 0;
    if (v->next != NULL && v->next->anon_vma && anon_compatible(v, v->next))
        id = v->next->anon_vma;
    else if (v->prev != NULL && v->prev->anon_vma &&
             anon_compatible(v->prev, v))
        id = v->prev->anon_vma;
    else
        id = ++as->k->next_anon_vma;
    os_vma_set_anon(&as->vmas, v, id);
}

int as_insert_vma(os_aspace *as, uint64_t start, uint64_t end,
                  const os_vma_desc *d, bool merge, os_vma **out)
{
    return os_vmas_insert(&as->vmas, start, end, d, merge, out);
}
