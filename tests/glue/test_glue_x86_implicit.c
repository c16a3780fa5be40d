/*
 * test_glue_x86_implicit.c - implicit supervisor accesses seen through
 * the fill hook (cpu_glue/x86_glue.c, x86_classify_fill). QEMU reads and
 * writes the GDT, LDT, IDT and TSS through its kernel index at any CPL
 * (segment loads, IRET, I/O-bitmap checks), but the fill hook only gets
 * the page: a fill of a page holding a descriptor table is implicit
 * unless the instruction at RIP accesses that page itself.
 *
 * SDM vol. 3A 4.6.1: implicit accesses to system data structures are
 * supervisor-mode accesses whatever the CPL; an explicit CPL-3 access to
 * the same supervisor page is a user-mode access and faults.
 */
#include "test_glue_x86_harness.h"

#define GDT_UDATA_DESC (XT_GDT + 3 * 8) /* selector 0x18 */
#define DESC_ACCESSED  (UINT64_C(1) << 40)

/* Ring 3 loads DS and ES with its data selector: QEMU reads the GDT (a
 * supervisor page) and sets the descriptor's accessed bit, both as
 * implicit supervisor accesses. */
static void user_segment_load_reads_the_gdt(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xb8, 0x1b, 0x00, 0x00, 0x00, /* 8000 mov $0x1b,%eax */
        0x8e, 0xd8,                   /* 8005 mov %eax,%ds */
        0x8e, 0xc0,                   /* 8007 mov %eax,%es */
        0x8c, 0xd8,                   /* 8009 mov %ds,%eax */
        0xcd, 0x80,                   /* 800b int $0x80 */
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_false(xt_peek64(&t, GDT_UDATA_DESC) & DESC_ACCESSED);
    assert_int_equal(xt_run(&t), 0x80);
    TU_EQ_HEX("DS read back by ring 3", xt_peek64(&t, XT_RESULT + 0x18),
              XT_SEL_UDATA);
    assert_true(xt_peek64(&t, GDT_UDATA_DESC) & DESC_ACCESSED);
    assert_true(t.res.have_last);
    assert_int_equal(t.res.last.source, MMU_GLUE_FROM_CPU); /* the INT */
    xt_free(&t);
}

/* The same supervisor page read explicitly by ring 3: #PF(U|P). */
static void user_read_of_the_gdt_page_faults(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xbb, 0x18, 0x20, 0x00, 0x00, /* 8000 mov $0x2018,%ebx */
        0x48, 0x8b, 0x03,             /* 8005 mov (%rbx),%rax */
        0xcd, 0x80,
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), X86_VEC_PF);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("error code (P, U)", f.ec, X86_PF_P | X86_PF_U);
    TU_EQ_HEX("CR2", xt_reg(&t, UC_X86_REG_CR2), GDT_UDATA_DESC);
    TU_EQ_HEX("RIP", f.rip, XT_UCODE + 5);
    xt_free(&t);
}

/* A segment load, then an explicit read of the same page: the implicit
 * fill must not leave ring 3 a way into the page. */
static void implicit_fill_does_not_open_the_page_to_ring3(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {XT_TO_RING3_CODE};
    static const uint8_t u[] = {
        0xb8, 0x1b, 0x00, 0x00, 0x00, /* 8000 mov $0x1b,%eax */
        0x8e, 0xd8,                   /* 8005 mov %eax,%ds */
        0xbb, 0x18, 0x20, 0x00, 0x00, /* 8007 mov $0x2018,%ebx */
        0x48, 0x8b, 0x03,             /* 800c mov (%rbx),%rax */
        0xcd, 0x80,
    };
    xt_code(&t, k, sizeof k, u, sizeof u);
    assert_int_equal(xt_run(&t), X86_VEC_PF);
    xt_frame f = xt_get_frame(&t, true);
    TU_EQ_HEX("error code (P, U)", f.ec, X86_PF_P | X86_PF_U);
    TU_EQ_HEX("RIP", f.rip, XT_UCODE + 0xc);
    xt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_segment_load_reads_the_gdt),
        cmocka_unit_test(user_read_of_the_gdt_page_faults),
        cmocka_unit_test(implicit_fill_does_not_open_the_page_to_ring3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
