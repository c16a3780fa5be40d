/*
 * builder.c - the page-table builder (see mmuemu/builder.h).
 */
#include "mmuemu/builder.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

#include <string.h>

#define PAGE_4K UINT64_C(4096)
#define NAPOT_64K UINT64_C(0x10000)

bool mmu_bump_alloc_frame(void *arg, uint64_t *pa)
{
    mmu_bump_alloc *b = arg;
    if (b->next + PAGE_4K > b->end || b->next + PAGE_4K < b->next)
        return false;
    void *p = mmu_phys_ptr(b->mem, b->next, PAGE_4K);
    if (p == NULL)
        return false;
    memset(p, 0, PAGE_4K);
    *pa = b->next;
    b->next += PAGE_4K;
    return true;
}

static const mmu_mode_info *info(const mmu_pt *pt)
{
    return mmu_mode_get(pt->mode);
}

static bool is_x86(const mmu_pt *pt)
{
    return info(pt)->arch == MMU_ARCH_X86;
}

static uint64_t entry_target(const mmu_pt *pt, uint64_t e)
{
    if (!is_x86(pt)) {
        uint64_t ppn = pt->mode == MMU_MODE_SV32
                           ? (e & RV32_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT
                           : (e & RV_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT;
        return ppn << 12;
    }
    if (pt->mode == MMU_MODE_X86_32)
        return e & UINT64_C(0xfffff000);
    return e & X86_PTE_ADDR_MASK;
}

static bool entry_valid(const mmu_pt *pt, uint64_t e)
{
    return is_x86(pt) ? (e & X86_PTE_P) != 0 : (e & RV_PTE_V) != 0;
}

static bool entry_is_leaf(const mmu_pt *pt, unsigned level, uint64_t e)
{
    if (!entry_valid(pt, e))
        return false;
    if (!is_x86(pt))
        return (e & (RV_PTE_R | RV_PTE_X)) != 0;
    if (level == 0)
        return true;
    if (info(pt)->root_in_regs && level == info(pt)->levels - 1u)
        return false;
    return (e & X86_PTE_PS) != 0;
}

static uint64_t make_table(const mmu_pt *pt, unsigned level, uint64_t pa,
                           uint64_t flags)
{
    if (!is_x86(pt))
        return ((pa >> 12) << RV_PTE_PPN_SHIFT) | flags;
    if (info(pt)->root_in_regs && level == info(pt)->levels - 1u)
        return pa | X86_PTE_P; /* PDPTE: only P; bits 2:1, 8:5 reserved */
    return pa | flags;
}

uint64_t mmu_pt_make_leaf(const mmu_pt *pt, unsigned level, uint64_t pa,
                          uint64_t flags)
{
    if (!is_x86(pt))
        return ((pa >> 12) << RV_PTE_PPN_SHIFT) | flags;
    if (level == 0)
        return pa | flags;
    if (pt->mode == MMU_MODE_X86_32) /* 4 MiB, PSE-36: PA 39:32 in 20:13 */
        return (pa & UINT64_C(0xffc00000)) | (((pa >> 32) & 0xff) << 13) |
               flags | X86_PTE_PS;
    return pa | flags | X86_PTE_PS;
}

static uint64_t entry_addr_in(const mmu_pt *pt, uint64_t table, uint64_t va,
                              unsigned level)
{
    return table + (uint64_t)mmu_mode_index(info(pt), va, level) *
                       info(pt)->pte_size;
}

/*
 * Descend from the root to the table holding `level`'s entry for va.
 * With create, missing tables are allocated with `table` flags.
 */
static int descend(const mmu_pt *pt, uint64_t va, unsigned level, bool create,
                   uint64_t table_flags, uint64_t *eaddr)
{
    const mmu_mode_info *mi = info(pt);
    unsigned sz = mi->pte_size;
    uint64_t table = pt->root;
    for (unsigned l = mi->levels - 1u; l > level; l--) {
        uint64_t ea = entry_addr_in(pt, table, va, l), e;
        if (!mmu_phys_read_pte(pt->mem, ea, sz, &e))
            return MMU_PT_EFAULT;
        if (entry_is_leaf(pt, l, e))
            return MMU_PT_EEXIST;
        if (!entry_valid(pt, e)) {
            uint64_t frame;
            if (!create)
                return MMU_PT_ENOENT;
            if (pt->alloc == NULL || !pt->alloc(pt->alloc_arg, &frame))
                return MMU_PT_ENOMEM;
            e = make_table(pt, l, frame, table_flags);
            if (!mmu_phys_write_pte(pt->mem, ea, sz, e))
                return MMU_PT_EFAULT;
        }
        table = entry_target(pt, e);
    }
    *eaddr = entry_addr_in(pt, table, va, level);
    return MMU_PT_OK;
}

int mmu_pt_init(mmu_pt *pt, mmu_phys *mem, mmu_paging_mode mode,
                mmu_frame_alloc_fn alloc, void *alloc_arg)
{
    const mmu_mode_info *mi = mmu_mode_get(mode);
    if (mi == NULL || mi->levels == 0)
        return MMU_PT_EINVAL;
    pt->mem = mem;
    pt->mode = mode;
    pt->alloc = alloc;
    pt->alloc_arg = alloc_arg;
    if (alloc == NULL || !alloc(alloc_arg, &pt->root))
        return MMU_PT_ENOMEM;
    return MMU_PT_OK;
}

/* The level whose entries map `size` bytes, or -1. */
static int level_for_size(const mmu_pt *pt, uint64_t size)
{
    const mmu_mode_info *mi = info(pt);
    for (unsigned l = 0; l < mi->levels; l++)
        if ((mi->leaf_levels & (1u << l)) &&
            (UINT64_C(1) << mmu_mode_shift(mi, l)) == size)
            return (int)l;
    return -1;
}

static bool aligned(uint64_t v, uint64_t size)
{
    return (v & (size - 1)) == 0;
}

static int map_napot(mmu_pt *pt, uint64_t va, uint64_t pa, uint64_t leaf,
                     uint64_t table)
{
    uint64_t e = ((((pa >> 12) & ~UINT64_C(0xf)) | 0x8) << RV_PTE_PPN_SHIFT) |
                 leaf | RV_PTE_N;
    for (unsigned i = 0; i < 16; i++) {
        int rc = mmu_pt_set_entry(pt, va + i * PAGE_4K, 0, e, table);
        if (rc != MMU_PT_OK)
            return rc;
    }
    return MMU_PT_OK;
}

int mmu_pt_map(mmu_pt *pt, uint64_t va, uint64_t pa, uint64_t len,
               uint64_t page_size, uint64_t leaf, uint64_t table)
{
    bool napot = !is_x86(pt) && pt->mode != MMU_MODE_SV32 &&
                 page_size == NAPOT_64K;
    int level = napot ? 0 : level_for_size(pt, page_size);
    if (level < 0 || !aligned(va, page_size) || !aligned(pa, page_size) ||
        !aligned(len, page_size))
        return MMU_PT_EINVAL;
    if (pt->mode == MMU_MODE_X86_32 && ((leaf | table) >> 32) != 0)
        return MMU_PT_EINVAL;
    for (uint64_t off = 0; off < len; off += page_size) {
        int rc;
        if (napot) {
            rc = map_napot(pt, va + off, pa + off, leaf, table);
        } else {
            uint64_t ea, old;
            unsigned lv = (unsigned)level;
            rc = descend(pt, va + off, lv, true, table, &ea);
            if (rc == MMU_PT_OK && !mmu_phys_read_pte(pt->mem, ea,
                                                      info(pt)->pte_size, &old))
                rc = MMU_PT_EFAULT;
            if (rc == MMU_PT_OK && lv > 0 && entry_valid(pt, old) &&
                !entry_is_leaf(pt, lv, old))
                rc = MMU_PT_EEXIST;
            if (rc == MMU_PT_OK &&
                !mmu_phys_write_pte(pt->mem, ea, info(pt)->pte_size,
                                    mmu_pt_make_leaf(pt, lv, pa + off, leaf)))
                rc = MMU_PT_EFAULT;
        }
        if (rc != MMU_PT_OK)
            return rc;
    }
    return MMU_PT_OK;
}

/* Find the leaf mapping va: its level and entry address. */
static int find_leaf(const mmu_pt *pt, uint64_t va, unsigned *level,
                     uint64_t *eaddr, uint64_t *entry)
{
    const mmu_mode_info *mi = info(pt);
    uint64_t table = pt->root;
    for (unsigned l = mi->levels; l-- > 0;) {
        uint64_t ea = entry_addr_in(pt, table, va, l), e;
        if (!mmu_phys_read_pte(pt->mem, ea, mi->pte_size, &e))
            return MMU_PT_EFAULT;
        if (!entry_valid(pt, e))
            return MMU_PT_ENOENT;
        if (entry_is_leaf(pt, l, e)) {
            *level = l;
            *eaddr = ea;
            *entry = e;
            return MMU_PT_OK;
        }
        table = entry_target(pt, e);
    }
    return MMU_PT_ENOENT;
}

typedef int (*leaf_op)(mmu_pt *pt, uint64_t ea, uint64_t e, uint64_t set,
                       uint64_t clear);

static int for_each_leaf(mmu_pt *pt, uint64_t va, uint64_t len, leaf_op op,
                         uint64_t set, uint64_t clear)
{
    if (!aligned(va, PAGE_4K) || !aligned(len, PAGE_4K))
        return MMU_PT_EINVAL;
    uint64_t end = va + len;
    while (va < end) {
        unsigned level;
        uint64_t ea, e, size = PAGE_4K;
        int rc = find_leaf(pt, va, &level, &ea, &e);
        if (rc == MMU_PT_EFAULT)
            return rc;
        if (rc == MMU_PT_OK) {
            size = UINT64_C(1) << mmu_mode_shift(info(pt), level);
            if (!aligned(va, size) || end - va < size)
                return MMU_PT_EINVAL; /* would split a large page */
            rc = op(pt, ea, e, set, clear);
            if (rc != MMU_PT_OK)
                return rc;
        }
        va += size;
    }
    return MMU_PT_OK;
}

static int op_clear(mmu_pt *pt, uint64_t ea, uint64_t e, uint64_t set,
                    uint64_t clear)
{
    (void)e, (void)set, (void)clear;
    return mmu_phys_write_pte(pt->mem, ea, info(pt)->pte_size, 0)
               ? MMU_PT_OK
               : MMU_PT_EFAULT;
}

static int op_protect(mmu_pt *pt, uint64_t ea, uint64_t e, uint64_t set,
                      uint64_t clear)
{
    uint64_t v = (e & ~clear) | set;
    return mmu_phys_write_pte(pt->mem, ea, info(pt)->pte_size, v)
               ? MMU_PT_OK
               : MMU_PT_EFAULT;
}

int mmu_pt_unmap(mmu_pt *pt, uint64_t va, uint64_t len)
{
    return for_each_leaf(pt, va, len, op_clear, 0, 0);
}

int mmu_pt_protect(mmu_pt *pt, uint64_t va, uint64_t len, uint64_t set,
                   uint64_t clear)
{
    return for_each_leaf(pt, va, len, op_protect, set, clear);
}

int mmu_pt_entry_addr(const mmu_pt *pt, uint64_t va, unsigned level,
                      uint64_t *addr)
{
    if (level >= info(pt)->levels)
        return MMU_PT_EINVAL;
    return descend(pt, va, level, false, 0, addr);
}

int mmu_pt_get_entry(const mmu_pt *pt, uint64_t va, unsigned level,
                     uint64_t *value)
{
    uint64_t ea;
    int rc = mmu_pt_entry_addr(pt, va, level, &ea);
    if (rc != MMU_PT_OK)
        return rc;
    return mmu_phys_read_pte(pt->mem, ea, info(pt)->pte_size, value)
               ? MMU_PT_OK
               : MMU_PT_EFAULT;
}

int mmu_pt_set_entry(mmu_pt *pt, uint64_t va, unsigned level, uint64_t value,
                     uint64_t table)
{
    uint64_t ea;
    if (level >= info(pt)->levels)
        return MMU_PT_EINVAL;
    int rc = descend(pt, va, level, true, table, &ea);
    if (rc != MMU_PT_OK)
        return rc;
    return mmu_phys_write_pte(pt->mem, ea, info(pt)->pte_size, value)
               ? MMU_PT_OK
               : MMU_PT_EFAULT;
}

uint64_t mmu_pt_root_reg(const mmu_pt *pt)
{
    switch (pt->mode) {
    case MMU_MODE_SV32:
        return (UINT64_C(1) << RV32_SATP_MODE_SHIFT) | (pt->root >> 12);
    case MMU_MODE_SV39:
        return ((uint64_t)RV_SATP_MODE_SV39 << RV64_SATP_MODE_SHIFT) |
               (pt->root >> 12);
    case MMU_MODE_SV48:
        return ((uint64_t)RV_SATP_MODE_SV48 << RV64_SATP_MODE_SHIFT) |
               (pt->root >> 12);
    case MMU_MODE_SV57:
        return ((uint64_t)RV_SATP_MODE_SV57 << RV64_SATP_MODE_SHIFT) |
               (pt->root >> 12);
    case MMU_MODE_X86_32:
    case MMU_MODE_X86_PAE:
    case MMU_MODE_X86_4LEVEL:
    case MMU_MODE_X86_5LEVEL:
    case MMU_MODE_NONE:
    case MMU_MODE_COUNT:
        break;
    }
    return pt->root;
}
