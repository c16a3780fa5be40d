/*
 * x86_oracle.h - an independent statement of the x86 access-rights rules
 * and of the #PF error code, used by the test_x86_*.c files as the
 * expected value for the model.
 *
 * Written from the Intel SDM vol. 3A, 4.6 (access rights), 4.6.2
 * (protection keys) and 4.7 (page-fault error code), as a decision
 * procedure over the *summary* of a translation (user-mode address?
 * writable? XD anywhere? leaf key) rather than as a walker: the tests
 * fold the entries themselves and hand the summary in, so a bug in the
 * model's combining step and a bug in its rule step are caught separately.
 *
 * Not covered: PKS (IA32_PKRS), CET shadow-stack accesses, SGX, HLAT.
 * Header-only (static inline) so each test executable takes what it uses.
 */
#ifndef MMUEMU_TESTS_X86_ORACLE_H
#define MMUEMU_TESTS_X86_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/translate.h"
#include "mmuemu/x86_bits.h"

/* The control-register state the rules look at. */
typedef struct xo_ctl {
    mmu_paging_mode mode; /* MMU_MODE_X86_32 / _PAE / _4LEVEL / _5LEVEL */
    bool wp;              /* CR0.WP */
    bool smep, smap, pke; /* CR4 */
    bool nxe;             /* IA32_EFER.NXE */
    bool ac;              /* RFLAGS.AC */
    uint32_t pkru;
} xo_ctl;

/* Who accesses, and how (SDM 4.6 first paragraphs). */
typedef struct xo_who {
    mmu_access acc;
    unsigned cpl;  /* 0..3 */
    bool implicit; /* implicit supervisor-mode access (GDT/LDT/IDT/TSS) */
} xo_who;

/* The translation, summarised the way SDM 4.6 phrases its rules. */
typedef struct xo_page {
    bool user_addr; /* U/S=1 in every paging-structure entry */
    bool writable;  /* R/W=1 in every paging-structure entry */
    bool xd;        /* XD=1 in some paging-structure entry */
    unsigned pkey;  /* protection key of the leaf (4/5-level) */
} xo_page;

/* "Accesses made while CPL < 3 are supervisor-mode accesses ... implicit
 * supervisor-mode accesses regardless of CPL." */
static inline bool xo_user_access(const xo_who *w)
{
    return w->cpl == 3 && !w->implicit;
}

static inline bool xo_ia32e(const xo_ctl *c)
{
    return c->mode == MMU_MODE_X86_4LEVEL || c->mode == MMU_MODE_X86_5LEVEL;
}

/* XD exists only in the 64-bit entry formats and only with NXE=1. */
static inline bool xo_xd_applies(const xo_ctl *c)
{
    return c->mode != MMU_MODE_X86_32 && c->nxe;
}

/*
 * SDM 4.6.2 / 4.7 PK flag: IA32_EFER.LMA = CR4.PKE = 1, a data access, a
 * user-mode address with key i, and either AD_i = 1, or WD_i = 1 on a
 * write with (CR0.WP = 1 or a user-mode access).
 */
static inline bool xo_pkey_blocks(const xo_ctl *c, const xo_who *w,
                                   const xo_page *p)
{
    if (!xo_ia32e(c) || !c->pke || w->acc == MMU_FETCH || !p->user_addr)
        return false;
    bool ad = (c->pkru >> (2 * p->pkey)) & 1u;
    bool wd = (c->pkru >> (2 * p->pkey + 1)) & 1u;
    if (ad)
        return true;
    return wd && w->acc == MMU_WRITE && (c->wp || xo_user_access(w));
}

/*
 * SDM 4.6.1, the paragraphs in their order. SMAP "explicit" means not an
 * implicit supervisor-mode access: "If EFLAGS.AC = 1 and the access is
 * explicit, data may be read from any user-mode address ...; if
 * EFLAGS.AC = 0 or the access is implicit, data may not be read ...".
 * 4.6.1 defines implicit supervisor-mode accesses "regardless of CPL", so
 * AC is ignored for them at CPL 0-2 as well. Bochs and QEMU honour AC for
 * implicit accesses at CPL < 3 (FIDELITY calls that partial); the SDM
 * text wins here, as FIDELITY.md also states.
 */
static inline bool xo_allowed(const xo_ctl *c, const xo_who *w,
                              const xo_page *p)
{
    bool user = xo_user_access(w);
    bool smap_denies = c->smap && (w->implicit || !c->ac);

    if (w->acc == MMU_FETCH) {
        if (xo_xd_applies(c) && p->xd)
            return false;
        if (user)
            return p->user_addr;
        return !(p->user_addr && c->smep);
    }
    if (user) {
        if (!p->user_addr)
            return false;
        if (w->acc == MMU_WRITE && !p->writable)
            return false; /* CR0.WP does not matter for user writes */
        return !xo_pkey_blocks(c, w, p);
    }
    /* Supervisor-mode data access. */
    if (p->user_addr && smap_denies)
        return false;
    if (w->acc == MMU_WRITE && c->wp && !p->writable)
        return false;
    return !xo_pkey_blocks(c, w, p);
}

