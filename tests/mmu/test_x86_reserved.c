/*
 * test_x86_reserved.c - reserved bits in x86 paging-structure entries,
 * per level and per mode (SDM vol. 3A tables 4-4..4-20, 4.7 RSVD flag).
 *
 * The case table is generated: for 32-bit, PAE, 4-level and 5-level
 * paging with every page size, every level of the path and a set of
 * MAXPHYADDR values, each candidate bit is set in one entry and the
 * access must either fault with RSVD (P=1, W/U/I as for any #PF, the walk
 * stopping at that level, nothing written) or translate (ignored bits,
 * address bits below MAXPHYADDR, PAT in large leaves).
 *
 * Reserved (must be 0), as the tables give them:
 *   - address bits MAXPHYADDR..51 in every 64-bit-format entry;
 *   - bit 63 when IA32_EFER.NXE = 0 (PAE, 4-level, 5-level);
 *   - PS (bit 7) in a PML4E or PML5E;
 *   - 2M leaves: bits 20:13; 1G leaves: bits 29:13 (bit 12 is PAT);
 *   - PAE PDEs and PTEs: bits 62:52 (IA-32e: ignored, or the protection
 *     key with CR4.PKE=1 - PKE stays 0 here);
 *   - 32-bit 4M PDEs: bits 21:(M-19) with M = min(40, MAXPHYADDR); bits
 *     (M-20):13 are PA bits (M-1):32 (PSE-36); 32-bit 4K entries have none.
 * PAE PDPTE reserved bits raise #GP at load time: see test_x86_modes.c.
 */
#include "x86_harness.h"
#include "x86_oracle.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define M4 UINT64_C(0x400000)
#define G1 UINT64_C(0x40000000)
#define RWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define BIT(n) (UINT64_C(1) << (n))

typedef enum want_kind {
    WANT_OK,       /* translates; PA gains the bits pa_or */
    WANT_RSVD,     /* #PF, P|RSVD, at the modified level */
    WANT_BAD_PHYS, /* the modified table pointer leaves RAM */
} want_kind;

typedef struct rsvd_row {
    mmu_paging_mode mode;
    uint64_t size;   /* page size of the mapping */
    unsigned level;  /* entry modified */
    unsigned bit;
    uint8_t maxphyaddr;
    bool nxe;
    want_kind want;
    uint64_t pa_or; /* WANT_OK: how the PA changes */
    const char *why;
} rsvd_row;

#define MAX_ROWS 4096
static rsvd_row rows[MAX_ROWS];
static unsigned n_rows;

static void emit(mmu_paging_mode mode, uint64_t size, unsigned level,
                 unsigned bit, uint8_t maxphy, bool nxe, want_kind want,
                 uint64_t pa_or, const char *why)
{
    assert_true(n_rows < MAX_ROWS);
    rows[n_rows++] = (rsvd_row){mode, size, level, bit, maxphy, nxe, want,
                                pa_or, why};
}

static unsigned leaf_of(mmu_paging_mode mode, uint64_t size)
{
    return xh_level_for(mode, size);
}

