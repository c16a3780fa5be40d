/*
 * test_glue_rv_deliver.c - RISC-V trap entry through the glue: model page
 * faults and CPU exceptions from U, S and M, delegated by medeleg to S or
 * taken in M; host-handled retry; handler stop; a trap vector that cannot
 * be fetched. Each case checks the trap CSRs, mstatus.xPP/xPIE/xIE, the
 * privilege and the PC after entry (privileged spec 1.12, "Machine Trap
 * Delegation Registers", "mstatus", xepc/xcause/xtval).
 */
#include "test_glue_rv_harness.h"

#define MEDELEG_PF                                                             \
    ((UINT64_C(1) << 12) | (UINT64_C(1) << 13) | (UINT64_C(1) << 15))
#define SSTATUS_SPP RV_MSTATUS_SPP

static rvh H;

static int setup(void **state)
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

/* Run S code at VA_SCODE (one instruction, then EBREAK). */
static void run_s(uint32_t insn)
{
    const uint32_t code[] = {insn, I_EBREAK};
    rvh_code(&H, PA_SCODE, code, 2);
    rvh_stop_at(&H, VA_SCODE + 4);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
}

static void expect_s_trap(uint32_t cause, uint64_t epc, uint64_t tval,
                          bool from_s)
{
    TU_EQ_HEX("priv", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_S);
    TU_EQ_HEX("pc", rvh_reg(&H, UC_RISCV_REG_PC), VA_STVEC);
    TU_EQ_HEX("scause", rvh_csr(&H, UC_RISCV_REG_SCAUSE), cause);
    TU_EQ_HEX("sepc", rvh_csr(&H, UC_RISCV_REG_SEPC), epc);
    TU_EQ_HEX("stval", rvh_csr(&H, UC_RISCV_REG_STVAL), tval);
    uint64_t ms = rvh_csr(&H, UC_RISCV_REG_MSTATUS);
    TU_EQ_HEX("sstatus.SPP", (ms & SSTATUS_SPP) != 0, from_s);
    TU_EQ_HEX("mcause untouched", rvh_csr(&H, UC_RISCV_REG_MCAUSE), 0);
}

static void expect_m_trap(uint32_t cause, uint64_t epc, uint64_t tval,
                          uint8_t from)
{
    TU_EQ_HEX("priv", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_M);
    TU_EQ_HEX("pc", rvh_reg(&H, UC_RISCV_REG_PC), PA_MTVEC);
    TU_EQ_HEX("mcause", rvh_csr(&H, UC_RISCV_REG_MCAUSE), cause);
    TU_EQ_HEX("mepc", rvh_csr(&H, UC_RISCV_REG_MEPC), epc);
    TU_EQ_HEX("mtval", rvh_csr(&H, UC_RISCV_REG_MTVAL), tval);
    uint64_t ms = rvh_csr(&H, UC_RISCV_REG_MSTATUS);
    TU_EQ_HEX("mstatus.MPP", (ms & RV_MSTATUS_MPP) >> RV_MSTATUS_MPP_SHIFT,
              from);
    TU_EQ_HEX("scause untouched", rvh_csr(&H, UC_RISCV_REG_SCAUSE), 0);
}

static void s_load_fault_delegated(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, MEDELEG_PF);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, RV_MSTATUS_SIE);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 8);
    run_s(I_LD_A0_0_A1);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, VA_SCODE, VA_HOLE + 8);
    TU_EQ_HEX("event priv", H.ev[0].priv, RV_PRIV_S);
    TU_EQ_HEX("event access", H.ev[0].access, MMU_READ);
    expect_s_trap(13, VA_SCODE, VA_HOLE + 8, true);
    uint64_t ms = rvh_csr(&H, UC_RISCV_REG_MSTATUS);
    TU_EQ_HEX("SPIE <- SIE", (ms & RV_MSTATUS_SPIE) != 0, 1);
    TU_EQ_HEX("SIE cleared", ms & RV_MSTATUS_SIE, 0);
    assert_int_equal(H.nev, 2);
}

static void u_store_fault_delegated(void **state)
{
    (void)state;
    const uint32_t code[] = {I_SD_A0_0_A1};
    rvh_code(&H, PA_UCODE, code, 1);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, MEDELEG_PF);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, SSTATUS_SPP);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_DATA + 0x10); /* S page */
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 15, VA_UCODE, VA_DATA + 0x10);
    TU_EQ_HEX("reason", H.ev[0].fault.reason, MMU_WHY_USER_TO_SUPERVISOR);
    expect_s_trap(15, VA_UCODE, VA_DATA + 0x10, false);
}

static void u_fetch_fault_delegated(void **state)
{
    (void)state;
    const uint32_t code[] = {I_JR_A1};
    rvh_code(&H, PA_UCODE, code, 1);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, MEDELEG_PF);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_UDATA + 0x20); /* U, no X */
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 12, VA_UDATA + 0x20,
               VA_UDATA + 0x20);
    expect_s_trap(12, VA_UDATA + 0x20, VA_UDATA + 0x20, false);
}

