/*
 * test_rv_modes.c - what happens around the walk: the canonical-address
 * check (bits XLEN-1..VA-1 equal to bit VA-1, else a page fault with
 * tval = VA), Bare and M-mode (untranslated, nothing read), and access
 * faults (causes 1/5/7) for a root or a PTE that lies outside RAM, below
 * RAM or straddles its end - reported, never a host out-of-bounds access
 * (this file is meant to run under ASan).
 */
#include "test_rv_harness.h"

#include <string.h>

#define V RV_PTE_V
#define RWX (RV_PTE_R | RV_PTE_W | RV_PTE_X)
#define MPRV_S (RV_MSTATUS_MPRV | ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT))

static const mmu_access accs[] = {MMU_READ, MMU_WRITE, MMU_FETCH};

typedef struct mctx {
    const char *what;
    const rh_geom *g;
    uint64_t va;
    mmu_access acc;
    unsigned priv;
    uint64_t mstatus;
} mctx;

static void describe(const void *arg, char *buf, size_t len)
{
    const mctx *c = arg;
    snprintf(buf, len, "%s: %s va=0x%llx acc=%s priv=%s mstatus=0x%llx",
             c->g->name, c->what, (unsigned long long)c->va,
             mmu_access_name(c->acc), rh_priv_name(c->priv),
             (unsigned long long)c->mstatus);
}

/* Translate c->va with c's privilege and compare with w. */
static void check(rh_check *ck, mctx *c, tu_machine *t, rh_path *p,
                  const rh_want *w)
{
    mmu_result res;
    mmu_fault flt;
    t->ctx.st.rv.mstatus = c->mstatus;
    bool ok = rh_translate(t, c->va, c->acc, c->priv, &res, &flt);
    rh_case_begin(ck);
    rh_compare(ck, describe, c, p, w, ok, &res, &flt);
}

static rh_want untranslated(uint64_t va, uint64_t leaf)
{
    rh_want w = rh_want_ok(va, 0, 0, false, leaf);
    w.untranslated = true;
    return w;
}

/* ==== canonical addresses =============================================== */

/*
 * Map one 4 KiB page (RWX, A/D clear, Svadu on: any write would show) at
 * a canonical VA, then flip each bit from VA-1 up to 63: every such VA is
 * non-canonical and must page-fault with tval = that VA, from S and U,
 * and for M-mode loads/stores under MPRV; M-mode itself (and MPRV
 * fetches) is untranslated and does not check.
 */
static void canonical_check_every_bit(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 1; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        for (unsigned hv = 0; hv < 2; hv++) {
            tu_machine t;
            rh_path p;
            mctx c = {.g = g, .va = rh_va(g, hv != 0)};
            uint64_t leaf = rh_pte(RH_DATA_PA, V | RWX | RV_PTE_U);
            rh_machine(&t, g);
            rh_build(&p, &t, g, c.va, 0, leaf, V);
            uint64_t good = c.va;
            for (unsigned b = g->va_bits - 1u; b < 64; b++) {
                c.va = good ^ (UINT64_C(1) << b);
                for (unsigned a = 0; a < 3; a++) {
                    rh_want pf = rh_want_fault(MMU_FAULT_PAGE, accs[a], c.va,
                                               leaf);
                    c.acc = accs[a];
                    c.what = "non-canonical";
                    c.priv = RV_PRIV_S, c.mstatus = 0;
                    check(&ck, &c, &t, &p, &pf);
                    c.priv = RV_PRIV_U;
                    check(&ck, &c, &t, &p, &pf);
                    c.what = "non-canonical, M-mode";
                    c.priv = RV_PRIV_M;
                    rh_want m = untranslated(c.va, leaf);
                    check(&ck, &c, &t, &p, &m);
                    c.what = "non-canonical, M-mode with MPRV (MPP=S)";
                    c.mstatus = MPRV_S;
                    check(&ck, &c, &t, &p, accs[a] == MMU_FETCH ? &m : &pf);
                }
            }
            /* The canonical VA itself translates (and sets A). */
            c.va = good;
            c.what = "canonical";
            c.acc = MMU_READ;
            c.priv = RV_PRIV_U;
            c.mstatus = 0;
            rh_want ok = rh_want_ok(RH_DATA_PA | (good & 0xfff), 0x1000, 0,
                                    false, leaf | RV_PTE_A);
            check(&ck, &c, &t, &p, &ok);
            tu_machine_free(&t);
        }
    }
    rh_report(&ck, "canonical check");
}

