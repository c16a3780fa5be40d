/*
 * test_glue_x86_harness.h - a small x86-64 guest for the glue tests: 4 MiB
 * of RAM behind a UC_MODE_64 engine, 4-level tables built through the
 * builder, a GDT (ring-0/ring-3 code and data, a 64-bit TSS), an IDT whose
 * gates 0..31 lead to recording handlers, and the vCPU in 64-bit mode at
 * CPL 0. Guest code is hand-assembled machine code given by each test
 * (the assembly is in the comments next to the bytes).
 *
 * Guest layout (identity-mapped, VA = PA):
 *   0x1000 kernel code (CPL 0 entry)     0x2000 GDT    0x3000 IDT
 *   0x4000 TSS (RSP0 = 0x6000)           0x5000 kernel stack (RSP 0x5f00)
 *   0x7000 handlers: vector v at 0x7000 + 0x20 v records CR2 at 0xa000
 *          and RSP at 0xa008, then OUT v to port 0x80 (the test's exit)
 *   0x7800 INT 0x80 handler (DPL 3 gate): RAX to 0xa018, RSP to 0xa008,
 *          exit 0x80
 *   0x8000 user code (U/S=1)             0x9000 user stack (top 0x9ff0)
 *   0xa000 results (supervisor)          0x10000.. page-table frames
 *   0x100000.. data pages of the tests (mapped per test)
 * Every exception ends the run through port 0x80 (xt_run), so a test sees
 * the vector as the exit code and reads the frame the handler got.
 */
#ifndef TEST_GLUE_X86_HARNESS_H
#define TEST_GLUE_X86_HARNESS_H

#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "mmuemu/glue.h"

#define XT_RAM        (UINT64_C(4) << 20)
#define XT_KCODE      UINT64_C(0x1000)
#define XT_GDT        UINT64_C(0x2000)
#define XT_IDT        UINT64_C(0x3000)
#define XT_TSS        UINT64_C(0x4000)
#define XT_KSTACK     UINT64_C(0x5000)
#define XT_KSTACK_TOP UINT64_C(0x6000)
#define XT_KRSP       UINT64_C(0x5f00)
#define XT_HANDLERS   UINT64_C(0x7000)
#define XT_INT80      UINT64_C(0x7800)
#define XT_UCODE      UINT64_C(0x8000)
#define XT_USTACK     UINT64_C(0x9000)
#define XT_USTACK_TOP UINT64_C(0x9ff0)
#define XT_RESULT     UINT64_C(0xa000)
#define XT_TABLES     UINT64_C(0x10000)
#define XT_TABLES_END UINT64_C(0x80000)
#define XT_DATA       UINT64_C(0x100000)

#define XT_SEL_KCODE 0x08u
#define XT_SEL_KDATA 0x10u
#define XT_SEL_UDATA 0x1bu /* 0x18 | RPL 3 */
#define XT_SEL_UCODE 0x23u /* 0x20 | RPL 3 */
#define XT_SEL_TSS   0x28u
#define XT_EXIT_PORT 0x80u
#define XT_MAX_INSNS 1000000u

#define XT_SUP_RW (X86_PTE_P | X86_PTE_RW)
#define XT_SUP_RO (X86_PTE_P)
#define XT_USR_RW (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define XT_USR_RX (X86_PTE_P | X86_PTE_US)
#define XT_TABLE  (X86_PTE_P | X86_PTE_RW | X86_PTE_US)

typedef struct xt_machine {
    mmu_glue *g;
    mmu_bump_alloc alloc;
    mmu_pt pt;
    mmu_glue_result res;
} xt_machine;

/* Handler of vector v: mov %cr2,%rax; mov %rax,0xa000; mov %rsp,0xa008;
 * mov $v,%eax; out %al,$0x80; hlt. */
static inline void xt_handler_code(uint8_t *c, uint8_t v)
{
    static const uint8_t h[] = {
        0x0f, 0x20, 0xd0,                               /* mov %cr2,%rax */
        0x48, 0x89, 0x04, 0x25, 0x00, 0xa0, 0x00, 0x00, /* mov %rax,0xa000 */
        0x48, 0x89, 0x24, 0x25, 0x08, 0xa0, 0x00, 0x00, /* mov %rsp,0xa008 */
        0xb8, 0x00, 0x00, 0x00, 0x00,                   /* mov $v,%eax */
        0xe6, 0x80,                                     /* out %al,$0x80 */
        0xf4,                                           /* hlt */
    };
    memcpy(c, h, sizeof h);
    c[20] = v;
}

static const uint8_t xt_int80_code[] = {
    0x48, 0x89, 0x04, 0x25, 0x18, 0xa0, 0x00, 0x00, /* mov %rax,0xa018 */
    0x48, 0x89, 0x24, 0x25, 0x08, 0xa0, 0x00, 0x00, /* mov %rsp,0xa008 */
    0xb8, 0x80, 0x00, 0x00, 0x00,                   /* mov $0x80,%eax */
    0xe6, 0x80,                                     /* out %al,$0x80 */
    0xf4,                                           /* hlt */
};

