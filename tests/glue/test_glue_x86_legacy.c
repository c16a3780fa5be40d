/*
 * test_glue_x86_legacy.c - legacy protected mode with PAE paging, on both
 * engines: glue_arch_x86_64 after leaving Unicorn's IA-32e reset state
 * (CR0.PG 1 -> 0 clears EFER.LMA) and glue_arch_i386 (UC_MODE_32).
 * Checks the 32-bit trap entry (8-byte gates, TSS.ESP0/SS0 stack switch,
 * 32-bit frame: [SS ESP] EFLAGS CS EIP [error code]) and the PAE PDPTE
 * registers: loaded by MOV CR3, not re-read on TLB misses (SDM vol. 3A
 * 4.4.1), and a present PDPTE with a reserved bit makes the MOV CR3 itself
 * raise #GP(0). The i386 glue is a CPU without IA-32e mode: CPUID
 * reports no LM or LA57 and WRMSR setting EFER.LME is #GP(0).
 *
 * Layout as in test_glue_x86_harness.h (identity-mapped, 32-bit code).
 */
#include "testutil.h"

#include <string.h>

#include "mmuemu/glue.h"

#define RAM        (UINT64_C(4) << 20)
#define KCODE      UINT64_C(0x1000)
#define GDT        UINT64_C(0x2000)
#define IDT        UINT64_C(0x3000)
#define TSS        UINT64_C(0x4000)
#define KSTACK_TOP UINT64_C(0x6000)
#define KESP       UINT64_C(0x5f00)
#define HANDLERS   UINT64_C(0x7000)
#define UCODE      UINT64_C(0x8000)
#define USTACK_TOP UINT64_C(0x9ff0)
#define RESULT     UINT64_C(0xa000)
#define BAD_PDPT   UINT64_C(0xb000)
#define TABLES     UINT64_C(0x10000)
#define TABLES_END UINT64_C(0x80000)
#define VA_HIGH    UINT64_C(0x40000000)
#define PA_OLD     UINT64_C(0x180000)
#define PA_NEW     UINT64_C(0x181000)

#define SUP_RW (X86_PTE_P | X86_PTE_RW)
#define USR_RW (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define TABLE  (X86_PTE_P | X86_PTE_RW | X86_PTE_US)

typedef struct lg {
    mmu_glue *g;
    mmu_bump_alloc alloc;
    mmu_pt pt;
    mmu_glue_result res;
} lg;

static void poke(lg *t, uint64_t pa, const void *src, size_t len)
{
    assert_true(mmu_phys_write(mmu_glue_mem(t->g), pa, src, len));
}

static uint32_t peek32(lg *t, uint64_t pa)
{
    uint32_t v = 0;
    assert_true(mmu_phys_read32(mmu_glue_mem(t->g), pa, &v));
    return v;
}

/* 32-bit registers exist on both engines. */
static uint32_t reg(lg *t, int r)
{
    uint32_t v = 0;
    assert_int_equal(uc_reg_read(mmu_glue_uc(t->g), r, &v), UC_ERR_OK);
    return v;
}

static void set_reg(lg *t, int r, uint32_t v)
{
    assert_int_equal(uc_reg_write(mmu_glue_uc(t->g), r, &v), UC_ERR_OK);
}

static void map(lg *t, uint64_t va, uint64_t pa, uint64_t len, uint64_t f)
{
    assert_int_equal(mmu_pt_map(&t->pt, va, pa, len, 0x1000, f, TABLE),
                     MMU_PT_OK);
}

static void out_hook(uc_engine *uc, uint32_t port, int size, uint32_t value,
                     void *arg)
{
    (void)uc, (void)size;
    if (port == 0x80)
        mmu_glue_request_exit(arg, (int)value);
}

/* Handler of vector v: mov %cr2,%eax; mov %eax,0xa000; mov %esp,0xa008;
 * mov $v,%eax; out %al,$0x80; hlt. */
