/*
 * os.h - the hosted OS model: what a Linux kernel does for the memory of a
 * user process, done on the host side against the model's page tables.
 *
 * Models (Linux 6.x, ASLR off as under `setarch -R`): the page allocator
 * with reference counts (mm/page_alloc.c), VMAs as mm/mmap.c and mm/vma.c
 * split and merge them (anon_vma compatibility and VM_ACCOUNT included),
 * the top-down mmap layout (mm/util.c mmap_base, stack_guard_gap), the
 * fault path (arch/x86/mm/fault.c, arch/riscv/mm/fault.c, mm/memory.c:
 * zero page, demand zero, file read with fault-around, COW copy or reuse,
 * stack expansion), uaccess with fixups (copy_to_user & co.), the ELF
 * loader of fs/binfmt_elf.c for static and static-pie executables with
 * the initial stack of create_elf_tables(), /proc/self/maps lines
 * (fs/proc/task_mmu.c), and the kernel half of every address space as a
 * direct map of guest RAM shared by all page tables.
 *
 * Page tables are written only through the builder (mmuemu/builder.h);
 * guest memory is reached only through mmu_translate() or the frame
 * allocator's own frames.
 *
 * Not modelled: ASLR, THP and other huge user pages, swap, NUMA, mlock,
 * userfaultfd, pkeys in VMAs, mremap's DONTUNMAP and duplication of
 * shared mappings (old_len 0), writenotify on shared file pages,
 * page-cache reclaim, the vDSO, RLIMIT_AS. One thread per address space.
 */
#ifndef MMUEMU_OS_H
#define MMUEMU_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmuemu/builder.h"
#include "mmuemu/translate.h"

/* ==== 1. Conventions ================================================= */

#define OS_PAGE_SHIFT 12
#define OS_PAGE_SIZE (UINT64_C(1) << OS_PAGE_SHIFT)

/*
 * Functions that can fail return 0 or a negative Linux errno (the values
 * are the same on x86-64 and riscv64), so the syscall layer passes them
 * straight to the guest.
 */
#define OS_EPERM 1
#define OS_ENOENT 2
#define OS_EIO 5
#define OS_ENXIO 6
#define OS_E2BIG 7
#define OS_ENOEXEC 8
#define OS_ENOMEM 12
#define OS_EACCES 13
#define OS_EFAULT 14
#define OS_EEXIST 17
#define OS_EINVAL 22
#define OS_ENAMETOOLONG 36
#define OS_EOVERFLOW 75

/* "ENOMEM" for -12 or 12; "E?" for anything else. */
const char *os_errno_name(int err);

/* ==== 2. Physical frames ============================================= */

/* What a frame holds (kept per frame for reports and COW decisions). */
typedef enum os_frame_kind {
    OS_FRAME_FREE = 0,
    OS_FRAME_ANON,      /* private anonymous data (COW-able) */
    OS_FRAME_PCACHE,    /* page cache of a file or of shared memory */
    OS_FRAME_PGTABLE,   /* a paging structure */
    OS_FRAME_ZERO,      /* the shared zero page (never freed) */
    OS_FRAME_KINDS
} os_frame_kind;

typedef struct os_frames_stats {
    uint64_t total;     /* frames managed */
    uint64_t in_use;    /* allocated now */
    uint64_t peak;
    uint64_t limit;     /* most frames in use at once */
    uint64_t allocs, frees, failures;
    uint64_t by_kind[OS_FRAME_KINDS]; /* in use now, per kind */
    uint64_t errors;    /* put/get of a free or foreign frame (bugs) */
} os_frames_stats;

/*
 * 4 KiB frames over a range of guest RAM, handed out zeroed with a
 * reference count of 1 (a LIFO free list: O(1) alloc and free, lowest
 * addresses first). A frame is freed when its count drops to 0. The
 * limit makes "the guest exhausts RAM" a clean -OS_ENOMEM.
 */
typedef struct os_frames {
    mmu_phys *mem;
    uint64_t base;      /* guest PA of frame 0 */
    uint64_t nframes;
    uint32_t *ref;      /* per frame; 0 = free */
    uint8_t *kind;      /* per frame: os_frame_kind */
    uint32_t *free;     /* stack of free frame indices */
    uint64_t nfree;
    uint64_t fail_at;   /* fault injection: the fail_at-th allocation
                           from now fails (0: disarmed) */
    os_frames_stats st;
} os_frames;

