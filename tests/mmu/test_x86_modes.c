/*
 * test_x86_modes.c - x86 paging-mode selection and per-mode address
 * formation (SDM vol. 3A 4.1.1, 4.3 32-bit paging, 4.4 PAE paging, 4.5
 * 4-level and 5-level paging).
 *
 * Covers: mode selection from CR0.PG / CR4.PAE / IA32_EFER.LMA /
 * CR4.LA57; paging off; 32-bit 4K and 4M pages incl. PSE-36 PA bits and
 * PS ignored with CR4.PSE=0; PAE 4K/2M, the PDPTE registers (loaded by
 * MOV CR3, never re-read by a walk, #GP on reserved bits 2:1, 8:5 and
 * 63:MAXPHYADDR of a present PDPTE, CR3 bits 31:5); 4-level 4K/2M/1G and
 * 1G pages without CPUID Page1GB; 5-level with VA bits 56:48; the walk
 * record of each mode.
 */
#include "x86_harness.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define M4 UINT64_C(0x400000)
#define G1 UINT64_C(0x40000000)
#define RWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)

/* ---- mode selection ---------------------------------------------------- */

static void x86_mode_selected_from_control_registers(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t cr0, cr4, efer;
        mmu_paging_mode want;
    } rows[] = {
        {"PG=0", X86_CR0_PE, X86_CR4_PAE, 0, MMU_MODE_NONE},
        {"PG=0 with LME", X86_CR0_PE, X86_CR4_PAE | X86_CR4_LA57,
         X86_EFER_LME, MMU_MODE_NONE},
        {"PG=1 PAE=0", X86_CR0_PE | X86_CR0_PG, X86_CR4_PSE, 0,
         MMU_MODE_X86_32},
        {"PG=1 PAE=1 LMA=0", X86_CR0_PE | X86_CR0_PG, X86_CR4_PAE, 0,
         MMU_MODE_X86_PAE},
        /* LA57 only matters in IA-32e mode (SDM 4.1.1). */
        {"PG=1 PAE=1 LMA=0 LA57=1", X86_CR0_PE | X86_CR0_PG,
         X86_CR4_PAE | X86_CR4_LA57, 0, MMU_MODE_X86_PAE},
        {"PG=1 PAE=1 LMA=1", X86_CR0_PE | X86_CR0_PG, X86_CR4_PAE,
         X86_EFER_LME | X86_EFER_LMA, MMU_MODE_X86_4LEVEL},
        {"PG=1 PAE=1 LMA=1 LA57=1", X86_CR0_PE | X86_CR0_PG,
         X86_CR4_PAE | X86_CR4_LA57, X86_EFER_LME | X86_EFER_LMA,
         MMU_MODE_X86_5LEVEL},
    };
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mmu_state st;
        mmu_state_init_x86(&st);
        st.x86.cr0 = rows[i].cr0;
        st.x86.cr4 = rows[i].cr4;
        st.x86.efer = rows[i].efer;
        xh_case_begin(&ck);
        XH_EQ(&ck, xh_describe_str, rows[i].name, "mode", mmu_state_mode(&st),
              rows[i].want);
    }
    xh_finish(&ck, "mode selection");
}

static void x86_state_init_defaults(void **state)
{
    (void)state;
    mmu_state st;
    mmu_state_init_x86(&st);
    assert_int_equal(st.arch, MMU_ARCH_X86);
    assert_int_equal(mmu_state_mode(&st), MMU_MODE_NONE);
    assert_int_equal(st.x86.maxphyaddr, 52);
    assert_true(st.x86.has_1g_pages);
}

/* ---- paging off -------------------------------------------------------- */