static void handler(lg *t, uint8_t v)
{
    uint8_t h[] = {
        0x0f, 0x20, 0xd0,                   /* mov %cr2,%eax */
        0xa3, 0x00, 0xa0, 0x00, 0x00,       /* mov %eax,0xa000 */
        0x89, 0x25, 0x08, 0xa0, 0x00, 0x00, /* mov %esp,0xa008 */
        0xb8, v,    0x00, 0x00, 0x00,       /* mov $v,%eax */
        0xe6, 0x80,                         /* out %al,$0x80 */
        0xf4,                               /* hlt */
    };
    uint64_t at = HANDLERS + 0x20u * v;
    poke(t, at, h, sizeof h);
    uint8_t gate[8] = {
        (uint8_t)at,         (uint8_t)(at >> 8), 0x08, 0, 0, 0x8e,
        (uint8_t)(at >> 16), (uint8_t)(at >> 24)};
    poke(t, IDT + 8u * v, gate, sizeof gate);
}

static void lg_init(lg *t, mmu_glue_isa isa)
{
    char err[256] = "";
    memset(t, 0, sizeof *t);
    mmu_glue_config cfg = {.isa = isa, .ram_size = RAM, .cpu_model = -1};
    t->g = mmu_glue_new(&cfg, err, sizeof err);
    if (t->g == NULL)
        fail_msg("mmu_glue_new: %s", err);
    mmu_phys *mem = mmu_glue_mem(t->g);
    t->alloc = (mmu_bump_alloc){mem, TABLES, TABLES_END};
    assert_int_equal(mmu_pt_init(&t->pt, mem, MMU_MODE_X86_PAE,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    map(t, KCODE, KCODE, UCODE - KCODE, SUP_RW);
    map(t, UCODE, UCODE, 0x2000, USR_RW);
    map(t, RESULT, RESULT, 0x2000, SUP_RW);
    map(t, TABLES, TABLES, TABLES_END - TABLES, SUP_RW);

    const uint64_t gdt[6] = {
        0,
        UINT64_C(0x00cf9a000000ffff), /* 0x08 ring-0 code, 32-bit */
        UINT64_C(0x00cf92000000ffff), /* 0x10 ring-0 data */
        UINT64_C(0x00cff2000000ffff), /* 0x18 ring-3 data */
        UINT64_C(0x00cffa000000ffff), /* 0x20 ring-3 code, 32-bit */
        103u | (TSS << 16) | UINT64_C(0x89) << 40, /* 0x28 32-bit TSS */
    };
    poke(t, GDT, gdt, sizeof gdt);
    uint32_t esp0 = (uint32_t)KSTACK_TOP, ss0 = 0x10;
    poke(t, TSS + 4, &esp0, 4);
    poke(t, TSS + 8, &ss0, 4);
    for (uint8_t v = 0; v < 32; v++)
        handler(t, v);

    uc_engine *uc = mmu_glue_uc(t->g);
    if (isa == MMU_GLUE_X86_64) {
        /* Leave Unicorn's reset IA-32e state: PG 1 -> 0 clears LMA. */
        uint64_t v = X86_CR4_PAE;
        uc_reg_write(uc, UC_X86_REG_CR4, &v);
        v = X86_CR0_PE | X86_CR0_PG;
        uc_reg_write(uc, UC_X86_REG_CR0, &v);
        v = X86_CR0_PE;
        uc_reg_write(uc, UC_X86_REG_CR0, &v);
    }
    uc_x86_msr efer = {.rid = 0xc0000080, .value = X86_EFER_NXE};
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_MSR, &efer), UC_ERR_OK);
    uc_x86_mmr gdtr = {.base = GDT, .limit = sizeof gdt - 1};
    uc_x86_mmr idtr = {.base = IDT, .limit = 0xff};
    uc_x86_mmr tr = {
        .selector = 0x28, .base = TSS, .limit = 103, .flags = 0x8b00};
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), UC_ERR_OK);
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_TR, &tr), UC_ERR_OK);
    /* Segment loads read the GDT: done while paging is still off. */
    set_reg(t, UC_X86_REG_CS, 0x08);
    set_reg(t, UC_X86_REG_SS, 0x10);
    set_reg(t, UC_X86_REG_DS, 0x10);
    set_reg(t, UC_X86_REG_ES, 0x10);
    set_reg(t, UC_X86_REG_CR4, X86_CR4_PAE);
    set_reg(t, UC_X86_REG_CR3, (uint32_t)mmu_pt_root_reg(&t->pt));
    set_reg(t, UC_X86_REG_CR0, X86_CR0_PE | X86_CR0_WP | X86_CR0_PG);
    set_reg(t, UC_X86_REG_ESP, (uint32_t)KESP);
    uc_hook h;
    assert_int_equal(uc_hook_add(uc, &h, UC_HOOK_INSN,
                                 (void *)(uintptr_t)out_hook, t->g, 1, 0,
                                 UC_X86_INS_OUT),
                     UC_ERR_OK);
}