/* [base, base+size) must be page-aligned and inside mem. */
int os_frames_init(os_frames *f, mmu_phys *mem, uint64_t base,
                   uint64_t size);
void os_frames_destroy(os_frames *f);
/* At most `frames` in use at once (clamped to the total; 0: all). */
void os_frames_set_limit(os_frames *f, uint64_t frames);
/* Arm the injection point "frames.alloc": the nth allocation fails. */
void os_frames_inject_failure(os_frames *f, uint64_t nth);

/* A zeroed frame with count 1. @return -OS_ENOMEM when none is left. */
int os_frames_alloc(os_frames *f, os_frame_kind kind, uint64_t *pa);
void os_frames_get(os_frames *f, uint64_t pa);
/* @return true if that was the last reference (the frame is free now). */
bool os_frames_put(os_frames *f, uint64_t pa);
uint32_t os_frames_refcount(const os_frames *f, uint64_t pa);
os_frame_kind os_frames_kind(const os_frames *f, uint64_t pa);
bool os_frames_owns(const os_frames *f, uint64_t pa);
/* Host pointer to the 4 KiB frame at pa. */
uint8_t *os_frames_ptr(const os_frames *f, uint64_t pa);
/* mmu_frame_alloc_fn for the builder (arg: os_frames*, kind PGTABLE). */
bool os_frames_builder_alloc(void *arg, uint64_t *pa);

/* ==== 3. Files and the page cache ==================================== */

/*
 * What a file-backed VMA maps: a host buffer, a host fd (read with
 * pread), or shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, shown as
 * "/dev/zero (deleted)"). Reference counted; each file keeps a page cache
 * of frames, filled on first touch, shared by every mapping of the file
 * (private mappings map it read-only and copy on write). A file must not
 * outlive the os_frames its cache came from.
 */
typedef struct os_file os_file;

/* copy=false: the buffer must outlive the file. */
os_file *os_file_from_buffer(const void *data, uint64_t size,
                             const char *name, bool copy);
/* The fd is duplicated; size, device and inode from fstat. */
os_file *os_file_from_fd(int fd, const char *name);
os_file *os_file_shmem(uint64_t size);
os_file *os_file_get(os_file *f);
void os_file_put(os_file *f);

uint64_t os_file_size(const os_file *f);
const char *os_file_name(const os_file *f);
/* Device and inode for /proc/self/maps (buffers: 00:00 0 unless set). */
void os_file_set_identity(os_file *f, unsigned major, unsigned minor,
                          uint64_t ino);
void os_file_identity(const os_file *f, unsigned *major, unsigned *minor,
                      uint64_t *ino);
/* Bytes read (short at EOF), or -OS_EIO. */
int64_t os_file_read(os_file *f, uint64_t off, void *dst, uint64_t len);
/* Write dirty cached pages back to an fd file. @return 0 or -OS_EIO. */
int os_file_sync(os_file *f);
/* Pages held in the cache now. */
uint64_t os_file_cached_pages(const os_file *f);

/* ==== 4. VMAs ======================================================== */

/* Linux's vm_flags values. */
#define OS_VM_READ      UINT32_C(0x00000001)
#define OS_VM_WRITE     UINT32_C(0x00000002)
#define OS_VM_EXEC      UINT32_C(0x00000004)
#define OS_VM_SHARED    UINT32_C(0x00000008)
#define OS_VM_MAYREAD   UINT32_C(0x00000010)
#define OS_VM_MAYWRITE  UINT32_C(0x00000020)
#define OS_VM_MAYEXEC   UINT32_C(0x00000040)
#define OS_VM_MAYSHARE  UINT32_C(0x00000080)
#define OS_VM_GROWSDOWN UINT32_C(0x00000100)
#define OS_VM_ACCOUNT   UINT32_C(0x00100000)
#define OS_VM_ACCESS    (OS_VM_READ | OS_VM_WRITE | OS_VM_EXEC)
#define OS_VM_MAYALL    (OS_VM_MAYREAD | OS_VM_MAYWRITE | OS_VM_MAYEXEC)

