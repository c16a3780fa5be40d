/*
 * test_glue_x86_decode.c - the exact faulting address the x86 binding
 * rebuilds from the instruction (cpu_glue/x86_decode.c): Unicorn's fill
 * hook only gives the page. One faulting instruction per case, stopped by
 * a host handler that keeps the event; the address is what CR2 would
 * hold (SDM vol. 3A 4.7: the linear address of the access; for a split
 * access faulting on its second page, that page's first byte), and a
 * non-canonical SS-relative reference is #SS(0), not #GP(0). A fetch
 * fault on the next page found while QEMU translates a block ahead is
 * taken at the instruction that reaches that page, after the ones before
 * it have run.
 */
#include "test_glue_x86_harness.h"

typedef struct dcase {
    const char *name;
    uint8_t code[16];
    size_t len;
    uint64_t rbx, rcx, rsi, rdi, rsp, fs_base;
    uint64_t map_va; /* a page to map (0: none) */
    mmu_access access;
    uint8_t vector;
    uint64_t addr;
} dcase;

static const dcase cases[] = {
    {"split load faults on its second page",
     {0x48, 0x8b, 0x03},
     3, /* mov (%rbx),%rax */
     .rbx = 0x200ffc,
     .map_va = 0x200000,
     .access = MMU_READ,
     .vector = X86_VEC_PF,
     .addr = 0x201000},
    {"push writes below RSP",
     {0x50},
     1, /* push %rax */
     .rsp = 0x300010,
     .access = MMU_WRITE,
     .vector = X86_VEC_PF,
     .addr = 0x300008},
    {"call pushes the return address",
     {0xff, 0xd3},
     2, /* call *%rbx */
     .rbx = XT_KCODE,
     .rsp = 0x300010,
     .access = MMU_WRITE,
     .vector = X86_VEC_PF,
     .addr = 0x300008},
    {"rep movsb faults at the current RDI",
     {0xf3, 0xa4},
     2, /* rep movsb */
     .rsi = 0x200000,
     .rdi = 0x300ff8,
     .rcx = 0x20,
     .map_va = 0x300000,
     .access = MMU_WRITE,
     .vector = X86_VEC_PF,
     .addr = 0x301000},
    {"RIP-relative load",
     {0x48, 0x8b, 0x05, 0x00, 0x00, 0x10, 0x00},
     7, /* mov 0x100000(%rip),%rax */
     .access = MMU_READ,
     .vector = X86_VEC_PF,
     .addr = 0x101007},
    {"FS-relative load adds FS.base",
     {0x64, 0x48, 0x8b, 0x04, 0x25, 0x18, 0x30, 0x00, 0x00},
     9,
     /* mov %fs:0x3018,%rax */
     .fs_base = 0x200000,
     .access = MMU_READ,
     .vector = X86_VEC_PF,
     .addr = 0x203018},
    {"base + index * scale + disp store",
     {0xc7, 0x44, 0xcb, 0x04, 0x05, 0x00, 0x00, 0x00},
     8,
     /* movl $5,4(%rbx,%rcx,8) */
     .rbx = 0x300000,
     .rcx = 3,
     .access = MMU_WRITE,
     .vector = X86_VEC_PF,
     .addr = 0x30001c},
    {"fetch from an unmapped jump target",
     {0xff, 0xe3},
     2, /* jmp *%rbx */
     .rbx = 0x300123,
     .access = MMU_FETCH,
     .vector = X86_VEC_PF,
     .addr = 0x300123},
    {"pop with a non-canonical RSP is #SS",
     {0x58},
     1, /* pop %rax */
     .rsp = UINT64_C(0x800000000000),
     .access = MMU_READ,
     .vector = X86_VEC_SS,
     .addr = UINT64_C(0x800000000000)},
    {"non-canonical RBX load is #GP",
     {0x48, 0x8b, 0x03},
     3, /* mov (%rbx),%rax */
     .rbx = UINT64_C(0xffff700000000010),
     .access = MMU_READ,
     .vector = X86_VEC_GP,
     .addr = UINT64_C(0xffff700000000010)},
};

static mmu_glue_action stop_all(mmu_glue *g, const mmu_glue_event *ev,
                                void *arg)
{
    (void)g, (void)ev, (void)arg;
    return MMU_GLUE_STOP;
}

static void run_case(const dcase *c)
{
    xt_machine t;
    xt_init(&t, NULL);
    uint8_t code[32];
    memcpy(code, c->code, c->len);
    code[c->len] = 0xf4; /* hlt */
    xt_code(&t, code, c->len + 1, NULL, 0);
    xt_map(&t, 0x200000, XT_DATA, 0x1000, XT_SUP_RW);
    if (c->map_va != 0 && c->map_va != 0x200000)
        xt_map(&t, c->map_va, XT_DATA + 0x10000, 0x1000, XT_SUP_RW);
    xt_set_reg(&t, UC_X86_REG_RBX, c->rbx);
    xt_set_reg(&t, UC_X86_REG_RCX, c->rcx);
    xt_set_reg(&t, UC_X86_REG_RSI, c->rsi);
    xt_set_reg(&t, UC_X86_REG_RDI, c->rdi);
    if (c->rsp)
        xt_set_reg(&t, UC_X86_REG_RSP, c->rsp);
    xt_set_reg(&t, UC_X86_REG_FS_BASE, c->fs_base);
    mmu_glue_set_handler(t.g, stop_all, NULL);
    mmu_glue_run(t.g, XT_KCODE, XT_MAX_INSNS, &t.res);
    if (t.res.stop != MMU_GLUE_STOP_HANDLER || !t.res.have_last)
        fail_msg("%s: stop %d, no fault", c->name, t.res.stop);
    const mmu_glue_event *ev = &t.res.last;
    if (ev->fault.vector != c->vector || ev->fault.addr != c->addr ||
        ev->access != c->access || !ev->addr_exact)
        fail_msg("%s: vector %u addr 0x%llx access %d exact %d; want vector "
                 "%u addr 0x%llx access %d",
                 c->name, ev->fault.vector, (unsigned long long)ev->fault.addr,
                 ev->access, ev->addr_exact, c->vector,
                 (unsigned long long)c->addr, c->access);
    xt_free(&t);
}

