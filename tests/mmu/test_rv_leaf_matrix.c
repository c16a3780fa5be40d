/*
 * test_rv_leaf_matrix.c - every leaf flag combination against an oracle.
 *
 * For each mode (Sv32 on RV32, Sv39/48/57 on RV64) and each level a leaf
 * may sit at (4 KiB and every superpage size), the entry under test takes
 * all 256 values of its low byte (V R W X U G A D), and each is translated
 * for every privilege setup (U, S, M, and MPRV with each MPP), SUM, MXR,
 * access type and A/D scheme (Svadu with ADUE=1; Svade by ADUE=0; Svade by
 * Svadu absent). Two placements per level: a "near" frame inside RAM
 * (so a V-only entry points at a zero table: page fault) and a "far" one
 * with high PA bits set (a V-only entry points outside RAM: access fault).
 *
 * The oracle below is written from the privileged spec's "Virtual Address
 * Translation Process" (steps 1-8), the R/W/X encoding table, the U/SUM/
 * MXR rules, MPRV, Svade/Svadu, Svnapot and Svpbmt, as decision tables; it
 * shares nothing with mmu/ but the bit names.
 *
 * Checked per case: success or fault, cause, tval, PA, page size, leaf
 * level, G, and the entry in memory afterwards (reset between cases).
 * The final PA is not checked against RAM: mmu_translate() translates,
 * and its access faults are for page-table reads only (translate.h), so a
 * "far" leaf translates to a PA outside RAM.
 */
#include "test_rv_harness.h"

#include <string.h>

/* ==== the oracle ======================================================= */

typedef struct orc_in {
    const rh_geom *g;
    unsigned level;       /* level at which the entry under test is read */
    uint64_t va, pte;
    bool path_global;     /* G set in a non-leaf entry above */
    unsigned priv;        /* RV_PRIV_* of the hart */
    mmu_access acc;
    uint64_t mstatus, menvcfg;
    uint32_t ext;         /* MMU_RV_EXT_* */
} orc_in;

/* The R/W/X encodings (priv spec, "Encoding of PTE R/W/X fields"),
 * indexed by X<<2 | W<<1 | R. */
static const struct xwr_row {
    bool pointer;   /* pointer to the next level of the page table */
    bool reserved;  /* reserved for future use: page fault */
    bool r, w, x;
} xwr_table[8] = {
    [0] = {.pointer = true},          /* 000 pointer */
    [1] = {.r = true},                /* 001 read-only */
    [2] = {.reserved = true},         /* 010 reserved */
    [3] = {.r = true, .w = true},     /* 011 read-write */
    [4] = {.x = true},                /* 100 execute-only */
    [5] = {.r = true, .x = true},     /* 101 read-execute */
    [6] = {.reserved = true},         /* 110 reserved */
    [7] = {.r = true, .w = true, .x = true}, /* 111 read-write-execute */
};

/* U bit vs effective privilege (priv spec, "Addressing and Memory
 * Protection": U-mode only U=1 pages; S-mode U=1 pages only with SUM and
 * never for instruction fetch). [priv U=0/S=1][pte.U][access]. */
typedef enum u_rule { U_ALLOW, U_DENY, U_IF_SUM } u_rule;
static const u_rule u_table[2][2][3] = {
    /* U-mode */ {/* U=0 */ {U_DENY, U_DENY, U_DENY},
                  /* U=1 */ {U_ALLOW, U_ALLOW, U_ALLOW}},
    /* S-mode */ {/* U=0 */ {U_ALLOW, U_ALLOW, U_ALLOW},
                  /* U=1 */ {U_IF_SUM, U_IF_SUM, U_DENY}},
    /*             [READ]     [WRITE]    [FETCH] */
};

static bool bit(uint64_t v, uint64_t mask)
{
    return (v & mask) != 0;
}

/* Step 3's "bits or encodings reserved for future standard use" that do
 * not depend on leaf vs pointer (RV64 only: Sv32 PTEs have none). */