/* Named: the two halves' edges. */
static void canonical_edges(void **state)
{
    static const struct {
        const char *name;
        mmu_paging_mode mode;
        uint64_t va;
        bool canonical;
    } cases[] = {
        {"sv39_top_of_low_half_canonical", MMU_MODE_SV39,
         UINT64_C(0x0000003ffffff000), true},
        {"sv39_bottom_of_high_half_canonical", MMU_MODE_SV39,
         UINT64_C(0xffffffc000000000), true},
        {"sv39_bit38_without_sign_extension_faults", MMU_MODE_SV39,
         UINT64_C(0x0000004000000000), false},
        {"sv39_sv48_style_address_faults", MMU_MODE_SV39,
         UINT64_C(0x00007ffffffff000), false},
        {"sv39_high_half_missing_bit63_faults", MMU_MODE_SV39,
         UINT64_C(0x7fffffc000000000), false},
        {"sv48_top_of_low_half_canonical", MMU_MODE_SV48,
         UINT64_C(0x00007ffffffff000), true},
        {"sv48_bit47_without_sign_extension_faults", MMU_MODE_SV48,
         UINT64_C(0x0000800000000000), false},
        {"sv48_bottom_of_high_half_canonical", MMU_MODE_SV48,
         UINT64_C(0xffff800000000000), true},
        {"sv57_sv48_high_half_is_canonical_low", MMU_MODE_SV57,
         UINT64_C(0x0000800000000000), true},
        {"sv57_bit56_without_sign_extension_faults", MMU_MODE_SV57,
         UINT64_C(0x0100000000000000), false},
        {"sv57_bottom_of_high_half_canonical", MMU_MODE_SV57,
         UINT64_C(0xff00000000000000), true},
        {"sv57_bit63_only_faults", MMU_MODE_SV57,
         UINT64_C(0x8000000000000000), false},
    };
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rh_geom *g = rh_geom_of(cases[i].mode);
        tu_machine t;
        rh_path p;
        uint64_t leaf = rh_pte(RH_DATA_PA, V | RWX | RV_PTE_A | RV_PTE_D);
        mctx c = {.what = cases[i].name, .g = g, .va = cases[i].va,
                  .priv = RV_PRIV_S};
        rh_machine(&t, g);
        rh_build(&p, &t, g, rh_canon(g, c.va), 0, leaf, V);
        for (unsigned a = 0; a < 3; a++) {
            rh_want w = cases[i].canonical
                            ? rh_want_ok(RH_DATA_PA | (c.va & 0xfff), 0x1000,
                                         0, false, leaf)
                            : rh_want_fault(MMU_FAULT_PAGE, accs[a], c.va,
                                            leaf);
            c.acc = accs[a];
            check(&ck, &c, &t, &p, &w);
        }
        tu_machine_free(&t);
    }
    rh_report(&ck, "canonical edges");
}

/* Sv32 has no canonical check: every 32-bit VA is translated. */
static void sv32_every_va_bit_translates(void **state)
{
    const rh_geom *g = rh_geom_of(MMU_MODE_SV32);
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned b = 12; b < 32; b++) {
        tu_machine t;
        rh_path p;
        uint64_t leaf = rh_pte(RH_DATA_PA, V | RWX | RV_PTE_A | RV_PTE_D);
        mctx c = {.what = "sv32 va bit", .g = g,
                  .va = (UINT64_C(1) << b) | 0x7f8, .priv = RV_PRIV_S};
        rh_machine(&t, g);
        rh_build(&p, &t, g, c.va, 0, leaf, V);
        for (unsigned a = 0; a < 3; a++) {
            rh_want w = rh_want_ok(RH_DATA_PA | 0x7f8, 0x1000, 0, false, leaf);
            c.acc = accs[a];
            check(&ck, &c, &t, &p, &w);
        }
        tu_machine_free(&t);
    }
    rh_report(&ck, "sv32 VAs");
}