/* How a faulting access ended (SDM 4.7). */
typedef enum xo_pf_kind {
    XO_NOT_PRESENT, /* P=0 in an entry used */
    XO_RESERVED,    /* a reserved bit in a present entry */
    XO_PROTECTION,  /* valid translation, rights deny the access */
} xo_pf_kind;

/*
 * The #PF error code. `p` is only looked at for XO_PROTECTION (the PK flag
 * needs a translation, hence a user-mode address and a key).
 * I/D: 1 for fetches if CR4.SMEP = 1, or CR4.PAE = 1 (PAE or IA-32e
 * paging) and IA32_EFER.NXE = 1 (older SDMs, before SMEP, only had the
 * second condition; the current 4.7 text has both).
 * PK: 4.7 defines the flag by its conditions, not by "the cause", so it
 * is also 1 when R/W, U/S or SMAP denies the access as well.
 * RSVD implies P ("can be set only if bit 0 is also set").
 */
static inline uint32_t xo_pf_code(const xo_ctl *c, const xo_who *w,
                                  xo_pf_kind kind, const xo_page *p)
{
    uint32_t code = 0;
    if (kind != XO_NOT_PRESENT)
        code |= X86_PF_P;
    if (kind == XO_RESERVED)
        code |= X86_PF_RSVD;
    if (w->acc == MMU_WRITE)
        code |= X86_PF_W;
    if (xo_user_access(w))
        code |= X86_PF_U;
    if (w->acc == MMU_FETCH &&
        (c->smep || (c->mode != MMU_MODE_X86_32 && c->nxe)))
        code |= X86_PF_I;
    if (kind == XO_PROTECTION && p != NULL && xo_pkey_blocks(c, w, p))
        code |= X86_PF_PK;
    return code;
}

/*
 * What the model's mmu_result.perms should say for a successful access:
 * the accesses this privilege could make now (W only when the access was
 * a write or the leaf was already dirty), and U for a user-mode address.
 */
static inline uint8_t xo_perms(const xo_ctl *c, const xo_who *w,
                               const xo_page *p, bool dirty_after)
{
    xo_who r = *w, wr = *w, x = *w;
    r.acc = MMU_READ;
    wr.acc = MMU_WRITE;
    x.acc = MMU_FETCH;
    uint8_t perms = 0;
    if (xo_allowed(c, &r, p))
        perms |= MMU_PERM_R;
    if (dirty_after && xo_allowed(c, &wr, p))
        perms |= MMU_PERM_W;
    if (xo_allowed(c, &x, p))
        perms |= MMU_PERM_X;
    if (p->user_addr)
        perms |= MMU_PERM_U;
    return perms;
}

/* Control registers for a ctl (the bits the tests do not vary are the
 * mode's own). */
static inline void xo_apply(const xo_ctl *c, mmu_x86_state *x)
{
    x->cr0 = X86_CR0_PE | X86_CR0_PG | (c->wp ? X86_CR0_WP : 0);
    x->cr4 = 0;
    x->efer = 0;
    switch (c->mode) {
    case MMU_MODE_X86_32:
        x->cr4 = X86_CR4_PSE;
        break;
    case MMU_MODE_X86_PAE:
        x->cr4 = X86_CR4_PAE;
        break;
    case MMU_MODE_X86_4LEVEL:
        x->cr4 = X86_CR4_PAE;
        x->efer = X86_EFER_LME | X86_EFER_LMA;
        break;
    case MMU_MODE_X86_5LEVEL:
        x->cr4 = X86_CR4_PAE | X86_CR4_LA57;
        x->efer = X86_EFER_LME | X86_EFER_LMA;
        break;
    case MMU_MODE_NONE:
    case MMU_MODE_SV32:
    case MMU_MODE_SV39:
    case MMU_MODE_SV48:
    case MMU_MODE_SV57:
    case MMU_MODE_COUNT:
        break;
    }
    if (c->smep)
        x->cr4 |= X86_CR4_SMEP;
    if (c->smap)
        x->cr4 |= X86_CR4_SMAP;
    if (c->pke)
        x->cr4 |= X86_CR4_PKE;
    if (c->nxe)
        x->efer |= X86_EFER_NXE;
    x->rflags = UINT64_C(2) | (c->ac ? X86_RFLAGS_AC : 0);
    x->pkru = c->pkru;
}

#endif