static void x86_paging_off_is_identity_for_everyone(void **state)
{
    (void)state;
    tu_machine t;
    xh_check ck = {0};
    xh_machine(&t, MMU_MODE_X86_32);
    t.ctx.st.x86.cr0 = X86_CR0_PE; /* PG=0; CR4.SMEP/SMAP do not apply */
    t.ctx.st.x86.cr4 = X86_CR4_SMEP | X86_CR4_SMAP;
    static const uint64_t vas[] = {0, 0x12345678, 0xfffff123, 0x001ff000};
    for (size_t i = 0; i < sizeof vas / sizeof vas[0]; i++) {
        for (unsigned a = 0; a < 3; a++) {
            for (unsigned cpl = 0; cpl < 4; cpl += 3) {
                mmu_result res;
                char name[96];
                snprintf(name, sizeof name, "paging off va=0x%llx %s cpl%u",
                         (unsigned long long)vas[i],
                         mmu_access_name((mmu_access)a), cpl);
                if (!xh_expect_ok(&ck, name, &t, vas[i], (mmu_access)a, cpl,
                                  0, vas[i], K4, &res))
                    continue;
                XH_EQ(&ck, xh_describe_str, name, "mode", res.mode,
                      MMU_MODE_NONE);
                XH_EQ(&ck, xh_describe_str, name, "walk steps", res.walk.n,
                      0);
                XH_EQ(&ck, xh_describe_str, name, "perms R|W|X",
                      res.perms & (MMU_PERM_R | MMU_PERM_W | MMU_PERM_X),
                      MMU_PERM_R | MMU_PERM_W | MMU_PERM_X);
            }
        }
    }
    XH_EQ(&ck, xh_describe_str, "paging off", "entries read",
          t.ctx.stats.walk_reads, 0);
    tu_machine_free(&t);
    xh_finish(&ck, "paging off");
}

/* ---- walk record ------------------------------------------------------- */

/* The walk record must list the entries used, root first, with their
 * addresses and the values read (before A/D). */
static void check_walk(xh_check *ck, const char *name, const xh_path *p,
                       const mmu_walk *w, const uint64_t *before)
{
    XH_EQ(ck, xh_describe_str, name, "walk steps", w->n,
          p->top - p->leaf + 1u);
    for (unsigned i = 0; i < w->n && i < MMU_MAX_LEVELS; i++) {
        unsigned l = p->top - i;
        char what[48];
        snprintf(what, sizeof what, "walk step %u level", i);
        XH_EQ(ck, xh_describe_str, name, what, w->step[i].level, l);
        snprintf(what, sizeof what, "walk step %u addr", i);
        XH_EQ(ck, xh_describe_str, name, what, w->step[i].addr, p->addr[l]);
        snprintf(what, sizeof what, "walk step %u pte", i);
        XH_EQ(ck, xh_describe_str, name, what, w->step[i].pte, before[l]);
    }
}

/* ---- basic translation in every mode ----------------------------------- */

typedef struct basic_row {
    const char *name;
    mmu_paging_mode mode;
    uint64_t va, pa, size, off;
    uint8_t maxphyaddr; /* 0: default (52) */
} basic_row;

static const basic_row basics[] = {
    {"32-bit 4K", MMU_MODE_X86_32, 0x00c03000, 0x12345000, K4, 0xabc, 0},
    {"32-bit 4M", MMU_MODE_X86_32, 0x80c00000, 0xfe800000, M4, 0x3abcde, 0},
    /* PSE-36: PA bits 39:32 come from PDE bits 20:13 (M = 40). */
    {"32-bit 4M PSE-36 PA 39:32", MMU_MODE_X86_32, 0x80c00000,
     0xab12c00000, M4, 0x3abcde, 0},
    /* MAXPHYADDR 36: M = 36, PA bits 35:32 from PDE bits 16:13. */
    {"32-bit 4M PSE-36 MAXPHYADDR 36", MMU_MODE_X86_32, 0x00400000,
     0x9fec00000, M4, 0x12345, 36},
    {"PAE 4K", MMU_MODE_X86_PAE, 0xc0603000, 0xabcdef000, K4, 0xabc, 0},
    {"PAE 2M", MMU_MODE_X86_PAE, 0x80400000, 0x1234600000, M2, 0x1abcde, 0},
    {"PAE 4K PA at MAXPHYADDR 52 limit", MMU_MODE_X86_PAE, 0x00001000,
     0xffffffffff000, K4, 0x8, 0},
    {"4-level 4K", MMU_MODE_X86_4LEVEL, 0x00007f8040603000, 0xabcdef000,
     K4, 0xabc, 0},
    {"4-level 4K upper half", MMU_MODE_X86_4LEVEL, 0xffffffffffe03000,
     0xffffffffff000, K4, 0xff8, 0},
    {"4-level 2M", MMU_MODE_X86_4LEVEL, 0x00007f8040600000, 0xabcde00000,
     M2, 0x1abcde, 0},
    {"4-level 1G", MMU_MODE_X86_4LEVEL, 0x00007f8040000000, 0x12340000000,
     G1, 0x3abcdef8, 0},
    {"5-level 4K VA bits 56:48", MMU_MODE_X86_5LEVEL, 0x00ab7f8040603000,
     0xabcdef0123000, K4, 0xabc, 0},
    {"5-level 4K upper half", MMU_MODE_X86_5LEVEL, 0xff00000040603000,
     0x5000, K4, 0x1, 0},
    {"5-level 2M", MMU_MODE_X86_5LEVEL, 0x00ff7f8040600000, 0xabcde00000,
     M2, 0x1abcde, 0},
    {"5-level 1G", MMU_MODE_X86_5LEVEL, 0xff807f8040000000, 0x12340000000,
     G1, 0x3abcdef8, 0},
    {"4-level 4K MAXPHYADDR 36", MMU_MODE_X86_4LEVEL, 0x1000, 0xfffffe000,
     K4, 0x10, 36},
};

