/*
 * test_glue_x86_deliver.c - the x86 trap entry (cpu_glue/x86_deliver.c)
 * with hand-assembled guests: error code, CR2 and every slot of the
 * interrupt frame read back from the handler's stack, for #PF from ring 3
 * (stack switch to TSS.RSP0) and ring 0 (same stack, 16-byte aligned),
 * #GP and #SS for non-canonical addresses (CR2 untouched), #DF when the
 * #PF gate is not present, the triple fault, INT n through a DPL-3 gate
 * and into a DPL-0 gate from ring 3 (#GP with the IDT error code), and
 * two CPU-raised #GPs in a row (QEMU's exception-in-flight state must not
 * turn the second into #DF), and #UD from UD2 (Unicorn stops instead).
 *
 * Expectations follow the Intel SDM vol. 3A 6.12-6.15 and table 6-5.
 */
#include "test_glue_x86_harness.h"

#define CR2_SENTINEL UINT64_C(0xc2c2c2c2c2c0)

/* ---- #PF from ring 3 ---------------------------------------------------- */

static void pf_from_ring3_switches_to_rsp0(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xbb, 0x18, 0x00, 0x20, 0x00, /* 8000 mov $0x200018,%ebx */
        0x48, 0x8b, 0x03,             /* 8005 mov (%rbx),%rax: not mapped */
        0xf4,
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), X86_VEC_PF);

    TU_EQ_HEX("CR2", xt_reg(&t, UC_X86_REG_CR2), 0x200018);
    TU_EQ_HEX("CR2 seen by the handler", xt_peek64(&t, XT_RESULT), 0x200018);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("frame at RSP0 - 48", f.at, XT_KSTACK_TOP - 48);
    TU_EQ_HEX("error code (U, not present)", f.ec, X86_PF_U);
    TU_EQ_HEX("RIP", f.rip, XT_UCODE + 5);
    TU_EQ_HEX("CS", f.cs, XT_SEL_UCODE);
    TU_EQ_HEX("RFLAGS", f.rflags, 0x2);
    TU_EQ_HEX("RSP", f.rsp, XT_USTACK_TOP);
    TU_EQ_HEX("SS", f.ss, XT_SEL_UDATA);
    TU_EQ_HEX("handler CS", xt_reg(&t, UC_X86_REG_CS), XT_SEL_KCODE);
    TU_EQ_HEX("handler SS (null, RPL 0)", xt_reg(&t, UC_X86_REG_SS), 0);
    TU_EQ_HEX("CPL", mmu_glue_priv(t.g), 0);

    const mmu_glue_event *ev = &t.res.last;
    assert_true(t.res.have_last);
    assert_int_equal(ev->source, MMU_GLUE_FROM_MODEL);
    assert_true(ev->addr_exact);
    assert_int_equal(ev->priv, 3);
    xt_free(&t);
}

/* ---- #PF at ring 0: same stack, aligned down to 16 bytes ---------------- */

static void pf_from_ring0_aligns_the_stack(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    xt_map(&t, 0x101000, XT_DATA + 0x1000, 0x1000, XT_SUP_RO);
    static const uint8_t k[] = {
        0xbb, 0x10, 0x10, 0x10, 0x00,       /* 1000 mov $0x101010,%ebx */
        0xc7, 0x03, 0x01, 0x00, 0x00, 0x00, /* 1005 movl $1,(%rbx): RO */
        0xf4,
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_RSP, XT_KRSP + 8);
    assert_int_equal(xt_run(&t), X86_VEC_PF);

    TU_EQ_HEX("CR2", xt_reg(&t, UC_X86_REG_CR2), 0x101010);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("frame below the aligned RSP", f.at, XT_KRSP - 48);
    TU_EQ_HEX("error code (P, W; CR0.WP = 1)", f.ec, X86_PF_P | X86_PF_W);
    TU_EQ_HEX("RIP", f.rip, XT_KCODE + 5);
    TU_EQ_HEX("CS", f.cs, XT_SEL_KCODE);
    TU_EQ_HEX("RSP (unaligned, as it was)", f.rsp, XT_KRSP + 8);
    TU_EQ_HEX("SS", f.ss, XT_SEL_KDATA);
    TU_EQ_HEX("handler SS unchanged", xt_reg(&t, UC_X86_REG_SS), XT_SEL_KDATA);
    xt_free(&t);
}

/* ---- non-canonical: #GP(0) / #SS(0), no CR2 ----------------------------- */

static void noncanonical_load_is_gp(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0x48, 0xbb, 0,    0, 0,
        0,    0,    0x80, 0, 0, /* 1000 movabs $0x800000000000,%rbx */
        0x48, 0x8b, 0x03,       /* 100a mov (%rbx),%rax */
        0xf4,
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_CR2, CR2_SENTINEL);
    assert_int_equal(xt_run(&t), X86_VEC_GP);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("error code", f.ec, 0);
    TU_EQ_HEX("RIP", f.rip, XT_KCODE + 10);
    TU_EQ_HEX("CR2 untouched", xt_reg(&t, UC_X86_REG_CR2), CR2_SENTINEL);
    TU_EQ_HEX("reported address", t.res.last.fault.addr,
              UINT64_C(0x800000000000));
    xt_free(&t);
}

