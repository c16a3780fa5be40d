/*
 * test_x86_bad_phys.c - paging structures outside guest RAM.
 *
 * Real hardware would read whatever the bus returns; the model reports
 * MMU_FAULT_BAD_PHYS (reason OUTSIDE_RAM, paddr = the entry's address,
 * level = the level of that entry) and never touches host memory outside
 * the RAM buffer. Run under ASan/UBSan, any stray host access fails the
 * test. Also: the final data page may lie outside RAM (MMIO): that is not
 * the walker's business and translates normally; a faulting walk writes
 * no A/D; PAE PDPT outside RAM fails the PDPTE load.
 */
#include "x86_harness.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define RWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define RAM_BASE UINT64_C(0x100000)
#define RAM_SIZE UINT64_C(0x200800) /* ends half-way through a page */
#define RAM_END (RAM_BASE + RAM_SIZE)

/* Guest RAM at [1 MiB, 1 MiB + 0x200800), tables in its first MiB. */
static void machine(tu_machine *t, mmu_paging_mode mode)
{
    tu_machine_init(t, mode, RAM_BASE, RAM_SIZE, 0, 0x100000);
}

static uint64_t entry_in(mmu_paging_mode mode, uint64_t table, uint64_t va,
                         unsigned level)
{
    const mmu_mode_info *mi = mmu_mode_get(mode);
    return table + (uint64_t)mmu_mode_index(mi, va, level) * mi->pte_size;
}

typedef struct bad_arg {
    const char *mode;
    const char *what;
    uint64_t target;
    unsigned level;
} bad_arg;

static void describe(const void *arg, char *buf, size_t len)
{
    const bad_arg *b = arg;
    snprintf(buf, len, "%s: %s -> table at 0x%llx (entry level %u)", b->mode,
             b->what, (unsigned long long)b->target, b->level);
}

static void expect_bad_phys(xh_check *ck, const bad_arg *b, tu_machine *t,
                            uint64_t va, unsigned flags, uint64_t paddr,
                            int level)
{
    for (unsigned a = 0; a < 3; a++) {
        mmu_result res;
        mmu_fault flt;
        xh_case_begin(ck);
        bool ok = xh_translate(t, va, (mmu_access)a, 3, flags, &res, &flt);
        XH_EQ(ck, describe, b, "ok", ok, false);
        if (ok)
            continue;
        XH_EQ(ck, describe, b, "kind", flt.kind, MMU_FAULT_BAD_PHYS);
        XH_EQ(ck, describe, b, "reason", flt.reason, MMU_WHY_OUTSIDE_RAM);
        XH_EQ(ck, describe, b, "paddr", flt.paddr, paddr);
        XH_EQ(ck, describe, b, "level", (int64_t)flt.level, (int64_t)level);
        XH_EQ(ck, describe, b, "addr", flt.addr, va);
    }
}

/* Table addresses to point at, relative to this RAM. */
static const struct {
    const char *what;
    uint64_t pa;
} targets[] = {
    {"below RAM (PA 0)", 0},
    {"just below RAM", RAM_BASE - K4},
    {"just past RAM", (RAM_END + K4 - 1) & ~(K4 - 1)},
    {"4 GiB", UINT64_C(0x100000000)},
    {"top of the 52-bit space", UINT64_C(0x000ffffffffff000)},
};

/*
 * At every level of every mode, make one entry point at a table outside
 * RAM: the walk stops at the level below with BAD_PHYS and the entries
 * above are not marked accessed.
 */
