/*
 * test_rv_harness.h - helpers shared by the test_rv_*.c files: the Sv
 * geometry as the privileged spec states it (kept apart from the model's
 * mode table on purpose), a small RISC-V test machine with one mapping
 * whose entries the tests rewrite directly, an expected-outcome record and
 * a mismatch counter that prints want/got in hex with the case's
 * description before failing the test.
 *
 * Header-only (static inline); built on tests/util/testutil.h.
 *
 * Machine layout (guest RAM at PA 0, 1 MiB):
 *   0x00000-0x0ffff  never written: a zero frame for "pointer" PTEs
 *   0x10000-0x7ffff  page-table frames (bump allocator)
 *   0x80000-0xfffff  data frames, zero
 */
#ifndef MMUEMU_TESTS_RV_HARNESS_H
#define MMUEMU_TESTS_RV_HARNESS_H

#include "testutil.h"

#include <stdio.h>

#define RH_RAM_BASE   UINT64_C(0)
#define RH_RAM_SIZE   UINT64_C(0x100000)
#define RH_TABLES_OFF UINT64_C(0x10000)
#define RH_TABLES_LEN UINT64_C(0x70000)
#define RH_DATA_PA    UINT64_C(0x80000)

#define RH_FLAGS_MASK UINT64_C(0xff) /* V R W X U G A D */

/* ---- Sv geometry, from the privileged spec's Sv32/39/48/57 sections -- */

typedef struct rh_geom {
    mmu_paging_mode mode;
    const char *name;
    unsigned xlen;      /* 32 (Sv32 on RV32) or 64 */
    unsigned levels;    /* LEVELS */
    unsigned vpn_bits;  /* bits of each VPN field */
    unsigned pte_size;  /* PTESIZE */
    unsigned va_bits;   /* translated VA width */
    unsigned pa_bits;   /* PA width */
} rh_geom;

#define RH_NGEOMS 4u

static inline const rh_geom *rh_geom_at(unsigned i)
{
    static const rh_geom g[RH_NGEOMS] = {
        {MMU_MODE_SV32, "sv32", 32, 2, 10, 4, 32, 34},
        {MMU_MODE_SV39, "sv39", 64, 3, 9, 8, 39, 56},
        {MMU_MODE_SV48, "sv48", 64, 4, 9, 8, 48, 56},
        {MMU_MODE_SV57, "sv57", 64, 5, 9, 8, 57, 56},
    };
    assert_true(i < RH_NGEOMS);
    return &g[i];
}

static inline const rh_geom *rh_geom_of(mmu_paging_mode mode)
{
    for (unsigned i = 0; i < RH_NGEOMS; i++)
        if (rh_geom_at(i)->mode == mode)
            return rh_geom_at(i);
    fail_msg("not a RISC-V paging mode: %d", (int)mode);
    return NULL;
}

static inline uint64_t rh_mask(unsigned bits)
{
    return bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
}

/* Page-offset bits of a leaf at `level`: 12 + level * VPN bits. */
static inline unsigned rh_shift(const rh_geom *g, unsigned level)
{
    return 12u + level * g->vpn_bits;
}

static inline uint64_t rh_page_size(const rh_geom *g, unsigned level)
{
    return UINT64_C(1) << rh_shift(g, level);
}

/* va.vpn[i] */
static inline uint64_t rh_vpn(const rh_geom *g, uint64_t va, unsigned i)
{
    return (va >> rh_shift(g, i)) & rh_mask(g->vpn_bits);
}

/* Width of pte.ppn[i]: VPN-sized except the top field, which takes the
 * rest of the PA (Sv32 ppn[1] 12 bits, Sv39 ppn[2] 26 bits, ...). */
static inline unsigned rh_ppn_bits(const rh_geom *g, unsigned i)
{
    if (i + 1u < g->levels)
        return g->vpn_bits;
    return g->pa_bits - 12u - i * g->vpn_bits;
}

/* The full PPN of a PTE (Sv32: bits 31:10; Sv39+: bits 53:10). */
static inline uint64_t rh_pte_ppn(const rh_geom *g, uint64_t pte)
{
    return (pte >> 10) & rh_mask(g->pa_bits - 12u);
}