/*
 * One mapping [start, end). pgoff is the byte offset in the file of
 * start; anonymous VMAs carry start's address there at creation, as
 * Linux's vm_pgoff does, so that only never-moved neighbours merge.
 * anon_vma names the reverse-map group of anonymous pages (0: none yet):
 * two VMAs merge only if at most one has one or both share it.
 */
typedef struct os_vma {
    uint64_t start, end;
    uint32_t flags;        /* OS_VM_* */
    os_file *file;         /* NULL: anonymous; holds a reference */
    uint64_t pgoff;
    uint64_t anon_vma;
    /* private to vma.c: AVL links, address-order list, augmentation */
    struct os_vma *left, *right, *parent, *prev, *next;
    uint64_t max_gap;      /* largest free gap below a VMA of the subtree */
    int height;
} os_vma;

/*
 * The VMAs of an address space: an AVL tree keyed by start (O(log n)
 * find, insert, remove), threaded with an address-ordered list, and
 * augmented with the largest gap of each subtree so free-range searches
 * are logarithmic too (Linux's old rb_subtree_gap; today's maple tree
 * keeps the same per-node gaps). Gaps count stack_guard_gap below
 * GROWSDOWN VMAs, as vm_start_gap() does.
 */
typedef struct os_vmas {
    os_vma *root, *first, *last;
    size_t count;
    uint64_t pages;        /* total_vm */
    uint64_t guard_gap;    /* stack_guard_gap in bytes */
    size_t max_count;      /* vm.max_map_count */
} os_vmas;

typedef struct os_vma_desc {
    uint32_t flags;
    os_file *file;         /* a reference is taken */
    uint64_t pgoff;        /* file offset of start; anonymous: ignored */
} os_vma_desc;

void os_vmas_init(os_vmas *t, uint64_t guard_gap, size_t max_count);
void os_vmas_destroy(os_vmas *t);

/* The VMA containing addr, or NULL. */
os_vma *os_vma_find(const os_vmas *t, uint64_t addr);
/* The first VMA ending above addr (Linux find_vma()), or NULL. */
os_vma *os_vma_find_above(const os_vmas *t, uint64_t addr);
/* The first VMA intersecting [start, end), or NULL. */
os_vma *os_vma_intersect(const os_vmas *t, uint64_t start, uint64_t end);

/* vm_start_gap(): start lowered by the guard gap for GROWSDOWN. */
uint64_t os_vma_start_gap(const os_vmas *t, const os_vma *v);
/* Could a and b (a just below b) be one VMA? */
bool os_vma_mergeable(const os_vma *a, const os_vma *b);

/*
 * Map [start, end) (which must be free: else -OS_EEXIST) as d; merge with
 * compatible neighbours when `merge`. *out: the VMA now covering the
 * range. @return -OS_ENOMEM once count > max_count (do_mmap's check; a
 * split refuses at count >= max_count) or out of host memory.
 */
int os_vmas_insert(os_vmas *t, uint64_t start, uint64_t end,
                   const os_vma_desc *d, bool merge, os_vma **out);
/* Remove [start, end), splitting VMAs at its edges (munmap). */
int os_vmas_remove(os_vmas *t, uint64_t start, uint64_t end);
/*
 * mprotect: set the access bits of [start, end) to prot, splitting at the
 * edges and merging afterwards. As Linux, VMAs are changed in order until
 * a hole (-OS_ENOMEM) or a VMA whose MAY bits forbid prot (-OS_EACCES);
 * *done is where the change stopped (end on success).
 */
int os_vmas_protect(os_vmas *t, uint64_t start, uint64_t end,
                    uint32_t prot, uint64_t *done);
/* Move v's start down to new_start (stack expansion; no overlap check). */
void os_vma_set_start(os_vmas *t, os_vma *v, uint64_t new_start);
/* Move v's end (brk; no overlap check). */
void os_vma_set_end(os_vmas *t, os_vma *v, uint64_t new_end);
/* Set v's reverse-map group (anon_vma_prepare() picks it; no merging
 * happens here, as none does on Linux at fault time). */