static void s_load_fault_not_delegated(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, RV_MSTATUS_MIE);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    run_s(I_LD_A0_0_A1);
    expect_m_trap(13, VA_SCODE, VA_HOLE, RV_PRIV_S);
    uint64_t ms = rvh_csr(&H, UC_RISCV_REG_MSTATUS);
    TU_EQ_HEX("MPIE <- MIE", (ms & RV_MSTATUS_MPIE) != 0, 1);
    TU_EQ_HEX("MIE cleared", ms & RV_MSTATUS_MIE, 0);
}

/* A trap taken in M never goes to S, whatever medeleg says. */
static void m_fault_stays_in_m(void **state)
{
    (void)state;
    const uint32_t code[] = {I_LD_A0_0_A1};
    rvh_code(&H, PA_MCODE, code, 1);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, MEDELEG_PF | (UINT64_C(1) << 5));
    /* M-mode is bare: with MPRV the load is translated as S and faults,
     * but the trap is still taken from M. */
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS,
                RV_MSTATUS_MPRV | (UINT64_C(1) << RV_MSTATUS_MPP_SHIFT));
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, PA_MCODE, VA_HOLE);
    expect_m_trap(13, PA_MCODE, VA_HOLE, RV_PRIV_M);
}

static void ecall_from_each_privilege(void **state)
{
    (void)state;
    const uint32_t ucode[] = {I_ECALL};
    rvh_code(&H, PA_UCODE, ucode, 1);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, UINT64_C(1) << 8);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 8, VA_UCODE, 0);
    expect_s_trap(8, VA_UCODE, 0, false);

    H.nev = 0;
    rvh_set_csr(&H, UC_RISCV_REG_SCAUSE, 0);
    run_s(I_ECALL);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 9, VA_SCODE, 0);
    expect_m_trap(9, VA_SCODE, 0, RV_PRIV_S);

    H.nev = 0;
    const uint32_t mcode[] = {I_NOP, I_ECALL};
    rvh_code(&H, PA_MCODE, mcode, 2);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 11, PA_MCODE + 4, 0);
    expect_m_trap(11, PA_MCODE + 4, 0, RV_PRIV_M);
}

static void illegal_instruction_tval(void **state)
{
    (void)state;
    run_s(I_CSRW_MSCRATCH); /* M-only CSR from S */
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 2, VA_SCODE, I_CSRW_MSCRATCH);
    expect_m_trap(2, VA_SCODE, I_CSRW_MSCRATCH, RV_PRIV_S);
}

/* Unicorn reports the PC 4 bytes on, whatever the length: a 2-byte
 * instruction's epc must still be its own address. */
static void compressed_illegal_epc(void **state)
{
    (void)state;
    rvh_put16(&H, PA_SCODE, C_NOP);
    rvh_put16(&H, PA_SCODE + 2, C_ILLEGAL);
    rvh_put32(&H, PA_SCODE + 4, I_EBREAK);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 2, VA_SCODE + 2, 0);
    expect_m_trap(2, VA_SCODE + 2, 0, RV_PRIV_S);
}

static void breakpoints(void **state)
{
    (void)state;
    rvh_put16(&H, PA_SCODE, C_NOP);
    rvh_put16(&H, PA_SCODE + 2, C_EBREAK);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 3, VA_SCODE + 2, 0);
    expect_m_trap(3, VA_SCODE + 2, 0, RV_PRIV_S);

    H.nev = 0;
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, UINT64_C(1) << 3);
    rvh_set_csr(&H, UC_RISCV_REG_MCAUSE, 0);
    const uint32_t u[] = {I_NOP, I_EBREAK};
    rvh_code(&H, PA_UCODE, u, 2);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 3, VA_UCODE + 4, 0);
    expect_s_trap(3, VA_UCODE + 4, 0, false);
}

/* The host maps the page and retries: the guest never sees the fault. */
static mmu_glue_action map_and_retry(rvh *h, const mmu_glue_event *ev)
{
    if (ev->source == MMU_GLUE_FROM_MODEL) {
        rvh_map(h, ev->fault.addr & ~UINT64_C(0xfff), PA_SPARE, RVH_RWAD);
        mmu_glue_host_changed(h->g);
        return MMU_GLUE_RETRY;
    }
    return rvh_is_stop(h, ev) ? MMU_GLUE_STOP : MMU_GLUE_DELIVER;
}

static void host_handled_retry(void **state)
{
    (void)state;
    assert_true(
        mmu_phys_write64(H.mem, PA_SPARE + 0x18, UINT64_C(0x1122334455667788)));
    H.policy = map_and_retry;
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x18);
    run_s(I_LD_A0_0_A1);
    assert_int_equal(H.nev, 2);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, VA_SCODE, VA_HOLE + 0x18);
    TU_EQ_HEX("a0", rvh_reg(&H, UC_RISCV_REG_A0), UINT64_C(0x1122334455667788));
    TU_EQ_HEX("retried", mmu_glue_get_stats(H.g)->retried, 1);
    TU_EQ_HEX("no trap entered", rvh_csr(&H, UC_RISCV_REG_MCAUSE), 0);
}