static void x86_translates_in_every_mode(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof basics / sizeof basics[0]; i++) {
        const basic_row *b = &basics[i];
        tu_machine t;
        xh_path p;
        uint64_t before[MMU_MAX_LEVELS] = {0};
        xh_machine(&t, b->mode);
        if (b->maxphyaddr != 0)
            t.ctx.st.x86.maxphyaddr = b->maxphyaddr;
        xh_map(&p, &t, b->va, b->pa, b->size);
        for (unsigned l = p.leaf; l <= p.top; l++)
            before[l] = xh_get(&p, l);
        for (unsigned a = 0; a < 3; a++) {
            char name[96];
            mmu_result res;
            snprintf(name, sizeof name, "%s %s", b->name,
                     mmu_access_name((mmu_access)a));
            if (!xh_expect_ok(&ck, name, &t, b->va + b->off, (mmu_access)a,
                              3, 0, b->pa + b->off, b->size, &res))
                continue;
            XH_EQ(&ck, xh_describe_str, name, "level", res.level, p.leaf);
            XH_EQ(&ck, xh_describe_str, name, "mode", res.mode, b->mode);
            check_walk(&ck, name, &p, &res.walk, before);
            for (unsigned l = p.leaf; l <= p.top; l++)
                before[l] = xh_get(&p, l); /* A/D now set */
        }
        tu_machine_free(&t);
    }
    xh_finish(&ck, "translation in every mode");
}

/* ---- 32-bit paging: PSE ------------------------------------------------ */

/* The builder's PSE-36 encoding is what table 4-4 says. */
static void x86_32bit_pse36_pde_encoding(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_machine(&t, MMU_MODE_X86_32);
    xh_map(&p, &t, 0x80c00000, 0xab12c00000, M4);
    uint64_t pde = xh_get(&p, 1);
    TU_EQ_HEX("PDE bits 31:22", pde & 0xffc00000, 0x12c00000);
    TU_EQ_HEX("PDE bits 20:13", (pde >> 13) & 0xff, 0xab);
    TU_EQ_HEX("PDE.PS", pde & X86_PTE_PS, X86_PTE_PS);
    tu_machine_free(&t);
}

/*
 * CR4.PSE=0: PDE bit 7 is ignored (SDM table 4-6), the PDE references a
 * page table. The same PDE with CR4.PSE=1 maps a 4 MiB page whose PA is
 * formed from the PDE's bits 31:22 and 20:13.
 */