void os_vma_set_anon(os_vmas *t, os_vma *v, uint64_t anon_vma);

/*
 * Free ranges: the highest (top-down) or lowest (bottom-up) address a,
 * a multiple of align (a power of two >= 4 KiB), with [a, a+len) inside
 * [lo, hi) and in a gap. @return false if none.
 */
bool os_vmas_gap_topdown(const os_vmas *t, uint64_t len, uint64_t align,
                         uint64_t lo, uint64_t hi, uint64_t *addr);
bool os_vmas_gap_bottomup(const os_vmas *t, uint64_t len, uint64_t align,
                          uint64_t lo, uint64_t hi, uint64_t *addr);
/* Is [start, end) free with the guard gaps respected (mmap hints)? */
bool os_vmas_range_free(const os_vmas *t, uint64_t start, uint64_t end);

/*
 * Check every invariant (order, no overlap, AVL balance and heights,
 * gap augmentation, list threading, counters).
 * @return the tree height, or -1 with a message in err.
 */
int os_vmas_check(const os_vmas *t, char *err, size_t errlen);

/*
 * A /proc/self/maps line, Linux's exact format: "%08lx-%08lx %c%c%c%c
 * %08llx %02x:%02x %lu " then, when name is not NULL, padding to column
 * 73 and the name; and "\n". @return the length (snprintf-like).
 */
int os_vma_format(const os_vma *v, const char *name, char *buf, size_t n);

/* ==== 5. Layout and the kernel half ================================== */

/* Where things go in one paging mode (Linux defaults, no ASLR). */
typedef struct os_layout {
    mmu_paging_mode mode;
    uint64_t task_size;      /* TASK_SIZE: user addresses are below */
    uint64_t mmap_min_addr;  /* vm.mmap_min_addr */
    uint64_t stack_top;      /* STACK_TOP: end of the initial stack */
    uint64_t stack_rlimit;   /* RLIMIT_STACK soft limit */
    uint64_t stack_guard_gap;/* stack_guard_gap: 256 pages */
    uint64_t mmap_base;      /* mmap_base(): top of the top-down area */
    uint64_t unmapped_base;  /* TASK_UNMAPPED_BASE: bottom-up fallback */
    uint64_t page_offset;    /* PAGE_OFFSET: the direct map of RAM */
    uint64_t kernel_start;   /* lowest kernel-half address */
    size_t max_map_count;    /* vm.max_map_count */
    unsigned fault_around;   /* pages mapped around a file read fault
                                (fault_around_bytes / 4 KiB; 1: off) */
    bool zero_page;          /* read faults on anonymous memory map the
                                shared zero page */
} os_layout;

/*
 * Linux's values for mode:
 *   x86 4-level: TASK_SIZE 0x7ffffffff000, PAGE_OFFSET 0xffff888000000000
 *   x86 5-level: user window as 4-level, PAGE_OFFSET 0xff11000000000000
 *   Sv39: TASK_SIZE 0x4000000000, PAGE_OFFSET 0xffffffd800000000 (Linux
 *         5.17-6.3; 6.4 moved it to 0xffffffd600000000)
 *   Sv48: TASK_SIZE 1<<47, PAGE_OFFSET 0xffffaf8000000000
 *   Sv57: TASK_SIZE 1<<56, PAGE_OFFSET 0xff60000000000000
 STACK_TOP is the default map window: x86 0x7ffffffff000 in both modes;
 * RISC-V 1<<38 for Sv39, 1<<47 for Sv48 and Sv57 (Linux 6.6+: Sv57 spaces
 * get Sv48 addresses unless a hint asks higher). mmap_base = STACK_TOP -
 * clamp(rlimit + guard gap, 128 MiB, 5/6 STACK_TOP); TASK_UNMAPPED_BASE
 * = TASK_SIZE / 3; mmap_min_addr 65536; max_map_count 65530; rlimit
 * 8 MiB; fault_around 16; zero_page on.
 * @return -OS_EINVAL for modes the model does not host (32-bit, PAE).
 */
int os_layout_init(os_layout *l, mmu_paging_mode mode);

