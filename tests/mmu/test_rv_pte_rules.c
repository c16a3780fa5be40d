/*
 * test_rv_pte_rules.c - the PTE-format rules of the privileged spec's
 * translation process (steps 3, 4 and 6) and of Svnapot/Svpbmt, at every
 * level of every mode, plus a table of named cases that read as the spec.
 *
 * Each case maps one page (leaf at `leaf`, tables V-only unless told),
 * optionally edits one non-leaf entry above it, and is translated as a
 * load, a store and a fetch from S-mode. The leaf carries A and D (and
 * R/W/X) unless a case says otherwise, so no A/D write is ever due and
 * every entry must read back unchanged.
 */
#include "test_rv_harness.h"

#include <string.h>

typedef enum outcome { OK, PF } outcome;

#define RWXAD (RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_A | RV_PTE_D)
#define NAPOT_64K UINT64_C(0x10000)
#define PBMT(x) ((uint64_t)(x) << RV_PTE_PBMT_SHIFT)

typedef struct rcase {
    char name[96];
    mmu_paging_mode mode;
    unsigned leaf;           /* level of the leaf */
    uint64_t leaf_bits;      /* every non-PPN bit of the leaf */
    uint64_t pa_delta;       /* added to the level's aligned default PA */
    uint64_t table;          /* extra flags of the tables (V always) */
    int edit;                /* a level above the leaf to edit, or -1 */
    uint64_t edit_set, edit_clear;
    uint32_t ext_clear;      /* MMU_RV_EXT_* taken away */
    uint64_t menvcfg_clear;
    bool high_va;            /* VA in the upper half */
    outcome want;
    uint64_t want_size;      /* 0: the leaf level's page size */
    bool want_global;
    int want_pbmt;           /* -1: not checked */
} rcase;

typedef struct run_ctx {
    const rcase *c;
    mmu_access acc;
    uint64_t va, pte;
} run_ctx;

static void describe(const void *arg, char *buf, size_t len)
{
    const run_ctx *r = arg;
    char f[64];
    rh_flags_str(r->pte, f, sizeof f);
    snprintf(buf, len, "%s acc=%s va=0x%llx leaf(L%u)=0x%llx [%s]",
             r->c->name, mmu_access_name(r->acc),
             (unsigned long long)r->va, r->c->leaf,
             (unsigned long long)r->pte, f);
}

static void run(rh_check *ck, const rcase *c)
{
    static const mmu_access accs[] = {MMU_READ, MMU_WRITE, MMU_FETCH};
    const rh_geom *g = rh_geom_of(c->mode);
    uint64_t pa = rh_default_pa(g, c->leaf) + c->pa_delta;
    run_ctx r = {.c = c, .va = rh_va(g, c->high_va),
                 .pte = rh_pte(pa, c->leaf_bits)};
    tu_machine t;
    rh_path p;

    rh_machine(&t, g);
    t.ctx.st.rv.ext &= ~c->ext_clear;
    t.ctx.st.rv.menvcfg &= ~c->menvcfg_clear;
    rh_build(&p, &t, g, r.va, c->leaf, r.pte, RV_PTE_V | c->table);
    if (c->edit >= 0) {
        unsigned l = (unsigned)c->edit;
        assert_true(l > c->leaf && l < g->levels);
        rh_set(&p, l, (rh_get(&p, l) & ~c->edit_clear) | c->edit_set);
    }
    rh_snapshot(&p);
    for (unsigned a = 0; a < 3; a++) {
        mmu_result res;
        mmu_fault flt;
        rh_want w;
        uint64_t size = c->want_size ? c->want_size
                                     : rh_page_size(g, c->leaf);
        r.acc = accs[a];
        rh_reset(&p);
        if (c->want == OK)
            w = rh_want_ok((pa & ~(size - 1)) | (r.va & (size - 1)), size,
                           c->leaf, c->want_global, r.pte);
        else
            w = rh_want_fault(MMU_FAULT_PAGE, r.acc, r.va, r.pte);
        bool ok = rh_translate(&t, r.va, r.acc, RV_PRIV_S, &res, &flt);
        rh_case_begin(ck);
        rh_compare(ck, describe, &r, &p, &w, ok, &res, &flt);
        if (ok && c->want == OK && c->want_pbmt >= 0)
            RH_EQ(ck, describe, &r, "pbmt", res.pbmt, c->want_pbmt);
    }
    tu_machine_free(&t);
}