/* Kernel code that IRETQs to the user code at CPL 3 (RFLAGS = 0x2). */
#define XT_TO_RING3_CODE                                                       \
    0x6a, 0x1b,                       /* push $0x1b    SS */                   \
        0x68, 0xf0, 0x9f, 0x00, 0x00, /* push $0x9ff0  RSP */                  \
        0x6a, 0x02,                   /* push $0x2     RFLAGS */               \
        0x6a, 0x23,                   /* push $0x23    CS */                   \
        0x68, 0x00, 0x80, 0x00, 0x00, /* push $0x8000  RIP */                  \
        0x48, 0xcf                    /* iretq */

static inline void xt_poke(xt_machine *t, uint64_t pa, const void *src,
                           size_t len)
{
    assert_true(mmu_phys_write(mmu_glue_mem(t->g), pa, src, len));
}

static inline uint64_t xt_peek64(xt_machine *t, uint64_t pa)
{
    uint64_t v = 0;
    assert_true(mmu_phys_read64(mmu_glue_mem(t->g), pa, &v));
    return v;
}

static inline uint64_t xt_reg(xt_machine *t, int reg)
{
    uint64_t v = 0;
    assert_int_equal(uc_reg_read(mmu_glue_uc(t->g), reg, &v), UC_ERR_OK);
    return v;
}

static inline void xt_set_reg(xt_machine *t, int reg, uint64_t v)
{
    assert_int_equal(uc_reg_write(mmu_glue_uc(t->g), reg, &v), UC_ERR_OK);
}

static inline void xt_map(xt_machine *t, uint64_t va, uint64_t pa, uint64_t len,
                          uint64_t flags)
{
    assert_int_equal(mmu_pt_map(&t->pt, va, pa, len, 0x1000, flags, XT_TABLE),
                     MMU_PT_OK);
}

static inline void xt_gate(xt_machine *t, unsigned vec, uint64_t target,
                           uint8_t attr)
{
    uint8_t gate[16] = {0};
    gate[0] = (uint8_t)target;
    gate[1] = (uint8_t)(target >> 8);
    gate[2] = XT_SEL_KCODE;
    gate[5] = attr;
    gate[6] = (uint8_t)(target >> 16);
    gate[7] = (uint8_t)(target >> 24);
    xt_poke(t, XT_IDT + 16u * vec, gate, sizeof gate);
}

/* Clear the present bit of an IDT gate. */
static inline void xt_gate_absent(xt_machine *t, unsigned vec)
{
    uint8_t attr = 0;
    assert_true(
        mmu_phys_read(mmu_glue_mem(t->g), XT_IDT + 16u * vec + 5, &attr, 1));
    attr &= 0x7f;
    xt_poke(t, XT_IDT + 16u * vec + 5, &attr, 1);
}

static void xt_out_hook(uc_engine *uc, uint32_t port, int size, uint32_t value,
                        void *arg)
{
    (void)uc, (void)size;
    if (port == XT_EXIT_PORT)
        mmu_glue_request_exit(arg, (int)value);
}