static void noncanonical_rbp_based_load_is_ss(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0x48, 0xbd, 0,    0,    0,
        0,    0,    0x80, 0,    0, /* 1000 movabs $0x800000000000,%rbp */
        0x48, 0x8b, 0x45, 0x08,    /* 100a mov 8(%rbp),%rax: SS */
        0xf4,
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_CR2, CR2_SENTINEL);
    assert_int_equal(xt_run(&t), X86_VEC_SS);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("error code", f.ec, 0);
    TU_EQ_HEX("RIP", f.rip, XT_KCODE + 10);
    TU_EQ_HEX("CR2 untouched", xt_reg(&t, UC_X86_REG_CR2), CR2_SENTINEL);
    xt_free(&t);
}

/* ---- nested faults ------------------------------------------------------ */

static const uint8_t user_read_unmapped[] = {
    0xbb, 0x18, 0x00, 0x20, 0x00, /* 8000 mov $0x200018,%ebx */
    0x48, 0x8b, 0x03,             /* 8005 mov (%rbx),%rax */
    0xf4,
};

/* #PF, then #NP(14*8+2+EXT) reading its gate: table 6-5 says #DF(0). */
static void pf_with_absent_gate_is_double_fault(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    xt_code(&t, k, sizeof k, user_read_unmapped, sizeof user_read_unmapped);
    xt_gate_absent(&t, X86_VEC_PF);
    assert_int_equal(xt_run(&t), X86_VEC_DF);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("#DF error code", f.ec, 0);
    TU_EQ_HEX("RIP: the faulting instruction", f.rip, XT_UCODE + 5);
    TU_EQ_HEX("CS", f.cs, XT_SEL_UCODE);
    TU_EQ_HEX("frame on RSP0", f.at, XT_KSTACK_TOP - 48);
    TU_EQ_HEX("CR2 written by the #PF", xt_reg(&t, UC_X86_REG_CR2), 0x200018);
    xt_free(&t);
}

static void fault_delivering_double_fault_is_triple(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    xt_code(&t, k, sizeof k, user_read_unmapped, sizeof user_read_unmapped);
    xt_gate_absent(&t, X86_VEC_PF);
    xt_gate_absent(&t, X86_VEC_DF);
    assert_int_equal(xt_run(&t), -1);
    assert_int_equal(t.res.stop, MMU_GLUE_STOP_TRIPLE);
    xt_free(&t);
}

/* #PF whose frame cannot be pushed (RSP0 on an unmapped page): a #PF
 * during #PF delivery is #DF, delivered... onto the same unmapped stack:
 * triple fault. With an IST stack for #DF it is delivered. */
static void pf_on_bad_kernel_stack_uses_df_ist(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    xt_code(&t, k, sizeof k, user_read_unmapped, sizeof user_read_unmapped);
    uint64_t bad_rsp0 = 0x300000, ist1 = XT_KSTACK + 0x800;
    xt_poke(&t, XT_TSS + 4, &bad_rsp0, 8);
    xt_poke(&t, XT_TSS + 0x24, &ist1, 8);
    uint8_t ist = 1;
    xt_poke(&t, XT_IDT + 16u * X86_VEC_DF + 4, &ist, 1);
    assert_int_equal(xt_run(&t), X86_VEC_DF);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("#DF frame on IST1", f.at, ist1 - 48);
    TU_EQ_HEX("#DF error code", f.ec, 0);
    TU_EQ_HEX("RIP", f.rip, XT_UCODE + 5);
    TU_EQ_HEX("CR2: the stack push that faulted", xt_reg(&t, UC_X86_REG_CR2),
              bad_rsp0 - 8);
    xt_free(&t);
}

/* ---- software interrupts ------------------------------------------------ */

static void int80_from_ring3_pushes_next_rip(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xb8, 0x2a, 0x00, 0x00, 0x00, /* 8000 mov $42,%eax */
        0xcd, 0x80,                   /* 8005 int $0x80 */
        0xf4,
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), 0x80);
    xt_frame f = xt_get_frame(&t, false);
    TU_EQ_HEX("RAX", xt_peek64(&t, XT_RESULT + 0x18), 42);
    TU_EQ_HEX("frame at RSP0 - 40 (no error code)", f.at, XT_KSTACK_TOP - 40);
    TU_EQ_HEX("RIP: after INT", f.rip, XT_UCODE + 7);
    TU_EQ_HEX("CS", f.cs, XT_SEL_UCODE);
    TU_EQ_HEX("RSP", f.rsp, XT_USTACK_TOP);
    TU_EQ_HEX("SS", f.ss, XT_SEL_UDATA);
    xt_free(&t);
}

static void int_through_dpl0_gate_from_ring3_is_gp(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {0xcd, 0x0e, 0xf4}; /* int $0x0e; hlt */
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), X86_VEC_GP);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("error code: IDT entry 14, IDT bit, no EXT", f.ec, 14u * 8u + 2u);
    TU_EQ_HEX("RIP: the INT instruction", f.rip, XT_UCODE);
    TU_EQ_HEX("CR2 untouched", xt_reg(&t, UC_X86_REG_CR2), 0);
    xt_free(&t);
}