static void exact_fault_addresses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

/* The copy stops at the faulting element: RCX/RDI say how far it got. */
static void rep_movsb_leaves_progress_in_rcx(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {0xf3, 0xa4, 0xf4}; /* rep movsb; hlt */
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_map(&t, 0x200000, XT_DATA, 0x1000, XT_SUP_RW);
    xt_map(&t, 0x300000, XT_DATA + 0x10000, 0x1000, XT_SUP_RW);
    xt_set_reg(&t, UC_X86_REG_RSI, 0x200000);
    xt_set_reg(&t, UC_X86_REG_RDI, 0x300ff8);
    xt_set_reg(&t, UC_X86_REG_RCX, 0x20);
    mmu_glue_set_handler(t.g, stop_all, NULL);
    mmu_glue_run(t.g, XT_KCODE, XT_MAX_INSNS, &t.res);
    assert_int_equal(t.res.stop, MMU_GLUE_STOP_HANDLER);
    TU_EQ_HEX("RCX", xt_reg(&t, UC_X86_REG_RCX), 0x18);
    TU_EQ_HEX("RDI", xt_reg(&t, UC_X86_REG_RDI), 0x301000);
    TU_EQ_HEX("RIP on the instruction", xt_reg(&t, UC_X86_REG_RIP), XT_KCODE);
    xt_free(&t);
}

/* QEMU translates a block past the end of a page and fails the fetch of
 * the next page before any of the block has run, with RIP at the block's
 * start. The fault belongs to the instruction on the next page: the ones
 * before it run first (RCX is set), then the fetch faults with RIP and
 * the address exactly there. */
static void fetch_fault_mid_block_runs_the_head_first(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    xt_map(&t, 0x200000, XT_DATA, 0x1000, XT_SUP_RW);
    uint8_t code[16];
    memset(code, 0x90, sizeof code); /* 200ff0 nop x 11 */
    static const uint8_t mov[] = {0xb9, 0x77, 0x00, 0x00, 0x00};
    memcpy(code + 11, mov, sizeof mov); /* 200ffb mov $0x77,%ecx */
    xt_poke(&t, XT_DATA + 0xff0, code, sizeof code);
    /* 201000: not mapped */
    mmu_glue_set_handler(t.g, stop_all, NULL);
    mmu_glue_run(t.g, 0x200ff0, XT_MAX_INSNS, &t.res);
    assert_int_equal(t.res.stop, MMU_GLUE_STOP_HANDLER);
    const mmu_glue_event *ev = &t.res.last;
    assert_int_equal(ev->access, MMU_FETCH);
    assert_true(ev->addr_exact);
    TU_EQ_HEX("PC of the event", ev->pc, 0x201000);
    TU_EQ_HEX("fault address", ev->fault.addr, 0x201000);
    TU_EQ_HEX("error code (fetch, not present)", ev->fault.code, X86_PF_I);
    TU_EQ_HEX("RCX: the block's head ran", xt_reg(&t, UC_X86_REG_RCX), 0x77);
    TU_EQ_HEX("RIP", xt_reg(&t, UC_X86_REG_RIP), 0x201000);
    xt_free(&t);
}

/* An instruction crossing into the unmapped page faults as a whole: RIP
 * stays on it, the address is the second page's first byte. */
static void fetch_fault_of_a_crossing_instruction(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    xt_map(&t, 0x200000, XT_DATA, 0x1000, XT_SUP_RW);
    uint8_t code[16];
    memset(code, 0x90, sizeof code); /* 200ff0 nop x 13 */
    static const uint8_t mov[] = {0xb9, 0x77, 0x00};
    memcpy(code + 13, mov, sizeof mov); /* 200ffd mov $0x77,%ecx.. */
    xt_poke(&t, XT_DATA + 0xff0, code, sizeof code);
    mmu_glue_set_handler(t.g, stop_all, NULL);
    mmu_glue_run(t.g, 0x200ff0, XT_MAX_INSNS, &t.res);
    assert_int_equal(t.res.stop, MMU_GLUE_STOP_HANDLER);
    const mmu_glue_event *ev = &t.res.last;
    assert_true(ev->addr_exact);
    TU_EQ_HEX("PC: the crossing instruction", ev->pc, 0x200ffd);
    TU_EQ_HEX("fault address: the second page", ev->fault.addr, 0x201000);
    TU_EQ_HEX("RCX untouched", xt_reg(&t, UC_X86_REG_RCX), 0);
    xt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_fault_addresses),
        cmocka_unit_test(rep_movsb_leaves_progress_in_rcx),
        cmocka_unit_test(fetch_fault_mid_block_runs_the_head_first),
        cmocka_unit_test(fetch_fault_of_a_crossing_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
