/*
 * fault_pte.c - step 5 of the fault path (see fault.c): what
 * handle_pte_fault() does once the VMA allows the access. An empty PTE is
 * do_anonymous_page() (the zero page for reads) or, for files,
 * do_read_fault() with fault-around, do_cow_fault() and
 * do_shared_fault(); a write to a read-only PTE is do_wp_page() (reuse an
 * exclusive anonymous page, else copy); anything else is spurious.
 */
#include "os_internal.h"

#include <string.h>

/* Install a new PTE mapping pa; on failure drop the reference. */
static bool install(fault *f, uint64_t va, uint64_t pa, bool writable,
                    bool dirty)
{
    if (as_map_frame(f->as, va, pa, f->v->flags, writable, dirty) != 0) {
        if (pa != f->as->k->zero_pa)
            os_frames_put(f->as->k->frames, pa);
        fault_oom(f);
        return false;
    }
    as_notify(f->as, va, PAGE, OS_PTE_NEW);
    return true;
}

static void do_anonymous(fault *f, bool grew)
{
    os_aspace *as = f->as;
    os_fault_kind kind = grew ? OS_FAULT_STACK : OS_FAULT_DEMAND_ZERO;
    if (!f->write && as->k->layout.zero_page) {
        if (install(f, f->va, as->k->zero_pa, false, false))
            fault_handled(f, grew ? OS_FAULT_STACK : OS_FAULT_ZERO_PAGE);
        return;
    }
    uint64_t pa;
    as_anon_prepare(as, f->v);
    if (os_frames_alloc(as->k->frames, OS_FRAME_ANON, &pa) != 0) {
        fault_oom(f);
        return;
    }
    bool w = (f->v->flags & OS_VM_WRITE) != 0;
    if (install(f, f->va, pa, w, w))
        fault_handled(f, kind);
}

static uint64_t file_index(const os_vma *v, uint64_t va)
{
    return (v->pgoff + (va - v->start)) / PAGE;
}

/* A page-cache page of v's file, with SIGBUS past EOF. */
static bool get_file_page(fault *f, uint64_t va, uint64_t *pa)
{
    int rc = os_file_get_page(f->v->file, f->as->k->frames,
                              file_index(f->v, va), pa);
    if (rc == 0)
        return true;
    if (rc == -OS_ENXIO)
        fault_give_signal(f, OS_SIGBUS, OS_BUS_ADRERR, "beyond the end of file");
    else if (rc == -OS_ENOMEM)
        fault_oom(f);
    else
        fault_fatal(f, "file read error");
    return false;
}

/* do_fault_around(): map the cached pages of the aligned window around
 * the fault (clipped to the VMA, the page table and the file) whose PTEs
 * are empty; regular files are read ahead to fill the window. */
static void fault_around(fault *f)
{
    os_aspace *as = f->as;
    uint64_t n = as->k->layout.fault_around, win = n * PAGE;
    if (n <= 1 || (n & (n - 1)) != 0)
        return;
    uint64_t lo = f->va & ~(win - 1), hi = lo + win;
    uint64_t pt_lo = f->va & ~(UINT64_C(0x1fffff)), pt_hi = pt_lo + 0x200000;
    if (lo < f->v->start)
        lo = f->v->start;
    if (lo < pt_lo)
        lo = pt_lo;
    if (hi > f->v->end || hi < lo)
        hi = f->v->end;
    if (hi > pt_hi)
        hi = pt_hi;
    bool writable = (f->v->flags & (OS_VM_SHARED | OS_VM_WRITE)) ==
                    (OS_VM_SHARED | OS_VM_WRITE);
    for (uint64_t va = lo; va < hi; va += PAGE) {
        uint64_t idx = file_index(f->v, va), pa;
        if (va == f->va || as_get_pte(as, va) != 0)
            continue;
        if (idx >= page_up(os_file_size(f->v->file)) / PAGE)
            break;
        if (os_file_is_shmem(f->v->file)) {
            if (!os_file_peek_page(f->v->file, idx, &pa))
                continue;
            os_frames_get(as->k->frames, pa);
        } else if (os_file_get_page(f->v->file, as->k->frames, idx, &pa) !=
                   0) {
            break;
        }
        if (as_map_frame(as, va, pa, f->v->flags, writable, false) != 0) {
            os_frames_put(as->k->frames, pa);
            break;
        }
        as->faults.around_pages++;
        as_notify(as, va, PAGE, OS_PTE_NEW);
    }
}