static bool reserved_any(const orc_in *in)
{
    uint64_t pte = in->pte;
    unsigned pbmt = (unsigned)((pte >> 61) & 3);
    if (in->g->xlen == 32)
        return false;
    if ((pte >> 54) & 0x7f) /* bits 60:54 */
        return true;
    if (bit(pte, RV_PTE_N) && !(in->ext & MMU_RV_EXT_SVNAPOT))
        return true;
    if (pbmt != 0 && !((in->ext & MMU_RV_EXT_SVPBMT) &&
                       bit(in->menvcfg, RV_MENVCFG_PBMTE)))
        return true; /* Svpbmt absent, or disabled for S-mode */
    return pbmt == 3;
}

/* Svnapot table: N=1 is only valid at level 0 with ppn[0][3:0] = 1000. */
static bool napot_reserved(const orc_in *in)
{
    if (!bit(in->pte, RV_PTE_N))
        return false;
    return in->level != 0 || (rh_ppn_field(in->g, in->pte, 0) & 0xf) != 0x8;
}

/* Step 8: pa.ppn[i-1:0] = va.vpn[i-1:0] (and ppn[0][3:0] from the VA for
 * a 64 KiB NAPOT page), pa.ppn[LEVELS-1:i] = pte.ppn[LEVELS-1:i]. */
static uint64_t form_pa(const orc_in *in, bool napot)
{
    const rh_geom *g = in->g;
    uint64_t pa = in->va & 0xfff;
    for (unsigned j = 0; j < g->levels; j++) {
        uint64_t f = j < in->level ? rh_vpn(g, in->va, j)
                                   : rh_ppn_field(g, in->pte, j);
        if (napot && j == 0)
            f = (f & ~UINT64_C(0xf)) | (rh_vpn(g, in->va, 0) & 0xf);
        pa |= f << rh_shift(g, j);
    }
    return pa;
}

static rh_want orc_fault(const orc_in *in, bool page)
{
    return rh_want_fault(page ? MMU_FAULT_PAGE : MMU_FAULT_ACCESS, in->acc,
                         in->va, in->pte);
}

/*
 * The outcome the privileged spec prescribes for one access whose walk
 * reaches `pte` at `level` through valid V-only pointers. A pointer PTE
 * leads to a table that is either outside RAM or the zero frame.
 */
static rh_want oracle(const orc_in *in)
{
    const rh_geom *g = in->g;
    uint64_t pte = in->pte;
    unsigned priv = in->priv;
    const struct xwr_row *e = &xwr_table[(pte >> 1) & 7];

    /* MPRV: M-mode loads and stores use MPP's privilege; fetches stay M. */
    if (priv == RV_PRIV_M && in->acc != MMU_FETCH &&
        bit(in->mstatus, RV_MSTATUS_MPRV))
        priv = (unsigned)((in->mstatus >> RV_MSTATUS_MPP_SHIFT) & 3);
    if (priv == RV_PRIV_M) {
        rh_want w = {.kind = MMU_FAULT_NONE, .untranslated = true,
                     .pa = in->va, .leaf_after = pte};
        return w;
    }
    /* Step 3. */
    if (!bit(pte, RV_PTE_V) || e->reserved || reserved_any(in))
        return orc_fault(in, true);
    /* Step 4: a pointer; D, A, U (N, PBMT) are reserved in non-leaves. */
    if (e->pointer) {
        uint64_t next;
        if (in->level == 0)
            return orc_fault(in, true);
        if (bit(pte, RV_PTE_D | RV_PTE_A | RV_PTE_U | RV_PTE_N) ||
            ((pte >> 61) & 3) != 0)
            return orc_fault(in, true);
        next = (rh_pte_ppn(g, pte) << 12) +
               rh_vpn(g, in->va, in->level - 1u) * g->pte_size;
        if (!rh_in_ram(next, g->pte_size))
            return orc_fault(in, false); /* PMA: access fault */
        /* The zero frame: V=0 there. */
        assert_true(next - RH_RAM_BASE < RH_TABLES_OFF ||
                    next >= RH_DATA_PA);
        return orc_fault(in, true);
    }
    /* Step 5: U/SUM, then R/W/X with MXR. */
    switch (u_table[priv == RV_PRIV_S][bit(pte, RV_PTE_U)][in->acc]) {
    case U_ALLOW:
        break;
    case U_DENY:
        return orc_fault(in, true);
    case U_IF_SUM:
        if (!bit(in->mstatus, RV_MSTATUS_SUM))
            return orc_fault(in, true);
        break;
    }
    switch (in->acc) {
    case MMU_READ:
        if (!(e->r || (e->x && bit(in->mstatus, RV_MSTATUS_MXR))))
            return orc_fault(in, true);
        break;
    case MMU_WRITE:
        if (!e->w)
            return orc_fault(in, true);
        break;
    case MMU_FETCH:
        if (!e->x)
            return orc_fault(in, true);
        break;
    }
    /* Step 6: misaligned superpage; Svnapot reserved encodings. */
    for (unsigned j = 0; j < in->level; j++)
        if (rh_ppn_field(g, pte, j) != 0)
            return orc_fault(in, true);
    if (napot_reserved(in))
        return orc_fault(in, true);
    /* Step 7: A/D. */
    uint64_t after = pte;
    if (!bit(pte, RV_PTE_A) || (in->acc == MMU_WRITE && !bit(pte, RV_PTE_D))) {
        bool svadu = (in->ext & MMU_RV_EXT_SVADU) &&
                     bit(in->menvcfg, RV_MENVCFG_ADUE);
        if (!svadu)
            return orc_fault(in, true); /* Svade */
        after |= RV_PTE_A | (in->acc == MMU_WRITE ? RV_PTE_D : 0);
    }
    /* Step 8. */
    bool napot = bit(pte, RV_PTE_N);
    return rh_want_ok(form_pa(in, napot),
                      napot ? UINT64_C(0x10000) : rh_page_size(g, in->level),
                      in->level, in->path_global || bit(pte, RV_PTE_G),
                      after);
}

