/*
 * state.c - architectural state defaults and the hardware's choice of
 * paging mode (SDM vol. 3A 4.1.1; RISC-V priv. spec, satp).
 */
#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
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

/* ---- derived state (see mmu_derived in mmuemu/translate.h) ---------- */

#define NO_PRIV 0x100 /* matches no request privilege (uint8_t) */

static void derive_x86(const mmu_state *st, mmu_derived *d)
{
    const mmu_x86_state *x = &st->x86;
    mmu_paging_mode mode = x86_mode(x);
    bool ia32e = mode == MMU_MODE_X86_4LEVEL || mode == MMU_MODE_X86_5LEVEL;

    d->src[0] = x->cr0;
    d->src[1] = x->cr3;
    d->src[2] = x->cr4;
    d->src[3] = x->efer;
    d->src[4] = x->rflags & DERIVED_RFLAGS_MASK;
    d->src[5] = x86_misc_word(st);
    d->mode = (uint8_t)mode;
    /* Legacy modes and paging off: linear addresses are 32 bits. */
    d->va_mask = ia32e ? ~UINT64_C(0) : UINT64_C(0xffffffff);
    d->va_ext = mode == MMU_MODE_X86_5LEVEL ? 63 - 56 : ia32e ? 63 - 47 : 0;
    d->mprv_from = d->bare_priv = NO_PRIV;
    d->mprv_to = 0;
    /* PAE with the PDPTE registers not loaded: the pre-check loads them. */
    d->hit_ok = mode != MMU_MODE_NONE &&
                (mode != MMU_MODE_X86_PAE || x->pdptes_loaded);
    /* What x86_rights_perms() reads from the state, besides the request. */
    d->key = UINT64_C(1) | (uint64_t)mode << 1 |
             (uint64_t)((x->cr0 & X86_CR0_WP) != 0) << 5 |
             (uint64_t)((x->cr4 & X86_CR4_SMEP) != 0) << 6 |
             (uint64_t)((x->cr4 & X86_CR4_SMAP) != 0) << 7 |
             (uint64_t)((x->cr4 & X86_CR4_PKE) != 0) << 8 |
             (uint64_t)((x->rflags & X86_RFLAGS_AC) != 0) << 9 |
             (uint64_t)x->pkru << 32;
}

static void derive_rv(const mmu_state *st, mmu_derived *d)
{
    const mmu_rv_state *r = &st->rv;
    mmu_paging_mode mode = rv_satp_mode(r);
    uint64_t ms = r->mstatus;

    memset(d->src, 0, sizeof d->src);
    d->src[0] = r->satp;
    d->src[1] = ms & DERIVED_MSTATUS_MASK;
    d->src[5] = rv_misc_word(st);
    d->mode = (uint8_t)mode;
    d->va_mask = r->xlen == 32 ? UINT64_C(0xffffffff) : ~UINT64_C(0);
    d->va_ext = r->xlen == 32 || mode == MMU_MODE_NONE
                    ? 0
                    : (uint8_t)(64u - mmu_mode_get(mode)->va_bits);
    /* MPRV: M-mode loads and stores use MPP's privilege; M itself is
     * untranslated. */
    d->mprv_from = d->bare_priv = RV_PRIV_M;
    d->mprv_to = (ms & RV_MSTATUS_MPRV)
                     ? (uint8_t)((ms & RV_MSTATUS_MPP) >> RV_MSTATUS_MPP_SHIFT)
                     : RV_PRIV_M;
    d->hit_ok = mode != MMU_MODE_NONE;
    /* What rv_rights_perms() reads from the state, besides privilege. */
    d->key = UINT64_C(1) | (uint64_t)mode << 1 |
             (uint64_t)((ms & RV_MSTATUS_SUM) != 0) << 7 |
             (uint64_t)((ms & RV_MSTATUS_MXR) != 0) << 8;
}

void derived_refresh(mmu_ctx *m)
{
    mmu_derived *d = &m->derived;
    if (m->st.arch == MMU_ARCH_X86)
        derive_x86(&m->st, d);
    else
        derive_rv(&m->st, d);
    d->tag = mmu_current_tag(&m->st);
}