static int lg_run(lg *t, const uint8_t *k, size_t klen)
{
    poke(t, KCODE, k, klen);
    mmu_glue_run(t->g, KCODE, 1000000, &t->res);
    return t->res.stop == MMU_GLUE_STOP_EXIT ? t->res.exit_code : -1;
}

/* ---- #PF from ring 3, 32-bit frame -------------------------------------- */

static void user_pf(mmu_glue_isa isa)
{
    lg t;
    lg_init(&t, isa);
    static const uint8_t k[] = {
        0x6a, 0x1b,                   /* push $0x1b    SS */
        0x68, 0xf0, 0x9f, 0x00, 0x00, /* push $0x9ff0  ESP */
        0x6a, 0x02,                   /* push $0x2     EFLAGS */
        0x6a, 0x23,                   /* push $0x23    CS */
        0x68, 0x00, 0x80, 0x00, 0x00, /* push $0x8000  EIP */
        0xcf,                         /* iret */
    };
    static const uint8_t u[] = {
        0xbb, 0x18, 0x00, 0x20, 0x00, /* 8000 mov $0x200018,%ebx */
        0x8b, 0x03,                   /* 8005 mov (%ebx),%eax */
        0xf4,
    };
    poke(&t, UCODE, u, sizeof u);
    assert_int_equal(lg_run(&t, k, sizeof k), X86_VEC_PF);
    uint32_t at = peek32(&t, RESULT + 8);
    TU_EQ_HEX("frame at ESP0 - 24", at, KSTACK_TOP - 24);
    TU_EQ_HEX("error code", peek32(&t, at), X86_PF_U);
    TU_EQ_HEX("EIP", peek32(&t, at + 4), UCODE + 5);
    TU_EQ_HEX("CS", peek32(&t, at + 8), 0x23);
    TU_EQ_HEX("EFLAGS", peek32(&t, at + 12), 0x2);
    TU_EQ_HEX("ESP", peek32(&t, at + 16), USTACK_TOP);
    TU_EQ_HEX("SS", peek32(&t, at + 20), 0x1b);
    TU_EQ_HEX("CR2", peek32(&t, RESULT), 0x200018);
    TU_EQ_HEX("handler CS", reg(&t, UC_X86_REG_CS), 0x08);
    TU_EQ_HEX("handler SS (TSS.SS0)", reg(&t, UC_X86_REG_SS), 0x10);
    assert_int_equal(mmu_glue_priv(t.g), 0);
    mmu_glue_free(t.g);
}

static void user_pf_x86_64(void **state)
{
    (void)state;
    user_pf(MMU_GLUE_X86_64);
}

static void user_pf_i386(void **state)
{
    (void)state;
    user_pf(MMU_GLUE_I386);
}

/* ---- MOV CR3 with a reserved PDPTE bit: #GP(0) at the MOV --------------- */

static void bad_pdpte(mmu_glue_isa isa)
{
    lg t;
    lg_init(&t, isa);
    uint64_t pdpt[4] = {mmu_pt_root_reg(&t.pt), 0, 0, 0};
    uint64_t cur[4];
    assert_true(mmu_phys_read(mmu_glue_mem(t.g), mmu_pt_root_reg(&t.pt), cur,
                              sizeof cur));
    memcpy(pdpt, cur, sizeof pdpt);
    pdpt[1] = 0x60000 | X86_PTE_P | X86_PTE_A; /* bit 5: reserved */
    poke(&t, BAD_PDPT, pdpt, sizeof pdpt);
    static const uint8_t k[] = {
        0xb8, 0x00, 0xb0, 0x00, 0x00, /* 1000 mov $0xb000,%eax */
        0x0f, 0x22, 0xd8,             /* 1005 mov %eax,%cr3: #GP(0) */
        0xf4,
    };
    uint32_t cr3 = reg(&t, UC_X86_REG_CR3);
    assert_int_equal(lg_run(&t, k, sizeof k), X86_VEC_GP);
    uint32_t at = peek32(&t, RESULT + 8);
    TU_EQ_HEX("frame on the same stack", at, KESP - 16);
    TU_EQ_HEX("error code", peek32(&t, at), 0);
    TU_EQ_HEX("EIP: the MOV", peek32(&t, at + 4), KCODE + 5);
    TU_EQ_HEX("CS", peek32(&t, at + 8), 0x08);
    TU_EQ_HEX("CR3 unchanged", reg(&t, UC_X86_REG_CR3), cr3);
    mmu_glue_free(t.g);
}