/*
 * The machine-wide part: frames, the layout, the zero page and the kernel
 * half, built once as a direct map of guest RAM (supervisor-only, global,
 * not executable, dirty and accessed preset; 1 GiB pages where RAM allows,
 * then 2 MiB, then 4 KiB) whose top-level entries every address space
 * copies. x86 maps PA p at PAGE_OFFSET + p, RISC-V at PAGE_OFFSET + (p -
 * RAM base), as Linux does.
 */
typedef struct os_kernel {
    mmu_phys *mem;
    os_frames *frames;
    os_layout layout;
    mmu_arch arch;
    mmu_pt kpt;              /* the kernel half's own root */
    uint64_t *kframes;       /* frames of the kernel half's tables */
    size_t nkframes, capkframes;
    uint64_t zero_pa;        /* the zero page */
    uint64_t direct_base;    /* PA mapped at PAGE_OFFSET */
    uint64_t direct_size;
    uint64_t direct_pages[3];/* 4K, 2M, 1G leaves of the direct map */
    uint64_t next_anon_vma;  /* ids for os_vma.anon_vma */
    uint64_t next_aspace_id; /* ids for os_aspace.id */
    uint32_t forks;          /* processes forked (pids after the first) */
    struct os_proc *procs;   /* every process not yet destroyed (linux.h) */
} os_kernel;

/* @return 0, or an error with a message in err. */
int os_kernel_init(os_kernel *k, mmu_phys *mem, os_frames *frames,
                   const os_layout *layout, char *err, size_t errlen);
void os_kernel_destroy(os_kernel *k);
/* Kernel VA of guest PA pa in the direct map. */
uint64_t os_kernel_direct_va(const os_kernel *k, uint64_t pa);

/* ==== 6. Address spaces ============================================== */

/*
 * How a PTE changed, so the caller can invalidate TLBs: the hook runs
 * after every change of the space's user PTEs (each fault-in, fault-around
 * page, COW, mprotect range, munmap range, fork's write-protection), never
 * during os_aspace_destroy. os_tlb_sync applies Linux's policy to a model
 * TLB; a CPU that caches rights of its own (Unicorn's softmmu TLB) needs a
 * flush only for CHANGED and REMOVED, since NEW and RELAXED only add
 * rights and a denied access refills anyway.
 */
typedef enum os_pte_change {
    OS_PTE_NEW,        /* not present -> present */
    OS_PTE_RELAXED,    /* same frame, more rights or A/D set */
    OS_PTE_CHANGED,    /* other frame, or fewer rights */
    OS_PTE_REMOVED,    /* present -> not present */
} os_pte_change;

typedef void (*os_pte_hook)(void *arg, uint64_t va, uint64_t len,
                            os_pte_change what);

/* Fault outcomes by kind (section 7). */
#define OS_FAULT_NKINDS 7

typedef struct os_fault_stats {
    uint64_t handled[OS_FAULT_NKINDS]; /* by os_fault_kind */
    uint64_t maperr, accerr, pkuerr, sigbus, oom, fatal;
    uint64_t stack_pages;              /* pages the stack grew by */
    uint64_t around_pages;             /* pages mapped by fault-around */
} os_fault_stats;

struct os_fault_req;
struct os_fault_outcome;

typedef struct os_aspace {
    os_kernel *k;
    mmu_pt pt;             /* root built through the builder */
    os_vmas vmas;
    uint64_t start_brk, brk;
    uint64_t start_stack;  /* initial sp (mm->start_stack) */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t mmap_base;
    uint32_t tag;          /* PCID / ASID placed in the root register */
    uint64_t id;           /* unique per space ever made on the kernel
                              (a tag's owner, for TLB coherence) */
    os_pte_hook hook;
    void *hook_arg;
    /* After every os_fault_handle on this space (NULL: none). */
    void (*fault_hook)(void *arg, const struct os_fault_req *rq,
                       const struct os_fault_outcome *out);
    void *fault_hook_arg;
    uint64_t *ptframes;    /* page-table frames this space owns */
    size_t nptframes, capptframes;
    uint64_t rss;          /* user PTEs mapping a frame (zero page not
                              counted) */
    os_fault_stats faults;
} os_aspace;