static void x86_32bit_pse_off_ignores_ps(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    mmu_result res;
    xh_machine(&t, MMU_MODE_X86_32);
    xh_map(&p, &t, 0x00c03000, 0x12345000, K4);
    xh_set(&p, 1, xh_get(&p, 1) | X86_PTE_PS);
    t.ctx.st.x86.cr4 = 0;
    if (xh_expect_ok(&ck, "PSE=0, PDE.PS=1: 4K via the page table", &t,
                     0x00c03123, MMU_WRITE, 3, 0, 0x12345123, K4, &res)) {
        XH_EQ(&ck, xh_describe_str, "PSE=0", "level", res.level, 0);
        /* PDE is not a leaf: A only; the PTE gets A and D. */
        XH_EQ(&ck, xh_describe_str, "PSE=0", "PDE A/D",
              xh_get(&p, 1) & (X86_PTE_A | X86_PTE_D), X86_PTE_A);
        XH_EQ(&ck, xh_describe_str, "PSE=0", "PTE A/D",
              xh_get(&p, 0) & (X86_PTE_A | X86_PTE_D),
              X86_PTE_A | X86_PTE_D);
    }
    uint64_t pde = xh_get(&p, 1) & ~(X86_PTE_A | X86_PTE_D);
    xh_set(&p, 1, pde);
    t.ctx.st.x86.cr4 = X86_CR4_PSE;
    uint64_t want = (pde & 0xffc00000) | (((pde >> 13) & 0xff) << 32) |
                    0x3123;
    xh_expect_ok(&ck, "PSE=1, same PDE: 4M page", &t, 0x00c03123, MMU_READ,
                 3, 0, want, M4, &res);
    tu_machine_free(&t);
    xh_finish(&ck, "32-bit PSE on/off");
}

/* ---- PAE: the PDPTE registers ----------------------------------------- */

static const uint64_t pae_va = 0xc0603000; /* PDPTE 3 */

static void pae_machine(tu_machine *t, xh_path *p)
{
    xh_machine(t, MMU_MODE_X86_PAE);
    xh_map(p, t, pae_va, 0xabcdef000, K4);
}

static uint64_t pdpt_addr(const tu_machine *t, unsigned i)
{
    return (t->ctx.st.x86.cr3 & UINT64_C(0xffffffe0)) + UINT64_C(8) * i;
}

static void x86_pae_load_pdptes_copies_the_four_entries(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    mmu_fault f;
    pae_machine(&t, &p);
    assert_true(t.ctx.st.x86.pdptes_loaded);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v;
        assert_true(mmu_phys_read64(&t.mem, pdpt_addr(&t, i), &v));
        TU_EQ_HEX("PDPTE register", t.ctx.st.x86.pdpte[i], v);
    }
    /* Ignored bits 11:9 and PWT/PCD (bits 3, 4) are fine in a PDPTE. */
    uint64_t ok_bits = X86_PTE_PWT | X86_PTE_PCD | (UINT64_C(7) << 9);
    xh_set(&p, 2, xh_get(&p, 2) | ok_bits);
    assert_true(mmu_x86_load_pdptes(&t.ctx, t.ctx.st.x86.cr3, &f));
    TU_EQ_HEX("PDPTE register 3", t.ctx.st.x86.pdpte[3], xh_get(&p, 2));
    mmu_result res;
    xh_check ck = {0};
    xh_expect_ok(&ck, "PDPTE with PWT/PCD/ignored bits", &t, pae_va + 4,
                 MMU_READ, 0, 0, 0xabcdef004, K4, &res);
    TU_EQ_HEX("PDPTE in memory after the walk (no A)", xh_get(&p, 2),
              p.base[2] | X86_PTE_P | ok_bits);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE PDPTE load");
}

/* A walk uses the registers: changing the PDPT in memory has no effect
 * until the next MOV CR3 (SDM 4.4.1). */
static void x86_pae_walk_does_not_reread_pdptes(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    mmu_result res;
    pae_machine(&t, &p);
    uint64_t saved = xh_get(&p, 2);
    xh_set(&p, 2, 0); /* clear the PDPTE in memory only */
    xh_expect_ok(&ck, "stale PDPTE register still used", &t, pae_va + 8,
                 MMU_READ, 3, 0, 0xabcdef008, K4, &res);
    tu_x86_load_pdptes(&t);
    xh_expect_pf(&ck, "after reload: PDPTE not present", &t, pae_va + 8,
                 MMU_WRITE, 3, 0, X86_PF_W | X86_PF_U, 2);
    /* And the reverse: present in memory, absent in the register. */
    xh_set(&p, 2, saved);
    xh_expect_pf(&ck, "restored in memory, register still clear", &t,
                 pae_va + 8, MMU_READ, 0, 0, 0, 2);
    tu_x86_load_pdptes(&t);
    xh_expect_ok(&ck, "after reload again", &t, pae_va + 8, MMU_READ, 0, 0,
                 0xabcdef008, K4, &res);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE PDPTE registers");
}