/* pte.ppn[i] */
static inline uint64_t rh_ppn_field(const rh_geom *g, uint64_t pte,
                                    unsigned i)
{
    return (rh_pte_ppn(g, pte) >> (i * g->vpn_bits)) &
           rh_mask(rh_ppn_bits(g, i));
}

/* A PTE for physical address `pa` with the given low/high bits. */
static inline uint64_t rh_pte(uint64_t pa, uint64_t bits)
{
    return ((pa >> 12) << 10) | bits;
}

/* Sign-extend a VA from the mode's width (RV64); Sv32 VAs are 32-bit. */
static inline uint64_t rh_canon(const rh_geom *g, uint64_t va)
{
    if (g->xlen == 32)
        return va & UINT64_C(0xffffffff);
    va &= rh_mask(g->va_bits);
    if (va >> (g->va_bits - 1u))
        va |= ~rh_mask(g->va_bits);
    return va;
}

/* A VA with every VPN field and the offset non-zero; `high` picks the
 * upper (sign-extended) half of the space. */
static inline uint64_t rh_va(const rh_geom *g, bool high)
{
    uint64_t raw = UINT64_C(0x5b3c9e7d2a61f4c8) & rh_mask(g->va_bits - 1u);
    if (high)
        raw |= UINT64_C(1) << (g->va_bits - 1u);
    return rh_canon(g, raw);
}

/* [pa, pa+len) inside the test RAM (an address below the base wraps to a
 * huge offset). */
static inline bool rh_in_ram(uint64_t pa, uint64_t len)
{
    uint64_t off = pa - RH_RAM_BASE;
    return off < RH_RAM_SIZE && len <= RH_RAM_SIZE - off;
}

/* ---- machine with one path ------------------------------------------ */

typedef struct rh_path {
    tu_machine *t;
    const rh_geom *g;
    uint64_t va;
    unsigned leaf;                  /* level of the entry under test */
    uint64_t addr[MMU_MAX_LEVELS];  /* PA of the entry at each level */
    uint64_t orig[MMU_MAX_LEVELS];  /* value as built */
} rh_path;

/* A fresh machine in `g`'s mode (Svnapot, Svpbmt, Svadu, ADUE, PBMTE). */
static inline void rh_machine(tu_machine *t, const rh_geom *g)
{
    tu_machine_init(t, g->mode, RH_RAM_BASE, RH_RAM_SIZE, RH_TABLES_OFF,
                    RH_TABLES_LEN);
    assert_int_equal(t->ctx.st.rv.xlen, g->xlen);
}

/*
 * Build the path for va down to `leaf` (tables created with `table`
 * flags, V at least) and put `pte` at that level. Records every entry's
 * address and value.
 */
static inline void rh_build(rh_path *p, tu_machine *t, const rh_geom *g,
                            uint64_t va, unsigned leaf, uint64_t pte,
                            uint64_t table)
{
    p->t = t;
    p->g = g;
    p->va = va;
    p->leaf = leaf;
    assert_int_equal(mmu_pt_set_entry(&t->pt, va, leaf, pte, table),
                     MMU_PT_OK);
    for (unsigned l = leaf; l < g->levels; l++) {
        assert_int_equal(mmu_pt_entry_addr(&t->pt, va, l, &p->addr[l]),
                         MMU_PT_OK);
        assert_true(mmu_phys_read_pte(&t->mem, p->addr[l], g->pte_size,
                                      &p->orig[l]));
    }
}

static inline uint64_t rh_get(const rh_path *p, unsigned level)
{
    uint64_t v = 0;
    assert_true(mmu_phys_read_pte(&p->t->mem, p->addr[level],
                                  p->g->pte_size, &v));
    return v;
}

static inline void rh_set(rh_path *p, unsigned level, uint64_t v)
{
    assert_true(mmu_phys_write_pte(&p->t->mem, p->addr[level],
                                   p->g->pte_size, v));
}

