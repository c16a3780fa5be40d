/*
 * test_glue_x86_host.c - the x86 binding seen from the host: a fault the
 * host handles (maps the page, RETRY) and the invalidation-instruction
 * hooks keeping the model TLB coherent with the guest's own page-table
 * edits: INVLPG after a PTE change, MOV CR3 dropping non-global entries
 * but keeping global ones (CR4.PGE), and CPUID reporting the paging
 * features.
 *
 * Staleness is expected where the SDM allows it (SDM vol. 3A 4.10.4.3:
 * a changed PTE may be used stale until invalidated); the tests check
 * both the stale value before the invalidation and the new one after.
 */
#include "test_glue_x86_harness.h"

#define VA_A    UINT64_C(0x200000)
#define VA_B    UINT64_C(0x201000)
#define PA_OLD  UINT64_C(0x180000)
#define PA_NEW  UINT64_C(0x181000)
#define PA_OLD2 UINT64_C(0x182000)
#define PA_NEW2 UINT64_C(0x183000)

static void put64(xt_machine *t, uint64_t pa, uint64_t v)
{
    xt_poke(t, pa, &v, sizeof v);
}

static uint64_t pte_addr(xt_machine *t, uint64_t va)
{
    uint64_t a = 0;
    assert_int_equal(mmu_pt_entry_addr(&t->pt, va, 0, &a), MMU_PT_OK);
    return a;
}

/* ---- a fault the host handles ------------------------------------------- */

typedef struct demand {
    xt_machine *t;
    unsigned calls;
} demand;

static mmu_glue_action map_on_demand(mmu_glue *g, const mmu_glue_event *ev,
                                     void *arg)
{
    demand *d = arg;
    if (ev->source != MMU_GLUE_FROM_MODEL)
        return MMU_GLUE_DELIVER; /* the INT 0x80 at the end */
    d->calls++;
    if (ev->fault.kind != MMU_FAULT_PAGE || (ev->fault.code & X86_PF_P) ||
        ev->fault.addr != VA_A + 0x28)
        return MMU_GLUE_STOP;
    xt_map(d->t, VA_A, PA_OLD, 0x1000, XT_SUP_RW);
    mmu_glue_host_changed(g);
    return MMU_GLUE_RETRY;
}

static void host_maps_the_page_and_retries(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0x48, 0x8b, 0x03, /* mov (%rbx),%rax: not mapped -> host -> retry */
        0xcd, 0x80,       /* int $0x80: exit with RAX */
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    put64(&t, PA_OLD + 0x28, 0x1234);
    xt_set_reg(&t, UC_X86_REG_RBX, VA_A + 0x28);
    demand d = {.t = &t};
    mmu_glue_set_handler(t.g, map_on_demand, &d);
    assert_int_equal(xt_run(&t), 0x80);
    TU_EQ_HEX("value read after the retry", xt_peek64(&t, XT_RESULT + 0x18),
              0x1234);
    assert_int_equal(d.calls, 1);
    assert_int_equal(mmu_glue_get_stats(t.g)->retried, 1);
    TU_EQ_HEX("CR2 untouched by a host-handled fault",
              xt_reg(&t, UC_X86_REG_CR2), 0);
    xt_free(&t);
}

/* QEMU counts the #PF the fill hook made it raise as an exception in
 * flight; a contributory exception after the host handled that #PF must
 * still be itself, not a double fault (SDM table 6-5 applies only while
 * delivering). */
static void cpu_fault_after_host_retry_is_not_double(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0x48, 0x8b, 0x03, /* 1000 mov (%rbx),%rax: host maps, retry */
        0x31, 0xc9,       /* 1003 xor %ecx,%ecx */
        0xf7, 0xf1,       /* 1005 div %ecx: #DE */
        0xf4,
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_RBX, VA_A + 0x28);
    demand d = {.t = &t};
    mmu_glue_set_handler(t.g, map_on_demand, &d);
    assert_int_equal(xt_run(&t), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(t.res.last.source, MMU_GLUE_FROM_CPU);
    assert_int_equal(t.res.last.fault.vector, 0);
    xt_frame f = xt_get_frame(&t, false);
    TU_EQ_HEX("RIP: the DIV", f.rip, XT_KCODE + 5);
    xt_free(&t);
}

/* ---- INVLPG ------------------------------------------------------------- */