static void bad_pdpte_x86_64(void **state)
{
    (void)state;
    bad_pdpte(MMU_GLUE_X86_64);
}

static void bad_pdpte_i386(void **state)
{
    (void)state;
    bad_pdpte(MMU_GLUE_I386);
}

/* ---- PDPTE registers are loaded by MOV CR3, not re-read ----------------- */

static void pdptes_reload(mmu_glue_isa isa)
{
    lg t;
    lg_init(&t, isa);
    map(&t, VA_HIGH, PA_OLD, 0x1000, SUP_RW);
    /* Another PD for the same 1 GiB slot, mapping VA_HIGH to PA_NEW. */
    mmu_pt alt;
    assert_int_equal(mmu_pt_init(&alt, mmu_glue_mem(t.g), MMU_MODE_X86_PAE,
                                 mmu_bump_alloc_frame, &t.alloc),
                     MMU_PT_OK);
    assert_int_equal(
        mmu_pt_map(&alt, VA_HIGH, PA_NEW, 0x1000, 0x1000, SUP_RW, TABLE),
        MMU_PT_OK);
    uint64_t new_pdpte = 0, pdpte_at = 0;
    assert_int_equal(mmu_pt_get_entry(&alt, VA_HIGH, 2, &new_pdpte), MMU_PT_OK);
    assert_int_equal(mmu_pt_entry_addr(&t.pt, VA_HIGH, 2, &pdpte_at),
                     MMU_PT_OK);
    uint32_t v = 0x11;
    poke(&t, PA_OLD, &v, 4);
    v = 0x22;
    poke(&t, PA_NEW, &v, 4);
    /* EBX = VA_HIGH, ECX = &PDPTE[1] (low half), EDX = its new value. */
    static const uint8_t k[] = {
        0x8b, 0x03,                   /* mov (%ebx),%eax */
        0xa3, 0x20, 0xa0, 0x00, 0x00, /* mov %eax,0xa020 */
        0x89, 0x11,                   /* mov %edx,(%ecx) */
        0x0f, 0x01, 0x3b,             /* invlpg (%ebx) */
        0x8b, 0x03,                   /* mov (%ebx),%eax */
        0xa3, 0x28, 0xa0, 0x00, 0x00, /* mov %eax,0xa028 */
        0x0f, 0x20, 0xd8,             /* mov %cr3,%eax */
        0x0f, 0x22, 0xd8,             /* mov %eax,%cr3 */
        0x8b, 0x03,                   /* mov (%ebx),%eax */
        0xa3, 0x30, 0xa0, 0x00, 0x00, /* mov %eax,0xa030 */
        0x31, 0xc0,                   /* xor %eax,%eax */
        0xe6, 0x80,                   /* out %al,$0x80 */
    };
    set_reg(&t, UC_X86_REG_EBX, (uint32_t)VA_HIGH);
    set_reg(&t, UC_X86_REG_ECX, (uint32_t)pdpte_at);
    set_reg(&t, UC_X86_REG_EDX, (uint32_t)new_pdpte);
    assert_int_equal(lg_run(&t, k, sizeof k), 0);
    TU_EQ_HEX("before", peek32(&t, RESULT + 0x20), 0x11);
    TU_EQ_HEX("PDPTE changed in memory + INVLPG: registers still old",
              peek32(&t, RESULT + 0x28), 0x11);
    TU_EQ_HEX("after MOV CR3: reloaded", peek32(&t, RESULT + 0x30), 0x22);
    mmu_glue_free(t.g);
}

