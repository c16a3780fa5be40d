/*
 * aspace_ops.c - mmap, munmap, mprotect, brk and fork on an address space
 * (see mmuemu/os.h, section 6): the VMA changes of vma_range.c plus what
 * they mean for the PTEs (zap on unmap, re-derived rights on mprotect,
 * write-protection for COW on fork), with Linux's argument checks and
 * error codes (mm/mmap.c do_mmap, mm/vma.c do_vmi_munmap, mm/mprotect.c
 * do_mprotect_pkey, mm/mmap.c sys_brk and do_brk_flags, kernel/fork.c
 * dup_mmap with mm/memory.c copy_pte_range).
 */
#include "os_internal.h"

#include <stdlib.h>

#define BRK_FLAGS (OS_VM_READ | OS_VM_WRITE | OS_VM_MAYALL | OS_VM_ACCOUNT)

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

int os_aspace_unmapped_area(const os_aspace *as, uint64_t hint, uint64_t len,
                            uint64_t *addr)
{
    const os_layout *l = &as->k->layout;
    uint64_t mmap_end = l->task_size;
    if (len == 0 || len > mmap_end - l->mmap_min_addr)
        return -OS_ENOMEM;
    if (hint != 0) {
        /* x86 rounds a hint down, the generic code up. */
        uint64_t a = as_arch(as) == MMU_ARCH_X86 ? page_down(hint)
                                                  : page_up(hint);
        if (a != 0 && a <= mmap_end - len && a >= l->mmap_min_addr &&
            os_vmas_range_free(&as->vmas, a, a + len)) {
            *addr = a;
            return 0;
        }
    }
    uint64_t lo = max64(PAGE, l->mmap_min_addr);
    if (os_vmas_gap_topdown(&as->vmas, len, PAGE, lo, as->mmap_base, addr))
        return 0;
    if (os_vmas_gap_bottomup(&as->vmas, len, PAGE, l->unmapped_base,
                             mmap_end, addr))
        return 0;
    return -OS_ENOMEM;
}

/* Zap the PTEs of [start, end), then drop the VMAs there. */
static int unmap_range(os_aspace *as, uint64_t start, uint64_t end)
{
    os_vma *v = os_vma_find_above(&as->vmas, start);
    if (v != NULL && v->start < start && v->end > end &&
        as->vmas.count >= as->vmas.max_count)
        return -OS_ENOMEM; /* the split would pass max_map_count */
    for (os_vma *w = v; w != NULL && w->start < end; w = w->next)
        as_zap(as, w, max64(w->start, start), min64(w->end, end));
    return os_vmas_remove(&as->vmas, start, end);
}

/* calc_vm_prot_bits / calc_vm_flag_bits, the file's MAY bits, and
 * accountable_mapping(). */
static uint32_t mmap_flags(const os_map_req *r)
{
    uint32_t f = r->prot | OS_VM_MAYALL;
    uint32_t deny = r->deny & (OS_VM_MAYALL | OS_VM_MAYSHARE);
    if (r->flags & OS_MAP_SHARED)
        f |= OS_VM_SHARED | OS_VM_MAYSHARE;
    if (r->flags & OS_MAP_GROWSDOWN)
        f |= OS_VM_GROWSDOWN;
    f &= ~deny;
    if ((deny & OS_VM_MAYWRITE) && (f & OS_VM_SHARED))
        f &= ~OS_VM_SHARED; /* a read-only fd: "s" in maps, no sharing */
    if ((f & (OS_VM_SHARED | OS_VM_WRITE)) == OS_VM_WRITE)
        f |= OS_VM_ACCOUNT;
    return f;
}

static int fixed_address(const os_aspace *as, const os_map_req *r,
                         uint64_t len)
{
    const os_layout *l = &as->k->layout;
    if (!page_aligned(r->addr))
        return -OS_EINVAL;
    if (len > l->task_size || r->addr > l->task_size - len)
        return -OS_ENOMEM;
    if (r->addr < l->mmap_min_addr)
        return -OS_EPERM;
    if ((r->flags & OS_MAP_FIXED_NOREPLACE) &&
        os_vma_intersect(&as->vmas, r->addr, r->addr + len) != NULL)
        return -OS_EEXIST;
    return 0;
}