/* INT 0x80 from ring 3 with IF = 1: an interrupt gate clears IF in the
 * handler, a trap gate keeps it; the frame holds RFLAGS as it was. */
static void gate_type(uint8_t attr, uint64_t want_if)
{
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0x6a, 0x1b,                   /* push $0x1b    SS */
        0x68, 0xf0, 0x9f, 0x00, 0x00, /* push $0x9ff0  RSP */
        0x68, 0x02, 0x02, 0x00, 0x00, /* push $0x202   RFLAGS: IF */
        0x6a, 0x23,                   /* push $0x23    CS */
        0x68, 0x00, 0x80, 0x00, 0x00, /* push $0x8000  RIP */
        0x48, 0xcf,                   /* iretq */
    };
    static const uint8_t u[] = {0xcd, 0x80}; /* int $0x80 */
    xt_code(&t, k, sizeof k, u, sizeof u);
    xt_gate(&t, 0x80, XT_INT80, attr);
    assert_int_equal(xt_run(&t), 0x80);
    xt_frame f = xt_get_frame(&t, false);
    TU_EQ_HEX("RFLAGS pushed", f.rflags, 0x202);
    TU_EQ_HEX("handler RFLAGS.IF", xt_reg(&t, UC_X86_REG_RFLAGS) & 0x200,
              want_if);
    xt_free(&t);
}

static void interrupt_gate_clears_if(void **state)
{
    (void)state;
    gate_type(0xee, 0);
}

static void trap_gate_keeps_if(void **state)
{
    (void)state;
    gate_type(0xef, 0x200);
}

/* ---- CPU-raised exceptions, twice --------------------------------------- */

/* Ring 3 executes HLT twice (#GP(0) each, raised by the CPU); the #GP
 * handler counts and skips the HLT; then INT 0x80 exits with the count. */
static void two_cpu_gps_are_not_a_double_fault(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xf4, 0xf4, /* hlt; hlt: #GP(0) at CPL 3 */
        0x48, 0x8b, 0x04, 0x25, 0x20, 0xa0, 0x00, 0x00, /* mov 0xa020,%rax */
        0xcd, 0x80,                                     /* int $0x80 */
    };
    static const uint8_t gp[] = {
        0x48, 0xff, 0x04, 0x25, 0x20, 0xa0, 0x00, 0x00, /* incq 0xa020 */
        0x48, 0x83, 0x44, 0x24, 0x08, 0x01, /* addq $1,8(%rsp): skip HLT */
        0x48, 0x83, 0xc4, 0x08,             /* add $8,%rsp: error code */
        0x48, 0xcf,                         /* iretq */
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    xt_poke(&t, XT_HANDLERS + 0x20u * X86_VEC_GP, gp, sizeof gp);
    /* The user code reads the counter: let ring 3 see the result page. */
    xt_map(&t, XT_RESULT, XT_RESULT, 0x1000, XT_USR_RW | X86_PTE_NX);
    assert_int_equal(xt_run(&t), 0x80);
    TU_EQ_HEX("#GP handler runs", xt_peek64(&t, XT_RESULT + 0x20), 2);
    TU_EQ_HEX("counter seen by ring 3", xt_peek64(&t, XT_RESULT + 0x18), 2);
    const mmu_glue_stats *s = mmu_glue_get_stats(t.g);
    assert_true(s->cpu_exceptions >= 3);
    xt_free(&t);
}

/* ---- #UD (Unicorn stops instead of raising it) -------------------------- */

static void ud2_from_ring3_is_invalid_opcode(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {0x90, 0x0f, 0x0b}; /* nop; ud2 */
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), 6);
    xt_frame f = xt_get_frame(&t, false);
    TU_EQ_HEX("RIP: the UD2", f.rip, XT_UCODE + 1);
    TU_EQ_HEX("CS", f.cs, XT_SEL_UCODE);
    TU_EQ_HEX("frame at RSP0 - 40", f.at, XT_KSTACK_TOP - 40);
    xt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pf_from_ring3_switches_to_rsp0),
        cmocka_unit_test(pf_from_ring0_aligns_the_stack),
        cmocka_unit_test(noncanonical_load_is_gp),
        cmocka_unit_test(noncanonical_rbp_based_load_is_ss),
        cmocka_unit_test(pf_with_absent_gate_is_double_fault),
        cmocka_unit_test(fault_delivering_double_fault_is_triple),
        cmocka_unit_test(pf_on_bad_kernel_stack_uses_df_ist),
        cmocka_unit_test(int80_from_ring3_pushes_next_rip),
        cmocka_unit_test(int_through_dpl0_gate_from_ring3_is_gp),
        cmocka_unit_test(interrupt_gate_clears_if),
        cmocka_unit_test(trap_gate_keeps_if),
        cmocka_unit_test(two_cpu_gps_are_not_a_double_fault),
        cmocka_unit_test(ud2_from_ring3_is_invalid_opcode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
