/*
 * checks_priv.c - privilege checks: a U-mode program on its own pages,
 * where faults from U and S are delivered, and exceptions medeleg keeps in
 * M-mode.
 *
 * Priv spec: U-mode may only touch U=1 pages ("Sv32": U bit); with medeleg
 * bit n set, exception n from S or U traps to S-mode with sstatus.SPP = the
 * previous privilege ("Machine Trap Delegation Registers"); with the bit
 * clear it traps to M-mode with mstatus.MPP set.
 */
#include "guest.h"

#define U_CODE (RV_PTE_V | RV_PTE_U | RV_PTE_A | RV_PTE_R | RV_PTE_X)
#define U_DATA (RV_PTE_V | RV_PTE_U | RV_PTE_A | RV_PTE_D | RV_PTE_R | RV_PTE_W)
#define U_RO   (RV_PTE_V | RV_PTE_U | RV_PTE_A | RV_PTE_R)
#define S_ALL  (RV_PTE_V | RV_PTE_A | RV_PTE_D | PTE_FLAGS_RWX)

/* Maps the U-mode program (the .user pages, aliased at USER_TEXT_VA), its
 * data, stack and read-only pages, and a supervisor page next to them.
 * check_sum() uses the same pages afterwards. */
static void map_user(void)
{
    uint64_t start = FN_ADDR(__user_start), end = FN_ADDR(__user_end);

    for (uint64_t pa = start; pa < end; pa += PAGE_SIZE)
        vm_map(USER_TEXT_VA + (pa - start), pa, 0, U_CODE);
    vm_map(USER_DATA_VA, page_alloc(), 0, U_DATA);
    vm_map(USER_STACK_VA, page_alloc(), 0, U_DATA);
    vm_map(USER_RO_VA, page_with(USER_RO_MAGIC), 0, U_RO);
    vm_map(SUPER_VA, page_with_ret(), 0, S_ALL);
    sfence_all();
}

void check_user(void)
{
    uint64_t entry =
        USER_TEXT_VA + (FN_ADDR(user_main) - FN_ADDR(__user_start));
    uint64_t code;

    map_user();
    line_begin("user: .user mapped U R X at");
    line_hex("va", USER_TEXT_VA);
    line_text(", sret with SPP=0 to user_main");
    line_end();
    code = run_user(entry, USER_STACK_TOP);
    line_begin("user: back in S-mode after ecall exit");
    line_dec("code", code);
    line_cond(code == 0, "exit code 0");
    line_end();
}

void check_spp(void)
{
    line_begin("faults delegated to S:");
    line_dec("from_u", faults_from_u);
    line_text(" (spp=0)");
    line_dec("from_s", faults_from_s);
    line_text(" (spp=1)");
    line_cond(faults_from_u > 0 && faults_from_s > 0, "both seen");
    line_end();
}

static void m_line(const char *what, uint64_t cause, uint64_t epc,
                   const char *epc_name)
{
    line_begin(what);
    line_mtrap(cause, epc, epc_name, RV_PRIV_S);
    line_end();
}

void check_not_delegated(void)
{
    mstub_expect(GUEST_CAUSE_BREAKPOINT, FN_ADDR(probe_ebreak));
    probe_ebreak();
    m_line("ebreak in S, medeleg bit 3 clear:", GUEST_CAUSE_BREAKPOINT,
           FN_ADDR(probe_ebreak), "probe_ebreak");

    mstub_expect(GUEST_CAUSE_ILLEGAL_INSN, FN_ADDR(probe_illegal));
    probe_illegal();
    m_line("csrr mscratch in S, medeleg bit 2 clear:", GUEST_CAUSE_ILLEGAL_INSN,
           FN_ADDR(probe_illegal), "probe_illegal");
}
