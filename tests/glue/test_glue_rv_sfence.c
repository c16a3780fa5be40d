/*
 * test_glue_rv_sfence.c - guest invalidations reach the model: SFENCE.VMA
 * (hooked at its first fetch) invalidates the model TLB by the operands'
 * registers (x0 means "all", register identity, not value), and a satp
 * write whose MODE changes takes effect at once (Unicorn's QEMU 5.0 only
 * flushes its own TLB on an ASID change). Without a fence, a guest PTE
 * store stays invisible while the model TLB holds the old translation,
 * even after Unicorn's own TLB has missed (privileged spec "Supervisor
 * Memory-Management Fence Instruction"; satp).
 */
#include "test_glue_rv_harness.h"

#define VA_X           UINT64_C(0x60000) /* the remapped page */
#define VAL_A          UINT64_C(0xaaaaaaaaaaaaaaaa)
#define VAL_B          UINT64_C(0xbbbbbbbbbbbbbbbb)
#define I_CSRW_SATP_A2 UINT32_C(0x18061073) /* csrw satp,a2 */

static rvh H;

static void common(const mmu_tlb_config *tlb)
{
    rvh_init(&H, MMU_GLUE_RV64, MMU_MODE_SV39, tlb, 0);
    assert_true(mmu_phys_write64(H.mem, PA_DATA, VAL_A));
    assert_true(mmu_phys_write64(H.mem, PA_DATA2, VAL_B));
}

static int setup_tlb(void **state)
{
    (void)state;
    common(mmu_tlb_preset("generic"));
    return 0;
}

static int setup_notlb(void **state)
{
    (void)state;
    common(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rvh_free(&H);
    return 0;
}

/*
 * Map VA_X -> A (flags extra), and a window on its level-0 PTE so the
 * guest can rewrite it: a1 = VA_X, a3 = the PTE's VA, a2 = a PTE for B.
 */
static void prepare_remap(uint64_t extra)
{
    uint64_t pte_pa;
    rvh_map(&H, VA_X, PA_DATA, RVH_RWAD | extra);
    assert_int_equal(mmu_pt_entry_addr(&H.pt, VA_X, 0, &pte_pa), MMU_PT_OK);
    rvh_map(&H, VA_PTWIN, pte_pa & ~UINT64_C(0xfff), RVH_RWAD);
    rvh_set_reg(&H, UC_RISCV_REG_A1, VA_X);
    rvh_set_reg(&H, UC_RISCV_REG_A3, VA_PTWIN + (pte_pa & 0xfff));
    rvh_set_reg(
        &H, UC_RISCV_REG_A2,
        mmu_pt_make_leaf(&H.pt, 0, PA_DATA2, RV_PTE_V | RVH_RWAD | extra));
}

static void run_code(const uint32_t *code, size_t n)
{
    rvh_code(&H, PA_SCODE, code, n);
    for (size_t i = 0; i < n; i++)
        if (code[i] == I_EBREAK)
            rvh_stop_at(&H, VA_SCODE + 4 * i);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, VA_SCODE);
}

static void sfence_va_shows_new_pte(void **state)
{
    (void)state;
    prepare_remap(0);
    const uint32_t code[] = {I_LD_A0_0_A1, I_SD_A2_0_A3, I_LD_A4_0_A1,
                             I_SFENCE_A1,  I_LD_A5_0_A1, I_EBREAK};
    run_code(code, 6);
    TU_EQ_HEX("before", rvh_reg(&H, UC_RISCV_REG_A0), VAL_A);
    TU_EQ_HEX("after the store, no fence: stale", rvh_reg(&H, UC_RISCV_REG_A4),
              VAL_A);
    TU_EQ_HEX("after sfence.vma va", rvh_reg(&H, UC_RISCV_REG_A5), VAL_B);
    assert_true(mmu_glue_get_stats(H.g)->inval_events >= 1);
}

/* No fence: even when Unicorn's TLB misses (the host flushes it), the
 * refill hits the model TLB and still reads A. */
static void stale_until_model_tlb_misses(void **state)
{
    (void)state;
    prepare_remap(0);
    const uint32_t code[] = {I_LD_A0_0_A1, I_SD_A2_0_A3, I_EBREAK, I_LD_A4_0_A1,
                             I_EBREAK};
    run_code(code, 5);
    mmu_glue_host_changed(H.g); /* Unicorn's TLB goes */
    rvh_run_to_stop(&H, VA_SCODE + 12);
    TU_EQ_HEX("model TLB still maps A", rvh_reg(&H, UC_RISCV_REG_A4), VAL_A);
}

/* The same without a model TLB: the refill walks and sees B. */
static void no_model_tlb_walks_again(void **state)
{
    (void)state;
    prepare_remap(0);
    const uint32_t code[] = {I_LD_A0_0_A1, I_SD_A2_0_A3, I_EBREAK, I_LD_A4_0_A1,
                             I_EBREAK};
    run_code(code, 5);
    mmu_glue_host_changed(H.g);
    rvh_run_to_stop(&H, VA_SCODE + 12);
    TU_EQ_HEX("walk sees B", rvh_reg(&H, UC_RISCV_REG_A4), VAL_B);
}

/* sfence.vma x0, asid keeps global entries; sfence.vma x0, x0 drops
 * them. The ASID register holds the current ASID. */
