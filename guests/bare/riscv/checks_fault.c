/*
 * checks_fault.c - translation faults and their repair: satp WARL, demand
 * paging, superpages, reserved W-without-R leaves, sfence.vma, canonical
 * addresses.
 *
 * Priv spec, "Virtual Address Translation Process": V=0 or R=0/W=1 is a
 * page fault (step 3, W-without-R is reserved: XWR=010 and 110); a leaf at
 * level i > 0 whose ppn[i-1:0] is not zero is a misaligned superpage and
 * faults (step 6); bits 63..VA-1 of the VA must equal bit VA-1 ("Sv39":
 * otherwise a page fault). A faulting PTE is never modified. satp.MODE is
 * WARL: a write of an unsupported mode has no effect ("satp"). After a PTE
 * changes, sfence.vma makes the new PTE the one used ("SFENCE.VMA").
 */
#include "guest.h"

#define S_RW               (RV_PTE_V | RV_PTE_A | RV_PTE_D | RV_PTE_R | RV_PTE_W)
#define SATP_MODE_RESERVED UINT64_C(13)

void check_satp_warl(void)
{
    uint64_t before = csr_read_satp(), after;

    csr_write_satp((SATP_MODE_RESERVED << RV64_SATP_MODE_SHIFT) |
                   (before & RV64_SATP_PPN_MASK));
    after = csr_read_satp();
    line_begin("satp write of reserved mode 13:");
    line_dec("satp.mode", after >> RV64_SATP_MODE_SHIFT);
    line_cond(after == before, "write ignored");
    line_end();
}

/* Demand paging: a fresh page holding va ^ DEMAND_TAG at va's offset. */
static void fix_demand(uint64_t va)
{
    uint64_t pa = page_alloc();

    *(volatile uint64_t *)(uintptr_t)(pa + (va & (PAGE_SIZE - 1))) =
        va ^ DEMAND_TAG;
    vm_map(va & ~(PAGE_SIZE - 1), pa, 0, S_RW);
}

void check_demand(void)
{
    const uint64_t st_va = T_DEMAND_ST_VA + 8;
    uint64_t v, pa;

    expect_fault(RV_CAUSE_LOAD_PAGE, T_DEMAND_LD_VA, FIX_CALL, fix_demand);
    v = probe_ld(T_DEMAND_LD_VA);
    line_begin("demand fault load (no level-0 table):");
    line_fault(RV_CAUSE_LOAD_PAGE, T_DEMAND_LD_VA, FN_ADDR(probe_ld),
               "probe_ld", 1);
    line_text(", mapped, retried");
    line_hex("read", v);
    line_cond(v == (T_DEMAND_LD_VA ^ DEMAND_TAG), "read the new page");
    line_end();

    (void)vm_pte(st_va, 0); /* tables present, leaf slot empty */
    sfence_all();
    expect_fault(RV_CAUSE_STORE_PAGE, st_va, FIX_CALL, fix_demand);
    probe_sd(st_va, kernel_magic);
    line_begin("demand fault store (leaf V=0):");
    line_fault(RV_CAUSE_STORE_PAGE, st_va, FN_ADDR(probe_sd), "probe_sd", 1);
    line_text(", mapped, retried");
    pa = pte_pa(*vm_pte(st_va, 0)) + (st_va & (PAGE_SIZE - 1));
    line_cond(probe_ld(st_va) == kernel_magic, "read back");
    line_cond(*(volatile uint64_t *)(uintptr_t)pa == kernel_magic,
              "stored in the new page");
    line_end();
}

static const char *const level_size[] = {"4K", "2M", "1G", "512G"};

static const struct superpage {
    unsigned level;
    uint64_t good_va, good_pa; /* aligned: read kernel_magic through it */
    uint64_t bad_va, bad_pa;   /* ppn[level-1:0] != 0                   */
} superpages[] = {
    {1, UINT64_C(0x40400000), RAM_BASE, UINT64_C(0x40600000),
     RAM_BASE + UINT64_C(0x1000)},
    {2, UINT64_C(0x100000000), RAM_BASE, UINT64_C(0x140000000),
     RAM_BASE + UINT64_C(0x200000)},
    {3, UINT64_C(0x10000000000), 0, UINT64_C(0x18000000000),
     UINT64_C(0x40000000)},
};

void check_superpages(void)
{
    for (unsigned i = 0; i < sizeof superpages / sizeof superpages[0]; i++) {
        const struct superpage *sp = &superpages[i];
        uint64_t va, v;

        if (sp->level >= vm_cur.levels)
            continue;
        vm_map(sp->good_va, sp->good_pa, sp->level, S_RW);
        vm_map(sp->bad_va, sp->bad_pa, sp->level, S_RW);
        sfence_all();

        va = sp->good_va + (FN_ADDR(&kernel_magic) - sp->good_pa);
        v = probe_ld(va);
        line_begin("superpage ");
        line_text(level_size[sp->level]);
        line_hex("va", sp->good_va);
        line_hex("pa", sp->good_pa);
        line_text(", kernel_magic through it");
        line_hex("read", v);
        line_cond(v == kernel_magic, "read through it");
        line_end();

        va = sp->bad_va + 0x10;
        expect_fault(RV_CAUSE_LOAD_PAGE, va, FIX_SKIP, 0);
        probe_ld(va);
        line_begin("misaligned superpage ");
        line_text(level_size[sp->level]);
        line_hex("pa", sp->bad_pa);
        line_text(":");
        line_fault(RV_CAUSE_LOAD_PAGE, va, FN_ADDR(probe_ld), "probe_ld", 1);
        line_end();
    }
}

