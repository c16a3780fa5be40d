/*
 * x86_harness.h - small helpers shared by the test_x86_*.c files: a test
 * machine for one mapping, direct access to the entries on its path, and
 * a mismatch counter that reports every difference with the case's
 * description before failing the test.
 *
 * Header-only (static inline); built on tests/util/testutil.h.
 */
#ifndef MMUEMU_TESTS_X86_HARNESS_H
#define MMUEMU_TESTS_X86_HARNESS_H

#include "testutil.h"

#include <stdio.h>

#define XH_RAM_SIZE   UINT64_C(0x200000) /* 2 MiB of guest RAM at PA 0 */
#define XH_TABLES_OFF UINT64_C(0x100000) /* page tables live in the top MiB */
#define XH_TABLES_LEN UINT64_C(0x100000)

/* Entry bits the tests rewrite; everything else (address, PS) is kept. */
#define XH_FLAG_BITS (X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A | \
                      X86_PTE_D | X86_PTE_NX)

/* The entries translating one virtual address, root first. */
typedef struct xh_path {
    tu_machine *t;
    mmu_paging_mode mode;
    unsigned top, leaf;            /* levels: root and the leaf */
    bool pae;                      /* top is the PDPTE (register-loaded) */
    unsigned pte_size;
    uint64_t addr[MMU_MAX_LEVELS]; /* PA of the entry at each level */
    uint64_t base[MMU_MAX_LEVELS]; /* its value without XH_FLAG_BITS */
} xh_path;

static inline void xh_machine(tu_machine *t, mmu_paging_mode mode)
{
    tu_machine_init(t, mode, 0, XH_RAM_SIZE, XH_TABLES_OFF, XH_TABLES_LEN);
}

/* The level whose leaves map `page_size` bytes in `mode`. */
static inline unsigned xh_level_for(mmu_paging_mode mode, uint64_t page_size)
{
    const mmu_mode_info *mi = mmu_mode_get(mode);
    for (unsigned l = 0; l < mi->levels; l++)
        if ((UINT64_C(1) << mmu_mode_shift(mi, l)) == page_size)
            return l;
    fail_msg("no level maps 0x%llx bytes", (unsigned long long)page_size);
    return 0;
}

static inline const char *xh_level_name(mmu_paging_mode mode, unsigned l)
{
    static const char *const n64[] = {"PTE", "PDE", "PDPTE", "PML4E",
                                      "PML5E"};
    if (mode == MMU_MODE_X86_32)
        return l == 0 ? "PTE" : "PDE";
    return l < MMU_MAX_LEVELS ? n64[l] : "?";
}

/*
 * Map va -> pa with one page of page_size (leaf and tables P|RW|US), load
 * the PAE PDPTEs, and record the path.
 */
static inline void xh_map(xh_path *p, tu_machine *t, uint64_t va,
                          uint64_t pa, uint64_t page_size)
{
    const mmu_mode_info *mi = mmu_mode_get(t->pt.mode);
    uint64_t rwu = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
    *p = (xh_path){0};
    assert_int_equal(mmu_pt_map(&t->pt, va, pa, page_size, page_size, rwu,
                                rwu),
                     MMU_PT_OK);
    p->t = t;
    p->mode = t->pt.mode;
    p->top = mi->levels - 1u;
    p->leaf = xh_level_for(p->mode, page_size);
    p->pae = mi->root_in_regs;
    p->pte_size = mi->pte_size;
    for (unsigned l = p->leaf; l <= p->top; l++) {
        uint64_t v;
        assert_int_equal(mmu_pt_entry_addr(&t->pt, va, l, &p->addr[l]),
                         MMU_PT_OK);
        assert_true(mmu_phys_read_pte(&t->mem, p->addr[l], p->pte_size, &v));
        p->base[l] = v & ~XH_FLAG_BITS;
    }
    if (p->pae)
        tu_x86_load_pdptes(t);
}

static inline uint64_t xh_get(const xh_path *p, unsigned level)
{
    uint64_t v = 0;
    assert_true(mmu_phys_read_pte(&p->t->mem, p->addr[level], p->pte_size,
                                  &v));
    return v;
}

static inline void xh_set(xh_path *p, unsigned level, uint64_t v)
{
    assert_true(mmu_phys_write_pte(&p->t->mem, p->addr[level], p->pte_size,
                                   v));
}

/* Rewrite the flag bits of one entry, keeping address and PS. */
static inline void xh_set_flags(xh_path *p, unsigned level, uint64_t flags)
{
    xh_set(p, level, p->base[level] | flags);
}

static inline bool xh_translate(tu_machine *t, uint64_t va, mmu_access acc,
                                unsigned cpl, unsigned flags, mmu_result *res,
                                mmu_fault *flt)
{
    *res = (mmu_result){0};
    *flt = (mmu_fault){0};
    return tu_translate(t, va, acc, cpl, flags, res, flt);
}