/* Rows for PAE, 4-level and 5-level paging. */
static void gen_64bit(mmu_paging_mode mode, uint64_t size)
{
    const mmu_mode_info *mi = mmu_mode_get(mode);
    bool pae = mode == MMU_MODE_X86_PAE;
    unsigned leaf = leaf_of(mode, size);
    unsigned top = pae ? 1u : mi->levels - 1u; /* PAE PDPTE: load time */
    static const uint8_t maxphys[] = {36, 39, 46, 52};

    for (unsigned l = leaf; l <= top; l++) {
        bool is_leaf = l == leaf;
        for (size_t m = 0; m < sizeof maxphys; m++) {
            uint8_t mp = maxphys[m];
            for (unsigned b = mp; b < 52; b++)
                emit(mode, size, l, b, mp, true, WANT_RSVD, 0,
                     "address bit at or above MAXPHYADDR");
            /* The last bit below MAXPHYADDR is an address bit. */
            if (is_leaf)
                emit(mode, size, l, mp - 1u, mp, true, WANT_OK, BIT(mp - 1u),
                     "address bit MAXPHYADDR-1 (leaf)");
            else
                emit(mode, size, l, mp - 1u, mp, true, WANT_BAD_PHYS, 0,
                     "address bit MAXPHYADDR-1 moves the table");
        }
        emit(mode, size, l, 63, 52, false, WANT_RSVD, 0, "XD with NXE=0");
        emit(mode, size, l, 63, 52, true, WANT_OK, 0, "XD with NXE=1");
        for (unsigned b = 52; b <= 62; b++)
            emit(mode, size, l, b, 52, true, pae ? WANT_RSVD : WANT_OK, 0,
                 pae ? "PAE: bits 62:52 reserved"
                     : "IA-32e: bits 62:52 ignored (PKE=0)");
        if (l >= 3)
            emit(mode, size, l, 7, 52, true, WANT_RSVD, 0,
                 "PS in a PML4E/PML5E");
        if (is_leaf && l > 0) {
            unsigned hi = l == 1 ? 20 : 29;
            for (unsigned b = 13; b <= hi; b++)
                emit(mode, size, l, b, 52, true, WANT_RSVD, 0,
                     "large-page alignment bit");
            emit(mode, size, l, 12, 52, true, WANT_OK, 0,
                 "PAT (bit 12) in a large leaf");
        }
        /* Bits no format reserves. */
        emit(mode, size, l, 3, 52, true, WANT_OK, 0, "PWT");
        emit(mode, size, l, 4, 52, true, WANT_OK, 0, "PCD");
        emit(mode, size, l, 8, 52, true, WANT_OK, 0,
             is_leaf ? "G in a leaf" : "bit 8 ignored in a non-leaf");
        for (unsigned b = 9; b <= 11; b++)
            emit(mode, size, l, b, 52, true, WANT_OK, 0, "ignored 11:9");
        if (!is_leaf)
            emit(mode, size, l, 6, 52, true, WANT_OK, 0,
                 "bit 6 ignored in a non-leaf");
        if (is_leaf && l == 0)
            emit(mode, size, l, 7, 52, true, WANT_OK, 0, "PAT in a 4K PTE");
    }
}

/* Rows for 32-bit paging. */
static void gen_32bit(void)
{
    /* 4K: neither the PDE nor the PTE has reserved bits (tables 4-6,
     * 4-7); MAXPHYADDR does not matter for them. */
    for (unsigned l = 0; l <= 1; l++) {
        for (unsigned b = 6; b <= 11; b++) {
            if (l == 1 && b == 7)
                continue; /* PS: that is the 4M format */
            emit(MMU_MODE_X86_32, K4, l, b, 32, false, WANT_OK, 0,
                 "32-bit 4K: no reserved bits");
            emit(MMU_MODE_X86_32, K4, l, b, 36, false, WANT_OK, 0,
                 "32-bit 4K: no reserved bits");
        }
        emit(MMU_MODE_X86_32, K4, l, 3, 32, false, WANT_OK, 0, "PWT");
        emit(MMU_MODE_X86_32, K4, l, 4, 32, false, WANT_OK, 0, "PCD");
    }
    /* 4M (table 4-4): M = min(40, MAXPHYADDR); bits (M-20):13 hold PA
     * bits (M-1):32, bits 21:(M-19) are reserved. */
    static const uint8_t maxphys[] = {32, 36, 39, 40, 46, 52};
    for (size_t m = 0; m < sizeof maxphys; m++) {
        uint8_t mp = maxphys[m];
        unsigned mm = mp < 40 ? mp : 40;
        for (unsigned b = 13; b <= 21; b++) {
            if (b + 20 <= mm) /* b <= M-20 */
                emit(MMU_MODE_X86_32, M4, 1, b, mp, false, WANT_OK,
                     BIT(b - 13 + 32), "PSE-36 PA bit");
            else
                emit(MMU_MODE_X86_32, M4, 1, b, mp, false, WANT_RSVD, 0,
                     "4M PDE bits 21:(M-19)");
        }
    }
    emit(MMU_MODE_X86_32, M4, 1, 12, 52, false, WANT_OK, 0, "PAT in a 4M PDE");
    emit(MMU_MODE_X86_32, M4, 1, 8, 52, false, WANT_OK, 0, "G in a 4M PDE");
}