/* Take the entries as they are now as the path's expected contents. */
static inline void rh_snapshot(rh_path *p)
{
    for (unsigned l = p->leaf; l < p->g->levels; l++)
        p->orig[l] = rh_get(p, l);
}

/* Put every entry of the path back as built (or as snapshotted). */
static inline void rh_reset(rh_path *p)
{
    for (unsigned l = p->leaf; l < p->g->levels; l++)
        rh_set(p, l, p->orig[l]);
}

static inline bool rh_translate(tu_machine *t, uint64_t va, mmu_access acc,
                                unsigned priv, mmu_result *res,
                                mmu_fault *flt)
{
    *res = (mmu_result){0};
    *flt = (mmu_fault){0};
    return tu_translate(t, va, acc, priv, 0, res, flt);
}

/* ---- names ------------------------------------------------------------ */

/* "VRWXUGAD" with '-' for clear bits, plus the high bits if any. */
static inline void rh_flags_str(uint64_t pte, char *buf, size_t len)
{
    static const char letters[] = "VRWXUGAD";
    char f[9];
    for (unsigned i = 0; i < 8; i++)
        f[i] = (pte >> i) & 1 ? letters[i] : '-';
    f[8] = '\0';
    if (pte >> 54)
        snprintf(buf, len, "%s|hi=0x%llx", f,
                 (unsigned long long)(pte >> 54));
    else
        snprintf(buf, len, "%s", f);
}

static inline const char *rh_priv_name(unsigned priv)
{
    switch (priv) {
    case RV_PRIV_U:
        return "U";
    case RV_PRIV_S:
        return "S";
    case RV_PRIV_M:
        return "M";
    default:
        return "?";
    }
}

/* Page-fault / access-fault cause for an access type. */
static inline uint32_t rh_cause(mmu_access acc, bool page)
{
    switch (acc) {
    case MMU_READ:
        return page ? RV_CAUSE_LOAD_PAGE : RV_CAUSE_LOAD_ACCESS;
    case MMU_WRITE:
        return page ? RV_CAUSE_STORE_PAGE : RV_CAUSE_STORE_ACCESS;
    case MMU_FETCH:
        return page ? RV_CAUSE_FETCH_PAGE : RV_CAUSE_FETCH_ACCESS;
    }
    return 0;
}

/* ---- expected outcome ------------------------------------------------- */

typedef struct rh_want {
    mmu_fault_kind kind;   /* MMU_FAULT_NONE: the translation succeeds */
    uint32_t cause;        /* fault: scause */
    uint64_t tval;         /* fault: stval */
    bool untranslated;     /* success with no translation (M, Bare) */
    uint64_t pa, size;     /* success */
    unsigned level;        /* success: level of the leaf */
    bool global;           /* success */
    uint64_t leaf_after;   /* the entry under test, in memory, afterwards */
} rh_want;

static inline rh_want rh_want_ok(uint64_t pa, uint64_t size, unsigned level,
                                 bool global, uint64_t leaf_after)
{
    rh_want w = {.kind = MMU_FAULT_NONE, .pa = pa, .size = size,
                 .level = level, .global = global, .leaf_after = leaf_after};
    return w;
}

static inline rh_want rh_want_fault(mmu_fault_kind kind, mmu_access acc,
                                    uint64_t va, uint64_t leaf_after)
{
    rh_want w = {.kind = kind,
                 .cause = rh_cause(acc, kind == MMU_FAULT_PAGE),
                 .tval = va, .leaf_after = leaf_after};
    return w;
}

/* ---- mismatch counter -------------------------------------------------- */

typedef struct rh_check {
    unsigned long cases, bad_cases, shown;
    bool case_bad;
    char desc[256];
    char first[512];      /* first mismatch, for fail_msg */
} rh_check;

#define RH_SHOW_MAX 40

/* Describes the current case, called only once something mismatched. */
typedef void (*rh_describe_fn)(const void *arg, char *buf, size_t len);

static inline void rh_case_begin(rh_check *ck)
{
    ck->cases++;
    ck->case_bad = false;
}