static void pdptes_reload_x86_64(void **state)
{
    (void)state;
    pdptes_reload(MMU_GLUE_X86_64);
}

static void pdptes_reload_i386(void **state)
{
    (void)state;
    pdptes_reload(MMU_GLUE_I386);
}

/* ---- the i386 glue is a CPU without IA-32e mode ------------------------- */

/* CPUID (LM, LA57), then paging off and WRMSR EFER.LME: allowed on the
 * x86-64 glue; on the i386 glue LME is a reserved bit: #GP(0) at the
 * WRMSR (SDM vol. 4, IA32_EFER; as qemu-system-i386 -cpu max reports
 * no LM). */
static void long_mode_absent(mmu_glue_isa isa)
{
    lg t;
    lg_init(&t, isa);
    static const uint8_t k[] = {
        0xb8, 0x01, 0x00, 0x00, 0x80,       /* 1000 mov $0x80000001,%eax */
        0x0f, 0xa2,                         /* 1005 cpuid */
        0x89, 0x15, 0x20, 0xa0, 0x00, 0x00, /* 1007 mov %edx,0xa020 */
        0xb8, 0x07, 0x00, 0x00, 0x00,       /* 100d mov $7,%eax */
        0x31, 0xc9,                         /* 1012 xor %ecx,%ecx */
        0x0f, 0xa2,                         /* 1014 cpuid */
        0x89, 0x0d, 0x24, 0xa0, 0x00, 0x00, /* 1016 mov %ecx,0xa024 */
        0x0f, 0x20, 0xc0,                   /* 101c mov %cr0,%eax */
        0x25, 0xff, 0xff, 0xff, 0x7f,       /* 101f and $0x7fffffff,%eax */
        0x0f, 0x22, 0xc0,                   /* 1024 mov %eax,%cr0 */
        0xb9, 0x80, 0x00, 0x00, 0xc0,       /* 1027 mov $0xc0000080,%ecx */
        0x0f, 0x32,                         /* 102c rdmsr */
        0x0d, 0x00, 0x01, 0x00, 0x00,       /* 102e or $0x100,%eax: LME */
        0x0f, 0x30,                         /* 1033 wrmsr */
        0x31, 0xc0,                         /* 1035 xor %eax,%eax */
        0xe6, 0x80,                         /* 1037 out %al,$0x80 */
    };
    bool i386 = isa == MMU_GLUE_I386;
    assert_int_equal(lg_run(&t, k, sizeof k), i386 ? X86_VEC_GP : 0);
    uint32_t edx = peek32(&t, RESULT + 0x20), ecx = peek32(&t, RESULT + 0x24);
    assert_int_equal((edx >> 29) & 1, i386 ? 0 : 1); /* LM */
    assert_int_equal((ecx >> 16) & 1, i386 ? 0 : 1); /* LA57 */
    if (i386) {
        uint32_t at = peek32(&t, RESULT + 8);
        TU_EQ_HEX("error code", peek32(&t, at), 0);
        TU_EQ_HEX("EIP: the WRMSR", peek32(&t, at + 4), KCODE + 0x33);
    }
    uc_x86_msr efer = {.rid = 0xc0000080};
    assert_int_equal(uc_reg_read(mmu_glue_uc(t.g), UC_X86_REG_MSR, &efer),
                     UC_ERR_OK);
    assert_int_equal((efer.value & X86_EFER_LME) != 0, !i386);
    mmu_glue_free(t.g);
}

static void long_mode_x86_64(void **state)
{
    (void)state;
    long_mode_absent(MMU_GLUE_X86_64);
}

static void no_long_mode_i386(void **state)
{
    (void)state;
    long_mode_absent(MMU_GLUE_I386);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_pf_x86_64),
        cmocka_unit_test(user_pf_i386),
        cmocka_unit_test(bad_pdpte_x86_64),
        cmocka_unit_test(bad_pdpte_i386),
        cmocka_unit_test(pdptes_reload_x86_64),
        cmocka_unit_test(pdptes_reload_i386),
        cmocka_unit_test(long_mode_x86_64),
        cmocka_unit_test(no_long_mode_i386),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