/* An empty space: a new root holding the kernel half's top entries. */
int os_aspace_init(os_aspace *as, os_kernel *k);
/* Unmap everything, free every frame and table it owned. */
void os_aspace_destroy(os_aspace *as);
void os_aspace_set_hook(os_aspace *as, os_pte_hook fn, void *arg);

/* The root register: x86 CR3 with the tag as PCID (only meaningful with
 * CR4.PCIDE, which os_aspace_user_state sets for a non-zero tag), RISC-V
 * satp with the tag as ASID. */
uint64_t os_aspace_root_reg(const os_aspace *as);
/*
 * Architectural state that runs this space as Linux sets it up: x86
 * CR0.PE|PG|WP, CR4.PAE|PGE (|LA57, |PCIDE with a tag), EFER.LME|LMA|NXE;
 * RISC-V satp with Svade (no hardware A/D: Linux sets A and D itself).
 */
void os_aspace_user_state(const os_aspace *as, mmu_state *st);
/* A translation context on that state (no TLB). */
void os_aspace_make_ctx(const os_aspace *as, mmu_ctx *ctx);

#define OS_MAP_SHARED          (1u << 0) /* MAP_SHARED (else private) */
#define OS_MAP_FIXED           (1u << 1) /* replace what is there */
#define OS_MAP_FIXED_NOREPLACE (1u << 2) /* -OS_EEXIST if anything is */
#define OS_MAP_GROWSDOWN       (1u << 3)

typedef struct os_map_req {
    uint64_t addr;         /* hint, or the address with FIXED */
    uint64_t len;
    uint32_t prot;         /* OS_VM_READ | OS_VM_WRITE | OS_VM_EXEC */
    uint32_t flags;        /* OS_MAP_* */
    uint32_t deny;         /* MAY bits withheld (a read-only fd: MAYWRITE,
                              which with SHARED also drops VM_SHARED) */
    os_file *file;         /* NULL: anonymous (shared anonymous memory
                              gets its own os_file_shmem) */
    uint64_t offset;       /* file offset, page-aligned */
} os_map_req;

/* mmap's address-space part (do_mmap + mmap_region). */
int os_aspace_map(os_aspace *as, const os_map_req *r, uint64_t *addr);
/* munmap. */
int os_aspace_unmap(os_aspace *as, uint64_t addr, uint64_t len);
/* mprotect (prot: OS_VM_ACCESS bits). */
int os_aspace_protect(os_aspace *as, uint64_t addr, uint64_t len,
                      uint32_t prot);
/* sys_brk: @return the new break, or the old one if refused. */
uint64_t os_aspace_brk(os_aspace *as, uint64_t brk);
/* get_unmapped_area for an address-chosen mapping (top-down, hint
 * first, bottom-up fallback). */
int os_aspace_unmapped_area(const os_aspace *as, uint64_t hint, uint64_t len,
                            uint64_t *addr);
/*
 * fork's dup_mmap: child (freshly initialised, same kernel) gets copies of
 * every VMA; PTEs are copied for VMAs with anonymous pages, private
 * writable ones write-protected in both (COW), child PTEs old (A clear).
 */
int os_aspace_fork(os_aspace *child, os_aspace *parent);
/* (On -OS_ENOMEM the child is partial: destroy it; the parent is whole.) */

/* mremap flags. */
#define OS_MREMAP_MAYMOVE 1u
#define OS_MREMAP_FIXED   2u

/*
 * mremap (mm/mremap.c): shrink in place, grow in place when the space
 * after the VMA is free, else (MAYMOVE) move the VMA and its PTEs to a
 * new range (FIXED: new_addr, replacing what is there). Pages move with
 * their PTEs (no copy, no fault afterwards). *out: the new address.
 */
int os_aspace_remap(os_aspace *as, uint64_t addr, uint64_t old_len,
                    uint64_t new_len, uint32_t flags, uint64_t new_addr,
                    uint64_t *out);
/* madvise(MADV_DONTNEED): drop the PTEs and frames of [addr, addr+len)
 * (anonymous memory reads as zero afterwards, private file pages as the
 * file). -OS_ENOMEM if the range has holes (the mapped parts are still
 * dropped), -OS_EINVAL for a bad range. */
int os_aspace_dontneed(os_aspace *as, uint64_t addr, uint64_t len);