static mmu_glue_action stop_all(rvh *h, const mmu_glue_event *ev)
{
    (void)h, (void)ev;
    return MMU_GLUE_STOP;
}

static void handler_stop(void **state)
{
    (void)state;
    const uint32_t code[] = {I_NOP, I_SD_A0_0_A1};
    rvh_code(&H, PA_SCODE, code, 2);
    H.policy = stop_all;
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x100);
    rvh_priv(&H, RV_PRIV_S);
    mmu_glue_result res;
    rvh_run(&H, VA_SCODE, &res);
    assert_int_equal(res.stop, MMU_GLUE_STOP_HANDLER);
    assert_true(res.have_last);
    TU_EQ_HEX("last cause", res.last.fault.code, 15);
    TU_EQ_HEX("last tval", res.last.fault.addr, VA_HOLE + 0x100);
    TU_EQ_HEX("walk recorded", res.last.fault.walk.n >= 1, 1);
    TU_EQ_HEX("pc on the store", rvh_reg(&H, UC_RISCV_REG_PC), VA_SCODE + 4);
    TU_EQ_HEX("priv unchanged", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_S);
}

/* stvec points at an unmapped page: the fault entering the handler would
 * enter the handler again; the run ends like a triple fault. */
static void unfetchable_vector(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG, MEDELEG_PF);
    rvh_set_csr(&H, UC_RISCV_REG_STVEC, VA_HOLE);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    const uint32_t code[] = {I_LD_A0_0_A1};
    rvh_code(&H, PA_UCODE, code, 1);
    rvh_priv(&H, RV_PRIV_U);
    mmu_glue_result res;
    rvh_run(&H, VA_UCODE, &res);
    assert_int_equal(res.stop, MMU_GLUE_STOP_TRIPLE);
    assert_int_equal(H.nev, 2);
    rvh_expect(&H, 1, MMU_GLUE_FROM_MODEL, 12, VA_HOLE, VA_HOLE);
}

/* The vectored mode of xtvec only moves interrupts: exceptions enter at
 * BASE. */
static void vectored_tvec_uses_base(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_MTVEC, PA_MTVEC | 1);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    run_s(I_LD_A0_0_A1);
    expect_m_trap(13, VA_SCODE, VA_HOLE, RV_PRIV_S);
}

/* A translation to a physical address with nothing behind it: the PMA
 * check fails after translation, an access fault with the VA in tval. */
static void access_fault_outside_ram(void **state)
{
    (void)state;
    const uint64_t nowhere = UINT64_C(0x40000000);
    rvh_map(&H, VA_HOLE, nowhere, RVH_RWAD);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG,
                (UINT64_C(1) << 5) | (UINT64_C(1) << 7));
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x28);
    run_s(I_LD_A0_0_A1);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 5, VA_SCODE, VA_HOLE + 0x28);
    TU_EQ_HEX("kind", H.ev[0].fault.kind, MMU_FAULT_ACCESS);
    TU_EQ_HEX("paddr", H.ev[0].fault.paddr, nowhere + 0x28);
    expect_s_trap(5, VA_SCODE, VA_HOLE + 0x28, true);

    H.nev = 0;
    const uint32_t st[] = {I_SD_A0_0_A1, I_EBREAK};
    rvh_code(&H, PA_UCODE, st, 2);
    rvh_map(&H, VA_HOLE + 0x1000, nowhere, RVH_RWAD | RV_PTE_U);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x1010);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 7, VA_UCODE, VA_HOLE + 0x1010);
    expect_s_trap(7, VA_UCODE, VA_HOLE + 0x1010, false);
}

/* M-mode (bare) load from a hole in the physical map: mcause 5. */
static void m_access_fault(void **state)
{
    (void)state;
    const uint32_t code[] = {I_NOP, I_LD_A0_0_A1};
    rvh_code(&H, PA_MCODE, code, 2);
    rvh_set_reg(&H, UC_RISCV_REG_A1, UINT64_C(0x40000100));
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 5, PA_MCODE + 4, UINT64_C(0x40000100));
    expect_m_trap(5, PA_MCODE + 4, UINT64_C(0x40000100), RV_PRIV_M);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(s_load_fault_delegated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(u_store_fault_delegated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(u_fetch_fault_delegated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(s_load_fault_not_delegated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(m_fault_stays_in_m, setup, teardown),
        cmocka_unit_test_setup_teardown(ecall_from_each_privilege, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(illegal_instruction_tval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(compressed_illegal_epc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(breakpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(host_handled_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(handler_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(unfetchable_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(vectored_tvec_uses_base, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(access_fault_outside_ram, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(m_access_fault, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