static void global_survives_asid_fence(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_SATP,
                mmu_pt_root_reg(&H.pt) | (UINT64_C(5) << RV64_SATP_ASID_SHIFT));
    prepare_remap(RV_PTE_G);
    rvh_set_reg(&H, UC_RISCV_REG_A6, 5);
    /* sfence.vma x0,a6 = 0x13000073; sfence.vma x0,x0 */
    const uint32_t code[] = {I_LD_A0_0_A1, I_SD_A2_0_A3, UINT32_C(0x13000073),
                             I_LD_A4_0_A1, I_SFENCE_ALL, I_LD_A5_0_A1,
                             I_EBREAK};
    run_code(code, 7);
    TU_EQ_HEX("global kept by the ASID fence", rvh_reg(&H, UC_RISCV_REG_A4),
              VAL_A);
    TU_EQ_HEX("gone after the full fence", rvh_reg(&H, UC_RISCV_REG_A5), VAL_B);
}

/* sfence.vma va, asid for another ASID leaves the current one's entry;
 * for the current ASID it goes. */
static void va_asid_fence(void **state)
{
    (void)state;
    rvh_set_csr(&H, UC_RISCV_REG_SATP,
                mmu_pt_root_reg(&H.pt) | (UINT64_C(7) << RV64_SATP_ASID_SHIFT));
    prepare_remap(0);
    rvh_set_reg(&H, UC_RISCV_REG_A6, 8);
    rvh_set_reg(&H, UC_RISCV_REG_A7, 7);
    /* sfence.vma a1,a6 = 0x13058073; sfence.vma a1,a7 = 0x13158073 */
    const uint32_t code[] = {
        I_LD_A0_0_A1, I_SD_A2_0_A3,         UINT32_C(0x13058073),
        I_LD_A4_0_A1, UINT32_C(0x13158073), I_LD_A5_0_A1,
        I_EBREAK};
    run_code(code, 7);
    TU_EQ_HEX("other ASID fenced: stale", rvh_reg(&H, UC_RISCV_REG_A4), VAL_A);
    TU_EQ_HEX("own ASID fenced", rvh_reg(&H, UC_RISCV_REG_A5), VAL_B);
}

/*
 * S-mode with satp = Bare reads PA_DATA (A) through an identity access,
 * then writes satp = Sv39 where that VA maps to B, with no fence: the
 * spec says a MODE change takes effect at once.
 */
static void satp_mode_change_takes_effect(void **state)
{
    (void)state;
    rvh_map(&H, PA_MCODE, PA_MCODE, RVH_RXA); /* the code, identity */
    rvh_map(&H, PA_DATA, PA_DATA2, RVH_RWAD); /* PA_DATA -> B */
    const uint32_t code[] = {I_LD_A0_0_A1, I_CSRW_SATP_A2, I_LD_A4_0_A1,
                             I_EBREAK};
    rvh_code(&H, PA_MCODE, code, 4);
    rvh_stop_at(&H, PA_MCODE + 12);
    rvh_set_reg(&H, UC_RISCV_REG_A2, mmu_pt_root_reg(&H.pt));
    rvh_set_csr(&H, UC_RISCV_REG_SATP, 0);
    rvh_set_reg(&H, UC_RISCV_REG_A1, PA_DATA);
    rvh_priv(&H, RV_PRIV_S);
    rvh_run_to_stop(&H, PA_MCODE);
    TU_EQ_HEX("bare", rvh_reg(&H, UC_RISCV_REG_A0), VAL_A);
    TU_EQ_HEX("sv39 right after the write", rvh_reg(&H, UC_RISCV_REG_A4),
              VAL_B);
}

/* From U-mode SFENCE.VMA is illegal: nothing is invalidated, the CPU
 * raises the illegal-instruction exception with the bits in tval. */
static void sfence_illegal_in_u(void **state)
{
    (void)state;
    const uint32_t code[] = {I_SFENCE_ALL};
    rvh_code(&H, PA_UCODE, code, 1);
    rvh_priv(&H, RV_PRIV_U);
    rvh_run_to_stop(&H, VA_UCODE);
    rvh_expect(&H, 0, MMU_GLUE_FROM_CPU, 2, VA_UCODE, I_SFENCE_ALL);
    const mmu_tlb_stats *s =
        mmu_tlb_get_stats(mmu_glue_mmu(H.g)->tlb, MMU_TLB_DTLB);
    TU_EQ_HEX("no flush", s->flushes, 0);
}

int main(void)
{
    /* Named entries: some cases run with and without a model TLB. */
#define T(name, fn, set)                                                       \
    {                                                                          \
        name, fn, set, teardown, NULL                                          \
    }
    const struct CMUnitTest tests[] = {
        T("sfence_va_shows_new_pte_tlb", sfence_va_shows_new_pte, setup_tlb),
        T("sfence_va_shows_new_pte_notlb", sfence_va_shows_new_pte,
          setup_notlb),
        T("stale_until_model_tlb_misses", stale_until_model_tlb_misses,
          setup_tlb),
        T("no_model_tlb_walks_again", no_model_tlb_walks_again, setup_notlb),
        T("global_survives_asid_fence", global_survives_asid_fence, setup_tlb),
        T("va_asid_fence", va_asid_fence, setup_tlb),
        T("satp_mode_change_takes_effect_tlb", satp_mode_change_takes_effect,
          setup_tlb),
        T("satp_mode_change_takes_effect_notlb", satp_mode_change_takes_effect,
          setup_notlb),
        T("sfence_illegal_in_u", sfence_illegal_in_u, setup_tlb),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
