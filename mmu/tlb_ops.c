/*
 * tlb_ops.c - the architectural operations that change translation state
 * and what each invalidates.
 *
 * x86 (SDM vol. 3A 4.10.4.1, 2.5, 4.4.1): INVLPG drops the page in every
 * PCID by default, or in the current PCID only (plus global entries), the
 * SDM's minimum (mmu_tlb_config.invlpg); MOV CR0 flushes everything
 * when PG goes 1->0; MOV CR3 flushes the non-global entries (and the
 * paging-structure caches) of the new PCID (PCID 0 without CR4.PCIDE),
 * not at all with bit 63 set under PCIDE; MOV CR4 flushes everything when
 * PGE changes or PCIDE goes 1->0. Changes of CR4.PAE/PSE/SMEP/SMAP/PKE/
 * LA57 and EFER.NXE also flush everything here: TLB entries hold decodes
 * that depend on them (entry format, XD), as in Bochs (BX_CR4_FLUSH_TLB_
 * MASK) and QEMU; rights-only bits (CR0.WP, SMEP, SMAP, PKRU, RFLAGS.AC)
 * are anyway re-judged at every hit. PAE PDPTEs are (re)loaded by MOV
 * CR3 and by MOV CR0/CR4 changing CD, NW, PG, PAE, PGE, PSE or SMEP when
 * PAE paging results (SDM 4.4.1).
 *
 * RISC-V (privileged spec, SFENCE.VMA and satp): the four rs1/rs2 forms;
 * a satp write flushes nothing; a VA fence leaves cached non-leaf entries.
 */
#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
#include "mmuemu/x86_bits.h"
#include "walk_internal.h"

#include <string.h>

uint32_t mmu_current_tag(const mmu_state *st)
{
    if (st->arch == MMU_ARCH_X86)
        return (st->x86.cr4 & X86_CR4_PCIDE)
                   ? (uint32_t)(st->x86.cr3 & X86_CR3_PCID_MASK)
                   : 0;
    if (st->rv.xlen == 32)
        return (uint32_t)((st->rv.satp >> RV32_SATP_ASID_SHIFT) &
                          RV32_SATP_ASID_MASK);
    return (uint32_t)((st->rv.satp >> RV64_SATP_ASID_SHIFT) &
                      RV64_SATP_ASID_MASK);
}

static bool gp(mmu_fault *flt, uint64_t addr)
{
    memset(flt, 0, sizeof *flt);
    flt->kind = MMU_FAULT_GP;
    flt->reason = MMU_WHY_RESERVED_BIT;
    flt->vector = X86_VEC_GP;
    flt->addr = addr;
    flt->level = -1;
    return false;
}

static void flush_all(mmu_ctx *m)
{
    if (m->tlb)
        mmu_tlb_flush_all(m->tlb);
}

static bool lma(uint64_t cr0, uint64_t efer)
{
    return (cr0 & X86_CR0_PG) && (efer & X86_EFER_LME);
}

static bool pae_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !lma(cr0, efer);
}

/* Commit new CR0/CR4/EFER values, loading PDPTEs when the SDM says. */
static bool commit(mmu_ctx *m, uint64_t cr0, uint64_t cr4, uint64_t efer,
                   bool reload, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86, saved = *x;
    x->cr0 = cr0;
    x->cr4 = cr4;
    x->efer = lma(cr0, efer) ? efer | X86_EFER_LMA : efer & ~X86_EFER_LMA;
    if (reload && pae_mode(cr0, cr4, efer) &&
        !mmu_x86_load_pdptes(m, x->cr3, flt)) {
        *x = saved;
        if (flt->kind == MMU_FAULT_GP)
            flt->level = -1;
        return false;
    }
    return true;
}