int os_aspace_map(os_aspace *as, const os_map_req *r, uint64_t *addr)
{
    if (r->len == 0 || (r->prot & ~OS_VM_ACCESS) != 0)
        return -OS_EINVAL;
    uint64_t len = page_up(r->len), a;
    if (len == 0)
        return -OS_ENOMEM;
    if (!page_aligned(r->offset))
        return -OS_EINVAL;
    if (r->offset + len < r->offset)
        return -OS_EOVERFLOW;
    uint32_t flags = mmap_flags(r);
    if ((flags & ~(flags >> 4)) & OS_VM_ACCESS)
        return -OS_EACCES;
    bool fixed = (r->flags & (OS_MAP_FIXED | OS_MAP_FIXED_NOREPLACE)) != 0;
    int rc = fixed ? fixed_address(as, r, len)
                   : os_aspace_unmapped_area(as, r->addr, len, &a);
    if (rc != 0)
        return rc;
    if (fixed)
        a = r->addr;
    if (as->vmas.count > as->vmas.max_count)
        return -OS_ENOMEM;
    os_file *shm = NULL, *file = r->file;
    if (file == NULL && (r->flags & OS_MAP_SHARED)) {
        file = shm = os_file_shmem(len);
        if (shm == NULL)
            return -OS_ENOMEM;
    }
    rc = (r->flags & OS_MAP_FIXED) ? unmap_range(as, a, a + len) : 0;
    if (rc == 0) {
        os_vma_desc d = {flags, file, file != NULL ? r->offset : 0};
        rc = as_insert_vma(as, a, a + len, &d, true, NULL);
    }
    os_file_put(shm);
    if (rc == 0)
        *addr = a;
    return rc;
}

int os_aspace_unmap(os_aspace *as, uint64_t addr, uint64_t len)
{
    uint64_t ts = as->k->layout.task_size;
    if (!page_aligned(addr) || addr > ts || len > ts - addr)
        return -OS_EINVAL;
    len = page_up(len);
    if (len == 0)
        return -OS_EINVAL;
    return unmap_range(as, addr, addr + len);
}

int os_aspace_protect(os_aspace *as, uint64_t addr, uint64_t len,
                      uint32_t prot)
{
    if (!page_aligned(addr))
        return -OS_EINVAL;
    if (len == 0)
        return 0;
    if ((prot & ~OS_VM_ACCESS) != 0)
        return -OS_EINVAL;
    uint64_t end = addr + page_up(len), done;
    if (end <= addr)
        return -OS_ENOMEM;
    int rc = os_vmas_protect(&as->vmas, addr, end, prot, &done);
    for (os_vma *v = os_vma_find_above(&as->vmas, addr);
         v != NULL && v->start < done; v = v->next)
        as_reprotect(as, v, max64(v->start, addr), min64(v->end, done));
    return rc;
}

/*
 * do_brk_flags(): grow the VMA ending at start when asked and compatible
 * (anonymous, same flags, contiguous offset), else a new VMA that merges
 * with nothing.
 */
int as_brk_area(os_aspace *as, uint64_t start, uint64_t end, uint32_t flags,
                bool extend_prev)
{
    os_vma *prev = start >= PAGE ? os_vma_find(&as->vmas, start - PAGE) : NULL;
    if (extend_prev && prev != NULL && prev->end == start &&
        prev->flags == flags && prev->file == NULL &&
        prev->pgoff + (prev->end - prev->start) == start) {
        os_vma_set_end(&as->vmas, prev, end);
        return 0;
    }
    os_vma_desc d = {flags, NULL, 0};
    return as_insert_vma(as, start, end, &d, false, NULL);
}