/* A case with the defaults: RWXAD leaf, no edit, expected to translate. */
static rcase base(const rh_geom *g, unsigned leaf, const char *what)
{
    rcase c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s_L%u_%s", g->name, leaf, what);
    c.mode = g->mode;
    c.leaf = leaf;
    c.leaf_bits = RWXAD;
    c.edit = -1;
    c.want = OK;
    c.want_pbmt = -1;
    return c;
}

#define FOR_EACH_MODE(g)                                                    \
    for (unsigned gi_ = 0; gi_ < RH_NGEOMS; gi_++)                          \
        for (const rh_geom *g = rh_geom_at(gi_); g != NULL; g = NULL)

/* ==== step 3: V, W without R =========================================== */

static void v_and_xwr_every_level(void **state)
{
    static const uint64_t others[] = {
        0, RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_A | RV_PTE_D,
        RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_U | RV_PTE_G | RV_PTE_A |
            RV_PTE_D,
    };
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned lv = 0; lv < g->levels; lv++) {
        rcase c;
        /* V=0 in the leaf, whatever else is set. */
        for (unsigned i = 0; i < 3; i++) {
            c = base(g, lv, "leaf_v0_faults");
            c.leaf_bits = others[i];
            c.want = PF;
            run(&ck, &c);
        }
        /* W without R: XWR = 010 and 110, with A/D/U/G around them. */
        for (unsigned x = 0; x < 2; x++)
            for (unsigned i = 0; i < 2; i++) {
                c = base(g, lv, x ? "leaf_xwr110_faults"
                                               : "leaf_xwr010_faults");
                c.leaf_bits = RV_PTE_V | RV_PTE_W | (x ? RV_PTE_X : 0) |
                              (i ? RV_PTE_A | RV_PTE_D | RV_PTE_U | RV_PTE_G
                                 : 0);
                c.want = PF;
                run(&ck, &c);
            }
        /* V=0 (and W without R) in each non-leaf entry above. */
        for (unsigned up = lv + 1u; up < g->levels; up++) {
            c = base(g, lv, "nonleaf_v0_faults");
            c.edit = (int)up;
            c.edit_clear = RV_PTE_V;
            c.want = PF;
            run(&ck, &c);
            c = base(g, lv, "nonleaf_w_only_faults");
            c.edit = (int)up;
            c.edit_set = RV_PTE_W;
            c.want = PF;
            run(&ck, &c);
        }
    }
    rh_report(&ck, "V=0 and W-without-R at every level");
}

/* ==== step 4: non-leaf entries ========================================= */

