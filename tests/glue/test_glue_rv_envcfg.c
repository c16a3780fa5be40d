/*
 * test_glue_rv_envcfg.c - what the glue adds to Unicorn's RISC-V CPU
 * (QEMU 5.0, privileged spec 1.11) so guests see a 1.12 machine:
 * menvcfg/senvcfg (absent from the CPU: emulated on a shadow with the
 * WARL mask of the configured extensions; menvcfg.ADUE decides hardware
 * A/D updates for the model), MRET/SRET to a privilege below M clearing
 * MPRV, and LR/SC across a fill that sets D.
 */
#include "test_glue_rv_harness.h"

#define ALL_ONES UINT64_C(0xffffffffffffffff)

static rvh H;

static int setup_svadu(void **state)
{
    (void)state;
    rvh_init(&H, MMU_GLUE_RV64, MMU_MODE_SV39, NULL,
             MMU_RV_EXT_SVADU | MMU_RV_EXT_SVPBMT);
    return 0;
}

static int setup_plain(void **state)
{
    (void)state;
    rvh_init(&H, MMU_GLUE_RV64, MMU_MODE_SV39, NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rvh_free(&H);
    return 0;
}

static void run_m(const uint32_t *code, size_t n, uint64_t at)
{
    rvh_code(&H, at, code, n);
    rvh_stop_at(&H, at + 4 * (n - 1)); /* the last is EBREAK */
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, at);
}

static void run_s(const uint32_t *code, size_t n, uint64_t off)
{
    rvh_code(&H, PA_SCODE + off, code, n);
    rvh_stop_at(&H, VA_SCODE + off + 4 * (n - 1));
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE + off);
}

static void menvcfg_warl_with_extensions(void **state)
{
    (void)state;
    /* All code of a page is written before it first runs: the glue scans
     * a code page for the instructions it hooks once, at its first
     * fetch (see the report on code written later). */
    const uint32_t code[] = {I_CSRR_MENVCFG, I_EBREAK, I_CSRW_MENVCFG,
                             I_CSRR_MENVCFG, I_EBREAK};
    rvh_code(&H, PA_MCODE, code, 5);
    rvh_stop_at(&H, PA_MCODE + 4);
    rvh_stop_at(&H, PA_MCODE + 16);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    /* reset value: ADUE set when Svadu is there (the glue's choice) */
    TU_EQ_HEX("reset menvcfg", rvh_reg(&H, UC_RISCV_REG_A0), RV_MENVCFG_ADUE);
    rvh_set_reg(&H, UC_RISCV_REG_A0, ALL_ONES);
    rvh_run_to_stop(&H, PA_MCODE + 8);
    TU_EQ_HEX("menvcfg", rvh_reg(&H, UC_RISCV_REG_A0),
              RV_MENVCFG_ADUE | RV_MENVCFG_PBMTE | 1);
    TU_EQ_HEX("no trap", H.nev, 2);
}

static void menvcfg_warl_plain(void **state)
{
    (void)state;
    const uint32_t wr[] = {I_CSRW_MENVCFG, I_CSRR_MENVCFG, I_EBREAK};
    rvh_set_reg(&H, UC_RISCV_REG_A0, ALL_ONES);
    run_m(wr, 3, PA_MCODE);
    TU_EQ_HEX("menvcfg: FIOM only", rvh_reg(&H, UC_RISCV_REG_A0), 1);
}

static void menvcfg_illegal_from_s(void **state)
{
    (void)state;
    const uint32_t code[] = {I_CSRR_MENVCFG, I_EBREAK};
    run_s(code, 2, 0);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 2, VA_SCODE, I_CSRR_MENVCFG);
    TU_EQ_HEX("mcause", rvh_csr(&H, UC_RISCV_REG_MCAUSE), 2);
}

static void senvcfg_from_s(void **state)
{
    (void)state;
    const uint32_t code[] = {I_CSRW_SENVCFG, I_CSRR_SENVCFG, I_EBREAK};
    rvh_set_reg(&H, UC_RISCV_REG_A0, ALL_ONES);
    run_s(code, 3, 0);
    TU_EQ_HEX("senvcfg: FIOM only", rvh_reg(&H, UC_RISCV_REG_A0), 1);
    TU_EQ_HEX("no trap", H.nev, 1);
}

/* ADUE=1: a load through A=0 sets A; after M clears ADUE, a store
 * through D=0 faults (Svade). */
