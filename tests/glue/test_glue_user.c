/*
 * test_glue_user.c - user-mode guests on the glue (mmuemu/glue_user.h):
 * the vCPU enters U-mode / CPL 3 with Linux's control state on tables
 * built here, a system call reaches the host with its number and
 * arguments (RISC-V ECALL as an event, x86 SYSCALL through its hook) and
 * returns its result the way Linux does (a0; rax with rcx = next RIP and
 * r11 = RFLAGS), and the register file a signal frame needs survives a
 * get/set round trip (GPRs, PC, FP state).
 */
#include "testutil.h"

#include <string.h>

#include "mmuemu/builder.h"
#include "mmuemu/glue_user.h"
#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

#define RAM       (UINT64_C(4) << 20)
#define RV_BASE   UINT64_C(0x80000000)
#define CODE_OFF  UINT64_C(0x10000)
#define STACK_OFF UINT64_C(0x20000)
#define GDT_OFF   UINT64_C(0x30000)
#define TABLES    UINT64_C(0x100000)

typedef struct ut {
    mmu_glue *g;
    mmu_pt pt;
    mmu_bump_alloc bump;
    int calls, events;
    mmu_user_call call;
    mmu_glue_event ev;
} ut;

static ut U;

static mmu_glue_action stop_handler(mmu_glue *g, const mmu_glue_event *ev,
                                    void *arg)
{
    ut *u = arg;
    u->events++;
    u->ev = *ev;
    if (mmu_glue_user_call(g, ev, &u->call)) {
        u->calls++;
        mmu_glue_user_set_result(g, &u->call, 42);
    }
    return MMU_GLUE_STOP;
}

static bool x86_syscall(mmu_glue *g, const mmu_user_call *c, void *arg)
{
    ut *u = arg;
    u->calls++;
    u->call = *c;
    mmu_glue_user_set_result(g, c, 42);
    return true;
}

static void setup_glue(mmu_glue_isa isa, uint64_t base, mmu_paging_mode mode)
{
    memset(&U, 0, sizeof U);
    mmu_glue_config cfg = {
        .isa = isa, .ram_base = base, .ram_size = RAM, .cpu_model = -1};
    char err[160];
    U.g = mmu_glue_new(&cfg, err, sizeof err);
    if (U.g == NULL)
        fail_msg("mmu_glue_new: %s", err);
    U.bump = (mmu_bump_alloc){mmu_glue_mem(U.g), base + TABLES, base + RAM};
    assert_int_equal(mmu_pt_init(&U.pt, mmu_glue_mem(U.g), mode,
                                 mmu_bump_alloc_frame, &U.bump),
                     MMU_PT_OK);
    mmu_glue_set_handler(U.g, stop_handler, &U);
}

static int teardown(void **state)
{
    (void)state;
    mmu_glue_free(U.g);
    return 0;
}

/* ---- RISC-V ----------------------------------------------------------- */

#define RV_CODE_VA  UINT64_C(0x10000)
#define RV_STACK_VA UINT64_C(0x20000)

static const uint32_t rv_code[] = {
    UINT32_C(0x05d00893), /* li a7, 93 */
    UINT32_C(0x00700513), /* li a0, 7 */
    UINT32_C(0x00000073), /* ecall */
    UINT32_C(0x00050493), /* mv s1, a0 */
    UINT32_C(0x00100073), /* ebreak */
};

static int setup_rv(void **state)
{
    (void)state;
    setup_glue(MMU_GLUE_RV64, RV_BASE, MMU_MODE_SV39);
    uint64_t ad = RV_PTE_V | RV_PTE_U | RV_PTE_A | RV_PTE_D;
    assert_int_equal(mmu_pt_map(&U.pt, RV_CODE_VA, RV_BASE + CODE_OFF, 4096,
                                4096, ad | RV_PTE_R | RV_PTE_X, RV_PTE_V),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&U.pt, RV_STACK_VA, RV_BASE + STACK_OFF, 4096,
                                4096, ad | RV_PTE_R | RV_PTE_W, RV_PTE_V),
                     MMU_PT_OK);
    assert_true(mmu_phys_write(mmu_glue_mem(U.g), RV_BASE + CODE_OFF, rv_code,
                               sizeof rv_code));
    char err[160];
    if (!mmu_glue_user_init(U.g, 0, 0, NULL, NULL, err, sizeof err))
        fail_msg("user init: %s", err);
    mmu_state st;
    mmu_state_init_rv(&st, 64);
    st.rv.satp = mmu_pt_root_reg(&U.pt);
    mmu_glue_user_enter(U.g, &st, RV_CODE_VA, RV_STACK_VA + 4096);
    return 0;
}

