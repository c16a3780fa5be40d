/*
 * user.c - the U-mode program. The linker puts this file's code and
 * read-only data in .user; the kernel maps those pages again at
 * USER_TEXT_VA with U=1 and enters user_main() there.
 *
 * It runs at an address it was not linked at, so it may only reach its
 * own code and strings PC-relatively (medany, no jump tables, no calls out
 * of this file; the build checks that user.o has no undefined symbols). It
 * talks to the kernel only through ecall (guest.h: enum sys_no).
 *
 * Priv spec: U-mode accesses need U=1 whatever R/W/X say; a store needs W;
 * a fetch needs X. Each fault is armed first (SYS_EXPECT), skipped by the
 * kernel, then reported (SYS_REPORT) with the sepc this code expects.
 */
#include "guest.h"

uint64_t u_probe_ld(uint64_t va);
void u_probe_sd(uint64_t va, uint64_t value);
uint64_t u_probe_exec(uint64_t va);
void u_ebreak(void);

/* u_ret is the first instruction of .user (USER_TEXT_VA itself): a fetch
 * there from S-mode that wrongly succeeds just returns. */
__asm__(".pushsection .text.user_first, \"ax\", @progbits\n"
        ".globl u_ret\n"
        "u_ret: ret\n"
        ".popsection\n"
        ".text\n"
        ".globl u_probe_ld\n"
        "u_probe_ld: ld a0, 0(a0)\n"
        "    ret\n"
        ".globl u_probe_sd\n"
        "u_probe_sd: sd a1, 0(a0)\n"
        "    ret\n"
        ".globl u_probe_exec\n"
        "u_probe_exec: addi sp, sp, -16\n"
        "    sd ra, 8(sp)\n"
        "    jalr a0\n"
        "    ld ra, 8(sp)\n"
        "    addi sp, sp, 16\n"
        "    ret\n"
        ".globl u_ebreak\n"
        "u_ebreak: ebreak\n"
        "    ret\n");

static uint64_t sys(enum sys_no n, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3)
{
    register uint64_t r_a0 __asm__("a0") = a0;
    register uint64_t r_a1 __asm__("a1") = a1;
    register uint64_t r_a2 __asm__("a2") = a2;
    register uint64_t r_a3 __asm__("a3") = a3;
    register uint64_t r_a7 __asm__("a7") = (uint64_t)n;

    __asm__ volatile("ecall"
                     : "+r"(r_a0)
                     : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a7)
                     : "memory");
    return r_a0;
}

static void result(const char *text, bool ok)
{
    sys(SYS_RESULT, FN_ADDR(text), ok, 0, 0);
}

static void expect(uint64_t cause, uint64_t va)
{
    sys(SYS_EXPECT, cause, va, 0, 0);
}

/* epc_name names epc in the transcript when sepc matches it. */
static void report(const char *text, uint64_t va, uint64_t epc,
                   const char *epc_name)
{
    sys(SYS_REPORT, FN_ADDR(text), va, epc, FN_ADDR(epc_name));
}

void user_main(void)
{
    volatile uint64_t *data = (volatile uint64_t *)(uintptr_t)USER_DATA_VA;
    const volatile uint64_t *ro =
        (const volatile uint64_t *)(uintptr_t)USER_RO_VA;
    bool ok = true;

    for (uint64_t i = 0; i < PAGE_SIZE / 8; i++)
        data[i] = USER_PATTERN ^ i;
    for (uint64_t i = 0; i < PAGE_SIZE / 8; i++)
        ok = ok && data[i] == (USER_PATTERN ^ i);
    result("read/write own data page", ok);
    result("read own read-only page", *ro == USER_RO_MAGIC);

    expect(RV_CAUSE_LOAD_PAGE, SUPER_VA);
    u_probe_ld(SUPER_VA);
    report("load from S page (U=0):", SUPER_VA, FN_ADDR(u_probe_ld),
           "u_probe_ld");

    expect(RV_CAUSE_STORE_PAGE, SUPER_VA + 8);
    u_probe_sd(SUPER_VA + 8, 1);
    report("store to S page (U=0):", SUPER_VA + 8, FN_ADDR(u_probe_sd),
           "u_probe_sd");

    expect(RV_CAUSE_FETCH_PAGE, SUPER_VA);
    u_probe_exec(SUPER_VA);
    report("fetch from S page (U=0, X=1):", SUPER_VA, SUPER_VA, "va");

    expect(RV_CAUSE_STORE_PAGE, USER_RO_VA);
    u_probe_sd(USER_RO_VA, 1);
    report("store to own read-only page:", USER_RO_VA, FN_ADDR(u_probe_sd),
           "u_probe_sd");

    expect(RV_CAUSE_FETCH_PAGE, USER_DATA_VA);
    u_probe_exec(USER_DATA_VA);
    report("fetch from own page without X:", USER_DATA_VA, USER_DATA_VA, "va");

    sys(SYS_MEXPECT, GUEST_CAUSE_BREAKPOINT, FN_ADDR(u_ebreak), 0, 0);
    u_ebreak();
    sys(SYS_MREPORT, FN_ADDR("ebreak, medeleg bit 3 clear:"),
        FN_ADDR("u_ebreak"), 0, 0);

    sys(SYS_EXIT, 0, 0, 0, 0);
}