/* RBX = VA, RCX = its PTE, RDX = the new PTE. */
static const uint8_t invlpg_code[] = {
    0x48, 0x8b, 0x03,                               /* mov (%rbx),%rax */
    0x48, 0x89, 0x04, 0x25, 0x20, 0xa0, 0x00, 0x00, /* mov %rax,0xa020 */
    0x48, 0x89, 0x11,                               /* mov %rdx,(%rcx) */
    0x48, 0x8b, 0x03,                               /* mov (%rbx),%rax */
    0x48, 0x89, 0x04, 0x25, 0x28, 0xa0, 0x00, 0x00, /* mov %rax,0xa028 */
    0x0f, 0x01, 0x3b,                               /* invlpg (%rbx) */
    0x48, 0x8b, 0x03,                               /* mov (%rbx),%rax */
    0x48, 0x89, 0x04, 0x25, 0x30, 0xa0, 0x00, 0x00, /* mov %rax,0xa030 */
    0x31, 0xc0,                                     /* xor %eax,%eax */
    0xe6, 0x80,                                     /* out %al,$0x80 */
};

static void invlpg_run(const char *preset)
{
    xt_machine t;
    xt_init(&t, preset ? mmu_tlb_preset(preset) : NULL);
    xt_map(&t, VA_A, PA_OLD, 0x1000, XT_SUP_RW);
    put64(&t, PA_OLD, 0x11);
    put64(&t, PA_NEW, 0x22);
    xt_code(&t, invlpg_code, sizeof invlpg_code, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_RBX, VA_A);
    xt_set_reg(&t, UC_X86_REG_RCX, pte_addr(&t, VA_A));
    xt_set_reg(&t, UC_X86_REG_RDX, PA_NEW | XT_SUP_RW | X86_PTE_A);
    assert_int_equal(xt_run(&t), 0);
    TU_EQ_HEX("before the PTE change", xt_peek64(&t, XT_RESULT + 0x20), 0x11);
    TU_EQ_HEX("PTE changed, no INVLPG: stale", xt_peek64(&t, XT_RESULT + 0x28),
              0x11);
    TU_EQ_HEX("after INVLPG: the new page", xt_peek64(&t, XT_RESULT + 0x30),
              0x22);
    assert_true(mmu_glue_get_stats(t.g)->inval_events >= 1);
    if (preset != NULL) {
        const mmu_tlb_stats *s =
            mmu_tlb_get_stats(mmu_glue_mmu(t.g)->tlb, MMU_TLB_DTLB);
        assert_true(s->invalidated >= 1);
    }
    xt_free(&t);
}

static void invlpg_keeps_model_tlb_coherent(void **state)
{
    (void)state;
    invlpg_run("generic");
}

static void invlpg_without_model_tlb(void **state)
{
    (void)state;
    invlpg_run(NULL);
}

/* ---- MOV CR3 and global pages ------------------------------------------- */

/* RBX = VA_A (non-global), RSI = VA_B (global); RCX/RDX and RDI/R8: their
 * PTEs and new values. Reads both, rewrites both PTEs, MOV CR3 (same
 * value), reads both, INVLPG VA_B, reads VA_B. */
static const uint8_t cr3_code[] = {
    0x48, 0x8b, 0x03,                               /* mov (%rbx),%rax */
    0x48, 0x8b, 0x06,                               /* mov (%rsi),%rax */
    0x48, 0x89, 0x11,                               /* mov %rdx,(%rcx) */
    0x4c, 0x89, 0x07,                               /* mov %r8,(%rdi) */
    0x0f, 0x20, 0xd8,                               /* mov %cr3,%rax */
    0x0f, 0x22, 0xd8,                               /* mov %rax,%cr3 */
    0x48, 0x8b, 0x03,                               /* mov (%rbx),%rax */
    0x48, 0x89, 0x04, 0x25, 0x20, 0xa0, 0x00, 0x00, /* mov %rax,0xa020 */
    0x48, 0x8b, 0x06,                               /* mov (%rsi),%rax */
    0x48, 0x89, 0x04, 0x25, 0x28, 0xa0, 0x00, 0x00, /* mov %rax,0xa028 */
    0x0f, 0x01, 0x3e,                               /* invlpg (%rsi) */
    0x48, 0x8b, 0x06,                               /* mov (%rsi),%rax */
    0x48, 0x89, 0x04, 0x25, 0x30, 0xa0, 0x00, 0x00, /* mov %rax,0xa030 */
    0x31, 0xc0,                                     /* xor %eax,%eax */
    0xe6, 0x80,                                     /* out %al,$0x80 */
};

