/*
 * aspace_remap.c - mremap and madvise(MADV_DONTNEED) on an address space
 * (see mmuemu/os.h, section 6), as Linux 6.1 does them (mm/mremap.c:
 * sys_mremap, mremap_to, vma_to_resize, vma_expandable, move_vma,
 * copy_vma, move_page_tables; mm/madvise.c: madvise_walk_vmas,
 * madvise_dontneed_single_vma).
 *
 * A move carries the PTEs over (frames, rights, A/D unchanged, nothing
 * copied and nothing faulted again), so a buffer grown by MREMAP_MAYMOVE
 * costs page-table work only. Not modelled: MREMAP_DONTUNMAP (-EINVAL),
 * old_len 0 (duplicating a shared mapping: -EINVAL), RLIMIT_AS, mlock.
 */
#include "os_internal.h"

/* What an unmapped range of the new VMA looks like. */
typedef struct move_arg {
    int64_t delta; /* new - old */
    bool present;  /* some moved entry was present */
    int rc;
} move_arg;

/* Pass 1: create the destination tables, so pass 2 cannot fail. */
static bool prepare_one(os_aspace *as, uint64_t va, uint64_t e, void *arg)
{
    move_arg *m = arg;
    (void)e;
    m->rc = as_set_pte(as, (uint64_t)((int64_t)va + m->delta), 0);
    return m->rc == 0;
}

/* Pass 2: move_ptes(). */
static bool move_one(os_aspace *as, uint64_t va, uint64_t e, void *arg)
{
    move_arg *m = arg;
    os_pte p;
    os_pte_decode(as_arch(as), e, &p);
    m->present |= p.present;
    as_set_pte(as, va, 0);
    m->rc = as_set_pte(as, (uint64_t)((int64_t)va + m->delta), e);
    return m->rc == 0;
}

/* vma_merge() of v with its neighbours through the public VMA calls
 * (the PTEs stay as they are). */
static os_vma *merge_neighbours(os_aspace *as, os_vma *v)
{
    os_vma *p = v->prev;
    if (p != NULL && os_vma_mergeable(p, v)) {
        uint64_t end = v->end, anon = v->anon_vma;
        os_vmas_remove(&as->vmas, v->start, v->end);
        os_vma_set_end(&as->vmas, p, end);
        if (p->anon_vma == 0)
            os_vma_set_anon(&as->vmas, p, anon);
        v = p;
    }
    os_vma *n = v->next;
    if (n != NULL && os_vma_mergeable(v, n)) {
        uint64_t end = n->end, anon = n->anon_vma;
        os_vmas_remove(&as->vmas, n->start, n->end);
        os_vma_set_end(&as->vmas, v, end);
        if (v->anon_vma == 0)
            os_vma_set_anon(&as->vmas, v, anon);
    }
    return v;
}

/* move_vma(): copy_vma() at new_addr, the PTEs over, the old range out. */
static int move_vma(os_aspace *as, os_vma *v, uint64_t old_addr,
                    uint64_t old_len, uint64_t new_len, uint64_t new_addr)
{
    if (as->vmas.count + 3 >= as->vmas.max_count)
        return -OS_ENOMEM;
    uint64_t pgoff = v->pgoff + (old_addr - v->start);
    uint64_t anon = v->anon_vma;
    if (v->file == NULL && anon == 0)
        pgoff = new_addr; /* never faulted: as if mapped there */
    os_vma_desc d = {v->flags, v->file, pgoff};
    os_vma *nv;
    int rc = as_insert_vma(as, new_addr, new_addr + new_len, &d, false, &nv);
    if (rc != 0)
        return rc;
    nv->pgoff = pgoff;
    os_vma_set_anon(&as->vmas, nv, anon);
    move_arg m = {(int64_t)(new_addr - old_addr), false, 0};
    as_for_each_leaf(as, old_addr, old_addr + old_len, prepare_one, &m);
    if (m.rc != 0) {
        os_vmas_remove(&as->vmas, new_addr, new_addr + new_len);
        return m.rc;
    }
    as_for_each_leaf(as, old_addr, old_addr + old_len, move_one, &m);
    if (m.present) {
        as_notify(as, old_addr, old_len, OS_PTE_REMOVED);
        as_notify(as, new_addr, old_len, OS_PTE_NEW);
    }
    merge_neighbours(as, nv);
    /* the old range holds no PTE any more: this only drops its VMAs */
    return os_aspace_unmap(as, old_addr, old_len);
}