/* The user leaf entry for va (0 if none). */
uint64_t os_aspace_pte(const os_aspace *as, uint64_t va);
/*
 * /proc/self/maps: one line per VMA, [heap] and [stack] named as Linux
 * does (vma_is_initial_heap/stack). @return the full length (snprintf-
 * like; buf may be NULL with n = 0).
 */
size_t os_aspace_format_maps(const os_aspace *as, char *buf, size_t n);

/*
 * Invalidate a model TLB the way Linux does after a PTE change: x86 only
 * for CHANGED/REMOVED (a #PF re-walks), INVLPG per page up to 33 pages
 * else a CR3 reload; RISC-V for every change (update_mmu_cache), SFENCE.VMA
 * va, asid per page up to 64 pages else for the whole ASID.
 */
void os_tlb_sync(mmu_ctx *m, uint32_t tag, uint64_t va, uint64_t len,
                 os_pte_change what);

/* ==== 7. Page faults ================================================= */

typedef enum os_fault_kind {
    OS_FAULT_DEMAND_ZERO = 0, /* new zeroed anonymous page */
    OS_FAULT_ZERO_PAGE,       /* read: the shared zero page, read-only */
    OS_FAULT_FILE,            /* file page (private write: copied) */
    OS_FAULT_COW,             /* write-protect fault: page copied */
    OS_FAULT_WP_REUSE,        /* write-protect fault: made writable */
    OS_FAULT_STACK,           /* stack expanded, then demand zero */
    OS_FAULT_SPURIOUS,        /* PTE already allowed it (stale TLB, or
                                 A/D set in software) */
} os_fault_kind;

typedef enum os_fault_result {
    OS_FAULT_HANDLED,  /* retry the access */
    OS_FAULT_SIGNAL,   /* deliver signo/si_code at si_addr */
    OS_FAULT_OOM,      /* no frame left: the OOM killer's turn */
    OS_FAULT_FATAL,    /* corrupt page table or model error: SIGKILL */
} os_fault_result;

#define OS_SIGBUS 7
#define OS_SIGKILL 9
#define OS_SIGSEGV 11
#define OS_SEGV_MAPERR 1
#define OS_SEGV_ACCERR 2
#define OS_SEGV_PKUERR 4
#define OS_BUS_ADRERR 2
#define OS_SI_KERNEL 0x80

typedef struct os_fault_req {
    uint64_t addr;
    mmu_access access;
    bool user;            /* from user mode (false: a uaccess; the
                             decision is the same, only the caller's
                             fixup differs) */
    const mmu_fault *hw;  /* the model's record, or NULL (then decided
                             from the PTE) */
} os_fault_req;

typedef struct os_fault_outcome {
    os_fault_result result;
    os_fault_kind kind;   /* HANDLED */
    int signo, si_code;   /* SIGNAL */
    uint64_t si_addr;
    const char *why;      /* short reason, for reports */
} os_fault_outcome;

/* Decide and act as Linux's page-fault path; counts in as->faults. */
void os_fault_handle(os_aspace *as, const os_fault_req *rq,
                     os_fault_outcome *out);
const char *os_fault_kind_name(os_fault_kind k);
const char *os_fault_result_name(os_fault_result r);

/* ==== 8. User memory access ========================================== */

/*
 * copy_to_user and friends: every byte goes through mmu_translate() on
 * ctx (whose state must run `as`: os_aspace_make_ctx, or the vCPU's),
 * as a user-privilege access (same rights as Linux's supervisor access
 * with SMAP lifted / SUM set, WP on). A fault calls os_fault_handle (as
 * a kernel-mode fault) and retries; what Linux would fix up is -OS_EFAULT
 * (-OS_ENOMEM when frames ran out), with `done` bytes copied.
 */
typedef struct os_uaccess {
    os_aspace *as;
    mmu_ctx *ctx;
    mmu_ctx own;          /* used when init got ctx == NULL; the struct
                             must then stay where it is */
    size_t done;          /* bytes copied by the last call */
    os_fault_outcome last;/* why the last call stopped */
} os_uaccess;

void os_uaccess_init(os_uaccess *u, os_aspace *as, mmu_ctx *ctx);
int os_copy_to_user(os_uaccess *u, uint64_t dst, const void *src,
                    size_t len);
