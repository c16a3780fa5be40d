/*
 * os_internal.h - what the os/ files share and nobody else needs: page
 * arithmetic, the per-architecture PTE encoding of user pages, the file
 * page cache, and the address space's PTE primitives.
 */
#ifndef MMUEMU_OS_INTERNAL_H
#define MMUEMU_OS_INTERNAL_H

#include "mmuemu/os.h"

#define PAGE OS_PAGE_SIZE
#define PAGE_MASK (~(OS_PAGE_SIZE - 1))

static inline uint64_t page_down(uint64_t v)
{
    return v & PAGE_MASK;
}

/* Round up; a value in the last page of the address space wraps to 0. */
static inline uint64_t page_up(uint64_t v)
{
    return (v + PAGE - 1) & PAGE_MASK;
}

static inline bool page_aligned(uint64_t v)
{
    return (v & (PAGE - 1)) == 0;
}

/* A message in err (when there is room) and rc back: the loader's and
 * process creation's error returns (names.c). */
int os_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- the VMA tree (vma.c) --------------------------------------- */

/* Link v (bounds set, overlapping nothing) into the tree and the list. */
void vma_tree_insert(os_vmas *t, os_vma *v);
/* Unlink v (not freed). */
void vma_tree_remove(os_vmas *t, os_vma *v);
/* The free space just below v: from the previous VMA's end (0 for the
 * first) to vm_start_gap(v). */
uint64_t vma_own_gap(const os_vmas *t, const os_vma *v);

/* ---- PTEs of user pages (pte.c) ---------------------------------- */

/* A user leaf decoded, whatever the architecture. */
typedef struct os_pte {
    bool present;      /* x86 P / RISC-V V */
    bool protnone;     /* not present but holding a frame (PROT_NONE) */
    uint64_t pa;
    bool read, write, exec, user, accessed, dirty;
} os_pte;

void os_pte_decode(mmu_arch arch, uint64_t e, os_pte *out);
/*
 * The entry for frame pa in a VMA with vm_flags (Linux's protection_map
 * plus pte_mkwrite/pte_mkdirty): writable and dirty as asked, A set;
 * PROT_NONE VMAs give a non-present entry keeping the frame (Linux's
 * _PAGE_PROTNONE, the G bit with P/V clear).
 */
uint64_t os_pte_make(const mmu_pt *pt, uint64_t pa, uint32_t vm_flags,
                     bool writable, bool dirty);
/* Table flags for user page tables (x86 _PAGE_TABLE; RISC-V V). */
uint64_t os_pte_user_table(mmu_arch arch);
/* Would this entry allow the access (user mode)? */
bool os_pte_allows(const os_pte *p, mmu_access acc);
/* The entry with A (and D for writes) set. */
uint64_t os_pte_mkyoung(mmu_arch arch, uint64_t e, bool dirty);
/* The entry without A; without D. */
uint64_t os_pte_mkold(mmu_arch arch, uint64_t e);
uint64_t os_pte_mkclean(mmu_arch arch, uint64_t e);
/* The entry without W, and optionally without A and D (fork). */
uint64_t os_pte_wrprotect(mmu_arch arch, uint64_t e, bool mkold,
                          bool mkclean);

/* ---- the page cache (file.c) ------------------------------------- */

/*
 * The frame caching page idx of f, read from the file on first use; one
 * reference is added for the caller. @return 0, -OS_ENXIO past EOF,
 * -OS_ENOMEM, -OS_EIO.
 */
int os_file_get_page(os_file *f, os_frames *frames, uint64_t idx,
                     uint64_t *pa);
/* Is page idx cached (no reference taken)? */
bool os_file_peek_page(const os_file *f, uint64_t idx, uint64_t *pa);
void os_file_mark_dirty(os_file *f, uint64_t idx);
bool os_file_is_shmem(const os_file *f);

/* ---- address-space internals (aspace.c, aspace_pte.c) ------------ */

static inline mmu_arch as_arch(const os_aspace *as)
{
    return as->k->arch;
}

/* The user leaf for va (0: none, also when a table is missing). */
uint64_t as_get_pte(const os_aspace *as, uint64_t va);
/* Install e for va (creating tables). @return 0 or -OS_ENOMEM. */
int as_set_pte(os_aspace *as, uint64_t va, uint64_t e);
/* Map frame pa at va for VMA flags (a new PTE). */
int as_map_frame(os_aspace *as, uint64_t va, uint64_t pa, uint32_t flags,
                 bool writable, bool dirty);
void as_notify(os_aspace *as, uint64_t va, uint64_t len, os_pte_change c);
/*
 * Visit every non-empty user leaf in [start, end), skipping missing
 * tables wholesale. fn returns false to stop.
 */
typedef bool (*as_leaf_fn)(os_aspace *as, uint64_t va, uint64_t e,
                           void *arg);
void as_for_each_leaf(os_aspace *as, uint64_t start, uint64_t end,
                      as_leaf_fn fn, void *arg);
/* Clear the PTEs of [start, end) and drop their frames (zap). */
void as_zap(os_aspace *as, os_vma *v, uint64_t start, uint64_t end);
/* Re-derive the PTEs of [start, end) of v after its flags changed. */
void as_reprotect(os_aspace *as, os_vma *v, uint64_t start, uint64_t end);
/* Give v a reverse-map group (anon_vma_prepare: a compatible neighbour's
 * or a new one). */
void as_anon_prepare(os_aspace *as, os_vma *v);
/* do_brk_flags(): an anonymous area [start, end), growing the VMA that
 * ends at start when extend_prev and compatible. */
int as_brk_area(os_aspace *as, uint64_t start, uint64_t end, uint32_t flags,
                bool extend_prev);
/* Insert a VMA for [start, end). */
int as_insert_vma(os_aspace *as, uint64_t start, uint64_t end,
                  const os_vma_desc *d, bool merge, os_vma **out);

/* ---- the fault path (fault.c, fault_pte.c) ----------------------- */

typedef struct fault {
    os_aspace *as;
    os_vma *v;
    const os_fault_req *rq;
    os_fault_outcome *out;
    uint64_t va;          /* the page */
    bool write;
} fault;

void fault_give_signal(fault *f, int signo, int code, const char *why);
void fault_handled(fault *f, os_fault_kind kind);
void fault_oom(fault *f);
void fault_fatal(fault *f, const char *why);
/* Step 5: the VMA allows the access; act on the PTE. */
void fault_handle_pte(fault *f, bool grew);

#endif