uint64_t os_aspace_brk(os_aspace *as, uint64_t brk)
{
    const os_layout *l = &as->k->layout;
    uint64_t orig = as->brk;
    if (brk < as->start_brk)
        return orig;
    uint64_t newbrk = page_up(brk), oldbrk = page_up(as->brk);
    if (oldbrk == newbrk) {
        as->brk = brk;
        return brk;
    }
    if (brk <= as->brk) { /* shrinking is always allowed */
        if (unmap_range(as, newbrk, oldbrk) != 0)
            return orig;
        as->brk = brk;
        return brk;
    }
    if (newbrk == 0 || newbrk > l->task_size || oldbrk < l->mmap_min_addr)
        return orig; /* check_brk_limits() */
    os_vma *next = os_vma_find_above(&as->vmas, oldbrk);
    if (next != NULL && next->start < newbrk + 2 * PAGE &&
        newbrk + PAGE > os_vma_start_gap(&as->vmas, next))
        return orig;
    if (as_brk_area(as, oldbrk, newbrk, BRK_FLAGS,
                    as->brk > as->start_brk) != 0)
        return orig;
    as->brk = brk;
    return brk;
}

/* ---- fork ---------------------------------------------------------- */

typedef struct fork_arg {
    os_aspace *child;
    const os_vma *v;
    bool cow, wrprotected;
    int rc;
} fork_arg;

/* copy_present_pte(): COW mappings write-protected in both; the child's
 * copy old, and clean in shared mappings. */
static bool copy_one(os_aspace *parent, uint64_t va, uint64_t e, void *arg)
{
    fork_arg *f = arg;
    mmu_arch arch = as_arch(parent);
    os_pte p;
    os_pte_decode(arch, e, &p);
    if (!p.present && !p.protnone)
        return true;
    bool counted = p.pa != parent->k->zero_pa;
    if (counted)
        os_frames_get(parent->k->frames, p.pa);
    if (f->cow && p.write) {
        e = os_pte_wrprotect(arch, e, false, false);
        as_set_pte(parent, va, e);
        f->wrprotected = true;
    }
    uint64_t ce = os_pte_mkold(arch, e);
    if (f->v->flags & OS_VM_SHARED)
        ce = os_pte_mkclean(arch, ce);
    f->rc = as_set_pte(f->child, va, ce);
    if (f->rc != 0) {
        if (counted)
            os_frames_put(parent->k->frames, p.pa);
        return false;
    }
    if (counted)
        f->child->rss++;
    return true;
}

int os_aspace_fork(os_aspace *child, os_aspace *parent)
{
    for (const os_vma *v = parent->vmas.first; v != NULL; v = v->next) {
        os_vma *c = malloc(sizeof *c);
        if (c == NULL)
            return -OS_ENOMEM;
        *c = *v;
        os_file_get(c->file);
        c->anon_vma = v->anon_vma ? ++parent->k->next_anon_vma : 0;
        vma_tree_insert(&child->vmas, c);
        if (v->anon_vma == 0)
            continue; /* faults will fill it (vma_needs_copy()) */
        fork_arg f = {child, v,
                      (v->flags & (OS_VM_SHARED | OS_VM_MAYWRITE)) ==
                          OS_VM_MAYWRITE,
                      false, 0};
        as_for_each_leaf(parent, v->start, v->end, copy_one, &f);
        if (f.wrprotected)
            as_notify(parent, v->start, v->end - v->start, OS_PTE_CHANGED);
        if (f.rc != 0)
            return f.rc;
    }
    child->start_brk = parent->start_brk;
    child->brk = parent->brk;
    child->start_stack = parent->start_stack;
    child->start_code = parent->start_code;
    child->end_code = parent->end_code;
    child->start_data = parent->start_data;
    child->end_data = parent->end_data;
    child->arg_start = parent->arg_start;
    child->arg_end = parent->arg_end;
    child->env_start = parent->env_start;
    child->env_end = parent->env_end;
    child->mmap_base = parent->mmap_base;
    return 0;
}
