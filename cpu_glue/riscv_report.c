/*
 * riscv_report.c - the RISC-V part of a bare machine's fault report:
 * registers and trap CSRs, the cause by name, the faulting instruction
 * disassembled with Capstone, and each walk step's PTE decoded.
 * (The common part, machine.c, prints the event and the raw walk.)
 */
#include "machine_internal.h"
#include "riscv_internal.h"

#include <capstone/capstone.h>

static void disasm(mmu_glue *g, uint64_t pc, uint8_t priv, FILE *out)
{
    uint32_t insn;
    unsigned len = rv_fetch_insn(g, pc, priv, &insn);
    if (len == 0) {
        fprintf(out, "  instruction at 0x%llx: not readable\n",
                (unsigned long long)pc);
        return;
    }
    uint8_t b[4] = {(uint8_t)insn, (uint8_t)(insn >> 8), (uint8_t)(insn >> 16),
                    (uint8_t)(insn >> 24)};
    csh cs;
    cs_mode mode =
        (cs_mode)((rv_of(g)->rv32 ? CS_MODE_RISCV32 : CS_MODE_RISCV64) |
                  CS_MODE_RISCVC);
    cs_insn *ci = NULL;
    size_t n = 0;
    if (cs_open(CS_ARCH_RISCV, mode, &cs) == CS_ERR_OK) {
        n = cs_disasm(cs, b, len, pc, 1, &ci);
        const char *ops = n ? ci->op_str : "";
        fprintf(out, "  instruction at 0x%llx: %0*x  %s%s%s\n",
                (unsigned long long)pc, (int)len * 2, insn,
                n ? ci->mnemonic : "(unknown)", *ops ? " " : "", ops);
        if (n)
            cs_free(ci, n);
        cs_close(&cs);
    }
}

static void pte_flags(uint64_t pte, char *s)
{
    static const char names[] = "VRWXUGAD";
    for (unsigned i = 0; i < 8; i++)
        s[i] = (pte >> i) & 1 ? names[i] : '-';
    s[8] = '\0';
}

static void walk(const mmu_fault *f, bool rv32, FILE *out)
{
    for (unsigned i = 0; i < f->walk.n; i++) {
        const mmu_walk_step *s = &f->walk.step[i];
        char fl[9];
        pte_flags(s->pte, fl);
        uint64_t ppn =
            (s->pte & (rv32 ? RV32_PTE_PPN_MASK : RV_PTE_PPN_MASK)) >>
            RV_PTE_PPN_SHIFT;
        fprintf(
            out, "    level %u: pte 0x%016llx [%s] ppn 0x%llx%s%s\n", s->level,
            (unsigned long long)s->pte, fl, (unsigned long long)ppn,
            (s->pte & (RV_PTE_R | RV_PTE_X)) ? " leaf" : "",
            (s->pte & (RV_PTE_RSVD_MASK | RV_PTE_N | RV_PTE_PBMT_MASK)) && !rv32
                ? " (high bits set)"
                : "");
    }
}

void rv_machine_report(struct mmu_machine *m, const mmu_glue_result *res,
                       FILE *out)
{
    static const int csrs[] = {
        UC_RISCV_REG_SATP,   UC_RISCV_REG_MSTATUS, UC_RISCV_REG_MEDELEG,
        UC_RISCV_REG_MCAUSE, UC_RISCV_REG_MTVAL,   UC_RISCV_REG_MEPC,
        UC_RISCV_REG_SCAUSE, UC_RISCV_REG_STVAL,   UC_RISCV_REG_SEPC,
        UC_RISCV_REG_MTVEC,  UC_RISCV_REG_STVEC};
    static const char *const csr_names[] = {
        "satp",   "mstatus", "medeleg", "mcause", "mtval", "mepc",
        "scause", "stval",   "sepc",    "mtvec",  "stvec"};
    static const char *const abi[] = {"ra", "sp", "gp", "tp"};
    enum { NCSR = sizeof csrs / sizeof csrs[0] };
    mmu_glue *g = m->g;
    uint64_t v[NCSR];
    uint8_t priv = mmu_glue_priv(g);
    bool rv32 = rv_of(g)->rv32;
    int w = rv32 ? 8 : 16;

    rv_csr_read_n(g, csrs, v, NCSR);
    fprintf(out, "  RISC-V state: privilege %c, pc 0x%0*llx\n",
            "US?M"[priv & 3], w,
            (unsigned long long)rv_reg(g, UC_RISCV_REG_PC));
    for (unsigned i = 1; i <= 4; i++)
        fprintf(out, "  %-3s 0x%0*llx%s", abi[i - 1], w,
                (unsigned long long)rv_xreg(g, i), i == 4 ? "\n" : "");
    for (unsigned i = 0; i < 8; i++)
        fprintf(out, "  a%u  0x%0*llx%s", i, w,
                (unsigned long long)rv_xreg(g, 10 + i), i % 4 == 3 ? "\n" : "");
    for (unsigned i = 0; i < NCSR; i++)
        fprintf(out, "  %-7s 0x%0*llx%s", csr_names[i], w,
                (unsigned long long)v[i],
                i % 3 == 2 || i + 1 == NCSR ? "\n" : "");
    if (!res->have_last)
        return;
    const mmu_glue_event *ev = &res->last;
    fprintf(out, "  cause %u (%s), tval 0x%llx, epc 0x%llx\n", ev->fault.code,
            rv_cause_name(ev->fault.code), (unsigned long long)ev->fault.addr,
            (unsigned long long)ev->pc);
    disasm(g, ev->pc, ev->priv, out);
    if (ev->source == MMU_GLUE_FROM_MODEL && ev->fault.walk.n) {
        fprintf(out, "  walk (PTE flags):\n");
        walk(&ev->fault, rv32, out);
    }
}