bool mmu_x86_write_cr0(mmu_ctx *m, uint64_t v, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86;
    uint64_t old = x->cr0, changed = old ^ v;
    if ((v >> 32) != 0 || ((v & X86_CR0_PG) && !(v & X86_CR0_PE)))
        return gp(flt, v);
    if ((changed & X86_CR0_PG) && !(v & X86_CR0_PG) &&
        (x->cr4 & X86_CR4_PCIDE))
        return gp(flt, v); /* clearing PG with PCIDE = 1 */
    if ((v & X86_CR0_PG) && (x->efer & X86_EFER_LME) &&
        !(x->cr4 & X86_CR4_PAE))
        return gp(flt, v); /* IA-32e needs PAE */
    uint64_t reload_bits = X86_CR0_PG | X86_CR0_CD | X86_CR0_NW;
    if (!commit(m, v, x->cr4, x->efer, (changed & reload_bits) != 0, flt))
        return false;
    if ((changed & X86_CR0_PG) && !(v & X86_CR0_PG))
        flush_all(m);
    return true;
}

bool mmu_x86_write_cr4(mmu_ctx *m, uint64_t v, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86;
    uint64_t old = x->cr4, changed = old ^ v;
    bool in_ia32e = lma(x->cr0, x->efer);
    if ((v & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
        (!in_ia32e || (x->cr3 & X86_CR3_PCID_MASK)))
        return gp(flt, v);
    if (in_ia32e && ((changed & X86_CR4_LA57) || !(v & X86_CR4_PAE)))
        return gp(flt, v);
    uint64_t reload_bits = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE |
                           X86_CR4_SMEP;
    if (!commit(m, x->cr0, v, x->efer, (changed & reload_bits) != 0, flt))
        return false;
    uint64_t flush_bits = X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE |
                          X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE |
                          X86_CR4_LA57;
    if ((changed & flush_bits) ||
        ((changed & X86_CR4_PCIDE) && !(v & X86_CR4_PCIDE)))
        flush_all(m);
    return true;
}

bool mmu_x86_write_efer(mmu_ctx *m, uint64_t v, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86;
    uint64_t changed = x->efer ^ v;
    if ((changed & X86_EFER_LME) && (x->cr0 & X86_CR0_PG))
        return gp(flt, v); /* LME cannot change while paging */
    if (!commit(m, x->cr0, x->cr4, v, false, flt))
        return false;
    if (changed & X86_EFER_NXE)
        flush_all(m);
    return true;
}

bool mmu_x86_write_cr3(mmu_ctx *m, uint64_t v, mmu_fault *flt)
{
    mmu_x86_state *x = &m->st.x86;
    bool pcide = (x->cr4 & X86_CR4_PCIDE) != 0;
    bool noflush = pcide && (v & X86_CR3_NOFLUSH);
    uint64_t val = pcide ? v & ~X86_CR3_NOFLUSH : v;
    unsigned mp = x86_maxphy(x);

    if (lma(x->cr0, x->efer)) {
        if (mp < 64 && (val >> mp) != 0)
            return gp(flt, v); /* reserved bits above MAXPHYADDR */
    } else {
        val &= UINT64_C(0xffffffff);
    }
    if (pae_mode(x->cr0, x->cr4, x->efer) &&
        !mmu_x86_load_pdptes(m, val, flt)) {
        if (flt->kind == MMU_FAULT_GP)
            flt->level = -1;
        return false;
    }
    x->cr3 = val;
    if (!noflush && m->tlb)
        mmu_tlb_flush_tag(m->tlb, mmu_current_tag(&m->st));
    return true;
}

static bool x86_canonical(const mmu_state *st, uint64_t va)
{
    mmu_paging_mode mode = mmu_state_mode(st);
    if (mode != MMU_MODE_X86_4LEVEL && mode != MMU_MODE_X86_5LEVEL)
        return true;
    unsigned top = mode == MMU_MODE_X86_5LEVEL ? 56 : 47;
    return va_canonical(va, top);
}

static uint64_t x86_linear(const mmu_state *st, uint64_t va)
{
    return lma(st->x86.cr0, st->x86.efer) ? va : va & UINT64_C(0xffffffff);
}

void mmu_x86_invlpg(mmu_ctx *m, uint64_t va)
{
    if (m->tlb == NULL || !x86_canonical(&m->st, va))
        return;
    uint32_t tag = mmu_tlb_get_config(m->tlb)->invlpg == MMU_INVLPG_ALL_PCIDS
                       ? MMU_TLB_ANY_TAG
                       : mmu_current_tag(&m->st);
    mmu_tlb_flush_va(m->tlb, x86_linear(&m->st, va), tag, true, true);
}

bool mmu_x86_invpcid(mmu_ctx *m, unsigned type, uint64_t pcid, uint64_t va,
                     mmu_fault *flt)
{
    bool pcide = (m->st.x86.cr4 & X86_CR4_PCIDE) != 0;
    if (type > 3 || pcid > X86_CR3_PCID_MASK)
        return gp(flt, pcid);
    if (type <= 1 && !pcide && pcid != 0)
        return gp(flt, pcid);
    if (type == 0 && !x86_canonical(&m->st, va))
        return gp(flt, va);
    if (m->tlb == NULL)
        return true;
    switch (type) {
    case 0: /* individual address, non-global, that PCID */
        mmu_tlb_flush_va(m->tlb, x86_linear(&m->st, va), (uint32_t)pcid,
                         false, true);
        break;
    case 1: /* single context, non-global */
        mmu_tlb_flush_tag(m->tlb, (uint32_t)pcid);
        break;
    case 2: /* all contexts, globals included */
        mmu_tlb_flush_all(m->tlb);
        break;
    default: /* all contexts, globals kept */
        mmu_tlb_flush_tag(m->tlb, MMU_TLB_ANY_TAG);
        break;
    }
    return true;
}

/* ---- RISC-V ---------------------------------------------------------- */

static bool rv_valid_va(const mmu_state *st, uint64_t va)
{
    mmu_paging_mode mode = mmu_state_mode(st);
    const mmu_mode_info *mi = mmu_mode_get(mode);
    if (st->rv.xlen == 32 || mode == MMU_MODE_NONE)
        return true;
    unsigned top = mi->va_bits - 1u;
    return va_canonical(va, top);
}

void mmu_rv_sfence_vma(mmu_ctx *m, bool has_va, uint64_t va, bool has_asid,
                       uint64_t asid)
{
    struct mmu_tlb *t = m->tlb;
    uint64_t amask = m->st.rv.xlen == 32 ? RV32_SATP_ASID_MASK
                                         : RV64_SATP_ASID_MASK;
    if (t == NULL || (has_va && !rv_valid_va(&m->st, va)))
        return;
    if (m->st.rv.xlen == 32)
        va &= UINT64_C(0xffffffff);
    uint32_t tag = (uint32_t)(asid & amask);
    if (!has_va && !has_asid)
        mmu_tlb_flush_all(t);
    else if (!has_va)
        mmu_tlb_flush_tag(t, tag);
    else if (!has_asid)
        mmu_tlb_flush_va(t, va, MMU_TLB_ANY_TAG, true, false);
    else
        mmu_tlb_flush_va(t, va, tag, false, false);
}

bool mmu_rv_write_satp(mmu_ctx *m, uint64_t v)
{
    if (m->st.rv.xlen == 64) {
        uint64_t mode = v >> RV64_SATP_MODE_SHIFT;
        if (mode != RV_SATP_MODE_BARE && mode != RV_SATP_MODE_SV39 &&
            mode != RV_SATP_MODE_SV48 && mode != RV_SATP_MODE_SV57)
            return false; /* WARL: the write is ignored */
    } else {
        v &= UINT64_C(0xffffffff);
    }
    m->st.rv.satp = v;
    return true;
}