/* ==== the sweep ========================================================= */

typedef struct priv_cfg {
    const char *name;
    unsigned priv;
    uint64_t mstatus;
} priv_cfg;

#define MPP(p) ((uint64_t)(p) << RV_MSTATUS_MPP_SHIFT)

static const priv_cfg privs[] = {
    {"U", RV_PRIV_U, 0},
    {"S", RV_PRIV_S, 0},
    {"M", RV_PRIV_M, 0},
    {"U+MPRV,MPP=S(ignored)", RV_PRIV_U, RV_MSTATUS_MPRV | MPP(RV_PRIV_S)},
    {"S+MPRV,MPP=U(ignored)", RV_PRIV_S, RV_MSTATUS_MPRV | MPP(RV_PRIV_U)},
    {"M+MPRV,MPP=U", RV_PRIV_M, RV_MSTATUS_MPRV | MPP(RV_PRIV_U)},
    {"M+MPRV,MPP=S", RV_PRIV_M, RV_MSTATUS_MPRV | MPP(RV_PRIV_S)},
    {"M+MPRV,MPP=M", RV_PRIV_M, RV_MSTATUS_MPRV | MPP(RV_PRIV_M)},
};

typedef struct ad_cfg {
    const char *name;
    uint32_t ext;
    uint64_t menvcfg;
} ad_cfg;

#define EXT_ALL (MMU_RV_EXT_SVNAPOT | MMU_RV_EXT_SVPBMT | MMU_RV_EXT_SVADU)

static const ad_cfg ads[] = {
    {"svadu(ADUE=1)", EXT_ALL, RV_MENVCFG_ADUE | RV_MENVCFG_PBMTE},
    {"svade(ADUE=0)", EXT_ALL, RV_MENVCFG_PBMTE},
    {"svade(no Svadu)", EXT_ALL & ~MMU_RV_EXT_SVADU,
     RV_MENVCFG_ADUE | RV_MENVCFG_PBMTE},
};

static const mmu_access accs[] = {MMU_READ, MMU_WRITE, MMU_FETCH};

typedef struct sweep {
    const rh_geom *g;
    unsigned level;
    const char *where;    /* "near" / "far" */
    orc_in in;
    const priv_cfg *pc;
    const ad_cfg *ad;
} sweep;

