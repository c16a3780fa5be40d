/*
 * user_internal.h - what the common user-mode front (user.c) shares with
 * its per-architecture parts (riscv_user.c, x86_user.c). See
 * mmuemu/glue_user.h for the contract.
 */
#ifndef MMUEMU_USER_INTERNAL_H
#define MMUEMU_USER_INTERNAL_H

#include "glue_internal.h"
#include "mmuemu/glue_user.h"

/* RISC-V (riscv_user.c) */
void rv_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc, uint64_t sp);
void rv_user_set_root(mmu_glue *g, uint64_t satp);
bool rv_user_call(mmu_glue *g, const mmu_glue_event *ev, mmu_user_call *c);
void rv_user_set_result(mmu_glue *g, const mmu_user_call *c, uint64_t ret);
void rv_user_get_regs(mmu_glue *g, mmu_user_regs *r);
void rv_user_set_regs(mmu_glue *g, const mmu_user_regs *r);
bool rv_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len);

/* x86-64 (x86_user.c) */
bool x86_user_init(mmu_glue *g, uint64_t desc_pa, uint64_t desc_va,
                   mmu_user_call_fn fn, void *arg, char *err, size_t errlen);
void x86_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc, uint64_t sp);
void x86_user_set_root(mmu_glue *g, uint64_t cr3);
void x86_user_set_result(mmu_glue *g, const mmu_user_call *c, uint64_t ret);
void x86_user_set_tls(mmu_glue *g, int which, uint64_t base);
uint64_t x86_user_tls(mmu_glue *g, int which);
void x86_user_get_regs(mmu_glue *g, mmu_user_regs *r);
void x86_user_set_regs(mmu_glue *g, const mmu_user_regs *r);
bool x86_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len);

#endif
