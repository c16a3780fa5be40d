/*
 * sys_mm.c - the memory system calls (mm/mmap.c ksys_mmap_pgoff and
 * do_mmap's flag checks, mm/mprotect.c, mm/mremap.c, mm/madvise.c,
 * mm/msync.c) on top of os_aspace_*: argument decoding and validation
 * here, the address-space work there. Files are mapped through one page
 * cache per open file description (shared by every mapping of it).
 */
#include "proc_internal.h"

#include <string.h>

#define L_PROT_READ      0x1u
#define L_PROT_WRITE     0x2u
#define L_PROT_EXEC      0x4u
#define L_PROT_SEM       0x8u
#define L_PROT_GROWSDOWN 0x01000000u
#define L_PROT_GROWSUP   0x02000000u

#define L_MAP_SHARED          0x01u
#define L_MAP_PRIVATE         0x02u
#define L_MAP_SHARED_VALIDATE 0x03u
#define L_MAP_TYPE            0x0fu
#define L_MAP_FIXED           0x10u
#define L_MAP_ANONYMOUS       0x20u
#define L_MAP_GROWSDOWN       0x0100u
#define L_MAP_DENYWRITE       0x0800u
#define L_MAP_EXECUTABLE      0x1000u
#define L_MAP_LOCKED          0x2000u
#define L_MAP_NORESERVE       0x4000u
#define L_MAP_POPULATE        0x8000u
#define L_MAP_NONBLOCK        0x10000u
#define L_MAP_STACK           0x20000u
#define L_MAP_HUGETLB         0x40000u
#define L_MAP_SYNC            0x80000u
#define L_MAP_FIXED_NOREPLACE 0x100000u
#define L_MAP_32BIT           0x40u /* x86-64 only */
/* LEGACY_MAP_MASK: what MAP_SHARED_VALIDATE accepts besides the type */
#define L_LEGACY_MAP_MASK                                                      \
    (L_MAP_SHARED | L_MAP_PRIVATE | L_MAP_FIXED | L_MAP_ANONYMOUS |            \
     L_MAP_DENYWRITE | L_MAP_EXECUTABLE | L_MAP_UNINITIALIZED |                \
     L_MAP_GROWSDOWN | L_MAP_LOCKED | L_MAP_NORESERVE | L_MAP_POPULATE |       \
     L_MAP_NONBLOCK | L_MAP_STACK | L_MAP_HUGETLB)
#define L_MAP_UNINITIALIZED 0x4000000u

#define L_MREMAP_MAYMOVE   1u
#define L_MREMAP_FIXED     2u
#define L_MREMAP_DONTUNMAP 4u

#define L_MS_ASYNC      1u
#define L_MS_INVALIDATE 2u
#define L_MS_SYNC       4u

#define L_MADV_DONTNEED     4
#define L_MADV_FREE         8
#define L_MADV_REMOVE       9
#define L_MADV_HWPOISON     100
#define L_MADV_SOFT_OFFLINE 101

static void mm_changed(os_proc *p)
{
    p->pending |= OS_SYSRET_MM_CHANGED;
}

/*
 * __vm_enough_memory() in the default heuristic overcommit mode: one
 * accountable request larger than all of RAM (no swap here) is refused,
 * so mmap of 1 TiB fails with -ENOMEM as on Linux instead of succeeding
 * and dying in page faults.
 */
static bool enough_memory(const os_proc *p, uint64_t bytes)
{
    return bytes / OS_PAGE_SIZE <= p->k->frames->nframes;
}

int64_t sys_brk(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint64_t old = p->mm->as.brk, want = a[0];
    if (want > old && !enough_memory(p, want - old))
        return (int64_t)old;
    uint64_t now = os_aspace_brk(&p->mm->as, want);
    if (now != old)
        mm_changed(p);
    return (int64_t)now;
}

/* The page cache of an fd's file, made on first mmap. */
static os_file *fd_file(ofd *o)
{
    if (o->map == NULL)
        o->map = os_file_from_fd(o->host, o->path != NULL ? o->path : "");
    return o->map;
}