/* One access that must fault, with the leaf unchanged afterwards. */
static void reserved_access(const char *what, uint64_t va, uint64_t cause)
{
    const volatile uint64_t *pte = vm_pte(va, 0);
    uint64_t before = *pte;
    uint64_t epc = cause == RV_CAUSE_LOAD_PAGE    ? FN_ADDR(probe_ld)
                   : cause == RV_CAUSE_STORE_PAGE ? FN_ADDR(probe_sd)
                                                  : va;

    expect_fault(cause, va,
                 cause == RV_CAUSE_FETCH_PAGE ? FIX_SKIP_FETCH : FIX_SKIP, 0);
    if (cause == RV_CAUSE_LOAD_PAGE)
        probe_ld(va);
    else if (cause == RV_CAUSE_STORE_PAGE)
        probe_sd(va, 0);
    else
        probe_exec(va);
    line_begin(what);
    line_fault(cause, va, epc,
               cause == RV_CAUSE_LOAD_PAGE    ? "probe_ld"
               : cause == RV_CAUSE_STORE_PAGE ? "probe_sd"
                                              : "va",
               1);
    line_cond(*pte == before, "PTE unchanged");
    line_text(*pte == before ? ", PTE unchanged" : "");
    line_end();
}

void check_w_without_r(void)
{
    /* A=0 so that a walker updating A/D before the reserved-encoding
     * check would be caught modifying a faulting PTE. */
    vm_map(T_WONLY_VA, page_with_ret(), 0, RV_PTE_V | RV_PTE_W);
    vm_map(T_WX_VA, page_with_ret(), 0, RV_PTE_V | RV_PTE_W | RV_PTE_X);
    sfence_all();
    reserved_access("XWR=010 leaf load:", T_WONLY_VA, RV_CAUSE_LOAD_PAGE);
    reserved_access("XWR=010 leaf store:", T_WONLY_VA, RV_CAUSE_STORE_PAGE);
    reserved_access("XWR=110 leaf fetch:", T_WX_VA, RV_CAUSE_FETCH_PAGE);
    reserved_access("XWR=110 leaf store:", T_WX_VA, RV_CAUSE_STORE_PAGE);
}

void check_sfence(void)
{
    const uint64_t magic_a = kernel_magic ^ 0xa, magic_b = kernel_magic ^ 0xb;
    uint64_t pa_a = page_with(magic_a), pa_b = page_with(magic_b);
    volatile uint64_t *pte;
    uint64_t v1, v2, v3;

    vm_map(T_SFENCE_VA, pa_a, 0, S_RW);
    sfence_va(T_SFENCE_VA);
    pte = vm_pte(T_SFENCE_VA, 0);
    v1 = probe_ld(T_SFENCE_VA);
    *pte = pte_make(pa_b, S_RW);
    sfence_va(T_SFENCE_VA);
    v2 = probe_ld(T_SFENCE_VA);
    *pte = pte_make(pa_a, S_RW);
    sfence_all();
    v3 = probe_ld(T_SFENCE_VA);
    line_begin("sfence.vma: page A");
    line_hex("read", v1);
    line_text(", remap to B + sfence.vma va");
    line_hex("read", v2);
    line_text(", back to A + sfence.vma");
    line_hex("read", v3);
    line_cond(v1 == magic_a && v2 == magic_b && v3 == magic_a, "new PTE used");
    line_end();

    *pte = 0;
    sfence_va(T_SFENCE_VA);
    expect_fault(RV_CAUSE_LOAD_PAGE, T_SFENCE_VA, FIX_SKIP, 0);
    probe_ld(T_SFENCE_VA);
    line_begin("sfence.vma after unmap:");
    line_fault(RV_CAUSE_LOAD_PAGE, T_SFENCE_VA, FN_ADDR(probe_ld), "probe_ld",
               1);
    line_end();
}

void check_canonical(void)
{
    /* First VA above the lower half: bit 38 (Sv39) / 47 (Sv48) + 1. */
    const uint64_t va_bits = vm_cur.levels * 9 + PAGE_SHIFT;
    const uint64_t hole = UINT64_C(1) << (va_bits - 1);
    const uint64_t sv48_only = UINT64_C(1) << 39;
    uint64_t v;

    expect_fault(RV_CAUSE_LOAD_PAGE, hole, FIX_SKIP, 0);
    probe_ld(hole);
    line_begin("non-canonical load:");
    line_fault(RV_CAUSE_LOAD_PAGE, hole, FN_ADDR(probe_ld), "probe_ld", 1);
    line_end();

    expect_fault(RV_CAUSE_FETCH_PAGE, hole, FIX_SKIP_FETCH, 0);
    probe_exec(hole);
    line_begin("non-canonical fetch:");
    line_fault(RV_CAUSE_FETCH_PAGE, hole, hole, "va", 1);
    line_end();

    vm_map(T_HIGH_VA, page_with(kernel_magic ^ 0x4), 0, S_RW);
    sfence_all();
    v = probe_ld(T_HIGH_VA);
    line_begin("high-half page");
    line_hex("va", T_HIGH_VA);
    line_hex("read", v);
    line_cond(v == (kernel_magic ^ 0x4), "read");
    line_end();

    if (vm_cur.levels < 4)
        return;
    vm_map(sv48_only, page_with(kernel_magic ^ 0x48), 0, S_RW);
    sfence_all();
    v = probe_ld(sv48_only);
    line_begin("4-level-only page");
    line_hex("va", sv48_only);
    line_hex("read", v);
    line_cond(v == (kernel_magic ^ 0x48), "read");
    line_end();
}