/* ---- mismatch counter ---------------------------------------------- */

typedef struct xh_check {
    unsigned long cases, bad_cases, shown;
    bool case_bad;
    char desc[320];
} xh_check;

#define XH_SHOW_MAX 40

static inline void xh_case_begin(xh_check *ck)
{
    ck->cases++;
    ck->case_bad = false;
    ck->desc[0] = '\0';
}

/* `describe` fills ck->desc lazily, only when something mismatched. */
typedef void (*xh_describe_fn)(const void *arg, char *buf, size_t len);

static inline void xh_mismatch(xh_check *ck, xh_describe_fn describe,
                               const void *arg, const char *what,
                               uint64_t got, uint64_t want)
{
    if (!ck->case_bad) {
        ck->case_bad = true;
        ck->bad_cases++;
        if (describe != NULL)
            describe(arg, ck->desc, sizeof ck->desc);
    }
    if (ck->shown < XH_SHOW_MAX) {
        ck->shown++;
        print_error("MISMATCH [%s] %s: got 0x%llx want 0x%llx\n", ck->desc,
                    what, (unsigned long long)got, (unsigned long long)want);
    }
}

#define XH_EQ(ck, fn, arg, what, got, want)                                 \
    do {                                                                    \
        uint64_t g__ = (uint64_t)(got), w__ = (uint64_t)(want);             \
        if (g__ != w__)                                                     \
            xh_mismatch((ck), (fn), (arg), (what), g__, w__);               \
    } while (0)

/* Print the outcome. @return false if any case mismatched. */
static inline bool xh_report(const xh_check *ck, const char *what)
{
    if (ck->bad_cases != 0) {
        print_error("%s: %lu of %lu cases MISMATCHED\n", what, ck->bad_cases,
                    ck->cases);
        return false;
    }
    print_message("%s: %lu cases, all match\n", what, ck->cases);
    return true;
}

/* Fail the test if any case mismatched; otherwise report the count. */
static inline void xh_finish(const xh_check *ck, const char *what)
{
    if (!xh_report(ck, what))
        fail_msg("%s: mismatches (first %lu shown above)", what, ck->shown);
}

/* ---- one-access expectations for named cases -------------------------- */

static inline void xh_describe_str(const void *arg, char *buf, size_t len)
{
    snprintf(buf, len, "%s", (const char *)arg);
}

/*
 * Translate and expect success with this PA and page size.
 * @return true if it translated.
 */
static inline bool xh_expect_ok(xh_check *ck, const char *name, tu_machine *t,
                                uint64_t va, mmu_access acc, unsigned cpl,
                                unsigned flags, uint64_t pa, uint64_t size,
                                mmu_result *res)
{
    mmu_fault flt;
    xh_case_begin(ck);
    bool ok = xh_translate(t, va, acc, cpl, flags, res, &flt);
    XH_EQ(ck, xh_describe_str, name, "ok", ok, true);
    if (!ok) {
        XH_EQ(ck, xh_describe_str, name, "(fault kind)", flt.kind, 0);
        XH_EQ(ck, xh_describe_str, name, "(fault code)", flt.code, 0);
        return false;
    }
    XH_EQ(ck, xh_describe_str, name, "pa", res->pa, pa);
    XH_EQ(ck, xh_describe_str, name, "page_size", res->page_size, size);
    return true;
}

/* Translate and expect #PF with this error code, stopping at `level`
 * (-2: do not check the level). */
static inline bool xh_expect_pf(xh_check *ck, const char *name, tu_machine *t,
                                uint64_t va, mmu_access acc, unsigned cpl,
                                unsigned flags, uint32_t code, int level)
{
    mmu_result res;
    mmu_fault flt;
    xh_case_begin(ck);
    bool ok = xh_translate(t, va, acc, cpl, flags, &res, &flt);
    XH_EQ(ck, xh_describe_str, name, "ok", ok, false);
    if (ok) {
        XH_EQ(ck, xh_describe_str, name, "(pa)", res.pa, 0);
        return false;
    }
    XH_EQ(ck, xh_describe_str, name, "fault kind", flt.kind, MMU_FAULT_PAGE);
    XH_EQ(ck, xh_describe_str, name, "vector", flt.vector, X86_VEC_PF);
    XH_EQ(ck, xh_describe_str, name, "error code", flt.code, code);
    XH_EQ(ck, xh_describe_str, name, "cr2", flt.addr, va);
    if (level != -2)
        XH_EQ(ck, xh_describe_str, name, "fault level", (int64_t)flt.level,
              (int64_t)level);
    return true;
}

#endif
