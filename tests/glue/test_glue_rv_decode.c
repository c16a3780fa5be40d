/*
 * test_glue_rv_decode.c - the glue's RISC-V instruction decoding
 * (cpu_glue/riscv_decode.c): memory accesses in every format the fault
 * address is rebuilt from, and the SYSTEM instructions it hooks.
 * Encodings from riscv64-unknown-elf-as (objdump -M no-aliases).
 */
#include "testutil.h"

#include "../../cpu_glue/riscv_internal.h"

typedef struct mem_case {
    const char *name;
    uint32_t insn;
    bool rv32;
    unsigned rs1;
    int64_t imm;
    unsigned size;
    bool store, amo;
} mem_case;

static const mem_case mem_cases[] = {
    {"ld a0,4(a1)", 0x0045b503, false, 11, 4, 8, false, false},
    {"sw a0,-4(a1)", 0xfea5ae23, false, 11, -4, 4, true, false},
    {"lbu a0,3(a1)", 0x0035c503, false, 11, 3, 1, false, false},
    {"sh a0,6(a1)", 0x00a59323, false, 11, 6, 2, true, false},
    {"flw fa0,8(a1)", 0x0085a507, false, 11, 8, 4, false, false},
    {"fsd fa0,-8(a1)", 0xfea5bc27, false, 11, -8, 8, true, false},
    {"amoadd.d a0,a2,(a1)", 0x00c5b52f, false, 11, 0, 8, true, true},
    {"lr.d a0,(a1)", 0x1005b52f, false, 11, 0, 8, false, false},
    {"sc.d a3,a2,(a1)", 0x18c5b6af, false, 11, 0, 8, true, true},
    {"c.ld a0,8(a1)", 0x6588, false, 11, 8, 8, false, false},
    {"c.sd a0,16(a1)", 0xe988, false, 11, 16, 8, true, false},
    {"c.lw a0,4(a1)", 0x41c8, false, 11, 4, 4, false, false},
    {"c.sw a0,8(a1)", 0xc588, false, 11, 8, 4, true, false},
    {"c.ldsp a0,24(sp)", 0x6562, false, 2, 24, 8, false, false},
    {"c.sdsp a0,16(sp)", 0xe82a, false, 2, 16, 8, true, false},
    {"c.lwsp a0,12(sp)", 0x4532, false, 2, 12, 4, false, false},
    {"c.swsp a0,20(sp)", 0xca2a, false, 2, 20, 4, true, false},
    /* on RV32 the same bits are c.flw / c.fsw (4 bytes) */
    {"c.flw fa0,8(a1) (rv32)", 0x6588, true, 11, 8, 4, false, false},
    {"c.fsw fa0,16(a1) (rv32)", 0xe988, true, 11, 16, 4, true, false},
};

static void memory_accesses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof mem_cases / sizeof mem_cases[0]; i++) {
        const mem_case *c = &mem_cases[i];
        rv_mem_op op;
        unsigned len = rv_insn_len(c->insn & 0xffff);
        if (!rv_decode_mem(c->insn, len, c->rv32, &op))
            fail_msg("%s: not decoded", c->name);
        TU_EQ_HEX(c->name, op.rs1, c->rs1);
        TU_EQ_HEX(c->name, op.imm, c->imm);
        TU_EQ_HEX(c->name, op.size, c->size);
        TU_EQ_HEX(c->name, op.store, c->store);
        TU_EQ_HEX(c->name, op.amo, c->amo);
    }
}

static void not_memory(void **state)
{
    (void)state;
    static const uint32_t other[] = {
        0x00000013, /* nop */
        0x00058067, /* jalr x0,0(a1) */
        0x0001,     /* c.nop */
        0x9002,     /* c.ebreak */
        0x0000,     /* c.addi4spn (illegal) */
        0x0005f507, /* vle... (LOAD-FP, funct3 7: vector) */
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        rv_mem_op op;
        uint32_t in = other[i];
        assert_false(rv_decode_mem(in, rv_insn_len(in & 0xffff), false, &op));
    }
}

typedef struct sys_case {
    const char *name;
    uint32_t insn;
    rv_sys_kind kind;
    unsigned rs1, rs2, csr, funct3;
} sys_case;

static const sys_case sys_cases[] = {
    {"sfence.vma a1,a2", 0x12c58073, RV_SYS_SFENCE_VMA, 11, 12, 0, 0},
    {"sfence.vma", 0x12000073, RV_SYS_SFENCE_VMA, 0, 0, 0, 0},
    {"csrw satp,a0", 0x18051073, RV_SYS_CSR, 10, 0, 0x180, 1},
    {"csrr a0,menvcfg", 0x30a02573, RV_SYS_CSR, 0, 0, 0x30a, 2},
    {"mret", 0x30200073, RV_SYS_MRET, 0, 0, 0, 0},
    {"sret", 0x10200073, RV_SYS_SRET, 0, 0, 0, 0},
    {"ebreak", 0x00100073, RV_SYS_EBREAK, 0, 0, 0, 0},
    {"c.ebreak", 0x9002, RV_SYS_EBREAK, 0, 0, 0, 0},
    {"ecall", 0x00000073, RV_SYS_ECALL, 0, 0, 0, 0},
    {"wfi", 0x10500073, RV_SYS_OTHER, 0, 0, 0, 0},
    {"ld", 0x0045b503, RV_SYS_OTHER, 0, 0, 0, 0},
};

static void system_instructions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sys_cases / sizeof sys_cases[0]; i++) {
        const sys_case *c = &sys_cases[i];
        rv_sys_op op;
        rv_decode_sys(c->insn, rv_insn_len(c->insn & 0xffff), &op);
        TU_EQ_HEX(c->name, op.kind, c->kind);
        if (c->kind == RV_SYS_OTHER)
            continue;
        TU_EQ_HEX(c->name, op.rs1, c->rs1);
        if (c->kind == RV_SYS_SFENCE_VMA)
            TU_EQ_HEX(c->name, op.rs2, c->rs2);
        TU_EQ_HEX(c->name, op.csr, c->csr);
        TU_EQ_HEX(c->name, op.funct3, c->funct3);
    }
    rv_sys_op op;
    rv_decode_sys(0x30a02573, 4, &op); /* csrr: CSRRS with x0 reads */
    assert_false(rv_csr_writes(&op));
    rv_decode_sys(0x18051073, 4, &op); /* csrw */
    assert_true(rv_csr_writes(&op));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_accesses),
        cmocka_unit_test(not_memory),
        cmocka_unit_test(system_instructions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