static void generate(void)
{
    n_rows = 0;
    gen_32bit();
    gen_64bit(MMU_MODE_X86_PAE, K4);
    gen_64bit(MMU_MODE_X86_PAE, M2);
    static const mmu_paging_mode ia32e[] = {MMU_MODE_X86_4LEVEL,
                                            MMU_MODE_X86_5LEVEL};
    static const uint64_t sizes[] = {K4, M2, G1};
    for (size_t i = 0; i < 2; i++)
        for (size_t s = 0; s < 3; s++)
            gen_64bit(ia32e[i], sizes[s]);
}

/* ---- running the table ------------------------------------------------- */

typedef struct run_ctx {
    const rsvd_row *row;
    mmu_access acc;
    unsigned cpl;
} run_ctx;

static void describe_row(const void *arg, char *buf, size_t len)
{
    const run_ctx *rc = arg;
    const rsvd_row *r = rc->row;
    snprintf(buf, len,
             "%s %s-page %s bit %u MAXPHYADDR=%u NXE=%u (%s) | %s cpl%u",
             mmu_mode_get(r->mode)->name,
             r->size == K4 ? "4K" : r->size == M2 ? "2M"
                                : r->size == M4 ? "4M" : "1G",
             xh_level_name(r->mode, r->level), r->bit, r->maxphyaddr, r->nxe,
             r->why, mmu_access_name(rc->acc), rc->cpl);
}

typedef struct setup {
    mmu_paging_mode mode;
    uint64_t size, va, pa, off;
} setup;

/* PAs below 2^35: valid with every MAXPHYADDR the table uses. */
static const setup setups[] = {
    {MMU_MODE_X86_32, K4, 0x00c03000, 0x12345000, 0x5a8},
    {MMU_MODE_X86_32, M4, 0x80c00000, 0xfe800000, 0x2a5a8},
    {MMU_MODE_X86_PAE, K4, 0xc0603000, 0x2bcdef000, 0x5a8},
    {MMU_MODE_X86_PAE, M2, 0x80400000, 0x34600000, 0x12345},
    {MMU_MODE_X86_4LEVEL, K4, 0x00007f8040603000, 0x2bcdef000, 0x5a8},
    {MMU_MODE_X86_4LEVEL, M2, 0x00007f8040600000, 0x2bcc00000, 0x12345},
    {MMU_MODE_X86_4LEVEL, G1, 0x00007f8040000000, 0x340000000, 0x2345678},
    {MMU_MODE_X86_5LEVEL, K4, 0xff5ab3c040603000, 0x2bcdef000, 0x5a8},
    {MMU_MODE_X86_5LEVEL, M2, 0x00a0123456600000, 0x2bcc00000, 0x1fff8},
    {MMU_MODE_X86_5LEVEL, G1, 0x00a0123440000000, 0x340000000, 0x2345678},
};