/* ==== Bare and M-mode ===================================================== */

/*
 * Bare (satp.MODE=0): U and S are untranslated, even for a VA that would
 * be non-canonical and with a table in memory that maps it elsewhere.
 * M-mode: untranslated with satp pointing outside RAM.
 */
static void bare_and_m_untranslated(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 0; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        tu_machine t;
        rh_path p;
        uint64_t leaf = rh_pte(RH_DATA_PA, V | RWX | RV_PTE_U);
        uint64_t satp = 0;
        mctx c = {.g = g, .va = rh_va(g, true)};
        rh_machine(&t, g);
        rh_build(&p, &t, g, c.va, 0, leaf, V);
        satp = t.ctx.st.rv.satp;
        for (unsigned a = 0; a < 3; a++) {
            c.acc = accs[a];
            /* Bare. */
            t.ctx.st.rv.satp = 0;
            c.what = "bare";
            for (unsigned pv = 0; pv < 2; pv++) {
                uint64_t vas[2] = {rh_va(g, true),
                                   g->xlen == 64
                                       ? UINT64_C(0x1234567890abcdef)
                                       : UINT64_C(0xfedcba98)};
                c.priv = pv ? RV_PRIV_S : RV_PRIV_U;
                for (unsigned v = 0; v < 2; v++) {
                    c.va = vas[v];
                    rh_want w = untranslated(c.va, leaf);
                    check(&ck, &c, &t, &p, &w);
                }
                c.mstatus = 0;
            }
            /* M-mode, satp's root outside RAM. */
            t.ctx.st.rv.satp = g->xlen == 32
                                   ? satp | RV32_SATP_PPN_MASK
                                   : satp | RV64_SATP_PPN_MASK;
            c.what = "M-mode, satp root outside RAM";
            c.priv = RV_PRIV_M;
            c.va = rh_va(g, false);
            rh_want w = untranslated(c.va, leaf);
            check(&ck, &c, &t, &p, &w);
            t.ctx.st.rv.satp = satp;
        }
        tu_machine_free(&t);
    }
    rh_report(&ck, "bare and M-mode");
}

/* ==== access faults ======================================================= */

/* The access fault every access type must give, with the entry address. */
static void expect_access_fault(rh_check *ck, mctx *c, tu_machine *t,
                                rh_path *p, uint64_t entry_pa)
{
    for (unsigned a = 0; a < 3; a++) {
        mmu_result res;
        mmu_fault flt;
        rh_want w;
        c->acc = accs[a];
        w = rh_want_fault(MMU_FAULT_ACCESS, c->acc, c->va,
                          p->orig[p->leaf]);
        for (unsigned pv = 0; pv < 3; pv++) {
            static const unsigned privs[3] = {RV_PRIV_U, RV_PRIV_S,
                                              RV_PRIV_M};
            c->priv = privs[pv];
            c->mstatus = pv == 2 ? MPRV_S : 0;
            if (pv == 2 && c->acc == MMU_FETCH)
                continue; /* untranslated */
            t->ctx.st.rv.mstatus = c->mstatus;
            bool ok = rh_translate(t, c->va, c->acc, c->priv, &res, &flt);
            rh_case_begin(ck);
            rh_compare(ck, describe, c, p, &w, ok, &res, &flt);
            if (!ok && flt.kind == MMU_FAULT_ACCESS)
                RH_EQ(ck, describe, c, "fault paddr (entry address)",
                      flt.paddr, entry_pa);
        }
    }
}