static void describe(const void *arg, char *buf, size_t len)
{
    const sweep *s = arg;
    char f[64];
    rh_flags_str(s->in.pte, f, sizeof f);
    snprintf(buf, len,
             "%s L%u %s va=0x%llx pte=0x%llx [%s] priv=%s sum=%d mxr=%d "
             "acc=%s %s",
             s->g->name, s->level, s->where, (unsigned long long)s->in.va,
             (unsigned long long)s->in.pte, f, s->pc->name,
             bit(s->in.mstatus, RV_MSTATUS_SUM),
             bit(s->in.mstatus, RV_MSTATUS_MXR), mmu_access_name(s->in.acc),
             s->ad->name);
}

/* A superpage-aligned PA with high bits set, inside the mode's PA width
 * and outside RAM. */
static uint64_t far_pa(const rh_geom *g, unsigned level)
{
    uint64_t pa = UINT64_C(0xa5c3e1f7b3d59b7f) & rh_mask(g->pa_bits);
    pa &= ~(rh_page_size(g, level) - 1);
    assert_false(rh_in_ram(pa, 1));
    return pa;
}

/* All cases for one (mode, level, placement); the sweep's counter. */
static void sweep_level(rh_check *ck, const rh_geom *g, unsigned level,
                        bool far)
{
    tu_machine t;
    rh_path p;
    sweep s = {.g = g, .level = level, .where = far ? "far" : "near"};
    uint64_t pa = far ? far_pa(g, level) : level == 0 ? RH_DATA_PA : 0;
    uint64_t va = rh_va(g, far);

    rh_machine(&t, g);
    rh_build(&p, &t, g, va, level, rh_pte(pa, RV_PTE_V | RV_PTE_R), RV_PTE_V);
    s.in = (orc_in){.g = g, .level = level, .va = va};
    for (unsigned a = 0; a < sizeof ads / sizeof ads[0]; a++)
        for (unsigned pr = 0; pr < sizeof privs / sizeof privs[0]; pr++)
            for (unsigned sm = 0; sm < 4; sm++)
                for (unsigned ac = 0; ac < 3; ac++)
                    for (unsigned fl = 0; fl < 256; fl++) {
                        mmu_result res;
                        mmu_fault flt;
                        s.ad = &ads[a];
                        s.pc = &privs[pr];
                        s.in.priv = privs[pr].priv;
                        s.in.mstatus = privs[pr].mstatus |
                                       (sm & 1 ? RV_MSTATUS_SUM : 0) |
                                       (sm & 2 ? RV_MSTATUS_MXR : 0);
                        s.in.menvcfg = ads[a].menvcfg;
                        s.in.ext = ads[a].ext;
                        s.in.acc = accs[ac];
                        s.in.pte = rh_pte(pa, fl);
                        t.ctx.st.rv.mstatus = s.in.mstatus;
                        t.ctx.st.rv.menvcfg = s.in.menvcfg;
                        t.ctx.st.rv.ext = s.in.ext;
                        rh_set(&p, level, s.in.pte);

                        rh_want w = oracle(&s.in);
                        bool ok = rh_translate(&t, va, s.in.acc, s.in.priv,
                                               &res, &flt);
                        rh_case_begin(ck);
                        rh_compare(ck, describe, &s, &p, &w, ok, &res, &flt);
                    }
    tu_machine_free(&t);
}

static void run_mode(mmu_paging_mode mode)
{
    const rh_geom *g = rh_geom_of(mode);
    rh_check ck;
    char what[64];
    memset(&ck, 0, sizeof ck);
    for (unsigned level = 0; level < g->levels; level++) {
        sweep_level(&ck, g, level, false);
        sweep_level(&ck, g, level, true);
    }
    snprintf(what, sizeof what, "%s leaf matrix (%u levels)", g->name,
             g->levels);
    rh_report(&ck, what);
}

static void sv32_leaf_matrix(void **state)
{
    (void)state;
    run_mode(MMU_MODE_SV32);
}

static void sv39_leaf_matrix(void **state)
{
    (void)state;
    run_mode(MMU_MODE_SV39);
}

static void sv48_leaf_matrix(void **state)
{
    (void)state;
    run_mode(MMU_MODE_SV48);
}

static void sv57_leaf_matrix(void **state)
{
    (void)state;
    run_mode(MMU_MODE_SV57);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sv32_leaf_matrix),
        cmocka_unit_test(sv39_leaf_matrix),
        cmocka_unit_test(sv48_leaf_matrix),
        cmocka_unit_test(sv57_leaf_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
