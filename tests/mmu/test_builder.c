/*
 * test_builder.c - the page-table builder, in every mode, checked by
 * translating through the walker and by reading the entries it wrote.
 */
#include "testutil.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

typedef struct mode_case {
    const char *name;
    mmu_paging_mode mode;
    uint64_t base;        /* RAM base */
    uint64_t va;          /* a VA to map 4K pages at */
    uint64_t big;         /* largest page size that fits the test RAM */
    uint64_t leaf, table; /* flags */
} mode_case;

static const mode_case cases[] = {
    {"32-bit", MMU_MODE_X86_32, 0, 0x40001000, 4 * MiB,
     X86_PTE_P | X86_PTE_RW | X86_PTE_US, X86_PTE_P | X86_PTE_RW | X86_PTE_US},
    {"pae", MMU_MODE_X86_PAE, 0, 0xc0001000, 2 * MiB,
     X86_PTE_P | X86_PTE_RW | X86_PTE_US, X86_PTE_P | X86_PTE_RW | X86_PTE_US},
    {"4-level", MMU_MODE_X86_4LEVEL, 0, UINT64_C(0xffff800000001000), 2 * MiB,
     X86_PTE_P | X86_PTE_RW, X86_PTE_P | X86_PTE_RW},
    {"5-level", MMU_MODE_X86_5LEVEL, 0, UINT64_C(0xff00000000001000), 2 * MiB,
     X86_PTE_P | X86_PTE_RW, X86_PTE_P | X86_PTE_RW},
    {"sv32", MMU_MODE_SV32, 0x80000000, 0x40001000, 4 * MiB,
     RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D, RV_PTE_V},
    {"sv39", MMU_MODE_SV39, 0x80000000, UINT64_C(0xffffffc000001000), 2 * MiB,
     RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D, RV_PTE_V},
    {"sv48", MMU_MODE_SV48, 0x80000000, UINT64_C(0x00007f0000001000), 2 * MiB,
     RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D, RV_PTE_V},
    {"sv57", MMU_MODE_SV57, 0x80000000, UINT64_C(0x00ff000000001000), 2 * MiB,
     RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D, RV_PTE_V},
};

static void machine(tu_machine *t, const mode_case *c)
{
    /* 16 MiB RAM; tables in the first MiB. */
    tu_machine_init(t, c->mode, c->base, 16 * MiB, 0, MiB);
}

static void expect_pa(tu_machine *t, const mode_case *c, uint64_t va,
                      uint64_t pa, uint64_t size)
{
    mmu_result r;
    mmu_fault f;
    unsigned sup = mmu_mode_get(c->mode)->arch == MMU_ARCH_RISCV ? RV_PRIV_S : 0;
    if (!tu_translate(t, va, MMU_WRITE, sup, 0, &r, &f))
        fail_msg("%s: va 0x%llx faulted (reason %s)", c->name,
                 (unsigned long long)va, mmu_fault_reason_name(f.reason));
    TU_EQ_HEX(c->name, r.pa, pa);
    TU_EQ_HEX(c->name, r.page_size, size);
}

static void expect_fault(tu_machine *t, const mode_case *c, uint64_t va)
{
    mmu_result r;
    mmu_fault f;
    unsigned sup = mmu_mode_get(c->mode)->arch == MMU_ARCH_RISCV ? RV_PRIV_S : 0;
    if (tu_translate(t, va, MMU_READ, sup, 0, &r, &f))
        fail_msg("%s: va 0x%llx translated to 0x%llx, want a fault", c->name,
                 (unsigned long long)va, (unsigned long long)r.pa);
    assert_int_equal(f.reason, MMU_WHY_NOT_PRESENT);
}

static void map_translate_unmap_every_mode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const mode_case *c = &cases[i];
        tu_machine t;
        machine(&t, c);
        uint64_t pa = c->base + 2 * MiB + 0x3000;
        assert_int_equal(mmu_pt_map(&t.pt, c->va, pa, 3 * 4096, 4096,
                                    c->leaf, c->table),
                         MMU_PT_OK);
        for (unsigned k = 0; k < 3; k++)
            expect_pa(&t, c, c->va + k * 4096 + 0x123, pa + k * 4096 + 0x123,
                      4096);
        expect_fault(&t, c, c->va + 3 * 4096);
        /* A large page, aligned on its own size. */
        uint64_t bva = (c->va & ~(c->big - 1)) + 4 * c->big;
        uint64_t bpa = c->base + c->big * (c->big == 4 * MiB ? 2 : 4);
        assert_int_equal(mmu_pt_map(&t.pt, bva, bpa, c->big, c->big, c->leaf,
                                    c->table),
                         MMU_PT_OK);
        expect_pa(&t, c, bva + 0x1234, bpa + 0x1234, c->big);
        expect_pa(&t, c, bva + c->big - 1, bpa + c->big - 1, c->big);
        /* unmap the middle page; protect the first read-only */
        assert_int_equal(mmu_pt_unmap(&t.pt, c->va + 4096, 4096), MMU_PT_OK);
        expect_fault(&t, c, c->va + 4096);
        expect_pa(&t, c, c->va + 2 * 4096, pa + 2 * 4096, 4096);
        /* splitting a large page is refused */
        assert_int_equal(mmu_pt_unmap(&t.pt, bva, 4096), MMU_PT_EINVAL);
        /* a table where a large leaf should go is refused */
        assert_int_equal(mmu_pt_map(&t.pt, c->va & ~(c->big - 1), bpa, c->big,
                                    c->big, c->leaf, c->table),
                         MMU_PT_EEXIST);
        /* a large page where a table is needed is refused */
        assert_int_equal(mmu_pt_map(&t.pt, bva, pa, 4096, 4096, c->leaf,
                                    c->table),
                         MMU_PT_EEXIST);
        /* misaligned requests */
        assert_int_equal(mmu_pt_map(&t.pt, c->va + 1, pa, 4096, 4096, c->leaf,
                                    c->table),
                         MMU_PT_EINVAL);
        assert_int_equal(mmu_pt_map(&t.pt, c->va, pa, 4096, 12345, c->leaf,
                                    c->table),
                         MMU_PT_EINVAL);
        tu_machine_free(&t);
    }
}