static void rv_ecall_reaches_host_and_returns_a0(void **state)
{
    (void)state;
    mmu_glue_result res;
    TU_EQ_HEX("privilege after enter", mmu_glue_priv(U.g), RV_PRIV_U);
    mmu_glue_run(U.g, UINT64_MAX, 100, &res);
    assert_int_equal(res.stop, MMU_GLUE_STOP_HANDLER);
    assert_int_equal(U.calls, 1);
    TU_EQ_HEX("nr (a7)", U.call.nr, 93);
    TU_EQ_HEX("arg0 (a0)", U.call.arg[0], 7);
    TU_EQ_HEX("ecall pc", U.call.pc, RV_CODE_VA + 8);
    TU_EQ_HEX("next pc", U.call.next_pc, RV_CODE_VA + 12);
    mmu_glue_run(U.g, U.call.next_pc, 100, &res);
    assert_int_equal(res.stop, MMU_GLUE_STOP_HANDLER);
    TU_EQ_HEX("then ebreak", U.ev.fault.code, 3);
    mmu_user_regs r;
    mmu_glue_user_get_regs(U.g, &r);
    TU_EQ_HEX("s1 = the result", r.gpr[9], 42);
    TU_EQ_HEX("sp", r.gpr[2], RV_STACK_VA + 4096);
    TU_EQ_HEX("still U", mmu_glue_priv(U.g), RV_PRIV_U);
}

static void rv_regs_round_trip(void **state)
{
    (void)state;
    mmu_user_regs r, back;
    mmu_glue_user_get_regs(U.g, &r);
    r.pc = RV_CODE_VA + 12;
    for (unsigned i = 1; i < 32; i++)
        r.gpr[i] = UINT64_C(0x1111) * i;
    for (unsigned i = 0; i < 32 * 8; i++)
        r.fp[i] = (uint8_t)(i * 7);
    r.fp[256] = 0x1f; /* fcsr: frm 0, all flags */
    mmu_glue_user_set_regs(U.g, &r);
    mmu_glue_user_get_regs(U.g, &back);
    TU_EQ_HEX("pc", back.pc, r.pc);
    for (unsigned i = 1; i < 32; i++)
        TU_EQ_HEX("x", back.gpr[i], r.gpr[i]);
    assert_memory_equal(back.fp, r.fp, 32 * 8 + 4);
}

/* ---- x86-64 ----------------------------------------------------------- */

#define X86_CODE_VA    UINT64_C(0x400000)
#define X86_STACK_VA   UINT64_C(0x600000)
#define X86_GDT_VA     UINT64_C(0xffff888000030000)
#define X86_CR4_OSFXSR (UINT64_C(1) << 9)
#define X86_EFER_SCE   (UINT64_C(1) << 0)

static const uint8_t x86_code[] = {
    0xb8, 0x3c, 0x00, 0x00, 0x00, /* mov $60, %eax */
    0xbf, 0x07, 0x00, 0x00, 0x00, /* mov $7, %edi */
    0x0f, 0x05,                   /* syscall */
    0x48, 0x89, 0xc3,             /* mov %rax, %rbx */
    0xf4,                         /* hlt: #GP at CPL 3 */
};

static int setup_x86(void **state)
{
    (void)state;
    setup_glue(MMU_GLUE_X86_64, 0, MMU_MODE_X86_4LEVEL);
    uint64_t tab = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
    uint64_t ad = X86_PTE_A | X86_PTE_D;
    assert_int_equal(mmu_pt_map(&U.pt, X86_CODE_VA, CODE_OFF, 4096, 4096,
                                X86_PTE_P | X86_PTE_US | ad, tab),
                     MMU_PT_OK);
    assert_int_equal(
        mmu_pt_map(&U.pt, X86_STACK_VA, STACK_OFF, 4096, 4096,
                   X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_NX | ad, tab),
        MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&U.pt, X86_GDT_VA, GDT_OFF, 4096, 4096,
                                X86_PTE_P | X86_PTE_RW | X86_PTE_NX | ad,
                                X86_PTE_P | X86_PTE_RW),
                     MMU_PT_OK);
    assert_true(
        mmu_phys_write(mmu_glue_mem(U.g), CODE_OFF, x86_code, sizeof x86_code));
    char err[160];
    if (!mmu_glue_user_init(U.g, GDT_OFF, X86_GDT_VA, x86_syscall, &U, err,
                            sizeof err))
        fail_msg("user init: %s", err);
    mmu_state st;
    mmu_state_init_x86(&st);
    st.x86.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
    st.x86.cr4 = X86_CR4_PAE | X86_CR4_PGE;
    st.x86.efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    st.x86.cr3 = mmu_pt_root_reg(&U.pt);
    mmu_glue_user_enter(U.g, &st, X86_CODE_VA, X86_STACK_VA + 4096);
    return 0;
}

