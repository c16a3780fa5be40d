/*
 * test_glue_rv_rv32.c - the RV32 binding (glue_arch_rv32, Sv32): 32-bit
 * registers and CSRs, model faults delivered through medeleg, exact tval
 * from the instruction (also RVC and split accesses), ECALL causes.
 */
#include "test_glue_rv_harness.h"

static rvh H;

static int setup(void **state)
{
    (void)state;
    rvh_init(&H, MMU_GLUE_RV32, MMU_MODE_SV32, mmu_tlb_preset("generic"), 0);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG,
                (UINT64_C(1) << 8) | (UINT64_C(1) << 12) | (UINT64_C(1) << 13) |
                    (UINT64_C(1) << 15));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rvh_free(&H);
    return 0;
}

static void expect_s_trap(uint32_t cause, uint64_t epc, uint64_t tval,
                          bool from_s)
{
    TU_EQ_HEX("priv", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_S);
    TU_EQ_HEX("pc", rvh_reg(&H, UC_RISCV_REG_PC), VA_STVEC);
    TU_EQ_HEX("scause", rvh_csr(&H, UC_RISCV_REG_SCAUSE), cause);
    TU_EQ_HEX("sepc", rvh_csr(&H, UC_RISCV_REG_SEPC), epc);
    TU_EQ_HEX("stval", rvh_csr(&H, UC_RISCV_REG_STVAL), tval);
    TU_EQ_HEX("SPP", (rvh_csr(&H, UC_RISCV_REG_MSTATUS) & RV_MSTATUS_SPP) != 0,
              from_s);
}

static void s_load_fault(void **state)
{
    (void)state;
    const uint32_t code[] = {I_LW_A0_0_A1};
    rvh_code(&H, PA_SCODE, code, 1);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x24);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, VA_SCODE, VA_HOLE + 0x24);
    expect_s_trap(13, VA_SCODE, VA_HOLE + 0x24, true);
}

static void u_store_to_s_page_rvc(void **state)
{
    (void)state;
    rvh_put16(&H, PA_UCODE, C_SW_A0_8_A1);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_DATA + 0x10);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 15, VA_UCODE, VA_DATA + 0x18);
    expect_s_trap(15, VA_UCODE, VA_DATA + 0x18, false);
}

static void split_word_second_page(void **state)
{
    (void)state;
    const uint32_t code[] = {I_LW_A0_0_A1};
    rvh_code(&H, PA_SCODE, code, 1);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_DATA + 0xffe);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, VA_SCODE, VA_HOLE);
}

static void ecall_from_u(void **state)
{
    (void)state;
    const uint32_t code[] = {I_NOP, I_ECALL};
    rvh_code(&H, PA_UCODE, code, 2);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 8, VA_UCODE + 4, 0);
    expect_s_trap(8, VA_UCODE + 4, 0, false);
}

/* A high virtual address: no sign extension into 64 bits anywhere. */
static void high_address(void **state)
{
    (void)state;
    const uint64_t va = UINT64_C(0xfffff000);
    rvh_map(&H, va, PA_SPARE, RVH_RWAD);
    assert_true(mmu_phys_write32(H.mem, PA_SPARE + 0x10, 0xc0ffee));
    /* load; stop; (host unmaps) sfence.vma; load again */
    const uint32_t code[] = {I_LW_A0_0_A1, I_EBREAK, I_SFENCE_ALL,
                             I_LW_A0_0_A1};
    rvh_code(&H, PA_SCODE, code, 4);
    rvh_stop_at(&H, VA_SCODE + 4);
    rvh_set_reg(&H, UC_RISCV_REG_A1, va + 0x10);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    TU_EQ_HEX("a0", rvh_reg(&H, UC_RISCV_REG_A0), 0xc0ffee);
    /* a fault there reports the 32-bit address */
    H.nev = 0;
    assert_int_equal(mmu_pt_unmap(&H.pt, va, 4096), MMU_PT_OK);
    rvh_run_to_stop(&H, VA_SCODE + 8);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, VA_SCODE + 12, va + 0x10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s_load_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(u_store_to_s_page_rvc, setup, teardown),
        cmocka_unit_test_setup_teardown(split_word_second_page, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ecall_from_u, setup, teardown),
        cmocka_unit_test_setup_teardown(high_address, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