static void protect_changes_leaf_flags(void **state)
{
    (void)state;
    tu_machine t;
    machine(&t, &cases[2]); /* 4-level */
    uint64_t va = cases[2].va;
    assert_int_equal(mmu_pt_map(&t.pt, va, 0x200000, 2 * 4096, 4096,
                                X86_PTE_P | X86_PTE_RW, X86_PTE_P | X86_PTE_RW),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_protect(&t.pt, va, 2 * 4096, X86_PTE_NX, X86_PTE_RW),
                     MMU_PT_OK);
    TU_EQ_HEX("pte", tu_entry(&t, va, 0),
              UINT64_C(0x200000) | X86_PTE_P | X86_PTE_NX);
    mmu_result r;
    mmu_fault f;
    assert_false(tu_translate(&t, va, MMU_FETCH, 0, 0, &r, &f));
    assert_int_equal(f.reason, MMU_WHY_NOT_EXECUTABLE);
    tu_machine_free(&t);
}

static void allocator_exhaustion_is_enomem(void **state)
{
    (void)state;
    tu_machine t;
    /* Room for the root only. */
    tu_machine_init(&t, MMU_MODE_X86_4LEVEL, 0, MiB, 0, 4096);
    assert_int_equal(mmu_pt_map(&t.pt, 0x1000, 0x2000, 4096, 4096, X86_PTE_P,
                                X86_PTE_P),
                     MMU_PT_ENOMEM);
    tu_machine_free(&t);
}

static void tables_outside_ram_are_efault(void **state)
{
    (void)state;
    tu_machine t;
    tu_machine_init(&t, MMU_MODE_X86_4LEVEL, 0, MiB, 0, MiB);
    /* A PML4E pointing far outside RAM. */
    assert_int_equal(mmu_pt_set_entry(&t.pt, 0, 3,
                                      UINT64_C(0x40000000000) | X86_PTE_P, 0),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&t.pt, 0x1000, 0x2000, 4096, 4096, X86_PTE_P,
                                X86_PTE_P),
                     MMU_PT_EFAULT);
    tu_machine_free(&t);
}

static void pse36_and_napot_encodings(void **state)
{
    (void)state;
    tu_machine t;
    tu_machine_init(&t, MMU_MODE_X86_32, 0, 16 * MiB, 0, MiB);
    /* A 4 MiB page at PA 0x12_0040_0000 (PSE-36) */
    assert_int_equal(mmu_pt_map(&t.pt, 0x80000000, UINT64_C(0x1200400000),
                                4 * MiB, 4 * MiB, X86_PTE_P, X86_PTE_P),
                     MMU_PT_OK);
    TU_EQ_HEX("pde", tu_entry(&t, 0x80000000, 1),
              0x00400000 | (0x12u << 13) | X86_PTE_PS | X86_PTE_P);
    t.ctx.st.x86.maxphyaddr = 40;
    mmu_result r;
    mmu_fault f;
    assert_true(tu_translate(&t, 0x80012345, MMU_READ, 0, 0, &r, &f));
    TU_EQ_HEX("pa", r.pa, UINT64_C(0x1200412345));
    tu_machine_free(&t);

    tu_machine_init(&t, MMU_MODE_SV39, 0x80000000, 16 * MiB, 0, MiB);
    uint64_t fl = RV_PTE_V | RV_PTE_R | RV_PTE_A;
    assert_int_equal(mmu_pt_map(&t.pt, 0x10000, 0x80200000, 0x10000, 0x10000,
                                fl, RV_PTE_V),
                     MMU_PT_OK);
    uint64_t want = ((UINT64_C(0x80200000) >> 12 | 8) << 10) | fl | RV_PTE_N;
    for (unsigned i = 0; i < 16; i++)
        TU_EQ_HEX("napot pte", tu_entry(&t, 0x10000 + i * 4096u, 0), want);
    assert_true(tu_translate(&t, 0x1abcd, MMU_READ, RV_PRIV_S, 0, &r, &f));
    TU_EQ_HEX("napot pa", r.pa, UINT64_C(0x8020abcd));
    TU_EQ_HEX("napot size", r.page_size, 0x10000);
    tu_machine_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_translate_unmap_every_mode),
        cmocka_unit_test(protect_changes_leaf_flags),
        cmocka_unit_test(allocator_exhaustion_is_enomem),
        cmocka_unit_test(tables_outside_ram_are_efault),
        cmocka_unit_test(pse36_and_napot_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