static void do_file(fault *f)
{
    uint64_t pa, copy;
    bool shared = (f->v->flags & OS_VM_SHARED) != 0;
    if (!get_file_page(f, f->va, &pa))
        return;
    if (shared || !f->write) { /* do_shared_fault / do_read_fault */
        bool w = shared && (f->v->flags & OS_VM_WRITE);
        if (!install(f, f->va, pa, w, shared && f->write))
            return;
        if (!f->write)
            fault_around(f);
        fault_handled(f, OS_FAULT_FILE);
        return;
    }
    /* do_cow_fault: a private copy of the file page. */
    as_anon_prepare(f->as, f->v);
    int rc = os_frames_alloc(f->as->k->frames, OS_FRAME_ANON, &copy);
    if (rc == 0)
        memcpy(os_frames_ptr(f->as->k->frames, copy),
               os_frames_ptr(f->as->k->frames, pa), PAGE);
    os_frames_put(f->as->k->frames, pa);
    if (rc != 0) {
        fault_oom(f);
        return;
    }
    if (install(f, f->va, copy, true, true))
        fault_handled(f, OS_FAULT_FILE);
}

/* Replace the PTE at va by a writable, dirty one for frame pa. */
static bool set_writable(fault *f, uint64_t pa, os_pte_change change)
{
    uint64_t e = os_pte_make(&f->as->pt, pa, f->v->flags, true, true);
    if (as_set_pte(f->as, f->va, e) != 0) {
        fault_oom(f);
        return false;
    }
    as_notify(f->as, f->va, PAGE, change);
    return true;
}

/* do_wp_page(). */
static void do_wp(fault *f, const os_pte *p)
{
    os_aspace *as = f->as;
    os_frames *fr = as->k->frames;
    if (f->v->flags & OS_VM_SHARED) { /* wp_page_shared */
        if (set_writable(f, p->pa, OS_PTE_RELAXED))
            fault_handled(f, OS_FAULT_WP_REUSE);
        return;
    }
    bool zero = p->pa == as->k->zero_pa;
    if (!zero && os_frames_kind(fr, p->pa) == OS_FRAME_ANON &&
        os_frames_refcount(fr, p->pa) == 1) { /* wp_page_reuse */
        if (set_writable(f, p->pa, OS_PTE_RELAXED))
            fault_handled(f, OS_FAULT_WP_REUSE);
        return;
    }
    uint64_t pa; /* wp_page_copy */
    as_anon_prepare(as, f->v);
    if (os_frames_alloc(fr, OS_FRAME_ANON, &pa) != 0) {
        fault_oom(f);
        return;
    }
    if (!zero)
        memcpy(os_frames_ptr(fr, pa), os_frames_ptr(fr, p->pa), PAGE);
    if (!set_writable(f, pa, OS_PTE_CHANGED)) {
        os_frames_put(fr, pa);
        return;
    }
    if (zero)
        as->rss++;
    else
        os_frames_put(fr, p->pa);
    fault_handled(f, OS_FAULT_COW);
}

/* The PTE already allows the access, or holds a frame the VMA's rights
 * should reach: re-derive it, set A (and D for writes). */
static void do_spurious(fault *f, uint64_t e, const os_pte *p)
{
    mmu_arch arch = as_arch(f->as);
    uint64_t n = e;
    if (p->protnone || !os_pte_allows(p, f->rq->access))
        n = os_pte_make(&f->as->pt, p->pa, f->v->flags,
                        p->write && (f->v->flags & OS_VM_WRITE), p->dirty);
    n = os_pte_mkyoung(arch, n, f->write);
    if (n != e && as_set_pte(f->as, f->va, n) != 0) {
        fault_oom(f);
        return;
    }
    as_notify(f->as, f->va, PAGE, OS_PTE_RELAXED);
    fault_handled(f, OS_FAULT_SPURIOUS);
}

void fault_handle_pte(fault *f, bool grew)
{
    uint64_t e = as_get_pte(f->as, f->va);
    os_pte p;
    os_pte_decode(as_arch(f->as), e, &p);
    if (!p.present && !p.protnone) {
        if (f->v->file == NULL)
            do_anonymous(f, grew);
        else
            do_file(f);
    } else if (f->write && p.present && !p.write) {
        do_wp(f, &p);
    } else {
        do_spurious(f, e, &p);
    }
}