static void nonleaf_reserved_every_level(void **state)
{
    /* D, A, U are reserved in non-leaf PTEs; so are N and PBMT (RV64). */
    static const struct {
        const char *name;
        uint64_t bit;
        bool rv64_only;
    } bits[] = {
        {"nonleaf_d_faults", RV_PTE_D, false},
        {"nonleaf_a_faults", RV_PTE_A, false},
        {"nonleaf_u_faults", RV_PTE_U, false},
        {"nonleaf_n_faults", RV_PTE_N, true},
        {"nonleaf_pbmt1_faults", PBMT(1), true},
        {"nonleaf_pbmt2_faults", PBMT(2), true},
        {"nonleaf_pbmt3_faults", PBMT(3), true},
    };
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned up = 1; up < g->levels; up++) {
        for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++) {
            rcase c;
            if (bits[i].rv64_only && g->xlen == 32)
                continue;
            c = base(g, 0, bits[i].name);
            snprintf(c.name, sizeof c.name, "%s_nonleaf_L%u_%s", g->name,
                     up, bits[i].name);
            c.edit = (int)up;
            c.edit_set = bits[i].bit;
            c.want = PF;
            run(&ck, &c);
        }
        /* G and RSW are allowed in a non-leaf entry. */
        rcase c = base(g, 0, "");
        snprintf(c.name, sizeof c.name, "%s_nonleaf_L%u_g_rsw_allowed",
                 g->name, up);
        c.edit = (int)up;
        c.edit_set = RV_PTE_G | RV_PTE_RSW_MASK;
        c.want_global = true;
        run(&ck, &c);
    }
    /* XWR=000 at level 0: a pointer where none may be. */
    FOR_EACH_MODE(g)
    {
        static const uint64_t extra[] = {0, RV_PTE_G, RV_PTE_A | RV_PTE_D,
                                         RV_PTE_U};
        for (unsigned i = 0; i < 4; i++) {
            rcase c = base(g, 0, "nonleaf_at_level0_faults");
            c.leaf_bits = RV_PTE_V | extra[i];
            c.want = PF;
            run(&ck, &c);
        }
    }
    rh_report(&ck, "non-leaf entries");
}

/* ==== step 6: superpage alignment ====================================== */

static void superpage_alignment_every_level(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned lv = 1; lv < g->levels; lv++) {
        rcase c = base(g, lv, "superpage_aligned_translates");
        run(&ck, &c);
        /* Each of the lowest and highest bit of every ppn[j], j < lv. */
        for (unsigned j = 0; j < lv; j++) {
            unsigned lo = 12u + j * g->vpn_bits;
            unsigned hi = lo + g->vpn_bits - 1u;
            for (unsigned b = lo; b <= hi; b += hi - lo) {
                c = base(g, lv, "");
                snprintf(c.name, sizeof c.name,
                         "%s_L%u_superpage_misaligned_pa_bit%u_faults",
                         g->name, lv, b);
                c.pa_delta = UINT64_C(1) << b;
                c.want = PF;
                run(&ck, &c);
            }
        }
        /* Misaligned and missing A under Svadu: the fault wins and the
         * entry is not written. */
        c = base(g, lv, "superpage_misaligned_svadu_no_write");
        c.leaf_bits = RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_X;
        c.pa_delta = 0x1000;
        c.want = PF;
        run(&ck, &c);
    }
    rh_report(&ck, "superpage alignment");
}

/* ==== reserved bits 60:54, RSW, high PPN bits ========================== */

static void reserved_high_bits_every_level(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned lv = 0; lv < g->levels; lv++) {
        rcase c;
        if (g->xlen == 64) {
            for (unsigned b = 54; b <= 60; b++) {
                c = base(g, lv, "");
                snprintf(c.name, sizeof c.name,
                         "%s_L%u_leaf_reserved_bit%u_faults", g->name, lv, b);
                c.leaf_bits |= UINT64_C(1) << b;
                c.want = PF;
                run(&ck, &c);
                for (unsigned up = lv + 1u; up < g->levels; up++) {
                    c = base(g, lv, "");
                    snprintf(c.name, sizeof c.name,
                             "%s_L%u_nonleaf_L%u_reserved_bit%u_faults",
                             g->name, lv, up, b);
                    c.edit = (int)up;
                    c.edit_set = UINT64_C(1) << b;
                    c.want = PF;
                    run(&ck, &c);
                }
            }
        }
        /* RSW (9:8) is for software: ignored. */
        c = base(g, lv, "leaf_rsw_ignored");
        c.leaf_bits |= RV_PTE_RSW_MASK;
        run(&ck, &c);
        /* The top PA bit is an address bit, not a reserved one. */
        c = base(g, lv, "leaf_top_pa_bit_is_address");
        c.pa_delta = (UINT64_C(1) << (g->pa_bits - 1u)) &
                     ~rh_default_pa(g, lv);
        c.high_va = true;
        run(&ck, &c);
    }
    rh_report(&ck, "reserved high bits");
}