static void x86_table_outside_ram_at_every_level(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        mmu_paging_mode mode;
        uint64_t va;
    } modes[] = {
        {"32-bit", MMU_MODE_X86_32, 0xffc03ff8},
        {"PAE", MMU_MODE_X86_PAE, 0xffe03ff8},
        {"4-level", MMU_MODE_X86_4LEVEL, 0xffffffffffe03ff8},
        {"5-level", MMU_MODE_X86_5LEVEL, 0xffffffffffe03ff8},
    };
    xh_check ck = {0};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        mmu_paging_mode mode = modes[m].mode;
        uint64_t va = modes[m].va;
        for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
            uint64_t target = targets[k].pa;
            if (mode == MMU_MODE_X86_32 && target > UINT64_C(0xfffff000))
                continue; /* 32-bit entries hold 32-bit table addresses */
            if (mode == MMU_MODE_X86_PAE && target >= UINT64_C(1) << 52)
                continue;
            tu_machine t;
            xh_path p;
            machine(&t, mode);
            xh_map(&p, &t, va & ~(K4 - 1), RAM_BASE + 0x150000, K4);
            for (unsigned l = p.leaf + 1; l <= p.top; l++) {
                bad_arg b = {modes[m].name, targets[k].what, target, l};
                /* Fresh, clean path. */
                for (unsigned j = p.leaf; j <= p.top; j++)
                    if (!(p.pae && j == p.top))
                        xh_set_flags(&p, j, RWU);
                uint64_t saved = xh_get(&p, l);
                uint64_t flags = (p.pae && l == p.top) ? X86_PTE_P : RWU;
                xh_set(&p, l, target | flags);
                if (p.pae && l == p.top)
                    tu_x86_load_pdptes(&t);
                uint64_t before[MMU_MAX_LEVELS] = {0};
                for (unsigned j = p.leaf; j <= p.top; j++)
                    before[j] = xh_get(&p, j);
                expect_bad_phys(&ck, &b, &t, va, 0,
                                entry_in(mode, target, va, l - 1),
                                (int)l - 1);
                expect_bad_phys(&ck, &b, &t, va, MMU_REQ_NO_AD,
                                entry_in(mode, target, va, l - 1),
                                (int)l - 1);
                for (unsigned j = p.leaf; j <= p.top; j++)
                    XH_EQ(&ck, describe, &b, "entry untouched",
                          xh_get(&p, j), before[j]);
                xh_set(&p, l, saved);
                if (p.pae && l == p.top)
                    tu_x86_load_pdptes(&t);
            }
            tu_machine_free(&t);
        }
    }
    xh_finish(&ck, "tables outside RAM");
}

/* CR3 itself outside RAM: the root entry read fails. */
static void x86_cr3_outside_ram(void **state)
{
    (void)state;
    static const mmu_paging_mode modes[] = {
        MMU_MODE_X86_32, MMU_MODE_X86_4LEVEL, MMU_MODE_X86_5LEVEL};
    xh_check ck = {0};
    for (size_t m = 0; m < 3; m++) {
        for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
            uint64_t target = targets[k].pa;
            if (modes[m] == MMU_MODE_X86_32 && target > 0xfffff000)
                continue;
            tu_machine t;
            machine(&t, modes[m]);
            const mmu_mode_info *mi = mmu_mode_get(modes[m]);
            uint64_t va = modes[m] == MMU_MODE_X86_32 ? 0xffc03000
                                                      : 0xffffffffffe03000;
            bad_arg b = {mi->name, "CR3", target, mi->levels - 1u};
            t.ctx.st.x86.cr3 = target;
            expect_bad_phys(&ck, &b, &t, va, 0,
                            entry_in(modes[m], target, va, mi->levels - 1u),
                            mi->levels - 1);
            tu_machine_free(&t);
        }
    }
    xh_finish(&ck, "CR3 outside RAM");
}

/* A table in the last, partial page of RAM: entries inside translate,
 * entries past the end are BAD_PHYS. */
static void x86_table_straddling_the_end_of_ram(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    mmu_result res;
    machine(&t, MMU_MODE_X86_4LEVEL);
    uint64_t pt = RAM_END & ~(K4 - 1); /* 0x800 bytes of it are RAM */
    xh_map(&p, &t, 0x00007f8040600000, RAM_BASE + 0x150000, K4);
    xh_set(&p, 1, pt | RWU);
    /* PT index 255 is the last entry inside RAM. */
    assert_true(mmu_phys_write64(&t.mem, pt + UINT64_C(255) * 8,
                                 (RAM_BASE + 0x160000) | RWU));
    xh_expect_ok(&ck, "PT entry 255 (inside)", &t, 0x00007f80406ff010,
                 MMU_WRITE, 3, 0, RAM_BASE + 0x160010, K4, &res);
    uint64_t e;
    assert_true(mmu_phys_read64(&t.mem, pt + UINT64_C(255) * 8, &e));
    TU_EQ_HEX("PT entry 255 A/D", e & (X86_PTE_A | X86_PTE_D),
              X86_PTE_A | X86_PTE_D);
    bad_arg b = {"4-level", "PT entry 256 (outside)", pt, 1};
    expect_bad_phys(&ck, &b, &t, 0x00007f8040700000,
                    0, pt + UINT64_C(256) * 8, 0);
    tu_machine_free(&t);
    xh_finish(&ck, "table at the end of RAM");
}

