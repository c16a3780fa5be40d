/*
 * tlb_sync.c - Linux's TLB invalidation policy after PTE changes, applied
 * to a model TLB through the architectural operations (see mmuemu/os.h,
 * section 6).
 *
 * x86 (arch/x86/mm/tlb.c): a new or relaxed PTE needs nothing, since a
 * #PF drops the stale entry and re-walks; a changed or removed one is
 * flushed with INVLPG per page up to tlb_single_page_flush_ceiling (33)
 * pages, else with a CR3 reload (all non-global entries).
 * RISC-V (arch/riscv/mm/tlbflush.c, pgtable.h update_mmu_cache): every
 * change is fenced, since implementations may cache invalid entries and
 * a fault does not flush: SFENCE.VMA va, asid per page up to
 * tlb_flush_all_threshold (64) pages, else SFENCE.VMA x0, asid.
 */
#include "os_internal.h"

#include "mmuemu/tlb.h"

#define X86_FLUSH_CEILING 33
#define RV_FLUSH_THRESHOLD 64

void os_tlb_sync(mmu_ctx *m, uint32_t tag, uint64_t va, uint64_t len,
                 os_pte_change what)
{
    uint64_t pages = (len + PAGE - 1) / PAGE;
    va = page_down(va);
    if (m->st.arch == MMU_ARCH_X86) {
        if (what == OS_PTE_NEW || what == OS_PTE_RELAXED)
            return;
        if (pages > X86_FLUSH_CEILING) {
            mmu_fault flt;
            (void)mmu_x86_write_cr3(m, m->st.x86.cr3, &flt);
            return;
        }
        for (uint64_t i = 0; i < pages; i++)
            mmu_x86_invlpg(m, va + i * PAGE);
        return;
    }
    if (pages > RV_FLUSH_THRESHOLD) {
        mmu_rv_sfence_vma(m, false, 0, true, tag);
        return;
    }
    for (uint64_t i = 0; i < pages; i++)
        mmu_rv_sfence_vma(m, true, va + i * PAGE, true, tag);
}
