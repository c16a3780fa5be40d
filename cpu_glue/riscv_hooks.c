/*
 * riscv_hooks.c - the RISC-V instructions the glue hooks at their first
 * fetch (see glue.h): SFENCE.VMA (the model's invalidation, operands by
 * register identity), CSR writes to satp (Unicorn's TLB is flushed: QEMU
 * 5.0 flushes only on an ASID change, not on a MODE change), CSR accesses
 * to menvcfg/menvcfgh/senvcfg (emulated on a shadow: the CPU has none)
 * and MRET/SRET (priv. 1.12: an xRET below M clears MPRV; QEMU 5.0 keeps
 * it); CSR writes to mstatus/sstatus/mstatush only mark the satp/mstatus
 * cache stale (rv_sync_state), as every hooked instruction does. Code
 * pages are scanned at every 2-byte offset; a candidate is
 * decoded again, through the current translation, when it executes.
 */
#include "riscv_internal.h"

static bool interesting_csr(unsigned csr)
{
    return csr == RV_CSR_SATP || csr == RV_CSR_MENVCFG ||
           csr == RV_CSR_MENVCFGH || csr == RV_CSR_SENVCFG;
}

#define RV_CSR_SSTATUS  0x100
#define RV_CSR_MSTATUS  0x300
#define RV_CSR_MSTATUSH 0x310

static bool status_csr(unsigned csr)
{
    return csr == RV_CSR_SSTATUS || csr == RV_CSR_MSTATUS ||
           csr == RV_CSR_MSTATUSH;
}

static bool candidate(uint32_t insn, unsigned len)
{
    rv_sys_op op;
    rv_decode_sys(insn, len, &op);
    switch (op.kind) {
    case RV_SYS_SFENCE_VMA:
    case RV_SYS_MRET:
    case RV_SYS_SRET:
        return true;
    case RV_SYS_CSR:
        return interesting_csr(op.csr) ||
               (status_csr(op.csr) && rv_csr_writes(&op));
    case RV_SYS_EBREAK: /* caught by the invalid-instruction hook */
    case RV_SYS_ECALL:
    case RV_SYS_OTHER:
        return false;
    }
    return false;
}

unsigned rv_scan_code(mmu_glue *g, uint64_t va_page, const uint8_t *code,
                      size_t len, uint64_t *out, unsigned max)
{
    unsigned n = 0;
    (void)g;
    /* Every 2-byte offset: instruction boundaries are unknown here. */
    for (size_t off = 0; off + 2 <= len && n < max; off += 2) {
        uint32_t lo = (uint32_t)code[off] | (uint32_t)code[off + 1] << 8;
        bool hit;
        if (rv_insn_len(lo) == 2) {
            hit = candidate(lo, 2);
        } else if (off + 4 <= len) {
            hit = candidate(lo | (uint32_t)code[off + 2] << 16 |
                                (uint32_t)code[off + 3] << 24,
                            4);
        } else {
            /* Straddles into the next page: any SYSTEM opcode may be
             * one of ours (over-reporting is allowed). */
            hit = (lo & 0x7f) == 0x73;
        }
        if (hit)
            out[n++] = va_page + off;
    }
    return n;
}

static void flush_unicorn(mmu_glue *g)
{
    uc_ctl_flush_tlb(g->uc);
    g->stats.unicorn_flushes++;
}

/* WARL masks of the shadow registers. */
static uint64_t menvcfg_mask(mmu_glue *g)
{
    uint64_t m = RV_ENVCFG_FIOM;
    if (g->cfg.rv_ext & MMU_RV_EXT_SVPBMT)
        m |= RV_MENVCFG_PBMTE;
    if (g->cfg.rv_ext & MMU_RV_EXT_SVADU)
        m |= RV_MENVCFG_ADUE;
    return m;
}

static uint64_t csr_op(const rv_sys_op *op, uint64_t old, uint64_t src)
{
    switch (op->funct3 & 3) {
    case 1:
        return src;
    case 2:
        return old | src;
    default:
        return old & ~src;
    }
}

/* menvcfg, menvcfgh, senvcfg: emulate the CSR instruction at pc on the
 * shadow; an access the privilege does not allow is left to the CPU,
 * which raises the illegal-instruction exception. */
