/*
 * checks_perm.c - S-mode rights on a leaf: SUM, MXR, and the A/D bits.
 *
 * Priv spec, "Virtual Address Translation Process" step 5 and
 * "Memory Privilege in mstatus": with SUM=1 S-mode may load and store U
 * pages but never execute them; MXR=1 lets loads read X-only pages (stores
 * still need W).
 *
 * A/D (step 7): a leaf with A=0, or D=0 on a store, either raises a page
 * fault (Svade) or is updated by the hardware with an atomic
 * compare-and-set (Svadu with menvcfg.ADUE=1). A core with neither
 * extension may do either (the older "either scheme" wording; not
 * profile-conformant when it updates). QEMU 7.2 has no switch - menvcfg
 * bit 61 is read-only 0 there - and always updates in hardware, A and D
 * in one write for a store, A on a fetch, nothing on an access that
 * faults. The guest prints whichever scheme it observes, so the model
 * must be configured like the reference it is compared with; the Svade
 * handler sets the bit and retries as an OS would. A load never sets D.
 */
#include "guest.h"

#define S_RW (RV_PTE_V | RV_PTE_R | RV_PTE_W)

void check_sum(void)
{
    uint64_t v;

    csr_clear_sstatus(RV_MSTATUS_SUM);
    expect_fault(RV_CAUSE_LOAD_PAGE, USER_DATA_VA, FIX_SKIP, 0);
    probe_ld(USER_DATA_VA);
    line_begin("SUM=0 S load from U page:");
    line_fault(RV_CAUSE_LOAD_PAGE, USER_DATA_VA, FN_ADDR(probe_ld), "probe_ld",
               1);
    line_end();

    expect_fault(RV_CAUSE_STORE_PAGE, USER_DATA_VA + 8, FIX_SKIP, 0);
    probe_sd(USER_DATA_VA + 8, 0);
    line_begin("SUM=0 S store to U page:");
    line_fault(RV_CAUSE_STORE_PAGE, USER_DATA_VA + 8, FN_ADDR(probe_sd),
               "probe_sd", 1);
    line_end();

    csr_set_sstatus(RV_MSTATUS_SUM);
    v = probe_ld(USER_DATA_VA + 16);
    probe_sd(USER_DATA_VA + 24, USER_PATTERN);
    line_begin("SUM=1 S load/store U page:");
    line_hex("read", v);
    line_cond(v == (USER_PATTERN ^ 2), "read what U wrote");
    line_cond(probe_ld(USER_DATA_VA + 24) == USER_PATTERN, "store");
    line_end();

    expect_fault(RV_CAUSE_FETCH_PAGE, USER_TEXT_VA, FIX_SKIP_FETCH, 0);
    probe_exec(USER_TEXT_VA);
    line_begin("SUM=1 S fetch from U page:");
    line_fault(RV_CAUSE_FETCH_PAGE, USER_TEXT_VA, USER_TEXT_VA, "va", 1);
    line_end();
    csr_clear_sstatus(RV_MSTATUS_SUM);
}

void check_mxr(void)
{
    uint64_t pa = page_alloc(), v;
    volatile uint32_t *code = (volatile uint32_t *)(uintptr_t)pa;
    const uint64_t insns = ((uint64_t)INSN_RET << 32) | INSN_LI_A0_5A;

    code[0] = INSN_LI_A0_5A;
    code[1] = INSN_RET;
    __asm__ volatile("fence.i" ::: "memory");
    vm_map(T_XONLY_VA, pa, 0, RV_PTE_V | RV_PTE_X | RV_PTE_A);
    sfence_va(T_XONLY_VA);

    csr_clear_sstatus(RV_MSTATUS_MXR);
    expect_fault(RV_CAUSE_LOAD_PAGE, T_XONLY_VA, FIX_SKIP, 0);
    probe_ld(T_XONLY_VA);
    line_begin("MXR=0 load from X-only page:");
    line_fault(RV_CAUSE_LOAD_PAGE, T_XONLY_VA, FN_ADDR(probe_ld), "probe_ld",
               1);
    line_end();

    csr_set_sstatus(RV_MSTATUS_MXR);
    v = probe_ld(T_XONLY_VA);
    line_begin("MXR=1 load from X-only page:");
    line_hex("read", v);
    line_cond(v == insns, "read the page");
    line_end();

    expect_fault(RV_CAUSE_STORE_PAGE, T_XONLY_VA, FIX_SKIP, 0);
    probe_sd(T_XONLY_VA, 0);
    line_begin("MXR=1 store to X-only page:");
    line_fault(RV_CAUSE_STORE_PAGE, T_XONLY_VA, FN_ADDR(probe_sd), "probe_sd",
               1);
    line_end();
    csr_clear_sstatus(RV_MSTATUS_MXR);

    v = probe_exec(T_XONLY_VA);
    line_begin("fetch from X-only page:");
    line_hex("a0", v);
    line_cond(v == 0x5a, "ran the page");
    line_end();
}

static void fix_set_a(uint64_t va)
{
    *vm_pte(va, 0) |= RV_PTE_A;
}

static void fix_set_d(uint64_t va)
{
    *vm_pte(va, 0) |= RV_PTE_A | RV_PTE_D;
}

/* 0: nothing seen yet, 1: hardware update, 2: page fault (Svade). */
static unsigned ad_scheme;

/*
 * One A/D access: arms a fault the handler repairs with fix, performs the
 * access, and prints which scheme answered and the leaf's A and D after.
 */
static void ad_access(const char *what, uint64_t va, bool store,
                      void (*fix)(uint64_t va), uint64_t want_d)
{
    uint64_t cause = store ? RV_CAUSE_STORE_PAGE : RV_CAUSE_LOAD_PAGE;
    uint64_t v, pte;
    unsigned scheme;

    expect_fault(cause, va, FIX_CALL, fix);
    if (store)
        probe_sd(va, ~kernel_magic);
    v = probe_ld(va);
    pte = *vm_pte(va, 0);
    line_begin(what);
    scheme = s_rec.count ? 2 : 1;
    if (scheme == 2) {
        line_text(" page fault (Svade):");
        line_fault(cause, va, store ? FN_ADDR(probe_sd) : FN_ADDR(probe_ld),
                   store ? "probe_sd" : "probe_ld", 1);
        line_text(", handler set the bit, retried");
    } else {
        expect_cancel();
        line_text(" no fault, hardware updated the PTE");
    }
    line_text(store ? "; wrote" : "; read");
    line_cond(v == (store ? ~kernel_magic : kernel_magic), "data");
    line_text(" A=");
    uart_putdec((pte & RV_PTE_A) ? 1 : 0);
    line_text(" D=");
    uart_putdec((pte & RV_PTE_D) ? 1 : 0);
    line_cond((pte & RV_PTE_A) != 0, "A set");
    line_cond((pte & RV_PTE_D) == want_d, store ? "D set" : "D still 0");
    line_cond(ad_scheme == 0 || ad_scheme == scheme, "one scheme");
    ad_scheme = scheme;
    line_end();
}

void check_ad(void)
{
    ad_scheme = 0;
    vm_map(T_AD_LOAD_VA, page_with(kernel_magic), 0, S_RW);
    vm_map(T_AD_STORE_VA, page_with(kernel_magic), 0, S_RW);
    sfence_all();
    ad_access("A=0 D=0 load:", T_AD_LOAD_VA, false, fix_set_a, 0);
    ad_access("A=1 D=0 store:", T_AD_LOAD_VA, true, fix_set_d, RV_PTE_D);
    ad_access("A=0 D=0 store:", T_AD_STORE_VA, true, fix_set_d, RV_PTE_D);
}
