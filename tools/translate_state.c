/*
 * translate_state.c - the registers `mmuemu translate` lets you set, and
 * what writing them does to the translation state.
 *
 * Models: Intel SDM vol. 3A 2.5 (CR0/CR3/CR4), 4.1.1 and 4.1.2 (EFER.LMA
 * = LME && CR0.PG; which paging mode results), 4.4.1 (PAE: the PDPTE
 * registers are loaded by MOV CR3, and by MOV CR0/CR4 that modify CD, NW,
 * PG, PAE, PGE, PSE or SMEP when PAE paging results; a reserved bit in a
 * present PDPTE makes the instruction #GP and leaves the register as it
 * was). RISC-V: satp, mstatus and menvcfg are stored as written.
 * Not modelled: the #GP checks on reserved control-register bits, on
 * EFER.LME changes while paging is on, or on CR4.LA57 changes in long mode
 * (the values are taken as given; the walker decides what they mean).
 */
#include "translate.h"

#include "mmuemu/x86_bits.h"

#include <string.h>

/* CR0 cache-control bits whose change reloads PAE PDPTEs (SDM 4.4.1). */
#define X86_CR0_NW (UINT64_C(1) << 29)
#define X86_CR0_CD (UINT64_C(1) << 30)

#define CR0_PDPTE_BITS (X86_CR0_PG | X86_CR0_CD | X86_CR0_NW)
#define CR4_PDPTE_BITS                                                       \
    (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | X86_CR4_SMEP)

#define U32_MAX UINT64_C(0xffffffff)

static const struct {
    const char *name;
    unsigned on;       /* TR_ON_* */
    bool required;     /* on the command line */
} regs[TR_REG_COUNT] = {
    [TR_CR0] = {"cr0", TR_ON_X86, true},
    [TR_CR3] = {"cr3", TR_ON_X86, true},
    [TR_CR4] = {"cr4", TR_ON_X86, true},
    [TR_EFER] = {"efer", TR_ON_X86, true},
    [TR_RFLAGS] = {"rflags", TR_ON_X86, false},
    [TR_PKRU] = {"pkru", TR_ON_X86, false},
    [TR_SATP] = {"satp", TR_ON_RV, true},
    [TR_MSTATUS] = {"mstatus", TR_ON_RV, false},
    [TR_MENVCFG] = {"menvcfg", TR_ON_RV, false},
};

const char *tr_reg_name(tr_reg r)
{
    return regs[r].name;
}

bool tr_reg_required(const tr_session *s, tr_reg r)
{
    return (regs[r].on & tr_arch_mask(s)) != 0 && regs[r].required;
}

tr_reg tr_reg_by_name(const tr_session *s, const char *name)
{
    for (unsigned r = 0; r < TR_REG_COUNT; r++)
        if ((regs[r].on & tr_arch_mask(s)) != 0 &&
            strcmp(regs[r].name, name) == 0)
            return (tr_reg)r;
    return TR_REG_COUNT;
}

const char *tr_reg_check(const tr_session *s, tr_reg r, uint64_t v)
{
    switch (r) {
    case TR_PKRU:
        return v > U32_MAX ? "PKRU is a 32-bit register" : NULL;
    case TR_EFER:
        return s->arch == TR_I386 && (v & X86_EFER_LME) != 0
                   ? "EFER.LME=1 is not possible with --arch i386"
                   : NULL;
    case TR_CR0:
    case TR_CR3:
    case TR_CR4:
    case TR_RFLAGS:
        return s->arch == TR_I386 && v > U32_MAX
                   ? "value does not fit the 32-bit register of --arch i386"
                   : NULL;
    case TR_SATP:
    case TR_MSTATUS:
        return s->arch == TR_RV32 && v > U32_MAX
                   ? "value does not fit the 32-bit CSR of --arch riscv32"
                   : NULL;
    case TR_MENVCFG: /* 64 bits on RV32 too (menvcfg:menvcfgh) */
    case TR_REG_COUNT:
        break;
    }
    return NULL;
}

static void store(mmu_state *st, tr_reg r, uint64_t v)
{
    switch (r) {
    case TR_CR0: st->x86.cr0 = v; break;
    case TR_CR3: st->x86.cr3 = v; break;
    case TR_CR4: st->x86.cr4 = v; break;
    case TR_EFER: st->x86.efer = v; break;
    case TR_RFLAGS: st->x86.rflags = v; break;
    case TR_PKRU: st->x86.pkru = (uint32_t)v; break;
    case TR_SATP: st->rv.satp = v; break;
    case TR_MSTATUS: st->rv.mstatus = v; break;
    case TR_MENVCFG: st->rv.menvcfg = v; break;
    case TR_REG_COUNT: break;
    }
}

/* The hardware keeps EFER.LMA = EFER.LME && CR0.PG (SDM vol. 3A,
 * "Initializing IA-32e Mode"). */
static void fix_lma(mmu_x86_state *x)
{
    bool lma = (x->efer & X86_EFER_LME) != 0 && (x->cr0 & X86_CR0_PG) != 0;
    x->efer = lma ? x->efer | X86_EFER_LMA : x->efer & ~X86_EFER_LMA;
}

void tr_reg_store(tr_session *s, tr_reg r, uint64_t v)
{
    store(&s->m.st, r, v);
}

static bool in_pae_mode(const mmu_state *st)
{
    return mmu_state_mode(st) == MMU_MODE_X86_PAE;
}

bool tr_state_ready(tr_session *s, mmu_fault *flt)
{
    if (!tr_is_x86(s))
        return true;
    fix_lma(&s->m.st.x86);
    if (!in_pae_mode(&s->m.st))
        return true;
    return mmu_x86_load_pdptes(&s->m, s->m.st.x86.cr3, flt);
}

bool tr_reg_write(tr_session *s, tr_reg r, uint64_t v, mmu_fault *flt)
{
    if (!tr_is_x86(s)) {
        store(&s->m.st, r, v);
        return true;
    }
    const mmu_state old = s->m.st;
    store(&s->m.st, r, v);
    fix_lma(&s->m.st.x86);
    const mmu_x86_state *nx = &s->m.st.x86;
    bool reload = in_pae_mode(&s->m.st) &&
                  (r == TR_CR3 || !in_pae_mode(&old) ||
                   ((old.x86.cr0 ^ nx->cr0) & CR0_PDPTE_BITS) != 0 ||
                   ((old.x86.cr4 ^ nx->cr4) & CR4_PDPTE_BITS) != 0);
    if (reload && !mmu_x86_load_pdptes(&s->m, nx->cr3, flt)) {
        s->m.st = old; /* the faulting MOV changes nothing */
        return false;
    }
    return true;
}