/* do_mmap()'s checks of a file mapping: req filled, or an errno. */
static int file_req(os_proc *p, int fd, uint32_t type, uint32_t prot,
                    os_map_req *r)
{
    ofd *o = fdt_get(&p->fds, fd);
    if (o == NULL || (o->flags & L_O_PATH))
        return -OS_EBADF;
    if (o->is_zero && type == L_MAP_PRIVATE)
        return 0; /* a private /dev/zero mapping is anonymous memory */
    if (o->kind != OFD_HOST || !o->is_reg)
        return -OS_ENODEV;
    uint32_t acc = o->flags & L_O_ACCMODE;
    if (acc == L_O_WRONLY)
        return -OS_EACCES;
    if (type != L_MAP_PRIVATE && (prot & L_PROT_WRITE) && acc != L_O_RDWR)
        return -OS_EACCES;
    if (type != L_MAP_PRIVATE && (prot & L_PROT_WRITE) &&
        (o->flags & L_O_APPEND))
        return -OS_EACCES;
    r->file = fd_file(o);
    if (r->file == NULL)
        return -OS_ENOMEM;
    if (type != L_MAP_PRIVATE && acc != L_O_RDWR)
        r->deny |= OS_VM_MAYWRITE; /* shared on a read-only fd */
    return 0;
}

int64_t sys_mmap(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint64_t addr = a[0], len = a[1], off = a[5];
    uint32_t prot = (uint32_t)a[2], flags = (uint32_t)a[3];
    int fd = arg_int(a[4]);
    if (off & (OS_PAGE_SIZE - 1))
        return -OS_EINVAL;
    uint32_t type = flags & L_MAP_TYPE;
    if (type == L_MAP_SHARED_VALIDATE) {
        if (flags & ~(L_LEGACY_MAP_MASK | L_MAP_TYPE | L_MAP_SYNC |
                      L_MAP_FIXED_NOREPLACE | L_MAP_32BIT))
            return -OS_EOPNOTSUPP;
        type = L_MAP_SHARED;
    } else if (type != L_MAP_SHARED && type != L_MAP_PRIVATE) {
        return -OS_EINVAL;
    }
    if (len == 0)
        return -OS_EINVAL;
    if (prot & ~(L_PROT_READ | L_PROT_WRITE | L_PROT_EXEC | L_PROT_SEM))
        return -OS_EINVAL;
    if (flags & L_MAP_HUGETLB)
        return -OS_ENOMEM; /* no huge pages reserved */
    os_map_req r;
    memset(&r, 0, sizeof r);
    r.addr = addr;
    r.len = len;
    r.prot = prot & (L_PROT_READ | L_PROT_WRITE | L_PROT_EXEC);
    r.offset = off;
    if (type == L_MAP_SHARED)
        r.flags |= OS_MAP_SHARED;
    if (flags & L_MAP_FIXED)
        r.flags |= OS_MAP_FIXED;
    else if (flags & L_MAP_FIXED_NOREPLACE)
        r.flags |= OS_MAP_FIXED_NOREPLACE;
    if (flags & L_MAP_GROWSDOWN)
        r.flags |= OS_MAP_GROWSDOWN;
    if (!(flags & L_MAP_ANONYMOUS)) {
        int rc = file_req(p, fd, type, prot, &r);
        if (rc != 0)
            return rc;
    }
    if (r.file == NULL)
        r.offset = 0;
    bool account = !(flags & L_MAP_NORESERVE) &&
                   ((type == L_MAP_PRIVATE && (prot & L_PROT_WRITE)) ||
                    (type == L_MAP_SHARED && r.file == NULL));
    if (account && !enough_memory(p, len))
        return -OS_ENOMEM;
    uint64_t got;
    int rc = os_aspace_map(&p->mm->as, &r, &got);
    if (rc != 0)
        return rc;
    mm_changed(p);
    if (r.file != NULL && type == L_MAP_SHARED && !(r.deny & OS_VM_MAYWRITE))
        proc_track_shared(p, r.file);
    return (int64_t)got;
}

int64_t sys_munmap(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int rc = os_aspace_unmap(&p->mm->as, a[0], a[1]);
    if (rc == 0)
        mm_changed(p);
    return rc;
}

int64_t sys_mprotect(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t prot = (uint32_t)a[2];
    if (prot & ~(L_PROT_READ | L_PROT_WRITE | L_PROT_EXEC | L_PROT_SEM |
                 L_PROT_GROWSDOWN | L_PROT_GROWSUP))
        return -OS_EINVAL;
    if ((prot & L_PROT_GROWSDOWN) && (prot & L_PROT_GROWSUP))
        return -OS_EINVAL;
    int rc = os_aspace_protect(
        &p->mm->as, a[0], a[1], prot & (L_PROT_READ | L_PROT_WRITE | L_PROT_EXEC));
    mm_changed(p);
    return rc;
}