static void run_row(xh_check *ck, tu_machine *t, xh_path *p, const setup *s,
                    const rsvd_row *r)
{
    static const mmu_access accs[] = {MMU_READ, MMU_WRITE, MMU_FETCH};
    for (unsigned a = 0; a < 3; a++) {
        for (unsigned cpl = 0; cpl < 4; cpl += 3) {
            run_ctx rc = {r, accs[a], cpl};
            /* A fetch from an XD page is a protection fault, not this
             * test's business. */
            if (r->bit == 63 && r->nxe && accs[a] == MMU_FETCH)
                continue;
            for (unsigned l = p->leaf; l <= p->top; l++)
                if (!(p->pae && l == p->top))
                    xh_set_flags(p, l, RWU);
            xh_set(p, r->level, xh_get(p, r->level) | BIT(r->bit));
            xo_ctl c = {.mode = r->mode, .wp = true, .nxe = r->nxe};
            xo_apply(&c, &t->ctx.st.x86);
            t->ctx.st.x86.maxphyaddr = r->maxphyaddr;
            uint64_t before[MMU_MAX_LEVELS];
            for (unsigned l = p->leaf; l <= p->top; l++)
                before[l] = xh_get(p, l);

            mmu_result res;
            mmu_fault flt;
            uint64_t va = s->va + s->off;
            xh_case_begin(ck);
            bool ok = xh_translate(t, va, accs[a], cpl, 0, &res, &flt);
            XH_EQ(ck, describe_row, &rc, "ok", ok, r->want == WANT_OK);
            if (ok && r->want == WANT_OK) {
                XH_EQ(ck, describe_row, &rc, "pa", res.pa,
                      (s->pa + s->off) | r->pa_or);
                XH_EQ(ck, describe_row, &rc, "page_size", res.page_size,
                      s->size);
            } else if (!ok && r->want == WANT_RSVD) {
                xo_who w = {accs[a], cpl, false};
                XH_EQ(ck, describe_row, &rc, "kind", flt.kind,
                      MMU_FAULT_PAGE);
                XH_EQ(ck, describe_row, &rc, "error code", flt.code,
                      xo_pf_code(&c, &w, XO_RESERVED, NULL));
                XH_EQ(ck, describe_row, &rc, "cr2", flt.addr, va);
                XH_EQ(ck, describe_row, &rc, "fault level",
                      (int64_t)flt.level, (int64_t)r->level);
            } else if (!ok && r->want == WANT_BAD_PHYS) {
                XH_EQ(ck, describe_row, &rc, "kind", flt.kind,
                      MMU_FAULT_BAD_PHYS);
                XH_EQ(ck, describe_row, &rc, "fault level",
                      (int64_t)flt.level, (int64_t)r->level - 1);
            } else if (!ok) {
                XH_EQ(ck, describe_row, &rc, "(fault kind)", flt.kind, 0);
                XH_EQ(ck, describe_row, &rc, "(fault code)", flt.code, 0);
            }
            if (!ok) /* nothing written on a faulting walk */
                for (unsigned l = p->leaf; l <= p->top; l++)
                    XH_EQ(ck, describe_row, &rc, "entry unchanged",
                          xh_get(p, l), before[l]);
        }
    }
}

static void x86_reserved_bits_table(void **state)
{
    (void)state;
    xh_check ck = {0};
    unsigned rsvd = 0, okrows = 0;
    generate();
    for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
        const setup *s = &setups[i];
        tu_machine t;
        xh_path p;
        xh_machine(&t, s->mode);
        xh_map(&p, &t, s->va, s->pa, s->size);
        xh_check one = {0};
        for (unsigned r = 0; r < n_rows; r++) {
            if (rows[r].mode != s->mode || rows[r].size != s->size)
                continue;
            run_row(&one, &t, &p, s, &rows[r]);
            rsvd += rows[r].want == WANT_RSVD;
            okrows += rows[r].want != WANT_RSVD;
        }
        char what[64];
        snprintf(what, sizeof what, "%s %s pages", mmu_mode_get(s->mode)->name,
                 s->size == K4 ? "4K" : s->size == M2 ? "2M"
                                    : s->size == M4 ? "4M" : "1G");
        xh_report(&one, what);
        ck.cases += one.cases;
        ck.bad_cases += one.bad_cases;
        ck.shown += one.shown;
        tu_machine_free(&t);
    }
    print_message("%u rows (%u reserved, %u not reserved)\n", n_rows, rsvd,
                  okrows);
    xh_finish(&ck, "reserved bits");
}

/* ---- named cases ------------------------------------------------------- */

/* Reserved bits are not checked in an entry with P=0 (SDM 4.7: "RSVD ...
 * can be set only if bit 0 is also set"). */