static inline void rh_mismatch(rh_check *ck, rh_describe_fn describe,
                               const void *arg, const char *what,
                               uint64_t got, uint64_t want)
{
    if (!ck->case_bad) {
        ck->case_bad = true;
        ck->bad_cases++;
        describe(arg, ck->desc, sizeof ck->desc);
    }
    if (ck->first[0] == '\0')
        snprintf(ck->first, sizeof ck->first,
                 "[%s] %s: want 0x%llx got 0x%llx", ck->desc, what,
                 (unsigned long long)want, (unsigned long long)got);
    if (ck->shown < RH_SHOW_MAX) {
        ck->shown++;
        print_error("MISMATCH [%s] %s: want 0x%llx got 0x%llx\n", ck->desc,
                    what, (unsigned long long)want, (unsigned long long)got);
    }
}

#define RH_EQ(ck, fn, arg, what, got, want)                                 \
    do {                                                                    \
        uint64_t g__ = (uint64_t)(got), w__ = (uint64_t)(want);             \
        if (g__ != w__)                                                     \
            rh_mismatch((ck), (fn), (arg), (what), g__, w__);               \
    } while (0)

/*
 * Compare one translation against `w`: outcome, cause and tval or PA,
 * size, level and G; the entry under test in memory; and every other
 * entry of the path unchanged (A/D are only ever set in the leaf).
 */
static inline void rh_compare(rh_check *ck, rh_describe_fn fn,
                              const void *arg, const rh_path *p,
                              const rh_want *w, bool ok,
                              const mmu_result *res, const mmu_fault *flt)
{
    RH_EQ(ck, fn, arg, "ok", ok, w->kind == MMU_FAULT_NONE);
    if (ok && w->kind == MMU_FAULT_NONE) {
        if (w->untranslated) {
            RH_EQ(ck, fn, arg, "pa (untranslated)", res->pa, w->pa);
            RH_EQ(ck, fn, arg, "mode", res->mode, MMU_MODE_NONE);
            RH_EQ(ck, fn, arg, "walk steps", res->walk.n, 0);
        } else {
            RH_EQ(ck, fn, arg, "pa", res->pa, w->pa);
            RH_EQ(ck, fn, arg, "page_size", res->page_size, w->size);
            RH_EQ(ck, fn, arg, "level", res->level, w->level);
            RH_EQ(ck, fn, arg, "global", res->global, w->global);
            RH_EQ(ck, fn, arg, "mode", res->mode, p->g->mode);
        }
    } else if (!ok && w->kind != MMU_FAULT_NONE) {
        RH_EQ(ck, fn, arg, "fault kind", flt->kind, w->kind);
        RH_EQ(ck, fn, arg, "cause", flt->code, w->cause);
        RH_EQ(ck, fn, arg, "vector (= cause)", flt->vector, w->cause);
        RH_EQ(ck, fn, arg, "tval", flt->addr, w->tval);
    } else if (!ok) {
        RH_EQ(ck, fn, arg, "unexpected fault: cause", flt->code, 0);
    } else {
        RH_EQ(ck, fn, arg, "unexpected success: pa", res->pa, 0);
    }
    RH_EQ(ck, fn, arg, "pte in memory", rh_get(p, p->leaf), w->leaf_after);
    for (unsigned l = p->leaf + 1u; l < p->g->levels; l++)
        RH_EQ(ck, fn, arg, "non-leaf entry in memory", rh_get(p, l),
              p->orig[l]);
}

/* ---- one named access ---------------------------------------------------- */

typedef enum rh_outcome {
    RH_OK,            /* translated through the leaf */
    RH_UNTRANSLATED,  /* M-mode or Bare: PA = VA, nothing read */
    RH_PF,            /* page fault of the access's type */
    RH_AF,            /* access fault of the access's type */
} rh_outcome;

/*
 * One access to one page: the leaf at `leaf` maps the level's aligned
 * default PA (RH_DATA_PA for 4 KiB pages, a high PA for superpages) for
 * a VA in the upper half; tables are V-only.
 */