/* The data page itself outside RAM is not a walk problem. */
static void x86_data_page_outside_ram_translates(void **state)
{
    (void)state;
    xh_check ck = {0};
    tu_machine t;
    xh_path p;
    mmu_result res;
    machine(&t, MMU_MODE_X86_4LEVEL);
    xh_map(&p, &t, 0x00007f8040600000, 0xfee00000, K4);
    xh_expect_ok(&ck, "4K page at 0xfee00000 (no RAM)", &t,
                 0x00007f8040600030, MMU_WRITE, 3, 0, 0xfee00030, K4, &res);
    xh_map(&p, &t, 0x00007f8040800000, 0x000fffffffe00000, M2);
    xh_expect_ok(&ck, "2M page at the top of the PA space", &t,
                 0x00007f80409fffff, MMU_READ, 3, 0, 0x000fffffffffffff, M2,
                 &res);
    tu_machine_free(&t);
    xh_finish(&ck, "data page outside RAM");
}

/* PAE: a PDPT outside RAM fails the load with BAD_PHYS and leaves the
 * registers alone. */
static void x86_pae_pdpt_outside_ram(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
        uint64_t target = targets[k].pa;
        if (target > 0xffffffe0)
            continue; /* PAE CR3 holds a 32-bit address */
        tu_machine t;
        mmu_fault flt = {0};
        machine(&t, MMU_MODE_X86_PAE);
        xh_path p;
        xh_map(&p, &t, 0xc0603000, 0x5000, K4);
        uint64_t regs[4];
        for (unsigned i = 0; i < 4; i++)
            regs[i] = t.ctx.st.x86.pdpte[i];
        bad_arg b = {"PAE", "PDPT (CR3)", target, 2};
        xh_case_begin(&ck);
        bool ok = mmu_x86_load_pdptes(&t.ctx, target, &flt);
        XH_EQ(&ck, describe, &b, "load ok", ok, false);
        XH_EQ(&ck, describe, &b, "kind", flt.kind, MMU_FAULT_BAD_PHYS);
        for (unsigned i = 0; i < 4; i++)
            XH_EQ(&ck, describe, &b, "register unchanged",
                  t.ctx.st.x86.pdpte[i], regs[i]);
        tu_machine_free(&t);
    }
    /* The last 32 bytes of RAM hold a PDPT: fine; 8 bytes further: not. */
    tu_machine t;
    mmu_fault flt;
    machine(&t, MMU_MODE_X86_PAE);
    xh_case_begin(&ck);
    bad_arg b = {"PAE", "PDPT in the last 32 bytes", RAM_END - 32, 2};
    XH_EQ(&ck, describe, &b, "load ok",
          mmu_x86_load_pdptes(&t.ctx, RAM_END - 32, &flt), true);
    b.target = RAM_END;
    b.what = "PDPT at the end of RAM";
    XH_EQ(&ck, describe, &b, "load ok",
          mmu_x86_load_pdptes(&t.ctx, RAM_END, &flt), false);
    tu_machine_free(&t);
    xh_finish(&ck, "PAE PDPT outside RAM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_table_outside_ram_at_every_level),
        cmocka_unit_test(x86_cr3_outside_ram),
        cmocka_unit_test(x86_table_straddling_the_end_of_ram),
        cmocka_unit_test(x86_data_page_outside_ram_translates),
        cmocka_unit_test(x86_pae_pdpt_outside_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