/*
 * A present PDPTE with any reserved bit makes MOV CR3 raise #GP(0); the
 * registers keep their old values (SDM 4.4.1: bits 2:1, 8:5 and
 * 63:MAXPHYADDR are reserved). A not-present PDPTE is not checked.
 */
static void x86_pae_reserved_pdpte_bits_raise_gp(void **state)
{
    (void)state;
    static const struct {
        unsigned bit;
        uint8_t maxphyaddr;
    } rows[] = {
        {1, 52},  {2, 52},  {5, 52},  {6, 52},  {7, 52},  {8, 52},
        {63, 52}, {62, 52}, {52, 52}, {58, 52}, {36, 36}, {40, 36},
        {51, 36}, {39, 39}, {46, 46}, {51, 46},
    };
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tu_machine t;
        xh_path p;
        mmu_fault f = {0};
        mmu_result res;
        char name[80];
        pae_machine(&t, &p);
        t.ctx.st.x86.maxphyaddr = rows[i].maxphyaddr;
        uint64_t regs[4];
        for (unsigned j = 0; j < 4; j++)
            regs[j] = t.ctx.st.x86.pdpte[j];
        uint64_t bit = UINT64_C(1) << rows[i].bit;
        snprintf(name, sizeof name, "PDPTE bit %u, MAXPHYADDR %u",
                 rows[i].bit, rows[i].maxphyaddr);

        xh_set(&p, 2, xh_get(&p, 2) | bit);
        xh_case_begin(&ck);
        bool ok = mmu_x86_load_pdptes(&t.ctx, t.ctx.st.x86.cr3, &f);
        XH_EQ(&ck, xh_describe_str, name, "load ok", ok, false);
        XH_EQ(&ck, xh_describe_str, name, "fault kind", f.kind, MMU_FAULT_GP);
        XH_EQ(&ck, xh_describe_str, name, "vector", f.vector, X86_VEC_GP);
        XH_EQ(&ck, xh_describe_str, name, "error code", f.code, 0);
        for (unsigned j = 0; j < 4; j++)
            XH_EQ(&ck, xh_describe_str, name, "register unchanged",
                  t.ctx.st.x86.pdpte[j], regs[j]);
        /* The old registers still translate. */
        xh_expect_ok(&ck, name, &t, pae_va, MMU_READ, 0, 0, 0xabcdef000, K4,
                     &res);

        /* Same bit with P=0: not checked, load succeeds. */
        xh_set(&p, 2, (xh_get(&p, 2) | bit) & ~X86_PTE_P);
        xh_case_begin(&ck);
        ok = mmu_x86_load_pdptes(&t.ctx, t.ctx.st.x86.cr3, &f);
        XH_EQ(&ck, xh_describe_str, name, "load ok with P=0", ok, true);
        xh_expect_pf(&ck, name, &t, pae_va, MMU_READ, 0, 0, 0, 2);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "PAE PDPTE reserved bits");
}

/* Any of the four PDPTEs, not only the one this walk uses, fails the
 * load. */
static void x86_pae_any_pdpte_reserved_fails_load(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (unsigned i = 0; i < 4; i++) {
        tu_machine t;
        xh_path p;
        mmu_fault f;
        pae_machine(&t, &p);
        assert_true(mmu_phys_write64(&t.mem, pdpt_addr(&t, i),
                                     X86_PTE_P | X86_PTE_RW | 0x50000));
        char name[48];
        snprintf(name, sizeof name, "PDPTE %u present with R/W set", i);
        xh_case_begin(&ck);
        XH_EQ(&ck, xh_describe_str, name, "load ok",
              mmu_x86_load_pdptes(&t.ctx, t.ctx.st.x86.cr3, &f), false);
        XH_EQ(&ck, xh_describe_str, name, "kind", f.kind, MMU_FAULT_GP);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "PAE any PDPTE");
}