static void adue_switches_ad_scheme(void **state)
{
    (void)state;
    uint64_t pte;
    rvh_map(&H, VA_HOLE, PA_SPARE, RV_PTE_R | RV_PTE_W);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    const uint32_t s[] = {I_LD_A0_0_A1, I_EBREAK, I_SD_A0_0_A1, I_EBREAK};
    rvh_code(&H, PA_SCODE, s, 4);
    rvh_stop_at(&H, VA_SCODE + 4);
    rvh_stop_at(&H, VA_SCODE + 12);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    assert_int_equal(mmu_pt_get_entry(&H.pt, VA_HOLE, 0, &pte), MMU_PT_OK);
    TU_EQ_HEX("A set by hardware", (pte & RV_PTE_A) != 0, 1);
    TU_EQ_HEX("D still clear", pte & RV_PTE_D, 0);

    const uint32_t clear[] = {I_CSRW_MENVCFG, I_EBREAK};
    rvh_set_reg(&H, UC_RISCV_REG_A0, 0);
    run_m(clear, 2, PA_MCODE);

    unsigned before = H.nev;
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE + 8);
    rvh_expect(&H, before, MMU_GLUE_FROM_MODEL, 15, VA_SCODE + 8, VA_HOLE);
    TU_EQ_HEX("reason", H.ev[before].fault.reason, MMU_WHY_DIRTY_CLEAR);
}

/* priv. 1.12: MRET to a privilege below M clears MPRV; to M keeps it. */
static void mret_clears_mprv(void **state)
{
    (void)state;
    const uint32_t s[] = {I_EBREAK};
    rvh_code(&H, PA_SCODE, s, 1);
    rvh_stop_at(&H, VA_SCODE);
    rvh_set_csr(&H, UC_RISCV_REG_MEPC, VA_SCODE);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS,
                RV_MSTATUS_MPRV |
                    ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT));
    const uint32_t m[] = {I_MRET, I_NOP, I_NOP, I_NOP, I_MRET, I_NOP, I_EBREAK};
    rvh_code(&H, PA_MCODE, m, 7);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    TU_EQ_HEX("in S", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_S);
    TU_EQ_HEX("MPRV cleared",
              rvh_csr(&H, UC_RISCV_REG_MSTATUS) & RV_MSTATUS_MPRV, 0);

    rvh_stop_at(&H, PA_MCODE + 24);
    rvh_set_csr(&H, UC_RISCV_REG_MEPC, PA_MCODE + 20);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, RV_MSTATUS_MPRV | RV_MSTATUS_MPP);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE + 16);
    TU_EQ_HEX("MRET to M keeps MPRV",
              (rvh_csr(&H, UC_RISCV_REG_MSTATUS) & RV_MSTATUS_MPRV) != 0, 1);
}

static void sret_clears_mprv(void **state)
{
    (void)state;
    const uint32_t u[] = {I_EBREAK};
    rvh_code(&H, PA_UCODE, u, 1);
    rvh_stop_at(&H, VA_UCODE);
    const uint32_t s[] = {I_SRET};
    rvh_code(&H, PA_SCODE, s, 1);
    rvh_set_csr(&H, UC_RISCV_REG_SEPC, VA_UCODE);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, RV_MSTATUS_MPRV);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    TU_EQ_HEX("in U", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_U);
    TU_EQ_HEX("MPRV cleared",
              rvh_csr(&H, UC_RISCV_REG_MSTATUS) & RV_MSTATUS_MPRV, 0);
}

/* LR then SC on a clean page: the SC's store fill sets D (Svadu) and the
 * reservation must survive it. */
static void lr_sc_across_dirty_fill(void **state)
{
    (void)state;
    rvh_map(&H, VA_HOLE, PA_SPARE, RV_PTE_R | RV_PTE_W | RV_PTE_A);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x40);
    rvh_set_reg(&H, UC_RISCV_REG_A2, 0x77);
    rvh_set_reg(&H, UC_RISCV_REG_A3, 0x55);
    const uint32_t code[] = {I_LR_D, I_SC_D, I_EBREAK};
    run_s(code, 3, 0);
    TU_EQ_HEX("sc.d succeeded", rvh_reg(&H, UC_RISCV_REG_A3), 0);
    uint64_t v;
    assert_true(mmu_phys_read64(H.mem, PA_SPARE + 0x40, &v));
    TU_EQ_HEX("stored", v, 0x77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(menvcfg_warl_with_extensions,
                                        setup_svadu, teardown),
        cmocka_unit_test_setup_teardown(menvcfg_warl_plain, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(menvcfg_illegal_from_s, setup_svadu,
                                        teardown),
        cmocka_unit_test_setup_teardown(senvcfg_from_s, setup_svadu, teardown),
        cmocka_unit_test_setup_teardown(adue_switches_ad_scheme, setup_svadu,
                                        teardown),
        cmocka_unit_test_setup_teardown(mret_clears_mprv, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(sret_clears_mprv, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(lr_sc_across_dirty_fill, setup_svadu,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