int os_copy_from_user(os_uaccess *u, void *dst, uint64_t src, size_t len);
int os_clear_user(os_uaccess *u, uint64_t dst, size_t len);
/* Linux semantics: the length (< n) when a NUL was copied, n when none
 * in n bytes, -OS_EFAULT. */
int64_t os_strncpy_from_user(os_uaccess *u, char *dst, uint64_t src,
                             size_t n);
/* A writer callback (arg: os_uaccess*) for builders of guest memory. */
typedef int (*os_user_write_fn)(void *arg, uint64_t va, const void *src,
                                size_t len);
int os_uaccess_write_cb(void *arg, uint64_t va, const void *src,
                        size_t len);

/* ==== 9. ELF executables ============================================= */

#define OS_ELF_EM_X86_64 62
#define OS_ELF_EM_RISCV 243

/* What a validated executable looks like (before relocation). */
typedef struct os_elf_info {
    uint16_t type;        /* 2 ET_EXEC, 3 ET_DYN (static-pie) */
    uint16_t machine;
    uint64_t entry;       /* e_entry, unrelocated */
    uint64_t phoff;
    uint16_t phnum, phentsize;
    unsigned nload;       /* PT_LOAD segments */
    uint64_t lo, hi;      /* page-rounded span of the PT_LOADs */
    uint64_t max_align;   /* largest power-of-two p_align (>= 4 KiB) */
    bool exec_stack;      /* PT_GNU_STACK with PF_X */
} os_elf_info;

/*
 * Validate an ELF64 little-endian static or static-pie executable for arch
 * (EM_X86_64 or EM_RISCV) against the layout: magic, class, data,
 * version, type, machine, program headers inside the file, PT_INTERP
 * refused (dynamically linked), PT_LOAD segments ordered, not
 * overlapping, inside the file and the user address range, offsets
 * congruent to addresses, entry inside a segment.
 * @return 0, or -OS_ENOEXEC / -OS_EIO with a one-line message in err.
 */
int os_elf_inspect(os_file *f, const os_layout *l, mmu_arch arch,
                   os_elf_info *info, char *err, size_t errlen);

typedef struct os_exec_params {
    const char *const *argv;  /* NULL-terminated */
    const char *const *envp;  /* NULL-terminated; NULL: none */
    const char *execfn;       /* AT_EXECFN; NULL: argv[0] */
    uint32_t uid, gid;        /* AT_UID = AT_EUID, AT_GID = AT_EGID */
    uint64_t hwcap;           /* 0: a default per architecture */
    uint64_t hwcap2;          /* x86 only */
    uint64_t minsigstksz;     /* AT_MINSIGSTKSZ; 0: omitted */
    const uint8_t *random;    /* 16 bytes for AT_RANDOM; NULL: made from
                                 random_seed */
    uint64_t random_seed;
} os_exec_params;

typedef struct os_exec_result {
    uint64_t pc, sp;          /* entry state; x86 rdx / RISC-V a0 = 0 */
    uint64_t load_bias;
    uint64_t phdr;            /* AT_PHDR */
    uint64_t execfn, random;  /* addresses of the strings on the stack */
    os_elf_info elf;
} os_exec_result;

/*
 * exec into as (freshly initialised): validate, map the PT_LOADs as
 * private file VMAs (bss anonymous, the partial page zeroed through u),
 * place a static-pie top-down in the mmap area, set brk after the highest
 * segment, create the stack VMA and write argc, argv, envp and auxv
 * through u (create_elf_tables()). u must run as.
 */
int os_elf_exec(os_aspace *as, os_uaccess *u, os_file *f,
                const os_exec_params *p, os_exec_result *out, char *err,
                size_t errlen);

/* The initial stack alone, through a writer callback (for other loaders
 * and tests). sp_out: the 16-byte aligned sp pointing at argc. */
int os_elf_build_stack(os_aspace *as, os_user_write_fn write, void *arg,
                       const os_exec_params *p, const os_elf_info *info,
                       uint64_t load_bias, uint64_t phdr,
                       os_exec_result *out, char *err, size_t errlen);

#endif
