/*
 * test_glue_rv_exact.c - the exact faulting address (stval) the glue
 * rebuilds from the instruction at the PC, since Unicorn's fill hook
 * sees only the page: every load/store format (I/S, FP, RVC, A), split
 * accesses across a page boundary, fetches straddling into a page, the
 * store/AMO cause for AMO and SC, and MPRV (M-mode data through MPP's
 * translation while fetches stay untranslated).
 *
 * Split accesses: the privileged spec lets xtval hold "the virtual
 * address of the portion of the access that caused the fault"; QEMU
 * reports the start of the second page when that page faults and the
 * original address when the first does. The glue does the same.
 */
#include "test_glue_rv_harness.h"

#define MSTATUS_FS_INITIAL (UINT64_C(1) << 13)

static rvh H;

static int setup(void **state)
{
    (void)state;
    rvh_init(&H, MMU_GLUE_RV64, MMU_MODE_SV39, NULL, 0);
    rvh_set_csr(&H, UC_RISCV_REG_MEDELEG,
                (UINT64_C(1) << 12) | (UINT64_C(1) << 13) |
                    (UINT64_C(1) << 15));
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, MSTATUS_FS_INITIAL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rvh_free(&H);
    return 0;
}

typedef struct access_case {
    const char *name;
    uint32_t insn; /* 32-bit, or a 16-bit RVC in the low half */
    unsigned len;
    int base_reg; /* UC_RISCV_REG_A1 or UC_RISCV_REG_SP */
    uint64_t base;
    uint32_t cause;
    uint64_t tval;
} access_case;

static const access_case cases[] = {
    {"ld", I_LD_A0_0_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x40, 13,
     VA_HOLE + 0x40},
    {"sw negative offset", I_SW_A0_M4_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x44,
     15, VA_HOLE + 0x40},
    {"lbu", I_LBU_A0_3_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x10, 13,
     VA_HOLE + 0x13},
    {"sh", I_SH_A0_6_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x10, 15,
     VA_HOLE + 0x16},
    {"flw", I_FLW_FA0_8_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x10, 13,
     VA_HOLE + 0x18},
    {"fsd", I_FSD_FA0_M8_A1, 4, UC_RISCV_REG_A1, VA_HOLE + 0x10, 15,
     VA_HOLE + 0x8},
    {"c.ld", C_LD_A0_8_A1, 2, UC_RISCV_REG_A1, VA_HOLE + 0x10, 13,
     VA_HOLE + 0x18},
    {"c.lw", C_LW_A0_4_A1, 2, UC_RISCV_REG_A1, VA_HOLE + 0x10, 13,
     VA_HOLE + 0x14},
    {"c.sd", C_SD_A0_16_A1, 2, UC_RISCV_REG_A1, VA_HOLE + 0x10, 15,
     VA_HOLE + 0x20},
    {"c.sw", C_SW_A0_8_A1, 2, UC_RISCV_REG_A1, VA_HOLE + 0x10, 15,
     VA_HOLE + 0x18},
    {"c.ldsp", C_LDSP_A0_24, 2, UC_RISCV_REG_SP, VA_HOLE + 0x100, 13,
     VA_HOLE + 0x118},
    {"c.lwsp", C_LWSP_A0_12, 2, UC_RISCV_REG_SP, VA_HOLE + 0x100, 13,
     VA_HOLE + 0x10c},
    {"c.sdsp", C_SDSP_A0_16, 2, UC_RISCV_REG_SP, VA_HOLE + 0x100, 15,
     VA_HOLE + 0x110},
    {"c.swsp", C_SWSP_A0_20, 2, UC_RISCV_REG_SP, VA_HOLE + 0x100, 15,
     VA_HOLE + 0x114},
    /* TCG runs AMOs as a load then a store; the spec reports store/AMO. */
    {"amoadd.d", I_AMOADD_D, 4, UC_RISCV_REG_A1, VA_HOLE + 0x20, 15,
     VA_HOLE + 0x20},
    {"lr.d", I_LR_D, 4, UC_RISCV_REG_A1, VA_HOLE + 0x28, 13, VA_HOLE + 0x28},
    /* ld at 0xffc: the first page faults, the address is the access's */
    {"split, first page faults", I_LD_A0_4_A1, 4, UC_RISCV_REG_A1,
     VA_HOLE + 0xff8, 13, VA_HOLE + 0xffc},
    /* ld at VA_DATA+0xffc: the second page (VA_HOLE) faults */
    {"split, second page faults", I_LD_A0_4_A1, 4, UC_RISCV_REG_A1,
     VA_DATA + 0xff8, 13, VA_HOLE},
    {"split store, second page faults", I_SW_A0_M4_A1, 4, UC_RISCV_REG_A1,
     VA_HOLE + 2, 15, VA_HOLE},
};

static void each_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const access_case *c = &cases[i];
        /* Each case at its own address: Unicorn keeps translated code
         * per address, and host writes do not invalidate it. */
        uint64_t off = 8 * i;
        H.nev = 0;
        if (c->len == 2)
            rvh_put16(&H, PA_SCODE + off, (uint16_t)c->insn);
        else
            rvh_put32(&H, PA_SCODE + off, c->insn);
        rvh_set_reg(&H, c->base_reg, c->base);
        rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, MSTATUS_FS_INITIAL);
        rvh_priv(&H, RV_PRIV_S);
        print_message("  %s\n", c->name);
        rvh_run_to_stop(&H, VA_SCODE + off);
        rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, c->cause, VA_SCODE + off,
                   c->tval);
        TU_EQ_HEX(c->name, rvh_csr(&H, UC_RISCV_REG_STVAL), c->tval);
        TU_EQ_HEX(c->name, rvh_csr(&H, UC_RISCV_REG_SCAUSE), c->cause);
    }
}