/* satp.PPN outside RAM: the root entry read is an access fault. */
static void root_outside_ram_access_fault(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 0; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        uint64_t ppn_mask = g->xlen == 32 ? RV32_SATP_PPN_MASK
                                          : RV64_SATP_PPN_MASK;
        /* First frame past RAM, the largest PPN, a PPN with only the top
         * bit set. */
        uint64_t ppns[3] = {(RH_RAM_BASE + RH_RAM_SIZE) >> 12, ppn_mask,
                            (ppn_mask >> 1) + 1};
        for (unsigned i = 0; i < 3; i++) {
            tu_machine t;
            rh_path p;
            mctx c = {.what = "satp root outside RAM", .g = g,
                      .va = rh_va(g, i == 1)};
            rh_machine(&t, g);
            rh_build(&p, &t, g, c.va, 0,
                     rh_pte(RH_DATA_PA, V | RWX | RV_PTE_U), V);
            t.ctx.st.rv.satp = (t.ctx.st.rv.satp & ~ppn_mask) | ppns[i];
            expect_access_fault(&ck, &c, &t, &p,
                                (ppns[i] << 12) +
                                    rh_vpn(g, c.va, g->levels - 1u) *
                                        g->pte_size);
            tu_machine_free(&t);
        }
    }
    rh_report(&ck, "root outside RAM");
}

/*
 * A non-leaf entry at each level pointing outside RAM: the next entry's
 * read is an access fault (not a page fault), after nothing was written.
 */
static void pte_outside_ram_every_level(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 0; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        for (unsigned lv = 1; lv < g->levels; lv++) {
            uint64_t targets[2] = {RH_RAM_BASE + RH_RAM_SIZE,
                                   UINT64_C(1) << (g->pa_bits - 1u)};
            for (unsigned i = 0; i < 2; i++) {
                tu_machine t;
                rh_path p;
                mctx c = {.what = "non-leaf points outside RAM", .g = g,
                          .va = rh_va(g, i == 0)};
                rh_machine(&t, g);
                rh_build(&p, &t, g, c.va, 0,
                         rh_pte(RH_DATA_PA, V | RWX | RV_PTE_U), V);
                rh_set(&p, lv, rh_pte(targets[i], V));
                rh_snapshot(&p);
                expect_access_fault(&ck, &c, &t, &p,
                                    targets[i] + rh_vpn(g, c.va, lv - 1u) *
                                                     g->pte_size);
                tu_machine_free(&t);
            }
        }
    }
    rh_report(&ck, "PTE outside RAM");
}

/*
 * RAM whose size is not a multiple of the PTE size: an entry whose first
 * half is the last bytes of RAM is an access fault (ASan would see a
 * host over-read). Also RAM at a non-zero base with a pointer below it.
 */
static void pte_straddling_or_below_ram(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 0; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        /* Straddling the end: RAM is 1 MiB + PTESIZE/2. */
        for (unsigned lv = 1; lv <= g->levels; lv++) {
            tu_machine t;
            rh_path p;
            uint64_t end = RH_RAM_SIZE; /* the odd tail starts here */
            mctx c = {.what = "entry straddles the end of RAM", .g = g};
            /* vpn[lv-1] = 0: the entry is the table's first. */
            c.va = rh_canon(g, rh_va(g, false) &
                                   ~(rh_mask(g->vpn_bits)
                                     << rh_shift(g, lv - 1u)));
            tu_machine_init(&t, g->mode, RH_RAM_BASE,
                            RH_RAM_SIZE + g->pte_size / 2u, RH_TABLES_OFF,
                            RH_TABLES_LEN);
            rh_build(&p, &t, g, c.va, 0,
                     rh_pte(RH_DATA_PA, V | RWX | RV_PTE_U), V);
            if (lv == g->levels) {
                c.what = "root straddles the end of RAM";
                t.ctx.st.rv.satp = (t.ctx.st.rv.satp &
                                    ~(g->xlen == 32 ? RV32_SATP_PPN_MASK
                                                    : RV64_SATP_PPN_MASK)) |
                                   (end >> 12);
            } else {
                rh_set(&p, lv, rh_pte(end, V));
                rh_snapshot(&p);
            }
            expect_access_fault(&ck, &c, &t, &p, end);
            tu_machine_free(&t);
        }
        /* RAM at 2 GiB; a pointer to the frame just below it. */
        for (unsigned lv = 1; lv < g->levels; lv++) {
            tu_machine t;
            rh_path p;
            uint64_t base = UINT64_C(0x80000000), below = base - 0x1000;
            mctx c = {.what = "entry below RAM", .g = g,
                      .va = rh_va(g, false)};
            tu_machine_init(&t, g->mode, base, RH_RAM_SIZE, RH_TABLES_OFF,
                            RH_TABLES_LEN);
            rh_build(&p, &t, g, c.va, 0,
                     rh_pte(base + RH_DATA_PA, V | RWX | RV_PTE_U), V);
            rh_set(&p, lv, rh_pte(below, V));
            rh_snapshot(&p);
            expect_access_fault(&ck, &c, &t, &p,
                                below + rh_vpn(g, c.va, lv - 1u) *
                                            g->pte_size);
            tu_machine_free(&t);
        }
    }
    rh_report(&ck, "PTE straddling or below RAM");
}

