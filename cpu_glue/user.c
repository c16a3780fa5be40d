/*
 * user.c - the user-mode front of the glue (see mmuemu/glue_user.h):
 * dispatch to riscv_user.c or x86_user.c by the glue's ISA. Only the
 * 64-bit ISAs host Linux processes.
 */
#include "user_internal.h"

#include <stdio.h>

static bool is_x86(const mmu_glue *g)
{
    return g->cfg.isa == MMU_GLUE_X86_64;
}

bool mmu_glue_user_init(mmu_glue *g, uint64_t desc_pa, uint64_t desc_va,
                        mmu_user_call_fn fn, void *arg, char *err,
                        size_t errlen)
{
    switch (g->cfg.isa) {
    case MMU_GLUE_X86_64:
        return x86_user_init(g, desc_pa, desc_va, fn, arg, err, errlen);
    case MMU_GLUE_RV64:
        return true;
    case MMU_GLUE_I386:
    case MMU_GLUE_RV32:
        break;
    }
    snprintf(err, errlen,
             "user-mode guests need a 64-bit glue "
             "(x86_64 or riscv64)");
    return false;
}

void mmu_glue_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc,
                         uint64_t sp)
{
    if (is_x86(g))
        x86_user_enter(g, st, pc, sp);
    else
        rv_user_enter(g, st, pc, sp);
    mmu_glue_host_changed(g);
}

void mmu_glue_user_set_root(mmu_glue *g, uint64_t root)
{
    if (is_x86(g))
        x86_user_set_root(g, root);
    else
        rv_user_set_root(g, root);
    mmu_glue_sync_state(g);
    mmu_glue_host_changed(g);
}

bool mmu_glue_user_call(mmu_glue *g, const mmu_glue_event *ev, mmu_user_call *c)
{
    /* x86 system calls never become events: the SYSCALL hook runs them. */
    return !is_x86(g) && rv_user_call(g, ev, c);
}

void mmu_glue_user_set_result(mmu_glue *g, const mmu_user_call *c, uint64_t ret)
{
    if (is_x86(g))
        x86_user_set_result(g, c, ret);
    else
        rv_user_set_result(g, c, ret);
}

void mmu_glue_user_set_tls(mmu_glue *g, int which, uint64_t base)
{
    if (is_x86(g))
        x86_user_set_tls(g, which, base);
}

uint64_t mmu_glue_user_tls(mmu_glue *g, int which)
{
    return is_x86(g) ? x86_user_tls(g, which) : 0;
}

void mmu_glue_user_get_regs(mmu_glue *g, mmu_user_regs *r)
{
    if (is_x86(g))
        x86_user_get_regs(g, r);
    else
        rv_user_get_regs(g, r);
}

void mmu_glue_user_set_regs(mmu_glue *g, const mmu_user_regs *r)
{
    if (is_x86(g))
        x86_user_set_regs(g, r);
    else
        rv_user_set_regs(g, r);
}

bool mmu_glue_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len)
{
    return is_x86(g) ? x86_user_disasm(g, pc, buf, len)
                     : rv_user_disasm(g, pc, buf, len);
}