/* CR3 bits 31:5 locate the PDPT: it need not be page aligned. */
static void x86_pae_pdpt_is_32_byte_aligned(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    mmu_result res;
    pae_machine(&t, &p);
    uint64_t root = t.pt.root, moved = root + 0x7e0;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v;
        assert_true(mmu_phys_read64(&t.mem, root + UINT64_C(8) * i, &v));
        assert_true(mmu_phys_write64(&t.mem, moved + UINT64_C(8) * i, v));
        assert_true(mmu_phys_write64(&t.mem, root + UINT64_C(8) * i, 0));
    }
    /* Bits 4:3 of CR3 are PWT/PCD, not address bits. */
    t.ctx.st.x86.cr3 = moved | 0x18;
    tu_x86_load_pdptes(&t);
    if (xh_expect_ok(&ck, "PDPT at CR3 bits 31:5", &t, pae_va + 0x40,
                     MMU_READ, 0, 0, 0xabcdef040, K4, &res))
        XH_EQ(&ck, xh_describe_str, "PDPT at CR3 bits 31:5",
              "walk step 0 addr", res.walk.step[0].addr, moved + 24);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE CR3 alignment");
}

/* PAE paging ignores CR4.PSE: PDE.PS always maps 2 MiB. */
static void x86_pae_2m_page_regardless_of_pse(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    mmu_result res;
    xh_machine(&t, MMU_MODE_X86_PAE);
    xh_map(&p, &t, 0x80400000, 0x1234600000, M2);
    t.ctx.st.x86.cr4 = X86_CR4_PAE;
    xh_expect_ok(&ck, "PAE 2M, PSE=0", &t, 0x80412345, MMU_READ, 0, 0,
                 0x1234612345, M2, &res);
    t.ctx.st.x86.cr4 = X86_CR4_PAE | X86_CR4_PSE;
    xh_expect_ok(&ck, "PAE 2M, PSE=1", &t, 0x80412345, MMU_READ, 0, 0,
                 0x1234612345, M2, &res);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE 2M and PSE");
}

/* PAE PDPTE not present: #PF with P=0, the walk stops at level 2. */
static void x86_pae_pdpte_not_present(void **state)
{
    (void)state;
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    pae_machine(&t, &p);
    t.ctx.st.x86.efer = 0;
    xh_expect_pf(&ck, "PDPTE 0 not present, user fetch", &t, 0x00001000,
                 MMU_FETCH, 3, 0, X86_PF_U, 2);
    t.ctx.st.x86.efer = X86_EFER_NXE;
    xh_expect_pf(&ck, "PDPTE 0 not present, user fetch, NXE", &t,
                 0x00001000, MMU_FETCH, 3, 0, X86_PF_U | X86_PF_I, 2);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE PDPTE not present");
}

/* ---- IA-32e: 1 GiB pages ----------------------------------------------- */

/*
 * Without CPUID Page1GB, PDPTE.PS is reserved (SDM table 4-15 footnote):
 * #PF with RSVD at level 2, and nothing written.
 */
static void x86_1g_page_without_cpuid_support_is_reserved(void **state)
{
    (void)state;
    static const mmu_paging_mode modes[] = {MMU_MODE_X86_4LEVEL,
                                            MMU_MODE_X86_5LEVEL};
    xh_check ck = {0};
    for (size_t i = 0; i < 2; i++) {
        tu_machine t;
        xh_path p;
        mmu_result res;
        xh_machine(&t, modes[i]);
        xh_map(&p, &t, 0x00007f8040000000, 0x12340000000, G1);
        xh_expect_ok(&ck, "1G with Page1GB", &t, 0x00007f8040000010,
                     MMU_READ, 0, 0, 0x12340000010, G1, &res);
        xh_set(&p, 2, xh_get(&p, 2) & ~X86_PTE_A);
        xh_set(&p, 3, xh_get(&p, 3) & ~X86_PTE_A);
        t.ctx.st.x86.has_1g_pages = false;
        xh_expect_pf(&ck, "1G without Page1GB: read", &t,
                     0x00007f8040000010, MMU_READ, 0, 0,
                     X86_PF_P | X86_PF_RSVD, 2);
        xh_expect_pf(&ck, "1G without Page1GB: user fetch", &t,
                     0x00007f8040000010, MMU_FETCH, 3, 0,
                     X86_PF_P | X86_PF_RSVD | X86_PF_U | X86_PF_I, 2);
        XH_EQ(&ck, xh_describe_str, "1G without Page1GB", "PDPTE untouched",
              xh_get(&p, 2) & X86_PTE_A, 0);
        XH_EQ(&ck, xh_describe_str, "1G without Page1GB", "PML4E untouched",
              xh_get(&p, 3) & X86_PTE_A, 0);
        /* 2M pages are not affected. */
        xh_path p2;
        xh_map(&p2, &t, 0x00007f8080200000, 0x400000, M2);
        xh_expect_ok(&ck, "2M without Page1GB", &t, 0x00007f8080200010,
                     MMU_READ, 0, 0, 0x400010, M2, &res);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "1G pages and CPUID");
}