static void emulate_envcfg(mmu_glue *g, uint64_t pc, const rv_sys_op *op,
                           unsigned len, uint8_t priv)
{
    rv_glue *r = rv_of(g);
    bool high = op->csr == RV_CSR_MENVCFGH;
    if ((op->csr == RV_CSR_SENVCFG ? priv < RV_PRIV_S : priv != RV_PRIV_M) ||
        (high && !r->rv32))
        return;
    uint64_t src = op->funct3 >= 5 ? op->rs1 : rv_xreg(g, op->rs1);
    uint64_t *reg = op->csr == RV_CSR_SENVCFG ? &r->senvcfg : &r->menvcfg;
    uint64_t old = high      ? *reg >> 32
                   : r->rv32 ? *reg & UINT64_C(0xffffffff)
                             : *reg;
    if (rv_csr_writes(op)) {
        uint64_t v = rv_xlen(g, csr_op(op, old, src));
        uint64_t full = high      ? (*reg & UINT64_C(0xffffffff)) | v << 32
                        : r->rv32 ? (*reg & ~UINT64_C(0xffffffff)) | v
                                  : v;
        uint64_t mask =
            op->csr == RV_CSR_SENVCFG ? RV_ENVCFG_FIOM : menvcfg_mask(g);
        uint64_t before = *reg;
        *reg = full & mask;
        if (*reg != before)
            flush_unicorn(g); /* PBMTE/ADUE change translations */
    }
    rv_set_xreg(g, op->rd, old);
    /* Skip the instruction: Unicorn resumes at the new PC. */
    rv_set_reg(g, UC_RISCV_REG_PC, rv_xlen(g, pc + len));
}

/* priv. 1.12: an xRET to a privilege below M also clears MPRV. */
static void xret_clears_mprv(mmu_glue *g, const rv_sys_op *op, uint8_t priv)
{
    uint64_t ms = rv_csr(g, UC_RISCV_REG_MSTATUS);
    if (!(ms & RV_MSTATUS_MPRV))
        return;
    if (op->kind == RV_SYS_MRET) {
        if (priv != RV_PRIV_M ||
            ((ms & RV_MSTATUS_MPP) >> RV_MSTATUS_MPP_SHIFT) == RV_PRIV_M)
            return;
    } else if (priv < RV_PRIV_S ||
               (priv == RV_PRIV_S && (ms & RV_MSTATUS_TSR))) {
        return; /* SRET will raise illegal instruction */
    }
    rv_set_csr(g, UC_RISCV_REG_MSTATUS, ms & ~RV_MSTATUS_MPRV);
}

void rv_on_inval_insn(mmu_glue *g, uint64_t pc)
{
    rv_ctl_pending(g, pc); /* it may write satp or mstatus when it runs */
    uint8_t priv = rv_cur_priv(g);
    uint32_t insn;
    unsigned len = rv_fetch_insn(g, pc, priv, &insn);
    rv_sys_op op;
    if (len == 0)
        return;
    rv_decode_sys(insn, len, &op);
    switch (op.kind) {
    case RV_SYS_SFENCE_VMA:
        if (priv == RV_PRIV_U ||
            (priv == RV_PRIV_S && (g->mmu.st.rv.mstatus & RV_MSTATUS_TVM)))
            return; /* illegal: the CPU raises it */
        mmu_rv_sfence_vma(&g->mmu, op.rs1 != 0, rv_xreg(g, op.rs1), op.rs2 != 0,
                          rv_xreg(g, op.rs2));
        return; /* Unicorn flushes its own TLB when it executes it */
    case RV_SYS_CSR:
        if (status_csr(op.csr))
            return; /* the cache is stale: nothing else to do */
        if (op.csr != RV_CSR_SATP) {
            emulate_envcfg(g, pc, &op, len, priv);
            return;
        }
        if (rv_csr_writes(&op) && priv >= RV_PRIV_S)
            flush_unicorn(g);
        return;
    case RV_SYS_MRET:
    case RV_SYS_SRET:
        xret_clears_mprv(g, &op, priv);
        return;
    case RV_SYS_EBREAK:
    case RV_SYS_ECALL:
    case RV_SYS_OTHER:
        return;
    }
}
