/*
 * riscv_user.c - RISC-V user-mode guests (see mmuemu/glue_user.h): enter
 * U-mode on the OS model's satp, decode ECALL from U, the register file
 * of a signal frame, and a disassembly for reports.
 *
 * Linux's start_thread (arch/riscv/kernel/process.c) sets sstatus.SPP = U,
 * sstatus.FS = Initial, epc and sp; the other registers are those of a
 * fresh thread (zero). The ABI: nr in a7, arguments a0..a5, result a0;
 * ECALL is 4 bytes (no compressed form).
 */
#include "riscv_internal.h"
#include "user_internal.h"

#include <capstone/capstone.h>
#include <string.h>

#define RV_MSTATUS_FS_MASK    (UINT64_C(3) << 13)
#define RV_MSTATUS_FS_INITIAL (UINT64_C(1) << 13)
#define RV_REG_SP             2
#define RV_REG_A0             10
#define RV_REG_A7             17
#define RV_ECALL_LEN          4

void rv_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc, uint64_t sp)
{
    uint64_t ms = rv_csr(g, UC_RISCV_REG_MSTATUS);
    ms &= ~(RV_MSTATUS_FS_MASK | RV_MSTATUS_MPRV | RV_MSTATUS_SUM |
            RV_MSTATUS_MXR);
    ms |= RV_MSTATUS_FS_INITIAL;
    static const int regs[] = {UC_RISCV_REG_SATP, UC_RISCV_REG_MSTATUS};
    const uint64_t vals[] = {st->rv.satp, ms};
    rv_csr_write_n(g, regs, vals, 2);
    for (unsigned i = 1; i < 32; i++)
        rv_set_xreg(g, i, 0);
    uint64_t zero = 0; /* f0..f31 and fcsr as execve leaves them */
    for (unsigned i = 0; i < 32; i++)
        uc_reg_write(g->uc, UC_RISCV_REG_F0 + (int)i, &zero);
    rv_set_csr(g, UC_RISCV_REG_FCSR, 0);
    rv_set_xreg(g, RV_REG_SP, sp);
    rv_set_reg(g, UC_RISCV_REG_PC, pc);
    rv_set_reg(g, UC_RISCV_REG_PRIV, RV_PRIV_U);
}

void rv_user_set_root(mmu_glue *g, uint64_t satp)
{
    rv_set_csr(g, UC_RISCV_REG_SATP, satp);
}

bool rv_user_call(mmu_glue *g, const mmu_glue_event *ev, mmu_user_call *c)
{
    if (ev->source != MMU_GLUE_FROM_CPU || ev->fault.code != RV_CAUSE_ECALL_U ||
        ev->priv != RV_PRIV_U)
        return false;
    c->nr = rv_xreg(g, RV_REG_A7);
    for (unsigned i = 0; i < 6; i++)
        c->arg[i] = rv_xreg(g, RV_REG_A0 + i);
    c->pc = ev->pc;
    c->next_pc = ev->pc + RV_ECALL_LEN;
    return true;
}

void rv_user_set_result(mmu_glue *g, const mmu_user_call *c, uint64_t ret)
{
    (void)c;
    rv_set_xreg(g, RV_REG_A0, ret);
}

void rv_user_get_regs(mmu_glue *g, mmu_user_regs *r)
{
    memset(r, 0, sizeof *r);
    r->pc = rv_reg(g, UC_RISCV_REG_PC);
    for (unsigned i = 1; i < 32; i++)
        r->gpr[i] = rv_xreg(g, i);
    for (unsigned i = 0; i < 32; i++) {
        uint64_t f = 0;
        uc_reg_read(g->uc, UC_RISCV_REG_F0 + (int)i, &f);
        memcpy(r->fp + 8 * i, &f, 8);
    }
    uint32_t fcsr = (uint32_t)rv_csr(g, UC_RISCV_REG_FCSR);
    memcpy(r->fp + 8 * 32, &fcsr, 4);
}

void rv_user_set_regs(mmu_glue *g, const mmu_user_regs *r)
{
    for (unsigned i = 1; i < 32; i++)
        rv_set_xreg(g, i, r->gpr[i]);
    for (unsigned i = 0; i < 32; i++) {
        uint64_t f;
        memcpy(&f, r->fp + 8 * i, 8);
        uc_reg_write(g->uc, UC_RISCV_REG_F0 + (int)i, &f);
    }
    uint32_t fcsr;
    memcpy(&fcsr, r->fp + 8 * 32, 4);
    rv_set_csr(g, UC_RISCV_REG_FCSR, fcsr & 0xff);
    rv_set_reg(g, UC_RISCV_REG_PC, r->pc);
}

bool rv_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len)
{
    uint32_t insn;
    unsigned n = rv_fetch_insn(g, pc, rv_cur_priv(g), &insn);
    if (n == 0) {
        snprintf(buf, len, "(instruction at 0x%llx not readable)",
                 (unsigned long long)pc);
        return false;
    }
    uint8_t b[4] = {(uint8_t)insn, (uint8_t)(insn >> 8), (uint8_t)(insn >> 16),
                    (uint8_t)(insn >> 24)};
    csh cs;
    cs_insn *ci = NULL;
    size_t got = 0;
    cs_mode mode = (cs_mode)(CS_MODE_RISCV64 | CS_MODE_RISCVC);
    if (cs_open(CS_ARCH_RISCV, mode, &cs) == CS_ERR_OK) {
        got = cs_disasm(cs, b, n, pc, 1, &ci);
        snprintf(buf, len, "0x%llx: %s%s%s   [%0*x]", (unsigned long long)pc,
                 got ? ci->mnemonic : "(unknown)",
                 got && ci->op_str[0] ? " " : "", got ? ci->op_str : "",
                 (int)n * 2, insn);
        if (got)
            cs_free(ci, got);
        cs_close(&cs);
    } else {
        snprintf(buf, len, "0x%llx: [%0*x]", (unsigned long long)pc, (int)n * 2,
                 insn);
    }
    return got != 0;
}
