/*
 * translate_state.c - the registers `mmuemu translate` lets you set, and
 * what writing them does to the translation state.
 *
 * The initial state (command line) is taken as given, except that
 * EFER.LMA is derived as the hardware does (LMA = LME && CR0.PG; SDM vol.
 * 3A, "Initializing IA-32e Mode") and that PAE paging needs its PDPTE
 * registers loaded (SDM 4.4.1); an RV64 satp MODE the hart does not
 * implement is refused there (no hart can be in that state). A `set` op
 * is the instruction: MOV CR0/CR3/CR4 and WRMSR EFER go through the
 * model's own mmu_x86_write_*() (their #GP checks, PDPTE loads and
 * invalidations, include/mmuemu/tlb.h), csrw satp through
 * mmu_rv_write_satp() (WARL: an unsupported MODE leaves satp unchanged;
 * no invalidation); RFLAGS, PKRU, mstatus and menvcfg are stored as
 * written.
 * Not modelled: the #GP checks of the initial state (an impossible
 * combination is passed to the walker as it is).
 */
#include "translate.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
#include "mmuemu/x86_bits.h"

#include <string.h>

#define U32_MAX UINT64_C(0xffffffff)

static const struct {
    const char *name;
    unsigned on;   /* TR_ON_* */
    bool required; /* on the command line */
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

static bool rv64_satp_mode_ok(uint64_t satp)
{
    uint64_t mode = satp >> RV64_SATP_MODE_SHIFT;
    return mode == RV_SATP_MODE_BARE || mode == RV_SATP_MODE_SV39 ||
           mode == RV_SATP_MODE_SV48 || mode == RV_SATP_MODE_SV57;
}

const char *tr_reg_check(const tr_session *s, tr_reg r, uint64_t v,
                         bool initial)
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
        if (initial && s->arch == TR_RV64 && !rv64_satp_mode_ok(v))
            return "satp.MODE is not Bare (0), Sv39 (8), Sv48 (9) or Sv57 "
                   "(10); satp is WARL and would not take it";
        return s->arch == TR_RV32 && v > U32_MAX
                   ? "value does not fit the 32-bit CSR of --arch riscv32"
                   : NULL;
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
    case TR_CR0:
        st->x86.cr0 = v;
        break;
    case TR_CR3:
        st->x86.cr3 = v;
        break;
    case TR_CR4:
        st->x86.cr4 = v;
        break;
    case TR_EFER:
        st->x86.efer = v;
        break;
    case TR_RFLAGS:
        st->x86.rflags = v;
        break;
    case TR_PKRU:
        st->x86.pkru = (uint32_t)v;
        break;
    case TR_SATP:
        st->rv.satp = v;
        break;
    case TR_MSTATUS:
        st->rv.mstatus = v;
        break;
    case TR_MENVCFG:
        st->rv.menvcfg = v;
        break;
    case TR_REG_COUNT:
        break;
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

static tr_write faulted(bool ok)
{
    return ok ? TR_WRITE_DONE : TR_WRITE_FAULT;
}

tr_write tr_reg_write(tr_session *s, tr_reg r, uint64_t v, mmu_fault *flt)
{
    mmu_ctx *m = &s->m;
    switch (r) {
    case TR_CR0:
        return faulted(mmu_x86_write_cr0(m, v, flt));
    case TR_CR3:
        return faulted(mmu_x86_write_cr3(m, v, flt));
    case TR_CR4:
        return faulted(mmu_x86_write_cr4(m, v, flt));
    case TR_EFER:
        return faulted(mmu_x86_write_efer(m, v, flt));
    case TR_SATP:
        return mmu_rv_write_satp(m, v) ? TR_WRITE_DONE : TR_WRITE_IGNORED;
    case TR_RFLAGS:
    case TR_PKRU:
    case TR_MSTATUS:
    case TR_MENVCFG:
    case TR_REG_COUNT:
        break;
    }
    store(&m->st, r, v);
    return TR_WRITE_DONE;
}