/* vma_to_resize(). */
static int to_resize(os_aspace *as, uint64_t addr, uint64_t old_len,
                     uint64_t new_len, os_vma **out)
{
    os_vma *v = os_vma_find(&as->vmas, addr);
    if (v == NULL || old_len > v->end - addr)
        return -OS_EFAULT;
    if (new_len != old_len) {
        uint64_t off = v->pgoff + (addr - v->start);
        if (v->file != NULL && off + new_len < off)
            return -OS_EINVAL;
    }
    *out = v;
    return 0;
}

/* mremap_to(): MREMAP_FIXED. */
static int remap_to(os_aspace *as, uint64_t addr, uint64_t old_len,
                    uint64_t new_len, uint64_t new_addr, uint64_t *out)
{
    uint64_t ts = as->k->layout.task_size;
    if (!page_aligned(new_addr))
        return -OS_EINVAL;
    if (new_len > ts || new_addr > ts - new_len)
        return -OS_EINVAL;
    if (addr + old_len > new_addr && new_addr + new_len > addr)
        return -OS_EINVAL; /* overlapping */
    if (as->vmas.count + 2 >= as->vmas.max_count - 3)
        return -OS_ENOMEM;
    if (new_addr < as->k->layout.mmap_min_addr)
        return -OS_EPERM;
    int rc = os_aspace_unmap(as, new_addr, new_len);
    if (rc == 0 && old_len > new_len) {
        rc = os_aspace_unmap(as, addr + new_len, old_len - new_len);
        old_len = new_len;
    }
    os_vma *v;
    if (rc == 0)
        rc = to_resize(as, addr, old_len, new_len, &v);
    if (rc == 0)
        rc = move_vma(as, v, addr, old_len, new_len, new_addr);
    if (rc == 0)
        *out = new_addr;
    return rc;
}

int os_aspace_remap(os_aspace *as, uint64_t addr, uint64_t old_len,
                    uint64_t new_len, uint32_t flags, uint64_t new_addr,
                    uint64_t *out)
{
    if (flags & ~(OS_MREMAP_MAYMOVE | OS_MREMAP_FIXED))
        return -OS_EINVAL;
    if ((flags & OS_MREMAP_FIXED) && !(flags & OS_MREMAP_MAYMOVE))
        return -OS_EINVAL;
    if (!page_aligned(addr))
        return -OS_EINVAL;
    old_len = page_up(old_len);
    new_len = page_up(new_len);
    if (new_len == 0 || old_len == 0)
        return -OS_EINVAL;
    if (os_vma_find(&as->vmas, addr) == NULL)
        return -OS_EFAULT;
    if (flags & OS_MREMAP_FIXED)
        return remap_to(as, addr, old_len, new_len, new_addr, out);
    if (old_len >= new_len) {
        int rc = old_len > new_len
                     ? os_aspace_unmap(as, addr + new_len, old_len - new_len)
                     : 0;
        if (rc == 0)
            *out = addr;
        return rc;
    }
    os_vma *v;
    int rc = to_resize(as, addr, old_len, new_len, &v);
    if (rc != 0)
        return rc;
    uint64_t delta = new_len - old_len, end = v->end + delta;
    if (old_len == v->end - addr && end > v->end &&
        end <= as->k->layout.task_size &&
        os_vma_intersect(&as->vmas, v->end, end) == NULL) {
        os_vma_set_end(&as->vmas, v, end); /* vma_expandable(): in place */
        *out = addr;
        return 0;
    }
    if (!(flags & OS_MREMAP_MAYMOVE))
        return -OS_ENOMEM;
    uint64_t a;
    rc = os_aspace_unmapped_area(as, 0, new_len, &a);
    if (rc == 0)
        rc = move_vma(as, v, addr, old_len, new_len, a);
    if (rc == 0)
        *out = a;
    return rc;
}

int os_aspace_dontneed(os_aspace *as, uint64_t addr, uint64_t len)
{
    if (!page_aligned(addr))
        return -OS_EINVAL;
    uint64_t l = page_up(len), end = addr + l;
    if ((len != 0 && l == 0) || end < addr)
        return -OS_EINVAL;
    if (end == addr)
        return 0;
    int rc = 0;
    uint64_t pos = addr;
    os_vma *v = os_vma_find_above(&as->vmas, pos);
    for (;;) {
        if (v == NULL || v->start >= end)
            return -OS_ENOMEM;
        if (pos < v->start) {
            rc = -OS_ENOMEM; /* a hole: still drop the rest */
            pos = v->start;
        }
        uint64_t stop = v->end < end ? v->end : end;
        as_zap(as, v, pos, stop);
        pos = stop;
        if (pos >= end)
            return rc;
        v = v->next;
    }
}