/* ==== Svnapot ========================================================== */

static void svnapot_rules(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    {
        rcase c;
        if (g->xlen == 32)
            continue; /* Sv32 has no N bit */
        for (unsigned hv = 0; hv < 2; hv++) {
            /* ppn[3:0] = 1000 at level 0: a 64 KiB page whose PA low 16
             * bits come from the VA. */
            c = base(g, 0, "napot_64k_translates");
            c.leaf_bits |= RV_PTE_N;
            c.pa_delta = 0x8000;
            c.want_size = NAPOT_64K;
            c.high_va = hv != 0;
            run(&ck, &c);
        }
        for (unsigned enc = 0; enc < 16; enc++) {
            if (enc == 8)
                continue;
            c = base(g, 0, "");
            snprintf(c.name, sizeof c.name,
                     "%s_napot_ppn3_0_0x%x_reserved_faults", g->name, enc);
            c.leaf_bits |= RV_PTE_N;
            c.pa_delta = (uint64_t)enc << 12;
            c.want = PF;
            run(&ck, &c);
        }
        /* Reserved encoding with A/D clear under Svadu: no write. */
        c = base(g, 0, "napot_reserved_svadu_no_write");
        c.leaf_bits = RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_N;
        c.pa_delta = 0x4000;
        c.want = PF;
        run(&ck, &c);
        /* N without Svnapot. */
        c = base(g, 0, "napot_without_svnapot_faults");
        c.leaf_bits |= RV_PTE_N;
        c.pa_delta = 0x8000;
        c.ext_clear = MMU_RV_EXT_SVNAPOT;
        c.want = PF;
        run(&ck, &c);
        /* N in a superpage leaf, aligned or with ppn[3:0] = 1000. */
        for (unsigned lv = 1; lv < g->levels; lv++)
            for (unsigned k = 0; k < 2; k++) {
                c = base(g, lv, k ? "napot_superpage_1000_faults"
                                               : "napot_superpage_faults");
                c.leaf_bits |= RV_PTE_N;
                c.pa_delta = k ? 0x8000 : 0;
                c.want = PF;
                run(&ck, &c);
            }
    }
    rh_report(&ck, "Svnapot");
}

/* ==== Svpbmt ============================================================ */

static void svpbmt_rules(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned lv = 0; lv < g->levels; lv++) {
        rcase c;
        if (g->xlen == 32)
            continue;
        for (unsigned t = 0; t < 3; t++) {
            c = base(g, lv, "");
            snprintf(c.name, sizeof c.name, "%s_L%u_pbmt%u_translates",
                     g->name, lv, t);
            c.leaf_bits |= PBMT(t);
            c.want_pbmt = (int)t;
            run(&ck, &c);
        }
        c = base(g, lv, "pbmt3_reserved_faults");
        c.leaf_bits |= PBMT(3);
        c.want = PF;
        run(&ck, &c);
        for (unsigned t = 1; t < 3; t++) {
            c = base(g, lv, "pbmt_without_svpbmt_faults");
            c.leaf_bits |= PBMT(t);
            c.ext_clear = MMU_RV_EXT_SVPBMT;
            c.want = PF;
            run(&ck, &c);
            c = base(g, lv, "pbmt_with_pbmte0_faults");
            c.leaf_bits |= PBMT(t);
            c.menvcfg_clear = RV_MENVCFG_PBMTE;
            c.want = PF;
            run(&ck, &c);
        }
        /* PBMT=0 needs neither. */
        c = base(g, lv, "pbmt0_without_svpbmt_translates");
        c.ext_clear = MMU_RV_EXT_SVPBMT;
        c.menvcfg_clear = RV_MENVCFG_PBMTE;
        c.want_pbmt = 0;
        run(&ck, &c);
    }
    rh_report(&ck, "Svpbmt");
}