static void x86_reserved_bit_ignored_when_not_present(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    xh_machine(&t, MMU_MODE_X86_4LEVEL);
    t.ctx.st.x86.maxphyaddr = 36;
    t.ctx.st.x86.efer &= ~X86_EFER_NXE;
    xh_map(&p, &t, 0x00007f8040603000, 0x5000, K4);
    xh_set(&p, 1, (xh_get(&p, 1) | BIT(51) | BIT(63)) & ~X86_PTE_P);
    xh_expect_pf(&ck, "PDE P=0 with bits 51 and 63", &t, 0x00007f8040603000,
                 MMU_WRITE, 3, 0, X86_PF_W | X86_PF_U, 1);
    /* A reserved bit below a not-present entry is never seen. */
    xh_set(&p, 1, xh_get(&p, 1) & ~(BIT(51) | BIT(63)));
    xh_set(&p, 0, xh_get(&p, 0) | BIT(40));
    xh_expect_pf(&ck, "PDE P=0 above a PTE with bit 40", &t,
                 0x00007f8040603000, MMU_READ, 0, 0, 0, 1);
    tu_machine_free(&t);
    xh_finish(&ck, "reserved vs not present");
}

/* The walk stops at the first entry with a reserved bit: a user access to
 * a supervisor page with a reserved bit in the leaf reports RSVD (and U),
 * and a reserved bit in an upper level wins over a P=0 leaf. */
static void x86_reserved_bit_reported_before_rights(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    xh_machine(&t, MMU_MODE_X86_4LEVEL);
    t.ctx.st.x86.cr4 |= X86_CR4_SMEP;
    xh_map(&p, &t, 0x00007f8040603000, 0x5000, K4);
    xh_set(&p, 0, (xh_get(&p, 0) & ~X86_PTE_US) | BIT(51));
    t.ctx.st.x86.maxphyaddr = 48;
    xh_expect_pf(&ck, "user read, supervisor PTE with bit 51", &t,
                 0x00007f8040603000, MMU_READ, 3, 0,
                 X86_PF_P | X86_PF_RSVD | X86_PF_U, 0);
    xh_expect_pf(&ck, "user fetch, same PTE (NXE, SMEP: I)", &t,
                 0x00007f8040603000, MMU_FETCH, 3, 0,
                 X86_PF_P | X86_PF_RSVD | X86_PF_U | X86_PF_I, 0);
    xh_set(&p, 0, 0);
    xh_set(&p, 2, xh_get(&p, 2) | BIT(50));
    xh_expect_pf(&ck, "PDPTE bit 50 above a P=0 PTE", &t,
                 0x00007f8040603000, MMU_READ, 0, 0,
                 X86_PF_P | X86_PF_RSVD, 2);
    tu_machine_free(&t);
    xh_finish(&ck, "reserved before rights");
}

/* With NXE=0 bit 63 is reserved; a fetch fault then has I only with SMEP
 * (4.7: I needs SMEP, or PAE/IA-32e with NXE=1). */
static void x86_xd_reserved_fetch_error_code(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    xh_machine(&t, MMU_MODE_X86_PAE);
    xh_map(&p, &t, 0xc0603000, 0x5000, K4);
    t.ctx.st.x86.efer = 0;
    xh_set(&p, 0, xh_get(&p, 0) | X86_PTE_NX);
    xh_expect_pf(&ck, "PAE PTE.XD, NXE=0, no SMEP", &t, 0xc0603000,
                 MMU_FETCH, 0, 0, X86_PF_P | X86_PF_RSVD, 0);
    t.ctx.st.x86.cr4 |= X86_CR4_SMEP;
    xh_expect_pf(&ck, "PAE PTE.XD, NXE=0, SMEP", &t, 0xc0603000, MMU_FETCH, 0,
                 0, X86_PF_P | X86_PF_RSVD | X86_PF_I, 0);
    tu_machine_free(&t);
    xh_finish(&ck, "XD reserved fetch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_reserved_bits_table),
        cmocka_unit_test(x86_reserved_bit_ignored_when_not_present),
        cmocka_unit_test(x86_reserved_bit_reported_before_rights),
        cmocka_unit_test(x86_xd_reserved_fetch_error_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