static void mov_cr3_keeps_global_entries(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, mmu_tlb_preset("generic"));
    xt_set_reg(&t, UC_X86_REG_CR4, xt_reg(&t, UC_X86_REG_CR4) | X86_CR4_PGE);
    xt_map(&t, VA_A, PA_OLD, 0x1000, XT_SUP_RW);
    xt_map(&t, VA_B, PA_OLD2, 0x1000, XT_SUP_RW | X86_PTE_G);
    put64(&t, PA_OLD, 0x11);
    put64(&t, PA_NEW, 0x22);
    put64(&t, PA_OLD2, 0x33);
    put64(&t, PA_NEW2, 0x44);
    xt_code(&t, cr3_code, sizeof cr3_code, NULL, 0);
    xt_set_reg(&t, UC_X86_REG_RBX, VA_A);
    xt_set_reg(&t, UC_X86_REG_RCX, pte_addr(&t, VA_A));
    xt_set_reg(&t, UC_X86_REG_RDX, PA_NEW | XT_SUP_RW);
    xt_set_reg(&t, UC_X86_REG_RSI, VA_B);
    xt_set_reg(&t, UC_X86_REG_RDI, pte_addr(&t, VA_B));
    xt_set_reg(&t, UC_X86_REG_R8, PA_NEW2 | XT_SUP_RW | X86_PTE_G);
    assert_int_equal(xt_run(&t), 0);
    TU_EQ_HEX("non-global after MOV CR3: new", xt_peek64(&t, XT_RESULT + 0x20),
              0x22);
    TU_EQ_HEX("global after MOV CR3: stale", xt_peek64(&t, XT_RESULT + 0x28),
              0x33);
    TU_EQ_HEX("global after INVLPG: new", xt_peek64(&t, XT_RESULT + 0x30),
              0x44);
    xt_free(&t);
}

/* ---- CPUID -------------------------------------------------------------- */

static void cpuid_reports_the_model_paging_features(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0xb8, 0x07, 0x00, 0x00, 0x00,                   /* mov $7,%eax */
        0x31, 0xc9,                                     /* xor %ecx,%ecx */
        0x0f, 0xa2,                                     /* cpuid */
        0x48, 0x89, 0x1c, 0x25, 0x20, 0xa0, 0x00, 0x00, /* mov %rbx,0xa020 */
        0x48, 0x89, 0x0c, 0x25, 0x28, 0xa0, 0x00, 0x00, /* mov %rcx,0xa028 */
        0xb8, 0x01, 0x00, 0x00, 0x80, /* mov $0x80000001,%eax */
        0x0f, 0xa2,                   /* cpuid */
        0x48, 0x89, 0x14, 0x25, 0x30, 0xa0, 0x00, 0x00, /* mov %rdx,0xa030 */
        0xb8, 0x08, 0x00, 0x00, 0x80, /* mov $0x80000008,%eax */
        0x0f, 0xa2,                   /* cpuid */
        0x48, 0x89, 0x04, 0x25, 0x38, 0xa0, 0x00, 0x00, /* mov %rax,0xa038 */
        0x31, 0xc0, 0xe6, 0x80, /* xor %eax,%eax; out %al,$0x80 */
    };
    xt_code(&t, k, sizeof k, NULL, 0);
    assert_int_equal(xt_run(&t), 0);
    uint64_t b7 = xt_peek64(&t, XT_RESULT + 0x20);
    uint64_t c7 = xt_peek64(&t, XT_RESULT + 0x28);
    uint64_t dx1 = xt_peek64(&t, XT_RESULT + 0x30);
    uint64_t ax8 = xt_peek64(&t, XT_RESULT + 0x38);
    assert_true(b7 & (1u << 7));   /* SMEP */
    assert_true(b7 & (1u << 20));  /* SMAP */
    assert_false(b7 & (1u << 10)); /* INVPCID: Unicorn's TCG lacks it */
    assert_true(c7 & (1u << 3));   /* PKU */
    assert_true(c7 & (1u << 16));  /* LA57 */
    assert_false(c7 & (1u << 7));  /* CET shadow stacks: not modelled */
    assert_true(dx1 & (1u << 20)); /* NX */
    assert_true(dx1 & (1u << 26)); /* 1 GiB pages */
    TU_EQ_HEX("MAXPHYADDR = the model's", ax8 & 0xff,
              mmu_glue_mmu(t.g)->st.x86.maxphyaddr);
    TU_EQ_HEX("MAXPHYADDR as QEMU 7.2 -cpu max", ax8 & 0xff, 40);
    assert_true(mmu_glue_mmu(t.g)->st.x86.has_1g_pages);
    xt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_maps_the_page_and_retries),
        cmocka_unit_test(cpu_fault_after_host_retry_is_not_double),
        cmocka_unit_test(invlpg_keeps_model_tlb_coherent),
        cmocka_unit_test(invlpg_without_model_tlb),
        cmocka_unit_test(mov_cr3_keeps_global_entries),
        cmocka_unit_test(cpuid_reports_the_model_paging_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