/* ==== G ================================================================= */

static void global_every_level(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    FOR_EACH_MODE(g)
    for (unsigned lv = 0; lv < g->levels; lv++) {
        rcase c = base(g, lv, "not_global");
        run(&ck, &c);
        c = base(g, lv, "leaf_g_global");
        c.leaf_bits |= RV_PTE_G;
        c.want_global = true;
        run(&ck, &c);
        for (unsigned up = lv + 1u; up < g->levels; up++) {
            c = base(g, lv, "");
            snprintf(c.name, sizeof c.name,
                     "%s_L%u_nonleaf_L%u_g_makes_leaf_global", g->name, lv,
                     up);
            c.edit = (int)up;
            c.edit_set = RV_PTE_G;
            c.want_global = true;
            run(&ck, &c);
        }
        c = base(g, lv, "all_tables_g_global");
        c.table = RV_PTE_G;
        c.want_global = lv + 1u < g->levels;
        run(&ck, &c);
    }
    rh_report(&ck, "G");
}

/* ==== named cases ======================================================= */

static const rcase named[] = {
    {.name = "sv39_4k_rwx_translates", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD, .edit = -1, .want = OK, .want_pbmt = 0},
    {.name = "sv39_superpage_2m_translates", .mode = MMU_MODE_SV39,
     .leaf = 1, .leaf_bits = RWXAD, .edit = -1, .want = OK, .want_pbmt = -1},
    {.name = "sv39_superpage_1g_translates", .mode = MMU_MODE_SV39,
     .leaf = 2, .leaf_bits = RWXAD, .edit = -1, .high_va = true, .want = OK,
     .want_pbmt = -1},
    {.name = "sv39_superpage_misaligned_faults", .mode = MMU_MODE_SV39,
     .leaf = 1, .leaf_bits = RWXAD, .pa_delta = 0x1000, .edit = -1,
     .want = PF},
    {.name = "sv39_1g_superpage_misaligned_ppn1_faults",
     .mode = MMU_MODE_SV39, .leaf = 2, .leaf_bits = RWXAD,
     .pa_delta = 0x200000, .edit = -1, .want = PF},
    {.name = "sv32_superpage_4m_translates", .mode = MMU_MODE_SV32,
     .leaf = 1, .leaf_bits = RWXAD, .edit = -1, .want = OK, .want_pbmt = -1},
    {.name = "sv32_superpage_misaligned_faults", .mode = MMU_MODE_SV32,
     .leaf = 1, .leaf_bits = RWXAD, .pa_delta = 0x200000, .edit = -1,
     .want = PF},
    {.name = "sv48_superpage_512g_misaligned_faults", .mode = MMU_MODE_SV48,
     .leaf = 3, .leaf_bits = RWXAD, .pa_delta = UINT64_C(0x40000000),
     .edit = -1, .want = PF},
    {.name = "sv57_superpage_256t_translates", .mode = MMU_MODE_SV57,
     .leaf = 4, .leaf_bits = RWXAD, .edit = -1, .want = OK, .want_pbmt = -1},
    {.name = "sv39_leaf_v0_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD & ~RV_PTE_V, .edit = -1, .want = PF},
    {.name = "sv39_write_only_leaf_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RV_PTE_V | RV_PTE_W | RV_PTE_A | RV_PTE_D, .edit = -1,
     .want = PF},
    {.name = "sv39_write_execute_leaf_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RV_PTE_V | RV_PTE_W | RV_PTE_X | RV_PTE_A | RV_PTE_D,
     .edit = -1, .want = PF},
    {.name = "sv39_nonleaf_dirty_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD, .edit = 1, .edit_set = RV_PTE_D, .want = PF},
    {.name = "sv39_nonleaf_accessed_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD, .edit = 2, .edit_set = RV_PTE_A, .want = PF},
    {.name = "sv39_nonleaf_user_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD, .edit = 1, .edit_set = RV_PTE_U, .want = PF},
    {.name = "sv48_nonleaf_napot_faults", .mode = MMU_MODE_SV48,
     .leaf_bits = RWXAD, .edit = 3, .edit_set = RV_PTE_N, .want = PF},
    {.name = "sv57_nonleaf_pbmt_faults", .mode = MMU_MODE_SV57,
     .leaf_bits = RWXAD, .edit = 4, .edit_set = PBMT(1), .want = PF},
    {.name = "sv39_nonleaf_at_level0_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RV_PTE_V, .edit = -1, .want = PF},
    {.name = "sv39_reserved_bit60_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | (UINT64_C(1) << 60), .edit = -1, .want = PF},
    {.name = "sv39_reserved_bit54_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | (UINT64_C(1) << 54), .edit = -1, .want = PF},
    {.name = "sv39_rsw_ignored", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | RV_PTE_RSW_MASK, .edit = -1, .want = OK,
     .want_pbmt = -1},
    {.name = "sv39_napot_64k_translates", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | RV_PTE_N, .pa_delta = 0x8000, .edit = -1,
     .want = OK, .want_size = NAPOT_64K, .want_pbmt = -1},
    {.name = "sv39_napot_bad_encoding_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | RV_PTE_N, .pa_delta = 0xc000, .edit = -1,
     .want = PF},
    {.name = "sv39_napot_superpage_faults", .mode = MMU_MODE_SV39,
     .leaf = 1, .leaf_bits = RWXAD | RV_PTE_N, .edit = -1, .want = PF},
    {.name = "sv39_napot_without_svnapot_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | RV_PTE_N, .pa_delta = 0x8000, .edit = -1,
     .ext_clear = MMU_RV_EXT_SVNAPOT, .want = PF},
    {.name = "sv39_pbmt_io_translates", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | PBMT(RV_PBMT_IO), .edit = -1, .want = OK,
     .want_pbmt = RV_PBMT_IO},
    {.name = "sv39_pbmt3_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | PBMT(3), .edit = -1, .want = PF},
    {.name = "sv39_pbmt_without_svpbmt_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | PBMT(RV_PBMT_NC), .edit = -1,
     .ext_clear = MMU_RV_EXT_SVPBMT, .want = PF},
    {.name = "sv39_pbmt_with_pbmte0_faults", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD | PBMT(RV_PBMT_NC), .edit = -1,
     .menvcfg_clear = RV_MENVCFG_PBMTE, .want = PF},
    {.name = "sv39_global_nonleaf_makes_leaf_global", .mode = MMU_MODE_SV39,
     .leaf_bits = RWXAD, .edit = 2, .edit_set = RV_PTE_G, .want = OK,
     .want_global = true, .want_pbmt = -1},
    {.name = "sv32_top_pa_bit33_is_address", .mode = MMU_MODE_SV32,
     .leaf_bits = RWXAD, .pa_delta = UINT64_C(0x200000000), .edit = -1,
     .want = OK, .want_pbmt = -1},
};

static void named_cases(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned i = 0; i < sizeof named / sizeof named[0]; i++)
        run(&ck, &named[i]);
    rh_report(&ck, "named cases");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(named_cases),
        cmocka_unit_test(v_and_xwr_every_level),
        cmocka_unit_test(nonleaf_reserved_every_level),
        cmocka_unit_test(superpage_alignment_every_level),
        cmocka_unit_test(reserved_high_bits_every_level),
        cmocka_unit_test(svnapot_rules),
        cmocka_unit_test(svpbmt_rules),
        cmocka_unit_test(global_every_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