int64_t sys_mremap(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t flags = (uint32_t)a[3];
    if (flags & L_MREMAP_DONTUNMAP)
        return -OS_EINVAL; /* not modelled */
    if (flags & ~(L_MREMAP_MAYMOVE | L_MREMAP_FIXED))
        return -OS_EINVAL;
    uint32_t f = ((flags & L_MREMAP_MAYMOVE) ? OS_MREMAP_MAYMOVE : 0) |
                 ((flags & L_MREMAP_FIXED) ? OS_MREMAP_FIXED : 0);
    os_vma *v = os_vma_find(&p->mm->as.vmas, a[0]);
    if (v != NULL && (v->flags & OS_VM_ACCOUNT) && a[2] > a[1] &&
        !enough_memory(p, a[2] - a[1]))
        return -OS_ENOMEM;
    uint64_t got;
    int rc = os_aspace_remap(&p->mm->as, a[0], a[1], a[2], f, a[4], &got);
    if (rc != 0)
        return rc;
    mm_changed(p);
    return (int64_t)got;
}

static bool advice_valid(int adv)
{
    return (adv >= 0 && adv <= 4) || (adv >= 8 && adv <= 23) ||
           adv == L_MADV_HWPOISON || adv == L_MADV_SOFT_OFFLINE;
}

int64_t sys_madvise(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int adv = arg_int(a[2]);
    uint64_t start = a[0], len = a[1];
    if (!advice_valid(adv) || adv == L_MADV_HWPOISON ||
        adv == L_MADV_SOFT_OFFLINE)
        return -OS_EINVAL;
    if (adv == L_MADV_DONTNEED) {
        int rc = os_aspace_dontneed(&p->mm->as, start, len);
        mm_changed(p);
        return rc;
    }
    /* every other advice is a hint (MADV_FREE may keep the data) */
    if (start & (OS_PAGE_SIZE - 1))
        return -OS_EINVAL;
    uint64_t l = (len + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
    if ((len != 0 && l == 0) || start + l < start)
        return -OS_EINVAL;
    if (adv == L_MADV_REMOVE)
        return -OS_EINVAL; /* only for shared mappings with holes */
    for (uint64_t pos = start; pos < start + l;) {
        os_vma *v = os_vma_find_above(&p->mm->as.vmas, pos);
        if (v == NULL || v->start > pos)
            return -OS_ENOMEM;
        pos = v->end;
    }
    return 0;
}

typedef struct msync_arg {
    os_vma *v;
} msync_arg;

static bool mark_dirty(os_aspace *as, uint64_t va, uint64_t e, void *arg)
{
    msync_arg *m = arg;
    os_pte pte;
    os_pte_decode(as_arch(as), e, &pte);
    if (pte.present && pte.dirty)
        os_file_mark_dirty(m->v->file,
                           (m->v->pgoff + (va - m->v->start)) / OS_PAGE_SIZE);
    return true;
}

int64_t sys_msync(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint64_t start = a[0], len = a[1];
    uint32_t flags = (uint32_t)a[2];
    if (flags & ~(L_MS_ASYNC | L_MS_INVALIDATE | L_MS_SYNC))
        return -OS_EINVAL;
    if ((flags & L_MS_ASYNC) && (flags & L_MS_SYNC))
        return -OS_EINVAL;
    if (start & (OS_PAGE_SIZE - 1))
        return -OS_EINVAL;
    uint64_t end = start + ((len + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1));
    if (end < start)
        return -OS_ENOMEM;
    int rc = 0;
    for (uint64_t pos = start; pos < end;) {
        os_vma *v = os_vma_find_above(&p->mm->as.vmas, pos);
        if (v == NULL || v->start >= end)
            return -OS_ENOMEM;
        if (v->start > pos)
            rc = -OS_ENOMEM;
        uint64_t s = v->start > pos ? v->start : pos;
        uint64_t e = v->end < end ? v->end : end;
        if (v->file != NULL && (v->flags & OS_VM_SHARED)) {
            msync_arg m = {v};
            as_for_each_leaf(&p->mm->as, s, e, mark_dirty, &m);
            if (os_file_sync(v->file) != 0)
                return -OS_EIO;
        }
        pos = e;
    }
    return rc;
}