/* PS=1 in a PML4E / PML5E is reserved (SDM tables 4-14, 4-15). */
static void x86_ps_in_pml4e_and_pml5e_is_reserved(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (unsigned lvl = 3; lvl <= 4; lvl++) {
        tu_machine t;
        xh_path p;
        xh_machine(&t, lvl == 3 ? MMU_MODE_X86_4LEVEL : MMU_MODE_X86_5LEVEL);
        xh_map(&p, &t, 0x00007f8040603000, 0x5000, K4);
        xh_set(&p, lvl, xh_get(&p, lvl) | X86_PTE_PS);
        xh_expect_pf(&ck, lvl == 3 ? "PML4E.PS" : "PML5E.PS", &t,
                     0x00007f8040603000, MMU_WRITE, 3, 0,
                     X86_PF_P | X86_PF_RSVD | X86_PF_W | X86_PF_U,
                     (int)lvl);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "PS in PML4E/PML5E");
}

/* CR3 bits that are not the root address: PWT/PCD (4:3), the PCID
 * (11:0 with CR4.PCIDE) and bit 63 (no-flush hint of MOV CR3) do not move
 * the root (SDM 4.5 table 4-12/4-13, 4.3 table 4-3). */
static void x86_cr3_control_bits_do_not_move_the_root(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    mmu_result res;
    xh_machine(&t, MMU_MODE_X86_4LEVEL);
    xh_map(&p, &t, 0x00007f8040603000, 0x5000, K4);
    uint64_t root = t.ctx.st.x86.cr3;
    t.ctx.st.x86.cr3 = root | X86_PTE_PWT | X86_PTE_PCD;
    xh_expect_ok(&ck, "4-level CR3 with PWT/PCD", &t, 0x00007f8040603010,
                 MMU_READ, 0, 0, 0x5010, K4, &res);
    t.ctx.st.x86.cr4 |= X86_CR4_PCIDE;
    t.ctx.st.x86.cr3 = root | 0xabc | X86_CR3_NOFLUSH;
    xh_expect_ok(&ck, "4-level CR3 with PCID 0xabc and bit 63", &t,
                 0x00007f8040603010, MMU_READ, 0, 0, 0x5010, K4, &res);
    tu_machine_free(&t);

    xh_machine(&t, MMU_MODE_X86_32);
    xh_map(&p, &t, 0x00c03000, 0x5000, K4);
    t.ctx.st.x86.cr3 |= X86_PTE_PWT | X86_PTE_PCD;
    xh_expect_ok(&ck, "32-bit CR3 with PWT/PCD", &t, 0x00c03010, MMU_READ, 0,
                 0, 0x5010, K4, &res);
    tu_machine_free(&t);
    xh_finish(&ck, "CR3 control bits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_mode_selected_from_control_registers),
        cmocka_unit_test(x86_state_init_defaults),
        cmocka_unit_test(x86_paging_off_is_identity_for_everyone),
        cmocka_unit_test(x86_translates_in_every_mode),
        cmocka_unit_test(x86_32bit_pse36_pde_encoding),
        cmocka_unit_test(x86_32bit_pse_off_ignores_ps),
        cmocka_unit_test(x86_pae_load_pdptes_copies_the_four_entries),
        cmocka_unit_test(x86_pae_walk_does_not_reread_pdptes),
        cmocka_unit_test(x86_pae_reserved_pdpte_bits_raise_gp),
        cmocka_unit_test(x86_pae_any_pdpte_reserved_fails_load),
        cmocka_unit_test(x86_pae_pdpt_is_32_byte_aligned),
        cmocka_unit_test(x86_pae_2m_page_regardless_of_pse),
        cmocka_unit_test(x86_pae_pdpte_not_present),
        cmocka_unit_test(x86_1g_page_without_cpuid_support_is_reserved),
        cmocka_unit_test(x86_ps_in_pml4e_and_pml5e_is_reserved),
        cmocka_unit_test(x86_cr3_control_bits_do_not_move_the_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