static void x86_syscall_hook_runs_the_call_in_place(void **state)
{
    (void)state;
    mmu_glue_result res;
    TU_EQ_HEX("CPL after enter", mmu_glue_priv(U.g), 3);
    mmu_glue_run(U.g, UINT64_MAX, 100, &res);
    assert_int_equal(res.stop, MMU_GLUE_STOP_HANDLER);
    assert_int_equal(U.calls, 1);
    TU_EQ_HEX("nr (rax)", U.call.nr, 60);
    TU_EQ_HEX("arg0 (rdi)", U.call.arg[0], 7);
    TU_EQ_HEX("syscall pc", U.call.pc, X86_CODE_VA + 10);
    TU_EQ_HEX("next pc", U.call.next_pc, X86_CODE_VA + 12);
    TU_EQ_HEX("then #GP (hlt at CPL 3)", U.ev.fault.vector, 13);
    TU_EQ_HEX("at the hlt", U.ev.pc, X86_CODE_VA + 15);
    mmu_user_regs r;
    mmu_glue_user_get_regs(U.g, &r);
    TU_EQ_HEX("rbx = the result", r.gpr[MMU_USER_X86_RBX], 42);
    TU_EQ_HEX("rcx = next rip", r.gpr[MMU_USER_X86_RCX], X86_CODE_VA + 12);
    TU_EQ_HEX("r11 = rflags", r.gpr[MMU_USER_X86_R11] & ~UINT64_C(0x8d5),
              r.flags & ~UINT64_C(0x8d5));
    TU_EQ_HEX("cs", r.cs, MMU_USER_X86_USER_CS);
    TU_EQ_HEX("ss", r.ss, MMU_USER_X86_USER_DS);
    mmu_glue_sync_state(U.g);
    const mmu_x86_state *x = &mmu_glue_mmu(U.g)->st.x86;
    uint64_t cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP |
                   X86_CR4_OSFXSR;
    TU_EQ_HEX("CR4 as Linux sets it", x->cr4 & cr4, cr4);
    uint64_t efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SCE;
    TU_EQ_HEX("EFER as Linux sets it", x->efer & efer, efer);
    TU_EQ_HEX("CR0.WP|PG", x->cr0 & (X86_CR0_WP | X86_CR0_PG),
              X86_CR0_WP | X86_CR0_PG);
}

static void x86_regs_round_trip(void **state)
{
    (void)state;
    mmu_user_regs r, back;
    mmu_glue_user_get_regs(U.g, &r);
    r.pc = X86_CODE_VA + 12;
    for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
        r.gpr[i] = UINT64_C(0x0101010101) * (i + 1);
    r.flags = (r.flags & ~UINT64_C(0xff)) | 0x85; /* CF PF SF */
    for (unsigned i = 0; i < 16 * 16; i++)
        r.fp[160 + i] = (uint8_t)(i * 3 + 1); /* XMM0-15 */
    uint32_t mxcsr = UINT32_C(0x1f80) | 0x3;  /* IE DE set */
    memcpy(r.fp + 24, &mxcsr, 4);
    mmu_glue_user_set_regs(U.g, &r);
    mmu_glue_user_get_regs(U.g, &back);
    TU_EQ_HEX("rip", back.pc, r.pc);
    for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
        TU_EQ_HEX("gpr", back.gpr[i], r.gpr[i]);
    TU_EQ_HEX("arithmetic flags", back.flags & 0xff, 0x85 | 0x2);
    assert_memory_equal(back.fp + 160, r.fp + 160, 256);
    uint32_t got;
    memcpy(&got, back.fp + 24, 4);
    TU_EQ_HEX("mxcsr", got, mxcsr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rv_ecall_reaches_host_and_returns_a0,
                                        setup_rv, teardown),
        cmocka_unit_test_setup_teardown(rv_regs_round_trip, setup_rv, teardown),
        cmocka_unit_test_setup_teardown(x86_syscall_hook_runs_the_call_in_place,
                                        setup_x86, teardown),
        cmocka_unit_test_setup_teardown(x86_regs_round_trip, setup_x86,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