typedef struct rh_one {
    const char *name;
    mmu_paging_mode mode;
    unsigned leaf;
    uint64_t leaf_bits;       /* V R W X U G A D (and high bits) */
    unsigned priv;            /* RV_PRIV_* */
    uint64_t mstatus;         /* SUM, MXR, MPRV, MPP */
    uint32_t ext_clear;       /* MMU_RV_EXT_* taken away */
    uint64_t menvcfg_clear;   /* menvcfg bits cleared */
    mmu_access acc;
    unsigned req_flags;       /* MMU_REQ_* */
    rh_outcome want;
    uint64_t want_set;        /* bits the access sets in the leaf (A, D) */
} rh_one;

/* An aligned leaf PA: a data frame in RAM for 4 KiB pages, high bits set
 * (outside RAM) for superpages. */
static inline uint64_t rh_default_pa(const rh_geom *g, unsigned leaf)
{
    if (leaf == 0)
        return RH_DATA_PA;
    return (UINT64_C(0xa5c3e1f7b3d59b7f) & rh_mask(g->pa_bits)) &
           ~(rh_page_size(g, leaf) - 1);
}

typedef struct rh_one_ctx {
    const rh_one *c;
    uint64_t va, pte;
} rh_one_ctx;

static inline void rh_one_describe(const void *arg, char *buf, size_t len)
{
    const rh_one_ctx *r = arg;
    char f[64];
    rh_flags_str(r->pte, f, sizeof f);
    snprintf(buf, len,
             "%s: priv=%s mstatus=0x%llx acc=%s va=0x%llx leaf(L%u)=0x%llx "
             "[%s]",
             r->c->name, rh_priv_name(r->c->priv),
             (unsigned long long)r->c->mstatus, mmu_access_name(r->c->acc),
             (unsigned long long)r->va, r->c->leaf,
             (unsigned long long)r->pte, f);
}

static inline void rh_run_one(rh_check *ck, const rh_one *c)
{
    const rh_geom *g = rh_geom_of(c->mode);
    uint64_t pa = rh_default_pa(g, c->leaf), size = rh_page_size(g, c->leaf);
    rh_one_ctx r = {.c = c, .va = rh_va(g, true),
                    .pte = rh_pte(pa, c->leaf_bits)};
    tu_machine t;
    rh_path p;
    mmu_result res;
    mmu_fault flt;
    rh_want w;

    rh_machine(&t, g);
    t.ctx.st.rv.ext &= ~c->ext_clear;
    t.ctx.st.rv.menvcfg &= ~c->menvcfg_clear;
    t.ctx.st.rv.mstatus = c->mstatus;
    rh_build(&p, &t, g, r.va, c->leaf, r.pte, RV_PTE_V);
    switch (c->want) {
    case RH_OK:
        w = rh_want_ok(pa | (r.va & (size - 1)), size, c->leaf,
                       (c->leaf_bits & RV_PTE_G) != 0, r.pte | c->want_set);
        break;
    case RH_UNTRANSLATED:
        w = rh_want_ok(r.va, 0, 0, false, r.pte);
        w.untranslated = true;
        break;
    case RH_PF:
    case RH_AF:
        w = rh_want_fault(c->want == RH_PF ? MMU_FAULT_PAGE
                                           : MMU_FAULT_ACCESS,
                          c->acc, r.va, r.pte);
        break;
    }
    res = (mmu_result){0};
    flt = (mmu_fault){0};
    bool ok = tu_translate(&t, r.va, c->acc, c->priv, c->req_flags, &res,
                           &flt);
    rh_case_begin(ck);
    rh_compare(ck, rh_one_describe, &r, &p, &w, ok, &res, &flt);
    tu_machine_free(&t);
}

/* Print the outcome and fail the test with the first mismatch. */
static inline void rh_report(const rh_check *ck, const char *what)
{
    if (ck->bad_cases != 0)
        fail_msg("%s: %lu of %lu cases MISMATCHED; first: %s", what,
                 ck->bad_cases, ck->cases, ck->first);
    print_message("%s: %lu cases, all match\n", what, ck->cases);
}

#endif
