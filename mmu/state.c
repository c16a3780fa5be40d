/*
 * state.c - architectural state defaults and the hardware's choice of
 * paging mode (SDM vol. 3A 4.1.1; RISC-V priv. spec, satp).
 */
#include "mmuemu/riscv_bits.h"
#include "mmuemu/translate.h"
#include "mmuemu/x86_bits.h"
#include "walk_internal.h"

#include <string.h>

void mmu_state_init_x86(mmu_state *st)
{
    memset(st, 0, sizeof *st);
    st->arch = MMU_ARCH_X86;
    st->x86.maxphyaddr = 52;
    st->x86.has_1g_pages = true;
}

void mmu_state_init_rv(mmu_state *st, unsigned xlen)
{
    memset(st, 0, sizeof *st);
    st->arch = MMU_ARCH_RISCV;
    st->rv.xlen = xlen == 32 ? 32 : 64;
}

static mmu_paging_mode x86_mode(const mmu_x86_state *x)
{
    if (!(x->cr0 & X86_CR0_PG))
        return MMU_MODE_NONE;
    if (!(x->cr4 & X86_CR4_PAE))
        return MMU_MODE_X86_32;
    /* IA32_EFER.LMA = LME && CR0.PG: the hardware derives it. */
    if (x->efer & (X86_EFER_LME | X86_EFER_LMA))
        return (x->cr4 & X86_CR4_LA57) ? MMU_MODE_X86_5LEVEL
                                       : MMU_MODE_X86_4LEVEL;
    return MMU_MODE_X86_PAE;
}

static mmu_paging_mode rv_satp_mode(const mmu_rv_state *r)
{
    if (r->xlen == 32)
        return ((r->satp >> RV32_SATP_MODE_SHIFT) & 1) ? MMU_MODE_SV32
                                                       : MMU_MODE_NONE;
    switch (r->satp >> RV64_SATP_MODE_SHIFT) {
    case RV_SATP_MODE_SV39:
        return MMU_MODE_SV39;
    case RV_SATP_MODE_SV48:
        return MMU_MODE_SV48;
    case RV_SATP_MODE_SV57:
        return MMU_MODE_SV57;
    default:
        return MMU_MODE_NONE; /* Bare, or a mode satp would not accept */
    }
}

mmu_paging_mode mmu_state_mode(const mmu_state *st)
{
    return st->arch == MMU_ARCH_X86 ? x86_mode(&st->x86)
                                    : rv_satp_mode(&st->rv);
}

mmu_paging_mode rv_request_mode(const mmu_state *st, const mmu_req *req,
                                uint8_t *eff_priv)
{
    uint8_t priv = req->priv;
    /* MPRV: M-mode loads and stores use MPP's privilege and translation. */
    if (priv == RV_PRIV_M && req->access != MMU_FETCH &&
        (st->rv.mstatus & RV_MSTATUS_MPRV))
        priv = (uint8_t)((st->rv.mstatus & RV_MSTATUS_MPP) >>
                         RV_MSTATUS_MPP_SHIFT);
    *eff_priv = priv;
    if (priv == RV_PRIV_M)
        return MMU_MODE_NONE;
    return rv_satp_mode(&st->rv);
}