/* ==== satp fields and neighbouring entries ================================ */

/*
 * satp.ASID all ones (9 bits on RV32, 16 on RV64) does not leak into the
 * root address; and every entry next to one on the path (index +-1) set
 * to all ones does not leak into it (Sv32 entries are 4 bytes).
 */
static void satp_asid_and_neighbours_ignored(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned gi = 0; gi < RH_NGEOMS; gi++) {
        const rh_geom *g = rh_geom_at(gi);
        for (unsigned lv = 0; lv < g->levels; lv++) {
            tu_machine t;
            rh_path p;
            uint64_t pa = rh_default_pa(g, lv), size = rh_page_size(g, lv);
            uint64_t leaf = rh_pte(pa, V | RWX | RV_PTE_A | RV_PTE_D);
            uint64_t ones = g->pte_size == 4 ? UINT64_C(0xffffffff)
                                             : ~UINT64_C(0);
            mctx c = {.what = "satp.ASID all ones, neighbours all ones",
                      .g = g, .priv = RV_PRIV_S};
            /* vpn[l] in 1..max-1 at every level, so both neighbours
             * exist. */
            c.va = rh_va(g, lv & 1);
            rh_machine(&t, g);
            rh_build(&p, &t, g, c.va, lv, leaf, V);
            for (unsigned l = lv; l < g->levels; l++) {
                uint64_t idx = rh_vpn(g, c.va, l);
                assert_true(idx > 0 && idx < rh_mask(g->vpn_bits));
                assert_true(mmu_phys_write_pte(&t.mem,
                                               p.addr[l] - g->pte_size,
                                               g->pte_size, ones));
                assert_true(mmu_phys_write_pte(&t.mem,
                                               p.addr[l] + g->pte_size,
                                               g->pte_size, ones));
            }
            if (g->xlen == 32)
                t.ctx.st.rv.satp |= RV32_SATP_ASID_MASK
                                    << RV32_SATP_ASID_SHIFT;
            else
                t.ctx.st.rv.satp |= RV64_SATP_ASID_MASK
                                    << RV64_SATP_ASID_SHIFT;
            for (unsigned a = 0; a < 3; a++) {
                rh_want w = rh_want_ok(pa | (c.va & (size - 1)), size, lv,
                                       false, leaf);
                c.acc = accs[a];
                check(&ck, &c, &t, &p, &w);
            }
            tu_machine_free(&t);
        }
    }
    rh_report(&ck, "satp.ASID and neighbouring entries");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_check_every_bit),
        cmocka_unit_test(canonical_edges),
        cmocka_unit_test(sv32_every_va_bit_translates),
        cmocka_unit_test(bare_and_m_untranslated),
        cmocka_unit_test(root_outside_ram_access_fault),
        cmocka_unit_test(pte_outside_ram_every_level),
        cmocka_unit_test(pte_straddling_or_below_ram),
        cmocka_unit_test(satp_asid_and_neighbours_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