/* A 4-byte instruction at 0xffe of an executable page whose next page is
 * not mapped: the fault is the fetch of its second half; sepc is the
 * instruction, stval the faulting page. */
static void fetch_straddling_into_hole(void **state)
{
    (void)state;
    rvh_map(&H, VA_HOLE - 0x1000, PA_SPARE, RVH_RXA);
    const uint32_t jump[] = {I_JR_A1};
    rvh_code(&H, PA_SCODE, jump, 1);
    /* c.li a0,7 at 0xffc, then the first half of a 4-byte nop at 0xffe:
     * Unicorn meets the fault translating the block that starts at
     * 0xffc; the c.li must still run, once, before the trap. */
    rvh_put16(&H, PA_SPARE + 0xffc, C_LI_A0_7);
    rvh_put16(&H, PA_SPARE + 0xffe, (uint16_t)I_NOP);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE - 4);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 12, VA_HOLE - 2, VA_HOLE);
    TU_EQ_HEX("sepc", rvh_csr(&H, UC_RISCV_REG_SEPC), VA_HOLE - 2);
    TU_EQ_HEX("stval", rvh_csr(&H, UC_RISCV_REG_STVAL), VA_HOLE);
    TU_EQ_HEX("c.li ran", rvh_reg(&H, UC_RISCV_REG_A0), 7);
}

/* SC after LR on a read-only page: a store/AMO fault at the SC. (An SC
 * without a reservation fails without touching memory in QEMU, so it
 * cannot fault on a hole.) */
static void sc_store_fault(void **state)
{
    (void)state;
    rvh_map(&H, VA_HOLE, PA_SPARE, RV_PTE_R | RV_PTE_A);
    const uint32_t code[] = {I_LR_D, I_SC_D, I_EBREAK};
    rvh_code(&H, PA_SCODE, code, 3);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE + 0x30);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 15, VA_SCODE + 4, VA_HOLE + 0x30);
    TU_EQ_HEX("access", H.ev[0].access, MMU_WRITE);
}

/*
 * MPRV=1, MPP=S: M-mode loads go through S's translation, fetches do
 * not. The S tables map the M code's own address to a data page, so a
 * fill that granted execute to the data translation would run data.
 */
static void mprv_data_translated_fetch_not(void **state)
{
    (void)state;
    const uint64_t magic = UINT64_C(0x0123456789abcdef);
    rvh_map(&H, PA_MCODE, PA_DATA2, RVH_RWAD); /* VA = the code's PA */
    assert_true(mmu_phys_write64(H.mem, PA_DATA2, magic));
    const uint32_t code[] = {I_LD_A0_0_A1, I_J_PLUS8, 0, I_EBREAK};
    rvh_code(&H, PA_MCODE, code, 4);
    rvh_stop_at(&H, PA_MCODE + 12);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS,
                RV_MSTATUS_MPRV |
                    ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT));
    rvh_set_reg(&H, UC_RISCV_REG_A1, PA_MCODE);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    assert_int_equal(H.nev, 1);
    TU_EQ_HEX("a0 through S's translation", rvh_reg(&H, UC_RISCV_REG_A0),
              magic);
    TU_EQ_HEX("stopped at the ebreak", H.ev[0].pc, PA_MCODE + 12);
}

/* MPRV with MPP=U: the access is judged as a U access (U=0 page faults),
 * the trap is taken from M. */
static void mprv_user_rights(void **state)
{
    (void)state;
    const uint32_t code[] = {I_LD_A0_0_A1};
    rvh_code(&H, PA_MCODE, code, 1);
    rvh_set_csr(&H, UC_RISCV_REG_MSTATUS, RV_MSTATUS_MPRV);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_DATA + 8);
    rvh_priv(&H, RV_PRIV_M);
    rvh_run_to_stop(&H, PA_MCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 13, PA_MCODE, VA_DATA + 8);
    TU_EQ_HEX("reason", H.ev[0].fault.reason, MMU_WHY_USER_TO_SUPERVISOR);
    TU_EQ_HEX("mcause", rvh_csr(&H, UC_RISCV_REG_MCAUSE), 13);
    TU_EQ_HEX("priv", rvh_reg(&H, UC_RISCV_REG_PRIV), RV_PRIV_M);
}

/* Write permission is withheld from a clean leaf: the first store after
 * a load comes back to the model, which (Svade, no Svadu) faults. */
static void svade_store_to_clean_page(void **state)
{
    (void)state;
    rvh_map(&H, VA_HOLE, PA_SPARE, RV_PTE_R | RV_PTE_W | RV_PTE_A);
    const uint32_t code[] = {I_LD_A0_0_A1, I_SD_A0_0_A1, I_EBREAK};
    rvh_code(&H, PA_SCODE, code, 3);
    rvh_stop_at(&H, VA_SCODE + 8);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_HOLE);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_MODEL, 15, VA_SCODE + 4, VA_HOLE);
    TU_EQ_HEX("reason", H.ev[0].fault.reason, MMU_WHY_DIRTY_CLEAR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_format, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_straddling_into_hole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sc_store_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(mprv_data_translated_fetch_not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mprv_user_rights, setup, teardown),
        cmocka_unit_test_setup_teardown(svade_store_to_clean_page, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
