/*
 * pte.c - user-page entries per architecture, as Linux builds them.
 *
 * x86 (arch/x86/include/asm/pgtable_types.h): protection_map entries
 * carry P, U/S and A (___A is part of PAGE_SHARED, PAGE_COPY, ...), NX
 * without VM_EXEC; RW only through pte_mkwrite(), D through pte_mkdirty().
 * PROT_NONE: P clear, _PAGE_PROTNONE (the G bit) set.
 * RISC-V (arch/riscv/include/asm/pgtable.h): _PAGE_BASE = V | A | U; R
 * for VM_READ or VM_WRITE (PAGE_COPY is PAGE_READ; W needs R), X for
 * VM_EXEC (exec-only pages are X alone); W and D as on x86. PROT_NONE:
 * V clear, _PAGE_PROT_NONE (the G bit) | R.
 */
#include "os_internal.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

void os_pte_decode(mmu_arch arch, uint64_t e, os_pte *o)
{
    if (arch == MMU_ARCH_X86) {
        o->present = (e & X86_PTE_P) != 0;
        o->protnone = !o->present && (e & X86_PTE_G) != 0;
        o->pa = e & X86_PTE_ADDR_MASK;
        o->read = o->present;
        o->write = o->present && (e & X86_PTE_RW);
        o->exec = o->present && !(e & X86_PTE_NX);
        o->user = (e & X86_PTE_US) != 0;
        o->accessed = (e & X86_PTE_A) != 0;
        o->dirty = (e & X86_PTE_D) != 0;
        return;
    }
    o->present = (e & RV_PTE_V) != 0;
    o->protnone = !o->present && (e & RV_PTE_G) != 0;
    o->pa = ((e & RV_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT) << OS_PAGE_SHIFT;
    o->read = o->present && (e & RV_PTE_R);
    o->write = o->present && (e & RV_PTE_W);
    o->exec = o->present && (e & RV_PTE_X);
    o->user = (e & RV_PTE_U) != 0;
    o->accessed = (e & RV_PTE_A) != 0;
    o->dirty = (e & RV_PTE_D) != 0;
}

static uint64_t x86_bits(uint32_t f, bool writable, bool dirty)
{
    if (!(f & OS_VM_ACCESS))
        return X86_PTE_A | X86_PTE_G; /* PAGE_NONE */
    uint64_t b = X86_PTE_P | X86_PTE_US | X86_PTE_A;
    if (writable)
        b |= X86_PTE_RW;
    if (dirty)
        b |= X86_PTE_D;
    if (!(f & OS_VM_EXEC))
        b |= X86_PTE_NX;
    return b;
}

static uint64_t rv_bits(uint32_t f, bool writable, bool dirty)
{
    if (!(f & OS_VM_ACCESS))
        return RV_PTE_G | RV_PTE_R; /* PAGE_NONE */
    uint64_t b = RV_PTE_V | RV_PTE_U | RV_PTE_A;
    if (f & (OS_VM_READ | OS_VM_WRITE))
        b |= RV_PTE_R;
    if (writable)
        b |= RV_PTE_W;
    if (f & OS_VM_EXEC)
        b |= RV_PTE_X;
    if (dirty)
        b |= RV_PTE_D;
    return b;
}

uint64_t os_pte_make(const mmu_pt *pt, uint64_t pa, uint32_t vm_flags,
                     bool writable, bool dirty)
{
    bool x86 = mmu_mode_get(pt->mode)->arch == MMU_ARCH_X86;
    uint64_t b = x86 ? x86_bits(vm_flags, writable, dirty)
                     : rv_bits(vm_flags, writable, dirty);
    return mmu_pt_make_leaf(pt, 0, pa, b);
}

uint64_t os_pte_user_table(mmu_arch arch)
{
    if (arch == MMU_ARCH_X86) /* _PAGE_TABLE */
        return X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A | X86_PTE_D;
    return RV_PTE_V;
}

bool os_pte_allows(const os_pte *p, mmu_access acc)
{
    if (!p->present || !p->user)
        return false;
    switch (acc) {
    case MMU_READ:
        return p->read;
    case MMU_WRITE:
        return p->write;
    case MMU_FETCH:
        return p->exec;
    }
    return false;
}

uint64_t os_pte_mkyoung(mmu_arch arch, uint64_t e, bool dirty)
{
    if (arch == MMU_ARCH_X86)
        return e | X86_PTE_A | (dirty ? X86_PTE_D : 0);
    return e | RV_PTE_A | (dirty ? RV_PTE_D : 0);
}

uint64_t os_pte_wrprotect(mmu_arch arch, uint64_t e, bool mkold, bool mkclean)
{
    bool x86 = arch == MMU_ARCH_X86;
    e &= ~(x86 ? X86_PTE_RW : RV_PTE_W);
    if (mkold)
        e &= ~(x86 ? X86_PTE_A : RV_PTE_A);
    if (mkclean)
        e &= ~(x86 ? X86_PTE_D : RV_PTE_D);
    return e;
}

uint64_t os_pte_mkold(mmu_arch arch, uint64_t e)
{
    return e & ~(arch == MMU_ARCH_X86 ? X86_PTE_A : RV_PTE_A);
}

uint64_t os_pte_mkclean(mmu_arch arch, uint64_t e)
{
    return e & ~(arch == MMU_ARCH_X86 ? X86_PTE_D : RV_PTE_D);
}