static inline void xt_init(xt_machine *t, const mmu_tlb_config *tlb)
{
    char err[256] = "";
    memset(t, 0, sizeof *t);
    mmu_glue_config cfg = {.isa = MMU_GLUE_X86_64,
                           .ram_base = 0,
                           .ram_size = XT_RAM,
                           .tlb = tlb,
                           .cpu_model = -1};
    t->g = mmu_glue_new(&cfg, err, sizeof err);
    if (t->g == NULL)
        fail_msg("mmu_glue_new: %s", err);
    mmu_phys *mem = mmu_glue_mem(t->g);
    t->alloc = (mmu_bump_alloc){mem, XT_TABLES, XT_TABLES_END};
    assert_int_equal(mmu_pt_init(&t->pt, mem, MMU_MODE_X86_4LEVEL,
                                 mmu_bump_alloc_frame, &t->alloc),
                     MMU_PT_OK);
    /* Kernel pages, tables, handlers: supervisor RW. User code/stack. */
    xt_map(t, XT_KCODE, XT_KCODE, XT_UCODE - XT_KCODE, XT_SUP_RW);
    xt_map(t, XT_UCODE, XT_UCODE, 0x1000, XT_USR_RX);
    xt_map(t, XT_USTACK, XT_USTACK, 0x1000, XT_USR_RW | X86_PTE_NX);
    xt_map(t, XT_RESULT, XT_RESULT, 0x1000, XT_SUP_RW | X86_PTE_NX);
    xt_map(t, XT_TABLES, XT_TABLES, XT_TABLES_END - XT_TABLES,
           XT_SUP_RW | X86_PTE_NX);

    const uint64_t tss = XT_TSS;
    const uint64_t gdt[7] = {
        0,
        UINT64_C(0x00af9a000000ffff), /* 0x08 ring-0 code, L=1 */
        UINT64_C(0x00cf92000000ffff), /* 0x10 ring-0 data */
        UINT64_C(0x00cff2000000ffff), /* 0x18 ring-3 data */
        UINT64_C(0x00affa000000ffff), /* 0x20 ring-3 code, L=1 */
        103u | (tss & 0xffffff) << 16 | UINT64_C(0x89) << 40 |
            ((tss >> 24) & 0xff) << 56, /* 0x28 64-bit TSS */
        tss >> 32,
    };
    xt_poke(t, XT_GDT, gdt, sizeof gdt);
    uint64_t rsp0 = XT_KSTACK_TOP;
    xt_poke(t, XT_TSS + 4, &rsp0, sizeof rsp0);
    for (unsigned v = 0; v < 32; v++) {
        uint8_t code[32];
        xt_handler_code(code, (uint8_t)v);
        xt_poke(t, XT_HANDLERS + 0x20u * v, code, sizeof code);
        xt_gate(t, v, XT_HANDLERS + 0x20u * v, 0x8e);
    }
    xt_poke(t, XT_INT80, xt_int80_code, sizeof xt_int80_code);
    xt_gate(t, 0x80, XT_INT80, 0xee);

    uc_engine *uc = mmu_glue_uc(t->g);
    xt_set_reg(t, UC_X86_REG_CR4, xt_reg(t, UC_X86_REG_CR4) | X86_CR4_PAE);
    uc_x86_msr efer = {.rid = 0xc0000080};
    assert_int_equal(uc_reg_read(uc, UC_X86_REG_MSR, &efer), UC_ERR_OK);
    efer.value |= X86_EFER_LME | X86_EFER_NXE;
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_MSR, &efer), UC_ERR_OK);
    xt_set_reg(t, UC_X86_REG_CR3, mmu_pt_root_reg(&t->pt));
    xt_set_reg(t, UC_X86_REG_CR0,
               X86_CR0_PE | (UINT64_C(1) << 4) | X86_CR0_WP | X86_CR0_PG);
    uc_x86_mmr gdtr = {.base = XT_GDT, .limit = sizeof gdt - 1};
    uc_x86_mmr idtr = {.base = XT_IDT, .limit = 0xfff};
    uc_x86_mmr tr = {
        .selector = XT_SEL_TSS, .base = XT_TSS, .limit = 103, .flags = 0x8b00};
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), UC_ERR_OK);
    assert_int_equal(uc_reg_write(uc, UC_X86_REG_TR, &tr), UC_ERR_OK);
    xt_set_reg(t, UC_X86_REG_CS, XT_SEL_KCODE);
    xt_set_reg(t, UC_X86_REG_SS, XT_SEL_KDATA);
    xt_set_reg(t, UC_X86_REG_RSP, XT_KRSP);
    uc_hook h;
    assert_int_equal(uc_hook_add(uc, &h, UC_HOOK_INSN,
                                 (void *)(uintptr_t)xt_out_hook, t->g, 1, 0,
                                 UC_X86_INS_OUT),
                     UC_ERR_OK);
}

static inline void xt_free(xt_machine *t)
{
    mmu_glue_free(t->g);
    t->g = NULL;
}

/* Kernel code at XT_KCODE, user code at XT_UCODE (either may be NULL). */
static inline void xt_code(xt_machine *t, const uint8_t *kcode, size_t klen,
                           const uint8_t *ucode, size_t ulen)
{
    if (kcode != NULL)
        xt_poke(t, XT_KCODE, kcode, klen);
    if (ucode != NULL)
        xt_poke(t, XT_UCODE, ucode, ulen);
}

/* Run from XT_KCODE; @return the exit code (the vector), or -1. */
static inline int xt_run(xt_machine *t)
{
    mmu_glue_run(t->g, XT_KCODE, XT_MAX_INSNS, &t->res);
    return t->res.stop == MMU_GLUE_STOP_EXIT ? t->res.exit_code : -1;
}

/* The interrupt frame the handler got (RSP at its entry was stored at
 * 0xa008): [ec] RIP CS RFLAGS RSP SS. */
typedef struct xt_frame {
    uint64_t at, ec, rip, cs, rflags, rsp, ss;
} xt_frame;

static inline xt_frame xt_get_frame(xt_machine *t, bool has_ec)
{
    xt_frame f = {0};
    f.at = xt_peek64(t, XT_RESULT + 8);
    uint64_t p = f.at;
    if (has_ec) {
        f.ec = xt_peek64(t, p);
        p += 8;
    }
    f.rip = xt_peek64(t, p);
    f.cs = xt_peek64(t, p + 8);
    f.rflags = xt_peek64(t, p + 16);
    f.rsp = xt_peek64(t, p + 24);
    f.ss = xt_peek64(t, p + 32);
    return f;
}

#endif
