/*
 * test_glue_rv_modes.c - every RV64 paging mode through the glue (the
 * CPU's satp accepts Sv39, Sv48 and Sv57): a load through the highest
 * canonical page of the mode, a fault on an unmapped page and on the
 * first non-canonical address, each with the exact tval.
 */
#include "test_glue_rv_harness.h"

typedef struct mode_case {
    const char *name;
    mmu_paging_mode mode;
    uint64_t top_page;     /* the last page of the lower half */
    uint64_t noncanonical; /* first address above it */
} mode_case;

static const mode_case modes[] = {
    {"sv39", MMU_MODE_SV39, UINT64_C(0x3ffffff000), UINT64_C(0x4000000000)},
    {"sv48", MMU_MODE_SV48, UINT64_C(0x7ffffffff000), UINT64_C(0x800000000000)},
    {"sv57", MMU_MODE_SV57, UINT64_C(0xfffffffffff000),
     UINT64_C(0x100000000000000)},
};

static rvh H;

static void one_mode(const mode_case *c)
{
    const uint64_t magic = UINT64_C(0x5a5a00005a5a0000) | c->mode;
    print_message("  %s\n", c->name);
    rvh_init(&H, MMU_GLUE_RV64, c->mode, NULL, 0);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, UINT64_C(1) << 13);
    rvh_map(&H, c->top_page, PA_SPARE, RVH_RWAD);
    assert_true(mmu_phys_write64(H.mem, PA_SPARE + 0xff8, magic));
    /* ld; ebreak | ld (hole); | ld (non-canonical) */
    const uint32_t code[] = {I_LD_A0_0_A1, I_EBREAK, I_LD_A0_0_A1, I_NOP,
                             I_LD_A0_0_A1};
    rvh_code(&H, PA_SCODE, code, 5);
    rvh_stop_at(&H, VA_SCODE + 4);
    rvh_priv(&H, RV_PRIV_S);
    rvh_set_reg(&H, UC_RISCV_REG_A1, c->top_page + 0xff8);
    rvh_run_to_stop(&H, VA_SCODE);
    TU_EQ_HEX(c->name, rvh_reg(&H, UC_RISCV_REG_A0), magic);

    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 8);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE + 8);
    rvh_expect(&H, 1, MMU_GLUE_FROM_MODEL, 13, VA_SCODE + 8, VA_HOLE + 8);

    rvh_set_reg(&H, UC_RISCV_REG_A1, c->noncanonical);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE + 16);
    rvh_expect(&H, 3, MMU_GLUE_FROM_MODEL, 13, VA_SCODE + 16, c->noncanonical);
    TU_EQ_HEX(c->name, H.ev[3].fault.reason, MMU_WHY_NONCANONICAL);
    TU_EQ_HEX("satp mode", rvh_csr(&H, UC_RISCV_REG_SATP) >> 60,
              mmu_pt_root_reg(&H.pt) >> 60);
    rvh_free(&H);
}

static void each_mode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        one_mode(&modes[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
